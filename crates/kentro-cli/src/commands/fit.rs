//! `kentro fit`: K-Means on a data file; the model, the labels, a plot and a summary.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use kentro::preprocessing::{ScaleMethod, Scaler};
use kentro::{Float, Init, KMeans, KMeansParams, NInit, ValidKMeansParams};
use ndarray::{Array2, ArrayView2, Axis};

use crate::cli::{AlgorithmName, FitArgs, InitMethod, ScaleName};
use crate::output;
use crate::pca::Pca;
use crate::plot::{Format, SampleLegend, Scatter};
use crate::progress::FitProgress;
use crate::read::{Columns, Matrix, read_data};

/// Most samples drawn in a plot; larger data is thinned evenly (the title says so).
const MAX_PLOT_POINTS: usize = 20_000;
/// Most clusters that get their own legend entry.
const MAX_LEGEND_CLUSTERS: usize = 10;

/// Reads the data, fits, and writes what was asked for: all the files or, on an error, none.
pub fn run(args: FitArgs) -> anyhow::Result<()> {
    // Refuse bad settings and output names before the (possibly long) read and fit.
    if let Some(plot) = &args.plot {
        Format::from_path(plot)?;
    }
    if let Some(profile) = &args.profile {
        super::profile::check_path(profile)?;
    }
    let params = params(&args).check().context("invalid fit settings")?;
    let targets = targets(&args);
    let targets: Vec<(&str, &Path)> = targets.iter().map(|(o, p)| (*o, p.as_ref())).collect();
    output::check_targets(&[&args.data.data], &targets)?;

    let progress = FitProgress::new(args.quiet);
    progress.stage(format!("reading {}", args.data.data.display()));
    let data = read_data(&args.data.data, &super::read_options(&args.data, Columns::All))?;
    if !args.quiet {
        if let Some(warning) = label_warning(data.feature_names.as_deref(), &args) {
            progress.eprintln(&warning);
        }
        if let Some(warning) = exact_1d_warning(&args) {
            progress.eprintln(&warning);
        }
    }
    match data.x {
        Matrix::F32(x) => fit_and_write(x.view(), data.feature_names, &params, &args, &progress),
        Matrix::F64(x) => fit_and_write(x.view(), data.feature_names, &params, &args, &progress),
    }
}

/// The files asked for, each with its option.
fn targets(args: &FitArgs) -> Vec<(&'static str, std::borrow::Cow<'_, Path>)> {
    let mut targets: Vec<(&'static str, std::borrow::Cow<'_, Path>)> =
        [("--out", &args.out), ("--labels", &args.labels), ("--plot", &args.plot)]
            .into_iter()
            .filter_map(|(option, path)| Some((option, path.as_deref()?.into())))
            .collect();
    if let Some(profile) = &args.profile {
        targets.extend(super::profile::paths(profile).into_iter().map(|p| ("--profile", p.into())));
    }
    targets
}

/// A warning when a column named `label` (any case) is clustered without being asked for by
/// `--columns`: most likely the true labels of `kentro blobs` data.
fn label_warning(names: Option<&[String]>, args: &FitArgs) -> Option<String> {
    if args.data.columns.is_some() {
        return None;
    }
    let name = names?.iter().find(|name| name.eq_ignore_ascii_case("label"))?;
    Some(format!(
        "warning: column `{name}` is clustered as a feature; if it holds known labels (as in \
         `kentro blobs` output), leave it out with --exclude {name}"
    ))
}

/// A warning when `--algorithm exact-1d` is given settings it ignores (it has no starts and no
/// iterations): those set away from their defaults, which the user gave.
fn exact_1d_warning(args: &FitArgs) -> Option<String> {
    if args.algorithm != AlgorithmName::Exact1d {
        return None;
    }
    let mut ignored = Vec::new();
    if args.init != InitMethod::KMeansPlusPlus {
        ignored.push("--init");
    }
    if !matches!(args.n_init, NInit::Auto) {
        ignored.push("--n-init");
    }
    if args.max_iter.is_some() {
        ignored.push("--max-iter");
    }
    if args.tol.is_some() {
        ignored.push("--tol");
    }
    (!ignored.is_empty()).then(|| {
        format!(
            "warning: --algorithm exact-1d ignores {}: it finds the optimal clustering directly, \
             without starts or iterations",
            ignored.join(", ")
        )
    })
}

fn params(args: &FitArgs) -> KMeansParams {
    let init = match args.init {
        InitMethod::KMeansPlusPlus => Init::KMeansPlusPlus,
        InitMethod::Random => Init::Random,
    };
    let mut params = KMeans::params(args.k)
        .seed(args.seed)
        .init(init)
        .n_init(args.n_init)
        .algorithm(args.algorithm.into());
    if let Some(max_iter) = args.max_iter {
        params = params.max_iter(max_iter);
    }
    if let Some(tol) = args.tol {
        params = params.tol(tol);
    }
    params
}

