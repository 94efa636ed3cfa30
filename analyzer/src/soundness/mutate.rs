//! Check-removal mutations: take a program the kernel accepts, remove one bounds or NULL check,
//! and see whether the analysis notices.
//!
//! A *check* is a conditional jump one of whose sides leads straight to an `exit` (at most eight
//! ALU, `LD_IMM64` or `ja` instructions, no memory access, call or further branch): the typical
//! `if (p == NULL) return 0;` or `if (data + 14 > data_end) return XDP_PASS;`. The mutation replaces
//! it by a jump that always goes to the other side and keeps the CFG intact (so the mutant is not
//! rejected merely for unreachable code): `if r10 != 0 goto <target>` (always taken: R10 is a
//! non-NULL stack pointer) when the fall-through side exits, `if r10 == 0 goto <target>` (never
//! taken) when the taken side exits. One mutation per such jump.
//!
//! [`check_mutations`] runs each mutant in the interpreter: a mutant that can fault must be
//! rejected by the analysis (a mutant that does not fault on the inputs tried may be accepted:
//! the removed check may have been redundant, or the inputs may miss the bad case).

use super::{input_for, input_seed};
use crate::insn::{decode, Insn, RawInsn, Reg};
use crate::interp::{run, FaultKind, InterpLimits, InterpProgram, Outcome};
use crate::object::Object;
use crate::verify::{verify_program, Config, Verdict};

/// `BPF_JMP | BPF_JEQ | BPF_K`.
const JEQ_K: u8 = 0x15;
/// `BPF_JMP | BPF_JNE | BPF_K`.
const JNE_K: u8 = 0x55;
/// Instructions followed from a side of a jump looking for `exit`.
const EXIT_LOOKAHEAD: usize = 8;

/// One removed check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mutation {
    /// The pc of the conditional jump that was replaced.
    pub pc: usize,
    /// True when the mutant always jumps (the fall-through side was the early exit).
    pub always_taken: bool,
    /// The mutated instructions.
    pub insns: Vec<RawInsn>,
}

impl Mutation {
    /// `obj` with program `index`'s instructions replaced by the mutant's.
    pub fn apply(&self, obj: &Object, index: usize) -> Object {
        let mut o = obj.clone();
        if let Some(p) = o.programs.get_mut(index) {
            p.insns = self.insns.clone();
        }
        o
    }

    /// `pc 12: if r1 > r2 goto pc+3 -> always taken`.
    pub fn describe(&self) -> String {
        format!("pc {}: {}", self.pc, if self.always_taken { "always taken" } else { "never taken" })
    }
}

/// Every check-removal mutation of `insns` (none when they do not decode).
pub fn bypass_mutations(insns: &[RawInsn]) -> Vec<Mutation> {
    let Ok(decoded) = decode(insns) else { return Vec::new() };
    let mut out = Vec::new();
    for (pc, insn) in decoded.iter().enumerate() {
        let Insn::Jmp { off, .. } = *insn else { continue };
        let Some(target) = insn.jump_target(pc).and_then(|t| usize::try_from(t).ok()) else { continue };
        let taken_exits = leads_to_exit(&decoded, target);
        let fall_exits = leads_to_exit(&decoded, pc + 1);
        if taken_exits == fall_exits {
            continue;
        }
        let always_taken = fall_exits;
        let mut m = insns.to_vec();
        let Some(slot) = m.get_mut(pc) else { continue };
        *slot = RawInsn { code: if always_taken { JNE_K } else { JEQ_K }, dst: Reg::FP.0, src: 0, off, imm: 0 };
        out.push(Mutation { pc, always_taken, insns: m });
    }
    out
}

