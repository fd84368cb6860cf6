//! numpy's legacy random stream (`numpy.random.RandomState`: MT19937), and the draws
//! scikit-learn's K-Means initialisation and `make_blobs` make from it, so that a seed gives the
//! same initial centres and the same blobs as scikit-learn with the same `random_state`.
//!
//! Only what those need is here: seeding from an integer or continuing a state,
//! `random_sample`, `standard_normal` (the legacy polar method), `shuffle`'s permutation, and
//! `choice` with probabilities (with and without replacement), computed as numpy computes them
//! (the probabilities divided by their pairwise sum in the data's precision, a sequential
//! cumulative sum in float64, normalised by its last value, searched on the right).

use crate::error::ParamError;
use crate::float::Float;

/// A position in numpy's legacy random stream (`numpy.random.RandomState`, MT19937): its
/// `get_state()` key and position. kentro's seeds draw from that stream as scikit-learn does
/// (`RandomState(seed)`); a state continues one that numpy has already used, as scikit-learn
/// does when `random_state` is a `RandomState` instance (or numpy's global one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RandomState {
    key: Box<[u32; N]>,
    pos: usize,
}

impl RandomState {
    /// The state with `key` (624 words) and position `pos` (at most 624), as numpy's
    /// `RandomState.get_state()` gives them (its second and third items).
    pub fn new(key: &[u32], pos: usize) -> Result<Self, ParamError> {
        let key: [u32; N] = key.try_into().map_err(|_| ParamError::RandomState { words: key.len(), pos })?;
        if pos > N {
            return Err(ParamError::RandomState { words: N, pos });
        }
        Ok(RandomState { key: Box::new(key), pos })
    }
}

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER: u32 = 0x8000_0000;
const LOWER: u32 = 0x7fff_ffff;

/// The state of `numpy.random.RandomState` (MT19937 with numpy's seeding and doubles).
#[derive(Clone, Debug)]
pub(crate) struct NumpyRandom {
    key: [u32; N],
    pos: usize,
    /// The second normal of the last pair the polar method made, not yet used.
    gauss: Option<f64>,
}

impl NumpyRandom {
    /// `RandomState(seed)`. Seeds above `u32::MAX` (which numpy refuses) seed as
    /// `RandomState([low 32 bits, high 32 bits])` does.
    pub(crate) fn new(seed: u64) -> Self {
        match u32::try_from(seed) {
            Ok(s) => Self::from_u32(s),
            Err(_) => Self::from_words(&[seed as u32, (seed >> 32) as u32]),
        }
    }

    /// The stream continued from `state`.
    pub(crate) fn from_state(state: &RandomState) -> Self {
        NumpyRandom { key: *state.key, pos: state.pos, gauss: None }
    }

    /// numpy's `mt19937_seed`.
    fn from_u32(seed: u32) -> Self {
        let mut key = [0u32; N];
        let mut s = seed;
        for (pos, k) in key.iter_mut().enumerate() {
            *k = s;
            s = 1_812_433_253u32.wrapping_mul(s ^ (s >> 30)).wrapping_add(pos as u32 + 1);
        }
        NumpyRandom { key, pos: N, gauss: None }
    }

