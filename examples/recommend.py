"""Recommendations with K-Means: cluster users by their ratings, then recommend to each
user the items their cluster rates highly that they have not rated.

The ratings are generated with planted tastes (the same recipe as the Rust example
``crates/kentro/examples/recommend.rs``, with numpy's generator): each of ``N_TASTES``
tastes likes its own block of ``LIKED`` items; a user rates an item with probability
``OBSERVED``, about 4.5 if their taste likes it and about 2 otherwise, plus uniform
noise, rounded and clipped to 1..5. Unrated items are missing.

Each user's vector is their ratings minus their own mean rating, with 0 for an unrated
item (missing ratings are filled with the user's mean, which is then removed), so a
missing item neither pulls nor pushes. Run ``python examples/recommend.py``.
"""

import numpy as np
from kentro import KMeans
from kentro.metrics import adjusted_rand_score

N_USERS, N_ITEMS, N_TASTES, LIKED = 400, 60, 4, 10
OBSERVED, NOISE = 0.35, 1.0


def generate(seed=7):
    """Ratings (0 = missing, else 1..5) and each user's planted taste."""
    rng = np.random.default_rng(seed)
    taste = rng.integers(N_TASTES, size=N_USERS)
    likes = np.arange(N_ITEMS)[None, :] // LIKED == taste[:, None]
    base = np.where(likes, 4.5, 2.0)
    noisy = np.clip(np.round(base + rng.uniform(-NOISE, NOISE, base.shape)), 1, 5)
    seen = rng.uniform(size=base.shape) < OBSERVED
    return np.where(seen, noisy, 0.0), taste


def centred(ratings):
    """Ratings minus each user's mean rating, 0 where unrated."""
    rated = ratings > 0
    mean = ratings.sum(axis=1) / np.maximum(rated.sum(axis=1), 1)
    return np.where(rated, ratings - mean[:, None], 0.0)


def recommend(ratings, labels, user, n=5, min_raters=3):
    """Up to ``n`` (item, cluster mean rating) pairs: unrated by ``user``, ranked by the
    mean rating of their cluster's other members (items fewer than ``min_raters`` rated
    are skipped; ties go to the lower item index)."""
    members = (labels == labels[user]) & (np.arange(len(labels)) != user)
    given = ratings[members]
    counts = (given > 0).sum(axis=0)
    means = given.sum(axis=0) / np.maximum(counts, 1)
    candidates = [
        i
        for i in range(ratings.shape[1])
        if ratings[user, i] == 0 and counts[i] >= min_raters
    ]
    candidates.sort(key=lambda i: (-means[i], i))
    return [(i, float(means[i])) for i in candidates[:n]]


def main(seed=7):
    ratings, taste = generate(seed)
    km = KMeans(n_clusters=N_TASTES, n_init=10, random_state=0).fit(centred(ratings))
    labels = km.labels_
    ari = adjusted_rand_score(taste, labels)
    print(f"{N_USERS} users x {N_ITEMS} items, {int((ratings > 0).sum())} ratings")
    print(f"clusters vs planted tastes: adjusted Rand index {ari:.3f}")
    hits = total = 0
    for user in range(N_USERS):
        recs = recommend(ratings, labels, user)
        liked = [i for i, _ in recs if i // LIKED == taste[user]]
        hits, total = hits + len(liked), total + len(recs)
        if user < 3:
            shown = ", ".join(f"item {i} ({r:.2f})" for i, r in recs)
            print(f"user {user} (taste {taste[user]}): {shown}")
    hit_rate = hits / total
    print(f"{100 * hit_rate:.1f}% of the top-5 recommendations are planted likes")
    return {"ari": ari, "hit_rate": hit_rate}


if __name__ == "__main__":
    result = main()
    assert result["ari"] >= 0.9 and result["hit_rate"] >= 0.8, result
