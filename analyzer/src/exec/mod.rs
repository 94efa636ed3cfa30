//! Abstract transfer functions: one instruction applied to one path's state.
//!
//! `step` returns the state after the instruction (None when every concrete
//! execution of this path stops here, e.g. after an error or at program exit) and
//! the diagnostics the instruction raises against the state before it. The fixpoint
//! only uses the post-state; the check pass (`verify`) runs `step` once more on the
//! final invariants and keeps the diagnostics, so checks never change the invariants.
//!
//! The rules are the kernel's for a privileged (root) loader: pointer arithmetic only
//! by add/sub of scalars on pointers that allow it, no 32-bit pointer arithmetic,
//! NULL checks before use, every access proven within its object.

pub mod alu;
pub mod branch;
pub mod call;
mod kfunc;
pub mod mem;

use crate::diag::{DiagCode, Diagnostic};
use crate::insn::{Insn, LdImm64Src, Reg};
use crate::object::MapDef;
use crate::prog_type::{AttachType, ProgType};
use crate::state::{AbsState, PtrKind, RegState};

/// Everything about the program the transfer functions need; read-only.
pub struct Env<'a> {
    pub prog_type: ProgType,
    pub attach: Option<AttachType>,
    pub maps: &'a [MapDef],
    pub insns: &'a [Insn],
    /// Reading never-written stack is allowed (the kernel's `allow_uninit_stack`,
    /// true for a CAP_PERFMON loader such as root); false gives the unprivileged rules.
    pub allow_uninit_stack: bool,
    /// The program's license is GPL-compatible (may call GPL-only helpers).
    pub gpl: bool,
    /// Functions modelled as intrinsics instead of being analysed (start pc, which).
    pub intrinsics: Vec<(usize, Intrinsic)>,
    /// For each map of a map-in-map type, the index in `maps` of its inner map
    /// (inner maps are appended after the object's own maps).
    pub inner_maps: Vec<Option<u32>>,
    /// Global functions called as black boxes: start pc and argument kinds.
    pub global_funcs: Vec<(usize, Vec<crate::global_funcs::ParamKind>)>,
    /// This analysis is of a global function on its own (its exit returns a scalar to
    /// any caller, with no program-type range).
    pub is_global_entry: bool,
}

impl<'a> Env<'a> {
    /// A root loader's environment (uninitialised stack readable, GPL) for `insns` with
    /// `maps`: no attach type, intrinsics, inner maps or global functions.
    pub fn privileged(prog_type: ProgType, maps: &'a [MapDef], insns: &'a [Insn]) -> Env<'a> {
        Env {
            prog_type,
            attach: None,
            maps,
            insns,
            allow_uninit_stack: true,
            gpl: true,
            intrinsics: Vec::new(),
            inner_maps: Vec::new(),
            global_funcs: Vec::new(),
            is_global_entry: false,
        }
    }
}

/// Library functions with C semantics that clang emits calls to and the loader supplies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intrinsic {
    /// `memset(R1, R2, R3)`: writes R3 bytes at R1.
    Memset,
    /// `memcpy(R1, R2, R3)`: reads R3 bytes at R2, writes them at R1.
    Memcpy,
}

impl Intrinsic {
    pub fn from_name(name: &str) -> Option<Intrinsic> {
        match name {
            "memset" => Some(Intrinsic::Memset),
            "memcpy" => Some(Intrinsic::Memcpy),
            _ => None,
        }
    }
}

/// Result of one instruction on one state.
pub struct Step {
    /// The state after the instruction; None when the path ends here.
    pub out: Option<AbsState>,
    pub diags: Vec<Diagnostic>,
}

/// Collects the diagnostics of one instruction.
pub(crate) struct Ctx<'e, 'a> {
    pub env: &'e Env<'a>,
    pub pc: usize,
    pub diags: Vec<Diagnostic>,
    /// Helper memory arguments are not subject to the stack's alignment rule.
    pub helper_access: bool,
}

impl Ctx<'_, '_> {
    pub(crate) fn error(&mut self, code: DiagCode, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(self.pc, code, msg));
    }

    /// Reads a register that must be initialised (`R%d !read_ok`).
    pub(crate) fn read(&mut self, st: &AbsState, r: Reg) -> Option<RegState> {
        let v = *st.reg(r);
        if !v.is_init() {
            self.error(DiagCode::UninitRegister, format!("R{} !read_ok", r.0));
            return None;
        }
        Some(v)
    }

    /// Checks a register may be written (R10 is read-only).
    pub(crate) fn check_writable(&mut self, r: Reg) -> Option<()> {
        if r == Reg::FP {
            self.error(DiagCode::FramePointerWrite, "frame pointer is read only");
            return None;
        }
        Some(())
    }

    /// Deterministic id for an object created at this pc in this frame depth.
    pub(crate) fn fresh_id(&self, st: &AbsState) -> u32 {
        (self.pc as u32 + 1) | ((st.depth() as u32) << 24)
    }
}

