//! Choosing k: on well-separated blobs every criterion finds them; on uniform noise the gap
//! statistic finds no structure; results depend on the seed only; bad settings are refused.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use kentro::datasets::Blobs;
use kentro::select_k::{Criterion, GapReference, SelectK, SelectKError, SelectKObserver, Step};
use kentro::{Init, KMeans, KMeansError, NInit};
use ndarray::Array2;

/// Four centres 14 apart at least (10 from the origin on the first two axes), unit spread.
fn four_blobs(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut centers = Array2::zeros((4, d));
    for (c, (axis, sign)) in [(0, 1.0), (0, -1.0), (1, 1.0), (1, -1.0)].into_iter().enumerate() {
        centers[[c, axis]] = 10.0 * sign;
    }
    Blobs::new(n).given_centers(centers).seed(seed).generate().unwrap().0
}

/// Uniform noise in the unit cube (SplitMix64, independent of kentro's generator).
fn uniform(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    // Far-apart starting points, so that the streams of different seeds do not overlap.
    let mut state = mix(seed ^ 0x5EED);
    Array2::from_shape_simple_fn((n, d), || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        (mix(state) >> 11) as f64 / (1u64 << 53) as f64
    })
}

fn recommended(result: &kentro::SelectKResult, criterion: Criterion) -> Option<usize> {
    result.recommendations().iter().find(|r| r.criterion == criterion).unwrap().k
}

#[test]
fn four_separated_blobs_give_four_by_knee_silhouette_and_gap() {
    for d in [2, 5, 10] {
        for seed in [0, 1, 2] {
            let x = four_blobs(400, d, seed);
            let result = SelectK::new(2..=10).seed(seed).run(x.view()).unwrap();
            let context = format!("d={d} seed={seed}: {:#?}", result.recommendations());
            assert_eq!(result.knee(), Some(4), "{context}");
            assert_eq!(recommended(&result, Criterion::Knee), Some(4), "{context}");
            assert_eq!(recommended(&result, Criterion::Silhouette), Some(4), "{context}");
            assert_eq!(recommended(&result, Criterion::Gap), Some(4), "{context}");
            assert_eq!(result.gap_k(), Some(4), "{context}");
            assert_eq!(result.best_k(), 4, "{context}");
            assert!(result.best_reason().starts_with("chosen by 5 of 5 criteria"), "{context}");
        }
    }
}

#[test]
fn the_principal_axes_reference_finds_the_blobs_too() {
    for seed in [3, 4] {
        let x = four_blobs(300, 3, seed);
        let result =
            SelectK::new(2..=8).reference(GapReference::PrincipalAxes).seed(seed).run(x.view()).unwrap();
        assert_eq!(result.gap_k(), Some(4), "{:#?}", result.gap_curve());
        assert_eq!(result.best_k(), 4);
    }
}

#[test]
fn uniform_noise_has_no_structure_by_the_gap_statistic() {
    // Tibshirani et al.'s null case: uniform data in 5 and 10 dimensions.
    for (d, seed) in [(5, 0), (5, 1), (5, 2), (10, 3), (10, 4)] {
        let x = uniform(300, d, seed);
        for reference in [GapReference::BoundingBox, GapReference::PrincipalAxes] {
            let result = SelectK::new(2..=8).reference(reference).seed(seed).run(x.view()).unwrap();
            let context = format!("d={d} seed={seed} {reference:?}: {:#?}", result.gap_curve());
            assert_eq!(result.gap_k(), Some(1), "{context}");
            assert_eq!(result.best_k(), 1, "{context}");
            assert_eq!(result.best_reason(), "the gap statistic finds no cluster structure (k=1)");
            let gap = result.recommendations().iter().find(|r| r.criterion == Criterion::Gap).unwrap();
            assert!(gap.reason.contains("no cluster structure"), "{}", gap.reason);
        }
    }
}

