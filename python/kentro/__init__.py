"""kentro: exact, fast, deterministic K-Means with scikit-learn's API, in Rust.

``from kentro import KMeans`` is a drop-in for ``from sklearn.cluster import KMeans``:
same parameters, attributes and results (from the same initial centres, identical
labels, except for samples exactly equidistant from two centres, where
scikit-learn's choice depends on BLAS rounding), computed by kentro's Rust core on
all cores without holding the GIL.

Examples
--------
>>> from kentro import KMeans, make_blobs
>>> from kentro.metrics import adjusted_rand_score
>>> X, y = make_blobs(n_samples=300, centers=3, cluster_std=0.60, random_state=0)
>>> km = KMeans(n_clusters=3, random_state=0).fit(X)
>>> adjusted_rand_score(y, km.labels_) > 0.95
True
"""

from kentro import exceptions, metrics
from kentro._datasets import make_blobs
from kentro._kentro import __version__
from kentro._kmeans import KMeans, kmeans_plusplus, load
from kentro._outliers import KMeansOutlierDetector
from kentro._select_k import SelectKResult, select_k
from kentro._threads import threadpool_limits

__all__ = [
    "KMeans",
    "KMeansOutlierDetector",
    "SelectKResult",
    "__version__",
    "exceptions",
    "kmeans_plusplus",
    "load",
    "make_blobs",
    "metrics",
    "select_k",
    "threadpool_limits",
]
