//! K-Means on CSR rows without densifying them: greedy k-means++, Lloyd iterations through the
//! shared run loop ([`lloyd::run`]), and prediction. Distances are `‖x‖² − 2 x·c + ‖c‖²`,
//! sparse row against dense centre, computed in `f64` and clamped at 0.
//!
//! The data is not centred (it would stop being sparse); data so large that squared distances
//! would overflow `f64` is rescaled by an exact power of two, as in the dense driver. Spherical
//! k-means runs here too: unit rows, and the run loop puts centres back on the unit sphere.

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::lloyd::{self, AssignStep, Partial, RunConfig, Samples, leaf_rows, normalize_rows};
use super::{finish, init_max_abs, keep_better};
use crate::error::KMeansError;
use crate::float::Float;
use crate::init::draw_by_mass;
use crate::model::{FitWarning, KMeans};
use crate::numpy_random::NumpyRandom;
use crate::observer::Observer;
use crate::parallel::{LEAF_ROWS, Rows, par_blocks, par_blocks_sized};
use crate::params::{Algorithm, Init, NInit, ValidKMeansParams};
use crate::sparse::{CsrMatrix, CsrView};
use crate::validate::{check_weights, check_width, safe_scale};

/// The CSR samples of a fit, with their squared norms.
pub(crate) struct CsrData<'a, F> {
    x: CsrView<'a, F>,
    sq_norms: Vec<f64>,
    weights: Option<&'a [f64]>,
    observer: &'a dyn Observer,
    spherical: bool,
}

impl<'a, F: Float> CsrData<'a, F> {
    fn new(
        x: CsrView<'a, F>,
        weights: Option<&'a [f64]>,
        observer: &'a dyn Observer,
        spherical: bool,
    ) -> Self {
        let sq_norms = (0..x.nrows()).map(|i| sq_norm(x.row(i).1, 1.0)).collect();
        CsrData { x, sq_norms, weights, observer, spherical }
    }

    /// Squared distance of row `i` to `center` (of squared norm `center_norm`).
    fn sq_dist(&self, i: usize, center: &[F], center_norm: f64) -> f64 {
        let (cols, vals) = self.x.row(i);
        let dot: f64 = cols.iter().zip(vals).map(|(&c, &v)| v.to_f64() * center[c].to_f64()).sum();
        (self.sq_norms[i] - 2.0 * dot + center_norm).max(0.0)
    }

    /// Row `i` as a dense vector.
    fn dense_row(&self, i: usize) -> Vec<F> {
        let mut out = vec![F::ZERO; self.x.ncols()];
        let (cols, vals) = self.x.row(i);
        cols.iter().zip(vals).for_each(|(&c, &v)| out[c] = v);
        out
    }

    /// Rows `idx` as dense centres.
    fn dense_rows(&self, idx: &[usize]) -> Array2<F> {
        let d = self.x.ncols();
        let flat: Vec<F> = idx.iter().flat_map(|&i| self.dense_row(i)).collect();
        Array2::from_shape_vec((idx.len(), d), flat).expect("k rows of d values")
    }
}

fn sq_norm<F: Float>(vals: &[F], scale: f64) -> f64 {
    vals.iter().map(|&v| (v.to_f64() * scale).powi(2)).sum()
}

/// Squared norms of the centres; with `unit`, exactly 1 for every non-zero centre (they are unit
/// vectors up to rounding, and the exact 1 makes ties, such as a zero row's, exact ties).
fn center_norms<F: Float>(centers: ArrayView2<F>, scale: f64, unit: bool) -> Vec<f64> {
    centers
        .outer_iter()
        .map(|c| {
            let norm = sq_norm(c.as_slice().expect("standard layout"), scale);
            if unit && norm > 0.0 { 1.0 } else { norm }
        })
        .collect()
}

