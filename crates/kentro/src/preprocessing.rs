//! Feature scaling before a fit, remembered by the model: scikit-learn's `StandardScaler` and
//! `MinMaxScaler`.
//!
//! A [`Scaler`] maps each feature `x` to `(x - offset) / divisor`. A model fitted on scaled data
//! carries its scaler ([`crate::KMeans::with_scaler`]), applies it to every input of `predict`,
//! `transform` and `score`, and writes it into the model file, so that data in the original
//! units always meets the centres in the scaled units.
//!
//! ```
//! use kentro::preprocessing::{Scaler, ScaleMethod};
//!
//! let x = ndarray::array![[1.0, 10.0], [3.0, 10.0]];
//! let scaler = Scaler::fit(ScaleMethod::Standard, x.view())?;
//! assert_eq!(scaler.transform(x.view())?, ndarray::array![[-1.0, 0.0], [1.0, 0.0]]);
//! # Ok::<(), kentro::KMeansError>(())
//! ```

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::KMeansError;
use crate::float::Float;
use crate::validate::{check_data, check_width};

/// How features are scaled before clustering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ScaleMethod {
    /// scikit-learn's `StandardScaler`: minus the mean, divided by the population standard
    /// deviation; a feature of (numerically) zero variance is centred only.
    Standard,
    /// scikit-learn's `MinMaxScaler` to `[0, 1]`: minus the minimum, divided by the range; a
    /// constant feature becomes 0.
    #[serde(rename = "minmax")]
    MinMax,
}

impl ScaleMethod {
    /// The method's name in model files and on the command line (`standard`, `minmax`).
    pub fn name(self) -> &'static str {
        match self {
            ScaleMethod::Standard => "standard",
            ScaleMethod::MinMax => "minmax",
        }
    }
}

/// A fitted per-feature affine scaling: `x ↦ (x - offset) / divisor`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaler {
    method: ScaleMethod,
    offset: Vec<f64>,
    divisor: Vec<f64>,
}

impl Scaler {
    /// Learns the scaling of each column of `x` (finite, at least one row and one column).
    /// Statistics are accumulated in `f64` for `f32` data too.
    pub fn fit<F: Float>(method: ScaleMethod, x: ArrayView2<F>) -> Result<Self, KMeansError> {
        check_data(x)?;
        let n = x.nrows() as f64;
        let mut offset = Vec::with_capacity(x.ncols());
        let mut divisor = Vec::with_capacity(x.ncols());
        for column in x.axis_iter(Axis(1)) {
            let values = column.iter().map(|v| v.to_f64());
            match method {
                ScaleMethod::Standard => {
                    let mean = values.clone().sum::<f64>() / n;
                    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                    // scikit-learn's `_is_constant_feature`: a variance within rounding of 0.
                    let eps = f64::EPSILON;
                    let constant = var <= n * eps * var + (n * mean * eps).powi(2);
                    offset.push(mean);
                    divisor.push(if constant { 1.0 } else { var.sqrt() });
                }
                ScaleMethod::MinMax => {
                    let (lo, hi) =
                        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
                    let range = hi - lo;
                    // scikit-learn's `_handle_zeros_in_scale`: a range below 10 ulp of 1 is 1.
                    offset.push(lo);
                    divisor.push(if range < 10.0 * f64::EPSILON { 1.0 } else { range });
                }
            }
        }
        Self::from_parts(method, offset, divisor)
    }

