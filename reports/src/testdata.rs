//! Hand-built `ProgramResult`s shared by the renderers' tests.
//!
//! `rejected()` mirrors the kernel fixture `level2_lookup_null_check_missing.log`
//! (a hash-map lookup dereferenced without a NULL check) with BTF line info;
//! `accepted()` is the same program with the check (`level2_lookup_accepted.log`),
//! without line info; `error()` is a program whose analysis could not run.

use analyzer::diag::{DiagCode, Diagnostic};
use analyzer::object::LineInfo;
use analyzer::verify::{InsnTrace, ProgramResult, Stats, Verdict};
use std::time::Duration;

const FP: &str = "R10=fp0 fp-8=0000????";

fn trace(pc: usize, text: &str, before: &str, after: &str) -> InsnTrace {
    InsnTrace { pc, depth: 0, text: text.to_string(), state_before: before.to_string(), state_after: after.to_string() }
}

fn base(section: &str, name: &str) -> ProgramResult {
    ProgramResult {
        file: "tests/obj/lookup.o".to_string(),
        section: section.to_string(),
        name: name.to_string(),
        prog_type: "xdp".to_string(),
        verdict: Verdict::Accepted,
        diagnostics: Vec::new(),
        error: None,
        trace: Vec::new(),
        error_state: None,
        error_states: Vec::new(),
        stats: Stats::default(),
        line_info: Default::default(),
        insn_text: Vec::new(),
    }
}

fn lookup_prefix() -> Vec<InsnTrace> {
    let map = "map_ptr(map=h,ks=4,vs=8)";
    vec![
        trace(0, "(62) *(u32 *)(r10 -4) = 0", "R1=ctx() R10=fp0", &format!("R1=ctx() {FP}")),
        trace(1, "(bf) r2 = r10", &format!("R1=ctx() {FP}"), &format!("R1=ctx() R2=fp0 {FP}")),
        trace(2, "(07) r2 += -4", &format!("R1=ctx() R2=fp0 {FP}"), &format!("R1=ctx() R2=fp-4 {FP}")),
        trace(3, "(18) r1 = map[id:1]", &format!("R1=ctx() R2=fp-4 {FP}"), &format!("R1={map} R2=fp-4 {FP}")),
        trace(
            5,
            "(85) call bpf_map_lookup_elem#1",
            &format!("R1={map} R2=fp-4 {FP}"),
            &format!("R0=map_value_or_null(id=1,map=h,ks=4,vs=8) {FP}"),
        ),
    ]
}

fn texts(trace: &[InsnTrace], len: usize) -> Vec<String> {
    let mut out = vec!["(00) r0 = 0".to_string(); len];
    for t in trace {
        if let Some(slot) = out.get_mut(t.pc) {
            *slot = t.text.clone();
        }
    }
    out
}

/// A rejection: NULL dereference at pc 6, with source lines.
pub(crate) fn rejected() -> ProgramResult {
    let mut r = base("xdp", "lookup_no_check");
    let null = format!("R0=map_value_or_null(id=1,map=h,ks=4,vs=8) {FP}");
    let mut t = lookup_prefix();
    t.push(trace(6, "(79) r0 = *(u64 *)(r0 +0)", &null, &format!("R0=scalar() {FP}")));
    t.push(trace(7, "(b7) r0 = 0", &format!("R0=scalar() {FP}"), &format!("R0=0 {FP}")));
    t.push(trace(8, "(95) exit", &format!("R0=0 {FP}"), ""));
    r.insn_text = texts(&t, 9);
    r.trace = t;
    r.verdict = Verdict::Rejected;
    r.diagnostics = vec![Diagnostic::new(6, DiagCode::NullDereference, "R0 invalid mem access 'map_value_or_null'")];
    r.error_state = Some(null);
    r.stats = Stats { insns: 9, processed: 6, node_visits: 3, insns_processed: 7, states: 3, blocks: 3, time: Duration::from_micros(1500), loops: Vec::new(), loop_bounds: Vec::new(), smt: None };
    let li = |pc: usize, line: u32, column: u32, text: &str| LineInfo {
        pc,
        file: "/src/bpf/prog.c".to_string(),
        line,
        column,
        text: text.to_string(),
    };
    r.line_info = vec![
        li(0, 10, 6, "\tint key = 0;"),
        li(3, 11, 12, "\tlong *v = bpf_map_lookup_elem(&h, &key);"),
        li(6, 12, 9, "\treturn *v;"),
    ]
    .into();
    r
}

/// An acceptance: the same lookup with a NULL check, no line info.
pub(crate) fn accepted() -> ProgramResult {
    let mut r = base("xdp", "lookup_checked");
    let mut t = lookup_prefix();
    let value = "R0=map_value(map=h,ks=4,vs=8)";
    t.push(trace(
        6,
        "(15) if r0 == 0x0 goto pc+1",
        &format!("R0=map_value_or_null(id=1,map=h,ks=4,vs=8) {FP}"),
        &format!("{value} {FP}"),
    ));
    t.push(trace(7, "(79) r0 = *(u64 *)(r0 +0)", &format!("{value} {FP}"), &format!("R0=scalar() {FP}")));
    t.push(trace(8, "(b7) r0 = 0", &format!("R0=scalar() {FP}"), &format!("R0=0 {FP}")));
    t.push(trace(9, "(95) exit", &format!("R0=0 {FP}"), ""));
    r.insn_text = texts(&t, 10);
    r.trace = t;
    r.stats = Stats { insns: 10, processed: 10, node_visits: 4, insns_processed: 12, states: 5, blocks: 4, time: Duration::from_micros(2500), loops: Vec::new(), loop_bounds: Vec::new(), smt: None };
    r
}

/// A program that could not be analysed.
pub(crate) fn error() -> ProgramResult {
    let mut r = base("kprobe/sys_open", "broken");
    r.file = "tests/obj/broken.o".to_string();
    r.prog_type = "kprobe".to_string();
    r.verdict = Verdict::Error;
    r.error = Some("internal error: the analysis panicked".to_string());
    r.stats = Stats { insns: 4, ..Stats::default() };
    r
}

/// A file that failed to load.
pub(crate) fn load_errors() -> Vec<(String, String)> {
    vec![("tests/obj/missing file.o".to_string(), "cannot read tests/obj/missing file.o: No such file or directory".to_string())]
}
