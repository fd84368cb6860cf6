//! Choosing the number of clusters: fit a range of k and judge each by inertia (its knee),
//! silhouette, Calinski-Harabasz, Davies-Bouldin and the gap statistic; recommend one k.
//!
//! ```
//! use kentro::select_k::SelectK;
//! use kentro::datasets::Blobs;
//!
//! let centers = ndarray::array![[10.0, 0.0], [-10.0, 0.0], [0.0, 10.0], [0.0, -10.0]];
//! let (x, _) = Blobs::new(400).given_centers(centers).seed(1).generate()?;
//! let result = SelectK::new(2..=8).seed(0).run(x.view())?;
//! assert_eq!(result.best_k(), 4);
//! for r in result.recommendations() {
//!     println!("{}: {:?} ({})", r.criterion, r.k, r.reason);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod gap;
mod kneedle;
mod scores;

use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::ArrayView2;
use rayon::prelude::*;
use thiserror::Error;

use crate::error::KMeansError;
use crate::float::Float;
use crate::model::KMeans;
use crate::observer::Observer;
use crate::params::{Algorithm, Init, NInit, ValidKMeansParams};
use crate::rng::Rng;
use crate::validate::check_data;

pub use gap::GapReference;
pub use kneedle::{Curve, Direction, kneedle};

use gap::{ReferenceBox, gap_and_se, gap_rule};

/// Why [`SelectK::run`] refused, or why [`kneedle`] could not look for a knee.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SelectKError {
    /// The range of k is empty or starts at 0.
    #[error("the range of k must be non-empty and start at 1 or more, got {start}..={end}")]
    KRange {
        /// First k.
        start: usize,
        /// Last k.
        end: usize,
    },
    /// The largest k exceeds the number of samples.
    #[error("the largest k, {k_max}, exceeds the number of samples, {n_samples}")]
    KTooLarge {
        /// The largest k asked for.
        k_max: usize,
        /// Samples in the data.
        n_samples: usize,
    },
    /// The gap statistic needs at least one reference data set.
    #[error("n_refs must be >= 1, got {0}")]
    NRefs(usize),
    /// A silhouette sample needs at least 2 samples.
    #[error("the silhouette sample size must be >= 2, got {0}")]
    SilhouetteSample(usize),
    /// Explicit initial centres fit one k only.
    #[error("explicit initial centres cannot be used for a range of k; use k-means++ or random")]
    InitCenters,
    /// A fit (or a check of the data or the K-Means settings) failed.
    #[error(transparent)]
    KMeans(#[from] KMeansError),
    /// A cluster-quality score could not be computed.
    #[error("cannot score the clustering at k={k}: {message}")]
    Metric {
        /// The number of clusters.
        k: usize,
        /// What went wrong.
        message: String,
    },
    /// [`kneedle`] was given a curve it cannot read.
    #[error("cannot find a knee: {0}")]
    Knee(String),
}

/// Receives the progress of [`SelectK::run_with`]. Every method has a default that does nothing.
///
/// Fits run in parallel, so calls come from several threads and may arrive out of order; `done`
/// counts the steps finished so far, of `total`.
pub trait SelectKObserver: Sync {
    /// A step finished.
    fn step_finished(&self, _step: Step, _done: usize, _total: usize) {}

    /// Asked between steps and inside fits; returning `true` stops the work with
    /// [`KMeansError::Cancelled`].
    fn should_stop(&self) -> bool {
        false
    }
}

/// One unit of work of [`SelectK::run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// The data was fitted with `k` clusters.
    Fit {
        /// The number of clusters.
        k: usize,
    },
    /// The silhouette, Calinski-Harabasz and Davies-Bouldin scores at `k` were computed.
    Scores {
        /// The number of clusters.
        k: usize,
    },
    /// Reference data set `reference` (from 0) was fitted with `k` clusters.
    Reference {
        /// The number of clusters.
        k: usize,
        /// Which reference data set.
        reference: usize,
    },
}

struct Quiet;
impl SelectKObserver for Quiet {}

/// Forwards a [`SelectKObserver`]'s cancellation into a fit.
struct StopWhen<'a>(&'a dyn SelectKObserver);
impl Observer for StopWhen<'_> {
    fn wants_iteration_inertia(&self) -> bool {
        false
    }
    fn should_stop(&self) -> bool {
        self.0.should_stop()
    }
}

