//! CSR input from Python: a scipy.sparse CSR matrix arrives as its three arrays (`data` float64 or
//! float32, viewed without a copy; `indices` and `indptr` as int64, turned into the core's
//! indices) and its shape, and is checked by the core's `CsrView`.

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use kentro::{CsrView, KMeansError};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::errors::{named_error, to_py_err};
use crate::model::{Inner, Model, labels_to_numpy};
use crate::threads::{compute, compute_interruptible};
use crate::{InitArg, PyObserver, SeedArg, kentro_params};

/// The values of a CSR matrix: float64 or float32.
#[derive(FromPyObject)]
enum Values<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
}

impl Values<'_> {
    fn dtype(&self) -> &'static str {
        match self {
            Values::F64(_) => "float64",
            Values::F32(_) => "float32",
        }
    }
}

/// The index arrays of a CSR matrix, as the core's indices.
struct Index {
    indptr: Vec<usize>,
    indices: Vec<usize>,
}

fn to_index(py: Python<'_>, name: &str, a: &PyReadonlyArray1<'_, i64>) -> PyResult<Vec<usize>> {
    a.as_array()
        .iter()
        .map(|&v| {
            usize::try_from(v)
                .map_err(|_| named_error(py, "DataError", format!("invalid CSR matrix: {name} holds {v}")))
        })
        .collect()
}

impl Index {
    fn new(
        py: Python<'_>,
        indptr: &PyReadonlyArray1<'_, i64>,
        indices: &PyReadonlyArray1<'_, i64>,
    ) -> PyResult<Self> {
        Ok(Index { indptr: to_index(py, "indptr", indptr)?, indices: to_index(py, "indices", indices)? })
    }
}

/// Runs `$body` with `$x` bound to the checked CSR view of `$values` (either dtype).
macro_rules! with_csr {
    ($py:expr, $shape:expr, $index:expr, $values:expr, $x:ident => $body:expr) => {
        match $values {
            Values::F64(v) => {
                let v = v.as_slice()?;
                let $x = CsrView::new($shape, &$index.indptr, &$index.indices, v)
                    .map_err(|e| to_py_err($py, e))?;
                $body.map(Inner::F64)
            }
            Values::F32(v) => {
                let v = v.as_slice()?;
                let $x = CsrView::new($shape, &$index.indptr, &$index.indices, v)
                    .map_err(|e| to_py_err($py, e))?;
                $body.map(Inner::F32)
            }
        }
    };
}

