//! Recommendations with K-Means: cluster users by their rating vectors, then recommend to each
//! user the items their cluster rates highly that they have not rated. The data has planted
//! tastes, so the example can check itself: the clusters recover the tastes (adjusted Rand
//! index), and the recommendations come from the user's liked items.
//!
//! ```sh
//! cargo run --release -p kentro --example recommend
//! ```
//! The data, the vectors (ratings minus the user's mean, 0 where unrated) and the recommender
//! are in `recommend/ratings.rs`, shared with `tests/recommend.rs`.

#[path = "recommend/ratings.rs"]
mod ratings;

use kentro::metrics::adjusted_rand_score;

fn main() {
    let setup = ratings::Setup::default();
    let data = setup.generate();
    let rated = data.ratings.iter().filter(|&&r| r > 0.0).count();
    println!(
        "{} users × {} items, {} ratings ({:.0}% observed), {} planted tastes of {} liked items each",
        setup.n_users,
        setup.n_items,
        rated,
        100.0 * rated as f64 / data.ratings.len() as f64,
        setup.n_tastes,
        setup.liked_per_taste
    );
    let labels = data.cluster(setup.n_tastes, 0);
    let ari = adjusted_rand_score(&data.taste, &labels);
    println!("clusters vs planted tastes: adjusted Rand index {ari:.3}");
    for user in 0..3 {
        let recs = data.recommend(user, &labels, 5, 3);
        let shown: Vec<String> = recs.iter().map(|(i, r)| format!("item {i} ({r:.2})")).collect();
        let liked = recs.iter().filter(|(i, _)| setup.likes(data.taste[user], *i)).count();
        println!(
            "user {user} (taste {}, cluster {}): {} — {liked} of {} in the taste's liked items",
            data.taste[user],
            labels[user],
            shown.join(", "),
            recs.len()
        );
    }
    let hit = data.hit_rate(&labels, 5);
    println!("over all users, {:.1}% of the top-5 recommendations are planted likes", 100.0 * hit);
    assert!(ari >= 0.9 && hit >= 0.8, "the planted tastes were not recovered");
}
