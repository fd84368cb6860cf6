//! Core and glue errors as Python exceptions. The classes live in `kentro.exceptions` (pure Python,
//! so they carry numpydoc and multiple bases); every one subclasses `KentroError`, itself a
//! `ValueError`, and some also a closer built-in type (`DTypeError` is a `TypeError`,
//! `ThreadPoolError` a `RuntimeError`).

use std::any::Any;

use kentro::KMeansError;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;

/// The `kentro.exceptions` class for each core error, by name.
fn class_name(e: &KMeansError) -> &'static str {
    match e {
        KMeansError::Param(_) => "ParameterError",
        KMeansError::EmptyData
        | KMeansError::NoFeatures
        | KMeansError::NonFinite { .. }
        | KMeansError::TooFewSamples { .. }
        | KMeansError::InitFeatures { .. }
        | KMeansError::FeatureMismatch { .. }
        | KMeansError::Overflow { .. }
        | KMeansError::Exact1dFeatures { .. }
        | KMeansError::InvalidCsr(_)
        | KMeansError::ScaledSparse => "DataError",
        KMeansError::WeightLength { .. }
        | KMeansError::BadWeight { .. }
        | KMeansError::ZeroWeights
        | KMeansError::WeightOverflow => "SampleWeightError",
        KMeansError::Model(_) | KMeansError::ModelVersion { .. } | KMeansError::ModelDtype { .. } => {
            "ModelFileError"
        }
        KMeansError::Io { .. } => "ModelIOError",
        // Cancelled (the caller raises the signal handler's exception instead) and variants
        // added to the core later.
        _ => "KentroError",
    }
}

/// Builds an instance of `kentro.exceptions.<name>` with `args`. When the Python package cannot be
/// imported (the glue used on its own), the built-in base that class has: `TypeError`,
/// `RuntimeError`, `OSError` or `ValueError`.
fn raise<'py, A>(py: Python<'py>, name: &str, args: A, message: &str) -> PyErr
where
    A: pyo3::call::PyCallArgs<'py>,
{
    let class = py.import("kentro.exceptions").and_then(|m| m.getattr(name));
    match class {
        Ok(class) => match class.call1(args) {
            Ok(instance) => PyErr::from_value(instance),
            Err(e) => e,
        },
        Err(_) => {
            let message = message.to_string();
            match name {
                "DTypeError" => PyTypeError::new_err(message),
                "ThreadPoolError" | "InternalError" => PyRuntimeError::new_err(message),
                "ModelIOError" => PyOSError::new_err(message),
                _ => PyValueError::new_err(message),
            }
        }
    }
}

/// An instance of `kentro.exceptions.<name>` with this message, for errors the glue finds itself.
pub(crate) fn named_error(py: Python<'_>, name: &str, message: String) -> PyErr {
    raise(py, name, (message.clone(),), &message)
}

/// A core error as the matching `kentro.exceptions` instance.
pub(crate) fn to_py_err(py: Python<'_>, e: KMeansError) -> PyErr {
    let message = e.to_string();
    if let KMeansError::Io { path, source } = &e
        && let Some(errno) = source.raw_os_error()
    {
        let filename = path.to_string_lossy().into_owned();
        return raise(py, "ModelIOError", (errno, io_reason(source), filename), &message);
    }
    raise(py, class_name(&e), (message.clone(),), &message)
}

/// The OS's description of an I/O error, without Rust's " (os error N)" suffix.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// A Rust panic (a bug in kentro) as `kentro.exceptions.InternalError`.
pub(crate) fn panic_to_py_err(py: Python<'_>, payload: Box<dyn Any + Send>) -> PyErr {
    let what = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    };
    let message = format!(
        "kentro hit an internal error (a bug: please report it with the input that caused it): {what}"
    );
    raise(py, "InternalError", (message.clone(),), &message)
}