/// Fits K-Means to a CSR matrix, with the arguments of `fit` for dense data.
#[pyfunction]
#[pyo3(signature = (
    data, indices, indptr, shape, n_clusters, *, init, n_init, max_iter, tol, seed, algorithm,
    sample_weight=None, n_threads=0, progress=None
))]
fn fit_csr(
    py: Python<'_>,
    data: Values<'_>,
    indices: PyReadonlyArray1<'_, i64>,
    indptr: PyReadonlyArray1<'_, i64>,
    shape: (usize, usize),
    n_clusters: usize,
    init: InitArg<'_>,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    seed: SeedArg<'_>,
    algorithm: &str,
    sample_weight: Option<PyReadonlyArray1<'_, f64>>,
    n_threads: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<Model> {
    let params = kentro_params(py, n_clusters, init, n_init, max_iter, tol, seed, algorithm)?;
    let index = Index::new(py, &indptr, &indices)?;
    let weights = sample_weight.as_ref().map(|w| w.as_array());
    let cancel = AtomicBool::new(false);
    let observer =
        PyObserver { cancel: &cancel, progress: progress.as_ref(), error: Mutex::new(None), signals: None };
    let fitted: PyResult<Inner> = with_csr!(py, shape, index, &data, x => {
        compute_interruptible(py, n_threads, &cancel, || params.fit_csr_with(x, weights, &observer))
    });
    if let Some(e) = observer.error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    fitted.map(|inner| Model { inner })
}

fn dtype_mismatch(py: Python<'_>, model: &Model, data: &Values<'_>) -> PyErr {
    let model = match model.inner {
        Inner::F32(_) => "float32",
        Inner::F64(_) => "float64",
    };
    named_error(
        py,
        "DTypeError",
        format!("the model holds {model} centres but X is {}; convert one to the other", data.dtype()),
    )
}

/// Runs `$body` with `$m` the model and `$x` the CSR view, both of one dtype.
macro_rules! with_model_csr {
    ($py:expr, $model:expr, $shape:expr, $index:expr, $values:expr, $m:ident, $x:ident => $body:expr) => {
        match (&$model.inner, $values) {
            (Inner::F64($m), Values::F64(v)) => {
                let v = v.as_slice()?;
                let $x = CsrView::new($shape, &$index.indptr, &$index.indices, v)
                    .map_err(|e| to_py_err($py, e))?;
                $body
            }
            (Inner::F32($m), Values::F32(v)) => {
                let v = v.as_slice()?;
                let $x = CsrView::new($shape, &$index.indptr, &$index.indices, v)
                    .map_err(|e| to_py_err($py, e))?;
                $body
            }
            _ => return Err(dtype_mismatch($py, $model, $values)),
        }
    };
}

/// The nearest centre of each row of a CSR matrix (same dtype as the model), as int32.
#[pyfunction]
#[pyo3(signature = (model, data, indices, indptr, shape, n_threads=0))]
fn predict_csr<'py>(
    py: Python<'py>,
    model: &Model,
    data: Values<'py>,
    indices: PyReadonlyArray1<'py, i64>,
    indptr: PyReadonlyArray1<'py, i64>,
    shape: (usize, usize),
    n_threads: usize,
) -> PyResult<Bound<'py, PyArray1<i32>>> {
    let index = Index::new(py, &indptr, &indices)?;
    let labels =
        with_model_csr!(py, model, shape, index, &data, m, x => compute(py, n_threads, || m.predict_csr(x))?);
    Ok(labels_to_numpy(py, &labels))
}

/// The distance of each row of a CSR matrix to every centre (a dense array).
#[pyfunction]
#[pyo3(signature = (model, data, indices, indptr, shape, n_threads=0))]
fn transform_csr<'py>(
    py: Python<'py>,
    model: &Model,
    data: Values<'py>,
    indices: PyReadonlyArray1<'py, i64>,
    indptr: PyReadonlyArray1<'py, i64>,
    shape: (usize, usize),
    n_threads: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let index = Index::new(py, &indptr, &indices)?;
    Ok(with_model_csr!(py, model, shape, index, &data, m, x => {
        compute(py, n_threads, || m.transform_csr(x))?.into_pyarray(py).into_any()
    }))
}

/// Minus the (weighted) inertia of the rows of a CSR matrix against the centres.
#[pyfunction]
#[pyo3(signature = (model, data, indices, indptr, shape, sample_weight=None, n_threads=0))]
fn score_csr(
    py: Python<'_>,
    model: &Model,
    data: Values<'_>,
    indices: PyReadonlyArray1<'_, i64>,
    indptr: PyReadonlyArray1<'_, i64>,
    shape: (usize, usize),
    sample_weight: Option<PyReadonlyArray1<'_, f64>>,
    n_threads: usize,
) -> PyResult<f64> {
    let index = Index::new(py, &indptr, &indices)?;
    let weights = sample_weight.as_ref().map(|w| w.as_array());
    let score: Result<f64, KMeansError> = with_model_csr!(py, model, shape, index, &data, m, x => Ok(compute(py, n_threads, || m.score_csr(x, weights))?));
    score.map_err(|e| to_py_err(py, e))
}

/// Adds the CSR functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit_csr, m)?)?;
    m.add_function(wrap_pyfunction!(predict_csr, m)?)?;
    m.add_function(wrap_pyfunction!(transform_csr, m)?)?;
    m.add_function(wrap_pyfunction!(score_csr, m)?)?;
    Ok(())
}
