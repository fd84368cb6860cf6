//! Anomaly detection with K-Means: a point is as unusual as it is far from its centre, measured
//! in units of its cluster's spread.
//!
//! The rule, shared by every face:
//!
//! - **spread** of cluster `j`: the root-mean-square distance of its training samples to its
//!   centre, `sqrt(inertia_j / n_j)`. A cluster whose spread is 0 (a single sample, or only
//!   duplicates) takes the root-mean-square distance over all training samples instead, and if
//!   that is 0 too (every sample sits on a centre), 1 in the data's units; so scores are always
//!   finite.
//! - **score** of a point (scikit-learn's `score_samples`, higher is more normal): minus its
//!   distance to its nearest centre divided by that cluster's spread.
//! - **offset**: with `contamination = c`, the `100·c`-th percentile of the training scores
//!   (numpy's default linear interpolation), so that a fraction `c` of the training samples falls
//!   below it; with `auto`, [`AUTO_OFFSET`] (−2: farther than twice the cluster's spread).
//!   For Gaussian clusters in `d` dimensions that flags a share `P(χ²_d > 4d)` of them: 4.6% for
//!   `d = 1`, 1.8% for `d = 2`, almost none beyond a few dimensions, where only far points pass.
//! - **decision** = score − offset; a point is an outlier when its decision is negative.
//!
//! The spread is the root-mean-square distance rather than a median because it is what K-Means
//! itself minimises; planted outliers inflate it a little, which the contamination threshold
//! absorbs. A far outlier that K-Means gives a cluster of its own scores as normal (its distance
//! is 0): choose `k` for the normal structure of the data.
//!
//! ```
//! use kentro::{KMeans, datasets::Blobs, outliers::{Contamination, OutlierDetector}};
//!
//! let (mut x, _) = Blobs::new(200).centers(2).cluster_std(0.5).seed(1).generate()?;
//! x[[0, 0]] += 40.0; // one point far away
//! let params = KMeans::params(2).seed(0).check()?;
//! let detector = OutlierDetector::fit(&params, x.view(), Contamination::Fraction(0.005))?;
//! let flagged = detector.predict(x.view())?;
//! assert!(flagged[0]);
//! assert_eq!(flagged.iter().filter(|&&f| f).count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use ndarray::ArrayView2;

use crate::error::{KMeansError, ParamError};
use crate::float::Float;
use crate::model::KMeans;
use crate::params::ValidKMeansParams;

/// The offset for `contamination = auto`: a point farther from its centre than twice its
/// cluster's spread is an outlier.
pub const AUTO_OFFSET: f64 = -2.0;

/// The share of the training data expected to be outliers: it sets the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Contamination {
    /// A fixed threshold, [`AUTO_OFFSET`].
    Auto,
    /// A fraction in (0, 0.5]: that share of the training samples scores below the threshold.
    Fraction(f64),
}

impl Contamination {
    /// Checks a fraction: in (0, 0.5].
    pub fn check(self) -> Result<Self, ParamError> {
        match self {
            Contamination::Fraction(c) if !(c > 0.0 && c <= 0.5) => Err(ParamError::Contamination(c)),
            other => Ok(other),
        }
    }
}

impl std::str::FromStr for Contamination {
    type Err = ParamError;

    /// `auto`, or a number in (0, 0.5].
    fn from_str(text: &str) -> Result<Self, ParamError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("auto") {
            return Ok(Contamination::Auto);
        }
        let value = text.parse::<f64>().map_err(|_| ParamError::Contamination(f64::NAN))?;
        Contamination::Fraction(value).check()
    }
}

/// A fitted K-Means outlier detector: the model, each cluster's spread and the threshold.
#[derive(Debug, Clone)]
pub struct OutlierDetector<F: Float = f64> {
    model: KMeans<F>,
    spreads: Vec<f64>,
    offset: f64,
    training_scores: Vec<f64>,
}

impl<F: Float> OutlierDetector<F> {
    /// Fits K-Means with `params` to `x`, then the spreads and the threshold.
    pub fn fit(
        params: &ValidKMeansParams,
        x: ArrayView2<F>,
        contamination: Contamination,
    ) -> Result<Self, KMeansError> {
        let contamination = contamination.check()?;
        let model = params.fit(x)?;
        Self::from_model(model, x, contamination)
    }

    /// The detector of an already fitted `model`, with spreads and threshold learnt from its
    /// training data `x`.
    pub fn from_model(
        model: KMeans<F>,
        x: ArrayView2<F>,
        contamination: Contamination,
    ) -> Result<Self, KMeansError> {
        let contamination = contamination.check()?;
        let nearest = model.nearest_with_distance(x)?;
        let spreads = spreads(&nearest, model.n_clusters());
        let training_scores: Vec<f64> = nearest.iter().map(|&(j, d)| -d / spreads[j]).collect();
        let offset = match contamination {
            Contamination::Auto => AUTO_OFFSET,
            Contamination::Fraction(c) => percentile(&training_scores, 100.0 * c),
        };
        Ok(OutlierDetector { model, spreads, offset, training_scores })
    }

