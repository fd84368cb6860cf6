"""The PyO3 glue between kentro's Rust core and this package (private)."""

from collections.abc import Callable
from typing import Any, Literal, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALGORITHMS",
    "MODEL_FORMAT_VERSION",
    "Model",
    "__version__",
    "_panic_for_tests",
    "adjusted_rand_score",
    "calinski_harabasz_score",
    "davies_bouldin_score",
    "fit",
    "fit_csr",
    "homogeneity_completeness_v_measure",
    "kmeans_plusplus",
    "make_blobs",
    "normalized_mutual_info_score",
    "outlier_fit",
    "outlier_scores",
    "pool_threads",
    "predict_csr",
    "score_csr",
    "select_k",
    "silhouette_samples",
    "silhouette_score",
    "silhouette_score_sampled",
    "transform_csr",
]

__version__: str
MODEL_FORMAT_VERSION: int
ALGORITHMS: tuple[str, ...]

_Float = np.float32 | np.float64
_Matrix = npt.NDArray[np.float32] | npt.NDArray[np.float64]
# A seed, or a numpy RandomState's state (get_state()'s key and position) to continue.
_Seed = int | tuple[npt.NDArray[np.uint32], int]

@final
class Model:
    """A fitted K-Means model from kentro's Rust core."""

    @staticmethod
    def from_json(text: str) -> Model: ...
    @staticmethod
    def load(path: str) -> Model: ...
    @staticmethod
    def from_parts(
        centers: _Matrix,
        labels: npt.NDArray[np.int64],
        inertia: float,
        n_iter: int,
        feature_names: list[str] | None = None,
    ) -> Model: ...
    def to_float64(self) -> Model: ...
    @property
    def dtype(self) -> Literal["float32", "float64"]: ...
    @property
    def n_clusters(self) -> int: ...
    @property
    def n_features(self) -> int: ...
    @property
    def inertia(self) -> float: ...
    @property
    def n_iter(self) -> int: ...
    @property
    def feature_names(self) -> list[str] | None: ...
    @property
    def scaler(self) -> Literal["standard", "minmax"] | None: ...
    def centers(self) -> npt.NDArray[_Float]: ...
    def labels(self) -> npt.NDArray[np.int32]: ...
    def warnings(self) -> list[tuple[str, str]]: ...
    def with_feature_names(self, names: list[str]) -> Model: ...
    def predict(self, x: _Matrix, n_threads: int = 0) -> npt.NDArray[np.int32]: ...
    def transform(self, x: _Matrix, n_threads: int = 0) -> npt.NDArray[_Float]: ...
    def score(
        self,
        x: _Matrix,
        sample_weight: npt.NDArray[np.float64] | None = None,
        n_threads: int = 0,
    ) -> float: ...
    def to_json(self) -> str: ...
    def save(self, path: str) -> None: ...

def fit(
    x: _Matrix,
    n_clusters: int,
    *,
    init: str | npt.NDArray[np.float64],
    n_init: int,
    max_iter: int,
    tol: float,
    seed: _Seed,
    algorithm: str,
    sample_weight: npt.NDArray[np.float64] | None = None,
    n_threads: int = 0,
    progress: Callable[[str, int, int, float, float], object] | None = None,
) -> Model: ...
def kmeans_plusplus(
    x: _Matrix,
    n_clusters: int,
    *,
    sample_weight: npt.NDArray[np.float64] | None = None,
    seed: _Seed = ...,
    n_local_trials: int | None = None,
    n_threads: int = 0,
) -> tuple[npt.NDArray[_Float], npt.NDArray[np.int64]]: ...
def make_blobs(
    n_samples: int,
    n_features: int,
    centers: int | npt.NDArray[np.float64],
    cluster_std: list[float],
    center_box: tuple[float, float],
    shuffle: bool,
    seed: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
def adjusted_rand_score(
    labels_true: npt.NDArray[np.int64], labels_pred: npt.NDArray[np.int64]
) -> float: ...
def silhouette_samples(
    x: _Matrix, labels: npt.NDArray[np.int64], n_threads: int = 0
) -> npt.NDArray[np.float64]: ...
def silhouette_score(
    x: _Matrix, labels: npt.NDArray[np.int64], n_threads: int = 0
) -> float: ...
def silhouette_score_sampled(
    x: _Matrix,
    labels: npt.NDArray[np.int64],
    sample_size: int,
    seed: int,
    n_threads: int = 0,
) -> float: ...
def calinski_harabasz_score(
    x: _Matrix, labels: npt.NDArray[np.int64], n_threads: int = 0
) -> float: ...
def davies_bouldin_score(
    x: _Matrix, labels: npt.NDArray[np.int64], n_threads: int = 0
) -> float: ...
def normalized_mutual_info_score(
    labels_true: npt.NDArray[np.int64], labels_pred: npt.NDArray[np.int64]
) -> float: ...
def homogeneity_completeness_v_measure(
    labels_true: npt.NDArray[np.int64],
    labels_pred: npt.NDArray[np.int64],
    beta: float = 1.0,
) -> tuple[float, float, float]: ...
def pool_threads(n_threads: int = 0) -> int: ...
def outlier_fit(
    x: npt.NDArray[np.float64],
    centers: npt.NDArray[np.float64],
    contamination: float | None,
    n_threads: int = 0,
) -> tuple[npt.NDArray[np.float64], float, npt.NDArray[np.float64]]: ...
def outlier_scores(
    x: npt.NDArray[np.float64],
    centers: npt.NDArray[np.float64],
    spreads: npt.NDArray[np.float64],
    offset: float,
    n_threads: int = 0,
) -> npt.NDArray[np.float64]: ...
def _panic_for_tests(n_threads: int = 0) -> None: ...

# CSR input (crates/kentro-py/src/sparse.rs): a matrix as (data, indices, indptr, shape).
_Vector = npt.NDArray[np.float32] | npt.NDArray[np.float64]

def fit_csr(
    data: _Vector,
    indices: npt.NDArray[np.int64],
    indptr: npt.NDArray[np.int64],
    shape: tuple[int, int],
    n_clusters: int,
    *,
    init: str | npt.NDArray[np.float64],
    n_init: int,
    max_iter: int,
    tol: float,
    seed: _Seed,
    algorithm: str,
    sample_weight: npt.NDArray[np.float64] | None = None,
    n_threads: int = 0,
    progress: Callable[[str, int, int, float, float], object] | None = None,
) -> Model: ...
def predict_csr(
    model: Model,
    data: _Vector,
    indices: npt.NDArray[np.int64],
    indptr: npt.NDArray[np.int64],
    shape: tuple[int, int],
    n_threads: int = 0,
) -> npt.NDArray[np.int32]: ...
def transform_csr(
    model: Model,
    data: _Vector,
    indices: npt.NDArray[np.int64],
    indptr: npt.NDArray[np.int64],
    shape: tuple[int, int],
    n_threads: int = 0,
) -> npt.NDArray[_Float]: ...
def score_csr(
    model: Model,
    data: _Vector,
    indices: npt.NDArray[np.int64],
    indptr: npt.NDArray[np.int64],
    shape: tuple[int, int],
    sample_weight: npt.NDArray[np.float64] | None = None,
    n_threads: int = 0,
) -> float: ...
def select_k(
    x: _Matrix,
    k_min: int,
    k_max: int,
    *,
    n_refs: int,
    reference: str,
    seed: int,
    sample_size: int | None,
    init: str,
    n_init: int,
    max_iter: int,
    tol: float,
    algorithm: str,
    n_threads: int = 0,
) -> dict[str, Any]: ...
