"""Runs one peer on one grid row, in a fresh process: ``python bench/_worker.py TASK.json OUT.json``.

A fresh process per (row, peer) keeps each library's thread pool (OpenMP, TBB, rayon), which may
spin-wait after a call, away from the next peer, and gives each fit its own peak-memory reading.
The task is written by ``compare.py``; the result is JSON with the raw numbers, aggregated there.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

# ---------------------------------------------------------------------------------------------
# Memory: the peak resident set of one fit, above what the process held just before it.
# Linux lets a process reset its own high-water mark (VmHWM) by writing 5 to clear_refs.


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def reset_peak() -> tuple[int, bool]:
    """Reset the high-water mark; return the current RSS (KiB) and whether the reset worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        ok = True
    except OSError:
        ok = False  # the peak then also covers whatever came before (marked in the results)
    return _status_kib("VmRSS"), ok


def peak_kib() -> int:
    return _status_kib("VmHWM")


# ---------------------------------------------------------------------------------------------
# The inertia, recomputed the same way for every peer from its final centres.


def assign(X: np.ndarray, centres: np.ndarray) -> tuple[float, np.ndarray]:
    """Nearest-centre labels and the inertia of ``centres`` on ``X``, in float64.

    The nearest centre comes from ``|c|^2 - 2 x.c`` in blocks of rows (a BLAS product); the
    inertia then sums the exact squared differences to the chosen centres.
    """
    # In one thread: OpenBLAS's worker threads spin-wait for a while after a product, and would
    # take a core from the timed call that follows (kentro's k-means++ on china took twice as
    # long right after a two-thread product as after none).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _assign(np.asarray(X, dtype=np.float64), np.asarray(centres, np.float64))


