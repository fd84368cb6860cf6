"""Generate the scikit-learn reference fixtures for kentro's clustering metrics.

How to rerun (from the repository root), in a virtual environment that has
scikit-learn==1.9.1 installed:

    python3 -m venv .venv-fixtures
    .venv-fixtures/bin/pip install scikit-learn==1.9.1 numpy scipy
    .venv-fixtures/bin/python scripts/make_metric_fixtures.py

It (re)writes ``crates/kentro/tests/fixtures/metrics/data.json`` (metrics of data
and labels: silhouette samples and score, Calinski-Harabasz, Davies-Bouldin) and
``crates/kentro/tests/fixtures/metrics/labelings.json`` (metrics of two labelings:
adjusted Rand, normalized mutual information, homogeneity, completeness,
V-measure). Everything comes from fixed seeds.

sklearn computes euclidean distances as sqrt(|x|^2 - 2 x.y + |y|^2), which
rounds; kentro computes them directly. So that the fixtures hold the metrics'
true values, the script recomputes every silhouette with direct differences in
numpy and requires sklearn to agree to 1e-12 relative; the "ties" cases use
coordinates on a grid of eighths, where sklearn's arithmetic is exact and
duplicate points are at distance exactly 0.

float32 cases hold float32 values (written exactly as float64) and sklearn's
results for the same values in float64: sklearn computes some of these metrics
in float32 for float32 input, kentro always in float64.
"""

import json
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import make_blobs
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    homogeneity_completeness_v_measure,
    normalized_mutual_info_score,
    silhouette_samples,
    silhouette_score,
)
from threadpoolctl import threadpool_limits

EXPECTED_SKLEARN = "1.9.1"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "kentro" / "tests" / "fixtures" / "metrics"
MAX_FILE_BYTES = 400_000


def direct_silhouette(X, labels):
    """Silhouette by its definition, with directly computed distances."""
    X = np.asarray(X, dtype=np.float64)
    classes, codes = np.unique(labels, return_inverse=True)
    counts = np.bincount(codes)
    D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    sums = np.stack([D[:, codes == c].sum(axis=1) for c in range(len(classes))], 1)
    own = sums[np.arange(len(X)), codes]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = own / (counts[codes] - 1)
        other = sums / counts
        other[np.arange(len(X)), codes] = np.inf
        b = other.min(axis=1)
        s = (b - a) / np.maximum(a, b)
    return np.nan_to_num(s)


def data_case(name, X, labels, dtype="float64"):
    X = np.asarray(X, dtype=dtype)
    labels = np.asarray(labels)
    X64 = X.astype(np.float64)
    samples = silhouette_samples(X64, labels)
    exact = direct_silhouette(X64, labels)
    np.testing.assert_allclose(samples, exact, rtol=1e-12, atol=1e-15, err_msg=name)
    return {
        "name": name,
        "dtype": dtype,
        "X": X64.tolist(),
        "labels": labels.tolist(),
        "silhouette_samples": samples.tolist(),
        "silhouette_score": silhouette_score(X64, labels),
        "calinski_harabasz": calinski_harabasz_score(X64, labels),
        "davies_bouldin": davies_bouldin_score(X64, labels),
    }


