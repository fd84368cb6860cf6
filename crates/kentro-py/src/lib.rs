//! `kentro._kentro`: the PyO3 glue between kentro's Rust core and its Python package.
//!
//! It only converts: numpy arrays in (float64 and float32 viewed without a copy), numpy arrays
//! out, core errors to `kentro.exceptions`, panics to `InternalError`. Every call into the core
//! runs in a rayon pool of the requested size with the GIL released; fits also wake to run
//! Python's signal handlers, so Ctrl-C stops them. The estimators (validation, scikit-learn's
//! semantics and messages) are pure Python in `python/kentro/`.

mod errors;
mod metrics;
mod model;
mod outliers;
mod select_k;
mod sparse;
mod threads;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use kentro::datasets::Blobs;
use kentro::{Algorithm, Convergence, Init, KMeans, NInit, Observer};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::errors::{named_error, to_py_err};
use crate::model::{Inner, Matrix, Model};
use crate::threads::{SignalPoll, compute, compute_here, compute_interruptible, pool};

/// The `algorithm` names the glue knows, and the core method each one runs. scikit-learn's
/// `"lloyd"` (and kentro's `"auto"`) mean exact Lloyd results by the fastest exact method; the
/// other names force one method. Every method gives the same labels from the same start, except
/// `"exact1d"`: the global optimum for one feature, not a Lloyd run.
const ALGORITHMS: [(&str, Algorithm); 7] = [
    ("lloyd", Algorithm::Auto),
    ("elkan", Algorithm::Elkan),
    ("auto", Algorithm::Auto),
    ("lloyd-plain", Algorithm::Lloyd),
    ("hamerly", Algorithm::Hamerly),
    ("yinyang", Algorithm::Yinyang),
    ("exact1d", Algorithm::Exact1d),
];

fn parse_algorithm(py: Python<'_>, name: &str) -> PyResult<Algorithm> {
    match ALGORITHMS.iter().find(|(n, _)| *n == name) {
        Some((_, a)) => Ok(*a),
        None => {
            let known: Vec<&str> = ALGORITHMS.iter().map(|(n, _)| *n).collect();
            Err(named_error(
                py,
                "ParameterError",
                format!("unknown algorithm {name:?}; expected one of {known:?}"),
            ))
        }
    }
}

/// How a fit chooses its initial centres, from Python: a method name or explicit centres.
#[derive(FromPyObject)]
enum InitArg<'py> {
    Name(String),
    Centers(PyReadonlyArray2<'py, f64>),
}

/// Where the initial centres' random draws start, from Python: a seed, or a numpy
/// `RandomState`'s state (`get_state()`'s key and position) to continue.
#[derive(FromPyObject)]
pub(crate) enum SeedArg<'py> {
    Value(u64),
    State(PyReadonlyArray1<'py, u32>, usize),
}

impl SeedArg<'_> {
    /// The seed (unused when this continues a state).
    fn value(&self) -> u64 {
        if let SeedArg::Value(s) = self { *s } else { 0 }
    }

    /// The core's state, when this continues one.
    fn state(&self, py: Python<'_>) -> PyResult<Option<kentro::RandomState>> {
        match self {
            SeedArg::Value(_) => Ok(None),
            SeedArg::State(key, pos) => {
                let key = key.as_array().to_vec();
                kentro::RandomState::new(&key, *pos).map(Some).map_err(|e| to_py_err(py, e.into()))
            }
        }
    }
}

/// Forwards fit progress to a Python callable `progress(event, run, count, value, extra)` and asks
/// the fit to stop once `cancel` is set (by Ctrl-C or by the callable raising).
struct PyObserver<'a> {
    cancel: &'a AtomicBool,
    progress: Option<&'a Py<PyAny>>,
    error: Mutex<Option<PyErr>>,
    /// For a fit on the calling thread, which then looks for Ctrl-C itself.
    signals: Option<SignalPoll>,
}

impl PyObserver<'_> {
    fn emit(&self, event: &str, run: usize, count: usize, value: f64, extra: f64) {
        let Some(callback) = self.progress else { return };
        if self.cancel.load(Ordering::Relaxed) {
            return;
        }
        Python::attach(|py| {
            if let Err(e) = callback.call1(py, (event, run, count, value, extra)) {
                *self.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                self.cancel.store(true, Ordering::Relaxed);
            }
        });
    }
}

