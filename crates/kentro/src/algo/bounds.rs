//! Bound-based exact assignment (the Yinyang family: Ding et al., "Yinyang K-Means", ICML
//! 2015). Centres are split into `t` groups; each sample keeps an upper bound on the distance
//! to its centre and one lower bound per group on the distance to the group's other centres.
//! When centres move, bounds move by their drift; a sample whose upper bound stays below every
//! group's lower bound keeps its label without computing a distance, and a group whose lower
//! bound stays above the best distance found is skipped.
//!
//! `t = 1` keeps one lower bound per sample (Hamerly's bounds), `t = k` one per centre
//! (Elkan's), and `t ≈ k/10` is Yinyang's choice.
//!
//! Exactness: every bound carries a safety margin larger than the rounding error of the
//! distances (relative, plus an absolute part for squares below the smallest normal value:
//! [`Allowance`]; centre drifts are measured safe from underflow), and a centre is skipped only
//! when it is farther than the best one by more than that margin; every centre not skipped is compared by the same direct distance and the same
//! lowest-index rule as Lloyd. So labels are exactly Lloyd's, iteration by iteration.

use multiversion::multiversion;
use ndarray::{ArrayView1, ArrayView2, s};

use super::lloyd::{AssignStep, Data, LloydStep, Partial, accumulate, leaf_rows};
use crate::float::Float;
use crate::kernels::{Assigner, LANES, sq_dist};
use crate::parallel::{Rows, par_blocks_sized};

/// The bound-based step with its per-sample state.
pub(crate) struct BoundsStep {
    /// Centres of each group, ascending.
    groups: Vec<Vec<usize>>,
    /// The group of each centre.
    group_of: Vec<usize>,
    /// Per sample: upper bound on the distance to its centre.
    upper: Vec<f64>,
    /// Per sample and group: lower bound on the distance to the group's other centres.
    lower: Vec<f64>,
    /// Upper bounds on how far each centre / each group's centres moved since the last pass.
    drift: Vec<f64>,
    group_drift: Vec<f64>,
    started: bool,
    /// Whether passes return the per-cluster sums (see [`AssignStep::sums_wanted`]).
    sums_wanted: bool,
    /// Error allowance of one distance.
    allow: Allowance,
    /// Where the step may give way to Lloyd's passes (`auto`, where these run by matrix
    /// products): how many passes in a row found at least [`LLOYD_SHARE`] of the distances open.
    open_passes: Option<usize>,
    /// Lloyd's passes, once the step gave way to them (for the rest of the run).
    lloyd: Option<LloydStep>,
}

impl BoundsStep {
    /// A step for `n` samples with centres `centers`, split into about `t` groups.
    pub(crate) fn new<F: Float>(n: usize, centers: ArrayView2<F>, t: usize) -> Self {
        let (k, d) = centers.dim();
        let group_of = group_centers(centers, t.clamp(1, k));
        let t = group_of.iter().max().map_or(1, |g| g + 1);
        let mut groups = vec![Vec::new(); t];
        for (j, &g) in group_of.iter().enumerate() {
            groups[g].push(j);
        }
        BoundsStep {
            groups,
            group_of,
            upper: crate::memory::zeroed(0.0, n),
            lower: crate::memory::zeroed(0.0, n * t),
            drift: vec![0.0; k],
            group_drift: vec![0.0; t],
            started: false,
            sums_wanted: true,
            allow: Allowance::new::<F>(d),
            open_passes: None,
            lloyd: None,
        }
    }

    /// Lets the step give way to Lloyd's passes for the rest of the run after
    /// [`LLOYD_PASSES`] passes in a row whose bounds leave at least [`LLOYD_SHARE`] of the
    /// distances to compute (both give the same labels, so the results do not change).
    pub(crate) fn giving_way_to_lloyd(mut self) -> Self {
        self.open_passes = Some(0);
        self
    }

    /// Memory the bounds take for `n` samples and `t` groups, in bytes.
    pub(crate) fn memory(n: usize, t: usize) -> usize {
        n * (t + 1) * std::mem::size_of::<f64>()
    }