def _assign(X: np.ndarray, C: np.ndarray) -> tuple[float, np.ndarray]:
    c_norms = np.einsum("ij,ij->i", C, C)
    labels = np.empty(X.shape[0], dtype=np.intp)
    total = 0.0
    block = max(1, (1 << 22) // max(1, C.shape[0]))
    for start in range(0, X.shape[0], block):
        xb = X[start : start + block]
        nearest = np.argmin(c_norms - 2.0 * (xb @ C.T), axis=1)
        diff = xb - C[nearest]
        total += float(np.einsum("ij,ij->", diff, diff))
        labels[start : start + block] = nearest
    return total, labels


# ---------------------------------------------------------------------------------------------
# The peers. Each returns (final centres, iterations) from a default fit with a seed, and from
# an explicit initial-centre array (same start); two also seed with k-means++.

Fit = tuple[np.ndarray, int]


class Sklearn:
    def __init__(self, algorithm: str, threads: int) -> None:
        from sklearn.cluster import KMeans, kmeans_plusplus

        self.KMeans, self._kpp, self.algorithm = KMeans, kmeans_plusplus, algorithm

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return X

    def fit(self, X: np.ndarray, k: int, seed: int) -> Fit:
        km = self.KMeans(n_clusters=k, random_state=seed, algorithm=self.algorithm).fit(
            X
        )
        return km.cluster_centers_, int(km.n_iter_)

    def fit_from(self, X: np.ndarray, init: np.ndarray) -> Fit:
        km = self.KMeans(
            n_clusters=init.shape[0], init=init, n_init=1, algorithm=self.algorithm
        ).fit(X)
        return km.cluster_centers_, int(km.n_iter_)

    def kmeans_plusplus(
        self, X: np.ndarray, k: int, seed: int, trials: int
    ) -> np.ndarray:
        return self._kpp(X, k, random_state=seed, n_local_trials=trials)[0]


class _Recorder(logging.Handler):
    """Keeps the messages logged, to show which code path each sklearnex call took."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class Sklearnex:
    """scikit-learn-intelex's KMeans (oneDAL); every fit's log line says which path ran."""

    def __init__(self, threads: int) -> None:
        from sklearnex.cluster import KMeans

        self.KMeans, self.threads = KMeans, threads
        self.log = _Recorder()
        logger = logging.getLogger("sklearnex")
        logger.addHandler(self.log)
        logger.setLevel(logging.INFO)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return X

    def fit(self, X: np.ndarray, k: int, seed: int) -> Fit:
        km = self.KMeans(n_clusters=k, random_state=seed, n_jobs=self.threads).fit(X)
        return km.cluster_centers_, int(km.n_iter_)

    def fit_from(self, X: np.ndarray, init: np.ndarray) -> Fit:
        km = self.KMeans(
            n_clusters=init.shape[0], init=init, n_init=1, n_jobs=self.threads
        ).fit(X)
        return km.cluster_centers_, int(km.n_iter_)


class Faiss:
    """faiss.Kmeans: float32 only; by default 25 iterations at most on at most 256·k points."""

    def __init__(self, threads: int) -> None:
        import faiss

        faiss.omp_set_num_threads(threads)
        self.faiss = faiss

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(X, dtype=np.float32)  # made before the timer starts

    def fit(self, X: np.ndarray, k: int, seed: int) -> Fit:
        km = self.faiss.Kmeans(X.shape[1], k, seed=seed)  # faiss's defaults otherwise
        km.train(X)
        return km.centroids, len(km.iteration_stats)

    def fit_from(self, X: np.ndarray, init: np.ndarray) -> Fit:
        # Every point, as the exact peers use (by default faiss subsamples to 256·k points).
        km = self.faiss.Kmeans(
            X.shape[1], init.shape[0], max_points_per_centroid=X.shape[0]
        )
        km.train(X, init_centroids=np.ascontiguousarray(init, dtype=np.float32))
        return km.centroids, len(km.iteration_stats)


class Kentro:
    def __init__(self, threads: int) -> None:
        import kentro

        self.kentro, self.threads = kentro, threads

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return X

    def fit(self, X: np.ndarray, k: int, seed: int) -> Fit:
        with self.kentro.threadpool_limits(self.threads):
            km = self.kentro.KMeans(n_clusters=k, random_state=seed).fit(X)
        return km.cluster_centers_, int(km.n_iter_)

    def fit_from(self, X: np.ndarray, init: np.ndarray) -> Fit:
        with self.kentro.threadpool_limits(self.threads):
            km = self.kentro.KMeans(n_clusters=init.shape[0], init=init, n_init=1).fit(
                X
            )
        return km.cluster_centers_, int(km.n_iter_)

    def kmeans_plusplus(
        self, X: np.ndarray, k: int, seed: int, trials: int
    ) -> np.ndarray:
        with self.kentro.threadpool_limits(self.threads):
            return self.kentro.kmeans_plusplus(
                X, k, random_state=seed, n_local_trials=trials
            )[0]


PEERS: dict[str, Callable[[int], Any]] = {
    "sklearn-lloyd": lambda threads: Sklearn("lloyd", threads),
    "sklearn-elkan": lambda threads: Sklearn("elkan", threads),
    "sklearnex": Sklearnex,
    "faiss": Faiss,
    "kentro": Kentro,
}


# ---------------------------------------------------------------------------------------------


def _timed(call: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = call(*args)
    return time.perf_counter() - start, out


def _cast(X: np.ndarray, dtype: str) -> np.ndarray:
    return np.ascontiguousarray(X, dtype=np.dtype(dtype))


def run(task: dict[str, Any]) -> dict[str, Any]:
    threads, k = task["threads"], task["k"]
    peer = PEERS[task["peer"]](threads)
    X = np.load(task["data"])
    y = np.load(task["labels"]) if task["labels"] else None
    init = np.load(task["init"])
    out: dict[str, Any] = {"fits": {}, "same_start": {}, "kpp": []}

    warmed: dict[str, np.ndarray] = {}

    def data(dtype: str) -> np.ndarray:
        """The data as the peer takes it, warmed up once per dtype on a slice of it."""
        if dtype not in warmed:
            Xp = peer.prepare(_cast(X, dtype))
            peer.fit(Xp[: min(Xp.shape[0], max(2_000, 4 * k))], k, 0)
            warmed[dtype] = Xp
        return warmed[dtype]

    # Default fits, one per seed (each timed `repeats` times), with the peak RSS of each.
    for dtype in task["fit_dtypes"]:
        Xp = data(dtype)
        runs = []
        for seed in task["seeds"]:
            times, peaks, exact_peak = [], [], True
            for _ in range(task["repeats"]):
                gc.collect()
                base, ok = reset_peak()
                seconds, (centres, n_iter) = _timed(peer.fit, Xp, k, seed)
                peaks.append(max(0, peak_kib() - base))
                times.append(seconds)
                exact_peak &= ok
            inertia, labels = assign(X, centres)
            run_out = {
                "seed": seed,
                "times": times,
                "n_iter": n_iter,
                "inertia": inertia,
                "peak_mib": max(peaks) / 1024,
                "peak_exact": exact_peak,
            }
            if y is not None:
                from sklearn.metrics import adjusted_rand_score

                run_out["ari"] = float(adjusted_rand_score(y, labels))
            runs.append(run_out)
        out["fits"][dtype] = runs

    # The same start: every peer from the same k-means++ centres, to convergence.
    for dtype in task["same_start_dtypes"]:
        Xp = data(dtype)
        init_d = _cast(init, dtype)
        times, iters = [], []
        for _ in range(task["same_start_repeats"]):
            seconds, (centres, n_iter) = _timed(peer.fit_from, Xp, init_d)
            times.append(seconds)
            iters.append(n_iter)
        out["same_start"][dtype] = {
            "times": times,
            "n_iter": iters,
            "inertia": assign(X, centres)[0],
        }

    # k-means++ seeding, float64, one call per seed, the same trial count for both.
    if task["kpp"] and hasattr(peer, "kmeans_plusplus"):
        trials = 2 + int(math.log(k))
        peer.kmeans_plusplus(
            X[: min(X.shape[0], max(2_000, 4 * k))], k, 0, trials
        )  # warm-up
        for seed in task["seeds"]:
            seconds, centres = _timed(peer.kmeans_plusplus, X, k, seed, trials)
            out["kpp"].append(
                {
                    "seed": seed,
                    "time": seconds,
                    "trials": trials,
                    "inertia": assign(X, centres)[0],
                }
            )

    if isinstance(peer, Sklearnex):
        fit_lines = [m for m in peer.log.messages if ".fit:" in m]
        out["sklearnex_log"] = sorted(set(fit_lines))
        out["onedal"] = bool(fit_lines) and all(
            "running accelerated" in m for m in fit_lines
        )

    if isinstance(peer, Faiss):
        out["faiss_compile"] = peer.faiss.get_compile_options().strip()
    if isinstance(peer, Kentro):
        out["kentro_file"] = str(Path(peer.kentro.__file__).parent)

    from threadpoolctl import threadpool_info

    out["threadpools"] = [
        {
            key: info.get(key)
            for key in ("internal_api", "prefix", "version", "architecture")
        }
        | {"num_threads": info.get("num_threads"), "file": Path(info["filepath"]).name}
        for info in threadpool_info()
    ]
    return out


def main(task_path: str, out_path: str) -> int:
    task = json.loads(Path(task_path).read_text())
    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(limits=task["threads"]):
            result = run(task)
    except BaseException as exc:  # reported in the results, the grid goes on
        result = {
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    Path(out_path).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
