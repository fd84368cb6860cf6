//! Spherical k-means (Dhillon & Modha 2001): clusters by cosine similarity, for text and other
//! data where a row's direction matters and its length does not.

use ndarray::{ArrayView1, ArrayView2};

use crate::algo::sparse::{fit, nearest, unit_rows};
use crate::error::KMeansError;
use crate::float::Float;
use crate::model::{FitWarning, KMeans};
use crate::observer::{NoObserver, Observer};
use crate::params::{KMeansParams, ValidKMeansParams};
use crate::sparse::{CsrMatrix, CsrView};

/// A fitted spherical k-means model: unit-length centres, each sample assigned to the centre of
/// largest cosine similarity.
///
/// The fit divides every row by its Euclidean norm, then runs the same seeding and Lloyd
/// iterations as [`KMeans`] (same settings, seed, tolerance, relocation of empty clusters), with
/// every centre put back on the unit sphere after each update. For unit rows and unit centres
/// `‖x − c‖² = 2 (1 − cos(x, c))`, so the nearest centre is the one of largest cosine.
/// The objective is `Σ w · (1 − cos)` (0 when every row points exactly at its centre).
///
/// A zero row has no direction: it is kept as zero, its cosine with every centre is 0, so it
/// goes to the first centre (cluster 0, by convention; or to a zero centre, which only a cluster
/// of zero rows has) and adds its weight to the objective; it does not move any centre. The data is not centred (cosine is not translation-invariant).
///
/// Dense input is read as the CSR matrix of its non-zero entries, so a dense fit and a CSR fit
/// of the same data give the same model.
///
/// ```
/// use kentro::{CsrMatrix, KMeans};
///
/// // Two directions, with rows of very different lengths.
/// let x = ndarray::array![[1.0, 0.1, 0.0], [10.0, 0.0, 0.5], [0.0, 3.0, 3.1], [0.1, 0.2, 0.2]];
/// let model = KMeans::params(2).seed(0).fit_spherical(x.view())?;
/// let l = model.labels();
/// assert_eq!(l[0], l[1]);
/// assert_eq!(l[2], l[3]);
/// assert_ne!(l[0], l[2]);
/// let sparse = CsrMatrix::from_dense(x.view())?;
/// assert_eq!(model.predict_csr(sparse.view())?, l);
/// # Ok::<(), kentro::KMeansError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SphericalKMeans<F: Float = f64> {
    model: KMeans<F>,
    objective: f64,
}

impl<F: Float> SphericalKMeans<F> {
    /// The unit-length cluster centres, one row per cluster (a centre whose rows are all zero
    /// stays zero).
    pub fn centers(&self) -> ArrayView2<'_, F> {
        self.model.centers()
    }

    /// The cluster of each training sample, in input order.
    pub fn labels(&self) -> &[usize] {
        self.model.labels()
    }

    /// `Σ w · (1 − cos(x, c))` over the training samples and the centres of their clusters.
    pub fn objective(&self) -> f64 {
        self.objective
    }

    /// Lloyd iterations made by the best run.
    pub fn n_iter(&self) -> usize {
        self.model.n_iter()
    }

    /// The number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.model.n_clusters()
    }

    /// The number of features.
    pub fn n_features(&self) -> usize {
        self.model.n_features()
    }

    /// What the fit wants the caller to know (for example fewer distinct clusters than asked).
    pub fn warnings(&self) -> &[FitWarning] {
        self.model.warnings()
    }

    /// The centre of largest cosine similarity for each row of `x` (zero rows: cluster 0).
    pub fn predict(&self, x: ArrayView2<F>) -> Result<Vec<usize>, KMeansError> {
        self.predict_csr(CsrMatrix::from_dense(x)?.view())
    }

    /// The centre of largest cosine similarity for each row of the CSR matrix `x`.
    pub fn predict_csr(&self, x: CsrView<F>) -> Result<Vec<usize>, KMeansError> {
        let unit = unit_rows(x);
        Ok(nearest(self.centers(), unit.view(), true)?.into_iter().map(|(j, _)| j).collect())
    }
}

impl KMeansParams {
    /// Checks the settings and fits spherical k-means to the rows of `x` (see
    /// [`SphericalKMeans`]).
    pub fn fit_spherical<F: Float>(&self, x: ArrayView2<F>) -> Result<SphericalKMeans<F>, KMeansError> {
        self.clone().check()?.fit_spherical(x)
    }

    /// Checks the settings and fits spherical k-means to the rows of the CSR matrix `x`.
    pub fn fit_spherical_csr<F: Float>(&self, x: CsrView<F>) -> Result<SphericalKMeans<F>, KMeansError> {
        self.clone().check()?.fit_spherical_csr_with(x, None, &NoObserver)
    }
}

impl ValidKMeansParams {
    /// Fits spherical k-means to the rows of `x` (see [`SphericalKMeans`]).
    pub fn fit_spherical<F: Float>(&self, x: ArrayView2<F>) -> Result<SphericalKMeans<F>, KMeansError> {
        self.fit_spherical_csr_with(CsrMatrix::from_dense(x)?.view(), None, &NoObserver)
    }

    /// Fits spherical k-means to the rows of the CSR matrix `x`, with optional sample weights,
    /// reporting to `observer` (use [`NoObserver`] for none).
    pub fn fit_spherical_csr_with<F: Float>(
        &self,
        x: CsrView<F>,
        sample_weight: Option<ArrayView1<f64>>,
        observer: &dyn Observer,
    ) -> Result<SphericalKMeans<F>, KMeansError> {
        let (model, objective) = fit(self, x, sample_weight, observer, true)?;
        Ok(SphericalKMeans { model, objective })
    }
}
