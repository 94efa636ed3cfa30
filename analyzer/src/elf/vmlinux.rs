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

use std::sync::OnceLock;

use super::btf::Btf;

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
    }
}
