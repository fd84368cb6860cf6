//! Greedy k-means++ with scikit-learn's candidate rule.

use ndarray::ArrayView2;

use crate::float::Float;
use crate::kernels::sq_dist;
use crate::parallel::par_blocks;
use crate::rng::Rng;

/// Row indices of `n_clusters` greedy k-means++ centres of `x` (standard layout, finite, with at
/// least `n_clusters` rows).
pub(crate) fn kmeans_plusplus_indices<F: Float>(
    x: ArrayView2<F>,
    weights: Option<&[f64]>,
    n_clusters: usize,
    n_local_trials: usize,
    rng: &mut Rng,
) -> Vec<usize> {
    let n = x.nrows();
    let d = x.ncols();
    let data = x.as_slice().expect("standard layout");
    let row = |i: usize| &data[i * d..(i + 1) * d];
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);

    // First centre: a sample drawn in proportion to its weight.
    let total_weight: f64 = weights.map_or(n as f64, |w| w.iter().sum());
    let first = draw_by_mass(n, &weight, &[rng.uniform() * total_weight], false)[0];
    let mut indices = vec![first];

    // closest[i]: squared distance of sample i to its nearest chosen centre.
    let mut closest = vec![F::ZERO; n];
    let c0 = row(first);
    par_blocks(
        n,
        1,
        &mut closest,
        &|s, _e, out: &mut [F]| {
            for (o, i) in out.iter_mut().zip(s..) {
                *o = sq_dist(row(i), c0);
            }
        },
        &|_, _| {},
    );
    let mass = |closest: &[F], i: usize| weight(i) * closest[i].to_f64();
    let mut potential: f64 = weighted_sum(&closest, weights);

    let mut candidate_dist = vec![F::ZERO; n * n_local_trials];
    for _ in 1..n_clusters {
        let targets: Vec<f64> = (0..n_local_trials).map(|_| rng.uniform() * potential).collect();
        let candidates = draw_by_mass(n, &|i| mass(&closest, i), &targets, true);

        // All candidates in one pass over the data: min(closest, d²(x, candidate)) per sample,
        // and each candidate's potential, summed along the fixed tree.
        let t = candidates.len();
        let pots: Vec<f64> = par_blocks(
            n,
            t,
            &mut candidate_dist,
            &|s, _e, out: &mut [F]| {
                let mut pots = vec![0.0f64; t];
                for (r, i) in out.chunks_exact_mut(t).zip(s..) {
                    let xi = row(i);
                    for (c, &cand) in candidates.iter().enumerate() {
                        let dist = sq_dist(xi, row(cand));
                        let m = if dist < closest[i] { dist } else { closest[i] };
                        r[c] = m;
                        pots[c] += weight(i) * m.to_f64();
                    }
                }
                pots
            },
            &|a: &mut Vec<f64>, b| a.iter_mut().zip(b).for_each(|(x, y)| *x += y),
        );
        // The lowest potential wins; ties go to the first candidate drawn.
        let mut best = 0;
        for c in 1..t {
            if pots[c] < pots[best] {
                best = c;
            }
        }
        potential = pots[best];
        for (ci, r) in closest.iter_mut().zip(candidate_dist.chunks_exact(t)) {
            *ci = r[best];
        }
        indices.push(candidates[best]);
    }
    indices
}

/// Σ w_i · v_i in f64, in the fixed order of the leaf tree.
fn weighted_sum<F: Float>(v: &[F], weights: Option<&[f64]>) -> f64 {
    par_blocks(
        v.len(),
        0,
        &mut [] as &mut [u8],
        &|s, e, _| (s..e).map(|i| weights.map_or(1.0, |w| w[i]) * v[i].to_f64()).sum::<f64>(),
        &|a: &mut f64, b| *a += b,
    )
}

/// For each target t (in [0, total mass)), the sample where the running sum of `mass` first
/// reaches t: `>= t` (numpy's `searchsorted` on the cumulative sum, side "left") when `left`,
/// `> t` (numpy's `choice`) otherwise. Rounding past the end gives the last sample with mass.
fn draw_by_mass(n: usize, mass: &dyn Fn(usize) -> f64, targets: &[f64], left: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by(|&a, &b| targets[a].total_cmp(&targets[b]));
    let mut out = vec![n - 1; targets.len()];
    let mut last_with_mass = n - 1;
    let mut cum = 0.0f64;
    let mut next = 0;
    for i in 0..n {
        let m = mass(i);
        cum += m;
        if m > 0.0 {
            last_with_mass = i;
        }
        while next < order.len() {
            let t = targets[order[next]];
            let reached = if left { cum >= t } else { cum > t };
            if !reached {
                break;
            }
            out[order[next]] = i;
            next += 1;
        }
        if next == order.len() {
            return out;
        }
    }
    for &o in &order[next..] {
        out[o] = last_with_mass;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draw_by_mass_follows_cumulative_sum() {
        let m = [0.0, 1.0, 0.0, 2.0];
        let f = |i: usize| m[i];
        assert_eq!(draw_by_mass(4, &f, &[0.5, 1.0, 1.5, 2.999], true), vec![1, 1, 3, 3]);
        assert_eq!(draw_by_mass(4, &f, &[1.0], false), vec![3]);
        // Past the end by rounding: the last sample with mass.
        let g = |i: usize| [1.0, 1.0, 0.0][i];
        assert_eq!(draw_by_mass(3, &g, &[2.5], true), vec![1]);
    }

    #[test]
    fn picks_distinct_points_when_possible() {
        let x = ndarray::Array2::from_shape_fn((50, 2), |(i, j)| (i * 7 + j * 3) as f64 % 11.0);
        let mut rng = Rng::new(0);
        let idx = kmeans_plusplus_indices(x.view(), None, 5, 3, &mut rng);
        for a in 0..5 {
            for b in 0..a {
                assert_ne!(x.row(idx[a]), x.row(idx[b]));
            }
        }
    }
}