impl Observer for PyObserver<'_> {
    fn run_started(&self, run: usize, n_runs: usize) {
        self.emit("run_started", run, n_runs, f64::NAN, f64::NAN);
    }

    fn iteration(&self, run: usize, iteration: usize, inertia: Option<f64>) {
        self.emit("iteration", run, iteration, inertia.unwrap_or(f64::NAN), f64::NAN);
    }

    fn run_finished(&self, run: usize, n_iter: usize, inertia: f64) {
        self.emit("run_finished", run, n_iter, inertia, f64::NAN);
    }

    fn converged(&self, run: usize, iteration: usize, how: Convergence) {
        match how {
            Convergence::Strict => self.emit("converged_strict", run, iteration, f64::NAN, f64::NAN),
            Convergence::CenterShift { shift, tol } => {
                self.emit("converged_shift", run, iteration, shift, tol)
            }
            _ => {}
        }
    }

    fn wants_iteration_inertia(&self) -> bool {
        // Only verbose output prints it; bound-based methods skip the work otherwise.
        self.progress.is_some()
    }

    fn should_stop(&self) -> bool {
        if let Some(signals) = &self.signals
            && !self.cancel.load(Ordering::Relaxed)
            && let Some(e) = signals.check()
        {
            self.error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
            self.cancel.store(true, Ordering::Relaxed);
        }
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The core's checked settings from the glue's arguments (`init` by name or as centres).
pub(crate) fn kentro_params(
    py: Python<'_>,
    n_clusters: usize,
    init: InitArg<'_>,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    seed: SeedArg<'_>,
    algorithm: &str,
) -> PyResult<kentro::ValidKMeansParams> {
    let state = seed.state(py)?;
    let init = match init {
        InitArg::Name(name) => match name.as_str() {
            "k-means++" => Init::KMeansPlusPlus,
            "random" => Init::Random,
            other => {
                let message =
                    format!("unknown init {other:?}; expected \"k-means++\", \"random\" or an array");
                return Err(named_error(py, "ParameterError", message));
            }
        },
        InitArg::Centers(c) => Init::Centers(c.as_array().to_owned()),
    };
    let mut params =
        KMeans::params(n_clusters).init(init).n_init(NInit::Runs(n_init)).max_iter(max_iter).tol(tol);
    params = match state {
        Some(state) => params.random_state(state),
        None => params.seed(seed.value()),
    };
    params.algorithm(parse_algorithm(py, algorithm)?).check().map_err(|e| to_py_err(py, e.into()))
}

/// Fits K-Means to `x` (float64 or float32, one sample per row). Arguments are the core's, with
/// scikit-learn's conversions already made by the caller: `n_init` resolved, `seed` drawn.
#[pyfunction]
#[pyo3(signature = (
    x, n_clusters, *, init, n_init, max_iter, tol, seed, algorithm,
    sample_weight=None, n_threads=0, progress=None
))]
fn fit(
    py: Python<'_>,
    x: Matrix<'_>,
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
    let weights = sample_weight.as_ref().map(|w| w.as_array());
    let cancel = AtomicBool::new(false);
    let n_samples = match &x {
        Matrix::F64(a) => a.as_array().nrows(),
        Matrix::F32(a) => a.as_array().nrows(),
    };
    // A small fit runs right here: no pool, no thread to wake.
    let here = params.runs_on_calling_thread(n_samples);
    let observer = PyObserver {
        cancel: &cancel,
        progress: progress.as_ref(),
        error: Mutex::new(None),
        signals: here.then(SignalPoll::new),
    };
    let fitted = match &x {
        Matrix::F64(a) => {
            let view = a.as_array();
            let job = || params.fit_with(view, weights, &observer);
            if here { compute_here(py, job) } else { compute_interruptible(py, n_threads, &cancel, job) }
                .map(Inner::F64)
        }
        Matrix::F32(a) => {
            let view = a.as_array();
            let job = || params.fit_with(view, weights, &observer);
            if here { compute_here(py, job) } else { compute_interruptible(py, n_threads, &cancel, job) }
                .map(Inner::F32)
        }
    };
    // An exception from the progress callable (or Ctrl-C, caught by the observer of a fit run
    // here) explains the cancellation it caused.
    if let Some(e) = observer.error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    fitted.map(|inner| Model { inner })
}

/// Greedy k-means++ seeding: the chosen rows of `x` and their indices (int64).
#[pyfunction]
#[pyo3(signature = (x, n_clusters, *, sample_weight=None, seed=SeedArg::Value(0), n_local_trials=None, n_threads=0))]
fn kmeans_plusplus<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    n_clusters: usize,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    seed: SeedArg<'py>,
    n_local_trials: Option<usize>,
    n_threads: usize,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyArray1<i64>>)> {
    let weights = sample_weight.as_ref().map(|w| w.as_array());
    let state = seed.state(py)?;
    let seed = seed.value();
    fn seeding<F: kentro::Float>(
        view: ndarray::ArrayView2<F>,
        n_clusters: usize,
        weights: Option<ndarray::ArrayView1<f64>>,
        state: &Option<kentro::RandomState>,
        seed: u64,
        n_local_trials: Option<usize>,
    ) -> Result<(ndarray::Array2<F>, Vec<usize>), kentro::KMeansError> {
        match state {
            Some(state) => {
                kentro::kmeans_plusplus_from_state(view, n_clusters, weights, state, n_local_trials)
            }
            None => kentro::kmeans_plusplus(view, n_clusters, weights, seed, n_local_trials),
        }
    }
    let (centers, indices) = match &x {
        Matrix::F64(a) => {
            let view = a.as_array();
            let (c, i) =
                compute(py, n_threads, || seeding(view, n_clusters, weights, &state, seed, n_local_trials))?;
            (c.into_pyarray(py).into_any(), i)
        }
        Matrix::F32(a) => {
            let view = a.as_array();
            let (c, i) =
                compute(py, n_threads, || seeding(view, n_clusters, weights, &state, seed, n_local_trials))?;
            (c.into_pyarray(py).into_any(), i)
        }
    };
    Ok((centers, PyArray1::from_iter(py, indices.iter().map(|&i| i as i64))))
}

