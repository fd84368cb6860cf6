//! The parameter builder: [`KMeans::params`](crate::KMeans::params) gives a [`KMeansParams`]
//! with scikit-learn's defaults; consuming setters change it; [`KMeansParams::check`] turns it
//! into [`ValidKMeansParams`], the only thing that can fit.

use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::error::{KMeansError, ParamError};
use crate::float::Float;
use crate::model::KMeans;
use crate::numpy_random::{NumpyRandom, RandomState};
use crate::observer::{NoObserver, Observer};

/// How the initial centres of each run are chosen.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Init {
    /// Greedy k-means++ (Arthur & Vassilvitskii 2007, with scikit-learn's local trials): the
    /// default.
    KMeansPlusPlus,
    /// `n_clusters` distinct samples drawn with probability proportional to their weight (as
    /// numpy's `choice(n, k, replace=False, p=w / w.sum())`). When fewer samples have a positive
    /// weight (numpy refuses then), the first unweighted samples make up the rest.
    Random,
    /// Explicit initial centres, one row per cluster, in the data's units.
    Centers(Array2<f64>),
}

/// How many runs from different initial centres to make; the lowest inertia wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NInit {
    /// scikit-learn's `"auto"`: 1 run for k-means++ or explicit centres, 10 for random.
    #[default]
    Auto,
    /// Exactly this many runs (explicit centres still run once).
    Runs(usize),
}

/// Which exact algorithm computes the Lloyd iterations. Every choice gives the same labels,
/// centres and iteration count from the same start; they differ only in speed and memory.
/// [`Algorithm::Exact1d`] is the exception: not Lloyd iterations but the global optimum, for one
/// feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// The fastest exact method for the data's shape (today: Hamerly's bounds from 32 clusters
    /// on for rows of up to 8 features, 4 in float32; plain Lloyd for fewer clusters up to 8
    /// features, where one pass costs about as much as keeping bounds, and for a single
    /// cluster; plain Lloyd by products where those apply (d ≥ 16, k ≥ 8, d·k ≥ 256): on
    /// float64 rows below 50 000 (distinct) rows, on float32 rows up to 5000 rows and 32
    /// clusters, and on either from 50 000 rows behind Hamerly's filter, which skips the rows
    /// whose bounds keep their label;
    /// Yinyang's grouped bounds otherwise, which give way to Lloyd's passes when they keep
    /// leaving many distances to compute).
    #[default]
    Auto,
    /// Plain Lloyd iterations: every distance every iteration (by GEMM where that is faster).
    Lloyd,
    /// Bounds with one lower bound per sample and centre (Elkan 2003): memory n × k; falls back
    /// to [`Algorithm::Yinyang`] when that would exceed 2 GiB.
    Elkan,
    /// Bounds with a single lower bound per sample (Hamerly 2010): little memory, best in low
    /// dimension. On rows of up to 8 features (4 in float32) each row's bounds are tested on
    /// their own, and the rows in doubt are gathered into blocks of 4 to 16 and measured
    /// together.
    Hamerly,
    /// Bounds per group of about 10 centres (Ding et al. 2015): for many clusters.
    ///
    /// Every bound-based method computes all distances at once (by GEMM where that is faster)
    /// and starts its bounds afresh in any pass where the bounds would leave most distances to
    /// compute (typically the first pass after the start, when the centres move most).
    Yinyang,
    /// The exact optimum of the inertia for one feature (d must be 1): dynamic programming over
    /// the sorted values (Wang & Song 2011), O(k·m·log m) time for m distinct values and
    /// k × m split indices of memory. Not a Lloyd run: it ignores `init`, `n_init`, `max_iter`,
    /// `tol` and the seed, and [`Algorithm::Auto`] never picks it. The centres come out in
    /// ascending order, `n_iter` is 1, and labels put each sample in its optimal cluster. With
    /// fewer distinct values (of positive weight) than clusters, each value is its own cluster,
    /// the extra centres repeat the largest value and stay empty, and the fit warns
    /// [`FitWarning::FewerDistinctClusters`](crate::FitWarning::FewerDistinctClusters), as a
    /// Lloyd fit does on duplicate points. Samples of weight zero go to their nearest centre.
    /// Fitting data with more than one feature is refused
    /// ([`KMeansError::Exact1dFeatures`](crate::KMeansError::Exact1dFeatures)).
    Exact1d,
}

/// Unchecked K-Means settings. Defaults are scikit-learn's `KMeans`, with a fixed seed of 0.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansParams {
    n_clusters: usize,
    init: Init,
    n_init: NInit,
    max_iter: usize,
    tol: f64,
    seed: u64,
    random_state: Option<RandomState>,
    algorithm: Algorithm,
    n_local_trials: Option<usize>,
}

/// Checked K-Means settings, ready to [`fit`](ValidKMeansParams::fit).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidKMeansParams {
    pub(crate) n_clusters: usize,
    pub(crate) init: Init,
    pub(crate) n_init: usize,
    pub(crate) n_init_requested: NInit,
    pub(crate) max_iter: usize,
    pub(crate) tol: f64,
    pub(crate) seed: u64,
    pub(crate) random_state: Option<RandomState>,
    pub(crate) algorithm: Algorithm,
    pub(crate) n_local_trials: usize,
}

impl KMeans {
    /// Starts a K-Means configuration for `n_clusters` clusters with scikit-learn's defaults:
    /// greedy k-means++, `n_init` auto, `max_iter` 300, `tol` 1e-4 (relative to the mean
    /// feature variance), seed 0.
    pub fn params(n_clusters: usize) -> KMeansParams {
        KMeansParams {
            n_clusters,
            init: Init::KMeansPlusPlus,
            n_init: NInit::Auto,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
            random_state: None,
            algorithm: Algorithm::Auto,
            n_local_trials: None,
        }
    }
}

