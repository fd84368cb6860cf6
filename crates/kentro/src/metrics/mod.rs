//! Clustering metrics, with scikit-learn's definitions and edge cases.
//!
//! Judging a clustering by its data (no ground truth): [`silhouette_score`] (and per sample
//! [`silhouette_samples`], or on a random sample [`silhouette_score_sampled`]),
//! [`calinski_harabasz_score`], [`davies_bouldin_score`]. They refuse bad input with a
//! [`MetricError`]: among others, each is defined only for 2 ≤ number of labels ≤ n_samples − 1.
//! Distances are euclidean, computed directly in `f64` for `f32` and `f64` data alike. Data
//! of any finite magnitude works: where squared distances would overflow or underflow `f64`
//! (beyond about 1e±150), the data is rescaled internally by an exact power of two, which these
//! scale-free ratios do not see (scikit-learn's values there are overflow or underflow);
//! Davies-Bouldin's "within 1e-8 of zero" rule is applied in the data's own units.
//!
//! Comparing two labelings of the same samples (e.g. against ground truth):
//! [`adjusted_rand_score`], [`normalized_mutual_info_score`], [`homogeneity_score`],
//! [`completeness_score`], [`v_measure_score`] and [`homogeneity_completeness_v_measure`]. These
//! accept any labelings and panic only if the two differ in length.
//!
//! Labels are arbitrary `usize` values: only which samples share a value matters.

mod calinski_harabasz;
mod data;
mod davies_bouldin;
mod error;
mod information;
mod rand;
mod silhouette;

pub use calinski_harabasz::calinski_harabasz_score;
pub use davies_bouldin::davies_bouldin_score;
pub use error::MetricError;
pub use information::{
    completeness_score, homogeneity_completeness_v_measure, homogeneity_score, normalized_mutual_info_score,
    v_measure_score,
};
pub use rand::adjusted_rand_score;
pub use silhouette::{silhouette_samples, silhouette_score, silhouette_score_sampled};
