//! `select_k`: the core's choice of k, seen from Python as a dict of numpy arrays and lists
//! (undefined scores as NaN, the numpy way); `kentro._select_k` builds the result object.

use std::sync::atomic::{AtomicBool, Ordering};

use kentro::select_k::{GapReference, SelectK, SelectKError, SelectKObserver, SelectKResult};
use kentro::{Init, NInit};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{named_error, to_py_err};
use crate::model::Matrix;
use crate::threads::compute_interruptible;

/// Stops the work once Ctrl-C has been seen.
struct Cancel<'a>(&'a AtomicBool);

impl SelectKObserver for Cancel<'_> {
    fn should_stop(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A core refusal as the matching `kentro.exceptions` class.
fn select_k_error(py: Python<'_>, e: SelectKError) -> PyErr {
    match e {
        SelectKError::KMeans(e) => to_py_err(py, e),
        SelectKError::KTooLarge { .. } => named_error(py, "DataError", e.to_string()),
        SelectKError::Metric { .. } => named_error(py, "KentroError", e.to_string()),
        other => named_error(py, "ParameterError", other.to_string()),
    }
}

/// Fits every k of `k_min..=k_max` to `x` and judges them (see `kentro::select_k::SelectK`).
/// Arguments are already checked and converted by `kentro._select_k`.
#[pyfunction]
#[pyo3(signature = (
    x, k_min, k_max, *, n_refs, reference, seed, sample_size, init, n_init, max_iter, tol,
    algorithm, n_threads=0
))]
pub(crate) fn select_k<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    k_min: usize,
    k_max: usize,
    n_refs: usize,
    reference: &str,
    seed: u64,
    sample_size: Option<usize>,
    init: &str,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    algorithm: &str,
    n_threads: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let reference = match reference {
        "box" => GapReference::BoundingBox,
        "pca" => GapReference::PrincipalAxes,
        other => {
            let message = format!("unknown reference {other:?}; expected \"box\" or \"pca\"");
            return Err(named_error(py, "ParameterError", message));
        }
    };
    let init = match init {
        "k-means++" => Init::KMeansPlusPlus,
        "random" => Init::Random,
        other => {
            let message = format!("unknown init {other:?}; expected \"k-means++\" or \"random\"");
            return Err(named_error(py, "ParameterError", message));
        }
    };
    let select = SelectK::new(k_min..=k_max)
        .n_refs(n_refs)
        .reference(reference)
        .seed(seed)
        .silhouette_sample(sample_size)
        .init(init)
        .n_init(NInit::Runs(n_init))
        .max_iter(max_iter)
        .tol(tol)
        .algorithm(crate::parse_algorithm(py, algorithm)?);
    let cancel = AtomicBool::new(false);
    let observer = Cancel(&cancel);
    let outcome = match &x {
        Matrix::F64(a) => {
            let view = a.as_array();
            compute_interruptible(py, n_threads, &cancel, || Ok(select.run_with(view, &observer)))?
        }
        Matrix::F32(a) => {
            let view = a.as_array();
            compute_interruptible(py, n_threads, &cancel, || Ok(select.run_with(view, &observer)))?
        }
    };
    let result = outcome.map_err(|e| select_k_error(py, e))?;
    to_dict(py, &result, x_rows(&x))
}

fn x_rows(x: &Matrix<'_>) -> usize {
    match x {
        Matrix::F64(a) => a.as_array().nrows(),
        Matrix::F32(a) => a.as_array().nrows(),
    }
}

/// The result as plain Python values: per-k float64 arrays (NaN where undefined), the gap curve
/// from k = 1, the knee, each criterion's (name, k or None, reason), the choice, the labels.
fn to_dict<'py>(py: Python<'py>, result: &SelectKResult, n_samples: usize) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let scores = result.scores();
    let nan = |v: Option<f64>| v.unwrap_or(f64::NAN);
    let column = |f: &dyn Fn(&kentro::select_k::KScores) -> f64| scores.iter().map(f).collect::<Vec<f64>>();
    d.set_item("k", PyArray1::from_iter(py, scores.iter().map(|s| s.k as i64)))?;
    d.set_item("inertia", column(&|s| s.inertia).into_pyarray(py))?;
    d.set_item("n_iter", PyArray1::from_iter(py, scores.iter().map(|s| s.n_iter as i64)))?;
    d.set_item("silhouette", column(&|s| nan(s.silhouette)).into_pyarray(py))?;
    d.set_item("calinski_harabasz", column(&|s| nan(s.calinski_harabasz)).into_pyarray(py))?;
    d.set_item("davies_bouldin", column(&|s| nan(s.davies_bouldin)).into_pyarray(py))?;
    d.set_item("gap", column(&|s| nan(s.gap)).into_pyarray(py))?;
    d.set_item("gap_se", column(&|s| nan(s.gap_se)).into_pyarray(py))?;
    let curve = result.gap_curve();
    d.set_item("gap_curve_k", PyArray1::from_iter(py, curve.iter().map(|p| p.k as i64)))?;
    d.set_item("gap_curve_inertia", PyArray1::from_iter(py, curve.iter().map(|p| p.inertia)))?;
    d.set_item("gap_curve_gap", PyArray1::from_iter(py, curve.iter().map(|p| nan(p.gap))))?;
    d.set_item("gap_curve_se", PyArray1::from_iter(py, curve.iter().map(|p| nan(p.gap_se))))?;
    d.set_item("knee", result.knee())?;
    d.set_item("gap_k", result.gap_k())?;
    d.set_item("best_k", result.best_k())?;
    d.set_item("best_reason", result.best_reason())?;
    let recommendations: Vec<(&str, Option<usize>, String)> =
        result.recommendations().iter().map(|r| (r.criterion.name(), r.k, r.reason.clone())).collect();
    d.set_item("recommendations", recommendations)?;
    let labels = ndarray::Array2::from_shape_fn((scores.len(), n_samples), |(i, j)| {
        result.labels(scores[i].k).expect("labels for every k")[j] as i32
    });
    d.set_item("labels", labels.into_pyarray(py))?;
    Ok(d)
}
