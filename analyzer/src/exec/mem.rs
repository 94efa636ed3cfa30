//! Memory transfer and checks: LDX, ST, STX, atomics, and the legacy LD_ABS/LD_IND.
//!
//! `access` is the kernel's `check_mem_access`: by the kind of the base pointer it
//! checks the access `[base + off, base + off + size)` against the object's bounds
//! for every offset the pointer may have (stack frame, map value size, proven packet
//! range, ctx layout of the program type, helper memory size), and says what a load
//! from there yields.

use super::Ctx;
use crate::abi::btf_access::{self, Walk};
use crate::abi::btf_ctx::{self, ArgType, WriteRule};
use crate::abi::ctx::{ctx_access, CtxFieldKind};
use crate::diag::DiagCode;
use crate::insn::{AtomicOp, Reg, Size};
use crate::prog_type::ProgType;
use crate::state::stack::MAX_BPF_STACK;
use crate::state::reg::BtfTrust;
use crate::state::{AbsState, Ptr, PtrKind, RegState, StackByte};
use lattices::{BitWidth, Scalar};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum AccessKind {
    Read,
    Write,
}

/// What an allowed access touches.
pub(crate) enum Target {
    /// Stack of frame `frame`, at a fixed offset.
    Stack { frame: usize, off: i64 },
    /// Stack at a variable offset within `[lo, hi)`.
    StackVar { frame: usize, lo: i64, hi: i64 },
    /// A ctx field: loads give what the field holds.
    Ctx(CtxFieldKind),
    /// Map value, with the constant offset when known (for `.rodata` constants).
    MapValue { map: u32, const_off: Option<i64> },
    /// A ctx argument of a BTF-attached program, typed from the attach target.
    CtxArg(ArgType),
    /// A field of a typed kernel object: what `btf_struct_walk` found there, and the
    /// trust of the pointer it was read through.
    BtfField { walk: Walk, trust: BtfTrust },
    /// Any other memory whose loads are plain scalars.
    Plain,
}

fn mem_name(p: &Ptr) -> String {
    p.type_name()
}

