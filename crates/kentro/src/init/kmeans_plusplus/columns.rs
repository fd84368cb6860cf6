//! Screening wide rows from a feature-major float16 copy ([`HalfCopy`] with `columns`),
//! [`COL_ROWS`] rows per vector.
//!
//! The row-major screen ([`super::wide_leaf`]) holds the candidates in the lanes of a vector,
//! so every row ends in a few horizontal steps and a per-row test in float64. Here one vector
//! holds one feature of sixteen rows: each feature of a candidate is broadcast and multiplied
//! into it, so a row costs `d` multiply-adds per candidate and nothing else, and the tests that
//! follow run eight rows per register.

use multiversion::multiversion;

use super::{Found, HalfCopy, Input, OpenRows, State, WideStep, reach};
use crate::float::Float;
use crate::kernels::lanes::{CAND_LANES, COL_ROWS, column_products};

/// Screens the rows `s..e` (`s` a multiple of [`COL_ROWS`]) from `half`, as
/// [`super::wide_leaf`] does from a row-major copy: the same tests and bounds (estimates
/// rounded in another order, so a row at the very margin may be left open by one and not the
/// other), the gains summed in another order. Every row is tested against the triangle
/// inequality per candidate; `skip_rows` does not apply.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
pub(super) fn column_leaf<F: Float, S: Float>(
    step: &WideStep<F, S>,
    input: &Input<F>,
    half: &HalfCopy,
    state: &State<F>,
    s: usize,
    e: usize,
    found: &mut Found,
) {
    debug_assert!(s.is_multiple_of(COL_ROWS) && !step.brute, "whole blocks; brute force reads the data");
    let d = input.d;
    let groups = step.cand_norms.len();
    let t = found.gains.len();
    // The candidates in float32 (exactly: `S` is float32 with a float16 copy).
    let lanes32: Vec<[f32; CAND_LANES]> = step.lanes.iter().map(|l| l.map(|v| v.to_f64() as f32)).collect();
    // Per candidate, the leaf's sums in one lane per row position (added up at the end).
    let mut gain_lanes = vec![[0.0f64; COL_ROWS]; groups * CAND_LANES];
    let mut error_lanes = vec![[0.0f64; COL_ROWS]; groups * CAND_LANES];
    let simd = post_simd_available();
    let mut open_rows = OpenRows::new(s, t);
    for first in (s..e).step_by(COL_ROWS) {
        let rows = COL_ROWS.min(e - first);
        let mut rs = RowState {
            current: [0.0; COL_ROWS],
            x2: [0.0; COL_ROWS],
            w: [0.0; COL_ROWS],
            own: [0.0; COL_ROWS],
        };
        let mut reaches = [0.0f64; COL_ROWS];
        for r in 0..rows {
            let i = first + r;
            rs.current[r] = state.closest[i].to_f64();
            reaches[r] = reach(state.closest[i]);
            rs.x2[r] = step.sq_norms[i];
            rs.w[r] = input.weight(i);
            // The exact gain's own rounding in `F` (`current − dist`, at most `current`).
            rs.own[r] = 2.0 * F::UNIT_ROUNDOFF * rs.current[r];
        }
        // The block's rows count as screened once, whichever groups reached them.
        let mut screened = 0;
        for g in 0..groups {
            let count = CAND_LANES.min(t - g * CAND_LANES);
            // The triangle inequality: the candidates that may improve each row at all (gaps
            // past the last candidate are infinite: never within reach).
            let mut reachable = [0u8; COL_ROWS];
            for r in 0..rows {
                let gaps = &step.gaps[state.nearest[first + r] as usize * groups + g];
                reachable[r] = lanes_below(gaps, reaches[r], simd);
            }
            if reachable.iter().all(|&m| m == 0) {
                continue;
            }
            screened = rows;
            let block = &half.bits[first * d..(first + COL_ROWS) * d];
            let raw = column_products(block, &lanes32[g * d..(g + 1) * d], count);
            // Back to the data's units (exactly: a power of two).
            let mut dots = [[0.0f64; COL_ROWS]; CAND_LANES];
            for (out, raw) in dots.iter_mut().zip(&raw).take(count) {
                for (o, &v) in out.iter_mut().zip(raw) {
                    *o = f64::from(v) * half.inv_scale;
                }
            }
            for (l, dots) in dots.iter().enumerate().take(count) {
                let c = CandState { c2: step.cand_norms[g][l], err2: step.err * 2.0, tiny: step.tiny };
                let lanes = (&mut gain_lanes[g * CAND_LANES + l], &mut error_lanes[g * CAND_LANES + l]);
                let open = screen_column(&rs, &c, dots, &reachable, l, lanes, simd);
                open_rows.open_block(g * CAND_LANES + l, first, open);
            }
        }
        found.screened += screened;
    }
    if !open_rows.is_empty() {
        found.open.push(open_rows);
    }
    for c in 0..t {
        found.gains[c] += gain_lanes[c].iter().sum::<f64>();
        found.errors[c] += error_lanes[c].iter().sum::<f64>();
    }
}

