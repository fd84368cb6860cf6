//! Dot products of a few rows with [`CAND_LANES`] vectors at once, the vectors held
//! feature-major (`lanes[f][l]` is feature `f` of vector `l`), so that one feature of all the
//! vectors is one SIMD register: each feature of a row is broadcast and multiplied into it.
//!
//! AVX2-era instructions (AVX + FMA, 256-bit) serve every x86-64 CPU that has them, AVX-512
//! ones included.
//!
//! These products only *screen* (callers bound their rounding error and measure anything close
//! directly), so the explicit AVX-512 / AVX2 code and the portable code may round differently
//! without changing any result. Features are summed in two interleaved halves (even and odd),
//! which doubles the independent accumulators.

use std::any::TypeId;

use crate::float::Float;

/// Vectors per product call: one 256-bit register of `f32`, two of `f64`.
pub(crate) const CAND_LANES: usize = 8;

/// `x_r · v_l` for every row `x_r` of `xs` (all of length `lanes.len()`) and vector `l`.
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn products<F: Float, const R: usize>(
    xs: [&[F]; R],
    lanes: &[[F; CAND_LANES]],
) -> [[F; CAND_LANES]; R] {
    for x in &xs {
        assert_eq!(x.len(), lanes.len(), "a row as long as the vectors");
    }
    #[cfg(target_arch = "x86_64")]
    {
        let fma = std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("fma");
        let is = |t: TypeId| TypeId::of::<F>() == t;
        if is(TypeId::of::<f64>()) && fma {
            // SAFETY: `F` is f64 (its type id says so), so the casts reinterpret a type as itself; the CPU has AVX and FMA (checked above); the
            // lengths were checked above.
            unsafe {
                let xs: [&[f64]; R] =
                    std::array::from_fn(|r| std::slice::from_raw_parts(xs[r].as_ptr().cast(), xs[r].len()));
                let lanes =
                    std::slice::from_raw_parts(lanes.as_ptr().cast::<[f64; CAND_LANES]>(), lanes.len());
                let out = x86::products_f64_fma(xs, lanes);
                return std::mem::transmute_copy(&out);
            }
        }
        if is(TypeId::of::<f32>()) && fma {
            // SAFETY: as above, for f32 with AVX and FMA.
            unsafe {
                let xs: [&[f32]; R] =
                    std::array::from_fn(|r| std::slice::from_raw_parts(xs[r].as_ptr().cast(), xs[r].len()));
                let lanes =
                    std::slice::from_raw_parts(lanes.as_ptr().cast::<[f32; CAND_LANES]>(), lanes.len());
                let out = x86::products_f32_fma(xs, lanes);
                return std::mem::transmute_copy(&out);
            }
        }
    }
    portable(xs, lanes)
}

