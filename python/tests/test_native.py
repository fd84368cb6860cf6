"""The glue: exceptions, panics, Ctrl-C, the GIL, threads, model files shared with the CLI."""

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import joblib
import kentro
import numpy as np
import pytest
from kentro import KMeans, _kentro, _threads
from kentro.exceptions import (
    DataError,
    DTypeError,
    InternalError,
    KentroError,
    ModelFileError,
    ModelIOError,
    ParameterError,
    SampleWeightError,
    ThreadPoolError,
)
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

ROOT = Path(__file__).resolve().parents[2]


def _fit_args(**overrides):
    args = dict(
        init="k-means++", n_init=1, max_iter=300, tol=1e-4, seed=0, algorithm="lloyd"
    )
    args.update(overrides)
    return args


# -- exceptions --------------------------------------------------------------------------------


def test_hierarchy():
    for cls in (ParameterError, DataError, SampleWeightError, ModelFileError):
        assert issubclass(cls, KentroError)
    assert issubclass(KentroError, ValueError)
    assert issubclass(ModelIOError, OSError) and issubclass(ModelIOError, KentroError)
    assert issubclass(InternalError, RuntimeError) and issubclass(
        InternalError, KentroError
    )
    assert issubclass(DTypeError, TypeError) and issubclass(DTypeError, KentroError)
    assert issubclass(ThreadPoolError, RuntimeError) and issubclass(
        ThreadPoolError, KentroError
    )
    assert set(kentro.exceptions.__all__) == {
        name
        for name, obj in vars(kentro.exceptions).items()
        if isinstance(obj, type) and issubclass(obj, KentroError)
    }


def test_core_errors_map_variant_by_variant():
    X = np.ones((5, 2))
    bad = X.copy()
    bad[1, 1] = np.nan
    with pytest.raises(DataError, match="non-finite value NaN at row 1, column 1"):
        _kentro.fit(bad, 2, **_fit_args())
    with pytest.raises(DataError, match="n_samples=5 should be >= n_clusters=6"):
        _kentro.fit(X, 6, **_fit_args())
    with pytest.raises(ParameterError, match="n_clusters must be >= 1"):
        _kentro.fit(X, 0, **_fit_args())
    with pytest.raises(ParameterError, match="unknown algorithm"):
        _kentro.fit(X, 2, **_fit_args(algorithm="hamerly-9000"))
    with pytest.raises(SampleWeightError, match="one per sample"):
        _kentro.fit(X, 2, sample_weight=np.ones(3), **_fit_args())
    with pytest.raises(SampleWeightError, match="at least one non-zero"):
        _kentro.fit(X, 2, sample_weight=np.zeros(5), **_fit_args())
    with pytest.raises(DataError, match="init has 3 features but the data has 2"):
        _kentro.fit(X, 2, **_fit_args(init=np.zeros((2, 3))))
    model = _kentro.fit(X, 1, **_fit_args())
    with pytest.raises(
        DataError, match="X has 3 features, but the model is expecting 2"
    ):
        model.predict(np.ones((2, 3)))
    x32 = np.ones((2, 2), dtype=np.float32)
    for method in (model.predict, model.transform, model.score):
        with pytest.raises(DTypeError, match="float64 centres but X is float32"):
            method(x32)


def test_model_file_errors(tmp_path):
    with pytest.raises(ModelFileError, match="not a kentro model file"):
        _kentro.Model.from_json("[1, 2, 3]")
    text = KMeans(1).fit([[0.0], [1.0]])._predictor.to_json()
    with pytest.raises(ModelFileError, match="version 99 is not supported"):
        _kentro.Model.from_json(text.replace('"version":1', '"version":99'))
    with pytest.raises(ModelIOError) as info:
        kentro.load(tmp_path / "missing.json")
    assert info.value.errno == errno.ENOENT
    assert info.value.filename == str(tmp_path / "missing.json")
    assert isinstance(info.value, ValueError)


