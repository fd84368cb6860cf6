//! Exact optimal k-means in one dimension ([`Algorithm::Exact1d`](crate::Algorithm::Exact1d)).
//!
//! In one dimension every optimal cluster is a run of consecutive values once they are sorted,
//! so the optimum is a dynamic programme over the sorted distinct values (Wang & Song 2011,
//! "Ckmeans.1d.dp"): `D[c][i]`, the least cost of the first `i` values in `c` clusters, is
//! `min_j D[c-1][j] + cost(j, i)`. The cost of a run comes in O(1) from prefix sums of `w`,
//! `w·u` and `w·u²` (with `u` the value minus the weighted mean, so that the sums stay small and
//! the subtraction in `Σw·u² − (Σw·u)²/Σw` loses little), and because that cost satisfies the
//! quadrangle inequality the leftmost best `j` never decreases with `i`: each layer is solved by
//! divide and conquer in O(m log m) for m distinct values, O(k·m·log m) in all.
//!
//! Equal values are merged into one weighted value first; samples of weight zero take no part in
//! the programme and are labelled with their nearest centre afterwards.

use ndarray::{Array2, ArrayView2};
use rayon::slice::ParallelSliceMut;

use crate::error::KMeansError;
use crate::float::Float;
use crate::model::{FitWarning, KMeans};
use crate::observer::Observer;
use crate::validate::safe_scale;

/// Ranges of a layer at least this long are split between threads. Every entry of a layer is
/// computed by the same sequential scan whichever thread runs it, so results never depend on
/// the thread count.
const PARALLEL_RANGE: usize = 1 << 12;

/// Prefix sums over the sorted distinct values (entry `i` covers the first `i` values).
struct Prefix {
    w: Vec<f64>,
    wu: Vec<f64>,
    wuu: Vec<f64>,
}

impl Prefix {
    fn new(values: &[f64], weights: &[f64], shift: f64) -> Self {
        let m = values.len();
        let (mut w, mut wu, mut wuu) =
            (Vec::with_capacity(m + 1), Vec::with_capacity(m + 1), Vec::with_capacity(m + 1));
        let (mut a, mut b, mut c) = (0.0f64, 0.0f64, 0.0f64);
        w.push(a);
        wu.push(b);
        wuu.push(c);
        for (&v, &wt) in values.iter().zip(weights) {
            let u = v - shift;
            a += wt;
            b += wt * u;
            c += wt * u * u;
            w.push(a);
            wu.push(b);
            wuu.push(c);
        }
        Prefix { w, wu, wuu }
    }

    /// The weighted sum of squared deviations of values `j..i` from their mean.
    #[inline]
    fn cost(&self, j: usize, i: usize) -> f64 {
        let w = self.w[i] - self.w[j];
        let s = self.wu[i] - self.wu[j];
        let q = self.wuu[i] - self.wuu[j];
        (q - s * s / w).max(0.0)
    }
}

