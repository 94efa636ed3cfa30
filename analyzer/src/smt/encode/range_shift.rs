//! [`SymRange`] shifts: `shl`, `shr`, `sar` of `lattices::interval` (the
//! amount is a range too, masked with `N - 1` as eBPF does), as bit-vector
//! terms for the four range types.
//!
//! The Rust code shifts the bounds in `u128`/`i128`; here those exact
//! shifts are `2N`-bit vectors (a bound below `2^N` shifted by less than `N`
//! fits), and the band test of `band_u128`/`band_s` is a shift right by `N`.

use super::lit;
use super::range::SymRange;
use super::{smax, smin};
use z3::ast::{Bool, BV};

impl SymRange {
    /// `shift_amounts` of an unsigned range (`(0, 0)` when empty): the
    /// masked amounts `[min & (N-1), max & (N-1)]` when both bounds share
    /// the bits above the mask, else `[0, N-1]`.
    pub fn shift_amounts(&self) -> (BV, BV) {
        let w = self.width();
        let m = lit(u64::from(w - 1), w);
        let not_m = m.bvnot();
        let same = self.min.bvand(&not_m).eq(self.max.bvand(&not_m));
        let empty = self.min.bvugt(&self.max);
        let zero = lit(0, w);
        let lo = empty.ite(&zero, &same.ite(&self.min.bvand(&m), &zero));
        let hi = empty.ite(&zero, &same.ite(&self.max.bvand(&m), &m));
        (lo, hi)
    }

    /// The amounts of a shift by `amt` (signed ranges: via `to_unsigned`).
    pub fn amounts_of(amt: &SymRange) -> (BV, BV) {
        if amt.signed {
            amt.flip_sign().shift_amounts()
        } else {
            amt.shift_amounts()
        }
    }

    /// `x` of this range's signedness extended to `2N` bits.
    fn wide2(&self, x: &BV) -> BV {
        let w = self.width();
        if self.signed {
            x.sign_ext(w)
        } else {
            x.zero_ext(w)
        }
    }

    /// `from_band(band_u128/band_s(lo, hi, N))` for exact `2N`-bit bounds.
    fn wrap_wide(&self, lo: &BV, hi: &BV) -> SymRange {
        let w = self.width();
        let ww = 2 * w;
        let shift = lit(u64::from(w), ww);
        let (blo, bhi, ordered) = if self.signed {
            let half = BV::from_u64(1, ww).bvshl(lit(u64::from(w - 1), ww));
            (
                lo.bvadd(&half).bvashr(&shift),
                hi.bvadd(&half).bvashr(&shift),
                lo.bvsle(hi),
            )
        } else {
            (lo.bvlshr(&shift), hi.bvlshr(&shift), lo.bvule(hi))
        };
        let in_band = Bool::and(&[ordered, blo.eq(&bhi)]);
        let r = SymRange {
            min: lo.extract(w - 1, 0),
            max: hi.extract(w - 1, 0),
            signed: self.signed,
        };
        SymRange::ite(&in_band, &r, &SymRange::full(w, self.signed))
    }

    /// The guard of every `*_range`: `EMPTY` if empty, `FULL` if `lo > hi`
    /// or `hi >= N`, else `r`.
    fn range_guard(&self, lo: &BV, hi: &BV, r: SymRange) -> SymRange {
        let w = self.width();
        let bad = Bool::or(&[lo.bvugt(hi), hi.bvuge(lit(u64::from(w), w))]);
        let r = SymRange::ite(&bad, &SymRange::full(w, self.signed), &r);
        SymRange::ite(&self.is_empty(), &SymRange::empty(w, self.signed), &r)
    }

    /// The exact shift of the Rust code: `v` (`N` bits, extended by this
    /// range's signedness) shifted left by `k` at `2N` bits.
    pub fn exact_shl(&self, v: &BV, k: &BV) -> BV {
        self.wide2(v).bvshl(k.zero_ext(self.width()))
    }

    /// `shl_range(lo, hi)`: unsigned `band_u128(min << lo, max << hi)`,
    /// signed `from_exact` of the least and greatest of the four corners.
    pub fn shl_range(&self, lo: &BV, hi: &BV) -> SymRange {
        self.shl_range_with(lo, hi, &|v, k| self.exact_shl(v, k))
    }

    /// [`SymRange::shl_range`] with `exact(v, k)` standing for the exact
    /// `2N`-bit shift [`SymRange::exact_shl`].
    pub fn shl_range_with(&self, lo: &BV, hi: &BV, exact: &dyn Fn(&BV, &BV) -> BV) -> SymRange {
        let r = if self.signed {
            let c = [
                exact(&self.min, lo),
                exact(&self.min, hi),
                exact(&self.max, lo),
                exact(&self.max, hi),
            ];
            let least = smin(&smin(&smin(&c[0], &c[1]), &c[2]), &c[3]);
            let greatest = smax(&smax(&smax(&c[0], &c[1]), &c[2]), &c[3]);
            self.wrap_wide(&least, &greatest)
        } else {
            self.wrap_wide(&exact(&self.min, lo), &exact(&self.max, hi))
        };
        self.range_guard(lo, hi, r)
    }

