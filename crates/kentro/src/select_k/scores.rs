//! The internal cluster-quality scores of one labeling, from [`crate::metrics`].

use ndarray::ArrayView2;

use crate::float::Float;
use crate::metrics;

/// Silhouette, Calinski-Harabasz and Davies-Bouldin of `labels` on `x`; all `None` where they are
/// undefined (fewer than 2 or more than `n − 1` distinct labels, as scikit-learn refuses).
/// `silhouette_sample` computes the silhouette on that many samples drawn with `seed`.
pub(crate) fn cluster_scores<F: Float>(
    x: ArrayView2<F>,
    labels: &[usize],
    silhouette_sample: Option<usize>,
    seed: u64,
) -> Result<Scores, String> {
    let n = labels.len();
    let mut seen = vec![false; labels.iter().max().map_or(0, |&m| m + 1)];
    labels.iter().for_each(|&l| seen[l] = true);
    let distinct = seen.iter().filter(|&&s| s).count();
    if distinct < 2 || distinct > n - 1 {
        return Ok(Scores::default());
    }
    let silhouette = match silhouette_sample {
        Some(size) if size < n => metrics::silhouette_score_sampled(x, labels, size, seed),
        _ => metrics::silhouette_score(x, labels),
    }
    .map_err(|e| e.to_string())?;
    let calinski_harabasz = metrics::calinski_harabasz_score(x, labels).map_err(|e| e.to_string())?;
    let davies_bouldin = metrics::davies_bouldin_score(x, labels).map_err(|e| e.to_string())?;
    Ok(Scores {
        silhouette: Some(silhouette),
        calinski_harabasz: Some(calinski_harabasz),
        davies_bouldin: Some(davies_bouldin),
    })
}

/// The scores of one labeling.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Scores {
    pub(crate) silhouette: Option<f64>,
    pub(crate) calinski_harabasz: Option<f64>,
    pub(crate) davies_bouldin: Option<f64>,
}