/// Centres for [`make_blobs`]: a count drawn in the box, or explicit rows.
#[derive(FromPyObject)]
enum BlobCentersArg<'py> {
    Count(usize),
    Given(PyReadonlyArray2<'py, f64>),
}

/// Isotropic Gaussian blobs: samples (float64), their blob (int64) and the blob centres.
#[pyfunction]
#[pyo3(signature = (n_samples, n_features, centers, cluster_std, center_box, shuffle, seed))]
#[allow(clippy::type_complexity)]
fn make_blobs<'py>(
    py: Python<'py>,
    n_samples: usize,
    n_features: usize,
    centers: BlobCentersArg<'py>,
    cluster_std: Vec<f64>,
    center_box: (f64, f64),
    shuffle: bool,
    seed: u64,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyArray1<i64>>, Bound<'py, PyAny>)> {
    let mut blobs = Blobs::new(n_samples).n_features(n_features).center_box(center_box.0, center_box.1);
    blobs = match centers {
        BlobCentersArg::Count(c) => blobs.centers(c),
        BlobCentersArg::Given(c) => blobs.given_centers(c.as_array().to_owned()),
    };
    blobs = match cluster_std.as_slice() {
        [one] => blobs.cluster_std(*one),
        many => blobs.cluster_stds(many.to_vec()),
    };
    let blobs = blobs.shuffle(shuffle).seed(seed);
    let (x, y, c) = compute(py, 1, || blobs.generate_with_centers().map_err(Into::into))?;
    let y = PyArray1::from_iter(py, y.iter().map(|&l| l as i64));
    Ok((x.into_pyarray(py).into_any(), y, c.into_pyarray(py).into_any()))
}

/// The adjusted Rand index of two labelings given as non-negative integer codes.
#[pyfunction]
fn adjusted_rand_score(
    py: Python<'_>,
    labels_true: PyReadonlyArray1<'_, i64>,
    labels_pred: PyReadonlyArray1<'_, i64>,
) -> PyResult<f64> {
    let codes = |a: &PyReadonlyArray1<'_, i64>| -> PyResult<Vec<usize>> {
        a.as_array()
            .iter()
            .map(|&v| {
                usize::try_from(v)
                    .map_err(|_| named_error(py, "DataError", format!("label code {v} is negative")))
            })
            .collect()
    };
    let (t, p) = (codes(&labels_true)?, codes(&labels_pred)?);
    if t.len() != p.len() {
        let message =
            format!("labels_true and labels_pred must have the same length, got {} and {}", t.len(), p.len());
        return Err(named_error(py, "DataError", message));
    }
    compute(py, 1, || Ok(kentro::metrics::adjusted_rand_score(&t, &p)))
}

/// The number of threads a call with `n_threads` runs on (0: the default).
#[pyfunction]
#[pyo3(signature = (n_threads=0))]
fn pool_threads(py: Python<'_>, n_threads: usize) -> PyResult<usize> {
    Ok(pool(py, n_threads)?.current_num_threads())
}

/// Panics inside the glue, to test that a panic reaches Python as `InternalError`.
#[pyfunction]
#[pyo3(signature = (n_threads=0))]
fn _panic_for_tests(py: Python<'_>, n_threads: usize) -> PyResult<()> {
    compute(py, n_threads, || -> Result<(), kentro::KMeansError> { panic!("deliberate test panic") })
}

/// The module `kentro._kentro`.
#[pymodule]
fn _kentro(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("MODEL_FORMAT_VERSION", kentro::FORMAT_VERSION)?;
    m.add("ALGORITHMS", PyTuple::new(m.py(), ALGORITHMS.iter().map(|(n, _)| *n))?)?;
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(kmeans_plusplus, m)?)?;
    m.add_function(wrap_pyfunction!(make_blobs, m)?)?;
    m.add_function(wrap_pyfunction!(adjusted_rand_score, m)?)?;
    metrics::register(m)?;
    m.add_function(wrap_pyfunction!(pool_threads, m)?)?;
    m.add_function(wrap_pyfunction!(outliers::outlier_fit, m)?)?;
    m.add_function(wrap_pyfunction!(outliers::outlier_scores, m)?)?;
    m.add_function(wrap_pyfunction!(select_k::select_k, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    sparse::register(m)?;
    Ok(())
}
