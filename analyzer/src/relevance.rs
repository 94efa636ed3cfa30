//! Value relevance: which of R0-R9 may have their *value* matter later, per pc.
//!
//! `StateSet` keeps states apart by the small constants and zero classes of their
//! scalar registers (`ShapeDetail::Constants`): `off = c ? 38 : 22` stays two paths,
//! as in the kernel. That is only worth its cost for a register whose value can
//! still decide something: a memory access, pointer arithmetic, a branch, a helper
//! or function argument, the return value. A backward may-analysis (like
//! `liveness`, of which it is a subset) marks a register relevant when
//! - it is read by a conditional jump, a call (its arguments), `exit` (R0, when
//!   the program type restricts the return value or the exit is a subprogram's),
//!   or as the address of a load, store or atomic;
//! - it is the source of `mov`, `add` or `sub` whose destination is relevant (copies
//!   and offset arithmetic: `ptr += off`), or the destination of any ALU operation
//!   that is relevant after it;
//! - it is spilled with `*(r10 + off) = rX` to a stack slot that a later fill
//!   `rY = *(r10 + off)` reads into a relevant register.
//!
//! Not relevant: the source operand of bitwise, multiply, divide and shift
//! operations (`r3 >>= r2` with `r2 = c ? 16 : 0`: the kernel's precision tracking
//! does not mark `r2` either unless a branch is decided by it), and values stored to
//! non-stack memory. States differing only in irrelevant registers' constants are
//! joined. Soundness does not depend on this: joining is always sound; only
//! precision (and the number of disjuncts) does.

use crate::insn::{AluOp, CallTarget, Insn, LdImm64Src, Operand, Reg};
use crate::liveness::{bit, successors, uses_defs, RegMask};

/// Relevant registers and stack slots before one instruction.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct Relevant {
    regs: RegMask,
    /// Bit i: the 8-byte stack slot at `r10 - 512 + 8 * i` (current frame).
    slots: u64,
}

/// The 8-byte stack slots an access of `size` bytes at `r10 + off` touches.
fn slot_bits(off: i16, size: u32) -> u64 {
    let lo = off as i32 + 512;
    let hi = lo + size as i32 - 1;
    if lo < 0 || hi >= 512 {
        return 0;
    }
    let (a, b) = (lo / 8, hi / 8);
    let mut m = 0u64;
    for i in a..=b {
        m |= 1 << i;
    }
    m
}

/// Relevance before `insn`, given relevance after it. `exit_value_matters`: whether
/// this instruction, if an `exit`, is checked for R0's value.
fn transfer(insn: &Insn, out: Relevant, exit_value_matters: bool) -> Relevant {
    let rel = |r: Reg| out.regs & bit(r) != 0;
    let op_bit = |o: &Operand| match o {
        Operand::Reg(r) => bit(*r),
        Operand::Imm(_) => 0,
    };
    let mut r = out;
    match insn {
        Insn::Alu { op, dst, src, .. } => {
            let d = rel(*dst);
            r.regs &= !bit(*dst);
            match op {
                AluOp::Mov | AluOp::MovSx(_) => {
                    if d {
                        r.regs |= op_bit(src);
                    }
                }
                AluOp::Add | AluOp::Sub => {
                    if d {
                        r.regs |= bit(*dst) | op_bit(src);
                    }
                }
                _ => {
                    if d {
                        r.regs |= bit(*dst);
                    }
                }
            }
        }
        // dst := swap(dst): relevant before iff after.
        Insn::Endian { .. } => {}
        Insn::Ldx { size, dst, src, off, .. } => {
            let d = rel(*dst);
            r.regs &= !bit(*dst);
            r.regs |= bit(*src);
            if d && *src == Reg::FP {
                r.slots |= slot_bits(*off, size.bytes());
            }
        }
        Insn::Stx { size, dst, src, off } => {
            r.regs |= bit(*dst);
            if *dst == Reg::FP {
                let s = slot_bits(*off, size.bytes());
                if out.slots & s != 0 {
                    r.regs |= bit(*src);
                }
                if size.bytes() == 8 && off % 8 == 0 {
                    r.slots &= !s;
                }
            }
        }
        Insn::St { dst, .. } => r.regs |= bit(*dst),
        // The main program's exit when its type allows any return value: only R0's
        // kind is checked (a scalar), and kinds are keyed anyway.
        Insn::Exit if !exit_value_matters => r.regs = 0,
        // Everything else: every register it reads is relevant (jumps, calls, exit,
        // atomics, legacy packet loads), every register it writes is redefined.
        Insn::Call(_)
        | Insn::Exit
        | Insn::Jmp { .. }
        | Insn::Atomic { .. }
        | Insn::LdAbs { .. }
        | Insn::LdInd { .. }
        | Insn::LdImm64 { .. }
        | Insn::Ja { .. }
        | Insn::LdImm64Tail => {
            let (u, d) = uses_defs(insn);
            r.regs = (r.regs & !d) | u;
        }
    }
    r
}

