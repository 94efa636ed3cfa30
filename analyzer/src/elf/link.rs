//! Relocation and linking: turns ELF sections of instructions into self-contained programs,
//! the way libbpf's `bpf_object__relocate` does.
//!
//! - A *function* is a run of instructions in one executable section, from one `STT_FUNC`
//!   symbol for its `st_size` bytes, at most up to the next function symbol (to the next
//!   symbol when `st_size` is 0; the whole section when it has no function symbols).
//! - Relocations are resolved per instruction first (`resolve_relocations`): `LD_IMM64`
//!   against a map symbol -> `BPF_PSEUDO_MAP_IDX`; against a global data section ->
//!   `BPF_PSEUDO_MAP_IDX_VALUE` (offset = symbol value + imm); against code ->
//!   `BPF_PSEUDO_FUNC`; against a `.kconfig` extern (listed in BTF's `.kconfig`
//!   DATASEC) -> `BPF_PSEUDO_MAP_IDX_VALUE` into the `.kconfig` map at the extern's
//!   offset, as libbpf does; against any other undefined (extern) symbol -> a plain
//!   constant (`LINUX_HAS_BPF_COOKIE`, `LINUX_HAS_SYSCALL_WRAPPER` = 1,
//!   `LINUX_KERNEL_VERSION` = 6.18, anything else 0). `call` against code ->
//!   a bpf-to-bpf call (target insn = symbol value / 8 + imm + 1); against an undefined
//!   `memset`/`memcpy` -> a call to an appended byte-loop subprogram returning 0; against another
//!   undefined function -> a kfunc call with btf id 0 (the kernel would refuse it).
//! - Linking (`link_program`) appends each called function (transitively, once) after
//!   the entry and rewrites each call / `BPF_PSEUDO_FUNC` imm to the relative pc, then
//!   shifts `.BTF.ext` line info to the pcs of the linked program.

use super::btf_ext::SectionLine;
use super::error::LoadError;
use super::kconfig::extern_value;
use super::maps::MapTable;
use super::reader::ElfObject;
use crate::insn::RawInsn;
use crate::object::LineInfo;
use std::collections::HashMap;

const STT_FUNC: u8 = 2;
const STT_SECTION: u8 = 3;
const SHN_UNDEF: u16 = 0;
const SHN_LORESERVE: u16 = 0xff00;
const R_BPF_NONE: u32 = 0;
const CODE_LD_IMM64: u8 = 0x18;
const CODE_CALL: u8 = 0x85;
const PSEUDO_CALL: u8 = 1;
const PSEUDO_KFUNC_CALL: u8 = 2;
const PSEUDO_FUNC: u8 = 4;
const PSEUDO_BTF_ID: u8 = 3;
const PSEUDO_MAP_IDX: u8 = 5;
const PSEUDO_MAP_IDX_VALUE: u8 = 6;

/// A function: a run of instructions of one executable section.
#[derive(Debug, Clone)]
pub(crate) struct Func {
    pub(crate) sec: usize,
    /// First instruction index within the section.
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) name: String,
}

/// Byte-loop replacements for calls to undefined `memset` / `memcpy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Builtin {
    Memset,
    Memcpy,
}

impl Builtin {
    fn name(self) -> &'static str {
        match self {
            Builtin::Memset => "memset",
            Builtin::Memcpy => "memcpy",
        }
    }

    /// A byte loop over `r3` bytes (`r3` counts down, so the loop ends whatever `r3` is),
    /// then `r0 = 0`: memset stores the low byte of `r2`, memcpy copies from `r2`.
    ///
    /// The C functions return the destination, but a subprogram may not return a stack
    /// pointer ("cannot return stack pointer to the caller"), and callers of the
    /// compiler-emitted builtins never use the result, so these return 0.
    pub(crate) fn insns(self) -> Vec<RawInsn> {
        let i = |code, dst, src, off, imm| RawInsn {
            code,
            dst,
            src,
            off,
            imm,
        };
        match self {
            Builtin::Memset => vec![
                i(0x15, 3, 0, 4, 0),  // 0: if r3 == 0 goto +4 (pc 5)
                i(0x73, 1, 2, 0, 0),  // 1: *(u8 *)(r1 + 0) = r2
                i(0x07, 1, 0, 0, 1),  // 2: r1 += 1
                i(0x07, 3, 0, 0, -1), // 3: r3 += -1
                i(0x05, 0, 0, -5, 0), // 4: goto -5 (pc 0)
                i(0xb7, 0, 0, 0, 0),  // 5: r0 = 0
                i(0x95, 0, 0, 0, 0),  // 6: exit
            ],
            Builtin::Memcpy => vec![
                i(0x15, 3, 0, 6, 0),  // 0: if r3 == 0 goto +6 (pc 7)
                i(0x71, 4, 2, 0, 0),  // 1: r4 = *(u8 *)(r2 + 0)
                i(0x73, 1, 4, 0, 0),  // 2: *(u8 *)(r1 + 0) = r4
                i(0x07, 1, 0, 0, 1),  // 3: r1 += 1
                i(0x07, 2, 0, 0, 1),  // 4: r2 += 1
                i(0x07, 3, 0, 0, -1), // 5: r3 += -1
                i(0x05, 0, 0, -7, 0), // 6: goto -7 (pc 0)
                i(0xb7, 0, 0, 0, 0),  // 7: r0 = 0
                i(0x95, 0, 0, 0, 0),  // 8: exit
            ],
        }
    }
}

