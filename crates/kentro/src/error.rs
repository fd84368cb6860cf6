//! Errors: [`ParamError`] for a bad setting, [`KMeansError`] for everything a fit,
//! a prediction or a model file can refuse.

use thiserror::Error;

/// A parameter of [`crate::KMeansParams`] that cannot be used, with the value given.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ParamError {
    /// `n_clusters` must be at least 1.
    #[error("n_clusters must be >= 1, got {0}")]
    NClusters(usize),
    /// `n_init` must be at least 1 (or `auto`).
    #[error("n_init must be >= 1, got {0}")]
    NInit(usize),
    /// `max_iter` must be at least 1.
    #[error("max_iter must be >= 1, got {0}")]
    MaxIter(usize),
    /// `tol` must be finite and non-negative.
    #[error("tol must be a finite number >= 0, got {0}")]
    Tol(f64),
    /// `n_local_trials` for k-means++ must be at least 1.
    #[error("n_local_trials must be >= 1, got {0}")]
    NLocalTrials(usize),
    /// `make_blobs`: the number of centres must be at least 1.
    #[error("centers must be >= 1, got {0}")]
    BlobCenters(usize),
    /// `make_blobs`: the number of features must be at least 1.
    #[error("n_features must be >= 1, got {0}")]
    BlobFeatures(usize),
    /// `make_blobs`: a cluster standard deviation is negative or not finite, or there is not one
    /// per centre.
    #[error("cluster_std must be finite and >= 0 (one value, or one per centre), got {0}")]
    ClusterStd(String),
    /// A numpy `RandomState` state must have 624 key words and a position of at most 624.
    #[error(
        "a RandomState state has 624 key words and a position <= 624, got {words} words and position {pos}"
    )]
    RandomState {
        /// The key's length.
        words: usize,
        /// The position.
        pos: usize,
    },
    /// `make_blobs`: the centre box must be finite with low < high.
    #[error("center_box must be finite with low < high, got ({0}, {1})")]
    CenterBox(f64, f64),
    /// An explicit initial-centre array has the wrong number of rows.
    #[error("init has {rows} centres but n_clusters is {n_clusters}")]
    InitRows {
        /// Rows of the init array.
        rows: usize,
        /// The requested number of clusters.
        n_clusters: usize,
    },
    /// An explicit initial-centre array contains NaN or infinity.
    #[error("init contains a non-finite value {value} at centre {row}, feature {col}")]
    InitNonFinite {
        /// Centre (row) index.
        row: usize,
        /// Feature (column) index.
        col: usize,
        /// The offending value.
        value: f64,
    },
    /// Outlier detection: `contamination` must be a fraction in (0, 0.5] (or `auto`).
    #[error("contamination must be \"auto\" or a number in (0, 0.5], got {0}")]
    Contamination(f64),
}

/// Why a fit, a prediction or a model file was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KMeansError {
    /// A parameter is invalid.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The data has no rows.
    #[error("the data has no samples (0 rows)")]
    EmptyData,
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
    /// Fewer samples than clusters.
    #[error("n_samples={n_samples} should be >= n_clusters={n_clusters}")]
    TooFewSamples {
        /// Number of samples.
        n_samples: usize,
        /// Number of clusters requested.
        n_clusters: usize,
    },
    /// `sample_weight` has the wrong length.
    #[error("sample_weight has {got} entries, expected {expected} (one per sample)")]
    WeightLength {
        /// Entries given.
        got: usize,
        /// Samples in the data.
        expected: usize,
    },
    /// A sample weight is negative, NaN or infinite.
    #[error("sample_weight[{index}] = {value} is invalid: weights must be finite and >= 0")]
    BadWeight {
        /// Index of the weight.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// Every sample weight is zero.
    #[error("sample weights must contain at least one non-zero number")]
    ZeroWeights,
    /// Explicit initial centres have a different number of features from the data.
    #[error("init has {got} features but the data has {expected}")]
    InitFeatures {
        /// Features of the init array.
        got: usize,
        /// Features of the data.
        expected: usize,
    },
    /// Data given to a fitted model has a different number of features.
    #[error("X has {got} features, but the model is expecting {expected} features as input")]
    FeatureMismatch {
        /// Features of the data given.
        got: usize,
        /// Features the model was fitted on.
        expected: usize,
    },
    /// A result cannot be represented in the data's units (for example an inertia beyond `f64::MAX`).
    #[error("{what} overflows in the data's units (largest |value| {max_abs:e}); rescale the data")]
    Overflow {
        /// What overflowed.
        what: &'static str,
        /// The largest absolute value in the data.
        max_abs: f64,
    },
    /// The sample weights sum to more than the largest finite number.
    #[error("sample weights sum to infinity; scale them down")]
    WeightOverflow,
    /// Reading or writing a model file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The observer asked the fit to stop.
    #[error("the fit was cancelled")]
    Cancelled,
    /// A model file could not be parsed or does not describe a valid model.
    #[error("invalid model file: {0}")]
    Model(String),
    /// A model file has a format version this build does not know.
    #[error(
        "model file format version {found} is not supported (this build reads versions 1 to {supported})"
    )]
    ModelVersion {
        /// Version in the file.
        found: u64,
        /// The newest version this build reads (it reads every version from 1 up to it).
        supported: u64,
    },
    /// A model file's dtype differs from the type requested.
    #[error("model file holds {found} centres, but {expected} was requested")]
    ModelDtype {
        /// dtype in the file.
        found: String,
        /// dtype requested.
        expected: &'static str,
    },
    /// [`Algorithm::Exact1d`](crate::Algorithm::Exact1d) was asked for data with more than one
    /// feature.
    #[error("the exact 1-D algorithm needs data with one feature (d = 1), got d = {n_features}")]
    Exact1dFeatures {
        /// Features of the data.
        n_features: usize,
    },
    /// The arrays given as a CSR matrix do not describe one (the message names the first problem).
    #[error("invalid CSR matrix: {0}")]
    InvalidCsr(String),
    /// Sparse rows were given to a model that scales its input (scaling would densify them).
    #[error(
        "this model scales its input (it was fitted with a scaler), which would make sparse rows dense; \
         pass the rows as a dense array"
    )]
    ScaledSparse,
}
