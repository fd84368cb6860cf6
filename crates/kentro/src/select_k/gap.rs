//! The gap statistic (Tibshirani, Walther & Hastie, "Estimating the number of clusters in a data
//! set via the gap statistic", JRSS B 2001): the reference distributions, the statistic and its
//! standard error, and the "smallest k" rule.

use ndarray::{Array2, ArrayView2};

use crate::float::Float;
use crate::parallel::par_blocks_sized;
use crate::rng::Rng;

/// The uniform distribution the data is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GapReference {
    /// Uniform over the data's bounding box, feature by feature (the paper's method (a)).
    #[default]
    BoundingBox,
    /// Uniform over the box of the data's principal axes: the data is centred and rotated onto
    /// its principal components, the box is taken there, and the draws are rotated back (the
    /// paper's method (b), which follows the shape of elongated data).
    PrincipalAxes,
}

/// How to draw reference samples for one data set: a box in a rotated frame.
#[derive(Debug, Clone)]
pub(crate) struct ReferenceBox {
    /// Lower corner and extent of the box, per axis.
    low: Vec<f64>,
    width: Vec<f64>,
    /// The rotation back to the data's features (`d × d`, row-major, one principal axis per
    /// column) and the centre added after it; `None` for the bounding box.
    rotation: Option<(Vec<f64>, Vec<f64>)>,
}

impl ReferenceBox {
    /// The box of `x` for `reference`.
    pub(crate) fn new<F: Float>(x: ArrayView2<F>, reference: GapReference) -> Self {
        let d = x.ncols();
        match reference {
            GapReference::BoundingBox => {
                let (low, high) = column_ranges(x, None);
                let width = low.iter().zip(&high).map(|(l, h)| h - l).collect();
                ReferenceBox { low, width, rotation: None }
            }
            GapReference::PrincipalAxes => {
                let mean = column_means(x);
                let axes = symmetric_eigenvectors(covariance(x, &mean), d);
                let (low, high) = column_ranges(x, Some((&axes, &mean)));
                let width = low.iter().zip(&high).map(|(l, h)| h - l).collect();
                ReferenceBox { low, width, rotation: Some((axes, mean)) }
            }
        }
    }

    /// `n` samples drawn uniformly in the box, from `rng`.
    pub(crate) fn sample<F: Float>(&self, n: usize, rng: &mut Rng) -> Array2<F> {
        let d = self.low.len();
        let mut out = Array2::from_elem((n, d), F::ZERO);
        let mut z = vec![0.0f64; d];
        for mut row in out.outer_iter_mut() {
            for j in 0..d {
                z[j] = self.low[j] + self.width[j] * rng.uniform();
            }
            match &self.rotation {
                None => row.iter_mut().zip(&z).for_each(|(v, &zj)| *v = F::from_f64(zj)),
                Some((axes, mean)) => {
                    for (i, v) in row.iter_mut().enumerate() {
                        let rotated: f64 = (0..d).map(|j| axes[i * d + j] * z[j]).sum();
                        *v = F::from_f64(rotated + mean[i]);
                    }
                }
            }
        }
        out
    }
}

/// The gap at one k from the data's within-cluster dispersion `w` (the inertia) and the
/// references' `w_ref`: `(E*[log W*] − log W, s)` with `s = sd · sqrt(1 + 1/B)`, where `sd` is
/// the standard deviation (divided by B, as in the paper) of the B values `log W*`. `None` when
/// a dispersion is zero (as many clusters as distinct points), where the logarithm is undefined.
pub(crate) fn gap_and_se(w: f64, w_ref: &[f64]) -> Option<(f64, f64, f64)> {
    if w <= 0.0 || w_ref.iter().any(|&v| v <= 0.0) {
        return None;
    }
    let b = w_ref.len() as f64;
    let logs: Vec<f64> = w_ref.iter().map(|v| v.ln()).collect();
    let mean = logs.iter().sum::<f64>() / b;
    let sd = (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / b).sqrt();
    Some((mean - w.ln(), sd * (1.0 + 1.0 / b).sqrt(), mean))
}

