"""Aggregates the workers' raw numbers and writes bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from statistics import median
from typing import Any

from _grid import KPP_BAR, KPP_BAR_MIN_K, QUALITY_BAR_PCT, Row

EXACT = ("sklearn-lloyd", "sklearn-elkan", "sklearnex")
PACKAGES = (
    "kentro",
    "numpy",
    "scipy",
    "scikit-learn",
    "scikit-learn-intelex",
    "daal",
    "faiss-cpu",
    "threadpoolctl",
    "pillow",
)
PEER_TITLES = {
    "sklearn-lloyd": 'scikit-learn `KMeans(algorithm="lloyd")`',
    "sklearn-elkan": 'scikit-learn `KMeans(algorithm="elkan")`',
    "sklearnex": "scikit-learn-intelex `sklearnex.cluster.KMeans` (oneDAL)",
    "faiss": "faiss `faiss.Kmeans(d, k, seed=s)` (context only, not exact)",
    "kentro": "kentro `kentro.KMeans` (default)",
}

Results = dict[str, dict[str, dict[str, Any]]]  # row -> peer -> worker output


# ---------------------------------------------------------------------------------------------
# The machine and the software.


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gib() -> str:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _git(root: Path) -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (working tree has uncommitted changes)" if dirty else "")


def environment(threads: int, watched_env: tuple[str, ...]) -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} logical CPUs, {len(os.sched_getaffinity(0))} usable",
        "memory": _mem_gib(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "executable": sys.executable,
        "versions": versions,
        "git": _git(Path(__file__).resolve().parent.parent),
        "threads": threads,
        "env": {name: os.environ.get(name, "(unset)") for name in watched_env},
        "loadavg_start": os.getloadavg(),
        "blas": _blas(),
    }


def _blas() -> list[str]:
    """numpy's and scipy's BLAS as this (clean-environment) process loaded them."""
    from threadpoolctl import threadpool_info

    return [
        f"{Path(i['filepath']).name}: {i['internal_api']} {i.get('version')}, "
        f"kernel {i.get('architecture')}, {i['num_threads']} threads"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]


# ---------------------------------------------------------------------------------------------
# Numbers.


def _fmt_s(seconds: float) -> str:
    if seconds >= 100:
        return f"{seconds:.0f}"
    if seconds >= 1:
        return f"{seconds:.2f}"
    if seconds >= 0.01:
        return f"{seconds:.3f}"
    return f"{seconds:.4f}"


def _fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.1f}" if ms >= 1 else f"{ms:.3f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _fit_summary(out: dict[str, Any], dtype: str) -> dict[str, Any] | None:
    runs = out.get("fits", {}).get(dtype)
    if not runs:
        return None
    per_seed = [median(r["times"]) for r in runs]
    summary = {
        "time": median(per_seed),
        "tmin": min(per_seed),
        "tmax": max(per_seed),
        "n_iter": median(r["n_iter"] for r in runs),
        "inertia": median(r["inertia"] for r in runs),
        "peak": max(r["peak_mib"] for r in runs),
        "peak_exact": all(r["peak_exact"] for r in runs),
        "ari": median(r["ari"] for r in runs) if "ari" in runs[0] else None,
    }
    return summary


def _same_start_summary(out: dict[str, Any], dtype: str) -> dict[str, Any] | None:
    ss = out.get("same_start", {}).get(dtype)
    if not ss:
        return None
    t = median(ss["times"])
    n_iter = median(ss["n_iter"])
    return {
        "time": t,
        "n_iter": n_iter,
        "per_iter": t / max(n_iter, 1),
        "inertia": ss["inertia"],
    }


def _fastest_exact(
    summaries: dict[str, dict[str, Any] | None], key: str
) -> tuple[str, float]:
    best = min(
        ((p, s[key]) for p, s in summaries.items() if p in EXACT and s is not None),
        key=lambda item: item[1],
        default=(None, float("nan")),
    )
    return best  # type: ignore[return-value]


def _pct(value: float, ref: float) -> float:
    return (value - ref) / ref * 100.0 if ref else float("nan")


# ---------------------------------------------------------------------------------------------
# The report.


def render(
    rows: list[Row],
    shapes: dict[str, tuple[int, int]],
    results: Results,
    info: dict[str, Any],
    config: dict[str, Any],
) -> str:
    seeds, quick = config["seeds"], config["quick"]
    fit_dtypes, ss_dtypes = config["fit_dtypes"], config["same_start_dtypes"]
    peers = config["peers"]
    out: list[str] = []
    w = out.append

    w(
        "# kentro vs scikit-learn, scikit-learn-intelex and faiss: side-by-side K-Means bench\n"
    )
    if quick:
        w(
            "> **SMOKE RUN (`--quick`): tiny sizes, one seed, one repeat. These numbers are not a "
            "benchmark and judge nothing; run the full grid for that.**\n"
        )
    w(
        "Written by `bench/compare.py` (how to run it: `bench/README.md`). **Run on an otherwise "
        "idle machine**: the OpenMP peers (scikit-learn, faiss) spin-wait on their cores between "
        "parallel regions, and anything else running skews every number. Load average at the "
        f"start: {_loadavg(info['loadavg_start'])}; at the end: {_loadavg(info['loadavg_end'])}.\n"
    )

    # Summary against the bar.
    w("## Summary against the bar\n")
    w(
        f"Quality: kentro's median final inertia over the seeds within {QUALITY_BAR_PCT}% of the "
        "best exact peer's median. Time: kentro's median default-fit time ÷ the fastest exact "
        "peer's (scikit-learn lloyd, scikit-learn elkan, sklearnex). Same start: per-iteration "
        "time, kentro ÷ fastest exact peer, float64. f32: kentro's float32 same-start ms per "
        f"iteration. k-means++: sklearn's `kmeans_plusplus` time ÷ kentro's, rows with k ≥ "
        f"{KPP_BAR_MIN_K} (bar ≥ {KPP_BAR:g}x).\n"
    )
    w(
        "| row | quality: kentro vs best exact | time ratio | same-start ratio | f32 ms/iter | k-means++ speed-up |"
    )
    w("|---|---|---|---|---|---|")
    for row in rows:
        w(_summary_line(row, results.get(row.name, {}), fit_dtypes, ss_dtypes))
    w("")

    # Default fits.
    for dtype in fit_dtypes:
        w(f"## Default fit, {dtype}\n")
        w(
            f"Each peer's default fit (`n_init='auto'`, k-means++ for all but faiss) with "
            f"`random_state` / faiss `seed` = each of {_seeds(seeds)}; each seed timed "
            f"{_times(config['repeats'])}, the table shows the median over the seeds.\n"
        )
        for row in rows:
            _fit_table(
                w, row, shapes[row.name], results.get(row.name, {}), dtype, peers
            )

    # Same start.
    w("## Same start: time per iteration\n")
    w(
        "Every peer starts from the same centres (`sklearn.cluster.kmeans_plusplus(X, k, "
        "random_state=0)`, cast to the row's dtype) with `n_init=1` and default `tol`/`max_iter`, "
        f"and runs to its own convergence; each fit timed {_times(config['same_start_repeats'])} "
        "(median shown). Per iteration = fit time ÷ iterations. faiss takes the centres through "
        "`Kmeans.train(x, init_centroids=...)` and here gets every point "
        "(`max_points_per_centroid=n`, no subsampling); it stops after 25 iterations at most.\n"
    )
    for row in rows:
        _same_start_table(
            w, row, shapes[row.name], results.get(row.name, {}), ss_dtypes, peers
        )

    # k-means++.
    _kpp_table(w, rows, results)

    # Peers, environment, method.
    _peers_section(w, results, peers)
    _environment_section(w, info, config)
    _method_section(w, config)
    return "\n".join(out) + "\n"


def _loadavg(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values) + " (1 / 5 / 15 min)"


def _seeds(seeds: list[int]) -> str:
    return f"seeds {seeds[0]}..{seeds[-1]}" if len(seeds) > 1 else f"seed {seeds[0]}"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _summary_line(
    row: Row, res: dict[str, Any], fit_dtypes: list[str], ss_dtypes: list[str]
) -> str:
    cells = [f"{row.name} (k={row.k})"]
    fit = (
        {p: _fit_summary(o, "float64") for p, o in res.items()}
        if "float64" in fit_dtypes
        else {}
    )
    k_fit = fit.get("kentro")
    best_peer, best_inertia = _fastest_exact(fit, "inertia")
    fast_peer, fast_time = _fastest_exact(fit, "time")
    if k_fit and best_peer:
        d = _pct(k_fit["inertia"], best_inertia)
        cells.append(f"{d:+.3f}% ({_verdict(d <= QUALITY_BAR_PCT)})")
        ratio = k_fit["time"] / fast_time
        cells.append(
            f"{ratio:.2f}x vs {fast_peer} (≤ {row.time_bar:g}x: {_verdict(ratio <= row.time_bar)})"
        )
    else:
        cells += ["n/a", "n/a"]

    ss = (
        {p: _same_start_summary(o, "float64") for p, o in res.items()}
        if "float64" in ss_dtypes
        else {}
    )
    k_ss = ss.get("kentro")
    ss_peer, ss_time = _fastest_exact(ss, "per_iter")
    if k_ss and ss_peer:
        ratio = k_ss["per_iter"] / ss_time
        bar = (
            f" (≤ {row.same_start_bar:g}x: {_verdict(ratio <= row.same_start_bar)})"
            if row.same_start_bar is not None
            else ""
        )
        cells.append(f"{ratio:.2f}x vs {ss_peer}{bar}")
    else:
        cells.append("n/a")

    k32 = (
        _same_start_summary(res.get("kentro", {}), "float32")
        if "float32" in ss_dtypes
        else None
    )
    if k32:
        ms = k32["per_iter"] * 1e3
        bar = (
            f" (≤ {row.f32_ms_bar:g} ms: {_verdict(ms <= row.f32_ms_bar)})"
            if row.f32_ms_bar
            else ""
        )
        cells.append(f"{_fmt_ms(k32['per_iter'])} ms{bar}")
    else:
        cells.append("n/a")

    sk = res.get("sklearn-lloyd", {}).get("kpp") or []
    ke = res.get("kentro", {}).get("kpp") or []
    if sk and ke:
        speedup = median(r["time"] for r in sk) / median(r["time"] for r in ke)
        bar = f" ({_verdict(speedup >= KPP_BAR)})" if row.k >= KPP_BAR_MIN_K else ""
        cells.append(f"{speedup:.1f}x{bar}")
    else:
        cells.append("n/a")
    return "| " + " | ".join(cells) + " |"


def _error_line(w: Any, peer: str, out: dict[str, Any], ncols: int) -> None:
    message = out["error"].replace("|", "\\|").replace("\n", " ")[:300]
    w(f"| {peer} | failed: `{message}` |" + " |" * (ncols - 2))


def _fit_table(
    w: Any,
    row: Row,
    shape: tuple[int, int],
    res: dict[str, Any],
    dtype: str,
    peers: list[str],
) -> None:
    w(f"### {row.name}: {row.title} (n={shape[0]:,}, d={shape[1]}, {dtype})\n")
    summaries = {p: _fit_summary(res[p], dtype) for p in peers if p in res}
    _, best_inertia = _fastest_exact(summaries, "inertia")
    fast_peer, fast_time = _fastest_exact(summaries, "time")
    w(
        "| peer | fit s (median) | min-max s | iterations | inertia | vs best exact | ARI | "
        "peak MiB | ÷ fastest exact |"
    )
    w("|---|---|---|---|---|---|---|---|---|")
    for peer in peers:
        if peer not in res:
            continue
        if "error" in res[peer]:
            _error_line(w, peer, res[peer], 9)
            continue
        s = summaries[peer]
        if s is None:
            continue
        ari = f"{s['ari']:.4f}" if s["ari"] is not None else "-"
        peak = f"{s['peak']:.0f}" + ("" if s["peak_exact"] else " (≥)")
        w(
            f"| {peer} | {_fmt_s(s['time'])} | {_fmt_s(s['tmin'])}-{_fmt_s(s['tmax'])} | "
            f"{s['n_iter']:g} | {s['inertia']:.6g} | {_pct(s['inertia'], best_inertia):+.3f}% | "
            f"{ari} | {peak} | {s['time'] / fast_time:.2f}x |"
        )
    k = summaries.get("kentro")
    if k and fast_peer:
        ratio = k["time"] / fast_time
        w(
            f"\nkentro ÷ fastest exact peer ({fast_peer}): **{ratio:.2f}x** "
            f"(bar ≤ {row.time_bar:g}x: {_verdict(ratio <= row.time_bar)}); "
            f"inertia {_pct(k['inertia'], best_inertia):+.3f}% vs the best exact peer "
            f"(bar ≤ {QUALITY_BAR_PCT}%: {_verdict(_pct(k['inertia'], best_inertia) <= QUALITY_BAR_PCT)})."
        )
    w("")


def _same_start_table(
    w: Any,
    row: Row,
    shape: tuple[int, int],
    res: dict[str, Any],
    dtypes: list[str],
    peers: list[str],
) -> None:
    w(f"### {row.name}: {row.title} (n={shape[0]:,}, d={shape[1]})\n")
    w(
        "| peer | dtype | fit s (median) | iterations | ms / iteration | inertia | kentro ÷ this, per iteration |"
    )
    w("|---|---|---|---|---|---|---|")
    notes = []
    for dtype in dtypes:
        summaries = {p: _same_start_summary(res[p], dtype) for p in peers if p in res}
        k = summaries.get("kentro")
        for peer in peers:
            if peer not in res:
                continue
            if "error" in res[peer]:
                if dtype == dtypes[0]:
                    _error_line(w, peer, res[peer], 7)
                continue
            s = summaries[peer]
            if s is None:
                continue
            ratio = (
                f"{k['per_iter'] / s['per_iter']:.2f}x"
                if k and peer != "kentro"
                else "-"
            )
            w(
                f"| {peer} | {dtype} | {_fmt_s(s['time'])} | {s['n_iter']:g} | "
                f"{_fmt_ms(s['per_iter'])} | {s['inertia']:.6g} | {ratio} |"
            )
        fast_peer, fast = _fastest_exact(summaries, "per_iter")
        if k and fast_peer:
            ratio = k["per_iter"] / fast
            bar = ""
            if dtype == "float64" and row.same_start_bar is not None:
                bar = f" (bar ≤ {row.same_start_bar:g}x: {_verdict(ratio <= row.same_start_bar)})"
            if dtype == "float32" and row.f32_ms_bar is not None:
                ms = k["per_iter"] * 1e3
                bar = f"; kentro {ms:.1f} ms per iteration (bar ≤ {row.f32_ms_bar:g} ms: {_verdict(ms <= row.f32_ms_bar)})"
            notes.append(
                f"{dtype}: kentro ÷ fastest exact peer ({fast_peer}) per iteration **{ratio:.2f}x**{bar}."
            )
    w("")
    for note in notes:
        w(f"- {note}")
    w("")


def _kpp_table(w: Any, rows: list[Row], results: Results) -> None:
    w("## k-means++ seeding\n")
    w(
        "`sklearn.cluster.kmeans_plusplus(X, k, random_state=s, n_local_trials=t)` against "
        "`kentro.kmeans_plusplus` with the same arguments, float64, t = 2 + ⌊ln k⌋ (both "
        "libraries' default), one call per seed, median over the seeds. Seeding inertia: the "
        "inertia of the chosen centres, recomputed, median.\n"
    )
    w(
        "| row | k | trials | sklearn s | kentro s | speed-up | seeding inertia sklearn | seeding inertia kentro | bar |"
    )
    w("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        sk = results.get(row.name, {}).get("sklearn-lloyd", {}).get("kpp") or []
        ke = results.get(row.name, {}).get("kentro", {}).get("kpp") or []
        if not (sk and ke):
            w(f"| {row.name} | {row.k} | n/a | | | | | | |")
            continue
        ts, tk = median(r["time"] for r in sk), median(r["time"] for r in ke)
        bar = (
            f"≥ {KPP_BAR:g}x: {_verdict(ts / tk >= KPP_BAR)}"
            if row.k >= KPP_BAR_MIN_K
            else "-"
        )
        w(
            f"| {row.name} | {row.k} | {sk[0]['trials']} | {_fmt_s(ts)} | {_fmt_s(tk)} | "
            f"{ts / tk:.1f}x | {median(r['inertia'] for r in sk):.6g} | "
            f"{median(r['inertia'] for r in ke):.6g} | {bar} |"
        )
    w("")


def _peers_section(w: Any, results: Results, peers: list[str]) -> None:
    w("## The peers as run\n")
    for peer in peers:
        w(f"- **{peer}**: {PEER_TITLES[peer]}.")
    w("")
    logs = sorted(
        {
            line
            for res in results.values()
            for line in res.get("sklearnex", {}).get("sklearnex_log", [])
        }
    )
    flags = [
        res["sklearnex"]["onedal"]
        for res in results.values()
        if "onedal" in res.get("sklearnex", {})
    ]
    if flags:
        verdict = (
            "every sklearnex fit ran oneDAL's accelerated path"
            if all(flags)
            else "**some sklearnex fits did NOT run oneDAL** (fell back to scikit-learn)"
        )
        w(
            f"sklearnex's own log (logger `sklearnex`, level INFO) shows that {verdict}; its fit lines:\n"
        )
        for line in logs:
            w(f"- `{line}`")
        w("")
    faiss_opts = {
        res["faiss"].get("faiss_compile") for res in results.values() if "faiss" in res
    } - {None}
    if faiss_opts:
        w(
            f"faiss compile options (`faiss.get_compile_options()`): `{', '.join(sorted(faiss_opts))}`.\n"
        )
    kentro_at = {
        res["kentro"].get("kentro_file") for res in results.values() if "kentro" in res
    } - {None}
    if kentro_at:
        w(f"kentro imported from: `{', '.join(sorted(kentro_at))}`.\n")

    w("Thread pools each peer's process had loaded after its fits (threadpoolctl):\n")
    w(
        "| peer | library | internal API | version | architecture (BLAS kernel) | threads |"
    )
    w("|---|---|---|---|---|---|")
    for peer in peers:
        seen = []
        for res in results.values():
            for pool in res.get(peer, {}).get("threadpools", []):
                if pool not in seen:
                    seen.append(pool)
        for pool in sorted(seen, key=lambda pool: pool["file"]):
            w(
                f"| {peer} | `{pool['file']}` | {pool['internal_api']} | {pool['version'] or '-'} | "
                f"{pool['architecture'] or '-'} | {pool['num_threads']} |"
            )
    w("")


def _environment_section(w: Any, info: dict[str, Any], config: dict[str, Any]) -> None:
    w("## Machine and software\n")
    w(f"- Date: {info['date']}; whole run {info['wall_s'] / 60:.1f} min.")
    w(f"- CPU: {info['cpu']}; {info['cores']}; memory {info['memory']}.")
    w(f"- OS: {info['os']}; {info['python']} (`{info['executable']}`).")
    w(f"- Repository: {info['git']}.")
    w(f"- Command: `{config['command']}`.")
    w(
        "- Environment as run (the script re-executes itself with these): "
        + ", ".join(f"`{k}={v}`" for k, v in info["env"].items())
        + "."
    )
    w(f"- Threads: {info['threads']} for every peer (details under *Method*).")
    w("- BLAS (threadpoolctl, in the driver process): " + "; ".join(info["blas"]) + ".")
    w("- Versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()) + ".")
    w("")


def _method_section(w: Any, config: dict[str, Any]) -> None:
    t = config["threads"]
    w("## Method and columns\n")
    w(
        f"""- Every (row, peer) runs in its own fresh Python process (`bench/_worker.py`), one after another, so no
  library's thread pool outlives its turn; each process first warms up with one fit on a slice of the row.
