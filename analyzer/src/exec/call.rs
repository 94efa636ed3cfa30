//! Calls and exits: helper calls checked against their prototypes
//! (`check_helper_call`), bpf-to-bpf call and return edges (frames), and program exit
//! (`check_return_code`, leaked references).

use super::mem::{access, AccessKind, Target};
use super::{retire_id, Ctx};
use crate::abi::helpers::{helper_allowed_for, helper_proto_for, ArgKind, RetKind};
use crate::abi::map_types;
use crate::diag::DiagCode;
use crate::insn::{helper_names::helper_name, CallTarget, Reg};
use crate::state::{AbsState, Frame, Ptr, PtrKind, RegState, StackByte};
use lattices::Scalar;

pub(crate) fn call(cx: &mut Ctx<'_, '_>, s: &mut AbsState, target: CallTarget) -> Option<()> {
    // Inside a `bpf_spin_lock`-ed region only `bpf_spin_unlock` and bpf-to-bpf calls are
    // allowed (the kernel's `do_check`, before any argument check).
    let helper_in_lock = match target {
        CallTarget::Helper(id) => id != BPF_FUNC_SPIN_UNLOCK,
        CallTarget::Kfunc { .. } => true,
        CallTarget::Local(_) => false,
    };
    if helper_in_lock && !s.lock.is_free() {
        cx.error(DiagCode::Lock, "function calls are not allowed while holding a lock");
        return None;
    }
    match target {
        // Instructions the loader poisoned as libbpf does (unresolved CO-RE relocation or kfunc).
        CallTarget::Helper(id) if crate::elf::poison::is_poison_call(id) => super::kfunc::poisoned(cx, id),
        CallTarget::Helper(id @ (BPF_FUNC_SPIN_LOCK | BPF_FUNC_SPIN_UNLOCK)) => {
            spin_lock(cx, s, id)?;
            helper_call(cx, s, id)
        }
        CallTarget::Helper(id) => helper_call(cx, s, id),
        // The call edge pushes the frame; nothing to check here but the arguments
        // the callee reads, which it checks itself.
        CallTarget::Local(imm) => {
            let target = (cx.pc as i64 + 1 + imm as i64) as usize;
            if let Some((_, params)) = cx.env.global_funcs.iter().find(|(pc, _)| *pc == target) {
                return global_call(cx, s, &params.clone());
            }
            match cx.env.intrinsics.iter().find(|(pc, _)| *pc == target) {
                Some((_, which)) => intrinsic(cx, s, *which),
                None => Some(()),
            }
        }
        CallTarget::Kfunc { btf_id, .. } => super::kfunc::kfunc_call(cx, s, btf_id),
    }
}

/// `memset`/`memcpy`: the destination (and source) ranges must be accessible for the
/// length in R3; R0 gets an unknown scalar and R1-R5 are clobbered, as after any call.
fn intrinsic(cx: &mut Ctx<'_, '_>, s: &mut AbsState, which: super::Intrinsic) -> Option<()> {
    let len = match cx.read(s, Reg::R3)? {
        RegState::Scalar(x) => x,
        _ => {
            cx.error(DiagCode::HelperArgument, "R3 type=ptr expected=scalar");
            return None;
        }
    };
    cx.read(s, Reg::R2)?;
    if which == super::Intrinsic::Memcpy {
        check_mem_arg(cx, s, Reg::R2, len, false, false)?;
    }
    check_mem_arg(cx, s, Reg::R1, len, true, false)?;
    // A memset of zeroes into the stack leaves zero bytes.
    if which == super::Intrinsic::Memset {
        if let (RegState::Ptr(p), Some(0), Some(n)) =
            (*s.reg(Reg::R1), s.scalar(Reg::R2).and_then(|v| v.const_value()), len.const_value())
        {
            if let (PtrKind::Stack { frame }, Some(v)) = (p.kind, p.var.const_value()) {
                let off = p.off as i64 + v as i64;
                if let Some(f) = s.frames.get_mut(frame as usize) {
                    f.stack.fill_bytes(off, n as i64, StackByte::Zero);
                }
            }
        }
    }
    for r in 1..=5 {
        s.set_reg(Reg(r), RegState::NotInit);
    }
    s.set_reg(Reg::R0, RegState::unknown_scalar());
    Some(())
}

