//! Greedy k-means++ with scikit-learn's candidate rule.

use ndarray::{Array2, ArrayView2, Axis};

use crate::error::KMeansError;
use crate::float::Float;
use crate::kernels::gemm::transpose_f16;
use crate::kernels::lanes::{CAND_LANES, COL_ROWS, narrow_f16, prefetch, products, widen_f16};
use crate::kernels::{LANES, sq_dist};
use crate::observer::Observer;
use multiversion::multiversion;
use rayon::prelude::*;

use crate::numpy_random::NumpyRandom;
use crate::parallel::{LEAF_ROWS, RowParts, Rows, par_blocks, par_blocks_sized, runs_sequentially};

mod columns;
use columns::{column_leaf, column_screen_available};

/// Row indices of `n_clusters` greedy k-means++ centres of `x` (standard layout, finite, with at
/// least `n_clusters` rows).
///
/// The candidate rule is scikit-learn's: each step draws `n_local_trials` candidates with
/// probability proportional to weight × squared distance to the nearest chosen centre, and keeps
/// the one with the lowest resulting potential (the largest potential removed). All candidates
/// of a step are evaluated in one pass over the data:
///
/// - rows up to [`NARROW_MAX_FEATURES`] wide are measured [`NARROW_ROWS`] samples per vector,
///   from a feature-major copy of the data made once, in one pass per step that also settles
///   the centre chosen in the step before;
/// - wider rows are screened: from a feature-major float16 copy where the CPU has AVX-512
///   (sixteen rows per vector, every candidate's features broadcast into it: [`columns`]),
///   else [`CAND_LANES`] candidates per vector. The triangle inequality
///   (Raff, "Exact Acceleration of K-Means++ and K-Means‖", IJCAI 2021) skips every sample that
///   no candidate can bring closer: every sample remembers its nearest chosen centre `c_j`, and a
///   candidate `c` can improve it only if `‖c − c_j‖ < 2·√D(x)` (the pass that tests rows
///   before their products stops once it skips under one row in [`SKIP_ROWS_MIN_SHARE`]; the
///   row-major screen still applies it per candidate, the feature-major one per group of
///   candidates). The other samples get every
///   candidate's `‖x‖² + ‖c‖² − 2 x·c` (from that float16 copy; without AVX-512, from a
///   row-major float16 copy of big data, a float32 copy of other float64 rows: the pass is
///   memory-bound). That expansion only screens and estimates: a candidate that may beat
///   the current distance within its rounding error is left open, and the best candidate is the
///   estimates' best only when they separate it from every other by more than their error
///   bounds (else the open distances of every candidate that may still be the best are
///   measured). The chosen candidate's open distances are
///   then measured directly ([`sq_dist`], in the data's own type), so every distance kept is the
///   direct kernel's and the choice is the one exact gains make. Both passes read rows that may
///   lie far apart (and cross pages, where the hardware's own prefetch stops), so they ask for
///   the rows a little ahead ([`prefetch`]).
///
/// Per-leaf sums of the potential are kept beside the distances, so that a draw reads one leaf
/// of samples rather than all of them.
///
/// `max_abs` is the largest magnitude in `x`, which every caller has from its own pass over the
/// data (the screening copies are scaled by it).
pub(crate) fn kmeans_plusplus_indices<F: Float>(
    x: ArrayView2<F>,
    max_abs: f64,
    weights: Option<&[f64]>,
    n_clusters: usize,
    n_local_trials: usize,
    rng: &mut NumpyRandom,
    observer: &dyn Observer,
) -> Result<Vec<usize>, KMeansError> {
    seed(x, max_abs, weights, n_clusters, n_local_trials, rng, observer, Screening::Auto)
}

/// Row indices as [`kmeans_plusplus_indices`] chooses them, measuring every distance directly
/// (no screen, no triangle inequality): the reference of the tests.
#[cfg(test)]
pub(super) fn brute_indices<F: Float>(
    x: ArrayView2<F>,
    max_abs: f64,
    n_clusters: usize,
    n_local_trials: usize,
    rng: &mut NumpyRandom,
) -> Vec<usize> {
    seed(x, max_abs, None, n_clusters, n_local_trials, rng, &crate::observer::NoObserver, Screening::Brute)
        .expect("no observer to stop it")
}

/// How wide rows are screened: the fast way, or a forced one (tests compare them).
#[derive(Clone, Copy, PartialEq, Debug)]
#[cfg_attr(not(test), allow(dead_code))]
enum Screening {
    /// Products from a feature-major float16 copy for wide rows where the CPU has AVX-512
    /// ([`column_screen_available`]), else from a row-major one for wide rows of big data
    /// ([`half_pays`]), else from a float32 copy for wide float64 rows, else from the data.
    Auto,
    /// Products from the data itself.
    Native,
    /// Products from a float32 copy whenever the values fit.
    Float32,
    /// No triangle inequality and no screen: every distance measured directly.
    Brute,
    /// As `Auto` without the feature-major copy (which has no row-level pass), and every row
    /// screened (no row is skipped before its products).
    EveryRow,
    /// Products from a row-major float16 copy whenever the values fit.
    Half,
    /// Products from a feature-major float16 copy whenever the values fit.
    Columns,
}

#[allow(clippy::too_many_arguments)]
fn seed<F: Float>(
    x: ArrayView2<F>,
    max_abs: f64,
    weights: Option<&[f64]>,
    n_clusters: usize,
    n_local_trials: usize,
    rng: &mut NumpyRandom,
    observer: &dyn Observer,
    screening: Screening,
) -> Result<Vec<usize>, KMeansError> {
    let n = x.nrows();
    let d = x.ncols();
    let data = x.as_slice().expect("standard layout");
    let row = |i: usize| &data[i * d..(i + 1) * d];

    // First centre: a sample drawn in proportion to its weight.
    let first = rng.choice::<F>(n, weights);
    let mut chosen = vec![first];
    let input = Input { data, d, weights };
    let narrow = d <= NARROW_MAX_FEATURES;
    let columns = if narrow { feature_major(data, d) } else { Vec::new() };
    let half = match screening {
        // Feature-major wherever the CPU screens it fast: the products and tests, not only the
        // bytes streamed, are cheaper (see [`half_pays`]).
        Screening::Auto if !narrow && column_screen_available() => HalfCopy::new(data, d, max_abs, true),
        Screening::Auto | Screening::EveryRow if half_pays(n, d) => HalfCopy::new(data, d, max_abs, false),
        Screening::Half if !narrow => HalfCopy::new(data, d, max_abs, false),
        Screening::Columns if !narrow => HalfCopy::new(data, d, max_abs, true),
        _ => None,
    };
    // Wide rows: ‖x‖² per row, made with the float16 copy where there is one (in its pass).
    let (half, sq_norms) = match half {
        Some((half, sq_norms)) => (Some(half), sq_norms),
        None if narrow => (None, Vec::new()),
        None => {
            let mut out = vec![0.0; n];
            par_blocks(
                n,
                1,
                &mut out,
                &|s, _e, out: &mut [f64]| sq_norms_of(&data[s * d..], d, out),
                &|_, _| {},
            );
            (None, out)
        }
    };
    let screen32 = match screening {
        _ if half.is_some() => None,
        // Wide float64 rows: half the bytes to stream (see [`f32_copy`]).
        Screening::Auto | Screening::EveryRow if !narrow && F::DTYPE == "float64" => f32_copy(data, d),
        Screening::Float32 if !narrow => f32_copy(data, d),
        _ => None,
    };
    let brute = screening == Screening::Brute;
    // (Narrow rows never test the triangle inequality: no nearest centres.)
    let nearest = if narrow { Vec::new() } else { crate::memory::zeroed(0u32, n) };
    let closest = crate::memory::filled(F::MAX, n);
    let mut state = State { closest, nearest, masses: vec![0.0; n.div_ceil(LEAF_ROWS)] };
    state.settle(&input, &columns, row(first), 0);
    // Whether the triangle inequality skips rows before their products: only worth its pass
    // while it skips some (it changes nothing found: the screens apply it too).
    let mut skip_rows = screening != Screening::EveryRow;
    // Narrow rows: the centre chosen last, settled only by the next pass (each step then reads
    // the rows once).
    let mut pending: Option<usize> = None;

    for _ in 1..n_clusters {
        if observer.should_stop() {
            return Err(KMeansError::Cancelled);
        }
        let potential: f64 = state.masses.iter().sum();
        let targets: Vec<f64> = (0..n_local_trials).map(|_| rng.random_sample() * potential).collect();
        let candidates = state.draw(&input, pending.map(row), &targets);
        let cand_rows = x.select(Axis(0), &candidates);
        let label = chosen.len() as u32;
        let best = if narrow {
            let settle = pending.map(row);
            let (potentials, masses) = narrow_step(&input, &columns, settle, &cand_rows, &mut state);
            let best = lowest_potential(&potentials);
            let t = candidates.len();
            state.masses.iter_mut().zip(masses.chunks_exact(t)).for_each(|(m, leaf)| *m = leaf[best]);
            pending = Some(candidates[best]);
            best
        } else {
            // Squared distances from each candidate to each chosen centre, for the triangle
            // inequality.
            let gaps: Vec<Vec<f64>> = candidates
                .iter()
                .map(|&c| chosen.iter().map(|&j| sq_dist(row(c), row(j)).to_f64()).collect())
                .collect();
            let found = match (&half, &screen32) {
                (Some(half), _) => WideStep::<F, f32>::new(&cand_rows, &gaps, &sq_norms, brute, skip_rows)
                    .with_half(half)
                    .evaluate(&input, &[], &state),
                (None, Some(copy)) => WideStep::<F, f32>::new(&cand_rows, &gaps, &sq_norms, brute, skip_rows)
                    .evaluate(&input, copy, &state),
                (None, None) => WideStep::<F, F>::new(&cand_rows, &gaps, &sq_norms, brute, skip_rows)
                    .evaluate(&input, data, &state),
            };
            skip_rows &= worth_skipping(found.screened, n);
            let best = found.best(&input, &cand_rows, &state, brute);
            let c = cand_rows.row(best);
            let c = c.as_slice().expect("standard layout");
            // Tests check every step against measuring every sample directly.
            let reference = cfg!(test).then(|| {
                let mut all = state.clone();
                all.settle(&input, &[], c, label);
                all
            });
            state.take(&input, &found, best, c, label);
            if let Some(all) = reference {
                assert!(state == all, "the open samples settle the step as every sample does");
            }
            best
        };
        chosen.push(candidates[best]);
    }
    Ok(chosen)
}

/// `a < b` where both are numbers (false where either is NaN).
#[inline(always)]
fn surely_below(a: f64, b: f64) -> bool {
    a.partial_cmp(&b) == Some(std::cmp::Ordering::Less)
}

/// `a ≥ b` where both are numbers (false where either is NaN): a test that a NaN, from squares
/// that overflow, must not pass.
#[inline(always)]
fn surely_not_below(a: f64, b: f64) -> bool {
    matches!(a.partial_cmp(&b), Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal))
}

/// ‖x‖² of the rows of `rows` (`d` values each), one per slot of `out`: in float64 (a float32
/// row's never overflows), in eight interleaved sums (the screens' error bounds allow for the
/// rounding of any order).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn sq_norms_of<F: Float>(rows: &[F], d: usize, out: &mut [f64]) {
    for (slot, r) in out.iter_mut().zip(rows.chunks_exact(d)) {
        let mut acc = [0.0f64; 8];
        let chunks = r.chunks_exact(8);
        for (a, &v) in acc.iter_mut().zip(chunks.remainder()) {
            *a = v.to_f64() * v.to_f64();
        }
        for chunk in chunks {
            for (a, &v) in acc.iter_mut().zip(chunk) {
                *a += v.to_f64() * v.to_f64();
            }
        }
        *slot = acc.iter().sum();
    }
}

