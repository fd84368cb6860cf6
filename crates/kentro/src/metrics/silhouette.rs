//! The silhouette coefficient, exact and in bounded memory.
//!
//! Every sample needs its summed distance to every cluster, which is all n² pair distances.
//! They are computed in blocks of rows against tiles of a cluster's points and summed at once,
//! so memory is O(n·d) for a sorted copy of the data plus O(block · n_labels) per thread,
//! never n × n. Distances are direct differences in `f64` (no ‖x‖² − 2x·y + ‖y‖² cancellation,
//! so duplicate points are at distance exactly 0), summed in a fixed order: each sample's value
//! is the same whatever the number of threads.

use multiversion::multiversion;
use ndarray::{Array1, ArrayView2, Axis};

use super::MetricError;
use super::data::{Encoded, Sum, check, check_values, scale_of, sum};
use crate::float::Float;
use crate::parallel::par_blocks;
use crate::rng::Rng;

/// Points of one cluster whose distances to a block's rows are computed together.
const TILE: usize = 256;

/// The silhouette coefficient of every sample: `(b − a) / max(a, b)`, where `a` is the mean
/// distance to the other members of its cluster and `b` the smallest mean distance to the
/// members of another cluster; 0 for a sample alone in its cluster. Euclidean distances.
/// scikit-learn's `silhouette_samples`, computed exactly (direct differences, `f64`) in
/// O(n · d) memory, in parallel, identical for any number of threads.
///
/// Label values are arbitrary (only which samples share one matters).
///
/// ```
/// use kentro::metrics::silhouette_samples;
/// let x = ndarray::array![[0.0], [1.0], [10.0], [12.0]];
/// let s = silhouette_samples(x.view(), &[4, 4, 9, 9])?;
/// // a = 1 (to its one neighbour), b = (10 + 12) / 2.
/// assert_eq!(s[0], (11.0 - 1.0) / 11.0);
/// # Ok::<(), kentro::metrics::MetricError>(())
/// ```
///
/// # Errors
/// [`MetricError`] if the data has no columns or a non-finite value, if there is not one label
/// per row, or unless 2 ≤ number of distinct labels ≤ n_samples − 1.
pub fn silhouette_samples<F: Float>(
    x: ArrayView2<'_, F>,
    labels: &[usize],
) -> Result<Array1<f64>, MetricError> {
    let encoded = check("silhouette", x, labels)?;
    Ok(Array1::from(samples(x, &encoded)))
}

/// The mean silhouette coefficient of all samples (see [`silhouette_samples`]): from −1
/// (wrong clusters) through 0 (overlapping) to 1 (dense, well separated). scikit-learn's
/// `silhouette_score` with `sample_size=None`.
///
/// ```
/// use kentro::metrics::silhouette_score;
/// let x = ndarray::array![[0.0], [1.0], [10.0], [12.0]];
/// assert!(silhouette_score(x.view(), &[0, 0, 1, 1])? > 0.8);
/// # Ok::<(), kentro::metrics::MetricError>(())
/// ```
///
/// # Errors
/// As [`silhouette_samples`].
pub fn silhouette_score<F: Float>(x: ArrayView2<'_, F>, labels: &[usize]) -> Result<f64, MetricError> {
    let values = silhouette_samples(x, labels)?;
    Ok(sum(values.iter().copied()) / values.len() as f64)
}

/// [`silhouette_score`] of `sample_size` distinct samples drawn uniformly with kentro's random
/// generator seeded by `seed` (scikit-learn's `silhouette_score(..., sample_size, random_state)`
/// draws with numpy's: the value differs by the sample drawn only). The same seed gives the same
/// value on every platform and for any number of threads.
///
/// ```
/// use kentro::metrics::{silhouette_score, silhouette_score_sampled};
/// let x = ndarray::array![[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]];
/// let labels = [0, 0, 0, 1, 1, 1];
/// let all = silhouette_score_sampled(x.view(), &labels, 6, 7)?;
/// assert!((all - silhouette_score(x.view(), &labels)?).abs() < 1e-12);
/// # Ok::<(), kentro::metrics::MetricError>(())
/// ```
///
/// # Errors
/// [`MetricError`] if `sample_size` is 0 or larger than the number of rows, if the data has no
/// columns or a non-finite value, if there is not one label per row, or unless the sample has
/// 2 ≤ number of distinct labels ≤ sample_size − 1.
pub fn silhouette_score_sampled<F: Float>(
    x: ArrayView2<'_, F>,
    labels: &[usize],
    sample_size: usize,
    seed: u64,
) -> Result<f64, MetricError> {
    check_values(x, labels)?;
    let n_samples = x.nrows();
    if sample_size == 0 || sample_size > n_samples {
        return Err(MetricError::SampleSize { sample_size, n_samples });
    }
    let chosen = choose(n_samples, sample_size, seed);
    let sub_labels: Vec<usize> = chosen.iter().map(|&i| labels[i]).collect();
    silhouette_score(x.select(Axis(0), &chosen).view(), &sub_labels)
}