/// Checks an access and returns its target; errors are reported on `cx`.
pub(crate) fn access(
    cx: &mut Ctx<'_, '_>,
    s: &AbsState,
    regno: Reg,
    off: i64,
    size: u32,
    kind: AccessKind,
) -> Option<Target> {
    let base = cx.read(s, regno)?;
    let p = match base {
        RegState::Ptr(p) => p,
        RegState::Scalar(_) => {
            cx.error(DiagCode::InvalidMemAccess, format!("R{} invalid mem access 'scalar'", regno.0));
            return None;
        }
        RegState::Unknown | RegState::NotInit => {
            cx.error(DiagCode::InvalidMemAccess, format!("R{} invalid mem access 'scalar'", regno.0));
            return None;
        }
    };
    if p.maybe_null {
        cx.error(DiagCode::NullDereference, format!("R{} invalid mem access '{}'", regno.0, mem_name(&p)));
        return None;
    }
    let size_i = size as i64;
    match p.kind {
        PtrKind::Stack { frame } => stack_access(cx, s, regno, &p, frame as usize, off, size, kind),
        PtrKind::Ctx => {
            if p.off != 0 {
                cx.error(
                    DiagCode::CtxAccess,
                    format!("dereference of modified ctx ptr R{} off={} disallowed", regno.0, p.off),
                );
                return None;
            }
            if !p.has_fixed_off() {
                cx.error(DiagCode::CtxAccess, format!("variable ctx access var_off={} disallowed", p.var.var_off));
                return None;
            }
            match ctx_access(cx.env.prog_type, cx.env.attach, off, size, kind == AccessKind::Write) {
                // Arguments of BTF-typed programs: without the attach target's BTF we cannot
                // tell pointers from integers; a whole-argument load is treated as a BTF
                // pointer (loads through it are exception-handled probe reads in the kernel).
                Ok(a) if a.kind == CtxFieldKind::Scalar
                    && size == 8
                    && matches!(cx.env.prog_type, ProgType::Tracing | ProgType::StructOps | ProgType::Lsm | ProgType::Ext) =>
                {
                    // With the attach target's kernel BTF, the argument's own type.
                    match btf_ctx::current().and_then(|c| c.arg_at(off)) {
                        Some(t) if t != ArgType::Untyped => Some(Target::CtxArg(t)),
                        _ => Some(Target::Ctx(CtxFieldKind::BtfId)),
                    }
                }
                Ok(a) => Some(Target::Ctx(a.kind)),
                Err(msg) => {
                    cx.error(DiagCode::CtxAccess, msg);
                    None
                }
            }
        }
        PtrKind::MapValue { map } | PtrKind::MapKey { map } => {
            let def = cx.env.maps.get(map as usize)?;
            let mem_size = if matches!(p.kind, PtrKind::MapKey { .. }) { def.key_size } else { def.value_size } as i64;
            if kind == AccessKind::Write && def.is_prog_readonly() {
                cx.error(
                    DiagCode::InvalidStore,
                    format!("write into map forbidden, value_size={} off={} size={}", mem_size, p.off as i64 + off, size),
                );
                return None;
            }
            let what = format!("map value, value_size={mem_size}");
            region_access(cx, regno, &p, off, size_i, mem_size, &what, DiagCode::MapValueAccess)?;
            let const_off = p.var.const_value().map(|v| v as i64 + p.off as i64 + off);
            Some(Target::MapValue { map, const_off })
        }
        PtrKind::Mem { size: msize, rdonly } => {
            if kind == AccessKind::Write && rdonly {
                cx.error(DiagCode::InvalidStore, format!("R{} cannot write into rdonly_mem", regno.0));
                return None;
            }
            let what = format!("memory, mem_size={msize}");
            region_access(cx, regno, &p, off, size_i, msize as i64, &what, DiagCode::MemAccess)?;
            Some(Target::Plain)
        }
        PtrKind::Pkt | PtrKind::PktMeta => {
            if kind == AccessKind::Write && !may_write_pkt(cx.env.prog_type) {
                cx.error(DiagCode::PacketAccess, "cannot write into packet");
                return None;
            }
            if p.var.smin < 0 {
                cx.error(
                    DiagCode::PacketAccess,
                    format!(
                        "R{} min value is negative, either use unsigned index or do a if (index >=0) check.",
                        regno.0
                    ),
                );
                return None;
            }
            let range = if p.id == super::STALE_ID { 0 } else { s.pkt_range(super::range_key(&p)) } as i64;
            let o = p.off as i64 + off;
            if o < 0 || o + size_i > range {
                cx.error(
                    DiagCode::PacketAccess,
                    format!(
                        "invalid access to packet, off={} size={}, R{}(id={},off={},r={})",
                        o,
                        size,
                        regno.0,
                        if p.id == super::STALE_ID { 0 } else { p.id },
                        // The kernel prints the access offset here too.
                        o,
                        range
                    ),
                );
                cx.error(
                    DiagCode::PacketAccess,
                    format!("R{} offset is outside of the packet", regno.0),
                );
                return None;
            }
            Some(Target::Plain)
        }
        PtrKind::Socket | PtrKind::SockCommon | PtrKind::TcpSock | PtrKind::FlowKeys => {
            let limit: i64 = match p.kind {
                PtrKind::TcpSock => 112,
                PtrKind::FlowKeys => 56,
                _ => 80,
            };
            if kind == AccessKind::Write && p.kind != PtrKind::FlowKeys {
                cx.error(DiagCode::InvalidStore, format!("R{} cannot write into {}", regno.0, mem_name(&p)));
                return None;
            }
            let o = p.off as i64 + off;
            if !p.has_fixed_off() || o < 0 || o + size_i > limit {
                cx.error(
                    DiagCode::InvalidMemAccess,
                    format!("R{} invalid {} access off={} size={}", regno.0, "sock", o, size),
                );
                return None;
            }
            Some(Target::Plain)
        }
        PtrKind::BtfId if p.btf_id != 0 && btf_access::kernel().is_some() => btf_ptr_access(cx, regno, &p, off, size, kind),
        PtrKind::BtfId => {
            if kind == AccessKind::Write {
                cx.error(DiagCode::InvalidStore, format!("R{} only read is supported", regno.0));
                return None;
            }
            // Loads through BTF pointers are probe reads: faults are caught by the kernel.
            Some(Target::Plain)
        }
        PtrKind::MapPtr { .. } if kind == AccessKind::Read && p.has_fixed_off() && p.off as i64 + off >= 0 => {
            // Reading `struct bpf_map` fields through BTF (`check_ptr_to_map_access`):
            // allowed, read-only; the values are unknown to us.
            Some(Target::Plain)
        }
        PtrKind::MapPtr { .. } if kind == AccessKind::Write => {
            cx.error(DiagCode::InvalidStore, "only read from bpf_map is supported");
            None
        }
        PtrKind::MapPtr { .. } | PtrKind::PktEnd | PtrKind::Func { .. } => {
            cx.error(DiagCode::InvalidMemAccess, format!("R{} invalid mem access '{}'", regno.0, mem_name(&p)));
            None
        }
    }
}

