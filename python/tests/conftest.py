"""Shared settings for kentro's Python tests (run against the installed wheel)."""

import os

import sklearn.cluster  # noqa: F401  (loads scikit-learn's OpenMP runtime before the limit)
from hypothesis import settings
from threadpoolctl import threadpool_limits

# 2-core machines are slow to start: no per-example deadline.
settings.register_profile("kentro", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "kentro"))

# scikit-learn sums per-thread partial results in no fixed order (scikit-learn issue 27518); the
# parity tests compare against one-thread scikit-learn, whose results do not depend on timing
# (and whose OpenMP threads would spin-wait on a busy 2-core machine).
_sklearn_one_thread = threadpool_limits(limits=1)