impl<F: Float> Samples<F> for CsrData<'_, F> {
    fn n_samples(&self) -> usize {
        self.x.nrows()
    }

    fn weights(&self) -> Option<&[f64]> {
        self.weights
    }

    fn stopping(&self) -> bool {
        self.observer.should_stop()
    }

    fn unit_centers(&self) -> bool {
        self.spherical
    }

    fn label_distances(&self, centers: ArrayView2<F>, labels: &[usize]) -> Vec<f64> {
        let norms = center_norms(centers, 1.0, self.spherical);
        let c = centers.as_slice().expect("standard layout");
        let d = centers.ncols();
        let mut out = vec![0.0f64; labels.len()];
        par_blocks(
            labels.len(),
            1,
            &mut out,
            &|s, _e, o: &mut [f64]| {
                for (slot, i) in o.iter_mut().zip(s..) {
                    let j = labels[i];
                    *slot = self.sq_dist(i, &c[j * d..(j + 1) * d], norms[j]);
                }
            },
            &|_, _| {},
        );
        out
    }

    fn add_row(&self, i: usize, factor: f64, sums: &mut [f64]) {
        let (cols, vals) = self.x.row(i);
        cols.iter().zip(vals).for_each(|(&c, &v)| sums[c] += factor * v.to_f64());
    }
}

/// Centres laid out for sparse rows: column-major (`d × k`), so one stored entry reads its
/// feature's value in every centre at once, with their squared norms; in `f64`, scaled.
struct Centres {
    k: usize,
    by_feature: Vec<f64>,
    norms: Vec<f64>,
}

impl Centres {
    fn new<F: Float>(centers: ArrayView2<F>, scale: f64, unit: bool) -> Self {
        let (k, d) = centers.dim();
        let mut by_feature = vec![0.0f64; d * k];
        for ((j, c), &v) in centers.indexed_iter() {
            by_feature[c * k + j] = v.to_f64() * scale;
        }
        let norms = center_norms(centers, scale, unit);
        Centres { k, by_feature, norms }
    }

    /// `‖c‖² − 2 x·c` for every centre (values of `x` multiplied by `scale`), into `scores`.
    fn scores<F: Float>(&self, cols: &[usize], vals: &[F], scale: f64, scores: &mut [f64]) {
        scores.copy_from_slice(&self.norms);
        let k = self.k;
        for (&c, &v) in cols.iter().zip(vals) {
            let two_v = 2.0 * v.to_f64() * scale;
            let col = &self.by_feature[c * k..(c + 1) * k];
            scores.iter_mut().zip(col).for_each(|(s, &cv)| *s -= two_v * cv);
        }
    }

    /// The nearest centre (the first of equals) and the squared distance to it.
    fn nearest<F: Float>(
        &self,
        cols: &[usize],
        vals: &[F],
        scale: f64,
        x_norm: f64,
        scores: &mut [f64],
    ) -> (usize, f64) {
        self.scores(cols, vals, scale, scores);
        let mut best = 0;
        for j in 1..self.k {
            if scores[j] < scores[best] {
                best = j;
            }
        }
        (best, (x_norm + scores[best]).max(0.0))
    }
}

/// Plain Lloyd on CSR rows.
struct SparseStep;

impl<'a, F: Float> AssignStep<F, CsrData<'a, F>> for SparseStep {
    fn assign(
        &mut self,
        data: &CsrData<'a, F>,
        centers: ArrayView2<F>,
        labels: &mut [usize],
        _want: bool,
    ) -> Partial {
        let (k, d) = centers.dim();
        let table = Centres::new(centers, 1.0, data.spherical);
        par_blocks_sized(
            leaf_rows(k, d),
            labels.len(),
            Rows::new(labels, 1),
            &|s, _e, out: Rows<usize>| {
                let mut p = Partial::zeros(k, d);
                if data.stopping() {
                    return p;
                }
                let mut scores = vec![0.0f64; k];
                for (label, i) in out.data.iter_mut().zip(s..) {
                    let (cols, vals) = data.x.row(i);
                    let (j, dist) = table.nearest(cols, vals, 1.0, data.sq_norms[i], &mut scores);
                    if *label != j {
                        p.changed += 1;
                        *label = j;
                    }
                    let w = data.weights.map_or(1.0, |w| w[i]);
                    p.weights[j] += w;
                    p.inertia += w * dist;
                    data.add_row(i, w, &mut p.sums[j * d..(j + 1) * d]);
                }
                p
            },
            &|a: &mut Partial, b| a.merge(b),
        )
    }
}

