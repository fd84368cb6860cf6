//! Anomaly detection: planted outliers are found, the threshold follows the contamination, the
//! scores follow scikit-learn's outlier-detector conventions, and bad settings are refused.

use kentro::datasets::Blobs;
use kentro::outliers::{AUTO_OFFSET, Contamination, OutlierDetector, percentile};
use kentro::{KMeans, KMeansError, ParamError};
use ndarray::{Array2, Axis, array, concatenate};

const STD: f64 = 1.0;

/// Blobs plus `n_out` points each 8σ from its own blob centre and at least 8σ from every other,
/// appended at the end. Returns the data and the number of inliers.
fn planted(n_in: usize, centers: usize, n_out: usize, seed: u64) -> (Array2<f64>, usize) {
    let (x, _, c) = Blobs::new(n_in)
        .centers(centers)
        .cluster_std(STD)
        .center_box(-30.0, 30.0)
        .seed(seed)
        .generate_with_centers()
        .unwrap();
    let mut out = Array2::zeros((n_out, 2));
    for i in 0..n_out {
        let own = c.row(i % centers);
        // Of 72 directions, the one farthest from the other centres (a fixed, seeded-free choice).
        let best = (0..72)
            .map(|t| {
                let a = (t as f64 + 0.37 * i as f64) * std::f64::consts::TAU / 72.0;
                let p = [own[0] + 8.0 * STD * a.cos(), own[1] + 8.0 * STD * a.sin()];
                let nearest = c
                    .outer_iter()
                    .map(|q| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt())
                    .fold(f64::INFINITY, f64::min);
                (nearest, p)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap();
        assert!(best.0 >= 8.0 * STD - 1e-9, "outlier {i} is only {} from a centre", best.0);
        out[[i, 0]] = best.1[0];
        out[[i, 1]] = best.1[1];
    }
    (concatenate![Axis(0), x, out], n_in)
}

#[test]
fn outliers_planted_8_sigma_away_are_all_flagged() {
    for (seed, centers, n_out) in [(0, 3, 6), (1, 4, 10), (7, 2, 3)] {
        let (x, n_in) = planted(600, centers, n_out, seed);
        let n = x.nrows();
        let params = KMeans::params(centers).seed(seed).check().unwrap();
        let c = n_out as f64 / n as f64;
        let detector = OutlierDetector::fit(&params, x.view(), Contamination::Fraction(c)).unwrap();
        let flagged = detector.predict(x.view()).unwrap();
        let found: Vec<usize> = (0..n).filter(|&i| flagged[i]).collect();
        assert_eq!(found, (n_in..n).collect::<Vec<_>>(), "seed {seed}: flagged {found:?}");
        // "auto" (3 spreads) flags them too.
        let auto = OutlierDetector::fit(&params, x.view(), Contamination::Auto).unwrap();
        let flagged = auto.predict(x.view()).unwrap();
        assert!((n_in..n).all(|i| flagged[i]), "seed {seed}: auto missed an outlier");
        assert_eq!(auto.offset(), AUTO_OFFSET);
    }
}

#[test]
fn the_offset_is_the_contamination_percentile_of_the_training_scores() {
    let (x, _) = planted(300, 3, 5, 3);
    let params = KMeans::params(3).seed(0).check().unwrap();
    for c in [0.01, 0.1, 0.25, 0.5] {
        let detector = OutlierDetector::fit(&params, x.view(), Contamination::Fraction(c)).unwrap();
        let scores = detector.score_samples(x.view()).unwrap();
        assert_eq!(scores, detector.training_scores());
        assert_eq!(detector.offset(), percentile(&scores, 100.0 * c));
        let decision = detector.decision_function(x.view()).unwrap();
        let flagged = detector.predict(x.view()).unwrap();
        for i in 0..x.nrows() {
            assert_eq!(decision[i], scores[i] - detector.offset());
            assert_eq!(flagged[i], decision[i] < 0.0);
        }
        // About a fraction c of the training samples is flagged (ties aside).
        let share = flagged.iter().filter(|&&f| f).count() as f64 / x.nrows() as f64;
        assert!((share - c).abs() <= 1.0 / x.nrows() as f64 + 1e-12, "c={c}: share {share}");
    }
}

#[test]
fn scores_are_minus_the_distance_over_the_cluster_rms_distance() {
    let x = array![[0.0, 0.0], [2.0, 0.0], [10.0, 0.0], [10.0, 4.0]];
    let params = KMeans::params(2).seed(0).check().unwrap();
    let detector = OutlierDetector::fit(&params, x.view(), Contamination::Auto).unwrap();
    let model = detector.model();
    let (a, b) = (model.labels()[0], model.labels()[2]);
    assert_eq!(detector.spreads()[a], 1.0);
    assert_eq!(detector.spreads()[b], 2.0);
    let s = detector.score_samples(array![[1.0, 0.0], [1.0, 3.0], [10.0, 8.0]].view()).unwrap();
    assert_eq!(s, [0.0, -3.0, -3.0]);
}

#[test]
fn singleton_and_duplicate_clusters_give_finite_scores() {
    // A cluster of duplicates and a singleton: spread 0, replaced by the pooled spread.
    let x = array![[0.0], [0.0], [0.0], [5.0], [6.0], [100.0]];
    let params = KMeans::params(3).seed(0).check().unwrap();
    for c in [Contamination::Auto, Contamination::Fraction(0.2)] {
        let detector = OutlierDetector::fit(&params, x.view(), c).unwrap();
        assert!(detector.spreads().iter().all(|s| s.is_finite() && *s > 0.0));
        let scores = detector.score_samples(array![[0.0], [3.0], [1e6]].view()).unwrap();
        assert!(scores.iter().all(|s| s.is_finite()), "{scores:?}");
        assert!(detector.offset().is_finite());
    }
    // Every sample on its centre: spreads of 1.
    let same = array![[2.0, 2.0], [2.0, 2.0]];
    let detector =
        OutlierDetector::fit(&KMeans::params(1).check().unwrap(), same.view(), Contamination::Auto).unwrap();
    assert_eq!(detector.spreads(), [1.0]);
    assert_eq!(detector.score_samples(array![[2.0, 5.0]].view()).unwrap(), [-3.0]);
}

#[test]
fn float32_data_is_scored_too() {
    let (x, n_in) = planted(400, 2, 4, 5);
    let x32 = x.mapv(|v| v as f32);
    let params = KMeans::params(2).seed(0).check().unwrap();
    let detector = OutlierDetector::fit(&params, x32.view(), Contamination::Fraction(4.0 / 404.0)).unwrap();
    let flagged = detector.predict(x32.view()).unwrap();
    assert_eq!(
        (0..x.nrows()).filter(|&i| flagged[i]).collect::<Vec<_>>(),
        (n_in..x.nrows()).collect::<Vec<_>>()
    );
}

#[test]
fn bad_contamination_is_refused_with_its_value() {
    let x = array![[0.0], [1.0], [2.0]];
    let params = KMeans::params(1).check().unwrap();
    for c in [0.0, -0.1, 0.51, 1.0, f64::NAN, f64::INFINITY] {
        let err = OutlierDetector::fit(&params, x.view(), Contamination::Fraction(c)).unwrap_err();
        assert!(matches!(err, KMeansError::Param(ParamError::Contamination(_))), "{c}: {err}");
        assert!(
            err.to_string().starts_with("contamination must be \"auto\" or a number in (0, 0.5], got"),
            "{err}"
        );
    }
}

#[test]
fn bad_data_is_refused() {
    let params = KMeans::params(1).check().unwrap();
    let x = array![[0.0, 1.0], [1.0, 2.0]];
    let d = OutlierDetector::fit(&params, x.view(), Contamination::Auto).unwrap();
    assert!(matches!(d.score_samples(array![[1.0]].view()), Err(KMeansError::FeatureMismatch { .. })));
    assert!(matches!(
        d.predict(array![[1.0, f64::NAN]].view()),
        Err(KMeansError::NonFinite { row: 0, col: 1, .. })
    ));
    let rebuilt = OutlierDetector::from_parts(d.model().clone(), d.spreads().to_vec(), d.offset()).unwrap();
    assert_eq!(rebuilt.score_samples(x.view()).unwrap(), d.score_samples(x.view()).unwrap());
    assert!(OutlierDetector::from_parts(d.model().clone(), vec![0.0], -3.0).is_err());
    assert!(OutlierDetector::from_parts(d.model().clone(), vec![1.0, 1.0], -3.0).is_err());
    assert!(OutlierDetector::from_parts(d.model().clone(), vec![1.0], f64::NAN).is_err());
}
