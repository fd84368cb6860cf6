//! Hamerly's bounds ("Making k-means even faster", SDM 2010) for narrow rows, measured a block
//! of rows at a time. Plain Lloyd on narrow rows costs a few vector instructions per centre and
//! block of rows ([`crate::kernels::narrow`]); the general bound step ([`super::bounds`]), which
//! measures each row on its own, took three times as long (china's 273k pixels, k = 64: 0.62
//! against 0.20 s). So here each row's bounds are tested (a few rows at a time, without
//! branches), and the rows that fail are gathered into blocks of [`two_block_rows`] and measured
//! by the across-rows kernel, which also finds each row's second nearest distance (the new lower
//! bound). Measured against testing whole blocks of consecutive rows and measuring every block
//! with a row that fails (two threads, wall ms from a k-means++ start to convergence, f64):
//! china k = 64: 171 → 144; blobs 200k × 2, k = 256: 270 → 170; 200k × 8, k = 64: 280 → 218.
//!
//! Exactness: as in [`super::bounds`], the bounds carry a margin larger than the rounding error
//! of the distances ([`Allowance`]), so a row keeps its label untested only when its centre is
//! nearer than every other by more than that margin; every measured distance is Lloyd's own
//! ([`nearest_two_block`] is [`crate::kernels::narrow`]'s kernel, each lane a row on its own;
//! a full pass's rows past the last whole block [`nearest_two`], [`crate::kernels::nearest`]'s
//! sums), with the same lowest-index rule.

use multiversion::multiversion;
use ndarray::{ArrayView2, s};

use super::bounds::{Allowance, drifts, finish_leaf};
use super::lloyd::{AssignStep, Data, Partial, leaf_rows};
use crate::float::Float;
use crate::kernels::narrow::{nearest_two_block, two_block_rows};
use crate::kernels::nearest_two;
use crate::parallel::{Rows, par_blocks_sized};

/// Hamerly's step for narrow rows, with its per-sample bounds.
pub(crate) struct NarrowBounds {
    /// Per sample: upper bound on the distance to its centre.
    upper: Vec<f64>,
    /// Per sample: lower bound on the distance to every other centre.
    lower: Vec<f64>,
    /// Upper bounds on how far each centre moved since the last pass, and the largest.
    drift: Vec<f64>,
    max_drift: f64,
    /// Rows per block ([`two_block_rows`]).
    block: usize,
    started: bool,
    /// Whether passes return the per-cluster sums (see [`AssignStep::sums_wanted`]).
    sums_wanted: bool,
    /// Error allowance of one distance.
    allow: Allowance,
}

impl NarrowBounds {
    /// The step for `n` samples of `d` features in `F` and `k` centres, where the across-rows
    /// kernel takes them ([`two_block_rows`]).
    pub(crate) fn new<F: Float>(n: usize, k: usize, d: usize) -> Option<Self> {
        let block = two_block_rows::<F>(d, k)?;
        Some(NarrowBounds {
            upper: crate::memory::zeroed(0.0, n),
            lower: crate::memory::zeroed(0.0, n),
            drift: vec![0.0; k],
            max_drift: 0.0,
            block,
            started: false,
            sums_wanted: true,
            allow: Allowance::new::<F>(d),
        })
    }
}

impl<'a, F: Float> AssignStep<F, Data<'a, F>> for NarrowBounds {
    fn assign(
        &mut self,
        data: &Data<'a, F>,
        centers: ArrayView2<F>,
        labels: &mut [usize],
        want_inertia: bool,
    ) -> Partial {
        let (k, d) = centers.dim();
        // The first pass has no bounds yet; a pass that reports its inertia needs every distance.
        let full = !self.started || want_inertia;
        self.started = true;
        let pass = Pass {
            c: centers.as_slice().expect("standard layout"),
            d,
            block: self.block,
            drift: &self.drift,
            max_drift: self.max_drift,
            allow: self.allow,
            full,
        };
        let sums = self.sums_wanted;
        par_blocks_sized(
            leaf_rows(k, d),
            labels.len(),
            (Rows::new(labels, 1), (Rows::new(&mut self.upper, 1), Rows::new(&mut self.lower, 1))),
            &|s, e, (lab, (up, low)): (Rows<usize>, (Rows<f64>, Rows<f64>))| {
                if data.stopping() {
                    return Partial::zeros(k, d);
                }
                let rows = data.x.slice(s![s..e, ..]).to_slice().expect("standard layout");
                let mut part = if sums { Partial::zeros(k, d) } else { Partial::zeros(0, 0) };
                let mut dists = Vec::with_capacity(if want_inertia { e - s } else { 0 });
                part.changed =
                    narrow_leaf(&pass, rows, lab.data, up.data, low.data, want_inertia, &mut dists);
                finish_leaf(rows, d, s, lab.data, &dists, sums, want_inertia, data.weights, &mut part);
                part
            },
            &|a: &mut Partial, b| a.merge(b),
        )
    }

    fn sums_wanted(&mut self, wanted: bool) {
        self.sums_wanted = wanted;
    }