#[test]
fn uniform_noise_in_the_plane_mostly_has_no_structure() {
    // The rule is a one-standard-error test, so a uniform sample sometimes passes for two
    // clusters: in the plane about one sample in ten (measured: 36 of 40 seeds said 1).
    let ones = (0..20u64)
        .filter(|&seed| {
            SelectK::new(2..=6).seed(seed).run(uniform(300, 2, seed).view()).unwrap().gap_k() == Some(1)
        })
        .count();
    assert!(ones >= 16, "only {ones} of 20 uniform samples had no structure");
}

#[test]
fn a_dip_of_the_gap_at_two_does_not_hide_strong_clusters() {
    // Four blobs, two of them close together: three clear groups. The gap's rule stops at
    // gap(1) >= gap(2) - s(2) (splitting the three groups in two fits the data worse than the
    // uniform box), but the silhouette (0.77) shows a strong structure.
    let centres = ndarray::array![[-0.04, 2.38], [-4.0, -4.79], [-3.32, 8.05], [-0.72, -0.09]];
    let (x, _) = Blobs::new(600).given_centers(centres).cluster_std(0.6).seed(146).generate().unwrap();
    let result = SelectK::new(2..=10).run(x.view()).unwrap();
    assert_eq!(result.gap_k(), Some(1), "{:#?}", result.gap_curve());
    assert!(result.scores()[1].silhouette.unwrap() > kentro::select_k::STRONG_SILHOUETTE);
    assert_eq!(result.best_k(), 3, "{}", result.best_reason());
    assert!(
        result.best_reason().contains("the gap statistic's k=1 is overruled"),
        "{}",
        result.best_reason()
    );
}

#[test]
fn a_strong_silhouette_alone_does_not_overrule_the_gap_on_uniform_data() {
    // 30 uniform points on a line (numpy: `np.random.default_rng(1).random((30, 1))`): the mean
    // silhouette passes 0.7 at some k, but the gap statistic says 1 and no majority of the
    // criteria agrees on another k, so the answer stays 1.
    let v = [
        0.5118216247002567,
        0.9504636963259353,
        0.14415961271963373,
        0.9486494471372439,
        0.31183145201048545,
        0.42332644897257565,
        0.8277025938204418,
        0.4091991363691613,
        0.5495936876730595,
        0.027559113243068367,
        0.7535131086748066,
        0.5381433132192782,
        0.32973171649909216,
        0.7884287034284043,
        0.303194829291645,
        0.4534978894806515,
        0.13404169724716475,
        0.40311298644712923,
        0.20345524067614962,
        0.2623133404418495,
        0.7503646726300526,
        0.2804087579860399,
        0.48519097443163506,
        0.9807371998012386,
        0.9616571936637868,
        0.7247899407735336,
        0.5412268555474342,
        0.2768912040453708,
        0.16065200877512686,
        0.9699254132161326,
    ];
    let x = Array2::from_shape_vec((30, 1), v.to_vec()).unwrap();
    let result = SelectK::new(2..=12).run(x.view()).unwrap();
    let best_silhouette = result.scores().iter().filter_map(|s| s.silhouette).fold(f64::MIN, f64::max);
    assert!(best_silhouette > kentro::select_k::STRONG_SILHOUETTE, "{:#?}", result.scores());
    assert_eq!(result.gap_k(), Some(1), "{:#?}", result.gap_curve());
    assert_eq!(result.best_k(), 1, "{}", result.best_reason());
}

#[test]
fn the_gap_at_a_k_does_not_depend_on_the_range() {
    let x = four_blobs(150, 2, 11);
    let short = SelectK::new(2..=6).n_refs(3).seed(4).run(x.view()).unwrap();
    let long = SelectK::new(3..=10).n_refs(3).seed(4).run(x.view()).unwrap();
    let at = |r: &kentro::select_k::SelectKResult, k: usize| {
        let p = r.gap_curve().iter().find(|p| p.k == k).unwrap();
        (p.gap.unwrap(), p.gap_se.unwrap())
    };
    for k in [1, 3, 4, 5, 6] {
        assert_eq!(at(&short, k), at(&long, k), "k={k}");
    }
}