/// What the screen of a block knows of its rows (zero past the last row).
struct RowState {
    current: [f64; COL_ROWS],
    x2: [f64; COL_ROWS],
    w: [f64; COL_ROWS],
    /// The rounding of the exact gain in `F` (`2u × current`).
    own: [f64; COL_ROWS],
}

/// What the screen of a block knows of one candidate.
struct CandState {
    c2: f64,
    /// The expansion's error bound as [`WideStep`] gives it: `slack = err2 (‖x‖² + ‖c‖²) +
    /// tiny`.
    err2: f64,
    tiny: f64,
}

/// Whether this CPU screens from a feature-major float16 copy fast: the products
/// ([`column_products`]) and the tests ([`screen_column`], [`lanes_below`]) in AVX-512 (F, BW,
/// VL) instructions. Elsewhere rows are screened row-major (from a float16 copy of big data,
/// else a float32 copy or the data: see `Screening::Auto`).
pub(super) fn column_screen_available() -> bool {
    post_simd_available() && crate::kernels::lanes::avx512_available()
}

/// Whether [`screen_column`] and [`lanes_below`] run in AVX-512 (F, BW, VL) instructions.
fn post_simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vl");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The lanes of `gaps` below `limit`, one bit per lane.
#[inline(always)]
#[allow(unsafe_code)]
fn lanes_below(gaps: &[f64; CAND_LANES], limit: f64, simd: bool) -> u8 {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: `simd` says the CPU has AVX-512F.
        return unsafe { x86::lanes_below(gaps, limit) };
    }
    let _ = simd;
    gaps.iter().enumerate().fold(0, |m, (l, &g)| m | (u8::from(g < limit) << l))
}

