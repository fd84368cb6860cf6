//! Clustering metrics: parity with scikit-learn 1.9.1 (fixtures made by
//! `scripts/make_metric_fixtures.py`), every refusal, thread-count invariance, scale handling.

use std::collections::HashMap;

use kentro::metrics::{
    MetricError, adjusted_rand_score, calinski_harabasz_score, completeness_score, davies_bouldin_score,
    homogeneity_completeness_v_measure, homogeneity_score, normalized_mutual_info_score, silhouette_samples,
    silhouette_score, silhouette_score_sampled, v_measure_score,
};
use ndarray::{Array2, ArrayView2, array};
use serde::Deserialize;

mod common;
use common::{fixture_dir, to_array};

/// Relative agreement required with scikit-learn.
const RTOL: f64 = 1e-10;

fn assert_close(got: f64, want: f64, what: &str) {
    let tol = RTOL * want.abs().max(f64::MIN_POSITIVE);
    assert!((got - want).abs() <= tol, "{what}: kentro {got:e}, scikit-learn {want:e}");
}

#[derive(Deserialize)]
struct DataCase {
    name: String,
    dtype: String,
    #[serde(rename = "X")]
    x: Vec<Vec<f64>>,
    labels: Vec<usize>,
    silhouette_samples: Vec<f64>,
    silhouette_score: f64,
    calinski_harabasz: f64,
    davies_bouldin: f64,
}

#[derive(Deserialize)]
struct LabelingCase {
    name: String,
    labels_true: Vec<usize>,
    labels_pred: Vec<usize>,
    adjusted_rand: f64,
    normalized_mutual_info: f64,
    homogeneity: f64,
    completeness: f64,
    v_measure: f64,
    v_measure_beta: HashMap<String, f64>,
}

#[derive(Deserialize)]
struct Fixtures<T> {
    cases: Vec<T>,
}

fn load<T: for<'de> Deserialize<'de>>(file: &str) -> Vec<T> {
    let path = fixture_dir("metrics").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str::<Fixtures<T>>(&text).unwrap().cases
}

/// The data metrics of one fixture case, for data of type `F`.
fn check_data_case<F: kentro::Float>(case: &DataCase, x: ArrayView2<'_, F>) {
    let name = &case.name;
    let samples = silhouette_samples(x, &case.labels).unwrap();
    assert_eq!(samples.len(), case.silhouette_samples.len());
    for (i, (&got, &want)) in samples.iter().zip(&case.silhouette_samples).enumerate() {
        // A sample's value is b - a over max(a, b): its rounding error is absolute, relative to 1.
        assert!(
            (got - want).abs() <= RTOL * want.abs().max(1e-3),
            "{name}: silhouette of sample {i}: kentro {got:e}, scikit-learn {want:e}"
        );
    }
    assert_close(
        silhouette_score(x, &case.labels).unwrap(),
        case.silhouette_score,
        &format!("{name}: silhouette"),
    );
    assert_close(
        calinski_harabasz_score(x, &case.labels).unwrap(),
        case.calinski_harabasz,
        &format!("{name}: Calinski-Harabasz"),
    );
    assert_close(
        davies_bouldin_score(x, &case.labels).unwrap(),
        case.davies_bouldin,
        &format!("{name}: Davies-Bouldin"),
    );
}

#[test]
fn data_metrics_match_scikit_learn() {
    let cases: Vec<DataCase> = load("data.json");
    assert!(cases.len() >= 7);
    for case in &cases {
        let x = to_array(&case.x);
        match case.dtype.as_str() {
            "float64" => check_data_case(case, x.view()),
            // The fixture holds float32 values and sklearn's results for them in float64:
            // kentro computes in f64 from the exact f32 values.
            "float32" => check_data_case(case, x.mapv(|v| v as f32).view()),
            other => panic!("unknown dtype {other}"),
        }
    }
}

