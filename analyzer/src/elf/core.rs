//! CO-RE relocations (`.BTF.ext` core_relo records) resolved against the running
//! kernel's BTF, as libbpf's `relo_core.c` does (`bpf_core_parse_spec`,
//! `bpf_core_spec_match`, `bpf_core_calc_relo`, `bpf_core_patch_insn`).
//!
//! For each record: the local access spec is parsed from the object's BTF (root type,
//! access string `0:1:2`); candidates are the kernel types of the same kind whose name
//! equals the root's up to its `___flavor` suffix; the first candidate the spec matches
//! (members by name, descending into anonymous members, compatible field types; arrays
//! within bounds) gives the new value, which is patched into the instruction: ALU imm,
//! LDX/ST/STX off (and the access size when the field's size changed and that is safe),
//! or both halves of an LD_IMM64.
//!
//! No matching candidate: `*_EXISTS`/`TYPE_MATCHES` give 0, other type-based kinds 0,
//! and field offsets/sizes and enum values *poison* the instruction as libbpf does: it
//! becomes `call 0xbad2310`, which the verifier rejects only when it is reachable, with
//! libbpf's message (`failed to resolve CO-RE relocation <byte_off> [4] struct
//! nonexist.non_exist (0:0 @ offset 0)`), registered in `poison.rs`.
//!
//! Simplifications (documented, not silent): several matching candidates with different
//! results (libbpf: "relocation decision ambiguity", a load failure) take the first;
//! the compiler's local value is not validated against the instruction (libbpf fails
//! the load on a mismatch); `TYPE_MATCHES` uses the looser `types_are_compat` rule.

use super::btf::{Btf, BtfKind, BtfMember};
use super::btf_ext::CoreReloRecord;
use super::vmlinux::essential_name;
use crate::insn::RawInsn;

/// `enum bpf_core_relo_kind`.
pub mod relo_kind {
    pub const FIELD_BYTE_OFFSET: u32 = 0;
    pub const FIELD_BYTE_SIZE: u32 = 1;
    pub const FIELD_EXISTS: u32 = 2;
    pub const FIELD_SIGNED: u32 = 3;
    pub const FIELD_LSHIFT_U64: u32 = 4;
    pub const FIELD_RSHIFT_U64: u32 = 5;
    pub const TYPE_ID_LOCAL: u32 = 6;
    pub const TYPE_ID_TARGET: u32 = 7;
    pub const TYPE_EXISTS: u32 = 8;
    pub const TYPE_SIZE: u32 = 9;
    pub const ENUMVAL_EXISTS: u32 = 10;
    pub const ENUMVAL_VALUE: u32 = 11;
    pub const TYPE_MATCHES: u32 = 12;
}
use relo_kind as rk;

/// libbpf's `core_relo_kind_str`.
pub fn relo_kind_str(kind: u32) -> &'static str {
    match kind {
        rk::FIELD_BYTE_OFFSET => "byte_off",
        rk::FIELD_BYTE_SIZE => "byte_sz",
        rk::FIELD_EXISTS => "field_exists",
        rk::FIELD_SIGNED => "signed",
        rk::FIELD_LSHIFT_U64 => "lshift_u64",
        rk::FIELD_RSHIFT_U64 => "rshift_u64",
        rk::TYPE_ID_LOCAL => "local_type_id",
        rk::TYPE_ID_TARGET => "target_type_id",
        rk::TYPE_EXISTS => "type_exists",
        rk::TYPE_MATCHES => "type_matches",
        rk::TYPE_SIZE => "type_size",
        rk::ENUMVAL_EXISTS => "enumval_exists",
        rk::ENUMVAL_VALUE => "enumval_value",
        _ => "unknown",
    }
}

fn is_field_based(kind: u32) -> bool {
    kind <= rk::FIELD_RSHIFT_U64
}

fn is_type_based(kind: u32) -> bool {
    matches!(kind, rk::TYPE_ID_LOCAL | rk::TYPE_ID_TARGET | rk::TYPE_EXISTS | rk::TYPE_SIZE | rk::TYPE_MATCHES)
}