/// Id given to copies of a pointer whose id was reused by a newer object of the
/// same allocation site: such copies can no longer be refined or ranged.
pub const STALE_ID: u32 = u32::MAX;

/// Before reusing `id` for a new object, detach every existing copy of the old one.
pub(crate) fn retire_id(st: &mut AbsState, id: u32) {
    st.for_each_reg_mut(|r| {
        if let RegState::Ptr(p) = r {
            if p.id == id {
                p.id = STALE_ID;
            }
        }
    });
    st.pkt_ranges.remove(&id);
}

/// Applies one instruction to one state.
pub fn step(env: &Env<'_>, st: &AbsState, pc: usize) -> Step {
    let mut s = st.clone();
    let (alive, diags) = step_in_place(env, &mut s, pc);
    Step { out: alive.then_some(s), diags }
}

/// Applies one instruction to `s` in place: `(true, [])` when the path goes on with `s`,
/// else `(false, diagnostics)` and `s` is left in an unspecified state (the path ends
/// here: an error, or an exit with nothing to return to).
pub fn step_in_place(env: &Env<'_>, s: &mut AbsState, pc: usize) -> (bool, Vec<Diagnostic>) {
    let mut cx = Ctx { env, pc, diags: Vec::new(), helper_access: false };
    let insn = match env.insns.get(pc) {
        Some(i) => *i,
        None => {
            cx.error(DiagCode::Unsupported, format!("invalid insn idx {pc}"));
            return (false, cx.diags);
        }
    };
    let ok = match insn {
        Insn::Alu { width, op, dst, src } => alu::alu(&mut cx, s, width, op, dst, src),
        Insn::Endian { kind, bits, dst } => alu::endian(&mut cx, s, kind, bits, dst),
        Insn::LdImm64 { dst, src, imm, next_imm } => ld_imm64(&mut cx, s, dst, src, imm, next_imm),
        // The second slot of LD_IMM64 is part of the first; decode rejects jumps into it.
        Insn::LdImm64Tail => Some(()),
        Insn::Ldx { size, sign_ext, dst, src, off } => mem::ldx(&mut cx, s, size, sign_ext, dst, src, off),
        Insn::St { size, dst, off, imm } => mem::st(&mut cx, s, size, dst, off, imm),
        Insn::Stx { size, dst, src, off } => mem::stx(&mut cx, s, size, dst, src, off),
        Insn::Atomic { size, op, fetch, dst, src, off } => mem::atomic(&mut cx, s, size, op, fetch, dst, src, off),
        Insn::LdAbs { size, imm } => mem::ld_abs(&mut cx, s, size, None, imm),
        Insn::LdInd { size, src, imm } => mem::ld_abs(&mut cx, s, size, Some(src), imm),
        Insn::Call(target) => call::call(&mut cx, s, target),
        Insn::Exit => call::exit(&mut cx, s),
        // Jumps change no state; the edge transfer refines it.
        Insn::Ja { .. } => Some(()),
        Insn::Jmp { dst, src, .. } => branch::check_operands(&mut cx, s, dst, src),
    };
    (ok.is_some() && cx.diags.is_empty(), cx.diags)
}

fn ld_imm64(cx: &mut Ctx<'_, '_>, s: &mut AbsState, dst: Reg, src: LdImm64Src, imm: i32, next_imm: i32) -> Option<()> {
    cx.check_writable(dst)?;
    let v = match src {
        LdImm64Src::Imm => RegState::constant(Insn::imm64(imm, next_imm)),
        LdImm64Src::MapIdx | LdImm64Src::MapIdxValue => {
            let map = imm as u32;
            if cx.env.maps.get(map as usize).is_none() {
                cx.error(DiagCode::Unsupported, format!("fd_array[{imm}] is not a map"));
                return None;
            }
            if src == LdImm64Src::MapIdx {
                RegState::ptr(PtrKind::MapPtr { map })
            } else {
                let mut p = crate::state::Ptr::new(PtrKind::MapValue { map });
                p.off = next_imm;
                RegState::Ptr(p)
            }
        }
        LdImm64Src::Func => RegState::ptr(PtrKind::Func { pc: (cx.pc as i64 + 1 + imm as i64) as u32 }),
        LdImm64Src::BtfId => RegState::ptr(PtrKind::BtfId),
        LdImm64Src::MapFd | LdImm64Src::MapValue => {
            cx.error(DiagCode::Unsupported, format!("fd {imm} is not pointing to valid bpf_map"));
            return None;
        }
    };
    s.set_reg(dst, v);
    Some(())
}

/// The key of a packet pointer's proven range: its id, in a separate space for
/// `pkt_meta` pointers (whose range is proven against `data`, not `data_end`).
pub(crate) fn range_key(p: &crate::state::Ptr) -> u32 {
    if p.kind == PtrKind::PktMeta {
        p.id | (1 << 31)
    } else {
        p.id
    }
}
