//! The fitted model: centres, labels, inertia and iteration count; prediction, distances and
//! scoring for new data; and the versioned model file shared by every face.

use std::path::Path;

use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::KMeansError;
use crate::float::Float;
use crate::kernels::{nearest, sq_dist, sq_dist_scaled};
use crate::parallel::par_blocks;
use crate::preprocessing::{Scaler, ScalerRecord};
use crate::validate::{check_data, check_weights, check_width, safe_scale};

/// Something the fit did that the caller may want to know about; the fit still succeeded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FitWarning {
    /// Fewer distinct clusters were found than requested: usually duplicate points in the data.
    FewerDistinctClusters {
        /// Distinct labels in the result.
        found: usize,
        /// `n_clusters`.
        requested: usize,
    },
    /// The data is so small that the inertia underflows `f64` in its units (it reads 0 or loses
    /// digits); labels and centres are exact, because the fit ran on data rescaled by a power of
    /// two.
    InertiaUnderflow {
        /// The largest absolute value in the data.
        max_abs: f64,
    },
    /// Explicit initial centres run once, whatever `n_init` asked for.
    ExplicitInitRunsOnce {
        /// The `n_init` that was asked for.
        n_init: usize,
    },
}

impl std::fmt::Display for FitWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitWarning::FewerDistinctClusters { found, requested } => write!(
                f,
                "Number of distinct clusters ({found}) found smaller than n_clusters ({requested}). \
                 Possibly due to duplicate points in X."
            ),
            FitWarning::InertiaUnderflow { max_abs } => write!(
                f,
                "The inertia underflows in the data's units (largest |value| {max_abs:e}): labels and \
                 centres are exact, the inertia is not. Rescale the data to read it."
            ),
            FitWarning::ExplicitInitRunsOnce { n_init } => write!(
                f,
                "Explicit initial center position passed: performing only one init instead of n_init={n_init}."
            ),
        }
    }
}

/// A fitted K-Means model (also the entry point: [`KMeans::params`]).
///
/// ```
/// use kentro::{KMeans, datasets::Blobs, metrics::adjusted_rand_score};
///
/// let (x, truth) = Blobs::new(300).centers(3).cluster_std(0.6).seed(0).generate().unwrap();
/// let model = KMeans::params(3).seed(0).fit(x.view()).unwrap();
/// assert_eq!(model.centers().dim(), (3, 2));
/// assert!(adjusted_rand_score(&truth, model.labels()) > 0.95);
/// assert_eq!(model.predict(x.view()).unwrap(), model.labels());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans<F: Float = f64> {
    centers: Array2<F>,
    labels: Vec<usize>,
    inertia: f64,
    n_iter: usize,
    warnings: Vec<FitWarning>,
    feature_names: Option<Vec<String>>,
    scaler: Option<Scaler>,
}

impl<F: Float> KMeans<F> {
    pub(crate) fn from_fit(
        centers: Array2<F>,
        labels: Vec<usize>,
        inertia: f64,
        n_iter: usize,
        warnings: Vec<FitWarning>,
    ) -> Self {
        KMeans { centers, labels, inertia, n_iter, warnings, feature_names: None, scaler: None }
    }

