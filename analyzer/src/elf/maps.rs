//! Map definitions: legacy `maps` / `maps/*` sections, BTF-defined `.maps`, and global
//! data sections seen as one-entry array maps.
//!
//! - Legacy: each symbol in a `maps*` section is one definition; the definition size is
//!   the section size divided by the number of symbols (as libbpf computed it), so
//!   `struct bpf_map_def` (20 bytes), samples' `bpf_load_map_def` (28, with
//!   `inner_map_idx` at byte 20: the inner map's index among the section's maps) and
//!   iproute2/cilium `struct bpf_elf_map` (36+: type, size_key, size_value, max_elem,
//!   flags, id, pinning, inner_id, inner_idx) all work. The first five `u32`s are type,
//!   key_size, value_size, max_entries, map_flags; missing trailing fields read as 0.
//!   For `bpf_elf_map` the inner map is the map of the section whose `id` equals the
//!   outer map's `inner_id`, as iproute2 resolves it (cilium: `cilium_lb4_maglev` has
//!   `inner_id` 3 = `cilium_lb4_maglev_inner`'s `id`); `inner_idx` is not an inner-map
//!   reference (iproute2 uses it on an *inner* map, as the outer map slot to fill).
//! - BTF: each VAR of the `.maps` DATASEC is a struct whose members encode the
//!   definition (`__uint(name, N)` is `int (*name)[N]`, `__type(key, T)` is `T *key`,
//!   `__array(values, struct inner)` is `struct inner *values[]`). Map-in-map value
//!   size defaults to 4, as libbpf sets it.
//! - Global data: `.data`, `.data.*`, `.rodata`, `.rodata.*`, `.bss` (non-empty) become
//!   ARRAY maps (type 2) with key_size 4, value_size = section size, max_entries 1,
//!   the section bytes as initial value (zeros for `.bss`). The map name is the section
//!   name itself (not libbpf's `<obj>.rodata` truncation). `.rodata*` maps get
//!   `BPF_F_RDONLY_PROG` (0x80) as libbpf sets it.
//!
//! - `.kconfig`: when BTF has a `.kconfig` DATASEC, one more read-only ARRAY map named
//!   `.kconfig` (origin `GlobalData { section: ".kconfig" }`, `BPF_F_RDONLY_PROG`) holds
//!   the extern values laid out as libbpf does (see `kconfig.rs`).
//!
//! Order in `Object::maps`: legacy and BTF maps in section order (then by offset), then
//! global data maps in section order, then `.kconfig`.

use super::btf::{Btf, BtfKind};
use super::error::LoadError;
use super::kconfig;
use super::reader::ElfObject;
use crate::object::{MapDef, MapOrigin};
use std::collections::HashMap;

pub(crate) const BPF_MAP_TYPE_ARRAY: u32 = 2;
pub(crate) const BPF_MAP_TYPE_ARRAY_OF_MAPS: u32 = 12;
pub(crate) const BPF_MAP_TYPE_HASH_OF_MAPS: u32 = 13;
const BPF_F_RDONLY_PROG: u32 = 1 << 7;
const STT_SECTION: u8 = 3;
const STT_FILE: u8 = 4;

/// All maps of an object plus what relocation needs to find them.
#[derive(Debug, Default)]
pub(crate) struct MapTable {
    pub(crate) maps: Vec<MapDef>,
    /// (section index, byte offset of the definition) -> map index, for map sections.
    pub(crate) by_def: HashMap<(usize, u64), usize>,
    /// Section index -> map index, for global data sections.
    pub(crate) data_sections: HashMap<usize, usize>,
    /// Section indices holding map definitions (legacy or BTF).
    pub(crate) map_sections: Vec<usize>,
    /// `.kconfig` extern name -> (map index of `.kconfig`, offset in its value).
    pub(crate) kconfig: HashMap<String, (usize, u32)>,
}

pub(crate) fn is_legacy_map_section(name: &str) -> bool {
    name == "maps" || name.starts_with("maps/") || name.starts_with("maps.")
}

pub(crate) fn is_global_data_section(name: &str) -> bool {
    name == ".data"
        || name.starts_with(".data.")
        || name == ".rodata"
        || name.starts_with(".rodata.")
        || name == ".bss"
}

