//! `kentro choose-k`: fit a range of k, print the criteria as a table with the recommended k and
//! each criterion's reason, and draw the elbow, silhouette and criteria plots.

use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use clap::{Args, ValueEnum};
use kentro::select_k::{GapReference, SelectK, SelectKObserver, SelectKResult, Step};
use kentro::{Float, NInit};
use ndarray::ArrayView2;

use crate::cli::{AlgorithmName, DataArgs};
use crate::output;
use crate::plot::Format;
use crate::plot_k::{CriteriaPanel, ElbowPlot, SilhouetteDiagram};
use crate::progress::FitProgress;
use crate::read::{Columns, Matrix, read_data};

/// `kentro choose-k`.
#[derive(Debug, Args)]
#[command(after_help = "For every k of the range, the data is fitted (10 runs from k-means++ starts, \
    the best kept) and judged by five criteria: the knee of the inertia curve (Kneedle), the \
    largest mean silhouette, the gap statistic (Tibshirani et al. 2001, against uniform reference \
    data; it is also computed at k=1, so it can say that there is no cluster structure), the \
    largest Calinski-Harabasz score and the smallest Davies-Bouldin index. The recommended k: 1 \
    if the gap statistic says 1 (unless the mean silhouette exceeds 0.7, a strong structure, and \
    at least 3 criteria, a majority of those that gave a k, agree on one k), otherwise the k most \
    criteria agree on, a tie going to the higher silhouette.\n\n\
    Output: the table and the recommendation on stdout; progress on stderr (on a terminal, after \
    a second). With --plot-dir: elbow.png, criteria.png and silhouette_k<K>.png for every k, each \
    also as .svg, written all together or not at all.\n\n\
    Example:\n    kentro blobs -n 500 --centers 4 -o data.csv\n    \
    kentro choose-k data.csv --exclude label --k 2..10 --plot-dir plots")]
pub struct ChooseKArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// The values of k to try: an inclusive range FIRST..LAST (`2..12`, also `2..=12`).
    #[arg(long = "k", value_name = "RANGE", default_value = "2..12", value_parser = parse_k_range)]
    pub k: KRange,

    /// Seed of every random choice; results depend on it, never on --threads.
    #[arg(long, value_name = "S", default_value_t = 0, value_parser = crate::cli::parse_seed)]
    pub seed: u64,

    /// Reference data sets of the gap statistic (the paper's B).
    #[arg(long, value_name = "B", default_value_t = 10, value_parser = parse_positive)]
    pub n_refs: usize,

    /// The uniform reference of the gap statistic: over the data's bounding box, or over the box
    /// of its principal axes (better for elongated data).
    #[arg(long, value_enum, default_value_t = ReferenceName::Box)]
    pub reference: ReferenceName,

    /// Runs per fit from different k-means++ starts, the best kept.
    #[arg(long, value_name = "N", default_value_t = kentro::select_k::DEFAULT_N_INIT, value_parser = parse_positive)]
    pub n_init: usize,

    /// The exact K-Means algorithm; every choice gives the same result, only the speed differs.
    #[arg(long, value_enum, default_value_t = AlgorithmName::Auto)]
    pub algorithm: AlgorithmName,

    /// Compute the mean silhouette on N random samples instead of all (its cost grows as the
    /// square of the number of samples) [default: all].
    #[arg(long, value_name = "N", value_parser = parse_sample_size)]
    pub silhouette_sample: Option<usize>,

    /// Worker threads [default: rayon's, which honours RAYON_NUM_THREADS]. Never changes the
    /// result.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub threads: Option<usize>,

    /// Write the plots (PNG and SVG) into this folder, created if missing.
    #[arg(long, value_name = "DIR")]
    pub plot_dir: Option<PathBuf>,

    /// Print nothing but errors: no table, no warnings, no progress.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// An inclusive range of k.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KRange {
    /// The first k.
    pub first: usize,
    /// The last k (included).
    pub last: usize,
}

/// The gap statistic's references, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReferenceName {
    /// Uniform over the bounding box of the data.
    Box,
    /// Uniform over the box of the data's principal axes.
    Pca,
}

/// `2..12` or `2..=12`: both ends included, 1 <= first <= last.
fn parse_k_range(text: &str) -> Result<KRange, String> {
    let expected = "expected an inclusive range FIRST..LAST such as 2..12";
    let text = text.trim();
    let (a, b) =
        text.split_once("..=").or_else(|| text.split_once("..")).ok_or_else(|| expected.to_string())?;
    let number = |s: &str| s.trim().parse::<usize>().map_err(|_| expected.to_string());
    let (first, last) = (number(a)?, number(b)?);
    if first == 0 {
        return Err("k starts at 1 or more".to_string());
    }
    if last < first {
        return Err(format!("the range is empty: {last} is below {first}"));
    }
    Ok(KRange { first, last })
}

/// A whole number >= 1, as a plain count.
fn parse_positive(text: &str) -> Result<usize, String> {
    crate::cli::parse_positive(text).map(std::num::NonZeroUsize::get)
}

