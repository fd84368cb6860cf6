"""Side-by-side K-Means benchmark: kentro against scikit-learn, scikit-learn-intelex and faiss.

From the repository root, in the bench venv, on an otherwise idle machine (bench/README.md):

    python bench/compare.py                      # the whole grid; writes bench/RESULTS.md
    python bench/compare.py --quick              # smoke test: tiny sizes, one seed
    python bench/compare.py --rows china,digits  # some rows only

Before numpy is imported the script re-executes itself without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE (they select a slow OpenBLAS kernel) and with OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set to --threads.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRUBBED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
PEERS = ("sklearn-lloyd", "sklearn-elkan", "sklearnex", "faiss", "kentro")
KPP_PEERS = ("sklearn-lloyd", "kentro")  # sklearn.cluster.kmeans_plusplus vs kentro's
DTYPES = ("float64", "float32")
# Kept in step with _grid.ROW_NAMES (not imported here: _grid imports numpy).
ROW_NAMES = (
    "blobs-300",
    "blobs-1m-2",
    "blobs-200k-32",
    "blobs-100k-128",
    "china",
    "digits",
    "uniform-500k-16",
)


def _names(allowed: tuple[str, ...]) -> Any:
    def parse(text: str) -> list[str]:
        names = [t.strip() for t in text.split(",") if t.strip()]
        bad = [n for n in names if n not in allowed]
        if bad or not names:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list of {', '.join(allowed)}; got {text!r}"
            )
        return names

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: tiny sizes, one seed, one repeat; writes bench/RESULTS-quick.md",
    )
    p.add_argument(
        "--rows", type=_names(ROW_NAMES), default=list(ROW_NAMES), help="grid rows"
    )
    p.add_argument(
        "--peers", type=_names(PEERS), default=list(PEERS), help="peers to run"
    )
    p.add_argument(
        "--seeds", type=int, default=5, help="seeds 0..N-1 for the default fits"
    )
    p.add_argument(
        "--repeats", type=int, default=1, help="timings of each (seed) default fit"
    )
    p.add_argument(
        "--same-start-repeats",
        type=int,
        default=3,
        help="timings of each same-start fit",
    )
    p.add_argument(
        "--dtypes",
        type=_names(DTYPES),
        default=["float64"],
        help="dtypes of the default-fit tables",
    )
    p.add_argument(
        "--same-start-dtypes",
        type=_names(DTYPES),
        default=list(DTYPES),
        help="dtypes of the same-start tables",
    )
    p.add_argument("--threads", type=int, default=2, help="threads for every peer")
    p.add_argument(
        "--out", type=Path, default=None, help="the report (default bench/RESULTS.md)"
    )
    p.add_argument(
        "--worker-timeout",
        type=float,
        default=1800,
        help="seconds for one (row, peer) process",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.seeds, args.repeats, args.same_start_repeats = 1, 1, 1
    if args.out is None:
        args.out = HERE / ("RESULTS-quick.md" if args.quick else "RESULTS.md")
    if min(args.seeds, args.repeats, args.same_start_repeats, args.threads) < 1:
        p.error(
            "--seeds, --repeats, --same-start-repeats and --threads must be positive"
        )
    return args


def _bench_env(threads: int) -> dict[str, str] | None:
    """The environment the bench must run in, or None when this process already has it."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update({name: str(threads) for name in THREAD_VARS})
    return None if env == dict(os.environ) else env


