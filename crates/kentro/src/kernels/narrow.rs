//! Nearest centres of narrow rows (`d ≤ MAX_FEATURES`), measured across rows: a block of
//! `L` rows (8 or 16, as many as keep the block within 32 values) is read feature-major, each
//! centre is broadcast against it, and every lane keeps its running minimum and the index of that
//! minimum by compare and select. The feature count and the block size are constants in each
//! compiled kernel, so the block lives in registers and the compiler vectorises it.
//!
//! For `d < LANES`, [`super::sq_dist`] is the plain left-to-right sum `((x₀−c₀)² + (x₁−c₁)²) + …`
//! (its lane sums are all zero), which is what every lane here computes, so the distances are
//! bit-identical; the first centre seeds the minimum and later ones replace it only when strictly
//! closer, so ties go to the lowest index exactly as in [`super::nearest`].

use crate::float::Float;

/// The widest rows this kernel takes (`f64`; `f32` rows up to 4 features).
pub(crate) const MAX_FEATURES: usize = 8;

/// The most centres the kernel takes: centre indices are carried as `F` in the lanes, exact up
/// to 2²⁴ in `f32`.
const MAX_CENTERS: usize = 1 << 24;

/// Fills `out` for the leading whole blocks of `rows` (`d` features each, `d ≤ MAX_FEATURES`)
/// and returns how many rows it filled; the caller finishes the rest.
#[inline(always)]
pub(crate) fn nearest_blocks<F: Float>(rows: &[F], centers: &[F], d: usize, out: &mut [(usize, F)]) -> usize {
    if !(1..=MAX_FEATURES).contains(&d) || centers.len() / d > MAX_CENTERS || centers.is_empty() {
        return 0;
    }
    // Blocks of at most 32 values (`L × d`): larger ones are no longer kept in registers and
    // vectorised by the compiler (f32, d = 3: blocks of 16 rows cost 2.8× blocks of 8). For
    // `f32` rows of 5 or more features, blocks of 4 lose to the generic kernel's blocks of 8
    // (d = 8, k = 64, 200k rows: 12.3 vs 9.1 CPU ms per pass), so they are left to it.
    let f32 = std::mem::size_of::<F>() == 4;
    match d {
        1 if f32 => blocks::<F, 1, 16>(rows, centers, out),
        1 => blocks::<F, 1, 8>(rows, centers, out),
        2 if f32 => blocks::<F, 2, 16>(rows, centers, out),
        2 => blocks::<F, 2, 8>(rows, centers, out),
        3 => blocks::<F, 3, 8>(rows, centers, out),
        4 => blocks::<F, 4, 8>(rows, centers, out),
        _ if f32 => 0,
        5 => blocks::<F, 5, 4>(rows, centers, out),
        6 => blocks::<F, 6, 4>(rows, centers, out),
        7 => blocks::<F, 7, 4>(rows, centers, out),
        8 => blocks::<F, 8, 4>(rows, centers, out),
        _ => 0,
    }
}

#[inline(always)]
fn blocks<F: Float, const D: usize, const L: usize>(
    rows: &[F],
    centers: &[F],
    out: &mut [(usize, F)],
) -> usize {
    let mut done = 0;
    for (chunk, o) in rows.chunks_exact(L * D).zip(out.chunks_exact_mut(L)) {
        block::<F, D, L>(chunk, centers, o);
        done += L;
    }
    done
}

/// Squared distances of the `L` feature-major rows in `cols` to the centre `c`.
#[inline(always)]
fn dists<F: Float, const D: usize, const L: usize>(cols: &[[F; L]; D], c: &[F]) -> [F; L] {
    let mut dist = [F::ZERO; L];
    // `0 + t²` is `t²`, so the first feature needs no addition.
    for l in 0..L {
        let t = cols[0][l] - c[0];
        dist[l] = t * t;
    }
    for f in 1..D {
        for l in 0..L {
            let t = cols[f][l] - c[f];
            dist[l] += t * t;
        }
    }
    dist
}

