//! Deterministic parallelism: rows are cut into fixed leaf blocks by index, and partial results
//! are combined along a binary tree whose shape depends only on the number of rows. The thread
//! count changes which thread computes a leaf, never the order of any floating-point sum.

use rayon::join;

/// Rows per leaf block. Fixed: changing it changes results in the last bits.
pub(crate) const LEAF_ROWS: usize = 256;

/// Per-row outputs that can be cut between two rows, handed to the leaves.
pub(crate) trait RowParts: Send + Sized {
    /// The first `rows` rows, and the rest.
    fn split(self, rows: usize) -> (Self, Self);
}

/// A mutable slice holding `per_row` entries per row.
pub(crate) struct Rows<'a, T> {
    pub(crate) data: &'a mut [T],
    pub(crate) per_row: usize,
}

impl<'a, T> Rows<'a, T> {
    pub(crate) fn new(data: &'a mut [T], per_row: usize) -> Self {
        Rows { data, per_row }
    }
}

impl<T: Send> RowParts for Rows<'_, T> {
    fn split(self, rows: usize) -> (Self, Self) {
        let (a, b) = self.data.split_at_mut(rows * self.per_row);
        (Rows { data: a, per_row: self.per_row }, Rows { data: b, per_row: self.per_row })
    }
}

impl RowParts for () {
    fn split(self, _rows: usize) -> (Self, Self) {
        ((), ())
    }
}

impl<A: RowParts, B: RowParts> RowParts for (A, B) {
    fn split(self, rows: usize) -> (Self, Self) {
        let (a1, a2) = self.0.split(rows);
        let (b1, b2) = self.1.split(rows);
        ((a1, b1), (a2, b2))
    }
}

/// Runs `leaf(first_row, end_row, out_rows)` over fixed blocks of `LEAF_ROWS` rows, in parallel,
/// and combines the results with `merge(left, right)` along a fixed tree. `out` holds `per_row`
/// entries per row, and each leaf receives its own rows' part of it.
pub(crate) fn par_blocks<T, R, L, M>(n_rows: usize, per_row: usize, out: &mut [T], leaf: &L, merge: &M) -> R
where
    T: Send,
    R: Send,
    L: Fn(usize, usize, &mut [T]) -> R + Sync,
    M: Fn(&mut R, R) + Sync,
{
    debug_assert_eq!(out.len(), n_rows * per_row);
    par_blocks_sized(
        LEAF_ROWS,
        n_rows,
        Rows::new(out, per_row),
        &|s, e, rows: Rows<T>| leaf(s, e, rows.data),
        merge,
    )
}

/// [`par_blocks`] with leaves of `leaf_rows` rows (larger leaves for work whose per-leaf result
/// is big, such as a k × d partial sum) and any [`RowParts`] as outputs. `leaf_rows` must not
/// depend on the thread count.
pub(crate) fn par_blocks_sized<P, R, L, M>(leaf_rows: usize, n_rows: usize, out: P, leaf: &L, merge: &M) -> R
where
    P: RowParts,
    R: Send,
    L: Fn(usize, usize, P) -> R + Sync,
    M: Fn(&mut R, R) + Sync,
{
    let n_blocks = n_rows.div_ceil(leaf_rows).max(1);
    let shape = Shape { leaf_rows, n_rows, sequential: runs_sequentially(n_rows) };
    blocks(&shape, 0, n_blocks, out, leaf, merge)
}

/// Up to this many rows, the tree is walked on the calling thread: waking other threads costs
/// more than such a pass. The tree, hence every result, is the same either way.
const SEQUENTIAL_ROWS: usize = 2048;

/// Whether a pass over `n_rows` rows walks its tree on the calling thread (never touching a
/// thread pool): true for small data.
pub(crate) fn runs_sequentially(n_rows: usize) -> bool {
    n_rows <= SEQUENTIAL_ROWS
}

// Tests count the parallel splits a thread makes (a pass said to stay on the calling thread
// makes none).
#[cfg(test)]
thread_local! {
    pub(crate) static JOINS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

struct Shape {
    leaf_rows: usize,
    n_rows: usize,
    sequential: bool,
}

fn blocks<P, R, L, M>(shape: &Shape, first_block: usize, n_blocks: usize, out: P, leaf: &L, merge: &M) -> R
where
    P: RowParts,
    R: Send,
    L: Fn(usize, usize, P) -> R + Sync,
    M: Fn(&mut R, R) + Sync,
{
    let start = first_block * shape.leaf_rows;
    if n_blocks == 1 {
        let end = ((first_block + 1) * shape.leaf_rows).min(shape.n_rows);
        return leaf(start, end, out);
    }
    let left_blocks = n_blocks / 2;
    // The left half is made of whole blocks, so its rows are all in `out`.
    let (lo, hi) = out.split(left_blocks * shape.leaf_rows);
    let left = || blocks(shape, first_block, left_blocks, lo, leaf, merge);
    let right = || blocks(shape, first_block + left_blocks, n_blocks - left_blocks, hi, leaf, merge);
    let (mut a, b) = if shape.sequential {
        (left(), right())
    } else {
        #[cfg(test)]
        JOINS.with(|j| j.set(j.get() + 1));
        join(left, right)
    };
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

    #[test]
    fn two_outputs_split_together() {
        let n = 1000;
        let mut a = vec![0usize; n];
        let mut b = vec![0.0f64; 3 * n];
        par_blocks_sized(
            300,
            n,
            (Rows::new(&mut a, 1), Rows::new(&mut b, 3)),
            &|s, e, (ra, rb): (Rows<usize>, Rows<f64>)| {
                assert_eq!((ra.data.len(), rb.data.len()), (e - s, 3 * (e - s)));
                ra.data.iter_mut().enumerate().for_each(|(i, v)| *v = s + i);
                rb.data.iter_mut().enumerate().for_each(|(i, v)| *v = (3 * s + i) as f64);
            },
            &|_, _| {},
        );
        assert!(a.iter().enumerate().all(|(i, &v)| i == v));
        assert!(b.iter().enumerate().all(|(i, &v)| i as f64 == v));
    }
}
