//! Progress of a long `fit`: a spinner line on stderr showing the elapsed time, what is being
//! done (reading, run `i/n`, seeding, iteration, inertia when known, writing) and the best
//! inertia so far.
//!
//! It appears once a command has run for [`SHOW_AFTER`], whatever it is doing then: a watcher
//! thread shows it on a timer, so a long k-means++ seeding (which reports nothing) or a long
//! read is covered too, and quick commands never flicker. It is never drawn with `--quiet` or
//! when stderr is not a terminal ([`progress_bar`] decides).

use std::io::IsTerminal;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use kentro::Observer;

use crate::output::number;

/// How long a command runs before its progress is shown.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// How often the shown spinner redraws (elapsed time and spinner move between callbacks).
const TICK: Duration = Duration::from_millis(100);

/// Whether progress may be drawn at all: not with `quiet`, and only on a terminal.
fn drawable(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// The one place that decides whether progress is drawn: a hidden bar when `quiet` or when
/// stderr is not a terminal, otherwise a spinner on stderr.
pub fn progress_bar(quiet: bool) -> ProgressBar {
    if !drawable(quiet) {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{spinner:.green} [{elapsed_precise}] {prefix}{msg}")
        .expect("the template is valid");
    ProgressBar::new_spinner().with_style(style)
}

/// The bar on screen, if any, for the Ctrl-C handler to clear.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Clears the progress line, if one is shown; called on Ctrl-C before exiting.
pub fn clear_shown() {
    // Never wait here: the handler must exit even if the lock is held.
    if let Ok(mut shown) = SHOWN.try_lock()
        && let Some(bar) = shown.take()
    {
        bar.finish_and_clear();
    }
}

/// A command's progress: feed it the stage ([`FitProgress::stage`]) and pass it to the fit as
/// its [`Observer`]; [`FitProgress::finish`] (or dropping it) removes the line.
pub struct FitProgress {
    shared: Arc<Shared>,
    drawable: bool,
    watcher: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the watcher early when the command finishes.
    finished: Condvar,
}

#[derive(Debug, Default)]
struct State {
    bar: Option<ProgressBar>,
    finished: bool,
    /// What is being done outside the fit (`reading data.csv`), until the first run starts.
    stage: Option<String>,
    /// Run `run + 1` of `n_runs`, once one has started.
    run: Option<(usize, usize)>,
    phase: Phase,
    /// The lowest final inertia of the runs finished so far.
    best: Option<f64>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum Phase {
    /// Before any iteration of the run: choosing the initial centres.
    #[default]
    Seeding,
    /// Iteration `iteration` (from 1) done, with its inertia when it was computed.
    Iterating { iteration: usize, inertia: Option<f64> },
    /// The run finished.
    Done { n_iter: usize, inertia: f64 },
}

impl State {
    /// The bar's prefix and message.
    fn text(&self) -> (String, String) {
        let Some((run, n_runs)) = self.run.filter(|_| self.stage.is_none()) else {
            return (String::new(), self.stage.clone().unwrap_or_else(|| "starting".into()));
        };
        let prefix = format!("run {}/{n_runs}: ", run + 1);
        let mut message = match self.phase {
            Phase::Seeding => "choosing the initial centres".to_string(),
            Phase::Iterating { iteration, inertia: Some(inertia) } => {
                format!("iteration {iteration}, inertia {}", number(inertia))
            }
            Phase::Iterating { iteration, inertia: None } => format!("iteration {iteration}"),
            Phase::Done { n_iter, inertia } => {
                format!("done after {n_iter} iterations, inertia {}", number(inertia))
            }
        };
        if let Some(best) = self.best.filter(|_| n_runs > 1) {
            message.push_str(&format!("; best so far {}", number(best)));
        }
        (prefix, message)
    }

    fn redraw(&self) {
        if let Some(bar) = &self.bar {
            let (prefix, message) = self.text();
            bar.set_prefix(prefix);
            bar.set_message(message);
        }
    }
}

impl FitProgress {
    /// Starts the clock, and the timer that shows the progress after [`SHOW_AFTER`]; `quiet`
    /// suppresses all output.
    pub fn new(quiet: bool) -> Self {
        FitProgress::start(drawable(quiet), SHOW_AFTER, move || progress_bar(quiet))
    }

    /// Like [`FitProgress::new`], with the decisions made: whether anything can be drawn, when
    /// to show it, and how to make the bar.
    fn start(
        drawable: bool,
        show_after: Duration,
        make_bar: impl FnOnce() -> ProgressBar + Send + 'static,
    ) -> Self {
        let started = Instant::now();
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), finished: Condvar::new() });
        let watcher = drawable.then(|| {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                let state = lock(&shared.state);
                let timeout = show_after.saturating_sub(started.elapsed());
                let (mut state, _) = shared
                    .finished
                    .wait_timeout_while(state, timeout, |state| !state.finished)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if state.finished {
                    return;
                }
                // The text first, so that the first frame drawn is complete.
                let bar = make_bar().with_elapsed(started.elapsed());
                state.bar = Some(bar.clone());
                state.redraw();
                bar.enable_steady_tick(TICK);
                *SHOWN.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(bar);
            })
        });
        FitProgress { shared, drawable, watcher: Mutex::new(watcher) }
    }

    /// Says what the command is doing outside the fit (`reading data.csv`, `writing files`).
    pub fn stage(&self, what: impl Into<String>) {
        let mut state = self.lock();
        state.stage = Some(what.into());
        state.redraw();
    }

    /// Prints `line` on stderr above the progress line, if one is shown.
    pub fn eprintln(&self, line: &str) {
        let state = self.lock();
        match &state.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the line, if it was shown, so that what follows starts on a clean line; stops
    /// the timer.
    pub fn finish(&self) {
        let bar = {
            let mut state = self.lock();
            state.finished = true;
            self.shared.finished.notify_all();
            state.bar.take()
        };
        if let Some(watcher) = self.watcher.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            let _ = watcher.join();
        }
        if let Some(bar) = bar {
            SHOWN.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
            bar.finish_and_clear();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        let mut state = self.lock();
        change(&mut state);
        state.redraw();
    }
}

