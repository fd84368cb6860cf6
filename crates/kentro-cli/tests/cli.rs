//! End-to-end tests of the `kentro` binary: every command, the file formats, and the errors a
//! user sees. Data is small so the suite runs in seconds.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

/// `kentro` running in `dir`, so that paths (and error messages) are short and relative.
fn kentro(dir: &Path) -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("kentro");
    cmd.current_dir(dir).env_remove("RAYON_NUM_THREADS");
    cmd
}

/// Writes `kentro blobs` output to `dir/name` and returns the file's text.
fn blobs(dir: &Path, name: &str, args: &[&str]) -> String {
    kentro(dir).args(["blobs", "-o", name]).args(args).assert().success();
    fs::read_to_string(dir.join(name)).unwrap()
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap()
}

/// Labels from a `label` CSV.
fn labels(text: &str) -> Vec<usize> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("label"));
    lines.map(|l| l.parse().unwrap()).collect()
}

/// A version 1.0 `.npy` file of a 2-D array.
fn npy(descr: &str, fortran_order: bool, shape: (usize, usize), data: &[u8]) -> Vec<u8> {
    let order = if fortran_order { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': ({}, {}), }}", shape.0, shape.1);
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

/// The feature columns of a blobs CSV, row by row.
fn features(csv: &str) -> Vec<Vec<f64>> {
    csv.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            cells[..cells.len() - 1].iter().map(|c| c.parse().unwrap()).collect()
        })
        .collect()
}

#[test]
fn fit_then_predict_round_trips_on_csv() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let data = blobs(d, "data.csv", &["-n", "60", "--centers", "3", "--seed", "7"]);
    assert!(data.starts_with("x0,x1,label\n"));

    kentro(d)
        .args(["fit", "data.csv", "-k", "3", "--columns", "x0,x1", "--out", "model.json"])
        .args(["--labels", "labels.csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("inertia:").and(predicate::str::contains("cluster sizes:")));
    let fitted = labels(&read(d, "labels.csv"));
    assert_eq!(fitted.len(), 60);

    // The model records the columns by name...
    let model: serde_json::Value = serde_json::from_str(&read(d, "model.json")).unwrap();
    assert_eq!(model["feature_names"], serde_json::json!(["x0", "x1"]));

    // ...so predict picks them out of the same file, label column and all.
    kentro(d).args(["predict", "model.json", "data.csv", "--out", "predicted.csv"]).assert().success();
    assert_eq!(labels(&read(d, "predicted.csv")), fitted);

    // ...and out of a file whose columns are in another order.
    let mut shuffled = String::from("label,x1,x0\n");
    for row in features(&data) {
        shuffled.push_str(&format!("9,{:?},{:?}\n", row[1], row[0]));
    }
    fs::write(d.join("shuffled.csv"), shuffled).unwrap();
    kentro(d)
        .args(["predict", "model.json", "shuffled.csv"])
        .assert()
        .success()
        .stdout(predicate::function(|out: &str| labels(out) == fitted));
}

#[test]
fn fit_then_predict_round_trips_on_npy() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let rows = features(&blobs(d, "data.csv", &["-n", "50", "--centers", "4", "--features", "3"]));
    let (n, p) = (rows.len(), rows[0].len());

    // float64, C order.
    let c_order: Vec<u8> = rows.iter().flatten().flat_map(|v| v.to_le_bytes()).collect();
    fs::write(d.join("x64.npy"), npy("<f8", false, (n, p), &c_order)).unwrap();
    // float32, Fortran order (column by column).
    let f_order: Vec<u8> =
        (0..p).flat_map(|j| rows.iter().map(move |r| r[j] as f32)).flat_map(|v| v.to_le_bytes()).collect();
    fs::write(d.join("x32.npy"), npy("<f4", true, (n, p), &f_order)).unwrap();

    for name in ["x64.npy", "x32.npy"] {
        kentro(d)
            .args(["fit", name, "-k", "4", "--out", "model.json", "--labels", "labels.csv", "--quiet"])
            .assert()
            .success();
        let fitted = labels(&read(d, "labels.csv"));
        assert_eq!(fitted.len(), n);
        let dtype = if name == "x32.npy" { "float32" } else { "float64" };
        assert!(read(d, "model.json").contains(dtype), "{name}: model dtype");
        kentro(d)
            .args(["predict", "model.json", name])
            .assert()
            .success()
            .stdout(predicate::function(|out: &str| labels(out) == fitted));
    }
}

