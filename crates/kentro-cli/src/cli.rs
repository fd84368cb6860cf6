//! The command line: subcommands, their arguments and help texts (clap derive).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kentro::NInit;

/// K-Means clustering of CSV and NPY files, with scikit-learn's algorithm and defaults.
#[derive(Debug, Parser)]
#[command(name = "kentro", version, max_term_width = 100)]
#[command(after_help = "Start with `kentro demo`, or `kentro blobs -o data.csv` and then \
    `kentro fit data.csv -k 3 --columns x0,x1 --plot clusters.png`.\n\n\
    Errors are printed on one line, `error: …`. Exit status: 0 on success, 1 on an error, 2 when \
    the command line is wrong (an unknown option, a missing or malformed value), 130 when \
    interrupted (Ctrl-C). A command that fails or is interrupted writes none of its files.")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the scikit-learn K-Means tutorial: 300 blobs, fit, score, plot (PNG and SVG).
    Demo(DemoArgs),
    /// Fit K-Means to a CSV or NPY file; save the model, the labels and a plot.
    Fit(FitArgs),
    /// Assign the rows of a CSV or NPY file to the clusters of a saved model.
    Predict(PredictArgs),
    /// Generate Gaussian blobs (scikit-learn's make_blobs) as a CSV file.
    #[command(long_about = "Generate Gaussian blobs (scikit-learn's make_blobs) as a CSV file.\n\n\
        The CSV has a header line: the features x0, x1, …, x{D-1}, then `label`, the blob each \
        row was drawn from. To cluster the features only, select them by name or index:\n\n    \
        kentro blobs -n 300 --centers 3 -o data.csv\n    \
        kentro fit data.csv -k 3 --columns x0,x1\n    \
        kentro fit data.csv -k 3 --exclude label")]
    Blobs(BlobsArgs),
    /// Compress an image (PNG or JPEG) to K colours: an indexed PNG, its size and PSNR.
    Quantize(crate::commands::quantize::QuantizeArgs),
    /// Cluster text documents by topic (TF-IDF, spherical k-means); print each cluster's top terms.
    Text(crate::commands::text::TextArgs),
    /// Find anomalies: fit K-Means and score each row by its distance to its centre relative to
    /// its cluster's spread; write the scores and a plot with the outliers marked.
    Outliers(crate::commands::outliers::OutliersArgs),
    /// Choose k: fit a range of k and judge it by the elbow, silhouette, gap statistic, Calinski-Harabasz and Davies-Bouldin; plots.
    ChooseK(crate::commands::choose_k::ChooseKArgs),
}

/// `kentro demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the four plots (created if missing).
    #[arg(long, value_name = "DIR", default_value = "kentro-demo")]
    pub out: PathBuf,
}

/// Where the data comes from and which columns to use (shared by `fit` and `predict`).
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Input data: a CSV file (header detected, or set with --header/--no-header) or a .npy
    /// array (float32 or float64, 2-D, C or Fortran order).
    #[arg(value_name = "DATA")]
    pub data: PathBuf,

    /// Columns to use, by header name or 0-based index, comma-separated (default: all).
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,

    /// Columns to leave out, by header name or 0-based index (e.g. `--exclude label`).
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub exclude: Vec<String>,

    /// The CSV's first line is a header (default: detected: a header when no cell of the
    /// first line reads as a number; `nan` and `inf` read as numbers, so a header naming a
    /// column `nan` or `inf` needs --header).
    #[arg(long, conflicts_with = "no_header")]
    pub header: bool,

    /// The CSV's first line is data.
    #[arg(long)]
    pub no_header: bool,

    /// CSV field separator (default: tab for .tsv files, otherwise comma).
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
}

/// `kentro fit`.
#[derive(Debug, Args)]
#[command(after_help = "Output: a short summary on stdout (k, inertia, iterations, cluster sizes, the \
    files written), and on stderr any warning and, for a command running over a second on a \
    terminal, a progress line; --quiet prints none of these. Errors are always printed. The \
    files are written only once all of them are ready: an error or Ctrl-C leaves none. A column \
    named `label` (as `kentro blobs` writes) is clustered like any other unless left out, with a \
    warning. With more than two features, the plot shows the first two principal components.")]
