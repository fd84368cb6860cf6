//! Assignment through products: for a block of rows, `‖c‖² − 2 x·c` for every centre at once
//! in a register-tiled kernel with the argmin fused in (the products of a few rows and a few
//! centres are reduced as they leave the registers; they are also stored, centre-major, for the
//! rows that need a second look and for lower bounds), then a *certified* decision:
//! every centre whose approximate distance lies within the rounding-error window of the
//! minimum is recomputed directly, so the label is exactly the one the direct kernel
//! ([`nearest`](super::nearest)) gives.
//!
//! The kernel holds one feature of a sub-block's rows (16 `f64` or 32 `f32`, the rows
//! transposed, feature-major) in two 512-bit registers (four 256-bit ones with AVX2) and
//! broadcasts one feature of each of a group of centres into them (the centres packed group by
//! group, feature-major, once per iteration). Per centre it keeps each row's smallest and
//! second smallest approximation and the index of the smallest: a row whose second smallest
//! lies outside the window of its smallest is decided without a second look.

use ndarray::ArrayView2;

use multiversion::multiversion;
use multiversion::target::match_target;

use super::sq_dist;
use crate::float::Float;
use crate::parallel::{Rows, par_blocks_sized};

/// Centres whose products run together: one broadcast each per feature, `GROUP` × 2
/// accumulators (with the two vectors of rows) in registers; [`WIDE_GROUP`] from
/// [`WIDE_GROUP_MIN_FEATURES`] features on where the CPU has AVX-512 (32 registers: sixteen
/// accumulators), where the longer loop over the features pays for the larger group. The labels
/// do not depend on the group (each product sums its features in the same order). Measured
/// (`examples/tiny_fit.rs`, wall ms, two threads, alternating builds, 4 / 8 centres per group):
/// blobs 100k × 128, k = 256, Lloyd from the k-means++ start for 5 iterations (6 passes of
/// products): 256–277 / 248–258; uniform 500k × 16, k = 100, the filtered passes from the start
/// for 60 iterations: 779–836 / 940–945.
const GROUP: usize = 4;
/// See [`GROUP`].
const WIDE_GROUP: usize = 8;
/// See [`GROUP`].
const WIDE_GROUP_MIN_FEATURES: usize = 64;

/// Rows of a sub-block for `F`: two 512-bit registers (16 `f64`, 32 `f32`).
const fn sub_rows<F>() -> usize {
    128 / std::mem::size_of::<F>()
}

/// Per-iteration facts about the centres that every block needs, and the centres packed for the
/// kernel, in the type `G` the products are computed in (the data's own type, or `f32` for
/// `f64` data: twice the lanes, and a wider window).
pub(crate) struct CenterNorms<G> {
    /// Number of centres.
    k: usize,
    /// Centres per group of the kernel ([`GROUP`] or [`WIDE_GROUP`]).
    group: usize,
    /// ‖c_j‖² per centre (summed in `f64`, then rounded), then a huge value for each padding
    /// centre up to a whole group.
    sq: Vec<G>,
    /// The centres times −2 (exact: a power of two) by groups of `group`, feature-major
    /// within a group: feature `p` of centre `g·group + m` at `(g·d + p)·group + m` (padding
    /// centres are zero).
    packed: Vec<G>,
    /// max_j ‖c_j‖.
    max: f64,
    /// Relative error factor of the window: 4·(γ_{d+4} + γ_d + 4u) (twice the error of one
    /// approximate distance, and of the direct one, the conversion of rows and centres to `G`
    /// included).
    err: f64,
    /// Its absolute part, for values that fall below `G`'s normal range (where rounding errs by
    /// up to half the subnormal spacing, `u · MIN_POSITIVE`, whatever the value): per unit of
    /// reach (the conversions of the `d` features of a row and a centre: √d · reach each, twice
    /// over) and fixed (the `d + 4` sums and roundings), eight times over.
    tiny_per_reach: f64,
    tiny: f64,
}

