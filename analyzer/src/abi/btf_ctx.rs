//! Typed ctx arguments of BTF-attached programs (the kernel's `btf_ctx_access`):
//! fentry/fexit/fmod_ret, tp_btf, lsm, iter and struct_ops programs read argument `i`
//! at ctx offset `8 * i`, typed by the attach target's FUNC_PROTO in kernel BTF:
//! - `tp_btf/<tp>`: the `btf_trace_<tp>` typedef (a pointer to a FUNC_PROTO whose
//!   first `void *` parameter is skipped);
//! - `fentry|fexit|fmod_ret/<func>`: the FUNC `<func>` (fexit also gets the return
//!   value as the argument after the last);
//! - `lsm/<hook>`: the FUNC `bpf_lsm_<hook>`;
//! - `iter/<name>`: the FUNC `bpf_iter_<name>` (`meta`, then the object, which is NULL
//!   at the end of the iteration: `_or_null`);
//! - `struct_ops`: the member of the struct_ops type the program fills
//!   (`abi::struct_ops`); `tcp_congestion_ops` callbacks see `struct sock *` as
//!   `struct tcp_sock *` (`bpf_tcp_ca_is_valid_access`) and may write a few fields.
//!
//! A pointer to a struct is a typed kernel pointer (trusted for tp_btf, iter, lsm and
//! struct_ops, as `prog_args_trusted` says), NULL-able when its parameter is named
//! `*__nullable` or for iterator objects; pointers to ints/void and integers are scalars.
//!
//! The current program's context is held in a thread-local set for the duration of one
//! program's analysis by [`AttachScope`]; without it (or without kernel BTF) the
//! transfer functions keep their untyped behaviour.

use std::cell::RefCell;
use std::rc::Rc;

use super::btf_access::{kernel, ptr_to_struct, NameIndex};
use crate::elf::btf::{Btf, BtfKind};
use crate::object::{Object, Program};
use crate::prog_type::{AttachType, ProgType};

/// The type of one ctx argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// Integers, enums, pointers to ints or void: a scalar.
    Scalar,
    /// A pointer to the kernel struct `btf_id`.
    Ptr { btf_id: u32, maybe_null: bool, trusted: bool },
    /// Something we do not model: the untyped behaviour applies.
    Untyped,
}

/// Which struct-access rule allows writes through typed pointers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteRule {
    /// `only read is supported`.
    ReadOnly,
    /// `bpf_tcp_ca_btf_struct_access`.
    TcpCongestionOps,
}

/// What one program's ctx holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfCtx {
    pub args: Vec<ArgType>,
    pub write_rule: WriteRule,
    /// The callback returns void (struct_ops, LSM): R0 is not read at exit.
    pub void_ret: bool,
}

impl BtfCtx {
    /// The type of the 8-byte ctx slot at `off`, if it is an argument.
    pub fn arg_at(&self, off: i64) -> Option<ArgType> {
        if off < 0 || off % 8 != 0 {
            return None;
        }
        self.args.get((off / 8) as usize).copied()
    }