    /// numpy's `mt19937_init_by_array`.
    fn from_words(words: &[u32]) -> Self {
        let mut r = Self::from_u32(19_650_218);
        let mt = &mut r.key;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(words.len()) {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_664_525)).wrapping_add(words[j]).wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= words.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        r
    }

    fn regenerate(&mut self) {
        let mt = &mut self.key;
        let twist = |a: u32, b: u32, far: u32| {
            let y = (a & UPPER) | (b & LOWER);
            far ^ (y >> 1) ^ if y & 1 == 1 { MATRIX_A } else { 0 }
        };
        for i in 0..N - M {
            mt[i] = twist(mt[i], mt[i + 1], mt[i + M]);
        }
        for i in N - M..N - 1 {
            mt[i] = twist(mt[i], mt[i + 1], mt[i + M - N]);
        }
        mt[N - 1] = twist(mt[N - 1], mt[0], mt[M - 1]);
        self.pos = 0;
    }

    fn next_u32(&mut self) -> u32 {
        if self.pos == N {
            self.regenerate();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random_sample()`: uniform in [0, 1) with 53 random bits.
    pub(crate) fn random_sample(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// `standard_normal()`: numpy's legacy polar (Marsaglia) method, which makes normals in
    /// pairs and keeps the second for the next call.
    pub(crate) fn standard_normal(&mut self) -> f64 {
        if let Some(g) = self.gauss.take() {
            return g;
        }
        loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// A uniform integer in `[0, max]`, as numpy's `random_interval` draws it (the smallest
    /// all-ones mask over `max`, rejecting values above it): what `shuffle` uses.
    pub(crate) fn interval(&mut self, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> (max as u64).leading_zeros();
        loop {
            let value = if max as u64 <= u32::MAX as u64 {
                self.next_u32() as u64 & mask
            } else {
                let high = self.next_u32() as u64;
                ((high << 32) | self.next_u32() as u64) & mask
            };
            if value <= max as u64 {
                return value as usize;
            }
        }
    }

    /// `shuffle(arange(n))`: Fisher–Yates from the end.
    pub(crate) fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            perm.swap(i, self.interval(i));
        }
        perm
    }

    /// `choice(n, p=w / w.sum())` with the weights in the data's type `F` (unit weights when
    /// `None`), as scikit-learn draws the first k-means++ centre.
    /// Weighted (or from 2²⁴ samples), two sequential passes over the samples, without
    /// allocating; unweighted, the running sum of one probability repeated is followed by runs
    /// of equal steps ([`equal_steps`]), a few per binade.
    pub(crate) fn choice<F: Float>(&mut self, n: usize, weights: Option<&[f64]>) -> usize {
        if weights.is_none() && (n as f64) < UNIT_TOTAL_EXACT {
            // The sum of `n` ones is `n`, exactly.
            let p = (F::ONE / F::from_f64(n as f64)).to_f64();
            let u = self.random_sample();
            return choice_of_equal(p, n, u);
        }
        let weight = |i: usize| weights.map_or(F::ONE, |w| F::from_f64(w[i]));
        let total = pairwise_sum(&weight, 0, n);
        let p = |i: usize| (weight(i) / total).to_f64();
        let last = (0..n).fold(0.0f64, |s, i| s + p(i));
        let u = self.random_sample();
        let mut cum = 0.0f64;
        for i in 0..n {
            cum += p(i);
            if cum / last > u {
                return i;
            }
        }
        n - 1
    }

    /// `choice(n, k, replace=False, p=w / w.sum())`, as scikit-learn draws random initial
    /// centres: rounds of draws, each over the samples not yet drawn, keeping the first
    /// occurrence of each new index. Samples of zero weight are never drawn; when fewer than `k`
    /// samples have weight (numpy refuses that), the rest are the first unweighted ones.
    pub(crate) fn choice_distinct<F: Float>(
        &mut self,
        n: usize,
        k: usize,
        weights: Option<&[f64]>,
    ) -> Vec<usize> {
        let mut p = probabilities::<F>(n, weights);
        let drawable = p.iter().filter(|&&v| v > 0.0).count().min(k);
        let mut found: Vec<usize> = Vec::with_capacity(k);
        while found.len() < drawable {
            let u: Vec<f64> = (0..drawable - found.len()).map(|_| self.random_sample()).collect();
            for &i in &found {
                p[i] = 0.0;
            }
            let cdf = cumulative(&p);
            let mut seen = std::collections::HashSet::new();
            for v in u {
                let i = search_right(&cdf, v);
                if p[i] > 0.0 && seen.insert(i) {
                    found.push(i);
                }
            }
        }
        let mut taken = vec![false; n];
        found.iter().for_each(|&i| taken[i] = true);
        found.extend((0..n).filter(|&i| !taken[i]).take(k - found.len()));
        found
    }
}

/// Below this many samples, numpy's sum of as many ones is their number exactly, in float32
/// too (every partial sum a whole number below 2²⁴).
const UNIT_TOTAL_EXACT: f64 = (1u64 << 24) as f64;

/// A run of the running sum `c_k = fl(c_{k−1} + p)` (`c_0 = 0`): for `j` in `1..=len`,
/// `c_{first + j} = (units + j × step) × ulp`, exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    first: usize,
    units: f64,
    step: f64,
    ulp: f64,
    len: usize,
}

impl Run {
    /// `c_{first + j}`.
    fn value(&self, j: usize) -> f64 {
        (self.units + j as f64 * self.step) * self.ulp
    }
}

/// The running sum of `n` copies of `p` (positive and normal: a zero or subnormal `p` is
/// still followed exactly, but one add per run) as float64 adds them one by one,
/// in runs of equal steps: while `c` stays in one binade `[2^e, 2^(e+1))`, whose values are the
/// whole multiples of `ulp = 2^(e−52)`, each add rounds `c + p` to the nearest multiple, which
/// is `c` plus `p` rounded to a multiple once and for all (where `p / ulp` lies halfway between
/// two whole numbers, the tie goes to the even multiple: from an even `c / ulp`, always by the
/// same even step) — unless the sum may leave the binade, or `c` is zero or subnormal, or an odd
/// multiple meets a tie: those adds are taken one at a time.
/// Calls `each` with every run in order (the one-at-a-time adds as runs of length one).
fn equal_steps(p: f64, n: usize, mut each: impl FnMut(Run) -> bool) {
    const BINADE_UNITS: f64 = (1u64 << 53) as f64;
    let (mut c, mut k) = (0.0f64, 0usize);
    while k < n {
        // The binade's unit: 2^e × 2^−52 for `c` in [2^e, 2^(e+1)).
        let ulp = if c >= f64::MIN_POSITIVE {
            f64::from_bits(c.to_bits() & (0x7ffu64 << 52)) * f64::EPSILON
        } else {
            0.0
        };
        let (units, r) = if ulp > 0.0 { (c / ulp, p / ulp) } else { (0.0, f64::INFINITY) };
        // Halfway, the sum goes to the even multiple: from an even one, always by the same step.
        let halfway = r - r.floor() == 0.5;
        let step = match r.floor() {
            m if halfway && m % 2.0 == 0.0 => m,
            m if halfway => m + 1.0,
            _ => r.round(),
        };
        // How many adds, from the `j`-th at `units + j × step`, keep `units + j × step + r` below
        // the binade's end (`2^53` units); none where `r` is too large, or halfway from an odd
        // multiple.
        let last_start = BINADE_UNITS - 1.0 - r.ceil() - units;
        let mut fits = if (halfway && units % 2.0 != 0.0) || last_start.is_nan() || last_start < 0.0 {
            0
        } else if step == 0.0 {
            n - k
        } else {
            ((last_start / step).floor() as usize).min(n - k - 1) + 1
        };
        // (The quotient rounded up at most one.)
        while fits > 0 && step * (fits - 1) as f64 > last_start {
            fits -= 1;
        }
        let run = if fits == 0 {
            Run { first: k, units: c + p, step: 0.0, ulp: 1.0, len: 1 }
        } else {
            Run { first: k, units, step, ulp, len: fits.min(n - k) }
        };
        c = run.value(run.len);
        k += run.len;
        if !each(run) {
            return;
        }
    }
}

/// The first `i` with `c_{i+1} / c_n > u`, where `c_k` is the running sum of `k` copies of `p`
/// as float64 adds them (else `n − 1`): the sample numpy's `choice` draws with every
/// probability `p`, by [`equal_steps`].
fn choice_of_equal(p: f64, n: usize, u: f64) -> usize {
    // (With `p` zero, `last` is zero and every quotient NaN: numpy's loop then gives `n − 1`.)
    debug_assert!(p > 0.0, "a positive probability");
    let mut last = 0.0;
    equal_steps(p, n, |run| {
        last = run.value(run.len);
        true
    });
    let mut found = n - 1;
    equal_steps(p, n, |run| {
        if run.value(run.len) / last <= u {
            return true;
        }
        // The values grow with j: the first above.
        let (mut lo, mut hi) = (1, run.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if run.value(mid) / last > u { hi = mid } else { lo = mid + 1 }
        }
        found = run.first + lo - 1;
        false
    });
    found
}

/// `w / w.sum()` in the data's type `F` (scikit-learn's weights have the data's type), widened
/// to float64 as `choice` reads them.
fn probabilities<F: Float>(n: usize, weights: Option<&[f64]>) -> Vec<f64> {
    let weight = |i: usize| weights.map_or(F::ONE, |w| F::from_f64(w[i]));
    let total = pairwise_sum(&weight, 0, n);
    (0..n).map(|i| (weight(i) / total).to_f64()).collect()
}

/// numpy's summation of a contiguous array (`add.reduce`) of `a(start..start + n)`: pairwise,
/// eight accumulators in blocks of up to 128.
fn pairwise_sum<F: Float>(a: &dyn Fn(usize) -> F, start: usize, n: usize) -> F {
    if n < 8 {
        (start..start + n).fold(F::ZERO, |s, i| s + a(i))
    } else if n <= 128 {
        let mut r: [F; 8] = std::array::from_fn(|j| a(start + j));
        let whole = n - n % 8;
        for block in (8..whole).step_by(8) {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += a(start + block + j);
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for i in whole..n {
            res += a(start + i);
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(a, start, half) + pairwise_sum(a, start + half, n - half)
    }
}

/// `cdf = p.cumsum(); cdf /= cdf[-1]`.
fn cumulative(p: &[f64]) -> Vec<f64> {
    let mut cdf: Vec<f64> = p
        .iter()
        .scan(0.0f64, |s, &v| {
            *s += v;
            Some(*s)
        })
        .collect();
    let last = *cdf.last().expect("at least one sample");
    cdf.iter_mut().for_each(|v| *v /= last);
    cdf
}

/// `cdf.searchsorted(u, side="right")`, within the samples.
fn search_right(cdf: &[f64], u: f64) -> usize {
    cdf.partition_point(|&c| c <= u).min(cdf.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequential `choice` over `n` equal probabilities, as numpy adds them.
    fn choice_by_adds(p: f64, n: usize, u: f64) -> usize {
        let last = (0..n).fold(0.0f64, |s, _| s + p);
        let mut cum = 0.0f64;
        for i in 0..n {
            cum += p;
            if cum / last > u {
                return i;
            }
        }
        n - 1
    }

    /// Runs of equal steps give every running sum of the adds one by one, and the draw the
    /// same sample for any `u` (the running sums' own quotients, where `>` decides, among
    /// them), in float64 and float32 probabilities, for every count up to 3000 and some large
    /// ones (powers of two and their neighbours, a multiple of three).
    #[test]
    fn equal_steps_follow_the_adds() {
        let mut rng = NumpyRandom::new(5);
        let mut counts: Vec<usize> = (1..=3000).collect();
        counts.extend([1 << 16, (1 << 16) + 1, (1 << 20) - 1, 1 << 20, 3 << 18, 1_000_003]);
        for &n in &counts {
            for p in [1.0 / n as f64, f64::from(1.0f32 / n as f32)] {
                let (mut sums, mut runs) = (Vec::with_capacity(n), 0);
                equal_steps(p, n, |run| {
                    sums.extend((1..=run.len).map(|j| run.value(j)));
                    runs += 1;
                    true
                });
                // A few runs per binade, not an add each.
                assert!(runs <= 64, "n {n}, p {p:e}: {runs} runs");
                let mut c = 0.0f64;
                for (k, &v) in sums.iter().enumerate() {
                    c += p;
                    assert_eq!(v.to_bits(), c.to_bits(), "n {n}, p {p:e}, sum {k}");
                }
                let last = sums[n - 1];
                let mut us: Vec<f64> = (0..4).map(|_| rng.random_sample()).collect();
                us.extend([0.0, 0.999_999_999_999, sums[n / 3] / last, sums[n / 2] / last]);
                for u in us {
                    assert_eq!(choice_of_equal(p, n, u), choice_by_adds(p, n, u), "n {n}, p {p:e}, u {u}");
                }
            }
        }
    }

    // Reference values printed by numpy 2.4: `np.random.RandomState(s).random_sample(...)`,
    // `RandomState(np.array([5, 7], dtype=np.uint32))` and `np.full(1000, 0.1).sum()`.
    #[test]
    fn random_sample_matches_numpy() {
        let mut r = NumpyRandom::new(0);
        let got: Vec<f64> = (0..3).map(|_| r.random_sample()).collect();
        assert_eq!(got, [0.5488135039273248, 0.7151893663724195, 0.6027633760716439]);
        let mut r = NumpyRandom::new(42);
        assert_eq!(r.random_sample(), 0.3745401188473625);
        // Past the first regeneration of the state (624 words = 312 doubles).
        let mut r = NumpyRandom::new(1);
        let v: Vec<f64> = (0..400).map(|_| r.random_sample()).collect();
        assert_eq!(v[399], 0.5409518049621886);
    }

    #[test]
    fn normals_and_shuffles_match_numpy() {
        // `RandomState(0).standard_normal(3)`, then `RandomState(0).permutation(10)`.
        let mut r = NumpyRandom::new(0);
        let got: Vec<f64> = (0..3).map(|_| r.standard_normal()).collect();
        assert_eq!(got, [1.764052345967664, 0.4001572083672233, 0.9787379841057392]);
        assert_eq!(NumpyRandom::new(0).permutation(10), [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
    }

    #[test]
    fn a_state_continues_the_stream() {
        let mut r = NumpyRandom::new(9);
        (0..700).for_each(|_| _ = r.random_sample());
        let state = RandomState::new(&r.key, r.pos).unwrap();
        let mut copy = NumpyRandom::from_state(&state);
        for _ in 0..1000 {
            assert_eq!(copy.random_sample(), r.random_sample());
        }
        assert!(RandomState::new(&[0; 10], 0).is_err());
        assert!(RandomState::new(&[0; N], N + 1).is_err());
    }

    #[test]
    fn large_seeds_seed_by_array() {
        let mut r = NumpyRandom::new((7u64 << 32) | 5);
        assert_eq!(r.random_sample(), 0.33181616794025415);
    }

    #[test]
    fn pairwise_sum_rounds_as_numpy() {
        // 0.1 summed 1000 times: numpy's pairwise sum gives a value that a sequential sum does
        // not.
        let a = vec![0.1f64; 1000];
        assert_eq!(pairwise_sum(&|i| a[i], 0, a.len()), 100.00000000000001);
        let sequential: f64 = a.iter().sum();
        assert_ne!(sequential, 100.00000000000001);
    }

    #[test]
    fn one_draw_with_or_without_replacement_is_the_same_sample() {
        // numpy draws one sample the same way in both: the allocation-free pass of `choice` and
        // the cumulative array of `choice_distinct` must agree.
        let w: Vec<f64> = (0..1000).map(|i| ((i * 37) % 11) as f64 * 0.3).collect();
        for seed in 0..200 {
            for weights in [None, Some(&w[..])] {
                let one = NumpyRandom::new(seed).choice::<f64>(1000, weights);
                assert_eq!(one, NumpyRandom::new(seed).choice_distinct::<f64>(1000, 1, weights)[0]);
                let one32 = NumpyRandom::new(seed).choice::<f32>(1000, weights);
                assert_eq!(one32, NumpyRandom::new(seed).choice_distinct::<f32>(1000, 1, weights)[0]);
            }
        }
    }

    #[test]
    fn choice_is_weighted_and_distinct_draws_are_distinct() {
        let mut r = NumpyRandom::new(3);
        let w = [0.0, 1.0, 0.0, 3.0];
        let mut counts = [0usize; 4];
        for _ in 0..4000 {
            counts[r.choice::<f64>(4, Some(&w))] += 1;
        }
        assert_eq!(counts[0] + counts[2], 0);
        assert!((counts[3] as f64 / 4000.0 - 0.75).abs() < 0.03, "{counts:?}");
        let idx = r.choice_distinct::<f64>(10, 10, None);
        let mut sorted = idx.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        // Two samples with weight, three wanted: the third is the first unweighted one.
        assert_eq!(r.choice_distinct::<f64>(4, 3, Some(&w)).len(), 3);
        let mut got = r.choice_distinct::<f64>(4, 3, Some(&w));
        got.sort_unstable();
        assert_eq!(got, [0, 1, 3]);
    }
}
