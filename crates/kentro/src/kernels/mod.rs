//! Distance kernels. Distances are computed directly as `Σ (a − b)²` (not through the
//! `‖a‖² − 2a·b + ‖b‖²` expansion), which is exact to rounding and never negative.
//!
//! The per-pair kernel is written with independent lanes so the compiler vectorises it, and the
//! loops over blocks of rows are compiled several times — for AVX-512, for AVX2+FMA and for the
//! baseline — with the best chosen at run time (`multiversion`): portable binaries, no
//! `-C target-cpu=native`. The direct distances are never reassociated or fused, so every
//! variant computes them bit-identically; the products' approximations ([`gemm`]) fuse where the
//! CPU can and so differ between variants, but only in what the certified argmin absorbs: the
//! labels and the distances given are the same.

pub(crate) mod gemm;
pub(crate) mod lanes;
pub(crate) mod narrow;

use multiversion::multiversion;
use std::sync::OnceLock;

use ndarray::ArrayView2;

use crate::float::Float;
use crate::parallel::par_blocks;

/// Independent partial sums in [`sq_dist`]: one 512-bit register of `f32`.
pub(crate) const LANES: usize = 16;

/// Rows per chunk of the products' path (each chunk decides whether its products run in `f32`).
const GEMM_ROWS: usize = 256;

/// Squared Euclidean distance between two equally long rows.
#[inline(always)]
pub(crate) fn sq_dist<F: Float>(a: &[F], b: &[F]) -> F {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [F::ZERO; LANES];
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            let d = x[l] - y[l];
            acc[l] += d * d;
        }
    }
    let mut tail = F::ZERO;
    for (&x, &y) in ra.iter().zip(rb) {
        let d = x - y;
        tail += d * d;
    }
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            let right = acc[l + width];
            acc[l] += right;
        }
        width /= 2;
    }
    acc[0] + tail
}

/// Squared distance of `a × scale` to `b × scale`, for data whose raw squares would overflow or
/// underflow; `scale` is a power of two, so the scaling itself is exact.
#[inline]
pub(crate) fn sq_dist_scaled<F: Float>(a: &[F], b: &[F], scale: F) -> F {
    let mut acc = F::ZERO;
    for (&x, &y) in a.iter().zip(b) {
        let d = x * scale - y * scale;
        acc += d * d;
    }
    acc
}

/// The nearest of the `k` centres (rows of `centers`, `d` values each) to `x`, and the squared
/// distance to it. Ties go to the lowest index, as in scikit-learn.
#[inline(always)]
pub(crate) fn nearest<F: Float>(x: &[F], centers: &[F], d: usize) -> (usize, F) {
    let mut best = 0;
    let mut best_dist = F::MAX;
    let mut first = true;
    for (j, c) in centers.chunks_exact(d).enumerate() {
        let dist = sq_dist(x, c);
        if first || dist < best_dist {
            best = j;
            best_dist = dist;
            first = false;
        }
    }
    (best, best_dist)
}

/// [`nearest`], with the second smallest squared distance (the nearest centre's own when two
/// tie; `F::MAX` with one centre).
pub(crate) fn nearest_two<F: Float>(x: &[F], centers: &[F], d: usize) -> (usize, F, F) {
    let (mut best, mut best_dist, mut second) = (0, F::MAX, F::MAX);
    for (j, c) in centers.chunks_exact(d).enumerate() {
        let dist = sq_dist(x, c);
        if j == 0 || dist < best_dist {
            second = best_dist;
            best = j;
            best_dist = dist;
        } else if dist < second {
            second = dist;
        }
    }
    (best, best_dist, second)
}

