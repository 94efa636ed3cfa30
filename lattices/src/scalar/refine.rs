//! Branch conditions on [`Scalar`]s: the kernel's `is_scalar_branch_taken`
//! ([`Scalar::branch_outcome`]) and `regs_refine_cond_op` followed by
//! `reg_bounds_sync` on both operands ([`Scalar::refine`]).
//!
//! Beyond the kernel: `Eq` is also decided false when the tnums disagree on a
//! known bit; `Set` is decided for non-constant operands too (true when a bit
//! is known 1 in both, false when no bit can be 1 in both); a W64 `Eq`
//! refines with the full meet (all five components); infeasible refinements
//! (e.g. `x != 5` for `x = 5`, or `x < 0` unsigned) return `None` instead of
//! relying on the caller having checked `branch_outcome` first.
//!
//! Known precision losses: `Ne` only shrinks a bound that equals the
//! constant (as the kernel); `Set` only learns a bit when the constant has a
//! single bit set (as the kernel); non-constant `Ne`/`Set` learn nothing.

use super::{BitWidth, Cmp, Scalar};
use crate::tnum::Tnum;

/// The condition assumed to hold on a branch edge.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cond {
    Is(Cmp),
    /// `a & b == 0` (the fall-through of `Set`).
    NotSet,
}

/// The operand as seen by a comparison at `width`.
struct View {
    t: Tnum,
    umin: u64,
    umax: u64,
    smin: i64,
    smax: i64,
}

fn view(a: &Scalar, width: BitWidth) -> View {
    match width {
        BitWidth::W64 => View { t: a.var_off, umin: a.umin, umax: a.umax, smin: a.smin, smax: a.smax },
        BitWidth::W32 => View {
            t: a.var_off.subreg(),
            umin: a.u32_min as u64,
            umax: a.u32_max as u64,
            smin: a.s32_min as i64,
            smax: a.s32_max as i64,
        },
    }
}

/// The constant value of `a` at `width`, if any.
fn const_at(a: &Scalar, width: BitWidth) -> Option<u64> {
    match width {
        BitWidth::W64 => a.const_value(),
        BitWidth::W32 => {
            let t = a.var_off.subreg();
            if t.is_const() {
                Some(t.value)
            } else if a.u32_min == a.u32_max {
                Some(a.u32_min as u64)
            } else {
                None
            }
        }
    }
}

impl Scalar {
    /// The kernel's `is_branch_taken` for two scalars: `Some(true)` when
    /// `a cmp b` holds for every pair of values, `Some(false)` when it holds
    /// for none, `None` when undecided (or either side is bottom).
    pub fn branch_outcome(cmp: Cmp, width: BitWidth, a: &Scalar, b: &Scalar) -> Option<bool> {
        if a.is_bottom() || b.is_bottom() {
            return None;
        }
        let (x, y) = (view(a, width), view(b, width));
        match cmp {
            Cmp::Eq => {
                if x.t.is_const() && y.t.is_const() {
                    return Some(x.t.value == y.t.value);
                }
                if x.umin > y.umax || x.umax < y.umin || x.smin > y.smax || x.smax < y.smin {
                    return Some(false);
                }
                if x.t.meet_checked(y.t).is_none() {
                    return Some(false);
                }
                if width == BitWidth::W64
                    && (a.u32_min > b.u32_max
                        || a.u32_max < b.u32_min
                        || a.s32_min > b.s32_max
                        || a.s32_max < b.s32_min)
                {
                    return Some(false);
                }
                None
            }
            Cmp::Ne => Scalar::branch_outcome(Cmp::Eq, width, a, b).map(|t| !t),
            Cmp::Set => {
                if x.t.value & y.t.value != 0 {
                    return Some(true);
                }
                if (x.t.value | x.t.mask) & (y.t.value | y.t.mask) == 0 {
                    return Some(false);
                }
                None
            }
            Cmp::Gt => decide(x.umin > y.umax, x.umax <= y.umin),
            Cmp::Ge => decide(x.umin >= y.umax, x.umax < y.umin),
            Cmp::Lt => decide(x.umax < y.umin, x.umin >= y.umax),
            Cmp::Le => decide(x.umax <= y.umin, x.umin > y.umax),
            Cmp::SGt => decide(x.smin > y.smax, x.smax <= y.smin),
            Cmp::SGe => decide(x.smin >= y.smax, x.smax < y.smin),
            Cmp::SLt => decide(x.smax < y.smin, x.smin >= y.smax),
            Cmp::SLe => decide(x.smax <= y.smin, x.smin > y.smax),
        }
    }

    /// Both operands refined under the assumption that `a cmp b` holds
    /// (`taken`) or does not hold (`!taken`), compared at `width` (W32: the
    /// low 32 bits, as JMP32). `None` when no pair of values satisfies it.
    pub fn refine(cmp: Cmp, width: BitWidth, taken: bool, a: &Scalar, b: &Scalar) -> Option<(Scalar, Scalar)> {
        if a.is_bottom() || b.is_bottom() {
            return None;
        }
        let cond = if taken {
            Cond::Is(cmp)
        } else {
            match cmp.negate() {
                Some(n) => Cond::Is(n),
                None => Cond::NotSet,
            }
        };
        let outcome = match cond {
            Cond::Is(c) => Scalar::branch_outcome(c, width, a, b),
            Cond::NotSet => Scalar::branch_outcome(Cmp::Set, width, a, b).map(|t| !t),
        };
        if outcome == Some(false) {
            return None;
        }
        let (mut r1, mut r2) = (*a, *b);
        refine_cond(cond, width, &mut r1, &mut r2)?;
        r1.sync();
        r2.sync();
        if r1.is_bottom() || r2.is_bottom() {
            return None;
        }
        Some((r1, r2))
    }
}

