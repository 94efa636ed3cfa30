//! [`IntRange`]: the interval operations of `lattices::interval` whose Rust
//! code divides or multiplies (unsigned `udiv`/`umod`, `mul` of all four
//! range types) over the mathematical integers (Z3 `Int`), with the
//! division, remainder and product left open ([`Arith::Opaque`]) or exact
//! ([`Arith::Exact`]).
//!
//! Why integers: the Rust code computes these bounds in exact arithmetic
//! (`u64`/`u32` quotients of non-negative values, `i128`/`u128` products),
//! which is `div`/`mod`/`*` on integers; bit-blasting 64-bit dividers or
//! multipliers never finishes, while Z3's nonlinear integer arithmetic proves
//! the few facts the bounds rely on (monotonicity of `div` and `*`, bounds
//! of `mod`) in milliseconds. Rust's `u64 / u64` and `u64 % u64` with a
//! non-zero divisor are exactly SMT-LIB's `div`/`mod` on non-negative
//! integers, and a `w`-bit value is the integer in `[0, 2^w)` (unsigned) or
//! `[-2^(w-1), 2^(w-1))` (signed) it denotes; wrapping is `mod 2^w`.
//!
//! With [`Arith::Opaque`] the three operations are uninterpreted functions:
//! a proof then uses only the facts (lemma instances) it is given about
//! them, each proved separately for the exact operations
//! (`prove_domains::interval_divmod_query`, `interval_mul_query`).

use z3::ast::{Ast, Bool, Int};
use z3::{FuncDecl, Sort};

/// How `div`, `mod` and `*` are interpreted.
pub enum Arith {
    /// Z3's integer `div`, `mod` and `*` (for the lemmas and the
    /// differential tests).
    Exact,
    /// Uninterpreted functions `udiv`, `umod`, `mul` of two integers.
    Opaque {
        /// Stands for the quotient.
        div: FuncDecl,
        /// Stands for the remainder.
        rem: FuncDecl,
        /// Stands for the product.
        mul: FuncDecl,
        /// Stands for the truncating (signed) quotient.
        tdiv: FuncDecl,
        /// Stands for the truncating (signed) remainder.
        trem: FuncDecl,
        /// If set, stand for [`IntRange::wrap`] and the band index (the
        /// quotient by `2^w` in `from_exact`) of the one range type of the
        /// proof; else those are exact.
        band: Option<(FuncDecl, FuncDecl)>,
    },
}

impl Arith {
    /// Fresh uninterpreted `div`, `mod`, `mul` (named `<prefix>.div`, ...).
    pub fn opaque(prefix: &str) -> Arith {
        let i = Sort::int();
        let f = |n: &str| FuncDecl::new(format!("{prefix}.{n}"), &[&i, &i], &i);
        Arith::Opaque {
            div: f("div"),
            rem: f("rem"),
            mul: f("mul"),
            tdiv: f("tdiv"),
            trem: f("trem"),
            band: None,
        }
    }

    /// [`Arith::opaque`] with wrapping and the band index uninterpreted too
    /// (`<prefix>.wrap`, `<prefix>.band`, one argument each).
    pub fn opaque_wrapping(prefix: &str) -> Arith {
        let i = Sort::int();
        let g = |n: &str| FuncDecl::new(format!("{prefix}.{n}"), &[&i], &i);
        match Arith::opaque(prefix) {
            Arith::Opaque { div, rem, mul, tdiv, trem, .. } => Arith::Opaque {
                div,
                rem,
                mul,
                tdiv,
                trem,
                band: Some((g("wrap"), g("band"))),
            },
            exact => exact,
        }
    }

    /// The uninterpreted wrap and band index, if any.
    fn band_fns(&self) -> Option<&(FuncDecl, FuncDecl)> {
        match self {
            Arith::Opaque { band, .. } => band.as_ref(),
            Arith::Exact => None,
        }
    }

    fn apply(f: &FuncDecl, a: &Int, b: &Int) -> Int {
        // an Int-valued function applied to two Ints is an Int term; the
        // fallback is never taken
        f.apply(&[a, b]).as_int().unwrap_or_else(|| Int::from_i64(0))
    }

