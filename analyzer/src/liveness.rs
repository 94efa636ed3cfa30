//! Register liveness: which of R0-R9 may be read before being written, per pc.
//!
//! A backward may-analysis over the instruction graph of each function (calls step
//! over to the next instruction, reading the argument registers and clobbering
//! R0-R5). The analysis forgets dead registers at block entries (sets them to
//! NOT_INIT), as the kernel's state pruning ignores them: states that differ only in
//! dead registers then join, which keeps the disjunctive domain small and precise.
//! Soundness does not depend on it: a register wrongly considered dead would be read
//! as NOT_INIT and rejected (`R%d !read_ok`), never accepted.

use crate::abi::helpers::{helper_proto, ArgKind};
use crate::insn::{AtomicOp, CallTarget, Insn, Operand, Reg};

/// Bit i set: register Ri is live.
pub type RegMask = u16;

const ARGS: RegMask = 0b11_1110; // R1-R5
const CLOBBERED: RegMask = 0b11_1111; // R0-R5

pub(crate) fn bit(r: Reg) -> RegMask {
    if r.0 < 10 {
        1 << r.0
    } else {
        0
    }
}

/// Registers read and written by one instruction.
pub(crate) fn uses_defs(insn: &Insn) -> (RegMask, RegMask) {
    let op = |o: &Operand| match o {
        Operand::Reg(r) => bit(*r),
        Operand::Imm(_) => 0,
    };
    match insn {
        Insn::Alu { op: crate::insn::AluOp::Mov | crate::insn::AluOp::MovSx(_), dst, src, .. } => (op(src), bit(*dst)),
        Insn::Alu { dst, src, .. } => (bit(*dst) | op(src), bit(*dst)),
        Insn::Endian { dst, .. } => (bit(*dst), bit(*dst)),
        Insn::Ja { .. } | Insn::LdImm64Tail => (0, 0),
        Insn::Jmp { dst, src, .. } => (bit(*dst) | op(src), 0),
        Insn::Call(CallTarget::Helper(id)) => {
            let n = helper_proto(*id)
                .map(|p| p.args.iter().take(5).rposition(|a| *a != ArgKind::DontCare).map_or(0, |i| i + 1))
                .unwrap_or(5);
            (((1u16 << n) - 1) << 1, CLOBBERED)
        }
        Insn::Call(_) => (ARGS, CLOBBERED),
        Insn::Exit => (1, 0),
        Insn::LdImm64 { dst, .. } => (0, bit(*dst)),
        Insn::Ldx { dst, src, .. } => (bit(*src), bit(*dst)),
        Insn::St { dst, .. } => (bit(*dst), 0),
        Insn::Stx { dst, src, .. } => (bit(*dst) | bit(*src), 0),
        Insn::Atomic { op, fetch, dst, src, .. } => {
            let mut uses = bit(*dst) | bit(*src);
            let mut defs = 0;
            match op {
                AtomicOp::CmpXchg => {
                    uses |= 1;
                    defs |= 1;
                }
                AtomicOp::Xchg => defs |= bit(*src),
                _ if *fetch => defs |= bit(*src),
                _ => {}
            }
            (uses, defs)
        }
        Insn::LdAbs { .. } => (bit(Reg::R6), CLOBBERED),
        Insn::LdInd { src, .. } => (bit(Reg::R6) | bit(*src), CLOBBERED),
    }
}

/// Successor pcs of one instruction within its function.
pub(crate) fn successors(insns: &[Insn], pc: usize) -> [Option<usize>; 2] {
    let next = |n: usize| if n < insns.len() { Some(n) } else { None };
    match insns[pc] {
        Insn::Exit => [None, None],
        Insn::Ja { .. } => [insns[pc].jump_target(pc).and_then(|t| usize::try_from(t).ok()).and_then(next), None],
        Insn::Jmp { .. } => {
            [next(pc + 1), insns[pc].jump_target(pc).and_then(|t| usize::try_from(t).ok()).and_then(next)]
        }
        Insn::LdImm64 { .. } => [next(pc + 2), None],
        _ => [next(pc + 1), None],
    }
}

/// Live-in register mask of every pc (R10 is never included: it is always live).
pub fn live_in(insns: &[Insn]) -> Vec<RegMask> {
    let n = insns.len();
    let ud: Vec<(RegMask, RegMask)> = insns.iter().map(uses_defs).collect();
    let mut live = vec![0 as RegMask; n];
    // Iterate to the fixpoint; backwards order converges in few rounds.
    loop {
        let mut changed = false;
        for pc in (0..n).rev() {
            let mut out: RegMask = 0;
            for s in successors(insns, pc).into_iter().flatten() {
                out |= live[s];
            }
            let (u, d) = ud[pc];
            let inn = u | (out & !d);
            if inn != live[pc] {
                live[pc] = inn;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    live
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::{decode, parse_program};

    fn live(text: &str) -> Vec<RegMask> {
        live_in(&decode(&parse_program(text).unwrap()).unwrap())
    }

    #[test]
    fn straight_line() {
        let l = live("r1 = 1\nr2 = r1\nr0 = r2\nexit");
        assert_eq!(l, vec![0, 0b10, 0b100, 0b1]);
    }

    #[test]
    fn branch_keeps_both_sides_live() {
        // r3 is read only on the taken side; it is live before the branch.
        let l = live("if r1 > 2 goto pc+2\nr0 = 0\nexit\nr0 = r3\nexit");
        assert_eq!(l[0], 0b1010);
        assert_eq!(l[1], 0);
    }

    #[test]
    fn helper_reads_only_its_arguments() {
        // bpf_ktime_get_ns#5 takes no argument: R1-R5 are dead before it.
        let l = live("call bpf_ktime_get_ns#5\nexit");
        assert_eq!(l[0], 0);
        // bpf_map_lookup_elem#1 reads R1 and R2.
        let l = live("call bpf_map_lookup_elem#1\nexit");
        assert_eq!(l[0], 0b110);
    }

    #[test]
    fn loop_carries_liveness() {
        let l = live("r1 = 0\nr1 += 1\nif r1 < 10 goto pc-2\nr0 = 0\nexit");
        assert_eq!(l[1], 0b10);
        assert_eq!(l[2], 0b10);
    }
}
