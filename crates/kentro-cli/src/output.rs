//! Writing results, all or nothing: a command's files are first written in full as temporary
//! files beside their targets, then renamed into place together, only once every one of them
//! was written. A failure (or Ctrl-C) removes the temporary files (and any folder made for
//! them), so a failed command leaves the old files or none, never half of them.
//!
//! Also: the checks made on output paths before any long work, stdout, the CSV texts written,
//! and how numbers are printed.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use anyhow::{Context, bail};

/// Temporary files and folders made by unfinished [`Outputs`], for the Ctrl-C handler.
///
/// Whoever creates, renames or removes them holds this lock meanwhile, so the handler (which
/// takes it too) never races them: it sees each file either not yet made, or made and listed.
static PENDING: Mutex<Pending> = Mutex::new(Pending { files: Vec::new(), dirs: Vec::new() });

#[derive(Debug)]
struct Pending {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

fn pending() -> MutexGuard<'static, Pending> {
    // A panic while holding the lock leaves nothing inconsistent worth refusing over.
    PENDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every temporary file and folder of unfinished [`Outputs`]; called on Ctrl-C, just
/// before the program exits. Folders are removed only if empty, newest first.
pub fn remove_pending() {
    let mut pending = pending();
    for file in pending.files.drain(..) {
        let _ = fs::remove_file(file);
    }
    for dir in pending.dirs.drain(..).rev() {
        let _ = fs::remove_dir(dir);
    }
}

/// Files to write together: each [`Outputs::stage`] writes a temporary file beside its target,
/// [`Outputs::commit`] renames them all into place. Dropped without a commit (on an error), it
/// removes its temporary files and the folders it made.
#[derive(Debug, Default)]
pub struct Outputs {
    /// (temporary file, target), in the order staged.
    staged: Vec<(PathBuf, PathBuf)>,
    /// Folders made by [`Outputs::create_dir_all`], outermost first.
    made_dirs: Vec<PathBuf>,
}

impl Outputs {
    /// Nothing staged yet.
    pub fn new() -> Self {
        Outputs::default()
    }

    /// Makes `dir` and its missing parents; they are removed again unless the outputs are
    /// committed.
    pub fn create_dir_all(&mut self, dir: &Path) -> anyhow::Result<()> {
        let mut missing = Vec::new();
        let mut at = Some(dir);
        while let Some(d) = at.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            missing.push(d.to_path_buf());
            at = d.parent();
        }
        for d in missing.into_iter().rev() {
            let mut pending = pending();
            fs::create_dir(&d).with_context(|| format!("cannot create folder {}", d.display()))?;
            pending.dirs.push(d.clone());
            self.made_dirs.push(d);
        }
        Ok(())
    }

    /// Writes `bytes` in full to a temporary file beside `path` (`.NAME.tmpPID`).
    pub fn stage(&mut self, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
        let tmp = temporary_path(path).with_context(|| format!("cannot write {}", path.display()))?;
        let mut pending = pending();
        pending.files.push(tmp.clone());
        self.staged.push((tmp.clone(), path.to_path_buf()));
        write_new(&tmp, bytes).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Renames every staged file into place. Every temporary file has been written in full, in
    /// the target's folder, so a rename can only fail for reasons checked before the work began
    /// (see [`check_targets`]) or that appeared meanwhile; should one fail, the files not yet
    /// renamed are removed and the error names the file.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let mut pending = pending();
        let staged = std::mem::take(&mut self.staged);
        let mut result = Ok(());
        for (tmp, path) in &staged {
            if result.is_ok() {
                result = fs::rename(tmp, path).with_context(|| format!("cannot write {}", path.display()));
            }
            if result.is_err() {
                let _ = fs::remove_file(tmp);
            }
            pending.files.retain(|f| f != tmp);
        }
        if result.is_ok() {
            pending.dirs.retain(|d| !self.made_dirs.contains(d));
            self.made_dirs.clear();
        }
        result
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        let mut pending = pending();
        for (tmp, _) in self.staged.drain(..) {
            let _ = fs::remove_file(&tmp);
            pending.files.retain(|f| *f != tmp);
        }
        for dir in self.made_dirs.drain(..).rev() {
            let _ = fs::remove_dir(&dir);
            pending.dirs.retain(|d| *d != dir);
        }
    }
}

