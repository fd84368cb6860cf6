//! Exact Lloyd iterations with scikit-learn's rules: stop on unchanged labels or a small total
//! centre shift, relocate empty clusters to far points, and finish with an assignment so that
//! labels agree with the final centres. How each iteration assigns the points is an
//! [`AssignStep`]: every step gives the same labels, so every algorithm gives the same run.

use multiversion::multiversion;
use ndarray::{Array2, ArrayView2, s};

use super::repeats::Repeats;
use crate::error::KMeansError;
use crate::float::Float;
use crate::kernels::{Assigner, row_norms, sq_dist};
use crate::observer::{Convergence, Observer};
use crate::parallel::{LEAF_ROWS, Rows, par_blocks, par_blocks_sized};

/// The outcome of one run from one start.
#[derive(Debug, Clone)]
pub(crate) struct Run<F> {
    pub labels: Vec<usize>,
    pub centers: Array2<F>,
    pub inertia: f64,
    pub n_iter: usize,
}

/// What one pass over the data gathers, per cluster, in `f64`.
pub(crate) struct Partial {
    pub sums: Vec<f64>,
    pub weights: Vec<f64>,
    pub inertia: f64,
    pub changed: usize,
}

impl Partial {
    pub(crate) fn zeros(k: usize, d: usize) -> Self {
        Partial { sums: vec![0.0; k * d], weights: vec![0.0; k], inertia: 0.0, changed: 0 }
    }

    pub(crate) fn merge(&mut self, other: Partial) {
        self.sums.iter_mut().zip(&other.sums).for_each(|(a, b)| *a += b);
        self.weights.iter_mut().zip(&other.weights).for_each(|(a, b)| *a += b);
        self.inertia += other.inertia;
        self.changed += other.changed;
    }
}

/// Rows per leaf of an assignment pass: big enough that zeroing and merging the leaf's k × d
/// partial sums stays cheap. Every step uses it, so their sums are bit-identical.
pub(crate) fn leaf_rows(k: usize, d: usize) -> usize {
    (k * d / 16).clamp(LEAF_ROWS, 32 * LEAF_ROWS).next_multiple_of(LEAF_ROWS)
}

/// Adds a leaf's rows into `p`: each row `i` (from `first`) to cluster `labels[i]`, with its
/// squared distance `dists[i]` when given.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
pub(crate) fn accumulate<F: Float>(
    rows: &[F],
    d: usize,
    first: usize,
    labels: &[usize],
    dists: Option<&[F]>,
    weights: Option<&[f64]>,
    p: &mut Partial,
) {
    let n = labels.len();
    // Narrow rows: the feature count as a constant, so each row's additions are unrolled. The
    // additions and their order are the same as below.
    let narrow = match d {
        1 => accumulate_narrow::<F, 1>(rows, first, labels, weights, p),
        2 => accumulate_narrow::<F, 2>(rows, first, labels, weights, p),
        3 => accumulate_narrow::<F, 3>(rows, first, labels, weights, p),
        4 => accumulate_narrow::<F, 4>(rows, first, labels, weights, p),
        5 => accumulate_narrow::<F, 5>(rows, first, labels, weights, p),
        6 => accumulate_narrow::<F, 6>(rows, first, labels, weights, p),
        7 => accumulate_narrow::<F, 7>(rows, first, labels, weights, p),
        8 => accumulate_narrow::<F, 8>(rows, first, labels, weights, p),
        _ => false,
    };
    let Partial { sums, weights: cluster_weights, inertia, .. } = p;
    if narrow {
        if let Some(dists) = dists {
            *inertia += match weights {
                None => dists[..n].iter().map(|v| v.to_f64()).sum::<f64>(),
                Some(w) => {
                    dists[..n].iter().zip(&w[first..first + n]).map(|(v, wi)| wi * v.to_f64()).sum::<f64>()
                }
            };
        }
        return;
    }
    match weights {
        None => {
            for (xi, &j) in rows.chunks_exact(d).zip(labels) {
                cluster_weights[j] += 1.0;
                let s = &mut sums[j * d..(j + 1) * d];
                for (acc, &v) in s.iter_mut().zip(xi) {
                    *acc += v.to_f64();
                }
            }
            if let Some(dists) = dists {
                *inertia += dists[..n].iter().map(|v| v.to_f64()).sum::<f64>();
            }
        }
        Some(w) => {
            let w = &w[first..first + n];
            for ((xi, &j), &wi) in rows.chunks_exact(d).zip(labels).zip(w) {
                cluster_weights[j] += wi;
                let s = &mut sums[j * d..(j + 1) * d];
                for (acc, &v) in s.iter_mut().zip(xi) {
                    *acc += wi * v.to_f64();
                }
            }
            if let Some(dists) = dists {
                *inertia += dists[..n].iter().zip(w).map(|(v, wi)| wi * v.to_f64()).sum::<f64>();
            }
        }
    }
}