    /// The cluster centres, one row per cluster, in the data's units.
    pub fn centers(&self) -> ArrayView2<'_, F> {
        self.centers.view()
    }

    /// The cluster of each training sample, in input order.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The weighted sum of squared distances of the training samples to their centres.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Lloyd iterations made by the best run.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// The number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.centers.nrows()
    }

    /// The number of features the model was fitted on.
    pub fn n_features(&self) -> usize {
        self.centers.ncols()
    }

    /// Whether [`KMeans::predict`], [`KMeans::transform`] and [`KMeans::score`] of `n_samples`
    /// rows do all their work on the calling thread (small data, where waking other threads
    /// costs more than the work): a face may then call them directly rather than hand them to
    /// a thread pool. The result is the same either way.
    pub fn runs_on_calling_thread(&self, n_samples: usize) -> bool {
        crate::parallel::runs_sequentially(n_samples)
    }

    /// What the fit wants the caller to know (for example fewer distinct clusters than asked).
    pub fn warnings(&self) -> &[FitWarning] {
        &self.warnings
    }

    /// Feature names recorded by the face that fitted the model (CSV header, DataFrame columns).
    pub fn feature_names(&self) -> Option<&[String]> {
        self.feature_names.as_deref()
    }

    /// Records feature names (one per feature) so that they travel in the model file.
    pub fn with_feature_names(mut self, names: Vec<String>) -> Result<Self, KMeansError> {
        check_width(names.len(), self.n_features())?;
        self.feature_names = Some(names);
        Ok(self)
    }

    /// The scaler that every input meets before the centres, if the model was fitted on scaled
    /// data (see [`crate::preprocessing`]).
    pub fn scaler(&self) -> Option<&Scaler> {
        self.scaler.as_ref()
    }

    /// Records that the model was fitted on data scaled by `scaler`: from now on `predict`,
    /// `transform` and `score` take data in the original units and scale it first, and the
    /// model file carries the scaler. The centres and the inertia stay in the scaled units.
    pub fn with_scaler(mut self, scaler: Scaler) -> Result<Self, KMeansError> {
        check_width(scaler.n_features(), self.n_features())?;
        self.scaler = Some(scaler);
        Ok(self)
    }

    /// `x` scaled by the model's scaler, or `None` without one.
    fn scaled(&self, x: ArrayView2<F>) -> Result<Option<Array2<F>>, KMeansError> {
        self.scaler.as_ref().map(|s| s.transform(x)).transpose()
    }

    /// Per row of `x` (in the original units): the nearest centre and the Euclidean distance to
    /// it, in the units of the centres.
    pub(crate) fn nearest_with_distance(&self, x: ArrayView2<F>) -> Result<Vec<(usize, f64)>, KMeansError> {
        let scaled = self.scaled(x)?;
        let x = scaled.as_ref().map_or(x, |s| s.view());
        let scale = self.check_input(x)?;
        Ok(self.nearest_all(x, scale).into_iter().map(|(j, d2)| (j, d2.sqrt() / scale)).collect())
    }

    /// The scale for data `x` and these centres, after checking `x`.
    fn check_input(&self, x: ArrayView2<F>) -> Result<f64, KMeansError> {
        check_width(x.ncols(), self.n_features())?;
        let max_abs = check_data(x)?;
        let centers_max = self.centers.iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs()));
        Ok(safe_scale::<F>(max_abs.max(centers_max)))
    }

    /// Per row of `x`: the nearest centre and the squared distance to it, in scaled units.
    fn nearest_all(&self, x: ArrayView2<F>, scale: f64) -> Vec<(usize, f64)> {
        let d = self.n_features();
        let centers = self.centers.as_slice().expect("standard layout");
        let s = F::from_f64(scale);
        let mut out = vec![(0usize, 0.0f64); x.nrows()];
        par_blocks(
            x.nrows(),
            1,
            &mut out,
            &|start, _e, o: &mut [(usize, f64)]| {
                let mut buf = Vec::with_capacity(d);
                for (slot, i) in o.iter_mut().zip(start..) {
                    let row = x.row(i);
                    let xi = row.as_slice().unwrap_or_else(|| {
                        buf.clear();
                        buf.extend(row.iter().copied());
                        &buf
                    });
                    *slot = if scale == 1.0 {
                        let (j, dist) = nearest(xi, centers, d);
                        (j, dist.to_f64())
                    } else {
                        let mut best = (0, f64::INFINITY);
                        for (j, c) in centers.chunks_exact(d).enumerate() {
                            let dist = sq_dist_scaled(xi, c, s).to_f64();
                            if dist < best.1 {
                                best = (j, dist);
                            }
                        }
                        best
                    };
                }
            },
            &|_, _| {},
        );
        out
    }

    /// The nearest centre of each row of `x`.
    pub fn predict(&self, x: ArrayView2<F>) -> Result<Vec<usize>, KMeansError> {
        let scaled = self.scaled(x)?;
        let x = scaled.as_ref().map_or(x, |s| s.view());
        let scale = self.check_input(x)?;
        Ok(self.nearest_all(x, scale).into_iter().map(|(j, _)| j).collect())
    }

    /// The Euclidean distance of each row of `x` to every centre (`n_samples × n_clusters`).
    pub fn transform(&self, x: ArrayView2<F>) -> Result<Array2<F>, KMeansError> {
        let scaled = self.scaled(x)?;
        let x = scaled.as_ref().map_or(x, |s| s.view());
        let scale = self.check_input(x)?;
        let d = self.n_features();
        let k = self.n_clusters();
        let centers = self.centers.as_slice().expect("standard layout");
        let s = F::from_f64(scale);
        let mut out = Array2::from_elem((x.nrows(), k), F::ZERO);
        let slice = out.as_slice_mut().expect("standard layout");
        par_blocks(
            x.nrows(),
            k,
            slice,
            &|start, _e, o: &mut [F]| {
                let mut buf = Vec::with_capacity(d);
                for (r, i) in o.chunks_exact_mut(k).zip(start..) {
                    let row = x.row(i);
                    let xi = row.as_slice().unwrap_or_else(|| {
                        buf.clear();
                        buf.extend(row.iter().copied());
                        &buf
                    });
                    for (slot, c) in r.iter_mut().zip(centers.chunks_exact(d)) {
                        *slot = if scale == 1.0 {
                            sq_dist(xi, c).sqrt()
                        } else {
                            F::from_f64(sq_dist_scaled(xi, c, s).to_f64().sqrt() / scale)
                        };
                    }
                }
            },
            &|_, _| {},
        );
        if let Some(v) = out.iter().find(|v| !v.is_finite()) {
            let _ = v;
            return Err(KMeansError::Overflow { what: "a distance", max_abs: self.max_abs() });
        }
        Ok(out)
    }

    /// Minus the (weighted) inertia of `x` against these centres: higher is better.
    pub fn score(
        &self,
        x: ArrayView2<F>,
        sample_weight: Option<ArrayView1<f64>>,
    ) -> Result<f64, KMeansError> {
        let scaled = self.scaled(x)?;
        let x = scaled.as_ref().map_or(x, |s| s.view());
        let scale = self.check_input(x)?;
        let weights = sample_weight.map(|w| check_weights(w, x.nrows())).transpose()?;
        let nearest = self.nearest_all(x, scale);
        let total: f64 = nearest
            .iter()
            .enumerate()
            .map(|(i, (_, dist))| weights.as_ref().map_or(1.0, |w| w[i]) * dist)
            .sum();
        let inertia = total / (scale * scale);
        if !inertia.is_finite() {
            return Err(KMeansError::Overflow { what: "the inertia", max_abs: self.max_abs() });
        }
        Ok(-inertia)
    }

    fn max_abs(&self) -> f64 {
        self.centers.iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs()))
    }
}

