//! Times fits on generated blobs, to compare algorithms:
//! `cargo run --release -p kentro --example timing -- N D K [f32]`.
use std::time::Instant;

use kentro::datasets::Blobs;
use kentro::{Algorithm, Float, Init, KMeans};
use ndarray::Array2;

fn time<F: Float>(x: &Array2<F>, k: usize, algorithm: Algorithm) {
    let init = x.slice(ndarray::s![0..k, ..]).mapv(|v| v.to_f64());
    let params = KMeans::params(k).init(Init::Centers(init)).algorithm(algorithm).check().unwrap();
    let t = Instant::now();
    let m = params.fit(x.view()).unwrap();
    let el = t.elapsed().as_secs_f64();
    println!(
        "  {algorithm:?}: {:.3} s, {} iterations, {:.1} ms/iter, inertia {:.6e}",
        el,
        m.n_iter(),
        el * 1e3 / m.n_iter() as f64,
        m.inertia()
    );
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let num = |i: usize, d: usize| a.get(i).map_or(d, |s| s.parse().unwrap());
    let (n, d, k) = (num(1, 100_000), num(2, 128), num(3, 256));
    let f32_data = a.get(4).is_some_and(|s| s == "f32");
    let (x, _) = Blobs::new(n).n_features(d).centers(k.min(64)).cluster_std(5.0).seed(0).generate().unwrap();
    println!("n={n} d={d} k={k} {}", if f32_data { "f32" } else { "f64" });
    let only = std::env::var("ALGO").ok();
    for algorithm in [Algorithm::Lloyd, Algorithm::Hamerly, Algorithm::Yinyang, Algorithm::Elkan] {
        if only.as_ref().is_some_and(|o| *o != format!("{algorithm:?}")) {
            continue;
        }
        if f32_data {
            time(&x.mapv(|v| v as f32), k, algorithm);
        } else {
            time(&x, k, algorithm);
        }
    }
    if only.as_ref().is_some_and(|o| o != "pp") {
        return;
    }
    let t = Instant::now();
    let _ = kentro::kmeans_plusplus(x.view(), k, None, 0, None).unwrap();
    println!("  k-means++: {:.3} s", t.elapsed().as_secs_f64());
}