fn is_enumval_based(kind: u32) -> bool {
    matches!(kind, rk::ENUMVAL_EXISTS | rk::ENUMVAL_VALUE)
}

/// libbpf's `btf_kind_str`.
fn kind_str(btf: &Btf, id: u32) -> &'static str {
    match btf.type_by_id(id).map(|t| &t.kind) {
        Some(BtfKind::Void) | None => "unkn",
        Some(BtfKind::Int { .. }) => "int",
        Some(BtfKind::Ptr { .. }) => "ptr",
        Some(BtfKind::Array { .. }) => "array",
        Some(BtfKind::Struct { .. }) => "struct",
        Some(BtfKind::Union { .. }) => "union",
        Some(BtfKind::Enum { .. }) => "enum",
        Some(BtfKind::Fwd { .. }) => "fwd",
        Some(BtfKind::Typedef { .. }) => "typedef",
        Some(BtfKind::Volatile { .. }) => "volatile",
        Some(BtfKind::Const { .. }) => "const",
        Some(BtfKind::Restrict { .. }) => "restrict",
        Some(BtfKind::Func { .. }) => "func",
        Some(BtfKind::FuncProto { .. }) => "func_proto",
        Some(BtfKind::Var { .. }) => "var",
        Some(BtfKind::Datasec { .. }) => "datasec",
        Some(BtfKind::Float { .. }) => "float",
        Some(BtfKind::DeclTag { .. }) => "decl_tag",
        Some(BtfKind::TypeTag { .. }) => "type_tag",
        Some(BtfKind::Enum64 { .. }) => "enum64",
    }
}

/// A kind number for candidate matching (enum and enum64 count as one kind).
fn kind_class(btf: &Btf, id: u32) -> u8 {
    match btf.type_by_id(id).map(|t| &t.kind) {
        Some(BtfKind::Enum { .. } | BtfKind::Enum64 { .. }) => 6,
        Some(BtfKind::Struct { .. }) => 4,
        Some(BtfKind::Union { .. }) => 5,
        Some(BtfKind::Fwd { .. }) => 7,
        Some(BtfKind::Typedef { .. }) => 8,
        Some(BtfKind::Int { .. }) => 1,
        Some(BtfKind::Ptr { .. }) => 2,
        Some(BtfKind::Array { .. }) => 3,
        Some(BtfKind::FuncProto { .. }) => 13,
        Some(BtfKind::Float { .. }) => 16,
        _ => 0,
    }
}

/// Follows modifiers and typedefs (libbpf's `skip_mods_and_typedefs`).
fn skip_mods(btf: &Btf, id: u32) -> u32 {
    btf.resolve_modifiers(id).unwrap_or(id)
}

fn members(btf: &Btf, id: u32) -> Option<&[BtfMember]> {
    match &btf.type_by_id(id)?.kind {
        BtfKind::Struct { members, .. } | BtfKind::Union { members, .. } => Some(members),
        _ => None,
    }
}

/// Bit offset of member `m` of composite `id` (with `kind_flag`, the low 24 bits).
fn member_bit_offset(btf: &Btf, id: u32, m: &BtfMember) -> u32 {
    if btf.kind_flag(id) {
        m.offset & 0xff_ffff
    } else {
        m.offset
    }
}

/// Bitfield size of member `m` (0: not a bitfield).
fn member_bitfield_size(btf: &Btf, id: u32, m: &BtfMember) -> u32 {
    if btf.kind_flag(id) {
        m.offset >> 24
    } else {
        0
    }
}

/// The enumerators of an enum / enum64, as (name_off, value).
fn enum_values(btf: &Btf, id: u32) -> Option<&[(u32, i64)]> {
    match &btf.type_by_id(id)?.kind {
        BtfKind::Enum { values, .. } | BtfKind::Enum64 { values, .. } => Some(values),
        _ => None,
    }
}

/// One step of an access spec (`struct bpf_core_accessor`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Accessor {
    type_id: u32,
    idx: u32,
    name: Option<String>,
}

/// An access spec (`struct bpf_core_spec`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Spec {
    root_type_id: u32,
    spec: Vec<Accessor>,
    raw_spec: Vec<u32>,
    bit_offset: u64,
}