fn decide(always: bool, never: bool) -> Option<bool> {
    if always {
        Some(true)
    } else if never {
        Some(false)
    } else {
        None
    }
}

/// The kernel's `regs_refine_cond_op` (without the final sync); `None` when
/// the condition is found infeasible on the way.
fn refine_cond(cond: Cond, width: BitWidth, r1: &mut Scalar, r2: &mut Scalar) -> Option<()> {
    let w32 = width == BitWidth::W32;
    match cond {
        // a > b  <=>  b < a, etc.
        Cond::Is(c @ (Cmp::Gt | Cmp::Ge | Cmp::SGt | Cmp::SGe)) => refine_cond(Cond::Is(c.swap()), width, r2, r1),
        Cond::Is(Cmp::Eq) => {
            if w32 {
                let u_lo = r1.u32_min.max(r2.u32_min);
                let u_hi = r1.u32_max.min(r2.u32_max);
                let s_lo = r1.s32_min.max(r2.s32_min);
                let s_hi = r1.s32_max.min(r2.s32_max);
                let t = r1.var_off.subreg().meet_checked(r2.var_off.subreg())?;
                for r in [&mut *r1, &mut *r2] {
                    r.u32_min = u_lo;
                    r.u32_max = u_hi;
                    r.s32_min = s_lo;
                    r.s32_max = s_hi;
                    r.var_off = r.var_off.with_subreg(t);
                }
            } else {
                let m = crate::lattice::Lattice::meet(&*r1, &*r2);
                *r1 = m;
                *r2 = m;
            }
            Some(())
        }
        Cond::Is(Cmp::Ne) => {
            let (r1, r2) = if const_at(r2, width).is_none() { (r2, r1) } else { (r1, r2) };
            let Some(val) = const_at(r2, width) else { return Some(()) };
            if w32 {
                let (v, sv) = (val as u32, val as u32 as i32);
                if r1.u32_min == v {
                    r1.u32_min = r1.u32_min.checked_add(1)?;
                }
                if r1.u32_max == v {
                    r1.u32_max = r1.u32_max.checked_sub(1)?;
                }
                if r1.s32_min == sv {
                    r1.s32_min = r1.s32_min.checked_add(1)?;
                }
                if r1.s32_max == sv {
                    r1.s32_max = r1.s32_max.checked_sub(1)?;
                }
            } else {
                let sv = val as i64;
                if r1.umin == val {
                    r1.umin = r1.umin.checked_add(1)?;
                }
                if r1.umax == val {
                    r1.umax = r1.umax.checked_sub(1)?;
                }
                if r1.smin == sv {
                    r1.smin = r1.smin.checked_add(1)?;
                }
                if r1.smax == sv {
                    r1.smax = r1.smax.checked_sub(1)?;
                }
            }
            Some(())
        }
        Cond::Is(Cmp::Set) => {
            let (r1, r2) = if const_at(r2, width).is_none() { (r2, r1) } else { (r1, r2) };
            let Some(val) = const_at(r2, width) else { return Some(()) };
            // only a single-bit constant tells which bit is set
            if !val.is_power_of_two() {
                return Some(());
            }
            if w32 {
                let t = r1.var_off.subreg().or(Tnum::constant(val));
                r1.var_off = r1.var_off.with_subreg(t);
            } else {
                r1.var_off = r1.var_off.or(Tnum::constant(val));
            }
            Some(())
        }
        Cond::NotSet => {
            let (r1, r2) = if const_at(r2, width).is_none() { (r2, r1) } else { (r1, r2) };
            let Some(val) = const_at(r2, width) else { return Some(()) };
            // every bit of the constant is 0 in r1
            if w32 {
                let t = r1.var_off.subreg().and(Tnum::constant(!val & 0xffff_ffff));
                r1.var_off = r1.var_off.with_subreg(t);
            } else {
                r1.var_off = r1.var_off.and(Tnum::constant(!val));
            }
            Some(())
        }
        Cond::Is(Cmp::Le) => {
            if w32 {
                r1.u32_max = r1.u32_max.min(r2.u32_max);
                r2.u32_min = r2.u32_min.max(r1.u32_min);
            } else {
                r1.umax = r1.umax.min(r2.umax);
                r2.umin = r2.umin.max(r1.umin);
            }
            Some(())
        }
        Cond::Is(Cmp::Lt) => {
            if w32 {
                r1.u32_max = r1.u32_max.min(r2.u32_max.checked_sub(1)?);
                r2.u32_min = r2.u32_min.max(r1.u32_min.checked_add(1)?);
            } else {
                r1.umax = r1.umax.min(r2.umax.checked_sub(1)?);
                r2.umin = r2.umin.max(r1.umin.checked_add(1)?);
            }
            Some(())
        }
        Cond::Is(Cmp::SLe) => {
            if w32 {
                r1.s32_max = r1.s32_max.min(r2.s32_max);
                r2.s32_min = r2.s32_min.max(r1.s32_min);
            } else {
                r1.smax = r1.smax.min(r2.smax);
                r2.smin = r2.smin.max(r1.smin);
            }
            Some(())
        }
        Cond::Is(Cmp::SLt) => {
            if w32 {
                r1.s32_max = r1.s32_max.min(r2.s32_max.checked_sub(1)?);
                r2.s32_min = r2.s32_min.max(r1.s32_min.checked_add(1)?);
            } else {
                r1.smax = r1.smax.min(r2.smax.checked_sub(1)?);
                r2.smin = r2.smin.max(r1.smin.checked_add(1)?);
            }
            Some(())
        }
    }
}
