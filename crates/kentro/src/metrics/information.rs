//! Information-theoretic comparisons of two labelings: normalized mutual information,
//! homogeneity, completeness and V-measure, with scikit-learn's formulas and edge cases.
//! Natural logarithms; counts as `f64`; sums compensated.

use super::data::{Encoded, sum};

/// The counts of the two labelings and of their non-empty cells, from which every metric here
/// is computed.
struct Contingency {
    /// Samples.
    n: usize,
    /// Samples per class of `labels_true`.
    rows: Vec<usize>,
    /// Samples per cluster of `labels_pred`.
    cols: Vec<usize>,
    /// (class, cluster, samples) of each non-empty cell, in class then cluster order.
    cells: Vec<(usize, usize, usize)>,
}

impl Contingency {
    fn new(labels_true: &[usize], labels_pred: &[usize]) -> Self {
        assert_eq!(
            labels_true.len(),
            labels_pred.len(),
            "labels_true and labels_pred must have the same length"
        );
        let (t, p) = (Encoded::new(labels_true), Encoded::new(labels_pred));
        let mut pairs: Vec<(usize, usize)> = t.codes.iter().copied().zip(p.codes.iter().copied()).collect();
        pairs.sort_unstable();
        let mut cells: Vec<(usize, usize, usize)> = Vec::new();
        for (a, b) in pairs {
            match cells.last_mut() {
                Some((x, y, m)) if (*x, *y) == (a, b) => *m += 1,
                _ => cells.push((a, b, 1)),
            }
        }
        Contingency { n: labels_true.len(), rows: t.counts, cols: p.counts, cells }
    }

    /// The mutual information of the two labelings (scikit-learn's `mutual_info_score`).
    fn mutual_info(&self) -> f64 {
        if self.rows.len() == 1 || self.cols.len() == 1 {
            return 0.0;
        }
        let n = self.n as f64;
        let log_n = n.ln();
        let terms = self.cells.iter().map(|&(a, b, m)| {
            let share = m as f64 / n;
            let outer = (self.rows[a] as u128 * self.cols[b] as u128) as f64;
            let term = share * ((m as f64).ln() - log_n) + share * (-outer.ln() + log_n + log_n);
            if term.abs() < f64::EPSILON { 0.0 } else { term }
        });
        sum(terms).max(0.0)
    }
}

/// The entropy of a labeling with these counts per label (1.0 for no samples, as scikit-learn).
fn entropy(counts: &[usize], n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    if counts.len() == 1 {
        return 0.0;
    }
    let n = n as f64;
    let log_n = n.ln();
    -sum(counts.iter().map(|&m| (m as f64 / n) * ((m as f64).ln() - log_n)))
}

/// The normalized mutual information of two labelings, normalised by the arithmetic mean of
/// their entropies: 1 for identical partitions (up to renaming), 0 for independent ones,
/// symmetric. scikit-learn's `normalized_mutual_info_score` with `average_method="arithmetic"`,
/// including its edge cases: 1.0 when both labelings have one label (or no samples), 0.0 when
/// the mutual information is 0.
///
/// ```
/// use kentro::metrics::normalized_mutual_info_score;
/// assert_eq!(normalized_mutual_info_score(&[0, 0, 1, 1], &[5, 5, 2, 2]), 1.0);
/// assert_eq!(normalized_mutual_info_score(&[0, 0, 1, 1], &[0, 1, 0, 1]), 0.0);
/// ```
///
/// # Panics
/// If the two slices differ in length.
pub fn normalized_mutual_info_score(labels_true: &[usize], labels_pred: &[usize]) -> f64 {
    let table = Contingency::new(labels_true, labels_pred);
    let (classes, clusters) = (table.rows.len(), table.cols.len());
    if classes == clusters && classes <= 1 {
        return 1.0;
    }
    let mi = table.mutual_info();
    if mi == 0.0 {
        return 0.0;
    }
    let normalizer = (entropy(&table.rows, table.n) + entropy(&table.cols, table.n)) / 2.0;
    mi / normalizer
}

