//! The machine-readable JSON report.
//!
//! Shape (keys come out sorted, as `serde_json`'s default map is ordered):
//!
//! ```text
//! {"programs": [{"file", "section", "name", "prog_type",
//!                "verdict": "accepted" | "rejected" | "error",
//!                "errors": [{"pc", "code", "message",
//!                            "source": {"file", "line", "column", "text"} | null,
//!                            "state": "<state before the failing insn>" | null}],
//!                "error": <string | null>,
//!                "stats": {"insns", "processed", "blocks", "time_us"?, "insns_processed"?,
//!                          "states"?} | null}],
//!  "summary": {"programs", "accepted", "rejected", "errors", "time_us"?, "insns_processed"?,
//!              "states"?}}
//! ```
//!
//! Programs come in the order given, then one entry per load error (verdict "error",
//! section/name/prog_type/stats null). Timings appear only with
//! `JsonOptions::timings`, so the report is byte-for-byte reproducible by default.
//! `state` is the state before the failing instruction in the kernel's notation: the
//! failing path's (`error_states`, recorded by every analysis), else the trace's join of
//! all paths when the analysis kept one, else `error_state` for the first error.

use analyzer::verify::{ProgramResult, Verdict};
use serde_json::{json, Map, Value};
use std::time::Duration;

/// What to include in the JSON report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JsonOptions {
    /// Include `time_us`, `insns_processed` and `states` (per program and in the summary);
    /// off for deterministic output.
    pub timings: bool,
}

/// Whole microseconds.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Milliseconds, rounded to microseconds.
fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// The state before the instruction at `pc`, in the kernel's notation, if known: the
/// failing path's state when the analysis recorded one, else the trace's (all paths).
fn state_at(r: &ProgramResult, pc: usize) -> Option<String> {
    if let Some((_, s)) = r.error_states.iter().find(|(p, _)| *p == pc) {
        return Some(s.clone());
    }
    if let Some(t) = r.trace.iter().find(|t| t.pc == pc) {
        return Some(t.state_before.clone());
    }
    let first = r.diagnostics.iter().map(|d| d.pc).min()?;
    if pc == first {
        r.error_state.clone()
    } else {
        None
    }
}

/// The `source` object of an error: BTF line info of `pc`, or null.
fn source_at(r: &ProgramResult, pc: usize) -> Value {
    match r.line_for(pc) {
        Some(l) => json!({ "file": l.file, "line": l.line, "column": l.column, "text": l.text.trim() }),
        None => Value::Null,
    }
}

/// The JSON object of one analysed program.
pub fn program_json(r: &ProgramResult, opts: &JsonOptions) -> Value {
    let errors: Vec<Value> = r
        .diagnostics
        .iter()
        .map(|d| {
            let mut e = json!({
                "pc": d.pc,
                "code": d.code.as_str(),
                "message": d.message,
                "source": source_at(r, d.pc),
                "state": state_at(r, d.pc),
            });
            if let Some(c) = &d.counterexample {
                e["counterexample"] = json!({"inputs": c.inputs, "replayed": c.replayed, "replay": c.replay_outcome});
            }
            e
        })
        .collect();
    let mut stats = Map::new();
    stats.insert("insns".into(), json!(r.stats.insns));
    stats.insert("processed".into(), json!(r.stats.processed));
    stats.insert("blocks".into(), json!(r.stats.blocks));
    if !r.stats.loops.is_empty() {
        stats.insert("loops".into(), json!(r.stats.loops));
    }
    if let Some(smt) = &r.stats.smt {
        stats.insert(
            "smt".into(),
            json!({"queries": smt.queries, "proved": smt.proved, "refuted": smt.refuted, "unknown": smt.unknown, "cached": smt.cached, "proved_alarms": smt.proved_messages}),
        );
    }
    if opts.timings {
        stats.insert("time_us".into(), json!(micros(r.stats.time)));
        stats.insert("insns_processed".into(), json!(r.stats.insns_processed));
        stats.insert("states".into(), json!(r.stats.states));
    }
    json!({
        "file": r.file,
        "section": r.section,
        "name": r.name,
        "prog_type": r.prog_type,
        "verdict": r.verdict.as_str(),
        "errors": errors,
        "error": r.error,
        "stats": Value::Object(stats),
    })
}

/// The JSON entry of a file that could not be loaded.
fn load_error_json(file: &str, message: &str) -> Value {
    json!({
        "file": file,
        "section": Value::Null,
        "name": Value::Null,
        "prog_type": Value::Null,
        "verdict": Verdict::Error.as_str(),
        "errors": [],
        "error": message,
        "stats": Value::Null,
    })
}

