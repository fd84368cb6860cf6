//! Screening wide rows from a feature-major float16 copy ([`HalfCopy`] with `columns`),
//! [`COL_ROWS`] rows per vector.
//!
//! The row-major screen ([`super::wide_leaf`]) holds the candidates in the lanes of a vector,
//! so every row ends in a few horizontal steps and a per-row test in float64. Here one vector
//! holds one feature of sixteen rows: each feature of a candidate is broadcast and multiplied
//! into it, so a row costs `d` multiply-adds per candidate and nothing else, and the tests that
//! follow run eight rows per register.

use std::any::Any;

use multiversion::multiversion;

use super::{Found, HalfCopy, Input, OpenRows, REACH_FACTOR, State, WideStep, reach_of, surely_not_below};
use crate::float::Float;
use crate::kernels::lanes::{CAND_LANES, COL_ROWS, column_products};

/// Screens the rows `s..e` (`s` a multiple of [`COL_ROWS`]) from `half`, as
/// [`super::wide_leaf`] does from a row-major copy: the same estimates and bounds (rounded in
/// another order, so a row at the very margin may be left open by one and not the other), the
/// gains summed in another order. Every row is tested against the triangle inequality once per
/// group of candidates, not per candidate as there: a row that no candidate of the group may
/// improve is not screened, and the others are screened for every candidate of the group, so a
/// row beyond one candidate's reach is left open for it where its estimate may beat its
/// distance within the slack (the row-major screen closes it); `skip_rows` does not apply.
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
        // The rows' values where they lie (the screen loads them as vectors: copied value by
        // value, each load would wait on sixteen stores), else copied; zero past the last row.
        let value = |r: usize, f: &dyn Fn(usize) -> f64| if r < rows { f(first + r) } else { 0.0 };
        let (copy_current, copy_x2, copy_w): ([f64; COL_ROWS], [f64; COL_ROWS], [f64; COL_ROWS]);
        let closest =
            state.closest.get(first..first + COL_ROWS).and_then(|c| <&[F; COL_ROWS]>::try_from(c).ok());
        let current = match closest.and_then(|c| (c as &dyn Any).downcast_ref::<[f64; COL_ROWS]>()) {
            Some(c) => c,
            None => {
                copy_current = std::array::from_fn(|r| value(r, &|i| state.closest[i].to_f64()));
                &copy_current
            }
        };
        let x2 = match whole_block(step.sq_norms, first) {
            Some(x2) => x2,
            None => {
                copy_x2 = std::array::from_fn(|r| value(r, &|i| step.sq_norms[i]));
                &copy_x2
            }
        };
        let w = match input.weights.map(|w| whole_block(w, first)) {
            None if rows == COL_ROWS => &[1.0; COL_ROWS],
            Some(Some(w)) => w,
            _ => {
                copy_w = std::array::from_fn(|r| value(r, &|i| input.weight(i)));
                &copy_w
            }
        };
        // The exact gain's own rounding in `F` (`current − dist`, at most `current`).
        let rs = RowState { current, x2, w, own: 2.0 * F::UNIT_ROUNDOFF };
        let nearest = &state.nearest[first..first + rows];
        // The block's rows count as screened once, whichever groups reached them.
        let mut screened = 0;
        for g in 0..groups {
            let count = CAND_LANES.min(t - g * CAND_LANES);
            // The triangle inequality: the rows some candidate of the group may improve at all.
            // Per candidate, it would skip almost nothing more (in blobs 200k × 32, k = 64,
            // blocks with a row within a candidate's reach are 95.5% of the blocks with one
            // within any candidate's) for eight times the gathers.
            let within = within_reach(&step.nearest_gaps, nearest, current, groups, g, simd);
            if within == 0 {
                continue;
            }
            screened = rows;
            let block = &half.bits[first * d..(first + COL_ROWS) * d];
            let raw = column_products(block, &lanes32[g * d..(g + 1) * d], count);
            for (l, raw) in raw.iter().enumerate().take(count) {
                let c = CandState { c2: step.cand_norms[g][l], err2: step.err * 2.0, tiny: step.tiny };
                let lanes = (&mut gain_lanes[g * CAND_LANES + l], &mut error_lanes[g * CAND_LANES + l]);
                let open = screen_column(&rs, &c, (raw, half.inv_scale), within, lanes, simd);
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

/// The [`COL_ROWS`] values of `v` from `first`, if there are as many.
#[inline(always)]
fn whole_block(v: &[f64], first: usize) -> Option<&[f64; COL_ROWS]> {
    v.get(first..first + COL_ROWS)?.try_into().ok()
}

/// What the screen of a block knows of its rows (zero past the last row).
struct RowState<'a> {
    current: &'a [f64; COL_ROWS],
    x2: &'a [f64; COL_ROWS],
    w: &'a [f64; COL_ROWS],
    /// The rounding of the exact gain in `F` is `own × current` (`own` = 2u, a power of two).
    own: f64,
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
/// ([`column_products`]) and the tests ([`screen_column`], [`within_reach`]) in AVX-512 (F, BW,
/// VL) instructions. Elsewhere rows are screened row-major (from a float16 copy of big data,
/// else a float32 copy or the data: see `Screening::Auto`).
pub(super) fn column_screen_available() -> bool {
    post_simd_available() && crate::kernels::lanes::avx512_available()
}

/// Whether [`screen_column`] and [`within_reach`] run in AVX-512 (F, BW, VL) instructions.
fn post_simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vl");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The rows `r` of a block (one bit each) that some candidate of group `g` may improve: whose
/// nearest centre's gap to the nearest candidate of the group is within reach,
/// `nearest_gaps[nearest[r] × groups + g] < reach_of(current[r])` ([`WideStep`]'s
/// `nearest_gaps`), for the rows of `nearest` (at most [`COL_ROWS`]).
#[inline(always)]
#[allow(unsafe_code)]
fn within_reach(
    nearest_gaps: &[f64],
    nearest: &[u32],
    current: &[f64; COL_ROWS],
    groups: usize,
    g: usize,
    simd: bool,
) -> u16 {
    #[cfg(target_arch = "x86_64")]
    // The gathers index values with 32-bit integers: `nearest_gaps` must hold fewer than 2³¹.
    if simd
        && nearest_gaps.len() <= i32::MAX as usize
        && let Ok(nearest) = <&[u32; COL_ROWS]>::try_from(nearest)
    {
        // Every gather reads inside `nearest_gaps`: its entries for centres 0..m, groups each.
        let m = nearest_gaps.len() / groups;
        assert!(nearest.iter().all(|&j| (j as usize) < m) && g < groups, "rows' centres among the chosen");
        // SAFETY: `simd` says the CPU has AVX-512F; every index is inside `nearest_gaps` (above).
        return unsafe { x86::within_reach(nearest_gaps, nearest, current, groups, g) };
    }
    let _ = simd;
    let mut within = 0u16;
    for (r, &j) in nearest.iter().enumerate() {
        within |= u16::from(nearest_gaps[j as usize * groups + g] < reach_of(current[r])) << r;
    }
    within
}

/// Screens the block's rows against a candidate from its products `dots` (as computed, and
/// the power of two that brings them to the data's units: each product is `f64(raw) ×
/// scale`, exactly): adds each open row's weighted estimated gain and error bound to its lane of
/// `lanes` (gains, errors), and returns the open rows, one bit per row. A row is open where
/// some candidate of its group is within reach (its bit in `within`) and its estimate
/// `v = ‖x‖² + ‖c‖² − 2 x·c` may beat `current` within the slack.
#[inline(always)]
#[allow(unsafe_code)]
fn screen_column(
    rs: &RowState,
    c: &CandState,
    dots: (&[f32; COL_ROWS], f64),
    within: u16,
    lanes: (&mut [f64; COL_ROWS], &mut [f64; COL_ROWS]),
    simd: bool,
) -> u16 {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: `simd` says the CPU has AVX-512F, BW and VL.
        return unsafe { x86::screen_column(rs, c, dots, within, lanes) };
    }
    let _ = simd;
    let (gains, errors) = lanes;
    let mut open = 0u16;
    for r in 0..COL_ROWS {
        let v = rs.x2[r] + c.c2 - 2.0 * (f64::from(dots.0[r]) * dots.1);
        let slack = c.err2 * (rs.x2[r] + c.c2) + c.tiny;
        // Not "below": a NaN (from squares that overflow) leaves the row open.
        let is_open = (within >> r) & 1 == 1 && !surely_not_below(v - slack, rs.current[r]);
        if is_open {
            gains[r] += rs.w[r] * (rs.current[r] - v).max(0.0);
            errors[r] += rs.w[r] * (slack + rs.own * rs.current[r]);
            open |= 1 << r;
        }
    }
    open
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::x86_64::*;

    use super::{COL_ROWS, CandState, REACH_FACTOR, RowState};

    /// [`super::within_reach`] for a whole block: two gathers of eight rows' gaps.
    ///
    /// # Safety
    /// The CPU has AVX-512F, `nearest_gaps` holds entry `j × groups + g` for every `j` in
    /// `nearest`, and fewer than 2³¹ values (the indices are 32-bit).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) unsafe fn within_reach(
        nearest_gaps: &[f64],
        nearest: &[u32; COL_ROWS],
        current: &[f64; COL_ROWS],
        groups: usize,
        g: usize,
    ) -> u16 {
        // Index of each row's entry, in values (one per entry).
        // SAFETY: `nearest` holds 16 values, `current` 16.
        let (j, lo, hi) = unsafe {
            (
                _mm512_loadu_si512(nearest.as_ptr().cast()),
                _mm512_loadu_pd(current.as_ptr()),
                _mm512_loadu_pd(current.as_ptr().add(8)),
            )
        };
        let at = _mm512_add_epi32(
            _mm512_mullo_epi32(j, _mm512_set1_epi32(groups as i32)),
            _mm512_set1_epi32(g as i32),
        );
        let (at_lo, at_hi) = (_mm512_castsi512_si256(at), _mm512_extracti64x4_epi64::<1>(at));
        let factor = _mm512_set1_pd(REACH_FACTOR);
        let (reach_lo, reach_hi) = (_mm512_mul_pd(lo, factor), _mm512_mul_pd(hi, factor));
        let base = nearest_gaps.as_ptr();
        // SAFETY: each index is `j × groups + g`, inside `nearest_gaps` and below 2³¹ (the
        // caller's promise: no 32-bit product wraps), in values of 8 bytes.
        let (g_lo, g_hi) =
            unsafe { (_mm512_i32gather_pd::<8>(at_lo, base), _mm512_i32gather_pd::<8>(at_hi, base)) };
        let below_lo = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(g_lo, reach_lo);
        let below_hi = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(g_hi, reach_hi);
        u16::from(below_lo) | (u16::from(below_hi) << 8)
    }

    /// [`super::screen_column`], eight rows per register.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    pub(super) fn screen_column(
        rs: &RowState,
        c: &CandState,
        dots: (&[f32; COL_ROWS], f64),
        within: u16,
        lanes: (&mut [f64; COL_ROWS], &mut [f64; COL_ROWS]),
    ) -> u16 {
        let (gains, errors) = lanes;
        let load = |a: &[f64; COL_ROWS], h: usize| {
            // SAFETY: 8 × h + 8 ≤ 16.
            unsafe { _mm512_loadu_pd(a.as_ptr().add(8 * h)) }
        };
        let c2 = _mm512_set1_pd(c.c2);
        let mut open = 0u16;
        for h in 0..2 {
            let x2 = load(rs.x2, h);
            let current = load(rs.current, h);
            let sum = _mm512_add_pd(x2, c2);
            // SAFETY: 8 × h + 8 ≤ 16.
            let raw = _mm512_cvtps_pd(unsafe { _mm256_loadu_ps(dots.0.as_ptr().add(8 * h)) });
            let dot = _mm512_mul_pd(raw, _mm512_set1_pd(dots.1));
            let v = _mm512_fnmadd_pd(_mm512_set1_pd(2.0), dot, sum);
            let slack = _mm512_fmadd_pd(_mm512_set1_pd(c.err2), sum, _mm512_set1_pd(c.tiny));
            // Not greater or equal, unordered: true where NaN, as the portable test.
            let below = _mm512_cmp_pd_mask::<_CMP_NGE_UQ>(_mm512_sub_pd(v, slack), current);
            let m = below & (within >> (8 * h)) as u8;
            let w = load(rs.w, h);
            let gain = _mm512_max_pd(_mm512_sub_pd(current, v), _mm512_setzero_pd());
            let g = load(gains, h);
            let e = load(errors, h);
            // Where `m`: w × gain + g (else g).
            let g = _mm512_mask3_fmadd_pd(w, gain, g, m);
            let own = _mm512_mul_pd(current, _mm512_set1_pd(rs.own));
            let e = _mm512_mask3_fmadd_pd(w, _mm512_add_pd(slack, own), e, m);
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
    use super::super::least_gaps;
    use super::*;

    /// The AVX-512 tests of a block give the portable code's rows within reach, open rows, gains
    /// and errors.
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
            let (current, x2, w): ([f64; COL_ROWS], [f64; COL_ROWS], [f64; COL_ROWS]) = (
                std::array::from_fn(|_| next() * 10.0),
                // Now and then a norm that overflowed: its row's estimate is NaN.
                std::array::from_fn(|r| if r == round as usize % 19 { f64::INFINITY } else { next() * 20.0 }),
                std::array::from_fn(|_| 0.5 + next()),
            );
            let rs = RowState { current: &current, x2: &x2, w: &w, own: 2f64.powi(-40 - (round % 13)) };
            let c = CandState { c2: next() * 20.0, err2: next() * 1e-3, tiny: next() * 1e-6 };
            // Products near where the estimate crosses the current distance.
            let scale = 2f64.powi(-3 - round % 5);
            let dots: [f32; COL_ROWS] = std::array::from_fn(|r| {
                (((rs.x2[r] + c.c2 - rs.current[r]) / 2.0 + (next() - 0.5) * 0.02) / scale) as f32
            });
            // Gaps from five centres to two groups of candidates (the second group's lanes past
            // its last candidate infinite, as [`WideStep`] pads them), the rows' distances near
            // the least gaps.
            let (groups, g) = (2, round as usize % 2);
            let lane_gaps: Vec<[f64; CAND_LANES]> = (0..5 * groups)
                .map(|e| {
                    std::array::from_fn(|l| if e % 2 == 1 && l >= 3 { f64::INFINITY } else { next() * 40.0 })
                })
                .collect();
            let gaps = least_gaps(&lane_gaps);
            let nearest: [u32; COL_ROWS] = std::array::from_fn(|_| (next() * 5.0) as u32);
            let currents: [f64; COL_ROWS] = std::array::from_fn(|r| {
                let gap = gaps[nearest[r] as usize * groups + g];
                if r % 3 == 0 { gap / REACH_FACTOR } else { next() * 10.0 }
            });
            let within = within_reach(&gaps, &nearest, &currents, groups, g, true);
            assert_eq!(within, within_reach(&gaps, &nearest, &currents, groups, g, false), "round {round}");
            // A row is within reach where some candidate of the group is.
            for (r, &j) in nearest.iter().enumerate() {
                let lanes = &lane_gaps[j as usize * groups + g];
                let reached = lanes.iter().any(|&gap| gap < REACH_FACTOR * currents[r]);
                assert_eq!((within >> r) & 1 == 1, reached, "round {round} row {r}");
            }
            // Fewer rows than a block: the portable path, the same bits for the rows given.
            let part = within_reach(&gaps, &nearest[..7], &currents, groups, g, true);
            assert_eq!(part, within & 0x7f, "round {round}");
            // The screen of one candidate under that mask and others.
            for (variant, mask) in [within, !within, u16::MAX, 0].into_iter().enumerate() {
                let (mut g1, mut e1) = ([1.0; COL_ROWS], [2.0; COL_ROWS]);
                let (mut g2, mut e2) = (g1, e1);
                let fast = screen_column(&rs, &c, (&dots, scale), mask, (&mut g1, &mut e1), true);
                let slow = screen_column(&rs, &c, (&dots, scale), mask, (&mut g2, &mut e2), false);
                assert_eq!(fast, slow, "round {round}, mask {variant}");
                // A row whose estimate is NaN stays open wherever it is within reach.
                let nan_row = round as usize % 19;
                if nan_row < COL_ROWS && (mask >> nan_row) & 1 == 1 {
                    assert_eq!((fast >> nan_row) & 1, 1, "round {round}, mask {variant}");
                }
                // Equal (infinite error bounds included), or within rounding.
                let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-12 * b.abs().max(1.0);
                for r in 0..COL_ROWS {
                    assert!(close(g1[r], g2[r]), "round {round} row {r}: {} {}", g1[r], g2[r]);
                    assert!(close(e1[r], e2[r]), "round {round} row {r}: {} {}", e1[r], e2[r]);
                }
            }
        }
    }
}