/// The sums and weights of [`accumulate`] for rows of `D` features; returns `true`.
#[inline(always)]
fn accumulate_narrow<F: Float, const D: usize>(
    rows: &[F],
    first: usize,
    labels: &[usize],
    weights: Option<&[f64]>,
    p: &mut Partial,
) -> bool {
    let sums = &mut p.sums;
    let cluster_weights = &mut p.weights;
    match weights {
        None => {
            for (xi, &j) in rows.chunks_exact(D).zip(labels) {
                cluster_weights[j] += 1.0;
                let s: &mut [f64; D] = (&mut sums[j * D..(j + 1) * D]).try_into().expect("D sums");
                for f in 0..D {
                    s[f] += xi[f].to_f64();
                }
            }
        }
        Some(w) => {
            let w = &w[first..first + labels.len()];
            for ((xi, &j), &wi) in rows.chunks_exact(D).zip(labels).zip(w) {
                cluster_weights[j] += wi;
                let s: &mut [f64; D] = (&mut sums[j * D..(j + 1) * D]).try_into().expect("D sums");
                for f in 0..D {
                    s[f] += wi * xi[f].to_f64();
                }
            }
        }
    }
    true
}

/// The samples as the run loop sees them (dense rows, or CSR rows): what relocating empty
/// clusters and measuring the inertia need, beside the [`AssignStep`] that reads them.
pub(crate) trait Samples<F: Float>: Sync {
    /// The number of samples.
    fn n_samples(&self) -> usize;
    /// The sample weights, if any.
    fn weights(&self) -> Option<&[f64]>;
    /// Whether the caller asked the fit to stop.
    fn stopping(&self) -> bool;
    /// Whether centres are put back on the unit sphere after every update (spherical k-means).
    fn unit_centers(&self) -> bool {
        false
    }
    /// The squared distance of every sample to the centre of its label.
    fn label_distances(&self, centers: ArrayView2<F>, labels: &[usize]) -> Vec<f64>;
    /// Weighted sum of squared distances of every sample to the centre of its label: each leaf
    /// of [`LEAF_ROWS`] samples summed in row order, the leaves along the fixed tree.
    fn inertia(&self, centers: ArrayView2<F>, labels: &[usize]) -> f64 {
        let dist = self.label_distances(centers, labels);
        let weights = self.weights();
        par_blocks(
            labels.len(),
            0,
            &mut [] as &mut [u8],
            &|s, e, _| (s..e).map(|i| weights.map_or(1.0, |w| w[i]) * dist[i]).sum::<f64>(),
            &|a: &mut f64, b| *a += b,
        )
    }
    /// Whether the weights are whole numbers (the copies of distinct rows), which a cluster's
    /// weight loses and regains exactly.
    fn whole_weights(&self) -> bool {
        false
    }
    /// Adds `factor × sample i` to `sums` (one centre's row of per-feature sums).
    fn add_row(&self, i: usize, factor: f64, sums: &mut [f64]);
    /// The `m` samples farthest from their centres (`dist`, per sample), farthest first and
    /// among equal distances the lowest index, each with its weight: those the relocation of
    /// empty clusters takes.
    fn farthest(&self, dist: &[f64], m: usize) -> Vec<(usize, f64)> {
        farthest_weighted(dist, self.weights(), m)
    }
}

/// [`Samples::farthest`] of samples with `weights`.
fn farthest_weighted(dist: &[f64], weights: Option<&[f64]>, m: usize) -> Vec<(usize, f64)> {
    farthest_rows(dist.len(), |i| dist[i], m)
        .into_iter()
        .map(|i| (i, weights.map_or(1.0, |w| w[i])))
        .collect()
}

/// One way of assigning every sample to its nearest centre in an iteration.
pub(crate) trait AssignStep<F: Float, D> {
    /// Assigns every sample to its nearest centre, updating `labels`, and returns the per-cluster
    /// sums (accumulated in [`leaf_rows`] leaves, in row order). The inertia of the assignment is
    /// included when `want_inertia`.
    fn assign(
        &mut self,
        data: &D,
        centers: ArrayView2<F>,
        labels: &mut [usize],
        want_inertia: bool,
    ) -> Partial;

    /// The centres moved from `old` to `new` (bound-based steps update their bounds).
    fn centers_moved(&mut self, _old: ArrayView2<F>, _new: ArrayView2<F>) {}

    /// Whether the next passes must return the per-cluster sums and weights; when not, the run
    /// keeps them itself from the samples that changed label (or, for a step that
    /// [`AssignStep::defers_sums`], asks it for them after the pass), and a step may leave them
    /// empty.
    fn sums_wanted(&mut self, _wanted: bool) {}

    /// Whether the step would rather leave a pass's fresh sums to after it ([`AssignStep::fresh_sums`]):
    /// where its pass does not read the rows in their own type, summing them there costs a
    /// pass of its own anyway.
    fn defers_sums(&self, _data: &D) -> bool {
        false
    }

    /// The per-cluster sums and weights of every sample by `labels`, bit for bit as a pass
    /// returns them (leaves of [`leaf_rows`] rows in row order, along the fixed tree); asked
    /// only of a step that [`AssignStep::defers_sums`], which must give them (the default, for
    /// the steps that never defer, is never asked).
    fn fresh_sums(&self, _data: &D, _labels: &[usize], k: usize, d: usize) -> Partial {
        Partial::zeros(k, d)
    }
}

