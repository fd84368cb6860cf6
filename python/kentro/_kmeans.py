"""K-Means clustering: scikit-learn's ``KMeans`` over kentro's Rust core."""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, validate_data

from kentro import _kentro, _sparse
from kentro._threads import effective_n_threads
from kentro._validation import (
    check_seed,
    default_local_trials,
    reject_sparse,
    seed_or_state,
    skip_init_draws,
    weights_or_none,
)
from kentro.exceptions import ModelFileError

__all__ = ["KMeans", "kmeans_plusplus", "load"]

# Everything a fit sets on the estimator (scikit-learn's and kentro's own); a failed fit removes
# them all, so that the estimator is left unfitted.
_FITTED_ATTRIBUTES = (
    "n_features_in_",
    "feature_names_in_",
    "cluster_centers_",
    "labels_",
    "inertia_",
    "n_iter_",
    "_n_features_out",
    "_predictor",
)


# The parameter names of each estimator class (see KMeans._get_param_names); weak, as
# _VALIDATED.
_PARAM_NAMES: weakref.WeakKeyDictionary[type, tuple[str, ...]] = (
    weakref.WeakKeyDictionary()
)


# Parameter values KMeans._validate_params has seen pass, per class (at most _VALIDATED_MAX each),
# with the constraints they passed (new constraints start afresh). Weak: a class made at run time
# is not kept alive by it.
_VALIDATED: weakref.WeakKeyDictionary[type, tuple[Any, set[tuple[Any, ...]]]] = (
    weakref.WeakKeyDictionary()
)
_VALIDATED_MAX = 256
_PLAIN_TYPES = (int, float, str, bool, type(None))


def _validation_key(name: str, value: Any) -> tuple[Any, ...]:
    """What scikit-learn's validation of a plain parameter value depends on: the value and its
    type; for an integer ``random_state`` (a new seed each fit, in a loop over seeds), only
    whether it lies in the range its constraint takes, [0, 2**32 - 1]."""
    if name == "random_state" and type(value) is int:
        return (name, int, 0 <= value <= 2**32 - 1)
    return (name, type(value), value)


def _plain_float_matrix(X: Any) -> bool:
    """Whether X is a numpy array (not a subclass) of float64 or float32 rows, at least one:
    what the shortcuts past scikit-learn's general checks take."""
    return (
        type(X) is np.ndarray
        and X.ndim == 2
        and (X.dtype == np.float64 or X.dtype == np.float32)
        and X.shape[0] >= 1
    )


def _non_finite_error_first(check: Callable[[], Any]) -> None:
    """Runs scikit-learn's check of an X whose finiteness was left to the core, after another
    error: its error for a non-finite X is raised instead, alone (not chained to the other)."""
    try:
        check()
    except ValueError as non_finite:
        raise non_finite from None


def _all_finite(X: np.ndarray) -> bool:
    """Whether scikit-learn's finiteness check passes X at once (its own first test; a sum
    that overflows sends X to the full check)."""
    if get_config()["assume_finite"]:
        return True
    # Silent: X's own warnings (inf - inf is invalid) come once, from the check that follows.
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(X.sum()))


def _is_arraylike_not_scalar(x: Any) -> bool:
    """Whether ``init`` is an array of centres (scikit-learn's own test)."""
    arraylike = hasattr(x, "__len__") or hasattr(x, "shape") or hasattr(x, "__array__")
    return arraylike and not np.isscalar(x)


def _same_clustering(a: np.ndarray, b: np.ndarray, n_clusters: int) -> bool:
    """Whether two labelings are the same partition up to a renaming of the clusters."""
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    labels, first = np.unique(a, return_index=True)
    mapping[labels] = b[first]
    return bool(np.array_equal(mapping[a], b))


def _centres_model(
    centers: Any,
    labels: np.ndarray | None = None,
    inertia: float = 0.0,
    n_iter: int = 0,
    feature_names: list[str] | None = None,
) -> _kentro.Model:
    """A core model from centres (and, for a model file, the other fitted attributes)."""
    centers = np.asarray(centers)
    dtype = np.float32 if centers.dtype == np.float32 else np.float64
    centers = np.ascontiguousarray(centers, dtype=dtype)
    codes = (
        np.empty(0, np.int64) if labels is None else np.asarray(labels, dtype=np.int64)
    )
    return _kentro.Model.from_parts(
        centers, np.ascontiguousarray(codes), float(inertia), int(n_iter), feature_names
    )


