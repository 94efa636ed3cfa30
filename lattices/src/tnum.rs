//! Tristate numbers ("tnums"), a port of the kernel's `kernel/bpf/tnum.c`.
//!
//! Representation: `Tnum { value, mask }` with `value & mask == 0`; bit i is
//! unknown when `mask` bit i is 1, otherwise it equals `value` bit i.
//! Concretisation: gamma(t) = { v : v & !t.mask == t.value }.
//! Bottom (no kernel equivalent) is any tnum with `value & mask != 0`;
//! [`Tnum::BOTTOM`] is the canonical one. The kernel's operations are only
//! defined on valid tnums; the `Lattice` methods handle bottom explicitly.
//!
//! Known precision losses:
//! - add/sub lose carries: (0x0; 0x1) + (0x1; 0x0) = (0x0; 0x3), although
//!   gamma is {1, 2} whose best tnum is (0x0; 0x3) too, but (0x0; 0x1) + 1
//!   with 0 and 1 gives {1,2}: the tnum cannot express "one of two values that
//!   differ in two bits" at all (non-convexity).
//! - mul is not optimal: the 6.18 algorithm gives the best tnum on about
//!   95% of 5-bit input pairs and 92% of sampled 8-bit pairs (CGO 2022
//!   algorithm: 93% / 90%), see `crate::precision`; e.g. (0x1; 0x2) * (0x1; 0x2)
//!   = {1, 3, 9} is (0x1; 0xa) at best.
//! - `intersect` (kernel) silently returns a known 1 where the operands
//!   disagree; use [`Tnum::meet`] to detect the empty intersection.
//! - shifts by an unknown amount join all possible shifts (exact per amount,
//!   but the join of the shifted values usually loses every bit).

use crate::lattice::{Gamma, Lattice, Thresholds};
use std::fmt;

/// A tristate number: known bits in `value`, unknown bits in `mask`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Tnum {
    /// Known bit values (0 where unknown).
    pub value: u64,
    /// Unknown bits.
    pub mask: u64,
}

impl Tnum {
    /// Completely unknown (the kernel's `tnum_unknown`).
    pub const UNKNOWN: Tnum = Tnum { value: 0, mask: u64::MAX };
    /// Canonical empty tnum (value & mask != 0).
    pub const BOTTOM: Tnum = Tnum { value: u64::MAX, mask: u64::MAX };

    /// A tnum with the given parts (not normalised).
    pub const fn new(value: u64, mask: u64) -> Tnum {
        Tnum { value, mask }
    }

    /// {v}
    pub const fn constant(v: u64) -> Tnum {
        Tnum { value: v, mask: 0 }
    }

