"""Choosing the number of clusters: :func:`select_k` and its :class:`SelectKResult`."""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from kentro import _kentro
from kentro._threads import effective_n_threads
from kentro._validation import draw_seed, reject_sparse

__all__ = ["SelectKResult", "select_k"]

#: The criteria, in the order the core reports them.
CRITERIA = ("knee", "silhouette", "gap", "calinski_harabasz", "davies_bouldin")


def _k_range(k: Any) -> tuple[int, int]:
    """The first and last k of ``k``: a ``range`` with step 1 or consecutive integers."""
    what = "k must be a range of consecutive integers >= 1, such as range(2, 13)"
    if isinstance(k, range):
        if k.step != 1:
            raise ValueError(f"{what}; got {k!r} (step {k.step})")
        values = list(k)
    elif isinstance(k, Iterable) and not isinstance(k, (str, bytes)):
        values = list(k)
        if not all(isinstance(v, Integral) and not isinstance(v, bool) for v in values):
            raise ValueError(f"{what}; got {k!r}")
        values = [int(v) for v in values]
        if any(b != a + 1 for a, b in zip(values, values[1:])):
            raise ValueError(f"{what}; got {k!r}, which is not consecutive")
    else:
        raise ValueError(f"{what}; got {k!r}")
    if not values:
        raise ValueError(f"{what}; got the empty {k!r}")
    if values[0] < 1:
        raise ValueError(f"{what}; got {k!r}, which starts at {values[0]}")
    return values[0], values[-1]


