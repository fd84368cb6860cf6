//! Sparse input: [`CsrView`] and [`CsrMatrix`], and the fits, predictions, distances and scores
//! on them.

use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::error::KMeansError;
use crate::float::Float;
use crate::model::KMeans;
use crate::observer::{NoObserver, Observer};
use crate::params::{KMeansParams, ValidKMeansParams};

/// A checked, borrowed matrix in compressed sparse row (CSR) form ([`CsrMatrix`] is its owned
/// counterpart). Fits, predictions, distances and scores on CSR input
/// never make a dense copy of the data; only the centres (`k × d`) are dense.
///
/// A CSR matrix of `n_rows × n_cols` is three arrays: `indptr` (`n_rows + 1` offsets, from 0,
/// never decreasing), and for row `i` the entries `indptr[i]..indptr[i + 1]` of `indices` (column
/// numbers, below `n_cols`, strictly increasing within the row: sorted, no duplicates, as
/// scipy's canonical format) and `data` (finite values; explicit zeros are allowed).
///
/// ```
/// use kentro::{CsrMatrix, KMeans};
///
/// // Two groups of rows in 4 columns, stored sparsely.
/// let x = CsrMatrix::<f64>::new(
///     (4, 4),
///     vec![0, 2, 4, 5, 6],
///     vec![0, 1, 0, 1, 3, 3],
///     vec![1.0, 1.0, 1.1, 0.9, 5.0, 5.2],
/// )?;
/// let model = KMeans::params(2).seed(0).fit_csr(x.view())?;
/// assert_eq!(model.labels()[0], model.labels()[1]);
/// assert_ne!(model.labels()[0], model.labels()[2]);
/// assert_eq!(model.predict_csr(x.view())?, model.labels());
/// # Ok::<(), kentro::KMeansError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CsrView<'a, F> {
    n_rows: usize,
    n_cols: usize,
    indptr: &'a [usize],
    indices: &'a [usize],
    data: &'a [F],
}

/// An owned CSR matrix, checked like a [`CsrView`].
#[derive(Debug, Clone, PartialEq)]
pub struct CsrMatrix<F> {
    n_rows: usize,
    n_cols: usize,
    indptr: Vec<usize>,
    indices: Vec<usize>,
    data: Vec<F>,
}

fn invalid(message: String) -> KMeansError {
    KMeansError::InvalidCsr(message)
}

/// Checks the three arrays of a CSR matrix of `shape`.
fn check<F: Float>(
    shape: (usize, usize),
    indptr: &[usize],
    indices: &[usize],
    data: &[F],
) -> Result<(), KMeansError> {
    let (n_rows, n_cols) = shape;
    if indptr.len() != n_rows + 1 {
        return Err(invalid(format!(
            "indptr has {} entries, expected n_rows + 1 = {}",
            indptr.len(),
            n_rows + 1
        )));
    }
    if indptr[0] != 0 {
        return Err(invalid(format!("indptr[0] = {}, expected 0", indptr[0])));
    }
    if indices.len() != data.len() {
        return Err(invalid(format!("indices has {} entries but data has {}", indices.len(), data.len())));
    }
    if indptr[n_rows] != indices.len() {
        return Err(invalid(format!(
            "indptr[{n_rows}] = {} but there are {} stored entries",
            indptr[n_rows],
            indices.len()
        )));
    }
    for row in 0..n_rows {
        let (s, e) = (indptr[row], indptr[row + 1]);
        if e < s {
            return Err(invalid(format!("indptr decreases at row {row}: indptr[{}] = {e} < {s}", row + 1)));
        }
    }
    for row in 0..n_rows {
        let (s, e) = (indptr[row], indptr[row + 1]);
        let cols = &indices[s..e];
        for (p, &col) in cols.iter().enumerate() {
            if col >= n_cols {
                return Err(invalid(format!(
                    "row {row} has column index {col}, but there are {n_cols} columns"
                )));
            }
            if p > 0 && cols[p - 1] >= col {
                return Err(invalid(format!(
                    "row {row}: column indices must be strictly increasing (sorted, no duplicates), \
                     got {} then {col}",
                    cols[p - 1]
                )));
            }
        }
        if let Some(p) = data[s..e].iter().position(|v| !v.is_finite()) {
            return Err(KMeansError::NonFinite { row, col: cols[p], value: data[s + p].to_f64() });
        }
    }
    Ok(())
}

