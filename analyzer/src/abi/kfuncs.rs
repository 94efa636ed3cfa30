//! Kernel functions (kfuncs) callable from eBPF: their flags, which the kernel keeps in
//! `BTF_ID_FLAGS(func, name, flags)` lines rather than in BTF, and their argument and
//! return kinds, derived from the kfunc's `FUNC_PROTO` in kernel BTF as the kernel's
//! `check_kfunc_args` / `get_kfunc_ptr_arg_type` do.
//!
//! Argument kinds: integers (`__k`: must be a known constant); `__sz`/`__szk` after a
//! pointer: that pointer is memory of that many bytes; a pointer to a program context
//! type (`struct __sk_buff`, `struct xdp_md`, ...): the ctx; a pointer to `struct
//! bpf_map`: a map pointer; another pointer to a struct: a BTF pointer (or, when the
//! struct holds only scalars, memory of the struct's size); a pointer to an integer:
//! memory of its size. `__nullable`/`__opt` allow NULL; `__ign` is not checked.
//!
//! Only the kfuncs in [`KFUNCS`] are allowed (with their flags); any other is refused
//! with the kernel's `calling kernel function X is not allowed`. The table holds the
//! kfuncs the sample corpus calls and common ones, from Linux 6.18's `BTF_ID_FLAGS`.

use crate::elf::btf::{Btf, BtfKind};

/// `KF_ACQUIRE`: returns a reference that must be released.
pub const KF_ACQUIRE: u32 = 1 << 0;
/// `KF_RELEASE`: releases the reference passed as its (first pointer) argument.
pub const KF_RELEASE: u32 = 1 << 1;
/// `KF_RET_NULL`: the returned pointer may be NULL.
pub const KF_RET_NULL: u32 = 1 << 2;
/// `KF_TRUSTED_ARGS`: pointer arguments must be trusted.
pub const KF_TRUSTED_ARGS: u32 = 1 << 4;
/// `KF_SLEEPABLE`: only for sleepable programs.
pub const KF_SLEEPABLE: u32 = 1 << 5;
/// `KF_DESTRUCTIVE`: needs CAP_SYS_BOOT.
pub const KF_DESTRUCTIVE: u32 = 1 << 6;
/// `KF_RCU`: arguments may be RCU-protected pointers.
pub const KF_RCU: u32 = 1 << 7;

