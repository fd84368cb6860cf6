//! Deterministic parallelism: rows are cut into fixed leaf blocks by index, and partial results
//! are combined along a binary tree whose shape depends only on the number of rows. The thread
//! count changes which thread computes a leaf, never the order of any floating-point sum.

use rayon::join;

/// Rows per leaf block. Fixed: changing it changes results in the last bits.
pub(crate) const LEAF_ROWS: usize = 256;

/// Runs `leaf(first_row, out_rows)` over fixed blocks of `LEAF_ROWS` rows, in parallel, and
/// combines the results with `merge(left, right)` along a fixed tree. `out` holds `per_row`
/// entries per row, and each leaf receives its own rows' part of it.
pub(crate) fn par_blocks<T, R, L, M>(n_rows: usize, per_row: usize, out: &mut [T], leaf: &L, merge: &M) -> R
where
    T: Send,
    R: Send,
    L: Fn(usize, usize, &mut [T]) -> R + Sync,
    M: Fn(&mut R, R) + Sync,
{
    par_blocks_sized(LEAF_ROWS, n_rows, per_row, out, leaf, merge)
}

/// [`par_blocks`] with leaves of `leaf_rows` rows: larger leaves for work whose per-leaf result
/// is big (a k × d partial sum). `leaf_rows` must not depend on the thread count.
pub(crate) fn par_blocks_sized<T, R, L, M>(
    leaf_rows: usize,
    n_rows: usize,
    per_row: usize,
    out: &mut [T],
    leaf: &L,
    merge: &M,
) -> R
where
    T: Send,
    R: Send,
    L: Fn(usize, usize, &mut [T]) -> R + Sync,
    M: Fn(&mut R, R) + Sync,
{
    debug_assert_eq!(out.len(), n_rows * per_row);
    let n_blocks = n_rows.div_ceil(leaf_rows).max(1);
    let shape = Shape { leaf_rows, n_rows, per_row };
    blocks(&shape, 0, n_blocks, out, leaf, merge)
}

struct Shape {
    leaf_rows: usize,
    n_rows: usize,
    per_row: usize,
}

fn blocks<T, R, L, M>(
    shape: &Shape,
    first_block: usize,
    n_blocks: usize,
    out: &mut [T],
    leaf: &L,
    merge: &M,
) -> R
where
    T: Send,
    R: Send,
    L: Fn(usize, usize, &mut [T]) -> R + Sync,
    M: Fn(&mut R, R) + Sync,
{
    let start = first_block * shape.leaf_rows;
    if n_blocks == 1 {
        let end = ((first_block + 1) * shape.leaf_rows).min(shape.n_rows);
        return leaf(start, end, out);
    }
    let left_blocks = n_blocks / 2;
    // The left half is made of whole blocks, so its rows are all in `out`.
    let (lo, hi) = out.split_at_mut(left_blocks * shape.leaf_rows * shape.per_row);
    let (mut a, b) = join(
        || blocks(shape, first_block, left_blocks, lo, leaf, merge),
        || blocks(shape, first_block + left_blocks, n_blocks - left_blocks, hi, leaf, merge),
    );
    merge(&mut a, b);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_every_row_once_in_order() {
        for n in [0usize, 1, 255, 256, 257, 1000, 5000] {
            let mut out = vec![0usize; n];
            let rows: Vec<(usize, usize)> = par_blocks(
                n,
                1,
                &mut out,
                &|s, e, o: &mut [usize]| {
                    assert_eq!(o.len(), e - s);
                    for (i, v) in o.iter_mut().enumerate() {
                        *v = s + i;
                    }
                    vec![(s, e)]
                },
                &|a: &mut Vec<(usize, usize)>, b| a.extend(b),
            );
            assert!(out.iter().enumerate().all(|(i, &v)| i == v));
            let covered: usize = rows.iter().map(|(s, e)| e - s).sum();
            assert_eq!(covered, n);
            assert!(rows.windows(2).all(|w| w[0].1 == w[1].0));
        }
    }
}
