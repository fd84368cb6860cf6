//! TF-IDF rows, as scikit-learn's `TfidfVectorizer(sublinear_tf=True, smooth_idf=True,
//! norm="l2")`: the vocabulary is the terms sorted, kept when their document frequency is
//! within `min_df..=max_df`; a term counted `n` times in a document weighs
//! `(1 + ln n) × (ln((1 + N) / (1 + df)) + 1)` there, and every row is scaled to unit length.

use std::collections::BTreeMap;

use anyhow::bail;
use kentro::CsrMatrix;

/// A document-frequency bound: a number of documents, or a share of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DocFreq {
    /// At least/most this many documents.
    Count(usize),
    /// At least/most this share of the documents (0 to 1).
    Share(f64),
}

impl DocFreq {
    /// The bound in documents, out of `n_docs` (a share is `share × n_docs`, unrounded).
    fn documents(self, n_docs: usize) -> f64 {
        match self {
            DocFreq::Count(c) => c as f64,
            DocFreq::Share(s) => s * n_docs as f64,
        }
    }
}

impl std::str::FromStr for DocFreq {
    type Err = String;

    /// A whole number is a count (`2`), a number with a point or exponent a share (`0.5`, `1.0`).
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.chars().all(|c| c.is_ascii_digit()) && !text.is_empty() {
            return text.parse().map(DocFreq::Count).map_err(|_| "expected a whole number".into());
        }
        match text.parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Ok(DocFreq::Share(v)),
            _ => Err("expected a document count (a whole number) or a share from 0.0 to 1.0".into()),
        }
    }
}

/// The TF-IDF matrix of a corpus and its vocabulary (column `j` is `terms[j]`).
#[derive(Debug)]
pub struct Tfidf {
    /// One row per document.
    pub matrix: CsrMatrix<f64>,
    /// The terms, sorted.
    pub terms: Vec<String>,
}

/// TF-IDF rows of the tokenised documents.
pub fn tfidf(docs: &[Vec<String>], min_df: DocFreq, max_df: DocFreq) -> anyhow::Result<Tfidf> {
    let n = docs.len();
    // Term counts per document, and document frequencies, by term (sorted).
    let counts: Vec<BTreeMap<&str, usize>> = docs
        .iter()
        .map(|doc| {
            let mut m = BTreeMap::new();
            doc.iter().for_each(|t| *m.entry(t.as_str()).or_insert(0) += 1);
            m
        })
        .collect();
    let mut df: BTreeMap<&str, usize> = BTreeMap::new();
    for doc in &counts {
        doc.keys().for_each(|t| *df.entry(t).or_insert(0) += 1);
    }
    if df.is_empty() {
        bail!("empty vocabulary: the documents contain only stop words or words of one character");
    }
    let (low, high) = (min_df.documents(n), max_df.documents(n));
    if high < low {
        bail!("--max-df ({high} documents) is below --min-df ({low} documents)");
    }
    let kept: Vec<(&str, usize)> =
        df.into_iter().filter(|&(_, f)| f as f64 >= low && f as f64 <= high).collect();
    if kept.is_empty() {
        bail!("no terms remain after --min-df and --max-df: try a lower --min-df or a higher --max-df");
    }
    let column: BTreeMap<&str, usize> = kept.iter().enumerate().map(|(j, &(t, _))| (t, j)).collect();
    let idf: Vec<f64> = kept.iter().map(|&(_, f)| ((1.0 + n as f64) / (1.0 + f as f64)).ln() + 1.0).collect();

    let mut indptr = vec![0usize];
    let (mut indices, mut data) = (Vec::new(), Vec::new());
    for doc in &counts {
        let start = data.len();
        // BTreeMap order is term order, which is column order.
        for (t, &c) in doc {
            if let Some(&j) = column.get(t) {
                indices.push(j);
                data.push((1.0 + (c as f64).ln()) * idf[j]);
            }
        }
        let norm = data[start..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            data[start..].iter_mut().for_each(|v| *v /= norm);
        }
        indptr.push(data.len());
    }
    let n_terms = kept.len();
    let matrix = CsrMatrix::new((n, n_terms), indptr, indices, data)?;
    Ok(Tfidf { matrix, terms: kept.into_iter().map(|(t, _)| t.to_string()).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize::tokens;

    #[test]
    fn doc_freq_reads_counts_and_shares() {
        assert_eq!("2".parse::<DocFreq>(), Ok(DocFreq::Count(2)));
        assert_eq!("0.5".parse::<DocFreq>(), Ok(DocFreq::Share(0.5)));
        assert_eq!("1.0".parse::<DocFreq>(), Ok(DocFreq::Share(1.0)));
        assert!("1.5".parse::<DocFreq>().is_err() && "-1".parse::<DocFreq>().is_err());
    }

    /// The fixture `tests/fixtures/text/tfidf.json` is scikit-learn's TfidfVectorizer on a small
    /// corpus (scripts/make_text_fixtures.py).
    #[test]
    fn tfidf_equals_scikit_learns() {
        use serde_json::Value;
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/text/tfidf.json");
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let strings = |v: &Value| -> Vec<String> {
            v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
        };
        let docs: Vec<Vec<String>> = strings(&fixture["documents"]).iter().map(|d| tokens(d)).collect();
        let cases = fixture["cases"].as_array().unwrap();
        assert!(cases.len() >= 3);
        for case in cases {
            let (min_df, max_df) = (case["min_df"].as_str().unwrap(), case["max_df"].as_str().unwrap());
            let t = tfidf(&docs, min_df.parse().unwrap(), max_df.parse().unwrap()).unwrap();
            assert_eq!(t.terms, strings(&case["terms"]), "min_df {min_df} max_df {max_df}");
            let dense = t.matrix.view().to_dense();
            let rows = case["matrix"].as_array().unwrap();
            assert_eq!(dense.dim(), (rows.len(), t.terms.len()));
            for (i, row) in rows.iter().enumerate() {
                for (j, v) in row.as_array().unwrap().iter().enumerate() {
                    let v = v.as_f64().unwrap();
                    assert!((dense[[i, j]] - v).abs() <= 1e-12, "[{i}, {j}]: {} vs {v}", dense[[i, j]]);
                }
            }
        }
    }

    #[test]
    fn pruning_everything_is_an_error() {
        let docs = vec![vec!["apple".to_string()], vec!["pear".to_string()]];
        let err = tfidf(&docs, DocFreq::Count(2), DocFreq::Share(1.0)).unwrap_err().to_string();
        assert!(err.contains("no terms remain"), "{err}");
        let err = tfidf(&[vec![], vec![]], DocFreq::Count(1), DocFreq::Share(1.0)).unwrap_err().to_string();
        assert!(err.contains("empty vocabulary"), "{err}");
    }
}