    /// A full pass: every distance (by GEMM where faster), then labels and bounds afresh. The
    /// first pass, and any pass whose bounds would leave most distances to compute
    /// ([`BoundsStep::open_share`]).
    fn start<F: Float>(
        &mut self,
        data: &Data<F>,
        centers: ArrayView2<F>,
        labels: &mut [usize],
        p: &PassInfo,
    ) -> Partial {
        let (k, d) = centers.dim();
        let t = self.groups.len();
        let (allow, group_of) = (self.allow, &self.group_of);
        let (sums, want) = (self.sums_wanted, p.want_inertia);
        let assigner = Assigner::new(centers);
        par_blocks_sized(
            p.leaf_rows,
            labels.len(),
            (Rows::new(labels, 1), (Rows::new(&mut self.upper, 1), Rows::new(&mut self.lower, t))),
            &|s, e, (lab, (up, low)): (Rows<usize>, (Rows<f64>, Rows<f64>))| {
                if data.stopping() {
                    return Partial::zeros(k, d);
                }
                let block = data.x.slice(s![s..e, ..]);
                let mut nearest = vec![(0usize, F::ZERO); e - s];
                // The bounds of a few rows at a time: their k lower bounds stay in cache.
                let mut lb_sq = vec![0.0f64; START_ROWS.min(e - s) * k];
                let mut part = if sums { Partial::zeros(k, d) } else { Partial::zeros(0, 0) };
                let mut dists = Vec::with_capacity(e - s);
                for first in (0..e - s).step_by(START_ROWS) {
                    let last = (first + START_ROWS).min(e - s);
                    let lb_sq = &mut lb_sq[..(last - first) * k];
                    assigner.nearest_rows_and_bounds(
                        block.slice(s![first..last, ..]),
                        &data.x_norms[s + first..s + last],
                        &mut nearest[first..last],
                        lb_sq,
                        data.columns_of(s + first, s + last),
                    );
                    for (i, lb) in (first..last).zip(lb_sq.chunks_exact(k)) {
                        let (a, dist) = nearest[i];
                        if lab.data[i] != a {
                            part.changed += 1;
                            lab.data[i] = a;
                        }
                        dists.push(dist);
                        up.data[i] = allow.upper(dist.to_f64());
                        let lows = &mut low.data[i * t..(i + 1) * t];
                        lows.fill(f64::INFINITY);
                        for (j, &l) in lb.iter().enumerate() {
                            if j != a {
                                let g = group_of[j];
                                lows[g] = lows[g].min(l);
                            }
                        }
                        lows.iter_mut().for_each(|l| *l = allow.lower(*l));
                    }
                }
                let rows = block.to_slice().expect("standard layout");
                finish_leaf(rows, d, s, lab.data, &dists, sums, want, data.weights, &mut part);
                part
            },
            &|a: &mut Partial, b| a.merge(b),
        )
    }

    /// An estimate of the share of all sample–centre distances the next bound pass would
    /// compute, from every `stride`-th sample: each group whose lower bound, less its drift, does
    /// not clear the sample's upper bound plus its centre's drift counts with all its centres.
    /// It depends on the bounds alone (never on timing or threads). It is rough either way: it
    /// counts whole groups against the loose upper bound, which the pass tightens before it
    /// looks at the groups, but leaves out the distance to the sample's own centre that the
    /// pass computes first.
    fn open_share(&self, labels: &[usize]) -> f64 {
        let n = labels.len();
        let t = self.groups.len();
        let k = self.group_of.len();
        let stride = (n / SHARE_SAMPLES).max(1);
        let margin = 1.0 + 2.0 * self.allow.eta;
        let (mut open, mut rows) = (0usize, 0usize);
        for i in (0..n).step_by(stride) {
            rows += 1;
            let u = (self.upper[i] + self.drift[labels[i]]) * margin;
            let lower = &self.lower[i * t..(i + 1) * t];
            for ((&l, &g), members) in lower.iter().zip(&self.group_drift).zip(&self.groups) {
                if l - g <= u {
                    open += members.len();
                }
            }
        }
        open as f64 / (rows * k).max(1) as f64
    }
}