    /// `a div b` (meaningful for `b > 0`).
    pub fn div(&self, a: &Int, b: &Int) -> Int {
        match self {
            Arith::Exact => a.div(b),
            Arith::Opaque { div, .. } => Arith::apply(div, a, b),
        }
    }

    /// `a mod b` (meaningful for `b > 0`).
    pub fn rem(&self, a: &Int, b: &Int) -> Int {
        match self {
            Arith::Exact => a.modulo(b),
            Arith::Opaque { rem, .. } => Arith::apply(rem, a, b),
        }
    }

    /// `a / b` rounded toward zero (Rust's `i128 /`; meaningful for `b != 0`):
    /// `a div b` for `a >= 0`, `-((-a) div b)` otherwise.
    pub fn tdiv(&self, a: &Int, b: &Int) -> Int {
        match self {
            Arith::Exact => {
                let neg = a.unary_minus().div(b).unary_minus();
                a.ge(Int::from_i64(0)).ite(&a.div(b), &neg)
            }
            Arith::Opaque { tdiv, .. } => Arith::apply(tdiv, a, b),
        }
    }

    /// The remainder of [`Arith::tdiv`] (Rust's `%`, sign of `a`; meaningful
    /// for `b != 0`): `a mod b` for `a >= 0`, `-((-a) mod b)` otherwise.
    pub fn trem(&self, a: &Int, b: &Int) -> Int {
        match self {
            Arith::Exact => {
                let neg = a.unary_minus().modulo(b).unary_minus();
                a.ge(Int::from_i64(0)).ite(&a.modulo(b), &neg)
            }
            Arith::Opaque { trem, .. } => Arith::apply(trem, a, b),
        }
    }

    /// `a * b`.
    pub fn mul(&self, a: &Int, b: &Int) -> Int {
        match self {
            Arith::Exact => Int::mul(&[a, b]),
            Arith::Opaque { mul, .. } => Arith::apply(mul, a, b),
        }
    }
}

/// `2^k` as an integer.
pub fn pow2(k: u32) -> Int {
    Int::from_u128(1u128 << k)
}

/// `min(a, b)`.
pub fn imin(a: &Int, b: &Int) -> Int {
    a.le(b).ite(a, b)
}

/// `max(a, b)`.
pub fn imax(a: &Int, b: &Int) -> Int {
    a.ge(b).ite(a, b)
}

/// A symbolic interval `[min, max]` of integers at `w` bits; `signed`
/// says which values a bound may take.
#[derive(Clone, Debug)]
pub struct IntRange {
    /// Lower bound.
    pub min: Int,
    /// Upper bound.
    pub max: Int,
    /// Bit width (32 or 64).
    pub w: u32,
    /// Signed (`S64Range`, `S32Range`) or unsigned.
    pub signed: bool,
}

impl IntRange {
    /// Two fresh integers `name.min`, `name.max`.
    pub fn fresh(name: &str, w: u32, signed: bool) -> IntRange {
        IntRange {
            min: Int::new_const(format!("{name}.min")),
            max: Int::new_const(format!("{name}.max")),
            w,
            signed,
        }
    }

    /// The range with the given bounds.
    pub fn lit(min: i128, max: i128, w: u32, signed: bool) -> IntRange {
        IntRange {
            min: Int::from_i128(min),
            max: Int::from_i128(max),
            w,
            signed,
        }
    }

    fn mk(&self, min: Int, max: Int) -> IntRange {
        IntRange {
            min,
            max,
            w: self.w,
            signed: self.signed,
        }
    }

    /// Smallest value of the type.
    pub fn lowest(&self) -> Int {
        if self.signed {
            pow2(self.w - 1).unary_minus()
        } else {
            Int::from_i64(0)
        }
    }

    /// Largest value of the type.
    pub fn highest(&self) -> Int {
        if self.signed {
            Int::sub(&[pow2(self.w - 1), Int::from_i64(1)])
        } else {
            Int::sub(&[pow2(self.w), Int::from_i64(1)])
        }
    }