/// Settings for choosing k: the range, the gap statistic's references, the seed, and the
/// K-Means settings of every fit (scikit-learn's defaults, except 10 runs per fit).
///
/// For each k of the range, [`SelectK::run`] fits the data with
/// `KMeans::params(k).seed(seed).n_init(NInit::Runs(10))` (and the K-Means settings given
/// here), so the model for the chosen k can be refitted exactly. Every k is fitted from its own start: no warm start from
/// the centres of k − 1, which would make a fit depend on the range and could hold it in the
/// previous optimum. The fits (and the reference fits) are independent and run in parallel; the
/// result depends on the seed, never on the number of threads.
///
/// Per k it computes the inertia, the silhouette, Calinski-Harabasz and Davies-Bouldin scores
/// (from [`crate::metrics`]) and the gap statistic; the gap is also computed at k = 1, so it can
/// say that the data has no cluster structure. The gap's `B` reference data sets are each drawn
/// once, from its own random stream, and fitted for every k (one held in memory at a time).
///
/// How the criteria are combined into one k: see [`SelectKResult::best_k`].
#[derive(Debug, Clone, PartialEq)]
pub struct SelectK {
    k_min: usize,
    k_max: usize,
    n_refs: usize,
    reference: GapReference,
    seed: u64,
    silhouette_sample: Option<usize>,
    init: Init,
    n_init: NInit,
    max_iter: usize,
    tol: f64,
    algorithm: Algorithm,
}

impl SelectK {
    /// Tries every k of `k` (inclusive), with 10 gap references over the bounding box, seed 0,
    /// the exact silhouette, 10 runs per fit ([`SelectK::n_init`]) and K-Means' other defaults.
    pub fn new(k: RangeInclusive<usize>) -> Self {
        SelectK {
            k_min: *k.start(),
            k_max: *k.end(),
            n_refs: 10,
            reference: GapReference::BoundingBox,
            seed: 0,
            silhouette_sample: None,
            init: Init::KMeansPlusPlus,
            n_init: NInit::Runs(DEFAULT_N_INIT),
            max_iter: 300,
            tol: 1e-4,
            algorithm: Algorithm::Auto,
        }
    }

    /// The number of reference data sets of the gap statistic (the paper's `B`; default 10).
    pub fn n_refs(mut self, n_refs: usize) -> Self {
        self.n_refs = n_refs;
        self
    }

    /// The reference distribution of the gap statistic (default: the bounding box).
    pub fn reference(mut self, reference: GapReference) -> Self {
        self.reference = reference;
        self
    }

    /// The seed of every random choice (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Computes the silhouette on this many samples drawn at random (as scikit-learn's
    /// `silhouette_score(sample_size=…)`) instead of all of them, whose cost grows as n²;
    /// `None` (the default) is exact. A size of at least n is exact too.
    pub fn silhouette_sample(mut self, size: Option<usize>) -> Self {
        self.silhouette_sample = size;
        self
    }

