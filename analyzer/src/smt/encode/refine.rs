//! `Scalar::branch_outcome` and `Scalar::refine` (`scalar/refine.rs`) as
//! bit-vector terms.
//!
//! An `Option<bool>` outcome is a pair (`some`, `value`); an
//! `Option<(Scalar, Scalar)>` refinement is (`some`, `a'`, `b'`), where
//! `a'`/`b'` are meaningful only when `some` holds. The operand swaps of
//! `Ne`/`Set`/`NotSet` (refine the non-constant side against the constant
//! one) are `ite`s on which side is constant; the `checked_add`/`checked_sub`
//! early returns become a "failed" flag.

use super::scalar::{SymScalar, SyncMode};
use super::tnum::SymTnum;
use super::{is_power_of_two, lit, lo32, smax, smin, umax, umin, zext64};
use lattices::{BitWidth, Cmp};
use z3::ast::{Bool, BV};

/// The condition assumed on a branch edge (`Cond` in `scalar/refine.rs`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cond {
    /// `a cmp b`.
    Is(Cmp),
    /// `a & b == 0`.
    NotSet,
}

impl Cond {
    /// The condition of the `taken` (or fall-through) edge of `cmp`.
    pub fn of(cmp: Cmp, taken: bool) -> Cond {
        if taken {
            Cond::Is(cmp)
        } else {
            match cmp.negate() {
                Some(n) => Cond::Is(n),
                None => Cond::NotSet,
            }
        }
    }

    /// The concrete condition on 64-bit `x`, `y` at `width`.
    pub fn holds(self, width: BitWidth, x: &BV, y: &BV) -> Bool {
        match self {
            Cond::Is(c) => super::concrete::cmp(c, width, x, y),
            Cond::NotSet => super::concrete::cmp(Cmp::Set, width, x, y).not(),
        }
    }
}

/// A symbolic `Option<bool>`.
#[derive(Clone, Debug)]
pub struct SymOutcome {
    /// `is_some()`.
    pub some: Bool,
    /// The value when `some`.
    pub value: Bool,
}

/// The operand as seen by a comparison (`View`): bounds at the width.
struct View {
    t: SymTnum,
    umin: BV,
    umax: BV,
    smin: BV,
    smax: BV,
}

fn view(a: &SymScalar, width: BitWidth) -> View {
    match width {
        BitWidth::W64 => View {
            t: a.var_off.clone(),
            umin: a.umin.clone(),
            umax: a.umax.clone(),
            smin: a.smin.clone(),
            smax: a.smax.clone(),
        },
        BitWidth::W32 => View {
            t: a.var_off.subreg(),
            umin: a.u32_min.clone(),
            umax: a.u32_max.clone(),
            smin: a.s32_min.clone(),
            smax: a.s32_max.clone(),
        },
    }
}

fn decide(always: Bool, never: Bool) -> SymOutcome {
    SymOutcome {
        some: Bool::or(&[always.clone(), never]),
        value: always,
    }
}