impl<'a, F: Float> CsrView<'a, F> {
    /// Checks and wraps the arrays of an `n_rows × n_cols` CSR matrix: `indptr` has `n_rows + 1`
    /// non-decreasing offsets from 0 to the number of entries; each row's column indices are
    /// below `n_cols` and strictly increasing; every value is finite. The error names the first
    /// problem (row, column, value).
    pub fn new(
        shape: (usize, usize),
        indptr: &'a [usize],
        indices: &'a [usize],
        data: &'a [F],
    ) -> Result<Self, KMeansError> {
        check(shape, indptr, indices, data)?;
        Ok(CsrView { n_rows: shape.0, n_cols: shape.1, indptr, indices, data })
    }

    /// The number of rows (samples).
    pub fn nrows(&self) -> usize {
        self.n_rows
    }

    /// The number of columns (features).
    pub fn ncols(&self) -> usize {
        self.n_cols
    }

    /// The number of stored entries.
    pub fn nnz(&self) -> usize {
        self.data.len()
    }

    /// The row offsets.
    pub fn indptr(&self) -> &'a [usize] {
        self.indptr
    }

    /// The column index of every stored entry.
    pub fn indices(&self) -> &'a [usize] {
        self.indices
    }

    /// The value of every stored entry.
    pub fn data(&self) -> &'a [F] {
        self.data
    }

    /// Row `i`: its column indices and values.
    pub fn row(&self, i: usize) -> (&'a [usize], &'a [F]) {
        let (s, e) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[s..e], &self.data[s..e])
    }

    /// The matrix as a dense array (for tests and small data).
    pub fn to_dense(&self) -> Array2<F> {
        let mut out = Array2::from_elem((self.n_rows, self.n_cols), F::ZERO);
        for i in 0..self.n_rows {
            let (cols, vals) = self.row(i);
            for (&c, &v) in cols.iter().zip(vals) {
                out[[i, c]] = v;
            }
        }
        out
    }

    /// The largest absolute stored value (0 for no entries).
    pub(crate) fn max_abs(&self) -> f64 {
        self.data.iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs()))
    }
}

impl<F: Float> CsrMatrix<F> {
    /// Checks and takes the arrays of an `n_rows × n_cols` CSR matrix (the rules of
    /// [`CsrView::new`]).
    pub fn new(
        shape: (usize, usize),
        indptr: Vec<usize>,
        indices: Vec<usize>,
        data: Vec<F>,
    ) -> Result<Self, KMeansError> {
        check(shape, &indptr, &indices, &data)?;
        Ok(CsrMatrix { n_rows: shape.0, n_cols: shape.1, indptr, indices, data })
    }

    /// The non-zero entries of a dense matrix, row by row (non-finite values are refused).
    pub fn from_dense(x: ArrayView2<F>) -> Result<Self, KMeansError> {
        let mut indptr = vec![0];
        let (mut indices, mut data) = (Vec::new(), Vec::new());
        for row in x.outer_iter() {
            for (c, &v) in row.iter().enumerate() {
                if v != F::ZERO {
                    indices.push(c);
                    data.push(v);
                }
            }
            indptr.push(indices.len());
        }
        CsrMatrix::new(x.dim(), indptr, indices, data)
    }

    /// A borrowed view.
    pub fn view(&self) -> CsrView<'_, F> {
        CsrView {
            n_rows: self.n_rows,
            n_cols: self.n_cols,
            indptr: &self.indptr,
            indices: &self.indices,
            data: &self.data,
        }
    }

    /// Multiplies every row `i` by `factor(i)` in place (factors must be finite).
    pub(crate) fn scale_rows(&mut self, factor: impl Fn(usize) -> f64) {
        for i in 0..self.n_rows {
            let f = factor(i);
            let (s, e) = (self.indptr[i], self.indptr[i + 1]);
            self.data[s..e].iter_mut().for_each(|v| *v = F::from_f64(v.to_f64() * f));
        }
    }
}

impl<'a, F: Float> CsrView<'a, F> {
    /// An owned copy.
    pub fn to_owned(&self) -> CsrMatrix<F> {
        CsrMatrix {
            n_rows: self.n_rows,
            n_cols: self.n_cols,
            indptr: self.indptr.to_vec(),
            indices: self.indices.to_vec(),
            data: self.data.to_vec(),
        }
    }
}