impl<G: Float> CenterNorms<G> {
    pub(crate) fn new<F: Float>(centers: ArrayView2<F>) -> Self {
        let (k, d) = centers.dim();
        let wide = d >= WIDE_GROUP_MIN_FEATURES && super::lanes::avx512_available();
        let group = if wide { WIDE_GROUP } else { GROUP };
        let groups = k.div_ceil(group);
        let sq64: Vec<f64> =
            centers.outer_iter().map(|c| c.iter().map(|&v| v.to_f64() * v.to_f64()).sum()).collect();
        let max = sq64.iter().fold(0.0f64, |m, &v| m.max(v)).sqrt();
        let mut sq: Vec<G> = sq64.iter().map(|&v| G::from_f64(v)).collect();
        // Padding up to a whole group (the kernel computes only real centres; this value
        // would never be the smallest of a row, nor within any window of one).
        sq.resize(groups * group, G::MAX / (G::ONE + G::ONE + G::ONE + G::ONE));
        let mut packed = vec![G::ZERO; groups * group * d];
        for (j, c) in centers.outer_iter().enumerate() {
            let (g, m) = (j / group, j % group);
            for (p, &v) in c.iter().enumerate() {
                let v = G::from_f64(v.to_f64());
                packed[(g * d + p) * group + m] = -(v + v);
            }
        }
        let u = G::UNIT_ROUNDOFF;
        let gamma = |n: usize| (n as f64 * u) / (1.0 - n as f64 * u);
        // Twice the sum of both error terms, so the window is safe on both sides of the minimum.
        let err = 4.0 * (gamma(d + 4) + gamma(d) + 4.0 * u);
        let half_spacing = u * G::MIN_POSITIVE;
        let (tiny_per_reach, tiny) =
            (8.0 * half_spacing * 2.0 * (d as f64).sqrt(), 8.0 * half_spacing * (d + 4) as f64);
        CenterNorms { k, group, sq, packed, max, err, tiny_per_reach, tiny }
    }

    /// Whether rows of norm up to `max_x_norm` may be measured in `G`: their reach
    /// (`‖x‖ + max ‖c‖`) within [2⁻²⁰, 2⁴⁰], so that no product overflows `G` (what underflows
    /// is covered by the window's absolute part, for rows of any size).
    pub(crate) fn takes(&self, max_x_norm: f64) -> bool {
        let reach = max_x_norm + self.max;
        (2f64.powi(-20)..=2f64.powi(40)).contains(&reach)
    }

    /// Half-width of the rounding-error window of a row with norm `x_norm`, in squared units:
    /// `|(‖c‖² − 2 x·c) + ‖x‖² − ‖x − c‖²|` is below it for every centre.
    pub(crate) fn window(&self, x_norm: f64) -> f64 {
        let reach = x_norm + self.max;
        self.err * reach * reach + self.tiny_per_reach * reach + self.tiny
    }
}

/// Scratch space for one block: a sub-block's rows transposed (`d` × [`sub_rows`]; left empty
/// when the rows come already in that layout) and its approximations `‖c‖² − 2 x·c`
/// centre-major (`k` × [`sub_rows`], room for the padding centres too, never written), read
/// for near-ties and lower bounds.
pub(crate) struct Scratch<F> {
    columns: Vec<F>,
    approx: Vec<F>,
}

impl<F: Float> Scratch<F> {
    pub(crate) fn new() -> Self {
        Scratch { columns: Vec::new(), approx: Vec::new() }
    }
}

/// Bounds [`nearest_block`] may also give, from the products' approximations.
pub(crate) enum Bounds<'a> {
    /// None.
    No,
    /// A lower bound on the squared distance of every row to every centre (rows × k,
    /// row-major).
    All(&'a mut [f64]),
    /// [`Bounds::All`]'s lower bounds, and per row how far above them every squared distance
    /// may lie (a squared distance lies in `lower ..= lower + width`).
    Around(&'a mut [f64], &'a mut [f64]),
    /// Hamerly's two per row: an upper bound on the squared distance to its nearest centre and
    /// a lower bound on the squared distance to every other centre.
    Pair(&'a mut [f64], &'a mut [f64]),
}