/// The row-level triangle inequality stops being tried once it skips fewer than one row in this
/// many (uniform 500k × 16, measured when 16 features were still screened: it skipped about one
/// in 200; its pass cost 0.1 s of 1.2 s).
const SKIP_ROWS_MIN_SHARE: usize = 20;

/// Whether the row-level pass is worth another step, after it left `screened` of `n` rows.
fn worth_skipping(screened: usize, n: usize) -> bool {
    screened < n - n / SKIP_ROWS_MIN_SHARE
}

/// `f` over `items`, in order: in parallel unless the data (`n_rows`) are small enough for every
/// pass to stay on the calling thread.
fn map_in_order<T: Sync, R: Send>(n_rows: usize, items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    if runs_sequentially(n_rows) { items.iter().map(f).collect() } else { items.par_iter().map(f).collect() }
}

/// Largest magnitude for which float64 data is screened in float32: squares and products stay
/// far inside float32's range.
const F32_SCREEN_MAX_ABS: f64 = (1u64 << 40) as f64;

/// The data (rows of `d`) in float32, for screening, where every value fits comfortably; made
/// in parallel. Wide float64 rows without a float16 copy ([`half_pays`]) are screened from it:
/// half the bytes to stream, and only the chosen candidate's open rows are then read in
/// float64. Measured (CPU time of one k-means++, one thread, loaded machine, when 16 features
/// were still screened): uniform 500k × 16, k = 100: 1.48 s with the copy, 1.93 s without;
/// blobs 200k × 32, k = 64: 0.60 vs 0.73 s; blobs 100k × 128, k = 256: 3.3 vs 5.1 s (before the
/// certified choice).
fn f32_copy<F: Float>(data: &[F], d: usize) -> Option<Vec<f32>> {
    let mut out = crate::memory::zeroed(0.0f32, data.len());
    let fits = par_blocks(
        data.len() / d,
        d,
        &mut out,
        &|s, _e, out: &mut [f32]| {
            let mut fits = true;
            for (o, v) in out.iter_mut().zip(&data[s * d..]) {
                fits &= v.to_f64().abs() <= F32_SCREEN_MAX_ABS;
                *o = v.to_f64() as f32;
            }
            fits
        },
        &|a: &mut bool, b| *a &= b,
    );
    fits.then_some(out)
}

/// Whether `n` rows of `d` features are screened from a row-major float16 copy, on CPUs
/// without the AVX-512 instructions of the feature-major one (which every row wider than
/// [`NARROW_MAX_FEATURES`] gets where they exist): wide enough rows, and
/// more of them than stay in a core's cache, where streaming them bounds the pass (the copy
/// halves the bytes of the float32 one). Measured (wall time of one k-means++, two threads,
/// median of three runs of three seeds, float16 vs float32 copy): blobs 100k × 128, k = 256:
/// 0.87 vs 1.06 s; blobs 200k × 32, k = 64: 0.31 vs 0.36 s; but uniform 500k × 16, k = 100: 1.15
/// vs 0.88 s (one block of features per row, and near distances that the coarser screen leaves
/// open). Held feature-major ([`columns`]), the float16 copy took 0.52 against 0.69 s
/// (100k × 128) and 0.18 against 0.25 s (200k × 32), row-major with AVX-512 products across
/// features; 16 features screened that way (uniform 500k × 16) took 0.73 s against the narrow
/// path's 0.56 s. Small or narrower data gain from it too (five k-means++ runs, two threads,
/// feature-major float16 against a row-major float32 copy): digits (1797 × 64, k = 10) 3.3–3.5
/// against 4.4–4.6 ms; blobs 20k × 32, k = 64, 89 against 129 ms; blobs 100k × 24, k = 50, 345–357
/// against 445–447 ms; blobs 5k × 20, k = 10, about the same (6.4–8.8 ms).
fn half_pays(n: usize, d: usize) -> bool {
    d >= HALF_SCREEN_MIN_FEATURES && n * d * std::mem::size_of::<f32>() > HALF_SCREEN_MIN_BYTES
}

/// See [`half_pays`].
const HALF_SCREEN_MIN_FEATURES: usize = 32;
/// See [`half_pays`]: more than a core's level-2 cache holds.
const HALF_SCREEN_MIN_BYTES: usize = 4 << 20;

/// The data in float16, for screening: each value times `scale` (a power of two that brings
/// the largest magnitude to at most 2¹⁴), rounded to float32 and then truncated to float16
/// ([`narrow_f16`]). Each value of the copy, times `inv_scale`, is within `HALF_DELTA × |x| +
/// HALF_TINY × inv_scale` of the data's value `x`.
struct HalfCopy {
    bits: Vec<u16>,
    /// 1 / `scale` (exact: a power of two).
    inv_scale: f64,
    /// The largest magnitude of the data.
    max_abs: f64,
    /// Whether the copy is feature-major in blocks of [`COL_ROWS`] rows: row `i`, feature `f`
    /// at `(i / COL_ROWS) * COL_ROWS * d + f * COL_ROWS + i % COL_ROWS` (zero past the last
    /// row); else row-major.
    columns: bool,
}

/// Smallest largest magnitude for which a [`HalfCopy`] is made: its scale stays far inside
/// float64's range.
const HALF_MIN_ABS: f64 = 1e-250;

/// Relative error of one value of a [`HalfCopy`]: rounding to float32, then truncation to
/// float16's 10 bits.
const HALF_DELTA: f64 = 1.0 / 1024.0 + 1.0 / (1u64 << 23) as f64;
/// Absolute error of one value of a [`HalfCopy`] (below float16's smallest subnormal), in
/// scaled units.
const HALF_TINY: f64 = 1.0 / (1u64 << 24) as f64;

impl HalfCopy {
    /// The copy (made in parallel), where the largest magnitude (`max_abs`) is positive and at
    /// most [`F32_SCREEN_MAX_ABS`], with each row's ‖x‖² ([`sq_norms_of`]) made in the same pass;
    /// else none (the rows are screened in float32 or natively).
    fn new<F: Float>(data: &[F], d: usize, max_abs: f64, columns: bool) -> Option<(Self, Vec<f64>)> {
        let n = data.len() / d;
        if !(HALF_MIN_ABS..=F32_SCREEN_MAX_ABS).contains(&max_abs) {
            return None;
        }
        // max_abs ≤ 2^e, so every value times the scale is at most 2¹⁴ (float16 reaches 65504).
        let e = max_abs.log2().ceil() as i32;
        let scale = 2f64.powi(14 - e);
        // Leaves start at multiples of `LEAF_ROWS`, hence of `COL_ROWS`.
        let rows = if columns { n.div_ceil(COL_ROWS) * COL_ROWS } else { n };
        let mut bits = crate::memory::zeroed(0u16, rows * d);
        // One norm per row (leaves start at multiples of `LEAF_ROWS`: none in the padding).
        let mut sq_norms = vec![0.0f64; n];
        par_blocks_sized(
            LEAF_ROWS,
            rows,
            (Rows::new(&mut bits, d), Rows::new(&mut sq_norms, 1)),
            &|first, e, (out, norms): (Rows<u16>, Rows<f64>)| {
                let out = out.data;
                sq_norms_of(&data[first * d..e.min(n) * d], d, norms.data);
                let mut s = first;
                if columns {
                    // Whole blocks through registers where the CPU can.
                    let (blocks, _) = out.as_chunks_mut::<COL_ROWS>();
                    for block in blocks.chunks_exact_mut(d) {
                        if s + COL_ROWS > n
                            || transpose_f16(&data[s * d..(s + COL_ROWS) * d], d, scale, block).is_none()
                        {
                            break;
                        }
                        s += COL_ROWS;
                    }
                }
                let out = &mut out[(s - first) * d..];
                let (mut row, mut encoded) = (vec![0.0f32; d], vec![0u16; d]);
                for i in s..e.min(n) {
                    row.iter_mut()
                        .zip(&data[i * d..(i + 1) * d])
                        .for_each(|(r, v)| *r = (v.to_f64() * scale) as f32);
                    narrow_f16(&row, &mut encoded);
                    let o = i - s;
                    if columns {
                        let block = &mut out[o / COL_ROWS * COL_ROWS * d..];
                        encoded.iter().enumerate().for_each(|(f, &h)| block[f * COL_ROWS + o % COL_ROWS] = h);
                    } else {
                        out[o * d..(o + 1) * d].copy_from_slice(&encoded);
                    }
                }
            },
            &|_, _| {},
        );
        Some((HalfCopy { bits, inv_scale: 1.0 / scale, max_abs, columns }, sq_norms))
    }
}

/// The candidate that leaves the lowest potential, as scikit-learn picks it; ties go to the
/// first drawn.
fn lowest_potential(potentials: &[f64]) -> usize {
    let mut best = 0;
    for c in 1..potentials.len() {
        if potentials[c] < potentials[best] {
            best = c;
        }
    }
    best
}

/// The lowest resulting potential is the largest gain; ties go to the first drawn.
fn best_gain(gains: &[f64]) -> usize {
    let mut best = 0;
    for c in 1..gains.len() {
        if gains[c] > gains[best] {
            best = c;
        }
    }
    best
}

/// The samples, as every pass reads them.
struct Input<'a, F> {
    data: &'a [F],
    d: usize,
    weights: Option<&'a [f64]>,
}

impl<F> Input<'_, F> {
    fn weight(&self, i: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[i])
    }
}

/// Per-sample state of the seeding, with the potential per leaf of [`LEAF_ROWS`] samples.
#[derive(Clone, PartialEq)]
struct State<F> {
    /// Squared distance to the nearest chosen centre.
    closest: Vec<F>,
    /// Which chosen centre that is, for the triangle inequality of wide rows (empty for narrow
    /// rows, which never test it: a pass over them then reads and writes four bytes a row less).
    nearest: Vec<u32>,
    /// Σ weight × `closest` over each leaf, in row order.
    masses: Vec<f64>,
}

/// One value per leaf of rows, cut with the rows.
struct PerLeaf<'a>(&'a mut [f64]);

impl RowParts for PerLeaf<'_> {
    fn split(self, rows: usize) -> (Self, Self) {
        // The tree cuts between whole leaves.
        let (a, b) = self.0.split_at_mut(rows / LEAF_ROWS);
        (PerLeaf(a), PerLeaf(b))
    }
}

impl<F: Float> State<F> {
    /// Makes `c` chosen centre number `label` (the label kept for wide rows only), measuring
    /// every sample (from the feature-major copy where there is one); the per-leaf potentials
    /// are summed again.
    fn settle(&mut self, input: &Input<F>, columns: &[[F; NARROW_ROWS]], c: &[F], label: u32) {
        let n = self.closest.len();
        // (None kept for narrow rows.)
        let per_row = usize::from(!self.nearest.is_empty());
        let parts = (
            Rows::new(&mut self.closest, 1),
            (Rows::new(&mut self.nearest, per_row), PerLeaf(&mut self.masses)),
        );
        par_blocks_sized(
            PASS_ROWS,
            n,
            parts,
            &|s, _e, (cl, (ne, mass)): (Rows<F>, (Rows<u32>, PerLeaf))| {
                settle_leaf(input, columns, s, c, label, cl.data, ne.data);
                for ((m, closest), first) in
                    mass.0.iter_mut().zip(cl.data.chunks(LEAF_ROWS)).zip((s..).step_by(LEAF_ROWS))
                {
                    *m = leaf_mass(input, first, closest);
                }
            },
            &|_, _| {},
        );
    }

