//! `Model`: a fitted core model (float32 or float64) seen from Python.

use kentro::{FitWarning, Float, KMeans, KMeansError};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use serde::Deserialize;

use crate::errors::{named_error, to_py_err};
use crate::threads::{compute, compute_here};

/// A 2-D float array from Python: float64 or float32, viewed without a copy.
#[derive(FromPyObject)]
pub(crate) enum Matrix<'py> {
    /// float64 data.
    F64(PyReadonlyArray2<'py, f64>),
    /// float32 data.
    F32(PyReadonlyArray2<'py, f32>),
}

impl Matrix<'_> {
    fn dtype(&self) -> &'static str {
        match self {
            Matrix::F64(_) => f64::DTYPE,
            Matrix::F32(_) => f32::DTYPE,
        }
    }
}

/// The core model, in the dtype it was fitted (or loaded) in.
pub(crate) enum Inner {
    F32(KMeans<f32>),
    F64(KMeans<f64>),
}

/// A fitted K-Means model from kentro's Rust core.
#[pyclass(module = "kentro._kentro", name = "Model", frozen)]
pub(crate) struct Model {
    pub(crate) inner: Inner,
}

/// Runs `$body` with `$m` bound to the model, whatever its dtype.
macro_rules! with_model {
    ($inner:expr, $m:ident => $body:expr) => {
        match $inner {
            Inner::F32($m) => $body,
            Inner::F64($m) => $body,
        }
    };
}

/// Labels as numpy int32, scikit-learn's `labels_` dtype.
pub(crate) fn labels_to_numpy<'py>(py: Python<'py>, labels: &[usize]) -> Bound<'py, PyArray1<i32>> {
    PyArray1::from_iter(py, labels.iter().map(|&l| l as i32))
}

/// `kentro.exceptions.DTypeError` (a `TypeError`): X's dtype is not the model's.
fn dtype_mismatch(py: Python<'_>, model: &str, data: &str) -> PyErr {
    named_error(
        py,
        "DTypeError",
        format!("the model holds {model} centres but X is {data}; convert one to the other"),
    )
}

/// The model file's first field we need before choosing a dtype.
#[derive(Deserialize)]
struct Peek {
    dtype: Option<String>,
}

fn parse(text: &str) -> Result<Inner, KMeansError> {
    let dtype = serde_json::from_str::<Peek>(text).ok().and_then(|p| p.dtype);
    Ok(match dtype.as_deref() {
        Some("float32") => Inner::F32(KMeans::from_json(text)?),
        _ => Inner::F64(KMeans::from_json(text)?),
    })
}

