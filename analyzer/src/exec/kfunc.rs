//! Kernel function (kfunc) calls and poisoned calls.
//!
//! A kfunc call (`call` with `src_reg = BPF_PSEUDO_KFUNC_CALL`, imm = the kfunc's
//! kernel-BTF FUNC id, written by the loader) is checked against the prototype
//! `abi::kfuncs` derives from kernel BTF: each argument register by kind, acquired
//! references created (`KF_ACQUIRE`) and released (`KF_RELEASE`) as for helpers,
//! R1-R5 clobbered, R0 set from the return type (NULL-able with `KF_RET_NULL`).
//!
//! A poisoned call (`call 0xbad2310`, `call 2002000000 + n`, see `elf::poison`) is an
//! error only where it is reachable, with the message libbpf prints.
//!
//! R0 of a kfunc returning a struct pointer is a typed BTF pointer (`Ptr::btf`) to that
//! kernel struct, trusted when acquired.
//!
//! Not modelled: `KF_TRUSTED_ARGS`/`KF_RCU` trust of BTF pointers (any non-NULL BTF
//! pointer is accepted), per-program-type kfunc sets, `KF_SLEEPABLE`, the struct type
//! of a BTF pointer argument (not compared with the parameter's), kfuncs returning
//! `void *` or memory (refused).

use super::mem::{access, AccessKind, Target};
use super::{retire_id, Ctx};
use crate::abi::kfuncs::{kfunc_proto, KfuncArg, KfuncRet, KF_ACQUIRE, KF_RELEASE, KF_RET_NULL};
use crate::diag::DiagCode;
use crate::elf::vmlinux::kernel_btf;
use crate::insn::Reg;
use crate::state::reg::BtfTrust;
use crate::state::{AbsState, Ptr, PtrKind, RegState, StackByte};

/// A poisoned call reached: libbpf's message when the loader registered one, else the kernel's.
pub(crate) fn poisoned(cx: &mut Ctx<'_, '_>, id: i32) -> Option<()> {
    let msg = crate::elf::poison::message(cx.env.insns, cx.pc).unwrap_or_else(|| format!("invalid func unknown#{id}"));
    cx.error(DiagCode::HelperUnavailable, msg);
    None
}