    /// Makes candidate `best` (`c`, of the wide-row evaluation that `found` holds) chosen centre
    /// number `label`: measures directly the samples the screen left open for it (only those
    /// are read), keeps the distances it improves, and sums the touched leaves' potentials
    /// again; in parallel over the evaluation's leaves.
    fn take(&mut self, input: &Input<F>, found: &Found, best: usize, c: &[F], label: u32) {
        let n = self.closest.len();
        // Each wide leaf has at most one entry.
        let mut entry_of = vec![usize::MAX; n.div_ceil(WIDE_LEAF_ROWS)];
        for (r, open) in found.open.iter().enumerate() {
            let leaf = open.start / WIDE_LEAF_ROWS;
            debug_assert!(entry_of[leaf] == usize::MAX, "one entry per wide leaf");
            entry_of[leaf] = r;
        }
        let parts =
            (Rows::new(&mut self.closest, 1), (Rows::new(&mut self.nearest, 1), PerLeaf(&mut self.masses)));
        par_blocks_sized(
            WIDE_LEAF_ROWS,
            n,
            parts,
            &|s, _e, (cl, (ne, mass)): (Rows<F>, (Rows<u32>, PerLeaf))| {
                let Some(open) = found.open.get(entry_of[s / WIDE_LEAF_ROWS]) else { return };
                let mut rows = [0usize; WIDE_LEAF_ROWS];
                let mut len = 0;
                for i in open.rows(best) {
                    rows[len] = i;
                    len += 1;
                }
                let rows = &rows[..len];
                let touched = take_rows(input, rows, c, label, s, cl.data, ne.data);
                for (leaf, m) in mass.0.iter_mut().enumerate().filter(|(leaf, _)| touched >> leaf & 1 == 1) {
                    let start = leaf * LEAF_ROWS;
                    let end = (start + LEAF_ROWS).min(cl.data.len());
                    *m = leaf_mass(input, s + start, &cl.data[start..end]);
                }
            },
            &|_, _| {},
        );
    }

    /// For each target (in [0, potential)), the sample where the running sum of
    /// weight × `closest` first reaches it (numpy's `searchsorted` on the cumulative sum, side
    /// "left"), found through the per-leaf sums. Rounding past a leaf's end gives its last
    /// sample with mass.
    /// With `pending` (a centre chosen but not yet settled, which `masses` already count), each
    /// sample's distance is the nearer of `closest` and its distance to that centre.
    fn draw(&self, input: &Input<F>, pending: Option<&[F]>, targets: &[f64]) -> Vec<usize> {
        let n = self.closest.len();
        let d = input.d;
        let current = |i: usize| match pending {
            None => self.closest[i],
            Some(p) => {
                let dist = plain_sq_dist(&input.data[i * d..(i + 1) * d], p);
                if dist < self.closest[i] { dist } else { self.closest[i] }
            }
        };
        let mass = |i: usize| input.weight(i) * current(i).to_f64();
        let mut order: Vec<usize> = (0..targets.len()).collect();
        order.sort_by(|&a, &b| targets[a].total_cmp(&targets[b]));
        let mut out = vec![0; targets.len()];
        let (mut leaf, mut before) = (0, 0.0f64);
        for o in order {
            let t = targets[o];
            while leaf + 1 < self.masses.len() && before + self.masses[leaf] < t {
                before += self.masses[leaf];
                leaf += 1;
            }
            let rows = leaf * LEAF_ROWS..((leaf + 1) * LEAF_ROWS).min(n);
            let mut cum = before;
            let mut pick = None;
            let mut last_with_mass = None;
            for i in rows.clone() {
                let m = mass(i);
                cum += m;
                if m > 0.0 {
                    last_with_mass = Some(i);
                }
                if cum >= t {
                    pick = Some(i);
                    break;
                }
            }
            out[o] = pick.or(last_with_mass).unwrap_or(rows.start);
        }
        out
    }
}

/// Σ weight × distance over the leaf of rows `start..` (`start` a multiple of
/// [`NARROW_ROWS`]): row `i` summed into lane `i % NARROW_ROWS`, in row order, then the lanes
/// ([`sum_lanes`]), the order in which [`narrow_step`] sums them.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn leaf_mass<F: Float>(input: &Input<F>, start: usize, closest: &[F]) -> f64 {
    let mut lanes = [0.0f64; NARROW_ROWS];
    // Whole vectors of lanes, then the rest (the same sums in the same order).
    let (values, rest) = closest.as_chunks::<NARROW_ROWS>();
    match input.weights.map(|w| &w[start..start + closest.len()]) {
        None => {
            for v in values {
                lanes.iter_mut().zip(v).for_each(|(l, v)| *l += v.to_f64());
            }
            lanes.iter_mut().zip(rest).for_each(|(l, v)| *l += v.to_f64());
        }
        Some(w) => {
            let (weights, rest_weights) = w.as_chunks::<NARROW_ROWS>();
            for (v, w) in values.iter().zip(weights) {
                lanes.iter_mut().zip(v).zip(w).for_each(|((l, v), w)| *l += w * v.to_f64());
            }
            lanes.iter_mut().zip(rest).zip(rest_weights).for_each(|((l, v), w)| *l += w * v.to_f64());
        }
    }
    sum_lanes(&lanes)
}

/// The lanes of a [`leaf_mass`] added along a fixed tree.
#[inline(always)]
fn sum_lanes(l: &[f64; NARROW_ROWS]) -> f64 {
    ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
}

/// Settles the leaf of rows `start..` against `c`, measuring every sample, from the
/// feature-major copy where there is one (narrow rows, whose nearest centres are not kept:
/// `nearest` is then empty).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn settle_leaf<F: Float>(
    input: &Input<F>,
    columns: &[[F; NARROW_ROWS]],
    start: usize,
    c: &[F],
    label: u32,
    closest: &mut [F],
    nearest: &mut [u32],
) {
    let d = input.d;
    if columns.is_empty() {
        debug_assert_eq!(nearest.len(), closest.len(), "wide rows keep their nearest centres");
        for (o, (current, near)) in closest.iter_mut().zip(nearest.iter_mut()).enumerate() {
            let i = start + o;
            let dist = sq_dist(&input.data[i * d..(i + 1) * d], c);
            if dist < *current {
                *current = dist;
                *near = label;
            }
        }
        return;
    }
    let first_block = start / NARROW_ROWS;
    for (b, cur) in closest.chunks_mut(NARROW_ROWS).enumerate() {
        let block = &columns[(first_block + b) * d..(first_block + b + 1) * d];
        let dist = narrow_dists(block, c);
        for (cur, &dist) in cur.iter_mut().zip(&dist) {
            *cur = if dist < *cur { dist } else { *cur };
        }
    }
}

/// Relative allowance for rounding in the triangle-inequality test: a sample is skipped only
/// when the candidate is farther than twice its distance by more than the rounding of distances.
const SLACK: f64 = 1e-5;

/// The squared distance from a sample's nearest centre beyond which no candidate can bring the
/// sample, at squared distance `current` from it, closer: `(2·√current)²`, with the slack.
#[inline(always)]
fn reach<F: Float>(current: F) -> f64 {
    reach_of(current.to_f64())
}

/// [`reach`] of a distance given in float64.
#[inline(always)]
fn reach_of(current: f64) -> f64 {
    REACH_FACTOR * current
}

/// `(2 (1 + SLACK))²`, the factor of [`reach`].
const REACH_FACTOR: f64 = 4.0 * (1.0 + SLACK) * (1.0 + SLACK);

/// Words of [`OpenRows`] per candidate: one bit per row of a wide leaf.
const OPEN_WORDS: usize = WIDE_LEAF_ROWS / 64;
// Wide leaves are whole words, and a block of the column screen lies inside one word.
const _: () = assert!(WIDE_LEAF_ROWS.is_multiple_of(64) && 64 % COL_ROWS == 0 && COL_ROWS <= 16);

/// The rows of one wide leaf (from row `start`) that the screen left open, per candidate: some
/// candidate may improve them. Row `start + r` is open for candidate `c` where bit `r % 64` of
/// `bits[c * OPEN_WORDS + r / 64]` is set.
struct OpenRows {
    start: usize,
    bits: Vec<u64>,
}

impl OpenRows {
    /// No row open yet, for `t` candidates.
    fn new(start: usize, t: usize) -> Self {
        debug_assert!(start.is_multiple_of(WIDE_LEAF_ROWS), "a wide leaf's first row");
        OpenRows { start, bits: vec![0; t * OPEN_WORDS] }
    }

    /// Opens `row` for candidate `cand`.
    #[inline(always)]
    fn open(&mut self, cand: usize, row: usize) {
        let r = row - self.start;
        self.bits[cand * OPEN_WORDS + r / 64] |= 1 << (r % 64);
    }

    /// Opens for candidate `cand` the rows `first + r` of the bits `r` of `rows` (`first` a
    /// multiple of [`COL_ROWS`]).
    #[inline(always)]
    fn open_block(&mut self, cand: usize, first: usize, rows: u16) {
        let r = first - self.start;
        self.bits[cand * OPEN_WORDS + r / 64] |= u64::from(rows) << (r % 64);
    }

    fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }

    /// The rows open for candidate `cand`, in ascending order.
    fn rows(&self, cand: usize) -> impl Iterator<Item = usize> + '_ {
        let words = &self.bits[cand * OPEN_WORDS..(cand + 1) * OPEN_WORDS];
        words.iter().enumerate().flat_map(move |(w, &word)| {
            let first = self.start + w * 64;
            std::iter::successors((word != 0).then_some(word), |&rest| {
                let rest = rest & (rest - 1);
                (rest != 0).then_some(rest)
            })
            .map(move |rest| first + rest.trailing_zeros() as usize)
        })
    }
}

/// What a wide-row evaluation finds: per candidate, the weighted potential it removes as the
/// screen estimates it (`gains`) and a bound on that estimate's error (`errors`); and the samples
/// left open.
struct Found {
    gains: Vec<f64>,
    errors: Vec<f64>,
    /// The open samples, one entry per wide leaf with any, in row order (the merges of the
    /// leaves move the entries, never their bits).
    open: Vec<OpenRows>,
    /// How many rows were screened (the others were skipped by the triangle inequality).
    screened: usize,
}

impl Found {
    /// The candidate with the largest gain measured exactly (ties to the first drawn). When the
    /// estimates separate it from every other candidate by more than their error bounds, that
    /// is the estimates' best; otherwise the open distances of the candidates that may still be
    /// the best are measured (every open distance when `brute`).
    fn best<F: Float>(
        &self,
        input: &Input<F>,
        candidates: &Array2<F>,
        state: &State<F>,
        brute: bool,
    ) -> usize {
        let best = best_gain(&self.gains);
        // Allowance for the rounding of the sums themselves (either way).
        let n = state.closest.len() as f64;
        let bound =
            |c: usize| self.errors[c] + 4.0 * n * f64::EPSILON * (self.gains[c].abs() + self.errors[c]);
        let low = self.gains[best] - bound(best);
        // An infinite estimate (values whose squares overflow) makes its bound infinite, and
        // `low` NaN or −∞ then: nothing is below it, so nothing is certified.
        let certified = (0..self.gains.len()).all(|c| c == best || self.gains[c] + bound(c) < low);
        if certified && !brute {
            return best;
        }
        let d = input.d;
        let t = candidates.nrows();
        let c = candidates.as_slice().expect("standard layout");
        // Only candidates whose estimate may reach the best's lowest possible gain can be the
        // best: the others' exact gains lie below it.
        // (Written so that a NaN, from infinite estimates, leaves the candidate in.)
        let contender: Vec<bool> =
            (0..t).map(|c| brute || !surely_below(self.gains[c] + bound(c), low)).collect();
        // Per leaf and candidate, its rows in order: each candidate's gain is summed in row order.
        let per_leaf: Vec<Vec<(usize, f64)>> = map_in_order(state.closest.len(), &self.open, |open| {
            let mut out = Vec::new();
            for cand in (0..t).filter(|&c| contender[c]) {
                for i in open.rows(cand) {
                    let current = state.closest[i];
                    let dist = sq_dist(&input.data[i * d..(i + 1) * d], &c[cand * d..(cand + 1) * d]);
                    if dist < current {
                        out.push((cand, input.weight(i) * (current - dist).to_f64()));
                    }
                }
            }
            out
        });
        let mut exact: Vec<f64> =
            contender.iter().map(|&c| if c { 0.0 } else { f64::NEG_INFINITY }).collect();
        for (cand, gain) in per_leaf.into_iter().flatten() {
            exact[cand] += gain;
        }
        best_gain(&exact)
    }
}

