//! The exact 1-D algorithm: the global optimum of the inertia, checked against brute force (every
//! split of the sorted values into contiguous runs) on many small cases, never worse than Lloyd,
//! and its errors.

use kentro::{Algorithm, FitWarning, KMeans, KMeansError, NInit};
use ndarray::{Array1, Array2, array};

/// A small deterministic generator (tests print their case, not a seed).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn uniform(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 31) as f64
    }
}

fn exact(k: usize) -> kentro::ValidKMeansParams {
    KMeans::params(k).algorithm(Algorithm::Exact1d).check().unwrap()
}

fn column(values: &[f64]) -> Array2<f64> {
    Array2::from_shape_vec((values.len(), 1), values.to_vec()).unwrap()
}

/// The least weighted inertia over every split of the sorted samples into `k` non-empty runs.
fn brute_force(values: &[f64], weights: &[f64], k: usize) -> f64 {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let v: Vec<f64> = idx.iter().map(|&i| values[i]).collect();
    let w: Vec<f64> = idx.iter().map(|&i| weights[i]).collect();
    let cost = |lo: usize, hi: usize| {
        let total: f64 = w[lo..hi].iter().sum();
        if total == 0.0 {
            return 0.0;
        }
        let mean = (lo..hi).map(|i| w[i] * v[i]).sum::<f64>() / total;
        (lo..hi).map(|i| w[i] * (v[i] - mean).powi(2)).sum::<f64>()
    };
    // best(start, clusters): the least cost of samples start.. in that many runs.
    fn best(start: usize, clusters: usize, n: usize, cost: &dyn Fn(usize, usize) -> f64) -> f64 {
        if clusters == 1 {
            return cost(start, n);
        }
        (start + 1..=n - clusters + 1)
            .map(|end| cost(start, end) + best(end, clusters - 1, n, cost))
            .fold(f64::INFINITY, f64::min)
    }
    best(0, k, v.len(), &cost)
}

/// The model's own consistency: ascending centres, each the weighted mean of its samples (for
/// clusters with weight), the inertia recomputed from labels and centres, one iteration.
fn check_model(model: &KMeans<f64>, values: &[f64], weights: &[f64], what: &str) {
    let centers: Vec<f64> = model.centers().column(0).to_vec();
    assert!(centers.windows(2).all(|p| p[0] <= p[1]), "{what}: centres not ascending {centers:?}");
    assert_eq!(model.n_iter(), 1, "{what}");
    let k = centers.len();
    let (mut sw, mut swx) = (vec![0.0; k], vec![0.0; k]);
    let mut inertia = 0.0;
    for ((&x, &w), &l) in values.iter().zip(weights).zip(model.labels()) {
        sw[l] += w;
        swx[l] += w * x;
        inertia += w * (x - centers[l]).powi(2);
    }
    for c in 0..k {
        if sw[c] > 0.0 {
            let mean = swx[c] / sw[c];
            assert!((mean - centers[c]).abs() <= 1e-9 * (1.0 + mean.abs()), "{what}: centre {c}");
        }
    }
    assert!((inertia - model.inertia()).abs() <= 1e-9 * (1.0 + inertia), "{what}: inertia");
    // Every sample is at least as near its own centre as any other.
    for (&x, &l) in values.iter().zip(model.labels()) {
        let own = (x - centers[l]).abs();
        assert!(centers.iter().all(|c| own <= (x - c).abs() + 1e-12), "{what}: sample {x} not nearest");
    }
}

#[test]
fn equals_brute_force_on_small_cases() {
    let mut rng = Lcg(7);
    let mut tried = 0;
    for case in 0..3000 {
        let n = 1 + rng.below(10) as usize;
        let k = 1 + rng.below(n as u64) as usize;
        // Few levels make ties; some cases spread values widely.
        let levels = [3, 6, 1000][case % 3];
        let spread = if case % 7 == 0 { 1e6 } else { 1.0 };
        let values: Vec<f64> = (0..n).map(|_| rng.below(levels) as f64 * spread / levels as f64).collect();
        let weighted = case % 2 == 1;
        let weights: Vec<f64> = (0..n)
            .map(|_| if weighted { [0.0, 0.5, 1.0, 2.0, 7.25][rng.below(5) as usize] } else { 1.0 })
            .collect();
        if weights.iter().sum::<f64>() == 0.0 {
            continue;
        }
        let x = column(&values);
        let model = exact(k).fit_weighted(x.view(), Array1::from(weights.clone()).view()).unwrap();
        let what = format!("case {case}: values {values:?} weights {weights:?} k={k}");
        let want = brute_force(&values, &weights, k);
        // Rounding: relative to the spread, and to the squares that the sums cancel.
        let squares: f64 = values.iter().zip(&weights).map(|(v, w)| w * v * v).sum();
        let tolerance = 1e-9 * brute_force(&values, &weights, 1) + 1e-14 * squares;
        assert!(
            (model.inertia() - want).abs() <= tolerance,
            "{what}: inertia {} but brute force {want}",
            model.inertia()
        );
        check_model(&model, &values, &weights, &what);
        tried += 1;
    }
    assert!(tried > 2500);
}