/// What a relocation turns an instruction into.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fixup {
    MapIdx(usize),
    MapValue { map: usize, off: u32 },
    Const(u64),
    Call { sec: usize, insn: i64 },
    FuncAddr { sec: usize, insn: i64 },
    Builtin(Builtin),
    /// A call to an extern function without kernel BTF to resolve it (btf id 0).
    ExternCall,
    /// A kfunc call resolved to this kernel BTF FUNC id.
    Kfunc(u32),
    /// A call to an extern function missing from kernel BTF: index into `Code::externs`.
    UnresolvedKfunc(u32),
    /// `LD_IMM64` of an extern function present in kernel BTF (`bpf_ksym_exists`):
    /// `BPF_PSEUDO_BTF_ID` with this FUNC id, as libbpf writes it.
    KsymBtfId(u32),
}

/// The instructions of every executable section plus resolved relocations.
pub(crate) struct Code {
    pub(crate) insns: HashMap<usize, Vec<RawInsn>>,
    pub(crate) funcs: Vec<Func>,
    pub(crate) fixups: HashMap<(usize, usize), Fixup>,
    /// Names of unresolved extern functions (for `Fixup::UnresolvedKfunc`).
    pub(crate) externs: Vec<String>,
    /// Poisoned instructions (section, insn index) and the message libbpf prints.
    pub(crate) poisons: HashMap<(usize, usize), String>,
}

/// Splits executable sections into instructions and functions.
pub(crate) fn collect_code(file: &str, elf: &ElfObject<'_>) -> Result<Code, LoadError> {
    let mut insns = HashMap::new();
    let mut funcs = Vec::new();
    for (si, s) in elf.sections.iter().enumerate() {
        if !s.is_exec() || s.size == 0 {
            continue;
        }
        let raw = RawInsn::slice_from_bytes(s.data).ok_or_else(|| {
            LoadError::SectionSizeNotMultipleOf8 {
                file: file.to_string(),
                section: s.name.clone(),
                size: s.size,
            }
        })?;
        let n = raw.len();
        let mut syms: Vec<(u64, String, u64)> = elf
            .symbols
            .iter()
            .filter(|y| y.shndx as usize == si && y.st_type == STT_FUNC)
            .map(|y| (y.value, y.name.clone(), y.size))
            .collect();
        syms.sort_by_key(|(v, _, _)| *v);
        syms.dedup_by_key(|(v, _, _)| *v);
        if syms.is_empty() {
            funcs.push(Func {
                sec: si,
                start: 0,
                len: n,
                name: s.name.clone(),
            });
        }
        for (k, (value, name, size)) in syms.iter().enumerate() {
            if value % 8 != 0 || *value >= s.size {
                return Err(LoadError::CorruptSection {
                    file: file.to_string(),
                    section: s.name.clone(),
                    reason: format!("function symbol {name} at byte {value} is not an instruction of the section"),
                });
            }
            let start = (value / 8) as usize;
            let next = syms
                .get(k + 1)
                .map(|(v, _, _)| (v / 8) as usize)
                .unwrap_or(n);
            // libbpf takes a function's length from `st_size`; linked objects (bpftool
            // gen object) leave dead code of overridden weak functions after it.
            let len = match (*size / 8) as usize {
                0 => next - start,
                sized => sized.min(next - start),
            };
            funcs.push(Func {
                sec: si,
                start,
                len,
                name: name.clone(),
            });
        }
        insns.insert(si, raw);
    }
    Ok(Code {
        insns,
        funcs,
        fixups: HashMap::new(),
        externs: Vec::new(),
        poisons: HashMap::new(),
    })
}

