//! The adjusted Rand index.

use std::collections::HashMap;

/// The adjusted Rand index of two labelings of the same samples: 1 for identical partitions
/// (up to renaming), about 0 for independent ones, symmetric. scikit-learn's
/// `adjusted_rand_score`, computed from the pair confusion matrix.
///
/// ```
/// use kentro::metrics::adjusted_rand_score;
/// assert_eq!(adjusted_rand_score(&[0, 0, 1, 1], &[1, 1, 0, 0]), 1.0);
/// ```
///
/// # Panics
/// If the two slices differ in length.
pub fn adjusted_rand_score(labels_true: &[usize], labels_pred: &[usize]) -> f64 {
    assert_eq!(labels_true.len(), labels_pred.len(), "labelings must have the same length");
    let n = labels_true.len() as f64;
    let mut cells: HashMap<(usize, usize), f64> = HashMap::new();
    let mut rows: HashMap<usize, f64> = HashMap::new();
    let mut cols: HashMap<usize, f64> = HashMap::new();
    for (&a, &b) in labels_true.iter().zip(labels_pred) {
        *cells.entry((a, b)).or_default() += 1.0;
        *rows.entry(a).or_default() += 1.0;
        *cols.entry(b).or_default() += 1.0;
    }
    // Pair confusion matrix, as sklearn.metrics.cluster.pair_confusion_matrix.
    let sum_squares: f64 = cells.values().map(|c| c * c).sum();
    let tp = sum_squares - n;
    let fp = cells.iter().map(|(&(_, b), c)| c * cols[&b]).sum::<f64>() - sum_squares;
    let fn_ = cells.iter().map(|(&(a, _), c)| c * rows[&a]).sum::<f64>() - sum_squares;
    let tn = n * n - fp - fn_ - sum_squares;
    if fn_ == 0.0 && fp == 0.0 {
        return 1.0;
    }
    2.0 * (tp * tn - fn_ * fp) / ((tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_sklearn_values() {
        // Values printed by sklearn.metrics.adjusted_rand_score.
        assert!((adjusted_rand_score(&[0, 0, 1, 2], &[0, 0, 1, 1]) - 0.5714285714285714).abs() < 1e-15);
        assert!((adjusted_rand_score(&[0, 0, 1, 1], &[0, 1, 0, 1]) - -0.5).abs() < 1e-15);
        assert_eq!(adjusted_rand_score(&[0, 0, 0], &[0, 0, 0]), 1.0);
        assert_eq!(adjusted_rand_score(&[0, 1, 2], &[5, 6, 7]), 1.0);
        assert_eq!(adjusted_rand_score(&[], &[]), 1.0);
    }
}
