//! Global (non-static) functions, verified as the kernel verifies them: separately,
//! once, from their BTF prototype, and called as black boxes.
//!
//! A subprogram whose BTF `FUNC` has global linkage is not inlined at its call sites.
//! Its arguments come from its `FUNC_PROTO`: integers are unknown scalars, a pointer to
//! the program type's context struct is the ctx, any other pointer to a sized type is
//! memory of that size that may be NULL (the kernel's `PTR_TO_MEM_OR_NULL`). A call
//! checks each argument against that kind and yields an unknown scalar in R0.
//! Functions whose prototype we cannot read stay static (inlined), which is sound: the
//! inlined analysis sees the actual arguments.

use crate::elf::btf::{Btf, BtfKind};
use crate::object::{Object, Program};
use crate::state::{AbsState, Ptr, PtrKind, RegState};

/// `BTF_FUNC_GLOBAL`.
const BTF_FUNC_GLOBAL: u16 = 1;

/// What a global function's argument is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    Scalar,
    Ctx,
    /// Memory of this many bytes, or NULL.
    Mem { size: u32 },
}

/// One global function of a linked program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalFunc {
    pub start: usize,
    pub name: String,
    pub params: Vec<ParamKind>,
}

/// Names of the context structs (a pointer to one of them is the ctx).
const CTX_STRUCTS: [&str; 14] = [
    "__sk_buff",
    "xdp_md",
    "pt_regs",
    "bpf_perf_event_data",
    "bpf_sock",
    "bpf_sock_addr",
    "bpf_sock_ops",
    "sk_msg_md",
    "bpf_sysctl",
    "bpf_sockopt",
    "sk_reuseport_md",
    "bpf_sk_lookup",
    "bpf_cgroup_dev_ctx",
    "bpf_raw_tracepoint_args",
];

/// The global functions among `prog`'s subprograms (never the entry, pc 0).
pub fn global_functions(obj: &Object, prog: &Program) -> Vec<GlobalFunc> {
    // Only subprograms (start != 0) can be global functions: no BTF parse without one.
    if prog.functions.iter().all(|(start, _)| *start == 0) {
        return Vec::new();
    }
    let Some(btf) = obj.parsed_btf() else { return Vec::new() };
    prog.functions
        .iter()
        .filter(|(start, _)| *start != 0)
        .filter_map(|(start, name)| {
            let id = btf.find_func(name)?;
            let BtfKind::Func { proto, linkage } = &btf.type_by_id(id)?.kind else { return None };
            if *linkage != BTF_FUNC_GLOBAL {
                return None;
            }
            let BtfKind::FuncProto { params, .. } = &btf.type_by_id(*proto)?.kind else { return None };
            if params.len() > 5 {
                return None;
            }
            let kinds: Option<Vec<ParamKind>> = params.iter().map(|p| param_kind(btf, p.type_id)).collect();
            Some(GlobalFunc { start: *start, name: name.clone(), params: kinds? })
        })
        .collect()
}

fn param_kind(btf: &Btf, ty: u32) -> Option<ParamKind> {
    let id = btf.resolve_modifiers(ty)?;
    match &btf.type_by_id(id)?.kind {
        BtfKind::Int { .. } | BtfKind::Enum { .. } => Some(ParamKind::Scalar),
        BtfKind::Ptr { target } => {
            let t = btf.resolve_modifiers(*target)?;
            if let Some(name) = btf.name(t) {
                if CTX_STRUCTS.contains(&name) {
                    return Some(ParamKind::Ctx);
                }
            }
            let size = btf.type_size(t)?;
            if size == 0 || size > u32::MAX as u64 {
                return None;
            }
            Some(ParamKind::Mem { size: size as u32 })
        }
        _ => None,
    }
}

/// The state at a global function's entry: its arguments from the prototype.
pub fn entry_state(params: &[ParamKind]) -> AbsState {
    let mut s = AbsState::entry();
    s.frame_mut().regs[1] = RegState::NotInit;
    for (i, p) in params.iter().enumerate() {
        let r = match p {
            ParamKind::Scalar => RegState::unknown_scalar(),
            ParamKind::Ctx => RegState::ptr(PtrKind::Ctx),
            ParamKind::Mem { size } => {
                let mut q = Ptr::new(PtrKind::Mem { size: *size, rdonly: false });
                q.maybe_null = true;
                q.id = (1 << 23) + i as u32 + 1;
                RegState::Ptr(q)
            }
        };
        s.frame_mut().regs[i + 1] = r;
    }
    s
}

/// The part of `prog` a global function's own verification sees: its instructions
/// from `start` on, or None when it calls a function placed before it (it then stays
/// inlined). `decoded` is `prog`'s instructions decoded.
pub fn sub_program(prog: &Program, decoded: &[crate::insn::Insn], start: usize) -> Option<Program> {
    let insns = prog.insns.get(start..)?.to_vec();
    for (pc, i) in decoded.iter().enumerate().skip(start) {
        let target = match i {
            crate::insn::Insn::Call(crate::insn::CallTarget::Local(imm)) => Some(pc as i64 + 1 + *imm as i64),
            crate::insn::Insn::LdImm64 { src: crate::insn::LdImm64Src::Func, imm, .. } => Some(pc as i64 + 1 + *imm as i64),
            _ => None,
        };
        if target.is_some_and(|t| t < start as i64) {
            return None;
        }
    }
    Some(Program {
        section: prog.section.clone(),
        name: prog.functions.iter().find(|(s, _)| *s == start).map(|(_, n)| n.clone()).unwrap_or_default(),
        prog_type: prog.prog_type,
        expected_attach_type: prog.expected_attach_type,
        insns,
        functions: prog.functions.iter().filter(|(s, _)| *s >= start).map(|(s, n)| (s - start, n.clone())).collect(),
        line_info: prog
            .line_info
            .iter()
            .filter(|l| l.pc >= start)
            .map(|l| crate::object::LineInfo { pc: l.pc - start, ..l.clone() })
            .collect::<Vec<_>>()
            .into(),
    })
}
