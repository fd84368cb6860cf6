//! Principal component analysis down to two components, to draw data with more than two
//! features. Presentation only: clustering never sees it.
//!
//! The covariance matrix is formed once (`d × d`), and its top two eigenvectors are found by
//! orthogonal (subspace) iteration followed by a Rayleigh–Ritz rotation inside the subspace, so
//! the cost is one pass over the data plus `O(d²)` per iteration.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

const MAX_ITER: usize = 1000;

/// A fitted two-component PCA.
#[derive(Debug, Clone)]
pub struct Pca {
    mean: Array1<f64>,
    /// The principal axes, one unit row each, by decreasing variance.
    axes: Array2<f64>,
    /// The fraction of the total variance along each axis.
    explained: [f64; 2],
}

impl Pca {
    /// Fits the two principal axes of `x` (at least two columns).
    pub fn fit(x: ArrayView2<f64>) -> Pca {
        let d = x.ncols();
        assert!(d >= 2, "PCA to two components needs at least two features");
        let mean = x.mean_axis(Axis(0)).expect("at least one row");
        let centred = &x - &mean;
        let cov = centred.t().dot(&centred) / (x.nrows().max(2) - 1) as f64;
        let total: f64 = cov.diag().sum();
        let (axes, variances) = top_two_eigenvectors(&cov);
        let explained = if total > 0.0 { [variances[0] / total, variances[1] / total] } else { [0.0, 0.0] };
        Pca { mean, axes, explained }
    }

    /// The coordinates of each row of `x` on the two principal axes (`n × 2`).
    pub fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        (&x - &self.mean).dot(&self.axes.t())
    }

    /// The fraction of the variance along the first and second axis.
    pub fn explained_variance_ratio(&self) -> [f64; 2] {
        self.explained
    }
}

/// The two leading eigenvectors (as rows, unit length, largest component positive) of the
/// symmetric positive semi-definite matrix `c`, and their eigenvalues.
fn top_two_eigenvectors(c: &Array2<f64>) -> (Array2<f64>, [f64; 2]) {
    let d = c.nrows();
    // Start from the two columns of `c` with the largest variance: they lie in its range.
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| c[[b, b]].total_cmp(&c[[a, a]]));
    let (mut q1, mut q2) = orthonormal_pair(c.column(order[0]), c.column(order[1]));
    for _ in 0..MAX_ITER {
        let (n1, n2) = orthonormal_pair(c.dot(&q1).view(), c.dot(&q2).view());
        // The new vectors' squared lengths inside the old subspace: 2 when it stopped moving.
        let overlap = n1.dot(&q1).powi(2) + n1.dot(&q2).powi(2) + n2.dot(&q1).powi(2) + n2.dot(&q2).powi(2);
        (q1, q2) = (n1, n2);
        if overlap > 2.0 - 1e-13 {
            break;
        }
    }
    // Rayleigh–Ritz: diagonalise the 2 × 2 restriction of `c` to the subspace.
    let (a, b, e) = (q1.dot(&c.dot(&q1)), q1.dot(&c.dot(&q2)), q2.dot(&c.dot(&q2)));
    let theta = 0.5 * (2.0 * b).atan2(a - e);
    let (sin, cos) = theta.sin_cos();
    let u1 = &q1 * cos + &q2 * sin;
    let u2 = &q2 * cos - &q1 * sin;
    let l1 = a * cos * cos + 2.0 * b * sin * cos + e * sin * sin;
    let l2 = a * sin * sin - 2.0 * b * sin * cos + e * cos * cos;
    let mut axes = Array2::zeros((2, d));
    axes.row_mut(0).assign(&flip_sign(u1));
    axes.row_mut(1).assign(&flip_sign(u2));
    (axes, [l1.max(0.0), l2.max(0.0)])
}

/// Gram–Schmidt on two vectors; a vector that vanishes is replaced by a unit vector orthogonal
/// to the other, so the result is always an orthonormal pair.
fn orthonormal_pair(w1: ArrayView1<f64>, w2: ArrayView1<f64>) -> (Array1<f64>, Array1<f64>) {
    let d = w1.len();
    let scale = w1.iter().chain(w2.iter()).fold(0.0f64, |m, v| m.max(v.abs()));
    let tiny = scale * 1e-12 + f64::MIN_POSITIVE;
    let unit = |i: usize| Array1::from_shape_fn(d, |j| if i == j { 1.0 } else { 0.0 });
    let norm = |v: &Array1<f64>| v.dot(v).sqrt();
    let mut q1 = w1.to_owned();
    if norm(&q1) <= tiny {
        q1 = unit(0);
    }
    q1 /= norm(&q1);
    let mut q2 = &w2 - &(&q1 * q1.dot(&w2));
    if norm(&q2) <= tiny {
        // The basis vector least aligned with q1 has the largest part orthogonal to it.
        let i = (0..d).min_by(|&a, &b| q1[a].abs().total_cmp(&q1[b].abs())).expect("d >= 2");
        q2 = unit(i) - &q1 * q1[i];
    }
    q2 /= norm(&q2);
    (q1, q2)
}

/// The sign convention: the component of largest magnitude is positive.
fn flip_sign(v: Array1<f64>) -> Array1<f64> {
    let largest = v.iter().copied().fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
    if largest < 0.0 { -v } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn finds_the_axes_of_an_elongated_cloud() {
        // Spread 10 along (1, 1, 0)/√2, 1 along (0, 0, 1), nothing along (1, -1, 0).
        let mut rows = Vec::new();
        for i in -5..=5 {
            for j in -1..=1 {
                let (s, t) = (i as f64 * 2.0, j as f64);
                rows.extend([s / 2f64.sqrt(), s / 2f64.sqrt(), t]);
            }
        }
        let x = Array2::from_shape_vec((rows.len() / 3, 3), rows).unwrap();
        let pca = Pca::fit(x.view());
        let r = 1.0 / 2f64.sqrt();
        for (got, want) in pca.axes.row(0).iter().zip([r, r, 0.0]) {
            assert!((got - want).abs() < 1e-9, "{:?}", pca.axes);
        }
        for (got, want) in pca.axes.row(1).iter().zip([0.0, 0.0, 1.0]) {
            assert!((got - want).abs() < 1e-9, "{:?}", pca.axes);
        }
        let [a, b] = pca.explained_variance_ratio();
        assert!((a + b - 1.0).abs() < 1e-9 && a > b);
        let projected = pca.transform(array![[r, r, 0.0]].view());
        assert!((projected[[0, 0]] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn identical_points_do_not_break_it() {
        let x = Array2::from_elem((4, 3), 2.5);
        let pca = Pca::fit(x.view());
        assert_eq!(pca.transform(x.view()), Array2::<f64>::zeros((4, 2)));
        assert_eq!(pca.explained_variance_ratio(), [0.0, 0.0]);
    }

    #[test]
    fn a_rank_one_cloud_gets_an_orthogonal_second_axis() {
        let x = array![[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]];
        let pca = Pca::fit(x.view());
        let dot = pca.axes.row(0).dot(&pca.axes.row(1));
        assert!(dot.abs() < 1e-12);
        assert!((pca.explained_variance_ratio()[0] - 1.0).abs() < 1e-12);
    }
}