/// Resolves every relocation of every executable section into `code.fixups`.
pub(crate) fn resolve_relocations(
    file: &str,
    elf: &ElfObject<'_>,
    maps: &MapTable,
    btf: Option<&super::btf::Btf>,
    code: &mut Code,
) -> Result<(), LoadError> {
    let kernel = super::vmlinux::kernel_btf().is_some();
    // An extern function of the object's BTF (`extern void f(void) __ksym;`).
    let is_extern_func = |name: &str| {
        btf.and_then(|b| b.find_func(name))
            .and_then(|id| btf.and_then(|b| b.type_by_id(id)))
            .is_some_and(|t| matches!(t.kind, super::btf::BtfKind::Func { linkage: 2, .. }))
    };
    let mut externs: Vec<String> = Vec::new();
    for (si, insns) in &code.insns {
        let si = *si;
        let sec_name = elf.section_name(si);
        let Some(rels) = elf.rels.get(si) else {
            continue;
        };
        for rel in rels {
            // Old LLVM (e.g. ovs' datapath.o, RELA sections) wrote map relocations with
            // type 0 (R_BPF_NONE); libbpf ignores the type of code relocations, so a
            // type-0 entry is resolved when it names a symbol and lands on an `LD_IMM64`
            // or a call, and skipped otherwise.
            if rel.r_type == R_BPF_NONE {
                let lands_on_reloc_insn = usize::try_from(rel.offset / 8)
                    .ok()
                    .filter(|_| rel.offset % 8 == 0)
                    .and_then(|k| insns.get(k))
                    .is_some_and(|i| i.code == CODE_LD_IMM64 || i.code == CODE_CALL);
                if rel.sym == 0 || !lands_on_reloc_insn {
                    continue;
                }
            }
            let bad = |reason: String| LoadError::BadRelocation {
                file: file.to_string(),
                section: sec_name.clone(),
                offset: rel.offset,
                reason,
            };
            if rel.offset % 8 != 0 {
                return Err(bad("offset is not on an instruction boundary".into()));
            }
            let idx = usize::try_from(rel.offset / 8).unwrap_or(usize::MAX);
            let insn = *insns.get(idx).ok_or_else(|| {
                bad(format!(
                    "offset lies outside the section ({} insns)",
                    insns.len()
                ))
            })?;
            let sym = elf
                .symbols
                .get(rel.sym as usize)
                .ok_or_else(|| bad(format!("unknown symbol #{}", rel.sym)))?;
            let target_sec = sym.shndx as usize;
            let fixup = match insn.code {
                CODE_LD_IMM64 => {
                    if idx + 1 >= insns.len() {
                        return Err(bad("ld_imm64 is cut off by the end of the section".into()));
                    }
                    let off_in_sym = if sym.st_type == STT_SECTION {
                        insn.imm as i64
                    } else {
                        0
                    };
                    if sym.shndx == SHN_UNDEF {
                        let ksym = if kernel && is_extern_func(&sym.name) {
                            super::vmlinux::kernel_func_id(&sym.name)
                        } else {
                            None
                        };
                        match (maps.kconfig.get(&sym.name), ksym) {
                            (Some(&(map, off)), _) => Fixup::MapValue { map, off },
                            (None, Some(id)) => Fixup::KsymBtfId(id),
                            (None, None) => Fixup::Const(extern_value(&sym.name)),
                        }
                    } else if sym.shndx >= SHN_LORESERVE {
                        Fixup::Const(sym.value)
                    } else if maps.map_sections.contains(&target_sec) {
                        let key = (target_sec, (sym.value as i64 + off_in_sym) as u64);
                        let map = maps.by_def.get(&key).ok_or_else(|| LoadError::UnknownMap {
                            file: file.to_string(),
                            section: sec_name.clone(),
                            offset: rel.offset,
                            symbol: sym.name.clone(),
                        })?;
                        Fixup::MapIdx(*map)
                    } else if let Some(map) = maps.data_sections.get(&target_sec) {
                        let off = sym.value as i64 + insn.imm as i64;
                        let off = u32::try_from(off).map_err(|_| {
                            bad(format!(
                                "offset {off} into {}",
                                elf.section_name(target_sec)
                            ))
                        })?;
                        Fixup::MapValue { map: *map, off }
                    } else if code.insns.contains_key(&target_sec) {
                        Fixup::FuncAddr {
                            sec: target_sec,
                            insn: (sym.value as i64 + insn.imm as i64) / 8,
                        }
                    } else {
                        return Err(LoadError::UnknownMap {
                            file: file.to_string(),
                            section: sec_name.clone(),
                            offset: rel.offset,
                            symbol: if sym.name.is_empty() {
                                elf.section_name(target_sec)
                            } else {
                                sym.name.clone()
                            },
                        });
                    }
                }
                CODE_CALL => {
                    if sym.shndx == SHN_UNDEF {
                        match sym.name.as_str() {
                            "memset" | "__builtin_memset" => Fixup::Builtin(Builtin::Memset),
                            "memcpy" | "__builtin_memcpy" => Fixup::Builtin(Builtin::Memcpy),
                            _ if !kernel => Fixup::ExternCall,
                            name => match super::vmlinux::kernel_func_id(name) {
                                Some(id) => Fixup::Kfunc(id),
                                None => {
                                    if !externs.iter().any(|e| e == name) {
                                        externs.push(name.to_string());
                                    }
                                    Fixup::UnresolvedKfunc(extern_poison_index(name))
                                }
                            },
                        }
                    } else if code.insns.contains_key(&target_sec) {
                        Fixup::Call {
                            sec: target_sec,
                            insn: (sym.value / 8) as i64 + insn.imm as i64 + 1,
                        }
                    } else {
                        return Err(bad(format!(
                            "call into non-code section {}",
                            elf.section_name(target_sec)
                        )));
                    }
                }
                other => {
                    return Err(bad(format!(
                    "relocation on insn {idx} with opcode {other:#04x}, neither ld_imm64 nor call"
                )))
                }
            };
            code.fixups.insert((si, idx), fixup);
        }
    }
    code.externs = externs;
    Ok(())
}