def data_cases():
    rng = np.random.RandomState(0)
    cases = []

    X = rng.uniform(-1, 1, size=(200, 3))
    labels = rng.choice([3, 10, 42, 7], size=200)
    cases.append(data_case("uniform_random_labels", X, labels))

    X, y = make_blobs(n_samples=300, centers=4, cluster_std=0.8, random_state=1)
    noisy = y.copy()
    flip = rng.rand(300) < 0.1
    noisy[flip] = rng.randint(0, 4, flip.sum())
    cases.append(data_case("blobs_noisy_labels", X, noisy * 5 + 1000))

    # Ties: a coarse grid of eighths, so many points repeat, within and across clusters.
    X = rng.randint(0, 6, size=(150, 2)) / 8.0
    labels = rng.randint(0, 3, 150)
    cases.append(data_case("ties_grid", X, labels))
    # Ties where some clusters are one point repeated (a = 0) and two of them coincide.
    X = np.repeat(
        [[0.0, 0.0], [0.0, 0.0], [1.0, 0.5], [0.25, 0.125]], [5, 4, 6, 5], axis=0
    )
    labels = np.repeat([0, 1, 2, 3], [5, 4, 6, 5])
    cases.append(data_case("ties_repeated_points", X, labels))

    # Single-member clusters beside larger ones.
    X, y = make_blobs(n_samples=100, n_features=4, centers=3, random_state=2)
    y = y.copy()
    y[[5, 17, 60]] = [7, 8, 9]
    cases.append(data_case("singletons", X, y))

    X, y = make_blobs(n_samples=250, n_features=5, centers=3, random_state=3)
    cases.append(data_case("blobs_f32", X, y, dtype="float32"))

    # Many clusters, few points each, in 8 dimensions.
    X = rng.normal(size=(120, 8))
    labels = np.arange(120) % 40
    cases.append(data_case("many_small_clusters", X, labels))
    return cases


def labeling_case(name, labels_true, labels_pred):
    labels_true = np.asarray(labels_true, dtype=np.int64)
    labels_pred = np.asarray(labels_pred, dtype=np.int64)
    h, c, v = homogeneity_completeness_v_measure(labels_true, labels_pred)
    return {
        "name": name,
        "labels_true": labels_true.tolist(),
        "labels_pred": labels_pred.tolist(),
        "adjusted_rand": adjusted_rand_score(labels_true, labels_pred),
        "normalized_mutual_info": normalized_mutual_info_score(
            labels_true, labels_pred
        ),
        "homogeneity": h,
        "completeness": c,
        "v_measure": v,
        "v_measure_beta": {
            str(beta): homogeneity_completeness_v_measure(
                labels_true, labels_pred, beta=beta
            )[2]
            for beta in (0.5, 2.0)
        },
    }


def labeling_cases():
    rng = np.random.RandomState(1)
    cases = [
        labeling_case("empty", [], []),
        labeling_case("one_sample", [4], [9]),
        labeling_case("one_class_one_cluster", [2] * 6, [5] * 6),
        labeling_case("one_class", [0] * 8, [0, 0, 1, 1, 2, 2, 3, 3]),
        labeling_case("one_cluster", [0, 0, 1, 1, 2, 2, 3, 3], [7] * 8),
        labeling_case(
            "identical_renamed", [0, 0, 1, 1, 2, 2], [30, 30, 10, 10, 20, 20]
        ),
        labeling_case("independent", [0, 0, 1, 1], [0, 1, 0, 1]),
        labeling_case("all_singletons", list(range(10)), [0] * 5 + [1] * 5),
    ]
    y = rng.randint(0, 5, 300)
    cases.append(labeling_case("random_5_vs_7", y, rng.randint(0, 7, 300)))
    noisy = y.copy()
    flip = rng.rand(300) < 0.2
    noisy[flip] = rng.randint(0, 5, flip.sum())
    cases.append(labeling_case("noisy_copy", y * 11 + 3, noisy * 1000))
    cases.append(
        labeling_case("split_and_merge", np.arange(200) // 50, np.arange(200) // 30)
    )
    return cases


def write(path, obj):
    text = json.dumps(obj, indent=None, separators=(",", ":"))
    text = text.replace('{"name"', '\n{"name"')
    assert len(text) < MAX_FILE_BYTES, f"{path} is {len(text)} bytes"
    path.write_text(text + "\n")


def main():
    assert sklearn.__version__ == EXPECTED_SKLEARN, sklearn.__version__
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"sklearn_version": sklearn.__version__, "numpy_version": np.__version__}
    with threadpool_limits(1):
        write(OUT / "data.json", {**meta, "cases": data_cases()})
        write(OUT / "labelings.json", {**meta, "cases": labeling_cases()})


if __name__ == "__main__":
    main()