/// How far a computed squared distance may lie from the true one, for bounds on distances: a
/// relative part (`eta`, the rounding of the sums) and an absolute part (`tiny`, squares below
/// the smallest normal value, whose rounding is absolute: data whose range spans more than
/// half of the exponent range keep such distances unscaled).
#[derive(Clone, Copy)]
pub(super) struct Allowance {
    pub(super) eta: f64,
    tiny: f64,
}

impl Allowance {
    /// The allowance of squared distances of `d` features summed in `F`.
    pub(super) fn new<F: Float>(d: usize) -> Self {
        let u = F::UNIT_ROUNDOFF;
        let gamma = |m: usize| (m as f64 * u) / (1.0 - m as f64 * u);
        Allowance { eta: 2.0 * gamma(d + 2) + 1e-12, tiny: (d + 2) as f64 * F::MIN_POSITIVE }
    }

    /// An upper bound on the distance whose square was computed as `sq`.
    #[inline(always)]
    pub(super) fn upper(&self, sq: f64) -> f64 {
        (sq + self.tiny).sqrt() * (1.0 + self.eta)
    }

    /// A lower bound on the distance whose square was computed as `sq`.
    #[inline(always)]
    pub(super) fn lower(&self, sq: f64) -> f64 {
        (sq - self.tiny).max(0.0).sqrt() * (1.0 - self.eta)
    }
}

/// For each centre, an upper bound on how far it moved from `old` to `new` ([`drift`]).
pub(super) fn drifts<F: Float>(old: ArrayView2<F>, new: ArrayView2<F>, out: &mut [f64]) {
    for (slot, (a, b)) in out.iter_mut().zip(old.outer_iter().zip(new.outer_iter())) {
        *slot = drift(a, b);
    }
}

/// An upper bound on the distance between two centres, safe from underflow: the differences
/// are scaled by a power of two near the largest before they are squared.
fn drift<F: Float>(a: ArrayView1<F>, b: ArrayView1<F>) -> f64 {
    let diff = |(&u, &v): (&F, &F)| u.to_f64() - v.to_f64();
    let largest = a.iter().zip(b.iter()).map(diff).fold(0.0f64, |m, t| m.max(t.abs()));
    if largest == 0.0 {
        return 0.0;
    }
    // A power of two near the largest (2^e ≥ largest, e within the normal exponents): the
    // scaled differences are at most 2, the largest at least 1/2 unless it is subnormal.
    let e = (largest.log2().ceil() as i32).clamp(-1022, 1023);
    let scale = f64::from_bits(((e + 1023) as u64) << 52);
    let sum: f64 = a.iter().zip(b.iter()).map(diff).map(|t| (t / scale).powi(2)).sum();
    // Rounded up: the differences, the squares and the sum each round by a relative 2⁻⁵³ at
    // most; scaled squares that underflow are below 2⁻¹⁰²², covered by the term added.
    sum.sqrt() * scale * (1.0 + 1e-12) + f64::MIN_POSITIVE
}

/// Rows whose lower bounds [`BoundsStep::start`] forms together.
const START_ROWS: usize = 256;

/// Samples [`BoundsStep::open_share`] looks at (at most about).
const SHARE_SAMPLES: usize = 4096;

/// A pass whose estimated share of distances to compute ([`BoundsStep::open_share`]) is above
/// this starts afresh with every distance instead (by GEMM where faster): computing most
/// distances one by one costs more than all of them at once. Measured (CPU ms of one pass, one
/// thread; the estimate in brackets): the first pass after the start, blobs 100k × 128, k = 256:
/// 457 by the bounds (0.999), 173 afresh; uniform 500k × 16, k = 100: 335 (0.994) vs 186;
/// later passes of uniform: 157 by the bounds (0.438) vs 190 afresh; digits: 0.1 (0.565) vs 0.3.
const RESTART_SHARE: f64 = 0.7;

