//! `kentro text`: clusters documents by topic: TF-IDF rows (CSR), spherical k-means, and for each
//! cluster its size and top terms.

use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use kentro::{KMeans, NInit, SphericalKMeans};

use crate::cli::{parse_count, parse_positive, parse_seed};
use crate::output;
use crate::progress::FitProgress;
use crate::text::corpus::{Document, read_documents};
use crate::text::tfidf::{DocFreq, tfidf};
use crate::text::tokenize::tokens;

/// `kentro text`.
#[derive(Debug, Args)]
#[command(after_help = "Each document becomes a TF-IDF row as scikit-learn's \
    TfidfVectorizer(stop_words=\"english\", sublinear_tf=True) makes it: lowercased, tokens of two \
    or more letters or digits, English stop words left out, terms kept by --min-df/--max-df, \
    (1 + ln count) × smoothed idf, rows of unit length. The rows are clustered by cosine \
    similarity (spherical k-means: unit rows and unit centres), and each cluster is printed with \
    its size and its top terms (the largest weights of its centre). A document with no term in \
    the vocabulary goes to cluster 0 (it is counted in the summary).\n\n\
    The assignments CSV has the header `document,cluster`: `document` is the file name for a \
    folder, and the 0-based record number for a .jsonl or .csv file (blank .jsonl lines are not \
    records).")]
pub struct TextArgs {
    /// The documents: a folder of .txt files (UTF-8, read in file-name order), or a .jsonl
    /// file (one JSON object per line) or a .csv file (with a header) with a text column.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    /// Number of clusters (topics).
    #[arg(short = 'k', long = "n-clusters", value_name = "K", value_parser = parse_count)]
    pub k: usize,

    /// Write the cluster of every document here (CSV, header `document,cluster`).
    #[arg(long, short = 'o', value_name = "ASSIGNMENTS.csv")]
    pub out: Option<PathBuf>,

    /// The text field of a .jsonl or .csv file.
    #[arg(long, value_name = "NAME", default_value = "text")]
    pub column: String,

    /// Keep terms found in at least this many documents (a whole number) or this share of
    /// them (a number from 0.0 to 1.0).
    #[arg(long, value_name = "N|F", default_value = "1")]
    pub min_df: DocFreq,

    /// Keep terms found in at most this share of the documents (0.0 to 1.0) or this many.
    #[arg(long, value_name = "F|N", default_value = "1.0")]
    pub max_df: DocFreq,

    /// Terms printed per cluster.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top_terms: usize,

    /// Seed of every random choice; results depend on it, never on --threads.
    #[arg(long, value_name = "S", default_value_t = 0, value_parser = parse_seed)]
    pub seed: u64,

    /// Runs from different starts, keeping the best (default 1).
    #[arg(long, value_name = "N", default_value_t = NonZeroUsize::MIN, value_parser = parse_positive)]
    pub n_init: NonZeroUsize,

    /// Worker threads [default: rayon's]. Never changes the result.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub threads: Option<NonZeroUsize>,

    /// Print nothing on success.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Reads, vectorises, clusters, prints and writes the assignments (all or nothing).
pub fn run(args: TextArgs) -> anyhow::Result<()> {
    let params = KMeans::params(args.k)
        .seed(args.seed)
        .n_init(NInit::Runs(args.n_init.get()))
        .check()
        .context("invalid settings")?;
    let targets: Vec<(&str, &Path)> = args.out.iter().map(|p| ("--out", p.as_path())).collect();
    output::check_targets(&[&args.path], &targets)?;

    let progress = FitProgress::new(args.quiet);
    progress.stage(format!("reading {}", args.path.display()));
    let docs = read_documents(&args.path, &args.column)?;
    let tokenised: Vec<Vec<String>> = docs.iter().map(|d| tokens(&d.text)).collect();
    let vectors = tfidf(&tokenised, args.min_df, args.max_df)
        .with_context(|| format!("cannot vectorise {}", args.path.display()))?;
    let x = vectors.matrix.view();
    let fitted = super::in_thread_pool(args.threads, || params.fit_spherical_csr_with(x, None, &progress))?;
    let model = fitted.with_context(|| format!("cannot cluster {}", args.path.display()))?;

    progress.stage("writing the files");
    let mut outputs = output::Outputs::new();
    if let Some(path) = &args.out {
        outputs.stage(path, assignments_csv(&docs, model.labels()).as_bytes())?;
    }
    outputs.commit()?;
    progress.finish();
    if !args.quiet {
        for warning in model.warnings() {
            eprintln!("warning: {warning}");
        }
        let empty = (0..x.nrows()).filter(|&i| x.row(i).0.is_empty()).count();
        let text = summary(&args, &model, &vectors.terms, docs.len(), empty);
        output::write_stdout(text.as_bytes())?;
    }
    Ok(())
}

/// `document,cluster`, one line per document in input order (names quoted as CSV needs).
fn assignments_csv(docs: &[Document], labels: &[usize]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut write = || -> csv::Result<Vec<u8>> {
        writer.write_record(["document", "cluster"])?;
        for (doc, label) in docs.iter().zip(labels) {
            writer.write_record([doc.name.as_str(), &label.to_string()])?;
        }
        writer.flush()?;
        Ok(writer.get_ref().clone())
    };
    String::from_utf8(write().expect("writing to memory")).expect("UTF-8 in, UTF-8 out")
}

/// The terms of largest weight in `center`, largest first (ties by term order), positive only.
fn top_terms<'a>(center: ndarray::ArrayView1<f64>, terms: &'a [String], n: usize) -> Vec<&'a str> {
    let mut order: Vec<usize> = (0..terms.len()).filter(|&j| center[j] > 0.0).collect();
    order.sort_by(|&a, &b| center[b].total_cmp(&center[a]).then(a.cmp(&b)));
    order.into_iter().take(n).map(|j| terms[j].as_str()).collect()
}

fn summary(
    args: &TextArgs,
    model: &SphericalKMeans<f64>,
    terms: &[String],
    n_docs: usize,
    empty: usize,
) -> String {
    let k = model.n_clusters();
    let mut sizes = vec![0usize; k];
    model.labels().iter().for_each(|&l| sizes[l] += 1);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "clustered {}: {n_docs} documents, {} terms, k={k} (spherical k-means, seed {})",
        args.path.display(),
        terms.len(),
        args.seed
    );
    match empty {
        0 => {}
        1 => text.push_str("1 document has no term in the vocabulary: it is in cluster 0\n"),
        _ => {
            let _ = writeln!(text, "{empty} documents have no term in the vocabulary: they are in cluster 0");
        }
    }
    let _ = writeln!(text, "objective:  {} (sum of 1 - cosine)", output::number(model.objective()));
    let _ = writeln!(text, "iterations: {}", model.n_iter());
    let width = (k - 1).to_string().len();
    let size_width = sizes.iter().max().map_or(1, |s| s.to_string().len());
    for (j, center) in model.centers().outer_iter().enumerate() {
        let top = top_terms(center, terms, args.top_terms);
        let _ = writeln!(text, "cluster {j:>width$}  {:>size_width$} docs  {}", sizes[j], top.join(", "));
    }
    if let Some(path) = &args.out {
        let _ = writeln!(text, "wrote {}", path.display());
    }
    text
}
