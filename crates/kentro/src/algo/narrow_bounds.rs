//! Hamerly's bounds ("Making k-means even faster", SDM 2010) for narrow rows, kept and tested a
//! block of rows at a time. Plain Lloyd on narrow rows costs a few vector instructions per
//! centre and block of rows ([`crate::kernels::narrow`]); the general bound step
//! ([`super::bounds`]), which tests and updates each row on its own, took three times as long
//! (china's 273k pixels, k = 64: 0.62 against 0.20 s). So here the rows that one test per row
//! would skip are skipped only when every row of their
//! block of [`two_block_rows`] passes it, and a block that does not is measured whole by the
//! across-rows kernel, which also finds each row's second nearest distance (the new lower
//! bound). Rows in a meaningful order (pixels of an image, readings in time) fall into blocks
//! whose rows are near each other, and whole blocks keep their labels in later iterations.
//!
//! Exactness: as in [`super::bounds`], the bounds carry a margin larger than the rounding error
//! of the distances ([`Allowance`]), so a block is skipped only when each row's centre is
//! nearer than every other by more than that margin; every measured distance is Lloyd's own
//! ([`nearest_two_block`] is [`crate::kernels::narrow`]'s kernel, the rows past the last whole
//! block [`nearest_two`], [`crate::kernels::nearest`]'s sums), with the same lowest-index rule.

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
            upper: vec![0.0; n],
            lower: vec![0.0; n],
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
    let mut found = [(0usize, F::ZERO, F::ZERO); 16];
    let mut changed = 0;
    for first in (0..labels.len()).step_by(b) {
        let end = (first + b).min(labels.len());
        // The bounds moved with the centres: each row's own centre by its drift, every other
        // centre by at most the largest drift.
        let kept = !pass.full
            && (first..end).all(|i| lower[i] - pass.max_drift > (upper[i] + pass.drift[labels[i]]) * margin);
        if kept {
            for i in first..end {
                upper[i] += pass.drift[labels[i]];
                lower[i] -= pass.max_drift;
            }
            continue;
        }
        let found = &mut found[..end - first];
        if end - first == b {
            nearest_two_block(&rows[first * d..end * d], pass.c, d, found);
        } else {
            for (slot, x) in found.iter_mut().zip(rows[first * d..end * d].chunks_exact(d)) {
                *slot = nearest_two(x, pass.c, d);
            }
        }
        for (i, &(label, best, second)) in (first..end).zip(found.iter()) {
            if labels[i] != label {
                changed += 1;
                labels[i] = label;
            }
            upper[i] = allow.upper(best.to_f64());
            lower[i] = allow.lower(second.to_f64());
            if want {
                dists.push(best);
            }
        }
    }
    changed
}