/// The gap rule over consecutive evaluated k: the index of the first `k` with
/// `gap(k) >= gap(next) − s(next)`. `Err(true)` when no k passes but the gap is defined to the
/// end (still rising at the top: the rule asks for more clusters than were tried), `Err(false)`
/// when it cannot be applied (fewer than two values, or an undefined gap).
pub(crate) fn gap_rule(gap: &[Option<(f64, f64)>]) -> Result<usize, bool> {
    for i in 0..gap.len().saturating_sub(1) {
        match (gap[i], gap[i + 1]) {
            (Some((g, _)), Some((g_next, s_next))) => {
                if g >= g_next - s_next {
                    return Ok(i);
                }
            }
            _ => return Err(false),
        }
    }
    Err(gap.len() >= 2 && gap.iter().all(Option::is_some))
}

fn column_means<F: Float>(x: ArrayView2<F>) -> Vec<f64> {
    let (n, d) = x.dim();
    let sums = par_blocks_sized(
        1024,
        n,
        (),
        &|s, e, ()| {
            let mut acc = vec![0.0f64; d];
            for row in x.slice(ndarray::s![s..e, ..]).outer_iter() {
                acc.iter_mut().zip(row).for_each(|(a, v)| *a += v.to_f64());
            }
            acc
        },
        &|a: &mut Vec<f64>, b| a.iter_mut().zip(b).for_each(|(a, b)| *a += b),
    );
    sums.into_iter().map(|s| s / n as f64).collect()
}

/// The scatter matrix `Σ (x − mean)(x − mean)ᵀ` (`d × d`, row-major), summed in a fixed order.
fn covariance<F: Float>(x: ArrayView2<F>, mean: &[f64]) -> Vec<f64> {
    let (n, d) = x.dim();
    par_blocks_sized(
        1024,
        n,
        (),
        &|s, e, ()| {
            let mut acc = vec![0.0f64; d * d];
            let mut c = vec![0.0f64; d];
            for row in x.slice(ndarray::s![s..e, ..]).outer_iter() {
                c.iter_mut().zip(row).zip(mean).for_each(|((c, v), m)| *c = v.to_f64() - m);
                for i in 0..d {
                    for j in i..d {
                        acc[i * d + j] += c[i] * c[j];
                    }
                }
            }
            for i in 0..d {
                for j in 0..i {
                    acc[i * d + j] = acc[j * d + i];
                }
            }
            acc
        },
        &|a: &mut Vec<f64>, b| a.iter_mut().zip(b).for_each(|(a, b)| *a += b),
    )
}

/// Per-column (low, high) of `x`, or of its coordinates `(x − centre) · axes` in a rotated frame.
fn column_ranges<F: Float>(x: ArrayView2<F>, frame: Option<(&[f64], &[f64])>) -> (Vec<f64>, Vec<f64>) {
    let (n, d) = x.dim();
    let (low, high) = par_blocks_sized(
        1024,
        n,
        (),
        &|s, e, ()| {
            let mut low = vec![f64::INFINITY; d];
            let mut high = vec![f64::NEG_INFINITY; d];
            let mut c = vec![0.0f64; d];
            for row in x.slice(ndarray::s![s..e, ..]).outer_iter() {
                for j in 0..d {
                    let v = match frame {
                        None => row[j].to_f64(),
                        Some((axes, centre)) => {
                            if j == 0 {
                                c.iter_mut().zip(row).zip(centre).for_each(|((c, v), m)| *c = v.to_f64() - m);
                            }
                            (0..d).map(|i| c[i] * axes[i * d + j]).sum()
                        }
                    };
                    low[j] = low[j].min(v);
                    high[j] = high[j].max(v);
                }
            }
            (low, high)
        },
        &|a: &mut (Vec<f64>, Vec<f64>), b| {
            a.0.iter_mut().zip(b.0).for_each(|(a, b)| *a = a.min(b));
            a.1.iter_mut().zip(b.1).for_each(|(a, b)| *a = a.max(b));
        },
    );
    (low, high)
}

