//! Where core work runs: in a rayon pool of the size Python asked for (pools cached by size),
//! or — for a small fit, which never uses a pool — on the calling thread; always with the GIL
//! released, panics caught, and, for fits, Ctrl-C noticed within a poll interval.

use std::any::Any;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kentro::KMeansError;
use pyo3::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::errors::{named_error, panic_to_py_err, to_py_err};

/// How often a waiting fit looks for a pending signal (Ctrl-C). Checking is cheap; this bounds
/// the delay before a `KeyboardInterrupt` reaches the fit.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// The pools built so far in this process, by thread count.
struct Pools {
    /// The process that built them: a forked child must not use its parent's (threadless) pools.
    pid: u32,
    by_size: HashMap<usize, Arc<ThreadPool>>,
}

static POOLS: Mutex<Option<Pools>> = Mutex::new(None);

/// The thread count meant by `requested`: itself if positive, else `RAYON_NUM_THREADS`, else
/// every core this process may use.
pub(crate) fn resolve_threads(requested: usize) -> usize {
    if requested > 0 {
        return requested;
    }
    let from_env = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.trim().parse::<usize>().ok());
    match from_env {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

/// The cached pool of `resolve_threads(requested)` threads, built on first use; when the OS refuses
/// the threads, `kentro.exceptions.ThreadPoolError` (a `RuntimeError`).
pub(crate) fn pool(py: Python<'_>, requested: usize) -> PyResult<Arc<ThreadPool>> {
    let size = resolve_threads(requested);
    // The exception is made once the lock is released: making it runs Python, which may switch to
    // a thread that then waits for the lock while holding the GIL.
    cached_pool(size).map_err(|message| named_error(py, "ThreadPoolError", message))
}

/// The cached pool of `size` threads, built on first use, or why it could not be built.
fn cached_pool(size: usize) -> Result<Arc<ThreadPool>, String> {
    let mut guard = POOLS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pid = std::process::id();
    if guard.as_ref().is_some_and(|p| p.pid != pid) {
        // After fork() the parent's worker threads do not exist here; leak its pools rather than
        // signal threads that are not there.
        std::mem::forget(guard.take());
    }
    let pools = guard.get_or_insert_with(|| Pools { pid, by_size: HashMap::new() });
    if let Some(p) = pools.by_size.get(&size) {
        return Ok(Arc::clone(p));
    }
    let built = ThreadPoolBuilder::new()
        .num_threads(size)
        .thread_name(|i| format!("kentro-{i}"))
        .build()
        .map_err(|e| format!("kentro could not start {size} threads: {e}"))?;
    let built = Arc::new(built);
    pools.by_size.insert(size, Arc::clone(&built));
    Ok(built)
}

type Outcome<T> = Result<Result<T, KMeansError>, Box<dyn Any + Send>>;

fn finish<T>(py: Python<'_>, outcome: Outcome<T>) -> PyResult<T> {
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(to_py_err(py, e)),
        Err(panic) => Err(panic_to_py_err(py, panic)),
    }
}

/// Runs `job` in the pool with the GIL released; a core error or a panic becomes a Python
/// exception. For short work (predict, transform, score, seeding).
pub(crate) fn compute<T, J>(py: Python<'_>, n_threads: usize, job: J) -> PyResult<T>
where
    T: Send,
    J: FnOnce() -> Result<T, KMeansError> + Send,
{
    let pool = pool(py, n_threads)?;
    let outcome = py.detach(move || catch_unwind(AssertUnwindSafe(|| pool.install(job))));
    finish(py, outcome)
}

/// Runs `job` in the pool on a helper thread while this (Python) thread waits with the GIL
/// released, waking every [`SIGNAL_POLL`] to run Python's signal handlers. When one raises
/// (Ctrl-C: `KeyboardInterrupt`), `cancel` is set — the job's observer then stops the fit at its
/// next check — and that exception is returned once the job has ended.
pub(crate) fn compute_interruptible<T, J>(
    py: Python<'_>,
    n_threads: usize,
    cancel: &AtomicBool,
    job: J,
) -> PyResult<T>
where
    T: Send,
    J: FnOnce() -> Result<T, KMeansError> + Send,
{
    let pool = pool(py, n_threads)?;
    let (tx, rx) = channel::<Outcome<T>>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| pool.install(job)));
            // The receiver outlives this thread (the scope joins it), so sending cannot fail.
            let _ = tx.send(outcome);
        });
        let mut interrupt: Option<PyErr> = None;
        let mut rx = rx;
        let outcome = loop {
            let (received, back) = py.detach(move || (rx.recv_timeout(SIGNAL_POLL), rx));
            rx = back;
            match received {
                Ok(outcome) => break outcome,
                Err(RecvTimeoutError::Timeout) => {
                    if interrupt.is_none()
                        && let Err(e) = py.check_signals()
                    {
                        cancel.store(true, Ordering::Relaxed);
                        interrupt = Some(e);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    break Err(Box::new("the worker thread ended without a result") as Box<dyn Any + Send>);
                }
            }
        };
        match interrupt {
            Some(e) => Err(e),
            None => finish(py, outcome),
        }
    })
}

/// Runs `job` on this thread with the GIL released; a core error or a panic becomes a Python
/// exception. For a fit that never uses a thread pool (see
/// `ValidKMeansParams::runs_on_calling_thread`): handing it to a pool would cost two thread
/// wake-ups, more than the whole fit of a few hundred rows. The job's observer watches for Ctrl-C
/// itself, with a [`SignalPoll`].
pub(crate) fn compute_here<T, J>(py: Python<'_>, job: J) -> PyResult<T>
where
    T: Send,
    J: FnOnce() -> Result<T, KMeansError> + Send,
{
    let outcome = py.detach(move || catch_unwind(AssertUnwindSafe(job)));
    finish(py, outcome)
}

/// Ctrl-C for a job run by [`compute_here`]: asked often (at every cancellation check), it runs
/// Python's signal handlers at most once per [`SIGNAL_POLL`], taking the GIL just for that.
pub(crate) struct SignalPoll {
    start: Instant,
    /// Nanoseconds after `start` from which the next poll is due.
    next: AtomicU64,
}

impl SignalPoll {
    pub(crate) fn new() -> Self {
        SignalPoll { start: Instant::now(), next: AtomicU64::new(poll_nanos()) }
    }

    /// The exception a signal handler raised (Ctrl-C: `KeyboardInterrupt`), when a poll was due.
    pub(crate) fn check(&self) -> Option<PyErr> {
        let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if now < self.next.load(Ordering::Relaxed) {
            return None;
        }
        self.next.store(now.saturating_add(poll_nanos()), Ordering::Relaxed);
        Python::attach(|py| py.check_signals().err())
    }
}

fn poll_nanos() -> u64 {
    u64::try_from(SIGNAL_POLL.as_nanos()).unwrap_or(u64::MAX)
}
