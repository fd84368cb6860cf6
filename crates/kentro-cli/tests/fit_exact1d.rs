//! `kentro fit --algorithm exact-1d`: the exact optimal clustering of one column.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

fn kentro(dir: &Path) -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("kentro");
    cmd.current_dir(dir).env_remove("RAYON_NUM_THREADS");
    cmd
}

#[test]
fn one_column_is_clustered_exactly() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // Lloyd from k-means++ can stop in a local optimum here; the exact fit cannot.
    fs::write(d.join("v.csv"), "v\n40\n0\n1\n31\n30\n41\n").unwrap();
    kentro(d)
        .args(["fit", "v.csv", "-k", "3", "--algorithm", "exact-1d", "-o", "m.json", "--labels", "l.csv"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("inertia:       1.5\n")
                .and(predicate::str::contains("iterations:    1\n")),
        );
    let model: Value = serde_json::from_str(&fs::read_to_string(d.join("m.json")).unwrap()).unwrap();
    assert_eq!(model["centers"], serde_json::json!([[0.5], [30.5], [40.5]]));
    assert_eq!(fs::read_to_string(d.join("l.csv")).unwrap(), "label\n2\n0\n0\n1\n1\n2\n");
}

#[test]
fn more_columns_are_refused_naming_d() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("xy.csv"), "x,y\n1,2\n3,4\n5,6\n").unwrap();
    kentro(d)
        .args(["fit", "xy.csv", "-k", "2", "--algorithm", "exact-1d", "-o", "m.json"])
        .assert()
        .code(1)
        .stderr(
            "error: cannot fit xy.csv: the exact 1-D algorithm needs data with one feature (d = 1), got d = 2\n",
        );
    assert!(!d.join("m.json").exists());
}

#[test]
fn settings_that_exact_1d_ignores_are_warned_about_only_when_given() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("v.csv"), "v\n40\n0\n1\n31\n30\n41\n").unwrap();
    let fit = |extra: &[&str]| {
        kentro(d).args(["fit", "v.csv", "-k", "3", "--algorithm", "exact-1d"]).args(extra).assert().success()
    };
    fit(&["--n-init", "5", "--init", "random"]).stderr(predicate::str::contains(
        "warning: --algorithm exact-1d ignores --init, --n-init: it finds the optimal clustering directly",
    ));
    fit(&["--max-iter", "10"]).stderr(predicate::str::contains("ignores --max-iter:"));
    fit(&[]).stderr("");
    fit(&["--n-init", "5", "-q"]).stderr("");
}
