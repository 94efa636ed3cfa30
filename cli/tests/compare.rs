//! `bpfcheck compare` against the live kernel on `corpus/`: the summary parses, every
//! program's kernel verdict is the one its `.case` file records, and the verdict
//! agreement (both accept / both reject / we accept-kernel rejects / we reject-kernel
//! accepts) equals what the `.case` files predict from their `verdict` and `kernel` lines.
//! Needs bpf(2) (root): without it the test prints `skipped: no bpf()` and returns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

/// (object path relative to the corpus, program) -> (our expected verdict, the kernel's).
fn cases() -> BTreeMap<(String, String), (String, String)> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "case") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&corpus_dir(), &mut paths);
    let mut out = BTreeMap::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).expect("readable case");
        let field = |k: &str| {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .find(|(a, _)| a.trim() == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let dir = p
            .parent()
            .expect("in a folder")
            .strip_prefix(corpus_dir())
            .expect("under corpus");
        let object = dir.join(field("object")).display().to_string();
        out.insert((object, field("program")), (field("verdict"), field("kernel")));
    }
    out
}

/// Cases where our verdict is wrong today, as `(object, program, why)`: their predicted
/// agreement is today's (our verdict flipped), so this test keeps asserting the current
/// behaviour; when the analyzer gets one right the test fails and the entry must be removed.
/// (`smt = ...` cases' `bpfcheck` key describes the run with SMT on; this test runs without
/// it, so cases wrong even without SMT are listed here.)
const KNOWN_WRONG: &[(&str, &str, &str)] = &[];

fn bpfcheck(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bpfcheck"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn skipped() -> bool {
    if !oracle::bpf_available() {
        println!("skipped: no bpf()");
        return true;
    }
    false
}

/// The `key=value` words of the summary line starting with `prefix`.
fn summary_line(text: &str, prefix: &str) -> BTreeMap<String, u64> {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{text}"));
    line[prefix.len()..]
        .split_whitespace()
        .map(|w| {
            let (k, v) = w.split_once('=').unwrap_or_else(|| panic!("not key=value: {w:?}"));
            (
                k.to_string(),
                v.parse().unwrap_or_else(|_| panic!("not a number: {w:?}")),
            )
        })
        .collect()
}

fn agreement_of(ours: &str, kernel: &str) -> &'static str {
    match (ours == "accepted", kernel == "accepted") {
        (true, true) => "both_accept",
        (false, false) => "both_reject",
        (true, false) => "ours_accept_kernel_reject",
        (false, true) => "ours_reject_kernel_accept",
    }
}

