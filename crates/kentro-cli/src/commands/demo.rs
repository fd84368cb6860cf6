//! `kentro demo`: the scikit-learn K-Means tutorial, done by kentro.
//!
//! ```python
//! X, y_true = make_blobs(n_samples=300, centers=3, cluster_std=0.60, random_state=0)
//! kmeans = KMeans(n_clusters=3, random_state=0).fit(X)
//! # scatter "Data Before Clustering", then the clusters with the centroids overlaid
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context;
use kentro::KMeans;
use kentro::datasets::Blobs;
use kentro::metrics::adjusted_rand_score;

use crate::cli::DemoArgs;
use crate::output;
use crate::plot::{Format, SampleLegend, Scatter};

const N_SAMPLES: usize = 300;
const CENTERS: usize = 3;
const CLUSTER_STD: f64 = 0.60;
const SEED: u64 = 0;

/// Generates the blobs, fits, prints the scores and writes both plots as PNG and SVG: all four
/// files or, on an error, none (nor the folder, if it was made for them).
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    output::check_folder("--out", &args.out)?;
    let stems = ["data_before_clustering", "clustered_data"];
    let formats = [("png", Format::Png), ("svg", Format::Svg)];
    let dir = args.out.as_path();
    let paths: Vec<PathBuf> = stems
        .iter()
        .flat_map(|stem| formats.iter().map(move |(ext, _)| dir.join(format!("{stem}.{ext}"))))
        .collect();
    if args.out.is_dir() {
        let targets: Vec<(&str, &Path)> = paths.iter().map(|p| ("--out", p.as_path())).collect();
        output::check_targets(&[], &targets)?;
    }

    let (x, truth) = Blobs::new(N_SAMPLES).centers(CENTERS).cluster_std(CLUSTER_STD).seed(SEED).generate()?;
    let model = KMeans::params(CENTERS).seed(SEED).fit(x.view())?;
    let ari = adjusted_rand_score(&truth, model.labels());

    let points: Vec<(f64, f64)> = x.outer_iter().map(|r| (r[0], r[1])).collect();
    let centers: Vec<(f64, f64)> = model.centers().outer_iter().map(|r| (r[0], r[1])).collect();
    let before = Scatter {
        title: "Data Before Clustering".into(),
        x_label: "Feature 1".into(),
        y_label: "Feature 2".into(),
        points: points.clone(),
        clusters: None,
        sample_legend: SampleLegend::None,
        centers: None,
        outliers: None,
    };
    let after = Scatter {
        title: "Clustered Data with Centroids Overlayed".into(),
        x_label: "Feature 1".into(),
        y_label: "Feature 2".into(),
        points,
        clusters: Some((model.labels().to_vec(), CENTERS)),
        sample_legend: SampleLegend::Single("Original Data".into()),
        centers: Some(centers),
        outliers: None,
    };

    let mut outputs = output::Outputs::new();
    outputs.create_dir_all(&args.out)?;
    let mut next_path = paths.iter();
    for plot in [&before, &after] {
        for (_, format) in formats {
            let path = next_path.next().expect("one path per plot and format");
            let bytes = plot.render(format).with_context(|| format!("cannot draw {}", path.display()))?;
            outputs.stage(path, &bytes)?;
        }
    }
    outputs.commit()?;

    let mut text = format!(
        "kentro demo: the scikit-learn K-Means tutorial\n\
         data:       make_blobs, {N_SAMPLES} samples, {CENTERS} centres, cluster_std {}, seed {SEED}\n\
         model:      KMeans(n_clusters={CENTERS}, seed={SEED})\n\
         inertia:    {}\n\
         iterations: {}\n\
         ARI:        {} (adjusted Rand index against the true blobs; 1 is a perfect match)\n",
        output::number(CLUSTER_STD),
        output::number(model.inertia()),
        model.n_iter(),
        output::number(ari),
    );
    for path in &paths {
        text.push_str(&format!("wrote {}\n", path.display()));
    }
    output::write_stdout(text.as_bytes())?;
    Ok(())
}