impl Bounds<'_> {
    /// The bounds of rows `first..end` (of `k` centres).
    pub(crate) fn rows(&mut self, first: usize, end: usize, k: usize) -> Bounds<'_> {
        match self {
            Bounds::No => Bounds::No,
            Bounds::All(lb) => Bounds::All(&mut lb[first * k..end * k]),
            Bounds::Around(lb, width) => Bounds::Around(&mut lb[first * k..end * k], &mut width[first..end]),
            Bounds::Pair(up, low) => Bounds::Pair(&mut up[first..end], &mut low[first..end]),
        }
    }
}

/// Nearest centre and direct squared distance for each row of `block`, written to `out`.
/// `x_norms` holds ‖x‖ of each row. Ties go to the lowest index, exactly as the direct kernel.
/// Without `distances`, a row whose window holds one centre gets the distance zero. With
/// `lower`, also bounds ([`Bounds`]). `pre`: the block's rows already in the kernel's layout
/// ([`columns_f32`]; the block starts on a sub-block's first row).
pub(crate) fn nearest_block<F: Float, G: Float>(
    block: ArrayView2<F>,
    x_norms: &[f64],
    centers: ArrayView2<F>,
    norms: &CenterNorms<G>,
    scratch: &mut Scratch<G>,
    out: &mut [(usize, F)],
    distances: bool,
    lower: Bounds,
    pre: Option<&[G]>,
) {
    let (rows, d) = block.dim();
    debug_assert!(x_norms.len() == rows && out.len() == rows, "one norm and one slot per row");
    debug_assert!(u32::try_from(norms.sq.len()).is_ok(), "centre indices fit the argmin's u32 lanes");
    let data = block.as_slice().expect("standard layout");
    let c = centers.as_slice().expect("standard layout");
    let s = sub_rows::<G>();
    if pre.is_none() {
        scratch.columns.resize(d * s, G::ZERO);
    }
    scratch.approx.resize(norms.sq.len() * s, G::ZERO);
    let (columns, approx) = (&mut scratch.columns, &mut scratch.approx);
    match (s, norms.group) {
        (16, GROUP) => {
            fused::<F, G, 16, GROUP>(data, x_norms, c, norms, columns, approx, out, distances, lower, pre)
        }
        (16, _) => fused::<F, G, 16, WIDE_GROUP>(
            data, x_norms, c, norms, columns, approx, out, distances, lower, pre,
        ),
        (_, GROUP) => {
            fused::<F, G, 32, GROUP>(data, x_norms, c, norms, columns, approx, out, distances, lower, pre)
        }
        _ => fused::<F, G, 32, WIDE_GROUP>(
            data, x_norms, c, norms, columns, approx, out, distances, lower, pre,
        ),
    }
}

