//! Lloyd on blobs, n = 100k, d in {2, 32, 128}, k in {8, 64, 256}: a fixed start (the first k
//! rows) and a fixed number of iterations (tol = 0, max_iter = 5), so each sample times the same
//! work; plain Lloyd (`lloyd/…`) and the default exact method (`auto/…`, bound-based), which
//! gives the same result. Run with `cargo bench -p kentro --bench fit`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kentro::datasets::Blobs;
use kentro::{Algorithm, Init, KMeans};

const N: usize = 100_000;
const ITERATIONS: usize = 5;

fn lloyd(c: &mut Criterion) {
    let mut group = c.benchmark_group("5_iterations_n100k");
    group.sample_size(10);
    for d in [2usize, 32, 128] {
        let (x, _) = Blobs::new(N).n_features(d).centers(16).cluster_std(3.0).seed(0).generate().unwrap();
        for k in [8usize, 64, 256] {
            for (name, algorithm) in [("lloyd", Algorithm::Lloyd), ("auto", Algorithm::Auto)] {
                let init = x.slice(ndarray::s![0..k, ..]).to_owned();
                let params = KMeans::params(k)
                    .init(Init::Centers(init))
                    .tol(0.0)
                    .max_iter(ITERATIONS)
                    .algorithm(algorithm)
                    .check()
                    .unwrap();
                group.bench_with_input(BenchmarkId::new(format!("{name}/d{d}"), k), &k, |b, _| {
                    b.iter(|| params.fit(x.view()).unwrap())
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, lloyd);
criterion_main!(benches);