#[test]
fn corpus_verdicts_agree_with_case_files() {
    if skipped() {
        return;
    }
    let cases = cases();
    assert!(cases.len() >= 100, "expected the corpus' cases, found {}", cases.len());
    let (code, stdout, stderr) = bpfcheck(&["compare", "--format", "json", "."], &corpus_dir());
    assert!(code == 0 || code == 1, "exit code {code}, stderr:\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
    let programs = v["programs"].as_array().expect("programs array");
    let mut predicted: BTreeMap<&str, u64> = BTreeMap::new();
    let mut actual: BTreeMap<&str, u64> = BTreeMap::new();
    let mut kernel_mismatch = Vec::new();
    let mut ours_mismatch = Vec::new();
    let mut seen = 0;
    for p in programs {
        let file = p["file"].as_str().expect("file").trim_start_matches("./").to_string();
        let name = p["name"].as_str().expect("name").to_string();
        let Some((verdict, kernel)) = cases.get(&(file.clone(), name.clone())) else {
            continue;
        };
        seen += 1;
        let got_kernel = p["kernel"].as_str().unwrap_or("not loaded");
        let got_ours = p["ours"].as_str().expect("ours");
        if got_kernel != kernel {
            kernel_mismatch.push(format!(
                "{file} {name}: case says kernel {kernel}, the kernel said {got_kernel} ({})",
                p["kernel_error"]
            ));
        }
        let known_wrong = KNOWN_WRONG.iter().find(|(f, n, _)| *f == file && *n == name);
        let expected_ours = match known_wrong {
            Some(_) if verdict == "accepted" => "rejected",
            Some(_) => "accepted",
            None => verdict.as_str(),
        };
        if got_ours != expected_ours {
            let why = known_wrong.map_or(String::new(), |(_, _, w)| {
                format!(" [listed in KNOWN_WRONG: {w}; remove it]")
            });
            ours_mismatch.push(format!(
                "{file} {name}: expected {expected_ours}, we said {got_ours} ({}){why}",
                p["ours_error"]
            ));
        }
        *predicted.entry(agreement_of(expected_ours, kernel)).or_default() += 1;
        let a = p["agreement"].as_str().expect("agreement");
        assert_eq!(a, agreement_of(got_ours, got_kernel), "{file} {name}: agreement field");
        *actual
            .entry(match a {
                "both_accept" => "both_accept",
                "both_reject" => "both_reject",
                "ours_accept_kernel_reject" => "ours_accept_kernel_reject",
                "ours_reject_kernel_accept" => "ours_reject_kernel_accept",
                _ => "no_kernel_verdict",
            })
            .or_default() += 1;
        assert!(p["registers_compared"].as_u64().is_some(), "{file} {name}: counts");
    }
    assert_eq!(seen, cases.len(), "every case's program is compared");
    assert!(
        kernel_mismatch.is_empty(),
        "the live kernel disagrees with .case files:\n{}",
        kernel_mismatch.join("\n")
    );
    assert_eq!(
        actual,
        predicted,
        "verdict agreement differs from the .case files' prediction; our verdicts that differ:\n{}",
        ours_mismatch.join("\n")
    );
    // The summary covers every program (subprograms included) and its classes add up.
    let s = &v["summary"];
    let total: u64 = s["agreement"]
        .as_object()
        .expect("agreement")
        .values()
        .filter_map(|x| x.as_u64())
        .sum();
    assert_eq!(total, programs.len() as u64);
    assert_eq!(s["programs"].as_u64(), Some(programs.len() as u64));
    let prec = &s["precision"];
    let classes: u64 = ["ours_more_precise", "equal", "kernel_more_precise", "incomparable"]
        .iter()
        .filter_map(|k| prec[*k].as_u64())
        .sum();
    assert_eq!(Some(classes), prec["registers_compared"].as_u64());
    assert!(
        classes > 100,
        "states are compared on the corpus, got {classes} registers"
    );
}

#[test]
fn text_summary_parses() {
    if skipped() {
        return;
    }
    let (code, stdout, stderr) = bpfcheck(&["compare", "packet", "calls"], &corpus_dir());
    assert!(code == 0 || code == 1, "exit code {code}, stderr:\n{stderr}");
    let a = summary_line(&stdout, "agreement:");
    let p = summary_line(&stdout, "precision:");
    let programs = a["programs"];
    let classes: u64 = [
        "both_accept",
        "both_reject",
        "ours_accept_kernel_reject",
        "ours_reject_kernel_accept",
        "no_kernel_verdict",
    ]
    .iter()
    .map(|k| a[*k])
    .sum();
    assert_eq!(classes, programs);
    assert_eq!(
        stdout.matches("\n=== ").count() + usize::from(stdout.starts_with("=== ")),
        programs as usize
    );
    assert_eq!(
        p["ours_more_precise"] + p["equal"] + p["kernel_more_precise"] + p["incomparable"],
        p["registers"]
    );
    // Disagreements where we accept and the kernel rejects come first.
    let order: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("=== "))
        .filter_map(|l| l.rsplit(": ").next())
        .collect();
    let first_other = order
        .iter()
        .position(|a| *a != "ours_accept_kernel_reject")
        .unwrap_or(order.len());
    assert!(
        order[first_other..].iter().all(|a| *a != "ours_accept_kernel_reject"),
        "order: {order:?}"
    );
}

#[test]
fn table_has_one_line_per_program_with_both_verdicts() {
    if skipped() {
        return;
    }
    let (code, stdout, stderr) = bpfcheck(&["compare", "--table", "packet"], &corpus_dir());
    assert!(code == 0 || code == 1, "exit code {code}, stderr:\n{stderr}");
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("file\tsection\tfunction\tinsns\tours\tkernel\tagreement\tours_first_error\tkernel_first_error")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    let a = summary_line(&stderr, "agreement:");
    assert_eq!(rows.len() as u64, a["programs"], "one row per program:\n{stdout}");
    let cases = cases();
    for r in &rows {
        assert_eq!(r.len(), 9, "nine columns: {r:?}");
        assert!(r[3].parse::<usize>().is_ok_and(|n| n > 0), "insns: {r:?}");
        assert_eq!(r[6], agreement_of(r[4], r[5]), "agreement column: {r:?}");
        if r[4] == "rejected" {
            assert!(!r[7].is_empty(), "a rejection names its first error: {r:?}");
        }
        let file = r[0].trim_start_matches("./").to_string();
        if let Some((_, kernel)) = cases.get(&(file, r[2].to_string())) {
            assert_eq!(r[5], kernel, "kernel verdict recorded in the case file: {r:?}");
        }
    }
}