const SPEC_MAX_LEN: usize = 64;

/// `bpf_core_parse_spec`; `None` for a malformed access string or type chain.
fn parse_spec(btf: &Btf, type_id: u32, access: &str, kind: u32) -> Option<Spec> {
    let raw: Vec<u32> = access.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if raw.is_empty() || raw.len() > SPEC_MAX_LEN {
        return None;
    }
    let mut spec = Spec { root_type_id: type_id, raw_spec: raw.clone(), ..Spec::default() };
    if is_type_based(kind) {
        return (access == "0").then_some(spec);
    }
    let id = skip_mods(btf, type_id);
    let idx = raw[0];
    if is_enumval_based(kind) {
        let values = enum_values(btf, id)?;
        let (name_off, _) = values.get(idx as usize).filter(|_| raw.len() == 1)?;
        spec.spec.push(Accessor { type_id: id, idx, name: btf.string_at(*name_off).map(str::to_string) });
        return Some(spec);
    }
    if !is_field_based(kind) {
        return None;
    }
    let sz = btf.type_size(id)?;
    spec.spec.push(Accessor { type_id: id, idx, name: None });
    spec.bit_offset = (idx as u64).checked_mul(sz)?.checked_mul(8)?;
    let mut id = id;
    for &idx in &raw[1..] {
        let t = skip_mods(btf, id);
        if let Some(ms) = members(btf, t) {
            let m = ms.get(idx as usize)?;
            spec.bit_offset += member_bit_offset(btf, t, m) as u64;
            let name = btf.string_at(m.name_off).filter(|n| !n.is_empty());
            if let Some(name) = name {
                spec.spec.push(Accessor { type_id: t, idx, name: Some(name.to_string()) });
            }
            id = m.type_id;
        } else if let Some(BtfKind::Array { elem, nelems, .. }) = btf.type_by_id(t).map(|x| &x.kind) {
            let flex = is_flex_arr(btf, spec.spec.last(), *nelems);
            if !flex && idx >= *nelems {
                return None;
            }
            let elem_id = skip_mods(btf, *elem);
            spec.spec.push(Accessor { type_id: elem_id, idx, name: None });
            let sz = btf.type_size(elem_id)?;
            spec.bit_offset += (idx as u64).checked_mul(sz)?.checked_mul(8)?;
            id = elem_id;
        } else {
            return None;
        }
    }
    Some(spec)
}

/// A zero-length array that is the last member of its struct (`is_flex_arr`).
fn is_flex_arr(btf: &Btf, acc: Option<&Accessor>, nelems: u32) -> bool {
    let Some(acc) = acc else { return false };
    if nelems != 0 || acc.name.is_none() {
        return false;
    }
    members(btf, acc.type_id).is_some_and(|ms| acc.idx as usize + 1 == ms.len())
}

/// `bpf_core_fields_are_compat`.
fn fields_are_compat(local: &Btf, lid: u32, targ: &Btf, tid: u32, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    let (lid, tid) = (skip_mods(local, lid), skip_mods(targ, tid));
    let lk = local.type_by_id(lid).map(|t| &t.kind);
    let tk = targ.type_by_id(tid).map(|t| &t.kind);
    let composite = |k: Option<&BtfKind>| matches!(k, Some(BtfKind::Struct { .. } | BtfKind::Union { .. }));
    if composite(lk) && composite(tk) {
        return true;
    }
    if kind_class(local, lid) != kind_class(targ, tid) {
        return false;
    }
    match (lk, tk) {
        (Some(BtfKind::Ptr { .. }), _) | (Some(BtfKind::Float { .. }), _) => true,
        (Some(BtfKind::Fwd { .. } | BtfKind::Enum { .. } | BtfKind::Enum64 { .. }), _) => {
            match (local.name(lid), targ.name(tid)) {
                (Some(a), Some(b)) => essential_name(a) == essential_name(b),
                _ => true,
            }
        }
        (Some(BtfKind::Int { bit_offset: a, .. }), Some(BtfKind::Int { bit_offset: b, .. })) => *a == 0 && *b == 0,
        (Some(BtfKind::Array { elem: a, .. }), Some(BtfKind::Array { elem: b, .. })) => {
            fields_are_compat(local, *a, targ, *b, depth + 1)
        }
        _ => false,
    }
}

