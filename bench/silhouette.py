"""Silhouette on many points: kentro's peak memory against an n x n distance matrix.

    python bench/silhouette.py                  # n=50000, d=10, 8 blobs (about a minute on 2 cores)
    python bench/silhouette.py --n 20000 --d 5 --sklearn   # also scikit-learn, for comparison

Run it with a Python that has kentro installed (``pip install --no-build-isolation .``, a release
build). It prints one Markdown block: the resident memory of this process before the call, its
peak during the call (``VmHWM`` of ``/proc/self/status`` after resetting it through
``/proc/self/clear_refs``; Linux only), the difference, and what one n x n float64 matrix would
take. The time is printed as context only: the machine may be loaded.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np


def status_mib(field: str) -> float:
    """A memory line of /proc/self/status (VmRSS: now; VmHWM: the peak), in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> bool:
    """Resets the process's peak RSS to its current RSS (Linux >= 4.0), so that the peak measured
    afterwards belongs to what runs afterwards."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--centers", type=int, default=8)
    parser.add_argument(
        "--sklearn", action="store_true", help="also time scikit-learn (slow)"
    )
    args = parser.parse_args()

    import kentro
    from kentro.metrics import silhouette_score
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples=args.n, n_features=args.d, centers=args.centers, random_state=0
    )
    # Warm up the extension and its thread pool on a tiny input, outside the measurement.
    silhouette_score(X[:100], y[:100])
    before = status_mib("VmRSS")
    if not reset_peak():
        raise SystemExit(
            "cannot reset the peak RSS (/proc/self/clear_refs): Linux >= 4.0 needed"
        )
    start = time.perf_counter()
    score = silhouette_score(X, y)
    seconds = time.perf_counter() - start
    after = status_mib("VmHWM")

    nxn_gib = args.n * args.n * 8 / 2**30
    lines = [
        f"kentro {kentro.__version__}, {platform.machine()}, numpy {np.__version__}",
        f"silhouette_score(make_blobs(n_samples={args.n}, n_features={args.d}, "
        f"centers={args.centers}, random_state=0)) = {score:.12f}",
        f"input X: {X.nbytes / 2**20:.1f} MiB (float64)",
        f"RSS before the call: {before:.1f} MiB; peak RSS during the call: {after:.1f} MiB; "
        f"growth: {after - before:.1f} MiB",
        f"one n x n float64 distance matrix would take {nxn_gib:.1f} GiB",
        f"time (context only, machine may be loaded): {seconds:.1f} s",
    ]
    if args.sklearn:
        import sklearn.metrics

        start = time.perf_counter()
        theirs = sklearn.metrics.silhouette_score(X, y)
        lines.append(
            f"scikit-learn {sklearn.__version__}: {theirs:.12f} in {time.perf_counter() - start:.1f} s "
            f"(relative difference {abs(theirs - score) / abs(theirs):.1e})"
        )
    print("```\n" + "\n".join(lines) + "\n```")


if __name__ == "__main__":
    main()
