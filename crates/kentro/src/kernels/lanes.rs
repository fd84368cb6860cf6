//! Dot products of a few rows with [`CAND_LANES`] vectors at once, the vectors held
//! feature-major (`lanes[f][l]` is feature `f` of vector `l`), so that one feature of all the
//! vectors is one SIMD register: each feature of a row is broadcast and multiplied into it.
//!
//! AVX2-era instructions (AVX + FMA, 256-bit) serve every x86-64 CPU that has them, AVX-512
//! ones included.
//!
//! [`column_products`] turns the layout around for float16 rows held feature-major in blocks
//! of [`COL_ROWS`]: one 512-bit register holds one feature of sixteen rows, and each feature of
//! a vector is broadcast into it (AVX-512 only; elsewhere portable code).
//!
//! These products only *screen* (callers bound their rounding error and measure anything close
//! directly), so the explicit AVX-512 / AVX2 code and the portable code may round differently
//! without changing any result. The SIMD code sums features in two interleaved halves (even and
//! odd), which doubles the independent accumulators; the portable code in one.

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

/// Whether [`column_products`] runs in AVX-512 instructions on this CPU.
pub(crate) fn avx512_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Rows per vector of [`column_products`]: one 512-bit register of float32.
pub(crate) const COL_ROWS: usize = 16;

/// `x_r · c_l` for the [`COL_ROWS`] float16 rows of `block` (encodings as [`f16_bits`] makes
/// them, feature-major: feature `f` of row `r` is `block[f * COL_ROWS + r]`) and the first `t`
/// (at most [`CAND_LANES`]) vectors of `lanes` (`lanes[f][l]`: feature `f` of vector `l`);
/// later lanes are zero. Each feature of a vector
/// is broadcast and multiplied into the sixteen rows at once (AVX-512, else portable code that
/// may round in another order).
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn column_products(
    block: &[u16],
    lanes: &[[f32; CAND_LANES]],
    t: usize,
) -> [[f32; COL_ROWS]; CAND_LANES] {
    assert!(block.len() == lanes.len() * COL_ROWS && t <= CAND_LANES, "a whole block, at most 8 vectors");
    #[cfg(target_arch = "x86_64")]
    if avx512_available() {
        // SAFETY: the CPU has AVX-512F (checked above); the lengths were checked above.
        return unsafe {
            match t {
                0 => [[0.0; COL_ROWS]; CAND_LANES],
                1 => x86::columns::<1>(block, lanes),
                2 => x86::columns::<2>(block, lanes),
                3 => x86::columns::<3>(block, lanes),
                4 => x86::columns::<4>(block, lanes),
                5 => x86::columns::<5>(block, lanes),
                6 => x86::columns::<6>(block, lanes),
                7 => x86::columns::<7>(block, lanes),
                _ => x86::columns::<8>(block, lanes),
            }
        };
    }
    columns_portable(block, lanes, t)
}

/// [`column_products`] in plain Rust: one sum per row and vector, feature by feature.
fn columns_portable(block: &[u16], lanes: &[[f32; CAND_LANES]], t: usize) -> [[f32; COL_ROWS]; CAND_LANES] {
    let mut acc = [[0.0f32; COL_ROWS]; CAND_LANES];
    for (x, c) in block.chunks_exact(COL_ROWS).zip(lanes) {
        for (acc, &c) in acc.iter_mut().zip(c).take(t) {
            for (a, &x) in acc.iter_mut().zip(x) {
                *a = f16_value(x).mul_add(c, *a);
            }
        }
    }
    acc
}

/// The float16 encoding of `v` (|v| < 65520), truncated toward zero: within 2⁻¹⁰ |v| + 2⁻²⁴
/// of `v` (subnormal float16 values included, below 2⁻²⁴ it is zero).
pub(crate) fn f16_bits(v: f32) -> u16 {
    let bits = v.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32 - 127;
    let mant = bits & 0x7f_ffff;
    if exp >= -14 {
        debug_assert!(exp <= 15, "{v} is too large for float16");
        sign | (((exp + 15) as u16) << 10) | (mant >> 13) as u16
    } else if exp >= -24 {
        // Subnormal: m × 2⁻²⁴ with m = 1.mant × 2^(exp + 24), truncated.
        sign | ((mant | 0x80_0000) >> (-1 - exp)) as u16
    } else {
        sign
    }
}

