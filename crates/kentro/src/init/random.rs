//! Random initial centres: distinct samples drawn in proportion to their weight.

use crate::rng::Rng;

/// `k` distinct sample indices drawn without replacement with probabilities proportional to the
/// weights (successive sampling, as numpy's `choice(replace=False, p=w)`), by the
/// Efraimidis–Spirakis keys `ln(u) / w`: the `k` largest keys win. Zero-weight samples come last.
pub(crate) fn random_indices(n: usize, weights: Option<&[f64]>, k: usize, rng: &mut Rng) -> Vec<usize> {
    let mut keys: Vec<(f64, usize)> = (0..n)
        .map(|i| {
            let u = rng.uniform_open0();
            let w = weights.map_or(1.0, |w| w[i]);
            let key = if w > 0.0 { u.ln() / w } else { f64::NEG_INFINITY };
            (key, i)
        })
        .collect();
    keys.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keys.truncate(k);
    keys.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_and_weighted() {
        let mut rng = Rng::new(9);
        let w = [0.0, 1.0, 0.0, 100.0, 1.0];
        let mut hits = [0usize; 5];
        for _ in 0..2000 {
            let idx = random_indices(5, Some(&w), 2, &mut rng);
            assert_ne!(idx[0], idx[1]);
            assert!(!idx.contains(&0) && !idx.contains(&2));
            for i in idx {
                hits[i] += 1;
            }
        }
        assert!(hits[3] > 1990, "the heavy sample is almost always drawn: {hits:?}");
    }
}