/// The model file format: JSON, no code, no timestamps. Bump [`FORMAT_VERSION`] on any change.
///
/// Version 2 added the optional `preprocessing` record (a [`Scaler`]). A model without one is
/// still written as version 1, which every build reads; a model with one is version 2, which
/// builds that cannot apply the scaler refuse by its version.
pub const FORMAT_VERSION: u64 = 2;
/// The version written for a model without preprocessing.
const FORMAT_VERSION_PLAIN: u64 = 1;
/// The model file's format name.
pub const FORMAT_NAME: &str = "kentro.kmeans";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    format: String,
    version: u64,
    dtype: String,
    n_clusters: usize,
    n_features: usize,
    centers: Vec<Vec<f64>>,
    inertia: f64,
    n_iter: usize,
    labels: Vec<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    feature_names: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preprocessing: Option<ScalerRecord>,
}

impl<F: Float> KMeans<F> {
    /// The model as JSON text (format [`FORMAT_VERSION`]); centres round-trip exactly.
    pub fn to_json(&self) -> String {
        let file = ModelFile {
            format: FORMAT_NAME.to_string(),
            version: if self.scaler.is_some() { FORMAT_VERSION } else { FORMAT_VERSION_PLAIN },
            dtype: F::DTYPE.to_string(),
            n_clusters: self.n_clusters(),
            n_features: self.n_features(),
            centers: self.centers.outer_iter().map(|r| r.iter().map(|v| v.to_f64()).collect()).collect(),
            inertia: self.inertia,
            n_iter: self.n_iter,
            labels: self.labels.clone(),
            feature_names: self.feature_names.clone(),
            preprocessing: self.scaler.as_ref().map(ScalerRecord::from),
        };
        serde_json::to_string(&file).expect("a model always serialises")
    }