def test_panic_is_a_clear_exception():
    for n_threads in (1, 2):
        with pytest.raises(
            InternalError, match=r"internal error.*deliberate test panic"
        ):
            _kentro._panic_for_tests(n_threads)
    # The pools still work afterwards.
    assert KMeans(2, random_state=0).fit([[0.0], [1.0], [5.0]]).n_iter_ >= 1


# -- Ctrl-C and the GIL ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_fit_data():
    # Random init, tol=0: hundreds of iterations (of 10-100 ms each on 2 cores) to converge.
    return np.random.default_rng(0).random((200_000, 16))


def test_ctrl_c_interrupts_a_long_fit(long_fit_data):
    km = KMeans(64, init="random", n_init=1, max_iter=1000, tol=0.0, random_state=0)
    # An earlier fit on another width: none of it may survive the interrupted fit.
    km.fit(long_fit_data[:500, :4])
    assert km.n_features_in_ == 4
    timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            km.fit(long_fit_data)
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - start
    # About a second after the signal, even on a busy 2-core machine.
    assert elapsed < 0.5 + 1.5, elapsed
    assert not hasattr(km, "cluster_centers_") and not hasattr(km, "labels_")
    assert not hasattr(km, "n_features_in_")
    with pytest.raises(NotFittedError):
        check_is_fitted(km)
    # The next fit runs normally.
    assert KMeans(2, random_state=0).fit(long_fit_data[:1000]).n_iter_ >= 1


def test_ctrl_c_interrupts_a_long_fit_of_small_data():
    # Up to 2048 rows a fit runs on the calling thread, which then looks for Ctrl-C itself.
    # Without that, these runs would go on for minutes.
    X = np.random.default_rng(1).random((2000, 16))
    km = KMeans(
        64, init="random", n_init=100_000, max_iter=300, tol=0.0, random_state=0
    )
    timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            km.fit(X)
    finally:
        timer.cancel()
    assert not hasattr(km, "cluster_centers_") and not hasattr(km, "n_features_in_")
    # The next fit runs normally.
    assert KMeans(2, random_state=0).fit(X).n_iter_ >= 1


def _assert_python_runs_during(fit):
    """Runs ``fit`` on a thread while the main thread ticks in Python: the GIL was released."""
    done = threading.Event()

    def work():
        fit()
        done.set()

    thread = threading.Thread(target=work)
    ticks = 0
    thread.start()
    start = time.perf_counter()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    elapsed = time.perf_counter() - start
    thread.join()
    # The main thread kept running Python while the fit ran (about one tick per 1-2 ms).
    assert elapsed > 0.05 and ticks > elapsed * 100, (ticks, elapsed)


def test_gil_is_released_during_a_fit_of_small_data():
    X = np.random.default_rng(2).random((2000, 16))
    km = KMeans(64, init="random", n_init=40, tol=0.0, random_state=0)
    _assert_python_runs_during(lambda: km.fit(X))


def test_gil_is_released_during_fit(long_fit_data):
    km = KMeans(64, init="random", n_init=2, max_iter=20, tol=0.0, random_state=0)
    _assert_python_runs_during(lambda: km.fit(long_fit_data))


# -- threads -----------------------------------------------------------------------------------