impl KMeansParams {
    /// The initialisation method (default: k-means++).
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// The number of runs from different starts (default: auto).
    pub fn n_init(mut self, n_init: NInit) -> Self {
        self.n_init = n_init;
        self
    }

    /// The most Lloyd iterations in one run (default 300).
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// The convergence tolerance, relative to the mean of the feature variances: a run stops
    /// when the summed squared centre shift is at most `tol × mean(var(X))` (default 1e-4).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// The seed of every random choice (default 0). Results depend on it, never on threads.
    ///
    /// The initial centres are drawn from numpy's `RandomState(seed)` stream (MT19937) exactly as
    /// scikit-learn draws them with `random_state=seed` (k-means++ and random, run after run), so
    /// float64 data gets scikit-learn's initial centres. Seeds above `u32::MAX`, which numpy
    /// refuses, seed the stream from their two 32-bit halves.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Draws from `state` onwards instead of from the seed's stream: the initial centres a
    /// scikit-learn fit with that numpy `RandomState` as `random_state` would draw.
    pub fn random_state(mut self, state: RandomState) -> Self {
        self.random_state = Some(state);
        self
    }

    /// The exact algorithm (default: auto).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Candidates tried per k-means++ step (default `2 + floor(ln k)`, scikit-learn's choice).
    pub fn n_local_trials(mut self, n_local_trials: usize) -> Self {
        self.n_local_trials = Some(n_local_trials);
        self
    }

    /// Checks every setting that does not depend on the data.
    pub fn check(self) -> Result<ValidKMeansParams, ParamError> {
        let k = self.n_clusters;
        if k == 0 {
            return Err(ParamError::NClusters(k));
        }
        if self.max_iter == 0 {
            return Err(ParamError::MaxIter(0));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(ParamError::Tol(self.tol));
        }
        if let NInit::Runs(0) = self.n_init {
            return Err(ParamError::NInit(0));
        }
        if let Some(0) = self.n_local_trials {
            return Err(ParamError::NLocalTrials(0));
        }
        if let Init::Centers(c) = &self.init {
            if c.nrows() != k {
                return Err(ParamError::InitRows { rows: c.nrows(), n_clusters: k });
            }
            if let Some(((row, col), &value)) = c.indexed_iter().find(|(_, v)| !v.is_finite()) {
                return Err(ParamError::InitNonFinite { row, col, value });
            }
        }
        let n_init = match (&self.init, self.n_init) {
            (Init::Centers(_), _) => 1,
            (_, NInit::Runs(n)) => n,
            (Init::Random, NInit::Auto) => 10,
            (_, NInit::Auto) => 1,
        };
        Ok(ValidKMeansParams {
            n_clusters: k,
            init: self.init,
            n_init,
            n_init_requested: self.n_init,
            max_iter: self.max_iter,
            tol: self.tol,
            seed: self.seed,
            random_state: self.random_state,
            algorithm: self.algorithm,
            n_local_trials: self.n_local_trials.unwrap_or_else(|| default_local_trials(k)),
        })
    }

    /// Checks the settings and fits `x` (one sample per row).
    pub fn fit<F: Float>(&self, x: ArrayView2<F>) -> Result<KMeans<F>, KMeansError> {
        self.clone().check()?.fit(x)
    }
}

/// scikit-learn's number of k-means++ candidates per step: `2 + floor(ln k)`.
pub(crate) fn default_local_trials(n_clusters: usize) -> usize {
    2 + (n_clusters as f64).ln().floor() as usize
}

impl ValidKMeansParams {
    /// The random stream of the initialisation: the state's, else the seed's.
    pub(crate) fn stream(&self) -> NumpyRandom {
        self.random_state.as_ref().map_or_else(|| NumpyRandom::new(self.seed), NumpyRandom::from_state)
    }

    /// The number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.n_clusters
    }

    /// The number of runs the fit will make (`auto` resolved).
    pub fn n_init(&self) -> usize {
        self.n_init
    }

    /// Whether a dense fit of `n_samples` rows does all its work on the thread that calls
    /// `fit` (small data, where waking other threads costs more than the work): a face may then
    /// call it directly rather than hand it to a thread pool. The result is the same either way.
    pub fn runs_on_calling_thread(&self, n_samples: usize) -> bool {
        self.algorithm != Algorithm::Exact1d && crate::parallel::runs_sequentially(n_samples)
    }

    /// Fits `x` (one sample per row), every sample weighing 1.
    pub fn fit<F: Float>(&self, x: ArrayView2<F>) -> Result<KMeans<F>, KMeansError> {
        self.fit_with(x, None, &NoObserver)
    }

    /// Fits `x` with one non-negative weight per sample (weights act as repeat counts).
    pub fn fit_weighted<F: Float>(
        &self,
        x: ArrayView2<F>,
        sample_weight: ArrayView1<f64>,
    ) -> Result<KMeans<F>, KMeansError> {
        self.fit_with(x, Some(sample_weight), &NoObserver)
    }

    /// Fits `x` with optional sample weights, reporting progress to `observer` (which can also
    /// cancel the fit).
    pub fn fit_with<F: Float>(
        &self,
        x: ArrayView2<F>,
        sample_weight: Option<ArrayView1<f64>>,
        observer: &dyn Observer,
    ) -> Result<KMeans<F>, KMeansError> {
        crate::algo::fit(self, x, sample_weight, observer)
    }
}