/// `auto`'s bounds give way to Lloyd's passes by matrix products
/// ([`BoundsStep::giving_way_to_lloyd`]) after this many passes in a row whose estimated open
/// share is at least [`LLOYD_SHARE`]. Since `f64` rows on that path run Lloyd from the start
/// (their products in `f32`: `choose` in `algo`), this serves `f32` rows. Measured before that,
/// on `f64` rows with their products in `f64` (`examples/tiny_fit.rs`, wall ms of a fit from the
/// k-means++ start of seed 0 to convergence, two threads; Yinyang's bounds / Lloyd; the
/// estimates of the first passes after the start in brackets): uniform 500k × 16, k = 100:
/// 8217 / 6670 (0.994, 0.344, 0.438, 0.410, then falling slowly to 0.10 by pass 60; a pass by
/// the bounds costs 38 ms at pass 30, 23 at pass 120, 13 at pass 300, Lloyd's 19–21 ms
/// throughout); uniform 20 000 × 32, k = 32: 166 / 85 (0.999, 0.903, 0.701, 0.579, 0.793, …);
/// k = 128: 309 / 183; uniform 10 000 × 16, k = 32: 58 / 20; k = 128: 85 / 33. The bounds win
/// on clustered data, where the estimates fall fast: blobs 100k × 128, k = 256: 666 / 1015
/// (0.999, 0.251, 0.166, 0.251, 0.084, …); blobs 20 000 × 64, k = 128: 110 / 148 (0.995, then
/// about 0.10); blobs 20 000 × 32, k = 32: 25 / 27 (0.926, 0.134, …).
const LLOYD_PASSES: usize = 3;
/// See [`LLOYD_PASSES`].
const LLOYD_SHARE: f64 = 0.3;

/// The end of a leaf of a pass: its sums (when `sums`) and, when `want`, its inertia, from the
/// rows' squared distances to their centres (as [`accumulate`] sums them).
#[allow(clippy::too_many_arguments)]
pub(super) fn finish_leaf<F: Float>(
    rows: &[F],
    d: usize,
    s: usize,
    labels: &[usize],
    dists: &[F],
    sums: bool,
    want: bool,
    weights: Option<&[f64]>,
    part: &mut Partial,
) {
    if sums {
        accumulate(rows, d, s, labels, want.then_some(dists), weights, part);
    } else if want {
        part.inertia = match weights {
            None => dists.iter().map(|v| v.to_f64()).sum::<f64>(),
            Some(w) => dists.iter().zip(&w[s..]).map(|(v, wi)| wi * v.to_f64()).sum::<f64>(),
        };
    }
}

/// Facts every leaf of a pass needs.
struct PassInfo {
    leaf_rows: usize,
    want_inertia: bool,
}