/// The kernel's `check_ptr_to_btf_access` for a typed kernel pointer: constant,
/// non-negative offsets; writes only where the program's struct-access rule allows
/// them; loads walk the struct (`btf_struct_walk`).
fn btf_ptr_access(cx: &mut Ctx<'_, '_>, regno: Reg, p: &Ptr, off: i64, size: u32, kind: AccessKind) -> Option<Target> {
    let (btf, ix) = btf_access::kernel()?;
    let tname = format!("ptr_{}", btf_access::kernel_type_name(p.btf_id));
    let Some(v) = p.var.const_value() else {
        cx.error(
            DiagCode::InvalidMemAccess,
            format!("R{} is {} invalid variable offset: off={}, var_off={}", regno.0, tname, p.off as i64 + off, p.var.var_off),
        );
        return None;
    };
    let o = (v as i64).wrapping_add(p.off as i64).wrapping_add(off);
    if o < 0 {
        cx.error(DiagCode::InvalidMemAccess, format!("R{} is {} invalid negative access: off={}", regno.0, tname, o));
        return None;
    }
    if kind == AccessKind::Write {
        let rule = btf_ctx::current().map(|c| c.write_rule).unwrap_or(WriteRule::ReadOnly);
        let res = match rule {
            WriteRule::TcpCongestionOps => btf_access::tcp_ca_write(btf, ix, p.btf_id, o, size),
            WriteRule::ReadOnly => Err(format!("R{} only read is supported", regno.0)),
        };
        return match res {
            Ok(()) => Some(Target::Plain),
            Err(msg) => {
                cx.error(DiagCode::InvalidStore, msg);
                None
            }
        };
    }
    let Ok(o32) = u32::try_from(o) else {
        cx.error(DiagCode::InvalidMemAccess, format!("R{} is {} invalid access: off={}", regno.0, tname, o));
        return None;
    };
    match btf_access::struct_walk(btf, p.btf_id, o32, size) {
        Ok(walk) => Some(Target::BtfField { walk, trust: p.trust }),
        Err(msg) => {
            cx.error(DiagCode::InvalidMemAccess, msg);
            None
        }
    }
}

/// Program types that may write packet data directly (`may_access_direct_pkt_data` for writes).
fn may_write_pkt(t: ProgType) -> bool {
    matches!(
        t,
        ProgType::SchedCls
            | ProgType::SchedAct
            | ProgType::Xdp
            | ProgType::LwtXmit
            | ProgType::SkSkb
            | ProgType::SkMsg
            | ProgType::LwtSeg6local
    )
}

