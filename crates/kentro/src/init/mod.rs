//! Initial centres: greedy k-means++ (the default) and weighted random sampling.

mod kmeans_plusplus;

pub(crate) use kmeans_plusplus::{draw_by_mass, kmeans_plusplus_indices};

use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::error::{KMeansError, ParamError};
use crate::float::Float;
use crate::numpy_random::{NumpyRandom, RandomState};
use crate::observer::NoObserver;
use crate::params::default_local_trials;
use crate::validate::{check_data, check_weights, safe_scale};

/// Greedy k-means++ seeding, as `sklearn.cluster.kmeans_plusplus`: returns the chosen centres
/// (rows of `x`) and their row indices.
///
/// The first centre is a sample drawn with probability proportional to its weight; each next one
/// is the best of `n_local_trials` candidates (default `2 + floor(ln k)`) drawn with probability
/// proportional to weight × squared distance to the nearest chosen centre, where "best" means the
/// lowest resulting potential (weighted sum of squared distances).
///
/// ```
/// use kentro::{kmeans_plusplus, datasets::Blobs};
/// let (x, _) = Blobs::new(200).centers(4).seed(1).generate().unwrap();
/// let (centers, indices) = kmeans_plusplus(x.view(), 4, None, 0, None).unwrap();
/// assert_eq!(centers.row(0), x.row(indices[0]));
/// ```
pub fn kmeans_plusplus<F: Float>(
    x: ArrayView2<F>,
    n_clusters: usize,
    sample_weight: Option<ArrayView1<f64>>,
    seed: u64,
    n_local_trials: Option<usize>,
) -> Result<(Array2<F>, Vec<usize>), KMeansError> {
    seeding(x, n_clusters, sample_weight, NumpyRandom::new(seed), n_local_trials)
}

/// [`kmeans_plusplus`] drawing from a numpy `RandomState`'s `state` onwards (as
/// `sklearn.cluster.kmeans_plusplus` with that `random_state`) rather than from a seed.
pub fn kmeans_plusplus_from_state<F: Float>(
    x: ArrayView2<F>,
    n_clusters: usize,
    sample_weight: Option<ArrayView1<f64>>,
    state: &RandomState,
    n_local_trials: Option<usize>,
) -> Result<(Array2<F>, Vec<usize>), KMeansError> {
    seeding(x, n_clusters, sample_weight, NumpyRandom::from_state(state), n_local_trials)
}

fn seeding<F: Float>(
    x: ArrayView2<F>,
    n_clusters: usize,
    sample_weight: Option<ArrayView1<f64>>,
    mut rng: NumpyRandom,
    n_local_trials: Option<usize>,
) -> Result<(Array2<F>, Vec<usize>), KMeansError> {
    if n_clusters == 0 {
        return Err(ParamError::NClusters(0).into());
    }
    if n_local_trials == Some(0) {
        return Err(ParamError::NLocalTrials(0).into());
    }
    let max_abs = check_data(x)?;
    if x.nrows() < n_clusters {
        return Err(KMeansError::TooFewSamples { n_samples: x.nrows(), n_clusters });
    }
    let weights = sample_weight.map(|w| check_weights(w, x.nrows())).transpose()?;
    let trials = n_local_trials.unwrap_or_else(|| default_local_trials(n_clusters));
    let scale = safe_scale::<F>(max_abs);
    let indices = if scale == 1.0 && x.is_standard_layout() {
        kmeans_plusplus_indices(x, max_abs, weights.as_deref(), n_clusters, trials, &mut rng, &NoObserver)?
    } else {
        // Scaled by a power of two: the largest magnitude scales exactly.
        let scaled = x.mapv(|v| F::from_f64(v.to_f64() * scale));
        let (w, max_abs) = (weights.as_deref(), F::from_f64(max_abs * scale).to_f64());
        kmeans_plusplus_indices(scaled.view(), max_abs, w, n_clusters, trials, &mut rng, &NoObserver)?
    };
    Ok((x.select(ndarray::Axis(0), &indices), indices))
}