impl<'a, F: Float> AssignStep<F, Data<'a, F>> for BoundsStep {
    fn assign(
        &mut self,
        data: &Data<'a, F>,
        centers: ArrayView2<F>,
        labels: &mut [usize],
        want_inertia: bool,
    ) -> Partial {
        let (k, d) = centers.dim();
        let info = PassInfo { leaf_rows: leaf_rows(k, d), want_inertia };
        // The estimate is skipped once the step gave way (its bounds are no longer kept).
        let mut share = 1.0;
        if self.lloyd.is_none() {
            share = if self.started { self.open_share(labels) } else { 1.0 };
            if let (Some(open), true) = (&mut self.open_passes, self.started) {
                *open = if share >= LLOYD_SHARE { *open + 1 } else { 0 };
                if *open >= LLOYD_PASSES {
                    self.lloyd = Some(LloydStep::new());
                }
            }
        }
        if let Some(lloyd) = &mut self.lloyd {
            AssignStep::<F, Data<F>>::sums_wanted(lloyd, self.sums_wanted);
            return lloyd.assign(data, centers, labels, want_inertia);
        }
        if !self.started || share > RESTART_SHARE {
            self.started = true;
            return self.start(data, centers, labels, &info);
        }
        let t = self.groups.len();
        let c = centers.as_slice().expect("standard layout");
        let blocks = GroupBlocks::new(&self.groups, c, d);
        let state = Shared {
            c,
            d,
            allow: self.allow,
            groups: &self.groups,
            group_of: &self.group_of,
            drift: &self.drift,
            group_drift: &self.group_drift,
            blocks: &blocks,
        };
        let want = info.want_inertia;
        let sums = self.sums_wanted;
        par_blocks_sized(
            info.leaf_rows,
            labels.len(),
            (Rows::new(labels, 1), (Rows::new(&mut self.upper, 1), Rows::new(&mut self.lower, t))),
            &|s, e, (lab, (up, low)): (Rows<usize>, (Rows<f64>, Rows<f64>))| {
                if data.stopping() {
                    return Partial::zeros(k, d);
                }
                let rows = data.x.slice(s![s..e, ..]).to_slice().expect("standard layout");
                let mut part = if sums { Partial::zeros(k, d) } else { Partial::zeros(0, 0) };
                let mut dists = Vec::with_capacity(if want { e - s } else { 0 });
                part.changed = assign_leaf(&state, rows, lab.data, up.data, low.data, want, &mut dists);
                finish_leaf(rows, d, s, lab.data, &dists, sums, want, data.weights, &mut part);
                part
            },
            &|a: &mut Partial, b| a.merge(b),
        )
    }

    fn sums_wanted(&mut self, wanted: bool) {
        self.sums_wanted = wanted;
    }

    fn centers_moved(&mut self, old: ArrayView2<F>, new: ArrayView2<F>) {
        if self.lloyd.is_some() {
            return;
        }
        drifts(old, new, &mut self.drift);
        self.group_drift.fill(0.0);
        for (j, &g) in self.group_of.iter().enumerate() {
            self.group_drift[g] = self.group_drift[g].max(self.drift[j]);
        }
    }
}

/// The bound pass over one leaf's rows: labels, bounds and (when `want`) the squared distance of
/// every row to its centre; returns how many labels changed. Compiled for several CPUs so that
/// the distances it does compute run in the widest SIMD available.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn assign_leaf<F: Float>(
    state: &Shared<F>,
    rows: &[F],
    labels: &mut [usize],
    upper: &mut [f64],
    lower: &mut [f64],
    want: bool,
    dists: &mut Vec<F>,
) -> usize {
    let t = state.groups.len();
    let mut seen = vec![GroupScan::default(); t];
    let mut changed = 0;
    for (i, x) in rows.chunks_exact(state.d).enumerate() {
        let old = labels[i];
        let (label, dist) =
            state.assign_one(x, old, &mut upper[i], &mut lower[i * t..(i + 1) * t], &mut seen, want);
        if label != old {
            changed += 1;
            labels[i] = label;
        }
        if want {
            dists.push(dist);
        }
    }
    changed
}

/// What the bound pass learnt about one group of centres for one sample.
#[derive(Debug, Clone, Copy, Default)]
struct GroupScan {
    /// Smallest and second smallest squared distance computed, and the first's centre.
    m1: f64,
    j1: usize,
    m2: f64,
    examined: bool,
}

/// What every sample of a bound pass reads.
struct Shared<'a, F> {
    c: &'a [F],
    d: usize,
    allow: Allowance,
    groups: &'a [Vec<usize>],
    group_of: &'a [usize],
    drift: &'a [f64],
    group_drift: &'a [f64],
    blocks: &'a GroupBlocks<F>,
}

