//! SARIF 2.1.0 output, for code-scanning UIs (GitHub, IDEs).
//!
//! One run whose tool is `bpfcheck`; one rule per diagnostic code that occurs (id =
//! `DiagCode::as_str()`), plus `analysis_error` / `load_error` for programs that could
//! not be analysed and files that could not be loaded. Each diagnostic is a result of
//! level `error` located at its source line from BTF line info (`region.startLine`,
//! and `startColumn` when known), or at the object file when there is no line info,
//! with a logical location `section/function` that carries the pc.
//! `tests/sarif-schema-2.1.0.json` (the OASIS schema) validates the output in tests.

use analyzer::diag::DiagCode;
use analyzer::verify::{ProgramResult, Verdict};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The `$schema` URI of SARIF 2.1.0 logs.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Rule id of a program whose analysis could not run.
pub const ANALYSIS_ERROR_RULE: &str = "analysis_error";
/// Rule id of an object file that could not be loaded.
pub const LOAD_ERROR_RULE: &str = "load_error";

/// One-line description of a diagnostic code (the rule's `shortDescription`).
pub fn rule_description(code: DiagCode) -> &'static str {
    use DiagCode::*;
    match code {
        UninitRegister => "Read of a register that was never written",
        UninitStack => "Read of stack bytes that were never written",
        StackAccess => "Stack access out of the frame, misaligned, or at a variable offset",
        CtxAccess => "Context access not allowed for this program type",
        MapValueAccess => "Map value access outside value_size",
        NullDereference => "Dereference of a possibly-NULL pointer",
        InvalidMemAccess => "Dereference of a scalar or other non-memory register",
        PacketAccess => "Packet access not proven to be within the packet",
        MemAccess => "Helper-returned memory accessed out of its size",
        PointerArithmetic => "Pointer arithmetic the kernel forbids",
        FramePointerWrite => "Write to the read-only frame pointer R10",
        ReturnValue => "R0 at exit uninitialised or outside the allowed range",
        HelperArgument => "Helper argument of the wrong kind or size",
        HelperUnavailable => "Unknown helper, or helper not allowed for this program type",
        MapHelperMismatch => "Map type incompatible with the helper",
        Reference => "Acquired reference leaked or used after release",
        Lock => "bpf_spin_lock misuse (call or exit inside the locked region, unbalanced unlock)",
        InvalidImmediate => "Division or shift by an immediate the kernel rejects",
        Unsupported => "Instruction not supported by the analyzer (never assumed safe)",
        Termination => "Loop not proven to terminate",
        Complexity => "Analysis budget exceeded",
        InvalidStore => "Store not allowed into this kind of memory",
    }
}

/// Percent-encodes a file path into a URI reference (keeps `/` and unreserved characters).
pub(crate) fn path_to_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b'+' | b',' | b'=' | b'@');
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule(id: &str, text: &str) -> Value {
    json!({
        "id": id,
        "shortDescription": { "text": text },
        "defaultConfiguration": { "level": "error" },
    })
}

/// The `location` of a finding at `pc` of `r`.
fn location(r: &ProgramResult, pc: Option<usize>) -> Value {
    let line = pc.and_then(|pc| r.line_for(pc));
    let uri = match line {
        Some(l) if !l.file.is_empty() => path_to_uri(&l.file),
        _ => path_to_uri(&r.file),
    };
    let mut physical = Map::new();
    physical.insert("artifactLocation".into(), json!({ "uri": uri }));
    if let Some(l) = line.filter(|l| l.line > 0) {
        let mut region = Map::new();
        region.insert("startLine".into(), json!(l.line));
        if l.column > 0 {
            region.insert("startColumn".into(), json!(l.column));
        }
        physical.insert("region".into(), Value::Object(region));
    }
    let mut logical = Map::new();
    logical.insert("name".into(), json!(r.name));
    logical.insert("fullyQualifiedName".into(), json!(format!("{}/{}", r.section, r.name)));
    logical.insert("kind".into(), json!("function"));
    if let Some(pc) = pc {
        logical.insert("properties".into(), json!({ "pc": pc }));
    }
    json!({
        "physicalLocation": Value::Object(physical),
        "logicalLocations": [Value::Object(logical)],
    })
}