/// `size` distinct indices below `n`, uniformly (a partial Fisher–Yates shuffle).
fn choose(n: usize, size: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let mut indices: Vec<usize> = (0..n).collect();
    for i in 0..size {
        let j = i + rng.below(n - i);
        indices.swap(i, j);
    }
    indices.truncate(size);
    indices
}

/// The data sorted by cluster, feature-major: feature `f` of sorted point `j` is
/// `columns[f * n + j]`, and cluster `c` is sorted points `starts[c]..starts[c + 1]`.
struct Sorted {
    columns: Vec<f64>,
    starts: Vec<usize>,
    /// Sorted position of each original row.
    position: Vec<usize>,
}

impl Sorted {
    fn new<F: Float>(x: ArrayView2<'_, F>, encoded: &Encoded) -> Self {
        let n = x.nrows();
        let scale = scale_of(x);
        let mut starts = vec![0usize; encoded.n_labels() + 1];
        for (c, &m) in encoded.counts.iter().enumerate() {
            starts[c + 1] = starts[c] + m;
        }
        let mut next = starts.clone();
        let mut position = vec![0usize; n];
        for (p, &c) in position.iter_mut().zip(&encoded.codes) {
            *p = next[c];
            next[c] += 1;
        }
        let mut columns = vec![0.0; n * x.ncols()];
        for (row, &p) in x.rows().into_iter().zip(&position) {
            for (f, v) in row.iter().enumerate() {
                columns[f * n + p] = v.to_f64() * scale;
            }
        }
        Sorted { columns, starts, position }
    }
}

fn samples<F: Float>(x: ArrayView2<'_, F>, encoded: &Encoded) -> Vec<f64> {
    let (n, d, k) = (x.nrows(), x.ncols(), encoded.n_labels());
    let sorted = Sorted::new(x, encoded);
    let mut out = vec![0.0; n];
    par_blocks(
        n,
        1,
        &mut out,
        &|start, end, values: &mut [f64]| {
            let m = end - start;
            // The block's own points, row-major.
            let mut points = vec![0.0; m * d];
            for (r, point) in points.chunks_exact_mut(d).enumerate() {
                let p = sorted.position[start + r];
                for (f, v) in point.iter_mut().enumerate() {
                    *v = sorted.columns[f * n + p];
                }
            }
            let mut totals = vec![Sum::default(); m * k];
            let mut squares = vec![0.0; TILE];
            let mut tile_sums = vec![0.0; m];
            for c in 0..k {
                let mut first = sorted.starts[c];
                while first < sorted.starts[c + 1] {
                    let last = (first + TILE).min(sorted.starts[c + 1]);
                    distance_sums(&sorted.columns, n, first, last, &points, d, &mut squares, &mut tile_sums);
                    for (r, &t) in tile_sums.iter().enumerate() {
                        totals[r * k + c].add(t);
                    }
                    first = last;
                }
            }
            for (r, value) in values.iter_mut().enumerate() {
                let own = encoded.codes[start + r];
                let totals = &totals[r * k..(r + 1) * k];
                *value = coefficient(own, totals, &encoded.counts);
            }
        },
        &|_: &mut (), ()| {},
    );
    out
}

/// The silhouette of a sample of cluster `own` whose summed distances to each cluster are
/// `totals`, with scikit-learn's zeros: a sample alone in its cluster, or at distance 0 from
/// every other sample.
fn coefficient(own: usize, totals: &[Sum], counts: &[usize]) -> f64 {
    if counts[own] == 1 {
        return 0.0;
    }
    let a = totals[own].value() / (counts[own] - 1) as f64;
    let b = totals
        .iter()
        .zip(counts)
        .enumerate()
        .filter(|&(c, _)| c != own)
        .map(|(_, (t, &m))| t.value() / m as f64)
        .fold(f64::INFINITY, f64::min);
    let larger = a.max(b);
    if larger == 0.0 { 0.0 } else { (b - a) / larger }
}

/// For each point (row of `points`, `d` values), the summed distance to sorted points
/// `first..last` (at most [`TILE`]), into `out`. Vectorised across the tile's points; the sum
/// order is fixed, so every target computes the same bits.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn distance_sums(
    columns: &[f64],
    n: usize,
    first: usize,
    last: usize,
    points: &[f64],
    d: usize,
    squares: &mut [f64],
    out: &mut [f64],
) {
    const LANES: usize = 8;
    let squares = &mut squares[..last - first];
    for (point, slot) in points.chunks_exact(d).zip(out.iter_mut()) {
        squares.fill(0.0);
        for (f, &p) in point.iter().enumerate() {
            let column = &columns[f * n + first..f * n + last];
            for (s, &v) in squares.iter_mut().zip(column) {
                let t = v - p;
                *s += t * t;
            }
        }
        let mut lanes = [0.0f64; LANES];
        let chunks = squares.chunks_exact(LANES);
        let rest = chunks.remainder();
        for chunk in chunks {
            for l in 0..LANES {
                lanes[l] += chunk[l].sqrt();
            }
        }
        let mut total =
            ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        for &s in rest {
            total += s.sqrt();
        }
        *slot = total;
    }
}
