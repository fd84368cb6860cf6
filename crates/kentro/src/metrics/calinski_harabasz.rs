//! The Calinski-Harabasz score (variance ratio criterion).

use ndarray::ArrayView2;

use super::MetricError;
use super::data::{Sum, centroids, check, scale_of, sum};
use crate::float::Float;

/// The Calinski-Harabasz score of a clustering: between-cluster dispersion over within-cluster
/// dispersion, each divided by its degrees of freedom, `B (n − k) / (W (k − 1))`. Higher is
/// better. scikit-learn's `calinski_harabasz_score`, including its edge case: 1.0 when every
/// cluster is a single point repeated (no within-cluster dispersion).
///
/// Label values are arbitrary (only which samples share one matters). Sums are in `f64`
/// whatever `F` is, compensated, so `f32` data gives scikit-learn's value for the same numbers
/// in `f64`.
///
/// ```
/// use kentro::metrics::calinski_harabasz_score;
/// let x = ndarray::array![[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]];
/// assert_eq!(calinski_harabasz_score(x.view(), &[3, 3, 7, 7])?, 200.0);
/// # Ok::<(), kentro::metrics::MetricError>(())
/// ```
///
/// # Errors
/// [`MetricError`] if the data has no columns or a non-finite value, if there is not one label
/// per row, or unless 2 ≤ number of distinct labels ≤ n_samples − 1.
pub fn calinski_harabasz_score<F: Float>(x: ArrayView2<'_, F>, labels: &[usize]) -> Result<f64, MetricError> {
    let encoded = check("calinski_harabasz", x, labels)?;
    let (n, d, k) = (x.nrows(), x.ncols(), encoded.n_labels());
    let scale = scale_of(x);
    let centres = centroids(x, scale, &encoded);
    let mean: Vec<f64> = (0..d)
        .map(|f| sum((0..k).map(|c| centres[c * d + f] * encoded.counts[c] as f64)) / n as f64)
        .collect();
    let extra = sum((0..k).map(|c| {
        let shift = sum(centres[c * d..(c + 1) * d].iter().zip(&mean).map(|(a, b)| (a - b) * (a - b)));
        encoded.counts[c] as f64 * shift
    }));
    let mut intra = Sum::default();
    for (row, &c) in x.rows().into_iter().zip(&encoded.codes) {
        let centre = &centres[c * d..(c + 1) * d];
        intra.add(sum(row.iter().zip(centre).map(|(v, m)| {
            let t = v.to_f64() * scale - m;
            t * t
        })));
    }
    let intra = intra.value();
    Ok(if intra == 0.0 { 1.0 } else { extra * (n - k) as f64 / (intra * (k as f64 - 1.0)) })
}