fn rd_u32(b: &[u8], off: u64) -> u32 {
    let Ok(off) = usize::try_from(off) else {
        return 0;
    };
    match b.get(off..off.saturating_add(4)) {
        Some(s) if s.len() == 4 => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        _ => 0,
    }
}

fn empty_def(name: String, origin: MapOrigin) -> MapDef {
    MapDef {
        name,
        map_type: 0,
        key_size: 0,
        value_size: 0,
        max_entries: 0,
        map_flags: 0,
        inner: None,
        origin,
        initial_value: None,
        btf_key_type_id: 0,
        btf_value_type_id: 0,
    }
}

/// Collects every map of the object.
pub(crate) fn collect_maps(
    file: &str,
    elf: &ElfObject<'_>,
    btf: Option<&Btf>,
) -> Result<MapTable, LoadError> {
    let mut t = MapTable::default();
    for (si, s) in elf.sections.iter().enumerate() {
        if is_legacy_map_section(&s.name) {
            legacy_maps(file, elf, si, &mut t)?;
        } else if s.name == ".maps" {
            btf_maps(file, elf, si, btf, &mut t)?;
        }
    }
    for (si, s) in elf.sections.iter().enumerate() {
        if !is_global_data_section(&s.name) || s.is_exec() || s.size == 0 {
            continue;
        }
        // The kernel caps a map value at KMALLOC_MAX_SIZE (32 MiB with 4 KiB pages);
        // a larger section cannot be a global data map (and a huge `.bss` would make
        // us allocate its zeroes: a fuzzer found a 3.5 GB one).
        const MAX_VALUE_SIZE: u64 = 32 << 20;
        if s.size > MAX_VALUE_SIZE {
            return Err(LoadError::BadMapDef {
                file: file.to_string(),
                map: s.name.clone(),
                reason: format!("section size {} exceeds the largest map value ({MAX_VALUE_SIZE})", s.size),
            });
        }
        let value_size = s.size as u32;
        let initial = if s.sh_type == object::elf::SHT_NOBITS {
            vec![0; value_size as usize]
        } else {
            s.data.to_vec()
        };
        let mut m = empty_def(
            s.name.clone(),
            MapOrigin::GlobalData {
                section: s.name.clone(),
            },
        );
        m.map_type = BPF_MAP_TYPE_ARRAY;
        m.key_size = 4;
        m.value_size = value_size;
        m.max_entries = 1;
        m.map_flags = if s.name.starts_with(".rodata") {
            BPF_F_RDONLY_PROG
        } else {
            0
        };
        m.initial_value = Some(initial);
        m.btf_value_type_id = btf
            .and_then(|b| b.find_datasec(&s.name))
            .map(|(id, _)| id)
            .unwrap_or(0);
        t.data_sections.insert(si, t.maps.len());
        t.maps.push(m);
    }
    if let Some(layout) = btf.and_then(kconfig::layout) {
        let value_size = u32::try_from(layout.value.len()).unwrap_or(u32::MAX);
        let mut m = empty_def(
            ".kconfig".into(),
            MapOrigin::GlobalData {
                section: ".kconfig".into(),
            },
        );
        m.map_type = BPF_MAP_TYPE_ARRAY;
        m.key_size = 4;
        m.value_size = value_size;
        m.max_entries = 1;
        m.map_flags = BPF_F_RDONLY_PROG;
        m.initial_value = Some(layout.value);
        // The object's `.kconfig` DATASEC has size 0 and extern VARs, which the kernel
        // refuses; libbpf rewrites it, we describe the map without BTF instead.
        m.btf_value_type_id = 0;
        let idx = t.maps.len();
        for e in layout.externs {
            t.kconfig.insert(e.name, (idx, e.off));
        }
        t.maps.push(m);
    }
    Ok(t)
}