/// Measures directly the rows `rows` (of the leaf that starts at row `first`, whose distances
/// and nearest centres are `closest` and `nearest`) against `c`, chosen centre number `label`,
/// and keeps each distance it improves; returns which leaves of [`LEAF_ROWS`] rows changed,
/// one bit per leaf.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn take_rows<F: Float>(
    input: &Input<F>,
    rows: &[usize],
    c: &[F],
    label: u32,
    first: usize,
    closest: &mut [F],
    nearest: &mut [u32],
) -> u64 {
    let d = input.d;
    let row = |i: usize| &input.data[i * d..(i + 1) * d];
    let mut touched = 0u64;
    for (k, &i) in rows.iter().enumerate() {
        // The rows lie far apart: ask for the ones a few steps ahead now.
        if let Some(&ahead) = rows.get(k + PREFETCH_AHEAD) {
            prefetch(row(ahead));
        }
        let dist = sq_dist(row(i), c);
        let at = i - first;
        if dist < closest[at] {
            closest[at] = dist;
            nearest[at] = label;
            touched |= 1 << (at / LEAF_ROWS);
        }
    }
    touched
}

/// How many rows ahead [`take_rows`] prefetches.
const PREFETCH_AHEAD: usize = 8;
// [`take_rows`] marks a wide leaf's leaves in the bits of a `u64`, and [`State::take`] relies on
// a wide leaf being whole leaves (as [`PerLeaf`] cuts them).
const _: () = assert!(WIDE_LEAF_ROWS / LEAF_ROWS <= 64 && WIDE_LEAF_ROWS.is_multiple_of(LEAF_ROWS));

/// Rows per leaf of a wide-row evaluation.
const WIDE_LEAF_ROWS: usize = 4 * LEAF_ROWS;
/// Rows whose products are formed together (independent accumulators, one load of the
/// candidates per feature for all of them).
const ROW_GROUP: usize = 4;

/// What every leaf of a wide-row evaluation shares. Candidates come in groups of
/// [`CAND_LANES`] (lanes past the last candidate are never measured); the products are formed
/// in `S` (float32 for float64 data, else the data's type).
struct WideStep<'a, F, S> {
    /// The candidates, feature-major per group: `lanes[group * d + feature][lane]`.
    lanes: Vec<[S; CAND_LANES]>,
    candidates: &'a Array2<F>,
    /// ‖c‖² per candidate, per group.
    cand_norms: Vec<[f64; CAND_LANES]>,
    /// `gaps[j * groups + group][lane]`: squared distance from the candidate to chosen centre
    /// `j` (infinite past the last candidate).
    gaps: Vec<[f64; CAND_LANES]>,
    /// `nearest_gaps[j * groups + group]`: the least of `gaps[j * groups + group]`, the gap from
    /// chosen centre `j` to the group's nearest candidate.
    nearest_gaps: Vec<f64>,
    /// ‖x‖² per sample.
    sq_norms: &'a [f64],
    /// The expansion's error is at most `err × 2 (‖x‖² + ‖c‖²) + tiny`.
    err: f64,
    tiny: f64,
    /// Every sample and candidate measured (for tests).
    brute: bool,
    /// Whether rows are tested against the triangle inequality before their products (the
    /// row-major screen only: the feature-major one tests every row per group of candidates).
    skip_rows: bool,
    /// The float16 copy the products are formed from, if any (`S` is then float32, and the
    /// screen handed to the evaluation is empty): feature-major ([`column_leaf`]) or row-major
    /// (each row widened to float32, then multiplied as a float32 copy's).
    half: Option<&'a HalfCopy>,
}

impl<'a, F: Float, S: Float> WideStep<'a, F, S> {
    fn new(
        candidates: &'a Array2<F>,
        gaps: &[Vec<f64>],
        sq_norms: &'a [f64],
        brute: bool,
        skip_rows: bool,
    ) -> Self {
        let (t, d) = candidates.dim();
        let groups = t.div_ceil(CAND_LANES);
        let m = gaps.first().map_or(0, Vec::len);
        let mut lanes = vec![[S::ZERO; CAND_LANES]; groups * d];
        let mut cand_norms = vec![[0.0; CAND_LANES]; groups];
        let mut by_centre = vec![[f64::INFINITY; CAND_LANES]; m * groups];
        for (c, cand) in candidates.outer_iter().enumerate() {
            let (g, l) = (c / CAND_LANES, c % CAND_LANES);
            for (f, &v) in cand.iter().enumerate() {
                lanes[g * d + f][l] = S::from_f64(v.to_f64());
            }
            cand_norms[g][l] = cand.iter().map(|v| v.to_f64() * v.to_f64()).sum();
            for j in 0..m {
                by_centre[j * groups + g][l] = gaps[c][j];
            }
        }
        // Rounding of the products in `S` (inputs rounded to `S` included), of the norms and the
        // direct distance in `F`, and an allowance for underflow in `S`.
        let err = expansion_error::<S>(d) + expansion_error::<F>(d);
        let smallest = if S::DTYPE == "float32" { f32::MIN_POSITIVE as f64 } else { f64::MIN_POSITIVE };
        let tiny = 4.0 * (d + 4) as f64 * smallest;
        WideStep {
            lanes,
            candidates,
            cand_norms,
            nearest_gaps: least_gaps(&by_centre),
            gaps: by_centre,
            sq_norms,
            err,
            tiny,
            brute,
            skip_rows,
            half: None,
        }
    }

    /// Forms the products from `half` instead, with its error added to the bounds.
    fn with_half(mut self, half: &'a HalfCopy) -> Self {
        let d = self.candidates.ncols() as f64;
        // Each value of the copy is within δ |x| + η of the data's (η = HALF_TINY × inv_scale).
        // A product x·c so moves by at most δ Σ|x c| + η ‖c‖₁ ≤ δ (‖x‖² + ‖c‖²) / 2 + η d
        // max|c| (Cauchy–Schwarz), twice that in the expansion, whose error allowance is
        // `err × 2 (‖x‖² + ‖c‖²) + tiny`; the candidates are data rows, so max|c| is at most
        // the data's largest magnitude.
        self.err += HALF_DELTA / 2.0;
        self.tiny += 2.0 * d * HALF_TINY * half.inv_scale * half.max_abs * (1.0 + 1e-6);
        self.half = Some(half);
        self
    }

    /// Screens every sample (products from `screen`, the data in `S`), along the fixed tree.
    fn evaluate(&self, input: &Input<F>, screen: &[S], state: &State<F>) -> Found {
        let t = self.candidates.nrows();
        par_blocks_sized(
            WIDE_LEAF_ROWS,
            state.closest.len(),
            (),
            &|s, e, ()| {
                let mut found =
                    Found { gains: vec![0.0; t], errors: vec![0.0; t], open: Vec::new(), screened: 0 };
                match self.half {
                    Some(half) if half.columns => column_leaf(self, input, half, state, s, e, &mut found),
                    _ => wide_leaf(self, input, screen, state, s, e, &mut found),
                }
                found
            },
            &|a: &mut Found, b| {
                a.gains.iter_mut().zip(b.gains).for_each(|(x, y)| *x += y);
                a.errors.iter_mut().zip(b.errors).for_each(|(x, y)| *x += y);
                a.open.extend(b.open);
                a.screened += b.screened;
            },
        )
    }
}

/// Screens the rows `s..e` in row order.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn wide_leaf<F: Float, S: Float>(
    step: &WideStep<F, S>,
    input: &Input<F>,
    screen: &[S],
    state: &State<F>,
    s: usize,
    e: usize,
    found: &mut Found,
) {
    let groups = step.cand_norms.len();
    let d = input.d;
    // Rows that no candidate can improve are not read.
    let mut rows = [0usize; WIDE_LEAF_ROWS];
    let mut len = 0;
    for i in s..e {
        rows[len] = i;
        len += usize::from(
            step.brute || !step.skip_rows || {
                let reach = reach(state.closest[i]);
                let j = state.nearest[i] as usize;
                step.nearest_gaps[j * groups..(j + 1) * groups].iter().any(|&gap| gap < reach)
            },
        );
    }
    let rows = &rows[..len];
    found.screened += len;
    let mut open = OpenRows::new(s, found.gains.len());
    let mut groups_of = rows.chunks_exact(ROW_GROUP);
    let value_bytes = if step.half.is_some() { 2 } else { std::mem::size_of::<S>() };
    let ahead = (SCREEN_AHEAD_BYTES / (ROW_GROUP * d * value_bytes)).clamp(2, 16);
    // Rows widened from the float16 copy, a group at a time.
    let mut wide = vec![0.0f32; if step.half.is_some() { ROW_GROUP * d } else { 0 }];
    for (k, group) in groups_of.by_ref().enumerate() {
        // The rows left may lie far apart: ask for the ones a few groups ahead now.
        for &ahead in rows.iter().skip((k + ahead) * ROW_GROUP).take(ROW_GROUP) {
            match step.half {
                Some(half) => prefetch(&half.bits[ahead * d..(ahead + 1) * d]),
                None => prefetch(&screen[ahead * d..(ahead + 1) * d]),
            }
        }
        let group: &[usize; ROW_GROUP] = group.try_into().expect("a whole group");
        screen_rows(step, input, screen, state, group, &mut wide, found, &mut open);
    }
    for &i in groups_of.remainder() {
        screen_rows(step, input, screen, state, &[i], &mut wide, found, &mut open);
    }
    if !open.is_empty() {
        found.open.push(open);
    }
}

/// Per entry of `gaps` (a group of candidates' gaps to one chosen centre), the least: a row
/// whose nearest centre that is can be improved by some candidate of the group only if this gap
/// is within its reach (a NaN gap counts as none: [`f64::min`] drops it, and a NaN is never
/// within reach).
fn least_gaps(gaps: &[[f64; CAND_LANES]]) -> Vec<f64> {
    gaps.iter().map(|g| g.iter().copied().fold(f64::INFINITY, f64::min)).collect()
}

/// How far ahead [`wide_leaf`] prefetches, in bytes of screened rows (at least two groups).
/// Measured (CPU time of one k-means++, one thread, loaded machine): blobs 100k × 128, k = 256,
/// 2.9 s without, 1.6–1.8 s with 1–8 KiB.
const SCREEN_AHEAD_BYTES: usize = 4096;