/// The `n` of an unresolved kfunc's poisoned `call 2002000000 + n`: libbpf uses the
/// extern's index; we use a hash of its name (below 1,000,000), so that identical code
/// calling differently named externs in different objects stays distinguishable
/// (`elf::poison` keys messages by code).
fn extern_poison_index(name: &str) -> u32 {
    name.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 1_000_000
}

/// A placed piece of the linked program.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Piece {
    Func(usize),
    Builtin(Builtin),
}

/// Result of linking one entry function.
pub(crate) struct Linked {
    pub(crate) insns: Vec<RawInsn>,
    pub(crate) functions: Vec<(usize, String)>,
    pub(crate) line_info: Vec<LineInfo>,
    /// Poisoned pcs of the linked program and their messages.
    pub(crate) poisons: Vec<(usize, String)>,
}

/// Links the entry function `entry` (index into `code.funcs`) with everything it calls.
pub(crate) fn link_program(
    file: &str,
    elf: &ElfObject<'_>,
    code: &Code,
    lines: &HashMap<String, Vec<SectionLine>>,
    entry: usize,
) -> Result<Linked, LoadError> {
    let mut out = Linked {
        insns: Vec::new(),
        functions: Vec::new(),
        line_info: Default::default(),
        poisons: Vec::new(),
    };
    let mut placed: Vec<(Piece, usize)> = Vec::new();
    let mut base_of: HashMap<Piece, usize> = HashMap::new();

    let mut place = |piece: Piece, out: &mut Linked, placed: &mut Vec<(Piece, usize)>| -> usize {
        if let Some(b) = base_of.get(&piece) {
            return *b;
        }
        let base = out.insns.len();
        match piece {
            Piece::Func(f) => {
                let func = &code.funcs[f];
                let sec_insns = code.insns.get(&func.sec).map(Vec::as_slice).unwrap_or(&[]);
                out.insns.extend_from_slice(
                    sec_insns
                        .get(func.start..func.start + func.len)
                        .unwrap_or(&[]),
                );
                out.functions.push((base, func.name.clone()));
                if let Some(sec_lines) = lines.get(&elf.section_name(func.sec)) {
                    for l in sec_lines
                        .iter()
                        .filter(|l| l.insn_idx >= func.start && l.insn_idx < func.start + func.len)
                    {
                        out.line_info.push(LineInfo {
                            pc: base + l.insn_idx - func.start,
                            file: l.file.clone(),
                            line: l.line,
                            column: l.column,
                            text: l.text.clone(),
                        });
                    }
                }
            }
            Piece::Builtin(b) => {
                out.insns.extend(b.insns());
                out.functions.push((base, b.name().to_string()));
            }
        }
        base_of.insert(piece, base);
        placed.push((piece, base));
        base
    };

    place(Piece::Func(entry), &mut out, &mut placed);
    let mut next = 0;
    while next < placed.len() {
        let (piece, base) = placed[next];
        next += 1;
        let Piece::Func(f) = piece else { continue };
        let func = code.funcs[f].clone();
        let sec_name = elf.section_name(func.sec);
        let bad_target = |k: usize, target: i64| LoadError::BadCallTarget {
            file: file.to_string(),
            section: sec_name.clone(),
            insn: func.start + k,
            target,
        };
        let mut k = 0;
        while k < func.len {
            let pc = base + k;
            let sec_idx = func.start + k;
            let insn = out.insns[pc];
            let fixup = code.fixups.get(&(func.sec, sec_idx)).copied();
            if let Some(m) = code.poisons.get(&(func.sec, sec_idx)) {
                out.poisons.push((pc, m.clone()));
            }
            // Where a call or function reference goes, as (section, insn index in section).
            let mut target: Option<(usize, i64)> = None;
            match fixup {
                Some(Fixup::MapIdx(map)) => {
                    out.insns[pc].src = PSEUDO_MAP_IDX;
                    out.insns[pc].imm = map as i32;
                    if let Some(n) = out.insns.get_mut(pc + 1) {
                        n.imm = 0;
                    }
                }
                Some(Fixup::MapValue { map, off }) => {
                    out.insns[pc].src = PSEUDO_MAP_IDX_VALUE;
                    out.insns[pc].imm = map as i32;
                    if let Some(n) = out.insns.get_mut(pc + 1) {
                        n.imm = off as i32;
                    }
                }
                Some(Fixup::Const(v)) => {
                    out.insns[pc].src = 0;
                    out.insns[pc].imm = v as u32 as i32;
                    if let Some(n) = out.insns.get_mut(pc + 1) {
                        n.imm = (v >> 32) as u32 as i32;
                    }
                }
                Some(Fixup::Call { sec, insn: t }) => {
                    out.insns[pc].src = PSEUDO_CALL;
                    target = Some((sec, t));
                }
                Some(Fixup::FuncAddr { sec, insn: t }) => {
                    out.insns[pc].src = PSEUDO_FUNC;
                    target = Some((sec, t));
                }
                Some(Fixup::Builtin(b)) => {
                    let tb = place(Piece::Builtin(b), &mut out, &mut placed);
                    out.insns[pc].src = PSEUDO_CALL;
                    out.insns[pc].imm = (tb as i64 - (pc as i64 + 1)) as i32;
                }
                Some(Fixup::ExternCall) => {
                    out.insns[pc].src = PSEUDO_KFUNC_CALL;
                    out.insns[pc].imm = 0;
                    out.insns[pc].off = 0;
                }
                Some(Fixup::Kfunc(id)) => {
                    out.insns[pc].src = PSEUDO_KFUNC_CALL;
                    out.insns[pc].imm = id as i32;
                    out.insns[pc].off = 0;
                }
                Some(Fixup::UnresolvedKfunc(n)) => {
                    // libbpf's poison_kfunc_call.
                    out.insns[pc] = RawInsn { code: CODE_CALL, dst: 0, src: 0, off: 0, imm: super::poison::POISON_CALL_KFUNC_BASE + n as i32 };
                    let name = code.externs.iter().find(|e| extern_poison_index(e) == n).map(String::as_str).unwrap_or("?");
                    out.poisons.push((pc, format!("kfunc '{name}' is referenced but wasn't resolved")));
                }
                Some(Fixup::KsymBtfId(id)) => {
                    out.insns[pc].src = PSEUDO_BTF_ID;
                    out.insns[pc].imm = id as i32;
                    if let Some(n) = out.insns.get_mut(pc + 1) {
                        n.imm = 0;
                    }
                }
                None => {
                    let is_local_call = insn.code == CODE_CALL && insn.src == PSEUDO_CALL;
                    let is_func_ref = insn.code == CODE_LD_IMM64 && insn.src == PSEUDO_FUNC;
                    if is_local_call || is_func_ref {
                        target = Some((func.sec, sec_idx as i64 + insn.imm as i64 + 1));
                    }
                }
            }
            if let Some((sec, t)) = target {
                let callee = code
                    .funcs
                    .iter()
                    .position(|g| {
                        g.sec == sec && t >= g.start as i64 && t < (g.start + g.len) as i64
                    })
                    .ok_or_else(|| bad_target(k, t))?;
                let cbase = place(Piece::Func(callee), &mut out, &mut placed);
                let tpc = cbase as i64 + (t - code.funcs[callee].start as i64);
                out.insns[pc].imm = (tpc - (pc as i64 + 1)) as i32;
            }
            k += if insn.code == CODE_LD_IMM64 { 2 } else { 1 };
        }
    }
    out.line_info.sort_by_key(|l| l.pc);
    out.line_info.dedup_by_key(|l| l.pc);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a builtin on concrete registers over a flat byte memory (addresses are
    /// indices); returns r0, or `None` if it runs past `fuel` insns or leaves the code.
    fn run(insns: &[RawInsn], regs: &mut [u64; 11], mem: &mut [u8], fuel: usize) -> Option<u64> {
        let mut pc: i64 = 0;
        for _ in 0..fuel {
            let i = *insns.get(usize::try_from(pc).ok()?)?;
            let (d, s) = (i.dst as usize, i.src as usize);
            match i.code {
                0x15 if regs[d] == i.imm as i64 as u64 => pc += i.off as i64,
                0x15 => {}
                0x05 => pc += i.off as i64,
                0x07 => regs[d] = regs[d].wrapping_add(i.imm as i64 as u64),
                0xb7 => regs[d] = i.imm as i64 as u64,
                0xbf => regs[d] = regs[s],
                0x71 => regs[d] = u64::from(*mem.get((regs[s] as i64 + i.off as i64) as usize)?),
                0x73 => *mem.get_mut((regs[d] as i64 + i.off as i64) as usize)? = regs[s] as u8,
                0x95 => return Some(regs[0]),
                other => panic!("builtin uses unexpected opcode {other:#04x}"),
            }
            pc += 1;
        }
        None
    }

    #[test]
    fn memset_fills_bytes_and_returns_zero() {
        for len in [0u64, 1, 5] {
            let mut mem = [0xaau8; 16];
            let mut regs = [0u64; 11];
            (regs[1], regs[2], regs[3]) = (4, 0x1_2345_6777, len);
            let r0 = run(&Builtin::Memset.insns(), &mut regs, &mut mem, 1000);
            assert_eq!(r0, Some(0), "len {len}");
            for (k, b) in mem.iter().enumerate() {
                let inside = k >= 4 && (k as u64) < 4 + len;
                assert_eq!(*b, if inside { 0x77 } else { 0xaa }, "len {len} byte {k}");
            }
        }
    }

    #[test]
    fn memcpy_copies_bytes_and_returns_zero() {
        let mut mem: Vec<u8> = (0..32).collect();
        let mut regs = [0u64; 11];
        (regs[1], regs[2], regs[3]) = (20, 2, 6);
        assert_eq!(
            run(&Builtin::Memcpy.insns(), &mut regs, &mut mem, 1000),
            Some(0)
        );
        assert_eq!(&mem[20..26], &[2, 3, 4, 5, 6, 7]);
        assert_eq!((mem[19], mem[26]), (19, 26));
    }

    #[test]
    fn builtins_never_return_the_destination_pointer() {
        for b in [Builtin::Memset, Builtin::Memcpy] {
            let insns = b.insns();
            // No insn writes r0 other than the final `r0 = 0`.
            let r0_writes: Vec<_> = insns
                .iter()
                .filter(|i| i.dst == 0 && !matches!(i.code, 0x05 | 0x15 | 0x95))
                .collect();
            assert_eq!(
                r0_writes,
                vec![&RawInsn {
                    code: 0xb7,
                    dst: 0,
                    src: 0,
                    off: 0,
                    imm: 0
                }]
            );
            assert_eq!(insns.last().map(|i| i.code), Some(0x95), "{}", b.name());
        }
    }

    #[test]
    fn builtin_loop_terminates_for_any_length() {
        // The loop counts r3 down to 0: 5 insns per byte, then the final check, `r0 = 0`
        // and `exit` -- exactly 5 * len + 3 insns, whatever len is.
        let mut mem = vec![0u8; 300];
        let mut regs = [0u64; 11];
        (regs[1], regs[2], regs[3]) = (0, 1, 256);
        let short = run(
            &Builtin::Memset.insns(),
            &mut regs.clone(),
            &mut mem.clone(),
            256 * 5 + 2,
        );
        assert_eq!(short, None);
        assert_eq!(
            run(&Builtin::Memset.insns(), &mut regs, &mut mem, 256 * 5 + 3),
            Some(0)
        );
        assert_eq!(regs[3], 0);
        assert!(mem[..256].iter().all(|b| *b == 1) && mem[256] == 0);
    }
}
