"""Anomaly detection with K-Means, following scikit-learn's outlier detectors."""

from __future__ import annotations

from numbers import Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from kentro import _kentro
from kentro._kmeans import KMeans
from kentro._threads import effective_n_threads
from kentro._validation import reject_sparse

__all__ = ["KMeansOutlierDetector"]

_FITTED_ATTRIBUTES = (
    "n_features_in_",
    "feature_names_in_",
    "cluster_centers_",
    "labels_",
    "n_iter_",
    "cluster_spreads_",
    "offset_",
)


class KMeansOutlierDetector(OutlierMixin, BaseEstimator):
    """Outlier detection by distance to the nearest K-Means centre.

    Fits :class:`kentro.KMeans`, then scores each sample by its distance to its
    nearest centre relative to that cluster's spread. The rule is kentro's core
    (``kentro::outliers``), shared with the ``kentro outliers`` command:

    * the spread of a cluster is the root-mean-square distance of its training
      samples to its centre (a cluster of spread 0, such as a single sample, takes
      the root-mean-square distance over all training samples, or 1 if that is 0
      too, so scores are always finite);
    * ``score_samples`` is minus the distance to the nearest centre divided by that
      cluster's spread: higher is more normal, 0 is a sample on a centre;
    * ``offset_`` is ``np.percentile(score_samples(X_train), 100 * contamination)``,
      or ``-2.0`` for ``contamination="auto"`` (farther than twice the
      cluster's spread);
    * ``decision_function = score_samples - offset_``; ``predict`` gives -1 where
      it is negative (outliers) and +1 elsewhere.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters of the normal data.

    contamination : 'auto' or float, default='auto'
        The proportion of outliers in the training data, in (0, 0.5]: it sets
        ``offset_``. ``'auto'`` uses the fixed offset -2.0.

    init : {'k-means++', 'random'}, callable or array-like, default='k-means++'
        As :class:`kentro.KMeans`.

    n_init : 'auto' or int, default='auto'
        As :class:`kentro.KMeans`.

    max_iter : int, default=300
        As :class:`kentro.KMeans`.

    tol : float, default=1e-4
        As :class:`kentro.KMeans`.

    random_state : int, RandomState instance or None, default=None
        As :class:`kentro.KMeans`.

    algorithm : str, default="lloyd"
        As :class:`kentro.KMeans`.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        The centres of the fitted K-Means.

    labels_ : ndarray of shape (n_samples,)
        The cluster of each training sample.

    n_iter_ : int
        Lloyd iterations of the K-Means fit.

    cluster_spreads_ : ndarray of shape (n_clusters,)
        Each cluster's spread (see above).

    offset_ : float
        The threshold on ``score_samples``: lower scores are outliers.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when they are all strings.

    See Also
    --------
    sklearn.ensemble.IsolationForest : The conventions followed here.

    Notes
    -----
    A far outlier that K-Means gives a cluster of its own scores as normal (its
    distance to its centre is 0): choose ``n_clusters`` for the normal structure.
    Scores are computed in float64 whatever the dtype of X.

    Examples
    --------
    >>> import numpy as np
    >>> from kentro import KMeansOutlierDetector, make_blobs
    >>> X, _ = make_blobs(n_samples=200, centers=2, cluster_std=0.5, random_state=1)
    >>> X = np.vstack([X, [[40.0, 40.0]]])
    >>> det = KMeansOutlierDetector(n_clusters=2, contamination=0.005, random_state=0)
    >>> det.fit_predict(X)[-1], int((det.predict(X) == -1).sum())
    (np.int64(-1), 1)
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_clusters": KMeans._parameter_constraints["n_clusters"],
        "contamination": [
            StrOptions({"auto"}),
            Interval(Real, 0, 0.5, closed="right"),
        ],
        "init": KMeans._parameter_constraints["init"],
        "n_init": KMeans._parameter_constraints["n_init"],
        "max_iter": KMeans._parameter_constraints["max_iter"],
        "tol": KMeans._parameter_constraints["tol"],
        "random_state": KMeans._parameter_constraints["random_state"],
        "algorithm": KMeans._parameter_constraints["algorithm"],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        contamination: str | float = "auto",
        init: Any = "k-means++",
        n_init: str | int = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: int | np.random.RandomState | None = None,
        algorithm: str = "lloyd",
    ) -> None:
        self.n_clusters = n_clusters
        self.contamination = contamination
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.algorithm = algorithm

    def fit(self, X: Any, y: Any = None) -> KMeansOutlierDetector:
        """Fit K-Means, the cluster spreads and the threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (dense; sparse input is not supported yet).

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        try:
            return self._fit(X)
        except BaseException:
            for name in _FITTED_ATTRIBUTES:
                self.__dict__.pop(name, None)
            raise

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X: Any) -> KMeansOutlierDetector:
        reject_sparse(X, "kentro.KMeansOutlierDetector")
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C")
        kmeans = KMeans(
            n_clusters=self.n_clusters,
            init=self.init,
            n_init=self.n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
            algorithm=self.algorithm,
        ).fit(X)
        centers = np.ascontiguousarray(kmeans.cluster_centers_, dtype=np.float64)
        contamination = (
            None if self.contamination == "auto" else float(self.contamination)
        )
        spreads, offset, _ = _kentro.outlier_fit(
            np.ascontiguousarray(X, dtype=np.float64),
            centers,
            contamination,
            n_threads=effective_n_threads(),
        )
        self.cluster_centers_ = kmeans.cluster_centers_
        self.labels_ = kmeans.labels_
        self.n_iter_ = kmeans.n_iter_
        self.cluster_spreads_ = spreads
        self.offset_ = float(offset)
        return self

    def score_samples(self, X: Any) -> np.ndarray:
        """Minus the distance to the nearest centre over that cluster's spread.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is more normal; 0 for a sample on a centre.
        """
        check_is_fitted(self)
        reject_sparse(X, "kentro.KMeansOutlierDetector")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return _kentro.outlier_scores(
            np.ascontiguousarray(X, dtype=np.float64),
            np.ascontiguousarray(self.cluster_centers_, dtype=np.float64),
            np.ascontiguousarray(self.cluster_spreads_, dtype=np.float64),
            float(self.offset_),
            n_threads=effective_n_threads(),
        )

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            Negative for outliers, non-negative for inliers.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """Whether each sample is an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        is_inlier : ndarray of shape (n_samples,)
            +1 for inliers, -1 for outliers.
        """
        decision = self.decision_function(X)
        is_inlier = np.ones(decision.shape[0], dtype=int)
        is_inlier[decision < 0] = -1
        return is_inlier

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