impl<F: Float> Shared<'_, F> {
    fn center(&self, j: usize) -> &[F] {
        &self.c[j * self.d..(j + 1) * self.d]
    }

    /// The label of one sample (currently `old`), updating its bounds; with the squared distance
    /// to the chosen centre when `want_dist` or when it was computed anyway.
    #[inline(always)]
    fn assign_one(
        &self,
        x: &[F],
        old: usize,
        upper: &mut f64,
        lower: &mut [f64],
        seen: &mut [GroupScan],
        want_dist: bool,
    ) -> (usize, F) {
        let margin = 1.0 + 2.0 * self.allow.eta;
        let mut u = *upper + self.drift[old];
        let mut global = f64::INFINITY;
        for (l, &g) in lower.iter_mut().zip(self.group_drift) {
            *l = (*l - g).max(0.0);
            global = global.min(*l);
        }
        if global > u * margin {
            *upper = u;
            let dist = if want_dist { sq_dist(x, self.center(old)) } else { F::ZERO };
            return (old, dist);
        }
        let d_old = sq_dist(x, self.center(old));
        u = self.allow.upper(d_old.to_f64());
        if global > u * margin {
            *upper = u;
            return (old, d_old);
        }
        // Examine every group whose lower bound does not clear the best distance so far, the
        // old centre's group first (it usually holds the answer, which tightens the rest).
        let mut best = (d_old, old);
        let g_old = self.group_of[old];
        seen.iter_mut().for_each(|s| s.examined = false);
        for g in std::iter::once(g_old).chain((0..self.groups.len()).filter(|&g| g != g_old)) {
            let bound = self.allow.upper(best.0.to_f64()) * margin;
            if lower[g] > bound {
                continue;
            }
            // The two smallest distances in the group, the first with its centre (the group's
            // centres in ascending order, `BATCH` distances at a time).
            let (mut m1, mut j1, mut m2) = (F::MAX, usize::MAX, F::MAX);
            let mut dists = [F::ZERO; BATCH];
            for b in self.blocks.first[g]..self.blocks.first[g + 1] {
                let ids = &self.blocks.ids[b];
                sq_dist_batch(x, &self.blocks.data[b * self.d * BATCH..(b + 1) * self.d * BATCH], &mut dists);
                for (&j, &dist) in ids.iter().zip(&dists) {
                    if dist < m1 {
                        m2 = m1;
                        m1 = dist;
                        j1 = j;
                    } else if dist < m2 {
                        m2 = dist;
                    }
                }
            }
            seen[g] = GroupScan { m1: m1.to_f64(), j1, m2: m2.to_f64(), examined: true };
            if m1 < best.0 || (m1 == best.0 && j1 < best.1) {
                best = (m1, j1);
            }
        }
        let (d_best, label) = best;
        for (g, scan) in seen.iter().enumerate() {
            if scan.examined {
                let nearest_other = if scan.j1 == label { scan.m2 } else { scan.m1 };
                lower[g] = self.allow.lower(nearest_other);
            }
        }
        if label != old && !seen[g_old].examined {
            // The old centre is now one of its group's others.
            lower[g_old] = lower[g_old].min(self.allow.lower(d_old.to_f64()));
        }
        *upper = self.allow.upper(d_best.to_f64());
        (label, d_best)
    }
}

/// Centres per block of [`GroupBlocks`]: the distances of one sample to `BATCH` centres are
/// computed together, one centre per SIMD lane.
const BATCH: usize = 8;
const _: () = assert!(LANES == 16, "sq_dist_batch writes out 16 lanes");

/// Each group's centres in blocks of [`BATCH`], feature-major within a block (feature `f` of
/// the block's centres is `BATCH` consecutive values), so that one sample's distances to a
/// block vectorise across the centres. A group's last block is padded with zero centres.
struct GroupBlocks<F> {
    /// Group `g` owns blocks `first[g]..first[g + 1]`.
    first: Vec<usize>,
    /// The centres of each block, ascending (fewer than `BATCH` in a group's last block).
    ids: Vec<Vec<usize>>,
    /// `d × BATCH` values per block.
    data: Vec<F>,
}

impl<F: Float> GroupBlocks<F> {
    fn new(groups: &[Vec<usize>], c: &[F], d: usize) -> Self {
        let mut first = vec![0];
        let mut ids = Vec::new();
        let mut data = Vec::new();
        for members in groups {
            for chunk in members.chunks(BATCH) {
                let start = data.len();
                data.resize(start + d * BATCH, F::ZERO);
                for (lane, &j) in chunk.iter().enumerate() {
                    for (f, &v) in c[j * d..(j + 1) * d].iter().enumerate() {
                        data[start + f * BATCH + lane] = v;
                    }
                }
                ids.push(chunk.to_vec());
            }
            first.push(ids.len());
        }
        GroupBlocks { first, ids, data }
    }
}