/// Greedy k-means++ on CSR rows, with the dense seeding's rule and draws: the first centre by
/// weight, then each step the best of `trials` candidates drawn by weight × squared distance,
/// "best" being the largest drop in potential (the first drawn among equals).
fn kmeans_plusplus<F: Float>(
    data: &CsrData<F>,
    n_clusters: usize,
    trials: usize,
    rng: &mut NumpyRandom,
) -> Result<Vec<usize>, KMeansError> {
    let n = data.x.nrows();
    let weight = |i: usize| data.weights.map_or(1.0, |w| w[i]);
    let first = rng.choice::<F>(n, data.weights);
    let mut chosen = vec![first];
    let c0 = data.dense_row(first);
    let c0_norm = data.sq_norms[first];
    let mut closest = vec![F::ZERO; n];
    par_blocks(
        n,
        1,
        &mut closest,
        &|s, _e, out: &mut [F]| {
            for (o, i) in out.iter_mut().zip(s..) {
                *o = F::from_f64(data.sq_dist(i, &c0, c0_norm));
            }
        },
        &|_, _| {},
    );
    let mut found = vec![F::ZERO; n * trials];
    for _ in 1..n_clusters {
        if data.stopping() {
            return Err(KMeansError::Cancelled);
        }
        let mass = |i: usize| weight(i) * closest[i].to_f64();
        let potential: f64 = (0..n).map(mass).sum();
        let targets: Vec<f64> = (0..trials).map(|_| rng.random_sample() * potential).collect();
        let candidates = draw_by_mass(n, &mass, &targets);
        let rows: Vec<Vec<F>> = candidates.iter().map(|&c| data.dense_row(c)).collect();
        let norms: Vec<f64> = candidates.iter().map(|&c| data.sq_norms[c]).collect();
        let t = candidates.len();
        let gains = par_blocks_sized(
            LEAF_ROWS,
            n,
            Rows::new(&mut found, t),
            &|s, _e, out: Rows<F>| {
                let mut gain = vec![0.0f64; t];
                for (r, i) in out.data.chunks_exact_mut(t).zip(s..) {
                    let current = closest[i];
                    for (cand, slot) in r.iter_mut().enumerate() {
                        let dist = F::from_f64(data.sq_dist(i, &rows[cand], norms[cand]));
                        *slot = dist;
                        if dist < current {
                            gain[cand] += weight(i) * (current - dist).to_f64();
                        }
                    }
                }
                gain
            },
            &|a: &mut Vec<f64>, b| a.iter_mut().zip(b).for_each(|(x, y)| *x += y),
        );
        let mut best = 0;
        for c in 1..t {
            if gains[c] > gains[best] {
                best = c;
            }
        }
        for (current, r) in closest.iter_mut().zip(found.chunks_exact(t)) {
            if r[best] < *current {
                *current = r[best];
            }
        }
        chosen.push(candidates[best]);
    }
    Ok(chosen)
}

/// Mean of the per-feature (unweighted) variances, implicit zeros included, as scikit-learn's
/// `mean_variance_axis`.
fn mean_variance<F: Float>(x: CsrView<F>) -> f64 {
    let (n, d) = (x.nrows() as f64, x.ncols());
    let mut sums = vec![0.0f64; d];
    let mut counts = vec![0usize; d];
    for (&c, &v) in x.indices().iter().zip(x.data()) {
        sums[c] += v.to_f64();
        counts[c] += 1;
    }
    let means: Vec<f64> = sums.iter().map(|s| s / n).collect();
    let mut squares: Vec<f64> = (0..d).map(|c| (n - counts[c] as f64) * means[c] * means[c]).collect();
    for (&c, &v) in x.indices().iter().zip(x.data()) {
        squares[c] += (v.to_f64() - means[c]).powi(2);
    }
    squares.iter().map(|s| s / n).sum::<f64>() / d as f64
}

