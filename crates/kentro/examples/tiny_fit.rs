//! Repeats one small fit many times, for developers tuning the fixed costs of a fit under
//! `perf stat` (CPU time, not wall time):
//! `cargo run --release -p kentro --example tiny_fit -- FILE D K REPS WHAT`, where FILE is raw
//! row-major little-endian float64 and WHAT is `default` (the default fit for seeds 0..4, f64),
//! `default32` (the same in f32), `pp` (k-means++ alone, seeds 0..4), or `start:ALGORITHM:MAX_ITER`
//! (from the k-means++ start of seed 0, the seeding not timed; ALGORITHM: auto, lloyd, hamerly,
//! yinyang or elkan).
//! Prints the iterations and inertia of the last fit and the mean wall time per repetition (run
//! inside a thread pool, as the faces run a fit).
use std::time::Instant;

use kentro::{Algorithm, Init, KMeans};
use ndarray::Array2;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&a[1]).expect("read the file");
    let d: usize = a[2].parse().expect("D");
    let k: usize = a[3].parse().expect("K");
    let reps: usize = a[4].parse().expect("REPS");
    let what = a[5].as_str();
    let v: Vec<f64> = bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
    let x = Array2::from_shape_vec((v.len() / d, d), v).expect("whole rows");
    let x32 = x.mapv(|v| v as f32);
    // As the faces run a fit: inside the thread pool.
    let pool = rayon::ThreadPoolBuilder::new().build().expect("a thread pool");
    let (summary, per) = pool.install(|| run(&x, &x32, k, reps, what));
    println!("{what}: {summary}; {per:.4} ms wall per repetition");
}

fn run(x: &Array2<f64>, x32: &Array2<f32>, k: usize, reps: usize, what: &str) -> (String, f64) {
    let mut t = Instant::now();
    let mut summary = String::new();
    match what {
        "default" | "default32" => {
            let params: Vec<_> = (0..5).map(|s| KMeans::params(k).seed(s).check().unwrap()).collect();
            for _ in 0..reps {
                for p in &params {
                    let (it, inertia) = if what == "default" {
                        let m = p.fit(x.view()).unwrap();
                        (m.n_iter(), m.inertia())
                    } else {
                        let m = p.fit(x32.view()).unwrap();
                        (m.n_iter(), m.inertia())
                    };
                    summary = format!("{it} iterations, inertia {inertia:.6e}");
                }
            }
        }
        "pp" => {
            for _ in 0..reps {
                for s in 0..5 {
                    let (c, _) = kentro::kmeans_plusplus(x.view(), k, None, s, None).unwrap();
                    summary = format!("{:.6e}", c.sum());
                }
            }
        }
        start => {
            let parts: Vec<&str> = start.split(':').collect();
            let algorithm = match parts[1] {
                "auto" => Algorithm::Auto,
                "lloyd" => Algorithm::Lloyd,
                "hamerly" => Algorithm::Hamerly,
                "yinyang" => Algorithm::Yinyang,
                "elkan" => Algorithm::Elkan,
                other => panic!("unknown algorithm {other}"),
            };
            let max_iter: usize = parts[2].parse().expect("MAX_ITER");
            let (c, _) = kentro::kmeans_plusplus(x.view(), k, None, 0, None).unwrap();
            let p = KMeans::params(k).init(Init::Centers(c)).algorithm(algorithm).max_iter(max_iter);
            let p = p.check().unwrap();
            // The seeding is not timed.
            t = Instant::now();
            for _ in 0..reps {
                let m = p.fit(x.view()).unwrap();
                summary = format!("{} iterations, inertia {:.6e}", m.n_iter(), m.inertia());
            }
        }
    }
    (summary, t.elapsed().as_secs_f64() * 1e3 / reps as f64)
}
