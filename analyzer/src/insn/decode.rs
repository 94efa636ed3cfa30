//! Decoding raw instructions into `Insn`, rejecting what the kernel rejects as malformed.
//!
//! The checks follow Linux 6.18's `check_and_resolve_insns` (register numbers, `LD_IMM64`
//! pairs, `bpf_opcode_in_insntable`, `check_insn_fields`), `check_atomic`'s opcode and
//! size checks, and the static target checks of `add_subprog` (`call to invalid destination`)
//! and `check_subprogs` (`jump out of range`), in that order for each pc.
//!
//! Deliberately not checked here, because the kernel checks them only on paths it explores
//! or per subprogram (they are the verifier's and the CFG builder's job): `div by zero`,
//! `invalid shift`, writes to R10, helper ids, `last insn is not an exit or jmp`, jumps that
//! leave their subprogram, unreachable instructions.
//!
//! Kernel-valid instructions that `Insn` cannot represent (`may_goto`, `addr_space_cast`,
//! `load_acquire`, `store_release`) are reported as `DecodeError::Unsupported`.

// `opcode.rs` and `encode.rs` live next to this file; they are declared here because
// `insn/mod.rs` is shared and only lists the original four files.
#[path = "opcode.rs"]
pub mod opcode;
#[path = "encode.rs"]
pub mod encode;

#[cfg(test)]
#[path = "strategies.rs"]
pub(crate) mod strategies;
#[cfg(test)]
#[path = "corpus_tests.rs"]
mod corpus_tests;

pub use encode::{encode, encode_program};

use opcode::*;
use super::{AluOp, AtomicOp, CallTarget, Endian, Insn, JmpCond, LdImm64Src, Operand, RawInsn, Reg, Size, Width};

