//! End-to-end tests of `kentro choose-k`: the table and recommendation on well-separated blobs,
//! every plot file, and the errors a user sees.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use kentro::datasets::Blobs;
use predicates::prelude::*;
use tempfile::TempDir;

fn kentro(dir: &Path) -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("kentro");
    cmd.current_dir(dir).env_remove("RAYON_NUM_THREADS");
    cmd
}

/// Four blobs 14 apart at least, unit spread, as a CSV with the header `a,b,c`.
fn write_four_blobs(dir: &Path, name: &str, seed: u64) {
    let centers = ndarray::array![[10.0, 0.0, 0.0], [-10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, -10.0, 0.0]];
    let (x, _) = Blobs::new(300).given_centers(centers).seed(seed).generate().unwrap();
    let mut text = String::from("a,b,c\n");
    for row in x.outer_iter() {
        text.push_str(&format!("{},{},{}\n", row[0], row[1], row[2]));
    }
    fs::write(dir.join(name), text).unwrap();
}

/// Whether `svg` is well-formed XML as far as elements go: every tag closed, in order.
fn well_formed(svg: &str) -> bool {
    let mut open: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else { return false };
        let tag = &rest[start + 1..start + end];
        rest = &rest[start + end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            if open.pop().as_deref() != Some(name.trim()) {
                return false;
            }
        } else {
            open.push(tag.split_whitespace().next().unwrap_or("").to_string());
        }
    }
    open.is_empty() && svg.contains("<svg")
}