    fn centers_moved(&mut self, old: ArrayView2<F>, new: ArrayView2<F>) {
        drifts(old, new, &mut self.drift);
        self.max_drift = self.drift.iter().fold(0.0, |m: f64, &v| m.max(v));
    }
}

/// Rows whose bounds [`narrow_leaf`] tests together.
const TEST_ROWS: usize = 8;

/// What every leaf of a pass reads.
struct Pass<'a, F> {
    c: &'a [F],
    d: usize,
    block: usize,
    drift: &'a [f64],
    max_drift: f64,
    allow: Allowance,
    /// Whether every row is measured (no bounds yet, or the inertia wanted).
    full: bool,
}

/// The pass over one leaf's rows: labels, bounds and (when `want`) the squared distance of
/// every row to its centre; returns how many labels changed.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn narrow_leaf<F: Float>(
    pass: &Pass<F>,
    rows: &[F],
    labels: &mut [usize],
    upper: &mut [f64],
    lower: &mut [f64],
    want: bool,
    dists: &mut Vec<F>,
) -> usize {
    let (d, b, allow) = (pass.d, pass.block, pass.allow);
    let margin = 1.0 + 2.0 * allow.eta;
    debug_assert!(b <= 16 && b * d <= 32, "two_block_rows keeps blocks within these buffers");
    let mut found = [(0usize, F::ZERO, F::ZERO); 16];
    let mut changed = 0;
    if pass.full {
        for first in (0..labels.len()).step_by(b) {
            let end = (first + b).min(labels.len());
            let found = &mut found[..end - first];
            if end - first == b {
                nearest_two_block(&rows[first * d..end * d], pass.c, d, found);
            } else {
                for (slot, x) in found.iter_mut().zip(rows[first * d..end * d].chunks_exact(d)) {
                    *slot = nearest_two(x, pass.c, d);
                }
            }
            for (i, &found) in (first..end).zip(found.iter()) {
                changed += settle(i, found, labels, upper, lower, allow);
                if want {
                    dists.push(found.1);
                }
            }
        }
        return changed;
    }
    debug_assert!(!want, "a pass that reports its inertia measures every row");
    // Rows whose bounds no longer clear, gathered `b` at a time and measured together.
    let mut pending = [0usize; 16];
    let mut gathered = [F::ZERO; 32];
    let mut np = 0;
    let n = labels.len();
    for first in (0..n).step_by(TEST_ROWS) {
        let end = (first + TEST_ROWS).min(n);
        // The bounds moved with the centres: each row's own centre by its drift, every other
        // centre by at most the largest drift. Rows that fail are measured, which sets them anew.
        let mut fail = 0u32;
        for (bit, i) in (first..end).enumerate() {
            let u = upper[i] + pass.drift[labels[i]];
            let l = lower[i] - pass.max_drift;
            upper[i] = u;
            lower[i] = l;
            // (A bound that is not a number fails.)
            let clears = l > u * margin;
            fail |= u32::from(!clears) << bit;
        }
        while fail != 0 {
            let i = first + fail.trailing_zeros() as usize;
            fail &= fail - 1;
            copy_row(&mut gathered[np * d..(np + 1) * d], &rows[i * d..(i + 1) * d]);
            pending[np] = i;
            np += 1;
            if np == b {
                nearest_two_block(&gathered[..b * d], pass.c, d, &mut found[..b]);
                for (&i, &found) in pending.iter().zip(&found[..b]) {
                    changed += settle(i, found, labels, upper, lower, allow);
                }
                np = 0;
            }
        }
    }
    if np > 0 {
        // The last few; the lanes past them hold earlier rows (or zeros), measured and ignored.
        nearest_two_block(&gathered[..b * d], pass.c, d, &mut found[..b]);
        for (&i, &found) in pending[..np].iter().zip(&found[..np]) {
            changed += settle(i, found, labels, upper, lower, allow);
        }
    }
    changed
}

/// Row `i`'s label and bounds from its measured nearest centre, distance and second distance;
/// 1 when the label changed.
#[inline(always)]
fn settle<F: Float>(
    i: usize,
    (label, best, second): (usize, F, F),
    labels: &mut [usize],
    upper: &mut [f64],
    lower: &mut [f64],
    allow: Allowance,
) -> usize {
    let moved = usize::from(labels[i] != label);
    labels[i] = label;
    upper[i] = allow.upper(best.to_f64());
    lower[i] = allow.lower(second.to_f64());
    moved
}

/// `dst.copy_from_slice(src)` for rows of at most [`crate::kernels::narrow::MAX_FEATURES`]
/// values, as moves of a known length (a call to `memmove` would cost more than the copy).
#[inline(always)]
fn copy_row<F: Float>(dst: &mut [F], src: &[F]) {
    macro_rules! fixed {
        ($($n:literal)*) => {
            match src.len() {
                $($n => dst[..$n].copy_from_slice(&src[..$n]),)*
                _ => dst.copy_from_slice(src),
            }
        };
    }
    fixed!(1 2 3 4 5 6 7 8);
}