class KMeans(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """K-Means clustering: a drop-in for :class:`sklearn.cluster.KMeans`, computed in Rust.

    Same signature, defaults, attributes, methods, warnings and error messages as
    scikit-learn's estimator, and identical labels from the same initial centres,
    except for samples exactly equidistant from two centres, where scikit-learn's
    choice depends on BLAS rounding. The work runs in kentro's Rust core on all
    cores (see :class:`kentro.threadpool_limits`) without holding the GIL, and
    Ctrl-C stops a long fit (the estimator is then left unfitted).

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters to form, and of centroids to generate.

    init : {'k-means++', 'random'}, callable or array-like of shape \
            (n_clusters, n_features), default='k-means++'
        Method for initialization:

        * ``'k-means++'``: greedy k-means++ (scikit-learn's: ``2 + int(ln k)``
          candidates per step, the best one kept).
        * ``'random'``: ``n_clusters`` distinct rows of X drawn at random
          (in proportion to their weight).
        * an array of shape (n_clusters, n_features): the initial centres.
        * a callable ``init(X, n_clusters, random_state=random_state)`` that
          returns the initial centres. It is given X as passed to ``fit``, and
          its centres are used as they are. scikit-learn instead passes X minus
          its column means and adds the means back to the centres: the same start
          for a callable whose centres move with X (rows of X, means of rows),
          not for one that returns fixed coordinates.

    n_init : 'auto' or int, default='auto'
        Number of runs from different initial centres; the result with the lowest
        inertia is kept. ``'auto'`` means 10 runs for ``init='random'`` or a
        callable, and 1 run for ``'k-means++'`` or an array.

    max_iter : int, default=300
        Maximum number of Lloyd iterations in one run.

    tol : float, default=1e-4
        Relative tolerance: a run stops when the summed squared centre shift of an
        iteration is at most ``tol`` times the mean of the feature variances of X.

    verbose : int, default=0
        Verbosity mode: print the inertia of every iteration (to ``sys.stdout``).

    random_state : int, RandomState instance or None, default=None
        Randomness of the initialization. kentro draws from numpy's ``RandomState``
        stream exactly as scikit-learn does, so that k-means++ and ``init="random"``
        choose the same initial centres as scikit-learn with the same
        ``random_state`` (float64 data; float32 data can differ where scikit-learn's
        float32 sums round differently), hence the same clusters up to exact distance
        ties (integer-valued data has many), which scikit-learn's rounding breaks one
        way and kentro by the lowest centre index: an int seeds the stream (the
        command-line tool's ``--seed`` gives the same clusters); a ``RandomState`` (or
        ``None``, numpy's global one) is continued from its state and then advanced
        past the draws, as scikit-learn's fit advances it. With ``init="random"`` and
        fewer positively weighted samples than clusters, scikit-learn refuses to
        draw; kentro takes the first unweighted samples for the rest.

    copy_x : bool, default=True
        Accepted for compatibility. kentro never modifies X: the core centres its
        own working copy of X, so ``copy_x=False`` does not save that memory (in
        scikit-learn it centres X in place instead); big C-contiguous X near the
        origin (at least 2**20 values, mean no larger than the spread) is read in
        place without a copy, so X must not be written to while such a fit runs.

    algorithm : {"lloyd", "elkan", "auto", "lloyd-plain", "hamerly", "yinyang", \
            "exact1d"}, default="lloyd"
        ``"lloyd"`` (and its alias ``"auto"``) gives exact Lloyd results, computed
        by whichever exact method kentro finds fastest for the data. The other
        names force one method: ``"elkan"`` (Elkan's bounds, n_samples x
        n_clusters memory), ``"hamerly"`` (one bound per sample, for low
        dimensions), ``"yinyang"`` (grouped bounds, for many clusters) and
        ``"lloyd-plain"`` (every distance every iteration). All of them give the
        same labels and centres from the same start; only the speed differs.

        ``"exact1d"`` is not a Lloyd method: for X with one feature it finds the
        global optimum of the inertia (dynamic programming over the sorted
        values), which Lloyd iterations only approach from their start. It
        ignores ``init``, ``n_init``, ``max_iter``, ``tol`` and ``random_state``;
        ``cluster_centers_`` come out in ascending order and ``n_iter_`` is 1.
        With fewer distinct values than ``n_clusters`` the extra centres repeat
        the largest value and stay empty (with a ``ConvergenceWarning``, as for
        duplicate points). X with more than one feature raises
        :class:`kentro.exceptions.DataError`.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Coordinates of the cluster centres, in the dtype of X (float32 or float64).

    labels_ : ndarray of shape (n_samples,), dtype int32
        The cluster of each training sample, from the fit's last assignment.
        ``predict`` on the training data gives the same labels, except possibly
        for a sample whose two nearest centres are equally far up to rounding
        (for example two centres within an ulp of each other, or duplicates):
        the two computations may then choose different ones.

    inertia_ : float
        Sum of squared distances of the samples to their closest centre, weighted
        by the sample weights if given.

    n_iter_ : int
        Number of iterations of the best run.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has
        feature names that are all strings.

    See Also
    --------
    sklearn.cluster.KMeans : The reference implementation.
    kmeans_plusplus : The k-means++ seeding on its own.
    load : Read a model written by :meth:`save` or by the ``kentro`` CLI.

    Notes
    -----
    Results depend on the seed and never on the number of threads. Sparse input
    (scipy.sparse matrices and arrays, converted to CSR as scikit-learn does) is
    clustered without densifying it: the same k-means++ rule, Lloyd iterations and
    stopping rules, with distances computed sparse row against dense centre (the
    data is not centred); every ``algorithm`` runs plain Lloyd iterations on it. Negative
    sample weights are refused (:class:`kentro.exceptions.SampleWeightError`);
    scikit-learn's validation accepts them. If ``fit`` raises (bad input, Ctrl-C,
    an exception from ``init``), the estimator is left unfitted, whatever an
    earlier fit had set.

    Examples
    --------
    >>> from kentro import KMeans
    >>> import numpy as np
    >>> X = np.array([[1, 2], [1, 4], [1, 0],
    ...               [10, 2], [10, 4], [10, 0]])
    >>> kmeans = KMeans(n_clusters=2, random_state=0, n_init="auto").fit(X)
    >>> kmeans.labels_
    array([1, 1, 1, 0, 0, 0], dtype=int32)
    >>> kmeans.predict([[0, 0], [12, 3]])
    array([1, 0], dtype=int32)
    >>> kmeans.cluster_centers_
    array([[10.,  2.],
           [ 1.,  2.]])

    These are scikit-learn's own example's results: the same ``random_state`` gives
    the same initial centres, hence the same clusters (ties aside: see
    ``random_state``).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "n_init": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions(set(_kentro.ALGORITHMS))],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: str | Callable[..., Any] | Any = "k-means++",
        n_init: str | int = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        verbose: int = 0,
        random_state: int | np.random.RandomState | None = None,
        copy_x: bool = True,
        algorithm: str = "lloyd",
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm

    # -- checks ------------------------------------------------------------------------------

    def _check_params_vs_input(self, X: np.ndarray) -> tuple[int, str]:
        """scikit-learn's checks of the settings against X: (runs, algorithm name)."""
        if X.shape[0] < self.n_clusters:
            raise ValueError(
                f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}."
            )
        if self.n_init == "auto":
            if isinstance(self.init, str) and self.init == "k-means++":
                n_init = 1
            elif isinstance(self.init, str) and self.init == "random":
                n_init = 10
            elif callable(self.init):
                n_init = 10
            else:
                n_init = 1
        else:
            n_init = int(self.n_init)
        if _is_arraylike_not_scalar(self.init) and n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only"
                f" one init in {self.__class__.__name__} instead of "
                f"n_init={n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            n_init = 1
        algorithm = self.algorithm
        if algorithm == "elkan" and self.n_clusters == 1:
            warnings.warn(
                "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead.",
                RuntimeWarning,
                stacklevel=3,
            )
            algorithm = "lloyd"
        return n_init, algorithm

    def _validate_center_shape(self, X: np.ndarray, centers: np.ndarray) -> None:
        if centers.shape[0] != self.n_clusters:
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not "
                f"match the number of clusters {self.n_clusters}."
            )
        if centers.shape[1] != X.shape[1]:
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not "
                f"match the number of features of the data {X.shape[1]}."
            )

    def _check_test_data(self, X: Any) -> Any:
        if (
            _plain_float_matrix(X)
            and X.shape[1] == getattr(self, "n_features_in_", None)
            and not hasattr(self, "feature_names_in_")
            and _all_finite(X)
        ):
            # What validate_data(reset=False) does to a float array without feature names, of
            # the fitted width and finite (~0.08 ms less per call): X itself, C-ordered.
            return np.ascontiguousarray(X)
        return validate_data(
            self,
            X,
            reset=False,
            dtype=[np.float64, np.float32],
            order="C",
            accept_sparse="csr",
        )

    def _progress(
        self, algorithm: str
    ) -> Callable[[str, int, int, float, float], None] | None:
        """The callable that prints scikit-learn's verbose lines, or None."""
        if not self.verbose:
            return None
        # scikit-learn's Elkan loop ends its iteration lines without the Lloyd loop's period.
        end = "" if algorithm == "elkan" else "."

        def progress(
            event: str, run: int, count: int, value: float, tol: float
        ) -> None:
            if event == "iteration":
                if count == 0:
                    print("Initialization complete")
                print(f"Iteration {count}, inertia {value}{end}")
            elif event == "converged_strict":
                print(f"Converged at iteration {count}: strict convergence.")
            elif event == "converged_shift":
                print(
                    f"Converged at iteration {count}: center shift {value} "
                    f"within tolerance {tol}."
                )

        return progress

    # -- fitting -----------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KMeans:
        """Compute k-means clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training instances to cluster. float32 data stays float32; float64
            C-contiguous data reaches the core without a copy. Sparse input (any
            scipy.sparse format, converted to CSR) is clustered without densifying it.

        y : Ignored
            Not used, present here for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            The weights for each observation in X (non-negative: unlike
            scikit-learn, kentro refuses negative weights). If None, all
            observations are assigned equal weight. Weights are used by the
            k-means++ and random initializations, not by an array or callable one.

        Returns
        -------
        self : object
            Fitted estimator.

        Raises
        ------
        KeyboardInterrupt
            Ctrl-C during the fit. As for any exception from ``fit``, the
            estimator is then left unfitted (the attributes of an earlier fit are
            removed too).

        Examples
        --------
        >>> import kentro
        >>> X, _ = kentro.make_blobs(300, centers=3, cluster_std=0.6, random_state=0)
        >>> km = kentro.KMeans(n_clusters=3, random_state=0).fit(X)
        >>> km.cluster_centers_.shape, km.labels_.shape
        ((3, 2), (300,))
        """
        try:
            return self._fit(X, sample_weight)
        except BaseException:
            # scikit-learn's validation sets n_features_in_ (and feature_names_in_) before
            # the fit runs, and an earlier fit's attributes may be there: none of them
            # describe a fit that failed.
            for name in _FITTED_ATTRIBUTES:
                self.__dict__.pop(name, None)
            raise

    @classmethod
    def _get_param_names(cls) -> list[str]:
        # scikit-learn reads the signature of __init__ at every get_params, which every fit
        # calls to validate the parameters: read it once per class.
        names = _PARAM_NAMES.get(cls)
        if names is None:
            names = _PARAM_NAMES[cls] = tuple(super()._get_param_names())
        return list(names)

    def _validate_params(self) -> None:
        # scikit-learn's validation (~25 us a fit) of values it has passed before is skipped:
        # plain values (of these exact types, so 1 and 1.0 and True stay apart) are remembered
        # per class once they pass.
        params = self.get_params(deep=False)
        if not all(type(v) in _PLAIN_TYPES for v in params.values()):
            super()._validate_params()
            return
        key = tuple(_validation_key(name, v) for name, v in params.items())
        constraints = self._parameter_constraints
        entry = _VALIDATED.get(type(self))
        if entry is None or entry[0] is not constraints:
            entry = _VALIDATED[type(self)] = (constraints, set())
        seen = entry[1]
        if key not in seen:
            super()._validate_params()
            if len(seen) < _VALIDATED_MAX:
                seen.add(key)

    def _validate_fit_data(self, X: Any) -> tuple[Any, bool]:
        """``validate_data(self, X, ...)`` as a fit calls it, with a shortcut for the usual case;
        also whether X's finiteness was left to the core (see ``_fit``)."""
        if _plain_float_matrix(X) and X.shape[1] >= 1:
            # What validate_data does to a float array without feature names (it returns X
            # itself, or a C-ordered copy of a strided one: a slice, a transpose, load_digits'
            # data), without its general-purpose checks (~0.1 ms per call, 0.2-0.3 ms more
            # for a strided array).
            X = np.ascontiguousarray(X)
            # With a named init, or an array of centres for one run, nothing between here and
            # the core's own scan (which refuses NaN and infinity) looks at X's values or
            # warns, so the finiteness test (a sum over X, ~30 us on load_digits, ~10 ms on
            # 100k x 128) is left to the core.
            one_run = isinstance(self.n_init, str) or self.n_init == 1
            deferred = (
                isinstance(self.init, str)
                or (_is_arraylike_not_scalar(self.init) and one_run)
            ) and not (self.algorithm == "elkan" and self.n_clusters == 1)
            if deferred or _all_finite(X):
                if hasattr(self, "feature_names_in_"):
                    delattr(self, "feature_names_in_")
                self.n_features_in_ = X.shape[1]
                return X, deferred
        return validate_data(
            self, X, dtype=[np.float64, np.float32], order="C", accept_sparse="csr"
        ), False

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X: Any, sample_weight: Any) -> KMeans:
        # Parameters were validated by _fit_context, as in scikit-learn.
        X, deferred = self._validate_fit_data(X)
        try:
            return self._fit_valid(X, sample_weight)
        except Exception:
            if deferred:
                # scikit-learn tests X first: its error for a non-finite X comes before any
                # other.
                _non_finite_error_first(
                    lambda: validate_data(
                        self, X, dtype=[np.float64, np.float32], order="C"
                    )
                )
            raise

    def _fit_valid(self, X: Any, sample_weight: Any) -> KMeans:
        fit = _sparse.fit if _sparse.issparse(X) else _kentro.fit
        n_init, algorithm = self._check_params_vs_input(X)
        # Only a callable init draws from a RandomState; the core needs just a seed.
        if callable(self.init):
            random_state = check_random_state(self.random_state)
        else:
            check_seed(self.random_state)
        weights = weights_or_none(sample_weight, X)

        init = self.init
        if _is_arraylike_not_scalar(init):
            init = check_array(init, dtype=X.dtype, copy=True, order="C")
            self._validate_center_shape(X, init)

        k = int(self.n_clusters)
        common: dict[str, Any] = dict(
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            algorithm=algorithm,
            sample_weight=weights,
            n_threads=effective_n_threads(),
            progress=self._progress(algorithm),
        )
        if callable(init):
            model = None
            for _ in range(n_init):
                centers = init(X, k, random_state=random_state)
                centers = check_array(centers, dtype=X.dtype, copy=False, order="C")
                self._validate_center_shape(X, centers)
                run = fit(
                    X, k, init=centers.astype(np.float64), n_init=1, seed=0, **common
                )
                if model is None or (
                    run.inertia < model.inertia
                    and not _same_clustering(run.labels(), model.labels(), k)
                ):
                    model = run
        else:
            init_arg = init if isinstance(init, str) else init.astype(np.float64)
            seed, rng = seed_or_state(self.random_state)
            model = fit(X, k, init=init_arg, n_init=n_init, seed=seed, **common)
            # exact1d draws nothing: the generator stays where it is.
            if rng is not None and isinstance(init, str) and algorithm != "exact1d":
                trials = default_local_trials(k)
                skip_init_draws(rng, init, n_init, k, trials, X, weights)
        assert model is not None

        for kind, message in model.warnings():
            if kind == "fewer_distinct_clusters":
                warnings.warn(message, ConvergenceWarning, stacklevel=2)
            elif kind != "explicit_init_runs_once":  # already warned above
                warnings.warn(message, UserWarning, stacklevel=2)

        centers = model.centers()
        self.cluster_centers_ = centers
        self._n_features_out = centers.shape[0]
        self.labels_ = model.labels()
        self.inertia_ = float(model.inertia)
        self.n_iter_ = int(model.n_iter)
        self._predictor = _centres_model(centers)
        return self

    def fit_predict(
        self, X: Any, y: Any = None, sample_weight: Any = None
    ) -> np.ndarray:
        """Compute cluster centres and predict the cluster of each sample.

        Equivalent to ``fit(X).labels_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training instances to cluster.

        y : Ignored
            Not used, present here for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            The weights for each observation in X.

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int32
            Index of the cluster each sample belongs to.

        Examples
        --------
        >>> from kentro import KMeans
        >>> KMeans(2, random_state=0).fit_predict([[0.0], [0.1], [5.0], [5.1]])
        array([1, 1, 0, 0], dtype=int32)
        """
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(
        self, X: Any, y: Any = None, sample_weight: Any = None
    ) -> np.ndarray:
        """Compute the clustering and the distance of each sample to every centre.

        Equivalent to ``fit(X).transform(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training instances to cluster.

        y : Ignored
            Not used, present here for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            The weights for each observation in X.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
            X transformed into the cluster-distance space.

        Examples
        --------
        >>> from kentro import KMeans
        >>> KMeans(2, random_state=0).fit_transform([[0.0], [1.0], [10.0]]).round(2)
        array([[ 0.5, 10. ],
               [ 0.5,  9. ],
               [ 9.5,  0. ]])
        """
        return self.fit(X, sample_weight=sample_weight)._transform(
            self._check_test_data(X)
        )

    # -- using the fitted model --------------------------------------------------------------

    def _predictor_for(self, X: Any) -> tuple[_kentro.Model, Any]:
        """The core model for the current ``cluster_centers_``, and X in the dtype to use
        (float64 when X and the centres differ)."""
        centers = self.cluster_centers_
        model = getattr(self, "_predictor", None)
        if (
            model is None
            or model.dtype != np.asarray(centers).dtype.name
            or not np.array_equal(model.centers(), centers)
        ):
            model = _centres_model(centers)
        if model.dtype == "float32" and X.dtype == np.float64:
            model = model.to_float64()
        elif model.dtype == "float64" and X.dtype == np.float32:
            X = X.astype(np.float64)
        return model, X

    def predict(self, X: Any) -> np.ndarray:
        """Predict the closest cluster each sample in X belongs to.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data to predict.

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int32
            Index of the cluster each sample belongs to.

        Examples
        --------
        >>> from kentro import KMeans
        >>> km = KMeans(2, random_state=0).fit([[0.0], [0.1], [5.0], [5.1]])
        >>> km.predict([[4.0], [-1.0]])
        array([0, 1], dtype=int32)
        """
        check_is_fitted(self)
        model, X = self._predictor_for(self._check_test_data(X))
        if _sparse.issparse(X):
            return _sparse.predict(model, X, effective_n_threads())
        return model.predict(X, n_threads=effective_n_threads())

    def transform(self, X: Any) -> np.ndarray:
        """Transform X to a cluster-distance space.

        Each column is the Euclidean distance to one cluster centre.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data to transform.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
            X transformed in the new space (float32 for float32 data and centres).

        Examples
        --------
        >>> from kentro import KMeans
        >>> km = KMeans(2, random_state=0).fit([[0.0], [1.0], [10.0]])
        >>> km.transform([[4.0]])
        array([[3.5, 6. ]])
        """
        check_is_fitted(self)
        return self._transform(self._check_test_data(X))

    def _transform(self, X: Any) -> np.ndarray:
        model, X = self._predictor_for(X)
        if _sparse.issparse(X):
            return _sparse.transform(model, X, effective_n_threads())
        return model.transform(X, n_threads=effective_n_threads())

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Opposite of the value of X on the K-means objective.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        y : Ignored
            Not used, present here for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            The weights for each observation in X.

        Returns
        -------
        score : float
            Minus the (weighted) sum of squared distances of X to its closest centres.

        Examples
        --------
        >>> from kentro import KMeans
        >>> km = KMeans(1, random_state=0).fit([[0.0], [2.0]])
        >>> km.score([[0.0], [4.0]])
        -10.0
        """
        check_is_fitted(self)
        X = self._check_test_data(X)
        weights = weights_or_none(sample_weight, X)
        model, X = self._predictor_for(X)
        if _sparse.issparse(X):
            return float(_sparse.score(model, X, weights, effective_n_threads()))
        return float(model.score(X, weights, n_threads=effective_n_threads()))

    # -- model files -------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted model to a kentro model file (JSON).

        The file is the command-line tool's model format: ``kentro predict`` reads it,
        and :func:`kentro.load` reads files written by ``kentro fit``. It is written to
        a temporary file first and renamed, so a reader never sees half a file.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write the model.

        Examples
        --------
        >>> import os, tempfile
        >>> import kentro
        >>> km = kentro.KMeans(2, random_state=0).fit([[0.0], [0.1], [5.0], [5.1]])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.json")
        >>> km.save(path)
        >>> kentro.load(path).predict([[4.0]])
        array([0], dtype=int32)
        """
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        model = _centres_model(
            self.cluster_centers_,
            labels=np.asarray(self.labels_),
            inertia=self.inertia_,
            n_iter=self.n_iter_,
            feature_names=None if names is None else [str(n) for n in names],
        )
        model.save(os.fspath(path))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> KMeans:
        """Read a model file written by :meth:`save` or by the ``kentro`` CLI.

        Parameters
        ----------
        path : str or os.PathLike
            The model file.

        Returns
        -------
        kmeans : KMeans
            A fitted estimator (``n_clusters`` from the file, other parameters at
            their defaults), with the file's centres, labels, inertia, iteration
            count and feature names.
        """
        model = _kentro.Model.load(os.fspath(path))
        if model.scaler is not None:
            # Predicting with the centres alone would silently skip the scaling.
            raise ModelFileError(
                f"{os.fspath(path)}: the model scales its input ({model.scaler!r}, from "
                f"`kentro fit --scale {model.scaler}`), which kentro.KMeans cannot apply; "
                "predict with `kentro predict`, or fit in Python on scaled data (for "
                "example a Pipeline with sklearn's StandardScaler)"
            )
        est = cls(n_clusters=model.n_clusters)
        centers = model.centers()
        est.cluster_centers_ = centers
        est._n_features_out = centers.shape[0]
        est.labels_ = model.labels()
        est.inertia_ = float(model.inertia)
        est.n_iter_ = int(model.n_iter)
        est.n_features_in_ = int(model.n_features)
        names = model.feature_names
        if names is not None:
            est.feature_names_in_ = np.asarray(names, dtype=object)
        est._predictor = _centres_model(centers)
        return est

    # -- scikit-learn protocol ---------------------------------------------------------------

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_predictor", None)  # rebuilt from cluster_centers_
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if hasattr(self, "cluster_centers_"):
            self._predictor = _centres_model(self.cluster_centers_)