/// `Scalar::branch_outcome(cmp, width, a, b)`.
pub fn branch_outcome(cmp: Cmp, width: BitWidth, a: &SymScalar, b: &SymScalar) -> SymOutcome {
    let (x, y) = (view(a, width), view(b, width));
    let r = match cmp {
        Cmp::Eq => {
            let consts = Bool::and(&[x.t.is_const(), y.t.is_const()]);
            let disjoint = Bool::or(&[
                x.umin.bvugt(&y.umax),
                x.umax.bvult(&y.umin),
                x.smin.bvsgt(&y.smax),
                x.smax.bvslt(&y.smin),
            ]);
            let (meet_ok, _) = x.t.meet_checked(&y.t);
            let disjoint32 = match width {
                BitWidth::W64 => Bool::or(&[
                    a.u32_min.bvugt(&b.u32_max),
                    a.u32_max.bvult(&b.u32_min),
                    a.s32_min.bvsgt(&b.s32_max),
                    a.s32_max.bvslt(&b.s32_min),
                ]),
                BitWidth::W32 => Bool::from_bool(false),
            };
            SymOutcome {
                some: Bool::or(&[consts.clone(), disjoint, meet_ok.not(), disjoint32]),
                value: Bool::and(&[consts, x.t.value.eq(&y.t.value)]),
            }
        }
        Cmp::Ne => {
            let e = branch_outcome(Cmp::Eq, width, a, b);
            SymOutcome {
                some: e.some,
                value: e.value.not(),
            }
        }
        Cmp::Set => {
            let zero = lit(0, 64);
            let always = x.t.value.bvand(&y.t.value).ne(&zero);
            let never =
                x.t.value
                    .bvor(&x.t.mask)
                    .bvand(y.t.value.bvor(&y.t.mask))
                    .eq(&zero);
            decide(always, never)
        }
        Cmp::Gt => decide(x.umin.bvugt(&y.umax), x.umax.bvule(&y.umin)),
        Cmp::Ge => decide(x.umin.bvuge(&y.umax), x.umax.bvult(&y.umin)),
        Cmp::Lt => decide(x.umax.bvult(&y.umin), x.umin.bvuge(&y.umax)),
        Cmp::Le => decide(x.umax.bvule(&y.umin), x.umin.bvugt(&y.umax)),
        Cmp::SGt => decide(x.smin.bvsgt(&y.smax), x.smax.bvsle(&y.smin)),
        Cmp::SGe => decide(x.smin.bvsge(&y.smax), x.smax.bvslt(&y.smin)),
        Cmp::SLt => decide(x.smax.bvslt(&y.smin), x.smin.bvsge(&y.smax)),
        Cmp::SLe => decide(x.smax.bvsle(&y.smin), x.smin.bvsgt(&y.smax)),
    };
    let any_bottom = Bool::or(&[a.is_bottom(), b.is_bottom()]);
    SymOutcome {
        some: Bool::and(&[any_bottom.not(), r.some]),
        value: r.value,
    }
}

/// A symbolic `Option<(Scalar, Scalar)>`.
#[derive(Clone, Debug)]
pub struct SymRefined {
    /// `is_some()`.
    pub some: Bool,
    /// The refined first operand.
    pub a: SymScalar,
    /// The refined second operand.
    pub b: SymScalar,
}

/// `Scalar::refine(cmp, width, taken, a, b)`.
pub fn refine(
    cmp: Cmp,
    width: BitWidth,
    taken: bool,
    a: &SymScalar,
    b: &SymScalar,
    mode: SyncMode,
) -> SymRefined {
    let cond = Cond::of(cmp, taken);
    let outcome = match cond {
        Cond::Is(c) => branch_outcome(c, width, a, b),
        Cond::NotSet => {
            let o = branch_outcome(Cmp::Set, width, a, b);
            SymOutcome {
                some: o.some,
                value: o.value.not(),
            }
        }
    };
    let decided_false = Bool::and(&[outcome.some, outcome.value.not()]);
    let (ok, r1, r2) = refine_cond(cond, width, a, b, mode);
    let (r1, r2) = (r1.sync_with(mode), r2.sync_with(mode));
    let some = Bool::and(&[
        a.is_bottom().not(),
        b.is_bottom().not(),
        decided_false.not(),
        ok,
        r1.is_bottom().not(),
        r2.is_bottom().not(),
    ]);
    SymRefined { some, a: r1, b: r2 }
}

/// `const_at(a, width)`: (is `Some`, the 64-bit value).
fn const_at(a: &SymScalar, width: BitWidth) -> (Bool, BV) {
    match width {
        BitWidth::W64 => (a.is_const(), a.var_off.value.clone()),
        BitWidth::W32 => {
            let t = a.var_off.subreg();
            let single = a.u32_min.eq(&a.u32_max);
            let has = Bool::or(&[t.is_const(), single]);
            (has, t.is_const().ite(&t.value, &zext64(&a.u32_min)))
        }
    }
}

