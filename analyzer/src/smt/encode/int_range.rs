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

    /// `from_exact(lo, hi)`: `band_u`/`band_u128` (unsigned) or `band_s`
    /// (signed): the wrapped range when `[lo, hi]` lies in one `2^w` band,
    /// else the full range (`from_band(None)`).
    pub fn from_exact(&self, lo: &Int, hi: &Int) -> IntRange {
        let k = pow2(self.w);
        let (l, h) = if self.signed {
            let half = pow2(self.w - 1);
            (Int::add(&[lo, &half]), Int::add(&[hi, &half]))
        } else {
            (lo.clone(), hi.clone())
        };
        let in_band = Bool::and(&[l.le(&h), l.div(&k).eq(&h.div(&k))]);
        let wrapped = self.mk(self.wrap(lo), self.wrap(hi));
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
        self.guard_empty(o, self.from_exact(&lo, &hi))
    }

    /// The bounds of a fully constant range (after simplification), as
    /// `w`-bit patterns.
    pub fn eval(&self) -> Option<(u64, u64)> {
        let m = if self.w >= 64 { u64::MAX } else { (1u64 << self.w) - 1 };
        let v = |x: &Int| x.simplify().as_i128().map(|v| (v as u64) & m);
        Some((v(&self.min)?, v(&self.max)?))
    }
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
        }
        match (w, signed) {
            (64, false) => run!(U64Range, u64, Mul | Div | Mod),
            (64, true) => run!(S64Range, i64, Mul),
            (_, false) => run!(U32Range, u32, Mul | Div | Mod),
            (_, true) => run!(S32Range, i32, Mul),
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
                if !signed {
                    assert_eq!(sa.udiv(&sb, &ar).eval(), Some(rust(BinOp::Div, w, false, a, b)), "w{w} {i} {a:x?} / {b:x?}");
                    assert_eq!(sa.umod(&sb).eval(), Some(rust(BinOp::Mod, w, false, a, b)), "w{w} {i} {a:x?} % {b:x?}");
                }
            }
        }
    }

    #[test]
    fn concrete_ops_match_eval_binop() {
        let mut rng = Rng::new(0x1a8);
        for _ in 0..300 {
            let (x, y) = (rand_u64(&mut rng), rand_u64(&mut rng) >> rng.below(64));
            let (ix, iy) = (Int::from_u64(x), Int::from_u64(y));
            let ar = Arith::Exact;
            let d = concrete_udiv(&ix, &iy, &ar).simplify().as_u64();
            let m = concrete_umod(&ix, &iy, &ar).simplify().as_u64();
            assert_eq!(d, Some(eval_binop(BinOp::Div, BitWidth::W64, x, y)), "{x:#x} / {y:#x}");
            assert_eq!(m, Some(eval_binop(BinOp::Mod, BitWidth::W64, x, y)), "{x:#x} % {y:#x}");
            // wrapped products, unsigned and signed, at both widths
            for (w, signed) in [(64, false), (32, false), (64, true), (32, true)] {
                let r = IntRange::lit(0, 0, w, signed);
                let (px, py) = (int_of(x, w, signed), int_of(y, w, signed));
                let p = r.wrap(&Int::mul(&[Int::from_i128(px), Int::from_i128(py)]));
                let mask = if w == 64 { u64::MAX } else { 0xffff_ffff };
                let got = p.simplify().as_i128().map(|v| v as u64 & mask);
                let width = if w == 64 { BitWidth::W64 } else { BitWidth::W32 };
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