    /// How each fit chooses its initial centres (default k-means++; explicit centres are refused).
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Runs per fit, the best kept (default 10, not K-Means' `auto`, which makes one k-means++
    /// run: a single run can stop in a poor local optimum, such as four clusters split 1 + 3 at
    /// k = 2, and such noise makes the gap statistic and the knee unreliable; with one run the
    /// gap finds spurious structure in uniform 2-D data about once in three tries).
    pub fn n_init(mut self, n_init: NInit) -> Self {
        self.n_init = n_init;
        self
    }

    /// Most Lloyd iterations per run (default 300).
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// The convergence tolerance, relative to the mean feature variance (default 1e-4).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// The exact K-Means algorithm (default auto; it changes the speed only).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Fits every k of the range and judges them; see [`SelectK`].
    pub fn run<F: Float>(&self, x: ArrayView2<F>) -> Result<SelectKResult, SelectKError> {
        self.run_with(x, &Quiet)
    }

    /// [`SelectK::run`], reporting progress to `observer` (which can also cancel).
    pub fn run_with<F: Float>(
        &self,
        x: ArrayView2<F>,
        observer: &dyn SelectKObserver,
    ) -> Result<SelectKResult, SelectKError> {
        let ks: Vec<usize> = (self.k_min..=self.k_max).collect();
        if self.k_min == 0 || ks.is_empty() {
            return Err(SelectKError::KRange { start: self.k_min, end: self.k_max });
        }
        if self.n_refs == 0 {
            return Err(SelectKError::NRefs(0));
        }
        if let Some(size) = self.silhouette_sample.filter(|&s| s < 2) {
            return Err(SelectKError::SilhouetteSample(size));
        }
        if let Init::Centers(_) = self.init {
            return Err(SelectKError::InitCenters);
        }
        let params: Vec<ValidKMeansParams> =
            ks.iter().map(|&k| self.kmeans(k, self.seed)).collect::<Result<_, _>>()?;
        check_data(x)?;
        let n = x.nrows();
        if self.k_max > n {
            return Err(SelectKError::KTooLarge { k_max: self.k_max, n_samples: n });
        }

        // The gap is evaluated at 1 and at every k of the range.
        let gap_ks: Vec<usize> =
            if self.k_min > 1 { std::iter::once(1).chain(ks.iter().copied()).collect() } else { ks.clone() };
        let total = ks.len() * 2 + (gap_ks.len() - ks.len()) + self.n_refs * gap_ks.len();
        let done = AtomicUsize::new(0);
        let report =
            |step: Step| observer.step_finished(step, done.fetch_add(1, Ordering::Relaxed) + 1, total);
        let stop = StopWhen(observer);
        let cancelled = || -> Result<(), SelectKError> {
            if observer.should_stop() { Err(KMeansError::Cancelled.into()) } else { Ok(()) }
        };

        // The data at every k (and at 1 for the gap), in parallel; the first error in k order.
        let fit_k = |k: usize| -> Result<KMeans<F>, SelectKError> {
            cancelled()?;
            let p = match params.iter().find(|p| p.n_clusters() == k) {
                Some(p) => p.clone(),
                None => self.kmeans(k, self.seed)?,
            };
            let model = p.fit_with(x, None, &stop)?;
            report(Step::Fit { k });
            Ok(model)
        };
        let fits: Vec<KMeans<F>> = first_error(gap_ks.par_iter().map(|&k| fit_k(k)).collect())?;
        let range_fits = &fits[gap_ks.len() - ks.len()..];

        let scores: Vec<scores::Scores> = first_error(
            ks.par_iter()
                .zip(range_fits)
                .map(|(&k, model)| {
                    cancelled()?;
                    let sample_seed = derive_seed(self.seed, SILHOUETTE_STREAM, k as u64);
                    let s = scores::cluster_scores(x, model.labels(), self.silhouette_sample, sample_seed)
                        .map_err(|message| SelectKError::Metric { k, message })?;
                    report(Step::Scores { k });
                    Ok(s)
                })
                .collect(),
        )?;

        // The references: each drawn once, fitted at every k, then dropped.
        let boxes = ReferenceBox::new(x, self.reference);
        let mut ref_inertia = vec![Vec::with_capacity(self.n_refs); gap_ks.len()];
        for b in 0..self.n_refs {
            cancelled()?;
            let mut rng = Rng::with_stream(derive_seed(self.seed, REFERENCE_STREAM, 0), b as u64);
            let z = boxes.sample::<F>(n, &mut rng);
            let inertias: Vec<f64> = first_error(
                gap_ks
                    .par_iter()
                    .map(|&k| {
                        cancelled()?;
                        // From (seed, b, k) only, so that gap(k) does not depend on the range.
                        let seed = derive_seed(
                            derive_seed(self.seed, REFERENCE_FIT_STREAM, b as u64),
                            REFERENCE_FIT_STREAM,
                            k as u64,
                        );
                        let model = self.kmeans(k, seed)?.fit_with(z.view(), None, &stop)?;
                        report(Step::Reference { k, reference: b });
                        Ok(model.inertia())
                    })
                    .collect(),
            )?;
            ref_inertia.iter_mut().zip(inertias).for_each(|(v, w)| v.push(w));
        }

        let gap_curve: Vec<GapPoint> = gap_ks
            .iter()
            .zip(&fits)
            .zip(&ref_inertia)
            .map(|((&k, model), w_ref)| {
                let w = model.inertia();
                let g = gap_and_se(w, w_ref);
                GapPoint {
                    k,
                    inertia: w,
                    log_w: (w > 0.0).then(|| w.ln()),
                    ref_log_w: g.map(|(_, _, mean)| mean),
                    gap: g.map(|(gap, _, _)| gap),
                    gap_se: g.map(|(_, se, _)| se),
                }
            })
            .collect();
        let table: Vec<KScores> = ks
            .iter()
            .zip(range_fits)
            .zip(&scores)
            .map(|((&k, model), s)| {
                let g = gap_curve.iter().find(|p| p.k == k).expect("the gap is computed at every k");
                KScores {
                    k,
                    inertia: model.inertia(),
                    n_iter: model.n_iter(),
                    silhouette: s.silhouette,
                    calinski_harabasz: s.calinski_harabasz,
                    davies_bouldin: s.davies_bouldin,
                    gap: g.gap,
                    gap_se: g.gap_se,
                }
            })
            .collect();
        let labels = range_fits.iter().map(|m| m.labels().to_vec()).collect();
        Ok(SelectKResult::judge(table, gap_curve, labels))
    }

    /// The K-Means settings for `k` clusters.
    fn kmeans(&self, k: usize, seed: u64) -> Result<ValidKMeansParams, KMeansError> {
        Ok(KMeans::params(k)
            .init(self.init.clone())
            .n_init(self.n_init)
            .max_iter(self.max_iter)
            .tol(self.tol)
            .algorithm(self.algorithm)
            .seed(seed)
            .check()?)
    }
}

/// A mean silhouette above this marks "a strong structure" (Kaufman & Rousseeuw 1990) and
/// overrules the gap statistic's "no structure" in [`SelectKResult::best_k`].
pub const STRONG_SILHOUETTE: f64 = 0.7;

/// With a mean silhouette above [`STRONG_SILHOUETTE`], the gap statistic's "no structure" is
/// overruled in [`SelectKResult::best_k`] only when at least this many criteria (and a majority
/// of those that gave a k) agree on one k ≥ 2.
pub const OVERRULE_VOTES: usize = 3;

/// Runs per fit unless [`SelectK::n_init`] says otherwise.
pub const DEFAULT_N_INIT: usize = 10;

const SILHOUETTE_STREAM: u64 = 0x5115;
const REFERENCE_STREAM: u64 = 0x6a9;
const REFERENCE_FIT_STREAM: u64 = 0x6a9f;

/// A seed for one purpose (`stream`) and one item (`index`) from the user's seed.
fn derive_seed(seed: u64, stream: u64, index: u64) -> u64 {
    Rng::with_stream(seed ^ stream.rotate_left(32), index).next_u64()
}

/// The values, or the first error in their order (whichever thread met it first).
fn first_error<T>(results: Vec<Result<T, SelectKError>>) -> Result<Vec<T>, SelectKError> {
    results.into_iter().collect()
}

/// The scores of one k.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct KScores {
    /// The number of clusters.
    pub k: usize,
    /// The within-cluster sum of squared distances of the fit.
    pub inertia: f64,
    /// Lloyd iterations of the fit's best run.
    pub n_iter: usize,
    /// The mean silhouette (higher is better; -1 to 1); `None` when undefined (fewer than 2 or
    /// more than n − 1 distinct labels).
    pub silhouette: Option<f64>,
    /// The Calinski-Harabasz score (higher is better); `None` when undefined.
    pub calinski_harabasz: Option<f64>,
    /// The Davies-Bouldin index (lower is better; 0 at best); `None` when undefined.
    pub davies_bouldin: Option<f64>,
    /// The gap statistic; `None` when a within-cluster dispersion is zero.
    pub gap: Option<f64>,
    /// The gap's standard error `s_k = sd_k · sqrt(1 + 1/B)`; `None` with the gap.
    pub gap_se: Option<f64>,
}