    /// `v` is a value of the type.
    pub fn valid(&self, v: &Int) -> Bool {
        Bool::and(&[self.lowest().le(v), v.le(self.highest())])
    }

    /// Both bounds are values of the type.
    pub fn well_formed(&self) -> Bool {
        Bool::and(&[self.valid(&self.min), self.valid(&self.max)])
    }

    /// The canonical empty range (`min` the largest, `max` the smallest value).
    pub fn empty(&self) -> IntRange {
        self.mk(self.highest(), self.lowest())
    }

    /// Every value.
    pub fn full(&self) -> IntRange {
        self.mk(self.lowest(), self.highest())
    }

    /// `min > max`.
    pub fn is_empty(&self) -> Bool {
        self.min.gt(&self.max)
    }

    /// `min <= v <= max`.
    pub fn has(&self, v: &Int) -> Bool {
        Bool::and(&[self.min.le(v), v.le(&self.max)])
    }

    /// `if c { a } else { b }`.
    pub fn ite(c: &Bool, a: &IntRange, b: &IntRange) -> IntRange {
        a.mk(c.ite(&a.min, &b.min), c.ite(&a.max, &b.max))
    }

    fn guard_empty(&self, o: &IntRange, r: IntRange) -> IntRange {
        let e = Bool::or(&[self.is_empty(), o.is_empty()]);
        IntRange::ite(&e, &self.empty(), &r)
    }

    /// `v` wrapped into the type (`mod 2^w`, shifted by `2^(w-1)` when signed).
    pub fn wrap(&self, v: &Int) -> Int {
        let k = pow2(self.w);
        if self.signed {
            let half = pow2(self.w - 1);
            Int::sub(&[Int::add(&[v, &half]).modulo(&k), half])
        } else {
            v.modulo(&k)
        }
    }

    /// The index of the `2^w` band of `v`: `v div 2^w` (unsigned),
    /// `(v + 2^(w-1)) div 2^w` (signed).
    pub fn band(&self, v: &Int) -> Int {
        let k = pow2(self.w);
        if self.signed {
            Int::add(&[v, &pow2(self.w - 1)]).div(&k)
        } else {
            v.div(&k)
        }
    }

    /// [`IntRange::wrap`], uninterpreted if `ar` says so.
    pub fn wrap_in(&self, v: &Int, ar: &Arith) -> Int {
        match ar.band_fns() {
            Some((wrap, _)) => wrap.apply(&[v]).as_int().unwrap_or_else(|| Int::from_i64(0)),
            None => self.wrap(v),
        }
    }

    /// [`IntRange::band`], uninterpreted if `ar` says so.
    pub fn band_in(&self, v: &Int, ar: &Arith) -> Int {
        match ar.band_fns() {
            Some((_, band)) => band.apply(&[v]).as_int().unwrap_or_else(|| Int::from_i64(0)),
            None => self.band(v),
        }
    }

    /// `from_exact(lo, hi)`: `band_u`/`band_u128` (unsigned) or `band_s`
    /// (signed): the wrapped range when `[lo, hi]` lies in one `2^w` band,
    /// else the full range (`from_band(None)`).
    pub fn from_exact(&self, lo: &Int, hi: &Int, ar: &Arith) -> IntRange {
        let in_band = Bool::and(&[lo.le(hi), self.band_in(lo, ar).eq(&self.band_in(hi, ar))]);
        let wrapped = self.mk(self.wrap_in(lo, ar), self.wrap_in(hi, ar));
        IntRange::ite(&in_band, &wrapped, &self.full())
    }

