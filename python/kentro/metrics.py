"""Clustering metrics with scikit-learn's definitions, computed by kentro's core."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils import check_array, check_consistent_length

from kentro import _kentro

__all__ = ["adjusted_rand_score"]


def _codes(labels: Any, name: str) -> np.ndarray:
    labels = check_array(labels, ensure_2d=False, ensure_min_samples=0, dtype=None)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1D: shape is {labels.shape!r}")
    _, codes = np.unique(labels, return_inverse=True)
    return np.ascontiguousarray(codes.ravel(), dtype=np.int64)


def adjusted_rand_score(labels_true: Any, labels_pred: Any) -> float:
    """Rand index adjusted for chance, as :func:`sklearn.metrics.adjusted_rand_score`.

    1.0 for identical partitions (whatever the label values), close to 0.0 for
    random labelings, symmetric in its arguments.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Ground truth class labels to be used as a reference.

    labels_pred : array-like of shape (n_samples,)
        Cluster labels to evaluate.

    Returns
    -------
    ARI : float
        Similarity score between -0.5 and 1.0.

    Examples
    --------
    >>> from kentro.metrics import adjusted_rand_score
    >>> adjusted_rand_score([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    >>> round(adjusted_rand_score([0, 0, 1, 2], [0, 0, 1, 1]), 4)
    0.5714
    """
    t = _codes(labels_true, "labels_true")
    p = _codes(labels_pred, "labels_pred")
    check_consistent_length(t, p)
    return float(_kentro.adjusted_rand_score(t, p))
