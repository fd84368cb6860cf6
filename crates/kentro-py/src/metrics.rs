//! Glue for `kentro.metrics`: clustering metrics of data and labels, and of two labelings.
//! Labels arrive as non-negative integer codes (the Python side encodes any label values);
//! refusals of the core become `kentro.exceptions` instances.

use kentro::metrics::{self, MetricError};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::errors::named_error;
use crate::model::Matrix;
use crate::threads::compute;

/// Adds this file's functions to the module `kentro._kentro`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(silhouette_samples, m)?)?;
    m.add_function(wrap_pyfunction!(silhouette_score, m)?)?;
    m.add_function(wrap_pyfunction!(silhouette_score_sampled, m)?)?;
    m.add_function(wrap_pyfunction!(calinski_harabasz_score, m)?)?;
    m.add_function(wrap_pyfunction!(davies_bouldin_score, m)?)?;
    m.add_function(wrap_pyfunction!(normalized_mutual_info_score, m)?)?;
    m.add_function(wrap_pyfunction!(homogeneity_completeness_v_measure, m)?)?;
    Ok(())
}

/// Label codes as `usize`; a negative code is a `DataError`.
fn codes(py: Python<'_>, labels: &PyReadonlyArray1<'_, i64>) -> PyResult<Vec<usize>> {
    labels
        .as_array()
        .iter()
        .map(|&v| {
            usize::try_from(v)
                .map_err(|_| named_error(py, "DataError", format!("label code {v} is negative")))
        })
        .collect()
}

/// A core refusal as the matching `kentro.exceptions` instance.
fn metric_error(py: Python<'_>, e: MetricError) -> PyErr {
    let class = match e {
        MetricError::SampleSize { .. } => "ParameterError",
        _ => "DataError",
    };
    named_error(py, class, e.to_string())
}

/// Runs a metric of data and labels on the float64 or float32 matrix `x` in a pool of
/// `n_threads` threads with the GIL released.
fn data_metric<T: Send>(
    py: Python<'_>,
    x: &Matrix<'_>,
    labels: &PyReadonlyArray1<'_, i64>,
    n_threads: usize,
    metric64: impl FnOnce(ndarray::ArrayView2<'_, f64>, &[usize]) -> Result<T, MetricError> + Send,
    metric32: impl FnOnce(ndarray::ArrayView2<'_, f32>, &[usize]) -> Result<T, MetricError> + Send,
) -> PyResult<T> {
    let labels = codes(py, labels)?;
    let result = match x {
        Matrix::F64(a) => {
            let view = a.as_array();
            compute(py, n_threads, || Ok(metric64(view, &labels)))?
        }
        Matrix::F32(a) => {
            let view = a.as_array();
            compute(py, n_threads, || Ok(metric32(view, &labels)))?
        }
    };
    result.map_err(|e| metric_error(py, e))
}

/// The silhouette coefficient of every sample (float64).
#[pyfunction]
#[pyo3(signature = (x, labels, n_threads=0))]
fn silhouette_samples<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    labels: PyReadonlyArray1<'py, i64>,
    n_threads: usize,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let values = data_metric(
        py,
        &x,
        &labels,
        n_threads,
        metrics::silhouette_samples::<f64>,
        metrics::silhouette_samples::<f32>,
    )?;
    Ok(values.into_pyarray(py))
}

/// The mean silhouette coefficient of all samples.
#[pyfunction]
#[pyo3(signature = (x, labels, n_threads=0))]
fn silhouette_score(
    py: Python<'_>,
    x: Matrix<'_>,
    labels: PyReadonlyArray1<'_, i64>,
    n_threads: usize,
) -> PyResult<f64> {
    data_metric(
        py,
        &x,
        &labels,
        n_threads,
        metrics::silhouette_score::<f64>,
        metrics::silhouette_score::<f32>,
    )
}

/// The mean silhouette coefficient of `sample_size` samples drawn with the core's generator.
#[pyfunction]
#[pyo3(signature = (x, labels, sample_size, seed, n_threads=0))]
fn silhouette_score_sampled(
    py: Python<'_>,
    x: Matrix<'_>,
    labels: PyReadonlyArray1<'_, i64>,
    sample_size: usize,
    seed: u64,
    n_threads: usize,
) -> PyResult<f64> {
    data_metric(
        py,
        &x,
        &labels,
        n_threads,
        |x, l| metrics::silhouette_score_sampled(x, l, sample_size, seed),
        |x, l| metrics::silhouette_score_sampled(x, l, sample_size, seed),
    )
}

/// The Calinski-Harabasz score.
#[pyfunction]
#[pyo3(signature = (x, labels, n_threads=0))]
fn calinski_harabasz_score(
    py: Python<'_>,
    x: Matrix<'_>,
    labels: PyReadonlyArray1<'_, i64>,
    n_threads: usize,
) -> PyResult<f64> {
    data_metric(
        py,
        &x,
        &labels,
        n_threads,
        metrics::calinski_harabasz_score::<f64>,
        metrics::calinski_harabasz_score::<f32>,
    )
}

/// The Davies-Bouldin score.
#[pyfunction]
#[pyo3(signature = (x, labels, n_threads=0))]
fn davies_bouldin_score(
    py: Python<'_>,
    x: Matrix<'_>,
    labels: PyReadonlyArray1<'_, i64>,
    n_threads: usize,
) -> PyResult<f64> {
    data_metric(
        py,
        &x,
        &labels,
        n_threads,
        metrics::davies_bouldin_score::<f64>,
        metrics::davies_bouldin_score::<f32>,
    )
}

/// Both labelings as `usize` codes, refusing different lengths.
fn labelings(
    py: Python<'_>,
    labels_true: &PyReadonlyArray1<'_, i64>,
    labels_pred: &PyReadonlyArray1<'_, i64>,
) -> PyResult<(Vec<usize>, Vec<usize>)> {
    let (t, p) = (codes(py, labels_true)?, codes(py, labels_pred)?);
    if t.len() != p.len() {
        let message =
            format!("labels_true and labels_pred must have the same length, got {} and {}", t.len(), p.len());
        return Err(named_error(py, "DataError", message));
    }
    Ok((t, p))
}

/// Normalized mutual information (arithmetic mean of the entropies).
#[pyfunction]
fn normalized_mutual_info_score(
    py: Python<'_>,
    labels_true: PyReadonlyArray1<'_, i64>,
    labels_pred: PyReadonlyArray1<'_, i64>,
) -> PyResult<f64> {
    let (t, p) = labelings(py, &labels_true, &labels_pred)?;
    compute(py, 1, || Ok(metrics::normalized_mutual_info_score(&t, &p)))
}

/// Homogeneity, completeness and V-measure; `beta` must be >= 0 (checked here: the core panics).
#[pyfunction]
#[pyo3(signature = (labels_true, labels_pred, beta=1.0))]
fn homogeneity_completeness_v_measure(
    py: Python<'_>,
    labels_true: PyReadonlyArray1<'_, i64>,
    labels_pred: PyReadonlyArray1<'_, i64>,
    beta: f64,
) -> PyResult<(f64, f64, f64)> {
    if beta.is_nan() || beta < 0.0 {
        return Err(named_error(py, "ParameterError", format!("beta must be >= 0, got {beta}")));
    }
    let (t, p) = labelings(py, &labels_true, &labels_pred)?;
    compute(py, 1, || Ok(metrics::homogeneity_completeness_v_measure(&t, &p, beta)))
}
