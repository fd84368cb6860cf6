//! The fit driver: validation, centring and scaling, the runs, and the choice of the best run.
//! Every algorithm is exact: they differ in speed, never in result.

mod bounds;
mod exact1d;
mod filtered;
mod lloyd;
mod narrow_bounds;
mod repeats;
pub(crate) mod sparse;

use multiversion::multiversion;
use ndarray::{Array2, ArrayView1, ArrayView2, Axis, CowArray, Ix2};

use crate::error::KMeansError;
use crate::float::Float;
use crate::init::kmeans_plusplus_indices;
use crate::kernels::narrow::two_block_rows;
use crate::kernels::use_gemm;
use crate::model::{FitWarning, KMeans};
use crate::observer::Observer;
use crate::parallel::{LEAF_ROWS, Rows, par_blocks, par_blocks_sized};
use crate::params::{Algorithm, Init, NInit, ValidKMeansParams};
use crate::validate::{block_max_abs_finite, check_shape, check_weights, first_non_finite, safe_scale};
use bounds::BoundsStep;
use filtered::FilteredLloyd;
use lloyd::{Data, LloydStep, RunConfig};
use narrow_bounds::NarrowBounds;
use repeats::Repeats;

/// The exact method a fit uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Lloyd,
    /// Bound-based, with this many centre groups.
    Bounds(usize),
    /// Hamerly's bounds on narrow rows, the rows in doubt measured a block at a time
    /// ([`NarrowBounds`]).
    NarrowBounds,
    /// Lloyd's passes by products behind Hamerly's filter ([`FilteredLloyd`]).
    FilteredLloyd,
}

/// Bounds memory above which Elkan's per-centre bounds give way to Yinyang's groups.
const ELKAN_MEMORY_LIMIT: usize = 2 << 30;

/// `auto` keeps the bounds within this many times the input's size (the bounds are `f64`, one
/// upper bound and `t` lower bounds per sample).
const AUTO_MEMORY_FACTOR: usize = 4;

/// Keeps `result` if it is the first run or has a lower inertia than `best` without being the
/// same clustering (scikit-learn's rule for `n_init` runs).
pub(crate) fn keep_better<F: Float>(best: &mut Option<lloyd::Run<F>>, result: lloyd::Run<F>, k: usize) {
    let better = match best {
        None => true,
        Some(b) => result.inertia < b.inertia && !same_clustering(&result.labels, &b.labels, k),
    };
    if better {
        *best = Some(result);
    }
}

/// The best run's inertia in the caller's units (refused when it overflows), and the warnings
/// that the best run calls for: an inertia that underflows, fewer distinct clusters than asked.
pub(crate) fn finish<F: Float>(
    best: &lloyd::Run<F>,
    scale: f64,
    max_abs: f64,
    k: usize,
    warnings: &mut Vec<FitWarning>,
) -> Result<f64, KMeansError> {
    let inertia = best.inertia / scale / scale;
    if !inertia.is_finite() {
        return Err(KMeansError::Overflow { what: "the inertia", max_abs });
    }
    if best.inertia > 0.0 && inertia < f64::MIN_POSITIVE {
        warnings.push(FitWarning::InertiaUnderflow { max_abs });
    }
    let distinct = count_distinct(&best.labels, k);
    if distinct < k {
        warnings.push(FitWarning::FewerDistinctClusters { found: distinct, requested: k });
    }
    Ok(inertia)
}

/// `auto` runs plain Lloyd on narrow data with few clusters, where one pass of the across-rows
/// kernel costs less than keeping bounds. Measured (`examples/lloyd_iters.rs`: CPU ms per
/// iteration over iterations 5 to 25, f64, 200k blobs around 20 centres, Lloyd vs Yinyang): d = 2,
/// k = 16: 1.1 vs 4.1; k = 256: 9.3 vs 13.6; k = 512: 17 vs 24; d = 3, k = 64: 4.3 vs 9.0;
/// k = 256: 12.7 vs 18.6; d = 4, k = 128: 8.0 vs 11.1; k = 256: 15.1 vs 19.0; china (273k × 3)
/// k = 64: 5.5 vs 9.7; k = 256: 15.8 vs 19.7. Wider rows win only with few clusters: d = 5, k = 32:
/// 4.5 vs 4.2; k = 64: 7.0 vs 10.3; k = 128: 12.6 vs 12.6; d = 8, k = 16: 3.8 vs 3.4; k = 32:
/// 6.1 vs 6.5; k = 64: 10.3 vs 10.5; k = 128: 19.2 vs 13.3. (Measured before the narrow
/// bounds ([`NarrowBounds`]), which now take the rows of the across-rows kernel from
/// [`AUTO_NARROW_BOUNDS_MIN_CLUSTERS`] clusters on, leaving this rule the fewer clusters and
/// `f32` rows of 5 to 8 features.)
const AUTO_LLOYD_MAX_FEATURES: usize = 8;
/// See [`AUTO_LLOYD_MAX_FEATURES`].
const AUTO_LLOYD_MAX_CLUSTERS: usize = 32;
/// `auto` keeps Hamerly's bounds on rows the across-rows kernel takes ([`NarrowBounds`]) from
/// this many clusters on. Measured (wall ms of a fit from a k-means++ start to convergence, the
/// seeding included, best of two, two threads, f64, 200k rows in random order; Lloyd / these
/// bounds / Yinyang): blobs d = 2, k = 16: 76 / 86 / 176; k = 32: 80 / 70 / 127; k = 256: 321 /
/// 217 / 457; uniform d = 3, k = 16: 74 / 65 / 149; k = 64: 273 / 171 / 435; blobs d = 4,
/// k = 16: 25 / 26 / 37; k = 32: 56 / 52 / 96; k = 256: 822 / 425 / 746; d = 6, k = 16: 39 / 33 /
/// 48; k = 128: 806 / 342 / 533; d = 8, k = 16: 42 / 40 / 52; k = 32: 135 / 93 / 137; k = 256:
/// 3043 / 1211 / 1339.
const AUTO_NARROW_BOUNDS_MIN_CLUSTERS: usize = 32;

/// `auto` runs plain Lloyd by matrix products on few (distinct) rows with few clusters: there a
/// pass of products and the certified argmin costs less than the bounds' bookkeeping and the
/// distances they still compute one by one. Measured with `examples/tiny_fit.rs FILE D K REPS
/// start:auto|lloyd:300` on the build just before this rule, where `auto` ran Yinyang's bounds
/// on these shapes (`start:yinyang` runs the same now): wall ms of a fit from the k-means++
/// start of seed 0 to convergence, the default thread pool (two threads on the 2-core machine
/// measured), f64; bounds / Lloyd; blobs from scikit-learn's
/// `make_blobs` with 10 to 30 centres, uniform data in [0, 1); the shapes converge in different
/// numbers of iterations, so compare the two figures of a shape, not shapes): digits (1797 × 64)
/// k = 10: 4.2 / 2.9; k = 32: 5.9 / 4.4; blobs 2000 × 64, k = 10: 2.1 / 1.7; k = 32: 6.7 / 4.7;
/// blobs 2000 × 32, k = 10: 1.3 / 0.9; k = 32: 4.2 / 4.4, in a second run 3.6 / 3.0 (k = 128:
/// 6.3 / 8.1); blobs 5000 × 16, k = 10: 1.3 / 1.3; k = 32: 8.9 / 5.3; uniform 2000 × 16,
/// k = 10: 5.8 / 5.1; k = 32: 8.1 / 3.2; uniform 2000 × 64, k = 10: 7.0 / 4.4; k = 32: 10.0 /
/// 5.4; uniform 5000 × 64, k = 10: 23.8 / 13.5; k = 32: 59.8 / 29.1. From 10 000 rows the
/// bounds win on blobs (10 000 × 64, k = 10: 14.9 / 22.5; 10 000 × 16, k = 32: 4.8 / 9.4) and
/// lose on uniform data (10 000 × 16, k = 32: 64.2 / 45.7), so the rule stops below them. Blobs
/// of 5000 rows were measured at d = 16 only (a tie and a win for Lloyd).
/// (Measured on float64 rows with their products in float64; since [`choose`] runs Lloyd on
/// every float64 shape of the products, this rule decides float32 rows only.)
const AUTO_GEMM_LLOYD_MAX_ROWS: usize = 5000;
/// See [`AUTO_GEMM_LLOYD_MAX_ROWS`].
const AUTO_GEMM_LLOYD_MAX_CLUSTERS: usize = 32;