/// Screens the `R` samples `rows` against every candidate through their products: adds each
/// candidate's estimated gain and its error bound, and records the samples left open (in
/// `open`, the leaf's).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn screen_rows<F: Float, S: Float, const R: usize>(
    step: &WideStep<F, S>,
    input: &Input<F>,
    screen: &[S],
    state: &State<F>,
    rows: &[usize; R],
    wide: &mut [f32],
    found: &mut Found,
    open_rows: &mut OpenRows,
) {
    let d = input.d;
    let groups = step.cand_norms.len();
    let t = found.gains.len();
    // With the float16 copy: the rows widened to float32 (`S` is then f32), and the products
    // scaled back to the data's units (exactly: a power of two).
    let (screen, first, dot_scale) = match step.half {
        Some(half) => {
            for (r, &i) in rows.iter().enumerate() {
                widen_f16(&half.bits[i * d..(i + 1) * d], &mut wide[r * d..(r + 1) * d]);
            }
            (as_screen::<S>(&wide[..R * d]), std::array::from_fn(|r| r * d), half.inv_scale)
        }
        None => (screen, rows.map(|i| i * d), 1.0),
    };
    for (g, lanes) in step.lanes.chunks_exact(d).enumerate() {
        let xs: [&[S]; R] = std::array::from_fn(|r| &screen[first[r]..first[r] + d]);
        let dots = products(xs, lanes);
        for (r, &i) in rows.iter().enumerate() {
            let current = state.closest[i].to_f64();
            let reach = reach(state.closest[i]);
            let gaps = &step.gaps[state.nearest[i] as usize * groups + g];
            let x2 = step.sq_norms[i];
            // The expansion `v` is within `slack` of the direct distance (`sq_dist` in `F`): a
            // candidate that may beat `current` within it is left open, and its gain is
            // estimated from `v` with that error. (‖x‖ + ‖c‖)² is bounded by 2 (‖x‖² + ‖c‖²):
            // no square roots.
            let mut open = [false; CAND_LANES];
            let mut gain = [0.0f64; CAND_LANES];
            let mut slack = [0.0f64; CAND_LANES];
            for l in 0..CAND_LANES {
                let c2 = step.cand_norms[g][l];
                let v = x2 + c2 - 2.0 * (dots[r][l].to_f64() * dot_scale);
                slack[l] = step.err * 2.0 * (x2 + c2) + step.tiny;
                // Not "below": a NaN (from squares that overflow) leaves the row open.
                open[l] = (gaps[l] < reach) & !surely_not_below(v - slack[l], current);
                if step.brute {
                    open[l] = gaps[l] < f64::INFINITY;
                }
                gain[l] = if v < current { current - v } else { 0.0 };
            }
            if !open.iter().fold(false, |any, &o| any | o) {
                continue;
            }
            let w = input.weight(i);
            for l in (0..CAND_LANES.min(t - g * CAND_LANES)).filter(|&l| open[l]) {
                found.gains[g * CAND_LANES + l] += w * gain[l];
                // The exact gain's own rounding in `F` (`current − dist`, at most `current`).
                let own = 2.0 * F::UNIT_ROUNDOFF * current;
                found.errors[g * CAND_LANES + l] += w * (slack[l] + own);
                open_rows.open(g * CAND_LANES + l, i);
            }
        }
    }
}

/// Float32 values as the screen's type `S`, which is f32 wherever a float16 copy is screened.
#[allow(unsafe_code)]
fn as_screen<S: Float>(values: &[f32]) -> &[S] {
    assert!(S::DTYPE == "float32", "a float16 copy is widened to float32");
    // SAFETY: `S` is f32 (checked above: the only `Float` whose dtype is float32), so the slice
    // is reinterpreted as itself.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<S>(), values.len()) }
}

/// Rows per leaf of the passes over every row (a whole number of [`LEAF_ROWS`], whose potentials
/// are summed one by one): fewer leaves to hand out than [`LEAF_ROWS`] gives.
const PASS_ROWS: usize = 4 * LEAF_ROWS;

/// How many blocks ahead [`narrow_step_leaf`] asks for the samples, where a block spans at
/// least [`NARROW_AHEAD_MIN_BYTES`] (below, the hardware's own prefetch keeps up). Measured
/// (wall time of one k-means++, two threads): uniform 500k × 16, k = 100: 0.52 s without, 0.42
/// s with 1 to 3 blocks ahead, 0.44–0.49 s with 4 or 8; china (3 features): 0.057 s without,
/// 0.062 s with.
const NARROW_AHEAD: usize = 2;
/// See [`NARROW_AHEAD`].
const NARROW_AHEAD_MIN_BYTES: usize = 512;

/// Rows per across-rows block of the narrow kernels.
const NARROW_ROWS: usize = 8;

/// The rows feature-major in blocks of [`NARROW_ROWS`]: block `b`, feature `f` is
/// `out[b * d + f]`, one lane per row (zero past the last row).
fn feature_major<F: Float>(data: &[F], d: usize) -> Vec<[F; NARROW_ROWS]> {
    let n = data.len() / d;
    let blocks = n.div_ceil(NARROW_ROWS);
    let mut out = crate::memory::zeroed([F::ZERO; NARROW_ROWS], blocks * d);
    // In parallel over runs of blocks (values are only moved: any split gives the same copy).
    par_blocks(
        blocks,
        d,
        &mut out,
        &|s, _e, out: &mut [[F; NARROW_ROWS]]| {
            for (b, block) in out.chunks_exact_mut(d).enumerate() {
                let first = (s + b) * NARROW_ROWS;
                let rows = &data[first * d..((first + NARROW_ROWS).min(n)) * d];
                for (l, x) in rows.chunks_exact(d).enumerate() {
                    for (col, &v) in block.iter_mut().zip(x) {
                        col[l] = v;
                    }
                }
            }
        },
        &|_, _| {},
    );
    out
}

/// Rows up to this wide are measured [`NARROW_ROWS`] samples per vector, every sample against
/// every candidate, in plain left-to-right sums ([`narrow_dists`], [`plain_sq_dist`]); wider
/// ones are screened. Measured (wall time of one k-means++, two threads): uniform 500k × 16, k =
/// 100 (where the triangle inequality skips nothing), 0.66 s against 0.92 s screened; blobs
/// 200k × 32, k = 64: 0.34 s either way; digits (64 features): 1.2 against 1.1 ms.
const NARROW_MAX_FEATURES: usize = LANES;

/// Whether rows of `d` features are screened (wider than [`NARROW_MAX_FEATURES`]), with error
/// bounds that grow with ‖x‖².
pub(crate) fn screened(d: usize) -> bool {
    d > NARROW_MAX_FEATURES
}

/// Squared distances of a feature-major block to `c`, each the plain left-to-right sum (for
/// `d < LANES` that is [`sq_dist`] bit for bit), as [`plain_sq_dist`] of the row.
#[inline(always)]
fn narrow_dists<F: Float>(columns: &[[F; NARROW_ROWS]], c: &[F]) -> [F; NARROW_ROWS] {
    let mut dist = [F::ZERO; NARROW_ROWS];
    for (col, &cf) in columns.iter().zip(c) {
        for l in 0..NARROW_ROWS {
            let u = col[l] - cf;
            dist[l] += u * u;
        }
    }
    dist
}

/// [`narrow_dists`] of one block to two candidates at once (two independent sums per
/// feature), bit for bit.
#[inline(always)]
fn narrow_dists_pair<F: Float>(columns: &[[F; NARROW_ROWS]], a: &[F], b: &[F]) -> [[F; NARROW_ROWS]; 2] {
    let mut dist = [[F::ZERO; NARROW_ROWS]; 2];
    for ((col, &af), &bf) in columns.iter().zip(a).zip(b) {
        for l in 0..NARROW_ROWS {
            let u = col[l] - af;
            dist[0][l] += u * u;
            let v = col[l] - bf;
            dist[1][l] += v * v;
        }
    }
    dist
}

/// [`narrow_dists`] of one block to `N` rows at once (`N` independent sums per feature), bit
/// for bit; the rows given feature-major (`c[f][j]`: feature `f` of row `j`).
#[inline(always)]
fn narrow_dists_n<F: Float, const N: usize>(
    columns: &[[F; NARROW_ROWS]],
    c: &[[F; N]],
) -> [[F; NARROW_ROWS]; N] {
    let mut dist = [[F::ZERO; NARROW_ROWS]; N];
    for (col, cf) in columns.iter().zip(c) {
        for (acc, &cf) in dist.iter_mut().zip(cf) {
            for l in 0..NARROW_ROWS {
                let u = col[l] - cf;
                acc[l] += u * u;
            }
        }
    }
    dist
}

/// The squared distance of two rows as [`narrow_dists`] sums it.
#[inline(always)]
fn plain_sq_dist<F: Float>(a: &[F], b: &[F]) -> F {
    let mut dist = F::ZERO;
    for (&x, &y) in a.iter().zip(b) {
        let u = x - y;
        dist += u * u;
    }
    dist
}

/// One step of the seeding on rows up to [`NARROW_MAX_FEATURES`] wide, in one pass over the samples:
/// first the centre chosen last (`settle`: its row) is settled, then every candidate
/// is measured against every sample, [`NARROW_ROWS`] samples per vector. Returns each
/// candidate's weighted potential were it chosen (the leaves' potentials added in leaf order)
/// and, per leaf of [`LEAF_ROWS`] samples and candidate (leaf-major), the leaf's potential were
/// that candidate chosen, as [`leaf_mass`] sums it.
fn narrow_step<F: Float>(
    input: &Input<F>,
    columns: &[[F; NARROW_ROWS]],
    settle: Option<&[F]>,
    candidates: &Array2<F>,
    state: &mut State<F>,
) -> (Vec<f64>, Vec<f64>) {
    let t = candidates.nrows();
    let n = state.closest.len();
    let mut masses = vec![0.0f64; n.div_ceil(LEAF_ROWS) * t];
    // Rows wide enough, against few enough rows (the centre to settle, if any, then the
    // candidates): all of a block's distances at once.
    let d = input.d;
    let fused = (d >= FUSED_MIN_FEATURES && usize::from(settle.is_some()) + t <= GROUP_ROWS).then(|| {
        let mut rows: Vec<&[F]> = settle.into_iter().collect();
        rows.extend(candidates.as_slice().expect("standard layout").chunks_exact(d));
        Group::new(&rows, d)
    });
    let parts = (Rows::new(&mut state.closest, 1), LeafValues(&mut masses, t));
    par_blocks_sized(
        PASS_ROWS,
        n,
        parts,
        &|s, e, (cl, masses): (Rows<F>, LeafValues)| match &fused {
            Some(group) => {
                let leaf = Leaf { input, columns, settle: settle.is_some(), t, s, e };
                fused_step_leaf(&leaf, group, cl.data, masses.0);
            }
            None => narrow_step_leaf(input, columns, settle, candidates, s, e, cl.data, masses.0),
        },
        &|_, _| {},
    );
    let mut potentials = vec![0.0f64; t];
    for leaf in masses.chunks_exact(t) {
        potentials.iter_mut().zip(leaf).for_each(|(p, m)| *p += m);
    }
    (potentials, masses)
}

/// Rows at least this wide take [`fused_step_leaf`] where a step measures at most
/// [`GROUP_ROWS`] rows (the centre to settle and the candidates: the default trials up to 148
/// clusters); narrower ones, or more rows, [`narrow_step_leaf`], whose two-candidate sums leave
/// less in memory per block. Measured (wall time of five k-means++ runs, two threads, fused
/// against the other, same centres): uniform 500k × 16, k = 100: 1.29–1.38 against 1.53–1.62
/// s; blobs 200k × 8, k = 64: 204–206 against 240–250 ms; blobs 200k × 6, k = 64: 187 against
/// 185–187 ms; blobs 200k × 4, k = 64: 165–167 against 157–158 ms; blobs 1M × 2, k = 8: 100–102
/// against 97–99 ms. Steps of more rows were not fused: in several groups per step they were
/// slower where measured (china, 3 features, k = 512, before this width rule: 2.0 against
/// 1.55 s); wider rows with more rows per step were not measured. (Measured before
/// [`narrow_step_leaf`] took the feature count as a constant below 8 features, which cut the
/// wall time of a seeding by 7–16% there (blobs 200k × 4, k = 64: 146 → 135 ms; × 6: 183 → 156
/// ms), so the rule only got stronger below 8; the fused step with a constant width was not
/// measured.)
const FUSED_MIN_FEATURES: usize = 8;

/// At most this many rows are measured at once by [`fused_step_leaf`]. (Eight, as many as a
/// vector's lanes, make the compiler vectorise across the rows, with gathers, instead of across
/// the block's samples.)
const GROUP_ROWS: usize = 7;

/// The rows a fused narrow step measures each block against, feature-major (`c[f][j]`: feature
/// `f` of row `j`), by their number, so that a block's distances to all of them are formed at
/// once ([`narrow_dists_n`]) and stay in registers.
enum Group<F> {
    One(Vec<[F; 1]>),
    Two(Vec<[F; 2]>),
    Three(Vec<[F; 3]>),
    Four(Vec<[F; 4]>),
    Five(Vec<[F; 5]>),
    Six(Vec<[F; 6]>),
    Seven(Vec<[F; 7]>),
}