    /// Unsigned `udiv` (`x / 0 = 0`): `[a.min / b.max, a.max / max(b.min, 1)]`,
    /// from 0 if `0` is in `b`, `{0}` if `b` is `{0}`.
    pub fn udiv(&self, o: &IntRange, ar: &Arith) -> IntRange {
        let (zero, one) = (Int::from_i64(0), Int::from_i64(1));
        let b_min_zero = o.min.eq(&zero);
        let dlo = b_min_zero.ite(&one, &o.min);
        let r = self.mk(ar.div(&self.min, &o.max), ar.div(&self.max, &dlo));
        let r = IntRange::ite(&b_min_zero, &self.mk(zero.clone(), r.max.clone()), &r);
        let r = IntRange::ite(&o.max.eq(&zero), &self.mk(zero.clone(), zero), &r);
        self.guard_empty(o, r)
    }

    /// Unsigned `umod` (`x % 0 = x`): `a` if `a.max` is below every
    /// divisor, else `[0, min(a.max, b.max - 1)]`; joined with `a` if `0`
    /// is in `b`; `a` if `b` is `{0}`.
    pub fn umod(&self, o: &IntRange) -> IntRange {
        let (zero, one) = (Int::from_i64(0), Int::from_i64(1));
        let b_min_zero = o.min.eq(&zero);
        let dlo = b_min_zero.ite(&one, &o.min);
        let r = IntRange::ite(
            &self.max.lt(&dlo),
            self,
            &self.mk(zero.clone(), imin(&self.max, &Int::sub(&[&o.max, &one]))),
        );
        // hull of two non-empty ranges
        let hull = self.mk(imin(&r.min, &self.min), imax(&r.max, &self.max));
        let r = IntRange::ite(&b_min_zero, &hull, &r);
        let r = IntRange::ite(&o.max.eq(&zero), self, &r);
        self.guard_empty(o, r)
    }

    /// `mul`: unsigned `band_u128(a.min * b.min, a.max * b.max)`; signed
    /// `from_exact` of the least and the greatest of the four corner products.
    pub fn mul(&self, o: &IntRange, ar: &Arith) -> IntRange {
        let (lo, hi) = if self.signed {
            let c = [
                ar.mul(&self.min, &o.min),
                ar.mul(&self.min, &o.max),
                ar.mul(&self.max, &o.min),
                ar.mul(&self.max, &o.max),
            ];
            let lo = imin(&imin(&c[0], &c[1]), &imin(&c[2], &c[3]));
            let hi = imax(&imax(&c[0], &c[1]), &imax(&c[2], &c[3]));
            (lo, hi)
        } else {
            (ar.mul(&self.min, &o.min), ar.mul(&self.max, &o.max))
        };
        self.guard_empty(o, self.from_exact(&lo, &hi, ar))
    }

    /// `hull`: the other range if one is empty, else `[min of the mins,
    /// max of the maxes]`.
    pub fn hull(&self, o: &IntRange) -> IntRange {
        let both = self.mk(imin(&self.min, &o.min), imax(&self.max, &o.max));
        IntRange::ite(&self.is_empty(), o, &IntRange::ite(&o.is_empty(), self, &both))
    }

    /// `div_corners`: least and greatest truncated quotient of the corners
    /// `a.min`, `a.max` by `dlo`, `dhi`.
    pub fn div_corners(&self, dlo: &Int, dhi: &Int, ar: &Arith) -> (Int, Int) {
        let c = [
            ar.tdiv(&self.min, dlo),
            ar.tdiv(&self.min, dhi),
            ar.tdiv(&self.max, dlo),
            ar.tdiv(&self.max, dhi),
        ];
        let lo = imin(&imin(&imin(&c[0], &c[1]), &c[2]), &c[3]);
        let hi = imax(&imax(&imax(&c[0], &c[1]), &c[2]), &c[3]);
        (lo, hi)
    }

