"""kentro.metrics against live scikit-learn: values (rtol 1e-10), signatures, errors."""

import inspect
import re
import warnings

import kentro
import kentro.metrics as km
import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.datasets import make_blobs

RTOL = 1e-10

DATA_METRICS = ["silhouette_score", "calinski_harabasz_score", "davies_bouldin_score"]
LABELING_METRICS = [
    "adjusted_rand_score",
    "normalized_mutual_info_score",
    "homogeneity_score",
    "completeness_score",
    "v_measure_score",
    "homogeneity_completeness_v_measure",
]
ALL = [*DATA_METRICS, "silhouette_samples", *LABELING_METRICS]


def data_sets():
    """(name, X, labels): random and clustered data, ties, singletons, odd label values."""
    rng = np.random.RandomState(0)
    out = []
    for seed, (n, d, k) in enumerate([(200, 2, 3), (300, 5, 4), (150, 8, 6)]):
        X, y = make_blobs(n_samples=n, n_features=d, centers=k, random_state=seed)
        out.append((f"blobs{seed}", X, y))
        out.append((f"uniform{seed}", rng.uniform(-3, 3, (n, d)), rng.randint(0, k, n)))
    # Ties: coordinates in eighths (exact arithmetic in scikit-learn too), many duplicates.
    out.append(("ties", rng.randint(0, 5, (160, 2)) / 8.0, rng.randint(0, 3, 160)))
    X, y = make_blobs(n_samples=90, centers=3, random_state=5)
    y[[3, 40]] = [10, 11]
    out.append(("singletons", X, y))
    X, y = make_blobs(n_samples=120, centers=3, random_state=6)
    out.append(("string_labels", X, np.array(["red", "green", "blue"])[y]))
    out.append(("negative_labels", X, y * -7 + 1000))
    return out


DATA = data_sets()


def assert_close(got, want):
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=0)


@pytest.mark.parametrize(("name", "X", "labels"), DATA, ids=[d[0] for d in DATA])
def test_data_metrics_match_sklearn(name, X, labels):
    for metric in DATA_METRICS:
        assert_close(getattr(km, metric)(X, labels), getattr(skm, metric)(X, labels))
    ours, theirs = km.silhouette_samples(X, labels), skm.silhouette_samples(X, labels)
    assert ours.dtype == theirs.dtype == np.float64
    # A sample's value is (b - a) / max(a, b): its rounding error is relative to 1, not to itself.
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-13)


def test_float32_input():
    X, y = make_blobs(n_samples=200, n_features=4, centers=3, random_state=1)
    X32 = X.astype(np.float32)
    X32_as_64 = X32.astype(np.float64)
    # kentro computes in float64 from the float32 values: scikit-learn's value for them in float64.
    for metric in DATA_METRICS:
        assert_close(getattr(km, metric)(X32, y), getattr(skm, metric)(X32_as_64, y))
        # scikit-learn computes some of them in float32.
        np.testing.assert_allclose(
            getattr(km, metric)(X32, y), getattr(skm, metric)(X32, y), rtol=1e-5
        )
    ours, theirs = km.silhouette_samples(X32, y), skm.silhouette_samples(X32, y)
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(
        ours, skm.silhouette_samples(X32_as_64, y).astype(np.float32), rtol=1e-6
    )


def test_integer_and_list_input():
    X = [[0, 0], [0, 1], [5, 5], [6, 5], [9, 0], [9, 1]]
    labels = [0, 0, 1, 1, 2, 2]
    for metric in [*DATA_METRICS, "silhouette_samples"]:
        assert_close(getattr(km, metric)(X, labels), getattr(skm, metric)(X, labels))


@pytest.mark.parametrize("random_state", [0, 7, np.random.RandomState(3)])
def test_sampled_silhouette_draws_sklearns_sample(random_state):
    X, y = make_blobs(n_samples=400, centers=4, random_state=2)
    state = random_state
    if isinstance(random_state, np.random.RandomState):
        state = np.random.RandomState(3)
    ours = km.silhouette_score(X, y, sample_size=100, random_state=random_state)
    assert_close(ours, skm.silhouette_score(X, y, sample_size=100, random_state=state))
    # More than n_samples: every sample, as scikit-learn does.
    assert_close(
        km.silhouette_score(X, y, sample_size=1000, random_state=0),
        skm.silhouette_score(X, y),
    )