fn fit_and_write<F: Float>(
    x: ArrayView2<F>,
    feature_names: Option<Vec<String>>,
    params: &ValidKMeansParams,
    args: &FitArgs,
    progress: &FitProgress,
) -> anyhow::Result<()> {
    let data_path = &args.data.data;
    let method = match args.scale {
        ScaleName::None => None,
        ScaleName::Standard => Some(ScaleMethod::Standard),
        ScaleName::Minmax => Some(ScaleMethod::MinMax),
    };
    let scaler = method
        .map(|m| Scaler::fit(m, x))
        .transpose()
        .with_context(|| format!("cannot scale {}", data_path.display()))?;
    let scaled = scaler.as_ref().map(|s| s.transform(x)).transpose()?;
    let fit_x = scaled.as_ref().map_or(x, |s| s.view());
    let fitted = super::in_thread_pool(args.threads, || params.fit_with(fit_x, None, progress))?;
    let mut model = fitted.with_context(|| format!("cannot fit {}", data_path.display()))?;
    if let Some(scaler) = scaler {
        model = model.with_scaler(scaler)?;
    }
    if let Some(names) = feature_names.clone() {
        model = model.with_feature_names(names)?;
    }

    // Everything is rendered and written aside before anything takes its place.
    progress.stage("writing the files");
    let mut outputs = output::Outputs::new();
    let mut written: Vec<&Path> = Vec::new();
    if let Some(path) = &args.out {
        outputs.stage(path, model.to_json().as_bytes())?;
        written.push(path);
    }
    if let Some(path) = &args.labels {
        outputs.stage(path, output::labels_csv(model.labels()).as_bytes())?;
        written.push(path);
    }
    let profile = match &args.profile {
        Some(path) => Some(super::profile::stage(&mut outputs, path, x, &model, feature_names.as_deref())?),
        None => None,
    };
    if let Some(p) = &profile {
        written.extend(p.paths.iter().map(PathBuf::as_path));
    }
    if let Some(path) = &args.plot {
        // The plot is in the original units: the centres are scaled back.
        let centers = model.centers().mapv(|v| v.to_f64());
        let centers = match model.scaler() {
            Some(s) => s.inverse_transform(centers.view())?,
            None => centers,
        };
        let bytes = cluster_plot(x, model.labels(), centers.view(), feature_names.as_deref())
            .render(Format::from_path(path)?)
            .with_context(|| format!("cannot draw {}", path.display()))?;
        outputs.stage(path, &bytes)?;
        written.push(path);
    }
    outputs.commit()?;
    progress.finish();

    if !args.quiet {
        for warning in model.warnings() {
            eprintln!("warning: {warning}");
        }
        let mut text = summary(&model, data_path, feature_names.as_deref(), &written);
        if let Some(p) = &profile {
            text.push_str(&p.table);
        }
        output::write_stdout(text.as_bytes())?;
    }
    Ok(())
}

/// The few lines `fit` prints: the data, inertia, iterations, cluster sizes, files written.
fn summary<F: Float>(
    model: &KMeans<F>,
    data_path: &Path,
    names: Option<&[String]>,
    written: &[&Path],
) -> String {
    let k = model.n_clusters();
    let mut sizes = vec![0usize; k];
    for &label in model.labels() {
        sizes[label] += 1;
    }
    let features = match names {
        Some(names) => format!(" ({})", super::short_list(names)),
        None => String::new(),
    };
    let mut text = String::new();
    let mut line = |s: String| {
        text.push_str(&s);
        text.push('\n');
    };
    let plural = |n: usize, what: &str| if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") };
    line(format!(
        "fitted k={k} to {}: {} × {}{features}",
        data_path.display(),
        plural(model.labels().len(), "sample"),
        plural(model.n_features(), "feature"),
    ));
    if let Some(s) = model.scaler() {
        line(format!(
            "scaled:        {} (the inertia and the model's centres are in scaled units)",
            s.method().name()
        ));
    }
    line(format!("inertia:       {}", output::number(model.inertia())));
    line(format!("iterations:    {}", model.n_iter()));
    let sizes = if k <= 12 {
        super::short_list(&sizes)
    } else {
        let (min, max) = (sizes.iter().min().expect("k >= 1"), sizes.iter().max().expect("k >= 1"));
        format!("smallest {min}, largest {max}")
    };
    line(format!("cluster sizes: {sizes}"));
    for path in written {
        line(format!("wrote {}", path.display()));
    }
    text
}