/// The gap statistic at one k (k = 1 included).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct GapPoint {
    /// The number of clusters.
    pub k: usize,
    /// `W_k`, the within-cluster dispersion of the data: the fit's inertia.
    pub inertia: f64,
    /// `log W_k` of the data (`W_k`: the inertia); `None` when `W_k` is 0.
    pub log_w: Option<f64>,
    /// The mean over the references of `log W*_kb`; `None` with the gap.
    pub ref_log_w: Option<f64>,
    /// `gap(k) = mean_b log W*_kb − log W_k`; `None` when a dispersion is zero.
    pub gap: Option<f64>,
    /// `s_k = sd_k · sqrt(1 + 1/B)`; `None` with the gap.
    pub gap_se: Option<f64>,
}

/// A criterion that recommends a k.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Criterion {
    /// The knee of the inertia curve (Kneedle, S = 1): the elbow.
    Knee,
    /// The largest mean silhouette.
    Silhouette,
    /// The gap statistic's rule.
    Gap,
    /// The largest Calinski-Harabasz score.
    CalinskiHarabasz,
    /// The smallest Davies-Bouldin index.
    DaviesBouldin,
}

impl Criterion {
    /// A short name: `knee`, `silhouette`, `gap`, `calinski_harabasz`, `davies_bouldin`.
    pub fn name(self) -> &'static str {
        match self {
            Criterion::Knee => "knee",
            Criterion::Silhouette => "silhouette",
            Criterion::Gap => "gap",
            Criterion::CalinskiHarabasz => "calinski_harabasz",
            Criterion::DaviesBouldin => "davies_bouldin",
        }
    }
}

