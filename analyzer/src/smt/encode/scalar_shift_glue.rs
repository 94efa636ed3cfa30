//! The glue of `Scalar::binop` for the shifts (`lsh`, `rsh`, `arsh`):
//! the set of possible masked amounts (`shift_amounts` of
//! `lattices/src/scalar/alu.rs`, empty set: `BOTTOM`), its least and
//! greatest element `lo`/`hi`, which component results the code takes and
//! how (`u32r`/`s32r` of `<<` by their `hi < 32` / `lo >= 32` cases, the
//! exact `<< k` for a constant `k >= 32`, `to_unsigned` of the `arsh`
//! range, zero-extension at W32), the product and `sync`, with the
//! component results themselves given as terms ([`ShiftGiven`]).
//!
//! As in [`super::scalar_glue`]: fresh terms bound by the proved lines in
//! the proofs (`smt::scalar_ops`), the Rust results in the differential
//! tests.

use super::range::SymRange;
use super::scalar::{zext_parts, SymScalar, SyncMode};
use super::tnum::SymTnum;
use super::{lit, sext64, zext64};
use lattices::{BinOp, BitWidth};
use z3::ast::{Bool, BV};

/// The component results of a shift, as terms.
#[derive(Clone, Debug)]
pub struct ShiftGiven {
    /// The join over the amounts in the set of the tnum shifted by each
    /// (W32: of `a.var_off.subreg()`, `arshift` at 32 bits).
    pub t: SymTnum,
    /// lsh, rsh: `shl_range(lo, hi)` / `shr_range(lo, hi)` of the unsigned
    /// range at the op's width.
    pub u: SymRange,
    /// `shl_range`/`shr_range`/`sar_range(lo, hi)` of the signed range at
    /// the op's width.
    pub s: SymRange,
    /// W64 lsh: `a.u32_range().shl_range(lo, hi)` (used when `hi < 32`).
    pub u32r: SymRange,
    /// W64 lsh: `a.s32_range().shl_range(lo, hi)` (used when `hi < 32`).
    pub s32r: SymRange,
}

/// The bits of the op (64 or 32).
fn bits(width: BitWidth) -> u32 {
    match width {
        BitWidth::W64 => 64,
        BitWidth::W32 => 32,
    }
}

/// `shift_amounts(b, width)`: bit `s` (of a 64-bit set) for each amount
/// `s < bits` in `b`'s tnum masked with `bits - 1` and, when `b`'s bound
/// at the width is below `bits`, within `b`'s range.
pub fn shift_set(b: &SymScalar, width: BitWidth) -> BV {
    let n = bits(width);
    let mask = lit(u64::from(n - 1), 64);
    let low = SymTnum::new(b.var_off.value.bvand(&mask), b.var_off.mask.bvand(&mask));
    let (lo, hi) = match width {
        BitWidth::W64 => (b.umin.clone(), b.umax.clone()),
        BitWidth::W32 => (zext64(&b.u32_min), zext64(&b.u32_max)),
    };
    let bounded = hi.bvult(lit(u64::from(n), 64));
    let mut set = lit(0, 64);
    for s in 0..n {
        let sv = lit(u64::from(s), 64);
        let out = Bool::and(&[bounded.clone(), Bool::or(&[sv.bvult(&lo), sv.bvugt(&hi)])]);
        let keep = Bool::and(&[low.contains(&sv), out.not()]);
        set = keep.ite(&set.bvor(lit(1u64 << s, 64)), &set);
    }
    set
}

/// Whether the amount `k` (64 bits) is in `set`.
pub fn in_set(set: &BV, k: &BV) -> Bool {
    set.bvlshr(k).extract(0, 0).eq(lit(1, 1))
}

/// `(trailing_zeros(set), 63 - leading_zeros(set))` of a non-empty set, as
/// 64-bit values.
pub fn set_bounds(set: &BV) -> (BV, BV) {
    let mut lo = lit(64, 64);
    let mut hi = lit(64, 64);
    for i in (0..64u32).rev() {
        lo = set
            .extract(i, i)
            .eq(lit(1, 1))
            .ite(&lit(u64::from(i), 64), &lo);
    }
    for i in 0..64u32 {
        hi = set
            .extract(i, i)
            .eq(lit(1, 1))
            .ite(&lit(u64::from(i), 64), &hi);
    }
    (lo, hi)
}

/// `truncate(kk)` of a 32-bit unsigned range for a symbolic `kk` in
/// `1..=32` (32: the identity), as `SymRange::truncate` for a constant.
fn truncate_sym(r: &SymRange, kk: &BV) -> SymRange {
    let m = lit(1, 32).bvshl(kk).bvsub(lit(1, 32));
    let same = r.min.bvlshr(kk).eq(r.max.bvlshr(kk));
    let t = SymRange::ite(
        &same,
        &SymRange {
            min: r.min.bvand(&m),
            max: r.max.bvand(&m),
            signed: false,
        },
        &SymRange {
            min: lit(0, 32),
            max: m.clone(),
            signed: false,
        },
    );
    SymRange::ite(&r.is_empty(), &SymRange::empty(32, false), &t)
}

/// `sext(kk)` of a 32-bit signed range for a symbolic `kk` in `1..=32`
/// (32: the identity), as `SymRange::sext` for a constant.
fn sext_sym(r: &SymRange, kk: &BV) -> SymRange {
    let empty = SymRange::empty(32, true);
    let low = truncate_sym(&r.flip_sign(), kk);
    let half = lit(1, 32).bvshl(kk.bvsub(lit(1, 32)));
    let straddles = Bool::and(&[low.min.bvult(&half), low.max.bvuge(&half)]);
    let up = lit(32, 32).bvsub(kk);
    let sx = |v: &BV| v.bvshl(&up).bvashr(&up);
    let t = SymRange::ite(
        &straddles,
        &SymRange {
            min: half.bvneg(),
            max: half.bvsub(lit(1, 32)),
            signed: true,
        },
        &SymRange {
            min: sx(&low.min),
            max: sx(&low.max),
            signed: true,
        },
    );
    let t = SymRange::ite(&kk.eq(lit(32, 32)), r, &t);
    SymRange::ite(&r.is_empty(), &empty, &t)
}