def load(path: str | os.PathLike[str]) -> KMeans:
    """Read a kentro model file (from :meth:`KMeans.save` or the ``kentro`` CLI).

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    kmeans : KMeans
        A fitted estimator that predicts with the file's centres.

    Raises
    ------
    kentro.exceptions.ModelFileError
        The file is not a kentro model, or of a version this build cannot read, or
        it scales its input (``kentro fit --scale``), which the estimator cannot do.
    kentro.exceptions.ModelIOError
        The file cannot be read (also an :class:`OSError`).

    Examples
    --------
    >>> import os, tempfile
    >>> import kentro
    >>> X, _ = kentro.make_blobs(100, centers=2, random_state=1)
    >>> km = kentro.KMeans(2, random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.json")
    >>> km.save(path)
    >>> again = kentro.load(path)
    >>> bool((again.predict(X) == km.labels_).all())
    True
    """
    return KMeans.load(path)


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "sample_weight": ["array-like", None],
        "x_squared_norms": ["array-like", None],
        "random_state": ["random_state"],
        "n_local_trials": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def kmeans_plusplus(
    X: Any,
    n_clusters: int,
    *,
    sample_weight: Any = None,
    x_squared_norms: Any = None,
    random_state: int | np.random.RandomState | None = None,
    n_local_trials: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose ``n_clusters`` initial centres by greedy k-means++.

    As :func:`sklearn.cluster.kmeans_plusplus`: the first centre is a sample drawn
    in proportion to its weight; each next one is the best (lowest resulting
    inertia) of ``n_local_trials`` candidates drawn in proportion to weight times
    squared distance to the nearest chosen centre.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data to pick seeds from (sparse input is not supported yet).

    n_clusters : int
        The number of centroids to initialize.

    sample_weight : array-like of shape (n_samples,), default=None
        The weights for each observation in `X`. If `None`, all observations
        are assigned equal weight.

    x_squared_norms : array-like of shape (n_samples,), default=None
        Accepted for compatibility (its length is checked); kentro computes what it
        needs itself.

    random_state : int or RandomState instance, default=None
        Determines random number generation for centroid initialization. Pass
        an int for reproducible output across multiple function calls. The draws
        are numpy's, made as scikit-learn makes them: the same ``random_state``
        chooses the same samples as ``sklearn.cluster.kmeans_plusplus``, except
        where scikit-learn's own rounding decides (exactly tied candidates, or data
        far from the origin, whose squared distances it computes from norms and
        products without centring; kentro's are exact).

    n_local_trials : int, default=None
        The number of seeding trials for each center (except the first); None
        means ``2 + int(log(n_clusters))``. 1 gives vanilla k-means++.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        The initial centers for k-means, in the dtype of X.

    indices : ndarray of shape (n_clusters,)
        The index location of the chosen centers in the data array X. For a
        given index and center, X[index] = center.

    Examples
    --------
    >>> from kentro import kmeans_plusplus
    >>> import numpy as np
    >>> X = np.array([[1, 2], [1, 4], [1, 0],
    ...               [10, 2], [10, 4], [10, 0]])
    >>> centers, indices = kmeans_plusplus(X, n_clusters=2, random_state=0)
    >>> bool((X[indices] == centers).all()), len(set(X[indices, 0]))
    (True, 2)
    """
    reject_sparse(X, "kentro.kmeans_plusplus")
    # The core checks that every value is finite (in parallel, in the pass it makes anyway);
    # scikit-learn's own check, which names the problem its way, runs only when something
    # fails, so that a non-finite X is the error reported first, as scikit-learn reports it.
    X = check_array(
        X, dtype=[np.float64, np.float32], order="C", ensure_all_finite=False
    )
    try:
        weights = weights_or_none(sample_weight, X)
        if X.shape[0] < n_clusters:
            raise ValueError(
                f"n_samples={X.shape[0]} should be >= n_clusters={n_clusters}."
            )
        if x_squared_norms is not None:
            x_squared_norms = check_array(
                x_squared_norms, dtype=X.dtype, ensure_2d=False
            )
            if x_squared_norms.shape[0] != X.shape[0]:
                raise ValueError(
                    f"The length of x_squared_norms {x_squared_norms.shape[0]} "
                    f"should be equal to the length of n_samples {X.shape[0]}."
                )
        seed, rng = seed_or_state(random_state)
        trials = None if n_local_trials is None else int(n_local_trials)
        centers, indices = _kentro.kmeans_plusplus(
            X,
            int(n_clusters),
            sample_weight=weights,
            seed=seed,
            n_local_trials=trials,
            n_threads=effective_n_threads(),
        )
    except Exception:
        _non_finite_error_first(
            lambda: check_array(X, dtype=[np.float64, np.float32], order="C")
        )
        raise
    if rng is not None:
        k = int(n_clusters)
        trials = default_local_trials(k) if trials is None else trials
        skip_init_draws(rng, "k-means++", 1, k, trials, X, weights)
    return centers, indices