/// Asks the CPU to start loading the cache lines of `values` (a hint: it changes no result), so
/// that rows read sparsely a little later do not each wait for memory in turn.
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn prefetch<T>(values: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let bytes = std::mem::size_of_val(values);
        let p = values.as_ptr().cast::<i8>();
        for offset in (0..bytes).step_by(64).chain(bytes.checked_sub(1)) {
            // SAFETY: `p + offset` lies inside `values`; a prefetch only hints and never faults
            // (SSE, which every x86-64 CPU has).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}

/// The reference: the same sums in plain Rust.
fn portable<F: Float, const R: usize>(xs: [&[F]; R], lanes: &[[F; CAND_LANES]]) -> [[F; CAND_LANES]; R] {
    let mut even = [[F::ZERO; CAND_LANES]; R];
    let mut odd = [[F::ZERO; CAND_LANES]; R];
    for (f, v) in lanes.iter().enumerate() {
        let acc = if f % 2 == 0 { &mut even } else { &mut odd };
        for r in 0..R {
            for l in 0..CAND_LANES {
                acc[r][l] = xs[r][f].mul_add(v[l], acc[r][l]);
            }
        }
    }
    for r in 0..R {
        for l in 0..CAND_LANES {
            even[r][l] += odd[r][l];
        }
    }
    even
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::x86_64::*;

    use super::CAND_LANES;

    /// [`super::portable`] for f64 in pairs of 256-bit registers.
    #[target_feature(enable = "avx,fma")]
    #[inline]
    pub(super) fn products_f64_fma<const R: usize>(
        xs: [&[f64]; R],
        lanes: &[[f64; CAND_LANES]],
    ) -> [[f64; CAND_LANES]; R] {
        // [row][half]: lanes 0..4 and 4..8.
        let mut even = [[_mm256_setzero_pd(); 2]; R];
        let mut odd = [[_mm256_setzero_pd(); 2]; R];
        let pairs = lanes.len() / 2;
        for p in 0..pairs {
            // SAFETY: 2p + 1 < lanes.len(), each holds 8 f64, and every row is as long as
            // `lanes`.
            unsafe {
                let v0 = lanes.get_unchecked(2 * p).as_ptr();
                let v1 = lanes.get_unchecked(2 * p + 1).as_ptr();
                let (a0, a1) = (_mm256_loadu_pd(v0), _mm256_loadu_pd(v0.add(4)));
                let (b0, b1) = (_mm256_loadu_pd(v1), _mm256_loadu_pd(v1.add(4)));
                for r in 0..R {
                    let x = xs[r];
                    let xe = _mm256_set1_pd(*x.get_unchecked(2 * p));
                    let xo = _mm256_set1_pd(*x.get_unchecked(2 * p + 1));
                    even[r][0] = _mm256_fmadd_pd(xe, a0, even[r][0]);
                    even[r][1] = _mm256_fmadd_pd(xe, a1, even[r][1]);
                    odd[r][0] = _mm256_fmadd_pd(xo, b0, odd[r][0]);
                    odd[r][1] = _mm256_fmadd_pd(xo, b1, odd[r][1]);
                }
            }
        }
        if lanes.len() % 2 == 1 {
            let f = lanes.len() - 1;
            // SAFETY: `lanes[f]` holds 8 f64.
            let (a0, a1) =
                unsafe { (_mm256_loadu_pd(lanes[f].as_ptr()), _mm256_loadu_pd(lanes[f].as_ptr().add(4))) };
            for r in 0..R {
                let x = _mm256_set1_pd(xs[r][f]);
                even[r][0] = _mm256_fmadd_pd(x, a0, even[r][0]);
                even[r][1] = _mm256_fmadd_pd(x, a1, even[r][1]);
            }
        }
        let mut out = [[0.0; CAND_LANES]; R];
        for r in 0..R {
            // SAFETY: `out[r]` holds 8 f64.
            unsafe {
                _mm256_storeu_pd(out[r].as_mut_ptr(), _mm256_add_pd(even[r][0], odd[r][0]));
                _mm256_storeu_pd(out[r].as_mut_ptr().add(4), _mm256_add_pd(even[r][1], odd[r][1]));
            }
        }
        out
    }

    /// [`super::portable`] for f32 in 256-bit registers.
    #[target_feature(enable = "avx,fma")]
    #[inline]
    pub(super) fn products_f32_fma<const R: usize>(
        xs: [&[f32]; R],
        lanes: &[[f32; CAND_LANES]],
    ) -> [[f32; CAND_LANES]; R] {
        let mut even = [_mm256_setzero_ps(); R];
        let mut odd = [_mm256_setzero_ps(); R];
        let pairs = lanes.len() / 2;
        for p in 0..pairs {
            // SAFETY: 2p + 1 < lanes.len(), and every row is as long as `lanes`.
            unsafe {
                let v0 = _mm256_loadu_ps(lanes.get_unchecked(2 * p).as_ptr());
                let v1 = _mm256_loadu_ps(lanes.get_unchecked(2 * p + 1).as_ptr());
                for r in 0..R {
                    let x = xs[r];
                    even[r] = _mm256_fmadd_ps(_mm256_set1_ps(*x.get_unchecked(2 * p)), v0, even[r]);
                    odd[r] = _mm256_fmadd_ps(_mm256_set1_ps(*x.get_unchecked(2 * p + 1)), v1, odd[r]);
                }
            }
        }
        if lanes.len() % 2 == 1 {
            let f = lanes.len() - 1;
            // SAFETY: `lanes[f]` holds 8 f32.
            let v = unsafe { _mm256_loadu_ps(lanes[f].as_ptr()) };
            for r in 0..R {
                even[r] = _mm256_fmadd_ps(_mm256_set1_ps(xs[r][f]), v, even[r]);
            }
        }
        let mut out = [[0.0; CAND_LANES]; R];
        for r in 0..R {
            // SAFETY: `out[r]` holds 8 f32.
            unsafe { _mm256_storeu_ps(out[r].as_mut_ptr(), _mm256_add_ps(even[r], odd[r])) };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<F: Float>(d: usize) {
        let lanes: Vec<[F; CAND_LANES]> = (0..d)
            .map(|f| std::array::from_fn(|l| F::from_f64(((f * 7 + l * 3) % 11) as f64 - 5.0)))
            .collect();
        let rows: Vec<Vec<F>> =
            (0..3).map(|r| (0..d).map(|f| F::from_f64(((r + f * 5) % 9) as f64 * 0.5)).collect()).collect();
        let got = products::<F, 3>([&rows[0], &rows[1], &rows[2]], &lanes);
        for r in 0..3 {
            for l in 0..CAND_LANES {
                // Small integers and halves: every sum is exact, whatever the order.
                let want: f64 = (0..d).map(|f| rows[r][f].to_f64() * lanes[f][l].to_f64()).sum();
                assert_eq!(got[r][l].to_f64(), want, "d = {d}, row {r}, lane {l}");
            }
        }
        assert_eq!(portable::<F, 3>([&rows[0], &rows[1], &rows[2]], &lanes), got);
    }

    #[test]
    fn products_equal_the_sums_for_every_width() {
        for d in [1, 2, 3, 8, 16, 17, 64, 129] {
            check::<f64>(d);
            check::<f32>(d);
        }
    }
}