impl std::fmt::Display for Criterion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Criterion::Knee => "knee of the inertia",
            Criterion::Silhouette => "silhouette",
            Criterion::Gap => "gap statistic",
            Criterion::CalinskiHarabasz => "Calinski-Harabasz",
            Criterion::DaviesBouldin => "Davies-Bouldin",
        })
    }
}

/// What one criterion says: its k (`None` when it cannot choose) and why.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Recommendation {
    /// The criterion.
    pub criterion: Criterion,
    /// The k it recommends.
    pub k: Option<usize>,
    /// Why, in words, with the numbers.
    pub reason: String,
}

/// The outcome of [`SelectK::run`]: the scores per k, the gap curve, what each criterion
/// recommends, and the k recommended overall ([`SelectKResult::best_k`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SelectKResult {
    scores: Vec<KScores>,
    gap_curve: Vec<GapPoint>,
    knee: Option<usize>,
    gap_k: Option<usize>,
    recommendations: Vec<Recommendation>,
    best_k: usize,
    best_reason: String,
    labels: Vec<Vec<usize>>,
}

impl SelectKResult {
    fn judge(scores: Vec<KScores>, gap_curve: Vec<GapPoint>, labels: Vec<Vec<usize>>) -> Self {
        let ks: Vec<f64> = scores.iter().map(|s| s.k as f64).collect();
        let inertia: Vec<f64> = scores.iter().map(|s| s.inertia).collect();
        let knee = kneedle(&ks, &inertia, Curve::Convex, Direction::Decreasing, 1.0)
            .ok()
            .flatten()
            .map(|i| scores[i].k);
        let (first, last) = (scores[0].k, scores[scores.len() - 1].k);
        let mut recommendations = Vec::with_capacity(5);

        recommendations.push(Recommendation {
            criterion: Criterion::Knee,
            k: knee,
            reason: match knee {
                Some(k) => format!("the inertia curve bends most sharply at k={k} (Kneedle, S=1)"),
                None if scores.len() < 3 => "needs at least 3 values of k".to_string(),
                None => format!("the inertia curve has no clear bend between k={first} and k={last}"),
            },
        });

        let best_by = |value: fn(&KScores) -> Option<f64>, larger: bool| {
            scores
                .iter()
                .filter_map(|s| Some((s.k, value(s)?)))
                .reduce(|a, b| if (larger && b.1 > a.1) || (!larger && b.1 < a.1) { b } else { a })
        };
        let undefined = "undefined at every k of the range".to_string();
        let silhouette = best_by(|s| s.silhouette, true);
        recommendations.push(Recommendation {
            criterion: Criterion::Silhouette,
            k: silhouette.map(|(k, _)| k),
            reason: silhouette
                .map_or(undefined.clone(), |(k, v)| format!("highest mean silhouette, {} at k={k}", num(v))),
        });

        let points: Vec<Option<(f64, f64)>> = gap_curve.iter().map(|p| p.gap.zip(p.gap_se)).collect();
        let (gap_k, gap_reason) = match gap_rule(&points) {
            Ok(i) => {
                let (k, next) = (gap_curve[i].k, gap_curve[i + 1]);
                let (g, (gn, sn)) = (points[i].expect("defined").0, points[i + 1].expect("defined"));
                let why = format!(
                    "smallest k with gap(k) >= gap(next) - s(next): gap({k}) = {} >= gap({}) - s({}) = {}",
                    num(g),
                    next.k,
                    next.k,
                    num(gn - sn)
                );
                if k == 1 {
                    (Some(1), format!("{why}: the data looks like uniform noise, with no cluster structure"))
                } else {
                    (Some(k), why)
                }
            }
            Err(true) => (
                Some(last),
                format!("the gap still rises at k={last}, the end of the range; larger k may fit better"),
            ),
            Err(false) => (None, "the gap is undefined (a zero within-cluster dispersion)".to_string()),
        };
        recommendations.push(Recommendation { criterion: Criterion::Gap, k: gap_k, reason: gap_reason });

        let ch = best_by(|s| s.calinski_harabasz, true);
        recommendations.push(Recommendation {
            criterion: Criterion::CalinskiHarabasz,
            k: ch.map(|(k, _)| k),
            reason: ch.map_or(undefined.clone(), |(k, v)| {
                format!("highest Calinski-Harabasz score, {} at k={k}", num(v))
            }),
        });
        let db = best_by(|s| s.davies_bouldin, false);
        recommendations.push(Recommendation {
            criterion: Criterion::DaviesBouldin,
            k: db.map(|(k, _)| k),
            reason: db
                .map_or(undefined, |(k, v)| format!("lowest Davies-Bouldin index, {} at k={k}", num(v))),
        });

        let (best_k, best_reason) = best_of(&scores, gap_k, &recommendations);
        SelectKResult { scores, gap_curve, knee, gap_k, recommendations, best_k, best_reason, labels }
    }