/// The kernel of [`nearest_block`] for sub-blocks of `S` rows and groups of `GR` centres.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn fused<F: Float, G: Float, const S: usize, const GR: usize>(
    data: &[F],
    x_norms: &[f64],
    c: &[F],
    norms: &CenterNorms<G>,
    columns: &mut [G],
    approx: &mut [G],
    out: &mut [(usize, F)],
    distances: bool,
    mut lower: Bounds,
    pre: Option<&[G]>,
) {
    // One rounding per product where the CPU fuses it; two elsewhere (both within the error
    // bound of the window).
    let fma = match_target! { "x86_64+fma" => true, _ => false };
    let k = norms.k;
    let d = c.len() / k.max(1);
    let (columns, _) = columns.as_chunks_mut::<S>();
    let (approx, _) = approx.as_chunks_mut::<S>();
    for (sub, ((out, x_norms), data)) in
        out.chunks_mut(S).zip(x_norms.chunks(S)).zip(data.chunks(S * d)).enumerate()
    {
        let rows = out.len();
        let columns: &[[G; S]] = match pre {
            // Transposed once for the whole fit ([`columns_f32`]).
            Some(pre) => pre[sub * S * d..(sub + 1) * S * d].as_chunks::<S>().0,
            None => {
                transpose(data, d, rows, columns);
                columns
            }
        };
        let mut best = [G::MAX; S];
        let mut second = [G::MAX; S];
        let mut at = [0u32; S];
        for (g, (group, (c2, approx))) in norms
            .packed
            .chunks_exact(d * GR)
            .zip(norms.sq.chunks_exact(GR).zip(approx.chunks_exact_mut(GR)))
            .enumerate()
        {
            // The last group may hold fewer centres than `GR`: only theirs are computed.
            let (first, ours) = (g * GR, (k - g * GR).min(GR));
            let group = Group::<G, S, GR> { columns, centers: group, c2, first, fma };
            let (best, second, at) = (&mut best, &mut second, &mut at);
            match ours {
                WIDE_GROUP => group.reduce::<WIDE_GROUP, 1>(approx, best, second, at),
                7 => group.reduce::<7, 1>(approx, best, second, at),
                6 => group.reduce::<6, 1>(approx, best, second, at),
                5 => group.reduce::<5, 1>(approx, best, second, at),
                4 => group.reduce::<4, 1>(approx, best, second, at),
                3 => group.reduce::<3, 1>(approx, best, second, at),
                // Too few accumulators to fill the pipelines: two sets, over alternate features.
                2 => group.reduce::<2, 2>(approx, best, second, at),
                _ => group.reduce::<1, 2>(approx, best, second, at),
            }
        }
        // [`Bounds::Around`] asks for bounds only: the nearest centres are left unresolved.
        let rows_out = if matches!(lower, Bounds::Around(..)) { &mut out[..0] } else { &mut out[..] };
        for (r, ((slot, xs), &x_norm)) in
            rows_out.iter_mut().zip(data.chunks_exact(d)).zip(x_norms).enumerate()
        {
            let window = norms.window(x_norm);
            *slot = if second[r].to_f64() > best[r].to_f64() + window {
                let j = at[r] as usize;
                (j, if distances { sq_dist(xs, &c[j * d..(j + 1) * d]) } else { F::ZERO })
            } else {
                // A near-tie: decide exactly among the centres in the window, as the direct
                // kernel.
                let limit = G::from_f64(best[r].to_f64() + window);
                let mut pick = (usize::MAX, F::MAX);
                for (j, a) in approx[..k].iter().enumerate() {
                    if a[r] <= limit {
                        let dist = sq_dist(xs, &c[j * d..(j + 1) * d]);
                        if pick.0 == usize::MAX || dist < pick.1 {
                            pick = (j, dist);
                        }
                    }
                }
                pick
            };
        }
        match &mut lower {
            Bounds::No => {}
            Bounds::All(lower) => lower_bounds(&mut lower[sub * S * k..], x_norms, norms, &approx[..k], None),
            Bounds::Around(lower, width) => lower_bounds(
                &mut lower[sub * S * k..],
                x_norms,
                norms,
                &approx[..k],
                Some(&mut width[sub * S..]),
            ),
            Bounds::Pair(upper, lower) => {
                let bounds = upper[sub * S..].iter_mut().zip(&mut lower[sub * S..]);
                for (r, ((up, low), (&x_norm, &(label, _)))) in
                    bounds.zip(x_norms.iter().zip(out.iter())).enumerate()
                {
                    let (sq, window) = (x_norm * x_norm, norms.window(x_norm));
                    // The nearest is at most as far as the smallest approximation's centre, whose
                    // distance is within the window of its approximation (where a near-tie
                    // picked another label, that label is nearer still).
                    *up = best[r].to_f64() + sq + window;
                    // The smallest approximation of a centre other than the label's: the
                    // second smallest where the label's is the smallest, else the smallest.
                    let other = if label == at[r] as usize { second[r] } else { best[r] };
                    *low = (other.to_f64() + sq - window).max(0.0);
                }
            }
        }
    }
}

