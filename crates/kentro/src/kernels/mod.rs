//! Distance kernels. Distances are computed directly as `Σ (a − b)²` (not through the
//! `‖a‖² − 2a·b + ‖b‖²` expansion), which is exact to rounding and never negative.
//! Written so that the compiler vectorises them on any target; several accumulators break the
//! dependency chain of the sum.

use crate::float::Float;

const LANES: usize = 8;

/// Squared Euclidean distance between two equally long rows.
#[inline]
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
    let s0 = (acc[0] + acc[4]) + (acc[1] + acc[5]);
    let s1 = (acc[2] + acc[6]) + (acc[3] + acc[7]);
    (s0 + s1) + tail
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
#[inline]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    #[test]
    fn sq_dist_matches_reference_for_every_length() {
        for d in 0..40 {
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
}
