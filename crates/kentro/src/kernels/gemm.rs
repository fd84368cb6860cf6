//! Assignment through a matrix product: for a block of rows, `‖c‖² − 2 x·c` for every centre
//! at once (the GEMM does the heavy work), then an argmin that is *certified*: every centre
//! whose approximate distance lies within the rounding-error window of the minimum is
//! recomputed directly, so the label is exactly the one the direct kernel
//! ([`nearest`](super::nearest)) gives.

use ndarray::ArrayView2;

use multiversion::multiversion;

use super::sq_dist;
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

/// Rows of a block that the argmin takes at a time, across rows: one 512-bit register of each
/// per-row `f64` value (eight rows keep the centre-major scratch of 256 centres in 16 KiB;
/// sixteen measured no faster).
const SUB_ROWS: usize = 8;

/// Scratch space for one block: the products `x·c` (rows × k, row-major), and the approximate
/// distances `‖c‖² − 2 x·c` of [`SUB_ROWS`] rows at a time turned centre-major (`cols[j][r]`),
/// so that the argmin runs across rows, one SIMD register of rows per centre, whatever the
/// number of centres.
pub(crate) struct Scratch<F> {
    dots: Vec<F>,
    cols: Vec<[F; SUB_ROWS]>,
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
/// every centre (rows × k, row-major), from the products left in `scratch`.
pub(crate) fn lower_bounds<F: Float>(
    scratch: &Scratch<F>,
    x_norms: &[f64],
    norms: &CenterNorms<F>,
    out: &mut [f64],
) {
    let k = norms.sq.len();
    let two = F::ONE + F::ONE;
    for ((dots, &x_norm), lb) in scratch.dots.chunks_exact(k).zip(x_norms).zip(out.chunks_exact_mut(k)) {
        let base = x_norm * x_norm - norms.window(x_norm);
        for ((l, &v), &c2) in lb.iter_mut().zip(dots).zip(&norms.sq) {
            *l = ((c2 - two * v).to_f64() + base).max(0.0);
        }
    }
}

impl<F: Float> Scratch<F> {
    pub(crate) fn new() -> Self {
        Scratch { dots: Vec::new(), cols: Vec::new() }
    }
}

/// Nearest centre and direct squared distance for each row of `block`, written to `out`.
/// `x_norms` holds ‖x‖ of each row. Ties go to the lowest index, exactly as the direct kernel.
/// Without `distances`, a row whose window holds one centre gets the distance zero.
pub(crate) fn nearest_block<F: Float>(
    block: ArrayView2<F>,
    x_norms: &[f64],
    centers: ArrayView2<F>,
    norms: &CenterNorms<F>,
    scratch: &mut Scratch<F>,
    out: &mut [(usize, F)],
    distances: bool,
) {
    let rows = block.nrows();
    let k = centers.nrows();
    debug_assert!(x_norms.len() == rows && out.len() == rows, "one norm and one slot per row");
    debug_assert!(u32::try_from(k).is_ok(), "centre indices fit the argmin's u32 lanes");
    scratch.dots.resize(rows * k, F::ZERO);
    scratch.cols.resize(k, [F::ZERO; SUB_ROWS]);
    dot_products(block, centers, &mut scratch.dots);
    certified_argmin(
        &scratch.dots,
        &mut scratch.cols,
        block.as_slice().expect("standard layout"),
        x_norms,
        centers.as_slice().expect("standard layout"),
        norms,
        out,
        distances,
    );
}

/// Turns the products of a block (rows × k) into labels: approximate distances
/// `‖c‖² − 2 x·c`, their minimum, and the window of rounding error around it; a window holding
/// one centre decides, otherwise the centres in it are compared by direct distance. Runs across
/// rows, [`SUB_ROWS`] at a time, their approximations turned centre-major in `cols`.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn certified_argmin<F: Float>(
    dots: &[F],
    cols: &mut [[F; SUB_ROWS]],
    data: &[F],
    x_norms: &[f64],
    c: &[F],
    norms: &CenterNorms<F>,
    out: &mut [(usize, F)],
    distances: bool,
) {
    let k = norms.sq.len();
    let d = c.len() / k;
    let two = F::ONE + F::ONE;
    for ((dots, out), (x_norms, data)) in dots
        .chunks(SUB_ROWS * k)
        .zip(out.chunks_mut(SUB_ROWS))
        .zip(x_norms.chunks(SUB_ROWS).zip(data.chunks(SUB_ROWS * d)))
    {
        // The approximations, centre-major, and each row's smallest (in a last, partial
        // sub-block the lanes past the block's end hold zeros or what an earlier sub-block
        // left: they are computed on and never read).
        let mut m1 = [F::MAX; SUB_ROWS];
        for (r, row) in dots.chunks_exact(k).enumerate() {
            for ((col, &v), &c2) in cols.iter_mut().zip(row).zip(&norms.sq) {
                col[r] = c2 - two * v;
            }
        }
        for col in cols.iter() {
            for r in 0..SUB_ROWS {
                m1[r] = if col[r] < m1[r] { col[r] } else { m1[r] };
            }
        }
        let mut limit = [F::MAX; SUB_ROWS];
        for ((l, m), &x_norm) in limit.iter_mut().zip(m1).zip(x_norms) {
            let reach = x_norm + norms.max;
            *l = F::from_f64(m.to_f64() + norms.err * reach * reach);
        }
        // How many centres lie in each row's window, and one of them (the one read where it
        // is the only one).
        let (mut count, mut hit_at) = ([0u32; SUB_ROWS], [0u32; SUB_ROWS]);
        for (j, col) in cols.iter().enumerate() {
            for r in 0..SUB_ROWS {
                let hit = col[r] <= limit[r];
                count[r] += u32::from(hit);
                hit_at[r] = if hit { j as u32 } else { hit_at[r] };
            }
        }
        for (r, (slot, xs)) in out.iter_mut().zip(data.chunks_exact(d)).enumerate() {
            *slot = if count[r] == 1 {
                let best = hit_at[r] as usize;
                (best, if distances { sq_dist(xs, &c[best * d..(best + 1) * d]) } else { F::ZERO })
            } else {
                // A near-tie: decide exactly among the centres in the window, as the direct
                // kernel.
                let mut pick = (usize::MAX, F::MAX);
                for (j, col) in cols.iter().enumerate() {
                    if col[r] <= limit[r] {
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
}

/// `dots = block · centersᵀ` (row-major, rows × k) by the `gemm` crate (runtime-dispatched
/// SIMD, one thread: the caller parallelises over blocks). Rounding may differ between kernels;
/// the certified argmin makes the result independent of it.
#[allow(unsafe_code)]
pub(crate) fn dot_products<F: Float>(block: ArrayView2<F>, centers: ArrayView2<F>, dots: &mut [F]) {
    let (m, depth) = block.dim();
    let n = centers.nrows();
    assert!(block.is_standard_layout() && centers.is_standard_layout());
    assert_eq!(centers.ncols(), depth);
    assert_eq!(dots.len(), m * n);
    // SAFETY: the two inputs are standard-layout (row-major, contiguous) arrays whose shapes
    // were checked above, and `dots` holds the m × n product row-major (its length checked
    // above); the strides below describe exactly those layouts (centers read as its transpose:
    // element (p, j) at j·depth + p); `dots` is borrowed mutably and does not alias the inputs,
    // and `read_dst = false` means its old contents are never read.
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