pub struct FitArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Number of clusters.
    #[arg(short = 'k', long = "n-clusters", value_name = "K", value_parser = parse_count)]
    pub k: usize,

    /// Seed of every random choice; results depend on it, never on --threads. The initial
    /// centres are scikit-learn's with random_state=S (numpy's stream, drawn the same way).
    #[arg(long, value_name = "S", default_value_t = 0, value_parser = parse_seed)]
    pub seed: u64,

    /// How the initial centres are chosen.
    #[arg(long, value_enum, default_value_t = InitMethod::KMeansPlusPlus)]
    pub init: InitMethod,

    /// Runs from different starts, keeping the lowest inertia: a number, or `auto` (1 for
    /// k-means++, 10 for random).
    #[arg(long, value_name = "N", value_parser = parse_n_init, default_value = "auto")]
    pub n_init: NInit,

    /// The exact algorithm; every Lloyd method gives the same result, only the speed differs
    /// (exact-1d, for one feature, finds the global optimum instead).
    #[arg(long, value_enum, default_value_t = AlgorithmName::Auto)]
    pub algorithm: AlgorithmName,

    /// Most Lloyd iterations per run [default: 300].
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub max_iter: Option<usize>,

    /// Convergence tolerance, relative to the mean feature variance [default: 1e-4].
    #[arg(long, value_name = "TOL", allow_negative_numbers = true, value_parser = parse_number)]
    pub tol: Option<f64>,

    /// Worker threads [default: rayon's, which honours RAYON_NUM_THREADS]. Never changes the
    /// result.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub threads: Option<NonZeroUsize>,

    /// Save the fitted model (JSON) here, for `kentro predict`. Outputs must not name DATA, and
    /// their folders must exist.
    #[arg(long, short = 'o', value_name = "MODEL.json")]
    pub out: Option<PathBuf>,

    /// Write the label of every input row here: a CSV with the header `label`, one row per
    /// input row, in input order.
    #[arg(long, value_name = "LABELS.csv")]
    pub labels: Option<PathBuf>,

    /// Draw the clusters and centres; the format follows the extension (.png or .svg).
    #[arg(long, value_name = "FILE.png|svg")]
    pub plot: Option<PathBuf>,

    /// Scale the features before clustering: `standard` (minus the mean, over the population
    /// standard deviation, as scikit-learn's StandardScaler) or `minmax` (to [0, 1], as
    /// MinMaxScaler). The model remembers the scaler and `kentro predict` applies it.
    #[arg(long, value_enum, default_value_t = ScaleName::None)]
    pub scale: ScaleName,

    /// Profile the clusters in the original units: print a table (size, share, mean of each
    /// feature per cluster), write it here as CSV, and draw it beside it as a heat map
    /// (PROFILE.png and PROFILE.svg, the same name with those extensions).
    #[arg(long, value_name = "PROFILE.csv")]
    pub profile: Option<PathBuf>,

    /// Print nothing on success (no summary, no warnings, no progress bar).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// The feature scalings offered by `fit --scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScaleName {
    /// The features as they are.
    None,
    /// Zero mean, unit (population) variance; constant features only centred.
    Standard,
    /// Each feature to [0, 1]; constant features to 0.
    Minmax,
}

/// `kentro predict`.
#[derive(Debug, Args)]
#[command(after_help = "Columns: when the model records feature names (fitted on a CSV with a header) \
    and DATA has a header, the same columns are selected by name; otherwise all columns (or \
    --columns) are used and their number must match the model's.")]
pub struct PredictArgs {
    /// A model saved by `kentro fit --out`.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,

    #[command(flatten)]
    pub data: DataArgs,

    /// Write the labels here (CSV with the header `label`) instead of stdout.
    #[arg(long, short = 'o', value_name = "LABELS.csv")]
    pub out: Option<PathBuf>,
}

/// `kentro blobs`.
#[derive(Debug, Args)]
pub struct BlobsArgs {
    /// Number of samples, split evenly over the centres.
    #[arg(short = 'n', long = "n-samples", value_name = "N", default_value_t = 100, value_parser = parse_count)]
    pub n_samples: usize,

    /// Number of blob centres, drawn uniformly in the box (-10, 10).
    #[arg(long, value_name = "C", default_value_t = 3, value_parser = parse_count)]
    pub centers: usize,

    /// Number of features.
    #[arg(long, value_name = "D", default_value_t = 2, value_parser = parse_count)]
    pub features: usize,

    /// Standard deviation of each blob.
    #[arg(long, value_name = "S", default_value_t = 1.0, allow_negative_numbers = true, value_parser = parse_number)]
    pub std: f64,

    /// Seed of the generator: the same data as scikit-learn's make_blobs(random_state=S).
    #[arg(long, value_name = "S", default_value_t = 0, value_parser = parse_seed)]
    pub seed: u64,

    /// Write the CSV here instead of stdout.
    #[arg(long, short = 'o', value_name = "DATA.csv")]
    pub out: Option<PathBuf>,
}