/// The prepared samples of a run, with what every step needs.
pub(crate) struct Data<'a, F> {
    pub x: ArrayView2<'a, F>,
    /// ‖x‖ per row, for the matrix-product path; empty when the run never takes it.
    pub x_norms: Vec<f64>,
    /// The rows as `f32` in the products' layout ([`crate::kernels::gemm::columns_f32`]), for
    /// `f64` rows whose products run in `f32`; empty otherwise ([`Data::with_columns`]).
    pub columns: Vec<f32>,
    pub weights: Option<&'a [f64]>,
    /// Asked at the start of every leaf: a pass asked to stop skips its remaining work, and the
    /// run then returns [`KMeansError::Cancelled`].
    pub observer: &'a dyn Observer,
    /// Where the samples are the distinct rows of the caller's data: those rows, and the
    /// caller's weights (for the relocation of empty clusters, which takes original rows).
    pub origin: Option<(&'a Repeats<F>, Option<&'a [f64]>)>,
}

impl<'a, F: Float> Data<'a, F> {
    /// The run's data; the row norms are computed only `with_norms` (the matrix-product path and
    /// the bound-based steps need them).
    pub(crate) fn new(
        x: ArrayView2<'a, F>,
        weights: Option<&'a [f64]>,
        observer: &'a dyn Observer,
        with_norms: bool,
    ) -> Self {
        let x_norms = if with_norms { row_norms(x) } else { Vec::new() };
        Data { x, x_norms, weights, observer, origin: None, columns: Vec::new() }
    }

    /// The data with its rows also kept in the `f32` products' layout: one pass over the rows
    /// now instead of a transposition in every pass of products. The row norms, where not
    /// computed yet, are computed in the same pass (the products need them).
    pub(crate) fn with_columns(self) -> Self {
        let (columns, norms) = crate::kernels::gemm::columns_f32(self.x, self.x_norms.is_empty());
        let x_norms = if self.x_norms.is_empty() { norms } else { self.x_norms };
        Data { columns, x_norms, ..self }
    }

    /// The data with its rows' `f32` products' layout and norms made already (as
    /// [`Data::with_columns`] makes them).
    pub(crate) fn with_kept_columns(self, columns: Vec<f32>, x_norms: Vec<f64>) -> Self {
        let (n, d) = self.x.dim();
        debug_assert_eq!(x_norms.len(), n, "a norm per row");
        debug_assert_eq!(
            columns.len(),
            n.next_multiple_of(crate::kernels::gemm::COLUMN_ROWS) * d,
            "the layout"
        );
        Data { columns, x_norms, ..self }
    }

    /// Rows `first..end` in the `f32` products' layout, when kept and `first` starts one of its
    /// sub-blocks.
    pub(crate) fn columns_of(&self, first: usize, end: usize) -> Option<&[f32]> {
        let (rows, d) = (crate::kernels::gemm::COLUMN_ROWS, self.x.ncols());
        (!self.columns.is_empty() && first.is_multiple_of(rows))
            .then(|| &self.columns[first * d..end.next_multiple_of(rows) * d])
    }

    /// The run's data when `x` holds the distinct rows of `repeats` (`weights` their summed
    /// weights), `original_weights` the caller's.
    pub(crate) fn of_repeats(
        repeats: &'a Repeats<F>,
        original_weights: Option<&'a [f64]>,
        observer: &'a dyn Observer,
        with_norms: bool,
    ) -> Self {
        let data = Data::new(repeats.rows.view(), Some(&repeats.weights), observer, with_norms);
        Data { origin: Some((repeats, original_weights)), ..data }
    }

    /// Whether the caller asked the fit to stop.
    pub(crate) fn stopping(&self) -> bool {
        self.observer.should_stop()
    }
}

impl<F: Float> Samples<F> for Data<'_, F> {
    fn n_samples(&self) -> usize {
        self.x.nrows()
    }

    fn weights(&self) -> Option<&[f64]> {
        self.weights
    }

    fn stopping(&self) -> bool {
        self.observer.should_stop()
    }

    fn label_distances(&self, centers: ArrayView2<F>, labels: &[usize]) -> Vec<f64> {
        let d = self.x.ncols();
        let data = self.x.as_slice().expect("standard layout");
        let centers = centers.as_slice().expect("standard layout");
        let mut out = vec![0.0f64; labels.len()];
        par_blocks(
            labels.len(),
            1,
            &mut out,
            &|s, _e, o: &mut [f64]| {
                for (slot, i) in o.iter_mut().zip(s..) {
                    let j = labels[i];
                    *slot = sq_dist(&data[i * d..(i + 1) * d], &centers[j * d..(j + 1) * d]).to_f64();
                }
            },
            &|_, _| {},
        );
        out
    }

    /// As the default, with each distance measured where it is added (no vector of them).
    fn inertia(&self, centers: ArrayView2<F>, labels: &[usize]) -> f64 {
        let d = self.x.ncols();
        let data = self.x.as_slice().expect("standard layout");
        let centers = centers.as_slice().expect("standard layout");
        let weights = self.weights;
        let dist = |i: usize| {
            let j = labels[i];
            sq_dist(&data[i * d..(i + 1) * d], &centers[j * d..(j + 1) * d]).to_f64()
        };
        par_blocks(
            labels.len(),
            0,
            &mut [] as &mut [u8],
            &|s, e, _| (s..e).map(|i| weights.map_or(1.0, |w| w[i]) * dist(i)).sum::<f64>(),
            &|a: &mut f64, b| *a += b,
        )
    }

    fn add_row(&self, i: usize, factor: f64, sums: &mut [f64]) {
        let d = self.x.ncols();
        let xi = &self.x.as_slice().expect("standard layout")[i * d..(i + 1) * d];
        sums.iter_mut().zip(xi).for_each(|(acc, &v)| *acc += factor * v.to_f64());
    }

    fn whole_weights(&self) -> bool {
        matches!(self.origin, Some((_, None)))
    }

    /// Among the caller's rows, where the samples are distinct rows.
    fn farthest(&self, dist: &[f64], m: usize) -> Vec<(usize, f64)> {
        match self.origin {
            Some((repeats, weights)) => repeats.farthest(dist, weights, m),
            None => farthest_weighted(dist, self.weights, m),
        }
    }
}

