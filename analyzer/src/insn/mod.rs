//! eBPF instructions: the raw 8-byte encoding (`RawInsn`, the kernel's `struct bpf_insn`)
//! and the decoded form (`Insn`) the rest of the analyzer works on.
//!
//! A program is a slice of `RawInsn`; `decode` turns it into one `Insn` per slot,
//! so pc numbers are the kernel's: a `LD_IMM64` occupies two slots and the second
//! one decodes to `Insn::LdImm64Tail`, which no jump may target.
//!
//! Covers RFC 9669 plus what clang emits for cpu v1..v4: ALU/ALU64 (signed div/mod,
//! movsx), byte swaps, JMP/JMP32 (incl. `gotol`), LD_IMM64 with every pseudo source,
//! LDX/ST/STX incl. sign-extending loads, atomics, calls (helper, bpf-to-bpf, kfunc),
//! exit, and the legacy packet loads LD_ABS/LD_IND.

pub mod decode;
pub mod helper_names;
pub mod parse;
pub mod print;

pub use decode::{decode, decode_one, DecodeError};
pub use parse::{parse_program, ParseError};
pub use decode::{encode, encode_program};
pub use print::{print_insn, print_program, InsnNames, InsnPrinter};

/// The kernel's `struct bpf_insn`, as laid out in the object file (little-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct RawInsn {
    pub code: u8,
    /// Low nibble of byte 1.
    pub dst: u8,
    /// High nibble of byte 1.
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl RawInsn {
    pub const SIZE: usize = 8;

    /// Reads one instruction from 8 little-endian bytes.
    pub fn from_bytes(b: &[u8; 8]) -> RawInsn {
        RawInsn {
            code: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// The pc-relative offset of a jump (`goto`, conditional jumps, `gotol` with its
    /// 32-bit offset in `imm`), not of calls or exits; `None` for other instructions.
    pub fn jump_offset(&self) -> Option<i64> {
        use decode::opcode::{class, op, BPF_CALL, BPF_EXIT, BPF_JA, BPF_JMP, BPF_JMP32};
        match (class(self.code), op(self.code)) {
            (BPF_JMP | BPF_JMP32, BPF_CALL | BPF_EXIT) => None,
            (BPF_JMP32, BPF_JA) => Some(i64::from(self.imm)),
            (BPF_JMP | BPF_JMP32, _) => Some(i64::from(self.off)),
            _ => None,
        }
    }

    /// The 8 little-endian bytes of this instruction.
    pub fn to_bytes(self) -> [u8; 8] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [self.code, (self.dst & 0xf) | (self.src << 4), off[0], off[1], imm[0], imm[1], imm[2], imm[3]]
    }

    /// Reads a whole section's bytes; a trailing partial instruction is an error for the caller
    /// to report, so this returns `None` when `bytes.len()` is not a multiple of 8.
    pub fn slice_from_bytes(bytes: &[u8]) -> Option<Vec<RawInsn>> {
        if bytes.len() % 8 != 0 {
            return None;
        }
        Some(bytes.chunks_exact(8).map(|c| RawInsn::from_bytes(c.try_into().expect("chunk of 8"))).collect())
    }
}

/// A register number, R0..R10 (R10 is the read-only frame pointer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Reg(pub u8);

impl Reg {
    pub const R0: Reg = Reg(0);
    pub const R1: Reg = Reg(1);
    pub const R2: Reg = Reg(2);
    pub const R3: Reg = Reg(3);
    pub const R4: Reg = Reg(4);
    pub const R5: Reg = Reg(5);
    pub const R6: Reg = Reg(6);
    pub const R7: Reg = Reg(7);
    pub const R8: Reg = Reg(8);
    pub const R9: Reg = Reg(9);
    pub const FP: Reg = Reg(10);
    pub const COUNT: usize = 11;

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// 32-bit (`BPF_ALU`, `BPF_JMP32`) or 64-bit (`BPF_ALU64`, `BPF_JMP`) operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Width {
    W32,
    W64,
}

/// Memory access size: `BPF_B`, `BPF_H`, `BPF_W`, `BPF_DW`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Size {
    B,
    H,
    W,
    DW,
}

impl Size {
    /// Size in bytes: 1, 2, 4 or 8.
    pub fn bytes(self) -> u32 {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }
}

/// Second operand of ALU and JMP instructions: `BPF_X` (register) or `BPF_K` (immediate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Operand {
    Reg(Reg),
    Imm(i32),
}

/// ALU operations. `Div`/`Mod` with `off == 1` in the encoding are the signed variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    Div,
    SDiv,
    Or,
    And,
    Lsh,
    Rsh,
    Neg,
    Mod,
    SMod,
    Xor,
    Mov,
    /// `movsx`: sign-extend the low 8, 16 or 32 bits of the source.
    MovSx(u8),
    Arsh,
}

/// Byte-swap kinds: `BPF_END | BPF_TO_LE`, `BPF_TO_BE` (class ALU), and `bswap` (class ALU64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Endian {
    ToLe,
    ToBe,
    Swap,
}

/// Conditional jump conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum JmpCond {
    Eq,
    Ne,
    /// Unsigned >
    Gt,
    Ge,
    Lt,
    Le,
    /// Signed >
    SGt,
    SGe,
    SLt,
    SLe,
    /// `dst & src != 0`
    Set,
}

/// Atomic read-modify-write operations (`BPF_ATOMIC` mode of STX).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum AtomicOp {
    Add,
    Or,
    And,
    Xor,
    /// Always fetches (old value into src).
    Xchg,
    /// Compares with R0, old value into R0.
    CmpXchg,
}

