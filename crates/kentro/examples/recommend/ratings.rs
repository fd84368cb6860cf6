//! Recommendations by clustering users on their ratings: planted-taste data, the clustering and
//! the recommender, shared by `examples/recommend.rs` and `tests/recommend.rs`.
//!
//! The data: `n_users` users rate `n_items` items from 1 to 5. Each user has one of `n_tastes`
//! planted tastes, and each taste likes its own block of `liked_per_taste` items (the other items
//! are liked by nobody in particular). A user rates each item with probability `observed`: a
//! liked item about 4.5, any other about 2, plus uniform noise of ±`noise`, rounded and clipped
//! to 1..5. Unrated items are missing.
//!
//! The clustering: each user's vector holds their ratings minus their own mean rating, and 0
//! for an unrated item (that is, missing ratings are filled with the user's mean, then the
//! user's mean is removed, so a missing item neither pulls nor pushes and a generous rater looks
//! like a strict one with the same tastes). K-Means groups these vectors.
//!
//! The recommender: for a user, the items they have not rated, ranked by the mean rating their
//! cluster's members gave them (items rated by fewer than `min_raters` members are skipped).

#![allow(dead_code)]

use kentro::KMeans;
use kentro::NInit;
use ndarray::Array2;

/// How the ratings are generated.
#[derive(Debug, Clone)]
pub struct Setup {
    pub n_users: usize,
    pub n_items: usize,
    pub n_tastes: usize,
    pub liked_per_taste: usize,
    pub observed: f64,
    pub noise: f64,
    pub seed: u64,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            n_users: 400,
            n_items: 60,
            n_tastes: 4,
            liked_per_taste: 10,
            observed: 0.35,
            noise: 1.0,
            seed: 7,
        }
    }
}

/// Ratings (0 = missing, else 1..5) and each user's planted taste.
pub struct Ratings {
    pub ratings: Array2<f64>,
    pub taste: Vec<usize>,
    pub setup: Setup,
}

/// SplitMix64: a small deterministic generator, so the data depends only on the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Setup {
    /// Whether taste `t` likes item `i`: the `t`-th block of items.
    pub fn likes(&self, t: usize, i: usize) -> bool {
        i / self.liked_per_taste == t
    }

    /// The ratings with planted tastes.
    pub fn generate(&self) -> Ratings {
        assert!(self.n_tastes * self.liked_per_taste <= self.n_items);
        let mut rng = Rng(self.seed);
        let taste: Vec<usize> =
            (0..self.n_users).map(|_| (rng.next() % self.n_tastes as u64) as usize).collect();
        let ratings = Array2::from_shape_fn((self.n_users, self.n_items), |(u, i)| {
            let seen = rng.uniform() < self.observed;
            let jitter = (2.0 * rng.uniform() - 1.0) * self.noise;
            if !seen {
                return 0.0;
            }
            let base = if self.likes(taste[u], i) { 4.5 } else { 2.0 };
            (base + jitter).round().clamp(1.0, 5.0)
        });
        Ratings { ratings, taste, setup: self.clone() }
    }
}

impl Ratings {
    /// Each user's ratings minus their mean rating, 0 where unrated.
    pub fn centred(&self) -> Array2<f64> {
        let mut x = self.ratings.clone();
        for mut row in x.outer_iter_mut() {
            let rated: Vec<f64> = row.iter().copied().filter(|&r| r > 0.0).collect();
            let mean = if rated.is_empty() { 0.0 } else { rated.iter().sum::<f64>() / rated.len() as f64 };
            row.mapv_inplace(|r| if r > 0.0 { r - mean } else { 0.0 });
        }
        x
    }

    /// Clusters the users into `k` groups (10 runs of k-means++ from `seed`).
    pub fn cluster(&self, k: usize, seed: u64) -> Vec<usize> {
        let x = self.centred();
        let model = KMeans::params(k).seed(seed).n_init(NInit::Runs(10)).fit(x.view()).expect("a valid fit");
        model.labels().to_vec()
    }

    /// Up to `n` items for `user`: unrated by them, ranked by their cluster's mean rating (ties by
    /// item index), counting only items at least `min_raters` members rated.
    pub fn recommend(&self, user: usize, labels: &[usize], n: usize, min_raters: usize) -> Vec<(usize, f64)> {
        let members: Vec<usize> =
            (0..labels.len()).filter(|&v| labels[v] == labels[user] && v != user).collect();
        let mut scored: Vec<(usize, f64)> = (0..self.ratings.ncols())
            .filter(|&i| self.ratings[[user, i]] == 0.0)
            .filter_map(|i| {
                let given: Vec<f64> =
                    members.iter().map(|&v| self.ratings[[v, i]]).filter(|&r| r > 0.0).collect();
                (given.len() >= min_raters).then(|| (i, given.iter().sum::<f64>() / given.len() as f64))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(n);
        scored
    }

    /// The share of the top-`n` recommendations, over all users, that their planted taste likes.
    pub fn hit_rate(&self, labels: &[usize], n: usize) -> f64 {
        let (mut hits, mut total) = (0usize, 0usize);
        for u in 0..self.ratings.nrows() {
            for (item, _) in self.recommend(u, labels, n, 3) {
                hits += usize::from(self.setup.likes(self.taste[u], item));
                total += 1;
            }
        }
        hits as f64 / total.max(1) as f64
    }
}
