//! Data-driven corpus test: every `corpus/**/*.case` file names an object, a program,
//! the expected verdict and message substrings. The runner reports, per case, the
//! expected-but-missing and the produced-but-unexpected messages as two lists, and
//! fails listing every case that does not match.
//!
//! It also snapshots (insta) the level-2 log and the JSON report of every case.
//! A case with `smt = discharge` (or `full`) is checked and snapshotted with the SMT backend on.

use analyzer::verify::{discharge_with, verify_program, Config, ProgramResult, SmtMode, Verdict};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One parsed `.case` file.
#[derive(Debug, Default)]
struct Case {
    path: PathBuf,
    object: String,
    program: String,
    verdict: String,
    kernel: Option<String>,
    messages: Vec<String>,
    /// Today's verdict when it is known to differ from the kernel's (`bpfcheck =`).
    known_verdict: Option<String>,
    /// Why it differs (`known_wrong =`).
    known_wrong: Option<String>,
    /// `smt = discharge|full`: run the SMT backend after the analysis (default `off`).
    smt: SmtMode,
}

fn parse_case(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut c = Case { path: path.to_path_buf(), ..Case::default() };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            panic!("{}: bad line {line:?}", path.display())
        };
        let (k, v) = (k.trim(), v.trim().to_string());
        match k {
            "object" => c.object = v,
            "program" => c.program = v,
            "verdict" => c.verdict = v,
            "kernel" => c.kernel = Some(v),
            "bpfcheck" => c.known_verdict = Some(v),
            "known_wrong" => c.known_wrong = Some(v),
            "smt" => {
                c.smt = SmtMode::from_name(&v).unwrap_or_else(|| panic!("{}: bad smt mode {v:?}", path.display()))
            }
            // `message`: in the kernel's log and in ours; `bpfcheck_message`: only in ours
            // (where we legitimately word or locate an error differently, with a note);
            // `kernel_message`: only in the kernel's (checked by corpus/kernel-check.sh).
            "message" | "bpfcheck_message" => c.messages.push(v),
            _ => {}
        }
    }
    assert!(!c.object.is_empty() && !c.verdict.is_empty(), "{}: object and verdict are required", path.display());
    c
}

pub(crate) fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
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
    paths.sort();
    for p in paths {
        out.push(parse_case(&p));
    }
    out
}

fn run_case(c: &Case) -> Result<ProgramResult, String> {
    let obj_path = c.path.parent().expect("case in a folder").join(&c.object);
    let obj = analyzer::elf::load_object(&obj_path).map_err(|e| format!("load error: {e}"))?;
    let idx = obj
        .programs
        .iter()
        .position(|p| p.name == c.program)
        .ok_or_else(|| format!("no program {} in {}", c.program, c.object))?;
    let config = Config { collect_states: true, ..Config::default() };
    let mut r = verify_program(&obj, idx, &config);
    if c.smt != SmtMode::Off {
        // On a thread of its own: a fresh Z3 context, so models (and snapshots) do not depend on
        // the queries other cases ran before on this thread.
        r = std::thread::scope(|s| {
            s.spawn(|| {
                discharge_with(&obj, idx, &mut r, c.smt, &analyzer::discharge::QueryCache::new());
                r
            })
            .join()
            .expect("discharge thread")
        });
    }
    // Paths relative to the corpus, so snapshots do not depend on the checkout.
    r.file = c.path.parent().unwrap().join(&c.object).strip_prefix(corpus_dir()).unwrap().display().to_string();
    Ok(r)
}

#[test]
fn corpus_cases_match_expectations() {
    let cases = cases();
    assert!(cases.len() >= 10, "the corpus should hold cases, found {}", cases.len());
    let mut failures = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut known_wrong: Vec<String> = Vec::new();
    for c in &cases {
        let name = c.path.strip_prefix(corpus_dir()).unwrap().display().to_string();
        let r = match run_case(c) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let log = reports::kernel_log::kernel_log(&r, 1);
        let got = r.verdict.as_str();
        if let Some(known) = &c.known_verdict {
            // A documented difference: assert today's behaviour so a change is noticed.
            known_wrong.push(format!("{name}: kernel {} / bpfcheck {known}: {}", c.verdict, c.known_wrong.as_deref().unwrap_or("")));
            if got != known {
                failures.push(format!("{name}: known-wrong case now gives {got} (recorded {known}); update the case"));
            }
            continue;
        }
        *counts.entry(if got == c.verdict { "match" } else { "mismatch" }).or_default() += 1;
        let missing: Vec<&String> = if c.verdict == "rejected" && r.verdict == Verdict::Rejected {
            c.messages.iter().filter(|m| !log.contains(m.as_str())).collect()
        } else {
            Vec::new()
        };
        let unexpected: Vec<String> = if c.verdict == "accepted" {
            r.diagnostics.iter().map(|d| format!("{}: {}", d.pc, d.message)).collect()
        } else {
            Vec::new()
        };
        if got != c.verdict || !missing.is_empty() {
            failures.push(format!(
                "{name}: expected {} got {got}\n    expected but missing: {missing:?}\n    produced but unexpected: {unexpected:?}\n    first error: {:?}",
                c.verdict,
                r.diagnostics.first().map(|d| format!("{}: {}", d.pc, d.message)).or(r.error.clone())
            ));
        }
    }
    eprintln!("corpus: {} cases, {counts:?}", cases.len());
    eprintln!("known wrong ({}):\n  {}", known_wrong.len(), known_wrong.join("\n  "));
    assert!(failures.is_empty(), "{} of {} corpus cases fail:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn corpus_kernel_field_agrees_with_expected_verdict() {
    // Every case's expected verdict is the live kernel's (we aim to agree with it).
    for c in cases() {
        if let Some(k) = &c.kernel {
            assert_eq!(&c.verdict, k, "{}: expected verdict differs from the kernel's", c.path.display());
        }
    }
}

#[test]
fn corpus_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(corpus_dir().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for c in cases() {
            let name = c.path.strip_prefix(corpus_dir()).unwrap().with_extension("").display().to_string().replace('/', "__");
            let Ok(r) = run_case(&c) else { continue };
            insta::assert_snapshot!(format!("{name}.log"), reports::kernel_log::kernel_log(&r, 2));
            let json = reports::json::json_report(
                std::slice::from_ref(&r),
                &[],
                &reports::json::JsonOptions { timings: false },
            );
            insta::assert_snapshot!(format!("{name}.json"), serde_json::to_string_pretty(&json).unwrap());
        }
    });
}
