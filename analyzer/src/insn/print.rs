//! The kernel's instruction printer: a port of `print_bpf_insn()` in `kernel/bpf/disasm.c`
//! (Linux 6.18), which writes the verifier log's `{pc}: {text}` lines and
//! `bpftool prog dump xlated`.
//!
//! It works on raw instructions, so it prints anything, malformed or not, exactly as the
//! kernel would (`BUG_ld_00` for the second slot of an `LD_IMM64`, `(null)` where the
//! kernel's tables have holes). Examples: `(bf) r6 = r1`, `(61) r2 = *(u32 *)(r1 +76)`,
//! `(2d) if r3 > r2 goto pc+2`, `(85) call bpf_map_lookup_elem#1`, `(b4) w0 = 0`.
//!
//! `InsnNames` plays the role of disasm.c's `bpf_insn_print_cbs` (`cb_call`, `cb_imm`).
//! Without it, `LD_IMM64` prints its 64-bit value in hex and kfunc calls print
//! `call kernel-function#<btf_id>`, as the kernel does without callbacks. The kernel hides
//! map pointers (`is_ptr && !allow_ptr_leaks` prints `0x0`); `InsnPrinter::allow_ptr_leaks`
//! selects that, and defaults to `true` (root, and raw fds or indices are not pointers).
//!
//! `InsnPrinter::pseudo()` prints `LD_IMM64` pseudo sources symbolically so that `parse`
//! can read every instruction back: `map[fd:N]`, `map_value[fd:N]+OFF`, `btf_id[N]`,
//! `func[pc+N]`, `map[idx:N]`, `map_value[idx:N]+OFF`, and `ld_imm64[src:S, 0x...]` when
//! the ignored upper half is not zero; kfunc calls with a module BTF `off` get `[off:K]`.

use super::decode::opcode::*;
use super::helper_names::helper_name;
use super::RawInsn;

/// Naming callbacks, like disasm.c's `bpf_insn_print_cbs`. Return `None` for the default text.
pub trait InsnNames {
    /// `cb_call`: the target of a call, consulted for every call that is not a known helper
    /// (kfuncs, bpf-to-bpf calls, unknown helper ids). For `BPF_PSEUDO_CALL` the text follows
    /// `call pc`, so the kernel's default is `+5`.
    fn call_name(&self, _insn: &RawInsn) -> Option<String> {
        None
    }

    /// `cb_imm`: the whole right-hand side of an `LD_IMM64` whose 64-bit value is `full_imm`.
    fn imm64(&self, _insn: &RawInsn, _full_imm: u64) -> Option<String> {
        None
    }
}

/// A configured instruction printer. `InsnPrinter::kernel()` (also `Default`) prints what
/// the kernel prints with no callbacks; `InsnPrinter::pseudo()` prints the parseable
/// symbolic forms for `LD_IMM64` pseudo sources.
#[derive(Clone, Copy)]
pub struct InsnPrinter<'a> {
    /// When false, `LD_IMM64` with `BPF_PSEUDO_MAP_FD`/`BPF_PSEUDO_MAP_VALUE` prints `0x0`
    /// (kernel mode only), as the kernel does for unprivileged users.
    pub allow_ptr_leaks: bool,
    /// Print `LD_IMM64` pseudo sources and kfunc module offsets symbolically (see module doc).
    pub pseudo_syntax: bool,
    /// Naming callbacks; they take precedence over both built-in syntaxes.
    pub names: Option<&'a dyn InsnNames>,
}

impl Default for InsnPrinter<'_> {
    fn default() -> Self {
        InsnPrinter { allow_ptr_leaks: true, pseudo_syntax: false, names: None }
    }
}

impl std::fmt::Debug for InsnPrinter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InsnPrinter")
            .field("allow_ptr_leaks", &self.allow_ptr_leaks)
            .field("pseudo_syntax", &self.pseudo_syntax)
            .field("names", &self.names.is_some())
            .finish()
    }
}

/// Prints the instruction at `pc` like the kernel's verifier log, without the `pc: ` prefix.
pub fn print_insn(raw: &[RawInsn], pc: usize) -> String {
    InsnPrinter::kernel().print(raw, pc)
}

/// Names kfunc calls (module-less, `off == 0`) by their function in the running kernel's
/// BTF, as the verifier's `cb_call` does in its log (`call bpf_skb_ct_lookup#65660`).
pub struct KernelFuncNames;

