"""KMeansOutlierDetector: scikit-learn's outlier-detector conventions and checks, planted
outliers found, the threshold from the contamination, clear errors; and kentro.load refusing
a model that scales its input."""

import json

import numpy as np
import pytest
from kentro import KMeans, KMeansOutlierDetector, load, make_blobs
from kentro.exceptions import ModelFileError
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks


@parametrize_with_checks(
    [KMeansOutlierDetector(n_clusters=2, n_init=2, max_iter=5)],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def planted(n_out, seed=0, centers=3):
    """Blobs of std 1 plus ``n_out`` points 8 sigma from their blob's centre and at least
    8 sigma from every other, appended at the end."""
    X, _, c = make_blobs(
        n_samples=600,
        centers=centers,
        cluster_std=1.0,
        center_box=(-30, 30),
        random_state=seed,
        return_centers=True,
    )
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n_out:
        own = c[len(out) % centers]
        angle = rng.uniform(0, 2 * np.pi)
        p = own + 8.0 * np.array([np.cos(angle), np.sin(angle)])
        if np.min(np.linalg.norm(c - p, axis=1)) >= 8.0 - 1e-9:
            out.append(p)
    return np.vstack([X, out]), X.shape[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_outliers_planted_8_sigma_away_are_all_flagged(seed):
    X, n_in = planted(6, seed)
    det = KMeansOutlierDetector(
        n_clusters=3, contamination=6 / X.shape[0], random_state=seed
    )
    pred = det.fit_predict(X)
    assert np.flatnonzero(pred == -1).tolist() == list(range(n_in, X.shape[0]))
    auto = KMeansOutlierDetector(n_clusters=3, random_state=seed).fit(X)
    assert auto.offset_ == -2.0
    assert (auto.predict(X)[n_in:] == -1).all()


def test_offset_and_decision_follow_sklearn_conventions():
    X, _ = planted(4, 5)
    for c in (0.01, 0.1, 0.5):
        det = KMeansOutlierDetector(n_clusters=3, contamination=c, random_state=0).fit(
            X
        )
        scores = det.score_samples(X)
        assert det.offset_ == pytest.approx(np.percentile(scores, 100 * c), abs=1e-12)
        np.testing.assert_array_equal(det.decision_function(X), scores - det.offset_)
        np.testing.assert_array_equal(
            det.predict(X), np.where(det.decision_function(X) < 0, -1, 1)
        )
        assert abs(np.mean(det.predict(X) == -1) - c) <= 1 / X.shape[0]


def test_scores_are_minus_distance_over_cluster_rms_distance():
    X, _ = planted(3, 7)
    det = KMeansOutlierDetector(n_clusters=3, random_state=0).fit(X)
    km = KMeans(n_clusters=3, random_state=0).fit(X)
    np.testing.assert_array_equal(det.cluster_centers_, km.cluster_centers_)
    np.testing.assert_array_equal(det.labels_, km.labels_)
    dist = km.transform(X)
    nearest = dist.argmin(axis=1)
    d = dist.min(axis=1)
    rms = np.array([np.sqrt(np.mean(d[nearest == j] ** 2)) for j in range(3)])
    np.testing.assert_allclose(det.cluster_spreads_, rms, rtol=1e-12)
    np.testing.assert_allclose(det.score_samples(X), -d / rms[nearest], rtol=1e-12)


def test_single_sample_clusters_score_finitely():
    X = np.array([[0.0], [0.0], [5.0], [6.0], [100.0]])
    det = KMeansOutlierDetector(n_clusters=3, random_state=0).fit(X)
    assert np.isfinite(det.cluster_spreads_).all() and (det.cluster_spreads_ > 0).all()
    assert np.isfinite(det.score_samples([[3.0], [1e6]])).all()


@pytest.mark.parametrize("bad", [0.0, -0.1, 0.6, 1.0, "most", None])
def test_bad_contamination_is_refused_clearly(bad):
    X, _ = planted(2)
    with pytest.raises(InvalidParameterError, match="'contamination' parameter"):
        KMeansOutlierDetector(n_clusters=2, contamination=bad).fit(X)


def test_float32_and_feature_names():
    pd = pytest.importorskip("pandas")
    X, n_in = planted(3, 3)
    frame = pd.DataFrame(X.astype(np.float32), columns=["a", "b"])
    det = KMeansOutlierDetector(n_clusters=3, contamination=3 / len(X), random_state=0)
    pred = det.fit_predict(frame)
    assert list(det.feature_names_in_) == ["a", "b"]
    assert np.flatnonzero(pred == -1).tolist() == list(range(n_in, len(X)))
    with pytest.raises(ValueError, match="feature names should match"):
        det.predict(frame[["a"]])
    with pytest.raises(ValueError, match="X has 1 features"):
        KMeansOutlierDetector(n_clusters=3).fit(X).predict(X[:, :1])


def test_load_refuses_a_model_that_scales_its_input(tmp_path):
    X, _ = make_blobs(n_samples=50, centers=2, random_state=0)
    path = tmp_path / "m.json"
    KMeans(n_clusters=2, random_state=0).fit(X).save(path)
    model = json.loads(path.read_text())
    model["version"] = 2
    model["preprocessing"] = {
        "method": "standard",
        "offset": X.mean(axis=0).tolist(),
        "divisor": X.std(axis=0).tolist(),
    }
    path.write_text(json.dumps(model))
    with pytest.raises(ModelFileError, match="scales its input \\('standard'"):
        load(path)


def test_docstring_example_runs():
    import doctest

    import kentro._outliers

    failed, attempted = doctest.testmod(
        kentro._outliers, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert attempted > 0 and failed == 0