/// Locks `state`; a panic elsewhere cannot leave it inconsistent, so a poisoned lock is used.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Observer for FitProgress {
    fn run_started(&self, run: usize, n_runs: usize) {
        self.update(|state| {
            state.stage = None;
            state.run = Some((run, n_runs));
            state.phase = Phase::Seeding;
        });
    }

    fn iteration(&self, _run: usize, iteration: usize, inertia: Option<f64>) {
        self.update(|state| state.phase = Phase::Iterating { iteration: iteration + 1, inertia });
    }

    fn run_finished(&self, _run: usize, n_iter: usize, inertia: f64) {
        self.update(|state| {
            state.phase = Phase::Done { n_iter, inertia };
            state.best = Some(state.best.map_or(inertia, |best| best.min(inertia)));
        });
    }

    /// Inertias cost bound-based algorithms extra work: ask for them only when they can be
    /// shown.
    fn wants_iteration_inertia(&self) -> bool {
        self.drawable
    }
}

impl Drop for FitProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_bars_are_hidden() {
        assert!(progress_bar(true).is_hidden());
        assert!(!FitProgress::new(true).wants_iteration_inertia());
    }

    #[test]
    fn nothing_is_shown_before_the_delay() {
        let progress = FitProgress::start(true, Duration::from_secs(3600), ProgressBar::hidden);
        progress.run_started(0, 2);
        progress.iteration(0, 0, Some(1.0));
        assert!(progress.lock().bar.is_none());
        progress.finish(); // and does not wait an hour for the timer
    }

    #[test]
    fn the_bar_appears_on_time_without_any_callback() {
        // As during a long k-means++ seeding: the run started, then nothing for a while.
        let progress = FitProgress::start(true, Duration::from_millis(50), ProgressBar::hidden);
        progress.run_started(0, 3);
        let waited = Instant::now();
        while progress.lock().bar.is_none() {
            assert!(waited.elapsed() < Duration::from_secs(30), "the bar never appeared");
            std::thread::sleep(Duration::from_millis(10));
        }
        let bar = progress.lock().bar.clone().unwrap();
        assert_eq!(bar.prefix(), "run 1/3: ");
        assert_eq!(bar.message(), "choosing the initial centres");
        assert!(bar.elapsed() >= Duration::from_millis(50));
        progress.iteration(0, 4, Some(1234.5678));
        assert_eq!(bar.message(), "iteration 5, inertia 1234.57");
        progress.iteration(0, 5, None);
        assert_eq!(bar.message(), "iteration 6");
        progress.run_finished(0, 6, 1e-300);
        progress.run_started(1, 3);
        progress.run_finished(1, 2, 2e-300);
        assert_eq!(bar.prefix(), "run 2/3: ");
        assert_eq!(bar.message(), "done after 2 iterations, inertia 2e-300; best so far 1e-300");
        progress.finish();
        assert!(progress.lock().bar.is_none());
    }

    #[test]
    fn stages_outside_the_fit_are_shown() {
        let progress = FitProgress::start(true, Duration::ZERO, ProgressBar::hidden);
        progress.stage("reading data.csv");
        while progress.lock().bar.is_none() {
            std::thread::sleep(Duration::from_millis(10));
        }
        let bar = progress.lock().bar.clone().unwrap();
        assert_eq!((bar.prefix(), bar.message()), (String::new(), "reading data.csv".to_string()));
        progress.run_started(0, 1);
        assert_eq!(
            (bar.prefix(), bar.message()),
            ("run 1/1: ".to_string(), "choosing the initial centres".into())
        );
    }
}
