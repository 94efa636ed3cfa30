//! Soundness-checker tests: generated programs check clean, and a wrong invariant, an
//! unreachable pc and a faulting rejected program are reported as they should be.

use super::*;
use crate::gen::{generate, GenConfig};
use crate::insn::parse_program;
use crate::state::{AbsState, RegState};
use lattices::Scalar;

fn object_from_text(text: &str) -> Object {
    let gp = crate::gen::GeneratedProgram {
        insns: parse_program(text).expect("parses"),
        prog_type: crate::prog_type::ProgType::Xdp,
        maps: generate(1, &GenConfig::default()).maps,
    };
    object_for_generated(&gp, "t")
}

#[test]
fn generated_programs_have_no_violations() {
    let cfg = GenConfig::default();
    let mut executions = 0;
    let mut steps = 0;
    let mut rejected = 0;
    for seed in 0..40 {
        let obj = object_for_generated(&generate(seed, &cfg), &format!("gen_{seed}"));
        let r = check_program(&obj, 0, 4, seed);
        assert_eq!(r.error, None);
        assert!(r.violations.is_empty(), "seed {seed}: {:?}", r.violations);
        assert!(r.faults_in_accepted.is_empty(), "seed {seed}: {:?}", r.faults_in_accepted);
        executions += r.executions;
        steps += r.steps_checked;
        rejected += usize::from(r.verdict == Verdict::Rejected);
    }
    assert_eq!(executions, 160);
    assert!(steps > 1000, "steps checked: {steps}");
    assert!(rejected < 40, "some generated programs are accepted");
}

#[test]
fn a_wrong_invariant_is_a_violation() {
    let regs = {
        let mut r = entry_regs();
        r[0] = ConcreteValue::Scalar(5);
        r
    };
    let cx = ConcreteContext { packet_len: 0, object_maps: 0 };
    let mut s = AbsState::entry();
    s.set_reg(crate::insn::Reg::R0, RegState::Scalar(Scalar::from_urange(0, 4)));
    let inv = vec![None, Some(StateSet::single(s.clone()))];
    let v = check_step(&inv, 1, 0, &regs, &cx, 7).expect("R0=5 is not in [0, 4]");
    assert_eq!((v.pc, v.reg, v.seed), (1, Some(0), 7));
    assert_eq!(v.concrete, "0x5");
    // A second member that contains it makes the state contained.
    let mut t = s.clone();
    t.set_reg(crate::insn::Reg::R0, RegState::Scalar(Scalar::constant(5)));
    let mut set = StateSet::single(s);
    set.add(t);
    assert_eq!(check_step(&[None, Some(set)], 1, 0, &regs, &cx, 7), None);
    // An unreachable pc.
    let v = check_step(&inv, 0, 0, &regs, &cx, 7).expect("pc 0 has no invariant");
    assert_eq!(v.abstract_, "unreachable");
    // Wrong depth.
    let v = check_step(&inv, 1, 1, &regs, &cx, 7).expect("depth 1 vs 0");
    assert_eq!(v.reg, None);
}

#[test]
fn a_missing_null_check_faults_and_is_rejected() {
    let obj = object_from_text(
        "r1 = 0\n*(u32 *)(r10 -4) = r1\nr2 = r10\nr2 += -4\nr1 = map[idx:0]\ncall 1\nr0 = *(u32 *)(r0 +0)\nr0 = 0\nexit\n",
    );
    let r = check_program(&obj, 0, 30, 1);
    assert_eq!(r.verdict, Verdict::Rejected);
    assert_eq!(r.executions, 30);
    assert!(r.faulting_runs > 0, "some lookup misses");
    assert!(r.faults_in_accepted.is_empty());
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    assert_eq!(r.bug_count(), 0);
}

#[test]
fn an_accepted_program_is_checked_at_every_step() {
    let obj = object_from_text("r0 = 1\nr0 += 2\nif r0 > 2 goto pc+1\nr0 = 0\nexit\n");
    let r = check_program(&obj, 0, 3, 0);
    assert_eq!(r.verdict, Verdict::Accepted);
    assert_eq!(r.steps_checked, 3 * 4);
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    assert_eq!(input_seed(0, 0), input_seed(0, 0));
    assert_ne!(input_seed(0, 0), input_seed(0, 1));
}