    /// Computes the context of `prog` in `obj` (None: not BTF-attached, or no kernel BTF).
    pub fn for_program(obj: &Object, prog: &Program) -> Option<BtfCtx> {
        let (btf, ix) = kernel()?;
        let (kind, target) = match prog.section.split_once('/') {
            Some((k, t)) => (k.trim_end_matches(".s"), t),
            None => (prog.section.as_str(), ""),
        };
        match (prog.prog_type, kind) {
            (ProgType::StructOps, _) => {
                let slot = super::struct_ops::slot_for(&obj.path, obj.btf.as_deref(), &prog.name)?;
                let st = ix.struct_id(&slot.struct_name)?;
                let proto = struct_member_proto(btf, st, &slot.member)?;
                let tcp_ca = slot.struct_name == "tcp_congestion_ops";
                let mut args = proto_args(btf, proto, 0, true, false);
                if tcp_ca {
                    let (sock, tcp_sock) = (ix.struct_id("sock"), ix.struct_id("tcp_sock"));
                    for a in &mut args {
                        if let ArgType::Ptr { btf_id, .. } = a {
                            if Some(*btf_id) == sock {
                                if let Some(t) = tcp_sock {
                                    *btf_id = t;
                                }
                            }
                        }
                    }
                }
                let write_rule = if tcp_ca { WriteRule::TcpCongestionOps } else { WriteRule::ReadOnly };
                Some(BtfCtx { args, write_rule, void_ret: returns_void(btf, proto) })
            }
            (ProgType::Tracing, "tp_btf") => {
                let td = ix.typedef_id(&format!("btf_trace_{target}"))?;
                let proto = func_proto_of_ptr(btf, td)?;
                Some(BtfCtx { args: proto_args(btf, proto, 1, true, false), write_rule: WriteRule::ReadOnly, void_ret: false })
            }
            (ProgType::Tracing, "iter") => {
                let f = ix.func_id(&format!("bpf_iter_{target}"))?;
                let proto = func_proto(btf, f)?;
                Some(BtfCtx { args: proto_args(btf, proto, 0, true, true), write_rule: WriteRule::ReadOnly, void_ret: false })
            }
            (ProgType::Tracing, "fentry" | "fexit" | "fmod_ret") => {
                let f = ix.func_id(target)?;
                let proto = func_proto(btf, f)?;
                let mut args = proto_args(btf, proto, 0, false, false);
                if prog.expected_attach_type == Some(AttachType::TraceFexit) || kind == "fexit" {
                    if let Some(BtfKind::FuncProto { ret, .. }) = btf.type_by_id(proto).map(|t| &t.kind) {
                        args.push(type_arg(btf, *ret, false, false));
                    }
                }
                Some(BtfCtx { args, write_rule: WriteRule::ReadOnly, void_ret: false })
            }
            (ProgType::Lsm, "lsm") => {
                let f = ix.func_id(&format!("bpf_lsm_{target}"))?;
                let proto = func_proto(btf, f)?;
                let void_ret = returns_void(btf, proto);
                Some(BtfCtx { args: proto_args(btf, proto, 0, true, false), write_rule: WriteRule::ReadOnly, void_ret })
            }
            _ => None,
        }
    }
}

/// True when a FUNC_PROTO returns void.
fn returns_void(btf: &Btf, proto: u32) -> bool {
    matches!(btf.type_by_id(proto).map(|t| &t.kind), Some(BtfKind::FuncProto { ret: 0, .. }))
}

/// The FUNC_PROTO of FUNC `f`.
fn func_proto(btf: &Btf, f: u32) -> Option<u32> {
    match btf.type_by_id(f)?.kind {
        BtfKind::Func { proto, .. } => Some(proto),
        _ => None,
    }
}

/// The FUNC_PROTO a (typedef of a) function pointer points to.
fn func_proto_of_ptr(btf: &Btf, t: u32) -> Option<u32> {
    let p = btf.resolve_modifiers(t)?;
    let BtfKind::Ptr { target } = btf.type_by_id(p)?.kind else { return None };
    let fp = btf.resolve_modifiers(target)?;
    matches!(btf.type_by_id(fp)?.kind, BtfKind::FuncProto { .. }).then_some(fp)
}

/// The FUNC_PROTO of member `name` (a function pointer) of struct `st`.
fn struct_member_proto(btf: &Btf, st: u32, name: &str) -> Option<u32> {
    let BtfKind::Struct { members, .. } = &btf.type_by_id(st)?.kind else { return None };
    let m = members.iter().find(|m| btf.string_at(m.name_off) == Some(name))?;
    func_proto_of_ptr(btf, m.type_id)
}

/// Argument types of a FUNC_PROTO, skipping the first `skip` parameters.
fn proto_args(btf: &Btf, proto: u32, skip: usize, trusted: bool, iter: bool) -> Vec<ArgType> {
    let Some(BtfKind::FuncProto { params, .. }) = btf.type_by_id(proto).map(|t| &t.kind) else { return Vec::new() };
    params
        .iter()
        .skip(skip)
        .enumerate()
        .map(|(i, p)| {
            let nullable = btf.string_at(p.name_off).is_some_and(|n| n.ends_with("__nullable")) || (iter && i > 0);
            type_arg(btf, p.type_id, trusted, nullable)
        })
        .collect()
}

