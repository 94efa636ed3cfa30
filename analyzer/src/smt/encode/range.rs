//! [`SymRange`]: the interval operations of `lattices::interval` (add, sub,
//! and, or, xor, neg, truncate, sext, unsigned div and mod) as
//! bit-vector terms, for the unsigned and signed ranges at 32 and 64 bits.
//!
//! The Rust code computes exact bounds in `i128` and keeps them when both
//! fall into one `2^N` band (`band_u`/`band_s`); here the exact bounds are
//! `N + 2`-bit signed vectors (wide enough for the sum or difference of two
//! `N`-bit numbers of either signedness), the band test is an arithmetic
//! right shift by `N` (= `div_euclid(2^N)`), and the wrapped bound is the
//! low `N` bits (= `rem_euclid`, also for `band_s`, whose `+ half ... - half`
//! cancels modulo `2^N`).

use super::{lit, smax, smear, smin, umax, umin};
use z3::ast::{Bool, BV};

/// A symbolic interval `[min, max]`; `signed` says which order applies.
#[derive(Clone, Debug)]
pub struct SymRange {
    /// Lower bound.
    pub min: BV,
    /// Upper bound.
    pub max: BV,
    /// Signed (`S64Range`, `S32Range`) or unsigned order.
    pub signed: bool,
}

impl SymRange {
    /// Two fresh `w`-bit variables `name.min`, `name.max`.
    pub fn fresh(name: &str, w: u32, signed: bool) -> SymRange {
        SymRange {
            min: BV::new_const(format!("{name}.min"), w),
            max: BV::new_const(format!("{name}.max"), w),
            signed,
        }
    }

    /// The range with the given (bit patterns of the) bounds.
    pub fn lit(min: u64, max: u64, w: u32, signed: bool) -> SymRange {
        SymRange {
            min: lit(min, w),
            max: lit(max, w),
            signed,
        }
    }

    fn mk(&self, min: BV, max: BV) -> SymRange {
        SymRange {
            min,
            max,
            signed: self.signed,
        }
    }

    /// Bit width.
    pub fn width(&self) -> u32 {
        self.min.get_size()
    }

    /// `a <= b` in this range's order.
    fn le(&self, a: &BV, b: &BV) -> Bool {
        if self.signed {
            a.bvsle(b)
        } else {
            a.bvule(b)
        }
    }

    fn lo_of(&self, a: &BV, b: &BV) -> BV {
        if self.signed {
            smin(a, b)
        } else {
            umin(a, b)
        }
    }

    fn hi_of(&self, a: &BV, b: &BV) -> BV {
        if self.signed {
            smax(a, b)
        } else {
            umax(a, b)
        }
    }

    /// `c ? a : b`.
    pub fn ite(c: &Bool, a: &SymRange, b: &SymRange) -> SymRange {
        SymRange {
            min: c.ite(&a.min, &b.min),
            max: c.ite(&a.max, &b.max),
            signed: a.signed,
        }
    }

    /// The canonical `EMPTY`.
    pub fn empty(w: u32, signed: bool) -> SymRange {
        if signed {
            let smax = (1u64 << (w - 1)) - 1;
            SymRange::lit(smax, smax + 1, w, true)
        } else {
            SymRange::lit(u64::MAX, 0, w, false)
        }
    }

    /// `FULL`.
    pub fn full(w: u32, signed: bool) -> SymRange {
        if signed {
            let smax = (1u64 << (w - 1)) - 1;
            SymRange::lit(smax + 1, smax, w, true)
        } else {
            SymRange::lit(0, u64::MAX, w, false)
        }
    }

    /// `is_empty`: `min > max`.
    pub fn is_empty(&self) -> Bool {
        self.le(&self.min, &self.max).not()
    }

    /// `has(x)`: `min <= x <= max`.
    pub fn has(&self, x: &BV) -> Bool {
        Bool::and(&[self.le(&self.min, x), self.le(x, &self.max)])
    }

