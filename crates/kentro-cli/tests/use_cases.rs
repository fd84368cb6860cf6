//! End-to-end tests of the use-case commands: `kentro outliers`, and `kentro fit --scale` /
//! `--profile` with `kentro predict` on a scaled model.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn kentro(dir: &Path) -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("kentro");
    cmd.current_dir(dir).env_remove("RAYON_NUM_THREADS");
    cmd
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap()
}

/// Rows of a `kentro blobs` CSV: (features, label).
fn blobs(dir: &Path, args: &[&str]) -> Vec<(Vec<f64>, usize)> {
    kentro(dir).args(["blobs", "-o", "blobs.csv"]).args(args).assert().success();
    read(dir, "blobs.csv")
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let (label, features) = cells.split_last().unwrap();
            (features.iter().map(|c| c.parse().unwrap()).collect(), label.parse().unwrap())
        })
        .collect()
}

fn write_csv(dir: &Path, name: &str, header: &str, rows: &[Vec<f64>]) {
    let mut text = format!("{header}\n");
    for row in rows {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:?}")).collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    fs::write(dir.join(name), text).unwrap();
}

fn labels(text: &str) -> Vec<usize> {
    text.lines().skip(1).map(|l| l.parse().unwrap()).collect()
}

/// Blobs of std 1 plus `m` points 8 σ from their own blob's centre (the blob's mean) and at
/// least 8 σ from every other centre, appended at the end.
fn planted(dir: &Path, m: usize) -> Vec<Vec<f64>> {
    let rows = blobs(dir, &["-n", "500", "--centers", "3", "--seed", "11"]);
    let mut centers = vec![vec![0.0; 2]; 3];
    let mut counts = [0.0; 3];
    for (x, l) in &rows {
        counts[*l] += 1.0;
        for j in 0..2 {
            centers[*l][j] += x[j];
        }
    }
    for (c, n) in centers.iter_mut().zip(counts) {
        c.iter_mut().for_each(|v| *v /= n);
    }
    let mut data: Vec<Vec<f64>> = rows.into_iter().map(|(x, _)| x).collect();
    for i in 0..m {
        let own = &centers[i % 3];
        let (far, p) = (0..72)
            .map(|t| {
                let a = (t as f64 + 0.5 * i as f64) * std::f64::consts::TAU / 72.0;
                let p = vec![own[0] + 8.0 * a.cos(), own[1] + 8.0 * a.sin()];
                let near = centers
                    .iter()
                    .map(|c| ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)).sqrt())
                    .fold(f64::INFINITY, f64::min);
                (near, p)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap();
        assert!(far >= 8.0 - 1e-9);
        data.push(p);
    }
    data
}