/// What `BPF_CALL` calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum CallTarget {
    /// src = 0: helper function by id.
    Helper(i32),
    /// src = 1 (`BPF_PSEUDO_CALL`): bpf-to-bpf call, imm is the pc offset relative to the next insn.
    Local(i32),
    /// src = 2 (`BPF_PSEUDO_KFUNC_CALL`): kernel function by BTF id; `off` selects the module BTF.
    Kfunc { btf_id: i32, off: i16 },
}

/// The `src` field of `LD_IMM64`: how the 64-bit immediate is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum LdImm64Src {
    /// 0: a plain 64-bit constant.
    Imm,
    /// 1 (`BPF_PSEUDO_MAP_FD`): imm is a map fd.
    MapFd,
    /// 2 (`BPF_PSEUDO_MAP_VALUE`): imm is a map fd, next imm an offset into its value.
    MapValue,
    /// 3 (`BPF_PSEUDO_BTF_ID`): a kernel variable by BTF id.
    BtfId,
    /// 4 (`BPF_PSEUDO_FUNC`): address of a subprogram, imm is a pc offset.
    Func,
    /// 5 (`BPF_PSEUDO_MAP_IDX`): imm is an index into the object's map table (fd_array).
    MapIdx,
    /// 6 (`BPF_PSEUDO_MAP_IDX_VALUE`): map index plus offset into its value.
    MapIdxValue,
}

impl LdImm64Src {
    pub fn from_src(src: u8) -> Option<LdImm64Src> {
        Some(match src {
            0 => LdImm64Src::Imm,
            1 => LdImm64Src::MapFd,
            2 => LdImm64Src::MapValue,
            3 => LdImm64Src::BtfId,
            4 => LdImm64Src::Func,
            5 => LdImm64Src::MapIdx,
            6 => LdImm64Src::MapIdxValue,
            _ => return None,
        })
    }

    pub fn to_src(self) -> u8 {
        self as u8
    }
}

/// One decoded instruction slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Insn {
    /// `dst = dst op src` (or `dst = -dst` for `Neg`, `dst = src` for `Mov`/`MovSx`).
    /// In 32-bit width the result is zero-extended into the 64-bit register.
    Alu { width: Width, op: AluOp, dst: Reg, src: Operand },
    /// Byte swap of the low `bits` (16, 32, 64) bits of dst.
    Endian { kind: Endian, bits: u8, dst: Reg },
    /// Unconditional jump; `off` is relative to the next instruction.
    /// `BPF_JMP|BPF_JA` uses the 16-bit off field; `BPF_JMP32|BPF_JA` (`gotol`) the 32-bit imm.
    Ja { off: i32, long: bool },
    /// `if dst cond src goto pc+off`.
    Jmp { width: Width, cond: JmpCond, dst: Reg, src: Operand, off: i16 },
    Call(CallTarget),
    Exit,
    /// First slot of `LD_IMM64`: `dst = imm64` where `imm64 = (next_imm as u32 as u64) << 32 | imm as u32 as u64`,
    /// interpreted according to `src`.
    LdImm64 { dst: Reg, src: LdImm64Src, imm: i32, next_imm: i32 },
    /// Second slot of `LD_IMM64`; never executed.
    LdImm64Tail,
    /// `dst = *(size *)(src + off)`, sign-extending when `sign_ext` (`BPF_MEMSX`).
    Ldx { size: Size, sign_ext: bool, dst: Reg, src: Reg, off: i16 },
    /// `*(size *)(dst + off) = imm`.
    St { size: Size, dst: Reg, off: i16, imm: i32 },
    /// `*(size *)(dst + off) = src`.
    Stx { size: Size, dst: Reg, src: Reg, off: i16 },
    /// Atomic `*(size *)(dst + off) op= src`; size is W or DW.
    Atomic { size: Size, op: AtomicOp, fetch: bool, dst: Reg, src: Reg, off: i16 },
    /// Legacy `BPF_LD | BPF_ABS`: `R0 = ntoh(*(size *)(skb->data + imm))`, R6 must be the ctx.
    LdAbs { size: Size, imm: i32 },
    /// Legacy `BPF_LD | BPF_IND`: `R0 = ntoh(*(size *)(skb->data + src + imm))`.
    LdInd { size: Size, src: Reg, imm: i32 },
}

impl Insn {
    /// The 64-bit constant of an `LD_IMM64` pair.
    pub fn imm64(imm: i32, next_imm: i32) -> u64 {
        ((next_imm as u32 as u64) << 32) | (imm as u32 as u64)
    }

    /// The pc this instruction jumps to when taken, if it is a jump.
    pub fn jump_target(&self, pc: usize) -> Option<i64> {
        match *self {
            Insn::Ja { off, .. } => Some(pc as i64 + 1 + off as i64),
            Insn::Jmp { off, .. } => Some(pc as i64 + 1 + off as i64),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_offsets_of_raw_instructions() {
        let insns = parse::parse_program("goto pc-3\nif r1 > r2 goto pc+4\ngotol pc-7\ncall bpf_map_lookup_elem#1\nexit\nr0 = 1\n")
            .expect("parses");
        let offs: Vec<Option<i64>> = insns.iter().map(RawInsn::jump_offset).collect();
        assert_eq!(offs, vec![Some(-3), Some(4), Some(-7), None, None, None]);
    }
}
