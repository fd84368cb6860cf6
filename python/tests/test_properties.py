"""Invariants of any fit, on data hypothesis chooses."""

import warnings

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from kentro import KMeans
from sklearn.exceptions import ConvergenceWarning


@st.composite
def data_and_k(draw):
    n = draw(st.integers(1, 60))
    d = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    elements = st.floats(-1e3, 1e3, allow_nan=False, width=32)
    X = draw(arrays(dtype, (n, d), elements=elements))
    k = draw(st.integers(1, min(n, 6)))
    return X, k


# No deadline: 2-core machines are slow to start (and the first fit builds the thread pool).
PROPERTY = settings(deadline=None, max_examples=100)


def _fit(X, k, seed):
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", ConvergenceWarning
        )  # duplicate points are allowed
        return KMeans(k, random_state=seed).fit(X)


def _clear_winners(X, centers):
    """Rows whose nearest centre wins by a margin that no rounding can overturn."""
    d = (
        (X.astype(np.float64)[:, None, :] - centers.astype(np.float64)[None]) ** 2
    ).sum(-1)
    part = np.sort(d, axis=1)
    if centers.shape[0] == 1:
        return np.ones(X.shape[0], dtype=bool)
    scale = (X.astype(np.float64) ** 2).sum(1) + (centers.astype(np.float64) ** 2).sum(
        1
    ).max()
    eps = 1e-5 if X.dtype == np.float32 else 1e-12
    return part[:, 1] - part[:, 0] > eps * (scale + 1.0)


@PROPERTY
@given(data_and_k(), st.integers(0, 2**32 - 1))
def test_labels_in_range_and_predict_agrees(case, seed):
    X, k = case
    km = _fit(X, k, seed)
    assert km.labels_.shape == (X.shape[0],)
    assert km.labels_.min() >= 0 and km.labels_.max() < k
    assert km.cluster_centers_.shape == (k, X.shape[1])
    assert km.cluster_centers_.dtype == X.dtype
    clear = _clear_winners(X, km.cluster_centers_)
    assume(clear.any())
    np.testing.assert_array_equal(km.predict(X)[clear], km.labels_[clear])


@PROPERTY
@given(data_and_k(), st.integers(0, 2**32 - 1))
def test_transform_shape_and_argmin(case, seed):
    X, k = case
    km = _fit(X, k, seed)
    D = km.transform(X)
    assert D.shape == (X.shape[0], k) and D.dtype == X.dtype
    assert (D >= 0).all()
    clear = _clear_winners(X, km.cluster_centers_)
    np.testing.assert_array_equal(D.argmin(axis=1)[clear], km.labels_[clear])
    # Where two centres (nearly) tie, the label is still one of the nearest.
    rows = np.arange(X.shape[0])
    tol = 1e-3 if X.dtype == np.float32 else 1e-9
    assert (D[rows, km.labels_] <= D.min(axis=1) * (1 + tol) + tol).all()


@PROPERTY
@given(data_and_k(), st.integers(0, 2**32 - 1))
def test_score_is_minus_inertia(case, seed):
    X, k = case
    km = _fit(X, k, seed)
    tol = 1e-3 if X.dtype == np.float32 else 1e-9
    assert km.inertia_ >= 0
    assert abs(km.score(X) + km.inertia_) <= tol * (km.inertia_ + 1.0)