/// The lower bounds of [`Bounds::All`] for a sub-block's rows from their approximations
/// (centre-major), and with `width` those of [`Bounds::Around`].
#[inline(always)]
fn lower_bounds<G: Float, const S: usize>(
    lower: &mut [f64],
    x_norms: &[f64],
    norms: &CenterNorms<G>,
    approx: &[[G; S]],
    mut width: Option<&mut [f64]>,
) {
    let k = approx.len();
    for (r, (lb, &x_norm)) in lower.chunks_exact_mut(k).zip(x_norms).enumerate() {
        let window = norms.window(x_norm);
        let base = x_norm * x_norm - window;
        for (l, a) in lb.iter_mut().zip(approx) {
            *l = (a[r].to_f64() + base).max(0.0);
        }
        // The squared distance is at most its approximation plus the window, which is the lower
        // bound plus twice the window (also where the bound was raised to zero).
        if let Some(width) = width.as_deref_mut() {
            width[r] = 2.0 * window;
        }
    }
}

/// One group of centres of [`fused`] against one sub-block of rows.
struct Group<'a, G, const S: usize, const GR: usize> {
    /// The sub-block's rows, feature-major.
    columns: &'a [[G; S]],
    /// The group's centres times −2, packed ([`CenterNorms::packed`]).
    centers: &'a [G],
    /// Their squared norms.
    c2: &'a [G],
    /// The index of the group's first centre.
    first: usize,
    fma: bool,
}

impl<G: Float, const S: usize, const GR: usize> Group<'_, G, S, GR> {
    /// The approximations `‖c‖² − 2 x·c` of the group's first `M` centres (stored in `approx`),
    /// folded into each row's smallest, second smallest and the index of the smallest. The
    /// products run in `P` sets of accumulators over alternate features (added at the end),
    /// so that a group of few centres still keeps the multipliers busy.
    #[inline(always)]
    fn reduce<const M: usize, const P: usize>(
        &self,
        approx: &mut [[G; S]],
        best: &mut [G; S],
        second: &mut [G; S],
        at: &mut [u32; S],
    ) {
        let mut acc = [[[G::ZERO; S]; M]; P];
        let fma = self.fma;
        let (features, rest) = self.columns.as_chunks::<P>();
        debug_assert!(M <= GR, "a group's centres");
        let (centers, rest_centers) = self.centers.split_at(features.len() * P * GR);
        for (x, cv) in features.iter().zip(centers.chunks_exact(P * GR)) {
            for (q, acc) in acc.iter_mut().enumerate() {
                for m in 0..M {
                    let c = cv[q * GR + m];
                    for r in 0..S {
                        acc[m][r] = if fma { x[q][r].mul_add(c, acc[m][r]) } else { x[q][r] * c + acc[m][r] };
                    }
                }
            }
        }
        for (x, cv) in rest.iter().zip(rest_centers.chunks_exact(GR)) {
            for m in 0..M {
                for r in 0..S {
                    acc[0][m][r] =
                        if fma { x[r].mul_add(cv[m], acc[0][m][r]) } else { x[r] * cv[m] + acc[0][m][r] };
                }
            }
        }
        for m in 0..M {
            let j = (self.first + m) as u32;
            for r in 0..S {
                let mut product = acc[0][m][r];
                for part in &acc[1..] {
                    product += part[m][r];
                }
                let v = self.c2[m] + product;
                approx[m][r] = v;
                let high = if v > best[r] { v } else { best[r] };
                second[r] = if high < second[r] { high } else { second[r] };
                let below = v < best[r];
                at[r] = if below { j } else { at[r] };
                best[r] = if below { v } else { best[r] };
            }
        }
    }
}

