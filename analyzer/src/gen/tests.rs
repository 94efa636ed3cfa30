//! Generator tests: determinism, decodability, CFG shape, and runs in the interpreter.

use super::*;
use crate::insn::decode;
use crate::interp::{random_input_for, run, FaultKind, InterpLimits, Outcome};

#[test]
fn same_seed_same_program() {
    let cfg = GenConfig::default();
    for seed in 0..50 {
        assert_eq!(generate(seed, &cfg), generate(seed, &cfg));
    }
    assert_ne!(generate(1, &cfg).insns, generate(2, &cfg).insns);
}

#[test]
fn every_program_decodes_and_is_cfg_valid() {
    let cfg = GenConfig::default();
    for seed in 0..1000 {
        let p = generate(seed, &cfg);
        let insns = decode(&p.insns).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(matches!(insns.last(), Some(Insn::Exit)), "seed {seed}: ends in exit");
        // Every jump lands inside the program on a real instruction; every call on a function start.
        for (pc, insn) in insns.iter().enumerate() {
            if let Some(t) = insn.jump_target(pc) {
                assert!(t >= 0 && (t as usize) < insns.len(), "seed {seed}: jump at {pc} to {t}");
                assert_ne!(insns[t as usize], Insn::LdImm64Tail);
            }
        }
        // Reachability by a simple worklist over the CFG (calls also fall through).
        let mut seen = vec![false; insns.len()];
        let mut work = vec![0usize];
        while let Some(pc) = work.pop() {
            if pc >= insns.len() || seen[pc] {
                continue;
            }
            seen[pc] = true;
            match insns[pc] {
                Insn::Exit => {}
                Insn::Ja { .. } => work.push(insns[pc].jump_target(pc).unwrap_or(0) as usize),
                Insn::Jmp { .. } => {
                    work.push(insns[pc].jump_target(pc).unwrap_or(0) as usize);
                    work.push(pc + 1);
                }
                Insn::Call(crate::insn::CallTarget::Local(imm)) => {
                    work.push((pc as i64 + 1 + i64::from(imm)) as usize);
                    work.push(pc + 1);
                }
                Insn::LdImm64 { .. } => work.push(pc + 2),
                _ => work.push(pc + 1),
            }
        }
        for (pc, insn) in insns.iter().enumerate() {
            assert!(seen[pc] || *insn == Insn::LdImm64Tail, "seed {seed}: pc {pc} unreachable");
        }
    }
}

#[test]
fn programs_run_without_step_limit_and_fault_only_by_design() {
    let cfg = GenConfig::default();
    let limits = InterpLimits { max_steps: 200_000, ..InterpLimits::default() };
    let mut exits = 0;
    for seed in 0..1000 {
        let p = generate(seed, &cfg).to_interp().expect("decodes");
        let mut rng = Rng::new(seed);
        let input = random_input_for(&p, &mut rng);
        let e = run(&p, &input, &limits);
        match e.outcome {
            Outcome::StepLimit => panic!("seed {seed}: step limit"),
            Outcome::Exit(_) => exits += 1,
            // Only the unsafe variants may fault, and only in the ways they are built to.
            Outcome::Fault { kind, ref message, pc } => assert!(
                matches!(kind, FaultKind::NullDeref | FaultKind::OutOfBounds),
                "seed {seed}: unexpected fault at {pc}: {kind:?} {message}"
            ),
        }
    }
    assert!(exits > 700, "exits: {exits}");
    // Big programs with deep nesting still terminate quickly and only fault by design.
    let big = GenConfig { max_snippets: 80, max_depth: 6, max_insns: 2000, ..GenConfig::default() };
    for seed in 0..200 {
        let p = generate(seed, &big).to_interp().expect("decodes");
        let input = random_input_for(&p, &mut Rng::new(seed));
        let e = run(&p, &input, &limits);
        assert!(e.steps < 100_000, "seed {seed}: {} steps", e.steps);
        if let Outcome::Fault { kind, .. } = e.outcome {
            assert!(matches!(kind, FaultKind::NullDeref | FaultKind::OutOfBounds), "seed {seed}: {}", e.outcome);
        }
    }
}

#[test]
fn safe_programs_never_fault_even_with_unprivileged_rules() {
    let cfg = GenConfig { fault_percent: 0, ..GenConfig::default() };
    let limits = InterpLimits { allow_uninit_stack: false, allow_ptr_leaks: false, ..InterpLimits::default() };
    for seed in 0..1000 {
        let p = generate(seed, &cfg).to_interp().expect("decodes");
        let mut rng = Rng::new(seed ^ 0xabc);
        for _ in 0..3 {
            let input = random_input_for(&p, &mut rng);
            let e = run(&p, &input, &limits);
            assert!(matches!(e.outcome, Outcome::Exit(_)), "seed {seed}: {}", e.outcome);
        }
    }
}

#[test]
fn programs_cover_the_advertised_features() {
    use crate::insn::{AtomicOp, CallTarget, Endian, JmpCond, Size};
    let cfg = GenConfig::default();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..300 {
        let p = generate(seed, &cfg);
        for insn in decode(&p.insns).expect("decodes") {
            let tag = match insn {
                Insn::Alu { op: AluOp::SDiv | AluOp::SMod, .. } => "sdiv/smod",
                Insn::Alu { op: AluOp::MovSx(_), .. } => "movsx",
                Insn::Alu { width: Width::W32, .. } => "alu32",
                Insn::Endian { kind: Endian::Swap, .. } => "bswap",
                Insn::Jmp { width: Width::W32, .. } => "jmp32",
                Insn::Jmp { off, .. } if off < 0 => "loop",
                Insn::Jmp { cond: JmpCond::Gt, src: Operand::Reg(Reg(3)), .. } => "pkt check",
                Insn::Call(CallTarget::Helper(1)) => "map lookup",
                Insn::Call(CallTarget::Local(_)) => "bpf-to-bpf call",
                Insn::Atomic { op: AtomicOp::CmpXchg, .. } => "cmpxchg",
                Insn::Ldx { sign_ext: true, .. } => "ldsx",
                Insn::Stx { size: Size::DW, dst: Reg::FP, .. } => "spill",
                Insn::LdImm64 { .. } => "ld_imm64",
                _ => continue,
            };
            seen.insert(tag);
        }
    }
    for tag in [
        "sdiv/smod",
        "movsx",
        "alu32",
        "bswap",
        "jmp32",
        "loop",
        "pkt check",
        "map lookup",
        "bpf-to-bpf call",
        "cmpxchg",
        "ldsx",
        "spill",
        "ld_imm64",
    ] {
        assert!(seen.contains(tag), "never generated: {tag}");
    }
}
