"""CSR input for the estimators: scipy.sparse matrices and arrays go to the core's CSR glue."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from kentro import _kentro


def issparse(X: Any) -> bool:
    """Whether X is a scipy.sparse matrix or array."""
    return bool(sp.issparse(X))


def csr_parts(X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """The arrays of X as canonical CSR (sorted indices, no duplicates), without copying the
    values when X already is: ``(data, indices, indptr, shape)``, indices as int64."""
    X = sp.csr_matrix(X) if X.format != "csr" else X
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    data = np.ascontiguousarray(X.data)
    indices = np.ascontiguousarray(X.indices, dtype=np.int64)
    indptr = np.ascontiguousarray(X.indptr, dtype=np.int64)
    return data, indices, indptr, (int(X.shape[0]), int(X.shape[1]))


def fit(X: Any, n_clusters: int, **kwargs: Any) -> _kentro.Model:
    """``_kentro.fit`` for sparse X."""
    data, indices, indptr, shape = csr_parts(X)
    return _kentro.fit_csr(data, indices, indptr, shape, n_clusters, **kwargs)


def predict(model: _kentro.Model, X: Any, n_threads: int) -> np.ndarray:
    """``model.predict`` for sparse X."""
    return _kentro.predict_csr(model, *csr_parts(X), n_threads=n_threads)


def transform(model: _kentro.Model, X: Any, n_threads: int) -> np.ndarray:
    """``model.transform`` for sparse X."""
    return _kentro.transform_csr(model, *csr_parts(X), n_threads=n_threads)


def score(
    model: _kentro.Model, X: Any, sample_weight: np.ndarray | None, n_threads: int
) -> float:
    """``model.score`` for sparse X."""
    return _kentro.score_csr(model, *csr_parts(X), sample_weight, n_threads=n_threads)