/// The `lo == hi >= 32` refinement of `<<` at W64 (`k = lo`, 64 bits):
/// `u` intersected with the low `64 - k` bits of the `u32` range shifted
/// by `k`, `s` with the sign-extended low `64 - k` bits of the `s32` range
/// shifted by `k` (`k` symbolic: one shifter instead of a case per `k`).
fn lsh_exact(a: &SymScalar, k: &BV, u: &SymRange, s: &SymRange) -> (SymRange, SymRange) {
    let kk = lit(64, 64).bvsub(k).extract(31, 0);
    let lowu = truncate_sym(&a.u32_range(), &kk);
    let eu = SymRange {
        min: zext64(&lowu.min).bvshl(k),
        max: zext64(&lowu.max).bvshl(k),
        signed: false,
    };
    let eu = eu.new_checked(eu.min.clone(), eu.max.clone());
    let lows = sext_sym(&a.s32_range(), &kk);
    let es = SymRange {
        min: sext64(&lows.min).bvshl(k),
        max: sext64(&lows.max).bvshl(k),
        signed: true,
    };
    let es = es.new_checked(es.min.clone(), es.max.clone());
    (u.intersect(&eu), s.intersect(&es))
}

/// The components `binop` builds the result of a shift from, before the
/// product (W64) or `zext_parts` (W32, whose `u32r`/`s32r` are unused).
#[derive(Clone, Debug)]
pub struct ShiftParts {
    /// The tnum (W32: its subreg is taken).
    pub t: SymTnum,
    /// The unsigned range at the op's width.
    pub u: SymRange,
    /// The signed range at the op's width.
    pub s: SymRange,
    /// W64: the `u32` range.
    pub u32r: SymRange,
    /// W64: the `s32` range.
    pub s32r: SymRange,
}

/// The [`ShiftParts`] of `op` at `width` for the amounts `set` (non-empty).
pub fn shift_parts(
    op: BinOp,
    width: BitWidth,
    a: &SymScalar,
    set: &BV,
    g: &ShiftGiven,
) -> ShiftParts {
    let (lo, hi) = set_bounds(set);
    let full32 = (SymRange::full(32, false), SymRange::full(32, true));
    let (u, s, u32r, s32r) = match (width, op) {
        (BitWidth::W64, BinOp::Lsh) => {
            let zero32 = (
                SymRange::lit(0, 0, 32, false),
                SymRange::lit(0, 0, 32, true),
            );
            let c32 = lit(32, 64);
            let below = hi.bvult(&c32);
            let above = lo.bvuge(&c32);
            let u32r = SymRange::ite(
                &below,
                &g.u32r,
                &SymRange::ite(&above, &zero32.0, &full32.0),
            );
            let s32r = SymRange::ite(
                &below,
                &g.s32r,
                &SymRange::ite(&above, &zero32.1, &full32.1),
            );
            let special = Bool::and(&[lo.eq(&hi), lo.bvuge(&c32)]);
            let (eu, es) = lsh_exact(a, &lo, &g.u, &g.s);
            let u = SymRange::ite(&special, &eu, &g.u);
            let s = SymRange::ite(&special, &es, &g.s);
            (u, s, u32r, s32r)
        }
        (BitWidth::W64, BinOp::Rsh) => (g.u.clone(), g.s.clone(), full32.0, full32.1),
        (BitWidth::W64, _) => (g.s.flip_sign(), g.s.clone(), full32.0, full32.1),
        (BitWidth::W32, BinOp::Arsh) => (g.s.flip_sign(), g.s.clone(), full32.0, full32.1),
        (BitWidth::W32, _) => (g.u.clone(), g.s.clone(), full32.0, full32.1),
    };
    ShiftParts {
        t: g.t.clone(),
        u,
        s,
        u32r,
        s32r,
    }
}

/// `Scalar::binop(op, width, a, b)` for `op` in lsh, rsh, arsh, from the
/// component results `g` (taken for the amounts of [`shift_set`]) and
/// `folded` (the concrete result on the constants); `None` for other ops.
pub fn shift_glue(
    op: BinOp,
    width: BitWidth,
    a: &SymScalar,
    b: &SymScalar,
    folded: &BV,
    g: &ShiftGiven,
    mode: SyncMode,
) -> Option<SymScalar> {
    if !matches!(op, BinOp::Lsh | BinOp::Rsh | BinOp::Arsh) {
        return None;
    }
    let set = shift_set(b, width);
    let p = shift_parts(op, width, a, &set, g);
    let general = match width {
        BitWidth::W64 => SymScalar::from_parts(p.t, p.u, p.s, p.u32r, p.s32r).sync_with(mode),
        BitWidth::W32 => zext_parts(&p.t.subreg(), p.u, p.s, mode),
    };
    let general = SymScalar::ite(&set.eq(lit(0, 64)), &SymScalar::bottom(), &general);
    let both_const = Bool::and(&[a.is_const(), b.is_const()]);
    let r = SymScalar::ite(&both_const, &SymScalar::constant(folded), &general);
    let any_bottom = Bool::or(&[a.is_bottom(), b.is_bottom()]);
    Some(SymScalar::ite(&any_bottom, &SymScalar::bottom(), &r))
}
