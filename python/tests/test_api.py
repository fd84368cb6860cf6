"""kentro.KMeans as a drop-in for sklearn.cluster.KMeans: signature, inputs, outputs, errors."""

import inspect
import pickle
import re
import tracemalloc
import warnings
from numbers import Integral

import kentro
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn.cluster
from kentro import KMeans
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, InvalidParameterError
from sklearn.utils.validation import check_is_fitted


@pytest.fixture(scope="module")
def blobs():
    X, y = kentro.make_blobs(300, centers=3, cluster_std=0.6, random_state=0)
    return X, y


# -- the estimator's shape ---------------------------------------------------------------------


def test_signature_and_defaults_match_sklearn():
    ours = inspect.signature(KMeans.__init__)
    theirs = inspect.signature(sklearn.cluster.KMeans.__init__)
    assert list(ours.parameters) == list(theirs.parameters)
    for name, p in theirs.parameters.items():
        assert ours.parameters[name].kind == p.kind, name
        assert ours.parameters[name].default == p.default, name
    assert KMeans().get_params() == sklearn.cluster.KMeans().get_params()


def test_mixins_in_sklearns_order():
    def sklearn_bases(cls):
        return [
            c
            for c in cls.__mro__
            if c.__module__.startswith("sklearn.") and not c.__name__.startswith("_")
        ]

    ours = sklearn_bases(KMeans)
    theirs = sklearn_bases(sklearn.cluster.KMeans)
    assert ours == [c for c in theirs if c is not sklearn.cluster.KMeans]
    names = [c.__name__ for c in ours]
    assert names.index("TransformerMixin") < names.index("ClusterMixin")
    assert names.index("ClusterMixin") < names.index("BaseEstimator")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_strided_arrays_fit_as_their_contiguous_copies(blobs, dtype, monkeypatch):
    import kentro._kmeans as kmeans_module

    X, _ = blobs
    wide = np.repeat(X.astype(dtype), 2, axis=1)
    refs = {}
    for name, strided in (
        ("slice", wide[:, ::2]),
        ("fortran", np.asfortranarray(X.astype(dtype))),
    ):
        assert not strided.flags.c_contiguous
        refs[name] = (
            strided,
            KMeans(3, random_state=0).fit(np.ascontiguousarray(strided)),
        )
    validate_data = kmeans_module.validate_data
    bad = wide[:, ::2].copy(order="F")
    bad[5, 1] = np.nan
    with pytest.raises(ValueError) as expected:
        validate_data(KMeans(3), bad, dtype=[np.float64, np.float32], order="C")

    # Finite strided arrays take the shortcut: scikit-learn's validation is never called.
    def refuse(*args, **kwargs):
        raise AssertionError("validate_data was called")

    monkeypatch.setattr(kmeans_module, "validate_data", refuse)
    for name, (strided, ref) in refs.items():
        km = KMeans(3, random_state=0).fit(strided)
        np.testing.assert_array_equal(km.labels_, ref.labels_, err_msg=name)
        np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
        assert km.cluster_centers_.dtype == dtype and km.n_features_in_ == 2
        assert not hasattr(km, "feature_names_in_")
    # A non-finite value is refused by scikit-learn's validation, with its message.
    monkeypatch.setattr(kmeans_module, "validate_data", validate_data)
    with pytest.raises(ValueError) as got:
        KMeans(3).fit(bad)
    assert str(got.value) == str(expected.value)


def test_init_only_stores_arguments():
    init = np.zeros((2, 2))
    km = KMeans(n_clusters=-5, init=init, algorithm="nonsense")
    assert km.init is init and km.n_clusters == -5 and km.algorithm == "nonsense"


def test_fitted_attributes(blobs):
    X, _ = blobs
    km = KMeans(3, random_state=0).fit(X)
    assert (
        km.cluster_centers_.shape == (3, 2) and km.cluster_centers_.dtype == np.float64
    )
    assert km.labels_.dtype == np.int32 and km.labels_.shape == (300,)
    assert isinstance(km.inertia_, float) and km.inertia_ > 0
    assert isinstance(km.n_iter_, int) and 1 <= km.n_iter_ <= 300
    assert km.n_features_in_ == 2
    assert not hasattr(km, "feature_names_in_")
    assert list(km.get_feature_names_out()) == ["kmeans0", "kmeans1", "kmeans2"]
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-12)