/// `.NAME.tmpPID` in `path`'s folder.
fn temporary_path(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| io::Error::other("not a file name"))?;
    Ok(folder_of(path).join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id())))
}

fn write_new(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The folder `path` is in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes the one file `path` all or nothing.
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut outputs = Outputs::new();
    outputs.stage(path, bytes)?;
    outputs.commit()
}

/// Checks, before any long work, that each output can be written: its folder exists, it is not
/// a folder itself, it is not one of the `inputs`, and no two outputs are the same file. Each
/// output is named with the option that gave it (`--out m.json`).
pub fn check_targets(inputs: &[&Path], targets: &[(&str, &Path)]) -> anyhow::Result<()> {
    for (i, &(option, path)) in targets.iter().enumerate() {
        if path.file_name().is_none() {
            bail!("{option} {}: not a file name", path.display());
        }
        let folder = folder_of(path);
        if !folder.is_dir() {
            bail!("{option} {}: the folder {} does not exist", path.display(), folder.display());
        }
        if path.is_dir() {
            bail!("{option} {}: is a folder", path.display());
        }
        if let Some(input) = inputs.iter().find(|input| same_file(input, path)) {
            bail!("{option} {} would overwrite the input {}", path.display(), input.display());
        }
        if let Some(&(other, other_path)) = targets[..i].iter().find(|(_, other)| same_file(other, path)) {
            bail!("{other} {} and {option} {} name the same file", other_path.display(), path.display());
        }
    }
    Ok(())
}

/// Checks, before any long work, that the folder `dir` exists or can be made: its nearest
/// existing ancestor is a folder.
pub fn check_folder(option: &str, dir: &Path) -> anyhow::Result<()> {
    let mut at = Some(dir);
    while let Some(d) = at.filter(|d| !d.as_os_str().is_empty()) {
        if d.exists() {
            if !d.is_dir() {
                bail!("{option} {}: {} is not a folder", dir.display(), d.display());
            }
            return Ok(());
        }
        at = d.parent();
    }
    Ok(())
}

/// Whether `a` and `b` are the same file: the same path once links and `..` are resolved (for
/// a file that does not exist yet, through its folder), or the same file on disk.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) {
            return (ma.dev(), ma.ino()) == (mb.dev(), mb.ino());
        }
    }
    match (resolve(a), resolve(b)) {
        (Some(ra), Some(rb)) => ra == rb,
        _ => a == b,
    }
}

fn resolve(path: &Path) -> Option<PathBuf> {
    if let Ok(full) = path.canonicalize() {
        return Some(full);
    }
    Some(folder_of(path).canonicalize().ok()?.join(path.file_name()?))
}

/// Writes `bytes` to stdout (a closed pipe surfaces as a `BrokenPipe` error for `main`).
pub fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Writes `bytes` to `path` (all or nothing), or to stdout without one.
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

