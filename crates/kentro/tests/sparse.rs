//! CSR input: the sparse fit equals the dense fit on the same data, prediction agrees, malformed
//! CSR arrays are refused, and spherical k-means recovers planted topics.

use kentro::metrics::adjusted_rand_score;
use kentro::{CsrMatrix, Float, Init, KMeans, KMeansError, NInit};
use ndarray::{Array1, Array2};

/// A small deterministic generator (xorshift64*), so the tests need no fixtures.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() * n as f64) as usize % n
    }
}

/// TF-IDF-like rows: `topics` groups of "words", each row drawing most of its non-zeros from its
/// topic's words; a few rows are empty and the last `empty_cols` columns never occur.
fn corpus(
    n: usize,
    topics: usize,
    words_per_topic: usize,
    empty_cols: usize,
    seed: u64,
) -> (Array2<f64>, Vec<usize>) {
    let mut g = Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let d = topics * words_per_topic + empty_cols;
    let mut x = Array2::zeros((n, d));
    let mut truth = Vec::with_capacity(n);
    for i in 0..n {
        let t = i % topics;
        truth.push(t);
        if i % 17 == 5 {
            continue; // an empty document
        }
        for _ in 0..8 {
            let w = if g.next() < 0.85 {
                t * words_per_topic + g.below(words_per_topic)
            } else {
                g.below(topics * words_per_topic)
            };
            x[[i, w]] += 0.2 + g.next();
        }
    }
    (x, truth)
}

fn to_f32(x: &Array2<f64>) -> Array2<f32> {
    x.mapv(|v| v as f32)
}

fn max_rel_diff<F: Float>(a: ndarray::ArrayView2<F>, b: ndarray::ArrayView2<F>) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs())).max(1e-300);
    a.iter().zip(b.iter()).fold(0.0f64, |m, (x, y)| m.max((x.to_f64() - y.to_f64()).abs())) / scale
}

fn check_same<F: Float>(
    x: &Array2<F>,
    params: kentro::KMeansParams,
    weights: Option<&Array1<f64>>,
    tol: f64,
) {
    let csr = CsrMatrix::from_dense(x.view()).unwrap();
    let valid = params.check().unwrap();
    let (dense, sparse) = match weights {
        None => (valid.fit(x.view()).unwrap(), valid.fit_csr(csr.view()).unwrap()),
        Some(w) => (
            valid.fit_weighted(x.view(), w.view()).unwrap(),
            valid.fit_csr_weighted(csr.view(), w.view()).unwrap(),
        ),
    };
    assert_eq!(sparse.labels(), dense.labels(), "labels");
    assert_eq!(sparse.n_iter(), dense.n_iter(), "n_iter");
    let dc = max_rel_diff(sparse.centers(), dense.centers());
    assert!(dc <= tol, "centres differ by {dc:e} (relative)");
    let di = (sparse.inertia() - dense.inertia()).abs() / dense.inertia();
    assert!(di <= tol, "inertia {} vs {}", sparse.inertia(), dense.inertia());
    // The CSR model predicts the training rows as the dense one does.
    assert_eq!(sparse.predict_csr(csr.view()).unwrap(), dense.predict(x.view()).unwrap());
}

#[test]
fn csr_fit_equals_dense_fit_f64() {
    for seed in 0..4 {
        let (x, _) = corpus(300, 4, 12, 5, seed);
        check_same(&x, KMeans::params(4).seed(seed), None, 1e-12);
        check_same(&x, KMeans::params(6).seed(seed).tol(0.0), None, 1e-12);
    }
}

#[test]
fn csr_fit_equals_dense_fit_f32() {
    for seed in 0..4 {
        let (x, _) = corpus(300, 4, 12, 5, seed);
        check_same(&to_f32(&x), KMeans::params(4).seed(seed), None, 1e-5);
    }
}

#[test]
fn csr_fit_equals_dense_fit_weighted_random_init_and_runs() {
    let (x, _) = corpus(400, 5, 10, 3, 7);
    let mut g = Gen(99);
    let w: Array1<f64> = (0..x.nrows()).map(|_| 0.1 + 3.0 * g.next()).collect();
    check_same(&x, KMeans::params(5).seed(3), Some(&w), 1e-12);
    check_same(&x, KMeans::params(5).seed(3).init(Init::Random), Some(&w), 1e-12);
    check_same(&x, KMeans::params(5).seed(1).n_init(NInit::Runs(3)), None, 1e-12);
    check_same(&to_f32(&x), KMeans::params(5).seed(3), Some(&w), 1e-5);
}

