//! End-to-end tests of `kentro text`: planted topics are recovered from a folder, a .jsonl and
//! a .csv file; bad input gets one clear error and writes nothing.

use std::fs;
use std::path::Path;

use kentro::metrics::adjusted_rand_score;
use predicates::prelude::*;
use tempfile::TempDir;

fn kentro(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("kentro");
    cmd.current_dir(dir).env_remove("RAYON_NUM_THREADS");
    cmd
}

/// A generated corpus: `per_topic` documents for each of 4 topics, each document mostly words of
/// its topic, some shared filler words and stop words. Returns (texts, planted topic).
const TOPICS: [&[&str]; 4] = [
    &["goal", "match", "striker", "league", "referee", "stadium", "keeper", "penalty", "season", "coach"],
    &["bank", "interest", "inflation", "market", "stocks", "bonds", "rates", "investor", "credit", "budget"],
    &["planet", "orbit", "telescope", "galaxy", "comet", "rocket", "nebula", "astronaut", "lunar", "solar"],
    &["recipe", "flour", "oven", "butter", "garlic", "simmer", "pasta", "sauce", "bake", "spice"],
];

fn corpus(per_topic: usize, seed: u64) -> (Vec<String>, Vec<usize>) {
    const FILLER: [&str; 8] = ["today", "report", "people", "said", "new", "year", "week", "time"];
    const STOP: [&str; 6] = ["the", "and", "of", "it", "was", "very"];
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let (mut texts, mut truth) = (Vec::new(), Vec::new());
    for i in 0..4 * per_topic {
        let t = i % 4;
        let mut words = Vec::new();
        for _ in 0..12 {
            let w = match next(10) {
                0..=5 => TOPICS[t][next(10)],
                6 => TOPICS[next(4)][next(10)],
                7 => FILLER[next(8)],
                _ => STOP[next(6)],
            };
            words.push(if next(5) == 0 { w.to_uppercase() } else { w.to_string() });
        }
        texts.push(format!("{}.", words.join(" ")));
        truth.push(t);
    }
    (texts, truth)
}

/// The `document,cluster` CSV as (document, cluster) pairs.
fn assignments(text: &str) -> Vec<(String, usize)> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("document,cluster"));
    lines
        .map(|l| {
            let (d, c) = l.rsplit_once(',').unwrap();
            (d.to_string(), c.parse().unwrap())
        })
        .collect()
}

