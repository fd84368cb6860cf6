//! Reading data files into a dense row-major matrix: CSV (any delimiter, header detected) and
//! NumPy `.npy` (float32 stays float32). Every refusal names the file and, for CSV, the line
//! and column.

mod csv_file;
mod npy;
pub(crate) mod quotes;

use std::path::{Path, PathBuf};

use ndarray::Array2;
use thiserror::Error;

/// A data matrix in the precision it was stored in.
#[derive(Debug, Clone, PartialEq)]
pub enum Matrix {
    /// float32 data (from a float32 `.npy`).
    F32(Array2<f32>),
    /// float64 data (CSV, float64 `.npy`).
    F64(Array2<f64>),
}

/// A data file, read and reduced to the selected columns.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The values of the selected columns, one row per data row.
    pub x: Matrix,
    /// The selected columns' header names, when the file has a header.
    pub feature_names: Option<Vec<String>>,
}

/// Whether the first CSV line is a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderMode {
    /// A header when none of its cells reads as a number (`nan` and `inf` do).
    Detect,
    /// Always a header.
    Present,
    /// Always data.
    Absent,
}

/// Which columns to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Columns {
    /// Every column (less `exclude`).
    #[default]
    All,
    /// These, each a header name or a 0-based index (names win when both match).
    Listed(Vec<String>),
    /// These header names, exactly, or every column when the file has no header: how
    /// `predict` selects the features a model was fitted on.
    Names(Vec<String>),
}

/// How to read a data file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Header handling (CSV only).
    pub header: HeaderMode,
    /// The columns to keep.
    pub columns: Columns,
    /// Columns to drop after selecting (names or 0-based indices).
    pub exclude: Vec<String>,
    /// CSV field separator; `None` picks tab for `.tsv` and comma otherwise.
    pub delimiter: Option<u8>,
}

/// Why a data file could not be read. Each message names the file, and for CSV cells the line
/// and the 1-based column (`file:line:column`).
#[derive(Debug, Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error, part of the message (not a `source`, which would print it a
        /// second time in the error chain).
        error: std::io::Error,
    },
    /// A CSV cell is not a number.
    #[error("{}:{line}:{column}: cannot parse {value:?} as a number{hint}", path.display())]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column (field) number.
        column: usize,
        /// The cell's text.
        value: String,
        /// Advice, when the cell sits on a first line that could be a header (or empty).
        hint: String,
    },
    /// A CSV cell is empty.
    #[error("{}:{line}:{column}: empty cell, expected a number{hint}", path.display())]
    EmptyCell {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column (field) number.
        column: usize,
        /// Advice, when the cell sits on a first line that could be a header (or empty).
        hint: String,
    },
    /// A CSV cell holds NaN or infinity.
    #[error("{}:{line}:{column}: {value:?} is not a finite number (NaN and infinity are not allowed){hint}", path.display())]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column (field) number.
        column: usize,
        /// The cell's text.
        value: String,
        /// Advice, when the cell sits on a first line that could be a header (or empty).
        hint: String,
    },
    /// A CSV row has a different number of fields from the first row.
    #[error("{}:{line}: expected {expected} fields, found {found}", path.display())]
    Ragged {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Fields of the first row.
        expected: usize,
        /// Fields of this row.
        found: usize,
    },
    /// A CSV line could not be read (for example it is not UTF-8).
    #[error("{}:{line}: {message}", path.display())]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The file has no data rows.
    #[error("{}: no data rows", path.display())]
    NoRows {
        /// The file.
        path: PathBuf,
    },
    /// A column was selected by a name that is not in the header.
    #[error("{}: no column named {name:?} (the columns are: {available})", path.display())]
    NoSuchColumn {
        /// The file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The header, comma-separated.
        available: String,
    },
    /// A column index is past the last column.
    #[error("{}: there is no column {index}: the data has {n_columns} columns, numbered from 0", path.display())]
    ColumnOutOfRange {
        /// The file.
        path: PathBuf,
        /// The index asked for.
        index: usize,
        /// Columns in the file.
        n_columns: usize,
    },
    /// A column was selected by name in a file without a header.
    #[error("{}: cannot select column {name:?} by name: {why}", path.display())]
    NoHeader {
        /// The file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// Why there are no names.
        why: &'static str,
    },
    /// The selection left no column.
    #[error("{}: no columns are selected", path.display())]
    NoColumns {
        /// The file.
        path: PathBuf,
    },
    /// A `.npy` file that cannot be used.
    #[error("{}: {message}", path.display())]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A `.npy` element is NaN or infinite.
    #[error("{}: element [{row}, {column}] is {value}; the data must be finite", path.display())]
    NpyNonFinite {
        /// The file.
        path: PathBuf,
        /// 0-based row.
        row: usize,
        /// 0-based column.
        column: usize,
        /// The value.
        value: f64,
    },
}