/// Why a program could not be decoded; every variant but `Empty` names the offending pc.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum DecodeError {
    #[error("empty program")]
    Empty,
    #[error("pc {pc}: pc out of range (program has {len} insns)")]
    PcOutOfRange { pc: usize, len: usize },
    #[error("pc {pc}: unknown opcode {code:02x}")]
    UnknownOpcode { pc: usize, code: u8 },
    #[error("pc {pc}: R{reg} is invalid")]
    BadRegister { pc: usize, reg: u8 },
    #[error("pc {pc}: insn uses reserved field {field}={value}")]
    ReservedFieldSet { pc: usize, field: &'static str, value: i64 },
    #[error("pc {pc}: invalid bpf_ld_imm64 insn (second slot missing or malformed)")]
    IncompleteLdImm64 { pc: usize },
    #[error("pc {pc}: unrecognized bpf_ld_imm64 insn, src_reg {src}")]
    BadLdImm64Src { pc: usize, src: u8 },
    #[error("pc {pc}: BPF_ATOMIC uses invalid atomic opcode {imm:02x}")]
    BadAtomicOp { pc: usize, imm: i32 },
    #[error("pc {pc}: invalid atomic operand size (opcode {code:02x})")]
    BadAtomicSize { pc: usize, code: u8 },
    #[error("pc {pc}: {what} is valid in the kernel but not supported by bpfcheck")]
    Unsupported { pc: usize, what: &'static str },
    #[error("pc {pc}: jump out of range from insn {pc} to {target}")]
    JumpOutOfRange { pc: usize, target: i64 },
    #[error("pc {pc}: call to invalid destination {target}")]
    CallOutOfRange { pc: usize, target: i64 },
    #[error("pc {pc}: jump into the middle of ldimm64 insn at {target}")]
    JumpIntoLdImm64 { pc: usize, target: usize },
}

impl DecodeError {
    /// The pc of the offending instruction (`None` only for `Empty`).
    pub fn pc(&self) -> Option<usize> {
        match *self {
            DecodeError::Empty => None,
            DecodeError::PcOutOfRange { pc, .. }
            | DecodeError::UnknownOpcode { pc, .. }
            | DecodeError::BadRegister { pc, .. }
            | DecodeError::ReservedFieldSet { pc, .. }
            | DecodeError::IncompleteLdImm64 { pc }
            | DecodeError::BadLdImm64Src { pc, .. }
            | DecodeError::BadAtomicOp { pc, .. }
            | DecodeError::BadAtomicSize { pc, .. }
            | DecodeError::Unsupported { pc, .. }
            | DecodeError::JumpOutOfRange { pc, .. }
            | DecodeError::CallOutOfRange { pc, .. }
            | DecodeError::JumpIntoLdImm64 { pc, .. } => Some(pc),
        }
    }
}

/// Decodes a whole program: one `Insn` per slot, the second slot of `LD_IMM64` as
/// `Insn::LdImm64Tail`. Fails on the first malformed instruction (lowest pc), then on the
/// first jump or call whose target is outside the program or on an `LD_IMM64` tail.
pub fn decode(raw: &[RawInsn]) -> Result<Vec<Insn>, DecodeError> {
    if raw.is_empty() {
        return Err(DecodeError::Empty);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut pc = 0;
    while pc < raw.len() {
        let insn = decode_slot(raw, pc)?;
        out.push(insn);
        if matches!(insn, Insn::LdImm64 { .. }) {
            out.push(Insn::LdImm64Tail);
            pc += 2;
        } else {
            pc += 1;
        }
    }
    for (pc, insn) in out.iter().enumerate() {
        check_target(insn, pc, raw.len(), |t| matches!(out.get(t), Some(Insn::LdImm64Tail)))?;
    }
    Ok(out)
}

/// Decodes the instruction at `pc` of `raw`, including the check of its jump or call target.
/// `pc` may be the second slot of an `LD_IMM64`, which decodes to `Insn::LdImm64Tail`.
/// Costs O(pc) to find out whether `pc` is such a slot; use `decode` for whole programs.
pub fn decode_one(raw: &[RawInsn], pc: usize) -> Result<Insn, DecodeError> {
    if raw.is_empty() {
        return Err(DecodeError::Empty);
    }
    if pc >= raw.len() {
        return Err(DecodeError::PcOutOfRange { pc, len: raw.len() });
    }
    let tails = ld_imm64_tails(raw);
    if tails.get(pc).copied().unwrap_or(false) {
        return Ok(Insn::LdImm64Tail);
    }
    let insn = decode_slot(raw, pc)?;
    check_target(&insn, pc, raw.len(), |t| tails.get(t).copied().unwrap_or(false))?;
    Ok(insn)
}

/// For each slot, whether it is the second half of an `LD_IMM64` (scanning from pc 0).
fn ld_imm64_tails(raw: &[RawInsn]) -> Vec<bool> {
    let mut tails = vec![false; raw.len()];
    let mut i = 0;
    while i < raw.len() {
        if raw[i].code == LD_IMM64 {
            if let Some(t) = tails.get_mut(i + 1) {
                *t = true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    tails
}

/// The static target checks: jumps (`check_subprogs`), bpf-to-bpf calls and `BPF_PSEUDO_FUNC`
/// loads (`add_subprog`) must land inside the program and not on an `LD_IMM64` tail.
fn check_target(insn: &Insn, pc: usize, len: usize, is_tail: impl Fn(usize) -> bool) -> Result<(), DecodeError> {
    let (target, is_call) = match *insn {
        Insn::Ja { .. } | Insn::Jmp { .. } => (insn.jump_target(pc).unwrap_or(-1), false),
        Insn::Call(CallTarget::Local(imm)) => (pc as i64 + 1 + imm as i64, true),
        Insn::LdImm64 { src: LdImm64Src::Func, imm, .. } => (pc as i64 + 1 + imm as i64, true),
        _ => return Ok(()),
    };
    let in_range = usize::try_from(target).ok().filter(|&t| t < len);
    match in_range {
        None if is_call => Err(DecodeError::CallOutOfRange { pc, target }),
        None => Err(DecodeError::JumpOutOfRange { pc, target }),
        Some(t) if is_tail(t) => Err(DecodeError::JumpIntoLdImm64 { pc, target: t }),
        Some(_) => Ok(()),
    }
}

fn reserved(pc: usize, field: &'static str, value: impl Into<i64>) -> DecodeError {
    DecodeError::ReservedFieldSet { pc, field, value: value.into() }
}

/// Checks that a field the encoding does not use is zero.
fn zero(pc: usize, field: &'static str, value: impl Into<i64>) -> Result<(), DecodeError> {
    let value = value.into();
    if value != 0 {
        return Err(DecodeError::ReservedFieldSet { pc, field, value });
    }
    Ok(())
}

fn mem_size(code: u8) -> Size {
    match size(code) {
        BPF_W => Size::W,
        BPF_H => Size::H,
        BPF_B => Size::B,
        _ => Size::DW,
    }
}

/// Decodes the slot at `pc` as the start of an instruction (no target checks).
fn decode_slot(raw: &[RawInsn], pc: usize) -> Result<Insn, DecodeError> {
    let Some(&ri) = raw.get(pc) else {
        return Err(DecodeError::PcOutOfRange { pc, len: raw.len() });
    };
    if ri.dst > 10 {
        return Err(DecodeError::BadRegister { pc, reg: ri.dst });
    }
    if ri.src > 10 {
        return Err(DecodeError::BadRegister { pc, reg: ri.src });
    }
    let (dst, src) = (Reg(ri.dst), Reg(ri.src));
    if ri.code == LD_IMM64 {
        return decode_ld_imm64(raw, pc, ri);
    }
    if !in_insntable(ri.code) {
        return Err(DecodeError::UnknownOpcode { pc, code: ri.code });
    }
    let code = ri.code;
    match class(code) {
        BPF_ALU | BPF_ALU64 => decode_alu(pc, ri),
        BPF_JMP | BPF_JMP32 => decode_jmp(pc, ri),
        BPF_LDX => {
            zero(pc, "imm", ri.imm)?;
            Ok(Insn::Ldx { size: mem_size(code), sign_ext: mode(code) == BPF_MEMSX, dst, src, off: ri.off })
        }
        BPF_ST => {
            zero(pc, "src_reg", ri.src)?;
            Ok(Insn::St { size: mem_size(code), dst, off: ri.off, imm: ri.imm })
        }
        BPF_STX if mode(code) == BPF_ATOMIC => decode_atomic(pc, ri),
        BPF_STX => {
            zero(pc, "imm", ri.imm)?;
            Ok(Insn::Stx { size: mem_size(code), dst, src, off: ri.off })
        }
        _ => {
            // BPF_LD: only ABS and IND remain after the opcode table.
            zero(pc, "dst_reg", ri.dst)?;
            zero(pc, "off", ri.off)?;
            if mode(code) == BPF_ABS {
                zero(pc, "src_reg", ri.src)?;
                Ok(Insn::LdAbs { size: mem_size(code), imm: ri.imm })
            } else {
                Ok(Insn::LdInd { size: mem_size(code), src, imm: ri.imm })
            }
        }
    }
}

fn decode_ld_imm64(raw: &[RawInsn], pc: usize, ri: RawInsn) -> Result<Insn, DecodeError> {
    let Some(next) = raw.get(pc + 1) else {
        return Err(DecodeError::IncompleteLdImm64 { pc });
    };
    if next.code != 0 || next.dst != 0 || next.src != 0 || next.off != 0 {
        return Err(DecodeError::IncompleteLdImm64 { pc });
    }
    zero(pc, "off", ri.off)?;
    let Some(src) = LdImm64Src::from_src(ri.src) else {
        return Err(DecodeError::BadLdImm64Src { pc, src: ri.src });
    };
    Ok(Insn::LdImm64 { dst: Reg(ri.dst), src, imm: ri.imm, next_imm: next.imm })
}

fn decode_alu(pc: usize, ri: RawInsn) -> Result<Insn, DecodeError> {
    let code = ri.code;
    let width = if class(code) == BPF_ALU64 { Width::W64 } else { Width::W32 };
    let (dst, op) = (Reg(ri.dst), op(code));
    let is_x = src(code) == BPF_X;
    let operand = if is_x { Operand::Reg(Reg(ri.src)) } else { Operand::Imm(ri.imm) };
    match op {
        BPF_NEG => {
            zero(pc, "src_reg", ri.src)?;
            zero(pc, "off", ri.off)?;
            zero(pc, "imm", ri.imm)?;
            Ok(Insn::Alu { width, op: AluOp::Neg, dst, src: Operand::Imm(0) })
        }
        BPF_END => {
            zero(pc, "src_reg", ri.src)?;
            zero(pc, "off", ri.off)?;
            if !matches!(ri.imm, 16 | 32 | 64) {
                return Err(reserved(pc, "imm", ri.imm));
            }
            let kind = match (width, src(code)) {
                (Width::W64, _) => Endian::Swap,
                (Width::W32, BPF_TO_BE) => Endian::ToBe,
                (Width::W32, _) => Endian::ToLe,
            };
            Ok(Insn::Endian { kind, bits: ri.imm as u8, dst })
        }
        BPF_MOV => {
            if is_x {
                if width == Width::W64 && ri.off == BPF_ADDR_SPACE_CAST {
                    if ri.imm != 1 && ri.imm != 1 << 16 {
                        return Err(reserved(pc, "imm", ri.imm));
                    }
                    return Err(DecodeError::Unsupported { pc, what: "addr_space_cast" });
                }
                zero(pc, "imm", ri.imm)?;
                let op = match (width, ri.off) {
                    (_, 0) => AluOp::Mov,
                    (_, 8) => AluOp::MovSx(8),
                    (_, 16) => AluOp::MovSx(16),
                    (Width::W64, 32) => AluOp::MovSx(32),
                    (_, off) => return Err(reserved(pc, "off", off)),
                };
                Ok(Insn::Alu { width, op, dst, src: operand })
            } else {
                zero(pc, "src_reg", ri.src)?;
                zero(pc, "off", ri.off)?;
                Ok(Insn::Alu { width, op: AluOp::Mov, dst, src: operand })
            }
        }
        _ => {
            if is_x {
                zero(pc, "imm", ri.imm)?;
            } else {
                zero(pc, "src_reg", ri.src)?;
            }
            let signed = match ri.off {
                0 => false,
                1 if op == BPF_DIV || op == BPF_MOD => true,
                off => return Err(reserved(pc, "off", off)),
            };
            let op = match (op, signed) {
                (BPF_ADD, _) => AluOp::Add,
                (BPF_SUB, _) => AluOp::Sub,
                (BPF_MUL, _) => AluOp::Mul,
                (BPF_DIV, false) => AluOp::Div,
                (BPF_DIV, true) => AluOp::SDiv,
                (BPF_OR, _) => AluOp::Or,
                (BPF_AND, _) => AluOp::And,
                (BPF_LSH, _) => AluOp::Lsh,
                (BPF_RSH, _) => AluOp::Rsh,
                (BPF_MOD, false) => AluOp::Mod,
                (BPF_MOD, true) => AluOp::SMod,
                (BPF_XOR, _) => AluOp::Xor,
                (BPF_ARSH, _) => AluOp::Arsh,
                _ => return Err(DecodeError::UnknownOpcode { pc, code }),
            };
            Ok(Insn::Alu { width, op, dst, src: operand })
        }
    }
}

fn decode_jmp(pc: usize, ri: RawInsn) -> Result<Insn, DecodeError> {
    let code = ri.code;
    let width = if class(code) == BPF_JMP { Width::W64 } else { Width::W32 };
    match op(code) {
        BPF_CALL => {
            zero(pc, "dst_reg", ri.dst)?;
            match ri.src {
                0 => {
                    zero(pc, "off", ri.off)?;
                    Ok(Insn::Call(CallTarget::Helper(ri.imm)))
                }
                BPF_PSEUDO_CALL => {
                    zero(pc, "off", ri.off)?;
                    Ok(Insn::Call(CallTarget::Local(ri.imm)))
                }
                BPF_PSEUDO_KFUNC_CALL => Ok(Insn::Call(CallTarget::Kfunc { btf_id: ri.imm, off: ri.off })),
                s => Err(reserved(pc, "src_reg", s)),
            }
        }
        BPF_EXIT => {
            zero(pc, "dst_reg", ri.dst)?;
            zero(pc, "src_reg", ri.src)?;
            zero(pc, "off", ri.off)?;
            zero(pc, "imm", ri.imm)?;
            Ok(Insn::Exit)
        }
        BPF_JA => {
            zero(pc, "dst_reg", ri.dst)?;
            zero(pc, "src_reg", ri.src)?;
            if width == Width::W64 {
                zero(pc, "imm", ri.imm)?;
                Ok(Insn::Ja { off: ri.off as i32, long: false })
            } else {
                zero(pc, "off", ri.off)?;
                Ok(Insn::Ja { off: ri.imm, long: true })
            }
        }
        BPF_JCOND => Err(DecodeError::Unsupported { pc, what: "may_goto" }),
        op => {
            let operand = if src(code) == BPF_X {
                zero(pc, "imm", ri.imm)?;
                Operand::Reg(Reg(ri.src))
            } else {
                zero(pc, "src_reg", ri.src)?;
                Operand::Imm(ri.imm)
            };
            let cond = match op {
                BPF_JEQ => JmpCond::Eq,
                BPF_JNE => JmpCond::Ne,
                BPF_JGT => JmpCond::Gt,
                BPF_JGE => JmpCond::Ge,
                BPF_JLT => JmpCond::Lt,
                BPF_JLE => JmpCond::Le,
                BPF_JSGT => JmpCond::SGt,
                BPF_JSGE => JmpCond::SGe,
                BPF_JSLT => JmpCond::SLt,
                BPF_JSLE => JmpCond::SLe,
                BPF_JSET => JmpCond::Set,
                _ => return Err(DecodeError::UnknownOpcode { pc, code }),
            };
            Ok(Insn::Jmp { width, cond, dst: Reg(ri.dst), src: operand, off: ri.off })
        }
    }
}

fn decode_atomic(pc: usize, ri: RawInsn) -> Result<Insn, DecodeError> {
    let (op, fetch) = match ri.imm {
        BPF_LOAD_ACQ => return Err(DecodeError::Unsupported { pc, what: "load_acquire" }),
        BPF_STORE_REL => return Err(DecodeError::Unsupported { pc, what: "store_release" }),
        BPF_XCHG => (AtomicOp::Xchg, true),
        BPF_CMPXCHG => (AtomicOp::CmpXchg, true),
        imm => {
            let fetch = imm & BPF_FETCH != 0;
            let op = match imm & !BPF_FETCH {
                0x00 => AtomicOp::Add,
                0x40 => AtomicOp::Or,
                0x50 => AtomicOp::And,
                0xa0 => AtomicOp::Xor,
                _ => return Err(DecodeError::BadAtomicOp { pc, imm }),
            };
            (op, fetch)
        }
    };
    let size = mem_size(ri.code);
    if !matches!(size, Size::W | Size::DW) {
        return Err(DecodeError::BadAtomicSize { pc, code: ri.code });
    }
    Ok(Insn::Atomic { size, op, fetch, dst: Reg(ri.dst), src: Reg(ri.src), off: ri.off })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ri(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
        RawInsn { code, dst, src, off, imm }
    }
    const EXIT: RawInsn = RawInsn { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };

    fn err(prog: &[RawInsn]) -> DecodeError {
        decode(prog).expect_err("program must be rejected")
    }

    #[test]
    fn decodes_a_small_program() {
        let prog = [
            ri(0xbf, 6, 1, 0, 0),
            ri(0x18, 1, 5, 0, 3),
            ri(0, 0, 0, 0, 0),
            ri(0x85, 0, 0, 0, 1),
            ri(0x15, 0, 0, 1, 0),
            ri(0x61, 2, 0, 4, 0),
            ri(0xb4, 0, 0, 0, 0),
            EXIT,
        ];
        let insns = decode(&prog).expect("valid");
        assert_eq!(insns.len(), prog.len());
        assert_eq!(insns[0], Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg(6), src: Operand::Reg(Reg(1)) });
        assert_eq!(insns[1], Insn::LdImm64 { dst: Reg(1), src: LdImm64Src::MapIdx, imm: 3, next_imm: 0 });
        assert_eq!(insns[2], Insn::LdImm64Tail);
        assert_eq!(insns[3], Insn::Call(CallTarget::Helper(1)));
        assert_eq!(
            insns[4],
            Insn::Jmp { width: Width::W64, cond: JmpCond::Eq, dst: Reg(0), src: Operand::Imm(0), off: 1 }
        );
        assert_eq!(insns[5], Insn::Ldx { size: Size::W, sign_ext: false, dst: Reg(2), src: Reg(0), off: 4 });
        assert_eq!(insns[6], Insn::Alu { width: Width::W32, op: AluOp::Mov, dst: Reg(0), src: Operand::Imm(0) });
        assert_eq!(insns[7], Insn::Exit);
        assert_eq!(decode_one(&prog, 2), Ok(Insn::LdImm64Tail));
        assert_eq!(decode_one(&prog, 3), Ok(Insn::Call(CallTarget::Helper(1))));
    }

    #[test]
    fn decodes_cpu_v4_forms() {
        let prog = [
            ri(0x3f, 1, 2, 1, 0),  // r1 s/= r2
            ri(0x97, 1, 0, 1, 3),  // r1 s%= 3
            ri(0xbc, 1, 2, 8, 0),  // w1 = (s8)w2
            ri(0xbf, 1, 2, 32, 0), // r1 = (s32)r2
            ri(0xd7, 1, 0, 0, 16), // bswap16
            ri(0xdc, 1, 0, 0, 32), // be32
            ri(0x91, 1, 2, -4, 0), // r1 = *(s8 *)(r2 -4)
            ri(0x06, 0, 0, 0, 1),  // gotol pc+1
            ri(0xdb, 1, 2, 0, 0xa1), // atomic64_fetch_xor
            EXIT,
        ];
        let insns = decode(&prog).expect("valid");
        assert_eq!(insns[0], Insn::Alu { width: Width::W64, op: AluOp::SDiv, dst: Reg(1), src: Operand::Reg(Reg(2)) });
        assert_eq!(insns[1], Insn::Alu { width: Width::W64, op: AluOp::SMod, dst: Reg(1), src: Operand::Imm(3) });
        assert_eq!(insns[2], Insn::Alu { width: Width::W32, op: AluOp::MovSx(8), dst: Reg(1), src: Operand::Reg(Reg(2)) });
        assert_eq!(insns[3], Insn::Alu { width: Width::W64, op: AluOp::MovSx(32), dst: Reg(1), src: Operand::Reg(Reg(2)) });
        assert_eq!(insns[4], Insn::Endian { kind: Endian::Swap, bits: 16, dst: Reg(1) });
        assert_eq!(insns[5], Insn::Endian { kind: Endian::ToBe, bits: 32, dst: Reg(1) });
        assert_eq!(insns[6], Insn::Ldx { size: Size::B, sign_ext: true, dst: Reg(1), src: Reg(2), off: -4 });
        assert_eq!(insns[7], Insn::Ja { off: 1, long: true });
        assert_eq!(
            insns[8],
            Insn::Atomic { size: Size::DW, op: AtomicOp::Xor, fetch: true, dst: Reg(1), src: Reg(2), off: 0 }
        );
    }

    #[test]
    fn empty() {
        assert_eq!(decode(&[]), Err(DecodeError::Empty));
        assert_eq!(DecodeError::Empty.pc(), None);
        assert_eq!(DecodeError::JumpOutOfRange { pc: 3, target: 9 }.pc(), Some(3));
        assert_eq!(decode_one(&[], 0), Err(DecodeError::Empty));
    }

    #[test]
    fn pc_out_of_range() {
        assert!(matches!(decode_one(&[EXIT], 1), Err(DecodeError::PcOutOfRange { pc: 1, len: 1 })));
    }

    #[test]
    fn unknown_opcode() {
        assert!(matches!(err(&[ri(0x8c, 1, 2, 0, 0), EXIT]), DecodeError::UnknownOpcode { pc: 0, code: 0x8c }));
        assert!(matches!(err(&[EXIT, ri(0x00, 0, 0, 0, 0)]), DecodeError::UnknownOpcode { pc: 1, code: 0 }));
        assert!(matches!(err(&[ri(0x86, 0, 0, 0, 1), EXIT]), DecodeError::UnknownOpcode { pc: 0, code: 0x86 }));
        assert!(matches!(err(&[ri(0xf7, 1, 0, 0, 1), EXIT]), DecodeError::UnknownOpcode { pc: 0, code: 0xf7 }));
    }

    #[test]
    fn bad_register() {
        assert!(matches!(err(&[ri(0xbf, 11, 1, 0, 0), EXIT]), DecodeError::BadRegister { pc: 0, reg: 11 }));
        assert!(matches!(err(&[EXIT, ri(0x61, 1, 15, 0, 0)]), DecodeError::BadRegister { pc: 1, reg: 15 }));
    }

    #[test]
    fn reserved_field_set() {
        let cases = [
            (ri(0x07, 1, 3, 0, 1), "src_reg"),   // ALU K with src_reg
            (ri(0x0f, 1, 2, 0, 7), "imm"),       // ALU X with imm
            (ri(0x07, 1, 0, 1, 1), "off"),       // off=1 only for div/mod
            (ri(0xbc, 1, 2, 32, 0), "off"),      // 32-bit movsx has no s32
            (ri(0xd4, 1, 0, 0, 8), "imm"),       // le8 does not exist
            (ri(0x87, 1, 0, 0, 1), "imm"),       // neg with imm
            (ri(0x95, 0, 0, 0, 1), "imm"),       // exit with imm
            (ri(0x85, 1, 0, 0, 1), "dst_reg"),   // call with dst
            (ri(0x85, 0, 3, 0, 1), "src_reg"),   // call src 3
            (ri(0x05, 0, 0, 1, 1), "imm"),       // goto with imm
            (ri(0x61, 1, 2, 0, 1), "imm"),       // ldx with imm
            (ri(0x62, 1, 2, 0, 1), "src_reg"),   // st with src_reg
            (ri(0x63, 1, 2, 0, 1), "imm"),       // stx with imm
            (ri(0x20, 1, 0, 0, 1), "dst_reg"),   // ld_abs with dst
            (ri(0x20, 0, 1, 0, 1), "src_reg"),   // ld_abs with src
        ];
        for (insn, field) in cases {
            match err(&[insn, EXIT]) {
                DecodeError::ReservedFieldSet { pc: 0, field: f, .. } => assert_eq!(f, field, "{insn:?}"),
                e => panic!("{insn:?}: expected ReservedFieldSet, got {e:?}"),
            }
        }
    }

    #[test]
    fn incomplete_ld_imm64() {
        assert!(matches!(err(&[EXIT, ri(0x18, 1, 0, 0, 1)]), DecodeError::IncompleteLdImm64 { pc: 1 }));
        assert!(matches!(
            err(&[ri(0x18, 1, 0, 0, 1), ri(0, 1, 0, 0, 0), EXIT]),
            DecodeError::IncompleteLdImm64 { pc: 0 }
        ));
        assert!(matches!(
            err(&[ri(0x18, 1, 0, 0, 1), EXIT, EXIT]),
            DecodeError::IncompleteLdImm64 { pc: 0 }
        ));
    }

    #[test]
    fn bad_ld_imm64_src() {
        assert!(matches!(
            err(&[ri(0x18, 1, 7, 0, 1), ri(0, 0, 0, 0, 0), EXIT]),
            DecodeError::BadLdImm64Src { pc: 0, src: 7 }
        ));
    }

    #[test]
    fn bad_atomic() {
        assert!(matches!(err(&[ri(0xdb, 1, 2, 0, 0x10), EXIT]), DecodeError::BadAtomicOp { pc: 0, imm: 0x10 }));
        assert!(matches!(err(&[ri(0xdb, 1, 2, 0, 0xe0), EXIT]), DecodeError::BadAtomicOp { pc: 0, imm: 0xe0 }));
        assert!(matches!(err(&[ri(0xd3, 1, 2, 0, 0x00), EXIT]), DecodeError::BadAtomicSize { pc: 0, code: 0xd3 }));
    }

    #[test]
    fn unsupported() {
        assert!(matches!(err(&[ri(0xe5, 0, 0, 0, 0), EXIT]), DecodeError::Unsupported { pc: 0, what: "may_goto" }));
        assert!(matches!(
            err(&[ri(0xbf, 1, 2, 1, 1), EXIT]),
            DecodeError::Unsupported { pc: 0, what: "addr_space_cast" }
        ));
        assert!(matches!(
            err(&[ri(0xdb, 1, 2, 0, 0x100), EXIT]),
            DecodeError::Unsupported { pc: 0, what: "load_acquire" }
        ));
    }

    #[test]
    fn jump_out_of_range() {
        assert!(matches!(err(&[ri(0x05, 0, 0, 1, 0), EXIT]), DecodeError::JumpOutOfRange { pc: 0, target: 2 }));
        assert!(matches!(err(&[ri(0x15, 1, 0, -2, 0), EXIT]), DecodeError::JumpOutOfRange { pc: 0, target: -1 }));
        assert!(matches!(err(&[ri(0x06, 0, 0, 0, -5), EXIT]), DecodeError::JumpOutOfRange { pc: 0, target: -4 }));
        assert!(matches!(
            decode_one(&[ri(0x05, 0, 0, 7, 0), EXIT], 0),
            Err(DecodeError::JumpOutOfRange { pc: 0, target: 8 })
        ));
    }

    #[test]
    fn call_out_of_range() {
        assert!(matches!(err(&[ri(0x85, 0, 1, 0, 5), EXIT]), DecodeError::CallOutOfRange { pc: 0, target: 6 }));
        assert!(matches!(
            err(&[ri(0x18, 1, 4, 0, -3), ri(0, 0, 0, 0, 0), EXIT]),
            DecodeError::CallOutOfRange { pc: 0, target: -2 }
        ));
    }

    #[test]
    fn jump_into_ld_imm64() {
        let prog = [ri(0x05, 0, 0, 1, 0), ri(0x18, 1, 0, 0, 1), ri(0, 0, 0, 0, 0), EXIT];
        assert!(matches!(err(&prog), DecodeError::JumpIntoLdImm64 { pc: 0, target: 2 }));
        assert!(matches!(decode_one(&prog, 0), Err(DecodeError::JumpIntoLdImm64 { pc: 0, target: 2 })));
        let call = [ri(0x85, 0, 1, 0, 1), ri(0x18, 1, 0, 0, 1), ri(0, 0, 0, 0, 0), EXIT];
        assert!(matches!(err(&call), DecodeError::JumpIntoLdImm64 { pc: 0, target: 2 }));
    }

    #[test]
    fn kernel_checks_left_to_the_verifier_are_accepted() {
        // div by zero, invalid shift and writes to R10 are the verifier's to reject.
        let prog = [ri(0x37, 1, 0, 0, 0), ri(0x67, 1, 0, 0, 99), ri(0xb7, 10, 0, 0, 0), EXIT];
        assert!(decode(&prog).is_ok());
    }

    use proptest::prelude::*;

    proptest::proptest! {
        #[test]
        fn every_valid_form_decodes_to_itself(insn in super::strategies::insn()) {
            let raw = encode(&insn);
            proptest::prop_assert_eq!(decode_slot(&raw, 0), Ok(insn));
        }

        #[test]
        fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let usable = bytes.len() / 8 * 8;
            let raw = RawInsn::slice_from_bytes(&bytes[..usable]).unwrap_or_default();
            let whole = decode(&raw);
            for pc in 0..=raw.len() {
                let one = decode_one(&raw, pc);
                if let (Ok(all), Ok(insn)) = (&whole, &one) {
                    proptest::prop_assert_eq!(all.get(pc), Some(insn));
                }
                let _ = crate::insn::print_insn(&raw, pc);
            }
            if let Ok(all) = whole {
                proptest::prop_assert_eq!(encode_program(&all), raw);
            }
        }

        #[test]
        fn decode_never_panics_on_arbitrary_fields(
            raw in proptest::collection::vec(
                (proptest::prelude::any::<u8>(), proptest::prelude::any::<u8>(), proptest::prelude::any::<u8>(),
                 proptest::prelude::any::<i16>(), proptest::prelude::any::<i32>())
                    .prop_map(|(code, dst, src, off, imm)| RawInsn { code, dst, src, off, imm }),
                0..20)
        ) {
            let _ = decode(&raw);
            for pc in 0..raw.len() {
                let _ = decode_one(&raw, pc);
            }
        }
    }
}
