"""Input checks shared by the estimators and functions (scikit-learn's helpers first)."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state


def reject_sparse(X: Any, what: str) -> None:
    """Raise a clear TypeError for sparse input, which the core does not take yet."""
    if sp.issparse(X):
        raise TypeError(
            f"{what} does not support sparse input yet (got {type(X).__name__}). "
            "kentro never densifies a sparse matrix silently: convert it yourself with "
            "X.toarray() if it fits in memory, or use scikit-learn for sparse data."
        )


# The largest seed numpy's RandomState (hence check_random_state) accepts.
_MAX_SEED = 2**32 - 1


def _is_seed(random_state: Any) -> bool:
    """Whether ``random_state`` is an int that check_random_state accepts (found without
    seeding a ``RandomState``, which takes about 0.1 ms)."""
    return (
        isinstance(random_state, Integral)
        and not isinstance(random_state, bool)
        and 0 <= int(random_state) <= _MAX_SEED
    )


def check_seed(random_state: Any) -> None:
    """scikit-learn's check of ``random_state`` (its errors), when only a seed is needed."""
    if not _is_seed(random_state):
        check_random_state(random_state)


def draw_seed(random_state: Any) -> int:
    """The core's seed for a scikit-learn ``random_state``.

    An int is used as the seed itself (so the CLI's ``--seed`` gives the same clusters); a
    ``RandomState`` (or ``None``: numpy's global one) gives a seed drawn from it, so that
    ``np.random.seed`` and shared ``RandomState`` objects behave as with scikit-learn.
    """
    if _is_seed(random_state):
        return int(random_state)
    rng = check_random_state(random_state)  # also rejects invalid ints
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(rng.randint(np.iinfo(np.int32).max))


def seed_or_state(random_state: Any) -> tuple[Any, np.random.RandomState | None]:
    """Where the core's initial-centre draws start, for a scikit-learn ``random_state``.

    An int is the seed itself (the core seeds numpy's stream with it, as ``RandomState(int)``
    does). A ``RandomState`` (or ``None``: numpy's global one) is continued from its current
    state, which is returned as ``(key, pos)`` together with the generator, so that the caller
    can then advance the generator past the draws (:func:`skip_init_draws`), as scikit-learn's
    fit would have. A ``RandomState`` over another bit generator (not MT19937) has no such
    state: it gives a seed drawn from it instead.
    """
    if _is_seed(random_state):
        return int(random_state), None
    rng = check_random_state(random_state)  # also rejects invalid ints
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state), None
    if not isinstance(rng._bit_generator, np.random.MT19937):
        return int(rng.randint(np.iinfo(np.int32).max)), None
    _, key, pos, *_ = rng.get_state(legacy=True)
    return (np.ascontiguousarray(key, dtype=np.uint32), int(pos)), rng


def default_local_trials(n_clusters: int) -> int:
    """scikit-learn's k-means++ trials per centre, ``2 + int(log(k))`` (the core's default)."""
    return 2 + int(np.log(n_clusters))


def skip_init_draws(
    rng: np.random.RandomState,
    init: str,
    n_init: int,
    n_clusters: int,
    n_local_trials: int,
    X: Any,
    sample_weight: np.ndarray | None,
) -> None:
    """Advances ``rng`` past the draws of ``n_init`` initialisations, as scikit-learn makes
    them: k-means++ draws one number for its first centre and ``n_local_trials`` per further
    centre; random starts are ``choice(n, k, replace=False, p=w / w.sum())``, replayed."""
    if init == "k-means++":
        rng.random_sample(n_init * (1 + (n_clusters - 1) * n_local_trials))
        return
    n = X.shape[0]
    w = (
        np.ones(n, dtype=X.dtype)
        if sample_weight is None
        else sample_weight.astype(X.dtype)
    )
    p = w / w.sum()
    try:
        for _ in range(n_init):
            rng.choice(n, size=n_clusters, replace=False, p=p)
    except ValueError:
        # Fewer weighted samples than clusters: numpy refuses to draw (kentro's core takes
        # unweighted samples instead), so there is no scikit-learn state to match.
        pass


def weights_or_none(sample_weight: Any, X: np.ndarray) -> np.ndarray | None:
    """scikit-learn's sample-weight validation, as float64 for the core; None stays None."""
    from sklearn.utils.validation import _check_sample_weight

    if sample_weight is None:
        return None
    # Round to X's dtype first, as scikit-learn does, so float32 fits see the same weights.
    sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
    return np.ascontiguousarray(sample_weight, dtype=np.float64)