    /// `as_const().is_some()`.
    fn is_const(&self) -> Bool {
        self.min.eq(&self.max)
    }

    /// `new(min, max)`: `EMPTY` when `min > max`.
    pub fn new_checked(&self, min: BV, max: BV) -> SymRange {
        let r = self.mk(min, max);
        SymRange::ite(
            &r.is_empty(),
            &SymRange::empty(self.width(), self.signed),
            &r,
        )
    }

    /// `intersect`.
    pub fn intersect(&self, o: &SymRange) -> SymRange {
        self.new_checked(self.hi_of(&self.min, &o.min), self.lo_of(&self.max, &o.max))
    }

    /// `to_signed` (unsigned input) / `to_unsigned` (signed input).
    pub fn flip_sign(&self) -> SymRange {
        let w = self.width();
        let other = SymRange {
            min: self.min.clone(),
            max: self.max.clone(),
            signed: !self.signed,
        };
        let fits = other.le(&self.min, &self.max);
        SymRange::ite(
            &self.is_empty(),
            &SymRange::empty(w, !self.signed),
            &SymRange::ite(&fits, &other, &SymRange::full(w, !self.signed)),
        )
    }

    /// Extend a bound to `w + 2` bits by this range's signedness.
    fn wide(&self, x: &BV) -> BV {
        if self.signed {
            x.sign_ext(2)
        } else {
            x.zero_ext(2)
        }
    }

    /// `from_band(band_u/band_s(lo, hi, N))` for exact `N + 2`-bit bounds.
    fn wrap_exact(&self, lo: &BV, hi: &BV) -> SymRange {
        let w = self.width();
        let ww = w + 2;
        let shift = lit(w as u64, ww);
        let (blo, bhi) = if self.signed {
            let half = lit(1u64 << (w - 1), ww);
            (
                lo.bvadd(&half).bvashr(&shift),
                hi.bvadd(&half).bvashr(&shift),
            )
        } else {
            (lo.bvashr(&shift), hi.bvashr(&shift))
        };
        let in_band = Bool::and(&[lo.bvsle(hi), blo.eq(&bhi)]);
        let r = self.mk(lo.extract(w - 1, 0), hi.extract(w - 1, 0));
        SymRange::ite(&in_band, &r, &SymRange::full(w, self.signed))
    }

    fn guard_empty(&self, o: &SymRange, r: SymRange) -> SymRange {
        let e = Bool::or(&[self.is_empty(), o.is_empty()]);
        SymRange::ite(&e, &SymRange::empty(self.width(), self.signed), &r)
    }

    /// `add`: exact sum range if it stays in one band.
    pub fn add(&self, o: &SymRange) -> SymRange {
        let lo = self.wide(&self.min).bvadd(o.wide(&o.min));
        let hi = self.wide(&self.max).bvadd(o.wide(&o.max));
        self.guard_empty(o, self.wrap_exact(&lo, &hi))
    }

    /// `sub`: `[a.min - b.max, a.max - b.min]` if in one band.
    pub fn sub(&self, o: &SymRange) -> SymRange {
        let lo = self.wide(&self.min).bvsub(o.wide(&o.max));
        let hi = self.wide(&self.max).bvsub(o.wide(&o.min));
        self.guard_empty(o, self.wrap_exact(&lo, &hi))
    }

    /// `neg`: unsigned `[-max, -min]` (`{0}` when `max == 0`, `FULL` when
    /// `min == 0 < max`); signed `from_exact(-max, -min)`.
    pub fn neg(&self) -> SymRange {
        let w = self.width();
        let r = if self.signed {
            let z = lit(0, w + 2);
            self.wrap_exact(&z.bvsub(self.wide(&self.max)), &z.bvsub(self.wide(&self.min)))
        } else {
            let zero = lit(0, w);
            SymRange::ite(
                &self.max.eq(&zero),
                &self.mk(zero.clone(), zero.clone()),
                &SymRange::ite(
                    &self.min.eq(&zero),
                    &SymRange::full(w, false),
                    &self.mk(self.max.bvneg(), self.min.bvneg()),
                ),
            )
        };
        SymRange::ite(&self.is_empty(), &SymRange::empty(w, self.signed), &r)
    }

