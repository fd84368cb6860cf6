"""Sparse input: scipy.sparse CSR (and other formats, converted to CSR) is clustered without
densifying, with scikit-learn's results from the same start and kentro's dense results from the
same seed."""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.cluster
from kentro import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer


def _tfidf(n_docs=300, n_topics=4, seed=0):
    """TF-IDF rows of a generated corpus with planted topics (and a few empty documents)."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{t}x{i}" for t in range(n_topics) for i in range(15)]
    docs, topics = [], []
    for d in range(n_docs):
        t = d % n_topics
        topics.append(t)
        if d % 29 == 3:
            docs.append("")
            continue
        own = rng.integers(0, 15, size=rng.integers(4, 12)) + 15 * t
        noise = rng.integers(0, len(vocab), size=2)
        docs.append(" ".join(vocab[i] for i in np.concatenate([own, noise])))
    X = TfidfVectorizer(sublinear_tf=True).fit_transform(docs)
    return sp.csr_matrix(X, dtype=np.float64), np.array(topics)


def _init(X, k, seed):
    """k rows of X as initial centres, scaled apart: TF-IDF rows all have norm 1, and an
    empty document is then equally far from every such centre (a tie each library breaks
    by rounding noise, as the KMeans docstring says)."""
    rows = np.random.default_rng(seed).choice(X.shape[0], size=k, replace=False)
    return X[rows].toarray() * np.linspace(0.8, 1.2, k)[:, None]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_as_sklearn_from_the_same_start_f64(seed, weighted):
    X, _ = _tfidf(seed=seed)
    k = 5
    init = _init(X, k, seed)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    ours = KMeans(k, init=init, n_init=1).fit(X, sample_weight=w)
    ref = sklearn.cluster.KMeans(k, init=init, n_init=1).fit(X, sample_weight=w)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(
        ours.cluster_centers_, ref.cluster_centers_, rtol=1e-7, atol=1e-12
    )
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-7)
    assert ours.n_iter_ == ref.n_iter_
    Xnew = sp.random(50, X.shape[1], density=0.1, format="csr", random_state=seed)
    np.testing.assert_array_equal(ours.predict(Xnew), ref.predict(Xnew))
    np.testing.assert_allclose(
        ours.transform(Xnew), ref.transform(Xnew), rtol=1e-7, atol=1e-12
    )
    assert ours.score(Xnew) == pytest.approx(ref.score(Xnew), rel=1e-7)


def test_same_as_sklearn_from_the_same_start_f32():
    X, _ = _tfidf(seed=4)
    X = X.astype(np.float32)
    init = _init(X, 4, 4)
    ours = KMeans(4, init=init, n_init=1).fit(X)
    ref = sklearn.cluster.KMeans(4, init=init, n_init=1).fit(X)
    assert ours.cluster_centers_.dtype == np.float32
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(
        ours.cluster_centers_, ref.cluster_centers_, rtol=1e-4, atol=1e-6
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_fit_equals_dense_fit_from_the_same_seed(dtype):
    X, _ = _tfidf(seed=5)
    # Rows of different lengths: with unit rows, an empty document is equally far from every
    # k-means++ centre (rows of X), a tie that rounding breaks differently in the dense and
    # the sparse computations.
    lengths = np.random.default_rng(5).uniform(0.5, 2.0, X.shape[0])
    X = sp.csr_matrix(sp.diags(lengths) @ X).astype(dtype)
    w = np.random.default_rng(5).uniform(0.5, 2.0, X.shape[0])
    for kwargs in [{}, {"init": "random"}, {"n_init": 3}]:
        sparse = KMeans(6, random_state=3, **kwargs).fit(X, sample_weight=w)
        dense = KMeans(6, random_state=3, **kwargs).fit(X.toarray(), sample_weight=w)
        np.testing.assert_array_equal(sparse.labels_, dense.labels_)
        rtol = 1e-10 if dtype == np.float64 else 1e-4
        np.testing.assert_allclose(
            sparse.cluster_centers_, dense.cluster_centers_, rtol=rtol, atol=rtol * 1e-2
        )
        assert sparse.inertia_ == pytest.approx(dense.inertia_, rel=rtol)


@pytest.mark.parametrize(
    "convert",
    [
        sp.csc_matrix,
        sp.coo_matrix,
        sp.lil_matrix,
        sp.csr_array,
        sp.csc_array,
        lambda X: X.astype(np.float64).tocsr(),
    ],
)
def test_every_sparse_format_gives_the_csr_result(convert):
    X, _ = _tfidf(seed=6)
    ref = KMeans(4, random_state=0).fit(X)
    est = KMeans(4, random_state=0).fit(convert(X))
    np.testing.assert_array_equal(est.labels_, ref.labels_)
    np.testing.assert_array_equal(est.cluster_centers_, ref.cluster_centers_)
    np.testing.assert_array_equal(est.predict(convert(X)), ref.labels_)


def test_methods_on_sparse_match_dense():
    X, _ = _tfidf(seed=7)
    w = np.linspace(0.5, 2.0, X.shape[0])
    est = KMeans(4, random_state=1)
    labels = est.fit_predict(X, sample_weight=w)
    np.testing.assert_array_equal(labels, est.labels_)
    dense = X.toarray()
    np.testing.assert_array_equal(est.predict(X), est.predict(dense))
    np.testing.assert_allclose(est.transform(X), est.transform(dense), rtol=1e-12)
    assert est.score(X, sample_weight=w) == pytest.approx(
        est.score(dense, sample_weight=w), rel=1e-12
    )
    dist = KMeans(4, random_state=1).fit_transform(X, sample_weight=w)
    np.testing.assert_allclose(dist, est.transform(dense), rtol=1e-12)
    # A dense fit predicts sparse rows too, and the other way round.
    dense_fit = KMeans(4, random_state=1).fit(dense)
    np.testing.assert_array_equal(dense_fit.predict(X), dense_fit.labels_)


def test_non_canonical_csr_is_summed_and_sorted():
    # Row 0 holds column 2 twice (1 + 2) and its columns out of order.
    data = np.array([1.0, 5.0, 2.0, 4.0, 4.5, 0.5])
    indices = np.array([2, 0, 2, 1, 1, 0])
    indptr = np.array([0, 3, 4, 5, 6])
    X = sp.csr_matrix((data, indices, indptr), shape=(4, 3))
    assert not X.has_canonical_format
    canonical = X.copy()
    canonical.sum_duplicates()
    a = KMeans(2, random_state=0).fit(X)
    b = KMeans(2, random_state=0).fit(canonical)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert X.data[0] == 1.0, "the caller's matrix is left as it was"


def test_bad_sparse_input_is_refused_with_sklearns_messages():
    X, _ = _tfidf(seed=8)
    bad = X.copy()
    bad.data[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KMeans(3).fit(bad)
    est = KMeans(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :-1])
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_clusters=3"):
        KMeans(3).fit(X[:2])


def test_float32_model_predicts_float64_sparse():
    X, _ = _tfidf(seed=9)
    est = KMeans(4, random_state=0).fit(X.astype(np.float32))
    np.testing.assert_array_equal(est.predict(X), est.predict(X.toarray()))


def test_exact1d_on_sparse_is_the_dense_optimum():
    x = np.array([[0.0], [0.0], [1.0], [5.0], [5.5], [6.0], [20.0], [21.0], [0.0]])
    dense = KMeans(3, algorithm="exact1d").fit(x)
    sparse = KMeans(3, algorithm="exact1d").fit(sp.csr_matrix(x))
    np.testing.assert_array_equal(sparse.labels_, dense.labels_)
    np.testing.assert_array_equal(sparse.cluster_centers_, dense.cluster_centers_)
    assert sparse.inertia_ == dense.inertia_
    assert sparse.n_iter_ == 1
    with pytest.raises(ValueError, match="one feature"):
        KMeans(2, algorithm="exact1d").fit(sp.csr_matrix(np.eye(4)))
