//! Progress reporting for long fits: a spinner on stderr, driven by the core's [`Observer`]
//! callbacks, that appears only once a fit has run for [`SHOW_AFTER`] (quick fits never
//! flicker) and never when stderr is not a terminal or with `--quiet`.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use kentro::Observer;

/// How long a fit runs before its progress is shown.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// The one place that decides whether progress is drawn: a hidden bar when `quiet` or when
/// stderr is not a terminal, otherwise a spinner on stderr.
pub fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{spinner:.green} [{elapsed_precise}] {prefix}{msg}")
        .expect("the template is valid");
    let bar = ProgressBar::new_spinner().with_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Shows a fit's progress: run `i/n`, iteration and inertia.
///
/// The bar is only created (by [`progress_bar`]) after [`SHOW_AFTER`]; until then the latest
/// state is just remembered.
pub struct FitProgress {
    quiet: bool,
    started: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    bar: Option<ProgressBar>,
    run: usize,
    n_runs: usize,
}

impl FitProgress {
    /// Starts the clock; `quiet` suppresses all output.
    pub fn new(quiet: bool) -> Self {
        FitProgress { quiet, started: Instant::now(), state: Mutex::new(State::default()) }
    }

    /// Removes the bar, if it was shown, so that what follows starts on a clean line.
    pub fn finish(&self) {
        if let Some(bar) = self.lock().bar.take() {
            bar.finish_and_clear();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state inconsistent: recover it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Updates the bar, creating it once the fit has run long enough.
    fn update(&self, state: &mut State, message: String) {
        if state.bar.is_none() && self.started.elapsed() >= SHOW_AFTER {
            state.bar = Some(progress_bar(self.quiet).with_elapsed(self.started.elapsed()));
        }
        if let Some(bar) = &state.bar {
            if state.n_runs > 1 {
                bar.set_prefix(format!("run {}/{}: ", state.run + 1, state.n_runs));
            }
            bar.set_message(message);
        }
    }
}

impl Observer for FitProgress {
    fn run_started(&self, run: usize, n_runs: usize) {
        let mut state = self.lock();
        (state.run, state.n_runs) = (run, n_runs);
        self.update(&mut state, "initialising".to_string());
    }

    fn iteration(&self, _run: usize, iteration: usize, inertia: f64) {
        let mut state = self.lock();
        self.update(&mut state, format!("iteration {}, inertia {inertia:.6e}", iteration + 1));
    }

    fn run_finished(&self, _run: usize, n_iter: usize, inertia: f64) {
        let mut state = self.lock();
        self.update(&mut state, format!("done after {n_iter} iterations, inertia {inertia:.6e}"));
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
    }

    #[test]
    fn nothing_is_shown_before_the_delay() {
        let progress = FitProgress::new(false);
        progress.run_started(0, 2);
        progress.iteration(0, 0, 1.0);
        assert!(progress.lock().bar.is_none());
    }
}