/// The kernel's `check_mem_region_access` for a region of `mem_size` bytes.
#[allow(clippy::too_many_arguments)]
fn region_access(
    cx: &mut Ctx<'_, '_>,
    regno: Reg,
    p: &Ptr,
    off: i64,
    size: i64,
    mem_size: i64,
    what: &str,
    code: DiagCode,
) -> Option<()> {
    let off = off + p.off as i64;
    let smin = p.var.smin;
    if smin < 0 && (smin == i64::MIN || off.checked_add(smin).is_none_or(|v| v < 0)) {
        cx.error(
            code,
            format!("R{} min value is negative, either use unsigned index or do a if (index >=0) check.", regno.0),
        );
        return None;
    }
    let lo = off.saturating_add(smin);
    if lo < 0 || lo + size > mem_size {
        cx.error(code, format!("invalid access to {what} off={lo} size={size}"));
        cx.error(code, format!("R{} min value is outside of the allowed memory range", regno.0));
        return None;
    }
    const BPF_MAX_VAR_OFF: u64 = 1 << 29;
    if p.var.umax >= BPF_MAX_VAR_OFF {
        cx.error(
            code,
            format!("R{} unbounded memory access, make sure to bounds check any such access", regno.0),
        );
        return None;
    }
    let hi = off + p.var.umax as i64;
    if hi + size > mem_size {
        cx.error(code, format!("invalid access to {what} off={hi} size={size}"));
        cx.error(code, format!("R{} max value is outside of the allowed memory range", regno.0));
        return None;
    }
    Some(())
}

#[allow(clippy::too_many_arguments)]
fn stack_access(
    cx: &mut Ctx<'_, '_>,
    s: &AbsState,
    regno: Reg,
    p: &Ptr,
    frame: usize,
    off: i64,
    size: u32,
    kind: AccessKind,
) -> Option<Target> {
    if frame >= s.frames.len() {
        cx.error(DiagCode::StackAccess, format!("R{} invalid stack frame", regno.0));
        return None;
    }
    let dir = if kind == AccessKind::Write { " write to" } else { " read from" };
    let size_i = size as i64;
    let base = p.off as i64 + off;
    if let Some(v) = p.var.const_value() {
        let o = base + v as i64;
        if o < -MAX_BPF_STACK || o + size_i > 0 || o >= 0 {
            cx.error(DiagCode::StackAccess, format!("invalid{dir} stack R{} off={} size={}", regno.0, o, size));
            return None;
        }
        if !cx.helper_access && o.rem_euclid(size_i) != 0 {
            cx.error(
                DiagCode::StackAccess,
                format!("misaligned stack access off {}+{}+{} size {}", p.var.var_off.value as i64, p.off, off, size),
            );
            return None;
        }
        return Some(Target::Stack { frame, off: o });
    }
    if p.var.smax >= 1 << 29 || p.var.smin <= -(1 << 29) {
        cx.error(DiagCode::StackAccess, format!("invalid unbounded variable-offset{dir} stack R{}", regno.0));
        return None;
    }
    let lo = base.saturating_add(p.var.smin);
    let hi = base.saturating_add(p.var.smax).saturating_add(size_i);
    if p.var.smin < -MAX_BPF_STACK || p.var.smax > MAX_BPF_STACK || lo < -MAX_BPF_STACK || hi > 0 {
        cx.error(
            DiagCode::StackAccess,
            format!(
                "invalid variable-offset{dir} stack R{} var_off={} off={} size={}",
                regno.0, p.var.var_off, base, size
            ),
        );
        return None;
    }
    Some(Target::StackVar { frame, lo, hi })
}