/// The eigenvectors of the symmetric `d × d` matrix `a` (row-major), as the columns of an
/// orthogonal matrix, by cyclic Jacobi rotations (exact to rounding; O(d³) per sweep, a few
/// sweeps).
pub(crate) fn symmetric_eigenvectors(mut a: Vec<f64>, d: usize) -> Vec<f64> {
    let mut v = vec![0.0f64; d * d];
    (0..d).for_each(|i| v[i * d + i] = 1.0);
    let total: f64 = a.iter().map(|x| x * x).sum();
    for _sweep in 0..64 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * d + j].powi(2))
            .sum();
        if off <= 1e-30 * total || off == 0.0 {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (akp, akq) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn gap_and_standard_error_by_hand() {
        // log W = ln 2; log W* = 1, 2, 3: mean 2, sd sqrt(2/3), s = sqrt(2/3) · sqrt(4/3).
        let w_ref = [1f64.exp(), 2f64.exp(), 3f64.exp()];
        let (gap, se, mean) = gap_and_se(2.0, &w_ref).unwrap();
        assert!((gap - (2.0 - 2f64.ln())).abs() < 1e-12);
        assert!((se - (8.0f64 / 9.0).sqrt()).abs() < 1e-12);
        assert!((mean - 2.0).abs() < 1e-12);
        assert_eq!(gap_and_se(0.0, &w_ref), None);
        assert_eq!(gap_and_se(1.0, &[1.0, 0.0]), None);
    }

    #[test]
    fn the_rule_takes_the_smallest_k_within_one_standard_error() {
        let g = |v: &[(f64, f64)]| v.iter().map(|&p| Some(p)).collect::<Vec<_>>();
        // gap(1) = 0 < gap(2) - s(2) = 0.9; gap(2) = 1 >= gap(3) - s(3) = 0.95.
        assert_eq!(gap_rule(&g(&[(0.0, 0.1), (1.0, 0.1), (1.05, 0.1), (1.5, 0.1)])), Ok(1));
        // Uniform-like: gap(1) >= gap(2) - s(2).
        assert_eq!(gap_rule(&g(&[(0.01, 0.05), (0.03, 0.05), (0.02, 0.05)])), Ok(0));
        // Still rising at the top.
        assert_eq!(gap_rule(&g(&[(0.0, 0.1), (1.0, 0.1), (2.0, 0.1)])), Err(true));
        assert_eq!(gap_rule(&g(&[(0.0, 0.1)])), Err(false));
        assert_eq!(gap_rule(&[Some((0.0, 0.1)), None]), Err(false));
    }

    #[test]
    fn bounding_box_draws_stay_in_the_box() {
        let x = array![[0.0, 10.0], [1.0, 12.0], [0.5, 11.0]];
        let refs = ReferenceBox::new(x.view(), GapReference::BoundingBox);
        let z: Array2<f64> = refs.sample(1000, &mut Rng::new(1));
        assert!(z.column(0).iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(z.column(1).iter().all(|v| (10.0..=12.0).contains(v)));
        // They fill it: means near the middle.
        assert!((z.column(0).mean().unwrap() - 0.5).abs() < 0.05);
        assert!((z.column(1).mean().unwrap() - 11.0).abs() < 0.1);
    }

    #[test]
    fn principal_axes_follow_a_diagonal_cloud() {
        // Points on the diagonal y = x: the principal box is a thin segment along it.
        let x = Array2::from_shape_fn((50, 2), |(i, j)| {
            i as f64 + if j == 1 { 0.01 * (i % 2) as f64 } else { 0.0 }
        });
        let refs = ReferenceBox::new(x.view(), GapReference::PrincipalAxes);
        let z: Array2<f64> = refs.sample(500, &mut Rng::new(2));
        for row in z.outer_iter() {
            assert!((row[0] - row[1]).abs() < 0.05, "{row}");
            assert!(row[0] > -0.1 && row[0] < 49.1, "{row}");
        }
    }

    #[test]
    fn jacobi_diagonalises() {
        let d = 4;
        let a = vec![4.0, 1.0, 0.5, 0.0, 1.0, 3.0, 0.2, 0.1, 0.5, 0.2, 2.0, 0.3, 0.0, 0.1, 0.3, 1.0];
        let v = symmetric_eigenvectors(a.clone(), d);
        // Vᵀ A V is diagonal and Vᵀ V = I.
        let at = |m: &[f64], i: usize, j: usize| m[i * d + j];
        for i in 0..d {
            for j in 0..d {
                let vtav: f64 = (0..d)
                    .flat_map(|k| (0..d).map(move |l| (k, l)))
                    .map(|(k, l)| at(&v, k, i) * at(&a, k, l) * at(&v, l, j))
                    .sum();
                let vtv: f64 = (0..d).map(|k| at(&v, k, i) * at(&v, k, j)).sum();
                if i != j {
                    assert!(vtav.abs() < 1e-10, "({i}, {j}) = {vtav}");
                }
                assert!((vtv - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
    }
}