/// Rows per sub-block of [`columns_f32`]'s layout.
pub(crate) const COLUMN_ROWS: usize = sub_rows::<f32>();

/// The rows of `x` as `f32` in the kernel's layout, once for a whole fit: sub-blocks of
/// [`COLUMN_ROWS`] rows, each feature-major (feature `p` of row `r` at
/// `((r / COLUMN_ROWS)·d + p)·COLUMN_ROWS + r % COLUMN_ROWS`), the last one padded with zeros;
/// with `norms`, also ‖x‖ of every row (as [`super::row_norms`] gives them) in the same pass
/// over the rows (else an empty vector). In parallel over fixed blocks of rows.
pub(crate) fn columns_f32<F: Float>(x: ArrayView2<F>, norms: bool) -> (Vec<f32>, Vec<f64>) {
    let (n, d) = x.dim();
    let data = x.as_slice().expect("standard layout");
    let padded = n.next_multiple_of(COLUMN_ROWS);
    let mut out = crate::memory::zeroed(0.0f32, padded * d);
    let mut row_norms = crate::memory::zeroed(0.0f64, if norms { padded } else { 0 });
    debug_assert!(crate::parallel::LEAF_ROWS.is_multiple_of(COLUMN_ROWS));
    let parts = (Rows::new(&mut out, d), Rows::new(&mut row_norms, usize::from(norms)));
    par_blocks_sized(
        crate::parallel::LEAF_ROWS,
        padded,
        parts,
        &|s, e, (o, nrm): (Rows<f32>, Rows<f64>)| {
            let e = e.min(n);
            columns_of_block(&data[s * d..e * d], d, o.data, (!nrm.data.is_empty()).then_some(nrm.data));
        },
        &|_, _| {},
    );
    row_norms.truncate(n);
    (out, row_norms)
}

/// [`columns_f32`] for one block of rows (`rows`, `d` values each), starting a sub-block:
/// their columns into `out` (whole sub-blocks, the last one padded), and with `norms` their
/// norms.
pub(crate) fn columns_of_block<F: Float>(
    rows: &[F],
    d: usize,
    out: &mut [f32],
    mut norms: Option<&mut [f64]>,
) {
    debug_assert!(d > 0, "rows of some features");
    let n = rows.len() / d;
    let (out, _) = out.as_chunks_mut::<COLUMN_ROWS>();
    for (first, columns) in (0..n).step_by(COLUMN_ROWS).zip(out.chunks_exact_mut(d)) {
        let end = n.min(first + COLUMN_ROWS);
        let block = &rows[first * d..end * d];
        if let Some(norms) = norms.as_deref_mut() {
            super::norms_of(block, d, &mut norms[first..end]);
        }
        transpose(block, d, end - first, columns);
    }
}

/// `columns[p][r] = data[r·d + p]`: the `rows` rows of a sub-block turned feature-major, lanes
/// past them zero (computed on and never read).
#[inline(always)]
#[allow(unsafe_code)]
fn transpose<F: Float, G: Float, const S: usize>(data: &[F], d: usize, rows: usize, columns: &mut [[G; S]]) {
    use std::any::TypeId;
    assert!(data.len() == rows * d && rows <= S && columns.len() == d, "a sub-block of rows and its columns");
    #[cfg(target_arch = "x86_64")]
    if rows == S
        && TypeId::of::<F>() == TypeId::of::<f64>()
        && super::lanes::avx512_available()
        && std::arch::is_x86_feature_detected!("f16c")
    {
        // SAFETY: `F` is f64 and `G` f64 or f32 (their type ids say so), so the casts
        // reinterpret a type as itself; the CPU has AVX-512F and F16C (checked above); the lengths were
        // checked above.
        unsafe {
            let data = std::slice::from_raw_parts(data.as_ptr().cast::<f64>(), data.len());
            if TypeId::of::<G>() == TypeId::of::<f64>() {
                let columns = std::slice::from_raw_parts_mut(columns.as_mut_ptr().cast::<[f64; S]>(), d);
                return x86::transpose_f64(data, d, 1.0, columns);
            }
            if TypeId::of::<G>() == TypeId::of::<f32>() {
                let columns = std::slice::from_raw_parts_mut(columns.as_mut_ptr().cast::<[f32; S]>(), d);
                return x86::transpose_f64(data, d, 1.0, columns);
            }
        }
    }
    // Row by row (the compiler vectorises this as scatters, hence the AVX-512 path above).
    for (r, x) in data.chunks_exact(d).enumerate() {
        for (col, &v) in columns.iter_mut().zip(x) {
            col[r] = G::from_f64(v.to_f64());
        }
    }
    for col in columns.iter_mut() {
        col[rows..].fill(G::ZERO);
    }
}