#[test]
fn k_one_is_the_weighted_mean_and_k_n_is_zero() {
    let values = [3.0, -1.0, 4.0, 1.5, 9.0];
    let weights = [1.0, 2.0, 1.0, 1.0, 0.5];
    let x = column(&values);
    let one = exact(1).fit_weighted(x.view(), Array1::from(weights.to_vec()).view()).unwrap();
    let mean = values.iter().zip(&weights).map(|(v, w)| v * w).sum::<f64>() / weights.iter().sum::<f64>();
    assert!((one.centers()[[0, 0]] - mean).abs() < 1e-12);
    assert!(one.labels().iter().all(|&l| l == 0));
    let all = exact(5).fit(x.view()).unwrap();
    assert_eq!(all.inertia(), 0.0);
    assert_eq!(all.centers().column(0).to_vec(), [-1.0, 1.5, 3.0, 4.0, 9.0]);
    assert_eq!(all.labels(), [2, 0, 3, 1, 4]);
    assert!(all.warnings().is_empty());
}

#[test]
fn never_worse_than_lloyd_from_kmeans_plusplus() {
    let mut rng = Lcg(11);
    for (case, &(n, k)) in
        [(500usize, 2usize), (500, 3), (800, 5), (1000, 8), (2000, 13), (3000, 30)].iter().enumerate()
    {
        // A mixture of uneven groups and a uniform background: Lloyd's local optima differ.
        let values: Vec<f64> = (0..n)
            .map(|i| match i % 4 {
                0 => rng.uniform() * 100.0,
                1 => 20.0 + rng.uniform(),
                2 => 50.0 + 5.0 * rng.uniform() * rng.uniform(),
                _ => 90.0 - 3.0 * rng.uniform(),
            })
            .collect();
        let x = column(&values);
        let best = exact(k).fit(x.view()).unwrap();
        check_model(&best, &values, &vec![1.0; n], &format!("case {case}"));
        for seed in 0..5 {
            let lloyd = KMeans::params(k).seed(seed).n_init(NInit::Runs(1)).fit(x.view()).unwrap();
            assert!(
                best.inertia() <= lloyd.inertia() * (1.0 + 1e-12),
                "case {case} seed {seed}: exact {} > Lloyd {}",
                best.inertia(),
                lloyd.inertia()
            );
        }
    }
}

#[test]
fn large_inputs_match_the_same_fit_in_any_thread_count() {
    // Long layers are split between threads: the result must not move.
    let mut rng = Lcg(3);
    let values: Vec<f64> = (0..20_000).map(|_| rng.uniform().powi(3) * 1e3).collect();
    let x = column(&values);
    let fit = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| exact(6).fit(x.view()).unwrap())
    };
    let one = fit(1);
    let four = fit(4);
    assert_eq!(one.labels(), four.labels());
    assert_eq!(one.centers(), four.centers());
    assert_eq!(one.inertia().to_bits(), four.inertia().to_bits());
}

#[test]
fn results_do_not_depend_on_row_order() {
    let values = [5.0, 1.0, 1.0, 8.0, 2.5, 9.0, 1.2, 7.7];
    let model = exact(3).fit(column(&values).view()).unwrap();
    let mut reversed = values;
    reversed.reverse();
    let back = exact(3).fit(column(&reversed).view()).unwrap();
    assert_eq!(model.centers(), back.centers());
    let mut labels = back.labels().to_vec();
    labels.reverse();
    assert_eq!(model.labels(), labels);
}