    /// A detector from its parts, as a face that keeps them itself rebuilds it: one finite spread
    /// `> 0` per cluster and a finite offset.
    pub fn from_parts(model: KMeans<F>, spreads: Vec<f64>, offset: f64) -> Result<Self, KMeansError> {
        if spreads.len() != model.n_clusters() {
            return Err(KMeansError::Model(format!(
                "{} spreads for {} clusters",
                spreads.len(),
                model.n_clusters()
            )));
        }
        if spreads.iter().any(|s| !(s.is_finite() && *s > 0.0)) || !offset.is_finite() {
            return Err(KMeansError::Model("spreads must be finite and > 0, the offset finite".into()));
        }
        Ok(OutlierDetector { model, spreads, offset, training_scores: Vec::new() })
    }

    /// The fitted K-Means model.
    pub fn model(&self) -> &KMeans<F> {
        &self.model
    }

    /// Each cluster's spread (see the [module documentation](self)).
    pub fn spreads(&self) -> &[f64] {
        &self.spreads
    }

    /// The threshold on [`OutlierDetector::score_samples`]: lower scores are outliers.
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// The scores of the training samples, in input order (empty for a detector built by
    /// [`OutlierDetector::from_parts`]).
    pub fn training_scores(&self) -> &[f64] {
        &self.training_scores
    }

    /// Minus each row's distance to its nearest centre over that cluster's spread: higher is
    /// more normal, 0 is a point on a centre.
    pub fn score_samples(&self, x: ArrayView2<F>) -> Result<Vec<f64>, KMeansError> {
        Ok(self.model.nearest_with_distance(x)?.into_iter().map(|(j, d)| -d / self.spreads[j]).collect())
    }

    /// `score_samples − offset`: negative for outliers.
    pub fn decision_function(&self, x: ArrayView2<F>) -> Result<Vec<f64>, KMeansError> {
        Ok(self.score_samples(x)?.into_iter().map(|s| s - self.offset).collect())
    }

    /// Whether each row is an outlier (its decision is negative).
    pub fn predict(&self, x: ArrayView2<F>) -> Result<Vec<bool>, KMeansError> {
        Ok(self.decision_function(x)?.into_iter().map(|d| d < 0.0).collect())
    }
}

/// Each cluster's root-mean-square distance, with the fallbacks of the module documentation.
fn spreads(nearest: &[(usize, f64)], k: usize) -> Vec<f64> {
    let mut sums = vec![0.0f64; k];
    let mut counts = vec![0usize; k];
    for &(j, d) in nearest {
        sums[j] += d * d;
        counts[j] += 1;
    }
    let total: f64 = sums.iter().sum();
    let pooled = (total / nearest.len().max(1) as f64).sqrt();
    let fallback = if pooled > 0.0 && pooled.is_finite() { pooled } else { 1.0 };
    sums.iter()
        .zip(&counts)
        .map(|(&s, &n)| {
            let rms = if n > 0 { (s / n as f64).sqrt() } else { 0.0 };
            if rms > 0.0 && rms.is_finite() { rms } else { fallback }
        })
        .collect()
}

/// numpy's `percentile(values, q)` with its default linear interpolation (`values` not empty).
pub fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let h = (sorted.len() - 1) as f64 * (q / 100.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_interpolates_like_numpy() {
        // np.percentile([1, 2, 3, 4], 10) == 1.3; np.percentile([5], 37) == 5
        assert!((percentile(&[4.0, 1.0, 3.0, 2.0], 10.0) - 1.3).abs() < 1e-12);
        assert_eq!(percentile(&[5.0], 37.0), 5.0);
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 50.0), 2.0);
    }

    #[test]
    fn zero_spread_clusters_fall_back() {
        // Cluster 1 is a single point: it takes the pooled spread.
        let s = spreads(&[(0, 1.0), (0, 3.0), (1, 0.0)], 2);
        assert_eq!(s[0], 5f64.sqrt());
        assert_eq!(s[1], (10.0f64 / 3.0).sqrt());
        // Nothing spreads at all: 1.
        assert_eq!(spreads(&[(0, 0.0), (1, 0.0)], 2), [1.0, 1.0]);
    }

    #[test]
    fn contamination_is_auto_or_a_fraction_up_to_a_half() {
        assert_eq!("auto".parse::<Contamination>(), Ok(Contamination::Auto));
        assert_eq!("0.5".parse::<Contamination>(), Ok(Contamination::Fraction(0.5)));
        assert_eq!("0.6".parse::<Contamination>(), Err(ParamError::Contamination(0.6)));
        assert_eq!("0".parse::<Contamination>(), Err(ParamError::Contamination(0.0)));
        assert!("x".parse::<Contamination>().is_err());
        assert!(Contamination::Fraction(f64::NAN).check().is_err());
    }
}