def test_methods_agree(blobs):
    X, _ = blobs
    km = KMeans(3, random_state=0).fit(X)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    np.testing.assert_array_equal(KMeans(3, random_state=0).fit_predict(X), km.labels_)
    D = km.transform(X)
    np.testing.assert_array_equal(D.argmin(axis=1), km.labels_)
    expected = np.sqrt(((X[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1))
    np.testing.assert_allclose(D, expected, rtol=1e-12)
    np.testing.assert_allclose(
        KMeans(3, random_state=0).fit_transform(X), D, rtol=1e-12
    )


def test_random_state_semantics(blobs):
    X, _ = blobs
    a = KMeans(3, n_init=3, init="random", random_state=7).fit(X)
    b = KMeans(3, n_init=3, init="random", random_state=7).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    # A RandomState or numpy's global state give reproducible seeds, as in scikit-learn.
    c = KMeans(3, random_state=np.random.RandomState(3)).fit(X)
    d = KMeans(3, random_state=np.random.RandomState(3)).fit(X)
    np.testing.assert_array_equal(c.cluster_centers_, d.cluster_centers_)
    np.random.seed(11)  # noqa: NPY002  (numpy's legacy global state, as sklearn uses)
    e = KMeans(3).fit(X)
    np.random.seed(11)  # noqa: NPY002
    f = KMeans(3).fit(X)
    np.testing.assert_array_equal(e.cluster_centers_, f.cluster_centers_)


def test_algorithm_names(blobs):
    X, _ = blobs
    ref = KMeans(3, random_state=0).fit(X)
    for name in ["lloyd", "elkan", "auto", "lloyd-plain", "hamerly", "yinyang"]:
        km = KMeans(3, random_state=0, algorithm=name).fit(X)
        np.testing.assert_array_equal(km.labels_, ref.labels_)
        np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    with pytest.raises(InvalidParameterError, match="'algorithm' parameter of KMeans"):
        KMeans(3, algorithm="full").fit(X)


def test_elkan_with_one_cluster_warns_like_sklearn(blobs):
    X, _ = blobs
    msg = "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead."
    with pytest.warns(RuntimeWarning, match=re.escape(msg)):
        KMeans(1, algorithm="elkan").fit(X)


def test_n_init_auto_and_explicit_init_warning(blobs):
    X, _ = blobs
    init = X[:3].copy()
    msg = (
        "Explicit initial center position passed: performing only one init in KMeans "
        "instead of n_init=5."
    )
    with pytest.warns(RuntimeWarning, match=re.escape(msg)):
        KMeans(3, init=init, n_init=5).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KMeans(3, init=init).fit(X)


def test_callable_init_is_called_n_init_times(blobs):
    X, _ = blobs
    calls = []

    def first_rows(X, n_clusters, random_state):
        calls.append(random_state)
        start = random_state.randint(0, X.shape[0] - n_clusters)
        return X[start : start + n_clusters]

    km = KMeans(3, init=first_rows, random_state=0).fit(X)
    assert len(calls) == 10  # n_init="auto" is 10 for a callable
    assert all(isinstance(r, np.random.RandomState) for r in calls)
    assert km.inertia_ == pytest.approx(
        KMeans(3, random_state=0).fit(X).inertia_, rel=1e-6
    )
    with pytest.raises(ValueError, match=r"does not match the number of clusters 3"):
        KMeans(3, init=lambda X, k, random_state: X[:2]).fit(X)


def test_fewer_distinct_clusters_warns_like_sklearn():
    X = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5)
    msg = (
        "Number of distinct clusters (2) found smaller than n_clusters (3). "
        "Possibly due to duplicate points in X."
    )
    with pytest.warns(ConvergenceWarning, match=re.escape(msg)):
        KMeans(3, random_state=0).fit(X)


# -- inputs ------------------------------------------------------------------------------------


def test_float32_stays_float32(blobs):
    X = blobs[0].astype(np.float32)
    km = KMeans(3, random_state=0).fit(X)
    assert km.cluster_centers_.dtype == np.float32
    assert km.transform(X).dtype == np.float32
    assert km.fit_transform(X).dtype == np.float32
    # Mixed dtypes compute in float64 (where scikit-learn 1.9 raises a buffer-dtype error).
    assert km.transform(X.astype(np.float64)).dtype == np.float64
    np.testing.assert_array_equal(km.predict(X.astype(np.float64)), km.labels_)


def test_float64_c_contiguous_is_not_copied_by_python():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 8))  # 12.8 MB
    before = X.copy()
    km = KMeans(4, random_state=0, max_iter=3)
    tracemalloc.start()
    try:
        km.fit(X)
        km.predict(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # numpy allocations are traced; a copy of X would show up as >= X.nbytes.
    assert peak < X.nbytes / 4, peak
    np.testing.assert_array_equal(X, before)  # and X is never modified


def test_lists_and_integers(blobs):
    X, _ = blobs
    km_list = KMeans(3, random_state=0).fit(X.tolist())
    km = KMeans(3, random_state=0).fit(X)
    np.testing.assert_array_equal(km_list.labels_, km.labels_)
    Xi = np.array([[0, 0], [0, 1], [10, 10], [10, 11]])
    ki = KMeans(2, random_state=0).fit(Xi)
    assert ki.cluster_centers_.dtype == np.float64


def test_pandas_feature_names(blobs):
    X, _ = blobs
    df = pd.DataFrame(X, columns=["a", "b"])
    km = KMeans(3, random_state=0).fit(df)
    np.testing.assert_array_equal(km.feature_names_in_, ["a", "b"])
    np.testing.assert_array_equal(km.predict(df), km.labels_)
    with pytest.raises(ValueError, match="feature names should match"):
        km.predict(pd.DataFrame(X, columns=["b", "c"]))
    out = KMeans(3, random_state=0).set_output(transform="pandas").fit(df).transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["kmeans0", "kmeans1", "kmeans2"]


@pytest.mark.parametrize("fmt", ["csr_matrix", "csr_array", "csc_matrix"])
def test_sparse_is_clustered_but_not_seeded_on_its_own(blobs, fmt):
    # KMeans takes sparse input (tests/test_sparse.py); kmeans_plusplus does not yet.
    X = getattr(sp, fmt)(blobs[0])
    km = KMeans(3, random_state=0).fit(X)
    dense = KMeans(3, random_state=0).fit(blobs[0])
    np.testing.assert_array_equal(km.labels_, dense.labels_)
    np.testing.assert_array_equal(km.predict(X), dense.predict(blobs[0]))
    np.testing.assert_allclose(km.transform(X), dense.transform(blobs[0]), rtol=1e-9)
    with pytest.raises(TypeError, match="does not support sparse input"):
        kentro.kmeans_plusplus(X, 3)


# -- errors: scikit-learn's validation first, with its types and messages ----------------------


def _sk_and_ours(fn):
    """The exception (type, message) that fn(estimator_class) raises for each library."""
    out = []
    for cls in (sklearn.cluster.KMeans, KMeans):
        with pytest.raises(Exception) as info:
            fn(cls)
        out.append((type(info.value), str(info.value)))
    return out


X10 = np.random.default_rng(0).normal(size=(10, 3))


@pytest.mark.parametrize(
    "case",
    [
        "nan",
        "inf",
        "too_few_samples",
        "zero_clusters",
        "predict_width",
        "weight_length",
        "weights_all_zero",
        "init_rows",
        "init_cols",
        "init_nan",
        "one_d",
        "empty",
        "no_features",
        "not_fitted",
        "bad_n_init",
        "negative_tol",
    ],
)
def test_errors_match_sklearn(case):
    X = X10.copy()
    fns = {
        "nan": lambda c: c(2).fit(
            np.where(np.arange(30).reshape(10, 3) == 4, np.nan, X)
        ),
        "inf": lambda c: c(2).fit(
            np.where(np.arange(30).reshape(10, 3) == 4, np.inf, X)
        ),
        "too_few_samples": lambda c: c(11).fit(X),
        "zero_clusters": lambda c: c(0).fit(X),
        "predict_width": lambda c: (
            c(2, random_state=0).fit(X).predict(np.zeros((2, 4)))
        ),
        "weight_length": lambda c: c(2).fit(X, sample_weight=np.ones(9)),
        "weights_all_zero": lambda c: c(2).fit(X, sample_weight=np.zeros(10)),
        "init_rows": lambda c: c(2, init=np.zeros((3, 3))).fit(X),
        "init_cols": lambda c: c(2, init=np.zeros((2, 4))).fit(X),
        "init_nan": lambda c: c(2, init=np.full((2, 3), np.nan)).fit(X),
        "one_d": lambda c: c(2).fit(X[:, 0]),
        "empty": lambda c: c(2).fit(np.zeros((0, 3))),
        "no_features": lambda c: c(2).fit(np.zeros((10, 0))),
        "not_fitted": lambda c: c(2).predict(X),
        "bad_n_init": lambda c: c(2, n_init=0).fit(X),
        "negative_tol": lambda c: c(2, tol=-1.0).fit(X),
    }
    (sk_type, sk_msg), (our_type, our_msg) = _sk_and_ours(fns[case])
    assert our_type is sk_type
    assert our_msg == sk_msg.replace("sklearn.cluster._kmeans", "kentro._kmeans")


def test_negative_weights_are_rejected_clearly():
    # scikit-learn's validation accepts them (an array init then fits silently; k-means++ fails
    # in numpy's sampling); kentro's core refuses them all, with the index and value.
    w = np.ones(10)
    w[3] = -1.0
    init = X10[:2].copy()
    sklearn.cluster.KMeans(2, init=init, n_init=1).fit(X10, sample_weight=w)
    for km in (KMeans(2), KMeans(2, init=init, n_init=1)):
        with pytest.raises(
            kentro.exceptions.SampleWeightError, match=r"sample_weight\[3\] = -1"
        ):
            km.fit(X10, sample_weight=w)
        with pytest.raises(NotFittedError):
            check_is_fitted(km)


# -- sklearn machinery -------------------------------------------------------------------------


def test_pickle_and_clone(blobs):
    X, _ = blobs
    km = KMeans(3, random_state=0).fit(X)
    again = pickle.loads(pickle.dumps(km))
    np.testing.assert_array_equal(again.predict(X), km.labels_)
    np.testing.assert_array_equal(again.cluster_centers_, km.cluster_centers_)
    assert "_predictor" in km.__dict__  # pickling does not touch the original
    fresh = clone(km)
    assert fresh.get_params() == km.get_params() and not hasattr(fresh, "labels_")


def test_changed_centres_are_used(blobs):
    X, _ = blobs
    km = KMeans(3, random_state=0).fit(X)
    km.cluster_centers_ = km.cluster_centers_[::-1].copy()
    np.testing.assert_array_equal(km.predict(X), 2 - km.labels_)


def test_pipeline_and_grid_search(blobs):
    X, _ = blobs
    pipe = Pipeline([("scale", StandardScaler()), ("km", KMeans(3, random_state=0))])
    labels = pipe.fit(X).predict(X)
    assert labels.shape == (300,)
    search = GridSearchCV(
        KMeans(random_state=0), {"n_clusters": [2, 3, 5]}, cv=3, n_jobs=2
    )
    search.fit(X)
    assert (
        search.best_params_["n_clusters"] == 5
    )  # score (-inertia) keeps improving with k
    assert isinstance(search.best_estimator_, KMeans)


def test_is_an_sklearn_estimator():
    assert isinstance(KMeans(), BaseEstimator)
    assert KMeans().__sklearn_tags__().estimator_type == "clusterer"


# -- verbose -----------------------------------------------------------------------------------


def test_verbose_prints_through_sys_stdout(capsys, blobs):
    X, _ = blobs
    KMeans(3, random_state=0, verbose=1).fit(X)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Initialization complete"
    assert re.fullmatch(r"Iteration 0, inertia [0-9.e+]+\.", lines[1])
    assert re.fullmatch(
        r"Converged at iteration \d+: (strict convergence|center shift \S+ within tolerance \S+)\.",
        lines[-1],
    )
    assert sum(line.startswith("Iteration") for line in lines) >= 2


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_verbose_lines_match_sklearn_from_the_same_start(capsys, blobs, algorithm):
    from sklearn.cluster import KMeans as SkKMeans

    X, _ = blobs
    init = X[:3]
    for tol in (0.0, 1e-2):
        SkKMeans(3, init=init, n_init=1, tol=tol, verbose=1, algorithm=algorithm).fit(X)
        theirs = capsys.readouterr().out.splitlines()
        KMeans(3, init=init, n_init=1, tol=tol, verbose=1, algorithm=algorithm).fit(X)
        ours = capsys.readouterr().out.splitlines()
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            # Punctuation too: scikit-learn's Elkan lines have no period after the inertia.
            assert a.endswith(".") == b.endswith("."), (a, b)
            words_a, words_b = a.split(), b.split()
            assert len(words_a) == len(words_b), (a, b)
            for x, y in zip(words_a, words_b):
                try:
                    fx, fy = float(x.rstrip(".,")), float(y.rstrip(".,"))
                except ValueError:
                    assert x == y, (a, b)
                else:
                    assert fx == pytest.approx(fy, rel=1e-9, abs=1e-12), (a, b)


def test_verbose_callback_errors_propagate(blobs, monkeypatch):
    X, _ = blobs

    def broken_print(*args, **kwargs):
        raise OSError("stdout is gone")

    monkeypatch.setattr("builtins.print", broken_print)
    km = KMeans(3, random_state=0, verbose=1)
    with pytest.raises(OSError, match="stdout is gone"):
        km.fit(X)
    assert not hasattr(km, "cluster_centers_")


# Every attribute a fit sets, scikit-learn's and kentro's own.
FITTED = [
    "n_features_in_",
    "feature_names_in_",
    "cluster_centers_",
    "labels_",
    "inertia_",
    "n_iter_",
    "_n_features_out",
    "_predictor",
]


def _assert_unfitted(km):
    with pytest.raises(NotFittedError):
        check_is_fitted(km)
    with pytest.raises(NotFittedError):
        km.predict(np.zeros((1, 4)))
    assert [name for name in FITTED if name in vars(km)] == []


def _interrupting_print(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "failure",
    ["keyboard_interrupt", "progress_error", "bad_data", "init_raises", "bad_param"],
)
def test_a_failed_fit_leaves_the_estimator_unfitted(failure, monkeypatch):
    # A first fit on 4 named features, then a refit on 16 that fails: nothing of either fit
    # may remain (validation had already set n_features_in_=16 before the core ran).
    rng = np.random.default_rng(0)
    first = pd.DataFrame(rng.normal(size=(50, 4)), columns=list("abcd"))
    X = rng.normal(size=(200, 16))
    km = KMeans(3, random_state=0).fit(first)
    assert km.n_features_in_ == 4 and hasattr(km, "feature_names_in_")
    if failure == "keyboard_interrupt":
        # The progress callback raises KeyboardInterrupt, as Ctrl-C does from the signal
        # handler (test_native runs a real SIGINT).
        monkeypatch.setattr("builtins.print", _interrupting_print)
        km.set_params(verbose=1)
        with pytest.raises(KeyboardInterrupt):
            km.fit(X)
    elif failure == "progress_error":
        monkeypatch.setattr("builtins.print", lambda *a, **k: 1 / 0)
        km.set_params(verbose=1)
        with pytest.raises(ZeroDivisionError):
            km.fit(X)
    elif failure == "bad_data":
        bad = X.copy()
        bad[5, 5] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            km.fit(bad)
    elif failure == "init_raises":

        def init(X, n_clusters, random_state):
            raise RuntimeError("no centres today")

        km.set_params(init=init)
        with pytest.raises(RuntimeError, match="no centres today"):
            km.fit(X)
    else:
        km.set_params(n_clusters=0)
        with pytest.raises(InvalidParameterError):
            km.fit(X)
    _assert_unfitted(km)
    monkeypatch.undo()
    # And a refit works as on a fresh estimator.
    km.set_params(verbose=0, init="k-means++", n_clusters=3)
    again = km.fit(X)
    assert again.n_features_in_ == 16 and again.cluster_centers_.shape == (3, 16)
    assert not hasattr(again, "feature_names_in_")


# -- kmeans_plusplus, make_blobs, metrics ------------------------------------------------------


def test_kmeans_plusplus(blobs):
    X, _ = blobs
    centers, indices = kentro.kmeans_plusplus(X, 3, random_state=0)
    assert centers.shape == (3, 2) and indices.dtype == np.int64
    np.testing.assert_array_equal(X[indices], centers)
    c32, _ = kentro.kmeans_plusplus(X.astype(np.float32), 3, random_state=0)
    assert c32.dtype == np.float32
    w = np.zeros(300)
    w[[5, 50, 150]] = 1.0
    _, idx = kentro.kmeans_plusplus(X, 3, sample_weight=w, random_state=1)
    assert sorted(idx) == [5, 50, 150]
    with pytest.raises(
        ValueError, match=re.escape("n_samples=300 should be >= n_clusters=301.")
    ):
        kentro.kmeans_plusplus(X, 301)
    with pytest.raises(ValueError, match="length of x_squared_norms 2"):
        kentro.kmeans_plusplus(X, 3, x_squared_norms=np.ones(2))
    with pytest.raises(
        InvalidParameterError, match="'n_clusters' parameter of kmeans_plusplus"
    ):
        kentro.kmeans_plusplus(X, 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_kmeans_plusplus_reports_non_finite_data_as_sklearn(blobs, bad, dtype):
    """The core checks the values; the error is scikit-learn's, reported before any other
    problem with the call (too many clusters, bad weights, bad norms), as scikit-learn's,
    and alone (not chained to the mistake it comes before)."""
    import sklearn.cluster

    X = blobs[0].astype(dtype)
    X[7, 1] = bad
    calls = [
        dict(n_clusters=3),
        dict(n_clusters=301),
        dict(n_clusters=3, sample_weight=np.ones(5)),
        dict(n_clusters=3, x_squared_norms=np.ones(2)),
    ]
    for kwargs in calls:
        with pytest.raises(ValueError) as theirs:
            sklearn.cluster.kmeans_plusplus(X, random_state=0, **kwargs)
        with pytest.raises(ValueError) as ours:
            kentro.kmeans_plusplus(X, random_state=0, **kwargs)
        assert "Input contains" in str(theirs.value), kwargs
        assert str(ours.value) == str(theirs.value), kwargs
        assert ours.value.__suppress_context__ or ours.value.__context__ is None, kwargs
    # Finite data with the same mistakes: the mistakes' own errors.
    X[7, 1] = 0.0
    with pytest.raises(ValueError, match="should be >= n_clusters=301"):
        kentro.kmeans_plusplus(X, 301)


def test_make_blobs():
    X, y = kentro.make_blobs(n_samples=101, n_features=4, centers=5, random_state=3)
    assert X.shape == (101, 4) and X.dtype == np.float64 and y.shape == (101,)
    assert np.bincount(y).tolist() == [21, 20, 20, 20, 20]
    X2, _, c = kentro.make_blobs(
        101, 4, centers=5, random_state=3, return_centers=True, shuffle=True
    )
    np.testing.assert_array_equal(X, X2)
    assert c.shape == (5, 4)
    given = np.array([[0.0, 0.0], [100.0, 100.0]])
    X3, y3 = kentro.make_blobs(
        50, centers=given, cluster_std=[0.1, 0.2], random_state=0
    )
    assert X3.shape == (50, 2) and np.abs(X3 - given[y3]).max() < 2
    with pytest.raises(TypeError, match="one count per centre"):
        kentro.make_blobs([10, 20])
    with pytest.raises(
        InvalidParameterError, match="'n_samples' parameter of make_blobs"
    ):
        kentro.make_blobs(0)


def test_adjusted_rand_score_matches_sklearn():
    from sklearn.metrics import adjusted_rand_score as sk_ari

    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, 4, size=50)
        b = rng.integers(0, 3, size=50)
        assert kentro.metrics.adjusted_rand_score(a, b) == pytest.approx(
            sk_ari(a, b), abs=1e-12
        )
    assert kentro.metrics.adjusted_rand_score(["x", "x", "y"], [3, 3, 9]) == 1.0
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        kentro.metrics.adjusted_rand_score([0, 1], [0, 1, 2])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fit_reports_non_finite_data_first_as_sklearn(bad):
    """KMeans leaves the finiteness test to the core; a non-finite X is still the error
    reported first, alone, and as scikit-learn words it, whatever else is wrong with the call,
    with no warning before it and the estimator left unfitted; with finite data, the other
    mistakes' own errors."""
    X = X10.copy()
    X[4, 1] = bad
    calls = {
        "plain": (dict(n_clusters=2), {}, X),
        "too_few_samples": (dict(n_clusters=11), {}, X),
        "weight_length": (dict(n_clusters=2), dict(sample_weight=np.ones(9)), X),
        "float32": (dict(n_clusters=2, n_init=3), {}, X.astype(np.float32)),
        "elkan": (dict(n_clusters=2, algorithm="elkan"), {}, X),
        # scikit-learn warns about elkan with one cluster only after testing X.
        "elkan_one_cluster": (dict(n_clusters=1, algorithm="elkan"), {}, X),
        "fortran": (dict(n_clusters=2), {}, np.asfortranarray(X)),
        # An array init: one run (no warning), or more asked for (scikit-learn warns only
        # after testing X), or a non-finite init too.
        "array_init": (dict(n_clusters=2, init=X10[:2], n_init=1), {}, X),
        "array_init_auto": (dict(n_clusters=2, init=X10[:2]), {}, X),
        "array_init_runs": (dict(n_clusters=2, init=X10[:2], n_init=3), {}, X),
        "array_init_nan": (dict(n_clusters=2, init=np.full((2, 2), np.nan)), {}, X),
        "array_init_width": (dict(n_clusters=2, init=X10[:2, :1], n_init=1), {}, X),
        "array_init_numpy_one": (
            dict(n_clusters=2, init=X10[:2], n_init=np.int64(1)),
            {},
            X,
        ),
    }
    for name, (params, kwargs, data) in calls.items():
        (sk_type, sk_msg), (our_type, our_msg) = _sk_and_ours(
            lambda c, params=params, kwargs=kwargs, data=data: c(**params).fit(
                data, **kwargs
            )
        )
        assert our_type is sk_type and our_msg == sk_msg, name
        assert "Input X contains" in our_msg, name
        km = KMeans(**params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValueError) as ours:
                km.fit(data, **kwargs)
        assert not caught, (name, [str(w.message) for w in caught])
        assert str(ours.value) == our_msg, name
        assert ours.value.__suppress_context__ or ours.value.__context__ is None, name
        assert not hasattr(km, "n_features_in_") and not hasattr(km, "labels_"), name
    finite = X10.copy()
    with pytest.raises(ValueError, match="should be >= n_clusters=11"):
        KMeans(11).fit(finite)


def test_finiteness_is_left_to_the_core_only_where_nothing_comes_before():
    """The fit leaves X's finiteness test to the core's scan for a named init and for an
    array init of one run (nothing before the core looks at X's values or warns), not for an
    array init of several runs (scikit-learn warns about them after testing X)."""
    deferred = {
        "named": dict(n_clusters=2),
        "array_one": dict(n_clusters=2, init=X10[:2], n_init=1),
        "array_auto": dict(n_clusters=2, init=X10[:2]),
        "array_numpy_one": dict(n_clusters=2, init=X10[:2], n_init=np.int64(1)),
    }
    tested = {
        "array_runs": dict(n_clusters=2, init=X10[:2], n_init=3),
        "elkan_one_cluster": dict(n_clusters=1, algorithm="elkan"),
        "callable": dict(n_clusters=2, init=lambda X, k, random_state: X[:k]),
    }
    for expected, calls in ((True, deferred), (False, tested)):
        for name, params in calls.items():
            _, left = KMeans(**params)._validate_fit_data(X10)
            assert left is expected, name


def test_parameter_validation_is_remembered_by_value_and_type():
    """A fit with parameter values validated before skips scikit-learn's validation, but
    values that differ (in type only, too) are validated again."""
    KMeans(3, n_init=1).fit(X10)
    with pytest.raises(InvalidParameterError, match="'n_init' parameter"):
        KMeans(3, n_init=1.0).fit(X10)
    KMeans(3, max_iter=10).fit(X10)
    with pytest.raises(InvalidParameterError, match="'max_iter' parameter"):
        KMeans(3, max_iter=10.0).fit(X10)
    with pytest.raises(InvalidParameterError, match="'tol' parameter"):
        KMeans(3, tol=float("nan")).fit(X10)
    for _ in range(2):
        with pytest.raises(InvalidParameterError, match="'max_iter' parameter"):
            KMeans(3, max_iter=0).fit(X10)
    # Seeds: any in [0, 2**32 - 1] passes once one has; others are refused.
    for seed in (0, 7, 2**32 - 1):
        KMeans(3, n_init=1, random_state=seed).fit(X10)
    for seed in (-1, 2**32):
        with pytest.raises(InvalidParameterError, match="'random_state' parameter"):
            KMeans(3, n_init=1, random_state=seed).fit(X10)
    # New constraints (a subclass's, changed at run time) validate again.

    class Stricter(KMeans):
        pass

    Stricter(3, n_init=1, max_iter=100).fit(X10)
    Stricter._parameter_constraints = {
        **KMeans._parameter_constraints,
        "max_iter": [Interval(Integral, 500, None, closed="left")],
    }
    with pytest.raises(InvalidParameterError, match="'max_iter' parameter"):
        Stricter(3, n_init=1, max_iter=100).fit(X10)
    km = KMeans(3, n_init=1).fit(X10)
    km.set_params(n_init=0)
    with pytest.raises(InvalidParameterError, match="'n_init' parameter"):
        km.fit(X10)


def test_predict_side_checks_match_sklearn(blobs):
    """predict, transform and score take the shortcut only for plain float arrays of the fitted
    width; every other input gets scikit-learn's checks: the same errors, the same warnings
    (once each) and, from the same centres, the same results."""
    X, _ = blobs
    init = X[:3].copy()
    df = pd.DataFrame(X, columns=["a", "b"])
    nan = X.copy()
    nan[3, 1] = np.nan
    both_inf = X.copy()
    both_inf[0, 0], both_inf[1, 1] = np.inf, -np.inf
    x32 = X.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        matrix = np.asmatrix(X)
    inputs = {
        "plain": (X, X, {}),
        "nan": (X, nan, {}),
        "inf": (X, np.where(X > 5, np.inf, X), {}),
        "both_inf": (X, both_inf, {}),
        "wider": (X, np.hstack([X, X]), {}),
        "narrower": (X, X[:, :1], {}),
        "no_rows": (X, X[:0], {}),
        "one_d": (X, X[:, 0], {}),
        "matrix": (X, matrix, {}),
        "names_then_array": (df, X, {}),
        "array_then_names": (X, df, {}),
        "float32_model": (x32, x32, {}),
        "fortran": (X, np.asfortranarray(X), {}),
        "slice": (X, X[::2], {}),
        "list": (X, X.tolist(), {}),
        "int": (X, np.rint(X).astype(np.int64), {}),
        "weights": (X, X, {"sample_weight": np.linspace(0.5, 2.0, len(X))}),
    }
    for name, (train, test, score_kwargs) in inputs.items():
        for method in ("predict", "transform", "score"):
            got = []
            for cls in (sklearn.cluster.KMeans, KMeans):
                km = cls(3, init=init.astype(np.asarray(train).dtype), n_init=1)
                km.fit(train)
                kwargs = score_kwargs if method == "score" else {}
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        out = getattr(km, method)(test, **kwargs)
                        error = None
                    except (ValueError, TypeError) as e:
                        out, error = None, (type(e), str(e))
                seen = [(w.category, str(w.message)) for w in caught]
                got.append((seen, error, out))
            (sk_warn, sk_err, sk_out), (our_warn, our_err, our_out) = got
            what = f"{name}, {method}"
            assert our_warn == sk_warn, (what, our_warn, sk_warn)
            assert our_err == sk_err, what
            if sk_err is None:
                np.testing.assert_allclose(our_out, sk_out, rtol=1e-5, err_msg=what)
    # float32 data on a float64 model (scikit-learn 1.9.1 fails here on a buffer dtype):
    # the labels of the same values in float64.
    km = KMeans(3, random_state=0, n_init=1).fit(X)
    np.testing.assert_array_equal(km.predict(x32), km.predict(x32.astype(np.float64)))
