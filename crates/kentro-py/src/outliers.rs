//! Outlier detection from Python: the core's [`kentro::outliers`] rule over centres the
//! estimator keeps itself. Float64 only (the estimator converts), so fit and scoring agree.

use kentro::outliers::{Contamination, OutlierDetector};
use kentro::{KMeans, KMeansError};
use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::errors::to_py_err;
use crate::threads::compute;

/// A core model with these centres (no labels: scoring uses the nearest centre).
fn centres_model(centers: &PyReadonlyArray2<'_, f64>) -> Result<KMeans<f64>, KMeansError> {
    KMeans::from_parts(centers.as_array().to_owned(), Vec::new(), 0.0, 0)
}

/// Learns each cluster's spread and the threshold from the training data `x` for the centres
/// `centers`: `(spreads, offset, training scores)`. `contamination` None is `auto`.
#[pyfunction]
#[pyo3(signature = (x, centers, contamination, n_threads=0))]
#[allow(clippy::type_complexity)]
pub(crate) fn outlier_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    centers: PyReadonlyArray2<'py, f64>,
    contamination: Option<f64>,
    n_threads: usize,
) -> PyResult<(Bound<'py, PyArray1<f64>>, f64, Bound<'py, PyArray1<f64>>)> {
    let contamination = contamination.map_or(Contamination::Auto, Contamination::Fraction);
    let view = x.as_array();
    let model = centres_model(&centers).map_err(|e| to_py_err(py, e))?;
    let detector = compute(py, n_threads, || OutlierDetector::from_model(model, view, contamination))?;
    Ok((
        PyArray1::from_slice(py, detector.spreads()),
        detector.offset(),
        PyArray1::from_slice(py, detector.training_scores()),
    ))
}

/// `score_samples` of `x`: minus the distance to the nearest centre over its cluster's spread.
#[pyfunction]
#[pyo3(signature = (x, centers, spreads, offset, n_threads=0))]
pub(crate) fn outlier_scores<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    centers: PyReadonlyArray2<'py, f64>,
    spreads: PyReadonlyArray1<'py, f64>,
    offset: f64,
    n_threads: usize,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let view = x.as_array();
    let spreads = spreads.as_array().to_vec();
    let detector = centres_model(&centers)
        .and_then(|m| OutlierDetector::from_parts(m, spreads, offset))
        .map_err(|e| to_py_err(py, e))?;
    let scores = compute(py, n_threads, || detector.score_samples(view))?;
    Ok(PyArray1::from_vec(py, scores))
}
