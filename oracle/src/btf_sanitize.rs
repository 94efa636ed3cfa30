//! Making an object's raw `.BTF` loadable, as libbpf's `bpf_object__sanitize_and_load_btf`
//! and `btf_fixup_datasec` do, and finding the BTF `FUNC` ids for `func_info`.
//!
//! Clang leaves every `DATASEC` with size 0 and its `VAR` offsets at 0, and marks extern
//! `VAR`s/`FUNC`s with linkage `extern`, all of which the kernel refuses. `sanitize`
//! rewrites a copy of the bytes in place: a DATASEC's size becomes its ELF section's size
//! (or the end of its last variable when the section is unknown, e.g. `.ksyms`), each
//! variable's offset becomes its ELF symbol's value (or the next aligned offset when the
//! symbol is unknown), the secinfos are sorted by offset, extern VARs become
//! global-allocated and extern FUNCs global (their unnamed prototype parameters get the
//! function's name); size-0 extern secinfos get their VAR type's size (typeless ones
//! become 4-byte ints), and kfunc (FUNC) secinfos of `.ksyms` point to one dummy int VAR
//! appended to the types, as libbpf does. Malformed BTF is an error, never a panic.

use std::collections::BTreeMap;

const BTF_MAGIC: u16 = 0xeb9f;
const KIND_INT: u32 = 1;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_DECL_TAG: u32 = 17;
const KIND_ENUM64: u32 = 19;
/// `BTF_FUNC_GLOBAL`, `BTF_FUNC_EXTERN`.
const FUNC_GLOBAL: u32 = 1;
const FUNC_EXTERN: u32 = 2;
/// `BTF_VAR_GLOBAL_ALLOCATED`, `BTF_VAR_GLOBAL_EXTERN`.
const VAR_GLOBAL_ALLOCATED: u32 = 1;
const VAR_GLOBAL_EXTERN: u32 = 2;

/// Why raw BTF could not be sanitised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtfSanitizeError {
    #[error("BTF header malformed: {reason}")]
    BadHeader { reason: &'static str },
    #[error("BTF type {type_id} at byte {at} runs past the type section")]
    Truncated { type_id: u32, at: usize },
    #[error("BTF type {type_id} has unknown kind {kind}")]
    UnknownKind { type_id: u32, kind: u32 },
}

/// What the ELF file knows that the BTF does not: section sizes and symbol values.
#[derive(Debug, Clone, Default)]
pub struct ElfLayout {
    /// Section name -> size in bytes.
    pub section_sizes: BTreeMap<String, u64>,
    /// Data symbol name -> `st_value` (offset in its section).
    pub symbol_values: BTreeMap<String, u64>,
}

impl ElfLayout {
    /// Reads section sizes and object symbols of the ELF file at `path`; empty on any error.
    pub fn from_elf_file(path: &str) -> ElfLayout {
        use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
        let mut out = ElfLayout::default();
        let Ok(data) = std::fs::read(path) else { return out };
        let Ok(file) = object::File::parse(&*data) else { return out };
        for s in file.sections() {
            if let Ok(name) = s.name() {
                out.section_sizes.insert(name.to_string(), s.size());
            }
        }
        for sym in file.symbols() {
            if let Ok(name) = sym.name() {
                if !name.is_empty() && sym.section_index().is_some() {
                    out.symbol_values.entry(name.to_string()).or_insert(sym.address());
                }
            }
        }
        out
    }
}

/// The sanitised BTF and the ids of its `FUNC` types by name.
#[derive(Debug, Clone)]
pub struct SanitizedBtf {
    pub bytes: Vec<u8>,
    /// FUNC name -> BTF type id (first one wins).
    pub func_ids: BTreeMap<String, u32>,
    /// Human-readable notes of what was changed.
    pub changes: Vec<String>,
}

fn rd32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn wr32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at.saturating_add(4)) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// The NUL-terminated string at `off` of the string section.
fn name_at(strs: &[u8], off: u32) -> String {
    let Some(rest) = strs.get(off as usize..) else { return String::new() };
    let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end]).into_owned()
}

/// Bytes of kind-specific data after the 12-byte `btf_type` header.
fn extra_len(kind: u32, vlen: u32) -> Option<usize> {
    let vlen = vlen as usize;
    Some(match kind {
        KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
        KIND_ARRAY => 12,
        KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 12 * vlen,
        KIND_ENUM | KIND_FUNC_PROTO => 8 * vlen,
        2 | 7..=12 | 16 | 18 => 0,
        _ => return None,
    })
}