/// `columns[p][r]` = the float16 encoding ([`f16_bits`](super::lanes::f16_bits)) of
/// `data[r·d + p] · scale` (in `f64`) rounded to `f32`: a whole sub-block of `S` rows turned
/// feature-major, in AVX-512 registers. `None` (nothing written) for `f32` rows or where the
/// CPU lacks AVX-512 or F16C. Every value times `scale` must be below 65520 in magnitude.
#[allow(unsafe_code)]
pub(crate) fn transpose_f16<F: Float, const S: usize>(
    data: &[F],
    d: usize,
    scale: f64,
    columns: &mut [[u16; S]],
) -> Option<()> {
    use std::any::TypeId;
    assert!(
        data.len() == S * d && columns.len() == d && S.is_multiple_of(8),
        "a sub-block of rows and its columns"
    );
    #[cfg(target_arch = "x86_64")]
    if TypeId::of::<F>() == TypeId::of::<f64>()
        && super::lanes::avx512_available()
        && std::arch::is_x86_feature_detected!("f16c")
    {
        // SAFETY: `F` is f64 (its type id says so), so the cast reinterprets a type as itself;
        // the CPU has AVX-512F and F16C (checked above); the lengths were checked above.
        unsafe {
            let data = std::slice::from_raw_parts(data.as_ptr().cast::<f64>(), data.len());
            x86::transpose_f64(data, d, scale, columns);
        }
        return Some(());
    }
    None
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::x86_64::*;

    /// Eight `f64` values as they are stored into a column of `T` values.
    pub(super) trait Lanes: Copy {
        /// Stores `v` at `p` (eight values).
        ///
        /// # Safety
        /// `p` must be valid for writing eight values of `Self`, and the CPU must have AVX-512F
        /// (and F16C for `u16`).
        unsafe fn store(p: *mut Self, v: __m512d);
    }

    impl Lanes for f64 {
        #[inline(always)]
        unsafe fn store(p: *mut f64, v: __m512d) {
            // SAFETY: as the caller promises.
            unsafe { _mm512_storeu_pd(p, v) }
        }
    }

    impl Lanes for u16 {
        #[inline(always)]
        unsafe fn store(p: *mut u16, v: __m512d) {
            // SAFETY: as the caller promises, and the CPU has F16C (every caller of
            // `transpose_f64` with `u16` checks it). Rounded to nearest `f32`, then truncated
            // to float16, as `f16_bits`.
            unsafe { _mm_storeu_si128(p.cast(), _mm256_cvtps_ph::<_MM_FROUND_TO_ZERO>(_mm512_cvtpd_ps(v))) }
        }
    }

    impl Lanes for f32 {
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m512d) {
            // SAFETY: as the caller promises (rounded to nearest, as `as f32`).
            unsafe { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)) }
        }
    }

    /// [`super::transpose`] of a whole sub-block of `f64` rows, each value times `scale`: 8 × 8
    /// tiles through registers (two rounds of pairing within 128-bit lanes and across them),
    /// the last `d % 8` features one by one.
    #[target_feature(enable = "avx512f,f16c")]
    pub(super) fn transpose_f64<T: Lanes, const S: usize>(
        data: &[f64],
        d: usize,
        scale: f64,
        columns: &mut [[T; S]],
    ) {
        assert!(data.len() == S * d && columns.len() == d && S.is_multiple_of(8));
        // Unscaled values are stored as they are (a multiplication by one would flush
        // subnormals where the process runs with denormals-are-zero).
        let scaled = scale != 1.0;
        let scale = _mm512_set1_pd(scale);
        let times = |v: __m512d| if scaled { _mm512_mul_pd(v, scale) } else { v };
        let whole = d - d % 8;
        let lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
        let hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
        let low_half = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
        let high_half = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
        for r0 in (0..S).step_by(8) {
            for p0 in (0..whole).step_by(8) {
                // SAFETY: rows r0..r0 + 8 < S and features p0..p0 + 8 <= d lie inside `data`
                // (its length checked above).
                let row = |i: usize| unsafe { _mm512_loadu_pd(data.as_ptr().add((r0 + i) * d + p0)) };
                let (a0, a1, a2, a3) = (row(0), row(1), row(2), row(3));
                let (a4, a5, a6, a7) = (row(4), row(5), row(6), row(7));
                // Rows paired: (r0[0] r1[0] r0[2] r1[2] …) and (r0[1] r1[1] r0[3] r1[3] …).
                let (t0, t1) = (_mm512_unpacklo_pd(a0, a1), _mm512_unpackhi_pd(a0, a1));
                let (t2, t3) = (_mm512_unpacklo_pd(a2, a3), _mm512_unpackhi_pd(a2, a3));
                let (t4, t5) = (_mm512_unpacklo_pd(a4, a5), _mm512_unpackhi_pd(a4, a5));
                let (t6, t7) = (_mm512_unpacklo_pd(a6, a7), _mm512_unpackhi_pd(a6, a7));
                // Four rows: features (0, 4), (2, 6), (1, 5), (3, 7) of rows 0–3, then 4–7.
                let u0 = _mm512_permutex2var_pd(t0, lo, t2);
                let u1 = _mm512_permutex2var_pd(t0, hi, t2);
                let u2 = _mm512_permutex2var_pd(t1, lo, t3);
                let u3 = _mm512_permutex2var_pd(t1, hi, t3);
                let u4 = _mm512_permutex2var_pd(t4, lo, t6);
                let u5 = _mm512_permutex2var_pd(t4, hi, t6);
                let u6 = _mm512_permutex2var_pd(t5, lo, t7);
                let u7 = _mm512_permutex2var_pd(t5, hi, t7);
                let features = [
                    _mm512_permutex2var_pd(u0, low_half, u4),
                    _mm512_permutex2var_pd(u2, low_half, u6),
                    _mm512_permutex2var_pd(u1, low_half, u5),
                    _mm512_permutex2var_pd(u3, low_half, u7),
                    _mm512_permutex2var_pd(u0, high_half, u4),
                    _mm512_permutex2var_pd(u2, high_half, u6),
                    _mm512_permutex2var_pd(u1, high_half, u5),
                    _mm512_permutex2var_pd(u3, high_half, u7),
                ];
                for (col, f) in columns[p0..p0 + 8].iter_mut().zip(features) {
                    // SAFETY: lanes r0..r0 + 8 lie inside a column of S values.
                    unsafe { T::store(col.as_mut_ptr().add(r0), times(f)) };
                }
            }
        }
        for (p, col) in columns.iter_mut().enumerate().skip(whole) {
            for (r0, lanes) in col.chunks_exact_mut(8).enumerate() {
                let v: [f64; 8] = std::array::from_fn(|i| data[(r0 * 8 + i) * d + p]);
                // SAFETY: `lanes` holds eight values; the CPU has AVX-512F (this function's
                // contract).
                unsafe { T::store(lanes.as_mut_ptr(), times(_mm512_loadu_pd(v.as_ptr()))) };
            }
        }
    }
}