/// `bpf_core_types_are_compat`.
fn types_are_compat(local: &Btf, lid: u32, targ: &Btf, tid: u32, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    let (lid, tid) = (skip_mods(local, lid), skip_mods(targ, tid));
    if kind_class(local, lid) != kind_class(targ, tid) {
        return false;
    }
    match (local.type_by_id(lid).map(|t| &t.kind), targ.type_by_id(tid).map(|t| &t.kind)) {
        (Some(BtfKind::Fwd { is_union: a }), Some(BtfKind::Fwd { is_union: b })) => a == b,
        (Some(BtfKind::Int { bit_offset: a, encoding: ea, .. }), Some(BtfKind::Int { bit_offset: b, encoding: eb, .. })) => {
            *a == 0 && *b == 0 && (ea & 1) == (eb & 1)
        }
        (Some(BtfKind::Ptr { target: a }), Some(BtfKind::Ptr { target: b })) => types_are_compat(local, *a, targ, *b, depth + 1),
        (Some(BtfKind::Array { elem: a, .. }), Some(BtfKind::Array { elem: b, .. })) => {
            types_are_compat(local, *a, targ, *b, depth + 1)
        }
        (Some(BtfKind::FuncProto { ret: ra, params: pa }), Some(BtfKind::FuncProto { ret: rb, params: pb })) => {
            pa.len() == pb.len()
                && pa.iter().zip(pb).all(|(x, y)| types_are_compat(local, x.type_id, targ, y.type_id, depth + 1))
                && types_are_compat(local, *ra, targ, *rb, depth + 1)
        }
        _ => true,
    }
}

/// `bpf_core_match_member`: finds the local accessor's member in target composite
/// `tid` (descending into anonymous members); pushes raw indices and the named
/// accessor on `spec`; returns the member's type id.
fn match_member(local: &Btf, acc: &Accessor, targ: &Btf, tid: u32, spec: &mut Spec, depth: usize) -> Option<u32> {
    if depth > 32 || spec.raw_spec.len() >= SPEC_MAX_LEN {
        return None;
    }
    let lm = members(local, acc.type_id)?.get(acc.idx as usize)?;
    let lname = acc.name.as_deref()?;
    let tid = skip_mods(targ, tid);
    let tms = members(targ, tid)?;
    for (i, m) in tms.iter().enumerate() {
        let bit = member_bit_offset(targ, tid, m) as u64;
        spec.bit_offset += bit;
        spec.raw_spec.push(i as u32);
        match targ.string_at(m.name_off).filter(|n| !n.is_empty()) {
            None => {
                if let Some(found) = match_member(local, acc, targ, m.type_id, spec, depth + 1) {
                    return Some(found);
                }
            }
            Some(tname) if tname == lname => {
                if fields_are_compat(local, lm.type_id, targ, m.type_id, 0) {
                    spec.spec.push(Accessor { type_id: tid, idx: i as u32, name: Some(tname.to_string()) });
                    return Some(m.type_id);
                }
                spec.bit_offset -= bit;
                spec.raw_spec.pop();
                return None;
            }
            Some(_) => {}
        }
        spec.bit_offset -= bit;
        spec.raw_spec.pop();
    }
    None
}