def test_labeling_metrics_match_sklearn():
    rng = np.random.RandomState(4)
    cases = [
        ([], []),
        ([3], [5]),
        ([1] * 5, [2] * 5),
        ([0] * 6, [0, 0, 1, 1, 2, 2]),
        ([0, 0, 1, 1, 2, 2], [9] * 6),
        ([0, 0, 1, 1], [0, 1, 0, 1]),
        (["a", "a", "b", "c"], [10, 10, -3, -3]),
        (list(range(12)), [0] * 6 + [1] * 6),
        (rng.randint(0, 5, 300), rng.randint(0, 8, 300)),
        (np.arange(500) // 100, np.arange(500) // 70),
    ]
    for t, p in cases:
        for metric in LABELING_METRICS:
            assert_close(getattr(km, metric)(t, p), getattr(skm, metric)(t, p))
        for beta in (0.5, 2.0):
            assert_close(
                km.v_measure_score(t, p, beta=beta),
                skm.v_measure_score(t, p, beta=beta),
            )


@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(3, 40), st.integers(1, 4)),
        elements=st.integers(-4, 4),
    ),
    data=st.data(),
)
def test_data_metrics_match_sklearn_or_fail_alike(X, data):
    # Small integers: many ties, and scikit-learn's arithmetic is exact.
    labels = data.draw(arrays(np.int64, X.shape[0], elements=st.integers(0, 4)))
    for metric in [*DATA_METRICS, "silhouette_samples"]:
        try:
            want = getattr(skm, metric)(X, labels)
        except ValueError as e:
            with pytest.raises(ValueError, match=re.escape(str(e))):
                getattr(km, metric)(X, labels)
            continue
        np.testing.assert_allclose(
            getattr(km, metric)(X, labels), want, rtol=RTOL, atol=1e-13
        )


@given(
    t=arrays(np.int64, st.integers(0, 60), elements=st.integers(0, 5)),
    data=st.data(),
)
def test_labeling_metrics_match_sklearn_hypothesis(t, data):
    p = data.draw(arrays(np.int64, t.shape[0], elements=st.integers(-3, 3)))
    for metric in LABELING_METRICS:
        assert_close(getattr(km, metric)(t, p), getattr(skm, metric)(t, p))


def test_thread_count_does_not_change_results():
    X, y = make_blobs(n_samples=3000, centers=5, random_state=3)
    with kentro.threadpool_limits(1):
        one = [
            km.silhouette_samples(X, y),
            km.calinski_harabasz_score(X, y),
            km.davies_bouldin_score(X, y),
        ]
    with kentro.threadpool_limits(3):
        three = [
            km.silhouette_samples(X, y),
            km.calinski_harabasz_score(X, y),
            km.davies_bouldin_score(X, y),
        ]
    np.testing.assert_array_equal(one[0], three[0])
    assert one[1:] == three[1:]


# -- signatures and errors --------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_signatures_match_sklearn(name):
    ours = inspect.signature(getattr(km, name))
    theirs = inspect.signature(getattr(skm, name))
    assert list(ours.parameters) == list(theirs.parameters)
    for p_name, p in theirs.parameters.items():
        assert ours.parameters[p_name].kind == p.kind, p_name
        assert ours.parameters[p_name].default == p.default, p_name


def assert_same_error(name, *args, **kwargs):
    """kentro raises scikit-learn's exception type with scikit-learn's message."""
    with pytest.raises(Exception) as theirs:
        getattr(skm, name)(*args, **kwargs)
    with pytest.raises(theirs.type, match=re.escape(str(theirs.value))):
        getattr(km, name)(*args, **kwargs)