impl InsnNames for KernelFuncNames {
    fn call_name(&self, insn: &RawInsn) -> Option<String> {
        if insn.src != BPF_PSEUDO_KFUNC_CALL || insn.off != 0 {
            return None;
        }
        crate::elf::vmlinux::kernel_func_name(insn.imm).map(str::to_string)
    }
}

/// The verifier log's text of the instruction at `pc`: [`print_insn`] with kfuncs named
/// from kernel BTF ([`KernelFuncNames`]).
pub fn print_log_insn(raw: &[RawInsn], pc: usize) -> String {
    InsnPrinter::kernel().with_names(&KernelFuncNames).print(raw, pc)
}

/// Prints a whole program, one `{pc}: {text}` line per instruction (LD_IMM64 tails skipped).
pub fn print_program(raw: &[RawInsn]) -> String {
    InsnPrinter::kernel().print_program(raw)
}

const NULL: &str = "(null)";

fn alu_string(op: u8) -> &'static str {
    match op {
        BPF_ADD => "+=",
        BPF_SUB => "-=",
        BPF_MUL => "*=",
        BPF_DIV => "/=",
        BPF_OR => "|=",
        BPF_AND => "&=",
        BPF_LSH => "<<=",
        BPF_RSH => ">>=",
        BPF_NEG => "neg",
        BPF_MOD => "%=",
        BPF_XOR => "^=",
        BPF_MOV => "=",
        BPF_ARSH => "s>>=",
        BPF_END => "endian",
        _ => NULL,
    }
}

fn alu_sign_string(op: u8) -> &'static str {
    match op {
        BPF_DIV => "s/=",
        BPF_MOD => "s%=",
        _ => NULL,
    }
}

fn atomic_alu_string(op: u8) -> &'static str {
    match op {
        BPF_ADD => "add",
        BPF_AND => "and",
        BPF_OR => "or",
        BPF_XOR => "xor",
        _ => NULL,
    }
}

fn ldst_string(code: u8) -> &'static str {
    match size(code) {
        BPF_W => "u32",
        BPF_H => "u16",
        BPF_B => "u8",
        _ => "u64",
    }
}

fn ldsx_string(code: u8) -> &'static str {
    match size(code) {
        BPF_W => "s32",
        BPF_H => "s16",
        BPF_B => "s8",
        // Past the end of the kernel's array; never printed for a loadable program.
        _ => NULL,
    }
}

fn jmp_string(op: u8) -> &'static str {
    match op {
        BPF_JA => "jmp",
        BPF_JEQ => "==",
        BPF_JGT => ">",
        BPF_JLT => "<",
        BPF_JGE => ">=",
        BPF_JLE => "<=",
        BPF_JSET => "&",
        BPF_JNE => "!=",
        BPF_JSGT => "s>",
        BPF_JSLT => "s<",
        BPF_JSGE => "s>=",
        BPF_JSLE => "s<=",
        BPF_CALL => "call",
        BPF_EXIT => "exit",
        _ => NULL,
    }
}

fn class_string(class: u8) -> &'static str {
    ["ld", "ldx", "st", "stx", "alu", "jmp", "jmp32", "alu64"].get(class as usize).copied().unwrap_or(NULL)
}

fn is_sdiv_smod(i: &RawInsn) -> bool {
    matches!(op(i.code), BPF_DIV | BPF_MOD) && i.off == 1
}

fn movsx_string(i: &RawInsn) -> &'static str {
    if op(i.code) != BPF_MOV {
        return "";
    }
    match i.off {
        8 => "(s8)",
        16 => "(s16)",
        32 => "(s32)",
        _ => "",
    }
}

impl InsnPrinter<'static> {
    /// The kernel's output with no callbacks and `allow_ptr_leaks`.
    pub fn kernel() -> Self {
        InsnPrinter::default()
    }

    /// The kernel's output, except that `LD_IMM64` pseudo sources print symbolically so
    /// that `parse_program` can read them back (the "named-map mode").
    pub fn pseudo() -> Self {
        InsnPrinter { pseudo_syntax: true, ..InsnPrinter::default() }
    }
}

