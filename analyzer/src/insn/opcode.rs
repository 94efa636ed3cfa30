//! The kernel's instruction-encoding constants (`include/uapi/linux/bpf.h`, `bpf_common.h`)
//! and the opcode table of `kernel/bpf/core.c` (`bpf_opcode_in_insntable`).
//!
//! An opcode byte is `class | size | mode` for loads and stores and `class | op | src` for
//! ALU and JMP classes; the helpers below split it the way the kernel's `BPF_CLASS`,
//! `BPF_OP`, `BPF_SRC`, `BPF_MODE`, `BPF_SIZE` macros do.

pub const BPF_LD: u8 = 0x00;
pub const BPF_LDX: u8 = 0x01;
pub const BPF_ST: u8 = 0x02;
pub const BPF_STX: u8 = 0x03;
pub const BPF_ALU: u8 = 0x04;
pub const BPF_JMP: u8 = 0x05;
pub const BPF_JMP32: u8 = 0x06;
pub const BPF_ALU64: u8 = 0x07;

pub const BPF_W: u8 = 0x00;
pub const BPF_H: u8 = 0x08;
pub const BPF_B: u8 = 0x10;
pub const BPF_DW: u8 = 0x18;

pub const BPF_IMM: u8 = 0x00;
pub const BPF_ABS: u8 = 0x20;
pub const BPF_IND: u8 = 0x40;
pub const BPF_MEM: u8 = 0x60;
pub const BPF_MEMSX: u8 = 0x80;
pub const BPF_ATOMIC: u8 = 0xc0;
/// Internal speculation barrier (`BPF_ST | BPF_NOSPEC`); not UAPI, only printed.
pub const BPF_NOSPEC: u8 = 0xc0;

pub const BPF_K: u8 = 0x00;
pub const BPF_X: u8 = 0x08;
pub const BPF_TO_LE: u8 = 0x00;
pub const BPF_TO_BE: u8 = 0x08;

pub const BPF_ADD: u8 = 0x00;
pub const BPF_SUB: u8 = 0x10;
pub const BPF_MUL: u8 = 0x20;
pub const BPF_DIV: u8 = 0x30;
pub const BPF_OR: u8 = 0x40;
pub const BPF_AND: u8 = 0x50;
pub const BPF_LSH: u8 = 0x60;
pub const BPF_RSH: u8 = 0x70;
pub const BPF_NEG: u8 = 0x80;
pub const BPF_MOD: u8 = 0x90;
pub const BPF_XOR: u8 = 0xa0;
pub const BPF_MOV: u8 = 0xb0;
pub const BPF_ARSH: u8 = 0xc0;
pub const BPF_END: u8 = 0xd0;

pub const BPF_JA: u8 = 0x00;
pub const BPF_JEQ: u8 = 0x10;
pub const BPF_JGT: u8 = 0x20;
pub const BPF_JGE: u8 = 0x30;
pub const BPF_JSET: u8 = 0x40;
pub const BPF_JNE: u8 = 0x50;
pub const BPF_JSGT: u8 = 0x60;
pub const BPF_JSGE: u8 = 0x70;
pub const BPF_CALL: u8 = 0x80;
pub const BPF_EXIT: u8 = 0x90;
pub const BPF_JLT: u8 = 0xa0;
pub const BPF_JLE: u8 = 0xb0;
pub const BPF_JSLT: u8 = 0xc0;
pub const BPF_JSLE: u8 = 0xd0;
pub const BPF_JCOND: u8 = 0xe0;

/// `src_reg` of `BPF_JMP | BPF_JCOND`: `may_goto`.
pub const BPF_MAY_GOTO: u8 = 0;
/// `off` of `BPF_ALU64 | BPF_MOV | BPF_X` marking `addr_space_cast`.
pub const BPF_ADDR_SPACE_CAST: i16 = 1;

/// Atomic op flag: old value is fetched into `src_reg` (or R0 for cmpxchg).
pub const BPF_FETCH: i32 = 0x01;
pub const BPF_XCHG: i32 = 0xe0 | BPF_FETCH;
pub const BPF_CMPXCHG: i32 = 0xf0 | BPF_FETCH;
pub const BPF_LOAD_ACQ: i32 = 0x100;
pub const BPF_STORE_REL: i32 = 0x110;

/// `src_reg` of `BPF_CALL`.
pub const BPF_PSEUDO_CALL: u8 = 1;
pub const BPF_PSEUDO_KFUNC_CALL: u8 = 2;

/// The opcode of the first slot of `LD_IMM64`.
pub const LD_IMM64: u8 = BPF_LD | BPF_IMM | BPF_DW;

pub fn class(code: u8) -> u8 {
    code & 0x07
}
pub fn op(code: u8) -> u8 {
    code & 0xf0
}
pub fn src(code: u8) -> u8 {
    code & 0x08
}
pub fn mode(code: u8) -> u8 {
    code & 0xe0
}
pub fn size(code: u8) -> u8 {
    code & 0x18
}

/// Whether `code` is in the kernel's public opcode table (`bpf_opcode_in_insntable`, Linux 6.18):
/// everything else is rejected with `unknown opcode %02x` before any other check.
pub fn in_insntable(code: u8) -> bool {
    let (cls, op, src) = (class(code), op(code), src(code));
    match cls {
        BPF_ALU | BPF_ALU64 => match op {
            BPF_NEG => src == BPF_K,
            // ALU64 has only TO_LE (= bswap); ALU has both.
            BPF_END => cls == BPF_ALU || src == BPF_TO_LE,
            BPF_ADD | BPF_SUB | BPF_MUL | BPF_DIV | BPF_OR | BPF_AND | BPF_LSH | BPF_RSH | BPF_MOD
            | BPF_XOR | BPF_MOV | BPF_ARSH => true,
            _ => false,
        },
        BPF_JMP | BPF_JMP32 => match op {
            BPF_CALL | BPF_EXIT => cls == BPF_JMP && src == BPF_K,
            BPF_JA => src == BPF_K,
            BPF_JCOND => code == (BPF_JMP | BPF_JCOND),
            0xf0 => false,
            _ => true,
        },
        BPF_LDX => {
            let m = mode(code);
            m == BPF_MEM || (m == BPF_MEMSX && size(code) != BPF_DW)
        }
        BPF_ST => mode(code) == BPF_MEM,
        BPF_STX => matches!(mode(code), BPF_MEM | BPF_ATOMIC),
        BPF_LD => {
            let m = mode(code);
            code == LD_IMM64 || ((m == BPF_ABS || m == BPF_IND) && size(code) != BPF_DW)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_known_opcodes() {
        for code in [0x07, 0x0f, 0x84, 0x87, 0xd4, 0xdc, 0xd7, 0x85, 0x95, 0x05, 0x06, 0xe5, 0x1d, 0x16, 0x61, 0x91,
            0x79, 0x62, 0x7a, 0x63, 0x7b, 0xdb, 0xc3, 0xd3, 0x18, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50]
        {
            assert!(in_insntable(code), "{code:#04x} should be valid");
        }
        for code in [0x00, 0x8c, 0x8f, 0xdf, 0xe4, 0xf7, 0x86, 0x96, 0x8d, 0x0d, 0xf5, 0xe6, 0x99, 0x38, 0x58, 0x60,
            0x72 | 0x80, 0xc2, 0x10, 0x08]
        {
            assert!(!in_insntable(code), "{code:#04x} should be invalid");
        }
    }
}