def test_default_is_every_core(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("RAYON_NUM_THREADS", raising=False)
    assert _threads.effective_n_threads() == 0
    assert _kentro.pool_threads(0) == len(os.sched_getaffinity(0))


def test_omp_num_threads_is_honoured(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _threads.effective_n_threads() == 3
    monkeypatch.setenv(
        "OMP_NUM_THREADS", "2,1"
    )  # OpenMP's nested form: the first level
    assert _threads.effective_n_threads() == 2
    assert _kentro.pool_threads(_threads.effective_n_threads()) == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    assert _threads.effective_n_threads() == 0


def test_threadpool_limits(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    with kentro.threadpool_limits(1) as limits:
        assert _threads.effective_n_threads() == 1
        with kentro.threadpool_limits(3):
            assert _threads.effective_n_threads() == 3
        with kentro.threadpool_limits(None):
            assert _threads.effective_n_threads() == 1
        assert _threads.effective_n_threads() == 1
    assert _threads.effective_n_threads() == 4
    assert isinstance(limits, kentro.threadpool_limits)
    with pytest.raises(ValueError, match="positive int"):
        kentro.threadpool_limits(0)


def test_threadpool_limits_overlapping_in_two_threads(monkeypatch):
    # Two threads whose limits overlap without nesting: A starts, B starts, A ends, B ends.
    # Ending A must neither reinstate the setting from before A (B is still in force) nor, once B
    # ends, leave A's limit behind.
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    steps = [threading.Event() for _ in range(4)]
    seen = {}

    def a():
        limits = kentro.threadpool_limits(1)
        steps[0].set()
        steps[1].wait(10)
        limits.restore_original_limits()
        seen["after A ends"] = _threads.effective_n_threads()
        steps[2].set()

    def b():
        steps[0].wait(10)
        with kentro.threadpool_limits(3):
            seen["both"] = _threads.effective_n_threads()
            steps[1].set()
            steps[2].wait(10)
            seen["B alone"] = _threads.effective_n_threads()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"both": 3, "after A ends": 3, "B alone": 3}
    assert _threads.effective_n_threads() == 4
    # And B ending first: A's limit comes back, then the original.
    a_limits = kentro.threadpool_limits(2)
    b_limits = kentro.threadpool_limits(5)
    b_limits.restore_original_limits()
    assert _threads.effective_n_threads() == 2
    b_limits.restore_original_limits()  # a second call does nothing
    assert _threads.effective_n_threads() == 2
    a_limits.restore_original_limits()
    assert _threads.effective_n_threads() == 4


def test_threads_refused_is_a_thread_pool_error():
    # In a child whose address space is capped just above its current size, the OS refuses the
    # threads' stacks (an rlimit on processes would not bind root). The stacks are made huge
    # (RUST_MIN_STACK, which the pool's threads take), so that the refusal comes after a few
    # threads and leaves room for every other allocation: with the default 2 MiB stacks the
    # threads used up the last of the address space, and a thread that had started could die
    # allocating its own state (about one run in 50 under load).
    code = textwrap.dedent(
        """
        import resource
        from kentro import _kentro
        from kentro.exceptions import ThreadPoolError

        size = next(
            int(line.split()[1]) * 1024
            for line in open("/proc/self/status")
            if line.startswith("VmSize:")
        )
        limit = size + 1024 * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            _kentro.pool_threads(1000)
        except ThreadPoolError as e:
            assert isinstance(e, RuntimeError), type(e).__mro__
            assert "kentro could not start 1000 threads" in str(e), str(e)
            print("refused")
        """
    )
    env = dict(os.environ, RUST_MIN_STACK=str(256 * 2**20))
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "refused"


def _worker_threads():
    return _threads.effective_n_threads()


def test_joblib_workers_do_not_oversubscribe(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    # loky sets OMP_NUM_THREADS = cpu_count // n_jobs in its workers, as for scikit-learn.
    got = joblib.Parallel(n_jobs=2)(joblib.delayed(_worker_threads)() for _ in range(2))
    expected = max(joblib.cpu_count() // 2, 1)
    assert got == [expected, expected]


def test_results_do_not_depend_on_thread_count():
    X, _ = kentro.make_blobs(5000, n_features=5, centers=7, random_state=2)
    fits = []
    for n in (1, 2, 3, 5):
        with kentro.threadpool_limits(n):
            fits.append(KMeans(7, n_init=2, init="random", random_state=4).fit(X))
    for km in fits[1:]:
        np.testing.assert_array_equal(km.cluster_centers_, fits[0].cluster_centers_)
        np.testing.assert_array_equal(km.labels_, fits[0].labels_)
        assert km.inertia_ == fits[0].inertia_


# -- model files -------------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    import pandas as pd

    X, _ = kentro.make_blobs(200, n_features=3, centers=4, random_state=5)
    for data in (X, X.astype(np.float32), pd.DataFrame(X, columns=["x", "y", "z"])):
        km = KMeans(4, random_state=0).fit(data)
        path = tmp_path / "model.json"
        km.save(path)
        again = kentro.load(path)
        assert isinstance(again, KMeans) and again.n_clusters == 4
        assert again.cluster_centers_.dtype == km.cluster_centers_.dtype
        np.testing.assert_array_equal(again.cluster_centers_, km.cluster_centers_)
        np.testing.assert_array_equal(again.labels_, km.labels_)
        assert again.inertia_ == km.inertia_ and again.n_iter_ == km.n_iter_
        np.testing.assert_array_equal(again.predict(data), km.labels_)
        if isinstance(data, pd.DataFrame):
            np.testing.assert_array_equal(again.feature_names_in_, ["x", "y", "z"])
        else:
            assert not hasattr(again, "feature_names_in_")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model.json"
    ]  # no temporary left


def test_model_json_round_trips_exactly():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(50, 20)) * 10.0 ** rng.integers(-8, 8, size=(50, 20))
    model = _kentro.Model.from_parts(centers, np.empty(0, np.int64), 0.0, 0)
    np.testing.assert_array_equal(
        _kentro.Model.from_json(model.to_json()).centers(), centers
    )
    c32 = centers.astype(np.float32)
    model = _kentro.Model.from_parts(c32, np.empty(0, np.int64), 0.0, 0)
    again = _kentro.Model.from_json(model.to_json())
    assert again.dtype == "float32"
    np.testing.assert_array_equal(again.centers(), c32)


def _cli():
    """The kentro CLI binary: $KENTRO_CLI, else the newest one cargo built in target/ (an older
    build may predate the core the wheel was built from)."""
    if os.environ.get("KENTRO_CLI"):
        return os.environ["KENTRO_CLI"]
    built = [ROOT / "target" / profile / "kentro" for profile in ("release", "debug")]
    built = [path for path in built if path.exists()]
    if built:
        return str(max(built, key=lambda path: path.stat().st_mtime))
    return shutil.which("kentro")


def _cli_labels(path):
    lines = Path(path).read_text().split()
    assert lines[0] == "label"
    return np.array([int(v) for v in lines[1:]])


@pytest.mark.skipif(
    _cli() is None, reason="the kentro CLI is not built (cargo build -p kentro-cli)"
)
def test_model_files_cross_between_python_and_cli(tmp_path):
    X, _ = kentro.make_blobs(500, n_features=3, centers=4, random_state=8)
    data = tmp_path / "data.npy"
    np.save(data, X)
    cli = _cli()

    # Python fits, the CLI predicts.
    km = KMeans(4, random_state=3).fit(X)
    km.save(tmp_path / "py.json")
    subprocess.run(
        [
            cli,
            "predict",
            str(tmp_path / "py.json"),
            str(data),
            "-o",
            str(tmp_path / "a.csv"),
        ],
        check=True,
        capture_output=True,
    )
    np.testing.assert_array_equal(_cli_labels(tmp_path / "a.csv"), km.labels_)

    # The CLI fits, Python predicts; the same seed gives the same model in both faces.
    cli_fit = ["fit", str(data), "-k", "4", "--seed", "3", "-q"]
    outputs = ["-o", str(tmp_path / "cli.json"), "--labels", str(tmp_path / "b.csv")]
    subprocess.run(
        [cli, *cli_fit, *outputs],
        check=True,
        capture_output=True,
    )
    loaded = kentro.load(tmp_path / "cli.json")
    np.testing.assert_array_equal(loaded.predict(X), _cli_labels(tmp_path / "b.csv"))
    np.testing.assert_array_equal(loaded.cluster_centers_, km.cluster_centers_)