/// Sanitises raw `.BTF` bytes for `BPF_BTF_LOAD` (see the module doc).
pub fn sanitize(raw: &[u8], layout: &ElfLayout) -> Result<SanitizedBtf, BtfSanitizeError> {
    let bad = |reason| BtfSanitizeError::BadHeader { reason };
    let magic = raw.get(0..2).map(|m| u16::from_le_bytes([m[0], m[1]])).ok_or(bad("too short"))?;
    if magic != BTF_MAGIC {
        return Err(bad("bad magic (not little-endian BTF)"));
    }
    let hdr_len = rd32(raw, 4).ok_or(bad("too short"))? as usize;
    let type_off = rd32(raw, 8).ok_or(bad("too short"))? as usize;
    let type_len = rd32(raw, 12).ok_or(bad("too short"))? as usize;
    let str_off = rd32(raw, 16).ok_or(bad("too short"))? as usize;
    let str_len = rd32(raw, 20).ok_or(bad("too short"))? as usize;
    let types_start = hdr_len.checked_add(type_off).ok_or(bad("type offset overflows"))?;
    let types_end = types_start.checked_add(type_len).ok_or(bad("type length overflows"))?;
    let strs_start = hdr_len.checked_add(str_off).ok_or(bad("string offset overflows"))?;
    let strs_end = strs_start.checked_add(str_len).ok_or(bad("string length overflows"))?;
    if types_end > raw.len() || strs_end > raw.len() {
        return Err(bad("sections run past the end"));
    }
    let strs = raw[strs_start..strs_end].to_vec();
    let mut bytes = raw.to_vec();

    // First pass: offsets of every type, kinds, sizes of VARs' types are not needed
    // (secinfo sizes are right from clang).
    let mut at = types_start;
    let mut type_id: u32 = 1;
    let mut offsets: Vec<(u32, usize, u32, u32)> = Vec::new(); // (id, at, kind, vlen)
    while at < types_end {
        let info = rd32(&bytes, at + 4).filter(|_| at + 12 <= types_end).ok_or(BtfSanitizeError::Truncated { type_id, at })?;
        let kind = (info >> 24) & 0x1f;
        let vlen = info & 0xffff;
        let extra = extra_len(kind, vlen).ok_or(BtfSanitizeError::UnknownKind { type_id, kind })?;
        let next = at + 12 + extra;
        if next > types_end {
            return Err(BtfSanitizeError::Truncated { type_id, at });
        }
        offsets.push((type_id, at, kind, vlen));
        at = next;
        type_id = type_id.saturating_add(1);
    }
    let mut at_of: BTreeMap<u32, (usize, u32)> = offsets.iter().map(|&(id, at, kind, _)| (id, (at, kind))).collect();
    let mut changes = Vec::new();
    // kfuncs in `.ksyms` are FUNC secinfos, which the kernel refuses in a DATASEC: like
    // libbpf, point them at one dummy 4-byte int VAR appended to the types.
    let ksym_func = offsets.iter().find_map(|&(_, at, kind, vlen)| {
        (kind == KIND_DATASEC).then_some(())?;
        (0..vlen as usize)
            .filter_map(|i| rd32(&bytes, at + 12 + 12 * i))
            .find(|t| at_of.get(t).is_some_and(|&(_, k)| k == KIND_FUNC))
    });
    let int4 = at_of
        .iter()
        .find(|(_, &(a, k))| k == KIND_INT && rd32(&bytes, a + 8) == Some(4))
        .map(|(&id, _)| id);
    let mut dummy_var = None;
    if let (Some(func), Some(int4)) = (ksym_func, int4) {
        let name_off = at_of.get(&func).and_then(|&(a, _)| rd32(&bytes, a)).unwrap_or(0);
        if strs_start >= types_end && type_id < u32::MAX {
            let var: Vec<u8> = [name_off, KIND_VAR << 24, int4, VAR_GLOBAL_ALLOCATED]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            bytes.splice(types_end..types_end, var);
            wr32(&mut bytes, 12, (type_len + 16) as u32);
            wr32(&mut bytes, 16, (str_off + 16) as u32);
            at_of.insert(type_id, (types_end, KIND_VAR));
            dummy_var = Some(type_id);
            changes.push(format!("dummy VAR [{type_id}] added for kfunc secinfos"));
        }
    }

    let mut func_ids = BTreeMap::new();
    for &(id, at, kind, vlen) in &offsets {
        let name = name_at(&strs, rd32(&bytes, at).unwrap_or(0));
        match kind {
            KIND_FUNC => {
                func_ids.entry(name.clone()).or_insert(id);
                if vlen == FUNC_EXTERN {
                    let info = rd32(&bytes, at + 4).unwrap_or(0);
                    wr32(&mut bytes, at + 4, (info & !0xffff) | FUNC_GLOBAL);
                    // The kernel wants named parameters; extern declarations often have none.
                    let func_name_off = rd32(&bytes, at).unwrap_or(0);
                    let proto = rd32(&bytes, at + 8).and_then(|t| at_of.get(&t)).copied();
                    if let Some((pat, KIND_FUNC_PROTO)) = proto {
                        let nargs = rd32(&bytes, pat + 4).unwrap_or(0) & 0xffff;
                        for i in 0..nargs as usize {
                            let q = pat + 12 + 8 * i;
                            if rd32(&bytes, q) == Some(0) && rd32(&bytes, q + 4).is_some_and(|t| t != 0) {
                                wr32(&mut bytes, q, func_name_off);
                            }
                        }
                    }
                    changes.push(format!("extern FUNC {name} made global"));
                }
            }
            KIND_VAR => {
                if rd32(&bytes, at + 12) == Some(VAR_GLOBAL_EXTERN) {
                    wr32(&mut bytes, at + 12, VAR_GLOBAL_ALLOCATED);
                    changes.push(format!("extern VAR {name} made global"));
                }
            }
            KIND_DATASEC => {
                fixup_datasec(&mut bytes, &strs, &at_of, at, vlen, &name, layout, dummy_var, &mut changes);
            }
            _ => {}
        }
    }
    Ok(SanitizedBtf { bytes, func_ids, changes })
}