/// The first bytes of every `.npy` file.
const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Reads `path` as `.npy` (recognised by its magic bytes) or else as CSV.
pub fn read_data(path: &Path, options: &ReadOptions) -> Result<Dataset, ReadError> {
    let bytes = std::fs::read(path).map_err(|error| ReadError::Io { path: path.into(), error })?;
    if bytes.starts_with(NPY_MAGIC) {
        npy::read(path, &bytes, options)
    } else {
        csv_file::read(path, &bytes, options)
    }
}

/// Resolves the selection to 0-based column indices, in the order asked for.
fn select_columns(
    path: &Path,
    header: Option<&[String]>,
    n_columns: usize,
    options: &ReadOptions,
    no_names_why: &'static str,
) -> Result<Vec<usize>, ReadError> {
    let resolve = |spec: &str, by_name_only: bool| -> Result<usize, ReadError> {
        if let Some(names) = header
            && let Some(i) = names.iter().position(|n| n == spec)
        {
            return Ok(i);
        }
        if !by_name_only && let Ok(index) = spec.parse::<usize>() {
            if index < n_columns {
                return Ok(index);
            }
            return Err(ReadError::ColumnOutOfRange { path: path.into(), index, n_columns });
        }
        match header {
            Some(names) => Err(ReadError::NoSuchColumn {
                path: path.into(),
                name: spec.to_string(),
                available: names.join(", "),
            }),
            None => Err(ReadError::NoHeader { path: path.into(), name: spec.to_string(), why: no_names_why }),
        }
    };
    let mut selected = match &options.columns {
        Columns::All => (0..n_columns).collect(),
        Columns::Listed(specs) => {
            specs.iter().map(|s| resolve(s.trim(), false)).collect::<Result<Vec<_>, _>>()?
        }
        Columns::Names(names) if header.is_some() => {
            names.iter().map(|s| resolve(s, true)).collect::<Result<Vec<_>, _>>()?
        }
        // Without a header (or in a .npy file) there are no names to match: take every column.
        Columns::Names(_) => (0..n_columns).collect(),
    };
    let excluded = options.exclude.iter().map(|s| resolve(s.trim(), false)).collect::<Result<Vec<_>, _>>()?;
    selected.retain(|i| !excluded.contains(i));
    if selected.is_empty() {
        return Err(ReadError::NoColumns { path: path.into() });
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(columns: Columns, exclude: &[&str]) -> ReadOptions {
        ReadOptions {
            header: HeaderMode::Detect,
            columns,
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
            delimiter: None,
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn columns_are_selected_by_name_or_index_in_the_order_given() {
        let header = names(&["x0", "x1", "label"]);
        let path = Path::new("d.csv");
        let pick = |c, e: &[&str]| select_columns(path, Some(&header), 3, &options(c, e), "");
        assert_eq!(pick(Columns::All, &[]).unwrap(), [0, 1, 2]);
        assert_eq!(pick(Columns::All, &["label"]).unwrap(), [0, 1]);
        assert_eq!(pick(Columns::Listed(names(&["x1", "0"])), &[]).unwrap(), [1, 0]);
        assert_eq!(pick(Columns::Names(names(&["label", "x0"])), &[]).unwrap(), [2, 0]);
        let err = pick(Columns::Listed(names(&["x9"])), &[]).unwrap_err().to_string();
        assert_eq!(err, r#"d.csv: no column named "x9" (the columns are: x0, x1, label)"#);
        let err = pick(Columns::Listed(names(&["3"])), &[]).unwrap_err().to_string();
        assert_eq!(err, "d.csv: there is no column 3: the data has 3 columns, numbered from 0");
        assert!(matches!(pick(Columns::All, &["0", "1", "2"]), Err(ReadError::NoColumns { .. })));
    }

    #[test]
    fn names_need_a_header() {
        let err = select_columns(
            Path::new("d.csv"),
            None,
            2,
            &options(Columns::Listed(names(&["a"])), &[]),
            "no header",
        )
        .unwrap_err();
        assert_eq!(err.to_string(), r#"d.csv: cannot select column "a" by name: no header"#);
    }
}