/// A call to a global function: each argument must match its BTF kind (the kernel's
/// `btf_check_subprog_call`); the callee was verified on its own, so R0 is an unknown
/// scalar afterwards and R1-R5 are clobbered.
fn global_call(cx: &mut Ctx<'_, '_>, s: &mut AbsState, params: &[crate::global_funcs::ParamKind]) -> Option<()> {
    use crate::global_funcs::ParamKind;
    for (i, p) in params.iter().enumerate() {
        let r = Reg(i as u8 + 1);
        let v = cx.read(s, r)?;
        match p {
            ParamKind::Scalar => {
                if !matches!(v, RegState::Scalar(_)) {
                    cx.error(DiagCode::HelperArgument, format!("R{} is not a scalar", r.0));
                    return None;
                }
            }
            ParamKind::Ctx => match v {
                RegState::Ptr(q) if q.kind == PtrKind::Ctx && q.off == 0 && q.has_fixed_off() => {}
                _ => {
                    cx.error(DiagCode::HelperArgument, format!("arg#{i} expects pointer to ctx"));
                    return None;
                }
            },
            ParamKind::Mem { size } => {
                check_mem_arg(cx, s, r, Scalar::constant(*size as u64), true, true)?;
            }
        }
    }
    for r in 1..=5 {
        s.set_reg(Reg(r), RegState::NotInit);
    }
    s.set_reg(Reg::R0, RegState::unknown_scalar());
    Some(())
}

fn helper_label(id: i32) -> String {
    match helper_name(id) {
        Some(n) => format!("{n}#{id}"),
        None => format!("unknown#{id}"),
    }
}

/// Memory argument: `[ptr, ptr + size)` must be accessible; for reads, initialised.
fn check_mem_arg(cx: &mut Ctx<'_, '_>, s: &mut AbsState, r: Reg, size: Scalar, write: bool, may_be_null: bool) -> Option<()> {
    let v = *s.reg(r);
    if let RegState::Scalar(x) = v {
        if may_be_null && x.const_value() == Some(0) {
            return Some(());
        }
    }
    if size.umax >= 1 << 29 {
        cx.error(
            DiagCode::HelperArgument,
            format!("R{} unbounded memory access, use 'var &= const' or 'if (var < const)'", r.0 + 1),
        );
        return None;
    }
    let max = size.umax as u32;
    if max == 0 {
        return Some(());
    }
    let kind = if write { AccessKind::Write } else { AccessKind::Read };
    cx.helper_access = true;
    let r = check_mem_range(cx, s, r, v, max, kind, write);
    cx.helper_access = false;
    r
}

#[allow(clippy::too_many_arguments)]
fn check_mem_range(cx: &mut Ctx<'_, '_>, s: &mut AbsState, r: Reg, v: RegState, max: u32, kind: AccessKind, write: bool) -> Option<()> {
    // Check the whole range by checking its first and last byte-wide windows and,
    // for the stack, every byte's initialisation.
    match v {
        RegState::Ptr(p) if matches!(p.kind, PtrKind::Stack { .. }) => {
            let t = access(cx, s, r, 0, max, kind)?;
            match t {
                Target::Stack { frame, off } => {
                    if write {
                        s.frames[frame].stack.fill_bytes(off, max as i64, StackByte::Misc);
                    } else if let Some(bad) = s.frames[frame].stack.first_invalid(off, max as i64).filter(|_| !cx.env.allow_uninit_stack) {
                        cx.error(
                            DiagCode::UninitStack,
                            format!("invalid indirect read from stack R{} off {}+{} size {}", r.0, off, bad - off, max),
                        );
                        return None;
                    }
                }
                Target::StackVar { frame, lo, hi } => {
                    if write {
                        s.frames[frame].stack.clobber_range(lo, hi);
                    } else if let Some(bad) = s.frames[frame].stack.first_invalid(lo, hi - lo).filter(|_| !cx.env.allow_uninit_stack) {
                        cx.error(
                            DiagCode::UninitStack,
                            format!("invalid indirect read from stack R{} var_off off {} size {}", r.0, bad, max),
                        );
                        return None;
                    }
                }
                _ => {}
            }
            Some(())
        }
        RegState::Ptr(p) if matches!(p.kind, PtrKind::Ctx) => {
            // Helpers reading ctx memory: rare; require a valid access of the whole size.
            access(cx, s, r, 0, max, kind).map(|_| ())
        }
        RegState::Ptr(_) => access(cx, s, r, 0, max, kind).map(|_| ()),
        RegState::Scalar(_) | RegState::Unknown => {
            cx.error(DiagCode::HelperArgument, format!("R{} type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem", r.0));
            None
        }
        RegState::NotInit => {
            cx.error(DiagCode::UninitRegister, format!("R{} !read_ok", r.0));
            None
        }
    }
}