/// `regs_refine_cond_op` (without the final sync): (not failed, r1', r2').
fn refine_cond(
    cond: Cond,
    width: BitWidth,
    r1: &SymScalar,
    r2: &SymScalar,
    mode: SyncMode,
) -> (Bool, SymScalar, SymScalar) {
    let w32 = width == BitWidth::W32;
    let yes = Bool::from_bool(true);
    match cond {
        Cond::Is(c @ (Cmp::Gt | Cmp::Ge | Cmp::SGt | Cmp::SGe)) => {
            let (ok, n2, n1) = refine_cond(Cond::Is(c.swap()), width, r2, r1, mode);
            (ok, n1, n2)
        }
        Cond::Is(Cmp::Eq) => {
            if w32 {
                let u_lo = umax(&r1.u32_min, &r2.u32_min);
                let u_hi = umin(&r1.u32_max, &r2.u32_max);
                let s_lo = smax(&r1.s32_min, &r2.s32_min);
                let s_hi = smin(&r1.s32_max, &r2.s32_max);
                let (ok, t) = r1.var_off.subreg().meet_checked(&r2.var_off.subreg());
                let set = |r: &SymScalar| SymScalar {
                    var_off: r.var_off.with_subreg(&t),
                    u32_min: u_lo.clone(),
                    u32_max: u_hi.clone(),
                    s32_min: s_lo.clone(),
                    s32_max: s_hi.clone(),
                    ..r.clone()
                };
                (ok, set(r1), set(r2))
            } else {
                let m = r1.meet(r2, mode);
                (yes, m.clone(), m)
            }
        }
        Cond::Is(Cmp::Ne) | Cond::Is(Cmp::Set) | Cond::NotSet => {
            let (has_orig, _) = const_at(r2, width);
            let swap = has_orig.not();
            let big = SymScalar::ite(&swap, r2, r1);
            let small = SymScalar::ite(&swap, r1, r2);
            let (has, val) = const_at(&small, width);
            let (failed, updated) = match cond {
                Cond::Is(Cmp::Ne) => refine_ne(width, &big, &val),
                Cond::Is(_) => (Bool::from_bool(false), refine_set(width, &big, &val)),
                Cond::NotSet => (Bool::from_bool(false), refine_not_set(width, &big, &val)),
            };
            let new_big = SymScalar::ite(&has, &updated, &big);
            let failed = Bool::and(&[has, failed]);
            let n1 = SymScalar::ite(&swap, r1, &new_big);
            let n2 = SymScalar::ite(&swap, &new_big, r2);
            (failed.not(), n1, n2)
        }
        Cond::Is(Cmp::Le) => {
            let (mut n1, mut n2) = (r1.clone(), r2.clone());
            if w32 {
                n1.u32_max = umin(&r1.u32_max, &r2.u32_max);
                n2.u32_min = umax(&r2.u32_min, &r1.u32_min);
            } else {
                n1.umax = umin(&r1.umax, &r2.umax);
                n2.umin = umax(&r2.umin, &r1.umin);
            }
            (yes, n1, n2)
        }
        Cond::Is(Cmp::Lt) => {
            let (mut n1, mut n2) = (r1.clone(), r2.clone());
            let (a_min, b_max, w) = if w32 {
                (&r1.u32_min, &r2.u32_max, 32)
            } else {
                (&r1.umin, &r2.umax, 64)
            };
            let failed = Bool::or(&[b_max.eq(lit(0, w)), a_min.eq(lit(u64::MAX, w))]);
            let new_max = umin(
                if w32 { &r1.u32_max } else { &r1.umax },
                &b_max.bvsub(lit(1, w)),
            );
            let new_min = umax(
                if w32 { &r2.u32_min } else { &r2.umin },
                &a_min.bvadd(lit(1, w)),
            );
            if w32 {
                n1.u32_max = new_max;
                n2.u32_min = new_min;
            } else {
                n1.umax = new_max;
                n2.umin = new_min;
            }
            (failed.not(), n1, n2)
        }
        Cond::Is(Cmp::SLe) => {
            let (mut n1, mut n2) = (r1.clone(), r2.clone());
            if w32 {
                n1.s32_max = smin(&r1.s32_max, &r2.s32_max);
                n2.s32_min = smax(&r2.s32_min, &r1.s32_min);
            } else {
                n1.smax = smin(&r1.smax, &r2.smax);
                n2.smin = smax(&r2.smin, &r1.smin);
            }
            (yes, n1, n2)
        }
        Cond::Is(Cmp::SLt) => {
            let (mut n1, mut n2) = (r1.clone(), r2.clone());
            let (a_min, b_max, w) = if w32 {
                (&r1.s32_min, &r2.s32_max, 32)
            } else {
                (&r1.smin, &r2.smax, 64)
            };
            let smin_w = lit(1u64 << (w - 1), w);
            let smax_w = lit((1u64 << (w - 1)) - 1, w);
            let failed = Bool::or(&[b_max.eq(&smin_w), a_min.eq(&smax_w)]);
            let new_max = smin(
                if w32 { &r1.s32_max } else { &r1.smax },
                &b_max.bvsub(lit(1, w)),
            );
            let new_min = smax(
                if w32 { &r2.s32_min } else { &r2.smin },
                &a_min.bvadd(lit(1, w)),
            );
            if w32 {
                n1.s32_max = new_max;
                n2.s32_min = new_min;
            } else {
                n1.smax = new_max;
                n2.smin = new_min;
            }
            (failed.not(), n1, n2)
        }
    }
}

