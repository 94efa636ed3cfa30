//! Branch refinement: the state on the taken and on the fall-through edge of a
//! conditional jump (the kernel's `check_cond_jmp_op`).
//!
//! Scalars are refined by `lattices::Scalar::refine` (both operands, both widths).
//! A NULL check of a `*_or_null` pointer makes every copy (same id) non-NULL on one
//! side and the scalar 0 on the other. Comparing a packet pointer with `pkt_end`
//! proves a packet range for every pointer of the same id (`find_good_pkt_pointers`).
//! An edge whose condition cannot hold yields None (bottom).

use super::Ctx;
use crate::insn::{Insn, JmpCond, Operand, Reg, Width};
use crate::state::{AbsState, Ptr, PtrKind, RegState};
use lattices::{BitWidth, Cmp, Scalar};

pub(crate) fn check_operands(cx: &mut Ctx<'_, '_>, s: &AbsState, dst: Reg, src: Operand) -> Option<()> {
    cx.read(s, dst)?;
    if let Operand::Reg(r) = src {
        cx.read(s, r)?;
    }
    Some(())
}

fn cmp_of(c: JmpCond) -> Cmp {
    match c {
        JmpCond::Eq => Cmp::Eq,
        JmpCond::Ne => Cmp::Ne,
        JmpCond::Gt => Cmp::Gt,
        JmpCond::Ge => Cmp::Ge,
        JmpCond::Lt => Cmp::Lt,
        JmpCond::Le => Cmp::Le,
        JmpCond::SGt => Cmp::SGt,
        JmpCond::SGe => Cmp::SGe,
        JmpCond::SLt => Cmp::SLt,
        JmpCond::SLe => Cmp::SLe,
        JmpCond::Set => Cmp::Set,
    }
}

/// The condition that holds on this edge, as (cond, negated?) normalised to a
/// condition that holds: for the fall-through side of `Set` there is no Cmp, so the
/// caller passes `taken = false` to the scalar refinement.
fn holds(c: JmpCond, taken: bool) -> Option<JmpCond> {
    if taken {
        return Some(c);
    }
    Some(match c {
        JmpCond::Eq => JmpCond::Ne,
        JmpCond::Ne => JmpCond::Eq,
        JmpCond::Gt => JmpCond::Le,
        JmpCond::Ge => JmpCond::Lt,
        JmpCond::Lt => JmpCond::Ge,
        JmpCond::Le => JmpCond::Gt,
        JmpCond::SGt => JmpCond::SLe,
        JmpCond::SGe => JmpCond::SLt,
        JmpCond::SLt => JmpCond::SGe,
        JmpCond::SLe => JmpCond::SGt,
        JmpCond::Set => return None,
    })
}

/// The state on one edge of the conditional jump at `pc`; None when infeasible.
pub fn refine_edge(insns: &[Insn], s: &AbsState, pc: usize, taken: bool) -> Option<AbsState> {
    let Some(Insn::Jmp { width, cond, dst, src, .. }) = insns.get(pc).copied() else {
        return Some(s.clone());
    };
    let a = *s.reg(dst);
    let b = match src {
        Operand::Reg(r) => *s.reg(r),
        Operand::Imm(i) => {
            let v = if width == Width::W32 { i as u32 as u64 } else { i as i64 as u64 };
            RegState::constant(v)
        }
    };
    let w = if width == Width::W32 { BitWidth::W32 } else { BitWidth::W64 };
    let mut out = s.clone();
    match (a, b) {
        (RegState::Scalar(x), RegState::Scalar(y)) => {
            if let Operand::Reg(r) = src {
                if r == dst {
                    // Comparing a register with itself: decided by the scalar domain.
                    return match Scalar::branch_outcome(cmp_of(cond), w, &x, &x) {
                        Some(o) if o != taken => None,
                        _ => Some(out),
                    };
                }
            }
            let (x2, y2) = Scalar::refine(cmp_of(cond), w, taken, &x, &y)?;
            out.set_reg(dst, RegState::Scalar(x2));
            if let Operand::Reg(r) = src {
                out.set_reg(r, RegState::Scalar(y2));
            }
            Some(out)
        }
        (RegState::Ptr(p), RegState::Scalar(y)) => ptr_vs_scalar(out, dst, p, y, cond, taken, width),
        (RegState::Scalar(x), RegState::Ptr(p)) => {
            let Operand::Reg(r) = src else { return Some(out) };
            // Swap operands: `x cond p` is `p swap(cond) x`.
            ptr_vs_scalar(out, r, p, x, swap(cond), taken, width)
        }
        (RegState::Ptr(p), RegState::Ptr(q)) if width == Width::W64 => {
            let Operand::Reg(r) = src else { return Some(out) };
            pkt_compare(&mut out, (dst, p), (r, q), cond, taken);
            Some(out)
        }
        _ => Some(out),
    }
}