fn type_arg(btf: &Btf, t: u32, trusted: bool, maybe_null: bool) -> ArgType {
    let Some(r) = btf.resolve_modifiers(t) else { return ArgType::Untyped };
    match btf.type_by_id(r).map(|x| &x.kind) {
        Some(BtfKind::Int { .. } | BtfKind::Enum { .. } | BtfKind::Enum64 { .. }) => ArgType::Scalar,
        Some(BtfKind::Ptr { target }) => {
            if let Some(s) = ptr_to_struct(btf, r) {
                return ArgType::Ptr { btf_id: s, maybe_null, trusted };
            }
            match btf.resolve_modifiers(*target).and_then(|x| btf.type_by_id(x)).map(|x| &x.kind) {
                Some(BtfKind::Void | BtfKind::Int { .. } | BtfKind::Enum { .. } | BtfKind::Enum64 { .. }) => ArgType::Scalar,
                _ => ArgType::Untyped,
            }
        }
        _ => ArgType::Untyped,
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<BtfCtx>>> = const { RefCell::new(None) };
}

/// The BTF ctx of the program being analysed on this thread, if any.
pub fn current() -> Option<Rc<BtfCtx>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Sets the current program's BTF ctx until dropped (then restores the previous one).
pub struct AttachScope {
    prev: Option<Rc<BtfCtx>>,
}

impl AttachScope {
    /// Enters `ctx` (None: untyped behaviour).
    pub fn enter(ctx: Option<BtfCtx>) -> AttachScope {
        let prev = CURRENT.with(|c| c.replace(ctx.map(Rc::new)));
        AttachScope { prev }
    }

    /// Enters the context of `prog` in `obj`, as `BtfCtx::for_program` computes it.
    pub fn for_program(obj: &Object, prog: &Program) -> AttachScope {
        AttachScope::enter(BtfCtx::for_program(obj, prog))
    }
}

impl Drop for AttachScope {
    fn drop(&mut self) {
        let prev = self.prev.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

/// The kernel's name index, re-exported for the transfer functions.
pub fn kernel_index() -> Option<(&'static Btf, &'static NameIndex)> {
    kernel()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prog(section: &str, name: &str, t: ProgType, a: Option<AttachType>) -> (Object, Program) {
        let p = Program {
            section: section.into(),
            name: name.into(),
            prog_type: t,
            expected_attach_type: a,
            insns: Vec::new(),
            functions: Vec::new(),
            line_info: Default::default(),
        };
        let o = Object { path: "/nonexistent.o".into(), license: None, kern_version: None, maps: Vec::new(), programs: Vec::new(), btf: None, parsed_btf: Default::default() };
        (o, p)
    }

    #[test]
    fn tp_btf_iter_and_fentry_args_from_kernel_btf() {
        let Some((_, ix)) = kernel() else {
            eprintln!("skipped: no kernel BTF");
            return;
        };
        let skb = ix.struct_id("sk_buff").expect("sk_buff");
        let (o, p) = prog("tp_btf/kfree_skb", "f", ProgType::Tracing, Some(AttachType::TraceRawTp));
        let c = BtfCtx::for_program(&o, &p).expect("kfree_skb tracepoint");
        assert_eq!(c.arg_at(0), Some(ArgType::Ptr { btf_id: skb, maybe_null: false, trusted: true }));
        assert_eq!(c.arg_at(4), None);
        let task = ix.struct_id("task_struct").expect("task_struct");
        let (o, p) = prog("iter/task", "f", ProgType::Tracing, Some(AttachType::TraceIter));
        let c = BtfCtx::for_program(&o, &p).expect("task iterator");
        assert!(matches!(c.arg_at(0), Some(ArgType::Ptr { maybe_null: false, .. })));
        assert_eq!(c.arg_at(8), Some(ArgType::Ptr { btf_id: task, maybe_null: true, trusted: true }));
        let (o, p) = prog("fexit/do_unlinkat", "f", ProgType::Tracing, Some(AttachType::TraceFexit));
        let c = BtfCtx::for_program(&o, &p).expect("do_unlinkat");
        // (int dfd, struct filename *name) -> int
        assert_eq!(c.arg_at(0), Some(ArgType::Scalar));
        assert!(matches!(c.arg_at(8), Some(ArgType::Ptr { trusted: false, .. })));
        assert_eq!(c.arg_at(16), Some(ArgType::Scalar));
        let (o, p) = prog("xdp", "f", ProgType::Xdp, None);
        assert_eq!(BtfCtx::for_program(&o, &p), None);
    }

    #[test]
    fn scope_sets_and_restores() {
        assert_eq!(current(), None);
        {
            let _s = AttachScope::enter(Some(BtfCtx { args: vec![ArgType::Scalar], write_rule: WriteRule::ReadOnly, void_ret: false }));
            assert_eq!(current().map(|c| c.args.len()), Some(1));
            {
                let _t = AttachScope::enter(None);
                assert_eq!(current(), None);
            }
            assert_eq!(current().map(|c| c.args.len()), Some(1));
        }
        assert_eq!(current(), None);
    }
}