/// The `Ne` case against the constant `val`: (failed, updated operand).
fn refine_ne(width: BitWidth, r: &SymScalar, val: &BV) -> (Bool, SymScalar) {
    let mut n = r.clone();
    let (fields, v): ([&mut BV; 4], BV) = match width {
        BitWidth::W32 => (
            [
                &mut n.u32_min,
                &mut n.u32_max,
                &mut n.s32_min,
                &mut n.s32_max,
            ],
            lo32(val),
        ),
        BitWidth::W64 => (
            [&mut n.umin, &mut n.umax, &mut n.smin, &mut n.smax],
            val.clone(),
        ),
    };
    let w = v.get_size();
    let umax_w = lit(u64::MAX, w);
    let smin_w = lit(1u64 << (w - 1), w);
    let smax_w = lit((1u64 << (w - 1)) - 1, w);
    let one = lit(1, w);
    // (field, +1 or -1, the value where checked arithmetic fails)
    let limits = [
        (true, umax_w),
        (false, lit(0, w)),
        (true, smax_w),
        (false, smin_w),
    ];
    let mut failed = Vec::new();
    for (f, (inc, limit)) in fields.into_iter().zip(limits) {
        let cur: &BV = f;
        let hit = cur.eq(&v);
        failed.push(Bool::and(&[hit.clone(), cur.eq(&limit)]));
        let moved = if inc { f.bvadd(&one) } else { f.bvsub(&one) };
        *f = hit.ite(&moved, cur);
    }
    (Bool::or(&failed), n)
}

/// The `Set` case: a single-bit constant becomes a known 1.
fn refine_set(width: BitWidth, r: &SymScalar, val: &BV) -> SymScalar {
    let mut n = r.clone();
    let c = SymTnum::new(val.clone(), lit(0, 64));
    n.var_off = match width {
        BitWidth::W32 => r.var_off.with_subreg(&r.var_off.subreg().or(&c)),
        BitWidth::W64 => r.var_off.or(&c),
    };
    SymScalar::ite(&is_power_of_two(val), &n, r)
}

/// The `NotSet` case: every bit of the constant is 0.
fn refine_not_set(width: BitWidth, r: &SymScalar, val: &BV) -> SymScalar {
    let mut n = r.clone();
    n.var_off = match width {
        BitWidth::W32 => {
            let c = SymTnum::new(val.bvnot().bvand(lit(0xffff_ffff, 64)), lit(0, 64));
            r.var_off.with_subreg(&r.var_off.subreg().and(&c))
        }
        BitWidth::W64 => r.var_off.and(&SymTnum::new(val.bvnot(), lit(0, 64))),
    };
    n
}
