//! [`SymTnum`]: the tnum operations of `lattices::tnum` as bit-vector terms.
//!
//! Width-generic (the value and mask are `w`-bit vectors) except for the
//! shifts, `range` and the subregister helpers, which follow the 64-bit
//! Rust code (`shift & 63`). `mul` unrolls the Rust loop `w` times: once
//! the multiplier is 0 an iteration leaves the accumulator unchanged, and
//! after `w` right shifts it is 0, so the unrolling is exact.

use super::{lit, smear};
use lattices::Tnum;
use z3::ast::{Bool, BV};

/// A symbolic tnum `{ value, mask }`.
#[derive(Clone, Debug)]
pub struct SymTnum {
    /// Known bit values.
    pub value: BV,
    /// Unknown bits.
    pub mask: BV,
}

impl SymTnum {
    /// Two fresh `w`-bit variables named `name.value` and `name.mask`.
    pub fn fresh(name: &str, w: u32) -> SymTnum {
        SymTnum {
            value: BV::new_const(format!("{name}.value"), w),
            mask: BV::new_const(format!("{name}.mask"), w),
        }
    }

    /// The constant tnum `t` (truncated to `w` bits).
    pub fn lit(t: Tnum, w: u32) -> SymTnum {
        SymTnum {
            value: lit(t.value, w),
            mask: lit(t.mask, w),
        }
    }

    /// `Tnum::new(value, mask)`.
    pub fn new(value: BV, mask: BV) -> SymTnum {
        SymTnum { value, mask }
    }

    /// Bit width.
    pub fn width(&self) -> u32 {
        self.value.get_size()
    }

    /// `c ? a : b`, component-wise.
    pub fn ite(c: &Bool, a: &SymTnum, b: &SymTnum) -> SymTnum {
        SymTnum {
            value: c.ite(&a.value, &b.value),
            mask: c.ite(&a.mask, &b.mask),
        }
    }

    /// Same representation.
    pub fn same(&self, o: &SymTnum) -> Bool {
        Bool::and(&[self.value.eq(&o.value), self.mask.eq(&o.mask)])
    }

    /// `is_bottom`: value and mask overlap.
    pub fn is_bottom(&self) -> Bool {
        self.value.bvand(&self.mask).ne(lit(0, self.width()))
    }

    /// `is_const`: no unknown bit.
    pub fn is_const(&self) -> Bool {
        self.mask.eq(lit(0, self.width()))
    }

    /// `contains_value(x)`: not bottom and `x & !mask == value`.
    pub fn contains(&self, x: &BV) -> Bool {
        Bool::and(&[
            self.is_bottom().not(),
            x.bvand(self.mask.bvnot()).eq(&self.value),
        ])
    }

    /// `Tnum::add`.
    pub fn add(&self, b: &SymTnum) -> SymTnum {
        let sm = self.mask.bvadd(&b.mask);
        let sv = self.value.bvadd(&b.value);
        let sigma = sm.bvadd(&sv);
        let chi = sigma.bvxor(&sv);
        let mu = chi.bvor(&self.mask).bvor(&b.mask);
        SymTnum::new(sv.bvand(mu.bvnot()), mu)
    }

    /// `Tnum::sub`.
    pub fn sub(&self, b: &SymTnum) -> SymTnum {
        let dv = self.value.bvsub(&b.value);
        let alpha = dv.bvadd(&self.mask);
        let beta = dv.bvsub(&b.mask);
        let chi = alpha.bvxor(&beta);
        let mu = chi.bvor(&self.mask).bvor(&b.mask);
        SymTnum::new(dv.bvand(mu.bvnot()), mu)
    }

    /// `Tnum::neg`: `constant(0).sub(self)`.
    pub fn neg(&self) -> SymTnum {
        SymTnum::lit(Tnum::constant(0), self.width()).sub(self)
    }

    /// `Tnum::and`.
    pub fn and(&self, b: &SymTnum) -> SymTnum {
        let alpha = self.value.bvor(&self.mask);
        let beta = b.value.bvor(&b.mask);
        let v = self.value.bvand(&b.value);
        SymTnum::new(v.clone(), alpha.bvand(&beta).bvand(v.bvnot()))
    }