impl<F: Float> Group<F> {
    /// One to [`GROUP_ROWS`] rows, each `d` long.
    fn new(rows: &[&[F]], d: usize) -> Self {
        fn fm<F: Float, const N: usize>(rows: &[&[F]], d: usize) -> Vec<[F; N]> {
            (0..d).map(|f| std::array::from_fn(|j| rows[j][f])).collect()
        }
        match rows.len() {
            1 => Group::One(fm(rows, d)),
            2 => Group::Two(fm(rows, d)),
            3 => Group::Three(fm(rows, d)),
            4 => Group::Four(fm(rows, d)),
            5 => Group::Five(fm(rows, d)),
            6 => Group::Six(fm(rows, d)),
            7 => Group::Seven(fm(rows, d)),
            n => unreachable!("{n} rows: a group holds one to {GROUP_ROWS}"),
        }
    }
}

/// What a leaf of a fused narrow step reads: the rows `s..e` (whole leaves of [`LEAF_ROWS`] but
/// the last), whether the first row of the group is a centre to settle, the number of
/// candidates.
struct Leaf<'a, F> {
    input: &'a Input<'a, F>,
    columns: &'a [[F; NARROW_ROWS]],
    settle: bool,
    t: usize,
    s: usize,
    e: usize,
}

/// [`narrow_step_leaf`] with every distance of a block formed at once: the same distances, bit
/// for bit, settled and added in the same order.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn fused_step_leaf<F: Float>(leaf: &Leaf<F>, group: &Group<F>, closest: &mut [F], masses: &mut [f64]) {
    match group {
        Group::One(c) => leaf.run(c, closest, masses),
        Group::Two(c) => leaf.run(c, closest, masses),
        Group::Three(c) => leaf.run(c, closest, masses),
        Group::Four(c) => leaf.run(c, closest, masses),
        Group::Five(c) => leaf.run(c, closest, masses),
        Group::Six(c) => leaf.run(c, closest, masses),
        Group::Seven(c) => leaf.run(c, closest, masses),
    }
}

impl<F: Float> Leaf<'_, F> {
    /// The leaf against `N` rows given feature-major (`c[f][j]`).
    #[inline(always)]
    fn run<const N: usize>(&self, c: &[[F; N]], closest: &mut [F], masses: &mut [f64]) {
        let (input, columns, t, s, e) = (self.input, self.columns, self.t, self.s, self.e);
        let d = input.d;
        let first_cand = usize::from(self.settle);
        let mut lane_mass = vec![[0.0f64; NARROW_ROWS]; t];
        let prefetch_ahead = d * std::mem::size_of::<[F; NARROW_ROWS]>() >= NARROW_AHEAD_MIN_BYTES;
        for (leaf, leaf_start) in (s..e).step_by(LEAF_ROWS).enumerate() {
            let leaf_end = (leaf_start + LEAF_ROWS).min(e);
            for first in (leaf_start..leaf_end).step_by(NARROW_ROWS) {
                let block = &columns[first / NARROW_ROWS * d..(first / NARROW_ROWS + 1) * d];
                let ahead = first / NARROW_ROWS + NARROW_AHEAD;
                if prefetch_ahead && let Some(ahead) = columns.get(ahead * d..(ahead + 1) * d) {
                    prefetch(ahead);
                }
                let rows = NARROW_ROWS.min(leaf_end - first);
                let (o, end) = (first - s, first - s + rows);
                let dists = narrow_dists_n(block, c);
                if self.settle {
                    // As `settle_leaf`.
                    for (cur, &dist) in closest[o..end].iter_mut().zip(&dists[0]) {
                        *cur = if dist < *cur { dist } else { *cur };
                    }
                }
                // Lanes past the last row have no distance (the nearer of a distance and zero is
                // zero) and no weight. (A whole block is copied at a fixed length: a copy of a
                // run-time length is a call.)
                let current: [F; NARROW_ROWS] = match closest[o..end].try_into() {
                    Ok(whole) => whole,
                    Err(_) => std::array::from_fn(|l| if l < rows { closest[o + l] } else { F::ZERO }),
                };
                let settled = dists[first_cand..].iter().zip(lane_mass.iter_mut());
                // (Each case its own loop, so that the unweighted one has no weights to test.)
                match input.weights {
                    None => settled.for_each(|(dist, mass)| add_masses(dist, &current, None, mass)),
                    Some(weights) => {
                        let w: [f64; NARROW_ROWS] = match weights[first..first + rows].try_into() {
                            Ok(whole) => whole,
                            Err(_) => {
                                std::array::from_fn(|l| if l < rows { weights[first + l] } else { 0.0 })
                            }
                        };
                        settled.for_each(|(dist, mass)| add_masses(dist, &current, Some(&w), mass));
                    }
                }
            }
            for (cand, mass) in lane_mass.iter_mut().enumerate() {
                masses[leaf * t + cand] = sum_lanes(mass);
                *mass = [0.0; NARROW_ROWS];
            }
        }
    }
}

/// `per_leaf` values per leaf of [`LEAF_ROWS`] rows, cut with the rows.
struct LeafValues<'a>(&'a mut [f64], usize);

impl RowParts for LeafValues<'_> {
    fn split(self, rows: usize) -> (Self, Self) {
        // The tree cuts between whole leaves.
        let (a, b) = self.0.split_at_mut(rows / LEAF_ROWS * self.1);
        (LeafValues(a, self.1), LeafValues(b, self.1))
    }
}

/// [`narrow_step`] over the rows `s..e` (whole leaves of [`LEAF_ROWS`] but the last).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)]
fn narrow_step_leaf<F: Float>(
    input: &Input<F>,
    columns: &[[F; NARROW_ROWS]],
    settle: Option<&[F]>,
    candidates: &Array2<F>,
    s: usize,
    e: usize,
    closest: &mut [F],
    masses: &mut [f64],
) {
    // The feature count as a constant where the fused step does not take the rows: the
    // compiler then unrolls every loop over the features.
    macro_rules! widths {
        ($($d:literal)*) => {
            match input.d {
                $($d => narrow_step_leaf_d::<F, $d>(
                    input, columns, settle, candidates, s, e, closest, masses,
                ),)*
                _ => narrow_step_leaf_d::<F, 0>(
                    input, columns, settle, candidates, s, e, closest, masses,
                ),
            }
        };
    }
    widths!(1 2 3 4 5 6 7);
}

/// [`narrow_step_leaf`] for rows of `D` features (`D = 0`: the input's count).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn narrow_step_leaf_d<F: Float, const D: usize>(
    input: &Input<F>,
    columns: &[[F; NARROW_ROWS]],
    settle: Option<&[F]>,
    candidates: &Array2<F>,
    s: usize,
    e: usize,
    closest: &mut [F],
    masses: &mut [f64],
) {
    let d = if D == 0 { input.d } else { D };
    let t = candidates.nrows();
    let c = candidates.as_slice().expect("standard layout");
    let mut lane_mass = vec![[0.0f64; NARROW_ROWS]; t];
    let prefetch_ahead = d * std::mem::size_of::<[F; NARROW_ROWS]>() >= NARROW_AHEAD_MIN_BYTES;
    for (leaf, leaf_start) in (s..e).step_by(LEAF_ROWS).enumerate() {
        let leaf_end = (leaf_start + LEAF_ROWS).min(e);
        for first in (leaf_start..leaf_end).step_by(NARROW_ROWS) {
            let block = &columns[first / NARROW_ROWS * d..(first / NARROW_ROWS + 1) * d];
            let ahead = first / NARROW_ROWS + NARROW_AHEAD;
            if prefetch_ahead && let Some(ahead) = columns.get(ahead * d..(ahead + 1) * d) {
                prefetch(ahead);
            }
            let rows = NARROW_ROWS.min(leaf_end - first);
            let (o, end) = (first - s, first - s + rows);
            if let Some(p) = settle {
                // As `settle_leaf`.
                let dist = narrow_dists(block, p);
                for (cur, &dist) in closest[o..end].iter_mut().zip(&dist) {
                    *cur = if dist < *cur { dist } else { *cur };
                }
            }
            // Lanes past the last row have no distance (the nearer of a distance and zero is
            // zero) and no weight.
            // (A whole block is copied at a fixed length: a copy of a run-time length is a call.)
            let current: [F; NARROW_ROWS] = match closest[o..end].try_into() {
                Ok(whole) => whole,
                Err(_) => std::array::from_fn(|l| if l < rows { closest[o + l] } else { F::ZERO }),
            };
            match input.weights {
                None => candidate_masses(block, c, d, &current, None, &mut lane_mass),
                Some(weights) => {
                    let w: [f64; NARROW_ROWS] = match weights[first..first + rows].try_into() {
                        Ok(whole) => whole,
                        Err(_) => std::array::from_fn(|l| if l < rows { weights[first + l] } else { 0.0 }),
                    };
                    candidate_masses(block, c, d, &current, Some(&w), &mut lane_mass);
                }
            }
        }
        for (cand, mass) in lane_mass.iter_mut().enumerate() {
            masses[leaf * t + cand] = sum_lanes(mass);
            *mass = [0.0; NARROW_ROWS];
        }
    }
}

/// Adds each sample's weighted distance were each candidate (rows of `c`, `d` values each)
/// chosen, the nearer of its distance to the candidate and `current`, into the candidate's
/// lanes (unweighted: the distance itself, as a weight of one gives it).
#[inline(always)]
fn candidate_masses<F: Float>(
    block: &[[F; NARROW_ROWS]],
    c: &[F],
    d: usize,
    current: &[F; NARROW_ROWS],
    w: Option<&[f64; NARROW_ROWS]>,
    lane_mass: &mut [[f64; NARROW_ROWS]],
) {
    // Candidates two at a time: two independent sums per feature.
    let t = lane_mass.len();
    for pair in (0..t).step_by(2) {
        if pair + 1 < t {
            let [d0, d1] =
                narrow_dists_pair(block, &c[pair * d..(pair + 1) * d], &c[(pair + 1) * d..(pair + 2) * d]);
            add_masses(&d0, current, w, &mut lane_mass[pair]);
            add_masses(&d1, current, w, &mut lane_mass[pair + 1]);
        } else {
            let dist = narrow_dists(block, &c[pair * d..(pair + 1) * d]);
            add_masses(&dist, current, w, &mut lane_mass[pair]);
        }
    }
}

/// Adds each lane's weighted distance were the candidate at `dist` chosen (the nearer of `dist`
/// and `current`, as `settle_leaf` sets it) into `mass`.
#[inline(always)]
fn add_masses<F: Float>(
    dist: &[F; NARROW_ROWS],
    current: &[F; NARROW_ROWS],
    w: Option<&[f64; NARROW_ROWS]>,
    mass: &mut [f64; NARROW_ROWS],
) {
    // In registers, then stored once.
    let mut m = *mass;
    for l in 0..NARROW_ROWS {
        let settled = if dist[l] < current[l] { dist[l] } else { current[l] }.to_f64();
        m[l] += match w {
            None => settled,
            Some(w) => w[l] * settled,
        };
    }
    *mass = m;
}

/// Relative error of `‖x‖² + ‖c‖² − 2 x·c` as a squared distance, in units of (‖x‖ + ‖c‖)²
/// (twice the bound of both the expansion and the direct sum, as in the GEMM assignment).
fn expansion_error<F: Float>(d: usize) -> f64 {
    let u = F::UNIT_ROUNDOFF;
    let gamma = |m: usize| (m as f64 * u) / (1.0 - m as f64 * u);
    4.0 * (gamma(d + 2) + gamma(d) + 4.0 * u)
}

