"""``algorithm="exact1d"``: the exact optimal 1-D k-means."""

import itertools

import numpy as np
import pytest
from kentro import KMeans
from kentro.exceptions import DataError
from sklearn.cluster import KMeans as SKKMeans
from sklearn.exceptions import ConvergenceWarning


def brute_force(x, w, k):
    """The least weighted inertia over every split of the sorted values into k runs."""
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    best = np.inf
    for cuts in itertools.combinations(range(1, len(x)), k - 1):
        total = 0.0
        for lo, hi in zip((0, *cuts), (*cuts, len(x))):
            mean = np.average(x[lo:hi], weights=w[lo:hi])
            total += float(np.sum(w[lo:hi] * (x[lo:hi] - mean) ** 2))
        best = min(best, total)
    return best


# Cases with fewer distinct values than clusters warn, as they should.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_equals_brute_force_on_small_cases():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 9))
        k = int(rng.integers(1, n + 1))
        x = rng.integers(0, 6, n).astype(np.float64) * 0.7
        w = rng.choice([0.5, 1.0, 3.0], n)
        km = KMeans(k, algorithm="exact1d").fit(x[:, None], sample_weight=w)
        want = brute_force(x, w, k)
        assert km.inertia_ == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_never_worse_than_scikit_learn():
    rng = np.random.default_rng(1)
    X = np.concatenate(
        [rng.normal(0, 1, 300), rng.normal(6, 2, 200), rng.uniform(-10, 20, 100)]
    )
    X = X[:, None]
    km = KMeans(7, algorithm="exact1d").fit(X)
    for seed in range(5):
        ref = SKKMeans(7, random_state=seed).fit(X)
        assert km.inertia_ <= ref.inertia_ * (1 + 1e-12)
    assert np.all(np.diff(km.cluster_centers_[:, 0]) > 0)
    assert km.n_iter_ == 1
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    assert km.score(X) == pytest.approx(-km.inertia_)


def test_weights_act_as_repeats():
    x = np.array([0.0, 1.0, 5.0, 6.0, 20.0])
    w = np.array([2, 1, 3, 1, 2])
    weighted = KMeans(3, algorithm="exact1d").fit(x[:, None], sample_weight=w)
    repeated = KMeans(3, algorithm="exact1d").fit(np.repeat(x, w)[:, None])
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_)


def test_float32_stays_float32():
    X = np.array([[1.0], [1.5], [10.0], [11.0]], dtype=np.float32)
    km = KMeans(2, algorithm="exact1d").fit(X)
    assert km.cluster_centers_.dtype == np.float32
    np.testing.assert_array_equal(km.cluster_centers_[:, 0], [1.25, 10.5])


def test_fewer_distinct_values_than_clusters_warns():
    X = np.array([[2.0], [2.0], [5.0]])
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(2\)"):
        km = KMeans(3, algorithm="exact1d").fit(X)
    np.testing.assert_array_equal(km.cluster_centers_[:, 0], [2.0, 5.0, 5.0])


def test_more_than_one_feature_is_refused():
    with pytest.raises(DataError, match=r"one feature \(d = 1\), got d = 2"):
        KMeans(2, algorithm="exact1d").fit(np.ones((4, 2)))
    assert isinstance(DataError("x"), ValueError)