    /// `Tnum::or`.
    pub fn or(&self, b: &SymTnum) -> SymTnum {
        let v = self.value.bvor(&b.value);
        let mu = self.mask.bvor(&b.mask);
        SymTnum::new(v.clone(), mu.bvand(v.bvnot()))
    }

    /// `Tnum::xor`.
    pub fn xor(&self, b: &SymTnum) -> SymTnum {
        let v = self.value.bvxor(&b.value);
        let mu = self.mask.bvor(&b.mask);
        SymTnum::new(v.bvand(mu.bvnot()), mu)
    }

    /// `Tnum::intersect` (the kernel's).
    pub fn intersect(&self, b: &SymTnum) -> SymTnum {
        let v = self.value.bvor(&b.value);
        let mu = self.mask.bvand(&b.mask);
        SymTnum::new(v.bvand(mu.bvnot()), mu)
    }

    /// `Tnum::union`.
    pub fn union(&self, b: &SymTnum) -> SymTnum {
        let v = self.value.bvand(&b.value);
        let mu = self.value.bvxor(&b.value).bvor(&self.mask).bvor(&b.mask);
        SymTnum::new(v.bvand(mu.bvnot()), mu)
    }

    /// `Tnum::meet_checked`: (is `Some`, the intersection when it is).
    pub fn meet_checked(&self, b: &SymTnum) -> (Bool, SymTnum) {
        let w = self.width();
        let known_both = self.mask.bvnot().bvand(b.mask.bvnot());
        let agree = self.value.bvxor(&b.value).bvand(&known_both).eq(lit(0, w));
        let ok = Bool::and(&[self.is_bottom().not(), b.is_bottom().not(), agree]);
        (ok, self.intersect(b))
    }

    /// `Lattice::meet` for tnums: `meet_checked(b).unwrap_or(Tnum::BOTTOM)`.
    pub fn meet(&self, b: &SymTnum) -> SymTnum {
        let (ok, m) = self.meet_checked(b);
        SymTnum::ite(&ok, &m, &SymTnum::lit(Tnum::BOTTOM, self.width()))
    }

    /// `Tnum::lshift(shift)` (64-bit), `shift` an 8-bit vector.
    pub fn lshift(&self, shift: &BV) -> SymTnum {
        let s = shift.bvand(lit(63, 8)).zero_ext(56);
        SymTnum::new(self.value.bvshl(&s), self.mask.bvshl(&s))
    }

    /// `Tnum::rshift(shift)` (64-bit), `shift` an 8-bit vector.
    pub fn rshift(&self, shift: &BV) -> SymTnum {
        let s = shift.bvand(lit(63, 8)).zero_ext(56);
        SymTnum::new(self.value.bvlshr(&s), self.mask.bvlshr(&s))
    }

    /// `Tnum::arshift(shift, insn_bitness)` (64-bit tnum), `shift` an 8-bit vector.
    pub fn arshift(&self, shift: &BV, insn_bitness: u8) -> SymTnum {
        if insn_bitness == 32 {
            let s = shift.bvand(lit(31, 8)).zero_ext(24);
            let f = |x: &BV| x.extract(31, 0).bvashr(&s).zero_ext(32);
            SymTnum::new(f(&self.value), f(&self.mask))
        } else {
            let s = shift.bvand(lit(63, 8)).zero_ext(56);
            SymTnum::new(self.value.bvashr(&s), self.mask.bvashr(&s))
        }
    }

    /// Shift by the constant `k` at the tnum's own width (for `mul`).
    fn shift_const(&self, left: bool) -> SymTnum {
        let one = lit(1, self.width());
        if left {
            SymTnum::new(self.value.bvshl(&one), self.mask.bvshl(&one))
        } else {
            SymTnum::new(self.value.bvlshr(&one), self.mask.bvlshr(&one))
        }
    }

    /// `Tnum::mul` (the 6.18 kernel algorithm), unrolled `width` times.
    pub fn mul(&self, b: &SymTnum) -> SymTnum {
        let w = self.width();
        let mut a = self.clone();
        let mut b = b.clone();
        let mut acc = SymTnum::lit(Tnum::constant(0), w);
        for _ in 0..w {
            acc = acc.mul_step(&a, &b);
            a = a.shift_const(false);
            b = b.shift_const(true);
        }
        acc
    }

