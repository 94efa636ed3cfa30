//! Tests against the live kernel verifier (bpf(2), root). Each prints
//! `skipped: no bpf()` and returns when bpf(2) is not available; they never pass silently.
//!
//! - every corpus program gets the kernel verdict its `.case` file records, and our
//!   verdict equals it (or the case documents why it does not);
//! - our instruction printer prints every instruction exactly as the kernel's
//!   level-2 log does.

use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

fn case_files() -> Vec<PathBuf> {
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
    let mut v = Vec::new();
    walk(&corpus_dir(), &mut v);
    v.sort();
    v
}

/// (object, program, kernel verdict) of a case file.
fn case_fields(p: &Path) -> (String, String, String) {
    let text = std::fs::read_to_string(p).unwrap();
    let get = |k: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(a, _)| a.trim() == k)
            .map(|(_, b)| b.trim().to_string())
            .unwrap_or_default()
    };
    (get("object"), get("program"), get("kernel"))
}

#[test]
fn corpus_kernel_verdicts_are_what_the_cases_record() {
    if !oracle::bpf_available() {
        eprintln!("skipped: no bpf()");
        return;
    }
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for case in case_files() {
        let (object, program, kernel) = case_fields(&case);
        let obj = analyzer::elf::load_object(&case.parent().unwrap().join(&object)).unwrap();
        let prog = obj.programs.iter().find(|p| p.name == program).unwrap();
        let v = oracle::load_program(&obj, prog, &oracle::LoadOptions::default()).unwrap();
        let got = if v.accepted { "accepted" } else { "rejected" };
        checked += 1;
        if got != kernel {
            mismatches.push(format!("{}: kernel says {got}, case records {kernel}", case.display()));
        }
    }
    eprintln!("checked {checked} corpus programs against the live kernel");
    assert!(checked > 0);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn printed_instructions_match_the_kernel_log() {
    if !oracle::bpf_available() {
        eprintln!("skipped: no bpf()");
        return;
    }
    let mut compared = 0;
    let mut diffs = Vec::new();
    for case in case_files() {
        let (object, program, kernel) = case_fields(&case);
        if kernel != "accepted" {
            continue;
        }
        let obj = analyzer::elf::load_object(&case.parent().unwrap().join(&object)).unwrap();
        let prog = obj.programs.iter().find(|p| p.name == program).unwrap();
        let opts = oracle::LoadOptions { log_level: oracle::LOG_LEVEL2, ..oracle::LoadOptions::default() };
        let v = oracle::load_program(&obj, prog, &opts).unwrap();
        let log = oracle::log_parser::parse_log(&v.log);
        for li in log.insns() {
            // The kernel prints map addresses for LD_IMM64 of maps (we print them as
            // map[idx]); calls to subprograms are `pc+N` in both. Compare the rest.
            if li.text.starts_with("(18)") {
                continue;
            }
            let ours = analyzer::insn::print::print_log_insn(&prog.insns, li.pc);
            compared += 1;
            if ours != li.text {
                diffs.push(format!("{} pc {}: kernel `{}` ours `{}`", case.display(), li.pc, li.text, ours));
            }
        }
    }
    eprintln!("compared {compared} instruction lines with the kernel's log");
    assert!(compared > 100, "too few instruction lines compared: {compared}");
    assert!(diffs.is_empty(), "{} differences:\n{}", diffs.len(), diffs.join("\n"));
}
