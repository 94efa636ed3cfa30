//! `bpfcheck prove-domains` end to end: the quick subset of the domain
//! soundness proofs must come out `Proved` (release mode: about 30 s on 2
//! cores; `tnum.mul` is the 64-bit induction proof), and the report must say so line by line.

use analyzer::smt::prove_domains::{prove_all, render, Outcome, ProofResult};

/// The results for exactly these operations (one `prove_all` call each).
fn prove(names: &[&str]) -> Vec<ProofResult> {
    let mut out = Vec::new();
    for n in names {
        let rs = prove_all(Some(n), 60_000);
        out.extend(rs.into_iter().filter(|r| r.op == *n));
    }
    out
}

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
    ];
    let rs = prove(&names);
    assert_eq!(rs.len(), names.len());
    let report = render(&rs);
    for r in &rs {
        assert_eq!(r.outcome, Outcome::Proved, "{}\n{report}", r.op);
    }
    assert!(
        report.contains(&format!("{:<30}proved", "tnum.add")),
        "{report}"
    );
    assert!(report.ends_with(&format!(
        "{} proved, 0 counterexamples, 0 timeouts, 0 not encoded\n",
        names.len()
    )));
}

#[test]
fn sync_and_a_refinement_are_proved() {
    // the refinement is proved with sync as a lemma, which comes along
    let rs = prove_all(Some("refine.sle.w32.taken"), 60_000);
    let ops: Vec<&str> = rs.iter().map(|r| r.op.as_str()).collect();
    assert_eq!(ops, ["scalar.sync", "refine.sle.w32.taken"]);
    for r in &rs {
        assert_eq!(r.outcome, Outcome::Proved, "{}", render(&rs));
    }
}
