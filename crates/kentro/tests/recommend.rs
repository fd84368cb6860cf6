//! The recommendation example's check as a test: clustering users by their centred rating
//! vectors recovers the planted tastes, and the recommendations come from the liked items.

#[path = "../examples/recommend/ratings.rs"]
mod ratings;

use kentro::metrics::adjusted_rand_score;

#[test]
fn planted_tastes_are_recovered_and_recommended() {
    for seed in [7, 8, 9] {
        let setup = ratings::Setup { seed, ..ratings::Setup::default() };
        let data = setup.generate();
        let labels = data.cluster(setup.n_tastes, 0);
        let ari = adjusted_rand_score(&data.taste, &labels);
        assert!(ari >= 0.9, "seed {seed}: ARI {ari}");
        let hit = data.hit_rate(&labels, 5);
        assert!(hit >= 0.8, "seed {seed}: hit rate {hit}");
    }
}

#[test]
fn recommendations_are_unrated_items_ranked_by_the_cluster() {
    let setup = ratings::Setup::default();
    let data = setup.generate();
    let labels = data.cluster(setup.n_tastes, 0);
    for user in 0..20 {
        let recs = data.recommend(user, &labels, 5, 3);
        assert_eq!(recs.len(), 5);
        for w in recs.windows(2) {
            assert!(w[0].1 >= w[1].1, "ranked by the cluster's mean rating");
        }
        for &(item, mean) in &recs {
            assert_eq!(data.ratings[[user, item]], 0.0, "user {user} already rated item {item}");
            // The cluster's mean rating, computed here from scratch.
            let given: Vec<f64> = (0..labels.len())
                .filter(|&v| v != user && labels[v] == labels[user] && data.ratings[[v, item]] > 0.0)
                .map(|v| data.ratings[[v, item]])
                .collect();
            assert!(given.len() >= 3);
            assert!((mean - given.iter().sum::<f64>() / given.len() as f64).abs() < 1e-12);
        }
    }
}

#[test]
fn the_check_fails_for_tastes_unrelated_to_the_ratings() {
    // A control: against taste labels that the ratings were not drawn from, the ARI is low, so
    // the check above is not passed by any clustering.
    let setup = ratings::Setup { noise: 0.0, ..ratings::Setup::default() };
    let mut data = setup.generate();
    let n = data.taste.len();
    data.taste = (0..n).map(|u| (u * 7 + 3) % setup.n_tastes).collect();
    let labels = data.cluster(setup.n_tastes, 0);
    assert!(adjusted_rand_score(&data.taste, &labels) < 0.1);
}
