//! Greedy k-means++ with scikit-learn's candidate rule.

use ndarray::{Array2, ArrayView2, Axis};

use crate::error::KMeansError;
use crate::float::Float;
use crate::kernels::gemm::dot_products;
use crate::kernels::{LANES, sq_dist};
use crate::observer::Observer;
use multiversion::multiversion;

use crate::parallel::{LEAF_ROWS, Rows, par_blocks, par_blocks_sized};
use crate::rng::Rng;

/// Row indices of `n_clusters` greedy k-means++ centres of `x` (standard layout, finite, with at
/// least `n_clusters` rows).
///
/// The candidate rule is scikit-learn's; the evaluation is accelerated by the triangle inequality
/// (Raff, "Exact Acceleration of K-Means++ and K-Means‖", IJCAI 2021): every sample remembers its
/// nearest chosen centre `c_j`, and a candidate `c` can bring it closer only if
/// `‖c − c_j‖ < 2·√D(x)`, so most samples are settled without reading them. All candidates of a
/// step are evaluated in one pass over the data and compared by the potential they remove (which
/// is what "the lowest resulting potential" means).
pub(crate) fn kmeans_plusplus_indices<F: Float>(
    x: ArrayView2<F>,
    weights: Option<&[f64]>,
    n_clusters: usize,
    n_local_trials: usize,
    rng: &mut Rng,
    observer: &dyn Observer,
) -> Result<Vec<usize>, KMeansError> {
    let n = x.nrows();
    let d = x.ncols();
    let data = x.as_slice().expect("standard layout");
    let row = |i: usize| &data[i * d..(i + 1) * d];
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);

    // First centre: a sample drawn in proportion to its weight.
    let total_weight: f64 = weights.map_or(n as f64, |w| w.iter().sum());
    let first = draw_by_mass(n, &weight, &[rng.uniform() * total_weight], false)[0];
    let mut chosen = vec![first];
    let mut nearest = vec![0u32; n];
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
    let sq_norms = sq_norms(data, d);
    // Wide rows: keep each candidate's improved distances from the evaluation (n × trials, small
    // beside the input), so that adding the best one does not read the data again.
    let mut found = vec![F::ZERO; if d >= 2 * n_local_trials { n * n_local_trials } else { 0 }];

    for _ in 1..n_clusters {
        if observer.should_stop() {
            return Err(KMeansError::Cancelled);
        }
        let mass = |i: usize| weight(i) * closest[i].to_f64();
        let potential: f64 = (0..n).map(mass).sum();
        let targets: Vec<f64> = (0..n_local_trials).map(|_| rng.uniform() * potential).collect();
        let candidates = draw_by_mass(n, &mass, &targets, true);
        // Distances from each candidate to each chosen centre, for the triangle inequality.
        let gaps: Vec<Vec<f64>> = candidates
            .iter()
            .map(|&c| chosen.iter().map(|&j| sq_dist(row(c), row(j)).to_f64().sqrt()).collect())
            .collect();
        let cand_rows = x.select(Axis(0), &candidates);
        let gains = gains(data, d, weights, &cand_rows, &gaps, &closest, &nearest, &sq_norms, &mut found);
        // The lowest resulting potential is the largest gain; ties go to the first drawn.
        let mut best = 0;
        for c in 1..candidates.len() {
            if gains[c] > gains[best] {
                best = c;
            }
        }
        let label = chosen.len() as u32;
        if found.is_empty() {
            settle(data, d, candidates[best], &gaps[best], label, &mut closest, &mut nearest);
        } else {
            settle_found(&found, candidates.len(), best, label, &mut closest, &mut nearest);
        }
        chosen.push(candidates[best]);
    }
    Ok(chosen)
}

/// Relative allowance for rounding in the triangle-inequality test: a sample is skipped only
/// when the candidate is farther than twice its distance by more than the rounding of distances.
const SLACK: f64 = 1e-5;

/// Whether candidate at distance `gap` from a sample's nearest centre may bring the sample, at
/// squared distance `current` from it, closer.
#[inline(always)]
fn may_improve<F: Float>(gap: f64, current: F) -> bool {
    let r = current.to_f64().sqrt();
    gap < 2.0 * r * (1.0 + SLACK)
}