/// Fits `x` (one column, already checked: finite, `n >= k`, valid weights) exactly.
pub(super) fn fit<F: Float>(
    x: ArrayView2<F>,
    weights: Option<&[f64]>,
    k: usize,
    max_abs: f64,
    observer: &dyn Observer,
) -> Result<KMeans<F>, KMeansError> {
    let n = x.nrows();
    debug_assert_eq!(x.ncols(), 1);
    observer.run_started(0, 1);
    // Scaling by a power of two is exact and keeps the squares finite.
    let scale = safe_scale::<f64>(max_abs);
    let value = |i: usize| x[[i, 0]].to_f64() * scale;
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);

    let mut order: Vec<usize> = (0..n).collect();
    order.par_sort_unstable_by(|&a, &b| value(a).total_cmp(&value(b)).then(a.cmp(&b)));

    // Distinct values of positive weight, and for each sample its value's index (`None` for a
    // value whose samples all weigh zero).
    let mut values: Vec<f64> = Vec::new();
    let mut value_weights: Vec<f64> = Vec::new();
    let mut group_of = vec![None; n];
    let mut start = 0;
    while start < n {
        let v = value(order[start]);
        let mut end = start;
        let mut total = 0.0;
        while end < n && value(order[end]) == v {
            total += weight(order[end]);
            end += 1;
        }
        if total > 0.0 {
            for &i in &order[start..end] {
                group_of[i] = Some(values.len());
            }
            values.push(v);
            value_weights.push(total);
        }
        start = end;
    }
    if observer.should_stop() {
        return Err(KMeansError::Cancelled);
    }

    let m = values.len();
    let used = k.min(m);
    let total_weight: f64 = value_weights.iter().sum();
    let shift = values.iter().zip(&value_weights).map(|(v, w)| v * w).sum::<f64>() / total_weight;
    let prefix = Prefix::new(&values, &value_weights, shift);
    let bounds = optimal_bounds(&prefix, m, used, observer)?;

    // Centres: each run's weighted mean, summed directly (not from the prefix sums) for accuracy.
    let mut centers_scaled = Vec::with_capacity(k);
    let mut cluster_of_value = vec![0usize; m];
    for c in 0..used {
        let (lo, hi) = (bounds[c], bounds[c + 1]);
        let w: f64 = value_weights[lo..hi].iter().sum();
        let s: f64 = values[lo..hi].iter().zip(&value_weights[lo..hi]).map(|(v, wt)| wt * (v - shift)).sum();
        centers_scaled.push(shift + s / w);
        cluster_of_value[lo..hi].iter_mut().for_each(|l| *l = c);
    }
    // Fewer distinct values than clusters: the extra centres repeat the largest one and stay
    // empty, as duplicate points leave them in a Lloyd fit.
    let last = *centers_scaled.last().expect("at least one value has positive weight");
    centers_scaled.resize(k, last);

    let centers: Vec<F> = centers_scaled.iter().map(|&c| F::from_f64(c / scale)).collect();
    // The centres as the model holds them, back in the scaled units, for labels and inertia.
    let held: Vec<f64> = centers.iter().map(|c| c.to_f64() * scale).collect();
    let labels: Vec<usize> = (0..n)
        .map(|i| match group_of[i] {
            Some(g) => cluster_of_value[g],
            None => nearest_sorted(&held[..used], value(i)),
        })
        .collect();
    let inertia_scaled: f64 = (0..n).map(|i| weight(i) * (value(i) - held[labels[i]]).powi(2)).sum();
    // Divided twice: the square of a tiny scale would underflow.
    let inertia = inertia_scaled / scale / scale;
    if !inertia.is_finite() {
        return Err(KMeansError::Overflow { what: "the inertia", max_abs });
    }
    observer.run_finished(0, 1, inertia);

    let mut warnings = Vec::new();
    if inertia_scaled > 0.0 && inertia < f64::MIN_POSITIVE {
        warnings.push(FitWarning::InertiaUnderflow { max_abs });
    }
    if used < k {
        warnings.push(FitWarning::FewerDistinctClusters { found: used, requested: k });
    }
    let centers = Array2::from_shape_vec((k, 1), centers).expect("k centres of one feature");
    Ok(KMeans::from_fit(centers, labels, inertia, 1, warnings))
}

/// The first value index of each of the `k` clusters of an optimal partition of the `m` values,
/// followed by `m`: cluster `c` holds values `bounds[c]..bounds[c + 1]`, none empty (`k <= m`).
fn optimal_bounds(
    prefix: &Prefix,
    m: usize,
    k: usize,
    observer: &dyn Observer,
) -> Result<Vec<usize>, KMeansError> {
    let mut bounds = vec![0; k + 1];
    bounds[k] = m;
    if k == 1 {
        return Ok(bounds);
    }
    // Layer 1 in closed form; layers 2..k-1 in full, remembering each best split; layer k only
    // for all m values.
    let mut previous: Vec<f64> = (0..=m).map(|i| if i == 0 { 0.0 } else { prefix.cost(0, i) }).collect();
    let mut current = vec![f64::INFINITY; m + 1];
    let mut splits: Vec<Vec<usize>> = Vec::with_capacity(k.saturating_sub(2));
    for c in 2..k {
        if observer.should_stop() {
            return Err(KMeansError::Cancelled);
        }
        let mut split = vec![0usize; m + 1];
        // With c clusters at least c values are needed: entries below c stay unused.
        let layer = Layer { prefix, previous: &previous };
        layer.solve(c, m, c - 1, m - 1, &mut current[c..], &mut split[c..]);
        splits.push(split);
        std::mem::swap(&mut previous, &mut current);
    }
    if observer.should_stop() {
        return Err(KMeansError::Cancelled);
    }
    let (_, mut j) = Layer { prefix, previous: &previous }.best(m, k - 1, m - 1);
    bounds[k - 1] = j;
    for c in (1..k - 1).rev() {
        j = splits[c - 1][j];
        bounds[c] = j;
    }
    Ok(bounds)
}