fn expect_kind(cx: &mut Ctx<'_, '_>, r: Reg, v: &RegState, ok: impl Fn(&Ptr) -> bool, expected: &str) -> Option<Ptr> {
    match v {
        RegState::Ptr(p) if ok(p) => Some(*p),
        RegState::Ptr(p) if p.maybe_null => {
            cx.error(DiagCode::NullDereference, format!("R{} type={} expected={}", r.0, "ptr_or_null", expected));
            None
        }
        RegState::Scalar(_) => {
            cx.error(DiagCode::HelperArgument, format!("R{} type=scalar expected={}", r.0, expected));
            None
        }
        _ => {
            cx.error(DiagCode::HelperArgument, format!("R{} type=ptr expected={}", r.0, expected));
            None
        }
    }
}

/// Helper ids of `bpf_spin_lock` and `bpf_spin_unlock`.
const BPF_FUNC_SPIN_LOCK: i32 = 93;
const BPF_FUNC_SPIN_UNLOCK: i32 = 94;

/// `process_spin_lock`: the argument must point at 4 writable bytes inside a map value;
/// lock takes it (only one lock at a time), unlock releases the lock held.
fn spin_lock(cx: &mut Ctx<'_, '_>, s: &mut AbsState, id: i32) -> Option<()> {
    let map = match cx.read(s, Reg::R1)? {
        RegState::Ptr(Ptr { kind: PtrKind::MapValue { map }, maybe_null: false, .. }) => map,
        v => {
            let name = match v {
                RegState::Ptr(p) => p.type_name(),
                _ => "scalar".to_string(),
            };
            cx.error(DiagCode::HelperArgument, format!("R1 type={name} expected=map_value"));
            return None;
        }
    };
    access(cx, s, Reg::R1, 0, 4, AccessKind::Write)?;
    if id == BPF_FUNC_SPIN_LOCK {
        if !s.lock.is_free() {
            cx.error(DiagCode::Lock, "Locking two bpf_spin_locks are not allowed");
            return None;
        }
        s.lock = crate::state::LockState::Held { map };
    } else {
        match s.lock {
            crate::state::LockState::Held { map: held } if held == map => s.lock = crate::state::LockState::Free,
            crate::state::LockState::Held { .. } => {
                cx.error(DiagCode::Lock, "bpf_spin_unlock of different lock");
                return None;
            }
            _ => {
                cx.error(DiagCode::Lock, "bpf_spin_unlock without taking a lock");
                return None;
            }
        }
    }
    Some(())
}