/// Fills in one DATASEC's size and variable offsets and sorts its secinfos by offset.
#[allow(clippy::too_many_arguments)]
fn fixup_datasec(
    bytes: &mut [u8],
    strs: &[u8],
    at_of: &BTreeMap<u32, (usize, u32)>,
    at: usize,
    vlen: u32,
    name: &str,
    layout: &ElfLayout,
    dummy_var: Option<u32>,
    changes: &mut Vec<String>,
) {
    let size = rd32(bytes, at + 8).unwrap_or(0);
    if let Some(dummy) = dummy_var {
        for i in 0..vlen as usize {
            let p = at + 12 + 12 * i;
            if rd32(bytes, p).and_then(|t| at_of.get(&t)).is_some_and(|&(_, k)| k == KIND_FUNC) {
                wr32(bytes, p, dummy);
                wr32(bytes, p + 8, 4);
            }
        }
    }
    let mut infos: Vec<(u32, u32, u32)> = (0..vlen as usize)
        .map(|i| {
            let p = at + 12 + 12 * i;
            (rd32(bytes, p).unwrap_or(0), rd32(bytes, p + 4).unwrap_or(0), rd32(bytes, p + 8).unwrap_or(0))
        })
        .collect();
    // Externs (`.kconfig`, `.ksyms`) come with size-0 secinfos: use the VAR's type size,
    // or retype a typeless VAR as a 4-byte int, as libbpf does for ksyms.
    for (var, _, vsz) in infos.iter_mut().filter(|i| i.2 == 0) {
        let Some(&(vat, KIND_VAR)) = at_of.get(var) else { continue };
        match rd32(bytes, vat + 8).and_then(|t| type_size(bytes, at_of, t, 0)).filter(|&n| n > 0) {
            Some(n) => *vsz = n,
            None => {
                let int4 = at_of
                    .iter()
                    .find(|(_, &(a, k))| k == KIND_INT && rd32(bytes, a + 8) == Some(4))
                    .map(|(&id, _)| id);
                if let Some(id) = int4 {
                    wr32(bytes, vat + 8, id);
                    *vsz = 4;
                    changes.push(format!("typeless extern VAR {} in {name} made a 4-byte int", name_at(strs, rd32(bytes, vat).unwrap_or(0))));
                }
            }
        }
    }
    if size == 0 {
        let mut next: u32 = 0;
        for (var, off, vsz) in infos.iter_mut() {
            let var_name = at_of
                .get(var)
                .filter(|(_, k)| *k == KIND_VAR)
                .map(|(vat, _)| name_at(strs, rd32(bytes, *vat).unwrap_or(0)));
            let sym = var_name
                .as_ref()
                .and_then(|n| layout.symbol_values.get(n))
                .and_then(|&v| u32::try_from(v).ok());
            *off = sym.unwrap_or_else(|| next.div_ceil(8).saturating_mul(8));
            next = next.max(off.saturating_add(*vsz));
        }
        let sec_size = layout
            .section_sizes
            .get(name)
            .and_then(|&s| u32::try_from(s).ok())
            .filter(|&s| s >= next)
            .unwrap_or(next.max(1));
        wr32(bytes, at + 8, sec_size);
        changes.push(format!("DATASEC {name} size set to {sec_size}"));
    }
    infos.sort_by_key(|&(_, off, _)| off);
    for (i, (var, off, vsz)) in infos.into_iter().enumerate() {
        let p = at + 12 + 12 * i;
        wr32(bytes, p, var);
        wr32(bytes, p + 4, off);
        wr32(bytes, p + 8, vsz);
    }
}

