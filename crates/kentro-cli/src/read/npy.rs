//! NumPy `.npy` files (format versions 1.0 to 3.0): 2-D little-endian float32 or float64
//! arrays, in C or Fortran order. float32 stays float32.
//!
//! The header is a Python dict literal such as
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (300, 2), }`; this module parses exactly
//! that grammar (strings, booleans, integers and tuples of integers) and nothing more.

use std::path::Path;

use ndarray::{Array2, ShapeBuilder};

use super::{Dataset, Matrix, ReadError, ReadOptions, select_columns};

const NO_NAMES: &str = ".npy files have no column names; select columns by 0-based index";

/// Parses the bytes of the `.npy` file `path` (they start with the magic string).
pub(super) fn read(path: &Path, bytes: &[u8], options: &ReadOptions) -> Result<Dataset, ReadError> {
    let fail = |message: String| ReadError::Npy { path: path.into(), message };
    let header = parse_header(bytes).map_err(fail)?;
    let (n_rows, n_cols) = match header.shape[..] {
        [n, d] => (n, d),
        [n] => {
            return Err(fail(format!(
                "expected a 2-D array (samples × features), found a 1-D array of shape ({n},); \
                 save it as x.reshape(-1, 1) for one feature"
            )));
        }
        _ => {
            return Err(fail(format!(
                "expected a 2-D array (samples × features), found shape {:?}",
                header.shape
            )));
        }
    };
    let item_size = match header.descr.as_str() {
        "<f4" => 4,
        "<f8" => 8,
        ">f4" | ">f8" => {
            return Err(fail(format!(
                "big-endian data ('{}') is not supported; save it with x.astype('<f8')",
                header.descr
            )));
        }
        other => {
            return Err(fail(format!(
                "dtype '{other}' is not supported: kentro reads float32 ('<f4') and float64 ('<f8') \
                 arrays; save it with x.astype('float64')"
            )));
        }
    };
    let data = &bytes[header.data_offset..];
    let expected = n_rows.checked_mul(n_cols).and_then(|n| n.checked_mul(item_size));
    match expected {
        Some(len) if data.len() >= len => {}
        _ => {
            return Err(fail(format!(
                "the file is truncated: shape ({n_rows}, {n_cols}) needs {} bytes of data, found {}",
                expected.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string()),
                data.len()
            )));
        }
    }
    if n_rows == 0 {
        return Err(ReadError::NoRows { path: path.into() });
    }
    let selected = select_columns(path, None, n_cols, options, NO_NAMES)?;
    let x = if item_size == 4 {
        let values =
            data.chunks_exact(4).take(n_rows * n_cols).map(|b| f32::from_le_bytes(b.try_into().unwrap()));
        Matrix::F32(arrange(values, n_rows, n_cols, header.fortran_order, &selected, path)?)
    } else {
        let values =
            data.chunks_exact(8).take(n_rows * n_cols).map(|b| f64::from_le_bytes(b.try_into().unwrap()));
        Matrix::F64(arrange(values, n_rows, n_cols, header.fortran_order, &selected, path)?)
    };
    Ok(Dataset { x, feature_names: None })
}

/// Lays the values out row-major, keeps the selected columns, and rejects non-finite values.
fn arrange<F>(
    values: impl Iterator<Item = F>,
    n_rows: usize,
    n_cols: usize,
    fortran_order: bool,
    selected: &[usize],
    path: &Path,
) -> Result<Array2<F>, ReadError>
where
    F: Copy + Into<f64> + Default,
{
    let values: Vec<F> = values.collect();
    let full = Array2::from_shape_vec((n_rows, n_cols).set_f(fortran_order), values)
        .expect("length checked against the shape");
    let x = Array2::from_shape_fn((n_rows, selected.len()), |(i, j)| full[[i, selected[j]]]);
    if let Some(((row, j), &value)) = x.indexed_iter().find(|(_, v)| !(**v).into().is_finite()) {
        return Err(ReadError::NpyNonFinite {
            path: path.into(),
            row,
            column: selected[j],
            value: value.into(),
        });
    }
    Ok(x)
}

/// What the header says.
#[derive(Debug, PartialEq)]
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
    /// Where the array data starts.
    data_offset: usize,
}

fn parse_header(bytes: &[u8]) -> Result<Header, String> {
    let too_short = || "not a valid .npy file: the header is cut short".to_string();
    let major = *bytes.get(6).ok_or_else(too_short)?;
    let (len, start) = match major {
        1 => (u16::from_le_bytes(bytes.get(8..10).ok_or_else(too_short)?.try_into().unwrap()) as usize, 10),
        2 | 3 => {
            (u32::from_le_bytes(bytes.get(8..12).ok_or_else(too_short)?.try_into().unwrap()) as usize, 12)
        }
        v => return Err(format!(".npy format version {v} is not supported (kentro reads versions 1 to 3)")),
    };
    let text = bytes.get(start..start + len).ok_or_else(too_short)?;
    let text =
        std::str::from_utf8(text).map_err(|_| "not a valid .npy file: the header is not text".to_string())?;
    let bad = |why: &str| format!("not a valid .npy file: {why} in header {:?}", text.trim_end());
    let entries = match Literal::parse(text).map_err(|e| bad(&e))? {
        Literal::Dict(entries) => entries,
        _ => return Err(bad("expected a dict")),
    };
    let get = |key: &str| {
        entries.iter().find(|(k, _)| k == key).map(|(_, v)| v).ok_or_else(|| bad(&format!("no '{key}'")))
    };
    let descr = match get("descr")? {
        Literal::Str(s) => s.clone(),
        _ => return Err("structured arrays are not supported: save a plain float array".to_string()),
    };
    let fortran_order = match get("fortran_order")? {
        Literal::Bool(b) => *b,
        _ => return Err(bad("'fortran_order' is not True or False")),
    };
    let shape = match get("shape")? {
        Literal::Tuple(dims) => dims.clone(),
        _ => return Err(bad("'shape' is not a tuple")),
    };
    Ok(Header { descr, fortran_order, shape, data_offset: start + len })
}

/// The Python literals a `.npy` header uses.
#[derive(Debug, PartialEq)]
enum Literal {
    Str(String),
    Bool(bool),
    Int(usize),
    Tuple(Vec<usize>),
    Dict(Vec<(String, Literal)>),
}

impl Literal {
    fn parse(text: &str) -> Result<Literal, String> {
        let mut parser = Parser { chars: text.chars().collect(), at: 0 };
        let value = parser.value()?;
        parser.skip_space();
        if parser.at != parser.chars.len() {
            return Err("unexpected text after the dict".into());
        }
        Ok(value)
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.at).copied()
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected '{c}'"))
        }
    }

    /// Parses `open item, item, … close`, allowing a trailing comma.
    fn sequence<T>(
        &mut self,
        close: char,
        mut item: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.at += 1;
                return Ok(items);
            }
            items.push(item(self)?);
            match self.peek() {
                Some(',') => self.at += 1,
                Some(c) if c == close => {}
                _ => return Err(format!("expected ',' or '{close}'")),
            }
        }
    }

    fn value(&mut self) -> Result<Literal, String> {
        match self.peek() {
            Some('{') => {
                self.at += 1;
                let entries = self.sequence('}', |p| {
                    let key = match p.value()? {
                        Literal::Str(s) => s,
                        _ => return Err("a key is not a string".to_string()),
                    };
                    p.expect(':')?;
                    Ok((key, p.value()?))
                })?;
                Ok(Literal::Dict(entries))
            }
            Some('(') => {
                self.at += 1;
                let dims = self.sequence(')', |p| match p.value()? {
                    Literal::Int(n) => Ok(n),
                    _ => Err("a dimension is not an integer".to_string()),
                })?;
                Ok(Literal::Tuple(dims))
            }
            Some(quote @ ('\'' | '"')) => {
                self.at += 1;
                let start = self.at;
                while self.chars.get(self.at).is_some_and(|&c| c != quote) {
                    self.at += 1;
                }
                let s: String = self.chars[start..self.at].iter().collect();
                self.expect(quote)?;
                Ok(Literal::Str(s))
            }
            Some(c) if c.is_ascii_alphanumeric() => {
                let start = self.at;
                while self.chars.get(self.at).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
                    self.at += 1;
                }
                let word: String = self.chars[start..self.at].iter().collect();
                match word.as_str() {
                    "True" => Ok(Literal::Bool(true)),
                    "False" => Ok(Literal::Bool(false)),
                    _ => word.parse().map(Literal::Int).map_err(|_| format!("unexpected {word:?}")),
                }
            }
            Some(c) => Err(format!("unexpected '{c}'")),
            None => Err("unexpected end".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Columns;

    /// A version 1.0 `.npy` file.
    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let order = if fortran { "True" } else { "False" };
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header.as_bytes());
        out.extend(data);
        out
    }

    fn f64_bytes(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn all() -> ReadOptions {
        ReadOptions {
            header: super::super::HeaderMode::Detect,
            columns: Columns::All,
            exclude: vec![],
            delimiter: None,
        }
    }

    fn read_bytes(bytes: &[u8]) -> Result<Dataset, ReadError> {
        read(Path::new("x.npy"), bytes, &all())
    }

    #[test]
    fn c_and_fortran_order_give_the_same_rows() {
        let c = npy("<f8", false, "(2, 3)", &f64_bytes(&[1., 2., 3., 4., 5., 6.]));
        let f = npy("<f8", true, "(2, 3)", &f64_bytes(&[1., 4., 2., 5., 3., 6.]));
        let expected = Matrix::F64(ndarray::array![[1., 2., 3.], [4., 5., 6.]]);
        assert_eq!(read_bytes(&c).unwrap().x, expected);
        assert_eq!(read_bytes(&f).unwrap().x, expected);
    }

    #[test]
    fn float32_stays_float32() {
        let data: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let x = read_bytes(&npy("<f4", false, "(1, 2)", &data)).unwrap().x;
        assert_eq!(x, Matrix::F32(ndarray::array![[1.5, -2.0]]));
    }

    #[test]
    fn columns_are_selected_by_index() {
        let bytes = npy("<f8", false, "(2, 3)", &f64_bytes(&[1., 2., 3., 4., 5., 6.]));
        let options = ReadOptions { columns: Columns::Listed(vec!["2".into(), "0".into()]), ..all() };
        let x = read(Path::new("x.npy"), &bytes, &options).unwrap().x;
        assert_eq!(x, Matrix::F64(ndarray::array![[3., 1.], [6., 4.]]));
        let options = ReadOptions { columns: Columns::Listed(vec!["a".into()]), ..all() };
        let err = read(Path::new("x.npy"), &bytes, &options).unwrap_err().to_string();
        assert!(err.contains("no column names"), "{err}");
    }

    #[test]
    fn unusable_files_are_refused_clearly() {
        let err = |bytes: &[u8]| read_bytes(bytes).unwrap_err().to_string();
        assert!(err(&npy("<i8", false, "(1, 1)", &[0; 8])).contains("dtype '<i8' is not supported"));
        assert!(err(&npy(">f8", false, "(1, 1)", &[0; 8])).contains("big-endian"));
        assert!(err(&npy("<f8", false, "(3,)", &[0; 24])).contains("1-D array"));
        assert!(err(&npy("<f8", false, "(2, 2)", &[0; 24])).contains("truncated"));
        assert_eq!(err(&npy("<f8", false, "(0, 2)", &[])), "x.npy: no data rows");
        assert_eq!(
            err(&npy("<f8", false, "(2, 2)", &f64_bytes(&[1., 2., 3., f64::NAN]))),
            "x.npy: element [1, 1] is NaN; the data must be finite"
        );
        assert!(err(b"\x93NUMPY\x01\x00\x05\x00{'a'").contains("not a valid .npy file"));
        assert!(err(b"\x93NUMPY").contains("cut short"));
    }

    #[test]
    fn header_literals_parse() {
        let dict = Literal::parse("{'descr': '<f8', 'fortran_order': False, 'shape': (300, 2), }").unwrap();
        let Literal::Dict(entries) = dict else { panic!("not a dict") };
        assert_eq!(entries[2], ("shape".to_string(), Literal::Tuple(vec![300, 2])));
        assert_eq!(Literal::parse("(5,)").unwrap(), Literal::Tuple(vec![5]));
        assert!(Literal::parse("{'a': }").is_err());
    }
}