    /// Signed `sdiv` (`x / 0 = 0`, `MIN / -1 = MIN`): the hull of the
    /// wrapped corner quotients over the negative divisors, over the
    /// positive ones, and `{0}` if `0` is a divisor.
    pub fn sdiv(&self, o: &IntRange, ar: &Arith) -> IntRange {
        let (zero, one, m1) = (Int::from_i64(0), Int::from_i64(1), Int::from_i64(-1));
        let r = self.empty();
        let (lo, hi) = self.div_corners(&o.min, &imin(&o.max, &m1), ar);
        let r = IntRange::ite(&o.min.le(&m1), &r.hull(&self.from_exact(&lo, &hi, ar)), &r);
        let (lo, hi) = self.div_corners(&imax(&o.min, &one), &o.max, ar);
        let r = IntRange::ite(&o.max.ge(&one), &r.hull(&self.from_exact(&lo, &hi, ar)), &r);
        let r = IntRange::ite(&o.has(&zero), &r.hull(&self.mk(zero.clone(), zero.clone())), &r);
        self.guard_empty(o, r)
    }

    /// Signed `smod` (`x % 0 = x`, `MIN % -1 = 0`): with `mag_min`,
    /// `mag_max` the least and greatest magnitude of a non-zero divisor,
    /// `a` itself if `|x| < mag_min` for all x in a, else `[max(a.min,
    /// -(mag_max - 1)) or 0, min(a.max, mag_max - 1) or 0]` (by the signs of
    /// `a.min`, `a.max`); joined with `a` if `0` is a divisor.
    pub fn smod(&self, o: &IntRange, ar: &Arith) -> IntRange {
        let (zero, one, m1) = (Int::from_i64(0), Int::from_i64(1), Int::from_i64(-1));
        let neg = o.min.le(&m1);
        let pos = o.max.ge(&one);
        // i128::MAX
        let big = Int::from_i128(i128::MAX);
        let (mag_max, mag_min) = (zero.clone(), big);
        let (na, nb) = (o.min.unary_minus(), imin(&o.max, &m1).unary_minus());
        let (mag_max, mag_min) = (
            neg.ite(&imax(&mag_max, &na), &mag_max),
            neg.ite(&imin(&mag_min, &nb), &mag_min),
        );
        let (pa, pb) = (o.max.clone(), imax(&o.min, &one));
        let (mag_max, mag_min) = (
            pos.ite(&imax(&mag_max, &pa), &mag_max),
            pos.ite(&imin(&mag_min, &pb), &mag_min),
        );
        let inside = Bool::and(&[self.min.gt(mag_min.unary_minus()), self.max.lt(&mag_min)]);
        let m = Int::sub(&[&mag_max, &one]);
        let lo = self.min.lt(&zero).ite(&imax(&self.min, &m.unary_minus()), &zero);
        let hi = self.max.gt(&zero).ite(&imin(&self.max, &m), &zero);
        let bounded = IntRange::ite(&inside, self, &self.from_exact(&lo, &hi, ar));
        let r = IntRange::ite(&mag_max.gt(&zero), &bounded, &self.empty());
        let r = IntRange::ite(&o.has(&zero), &r.hull(self), &r);
        self.guard_empty(o, r)
    }

    /// The bounds of a fully constant range (after simplification), as
    /// `w`-bit patterns.
    pub fn eval(&self) -> Option<(u64, u64)> {
        let m = if self.w >= 64 { u64::MAX } else { (1u64 << self.w) - 1 };
        let v = |x: &Int| x.simplify().as_i128().map(|v| (v as u64) & m);
        Some((v(&self.min)?, v(&self.max)?))
    }
}

/// eBPF's signed `x s/ y` on the range's type (`x / 0 = 0`, `MIN / -1 =
/// MIN` by wrapping).
pub fn concrete_sdiv(r: &IntRange, x: &Int, y: &Int, ar: &Arith) -> Int {
    y.eq(Int::from_i64(0)).ite(&Int::from_i64(0), &r.wrap_in(&ar.tdiv(x, y), ar))
}

/// eBPF's signed `x s% y` (`x % 0 = x`; `MIN % -1 = 0` needs no wrapping).
pub fn concrete_smod(x: &Int, y: &Int, ar: &Arith) -> Int {
    y.eq(Int::from_i64(0)).ite(x, &ar.trem(x, y))
}

/// eBPF's unsigned `x / y` (`x / 0 = 0`).
pub fn concrete_udiv(x: &Int, y: &Int, ar: &Arith) -> Int {
    y.eq(Int::from_i64(0)).ite(&Int::from_i64(0), &ar.div(x, y))
}