/// [`nearest`] for every row of `rows` (`d` values each).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn nearest_each<F: Float>(rows: &[F], centers: &[F], d: usize, out: &mut [(usize, F)]) {
    let mut done = narrow::nearest_blocks(rows, centers, d, out);
    if done == 0 && d < LANES {
        // Narrow rows: vectorise across rows instead of within one, `ROWS` at a time. For
        // d < LANES, [`sq_dist`] is the plain left-to-right sum, so this is bit-identical.
        const ROWS: usize = 8;
        // The chunk transposed (feature-major), so each feature of 8 rows is one vector.
        let mut columns = vec![[F::ZERO; ROWS]; d];
        for (chunk, o) in rows.chunks_exact(ROWS * d).zip(out.chunks_exact_mut(ROWS)) {
            for (l, x) in chunk.chunks_exact(d).enumerate() {
                for (col, &v) in columns.iter_mut().zip(x) {
                    col[l] = v;
                }
            }
            let mut best = [F::MAX; ROWS];
            let mut index = [0usize; ROWS];
            for (j, c) in centers.chunks_exact(d).enumerate() {
                let mut dist = [F::ZERO; ROWS];
                for (col, &cf) in columns.iter().zip(c) {
                    for l in 0..ROWS {
                        let t = col[l] - cf;
                        dist[l] += t * t;
                    }
                }
                for l in 0..ROWS {
                    if dist[l] < best[l] {
                        best[l] = dist[l];
                        index[l] = j;
                    }
                }
            }
            for l in 0..ROWS {
                o[l] = (index[l], best[l]);
            }
            done += ROWS;
        }
    }
    for (slot, x) in out[done..].iter_mut().zip(rows[done * d..].chunks_exact(d)) {
        *slot = nearest(x, centers, d);
    }
}