/// The whole report: every program, every load error, and the summary.
pub fn json_report(results: &[ProgramResult], load_errors: &[(String, String)], opts: &JsonOptions) -> Value {
    let mut programs: Vec<Value> = results.iter().map(|r| program_json(r, opts)).collect();
    programs.extend(load_errors.iter().map(|(f, m)| load_error_json(f, m)));
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    let mut summary = Map::new();
    summary.insert("programs".into(), json!(results.len() + load_errors.len()));
    summary.insert("accepted".into(), json!(count(Verdict::Accepted)));
    summary.insert("rejected".into(), json!(count(Verdict::Rejected)));
    summary.insert("errors".into(), json!(count(Verdict::Error) + load_errors.len()));
    if opts.timings {
        let total: Duration = results.iter().map(|r| r.stats.time).sum();
        summary.insert("time_us".into(), json!(micros(total)));
        summary.insert("insns_processed".into(), json!(results.iter().map(|r| r.stats.insns_processed).sum::<u64>()));
        summary.insert("states".into(), json!(results.iter().map(|r| r.stats.states).sum::<u64>()));
    }
    let smt: Vec<_> = results.iter().filter_map(|r| r.stats.smt.as_ref()).collect();
    if !smt.is_empty() {
        let mut m = Map::new();
        m.insert("queries".into(), json!(smt.iter().map(|s| s.queries).sum::<u64>()));
        m.insert("proved".into(), json!(smt.iter().map(|s| s.proved).sum::<u64>()));
        m.insert("refuted".into(), json!(smt.iter().map(|s| s.refuted).sum::<u64>()));
        m.insert("unknown".into(), json!(smt.iter().map(|s| s.unknown).sum::<u64>()));
        m.insert("cached".into(), json!(smt.iter().map(|s| s.cached).sum::<u64>()));
        if opts.timings {
            m.insert("time_ms".into(), json!(millis(smt.iter().map(|s| s.time).sum())));
        }
        summary.insert("smt".into(), Value::Object(m));
    }
    json!({ "programs": programs, "summary": Value::Object(summary) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn all() -> Vec<ProgramResult> {
        vec![testdata::accepted(), testdata::rejected(), testdata::error()]
    }

    #[test]
    fn summary_counts() {
        let v = json_report(&all(), &testdata::load_errors(), &JsonOptions::default());
        assert_eq!(v["summary"], json!({"programs": 4, "accepted": 1, "rejected": 1, "errors": 2}));
        assert_eq!(v["programs"].as_array().map(Vec::len), Some(4));
    }

    #[test]
    fn rejected_error_has_source_and_state() {
        let v = json_report(&all(), &[], &JsonOptions::default());
        let e = &v["programs"][1]["errors"][0];
        assert_eq!(e["pc"], 6);
        assert_eq!(e["code"], "null_dereference");
        assert_eq!(e["message"], "R0 invalid mem access 'map_value_or_null'");
        assert_eq!(e["source"], json!({"file": "/src/bpf/prog.c", "line": 12, "column": 9, "text": "return *v;"}));
        assert_eq!(e["state"], "R0=map_value_or_null(id=1,map=h,ks=4,vs=8) R10=fp0 fp-8=0000????");
        assert_eq!(v["programs"][1]["verdict"], "rejected");
    }

    #[test]
    fn state_falls_back_to_error_state_without_trace() {
        let mut r = testdata::rejected();
        r.trace.clear();
        r.line_info = Default::default();
        let v = program_json(&r, &JsonOptions::default());
        assert_eq!(v["errors"][0]["state"], json!(r.error_state));
        assert_eq!(v["errors"][0]["source"], Value::Null);
    }

    #[test]
    fn load_error_entry() {
        let v = json_report(&[], &testdata::load_errors(), &JsonOptions::default());
        let p = &v["programs"][0];
        assert_eq!(p["verdict"], "error");
        assert_eq!(p["section"], Value::Null);
        assert_eq!(p["name"], Value::Null);
        assert!(p["error"].as_str().is_some_and(|s| s.contains("No such file")));
    }

    #[test]
    fn timings_only_when_asked() {
        let off = json_report(&all(), &[], &JsonOptions { timings: false });
        for key in ["time_us", "insns_processed", "\"states\""] {
            assert!(!off.to_string().contains(key), "{key}");
        }
        let on = json_report(&all(), &[], &JsonOptions { timings: true });
        assert_eq!(on["programs"][1]["stats"]["time_us"], json!(1500));
        assert_eq!(on["programs"][1]["stats"]["insns_processed"], json!(7));
        assert_eq!(on["programs"][1]["stats"]["states"], json!(3));
        assert_eq!(on["summary"]["time_us"], json!(4000));
        assert_eq!(on["summary"]["insns_processed"], json!(19));
        assert_eq!(on["summary"]["states"], json!(8));
    }

    #[test]
    fn deterministic() {
        let a = serde_json::to_string(&json_report(&all(), &testdata::load_errors(), &JsonOptions::default()));
        let b = serde_json::to_string(&json_report(&all(), &testdata::load_errors(), &JsonOptions::default()));
        assert_eq!(a.ok(), b.ok());
    }

    #[test]
    fn snapshot() {
        let v = json_report(&all(), &testdata::load_errors(), &JsonOptions::default());
        insta::assert_snapshot!("json_report", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
}