/// ‖x‖² of every row, for the matrix-product evaluation (empty when it is not used).
fn sq_norms<F: Float>(data: &[F], d: usize) -> Vec<F> {
    if d < GEMM_MIN_FEATURES {
        return Vec::new();
    }
    data.chunks_exact(d).map(|x| x.iter().map(|&v| v * v).sum()).collect()
}

/// Evaluates the candidates of a step: for each, the weighted potential it would remove, summed
/// along the fixed tree.
fn gains<F: Float>(
    data: &[F],
    d: usize,
    weights: Option<&[f64]>,
    candidates: &Array2<F>,
    gaps: &[Vec<f64>],
    closest: &[F],
    nearest: &[u32],
    sq_norms: &[F],
    found: &mut [F],
) -> Vec<f64> {
    let t = candidates.nrows();
    let n = closest.len();
    let per_row = if found.is_empty() { 0 } else { t };
    let cand_norms: Vec<F> = candidates.outer_iter().map(|c| c.iter().map(|&v| v * v).sum()).collect();
    let gemm = d >= GEMM_MIN_FEATURES;
    par_blocks_sized(
        if gemm { GEMM_LEAF_ROWS } else { LEAF_ROWS },
        n,
        Rows::new(found, per_row),
        &|s, e, found: Rows<F>| {
            let mut gain = vec![0.0f64; t];
            let rows = &data[s * d..e * d];
            if d < LANES {
                // Narrow rows: every distance costs less than the test that would skip it.
                found.data.fill(F::MAX);
                evaluate_narrow(rows, s, weights, candidates, closest, &mut gain, found.data);
                return gain;
            }
            let dots = gemm.then(|| {
                let block = ArrayView2::from_shape((e - s, d), rows).expect("whole rows");
                let mut dots = Array2::from_elem((e - s, t), F::ZERO);
                dot_products(block, candidates.view(), &mut dots);
                dots
            });
            let leaf = Leaf {
                rows,
                d,
                start: s,
                weights,
                candidates,
                cand_norms: &cand_norms,
                x_norms: sq_norms,
                gaps,
                closest,
                nearest,
            };
            evaluate(&leaf, dots.as_ref(), &mut gain, found.data);
            gain
        },
        &|a: &mut Vec<f64>, b| a.iter_mut().zip(b).for_each(|(x, y)| *x += y),
    )
}

/// Features from which the candidates' distances come from a matrix product.
const GEMM_MIN_FEATURES: usize = 24;
/// Rows per matrix product: thin products need tall blocks to run at speed.
const GEMM_LEAF_ROWS: usize = 16 * LEAF_ROWS;

/// One leaf of a candidate evaluation.
struct Leaf<'a, F> {
    rows: &'a [F],
    d: usize,
    start: usize,
    weights: Option<&'a [f64]>,
    candidates: &'a Array2<F>,
    cand_norms: &'a [F],
    /// ‖x‖² of every sample (only with a matrix product).
    x_norms: &'a [F],
    gaps: &'a [Vec<f64>],
    closest: &'a [F],
    nearest: &'a [u32],
}

/// Adds each candidate's gain over one leaf. With `dots` (rows × candidates) the products screen
/// out candidates that cannot improve a sample; every distance that counts is computed directly.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn evaluate<F: Float>(leaf: &Leaf<F>, dots: Option<&Array2<F>>, gain: &mut [f64], found: &mut [F]) {
    let d = leaf.d;
    let c = leaf.candidates.as_slice().expect("standard layout");
    let two = F::ONE + F::ONE;
    let err = expansion_error::<F>(d);
    for (o, x) in leaf.rows.chunks_exact(d).enumerate() {
        let i = leaf.start + o;
        let current = leaf.closest[i];
        let j = leaf.nearest[i] as usize;
        let w = leaf.weights.map_or(1.0, |w| w[i]);
        let t = gain.len();
        let mut found_row = found.get_mut(o * t..(o + 1) * t);
        if let Some(r) = found_row.as_deref_mut() {
            r.fill(F::MAX);
        }
        for (cand, g) in gain.iter_mut().enumerate() {
            if !may_improve(leaf.gaps[cand][j], current) {
                continue;
            }
            if let Some(dots) = dots {
                // The expansion only screens: a candidate that may beat `current` within the
                // expansion's rounding error is measured directly, so every distance kept is
                // the direct kernel's, whatever the magnitudes.
                let x2 = leaf.x_norms[i];
                let v = x2 + leaf.cand_norms[cand] - two * dots[[o, cand]];
                let reach = x2.to_f64().sqrt() + leaf.cand_norms[cand].to_f64().sqrt();
                if v.to_f64() - err * reach * reach >= current.to_f64() {
                    continue;
                }
            }
            let dist = sq_dist(x, &c[cand * d..(cand + 1) * d]);
            if dist < current {
                *g += w * (current - dist).to_f64();
                if let Some(r) = found_row.as_deref_mut() {
                    r[cand] = dist;
                }
            }
        }
    }
}

