//! Every exact algorithm gives Lloyd's run: the same labels after every iteration, bit-identical
//! centres and inertia, and the same iteration count — on varied data, in f32 and f64.

use kentro::datasets::Blobs;
use kentro::{Algorithm, Float, Init, KMeans};
use ndarray::{Array1, Array2};

const ALGORITHMS: [Algorithm; 4] =
    [Algorithm::Elkan, Algorithm::Hamerly, Algorithm::Yinyang, Algorithm::Auto];

fn datasets() -> Vec<(String, Array2<f64>, usize)> {
    let mut out = Vec::new();
    for &(n, d, centers, k, std) in &[
        (800usize, 2usize, 5usize, 7usize, 1.5f64),
        (600, 16, 8, 20, 3.0),
        (500, 40, 10, 33, 6.0),
        (300, 128, 4, 12, 8.0),
    ] {
        let (x, _) =
            Blobs::new(n).n_features(d).centers(centers).cluster_std(std).seed(n as u64).generate().unwrap();
        out.push((format!("blobs n={n} d={d} k={k}"), x, k));
    }
    // Uniform data converges slowly: many iterations with few changes.
    let mut s = 12345u64;
    let uniform = Array2::from_shape_fn((1500, 3), |_| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    });
    out.push(("uniform 1500x3 k=25".into(), uniform.clone(), 25));
    // The same with 32 clusters or more: narrow rows then carry their sums from pass to pass
    // (with fewer, every pass sums afresh).
    out.push(("uniform 1500x3 k=40".into(), uniform, 40));
    // Heavy duplicates: exact ties between centres and empty clusters.
    let dup = Array2::from_shape_fn((400, 2), |(i, j)| ((i % 6) * (j + 1)) as f64);
    out.push(("duplicates k=9".into(), dup, 9));
    // Narrow rows and many clusters (where `auto` keeps Hamerly's bounds and measures the rows
    // in doubt a block at a time), in the order of their first feature, and a last block cut
    // short.
    let (blobs, _) = Blobs::new(1203).n_features(3).centers(12).cluster_std(1.0).seed(9).generate().unwrap();
    let mut rows: Vec<Vec<f64>> = blobs.outer_iter().map(|r| r.to_vec()).collect();
    rows.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let ordered = Array2::from_shape_fn((rows.len(), 3), |(i, j)| rows[i][j]);
    out.push(("ordered blobs 1203x3 k=70".into(), ordered, 70));
    // Narrow rows on a coarse grid (ties between centres) with many clusters, for the across-rows
    // kernels (4 and 6 features: blocks of 8 and 4 rows).
    for d in [4usize, 6] {
        let grid = Array2::from_shape_fn((300, d), |(i, j)| ((i * (j + 3) + i / 7) % 5) as f64 * 0.5);
        out.push((format!("grid d={d} k=24"), grid, 24));
    }
    // Every other narrow width, in random order, with enough clusters for `auto`'s bounds.
    for d in [1usize, 5, 7, 8] {
        let (x, _) =
            Blobs::new(517).n_features(d).centers(6).cluster_std(2.0).seed(d as u64).generate().unwrap();
        out.push((format!("blobs 517x{d} k=33"), x, 33));
    }
    out
}

fn check<F: Float>(x: &Array2<f64>, k: usize, weights: Option<&Array1<f64>>, name: &str) {
    let x: Array2<F> = x.mapv(F::from_f64);
    let fit = |algorithm: Algorithm, max_iter: usize| {
        let params = random_start(k, 3, algorithm, max_iter);
        match weights {
            Some(w) => params.fit_weighted(x.view(), w.view()).unwrap(),
            None => params.fit(x.view()).unwrap(),
        }
    };
    let full = fit(Algorithm::Lloyd, 300);
    let bits = |m: &KMeans<F>| m.centers().iter().map(|v| v.to_f64().to_bits()).collect::<Vec<_>>();
    for max_iter in (1..=full.n_iter()).chain([300]) {
        let lloyd = fit(Algorithm::Lloyd, max_iter);
        for algorithm in ALGORITHMS {
            let other = fit(algorithm, max_iter);
            let what = format!("{name} {} {algorithm:?} max_iter={max_iter}", F::DTYPE);
            assert_eq!(other.labels(), lloyd.labels(), "{what}: labels");
            assert_eq!(bits(&other), bits(&lloyd), "{what}: centres");
            assert_eq!(other.inertia().to_bits(), lloyd.inertia().to_bits(), "{what}: inertia");
            assert_eq!(other.n_iter(), lloyd.n_iter(), "{what}: n_iter");
        }
    }
}

