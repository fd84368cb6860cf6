//! Repeated rows, iterated once: where many rows are copies of others (the pixels of a photo
//! share colours, rounded or categorical data repeat), the iterations run on the distinct rows,
//! each weighted by its number of copies (or its copies' summed weights). A distinct row gets
//! the label every copy would get; the sums are added in another order (`m × x` added once
//! rather than `x` added `m` times), so centres and inertia differ in the last bits, and a tie
//! that this rounding decides may go the other way. An empty cluster takes the samples
//! scikit-learn's rule picks among the original rows ([`Repeats::farthest`]). k-means++ and the
//! random start still draw from the original rows, so the centres they pick do not change.

use ndarray::{Array2, ArrayView2};

use super::lloyd::farthest_rows;
use crate::float::Float;
use crate::kernels::lanes::prefetch;
use crate::observer::Observer;

/// Data with fewer rows than this is never searched for repeats: its passes cost little.
pub(crate) const REPEATS_MIN_ROWS: usize = 4096;

/// Rows looked at first, spread evenly over the data: the search goes on only where at least
/// [`PROBE_MIN_REPEATS`] of them repeat another among them. Continuous data (blobs, uniform
/// noise) has none and costs only this look. The china photo's pixels (273k × 3, 97k distinct)
/// show 845 repeats among 4096.
const PROBE_ROWS: usize = 4096;
/// See [`PROBE_ROWS`].
const PROBE_MIN_REPEATS: usize = PROBE_ROWS / 100;

/// The distinct rows are used when they are at most this share of the rows (numerator,
/// denominator): below it, the passes saved repay the search many times over. The search's
/// table is sized for that many and the search stops once there are more.
const MAX_DISTINCT_SHARE: (usize, usize) = (3, 4);

/// The search also stops when more than this share of the first [`EARLY_ROWS`]-th of the rows
/// are distinct (numerator, denominator): data whose sample repeated (some rows repeat very
/// often) but whose other rows are mostly distinct then costs an eighth of a search. Measured
/// on scikit-learn's sample photos: 4% of the first eighth of china.jpg's pixels are distinct
/// (35% of all), 18% of flower.jpg's (23% of all).
const EARLY_DISTINCT_SHARE: (usize, usize) = (7, 8);
/// See [`EARLY_DISTINCT_SHARE`].
const EARLY_ROWS: usize = 8;

/// The distinct rows of some data and where each original row went.
pub(crate) struct Repeats<F> {
    /// Each distinct row once, in the order of its first copy.
    pub rows: Array2<F>,
    /// Per distinct row: its number of copies, or the sum of its copies' weights (in row order).
    pub weights: Vec<f64>,
    /// Per original row: its distinct row.
    pub inverse: Vec<u32>,
}

impl<F: Float> Repeats<F> {
    /// The distinct rows of `x` (standard layout), or `None` where too few rows repeat for the
    /// iterations to gain ([`REPEATS_MIN_ROWS`], [`PROBE_ROWS`], [`MAX_DISTINCT_SHARE`],
    /// [`EARLY_DISTINCT_SHARE`]), or where the search's memory is not to be had, or where the
    /// observer asks to stop (asked every [`TABLE_AHEAD`] rows).
    /// Rows are equal when their values are bit for bit (so `-0.0` and `0.0` differ).
    pub(crate) fn find(x: ArrayView2<F>, weights: Option<&[f64]>, observer: &dyn Observer) -> Option<Self> {
        let (n, d) = x.dim();
        let data = x.as_slice()?;
        if n < REPEATS_MIN_ROWS || d == 0 || u32::try_from(n).is_err() {
            return None;
        }
        let row = |i: usize| &data[i * d..(i + 1) * d];
        let mut probe = Table::new(PROBE_ROWS)?;
        let mut repeats = 0;
        let sample = |p: usize| row(p * n / PROBE_ROWS);
        probe.insert_all(PROBE_ROWS, &sample, |_, _| false, |_, new| repeats += usize::from(!new));
        if repeats < PROBE_MIN_REPEATS {
            return None;
        }
        let (num, den) = MAX_DISTINCT_SHARE;
        let most = n * num / den;
        let (early_num, early_den) = EARLY_DISTINCT_SHARE;
        let give_up = |seen: usize, distinct: usize| {
            distinct > most
                || (seen >= n / EARLY_ROWS && distinct * early_den > seen * early_num)
                || observer.should_stop()
        };
        let mut inverse = Vec::new();
        inverse.try_reserve_exact(n).ok()?;
        let first = Table::new(most)?.insert_all(n, &row, give_up, |u, _| inverse.push(u))?;
        if first.len() > most {
            return None;
        }
        let mut rows = Array2::from_elem((first.len(), d), F::ZERO);
        let out = rows.as_slice_mut().expect("standard layout");
        for (o, &i) in out.chunks_exact_mut(d).zip(&first) {
            o.copy_from_slice(row(i));
        }
        let mut totals = vec![0.0f64; first.len()];
        for (i, &u) in inverse.iter().enumerate() {
            totals[u as usize] += weights.map_or(1.0, |w| w[i]);
        }
        Some(Repeats { rows, weights: totals, inverse })
    }