/// The value a load of `size` bytes from `t` gives, or None after an error.
fn load_from(cx: &mut Ctx<'_, '_>, s: &AbsState, t: &Target, size: u32) -> Option<RegState> {
    let bytes_unknown = RegState::Scalar(Scalar::unknown().truncate(size));
    match *t {
        Target::Stack { frame, off } => match s.frames[frame].stack.load(off, size) {
            Ok(v) => {
                if let crate::state::StackSlot::Spill(RegState::Ptr(_)) = s.frames[frame].stack.slot(off.div_euclid(8) as i32) {
                    if size != 8 {
                        cx.error(DiagCode::StackAccess, "invalid size of register fill");
                        return None;
                    }
                }
                Some(v)
            }
            Err(_) if cx.env.allow_uninit_stack => Some(bytes_unknown),
            Err(bad) => {
                cx.error(
                    DiagCode::UninitStack,
                    format!("invalid read from stack off {}+{} size {}", off, bad - off, size),
                );
                None
            }
        },
        Target::StackVar { frame, lo, hi } => {
            if cx.env.allow_uninit_stack {
                return Some(bytes_unknown);
            }
            if let Some(bad) = s.frames[frame].stack.first_invalid(lo, hi - lo) {
                cx.error(
                    DiagCode::UninitStack,
                    format!("invalid variable-offset read from stack off {} size {}", bad, size),
                );
                return None;
            }
            Some(bytes_unknown)
        }
        Target::Ctx(kind) => Some(match kind {
            CtxFieldKind::Scalar => bytes_unknown,
            CtxFieldKind::PktData => RegState::ptr(PtrKind::Pkt),
            CtxFieldKind::PktEnd => RegState::ptr(PtrKind::PktEnd),
            CtxFieldKind::PktMeta => RegState::ptr(PtrKind::PktMeta),
            CtxFieldKind::SockCommonOrNull => {
                let mut p = Ptr::new(PtrKind::SockCommon);
                p.maybe_null = true;
                p.id = cx.fresh_id(s);
                RegState::Ptr(p)
            }
            CtxFieldKind::SocketOrNull => {
                let mut p = Ptr::new(PtrKind::Socket);
                p.maybe_null = true;
                p.id = cx.fresh_id(s);
                RegState::Ptr(p)
            }
            CtxFieldKind::FlowKeys => RegState::ptr(PtrKind::FlowKeys),
            CtxFieldKind::Socket => RegState::ptr(PtrKind::Socket),
            // The writable raw tracepoint buffer: read like a BTF pointer (probe reads).
            CtxFieldKind::TpBuffer => RegState::ptr(PtrKind::BtfId),
            CtxFieldKind::BtfId => RegState::ptr(PtrKind::BtfId),
        }),
        Target::MapValue { map, const_off: Some(o) } => {
            let def = &cx.env.maps[map as usize];
            if def.is_readonly_data() {
                if let Some(init) = &def.initial_value {
                    if o >= 0 && (o as usize) + size as usize <= init.len() {
                        let mut v: u64 = 0;
                        for (i, b) in init[o as usize..o as usize + size as usize].iter().enumerate() {
                            v |= (*b as u64) << (8 * i);
                        }
                        return Some(RegState::constant(v));
                    }
                }
            }
            Some(bytes_unknown)
        }
        Target::CtxArg(ArgType::Ptr { btf_id, maybe_null, trusted }) => {
            let trust = if trusted { BtfTrust::Trusted } else { BtfTrust::Plain };
            Some(if maybe_null {
                RegState::btf_ptr_or_null(btf_id, trust, cx.fresh_id(s))
            } else {
                RegState::btf_ptr_with(btf_id, trust)
            })
        }
        Target::CtxArg(ArgType::Untyped) => Some(RegState::ptr(PtrKind::BtfId)),
        Target::CtxArg(ArgType::Scalar) => Some(bytes_unknown),
        // A pointer walked from an object: non-NULL (loads are exception-handled probe
        // reads), no longer trusted.
        Target::BtfField { walk: Walk::Ptr { btf_id }, trust } => {
            let t = if trust == BtfTrust::Untrusted { BtfTrust::Untrusted } else { BtfTrust::Plain };
            Some(if size == 8 { RegState::btf_ptr_with(btf_id, t) } else { bytes_unknown })
        }
        Target::BtfField { walk: Walk::Scalar, .. } => Some(bytes_unknown),
        Target::MapValue { .. } | Target::Plain => Some(bytes_unknown),
    }
}

fn size_bytes(size: Size) -> u32 {
    size.bytes()
}

pub(crate) fn ldx(
    cx: &mut Ctx<'_, '_>,
    s: &mut AbsState,
    size: Size,
    sign_ext: bool,
    dst: Reg,
    src: Reg,
    off: i16,
) -> Option<()> {
    let n = size_bytes(size);
    let t = access(cx, s, src, off as i64, n, AccessKind::Read)?;
    let mut v = load_from(cx, s, &t, n)?;
    // Ctx fields whose load gives a pointer must be loaded whole.
    if sign_ext {
        v = match v {
            RegState::Scalar(x) => RegState::Scalar(x.truncate(n).sext((n * 8) as u8, BitWidth::W64)),
            _ => RegState::unknown_scalar(),
        };
    }
    cx.check_writable(dst)?;
    s.set_reg(dst, v);
    Some(())
}