    /// Reads a model from JSON text, checking the format, version, dtype, shapes and values.
    /// A `float32` model loads as `f64` exactly; a `float64` model does not load as `f32`.
    pub fn from_json(text: &str) -> Result<Self, KMeansError> {
        // Format and version first, leniently, so that a newer file is refused for its version
        // rather than for a field this build does not know.
        #[derive(Deserialize)]
        struct Header {
            format: Option<String>,
            version: Option<u64>,
        }
        let header: Header = serde_json::from_str(text)
            .map_err(|e| KMeansError::Model(format!("not a kentro model file ({e})")))?;
        if header.format.as_deref() != Some(FORMAT_NAME) {
            let found = header.format.map_or("no format field".to_string(), |f| format!("format {f:?}"));
            return Err(KMeansError::Model(format!(
                "not a kentro model file: {found}, expected {FORMAT_NAME:?}"
            )));
        }
        match header.version {
            Some(FORMAT_VERSION_PLAIN | FORMAT_VERSION) => {}
            Some(found) => return Err(KMeansError::ModelVersion { found, supported: FORMAT_VERSION }),
            None => return Err(KMeansError::Model("no format version".into())),
        }
        let file: ModelFile = serde_json::from_str(text).map_err(|e| KMeansError::Model(e.to_string()))?;
        if file.preprocessing.is_some() && header.version != Some(FORMAT_VERSION) {
            return Err(KMeansError::Model(format!(
                "a preprocessing record needs format version {FORMAT_VERSION}"
            )));
        }
        match (file.dtype.as_str(), F::DTYPE) {
            (a, b) if a == b => {}
            ("float32", "float64") => {}
            _ => return Err(KMeansError::ModelDtype { found: file.dtype.clone(), expected: F::DTYPE }),
        }
        let (k, d) = (file.n_clusters, file.n_features);
        if file.centers.len() != k || file.centers.iter().any(|r| r.len() != d) {
            return Err(KMeansError::Model(format!("centers must be {k} rows of {d} values")));
        }
        let centers = Array2::from_shape_fn((k, d), |(i, j)| F::from_f64(file.centers[i][j]));
        let mut model = Self::from_parts(centers, file.labels, file.inertia, file.n_iter)?;
        if let Some(record) = file.preprocessing {
            let scaler = Scaler::try_from(record)?;
            if scaler.n_features() != d {
                return Err(KMeansError::Model(format!(
                    "the scaler has {} features, the model {d}",
                    scaler.n_features()
                )));
            }
            model = model.with_scaler(scaler)?;
        }
        match file.feature_names {
            Some(names) if names.len() != d => {
                Err(KMeansError::Model(format!("{} feature names for {d} features", names.len())))
            }
            Some(names) => model.with_feature_names(names),
            None => Ok(model),
        }
    }

    /// A model from its parts, checked as a model file is: at least one centre of at least one
    /// feature, finite centres and inertia (inertia ≥ 0), every label below the number of
    /// centres. For faces that hold a model in their own form (the Python estimator).
    pub fn from_parts(
        centers: Array2<F>,
        labels: Vec<usize>,
        inertia: f64,
        n_iter: usize,
    ) -> Result<Self, KMeansError> {
        let (k, d) = centers.dim();
        if k == 0 || d == 0 {
            return Err(KMeansError::Model(format!("n_clusters={k} and n_features={d} must be >= 1")));
        }
        if centers.iter().any(|v| !v.is_finite()) || !inertia.is_finite() || inertia < 0.0 {
            return Err(KMeansError::Model("centers and inertia must be finite".into()));
        }
        if let Some(&l) = labels.iter().find(|&&l| l >= k) {
            return Err(KMeansError::Model(format!("label {l} is out of range for {k} clusters")));
        }
        let centers = centers.as_standard_layout().into_owned();
        Ok(KMeans {
            centers,
            labels,
            inertia,
            n_iter,
            warnings: Vec::new(),
            feature_names: None,
            scaler: None,
        })
    }

    /// Writes the model file atomically: to a temporary file in the same folder, then renamed.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), KMeansError> {
        let path = path.as_ref();
        write_atomic(path, self.to_json().as_bytes())
            .map_err(|source| KMeansError::Io { path: path.into(), source })
    }

    /// Reads a model file written by [`KMeans::save`] (by any kentro face).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, KMeansError> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|source| KMeansError::Io { path: path.into(), source })?;
        Self::from_json(&text)
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`, so a
/// reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| std::io::Error::other("not a file path"))?;
    let tmp = dir.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