#[test]
fn f32_input_stays_f32() {
    let x = array![[1.0f32], [1.5], [10.0], [11.0]];
    let model = exact(2).fit(x.view()).unwrap();
    assert_eq!(model.centers().column(0).to_vec(), [1.25f32, 10.5]);
    assert_eq!(model.labels(), [0, 0, 1, 1]);
    assert!((model.inertia() - 0.625).abs() < 1e-12);
}

#[test]
fn extreme_magnitudes_stay_exact() {
    // Squares of 1e300 overflow and of 1e-300 underflow: the fit runs on rescaled values.
    let x = array![[1e300], [1e300], [-3e300], [-3e300]];
    let model = exact(2).fit(x.view()).unwrap();
    assert_eq!(model.labels(), [1, 1, 0, 0]);
    assert_eq!(model.centers().column(0).to_vec(), [-3e300, 1e300]);
    assert_eq!(model.inertia(), 0.0);
    let x = array![[1e300], [2e300], [10e300]];
    let err = exact(1).fit(x.view()).unwrap_err();
    assert!(matches!(err, KMeansError::Overflow { .. }), "{err:?}");
    let s = 1e-300;
    let x = array![[1.0 * s], [2.0 * s], [10.0 * s], [12.0 * s]];
    let model = exact(2).fit(x.view()).unwrap();
    assert_eq!(model.labels(), [0, 0, 1, 1]);
    assert_eq!(model.centers()[[1, 0]], 11.0 * s);
    assert!(matches!(model.warnings(), [FitWarning::InertiaUnderflow { .. }]), "{:?}", model.warnings());
}

#[test]
fn fewer_distinct_values_than_clusters_warns() {
    let x = column(&[2.0, 2.0, 5.0, 5.0, 5.0]);
    let model = exact(4).fit(x.view()).unwrap();
    assert_eq!(model.warnings(), [FitWarning::FewerDistinctClusters { found: 2, requested: 4 }]);
    assert_eq!(model.centers().column(0).to_vec(), [2.0, 5.0, 5.0, 5.0]);
    assert_eq!(model.labels(), [0, 0, 1, 1, 1]);
    assert_eq!(model.inertia(), 0.0);
}

#[test]
fn zero_weight_samples_go_to_their_nearest_centre() {
    let x = column(&[0.0, 1.0, 10.0, 11.0, 4.0, 7.0]);
    let w = array![1.0, 1.0, 1.0, 1.0, 0.0, 0.0];
    let model = exact(2).fit_weighted(x.view(), w.view()).unwrap();
    assert_eq!(model.centers().column(0).to_vec(), [0.5, 10.5]);
    assert_eq!(model.labels(), [0, 0, 1, 1, 0, 1]);
    assert_eq!(model.inertia(), 1.0);
}

#[test]
fn more_than_one_feature_is_refused_naming_d() {
    let err = exact(2).fit(array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]].view()).unwrap_err();
    assert!(matches!(err, KMeansError::Exact1dFeatures { n_features: 2 }), "{err:?}");
    assert!(err.to_string().contains("d = 2"), "{err}");
}

#[test]
fn the_usual_data_errors_apply() {
    let err = exact(3).fit(column(&[1.0, 2.0]).view()).unwrap_err();
    assert!(matches!(err, KMeansError::TooFewSamples { n_samples: 2, n_clusters: 3 }), "{err:?}");
    let err = exact(1).fit(column(&[1.0, f64::NAN]).view()).unwrap_err();
    assert!(matches!(err, KMeansError::NonFinite { row: 1, col: 0, .. }), "{err:?}");
    let err = exact(1).fit_weighted(column(&[1.0, 2.0]).view(), array![0.0, 0.0].view()).unwrap_err();
    assert!(matches!(err, KMeansError::ZeroWeights), "{err:?}");
}

#[test]
fn auto_never_picks_it() {
    // Lloyd from a poor start (two centres in the first group) stays in a local optimum that
    // the exact algorithm escapes; `auto` is Lloyd's result.
    let x = column(&[0.0, 1.0, 30.0, 31.0, 40.0, 41.0]);
    let start = kentro::Init::Centers(array![[0.0], [1.0], [40.0]]);
    let auto = KMeans::params(3).init(start).fit(x.view()).unwrap();
    assert_eq!(auto.inertia(), 101.0);
    let best = exact(3).fit(x.view()).unwrap();
    assert_eq!(best.inertia(), 1.5);
    assert!(auto.inertia() > best.inertia() + 1.0, "{} vs {}", auto.inertia(), best.inertia());
}