/// The whole SARIF log for a set of results and load errors.
pub fn sarif_report(results: &[ProgramResult], load_errors: &[(String, String)]) -> Value {
    let codes: BTreeSet<DiagCode> = results.iter().flat_map(|r| r.diagnostics.iter().map(|d| d.code)).collect();
    let mut rule_ids: Vec<String> = codes.iter().map(|c| c.as_str().to_string()).collect();
    let mut rules: Vec<Value> = codes.iter().map(|c| rule(c.as_str(), rule_description(*c))).collect();
    if results.iter().any(|r| r.verdict == Verdict::Error) {
        rule_ids.push(ANALYSIS_ERROR_RULE.to_string());
        rules.push(rule(ANALYSIS_ERROR_RULE, "The program could not be analysed"));
    }
    if !load_errors.is_empty() {
        rule_ids.push(LOAD_ERROR_RULE.to_string());
        rules.push(rule(LOAD_ERROR_RULE, "The object file could not be loaded"));
    }
    let index_of = |id: &str| rule_ids.iter().position(|r| r == id).unwrap_or(0);

    let mut out: Vec<Value> = Vec::new();
    for r in results {
        for d in &r.diagnostics {
            let mut props = Map::new();
            props.insert("pc".into(), json!(d.pc));
            if let Some(text) = r.insn_text.get(d.pc) {
                props.insert("insn".into(), json!(text));
            }
            props.insert("progType".into(), json!(r.prog_type));
            out.push(json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": index_of(d.code.as_str()),
                "level": "error",
                "message": { "text": d.message },
                "locations": [location(r, Some(d.pc))],
                "properties": Value::Object(props),
            }));
        }
        if r.verdict == Verdict::Error {
            let msg = r.error.clone().unwrap_or_else(|| "the program could not be analysed".to_string());
            out.push(json!({
                "ruleId": ANALYSIS_ERROR_RULE,
                "ruleIndex": index_of(ANALYSIS_ERROR_RULE),
                "level": "error",
                "message": { "text": msg },
                "locations": [location(r, None)],
            }));
        }
    }
    for (file, msg) in load_errors {
        out.push(json!({
            "ruleId": LOAD_ERROR_RULE,
            "ruleIndex": index_of(LOAD_ERROR_RULE),
            "level": "error",
            "message": { "text": msg },
            "locations": [{ "physicalLocation": { "artifactLocation": { "uri": path_to_uri(file) } } }],
        }));
    }
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "bpfcheck",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": out,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn report() -> Value {
        sarif_report(&[testdata::accepted(), testdata::rejected(), testdata::error()], &testdata::load_errors())
    }

    #[test]
    fn header_and_rules() {
        let v = report();
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["$schema"], SARIF_SCHEMA);
        let driver = &v["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "bpfcheck");
        let ids: Vec<&str> = driver["rules"].as_array().into_iter().flatten().filter_map(|r| r["id"].as_str()).collect();
        assert_eq!(ids, vec!["null_dereference", "analysis_error", "load_error"]);
    }

    #[test]
    fn result_location_from_line_info() {
        let v = report();
        let res = &v["runs"][0]["results"][0];
        assert_eq!(res["ruleId"], "null_dereference");
        assert_eq!(res["ruleIndex"], 0);
        assert_eq!(res["level"], "error");
        let loc = &res["locations"][0];
        assert_eq!(loc["physicalLocation"]["artifactLocation"]["uri"], "/src/bpf/prog.c");
        assert_eq!(loc["physicalLocation"]["region"], json!({"startLine": 12, "startColumn": 9}));
        assert_eq!(loc["logicalLocations"][0]["fullyQualifiedName"], "xdp/lookup_no_check");
        assert_eq!(loc["logicalLocations"][0]["properties"]["pc"], 6);
    }

    #[test]
    fn fallback_to_object_file_and_uri_encoding() {
        let v = report();
        let results = v["runs"][0]["results"].as_array().cloned().unwrap_or_default();
        assert_eq!(results.len(), 3);
        assert_eq!(results[1]["ruleId"], "analysis_error");
        assert_eq!(results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "tests/obj/broken.o");
        assert!(results[1]["locations"][0]["physicalLocation"].get("region").is_none());
        assert_eq!(results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "tests/obj/missing%20file.o");
        assert_eq!(path_to_uri("a b/c%d.c"), "a%20b/c%25d.c");
    }

    #[test]
    fn line_zero_has_no_region() {
        let mut r = testdata::rejected();
        for l in std::sync::Arc::make_mut(&mut r.line_info) {
            l.line = 0;
        }
        let v = sarif_report(&[r], &[]);
        let loc = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert!(loc.get("region").is_none());
        assert_eq!(loc["artifactLocation"]["uri"], "/src/bpf/prog.c");
    }

    /// Validation errors of `v` against the vendored SARIF 2.1.0 schema (formats checked).
    fn schema_errors(v: &Value) -> Vec<String> {
        let schema: Value = match serde_json::from_str(include_str!("../tests/sarif-schema-2.1.0.json")) {
            Ok(s) => s,
            Err(e) => return vec![format!("schema does not parse: {e}")],
        };
        let validator = match jsonschema::options().should_validate_formats(true).build(&schema) {
            Ok(v) => v,
            Err(e) => return vec![format!("schema does not compile: {e}")],
        };
        validator.iter_errors(v).map(|e| format!("{} at {}", e, e.instance_path)).collect()
    }

    #[test]
    fn valid_against_sarif_schema() {
        assert_eq!(schema_errors(&report()), Vec::<String>::new());
        assert_eq!(schema_errors(&sarif_report(&[], &[])), Vec::<String>::new());
        let mut r = testdata::rejected();
        r.line_info = Default::default();
        assert_eq!(schema_errors(&sarif_report(&[r], &[])), Vec::<String>::new());
    }

    #[test]
    fn schema_check_can_fail() {
        // The validator does reject a malformed log (so the test above means something).
        let mut v = report();
        v["version"] = json!("2.0.0");
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = json!(0);
        assert_eq!(schema_errors(&v).len(), 2, "{:?}", schema_errors(&v));
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!("sarif_report", serde_json::to_string_pretty(&report()).unwrap_or_default());
    }
}
