//! One test per refusal: every bad parameter, bad data, bad weight and bad model file gives its
//! own error naming the value, never a panic or a NaN.

use kentro::datasets::Blobs;
use kentro::{Init, KMeans, KMeansError, NInit, Observer, ParamError};
use ndarray::{Array1, Array2, array};

fn blobs() -> Array2<f64> {
    Blobs::new(60).centers(3).seed(1).generate().unwrap().0
}

fn fit_err(params: kentro::KMeansParams, x: &Array2<f64>) -> KMeansError {
    params.fit(x.view()).unwrap_err()
}

#[test]
fn zero_clusters() {
    let e = KMeans::params(0).check().unwrap_err();
    assert_eq!(e, ParamError::NClusters(0));
    assert_eq!(e.to_string(), "n_clusters must be >= 1, got 0");
}

#[test]
fn zero_n_init() {
    assert_eq!(KMeans::params(2).n_init(NInit::Runs(0)).check().unwrap_err(), ParamError::NInit(0));
}

#[test]
fn zero_max_iter() {
    assert_eq!(KMeans::params(2).max_iter(0).check().unwrap_err(), ParamError::MaxIter(0));
}

#[test]
fn negative_or_nan_tol() {
    assert_eq!(KMeans::params(2).tol(-1.0).check().unwrap_err(), ParamError::Tol(-1.0));
    assert!(matches!(KMeans::params(2).tol(f64::NAN).check().unwrap_err(), ParamError::Tol(t) if t.is_nan()));
    assert!(KMeans::params(2).tol(f64::INFINITY).check().unwrap_err().to_string().contains("inf"));
}

#[test]
fn zero_local_trials() {
    assert_eq!(KMeans::params(2).n_local_trials(0).check().unwrap_err(), ParamError::NLocalTrials(0));
}

#[test]
fn init_with_wrong_row_count() {
    let e = KMeans::params(2).init(Init::Centers(Array2::zeros((3, 2)))).check().unwrap_err();
    assert_eq!(e, ParamError::InitRows { rows: 3, n_clusters: 2 });
}

#[test]
fn init_with_non_finite_value() {
    let e =
        KMeans::params(2).init(Init::Centers(array![[0.0, 1.0], [f64::INFINITY, 0.0]])).check().unwrap_err();
    assert!(matches!(e, ParamError::InitNonFinite { row: 1, col: 0, .. }));
    assert!(e.to_string().contains("inf"));
}

#[test]
fn init_with_wrong_feature_count() {
    let e = fit_err(KMeans::params(2).init(Init::Centers(Array2::zeros((2, 3)))), &blobs());
    assert!(matches!(e, KMeansError::InitFeatures { got: 3, expected: 2 }));
}

#[test]
fn empty_data() {
    let e = fit_err(KMeans::params(1), &Array2::zeros((0, 2)));
    assert!(matches!(e, KMeansError::EmptyData));
}

#[test]
fn zero_columns() {
    let e = fit_err(KMeans::params(1), &Array2::zeros((5, 0)));
    assert!(matches!(e, KMeansError::NoFeatures));
}

#[test]
fn nan_in_data() {
    let mut x = blobs();
    x[[7, 1]] = f64::NAN;
    let e = fit_err(KMeans::params(2), &x);
    assert!(matches!(e, KMeansError::NonFinite { row: 7, col: 1, .. }));
    assert_eq!(e.to_string(), "the data contains a non-finite value NaN at row 7, column 1");
}

#[test]
fn infinity_in_data() {
    let mut x = blobs();
    x[[3, 0]] = f64::NEG_INFINITY;
    assert!(matches!(fit_err(KMeans::params(2), &x), KMeansError::NonFinite { row: 3, col: 0, .. }));
    let x32 = x.mapv(|v| v as f32);
    assert!(matches!(KMeans::params(2).fit(x32.view()).unwrap_err(), KMeansError::NonFinite { row: 3, .. }));
}

#[test]
fn more_clusters_than_samples() {
    let e = fit_err(KMeans::params(11), &Array2::zeros((10, 2)));
    assert_eq!(e.to_string(), "n_samples=10 should be >= n_clusters=11");
}

fn weighted_err(w: Array1<f64>) -> KMeansError {
    let x = blobs();
    KMeans::params(2).check().unwrap().fit_weighted(x.view(), w.view()).unwrap_err()
}

#[test]
fn weights_of_wrong_length() {
    assert!(matches!(weighted_err(Array1::ones(9)), KMeansError::WeightLength { got: 9, expected: 60 }));
}

#[test]
fn negative_weight() {
    let mut w = Array1::ones(60);
    w[4] = -0.5;
    let e = weighted_err(w);
    assert!(matches!(e, KMeansError::BadWeight { index: 4, .. }));
    assert!(e.to_string().contains("-0.5"));
}

#[test]
fn nan_weight() {
    let mut w = Array1::ones(60);
    w[2] = f64::NAN;
    assert!(matches!(weighted_err(w), KMeansError::BadWeight { index: 2, .. }));
}

#[test]
fn all_zero_weights() {
    assert!(matches!(weighted_err(Array1::zeros(60)), KMeansError::ZeroWeights));
}

#[test]
fn weights_summing_to_infinity() {
    assert!(matches!(weighted_err(Array1::from_elem(60, f64::MAX)), KMeansError::WeightOverflow));
}