fn helper_call(cx: &mut Ctx<'_, '_>, s: &mut AbsState, id: i32) -> Option<()> {
    let Some(proto) = helper_proto_for(cx.env.prog_type, id) else {
        cx.error(DiagCode::HelperUnavailable, format!("invalid func {}", helper_label(id)));
        return None;
    };
    if proto.gpl_only && !cx.env.gpl {
        cx.error(DiagCode::HelperUnavailable, "cannot call GPL-restricted function from non-GPL compatible program");
        return None;
    }
    if !helper_allowed_for(cx.env.prog_type, cx.env.attach, id) {
        cx.error(
            DiagCode::HelperUnavailable,
            format!("program of this type cannot use helper {}", helper_label(id)),
        );
        return None;
    }
    let mut map: Option<u32> = None;
    let mut released: Option<u32> = None;
    let mut alloc_size: Option<u32> = None;
    // The callback a helper takes, by start pc.
    let mut callback: Option<usize> = None;
    // The constant key of an array lookup, when known (6.x: no NULL check needed then).
    let mut const_key: Option<u64> = None;
    let args = proto.args;
    let mut i = 0;
    while i < args.len().min(5) {
        let r = Reg(i as u8 + 1);
        let kind = args[i];
        if kind == ArgKind::DontCare {
            i += 1;
            continue;
        }
        let v = cx.read(s, r)?;
        match kind {
            ArgKind::DontCare | ArgKind::Anything => {}
            ArgKind::ConstMapPtr => {
                let p = expect_kind(cx, r, &v, |p| matches!(p.kind, PtrKind::MapPtr { .. }), "map_ptr")?;
                if let PtrKind::MapPtr { map: m } = p.kind {
                    let def = &cx.env.maps[m as usize];
                    if let Err(msg) = map_types::map_helper_compatible(def.map_type, id) {
                        cx.error(DiagCode::MapHelperMismatch, msg);
                        return None;
                    }
                    map = Some(m);
                }
            }
            ArgKind::PtrToMapValueOrNull if matches!(v, RegState::Scalar(x) if x.const_value() == Some(0)) => {}
            ArgKind::PtrToSocketOrNull if matches!(v, RegState::Scalar(x) if x.const_value() == Some(0)) => {}
            ArgKind::PtrToMapKey | ArgKind::PtrToMapValue | ArgKind::PtrToUninitMapValue | ArgKind::PtrToMapValueOrNull => {
                let Some(m) = map else {
                    cx.error(DiagCode::HelperArgument, "invalid map_ptr to access map->key");
                    return None;
                };
                let def = &cx.env.maps[m as usize];
                let n = if kind == ArgKind::PtrToMapKey { def.key_size } else { def.value_size };
                if kind == ArgKind::PtrToMapKey && n == 4 {
                    if let RegState::Ptr(p) = v {
                        if let (PtrKind::Stack { frame }, Some(var)) = (p.kind, p.var.const_value()) {
                            let off = p.off as i64 + var as i64;
                            if let Some(f) = s.frames.get(frame as usize) {
                                if let Ok(RegState::Scalar(k)) = f.stack.load(off, 4) {
                                    const_key = k.const_value();
                                }
                            }
                        }
                    }
                }
                check_mem_arg(cx, s, r, Scalar::constant(n as u64), kind == ArgKind::PtrToUninitMapValue, false)?;
            }
            ArgKind::PtrToMem | ArgKind::PtrToMemOrNull | ArgKind::PtrToUninitMem => {
                // The size is the next argument.
                let size = match args.get(i + 1) {
                    Some(ArgKind::ConstSize) | Some(ArgKind::ConstSizeOrZero) => {
                        let sz = *s.reg(Reg(r.0 + 1));
                        match sz {
                            RegState::Scalar(x) => {
                                if args[i + 1] == ArgKind::ConstSize && x.umin == 0 && x.umax == 0 {
                                    cx.error(DiagCode::HelperArgument, format!("R{} invalid zero-sized read", r.0 + 1));
                                    return None;
                                }
                                if x.smin < 0 {
                                    cx.error(
                                        DiagCode::HelperArgument,
                                        format!(
                                            "R{} min value is negative, either use unsigned or 'var &= const'",
                                            r.0 + 1
                                        ),
                                    );
                                    return None;
                                }
                                x
                            }
                            RegState::NotInit => {
                                cx.error(DiagCode::UninitRegister, format!("R{} !read_ok", r.0 + 1));
                                return None;
                            }
                            _ => {
                                cx.error(DiagCode::HelperArgument, format!("R{} type=ptr expected=scalar", r.0 + 1));
                                return None;
                            }
                        }
                    }
                    _ => Scalar::constant(0),
                };
                check_mem_arg(cx, s, r, size, kind == ArgKind::PtrToUninitMem, kind == ArgKind::PtrToMemOrNull)?;
                i += 2;
                continue;
            }
            ArgKind::ConstSize | ArgKind::ConstSizeOrZero => {
                if !matches!(v, RegState::Scalar(_)) {
                    cx.error(DiagCode::HelperArgument, format!("R{} type=ptr expected=scalar", r.0));
                    return None;
                }
            }
            ArgKind::ConstAllocSizeOrZero => match v {
                RegState::Scalar(x) if x.const_value().is_some() => alloc_size = x.const_value().map(|c| c as u32),
                _ => {
                    cx.error(DiagCode::HelperArgument, format!("R{} is not a known constant'", r.0));
                    return None;
                }
            },
            ArgKind::PtrToCtx | ArgKind::PtrToCtxOrNull => {
                if kind == ArgKind::PtrToCtxOrNull && matches!(v, RegState::Scalar(x) if x.const_value() == Some(0)) {
                } else {
                    let p = expect_kind(cx, r, &v, |p| p.kind == PtrKind::Ctx, "ctx")?;
                    if p.off != 0 || !p.has_fixed_off() {
                        cx.error(
                            DiagCode::HelperArgument,
                            format!("dereference of modified ctx ptr R{} off={} disallowed", r.0, p.off),
                        );
                        return None;
                    }
                }
            }
            ArgKind::PtrToSocket | ArgKind::PtrToSockCommon | ArgKind::PtrToSocketOrNull => {
                let p = expect_kind(
                    cx,
                    r,
                    &v,
                    |p| {
                        (matches!(p.kind, PtrKind::Socket | PtrKind::SockCommon | PtrKind::TcpSock)
                            || (kind == ArgKind::PtrToSockCommon && is_btf_sock_common(p)))
                            && !p.maybe_null
                    },
                    "sock",
                )?;
                if proto.release_arg == Some(i) {
                    released = Some(p.ref_obj_id);
                }
            }
            ArgKind::PtrToAllocMem => {
                let p = expect_kind(cx, r, &v, |p| matches!(p.kind, PtrKind::Mem { .. }) && !p.maybe_null, "alloc_mem")?;
                if proto.release_arg == Some(i) {
                    released = Some(p.ref_obj_id);
                }
            }
            ArgKind::PtrToStack | ArgKind::PtrToStackOrNull | ArgKind::PtrToLong | ArgKind::PtrToInt => {
                if kind == ArgKind::PtrToStackOrNull && matches!(v, RegState::Scalar(x) if x.const_value() == Some(0)) {
                } else {
                    let n = match kind {
                        ArgKind::PtrToLong => 8,
                        ArgKind::PtrToInt => 4,
                        _ => 0,
                    };
                    if n > 0 {
                        check_mem_arg(cx, s, r, Scalar::constant(n), true, false)?;
                    } else {
                        expect_kind(cx, r, &v, |p| matches!(p.kind, PtrKind::Stack { .. }), "fp")?;
                    }
                }
            }
            ArgKind::PtrToConstStr => {
                expect_kind(cx, r, &v, |p| matches!(p.kind, PtrKind::MapValue { .. }), "map_value")?;
            }
            ArgKind::PtrToFunc => {
                let p = expect_kind(cx, r, &v, |p| matches!(p.kind, PtrKind::Func { .. }), "func")?;
                if let PtrKind::Func { pc } = p.kind {
                    callback = Some(pc as usize);
                }
                if !crate::cfg::CALLBACK_HELPERS.contains(&id) {
                    cx.error(
                        DiagCode::Unsupported,
                        format!("callback functions are not supported yet ({})", helper_label(id)),
                    );
                    return None;
                }
            }
            ArgKind::PtrToBtfId | ArgKind::PtrToPercpuBtfId | ArgKind::PtrToKptr => {
                if !matches!(v, RegState::Ptr(_)) {
                    cx.error(DiagCode::HelperArgument, format!("R{} type=scalar expected=ptr_", r.0));
                    return None;
                }
            }
            ArgKind::PtrToSpinLock | ArgKind::PtrToTimer | ArgKind::PtrToDynptr => {
                expect_kind(
                    cx,
                    r,
                    &v,
                    |p| matches!(p.kind, PtrKind::MapValue { .. } | PtrKind::Stack { .. }),
                    "map_value",
                )?;
            }
        }
        i += 1;
    }
    // References: release.
    if let Some(rel) = released {
        if rel == 0 || !s.refs.contains_key(&rel) {
            cx.error(DiagCode::Reference, "R1 must be referenced when passed to release function");
            return None;
        }
        s.refs.remove(&rel);
        s.for_each_reg_mut(|r| {
            // The kernel's mark_reg_invalid: a released pointer is an unknown scalar.
            if matches!(r, RegState::Ptr(p) if p.ref_obj_id == rel) {
                *r = RegState::unknown_scalar();
            }
        });
    }
    if proto.changes_pkt_data {
        s.for_each_reg_mut(|r| {
            if matches!(r, RegState::Ptr(p) if matches!(p.kind, PtrKind::Pkt | PtrKind::PktMeta | PtrKind::PktEnd)) {
                *r = RegState::unknown_scalar();
            }
        });
        s.pkt_ranges.clear();
    }
    let pending = callback.map(|func_pc| pending_callback(s, id, func_pc, map));
    // Caller-saved registers are clobbered.
    for r in 1..=5 {
        s.set_reg(Reg(r), RegState::NotInit);
    }
    s.pending_callback = pending;
    let fresh = cx.fresh_id(s);
    let nullable = |kind: PtrKind, s: &mut AbsState| {
        retire_id(s, fresh);
        let mut p = Ptr::new(kind);
        p.maybe_null = true;
        p.id = fresh;
        if proto.acquire {
            p.ref_obj_id = fresh;
            s.refs.insert(fresh, cx.pc);
        }
        RegState::Ptr(p)
    };
    let r0 = match proto.ret {
        RetKind::Integer => match proto.ret_range {
            Some((lo, hi)) => RegState::Scalar(Scalar::from_srange(lo, hi)),
            None => RegState::unknown_scalar(),
        },
        RetKind::Void => RegState::NotInit,
        RetKind::MapValueOrNull => {
            let Some(m) = map else {
                cx.error(DiagCode::HelperArgument, "map lookup without a map");
                return None;
            };
            let def = &cx.env.maps[m as usize];
            if matches!(def.map_type, map_types::BPF_MAP_TYPE_ARRAY_OF_MAPS | map_types::BPF_MAP_TYPE_HASH_OF_MAPS) {
                match cx.env.inner_maps.get(m as usize).copied().flatten() {
                    Some(inner) => nullable(PtrKind::MapPtr { map: inner }, s),
                    // No inner map definition: a value that may not be used as a map.
                    None => RegState::Unknown,
                }
            } else if matches!(def.map_type, map_types::BPF_MAP_TYPE_SOCKMAP | map_types::BPF_MAP_TYPE_SOCKHASH) {
                nullable(PtrKind::Socket, s)
            } else if matches!(def.map_type, map_types::BPF_MAP_TYPE_ARRAY | map_types::BPF_MAP_TYPE_PERCPU_ARRAY)
                && const_key.is_some_and(|k| k < def.max_entries as u64)
            {
                RegState::ptr(PtrKind::MapValue { map: m })
            } else {
                nullable(PtrKind::MapValue { map: m }, s)
            }
        }
        RetKind::MapValue => match map {
            Some(m) => RegState::ptr(PtrKind::MapValue { map: m }),
            None => RegState::Unknown,
        },
        RetKind::SocketOrNull => nullable(PtrKind::Socket, s),
        RetKind::TcpSockOrNull => nullable(PtrKind::TcpSock, s),
        RetKind::SockCommonOrNull => nullable(PtrKind::SockCommon, s),
        RetKind::AllocMemOrNull | RetKind::MemOrNull => {
            let size = alloc_size.unwrap_or(0);
            nullable(PtrKind::Mem { size, rdonly: false }, s)
        }
        RetKind::PtrToMemOrBtfIdOrNull | RetKind::BtfIdOrNull => nullable(PtrKind::BtfId, s),
        RetKind::PtrToBtfId => RegState::ptr(PtrKind::BtfId),
    };
    s.set_reg(Reg::R0, r0);
    Some(())
}