fn legacy_maps(
    file: &str,
    elf: &ElfObject<'_>,
    si: usize,
    t: &mut MapTable,
) -> Result<(), LoadError> {
    let s = &elf.sections[si];
    let mut syms: Vec<(u64, String)> = elf
        .symbols
        .iter()
        .filter(|y| y.shndx as usize == si && y.st_type != STT_SECTION && y.st_type != STT_FILE)
        .map(|y| (y.value, y.name.clone()))
        .collect();
    syms.sort();
    syms.dedup_by_key(|(v, _)| *v);
    t.map_sections.push(si);
    if syms.is_empty() {
        return Ok(());
    }
    let n = syms.len() as u64;
    if !s.size.is_multiple_of(n) {
        return Err(LoadError::BadMapDef {
            file: file.to_string(),
            map: s.name.clone(),
            reason: format!(
                "section size {} is not a multiple of its {} map symbols",
                s.size, n
            ),
        });
    }
    let def_size = s.size / n;
    let first = t.maps.len();
    let mut inner_ref = Vec::new();
    let mut ids = Vec::new();
    for (off, name) in &syms {
        if off.checked_add(def_size.min(4)).is_none_or(|e| e > s.size) {
            return Err(LoadError::BadMapDef {
                file: file.to_string(),
                map: name.clone(),
                reason: format!(
                    "definition at offset {off} lies outside section {} (size {})",
                    s.name, s.size
                ),
            });
        }
        let field = |k: u64| {
            if k * 4 + 4 <= def_size {
                rd_u32(s.data, off + k * 4)
            } else {
                0
            }
        };
        let mut m = empty_def(name.clone(), MapOrigin::Legacy);
        m.map_type = field(0);
        m.key_size = field(1);
        m.value_size = field(2);
        m.max_entries = field(3);
        m.map_flags = field(4);
        let is_of_maps =
            m.map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS || m.map_type == BPF_MAP_TYPE_HASH_OF_MAPS;
        ids.push(if def_size >= 36 { field(5) } else { 0 });
        inner_ref.push(match def_size {
            28 if is_of_maps => Some(InnerRef::Index(field(5))),
            d if d >= 36 && is_of_maps && field(7) != 0 => Some(InnerRef::Id(field(7))),
            _ => None,
        });
        t.by_def.insert((si, *off), t.maps.len());
        t.maps.push(m);
    }
    for (k, r) in inner_ref.into_iter().enumerate() {
        let inner_pos = match r {
            Some(InnerRef::Index(i)) => usize::try_from(i).ok().filter(|i| *i < syms.len()),
            Some(InnerRef::Id(id)) => ids.iter().position(|x| *x == id),
            None => None,
        };
        if let Some(pos) = inner_pos.filter(|p| *p != k) {
            let inner = t.maps.get(first + pos).cloned();
            if let Some(m) = t.maps.get_mut(first + k) {
                m.inner = inner.map(Box::new);
            }
        }
    }
    Ok(())
}

/// How a legacy map-in-map definition names its inner map.
enum InnerRef {
    /// samples' `bpf_load_map_def.inner_map_idx`: index among the section's maps.
    Index(u32),
    /// iproute2's `bpf_elf_map.inner_id`: the `id` field of another map of the section.
    Id(u32),
}

fn btf_maps(
    file: &str,
    elf: &ElfObject<'_>,
    si: usize,
    btf: Option<&Btf>,
    t: &mut MapTable,
) -> Result<(), LoadError> {
    t.map_sections.push(si);
    let Some(btf) = btf else {
        return Err(LoadError::BadMapDef {
            file: file.to_string(),
            map: ".maps".into(),
            reason: "BTF-defined maps without a .BTF section".into(),
        });
    };
    let Some((_, vars)) = btf.find_datasec(".maps") else {
        return Ok(());
    };
    let mut found: Vec<(u64, MapDef)> = Vec::new();
    for v in vars {
        let Some(BtfKind::Var { target, .. }) = btf.type_by_id(v.type_id).map(|t| &t.kind) else {
            continue;
        };
        let name = btf.name(v.type_id).unwrap_or("").to_string();
        let off = elf
            .symbols
            .iter()
            .find(|y| y.shndx as usize == si && y.name == name)
            .map(|y| y.value)
            .unwrap_or(v.offset as u64);
        let def = btf_map_def(file, btf, &name, *target, 0)?;
        found.push((off, def));
    }
    found.sort_by_key(|(off, _)| *off);
    for (off, def) in found {
        t.by_def.insert((si, off), t.maps.len());
        t.maps.push(def);
    }
    Ok(())
}

