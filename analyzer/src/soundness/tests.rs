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

/// A concrete before-state without stack contents.
fn at(depth: usize, regs: &[ConcreteValue; 11]) -> Concrete<'_> {
    Concrete { depth, regs, stacks: None }
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
    let v = check_step(&inv, 1, &at(0, &regs), &cx, 7).expect("R0=5 is not in [0, 4]");
    assert_eq!((v.pc, v.reg, v.seed), (1, Some(0), 7));
    assert_eq!(v.concrete, "0x5");
    // A second member that contains it makes the state contained.
    let mut t = s.clone();
    t.set_reg(crate::insn::Reg::R0, RegState::Scalar(Scalar::constant(5)));
    let mut set = StateSet::single(s);
    set.add(t);
    assert_eq!(check_step(&[None, Some(set)], 1, &at(0, &regs), &cx, 7), None);
    // An unreachable pc.
    let v = check_step(&inv, 0, &at(0, &regs), &cx, 7).expect("pc 0 has no invariant");
    assert_eq!(v.abstract_, "unreachable");
    // Wrong depth.
    let v = check_step(&inv, 1, &at(1, &regs), &cx, 7).expect("depth 1 vs 0");
    assert_eq!(v.reg, None);
    // A stack slot the invariant knows (fp-8 spilled 5) against a frame holding 6 there.
    let mut k = AbsState::entry();
    k.frames[0].stack.slots.insert(-1, crate::state::stack::StackSlot::Spill(RegState::constant(5)));
    let inv = vec![None, Some(StateSet::single(k))];
    let mut snap = crate::interp::StackSnapshot::empty();
    snap.write_for_test(-8, &6u64.to_le_bytes());
    let stacks = [snap.clone()];
    let c = Concrete { depth: 0, regs: &entry_regs(), stacks: Some(&stacks) };
    let v = check_step(&inv, 1, &c, &cx, 7).expect("6 is not the spilled 5");
    assert_eq!((v.reg, v.stack), (None, Some((0, -8))));
    snap.write_for_test(-8, &5u64.to_le_bytes());
    let stacks = [snap];
    let c = Concrete { depth: 0, regs: &entry_regs(), stacks: Some(&stacks) };
    assert_eq!(check_step(&inv, 1, &c, &cx, 7), None);
}

/// A program that spills, narrows and zeroes stack bytes is checked on its stack at every step,
/// and its traces carry the stack contents.
#[test]
fn stack_contents_are_checked_in_runs() {
    let obj = object_from_text(
        "r1 = 7\n*(u64 *)(r10 -8) = r1\n*(u8 *)(r10 -12) = r1\nr2 = 0\n*(u32 *)(r10 -16) = r2\n\
         *(u64 *)(r10 -24) = r10\nr0 = *(u64 *)(r10 -8)\nexit\n",
    );
    let r = check_program(&obj, 0, 3, 0);
    assert_eq!(r.verdict, Verdict::Accepted);
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    let ip = InterpProgram::from_object(&obj, &obj.programs[0]).expect("decodes");
    let limits = InterpLimits { record_trace: true, record_stack: true, ..InterpLimits::default() };
    let exec = run(&ip, &input_for(&ip, 0), &limits);
    let last = exec.trace.last().and_then(|t| t.stacks.clone()).expect("stacks recorded");
    let frame = last.first().expect("frame 0");
    assert_eq!(frame.load8(-8), Some(ConcreteValue::Scalar(7)));
    assert_eq!(frame.byte(-12), Some(7));
    assert_eq!(frame.read_le(-16, 4), Some(0));
    assert_eq!(frame.load8(-24), Some(ConcreteValue::Ptr { region: Region::Stack { frame: 0 }, off: 0 }));
    // Steps that do not write the stack share the previous copy.
    let (a, b) = (exec.trace[6].stacks.clone(), exec.trace[7].stacks.clone());
    assert!(a.zip(b).is_some_and(|(a, b)| std::sync::Arc::ptr_eq(&a, &b)));
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

/// Found by the stack-aware run (`soundness --programs 2000 --inputs 20`, gen_1006 pc 126): two
/// packet pointers with the same id and different fixed offsets (`data + 2`, `data + 60`) joined
/// into `data + [2, 60]` keep id 0, so the joined pointer inherits the range proven for `data`
/// itself, while the kernel's (and the access check's) range is relative to the pointer's own
/// variable part. The analysis then accepts `*(u8 *)(r4 + 50)` with r=64 although `data + 110`
/// is past the 64 proven bytes. Fix (state/reg.rs `RegState::combine`, owned by the state
/// module): a join of packet pointers whose ids or fixed offsets differ gets `STALE_ID`.
#[test]
fn joined_packet_pointers_do_not_inherit_the_data_range() {
    let obj = object_from_text(
        "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr5 = *(u32 *)(r1 +12)\nr4 = r2\nr4 += 64\n\
         if r4 > r3 goto pc+8\nr4 = r2\nr4 += 2\nif r5 == 0 goto pc+2\nr4 = r2\nr4 += 60\n\
         r0 = *(u8 *)(r4 +50)\nr0 = 0\nexit\nr0 = 0\nexit\n",
    );
    let r = check_program(&obj, 0, 40, 3);
    assert_ne!(r.verdict, Verdict::Accepted, "data + [2, 60] + 50 is not within the 64 proven bytes");
    assert_eq!(r.bug_count(), 0, "{:?} {:?}", r.violations, r.faults_in_accepted);
}