/// The callback's arguments for a helper that takes one (see `AbsState::pending_callback`).
fn pending_callback(s: &AbsState, id: i32, func_pc: usize, map: Option<u32>) -> Box<crate::state::PendingCallback> {
    let reg = |r: u8| *s.reg(Reg(r));
    let saved: [RegState; 6] = std::array::from_fn(|i| reg(i as u8));
    let args: [RegState; 5] = match id {
        // bpf_loop(nr_loops, callback_fn, callback_ctx, flags): callback(u32 index, void *ctx).
        181 => {
            const BPF_MAX_LOOPS: u64 = 1 << 23;
            let n = s.scalar(Reg::R1).map(|x| x.umax.min(BPF_MAX_LOOPS)).unwrap_or(BPF_MAX_LOOPS);
            [RegState::Scalar(Scalar::from_urange(0, n.saturating_sub(1))), reg(3), RegState::NotInit, RegState::NotInit, RegState::NotInit]
        }
        // bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags): callback(map, key, value, ctx).
        164 => {
            let m = map.unwrap_or(0);
            [
                reg(1),
                RegState::ptr(PtrKind::MapKey { map: m }),
                RegState::ptr(PtrKind::MapValue { map: m }),
                reg(3),
                RegState::NotInit,
            ]
        }
        // bpf_find_vma(task, addr, callback_fn, callback_ctx, flags): callback(task, vma, ctx).
        _ => [RegState::ptr(PtrKind::BtfId), RegState::ptr(PtrKind::BtfId), reg(4), RegState::NotInit, RegState::NotInit],
    };
    Box::new(crate::state::PendingCallback { func_pc, args, saved, ret: (0, 1) })
}

