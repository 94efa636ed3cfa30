//! `.kconfig` externs (`extern bool LINUX_HAS_BPF_COOKIE __kconfig;`): their values and
//! their layout in the read-only `.kconfig` global data map, as libbpf builds it.
//!
//! clang lists such externs as VARs of a BTF DATASEC `.kconfig` whose size and offsets
//! are all 0; libbpf (`bpf_object__collect_externs`) lays them out itself: sorted by
//! alignment (largest first), then size (smallest first), then name, each at the next
//! offset aligned to its type's alignment; the map's value size is the end of the last
//! one. Each `LD_IMM64` of such an extern then becomes `BPF_PSEUDO_MAP_IDX_VALUE` into
//! that map at the extern's offset, so the program reads the value through a pointer.
//!
//! Values are those of the kernel kernel-verdicts.tsv was measured on:
//! `LINUX_KERNEL_VERSION` = `KERNEL_VERSION(6, 18, 0)`, `LINUX_HAS_BPF_COOKIE` = 1,
//! `LINUX_HAS_SYSCALL_WRAPPER` = 1, anything else (`CONFIG_*`, ...) 0. The same values
//! are used for externs read without a `.kconfig` DATASEC (objects without BTF, untyped
//! externs), which stay plain constants.
//!
//! Known gap: an extern whose size or alignment cannot be derived from BTF (a forward
//! declaration, a zero-sized array) is left out of the map and stays a constant.

use super::btf::{Btf, BtfKind};

/// `KERNEL_VERSION(6, 18, 0)`, the kernel kernel-verdicts.tsv was measured on.
pub(crate) const LINUX_KERNEL_VERSION: u64 = (6 << 16) | (18 << 8);

/// The value given to an extern named `name` (see the module doc).
pub(crate) fn extern_value(name: &str) -> u64 {
    match name {
        "LINUX_HAS_BPF_COOKIE" | "LINUX_HAS_SYSCALL_WRAPPER" => 1,
        "LINUX_KERNEL_VERSION" => LINUX_KERNEL_VERSION,
        _ => 0,
    }
}

/// One extern placed in the `.kconfig` map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KconfigExtern {
    pub(crate) name: String,
    /// Byte offset in the map value (libbpf's `kcfg.data_off`).
    pub(crate) off: u32,
    pub(crate) size: u32,
}

/// The `.kconfig` map's layout and contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KconfigLayout {
    pub(crate) externs: Vec<KconfigExtern>,
    /// The map value: each extern's value, little-endian, at its offset.
    pub(crate) value: Vec<u8>,
}

const MAX_DEPTH: usize = 32;

/// Alignment of a BTF type as libbpf's `btf__align_of` computes it (pointers 8 bytes).
fn align_of(btf: &Btf, id: u32, depth: usize) -> Option<u32> {
    if depth > MAX_DEPTH {
        return None;
    }
    let id = btf.resolve_modifiers(id)?;
    match &btf.type_by_id(id)?.kind {
        BtfKind::Int { size, .. }
        | BtfKind::Enum { size, .. }
        | BtfKind::Enum64 { size, .. }
        | BtfKind::Float { size } => Some((*size).clamp(1, 8)),
        BtfKind::Ptr { .. } => Some(8),
        BtfKind::Array { elem, .. } => align_of(btf, *elem, depth + 1),
        BtfKind::Struct { members, .. } | BtfKind::Union { members, .. } => {
            let mut max = 1;
            for m in members {
                max = max.max(align_of(btf, m.type_id, depth + 1)?);
            }
            Some(max)
        }
        _ => None,
    }
}

