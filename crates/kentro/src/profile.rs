//! Cluster profiles for segmentation: each cluster's size, share of the samples and mean of
//! every feature, in the units of the data given (pass the original data, not the scaled one).
//!
//! ```
//! use kentro::profile::ClusterProfiles;
//!
//! let x = ndarray::array![[1.0, 100.0], [3.0, 300.0], [10.0, 0.0]];
//! let p = ClusterProfiles::new(x.view(), &[0, 0, 1], 2)?;
//! assert_eq!(p.sizes(), [2, 1]);
//! assert_eq!(p.means().row(0).to_vec(), [2.0, 200.0]);
//! # Ok::<(), kentro::KMeansError>(())
//! ```

use ndarray::{Array2, ArrayView2};

use crate::error::KMeansError;
use crate::float::Float;
use crate::validate::check_data;

/// Per cluster: size, share and feature means (a cluster with no samples has NaN means).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterProfiles {
    sizes: Vec<usize>,
    means: Array2<f64>,
    overall_mean: Vec<f64>,
    overall_std: Vec<f64>,
}

impl ClusterProfiles {
    /// The profiles of `x` (finite, one row per label) partitioned by `labels` into `k` clusters.
    pub fn new<F: Float>(x: ArrayView2<F>, labels: &[usize], k: usize) -> Result<Self, KMeansError> {
        check_data(x)?;
        if labels.len() != x.nrows() {
            return Err(KMeansError::WeightLength { got: labels.len(), expected: x.nrows() });
        }
        if let Some(&l) = labels.iter().find(|&&l| l >= k) {
            return Err(KMeansError::Model(format!("label {l} is out of range for {k} clusters")));
        }
        let d = x.ncols();
        let mut sums = Array2::<f64>::zeros((k, d));
        let mut sizes = vec![0usize; k];
        for (row, &l) in x.outer_iter().zip(labels) {
            sizes[l] += 1;
            for (s, v) in sums.row_mut(l).iter_mut().zip(row) {
                *s += v.to_f64();
            }
        }
        let mut means = sums;
        for (mut row, &n) in means.outer_iter_mut().zip(&sizes) {
            row.mapv_inplace(|s| if n > 0 { s / n as f64 } else { f64::NAN });
        }
        let n = x.nrows() as f64;
        let overall_mean: Vec<f64> =
            (0..d).map(|j| x.column(j).iter().map(|v| v.to_f64()).sum::<f64>() / n).collect();
        let overall_std: Vec<f64> = (0..d)
            .map(|j| {
                let m = overall_mean[j];
                (x.column(j).iter().map(|v| (v.to_f64() - m).powi(2)).sum::<f64>() / n).sqrt()
            })
            .collect();
        Ok(ClusterProfiles { sizes, means, overall_mean, overall_std })
    }

    /// Samples per cluster.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Each cluster's share of the samples, in [0, 1].
    pub fn shares(&self) -> Vec<f64> {
        let n: usize = self.sizes.iter().sum();
        self.sizes.iter().map(|&s| s as f64 / n as f64).collect()
    }

    /// The mean of each feature per cluster (`k × d`).
    pub fn means(&self) -> ArrayView2<'_, f64> {
        self.means.view()
    }

    /// The cluster means standardised by the whole data's mean and population standard deviation
    /// (0 for a constant feature): how far above or below average each cluster sits, comparable
    /// across features.
    pub fn standardized_means(&self) -> Array2<f64> {
        Array2::from_shape_fn(self.means.dim(), |(c, j)| {
            let s = self.overall_std[j];
            if s > 0.0 { (self.means[(c, j)] - self.overall_mean[j]) / s } else { 0.0 }
        })
    }
}
