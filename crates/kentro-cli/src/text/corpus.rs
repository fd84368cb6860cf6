//! The documents of `kentro text`: the `.txt` files of a folder (sorted by name), or one text
//! field per record of a `.jsonl` file or per row of a `.csv` file.

use std::path::Path;

use anyhow::{Context, bail};

/// One document: what names it in the assignments, and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The file name (folders), or the 0-based record number (`.jsonl`, `.csv`).
    pub name: String,
    /// The text.
    pub text: String,
}

/// Reads the documents at `path`; `column` names the text field of `.jsonl` and `.csv` files.
pub fn read_documents(path: &Path, column: &str) -> anyhow::Result<Vec<Document>> {
    if path.is_dir() {
        return read_folder(path);
    }
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("jsonl") => read_jsonl(path, column),
        Some("csv") => read_csv(path, column),
        _ if !path.exists() => bail!("{}: no such file or folder", path.display()),
        _ => bail!("{}: expected a folder of .txt files, a .jsonl file or a .csv file", path.display()),
    }
}

fn read_folder(dir: &Path) -> anyhow::Result<Vec<Document>> {
    let mut names = Vec::new();
    let mut others = 0usize;
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read folder {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_txt = Path::new(&name).extension().is_some_and(|e| e.eq_ignore_ascii_case("txt"));
        if is_txt && entry.path().is_file() {
            names.push(name);
        } else {
            others += 1;
        }
    }
    if names.is_empty() {
        if others == 0 {
            bail!("{}: the folder is empty (expected .txt files)", dir.display());
        }
        bail!("{}: no .txt files in the folder ({others} other entries)", dir.display());
    }
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let file = dir.join(&name);
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                anyhow::anyhow!("{}: not UTF-8 text (byte {})", file.display(), e.utf8_error().valid_up_to())
            })?;
            Ok(Document { name, text })
        })
        .collect()
}

fn read_jsonl(path: &Path, column: &str) -> anyhow::Result<Vec<Document>> {
    let content = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut docs = Vec::new();
    for (i, line) in content.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("{}:{line_no}: invalid JSON: {e}", path.display()))?;
        let Some(object) = value.as_object() else {
            bail!("{}:{line_no}: expected a JSON object with a `{column}` field", path.display());
        };
        let Some(field) = object.get(column) else {
            let fields: Vec<&str> = object.keys().map(String::as_str).collect();
            bail!(
                "{}:{line_no}: no `{column}` field (fields: {}); choose one with --column",
                path.display(),
                if fields.is_empty() { "none".to_string() } else { fields.join(", ") }
            );
        };
        let Some(text) = field.as_str() else {
            bail!("{}:{line_no}: the `{column}` field is not a string", path.display());
        };
        docs.push(Document { name: docs.len().to_string(), text: text.to_string() });
    }
    if docs.is_empty() {
        bail!("{}: no records", path.display());
    }
    Ok(docs)
}

fn read_csv(path: &Path, column: &str) -> anyhow::Result<Vec<Document>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(line) = crate::read::quotes::unclosed_quote(&bytes, b',', None) {
        bail!("{}:{line}: {}", path.display(), crate::read::quotes::UNCLOSED_QUOTE);
    }
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes.as_slice());
    let headers = reader.headers().with_context(|| format!("cannot read {}", path.display()))?.clone();
    let Some(col) = headers.iter().position(|h| h == column) else {
        let names: Vec<&str> = headers.iter().collect();
        bail!(
            "{}: no column `{column}` (columns: {}); choose one with --column",
            path.display(),
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        );
    };
    let mut docs = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(String::new(), |p| format!(":{}", p.line()));
            anyhow::anyhow!("{}{line}: {e}", path.display())
        })?;
        docs.push(Document { name: docs.len().to_string(), text: record.get(col).unwrap_or("").to_string() });
    }
    if docs.is_empty() {
        bail!("{}: no rows below the header", path.display());
    }
    Ok(docs)
}
