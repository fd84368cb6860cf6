//! `kentro blobs`: Gaussian blobs as a CSV file (features `x0…`, then the true `label`).

use anyhow::{Context, bail};
use kentro::datasets::Blobs;

use crate::cli::BlobsArgs;
use crate::output;

/// Generates the blobs and writes them to `--out` or stdout.
pub fn run(args: BlobsArgs) -> anyhow::Result<()> {
    if args.n_samples == 0 {
        bail!("-n/--n-samples must be >= 1, got 0");
    }
    if let Some(out) = &args.out {
        output::check_targets(&[], &[("--out", out)])?;
    }
    let (x, labels) = Blobs::new(args.n_samples)
        .centers(args.centers)
        .n_features(args.features)
        .cluster_std(args.std)
        .seed(args.seed)
        .generate()
        .context("invalid blobs settings")?;
    let csv = output::samples_csv(x.view(), &labels);
    output::write_file_or_stdout(args.out.as_deref(), csv.as_bytes())?;
    if let Some(path) = &args.out {
        let columns: Vec<String> = (0..x.ncols()).map(|j| format!("x{j}")).collect();
        let columns = super::short_list(&columns);
        output::write_stdout(
            format!(
                "wrote {}: {} samples from {} blobs; columns {columns}, label (the blob of each \
                 sample: leave it out of a fit with --exclude label)\n",
                path.display(),
                x.nrows(),
                args.centers
            )
            .as_bytes(),
        )?;
    }
    Ok(())
}