/// Known kfuncs and their flags (Linux 6.18 `BTF_ID_FLAGS`).
pub const KFUNCS: &[(&str, u32)] = &[
    // net/netfilter/nf_conntrack_bpf.c
    ("bpf_xdp_ct_alloc", KF_ACQUIRE | KF_RET_NULL),
    ("bpf_xdp_ct_lookup", KF_ACQUIRE | KF_RET_NULL),
    ("bpf_skb_ct_alloc", KF_ACQUIRE | KF_RET_NULL),
    ("bpf_skb_ct_lookup", KF_ACQUIRE | KF_RET_NULL),
    ("bpf_ct_insert_entry", KF_ACQUIRE | KF_RET_NULL | KF_RELEASE),
    ("bpf_ct_release", KF_RELEASE),
    ("bpf_ct_set_timeout", KF_TRUSTED_ARGS),
    ("bpf_ct_change_timeout", KF_TRUSTED_ARGS),
    ("bpf_ct_set_status", KF_TRUSTED_ARGS),
    ("bpf_ct_change_status", KF_TRUSTED_ARGS),
    // net/ipv4/bpf_tcp_ca.c (struct_ops congestion control)
    ("tcp_reno_ssthresh", 0),
    ("tcp_reno_cong_avoid", 0),
    ("tcp_reno_undo_cwnd", 0),
    ("tcp_slow_start", 0),
    ("tcp_cong_avoid_ai", 0),
    // kernel/bpf/helpers.c
    ("bpf_obj_new_impl", KF_ACQUIRE | KF_RET_NULL),
    ("bpf_obj_drop_impl", KF_RELEASE),
    ("bpf_task_acquire", KF_ACQUIRE | KF_RCU | KF_RET_NULL),
    ("bpf_task_release", KF_RELEASE),
    ("bpf_task_from_pid", KF_ACQUIRE | KF_RET_NULL),
    ("bpf_cgroup_acquire", KF_ACQUIRE | KF_RCU | KF_RET_NULL),
    ("bpf_cgroup_release", KF_RELEASE),
    ("bpf_cgroup_ancestor", KF_ACQUIRE | KF_RCU | KF_RET_NULL),
    ("bpf_cgroup_from_id", KF_ACQUIRE | KF_RET_NULL),
    ("bpf_rcu_read_lock", 0),
    ("bpf_rcu_read_unlock", 0),
    ("bpf_cast_to_kern_ctx", 0),
    // kernel/bpf/map_iter.c
    ("bpf_map_sum_elem_count", KF_TRUSTED_ARGS),
    // kernel/bpf/cpumask.c
    ("bpf_cpumask_create", KF_ACQUIRE | KF_RET_NULL),
    ("bpf_cpumask_release", KF_RELEASE),
    ("bpf_cpumask_acquire", KF_ACQUIRE | KF_TRUSTED_ARGS),
    // net/bpf/test_run.c (bpf_testmod-free subset in vmlinux)
    ("bpf_kfunc_call_test1", 0),
    ("bpf_kfunc_call_test2", 0),
    ("bpf_kfunc_call_test3", 0),
    ("bpf_kfunc_call_test4", 0),
    ("bpf_kfunc_call_test_pass_ctx", 0),
    ("bpf_kfunc_call_test_pass1", 0),
    ("bpf_kfunc_call_test_pass2", 0),
    ("bpf_kfunc_call_test_mem_len_pass1", 0),
    ("bpf_kfunc_call_test_acquire", KF_ACQUIRE | KF_RET_NULL),
    ("bpf_kfunc_call_test_release", KF_RELEASE),
    ("bpf_fentry_test1", KF_SLEEPABLE),
];

/// The flags of a kfunc we know, by name.
pub fn kfunc_flags(name: &str) -> Option<u32> {
    KFUNCS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Kernel structs that are the ctx of some program type (`btf_is_prog_ctx_type`).
const CTX_STRUCTS: &[&str] = &[
    "__sk_buff",
    "xdp_md",
    "bpf_sock_ops",
    "bpf_sock_addr",
    "sk_msg_md",
    "sk_reuseport_md",
    "bpf_sk_lookup",
    "bpf_sysctl",
    "bpf_sockopt",
    "bpf_perf_event_data",
    "bpf_raw_tracepoint_args",
    "bpf_nf_ctx",
];

/// How a kfunc argument is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KfuncArg {
    /// An integer (`__k`: a known constant).
    Scalar { constant: bool },
    /// The size of the preceding memory argument (`__sz`, `__szk`).
    MemSize,
    /// The program's ctx.
    Ctx,
    /// A map (`struct bpf_map *`).
    Map,
    /// A kernel object of this kernel-BTF struct (`PTR_TO_BTF_ID`); `mem_size`: when the
    /// struct holds only scalars, memory of that size is accepted too.
    BtfPtr { struct_id: u32, mem_size: Option<u32> },
    /// Memory of a fixed size (pointer to an integer), or sized by the next argument
    /// (`size: None`, followed by `MemSize`).
    Mem { size: Option<u32> },
    /// Not checked (`__ign`, `void *` without a size).
    Any,
}

/// One argument: its kind and whether NULL is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KfuncParam {
    pub name: String,
    pub kind: KfuncArg,
    pub nullable: bool,
}

/// What a kfunc returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KfuncRet {
    Void,
    Scalar,
    /// A pointer to this kernel-BTF struct.
    BtfPtr { struct_id: u32 },
    /// A pointer we do not model (`void *`, memory): the call is refused.
    Unsupported,
}