/// Lays out the externs of the BTF DATASEC `.kconfig`; `None` when there is no such
/// DATASEC or none of its externs has a usable size.
pub(crate) fn layout(btf: &Btf) -> Option<KconfigLayout> {
    let (_, vars) = btf.find_datasec(".kconfig")?;
    // (align, size, name)
    let mut found: Vec<(u32, u32, String)> = Vec::new();
    for v in vars {
        let Some(BtfKind::Var { target, .. }) = btf.type_by_id(v.type_id).map(|t| &t.kind) else {
            continue;
        };
        let Some(name) = btf.name(v.type_id).filter(|n| !n.is_empty()) else {
            continue;
        };
        let size = btf
            .type_size(*target)
            .and_then(|s| u32::try_from(s).ok())
            .filter(|s| *s > 0 && *s <= 1 << 20);
        let (Some(size), Some(align)) = (size, align_of(btf, *target, 0)) else {
            continue;
        };
        if found.iter().any(|(_, _, n)| n == name) {
            continue;
        }
        found.push((align, size, name.to_string()));
    }
    if found.is_empty() {
        return None;
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut off: u32 = 0;
    let mut externs = Vec::with_capacity(found.len());
    for (align, size, name) in found {
        let start = off.checked_next_multiple_of(align)?;
        off = start.checked_add(size)?;
        externs.push(KconfigExtern {
            name,
            off: start,
            size,
        });
    }
    let mut value = vec![0u8; off as usize];
    for e in &externs {
        let bytes = extern_value(&e.name).to_le_bytes();
        let n = (e.size as usize).min(8);
        let start = e.off as usize;
        if let (Some(dst), Some(src)) = (value.get_mut(start..start + n), bytes.get(..n)) {
            dst.copy_from_slice(src);
        }
    }
    Some(KconfigLayout { externs, value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::btf::kind;
    use crate::elf::btf::tests::blob;

    fn info(k: u32, vlen: u32) -> u32 {
        (k << 24) | vlen
    }

    /// BTF with `_Bool LINUX_HAS_BPF_COOKIE`, `unsigned int LINUX_KERNEL_VERSION`,
    /// `u64 CONFIG_HZ`, `_Bool CONFIG_A` in a `.kconfig` DATASEC (offsets 0, as clang emits).
    fn kconfig_btf() -> Btf {
        // strings: 1 "_Bool", 7 "unsigned int", 20 "u64", 24 "LINUX_HAS_BPF_COOKIE",
        // 45 "LINUX_KERNEL_VERSION", 66 "CONFIG_HZ", 76 ".kconfig", 85 "CONFIG_A"
        let strings = b"\0_Bool\0unsigned int\0u64\0LINUX_HAS_BPF_COOKIE\0LINUX_KERNEL_VERSION\0CONFIG_HZ\0.kconfig\0CONFIG_A\0";
        #[rustfmt::skip]
        let types = [
            1, info(kind::INT, 0), 1, (4 << 24) | 8,    // 1 _Bool
            7, info(kind::INT, 0), 4, 32,               // 2 unsigned int
            20, info(kind::INT, 0), 8, 64,              // 3 u64
            0, info(kind::CONST, 0), 1,                 // 4 const _Bool
            24, info(kind::VAR, 0), 4, 2,               // 5 LINUX_HAS_BPF_COOKIE (extern)
            45, info(kind::VAR, 0), 2, 2,               // 6 LINUX_KERNEL_VERSION
            66, info(kind::VAR, 0), 3, 2,               // 7 CONFIG_HZ
            85, info(kind::VAR, 0), 1, 2,               // 8 CONFIG_A
            76, info(kind::DATASEC, 4), 0,              // 9 .kconfig
                5, 0, 1,
                6, 0, 4,
                7, 0, 8,
                8, 0, 1,
        ];
        Btf::parse(&blob(&types, strings)).expect("test BTF parses")
    }

    #[test]
    fn layout_follows_libbpf_order_and_alignment() {
        let l = layout(&kconfig_btf()).expect("has .kconfig");
        let got: Vec<(&str, u32, u32)> = l
            .externs
            .iter()
            .map(|e| (e.name.as_str(), e.off, e.size))
            .collect();
        // align 8 first, then 4, then the two 1-byte ones by name.
        assert_eq!(
            got,
            [
                ("CONFIG_HZ", 0, 8),
                ("LINUX_KERNEL_VERSION", 8, 4),
                ("CONFIG_A", 12, 1),
                ("LINUX_HAS_BPF_COOKIE", 13, 1),
            ]
        );
        assert_eq!(l.value.len(), 14);
        assert_eq!(&l.value[0..8], &[0u8; 8]);
        assert_eq!(&l.value[8..12], &(((6u32 << 16) | (18 << 8)).to_le_bytes()));
        assert_eq!((l.value[12], l.value[13]), (0, 1));
    }

    #[test]
    fn no_kconfig_datasec_means_no_layout() {
        let strings = b"\0int\0";
        let types = [1, info(kind::INT, 0), 4, 32];
        let btf = Btf::parse(&blob(&types, strings)).expect("parses");
        assert_eq!(layout(&btf), None);
    }

    #[test]
    fn extern_values() {
        assert_eq!(extern_value("LINUX_HAS_SYSCALL_WRAPPER"), 1);
        assert_eq!(extern_value("LINUX_KERNEL_VERSION"), 0x061200);
        assert_eq!(extern_value("CONFIG_BPF_SYSCALL"), 0);
    }
}
