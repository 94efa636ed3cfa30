//! The running kernel's own BTF (`/sys/kernel/btf/vmlinux`), loaded once per process.
//!
//! CO-RE relocations, kfunc prototypes, `struct_ops` field-write rules and BTF-typed
//! tracing arguments are all defined by the target kernel's types, which the object
//! does not carry. The path can be overridden with the `BPFCHECK_VMLINUX_BTF`
//! environment variable (an empty value means "no kernel BTF"), so results can be
//! reproduced against another kernel's BTF dump (`bpftool btf dump file ... format raw`
//! is not needed: the file is the raw BTF blob the kernel exports).
//!
//! **Invariant:** a missing or unreadable file is not an error: callers fall back to
//! what they can do without kernel types (and say so in their diagnostics).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::btf::{Btf, BtfKind};

/// Where the kernel exports its BTF.
pub const DEFAULT_PATH: &str = "/sys/kernel/btf/vmlinux";

/// Environment variable overriding [`DEFAULT_PATH`]; empty disables kernel BTF.
pub const PATH_ENV: &str = "BPFCHECK_VMLINUX_BTF";

static KERNEL_BTF: OnceLock<Option<Btf>> = OnceLock::new();

/// The path kernel BTF is read from, or `None` when disabled by the environment.
pub fn path() -> Option<String> {
    match std::env::var(PATH_ENV) {
        Ok(p) if p.is_empty() => None,
        Ok(p) => Some(p),
        Err(_) => Some(DEFAULT_PATH.to_string()),
    }
}

/// The kernel's BTF, parsed on first use; `None` if it is absent or malformed.
pub fn kernel_btf() -> Option<&'static Btf> {
    KERNEL_BTF
        .get_or_init(|| {
            let bytes = std::fs::read(path()?).ok()?;
            Btf::parse(&bytes).ok()
        })
        .as_ref()
}

static NAME_INDEX: OnceLock<HashMap<String, Vec<u32>>> = OnceLock::new();

/// The part of a BTF name before its `___flavor` suffix (libbpf's `bpf_core_essential_name_len`).
pub fn essential_name(name: &str) -> &str {
    // libbpf: the last `X___Y` where X and Y are not underscores; the name ends after X.
    let b = name.as_bytes();
    for i in (0..b.len().saturating_sub(4)).rev() {
        if b[i] != b'_' && b.get(i + 1..i + 4) == Some(b"___") && b.get(i + 4).is_some_and(|&c| c != b'_') {
            return &name[..i + 1];
        }
    }
    name
}

/// Kernel BTF type ids by essential name (built once, on first use).
pub fn kernel_types_named(name: &str) -> &'static [u32] {
    let Some(btf) = kernel_btf() else { return &[] };
    let index = NAME_INDEX.get_or_init(|| {
        let mut m: HashMap<String, Vec<u32>> = HashMap::new();
        for (id, t) in btf.types() {
            if let Some(n) = btf.string_at(t.name_off).filter(|n| !n.is_empty()) {
                m.entry(essential_name(n).to_string()).or_default().push(id);
            }
        }
        m
    });
    index.get(essential_name(name)).map(Vec::as_slice).unwrap_or(&[])
}

/// The kernel BTF id of the FUNC named `name` (a kfunc candidate).
pub fn kernel_func_id(name: &str) -> Option<u32> {
    let btf = kernel_btf()?;
    kernel_types_named(name)
        .iter()
        .copied()
        .find(|&id| btf.name(id) == Some(name) && matches!(btf.type_by_id(id).map(|t| &t.kind), Some(BtfKind::Func { .. })))
}

/// The name of kernel BTF FUNC `btf_id` (for printing kfunc calls as the kernel does:
/// `call bpf_skb_ct_lookup#65660`).
pub fn kernel_func_name(btf_id: i32) -> Option<&'static str> {
    let btf = kernel_btf()?;
    let id = u32::try_from(btf_id).ok()?;
    match btf.type_by_id(id)?.kind {
        BtfKind::Func { .. } => btf.name(id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_btf_has_core_types_when_present() {
        let Some(btf) = kernel_btf() else {
            eprintln!("skipped: no kernel BTF at {:?}", path());
            return;
        };
        assert!(btf.len() > 1000, "vmlinux BTF has only {} types", btf.len());
        assert!(btf.find_func("bpf_map_lookup_elem").is_some() || btf.find_func("bpf_ktime_get_ns").is_some() || btf.find_func("schedule").is_some());
        let id = kernel_func_id("tcp_reno_undo_cwnd").expect("kfunc in vmlinux");
        assert_eq!(btf.name(id), Some("tcp_reno_undo_cwnd"));
        assert_eq!(kernel_func_name(id as i32), Some("tcp_reno_undo_cwnd"));
        assert_eq!(kernel_func_name(-1), None);
        assert!(kernel_types_named("task_struct___mine").iter().any(|&t| btf.name(t) == Some("task_struct")));
    }

    #[test]
    fn essential_names_drop_flavors() {
        assert_eq!(essential_name("task_struct___v2"), "task_struct");
        assert_eq!(essential_name("a___b___c"), "a___b");
        assert_eq!(essential_name("plain"), "plain");
        assert_eq!(essential_name("ends___"), "ends___");
    }
}