/// Plain Lloyd: every distance every iteration (by GEMM where that is faster).
pub(crate) struct LloydStep {
    /// Whether passes return the per-cluster sums (see [`AssignStep::sums_wanted`]).
    sums: bool,
}

impl LloydStep {
    pub(crate) fn new() -> Self {
        LloydStep { sums: true }
    }
}

/// Rows a Lloyd leaf assigns at a time, into a buffer on the stack (no allocation per leaf). The
/// filtered step ([`super::filtered`]) takes the same chunks, so that its sums and inertia add
/// in the same order.
pub(super) const LLOYD_CHUNK: usize = 256;

/// Adds the distances of a chunk's rows (`dist(i)` for row `first + i`, `rows` of them, weighted
/// where `weights` are given) to `p`'s inertia, row by row, as `accumulate` adds distances.
pub(super) fn add_inertia<F: Float>(
    p: &mut Partial,
    first: usize,
    rows: usize,
    weights: Option<&[f64]>,
    dist: impl Fn(usize) -> F,
) {
    let mut inertia = p.inertia;
    match weights {
        None => (0..rows).for_each(|i| inertia += dist(i).to_f64()),
        Some(w) => {
            (0..rows).zip(&w[first..first + rows]).for_each(|(i, wi)| inertia += wi * dist(i).to_f64())
        }
    }
    p.inertia = inertia;
}

impl<'a, F: Float> AssignStep<F, Data<'a, F>> for LloydStep {
    fn assign(
        &mut self,
        data: &Data<'a, F>,
        centers: ArrayView2<F>,
        labels: &mut [usize],
        want_inertia: bool,
    ) -> Partial {
        let (k, d) = centers.dim();
        let assigner = Assigner::new(centers);
        let sums = self.sums;
        par_blocks_sized(
            leaf_rows(k, d),
            labels.len(),
            Rows::new(labels, 1),
            &|s, e, out: Rows<usize>| {
                // Without the sums, nothing of size k × d to zero and merge per leaf.
                let mut p = if sums { Partial::zeros(k, d) } else { Partial::zeros(0, 0) };
                if data.stopping() {
                    return p;
                }
                let mut buffer = [(0usize, F::ZERO); LLOYD_CHUNK];
                for (first, labels) in (s..e).step_by(LLOYD_CHUNK).zip(out.data.chunks_mut(LLOYD_CHUNK)) {
                    let end = first + labels.len();
                    let block = data.x.slice(s![first..end, ..]);
                    let nearest = &mut buffer[..labels.len()];
                    let norms = data.x_norms.get(first..end).unwrap_or_default();
                    let pre = data.columns_of(first, end);
                    assigner.nearest_rows(block, norms, nearest, want_inertia, pre);
                    // Counted in a local: a count in `p` would be a chain through memory.
                    let mut changed = 0;
                    for (label, &(j, _)) in labels.iter_mut().zip(nearest.iter()) {
                        changed += usize::from(*label != j);
                        *label = j;
                    }
                    p.changed += changed;
                    if want_inertia {
                        add_inertia(&mut p, first, nearest.len(), data.weights, |i| nearest[i].1);
                    }
                    if sums {
                        let rows = block.to_slice().expect("standard layout");
                        accumulate(rows, d, first, labels, None, data.weights, &mut p);
                    }
                }
                p
            },
            &|a: &mut Partial, b| a.merge(b),
        )
    }

    fn sums_wanted(&mut self, wanted: bool) {
        self.sums = wanted;
    }
}

/// Settings of a run that do not change between iterations.
pub(crate) struct RunConfig<'a> {
    pub max_iter: usize,
    /// Absolute tolerance on the summed squared centre shift.
    pub tol: f64,
    /// Run number, for the observer.
    pub run: usize,
    /// The data's power-of-two scale: internal inertias are in units of `scale²`.
    pub scale: f64,
    pub observer: &'a dyn Observer,
    /// Where the data were not centred ([`super::Prepared`]): the column means scikit-learn
    /// would have centred them on, which its copy of a weighted sum into an empty cluster
    /// depends on ([`average`]); else empty.
    pub origin: &'a [f64],
}

impl RunConfig<'_> {
    /// An internal inertia (or squared shift) in the caller's units: divided by the scale twice,
    /// so that no factor `1 / scale²` overflows (which would turn a zero inertia into NaN).
    pub(crate) fn unscale(&self, v: f64) -> f64 {
        v / self.scale / self.scale
    }
}