#[test]
fn fixtures_cover_ties_singletons_and_arbitrary_labels() {
    let cases: Vec<DataCase> = load("data.json");
    let by_name = |n: &str| cases.iter().find(|c| c.name == n).unwrap_or_else(|| panic!("case {n}"));
    // Duplicate points, and clusters that are one point repeated.
    let ties = by_name("ties_grid");
    let distinct: std::collections::HashSet<Vec<u64>> =
        ties.x.iter().map(|r| r.iter().map(|v| v.to_bits()).collect()).collect();
    assert!(distinct.len() < ties.x.len() / 2);
    assert!(by_name("ties_repeated_points").silhouette_samples.contains(&1.0));
    // Single-member clusters have silhouette 0.
    let singles = by_name("singletons");
    for label in [7, 8, 9] {
        let i = singles.labels.iter().position(|&l| l == label).unwrap();
        assert_eq!(singles.labels.iter().filter(|&&l| l == label).count(), 1);
        assert_eq!(silhouette_samples(to_array(&singles.x).view(), &singles.labels).unwrap()[i], 0.0);
    }
    // Labels that are not 0..k-1.
    assert!(by_name("blobs_noisy_labels").labels.iter().all(|&l| l >= 1000));
    assert!(by_name("uniform_random_labels").labels.contains(&42));
}

#[test]
fn labeling_metrics_match_scikit_learn() {
    let cases: Vec<LabelingCase> = load("labelings.json");
    assert!(cases.len() >= 10);
    for case in &cases {
        let (t, p, name) = (&case.labels_true, &case.labels_pred, &case.name);
        assert_close(adjusted_rand_score(t, p), case.adjusted_rand, &format!("{name}: ARI"));
        assert_close(
            normalized_mutual_info_score(t, p),
            case.normalized_mutual_info,
            &format!("{name}: NMI"),
        );
        assert_close(homogeneity_score(t, p), case.homogeneity, &format!("{name}: homogeneity"));
        assert_close(completeness_score(t, p), case.completeness, &format!("{name}: completeness"));
        assert_close(v_measure_score(t, p, 1.0), case.v_measure, &format!("{name}: V-measure"));
        let (h, c, v) = homogeneity_completeness_v_measure(t, p, 1.0);
        assert_eq!(
            (h, c, v),
            (homogeneity_score(t, p), completeness_score(t, p), v_measure_score(t, p, 1.0))
        );
        for (beta, want) in &case.v_measure_beta {
            let beta: f64 = beta.parse().unwrap();
            assert_close(v_measure_score(t, p, beta), *want, &format!("{name}: V-measure beta {beta}"));
        }
    }
}

#[test]
fn v_measure_with_beta_zero_and_no_completeness_is_zero() {
    // scikit-learn divides by zero here; the limit is 0.
    let t = [0; 8];
    let p = [0, 0, 1, 1, 2, 2, 3, 3];
    assert_eq!(homogeneity_completeness_v_measure(&t, &p, 0.0), (1.0, 0.0, 0.0));
    // beta = 0 is homogeneity wherever it is defined.
    let (h, _, v) = homogeneity_completeness_v_measure(&[0, 0, 1, 1, 2], &[0, 0, 0, 1, 1], 0.0);
    assert!((v - h).abs() < 1e-15);
}

#[test]
#[should_panic(expected = "same length")]
fn labelings_of_different_lengths_panic() {
    normalized_mutual_info_score(&[0, 1], &[0, 1, 1]);
}

#[test]
#[should_panic(expected = "beta must be >= 0, got -1")]
fn negative_beta_panics() {
    v_measure_score(&[0, 1], &[0, 1], -1.0);
}