    /// The scores of every k of the range, in order.
    pub fn scores(&self) -> &[KScores] {
        &self.scores
    }

    /// The gap statistic at k = 1 and at every k of the range, in order.
    pub fn gap_curve(&self) -> &[GapPoint] {
        &self.gap_curve
    }

    /// The knee of the inertia curve (Kneedle with S = 1 on the range), if it has one.
    pub fn knee(&self) -> Option<usize> {
        self.knee
    }

    /// The gap statistic's k: the smallest evaluated k with `gap(k) >= gap(k') − s(k')`, k' the
    /// next evaluated k (1 means no cluster structure). When no k passes, the last k of the range
    /// (the gap still rises there); `None` when a gap is undefined.
    pub fn gap_k(&self) -> Option<usize> {
        self.gap_k
    }

    /// What each criterion recommends, and why: knee, silhouette, gap, Calinski-Harabasz,
    /// Davies-Bouldin, in this order.
    pub fn recommendations(&self) -> &[Recommendation] {
        &self.recommendations
    }

    /// The recommended number of clusters. The rule:
    ///
    /// 1. If the gap statistic says k = 1, the answer is 1: the data looks like the uniform
    ///    reference, so no number of clusters is supported (the other criteria cannot say 1).
    ///    Unless both the largest mean silhouette exceeds [`STRONG_SILHOUETTE`] (0.7, "a strong
    ///    structure" on Kaufman & Rousseeuw's scale) and a majority of the criteria that gave a
    ///    k (at least [`OVERRULE_VOTES`], 3) agree on one k ≥ 2: the gap's rule then stopped at
    ///    a dip of gap(2) below gap(1), which happens when two of the clusters lie close
    ///    together, and that k is the answer. The silhouette alone is not enough: small uniform
    ///    samples in one dimension reach about 0.7 (30 points: 0.70 at k = 6), in two about
    ///    0.45.
    /// 2. Otherwise the k recommended by the most criteria among the knee, the silhouette
    ///    (largest), the gap statistic, Calinski-Harabasz (largest) and Davies-Bouldin
    ///    (smallest).
    /// 3. A tie goes to the k with the larger mean silhouette, then to the smaller k.
    /// 4. If no criterion recommends anything, the smallest k of the range.
    pub fn best_k(&self) -> usize {
        self.best_k
    }

    /// Why [`SelectKResult::best_k`] was chosen, in words.
    pub fn best_reason(&self) -> &str {
        &self.best_reason
    }

    /// The labels of the fit at `k`, if `k` is in the range.
    pub fn labels(&self, k: usize) -> Option<&[usize]> {
        let i = self.scores.iter().position(|s| s.k == k)?;
        Some(&self.labels[i])
    }
}