    /// `shr_range(lo, hi)`: unsigned `[min >> hi, max >> lo]`; signed via
    /// `to_unsigned`, then `to_signed`, intersected with `[0, MAX_u >> lo]`
    /// when `lo >= 1`.
    pub fn shr_range(&self, lo: &BV, hi: &BV) -> SymRange {
        let w = self.width();
        if self.signed {
            let r = self.flip_sign().shr_range(lo, hi).flip_sign();
            let cap = SymRange {
                min: lit(0, w),
                max: lit(u64::MAX, w).bvlshr(lo),
                signed: true,
            };
            let capped = r.intersect(&cap);
            let r = SymRange::ite(&lo.bvuge(lit(1, w)), &capped, &r);
            return self.range_guard(lo, hi, r);
        }
        let r = SymRange {
            min: self.min.bvlshr(hi),
            max: self.max.bvlshr(lo),
            signed: false,
        };
        self.range_guard(lo, hi, r)
    }

    /// `sar_range(lo, hi)` of a signed range: `[min(min >> lo, min >> hi),
    /// max(max >> lo, max >> hi)]` (arithmetic shifts).
    pub fn sar_range(&self, lo: &BV, hi: &BV) -> SymRange {
        let r = SymRange {
            min: smin(&self.min.bvashr(lo), &self.min.bvashr(hi)),
            max: smax(&self.max.bvashr(lo), &self.max.bvashr(hi)),
            signed: true,
        };
        self.range_guard(lo, hi, r)
    }

    fn shift_guard(&self, amt: &SymRange, r: SymRange) -> SymRange {
        let e = Bool::or(&[self.is_empty(), amt.is_empty()]);
        SymRange::ite(&e, &SymRange::empty(self.width(), self.signed), &r)
    }

    /// `shl(amt)`: `shl_range` over the masked amounts.
    pub fn shl(&self, amt: &SymRange) -> SymRange {
        self.shl_with(amt, &|v, k| self.exact_shl(v, k))
    }

    /// [`SymRange::shl`] with `exact` for [`SymRange::exact_shl`].
    pub fn shl_with(&self, amt: &SymRange, exact: &dyn Fn(&BV, &BV) -> BV) -> SymRange {
        let (lo, hi) = SymRange::amounts_of(amt);
        self.shift_guard(amt, self.shl_range_with(&lo, &hi, exact))
    }

    /// `shr(amt)`: `shr_range` over the masked amounts.
    pub fn shr(&self, amt: &SymRange) -> SymRange {
        let (lo, hi) = SymRange::amounts_of(amt);
        self.shift_guard(amt, self.shr_range(&lo, &hi))
    }

    /// `sar(amt)`: signed `sar_range` over the masked amounts; unsigned via
    /// the signed views of both operands (`to_signed().sar(..).to_unsigned()`).
    pub fn sar(&self, amt: &SymRange) -> SymRange {
        if !self.signed {
            return self.flip_sign().sar(&amt.flip_sign()).flip_sign();
        }
        let (lo, hi) = SymRange::amounts_of(amt);
        self.shift_guard(amt, self.sar_range(&lo, &hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lattices::testing::Rng;
    use lattices::{BinOp, S32Range, S64Range, U32Range, U64Range};

    /// A `w`-bit range in the given order (sometimes empty, often small
    /// amounts for the shift operand).
    fn rand_pair(rng: &mut Rng, w: u32, signed: bool) -> (u64, u64) {
        let mask = if w == 64 { u64::MAX } else { 0xffff_ffff };
        let pick = |rng: &mut Rng| match rng.below(4) {
            0 => rng.below(2 * u64::from(w) + 2),
            1 => rng.interesting_u64(),
            2 => rng.next_u64() >> rng.below(64),
            _ => rng.next_u64(),
        };
        let (x, y) = (pick(rng) & mask, pick(rng) & mask);
        let key = |v: u64| if signed { (v ^ (1u64 << (w - 1))) & mask } else { v };
        let (lo, hi) = if key(x) <= key(y) { (x, y) } else { (y, x) };
        match rng.below(8) {
            0 => (hi, lo),
            1 => (x, x),
            _ => (lo, hi),
        }
    }

    fn rust(op: BinOp, w: u32, signed: bool, a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
        macro_rules! run {
            ($t:ident, $p:ty, $q:ty) => {{
                let c = |v: u64| v as $q as $p;
                let (x, y) = ($t { min: c(a.0), max: c(a.1) }, $t { min: c(b.0), max: c(b.1) });
                let r = match op {
                    BinOp::Lsh => x.shl(&y),
                    BinOp::Rsh => x.shr(&y),
                    _ => x.sar(&y),
                };
                let m = if w == 64 { u64::MAX } else { 0xffff_ffff };
                (r.min as u64 & m, r.max as u64 & m)
            }};
        }
        match (w, signed) {
            (64, false) => run!(U64Range, u64, u64),
            (64, true) => run!(S64Range, i64, u64),
            (_, false) => run!(U32Range, u32, u32),
            (_, true) => run!(S32Range, i32, u32),
        }
    }

    #[test]
    fn shifts_match_rust() {
        let mut rng = Rng::new(0x5417);
        for (w, signed) in [(64, false), (64, true), (32, false), (32, true)] {
            for i in 0..250 {
                let (a, b) = (rand_pair(&mut rng, w, signed), rand_pair(&mut rng, w, signed));
                let (sa, sb) = (SymRange::lit(a.0, a.1, w, signed), SymRange::lit(b.0, b.1, w, signed));
                for (op, r) in [
                    (BinOp::Lsh, sa.shl(&sb)),
                    (BinOp::Rsh, sa.shr(&sb)),
                    (BinOp::Arsh, sa.sar(&sb)),
                ] {
                    assert_eq!(
                        r.eval(),
                        Some(rust(op, w, signed, a, b)),
                        "w{w} signed={signed} {i} {a:x?} {op:?} {b:x?}"
                    );
                }
            }
        }
    }
}