/// A number for people to read: 6 significant digits, trailing zeros dropped (`203.227`,
/// `0.5`, `12`), in scientific notation when the magnitude is below 1e-4 or from 1e9 up
/// (`1.5e-300`, `1e30`). Below 1e9 the integer part is always written in full.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".to_string();
    }
    // The exponent after rounding to 6 significant digits decides the notation.
    let scientific = format!("{value:.5e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("`{:e}` writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes an integer exponent");
    if !(-4..9).contains(&exponent) {
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    let decimals = (5 - exponent).max(0) as usize;
    trim_zeros(&format!("{value:.decimals$}")).to_string()
}

/// `1.50000` → `1.5`, `2.000` → `2`; text without a point is left alone.
fn trim_zeros(text: &str) -> &str {
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

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

    #[test]
    fn numbers_have_six_significant_digits() {
        assert_eq!(number(203.227_054_1), "203.227");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(12.0), "12");
        assert_eq!(number(-1.25), "-1.25");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.000_123_456_78), "0.000123457");
        assert_eq!(number(123_456_789.4), "123456789");
        assert_eq!(number(1e30), "1e30");
        assert_eq!(number(1.234_567e30), "1.23457e30");
        assert_eq!(number(1.5e-300), "1.5e-300");
        assert_eq!(number(-2e-5), "-2e-5");
        assert_eq!(number(999_999_999.7), "1e9");
        assert_eq!(number(0.000_099_999_999_9), "0.0001");
        assert_eq!(number(f64::MAX), "1.79769e308");
        assert_eq!(number(f64::NAN), "NaN");
    }

    /// The tests that stage files take this, so that the interrupt test's cleanup, which
    /// removes every pending file of the process, cannot meet another test's files.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn outputs_appear_together_on_commit() {
        let _serial = serial();
        let dir = TempDir::new().unwrap();
        let (a, b) = (dir.path().join("a.txt"), dir.path().join("sub/b.txt"));
        let mut outputs = Outputs::new();
        outputs.create_dir_all(&dir.path().join("sub")).unwrap();
        outputs.stage(&a, b"A").unwrap();
        outputs.stage(&b, b"B").unwrap();
        assert!(!a.exists() && !b.exists());
        outputs.commit().unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"A");
        assert_eq!(fs::read(&b).unwrap(), b"B");
        assert_eq!(names_in(dir.path()), ["a.txt", "sub"]);
        assert_eq!(names_in(&dir.path().join("sub")), ["b.txt"]);
    }

    #[test]
    fn a_failed_stage_leaves_nothing() {
        let _serial = serial();
        let dir = TempDir::new().unwrap();
        fs::write(dir.path().join("old.txt"), "old").unwrap();
        let mut outputs = Outputs::new();
        outputs.create_dir_all(&dir.path().join("new/deeper")).unwrap();
        outputs.stage(&dir.path().join("new/deeper/a.txt"), b"A").unwrap();
        outputs.stage(&dir.path().join("old.txt"), b"new").unwrap();
        assert!(outputs.stage(&dir.path().join("missing/c.txt"), b"C").is_err());
        drop(outputs);
        assert_eq!(names_in(dir.path()), ["old.txt"]);
        assert_eq!(fs::read(dir.path().join("old.txt")).unwrap(), b"old");
    }

    #[test]
    fn an_interrupt_removes_the_temporary_files() {
        let _serial = serial();
        let dir = TempDir::new().unwrap();
        let mut outputs = Outputs::new();
        outputs.create_dir_all(&dir.path().join("plots")).unwrap();
        outputs.stage(&dir.path().join("plots/a.png"), b"A").unwrap();
        outputs.stage(&dir.path().join("b.json"), b"B").unwrap();
        assert_eq!(names_in(&dir.path().join("plots")).len(), 1);
        // What the Ctrl-C handler does before exiting.
        remove_pending();
        assert!(names_in(dir.path()).is_empty());
        drop(outputs);
    }

    #[test]
    fn targets_are_checked_before_the_work() {
        let dir = TempDir::new().unwrap();
        let d = dir.path();
        let data = d.join("data.csv");
        fs::write(&data, "1,2\n").unwrap();
        let check = |targets: &[(&str, &Path)]| check_targets(&[&data], targets).map_err(|e| e.to_string());
        assert!(check(&[("--out", &d.join("m.json")), ("--labels", &d.join("l.csv"))]).is_ok());
        let err = check(&[("--plot", &d.join("nodir/p.png"))]).unwrap_err();
        assert!(err.ends_with("nodir does not exist"), "{err}");
        let err = check(&[("--labels", &d.join("./data.csv"))]).unwrap_err();
        assert!(err.contains("would overwrite the input"), "{err}");
        let err = check(&[("--out", &d.join("m.json")), ("--labels", &d.join("m.json"))]).unwrap_err();
        assert!(err.starts_with("--out ") && err.ends_with("m.json name the same file"), "{err}");
        let err = check(&[("--out", d)]).unwrap_err();
        assert!(err.contains("not a file name") || err.contains("is a folder"), "{err}");
        assert!(check_folder("--out", &d.join("a/b/c")).is_ok());
        let err = check_folder("--out", &data.join("sub")).unwrap_err().to_string();
        assert!(err.contains("is not a folder"), "{err}");
    }
}