/// The initialisation methods offered on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitMethod {
    /// Greedy k-means++ (scikit-learn's default).
    #[value(name = "k-means++")]
    KMeansPlusPlus,
    /// k distinct rows chosen at random.
    Random,
}

/// The exact algorithms offered on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmName {
    /// The fastest for the data's shape.
    Auto,
    /// Every distance, every iteration.
    Lloyd,
    /// One lower bound per sample and centre (memory n × k).
    Elkan,
    /// One lower bound per sample.
    Hamerly,
    /// One lower bound per sample and group of about 10 centres.
    Yinyang,
    /// Not Lloyd: the exact optimal clustering of data with one feature (ignores --init,
    /// --n-init, --max-iter, --tol and --seed; centres come out in ascending order).
    #[value(name = "exact-1d")]
    Exact1d,
}

impl From<AlgorithmName> for kentro::Algorithm {
    fn from(name: AlgorithmName) -> Self {
        match name {
            AlgorithmName::Auto => kentro::Algorithm::Auto,
            AlgorithmName::Lloyd => kentro::Algorithm::Lloyd,
            AlgorithmName::Elkan => kentro::Algorithm::Elkan,
            AlgorithmName::Hamerly => kentro::Algorithm::Hamerly,
            AlgorithmName::Yinyang => kentro::Algorithm::Yinyang,
            AlgorithmName::Exact1d => kentro::Algorithm::Exact1d,
        }
    }
}

/// `auto` or a number in (0, 0.5] (the share of outliers expected).
pub fn parse_contamination(text: &str) -> Result<kentro::outliers::Contamination, String> {
    text.parse().map_err(|_| "expected `auto` or a number in (0, 0.5]".to_string())
}

fn parse_n_init(text: &str) -> Result<NInit, String> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(NInit::Auto);
    }
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!("expected `auto` or a number >= 1, got {text:?}")),
        Ok(n) => Ok(NInit::Runs(n)),
    }
}

// The value parsers: their messages complete clap's "invalid value '…' for '--option <N>': ",
// which `main` prints on one line.

/// A whole number (0 allowed; the core or the command says when it must be larger).
pub fn parse_count(text: &str) -> Result<usize, String> {
    text.trim().parse().map_err(|_| "expected a whole number".to_string())
}

/// A whole number >= 1.
pub(crate) fn parse_positive(text: &str) -> Result<NonZeroUsize, String> {
    match parse_count(text) {
        Ok(n) => NonZeroUsize::new(n).ok_or_else(|| "expected a whole number >= 1".to_string()),
        Err(_) => Err("expected a whole number >= 1".to_string()),
    }
}

/// A seed: a whole number from 0 to 2^64 - 1.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim().parse().map_err(|_| "expected a whole number from 0 to 18446744073709551615".to_string())
}

/// A finite number (`1e-4`, `0.5`, `-2`).
fn parse_number(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err("expected a finite number".to_string()),
    }
}

fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "\\t" | "tab" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() => Ok(text.as_bytes()[0]),
        _ => Err(format!("expected one ASCII character (or `tab`), got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn n_init_accepts_auto_and_positive_numbers() {
        assert_eq!(parse_n_init("auto"), Ok(NInit::Auto));
        assert_eq!(parse_n_init("4"), Ok(NInit::Runs(4)));
        assert!(parse_n_init("0").is_err());
        assert!(parse_n_init("many").is_err());
    }

    #[test]
    fn numbers_are_parsed_with_short_messages() {
        assert_eq!(parse_count("12"), Ok(12));
        assert_eq!(parse_count("x"), Err("expected a whole number".into()));
        assert_eq!(parse_positive("3"), Ok(NonZeroUsize::new(3).unwrap()));
        assert_eq!(parse_positive("0"), Err("expected a whole number >= 1".into()));
        assert_eq!(parse_positive("-1"), Err("expected a whole number >= 1".into()));
        assert_eq!(parse_number("1e-4"), Ok(1e-4));
        assert_eq!(parse_number("-2"), Ok(-2.0));
        assert!(parse_number("nan").is_err() && parse_number("abc").is_err());
        assert_eq!(parse_seed("18446744073709551615"), Ok(u64::MAX));
        assert!(parse_seed("-1").is_err());
    }

    #[test]
    fn delimiters_are_single_characters_or_tab() {
        assert_eq!(parse_delimiter(";"), Ok(b';'));
        assert_eq!(parse_delimiter("tab"), Ok(b'\t'));
        assert!(parse_delimiter(";;").is_err());
    }
}