X6 = [[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [6.0, 5.0], [9.0, 0.0], [9.0, 1.0]]


@pytest.mark.parametrize("name", [*DATA_METRICS, "silhouette_samples"])
def test_data_errors_match_sklearn(name):
    assert_same_error(name, X6, [1] * 6)  # one label
    assert_same_error(name, X6, list(range(6)))  # as many labels as samples
    assert_same_error(name, X6, [0, 1, 1])  # length mismatch
    for bad in (np.nan, np.inf):
        X = np.array(X6)
        X[2, 1] = bad
        assert_same_error(name, X, [0, 0, 1, 1, 2, 2])
    assert_same_error(name, np.empty((0, 2)), [])
    assert_same_error(name, [[1.0, 2.0]], [0])
    assert_same_error(name, np.empty((6, 0)), [0, 0, 1, 1, 2, 2])
    assert_same_error(name, X6, None)
    assert_same_error(name, "not an array", [0, 1])
    assert_same_error(name, X6, [[0, 0, 1, 1, 2, 2]])


def test_silhouette_parameter_errors_match_sklearn():
    labels = [0, 0, 1, 1, 2, 2]
    assert_same_error("silhouette_score", X6, labels, sample_size=0)
    assert_same_error("silhouette_score", X6, labels, sample_size=2.5)
    assert_same_error("silhouette_score", X6, labels, metric="no-such-metric")
    assert_same_error("silhouette_samples", X6, labels, metric=3)
    assert_same_error(
        "silhouette_score", X6, labels, sample_size=3, random_state="seed"
    )
    # A sample with one label.
    assert_same_error("silhouette_score", X6, labels, sample_size=1, random_state=0)


@pytest.mark.parametrize("name", ["silhouette_score", "silhouette_samples"])
@pytest.mark.parametrize("metric", ["manhattan", "cosine", "precomputed", np.subtract])
def test_other_metrics_are_refused_by_name(name, metric):
    with pytest.raises(
        ValueError,
        match=rf"supports metric='euclidean' only, got metric={re.escape(repr(metric))}",
    ):
        getattr(km, name)(X6, [0, 0, 1, 1, 2, 2], metric=metric)


def test_distance_keywords():
    labels = [0, 0, 1, 1, 2, 2]
    want = skm.silhouette_score(X6, labels)
    assert_close(km.silhouette_score(X6, labels, n_jobs=2, working_memory=1), want)
    with pytest.raises(
        ValueError, match="takes no distance parameters for metric='euclidean', got p"
    ):
        km.silhouette_samples(X6, labels, p=3)


@pytest.mark.parametrize("name", [*DATA_METRICS, "silhouette_samples"])
def test_sparse_input_is_refused(name):
    X = sp.csr_matrix(np.array(X6))
    if name in ("calinski_harabasz_score", "davies_bouldin_score"):
        assert_same_error(name, X, [0, 0, 1, 1, 2, 2])  # scikit-learn refuses it too
    else:
        with pytest.raises(TypeError, match="does not support sparse input yet"):
            getattr(km, name)(X, [0, 0, 1, 1, 2, 2])


@pytest.mark.parametrize("name", LABELING_METRICS)
def test_labeling_errors_match_sklearn(name):
    assert_same_error(name, [0, 1], [0, 1, 1])
    assert_same_error(name, [[0, 1]], [0, 1])
    assert_same_error(name, [0, 1], [[0, 1], [1, 0]])
    assert_same_error(name, None, [0, 1])
    assert_same_error(name, [0, np.nan], [0, 1])


def test_labeling_parameter_errors():
    assert_same_error("v_measure_score", [0, 1], [0, 1], beta=-1)
    assert_same_error("homogeneity_completeness_v_measure", [0, 1], [0, 1], beta="x")
    assert_same_error(
        "normalized_mutual_info_score", [0, 1], [0, 1], average_method="median"
    )
    for method in ("min", "geometric", "max"):
        with pytest.raises(
            ValueError,
            match=f"supports average_method='arithmetic' only, got average_method='{method}'",
        ):
            km.normalized_mutual_info_score([0, 1], [0, 1], average_method=method)


def test_continuous_labels_warn_like_sklearn():
    t, p = [0.5, 1.5, 2.25], [0, 1, 1]
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        want = skm.normalized_mutual_info_score(t, p)
    with pytest.warns(UserWarning, match=re.escape(str(theirs[0].message))):
        got = km.normalized_mutual_info_score(t, p)
    assert_close(got, want)


def test_v_measure_beta_zero_without_completeness():
    # scikit-learn divides by zero here; kentro gives the limit, 0.
    with pytest.raises(ZeroDivisionError):
        skm.v_measure_score([0] * 4, [0, 0, 1, 1], beta=0)
    assert km.v_measure_score([0] * 4, [0, 0, 1, 1], beta=0) == 0.0