/// A scatter plot of the samples coloured by cluster, with the centres: the two features
/// themselves, or the first two principal components when there are more.
pub fn cluster_plot<F: Float>(
    x: ArrayView2<F>,
    labels: &[usize],
    centers: ArrayView2<f64>,
    names: Option<&[String]>,
) -> Scatter {
    let (n, d) = x.dim();
    let k = centers.nrows();
    let stride = n.div_ceil(MAX_PLOT_POINTS).max(1);
    let rows: Vec<usize> = (0..n).step_by(stride).collect();
    let x = x.select(Axis(0), &rows).mapv(|v| v.to_f64());
    let plot_labels: Vec<usize> = rows.iter().map(|&i| labels[i]).collect();

    let name = |j: usize| names.map_or_else(|| format!("feature {j}"), |names| names[j].clone());
    let (points, centers, x_label, y_label, mut title) = match d {
        1 => (
            pairs(&x, None),
            pairs(&centers.to_owned(), None),
            name(0),
            String::new(),
            format!("K-Means clusters, k={k}"),
        ),
        2 => (
            pairs(&x, Some(1)),
            pairs(&centers.to_owned(), Some(1)),
            name(0),
            name(1),
            format!("K-Means clusters, k={k}"),
        ),
        _ => {
            let pca = Pca::fit(x.view());
            let [r1, r2] = pca.explained_variance_ratio();
            (
                pairs(&pca.transform(x.view()), Some(1)),
                pairs(&pca.transform(centers), Some(1)),
                format!("PC1 ({:.1}% of variance)", 100.0 * r1),
                format!("PC2 ({:.1}% of variance)", 100.0 * r2),
                format!("K-Means clusters, k={k}: PCA of {d} features"),
            )
        }
    };
    if stride > 1 {
        write!(title, " ({} of {n} samples)", rows.len()).expect("writing to a String");
    }
    let sample_legend = if k <= MAX_LEGEND_CLUSTERS {
        let mut sizes = vec![0usize; k];
        for &label in labels {
            sizes[label] += 1;
        }
        SampleLegend::PerCluster(
            sizes.iter().enumerate().map(|(c, n)| format!("cluster {c} ({n})")).collect(),
        )
    } else {
        SampleLegend::None
    };
    Scatter {
        title,
        x_label,
        y_label,
        points,
        clusters: Some((plot_labels, k)),
        sample_legend,
        centers: Some(centers),
        outliers: None,
    }
}

/// Rows as (x, y) points: column 0, and column `y` or 0.
fn pairs(x: &Array2<f64>, y: Option<usize>) -> Vec<(f64, f64)> {
    x.outer_iter().map(|row| (row[0], y.map_or(0.0, |j| row[j]))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_summary_prints_readable_numbers() {
        let x = array![[1e15, 0.0], [1e15 + 2e14, 0.0], [3e15, 1e14]];
        let model = KMeans::params(1).fit(x.view()).unwrap();
        let text = summary(&model, Path::new("d.csv"), None, &[Path::new("m.json")]);
        let inertia = text.lines().find(|l| l.starts_with("inertia:")).unwrap();
        assert_eq!(inertia, format!("inertia:       {}", output::number(model.inertia())));
        assert!(inertia.contains("e30") && inertia.len() < 30, "{inertia}");
        assert!(text.contains("fitted k=1 to d.csv: 3 samples × 2 features\n"), "{text}");
        assert!(text.ends_with("wrote m.json\n"), "{text}");
    }

    #[test]
    fn more_than_two_features_are_drawn_on_principal_components() {
        let x = array![[0.0, 0.0, 0.0], [1.0, 1.0, 0.1], [5.0, 5.0, 0.0], [6.0, 6.0, 0.2]];
        let centers = array![[0.5, 0.5, 0.05], [5.5, 5.5, 0.1]];
        let plot = cluster_plot(x.view(), &[0, 0, 1, 1], centers.view(), None);
        assert!(plot.x_label.starts_with("PC1 (") && plot.y_label.starts_with("PC2 ("));
        assert!(plot.title.contains("PCA of 3 features"), "{}", plot.title);
        assert_eq!(plot.points.len(), 4);
        assert_eq!(plot.centers.unwrap().len(), 2);
    }

    #[test]
    fn two_features_are_drawn_as_they_are_with_their_names() {
        let x = array![[0.0, 1.0], [2.0, 3.0]];
        let names = ["a".to_string(), "b".to_string()];
        let plot = cluster_plot(x.view(), &[0, 1], x.view(), Some(&names));
        assert_eq!(plot.points, [(0.0, 1.0), (2.0, 3.0)]);
        assert_eq!((plot.x_label.as_str(), plot.y_label.as_str()), ("a", "b"));
    }

    #[test]
    fn large_data_is_thinned_for_the_plot() {
        let n = 2 * MAX_PLOT_POINTS + 1;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| (i * (j + 1)) as f64);
        let labels = vec![0; n];
        let plot = cluster_plot(x.view(), &labels, x.slice(ndarray::s![..1, ..]), None);
        assert!(plot.points.len() <= MAX_PLOT_POINTS);
        assert!(plot.title.contains(&format!("of {n} samples")), "{}", plot.title);
    }
}
