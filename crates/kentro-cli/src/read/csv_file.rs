//! CSV (and TSV) files: one sample per line, one feature per field.
//!
//! Blank lines and lines starting with `#` are skipped; fields are trimmed. Every row must have
//! as many fields as the first; every selected cell must be a finite number.

use std::path::Path;

use ndarray::Array2;

use super::{Dataset, HeaderMode, Matrix, ReadError, ReadOptions, select_columns};

const NO_HEADER: &str = "the file has no header line (pass --header if its first line names the \
    columns, or select columns by 0-based index)";
const HEADER_HINT: &str = " (if line 1 is a header, pass --header)";

/// Parses the bytes of the CSV file `path`.
pub(super) fn read(path: &Path, bytes: &[u8], options: &ReadOptions) -> Result<Dataset, ReadError> {
    let is_tsv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let delimiter = options.delimiter.unwrap_or(if is_tsv { b'\t' } else { b',' });
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .comment(Some(b'#'))
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut records = reader.records().map(|r| r.map_err(|e| csv_error(path, e)));

    let first = records.next().transpose()?.ok_or_else(|| ReadError::NoRows { path: path.into() })?;
    let is_header = match options.header {
        HeaderMode::Present => true,
        HeaderMode::Absent => false,
        HeaderMode::Detect => first.iter().all(|cell| cell.parse::<f64>().is_err()),
    };
    let n_fields = first.len();
    let header: Option<Vec<String>> = is_header.then(|| first.iter().map(str::to_string).collect());
    let selected = select_columns(path, header.as_deref(), n_fields, options, NO_HEADER)?;

    let mut values = Vec::new();
    let mut n_rows = 0;
    let first_data = if is_header { None } else { Some(Ok(first)) };
    for record in first_data.into_iter().chain(records) {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != n_fields {
            return Err(ReadError::Ragged {
                path: path.into(),
                line,
                expected: n_fields,
                found: record.len(),
            });
        }
        let hint = if line == 1 && options.header == HeaderMode::Detect { HEADER_HINT } else { "" };
        for &i in &selected {
            values.push(parse_cell(&record[i], path, line, i + 1, hint)?);
        }
        n_rows += 1;
    }
    if n_rows == 0 {
        return Err(ReadError::NoRows { path: path.into() });
    }
    let x = Array2::from_shape_vec((n_rows, selected.len()), values).expect("one value per selected cell");
    let feature_names = header.map(|names| selected.iter().map(|&i| names[i].clone()).collect());
    Ok(Dataset { x: Matrix::F64(x), feature_names })
}

fn parse_cell(
    text: &str,
    path: &Path,
    line: u64,
    column: usize,
    hint: &'static str,
) -> Result<f64, ReadError> {
    if text.is_empty() {
        return Err(ReadError::EmptyCell { path: path.into(), line, column });
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(ReadError::NonFinite { path: path.into(), line, column, value: text.to_string() }),
        Err(_) => {
            Err(ReadError::NotANumber { path: path.into(), line, column, value: text.to_string(), hint })
        }
    }
}

fn csv_error(path: &Path, err: ::csv::Error) -> ReadError {
    let line = err.position().map_or(0, |p| p.line());
    match err.into_kind() {
        ::csv::ErrorKind::Io(source) => ReadError::Io { path: path.into(), source },
        ::csv::ErrorKind::Utf8 { err, .. } => ReadError::BadLine {
            path: path.into(),
            line,
            message: format!("field {} is not valid UTF-8", err.field() + 1),
        },
        other => ReadError::BadLine { path: path.into(), line, message: format!("{other:?}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Columns;

    fn read_str(text: &str, header: HeaderMode) -> Result<Dataset, ReadError> {
        let options = ReadOptions { header, columns: Columns::All, exclude: vec![], delimiter: None };
        read(Path::new("data.csv"), text.as_bytes(), &options)
    }

    fn err(text: &str) -> String {
        read_str(text, HeaderMode::Detect).unwrap_err().to_string()
    }

    #[test]
    fn a_header_is_detected_and_recorded() {
        let data = read_str("a, b\n1,2\n\n# a comment\n3, 4.5\n", HeaderMode::Detect).unwrap();
        assert_eq!(data.x, Matrix::F64(ndarray::array![[1.0, 2.0], [3.0, 4.5]]));
        assert_eq!(data.feature_names.unwrap(), ["a", "b"]);
        let data = read_str("1,2\n3,4\n", HeaderMode::Detect).unwrap();
        assert_eq!(data.x, Matrix::F64(ndarray::array![[1.0, 2.0], [3.0, 4.0]]));
        assert!(data.feature_names.is_none());
    }

    #[test]
    fn header_flags_override_detection() {
        let data = read_str("1,2\n3,4\n", HeaderMode::Present).unwrap();
        assert_eq!(data.feature_names.unwrap(), ["1", "2"]);
        assert_eq!(
            err("x,1\n3,4\n"),
            r#"data.csv:1:1: cannot parse "x" as a number (if line 1 is a header, pass --header)"#
        );
        let no_header = read_str("a,b\n1,2\n", HeaderMode::Absent).unwrap_err().to_string();
        assert_eq!(no_header, r#"data.csv:1:1: cannot parse "a" as a number"#);
    }

    #[test]
    fn bad_cells_name_line_and_column() {
        assert_eq!(err("a,b\n1,2\n3,4\n5,abc\n"), r#"data.csv:4:2: cannot parse "abc" as a number"#);
        assert_eq!(err("a,b,c\n1,2,3\n1,2\n"), "data.csv:3: expected 3 fields, found 2");
        assert!(err("a,b\n1,NaN\n").starts_with(r#"data.csv:2:2: "NaN" is not a finite number"#));
        assert!(err("a,b\n-inf,1\n").starts_with(r#"data.csv:2:1: "-inf" is not a finite number"#));
        assert_eq!(err("a,b\n1,\n"), "data.csv:2:2: empty cell, expected a number");
        assert_eq!(err(""), "data.csv: no data rows");
        assert_eq!(err("a,b\n"), "data.csv: no data rows");
    }

    #[test]
    fn unselected_columns_may_hold_anything() {
        let options = ReadOptions {
            header: HeaderMode::Detect,
            columns: Columns::Listed(vec!["x".into()]),
            exclude: vec![],
            delimiter: None,
        };
        let data = read(Path::new("d.csv"), b"name,x\nfoo,1\nbar,2\n", &options).unwrap();
        assert_eq!(data.x, Matrix::F64(ndarray::array![[1.0], [2.0]]));
    }

    #[test]
    fn tsv_files_split_on_tabs() {
        let options = ReadOptions {
            header: HeaderMode::Detect,
            columns: Columns::All,
            exclude: vec![],
            delimiter: None,
        };
        let data = read(Path::new("d.tsv"), b"1\t2\n3\t4\n", &options).unwrap();
        assert_eq!(data.x, Matrix::F64(ndarray::array![[1.0, 2.0], [3.0, 4.0]]));
    }
}