/// Homogeneity, completeness and their weighted harmonic mean, the V-measure, of a clustering
/// `labels_pred` against classes `labels_true`, in one pass. Homogeneity is 1 when each cluster
/// holds members of one class only; completeness is 1 when each class lies in one cluster.
/// `beta` weighs them: above 1 completeness counts more. scikit-learn's
/// `homogeneity_completeness_v_measure`, including its edge cases: (1, 1, 1) for no samples,
/// homogeneity 1 when there is one class, completeness 1 when there is one cluster. With
/// `beta = 0` and completeness 0 (where scikit-learn divides by zero) the V-measure is 0.
///
/// ```
/// use kentro::metrics::homogeneity_completeness_v_measure;
/// // Each cluster holds one class, but class 0 is split: homogeneous, not complete.
/// let (h, c, v) = homogeneity_completeness_v_measure(&[0, 0, 1, 1], &[0, 1, 2, 2], 1.0);
/// assert!((h - 1.0).abs() < 1e-15 && (c - 2.0 / 3.0).abs() < 1e-15 && (v - 0.8).abs() < 1e-15);
/// ```
///
/// # Panics
/// If the two slices differ in length, or `beta` is negative or NaN.
pub fn homogeneity_completeness_v_measure(
    labels_true: &[usize],
    labels_pred: &[usize],
    beta: f64,
) -> (f64, f64, f64) {
    assert!(beta >= 0.0, "beta must be >= 0, got {beta}");
    let table = Contingency::new(labels_true, labels_pred);
    if table.n == 0 {
        return (1.0, 1.0, 1.0);
    }
    let entropy_true = entropy(&table.rows, table.n);
    let entropy_pred = entropy(&table.cols, table.n);
    let mi = table.mutual_info();
    let homogeneity = if entropy_true != 0.0 { mi / entropy_true } else { 1.0 };
    let completeness = if entropy_pred != 0.0 { mi / entropy_pred } else { 1.0 };
    // scikit-learn gives 0 when both are 0, and divides by zero when beta = 0 and completeness
    // is 0: that limit is 0 too.
    let denominator = beta * homogeneity + completeness;
    let v_measure = if homogeneity + completeness == 0.0 || denominator == 0.0 {
        0.0
    } else {
        (1.0 + beta) * homogeneity * completeness / denominator
    };
    (homogeneity, completeness, v_measure)
}

/// Homogeneity: 1 when each cluster of `labels_pred` holds members of one class of
/// `labels_true` only (see [`homogeneity_completeness_v_measure`]). scikit-learn's
/// `homogeneity_score`.
///
/// ```
/// use kentro::metrics::homogeneity_score;
/// assert!((homogeneity_score(&[0, 0, 1, 1], &[0, 1, 2, 3]) - 1.0).abs() < 1e-15);
/// ```
///
/// # Panics
/// If the two slices differ in length.
pub fn homogeneity_score(labels_true: &[usize], labels_pred: &[usize]) -> f64 {
    homogeneity_completeness_v_measure(labels_true, labels_pred, 1.0).0
}

/// Completeness: 1 when all members of each class of `labels_true` are in one cluster of
/// `labels_pred` (see [`homogeneity_completeness_v_measure`]). scikit-learn's
/// `completeness_score`.
///
/// ```
/// use kentro::metrics::completeness_score;
/// assert!((completeness_score(&[0, 1, 2, 3], &[0, 0, 1, 1]) - 1.0).abs() < 1e-15);
/// ```
///
/// # Panics
/// If the two slices differ in length.
pub fn completeness_score(labels_true: &[usize], labels_pred: &[usize]) -> f64 {
    homogeneity_completeness_v_measure(labels_true, labels_pred, 1.0).1
}

/// The V-measure: the weighted harmonic mean of homogeneity and completeness, with completeness
/// weighted `beta` times as much (see [`homogeneity_completeness_v_measure`]); equal to
/// [`normalized_mutual_info_score`] for `beta = 1`. scikit-learn's `v_measure_score`.
///
/// ```
/// use kentro::metrics::v_measure_score;
/// assert_eq!(v_measure_score(&[0, 0, 1, 1], &[1, 1, 0, 0], 1.0), 1.0);
/// ```
///
/// # Panics
/// If the two slices differ in length, or `beta` is negative or NaN.
pub fn v_measure_score(labels_true: &[usize], labels_pred: &[usize], beta: f64) -> f64 {
    homogeneity_completeness_v_measure(labels_true, labels_pred, beta).2
}
