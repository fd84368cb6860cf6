//! Shared helpers for the integration tests: reading the scikit-learn fixtures.
#![allow(dead_code)]

use std::path::PathBuf;

use ndarray::Array2;
use serde::Deserialize;

pub fn fixture_dir(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(kind)
}

pub fn to_array(rows: &[Vec<f64>]) -> Array2<f64> {
    let d = rows.first().map_or(0, |r| r.len());
    Array2::from_shape_fn((rows.len(), d), |(i, j)| rows[i][j])
}

/// One scikit-learn KMeans run from given initial centres (see tests/fixtures/README.md).
#[derive(Deserialize)]
pub struct ParityCase {
    pub name: String,
    pub dtype: String,
    pub n_clusters: usize,
    pub max_iter: usize,
    pub tol: f64,
    #[serde(rename = "X")]
    pub x: Vec<Vec<f64>>,
    pub sample_weight: Option<Vec<f64>>,
    pub init: Vec<Vec<f64>>,
    pub labels: Vec<usize>,
    pub centers: Vec<Vec<f64>>,
    pub inertia: f64,
    pub n_iter: usize,
    pub empty_cluster_relocated: bool,
}

pub fn parity_cases() -> Vec<ParityCase> {
    let mut cases: Vec<ParityCase> = std::fs::read_dir(fixture_dir("parity"))
        .expect("fixtures/parity exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap())
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// scikit-learn's k-means++ potentials over many seeds on one data set.
#[derive(Deserialize)]
pub struct PlusPlusCase {
    pub name: String,
    pub n_clusters: usize,
    pub n_local_trials: usize,
    #[serde(rename = "X")]
    pub x: Vec<Vec<f64>>,
    pub potentials: Vec<f64>,
}

pub fn plusplus_cases() -> Vec<PlusPlusCase> {
    ["blobs_k10", "uniform_5d_k20", "blobs_24d_k12"]
        .iter()
        .map(|n| {
            let p = fixture_dir("kmeanspp").join(format!("{n}.json"));
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        })
        .collect()
}