/// The state on the edge into a callback: the caller's registers as before the helper
/// call, and a new frame with the callback's arguments.
pub fn enter_callback(s: &AbsState) -> Option<AbsState> {
    let mut out = s.clone();
    let p = out.pending_callback.take()?;
    for (i, r) in p.saved.iter().enumerate() {
        out.set_reg(Reg(i as u8), *r);
    }
    let depth = out.frames.len() as u8;
    let mut f = Frame::new(depth);
    f.regs[1..=5].copy_from_slice(&p.args);
    f.callback_ret = Some(p.ret);
    out.frames.push(f);
    Some(out)
}

/// The state on the edge from a callback's exit back to its helper call: the callback's
/// frame popped, the caller's registers untouched.
pub fn leave_callback(s: &AbsState) -> Option<AbsState> {
    if s.frames.len() < 2 {
        return None;
    }
    let mut out = s.clone();
    out.frames.pop();
    out.pending_callback = None;
    Some(out)
}

/// A typed kernel pointer the kernel accepts for `ARG_PTR_TO_BTF_ID_SOCK_COMMON`: a
/// struct that starts with `struct sock_common` (`sock`, `tcp_sock`, ...), not untrusted.
fn is_btf_sock_common(p: &crate::state::Ptr) -> bool {
    use crate::abi::btf_access;
    p.kind == PtrKind::BtfId
        && p.btf_id != 0
        && p.trust != crate::state::reg::BtfTrust::Untrusted
        && p.off == 0
        && p.has_fixed_off()
        && btf_access::kernel().is_some_and(|(btf, ix)| {
            ix.struct_id("sock_common").is_some_and(|sc| btf_access::struct_starts_with(btf, p.btf_id, sc))
        })
}

