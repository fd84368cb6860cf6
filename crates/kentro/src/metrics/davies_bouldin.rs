//! The Davies-Bouldin score.

use ndarray::ArrayView2;

use super::MetricError;
use super::data::{Sum, centroids, check, scale_of, sum};
use crate::float::Float;

/// scikit-learn treats a distance as zero when it is within this of 0 (`np.isclose` with its
/// default `atol`), in the data's own units.
const ZERO_ATOL: f64 = 1e-8;

/// The Davies-Bouldin score of a clustering: the mean, over clusters, of the largest
/// `(sᵢ + sⱼ) / d(cᵢ, cⱼ)` over other clusters `j`, where `sᵢ` is the mean distance of cluster
/// `i`'s points to its centroid `cᵢ`. Lower is better; 0 is the minimum. scikit-learn's
/// `davies_bouldin_score`, including its edge cases: 0.0 when every `sᵢ` or every centroid
/// distance is within 1e-8 of zero, and a pair of clusters with coinciding centroids ignored.
///
/// Label values are arbitrary. Distances are direct (`f64`, compensated sums) whatever `F` is.
///
/// ```
/// use kentro::metrics::davies_bouldin_score;
/// let x = ndarray::array![[0.0, 1.0], [1.0, 1.0], [3.0, 4.0]];
/// let db = davies_bouldin_score(x.view(), &[0, 0, 1])?;
/// assert!((db - 0.128037).abs() < 1e-6);
/// # Ok::<(), kentro::metrics::MetricError>(())
/// ```
///
/// # Errors
/// [`MetricError`] if the data has no columns or a non-finite value, if there is not one label
/// per row, or unless 2 ≤ number of distinct labels ≤ n_samples − 1.
pub fn davies_bouldin_score<F: Float>(x: ArrayView2<'_, F>, labels: &[usize]) -> Result<f64, MetricError> {
    let encoded = check("davies_bouldin", x, labels)?;
    let (d, k) = (x.ncols(), encoded.n_labels());
    let scale = scale_of(x);
    let centres = centroids(x, scale, &encoded);
    let centre = |c: usize| &centres[c * d..(c + 1) * d];
    let distance = |a: &[f64], b: &[f64]| sum(a.iter().zip(b).map(|(u, v)| (u - v) * (u - v))).sqrt();

    let mut spread = vec![Sum::default(); k];
    let mut point = vec![0.0; d];
    for (row, &c) in x.rows().into_iter().zip(&encoded.codes) {
        point.iter_mut().zip(row).for_each(|(p, v)| *p = v.to_f64() * scale);
        spread[c].add(distance(&point, centre(c)));
    }
    let spread: Vec<f64> = spread.iter().zip(&encoded.counts).map(|(s, &m)| s.value() / m as f64).collect();
    let between: Vec<f64> = (0..k * k).map(|ij| distance(centre(ij / k), centre(ij % k))).collect();

    let near_zero = |v: &f64| (v / scale).abs() <= ZERO_ATOL;
    if spread.iter().all(near_zero) || between.iter().all(near_zero) {
        return Ok(0.0);
    }
    let scores = (0..k).map(|i| {
        (0..k)
            .filter(|&j| between[i * k + j] != 0.0)
            .map(|j| (spread[i] + spread[j]) / between[i * k + j])
            .fold(0.0f64, f64::max)
    });
    Ok(sum(scores) / k as f64)
}
