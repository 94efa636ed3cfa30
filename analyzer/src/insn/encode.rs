//! Encoding decoded instructions back into raw `struct bpf_insn` slots (the inverse of `decode`).
//!
//! `Insn::LdImm64` encodes to both of its slots and `Insn::LdImm64Tail` to nothing, so
//! `encode_program(&decode(raw)?) == raw` for every program `decode` accepts (all fields the
//! kernel requires to be zero are zero in a decodable program). Useful for building test
//! programs from typed instructions.

use crate::insn::decode::opcode::*;
use crate::insn::{AluOp, AtomicOp, CallTarget, Endian, Insn, JmpCond, Operand, RawInsn, Size, Width};

fn raw(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
    RawInsn { code, dst, src, off, imm }
}

fn size_bits(size: Size) -> u8 {
    match size {
        Size::B => BPF_B,
        Size::H => BPF_H,
        Size::W => BPF_W,
        Size::DW => BPF_DW,
    }
}

/// The kernel's `BPF_OP` bits of an ALU operation and the `off` it needs (1 for signed
/// div/mod, 8/16/32 for `movsx`).
fn alu_bits(op: AluOp) -> (u8, i16) {
    match op {
        AluOp::Add => (BPF_ADD, 0),
        AluOp::Sub => (BPF_SUB, 0),
        AluOp::Mul => (BPF_MUL, 0),
        AluOp::Div => (BPF_DIV, 0),
        AluOp::SDiv => (BPF_DIV, 1),
        AluOp::Or => (BPF_OR, 0),
        AluOp::And => (BPF_AND, 0),
        AluOp::Lsh => (BPF_LSH, 0),
        AluOp::Rsh => (BPF_RSH, 0),
        AluOp::Neg => (BPF_NEG, 0),
        AluOp::Mod => (BPF_MOD, 0),
        AluOp::SMod => (BPF_MOD, 1),
        AluOp::Xor => (BPF_XOR, 0),
        AluOp::Mov => (BPF_MOV, 0),
        AluOp::MovSx(bits) => (BPF_MOV, bits as i16),
        AluOp::Arsh => (BPF_ARSH, 0),
    }
}

/// The kernel's `BPF_OP` bits of a conditional jump.
pub(crate) fn jmp_bits(cond: JmpCond) -> u8 {
    match cond {
        JmpCond::Eq => BPF_JEQ,
        JmpCond::Ne => BPF_JNE,
        JmpCond::Gt => BPF_JGT,
        JmpCond::Ge => BPF_JGE,
        JmpCond::Lt => BPF_JLT,
        JmpCond::Le => BPF_JLE,
        JmpCond::SGt => BPF_JSGT,
        JmpCond::SGe => BPF_JSGE,
        JmpCond::SLt => BPF_JSLT,
        JmpCond::SLe => BPF_JSLE,
        JmpCond::Set => BPF_JSET,
    }
}

