//! Progress callbacks. The core never prints: the faces turn these calls into progress bars,
//! verbose lines, or a cancellation check (Ctrl-C in Python).

/// Receives progress from a fit. Every method has a default that does nothing.
///
/// Calls come from the thread that called `fit`, in order. Inertias are in the data's units.
pub trait Observer: Sync {
    /// A run from a new start begins (`run` counts from 0 up to `n_runs - 1`).
    fn run_started(&self, _run: usize, _n_runs: usize) {}

    /// One Lloyd iteration of `run` finished (called for every iteration). `inertia` is that of
    /// the iteration's assignment (each point to its nearest centre before the centres moved), as
    /// scikit-learn's verbose output reports it — when [`Observer::wants_iteration_inertia`]
    /// asked for it, `None` otherwise.
    fn iteration(&self, _run: usize, _iteration: usize, _inertia: Option<f64>) {}

    /// A run converged at `iteration` (from 0), and how. Not called when it stopped at
    /// `max_iter`.
    fn converged(&self, _run: usize, _iteration: usize, _how: Convergence) {}

    /// A run finished after `n_iter` iterations with final inertia `inertia`.
    fn run_finished(&self, _run: usize, _n_iter: usize, _inertia: f64) {}

    /// Whether [`Observer::iteration`] should receive the inertia of each iteration. Bound-based
    /// algorithms skip most distances and compute it only when asked (default: asked); the
    /// calls happen either way.
    fn wants_iteration_inertia(&self) -> bool {
        true
    }

    /// Asked between iterations and between k-means++ centres; returning `true` stops the fit with
    /// [`KMeansError::Cancelled`](crate::KMeansError::Cancelled).
    fn should_stop(&self) -> bool {
        false
    }
}

/// Why a run stopped before `max_iter`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Convergence {
    /// No label changed in the last iteration.
    Strict,
    /// The summed squared centre shift fell to the tolerance (both in the data's squared units).
    CenterShift {
        /// Σ‖c_new − c_old‖² of the last iteration.
        shift: f64,
        /// The effective tolerance, `tol × mean(var(X))`.
        tol: f64,
    },
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn wants_iteration_inertia(&self) -> bool {
        false
    }
}
