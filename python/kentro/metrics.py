"""Clustering metrics with scikit-learn's definitions, computed by kentro's Rust core.

Every function has the signature, the validation and the error messages of its
namesake in :mod:`sklearn.metrics`, and agrees with it to about 1e-10 relative or
better. Distances are euclidean, computed directly in float64 (for float32 input
too) without an n x n matrix: :func:`silhouette_score` on 100k samples needs
memory for the data, not for 10^10 distances.

Differences from scikit-learn: ``metric`` must be ``"euclidean"`` and
``average_method`` ``"arithmetic"`` (others raise ValueError); sparse input is
refused with a TypeError; ``v_measure_score(..., beta=0)`` with a completeness of
0 is 0.0 where scikit-learn divides by zero.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.metrics.pairwise import _VALID_METRICS
from sklearn.utils import (
    check_array,
    check_consistent_length,
    check_random_state,
    check_X_y,
)
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.multiclass import type_of_target

from kentro import _kentro
from kentro._threads import effective_n_threads
from kentro._validation import reject_sparse

__all__ = [
    "adjusted_rand_score",
    "calinski_harabasz_score",
    "completeness_score",
    "davies_bouldin_score",
    "homogeneity_completeness_v_measure",
    "homogeneity_score",
    "normalized_mutual_info_score",
    "silhouette_samples",
    "silhouette_score",
    "v_measure_score",
]

# Keyword arguments of scikit-learn's pairwise_distances_chunked that only tune how it runs:
# kentro always runs on its own threads in bounded memory, so they change nothing.
_IGNORED_KWDS = frozenset({"n_jobs", "working_memory"})


def _codes(labels: np.ndarray) -> np.ndarray:
    """Labels of any type as int64 codes 0..n_labels-1 (scikit-learn's LabelEncoder)."""
    _, codes = np.unique(labels, return_inverse=True)
    return np.ascontiguousarray(codes.ravel(), dtype=np.int64)


def _check_clusterings(
    labels_true: Any, labels_pred: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Two labelings as int64 codes, checked as sklearn.metrics.cluster.check_clusterings."""
    labels_true = check_array(
        labels_true, ensure_2d=False, ensure_min_samples=0, dtype=None
    )
    labels_pred = check_array(
        labels_pred, ensure_2d=False, ensure_min_samples=0, dtype=None
    )
    type_label = type_of_target(labels_true)
    type_pred = type_of_target(labels_pred)
    if "continuous" in (type_pred, type_label):
        msg = (
            "Clustering metrics expects discrete values but received"
            f" {type_label} values for label, and {type_pred} values "
            "for target"
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    if labels_true.ndim != 1:
        raise ValueError(f"labels_true must be 1D: shape is {labels_true.shape!r}")
    if labels_pred.ndim != 1:
        raise ValueError(f"labels_pred must be 1D: shape is {labels_pred.shape!r}")
    check_consistent_length(labels_true, labels_pred)
    return _codes(labels_true), _codes(labels_pred)


def _check_number_of_labels(n_labels: int, n_samples: int) -> None:
    if not 1 < n_labels < n_samples:
        raise ValueError(
            f"Number of labels is {n_labels}. Valid values are 2 to n_samples - 1 (inclusive)"
        )


def _check_data(X: Any, labels: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """X as C-contiguous float64 or float32 and labels as int64 codes, checked as scikit-learn
    checks them (check_X_y, then the number of labels)."""
    reject_sparse(X, what)
    X, labels = check_X_y(X, labels, dtype=[np.float64, np.float32], order="C")
    codes = _codes(labels)
    _check_number_of_labels(int(codes.max(initial=-1)) + 1, X.shape[0])
    return X, codes


def _check_metric(metric: Any, kwds: dict[str, Any], what: str) -> None:
    if not (isinstance(metric, str) and metric == "euclidean"):
        raise ValueError(
            f"kentro.metrics.{what} supports metric='euclidean' only, got metric={metric!r}; "
            f"use sklearn.metrics.{what} for other metrics."
        )
    unknown = sorted(set(kwds) - _IGNORED_KWDS)
    if unknown:
        raise ValueError(
            f"kentro.metrics.{what} takes no distance parameters for metric='euclidean', "
            f"got {', '.join(unknown)}."
        )


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "labels": ["array-like"],
        "metric": [StrOptions(set(_VALID_METRICS) | {"precomputed"}), callable],
        "sample_size": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def silhouette_score(
    X: Any,
    labels: Any,
    *,
    metric: Any = "euclidean",
    sample_size: int | None = None,
    random_state: Any = None,
    **kwds: Any,
) -> float:
    """Mean Silhouette Coefficient of all samples, as :func:`sklearn.metrics.silhouette_score`.

    The Silhouette Coefficient of a sample is ``(b - a) / max(a, b)``, where ``a``
    is its mean distance to the other members of its cluster and ``b`` its mean
    distance to the nearest other cluster; 0 for a sample alone in its cluster.
    Defined for ``2 <= n_labels <= n_samples - 1``. Exact euclidean distances, in
    parallel, in memory proportional to the data (no n x n matrix).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples.

    labels : array-like of shape (n_samples,)
        Predicted labels for each sample (any hashable values).

    metric : str, default="euclidean"
        Only ``"euclidean"`` is supported; any other value raises ValueError.

    sample_size : int, default=None
        Compute the score on a random subset of this many samples (all of them if
        it is larger than n_samples); None uses every sample.

    random_state : int, RandomState instance or None, default=None
        Draws the subset when ``sample_size`` is given, exactly as scikit-learn
        does, so the same ``random_state`` gives scikit-learn's value.

    **kwds : optional keyword parameters
        ``n_jobs`` and ``working_memory`` are accepted and ignored; others raise
        ValueError.

    Returns
    -------
    silhouette : float
        Mean Silhouette Coefficient for all samples, from -1 to 1.

    Examples
    --------
    >>> from kentro import KMeans, make_blobs
    >>> from kentro.metrics import silhouette_score
    >>> X, y = make_blobs(n_samples=300, centers=3, cluster_std=0.6, random_state=0)
    >>> labels = KMeans(n_clusters=3, random_state=0).fit_predict(X)
    >>> round(silhouette_score(X, labels), 2)
    0.66
    """
    _check_metric(metric, kwds, "silhouette_score")
    if sample_size is not None:
        reject_sparse(X, "silhouette_score")
        X, labels = check_X_y(X, labels, dtype=[np.float64, np.float32])
        indices = check_random_state(random_state).permutation(X.shape[0])[:sample_size]
        X, labels = X[indices], labels[indices]
    X, codes = _check_data(X, labels, "silhouette_score")
    return float(_kentro.silhouette_score(X, codes, n_threads=effective_n_threads()))


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "labels": ["array-like"],
        "metric": [StrOptions(set(_VALID_METRICS) | {"precomputed"}), callable],
    },
    prefer_skip_nested_validation=True,
)
def silhouette_samples(
    X: Any, labels: Any, *, metric: Any = "euclidean", **kwds: Any
) -> np.ndarray:
    """Silhouette Coefficient of each sample, as :func:`sklearn.metrics.silhouette_samples`.

    ``(b - a) / max(a, b)`` per sample (see :func:`silhouette_score`); 0 for a
    sample alone in its cluster. Defined for ``2 <= n_labels <= n_samples - 1``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples.

    labels : array-like of shape (n_samples,)
        Label values for each sample (any hashable values).

    metric : str, default="euclidean"
        Only ``"euclidean"`` is supported; any other value raises ValueError.

    **kwds : optional keyword parameters
        ``n_jobs`` and ``working_memory`` are accepted and ignored; others raise
        ValueError.

    Returns
    -------
    silhouette : ndarray of shape (n_samples,)
        Silhouette Coefficients for each sample, of X's dtype (float32 or float64),
        as scikit-learn gives them; computed in float64.

    Examples
    --------
    >>> from kentro.metrics import silhouette_samples
    >>> silhouette_samples([[0.0], [1.0], [10.0], [12.0]], ["a", "a", "b", "b"]).round(3)
    array([0.909, 0.9  , 0.789, 0.826])
    """
    _check_metric(metric, kwds, "silhouette_samples")
    X, codes = _check_data(X, labels, "silhouette_samples")
    values = _kentro.silhouette_samples(X, codes, n_threads=effective_n_threads())
    # scikit-learn returns float32 values for float32 data; kentro computes them in float64.
    return values.astype(X.dtype, copy=False)


@validate_params(
    {"X": ["array-like"], "labels": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def calinski_harabasz_score(X: Any, labels: Any) -> float:
    """Calinski-Harabasz score, as :func:`sklearn.metrics.calinski_harabasz_score`.

    The ratio of between-cluster to within-cluster dispersion, each divided by its
    degrees of freedom; higher is better. 1.0 when there is no within-cluster
    dispersion.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples.

    labels : array-like of shape (n_samples,)
        Predicted labels for each sample.

    Returns
    -------
    score : float
        The Calinski-Harabasz score.

    Examples
    --------
    >>> from kentro.metrics import calinski_harabasz_score
    >>> calinski_harabasz_score([[0, 0], [0, 1], [10, 0], [10, 1]], [3, 3, 7, 7])
    200.0
    """
    X, codes = _check_data(X, labels, "calinski_harabasz_score")
    return float(
        _kentro.calinski_harabasz_score(X, codes, n_threads=effective_n_threads())
    )


@validate_params(
    {"X": ["array-like"], "labels": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def davies_bouldin_score(X: Any, labels: Any) -> float:
    """Davies-Bouldin score, as :func:`sklearn.metrics.davies_bouldin_score`.

    The mean over clusters of the largest ratio of summed within-cluster spreads
    to the distance between centroids; lower is better, 0 is the minimum.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples.

    labels : array-like of shape (n_samples,)
        Predicted labels for each sample.

    Returns
    -------
    score : float
        The Davies-Bouldin score.

    Examples
    --------
    >>> from kentro.metrics import davies_bouldin_score
    >>> round(davies_bouldin_score([[0, 1], [1, 1], [3, 4]], [0, 0, 1]), 4)
    0.128
    """
    X, codes = _check_data(X, labels, "davies_bouldin_score")
    return float(
        _kentro.davies_bouldin_score(X, codes, n_threads=effective_n_threads())
    )


@validate_params(
    {"labels_true": ["array-like"], "labels_pred": ["array-like"]},
    prefer_skip_nested_validation=True,
)
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
    t, p = _check_clusterings(labels_true, labels_pred)
    return float(_kentro.adjusted_rand_score(t, p))


@validate_params(
    {
        "labels_true": ["array-like"],
        "labels_pred": ["array-like"],
        "average_method": [StrOptions({"arithmetic", "max", "min", "geometric"})],
    },
    prefer_skip_nested_validation=True,
)
def normalized_mutual_info_score(
    labels_true: Any, labels_pred: Any, *, average_method: str = "arithmetic"
) -> float:
    """Normalized Mutual Information, as :func:`sklearn.metrics.normalized_mutual_info_score`.

    The mutual information of the two labelings divided by the arithmetic mean of
    their entropies: 1.0 for identical partitions, 0.0 for independent ones.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        A clustering of the data into disjoint subsets.

    labels_pred : array-like of shape (n_samples,)
        Another clustering of the same data.

    average_method : {"arithmetic"}, default="arithmetic"
        Only ``"arithmetic"`` is supported; scikit-learn's other choices raise
        ValueError.

    Returns
    -------
    nmi : float
        Score between 0.0 and 1.0.

    Examples
    --------
    >>> from kentro.metrics import normalized_mutual_info_score
    >>> normalized_mutual_info_score([0, 0, 1, 1], ["b", "b", "a", "a"])
    1.0
    """
    if average_method != "arithmetic":
        raise ValueError(
            "kentro.metrics.normalized_mutual_info_score supports average_method='arithmetic' "
            f"only, got average_method={average_method!r}; use "
            "sklearn.metrics.normalized_mutual_info_score for other normalizations."
        )
    t, p = _check_clusterings(labels_true, labels_pred)
    return float(_kentro.normalized_mutual_info_score(t, p))


@validate_params(
    {
        "labels_true": ["array-like"],
        "labels_pred": ["array-like"],
        "beta": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def homogeneity_completeness_v_measure(
    labels_true: Any, labels_pred: Any, *, beta: float = 1.0
) -> tuple[float, float, float]:
    """Homogeneity, completeness and V-measure at once, as
    :func:`sklearn.metrics.homogeneity_completeness_v_measure`.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Ground truth class labels to be used as a reference.

    labels_pred : array-like of shape (n_samples,)
        Cluster labels to evaluate.

    beta : float, default=1.0
        Weight of completeness against homogeneity in the V-measure.

    Returns
    -------
    homogeneity : float
        1.0 when each cluster holds members of one class only.

    completeness : float
        1.0 when all members of each class are in one cluster.

    v_measure : float
        Their weighted harmonic mean.

    Examples
    --------
    >>> from kentro.metrics import homogeneity_completeness_v_measure
    >>> [round(v, 4) for v in homogeneity_completeness_v_measure([0, 0, 1, 1], [0, 1, 2, 2])]
    [1.0, 0.6667, 0.8]
    """
    t, p = _check_clusterings(labels_true, labels_pred)
    h, c, v = _kentro.homogeneity_completeness_v_measure(t, p, beta=float(beta))
    return float(h), float(c), float(v)


@validate_params(
    {"labels_true": ["array-like"], "labels_pred": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def homogeneity_score(labels_true: Any, labels_pred: Any) -> float:
    """Homogeneity of a clustering, as :func:`sklearn.metrics.homogeneity_score`.

    1.0 when each cluster holds members of a single class only.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Ground truth class labels to be used as a reference.

    labels_pred : array-like of shape (n_samples,)
        Cluster labels to evaluate.

    Returns
    -------
    homogeneity : float
        Score between 0.0 and 1.0.

    Examples
    --------
    >>> from kentro.metrics import homogeneity_score
    >>> round(homogeneity_score([0, 0, 1, 1], [0, 0, 1, 2]), 4)
    1.0
    """
    return homogeneity_completeness_v_measure(labels_true, labels_pred)[0]


@validate_params(
    {"labels_true": ["array-like"], "labels_pred": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def completeness_score(labels_true: Any, labels_pred: Any) -> float:
    """Completeness of a clustering, as :func:`sklearn.metrics.completeness_score`.

    1.0 when all members of each class are in the same cluster.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Ground truth class labels to be used as a reference.

    labels_pred : array-like of shape (n_samples,)
        Cluster labels to evaluate.

    Returns
    -------
    completeness : float
        Score between 0.0 and 1.0.

    Examples
    --------
    >>> from kentro.metrics import completeness_score
    >>> round(completeness_score([0, 0, 1, 2], [0, 0, 1, 1]), 4)
    1.0
    """
    return homogeneity_completeness_v_measure(labels_true, labels_pred)[1]


@validate_params(
    {
        "labels_true": ["array-like"],
        "labels_pred": ["array-like"],
        "beta": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def v_measure_score(labels_true: Any, labels_pred: Any, *, beta: float = 1.0) -> float:
    """V-measure of a clustering, as :func:`sklearn.metrics.v_measure_score`.

    The weighted harmonic mean of homogeneity and completeness; with ``beta=1``
    equal to :func:`normalized_mutual_info_score`.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Ground truth class labels to be used as a reference.

    labels_pred : array-like of shape (n_samples,)
        Cluster labels to evaluate.

    beta : float, default=1.0
        Weight of completeness against homogeneity (above 1: completeness counts more).

    Returns
    -------
    v_measure : float
        Score between 0.0 and 1.0.

    Examples
    --------
    >>> from kentro.metrics import v_measure_score
    >>> v_measure_score([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    return homogeneity_completeness_v_measure(labels_true, labels_pred, beta=beta)[2]
