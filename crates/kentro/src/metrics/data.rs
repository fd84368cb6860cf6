//! Checks and conversions shared by the metrics of data and labels: labels encoded as
//! `0..n_labels` (scikit-learn's `LabelEncoder`: sorted distinct values), and the data as
//! `f64` rescaled by an exact power of two when its magnitude would make squared distances
//! overflow or underflow. Every such metric is a ratio of distances, so the scale cancels.

use ndarray::ArrayView2;

use super::MetricError;
use crate::float::Float;

/// Labels as codes `0..n_labels` (in the sorted order of the distinct values) and the number of
/// samples of each code.
pub(super) struct Encoded {
    pub(super) codes: Vec<usize>,
    pub(super) counts: Vec<usize>,
}

impl Encoded {
    pub(super) fn new(labels: &[usize]) -> Self {
        let mut classes = labels.to_vec();
        classes.sort_unstable();
        classes.dedup();
        let codes: Vec<usize> =
            labels.iter().map(|l| classes.binary_search(l).expect("every label is a class")).collect();
        let mut counts = vec![0usize; classes.len()];
        for &c in &codes {
            counts[c] += 1;
        }
        Encoded { codes, counts }
    }

    pub(super) fn n_labels(&self) -> usize {
        self.counts.len()
    }
}

/// Checks the data and labels of `metric` (shape, finite values, 2 ≤ labels ≤ n − 1) and encodes
/// the labels.
pub(super) fn check<F: Float>(
    metric: &'static str,
    x: ArrayView2<'_, F>,
    labels: &[usize],
) -> Result<Encoded, MetricError> {
    check_values(x, labels)?;
    let n_samples = x.nrows();
    let encoded = Encoded::new(labels);
    let n_labels = encoded.n_labels();
    if !(2..n_samples).contains(&n_labels) {
        return Err(MetricError::NumberOfLabels { metric, n_labels, n_samples });
    }
    Ok(encoded)
}

/// Checks that the data has columns, only finite values, and one label per row.
pub(super) fn check_values<F: Float>(x: ArrayView2<'_, F>, labels: &[usize]) -> Result<(), MetricError> {
    let n_samples = x.nrows();
    if x.ncols() == 0 {
        return Err(MetricError::NoFeatures);
    }
    if labels.len() != n_samples {
        return Err(MetricError::LengthMismatch { n_labels: labels.len(), n_samples });
    }
    for ((row, col), &v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(MetricError::NonFinite { row, col, value: v.to_f64() });
        }
    }
    Ok(())
}

/// Outside [2⁻³⁰⁰, 2³⁰⁰] the largest magnitude is brought to about 1; inside it, squared
/// distances of f64 data neither overflow nor lose meaningful bits to underflow.
const SAFE_EXP: i32 = 300;

/// The power of two `2^e` (|e| ≤ 1000, so it is a normal f64) that the data is multiplied by.
pub(super) fn scale_of<F: Float>(x: ArrayView2<'_, F>) -> f64 {
    let max = x.iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs()));
    if max == 0.0 {
        return 1.0;
    }
    let e = max.log2().floor() as i32;
    if (-SAFE_EXP..=SAFE_EXP).contains(&e) { 1.0 } else { 2f64.powi((-e).clamp(-1000, 1000)) }
}

/// The mean of each label's rows (`n_labels × d`, row-major), of the data times `scale`, with
/// compensated sums.
pub(super) fn centroids<F: Float>(x: ArrayView2<'_, F>, scale: f64, encoded: &Encoded) -> Vec<f64> {
    let d = x.ncols();
    let mut sums = vec![Sum::default(); encoded.n_labels() * d];
    for (row, &c) in x.rows().into_iter().zip(&encoded.codes) {
        for (s, v) in sums[c * d..(c + 1) * d].iter_mut().zip(row) {
            s.add(v.to_f64() * scale);
        }
    }
    sums.iter().enumerate().map(|(i, s)| s.value() / encoded.counts[i / d] as f64).collect()
}

/// Neumaier's compensated sum: the error does not grow with the number of terms.
#[derive(Clone, Copy, Default)]
pub(super) struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    pub(super) fn add(&mut self, v: f64) {
        let t = self.sum + v;
        if self.sum.abs() >= v.abs() {
            self.compensation += (self.sum - t) + v;
        } else {
            self.compensation += (v - t) + self.sum;
        }
        self.sum = t;
    }

    pub(super) fn value(self) -> f64 {
        self.sum + self.compensation
    }
}

/// The compensated sum of `values`.
pub(super) fn sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut s = Sum::default();
    for v in values {
        s.add(v);
    }
    s.value()
}