/// `exit`: in a subprogram it returns to the caller (the Return edge pops the
/// frame); in the main program it ends the path, after checking R0 and references.
pub(crate) fn exit(cx: &mut Ctx<'_, '_>, s: &mut AbsState) -> Option<()> {
    // `check_resource_leak`: the main program (or a callback, whose frame the kernel also
    // counts as its own) must not end inside a locked region; static subprograms may
    // return with the lock held, their caller unlocks.
    if s.depth() == 0 && !s.lock.is_free() {
        cx.error(DiagCode::Lock, "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region");
        return None;
    }
    // struct_ops and LSM callbacks returning void: the kernel never reads R0
    // (`check_return_code`), but still checks references.
    let void_exit = s.depth() == 0
        && s.frame().callback_ret.is_none()
        && !cx.env.is_global_entry
        && crate::abi::btf_ctx::current().is_some_and(|c| c.void_ret);
    if void_exit {
        if let Some((id, pc)) = s.refs.iter().next() {
            cx.error(DiagCode::Reference, format!("Unreleased reference id={id} alloc_insn={pc}"));
            cx.error(DiagCode::Reference, "BPF_EXIT instruction in main prog would lead to reference leak");
            return None;
        }
        return Some(());
    }
    let r0 = cx.read(s, Reg::R0)?;
    if let Some((lo, hi)) = s.frame().callback_ret {
        match r0 {
            RegState::Scalar(x) if x.smin >= lo && x.smax <= hi => {}
            RegState::Scalar(x) => {
                let msg = crate::abi::ret::return_code_error(x.smin, x.smax, (lo, hi)).replace("program exit", "callback return");
                cx.error(DiagCode::ReturnValue, msg);
                return None;
            }
            _ => {
                cx.error(DiagCode::ReturnValue, "At callback return the register R0 is not a known value");
                return None;
            }
        }
    }
    if s.depth() > 0 {
        if let RegState::Ptr(p) = r0 {
            if let PtrKind::Stack { frame } = p.kind {
                if frame as usize == s.depth() {
                    cx.error(DiagCode::ReturnValue, "cannot return stack pointer to the caller");
                    return None;
                }
            }
        }
        return Some(());
    }
    if cx.env.is_global_entry {
        if let Some((id, pc)) = s.refs.iter().next() {
            cx.error(DiagCode::Reference, format!("Unreleased reference id={id} alloc_insn={pc}"));
            return None;
        }
        if let RegState::Ptr(p) = r0 {
            cx.error(
                DiagCode::ReturnValue,
                format!("At subprogram exit the register R0 is not a scalar value ({})", p.type_name()),
            );
            return None;
        }
        return Some(());
    }
    if let Some((id, pc)) = s.refs.iter().next() {
        cx.error(DiagCode::Reference, format!("Unreleased reference id={id} alloc_insn={pc}"));
        cx.error(DiagCode::Reference, "BPF_EXIT instruction in main prog would lead to reference leak");
        return None;
    }
    if let Some((lo, hi)) = crate::abi::ret::return_range(cx.env.prog_type, cx.env.attach) {
        match r0 {
            RegState::Scalar(x) => {
                if x.smin < lo || x.smax > hi {
                    cx.error(DiagCode::ReturnValue, crate::abi::ret::return_code_error(x.smin, x.smax, (lo, hi)));
                    return None;
                }
            }
            RegState::Ptr(p) => {
                cx.error(DiagCode::ReturnValue, crate::abi::ret::return_not_scalar_error(&p.type_name()));
                return None;
            }
            _ => {
                cx.error(DiagCode::ReturnValue, crate::abi::ret::return_not_scalar_error("scalar"));
                return None;
            }
        }
    }
    // With no range to respect, a privileged program may return anything, pointers
    // included (the kernel only refuses `R0 leaks addr` to unprivileged loaders).
    Some(())
}

/// The state on a call edge: a new frame for the callee with R1-R5 from the caller.
pub fn enter_call(s: &AbsState) -> AbsState {
    let mut out = s.clone();
    let depth = out.frames.len() as u8;
    let mut f = Frame::new(depth);
    for r in 1..=5 {
        f.regs[r] = s.frame().regs[r];
    }
    out.frames.push(f);
    out
}

/// The state on a return edge: the callee frame popped, R0 from the callee,
/// R1-R5 clobbered in the caller.
pub fn leave_call(s: &AbsState) -> Option<AbsState> {
    if s.frames.len() < 2 {
        return None;
    }
    let mut out = s.clone();
    let callee = out.frames.pop()?;
    let r0 = callee.regs[0];
    out.set_reg(Reg::R0, r0);
    for r in 1..=5 {
        out.set_reg(Reg(r), RegState::NotInit);
    }
    Some(out)
}