    /// `Tnum::mul_cgo` (Vishwanathan et al., CGO 2022), unrolled `width`
    /// times (once `a` is the constant 0 a step changes nothing, as the
    /// Rust loop stops): `constant(a.value * b.value) + acc_m`.
    pub fn mul_cgo(&self, b: &SymTnum) -> SymTnum {
        let w = self.width();
        let acc_v = self.value.bvmul(&b.value);
        let mut a = self.clone();
        let mut b = b.clone();
        let mut acc_m = SymTnum::lit(Tnum::constant(0), w);
        for _ in 0..w {
            acc_m = acc_m.mul_cgo_step(&a, &b);
            a = a.shift_const(false);
            b = b.shift_const(true);
        }
        SymTnum::new(acc_v, lit(0, w)).add(&acc_m)
    }

    /// `Tnum::mul_best`: the meet of `mul`, `mul_cgo` and the commuted `mul`
    /// (built from the unrolled loops; see [`SymTnum::mul_best_of`]).
    pub fn mul_best(&self, b: &SymTnum) -> SymTnum {
        SymTnum::mul_best_of(&self.mul(b), &self.mul_cgo(b), &b.mul(self))
    }

    /// The body of `Tnum::mul_best` on its three components `r1 = a.mul(b)`,
    /// `r2 = a.mul_cgo(b)`, `r3 = b.mul(a)`: `r1` met with `r2`, then with
    /// `r3`, each meet skipped (the left side kept) when `meet_checked` is
    /// `None`.
    pub fn mul_best_of(r1: &SymTnum, r2: &SymTnum, r3: &SymTnum) -> SymTnum {
        let (ok, m) = r1.meet_checked(r2);
        let r = SymTnum::ite(&ok, &m, r1);
        let (ok, m) = r.meet_checked(r3);
        SymTnum::ite(&ok, &m, &r)
    }

    /// The `mul_cgo` loop body on the mask accumulator `self`: `+ (0; b.mask)`
    /// for a certain-1 bit 0 of `a`, `+ (0; b.value | b.mask)` for an
    /// unknown one, unchanged otherwise.
    pub fn mul_cgo_step(&self, a: &SymTnum, b: &SymTnum) -> SymTnum {
        let w = self.width();
        let (zero, one) = (lit(0, w), lit(1, w));
        let v1 = a.value.bvand(&one).ne(&zero);
        let m1 = a.mask.bvand(&one).ne(&zero);
        let known = self.add(&SymTnum::new(zero.clone(), b.mask.clone()));
        let unknown = self.add(&SymTnum::new(zero, b.value.bvor(&b.mask)));
        SymTnum::ite(&v1, &known, &SymTnum::ite(&m1, &unknown, self))
    }

    /// The accumulator after one iteration of the `Tnum::mul` loop body on
    /// `self` (the accumulator) with the current multiplier `a` and
    /// multiplicand `b`: `acc + b` for a certain-1 bit 0 of `a`, the union of
    /// `acc` and `acc + b` for an unknown bit 0, `acc` otherwise.
    pub fn mul_step(&self, a: &SymTnum, b: &SymTnum) -> SymTnum {
        let w = self.width();
        let one = lit(1, w);
        let zero = lit(0, w);
        let v1 = a.value.bvand(&one).ne(&zero);
        let m1 = a.mask.bvand(&one).ne(&zero);
        let sum = self.add(b);
        let with_unknown = SymTnum::ite(&m1, &self.union(&sum), self);
        SymTnum::ite(&v1, &sum, &with_unknown)
    }

    /// `self.rshift(1)` at the tnum's own width (the multiplier's step).
    pub fn rshift1(&self) -> SymTnum {
        self.shift_const(false)
    }

    /// `self.lshift(1)` at the tnum's own width (the multiplicand's step).
    pub fn lshift1(&self) -> SymTnum {
        self.shift_const(true)
    }