fn store_value(cx: &mut Ctx<'_, '_>, s: &mut AbsState, t: &Target, size: u32, v: &RegState) {
    match *t {
        Target::Stack { frame, off } => s.frames[frame].stack.store(off, size, v),
        Target::StackVar { frame, lo, hi } => {
            // A write somewhere in [lo, hi): every byte there may now hold data.
            let _ = cx;
            s.frames[frame].stack.clobber_range(lo, hi);
            // Bytes written for sure are only known when the range is one access wide.
            if hi - lo == size as i64 {
                s.frames[frame].stack.fill_bytes(lo, size as i64, StackByte::Misc);
            }
        }
        _ => {}
    }
}

pub(crate) fn st(cx: &mut Ctx<'_, '_>, s: &mut AbsState, size: Size, dst: Reg, off: i16, imm: i32) -> Option<()> {
    if let RegState::Ptr(p) = s.reg(dst) {
        if p.kind == PtrKind::Ctx {
            cx.error(DiagCode::InvalidStore, format!("BPF_ST stores into R{} ctx is not allowed", dst.0));
            return None;
        }
    }
    let n = size_bytes(size);
    let t = access(cx, s, dst, off as i64, n, AccessKind::Write)?;
    store_value(cx, s, &t, n, &RegState::constant(imm as i64 as u64));
    Some(())
}

