//! [`MetricError`]: why a clustering metric refused its input.

use thiserror::Error;

/// Why a metric of data and labels (silhouette, Calinski-Harabasz, Davies-Bouldin) refused
/// its input. Each variant names the value it refused.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum MetricError {
    /// The metric is defined only for 2 ≤ number of distinct labels ≤ n_samples − 1 (as in
    /// scikit-learn).
    #[error(
        "{metric} needs 2 <= number of labels <= n_samples - 1, got {n_labels} label{} for {n_samples} samples",
        if *n_labels == 1 { "" } else { "s" }
    )]
    NumberOfLabels {
        /// The metric's name (`"silhouette"`, `"calinski_harabasz"`, `"davies_bouldin"`).
        metric: &'static str,
        /// Distinct label values found.
        n_labels: usize,
        /// Samples (rows).
        n_samples: usize,
    },
    /// There is not one label per sample.
    #[error("labels has {n_labels} entries but the data has {n_samples} samples (rows)")]
    LengthMismatch {
        /// Entries in the labels.
        n_labels: usize,
        /// Rows of the data.
        n_samples: usize,
    },
    /// The data has no columns.
    #[error("the data has no features (0 columns)")]
    NoFeatures,
    /// A data value is NaN or infinite.
    #[error("the data contains a non-finite value {value} at row {row}, column {col}")]
    NonFinite {
        /// Row (sample) index, from 0.
        row: usize,
        /// Column (feature) index, from 0.
        col: usize,
        /// The offending value.
        value: f64,
    },
    /// The sample size of a sampled silhouette is 0 or larger than the data.
    #[error("sample_size must be >= 1 and <= n_samples ({n_samples}), got {sample_size}")]
    SampleSize {
        /// The requested sample size.
        sample_size: usize,
        /// Rows of the data.
        n_samples: usize,
    },
}