    /// Unsigned `truncate(k)`: `{x mod 2^k}`, exact when `x >> k` is the
    /// same for both bounds, else `[0, 2^k - 1]`; the identity for `k >= N`.
    pub fn truncate(&self, k: u32) -> SymRange {
        let w = self.width();
        let empty = SymRange::empty(w, self.signed);
        if k >= w {
            return SymRange::ite(&self.is_empty(), &empty, self);
        }
        let m = lit((1u64 << k) - 1, w);
        let sh = lit(k as u64, w);
        let same = self.min.bvlshr(&sh).eq(self.max.bvlshr(&sh));
        let r = SymRange::ite(
            &same,
            &self.mk(self.min.bvand(&m), self.max.bvand(&m)),
            &self.mk(lit(0, w), m.clone()),
        );
        SymRange::ite(&self.is_empty(), &empty, &r)
    }

    /// `sext(k)`: the values' low `k` bits sign-extended. Signed: exact
    /// bounds from the truncated unsigned view unless it straddles the
    /// sign bit of `k` bits (then `[-2^(k-1), 2^(k-1) - 1]`); unsigned: via
    /// the signed view. The identity for `k == 0` or `k >= N`.
    pub fn sext(&self, k: u32) -> SymRange {
        let w = self.width();
        if !self.signed {
            return self.flip_sign().sext(k).flip_sign();
        }
        let empty = SymRange::empty(w, true);
        if k >= w || k == 0 {
            return SymRange::ite(&self.is_empty(), &empty, self);
        }
        let low = self.flip_sign().truncate(k);
        let half = lit(1u64 << (k - 1), w);
        let straddles = Bool::and(&[low.min.bvult(&half), low.max.bvuge(&half)]);
        let sx = |v: &BV| v.extract(k - 1, 0).sign_ext(w - k);
        let r = SymRange::ite(
            &straddles,
            &self.mk(half.bvneg(), half.bvsub(lit(1, w))),
            &self.mk(sx(&low.min), sx(&low.max)),
        );
        SymRange::ite(&self.is_empty(), &empty, &r)
    }

    /// Unsigned `udiv` (`x / 0 = 0`): `[a.min / b.max, a.max / max(b.min, 1)]`,
    /// from 0 if `0` is in `b`, `{0}` if `b` is `{0}`.
    pub fn udiv(&self, o: &SymRange) -> SymRange {
        let w = self.width();
        let (zero, one) = (lit(0, w), lit(1, w));
        let b_min_zero = o.min.eq(&zero);
        let dlo = b_min_zero.ite(&one, &o.min);
        let r = self.mk(self.min.bvudiv(&o.max), self.max.bvudiv(&dlo));
        let r = SymRange::ite(&b_min_zero, &self.mk(zero.clone(), r.max.clone()), &r);
        let r = SymRange::ite(&o.max.eq(&zero), &self.mk(zero.clone(), zero), &r);
        self.guard_empty(o, r)
    }

    /// Unsigned `umod` (`x % 0 = x`): `a` if `a.max` is below every
    /// divisor, else `[0, min(a.max, b.max - 1)]`; joined with `a` if `0`
    /// is in `b`; `a` if `b` is `{0}`.
    pub fn umod(&self, o: &SymRange) -> SymRange {
        let w = self.width();
        let (zero, one) = (lit(0, w), lit(1, w));
        let b_min_zero = o.min.eq(&zero);
        let dlo = b_min_zero.ite(&one, &o.min);
        let r = SymRange::ite(
            &self.max.bvult(&dlo),
            self,
            &self.mk(zero.clone(), umin(&self.max, &o.max.bvsub(&one))),
        );
        // hull of two non-empty ranges
        let hull = self.mk(umin(&r.min, &self.min), umax(&r.max, &self.max));
        let r = SymRange::ite(&b_min_zero, &hull, &r);
        let r = SymRange::ite(&o.max.eq(&zero), self, &r);
        self.guard_empty(o, r)
    }