/// Rows per across-rows block of the narrow kernels.
const NARROW_ROWS: usize = 8;

/// Copies `NARROW_ROWS` rows of `d` features into `columns`, feature-major, so that one feature
/// of all the rows is one vector.
#[inline(always)]
fn transpose<F: Float>(chunk: &[F], d: usize, columns: &mut [[F; NARROW_ROWS]]) {
    for (l, x) in chunk.chunks_exact(d).enumerate() {
        for (col, &v) in columns.iter_mut().zip(x) {
            col[l] = v;
        }
    }
}

/// Squared distances of the transposed rows to `c`: for `d < LANES`, [`sq_dist`] is the plain
/// left-to-right sum, so this is bit-identical to it.
#[inline(always)]
fn narrow_dists<F: Float>(columns: &[[F; NARROW_ROWS]], c: &[F]) -> [F; NARROW_ROWS] {
    let mut dist = [F::ZERO; NARROW_ROWS];
    for (col, &cf) in columns.iter().zip(c) {
        for l in 0..NARROW_ROWS {
            let u = col[l] - cf;
            dist[l] += u * u;
        }
    }
    dist
}

/// [`evaluate`] for rows narrower than [`LANES`], without the triangle inequality: every
/// candidate against every sample of the leaf (rows `start..` of the data), `NARROW_ROWS`
/// samples per vector.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn evaluate_narrow<F: Float>(
    rows: &[F],
    start: usize,
    weights: Option<&[f64]>,
    candidates: &Array2<F>,
    closest: &[F],
    gain: &mut [f64],
    found: &mut [F],
) {
    let d = candidates.ncols();
    let t = gain.len();
    let c = candidates.as_slice().expect("standard layout");
    let n = rows.len() / d;
    let full = n / NARROW_ROWS * NARROW_ROWS;
    let mut columns = vec![[F::ZERO; NARROW_ROWS]; d];
    let mut lane_gain = vec![[0.0f64; NARROW_ROWS]; t];
    for (b, chunk) in rows[..full * d].chunks_exact(NARROW_ROWS * d).enumerate() {
        transpose(chunk, d, &mut columns);
        let s = start + b * NARROW_ROWS;
        let current: [F; NARROW_ROWS] = closest[s..s + NARROW_ROWS].try_into().expect("a full block");
        let mut w = [1.0f64; NARROW_ROWS];
        if let Some(weights) = weights {
            w.copy_from_slice(&weights[s..s + NARROW_ROWS]);
        }
        for (cand, lanes) in lane_gain.iter_mut().enumerate() {
            let dist = narrow_dists(&columns, &c[cand * d..(cand + 1) * d]);
            for l in 0..NARROW_ROWS {
                let diff = if dist[l] < current[l] { (current[l] - dist[l]).to_f64() } else { 0.0 };
                lanes[l] += w[l] * diff;
            }
            if !found.is_empty() {
                for l in 0..NARROW_ROWS {
                    if dist[l] < current[l] {
                        found[(b * NARROW_ROWS + l) * t + cand] = dist[l];
                    }
                }
            }
        }
    }
    for (g, lanes) in gain.iter_mut().zip(&lane_gain) {
        *g += lanes.iter().sum::<f64>();
    }
    for (o, x) in rows.chunks_exact(d).enumerate().skip(full) {
        let i = start + o;
        let w = weights.map_or(1.0, |w| w[i]);
        for (cand, g) in gain.iter_mut().enumerate() {
            let dist = sq_dist(x, &c[cand * d..(cand + 1) * d]);
            if dist < closest[i] {
                *g += w * (closest[i] - dist).to_f64();
                if let Some(r) = found.get_mut(o * t + cand) {
                    *r = dist;
                }
            }
        }
    }
}