class SelectKResult:
    """What :func:`select_k` found: the scores of every k and the recommended k.

    Per-k arrays follow ``k``; a score that is undefined at some k (the silhouette,
    Calinski-Harabasz and Davies-Bouldin at k=1 or k=n_samples, the gap where a
    dispersion is zero) is NaN.

    Attributes
    ----------
    best_k : int
        The recommended number of clusters. The rule: 1 if the gap statistic says 1
        (the data looks like uniform noise), unless the largest mean silhouette
        exceeds 0.7 (a strong structure) and at least 3 criteria, a majority of those
        that gave a k, agree on one k (the gap's rule then stopped at a dip of gap(2));
        a strong silhouette alone is not enough, as small uniform samples reach it in
        one dimension. Otherwise the k recommended by the most
        criteria among the knee, the silhouette, the gap statistic,
        Calinski-Harabasz and Davies-Bouldin, a tie going to the higher silhouette,
        then to the smaller k.
    best_reason : str
        Why ``best_k`` was chosen.
    k : ndarray of shape (n_k,)
        The values of k tried.
    inertia, silhouette, calinski_harabasz, davies_bouldin, gap, gap_se : ndarray of shape (n_k,)
        The scores of each k: the fit's inertia, the mean silhouette, the
        Calinski-Harabasz score, the Davies-Bouldin index, the gap statistic and its
        standard error ``s_k``.
    n_iter : ndarray of shape (n_k,)
        Lloyd iterations of each fit's best run.
    gap_curve_k, gap_curve_gap, gap_curve_se : ndarray
        The gap statistic at k=1 and at every k tried.
    knee : int or None
        The knee of the inertia curve (Kneedle, S=1), if it has one.
    gap_k : int or None
        The gap statistic's k: the smallest evaluated k with gap(k) >= gap(k') - s(k'),
        k' the next evaluated k (1 means no cluster structure).
    recommendations : dict of str to int or None
        The k each criterion recommends, by name (``"knee"``, ``"silhouette"``,
        ``"gap"``, ``"calinski_harabasz"``, ``"davies_bouldin"``).
    reasons : dict of str to str
        Why each criterion recommends its k, with the numbers.
    labels : ndarray of shape (n_k, n_samples)
        The labels of the fit at each k.
    """

    best_k: int
    best_reason: str
    k: np.ndarray
    inertia: np.ndarray
    silhouette: np.ndarray
    calinski_harabasz: np.ndarray
    davies_bouldin: np.ndarray
    gap: np.ndarray
    gap_se: np.ndarray
    n_iter: np.ndarray
    gap_curve_k: np.ndarray
    gap_curve_gap: np.ndarray
    gap_curve_se: np.ndarray
    knee: int | None
    gap_k: int | None
    recommendations: dict[str, int | None]
    reasons: dict[str, str]
    labels: np.ndarray

    def __init__(self, raw: dict[str, Any]) -> None:
        self.best_k = int(raw["best_k"])
        self.best_reason = str(raw["best_reason"])
        for name in (
            "k",
            "inertia",
            "silhouette",
            "calinski_harabasz",
            "davies_bouldin",
            "gap",
            "gap_se",
            "n_iter",
            "labels",
        ):
            setattr(self, name, raw[name])
        self.gap_curve_k = raw["gap_curve_k"]
        self.gap_curve_gap = raw["gap_curve_gap"]
        self.gap_curve_se = raw["gap_curve_se"]
        self.knee = raw["knee"]
        self.gap_k = raw["gap_k"]
        self.recommendations = {name: k for name, k, _ in raw["recommendations"]}
        self.reasons = {name: reason for name, _, reason in raw["recommendations"]}

    def __repr__(self) -> str:
        return f"SelectKResult(best_k={self.best_k}, k={int(self.k[0])}..{int(self.k[-1])})"

    def labels_for(self, k: int) -> np.ndarray:
        """The labels of the fit with ``k`` clusters.

        Raises
        ------
        KeyError
            If ``k`` was not tried.
        """
        where = np.flatnonzero(self.k == k)
        if where.size == 0:
            raise KeyError(
                f"k={k} was not tried; the range is {int(self.k[0])}..{int(self.k[-1])}"
            )
        return self.labels[where[0]]

    def to_frame(self) -> Any:
        """The scores as a pandas DataFrame indexed by k (pandas is imported here).

        Returns
        -------
        pandas.DataFrame
            Columns ``inertia``, ``silhouette``, ``calinski_harabasz``,
            ``davies_bouldin``, ``gap``, ``gap_se``; NaN where undefined.
        """
        import pandas as pd

        columns = [
            "inertia",
            "silhouette",
            "calinski_harabasz",
            "davies_bouldin",
            "gap",
            "gap_se",
        ]
        frame = pd.DataFrame(
            {c: getattr(self, c) for c in columns}, index=pd.Index(self.k, name="k")
        )
        return frame

    def plot(self) -> Any:
        """Draw the criteria against k (matplotlib is imported here).

        The elbow curve with its knee, the silhouette, the gap statistic with its
        error bars (from k=1), Calinski-Harabasz and Davies-Bouldin, each with the k
        it recommends marked, and ``best_k`` in the title.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), layout="constrained")
        panels = [
            ("knee", "Elbow: inertia", self.k, self.inertia, None),
            (
                "silhouette",
                "Silhouette (higher is better)",
                self.k,
                self.silhouette,
                None,
            ),
            (
                "gap",
                "Gap statistic",
                self.gap_curve_k,
                self.gap_curve_gap,
                self.gap_curve_se,
            ),
            (
                "calinski_harabasz",
                "Calinski-Harabasz (higher is better)",
                self.k,
                self.calinski_harabasz,
                None,
            ),
            (
                "davies_bouldin",
                "Davies-Bouldin (lower is better)",
                self.k,
                self.davies_bouldin,
                None,
            ),
        ]
        for ax, (name, title, ks, values, errors) in zip(axes.flat, panels):
            if errors is None:
                ax.plot(ks, values, "o-", color="tab:blue")
            else:
                ax.errorbar(
                    ks, values, yerr=errors, fmt="o-", color="tab:blue", capsize=3
                )
            chosen = self.recommendations.get(name)
            if chosen is not None:
                ax.axvline(chosen, color="tab:red", linestyle="--", label=f"k={chosen}")
                ax.legend(loc="best")
            ax.set_title(title)
            ax.set_xlabel("k (number of clusters)")
            ax.set_xticks(ks)
        axes.flat[-1].axis("off")
        axes.flat[-1].text(
            0.0,
            0.5,
            "\n".join(f"{n}: {self.recommendations[n]}" for n in CRITERIA),
            transform=axes.flat[-1].transAxes,
            fontsize=12,
            va="center",
        )
        fig.suptitle(f"Choosing k: recommended k={self.best_k}")
        return fig


@validate_params(
    {
        "X": ["array-like"],
        "k": "no_validation",
        "random_state": ["random_state"],
        "n_refs": [Interval(Integral, 1, None, closed="left")],
        "reference": [StrOptions({"box", "pca"})],
        "sample_size": [Interval(Integral, 2, None, closed="left"), None],
        "init": [StrOptions({"k-means++", "random"})],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "algorithm": [StrOptions(set(_kentro.ALGORITHMS))],
    },
    prefer_skip_nested_validation=True,
)
def select_k(
    X: Any,
    k: Any = range(2, 13),
    *,
    random_state: int | np.random.RandomState | None = None,
    n_refs: int = 10,
    reference: str = "box",
    sample_size: int | None = None,
    init: str = "k-means++",
    n_init: str | int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
    algorithm: str = "lloyd",
) -> SelectKResult:
    """Choose the number of clusters: fit every k and judge it five ways.

    For each k, K-Means is fitted (as ``KMeans(k, random_state=..., n_init=...)``
    would) and scored by its inertia, the mean silhouette, the Calinski-Harabasz
    score, the Davies-Bouldin index and the gap statistic (Tibshirani, Walther &
    Hastie 2001), which is also computed at k=1 so it can say that the data has no
    cluster structure. The knee of the inertia curve is found by Kneedle (Satopää et
    al. 2011). All of it runs in kentro's Rust core, in parallel, deterministic for
    an integer ``random_state`` whatever the number of threads.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data (float64 or float32; other types are converted to float64).
    k : range or sequence of consecutive int, default=range(2, 13)
        The values of k to try (``range(2, 13)`` tries 2 to 12).
    random_state : int, RandomState instance or None, default=None
        Seeds the fits, the gap statistic's reference data and the silhouette sample.
    n_refs : int, default=10
        The number of uniform reference data sets of the gap statistic (its ``B``).
    reference : {"box", "pca"}, default="box"
        The gap statistic's reference: uniform over the data's bounding box, or over
        the box of its principal axes (better for elongated data).
    sample_size : int or None, default=None
        Compute the silhouette on this many random samples instead of all of them
        (its cost grows as ``n_samples**2``), as ``silhouette_score(sample_size=...)``.
    init : {"k-means++", "random"}, default="k-means++"
        How each fit chooses its initial centres.
    n_init : "auto" or int, default=10
        Runs per fit, the best kept. Not KMeans' ``"auto"`` (one k-means++ run) by
        default: a single run can stop in a poor local optimum, which makes the gap
        statistic and the knee unreliable.
    max_iter : int, default=300
        Most Lloyd iterations per run.
    tol : float, default=1e-4
        Convergence tolerance, relative to the mean feature variance.
    algorithm : str, default="lloyd"
        The exact K-Means method (as :class:`kentro.KMeans`); only the speed differs.

    Returns
    -------
    SelectKResult
        ``best_k``, the per-k arrays, each criterion's k and reason,
        :meth:`~SelectKResult.to_frame` and :meth:`~SelectKResult.plot`.

    Raises
    ------
    ValueError
        For a bad ``k`` (not a range of consecutive integers >= 1, or a largest k
        above the number of samples) or bad data (NaN, infinity, no samples).

    Examples
    --------
    >>> import numpy as np
    >>> from kentro import make_blobs, select_k
    >>> centers = [[10, 0], [-10, 0], [0, 10], [0, -10]]
    >>> X, _ = make_blobs(400, centers=np.array(centers, float), random_state=0)
    >>> result = select_k(X, range(2, 9), random_state=0)
    >>> result.best_k
    4
    >>> result.recommendations["gap"], result.knee
    (4, 4)
    """
    k_min, k_max = _k_range(k)
    reject_sparse(X, "select_k")
    X = check_array(X, dtype=[np.float64, np.float32], order="C", ensure_min_samples=1)
    runs = (10 if init == "random" else 1) if n_init == "auto" else int(n_init)
    raw = _kentro.select_k(
        X,
        k_min,
        k_max,
        n_refs=int(n_refs),
        reference=reference,
        seed=draw_seed(random_state),
        sample_size=None if sample_size is None else int(sample_size),
        init=init,
        n_init=runs,
        max_iter=int(max_iter),
        tol=float(tol),
        algorithm=algorithm,
        n_threads=effective_n_threads(),
    )
    return SelectKResult(raw)