#[test]
fn the_table_holds_every_k_and_the_gap_starts_at_one() {
    let x = four_blobs(200, 2, 7);
    let result = SelectK::new(3..=6).n_refs(4).run(x.view()).unwrap();
    let ks: Vec<usize> = result.scores().iter().map(|s| s.k).collect();
    assert_eq!(ks, [3, 4, 5, 6]);
    let gap_ks: Vec<usize> = result.gap_curve().iter().map(|p| p.k).collect();
    assert_eq!(gap_ks, [1, 3, 4, 5, 6]);
    for s in result.scores() {
        let sil = s.silhouette.unwrap();
        assert!((-1.0..=1.0).contains(&sil));
        assert!(s.calinski_harabasz.unwrap() > 0.0 && s.davies_bouldin.unwrap() >= 0.0);
        assert!(s.gap_se.unwrap() >= 0.0);
        assert_eq!(result.labels(s.k).unwrap().iter().max(), Some(&(s.k - 1)));
    }
    // Inertia falls with k; the gap at k=1 compares the total scatter.
    assert!(result.scores().windows(2).all(|w| w[1].inertia <= w[0].inertia));
    let total: f64 = {
        let mean = x.mean_axis(ndarray::Axis(0)).unwrap();
        x.outer_iter().map(|r| (&r - &mean).mapv(|v| v * v).sum()).sum()
    };
    let log_w1 = result.gap_curve()[0].log_w.unwrap();
    assert!((log_w1 - total.ln()).abs() < 1e-9, "{log_w1} vs {}", total.ln());
    assert_eq!(result.labels(2), None);
}

#[test]
fn each_fit_is_the_plain_fit_with_the_seed() {
    let x = four_blobs(200, 3, 11);
    let result = SelectK::new(2..=5).seed(42).n_init(NInit::Runs(2)).n_refs(2).run(x.view()).unwrap();
    for s in result.scores() {
        let model = KMeans::params(s.k).seed(42).n_init(NInit::Runs(2)).fit(x.view()).unwrap();
        assert_eq!(model.inertia(), s.inertia);
        assert_eq!(model.labels(), result.labels(s.k).unwrap());
    }
}

#[test]
fn results_depend_on_the_seed_never_on_threads() {
    let x = four_blobs(300, 2, 5);
    let run = |threads: usize, seed: u64| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| SelectK::new(2..=6).seed(seed).n_refs(3).run(x.view()).unwrap())
    };
    let one = run(1, 9);
    assert_eq!(one, run(3, 9));
    assert_eq!(one, run(1, 9));
    assert_ne!(one.gap_curve(), run(1, 10).gap_curve());
}

#[test]
fn float32_data_is_judged_like_float64() {
    let x = four_blobs(300, 2, 8);
    let result = SelectK::new(2..=6).run(x.mapv(|v| v as f32).view()).unwrap();
    assert_eq!(result.best_k(), 4);
}

#[test]
fn a_silhouette_sample_approximates_the_exact_silhouette() {
    let x = four_blobs(600, 2, 6);
    let exact = SelectK::new(3..=5).n_refs(1).run(x.view()).unwrap();
    let sampled = SelectK::new(3..=5).n_refs(1).silhouette_sample(Some(200)).run(x.view()).unwrap();
    for (e, s) in exact.scores().iter().zip(sampled.scores()) {
        let (e, s) = (e.silhouette.unwrap(), s.silhouette.unwrap());
        assert!((e - s).abs() < 0.05, "exact {e}, sampled {s}");
    }
    // Other scores do not change.
    assert_eq!(exact.scores()[0].calinski_harabasz, sampled.scores()[0].calinski_harabasz);
}