/// The rows of `x` divided by their norms (zero rows stay zero).
pub(crate) fn unit_rows<F: Float>(x: CsrView<F>) -> CsrMatrix<F> {
    let mut owned = x.to_owned();
    owned.scale_rows(|i| {
        let norm = sq_norm(x.row(i).1, 1.0).sqrt();
        if norm > 0.0 { 1.0 / norm } else { 1.0 }
    });
    owned
}

/// Fits CSR rows (`spherical`: unit rows and unit centres); also returns the spherical objective
/// Σ w·(1 − cos) when `spherical`.
pub(crate) fn fit<F: Float>(
    params: &ValidKMeansParams,
    x: CsrView<F>,
    sample_weight: Option<ArrayView1<f64>>,
    observer: &dyn Observer,
    spherical: bool,
) -> Result<(KMeans<F>, f64), KMeansError> {
    let k = params.n_clusters;
    let (n, d) = (x.nrows(), x.ncols());
    if n == 0 {
        return Err(KMeansError::EmptyData);
    }
    if d == 0 {
        return Err(KMeansError::NoFeatures);
    }
    if n < k {
        return Err(KMeansError::TooFewSamples { n_samples: n, n_clusters: k });
    }
    if params.algorithm == Algorithm::Exact1d && !spherical {
        // The exact optimum needs the sorted values: one column is small enough to read densely.
        if d != 1 {
            return Err(KMeansError::Exact1dFeatures { n_features: d });
        }
        return params.fit_with(x.to_dense().view(), sample_weight, observer).map(|model| (model, 0.0));
    }
    let weights = sample_weight.map(|w| check_weights(w, n)).transpose()?;
    let weights = weights.as_deref();
    if let Init::Centers(c) = &params.init
        && c.ncols() != d
    {
        return Err(KMeansError::InitFeatures { got: c.ncols(), expected: d });
    }
    let mut warnings = Vec::new();
    if let (Init::Centers(_), NInit::Runs(runs)) = (&params.init, params.n_init_requested)
        && runs > 1
    {
        warnings.push(FitWarning::ExplicitInitRunsOnce { n_init: runs });
    }

    let max_abs = x.max_abs().max(init_max_abs(&params.init));
    // Sums and distances are f64 whatever F is: only f64's own limits call for a rescaling.
    let scale = if spherical { 1.0 } else { safe_scale::<f64>(max_abs) };
    let owned = if spherical {
        Some(unit_rows(x))
    } else if scale != 1.0 {
        let mut m = x.to_owned();
        m.scale_rows(|_| scale);
        Some(m)
    } else {
        None
    };
    let xs = owned.as_ref().map_or(x, |m| m.view());
    let tol = if params.tol == 0.0 { 0.0 } else { params.tol * mean_variance(xs) };
    let data = CsrData::new(xs, weights, observer, spherical);

    let mut best: Option<lloyd::Run<F>> = None;
    // One stream for all runs, drawn in order, as scikit-learn's `random_state`.
    let mut rng = params.stream();
    for run in 0..params.n_init {
        observer.run_started(run, params.n_init);
        if observer.should_stop() {
            return Err(KMeansError::Cancelled);
        }
        let mut init = match &params.init {
            Init::KMeansPlusPlus => {
                data.dense_rows(&kmeans_plusplus(&data, k, params.n_local_trials, &mut rng)?)
            }
            Init::Random => data.dense_rows(&rng.choice_distinct::<F>(n, k, weights)),
            Init::Centers(c) => c.mapv(|v| F::from_f64(v * scale)),
        };
        if spherical {
            normalize_rows(&mut init);
        }
        let cfg = RunConfig { max_iter: params.max_iter, tol, run, scale, observer, origin: &[] };
        let result = lloyd::run(&data, init, &mut SparseStep, &cfg)?;
        keep_better(&mut best, result, k);
    }
    let best = best.expect("n_init >= 1");

    let inertia = finish(&best, scale, max_abs, k, &mut warnings)?;
    let objective = if spherical { cosine_objective(&data, best.centers.view(), &best.labels) } else { 0.0 };
    let centers = best.centers.mapv(|v| F::from_f64(v.to_f64() / scale));
    Ok((KMeans::from_fit(centers, best.labels, inertia, best.n_iter, warnings), objective))
}

