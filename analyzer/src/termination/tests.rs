//! Loop termination on hand-written programs, with head invariants from the real fixpoint.

use super::*;
use crate::analysis::EbpfAnalysis;
use crate::cfg::{build_cfg, CfgConfig};
use crate::exec::Env;
use crate::fixpoint::{solve, Budget, WideningPolicy};
use crate::insn::{decode, parse_program, Operand};
use crate::prog_type::ProgType;
use lattices::Thresholds;

/// Runs decode, CFG, fixpoint (as `verify` does) and the termination check on `text`.
pub(crate) fn run(text: &str) -> (Vec<LoopResult>, Option<u64>) {
    let raw = parse_program(text).unwrap_or_else(|e| panic!("{e}"));
    let insns = decode(&raw).unwrap_or_else(|e| panic!("{e}"));
    let cfg = build_cfg(&insns, &CfgConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut consts: Vec<u64> = Vec::new();
    for i in &insns {
        if let Insn::Jmp {
            src: Operand::Imm(imm),
            ..
        }
        | Insn::Alu {
            src: Operand::Imm(imm),
            ..
        } = i
        {
            for d in [-1i64, 0, 1] {
                consts.push((*imm as i64).wrapping_add(d) as u64);
                consts.push(((*imm as i64).wrapping_add(d) as u32) as u64);
            }
        }
    }
    let analysis = EbpfAnalysis::new(
        Env::privileged(ProgType::Xdp, &[], &insns),
        &cfg,
        Thresholds::from_constants(consts),
    );
    let fix = solve(
        &cfg.graph,
        cfg.entry,
        &cfg.wto,
        &analysis,
        &WideningPolicy::default(),
        &Budget::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let results = check_loops(
        &insns,
        &cfg,
        &|n| fix.entry_of(n).cloned(),
        &TerminationConfig::default(),
    );
    let bound = longest_path_bound(&cfg, &results);
    (results, bound)
}

fn only(text: &str) -> LoopResult {
    let (r, _) = run(text);
    assert_eq!(r.len(), 1, "{r:?}");
    r.into_iter().next().expect("one loop")
}

fn iterations(r: &LoopResult) -> u64 {
    match r.outcome {
        LoopOutcome::Bounded { iterations } => iterations,
        ref o => panic!("expected a bounded loop, got {o:?} ({})", r.summary()),
    }
}

#[test]
fn count_up_with_lt() {
    let r = only(
        "r0 = 0
         r1 = 0
         r0 += r1
         r1 += 1
         if r1 < 16 goto pc-3
         exit",
    );
    assert_eq!(r.head_pc, 2);
    assert_eq!(r.pc_range, (2, 4));
    assert_eq!(iterations(&r), 16, "{}", r.summary());
    assert_eq!(r.method, "ranking");
    assert_eq!(
        r.summary(),
        format!(
            "loop at insn 2-4: at most 16 iterations, ranking function {}",
            r.ranking.clone().unwrap_or_default()
        )
    );
    assert!(r.rejection().is_none());
}

#[test]
fn count_up_with_ne() {
    let r = only(
        "r1 = 0
         r1 += 1
         if r1 != 16 goto pc-2
         r0 = 0
         exit",
    );
    assert_eq!(iterations(&r), 16, "{}", r.summary());
}

#[test]
fn count_up_with_jmp32() {
    let r = only(
        "w1 = 0
         w1 += 1
         if w1 < 100 goto pc-2
         r0 = 0
         exit",
    );
    assert_eq!(iterations(&r), 100, "{}", r.summary());
}

#[test]
fn count_down() {
    let r = only(
        "r1 = 10
         r1 -= 1
         if r1 != 0 goto pc-2
         r0 = 0
         exit",
    );
    assert_eq!(iterations(&r), 10, "{}", r.summary());
}

#[test]
fn count_down_signed() {
    let r = only(
        "r1 = 10
         r1 += -1
         if r1 s> 0 goto pc-2
         r0 = 0
         exit",
    );
    assert_eq!(iterations(&r), 10, "{}", r.summary());
}

#[test]
fn step_of_four() {
    let r = only(
        "r1 = 0
         r1 += 4
         if r1 < 64 goto pc-2
         r0 = 0
         exit",
    );
    assert_eq!(iterations(&r), 16, "{}", r.summary());
}

#[test]
fn top_tested_loop() {
    // while (i < 8) i += 3;  the test at the head, the back edge a goto.
    let r = only(
        "r1 = 0
         if r1 > 7 goto pc+2
         r1 += 3
         goto pc-3
         r0 = 0
         exit",
    );
    let n = iterations(&r);
    assert!((3..=5).contains(&n), "{}", r.summary());
}

#[test]
fn nested_loops_are_bounded_and_multiply() {
    let (results, bound) = run("r1 = 0
         r2 = 0
         r2 += 1
         if r2 < 8 goto pc-2
         r1 += 1
         if r1 < 4 goto pc-5
         r0 = 0
         exit");
    assert_eq!(results.len(), 2, "{results:?}");
    let outer = results
        .iter()
        .find(|r| r.head_pc == 1)
        .expect("outer loop at 1");
    let inner = results
        .iter()
        .find(|r| r.head_pc == 2)
        .expect("inner loop at 2");
    assert_eq!(iterations(inner), 8, "{}", inner.summary());
    assert_eq!(iterations(outer), 4, "{}", outer.summary());
    // 1 insn before, 2 after the loops; outer: 4 x (1 + 2 + 8 x 2).
    assert_eq!(bound, Some(3 + 4 * (3 + 16)));
}

#[test]
fn while_true_is_non_terminating() {
    let r = only(
        "r0 = 0
         goto pc-1",
    );
    assert_eq!(r.outcome, LoopOutcome::NonTerminating { witness_pc: 1 });
    assert_eq!(
        r.rejection().as_deref(),
        Some("infinite loop detected at insn 1")
    );
}

#[test]
fn until_random_zero_repeats_after_the_call() {
    let r = only(
        "call bpf_get_prandom_u32
         r0 <<= 32
         r0 >>= 32
         if r0 != 0 goto pc-4
         r0 = 2
         exit",
    );
    assert_eq!(
        r.outcome,
        LoopOutcome::NonTerminating { witness_pc: 1 },
        "{}",
        r.summary()
    );
}

#[test]
fn unknown_u32_bound_terminates_but_exceeds_the_budget() {
    let (results, bound) = run("r6 = *(u32 *)(r1 +12)
         r7 = 0
         r7 += 1
         if r7 < r6 goto pc-2
         r0 = 0
         exit");
    assert_eq!(results.len(), 1);
    let n = iterations(&results[0]);
    assert!(
        n > KERNEL_INSN_BUDGET && n <= (1u64 << 32) + 1,
        "{}",
        results[0].summary()
    );
    assert!(bound.is_some_and(|b| b > KERNEL_INSN_BUDGET), "{bound:?}");
    assert!(
        too_large_message(bound).starts_with("BPF program is too large. Processed 1000001 insn")
    );
}

#[test]
fn unknown_bound_with_32_bit_compare_uses_a_difference() {
    // for (u32 i = 0; i < n; i++) as clang emits it: a 64-bit counter compared on its low half.
    let r = only(
        "r6 = *(u32 *)(r1 +12)
         if r6 == 0 goto pc+7
         r7 = 0
         r7 += 1
         r1 = r7
         r1 <<= 32
         r1 >>= 32
         if r6 > r1 goto pc-5
         r0 = 0
         exit",
    );
    let n = iterations(&r);
    assert!(
        n > KERNEL_INSN_BUDGET && n <= (1u64 << 32) + 1,
        "{}",
        r.summary()
    );
}

#[test]
fn loop_at_program_entry_is_not_bounded_by_unrolling() {
    // The head is the entry block: no entry edge, so unrolling has no start states
    // (and must not conclude that no iteration runs).
    let r = only(
        "call bpf_get_prandom_u32
         r1 = 1
         if r0 != 0 goto pc-3
         exit",
    );
    assert!(
        matches!(r.outcome, LoopOutcome::NonTerminating { .. }),
        "{}",
        r.summary()
    );
}

#[test]
fn several_paths_bounded_by_unrolling() {
    // loop5.c from the kernel selftests: i += 3 or i += 7 until i is 9, 10, 13 or 14.
    let r = only(
        "w3 = 0
         goto pc+11
         w2 += w3
         w0 = 9
         if w2 == 9 goto pc+7
         w0 = 10
         if w2 == 10 goto pc+5
         w0 = 13
         if w2 == 13 goto pc+3
         w0 = 14
         w3 = w2
         if w2 != 14 goto pc+1
         exit
         r4 = *(u32 *)(r1 +0)
         w2 = 7
         if w4 == 0 goto pc-14
         w2 = 3
         goto pc-16",
    );
    let n = iterations(&r);
    assert!((3..=4).contains(&n), "{}", r.summary());
    assert!(matches!(r.method, "unrolling" | "ranking"), "{}", r.method);
}

#[test]
fn random_walk_is_unknown() {
    // r6 moves by +1 or -1 each iteration: no ranking function, never the same state twice.
    let r = only(
        "r6 = 0
         call bpf_get_prandom_u32
         r0 &= 1
         r6 += r0
         r6 += r0
         r6 += -1
         if r6 != 10 goto pc-6
         r0 = 0
         exit",
    );
    assert!(
        matches!(r.outcome, LoopOutcome::Unknown { .. }),
        "{}",
        r.summary()
    );
    let msg = r.rejection().expect("rejected");
    assert!(
        msg.starts_with("loop at insn 1-6: could not prove termination ("),
        "{msg}"
    );
    assert!(
        msg.ends_with("BPF program is too large. Processed 1000001 insn"),
        "{msg}"
    );
}

#[test]
fn spilled_counter_on_the_stack() {
    let r = only(
        "r1 = 0
         *(u64 *)(r10 -8) = r1
         r1 = *(u64 *)(r10 -8)
         r1 += 1
         *(u64 *)(r10 -8) = r1
         if r1 < 10 goto pc-4
         r0 = 0
         exit",
    );
    // The fixpoint's head invariant forgets the spilled counter's range (the slot is
    // widened to unknown); the bound comes from the counter's value on entry.
    assert_eq!(iterations(&r), 10, "{}", r.summary());
}

#[test]
fn spilled_u32_counter_with_a_helper_call() {
    // -O0 style: the counter lives in a u32 slot, the body calls a helper.
    let r = only(
        "w1 = 0
         *(u32 *)(r10 -4) = w1
         call bpf_get_prandom_u32
         w1 = *(u32 *)(r10 -4)
         w1 += 1
         *(u32 *)(r10 -4) = w1
         if w1 < 32 goto pc-5
         r0 = 0
         exit",
    );
    assert_eq!(iterations(&r), 32, "{}", r.summary());
}

#[test]
fn helper_writing_the_counter_slot_defeats_the_proof() {
    // bpf_probe_read_kernel(fp-8, 8, ...) overwrites the spilled counter every iteration.
    let r = only(
        "r1 = 0
         *(u64 *)(r10 -8) = r1
         r1 = r10
         r1 += -8
         r2 = 8
         r3 = 0
         call bpf_probe_read_kernel
         r1 = *(u64 *)(r10 -8)
         r1 += 1
         *(u64 *)(r10 -8) = r1
         if r1 < 10 goto pc-10
         r0 = 0
         exit",
    );
    assert!(
        !matches!(
            r.outcome,
            LoopOutcome::Bounded { .. } | LoopOutcome::Terminates
        ),
        "{}",
        r.summary()
    );
}

#[test]
fn loop_exit_on_first_iteration_has_no_back_edge() {
    // The back edge needs r1 == 5, which the invariant (r1 = 0) excludes.
    let r = only(
        "r1 = 0
         r1 += 0
         if r1 == 5 goto pc-2
         r0 = 0
         exit",
    );
    assert_eq!(
        r.outcome,
        LoopOutcome::Bounded { iterations: 1 },
        "{}",
        r.summary()
    );
    assert_eq!(r.method, "no-back-edge");
}

#[test]
fn longest_path_bound_without_loops_counts_every_block() {
    let (results, bound) = run("r0 = 0
         if r0 == 0 goto pc+1
         r0 = 1
         exit");
    assert!(results.is_empty());
    assert_eq!(bound, Some(4));
}
