//! Writing results: whole files atomically (never half a file), or stdout.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so that
/// an interrupted or failed command leaves the old file or none, never half a new one.
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    kentro::write_atomic(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `bytes` to stdout (a closed pipe surfaces as a `BrokenPipe` error for `main`).
pub fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Writes `bytes` to `path`, or to stdout without one.
pub fn write_file_or_stdout(path: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match path {
        Some(path) => write_file(path, bytes),
        None => Ok(write_stdout(bytes)?),
    }
}

/// Labels as CSV: the header `label`, then one integer per sample, in sample order.
pub fn labels_csv(labels: &[usize]) -> String {
    let mut text = String::with_capacity(6 + 3 * labels.len());
    text.push_str("label\n");
    for label in labels {
        writeln!(text, "{label}").expect("writing to a String");
    }
    text
}

/// Samples as CSV: the header `x0,…,x{d-1},label`, then one row per sample. Values are
/// written in the shortest form that reads back exactly.
pub fn samples_csv(x: ndarray::ArrayView2<f64>, labels: &[usize]) -> String {
    let mut text = String::new();
    for j in 0..x.ncols() {
        write!(text, "x{j},").expect("writing to a String");
    }
    text.push_str("label\n");
    for (row, label) in x.outer_iter().zip(labels) {
        for v in row {
            // Debug is the shortest text that parses back to the same f64, with an exponent
            // for very large and very small magnitudes.
            write!(text, "{v:?},").expect("writing to a String");
        }
        writeln!(text, "{label}").expect("writing to a String");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_have_a_header_and_one_line_each() {
        assert_eq!(labels_csv(&[2, 0, 1]), "label\n2\n0\n1\n");
    }

    #[test]
    fn samples_round_trip_exactly() {
        let x = ndarray::array![[0.1, -3.0], [1e-300, 2.5]];
        let text = samples_csv(x.view(), &[1, 0]);
        assert_eq!(text, "x0,x1,label\n0.1,-3.0,1\n1e-300,2.5,0\n");
    }
}