/// Runs the iterations from `centers` on `data`, assigning with `step`.
pub(crate) fn run<F: Float, D: Samples<F>>(
    data: &D,
    mut centers: Array2<F>,
    step: &mut dyn AssignStep<F, D>,
    cfg: &RunConfig,
) -> Result<Run<F>, KMeansError> {
    let n = data.n_samples();
    let (k, d) = centers.dim();
    let mut labels = crate::memory::filled(usize::MAX, n);
    let want_inertia = cfg.observer.wants_iteration_inertia();
    let mut strict = false;
    let mut n_iter = cfg.max_iter;
    let mut sums = RunningSums::new(n, super::sums_fresh_only::<F>(d, k));
    for iter in 0..cfg.max_iter {
        if cfg.observer.should_stop() {
            return Err(KMeansError::Cancelled);
        }
        let incremental = sums.incremental(data);
        // Where only the last pass's many changes call for fresh sums, this pass's own changes
        // decide, after it: few, and its sums are carried too (a choice that depends on the
        // labels only, as every step gives them alike). A step that defers its sums leaves
        // them to then.
        let decide_after = !incremental && sums.may_carry(data);
        let deferred = decide_after && step.defers_sums(data);
        step.sums_wanted(!incremental && !deferred);
        let mut p = step.assign(data, centers.view(), &mut labels, want_inertia);
        if data.stopping() {
            return Err(KMeansError::Cancelled);
        }
        let incremental = incremental || (decide_after && p.changed * INCREMENTAL_FRACTION <= n);
        if deferred && !incremental {
            let fresh = step.fresh_sums(data, &labels, k, d);
            (p.sums, p.weights) = (fresh.sums, fresh.weights);
        }
        sums.update(data, &labels, &mut p, incremental, d);
        cfg.observer.iteration(cfg.run, iter, want_inertia.then_some(cfg.unscale(p.inertia)));
        relocate_empty(data, centers.view(), &labels, &mut p);
        let mut new_centers = average::<F>(&p, k, d, cfg.origin);
        if data.unit_centers() {
            normalize_rows(&mut new_centers);
        }
        let shift: f64 = centers
            .iter()
            .zip(new_centers.iter())
            .map(|(&a, &b)| {
                let diff = a.to_f64() - b.to_f64();
                diff * diff
            })
            .sum();
        step.centers_moved(centers.view(), new_centers.view());
        centers = new_centers;
        if p.changed == 0 {
            strict = true;
            n_iter = iter + 1;
            cfg.observer.converged(cfg.run, iter, Convergence::Strict);
            break;
        }
        if shift <= cfg.tol {
            n_iter = iter + 1;
            let (shift, tol) = (cfg.unscale(shift), cfg.unscale(cfg.tol));
            cfg.observer.converged(cfg.run, iter, Convergence::CenterShift { shift, tol });
            break;
        }
    }
    if !strict {
        // Labels must agree with the centres returned.
        step.sums_wanted(false);
        step.assign(data, centers.view(), &mut labels, false);
        if data.stopping() {
            return Err(KMeansError::Cancelled);
        }
    }
    let inertia = data.inertia(centers.view(), &labels);
    cfg.observer.run_finished(cfg.run, n_iter, cfg.unscale(inertia));
    Ok(Run { labels, centers, inertia, n_iter })
}

/// Late iterations move few samples: the per-cluster sums are then carried from one iteration
/// to the next and updated by the samples that changed label only (taken out of the old
/// cluster, added to the new, in index order), instead of summed again over every sample. The
/// choice depends only on the labels, which every step gives alike, so every step gets the same
/// centres. To bound the rounding that builds up, the sums are computed afresh when many samples
/// moved in the previous iteration and in this one (a pass whose predecessor moved many decides
/// after it, by its own), and every [`REFRESH_ITERATIONS`] iterations. Weighted fits
/// always sum afresh (a weight taken out and put back need not cancel exactly, and a cluster
/// must be seen empty exactly when it is), but for whole weights: the numbers of copies of
/// distinct rows ([`Samples::whole_weights`]). Shapes where a pass sums every row for little
/// more than it costs never carry ([`super::sums_fresh_only`]).
struct RunningSums {
    /// The sums and weights of the clusters as `labels` stood after the last pass.
    sums: Vec<f64>,
    weights: Vec<f64>,
    /// The labels these sums are for (none before the first fresh sum).
    labels: Labels,
    /// The number of samples.
    n: usize,
    last_changed: usize,
    since_fresh: usize,
    /// Whether the sums are summed afresh every pass ([`super::sums_fresh_only`]).
    fresh_only: bool,
}

/// Labels kept in the narrowest integer that holds every cluster's number: the pass that finds
/// the samples that changed label then reads a byte per sample beside the run's own labels
/// where there are at most 256 clusters, and a fresh sum keeps them with a write of as much.
enum Labels {
    None,
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    Wide(Vec<usize>),
}

/// A label type of [`Labels`].
trait Label: Copy + Send + Sync + Default {
    /// `j`, which the caller knows to fit.
    fn from_label(j: usize) -> Self;
    fn label(self) -> usize;
}