#[test]
fn predict_with_other_feature_count() {
    let model = KMeans::params(2).fit(blobs().view()).unwrap();
    let e = model.predict(Array2::zeros((4, 3)).view()).unwrap_err();
    assert_eq!(e.to_string(), "X has 3 features, but the model is expecting 2 features as input");
    assert!(model.transform(Array2::zeros((4, 1)).view()).is_err());
    assert!(model.score(Array2::zeros((4, 5)).view(), None).is_err());
}

#[test]
fn predict_with_nan() {
    let model = KMeans::params(2).fit(blobs().view()).unwrap();
    let e = model.predict(array![[0.0, f64::NAN]].view()).unwrap_err();
    assert!(matches!(e, KMeansError::NonFinite { row: 0, col: 1, .. }));
}

#[test]
fn cancelled_by_the_observer() {
    struct Stop;
    impl Observer for Stop {
        fn should_stop(&self) -> bool {
            true
        }
    }
    let e = KMeans::params(2).check().unwrap().fit_with(blobs().view(), None, &Stop).unwrap_err();
    assert!(matches!(e, KMeansError::Cancelled));
}

#[test]
fn cancelled_at_any_point_of_the_fit() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Stop after the n-th question: during preparation, seeding, a pass or between iterations.
    struct StopAfter(usize, AtomicUsize);
    impl Observer for StopAfter {
        fn should_stop(&self) -> bool {
            self.1.fetch_add(1, Ordering::Relaxed) >= self.0
        }
    }
    let (x, _) = Blobs::new(3000).centers(5).n_features(3).seed(2).generate().unwrap();
    let params = KMeans::params(5).tol(0.0).check().unwrap();
    let full = params.fit(x.view()).unwrap();
    let mut cancelled = 0;
    for n in [0, 1, 2, 5, 10, 20, 40, 80] {
        match params.fit_with(x.view(), None, &StopAfter(n, AtomicUsize::new(0))) {
            Err(KMeansError::Cancelled) => cancelled += 1,
            Ok(model) => assert_eq!(model, full, "a fit that was not stopped is the full fit"),
            Err(e) => panic!("{e}"),
        }
    }
    assert!(cancelled >= 6, "{cancelled}");
}

#[test]
fn bad_blob_settings() {
    assert_eq!(Blobs::new(10).centers(0).generate().unwrap_err(), ParamError::BlobCenters(0));
    assert_eq!(Blobs::new(10).n_features(0).generate().unwrap_err(), ParamError::BlobFeatures(0));
    assert!(matches!(Blobs::new(10).cluster_std(-1.0).generate().unwrap_err(), ParamError::ClusterStd(_)));
    assert!(matches!(
        Blobs::new(10).cluster_stds(vec![1.0, 2.0]).generate().unwrap_err(),
        ParamError::ClusterStd(_)
    ));
    assert_eq!(Blobs::new(10).center_box(1.0, 1.0).generate().unwrap_err(), ParamError::CenterBox(1.0, 1.0));
}

mod model_file {
    use super::*;

    fn model_json() -> String {
        KMeans::params(2).fit(blobs().view()).unwrap().to_json()
    }

    fn load_err(text: &str) -> KMeansError {
        KMeans::<f64>::from_json(text).unwrap_err()
    }

    #[test]
    fn not_json() {
        let e = load_err("import os; os.system('rm -rf /')");
        assert!(e.to_string().contains("not a kentro model file"), "{e}");
    }

    #[test]
    fn foreign_json() {
        let e = load_err(r#"{"hello": 1}"#);
        assert!(matches!(e, KMeansError::Model(_)));
        assert!(e.to_string().contains("not a kentro model file"), "{e}");
    }

    #[test]
    fn unknown_version() {
        let text = model_json().replace("\"version\":1", "\"version\":99");
        let e = load_err(&text);
        assert!(matches!(e, KMeansError::ModelVersion { found: 99, supported: 2 }));
    }

    #[test]
    fn newer_version_with_other_fields() {
        // A future format may add and remove fields: the version is what this build refuses.
        let e = load_err(r#"{"format":"kentro.kmeans","version":3,"algorithm_state":[1,2]}"#);
        assert!(matches!(e, KMeansError::ModelVersion { found: 3, supported: 2 }), "{e}");
        assert_eq!(
            e.to_string(),
            "model file format version 3 is not supported (this build reads versions 1 to 2)"
        );
    }

    #[test]
    fn centres_of_wrong_shape() {
        let text = model_json().replace("\"n_features\":2", "\"n_features\":3");
        assert!(load_err(&text).to_string().contains("centers must be 2 rows of 3 values"));
    }

    #[test]
    fn label_out_of_range() {
        let text = model_json().replace("\"n_clusters\":2", "\"n_clusters\":1");
        assert!(matches!(load_err(&text), KMeansError::Model(_)));
    }

    #[test]
    fn float64_model_as_float32() {
        let e = KMeans::<f32>::from_json(&model_json()).unwrap_err();
        assert!(matches!(e, KMeansError::ModelDtype { .. }));
    }

    #[test]
    fn unknown_field() {
        let text = model_json().replacen('{', r#"{"__reduce__":"os.system","#, 1);
        assert!(matches!(load_err(&text), KMeansError::Model(_)));
    }

    #[test]
    fn missing_file() {
        let e = KMeans::<f64>::load("/nonexistent/model.json").unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/model.json: "), "{e}");
    }
}
