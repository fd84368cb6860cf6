"""Parity with scikit-learn itself, live: the same clusters from the same start, and the same
distribution of results from k-means++."""

import numpy as np
import pytest
import sklearn.cluster
from kentro import KMeans
from scipy.stats import mannwhitneyu
from sklearn.datasets import load_digits, make_blobs


def _dataset(name):
    """(X, sample_weight, n_clusters, extra KMeans arguments) for each parity case."""
    if name == "blobs_2d":
        X, _ = make_blobs(300, centers=3, cluster_std=0.6, random_state=0)
        return X, None, 3, {}
    if name == "blobs_5d_weighted":
        X, _ = make_blobs(500, n_features=5, centers=6, random_state=1)
        return X, np.random.default_rng(1).uniform(0.1, 3.0, size=500), 6, {}
    if name == "uniform_3d_tol0":
        return np.random.default_rng(2).random((1000, 3)), None, 8, {"tol": 0.0}
    if name == "aniso_4d_weighted_maxiter":
        X, _ = make_blobs(600, n_features=4, centers=5, random_state=4)
        X = X @ (np.random.default_rng(3).normal(size=(4, 4)) * [3.0, 1.0, 0.3, 0.1])
        w = np.random.default_rng(4).integers(1, 5, size=600).astype(float)
        return X, w, 5, {"max_iter": 4}
    if name == "digits":
        return load_digits().data.astype(np.float64), None, 10, {}
    if name == "overlapping_16d_weighted":
        X, _ = make_blobs(
            3000, n_features=16, centers=12, cluster_std=4.0, random_state=6
        )
        return X, np.random.default_rng(6).exponential(size=3000), 12, {}
    raise KeyError(name)


def _init_rows(X, k, seed):
    idx = np.sort(np.random.default_rng(seed).choice(X.shape[0], size=k, replace=False))
    return X[idx].copy()


FLOAT64_CASES = [
    "blobs_2d",
    "blobs_5d_weighted",
    "uniform_3d_tol0",
    "aniso_4d_weighted_maxiter",
    "digits",
    "overlapping_16d_weighted",
]


ALGORITHMS = ["lloyd", "elkan", "hamerly", "yinyang", "lloyd-plain"]


@pytest.mark.parametrize("name", FLOAT64_CASES)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_float64_same_labels_and_centres_from_the_same_init(name, seed, algorithm):
    X, w, k, extra = _dataset(name)
    init = _init_rows(X, k, seed)
    sk = sklearn.cluster.KMeans(k, init=init, n_init=1, algorithm="lloyd", **extra)
    sk.fit(X, sample_weight=w)
    ours = KMeans(k, init=init, n_init=1, algorithm=algorithm, **extra)
    ours.fit(X, sample_weight=w)
    np.testing.assert_array_equal(ours.labels_, sk.labels_)
    np.testing.assert_allclose(
        ours.cluster_centers_, sk.cluster_centers_, rtol=1e-7, atol=1e-12
    )
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-7)
    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_array_equal(ours.predict(X), sk.predict(X))


@pytest.mark.parametrize(
    "name", ["blobs_2d", "blobs_5d_weighted", "digits", "overlapping_16d_weighted"]
)
def test_float32_nearly_same_labels_and_centres(name):
    X, w, k, extra = _dataset(name)
    X = X.astype(np.float32)
    init = _init_rows(X, k, 0)
    sk = sklearn.cluster.KMeans(k, init=init, n_init=1, algorithm="lloyd", **extra)
    sk.fit(X, sample_weight=w)
    ours = KMeans(k, init=init, n_init=1, **extra).fit(X, sample_weight=w)
    assert ours.cluster_centers_.dtype == sk.cluster_centers_.dtype == np.float32
    assert np.mean(ours.labels_ == sk.labels_) >= 0.999
    np.testing.assert_allclose(
        ours.cluster_centers_, sk.cluster_centers_, rtol=1e-4, atol=1e-4
    )
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-4)


def _inertias(cls, X, k, seeds):
    return np.array([cls(k, random_state=s).fit(X).inertia_ for s in seeds])


@pytest.mark.parametrize("name", ["blobs", "digits"])
def test_default_init_inertia_distribution_matches_sklearn(name):
    if name == "blobs":
        # Overlapping blobs: k-means++ lands in several local minima.
        X, _ = make_blobs(
            2000, n_features=4, centers=15, cluster_std=2.5, random_state=11
        )
        k = 15
    else:
        X, k = load_digits().data.astype(np.float64), 10
    seeds = range(50)
    ours = _inertias(KMeans, X, k, seeds)
    theirs = _inertias(sklearn.cluster.KMeans, X, k, seeds)
    assert (
        len(set(ours)) > 5 and len(set(theirs)) > 5
    )  # the test has something to compare
    p = mannwhitneyu(ours, theirs, alternative="two-sided").pvalue
    assert p > 0.01, (p, ours.mean(), theirs.mean())