/// The rule documented on [`SelectKResult::best_k`].
fn best_of(scores: &[KScores], gap_k: Option<usize>, recommendations: &[Recommendation]) -> (usize, String) {
    let best_silhouette = scores.iter().filter_map(|s| s.silhouette).fold(f64::NEG_INFINITY, f64::max);
    let mut votes: Vec<(usize, Vec<Criterion>)> = Vec::new();
    for r in recommendations {
        if let Some(k) = r.k {
            match votes.iter_mut().find(|(v, _)| *v == k) {
                Some((_, c)) => c.push(r.criterion),
                None => votes.push((k, vec![r.criterion])),
            }
        }
    }
    let voters = recommendations.iter().filter(|r| r.k.is_some()).count();
    let majority = |n: usize| n >= OVERRULE_VOTES && 2 * n > voters;
    let overruled = gap_k == Some(1)
        && best_silhouette > STRONG_SILHOUETTE
        && votes.iter().any(|(k, c)| *k >= 2 && majority(c.len()));
    if gap_k == Some(1) && !overruled {
        return (1, "the gap statistic finds no cluster structure (k=1)".to_string());
    }
    let silhouette =
        |k: usize| scores.iter().find(|s| s.k == k).and_then(|s| s.silhouette).unwrap_or(f64::NEG_INFINITY);
    let Some(most) = votes.iter().map(|(_, c)| c.len()).max() else {
        let k = scores[0].k;
        return (k, format!("no criterion could choose; the smallest k of the range, {k}"));
    };
    let mut tied: Vec<usize> = votes.iter().filter(|(_, c)| c.len() == most).map(|(k, _)| *k).collect();
    tied.sort_unstable();
    let best = tied
        .iter()
        .copied()
        .reduce(|a, b| if silhouette(b) > silhouette(a) { b } else { a })
        .expect("one k at least");
    let names: Vec<String> =
        votes.iter().find(|(k, _)| *k == best).expect("voted").1.iter().map(|c| c.to_string()).collect();
    let mut reason =
        format!("chosen by {} of {} criteria: {}", most, recommendations.len(), names.join(", "));
    if overruled {
        reason.push_str(&format!(
            "; the gap statistic's k=1 is overruled: a majority of the criteria agree and the mean silhouette, {}, is above {STRONG_SILHOUETTE} (a strong structure)",
            num(best_silhouette)
        ));
    }
    if tied.len() > 1 {
        let others: Vec<String> = tied.iter().filter(|&&k| k != best).map(|k| format!("k={k}")).collect();
        reason.push_str(&format!("; tied with {}, broken by the higher silhouette", others.join(", ")));
    }
    (best, reason)
}