/// Σ w·(1 − x·c) over unit (or zero) rows `x` and the unit centre `c` of their label.
fn cosine_objective<F: Float>(data: &CsrData<F>, centers: ArrayView2<F>, labels: &[usize]) -> f64 {
    let c = centers.as_slice().expect("standard layout");
    let d = centers.ncols();
    par_blocks(
        labels.len(),
        0,
        &mut [] as &mut [u8],
        &|s, e, _| {
            (s..e)
                .map(|i| {
                    let j = labels[i];
                    let (cols, vals) = data.x.row(i);
                    let cos: f64 =
                        cols.iter().zip(vals).map(|(&f, &v)| v.to_f64() * c[j * d + f].to_f64()).sum();
                    data.weights.map_or(1.0, |w| w[i]) * (1.0 - cos)
                })
                .sum::<f64>()
        },
        &|a: &mut f64, b| *a += b,
    )
}

/// Checks `x` against `centers`: the scale that keeps its squared distances finite in `f64`.
fn check_input<F: Float>(centers: ArrayView2<F>, x: CsrView<F>) -> Result<f64, KMeansError> {
    check_width(x.ncols(), centers.ncols())?;
    if x.nrows() == 0 {
        return Err(KMeansError::EmptyData);
    }
    let centers_max = centers.iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs()));
    Ok(safe_scale::<f64>(x.max_abs().max(centers_max)))
}

/// Per row of `x`: the nearest centre (the first of equals) and the squared distance to it
/// (`unit`: the non-zero centres are unit vectors).
pub(crate) fn nearest<F: Float>(
    centers: ArrayView2<F>,
    x: CsrView<F>,
    unit: bool,
) -> Result<Vec<(usize, f64)>, KMeansError> {
    let scale = check_input(centers, x)?;
    let table = Centres::new(centers, scale, unit);
    let k = centers.nrows();
    let mut out = vec![(0usize, 0.0f64); x.nrows()];
    par_blocks(
        x.nrows(),
        1,
        &mut out,
        &|s, _e, o: &mut [(usize, f64)]| {
            let mut scores = vec![0.0f64; k];
            for (slot, i) in o.iter_mut().zip(s..) {
                let (cols, vals) = x.row(i);
                let (j, dist) = table.nearest(cols, vals, scale, sq_norm(vals, scale), &mut scores);
                *slot = (j, dist / (scale * scale));
            }
        },
        &|_, _| {},
    );
    Ok(out)
}

/// The Euclidean distance of every row of `x` to every centre.
pub(crate) fn distances<F: Float>(centers: ArrayView2<F>, x: CsrView<F>) -> Result<Array2<F>, KMeansError> {
    let scale = check_input(centers, x)?;
    let table = Centres::new(centers, scale, false);
    let k = centers.nrows();
    let mut out = Array2::from_elem((x.nrows(), k), F::ZERO);
    let slice = out.as_slice_mut().expect("standard layout");
    par_blocks(
        x.nrows(),
        k,
        slice,
        &|s, _e, o: &mut [F]| {
            let mut scores = vec![0.0f64; k];
            for (r, i) in o.chunks_exact_mut(k).zip(s..) {
                let (cols, vals) = x.row(i);
                table.scores(cols, vals, scale, &mut scores);
                let x_norm = sq_norm(vals, scale);
                for (slot, &sc) in r.iter_mut().zip(&scores) {
                    *slot = F::from_f64((x_norm + sc).max(0.0).sqrt() / scale);
                }
            }
        },
        &|_, _| {},
    );
    if out.iter().any(|v| !v.is_finite()) {
        return Err(KMeansError::Overflow { what: "a distance", max_abs: x.max_abs() });
    }
    Ok(out)
}