#[test]
fn every_algorithm_is_lloyd_iteration_by_iteration_f64() {
    for (name, x, k) in datasets() {
        check::<f64>(&x, k, None, &name);
    }
}

#[test]
fn every_algorithm_is_lloyd_iteration_by_iteration_f32() {
    for (name, x, k) in datasets() {
        check::<f32>(&x, k, None, &name);
    }
}

#[test]
fn every_algorithm_is_lloyd_with_weights() {
    for (name, x, k) in datasets().into_iter().take(3) {
        let w = Array1::from_shape_fn(x.nrows(), |i| [0.0, 0.5, 1.0, 3.0, 10.0][i % 5]);
        check::<f64>(&x, k, Some(&w), &name);
        check::<f32>(&x, k, Some(&w), &name);
    }
}

/// Records the inertia reported after every iteration.
struct InertiaLog(std::sync::Mutex<Vec<(usize, Option<u64>)>>);

impl kentro::Observer for InertiaLog {
    fn iteration(&self, _run: usize, iteration: usize, inertia: Option<f64>) {
        self.0.lock().unwrap().push((iteration, inertia.map(f64::to_bits)));
    }
    fn wants_iteration_inertia(&self) -> bool {
        true
    }
}

/// A fit of every algorithm against Lloyd's from the k-means++ start of `seed`, for a few
/// iteration caps: labels, centre and inertia bits, iteration count, and (when `log`) the
/// inertia reported after every iteration.
fn check_from_kmeanspp<F: Float>(x: &Array2<F>, k: usize, seed: u64, log: bool, name: &str) {
    let fit = |algorithm: Algorithm, max_iter: usize| {
        let params = KMeans::params(k)
            .n_init(kentro::NInit::Runs(1))
            .seed(seed)
            .tol(0.0)
            .max_iter(max_iter)
            .algorithm(algorithm)
            .check()
            .unwrap();
        let seen = InertiaLog(Default::default());
        let m =
            if log { params.fit_with(x.view(), None, &seen).unwrap() } else { params.fit(x.view()).unwrap() };
        let bits: Vec<u64> = m.centers().iter().map(|v| v.to_f64().to_bits()).collect();
        (m.labels().to_vec(), bits, m.inertia().to_bits(), m.n_iter(), seen.0.into_inner().unwrap())
    };
    for max_iter in [1, 2, 3, 5, 300] {
        let lloyd = fit(Algorithm::Lloyd, max_iter);
        for algorithm in ALGORITHMS {
            let other = fit(algorithm, max_iter);
            let what = format!("{name} {} {algorithm:?} max_iter={max_iter}", F::DTYPE);
            assert_eq!(other.0, lloyd.0, "{what}: labels");
            assert_eq!(other.1, lloyd.1, "{what}: centres");
            assert_eq!((other.2, other.3), (lloyd.2, lloyd.3), "{what}: inertia, n_iter");
            assert_eq!(other.4, lloyd.4, "{what}: the inertia after every iteration");
        }
    }
}

