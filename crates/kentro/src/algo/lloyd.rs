//! Exact Lloyd iterations with scikit-learn's rules: stop on unchanged labels or a small total
//! centre shift, relocate empty clusters to far points, and finish with an assignment so that
//! labels agree with the final centres.

use ndarray::{Array2, ArrayView2, s};

use crate::error::KMeansError;
use crate::float::Float;
use crate::kernels::{Assigner, row_norms, sq_dist};
use crate::observer::Observer;
use crate::parallel::{LEAF_ROWS, par_blocks, par_blocks_sized};

/// The outcome of one run from one start.
#[derive(Debug, Clone)]
pub(crate) struct Run<F> {
    pub labels: Vec<usize>,
    pub centers: Array2<F>,
    pub inertia: f64,
    pub n_iter: usize,
}

/// What one pass over the data gathers, per cluster, in `f64`.
struct Partial {
    sums: Vec<f64>,
    weights: Vec<f64>,
    inertia: f64,
    changed: usize,
}

impl Partial {
    fn zeros(k: usize, d: usize) -> Self {
        Partial { sums: vec![0.0; k * d], weights: vec![0.0; k], inertia: 0.0, changed: 0 }
    }

    fn merge(&mut self, other: Partial) {
        self.sums.iter_mut().zip(&other.sums).for_each(|(a, b)| *a += b);
        self.weights.iter_mut().zip(&other.weights).for_each(|(a, b)| *a += b);
        self.inertia += other.inertia;
        self.changed += other.changed;
    }
}

/// Settings of a run that do not change between iterations.
pub(crate) struct RunConfig<'a> {
    pub max_iter: usize,
    /// Absolute tolerance on the summed squared centre shift.
    pub tol: f64,
    /// Run number, for the observer.
    pub run: usize,
    /// Factor turning internal inertias into the caller's units.
    pub inertia_unit: f64,
    pub observer: &'a dyn Observer,
}

/// Runs Lloyd from `centers` on `x` (standard layout).
pub(crate) fn lloyd<F: Float>(
    x: ArrayView2<F>,
    weights: Option<&[f64]>,
    mut centers: Array2<F>,
    cfg: &RunConfig,
) -> Result<Run<F>, KMeansError> {
    let (n, d) = x.dim();
    let k = centers.nrows();
    let data = x.as_slice().expect("standard layout");
    let mut labels = vec![usize::MAX; n];
    let x_norms = row_norms(x);
    let mut strict = false;
    let mut n_iter = cfg.max_iter;
    for iter in 0..cfg.max_iter {
        if cfg.observer.should_stop() {
            return Err(KMeansError::Cancelled);
        }
        let mut p = assign_and_sum(x, &x_norms, weights, centers.view(), &mut labels);
        cfg.observer.iteration(cfg.run, iter, p.inertia * cfg.inertia_unit);
        relocate_empty(data, d, weights, centers.as_slice().unwrap(), &labels, &mut p);
        let new_centers = average::<F>(&p, k, d);
        let shift: f64 = centers
            .iter()
            .zip(new_centers.iter())
            .map(|(&a, &b)| {
                let diff = a.to_f64() - b.to_f64();
                diff * diff
            })
            .sum();
        centers = new_centers;
        if p.changed == 0 {
            strict = true;
            n_iter = iter + 1;
            break;
        }
        if shift <= cfg.tol {
            n_iter = iter + 1;
            break;
        }
    }
    if !strict {
        // Labels must agree with the centres returned.
        assign_and_sum(x, &x_norms, weights, centers.view(), &mut labels);
    }
    let inertia = inertia(data, d, weights, centers.as_slice().unwrap(), &labels);
    cfg.observer.run_finished(cfg.run, n_iter, inertia * cfg.inertia_unit);
    Ok(Run { labels, centers, inertia, n_iter })
}

