//! Times fits on generated data: `cargo run --release -p kentro --example timing -- N D K ITERS [f32]`.
use std::time::Instant;

use kentro::datasets::Blobs;
use kentro::{Init, KMeans};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let num = |i: usize, d: usize| a.get(i).map_or(d, |s| s.parse().unwrap());
    let (n, d, k, iters) = (num(1, 100_000), num(2, 128), num(3, 256), num(4, 10));
    let f32_data = a.get(5).is_some_and(|s| s == "f32");
    let (x, _) = Blobs::new(n).n_features(d).centers(k.min(64)).cluster_std(5.0).seed(0).generate().unwrap();
    let init = x.slice(ndarray::s![0..k, ..]).to_owned();
    let params = KMeans::params(k).init(Init::Centers(init)).tol(0.0).max_iter(iters).check().unwrap();
    let t = Instant::now();
    let (inertia, n_iter) = if f32_data {
        let m = params.fit(x.mapv(|v| v as f32).view()).unwrap();
        (m.inertia(), m.n_iter())
    } else {
        let m = params.fit(x.view()).unwrap();
        (m.inertia(), m.n_iter())
    };
    let el = t.elapsed().as_secs_f64();
    println!(
        "n={n} d={d} k={k} iters={n_iter}: {:.3} s, {:.1} ms/iter, inertia {inertia:.6e}",
        el,
        el * 1e3 / n_iter as f64
    );
    if std::env::var_os("SKIP_PP").is_some() {
        return;
    }
    let t = Instant::now();
    let _ = kentro::kmeans_plusplus(x.view(), k, None, 0, None).unwrap();
    println!("k-means++: {:.3} s", t.elapsed().as_secs_f64());
}
