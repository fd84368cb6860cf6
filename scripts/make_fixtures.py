"""Generate the scikit-learn reference fixtures used by kentro's Rust tests.

How to rerun (from the repository root), in a virtual environment that has
scikit-learn==1.9.1 installed:

    python3 -m venv .venv-fixtures
    .venv-fixtures/bin/pip install scikit-learn==1.9.1 numpy scipy
    .venv-fixtures/bin/python scripts/make_fixtures.py

i.e. ``python scripts/make_fixtures.py`` in a venv with scikit-learn==1.9.1.

It (re)writes, under ``crates/kentro/tests/fixtures/``:

* ``parity/<name>.json``: ``KMeans(init=<array>, n_init=1, algorithm="lloyd")``
  results (labels, centres, inertia, n_iter) for fixed data and initial centres.
* ``kmeanspp/<name>.json``: potentials of ``kmeans_plusplus`` seedings for
  ``random_state`` 0..199, for a statistical comparison with kentro's k-means++.

Everything is deterministic: all data and initial centres come from fixed seeds,
and sklearn runs with one OpenMP and one BLAS thread (with more threads sklearn
sums per-thread partial results in no fixed order). Each parity case is also
replayed by an independent numpy transcription of sklearn's Lloyd loop
(``reference_lloyd``), which must agree bit for bit; it also checks that no
assignment in any iteration is a near-tie and that every empty-cluster
relocation picks a uniquely farthest point.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from threadpoolctl import threadpool_limits

EXPECTED_SKLEARN = "1.9.1"
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "crates" / "kentro" / "tests" / "fixtures"

# Minimum relative gap between the nearest and second-nearest squared distance,
# for every point in every iteration. sklearn assigns with ||c||^2 - 2 x.c (BLAS
# gemm, on mean-centred data), so the gap must dwarf that expression's rounding.
TIE_GAP = {np.float64: 1e-9, np.float32: 3e-5}
MAX_FILE_BYTES = 330_000


# ---------------------------------------------------------------------------
# JSON output
# ---------------------------------------------------------------------------


def floats(a):
    """Array -> nested lists of Python floats (float32 values converted exactly)."""
    return np.asarray(a).astype(np.float64).tolist()


def ints(a):
    return [int(v) for v in np.asarray(a).ravel()]


def dump(path, obj):
    """Write obj as JSON: scalars one per line, 2-D arrays one row per line."""
    lines = []
    for key, value in obj.items():
        if isinstance(value, list) and value and isinstance(value[0], list):
            rows = ",\n".join(json.dumps(row, separators=(",", ":")) for row in value)
            text = "[\n" + rows + "\n]"
        else:
            text = json.dumps(value)
        lines.append(f"  {json.dumps(key)}: {text}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    size = path.stat().st_size
    assert size < MAX_FILE_BYTES, f"{path} is {size} bytes"
    # Round trip: every float must come back exactly.
    assert json.loads(path.read_text()) == obj
    return size


def versions():
    return {"sklearn_version": sklearn.__version__, "numpy_version": np.__version__}


# ---------------------------------------------------------------------------
# Independent numpy transcription of sklearn 1.9.1's dense Lloyd (one thread)
# ---------------------------------------------------------------------------


def sqdist_unrolled(a, b):
    """Row-wise squared distance, summed like _euclidean_dense_dense (4-way unroll)."""
    n, d = a.shape
    result = np.zeros(n, dtype=a.dtype)
    for s in range(0, d - d % 4, 4):
        t = (a[:, s] - b[:, s]) * (a[:, s] - b[:, s])
        for j in range(s + 1, s + 4):
            t = t + (a[:, j] - b[:, j]) * (a[:, j] - b[:, j])
        result += t
    for j in range(d - d % 4, d):
        result += (a[:, j] - b[:, j]) * (a[:, j] - b[:, j])
    return result


def exact_sq_distances(x, c):
    """Squared distances (float64) between every row of x and every row of c."""
    x64 = x.astype(np.float64)
    c64 = c.astype(np.float64)
    return ((x64[:, None, :] - c64[None, :, :]) ** 2).sum(axis=2)


def min_relative_gap(x, c):
    """Smallest relative gap between nearest and second-nearest centre, and argmin."""
    d = exact_sq_distances(x, c)
    labels = np.argmin(d, axis=1)
    part = np.sort(d, axis=1)
    gap = part[:, 1] - part[:, 0]
    scale = np.maximum(
        part[:, 1],
        (x.astype(np.float64) ** 2).sum(1) + (c.astype(np.float64) ** 2).sum(1).max(),
    )
    return float((gap / scale).min()), labels.astype(np.int32)


def reference_lloyd(X, sample_weight, init, max_iter, tol):
    """Replays KMeans(init=init, n_init=1, algorithm='lloyd').fit(X, sample_weight)."""
    dt = X.dtype
    k = init.shape[0]
    w = np.ones(X.shape[0], dtype=dt) if sample_weight is None else sample_weight
    # _tolerance is computed on the raw X, before centring.
    tol_eff = 0 if tol == 0 else np.mean(np.var(X, axis=0)) * tol
    x_mean = X.mean(axis=0)
    # numpy's axis-0 mean of a C-ordered array is a plain row-by-row sum / n.
    acc = np.zeros(X.shape[1], dtype=dt)
    for row in X:
        acc = acc + row
    assert np.array_equal(acc / X.shape[0], x_mean)
    xc = X - x_mean
    centers = init - x_mean
    labels_old = np.full(X.shape[0], -1, dtype=np.int32)
    min_gap = np.inf
    relocations = []  # (iteration, empty cluster ids, far point indices, gap)
    strict = False
    for it in range(max_iter):
        gap, labels = min_relative_gap(xc, centers)
        min_gap = min(min_gap, gap)
        # M step: weighted sums in sample order (np.add.at is sequential).
        sums = np.zeros_like(centers)
        np.add.at(sums, labels, xc * w[:, None])
        wsum = np.zeros(k, dtype=dt)
        np.add.at(wsum, labels, w)
        # _relocate_empty_clusters_dense (before averaging, from old centres).
        empty = np.where(wsum == 0)[0]
        if empty.size:
            dist = ((xc - centers[labels]) ** 2).sum(axis=1)
            far = np.argpartition(dist, -empty.size)[: -empty.size - 1 : -1]
            if dist.max() != 0:
                top = np.sort(dist)[::-1][: empty.size + 1]
                rel = float(np.min(-np.diff(top)) / top[0])
                relocations.append((it, ints(empty), ints(far), rel))
                for new_id, idx in zip(empty, far):
                    old_id = labels[idx]
                    sums[old_id] -= xc[idx] * w[idx]
                    sums[new_id] = xc[idx] * w[idx]
                    wsum[new_id] = w[idx]
                    wsum[old_id] -= w[idx]
        # _average_centers, including its in-place quirk for empty clusters.
        argmax_w = int(np.argmax(wsum))
        for j in range(k):
            if wsum[j] > 0:
                sums[j] *= dt.type(1.0) / wsum[j]
            else:
                sums[j] = sums[argmax_w]
        shift = np.sqrt(sqdist_unrolled(sums, centers))
        centers = sums
        if np.array_equal(labels, labels_old):
            strict = True
            break
        if (shift**2).sum() <= tol_eff:
            break
        labels_old = labels
    if not strict:
        gap, labels = min_relative_gap(xc, centers)
        min_gap = min(min_gap, gap)
    inertia = np.cumsum(sqdist_unrolled(xc, centers[labels]) * w)[-1]
    return {
        "labels": labels,
        "centers": centers + x_mean,
        "inertia": float(inertia),
        "n_iter": it + 1,
        "min_gap": min_gap,
        "relocations": relocations,
    }


# ---------------------------------------------------------------------------
# Parity cases
# ---------------------------------------------------------------------------


def run_sklearn(X, sample_weight, init, max_iter, tol):
    km = KMeans(
        n_clusters=init.shape[0],
        init=init,
        n_init=1,
        max_iter=max_iter,
        tol=tol,
        algorithm="lloyd",
    )
    km.fit(X, sample_weight=sample_weight)
    assert km.cluster_centers_.dtype == X.dtype
    return km


def check_case(X, sample_weight, init, max_iter=300, tol=1e-4):
    """Fit with sklearn and the reference; return (km, ref) or None on near-ties."""
    km = run_sklearn(X, sample_weight, init, max_iter, tol)
    ref = reference_lloyd(X, sample_weight, init, max_iter, tol)
    if ref["min_gap"] <= TIE_GAP[X.dtype.type]:
        return None
    if any(r[3] <= 1e-9 for r in ref["relocations"]):
        return None
    assert np.array_equal(km.labels_, ref["labels"]), "labels differ from reference"
    assert km.n_iter_ == ref["n_iter"], (km.n_iter_, ref["n_iter"])
    assert np.array_equal(km.cluster_centers_, ref["centers"]), "centres differ"
    assert float(km.inertia_) == ref["inertia"], (km.inertia_, ref["inertia"])
    assert np.array_equal(km.predict(X), km.labels_)
    return km, ref


def random_rows(rng, X, k):
    return X[np.sort(rng.choice(X.shape[0], size=k, replace=False))].copy()


# Each case builder takes a seed and returns (X, sample_weight, init, kwargs).
# make_parity tries seeds 0, 1, ... until the case is tie-free and accepted.


def blobs_2d(seed, dtype=np.float64):
    X, _ = make_blobs(300, centers=3, cluster_std=0.6, random_state=0)
    X = X.astype(dtype)
    return X, None, random_rows(np.random.default_rng(100 + seed), X, 3), {}


def blobs_2d_f32(seed):
    return blobs_2d(seed, np.float32)


def blobs_5d_weighted(seed):
    X, _ = make_blobs(500, n_features=5, centers=6, random_state=1)
    rng = np.random.default_rng(200 + seed)
    w = rng.uniform(0.1, 3.0, size=X.shape[0])
    return X, w, random_rows(rng, X, 6), {}


def uniform_3d_k8(seed):
    rng = np.random.default_rng(300 + seed)
    X = rng.random((1000, 3))
    return X, None, random_rows(rng, X, 8), {"tol": 0.0}


def aniso_4d_maxiter(seed):
    X, _ = make_blobs(600, n_features=4, centers=5, random_state=4 + seed)
    rng = np.random.default_rng(400 + seed)
    X = X @ (rng.normal(size=(4, 4)) * np.array([3.0, 1.0, 0.3, 0.1]))
    return X, None, random_rows(rng, X, 5), {"max_iter": 3}


def digits_sub(seed):
    X = load_digits().data[:400].astype(np.float64)
    perm = np.random.default_rng(500 + seed).permutation(X.shape[0])
    return X, None, X[perm[:10]].copy(), {}


def empty_cluster(seed):
    X, _ = make_blobs(200, centers=3, cluster_std=1.0, random_state=10 + seed)
    init = random_rows(np.random.default_rng(600 + seed), X, 4)
    # Centre 1 sits far outside the data: no point is nearest to it.
    init[1] = X.max(axis=0) + 50.0
    return X, None, init, {}


def empty_two_clusters(seed):
    X, _ = make_blobs(250, centers=4, cluster_std=0.8, random_state=20 + seed)
    init = random_rows(np.random.default_rng(700 + seed), X, 5)
    init[0] = X.max(axis=0) + 40.0
    init[3] = X.min(axis=0) - 60.0
    return X, None, init, {}


def weighted_heavy(seed):
    X, _ = make_blobs(300, centers=4, cluster_std=1.5, random_state=30 + seed)
    rng = np.random.default_rng(800 + seed)
    w = np.ones(X.shape[0])
    w[rng.choice(X.shape[0], size=6, replace=False)] = 100.0
    return X, w, random_rows(rng, X, 4), {}


def blobs_8d_f32(seed):
    X, _ = make_blobs(2000, n_features=8, centers=10, cluster_std=2.0, random_state=3)
    X = X.astype(np.float32)
    return X, None, random_rows(np.random.default_rng(900 + seed), X, 10), {}


ZERO_A, ZERO_B, ZERO_C = [1.0, 2.0], [4.0, -1.0], [-2.0, 0.5]


def all_zero_distances(seed):
    # Distinct points A, B, C with multiplicities 4, 2, 2 (dyadic, so every
    # sum and mean is exact); centre 0 is far away. Every point sits exactly on
    # its centre, so cluster 0 is empty, all distances are 0 and nothing is
    # relocated; _average_centers then copies cluster 1's (the heaviest)
    # weighted sum -- not yet divided by its weight -- into centre 0.
    X = np.array([ZERO_A] * 4 + [ZERO_B] * 2 + [ZERO_C] * 2)
    X = X[np.random.default_rng(seed).permutation(X.shape[0])]
    init = np.array([[30.0, 30.0], ZERO_A, ZERO_B, ZERO_C])
    return X, None, init, {}


def several_iterations(km, ref, args):
    return km.n_iter_ >= 4


def relocated_once(n_empty):
    def accept(km, ref, args):
        # n_empty clusters empty after the first assignment, none later.
        return [(r[0], len(r[1])) for r in ref["relocations"]] == [(0, n_empty)]

    return accept


def not_converged(km, ref, args):
    # It stopped on max_iter: the same run with max_iter=300 keeps going.
    X, w, init, _ = args
    return run_sklearn(X, w, init, 300, km.tol).n_iter_ > 3


PARITY = [
    (blobs_2d, several_iterations),
    (blobs_5d_weighted, several_iterations),
    (uniform_3d_k8, lambda km, ref, args: km.n_iter_ > 10),
    (aniso_4d_maxiter, not_converged),
    (digits_sub, several_iterations),
    (empty_cluster, relocated_once(1)),
    (empty_two_clusters, relocated_once(2)),
    (weighted_heavy, several_iterations),
    (blobs_2d_f32, several_iterations),
    (blobs_8d_f32, several_iterations),
    (all_zero_distances, lambda km, ref, args: True),
]


def make_parity(make, accept):
    name = make.__name__
    for seed in range(50):
        args = make(seed)
        X, w, init, extra = args
        kwargs = {"max_iter": 300, "tol": 1e-4, **extra}
        out = check_case(X, w, init, **kwargs)
        if out is not None and accept(*out, args):
            break
    else:
        raise RuntimeError(f"{name}: no acceptable seed")
    km, ref = out
    verify_case(name, X, w, init, kwargs, km, ref)
    obj = {
        "name": name,
        **versions(),
        "dtype": str(X.dtype),
        "n_clusters": int(init.shape[0]),
        "max_iter": kwargs["max_iter"],
        "tol": kwargs["tol"],
        "X": floats(X),
        "sample_weight": None if w is None else floats(w),
        "init": floats(init),
        "labels": ints(km.labels_),
        "centers": floats(km.cluster_centers_),
        "inertia": float(km.inertia_),
        "n_iter": int(km.n_iter_),
        "empty_cluster_relocated": bool(ref["relocations"]),
    }
    size = dump(FIXTURES / "parity" / f"{name}.json", obj)
    return name, size, seed, km, ref


def verify_case(name, X, w, init, kwargs, km, ref):
    """Case-specific assertions beyond the bit-for-bit reference comparison."""
    if name == "aniso_4d_maxiter":
        assert km.n_iter_ == 3
        # Labels come from a final assignment to the final centres.
        _, final = min_relative_gap(X, km.cluster_centers_)
        assert np.array_equal(final, km.labels_)
    if name == "uniform_3d_k8":
        assert km.n_iter_ > 10
    if name in ("empty_cluster", "empty_two_clusters"):
        # One Lloyd iteration in sklearn itself: each empty centre must have
        # moved onto the farthest points, the farthest to the lowest empty id.
        one = run_sklearn(X, w, init, 1, kwargs["tol"])
        _, empty, far, _ = ref["relocations"][0]
        _, first_labels = min_relative_gap(X, init)
        assert sorted(set(range(init.shape[0])) - set(first_labels)) == empty
        dist = exact_sq_distances(X, init)[np.arange(X.shape[0]), first_labels]
        assert ints(np.argsort(-dist)[: len(empty)]) == far
        for new_id, idx in zip(empty, far):
            assert np.allclose(one.cluster_centers_[new_id], X[idx], rtol=0, atol=1e-12)
    if name == "all_zero_distances":
        assert not ref["relocations"] and km.n_iter_ == 2
        x_mean = X.mean(axis=0)
        a = np.array(ZERO_A)
        assert np.array_equal(km.cluster_centers_[0], 4 * (a - x_mean) + x_mean)
        assert np.array_equal(km.cluster_centers_[1:], init[1:])


# ---------------------------------------------------------------------------
# k-means++ potentials
# ---------------------------------------------------------------------------


def make_kmeanspp(name, X, k, n_seeds=200):
    potentials, indices = [], []
    for seed in range(n_seeds):
        centers, idx = kmeans_plusplus(X, k, random_state=seed)
        assert np.array_equal(centers, X[idx])
        d = exact_sq_distances(X, centers).min(axis=1)
        potentials.append(float(d.sum()))
        indices.append(ints(idx))
    obj = {
        "name": name,
        **versions(),
        "n_clusters": k,
        "n_local_trials": 2 + int(np.log(k)),
        "X": floats(X),
        "potentials": potentials,
        "seeds": list(range(n_seeds)),
        "indices": indices,
    }
    return dump(FIXTURES / "kmeanspp" / f"{name}.json", obj), potentials


def main():
    assert sklearn.__version__ == EXPECTED_SKLEARN, sklearn.__version__
    report = []
    # all_zero_distances ends with fewer distinct labels than clusters.
    warnings.filterwarnings("ignore", "Number of distinct clusters", ConvergenceWarning)
    with threadpool_limits(limits=1):
        assert _openmp_effective_n_threads() == 1
        seeds = {}
        for make, accept in PARITY:
            name, size, seed, km, ref = make_parity(make, accept)
            seeds[name] = seed
            report.append(
                f"parity/{name}.json  {size} B  seed={seed} n_iter={km.n_iter_} "
                f"min_gap={ref['min_gap']:.2e} relocations={ref['relocations']}"
            )
        # blobs_2d_f32 must be blobs_2d's data and init, cast to float32.
        assert seeds["blobs_2d"] == seeds["blobs_2d_f32"], seeds
        X, _ = make_blobs(
            1000, n_features=2, centers=10, cluster_std=1.0, random_state=7
        )
        size, pot = make_kmeanspp("blobs_k10", X, 10)
        report.append(f"kmeanspp/blobs_k10.json  {size} B  mean={np.mean(pot):.4f}")
        X = np.random.default_rng(1000).random((1500, 5))
        size, pot = make_kmeanspp("uniform_5d_k20", X, 20)
        report.append(
            f"kmeanspp/uniform_5d_k20.json  {size} B  mean={np.mean(pot):.4f}"
        )
        # Wide rows (kentro evaluates candidates through matrix products from 24 features).
        X, _ = make_blobs(
            400, n_features=24, centers=10, cluster_std=2.0, random_state=11
        )
        size, pot = make_kmeanspp("blobs_24d_k12", X, 12)
        report.append(f"kmeanspp/blobs_24d_k12.json  {size} B  mean={np.mean(pot):.4f}")
    print("\n".join(report))


if __name__ == "__main__":
    main()
