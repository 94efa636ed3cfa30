//! `bpfcheck prove-domains` end to end: the quick subset of the domain
//! soundness proofs must come out `Proved` (release mode: about 30 s on 2
//! cores, one parallel run; `tnum.mul` is the 64-bit induction proof,
//! `scalar.mul.w32` a composition of proved lines), and the report must say
//! so line by line.

use analyzer::smt::prove_domains::{prove_named, render, Outcome};

#[test]
fn quick_subset_is_proved() {
    let names = [
        "tnum.add",
        "tnum.sub",
        "tnum.and",
        "tnum.or",
        "tnum.xor",
        "tnum.lshift",
        "tnum.rshift",
        "tnum.arshift64",
        "tnum.intersect",
        "tnum.union",
        "tnum.mul",
        "tnum.mul_cgo",
        "tnum.lshift_by.w32",
        "tnum.arshift_by.w64",
        "interval.u64.add",
        "interval.s32.sub",
        "interval.s64.and",
        "interval.s64.neg",
        "interval.u64.mod",
        "interval.u32.div",
        "interval.u64.mul",
        "interval.s64.smod",
        "interval.u32.rsh",
        "interval.s32.sext8",
        "scalar.bswap64",
        "outcome.slt.w64",
        "outcome.eq.w32",
        "refine.sle.w32.taken",
        "scalar.mul.w32",
    ];
    // one run: `scalar.sync` (which the scalar lines and the refinement
    // assume) and the lines `scalar.mul.w32` assumes come along once
    let rs = prove_named(&names, 60_000);
    let report = render(&rs);
    for n in names.iter().chain(&[
        "scalar.sync",
        "tnum.mul_best",
        "interval.s32.mul",
        "lemma.mul_low32",
    ]) {
        assert!(rs.iter().any(|r| r.op == *n), "{n} missing\n{report}");
    }
    for r in &rs {
        assert_eq!(r.outcome, Outcome::Proved, "{}\n{report}", r.op);
    }
    assert!(
        report.contains(&format!("{:<30}proved", "tnum.add")),
        "{report}"
    );
    assert!(report.ends_with(&format!(
        "{} proved, 0 counterexamples, 0 timeouts, 0 not encoded\n",
        rs.len()
    )));
}