    /// The `m` original rows scikit-learn's relocation of empty clusters takes, farthest first
    /// (among equal distances the lowest index), as distinct rows with each original row's
    /// weight: `dist` holds every distinct row's distance, `weights` the original weights.
    pub(crate) fn farthest(&self, dist: &[f64], weights: Option<&[f64]>, m: usize) -> Vec<(usize, f64)> {
        let inverse = &self.inverse;
        farthest_rows(inverse.len(), |i| dist[inverse[i] as usize], m)
            .into_iter()
            .map(|i| (inverse[i] as usize, weights.map_or(1.0, |w| w[i])))
            .collect()
    }
}

/// An open-addressing set of rows: each slot holds a distinct row's number plus one in its low
/// half (zero: empty) and the row's hash's low bits in its high half, so that rows of other
/// hashes are passed over without reading them; rows are told apart by their values' bits.
struct Table {
    slots: Vec<u64>,
    shift: u32,
}

impl Table {
    /// Room for `rows` distinct rows at most half full, or `None` where that memory is not to
    /// be had (the search is then skipped).
    fn new(rows: usize) -> Option<Self> {
        let size = (2 * rows).next_power_of_two().max(2);
        let mut slots = Vec::new();
        slots.try_reserve_exact(size).ok()?;
        slots.resize(size, 0);
        Some(Table { slots, shift: 64 - size.trailing_zeros() })
    }

    /// Where the search for a row of hash `h` starts.
    #[inline(always)]
    fn home(&self, h: u64) -> usize {
        (h >> self.shift) as usize
    }