/// How a block of rows finds its nearest centres: directly (small `d·k`) or through products
/// with a certified argmin (large `d·k`). Every way gives identical labels, and identical
/// distances where these are asked for ([`Assigner::nearest_rows`]).
pub(crate) enum Assigner<'a, F: Float> {
    /// One direct distance per (row, centre).
    Direct(ArrayView2<'a, F>),
    /// `‖c‖² − 2 x·c` in `F`, near-ties recomputed directly.
    Gemm(ArrayView2<'a, F>, gemm::CenterNorms<F>),
    /// `‖c‖² − 2 x·c` in `f32` for `f64` rows (twice the lanes; a wider window), near-ties
    /// recomputed directly in `F`; blocks of rows whose magnitudes `f32` does not take run in
    /// `F` (the second norms, made by the first such block).
    GemmF32(ArrayView2<'a, F>, gemm::CenterNorms<f32>, OnceLock<gemm::CenterNorms<F>>),
}

impl<'a, F: Float> Assigner<'a, F> {
    /// The faster way for these centres (standard layout).
    pub(crate) fn new(centers: ArrayView2<'a, F>) -> Self {
        let (k, d) = centers.dim();
        if !use_gemm(d, k) {
            Assigner::Direct(centers)
        } else if std::mem::size_of::<F>() == 8 {
            Self::with_gemm_f32(centers)
        } else {
            Self::with_gemm(centers)
        }
    }

    /// Products in `F`, whatever the shape.
    pub(crate) fn with_gemm(centers: ArrayView2<'a, F>) -> Self {
        Assigner::Gemm(centers, gemm::CenterNorms::new(centers))
    }

    /// Products in `f32`, whatever the shape.
    pub(crate) fn with_gemm_f32(centers: ArrayView2<'a, F>) -> Self {
        Assigner::GemmF32(centers, gemm::CenterNorms::new(centers), OnceLock::new())
    }

    /// Nearest centre and direct squared distance for every row of `block` (standard layout);
    /// `x_norms` gives ‖x‖ per row (the matrix-product path needs it). Without `distances`, the
    /// matrix-product path leaves the distance of a row whose nearest centre is clear at zero
    /// (the labels are the same either way).
    pub(crate) fn nearest_rows(
        &self,
        block: ArrayView2<F>,
        x_norms: &[f64],
        out: &mut [(usize, F)],
        distances: bool,
        pre: Option<&[f32]>,
    ) {
        match self {
            Assigner::Direct(centers) => nearest_each(
                block.as_slice().expect("standard layout"),
                centers.as_slice().expect("standard layout"),
                centers.ncols(),
                out,
            ),
            _ => self.by_products(block, x_norms, out, distances, gemm::Bounds::No, pre),
        }
    }

    /// The matrix-product ways of [`Assigner::nearest_rows`] and
    /// [`Assigner::nearest_rows_and_bounds`], over chunks of rows that keep the scratch in cache.
    /// `pre`: the block's rows in the kernel's `f32` layout ([`gemm::columns_f32`]).
    fn by_products(
        &self,
        block: ArrayView2<F>,
        x_norms: &[f64],
        out: &mut [(usize, F)],
        distances: bool,
        mut lower: gemm::Bounds,
        pre: Option<&[f32]>,
    ) {
        let (k, d) = match self {
            Assigner::Direct(c) | Assigner::Gemm(c, _) | Assigner::GemmF32(c, _, _) => c.dim(),
        };
        let (mut scratch, mut scratch32) = (gemm::Scratch::new(), gemm::Scratch::new());
        let chunks = block.axis_chunks_iter(ndarray::Axis(0), GEMM_ROWS);
        for (i, ((rows, norms_part), out_part)) in
            chunks.zip(x_norms.chunks(GEMM_ROWS)).zip(out.chunks_mut(GEMM_ROWS)).enumerate()
        {
            let (first, end) = (i * GEMM_ROWS, i * GEMM_ROWS + rows.nrows());
            let lower = lower.rows(first, end, k);
            let (scratch, scratch32) = (&mut scratch, &mut scratch32);
            match self {
                Assigner::Direct(_) => unreachable!("the direct way takes no products"),
                Assigner::Gemm(c, norms) => gemm::nearest_block(
                    rows, norms_part, *c, norms, scratch, out_part, distances, lower, None,
                ),
                Assigner::GemmF32(c, norms32, norms) => {
                    let max_norm = norms_part.iter().fold(0.0f64, |m, &v| m.max(v));
                    if norms32.takes(max_norm) {
                        let pre = pre.map(|p| &p[first * d..end.next_multiple_of(gemm::COLUMN_ROWS) * d]);
                        gemm::nearest_block(
                            rows, norms_part, *c, norms32, scratch32, out_part, distances, lower, pre,
                        )
                    } else {
                        let norms = norms.get_or_init(|| gemm::CenterNorms::new(*c));
                        gemm::nearest_block(
                            rows, norms_part, *c, norms, scratch, out_part, distances, lower, None,
                        )
                    }
                }
            }
        }
    }
}

impl<F: Float> Assigner<'_, F> {
    /// [`Assigner::nearest_rows`], and also a lower bound on the squared distance of every row
    /// to every centre (`lb_sq`, rows × k): the start of the bound-based algorithms.
    pub(crate) fn nearest_rows_and_bounds(
        &self,
        block: ArrayView2<F>,
        x_norms: &[f64],
        out: &mut [(usize, F)],
        lb_sq: &mut [f64],
        pre: Option<&[f32]>,
    ) {
        match self {
            Assigner::Direct(centers) => {
                let c = centers.as_slice().expect("standard layout");
                let (k, d) = centers.dim();
                let rows = block.as_slice().expect("standard layout");
                all_distances(rows, c, d, lb_sq);
                for (slot, lb) in out.iter_mut().zip(lb_sq.chunks_exact(k)) {
                    let best = first_smallest(lb);
                    *slot = (best, F::from_f64(lb[best]));
                }
            }
            _ => self.by_products(block, x_norms, out, true, gemm::Bounds::All(lb_sq), pre),
        }
    }

    /// Bounds on the squared distance of every row to every centre: a lower bound (`lb_sq`,
    /// rows × k) and, per row, a width (`width`) such that every squared distance of the row
    /// lies in `lb ..= lb + width`, up to the rounding of a direct distance (which the callers'
    /// allowance for rounding covers; the direct way gives the direct distances and a width of
    /// zero).
    pub(crate) fn bounds_around(
        &self,
        block: ArrayView2<F>,
        x_norms: &[f64],
        lb_sq: &mut [f64],
        width: &mut [f64],
        pre: Option<&[f32]>,
    ) {
        match self {
            Assigner::Direct(centers) => {
                let rows = block.as_slice().expect("standard layout");
                all_distances(rows, centers.as_slice().expect("standard layout"), centers.ncols(), lb_sq);
                width.fill(0.0);
            }
            _ => {
                // The kernel's nearest centres, left unresolved ([`gemm::Bounds::Around`]).
                let mut out = vec![(0usize, F::ZERO); block.nrows()];
                self.by_products(block, x_norms, &mut out, false, gemm::Bounds::Around(lb_sq, width), pre)
            }
        }
    }

    /// [`Assigner::nearest_rows`], and also Hamerly's two bounds per row: an upper bound on the
    /// squared distance to its nearest centre (`upper_sq`) and a lower bound on the squared
    /// distance to every other centre (`lower_sq`).
    pub(crate) fn nearest_rows_and_pair(
        &self,
        block: ArrayView2<F>,
        x_norms: &[f64],
        out: &mut [(usize, F)],
        distances: bool,
        upper_sq: &mut [f64],
        lower_sq: &mut [f64],
        pre: Option<&[f32]>,
    ) {
        match self {
            Assigner::Direct(centers) => {
                let c = centers.as_slice().expect("standard layout");
                let (k, d) = centers.dim();
                let rows = block.as_slice().expect("standard layout");
                let mut all = vec![0.0f64; k];
                for (((slot, xi), up), low) in
                    out.iter_mut().zip(rows.chunks_exact(d)).zip(upper_sq.iter_mut()).zip(lower_sq.iter_mut())
                {
                    all_distances(xi, c, d, &mut all);
                    let best = first_smallest(&all);
                    *slot = (best, F::from_f64(all[best]));
                    *up = all[best];
                    *low = all
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != best)
                        .fold(f64::MAX, |m, (_, &v)| m.min(v));
                }
            }
            _ => {
                self.by_products(block, x_norms, out, distances, gemm::Bounds::Pair(upper_sq, lower_sq), pre)
            }
        }
    }
}

