//! Checks on data and weights shared by fitting and predicting, and the choice of an exact
//! power-of-two scale for data whose squared distances would overflow or underflow.

use multiversion::multiversion;
use ndarray::{ArrayView1, ArrayView2};

use crate::error::KMeansError;
use crate::float::Float;
use crate::parallel::par_blocks;

/// Rejects empty data, zero columns and non-finite values (naming the first one, row-major);
/// returns the largest absolute value.
/// In parallel over fixed blocks of rows (a maximum and a conjunction: the same for any thread
/// count).
pub(crate) fn check_data<F: Float>(x: ArrayView2<F>) -> Result<f64, KMeansError> {
    check_shape(x)?;
    let (max_abs, finite) = par_blocks(
        x.nrows(),
        0,
        &mut [] as &mut [u8],
        &|s, e, _| block_max_abs_finite(x.slice(ndarray::s![s..e, ..])),
        &|a: &mut (f64, bool), b| {
            a.0 = a.0.max(b.0);
            a.1 &= b.1;
        },
    );
    if !finite {
        return Err(first_non_finite(x));
    }
    Ok(max_abs)
}

/// [`max_abs_finite`] of a block of rows, whatever its layout.
pub(crate) fn block_max_abs_finite<F: Float>(block: ArrayView2<F>) -> (f64, bool) {
    match block.as_slice() {
        Some(values) => max_abs_finite(values),
        None => block.outer_iter().fold((0.0f64, true), |(m, f), row| {
            let (rm, rf) = row_max_abs_finite(row);
            (m.max(rm), f && rf)
        }),
    }
}

/// Rejects data without rows or without columns.
pub(crate) fn check_shape<F: Float>(x: ArrayView2<F>) -> Result<(), KMeansError> {
    if x.nrows() == 0 {
        return Err(KMeansError::EmptyData);
    }
    if x.ncols() == 0 {
        return Err(KMeansError::NoFeatures);
    }
    Ok(())
}

/// The error naming the first non-finite value of `x` (row-major), which has one.
pub(crate) fn first_non_finite<F: Float>(x: ArrayView2<F>) -> KMeansError {
    for (row, r) in x.outer_iter().enumerate() {
        if let Some(col) = r.iter().position(|v| !v.is_finite()) {
            return KMeansError::NonFinite { row, col, value: r[col].to_f64() };
        }
    }
    unreachable!("first_non_finite called on finite data")
}

/// [`max_abs_finite`] of one row, whatever its layout.
pub(crate) fn row_max_abs_finite<F: Float>(row: ArrayView1<F>) -> (f64, bool) {
    match row.as_slice() {
        Some(values) => max_abs_finite(values),
        None => max_abs_finite(&row.to_vec()),
    }
}

/// Lanes of [`max_abs_finite`]: four 512-bit registers of `f64`, two of `f32` (independent
/// chains, so the additions and comparisons overlap).
const SCAN_LANES: usize = 32;

/// The largest absolute value among `values` (0 when empty) and whether all of them are finite,
/// in one vectorised pass: a NaN never wins a comparison, and `v × 0` is NaN exactly for a NaN or
/// an infinity, so a lane's running sum of `v × 0` stays 0 while the values are finite.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
pub(crate) fn max_abs_finite<F: Float>(values: &[F]) -> (f64, bool) {
    let mut max = [F::ZERO; SCAN_LANES];
    let mut probe = [F::ZERO; SCAN_LANES];
    let chunks = values.chunks_exact(SCAN_LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for l in 0..SCAN_LANES {
            let a = c[l].abs();
            if a > max[l] {
                max[l] = a;
            }
            probe[l] += c[l] * F::ZERO;
        }
    }
    for (l, &v) in rest.iter().enumerate() {
        let a = v.abs();
        if a > max[l] {
            max[l] = a;
        }
        probe[l] += v * F::ZERO;
    }
    let finite = probe.iter().all(|&p| p == F::ZERO);
    let max = max.iter().fold(0.0f64, |m, &v| m.max(v.to_f64()));
    (max, finite)
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
    fn scan_finds_the_largest_magnitude_and_any_non_finite_value() {
        for len in [0usize, 1, 7, 8, 9, 17, 64, 100] {
            let values: Vec<f64> = (0..len).map(|i| (i as f64 - 40.0) * 1.5).collect();
            let expected = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert_eq!(max_abs_finite(&values), (expected, true), "{len}");
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                for at in 0..len {
                    let mut v = values.clone();
                    v[at] = bad;
                    assert!(!max_abs_finite(&v).1, "{len} {at} {bad}");
                }
            }
            let v32: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            assert_eq!(max_abs_finite(&v32), (expected, true), "{len}");
        }
    }

    #[test]
    fn check_data_reads_any_layout() {
        let x = array![[1.0, -7.0, 2.0], [3.0, 4.0, -0.5]];
        assert_eq!(check_data(x.view()).unwrap(), 7.0);
        assert_eq!(check_data(x.t()).unwrap(), 7.0);
        let mut y = x.clone();
        y[[1, 2]] = f64::INFINITY;
        match check_data(y.t()) {
            Err(KMeansError::NonFinite { row: 2, col: 1, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check_data(ndarray::Array2::<f64>::zeros((0, 2)).view()),
            Err(KMeansError::EmptyData)
        ));
        assert!(matches!(
            check_data(ndarray::Array2::<f64>::zeros((2, 0)).view()),
            Err(KMeansError::NoFeatures)
        ));
    }

    #[test]
    fn first_non_finite_is_named() {
        let x = array![[1.0, 2.0], [3.0, f64::NAN]];
        match check_data(x.view()) {
            Err(KMeansError::NonFinite { row: 1, col: 1, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

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