type DataMetric = fn(ArrayView2<'_, f64>, &[usize]) -> Result<f64, MetricError>;

fn data_metrics() -> [(&'static str, DataMetric); 4] {
    [
        ("silhouette", silhouette_score::<f64>),
        ("silhouette", |x, l| silhouette_samples(x, l).map(|s| s[0])),
        ("calinski_harabasz", calinski_harabasz_score::<f64>),
        ("davies_bouldin", davies_bouldin_score::<f64>),
    ]
}

#[test]
fn one_label_is_refused_with_its_count() {
    let x = Array2::from_shape_fn((10, 2), |(i, j)| (i * 2 + j) as f64);
    for (name, metric) in data_metrics() {
        let err = metric(x.view(), &[4; 10]).unwrap_err();
        assert_eq!(err, MetricError::NumberOfLabels { metric: name, n_labels: 1, n_samples: 10 });
        assert_eq!(
            err.to_string(),
            format!("{name} needs 2 <= number of labels <= n_samples - 1, got 1 label for 10 samples")
        );
    }
}

#[test]
fn as_many_labels_as_samples_is_refused() {
    let x = Array2::from_shape_fn((5, 2), |(i, j)| (i * 2 + j) as f64);
    let labels = [9, 3, 7, 1, 100];
    for (name, metric) in data_metrics() {
        let err = metric(x.view(), &labels).unwrap_err();
        assert_eq!(err, MetricError::NumberOfLabels { metric: name, n_labels: 5, n_samples: 5 });
        assert!(err.to_string().ends_with("got 5 labels for 5 samples"), "{err}");
    }
    // One fewer label is accepted.
    for (_, metric) in data_metrics() {
        assert!(metric(x.view(), &[9, 3, 7, 1, 1]).unwrap().is_finite());
    }
}

#[test]
fn empty_data_is_refused() {
    let x = Array2::<f64>::zeros((0, 3));
    for (name, metric) in data_metrics() {
        assert_eq!(
            metric(x.view(), &[]).unwrap_err(),
            MetricError::NumberOfLabels { metric: name, n_labels: 0, n_samples: 0 }
        );
    }
}

#[test]
fn no_features_is_refused() {
    let x = Array2::<f64>::zeros((4, 0));
    for (_, metric) in data_metrics() {
        let err = metric(x.view(), &[0, 0, 1, 1]).unwrap_err();
        assert_eq!(err, MetricError::NoFeatures);
        assert_eq!(err.to_string(), "the data has no features (0 columns)");
    }
}

#[test]
fn label_count_mismatch_is_refused() {
    let x = Array2::from_shape_fn((4, 2), |(i, j)| (i + j) as f64);
    for (_, metric) in data_metrics() {
        let err = metric(x.view(), &[0, 1, 1]).unwrap_err();
        assert_eq!(err, MetricError::LengthMismatch { n_labels: 3, n_samples: 4 });
        assert_eq!(err.to_string(), "labels has 3 entries but the data has 4 samples (rows)");
    }
}

#[test]
fn non_finite_values_are_refused_with_their_place() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut x = Array2::from_shape_fn((4, 3), |(i, j)| (i + j) as f64);
        x[[2, 1]] = bad;
        for (_, metric) in data_metrics() {
            match metric(x.view(), &[0, 0, 1, 1]).unwrap_err() {
                MetricError::NonFinite { row: 2, col: 1, value } => {
                    assert_eq!(value.to_bits(), bad.to_bits())
                }
                other => panic!("{other:?}"),
            }
        }
        let err = silhouette_score_sampled(x.view(), &[0, 0, 1, 1], 3, 0).unwrap_err();
        assert!(err.to_string().ends_with("at row 2, column 1"), "{err}");
    }
    let mut x32 = Array2::<f32>::zeros((3, 2));
    x32[[0, 0]] = f32::NAN;
    assert!(matches!(
        calinski_harabasz_score(x32.view(), &[0, 1, 1]),
        Err(MetricError::NonFinite { row: 0, col: 0, .. })
    ));
}

#[test]
fn sample_size_out_of_range_is_refused() {
    let x = Array2::from_shape_fn((6, 2), |(i, j)| (i * j) as f64);
    let labels = [0, 0, 0, 1, 1, 1];
    for size in [0, 7, 100] {
        let err = silhouette_score_sampled(x.view(), &labels, size, 0).unwrap_err();
        assert_eq!(err, MetricError::SampleSize { sample_size: size, n_samples: 6 });
        assert_eq!(err.to_string(), format!("sample_size must be >= 1 and <= n_samples (6), got {size}"));
    }
    // A sample with one label is refused like the whole data would be.
    let err = silhouette_score_sampled(x.view(), &labels, 1, 0).unwrap_err();
    assert_eq!(err, MetricError::NumberOfLabels { metric: "silhouette", n_labels: 1, n_samples: 1 });
    // Errors about the data come first, for the whole data.
    assert_eq!(
        silhouette_score_sampled(x.view(), &labels[..5], 3, 0).unwrap_err(),
        MetricError::LengthMismatch { n_labels: 5, n_samples: 6 }
    );
}