/// A kfunc's prototype with its flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KfuncProto {
    pub name: String,
    pub flags: u32,
    pub params: Vec<KfuncParam>,
    pub ret: KfuncRet,
}

/// Why a kfunc call cannot be checked; the messages are the kernel's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KfuncError {
    #[error("kernel btf_id {btf_id} is not a function")]
    NotAFunction { btf_id: i32 },
    #[error("calling kernel function {name} is not allowed")]
    NotAllowed { name: String },
}

fn is_scalar(btf: &Btf, id: u32) -> bool {
    matches!(
        btf.resolve_modifiers(id).and_then(|t| btf.type_by_id(t)).map(|t| &t.kind),
        Some(BtfKind::Int { .. } | BtfKind::Enum { .. } | BtfKind::Enum64 { .. } | BtfKind::Float { .. })
    )
}

/// A struct whose members are all scalars or arrays of scalars (`__btf_type_is_scalar_struct`).
fn scalar_struct_size(btf: &Btf, id: u32) -> Option<u32> {
    let BtfKind::Struct { size, members } = &btf.type_by_id(id)?.kind else { return None };
    let ok = members.iter().all(|m| {
        let t = btf.resolve_modifiers(m.type_id).unwrap_or(0);
        match btf.type_by_id(t).map(|x| &x.kind) {
            Some(BtfKind::Array { elem, .. }) => is_scalar(btf, *elem),
            _ => is_scalar(btf, t),
        }
    });
    ok.then_some(*size)
}

/// The kfunc with kernel BTF id `btf_id`, checked against [`KFUNCS`].
pub fn kfunc_proto(btf: &Btf, btf_id: i32) -> Result<KfuncProto, KfuncError> {
    let not_func = KfuncError::NotAFunction { btf_id };
    let id = u32::try_from(btf_id).map_err(|_| not_func.clone())?;
    let Some(BtfKind::Func { proto, .. }) = btf.type_by_id(id).map(|t| &t.kind) else { return Err(not_func) };
    let name = btf.name(id).unwrap_or("").to_string();
    let Some(flags) = kfunc_flags(&name) else { return Err(KfuncError::NotAllowed { name }) };
    let Some(BtfKind::FuncProto { ret, params }) = btf.type_by_id(*proto).map(|t| &t.kind) else {
        return Err(not_func);
    };
    let mut out = Vec::with_capacity(params.len());
    for p in params {
        let pname = btf.string_at(p.name_off).unwrap_or("").to_string();
        let nullable = pname.ends_with("__nullable") || pname.ends_with("__opt");
        let kind = if pname.ends_with("__ign") {
            KfuncArg::Any
        } else if pname.ends_with("__sz") || pname.ends_with("__szk") {
            KfuncArg::MemSize
        } else if is_scalar(btf, p.type_id) {
            KfuncArg::Scalar { constant: pname.ends_with("__k") }
        } else {
            pointer_arg(btf, p.type_id)
        };
        out.push(KfuncParam { name: pname, kind, nullable });
    }
    // A pointer followed by its size argument is memory of that size.
    for i in 1..out.len() {
        if out[i].kind == KfuncArg::MemSize {
            if let Some(prev) = out.get_mut(i - 1) {
                if matches!(prev.kind, KfuncArg::BtfPtr { .. } | KfuncArg::Mem { .. } | KfuncArg::Any) {
                    prev.kind = KfuncArg::Mem { size: None };
                }
            }
        }
    }
    let ret = match btf.resolve_modifiers(*ret).and_then(|t| btf.type_by_id(t).map(|x| (t, &x.kind))) {
        Some((_, BtfKind::Void)) => KfuncRet::Void,
        _ if is_scalar(btf, *ret) => KfuncRet::Scalar,
        Some((_, BtfKind::Ptr { target })) => {
            let t = btf.resolve_modifiers(*target).unwrap_or(0);
            match btf.type_by_id(t).map(|x| &x.kind) {
                Some(BtfKind::Struct { .. }) => KfuncRet::BtfPtr { struct_id: t },
                _ => KfuncRet::Unsupported,
            }
        }
        _ => KfuncRet::Unsupported,
    };
    Ok(KfuncProto { name, flags, params: out, ret })
}