    /// Unsigned `and`.
    fn uand(&self, o: &SymRange) -> SymRange {
        let w = self.width();
        let both = Bool::and(&[self.is_const(), o.is_const()]);
        let c = self.min.bvand(&o.min);
        let r = SymRange::ite(
            &both,
            &self.mk(c.clone(), c),
            &self.mk(lit(0, w), umin(&self.max, &o.max)),
        );
        self.guard_empty(o, r)
    }

    /// Unsigned `or`.
    fn uor(&self, o: &SymRange) -> SymRange {
        let both = Bool::and(&[self.is_const(), o.is_const()]);
        let c = self.min.bvor(&o.min);
        let r = SymRange::ite(
            &both,
            &self.mk(c.clone(), c),
            &self.mk(umax(&self.min, &o.min), smear(&self.max.bvor(&o.max))),
        );
        self.guard_empty(o, r)
    }

    /// Unsigned `xor`.
    fn uxor(&self, o: &SymRange) -> SymRange {
        let w = self.width();
        let both = Bool::and(&[self.is_const(), o.is_const()]);
        let c = self.min.bvxor(&o.min);
        let r = SymRange::ite(
            &both,
            &self.mk(c.clone(), c),
            &self.mk(lit(0, w), smear(&self.max.bvor(&o.max))),
        );
        self.guard_empty(o, r)
    }

    /// `and` (signed: via the unsigned view, then the sign facts).
    pub fn and(&self, o: &SymRange) -> SymRange {
        if !self.signed {
            return self.uand(o);
        }
        let w = self.width();
        let zero = lit(0, w);
        let mut r = self.flip_sign().uand(&o.flip_sign()).flip_sign();
        let c = self.min.bvsge(&zero);
        r = SymRange::ite(
            &c,
            &r.intersect(&self.mk(zero.clone(), self.max.clone())),
            &r,
        );
        let c = o.min.bvsge(&zero);
        r = SymRange::ite(&c, &r.intersect(&self.mk(zero.clone(), o.max.clone())), &r);
        let c = Bool::and(&[self.max.bvslt(&zero), o.max.bvslt(&zero)]);
        let smin_w = lit(1u64 << (w - 1), w);
        r = SymRange::ite(
            &c,
            &r.intersect(&self.mk(smin_w, smin(&self.max, &o.max))),
            &r,
        );
        self.guard_empty(o, r)
    }

    /// `or` (signed: via the unsigned view; negative if either operand is).
    pub fn or(&self, o: &SymRange) -> SymRange {
        if !self.signed {
            return self.uor(o);
        }
        let w = self.width();
        let zero = lit(0, w);
        let m1 = lit(u64::MAX, w);
        let mut r = self.flip_sign().uor(&o.flip_sign()).flip_sign();
        let c = self.max.bvslt(&zero);
        r = SymRange::ite(&c, &r.intersect(&self.mk(self.min.clone(), m1.clone())), &r);
        let c = o.max.bvslt(&zero);
        r = SymRange::ite(&c, &r.intersect(&self.mk(o.min.clone(), m1)), &r);
        self.guard_empty(o, r)
    }

    /// `xor` (signed: via the unsigned view).
    pub fn xor(&self, o: &SymRange) -> SymRange {
        if !self.signed {
            return self.uxor(o);
        }
        let r = self.flip_sign().uxor(&o.flip_sign()).flip_sign();
        self.guard_empty(o, r)
    }

    /// The concrete bounds (bit patterns), when both fold to constants.
    pub fn eval(&self) -> Option<(u64, u64)> {
        Some((super::value_of(&self.min)?, super::value_of(&self.max)?))
    }
}
