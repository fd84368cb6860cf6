"""The benchmark grid: which data sets, their sizes (full and ``--quick``) and the bar for each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Row:
    """One grid row: a data set and the number of clusters fitted to it."""

    name: str  # the id that --rows selects
    title: str  # as the issue names it
    k: int
    labelled: bool  # ground-truth labels exist (ARI is reported)
    time_bar: float  # kentro / fastest exact peer, whole default fit, at most this
    same_start_bar: float | None = None  # per-iteration ratio after the same start
    f32_ms_bar: float | None = (
        None  # kentro's f32 same-start ms per iteration, at most this
    )


ROWS = (
    Row("blobs-300", "make_blobs(300, 3 centres, std 0.6, seed 0), k=3", 3, True, 0.5),
    Row("blobs-1m-2", "blobs 1Mx2, k=8", 8, True, 0.2),
    Row("blobs-200k-32", "blobs 200kx32, k=64", 64, True, 0.2),
    Row("blobs-100k-128", "blobs 100kx128 (std 5), k=256", 256, True, 0.35, 0.2, 35.0),
    Row("china", "china.jpg pixels / 255, k=64", 64, False, 0.2),
    Row("digits", "load_digits, k=10", 10, True, 0.5),
    Row("uniform-500k-16", "uniform 500kx16, k=100", 100, False, 0.2),
)
ROW_NAMES = tuple(row.name for row in ROWS)

QUALITY_BAR_PCT = 0.5  # kentro's median inertia within this % of the best exact peer's
KPP_BAR = (
    5.0  # k-means++ speed-up over sklearn.cluster.kmeans_plusplus, on rows with k >= 64
)
KPP_BAR_MIN_K = 64

# Rows in --quick mode: the same shapes of problem, a few thousand points each.
_QUICK_N = {
    "blobs-1m-2": 20_000,
    "blobs-200k-32": 10_000,
    "blobs-100k-128": 5_000,
    "uniform-500k-16": 10_000,
}
_QUICK_CHINA_STEP = 25  # every 25th pixel: about 11k of the 273k


def load(row: Row, quick: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The row's data as C-contiguous float64, and its labels where they exist."""
    from sklearn.datasets import load_digits, load_sample_image, make_blobs

    def n(full: int) -> int:
        return _QUICK_N[row.name] if quick else full

    y: np.ndarray | None
    if row.name == "blobs-300":
        X, y = make_blobs(300, centers=3, cluster_std=0.6, random_state=0)
    elif row.name == "blobs-1m-2":
        X, y = make_blobs(n(1_000_000), n_features=2, centers=8, random_state=0)
    elif row.name == "blobs-200k-32":
        X, y = make_blobs(n(200_000), n_features=32, centers=64, random_state=0)
    elif row.name == "blobs-100k-128":
        X, y = make_blobs(
            n(100_000), n_features=128, centers=256, cluster_std=5.0, random_state=0
        )
    elif row.name == "china":
        pixels = load_sample_image("china.jpg").reshape(-1, 3)
        if quick:
            pixels = pixels[::_QUICK_CHINA_STEP]
        X, y = pixels / 255.0, None
    elif row.name == "digits":
        X, y = load_digits(return_X_y=True)
    elif row.name == "uniform-500k-16":
        X, y = np.random.default_rng(0).random((n(500_000), 16)), None
    else:
        raise ValueError(f"unknown row {row.name!r}")
    X = np.ascontiguousarray(X, dtype=np.float64)
    return X, (None if y is None else np.asarray(y))