#[pymethods]
impl Model {
    /// Reads a model from the JSON text of a model file.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Model> {
        parse(text).map(|inner| Model { inner }).map_err(|e| to_py_err(py, e))
    }

    /// Reads a model file written by any kentro face.
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Model> {
        let text = std::fs::read_to_string(&path)
            .map_err(|source| to_py_err(py, KMeansError::Io { path, source }))?;
        Model::from_json(py, &text)
    }

    /// A model from its parts (centres in their dtype, training labels, inertia, iterations and
    /// optional feature names), checked as a model file is.
    #[staticmethod]
    #[pyo3(signature = (centers, labels, inertia, n_iter, feature_names=None))]
    fn from_parts(
        py: Python<'_>,
        centers: Matrix<'_>,
        labels: PyReadonlyArray1<'_, i64>,
        inertia: f64,
        n_iter: usize,
        feature_names: Option<Vec<String>>,
    ) -> PyResult<Model> {
        let labels = labels
            .as_array()
            .iter()
            .map(|&l| {
                usize::try_from(l)
                    .map_err(|_| named_error(py, "ModelFileError", format!("label {l} is negative")))
            })
            .collect::<PyResult<Vec<usize>>>()?;
        fn build<F: Float>(
            centers: ndarray::ArrayView2<F>,
            labels: Vec<usize>,
            inertia: f64,
            n_iter: usize,
            feature_names: Option<Vec<String>>,
        ) -> Result<KMeans<F>, KMeansError> {
            let model = KMeans::from_parts(centers.to_owned(), labels, inertia, n_iter)?;
            match feature_names {
                Some(names) => model.with_feature_names(names),
                None => Ok(model),
            }
        }
        let inner = match &centers {
            Matrix::F64(c) => build(c.as_array(), labels, inertia, n_iter, feature_names).map(Inner::F64),
            Matrix::F32(c) => build(c.as_array(), labels, inertia, n_iter, feature_names).map(Inner::F32),
        };
        inner.map(|inner| Model { inner }).map_err(|e| to_py_err(py, e))
    }

    /// The same model with float64 centres (exact for a float32 model).
    fn to_float64(&self, py: Python<'_>) -> PyResult<Model> {
        let text = with_model!(&self.inner, m => m.to_json());
        KMeans::<f64>::from_json(&text).map(|m| Model { inner: Inner::F64(m) }).map_err(|e| to_py_err(py, e))
    }

    /// `"float32"` or `"float64"`: the dtype of the centres.
    #[getter]
    fn dtype(&self) -> &'static str {
        match &self.inner {
            Inner::F32(_) => f32::DTYPE,
            Inner::F64(_) => f64::DTYPE,
        }
    }

    /// The number of clusters.
    #[getter]
    fn n_clusters(&self) -> usize {
        with_model!(&self.inner, m => m.n_clusters())
    }

    /// The number of features.
    #[getter]
    fn n_features(&self) -> usize {
        with_model!(&self.inner, m => m.n_features())
    }

    /// The weighted sum of squared distances of the training samples to their centres.
    #[getter]
    fn inertia(&self) -> f64 {
        with_model!(&self.inner, m => m.inertia())
    }

    /// Lloyd iterations made by the best run.
    #[getter]
    fn n_iter(&self) -> usize {
        with_model!(&self.inner, m => m.n_iter())
    }

    /// The scaling (`"standard"` or `"minmax"`) the model applies to its inputs, if any.
    #[getter]
    fn scaler(&self) -> Option<&'static str> {
        with_model!(&self.inner, m => m.scaler().map(|s| s.method().name()))
    }

    /// The feature names stored with the model, if any.
    #[getter]
    fn feature_names(&self) -> Option<Vec<String>> {
        with_model!(&self.inner, m => m.feature_names().map(<[String]>::to_vec))
    }

    /// The centres, one row per cluster, in the model's dtype.
    fn centers<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        with_model!(&self.inner, m => m.centers().to_owned().into_pyarray(py).into_any())
    }

    /// The training labels as int32.
    fn labels<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i32>> {
        with_model!(&self.inner, m => labels_to_numpy(py, m.labels()))
    }

    /// What the fit wants the caller to know, as `(kind, message)` pairs.
    fn warnings(&self) -> Vec<(&'static str, String)> {
        let list = with_model!(&self.inner, m => m.warnings().to_vec());
        list.iter()
            .map(|w| {
                let kind = match w {
                    FitWarning::FewerDistinctClusters { .. } => "fewer_distinct_clusters",
                    FitWarning::ExplicitInitRunsOnce { .. } => "explicit_init_runs_once",
                    _ => "other",
                };
                (kind, w.to_string())
            })
            .collect()
    }

    /// The same model with these feature names stored in it.
    fn with_feature_names(&self, py: Python<'_>, names: Vec<String>) -> PyResult<Model> {
        let inner = match &self.inner {
            Inner::F32(m) => m.clone().with_feature_names(names).map(Inner::F32),
            Inner::F64(m) => m.clone().with_feature_names(names).map(Inner::F64),
        };
        inner.map(|inner| Model { inner }).map_err(|e| to_py_err(py, e))
    }

    /// The nearest centre of each row of `x` (same dtype as the model), as int32.
    #[pyo3(signature = (x, n_threads=0))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: Matrix<'py>,
        n_threads: usize,
    ) -> PyResult<Bound<'py, PyArray1<i32>>> {
        let labels = match (&self.inner, &x) {
            (Inner::F64(m), Matrix::F64(a)) => {
                let view = a.as_array();
                small_or_pool(py, n_threads, m.runs_on_calling_thread(view.nrows()), || m.predict(view))?
            }
            (Inner::F32(m), Matrix::F32(a)) => {
                let view = a.as_array();
                small_or_pool(py, n_threads, m.runs_on_calling_thread(view.nrows()), || m.predict(view))?
            }
            _ => return Err(dtype_mismatch(py, self.dtype(), x.dtype())),
        };
        Ok(labels_to_numpy(py, &labels))
    }

    /// The distance of each row of `x` (same dtype as the model) to every centre.
    #[pyo3(signature = (x, n_threads=0))]
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: Matrix<'py>,
        n_threads: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(match (&self.inner, &x) {
            (Inner::F64(m), Matrix::F64(a)) => {
                let view = a.as_array();
                small_or_pool(py, n_threads, m.runs_on_calling_thread(view.nrows()), || m.transform(view))?
                    .into_pyarray(py)
                    .into_any()
            }
            (Inner::F32(m), Matrix::F32(a)) => {
                let view = a.as_array();
                small_or_pool(py, n_threads, m.runs_on_calling_thread(view.nrows()), || m.transform(view))?
                    .into_pyarray(py)
                    .into_any()
            }
            _ => return Err(dtype_mismatch(py, self.dtype(), x.dtype())),
        })
    }

    /// Minus the (weighted) inertia of `x` (same dtype as the model) against the centres.
    #[pyo3(signature = (x, sample_weight=None, n_threads=0))]
    fn score(
        &self,
        py: Python<'_>,
        x: Matrix<'_>,
        sample_weight: Option<PyReadonlyArray1<'_, f64>>,
        n_threads: usize,
    ) -> PyResult<f64> {
        let weights = sample_weight.as_ref().map(|w| w.as_array());
        match (&self.inner, &x) {
            (Inner::F64(m), Matrix::F64(a)) => {
                let view = a.as_array();
                small_or_pool(py, n_threads, m.runs_on_calling_thread(view.nrows()), || {
                    m.score(view, weights)
                })
            }
            (Inner::F32(m), Matrix::F32(a)) => {
                let view = a.as_array();
                small_or_pool(py, n_threads, m.runs_on_calling_thread(view.nrows()), || {
                    m.score(view, weights)
                })
            }
            _ => Err(dtype_mismatch(py, self.dtype(), x.dtype())),
        }
    }

    /// The model file's JSON text.
    fn to_json(&self) -> String {
        with_model!(&self.inner, m => m.to_json())
    }

    /// Writes the model file atomically (a temporary file, then a rename).
    fn save(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        let result = with_model!(&self.inner, m => py.detach(|| m.save(&path)));
        result.map_err(|e| to_py_err(py, e))
    }

    fn __repr__(&self) -> String {
        format!(
            "Model(n_clusters={}, n_features={}, dtype={})",
            self.n_clusters(),
            self.n_features(),
            self.dtype()
        )
    }
}

/// Runs `job` here when it is small (no pool to wake: see `KMeans::runs_on_calling_thread`),
/// else in the pool.
fn small_or_pool<T, J>(py: Python<'_>, n_threads: usize, small: bool, job: J) -> PyResult<T>
where
    T: Send,
    J: FnOnce() -> Result<T, KMeansError> + Send,
{
    if small { compute_here(py, job) } else { compute(py, n_threads, job) }
}