    /// A scaler from its parts, checked as a model file is: one offset and one divisor per
    /// feature, finite offsets, finite positive divisors.
    pub fn from_parts(method: ScaleMethod, offset: Vec<f64>, divisor: Vec<f64>) -> Result<Self, KMeansError> {
        if offset.is_empty() || offset.len() != divisor.len() {
            return Err(KMeansError::Model(format!(
                "a scaler needs one offset and one divisor per feature, got {} and {}",
                offset.len(),
                divisor.len()
            )));
        }
        if offset.iter().any(|v| !v.is_finite()) || divisor.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(KMeansError::Model(
                "a scaler's offsets must be finite and its divisors finite and > 0".into(),
            ));
        }
        Ok(Scaler { method, offset, divisor })
    }

    /// How the scaler was fitted.
    pub fn method(&self) -> ScaleMethod {
        self.method
    }

    /// What is subtracted from each feature (the mean, or the minimum).
    pub fn offset(&self) -> &[f64] {
        &self.offset
    }

    /// What each centred feature is divided by (the standard deviation, or the range; 1 for a
    /// constant feature).
    pub fn divisor(&self) -> &[f64] {
        &self.divisor
    }

    /// The number of features.
    pub fn n_features(&self) -> usize {
        self.offset.len()
    }

    /// `x` scaled, in its own dtype (the arithmetic is done in `f64`). Refuses a width other than
    /// the scaler's and non-finite values, naming the first one in the original units.
    pub fn transform<F: Float>(&self, x: ArrayView2<F>) -> Result<Array2<F>, KMeansError> {
        check_width(x.ncols(), self.n_features())?;
        check_data(x)?;
        Ok(Array2::from_shape_fn(x.dim(), |(i, j)| {
            F::from_f64((x[(i, j)].to_f64() - self.offset[j]) / self.divisor[j])
        }))
    }

    /// Scaled data `x` back in the original units.
    pub fn inverse_transform<F: Float>(&self, x: ArrayView2<F>) -> Result<Array2<F>, KMeansError> {
        check_width(x.ncols(), self.n_features())?;
        check_data(x)?;
        Ok(Array2::from_shape_fn(x.dim(), |(i, j)| {
            F::from_f64(x[(i, j)].to_f64() * self.divisor[j] + self.offset[j])
        }))
    }
}

/// The scaler as the model file stores it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScalerRecord {
    method: ScaleMethod,
    offset: Vec<f64>,
    divisor: Vec<f64>,
}

impl From<&Scaler> for ScalerRecord {
    fn from(s: &Scaler) -> Self {
        ScalerRecord { method: s.method, offset: s.offset.clone(), divisor: s.divisor.clone() }
    }
}

impl TryFrom<ScalerRecord> for Scaler {
    type Error = KMeansError;

    fn try_from(r: ScalerRecord) -> Result<Self, KMeansError> {
        Scaler::from_parts(r.method, r.offset, r.divisor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn standard_uses_the_population_deviation_and_leaves_constant_columns() {
        let x = array![[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [6.0, 5.0]];
        let s = Scaler::fit(ScaleMethod::Standard, x.view()).unwrap();
        assert_eq!(s.offset(), [3.0, 5.0]);
        assert!((s.divisor()[0] - 3.5f64.sqrt()).abs() < 1e-15);
        assert_eq!(s.divisor()[1], 1.0);
        let t = s.transform(x.view()).unwrap();
        assert!(t.column(1).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn minmax_maps_to_the_unit_interval() {
        let x = array![[-2.0, 7.0], [2.0, 7.0], [0.0, 7.0]];
        let s = Scaler::fit(ScaleMethod::MinMax, x.view()).unwrap();
        assert_eq!(s.transform(x.view()).unwrap(), array![[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]]);
    }

    #[test]
    fn inverse_transform_undoes_transform() {
        let x: ndarray::Array2<f64> = array![[0.1, -3.0, 1e5], [2.5, 4.0, 2e5], [7.0, 0.5, -1e5]];
        for method in [ScaleMethod::Standard, ScaleMethod::MinMax] {
            let s = Scaler::fit(method, x.view()).unwrap();
            let back = s.inverse_transform(s.transform(x.view()).unwrap().view()).unwrap();
            for (a, b) in back.iter().zip(&x) {
                assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{method:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn bad_input_and_bad_parts_are_refused() {
        let s = Scaler::fit(ScaleMethod::Standard, array![[1.0, 2.0]].view()).unwrap();
        assert!(matches!(
            s.transform(array![[1.0]].view()),
            Err(KMeansError::FeatureMismatch { got: 1, expected: 2 })
        ));
        assert!(matches!(
            s.transform(array![[1.0, f64::NAN]].view()),
            Err(KMeansError::NonFinite { row: 0, col: 1, .. })
        ));
        assert!(Scaler::from_parts(ScaleMethod::MinMax, vec![0.0], vec![0.0]).is_err());
        assert!(Scaler::from_parts(ScaleMethod::MinMax, vec![0.0, 1.0], vec![1.0]).is_err());
    }
}
