//! Synthetic data sets: [`Blobs`], scikit-learn's `make_blobs`.

use ndarray::Array2;

use crate::error::ParamError;
use crate::numpy_random::NumpyRandom;

/// Isotropic Gaussian blobs, with `sklearn.datasets.make_blobs`'s meaning and defaults:
/// 2 features, 3 centres drawn uniformly in the box (-10, 10), standard deviation 1, shuffled.
///
/// Samples are split evenly over the centres (the first `n_samples % centers` get one more).
/// The numbers are numpy's: the same seed gives scikit-learn's `make_blobs(..., random_state=seed)`
/// exactly (numpy's `RandomState` stream, normals by its polar method, its shuffle).
///
/// ```
/// use kentro::datasets::Blobs;
/// let (x, labels) = Blobs::new(300).centers(3).cluster_std(0.6).seed(0).generate().unwrap();
/// assert_eq!(x.dim(), (300, 2));
/// assert_eq!(labels.iter().filter(|&&l| l == 0).count(), 100);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Blobs {
    n_samples: usize,
    n_features: usize,
    centers: BlobCenters,
    cluster_std: Vec<f64>,
    center_box: (f64, f64),
    shuffle: bool,
    seed: u64,
}

/// Samples, the blob of each sample, and the blob centres.
pub type BlobsWithCenters = (Array2<f64>, Vec<usize>, Array2<f64>);

#[derive(Debug, Clone, PartialEq)]
enum BlobCenters {
    Count(usize),
    Given(Array2<f64>),
}

impl Blobs {
    /// `n_samples` points with every other setting at its default.
    pub fn new(n_samples: usize) -> Self {
        Blobs {
            n_samples,
            n_features: 2,
            centers: BlobCenters::Count(3),
            cluster_std: vec![1.0],
            center_box: (-10.0, 10.0),
            shuffle: true,
            seed: 0,
        }
    }

    /// The number of features of generated centres (default 2; ignored with explicit centres).
    pub fn n_features(mut self, n_features: usize) -> Self {
        self.n_features = n_features;
        self
    }

    /// The number of centres, drawn uniformly in the centre box (default 3).
    pub fn centers(mut self, count: usize) -> Self {
        self.centers = BlobCenters::Count(count);
        self
    }

    /// Explicit centres, one row each.
    pub fn given_centers(mut self, centers: Array2<f64>) -> Self {
        self.centers = BlobCenters::Given(centers);
        self
    }

    /// The standard deviation of every blob (default 1).
    pub fn cluster_std(mut self, std: f64) -> Self {
        self.cluster_std = vec![std];
        self
    }

    /// One standard deviation per centre.
    pub fn cluster_stds(mut self, stds: Vec<f64>) -> Self {
        self.cluster_std = stds;
        self
    }

    /// The box (low, high) in which centres are drawn (default (-10, 10)).
    pub fn center_box(mut self, low: f64, high: f64) -> Self {
        self.center_box = (low, high);
        self
    }

    /// Whether to shuffle the samples (default true); unshuffled, blob 0 comes first.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// The seed (default 0): numpy's `RandomState(seed)`. Seeds above `u32::MAX`, which numpy
    /// refuses, seed the stream from their two 32-bit halves.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The samples (`n_samples × n_features`) and the blob each came from.
    pub fn generate(&self) -> Result<(Array2<f64>, Vec<usize>), ParamError> {
        self.generate_with_centers().map(|(x, y, _)| (x, y))
    }

    /// The samples, their blobs, and the blob centres.
    pub fn generate_with_centers(&self) -> Result<BlobsWithCenters, ParamError> {
        let (lo, hi) = self.center_box;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(ParamError::CenterBox(lo, hi));
        }
        let mut rng = NumpyRandom::new(self.seed);
        let centers = match &self.centers {
            BlobCenters::Count(0) => return Err(ParamError::BlobCenters(0)),
            BlobCenters::Count(c) => {
                if self.n_features == 0 {
                    return Err(ParamError::BlobFeatures(0));
                }
                Array2::from_shape_fn((*c, self.n_features), |_| lo + (hi - lo) * rng.random_sample())
            }
            BlobCenters::Given(c) => {
                if c.nrows() == 0 {
                    return Err(ParamError::BlobCenters(0));
                }
                if c.ncols() == 0 {
                    return Err(ParamError::BlobFeatures(0));
                }
                c.clone()
            }
        };
        let (k, d) = centers.dim();
        let stds = match self.cluster_std.len() {
            1 => vec![self.cluster_std[0]; k],
            len if len == k => self.cluster_std.clone(),
            _ => {
                return Err(ParamError::ClusterStd(format!(
                    "{} values for {k} centres",
                    self.cluster_std.len()
                )));
            }
        };
        if let Some(s) = stds.iter().find(|s| !(s.is_finite() && **s >= 0.0)) {
            return Err(ParamError::ClusterStd(s.to_string()));
        }
        let n = self.n_samples;
        let mut x = Array2::zeros((n, d));
        let mut labels = Vec::with_capacity(n);
        let mut row = 0;
        for c in 0..k {
            let count = n / k + usize::from(c < n % k);
            for _ in 0..count {
                for j in 0..d {
                    x[[row, j]] = centers[[c, j]] + stds[c] * rng.standard_normal();
                }
                labels.push(c);
                row += 1;
            }
        }
        if self.shuffle {
            let perm = rng.permutation(n);
            x = x.select(ndarray::Axis(0), &perm);
            labels = perm.iter().map(|&i| labels[i]).collect();
        }
        Ok((x, labels, centers))
    }
}
