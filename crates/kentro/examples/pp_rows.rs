//! Times k-means++ and the fit's iterations on a raw float64 file (row-major, little-endian),
//! for developers: `cargo run --release -p kentro --example pp_rows -- FILE D K [SEEDS]`.
//! With `FIT=1`, also times every algorithm from the same k-means++ start.
use std::time::Instant;

use kentro::{Algorithm, Init, KMeans};
use ndarray::Array2;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&a[1]).expect("read the file");
    let d: usize = a[2].parse().unwrap();
    let k: usize = a[3].parse().unwrap();
    let seeds: u64 = a.get(4).map_or(3, |s| s.parse().unwrap());
    let v: Vec<f64> = bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
    let x = Array2::from_shape_vec((v.len() / d, d), v).unwrap();
    let mut times = Vec::new();
    let mut start = None;
    for seed in 0..seeds {
        let t = Instant::now();
        let (c, idx) = kentro::kmeans_plusplus(x.view(), k, None, seed, None).unwrap();
        times.push(t.elapsed().as_secs_f64());
        let h = idx.iter().fold(0u64, |h, &i| h.wrapping_mul(1_000_003).wrapping_add(i as u64));
        print!("seed {seed}: {h:016x}  ");
        start.get_or_insert(c);
    }
    times.sort_by(f64::total_cmp);
    println!("\n{}: k-means++ median {:.4} s, min {:.4} s", a[1], times[times.len() / 2], times[0]);
    if std::env::var("FIT").is_ok() {
        let start = start.unwrap().mapv(|v| v);
        for algorithm in [Algorithm::Auto, Algorithm::Lloyd, Algorithm::Hamerly, Algorithm::Yinyang] {
            let params = KMeans::params(k).init(Init::Centers(start.clone())).algorithm(algorithm);
            let params = params.check().unwrap();
            let t = Instant::now();
            let m = params.fit(x.view()).unwrap();
            let el = t.elapsed().as_secs_f64();
            println!(
                "  {algorithm:?}: {el:.3} s, {} iterations, {:.2} ms/iter, inertia {:.6e}",
                m.n_iter(),
                el * 1e3 / m.n_iter() as f64,
                m.inertia()
            );
        }
    }
}