#[test]
fn progress_counts_every_step_and_can_cancel() {
    struct Count {
        steps: Mutex<Vec<(Step, usize, usize)>>,
        stop_after: usize,
        seen: AtomicUsize,
    }
    impl SelectKObserver for Count {
        fn step_finished(&self, step: Step, done: usize, total: usize) {
            self.seen.fetch_add(1, Ordering::Relaxed);
            self.steps.lock().unwrap().push((step, done, total));
        }
        fn should_stop(&self) -> bool {
            self.seen.load(Ordering::Relaxed) >= self.stop_after
        }
    }
    let x = four_blobs(200, 2, 1);
    let count = Count { steps: Mutex::new(Vec::new()), stop_after: usize::MAX, seen: AtomicUsize::new(0) };
    SelectK::new(2..=4).n_refs(2).run_with(x.view(), &count).unwrap();
    let steps = count.steps.into_inner().unwrap();
    // 3 fits and 3 scores for k = 2..4, one fit at k = 1, and 2 references × 4 values of k.
    assert_eq!(steps.len(), 3 + 3 + 1 + 2 * 4);
    assert!(steps.iter().all(|&(_, _, total)| total == steps.len()));
    let mut done: Vec<usize> = steps.iter().map(|s| s.1).collect();
    done.sort_unstable();
    assert_eq!(done, (1..=steps.len()).collect::<Vec<_>>());
    assert!(steps.iter().any(|s| s.0 == Step::Reference { k: 1, reference: 1 }));
    assert!(steps.iter().any(|s| s.0 == Step::Scores { k: 4 }));

    let cancel = Count { steps: Mutex::new(Vec::new()), stop_after: 2, seen: AtomicUsize::new(0) };
    let err = SelectK::new(2..=4).n_refs(2).run_with(x.view(), &cancel).unwrap_err();
    assert!(matches!(err, SelectKError::KMeans(KMeansError::Cancelled)), "{err}");
}

#[test]
fn bad_settings_and_data_are_refused_with_the_value() {
    let x = four_blobs(20, 2, 0);
    let err = |s: SelectK| s.run(x.view()).unwrap_err().to_string();
    #[allow(clippy::reversed_empty_ranges)]
    let empty = 5..=2;
    assert_eq!(
        err(SelectK::new(empty)),
        "the range of k must be non-empty and start at 1 or more, got 5..=2"
    );
    assert_eq!(
        err(SelectK::new(0..=3)),
        "the range of k must be non-empty and start at 1 or more, got 0..=3"
    );
    assert_eq!(err(SelectK::new(2..=21)), "the largest k, 21, exceeds the number of samples, 20");
    assert_eq!(err(SelectK::new(2..=3).n_refs(0)), "n_refs must be >= 1, got 0");
    assert_eq!(
        err(SelectK::new(2..=3).silhouette_sample(Some(1))),
        "the silhouette sample size must be >= 2, got 1"
    );
    assert!(
        err(SelectK::new(2..=3).init(Init::Centers(Array2::zeros((2, 2)))))
            .contains("explicit initial centres")
    );
    assert_eq!(err(SelectK::new(2..=3).max_iter(0)), "max_iter must be >= 1, got 0");
    let mut bad = x.clone();
    bad[[3, 1]] = f64::NAN;
    let e = SelectK::new(2..=3).run(bad.view()).unwrap_err().to_string();
    assert_eq!(e, "the data contains a non-finite value NaN at row 3, column 1");
}

#[test]
fn k_equal_to_n_leaves_the_undefined_scores_empty() {
    // Three points, k = 1..3: the silhouette is undefined at 1 and at 3 (n labels), the gap at 3
    // (zero dispersion).
    let x = ndarray::array![[0.0, 0.0], [1.0, 0.0], [10.0, 0.0]];
    let result = SelectK::new(1..=3).n_refs(2).run(x.view()).unwrap();
    let s = result.scores();
    assert_eq!((s[0].silhouette, s[2].silhouette, s[2].gap), (None, None, None));
    assert!(s[1].silhouette.is_some() && s[1].gap.is_some());
    assert_eq!(result.gap_curve().len(), 3);
    assert!((1..=3).contains(&result.best_k()));
}
