//! CPU time per iteration of each exact algorithm on a raw float64 file (row-major,
//! little-endian), for developers: `cargo run --release -p kentro --example lloyd_iters -- FILE D K
//! [ALGORITHMS] [f32]`
//! (FILE may be `blobs:N:CENTRES`: generated blobs). With `FIT=1`, the CPU time of whole fits
//! with the default tolerance instead. Every fit starts from the same k-means++ centres and runs with `tol = 0`
//! twice (5 and 25 iterations); the CPU time of all threads (`/proc/self/task/*/schedstat`) of
//! the longer fit less the shorter, over the extra iterations, is the cost of one iteration.
//! With `STEPS=N`, the CPU time of fits of 1 to N iterations instead (where a fit's time goes).
use kentro::{Algorithm, Float, Init, KMeans};
use ndarray::{Array2, ArrayView2};

/// CPU nanoseconds of every thread of this process so far (Linux).
fn cpu_ns() -> u64 {
    std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn time<F: Float>(
    x: ArrayView2<F>,
    start: &Array2<F>,
    algorithm: Algorithm,
    max_iter: usize,
) -> (u64, usize) {
    let params = KMeans::params(start.nrows())
        .init(Init::Centers(start.mapv(|v| v.to_f64())))
        .algorithm(algorithm)
        .max_iter(max_iter)
        .tol(0.0)
        .check()
        .unwrap();
    let t = cpu_ns();
    let m = params.fit(x).unwrap();
    (cpu_ns() - t, m.n_iter())
}

fn run<F: Float>(x: Array2<F>, k: usize, algorithms: &[Algorithm]) {
    let (start, _) = kentro::kmeans_plusplus(x.view(), k, None, 0, None).unwrap();
    if let Ok(steps) = std::env::var("STEPS") {
        // The CPU time of fits of 1, 2, … STEPS iterations (`tol = 0`): where the time goes.
        for &a in algorithms {
            time(x.view(), &start, a, 2);
            let mut last = 0;
            for m in 1..=steps.parse::<usize>().expect("STEPS") {
                let (t, n) = time(x.view(), &start, a, m);
                println!(
                    "  {a:?} {n} iterations: {:.1} CPU ms (+{:.1})",
                    t as f64 / 1e6,
                    (t as f64 - last as f64) / 1e6
                );
                last = t;
            }
        }
        return;
    }
    if std::env::var("FIT").is_ok() {
        // Whole fits with the default tolerance, from the same start.
        for &a in algorithms {
            let params = KMeans::params(k).init(Init::Centers(start.mapv(|v| v.to_f64()))).algorithm(a);
            let params = params.check().unwrap();
            let t = cpu_ns();
            let m = params.fit(x.view()).unwrap();
            let el = (cpu_ns() - t) as f64 / 1e6;
            println!("  {a:?} fit: {el:.1} CPU ms, {} iterations, inertia {:.6e}", m.n_iter(), m.inertia());
        }
        return;
    }
    for &a in algorithms {
        time(x.view(), &start, a, 2); // warm the pool and the caches
        let (t1, n1) = time(x.view(), &start, a, 5);
        let (t2, n2) = time(x.view(), &start, a, 25);
        let per = if n2 > n1 { (t2 as f64 - t1 as f64) / (n2 - n1) as f64 / 1e6 } else { f64::NAN };
        println!(
            "  {a:?}: {per:.3} CPU ms/iter ({n1} and {n2} iterations: {:.1} and {:.1} CPU ms)",
            t1 as f64 / 1e6,
            t2 as f64 / 1e6
        );
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let d: usize = a[2].parse().unwrap();
    let k: usize = a[3].parse().unwrap();
    let algorithms: Vec<Algorithm> = a
        .get(4)
        .map_or("lloyd,hamerly,yinyang,auto", |s| s.as_str())
        .split(',')
        .map(|s| match s {
            "lloyd" => Algorithm::Lloyd,
            "hamerly" => Algorithm::Hamerly,
            "yinyang" => Algorithm::Yinyang,
            "elkan" => Algorithm::Elkan,
            "auto" => Algorithm::Auto,
            other => panic!("unknown algorithm {other}"),
        })
        .collect();
    let x = match a[1].strip_prefix("blobs:") {
        // `blobs:N:CENTRES`: N samples of D features around CENTRES centres.
        Some(spec) => {
            let (n, centers) = spec.split_once(':').expect("blobs:N:CENTRES");
            let blobs = kentro::datasets::Blobs::new(n.parse().unwrap()).n_features(d);
            blobs.centers(centers.parse().unwrap()).cluster_std(2.0).seed(7).generate().unwrap().0
        }
        None => {
            let bytes = std::fs::read(&a[1]).expect("read the file");
            let v: Vec<f64> =
                bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
            Array2::from_shape_vec((v.len() / d, d), v).unwrap()
        }
    };
    println!("{} ({} × {d}), k = {k}", a[1], x.nrows());
    if a.get(5).is_some_and(|s| s == "f32") {
        run(x.mapv(|v| v as f32), k, &algorithms);
    } else {
        run(x, k, &algorithms);
    }
}