/// One layer of the programme: the costs of the previous layer and the prefix sums.
struct Layer<'a> {
    prefix: &'a Prefix,
    previous: &'a [f64],
}

impl Layer<'_> {
    /// The least `previous[j] + cost(j, i)` over `j` in `lo..=hi`, and the leftmost `j` giving it.
    fn best(&self, i: usize, lo: usize, hi: usize) -> (f64, usize) {
        let mut best = (f64::INFINITY, lo);
        for j in lo..=hi {
            let v = self.previous[j] + self.prefix.cost(j, i);
            if v < best.0 {
                best = (v, j);
            }
        }
        best
    }

    /// Fills `costs[i - first]` and `splits[i - first]` for `i` in `first..=last`, knowing that
    /// the best split of every `i` in the range lies in `opt_lo..=opt_hi`.
    fn solve(
        &self,
        first: usize,
        last: usize,
        opt_lo: usize,
        opt_hi: usize,
        costs: &mut [f64],
        splits: &mut [usize],
    ) {
        if first > last {
            return;
        }
        let mid = first + (last - first) / 2;
        let (cost, split) = self.best(mid, opt_lo, opt_hi.min(mid - 1));
        let (left_costs, rest_costs) = costs.split_at_mut(mid - first);
        let (left_splits, rest_splits) = splits.split_at_mut(mid - first);
        rest_costs[0] = cost;
        rest_splits[0] = split;
        let (right_costs, right_splits) = (&mut rest_costs[1..], &mut rest_splits[1..]);
        let mut left = || {
            if mid > first {
                self.solve(first, mid - 1, opt_lo, split, left_costs, left_splits)
            }
        };
        let mut right = || self.solve(mid + 1, last, split, opt_hi, right_costs, right_splits);
        if last - first >= PARALLEL_RANGE {
            rayon::join(left, right);
        } else {
            left();
            right();
        }
    }
}

/// The index of the centre nearest `v` among ascending `centers` (the lower one on a tie).
fn nearest_sorted(centers: &[f64], v: f64) -> usize {
    let p = centers.partition_point(|&c| c < v);
    if p == 0 {
        return 0;
    }
    if p == centers.len() {
        return p - 1;
    }
    if v - centers[p - 1] <= centers[p] - v { p - 1 } else { p }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_of_sorted_centres() {
        let c = [0.0, 1.0, 3.0];
        assert_eq!(nearest_sorted(&c, -5.0), 0);
        assert_eq!(nearest_sorted(&c, 0.5), 0);
        assert_eq!(nearest_sorted(&c, 0.6), 1);
        assert_eq!(nearest_sorted(&c, 2.5), 2);
        assert_eq!(nearest_sorted(&c, 9.0), 2);
    }

    #[test]
    fn prefix_costs_are_variances() {
        let p = Prefix::new(&[1.0, 2.0, 4.0], &[1.0, 1.0, 2.0], 2.0);
        assert_eq!(p.cost(0, 1), 0.0);
        assert!((p.cost(0, 2) - 0.5).abs() < 1e-12);
        // 1, 2, 4, 4: mean 2.75, deviations² 3.0625 + 0.5625 + 2 × 1.5625.
        assert!((p.cost(0, 3) - 6.75).abs() < 1e-12);
    }
}