/// Where the main program's instructions end: the first subprogram (a bpf-to-bpf call
/// target or a `BPF_PSEUDO_FUNC` callback), or the end.
fn main_end(insns: &[Insn]) -> usize {
    let target = |pc: usize, imm: i32| usize::try_from(pc as i64 + 1 + imm as i64).ok();
    insns
        .iter()
        .enumerate()
        .filter_map(|(pc, i)| match i {
            Insn::Call(CallTarget::Local(imm)) => target(pc, *imm),
            Insn::LdImm64 { src: LdImm64Src::Func, imm, .. } => target(pc, *imm),
            _ => None,
        })
        .filter(|t| *t > 0)
        .min()
        .unwrap_or(insns.len())
}

/// Relevant register mask before every pc (R10 never included). `exit_value_checked`:
/// whether the program type restricts the return value (`abi::return_range`); a
/// subprogram's exit always keeps R0 relevant (its caller may use it).
pub fn relevant_in(insns: &[Insn], exit_value_checked: bool) -> Vec<RegMask> {
    let n = insns.len();
    let main_end = main_end(insns);
    let mut rel = vec![Relevant::default(); n];
    loop {
        let mut changed = false;
        for pc in (0..n).rev() {
            let mut out = Relevant::default();
            for s in successors(insns, pc).into_iter().flatten() {
                out.regs |= rel[s].regs;
                out.slots |= rel[s].slots;
            }
            let inn = transfer(&insns[pc], out, exit_value_checked || pc >= main_end);
            if inn != rel[pc] {
                rel[pc] = inn;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    rel.into_iter().map(|r| r.regs).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::{decode, parse_program};
    use crate::liveness::live_in;

    fn rel(text: &str) -> Vec<RegMask> {
        relevant_in(&decode(&parse_program(text).unwrap()).unwrap(), true)
    }

    #[test]
    fn return_value_matters_only_when_checked_or_in_a_subprogram() {
        let insns = decode(&parse_program("r0 = 2\nexit").unwrap()).unwrap();
        assert_eq!(relevant_in(&insns, true)[1], 0b1);
        assert_eq!(relevant_in(&insns, false)[1], 0);
        // The subprogram's exit (after the call target) keeps R0.
        let insns = decode(&parse_program("call pc+2\nr0 = 0\nexit\nr0 = 1\nexit").unwrap()).unwrap();
        let r = relevant_in(&insns, false);
        assert_eq!(r[2], 0);
        assert_eq!(r[4], 0b1);
    }

    #[test]
    fn shift_amount_is_not_relevant_but_branch_operand_is() {
        // r2 only shifts r3; r3 decides a branch.
        let r = rel("r2 = 0\nr3 >>= r2\nif r3 > 255 goto pc+1\nr0 = 0\nexit");
        assert_eq!(r[1] & 0b100, 0, "r2 is not relevant before the shift");
        assert_ne!(r[1] & 0b1000, 0, "r3 is relevant before the shift");
    }

    #[test]
    fn offset_arithmetic_and_addresses_are_relevant() {
        // r2 is added to the pointer r1, which is then dereferenced.
        let r = rel("r2 = 14\nr1 += r2\nr0 = *(u8 *)(r1 +0)\nexit");
        assert_eq!(r[1] & 0b110, 0b110);
    }

    #[test]
    fn stack_slots_carry_relevance_from_fill_to_spill() {
        // r1 is spilled to -8 and filled into r2, which decides a branch: relevant.
        let r = rel("*(u64 *)(r10 -8) = r1\nr2 = *(u64 *)(r10 -8)\nif r2 == 0 goto pc+1\nr0 = 0\nexit");
        assert_ne!(r[0] & 0b10, 0);
        // r1 stored to -16, never filled (a map key buffer): not relevant.
        let r = rel("*(u64 *)(r10 -16) = r1\nr2 = *(u64 *)(r10 -8)\nif r2 == 0 goto pc+1\nr0 = 0\nexit");
        assert_eq!(r[0] & 0b10, 0);
    }

    #[test]
    fn values_stored_to_other_memory_are_not_relevant() {
        let r = rel("*(u64 *)(r6 +0) = r1\nr0 = 0\nexit");
        assert_eq!(r[0] & 0b10, 0);
        assert_ne!(r[0] & 0b100_0000, 0, "the address r6 is relevant");
    }

    #[test]
    fn relevance_is_a_subset_of_liveness() {
        let text = "r2 = 1\nif r3 > 9 goto pc+1\nr2 = 0\nr2 <<= 4\nr3 >>= r2\nr1 = r3\n*(u64 *)(r10 -8) = r1\nr4 = *(u64 *)(r10 -8)\nr0 = r4\nexit";
        let insns = decode(&parse_program(text).unwrap()).unwrap();
        let (r, l) = (relevant_in(&insns, true), live_in(&insns));
        for pc in 0..insns.len() {
            assert_eq!(r[pc] & !l[pc], 0, "pc {pc}: relevant {:#b} live {:#b}", r[pc], l[pc]);
        }
        // r0 = r4 at exit: r4, the filled slot, the spilled r1 and r3 are relevant.
        assert_ne!(r[6] & 0b10, 0);
    }
}
