"""How many threads kentro's core uses: all cores by default, ``OMP_NUM_THREADS`` when set
(joblib sets it in its workers), and :class:`threadpool_limits` above both."""

from __future__ import annotations

import os
import threading
from numbers import Integral
from types import TracebackType

__all__ = ["threadpool_limits"]

_lock = threading.Lock()
_limit: int | None = None


def _env_threads(name: str) -> int | None:
    """A positive thread count from an environment variable (``"4"`` or OpenMP's ``"4,2"``)."""
    value = os.environ.get(name, "").split(",")[0].strip()
    try:
        n = int(value)
    except ValueError:
        return None
    return n if n > 0 else None


def effective_n_threads() -> int:
    """The thread count for the next call into the core; 0 means every core."""
    limit = _limit
    if limit is not None:
        return limit
    return _env_threads("OMP_NUM_THREADS") or 0


class threadpool_limits:
    """Limit the threads kentro uses, as a context manager (like ``threadpoolctl``'s).

    The limit applies to every kentro call in the process (all threads) until the
    ``with`` block ends or :meth:`restore_original_limits` is called. It takes
    precedence over ``OMP_NUM_THREADS``. Results never depend on the thread count.

    Parameters
    ----------
    limits : int or None, default=None
        The most threads to use; ``None`` leaves the current setting unchanged.

    Examples
    --------
    >>> import kentro
    >>> X, _ = kentro.make_blobs(1000, centers=3, random_state=0)
    >>> with kentro.threadpool_limits(1):
    ...     one = kentro.KMeans(3, random_state=0).fit(X)
    >>> every = kentro.KMeans(3, random_state=0).fit(X)
    >>> bool((one.cluster_centers_ == every.cluster_centers_).all())
    True
    """

    def __init__(self, limits: int | None = None) -> None:
        global _limit
        if limits is not None and (
            isinstance(limits, bool) or not isinstance(limits, Integral) or limits < 1
        ):
            raise ValueError(f"limits must be a positive int or None, got {limits!r}")
        with _lock:
            self._original = _limit
            if limits is not None:
                _limit = int(limits)

    def __enter__(self) -> threadpool_limits:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.restore_original_limits()

    def restore_original_limits(self) -> None:
        """Restore the limit in force before this object was created."""
        global _limit
        with _lock:
            _limit = self._original
