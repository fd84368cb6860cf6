//! Times one fit from a cached k-means++ start on a raw float64 file, for measuring the cost of
//! the iterations under `perf stat` (run once with MAX_ITER=1 to subtract the fixed costs):
//! `cargo run --release -p kentro --example iter_cost -- FILE D K ALGO [f32] [MAX_ITER]`.
//! The start is cached beside the other runs' in `$START_DIR` (default `/tmp`).
use std::time::Instant;

use kentro::{Algorithm, Float, Init, KMeans};
use ndarray::{Array2, ArrayView2};

fn fit<F: Float>(x: ArrayView2<F>, start: &Array2<f64>, algorithm: Algorithm, max_iter: usize) {
    let k = start.nrows();
    let params = KMeans::params(k).init(Init::Centers(start.clone())).algorithm(algorithm).max_iter(max_iter);
    let t = Instant::now();
    let m = params.check().unwrap().fit(x).unwrap();
    let el = t.elapsed().as_secs_f64();
    let h = m.labels().iter().fold(0u64, |h, &l| h.wrapping_mul(1_000_003).wrapping_add(l as u64));
    println!(
        "{algorithm:?}: {el:.3} s wall, {} iterations, inertia {:.12e}, labels {h:016x}",
        m.n_iter(),
        m.inertia()
    );
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&a[1]).expect("read the file");
    let d: usize = a[2].parse().unwrap();
    let k: usize = a[3].parse().unwrap();
    let algorithm = match a[4].as_str() {
        "lloyd" => Algorithm::Lloyd,
        "hamerly" => Algorithm::Hamerly,
        "yinyang" => Algorithm::Yinyang,
        "elkan" => Algorithm::Elkan,
        _ => Algorithm::Auto,
    };
    let f32_data = a.get(5).is_some_and(|s| s == "f32");
    let max_iter: usize = a.get(6).map_or(300, |s| s.parse().unwrap());
    let v: Vec<f64> = bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
    let x = Array2::from_shape_vec((v.len() / d, d), v).unwrap();
    let dir = std::env::var("START_DIR").unwrap_or_else(|_| "/tmp".into());
    let name = std::path::Path::new(&a[1]).file_name().unwrap().to_string_lossy().into_owned();
    let cache = format!("{dir}/{name}.k{k}.start");
    let start = match std::fs::read(&cache) {
        Ok(b) => {
            let c: Vec<f64> = b.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
            Array2::from_shape_vec((k, d), c).unwrap()
        }
        Err(_) => {
            let (c, _) = kentro::kmeans_plusplus(x.view(), k, None, 0, None).unwrap();
            let b: Vec<u8> = c.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(&cache, b).unwrap();
            c
        }
    };
    if f32_data {
        fit(x.mapv(|v| v as f32).view(), &start, algorithm, max_iter);
    } else {
        fit(x.view(), &start, algorithm, max_iter);
    }
}