/// Blobs with `n` rows around `k` centres, and their labels (scaled by 3 and shifted, so not
/// 0..k-1).
fn blobs(n: usize, d: usize, k: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let (x, y) = kentro::datasets::Blobs::new(n).n_features(d).centers(k).seed(seed).generate().unwrap();
    (x, y.iter().map(|&l| 3 * l + 5).collect())
}

#[test]
fn sampled_silhouette_is_exact_silhouette_of_a_seeded_sample() {
    let (x, labels) = blobs(400, 3, 4, 1);
    let full = silhouette_score(x.view(), &labels).unwrap();
    // The whole data, in another order: the same value up to the order of the sum.
    let all = silhouette_score_sampled(x.view(), &labels, 400, 3).unwrap();
    assert!((all - full).abs() < 1e-12, "{all} vs {full}");
    // The same seed gives the same sample; another seed another one.
    let a = silhouette_score_sampled(x.view(), &labels, 100, 7).unwrap();
    assert_eq!(a, silhouette_score_sampled(x.view(), &labels, 100, 7).unwrap());
    let others: Vec<f64> =
        (8..14).map(|s| silhouette_score_sampled(x.view(), &labels, 100, s).unwrap()).collect();
    assert!(others.iter().any(|&b| b != a));
    // Over many seeds, samples of a quarter of the data estimate the full value without bias:
    // scikit-learn's estimates (numpy's draws) on these data have mean 0.72703 and standard
    // deviation 0.0152 over random_state 0..199, the full value being 0.72589.
    let estimates: Vec<f64> =
        (0..200).map(|s| silhouette_score_sampled(x.view(), &labels, 100, s).unwrap()).collect();
    let mean = estimates.iter().sum::<f64>() / 200.0;
    let sd = (estimates.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 200.0).sqrt();
    assert!((mean - full).abs() < 0.005, "mean {mean} vs {full}");
    assert!((0.01..0.025).contains(&sd), "standard deviation {sd}");
}

#[test]
fn sampled_silhouette_draws_distinct_samples() {
    // A sample of every row, for any seed, is the whole data: a repeated draw would leave a
    // row out (and with it the only member of label 1, which the full value depends on).
    let x = array![[0.0], [1.0], [2.0], [3.0], [50.0]];
    let labels = [0, 0, 0, 0, 1];
    let full = silhouette_score(x.view(), &labels).unwrap();
    for seed in 0..20 {
        let v = silhouette_score_sampled(x.view(), &labels, 5, seed).unwrap();
        assert!((v - full).abs() < 1e-15);
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // More rows than one pass runs on the calling thread, several leaf blocks.
    let (x, labels) = blobs(3000, 3, 5, 2);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            (
                silhouette_samples(x.view(), &labels).unwrap(),
                silhouette_score(x.view(), &labels).unwrap(),
                calinski_harabasz_score(x.view(), &labels).unwrap(),
                davies_bouldin_score(x.view(), &labels).unwrap(),
            )
        })
    };
    let one = run(1);
    for threads in [2, 3, 8] {
        let other = run(threads);
        assert!(one.0.iter().zip(&other.0).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(one.1.to_bits(), other.1.to_bits());
        assert_eq!(one.2.to_bits(), other.2.to_bits());
        assert_eq!(one.3.to_bits(), other.3.to_bits());
    }
}

