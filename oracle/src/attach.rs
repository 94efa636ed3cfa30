//! The kernel BTF type id a tracing/LSM program attaches to (`attach_btf_id`), found in
//! `/sys/kernel/btf/vmlinux` by the name libbpf derives from the section:
//! `tp_btf/X` -> typedef `btf_trace_X`; `iter/X` -> func `bpf_iter_X`;
//! `fentry/X`, `fexit/X`, `fmod_ret/X` -> func `X`; `lsm/X`, `lsm.s/X` -> func `bpf_lsm_X`.
//! Without it the kernel refuses these programs before verifying them
//! ("Tracing programs must provide btf_id").
//!
//! The BTF reader is minimal: it walks the type section only to number types and read
//! their kind and name (layout from the kernel's `include/uapi/linux/btf.h`).

use analyzer::object::Program;
use analyzer::prog_type::ProgType;
use std::collections::HashMap;
use std::sync::OnceLock;

const BTF_KIND_TYPEDEF: u32 = 8;
const BTF_KIND_FUNC: u32 = 12;

/// `(kind, name) -> type id` of every type in a raw BTF blob; `None` if it is malformed.
pub(crate) fn index_btf(data: &[u8]) -> Option<HashMap<(u32, String), u32>> {
    let u32_at = |off: usize| -> Option<u32> { Some(u32::from_le_bytes(data.get(off..off + 4)?.try_into().ok()?)) };
    if data.get(0..2)? != [0x9f, 0xeb] {
        return None;
    }
    let hdr_len = u32_at(4)? as usize;
    let (type_off, type_len) = (u32_at(8)? as usize, u32_at(12)? as usize);
    let (str_off, str_len) = (u32_at(16)? as usize, u32_at(20)? as usize);
    let types = data.get(hdr_len + type_off..hdr_len + type_off + type_len)?;
    let strings = data.get(hdr_len + str_off..hdr_len + str_off + str_len)?;
    let name_at = |off: usize| -> Option<String> {
        let s = strings.get(off..)?;
        let end = s.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&s[..end]).into_owned())
    };
    let mut out = HashMap::new();
    let mut pos = 0usize;
    let mut id = 1u32;
    while pos + 12 <= types.len() {
        let word =
            |i: usize| -> Option<u32> { Some(u32::from_le_bytes(types.get(pos + i..pos + i + 4)?.try_into().ok()?)) };
        let (name_off, info) = (word(0)? as usize, word(4)?);
        let kind = (info >> 24) & 0x1f;
        let vlen = (info & 0xffff) as usize;
        let extra = match kind {
            1 | 14 | 17 => 4,             // INT, VAR, DECL_TAG
            3 => 12,                      // ARRAY
            4 | 5 | 15 | 19 => 12 * vlen, // STRUCT, UNION, DATASEC, ENUM64
            6 | 13 => 8 * vlen,           // ENUM, FUNC_PROTO
            2 | 7..=12 | 16 | 18 => 0,    // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
            _ => return None,
        };
        if kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_FUNC {
            if let Some(name) = name_at(name_off) {
                out.entry((kind, name)).or_insert(id);
            }
        }
        pos += 12 + extra;
        id += 1;
    }
    Some(out)
}

/// The running kernel's BTF index, read once.
fn vmlinux() -> Option<&'static HashMap<(u32, String), u32>> {
    static INDEX: OnceLock<Option<HashMap<(u32, String), u32>>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            std::fs::read("/sys/kernel/btf/vmlinux")
                .ok()
                .and_then(|d| index_btf(&d))
        })
        .as_ref()
}

/// The BTF kind and name a program's section asks for, if it is a tracing/LSM section.
pub(crate) fn attach_target(prog: &Program) -> Option<(u32, String)> {
    if !matches!(prog.prog_type, ProgType::Tracing | ProgType::Lsm) {
        return None;
    }
    let (prefix, target) = prog.section.split_once('/')?;
    let target = target.to_string();
    Some(match prefix {
        "tp_btf" => (BTF_KIND_TYPEDEF, format!("btf_trace_{target}")),
        "iter" | "iter.s" => (BTF_KIND_FUNC, format!("bpf_iter_{target}")),
        "fentry" | "fexit" | "fmod_ret" | "fentry.s" | "fexit.s" | "fmod_ret.s" => (BTF_KIND_FUNC, target),
        "lsm" | "lsm.s" => (BTF_KIND_FUNC, format!("bpf_lsm_{target}")),
        _ => return None,
    })
}

/// `attach_btf_id` for the program, from vmlinux BTF; `Err(name)` when the target is not found.
pub(crate) fn attach_btf_id(prog: &Program) -> Option<Result<u32, String>> {
    let (kind, name) = attach_target(prog)?;
    Some(
        vmlinux()
            .and_then(|ix| ix.get(&(kind, name.clone())).copied())
            .ok_or(name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_a_hand_built_blob() {
        // Header (24 bytes), then: [1] INT "int" (+4), [2] FUNC "f" type 1, [3] TYPEDEF "t" type 1.
        let strings = b"\0int\0f\0t\0";
        let mut types = Vec::new();
        for (name_off, info, size_or_type, extra) in [
            (1u32, 1u32 << 24, 4u32, Some(32u32)),
            (5, 12 << 24, 1, None),
            (7, 8 << 24, 1, None),
        ] {
            types.extend(name_off.to_le_bytes());
            types.extend(info.to_le_bytes());
            types.extend(size_or_type.to_le_bytes());
            if let Some(e) = extra {
                types.extend(e.to_le_bytes());
            }
        }
        let mut blob = vec![0x9f, 0xeb, 1, 0];
        for v in [24u32, 0, types.len() as u32, types.len() as u32, strings.len() as u32] {
            blob.extend(v.to_le_bytes());
        }
        blob.extend(&types);
        blob.extend(strings);
        let ix = index_btf(&blob).expect("valid blob");
        assert_eq!(ix.get(&(BTF_KIND_FUNC, "f".to_string())), Some(&2));
        assert_eq!(ix.get(&(BTF_KIND_TYPEDEF, "t".to_string())), Some(&3));
        assert_eq!(index_btf(&blob[..10]), None);
        assert_eq!(index_btf(b"not btf at all, not btf at all"), None);
    }

    #[test]
    fn running_kernel_has_common_targets() {
        let Ok(data) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            eprintln!("skipped: no /sys/kernel/btf/vmlinux");
            return;
        };
        let ix = index_btf(&data).expect("vmlinux BTF parses");
        assert!(ix.contains_key(&(BTF_KIND_TYPEDEF, "btf_trace_sched_switch".to_string())));
        assert!(ix.contains_key(&(BTF_KIND_FUNC, "bpf_iter_task".to_string())));
        assert!(vmlinux().is_some());
    }
}