/// Appends the raw slots of `insn` to `out` (two for `LdImm64`, none for `LdImm64Tail`).
pub fn encode_into(insn: &Insn, out: &mut Vec<RawInsn>) {
    match *insn {
        Insn::Alu { width, op, dst, src } => {
            let class = if width == Width::W64 { BPF_ALU64 } else { BPF_ALU };
            let (bits, off) = alu_bits(op);
            let r = match (op, src) {
                (AluOp::Neg, _) => raw(class | BPF_NEG | BPF_K, dst.0, 0, 0, 0),
                (_, Operand::Reg(s)) => raw(class | bits | BPF_X, dst.0, s.0, off, 0),
                (_, Operand::Imm(imm)) => raw(class | bits | BPF_K, dst.0, 0, off, imm),
            };
            out.push(r);
        }
        Insn::Endian { kind, bits, dst } => {
            let code = match kind {
                Endian::ToLe => BPF_ALU | BPF_END | BPF_TO_LE,
                Endian::ToBe => BPF_ALU | BPF_END | BPF_TO_BE,
                Endian::Swap => BPF_ALU64 | BPF_END | BPF_TO_LE,
            };
            out.push(raw(code, dst.0, 0, 0, bits as i32));
        }
        Insn::Ja { off, long: false } => out.push(raw(BPF_JMP | BPF_JA, 0, 0, off as i16, 0)),
        Insn::Ja { off, long: true } => out.push(raw(BPF_JMP32 | BPF_JA, 0, 0, 0, off)),
        Insn::Jmp { width, cond, dst, src, off } => {
            let class = if width == Width::W64 { BPF_JMP } else { BPF_JMP32 };
            let r = match src {
                Operand::Reg(s) => raw(class | jmp_bits(cond) | BPF_X, dst.0, s.0, off, 0),
                Operand::Imm(imm) => raw(class | jmp_bits(cond) | BPF_K, dst.0, 0, off, imm),
            };
            out.push(r);
        }
        Insn::Call(target) => {
            let code = BPF_JMP | BPF_CALL;
            out.push(match target {
                CallTarget::Helper(id) => raw(code, 0, 0, 0, id),
                CallTarget::Local(imm) => raw(code, 0, BPF_PSEUDO_CALL, 0, imm),
                CallTarget::Kfunc { btf_id, off } => raw(code, 0, BPF_PSEUDO_KFUNC_CALL, off, btf_id),
            });
        }
        Insn::Exit => out.push(raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)),
        Insn::LdImm64 { dst, src, imm, next_imm } => {
            out.push(raw(LD_IMM64, dst.0, src.to_src(), 0, imm));
            out.push(raw(0, 0, 0, 0, next_imm));
        }
        Insn::LdImm64Tail => {}
        Insn::Ldx { size, sign_ext, dst, src, off } => {
            let m = if sign_ext { BPF_MEMSX } else { BPF_MEM };
            out.push(raw(BPF_LDX | m | size_bits(size), dst.0, src.0, off, 0));
        }
        Insn::St { size, dst, off, imm } => out.push(raw(BPF_ST | BPF_MEM | size_bits(size), dst.0, 0, off, imm)),
        Insn::Stx { size, dst, src, off } => {
            out.push(raw(BPF_STX | BPF_MEM | size_bits(size), dst.0, src.0, off, 0))
        }
        Insn::Atomic { size, op, fetch, dst, src, off } => {
            let fetch_bit = if fetch { BPF_FETCH } else { 0 };
            let imm = match op {
                AtomicOp::Add => BPF_ADD as i32 | fetch_bit,
                AtomicOp::Or => BPF_OR as i32 | fetch_bit,
                AtomicOp::And => BPF_AND as i32 | fetch_bit,
                AtomicOp::Xor => BPF_XOR as i32 | fetch_bit,
                AtomicOp::Xchg => BPF_XCHG,
                AtomicOp::CmpXchg => BPF_CMPXCHG,
            };
            out.push(raw(BPF_STX | BPF_ATOMIC | size_bits(size), dst.0, src.0, off, imm));
        }
        Insn::LdAbs { size, imm } => out.push(raw(BPF_LD | BPF_ABS | size_bits(size), 0, 0, 0, imm)),
        Insn::LdInd { size, src, imm } => out.push(raw(BPF_LD | BPF_IND | size_bits(size), 0, src.0, 0, imm)),
    }
}

/// The raw slots of one instruction.
pub fn encode(insn: &Insn) -> Vec<RawInsn> {
    let mut out = Vec::with_capacity(2);
    encode_into(insn, &mut out);
    out
}

/// The raw slots of a program; `LdImm64Tail` entries are skipped since `LdImm64` emits both slots.
pub fn encode_program(insns: &[Insn]) -> Vec<RawInsn> {
    let mut out = Vec::with_capacity(insns.len());
    for insn in insns {
        encode_into(insn, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::{decode, LdImm64Src, Reg};

    #[test]
    fn encodes_known_opcodes() {
        let cases = [
            (Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg(6), src: Operand::Reg(Reg(1)) }, 0xbf),
            (Insn::Alu { width: Width::W32, op: AluOp::Mov, dst: Reg(0), src: Operand::Imm(0) }, 0xb4),
            (Insn::Alu { width: Width::W64, op: AluOp::Neg, dst: Reg(1), src: Operand::Imm(0) }, 0x87),
            (Insn::Endian { kind: Endian::Swap, bits: 16, dst: Reg(1) }, 0xd7),
            (Insn::Endian { kind: Endian::ToBe, bits: 16, dst: Reg(1) }, 0xdc),
            (Insn::Ja { off: 3, long: true }, 0x06),
            (Insn::Call(CallTarget::Helper(1)), 0x85),
            (Insn::Ldx { size: Size::W, sign_ext: false, dst: Reg(2), src: Reg(1), off: 76 }, 0x61),
            (Insn::Ldx { size: Size::H, sign_ext: true, dst: Reg(2), src: Reg(1), off: 0 }, 0x89),
            (Insn::Atomic { size: Size::DW, op: AtomicOp::Add, fetch: false, dst: Reg(1), src: Reg(2), off: 0 }, 0xdb),
            (Insn::LdAbs { size: Size::H, imm: 12 }, 0x28),
        ];
        for (insn, code) in cases {
            let r = encode(&insn);
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].code, code, "{insn:?}");
        }
    }

    #[test]
    fn ld_imm64_encodes_two_slots_and_roundtrips() {
        let prog = [
            Insn::LdImm64 { dst: Reg(1), src: LdImm64Src::MapIdxValue, imm: 2, next_imm: 16 },
            Insn::LdImm64Tail,
            Insn::Exit,
        ];
        let raw = encode_program(&prog);
        assert_eq!(raw.len(), 3);
        assert_eq!((raw[0].code, raw[0].src, raw[0].imm, raw[1].code, raw[1].imm), (0x18, 6, 2, 0, 16));
        assert_eq!(decode(&raw).expect("valid"), prog.to_vec());
    }
}