/// The value of a float16 encoding without infinities or NaNs (as [`f16_bits`] makes), exactly.
pub(crate) fn f16_value(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let mant = (h & 0x3ff) as f32;
    if exp == 0 { sign * mant * 2f32.powi(-24) } else { sign * (1024.0 + mant) * 2f32.powi(exp - 25) }
}

/// `out[i] = f16_value(bits[i])`, in F16C instructions where the CPU has them (the same values:
/// the widening is exact either way).
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn widen_f16(bits: &[u16], out: &mut [f32]) {
    assert_eq!(bits.len(), out.len(), "one value out per value in");
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("f16c") {
        // SAFETY: the CPU has AVX and F16C (checked above); the lengths are equal.
        unsafe { x86::widen_f16c(bits, out) };
        return;
    }
    for (o, &h) in out.iter_mut().zip(bits) {
        *o = f16_value(h);
    }
}

/// `out[i] = f16_bits(values[i])`, in F16C instructions where the CPU has them (the same bits:
/// truncation either way). Every value must be below 65520 in magnitude.
#[allow(unsafe_code)]
pub(crate) fn narrow_f16(values: &[f32], out: &mut [u16]) {
    assert_eq!(values.len(), out.len(), "one value out per value in");
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("f16c") {
        // SAFETY: the CPU has AVX and F16C (checked above); the lengths are equal.
        unsafe { x86::narrow_f16c(values, out) };
        return;
    }
    for (o, &v) in out.iter_mut().zip(values) {
        *o = f16_bits(v);
    }
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
        // Every 64 bytes, then the last byte (a plain loop: an iterator chain costs a test of
        // its state per line).
        let mut offset = 0;
        while offset < bytes {
            // SAFETY: `p + offset` lies inside `values`; a prefetch only hints and never faults
            // (SSE, which every x86-64 CPU has).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(offset)) };
            offset += 64;
        }
        if bytes > 0 {
            // SAFETY: as above, for the last byte.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(bytes - 1)) };
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

    /// How far ahead [`columns`] asks for its values: 8 KiB, at least one block.
    const PREFETCH_VALUES: usize = 4096;

    /// [`super::column_products`] for `T` vectors: even and odd features in separate
    /// accumulators (twice the independent chains).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) fn columns<const T: usize>(
        block: &[u16],
        lanes: &[[f32; CAND_LANES]],
    ) -> [[f32; super::COL_ROWS]; CAND_LANES] {
        let d = lanes.len();
        let x = |f: usize| {
            // SAFETY: block holds d × 16 values (checked by the caller) and f < d.
            unsafe { _mm512_cvtph_ps(_mm256_loadu_si256(block.as_ptr().add(f * super::COL_ROWS).cast())) }
        };
        let (mut even, mut odd) = ([_mm512_setzero_ps(); T], [_mm512_setzero_ps(); T]);
        // The blocks are read in order: ask for the values this far ahead now.
        let ahead = block.len().max(PREFETCH_VALUES);
        for f in (0..d - d % 2).step_by(2) {
            // Two features of a block are one cache line.
            _mm_prefetch::<_MM_HINT_T0>(block.as_ptr().wrapping_add(ahead + f * super::COL_ROWS).cast());
            let (x0, x1) = (x(f), x(f + 1));
            for c in 0..T {
                even[c] = _mm512_fmadd_ps(x0, _mm512_set1_ps(lanes[f][c]), even[c]);
                odd[c] = _mm512_fmadd_ps(x1, _mm512_set1_ps(lanes[f + 1][c]), odd[c]);
            }
        }
        if d % 2 == 1 {
            let x0 = x(d - 1);
            for c in 0..T {
                even[c] = _mm512_fmadd_ps(x0, _mm512_set1_ps(lanes[d - 1][c]), even[c]);
            }
        }
        let mut out = [[0.0f32; super::COL_ROWS]; CAND_LANES];
        for c in 0..T {
            // SAFETY: each output row holds 16 values.
            unsafe { _mm512_storeu_ps(out[c].as_mut_ptr(), _mm512_add_ps(even[c], odd[c])) };
        }
        out
    }

    /// [`super::widen_f16`]: eight values per instruction, the rest one by one.
    #[target_feature(enable = "avx,f16c")]
    #[inline]
    pub(super) fn widen_f16c(bits: &[u16], out: &mut [f32]) {
        let full = bits.len() - bits.len() % 8;
        for i in (0..full).step_by(8) {
            // SAFETY: i + 8 <= full <= both lengths.
            unsafe {
                let h = _mm_loadu_si128(bits.as_ptr().add(i).cast());
                _mm256_storeu_ps(out.as_mut_ptr().add(i), _mm256_cvtph_ps(h));
            }
        }
        for i in full..bits.len() {
            out[i] = super::f16_value(bits[i]);
        }
    }

    /// [`super::narrow_f16`]: eight values per instruction (rounded toward zero), the rest one
    /// by one.
    #[target_feature(enable = "avx,f16c")]
    #[inline]
    pub(super) fn narrow_f16c(values: &[f32], out: &mut [u16]) {
        let full = values.len() - values.len() % 8;
        for i in (0..full).step_by(8) {
            // SAFETY: i + 8 <= full <= both lengths.
            unsafe {
                let v = _mm256_loadu_ps(values.as_ptr().add(i));
                let h = _mm256_cvtps_ph::<_MM_FROUND_TO_ZERO>(v);
                _mm_storeu_si128(out.as_mut_ptr().add(i).cast(), h);
            }
        }
        for i in full..values.len() {
            out[i] = super::f16_bits(values[i]);
        }
    }

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
    fn float16_column_products_equal_the_sums() {
        let mut s = 9u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 24) as f32 * 8.0 - 4.0
        };
        for d in [1, 2, 15, 16, 17, 64, 128, 131] {
            for t in 0..=CAND_LANES {
                let block: Vec<u16> = (0..d * COL_ROWS).map(|_| f16_bits(next())).collect();
                let lanes: Vec<[f32; CAND_LANES]> =
                    (0..d).map(|_| std::array::from_fn(|l| if l < t { next() } else { 0.0 })).collect();
                let got = column_products(&block, &lanes, t);
                let portable = columns_portable(&block, &lanes, t);
                for r in 0..COL_ROWS {
                    for j in 0..CAND_LANES {
                        let x = |f: usize| f16_value(block[f * COL_ROWS + r]) as f64;
                        let want: f64 = (0..d).map(|f| x(f) * lanes[f][j] as f64).sum();
                        let scale: f64 = (0..d).map(|f| (x(f) * lanes[f][j] as f64).abs()).sum();
                        if j >= t {
                            assert_eq!(got[j][r], 0.0, "d {d} t {t} lane {j} past the last vector");
                            assert_eq!(portable[j][r], 0.0, "portable: d {d} t {t} lane {j}");
                        }
                        for (got, path) in [(got[j][r], "SIMD"), (portable[j][r], "portable")] {
                            let err = (got as f64 - want).abs();
                            assert!(
                                err <= scale * (d + 2) as f64 * f32::EPSILON as f64,
                                "{path}: d {d} t {t} row {r} vector {j}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn float16_truncates_and_widens_exactly() {
        let mut s = 5u64;
        let mut values: Vec<f32> = (0..1000)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let m = (s >> 40) as f32 / (1u64 << 24) as f32; // [0, 1)
                let e = ((s >> 20) % 44) as i32 - 28; // 2^-28 .. 2^15
                let sign = if s & 1 == 1 { -1.0 } else { 1.0 };
                sign * (1.0 + m) * 2f32.powi(e)
            })
            .collect();
        values.extend([0.0, -0.0, 65504.0, 65519.0, 6.0e-8, 5.96e-8, 1.0e-9, 6.1e-5, 1.0, -3.0]);
        let mut fast = vec![0u16; values.len()];
        narrow_f16(&values, &mut fast);
        let mut wide = vec![0.0f32; values.len()];
        widen_f16(&fast, &mut wide);
        for ((&v, &h), &w) in values.iter().zip(&fast).zip(&wide) {
            assert_eq!(h, f16_bits(v), "{v}: the instruction and the reference agree");
            assert_eq!(w, f16_value(h), "{v}: widening is exact either way");
            // Truncation toward zero, within 2⁻¹⁰ |v| + 2⁻²⁴.
            assert!(w.abs() <= v.abs() && (w == 0.0 || w.signum() == v.signum()), "{v} → {w}");
            assert!((v - w).abs() as f64 <= v.abs() as f64 * 2f64.powi(-10) + 2f64.powi(-24), "{v} → {w}");
        }
    }

    #[test]
    fn products_equal_the_sums_for_every_width() {
        for d in [1, 2, 3, 8, 16, 17, 64, 129] {
            check::<f64>(d);
            check::<f32>(d);
        }
    }
}