/// The squared distances of `x` to the `BATCH` centres of one block (`d × BATCH` values,
/// feature-major), each bit-identical to [`sq_dist`] of `x` and that centre: the same lanes of
/// partial sums, the same tail and the same reduction tree, computed for `BATCH` centres side by
/// side.
#[inline(always)]
fn sq_dist_batch<F: Float>(x: &[F], block: &[F], out: &mut [F; BATCH]) {
    let d = x.len();
    debug_assert_eq!(block.len(), d * BATCH);
    let mut acc = [[F::ZERO; BATCH]; LANES];
    let chunks = d / LANES;
    for c in 0..chunks {
        let xs: &[F; LANES] = x[c * LANES..(c + 1) * LANES].try_into().expect("LANES values");
        let cols = &block[c * LANES * BATCH..(c + 1) * LANES * BATCH];
        // Written out lane by lane: as a loop over the lanes, the compiler vectorises across
        // the lanes (with gathers) instead of across the centres.
        macro_rules! lanes {
            ($($l:literal)*) => {$({
                let col: &[F; BATCH] = cols[$l * BATCH..($l + 1) * BATCH].try_into().expect("BATCH values");
                for b in 0..BATCH {
                    let t = xs[$l] - col[b];
                    acc[$l][b] += t * t;
                }
            })*};
        }
        lanes!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    }
    let mut tail = [F::ZERO; BATCH];
    for f in chunks * LANES..d {
        let col: &[F; BATCH] = block[f * BATCH..(f + 1) * BATCH].try_into().expect("BATCH values");
        for b in 0..BATCH {
            let t = x[f] - col[b];
            tail[b] += t * t;
        }
    }
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            let right = acc[l + width];
            for (a, r) in acc[l].iter_mut().zip(right) {
                *a += r;
            }
        }
        width /= 2;
    }
    for ((o, &a), &t) in out.iter_mut().zip(&acc[0]).zip(&tail) {
        *o = a + t;
    }
}