/// Assigns every sample to its nearest centre (updating `labels`, counting changes) and sums the
/// weighted samples, weights and squared distances per cluster.
fn assign_and_sum<F: Float>(
    x: ArrayView2<F>,
    x_norms: &[f64],
    weights: Option<&[f64]>,
    centers: ArrayView2<F>,
    labels: &mut [usize],
) -> Partial {
    let (k, d) = centers.dim();
    let assigner = Assigner::new(centers);
    // Leaves big enough that zeroing and merging their k × d partial sums stays cheap.
    let leaf_rows = (k * d / 16).clamp(LEAF_ROWS, 32 * LEAF_ROWS).next_multiple_of(LEAF_ROWS);
    par_blocks_sized(
        leaf_rows,
        labels.len(),
        1,
        labels,
        &|s, e, out: &mut [usize]| {
            let mut p = Partial::zeros(k, d);
            let block = x.slice(s![s..e, ..]);
            let mut nearest = vec![(0usize, F::ZERO); e - s];
            assigner.nearest_rows(block, &x_norms[s..e], &mut nearest);
            let rows = block.to_slice().expect("standard layout").chunks_exact(d);
            for (i, ((label, &(j, dist)), xi)) in out.iter_mut().zip(&nearest).zip(rows).enumerate() {
                if *label != j {
                    p.changed += 1;
                    *label = j;
                }
                let sums = &mut p.sums[j * d..(j + 1) * d];
                match weights {
                    None => {
                        p.weights[j] += 1.0;
                        p.inertia += dist.to_f64();
                        sums.iter_mut().zip(xi).for_each(|(acc, &v)| *acc += v.to_f64());
                    }
                    Some(w) => {
                        let w = w[s + i];
                        p.weights[j] += w;
                        p.inertia += w * dist.to_f64();
                        sums.iter_mut().zip(xi).for_each(|(acc, &v)| *acc += w * v.to_f64());
                    }
                }
            }
            p
        },
        &|a: &mut Partial, b| a.merge(b),
    )
}

/// Weighted sum of squared distances of every sample to the centre of its label.
fn inertia<F: Float>(data: &[F], d: usize, weights: Option<&[f64]>, centers: &[F], labels: &[usize]) -> f64 {
    par_blocks(
        labels.len(),
        0,
        &mut [] as &mut [u8],
        &|s, e, _| {
            (s..e)
                .map(|i| {
                    let j = labels[i];
                    let dist = sq_dist(&data[i * d..(i + 1) * d], &centers[j * d..(j + 1) * d]);
                    weights.map_or(1.0, |w| w[i]) * dist.to_f64()
                })
                .sum::<f64>()
        },
        &|a: &mut f64, b| *a += b,
    )
}

/// scikit-learn's relocation: each cluster left with zero weight takes one of the samples
/// farthest from their centre (farthest first; among equal distances the lowest index), and that
/// sample's weight moves with it. Nothing moves if every sample sits on its centre.
fn relocate_empty<F: Float>(
    data: &[F],
    d: usize,
    weights: Option<&[f64]>,
    old_centers: &[F],
    labels: &[usize],
    p: &mut Partial,
) {
    let empty: Vec<usize> = (0..p.weights.len()).filter(|&j| p.weights[j] == 0.0).collect();
    if empty.is_empty() {
        return;
    }
    let dist: Vec<F> = (0..labels.len())
        .map(|i| {
            let j = labels[i];
            sq_dist(&data[i * d..(i + 1) * d], &old_centers[j * d..(j + 1) * d])
        })
        .collect();
    if dist.iter().all(|&v| v == F::ZERO) {
        return;
    }
    let mut far: Vec<usize> = (0..labels.len()).collect();
    let by_distance = |a: &usize, b: &usize| dist[*b].partial_cmp(&dist[*a]).unwrap().then(a.cmp(b));
    let m = empty.len().min(far.len());
    if m < far.len() {
        far.select_nth_unstable_by(m - 1, by_distance);
        far.truncate(m);
    }
    far.sort_by(by_distance);
    for (&new, &i) in empty.iter().zip(&far) {
        let w = weights.map_or(1.0, |w| w[i]);
        let old = labels[i];
        let xi = &data[i * d..(i + 1) * d];
        for (c, &v) in xi.iter().enumerate() {
            p.sums[old * d + c] -= v.to_f64() * w;
            p.sums[new * d + c] = v.to_f64() * w;
        }
        p.weights[new] = w;
        p.weights[old] -= w;
    }
}

/// New centres: weighted means, multiplying by the reciprocal weight, in place and in cluster
/// order, exactly as scikit-learn's `_average_centers`. A cluster still empty after relocation
/// (only possible when every sample sits on its centre) copies the heaviest cluster's row as it
/// stands at that moment: its mean if that cluster comes earlier, its weighted sum if it comes
/// later (scikit-learn 1.9's behaviour, kept so that labels agree with it).
fn average<F: Float>(p: &Partial, k: usize, d: usize) -> Array2<F> {
    let mut rows = p.sums.clone();
    let heaviest = (0..k).fold(0, |best, j| if p.weights[j] > p.weights[best] { j } else { best });
    for j in 0..k {
        if p.weights[j] > 0.0 {
            let alpha = 1.0 / p.weights[j];
            rows[j * d..(j + 1) * d].iter_mut().for_each(|v| *v *= alpha);
        } else {
            rows.copy_within(heaviest * d..(heaviest + 1) * d, j * d);
        }
    }
    Array2::from_shape_fn((k, d), |(j, c)| F::from_f64(rows[j * d + c]))
}