pub(crate) fn stx(cx: &mut Ctx<'_, '_>, s: &mut AbsState, size: Size, dst: Reg, src: Reg, off: i16) -> Option<()> {
    let v = cx.read(s, src)?;
    let n = size_bytes(size);
    let t = access(cx, s, dst, off as i64, n, AccessKind::Write)?;
    if matches!(t, Target::Stack { .. } | Target::StackVar { .. }) && matches!(v, RegState::Ptr(_)) && n != 8 {
        cx.error(DiagCode::StackAccess, "invalid size of register spill");
        return None;
    }
    // A narrow store of a pointer keeps only meaningless bytes.
    let stored = match v {
        RegState::Ptr(_) | RegState::Unknown if n != 8 => RegState::unknown_scalar(),
        other => other,
    };
    store_value(cx, s, &t, n, &stored);
    Some(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn atomic(
    cx: &mut Ctx<'_, '_>,
    s: &mut AbsState,
    size: Size,
    op: AtomicOp,
    fetch: bool,
    dst: Reg,
    src: Reg,
    off: i16,
) -> Option<()> {
    let _ = cx.read(s, src)?;
    if op == AtomicOp::CmpXchg {
        cx.read(s, Reg::R0)?;
    }
    if let RegState::Ptr(p) = s.reg(dst) {
        if !matches!(p.kind, PtrKind::Stack { .. } | PtrKind::MapValue { .. } | PtrKind::Mem { .. }) {
            let name = match p.kind {
                PtrKind::Ctx => "ctx",
                PtrKind::Pkt => "pkt",
                PtrKind::FlowKeys => "flow_keys",
                _ => "sock",
            };
            cx.error(DiagCode::InvalidStore, format!("BPF_ATOMIC stores into R{} {} is not allowed", dst.0, name));
            return None;
        }
    }
    let n = size_bytes(size);
    let t = access(cx, s, dst, off as i64, n, AccessKind::Read)?;
    load_from(cx, s, &t, n)?;
    access(cx, s, dst, off as i64, n, AccessKind::Write)?;
    // The memory now holds some value of that size.
    let unknown = RegState::Scalar(Scalar::unknown().truncate(n));
    if let Target::Stack { frame, off } = t {
        s.frames[frame].stack.fill_bytes(off, n as i64, StackByte::Misc);
    } else {
        store_value(cx, s, &t, n, &unknown);
    }
    let fetched = RegState::Scalar(Scalar::unknown().truncate(n));
    match op {
        AtomicOp::CmpXchg => s.set_reg(Reg::R0, fetched),
        AtomicOp::Xchg => s.set_reg(src, fetched),
        _ if fetch => s.set_reg(src, fetched),
        _ => {}
    }
    Some(())
}

/// Legacy packet loads: R6 must hold the ctx (an `__sk_buff`), R0 gets the bytes,
/// R1-R5 are clobbered as by a call.
pub(crate) fn ld_abs(cx: &mut Ctx<'_, '_>, s: &mut AbsState, size: Size, src: Option<Reg>, imm: i32) -> Option<()> {
    let _ = imm;
    if !matches!(
        cx.env.prog_type,
        ProgType::SocketFilter | ProgType::SchedCls | ProgType::SchedAct | ProgType::CgroupSkb
    ) {
        cx.error(DiagCode::Unsupported, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
        return None;
    }
    if size == Size::DW {
        cx.error(DiagCode::Unsupported, "invalid BPF_LD_[ABS|IND] instruction");
        return None;
    }
    if let Some(r) = src {
        cx.read(s, r)?;
    }
    match s.reg(Reg::R6) {
        RegState::Ptr(p) if p.kind == PtrKind::Ctx && p.off == 0 => {}
        _ => {
            cx.error(DiagCode::Unsupported, "at the time of BPF_LD_ABS|IND R6 != pointer to skb");
            return None;
        }
    }
    for r in 1..=5 {
        s.set_reg(Reg(r), RegState::NotInit);
    }
    s.set_reg(Reg::R0, RegState::Scalar(Scalar::unknown().truncate(size.bytes())));
    Some(())
}

#[cfg(test)]
mod tests {
    use super::super::{step, Env};
    use crate::abi::btf_ctx::{ArgType, AttachScope, BtfCtx, WriteRule};
    use crate::insn::{Insn, Reg, Size};
    use crate::prog_type::{AttachType, ProgType};
    use crate::state::{AbsState, RegState};

    fn env(insns: &[Insn]) -> Env<'_> {
        Env { attach: Some(AttachType::TraceIter), ..Env::privileged(ProgType::Tracing, &[], insns) }
    }

    #[test]
    fn typed_ctx_arg_or_null_must_be_checked_and_writes_are_refused() {
        let Some((_, ix)) = crate::abi::btf_access::kernel() else {
            eprintln!("skipped: no kernel BTF");
            return;
        };
        let task = ix.struct_id("task_struct").expect("task_struct");
        let (pid, _) = crate::abi::btf_access::member_offset(crate::elf::vmlinux::kernel_btf().expect("btf"), task, &["pid"]).expect("pid");
        let insns = [
            Insn::Ldx { size: Size::DW, sign_ext: false, dst: Reg(1), src: Reg(1), off: 8 },
            Insn::Ldx { size: Size::W, sign_ext: false, dst: Reg(2), src: Reg(1), off: pid as i16 },
            Insn::St { size: Size::W, dst: Reg(1), off: pid as i16, imm: 1 },
        ];
        let e = env(&insns);
        let _scope = AttachScope::enter(Some(BtfCtx {
            args: vec![ArgType::Scalar, ArgType::Ptr { btf_id: task, maybe_null: true, trusted: true }],
            write_rule: WriteRule::ReadOnly,
            void_ret: false,
        }));
        let s1 = step(&e, &AbsState::entry(), 0).out.expect("ctx load");
        let r1 = *s1.reg(Reg(1));
        let p = r1.as_ptr().expect("pointer");
        assert!(p.maybe_null && p.btf_id == task, "{r1:?}");
        assert_eq!(p.type_name(), "trusted_ptr_or_null_");
        // Unchecked: refused with the kernel's words.
        let st = step(&e, &s1, 1);
        assert!(st.out.is_none());
        assert_eq!(st.diags.first().map(|d| d.message.clone()), Some("R1 invalid mem access 'trusted_ptr_or_null_'".to_string()));
        // After a NULL check (as the branch refinement leaves it): a scalar field read.
        let mut s2 = s1.clone();
        s2.set_reg(Reg(1), RegState::btf_ptr_with(task, crate::state::reg::BtfTrust::Trusted));
        let ok = step(&e, &s2, 1).out.expect("checked read");
        assert!(matches!(ok.reg(Reg(2)), RegState::Scalar(_)));
        let w = step(&e, &s2, 2);
        assert!(w.out.is_none());
        assert!(w.diags.iter().any(|d| d.message.contains("only read is supported")));
    }
}