    /// `Tnum::lshift_by` / `rshift_by` / `arshift_by` (`op` is `Lsh`,
    /// `Rsh` or `Arsh`) of a 64-bit tnum by the unknown amount `amt` at
    /// `insn_bitness` 32 or 64: the join of the shifts by every amount
    /// `amt & (bitness - 1)` allows, unrolled over the `bitness` amounts in
    /// the Rust loop's order (`None` accumulator = `some` false).
    pub fn shift_by(&self, amt: &SymTnum, insn_bitness: u8, op: lattices::BinOp) -> SymTnum {
        let w: u8 = if insn_bitness == 32 { 32 } else { 64 };
        let a = amt.masked_amount(w);
        let mut some = Bool::from_bool(false);
        let mut acc = SymTnum::lit(Tnum::BOTTOM, 64);
        for s in 0..w {
            let r = self.shift_one(&lit(u64::from(s), 8), w, op);
            let c = a.contains(&lit(u64::from(s), 64));
            (some, acc) = SymTnum::fold_step(&some, &acc, &c, &r);
        }
        SymTnum::fold_finish(self, amt, &some, &acc)
    }

    /// `amt & (bitness - 1)` as a tnum (the amounts `shift_by` visits).
    pub fn masked_amount(&self, bitness: u8) -> SymTnum {
        let low = lit(u64::from(bitness - 1), 64);
        SymTnum::new(self.value.bvand(&low), self.mask.bvand(&low))
    }

    /// The closure `shift_by` joins: the shift of `self` by the 8-bit
    /// amount `s` at `bitness` (32: on the low half, zero-extended).
    pub fn shift_one(&self, s: &BV, bitness: u8, op: lattices::BinOp) -> SymTnum {
        match (op, bitness) {
            (lattices::BinOp::Lsh, 32) => self.subreg().lshift(s).subreg(),
            (lattices::BinOp::Lsh, _) => self.lshift(s),
            (lattices::BinOp::Rsh, 32) => self.subreg().rshift(s),
            (lattices::BinOp::Rsh, _) => self.rshift(s),
            _ => self.arshift(s, bitness),
        }
    }

    /// One iteration of the join loop: with `c` (the amount is possible),
    /// the accumulator becomes `r` (first time) or `acc ∪ r`.
    pub fn fold_step(some: &Bool, acc: &SymTnum, c: &Bool, r: &SymTnum) -> (Bool, SymTnum) {
        let joined = SymTnum::ite(some, &acc.union(r), r);
        (
            Bool::or(&[some.clone(), c.clone()]),
            SymTnum::ite(c, &joined, acc),
        )
    }

    /// The end of `shift_by`: `BOTTOM` for a bottom input or no amount.
    pub fn fold_finish(t: &SymTnum, amt: &SymTnum, some: &Bool, acc: &SymTnum) -> SymTnum {
        let bottom = SymTnum::lit(Tnum::BOTTOM, 64);
        let any_bottom = Bool::or(&[t.is_bottom(), amt.is_bottom()]);
        SymTnum::ite(&any_bottom, &bottom, &SymTnum::ite(some, acc, &bottom))
    }

    /// `Tnum::range(min, max)` at 64 bits: `delta` is the smear of
    /// `min ^ max`; when bit 63 differs this is all ones and the result
    /// `(0; u64::MAX)` is `Tnum::UNKNOWN`, as in the Rust code.
    pub fn range(min: &BV, max: &BV) -> SymTnum {
        let delta = smear(&min.bvxor(max));
        SymTnum::new(min.bvand(delta.bvnot()), delta)
    }

    /// `Tnum::subreg` (64-bit): the low 32 bits.
    pub fn subreg(&self) -> SymTnum {
        let m = lit(0xffff_ffff, 64);
        SymTnum::new(self.value.bvand(&m), self.mask.bvand(&m))
    }

    /// `Tnum::cast(size)` (64-bit): the low `size` bytes.
    pub fn cast(&self, size: u8) -> SymTnum {
        if size >= 8 {
            return self.clone();
        }
        let m = lit((1u64 << (size as u32 * 8)) - 1, 64);
        SymTnum::new(self.value.bvand(&m), self.mask.bvand(&m))
    }