/// From this many rows, `auto` runs Lloyd's passes behind Hamerly's filter on rows the products
/// take, `f64` or `f32`. Measured (`examples/tiny_fit.rs FILE D K R start:auto:300`, wall ms per
/// fit from the k-means++ start of seed 0 to convergence, the seeding included, two threads;
/// Lloyd / filtered, the builds alternating): uniform 500k × 16, k = 100: 3311 / 2370–2635;
/// uniform 200k × 16, k = 100: 1223 / 959; uniform 100k × 16, k = 100: 577 / 461; blobs
/// 100k × 128, k = 256: 901 / 755; blobs 50k × 128, k = 256: 359 / 326; blobs 200k × 32,
/// k = 64 (2 iterations): 96 / 94; but uniform 20 000 × 32, k = 32: 46 / 50–52; blobs
/// 20 000 × 64, k = 128: 79 / 87; digits (1797 × 64, k = 10): 1.05 / 1.16 (the filter's
/// gathering and bookkeeping cost more than it saves on passes that fit in cache). `f32` rows,
/// whose `auto` ran Yinyang's bounds (giving way to Lloyd's passes) at these sizes: five default
/// fits (`default32`, seeds 0–4, the seeding included), bounds / filtered, ms: uniform 500k ×
/// 16, k = 100: 19 922 / 12 209; uniform 100k × 16, k = 100: 4144 / 2496; blobs 100k × 128,
/// k = 256: 4096 / 3305; blobs 50k × 128, k = 256: 1811 / 1644; blobs 200k × 32, k = 64: 742 /
/// 662; the same iterations and inertias. Fewer clusters, measured while another build ran (so
/// noisy), `f64`, Lloyd / filtered, two runs each: uniform 500k × 16, k = 16: 3658 and 5017 /
/// 3400 and 3669; uniform 200k × 16, k = 16: 1236 and 1401 / 1573 and 948.
const AUTO_FILTER_MIN_ROWS: usize = 50_000;

/// `auto` on `f64` rows the matrix products take (`use_gemm`) runs Lloyd at any size: there
/// its products run in `f32` on rows kept in their layout, and a pass costs about what the
/// bounds' bookkeeping does. Measured (`examples/tiny_fit.rs FILE D K 3 start:auto|lloyd:300`
/// on the build of the commit that added this rule, without the rule: `auto` ran the bounds,
/// giving way to Lloyd as [`BoundsStep::giving_way_to_lloyd`] says; wall ms per fit from the
/// k-means++ start of seed 0, three repetitions per run, the seeding amortised over them, two
/// threads; two runs where two figures are given; bounds / Lloyd — a tie on the first shape, a
/// win for Lloyd on the others): blobs 100k × 128, k = 256: 621 and 653 / 650 and 650; blobs
/// 20 000 × 64, k = 128: 107 and 110 / 89 and 93; blobs 20 000 × 32, k = 32: 26 and 25 / 18 and
/// 19; blobs 10 000 × 64, k = 10: 11 and 8 / 8 and 8; one repetition each (the seeding
/// included, one run): uniform 500k × 16, k = 100: 4223 / 3936; uniform 20 000 × 32, k = 32: 74 / 59;
/// blobs 200k × 32, k = 64: 190 / 172. `f32` rows between 5000 and 50 000 rows keep the bounds
/// (not measured again).
///
/// From [`AUTO_FILTER_MIN_ROWS`] rows, Lloyd's passes on rows the products take (`f64` or
/// `f32`) run behind Hamerly's filter ([`FilteredLloyd`]).
fn choose(algorithm: Algorithm, n: usize, d: usize, k: usize, value_bytes: usize) -> Choice {
    let yinyang = k.div_ceil(10);
    // Rows the across-rows kernel takes, a block of rows at a time.
    let narrow =
        if value_bytes == 4 { two_block_rows::<f32>(d, k) } else { two_block_rows::<f64>(d, k) }.is_some();
    match algorithm {
        Algorithm::Lloyd => Choice::Lloyd,
        Algorithm::Hamerly if narrow => Choice::NarrowBounds,
        Algorithm::Hamerly => Choice::Bounds(1),
        Algorithm::Yinyang => Choice::Bounds(yinyang),
        Algorithm::Elkan if BoundsStep::memory(n, k) <= ELKAN_MEMORY_LIMIT => Choice::Bounds(k),
        Algorithm::Elkan => Choice::Bounds(yinyang),
        // Fitted by `exact1d::fit` before any run starts; never reaches here.
        Algorithm::Exact1d => Choice::Lloyd,
        Algorithm::Auto if narrow && k >= AUTO_NARROW_BOUNDS_MIN_CLUSTERS => Choice::NarrowBounds,
        Algorithm::Auto if k == 1 || (d <= AUTO_LLOYD_MAX_FEATURES && k <= AUTO_LLOYD_MAX_CLUSTERS) => {
            Choice::Lloyd
        }
        Algorithm::Auto
            if n <= AUTO_GEMM_LLOYD_MAX_ROWS && k <= AUTO_GEMM_LLOYD_MAX_CLUSTERS && use_gemm(d, k) =>
        {
            Choice::Lloyd
        }
        Algorithm::Auto if use_gemm(d, k) && n >= AUTO_FILTER_MIN_ROWS => Choice::FilteredLloyd,
        Algorithm::Auto if value_bytes == 8 && use_gemm(d, k) => Choice::Lloyd,
        Algorithm::Auto => {
            let affordable =
                (AUTO_MEMORY_FACTOR * d * value_bytes / std::mem::size_of::<f64>()).saturating_sub(1);
            Choice::Bounds(yinyang.min(affordable).max(1))
        }
    }
}

/// Whether the run sums every pass's clusters afresh rather than carrying the sums by the
/// samples that moved ([`lloyd::run`]): on rows the across-rows kernel takes with fewer than
/// [`AUTO_NARROW_BOUNDS_MIN_CLUSTERS`] clusters, where `auto` runs Lloyd's passes, which sum
/// every row they pass for little more than they cost (it depends on the shape only, so every
/// step still gets the same centres). Measured (`examples/tiny_fit.rs`, blobs 1M × 2, k = 8,
/// `start:auto:300`, wall ms per fit, four alternating pairs): carried 26.3–28.3, afresh
/// 22.5–24.4: finding the moved samples reads every label, and taking them out and putting them
/// back one by one costs about 50 ns a sample there.
pub(crate) fn sums_fresh_only<F: Float>(d: usize, k: usize) -> bool {
    two_block_rows::<F>(d, k).is_some() && k < AUTO_NARROW_BOUNDS_MIN_CLUSTERS
}

/// What the fit's first pass over the caller's data finds (in fixed blocks of rows, in parallel):
/// the largest absolute value, for the choice of a scale, and the column sums, which are those
/// [`Prepared::new`] needs when no scaling is called for; where asked for, the column sums of
/// squares, which tell whether the data lie far from the origin ([`Scan::far_from_origin`]).
pub(crate) struct Scan {
    pub(crate) max_abs: f64,
    pub(crate) sums: Vec<f64>,
    /// The column sums of squares in float64 (empty where not asked for).
    pub(crate) squares: Vec<f64>,
}

impl Scan {
    /// Scans `x`, refusing it as `validate::check_data` does (with the same error).
    fn new<F: Float>(x: ArrayView2<F>) -> Result<Self, KMeansError> {
        Self::pass(x, false)
    }

