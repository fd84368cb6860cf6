"""Exceptions raised by kentro's Rust core.

Every error that comes from the core is a :class:`KentroError`, which is a
:class:`ValueError`, so code written for scikit-learn (``except ValueError``)
keeps working. Most bad input never reaches the core: the estimators validate
their arguments and data with scikit-learn's own helpers first, so users see
scikit-learn's exceptions and messages.

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
    "DataError",
    "InternalError",
    "KentroError",
    "ModelFileError",
    "ModelIOError",
    "ParameterError",
    "SampleWeightError",
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


class InternalError(RuntimeError, KentroError):
    """A bug in kentro (a Rust panic, caught before it could reach Python)."""