/// A number for a reason: 4 significant digits.
fn num(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if v.abs() >= 1e6 || v.abs() < 1e-3 {
        format!("{v:.3e}")
    } else {
        let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(k: usize, inertia: f64, silhouette: Option<f64>) -> KScores {
        KScores {
            k,
            inertia,
            n_iter: 1,
            silhouette,
            calinski_harabasz: None,
            davies_bouldin: None,
            gap: None,
            gap_se: None,
        }
    }

    fn rec(criterion: Criterion, k: Option<usize>) -> Recommendation {
        Recommendation { criterion, k, reason: String::new() }
    }

    #[test]
    fn the_majority_wins_and_ties_go_to_the_silhouette() {
        let scores = [row(2, 10.0, Some(0.5)), row(3, 5.0, Some(0.7)), row(4, 4.0, Some(0.6))];
        let recs = [
            rec(Criterion::Knee, Some(2)),
            rec(Criterion::Silhouette, Some(3)),
            rec(Criterion::Gap, Some(4)),
            rec(Criterion::CalinskiHarabasz, Some(4)),
            rec(Criterion::DaviesBouldin, Some(2)),
        ];
        let (k, reason) = best_of(&scores, Some(4), &recs);
        // 2 and 4 have two votes each; 4's silhouette (0.6) beats 2's (0.5).
        assert_eq!(k, 4, "{reason}");
        assert_eq!(
            reason,
            "chosen by 2 of 5 criteria: gap statistic, Calinski-Harabasz; tied with k=2, broken by the higher silhouette"
        );
        let recs = [
            rec(Criterion::Knee, Some(3)),
            rec(Criterion::Silhouette, Some(3)),
            rec(Criterion::Gap, Some(2)),
        ];
        assert_eq!(best_of(&scores, Some(2), &recs).0, 3);
    }

    #[test]
    fn a_gap_of_one_means_no_structure() {
        let scores = [row(2, 10.0, Some(0.5)), row(3, 5.0, Some(0.7))];
        let recs = [rec(Criterion::Silhouette, Some(3)), rec(Criterion::Gap, Some(1))];
        assert_eq!(
            best_of(&scores, Some(1), &recs),
            (1, "the gap statistic finds no cluster structure (k=1)".into())
        );
        // A strong silhouette with a majority of the criteria on one k overrules the gap's 1.
        let strong = [row(2, 10.0, Some(0.5)), row(3, 5.0, Some(0.76))];
        let recs = [
            rec(Criterion::Knee, Some(3)),
            rec(Criterion::Silhouette, Some(3)),
            rec(Criterion::Gap, Some(1)),
            rec(Criterion::CalinskiHarabasz, Some(3)),
            rec(Criterion::DaviesBouldin, None),
        ];
        let (k, reason) = best_of(&strong, Some(1), &recs);
        assert_eq!(k, 3);
        assert_eq!(
            reason,
            "chosen by 3 of 5 criteria: knee of the inertia, silhouette, Calinski-Harabasz; the gap statistic's k=1 is overruled: a majority of the criteria agree and the mean silhouette, 0.7600, is above 0.7 (a strong structure)"
        );
        // Without the majority, the gap's 1 stands: two votes are not enough, even of four.
        let recs = [
            rec(Criterion::Knee, Some(3)),
            rec(Criterion::Silhouette, Some(3)),
            rec(Criterion::Gap, Some(1)),
            rec(Criterion::CalinskiHarabasz, Some(2)),
            rec(Criterion::DaviesBouldin, None),
        ];
        assert_eq!(best_of(&strong, Some(1), &recs).0, 1);
        // Three of five on k=3, but the silhouette is not strong: the gap's 1 stands.
        let recs = [
            rec(Criterion::Knee, Some(3)),
            rec(Criterion::Silhouette, Some(3)),
            rec(Criterion::Gap, Some(1)),
            rec(Criterion::CalinskiHarabasz, Some(3)),
            rec(Criterion::DaviesBouldin, Some(2)),
        ];
        assert_eq!(best_of(&scores, Some(1), &recs).0, 1);
        assert_eq!(best_of(&strong, Some(1), &recs).0, 3);
        let (k, reason) = best_of(&scores, None, &[rec(Criterion::Knee, None)]);
        assert_eq!(k, 2, "{reason}");
    }

    /// The best 1-D partition of `v` into `k` = 1 or 2 contiguous groups: its within-group sum
    /// of squares, by trying every split.
    fn best_1d_dispersion(v: &[f64], k: usize) -> f64 {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        let ss = |g: &[f64]| {
            let m = g.iter().sum::<f64>() / g.len() as f64;
            g.iter().map(|x| (x - m).powi(2)).sum::<f64>()
        };
        match k {
            1 => ss(&v),
            _ => (1..v.len()).map(|i| ss(&v[..i]) + ss(&v[i..])).fold(f64::INFINITY, f64::min),
        }
    }

    #[test]
    fn the_gap_statistic_by_hand_on_a_tiny_case() {
        // Six points on a line, two groups; B = 3 uniform references over [0, 10].
        let data = [0.0, 0.5, 1.0, 9.0, 9.5, 10.0];
        let x = ndarray::Array2::from_shape_vec((6, 1), data.to_vec()).unwrap();
        let result = SelectK::new(2..=2).n_refs(3).n_init(NInit::Runs(10)).seed(5).run(x.view()).unwrap();

        // The same references, drawn as `run` draws them; their optimal dispersions by hand.
        let boxes = ReferenceBox::new(x.view(), GapReference::BoundingBox);
        let refs: Vec<Vec<f64>> = (0..3)
            .map(|b| {
                let mut rng = Rng::with_stream(derive_seed(5, REFERENCE_STREAM, 0), b);
                let z: ndarray::Array2<f64> = boxes.sample(6, &mut rng);
                assert!(z.iter().all(|v| (0.0..=10.0).contains(v)));
                z.iter().copied().collect()
            })
            .collect();
        for (i, k) in [1usize, 2].into_iter().enumerate() {
            let log_w = best_1d_dispersion(&data, k).ln();
            let logs: Vec<f64> = refs.iter().map(|r| best_1d_dispersion(r, k).ln()).collect();
            let mean = (logs[0] + logs[1] + logs[2]) / 3.0;
            let sd = (((logs[0] - mean).powi(2) + (logs[1] - mean).powi(2) + (logs[2] - mean).powi(2)) / 3.0)
                .sqrt();
            let point = result.gap_curve()[i];
            assert_eq!(point.k, k);
            assert!((point.log_w.unwrap() - log_w).abs() < 1e-12);
            assert!(
                (point.gap.unwrap() - (mean - log_w)).abs() < 1e-9,
                "k={k}: {point:?} vs {}",
                mean - log_w
            );
            assert!((point.gap_se.unwrap() - sd * (4.0f64 / 3.0).sqrt()).abs() < 1e-9);
        }
        // The two groups are far apart: gap(2) is far above gap(1).
        let g = result.gap_curve();
        assert!(g[1].gap.unwrap() > g[0].gap.unwrap() + g[1].gap_se.unwrap());
    }

    #[test]
    fn numbers_have_four_significant_digits() {
        assert_eq!(num(0.712345), "0.7123");
        assert_eq!(num(12.3456), "12.35");
        assert_eq!(num(1234.5), "1234");
        assert_eq!(num(-0.5), "-0.5000");
        assert_eq!(num(1.5e7), "1.500e7");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(0.01234), "0.01234");
    }
}