    /// The scan, with the column sums of squares (in float64) made in the same pass.
    pub(crate) fn with_squares<F: Float>(x: ArrayView2<F>) -> Result<Self, KMeansError> {
        Self::pass(x, true)
    }

    /// The scan, refusing `x` as `validate::check_data` does (with the same error), and the
    /// column sums of squares where `squares` (else none).
    fn pass<F: Float>(x: ArrayView2<F>, squares: bool) -> Result<Self, KMeansError> {
        check_shape(x)?;
        let d = x.ncols();
        let (max_abs, finite, (sums, squares)) = par_blocks(
            x.nrows(),
            0,
            &mut [] as &mut [u8],
            &|s, e, _| {
                let block = x.slice(ndarray::s![s..e, ..]);
                let (max_abs, finite) = block_max_abs_finite(block);
                // Row by row, as the column sums of `Prepared::new` with a scale of 1.
                let mut sums = vec![0.0f64; d];
                let mut sq = vec![0.0f64; if squares { d } else { 0 }];
                let mut add = |values: &[F]| add_rows(&mut sums, &mut sq, values);
                match block.as_slice() {
                    Some(values) => add(values),
                    None => {
                        let mut row_values = Vec::with_capacity(d);
                        for row in block.outer_iter() {
                            row_values.clear();
                            row_values.extend(row.iter().copied());
                            add(&row_values);
                        }
                    }
                }
                (max_abs, finite, (sums, sq))
            },
            &|a: &mut (f64, bool, (Vec<f64>, Vec<f64>)), b| {
                a.0 = a.0.max(b.0);
                a.1 &= b.1;
                add_sums(&mut a.2.0, b.2.0);
                add_sums(&mut a.2.1, b.2.1);
            },
        );
        if !finite {
            return Err(first_non_finite(x));
        }
        Ok(Scan { max_abs, sums, squares })
    }

    /// Whether the `n` rows of `F` scanned (with squares) lie far from the origin: the squared
    /// norm of their mean (rounded to `F`, as [`Prepared`] centres them) above their total
    /// variance (Σ over columns), that is where centring them at least halves their mean ‖x‖².
    /// Not where either is NaN.
    pub(crate) fn far_from_origin<F: Float>(&self, n: usize) -> bool {
        debug_assert_eq!(self.squares.len(), self.sums.len(), "a scan with squares");
        let mean = rounded_means::<F>(&self.sums, n);
        let offset: f64 = mean.iter().map(|m| m * m).sum();
        let variance: f64 =
            self.squares.iter().zip(&mean).map(|(q, m)| (q / n as f64 - m * m).max(0.0)).sum();
        offset.partial_cmp(&variance) == Some(std::cmp::Ordering::Greater)
    }
}

/// The column means of `n` rows from their sums, rounded to `F` (as scikit-learn keeps them).
fn rounded_means<F: Float>(sums: &[f64], n: usize) -> Vec<f64> {
    sums.iter().map(|s| F::from_f64(s / n as f64).to_f64()).collect()
}

/// [`Moments::centre_rows`], vectorised: the columns in tiles of [`CENTRE_TILE`], then of
/// 16, 8, 4, 2 and 1 for the rest, each tile's sums, squares and maxima kept in registers over
/// the rows of the block (each column's values are added in row order either way).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn centre_rows<F: Float>(
    out: &mut [F],
    rows: &[F],
    mean: &[f64],
    scale: f64,
    (sums, squares, maxes): (&mut [f64], &mut [f64], &mut [f64]),
) {
    for (p0, width) in tiles(mean.len()) {
        let m = (mean, scale);
        let acc = (&mut *sums, &mut *squares, &mut *maxes);
        match width {
            CENTRE_TILE => centre_tile::<F, CENTRE_TILE>(out, rows, p0, m, acc),
            16 => centre_tile::<F, 16>(out, rows, p0, m, acc),
            8 => centre_tile::<F, 8>(out, rows, p0, m, acc),
            4 => centre_tile::<F, 4>(out, rows, p0, m, acc),
            2 => centre_tile::<F, 2>(out, rows, p0, m, acc),
            _ => centre_tile::<F, 1>(out, rows, p0, m, acc),
        }
    }
}

/// Tiles `(first_column, width)` covering `0..d`: [`CENTRE_TILE`] columns while they fit, then
/// one of each power of two below it that the rest needs.
#[inline(always)]
fn tiles(d: usize) -> impl Iterator<Item = (usize, usize)> {
    let whole = d / CENTRE_TILE;
    let rest = d % CENTRE_TILE;
    let wide = (0..whole).map(|t| (t * CENTRE_TILE, CENTRE_TILE));
    // The rest's binary digits, widest first.
    let narrow =
        (0..CENTRE_TILE.trailing_zeros()).rev().filter(move |b| rest & (1 << b) != 0).map(move |b| {
            let width = 1 << b;
            (whole * CENTRE_TILE + (rest & !((width << 1) - 1)), width)
        });
    wide.chain(narrow)
}

/// [`centre_rows`] for the `W` columns from `p0`.
#[inline(always)]
fn centre_tile<F: Float, const W: usize>(
    out: &mut [F],
    rows: &[F],
    p0: usize,
    (mean, scale): (&[f64], f64),
    (sums, squares, maxes): (&mut [f64], &mut [f64], &mut [f64]),
) {
    let d = mean.len();
    let tile = p0..p0 + W;
    let m: &[f64; W] = mean[tile.clone()].try_into().expect("a whole tile");
    let mut acc: [f64; W] = sums[tile.clone()].try_into().expect("a whole tile");
    let mut sq: [f64; W] = squares[tile.clone()].try_into().expect("a whole tile");
    let mut top: [f64; W] = maxes[tile.clone()].try_into().expect("a whole tile");
    for (o, row) in out.chunks_exact_mut(d).zip(rows.chunks_exact(d)) {
        let (o, row) = (&mut o[tile.clone()], &row[tile.clone()]);
        for j in 0..W {
            o[j] = F::from_f64(row[j].to_f64() * scale - m[j]);
            let c = o[j].to_f64();
            acc[j] += c;
            sq[j] += c * c;
            top[j] = top[j].max(c.abs());
        }
    }
    sums[tile.clone()].copy_from_slice(&acc);
    squares[tile.clone()].copy_from_slice(&sq);
    maxes[tile].copy_from_slice(&top);
}

/// Columns [`centre_rows`] keeps in registers together (four 512-bit registers each of sums,
/// squares and maxima).
const CENTRE_TILE: usize = 32;

/// Adds the values of `rows` (rows of `sums.len()` values, one after another) to the column
/// `sums`, and their squares (in float64) to the column `squares` unless it is empty, in tiles of
/// columns as [`centre_rows`] (row order per column).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn add_rows<F: Float>(sums: &mut [f64], squares: &mut [f64], rows: &[F]) {
    for (p0, width) in tiles(sums.len()) {
        match width {
            CENTRE_TILE => add_tile::<F, CENTRE_TILE>(sums, squares, rows, p0),
            16 => add_tile::<F, 16>(sums, squares, rows, p0),
            8 => add_tile::<F, 8>(sums, squares, rows, p0),
            4 => add_tile::<F, 4>(sums, squares, rows, p0),
            2 => add_tile::<F, 2>(sums, squares, rows, p0),
            _ => add_tile::<F, 1>(sums, squares, rows, p0),
        }
    }
}

/// [`add_rows`] for the `W` columns from `p0`.
#[inline(always)]
fn add_tile<F: Float, const W: usize>(sums: &mut [f64], squares: &mut [f64], rows: &[F], p0: usize) {
    let d = sums.len();
    let tile = p0..p0 + W;
    let mut acc: [f64; W] = sums[tile.clone()].try_into().expect("a whole tile");
    // The squares are formed either way (a scan is bound by memory) and kept where asked for.
    let mut sq: [f64; W] =
        squares.get(tile.clone()).map_or([0.0; W], |s| s.try_into().expect("a whole tile"));
    for row in rows.chunks_exact(d) {
        let row = &row[tile.clone()];
        for j in 0..W {
            let v = row[j].to_f64();
            acc[j] += v;
            sq[j] += v * v;
        }
    }
    if !squares.is_empty() {
        squares[tile.clone()].copy_from_slice(&sq);
    }
    sums[tile].copy_from_slice(&acc);
}

