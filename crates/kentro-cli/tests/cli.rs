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
fn an_unclosed_quote_names_the_line_where_it_opens() {
    // Without the check, the last row read as `4` and the fit succeeded on bad data.
    let expected = "data.csv:3: a quoted field opens on this line and is never closed";
    for content in ["a,b\n1,2\n3,\"4\n", "a,b\n1,2\n\"3,4\n5,6\n"] {
        let dir = TempDir::new().unwrap();
        fs::write(dir.path().join("data.csv"), content).unwrap();
        kentro(dir.path())
            .args(["fit", "data.csv", "-k", "1", "--out", "model.json"])
            .assert()
            .failure()
            .stderr(predicate::str::contains(expected));
        assert!(!dir.path().join("model.json").exists());
    }
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

#[test]
fn csv_errors_name_physical_lines_with_crlf_and_blank_lines() {
    assert_fit_fails("a,b\r\n1,2\r\nzz,2\r\n", "1", r#"data.csv:3:1: cannot parse "zz" as a number"#);
    assert_fit_fails("a,b\r\nzz,2\r\n", "1", r#"data.csv:2:1: cannot parse "zz" as a number"#);
    assert_fit_fails("a,b\n1,2\n\n\n3,zz", "1", r#"data.csv:5:2: cannot parse "zz" as a number"#);
    assert_fit_fails(
        "# a comment\r\na,b\r\n\r\n# another\r\n1,2\r\n3\r\n",
        "1",
        "data.csv:6: expected 2 fields, found 1",
    );
}

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_failing_fit_writes_none_of_its_files() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    blobs(d, "data.csv", &["-n", "30"]);
    // Refused before the fit: the plot's folder does not exist.
    kentro(d)
        .args(["fit", "data.csv", "-k", "3", "-o", "m.json", "--labels", "l.csv", "--plot", "nodir/p.png"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("error: --plot nodir/p.png: the folder nodir does not exist\n");
    assert_eq!(names_in(d), ["data.csv"]);
    // An output that is a folder, or two outputs naming one file.
    fs::create_dir(d.join("m.json")).unwrap();
    kentro(d)
        .args(["fit", "data.csv", "-k", "3", "--labels", "l.csv", "-o", "m.json"])
        .assert()
        .code(1)
        .stderr("error: --out m.json: is a folder\n");
    kentro(d)
        .args(["fit", "data.csv", "-k", "3", "--labels", "same.csv", "--plot", "p.svg", "-o", "./same.csv"])
        .assert()
        .code(1)
        .stderr("error: --out ./same.csv and --labels same.csv name the same file\n");
    assert_eq!(names_in(d), ["data.csv", "m.json"]);
}

#[cfg(unix)]
#[test]
fn a_write_failing_after_the_fit_leaves_no_file_nor_temporary() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    blobs(d, "data.csv", &["-n", "30"]);
    fs::create_dir(d.join("locked")).unwrap();
    fs::set_permissions(d.join("locked"), fs::Permissions::from_mode(0o555)).unwrap();
    if fs::write(d.join("locked/probe"), "").is_ok() {
        return; // running as root: permissions do not stop the write
    }
    // The model and the labels are written aside first; the plot cannot be; none is kept.
    kentro(d)
        .args(["fit", "data.csv", "-k", "3", "--exclude", "label", "-o", "m.json", "--labels", "l.csv"])
        .args(["--plot", "locked/p.png"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with("error: cannot write locked/p.png: "));
    assert_eq!(names_in(d), ["data.csv", "locked"]);
    assert!(names_in(&d.join("locked")).is_empty());
    // Same for the demo: its folder is refused, and not left behind when made for the plots.
    kentro(d).args(["demo", "--out", "locked/plots"]).assert().code(1);
    kentro(d)
        .args(["demo", "--out", "locked"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: cannot write locked/data_before_clustering.png: "));
    assert!(names_in(&d.join("locked")).is_empty());
    fs::set_permissions(d.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_failing_demo_writes_none_of_its_files() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("plots/clustered_data.svg")).unwrap();
    kentro(d)
        .args(["demo", "--out", "plots"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("error: --out plots/clustered_data.svg: is a folder\n");
    assert_eq!(names_in(&d.join("plots")), ["clustered_data.svg"]);
    fs::write(d.join("file"), "").unwrap();
    kentro(d)
        .args(["demo", "--out", "file/plots"])
        .assert()
        .code(1)
        .stderr("error: --out file/plots: file is not a folder\n");
    // A demo that succeeds makes its folder, nested.
    kentro(d).args(["demo", "--out", "new/plots"]).assert().success();
    assert_eq!(names_in(&d.join("new/plots")).len(), 4);
}

#[test]
fn outputs_may_not_overwrite_the_input() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("data.csv"), "0,0\n1,1\n5,5\n").unwrap();
    for option in ["--out", "--labels", "--plot"] {
        let target = if option == "--plot" { "./data.svg" } else { "./data.csv" };
        if option == "--plot" {
            fs::write(d.join("data.svg"), "0,0\n1,1\n").unwrap();
        }
        let input = if option == "--plot" { "data.svg" } else { "data.csv" };
        kentro(d)
            .args(["fit", input, "-k", "2", option, target])
            .assert()
            .code(1)
            .stderr(format!("error: {option} {target} would overwrite the input {input}\n"));
    }
    assert_eq!(read(d, "data.csv"), "0,0\n1,1\n5,5\n");
    kentro(d).args(["fit", "data.csv", "-k", "2", "-o", "m.json", "-q"]).assert().success();
    for target in ["m.json", "data.csv"] {
        kentro(d)
            .args(["predict", "m.json", "data.csv", "-o", target])
            .assert()
            .code(1)
            .stderr(format!("error: --out {target} would overwrite the input {target}\n"));
    }
    assert_eq!(read(d, "data.csv"), "0,0\n1,1\n5,5\n");
}

#[test]
fn command_line_errors_are_one_line_with_status_2() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("data.csv"), "0,0\n1,1\n5,5\n").unwrap();
    for (args, expected) in [
        (&["--threads", "0"][..], "invalid value '0' for '--threads <N>': expected a whole number >= 1"),
        (
            &["--n-init", "0"],
            "invalid value '0' for '--n-init <N>': expected `auto` or a number >= 1, got \"0\"",
        ),
        (&["--tol", "abc"], "invalid value 'abc' for '--tol <TOL>': expected a finite number"),
        (&["--tol", "nan"], "invalid value 'nan' for '--tol <TOL>': expected a finite number"),
        (&["--max-iter", "many"], "invalid value 'many' for '--max-iter <N>': expected a whole number"),
        (
            &["--seed", "x"],
            "invalid value 'x' for '--seed <S>': expected a whole number from 0 to 18446744073709551615",
        ),
    ] {
        kentro(d)
            .args(["fit", "data.csv", "-k", "2"])
            .args(args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(format!("error: {expected}\n"));
    }
    kentro(d)
        .args(["fit", "data.csv"])
        .assert()
        .code(2)
        .stderr("error: the following required arguments were not provided: --n-clusters <K>\n");
    kentro(d)
        .args(["blobs", "--std", "x"])
        .assert()
        .code(2)
        .stderr("error: invalid value 'x' for '--std <S>': expected a finite number\n");
    kentro(d).args(["fit", "data.csv", "-k", "2", "--bogus"]).assert().code(2).stderr(predicate::function(
        |e: &str| e.starts_with("error: unexpected argument '--bogus'") && e.lines().count() == 1,
    ));
    // Help and version still work, on stdout.
    kentro(d)
        .args(["fit", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: kentro fit"));
    kentro(d).arg("--help").assert().success().stdout(predicate::str::contains("Exit status: 0 on success"));
    kentro(d).arg("--version").assert().success().stdout(format!("kentro {}\n", env!("CARGO_PKG_VERSION")));
}

/// The `inertia:` line of `fit`'s summary.
fn inertia_line(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout).lines().find(|l| l.starts_with("inertia:")).unwrap().to_string()
}

#[test]
fn the_summary_prints_huge_and_tiny_inertias_readably() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("huge.csv"), "1e15,0\n1.2e15,0\n3e15,1e14\n").unwrap();
    fs::write(d.join("tiny.csv"), "1e-150,0\n1.2e-150,0\n3e-150,1e-151\n").unwrap();
    fs::write(d.join("plain.csv"), "0,0\n1,0\n0,1\n10,10\n").unwrap();
    let fit =
        |name: &str| kentro(d).args(["fit", name, "-k", "1"]).assert().success().get_output().stdout.clone();
    let huge = inertia_line(&fit("huge.csv"));
    assert!(huge.starts_with("inertia:       2.") && huge.ends_with("e30"), "{huge}");
    let tiny = inertia_line(&fit("tiny.csv"));
    assert!(tiny.starts_with("inertia:       2.") && tiny.ends_with("e-300"), "{tiny}");
    assert_eq!(inertia_line(&fit("plain.csv")), "inertia:       141.5");
    let demo = kentro(d).args(["demo", "--out", "plots"]).assert().success().get_output().stdout.clone();
    let demo = String::from_utf8(demo).unwrap();
    let line = demo.lines().find(|l| l.starts_with("inertia:")).unwrap();
    let value = line.trim_start_matches("inertia:").trim();
    assert!(value.len() <= 8 && value.parse::<f64>().is_ok(), "{line}");
}

#[test]
fn a_nan_header_needs_the_header_flag() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("data.csv"), "nan,inf\n1,2\n3,4\n").unwrap();
    kentro(d).args(["fit", "data.csv", "-k", "1"]).assert().code(1).stderr(
        "error: data.csv:1:1: \"nan\" is not a finite number (NaN and infinity are not allowed) \
         (if line 1 is a header, pass --header: `nan` and `inf` read as numbers, so they do not mark a header)\n",
    );
    kentro(d).args(["fit", "data.csv", "-k", "1", "--header", "-o", "m.json", "-q"]).assert().success();
    let model: serde_json::Value = serde_json::from_str(&read(d, "m.json")).unwrap();
    assert_eq!(model["feature_names"], serde_json::json!(["nan", "inf"]));
    fs::write(d.join("mixed.csv"), "x,nan\n1,2\n").unwrap();
    kentro(d).args(["fit", "mixed.csv", "-k", "1"]).assert().code(1).stderr(
        "error: mixed.csv:1:1: cannot parse \"x\" as a number (if line 1 is a header, pass --header)\n",
    );
}

#[test]
fn a_label_column_is_clustered_only_with_a_warning() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    blobs(d, "data.csv", &["-n", "30"]);
    kentro(d).args(["fit", "data.csv", "-k", "3"]).assert().success().stderr(
        "warning: column `label` is clustered as a feature; if it holds known labels (as in \
         `kentro blobs` output), leave it out with --exclude label\n",
    );
    kentro(d).args(["fit", "data.csv", "-k", "3", "--exclude", "label"]).assert().success().stderr("");
    kentro(d).args(["fit", "data.csv", "-k", "3", "--columns", "x0,x1,label"]).assert().success().stderr("");
    kentro(d).args(["fit", "data.csv", "-k", "3", "-q"]).assert().success().stderr("").stdout("");
    fs::write(d.join("upper.csv"), "a,Label\n1,0\n2,1\n").unwrap();
    kentro(d)
        .args(["fit", "upper.csv", "-k", "1"])
        .assert()
        .success()
        .stderr(predicate::str::contains("--exclude Label"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_exits_130_leaving_no_file() {
    use std::time::{Duration, Instant};
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    blobs(d, "data.csv", &["-n", "20000", "--centers", "20", "--features", "8"]);
    // Minutes of work: many random starts.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kentro"))
        .current_dir(d)
        .args(["fit", "data.csv", "-k", "20", "--init", "random", "--n-init", "1000000"])
        .args(["-o", "m.json", "--labels", "l.csv", "--plot", "p.png"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the fit ended before the interrupt");
    let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let waited = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if waited.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("Ctrl-C did not stop the fit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130), "{status}");
    assert_eq!(names_in(d), ["data.csv"]);
}

/// A write that fails after the fit, once the other files are written aside: here the plot's
/// temporary name (`.NAME.tmpPID`) is longer than a file name may be, though NAME itself is
/// not, so only writing it fails.
#[cfg(target_os = "linux")]
#[test]
fn a_write_failing_after_the_fit_leaves_nothing() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    blobs(d, "data.csv", &["-n", "30"]);
    let plot = format!("{}.png", "p".repeat(246));
    kentro(d)
        .args(["fit", "data.csv", "-k", "3", "--exclude", "label", "-o", "m.json", "--labels", "l.csv"])
        .args(["--plot", &plot])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with(format!("error: cannot write {plot}: ")));
    assert_eq!(names_in(d), ["data.csv"]);
}