- Threads: `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS` and `MKL_NUM_THREADS` = {t} and `threadpoolctl.threadpool_limits({t})`
  around everything, for all; also `n_jobs={t}` for sklearnex (oneDAL's own TBB pool), `faiss.omp_set_num_threads({t})`,
  and `kentro.threadpool_limits({t})`.
- **fit s**: wall time of `fit(X)` (faiss: `Kmeans.train`), `time.perf_counter`; one value per seed (the median of its
  repeats), then the median over the seeds, and the min-max over the seeds. faiss is float32 only: it is handed a
  float32 copy of the data made before the timer starts (not counted in time or memory).
- **iterations**: `n_iter_` (faiss: `len(iteration_stats)`), median over the seeds.
- **inertia**: recomputed the same way for every peer from its final centres: each point to its nearest centre
  (BLAS, blocks of rows), then the exact sum of squared differences, in float64 on the float64 data; median over the
  seeds. **vs best exact**: against the lowest median among the exact peers (scikit-learn lloyd and elkan, sklearnex).
- **ARI**: `sklearn.metrics.adjusted_rand_score` of the generating labels (blobs rows, digits' targets) against the
  recomputed nearest-centre labels; median over the seeds. "-" where the data has no labels.
- **peak MiB**: the peak resident set during the fit minus the resident set just before it (Linux `VmHWM` reset
  through `/proc/self/clear_refs`, so native allocations count), max over the seeds; "(≥)" where the reset was
  not possible and the peak may include earlier allocations.
- **÷ fastest exact**: that peer's median time ÷ the fastest exact peer's. faiss is reported for context only:
  by default it clusters a random subsample of 256·k points, in float32, for at most 25 iterations.
- Same start and k-means++: see their sections. sklearnex runs `algorithm="lloyd"` (oneDAL has no elkan: it logs
  that it computes elkan as lloyd)."""
    )
    w("")
