"""How many threads kentro's core uses: all cores by default, ``OMP_NUM_THREADS`` when set
(joblib sets it in its workers), and :class:`threadpool_limits` above both."""

from __future__ import annotations

import itertools
import os
import threading
from numbers import Integral
from types import TracebackType

__all__ = ["threadpool_limits"]

# The limits in force, oldest first: one entry per live threadpool_limits(n) object (an int n),
# keyed by a token unique to the object so that ending one removes exactly its own entry. The newest entry is
# the limit; an empty list means no limit. The lock makes creating and ending limits from several
# threads safe: ending one never reinstates a limit that another thread has already ended.
_lock = threading.Lock()
_active: list[tuple[int, int]] = []
_tokens = itertools.count()


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
    with _lock:
        limit = _active[-1][1] if _active else None
    if limit is not None:
        return limit
    return _env_threads("OMP_NUM_THREADS") or 0


class threadpool_limits:
    """Limit the threads kentro uses, as a context manager (like ``threadpoolctl``'s).

    The limit applies to every kentro call in the process (all threads) from the
    moment the object is created until the ``with`` block ends or
    :meth:`restore_original_limits` is called. It takes precedence over
    ``OMP_NUM_THREADS``. Results never depend on the thread count.

    ``threadpoolctl.threadpool_limits`` does not reach kentro (its Rust threads are
    not an OpenMP or BLAS pool): use this class, or ``OMP_NUM_THREADS``.

    Limits may nest and may be used from several threads at once: while several
    are in force, the most recently created one applies, and ending one (in any
    order) removes only its own limit, so the others stay as they were and the
    setting returns to the original once all have ended.

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
        if limits is not None and (
            isinstance(limits, bool) or not isinstance(limits, Integral) or limits < 1
        ):
            raise ValueError(f"limits must be a positive int or None, got {limits!r}")
        self._key = -1
        self._active = limits is not None
        if limits is not None:
            with _lock:
                self._key = next(_tokens)
                _active.append((self._key, int(limits)))

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
        """End this limit (the other limits in force, if any, stay); calling it again does
        nothing."""
        with _lock:
            if not self._active:
                return
            self._active = False
            for i in range(len(_active) - 1, -1, -1):
                if _active[i][0] == self._key:
                    del _active[i]
                    break