/// Per column of the centred data: the sum, the sum of squares and the largest magnitude.
struct Moments {
    sums: Vec<f64>,
    squares: Vec<f64>,
    maxes: Vec<f64>,
}

impl Moments {
    fn zeros(d: usize) -> Self {
        Moments { sums: vec![0.0; d], squares: vec![0.0; d], maxes: vec![0.0; d] }
    }

    /// Writes `rows` (rows of `mean.len()` values) scaled and centred into `out`, adding their
    /// values to the column sums and their squares to the column squares, and raising the
    /// column maxima to their magnitudes.
    fn centre_rows<F: Float>(&mut self, out: &mut [F], rows: &[F], mean: &[f64], scale: f64) {
        centre_rows(out, rows, mean, scale, (&mut self.sums, &mut self.squares, &mut self.maxes));
    }

    /// Adds another block's moments (blocks in row order).
    fn merge(&mut self, b: Moments) {
        add_sums(&mut self.sums, b.sums);
        add_sums(&mut self.squares, b.squares);
        self.maxes.iter_mut().zip(b.maxes).for_each(|(x, y)| *x = x.max(y));
    }
}

/// Adds the column sums `b` into `a` (the merge of the passes that sum columns).
fn add_sums(a: &mut [f64], b: Vec<f64>) {
    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
}

/// The least number of values taken as they are by [`Prepared::new`] (below it the copy costs
/// little, and the fit centres as scikit-learn does).
const BORROW_MIN_VALUES: usize = 1 << 20;

/// The data as the algorithms see it: scaled by an exact power of two where needed, then centred
/// on its column means (scikit-learn centres too, for accuracy): the one working copy of a fit.
/// Big data ([`BORROW_MIN_VALUES`]) that need no scaling and lie near the origin
/// ([`Scan::far_from_origin`]) are taken as they are, with no copy where their rows are one
/// slice: centring would not halve their mean ‖x‖², which bounds the rounding of the distances'
/// expansions (every bound allows for that rounding), and the copy costs a write of the whole
/// data (blobs 200k × 32: 51 MB, in fresh pages the kernel clears). Their results are then
/// those of uncentred data, which differ from scikit-learn's centred ones by rounding only.
pub(crate) struct Prepared<'a, F> {
    pub(crate) x: CowArray<'a, F, Ix2>,
    /// Column means of the scaled data, rounded to `F` (as scikit-learn keeps them); zero where
    /// the data are taken as they are.
    mean: Vec<f64>,
    scale: f64,
    /// Column sums of the data `x` (fixed blocks), for [`Prepared::mean_variance`].
    sums: Vec<f64>,
    /// Column sums of the squares of the data `x` (the same blocks).
    squares: Vec<f64>,
    /// The largest magnitude in `x` (for k-means++'s screening copies).
    max_abs: f64,
    /// Where `x` is taken as it is: the column means it would have been centred on (see
    /// [`RunConfig::origin`]); else empty.
    origin: Vec<f64>,
    /// Where asked for: `x` in the `f32` products' layout, and its row norms, made in the
    /// centring pass ([`crate::kernels::gemm::columns_f32`]'s).
    kept: Option<(Vec<f32>, Vec<f64>)>,
}

impl<'a, F: Float> Prepared<'a, F> {
    /// Scales and centres `x`, in parallel over fixed blocks of rows (so the mean is the same
    /// for any thread count); `None` if the observer asked to stop. `scan` is the data's
    /// [`Scan`], whose column sums are those of the scaled data when `scale` is 1. With
    /// `columns`, the centred rows are also laid out for `f32` products, with their norms, in the
    /// same pass (while they are in cache). Where the scan has the squares and shows big data
    /// near the origin that need no scaling, `x` is taken as it is (copied only where its rows are
    /// not one slice; nothing laid out).
    pub(crate) fn new(
        x: ArrayView2<'a, F>,
        scale: f64,
        scan: Scan,
        observer: &dyn Observer,
        columns: bool,
    ) -> Option<Self> {
        let (n, d) = x.dim();
        let as_they_are = n * d >= BORROW_MIN_VALUES && scale == 1.0 && scan.squares.len() == d;
        if as_they_are && !scan.far_from_origin::<F>(n) {
            let origin = rounded_means::<F>(&scan.sums, n);
            // Rows not in one slice are copied as they are (the same values, hence the same
            // fit, as the rows in one slice).
            let x = if x.is_standard_layout() {
                CowArray::from(x)
            } else {
                CowArray::from(x.as_standard_layout().into_owned())
            };
            return Some(Prepared {
                x,
                mean: vec![0.0; d],
                scale,
                sums: scan.sums,
                squares: scan.squares,
                max_abs: scan.max_abs,
                origin,
                kept: None,
            });
        }
        let sums = if scale == 1.0 {
            scan.sums
        } else {
            par_blocks(
                n,
                0,
                &mut [] as &mut [u8],
                &|s, e, _| {
                    let mut sums = vec![0.0f64; d];
                    if observer.should_stop() {
                        return sums;
                    }
                    for row in x.slice(ndarray::s![s..e, ..]).outer_iter() {
                        for (acc, &v) in sums.iter_mut().zip(row.iter()) {
                            *acc += v.to_f64() * scale;
                        }
                    }
                    sums
                },
                &|a: &mut Vec<f64>, b| add_sums(a, b),
            )
        };
        if observer.should_stop() {
            return None;
        }
        let mean = rounded_means::<F>(&sums, n);
        let centred = crate::memory::zeroed(F::ZERO, n * d);
        let mut centred = Array2::from_shape_vec((n, d), centred).expect("n × d values");
        let padded = if columns { n.next_multiple_of(crate::kernels::gemm::COLUMN_ROWS) } else { 0 };
        let (mut kept, mut norms) =
            (crate::memory::zeroed(0.0f32, padded * d), crate::memory::zeroed(0.0f64, padded));
        let parts = (
            Rows::new(centred.as_slice_mut().expect("standard layout"), d),
            (Rows::new(&mut kept, usize::from(columns) * d), Rows::new(&mut norms, usize::from(columns))),
        );
        // The centred values' column sums come with them, leaf by leaf in row order, exactly as
        // a pass over the centred data would add them; and their squares and largest magnitude
        // per column.
        let moments = par_blocks_sized(
            LEAF_ROWS,
            n,
            parts,
            &|s, e, (out, (kept, norms)): (Rows<F>, (Rows<f32>, Rows<f64>))| {
                let out = out.data;
                let mut moments = Moments::zeros(d);
                if observer.should_stop() {
                    return moments;
                }
                let rows = x.slice(ndarray::s![s..e, ..]);
                // Contiguous rows as one slice, others copied row by row.
                match rows.as_slice() {
                    Some(values) => moments.centre_rows(out, values, &mean, scale),
                    None => {
                        let mut row_values = Vec::with_capacity(d);
                        for (o, row) in out.chunks_exact_mut(d).zip(rows.outer_iter()) {
                            row_values.clear();
                            row_values.extend(row.iter().copied());
                            moments.centre_rows(o, &row_values, &mean, scale);
                        }
                    }
                }
                if columns {
                    crate::kernels::gemm::columns_of_block(out, d, kept.data, Some(norms.data));
                }
                moments
            },
            &|a: &mut Moments, b| a.merge(b),
        );
        if observer.should_stop() {
            return None;
        }
        let max_abs = moments.maxes.iter().fold(0.0f64, |m, &v| m.max(v));
        norms.truncate(n);
        Some(Prepared {
            x: CowArray::from(centred),
            mean,
            scale,
            sums: moments.sums,
            squares: moments.squares,
            max_abs,
            origin: Vec::new(),
            kept: columns.then_some((kept, norms)),
        })
    }

