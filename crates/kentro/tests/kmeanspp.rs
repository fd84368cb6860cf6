//! k-means++ quality: kentro's greedy k-means++ and scikit-learn's `kmeans_plusplus` (same
//! number of local trials) give potentials with the same distribution, by a two-sided
//! Mann–Whitney U test at the 1% level over 200 seeds each.

mod common;

use common::{plusplus_cases, to_array};
use kentro::kmeans_plusplus;

fn potential(x: &ndarray::Array2<f64>, centers: &ndarray::Array2<f64>) -> f64 {
    x.outer_iter()
        .map(|r| {
            centers
                .outer_iter()
                .map(|c| r.iter().zip(c.iter()).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
                .fold(f64::INFINITY, f64::min)
        })
        .sum()
}

/// Two-sided p-value of the Mann–Whitney U test (normal approximation with tie correction,
/// continuity-corrected), as `scipy.stats.mannwhitneyu(method="asymptotic")`.
fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<(f64, usize)> = a.iter().map(|&v| (v, 0)).chain(b.iter().map(|&v| (v, 1))).collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let mut ranks = vec![0.0; n];
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        ranks[i..=j].iter_mut().for_each(|r| *r = rank);
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let r1: f64 = all.iter().zip(&ranks).filter(|(v, _)| v.1 == 0).map(|(_, r)| r).sum();
    let u1 = r1 - n1 * (n1 + 1.0) / 2.0;
    let mu = n1 * n2 / 2.0;
    let nt = n1 + n2;
    let sigma = (n1 * n2 / 12.0 * ((nt + 1.0) - tie_term / (nt * (nt - 1.0)))).sqrt();
    let z = ((u1 - mu).abs() - 0.5) / sigma;
    erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function.
fn erfc(x: f64) -> f64 {
    // Numerical Recipes' erfcc: fractional error < 1.2e-7 everywhere.
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398
                                    + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[test]
fn mann_whitney_detects_a_shift_and_accepts_equal_samples() {
    let a: Vec<f64> = (0..200).map(|i| (i as f64 * 0.618).fract()).collect();
    let b: Vec<f64> = (0..200).map(|i| (i as f64 * 0.414).fract()).collect();
    assert!(mann_whitney_p(&a, &b) > 0.05);
    let shifted: Vec<f64> = b.iter().map(|v| v + 0.2).collect();
    assert!(mann_whitney_p(&a, &shifted) < 1e-6);
    assert!((erfc(0.0) - 1.0).abs() < 1e-7 && (erfc(1.0) - 0.157299207).abs() < 1e-7);
}

#[test]
fn potentials_match_sklearn_in_distribution() {
    for case in plusplus_cases() {
        let x = to_array(&case.x);
        assert_eq!(case.n_local_trials, 2 + (case.n_clusters as f64).ln() as usize);
        let ours: Vec<f64> = (0..case.potentials.len() as u64)
            .map(|seed| {
                let (centers, _) = kmeans_plusplus(x.view(), case.n_clusters, None, seed, None).unwrap();
                potential(&x, &centers)
            })
            .collect();
        let p = mann_whitney_p(&ours, &case.potentials);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        println!(
            "{}: kentro mean {:.3}, sklearn mean {:.3}, Mann-Whitney p = {p:.3}",
            case.name,
            mean(&ours),
            mean(&case.potentials)
        );
        assert!(p > 0.01, "{}: potentials differ (p = {p})", case.name);
    }
}

/// Wide rows take the matrix-product path; far-out tight clusters make its rounding large
/// (‖x‖² ≫ distances). Float32 seeding must still be as good as float64 seeding.
#[test]
fn wide_float32_rows_seed_as_well_as_float64() {
    let (x, _) = kentro::datasets::Blobs::new(4000)
        .n_features(32)
        .centers(40)
        .cluster_std(0.01)
        .center_box(-1000.0, 1000.0)
        .seed(3)
        .generate()
        .unwrap();
    let x32 = x.mapv(|v| v as f32);
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mut p64, mut p32) = (Vec::new(), Vec::new());
    for seed in 0..20 {
        let (c, _) = kmeans_plusplus(x.view(), 40, None, seed, None).unwrap();
        p64.push(potential(&x, &c));
        let (c, _) = kmeans_plusplus(x32.view(), 40, None, seed, None).unwrap();
        p32.push(potential(&x, &c.mapv(|v| v as f64)));
    }
    let (m64, m32) = (median(p64), median(p32));
    println!("median potential: f64 {m64:.3}, f32 {m32:.3}");
    assert!(m32 <= 1.25 * m64, "f32 seeding is worse: {m32} vs {m64}");
}