#[test]
fn a_folder_of_txt_files_recovers_planted_topics() {
    let dir = TempDir::new().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    let (texts, truth) = corpus(30, 1);
    for (i, text) in texts.iter().enumerate() {
        fs::write(docs.join(format!("doc{i:03}.txt")), text).unwrap();
    }
    fs::write(docs.join("notes.md"), "not a document").unwrap();
    let out = kentro(dir.path())
        .args(["text", "docs", "-k", "4", "--out", "assignments.csv", "--top-terms", "5"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(out).unwrap();
    assert!(stdout.contains("clustered docs: 120 documents"), "{stdout}");
    assert!(stdout.contains("wrote assignments.csv"), "{stdout}");
    let rows = assignments(&fs::read_to_string(dir.path().join("assignments.csv")).unwrap());
    assert_eq!(rows.len(), 120);
    // File names in sorted order.
    assert!(rows.iter().enumerate().all(|(i, (d, _))| *d == format!("doc{i:03}.txt")));
    let labels: Vec<usize> = rows.iter().map(|r| r.1).collect();
    let ari = adjusted_rand_score(&truth, &labels);
    assert!(ari >= 0.9, "ARI {ari}\n{stdout}");
    // Each cluster's 5 top terms are words of one planted topic, a different topic per cluster.
    let cluster_lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("cluster ")).collect();
    assert_eq!(cluster_lines.len(), 4, "{stdout}");
    let mut topics: Vec<usize> = cluster_lines
        .iter()
        .map(|line| {
            let terms: Vec<&str> = line.split("docs  ").nth(1).unwrap().split(", ").collect();
            assert_eq!(terms.len(), 5, "{line}");
            let topic = |w: &str| TOPICS.iter().position(|t| t.contains(&w));
            let first = topic(terms[0]).unwrap_or_else(|| panic!("{line}"));
            assert!(terms.iter().all(|w| topic(w) == Some(first)), "{line}");
            first
        })
        .collect();
    topics.sort();
    assert_eq!(topics, [0, 1, 2, 3], "{stdout}");
}

#[test]
fn jsonl_and_csv_with_a_text_column_recover_planted_topics() {
    let dir = TempDir::new().unwrap();
    let (texts, truth) = corpus(25, 2);
    let jsonl: String = texts
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{{\"id\": {i}, \"body\": {}}}\n", serde_json::to_string(t).unwrap()))
        .collect();
    fs::write(dir.path().join("docs.jsonl"), jsonl).unwrap();
    let mut csv = String::from("id,body\n");
    for (i, t) in texts.iter().enumerate() {
        csv.push_str(&format!("{i},\"{t}\"\n"));
    }
    fs::write(dir.path().join("docs.csv"), csv).unwrap();
    let mut results = Vec::new();
    for (input, out) in [("docs.jsonl", "a.csv"), ("docs.csv", "b.csv")] {
        kentro(dir.path())
            .args([
                "text", input, "-k", "4", "--column", "body", "--min-df", "2", "--max-df", "0.9", "-o", out,
            ])
            .assert()
            .success();
        let rows = assignments(&fs::read_to_string(dir.path().join(out)).unwrap());
        assert!(rows.iter().enumerate().all(|(i, (d, _))| *d == i.to_string()), "row numbers from 0");
        let labels: Vec<usize> = rows.iter().map(|r| r.1).collect();
        let ari = adjusted_rand_score(&truth, &labels);
        assert!(ari >= 0.9, "{input}: ARI {ari}");
        results.push(labels);
    }
    assert_eq!(results[0], results[1], "the same texts give the same clusters");
}

#[test]
fn the_result_does_not_depend_on_threads() {
    let dir = TempDir::new().unwrap();
    let (texts, _) = corpus(20, 3);
    let jsonl: String =
        texts.iter().map(|t| format!("{{\"text\": {}}}\n", serde_json::to_string(t).unwrap())).collect();
    fs::write(dir.path().join("d.jsonl"), jsonl).unwrap();
    let run = |threads: &str, out: &str| {
        kentro(dir.path())
            .args(["text", "d.jsonl", "-k", "3", "--seed", "7", "--threads", threads, "-o", out])
            .assert()
            .success();
        fs::read_to_string(dir.path().join(out)).unwrap()
    };
    assert_eq!(run("1", "one.csv"), run("3", "three.csv"));
}

/// Runs `kentro text ARGS` in `dir`, expecting failure with `message` and no output file.
fn fails(dir: &Path, args: &[&str], message: &str) {
    kentro(dir)
        .arg("text")
        .args(args)
        .args(["-o", "out.csv"])
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains(message));
    assert!(!dir.join("out.csv").exists(), "no output on error");
}