/// `bpf_core_spec_match`: the target spec of `local` in candidate `cand`, if it matches.
fn spec_match(local_btf: &Btf, local: &Spec, targ: &Btf, cand: u32, kind: u32) -> Option<Spec> {
    let mut t = Spec { root_type_id: cand, ..Spec::default() };
    if is_type_based(kind) {
        return types_are_compat(local_btf, local.root_type_id, targ, cand, 0).then_some(t);
    }
    let first = local.spec.first()?;
    if is_enumval_based(kind) {
        let tid = skip_mods(targ, cand);
        let values = enum_values(targ, tid)?;
        let lname = essential_name(first.name.as_deref()?);
        let i = values.iter().position(|(n, _)| targ.string_at(*n).is_some_and(|n| essential_name(n) == lname))?;
        t.spec.push(Accessor { type_id: tid, idx: i as u32, name: targ.string_at(values[i].0).map(str::to_string) });
        t.raw_spec.push(i as u32);
        return Some(t);
    }
    let mut tid = cand;
    for (i, acc) in local.spec.iter().enumerate() {
        if acc.name.is_some() {
            tid = match_member(local_btf, acc, targ, tid, &mut t, 0)?;
        } else {
            if i > 0 {
                let a = skip_mods(targ, tid);
                let Some(BtfKind::Array { elem, nelems, .. }) = targ.type_by_id(a).map(|x| &x.kind) else { return None };
                let flex = is_flex_arr(targ, t.spec.last(), *nelems);
                if !flex && acc.idx >= *nelems {
                    return None;
                }
                tid = skip_mods(targ, *elem);
            } else {
                tid = skip_mods(targ, tid);
            }
            t.spec.push(Accessor { type_id: tid, idx: acc.idx, name: None });
            t.raw_spec.push(acc.idx);
            let sz = targ.type_size(tid)?;
            t.bit_offset += (acc.idx as u64).checked_mul(sz)?.checked_mul(8)?;
        }
    }
    Some(t)
}

/// A field relocation's value, plus the field's size and type for load size fixes.
struct FieldValue {
    val: u64,
    sz: u64,
    type_id: u32,
}

/// `bpf_core_calc_field_relo` on one spec.
fn calc_field(btf: &Btf, spec: &Spec, kind: u32) -> Option<FieldValue> {
    let acc = spec.spec.last()?;
    let none = FieldValue { val: 0, sz: 0, type_id: 0 };
    if acc.name.is_none() {
        let sz = btf.type_size(acc.type_id)?;
        return match kind {
            rk::FIELD_BYTE_OFFSET => Some(FieldValue { val: spec.bit_offset / 8, sz, type_id: acc.type_id }),
            rk::FIELD_BYTE_SIZE => Some(FieldValue { val: sz, ..none }),
            _ => None,
        };
    }
    let m = members(btf, acc.type_id)?.get(acc.idx as usize)?;
    let field_type_id = skip_mods(btf, m.type_id);
    let bit_off = spec.bit_offset;
    let mut bit_sz = member_bitfield_size(btf, acc.type_id, m) as u64;
    let bitfield = bit_sz > 0;
    let (byte_sz, byte_off) = if bitfield {
        let mut byte_sz = btf.type_size(field_type_id)?.max(1);
        let mut byte_off = bit_off / 8 / byte_sz * byte_sz;
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8 {
            if byte_sz >= 8 {
                return None;
            }
            byte_sz *= 2;
            byte_off = bit_off / 8 / byte_sz * byte_sz;
        }
        (byte_sz, byte_off)
    } else {
        let sz = btf.type_size(field_type_id)?;
        bit_sz = sz * 8;
        (sz, bit_off / 8)
    };
    let val = match kind {
        rk::FIELD_BYTE_OFFSET => {
            return Some(if bitfield {
                FieldValue { val: byte_off, ..none }
            } else {
                FieldValue { val: byte_off, sz: byte_sz, type_id: field_type_id }
            })
        }
        rk::FIELD_BYTE_SIZE => byte_sz,
        rk::FIELD_SIGNED => match &btf.type_by_id(field_type_id)?.kind {
            BtfKind::Enum { .. } | BtfKind::Enum64 { .. } => u64::from(!btf.kind_flag(field_type_id)),
            BtfKind::Int { encoding, .. } => u64::from(encoding & 1 != 0),
            _ => 0,
        },
        rk::FIELD_LSHIFT_U64 => 64u64.wrapping_sub(bit_off + bit_sz - byte_off * 8),
        rk::FIELD_RSHIFT_U64 => 64 - bit_sz,
        _ => return None,
    };
    Some(FieldValue { val, ..none })
}