/// Screens the block's rows against candidate `l` from its products `dots` (in the data's
/// units): adds each open row's weighted estimated gain and error bound to its lane of
/// `lanes` (gains, errors), and returns the open rows, one bit per row. A row is open where
/// the candidate is within reach (`reachable`, bit `l`) and its estimate `v = ‖x‖² + ‖c‖² −
/// 2 x·c` may beat `current` within the slack.
#[inline(always)]
#[allow(unsafe_code)]
fn screen_column(
    rs: &RowState,
    c: &CandState,
    dots: &[f64; COL_ROWS],
    reachable: &[u8; COL_ROWS],
    l: usize,
    lanes: (&mut [f64; COL_ROWS], &mut [f64; COL_ROWS]),
    simd: bool,
) -> u16 {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: `simd` says the CPU has AVX-512F, BW and VL.
        return unsafe { x86::screen_column(rs, c, dots, reachable, l, lanes) };
    }
    let _ = simd;
    let (gains, errors) = lanes;
    let mut open = 0u16;
    for r in 0..COL_ROWS {
        let v = rs.x2[r] + c.c2 - 2.0 * dots[r];
        let slack = c.err2 * (rs.x2[r] + c.c2) + c.tiny;
        let is_open = (reachable[r] >> l) & 1 == 1 && v - slack < rs.current[r];
        if is_open {
            gains[r] += rs.w[r] * (rs.current[r] - v).max(0.0);
            errors[r] += rs.w[r] * (slack + rs.own[r]);
            open |= 1 << r;
        }
    }
    open
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::x86_64::*;

    use super::{CAND_LANES, COL_ROWS, CandState, RowState};

    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) fn lanes_below(gaps: &[f64; CAND_LANES], limit: f64) -> u8 {
        // SAFETY: `gaps` holds 8 values.
        let g = unsafe { _mm512_loadu_pd(gaps.as_ptr()) };
        _mm512_cmp_pd_mask::<_CMP_LT_OQ>(g, _mm512_set1_pd(limit))
    }

    /// [`super::screen_column`], eight rows per register.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    pub(super) fn screen_column(
        rs: &RowState,
        c: &CandState,
        dots: &[f64; COL_ROWS],
        reachable: &[u8; COL_ROWS],
        l: usize,
        lanes: (&mut [f64; COL_ROWS], &mut [f64; COL_ROWS]),
    ) -> u16 {
        let (gains, errors) = lanes;
        // SAFETY: `reachable` holds 16 bytes.
        let reach = unsafe { _mm_loadu_si128(reachable.as_ptr().cast()) };
        let within: u16 = _mm_test_epi8_mask(reach, _mm_set1_epi8((1u8 << l) as i8));
        let load = |a: &[f64; COL_ROWS], h: usize| {
            // SAFETY: 8 × h + 8 ≤ 16.
            unsafe { _mm512_loadu_pd(a.as_ptr().add(8 * h)) }
        };
        let c2 = _mm512_set1_pd(c.c2);
        let mut open = 0u16;
        for h in 0..2 {
            let x2 = load(&rs.x2, h);
            let current = load(&rs.current, h);
            let sum = _mm512_add_pd(x2, c2);
            let v = _mm512_fnmadd_pd(_mm512_set1_pd(2.0), load(dots, h), sum);
            let slack = _mm512_fmadd_pd(_mm512_set1_pd(c.err2), sum, _mm512_set1_pd(c.tiny));
            let below = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(_mm512_sub_pd(v, slack), current);
            let m = below & (within >> (8 * h)) as u8;
            let w = load(&rs.w, h);
            let gain = _mm512_max_pd(_mm512_sub_pd(current, v), _mm512_setzero_pd());
            let g = load(gains, h);
            let e = load(errors, h);
            // Where `m`: w × gain + g (else g).
            let g = _mm512_mask3_fmadd_pd(w, gain, g, m);
            let e = _mm512_mask3_fmadd_pd(w, _mm512_add_pd(slack, load(&rs.own, h)), e, m);
            // SAFETY: as the loads.
            unsafe {
                _mm512_storeu_pd(gains.as_mut_ptr().add(8 * h), g);
                _mm512_storeu_pd(errors.as_mut_ptr().add(8 * h), e);
            }
            open |= u16::from(m) << (8 * h);
        }
        open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX-512 tests of a block give the portable code's open rows, gains and errors.
    #[test]
    fn the_vector_screen_equals_the_portable_one() {
        if !post_simd_available() {
            return;
        }
        let mut s = 11u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        for round in 0..200 {
            let rs = RowState {
                current: std::array::from_fn(|_| next() * 10.0),
                x2: std::array::from_fn(|_| next() * 20.0),
                w: std::array::from_fn(|_| 0.5 + next()),
                own: std::array::from_fn(|_| next() * 1e-15),
            };
            let c = CandState { c2: next() * 20.0, err2: next() * 1e-3, tiny: next() * 1e-6 };
            // Products near where the estimate crosses the current distance.
            let dots: [f64; COL_ROWS] =
                std::array::from_fn(|r| (rs.x2[r] + c.c2 - rs.current[r]) / 2.0 + (next() - 0.5) * 0.02);
            let reachable: [u8; COL_ROWS] = std::array::from_fn(|_| (next() * 256.0) as u8);
            let gaps: [f64; CAND_LANES] = std::array::from_fn(|_| next());
            let limit = next();
            assert_eq!(lanes_below(&gaps, limit, true), lanes_below(&gaps, limit, false), "round {round}");
            for l in 0..CAND_LANES {
                let (mut g1, mut e1) = ([1.0; COL_ROWS], [2.0; COL_ROWS]);
                let (mut g2, mut e2) = (g1, e1);
                let fast = screen_column(&rs, &c, &dots, &reachable, l, (&mut g1, &mut e1), true);
                let slow = screen_column(&rs, &c, &dots, &reachable, l, (&mut g2, &mut e2), false);
                assert_eq!(fast, slow, "round {round}, lane {l}");
                for r in 0..COL_ROWS {
                    assert!((g1[r] - g2[r]).abs() <= 1e-12 * g2[r].abs().max(1.0), "round {round} row {r}");
                    assert!((e1[r] - e2[r]).abs() <= 1e-12 * e2[r].abs().max(1.0), "round {round} row {r}");
                }
            }
        }
    }
}