/// The index of the first smallest of `v`: the same choice as `nearest`'s among direct
/// distances.
fn first_smallest(v: &[f64]) -> usize {
    let mut best = 0;
    for (j, &x) in v.iter().enumerate() {
        if x < v[best] {
            best = j;
        }
    }
    best
}

/// Direct squared distances of every row to every centre, as `f64` (exact conversions of the
/// `F` values the direct kernel computes).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn all_distances<F: Float>(rows: &[F], centers: &[F], d: usize, out: &mut [f64]) {
    let k = centers.len() / d;
    for (x, o) in rows.chunks_exact(d).zip(out.chunks_exact_mut(k)) {
        for (slot, c) in o.iter_mut().zip(centers.chunks_exact(d)) {
            *slot = sq_dist(x, c).to_f64();
        }
    }
}

/// ‖x‖ of every row (standard layout), for [`Assigner::nearest_rows`]: the squares summed in
/// `F` in the lanes of [`sq_dist`], in parallel over fixed blocks of rows.
pub(crate) fn row_norms<F: Float>(x: ArrayView2<F>) -> Vec<f64> {
    let (n, d) = x.dim();
    let data = x.as_slice().expect("standard layout");
    let mut out = vec![0.0f64; n];
    if d > 0 {
        par_blocks(n, 1, &mut out, &|s, _e, o: &mut [f64]| norms_of(&data[s * d..], d, o), &|_, _| {});
    }
    out
}

/// ‖x‖ of the rows of `rows` (`d` values each), one per slot of `out`.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
pub(crate) fn norms_of<F: Float>(rows: &[F], d: usize, out: &mut [f64]) {
    // `x − 0` is `x`: the distance to the origin is the sum of squares.
    let origin = vec![F::ZERO; d];
    for (slot, r) in out.iter_mut().zip(rows.chunks_exact(d)) {
        *slot = sq_dist(r, &origin).to_f64().sqrt();
    }
}