#[test]
fn demo_writes_two_plots_in_two_formats() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    kentro(d)
        .args(["demo", "--out", "plots"])
        .assert()
        .success()
        .stdout(predicate::str::contains("inertia:").and(predicate::str::contains("ARI:")))
        .stdout(predicate::str::contains("wrote plots/clustered_data.svg"));
    for (stem, title) in [
        ("data_before_clustering", "Data Before Clustering"),
        ("clustered_data", "Clustered Data with Centroids Overlayed"),
    ] {
        let png = fs::read(d.join(format!("plots/{stem}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{stem}.png is not a PNG");
        let svg = read(d, &format!("plots/{stem}.svg"));
        assert!(svg.starts_with("<svg") && svg.contains(title), "{stem}.svg lacks its title");
    }
    let svg = read(d, "plots/clustered_data.svg");
    assert!(svg.contains("Original Data") && svg.contains("Centroids"));
}

#[test]
fn labels_csv_has_a_header_and_one_row_per_input_row() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("data.csv"), "0,0\n0,1\n10,10\n10,11\n0,0.5\n").unwrap();
    kentro(d).args(["fit", "data.csv", "-k", "2", "--labels", "labels.csv", "-q"]).assert().success();
    let text = read(d, "labels.csv");
    assert_eq!(text.lines().count(), 6);
    let l = labels(&text);
    assert_eq!((l[0], l[1], l[4]), (l[0], l[0], l[0]));
    assert_eq!(l[2], l[3]);
    assert_ne!(l[0], l[2]);
}

#[test]
fn quiet_prints_nothing() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    blobs(d, "data.csv", &["-n", "30"]);
    kentro(d)
        .args(["fit", "data.csv", "-k", "2", "--exclude", "label", "--out", "m.json", "--quiet"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert!(d.join("m.json").exists());
}

#[test]
fn fit_warnings_go_to_stderr_unless_quiet() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("dup.csv"), "a,b\n1,1\n1,1\n1,1\n2,2\n").unwrap();
    kentro(d)
        .args(["fit", "dup.csv", "-k", "3"])
        .assert()
        .success()
        .stderr(predicate::str::starts_with("warning: Number of distinct clusters (2)"));
    kentro(d).args(["fit", "dup.csv", "-k", "3", "-q"]).assert().success().stderr("").stdout("");
}

#[test]
fn blobs_writes_a_csv_with_features_and_labels() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let text =
        blobs(d, "b.csv", &["-n", "10", "--centers", "2", "--features", "3", "--std", "0.5", "--seed", "3"]);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("x0,x1,x2,label"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r.split(',').count() == 4));
    // Without -o the CSV goes to stdout, identical.
    kentro(d)
        .args(["blobs", "-n", "10", "--centers", "2", "--features", "3", "--std", "0.5", "--seed", "3"])
        .assert()
        .success()
        .stdout(text);
}

#[test]
fn thread_count_does_not_change_the_model() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // Enough rows for many leaf blocks, so that threads really share the work.
    blobs(d, "data.csv", &["-n", "3000", "--centers", "5", "--features", "4"]);
    for threads in ["1", "2"] {
        kentro(d)
            .args(["fit", "data.csv", "-k", "5", "--exclude", "label", "--n-init", "3", "--threads", threads])
            .args(["--out", &format!("model{threads}.json"), "-q"])
            .assert()
            .success();
    }
    assert_eq!(fs::read(d.join("model1.json")).unwrap(), fs::read(d.join("model2.json")).unwrap());
}

#[test]
fn every_algorithm_writes_the_same_model() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    blobs(d, "data.csv", &["-n", "1500", "--centers", "6", "--features", "3"]);
    let algorithms = ["auto", "lloyd", "elkan", "hamerly", "yinyang"];
    for algorithm in algorithms {
        kentro(d)
            .args(["fit", "data.csv", "-k", "6", "--exclude", "label", "--algorithm", algorithm])
            .args(["--out", &format!("{algorithm}.json"), "-q"])
            .assert()
            .success();
    }
    let first = fs::read(d.join("auto.json")).unwrap();
    for algorithm in algorithms {
        assert_eq!(fs::read(d.join(format!("{algorithm}.json"))).unwrap(), first, "{algorithm}");
    }
}

#[test]
fn plots_of_many_features_show_principal_components() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    blobs(d, "data.csv", &["-n", "40", "--features", "4"]);
    kentro(d)
        .args(["fit", "data.csv", "-k", "3", "--exclude", "label", "--plot", "clusters.svg"])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote clusters.svg"));
    let svg = read(d, "clusters.svg");
    assert!(svg.contains("PCA of 4 features") && svg.contains("PC1 (") && svg.contains("PC2 ("));
    kentro(d)
        .args(["fit", "data.csv", "-k", "3", "--columns", "x0,x1", "--plot", "clusters.png", "-q"])
        .assert()
        .success();
    assert!(fs::read(d.join("clusters.png")).unwrap().starts_with(b"\x89PNG"));
}

/// Runs `fit` on a file holding `content` and checks: failure, exactly the one-line error
/// `expected`, and no output file.
fn assert_fit_fails(content: &str, k: &str, expected: &str) {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("data.csv"), content).unwrap();
    kentro(d)
        .args(["fit", "data.csv", "-k", k, "--out", "model.json", "--labels", "labels.csv"])
        .args(["--plot", "plot.png"])
        .assert()
        .failure()
        .stdout("")
        .stderr(format!("error: {expected}\n"));
    for name in ["model.json", "labels.csv", "plot.png"] {
        assert!(!d.join(name).exists(), "{name} was written");
    }
    // Nor a temporary file left behind.
    assert_eq!(fs::read_dir(d).unwrap().count(), 1);
}

