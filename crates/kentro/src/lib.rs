//! # kentro — exact, fast, deterministic K-Means
//!
//! kentro clusters rows of an `f32` or `f64` matrix into `k` groups with exactly the algorithm
//! and defaults of scikit-learn's `KMeans` (greedy k-means++, Lloyd iterations, the same
//! convergence rules), in parallel, with results that depend on the seed and never on the
//! number of threads.
//!
//! ```
//! use kentro::{KMeans, datasets::Blobs, metrics::adjusted_rand_score};
//!
//! // The scikit-learn K-Means tutorial: 300 points around 3 centres.
//! let (x, truth) = Blobs::new(300).centers(3).cluster_std(0.6).seed(0).generate()?;
//! let model = KMeans::params(3).seed(0).fit(x.view())?;
//!
//! println!("inertia {:.2} after {} iterations", model.inertia(), model.n_iter());
//! assert!(adjusted_rand_score(&truth, model.labels()) > 0.95);
//!
//! // New points go to their nearest centre.
//! let new = ndarray::array![[0.0, 0.0], [5.0, 5.0]];
//! assert_eq!(model.predict(new.view())?.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Settings are checked before any work ([`KMeansParams::check`]); data is checked by `fit`
//! (non-finite values, too few samples, bad weights), and every refusal is a [`KMeansError`]
//! that names the value. Threads follow rayon's global pool (`RAYON_NUM_THREADS`), or run the
//! fit inside a `rayon::ThreadPool::install` of your own.

mod algo;
pub mod datasets;
mod error;
mod float;
mod init;
mod kernels;
mod memory;
pub mod metrics;
mod model;
mod numpy_random;
mod observer;
pub mod outliers;
mod parallel;
mod params;
pub mod preprocessing;
pub mod profile;
mod rng;
pub mod select_k;
mod sparse;
mod spherical;
mod validate;

pub use error::{KMeansError, ParamError};
pub use float::Float;
pub use init::{kmeans_plusplus, kmeans_plusplus_from_state};
pub use model::{FORMAT_NAME, FORMAT_VERSION, FitWarning, KMeans, write_atomic};
pub use numpy_random::RandomState;
pub use observer::{Convergence, NoObserver, Observer};
pub use params::{Algorithm, Init, KMeansParams, NInit, ValidKMeansParams};
pub use select_k::{SelectK, SelectKResult};
pub use sparse::{CsrMatrix, CsrView};
pub use spherical::SphericalKMeans;