    /// The largest magnitude in the prepared data.
    pub(crate) fn max_abs(&self) -> f64 {
        self.max_abs
    }

    /// Mean of the per-feature variances, in the scaled units: per column, the mean square less
    /// the squared mean, from the moments of `x` (of the centring pass, where the data being
    /// centred, its mean is a rounding error away from 0 and nothing cancels; else of the scan,
    /// where the squared mean is at most the variance, so at most about half cancels).
    fn mean_variance(&self) -> f64 {
        let (n, d) = self.x.dim();
        let n = n as f64;
        let variance = |(&s, &sq): (&f64, &f64)| (sq / n - (s / n) * (s / n)).max(0.0);
        self.sums.iter().zip(&self.squares).map(variance).sum::<f64>() / d as f64
    }

    /// Centres given in the caller's units, moved into the prepared space.
    fn to_prepared(&self, c: &Array2<f64>) -> Array2<F> {
        Array2::from_shape_fn(c.dim(), |(i, j)| F::from_f64(c[[i, j]] * self.scale - self.mean[j]))
    }

    /// Centres in the prepared space, moved back into the caller's units.
    fn to_caller(&self, c: &Array2<F>) -> Array2<F> {
        Array2::from_shape_fn(c.dim(), |(i, j)| {
            F::from_f64(F::from_f64(c[[i, j]].to_f64() + self.mean[j]).to_f64() / self.scale)
        })
    }
}

/// Fits `x` with checked parameters.
pub(crate) fn fit<F: Float>(
    params: &ValidKMeansParams,
    x: ArrayView2<F>,
    sample_weight: Option<ArrayView1<f64>>,
    observer: &dyn Observer,
) -> Result<KMeans<F>, KMeansError> {
    fit_rows(params, x, sample_weight, observer, true).map(|(model, _)| model)
}

/// [`fit`], iterating on the distinct rows where many repeat only when `find_repeats` (tests
/// compare the two); with the number of rows the iterations ran on.
fn fit_rows<F: Float>(
    params: &ValidKMeansParams,
    x: ArrayView2<F>,
    sample_weight: Option<ArrayView1<f64>>,
    observer: &dyn Observer,
    find_repeats: bool,
) -> Result<(KMeans<F>, usize), KMeansError> {
    let k = params.n_clusters;
    // The squares only where the data may be taken as they are.
    let scan = if x.len() >= BORROW_MIN_VALUES { Scan::with_squares(x)? } else { Scan::new(x)? };
    let max_abs = scan.max_abs;
    let (n, d) = x.dim();
    if n < k {
        return Err(KMeansError::TooFewSamples { n_samples: n, n_clusters: k });
    }
    let weights = sample_weight.map(|w| check_weights(w, n)).transpose()?;
    let weights = weights.as_deref();
    if let Init::Centers(c) = &params.init
        && c.ncols() != d
    {
        return Err(KMeansError::InitFeatures { got: c.ncols(), expected: d });
    }

    if params.algorithm == Algorithm::Exact1d {
        if d != 1 {
            return Err(KMeansError::Exact1dFeatures { n_features: d });
        }
        return exact1d::fit(x, weights, k, max_abs, observer).map(|model| (model, n));
    }

    let mut warnings = Vec::new();
    if let (Init::Centers(_), NInit::Runs(runs)) = (&params.init, params.n_init_requested)
        && runs > 1
    {
        warnings.push(FitWarning::ExplicitInitRunsOnce { n_init: runs });
    }

    let scale = safe_scale::<F>(max_abs.max(init_max_abs(&params.init)));
    // f64 rows whose products run in f32 (`Assigner::new`): kept in that layout once, with
    // their norms, made in the centring pass.
    let columns = std::mem::size_of::<F>() == 8 && use_gemm(d, k);
    let mut prepared = Prepared::new(x, scale, scan, observer, columns).ok_or(KMeansError::Cancelled)?;
    let kept = prepared.kept.take();
    let tol = if params.tol == 0.0 { 0.0 } else { params.tol * prepared.mean_variance() };
    // The iterations run on the distinct rows where many repeat; the starts are drawn from
    // every row.
    let repeats = if find_repeats { Repeats::find(prepared.x.view(), weights, observer) } else { None };
    let rows = repeats.as_ref().map_or(n, |r| r.rows.nrows());
    let choice = choose(params.algorithm, rows, d, k, std::mem::size_of::<F>());
    let with_norms = (matches!(choice, Choice::Bounds(_)) || use_gemm(d, k)) && !columns;
    let data = match &repeats {
        Some(r) => Data::of_repeats(r, weights, observer, with_norms),
        None => Data::new(prepared.x.view(), weights, observer, with_norms),
    };
    // The distinct rows of repeats take their own layout (and norms) in a pass of their own
    // (the layout of every row let go first).
    let kept = kept.filter(|_| repeats.is_none());
    let data = match (columns, kept) {
        (false, _) => data,
        (true, Some((kept, norms))) => data.with_kept_columns(kept, norms),
        (true, None) => data.with_columns(),
    };

    let mut best: Option<lloyd::Run<F>> = None;
    // One stream for all runs, drawn in order, as scikit-learn's `random_state`.
    let mut rng = params.stream();
    for run in 0..params.n_init {
        observer.run_started(run, params.n_init);
        if observer.should_stop() {
            return Err(KMeansError::Cancelled);
        }
        let xp = prepared.x.view();
        let init = match &params.init {
            Init::KMeansPlusPlus => {
                let max_abs = prepared.max_abs();
                let idx = kmeans_plusplus_indices(
                    xp,
                    max_abs,
                    weights,
                    k,
                    params.n_local_trials,
                    &mut rng,
                    observer,
                )?;
                xp.select(Axis(0), &idx)
            }
            Init::Random => xp.select(Axis(0), &rng.choice_distinct::<F>(n, k, weights)),
            Init::Centers(c) => prepared.to_prepared(c),
        };
        let cfg =
            RunConfig { max_iter: params.max_iter, tol, run, scale, observer, origin: &prepared.origin };
        let result = match choice {
            Choice::Lloyd => lloyd::run(&data, init, &mut LloydStep::new(), &cfg)?,
            Choice::FilteredLloyd => lloyd::run(&data, init, &mut FilteredLloyd::new::<F>(rows, k, d), &cfg)?,
            Choice::Bounds(t) => {
                let mut step = BoundsStep::new(rows, init.view(), t);
                if params.algorithm == Algorithm::Auto && use_gemm(d, k) {
                    step = step.giving_way_to_lloyd();
                }
                lloyd::run(&data, init, &mut step, &cfg)?
            }
            Choice::NarrowBounds => {
                let mut step =
                    NarrowBounds::new::<F>(rows, k, d).expect("chosen where the kernel takes the rows");
                lloyd::run(&data, init, &mut step, &cfg)?
            }
        };
        keep_better(&mut best, result, k);
    }
    let best = best.expect("n_init >= 1");

    let inertia = finish(&best, scale, max_abs, k, &mut warnings)?;
    let labels = match &repeats {
        Some(r) => r.inverse.iter().map(|&u| best.labels[u as usize]).collect(),
        None => best.labels,
    };
    let model = KMeans::from_fit(prepared.to_caller(&best.centers), labels, inertia, best.n_iter, warnings);
    Ok((model, rows))
}

/// Test data: `n` uniform rows of `d` features in [0, 1) on a grid of 2⁻²⁰, and `n` rows drawn
/// as scikit-learn's `make_blobs` draws them (20 centres in [−10, 10)^d, normal noise of
/// deviation 1, each row from a random centre).
#[cfg(test)]
pub(crate) fn uniform_and_blobs<F: Float>(n: usize, d: usize) -> (Array2<F>, Array2<F>) {
    let mut rng = crate::rng::Rng::new(9);
    let uniform = Array2::from_shape_fn((n, d), |_| F::from_f64(rng.below(1 << 20) as f64 / 1048576.0));
    let centres: Vec<f64> = (0..20 * d).map(|_| rng.below(20_000) as f64 / 1000.0 - 10.0).collect();
    let mut normal = crate::numpy_random::NumpyRandom::new(4);
    let of_row: Vec<usize> = (0..n).map(|_| rng.below(20)).collect();
    let blobs = Array2::from_shape_fn((n, d), |(i, f)| {
        F::from_f64(centres[of_row[i] * d + f] + normal.standard_normal())
    });
    (uniform, blobs)
}

