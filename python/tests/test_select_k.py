"""kentro.select_k: blobs give 4, uniform noise gives 1, scores match scikit-learn's metrics."""

import kentro
import matplotlib
import numpy as np
import pytest
from kentro import SelectKResult, make_blobs, select_k
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

matplotlib.use("Agg")

CENTERS = [[10.0, 0.0], [-10.0, 0.0], [0.0, 10.0], [0.0, -10.0]]


def four_blobs(n_features: int, seed: int, n: int = 400) -> np.ndarray:
    """Four blobs 14 apart at least with unit spread, in ``n_features`` dimensions."""
    centers = np.zeros((4, n_features))
    centers[:, :2] = CENTERS
    X, _ = make_blobs(n, centers=centers, random_state=seed)
    return X


@pytest.mark.parametrize("n_features", [2, 5, 10])
@pytest.mark.parametrize("seed", [0, 1])
def test_four_separated_blobs_give_four(n_features: int, seed: int) -> None:
    result = select_k(four_blobs(n_features, seed), range(2, 11), random_state=seed)
    assert result.best_k == 4, result.reasons
    assert result.knee == 4
    assert result.recommendations["knee"] == 4
    assert result.recommendations["silhouette"] == 4
    assert result.recommendations["gap"] == 4
    assert result.gap_k == 4
    assert result.k[np.nanargmax(result.silhouette)] == 4
    assert result.best_reason.startswith("chosen by 5 of 5 criteria: ")


@pytest.mark.parametrize(("n_features", "seed"), [(5, 0), (5, 1), (10, 2)])
def test_uniform_noise_has_no_structure(n_features: int, seed: int) -> None:
    X = np.random.default_rng(seed).uniform(size=(300, n_features))
    result = select_k(X, range(2, 9), random_state=seed)
    assert result.gap_k == 1, result.reasons["gap"]
    assert result.recommendations["gap"] == 1
    assert result.best_k == 1
    assert "no cluster structure" in result.reasons["gap"]


def test_scores_are_scikit_learns_on_the_same_labels() -> None:
    X = four_blobs(3, 5, n=300)
    result = select_k(X, range(2, 7), random_state=0, n_refs=3)
    for i, k in enumerate(result.k):
        labels = result.labels_for(int(k))
        assert labels.shape == (300,) and labels.max() == k - 1
        assert result.silhouette[i] == pytest.approx(
            silhouette_score(X, labels), rel=1e-10
        )
        assert result.calinski_harabasz[i] == pytest.approx(
            calinski_harabasz_score(X, labels), rel=1e-10
        )
        assert result.davies_bouldin[i] == pytest.approx(
            davies_bouldin_score(X, labels), rel=1e-10
        )
    # Each fit is KMeans with the same seed and runs.
    km = kentro.KMeans(4, random_state=0, n_init=10).fit(X)
    assert result.inertia[result.k == 4][0] == pytest.approx(km.inertia_, rel=1e-12)


def test_the_result_holds_every_k_and_the_gap_from_one() -> None:
    result = select_k(four_blobs(2, 3), [3, 4, 5, 6], random_state=1, n_refs=4)
    assert isinstance(result, SelectKResult)
    assert result.k.tolist() == [3, 4, 5, 6]
    assert result.gap_curve_k.tolist() == [1, 3, 4, 5, 6]
    for name in (
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "gap",
        "gap_se",
        "n_iter",
    ):
        assert getattr(result, name).shape == (4,), name
    assert np.all(np.diff(result.inertia) <= 0)
    assert result.labels.shape == (4, 400)
    assert set(result.reasons) == {
        "knee",
        "silhouette",
        "gap",
        "calinski_harabasz",
        "davies_bouldin",
    }
    assert repr(result) == "SelectKResult(best_k=4, k=3..6)"
    with pytest.raises(KeyError, match="k=2 was not tried"):
        result.labels_for(2)


def test_undefined_scores_are_nan() -> None:
    X = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0]])
    result = select_k(X, range(1, 4), random_state=0, n_refs=2)
    assert np.isnan(result.silhouette[0]) and np.isnan(result.silhouette[2])
    assert np.isnan(result.gap[2]) and not np.isnan(result.gap[1])


def test_to_frame_has_one_row_per_k() -> None:
    pd = pytest.importorskip("pandas")
    result = select_k(four_blobs(2, 4), range(2, 7), random_state=0, n_refs=3)
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "gap",
        "gap_se",
    ]
    assert frame.index.name == "k" and frame.index.tolist() == [2, 3, 4, 5, 6]
    assert frame.loc[4, "silhouette"] == result.silhouette[2]


def test_plot_returns_a_figure() -> None:
    from matplotlib.figure import Figure

    result = select_k(four_blobs(2, 4), range(2, 7), random_state=0, n_refs=3)
    fig = result.plot()
    assert isinstance(fig, Figure)
    assert "recommended k=4" in fig.get_suptitle()
    titles = [ax.get_title() for ax in fig.axes]
    assert "Gap statistic" in titles and "Elbow: inertia" in titles
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_same_seed_same_result_any_threads() -> None:
    X = four_blobs(2, 6)
    a = select_k(X, range(2, 6), random_state=3, n_refs=3)
    with kentro.threadpool_limits(1):
        b = select_k(X, range(2, 6), random_state=3, n_refs=3)
    np.testing.assert_array_equal(a.gap, b.gap)
    np.testing.assert_array_equal(a.labels, b.labels)
    c = select_k(X.astype(np.float32), range(2, 6), random_state=3, n_refs=3)
    assert c.best_k == 4


@pytest.mark.parametrize(
    ("k", "message"),
    [
        (range(0, 5), "which starts at 0"),
        (range(5, 2), "got the empty range"),
        (range(2, 10, 2), "step 2"),
        ([2, 4, 5], "not consecutive"),
        ("2..5", "such as range"),
        (4, "such as range"),
        ([2.0, 3.0], "such as range"),
    ],
)
def test_bad_k_ranges_are_refused(k: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        select_k(four_blobs(2, 0, n=50), k)


def test_bad_settings_and_data_are_refused() -> None:
    X = four_blobs(2, 0, n=50)
    with pytest.raises(
        ValueError, match="the largest k, 60, exceeds the number of samples, 50"
    ):
        select_k(X, range(2, 61))
    with pytest.raises(ValueError, match="n_refs"):
        select_k(X, n_refs=0)
    with pytest.raises(ValueError, match="reference"):
        select_k(X, reference="uniform")
    with pytest.raises(ValueError, match="sample_size"):
        select_k(X, sample_size=1)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        select_k(bad, range(2, 4))


def test_docstring_examples() -> None:
    import doctest
    import importlib

    module = importlib.import_module("kentro._select_k")
    failed, attempted = doctest.testmod(
        module, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert attempted > 0 and failed == 0
