//! Fitting behaviour beyond parity: n_init, warnings, extreme magnitudes, f32, the model file.

use std::sync::atomic::{AtomicUsize, Ordering};

use kentro::datasets::Blobs;
use kentro::metrics::adjusted_rand_score;
use kentro::{Algorithm, FitWarning, Init, KMeans, KMeansError, NInit, Observer};
use ndarray::{Array2, array};

fn tutorial() -> (Array2<f64>, Vec<usize>) {
    Blobs::new(300).centers(3).cluster_std(0.6).seed(0).generate().unwrap()
}

#[derive(Default)]
struct Runs(AtomicUsize);
impl Observer for Runs {
    fn run_started(&self, _run: usize, _n_runs: usize) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn runs_made(params: kentro::KMeansParams) -> usize {
    let obs = Runs::default();
    params.check().unwrap().fit_with(tutorial().0.view(), None, &obs).unwrap();
    obs.0.into_inner()
}

#[test]
fn n_init_auto_is_one_for_kmeanspp_and_ten_for_random() {
    assert_eq!(runs_made(KMeans::params(3)), 1);
    assert_eq!(runs_made(KMeans::params(3).init(Init::Random)), 10);
    assert_eq!(runs_made(KMeans::params(3).n_init(NInit::Runs(4))), 4);
}

#[test]
fn explicit_init_runs_once_and_says_so() {
    let (x, _) = tutorial();
    let init = x.slice(ndarray::s![0..3, ..]).to_owned();
    let params = KMeans::params(3).init(Init::Centers(init)).n_init(NInit::Runs(5));
    assert_eq!(runs_made(params.clone()), 1);
    let model = params.fit(x.view()).unwrap();
    assert_eq!(model.warnings(), &[FitWarning::ExplicitInitRunsOnce { n_init: 5 }]);
}

#[test]
fn best_of_several_runs_is_no_worse_than_the_first() {
    let (x, _) = Blobs::new(1000).centers(10).seed(3).generate().unwrap();
    let one = KMeans::params(10).init(Init::Random).n_init(NInit::Runs(1)).seed(5).fit(x.view()).unwrap();
    let ten = KMeans::params(10).init(Init::Random).n_init(NInit::Runs(10)).seed(5).fit(x.view()).unwrap();
    assert!(ten.inertia() <= one.inertia());
}

#[test]
fn tutorial_is_recovered() {
    let (x, truth) = tutorial();
    let model = KMeans::params(3).fit(x.view()).unwrap();
    assert!(adjusted_rand_score(&truth, model.labels()) > 0.95);
    assert!((model.score(x.view(), None).unwrap() + model.inertia()).abs() < 1e-9 * model.inertia());
}

#[test]
fn fewer_distinct_points_than_clusters_still_fits_and_warns() {
    let x = array![[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0], [5.0, 5.0], [0.0, 0.0]];
    for init in [Init::KMeansPlusPlus, Init::Random] {
        let model = KMeans::params(5).init(init).fit(x.view()).unwrap();
        assert_eq!(model.warnings(), &[FitWarning::FewerDistinctClusters { found: 3, requested: 5 }]);
        assert!(model.inertia() < 1e-20, "only centring's rounding: {}", model.inertia());
        assert!(model.centers().iter().all(|v: &f64| v.is_finite()));
    }
}

#[test]
fn constant_data_fits() {
    let x = Array2::from_elem((10, 3), 2.5);
    let model = KMeans::params(2).fit(x.view()).unwrap();
    assert_eq!(model.inertia(), 0.0);
    assert!(model.centers().iter().all(|&v| v == 2.5));
}

#[test]
fn zero_weight_samples_do_not_pull_centres() {
    let x = array![[0.0], [1.0], [10.0], [11.0], [1000.0]];
    let w = ndarray::Array1::from(vec![1.0, 1.0, 1.0, 1.0, 0.0]);
    let init = Init::Centers(array![[0.0], [10.0]]);
    let model = KMeans::params(2).init(init).check().unwrap().fit_weighted(x.view(), w.view()).unwrap();
    assert_eq!(model.centers(), array![[0.5], [10.5]]);
    assert_eq!(model.labels()[4], 1);
    assert_eq!(model.inertia(), 1.0);
}

/// Same blobs in other units: the clustering is the same and results come in the caller's units.
fn check_rescaled<F: kentro::Float>(factor: f64) {
    let (x, _) = Blobs::new(400).centers(4).n_features(3).seed(8).generate().unwrap();
    let base = KMeans::params(4).seed(2).fit(x.mapv(F::from_f64).view()).unwrap();
    let scaled_x = x.mapv(|v| F::from_f64(v * factor));
    let scaled = KMeans::params(4).seed(2).fit(scaled_x.view()).unwrap();
    assert_eq!(scaled.labels(), base.labels(), "factor {factor:e}");
    let inertia_ratio = scaled.inertia() / (base.inertia() * factor * factor);
    assert!((inertia_ratio - 1.0).abs() < 1e-4, "inertia ratio {inertia_ratio}");
    for (a, b) in scaled.centers().iter().zip(base.centers().iter()) {
        let (a, b) = (a.to_f64(), b.to_f64() * factor);
        assert!((a - b).abs() <= 1e-4 * 10.0 * factor, "{a:e} vs {b:e}");
    }
    assert_eq!(scaled.predict(scaled_x.view()).unwrap(), scaled.labels());
    let t = scaled.transform(scaled_x.view()).unwrap();
    assert!(t.iter().all(|v| v.is_finite() && *v >= F::ZERO));
    assert!(scaled.score(scaled_x.view(), None).unwrap().is_finite());
}

#[test]
fn huge_and_tiny_values_are_rescaled() {
    check_rescaled::<f64>(1e150);
    check_rescaled::<f64>(1e-150);
    check_rescaled::<f32>(1e20);
    check_rescaled::<f32>(1e-20);
}

#[test]
fn tiny_f64_values_keep_their_clustering() {
    // Squared distances of 1e-300 values underflow to 0 in f64: the peers collapse here.
    let (x, _) = Blobs::new(400).centers(4).seed(8).generate().unwrap();
    let base = KMeans::params(4).seed(2).fit(x.view()).unwrap();
    let tiny = KMeans::params(4).seed(2).fit(x.mapv(|v| v * 1e-300).view()).unwrap();
    assert_eq!(tiny.labels(), base.labels());
    assert!(tiny.inertia().is_finite());
    // 1e-600 is below f64's range: the fit says so instead of presenting 0 as a result.
    assert!(tiny.warnings().iter().any(|w| matches!(w, FitWarning::InertiaUnderflow { .. })));
    assert!(!base.warnings().iter().any(|w| matches!(w, FitWarning::InertiaUnderflow { .. })));
    for (a, b) in tiny.centers().iter().zip(base.centers().iter()) {
        assert!((a / 1e-300 - b).abs() <= 1e-9 * b.abs().max(1.0));
    }
}

#[test]
fn an_unrepresentable_inertia_is_refused_clearly() {
    let (x, _) = Blobs::new(100).centers(2).seed(8).generate().unwrap();
    let e = KMeans::params(2).fit(x.mapv(|v| v * 1e300).view()).unwrap_err();
    assert!(matches!(e, KMeansError::Overflow { .. }));
    assert!(e.to_string().contains("rescale"), "{e}");
}

#[test]
fn a_zero_inertia_at_huge_magnitudes_is_zero() {
    // Rescaled by 2^-1000 or so: 1 / scale² would overflow, and 0 × ∞ is NaN.
    let x = array![[1e300], [1e300], [-3e300], [-3e300]];
    for algorithm in [Algorithm::Lloyd, Algorithm::Auto] {
        let m = KMeans::params(2).algorithm(algorithm).seed(0).fit(x.view()).unwrap();
        assert_eq!(m.inertia(), 0.0);
        assert_eq!(m.labels()[0], m.labels()[1]);
        assert_ne!(m.labels()[0], m.labels()[2]);
    }
}

#[test]
fn float32_stays_float32() {
    let (x, truth) = tutorial();
    let x32 = x.mapv(|v| v as f32);
    let model: KMeans<f32> = KMeans::params(3).fit(x32.view()).unwrap();
    let t: Array2<f32> = model.transform(x32.view()).unwrap();
    assert_eq!(t.ncols(), 3);
    assert!(adjusted_rand_score(&truth, model.labels()) > 0.95);
}

#[test]
fn model_file_round_trips_exactly() {
    let (x, _) = tutorial();
    let model =
        KMeans::params(3).fit(x.view()).unwrap().with_feature_names(vec!["a".into(), "b".into()]).unwrap();
    let dir = std::env::temp_dir().join(format!("kentro-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.json");
    model.save(&path).unwrap();
    let back = KMeans::<f64>::load(&path).unwrap();
    assert_eq!(back.centers(), model.centers());
    assert_eq!(back.labels(), model.labels());
    assert_eq!(back.inertia().to_bits(), model.inertia().to_bits());
    assert_eq!(back.feature_names().unwrap(), &["a", "b"]);
    assert_eq!(back.to_json(), model.to_json(), "deterministic bytes");
    // f32 models keep their exact values, and widen to f64 exactly.
    let m32 = KMeans::params(3).fit(x.mapv(|v| v as f32).view()).unwrap();
    let back32 = KMeans::<f32>::from_json(&m32.to_json()).unwrap();
    assert_eq!(back32.centers(), m32.centers());
    let wide = KMeans::<f64>::from_json(&m32.to_json()).unwrap();
    assert_eq!(wide.centers(), m32.centers().mapv(|v| v as f64));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn model_file_round_trips_every_f64_exactly() {
    // Values from random bit patterns, over the whole exponent range: JSON must not lose an ulp.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (k, d) = (500, 40);
    let rows: Vec<Vec<f64>> = (0..k)
        .map(|_| {
            (0..d)
                .map(|_| {
                    loop {
                        let v = f64::from_bits(next());
                        if v.is_finite() {
                            break v;
                        }
                    }
                })
                .collect()
        })
        .collect();
    let text = serde_json::json!({
        "format": "kentro.kmeans", "version": 1, "dtype": "float64", "n_clusters": k,
        "n_features": d, "centers": rows, "inertia": 1.5, "n_iter": 3, "labels": [0, 1, 2]
    })
    .to_string();
    let model = KMeans::<f64>::from_json(&text).unwrap();
    for (i, row) in rows.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            assert_eq!(model.centers()[[i, j]].to_bits(), v.to_bits(), "[{i},{j}]");
        }
    }
    let again = KMeans::<f64>::from_json(&model.to_json()).unwrap();
    assert_eq!(again, model);
}

#[test]
fn every_iteration_is_reported_even_without_inertia() {
    #[derive(Default)]
    struct Count(AtomicUsize, AtomicUsize);
    impl Observer for Count {
        fn wants_iteration_inertia(&self) -> bool {
            false
        }
        fn iteration(&self, _run: usize, _iteration: usize, inertia: Option<f64>) {
            self.0.fetch_add(1, Ordering::Relaxed);
            if inertia.is_some() {
                self.1.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let (x, _) = tutorial();
    let obs = Count::default();
    let model = KMeans::params(3).tol(0.0).check().unwrap().fit_with(x.view(), None, &obs).unwrap();
    assert_eq!(obs.0.into_inner(), model.n_iter());
    assert_eq!(obs.1.into_inner(), 0);
}