    /// The number of `values` (of hash `h`) among the distinct rows so far (`first[u]` is
    /// distinct row `u`'s index, `row` reads a row), and whether it is new (it then gets the
    /// next number).
    #[inline]
    fn insert<'a, F: Float + 'a>(
        &mut self,
        h: u64,
        values: &[F],
        first: &[usize],
        row: &impl Fn(usize) -> &'a [F],
    ) -> (u32, bool) {
        let mask = self.slots.len() - 1;
        let tag = h << 32;
        let mut slot = self.home(h);
        loop {
            let held = self.slots[slot];
            if held == 0 {
                let u = u32::try_from(first.len()).expect("fewer distinct rows than u32::MAX");
                self.slots[slot] = tag | u64::from(u + 1);
                return (u, true);
            }
            let u = (held as u32) - 1;
            if held >> 32 == h & 0xffff_ffff && same_bits(row(first[u as usize]), values) {
                return (u, false);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Every row of `0..n` in turn, to `each`: its distinct row's number, and whether it is
    /// new (the slots of the rows a few ahead are asked for first: the table outgrows the
    /// caches).
    /// Returns the first row of each distinct row, or `None` once `give_up(rows seen, distinct
    /// rows)` says so (asked every [`TABLE_AHEAD`] rows; the table must have room for the
    /// distinct rows found until then).
    fn insert_all<'a, F: Float + 'a>(
        &mut self,
        n: usize,
        row: &impl Fn(usize) -> &'a [F],
        give_up: impl Fn(usize, usize) -> bool,
        mut each: impl FnMut(u32, bool),
    ) -> Option<Vec<usize>> {
        let mut first = Vec::new();
        let mut hashes = [0u64; TABLE_AHEAD];
        for start in (0..n).step_by(TABLE_AHEAD) {
            if give_up(start, first.len()) {
                return None;
            }
            let end = (start + TABLE_AHEAD).min(n);
            for (h, i) in hashes.iter_mut().zip(start..end) {
                *h = hash(row(i));
                prefetch(&self.slots[self.home(*h)..=self.home(*h)]);
            }
            for (&h, i) in hashes.iter().zip(start..end) {
                let (u, new) = self.insert(h, row(i), &first, row);
                if new {
                    first.push(i);
                }
                each(u, new);
            }
        }
        Some(first)
    }
}

/// Rows whose slots [`Table::insert_all`] asks for at a time.
const TABLE_AHEAD: usize = 16;

/// A hash of the bits of a row's values (multiply and fold; the table takes the high bits).
#[inline(always)]
fn hash<F: Float>(values: &[F]) -> u64 {
    values
        .iter()
        .fold(0x243f_6a88_85a3_08d3u64, |h, v| {
            let h = (h ^ v.to_f64().to_bits()).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            h ^ (h >> 29)
        })
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Whether two rows hold the same bits.
#[inline(always)]
fn same_bits<F: Float>(a: &[F], b: &[F]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.to_f64().to_bits() == y.to_f64().to_bits())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observer::NoObserver;
    use crate::rng::Rng;

    /// `n` rows drawn at random from `distinct` rows of `d` features.
    fn repeated(n: usize, distinct: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut rng = Rng::with_stream(seed, 0);
        let pool = Array2::from_shape_fn((distinct, d), |_| rng.uniform());
        let picks: Vec<usize> = (0..n).map(|_| (rng.uniform() * distinct as f64) as usize).collect();
        Array2::from_shape_fn((n, d), |(i, j)| pool[[picks[i], j]])
    }

    /// How many distinct rows `x` has (bit for bit).
    fn distinct(x: &Array2<f64>) -> usize {
        x.outer_iter()
            .map(|r| r.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            .collect::<std::collections::HashSet<_>>()
            .len()
    }

    #[test]
    fn the_distinct_rows_rebuild_the_data() {
        let x = repeated(10_000, 2_000, 3, 1);
        let w: Vec<f64> = (0..x.nrows()).map(|i| (i % 5) as f64 * 0.5).collect();
        let r = Repeats::find(x.view(), Some(&w), &NoObserver).expect("repeats found");
        assert_eq!(r.rows.nrows(), distinct(&x));
        assert!(r.rows.nrows() > 1_900);
        for (i, &u) in r.inverse.iter().enumerate() {
            assert_eq!(x.row(i), r.rows.row(u as usize));
        }
        // First copies in order, and the weights summed per distinct row.
        let firsts: Vec<usize> =
            (0..r.rows.nrows()).map(|u| r.inverse.iter().position(|&v| v as usize == u).unwrap()).collect();
        assert!(firsts.windows(2).all(|p| p[0] < p[1]));
        let mut totals = vec![0.0; r.rows.nrows()];
        r.inverse.iter().zip(&w).for_each(|(&u, wi)| totals[u as usize] += wi);
        assert_eq!(r.weights, totals);
        let counts = Repeats::find(x.view(), None, &NoObserver).unwrap().weights;
        assert_eq!(counts.iter().sum::<f64>(), x.nrows() as f64);
    }

    #[test]
    fn rows_equal_only_bit_for_bit() {
        let mut x = repeated(8_192, 1_000, 2, 2);
        // Negative zero against zero: distinct rows.
        x.row_mut(0).fill(0.0);
        x.row_mut(1).fill(-0.0);
        let r = Repeats::find(x.view(), None, &NoObserver).unwrap();
        assert_ne!(r.inverse[0], r.inverse[1]);
        assert_eq!(r.rows.nrows(), distinct(&x));
    }

    /// `n` rows: every `every`-th a copy of one row, the others distinct.
    fn one_row_repeated(n: usize, every: usize) -> Array2<f64> {
        let mut rng = Rng::with_stream(7, 0);
        Array2::from_shape_fn((n, 2), |(i, _)| if i % every == 0 { 0.5 } else { rng.uniform() + 1.0 })
    }

    #[test]
    fn data_with_few_repeats_is_left_alone() {
        // Continuous data: no repeats.
        let mut rng = Rng::with_stream(3, 0);
        let x = Array2::from_shape_fn((20_000, 2), |_| rng.uniform());
        assert!(Repeats::find(x.view(), None, &NoObserver).is_none());
        // Repeats, but too few in the sample: 20 copies of one row.
        let x = one_row_repeated(20_000, 1_000);
        assert!(Repeats::find(x.view(), None, &NoObserver).is_none());
        // Too few rows to search.
        let x = repeated(REPEATS_MIN_ROWS - 1, 10, 2, 5);
        assert!(Repeats::find(x.view(), None, &NoObserver).is_none());
    }

    /// Data whose sample repeats passes on to the search, which keeps the distinct rows only up
    /// to three quarters of the rows.
    #[test]
    fn the_distinct_rows_are_kept_up_to_three_quarters() {
        // Every third row one row: 2/3 of the rows (and one) distinct; every fifth: 4/5.
        let x = one_row_repeated(24_000, 3);
        assert_eq!(Repeats::find(x.view(), None, &NoObserver).unwrap().rows.nrows(), 16_001);
        assert!(Repeats::find(one_row_repeated(24_000, 5).view(), None, &NoObserver).is_none());
    }

    /// Asked to stop, the search gives up (the fit then stops at its next check).
    #[test]
    fn the_search_stops_when_asked() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct Stop(AtomicUsize);
        impl Observer for Stop {
            fn should_stop(&self) -> bool {
                self.0.fetch_add(1, Ordering::Relaxed) >= 100
            }
        }
        let x = one_row_repeated(24_000, 3);
        let stop = Stop(AtomicUsize::new(0));
        assert!(Repeats::find(x.view(), None, &stop).is_none());
        assert_eq!(stop.0.load(Ordering::Relaxed), 101, "asked every few rows, up to the first yes");
        assert!(Repeats::find(x.view(), None, &NoObserver).is_some());
    }

    /// The search gives up early on rows that are mostly distinct from the start, not on rows
    /// that repeat from the start (here the first eighth holds only the repeated row).
    #[test]
    fn the_search_gives_up_early_only_on_mostly_distinct_rows() {
        let n = 24_000;
        let mut x = one_row_repeated(n, 3);
        x.slice_mut(ndarray::s![..n / EARLY_ROWS, ..]).fill(0.5);
        assert!(Repeats::find(x.view(), None, &NoObserver).is_some());
        // Distinct first rows: given up on at the first eighth, though 3/4 would be kept.
        let mut x = one_row_repeated(n, 2);
        let mut rng = Rng::with_stream(8, 0);
        x.slice_mut(ndarray::s![..n / EARLY_ROWS, ..]).mapv_inplace(|_| rng.uniform() + 1.0);
        assert!(distinct(&x) * 4 <= n * 3);
        assert!(Repeats::find(x.view(), None, &NoObserver).is_none());
    }

    #[test]
    fn the_farthest_rows_are_those_of_the_original_order() {
        let x = repeated(6_000, 40, 2, 6);
        let r = Repeats::find(x.view(), None, &NoObserver).unwrap();
        // Distances with ties between distinct rows.
        let dist: Vec<f64> = (0..r.rows.nrows()).map(|u| (u % 7) as f64).collect();
        let expanded: Vec<f64> = r.inverse.iter().map(|&u| dist[u as usize]).collect();
        let w: Vec<f64> = (0..x.nrows()).map(|i| i as f64).collect();
        // Independently: a stable sort by distance, farthest first.
        let mut order: Vec<usize> = (0..x.nrows()).collect();
        order.sort_by(|&a, &b| expanded[b].partial_cmp(&expanded[a]).unwrap());
        for m in [1, 3, 40, 200, 6000, 7000] {
            let want: Vec<(usize, f64)> =
                order.iter().take(m).map(|&i| (r.inverse[i] as usize, w[i])).collect();
            let got = r.farthest(&dist, Some(&w), m);
            assert_eq!(got, want);
            assert_eq!(got.len(), m.min(x.nrows()));
            // Farthest first, ties to the lowest original index (the weights here).
            assert!(got.windows(2).all(|p| dist[p[0].0] > dist[p[1].0]
                || (dist[p[0].0] == dist[p[1].0] && p[0].1 < p[1].1)));
        }
    }
}
