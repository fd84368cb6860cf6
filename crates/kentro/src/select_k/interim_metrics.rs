//! TEMPORARY: minimal silhouette / Calinski-Harabasz / Davies-Bouldin so that this branch builds
//! before the core metrics (`kentro::metrics`, branch k5-metrics) are merged. To be replaced by
//! `crate::metrics` and deleted.

use ndarray::ArrayView2;

use crate::float::Float;

fn sq(a: ndarray::ArrayView1<f64>, b: ndarray::ArrayView1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn centroids(x: &ndarray::Array2<f64>, labels: &[usize], k: usize) -> (ndarray::Array2<f64>, Vec<f64>) {
    let mut c = ndarray::Array2::zeros((k, x.ncols()));
    let mut n = vec![0.0; k];
    for (row, &l) in x.outer_iter().zip(labels) {
        let mut cr = c.row_mut(l);
        cr += &row;
        n[l] += 1.0;
    }
    for (l, &m) in n.iter().enumerate() {
        if m > 0.0 {
            c.row_mut(l).mapv_inplace(|v| v / m);
        }
    }
    (c, n)
}

pub(crate) fn silhouette_score<F: Float>(x: ArrayView2<F>, labels: &[usize]) -> Result<f64, String> {
    let x = x.mapv(|v| v.to_f64());
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let n = labels.len();
    let mut counts = vec![0.0; k];
    labels.iter().for_each(|&l| counts[l] += 1.0);
    let mut total = 0.0;
    for i in 0..n {
        let mut sums = vec![0.0; k];
        for j in 0..n {
            sums[labels[j]] += sq(x.row(i), x.row(j)).sqrt();
        }
        let own = labels[i];
        if counts[own] <= 1.0 {
            continue;
        }
        let a = sums[own] / (counts[own] - 1.0);
        let b = (0..k)
            .filter(|&c| c != own && counts[c] > 0.0)
            .map(|c| sums[c] / counts[c])
            .fold(f64::INFINITY, f64::min);
        total += (b - a) / a.max(b);
    }
    Ok(total / n as f64)
}

pub(crate) fn silhouette_score_sampled<F: Float>(
    x: ArrayView2<F>,
    labels: &[usize],
    sample_size: usize,
    seed: u64,
) -> Result<f64, String> {
    let mut rng = crate::rng::Rng::new(seed);
    let mut idx: Vec<usize> = (0..labels.len()).collect();
    for i in 0..sample_size {
        let j = i + rng.below(idx.len() - i);
        idx.swap(i, j);
    }
    idx.truncate(sample_size);
    let xs = x.select(ndarray::Axis(0), &idx);
    let ls: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
    silhouette_score(xs.view(), &ls)
}

pub(crate) fn calinski_harabasz_score<F: Float>(x: ArrayView2<F>, labels: &[usize]) -> Result<f64, String> {
    let x = x.mapv(|v| v.to_f64());
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let n = labels.len() as f64;
    let mean = x.mean_axis(ndarray::Axis(0)).expect("rows");
    let (c, counts) = centroids(&x, labels, k);
    let mut within = 0.0;
    for (row, &l) in x.outer_iter().zip(labels) {
        within += sq(row, c.row(l));
    }
    let mut between = 0.0;
    let mut used = 0.0;
    for l in 0..k {
        if counts[l] > 0.0 {
            between += counts[l] * sq(c.row(l), mean.view());
            used += 1.0;
        }
    }
    Ok(if within == 0.0 { 1.0 } else { between * (n - used) / (within * (used - 1.0)) })
}

pub(crate) fn davies_bouldin_score<F: Float>(x: ArrayView2<F>, labels: &[usize]) -> Result<f64, String> {
    let x = x.mapv(|v| v.to_f64());
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let (c, counts) = centroids(&x, labels, k);
    let mut scatter = vec![0.0; k];
    for (row, &l) in x.outer_iter().zip(labels) {
        scatter[l] += sq(row, c.row(l)).sqrt();
    }
    let used: Vec<usize> = (0..k).filter(|&l| counts[l] > 0.0).collect();
    for &l in &used {
        scatter[l] /= counts[l];
    }
    let mut total = 0.0;
    for &i in &used {
        let mut worst: f64 = 0.0;
        for &j in &used {
            if i != j {
                let d = sq(c.row(i), c.row(j)).sqrt();
                let r = if d == 0.0 { 0.0 } else { (scatter[i] + scatter[j]) / d };
                worst = worst.max(r);
            }
        }
        total += worst;
    }
    Ok(total / used.len() as f64)
}