    /// `Tnum::sext(from_bits)` (64-bit): the low `from_bits` bits
    /// sign-extended (a known sign bit extends as known, an unknown one as
    /// unknown).
    pub fn sext(&self, from_bits: u8) -> SymTnum {
        if from_bits == 0 || from_bits >= 64 {
            return self.clone();
        }
        let n = from_bits as u32;
        let low = (1u64 << n) - 1;
        let sign = lit(1u64 << (n - 1), 64);
        let (lowv, high) = (lit(low, 64), lit(!low, 64));
        let (v, m) = (self.value.bvand(&lowv), self.mask.bvand(&lowv));
        let zero = lit(0, 64);
        let m_sign = m.bvand(&sign).eq(&zero).not();
        let v_sign = v.bvand(&sign).eq(&zero).not();
        SymTnum::ite(
            &m_sign,
            &SymTnum::new(v.clone(), m.bvor(&high)),
            &SymTnum::ite(
                &v_sign,
                &SymTnum::new(v.bvor(&high), m.clone()),
                &SymTnum::new(v.clone(), m.clone()),
            ),
        )
    }

    /// `Tnum::bswap(bits)` (64-bit): value and mask byte-swapped.
    pub fn bswap(&self, bits: u8) -> SymTnum {
        let b = bits as u32;
        SymTnum::new(super::swap_bytes(&self.value, b), super::swap_bytes(&self.mask, b))
    }

    /// `Tnum::clear_subreg` (64-bit): the upper 32 bits.
    pub fn clear_subreg(&self) -> SymTnum {
        let m = lit(0xffff_ffff_0000_0000, 64);
        SymTnum::new(self.value.bvand(&m), self.mask.bvand(&m))
    }

    /// `Tnum::with_subreg`: upper half of `self`, lower half of `sub`.
    pub fn with_subreg(&self, sub: &SymTnum) -> SymTnum {
        self.clear_subreg().or(&sub.subreg())
    }

    /// `Tnum::smin` (64-bit).
    pub fn smin(&self) -> BV {
        self.value.bvor(self.mask.bvand(lit(1 << 63, 64)))
    }

    /// `Tnum::smax` (64-bit).
    pub fn smax(&self) -> BV {
        self.value.bvor(self.mask.bvand(lit(i64::MAX as u64, 64)))
    }

    /// `Tnum::floor(x)` (64-bit): (is `Some`, the largest member <= x).
    /// The Rust loop returns at the first `i` from 0 that qualifies; here a
    /// chain of `ite`s built from `i = 63` down gives the same priority.
    pub fn floor(&self, x: &BV) -> (Bool, BV) {
        self.snap(x, true)
    }

    /// `Tnum::ceil(x)` (64-bit): (is `Some`, the smallest member >= x).
    pub fn ceil(&self, x: &BV) -> (Bool, BV) {
        self.snap(x, false)
    }

    fn snap(&self, x: &BV, down: bool) -> (Bool, BV) {
        let zero = lit(0, 64);
        let diff = x.bvxor(&self.value).bvand(self.mask.bvnot());
        let mut some = Bool::from_bool(false);
        let mut val = zero.clone();
        let can_be_one = self.value.bvor(&self.mask);
        for i in (0..64u32).rev() {
            let above_ok = if i == 63 {
                Bool::from_bool(true)
            } else {
                diff.bvlshr(lit(u64::from(i) + 1, 64)).eq(&zero)
            };
            let bit = 1u64 << i;
            let x_bit = x.bvand(lit(bit, 64)).ne(&zero);
            let high = if i == 63 {
                zero.clone()
            } else {
                x.bvand(lit(!((bit << 1).wrapping_sub(1)), 64))
            };
            let (cond, v) = if down {
                let cond = Bool::and(&[above_ok, x_bit, self.value.bvand(lit(bit, 64)).eq(&zero)]);
                (cond, high.bvor(can_be_one.bvand(lit(bit - 1, 64))))
            } else {
                let cond = Bool::and(&[
                    above_ok,
                    x_bit.not(),
                    can_be_one.bvand(lit(bit, 64)).ne(&zero),
                ]);
                (
                    cond,
                    high.bvor(lit(bit, 64))
                        .bvor(self.value.bvand(lit(bit - 1, 64))),
                )
            };
            some = cond.ite(&Bool::from_bool(true), &some);
            val = cond.ite(&v, &val);
        }
        let inside = self.contains(x);
        let some = Bool::and(&[self.is_bottom().not(), Bool::or(&[inside.clone(), some])]);
        (some, inside.ite(x, &val))
    }

    /// The concrete tnum, when both parts fold to constants.
    pub fn eval(&self) -> Option<Tnum> {
        Some(Tnum::new(
            super::value_of(&self.value)?,
            super::value_of(&self.mask)?,
        ))
    }
}
