//! `kentro predict`: the nearest centre of each row of a data file, as a `label` CSV.

use anyhow::Context;
use kentro::{KMeans, KMeansError};

use crate::cli::PredictArgs;
use crate::output;
use crate::read::{Columns, Matrix, read_data};

/// Loads the model, reads the data (the model's columns, by name when both have names) and
/// writes the labels to `--out` or stdout.
pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let model_path = &args.model;
    if let Some(out) = &args.out {
        output::check_targets(&[model_path, &args.data.data], &[("--out", out)])?;
    }
    let text = std::fs::read_to_string(model_path)
        .with_context(|| format!("cannot read model {}", model_path.display()))?;
    let model = KMeans::<f64>::from_json(&text).with_context(|| model_path.display().to_string())?;
    let by_name = model.feature_names().map_or(Columns::All, |names| Columns::Names(names.to_vec()));
    let data = read_data(&args.data.data, &super::read_options(&args.data, by_name))?;

    let cannot = || format!("{}: cannot use model {}", args.data.data.display(), model_path.display());
    let labels = match data.x {
        Matrix::F64(x) => model.predict(x.view()).with_context(cannot)?,
        // float32 data meets a float32 model in float32, as it was fitted; a float64 model
        // sees the data widened (exactly) to float64.
        Matrix::F32(x) => match KMeans::<f32>::from_json(&text) {
            Ok(model32) => model32.predict(x.view()).with_context(cannot)?,
            Err(KMeansError::ModelDtype { .. }) => {
                model.predict(x.mapv(f64::from).view()).with_context(cannot)?
            }
            Err(err) => return Err(err).with_context(|| model_path.display().to_string()),
        },
    };
    output::write_file_or_stdout(args.out.as_deref(), output::labels_csv(&labels).as_bytes())
}