/// The outcome of one relocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Patch with this value (`new_sz`: the access size to use when it changed).
    /// `memsz_fail`: the field's size changed in a way a load/store cannot follow (a
    /// signed integer, a struct): an LDX/ST/STX is poisoned with this message, other
    /// instructions take the value (libbpf's `fail_memsz_adjust`).
    Value { val: u64, new_sz: Option<u64>, memsz_fail: Option<String> },
    /// No candidate: the instruction is poisoned; the message libbpf prints.
    Poison { message: String },
    /// The record could not be interpreted (malformed spec, unsupported kind): the
    /// instruction is left as compiled.
    Skip,
}

impl Resolution {
    /// A plain value, no access size change.
    pub fn value(val: u64) -> Resolution {
        Resolution::Value { val, new_sz: None, memsz_fail: None }
    }
}

/// libbpf's `bpf_core_format_spec` of the local spec.
fn format_spec(btf: &Btf, spec: &Spec, kind: u32) -> String {
    let id = spec.root_type_id;
    let name = btf.name(id).unwrap_or("<anon>");
    let mut s = format!("<{}> [{}] {} {}", relo_kind_str(kind), id, kind_str(btf, id), name);
    if is_type_based(kind) {
        return s;
    }
    if is_enumval_based(kind) {
        let t = skip_mods(btf, id);
        if let (Some(values), Some(acc)) = (enum_values(btf, t), spec.spec.first()) {
            if let Some((n, v)) = values.get(acc.idx as usize) {
                let n = btf.string_at(*n).unwrap_or("");
                let unsigned = btf.kind_flag(t);
                let is64 = matches!(btf.type_by_id(t).map(|x| &x.kind), Some(BtfKind::Enum64 { .. }));
                let v = match (is64, unsigned) {
                    (false, true) => (*v as u32).to_string(),
                    (false, false) => (*v as i32).to_string(),
                    (true, true) => (*v as u64).to_string(),
                    (true, false) => v.to_string(),
                };
                s.push_str(&format!("::{n} = {v}"));
            }
        }
        return s;
    }
    for (i, acc) in spec.spec.iter().enumerate() {
        match &acc.name {
            Some(n) => s.push_str(&format!(".{n}")),
            None if i > 0 || acc.idx > 0 => s.push_str(&format!("[{}]", acc.idx)),
            None => {}
        }
    }
    let raw: Vec<String> = spec.raw_spec.iter().map(|r| r.to_string()).collect();
    s.push_str(&format!(" ({}", raw.join(":")));
    if spec.bit_offset % 8 != 0 {
        s.push_str(&format!(" @ offset {}.{})", spec.bit_offset / 8, spec.bit_offset % 8));
    } else {
        s.push_str(&format!(" @ offset {})", spec.bit_offset / 8));
    }
    s
}