    /// Smallest tnum whose bits above the highest differing bit of min^max are known.
    pub fn range(min: u64, max: u64) -> Tnum {
        let chi = min ^ max;
        let bits = 64 - chi.leading_zeros();
        if bits > 63 {
            return Tnum::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Tnum::new(min & !delta, delta)
    }

    /// Whether gamma(self) is empty (value and mask overlap).
    pub const fn is_bottom(self) -> bool {
        self.value & self.mask != 0
    }

    /// Exactly one value.
    pub const fn is_const(self) -> bool {
        self.mask == 0
    }

    /// Every value.
    pub const fn is_unknown(self) -> bool {
        self.mask == u64::MAX
    }

    /// tnum_equals_const: is exactly {v}.
    pub const fn equals_const(self, v: u64) -> bool {
        self.mask == 0 && self.value == v
    }

    /// v in gamma(self).
    pub const fn contains_value(self, v: u64) -> bool {
        !self.is_bottom() && (v & !self.mask) == self.value
    }

    /// Smallest member (as unsigned).
    pub const fn umin(self) -> u64 {
        self.value
    }

    /// Largest member (as unsigned).
    pub const fn umax(self) -> u64 {
        self.value | self.mask
    }

    /// Smallest member as signed: sign bit set if possible, other bits minimal.
    pub const fn smin(self) -> i64 {
        (self.value | (self.mask & (1 << 63))) as i64
    }

    /// Largest member as signed: sign bit clear if possible, other bits maximal.
    pub const fn smax(self) -> i64 {
        (self.value | (self.mask & (i64::MAX as u64))) as i64
    }

    /// {x << s : x in a} (kernel tnum_lshift; s taken mod 64).
    pub const fn lshift(self, shift: u8) -> Tnum {
        let s = (shift & 63) as u32;
        Tnum::new(self.value << s, self.mask << s)
    }

    /// {x >> s : x in a} logical (kernel tnum_rshift; s taken mod 64).
    pub const fn rshift(self, shift: u8) -> Tnum {
        let s = (shift & 63) as u32;
        Tnum::new(self.value >> s, self.mask >> s)
    }

    /// {x s>> s : x in a} at `insn_bitness` 32 or 64 (kernel tnum_arshift);
    /// at 32 the low 32 bits are shifted as an s32 and the result zero-extended.
    pub const fn arshift(self, min_shift: u8, insn_bitness: u8) -> Tnum {
        if insn_bitness == 32 {
            let s = (min_shift & 31) as u32;
            Tnum::new(
                ((self.value as u32 as i32) >> s) as u32 as u64,
                ((self.mask as u32 as i32) >> s) as u32 as u64,
            )
        } else {
            let s = (min_shift & 63) as u32;
            Tnum::new(
                ((self.value as i64) >> s) as u64,
                ((self.mask as i64) >> s) as u64,
            )
        }
    }

    /// {x + y} with carries through unknown bits (kernel tnum_add).
    pub const fn add(self, b: Tnum) -> Tnum {
        let sm = self.mask.wrapping_add(b.mask);
        let sv = self.value.wrapping_add(b.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | b.mask;
        Tnum::new(sv & !mu, mu)
    }

    /// {x - y} with borrows through unknown bits (kernel tnum_sub).
    pub const fn sub(self, b: Tnum) -> Tnum {
        let dv = self.value.wrapping_sub(b.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(b.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | b.mask;
        Tnum::new(dv & !mu, mu)
    }

    /// {-x} = 0 - a (kernel tnum_neg).
    pub const fn neg(self) -> Tnum {
        Tnum::constant(0).sub(self)
    }

    /// {x & y}: known 1 where both are known 1, known 0 where either is known 0.
    pub const fn and(self, b: Tnum) -> Tnum {
        let alpha = self.value | self.mask;
        let beta = b.value | b.mask;
        let v = self.value & b.value;
        Tnum::new(v, alpha & beta & !v)
    }

    /// {x | y}: known 1 where either is known 1, known 0 where both known 0.
    pub const fn or(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask | b.mask;
        Tnum::new(v, mu & !v)
    }

    /// {x ^ y}: known where both are known.
    pub const fn xor(self, b: Tnum) -> Tnum {
        let v = self.value ^ b.value;
        let mu = self.mask | b.mask;
        Tnum::new(v & !mu, mu)
    }

    /// {x * y}, the kernel 6.18 algorithm (Edamana, 2025): long multiplication
    /// over the bits of a; a certain-1 bit adds b, an unknown bit takes the
    /// union of "add b" and "add nothing".
    pub const fn mul(self, b: Tnum) -> Tnum {
        let mut a = self;
        let mut b = b;
        let mut acc = Tnum::constant(0);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc = acc.add(b);
            } else if a.mask & 1 != 0 {
                acc = acc.union(acc.add(b));
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        acc
    }

    /// {x * y}, the kernel 5.19..6.17 algorithm (Vishwanathan et al., CGO
    /// 2022, "Sound, precise, and fast abstract interpretation with tristate
    /// numbers"): value product plus a sum of mask-only partial products; a
    /// certain-1 bit of a adds b's unknown part, an unknown bit of a adds all
    /// of b's possible bits as unknown.
    pub const fn mul_cgo(self, b: Tnum) -> Tnum {
        let mut a = self;
        let mut b = b;
        let acc_v = a.value.wrapping_mul(b.value);
        let mut acc_m = Tnum::constant(0);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc_m = acc_m.add(Tnum::new(0, b.mask));
            } else if a.mask & 1 != 0 {
                acc_m = acc_m.add(Tnum::new(0, b.value | b.mask));
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        Tnum::constant(acc_v).add(acc_m)
    }

    /// {x * y} as precise as all our algorithms together: the meet of
    /// `mul`, `mul_cgo` and the commuted `mul` (all sound, so the meet is).
    pub const fn mul_best(self, b: Tnum) -> Tnum {
        let r = self.mul(b);
        let r = match r.meet_checked(self.mul_cgo(b)) {
            Some(m) => m,
            None => r,
        };
        match r.meet_checked(b.mul(self)) {
            Some(m) => m,
            None => r,
        }
    }

    /// {x * y}, the kernel's pre-5.19 algorithm built on `hma` (kept to
    /// compare precision against; do not use).
    pub const fn mul_hma(self, b: Tnum) -> Tnum {
        let pi = self.value.wrapping_mul(b.value);
        let acc = hma(Tnum::constant(pi), self.mask, b.mask | b.value);
        hma(acc, b.mask, self.value)
    }

    /// Kernel tnum_intersect: known bits of either; on disagreement the bit
    /// becomes a known 1 (unsound as a meet: use [`Tnum::meet`] for that).
    pub const fn intersect(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask & b.mask;
        Tnum::new(v & !mu, mu)
    }

    /// gamma(a) ∩ gamma(b) exactly; None when a known bit disagrees.
    pub const fn meet_checked(self, b: Tnum) -> Option<Tnum> {
        if self.is_bottom() || b.is_bottom() {
            return None;
        }
        let known_both = !self.mask & !b.mask;
        if (self.value ^ b.value) & known_both != 0 {
            return None;
        }
        Some(self.intersect(b))
    }

    /// Kernel tnum_union: smallest tnum containing both (a bit stays known
    /// only where both know it and agree).
    pub const fn union(self, b: Tnum) -> Tnum {
        let v = self.value & b.value;
        let mu = (self.value ^ b.value) | self.mask | b.mask;
        Tnum::new(v & !mu, mu)
    }

    /// Kernel tnum_in(a, b): gamma(b) ⊆ gamma(a).
    pub const fn tnum_in(self, b: Tnum) -> bool {
        if b.mask & !self.mask != 0 {
            return false;
        }
        (b.value & !self.mask) == self.value
    }

    /// Keep the low `size` bytes (kernel tnum_cast), size 0..=8.
    pub const fn cast(self, size: u8) -> Tnum {
        if size >= 8 {
            return self;
        }
        let m = (1u64 << (size as u32 * 8)) - 1;
        Tnum::new(self.value & m, self.mask & m)
    }

    /// Low 32 bits, zero-extended (kernel tnum_subreg).
    pub const fn subreg(self) -> Tnum {
        self.cast(4)
    }

    /// Upper 32 bits with the low 32 cleared (kernel tnum_clear_subreg).
    pub const fn clear_subreg(self) -> Tnum {
        self.rshift(32).lshift(32)
    }

    /// Upper 32 bits of `self`, low 32 bits of `subreg` (kernel tnum_with_subreg).
    pub const fn with_subreg(self, subreg: Tnum) -> Tnum {
        self.clear_subreg().or(subreg.subreg())
    }

    /// Upper 32 bits of `self`, low 32 bits the constant `v` (kernel tnum_const_subreg).
    pub const fn const_subreg(self, v: u32) -> Tnum {
        self.with_subreg(Tnum::constant(v as u64))
    }

    /// Whether all members are multiples of `size` (kernel tnum_is_aligned).
    pub const fn is_aligned(self, size: u64) -> bool {
        if size == 0 {
            return true;
        }
        (self.value | self.mask) & (size - 1) == 0
    }

    /// Sign-extend the low `from_bits` (1..=64) bits to 64 bits; exact.
    pub const fn sext(self, from_bits: u8) -> Tnum {
        if from_bits == 0 || from_bits >= 64 {
            return self;
        }
        let n = from_bits as u32;
        let low = (1u64 << n) - 1;
        let sign = 1u64 << (n - 1);
        let (v, m) = (self.value & low, self.mask & low);
        if m & sign != 0 {
            Tnum::new(v, m | !low)
        } else if v & sign != 0 {
            Tnum::new(v | !low, m)
        } else {
            Tnum::new(v, m)
        }
    }

    /// Byte-swap the low `bits` (16/32/64) bits, upper bits cleared; exact.
    pub const fn bswap(self, bits: u8) -> Tnum {
        match bits {
            16 => Tnum::new(
                (self.value as u16).swap_bytes() as u64,
                (self.mask as u16).swap_bytes() as u64,
            ),
            32 => Tnum::new(
                (self.value as u32).swap_bytes() as u64,
                (self.mask as u32).swap_bytes() as u64,
            ),
            _ => Tnum::new(self.value.swap_bytes(), self.mask.swap_bytes()),
        }
    }

    /// Sound `{x << (s & (bitness-1))}` for an unknown amount `amt`, at 32 or
    /// 64 bits (32: low 32 bits shifted, result zero-extended): join of the
    /// shifts by every amount `amt` allows.
    pub fn lshift_by(self, amt: Tnum, insn_bitness: u8) -> Tnum {
        self.shift_by(amt, insn_bitness, |t, s, w| {
            if w == 32 {
                t.subreg().lshift(s).subreg()
            } else {
                t.lshift(s)
            }
        })
    }

    /// Sound logical `{x >> (s & (bitness-1))}` for an unknown amount.
    pub fn rshift_by(self, amt: Tnum, insn_bitness: u8) -> Tnum {
        self.shift_by(amt, insn_bitness, |t, s, w| {
            if w == 32 {
                t.subreg().rshift(s)
            } else {
                t.rshift(s)
            }
        })
    }

    /// Sound arithmetic `{x s>> (s & (bitness-1))}` for an unknown amount.
    pub fn arshift_by(self, amt: Tnum, insn_bitness: u8) -> Tnum {
        self.shift_by(amt, insn_bitness, |t, s, w| t.arshift(s, w))
    }

    /// Join of `f(self, s)` over the shift amounts `amt & (bitness-1)` allows.
    fn shift_by(self, amt: Tnum, insn_bitness: u8, f: impl Fn(Tnum, u8, u8) -> Tnum) -> Tnum {
        let w: u8 = if insn_bitness == 32 { 32 } else { 64 };
        if self.is_bottom() || amt.is_bottom() {
            return Tnum::BOTTOM;
        }
        let low = (w - 1) as u64;
        let a = Tnum::new(amt.value & low, amt.mask & low);
        let mut acc: Option<Tnum> = None;
        for s in 0..w {
            if a.contains_value(s as u64) {
                let r = f(self, s, w);
                acc = Some(match acc {
                    None => r,
                    Some(x) => x.union(r),
                });
            }
        }
        acc.unwrap_or(Tnum::BOTTOM)
    }
}

/// Half-multiply add of the old kernel: acc += (unknown * mask * value).
const fn hma(mut acc: Tnum, mut value: u64, mut mask: u64) -> Tnum {
    while mask != 0 {
        if mask & 1 != 0 {
            acc = acc.add(Tnum::new(0, value));
        }
        mask >>= 1;
        value <<= 1;
    }
    acc
}

/// Kernel tnum_strn: `(0x0; 0xff)`.
impl fmt::Display for Tnum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:#x}; {:#x})", self.value, self.mask)
    }
}

impl Lattice for Tnum {
    fn bottom() -> Self {
        Tnum::BOTTOM
    }
    fn top() -> Self {
        Tnum::UNKNOWN
    }
    fn is_bottom(&self) -> bool {
        Tnum::is_bottom(*self)
    }
    // gamma(self) ⊆ gamma(other)
    fn leq(&self, other: &Self) -> bool {
        if self.is_bottom() {
            return true;
        }
        if other.is_bottom() {
            return false;
        }
        other.tnum_in(*self)
    }
    // self := tnum_union(self, other)
    fn join(&mut self, other: &Self) -> bool {
        if other.is_bottom() {
            return false;
        }
        let new = if self.is_bottom() { *other } else { self.union(*other) };
        let changed = new != *self;
        *self = new;
        changed
    }
    // exact intersection, bottom on disagreement
    fn meet(&self, other: &Self) -> Self {
        self.meet_checked(*other).unwrap_or(Tnum::BOTTOM)
    }
    // join, then every bit from the highest newly unknown one up is unknown (up to
    // bit 31 when both keep the upper half known zero): a growing counter takes one
    // step, not one per bit
    fn widen(&self, newer: &Self, _thresholds: &Thresholds) -> Self {
        let mut r = *self;
        r.join(newer);
        let grown = r.mask & !self.mask;
        if grown == 0 || self.is_bottom() {
            return r;
        }
        let hb = 63 - grown.leading_zeros();
        let top: u64 = if (self.value | self.mask | newer.value | newer.mask) >> 32 == 0 { u32::MAX as u64 } else { u64::MAX };
        let mask = r.mask | (top & (u64::MAX << hb));
        Tnum::new(r.value & !mask, mask)
    }
    // finite height: narrowing is the meet
    fn narrow(&self, newer: &Self) -> Self {
        self.meet(newer)
    }
}

impl Gamma for Tnum {
    fn contains(&self, v: u64) -> bool {
        self.contains_value(v)
    }
    fn sample(&self, seed: u64) -> Option<u64> {
        if Tnum::is_bottom(*self) {
            return None;
        }
        let r = crate::testing::splitmix64(seed);
        Some(match seed % 4 {
            0 => self.value,
            1 => self.value | self.mask,
            _ => self.value | (r & self.mask),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, Rng};
    use proptest::prelude::*;

    /// All valid tnums whose unknown and known-1 bits are within the low `bits`.
    fn small_tnums(bits: u32) -> Vec<Tnum> {
        let n = 1u64 << bits;
        let mut v = Vec::new();
        for value in 0..n {
            for mask in 0..n {
                if value & mask == 0 {
                    v.push(Tnum::new(value, mask));
                }
            }
        }
        v
    }

    fn members(t: Tnum) -> Vec<u64> {
        // enumerate sub-masks of t.mask
        let mut out = Vec::new();
        let mut sub = t.mask;
        loop {
            out.push(t.value | sub);
            if sub == 0 {
                break;
            }
            sub = (sub - 1) & t.mask;
        }
        out
    }

    pub(crate) fn arb_tnum() -> impl Strategy<Value = Tnum> {
        prop_oneof![
            testing::strategies::interesting_u64().prop_map(Tnum::constant),
            (any::<u64>(), any::<u64>()).prop_map(|(v, m)| Tnum::new(v & !m, m)),
            (any::<u64>(), 0u32..64).prop_map(|(v, k)| {
                let m = if k == 0 { 0 } else { u64::MAX >> (64 - k) };
                Tnum::new(v & !m, m)
            }),
            (testing::strategies::interesting_u64(), testing::strategies::interesting_u64())
                .prop_map(|(a, b)| Tnum::range(a.min(b), a.max(b))),
            Just(Tnum::UNKNOWN),
        ]
    }

    #[test]
    fn range_matches_kernel_examples() {
        assert_eq!(Tnum::range(0, 255), Tnum::new(0, 0xff));
        assert_eq!(Tnum::range(4, 4), Tnum::constant(4));
        assert_eq!(Tnum::range(4, 7), Tnum::new(4, 3));
        assert_eq!(Tnum::range(0, u64::MAX), Tnum::UNKNOWN);
        assert_eq!(Tnum::range(1 << 63, u64::MAX), Tnum::new(1 << 63, (1 << 63) - 1));
    }

    #[test]
    fn display_is_kernel_tnum_strn() {
        assert_eq!(Tnum::new(0, 0xff).to_string(), "(0x0; 0xff)");
        assert_eq!(Tnum::new(0x10, 0x3).to_string(), "(0x10; 0x3)");
    }

    #[test]
    fn subreg_helpers() {
        let t = Tnum::new(0x10_0000_0004, 0xf_0000_0003);
        assert_eq!(t.subreg(), Tnum::new(4, 3));
        assert_eq!(t.clear_subreg(), Tnum::new(0x10_0000_0000, 0xf_0000_0000));
        assert_eq!(t.with_subreg(Tnum::constant(0xffff_ffff_0000_0007)), Tnum::new(0x10_0000_0007, 0xf_0000_0000));
        assert_eq!(t.const_subreg(9), Tnum::new(0x10_0000_0009, 0xf_0000_0000));
        assert!(Tnum::new(8, 0x30).is_aligned(8));
        assert!(!Tnum::new(8, 0x34).is_aligned(8));
    }

    #[test]
    fn sext_and_bswap_are_exact_examples() {
        assert_eq!(Tnum::constant(0x80).sext(8), Tnum::constant(0xffff_ffff_ffff_ff80));
        assert_eq!(Tnum::new(0, 0x80).sext(8), Tnum::new(0, 0xffff_ffff_ffff_ff80));
        assert_eq!(Tnum::new(0x1234, 0xff0000).bswap(16), Tnum::constant(0x3412));
        assert_eq!(Tnum::new(0x12, 0x0f00).bswap(32), Tnum::new(0x1200_0000, 0x000f_0000));
    }

    /// Exhaustive soundness over all tnums with 4 low bits (81 tnums, every
    /// concrete pair): results must contain every concrete result.
    #[test]
    fn exhaustive_4bit_binary_ops_sound() {
        type Op = (&'static str, fn(Tnum, Tnum) -> Tnum, fn(u64, u64) -> u64);
        let ops: [Op; 11] = [
            ("add", Tnum::add, u64::wrapping_add),
            ("sub", Tnum::sub, u64::wrapping_sub),
            ("mul", Tnum::mul, u64::wrapping_mul),
            ("mul_hma", Tnum::mul_hma, u64::wrapping_mul),
            ("mul_cgo", Tnum::mul_cgo, u64::wrapping_mul),
            ("mul_best", Tnum::mul_best, u64::wrapping_mul),
            ("and", Tnum::and, |x, y| x & y),
            ("or", Tnum::or, |x, y| x | y),
            ("xor", Tnum::xor, |x, y| x ^ y),
            ("union", Tnum::union, |x, _| x),
            ("lshift_by", |a, b| a.lshift_by(b, 64), |x, y| x << (y & 63)),
        ];
        let all = small_tnums(4);
        assert_eq!(all.len(), 81);
        for (name, abs, conc) in ops {
            for &a in &all {
                for &b in &all {
                    let r = abs(a, b);
                    for x in members(a) {
                        for y in members(b) {
                            let c = conc(x, y);
                            assert!(r.contains_value(c), "{name}({a}, {b}) = {r} misses {x} op {y} = {c}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn exhaustive_4bit_shifts_unary_and_meet() {
        let all = small_tnums(4);
        for &a in &all {
            for s in 0..4u8 {
                for x in members(a) {
                    assert!(a.lshift(s).contains_value(x << s));
                    assert!(a.rshift(s).contains_value(x >> s));
                    assert!(a.sext(4).contains_value(((x << 60) as i64 >> 60) as u64));
                    assert!(a.neg().contains_value(x.wrapping_neg()));
                }
            }
            for &b in &all {
                let m = a.meet_checked(b);
                let common: Vec<u64> = members(a).into_iter().filter(|&x| b.contains_value(x)).collect();
                match m {
                    None => assert!(common.is_empty(), "meet({a},{b}) empty but {common:?}"),
                    Some(m) => {
                        // exact: members of the meet are exactly the common members
                        let mut mm = members(m);
                        mm.sort_unstable();
                        let mut c = common.clone();
                        c.sort_unstable();
                        assert_eq!(mm, c);
                    }
                }
                // tnum_in is exact inclusion
                let incl = members(b).iter().all(|&x| a.contains_value(x));
                assert_eq!(a.tnum_in(b), incl);
                // union is the best tnum of the union
                let u = a.union(b);
                assert!(members(a).iter().chain(members(b).iter()).all(|&x| u.contains_value(x)));
            }
        }
    }

    #[test]
    fn exhaustive_4bit_shift_by_unknown_amount_32_and_arsh() {
        // amounts exercise the masking; values sit in the top 4 bits of the 32-bit word.
        let all = small_tnums(4);
        for &a in &all {
            let a_hi = a.lshift(28);
            for &b in &all {
                let amt = b.lshift(1); // even amounts 0..30, plus masking
                for x in members(a_hi) {
                    for y in members(amt) {
                        let s32 = (y & 31) as u32;
                        assert!(a_hi.lshift_by(amt, 32).contains_value(((x as u32) << s32) as u64));
                        assert!(a_hi.rshift_by(amt, 32).contains_value(((x as u32) >> s32) as u64));
                        assert!(a_hi
                            .arshift_by(amt, 32)
                            .contains_value(((x as u32 as i32) >> s32) as u32 as u64));
                        let x64 = x << 32;
                        let s64 = (y & 63) as u32;
                        assert!(a_hi.lshift(32).arshift_by(amt, 64).contains_value(((x64 as i64) >> s64) as u64));
                        assert!(a_hi.lshift(32).rshift_by(amt, 64).contains_value(x64 >> s64));
                    }
                }
            }
        }
    }

    #[test]
    fn lattice_laws_on_small_tnums() {
        let mut all = small_tnums(3);
        all.push(Tnum::BOTTOM);
        all.push(Tnum::UNKNOWN);
        for a in &all {
            for b in &all {
                for c in all.iter().step_by(3) {
                    testing::check_lattice_laws(a, b, c).unwrap();
                }
            }
        }
    }

    #[test]
    fn widening_terminates() {
        // ascending chain: more and more unknown low bits
        let steps = testing::check_widening(|i| Tnum::new(0, (1u64 << (i % 64)) - 1), &Thresholds::none(), 200).unwrap();
        assert!(steps <= 64 + 8);
        // a counter stepping by 8 from 0: the first widening makes bits 3..31 unknown
        // (the upper half stays known zero), the low 3 bits stay known
        let t = Thresholds::none();
        let w = Tnum::constant(0).widen(&Tnum::constant(8), &t);
        assert_eq!(w, Tnum::new(0, 0xffff_fff8));
        assert!(w.tnum_in(Tnum::constant(16)) && w.tnum_in(Tnum::constant(0xffff_fff8)));
        // 64-bit values widen to the top bit
        let w = Tnum::constant(1 << 40).widen(&Tnum::constant(1 << 41), &t);
        assert_eq!(w.mask, u64::MAX << 40);
        // no growth, no change
        let a = Tnum::new(0, 0xf0);
        assert_eq!(a.widen(&Tnum::constant(0x30), &t), a);
    }

    /// On random 8-bit inputs, count the pairs where one algorithm is strictly
    /// more precise (a strict subset) than the other.
    fn compare_mul(f: fn(Tnum, Tnum) -> Tnum, g: fn(Tnum, Tnum) -> Tnum, seed: u64) -> (u32, u32) {
        let mut rng = Rng::new(seed);
        let (mut f_better, mut g_better) = (0, 0);
        for _ in 0..20000 {
            let (v1, m1, v2, m2) = (rng.next_u64() & 0xff, rng.next_u64() & 0xff, rng.next_u64() & 0xff, rng.next_u64() & 0xff);
            let a = Tnum::new(v1 & !m1, m1);
            let b = Tnum::new(v2 & !m2, m2);
            let (x, y) = (f(a, b).cast(1), g(a, b).cast(1));
            if x != y && y.tnum_in(x) {
                f_better += 1;
            } else if x != y && x.tnum_in(y) {
                g_better += 1;
            }
        }
        (f_better, g_better)
    }

    #[test]
    fn mul_at_least_as_precise_as_hma_on_random_inputs() {
        // Neither algorithm dominates pointwise, but the newer ones win far more often.
        let (cgo, hma) = compare_mul(Tnum::mul_cgo, Tnum::mul_hma, 7);
        assert!(cgo >= hma, "cgo better {cgo} times, hma better {hma} times");
        let (new, hma) = compare_mul(Tnum::mul, Tnum::mul_hma, 8);
        assert!(new >= hma, "6.18 mul better {new} times, hma better {hma} times");
        let (new, cgo) = compare_mul(Tnum::mul, Tnum::mul_cgo, 9);
        assert!(new >= cgo, "6.18 mul better {new} times, cgo better {cgo} times");
    }

    type BinCase = (&'static str, Tnum, fn(u64, u64) -> u64);
    type UnCase = (&'static str, Tnum, Box<dyn Fn(u64) -> u64>);

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn binary_ops_sound(a in arb_tnum(), b in arb_tnum(), seed in any::<u64>()) {
            let mut rng = Rng::new(seed);
            let cases: [BinCase; 8] = [
                ("add", a.add(b), u64::wrapping_add),
                ("sub", a.sub(b), u64::wrapping_sub),
                ("mul", a.mul(b), u64::wrapping_mul),
                ("and", a.and(b), |x, y| x & y),
                ("or", a.or(b), |x, y| x | y),
                ("xor", a.xor(b), |x, y| x ^ y),
                ("lsh", a.lshift_by(b, 64), |x, y| x << (y & 63)),
                ("arsh", a.arshift_by(b, 64), |x, y| ((x as i64) >> (y & 63)) as u64),
            ];
            for (name, r, conc) in cases {
                testing::check_binary_sound(name, &a, &b, &r, conc, &mut rng, 24).map_err(TestCaseError::fail)?;
            }
            let r = a.rshift_by(b, 32);
            testing::check_binary_sound("rsh32", &a, &b, &r, |x, y| ((x as u32) >> (y & 31)) as u64, &mut rng, 24)
                .map_err(TestCaseError::fail)?;
        }

        #[test]
        fn unary_ops_sound(a in arb_tnum(), s in 0u8..64, seed in any::<u64>()) {
            let mut rng = Rng::new(seed);
            let cases: [UnCase; 9] = [
                ("neg", a.neg(), Box::new(|x: u64| x.wrapping_neg())),
                ("lshift", a.lshift(s), Box::new(move |x: u64| x << s)),
                ("rshift", a.rshift(s), Box::new(move |x: u64| x >> s)),
                ("arshift", a.arshift(s, 64), Box::new(move |x: u64| ((x as i64) >> s) as u64)),
                ("arshift32", a.arshift(s, 32), Box::new(move |x: u64| ((x as u32 as i32) >> (s & 31)) as u32 as u64)),
                ("sext8", a.sext(8), Box::new(|x: u64| x as u8 as i8 as i64 as u64)),
                ("sext32", a.sext(32), Box::new(|x: u64| x as u32 as i32 as i64 as u64)),
                ("bswap32", a.bswap(32), Box::new(|x: u64| (x as u32).swap_bytes() as u64)),
                ("cast2", a.cast(2), Box::new(|x: u64| x & 0xffff)),
            ];
            for (name, r, conc) in cases {
                testing::check_unary_sound(name, &a, &r, conc, &mut rng, 24).map_err(TestCaseError::fail)?;
            }
        }

        #[test]
        fn lattice_laws(a in arb_tnum(), b in arb_tnum(), c in arb_tnum()) {
            testing::check_lattice_laws(&a, &b, &c).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn range_contains_its_interval(a in testing::strategies::interesting_u64(), b in testing::strategies::interesting_u64()) {
            let (lo, hi) = (a.min(b), a.max(b));
            let t = Tnum::range(lo, hi);
            prop_assert!(t.contains_value(lo) && t.contains_value(hi));
            prop_assert!(t.contains_value(lo + (hi - lo) / 2));
        }
    }
}

impl Tnum {
    /// Largest member of gamma(self) that is <= x, if any: the longest prefix of x the
    /// tnum allows, then a 1 of x turned into an allowed 0, then the maximum below.
    /// Precision: lets an interval bound snap to the tnum (umax 63 with var_off (0x0; 0x7c) gives 60).
    pub fn floor(self, x: u64) -> Option<u64> {
        if self.is_bottom() {
            return None;
        }
        if self.contains_value(x) {
            return Some(x);
        }
        let diff = (x ^ self.value) & !self.mask;
        // Bits above i must agree with x; the lowest usable i gives the largest result.
        for i in 0..64u32 {
            let above_ok = if i == 63 { true } else { diff >> (i + 1) == 0 };
            if !above_ok {
                continue;
            }
            let bit = 1u64 << i;
            if x & bit != 0 && self.value & bit == 0 {
                let high = if i == 63 { 0 } else { x & !((bit << 1).wrapping_sub(1)) };
                let low = (self.value | self.mask) & (bit - 1);
                return Some(high | low);
            }
        }
        None
    }

    /// Smallest member of gamma(self) that is >= x, if any (the mirror of `floor`).
    pub fn ceil(self, x: u64) -> Option<u64> {
        if self.is_bottom() {
            return None;
        }
        if self.contains_value(x) {
            return Some(x);
        }
        let diff = (x ^ self.value) & !self.mask;
        for i in 0..64u32 {
            let above_ok = if i == 63 { true } else { diff >> (i + 1) == 0 };
            if !above_ok {
                continue;
            }
            let bit = 1u64 << i;
            if x & bit == 0 && (self.value | self.mask) & bit != 0 {
                let high = if i == 63 { 0 } else { x & !((bit << 1).wrapping_sub(1)) };
                let low = self.value & (bit - 1);
                return Some(high | bit | low);
            }
        }
        None
    }
}

#[cfg(test)]
mod floor_ceil_tests {
    use super::Tnum;

    fn members(t: Tnum) -> Vec<u64> {
        (0u64..256).filter(|&v| t.contains_value(v)).collect()
    }

    #[test]
    fn floor_and_ceil_are_exact_on_all_8_bit_tnums() {
        // Every 8-bit tnum (value & mask == 0), every x in 0..256.
        for mask in 0u64..256 {
            for value in 0u64..256 {
                if value & mask != 0 {
                    continue;
                }
                let t = Tnum::new(value, mask);
                let m = members(t);
                for x in 0u64..256 {
                    let want_floor = m.iter().copied().filter(|&v| v <= x).max();
                    let want_ceil = m.iter().copied().filter(|&v| v >= x).min();
                    assert_eq!(t.floor(x), want_floor, "floor {t:?} {x}");
                    assert_eq!(t.ceil(x), want_ceil, "ceil {t:?} {x}");
                }
            }
        }
    }

    #[test]
    fn floor_snaps_to_alignment() {
        let t = Tnum::new(0, 0x7c);
        assert_eq!(t.floor(63), Some(60));
        assert_eq!(t.ceil(61), Some(64));
        assert_eq!(t.floor(u64::MAX), Some(0x7c));
        assert_eq!(Tnum::new(8, 0).floor(7), None);
    }
}