macro_rules! label_type {
    ($($t:ty)*) => {$(
        impl Label for $t {
            #[inline(always)]
            fn from_label(j: usize) -> Self {
                j as $t
            }
            #[inline(always)]
            fn label(self) -> usize {
                self as usize
            }
        }
    )*};
}
label_type!(u8 u16 u32 usize);

impl Labels {
    /// `labels` (every one below `k`), kept in the narrowest type that holds `k − 1`, reusing
    /// the memory of the labels kept before where the type is the same.
    fn keep(&mut self, labels: &[usize], k: usize) {
        debug_assert!(labels.iter().all(|&j| j < k), "labels of clusters 0..{k}");
        fn refill<T: Label>(kept: Option<Vec<T>>, labels: &[usize]) -> Vec<T> {
            let mut into = kept.unwrap_or_default();
            into.resize(labels.len(), T::default());
            par_blocks(
                labels.len(),
                1,
                &mut into,
                &|s, _e, out: &mut [T]| {
                    out.iter_mut().zip(&labels[s..]).for_each(|(o, &j)| *o = T::from_label(j));
                },
                &|_, _| {},
            );
            into
        }
        *self = match std::mem::replace(self, Labels::None) {
            kept if k <= 1 << 8 => {
                Labels::U8(refill(if let Labels::U8(v) = kept { Some(v) } else { None }, labels))
            }
            kept if k <= 1 << 16 => {
                Labels::U16(refill(if let Labels::U16(v) = kept { Some(v) } else { None }, labels))
            }
            kept if k as u64 <= 1 << 32 => {
                Labels::U32(refill(if let Labels::U32(v) = kept { Some(v) } else { None }, labels))
            }
            kept => Labels::Wide(refill(if let Labels::Wide(v) = kept { Some(v) } else { None }, labels)),
        };
    }

    fn is_empty(&self) -> bool {
        matches!(self, Labels::None)
    }

    /// Every sample whose label in `labels` differs from the one kept, with the kept label, in
    /// index order (per leaf of rows that has some: the merges move no records); the kept
    /// labels become `labels`.
    fn moves(&mut self, labels: &[usize]) -> Vec<Vec<(usize, usize)>> {
        fn moves_of<T: Label>(old: &mut [T], labels: &[usize]) -> Vec<Vec<(usize, usize)>> {
            par_blocks(
                labels.len(),
                1,
                old,
                &|s, _e, old: &mut [T]| {
                    let mut moved = Vec::new();
                    moves_in(old, &labels[s..s + old.len()], s, &mut moved);
                    if moved.is_empty() { Vec::new() } else { vec![moved] }
                },
                &|a: &mut Vec<Vec<(usize, usize)>>, b| a.extend(b),
            )
        }
        match self {
            Labels::None => unreachable!("moves are found after a fresh sum"),
            Labels::U8(v) => moves_of(v, labels),
            Labels::U16(v) => moves_of(v, labels),
            Labels::U32(v) => moves_of(v, labels),
            Labels::Wide(v) => moves_of(v, labels),
        }
    }
}

/// Appends to `moved` the rows (from `first`) whose label in `labels` differs from the one kept
/// in `old`, with the kept one, and keeps the new one: eight rows compared at a time into a
/// mask (no branch per row), whose bits are then taken (few, once the run settles).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn moves_in<T: Label>(old: &mut [T], labels: &[usize], first: usize, moved: &mut Vec<(usize, usize)>) {
    let (olds, old_rest) = old.as_chunks_mut::<8>();
    let (news, new_rest) = labels.as_chunks::<8>();
    for (b, (o, n)) in olds.iter_mut().zip(news).enumerate() {
        let mut mask = 0u32;
        for l in 0..8 {
            mask |= u32::from(o[l].label() != n[l]) << l;
        }
        while mask != 0 {
            let l = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            moved.push((first + b * 8 + l, o[l].label()));
            o[l] = T::from_label(n[l]);
        }
    }
    let at = first + olds.len() * 8;
    for ((o, &j), i) in old_rest.iter_mut().zip(new_rest).zip(at..) {
        if o.label() != j {
            moved.push((i, o.label()));
            *o = T::from_label(j);
        }
    }
}

/// Iterations between two fresh sums at most.
const REFRESH_ITERATIONS: usize = 32;

/// The sums are carried when at most `1 / INCREMENTAL_FRACTION` of the samples changed label
/// in the previous iteration, or in this one.
const INCREMENTAL_FRACTION: usize = 16;

impl RunningSums {
    /// Sums for `n` samples, never carried where `fresh_only`.
    fn new(n: usize, fresh_only: bool) -> Self {
        RunningSums {
            sums: Vec::new(),
            weights: Vec::new(),
            labels: Labels::None,
            n,
            last_changed: n,
            since_fresh: 0,
            fresh_only,
        }
    }

    /// Whether the coming pass's sums are to be carried from the last ones.
    fn incremental<F: Float, D: Samples<F>>(&self, data: &D) -> bool {
        self.may_carry(data) && self.last_changed * INCREMENTAL_FRACTION <= self.n
    }

    /// Whether sums may be carried at all: for unweighted (or whole-weighted) samples, after a
    /// fresh sum, and not for more than [`REFRESH_ITERATIONS`] iterations.
    fn may_carry<F: Float, D: Samples<F>>(&self, data: &D) -> bool {
        !self.fresh_only
            && (data.weights().is_none() || data.whole_weights())
            && !self.labels.is_empty()
            && self.since_fresh < REFRESH_ITERATIONS
    }

