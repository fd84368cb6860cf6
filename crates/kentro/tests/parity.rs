//! Parity with scikit-learn 1.9.1: from the same initial centres, kentro's Lloyd gives the same
//! labels, centres, inertia and iteration count (fixtures from scripts/make_fixtures.py).

mod common;

use common::{ParityCase, parity_cases, to_array};
use kentro::{Algorithm, Float, Init, KMeans};
use ndarray::{Array1, Array2};

/// Plain Lloyd and the default (bound-based) method both reproduce scikit-learn.
const ALGORITHMS: [Algorithm; 2] = [Algorithm::Lloyd, Algorithm::Auto];

fn fit_case<F: Float>(case: &ParityCase, algorithm: Algorithm) -> KMeans<F> {
    let x: Array2<F> = to_array(&case.x).mapv(F::from_f64);
    let params = KMeans::params(case.n_clusters)
        .algorithm(algorithm)
        .init(Init::Centers(to_array(&case.init)))
        .max_iter(case.max_iter)
        .tol(case.tol)
        .check()
        .unwrap();
    match &case.sample_weight {
        Some(w) => params.fit_weighted(x.view(), Array1::from(w.clone()).view()).unwrap(),
        None => params.fit(x.view()).unwrap(),
    }
}

fn rel_close(a: f64, b: f64, rtol: f64) -> bool {
    (a - b).abs() <= rtol * a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn float64_matches_sklearn_exactly_from_the_same_start() {
    let cases: Vec<_> = parity_cases().into_iter().filter(|c| c.dtype == "float64").collect();
    assert!(cases.len() >= 5, "at least 5 float64 data sets");
    assert!(cases.iter().any(|c| c.sample_weight.is_some()), "a weighted case");
    assert!(cases.iter().any(|c| c.empty_cluster_relocated), "an empty-cluster relocation case");
    for (case, algorithm) in cases.iter().flat_map(|c| ALGORITHMS.map(|a| (c, a))) {
        let model = fit_case::<f64>(case, algorithm);
        assert_eq!(model.labels(), &case.labels[..], "{}: labels", case.name);
        assert_eq!(model.n_iter(), case.n_iter, "{}: n_iter", case.name);
        assert!(
            rel_close(model.inertia(), case.inertia, 1e-9),
            "{}: inertia {} vs {}",
            case.name,
            model.inertia(),
            case.inertia
        );
        let want = to_array(&case.centers);
        for ((i, j), &w) in want.indexed_iter() {
            let got = model.centers()[[i, j]];
            // Relative to the data's scale: a centre coordinate near 0 has no relative precision.
            let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!((got - w).abs() <= 1e-9 * scale, "{}: centre [{i},{j}] {got} vs {w}", case.name);
        }
    }
}

#[test]
fn float32_agrees_with_sklearn_within_float32_precision() {
    let cases: Vec<_> = parity_cases().into_iter().filter(|c| c.dtype == "float32").collect();
    assert!(!cases.is_empty());
    for (case, algorithm) in cases.iter().flat_map(|c| ALGORITHMS.map(|a| (c, a))) {
        let model = fit_case::<f32>(case, algorithm);
        let same = model.labels().iter().zip(&case.labels).filter(|(a, b)| a == b).count();
        let frac = same as f64 / case.labels.len() as f64;
        assert!(frac >= 0.999, "{}: {:.4} of labels equal", case.name, frac);
        let want = to_array(&case.centers);
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for ((i, j), &w) in want.indexed_iter() {
            let got = model.centers()[[i, j]] as f64;
            assert!((got - w).abs() <= 1e-4 * scale, "{}: centre [{i},{j}] {got} vs {w}", case.name);
        }
        assert!(rel_close(model.inertia(), case.inertia, 1e-4), "{}: inertia", case.name);
    }
}
