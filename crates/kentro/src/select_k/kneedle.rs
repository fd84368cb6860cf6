//! The Kneedle knee detector (Satopää, Albrecht, Irwin & Raghavan, "Finding a 'Kneedle' in a
//! Haystack", ICDCS workshops 2011), offline, as the `kneed` package computes it.

use super::SelectKError;

/// The bend of the curve: whether its slope grows (convex) or shrinks (concave) along x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// The slope grows along x, like an inertia curve `1/k`.
    Convex,
    /// The slope shrinks along x, like `log x`.
    Concave,
}

/// Whether the curve rises or falls along x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// y rises with x.
    Increasing,
    /// y falls with x (an inertia curve).
    Decreasing,
}

/// The knee (or elbow) of the curve through the points `(x[i], y[i])`: the index of the point
/// where it bends most, by Kneedle with sensitivity `sensitivity` (the paper's `S`; 1 is the
/// paper's and `kneed`'s default, larger is more conservative).
///
/// The steps are the paper's, as in `kneed` (`KneeLocator(x, y, S, curve, direction)`, offline,
/// no interpolation): normalise x and y to [0, 1]; turn the curve into a concave increasing one
/// (a convex decreasing curve becomes `1 − y`; an increasing convex or a decreasing concave one
/// is also reversed); take the difference curve `y − x`; find its local maxima (`>=` both
/// neighbours); each maximum sets the threshold `y_max − S · mean(Δx)`, each local minimum
/// resets it to 0; the knee is the first maximum after which the difference curve falls below its
/// threshold before the next maximum.
///
/// `Ok(None)` when there is no knee: fewer than 3 points, a flat y, or a curve that never falls
/// below the threshold (a straight line, or a curve of the other shape).
///
/// ```
/// use kentro::select_k::{Curve, Direction, kneedle};
/// // An inertia curve with its elbow at k = 4 (index 2).
/// let k = [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
/// let inertia = [900.0, 500.0, 120.0, 110.0, 100.0, 92.0, 85.0];
/// assert_eq!(kneedle(&k, &inertia, Curve::Convex, Direction::Decreasing, 1.0)?, Some(2));
/// # Ok::<(), kentro::select_k::SelectKError>(())
/// ```
///
/// # Errors
/// [`SelectKError::Knee`] when `x` and `y` differ in length, a value is not finite, x is not
/// strictly increasing, or `sensitivity` is negative or not finite.
pub fn kneedle(
    x: &[f64],
    y: &[f64],
    curve: Curve,
    direction: Direction,
    sensitivity: f64,
) -> Result<Option<usize>, SelectKError> {
    let bad = |message: String| Err(SelectKError::Knee(message));
    if x.len() != y.len() {
        return bad(format!("x has {} values but y has {}", x.len(), y.len()));
    }
    if let Some(i) = x.iter().chain(y).position(|v| !v.is_finite()) {
        let (name, at) = if i < x.len() { ("x", i) } else { ("y", i - x.len()) };
        let value = if i < x.len() { x[at] } else { y[at] };
        return bad(format!("{name}[{at}] = {value} is not finite"));
    }
    if let Some(i) = x.windows(2).position(|w| w[1] <= w[0]) {
        return bad(format!(
            "x must be strictly increasing, but x[{}] = {} follows {}",
            i + 1,
            x[i + 1],
            x[i]
        ));
    }
    if !(sensitivity.is_finite() && sensitivity >= 0.0) {
        return bad(format!("the sensitivity must be a finite number >= 0, got {sensitivity}"));
    }
    let n = x.len();
    if n < 3 {
        return Ok(None);
    }
    let normalize = |v: &[f64]| -> Option<Vec<f64>> {
        let (lo, hi) =
            v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &a| (lo.min(a), hi.max(a)));
        (hi > lo).then(|| v.iter().map(|a| (a - lo) / (hi - lo)).collect())
    };
    let x_norm = normalize(x).expect("x strictly increases");
    let Some(mut y_norm) = normalize(y) else { return Ok(None) };
    // Every shape becomes a concave increasing curve (a knee); `reversed` curves are read back
    // from the end.
    let reversed = match (curve, direction) {
        (Curve::Concave, Direction::Increasing) => false,
        (Curve::Convex, Direction::Decreasing) => {
            y_norm.iter_mut().for_each(|v| *v = 1.0 - *v);
            false
        }
        (Curve::Concave, Direction::Decreasing) => {
            y_norm.reverse();
            true
        }
        (Curve::Convex, Direction::Increasing) => {
            y_norm.iter_mut().for_each(|v| *v = 1.0 - *v);
            y_norm.reverse();
            true
        }
    };
    let diff: Vec<f64> = y_norm.iter().zip(&x_norm).map(|(y, x)| y - x).collect();
    // Local extrema as scipy's argrelextrema(order=1, mode="clip"): an end point is compared with
    // its one neighbour.
    let neighbours = |i: usize| (diff[i.saturating_sub(1)], diff[(i + 1).min(n - 1)]);
    let is_max = |i: usize| {
        let (l, r) = neighbours(i);
        diff[i] >= l && diff[i] >= r
    };
    let is_min = |i: usize| {
        let (l, r) = neighbours(i);
        diff[i] <= l && diff[i] <= r
    };
    let Some(first_max) = (0..n).find(|&i| is_max(i)) else { return Ok(None) };
    let step = (x_norm[n - 1] - x_norm[0]) / (n - 1) as f64;
    let mut threshold = f64::NEG_INFINITY;
    let mut threshold_index = first_max;
    for i in first_max..n - 1 {
        if is_max(i) {
            threshold = diff[i] - sensitivity * step;
            threshold_index = i;
        }
        if is_min(i) {
            threshold = 0.0;
        }
        if diff[i + 1] < threshold {
            return Ok(Some(if reversed { n - 1 - threshold_index } else { threshold_index }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kneed's test curves: x = 0..9 and y_convex_inc = [1, 2, 3, 4, 5, 10, 15, 20, 40, 100].
    fn kneed_curves() -> (Vec<f64>, [Vec<f64>; 4]) {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let convex_inc = vec![1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 15.0, 20.0, 40.0, 100.0];
        let convex_dec: Vec<f64> = convex_inc.iter().rev().copied().collect();
        let concave_dec: Vec<f64> = convex_inc.iter().map(|v| 100.0 - v).collect();
        let concave_inc: Vec<f64> = convex_dec.iter().map(|v| 100.0 - v).collect();
        (x, [convex_inc, convex_dec, concave_dec, concave_inc])
    }

    #[test]
    fn kneeds_four_shapes() {
        // kneed's tests: convex increasing 7, convex decreasing 2, concave decreasing 7,
        // concave increasing 2 (x = index here).
        let (x, [convex_inc, convex_dec, concave_dec, concave_inc]) = kneed_curves();
        let knee = |y: &[f64], c, d| kneedle(&x, y, c, d, 1.0).unwrap();
        assert_eq!(knee(&convex_inc, Curve::Convex, Direction::Increasing), Some(7));
        assert_eq!(knee(&convex_dec, Curve::Convex, Direction::Decreasing), Some(2));
        assert_eq!(knee(&concave_dec, Curve::Concave, Direction::Decreasing), Some(7));
        assert_eq!(knee(&concave_inc, Curve::Concave, Direction::Increasing), Some(2));
    }

    #[test]
    fn kneeds_truncated_concave_curve() {
        // kneed: KneeLocator(x[:-3] / 10, y_concave_inc[:-3] / 10, curve="concave").knee == 0.2
        let (x, [.., concave_inc]) = kneed_curves();
        let x: Vec<f64> = x[..7].iter().map(|v| v / 10.0).collect();
        let y: Vec<f64> = concave_inc[..7].iter().map(|v| v / 10.0).collect();
        let i = kneedle(&x, &y, Curve::Concave, Direction::Increasing, 1.0).unwrap().unwrap();
        assert_eq!(x[i], 0.2);
    }

    #[test]
    fn the_papers_figure_2() {
        // Satopää et al., figure 2: y = -1 / (x + 0.1) + 5 on 10 points of [0, 1]; knee at
        // x ≈ 0.22 (kneed asserts 0.22 within 5%). By hand: the difference curve peaks at
        // x = 2/9 (0.5364), stays above 0.5364 - 1/9 at 3/9 and 4/9, falls below it at 5/9.
        let x: Vec<f64> = (0..10).map(|i| i as f64 / 9.0).collect();
        let y: Vec<f64> = x.iter().map(|x| -1.0 / (x + 0.1) + 5.0).collect();
        assert_eq!(kneedle(&x, &y, Curve::Concave, Direction::Increasing, 1.0).unwrap(), Some(2));
    }

    #[test]
    fn a_larger_sensitivity_waits_for_a_deeper_drop() {
        // Figure 2's curve: with S = 3 the threshold 0.5364 - 3/9 = 0.2031 is first crossed at
        // x = 7/9 (0.1969), still for the peak at 2/9; with S = 5 it is below 0, never crossed.
        let x: Vec<f64> = (0..10).map(|i| i as f64 / 9.0).collect();
        let y: Vec<f64> = x.iter().map(|x| -1.0 / (x + 0.1) + 5.0).collect();
        assert_eq!(kneedle(&x, &y, Curve::Concave, Direction::Increasing, 3.0).unwrap(), Some(2));
        assert_eq!(kneedle(&x, &y, Curve::Concave, Direction::Increasing, 5.0).unwrap(), None);
    }

    #[test]
    fn no_knee_on_lines_flat_curves_and_short_curves() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(
            kneedle(&x, &[5.0, 4.0, 3.0, 2.0, 1.0], Curve::Convex, Direction::Decreasing, 1.0).unwrap(),
            None
        );
        assert_eq!(kneedle(&x, &[2.0; 5], Curve::Convex, Direction::Decreasing, 1.0).unwrap(), None);
        assert_eq!(kneedle(&x[..2], &[3.0, 1.0], Curve::Convex, Direction::Decreasing, 1.0).unwrap(), None);
    }

    #[test]
    fn bad_curves_are_refused_with_the_reason() {
        let err = |x: &[f64], y: &[f64], s: f64| {
            kneedle(x, y, Curve::Convex, Direction::Decreasing, s).unwrap_err().to_string()
        };
        assert_eq!(err(&[1.0, 2.0], &[1.0], 1.0), "cannot find a knee: x has 2 values but y has 1");
        assert_eq!(err(&[1.0, 2.0], &[1.0, f64::NAN], 1.0), "cannot find a knee: y[1] = NaN is not finite");
        assert_eq!(
            err(&[1.0, 3.0, 2.0], &[3.0, 2.0, 1.0], 1.0),
            "cannot find a knee: x must be strictly increasing, but x[2] = 2 follows 3"
        );
        assert!(err(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0], -1.0).contains("sensitivity"));
    }
}
