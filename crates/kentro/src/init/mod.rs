//! Initial centres: greedy k-means++ (the default) and weighted random sampling.

mod kmeans_plusplus;

pub(crate) use kmeans_plusplus::{draw_by_mass, kmeans_plusplus_indices};

use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::algo::{Prepared, Scan};

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
/// Unlike scikit-learn's, big data (at least 2²⁰ values) of more than 16 features that lie far
/// from the origin (the squared norm of their mean above their total variance), and need no
/// scaling, are seeded from a copy centred on their column means, as a fit seeds them: the
/// distances are the same but for rounding, and the screen's error bounds, which grow with
/// ‖x‖², tighter. The copy costs the data's size in memory again.
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
    // Wide rows are screened, with error bounds that grow with ‖x‖²: the column moments of big
    // data come with the check, to centre them where they lie far from the origin.
    let wide = kmeans_plusplus::screened(x.ncols()) && x.len() >= CENTRE_MIN_VALUES;
    let (max_abs, moments) = if wide {
        let scan = Scan::with_squares(x)?;
        (scan.max_abs, Some(scan))
    } else {
        (check_data(x)?, None)
    };
    if x.nrows() < n_clusters {
        return Err(KMeansError::TooFewSamples { n_samples: x.nrows(), n_clusters });
    }
    let weights = sample_weight.map(|w| check_weights(w, x.nrows())).transpose()?;
    let trials = n_local_trials.unwrap_or_else(|| default_local_trials(n_clusters));
    let scale = safe_scale::<F>(max_abs);
    let centred = moments.filter(|_| scale == 1.0).and_then(|scan| centred_if_offset(x, scan));
    let indices = if let Some((centred, max_abs)) = centred {
        let w = weights.as_deref();
        kmeans_plusplus_indices(centred.view(), max_abs, w, n_clusters, trials, &mut rng, &NoObserver)?
    } else if scale == 1.0 && x.is_standard_layout() {
        kmeans_plusplus_indices(x, max_abs, weights.as_deref(), n_clusters, trials, &mut rng, &NoObserver)?
    } else {
        // Scaled by a power of two: the largest magnitude scales exactly.
        let scaled = x.mapv(|v| F::from_f64(v.to_f64() * scale));
        let (w, max_abs) = (weights.as_deref(), F::from_f64(max_abs * scale).to_f64());
        kmeans_plusplus_indices(scaled.view(), max_abs, w, n_clusters, trials, &mut rng, &NoObserver)?
    };
    Ok((x.select(ndarray::Axis(0), &indices), indices))
}

/// The least number of values for which wide data far from the origin are centred before the
/// seeding: a guess, above the sizes where the copy and the moments cost more than they save
/// (digits, 1797 × 64, centred: five seedings in 2.7 against 2.0 ms).
const CENTRE_MIN_VALUES: usize = 1 << 20;

/// `x` less its column means (rounded to `F`: [`Prepared`], as a fit centres its data) and the
/// copy's largest magnitude, where the data lie far from the origin ([`Scan::far_from_origin`]:
/// where centring at least halves the mean ‖x‖², and with it the screen's error bounds, which
/// grow with ‖x‖² + ‖c‖²: rows far from the origin are then left open and measured directly).
/// Measured, five seedings of blobs 200k × 32 (two threads): moved by 10³ or 10⁴, 2.3–2.5 s
/// uncentred, 0.50–0.57 s centred (moved by 10⁴); not moved, 0.42–0.44 s. The distances, hence
/// the centres chosen, are the same but for rounding. `None` where the data are near enough the
/// origin.
///
/// `scan` is the data's [`Scan`] with squares ([`Scan::with_squares`]).
fn centred_if_offset<F: Float>(x: ArrayView2<F>, scan: Scan) -> Option<(Array2<F>, f64)> {
    if !scan.far_from_origin::<F>(x.nrows()) {
        return None;
    }
    // Centred as a fit centres its data (the same means, from the same sums).
    let prepared = Prepared::new(x, 1.0, scan, &NoObserver, false).expect("no observer to stop it");
    let max_abs = prepared.max_abs();
    Some((prepared.x.into_owned(), max_abs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(offset: f64) -> Array2<f64> {
        // Big enough to be centred.
        let n = CENTRE_MIN_VALUES / 24 + 1;
        let (x, _) = crate::datasets::Blobs::new(n).n_features(24).centers(6).seed(5).generate().unwrap();
        x.mapv(|v| v + offset)
    }

    /// Data far from the origin are centred on their rounded column means before the seeding;
    /// data near it are not.
    #[test]
    fn data_far_from_the_origin_are_centred() {
        let x = blobs(1e3);
        let scan = Scan::with_squares(x.view()).unwrap();
        assert_eq!(scan.max_abs, x.iter().fold(0.0f64, |m, v| m.max(v.abs())));
        let (sums, squares_of) = (scan.sums.clone(), scan.squares.clone());
        let (centred, centred_max) = centred_if_offset(x.view(), scan).expect("far from the origin");
        let n = x.nrows() as f64;
        for (j, column) in x.columns().into_iter().enumerate() {
            // The column's sum (in another order: within rounding), and each value less the mean
            // exactly as rounded.
            let (sum, squares): (f64, f64) = (column.sum(), column.iter().map(|v| v * v).sum());
            assert!((sums[j] - sum).abs() <= 1e-10 * column.iter().map(|v| v.abs()).sum::<f64>());
            assert!((squares_of[j] - squares).abs() <= 1e-10 * squares);
            let mean = sums[j] / n;
            for (c, v) in centred.column(j).iter().zip(column) {
                assert_eq!(*c, v - mean, "column {j}");
            }
        }
        assert_eq!(centred_max, centred.iter().fold(0.0f64, |m, v| m.max(v.abs())));
        let near = Scan::with_squares(blobs(0.0).view()).unwrap();
        assert!(centred_if_offset(blobs(0.0).view(), near).is_none());
    }

    /// Centring changes no choice but by rounding: wide data far from the origin (centred, as
    /// the first assertion checks) are seeded with the samples that measuring every distance of
    /// the data as they are picks, and the centres returned are the caller's rows.
    #[test]
    fn far_data_are_seeded_as_measured_where_they_are() {
        let far = blobs(1024.0);
        let scan = Scan::with_squares(far.view()).unwrap();
        assert!(centred_if_offset(far.view(), scan).is_some());
        let max_abs = far.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for seed in 0..4 {
            let (centres, chosen) = kmeans_plusplus(far.view(), 6, None, seed, None).unwrap();
            let mut rng = NumpyRandom::new(seed);
            let trials = default_local_trials(6);
            let measured = kmeans_plusplus::brute_indices(far.view(), max_abs, 6, trials, &mut rng);
            assert_eq!(chosen, measured, "seed {seed}");
            assert_eq!(centres, far.select(ndarray::Axis(0), &chosen));
        }
    }
}