#[test]
fn a_ragged_row_names_its_line() {
    assert_fit_fails("a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,2\n", "2", "data.csv:5: expected 3 fields, found 2");
}

#[test]
fn a_non_numeric_cell_names_line_and_column() {
    assert_fit_fails("a,b\n1,2\n3,4\n5,abc\n", "2", r#"data.csv:4:2: cannot parse "abc" as a number"#);
}

#[test]
fn nan_and_infinity_are_refused_by_line_and_column() {
    let why = "is not a finite number (NaN and infinity are not allowed)";
    assert_fit_fails("a,b\n1,2\nNaN,4\n", "1", &format!(r#"data.csv:3:1: "NaN" {why}"#));
    assert_fit_fails("1,2\n3,inf\n", "1", &format!(r#"data.csv:2:2: "inf" {why}"#));
}

#[test]
fn an_empty_file_has_no_data_rows() {
    assert_fit_fails("", "1", "data.csv: no data rows");
    assert_fit_fails("x,y\n", "1", "data.csv: no data rows");
}

#[test]
fn more_clusters_than_rows_is_the_cores_error() {
    assert_fit_fails("1,2\n3,4\n", "5", "cannot fit data.csv: n_samples=2 should be >= n_clusters=5");
}

#[test]
fn bad_settings_and_columns_are_one_line_errors() {
    assert_fit_fails("1,2\n3,4\n", "0", "invalid fit settings: n_clusters must be >= 1, got 0");
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("data.csv"), "x,y\n1,2\n3,4\n").unwrap();
    kentro(d)
        .args(["fit", "data.csv", "-k", "1", "--columns", "x,z"])
        .assert()
        .failure()
        .stderr("error: data.csv: no column named \"z\" (the columns are: x, y)\n");
    kentro(d)
        .args(["fit", "data.csv", "-k", "1", "--plot", "plot.jpg"])
        .assert()
        .failure()
        .stderr("error: plot.jpg: a plot must be a .png or .svg file\n");
    kentro(d)
        .args(["fit", "missing.csv", "-k", "1"])
        .assert()
        .failure()
        .stderr(predicate::str::starts_with("error: missing.csv: No such file"));
}

#[test]
fn header_flags_override_detection() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("data.csv"), "1,2\n3,4\n5,6\n").unwrap();
    kentro(d).args(["fit", "data.csv", "-k", "1", "--header", "--out", "m.json", "-q"]).assert().success();
    let model: serde_json::Value = serde_json::from_str(&read(d, "m.json")).unwrap();
    assert_eq!(model["feature_names"], serde_json::json!(["1", "2"]));
    assert_eq!(model["labels"].as_array().unwrap().len(), 2);
    fs::write(d.join("named.csv"), "a,b\n1,2\n").unwrap();
    kentro(d)
        .args(["fit", "named.csv", "-k", "1", "--no-header"])
        .assert()
        .failure()
        .stderr("error: named.csv:1:1: cannot parse \"a\" as a number\n");
}

#[test]
fn predict_refuses_a_model_with_another_feature_count() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("two.csv"), "0,0\n1,1\n5,5\n").unwrap();
    fs::write(d.join("three.csv"), "0,0,0\n1,1,1\n").unwrap();
    kentro(d).args(["fit", "two.csv", "-k", "2", "--out", "model.json", "-q"]).assert().success();
    kentro(d).args(["predict", "model.json", "three.csv", "--out", "labels.csv"]).assert().failure().stderr(
        "error: three.csv: cannot use model model.json: \
             X has 3 features, but the model is expecting 2 features as input\n",
    );
    assert!(!d.join("labels.csv").exists());
}

#[test]
fn predict_refuses_a_file_that_is_not_a_model() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("data.csv"), "0,0\n").unwrap();
    kentro(d)
        .args(["predict", "data.csv", "data.csv"])
        .assert()
        .failure()
        .stderr(predicate::str::starts_with("error: data.csv: invalid model file: not a kentro model file"));
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // More labels than a pipe holds, so `predict` is still writing when the reader leaves.
    blobs(d, "data.csv", &["-n", "40000", "--centers", "2"]);
    kentro(d)
        .args(["fit", "data.csv", "-k", "2", "--columns", "0,1", "--out", "m.json", "-q"])
        .assert()
        .success();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kentro"))
        .current_dir(d)
        .args(["predict", "m.json", "data.csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 6];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // and drop the pipe
    assert_eq!(&first, b"label\n");
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(status.success(), "exit {status}, stderr {stderr:?}");
    assert_eq!(stderr, "");
}