#[inline(always)]
fn block<F: Float, const D: usize, const L: usize>(chunk: &[F], centers: &[F], out: &mut [(usize, F)]) {
    let mut cols = [[F::ZERO; L]; D];
    for l in 0..L {
        for f in 0..D {
            cols[f][l] = chunk[l * D + f];
        }
    }
    let mut best = dists::<F, D, L>(&cols, &centers[..D]);
    let mut index = [F::ZERO; L];
    let mut j = F::ZERO;
    for c in centers.chunks_exact(D).skip(1) {
        j += F::ONE;
        let dist = dists::<F, D, L>(&cols, c);
        for l in 0..L {
            let closer = dist[l] < best[l];
            best[l] = if closer { dist[l] } else { best[l] };
            index[l] = if closer { j } else { index[l] };
        }
    }
    for l in 0..L {
        out[l] = (to_index(index[l].to_f64()), best[l]);
    }
}

/// A whole number below 2⁵² as `usize`, without a saturating conversion: added to 2⁵², it
/// becomes the low bits of the sum's mantissa.
#[inline(always)]
fn to_index(v: f64) -> usize {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    ((v + TWO_52).to_bits() - TWO_52.to_bits()) as usize
}

/// Rows per block of [`nearest_two_block`] for rows of `d` features in `F` (as
/// [`nearest_blocks`] cuts them), or `None` where the across-rows kernel does not take them.
pub(crate) fn two_block_rows<F: Float>(d: usize, k: usize) -> Option<usize> {
    let f32 = std::mem::size_of::<F>() == 4;
    match d {
        _ if k == 0 || k > MAX_CENTERS => None,
        1 | 2 if f32 => Some(16),
        1..=4 => Some(8),
        _ if f32 => None,
        5..=MAX_FEATURES => Some(4),
        _ => None,
    }
}

/// For one block of [`two_block_rows`] rows (`d` features each): each row's nearest centre and
/// squared distance, as [`nearest_blocks`] finds them (bit for bit, ties to the lowest index),
/// and the second smallest squared distance (the nearest centre's own when two tie; `F::MAX`
/// with one centre).
#[inline(always)]
pub(crate) fn nearest_two_block<F: Float>(chunk: &[F], centers: &[F], d: usize, out: &mut [(usize, F, F)]) {
    let f32 = std::mem::size_of::<F>() == 4;
    match d {
        1 if f32 => block_two::<F, 1, 16>(chunk, centers, out),
        2 if f32 => block_two::<F, 2, 16>(chunk, centers, out),
        1 => block_two::<F, 1, 8>(chunk, centers, out),
        2 => block_two::<F, 2, 8>(chunk, centers, out),
        3 => block_two::<F, 3, 8>(chunk, centers, out),
        4 => block_two::<F, 4, 8>(chunk, centers, out),
        5 => block_two::<F, 5, 4>(chunk, centers, out),
        6 => block_two::<F, 6, 4>(chunk, centers, out),
        7 => block_two::<F, 7, 4>(chunk, centers, out),
        8 => block_two::<F, 8, 4>(chunk, centers, out),
        _ => unreachable!("two_block_rows refuses {d} features"),
    }
}

#[inline(always)]
fn block_two<F: Float, const D: usize, const L: usize>(
    chunk: &[F],
    centers: &[F],
    out: &mut [(usize, F, F)],
) {
    let mut cols = [[F::ZERO; L]; D];
    for l in 0..L {
        for f in 0..D {
            cols[f][l] = chunk[l * D + f];
        }
    }
    let mut best = dists::<F, D, L>(&cols, &centers[..D]);
    let mut second = [F::MAX; L];
    let mut index = [F::ZERO; L];
    let mut j = F::ZERO;
    for c in centers.chunks_exact(D).skip(1) {
        j += F::ONE;
        let dist = dists::<F, D, L>(&cols, c);
        for l in 0..L {
            // The larger of the two goes on to the second place: one minimum per chain.
            let closer = dist[l] < best[l];
            let larger = if dist[l] > best[l] { dist[l] } else { best[l] };
            second[l] = if larger < second[l] { larger } else { second[l] };
            best[l] = if closer { dist[l] } else { best[l] };
            index[l] = if closer { j } else { index[l] };
        }
    }
    for l in 0..L {
        out[l] = (to_index(index[l].to_f64()), best[l], second[l]);
    }
}