#[test]
fn csr_fit_equals_dense_fit_from_explicit_centres_with_empty_cluster() {
    let (x, _) = corpus(200, 3, 8, 4, 11);
    // Centre 2 is far from everything (in an empty column): it starts empty and is relocated.
    let mut init = Array2::zeros((3, x.ncols()));
    init.row_mut(0).assign(&x.row(0));
    init.row_mut(1).assign(&x.row(1));
    init[[2, x.ncols() - 1]] = 100.0;
    check_same(&x, KMeans::params(3).init(Init::Centers(init)), None, 1e-12);
}

#[test]
fn every_algorithm_gives_the_same_csr_fit() {
    let (x, _) = corpus(200, 3, 8, 2, 5);
    let csr = CsrMatrix::from_dense(x.view()).unwrap();
    let base = KMeans::params(3).seed(2).fit_csr(csr.view()).unwrap();
    for a in [
        kentro::Algorithm::Lloyd,
        kentro::Algorithm::Elkan,
        kentro::Algorithm::Hamerly,
        kentro::Algorithm::Yinyang,
    ] {
        let m = KMeans::params(3).seed(2).algorithm(a).fit_csr(csr.view()).unwrap();
        assert_eq!(m, base, "{a:?}");
    }
}

#[test]
fn csr_fit_is_identical_for_any_thread_count() {
    let (x, _) = corpus(5000, 6, 20, 3, 2);
    let csr = CsrMatrix::from_dense(x.view()).unwrap();
    let fit = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| KMeans::params(6).seed(4).fit_csr(csr.view()).unwrap())
    };
    let one = fit(1);
    assert_eq!(fit(3), one);
    assert_eq!(fit(4), one);
}

#[test]
fn predict_transform_and_score_on_csr_match_dense() {
    let (x, _) = corpus(150, 3, 10, 2, 4);
    let (new, _) = corpus(40, 3, 10, 2, 8);
    let model = KMeans::params(3).seed(0).fit(x.view()).unwrap();
    let csr = CsrMatrix::from_dense(new.view()).unwrap();
    assert_eq!(model.predict_csr(csr.view()).unwrap(), model.predict(new.view()).unwrap());
    let t = model.transform_csr(csr.view()).unwrap();
    assert!(max_rel_diff(t.view(), model.transform(new.view()).unwrap().view()) < 1e-12);
    let w: Array1<f64> = (0..new.nrows()).map(|i| 1.0 + (i % 3) as f64).collect();
    let (a, b) = (
        model.score_csr(csr.view(), Some(w.view())).unwrap(),
        model.score(new.view(), Some(w.view())).unwrap(),
    );
    assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
    // The width is checked.
    let narrow = CsrMatrix::<f64>::new((1, 2), vec![0, 1], vec![0], vec![1.0]).unwrap();
    assert!(matches!(model.predict_csr(narrow.view()), Err(KMeansError::FeatureMismatch { got: 2, .. })));
}

#[test]
fn huge_values_are_rescaled_not_overflowed() {
    let (x, _) = corpus(120, 3, 6, 1, 3);
    let big = x.mapv(|v| v * 1e150);
    let csr = CsrMatrix::from_dense(big.view()).unwrap();
    let m = KMeans::params(3).seed(0).fit_csr(csr.view()).unwrap();
    let small = KMeans::params(3).seed(0).fit_csr(CsrMatrix::from_dense(x.view()).unwrap().view()).unwrap();
    assert_eq!(m.labels(), small.labels());
    assert!(m.centers().iter().all(|v| v.is_finite()));
    let rel = (m.inertia() / 1e300 - small.inertia()).abs() / small.inertia();
    assert!(rel < 1e-12, "inertia {} vs {} × 1e300", m.inertia(), small.inertia());
    let score = m.score_csr(csr.view(), None).unwrap();
    assert!((score + m.inertia()).abs() <= 1e-12 * m.inertia(), "score {score}");
    assert_eq!(m.predict_csr(csr.view()).unwrap(), m.labels());
}