#[test]
fn outliers_planted_8_sigma_away_are_flagged_in_the_scores_file() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let m = 5;
    let data = planted(d, m);
    let n = data.len();
    write_csv(d, "data.csv", "x0,x1", &data);
    let c = format!("{}", m as f64 / n as f64);
    kentro(d)
        .args([
            "outliers",
            "data.csv",
            "-k",
            "3",
            "--contamination",
            &c,
            "-o",
            "scores.csv",
            "--plot",
            "o.svg",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("outliers: {m} of {n} (rows 500, 501, 502, 503, 504")));
    let text = read(d, "scores.csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("score,outlier"));
    let rows: Vec<(f64, u8)> = lines
        .map(|l| {
            let (s, o) = l.split_once(',').unwrap();
            (s.parse().unwrap(), o.parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), n);
    let flagged: Vec<usize> = (0..n).filter(|&i| rows[i].1 == 1).collect();
    assert_eq!(flagged, (n - m..n).collect::<Vec<_>>());
    assert!(rows.iter().all(|(s, o)| s.is_finite() && *s <= 0.0 && (*o == 0 || *o == 1)));
    let svg = read(d, "o.svg");
    assert!(svg.contains(&format!("Outliers ({m})")) && svg.contains("Outliers, k=3"), "svg legend/title");

    // auto flags them as well, and PNG plots work.
    kentro(d)
        .args(["outliers", "data.csv", "-k", "3", "-o", "auto.csv", "--plot", "o.png", "-q"])
        .assert()
        .success()
        .stdout("");
    let auto = read(d, "auto.csv");
    assert!(auto.lines().skip(1 + n - m).all(|l| l.ends_with(",1")));
    assert!(fs::read(d.join("o.png")).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn outliers_plot_bare_or_named_and_threads_do_not_change_the_scores() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    write_csv(d, "data.csv", "x0,x1", &planted(d, 3));
    // The form: a bare --plot writes outliers.png in the current folder.
    kentro(d)
        .args(["outliers", "data.csv", "-k", "3", "--contamination", "0.01", "--out", "s1.csv", "--plot"])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote outliers.png"));
    assert!(fs::read(d.join("outliers.png")).unwrap().starts_with(b"\x89PNG"));
    // --plot FILE still names the file; --threads is accepted and changes nothing.
    kentro(d)
        .args(["outliers", "data.csv", "-k", "3", "--contamination", "0.01", "--out", "s4.csv"])
        .args(["--plot", "named.svg", "--threads", "4"])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote named.svg"));
    assert!(read(d, "named.svg").contains("<svg"));
    assert_eq!(read(d, "s1.csv"), read(d, "s4.csv"));
    kentro(d).args(["outliers", "data.csv", "-k", "3", "--threads", "0"]).assert().failure().code(2).stderr(
        predicate::str::contains("invalid value '0' for '--threads <N>': expected a whole number >= 1"),
    );
}

#[test]
fn outliers_refuses_bad_settings_and_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("data.csv"), "a,b\n0,0\n1,1\n5,5\n").unwrap();
    for bad in ["0", "0.51", "-0.1", "1", "nan", "lots"] {
        kentro(d)
            .args(["outliers", "data.csv", "-k", "1", "--contamination", bad, "-o", "s.csv"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "invalid value '{bad}' for '--contamination <C>': expected `auto` or a number in (0, 0.5]"
            )));
    }
    kentro(d)
        .args(["outliers", "data.csv", "-k", "4", "-o", "s.csv"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("n_samples=3 should be >= n_clusters=4"));
    kentro(d)
        .args(["outliers", "data.csv", "-k", "1", "-o", "s.csv", "--plot", "p.jpg"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("a plot must be a .png or .svg file"));
    kentro(d)
        .args(["outliers", "data.csv", "-k", "1", "-o", "s.csv", "--plot", "missing/p.png"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("does not exist"));
    fs::write(d.join("nan.csv"), "a,b\n0,0\n1,nan\n").unwrap();
    kentro(d)
        .args(["outliers", "nan.csv", "-k", "1", "-o", "s.csv"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nan.csv"));
    let mut names: Vec<String> =
        fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["data.csv", "nan.csv"]);
}

/// (mean, population std) or (min, range) of each column, as scikit-learn's scalers compute them.
fn scale_by_hand(rows: &[Vec<f64>], method: &str) -> Vec<Vec<f64>> {
    let n = rows.len() as f64;
    let d = rows[0].len();
    let params: Vec<(f64, f64)> = (0..d)
        .map(|j| {
            let col: Vec<f64> = rows.iter().map(|r| r[j]).collect();
            if method == "standard" {
                let mean = col.iter().sum::<f64>() / n;
                (mean, (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt())
            } else {
                let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (lo, hi - lo)
            }
        })
        .collect();
    rows.iter().map(|r| r.iter().zip(&params).map(|(v, (o, s))| (v - o) / s).collect()).collect()
}

#[test]
fn predict_applies_the_scaler_a_scaled_fit_remembers() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let rows: Vec<Vec<f64>> = blobs(d, &["-n", "120", "--centers", "3", "--seed", "2"])
        .into_iter()
        .map(|(x, _)| vec![x[0], 1000.0 * x[1] + 40_000.0])
        .collect();
    write_csv(d, "data.csv", "age,income", &rows);
    for method in ["standard", "minmax"] {
        kentro(d)
            .args(["fit", "data.csv", "-k", "3", "--scale", method, "-o", "m.json", "--labels", "l.csv"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("scaled:        {method}")));
        let model: serde_json::Value = serde_json::from_str(&read(d, "m.json")).unwrap();
        assert_eq!(model["version"], 2);
        assert_eq!(model["preprocessing"]["method"], method);
        let fitted = labels(&read(d, "l.csv"));
        kentro(d).args(["predict", "m.json", "data.csv", "-o", "p.csv"]).assert().success();
        assert_eq!(labels(&read(d, "p.csv")), fitted);

        // The same centres without the scaler, given data scaled by hand, predict the same.
        let mut plain = model.clone();
        plain.as_object_mut().unwrap().remove("preprocessing");
        plain["version"] = 1.into();
        fs::write(d.join("plain.json"), plain.to_string()).unwrap();
        write_csv(d, "scaled.csv", "age,income", &scale_by_hand(&rows, method));
        kentro(d).args(["predict", "plain.json", "scaled.csv", "-o", "q.csv"]).assert().success();
        assert_eq!(labels(&read(d, "q.csv")), fitted, "{method}");
    }
    // Unscaled fits still write version 1 files.
    kentro(d).args(["fit", "data.csv", "-k", "3", "-o", "m1.json", "-q"]).assert().success();
    let model: serde_json::Value = serde_json::from_str(&read(d, "m1.json")).unwrap();
    assert_eq!(model["version"], 1);
    assert!(model.get("preprocessing").is_none());
    kentro(d)
        .args(["fit", "data.csv", "-k", "3", "--scale", "robust"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'robust' for '--scale"));
}

#[test]
fn profile_writes_the_per_cluster_means_in_original_units() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let rows: Vec<Vec<f64>> = blobs(d, &["-n", "90", "--centers", "3", "--features", "3", "--seed", "5"])
        .into_iter()
        .map(|(x, _)| vec![x[0], 100.0 * x[1], x[2] - 50.0])
        .collect();
    write_csv(d, "customers.csv", "visits,spend,age", &rows);
    kentro(d)
        .args(["fit", "customers.csv", "-k", "3", "--scale", "standard", "--labels", "l.csv"])
        .args(["--profile", "profile.csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("profile (mean of each feature, original units):"))
        .stdout(predicate::str::contains("wrote profile.csv\nwrote profile.png\nwrote profile.svg"));
    let fitted = labels(&read(d, "l.csv"));
    let text = read(d, "profile.csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("cluster,size,share,visits,spend,age"));
    let mut total = 0;
    for (c, line) in lines.enumerate() {
        let cells: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        let members: Vec<&Vec<f64>> =
            rows.iter().zip(&fitted).filter(|&(_, &l)| l == c).map(|(r, _)| r).collect();
        assert_eq!(cells[0], c as f64);
        assert_eq!(cells[1], members.len() as f64);
        assert!((cells[2] - members.len() as f64 / 90.0).abs() < 1e-15);
        for j in 0..3 {
            let mean = members.iter().map(|r| r[j]).sum::<f64>() / members.len() as f64;
            assert!((cells[3 + j] - mean).abs() <= 1e-9 * mean.abs().max(1.0), "cluster {c} feature {j}");
        }
        total += members.len();
    }
    assert_eq!(total, 90);
    assert!(fs::read(d.join("profile.png")).unwrap().starts_with(b"\x89PNG"));
    assert!(read(d, "profile.svg").contains("Cluster profiles: 3 clusters × 3 features"));

    // Not a .csv, or a clash with another output: refused before the work, nothing written.
    kentro(d)
        .args(["fit", "customers.csv", "-k", "3", "--profile", "profile.txt", "-o", "m.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the profile must be a .csv file"));
    kentro(d)
        .args(["fit", "customers.csv", "-k", "3", "--profile", "p.csv", "--plot", "p.png"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("name the same file"));
    assert!(!d.join("m.json").exists() && !d.join("p.csv").exists());
}