impl KMeansParams {
    /// Checks the settings and fits the rows of the CSR matrix `x` (see
    /// [`ValidKMeansParams::fit_csr`]).
    pub fn fit_csr<F: Float>(&self, x: CsrView<F>) -> Result<KMeans<F>, KMeansError> {
        self.clone().check()?.fit_csr(x)
    }
}

impl ValidKMeansParams {
    /// Fits the rows of the CSR matrix `x` without densifying it: the same k-means++ rule,
    /// Lloyd iterations, tolerance, convergence tests, empty-cluster relocation and final
    /// assignment as the dense [`fit`](ValidKMeansParams::fit), so the same data gives the same
    /// labels whether dense or sparse. Distances are `‖x‖² − 2 x·c + ‖c‖²` (sparse row · dense
    /// centre, in `f64`); the data is not centred (centring would densify it).
    /// Every Lloyd-type [`Algorithm`](crate::Algorithm) runs plain Lloyd iterations on CSR input
    /// (they all give the same result); [`Algorithm::Exact1d`](crate::Algorithm::Exact1d) reads
    /// its one column densely (and refuses more than one, as for dense data).
    pub fn fit_csr<F: Float>(&self, x: CsrView<F>) -> Result<KMeans<F>, KMeansError> {
        self.fit_csr_with(x, None, &NoObserver)
    }

    /// [`fit_csr`](ValidKMeansParams::fit_csr) with one non-negative weight per sample.
    pub fn fit_csr_weighted<F: Float>(
        &self,
        x: CsrView<F>,
        sample_weight: ArrayView1<f64>,
    ) -> Result<KMeans<F>, KMeansError> {
        self.fit_csr_with(x, Some(sample_weight), &NoObserver)
    }

    /// [`fit_csr`](ValidKMeansParams::fit_csr) with optional weights, reporting to `observer`.
    pub fn fit_csr_with<F: Float>(
        &self,
        x: CsrView<F>,
        sample_weight: Option<ArrayView1<f64>>,
        observer: &dyn Observer,
    ) -> Result<KMeans<F>, KMeansError> {
        crate::algo::sparse::fit(self, x, sample_weight, observer, false).map(|(model, _)| model)
    }
}

impl<F: Float> KMeans<F> {
    /// A model that scales its input ([`KMeans::scaler`]) cannot take CSR rows: scaling (centring)
    /// would densify them, and skipping it would be wrong.
    fn refuse_scaled_csr(&self) -> Result<(), KMeansError> {
        match self.scaler() {
            Some(_) => Err(KMeansError::ScaledSparse),
            None => Ok(()),
        }
    }

    /// The nearest centre of each row of the CSR matrix `x` (refused for a model with a scaler).
    pub fn predict_csr(&self, x: CsrView<F>) -> Result<Vec<usize>, KMeansError> {
        self.refuse_scaled_csr()?;
        let near = crate::algo::sparse::nearest(self.centers(), x, false)?;
        Ok(near.into_iter().map(|(j, _)| j).collect())
    }

    /// The Euclidean distance of each row of the CSR matrix `x` to every centre
    /// (`n_samples × n_clusters`, dense; refused for a model with a scaler).
    pub fn transform_csr(&self, x: CsrView<F>) -> Result<Array2<F>, KMeansError> {
        self.refuse_scaled_csr()?;
        crate::algo::sparse::distances(self.centers(), x)
    }

    /// Minus the (weighted) inertia of the rows of the CSR matrix `x` against these centres
    /// (refused for a model with a scaler).
    pub fn score_csr(
        &self,
        x: CsrView<F>,
        sample_weight: Option<ArrayView1<f64>>,
    ) -> Result<f64, KMeansError> {
        self.refuse_scaled_csr()?;
        let weights = sample_weight.map(|w| crate::validate::check_weights(w, x.nrows())).transpose()?;
        let near = crate::algo::sparse::nearest(self.centers(), x, false)?;
        let total: f64 =
            near.iter().enumerate().map(|(i, (_, d))| weights.as_ref().map_or(1.0, |w| w[i]) * d).sum();
        if !total.is_finite() {
            return Err(KMeansError::Overflow { what: "the inertia", max_abs: x.max_abs() });
        }
        Ok(-total)
    }
}
