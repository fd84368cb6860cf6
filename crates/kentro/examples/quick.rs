//! Fits the tutorial's blobs and prints the result.
use kentro::{KMeans, datasets::Blobs, metrics::adjusted_rand_score};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (x, truth) = Blobs::new(300).centers(3).cluster_std(0.6).seed(0).generate()?;
    let model = KMeans::params(3).seed(0).fit(x.view())?;
    println!(
        "inertia {:.3}, {} iterations, ARI {:.4}",
        model.inertia(),
        model.n_iter(),
        adjusted_rand_score(&truth, model.labels())
    );
    println!("centres\n{}", model.centers());
    Ok(())
}
