//! CPU time of k-means++ alone on a raw float64 file (row-major, little-endian), for developers
//! on a shared machine: `cargo run --release -p kentro --example pp_cpu -- FILE D K [SEEDS]`.
//! Sums the run time of every thread of the process (Linux `/proc/self/task/*/schedstat`)
//! around each call, so loading the file is not counted; prints the hash of the chosen indices
//! per seed (as `pp_rows` does) and the median and lowest CPU time.
use kentro::kmeans_plusplus;
use ndarray::Array2;

/// Nanoseconds every thread of this process has run so far.
fn cpu_ns() -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("Linux /proc") {
        let path = task.expect("a task").path().join("schedstat");
        if let Ok(s) = std::fs::read_to_string(path) {
            total += s.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    total
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&a[1]).expect("read the file");
    let d: usize = a[2].parse().unwrap();
    let k: usize = a[3].parse().unwrap();
    let seeds: u64 = a.get(4).map_or(3, |s| s.parse().unwrap());
    let v: Vec<f64> = bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
    let x = Array2::from_shape_vec((v.len() / d, d), v).unwrap();
    let mut times = Vec::new();
    for seed in 0..seeds {
        let t = cpu_ns();
        let (_, idx) = kmeans_plusplus(x.view(), k, None, seed, None).unwrap();
        times.push((cpu_ns() - t) as f64 * 1e-9);
        let h = idx.iter().fold(0u64, |h, &i| h.wrapping_mul(1_000_003).wrapping_add(i as u64));
        print!("seed {seed}: {h:016x}  ");
    }
    times.sort_by(f64::total_cmp);
    println!("\n{}: k-means++ CPU median {:.4} s, min {:.4} s", a[1], times[times.len() / 2], times[0]);
}