/// Whether the matrix-product path pays for this shape (measured crossover).
pub(crate) fn use_gemm(d: usize, k: usize) -> bool {
    d >= 16 && k >= 8 && d * k >= 256
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    #[test]
    fn sq_dist_matches_reference_for_every_length() {
        for d in 0..70 {
            let a: Vec<f64> = (0..d).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..d).map(|i| (i as f64 * 0.11).cos()).collect();
            let got = sq_dist(&a, &b);
            let want = reference(&a, &b);
            assert!((got - want).abs() <= 1e-12 * want.max(1.0), "d={d}");
            let scaled = sq_dist_scaled(&a, &b, 0.5);
            assert!((scaled - want / 4.0).abs() <= 1e-12 * want.max(1.0));
        }
    }

    #[test]
    fn nearest_prefers_lowest_index_on_ties() {
        let centers = [1.0f64, 0.0, -1.0, 0.0, 1.0, 0.0];
        let (j, d) = nearest(&[0.0, 0.0], &centers, 2);
        assert_eq!((j, d), (0, 1.0));
        let (j, _) = nearest(&[-0.9f32, 0.0], &[1.0, 0.0, -1.0, 0.0], 2);
        assert_eq!(j, 1);
    }

    /// The GEMM path with its certified argmin gives exactly the direct kernel's labels and
    /// distances, including on exact ties (duplicated centres) and near-ties.
    fn gemm_equals_direct<F: Float>() {
        let mut rng = crate::numpy_random::NumpyRandom::new(17);
        let shapes = [
            (300usize, 16usize, 8usize),
            (600, 40, 33),
            (257, 128, 64),
            (100, 3, 5),
            (77, 64, 10),
            (150, 21, 9),
            // A last group of three centres, and one of two with an odd width.
            (130, 17, 7),
            (90, 19, 6),
            // Wide rows (groups of eight centres): a last group of five, seven, four, three.
            (120, 64, 13),
            (95, 70, 15),
            (60, 66, 4),
            (50, 65, 11),
        ];
        // Magnitudes `f32` products take, and (for f64 data) some that overflow or underflow
        // them: those blocks run in f64.
        let scales: &[(f64, usize)] = if F::MAX_EXP > 128 {
            &[(1.0, 12), (2f64.powi(70), 2), (2f64.powi(-70), 2)]
        } else {
            &[(1.0, 12)]
        };
        for (scale, shapes) in scales.iter().map(|&(s, m)| (s, &shapes[..m])) {
            for &(n, d, k) in shapes {
                let what = format!("n={n} d={d} k={k} scale={scale:e}");
                let mut draw = || F::from_f64(rng.standard_normal() * 3.0 * scale);
                let x = ndarray::Array2::from_shape_fn((n, d), |_| draw());
                let mut c = ndarray::Array2::from_shape_fn((k, d), |_| draw());
                // An exact duplicate and a near-duplicate centre, and centres equal to data rows.
                let row1 = c.row(1).to_owned();
                c.row_mut(k - 1).assign(&row1);
                let near = row1.mapv(|v| v + v * F::from_f64(1e-7));
                c.row_mut(k - 2).assign(&near);
                c.row_mut(0).assign(&x.row(5));
                let norms = row_norms(x.view());
                let mut b = vec![(0, F::ZERO); n];
                for (slot, row) in b.iter_mut().zip(x.outer_iter()) {
                    *slot = nearest(row.as_slice().unwrap(), c.as_slice().unwrap(), d);
                }
                // Products in F; in f32, the rows transposed block by block or kept transposed.
                let (kept, _) = gemm::columns_f32(x.view(), false);
                for (way, assigner, pre) in [
                    ("F", Assigner::with_gemm(c.view()), None),
                    ("f32", Assigner::with_gemm_f32(c.view()), None),
                    ("f32, kept", Assigner::with_gemm_f32(c.view()), Some(kept.as_slice())),
                    ("none (direct)", Assigner::Direct(c.view()), None),
                ] {
                    let what = format!("{what} products in {way}");
                    let mut a = vec![(0, F::ZERO); n];
                    assigner.nearest_rows(x.view(), &norms, &mut a, true, pre);
                    assert_eq!(a, b, "{what}");
                    assigner.nearest_rows(x.view(), &norms, &mut a, false, pre);
                    let labels = |v: &[(usize, F)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
                    assert_eq!(labels(&a), labels(&b), "labels alone, {what}");
                    // A distance left out is zero; one given (a near-tie's) is the direct kernel's.
                    assert!(a.iter().zip(&b).all(|(x, y)| x.1 == F::ZERO || x.1 == y.1), "{what}");
                    // With bounds: the same nearest, and every bound at most the direct distance.
                    let mut lb = vec![0.0f64; n * k];
                    assigner.nearest_rows_and_bounds(x.view(), &norms, &mut a, &mut lb, pre);
                    assert_eq!(a, b, "with bounds, {what}");
                    for (row, lb) in x.outer_iter().zip(lb.chunks_exact(k)) {
                        for (cj, &l) in c.outer_iter().zip(lb) {
                            let direct = sq_dist(row.as_slice().unwrap(), cj.as_slice().unwrap()).to_f64();
                            assert!(l <= direct, "bound {l} above {direct}, {what}");
                        }
                    }
                    // Bounds around every distance: each direct distance between the lower bound
                    // and the lower bound plus the width (the direct way: the distance itself).
                    let (mut around, mut width) = (vec![0.0f64; n * k], vec![0.0f64; n]);
                    assigner.bounds_around(x.view(), &norms, &mut around, &mut width, pre);
                    for ((row, lb), &w) in x.outer_iter().zip(around.chunks_exact(k)).zip(&width) {
                        for (cj, &l) in c.outer_iter().zip(lb) {
                            let direct = sq_dist(row.as_slice().unwrap(), cj.as_slice().unwrap()).to_f64();
                            assert!(l <= direct && direct <= l + w, "{direct} not in {l} + {w}, {what}");
                        }
                    }
                    // Hamerly's pair: the same nearest; the upper bound at least the distance to
                    // it, the lower at most the distance to every other centre.
                    let (mut up, mut low) = (vec![0.0f64; n], vec![0.0f64; n]);
                    assigner.nearest_rows_and_pair(x.view(), &norms, &mut a, true, &mut up, &mut low, pre);
                    assert_eq!(a, b, "with the pair, {what}");
                    for (((row, &(label, _)), &u), &l) in x.outer_iter().zip(&b).zip(&up).zip(&low) {
                        for (j, cj) in c.outer_iter().enumerate() {
                            let direct = sq_dist(row.as_slice().unwrap(), cj.as_slice().unwrap()).to_f64();
                            if j == label {
                                assert!(u >= direct, "upper {u} below {direct}, {what}");
                            } else {
                                assert!(l <= direct, "lower {l} above {direct}, {what}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// The nearest two distances of a block of narrow rows: the nearest centre and its distance
    /// bit for bit as the per-row kernel's, the second smallest distance that of a sort (the
    /// nearest's own on a tie), in f64 and f32, on a coarse grid (ties) with duplicated centres;
    /// [`nearest_two`] the same for single rows.
    #[test]
    fn nearest_two_equals_sorting_the_distances() {
        fn check<F: Float>(x: &[F], c: &[F], d: usize) {
            let k = c.len() / d;
            let Some(rows) = narrow::two_block_rows::<F>(d, k) else { return };
            let mut block = vec![(0, F::ZERO, F::ZERO); rows];
            for chunk in x.chunks_exact(rows * d) {
                narrow::nearest_two_block(chunk, c, d, &mut block);
                for (row, &got) in chunk.chunks_exact(d).zip(&block) {
                    let (label, best) = nearest(row, c, d);
                    let mut all: Vec<F> = c.chunks_exact(d).map(|cj| sq_dist(row, cj)).collect();
                    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
                    let second = all.get(1).copied().unwrap_or(F::MAX);
                    assert_eq!(got, (label, best, second), "d={d} k={k}");
                    assert_eq!(nearest_two(row, c, d), got, "d={d} k={k}");
                }
            }
        }
        let mut rng = crate::rng::Rng::new(11);
        for d in 1..=narrow::MAX_FEATURES {
            for k in [1usize, 2, 3, 9, 64] {
                let n = 48;
                let x: Vec<f64> = (0..n * d).map(|_| (rng.below(5) as f64) * 0.5).collect();
                let mut c: Vec<f64> = (0..k * d).map(|_| (rng.below(5) as f64) * 0.5).collect();
                if k > 2 {
                    c.copy_within(0..d, (k - 1) * d);
                }
                check(&x, &c, d);
                let x32: Vec<f32> = x.iter().map(|&v| v as f32 + 0.1).collect();
                let c32: Vec<f32> = c.iter().map(|&v| v as f32).collect();
                check(&x32, &c32, d);
            }
        }
    }

    /// The across-rows kernels for narrow data (every feature count of `narrow`, then the
    /// generic one) equal the per-row kernel bit for bit, ties included: whole blocks of 8 and 16
    /// rows and the rows left after them.
    #[test]
    fn narrow_rows_equal_the_per_row_kernel() {
        let mut rng = crate::rng::Rng::new(5);
        for d in 1..20 {
            for (k, n) in [(1usize, 37usize), (3, 37), (8, 37), (17, 37), (64, 101), (130, 70)] {
                // Values on a coarse grid, so that ties happen, and duplicated centres.
                let x: Vec<f64> = (0..n * d).map(|_| (rng.below(5) as f64) * 0.5).collect();
                let mut c: Vec<f64> = (0..k * d).map(|_| (rng.below(5) as f64) * 0.5).collect();
                if k > 2 {
                    c.copy_within(0..d, (k - 1) * d);
                    c.copy_within(d..2 * d, (k / 2) * d);
                }
                let mut got = vec![(0, 0.0); n];
                nearest_each(&x, &c, d, &mut got);
                let want: Vec<_> = x.chunks_exact(d).map(|r| nearest(r, &c, d)).collect();
                assert_eq!(got, want, "d={d} k={k}");
                let x32: Vec<f32> = x.iter().map(|&v| v as f32 + 0.1).collect();
                let c32: Vec<f32> = c.iter().map(|&v| v as f32).collect();
                let mut got32 = vec![(0, 0.0f32); n];
                nearest_each(&x32, &c32, d, &mut got32);
                let want32: Vec<_> = x32.chunks_exact(d).map(|r| nearest(r, &c32, d)).collect();
                assert_eq!(got32, want32, "f32 d={d} k={k}");
            }
        }
    }

    /// Rows and centres near the bottom of `f32`'s range, two large rows in the same block (so
    /// the `f32` products take them), and near-duplicate centres: the labels are still the
    /// direct kernel's and no lower bound exceeds a direct distance (the window's absolute
    /// part).
    fn tiny_values_beside_large_ones<F: Float>() {
        let mut rng = crate::numpy_random::NumpyRandom::new(3);
        let (n, d, k) = (256usize, 16usize, 16usize);
        let tiny = 2f64.powi(-70);
        let mut x = ndarray::Array2::from_shape_fn((n, d), |_| F::from_f64(rng.standard_normal() * tiny));
        x[[0, 0]] = F::ONE;
        x[[1, 0]] = -F::ONE;
        let mut c = ndarray::Array2::from_shape_fn((k, d), |_| F::from_f64(rng.standard_normal() * tiny));
        for j in 8..k {
            let f = F::from_f64(1.0 + (j as f64 - 11.5) * 2f64.powi(-9));
            let base = c.row(j - 8).to_owned();
            c.row_mut(j).assign(&base.mapv(|v| v * f));
        }
        let norms = row_norms(x.view());
        let want: Vec<(usize, F)> =
            x.outer_iter().map(|r| nearest(r.as_slice().unwrap(), c.as_slice().unwrap(), d)).collect();
        for assigner in
            [Assigner::new(c.view()), Assigner::with_gemm(c.view()), Assigner::with_gemm_f32(c.view())]
        {
            let mut got = vec![(0, F::ZERO); n];
            assigner.nearest_rows(x.view(), &norms, &mut got, true, None);
            assert_eq!(got, want, "{}", F::DTYPE);
            let mut lb = vec![0.0f64; n * k];
            assigner.nearest_rows_and_bounds(x.view(), &norms, &mut got, &mut lb, None);
            assert_eq!(got, want, "with bounds, {}", F::DTYPE);
            for (row, lb) in x.outer_iter().zip(lb.chunks_exact(k)) {
                for (cj, &l) in c.outer_iter().zip(lb) {
                    let direct = sq_dist(row.as_slice().unwrap(), cj.as_slice().unwrap()).to_f64();
                    assert!(l <= direct, "bound {l:e} above {direct:e}, {}", F::DTYPE);
                }
            }
        }
    }

    #[test]
    fn tiny_values_beside_large_ones_keep_labels_and_bounds() {
        tiny_values_beside_large_ones::<f64>();
        tiny_values_beside_large_ones::<f32>();
    }

    #[test]
    fn gemm_equals_direct_f64() {
        gemm_equals_direct::<f64>();
    }

    #[test]
    fn gemm_equals_direct_f32() {
        gemm_equals_direct::<f32>();
    }
}