/// The `N` of an `int (*name)[N]` member.
fn uint_member(btf: &Btf, type_id: u32) -> Option<u32> {
    let ptr = btf.resolve_modifiers(type_id)?;
    let BtfKind::Ptr { target } = btf.type_by_id(ptr)?.kind else {
        return None;
    };
    let arr = btf.resolve_modifiers(target)?;
    match btf.type_by_id(arr)?.kind {
        BtfKind::Array { nelems, .. } => Some(nelems),
        _ => None,
    }
}

/// Parses a BTF map definition struct (`struct { __uint(type, ...); ... }`).
fn btf_map_def(
    file: &str,
    btf: &Btf,
    name: &str,
    type_id: u32,
    depth: usize,
) -> Result<MapDef, LoadError> {
    let bad = |reason: String| LoadError::BadMapDef {
        file: file.to_string(),
        map: name.to_string(),
        reason,
    };
    let sid = btf
        .resolve_modifiers(type_id)
        .ok_or_else(|| bad(format!("type #{type_id} unresolvable")))?;
    let Some(BtfKind::Struct { members, .. }) = btf.type_by_id(sid).map(|t| &t.kind) else {
        return Err(bad(format!("type #{sid} is not a struct")));
    };
    let mut m = empty_def(name.to_string(), MapOrigin::BtfMaps);
    let mut key_ty = None;
    let mut value_ty = None;
    for mem in members {
        let mname = btf.string_at(mem.name_off).unwrap_or("");
        let uint = || {
            uint_member(btf, mem.type_id)
                .ok_or_else(|| bad(format!("member {mname} is not __uint")))
        };
        match mname {
            "type" => m.map_type = uint()?,
            "max_entries" => m.max_entries = uint()?,
            "map_flags" => m.map_flags = uint()?,
            "key_size" => m.key_size = uint()?,
            "value_size" => m.value_size = uint()?,
            "key" | "value" => {
                let ptr = btf.resolve_modifiers(mem.type_id);
                let Some(BtfKind::Ptr { target }) =
                    ptr.and_then(|p| btf.type_by_id(p)).map(|t| &t.kind)
                else {
                    return Err(bad(format!("member {mname} is not __type")));
                };
                let size = btf
                    .type_size(*target)
                    .ok_or_else(|| bad(format!("{mname} type has no size")))?;
                let size = u32::try_from(size)
                    .map_err(|_| bad(format!("{mname} size {size} too large")))?;
                if mname == "key" {
                    m.key_size = size;
                    key_ty = Some(*target);
                } else {
                    m.value_size = size;
                    value_ty = Some(*target);
                }
            }
            "values" => {
                // struct inner *values[]: ARRAY of PTR to the inner definition (or to a FUNC_PROTO for prog arrays).
                let arr = btf.resolve_modifiers(mem.type_id);
                let Some(BtfKind::Array { elem, .. }) =
                    arr.and_then(|a| btf.type_by_id(a)).map(|t| &t.kind)
                else {
                    return Err(bad("member values is not __array".into()));
                };
                let ptr = btf.resolve_modifiers(*elem);
                if let Some(BtfKind::Ptr { target }) =
                    ptr.and_then(|p| btf.type_by_id(p)).map(|t| &t.kind)
                {
                    let inner_id = btf.resolve_modifiers(*target);
                    let is_struct = matches!(
                        inner_id.and_then(|i| btf.type_by_id(i)).map(|t| &t.kind),
                        Some(BtfKind::Struct { .. })
                    );
                    if is_struct && depth < 2 {
                        let inner_name =
                            inner_id.and_then(|i| btf.name(i)).unwrap_or("").to_string();
                        let inner = btf_map_def(
                            file,
                            btf,
                            &format!(
                                "{name}.inner{}",
                                if inner_name.is_empty() {
                                    String::new()
                                } else {
                                    format!(".{inner_name}")
                                }
                            ),
                            *target,
                            depth + 1,
                        )?;
                        m.inner = Some(Box::new(inner));
                    }
                }
            }
            _ => {}
        }
    }
    if (m.map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS || m.map_type == BPF_MAP_TYPE_HASH_OF_MAPS)
        && m.value_size == 0
    {
        m.value_size = 4;
    }
    m.btf_key_type_id = key_ty.unwrap_or(0);
    m.btf_value_type_id = value_ty.unwrap_or(0);
    Ok(m)
}
