//! Invariants, checked on random data with proptest.

use std::sync::Mutex;

use kentro::{Init, KMeans, Observer};
use ndarray::Array2;
use proptest::prelude::*;

fn data(max_n: usize, max_d: usize) -> impl Strategy<Value = Array2<f64>> {
    sized_data(4, max_n, max_d)
}

fn sized_data(min_n: usize, max_n: usize, max_d: usize) -> impl Strategy<Value = Array2<f64>> {
    (min_n..max_n, 1..max_d).prop_flat_map(|(n, d)| {
        proptest::collection::vec(-100.0f64..100.0, n * d)
            .prop_map(move |v| Array2::from_shape_vec((n, d), v).unwrap())
    })
}

/// Records the inertia reported after each iteration.
#[derive(Default)]
struct Inertias(Mutex<Vec<f64>>);

impl Observer for Inertias {
    fn iteration(&self, _run: usize, _iteration: usize, inertia: Option<f64>) {
        self.0.lock().unwrap().push(inertia.expect("asked for"));
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    // More rows than a pass walks on one thread (2048), so that both threads really work.
    fn one_or_two_threads_give_the_same_bits(x in sized_data(2100, 5000, 30), k in 1usize..9, seed in 0u64..1000) {
        let k = k.min(x.nrows());
        let fit = |threads: usize| pool(threads).install(|| KMeans::params(k).seed(seed).fit(x.view()).unwrap());
        let (a, b) = (fit(1), fit(2));
        prop_assert_eq!(a.labels(), b.labels());
        prop_assert_eq!(a.inertia().to_bits(), b.inertia().to_bits());
        let bits = |m: &KMeans| m.centers().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&a), bits(&b));
    }

    #[test]
    fn labels_in_range_and_predict_agrees(x in data(300, 6), k in 1usize..6, seed in 0u64..1000) {
        let k = k.min(x.nrows());
        let model = KMeans::params(k).seed(seed).fit(x.view()).unwrap();
        prop_assert_eq!(model.labels().len(), x.nrows());
        prop_assert!(model.labels().iter().all(|&l| l < k));
        prop_assert_eq!(model.predict(x.view()).unwrap(), model.labels());
        prop_assert!(model.inertia().is_finite() && model.inertia() >= 0.0);
        let t = model.transform(x.view()).unwrap();
        prop_assert_eq!(t.dim(), (x.nrows(), k));
    }

    #[test]
    fn inertia_never_rises_across_lloyd_steps(x in data(400, 5), k in 2usize..8, seed in 0u64..1000) {
        let k = k.min(x.nrows());
        let obs = Inertias::default();
        let params = KMeans::params(k).seed(seed).tol(0.0).check().unwrap();
        let model = params.fit_with(x.view(), None, &obs).unwrap();
        let seen = obs.0.into_inner().unwrap();
        prop_assert_eq!(seen.len(), model.n_iter());
        for w in seen.windows(2) {
            prop_assert!(w[1] <= w[0] * (1.0 + 1e-12), "inertia rose: {:?}", seen);
        }
        // The final inertia (labels against final centres) is no worse than the last step's.
        prop_assert!(model.inertia() <= seen.last().unwrap() * (1.0 + 1e-12));
    }

    #[test]
    fn row_order_changes_only_the_order_of_labels(
        x in data(300, 5), k in 1usize..6, perm_seed in any::<u64>()
    ) {
        let k = k.min(x.nrows());
        let init = x.slice(ndarray::s![0..k, ..]).to_owned();
        let params = KMeans::params(k).init(Init::Centers(init)).check().unwrap();
        let a = params.fit(x.view()).unwrap();
        // A seeded permutation of the rows.
        let n = x.nrows();
        let mut perm: Vec<usize> = (0..n).collect();
        let mut s = perm_seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (s >> 33) as usize % (i + 1));
        }
        let b = params.fit(x.select(ndarray::Axis(0), &perm).view()).unwrap();
        for (i, &p) in perm.iter().enumerate() {
            prop_assert_eq!(b.labels()[i], a.labels()[p]);
        }
        prop_assert_eq!(a.n_iter(), b.n_iter());
        let tol = 1e-9 * (1.0 + a.inertia());
        prop_assert!((a.inertia() - b.inertia()).abs() <= tol);
        for (u, v) in a.centers().iter().zip(b.centers().iter()) {
            prop_assert!((u - v).abs() <= 1e-9 * 100.0);
        }
    }
}

#[test]
fn thread_count_never_changes_a_bit() {
    // Narrow rows (direct kernels) and wide rows (matrix products in k-means++ and Lloyd).
    for (n, d, k) in [(5000, 3, 6), (20_000, 40, 12)] {
        thread_count_check(n, d, k);
    }
}

fn thread_count_check(n: usize, d: usize, k: usize) {
    let (x, _) = kentro::datasets::Blobs::new(n).centers(k).n_features(d).seed(4).generate().unwrap();
    let w = ndarray::Array1::from_shape_fn(n, |i| 0.5 + (i % 7) as f64);
    let fit = |threads: usize| {
        pool(threads).install(|| {
            let p = KMeans::params(k).n_init(kentro::NInit::Runs(3)).seed(11).check().unwrap();
            p.fit_weighted(x.view(), w.view()).unwrap()
        })
    };
    let one = fit(1);
    for threads in [2, 3, 4] {
        let other = fit(threads);
        assert_eq!(one.labels(), other.labels());
        assert_eq!(one.inertia().to_bits(), other.inertia().to_bits(), "{threads} threads");
        assert_eq!(one.n_iter(), other.n_iter());
        let bits = |m: &KMeans| m.centers().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one), bits(&other), "{threads} threads");
        let t1 = pool(1).install(|| one.transform(x.view()).unwrap());
        let t2 = pool(threads).install(|| one.transform(x.view()).unwrap());
        assert_eq!(t1, t2);
    }
}

#[test]
fn same_seed_same_result_other_seed_other_start() {
    let (x, _) = kentro::datasets::Blobs::new(500).centers(8).seed(2).generate().unwrap();
    let a = KMeans::params(8).seed(1).fit(x.view()).unwrap();
    let b = KMeans::params(8).seed(1).fit(x.view()).unwrap();
    assert_eq!(a, b);
    let starts: std::collections::HashSet<Vec<usize>> = (0..5)
        .map(|s| KMeans::params(8).seed(s).max_iter(1).fit(x.view()).unwrap().labels().to_vec())
        .collect();
    assert!(starts.len() > 1, "different seeds give different starts");
}