/// eBPF's unsigned `x % y` (`x % 0 = x`).
pub fn concrete_umod(x: &Int, y: &Int, ar: &Arith) -> Int {
    y.eq(Int::from_i64(0)).ite(x, &ar.rem(x, y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lattices::scalar::eval_binop;
    use lattices::testing::Rng;
    use lattices::{BinOp, BitWidth, S32Range, S64Range, U32Range, U64Range};

    fn rand_u64(rng: &mut Rng) -> u64 {
        match rng.below(4) {
            0 => rng.interesting_u64(),
            1 => rng.below(20),
            2 => rng.next_u64(),
            _ => rng.interesting_u64().wrapping_add(rng.below(5)).wrapping_sub(2),
        }
    }

    /// A range of `w`-bit patterns, ordered as `signed` says (sometimes empty).
    fn rand_pair(rng: &mut Rng, w: u32, signed: bool) -> (u64, u64) {
        let mask = if w == 64 { u64::MAX } else { 0xffff_ffff };
        let (x, y) = (rand_u64(rng) & mask, rand_u64(rng) & mask);
        let key = |v: u64| if signed { (v ^ (1u64 << (w - 1))) & mask } else { v };
        let (lo, hi) = if key(x) <= key(y) { (x, y) } else { (y, x) };
        match rng.below(8) {
            0 => (hi, lo),
            1 => (x, x),
            2 => (0, y & 0xff),
            3 => (0, 0),
            _ => (lo, hi),
        }
    }

    /// The integer a `w`-bit pattern denotes.
    fn int_of(v: u64, w: u32, signed: bool) -> i128 {
        if signed {
            (((v << (64 - w)) as i64) >> (64 - w)) as i128
        } else {
            v as i128
        }
    }

    fn sym(p: (u64, u64), w: u32, signed: bool) -> IntRange {
        IntRange::lit(int_of(p.0, w, signed), int_of(p.1, w, signed), w, signed)
    }

    fn rust(op: BinOp, w: u32, signed: bool, a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
        macro_rules! run {
            ($t:ident, $p:ty, $($f:ident)|+) => {{
                let c = |v: u64| int_of(v, w, signed) as $p;
                let (x, y) = ($t { min: c(a.0), max: c(a.1) }, $t { min: c(b.0), max: c(b.1) });
                let r = match op {
                    $(BinOp::$f => run!(@op $f, x, y),)+
                    _ => $t::EMPTY,
                };
                let m = if w == 64 { u64::MAX } else { 0xffff_ffff };
                (r.min as u64 & m, r.max as u64 & m)
            }};
            (@op Mul, $x:ident, $y:ident) => { $x.mul(&$y) };
            (@op Div, $x:ident, $y:ident) => { $x.udiv(&$y) };
            (@op Mod, $x:ident, $y:ident) => { $x.umod(&$y) };
            (@op SDiv, $x:ident, $y:ident) => { $x.sdiv(&$y) };
            (@op SMod, $x:ident, $y:ident) => { $x.smod(&$y) };
        }
        match (w, signed) {
            (64, false) => run!(U64Range, u64, Mul | Div | Mod),
            (64, true) => run!(S64Range, i64, Mul | SDiv | SMod),
            (_, false) => run!(U32Range, u32, Mul | Div | Mod),
            (_, true) => run!(S32Range, i32, Mul | SDiv | SMod),
        }
    }

    #[test]
    fn udiv_umod_mul_match_rust() {
        let mut rng = Rng::new(0x1a7);
        for (w, signed) in [(64, false), (32, false), (64, true), (32, true)] {
            for i in 0..300 {
                let (a, b) = (rand_pair(&mut rng, w, signed), rand_pair(&mut rng, w, signed));
                let (sa, sb) = (sym(a, w, signed), sym(b, w, signed));
                let ar = Arith::Exact;
                assert_eq!(
                    sa.mul(&sb, &ar).eval(),
                    Some(rust(BinOp::Mul, w, signed, a, b)),
                    "w{w} signed={signed} {i} {a:x?} * {b:x?}"
                );
                if signed {
                    assert_eq!(sa.sdiv(&sb, &ar).eval(), Some(rust(BinOp::SDiv, w, true, a, b)), "w{w} {i} {a:x?} s/ {b:x?}");
                    assert_eq!(sa.smod(&sb, &ar).eval(), Some(rust(BinOp::SMod, w, true, a, b)), "w{w} {i} {a:x?} s% {b:x?}");
                } else {
                    assert_eq!(sa.udiv(&sb, &ar).eval(), Some(rust(BinOp::Div, w, false, a, b)), "w{w} {i} {a:x?} / {b:x?}");
                    assert_eq!(sa.umod(&sb).eval(), Some(rust(BinOp::Mod, w, false, a, b)), "w{w} {i} {a:x?} % {b:x?}");
                }
            }
        }
    }

    #[test]
    fn concrete_ops_match_eval_binop() {
        let mut rng = Rng::new(0x1a8);
        // MIN / -1 and MIN % -1 at both widths, division by 0, negative operands
        let mut pairs = vec![
            (1u64 << 63, u64::MAX),
            (0x8000_0000, 0xffff_ffff),
            (7, 0),
            (u64::MAX - 6, 2),
            (7, u64::MAX - 1),
            (0xffff_fff9, 0xffff_fffe),
        ];
        for _ in 0..300 {
            pairs.push((rand_u64(&mut rng), rand_u64(&mut rng) >> rng.below(64)));
        }
        for (x, y) in pairs {
            let (ix, iy) = (Int::from_u64(x), Int::from_u64(y));
            let ar = Arith::Exact;
            let d = concrete_udiv(&ix, &iy, &ar).simplify().as_u64();
            let m = concrete_umod(&ix, &iy, &ar).simplify().as_u64();
            assert_eq!(d, Some(eval_binop(BinOp::Div, BitWidth::W64, x, y)), "{x:#x} / {y:#x}");
            assert_eq!(m, Some(eval_binop(BinOp::Mod, BitWidth::W64, x, y)), "{x:#x} % {y:#x}");
            // wrapped products, unsigned and signed, at both widths; signed div/mod
            for (w, signed) in [(64, false), (32, false), (64, true), (32, true)] {
                let r = IntRange::lit(0, 0, w, signed);
                let (px, py) = (int_of(x, w, signed), int_of(y, w, signed));
                let mask = if w == 64 { u64::MAX } else { 0xffff_ffff };
                let width = if w == 64 { BitWidth::W64 } else { BitWidth::W32 };
                if signed {
                    let (ix, iy) = (Int::from_i128(px), Int::from_i128(py));
                    let bits = |v: Int| v.simplify().as_i128().map(|v| v as u64 & mask);
                    assert_eq!(bits(concrete_sdiv(&r, &ix, &iy, &ar)), Some(eval_binop(BinOp::SDiv, width, x, y) & mask), "{x:#x} s/ {y:#x} w{w}");
                    assert_eq!(bits(concrete_smod(&ix, &iy, &ar)), Some(eval_binop(BinOp::SMod, width, x, y) & mask), "{x:#x} s% {y:#x} w{w}");
                }
                let p = r.wrap(&Int::mul(&[Int::from_i128(px), Int::from_i128(py)]));
                let got = p.simplify().as_i128().map(|v| v as u64 & mask);
                assert_eq!(got, Some(eval_binop(BinOp::Mul, width, x, y) & mask), "{x:#x} * {y:#x} w{w}");
            }
        }
    }

    #[test]
    fn opaque_operations_are_not_folded() {
        let ar = Arith::opaque("t");
        let q = ar.div(&Int::from_i64(7), &Int::from_i64(2));
        assert_eq!(q.simplify().as_i64(), None);
        assert_eq!(Arith::Exact.div(&Int::from_i64(7), &Int::from_i64(2)).simplify().as_i64(), Some(3));
    }
}
