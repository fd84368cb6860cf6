//! Assignment through a matrix product: for a block of rows, `‖c‖² − 2 x·c` for every centre
//! at once (the GEMM does the heavy work), then an argmin that is *certified*: every centre
//! whose approximate distance lies within the rounding-error window of the minimum is
//! recomputed directly, so the label is exactly the one the direct kernel
//! ([`nearest`](super::nearest)) gives.

use ndarray::{Array2, ArrayView2};

use multiversion::multiversion;

use super::{min_value, sq_dist};
use crate::float::Float;

/// Per-iteration facts about the centres that every block needs.
pub(crate) struct CenterNorms<F> {
    /// ‖c_j‖² per centre.
    sq: Vec<F>,
    /// max_j ‖c_j‖.
    max: f64,
    /// Relative error factor of one approximate distance: 2·(γ_{d+2} + γ_d), with margin.
    err: f64,
}

impl<F: Float> CenterNorms<F> {
    pub(crate) fn new(centers: ArrayView2<F>) -> Self {
        let d = centers.ncols();
        let sq: Vec<F> = centers.outer_iter().map(|c| c.iter().map(|&v| v * v).sum()).collect();
        let max = sq.iter().fold(0.0f64, |m, v| m.max(v.to_f64())).sqrt();
        let u = F::UNIT_ROUNDOFF;
        let gamma = |n: usize| (n as f64 * u) / (1.0 - n as f64 * u);
        // Twice the sum of both error terms, so the window is safe on both sides of the minimum.
        let err = 4.0 * (gamma(d + 2) + gamma(d) + 4.0 * u);
        CenterNorms { sq, max, err }
    }
}

/// Scratch space for one block: the products `x·c` (rows × k), turned into `‖c‖² − 2 x·c`
/// by [`nearest_block`].
pub(crate) struct Scratch<F> {
    dots: Array2<F>,
}

impl<F: Float> CenterNorms<F> {
    /// Half-width of the rounding-error window of a row with norm `x_norm`, in squared units:
    /// `|(‖c‖² − 2 x·c) + ‖x‖² − ‖x − c‖²|` is below it for every centre.
    pub(crate) fn window(&self, x_norm: f64) -> f64 {
        let reach = x_norm + self.max;
        self.err * reach * reach
    }
}

/// After [`nearest_block`]: a lower bound on the squared distance of every row of the block to
/// every centre (rows × k, row-major), from the approximations left in `scratch`.
pub(crate) fn lower_bounds<F: Float>(
    scratch: &Scratch<F>,
    x_norms: &[f64],
    norms: &CenterNorms<F>,
    out: &mut [f64],
) {
    let k = norms.sq.len();
    for ((vals, &x_norm), lb) in scratch.dots.outer_iter().zip(x_norms).zip(out.chunks_exact_mut(k)) {
        let base = x_norm * x_norm - norms.window(x_norm);
        for (l, &v) in lb.iter_mut().zip(vals.iter()) {
            *l = (v.to_f64() + base).max(0.0);
        }
    }
}

impl<F: Float> Scratch<F> {
    pub(crate) fn new() -> Self {
        Scratch { dots: Array2::from_elem((0, 0), F::ZERO) }
    }
}

/// Nearest centre and direct squared distance for each row of `block`, written to `out`.
/// `x_norms` holds ‖x‖ of each row. Ties go to the lowest index, exactly as the direct kernel.
pub(crate) fn nearest_block<F: Float>(
    block: ArrayView2<F>,
    x_norms: &[f64],
    centers: ArrayView2<F>,
    norms: &CenterNorms<F>,
    scratch: &mut Scratch<F>,
    out: &mut [(usize, F)],
) {
    let rows = block.nrows();
    let k = centers.nrows();
    if scratch.dots.dim() != (rows, k) {
        scratch.dots = Array2::from_elem((rows, k), F::ZERO);
    }
    dot_products(block, centers, &mut scratch.dots);
    certified_argmin(
        scratch.dots.as_slice_mut().expect("standard layout"),
        block.as_slice().expect("standard layout"),
        x_norms,
        centers.as_slice().expect("standard layout"),
        norms,
        out,
    );
}

/// Turns the products of a block into labels: approximate distances `‖c‖² − 2 x·c`, their
/// minimum, and the window of rounding error around it; a window holding one centre decides,
/// otherwise the centres in it are compared by direct distance.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn certified_argmin<F: Float>(
    dots: &mut [F],
    data: &[F],
    x_norms: &[f64],
    c: &[F],
    norms: &CenterNorms<F>,
    out: &mut [(usize, F)],
) {
    let k = norms.sq.len();
    let d = c.len() / k;
    let two = F::ONE + F::ONE;
    for (((row, xs), &x_norm), slot) in
        dots.chunks_exact_mut(k).zip(data.chunks_exact(d)).zip(x_norms).zip(out)
    {
        row.iter_mut().zip(&norms.sq).for_each(|(v, &c2)| *v = c2 - two * *v);
        let m1 = min_value(row);
        let reach = x_norm + norms.max;
        let limit = F::from_f64(m1.to_f64() + norms.err * reach * reach);
        let in_window = row.iter().filter(|&&v| v <= limit).count();
        *slot = if in_window == 1 {
            let best = row.iter().position(|&v| v <= limit).expect("the minimum is in the window");
            (best, sq_dist(xs, &c[best * d..(best + 1) * d]))
        } else {
            // A near-tie: decide exactly among the centres in the window, as the direct kernel.
            let mut pick = (usize::MAX, F::MAX);
            for (j, &v) in row.iter().enumerate() {
                if v <= limit {
                    let dist = sq_dist(xs, &c[j * d..(j + 1) * d]);
                    if pick.0 == usize::MAX || dist < pick.1 {
                        pick = (j, dist);
                    }
                }
            }
            pick
        };
    }
}

/// `dots = block · centersᵀ` by the `gemm` crate (runtime-dispatched SIMD, one thread: the
/// caller parallelises over blocks). Rounding may differ between kernels; the certified argmin
/// makes the result independent of it.
#[allow(unsafe_code)]
pub(crate) fn dot_products<F: Float>(block: ArrayView2<F>, centers: ArrayView2<F>, dots: &mut Array2<F>) {
    let (m, depth) = block.dim();
    let n = centers.nrows();
    assert!(block.is_standard_layout() && centers.is_standard_layout() && dots.is_standard_layout());
    assert_eq!(centers.ncols(), depth);
    assert_eq!(dots.dim(), (m, n));
    // SAFETY: the three matrices are standard-layout (row-major, contiguous) arrays whose shapes
    // were checked above; the strides below describe exactly those layouts (centers read as its
    // transpose: element (p, j) at j·depth + p), `dots` is borrowed mutably and does not alias the
    // inputs, and `read_dst = false` means its old contents are never read.
    unsafe {
        gemm::gemm::<F>(
            m,
            n,
            depth,
            dots.as_mut_ptr(),
            1,
            n as isize,
            false,
            block.as_ptr(),
            1,
            depth as isize,
            centers.as_ptr(),
            depth as isize,
            1,
            F::ZERO,
            F::ONE,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
