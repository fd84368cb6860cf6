//! CSV (and TSV) files: one sample per line, one feature per field.
//!
//! Blank lines and lines starting with `#` are skipped; fields are trimmed. Every row must have
//! as many fields as the first; every selected cell must be a finite number.
//!
//! Without `--header`/`--no-header` the first line is a header when none of its cells reads as
//! a number. `nan` and `inf` read as numbers (they are then refused as data), so a header that
//! names a column `nan` or `inf` is not detected: such a file needs `--header`, and the error
//! says so. The rule never turns a data line into a header silently.
//!
//! Line numbers in messages are physical lines of the file (1-based), counting blank lines,
//! comments, and `\n`, `\r\n` or `\r` line ends alike.

use std::path::Path;

use ndarray::Array2;

use super::{Dataset, HeaderMode, Matrix, ReadError, ReadOptions, select_columns};

const NO_HEADER: &str = "the file has no header line (pass --header if its first line names the \
    columns, or select columns by 0-based index)";

/// Parses the bytes of the CSV file `path`.
pub(super) fn read(path: &Path, bytes: &[u8], options: &ReadOptions) -> Result<Dataset, ReadError> {
    let is_tsv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let delimiter = options.delimiter.unwrap_or(if is_tsv { b'\t' } else { b',' });
    if let Some(line) = super::quotes::unclosed_quote(bytes, delimiter, Some(COMMENT)) {
        return Err(ReadError::BadLine {
            path: path.into(),
            line,
            message: super::quotes::UNCLOSED_QUOTE.to_string(),
        });
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .comment(Some(COMMENT))
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut lines = LineCounter::new(bytes);
    let mut records = reader.records();
    let mut next = move || -> Result<Option<(::csv::StringRecord, u64)>, ReadError> {
        match records.next() {
            None => Ok(None),
            Some(Ok(record)) => {
                let line = lines.line_of_record(record.position().map_or(0, |p| p.byte()));
                Ok(Some((record, line)))
            }
            Some(Err(err)) => {
                let line = lines.line_of_record(err.position().map_or(0, |p| p.byte()));
                Err(csv_error(path, line, err))
            }
        }
    };

    let (first, first_line) = next()?.ok_or_else(|| ReadError::NoRows { path: path.into() })?;
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
    let mut pending = if is_header { None } else { Some((first, first_line)) };
    while let Some((record, line)) = match pending.take() {
        Some(first) => Some(first),
        None => next()?,
    } {
        if record.len() != n_fields {
            return Err(ReadError::Ragged {
                path: path.into(),
                line,
                expected: n_fields,
                found: record.len(),
            });
        }
        // A bad cell on a first line that detection took for data may be a header's name.
        let hint =
            if !is_header && n_rows == 0 && options.header == HeaderMode::Detect { Some(line) } else { None };
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

/// The comment character: a line starting with it is skipped.
const COMMENT: u8 = b'#';

/// Physical line numbers of records, from the byte offsets the csv reader reports.
///
/// The reader's own line count is wrong for `\r\n` line ends and ignores skipped blank lines,
/// and a record's byte offset is where the reader started looking for it: just after the
/// previous record, before any blank or comment lines. So the counter skips those lines as the
/// reader does (line ends, then a comment line, again), and counts the line ends before the
/// record's first byte: `\n`, `\r\n` and a lone `\r` each end one line.
struct LineCounter<'a> {
    bytes: &'a [u8],
    /// Bytes counted so far...
    at: usize,
    /// ...and the line that byte `at` is on.
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter { bytes, at: 0, line: 1 }
    }

    /// The line on which the record that the reader started looking for at `byte` begins.
    fn line_of_record(&mut self, byte: u64) -> u64 {
        let bytes = self.bytes;
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        loop {
            match bytes.get(start) {
                Some(b'\r' | b'\n') => start += 1,
                Some(&COMMENT) => {
                    start = bytes[start..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(bytes.len(), |i| start + i + 1);
                }
                _ => break,
            }
        }
        if start < self.at {
            // Offsets only grow while reading; start over should they not.
            (self.at, self.line) = (0, 1);
        }
        self.line += count_line_ends(&bytes[..start], self.at);
        self.at = start;
        self.line
    }
}

/// Line ends in `bytes[from..]`: `\n`, `\r\n` and lone `\r` count one each. A `\r` at the very
/// end counts only once its successor is known not to be `\n`, so counting in pieces is exact
/// when the pieces end where a record starts (never between `\r` and `\n`).
fn count_line_ends(bytes: &[u8], from: usize) -> u64 {
    let mut n = 0;
    for i in from..bytes.len() {
        match bytes[i] {
            b'\n' => n += 1,
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => n += 1,
            _ => {}
        }
    }
    n
}

fn parse_cell(
    text: &str,
    path: &Path,
    line: u64,
    column: usize,
    header_line: Option<u64>,
) -> Result<f64, ReadError> {
    let hint = |why: &str| match header_line {
        Some(line) => format!(" (if line {line} is a header, pass --header{why})"),
        None => String::new(),
    };
    if text.is_empty() {
        return Err(ReadError::EmptyCell { path: path.into(), line, column, hint: hint("") });
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(ReadError::NonFinite {
            path: path.into(),
            line,
            column,
            value: text.to_string(),
            hint: hint(": `nan` and `inf` read as numbers, so they do not mark a header"),
        }),
        Err(_) => Err(ReadError::NotANumber {
            path: path.into(),
            line,
            column,
            value: text.to_string(),
            hint: hint(""),
        }),
    }
}

fn csv_error(path: &Path, line: u64, err: ::csv::Error) -> ReadError {
    match err.into_kind() {
        ::csv::ErrorKind::Io(error) => ReadError::Io { path: path.into(), error },
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
        assert_eq!(
            err("1,\n2,3\n"),
            "data.csv:1:2: empty cell, expected a number (if line 1 is a header, pass --header)"
        );
        assert_eq!(err(""), "data.csv: no data rows");
        assert_eq!(err("a,b\n"), "data.csv: no data rows");
    }

    #[test]
    fn line_numbers_are_physical_lines_whatever_the_line_ends() {
        // CRLF line ends.
        assert_eq!(err("a,b\r\n1,2\r\nzz,2\r\n"), r#"data.csv:3:1: cannot parse "zz" as a number"#);
        assert_eq!(err("a,b\r\nzz,2\r\n"), r#"data.csv:2:1: cannot parse "zz" as a number"#);
        assert_eq!(err("a,b,c\r\n1,2,3\r\n4,5\r\n"), "data.csv:3: expected 3 fields, found 2");
        // Blank lines, comments, and both together.
        assert_eq!(err("a,b\n1,2\n\n\n3,zz"), r#"data.csv:5:2: cannot parse "zz" as a number"#);
        assert_eq!(err("a,b\r\n\r\n\r\n1,zz\r\n"), r#"data.csv:4:2: cannot parse "zz" as a number"#);
        assert_eq!(
            err("# made by hand\n\na,b\n# one\n\n1,2\n#two\r\n\r\n3,x\n"),
            r#"data.csv:9:2: cannot parse "x" as a number"#
        );
        // Old Mac line ends, and a quoted field that spans two lines.
        assert_eq!(err("a,b\r1,2\r3,x\r"), r#"data.csv:3:2: cannot parse "x" as a number"#);
        assert_eq!(err("a,\"b\nc\"\n1,2\n3,x\n"), r#"data.csv:4:2: cannot parse "x" as a number"#);
        // A first data line after comments names its own line in the header hint.
        assert_eq!(
            err("# comment\n\nx,1\n"),
            r#"data.csv:3:1: cannot parse "x" as a number (if line 3 is a header, pass --header)"#
        );
    }

    #[test]
    fn nan_in_a_first_line_is_refused_with_the_header_hint() {
        // `nan` reads as a number, so `x,nan` is not taken for a header: its first cell fails.
        assert_eq!(
            err("x,nan\n1,2\n"),
            r#"data.csv:1:1: cannot parse "x" as a number (if line 1 is a header, pass --header)"#
        );
        // A first line of NaN/inf only is data, and refused as such, with the hint.
        assert_eq!(
            err("nan,inf\n1,2\n"),
            r#"data.csv:1:1: "nan" is not a finite number (NaN and infinity are not allowed) (if line 1 is a header, pass --header: `nan` and `inf` read as numbers, so they do not mark a header)"#
        );
        // ...which --header reads as intended.
        let data = read_str("nan,inf\n1,2\n", HeaderMode::Present).unwrap();
        assert_eq!(data.feature_names.unwrap(), ["nan", "inf"]);
        // NaN in a later data line: the error names that line, with no hint.
        assert_eq!(
            err("1,2\n3,4\nNaN,5\n"),
            r#"data.csv:3:1: "NaN" is not a finite number (NaN and infinity are not allowed)"#
        );
        // After a detected header, the first data line gets no hint either.
        assert_eq!(err("a,b\n1,zz\n"), r#"data.csv:2:2: cannot parse "zz" as a number"#);
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