    /// After a pass: carries the sums to the new `labels` and puts them in `p` when
    /// `incremental`, else keeps `p`'s fresh sums.
    fn update<F: Float, D: Samples<F>>(
        &mut self,
        data: &D,
        labels: &[usize],
        p: &mut Partial,
        incremental: bool,
        d: usize,
    ) {
        self.last_changed = p.changed;
        if self.fresh_only {
            // `p` keeps its fresh sums; nothing is ever carried.
            return;
        }
        if !incremental {
            self.sums.clone_from(&p.sums);
            self.weights.clone_from(&p.weights);
            self.labels.keep(labels, self.weights.len());
            self.since_fresh = 0;
            return;
        }
        self.since_fresh += 1;
        let weights = data.weights();
        for (i, from) in self.labels.moves(labels).into_iter().flatten() {
            let to = labels[i];
            let w = weights.map_or(1.0, |w| w[i]);
            data.add_row(i, -w, &mut self.sums[from * d..(from + 1) * d]);
            data.add_row(i, w, &mut self.sums[to * d..(to + 1) * d]);
            self.weights[from] -= w;
            self.weights[to] += w;
        }
        for (j, &w) in self.weights.iter().enumerate() {
            if w == 0.0 {
                // Nothing left of what was taken out.
                self.sums[j * d..(j + 1) * d].fill(0.0);
            }
        }
        p.sums.clone_from(&self.sums);
        p.weights.clone_from(&self.weights);
    }
}

/// The `m` indices of `0..n` with the largest `dist(i)`, farthest first; among equal
/// distances the lowest index.
pub(crate) fn farthest_rows(n: usize, dist: impl Fn(usize) -> f64, m: usize) -> Vec<usize> {
    let mut far: Vec<usize> = (0..n).collect();
    let by_distance = |a: &usize, b: &usize| dist(*b).total_cmp(&dist(*a)).then(a.cmp(b));
    let m = m.min(n);
    if m == 0 {
        return Vec::new();
    }
    if m < far.len() {
        far.select_nth_unstable_by(m - 1, by_distance);
        far.truncate(m);
    }
    far.sort_by(by_distance);
    far
}

/// Puts every non-zero row on the unit sphere (a zero row stays zero).
pub(crate) fn normalize_rows<F: Float>(c: &mut Array2<F>) {
    for mut row in c.outer_iter_mut() {
        let norm = row.iter().map(|v| v.to_f64() * v.to_f64()).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v = F::from_f64(v.to_f64() / norm));
        }
    }
}

/// scikit-learn's relocation: each cluster left with zero weight takes one of the samples
/// farthest from their centre (farthest first; among equal distances the lowest index), and that
/// sample's weight moves with it. Nothing moves if every sample sits on its centre.
fn relocate_empty<F: Float, D: Samples<F>>(
    data: &D,
    old_centers: ArrayView2<F>,
    labels: &[usize],
    p: &mut Partial,
) {
    let empty: Vec<usize> = (0..p.weights.len()).filter(|&j| p.weights[j] == 0.0).collect();
    if empty.is_empty() {
        return;
    }
    let d = old_centers.ncols();
    let dist = data.label_distances(old_centers, labels);
    if dist.iter().all(|&v| v == 0.0) {
        return;
    }
    for (&new, (i, w)) in empty.iter().zip(data.farthest(&dist, empty.len())) {
        let old = labels[i];
        data.add_row(i, -w, &mut p.sums[old * d..(old + 1) * d]);
        let row = &mut p.sums[new * d..(new + 1) * d];
        row.fill(0.0);
        data.add_row(i, w, row);
        p.weights[new] = w;
        p.weights[old] -= w;
    }
}

