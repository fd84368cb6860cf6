//! `kentro outliers`: anomaly detection with K-Means (the rule is the core's,
//! [`kentro::outliers`]); the scores as CSV and a plot with the outliers ringed.

use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use kentro::outliers::{Contamination, OutlierDetector};
use kentro::{Float, KMeans};
use ndarray::{ArrayView2, Axis};

use crate::cli::{DataArgs, parse_contamination, parse_count, parse_positive, parse_seed};
use crate::output;
use crate::plot::Format;
use crate::read::{Columns, Matrix, read_data};

/// Most samples drawn in a plot; every outlier is drawn, the inliers are thinned evenly.
const MAX_PLOT_POINTS: usize = 20_000;
/// Most outlier rows named in the summary.
const MAX_LISTED: usize = 10;

/// `kentro outliers`.
#[derive(Debug, Args)]
#[command(after_help = "Each row's score is minus its distance to its nearest centre divided by that \
    cluster's spread (the root-mean-square distance of its training rows to the centre): 0 on a \
    centre, -2 at twice the cluster's typical distance. With --contamination C the threshold \
    is the 100·C-th percentile of the scores, so that a share C of the rows is flagged; with `auto` \
    it is -2. The scores file has the header `score,outlier` and one line per input row, in input \
    order (outlier: 1 or 0). The files are written only once all of them are ready.")]
pub struct OutliersArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Number of clusters of the normal data.
    #[arg(short = 'k', long = "n-clusters", value_name = "K", value_parser = parse_count)]
    pub k: usize,

    /// The share of rows expected to be outliers, in (0, 0.5], or `auto` (a fixed threshold:
    /// farther than twice the cluster's spread).
    #[arg(long, value_name = "C", default_value = "auto", allow_negative_numbers = true, value_parser = parse_contamination)]
    pub contamination: Contamination,

    /// Seed of the K-Means initialisation.
    #[arg(long, value_name = "S", default_value_t = 0, value_parser = parse_seed)]
    pub seed: u64,

    /// Write the scores here: a CSV with the header `score,outlier`, one line per input row.
    #[arg(long, short = 'o', value_name = "SCORES.csv")]
    pub out: Option<PathBuf>,

    /// Draw the rows coloured by cluster with the outliers ringed in red (.png or .svg); a bare
    /// --plot writes outliers.png in the current folder (--plot=FILE when DATA follows it).
    #[arg(long, value_name = "FILE.png|svg", num_args = 0..=1, default_missing_value = "outliers.png")]
    pub plot: Option<PathBuf>,

    /// Worker threads [default: rayon's, which honours RAYON_NUM_THREADS]. Never changes the
    /// result.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub threads: Option<NonZeroUsize>,

    /// Print nothing on success.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Reads, fits the detector, and writes the scores and the plot: all or nothing.
pub fn run(args: OutliersArgs) -> anyhow::Result<()> {
    if let Some(plot) = &args.plot {
        Format::from_path(plot)?;
    }
    let params = KMeans::params(args.k).seed(args.seed).check().context("invalid outlier settings")?;
    let targets: Vec<(&str, &Path)> = [("--out", &args.out), ("--plot", &args.plot)]
        .into_iter()
        .filter_map(|(option, path)| Some((option, path.as_deref()?)))
        .collect();
    output::check_targets(&[&args.data.data], &targets)?;
    let data = read_data(&args.data.data, &super::read_options(&args.data, Columns::All))?;
    let cannot = || format!("cannot find outliers in {}", args.data.data.display());
    match data.x {
        Matrix::F32(x) => {
            let detector = super::in_thread_pool(args.threads, || {
                OutlierDetector::fit(&params, x.view(), args.contamination)
            })?
            .with_context(cannot)?;
            write(x.view(), &detector, data.feature_names.as_deref(), &args)
        }
        Matrix::F64(x) => {
            let detector = super::in_thread_pool(args.threads, || {
                OutlierDetector::fit(&params, x.view(), args.contamination)
            })?
            .with_context(cannot)?;
            write(x.view(), &detector, data.feature_names.as_deref(), &args)
        }
    }
}