fn csr_err(shape: (usize, usize), indptr: Vec<usize>, indices: Vec<usize>, data: Vec<f64>) -> String {
    match CsrMatrix::new(shape, indptr, indices, data) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn malformed_csr_is_refused_with_the_problem_named() {
    assert!(
        csr_err((2, 3), vec![0, 1], vec![0], vec![1.0])
            .contains("indptr has 2 entries, expected n_rows + 1 = 3")
    );
    assert!(csr_err((1, 3), vec![1, 1], vec![0], vec![1.0]).contains("indptr[0] = 1"));
    assert!(
        csr_err((1, 3), vec![0, 1], vec![0, 1], vec![1.0]).contains("indices has 2 entries but data has 1")
    );
    assert!(
        csr_err((1, 3), vec![0, 1], vec![0, 1], vec![1.0, 2.0]).contains("indptr[1] = 1 but there are 2")
    );
    assert!(csr_err((2, 3), vec![0, 2, 1], vec![0], vec![1.0]).contains("indptr decreases at row 1"));
    assert!(
        csr_err((3, 3), vec![0, 2, 1, 2], vec![0, 1], vec![1.0, 2.0]).contains("indptr decreases at row 1")
    );
    assert!(
        csr_err((1, 3), vec![0, 1], vec![3], vec![1.0]).contains("column index 3, but there are 3 columns")
    );
    assert!(csr_err((1, 3), vec![0, 2], vec![2, 1], vec![1.0, 1.0]).contains("strictly increasing"));
    assert!(csr_err((1, 3), vec![0, 2], vec![1, 1], vec![1.0, 1.0]).contains("got 1 then 1"));
    match CsrMatrix::new((2, 3), vec![0, 1, 2], vec![0, 2], vec![1.0, f64::NAN]) {
        Err(KMeansError::NonFinite { row: 1, col: 2, .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn csr_fit_refuses_bad_data_and_weights() {
    let empty = CsrMatrix::<f64>::new((0, 3), vec![0], vec![], vec![]).unwrap();
    assert!(matches!(KMeans::params(1).fit_csr(empty.view()), Err(KMeansError::EmptyData)));
    let no_cols = CsrMatrix::<f64>::new((2, 0), vec![0, 0, 0], vec![], vec![]).unwrap();
    assert!(matches!(KMeans::params(1).fit_csr(no_cols.view()), Err(KMeansError::NoFeatures)));
    let x = CsrMatrix::<f64>::new((2, 2), vec![0, 1, 2], vec![0, 1], vec![1.0, 2.0]).unwrap();
    assert!(matches!(KMeans::params(3).fit_csr(x.view()), Err(KMeansError::TooFewSamples { .. })));
    let w = Array1::from(vec![1.0, -1.0]);
    let valid = KMeans::params(1).check().unwrap();
    assert!(matches!(
        valid.fit_csr_weighted(x.view(), w.view()),
        Err(KMeansError::BadWeight { index: 1, .. })
    ));
    let init = Init::Centers(Array2::zeros((1, 3)));
    assert!(matches!(
        KMeans::params(1).init(init).fit_csr(x.view()),
        Err(KMeansError::InitFeatures { got: 3, .. })
    ));
}

#[test]
fn an_all_zero_matrix_fits() {
    let x = CsrMatrix::<f64>::new((5, 3), vec![0; 6], vec![], vec![]).unwrap();
    let m = KMeans::params(2).fit_csr(x.view()).unwrap();
    assert_eq!(m.inertia(), 0.0);
    assert!(m.centers().iter().all(|&v| v == 0.0));
}

#[test]
fn spherical_kmeans_recovers_planted_topics() {
    for seed in 0..3 {
        let (x, truth) = corpus(400, 5, 15, 4, 20 + seed);
        // Rows of very different lengths: only their direction carries the topic.
        let x = Array2::from_shape_fn(x.dim(), |(i, j)| x[[i, j]] * (1.0 + (i % 7) as f64 * 3.0));
        let csr = CsrMatrix::from_dense(x.view()).unwrap();
        let m = KMeans::params(5).seed(seed).n_init(NInit::Runs(3)).fit_spherical_csr(csr.view()).unwrap();
        // Empty documents have no topic: the recovery is judged on the others.
        let docs: Vec<usize> = (0..x.nrows()).filter(|i| i % 17 != 5).collect();
        let pick = |l: &[usize]| docs.iter().map(|&i| l[i]).collect::<Vec<_>>();
        let ari = adjusted_rand_score(&pick(&truth), &pick(m.labels()));
        assert!(ari >= 0.9, "seed {seed}: ARI {ari}");
        // Centres are unit vectors, the objective is Σ(1 − cos), and the fit predicts its labels.
        for c in m.centers().outer_iter() {
            let norm: f64 = c.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-12, "centre norm {norm}");
        }
        let objective: f64 = (0..x.nrows())
            .map(|i| {
                let row = x.row(i);
                let norm = row.dot(&row).sqrt();
                let cos = if norm > 0.0 { row.dot(&m.centers().row(m.labels()[i])) / norm } else { 0.0 };
                1.0 - cos
            })
            .sum();
        assert!((m.objective() - objective).abs() < 1e-9 * objective, "{} vs {objective}", m.objective());
        assert_eq!(m.predict_csr(csr.view()).unwrap(), m.labels());
        // Empty documents go to cluster 0, by the documented convention.
        assert!((0..x.nrows()).filter(|i| i % 17 == 5).all(|i| m.labels()[i] == 0));
        // Dense input gives the same model.
        let dense = KMeans::params(5).seed(seed).n_init(NInit::Runs(3)).fit_spherical(x.view()).unwrap();
        assert_eq!(dense, m);
    }
}

#[test]
fn spherical_ignores_row_length_where_euclidean_does_not() {
    // Two directions; lengths vary wildly within each.
    let x = ndarray::array![[1.0, 0.0], [100.0, 1.0], [0.0, 1.0], [1.0, 100.0], [0.02, 0.0], [0.0, 0.03f64]];
    let m = KMeans::params(2).seed(0).fit_spherical(x.view()).unwrap();
    let l = m.labels();
    assert!(l[0] == l[1] && l[1] == l[4] && l[2] == l[3] && l[3] == l[5] && l[0] != l[2], "{l:?}");
    let f32_model = KMeans::params(2).seed(0).fit_spherical(to_f32(&x).view()).unwrap();
    assert_eq!(f32_model.labels(), l);
}

#[test]
fn exact_1d_on_csr_is_the_dense_optimum_and_refuses_more_columns() {
    use kentro::Algorithm;
    // Lloyd from k-means++ stays at a local optimum here; the exact algorithm must not.
    let x = Array2::from_shape_vec((9, 1), vec![0.0, 0.0, 1.0, 5.0, 5.5, 6.0, 20.0, 21.0, 0.0]).unwrap();
    let csr = CsrMatrix::from_dense(x.view()).unwrap();
    let params = KMeans::params(3).algorithm(Algorithm::Exact1d);
    let sparse = params.fit_csr(csr.view()).unwrap();
    let dense = params.fit(x.view()).unwrap();
    assert_eq!(sparse.labels(), dense.labels());
    assert_eq!(sparse.centers(), dense.centers());
    assert_eq!(sparse.inertia(), dense.inertia());
    assert_eq!(sparse.n_iter(), 1);

    let wide =
        CsrMatrix::from_dense(Array2::from_shape_fn((6, 2), |(i, j)| (i * 2 + j) as f64).view()).unwrap();
    let e = params.fit_csr(wide.view()).unwrap_err();
    assert!(matches!(e, KMeansError::Exact1dFeatures { n_features: 2 }), "{e}");
}

#[test]
fn a_model_that_scales_its_input_refuses_csr_rows() {
    use kentro::preprocessing::{ScaleMethod, Scaler};
    let x = Array2::from_shape_vec((4, 2), vec![0.0, 1000.0, 1.0, 1000.0, 10.0, 0.0, 11.0, 0.0]).unwrap();
    let scaler = Scaler::fit(ScaleMethod::Standard, x.view()).unwrap();
    let scaled = scaler.transform(x.view()).unwrap();
    let model = KMeans::params(2).seed(0).fit(scaled.view()).unwrap().with_scaler(scaler).unwrap();
    // Dense input is scaled on the way in...
    assert_eq!(model.predict(x.view()).unwrap(), model.labels());
    // ...sparse input cannot be (centring would densify it), so it is refused, not mis-scored.
    let csr = CsrMatrix::from_dense(x.view()).unwrap();
    assert!(matches!(model.predict_csr(csr.view()), Err(KMeansError::ScaledSparse)));
    assert!(matches!(model.transform_csr(csr.view()), Err(KMeansError::ScaledSparse)));
    assert!(matches!(model.score_csr(csr.view(), None), Err(KMeansError::ScaledSparse)));
}