fn swap(c: JmpCond) -> JmpCond {
    match c {
        JmpCond::Gt => JmpCond::Lt,
        JmpCond::Ge => JmpCond::Le,
        JmpCond::Lt => JmpCond::Gt,
        JmpCond::Le => JmpCond::Ge,
        JmpCond::SGt => JmpCond::SLt,
        JmpCond::SGe => JmpCond::SLe,
        JmpCond::SLt => JmpCond::SGt,
        JmpCond::SLe => JmpCond::SGe,
        other => other,
    }
}

/// A pointer compared with a scalar: only comparisons with 0 mean something (NULL checks).
fn ptr_vs_scalar(
    mut out: AbsState,
    reg: Reg,
    p: Ptr,
    y: Scalar,
    cond: JmpCond,
    taken: bool,
    width: Width,
) -> Option<AbsState> {
    if y.const_value() != Some(0) || width == Width::W32 || !p.has_fixed_off() || p.off != 0 {
        return Some(out);
    }
    let is_null = match holds(cond, taken) {
        Some(JmpCond::Eq) => true,
        Some(JmpCond::Ne) | Some(JmpCond::Gt) => false,
        _ => return Some(out),
    };
    if !p.maybe_null {
        // A pointer that cannot be NULL is never equal to 0.
        return if is_null { None } else { Some(out) };
    }
    mark_ptr_or_null(&mut out, reg, &p, is_null);
    Some(out)
}

/// The kernel's `mark_ptr_or_null_regs`: every copy of the pointer becomes NULL
/// (the scalar 0) or non-NULL; a NULL reference was never acquired.
fn mark_ptr_or_null(out: &mut AbsState, reg: Reg, p: &Ptr, is_null: bool) {
    let id = p.id;
    let apply = |r: &mut RegState| {
        if let RegState::Ptr(q) = r {
            if q.maybe_null && q.kind == p.kind {
                if is_null {
                    *r = RegState::constant(0);
                } else {
                    q.maybe_null = false;
                }
            }
        }
    };
    if id != 0 && id != super::STALE_ID {
        out.for_each_reg_mut(|r| {
            if matches!(r, RegState::Ptr(q) if q.id == id) {
                apply(r);
            }
        });
    } else {
        let mut r = *out.reg(reg);
        apply(&mut r);
        out.set_reg(reg, r);
    }
    if is_null && p.ref_obj_id != 0 {
        out.refs.remove(&p.ref_obj_id);
    }
}

/// `pkt cond pkt_end` (either order): proves the packet range of `pkt`'s id on
/// the side where `pkt <= pkt_end` (range off) or `pkt < pkt_end` (range off + 1).
fn pkt_compare(out: &mut AbsState, a: (Reg, Ptr), b: (Reg, Ptr), cond: JmpCond, taken: bool) {
    let Some(c) = holds(cond, taken) else { return };
    let (pkt, c) = match (a.1.kind, b.1.kind) {
        (PtrKind::Pkt, PtrKind::PktEnd) => (a.1, c),
        (PtrKind::PktEnd, PtrKind::Pkt) => (b.1, swap(c)),
        (PtrKind::PktMeta, PtrKind::Pkt) => (a.1, c),
        (PtrKind::Pkt, PtrKind::PktMeta) => (b.1, swap(c)),
        _ => return,
    };
    // Now `pkt c end` holds.
    let new_range = match c {
        JmpCond::Le => pkt.off as i64,
        JmpCond::Lt => pkt.off as i64 + 1,
        _ => return,
    };
    if pkt.id == super::STALE_ID || new_range <= 0 || !(pkt.var.smin >= 0) {
        return;
    }
    let new_range = new_range.min(0xffff) as u32;
    let key = super::range_key(&pkt);
    if new_range > out.pkt_range(key) {
        out.pkt_ranges.insert(key, new_range);
    }
}