#[test]
fn silhouette_matches_its_definition_on_many_rows() {
    // Enough rows for several blocks and tiles; a naive transcription of the definition.
    let (x, labels) = blobs(700, 4, 6, 3);
    let got = silhouette_samples(x.view(), &labels).unwrap();
    let n = x.nrows();
    let dist = |i: usize, j: usize| {
        x.row(i).iter().zip(x.row(j)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt()
    };
    for i in (0..n).step_by(7) {
        let mut sums: HashMap<usize, (f64, usize)> = HashMap::new();
        for j in 0..n {
            let e = sums.entry(labels[j]).or_default();
            e.0 += dist(i, j);
            e.1 += 1;
        }
        let (own_sum, own_count) = sums[&labels[i]];
        let a = own_sum / (own_count - 1) as f64;
        let b = sums
            .iter()
            .filter(|&(l, _)| *l != labels[i])
            .map(|(_, &(s, m))| s / m as f64)
            .fold(f64::INFINITY, f64::min);
        let want = (b - a) / a.max(b);
        assert!((got[i] - want).abs() < 1e-12, "sample {i}: {} vs {want}", got[i]);
    }
}

#[test]
fn extreme_magnitudes_give_the_values_of_ordinary_data() {
    let (x, labels) = blobs(300, 3, 3, 4);
    let base = (
        silhouette_samples(x.view(), &labels).unwrap(),
        calinski_harabasz_score(x.view(), &labels).unwrap(),
        davies_bouldin_score(x.view(), &labels).unwrap(),
    );
    // Multiplying by a power of two is exact, and every metric here is a ratio.
    for e in [700, 900, -700, -900] {
        let scaled = x.mapv(|v| v * 2f64.powi(e));
        let s = silhouette_samples(scaled.view(), &labels).unwrap();
        assert!(s.iter().zip(&base.0).all(|(a, b)| a == b), "silhouette at 2^{e}");
        assert_eq!(calinski_harabasz_score(scaled.view(), &labels).unwrap(), base.1, "CH at 2^{e}");
        let db = davies_bouldin_score(scaled.view(), &labels).unwrap();
        if e > 0 {
            assert_eq!(db, base.2, "DB at 2^{e}");
        } else {
            // scikit-learn's rule: all spreads within 1e-8 of zero give 0.
            assert_eq!(db, 0.0);
        }
    }
}

#[test]
fn calinski_harabasz_is_one_without_dispersion() {
    // Every cluster is one point repeated.
    let x = array![[1.0, 2.0], [1.0, 2.0], [5.0, 5.0], [5.0, 5.0], [5.0, 5.0]];
    assert_eq!(calinski_harabasz_score(x.view(), &[1, 1, 2, 2, 2]).unwrap(), 1.0);
}

#[test]
fn davies_bouldin_edge_cases() {
    // All spreads zero: 0.
    let x = array![[1.0, 2.0], [1.0, 2.0], [5.0, 5.0], [5.0, 5.0]];
    assert_eq!(davies_bouldin_score(x.view(), &[0, 0, 1, 1]).unwrap(), 0.0);
    // All centroids equal: 0.
    let x = array![[0.0], [2.0], [-1.0], [1.0], [3.0]];
    assert_eq!(davies_bouldin_score(x.view(), &[0, 0, 1, 1, 1]).unwrap(), 0.0);
    // Two clusters share a centroid and a third is apart: the shared pair is ignored.
    let x = array![[0.0], [2.0], [-1.0], [3.0], [10.0], [12.0]];
    let db = davies_bouldin_score(x.view(), &[0, 0, 1, 1, 2, 2]).unwrap();
    // Spreads 1, 2, 1; centroid distances 10 (0-2) and 10 (1-2).
    let want = ((1.0 + 1.0) / 10.0 + (2.0 + 1.0) / 10.0 + (2.0 + 1.0) / 10.0) / 3.0;
    assert!((db - want).abs() < 1e-15, "{db} vs {want}");
}

#[test]
fn silhouette_of_duplicates_across_clusters_is_zero() {
    // Every point is the same: a = b = 0 for everyone, and scikit-learn gives 0.
    let x = Array2::<f32>::from_elem((6, 2), 3.5);
    let s = silhouette_samples(x.view(), &[0, 0, 1, 1, 2, 2]).unwrap();
    assert!(s.iter().all(|&v| v == 0.0));
}
