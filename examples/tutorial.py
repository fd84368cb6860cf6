"""The scikit-learn K-Means tutorial, with kentro's KMeans.

The only change from the scikit-learn version is the import line marked below. Run it with
``python examples/tutorial.py``; it writes ``blobs.png`` (the data) and ``clusters.png``
(the clusters and their centroids) to the current folder, and prints how well the clusters
match the blobs the data came from.
"""

import matplotlib

matplotlib.use("Agg")  # headless: write PNG files, open no window

import matplotlib.pyplot as plt
from kentro import KMeans  # the only change: was "from sklearn.cluster import KMeans"
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

# 300 points around 3 centres.
X, y_true = make_blobs(n_samples=300, centers=3, cluster_std=0.60, random_state=0)

plt.figure(figsize=(6, 5))
plt.scatter(X[:, 0], X[:, 1], s=50)
plt.title("make_blobs: 300 samples, 3 centres")
plt.savefig("blobs.png", dpi=100)
plt.close()

kmeans = KMeans(n_clusters=3)
kmeans.fit(X)
y_kmeans = kmeans.predict(X)

plt.figure(figsize=(6, 5))
plt.scatter(X[:, 0], X[:, 1], c=y_kmeans, s=50, cmap="viridis")
centers = kmeans.cluster_centers_
plt.scatter(centers[:, 0], centers[:, 1], c="black", s=200, alpha=0.5)
plt.title("KMeans(n_clusters=3): clusters and centroids")
plt.savefig("clusters.png", dpi=100)
plt.close()

ari = adjusted_rand_score(y_true, y_kmeans)
print(f"inertia {kmeans.inertia_:.2f} after {kmeans.n_iter_} iterations")
print(f"Adjusted Rand index against the true blobs: {ari:.3f}")
