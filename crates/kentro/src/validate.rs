//! Checks on data and weights shared by fitting and predicting, and the choice of an exact
//! power-of-two scale for data whose squared distances would overflow or underflow.

use ndarray::{ArrayView1, ArrayView2};

use crate::error::KMeansError;
use crate::float::Float;

/// Rejects empty data, zero columns and non-finite values (naming the first one, row-major);
/// returns the largest absolute value.
pub(crate) fn check_data<F: Float>(x: ArrayView2<F>) -> Result<f64, KMeansError> {
    if x.nrows() == 0 {
        return Err(KMeansError::EmptyData);
    }
    if x.ncols() == 0 {
        return Err(KMeansError::NoFeatures);
    }
    if let Some(flat) = x.as_slice() {
        // Contiguous data: one pass over all values in independent lanes (vectorised), and the
        // row by row pass below only to name the first non-finite value.
        const W: usize = 16;
        let mut max = [F::ZERO; W];
        let mut finite = [true; W];
        let chunks = flat.chunks_exact(W);
        let rest = chunks.remainder();
        for c in chunks {
            for l in 0..W {
                let a = c[l].abs();
                finite[l] &= c[l].is_finite();
                max[l] = if a > max[l] { a } else { max[l] };
            }
        }
        let mut all_finite = finite.iter().all(|&f| f);
        let mut max_abs = 0.0f64;
        for &v in max.iter().chain(rest) {
            all_finite &= v.is_finite();
            max_abs = max_abs.max(v.abs().to_f64());
        }
        if all_finite {
            return Ok(max_abs);
        }
    }
    let mut max_abs = 0.0f64;
    for (row, r) in x.outer_iter().enumerate() {
        let mut row_max = F::ZERO;
        let mut finite = true;
        for &v in r.iter() {
            finite &= v.is_finite();
            let a = v.abs();
            if a > row_max {
                row_max = a;
            }
        }
        if !finite {
            let col = r.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Err(KMeansError::NonFinite { row, col, value: r[col].to_f64() });
        }
        max_abs = max_abs.max(row_max.to_f64());
    }
    Ok(max_abs)
}

/// Checks the feature count against a fitted model's.
pub(crate) fn check_width(got: usize, expected: usize) -> Result<(), KMeansError> {
    if got != expected {
        return Err(KMeansError::FeatureMismatch { got, expected });
    }
    Ok(())
}

/// Validates sample weights: one per sample, finite, non-negative, not all zero, finite sum.
pub(crate) fn check_weights(w: ArrayView1<f64>, n_samples: usize) -> Result<Vec<f64>, KMeansError> {
    if w.len() != n_samples {
        return Err(KMeansError::WeightLength { got: w.len(), expected: n_samples });
    }
    if let Some((index, &value)) = w.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
        return Err(KMeansError::BadWeight { index, value });
    }
    let total: f64 = w.iter().sum();
    if total == 0.0 {
        return Err(KMeansError::ZeroWeights);
    }
    if !total.is_finite() {
        return Err(KMeansError::WeightOverflow);
    }
    Ok(w.to_vec())
}

/// The power of two by which data with largest magnitude `max_abs` is multiplied so that its
/// squared distances neither overflow nor underflow in `F`; 1 for ordinary data. Multiplying by a
/// power of two is exact, so clustering scaled data gives the same labels as exact arithmetic on
/// the original would.
pub(crate) fn safe_scale<F: Float>(max_abs: f64) -> f64 {
    let limit = F::MAX_EXP / 4;
    if max_abs == 0.0 {
        return 1.0;
    }
    let exp = max_abs.log2().floor() as i32;
    if (-limit..=limit).contains(&exp) {
        return 1.0;
    }
    // Bring the largest value near 1, staying within F's normal range for the scale itself.
    let e = (-exp).clamp(-(F::MAX_EXP - 2), F::MAX_EXP - 2);
    2f64.powi(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn scale_is_one_for_ordinary_data() {
        assert_eq!(safe_scale::<f64>(1e10), 1.0);
        assert_eq!(safe_scale::<f32>(1e5), 1.0);
        assert_eq!(safe_scale::<f64>(0.0), 1.0);
    }

    #[test]
    fn scale_brings_extremes_near_one() {
        for (m, f32_data) in [(1e300, false), (1e-300, false), (1e20, true), (1e-20, true)] {
            let s = if f32_data { safe_scale::<f32>(m) } else { safe_scale::<f64>(m) };
            let scaled = m * s;
            assert!((0.5..2.0).contains(&scaled), "{m} -> {scaled}");
            assert_eq!(s.log2().fract(), 0.0, "power of two");
        }
    }

    #[test]
    fn first_non_finite_is_named() {
        let x = array![[1.0, 2.0], [3.0, f64::NAN]];
        match check_data(x.view()) {
            Err(KMeansError::NonFinite { row: 1, col: 1, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    /// The one-pass check of contiguous data gives the row by row check's answer: the largest
    /// absolute value, or the first non-finite value (in whole chunks and in the rest).
    #[test]
    fn contiguous_and_strided_data_agree() {
        for n in [1usize, 7, 40, 101] {
            let x = ndarray::Array2::from_shape_fn((n, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 6.5);
            let wide = ndarray::Array2::from_shape_fn(
                (n, 6),
                |(i, j)| if j % 2 == 0 { x[[i, j / 2]] } else { 99.0 },
            );
            let strided = wide.slice(ndarray::s![.., ..;2]);
            assert!(strided.as_slice().is_none());
            assert_eq!(check_data(x.view()).unwrap(), check_data(strided).unwrap());
            assert_eq!(check_data(x.view()).unwrap(), 6.5);
            for (row, col, bad) in [(0, 2, f64::INFINITY), (n / 2, 1, f64::NAN), (n - 1, 0, -f64::INFINITY)] {
                let mut y = x.clone();
                y[[row, col]] = bad;
                if row > 0 {
                    y[[row - 1, 2]] = f64::NAN;
                }
                let want = if row > 0 { (row - 1, 2) } else { (row, col) };
                match check_data(y.view()) {
                    Err(KMeansError::NonFinite { row, col, .. }) => assert_eq!((row, col), want, "n={n}"),
                    other => panic!("{other:?}"),
                }
                let y32 = y.mapv(|v| v as f32);
                assert!(matches!(check_data(y32.view()), Err(KMeansError::NonFinite { .. })));
            }
        }
    }
}