/// A kfunc call (see the module doc).
pub(crate) fn kfunc_call(cx: &mut Ctx<'_, '_>, s: &mut AbsState, btf_id: i32) -> Option<()> {
    let Some(btf) = kernel_btf() else {
        cx.error(DiagCode::Unsupported, format!("kernel function calls need kernel BTF (btf_id {btf_id})"));
        return None;
    };
    let proto = match kfunc_proto(btf, btf_id) {
        Ok(p) => p,
        Err(e) => {
            cx.error(DiagCode::HelperUnavailable, e.to_string());
            return None;
        }
    };
    if proto.params.len() > 5 {
        cx.error(DiagCode::Unsupported, format!("kfunc {} has more than 5 arguments", proto.name));
        return None;
    }
    let mut released: Option<u32> = None;
    for (i, p) in proto.params.iter().enumerate() {
        let r = Reg(i as u8 + 1);
        let v = cx.read(s, r)?;
        let is_null = matches!(v, RegState::Scalar(x) if x.const_value() == Some(0));
        match &p.kind {
            KfuncArg::Any => {}
            KfuncArg::Scalar { .. } | KfuncArg::MemSize if !matches!(v, RegState::Scalar(_)) => {
                cx.error(DiagCode::HelperArgument, format!("R{} is not a scalar", r.0));
                return None;
            }
            KfuncArg::Scalar { constant: true } => {
                if v.as_scalar().and_then(|x| x.const_value()).is_none() {
                    cx.error(DiagCode::HelperArgument, format!("R{} must be a known constant", r.0));
                    return None;
                }
            }
            KfuncArg::Scalar { .. } | KfuncArg::MemSize => {}
            _ if p.nullable && is_null => {}
            KfuncArg::Ctx => match v {
                RegState::Ptr(q) if q.kind == PtrKind::Ctx && q.off == 0 && q.has_fixed_off() => {}
                _ => {
                    cx.error(DiagCode::HelperArgument, format!("arg#{i} expected pointer to ctx, but got {}", type_name(&v)));
                    return None;
                }
            },
            KfuncArg::Map => {
                if !matches!(v, RegState::Ptr(q) if matches!(q.kind, PtrKind::MapPtr { .. })) {
                    cx.error(DiagCode::HelperArgument, format!("R{} type={} expected=map_ptr", r.0, type_name(&v)));
                    return None;
                }
            }
            KfuncArg::BtfPtr { mem_size, .. } => match v {
                RegState::Ptr(q) if q.kind == PtrKind::BtfId && !q.maybe_null => {
                    if proto.flags & KF_RELEASE != 0 && released.is_none() {
                        released = Some(q.ref_obj_id);
                    }
                }
                RegState::Ptr(q) if q.maybe_null => {
                    cx.error(DiagCode::NullDereference, format!("Possibly NULL pointer passed to trusted arg{i}"));
                    return None;
                }
                RegState::Ptr(_) if mem_size.is_some() => {
                    check_mem(cx, s, r, mem_size.unwrap_or(0))?;
                }
                _ => {
                    cx.error(DiagCode::HelperArgument, format!("R{} type={} expected=ptr_", r.0, type_name(&v)));
                    return None;
                }
            },
            KfuncArg::Mem { size } => {
                let n = match size {
                    Some(n) => *n as u64,
                    None => match s.reg(Reg(r.0 + 1)).as_scalar() {
                        Some(x) => x.umax,
                        None => {
                            cx.error(DiagCode::HelperArgument, format!("R{} is not a scalar", r.0 + 1));
                            return None;
                        }
                    },
                };
                if n >= 1 << 29 {
                    cx.error(
                        DiagCode::HelperArgument,
                        format!("R{} unbounded memory access, use 'var &= const' or 'if (var < const)'", r.0 + 1),
                    );
                    return None;
                }
                if n > 0 {
                    check_mem(cx, s, r, n as u32)?;
                } else if !matches!(v, RegState::Ptr(_)) && !is_null {
                    cx.error(DiagCode::HelperArgument, format!("R{} type={} expected=ptr_", r.0, type_name(&v)));
                    return None;
                }
            }
        }
    }
    if proto.flags & KF_RELEASE != 0 {
        let rel = released.unwrap_or(0);
        if rel == 0 || !s.refs.contains_key(&rel) {
            cx.error(DiagCode::Reference, format!("release kernel function {} expects refcounted PTR_TO_BTF_ID", proto.name));
            return None;
        }
        s.refs.remove(&rel);
        s.for_each_reg_mut(|r| {
            if matches!(r, RegState::Ptr(p) if p.ref_obj_id == rel) {
                *r = RegState::unknown_scalar();
            }
        });
    }
    for r in 1..=5 {
        s.set_reg(Reg(r), RegState::NotInit);
    }
    let r0 = match proto.ret {
        KfuncRet::Void => RegState::NotInit,
        KfuncRet::Scalar => RegState::unknown_scalar(),
        KfuncRet::BtfPtr { struct_id } => {
            let fresh = cx.fresh_id(s);
            retire_id(s, fresh);
            // An acquired object is trusted (`PTR_TRUSTED` with a reference).
            let trust = if proto.flags & KF_ACQUIRE != 0 { BtfTrust::Trusted } else { BtfTrust::Plain };
            let mut p = Ptr::btf(struct_id, trust);
            p.maybe_null = proto.flags & KF_RET_NULL != 0;
            p.id = fresh;
            if proto.flags & KF_ACQUIRE != 0 {
                p.ref_obj_id = fresh;
                s.refs.insert(fresh, cx.pc);
            }
            RegState::Ptr(p)
        }
        KfuncRet::Unsupported => {
            cx.error(DiagCode::Unsupported, format!("kfunc {} returns a pointer kind not supported yet", proto.name));
            return None;
        }
    };
    s.set_reg(Reg::R0, r0);
    Some(())
}

/// `n` bytes at the pointer in `r` must be accessible; stack bytes the kfunc may write
/// become unknown data.
fn check_mem(cx: &mut Ctx<'_, '_>, s: &mut AbsState, r: Reg, n: u32) -> Option<()> {
    cx.helper_access = true;
    let t = access(cx, s, r, 0, n, AccessKind::Read);
    cx.helper_access = false;
    match t? {
        Target::Stack { frame, off } => {
            if let Some(f) = s.frames.get_mut(frame) {
                f.stack.fill_bytes(off, n as i64, StackByte::Misc);
            }
        }
        Target::StackVar { frame, lo, hi } => {
            if let Some(f) = s.frames.get_mut(frame) {
                f.stack.clobber_range(lo, hi);
            }
        }
        _ => {}
    }
    Some(())
}

/// The kernel's name of a register's type, for messages.
fn type_name(v: &RegState) -> String {
    match v {
        RegState::Ptr(p) => p.type_name(),
        RegState::Scalar(_) => "scalar".to_string(),
        _ => "?".to_string(),
    }
}