/// Byte size of BTF type `id` (None for void, functions, unknown or too deep chains).
fn type_size(bytes: &[u8], at_of: &BTreeMap<u32, (usize, u32)>, id: u32, depth: u32) -> Option<u32> {
    if depth > 32 {
        return None;
    }
    let &(at, kind) = at_of.get(&id)?;
    match kind {
        KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 | KIND_DATASEC | 16 => rd32(bytes, at + 8),
        2 => Some(8),
        KIND_ARRAY => {
            let elem = type_size(bytes, at_of, rd32(bytes, at + 12)?, depth + 1)?;
            elem.checked_mul(rd32(bytes, at + 20)?)
        }
        8..=11 | 18 | KIND_VAR => type_size(bytes, at_of, rd32(bytes, at + 8)?, depth + 1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A BTF blob: int (id 1), VAR x (id 2, extern), DATASEC .data (id 3, size 0, one var),
    /// FUNC_PROTO (id 4), FUNC f (id 5, extern).
    fn blob() -> Vec<u8> {
        let strs = b"\0int\0x\0.data\0f\0".to_vec();
        let mut t = Vec::new();
        let mut push = |v: &[u32]| v.iter().for_each(|x| t.extend_from_slice(&x.to_le_bytes()));
        push(&[1, KIND_INT << 24, 4, 32]);
        push(&[5, KIND_VAR << 24, 1, VAR_GLOBAL_EXTERN]);
        push(&[7, (KIND_DATASEC << 24) | 1, 0, 2, 0, 4]);
        push(&[0, KIND_FUNC_PROTO << 24, 1]);
        push(&[13, (KIND_FUNC << 24) | FUNC_EXTERN, 4]);
        let mut b = Vec::new();
        for v in [0x0001_eb9fu32, 24, 0, t.len() as u32, t.len() as u32, strs.len() as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&t);
        b.extend_from_slice(&strs);
        b
    }

    #[test]
    fn datasec_and_linkage_are_fixed() {
        let mut layout = ElfLayout::default();
        layout.section_sizes.insert(".data".into(), 16);
        layout.symbol_values.insert("x".into(), 8);
        let s = sanitize(&blob(), &layout).unwrap();
        let t = 24;
        assert_eq!(rd32(&s.bytes, t + 16 + 12), Some(VAR_GLOBAL_ALLOCATED));
        let ds = t + 32;
        assert_eq!(rd32(&s.bytes, ds + 8), Some(16));
        assert_eq!(rd32(&s.bytes, ds + 16), Some(8));
        let f = ds + 24 + 12;
        assert_eq!(rd32(&s.bytes, f + 4).map(|i| i & 0xffff), Some(FUNC_GLOBAL));
        assert_eq!(s.func_ids.get("f"), Some(&5));
    }

    #[test]
    fn size_zero_secinfo_gets_the_var_type_size() {
        let mut b = blob();
        // secinfo size of x (DATASEC at 24+32, secinfo size at +20) set to 0.
        b[24 + 32 + 20] = 0;
        let s = sanitize(&b, &ElfLayout::default()).unwrap();
        assert_eq!(rd32(&s.bytes, 24 + 32 + 20), Some(4));
        assert_eq!(rd32(&s.bytes, 24 + 32 + 8), Some(4));
    }

    #[test]
    fn unknown_layout_lays_vars_out_in_order() {
        let s = sanitize(&blob(), &ElfLayout::default()).unwrap();
        assert_eq!(rd32(&s.bytes, 24 + 32 + 8), Some(4));
    }

    #[test]
    fn malformed_btf_is_an_error() {
        assert!(sanitize(b"\x9f\xeb", &ElfLayout::default()).is_err());
        let mut b = blob();
        b.truncate(40);
        assert!(sanitize(&b, &ElfLayout::default()).is_err());
        let mut b = blob();
        b[24 + 7] = 30; // kind 30 in the first type's info
        assert!(matches!(sanitize(&b, &ElfLayout::default()), Err(BtfSanitizeError::UnknownKind { .. })));
    }

    #[test]
    fn kfunc_object_btf_is_accepted_by_the_kernel() {
        use object::{Object as _, ObjectSection as _};
        let path = "/work/shared/ebpf-samples/linux-selftests/bpf_cubic.o";
        let Ok(data) = std::fs::read(path) else { return };
        if !crate::bpf_available() {
            return;
        }
        let file = object::File::parse(&*data).unwrap();
        let raw = file.section_by_name(".BTF").unwrap().data().unwrap().to_vec();
        let s = sanitize(&raw, &ElfLayout::from_elf_file(path)).unwrap();
        assert!(s.changes.iter().any(|c| c.starts_with("dummy VAR")), "{:?}", s.changes);
        assert!(crate::sys::btf_load(&raw).is_err());
        let loaded = crate::sys::btf_load(&s.bytes);
        assert!(loaded.is_ok(), "{:?}", loaded.err());
    }
}