/// Relative error of `‖x‖² + ‖c‖² − 2 x·c` as a squared distance, in units of (‖x‖ + ‖c‖)²
/// (twice the bound of both the expansion and the direct sum, as in the GEMM assignment).
fn expansion_error<F: Float>(d: usize) -> f64 {
    let u = F::UNIT_ROUNDOFF;
    let gamma = |m: usize| (m as f64 * u) / (1.0 - m as f64 * u);
    4.0 * (gamma(d + 2) + gamma(d) + 4.0 * u)
}

/// Makes candidate `best` of `t` chosen centre number `label`, from the distances [`gains`]
/// found (`F::MAX` where it does not improve a sample).
fn settle_found<F: Float>(
    found: &[F],
    t: usize,
    best: usize,
    label: u32,
    closest: &mut [F],
    nearest: &mut [u32],
) {
    for ((current, near), r) in closest.iter_mut().zip(nearest.iter_mut()).zip(found.chunks_exact(t)) {
        if r[best] < *current {
            *current = r[best];
            *near = label;
        }
    }
}

/// Makes sample `center` (at distances `gaps` from the chosen centres) chosen centre number
/// `label`: every sample it is now nearer to records it.
fn settle<F: Float>(
    data: &[F],
    d: usize,
    center: usize,
    gaps: &[f64],
    label: u32,
    closest: &mut [F],
    nearest: &mut [u32],
) {
    let c = &data[center * d..(center + 1) * d];
    par_blocks_sized(
        LEAF_ROWS,
        closest.len(),
        (Rows::new(closest, 1), Rows::new(nearest, 1)),
        &|s, _e, (cl, ne): (Rows<F>, Rows<u32>)| settle_leaf(data, d, s, c, gaps, label, cl.data, ne.data),
        &|_, _| {},
    );
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn settle_leaf<F: Float>(
    data: &[F],
    d: usize,
    start: usize,
    c: &[F],
    gaps: &[f64],
    label: u32,
    closest: &mut [F],
    nearest: &mut [u32],
) {
    let mut done = 0;
    if d < LANES {
        // Narrow rows: measure every sample, `NARROW_ROWS` per vector.
        let mut columns = vec![[F::ZERO; NARROW_ROWS]; d];
        let rows = &data[start * d..(start + closest.len()) * d];
        for ((chunk, cur), near) in rows
            .chunks_exact(NARROW_ROWS * d)
            .zip(closest.chunks_exact_mut(NARROW_ROWS))
            .zip(nearest.chunks_exact_mut(NARROW_ROWS))
        {
            transpose(chunk, d, &mut columns);
            let dist = narrow_dists(&columns, c);
            for l in 0..NARROW_ROWS {
                let better = dist[l] < cur[l];
                cur[l] = if better { dist[l] } else { cur[l] };
                near[l] = if better { label } else { near[l] };
            }
            done += NARROW_ROWS;
        }
    }
    for (o, (current, near)) in closest.iter_mut().zip(nearest.iter_mut()).enumerate().skip(done) {
        if !may_improve(gaps[*near as usize], *current) {
            continue;
        }
        let i = start + o;
        let dist = sq_dist(&data[i * d..(i + 1) * d], c);
        if dist < *current {
            *current = dist;
            *near = label;
        }
    }
}

/// For each target t (in [0, total mass)), the sample where the running sum of `mass` first
/// reaches t: `>= t` (numpy's `searchsorted` on the cumulative sum, side "left") when `left`,
/// `> t` (numpy's `choice`) otherwise. Rounding past the end gives the last sample with mass.
pub(crate) fn draw_by_mass(n: usize, mass: &dyn Fn(usize) -> f64, targets: &[f64], left: bool) -> Vec<usize> {
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
        let idx = kmeans_plusplus_indices(x.view(), None, 5, 3, &mut rng, &crate::NoObserver).unwrap();
        for a in 0..5 {
            for b in 0..a {
                assert_ne!(x.row(idx[a]), x.row(idx[b]));
            }
        }
    }
}
