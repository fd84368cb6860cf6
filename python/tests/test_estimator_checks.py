"""scikit-learn's estimator checks, as scikit-learn runs them on its own KMeans."""

from kentro import KMeans
from sklearn.utils.estimator_checks import parametrize_with_checks

# The only checks scikit-learn marks as expected failures for its own KMeans
# (sklearn/utils/_test_common/instance_generator.py), for the same reason: weights act as
# repetitions in the updates, but k-means++ draws differ between a weighted sample and a repeated
# one, so the fits start from different centres. Sparse input is taken (as CSR), so the sparse
# checks run for real, the sparse variant of this one included.
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "sample_weight is not equivalent to removing/repeating samples "
        "(the same as scikit-learn's own KMeans)."
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "sample_weight is not equivalent to removing/repeating samples "
        "(the same as scikit-learn's own KMeans)."
    ),
}


# The parameters scikit-learn's own checks use for KMeans (to keep them fast).
@parametrize_with_checks(
    [KMeans(n_clusters=2, n_init=2, max_iter=5)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
