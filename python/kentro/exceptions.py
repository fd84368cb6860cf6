"""Exceptions raised by kentro's Rust core.

Every error that comes from the core or its glue is a :class:`KentroError`, which
is a :class:`ValueError`, so code written for scikit-learn (``except ValueError``)
keeps working. Where another built-in type fits better, the class has that base
too: :class:`DTypeError` is also a :class:`TypeError`, :class:`ModelIOError` an
:class:`OSError`, :class:`ThreadPoolError` and :class:`InternalError` a
:class:`RuntimeError`. Most bad input never reaches the core: the estimators
validate their arguments and data with scikit-learn's own helpers first, so users
see scikit-learn's exceptions and messages.

Examples
--------
>>> import os, tempfile
>>> import kentro
>>> from kentro.exceptions import ModelFileError
>>> path = os.path.join(tempfile.mkdtemp(), "model.json")
>>> with open(path, "w") as f:
...     _ = f.write("not a model")
>>> try:
...     kentro.load(path)
... except ModelFileError as e:
...     print(type(e).__name__, isinstance(e, ValueError))
ModelFileError True
"""

from __future__ import annotations

__all__ = [
    "DTypeError",
    "DataError",
    "InternalError",
    "KentroError",
    "ModelFileError",
    "ModelIOError",
    "ParameterError",
    "SampleWeightError",
    "ThreadPoolError",
]


class KentroError(ValueError):
    """Base class of every error raised by kentro's Rust core; a :class:`ValueError`."""


class ParameterError(KentroError):
    """A parameter value the core cannot use (for example an unknown algorithm name)."""


class DataError(KentroError):
    """Data the core refuses: empty, non-finite, too few samples, or the wrong width."""


class SampleWeightError(KentroError):
    """Sample weights the core refuses: wrong length, negative, non-finite or all zero."""


class ModelFileError(KentroError):
    """A model file (or its JSON text) that is corrupt, foreign, or of another version."""


class ModelIOError(OSError, KentroError):
    """Reading or writing a model file failed; also an :class:`OSError` with ``errno`` and
    ``filename`` set."""


class DTypeError(TypeError, KentroError):
    """Data whose dtype (float32 or float64) differs from the model's centres, given to the
    core directly; also a :class:`TypeError`. (:class:`kentro.KMeans` converts instead.)"""


class ThreadPoolError(RuntimeError, KentroError):
    """The operating system refused to start kentro's worker threads (too many threads, or too
    little memory); also a :class:`RuntimeError`. Fewer threads may work: see
    :class:`kentro.threadpool_limits`."""


class InternalError(RuntimeError, KentroError):
    """A bug in kentro (a Rust panic, caught before it could reach Python)."""