impl<'a> InsnPrinter<'a> {
    /// The same printer with naming callbacks.
    pub fn with_names(self, names: &'a dyn InsnNames) -> InsnPrinter<'a> {
        InsnPrinter { names: Some(names), ..self }
    }

    /// A whole program, one `{pc}: {text}` line per instruction; `LD_IMM64` tails are skipped.
    pub fn print_program(&self, raw: &[RawInsn]) -> String {
        let mut out = String::new();
        let mut pc = 0;
        while pc < raw.len() {
            out.push_str(&format!("{pc}: {}\n", self.print(raw, pc)));
            pc += if raw[pc].code == LD_IMM64 { 2 } else { 1 };
        }
        out
    }

    /// The text of the instruction at `pc`, without the `pc: ` prefix. An `LD_IMM64` reads its
    /// upper half from `pc + 1` (0 if missing). Prints `(pc N out of range)` if `pc` is past the end.
    pub fn print(&self, raw: &[RawInsn], pc: usize) -> String {
        let Some(insn) = raw.get(pc) else {
            return format!("(pc {pc} out of range)");
        };
        let next_imm = raw.get(pc + 1).map_or(0, |n| n.imm);
        self.print_raw(insn, next_imm)
    }

    /// The text of one instruction given the `imm` of the following slot (used by `LD_IMM64`).
    pub fn print_raw(&self, i: &RawInsn, next_imm: i32) -> String {
        let code = i.code;
        let cls = class(code);
        match cls {
            BPF_ALU | BPF_ALU64 => self.print_alu(i),
            BPF_STX => print_stx(i),
            BPF_ST => {
                if mode(code) == BPF_MEM {
                    format!("({code:02x}) *({} *)(r{} {:+}) = {}", ldst_string(code), i.dst, i.off, i.imm)
                } else if mode(code) == BPF_NOSPEC {
                    format!("({code:02x}) nospec")
                } else {
                    format!("BUG_st_{code:02x}")
                }
            }
            BPF_LDX => {
                let ty = match mode(code) {
                    BPF_MEM => ldst_string(code),
                    BPF_MEMSX => ldsx_string(code),
                    _ => return format!("BUG_ldx_{code:02x}"),
                };
                format!("({code:02x}) r{} = *({ty} *)(r{} {:+})", i.dst, i.src, i.off)
            }
            BPF_LD => match mode(code) {
                BPF_ABS => format!("({code:02x}) r0 = *({} *)skb[{}]", ldst_string(code), i.imm),
                BPF_IND => format!("({code:02x}) r0 = *({} *)skb[r{} + {}]", ldst_string(code), i.src, i.imm),
                BPF_IMM if size(code) == BPF_DW => {
                    format!("({code:02x}) r{} = {}", i.dst, self.imm64_text(i, next_imm))
                }
                _ => format!("BUG_ld_{code:02x}"),
            },
            BPF_JMP | BPF_JMP32 => self.print_jmp(i),
            _ => format!("({code:02x}) {}", class_string(cls)),
        }
    }

    fn print_alu(&self, i: &RawInsn) -> String {
        let code = i.code;
        let w = if class(code) == BPF_ALU { 'w' } else { 'r' };
        let opc = op(code);
        if opc == BPF_END {
            if class(code) == BPF_ALU64 {
                format!("({code:02x}) r{} = bswap{} r{}", i.dst, i.imm, i.dst)
            } else {
                let kind = if src(code) == BPF_TO_BE { "be" } else { "le" };
                format!("({code:02x}) r{} = {kind}{} r{}", i.dst, i.imm, i.dst)
            }
        } else if opc == BPF_NEG {
            format!("({code:02x}) {w}{} = -{w}{}", i.dst, i.dst)
        } else if code == (BPF_ALU64 | BPF_MOV | BPF_X) && i.off == BPF_ADDR_SPACE_CAST {
            format!("({code:02x}) r{} = addr_space_cast(r{}, {}, {})", i.dst, i.src, (i.imm as u32) >> 16, i.imm as u16)
        } else {
            let op_str = if is_sdiv_smod(i) { alu_sign_string(opc) } else { alu_string(opc) };
            if src(code) == BPF_X {
                format!("({code:02x}) {w}{} {op_str} {}{w}{}", i.dst, movsx_string(i), i.src)
            } else {
                format!("({code:02x}) {w}{} {op_str} {}", i.dst, i.imm)
            }
        }
    }

    fn imm64_text(&self, i: &RawInsn, next_imm: i32) -> String {
        let mut full = (u64::from(next_imm as u32) << 32) | u64::from(i.imm as u32);
        if let Some(text) = self.names.and_then(|n| n.imm64(i, full)) {
            return text;
        }
        if self.pseudo_syntax {
            return pseudo_imm64(i, next_imm, full);
        }
        let is_ptr = i.src == 1 || i.src == 2;
        if is_ptr && !self.allow_ptr_leaks {
            full = 0;
        }
        format!("{full:#x}")
    }

    /// disasm.c's `__func_get_name`: known helpers by name, then `cb_call`, then the default.
    fn call_target_name(&self, i: &RawInsn) -> String {
        if i.src == 0 {
            if i.imm == 0 {
                return "bpf_unspec".to_string();
            }
            if let Some(name) = helper_name(i.imm) {
                return name.to_string();
            }
        }
        if let Some(name) = self.names.and_then(|n| n.call_name(i)) {
            return name;
        }
        match i.src {
            BPF_PSEUDO_CALL => format!("{:+}", i.imm),
            BPF_PSEUDO_KFUNC_CALL => "kernel-function".to_string(),
            _ => "unknown".to_string(),
        }
    }

    fn print_jmp(&self, i: &RawInsn) -> String {
        let code = i.code;
        let opc = op(code);
        let w = if class(code) == BPF_JMP32 { 'w' } else { 'r' };
        if opc == BPF_CALL {
            let name = self.call_target_name(i);
            if i.src == BPF_PSEUDO_CALL {
                format!("({code:02x}) call pc{name}")
            } else if self.pseudo_syntax && i.src == BPF_PSEUDO_KFUNC_CALL && i.off != 0 {
                format!("({code:02x}) call {name}#{}[off:{}]", i.imm, i.off)
            } else {
                format!("({code:02x}) call {name}#{}", i.imm)
            }
        } else if code == (BPF_JMP | BPF_JA) {
            format!("({code:02x}) goto pc{:+}", i.off)
        } else if code == (BPF_JMP | BPF_JCOND) && i.src == BPF_MAY_GOTO {
            format!("({code:02x}) may_goto pc{:+}", i.off)
        } else if code == (BPF_JMP32 | BPF_JA) {
            format!("({code:02x}) gotol pc{:+}", i.imm)
        } else if code == (BPF_JMP | BPF_EXIT) {
            format!("({code:02x}) exit")
        } else if src(code) == BPF_X {
            format!("({code:02x}) if {w}{} {} {w}{} goto pc{:+}", i.dst, jmp_string(opc), i.src, i.off)
        } else {
            format!("({code:02x}) if {w}{} {} {:#x} goto pc{:+}", i.dst, jmp_string(opc), i.imm as u32, i.off)
        }
    }
}

fn print_stx(i: &RawInsn) -> String {
    let code = i.code;
    let ty = ldst_string(code);
    let (dst, src, off) = (i.dst, i.src, i.off);
    let b64 = if size(code) == BPF_DW { "64" } else { "" };
    let atomic = mode(code) == BPF_ATOMIC;
    let imm = i.imm;
    let alu_ops = [BPF_ADD as i32, BPF_AND as i32, BPF_OR as i32, BPF_XOR as i32];
    if mode(code) == BPF_MEM {
        format!("({code:02x}) *({ty} *)(r{dst} {off:+}) = r{src}")
    } else if atomic && alu_ops.contains(&imm) {
        format!("({code:02x}) lock *({ty} *)(r{dst} {off:+}) {} r{src}", alu_string(imm as u8 & 0xf0))
    } else if atomic && alu_ops.iter().any(|&o| imm == o | BPF_FETCH) {
        let name = atomic_alu_string(imm as u8 & 0xf0);
        format!("({code:02x}) r{src} = atomic{b64}_fetch_{name}(({ty} *)(r{dst} {off:+}), r{src})")
    } else if atomic && imm == BPF_CMPXCHG {
        format!("({code:02x}) r0 = atomic{b64}_cmpxchg(({ty} *)(r{dst} {off:+}), r0, r{src})")
    } else if atomic && imm == BPF_XCHG {
        format!("({code:02x}) r{src} = atomic{b64}_xchg(({ty} *)(r{dst} {off:+}), r{src})")
    } else if atomic && imm == BPF_LOAD_ACQ {
        format!("({code:02x}) r{dst} = load_acquire(({ty} *)(r{src} {off:+}))")
    } else if atomic && imm == BPF_STORE_REL {
        format!("({code:02x}) store_release(({ty} *)(r{dst} {off:+}), r{src})")
    } else {
        format!("BUG_{code:02x}")
    }
}

/// The parseable symbolic right-hand side of an `LD_IMM64` (pseudo mode).
fn pseudo_imm64(i: &RawInsn, next_imm: i32, full: u64) -> String {
    let (imm, next) = (i.imm as u32, next_imm as u32);
    match (i.src, next) {
        (0, _) => format!("{full:#x}"),
        (1, 0) => format!("map[fd:{imm}]"),
        (2, _) => format!("map_value[fd:{imm}]+{next}"),
        (3, 0) => format!("btf_id[{imm}]"),
        (4, 0) => format!("func[pc{:+}]", i.imm),
        (5, 0) => format!("map[idx:{imm}]"),
        (6, _) => format!("map_value[idx:{imm}]+{next}"),
        (s, _) => format!("ld_imm64[src:{s}, {full:#x}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ri(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
        RawInsn { code, dst, src, off, imm }
    }

    fn p(i: RawInsn) -> String {
        print_insn(&[i], 0)
    }

    /// Lines as the kernel prints them (from verifier logs, bpftool dumps and disasm.c's formats).
    #[test]
    fn prints_like_the_kernel() {
        let table: &[(RawInsn, &str)] = &[
            (ri(0xbf, 6, 1, 0, 0), "(bf) r6 = r1"),
            (ri(0x61, 2, 1, 76, 0), "(61) r2 = *(u32 *)(r1 +76)"),
            (ri(0x79, 3, 10, -8, 0), "(79) r3 = *(u64 *)(r10 -8)"),
            (ri(0x2d, 3, 2, 2, 0), "(2d) if r3 > r2 goto pc+2"),
            (ri(0x85, 0, 0, 0, 1), "(85) call bpf_map_lookup_elem#1"),
            (ri(0x85, 0, 0, 0, 12), "(85) call bpf_tail_call#12"),
            (ri(0x85, 0, 0, 0, 0), "(85) call bpf_unspec#0"),
            (ri(0x85, 0, 0, 0, 999), "(85) call unknown#999"),
            (ri(0x85, 0, 1, 0, 5), "(85) call pc+5"),
            (ri(0x85, 0, 1, 0, -7), "(85) call pc-7"),
            (ri(0x85, 0, 2, 0, 12345), "(85) call kernel-function#12345"),
            (ri(0x07, 1, 0, 0, -8), "(07) r1 += -8"),
            (ri(0xb4, 0, 0, 0, 0), "(b4) w0 = 0"),
            (ri(0xb7, 0, 0, 0, -1), "(b7) r0 = -1"),
            (ri(0x95, 0, 0, 0, 0), "(95) exit"),
            (ri(0xbc, 1, 2, 8, 0), "(bc) w1 = (s8)w2"),
            (ri(0xbf, 1, 2, 32, 0), "(bf) r1 = (s32)r2"),
            (ri(0xbf, 1, 2, 16, 0), "(bf) r1 = (s16)r2"),
            (ri(0x3f, 1, 2, 1, 0), "(3f) r1 s/= r2"),
            (ri(0x94, 1, 0, 1, 3), "(94) w1 s%= 3"),
            (ri(0x37, 1, 0, 0, 3), "(37) r1 /= 3"),
            (ri(0xc7, 1, 0, 0, 32), "(c7) r1 s>>= 32"),
            (ri(0x67, 1, 0, 0, 32), "(67) r1 <<= 32"),
            (ri(0x77, 1, 0, 0, 32), "(77) r1 >>= 32"),
            (ri(0x5f, 1, 2, 0, 0), "(5f) r1 &= r2"),
            (ri(0x4c, 1, 2, 0, 0), "(4c) w1 |= w2"),
            (ri(0xac, 1, 2, 0, 0), "(ac) w1 ^= w2"),
            (ri(0x2f, 1, 2, 0, 0), "(2f) r1 *= r2"),
            (ri(0x1f, 1, 2, 0, 0), "(1f) r1 -= r2"),
            (ri(0x9c, 1, 2, 0, 0), "(9c) w1 %= w2"),
            (ri(0x87, 1, 0, 0, 0), "(87) r1 = -r1"),
            (ri(0x84, 1, 0, 0, 0), "(84) w1 = -w1"),
            (ri(0xdb, 1, 2, 0, 0), "(db) lock *(u64 *)(r1 +0) += r2"),
            (ri(0xc3, 1, 2, 4, 0x40), "(c3) lock *(u32 *)(r1 +4) |= r2"),
            (ri(0xc3, 1, 0, 0, 1), "(c3) r0 = atomic_fetch_add((u32 *)(r1 +0), r0)"),
            (ri(0xdb, 1, 3, -8, 0x51), "(db) r3 = atomic64_fetch_and((u64 *)(r1 -8), r3)"),
            (ri(0xdb, 1, 3, 0, 0xe1), "(db) r3 = atomic64_xchg((u64 *)(r1 +0), r3)"),
            (ri(0xc3, 1, 3, 0, 0xf1), "(c3) r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r3)"),
            (ri(0xdb, 1, 3, 0, 0x100), "(db) r1 = load_acquire((u64 *)(r3 +0))"),
            (ri(0xc3, 1, 3, 0, 0x110), "(c3) store_release((u32 *)(r1 +0), r3)"),
            (ri(0xdb, 1, 3, 0, 0x10), "BUG_db"),
            (ri(0x06, 0, 0, 0, 70000), "(06) gotol pc+70000"),
            (ri(0x05, 0, 0, -3, 0), "(05) goto pc-3"),
            (ri(0xe5, 0, 0, 4, 0), "(e5) may_goto pc+4"),
            (ri(0xd4, 1, 0, 0, 16), "(d4) r1 = le16 r1"),
            (ri(0xdc, 1, 0, 0, 32), "(dc) r1 = be32 r1"),
            (ri(0xd7, 1, 0, 0, 16), "(d7) r1 = bswap16 r1"),
            (ri(0xd7, 2, 0, 0, 64), "(d7) r2 = bswap64 r2"),
            (ri(0x63, 10, 1, -4, 0), "(63) *(u32 *)(r10 -4) = r1"),
            (ri(0x7b, 10, 1, -16, 0), "(7b) *(u64 *)(r10 -16) = r1"),
            (ri(0x73, 1, 2, 0, 0), "(73) *(u8 *)(r1 +0) = r2"),
            (ri(0x6a, 10, 0, -2, 7), "(6a) *(u16 *)(r10 -2) = 7"),
            (ri(0x72, 10, 0, -1, -1), "(72) *(u8 *)(r10 -1) = -1"),
            (ri(0x91, 1, 2, 0, 0), "(91) r1 = *(s8 *)(r2 +0)"),
            (ri(0x89, 1, 2, 2, 0), "(89) r1 = *(s16 *)(r2 +2)"),
            (ri(0x81, 1, 2, 4, 0), "(81) r1 = *(s32 *)(r2 +4)"),
            (ri(0x71, 1, 2, 0, 0), "(71) r1 = *(u8 *)(r2 +0)"),
            (ri(0x69, 1, 2, 0, 0), "(69) r1 = *(u16 *)(r2 +0)"),
            (ri(0x30, 0, 0, 0, 12), "(30) r0 = *(u8 *)skb[12]"),
            (ri(0x28, 0, 0, 0, 12), "(28) r0 = *(u16 *)skb[12]"),
            (ri(0x40, 0, 3, 0, 14), "(40) r0 = *(u32 *)skb[r3 + 14]"),
            (ri(0x15, 0, 0, 5, 0), "(15) if r0 == 0x0 goto pc+5"),
            (ri(0x55, 1, 0, -2, -1), "(55) if r1 != 0xffffffff goto pc-2"),
            (ri(0x16, 1, 0, 1, 7), "(16) if w1 == 0x7 goto pc+1"),
            (ri(0xa5, 1, 0, 1, 10), "(a5) if r1 < 0xa goto pc+1"),
            (ri(0xbd, 1, 2, 1, 0), "(bd) if r1 <= r2 goto pc+1"),
            (ri(0x6d, 1, 2, 1, 0), "(6d) if r1 s> r2 goto pc+1"),
            (ri(0xc6, 1, 0, 1, 0), "(c6) if w1 s< 0x0 goto pc+1"),
            (ri(0xde, 1, 2, 1, 0), "(de) if w1 s<= w2 goto pc+1"),
            (ri(0x75, 1, 0, 1, 0), "(75) if r1 s>= 0x0 goto pc+1"),
            (ri(0x45, 1, 0, 1, 8), "(45) if r1 & 0x8 goto pc+1"),
            (ri(0x3e, 1, 2, 1, 0), "(3e) if w1 >= w2 goto pc+1"),
            (ri(0xbf, 1, 2, 1, 1), "(bf) r1 = addr_space_cast(r2, 0, 1)"),
            (ri(0xc2, 0, 0, 0, 0), "(c2) nospec"),
            (ri(0x00, 0, 0, 0, 0), "BUG_ld_00"),
            (ri(0x60, 0, 0, 0, 0), "BUG_ld_60"),
            (ri(0xa1, 0, 0, 0, 0), "BUG_ldx_a1"),
            (ri(0xe2, 0, 0, 0, 0), "BUG_st_e2"),
            (ri(0xe3, 0, 0, 0, 0), "BUG_e3"),
            (ri(0xe7, 1, 2, 0, 0), "(e7) r1 (null) 0"),
        ];
        for (insn, want) in table {
            assert_eq!(p(*insn), *want, "{insn:?}");
        }
    }

    #[test]
    fn ld_imm64_prints_full_value() {
        let prog = [ri(0x18, 1, 0, 0, -1), ri(0, 0, 0, 0, 0x12), ri(0x95, 0, 0, 0, 0)];
        assert_eq!(print_insn(&prog, 0), "(18) r1 = 0x12ffffffff");
        assert_eq!(print_insn(&prog, 1), "BUG_ld_00");
        assert_eq!(print_program(&prog), "0: (18) r1 = 0x12ffffffff\n2: (95) exit\n");
        let map = [ri(0x18, 1, 1, 0, 4), ri(0, 0, 0, 0, 0)];
        assert_eq!(print_insn(&map, 0), "(18) r1 = 0x4");
        let hidden = InsnPrinter { allow_ptr_leaks: false, ..InsnPrinter::kernel() };
        assert_eq!(hidden.print(&map, 0), "(18) r1 = 0x0");
        assert_eq!(print_insn(&map, 5), "(pc 5 out of range)");
    }

    #[test]
    fn pseudo_mode_names_pseudo_sources() {
        let cases: &[(u8, i32, i32, &str)] = &[
            (0, 5, 0, "(18) r1 = 0x5"),
            (1, 3, 0, "(18) r1 = map[fd:3]"),
            (2, 3, 8, "(18) r1 = map_value[fd:3]+8"),
            (3, 77, 0, "(18) r1 = btf_id[77]"),
            (4, -3, 0, "(18) r1 = func[pc-3]"),
            (5, 0, 0, "(18) r1 = map[idx:0]"),
            (6, 2, 16, "(18) r1 = map_value[idx:2]+16"),
            (5, 0, 1, "(18) r1 = ld_imm64[src:5, 0x100000000]"),
        ];
        for &(src, imm, next, want) in cases {
            let prog = [ri(0x18, 1, src, 0, imm), ri(0, 0, 0, 0, next)];
            assert_eq!(InsnPrinter::pseudo().print(&prog, 0), want);
        }
        assert_eq!(
            InsnPrinter::pseudo().print(&[ri(0x85, 0, 2, 3, 100)], 0),
            "(85) call kernel-function#100[off:3]"
        );
    }

    struct Names;
    impl InsnNames for Names {
        fn call_name(&self, insn: &RawInsn) -> Option<String> {
            (insn.src == 2).then(|| "bpf_rcu_read_lock".to_string())
        }
        fn imm64(&self, insn: &RawInsn, full: u64) -> Option<String> {
            (insn.src == 1).then(|| format!("map[id:{full}]"))
        }
    }

    #[test]
    fn callbacks_name_calls_and_maps() {
        let printer = InsnPrinter::kernel().with_names(&Names);
        assert_eq!(printer.print(&[ri(0x85, 0, 2, 0, 42)], 0), "(85) call bpf_rcu_read_lock#42");
        // Known helpers are named by the table, not the callback, as in disasm.c.
        assert_eq!(printer.print(&[ri(0x85, 0, 0, 0, 1)], 0), "(85) call bpf_map_lookup_elem#1");
        assert_eq!(printer.print(&[ri(0x18, 2, 1, 0, 7), ri(0, 0, 0, 0, 0)], 0), "(18) r2 = map[id:7]");
        assert_eq!(printer.print(&[ri(0x18, 2, 0, 0, 7), ri(0, 0, 0, 0, 0)], 0), "(18) r2 = 0x7");
    }
}