#[test]
fn bad_input_gets_one_clear_error() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("empty")).unwrap();
    fails(d, &["empty", "-k", "2"], "error: empty: the folder is empty (expected .txt files)");
    fs::create_dir(d.join("other")).unwrap();
    fs::write(d.join("other/a.md"), "hello world").unwrap();
    fs::write(d.join("other/b.json"), "{}").unwrap();
    fails(d, &["other", "-k", "2"], "error: other: no .txt files in the folder (2 other entries)");

    fs::write(d.join("t.csv"), "id,body\n1,hello world\n").unwrap();
    fails(
        d,
        &["t.csv", "-k", "1"],
        "error: t.csv: no column `text` (columns: id, body); choose one with --column",
    );
    fs::write(d.join("t.jsonl"), "{\"text\": \"hello world\"}\n{\"body\": \"x\", \"id\": 2}\n").unwrap();
    fails(d, &["t.jsonl", "-k", "1"], "error: t.jsonl:2: no `text` field (fields: body, id)");
    fs::write(d.join("bad.jsonl"), "{\"text\": \"hello world\"}\n\n{\"text\": \"oops\"\n").unwrap();
    fails(d, &["bad.jsonl", "-k", "1"], "error: bad.jsonl:3: invalid JSON:");

    fs::write(d.join("s.jsonl"), "{\"text\": \"apple pear\"}\n{\"text\": \"plum fig\"}\n").unwrap();
    fails(d, &["s.jsonl", "-k", "1", "--min-df", "2"], "no terms remain after --min-df and --max-df");
    fs::write(d.join("stop.jsonl"), "{\"text\": \"the and of\"}\n{\"text\": \"a b c\"}\n").unwrap();
    fails(d, &["stop.jsonl", "-k", "1"], "empty vocabulary");
    fails(d, &["s.jsonl", "-k", "3"], "n_samples=2 should be >= n_clusters=3");
    fails(d, &["missing.jsonl", "-k", "1"], "missing.jsonl");
    fs::write(d.join("notes.md"), "x").unwrap();
    fails(d, &["notes.md", "-k", "1"], "expected a folder of .txt files, a .jsonl file or a .csv file");
    kentro(d).args(["text", "s.jsonl", "-k", "1", "--min-df", "1.5"]).assert().failure().code(2);
}

#[test]
fn a_csv_with_an_unclosed_quote_names_the_line_where_it_opens() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // Without the check, rows 2 and 3 became one document and the run succeeded.
    fs::write(d.join("q.csv"), "id,text\n1,hello world\n2,\"foo bar\n3,baz qux\n").unwrap();
    fails(d, &["q.csv", "-k", "1"], "error: q.csv:3: a quoted field opens on this line and is never closed");
    // Closed quotes, with a doubled quote and a line break inside, are fine.
    fs::write(d.join("ok.csv"), "id,text\n1,hello world\n2,\"foo \"\"bar\"\"\nbaz\"\n3,baz qux\n").unwrap();
    kentro(d)
        .args(["text", "ok.csv", "-k", "1", "-o", "ok-out.csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("3 documents"));
    assert_eq!(assignments(&fs::read_to_string(d.join("ok-out.csv")).unwrap()).len(), 3);
}

#[test]
fn documents_without_terms_are_counted_and_go_to_cluster_0() {
    let dir = TempDir::new().unwrap();
    let (mut texts, _) = corpus(10, 4);
    texts.push("the and of it".into());
    let jsonl: String =
        texts.iter().map(|t| format!("{{\"text\": {}}}\n", serde_json::to_string(t).unwrap())).collect();
    fs::write(dir.path().join("d.jsonl"), jsonl).unwrap();
    kentro(dir.path())
        .args(["text", "d.jsonl", "-k", "4", "-o", "a.csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 document has no term in the vocabulary: it is in cluster 0"));
    let rows = assignments(&fs::read_to_string(dir.path().join("a.csv")).unwrap());
    assert_eq!(rows.last().unwrap(), &("40".to_string(), 0));
}

#[test]
fn numeric_options_are_checked_like_the_other_commands() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("s.jsonl"), "{\"text\": \"apple pear\"}\n{\"text\": \"plum fig\"}\n").unwrap();
    for (args, message) in [
        (
            &["-k", "1", "--threads", "0"][..],
            "invalid value '0' for '--threads <N>': expected a whole number >= 1",
        ),
        (
            &["-k", "1", "--n-init", "0"][..],
            "invalid value '0' for '--n-init <N>': expected a whole number >= 1",
        ),
        (&["-k", "two"][..], "invalid value 'two' for '--n-clusters <K>': expected a whole number"),
        (&["-k", "1", "--seed", "x"][..], "expected a whole number from 0 to 18446744073709551615"),
    ] {
        kentro(d)
            .args(["text", "s.jsonl"])
            .args(args)
            .assert()
            .failure()
            .code(2)
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains("number would be zero").not());
    }
}