fn init_max_abs(init: &Init) -> f64 {
    match init {
        Init::Centers(c) => c.iter().fold(0.0f64, |m, v| m.max(v.abs())),
        _ => 0.0,
    }
}

fn count_distinct(labels: &[usize], k: usize) -> usize {
    let mut seen = vec![false; k];
    labels.iter().for_each(|&l| seen[l] = true);
    seen.iter().filter(|&&s| s).count()
}

/// Whether two labelings are the same partition up to a renaming of the clusters.
fn same_clustering(a: &[usize], b: &[usize], k: usize) -> bool {
    let mut map = vec![usize::MAX; k];
    for (&x, &y) in a.iter().zip(b) {
        if map[x] == usize::MAX {
            map[x] = y;
        } else if map[x] != y {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observer::NoObserver;
    use crate::rng::Rng;
    use crate::validate::check_data;
    use ndarray::ShapeBuilder;

    fn data(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut rng = Rng::with_stream(seed, 0);
        Array2::from_shape_fn((n, d), |_| (rng.uniform() - 0.3) * 1e3)
    }

    /// The column sums of `x × scale` in fixed blocks, as `Prepared::new` summed them before the
    /// scan took that over.
    fn separate_sums(x: ArrayView2<f64>, scale: f64) -> Vec<f64> {
        column_sums_of(x, |v| v * scale)
    }

    /// The column sums of `f(x)` in fixed blocks, row by row.
    fn column_sums_of(x: ArrayView2<f64>, f: impl Fn(f64) -> f64 + Sync) -> Vec<f64> {
        let d = x.ncols();
        par_blocks(
            x.nrows(),
            0,
            &mut [] as &mut [u8],
            &|s, e, _| {
                let mut sums = vec![0.0f64; d];
                for row in x.slice(ndarray::s![s..e, ..]).outer_iter() {
                    for (acc, &v) in sums.iter_mut().zip(row.iter()) {
                        *acc += f(v);
                    }
                }
                sums
            },
            &|a: &mut Vec<f64>, b| add_sums(a, b),
        )
    }

    /// Big data near the origin are taken as they are, with the column means they would have
    /// been centred on (rows not in one slice copied as they are); big data far from it, scaled
    /// data and smaller data are centred (copied).
    #[test]
    fn only_big_data_near_the_origin_are_taken_as_they_are() {
        let d = 4;
        let n = BORROW_MIN_VALUES / d;
        let x = data(n, d, 5);
        let scan = Scan::with_squares(x.view()).unwrap();
        let p = Prepared::new(x.view(), 1.0, scan, &NoObserver, true).unwrap();
        assert!(p.x.is_view() && p.kept.is_none());
        assert_eq!(p.x, x);
        let sums = separate_sums(x.view(), 1.0);
        assert_eq!(p.origin, sums.iter().map(|s| s / n as f64).collect::<Vec<_>>());
        assert_eq!((p.mean.clone(), p.scale), (vec![0.0; d], 1.0));
        assert_eq!(p.max_abs(), check_data(x.view()).unwrap());
        let two_pass = x.var_axis(Axis(0), 0.0).mean().unwrap();
        assert!((p.mean_variance() - two_pass).abs() <= 1e-12 * two_pass);
        let c = x.slice(ndarray::s![..3, ..]).to_owned();
        assert_eq!((p.to_prepared(&c), p.to_caller(&c)), (c.clone(), c));
        let centred = |x: ArrayView2<f64>| {
            let p = Prepared::new(x, 1.0, Scan::with_squares(x).unwrap(), &NoObserver, false).unwrap();
            !p.x.is_view() && p.origin.is_empty()
        };
        assert!(centred(x.mapv(|v| v + 2e3).view()), "far from the origin");
        assert!(centred(x.slice(ndarray::s![..n - 1, ..])), "smaller");
        let scan = Scan::with_squares(x.view()).unwrap();
        let q = Prepared::new(x.view(), 2f64.powi(-40), scan, &NoObserver, false).unwrap();
        assert!(!q.x.is_view() && q.origin.is_empty(), "scaled");
        // Column-major rows are copied as they are: the same values and moments.
        let mut columns = Array2::zeros((n, d).f());
        columns.assign(&x);
        let q = Prepared::new(
            columns.view(),
            1.0,
            Scan::with_squares(columns.view()).unwrap(),
            &NoObserver,
            false,
        )
        .unwrap();
        assert!(!q.x.is_view());
        assert_eq!((&q.x, &q.origin, &q.sums, &q.squares), (&p.x, &p.origin, &p.sums, &p.squares));
    }

    /// Where every sample sits on its centre and a cluster is empty, scikit-learn copies a later
    /// cluster's weighted sum of centred data into it; big data taken as they are get that
    /// centre too (the copy moved by the means), held in one slice or column-major (copied as
    /// they are), by every step; an earlier cluster's mean is copied as it is. Dyadic values:
    /// every sum and mean is exact.
    #[test]
    fn an_empty_cluster_copies_the_centred_sum_where_data_are_taken_as_they_are() {
        let (a, b, c) = ([1.0, 2.0], [4.0, -1.0], [-2.0, 0.5]);
        let n = BORROW_MIN_VALUES / 2;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| match i % 4 {
            0 | 1 => a[j],
            2 => b[j],
            _ => c[j],
        });
        let mut columns = Array2::zeros((n, 2).f());
        columns.assign(&x);
        let init = ndarray::array![[30.0, 30.0], a, b, c];
        // The heaviest cluster (a, weight n / 2) less the means (1, 0.875), times the weight,
        // moved back by the means.
        let w = (n / 2) as f64;
        let copied = [(a[0] - 1.0) * w + 1.0, (a[1] - 0.875) * w + 0.875];
        for algorithm in [Algorithm::Lloyd, Algorithm::Hamerly, Algorithm::Elkan] {
            let params =
                KMeans::params(4).algorithm(algorithm).init(Init::Centers(init.clone())).check().unwrap();
            for (fit, what) in [
                (params.fit(x.view()).unwrap(), "as it is"),
                (params.fit(columns.view()).unwrap(), "column-major"),
            ] {
                assert_eq!(fit.centers().row(0).to_vec(), copied, "{algorithm:?} {what}");
                assert_eq!(fit.centers().slice(ndarray::s![1.., ..]), init.slice(ndarray::s![1.., ..]));
                assert_eq!(
                    fit.labels().iter().map(|&j| j as i64 - 1).collect::<Vec<_>>(),
                    (0..n).map(|i| [0, 0, 1, 2][i % 4]).collect::<Vec<_>>()
                );
                assert_eq!(fit.n_iter(), 2, "{algorithm:?} {what}");
            }
            // The heaviest cluster before the empty one: its mean is copied, wherever the data lie.
            let init = ndarray::array![a, [30.0, 30.0], b, c];
            let fit = KMeans::params(4).algorithm(algorithm).init(Init::Centers(init)).fit(x.view()).unwrap();
            assert_eq!(fit.centers(), ndarray::array![a, a, b, c], "{algorithm:?}");
            assert_eq!(fit.labels().to_vec(), (0..n).map(|i| [0, 0, 2, 3][i % 4]).collect::<Vec<_>>());
        }
    }

    /// The column tiles of the centring pass and the scan cover every column once, in order.
    #[test]
    fn column_tiles_cover_every_column_once() {
        for d in 1..=200 {
            let mut next = 0;
            for (p0, width) in tiles(d) {
                assert_eq!(p0, next, "d = {d}");
                assert!(width.is_power_of_two() && width <= CENTRE_TILE, "d = {d}");
                next += width;
            }
            assert_eq!(next, d);
        }
    }

    #[test]
    fn the_fused_passes_give_the_separate_passes_bits() {
        for (n, d) in [(1, 3), (300, 2), (1797, 64), (5000, 7), (700, 40), (600, 63)] {
            for scale in [1.0, 2f64.powi(-40)] {
                let x = data(n, d, n as u64);
                let scan = Scan::new(x.view()).unwrap();
                assert_eq!(scan.max_abs, check_data(x.view()).unwrap());
                // The squares made in the scan are summed per column in row order, and the sums
                // beside them are the plain scan's.
                let with = Scan::with_squares(x.view()).unwrap();
                assert_eq!((&with.sums, with.max_abs), (&scan.sums, scan.max_abs));
                assert_eq!(with.squares, column_sums_of(x.view(), |v| v * v), "{n}x{d}");
                let p = Prepared::new(x.view(), scale, scan, &NoObserver, true).unwrap();
                // The layout for f32 products and the norms made in the pass are those of a
                // pass over its output.
                let kept = p.kept.as_ref().expect("asked for");
                assert_eq!(
                    *kept,
                    crate::kernels::gemm::columns_f32(p.x.view(), true),
                    "{n}x{d}, scale {scale}"
                );
                assert_eq!(kept.1, crate::kernels::row_norms(p.x.view()), "{n}x{d}, scale {scale}");
                let sums = separate_sums(x.view(), scale);
                let mean: Vec<f64> = sums.iter().map(|s| s / n as f64).collect();
                assert_eq!(p.mean, mean, "{n}x{d}, scale {scale}");
                // Every value is its own, scaled, less its column's mean.
                let centred = Array2::from_shape_fn((n, d), |(i, j)| x[[i, j]] * scale - mean[j]);
                assert_eq!(p.x, centred, "{n}x{d}, scale {scale}");
                // The first moments from the centring pass are those of a pass over its output.
                assert_eq!(p.sums, separate_sums(p.x.view(), 1.0), "{n}x{d}, scale {scale}");
                // The largest magnitude found with them is the prepared data's.
                assert_eq!(p.max_abs(), check_data(p.x.view()).unwrap(), "{n}x{d}, scale {scale}");
                // The mean variance from the pass's moments is the two-pass one (to rounding).
                let two_pass = p.x.var_axis(Axis(0), 0.0).mean().unwrap();
                assert!((p.mean_variance() - two_pass).abs() <= 1e-12 * two_pass, "{n}x{d}, scale {scale}");
                assert!(p.mean_variance() > 0.0 || n == 1);
                // Column-major data (not one slice of rows) is prepared to the same bits.
                let columns = x.t().to_owned();
                let q =
                    Prepared::new(columns.t(), scale, Scan::new(columns.t()).unwrap(), &NoObserver, false)
                        .unwrap();
                assert!(q.kept.is_none());
                assert_eq!((q.x, q.mean, q.sums, q.squares), (p.x, p.mean, p.sums, p.squares));
                assert_eq!(q.max_abs, p.max_abs);
            }
        }
    }

    #[test]
    fn the_scan_refuses_what_check_data_refuses() {
        let x = data(700, 5, 3);
        for (at, bad) in [((0, 0), f64::NAN), ((699, 4), f64::INFINITY), ((300, 2), f64::NEG_INFINITY)] {
            let mut y = x.clone();
            y[at] = bad;
            let expected = check_data(y.view()).unwrap_err().to_string();
            assert_eq!(Scan::new(y.view()).err().unwrap().to_string(), expected);
            // Any layout: the first bad value in row-major order of the view.
            let yt = y.t();
            let expected = check_data(yt).unwrap_err().to_string();
            assert_eq!(Scan::new(yt).err().unwrap().to_string(), expected);
        }
        assert_eq!(Scan::new(x.t()).unwrap().max_abs, check_data(x.view()).unwrap());
        assert!(Scan::new(Array2::<f64>::zeros((0, 3)).view()).is_err());
        assert!(Scan::new(Array2::<f64>::zeros((3, 0)).view()).is_err());
    }

    /// Notes the threads that ask whether to stop (every leaf of every pass asks).
    struct Threads(std::sync::Mutex<std::collections::HashSet<std::thread::ThreadId>>);

    impl Observer for Threads {
        fn should_stop(&self) -> bool {
            self.0.lock().unwrap().insert(std::thread::current().id());
            false
        }
    }

    #[test]
    fn a_fit_said_to_run_on_the_calling_thread_does() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        for algorithm in [Algorithm::Auto, Algorithm::Lloyd, Algorithm::Elkan, Algorithm::Hamerly] {
            let params = KMeans::params(4).algorithm(algorithm).n_init(NInit::Runs(2)).check().unwrap();
            assert!(params.runs_on_calling_thread(2048) && !params.runs_on_calling_thread(2049));
            let x = data(2048, 3, 5);
            // Called from a pool thread, so that any parallel step would reach the other one.
            let seen = pool.install(|| {
                let seen = Threads(Default::default());
                params.fit_with(x.view(), None, &seen).unwrap();
                let caller = std::thread::current().id();
                seen.0.into_inner().unwrap().into_iter().all(|t| t == caller)
            });
            assert!(seen, "{algorithm:?}");
        }
        let exact1d = KMeans::params(4).algorithm(Algorithm::Exact1d).check().unwrap();
        assert!(!exact1d.runs_on_calling_thread(10));
    }

    #[test]
    fn predictions_said_to_run_on_the_calling_thread_do() {
        let joins = || crate::parallel::JOINS.with(|j| j.get());
        let model = KMeans::params(4).check().unwrap().fit(data(600, 3, 5).view()).unwrap();
        for n in [1, 300, 2048, 2049, 5000] {
            let x = data(n, 3, 6);
            let before = joins();
            model.predict(x.view()).unwrap();
            model.transform(x.view()).unwrap();
            model.score(x.view(), None).unwrap();
            let split = joins() != before;
            assert_eq!(split, !model.runs_on_calling_thread(n), "n = {n}");
        }
    }

    /// `n` rows of `d` features drawn from `distinct` rows (each repeated, in scattered order).
    fn repeated<F: Float>(n: usize, distinct: usize, d: usize, seed: u64) -> Array2<F> {
        let pool = data(distinct, d, seed);
        Array2::from_shape_fn((n, d), |(i, j)| F::from_f64(pool[[(i * 7919) % distinct, j]]))
    }

    /// Two fits alike: the same labels and iterations, centres and inertia to rounding (the
    /// distinct rows' sums are added in another order).
    fn assert_alike<F: Float>(a: &KMeans<F>, b: &KMeans<F>, what: &str) {
        assert_eq!(a.labels(), b.labels(), "{what}");
        assert_eq!(a.n_iter(), b.n_iter(), "{what}");
        let tol = 1e4 * F::UNIT_ROUNDOFF;
        let close = |x: f64, y: f64, size: f64| (x - y).abs() <= tol * size;
        let size = a.centers().iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs()));
        for (x, y) in a.centers().iter().zip(b.centers().iter()) {
            assert!(close(x.to_f64(), y.to_f64(), size), "{what}: centre {x:?} against {y:?}");
        }
        assert!(
            close(a.inertia(), b.inertia(), a.inertia()),
            "{what}: {} against {}",
            a.inertia(),
            b.inertia()
        );
    }

    /// The fit without and with the search for repeated rows: the second iterates on fewer
    /// rows.
    fn both_fits<F: Float>(
        params: &ValidKMeansParams,
        x: &Array2<F>,
        w: Option<ArrayView1<f64>>,
    ) -> (KMeans<F>, KMeans<F>) {
        let (plain, all) = fit_rows(params, x.view(), w, &NoObserver, false).unwrap();
        let (merged, distinct) = fit_rows(params, x.view(), w, &NoObserver, true).unwrap();
        assert_eq!(all, x.nrows());
        assert!(distinct < all, "the fit ran on the distinct rows");
        (plain, merged)
    }

    /// Weights that are not sums of a few powers of two (their sums round), some zero.
    fn rough_weights(n: usize) -> Vec<f64> {
        (0..n).map(|i| if i % 11 == 0 { 0.0 } else { 0.1 + 0.3 * (i % 7) as f64 }).collect()
    }

    fn fits_on_repeats_are_the_plain_fits<F: Float>() {
        let weights = rough_weights(9000);
        let algorithms =
            [Algorithm::Auto, Algorithm::Lloyd, Algorithm::Hamerly, Algorithm::Elkan, Algorithm::Yinyang];
        // Narrow rows (the across-rows kernels) and wide ones (the generic and GEMM paths).
        for d in [3, 12] {
            let x = repeated::<F>(9000, 700, d, 11);
            for (algorithm, k) in algorithms.into_iter().flat_map(|a| [(a, 8), (a, 40)]) {
                for w in [None, Some(ArrayView1::from(&weights))] {
                    for init in [Init::KMeansPlusPlus, Init::Random] {
                        let params = KMeans::params(k)
                            .algorithm(algorithm)
                            .init(init.clone())
                            .seed(3)
                            .check()
                            .unwrap();
                        let (plain, merged) = both_fits(&params, &x, w);
                        let what = format!(
                            "{} d={d} {algorithm:?} k={k} weighted={} {init:?}",
                            F::DTYPE,
                            w.is_some()
                        );
                        assert_alike(&merged, &plain, &what);
                        assert!(plain.n_iter() > 2, "{what}: a run of a few iterations");
                    }
                }
            }
        }
    }

    /// The iterations on distinct rows (weighted or not, every algorithm) give the fit of every
    /// row.
    #[test]
    fn fits_on_repeated_rows_are_those_of_every_row() {
        fits_on_repeats_are_the_plain_fits::<f64>();
        fits_on_repeats_are_the_plain_fits::<f32>();
    }

    /// A cluster left empty takes the farthest of the caller's rows, with its weight, as
    /// without the merge: here two starting centres lie far from every row, and the farthest
    /// rows tie between copies.
    #[test]
    fn empty_clusters_take_the_rows_they_would_take() {
        let x = repeated::<f64>(6000, 50, 2, 12);
        let weights = rough_weights(x.nrows());
        let mut start = x.slice(ndarray::s![..6, ..]).to_owned();
        start.row_mut(4).fill(1e6);
        start.row_mut(5).fill(-1e6);
        for algorithm in [Algorithm::Lloyd, Algorithm::Elkan] {
            for w in [None, Some(ArrayView1::from(&weights))] {
                let params = KMeans::params(6)
                    .algorithm(algorithm)
                    .init(Init::Centers(start.clone()))
                    .check()
                    .unwrap();
                let (plain, merged) = both_fits(&params, &x, w);
                assert_alike(&merged, &plain, &format!("{algorithm:?} weighted={}", w.is_some()));
                // Both far centres were moved onto rows.
                assert!(plain.centers().iter().all(|v| v.abs() < 1e3));
            }
        }
    }

    /// Narrow rows sum every pass afresh exactly where `auto` runs Lloyd's passes on them.
    #[test]
    fn sums_are_summed_afresh_where_auto_runs_lloyd_on_narrow_rows() {
        for (d, k) in [(1, 1), (2, 8), (2, 31), (8, 31)] {
            assert!(sums_fresh_only::<f64>(d, k), "d={d} k={k}");
        }
        for (d, k) in [(2, 32), (3, 64), (8, 32), (9, 8), (64, 10)] {
            assert!(!sums_fresh_only::<f64>(d, k), "d={d} k={k}");
        }
        assert!(
            sums_fresh_only::<f32>(4, 31) && !sums_fresh_only::<f32>(5, 8) && !sums_fresh_only::<f32>(2, 32)
        );
    }

    /// `auto` runs plain Lloyd where its measured crossover says so, bounds elsewhere (Hamerly's
    /// on rows the across-rows kernel takes).
    #[test]
    fn auto_follows_the_measured_crossovers() {
        let auto = |d, k| choose(Algorithm::Auto, 100_000, d, k, 8);
        for (d, k) in [(2, 8), (3, 31), (8, 31), (5, 16), (100, 1)] {
            assert_eq!(auto(d, k), Choice::Lloyd, "d={d} k={k}");
        }
        for (d, k) in [(2, 32), (3, 64), (4, 256), (2, 1000), (5, 33), (8, 32), (8, 256)] {
            assert_eq!(auto(d, k), Choice::NarrowBounds, "d={d} k={k}");
        }
        for (d, k) in [(9, 33), (16, 8)] {
            assert!(matches!(auto(d, k), Choice::Bounds(_)), "d={d} k={k}");
        }
        // float32 rows of 5 to 8 features go to the generic kernel: no block bounds.
        assert!(matches!(choose(Algorithm::Auto, 100_000, 6, 64, 4), Choice::Bounds(_)));
        assert_eq!(choose(Algorithm::Hamerly, 100_000, 6, 64, 4), Choice::Bounds(1));
        assert_eq!(choose(Algorithm::Hamerly, 100_000, 6, 64, 8), Choice::NarrowBounds);
        // float32 rows the across-rows kernel takes: the same edge.
        assert_eq!(choose(Algorithm::Auto, 100_000, 2, 31, 4), Choice::Lloyd);
        assert_eq!(choose(Algorithm::Auto, 100_000, 2, 32, 4), Choice::NarrowBounds);
        assert_eq!(choose(Algorithm::Auto, 100_000, 6, 32, 4), Choice::Lloyd);
        assert!(matches!(choose(Algorithm::Auto, 100_000, 6, 33, 4), Choice::Bounds(_)));
        // Few rows with few clusters, on the matrix-product path: Lloyd; more rows or clusters,
        // or rows too narrow for the products: bounds.
        for (n, d, k) in [(1797, 64, 10), (5000, 16, 32), (300, 128, 8)] {
            assert_eq!(choose(Algorithm::Auto, n, d, k, 8), Choice::Lloyd, "n={n} d={d} k={k}");
        }
        for (n, d, k) in [(5001, 64, 10), (1797, 64, 33), (2000, 12, 16), (2000, 16, 4), (2000, 16, 15)] {
            assert!(matches!(choose(Algorithm::Auto, n, d, k, 4), Choice::Bounds(_)), "n={n} d={d} k={k}");
        }
        // f64 rows on the products' path: Lloyd at any size (products in f32), behind the filter
        // from 50 000 rows; off it, bounds.
        for (n, d, k) in [(5001, 64, 10), (1797, 64, 33), (49_999, 16, 100)] {
            assert_eq!(choose(Algorithm::Auto, n, d, k, 8), Choice::Lloyd, "n={n} d={d} k={k}");
        }
        for (n, d, k) in [(50_000, 16, 100), (500_000, 16, 100), (100_000, 128, 256)] {
            assert_eq!(choose(Algorithm::Auto, n, d, k, 8), Choice::FilteredLloyd, "n={n} d={d} k={k}");
            assert_eq!(choose(Algorithm::Auto, n, d, k, 4), Choice::FilteredLloyd, "f32 n={n} d={d} k={k}");
        }
        assert!(matches!(choose(Algorithm::Auto, 49_999, 16, 100, 4), Choice::Bounds(_)));
        for (n, d, k) in [(2000, 12, 16), (2000, 16, 4), (2000, 16, 15), (100_000, 15, 256)] {
            assert!(matches!(choose(Algorithm::Auto, n, d, k, 8), Choice::Bounds(_)), "n={n} d={d} k={k}");
        }
        // The products' edge d·k = 256, and float32 rows alike.
        assert_eq!(choose(Algorithm::Auto, 2000, 16, 16, 8), Choice::Lloyd);
        assert_eq!(choose(Algorithm::Auto, 2000, 16, 16, 4), Choice::Lloyd);
        assert!(matches!(choose(Algorithm::Auto, 2000, 16, 15, 4), Choice::Bounds(_)));
    }
}