/// A silhouette sample size: a whole number >= 2 (a silhouette needs two samples).
fn parse_sample_size(text: &str) -> Result<usize, String> {
    match parse_positive(text) {
        Ok(n) if n >= 2 => Ok(n),
        _ => Err("expected a whole number >= 2".to_string()),
    }
}

/// Reads the data, judges every k, prints the table and writes the plots: all or, on an error,
/// none.
pub fn run(args: ChooseKArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.plot_dir {
        output::check_folder("--plot-dir", dir)?;
        check_plot_targets(dir, args.k, &args.data.data)?;
    }
    let progress = FitProgress::new(args.quiet);
    progress.stage(format!("reading {}", args.data.data.display()));
    let data = read_data(&args.data.data, &super::read_options(&args.data, Columns::All))?;
    if !args.quiet
        && let Some(warning) = label_warning(data.feature_names.as_deref(), &args.data)
    {
        progress.eprintln(&warning);
    }
    match data.x {
        Matrix::F32(x) => judge_and_write(x.view(), &args, &progress),
        Matrix::F64(x) => judge_and_write(x.view(), &args, &progress),
    }
}

/// A warning when a column named `label` is used as a feature without being asked for.
fn label_warning(names: Option<&[String]>, data: &DataArgs) -> Option<String> {
    if data.columns.is_some() {
        return None;
    }
    let name = names?.iter().find(|name| name.eq_ignore_ascii_case("label"))?;
    Some(format!(
        "warning: column `{name}` is used as a feature; if it holds known labels (as in `kentro \
         blobs` output), leave it out with --exclude {name}"
    ))
}

fn judge_and_write<F: Float>(
    x: ArrayView2<F>,
    args: &ChooseKArgs,
    progress: &FitProgress,
) -> anyhow::Result<()> {
    let select = SelectK::new(args.k.first..=args.k.last)
        .seed(args.seed)
        .n_refs(args.n_refs)
        .reference(match args.reference {
            ReferenceName::Box => GapReference::BoundingBox,
            ReferenceName::Pca => GapReference::PrincipalAxes,
        })
        .n_init(NInit::Runs(args.n_init))
        .algorithm(args.algorithm.into())
        .silhouette_sample(args.silhouette_sample);
    let observer = StepProgress { progress, shown: Mutex::new(0) };
    let threads = args.threads.and_then(NonZeroUsize::new);
    let result = super::in_thread_pool(threads, || select.run_with(x, &observer))?
        .with_context(|| format!("cannot choose k for {}", args.data.data.display()))?;

    let mut written = Vec::new();
    if let Some(dir) = &args.plot_dir {
        progress.stage("drawing the plots");
        written = super::in_thread_pool(threads, || write_plots(x, &result, dir))??;
    }
    progress.finish();
    if !args.quiet {
        let mut text = table(&result);
        for path in &written {
            writeln!(text, "wrote {}", path.display()).expect("writing to a String");
        }
        output::write_stdout(text.as_bytes())?;
    }
    Ok(())
}

/// Shows `choosing k [####----] 12/143: fitted k=5` on the progress line.
struct StepProgress<'a> {
    progress: &'a FitProgress,
    /// The most steps shown so far (calls arrive from several threads, out of order).
    shown: Mutex<usize>,
}

impl SelectKObserver for StepProgress<'_> {
    fn step_finished(&self, step: Step, done: usize, total: usize) {
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        if done < *shown {
            return;
        }
        *shown = done;
        const WIDTH: usize = 16;
        let filled = WIDTH * done / total.max(1);
        let what = match step {
            Step::Fit { k } => format!("fitted k={k}"),
            Step::Scores { k } => format!("scored k={k}"),
            Step::Reference { k, reference } => format!("reference {} at k={k}", reference + 1),
            _ => String::new(),
        };
        self.progress.stage(format!(
            "choosing k [{}{}] {done}/{total}: {what}",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled)
        ));
    }
}

/// The table: one row per k (and the gap at k=1), then each criterion's choice and reason, then
/// the recommendation.
pub fn table(result: &SelectKResult) -> String {
    let dash = || "-".to_string();
    let opt = |v: Option<f64>| v.map_or_else(dash, output::number);
    let mut rows: Vec<[String; 7]> = vec![[
        "k".into(),
        "inertia".into(),
        "silhouette".into(),
        "calinski_harabasz".into(),
        "davies_bouldin".into(),
        "gap".into(),
        "gap_se".into(),
    ]];
    let first_k = result.scores()[0].k;
    for point in result.gap_curve().iter().filter(|p| p.k < first_k) {
        rows.push([
            point.k.to_string(),
            output::number(point.inertia),
            dash(),
            dash(),
            dash(),
            opt(point.gap),
            opt(point.gap_se),
        ]);
    }
    for s in result.scores() {
        rows.push([
            s.k.to_string(),
            output::number(s.inertia),
            opt(s.silhouette),
            opt(s.calinski_harabasz),
            opt(s.davies_bouldin),
            opt(s.gap),
            opt(s.gap_se),
        ]);
    }
    let widths: Vec<usize> =
        (0..7).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut text = String::new();
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, &w)| format!("{cell:>w$}")).collect();
        writeln!(text, "{}", cells.join("  ").trim_end()).expect("writing to a String");
    }
    text.push('\n');
    let label_width =
        result.recommendations().iter().map(|r| r.criterion.to_string().len()).max().unwrap_or(0) + 1;
    for r in result.recommendations() {
        let k = r.k.map_or_else(|| "none".to_string(), |k| format!("k={k}"));
        let label = format!("{}:", r.criterion);
        writeln!(text, "{label:<label_width$} {k:<5} {}", r.reason).expect("writing to a String");
    }
    writeln!(text, "\nrecommended k: {}, {}", result.best_k(), result.best_reason())
        .expect("writing to a String");
    text
}