/// A cloud of points whose squared distances to each other fall below the smallest normal
/// value (their rounding is absolute, not relative), kept unscaled by two points at ±1: the
/// bounds must allow for it (Hamerly's on narrow rows, Hamerly's on wider ones, and the grouped
/// bounds of Yinyang and Elkan).
#[test]
fn bounds_hold_where_squared_distances_underflow() {
    let mut s = 99u64;
    let mut uniform = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for d in [1usize, 2] {
        for (cloud, in_f32) in [(1e-159, false), (1e-19, true)] {
            let n = 3000;
            let mut x = Array2::from_shape_fn((n, d), |_| cloud * uniform());
            x.row_mut(n - 2).fill(1.0);
            x.row_mut(n - 1).fill(-1.0);
            for seed in 0..4 {
                let name = format!("cloud {cloud:e} d={d} seed={seed}");
                if in_f32 {
                    check_from_kmeanspp(&x.mapv(|v| v as f32), 70, seed, false, &name);
                } else {
                    check_from_kmeanspp(&x, 70, seed, false, &name);
                }
            }
        }
    }
}

/// The inertia an observer asks for after every iteration is Lloyd's, whichever algorithm runs.
#[test]
fn every_algorithm_reports_lloyds_inertia_every_iteration() {
    for (name, x, k) in datasets() {
        check_from_kmeanspp(&x, k, 1, true, &name);
        check_from_kmeanspp(&x.mapv(|v| v as f32), k, 1, true, &name);
    }
}

/// From 50 000 rows the matrix products take (float64 or float32), `auto` runs Lloyd's passes behind
/// Hamerly's filter: still Lloyd's run, iteration by iteration (uniform data: slow convergence,
/// few rows changing late, so the filter skips most rows; blobs: it skips nearly all).
#[test]
fn auto_behind_the_filter_is_lloyd_iteration_by_iteration() {
    let mut s = 777u64;
    // More rows than `auto`'s threshold for the filter (50 000), which these fits must cross.
    let uniform = Array2::from_shape_fn((60_000, 16), |_| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    });
    let (blobs, _) =
        Blobs::new(60_000).n_features(24).centers(12).cluster_std(2.0).seed(5).generate().unwrap();
    for (name, x, k) in [("uniform 60000x16", uniform, 16), ("blobs 60000x24", blobs, 12)] {
        filter_is_lloyd::<f64>(&x, k, name);
        filter_is_lloyd::<f32>(&x, k, name);
    }
}

/// One run from a random start of seed `seed`, no tolerance (every iteration up to `max_iter`
/// runs), by `algorithm`.
fn random_start(k: usize, seed: u64, algorithm: Algorithm, max_iter: usize) -> kentro::ValidKMeansParams {
    KMeans::params(k)
        .init(Init::Random)
        .n_init(kentro::NInit::Runs(1))
        .seed(seed)
        .tol(0.0)
        .max_iter(max_iter)
        .algorithm(algorithm)
        .check()
        .unwrap()
}

fn filter_is_lloyd<F: Float>(x: &Array2<f64>, k: usize, name: &str) {
    let x: Array2<F> = x.mapv(F::from_f64);
    let fit = |algorithm: Algorithm, max_iter: usize| {
        random_start(k, 1, algorithm, max_iter).fit(x.view()).unwrap()
    };
    let full = fit(Algorithm::Lloyd, 300);
    assert!(full.n_iter() > 8, "{name}: {} iterations", full.n_iter());
    let bits = |m: &KMeans<F>| m.centers().iter().map(|v| v.to_f64().to_bits()).collect::<Vec<_>>();
    for max_iter in [1, 2, 3, full.n_iter() / 2, full.n_iter(), 300] {
        let (lloyd, auto) = (fit(Algorithm::Lloyd, max_iter), fit(Algorithm::Auto, max_iter));
        let what = format!("{name} {} max_iter={max_iter}", F::DTYPE);
        assert_eq!(auto.labels(), lloyd.labels(), "{what}: labels");
        assert_eq!(bits(&auto), bits(&lloyd), "{what}: centres");
        assert_eq!(auto.inertia().to_bits(), lloyd.inertia().to_bits(), "{what}: inertia");
        assert_eq!(auto.n_iter(), lloyd.n_iter(), "{what}: n_iter");
    }
}