/// The kind of a pointer argument of type `id`.
fn pointer_arg(btf: &Btf, id: u32) -> KfuncArg {
    let t = btf.resolve_modifiers(id).unwrap_or(0);
    let Some(BtfKind::Ptr { target }) = btf.type_by_id(t).map(|x| &x.kind) else { return KfuncArg::Any };
    let pointee = btf.resolve_modifiers(*target).unwrap_or(0);
    match btf.type_by_id(pointee).map(|x| &x.kind) {
        Some(BtfKind::Struct { .. }) => {
            let sname = btf.name(pointee).unwrap_or("");
            if CTX_STRUCTS.contains(&sname) {
                KfuncArg::Ctx
            } else if sname == "bpf_map" {
                KfuncArg::Map
            } else {
                KfuncArg::BtfPtr { struct_id: pointee, mem_size: scalar_struct_size(btf, pointee) }
            }
        }
        Some(BtfKind::Int { .. } | BtfKind::Enum { .. } | BtfKind::Enum64 { .. }) => {
            KfuncArg::Mem { size: btf.type_size(pointee).map(|s| s as u32) }
        }
        _ => KfuncArg::Any,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::vmlinux::{kernel_btf, kernel_func_id};

    #[test]
    fn flags_table_has_acquire_and_release_pairs() {
        assert_eq!(kfunc_flags("bpf_skb_ct_lookup"), Some(KF_ACQUIRE | KF_RET_NULL));
        assert_eq!(kfunc_flags("bpf_ct_release"), Some(KF_RELEASE));
        assert_eq!(kfunc_flags("no_such_kfunc"), None);
        // The acquire/release pairs the loader's samples use are both present.
        for (acq, rel) in [("bpf_skb_ct_lookup", "bpf_ct_release"), ("bpf_cpumask_create", "bpf_cpumask_release"), ("bpf_task_acquire", "bpf_task_release")] {
            assert!(kfunc_flags(acq).is_some_and(|f| f & KF_ACQUIRE != 0), "{acq}");
            assert!(kfunc_flags(rel).is_some_and(|f| f & KF_RELEASE != 0), "{rel}");
        }
    }

    #[test]
    fn protos_from_kernel_btf() {
        let Some(btf) = kernel_btf() else {
            eprintln!("skipped: no kernel BTF");
            return;
        };
        let id = kernel_func_id("bpf_skb_ct_lookup").expect("in vmlinux") as i32;
        let p = kfunc_proto(btf, id).expect("known kfunc");
        let kinds: Vec<_> = p.params.iter().map(|a| a.kind.clone()).collect();
        assert_eq!(kinds[0], KfuncArg::Ctx);
        assert_eq!(kinds[1], KfuncArg::Mem { size: None });
        assert_eq!(kinds[2], KfuncArg::MemSize);
        assert!(matches!(p.ret, KfuncRet::BtfPtr { .. }));
        let id = kernel_func_id("bpf_map_sum_elem_count").expect("in vmlinux") as i32;
        assert_eq!(kfunc_proto(btf, id).expect("known").params[0].kind, KfuncArg::Map);
        let id = kernel_func_id("schedule").expect("in vmlinux") as i32;
        assert_eq!(kfunc_proto(btf, id), Err(KfuncError::NotAllowed { name: "schedule".into() }));
        assert_eq!(kfunc_proto(btf, 0), Err(KfuncError::NotAFunction { btf_id: 0 }));
    }
}