/// For each target t (in [0, total mass)), the sample where the running sum of `mass` first
/// reaches t (numpy's `searchsorted` on the cumulative sum, side "left"). Rounding past the end
/// gives the last sample with mass.
pub(crate) fn draw_by_mass(n: usize, mass: &dyn Fn(usize) -> f64, targets: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by(|&a, &b| targets[a].total_cmp(&targets[b]));
    let mut out = vec![n - 1; targets.len()];
    let mut last_with_mass = n - 1;
    let mut cum = 0.0f64;
    let mut next = 0;
    for i in 0..n {
        let m = mass(i);
        cum += m;
        if m > 0.0 {
            last_with_mass = i;
        }
        while next < order.len() {
            let t = targets[order[next]];
            if cum < t {
                break;
            }
            out[order[next]] = i;
            next += 1;
        }
        if next == order.len() {
            return out;
        }
    }
    for &o in &order[next..] {
        out[o] = last_with_mass;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::check_data;

    /// Open rows come back per candidate in ascending order, from single rows and from blocks.
    #[test]
    fn open_rows_list_each_candidates_rows_in_order() {
        let start = 3 * WIDE_LEAF_ROWS;
        let mut open = OpenRows::new(start, 3);
        assert!(open.is_empty() && open.rows(1).next().is_none());
        for r in [start + WIDE_LEAF_ROWS - 1, start + 64, start, start + 63] {
            open.open(1, r);
        }
        open.open_block(2, start + 48, 0b1000_0000_0000_0101);
        open.open_block(2, start + 16 * COL_ROWS, 1);
        assert!(!open.is_empty());
        assert_eq!(open.rows(0).count(), 0);
        let ones: Vec<usize> = open.rows(1).map(|r| r - start).collect();
        assert_eq!(ones, [0, 63, 64, WIDE_LEAF_ROWS - 1]);
        let twos: Vec<usize> = open.rows(2).map(|r| r - start).collect();
        assert_eq!(twos, [48, 50, 63, 16 * COL_ROWS]);
    }

    /// The float16 copies hold every value times the scale, rounded to float32 and truncated,
    /// where the layout puts it: whole blocks through registers and the rest row by row give
    /// the same bits (float64 and float32 rows, widths with and without a remainder of 8, a
    /// last block part full, several parallel blocks); the norms made in the same pass are
    /// those of a pass of their own, one per row.
    #[test]
    fn half_copies_hold_each_value_where_the_layout_says() {
        fn check<F: Float>(n: usize, d: usize) {
            let mut rng = crate::rng::Rng::new(3);
            let x: Vec<F> =
                (0..n * d).map(|i| F::from_f64((rng.uniform() - 0.3) * 1e3 / (1 + i % 7) as f64)).collect();
            let max_abs = x.iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs()));
            for columns in [true, false] {
                let (half, sq_norms) = HalfCopy::new(&x, d, max_abs, columns).expect("a copy");
                let mut want_norms = vec![0.0; n];
                sq_norms_of(&x, d, &mut want_norms);
                assert_eq!(sq_norms, want_norms, "n {n}, d {d}, columns {columns}");
                let scale = 1.0 / half.inv_scale;
                let rows = if columns { n.next_multiple_of(COL_ROWS) } else { n };
                assert_eq!(half.bits.len(), rows * d);
                for i in 0..rows {
                    for f in 0..d {
                        let at = if columns {
                            (i / COL_ROWS * d + f) * COL_ROWS + i % COL_ROWS
                        } else {
                            i * d + f
                        };
                        // Padding rows are zero.
                        let want = if i < n { (x[i * d + f].to_f64() * scale) as f32 } else { 0.0 };
                        let want = crate::kernels::lanes::f16_bits(want);
                        assert_eq!(
                            half.bits[at], want,
                            "n {n}, d {d}, row {i}, feature {f}, columns {columns}"
                        );
                    }
                }
            }
        }
        for (n, d) in [(5 * LEAF_ROWS + 37, 64), (3 * LEAF_ROWS + 16, 13), (40, 8), (7, 3)] {
            check::<f64>(n, d);
            check::<f32>(n, d);
        }
    }

    #[test]
    fn draw_by_mass_follows_cumulative_sum() {
        let m = [0.0, 1.0, 0.0, 2.0];
        let f = |i: usize| m[i];
        assert_eq!(draw_by_mass(4, &f, &[0.5, 1.0, 1.5, 2.999]), vec![1, 1, 3, 3]);
        // Past the end by rounding: the last sample with mass.
        let g = |i: usize| [1.0, 1.0, 0.0][i];
        assert_eq!(draw_by_mass(3, &g, &[2.5]), vec![1]);
    }

    /// Wide rows, several leaves, tight far-out clusters (the expansion's rounding is large
    /// there), exact duplicates, and a second group of candidates when `trials` > 8.
    fn wide_data<F: Float>(n: usize, d: usize, offset: f64) -> ndarray::Array2<F> {
        let mut rng = crate::rng::Rng::new(7);
        let centres: Vec<Vec<f64>> =
            (0..12).map(|_| (0..d).map(|_| offset + 50.0 * rng.uniform()).collect()).collect();
        ndarray::Array2::from_shape_fn((n, d), |(i, f)| {
            let c = &centres[(i * 7) % 12];
            // Every 10th row repeats the one before it.
            let i = if i % 10 == 9 { i - 1 } else { i };
            let noise = (((i * 31 + f * 17) % 101) as f64 / 101.0 - 0.5) * 0.01;
            F::from_f64(c[f] + noise)
        })
    }

    fn indices<F: Float>(
        x: &ndarray::Array2<F>,
        w: Option<&[f64]>,
        k: usize,
        trials: usize,
        how: Screening,
    ) -> Vec<usize> {
        let mut rng = NumpyRandom::new(11);
        let max_abs = check_data(x.view()).unwrap();
        seed(x.view(), max_abs, w, k, trials, &mut rng, &crate::NoObserver, how).unwrap()
    }

    /// A fused narrow step (every distance of a block at once) leaves every distance and
    /// per-leaf mass bit for bit as the step it replaces, and a settle lowers each distance to
    /// the settled centre's where that is nearer: any width it takes, up to as many rows
    /// as a group holds, with and without a centre to settle (one tied with every sample's
    /// current centre among them), weighted or not, float64 and float32, with a last block of
    /// a few rows; called directly on all rows and through `narrow_step` (which chooses it and
    /// splits the rows between threads).
    #[test]
    fn the_fused_narrow_step_is_the_other_bit_for_bit() {
        fn check<F: Float>(d: usize) {
            let n = 2 * PASS_ROWS + 2 * LEAF_ROWS + 13;
            let x = wide_data::<F>(n, d, 0.0);
            let data = x.as_slice().unwrap();
            let row = |i: usize| &data[i * d..(i + 1) * d];
            let columns = feature_major(data, d);
            let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 7) as f64).collect();
            let leaves = n.div_ceil(LEAF_ROWS);
            for weights in [None, Some(&w[..])] {
                let input = Input { data, d, weights };
                // Settling row 8 again ties every sample with its current centre.
                for settle in [None, Some(3usize), Some(8)] {
                    for t in 1..=GROUP_ROWS - usize::from(settle.is_some()) {
                        let what = format!(
                            "{} d = {d}, t = {t}, settle {settle:?}, weighted {}",
                            F::DTYPE,
                            weights.is_some()
                        );
                        // Rows measured: the centre to settle (if any), then `t` candidates.
                        let cand_rows: Vec<usize> = (0..t).map(|j| 40 * j + 11).collect();
                        let candidates = x.select(Axis(0), &cand_rows);
                        let mut rows: Vec<&[F]> = settle.iter().map(|&p| row(p)).collect();
                        rows.extend(candidates.as_slice().unwrap().chunks_exact(d));
                        // A state part way through: the first centre settled (row 8); narrow
                        // rows keep no nearest centres.
                        let mut state = State {
                            closest: vec![F::MAX; n],
                            nearest: Vec::new(),
                            masses: vec![0.0; leaves],
                        };
                        state.settle(&input, &columns, row(8), 0);
                        let before = state.closest.clone();
                        let pending = settle.map(row);
                        // The unfused step over all rows.
                        let (mut want, mut want_masses) = (state.closest.clone(), vec![0.0; leaves * t]);
                        let (s, e) = (0, n);
                        let (closest, masses) = (&mut want, &mut want_masses);
                        narrow_step_leaf(&input, &columns, pending, &candidates, s, e, closest, masses);
                        // The fused one over all rows.
                        let (mut got, mut got_masses) = (state.closest.clone(), vec![0.0; leaves * t]);
                        let leaf =
                            Leaf { input: &input, columns: &columns, settle: pending.is_some(), t, s, e };
                        fused_step_leaf(&leaf, &Group::new(&rows, d), &mut got, &mut got_masses);
                        let same = |a: &[F], b: &[F]| {
                            a.iter().zip(b).all(|(u, v)| u.to_f64().to_bits() == v.to_f64().to_bits())
                        };
                        let same64 =
                            |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(u, v)| u.to_bits() == v.to_bits());
                        assert!(same(&want, &got), "{what}");
                        assert!(same64(&want_masses, &got_masses), "{what}");
                        // Through the step itself.
                        let (_, masses) = narrow_step(&input, &columns, pending, &candidates, &mut state);
                        assert!(same(&want, &state.closest), "{what}, through narrow_step");
                        assert!(same64(&want_masses, &masses), "{what}, through narrow_step");
                        if settle == Some(3) {
                            assert!(
                                want.iter().zip(&before).any(|(a, b)| a < b),
                                "{what}: the settled centre is nearest somewhere"
                            );
                            for (i, (&got, &was)) in want.iter().zip(&before).enumerate() {
                                let dist = plain_sq_dist(row(i), row(3));
                                let nearer = if dist < was { dist } else { was };
                                assert_eq!(
                                    got.to_f64().to_bits(),
                                    nearer.to_f64().to_bits(),
                                    "{what} row {i}"
                                );
                            }
                        } else {
                            assert!(same(&want, &before), "{what}: nothing to settle");
                        }
                    }
                }
            }
        }
        for d in [FUSED_MIN_FEATURES, 11, NARROW_MAX_FEATURES] {
            check::<f64>(d);
            check::<f32>(d);
        }
    }

    #[test]
    fn every_screening_chooses_the_same_centres() {
        for (d, offset) in [(16, 0.0), (17, 0.0), (17, 1e4), (64, 0.0), (70, 1e5), (130, -3.0)] {
            let x = wide_data::<f64>(3000, d, offset);
            let w: Vec<f64> = (0..3000).map(|i| 0.5 + (i % 7) as f64).collect();
            for (weights, trials) in [(None, 4), (Some(&w[..]), 11)] {
                let want = indices(&x, weights, 20, trials, Screening::Brute);
                for how in [
                    Screening::Auto,
                    Screening::Native,
                    Screening::Float32,
                    Screening::EveryRow,
                    Screening::Half,
                    Screening::Columns,
                ] {
                    assert_eq!(
                        indices(&x, weights, 20, trials, how),
                        want,
                        "d = {d}, offset {offset}, {how:?}"
                    );
                }
            }
            let x32 = x.mapv(|v| v as f32);
            let want = indices(&x32, None, 20, 4, Screening::Brute);
            assert_eq!(indices(&x32, None, 20, 4, Screening::Auto), want, "float32, d = {d}");
            // Weighted, in two groups of candidates.
            let want = indices(&x32, Some(&w[..]), 20, 11, Screening::Brute);
            for how in [Screening::Auto, Screening::Columns, Screening::EveryRow] {
                assert_eq!(indices(&x32, Some(&w[..]), 20, 11, how), want, "float32, d = {d}, {how:?}");
            }
        }
    }

    /// Data too big for a core's cache are screened from the float16 copy by default
    /// (feature-major where the CPU has AVX-512, else row-major: both forced too); the centres
    /// stay brute force's, in float64 and float32, weighted or not.
    #[test]
    fn big_wide_data_screened_in_float16_choose_the_same_centres() {
        let (n, d) = (20_000, 64);
        assert!(half_pays(n, d) && !half_pays(n, 16) && !half_pays(1000, d));
        let x = wide_data::<f64>(n, d, 0.0);
        let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 7) as f64).collect();
        for weights in [None, Some(&w[..])] {
            let want = indices(&x, weights, 12, 5, Screening::Brute);
            for how in [Screening::Auto, Screening::Half, Screening::Columns] {
                assert_eq!(indices(&x, weights, 12, 5, how), want, "{how:?}");
            }
        }
        let x32 = x.mapv(|v| v as f32);
        assert_eq!(indices(&x32, None, 12, 5, Screening::Auto), indices(&x32, None, 12, 5, Screening::Brute));
    }

    /// Values whose squares overflow while their distances do not: float64 rows whose squared
    /// norms and products overflow (NaN estimates, which prove nothing: the rows stay open), and
    /// float32 rows whose products overflow (infinite estimates, which certify nothing). The
    /// choices are the brute force's, and every step's kept distances are those of settling
    /// every sample (checked inside `seed` under test).
    #[test]
    fn values_whose_squares_overflow_are_left_open() {
        fn check<F: Float>(base: f64, spread: f64) {
            let (n, d) = (600, 32);
            let x = ndarray::Array2::<F>::from_shape_fn((n, d), |(i, f)| {
                let t = ((i * 31 + f * 17) % 101) as f64 / 101.0 + (i % 5) as f64;
                F::from_f64(base + spread * t)
            });
            let w: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
            for weights in [None, Some(&w[..])] {
                let want = indices(&x, weights, 12, 5, Screening::Brute);
                for how in [Screening::Auto, Screening::EveryRow] {
                    assert_eq!(indices(&x, weights, 12, 5, how), want, "{} {how:?}", F::DTYPE);
                }
            }
        }
        check::<f32>(1e19, 1e17);
        check::<f64>(1e155, 1e152);
    }

    /// float32 data whose distances to the chosen centres dwarf the norms: the exact gains'
    /// own rounding in float32 must be part of the estimates' error bound.
    #[test]
    fn float32_gains_far_from_the_chosen_centre_are_certified_soundly() {
        let (d, m) = (NARROW_MAX_FEATURES + 1, 200);
        let x = ndarray::Array2::<f32>::from_shape_fn((m + 1, d), |(i, f)| {
            if f != 0 {
                0.0
            } else if i == m {
                1000.0
            } else {
                1.0 + i as f32 * 1e-3
            }
        });
        let w: Vec<f64> = (0..=m).map(|i| if i == m { 1e6 } else { 1.0 }).collect();
        for s in 0..40 {
            let max_abs = check_data(x.view()).unwrap();
            let run = |how| {
                let mut rng = NumpyRandom::new(s);
                seed(x.view(), max_abs, Some(&w[..]), 2, 8, &mut rng, &crate::NoObserver, how).unwrap()
            };
            assert_eq!(run(Screening::Auto), run(Screening::Brute), "seed {s}");
        }
    }

    #[test]
    fn wide_rows_give_the_same_centres_on_any_thread_count() {
        let x = wide_data::<f64>(5000, 70, 0.0);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                (
                    indices(&x, None, 30, 5, Screening::Auto),
                    indices(&x, None, 30, 5, Screening::Native),
                    indices(&x, None, 30, 5, Screening::EveryRow),
                    indices(&x, None, 30, 5, Screening::Columns),
                )
            })
        };
        let one = run(1);
        assert_eq!(one.0, one.1);
        assert_eq!(one.0, one.2);
        assert_eq!(one.0, one.3);
        for threads in [2, 3] {
            assert_eq!(run(threads), one);
        }
    }

    /// The float16 screen of big data and the one-pass narrow path, weighted or not: the same
    /// centres on any thread count.
    #[test]
    fn big_data_give_the_same_centres_on_any_thread_count() {
        let (n, d) = (40_000, 33);
        assert!(half_pays(n, d));
        let wide = wide_data::<f64>(n, d, 0.0);
        let narrow = wide_data::<f64>(n, NARROW_MAX_FEATURES, 0.0);
        let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 7) as f64).collect();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                [None, Some(&w[..])].map(|weights| {
                    (
                        indices(&wide, weights, 16, 5, Screening::Auto),
                        indices(&narrow, weights, 16, 5, Screening::Auto),
                    )
                })
            })
        };
        let one = run(1);
        for threads in [2, 3] {
            assert_eq!(run(threads), one, "{threads} threads");
        }
    }

    /// Uniform data: the triangle inequality skips almost no row, so the row-level pass stops
    /// after the first steps; the centres stay brute force's.
    #[test]
    fn rows_the_triangle_inequality_cannot_skip_give_the_same_centres() {
        let mut rng = crate::rng::Rng::new(3);
        let x = ndarray::Array2::from_shape_fn((6000, NARROW_MAX_FEATURES + 1), |_| rng.uniform());
        let w: Vec<f64> = (0..6000).map(|i| 1.0 + (i % 5) as f64).collect();
        for weights in [None, Some(&w[..])] {
            let want = indices(&x, weights, 40, 6, Screening::Brute);
            assert_eq!(indices(&x, weights, 40, 6, Screening::Auto), want);
            assert_eq!(indices(&x, weights, 40, 6, Screening::EveryRow), want);
        }
        // The pass stops where it skips under one row in 20, not before.
        assert!(worth_skipping(5699, 6000));
        assert!(!worth_skipping(5700, 6000));
    }

    #[test]
    fn the_float32_copy_is_made_only_where_every_value_fits() {
        let d = NARROW_MAX_FEATURES + 1;
        let n = 3 * LEAF_ROWS + 5;
        let mut data: Vec<f64> = (0..n * d).map(|i| (i % 97) as f64 * 0.37 - 11.0).collect();
        let copy = f32_copy(&data, d).expect("every value fits");
        assert_eq!(copy, data.iter().map(|&v| v as f32).collect::<Vec<_>>());
        // One value too large, in the last leaf: no copy (the rows are screened natively).
        data[(n - 1) * d + 3] = -2.0 * F32_SCREEN_MAX_ABS;
        assert!(f32_copy(&data, d).is_none());
        let x = ndarray::Array2::from_shape_vec((n, d), data).unwrap();
        assert_eq!(indices(&x, None, 10, 4, Screening::Auto), indices(&x, None, 10, 4, Screening::Brute));
    }

    #[test]
    fn leaf_draws_equal_the_cumulative_sum() {
        // Integer masses: every sum is exact, so the per-leaf draw must agree with the plain
        // cumulative sum exactly (zero masses and a leaf of zeros included).
        let n = 3 * LEAF_ROWS + 17;
        let closest: Vec<f64> = (0..n)
            .map(|i| if (LEAF_ROWS..2 * LEAF_ROWS).contains(&i) { 0.0 } else { ((i * 13) % 5) as f64 })
            .collect();
        let w: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
        for weights in [None, Some(&w[..])] {
            let input = Input { data: &closest[..], d: 1, weights };
            let mut state = State {
                closest: closest.clone(),
                nearest: vec![0; n],
                masses: vec![0.0; n.div_ceil(LEAF_ROWS)],
            };
            for (leaf, m) in state.masses.iter_mut().enumerate() {
                let rows = leaf * LEAF_ROWS..((leaf + 1) * LEAF_ROWS).min(n);
                *m = leaf_mass(&input, rows.start, &closest[rows]);
            }
            let mass = |i: usize| weights.map_or(1.0, |w| w[i]) * closest[i];
            let total: f64 = (0..n).map(mass).sum();
            let targets: Vec<f64> =
                (0..200).map(|t| (t as f64 * total / 200.0).floor()).chain([0.5, total - 0.5]).collect();
            assert_eq!(state.draw(&input, None, &targets), draw_by_mass(n, &mass, &targets));
        }
    }

    /// One narrow pass settles the centre chosen last and gives, per leaf and candidate, the
    /// potential that settling the candidate would leave, bit for bit; a draw with the centre
    /// still pending sees what it would after settling. Every width the step takes with its
    /// feature count as a constant (1 to 7), and wider rows with more rows than the fused step
    /// takes.
    #[test]
    fn the_narrow_step_equals_settling_each_candidate() {
        for d in [1, 2, 3, 4, 5, 6, 7, 8, 12] {
            narrow_step_equals_settling(d);
        }
    }

    fn narrow_step_equals_settling(d: usize) {
        let n = 5 * LEAF_ROWS + 37;
        let data: Vec<f64> = (0..n * d).map(|i| ((i * 7919) % 1013) as f64 * 0.013 - 4.0).collect();
        let w: Vec<f64> = (0..n).map(|i| 0.25 + (i % 4) as f64).collect();
        let x = ndarray::Array2::from_shape_vec((n, d), data.clone()).unwrap();
        let row = |i: usize| &data[i * d..(i + 1) * d];
        for weights in [None, Some(&w[..])] {
            let input = Input { data: &data[..], d, weights };
            let columns = feature_major(&data, d);
            // Narrow rows keep no nearest centres.
            let fresh = || State {
                closest: vec![f64::MAX; n],
                nearest: Vec::new(),
                masses: vec![0.0; n.div_ceil(LEAF_ROWS)],
            };
            let mut settled = fresh();
            settled.settle(&input, &columns, row(3), 0);
            settled.settle(&input, &columns, row(700), 1);
            // Seven: measured two at a time, then one; with the centre to settle, more than
            // the fused step takes.
            let candidates = [11usize, 400, 1290, 5, 901, 77, 1000];
            let cand_rows = x.select(Axis(0), &candidates);
            let mut state = fresh();
            state.settle(&input, &columns, row(3), 0);
            // A draw with centre 700 pending equals one after settling it.
            let targets: Vec<f64> =
                (1..40).map(|t| t as f64 * settled.masses.iter().sum::<f64>() / 40.0).collect();
            let mut pending = fresh();
            pending.settle(&input, &columns, row(3), 0);
            pending.masses.clone_from(&settled.masses);
            assert_eq!(pending.draw(&input, Some(row(700)), &targets), settled.draw(&input, None, &targets));
            let (potentials, masses) = narrow_step(&input, &columns, Some(row(700)), &cand_rows, &mut state);
            assert_eq!(state.closest, settled.closest, "d={d}");
            let copy = || State {
                closest: settled.closest.clone(),
                nearest: settled.nearest.clone(),
                masses: settled.masses.clone(),
            };
            // Each candidate's potential, per leaf and in all, is that of settling it.
            let check = |cands: &[usize], potentials: &[f64], masses: &[f64], what: &str| {
                for (c, &cand) in cands.iter().enumerate() {
                    let mut after = copy();
                    after.settle(&input, &columns, row(cand), 2);
                    for (leaf, &m) in after.masses.iter().enumerate() {
                        let got = masses[leaf * cands.len() + c];
                        assert_eq!(got.to_bits(), m.to_bits(), "d={d} {what} leaf {leaf} candidate {c}");
                    }
                    let potential: f64 = after.masses.iter().sum();
                    assert_eq!(potentials[c].to_bits(), potential.to_bits(), "d={d} {what} candidate {c}");
                }
            };
            check(&candidates, &potentials, &masses, "after a settle");
            // No centre to settle and an even number of candidates (all measured in pairs).
            let even = &candidates[..6];
            let mut again = copy();
            let (potentials, masses) =
                narrow_step(&input, &columns, None, &x.select(Axis(0), even), &mut again);
            assert_eq!(again.closest, settled.closest, "d={d}");
            check(even, &potentials, &masses, "no settle");
        }
    }

    #[test]
    fn picks_distinct_points_when_possible() {
        let x = ndarray::Array2::from_shape_fn((50, 2), |(i, j)| (i * 7 + j * 3) as f64 % 11.0);
        let mut rng = NumpyRandom::new(0);
        let max_abs = check_data(x.view()).unwrap();
        let idx =
            kmeans_plusplus_indices(x.view(), max_abs, None, 5, 3, &mut rng, &crate::NoObserver).unwrap();
        for a in 0..5 {
            for b in 0..a {
                assert_ne!(x.row(idx[a]), x.row(idx[b]));
            }
        }
    }
}