def _run_worker(task: dict[str, Any], tmp: Path, timeout: float) -> dict[str, Any]:
    stem = f"{task['row']}-{task['peer']}"
    task_path, out_path = tmp / f"{stem}.task.json", tmp / f"{stem}.out.json"
    task_path.write_text(json.dumps(task))
    cmd = [sys.executable, str(HERE / "_worker.py"), str(task_path), str(out_path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    if not out_path.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"error": f"worker exited {proc.returncode}: {' / '.join(tail)}"}
    result = json.loads(out_path.read_text())
    if "error" in result:
        result["stderr_tail"] = proc.stderr[-4000:]
    return result


def _progress(row: str, peer: str, res: dict[str, Any], started: float) -> str:
    from statistics import median

    head = f"[{time.time() - started:7.1f}s] {row:16} {peer:14}"
    if "error" in res:
        return f"{head} FAILED {res['error']}"
    parts = []
    for dtype, runs in res["fits"].items():
        t = median(median(r["times"]) for r in runs)
        parts.append(f"fit {dtype} {t:.4f}s ({median(r['n_iter'] for r in runs):g} it)")
    for dtype, ss in res["same_start"].items():
        per_iter = median(ss["times"]) / max(1, median(ss["n_iter"]))
        parts.append(f"same-start {dtype} {per_iter * 1e3:.2f} ms/it")
    if res["kpp"]:
        parts.append(f"k-means++ {median(r['time'] for r in res['kpp']):.4f}s")
    return f"{head} " + "; ".join(parts)


def run(args: argparse.Namespace) -> int:
    import tempfile

    import _grid
    import _report
    import numpy as np
    from sklearn.cluster import kmeans_plusplus
    from threadpoolctl import threadpool_limits

    assert _grid.ROW_NAMES == ROW_NAMES, "compare.ROW_NAMES and _grid.ROWS disagree"
    rows = [row for row in _grid.ROWS if row.name in args.rows]
    seeds = list(range(args.seeds))
    info = _report.environment(args.threads, SCRUBBED + THREAD_VARS)
    if info["loadavg_start"][0] > 0.5:
        print(
            f"warning: load average {info['loadavg_start'][0]:.2f}: the machine is not idle, "
            "the timings will be skewed",
            file=sys.stderr,
        )
    started = time.time()
    shapes: dict[str, tuple[int, int]] = {}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="kentro-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for row in rows:
            X, y = _grid.load(row, args.quick)
            shapes[row.name] = X.shape
            np.save(tmp / f"{row.name}.X.npy", X)
            if y is not None:
                np.save(tmp / f"{row.name}.y.npy", y)
            with threadpool_limits(limits=args.threads):
                init = kmeans_plusplus(X, row.k, random_state=0)[0]
            np.save(tmp / f"{row.name}.init.npy", init)
            del X, y, init
            row_files = [tmp / f"{row.name}.{part}.npy" for part in ("X", "y", "init")]
            results[row.name] = {}
            for peer in args.peers:
                task = {
                    "row": row.name,
                    "peer": peer,
                    "k": row.k,
                    "data": str(tmp / f"{row.name}.X.npy"),
                    "labels": str(tmp / f"{row.name}.y.npy") if row.labelled else None,
                    "init": str(tmp / f"{row.name}.init.npy"),
                    "seeds": seeds,
                    "repeats": args.repeats,
                    "fit_dtypes": args.dtypes,
                    "same_start_dtypes": args.same_start_dtypes,
                    "same_start_repeats": args.same_start_repeats,
                    "kpp": peer in KPP_PEERS,
                    "threads": args.threads,
                }
                res = _run_worker(task, tmp, args.worker_timeout)
                results[row.name][peer] = res
                print(
                    _progress(row.name, peer, res, started), file=sys.stderr, flush=True
                )
                if "stderr_tail" in res:
                    print(res.get("traceback", res["stderr_tail"]), file=sys.stderr)
            for path in row_files:
                path.unlink(missing_ok=True)
    info["wall_s"] = time.time() - started
    info["loadavg_end"] = os.getloadavg()
    config = {
        "quick": args.quick,
        "seeds": seeds,
        "repeats": args.repeats,
        "same_start_repeats": args.same_start_repeats,
        "fit_dtypes": args.dtypes,
        "same_start_dtypes": args.same_start_dtypes,
        "peers": args.peers,
        "threads": args.threads,
        "command": shlex.join(["python", "bench/compare.py", *sys.argv[1:]]),
    }
    args.out.write_text(_report.render(rows, shapes, results, info, config))
    print(f"wrote {args.out} ({info['wall_s'] / 60:.1f} min)", file=sys.stderr)
    failed = [
        f"{r}/{p}" for r, res in results.items() for p, o in res.items() if "error" in o
    ]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = _bench_env(args.threads)
    if env is not None:  # re-execute before numpy (and its OpenBLAS) is loaded
        os.execve(
            sys.executable,
            [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]],
            env,
        )
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