fn write<F: Float>(
    x: ArrayView2<F>,
    detector: &OutlierDetector<F>,
    names: Option<&[String]>,
    args: &OutliersArgs,
) -> anyhow::Result<()> {
    let scores = detector.training_scores();
    let flags: Vec<bool> = scores.iter().map(|&s| s < detector.offset()).collect();
    let mut outputs = output::Outputs::new();
    let mut written = Vec::new();
    if let Some(path) = &args.out {
        outputs.stage(path, scores_csv(scores, &flags).as_bytes())?;
        written.push(path);
    }
    if let Some(path) = &args.plot {
        let bytes = outlier_plot(x, detector.model(), &flags, names)
            .render(Format::from_path(path)?)
            .with_context(|| format!("cannot draw {}", path.display()))?;
        outputs.stage(path, &bytes)?;
        written.push(path);
    }
    outputs.commit()?;
    if !args.quiet {
        let mut text = summary(detector, &flags, &args.data.data, args.contamination);
        for path in written {
            writeln!(text, "wrote {}", path.display()).expect("writing to a String");
        }
        output::write_stdout(text.as_bytes())?;
    }
    Ok(())
}

/// `score,outlier` and one line per row; scores in the shortest form that reads back exactly.
fn scores_csv(scores: &[f64], flags: &[bool]) -> String {
    let mut text = String::from("score,outlier\n");
    for (s, &f) in scores.iter().zip(flags) {
        writeln!(text, "{s:?},{}", u8::from(f)).expect("writing to a String");
    }
    text
}

fn summary<F: Float>(
    detector: &OutlierDetector<F>,
    flags: &[bool],
    data: &Path,
    contamination: Contamination,
) -> String {
    let n = flags.len();
    let rows: Vec<usize> = (0..n).filter(|&i| flags[i]).collect();
    let setting = match contamination {
        Contamination::Auto => "auto".to_string(),
        Contamination::Fraction(c) => output::number(c),
    };
    let mut text = String::new();
    let k = detector.model().n_clusters();
    writeln!(text, "fitted k={k} to {}: {n} rows", data.display()).expect("writing to a String");
    writeln!(text, "contamination: {setting}, threshold {}", output::number(detector.offset()))
        .expect("writing to a String");
    let listed = if rows.is_empty() {
        String::new()
    } else {
        let shown: Vec<usize> = rows.iter().copied().take(MAX_LISTED).collect();
        let more = if rows.len() > MAX_LISTED { ", …" } else { "" };
        format!(" (rows {}{more}, counted from 0)", super::short_list(&shown))
    };
    writeln!(text, "outliers: {} of {n}{listed}", rows.len()).expect("writing to a String");
    text
}

/// The clusters as `fit --plot` draws them, with every outlier drawn and ringed.
fn outlier_plot<F: Float>(
    x: ArrayView2<F>,
    model: &KMeans<F>,
    flags: &[bool],
    names: Option<&[String]>,
) -> crate::plot::Scatter {
    let n = x.nrows();
    let outliers: Vec<usize> = (0..n).filter(|&i| flags[i]).take(MAX_PLOT_POINTS / 2).collect();
    let room = MAX_PLOT_POINTS - outliers.len();
    let inliers = n - outliers.len();
    let stride = inliers.div_ceil(room).max(1);
    let mut rows: Vec<usize> = (0..n).filter(|&i| !flags[i]).step_by(stride).collect();
    rows.extend(&outliers);
    rows.sort_unstable();
    let subset = x.select(Axis(0), &rows);
    let labels: Vec<usize> = rows.iter().map(|&i| model.labels()[i]).collect();
    let centers = model.centers().mapv(|v| v.to_f64());
    let mut plot = super::fit::cluster_plot(subset.view(), &labels, centers.view(), names);
    plot.title = plot.title.replacen("K-Means clusters", "Outliers", 1);
    if rows.len() < n {
        write!(plot.title, " ({} of {n} rows)", rows.len()).expect("writing to a String");
    }
    plot.outliers = Some(rows.iter().map(|&i| flags[i]).collect());
    plot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_csv_has_a_header_and_one_line_per_row() {
        assert_eq!(scores_csv(&[-0.5, -4.25], &[false, true]), "score,outlier\n-0.5,0\n-4.25,1\n");
    }

    #[test]
    fn the_plot_keeps_every_outlier_when_thinning() {
        let n = 3 * MAX_PLOT_POINTS;
        let x = ndarray::Array2::from_shape_fn((n, 2), |(i, j)| (i * (j + 1) % 97) as f64);
        let model = KMeans::params(2).seed(0).fit(x.view()).unwrap();
        let flags: Vec<bool> = (0..n).map(|i| i % 1001 == 5).collect();
        let plot = outlier_plot(x.view(), &model, &flags, None);
        let drawn = plot.outliers.as_ref().unwrap().iter().filter(|&&f| f).count();
        assert_eq!(drawn, flags.iter().filter(|&&f| f).count());
        assert!(plot.points.len() <= MAX_PLOT_POINTS);
        assert!(plot.title.starts_with("Outliers") && plot.title.contains(&format!("of {n} rows")));
    }
}