/// New centres: weighted means, multiplying by the reciprocal weight, in place and in cluster
/// order, exactly as scikit-learn's `_average_centers`. A cluster still empty after relocation
/// (only possible when every sample sits on its centre) copies the heaviest cluster's row as it
/// stands at that moment: its mean if that cluster comes earlier, its weighted sum if it comes
/// later (scikit-learn 1.9's behaviour, kept so that labels agree with it). scikit-learn sums
/// centred data: where the data were not centred, that sum is moved to where it would have
/// been, `S − W m` in the centred space for the column means `origin` (the weight `W`), so
/// `S − (W − 1) m` here.
fn average<F: Float>(p: &Partial, k: usize, d: usize, origin: &[f64]) -> Array2<F> {
    let mut rows = p.sums.clone();
    let heaviest = (0..k).fold(0, |best, j| if p.weights[j] > p.weights[best] { j } else { best });
    for j in 0..k {
        if p.weights[j] > 0.0 {
            let alpha = 1.0 / p.weights[j];
            rows[j * d..(j + 1) * d].iter_mut().for_each(|v| *v *= alpha);
        } else {
            rows.copy_within(heaviest * d..(heaviest + 1) * d, j * d);
            if heaviest > j && !origin.is_empty() {
                let w = p.weights[heaviest];
                rows[j * d..(j + 1) * d].iter_mut().zip(origin).for_each(|(v, m)| *v -= (w - 1.0) * m);
            }
        }
    }
    Array2::from_shape_fn((k, d), |(j, c)| F::from_f64(rows[j * d + c]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observer::NoObserver;

    /// Sums are carried only where a weight taken out and put back cancels exactly: no caller
    /// weights, whether the samples are the rows or their distinct rows (weighted by counts).
    #[test]
    fn sums_are_carried_only_with_whole_weights() {
        let x = Array2::from_shape_fn((6000, 2), |(i, j)| ((i * 7 + j) % 50) as f64);
        let weights: Vec<f64> = (0..6000).map(|i| 0.1 + (i % 3) as f64).collect();
        let counts = Repeats::find(x.view(), None, &NoObserver).expect("repeats");
        let summed = Repeats::find(x.view(), Some(&weights), &NoObserver).expect("repeats");
        let mut sums = RunningSums::new(6000, false);
        sums.labels.keep(&[0; 6000], 1);
        sums.last_changed = 0;
        let carried = |data: &Data<f64>| sums.incremental(data);
        assert!(carried(&Data::new(x.view(), None, &NoObserver, false)));
        assert!(!carried(&Data::new(x.view(), Some(&weights), &NoObserver, false)));
        assert!(carried(&Data::of_repeats(&counts, None, &NoObserver, false)));
        assert!(!carried(&Data::of_repeats(&summed, Some(&weights), &NoObserver, false)));
    }

    /// Kept labels take the narrowest type that holds every cluster's number, and give back
    /// exactly the samples whose label changed, with the label kept, in index order; they then
    /// hold the new labels (several leaves of rows, so the pass runs in parallel).
    #[test]
    fn kept_labels_give_the_moves_in_order() {
        let n = 3 * crate::parallel::LEAF_ROWS * 16 + 5;
        for (k, width) in [(1, 1), (256, 1), (257, 2), (1 << 16, 2), ((1 << 16) + 1, 4)] {
            let mut labels: Vec<usize> = (0..n).map(|i| (i * 7919) % k).collect();
            let mut kept = Labels::None;
            assert!(kept.is_empty());
            kept.keep(&labels, k);
            let bytes = match &kept {
                Labels::U8(_) => 1,
                Labels::U16(_) => 2,
                Labels::U32(_) => 4,
                _ => 8,
            };
            assert_eq!(bytes, width, "k = {k}");
            for round in 0..3 {
                let mut want = Vec::new();
                for i in (round..n).step_by(97 + round) {
                    let to = (labels[i] + 1 + round) % k;
                    if to != labels[i] {
                        want.push((i, labels[i]));
                    }
                    labels[i] = to;
                }
                // The largest label too.
                if labels[n - 1] != k - 1 && round == 2 {
                    want.push((n - 1, labels[n - 1]));
                    labels[n - 1] = k - 1;
                }
                let got: Vec<(usize, usize)> = kept.moves(&labels).into_iter().flatten().collect();
                assert_eq!(got, want, "k = {k}, round {round}");
                assert!(kept.moves(&labels).is_empty(), "k = {k}, round {round}");
            }
            // Kept again (the memory reused): no moves.
            kept.keep(&labels, k);
            assert!(kept.moves(&labels).is_empty());
        }
    }

    /// Sums carried through many small moves stay those summed afresh (to rounding), and a
    /// cluster left empty has exactly zero weight and sums.
    #[test]
    fn carried_sums_follow_the_moves() {
        let (n, d, k) = (3000, 5, 7);
        let mut s = 99u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            s >> 11
        };
        let x = Array2::from_shape_fn((n, d), |_| next() as f64 / (1u64 << 53) as f64 * 8.0 - 4.0);
        let data = Data::new(x.view(), None, &NoObserver, false);
        let fresh = |labels: &[usize]| {
            let mut p = Partial::zeros(k, d);
            accumulate(x.as_slice().unwrap(), d, 0, labels, None, None, &mut p);
            p
        };
        let mut labels: Vec<usize> = (0..n).map(|i| i % k).collect();
        let mut running = RunningSums::new(n, false);
        let mut p = fresh(&labels);
        p.changed = 0;
        running.update(&data, &labels, &mut p, false, d);
        for round in 0..40 {
            assert!(running.incremental(&data));
            let mut changed = 0;
            for _ in 0..100 {
                let i = next() as usize % n;
                // Empty cluster 6 for good in the last rounds.
                let j = if round >= 20 { next() as usize % (k - 1) } else { next() as usize % k };
                changed += usize::from(labels[i] != j);
                labels[i] = j;
            }
            if round >= 20 {
                labels.iter_mut().filter(|l| **l == k - 1).for_each(|l| *l = 0);
                changed = n / INCREMENTAL_FRACTION;
            }
            let mut p = Partial::zeros(0, 0);
            p.changed = changed;
            running.update(&data, &labels, &mut p, true, d);
            running.since_fresh = 0;
            let want = fresh(&labels);
            assert_eq!(p.weights, want.weights);
            for (a, b) in p.sums.iter().zip(&want.sums) {
                assert!((a - b).abs() <= 1e-9, "round {round}: {a} vs {b}");
            }
            if round >= 20 {
                assert!(p.sums[(k - 1) * d..].iter().all(|&v| v == 0.0));
            }
        }
    }
}