#[test]
fn blobs_get_a_table_a_recommendation_of_four_and_every_plot() {
    let dir = TempDir::new().unwrap();
    write_four_blobs(dir.path(), "data.csv", 1);
    let out = kentro(dir.path())
        .args(["choose-k", "data.csv", "--k", "2..7", "--plot-dir", "plots/run1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].split_whitespace().eq([
            "k",
            "inertia",
            "silhouette",
            "calinski_harabasz",
            "davies_bouldin",
            "gap",
            "gap_se"
        ]),
        "{text}"
    );
    let ks: Vec<&str> = lines[1..8].iter().map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(ks, ["1", "2", "3", "4", "5", "6", "7"], "{text}");
    for criterion in
        ["knee of the inertia:", "silhouette:", "gap statistic:", "Calinski-Harabasz:", "Davies-Bouldin:"]
    {
        let line = lines
            .iter()
            .find(|l| l.starts_with(criterion))
            .unwrap_or_else(|| panic!("{criterion} in {text}"));
        assert!(line.contains(" k=4 "), "{line}");
    }
    assert!(text.contains("\nrecommended k: 4, chosen by 5 of 5 criteria: "), "{text}");

    let plots = dir.path().join("plots/run1");
    let mut stems = vec!["elbow".to_string(), "criteria".to_string()];
    stems.extend((2..=7).map(|k| format!("silhouette_k{k}")));
    for stem in &stems {
        let png = fs::read(plots.join(format!("{stem}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{stem}.png");
        let svg = fs::read_to_string(plots.join(format!("{stem}.svg"))).unwrap();
        assert!(well_formed(&svg), "{stem}.svg is not well-formed");
        assert!(text.contains(&format!("wrote plots/run1/{stem}.png\n")), "{text}");
    }
    assert_eq!(fs::read_dir(&plots).unwrap().count(), 2 * stems.len());
    let elbow = fs::read_to_string(plots.join("elbow.svg")).unwrap();
    assert!(elbow.contains("the knee is at k=4"));
}

#[test]
fn kentro_blobs_output_can_be_judged_directly() {
    let dir = TempDir::new().unwrap();
    kentro(dir.path()).args(["blobs", "-n", "200", "--centers", "3", "-o", "b.csv"]).assert().success();
    kentro(dir.path())
        .args(["choose-k", "b.csv", "--k", "2..=5", "--n-refs", "3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("recommended k: "))
        .stderr(predicate::str::contains("warning: column `label` is used as a feature"));
    kentro(dir.path())
        .args(["choose-k", "b.csv", "--exclude", "label", "--k", "2..5", "--n-refs", "3", "--quiet"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
}

#[test]
fn the_output_depends_on_the_seed_not_on_threads() {
    let dir = TempDir::new().unwrap();
    write_four_blobs(dir.path(), "data.csv", 2);
    let run = |threads: &str, seed: &str| {
        let out = kentro(dir.path())
            .args([
                "choose-k",
                "data.csv",
                "--k",
                "2..5",
                "--n-refs",
                "4",
                "--threads",
                threads,
                "--seed",
                seed,
            ])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    };
    let one = run("1", "3");
    assert_eq!(one, run("3", "3"));
    assert_ne!(one, run("1", "4"));
}

#[test]
fn bad_ranges_are_command_line_errors() {
    let dir = TempDir::new().unwrap();
    write_four_blobs(dir.path(), "data.csv", 0);
    for (range, message) in [
        ("5..2", "error: invalid value '5..2' for '--k <RANGE>': the range is empty: 2 is below 5\n"),
        ("0..3", "error: invalid value '0..3' for '--k <RANGE>': k starts at 1 or more\n"),
        (
            "2,3,5",
            "error: invalid value '2,3,5' for '--k <RANGE>': expected an inclusive range FIRST..LAST such as 2..12\n",
        ),
    ] {
        kentro(dir.path())
            .args(["choose-k", "data.csv", "--k", range])
            .assert()
            .code(2)
            .stdout("")
            .stderr(message);
    }
    kentro(dir.path())
        .args(["choose-k", "data.csv", "--n-refs", "0"])
        .assert()
        .code(2)
        .stderr("error: invalid value '0' for '--n-refs <B>': expected a whole number >= 1\n");
    for n in ["0", "1"] {
        kentro(dir.path())
            .args(["choose-k", "data.csv", "--silhouette-sample", n])
            .assert()
            .code(2)
            .stdout("")
            .stderr(format!(
                "error: invalid value '{n}' for '--silhouette-sample <N>': expected a whole number >= 2\n"
            ));
    }
}

#[test]
fn a_plot_in_the_way_fails_before_any_work_and_writes_nothing() {
    let dir = TempDir::new().unwrap();
    write_four_blobs(dir.path(), "data.csv", 0);
    fs::create_dir_all(dir.path().join("pd/silhouette_k5.svg")).unwrap();
    kentro(dir.path())
        .args(["choose-k", "data.csv", "--k", "2..6", "--plot-dir", "pd"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("error: --plot-dir pd/silhouette_k5.svg: is a folder\n");
    let left: Vec<_> = fs::read_dir(dir.path().join("pd")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["silhouette_k5.svg"]);
}

#[test]
fn a_missing_input_is_named_with_its_error_once() {
    let dir = TempDir::new().unwrap();
    for args in [&["choose-k", "nofile.csv"][..], &["fit", "nofile.csv", "-k", "2"]] {
        let out = kentro(dir.path()).args(args).assert().code(1).stdout("").get_output().stderr.clone();
        let err = String::from_utf8(out).unwrap();
        assert!(err.starts_with("error: nofile.csv: "), "{err}");
        assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn a_range_beyond_the_data_fails_and_writes_nothing() {
    let dir = TempDir::new().unwrap();
    write_four_blobs(dir.path(), "data.csv", 0);
    kentro(dir.path())
        .args(["choose-k", "data.csv", "--k", "2..301", "--plot-dir", "plots"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            "error: cannot choose k for data.csv: the largest k, 301, exceeds the number of samples, 300\n",
        );
    assert!(!dir.path().join("plots").exists());

    fs::write(dir.path().join("file"), "x").unwrap();
    kentro(dir.path())
        .args(["choose-k", "data.csv", "--plot-dir", "file/plots"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--plot-dir file/plots: file is not a folder"));
    fs::write(dir.path().join("bad.csv"), "a,b\n1,2\n3,x\n").unwrap();
    kentro(dir.path())
        .args(["choose-k", "bad.csv"])
        .assert()
        .code(1)
        .stderr("error: bad.csv:3:2: cannot parse \"x\" as a number\n");
}