/// Resolves one relocation of the object (`local`) against the kernel (`targ`);
/// `candidates(name)` lists target type ids with that essential name.
pub fn resolve<'t>(local: &Btf, targ: &Btf, candidates: impl Fn(&str) -> &'t [u32], rec: &CoreReloRecord) -> Resolution {
    let kind = rec.kind;
    if kind > rk::TYPE_MATCHES {
        return Resolution::Skip;
    }
    let Some(lspec) = parse_spec(local, rec.type_id, &rec.access, kind) else { return Resolution::Skip };
    if kind == rk::TYPE_ID_LOCAL {
        return Resolution::value(rec.type_id as u64);
    }
    let Some(lname) = local.name(rec.type_id) else { return Resolution::Skip };
    let lclass = kind_class(local, rec.type_id);
    let found = candidates(lname).iter().copied().find_map(|cand| {
        let ok_kind = kind_class(targ, cand) == lclass
            && targ.name(cand).is_some_and(|n| essential_name(n) == essential_name(lname));
        if !ok_kind {
            return None;
        }
        spec_match(local, &lspec, targ, cand, kind)
    });
    let poison = || Resolution::Poison {
        message: format!("failed to resolve CO-RE relocation {}", format_spec(local, &lspec, kind)),
    };
    let Some(tspec) = found else {
        return match kind {
            rk::FIELD_EXISTS | rk::ENUMVAL_EXISTS => Resolution::value(0),
            k if is_type_based(k) => Resolution::value(0),
            _ => poison(),
        };
    };
    if is_type_based(kind) {
        let val = match kind {
            rk::TYPE_ID_TARGET => tspec.root_type_id as u64,
            rk::TYPE_SIZE => match targ.type_size(tspec.root_type_id) {
                Some(sz) => sz,
                None => return Resolution::Skip,
            },
            _ => 1,
        };
        return Resolution::value(val);
    }
    if is_enumval_based(kind) {
        let val = match kind {
            rk::ENUMVAL_EXISTS => 1,
            _ => {
                let acc = &tspec.spec[0];
                match enum_values(targ, acc.type_id).and_then(|v| v.get(acc.idx as usize)) {
                    Some((_, v)) => *v as u64,
                    None => return Resolution::Skip,
                }
            }
        };
        return Resolution::value(val);
    }
    if kind == rk::FIELD_EXISTS {
        return Resolution::value(1);
    }
    let (Some(lv), Some(tv)) = (calc_field(local, &lspec, kind), calc_field(targ, &tspec, kind)) else {
        return Resolution::Skip;
    };
    let mut new_sz = None;
    let mut memsz_fail = None;
    if lv.sz != tv.sz {
        // Only pointers and unsigned integers may change their access size (libbpf).
        let ok = match (local.type_by_id(lv.type_id).map(|t| &t.kind), targ.type_by_id(tv.type_id).map(|t| &t.kind)) {
            (Some(BtfKind::Ptr { .. }), Some(BtfKind::Ptr { .. })) => true,
            (Some(BtfKind::Int { encoding: a, .. }), Some(BtfKind::Int { encoding: b, .. })) => a & 1 == 0 && b & 1 == 0,
            _ => false,
        };
        if ok {
            new_sz = Some(tv.sz);
        } else if let Resolution::Poison { message } = poison() {
            memsz_fail = Some(message);
        }
    }
    Resolution::Value { val: tv.val, new_sz, memsz_fail }
}

/// `call 0xbad2310`: libbpf's poisoned CO-RE instruction ("bad relo").
pub const POISON_CALL_IMM: i32 = 0xbad2310;

/// The poisoned instruction libbpf writes.
pub fn poison_insn() -> RawInsn {
    RawInsn { code: 0x85, dst: 0, src: 0, off: 0, imm: POISON_CALL_IMM }
}

/// Patches `insns[idx]` with a resolution (`bpf_core_patch_insn`); returns what was
/// done: `None` when the instruction cannot take it (it is then left alone),
/// `Some(Some(message))` when it was poisoned, `Some(None)` when patched.
pub fn patch(insns: &mut [RawInsn], idx: usize, res: &Resolution) -> Option<Option<String>> {
    let insn = insns.get(idx).copied()?;
    let class = insn.code & 0x07;
    let poison = |insns: &mut [RawInsn], message: &str| {
        if insn.code == 0x18 {
            if let Some(next) = insns.get_mut(idx + 1) {
                *next = poison_insn();
            }
        }
        insns[idx] = poison_insn();
        Some(Some(message.to_string()))
    };
    match res {
        Resolution::Skip => None,
        Resolution::Poison { message } => poison(insns, message),
        Resolution::Value { memsz_fail: Some(m), .. } if matches!(class, 0x01..=0x03) => poison(insns, m),
        Resolution::Value { val, new_sz, .. } => match class {
            // ALU / ALU64 with an immediate.
            0x04 | 0x07 if insn.code & 0x08 == 0 => {
                insns[idx].imm = *val as u32 as i32;
                Some(None)
            }
            // LDX / ST / STX.
            0x01..=0x03 => {
                let off = i16::try_from(*val).ok()?;
                insns[idx].off = off;
                if let Some(sz) = new_sz {
                    let bits = match sz {
                        1 => 0x10,
                        2 => 0x08,
                        4 => 0x00,
                        8 => 0x18,
                        _ => return None,
                    };
                    insns[idx].code = (insn.code & !0x18) | bits;
                }
                Some(None)
            }
            0x00 if insn.code == 0x18 && insn.src == 0 => {
                insns[idx].imm = *val as u32 as i32;
                if let Some(next) = insns.get_mut(idx + 1) {
                    next.imm = (*val >> 32) as u32 as i32;
                }
                Some(None)
            }
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests;