/// The stems of the plots for the range (a silhouette diagram may be left out for a k where it
/// is undefined).
fn plot_stems(k: KRange) -> Vec<String> {
    let mut stems = vec!["elbow".to_string(), "criteria".to_string()];
    stems.extend((k.first..=k.last).map(|k| format!("silhouette_k{k}")));
    stems
}

/// Checks that every plot of the range can be written into `dir`, if it exists already (a
/// folder still to be made holds nothing in the way).
fn check_plot_targets(dir: &Path, k: KRange, input: &Path) -> anyhow::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    let paths: Vec<PathBuf> = plot_stems(k)
        .iter()
        .flat_map(|stem| ["png", "svg"].map(|ext| dir.join(format!("{stem}.{ext}"))))
        .collect();
    let targets: Vec<(&str, &Path)> = paths.iter().map(|p| ("--plot-dir", p.as_path())).collect();
    output::check_targets(&[input], &targets)
}

/// Draws one plot in a format.
type Render<'a> = Box<dyn Fn(Format) -> anyhow::Result<Vec<u8>> + 'a>;

/// Draws every plot and writes them into `dir` together; returns the files written.
fn write_plots<F: Float>(
    x: ArrayView2<F>,
    result: &SelectKResult,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut plots: Vec<(String, Render<'_>)> = Vec::new();
    let elbow = ElbowPlot::new(result);
    plots.push(("elbow".into(), Box::new(move |f| elbow.render(f))));
    let criteria = CriteriaPanel::new(result);
    plots.push(("criteria".into(), Box::new(move |f| criteria.render(f))));
    for s in result.scores() {
        let labels = result.labels(s.k).expect("labels for every k of the range");
        if let Some(diagram) = SilhouetteDiagram::new(x, labels, s.k)? {
            plots.push((format!("silhouette_k{}", s.k), Box::new(move |f| diagram.render(f))));
        }
    }
    let mut outputs = output::Outputs::new();
    outputs.create_dir_all(dir)?;
    let mut written = Vec::new();
    for (stem, render) in &plots {
        for (ext, format) in [("png", Format::Png), ("svg", Format::Svg)] {
            let path = dir.join(format!("{stem}.{ext}"));
            let bytes = render(format).with_context(|| format!("cannot draw {}", path.display()))?;
            outputs.stage(&path, &bytes)?;
            written.push(path);
        }
    }
    outputs.commit()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive_and_checked() {
        assert_eq!(parse_k_range("2..12"), Ok(KRange { first: 2, last: 12 }));
        assert_eq!(parse_k_range("2..=5"), Ok(KRange { first: 2, last: 5 }));
        assert_eq!(parse_k_range(" 3 .. 3 "), Ok(KRange { first: 3, last: 3 }));
        assert_eq!(parse_k_range("0..4"), Err("k starts at 1 or more".into()));
        assert_eq!(parse_k_range("5..2"), Err("the range is empty: 2 is below 5".into()));
        for bad in ["2,3,5", "2-12", "..4", "a..b", "4"] {
            assert_eq!(
                parse_k_range(bad),
                Err("expected an inclusive range FIRST..LAST such as 2..12".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_table_ends_with_the_recommendation() {
        let centers = ndarray::array![[10.0, 0.0], [-10.0, 0.0], [0.0, 10.0], [0.0, -10.0]];
        let (x, _) = kentro::datasets::Blobs::new(200).given_centers(centers).seed(3).generate().unwrap();
        let result = SelectK::new(2..=6).n_refs(3).run(x.view()).unwrap();
        let text = table(&result);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].split_whitespace().eq([
            "k",
            "inertia",
            "silhouette",
            "calinski_harabasz",
            "davies_bouldin",
            "gap",
            "gap_se"
        ]));
        // The gap at k=1, then k=2..6.
        let ks: Vec<&str> = lines[1..7].iter().map(|l| l.split_whitespace().next().unwrap()).collect();
        assert_eq!(ks, ["1", "2", "3", "4", "5", "6"]);
        assert_eq!(lines[1].split_whitespace().filter(|c| *c == "-").count(), 3);
        assert!(text.contains("\nsilhouette:"), "{text}");
        assert!(lines.last().unwrap().starts_with("recommended k: 4, chosen by "), "{text}");
    }
}
