//! The command line as users run it: exit codes, a corrupt file in the middle of a
//! folder, the per-program time limit, parallel runs equal to `-j 1`, and the JSON
//! and SARIF outputs parsing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpfcheck"))
}

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus").join(rel)
}

#[test]
fn exit_code_0_when_all_accepted_1_when_rejected_2_on_bad_input() {
    let ok = bin().args(["verify"]).arg(corpus("packet/check_gt.o")).output().unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
    let rej = bin().args(["verify"]).arg(corpus("packet/no_check.o")).output().unwrap();
    assert_eq!(rej.status.code(), Some(1));
    let missing = bin().args(["verify", "/nonexistent/file.o"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/file.o"));
    let usage = bin().args(["verify"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn corrupt_file_in_the_middle_of_a_folder_is_reported_and_the_rest_verified() {
    let dir = std::env::temp_dir().join(format!("bpfcheck-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(corpus("packet/check_gt.o"), dir.join("a.o")).unwrap();
    std::fs::write(dir.join("b.o"), b"\x7fELF\x02\x01\x01garbage that is not an object").unwrap();
    std::fs::copy(corpus("packet/no_check.o"), dir.join("c.o")).unwrap();
    let out = bin().args(["verify", "--format", "json"]).arg(&dir).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report parses");
    let progs = v["programs"].as_array().unwrap();
    let verdict = |file: &str| {
        progs.iter().find(|p| p["file"].as_str().unwrap_or("").ends_with(file)).map(|p| p["verdict"].as_str().unwrap().to_string())
    };
    assert_eq!(verdict("a.o").as_deref(), Some("accepted"));
    assert_eq!(verdict("b.o").as_deref(), Some("error"));
    assert_eq!(verdict("c.o").as_deref(), Some("rejected"));
    assert_eq!(out.status.code(), Some(2), "a load error is an input error");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn time_limit_gives_an_error_verdict_not_a_crash() {
    let out = bin().args(["verify", "--format", "json", "--timeout", "0"]).arg(corpus("loops")).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let progs = v["programs"].as_array().unwrap();
    assert!(!progs.is_empty());
    for p in progs {
        assert_eq!(p["verdict"], "error", "{p}");
        assert!(p["error"].as_str().unwrap().contains("time limit"), "{p}");
    }
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn parallel_run_equals_sequential_run() {
    let run = |jobs: &str| {
        let out = bin().args(["verify", "--format", "json", "-j", jobs]).arg(corpus("")).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let one = run("1");
    assert!(one.len() > 1000);
    assert_eq!(one, run("2"));
    assert_eq!(one, run("4"));
}

#[test]
fn sarif_output_is_json_with_results() {
    let out = bin().args(["verify", "--format", "sarif"]).arg(corpus("packet")).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(!v["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn dump_lists_programs_maps_and_disassembly() {
    let out = bin().args(["dump"]).arg(corpus("map_value/in_bounds.o")).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("maps:"), "{text}");
    assert!(text.contains("call bpf_map_lookup_elem#1"), "{text}");
    assert!(text.contains("(95) exit"), "{text}");
}

#[test]
fn dump_of_a_truncated_file_is_one_clear_error_line() {
    let dir = std::env::temp_dir().join(format!("bpfcheck-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(corpus("map_value/in_bounds.o")).unwrap();
    let f = dir.join("trunc.o");
    std::fs::write(&f, &bytes[..bytes.len() / 3]).unwrap();
    let out = bin().args(["dump"]).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("trunc.o"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cfg_prints_graphviz_with_optional_invariants() {
    let out = bin().args(["cfg", "--prog", "bounded_sum"]).arg(corpus("loops/bounded_sum.o")).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(dot.contains("(95) exit"), "{dot}");
    assert!(!dot.contains("R10=fp0"), "no states without --states");
    let out = bin().args(["cfg", "--states", "--prog", "bounded_sum"]).arg(corpus("loops/bounded_sum.o")).output().unwrap();
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.contains("R10=fp0"), "{dot}");
}

#[test]
fn prove_domains_proves_tnum_add_and_exits_0() {
    let out = bin().args(["prove-domains", "--filter", "tnum.add", "--timeout-ms", "60000"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.lines().any(|l| l.starts_with("tnum.add") && l.contains("proved")), "{text}");
}

#[test]
fn timings_add_time_insns_processed_and_states_to_text_and_json() {
    let text = bin().args(["verify", "--timings"]).arg(corpus("packet/check_gt.o")).output().unwrap();
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("insns processed") && stdout.contains(" states)"), "{stdout}");
    let json = bin().args(["verify", "--timings", "--format", "json"]).arg(corpus("packet/check_gt.o")).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report parses");
    let stats = &v["programs"][0]["stats"];
    assert!(stats["time_us"].as_u64().is_some(), "{stats}");
    assert!(stats["insns_processed"].as_u64().is_some_and(|n| n >= stats["insns"].as_u64().unwrap_or(u64::MAX) / 2), "{stats}");
    assert!(stats["states"].as_u64().is_some_and(|n| n > 0), "{stats}");
    let plain = bin().args(["verify", "--format", "json"]).arg(corpus("packet/check_gt.o")).output().unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("insns_processed"));
}