/// Whether straight-line code from `pc` reaches `exit` within [`EXIT_LOOKAHEAD`] instructions
/// without touching memory, calling or branching.
fn leads_to_exit(insns: &[Insn], mut pc: usize) -> bool {
    for _ in 0..EXIT_LOOKAHEAD {
        match insns.get(pc) {
            Some(Insn::Exit) => return true,
            Some(Insn::Alu { .. } | Insn::Endian { .. }) => pc += 1,
            Some(Insn::LdImm64 { .. }) => pc += 2,
            Some(i @ Insn::Ja { .. }) => match i.jump_target(pc).and_then(|t| usize::try_from(t).ok()) {
                Some(t) => pc = t,
                None => return false,
            },
            _ => return false,
        }
    }
    false
}

/// What happened to one mutant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MutationResult {
    pub mutation: Mutation,
    /// The first faulting run's outcome (`ResourceLimit` faults are ignored), if any run faulted.
    pub fault: Option<Outcome>,
    /// The analysis' verdict on the mutant.
    pub verdict: Verdict,
    /// The analysis' first diagnostic, for reports.
    pub message: Option<String>,
}

impl MutationResult {
    /// A mutant that can fault and was accepted: a soundness bug.
    pub fn unsound(&self) -> bool {
        self.fault.is_some() && self.verdict == Verdict::Accepted
    }
}

/// Every mutation of program `index` of `obj`, each run on `inputs` inputs and verified.
pub fn check_mutations(obj: &Object, index: usize, inputs: usize, seed: u64, config: &Config) -> Vec<MutationResult> {
    let Some(prog) = obj.programs.get(index) else { return Vec::new() };
    let limits = InterpLimits { max_steps: 100_000, ..InterpLimits::default() };
    let mut out = Vec::new();
    for mutation in bypass_mutations(&prog.insns) {
        let mobj = mutation.apply(obj, index);
        let fault = mobj.programs.get(index).and_then(|p| InterpProgram::from_object(&mobj, p).ok()).and_then(|ip| {
            (0..inputs).find_map(|i| {
                let input = input_for(&ip, input_seed(seed, i));
                match run(&ip, &input, &limits).outcome {
                    o @ Outcome::Fault { kind, .. } if kind != FaultKind::ResourceLimit => Some(o),
                    _ => None,
                }
            })
        });
        let res = verify_program(&mobj, index, config);
        let message = res.diagnostics.first().map(|d| d.message.clone());
        out.push(MutationResult { mutation, fault, verdict: res.verdict, message });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::parse_program;

    #[test]
    fn a_null_check_is_bypassed_and_the_mutant_rejected() {
        // r0 = *(u64 *)map_lookup(...); with `if r0 == 0 goto exit`.
        let text = "\
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[idx:0]
call 1
if r0 == 0 goto pc+2
r0 = *(u32 *)(r0 +0)
exit
r0 = 0
exit
";
        let insns = parse_program(text).expect("parses");
        let ms = bypass_mutations(&insns);
        assert_eq!(ms.len(), 1, "{ms:?}");
        let m = &ms[0];
        assert_eq!(m.pc, 7);
        assert!(!m.always_taken);
        assert_eq!(m.insns[7].code, JEQ_K);
        assert_eq!(m.insns[7].dst, 10);
        assert_eq!(m.insns[7].off, insns[7].off);
        assert_eq!(m.insns.len(), insns.len());
        assert!(m.describe().contains("never taken"));
    }

    #[test]
    fn jumps_without_an_early_exit_side_are_left_alone() {
        let text = "\
r0 = 0
if r1 > 3 goto pc+1
r0 = 1
r2 = r10
exit
";
        let insns = parse_program(text).expect("parses");
        // Both sides reach exit straight away: nothing to bypass.
        assert!(bypass_mutations(&insns).is_empty());
        let text = "\
r0 = 0
if r1 > 3 goto pc+2
r0 = 1
exit
r2 = *(u64 *)(r1 +0)
exit
";
        let insns = parse_program(text).expect("parses");
        let ms = bypass_mutations(&insns);
        assert_eq!(ms.len(), 1);
        assert!(ms[0].always_taken);
        assert_eq!(ms[0].insns[1].code, JNE_K);
    }
}