/// Splits the centres into `t` groups by a few Lloyd iterations on the centres themselves,
/// started from a farthest-point traversal; returns the group of each centre (groups numbered
/// from 0 with none empty). Deterministic.
fn group_centers<F: Float>(centers: ArrayView2<F>, t: usize) -> Vec<usize> {
    let (k, d) = centers.dim();
    let c = centers.as_slice().expect("standard layout");
    let row = |j: usize| &c[j * d..(j + 1) * d];
    if t <= 1 {
        return vec![0; k];
    }
    if t >= k {
        return (0..k).collect();
    }
    // Farthest-point seeds.
    let mut seeds = vec![0usize];
    let mut far: Vec<f64> = (0..k).map(|j| sq_dist(row(j), row(0)).to_f64()).collect();
    while seeds.len() < t {
        let next = (0..k).fold(0, |b, j| if far[j] > far[b] { j } else { b });
        seeds.push(next);
        for j in 0..k {
            far[j] = far[j].min(sq_dist(row(j), row(next)).to_f64());
        }
    }
    let mut means: Vec<Vec<f64>> =
        seeds.iter().map(|&s| row(s).iter().map(|v| v.to_f64()).collect()).collect();
    let mut group = vec![0usize; k];
    for _ in 0..5 {
        for j in 0..k {
            let dist =
                |m: &Vec<f64>| row(j).iter().zip(m).map(|(a, b)| (a.to_f64() - b).powi(2)).sum::<f64>();
            group[j] = (0..t).fold(0, |b, g| if dist(&means[g]) < dist(&means[b]) { g } else { b });
        }
        for (g, m) in means.iter_mut().enumerate() {
            let members: Vec<usize> = (0..k).filter(|&j| group[j] == g).collect();
            if !members.is_empty() {
                for (f, v) in m.iter_mut().enumerate() {
                    *v = members.iter().map(|&j| row(j)[f].to_f64()).sum::<f64>() / members.len() as f64;
                }
            }
        }
    }
    // Renumber so that no group is empty.
    let mut renumber = vec![usize::MAX; t];
    let mut next = 0;
    for g in group.iter_mut() {
        if renumber[*g] == usize::MAX {
            renumber[*g] = next;
            next += 1;
        }
        *g = renumber[*g];
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch_matches_sq_dist<F: Float>() {
        let mut s = 7u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            F::from_f64((s >> 11) as f64 / (1u64 << 53) as f64 * 20.0 - 10.0)
        };
        for d in (1..=50).chain([64, 127, 128, 131]) {
            let c: Vec<F> = (0..11 * d).map(|_| next()).collect();
            let groups = vec![(0..11).collect::<Vec<_>>()];
            let blocks = GroupBlocks::new(&groups, &c, d);
            let x: Vec<F> = (0..d).map(|_| next()).collect();
            let mut out = [F::ZERO; BATCH];
            for b in 0..blocks.ids.len() {
                sq_dist_batch(&x, &blocks.data[b * d * BATCH..(b + 1) * d * BATCH], &mut out);
                for (&j, &got) in blocks.ids[b].iter().zip(&out) {
                    let want = sq_dist(&x, &c[j * d..(j + 1) * d]);
                    assert_eq!(got.to_f64().to_bits(), want.to_f64().to_bits(), "d={d} centre {j}");
                }
            }
        }
    }

    #[test]
    fn batched_distances_are_bit_identical_to_sq_dist() {
        batch_matches_sq_dist::<f64>();
        batch_matches_sq_dist::<f32>();
    }

    /// A run whose bounds give way to Lloyd's passes (uniform data keeps most distances open)
    /// is Lloyd's run: labels, centres, inertia and iterations; and one whose bounds stay tight
    /// (well-separated blobs) keeps them. f64 and f32, with and without weights.
    fn giving_way_keeps_lloyds_run<F: Float>() {
        use super::super::lloyd::{RunConfig, run};
        use crate::observer::NoObserver;
        let (n, d, k) = (4000, 16, 24);
        let (uniform, blobs) = super::super::uniform_and_blobs::<F>(n, d);
        let weights: Vec<f64> = (0..n).map(|i| 0.5 + (i % 5) as f64).collect();
        for (x, gives_way) in [(uniform, true), (blobs, false)] {
            for w in [None, Some(weights.as_slice())] {
                let data = Data::new(x.view(), w, &NoObserver, true);
                let start = x.slice(s![..k, ..]).to_owned();
                let cfg = RunConfig {
                    max_iter: 300,
                    tol: 0.0,
                    run: 0,
                    scale: 1.0,
                    observer: &NoObserver,
                    origin: &[],
                };
                let lloyd = run(&data, start.clone(), &mut LloydStep::new(), &cfg).unwrap();
                let mut step = BoundsStep::new(n, start.view(), 3).giving_way_to_lloyd();
                let bounds = run(&data, start, &mut step, &cfg).unwrap();
                let what = format!("{} gives way: {gives_way}, weighted: {}", F::DTYPE, w.is_some());
                assert_eq!(step.lloyd.is_some(), gives_way, "{what}");
                assert!(lloyd.n_iter > LLOYD_PASSES + 1, "{what}: {} iterations", lloyd.n_iter);
                assert_eq!(bounds.labels, lloyd.labels, "{what}");
                assert_eq!(bounds.centers, lloyd.centers, "{what}");
                assert_eq!(bounds.inertia.to_bits(), lloyd.inertia.to_bits(), "{what}");
                assert_eq!(bounds.n_iter, lloyd.n_iter, "{what}");
            }
        }
    }

    #[test]
    fn giving_way_to_lloyd_keeps_lloyds_run() {
        giving_way_keeps_lloyds_run::<f64>();
        giving_way_keeps_lloyds_run::<f32>();
    }
}
