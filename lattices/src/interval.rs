//! Unsigned and signed intervals at 64 and 32 bits, with eBPF's wrap-around
//! ALU semantics: [`U64Range`], [`S64Range`], [`U32Range`], [`S32Range`].
//!
//! Representation: `{ min, max }` in the type's own order; `min > max` is the
//! empty interval (canonical: [`U64Range::EMPTY`] etc.).
//! Concretisation (as `Gamma`, on a 64-bit word `v`): U64: `min <= v <= max`;
//! S64: `min <= v as i64 <= max`; U32/S32: `v <= u32::MAX` and the 32-bit
//! word, read unsigned/signed, lies in `[min, max]`.
//!
//! Semantics of the operations (all total, as the eBPF ISA):
//! arithmetic wraps modulo 2^N; `x / 0 = 0`, `x % 0 = x`; signed
//! `MIN / -1 = MIN`, `MIN % -1 = 0`; shift amounts are masked with `N - 1`.
//! Each result is computed exactly over the mathematical integers (in i128 /
//! u128) and kept only when all exact results fall into one 2^N "band",
//! i.e. map to a contiguous range after wrapping; otherwise the result is the
//! full range.
//!
//! Known precision losses (intervals are convex, wrapped sets often are not):
//! - U64 `[0, 1] - [1, 1]` is `{u64::MAX, 0}`, which needs the full range.
//! - bitwise ops only use the bounds: U64 `[4, 5] & [2, 3]` gives `[0, 3]`
//!   (exact: {0, 1}); the reduced product recovers such bits via tnums.
//! - shifts by a range of amounts use the extreme amounts only.

use crate::lattice::{Gamma, Lattice, Thresholds};

/// Wrap the exact integer range [lo, hi] into `bits` bits unsigned when it
/// lies in one band of 2^bits; None when it straddles a wrap point.
fn band_u(lo: i128, hi: i128, bits: u32) -> Option<(u128, u128)> {
    // floor division by 2^bits is an arithmetic shift; the remainder a mask
    let m: i128 = (1i128 << bits) - 1;
    if lo > hi || (lo >> bits) != (hi >> bits) {
        return None;
    }
    Some(((lo & m) as u128, (hi & m) as u128))
}

/// Same as [`band_u`] for unsigned exact ranges up to 2^128.
fn band_u128(lo: u128, hi: u128, bits: u32) -> Option<(u128, u128)> {
    if lo > hi || (lo >> bits) != (hi >> bits) {
        return None;
    }
    let m = (1u128 << bits) - 1;
    Some((lo & m, hi & m))
}

/// Wrap the exact range [lo, hi] into `bits` bits signed (two's complement).
fn band_s(lo: i128, hi: i128, bits: u32) -> Option<(i128, i128)> {
    let half: i128 = 1i128 << (bits - 1);
    let (l, h) = band_u(lo + half, hi + half, bits)?;
    Some((l as i128 - half, h as i128 - half))
}

/// Possible masked shift amounts `[lo, hi]` for an amount in [min, max] and
/// mask `bits - 1`.
fn shift_amounts(min: u64, max: u64, bits: u32) -> (u32, u32) {
    let m = (bits - 1) as u64;
    if min > max {
        return (0, 0);
    }
    if (min & !m) == (max & !m) {
        ((min & m) as u32, (max & m) as u32)
    } else {
        (0, bits - 1)
    }
}

/// 2^k - 1 for the smallest k with x <= 2^k - 1.
fn ones_covering(x: u128) -> u128 {
    if x == 0 {
        0
    } else {
        u128::MAX >> x.leading_zeros()
    }
}

macro_rules! unsigned_range {
    ($name:ident, $u:ty, $s:ty, $bits:expr, $sname:ident, $below:ident, $above:ident) => {
        /// Unsigned interval `[min, max]`; empty when `min > max`.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub struct $name {
            /// Lower bound (inclusive).
            pub min: $u,
            /// Upper bound (inclusive).
            pub max: $u,
        }

        impl $name {
            /// Every value.
            pub const FULL: $name = $name { min: 0, max: <$u>::MAX };
            /// Canonical empty interval.
            pub const EMPTY: $name = $name { min: <$u>::MAX, max: 0 };
            /// Width in bits.
            pub const BITS: u32 = $bits;

            /// [min, max], or EMPTY when min > max.
            pub const fn new(min: $u, max: $u) -> $name {
                if min > max {
                    $name::EMPTY
                } else {
                    $name { min, max }
                }
            }
            /// {v}
            pub const fn constant(v: $u) -> $name {
                $name { min: v, max: v }
            }
            /// No values.
            pub const fn is_empty(&self) -> bool {
                self.min > self.max
            }
            /// Every value.
            pub const fn is_full(&self) -> bool {
                self.min == 0 && self.max == <$u>::MAX
            }
            /// v in [min, max].
            pub const fn has(&self, v: $u) -> bool {
                self.min <= v && v <= self.max
            }
            /// The single value, if any.
            pub const fn as_const(&self) -> Option<$u> {
                if self.min == self.max {
                    Some(self.min)
                } else {
                    None
                }
            }
            fn from_band(r: Option<(u128, u128)>) -> $name {
                match r {
                    Some((lo, hi)) => $name { min: lo as $u, max: hi as $u },
                    None => $name::FULL,
                }
            }
            /// Same values read as signed: exact unless the range crosses the sign bit.
            pub const fn to_signed(&self) -> $sname {
                if self.is_empty() {
                    $sname::EMPTY
                } else if (self.min as $s) <= (self.max as $s) {
                    $sname { min: self.min as $s, max: self.max as $s }
                } else {
                    $sname::FULL
                }
            }
            /// Hull: [min(a.min, b.min), max(a.max, b.max)].
            pub fn hull(&self, o: &$name) -> $name {
                if self.is_empty() {
                    return *o;
                }
                if o.is_empty() {
                    return *self;
                }
                $name { min: self.min.min(o.min), max: self.max.max(o.max) }
            }
            /// Intersection.
            pub fn intersect(&self, o: &$name) -> $name {
                $name::new(self.min.max(o.min), self.max.min(o.max))
            }

            // {x + y mod 2^N}: exact sum range if it stays in one band.
            pub fn add(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                $name::from_band(band_u(
                    self.min as i128 + o.min as i128,
                    self.max as i128 + o.max as i128,
                    $bits,
                ))
            }
            // {x - y mod 2^N}: [a.min - b.max, a.max - b.min] if in one band.
            pub fn sub(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                $name::from_band(band_u(
                    self.min as i128 - o.max as i128,
                    self.max as i128 - o.min as i128,
                    $bits,
                ))
            }
            // {x * y mod 2^N}: [a.min*b.min, a.max*b.max] if in one band.
            pub fn mul(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                $name::from_band(band_u128(
                    self.min as u128 * o.min as u128,
                    self.max as u128 * o.max as u128,
                    $bits,
                ))
            }
            // {x / y, with x / 0 = 0}: [a.min / b.max, a.max / max(b.min, 1)], plus 0 if 0 in b.
            pub fn udiv(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                if o.max == 0 {
                    return $name::constant(0);
                }
                let dlo = if o.min == 0 { 1 } else { o.min };
                let r = $name { min: self.min / o.max, max: self.max / dlo };
                if o.min == 0 {
                    $name { min: 0, max: r.max }
                } else {
                    r
                }
            }
            // {x % y, with x % 0 = x}: a itself if a < every divisor, else [0, min(a.max, b.max - 1)]; joined with a if 0 in b.
            pub fn umod(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                if o.max == 0 {
                    return *self;
                }
                let dlo = if o.min == 0 { 1 } else { o.min };
                let r = if self.max < dlo {
                    *self
                } else {
                    $name { min: 0, max: self.max.min(o.max - 1) }
                };
                if o.min == 0 {
                    r.hull(self)
                } else {
                    r
                }
            }
            // {x & y} within [0, min(a.max, b.max)].
            pub fn and(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                if let (Some(x), Some(y)) = (self.as_const(), o.as_const()) {
                    return $name::constant(x & y);
                }
                $name { min: 0, max: self.max.min(o.max) }
            }
            // {x | y} within [max(a.min, b.min), 2^k - 1 covering a.max | b.max].
            pub fn or(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                if let (Some(x), Some(y)) = (self.as_const(), o.as_const()) {
                    return $name::constant(x | y);
                }
                $name { min: self.min.max(o.min), max: ones_covering((self.max | o.max) as u128) as $u }
            }
            // {x ^ y} within [0, 2^k - 1 covering a.max | b.max].
            pub fn xor(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                if let (Some(x), Some(y)) = (self.as_const(), o.as_const()) {
                    return $name::constant(x ^ y);
                }
                $name { min: 0, max: ones_covering((self.max | o.max) as u128) as $u }
            }
            /// Masked shift amounts `[lo, hi]` of the amount interval `self`.
            pub fn shift_amounts(&self) -> (u32, u32) {
                shift_amounts(self.min as u64, self.max as u64, $bits)
            }
            // {x << (y & (N-1))}
            pub fn shl(&self, amt: &$name) -> $name {
                if self.is_empty() || amt.is_empty() {
                    return $name::EMPTY;
                }
                let (lo, hi) = amt.shift_amounts();
                self.shl_range(lo, hi)
            }
            // {x << s : s in [lo, hi]} (lo <= hi < N): [a.min << lo, a.max << hi] if in one band.
            pub fn shl_range(&self, lo: u32, hi: u32) -> $name {
                if self.is_empty() || lo > hi || hi >= $bits {
                    return if self.is_empty() { $name::EMPTY } else { $name::FULL };
                }
                $name::from_band(band_u128((self.min as u128) << lo, (self.max as u128) << hi, $bits))
            }
            // {x >> (y & (N-1))} logical
            pub fn shr(&self, amt: &$name) -> $name {
                if self.is_empty() || amt.is_empty() {
                    return $name::EMPTY;
                }
                let (lo, hi) = amt.shift_amounts();
                self.shr_range(lo, hi)
            }
            // {x >> s : s in [lo, hi]}: [a.min >> hi, a.max >> lo].
            pub fn shr_range(&self, lo: u32, hi: u32) -> $name {
                if self.is_empty() || lo > hi || hi >= $bits {
                    return if self.is_empty() { $name::EMPTY } else { $name::FULL };
                }
                $name { min: self.min >> hi, max: self.max >> lo }
            }
            // {x s>> (y & (N-1))}: via the signed view.
            pub fn sar(&self, amt: &$name) -> $name {
                self.to_signed().sar(&amt.to_signed()).to_unsigned()
            }
            // {x s/ y} with eBPF's signed division: via the signed view.
            pub fn sdiv(&self, o: &$name) -> $name {
                self.to_signed().sdiv(&o.to_signed()).to_unsigned()
            }
            // {x s% y} with eBPF's signed modulo: via the signed view.
            pub fn smod(&self, o: &$name) -> $name {
                self.to_signed().smod(&o.to_signed()).to_unsigned()
            }
            // {-x mod 2^N}: [2^N - a.max, 2^N - a.min] unless 0 is in a with other values.
            pub fn neg(&self) -> $name {
                if self.is_empty() {
                    return $name::EMPTY;
                }
                if self.max == 0 {
                    return $name::constant(0);
                }
                if self.min == 0 {
                    return $name::FULL;
                }
                $name { min: self.max.wrapping_neg(), max: self.min.wrapping_neg() }
            }
            // {x mod 2^k} zero-extended (k < N): exact if x >> k is constant over a.
            pub fn truncate(&self, k: u32) -> $name {
                if self.is_empty() {
                    return $name::EMPTY;
                }
                if k >= $bits {
                    return *self;
                }
                let m: $u = ((1u128 << k) - 1) as $u;
                if (self.min >> k) == (self.max >> k) {
                    $name { min: self.min & m, max: self.max & m }
                } else {
                    $name { min: 0, max: m }
                }
            }
            // {sign-extend of the low k bits}: via the signed view.
            pub fn sext(&self, k: u32) -> $name {
                self.to_signed().sext(k).to_unsigned()
            }
            // {byte swap of the low `bits` bits, upper bits cleared}: exact for constants.
            pub fn bswap(&self, bits: u32) -> $name {
                if self.is_empty() {
                    return $name::EMPTY;
                }
                if let Some(c) = self.as_const() {
                    let c = c as u64;
                    let r = match bits {
                        16 => (c as u16).swap_bytes() as u64,
                        32 => (c as u32).swap_bytes() as u64,
                        _ => c.swap_bytes(),
                    };
                    return $name::constant(r as $u);
                }
                if bits < $bits {
                    $name { min: 0, max: ((1u128 << bits) - 1) as $u }
                } else {
                    $name::FULL
                }
            }
        }

        impl Lattice for $name {
            fn bottom() -> Self {
                $name::EMPTY
            }
            fn top() -> Self {
                $name::FULL
            }
            fn is_bottom(&self) -> bool {
                self.is_empty()
            }
            // inclusion
            fn leq(&self, o: &Self) -> bool {
                self.is_empty() || (!o.is_empty() && o.min <= self.min && self.max <= o.max)
            }
            // hull
            fn join(&mut self, o: &Self) -> bool {
                let n = self.hull(o);
                let n = if n.is_empty() { $name::EMPTY } else { n };
                let c = n != *self;
                *self = n;
                c
            }
            // intersection
            fn meet(&self, o: &Self) -> Self {
                self.intersect(o)
            }
            // a bound that moves jumps to the next threshold beyond it
            fn widen(&self, newer: &Self, t: &Thresholds) -> Self {
                if self.is_empty() {
                    return *newer;
                }
                if newer.is_empty() {
                    return *self;
                }
                let min = if newer.min < self.min { t.$below(newer.min as _) as $u } else { self.min };
                let max = if newer.max > self.max { t.$above(newer.max as _) as $u } else { self.max };
                $name { min, max }
            }
            // bounds at the extremes (where widening may have sent them) take newer's
            fn narrow(&self, newer: &Self) -> Self {
                if self.is_empty() || newer.is_empty() {
                    return $name::EMPTY;
                }
                let min = if self.min == 0 { newer.min } else { self.min };
                let max = if self.max == <$u>::MAX { newer.max } else { self.max };
                $name::new(min, max)
            }
        }
    };
}

macro_rules! signed_range {
    ($name:ident, $u:ty, $s:ty, $bits:expr, $uname:ident, $below:ident, $above:ident) => {
        /// Signed interval `[min, max]`; empty when `min > max`.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub struct $name {
            /// Lower bound (inclusive).
            pub min: $s,
            /// Upper bound (inclusive).
            pub max: $s,
        }

        impl $name {
            /// Every value.
            pub const FULL: $name = $name { min: <$s>::MIN, max: <$s>::MAX };
            /// Canonical empty interval.
            pub const EMPTY: $name = $name { min: <$s>::MAX, max: <$s>::MIN };
            /// Width in bits.
            pub const BITS: u32 = $bits;

            /// [min, max], or EMPTY when min > max.
            pub const fn new(min: $s, max: $s) -> $name {
                if min > max {
                    $name::EMPTY
                } else {
                    $name { min, max }
                }
            }
            /// {v}
            pub const fn constant(v: $s) -> $name {
                $name { min: v, max: v }
            }
            /// No values.
            pub const fn is_empty(&self) -> bool {
                self.min > self.max
            }
            /// Every value.
            pub const fn is_full(&self) -> bool {
                self.min == <$s>::MIN && self.max == <$s>::MAX
            }
            /// v in [min, max].
            pub const fn has(&self, v: $s) -> bool {
                self.min <= v && v <= self.max
            }
            /// The single value, if any.
            pub const fn as_const(&self) -> Option<$s> {
                if self.min == self.max {
                    Some(self.min)
                } else {
                    None
                }
            }
            fn from_band(r: Option<(i128, i128)>) -> $name {
                match r {
                    Some((lo, hi)) => $name { min: lo as $s, max: hi as $s },
                    None => $name::FULL,
                }
            }
            fn from_exact(lo: i128, hi: i128) -> $name {
                $name::from_band(band_s(lo, hi, $bits))
            }
            /// Same values read as unsigned: exact unless the range crosses 0.
            pub const fn to_unsigned(&self) -> $uname {
                if self.is_empty() {
                    $uname::EMPTY
                } else if (self.min as $u) <= (self.max as $u) {
                    $uname { min: self.min as $u, max: self.max as $u }
                } else {
                    $uname::FULL
                }
            }
            /// Hull.
            pub fn hull(&self, o: &$name) -> $name {
                if self.is_empty() {
                    return *o;
                }
                if o.is_empty() {
                    return *self;
                }
                $name { min: self.min.min(o.min), max: self.max.max(o.max) }
            }
            /// Intersection.
            pub fn intersect(&self, o: &$name) -> $name {
                $name::new(self.min.max(o.min), self.max.min(o.max))
            }

            // {x + y} wrapped: exact sum range if in one band.
            pub fn add(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                $name::from_exact(self.min as i128 + o.min as i128, self.max as i128 + o.max as i128)
            }
            // {x - y} wrapped: [a.min - b.max, a.max - b.min] if in one band.
            pub fn sub(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                $name::from_exact(self.min as i128 - o.max as i128, self.max as i128 - o.min as i128)
            }
            // {x * y} wrapped: hull of the four corner products if in one band.
            pub fn mul(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                let c = [
                    self.min as i128 * o.min as i128,
                    self.min as i128 * o.max as i128,
                    self.max as i128 * o.min as i128,
                    self.max as i128 * o.max as i128,
                ];
                let lo = c.iter().copied().fold(i128::MAX, i128::min);
                let hi = c.iter().copied().fold(i128::MIN, i128::max);
                $name::from_exact(lo, hi)
            }
            /// Exact truncated quotients over the box a x [dlo, dhi] (0 not in it): corners.
            fn div_corners(&self, dlo: $s, dhi: $s) -> (i128, i128) {
                let c = [
                    self.min as i128 / dlo as i128,
                    self.min as i128 / dhi as i128,
                    self.max as i128 / dlo as i128,
                    self.max as i128 / dhi as i128,
                ];
                (c.iter().copied().fold(i128::MAX, i128::min), c.iter().copied().fold(i128::MIN, i128::max))
            }
            // {x s/ y}: eBPF x/0 = 0, MIN/-1 = MIN; corners per divisor sign, wrapped.
            pub fn sdiv(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                let mut r = $name::EMPTY;
                if o.min <= -1 {
                    let (lo, hi) = self.div_corners(o.min, o.max.min(-1));
                    r = r.hull(&$name::from_exact(lo, hi));
                }
                if o.max >= 1 {
                    let (lo, hi) = self.div_corners(o.min.max(1), o.max);
                    r = r.hull(&$name::from_exact(lo, hi));
                }
                if o.has(0) {
                    r = r.hull(&$name::constant(0));
                }
                r
            }
            // {x s% y}: eBPF x%0 = x, MIN%-1 = 0; |r| < |y|, sign of x, |r| <= |x|.
            pub fn smod(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                let mut r = $name::EMPTY;
                // magnitudes of the non-zero divisors
                let mut mag_max: i128 = 0;
                let mut mag_min: i128 = i128::MAX;
                if o.min <= -1 {
                    let (a, b) = (-(o.min as i128), -(o.max.min(-1) as i128));
                    mag_max = mag_max.max(a);
                    mag_min = mag_min.min(b);
                }
                if o.max >= 1 {
                    let (a, b) = (o.max as i128, o.min.max(1) as i128);
                    mag_max = mag_max.max(a);
                    mag_min = mag_min.min(b);
                }
                if mag_max > 0 {
                    let (amin, amax) = (self.min as i128, self.max as i128);
                    if amin > -mag_min && amax < mag_min {
                        r = *self;
                    } else {
                        let lo = if amin < 0 { amin.max(-(mag_max - 1)) } else { 0 };
                        let hi = if amax > 0 { amax.min(mag_max - 1) } else { 0 };
                        r = $name::from_exact(lo, hi);
                    }
                }
                if o.has(0) {
                    r = r.hull(self);
                }
                r
            }
            // {x & y}: via the unsigned view when neither straddles 0; bounded by a non-negative operand.
            pub fn and(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                let mut r = self.to_unsigned().and(&o.to_unsigned()).to_signed();
                if self.min >= 0 {
                    r = r.intersect(&$name { min: 0, max: self.max });
                }
                if o.min >= 0 {
                    r = r.intersect(&$name { min: 0, max: o.max });
                }
                if self.max < 0 && o.max < 0 {
                    r = r.intersect(&$name { min: <$s>::MIN, max: self.max.min(o.max) });
                }
                r
            }
            // {x | y}: via the unsigned view; negative if either operand is.
            pub fn or(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                let mut r = self.to_unsigned().or(&o.to_unsigned()).to_signed();
                // x | y >= x when x < 0 (same sign, superset of bits)
                if self.max < 0 {
                    r = r.intersect(&$name { min: self.min, max: -1 });
                }
                if o.max < 0 {
                    r = r.intersect(&$name { min: o.min, max: -1 });
                }
                r
            }
            // {x ^ y}: via the unsigned view.
            pub fn xor(&self, o: &$name) -> $name {
                if self.is_empty() || o.is_empty() {
                    return $name::EMPTY;
                }
                self.to_unsigned().xor(&o.to_unsigned()).to_signed()
            }
            // {x << (y & (N-1))}
            pub fn shl(&self, amt: &$name) -> $name {
                if self.is_empty() || amt.is_empty() {
                    return $name::EMPTY;
                }
                let (lo, hi) = amt.to_unsigned().shift_amounts();
                self.shl_range(lo, hi)
            }
            // {x * 2^s : s in [lo, hi]} wrapped: corners if in one band.
            pub fn shl_range(&self, lo: u32, hi: u32) -> $name {
                if self.is_empty() || lo > hi || hi >= $bits {
                    return if self.is_empty() { $name::EMPTY } else { $name::FULL };
                }
                let c = [
                    (self.min as i128) << lo,
                    (self.min as i128) << hi,
                    (self.max as i128) << lo,
                    (self.max as i128) << hi,
                ];
                $name::from_exact(
                    c.iter().copied().fold(i128::MAX, i128::min),
                    c.iter().copied().fold(i128::MIN, i128::max),
                )
            }
            // {x >> (y & (N-1))} logical: via the unsigned view; non-negative once the amount is >= 1.
            pub fn shr(&self, amt: &$name) -> $name {
                if self.is_empty() || amt.is_empty() {
                    return $name::EMPTY;
                }
                let (lo, hi) = amt.to_unsigned().shift_amounts();
                self.shr_range(lo, hi)
            }
            // {x >> s : s in [lo, hi]} logical.
            pub fn shr_range(&self, lo: u32, hi: u32) -> $name {
                if self.is_empty() || lo > hi || hi >= $bits {
                    return if self.is_empty() { $name::EMPTY } else { $name::FULL };
                }
                let r = self.to_unsigned().shr_range(lo, hi).to_signed();
                if lo >= 1 {
                    r.intersect(&$name { min: 0, max: (<$u>::MAX >> lo) as $s })
                } else {
                    r
                }
            }
            // {x s>> (y & (N-1))}
            pub fn sar(&self, amt: &$name) -> $name {
                if self.is_empty() || amt.is_empty() {
                    return $name::EMPTY;
                }
                let (lo, hi) = amt.to_unsigned().shift_amounts();
                self.sar_range(lo, hi)
            }
            // {x s>> s : s in [lo, hi]}: corners (monotone in x, towards 0/-1 in s).
            pub fn sar_range(&self, lo: u32, hi: u32) -> $name {
                if self.is_empty() || lo > hi || hi >= $bits {
                    return if self.is_empty() { $name::EMPTY } else { $name::FULL };
                }
                $name {
                    min: (self.min >> lo).min(self.min >> hi),
                    max: (self.max >> lo).max(self.max >> hi),
                }
            }
            // {-x} wrapped: [-a.max, -a.min] unless MIN is in a with other values.
            pub fn neg(&self) -> $name {
                if self.is_empty() {
                    return $name::EMPTY;
                }
                $name::from_exact(-(self.max as i128), -(self.min as i128))
            }
            // {sign-extension of the low k bits of x}: exact when the low-k-bit range is contiguous and on one side of its sign bit.
            pub fn sext(&self, k: u32) -> $name {
                if self.is_empty() {
                    return $name::EMPTY;
                }
                if k >= $bits || k == 0 {
                    return *self;
                }
                let low = self.to_unsigned().truncate(k);
                let half: u128 = 1u128 << (k - 1);
                let sx = |v: $u| -> $s {
                    let v = v as u128;
                    if v >= half {
                        (v as i128 - (half as i128) * 2) as $s
                    } else {
                        v as $s
                    }
                };
                if (low.min as u128) < half && (low.max as u128) >= half {
                    $name { min: -(half as i128) as $s, max: (half - 1) as $s }
                } else {
                    $name { min: sx(low.min), max: sx(low.max) }
                }
            }
            // {byte swap}: via the unsigned view.
            pub fn bswap(&self, bits: u32) -> $name {
                self.to_unsigned().bswap(bits).to_signed()
            }
        }

        impl Lattice for $name {
            fn bottom() -> Self {
                $name::EMPTY
            }
            fn top() -> Self {
                $name::FULL
            }
            fn is_bottom(&self) -> bool {
                self.is_empty()
            }
            // inclusion
            fn leq(&self, o: &Self) -> bool {
                self.is_empty() || (!o.is_empty() && o.min <= self.min && self.max <= o.max)
            }
            // hull
            fn join(&mut self, o: &Self) -> bool {
                let n = self.hull(o);
                let n = if n.is_empty() { $name::EMPTY } else { n };
                let c = n != *self;
                *self = n;
                c
            }
            // intersection
            fn meet(&self, o: &Self) -> Self {
                self.intersect(o)
            }
            // a bound that moves jumps to the next threshold beyond it
            fn widen(&self, newer: &Self, t: &Thresholds) -> Self {
                if self.is_empty() {
                    return *newer;
                }
                if newer.is_empty() {
                    return *self;
                }
                let min = if newer.min < self.min { t.$below(newer.min as _) as $s } else { self.min };
                let max = if newer.max > self.max { t.$above(newer.max as _) as $s } else { self.max };
                $name { min, max }
            }
            // bounds at the extremes take newer's
            fn narrow(&self, newer: &Self) -> Self {
                if self.is_empty() || newer.is_empty() {
                    return $name::EMPTY;
                }
                let min = if self.min == <$s>::MIN { newer.min } else { self.min };
                let max = if self.max == <$s>::MAX { newer.max } else { self.max };
                $name::new(min, max)
            }
        }
    };
}

unsigned_range!(U64Range, u64, i64, 64, S64Range, below_u64, above_u64);
unsigned_range!(U32Range, u32, i32, 32, S32Range, below_u32, above_u32);
signed_range!(S64Range, u64, i64, 64, U64Range, below_i64, above_i64);
signed_range!(S32Range, u32, i32, 32, U32Range, below_i32, above_i32);

impl Gamma for U64Range {
    fn contains(&self, v: u64) -> bool {
        self.has(v)
    }
    fn sample(&self, seed: u64) -> Option<u64> {
        sample_u(self.min as u128, self.max as u128, seed).map(|v| v as u64)
    }
}

impl Gamma for S64Range {
    fn contains(&self, v: u64) -> bool {
        self.has(v as i64)
    }
    fn sample(&self, seed: u64) -> Option<u64> {
        let half = 1u128 << 63;
        sample_u((self.min as i128 + half as i128) as u128, (self.max as i128 + half as i128) as u128, seed)
            .map(|v| (v as i128 - half as i128) as i64 as u64)
    }
}

impl Gamma for U32Range {
    fn contains(&self, v: u64) -> bool {
        v <= u32::MAX as u64 && self.has(v as u32)
    }
    fn sample(&self, seed: u64) -> Option<u64> {
        sample_u(self.min as u128, self.max as u128, seed).map(|v| v as u64)
    }
}

impl Gamma for S32Range {
    fn contains(&self, v: u64) -> bool {
        v <= u32::MAX as u64 && self.has(v as u32 as i32)
    }
    fn sample(&self, seed: u64) -> Option<u64> {
        let half = 1i128 << 31;
        sample_u((self.min as i128 + half) as u128, (self.max as i128 + half) as u128, seed)
            .map(|v| (v as i128 - half) as i32 as u32 as u64)
    }
}

/// A member of [lo, hi] (offset representation), favouring the edges.
fn sample_u(lo: u128, hi: u128, seed: u64) -> Option<u128> {
    if lo > hi {
        return None;
    }
    let r = crate::testing::splitmix64(seed) as u128;
    let span = hi - lo;
    Some(match seed % 6 {
        0 => lo,
        1 => hi,
        2 => lo + (r % 4).min(span),
        3 => hi - (r % 4).min(span),
        _ => lo + if span == u128::MAX { r } else { r % (span + 1) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::strategies::{srange, urange};
    use crate::testing::{self, Rng};
    use proptest::prelude::*;

    #[test]
    fn wrap_examples() {
        assert_eq!(U64Range::new(0, 1).sub(&U64Range::constant(1)), U64Range::FULL);
        assert_eq!(U64Range::new(5, 6).sub(&U64Range::constant(1)), U64Range::new(4, 5));
        // both ends overflow: still one band
        assert_eq!(
            U64Range::new(u64::MAX - 1, u64::MAX).add(&U64Range::new(2, 3)),
            U64Range::new(0, 2)
        );
        assert_eq!(S64Range::new(i64::MAX - 1, i64::MAX).add(&S64Range::constant(1)), S64Range::new(i64::MAX, i64::MIN).hull(&S64Range::FULL));
        assert_eq!(S64Range::new(-3, 4).mul(&S64Range::new(-2, 5)), S64Range::new(-15, 20));
        assert_eq!(U32Range::new(0xffff_fff0, 0xffff_ffff).add(&U32Range::constant(0x20)), U32Range::new(0x10, 0x1f));
        assert_eq!(S32Range::constant(i32::MIN).sdiv(&S32Range::constant(-1)), S32Range::constant(i32::MIN));
        assert_eq!(S64Range::constant(i64::MIN).smod(&S64Range::constant(-1)), S64Range::constant(0));
        assert_eq!(U64Range::new(10, 20).udiv(&U64Range::new(0, 2)), U64Range::new(0, 20));
        assert_eq!(U64Range::new(10, 20).umod(&U64Range::constant(0)), U64Range::new(10, 20));
        assert_eq!(U64Range::new(3, 4).umod(&U64Range::new(8, 9)), U64Range::new(3, 4));
        assert_eq!(S64Range::new(-1, 1).neg(), S64Range::new(-1, 1));
        assert_eq!(S64Range::new(i64::MIN, 0).neg(), S64Range::FULL);
        assert_eq!(U64Range::new(1, 2).shl(&U64Range::constant(65)), U64Range::new(2, 4));
        assert_eq!(S64Range::new(-8, 8).sar(&U64Range::constant(2).to_signed()), S64Range::new(-2, 2));
        assert_eq!(S64Range::new(0x7f, 0x80).sext(8), S64Range::FULL.sext(8));
        assert_eq!(S64Range::new(0x80, 0x81).sext(8), S64Range::new(-128, -127));
    }

    #[test]
    fn conversions_between_views() {
        assert_eq!(U64Range::new(1, 5).to_signed(), S64Range::new(1, 5));
        assert_eq!(U64Range::new(1, u64::MAX).to_signed(), S64Range::FULL);
        assert_eq!(S64Range::new(-2, -1).to_unsigned(), U64Range::new(u64::MAX - 1, u64::MAX));
        assert_eq!(S64Range::new(-2, 1).to_unsigned(), U64Range::FULL);
        assert!(U64Range::new(3, 2).is_empty());
    }

    #[test]
    fn widening_with_and_without_thresholds() {
        let t = Thresholds::from_constants([100]);
        let a = U64Range::new(0, 1);
        let w = a.widen(&U64Range::new(0, 2), &t);
        assert_eq!(w, U64Range::new(0, 99));
        let w2 = w.widen(&U64Range::new(0, 100), &t);
        assert_eq!(w2, U64Range::new(0, 100));
        assert_eq!(w2.widen(&U64Range::new(0, 102), &t), U64Range::FULL);
        let steps = testing::check_widening(|k| S64Range::new(-(k as i64), k as i64), &t, 100).unwrap();
        assert!(steps < 30);
        let steps = testing::check_widening(|k| U32Range::new(0, k as u32 * 1000), &Thresholds::none(), 100).unwrap();
        assert!(steps < 20);
        assert_eq!(U64Range::FULL.narrow(&U64Range::new(0, 9)), U64Range::new(0, 9));
    }

    fn urng(bits: u32) -> impl Strategy<Value = (u64, u64)> {
        urange().prop_map(move |(a, b)| {
            if bits == 32 {
                let (a, b) = (a as u32 as u64, b as u32 as u64);
                (a.min(b), a.max(b))
            } else {
                (a, b)
            }
        })
    }

    fn srng(bits: u32) -> impl Strategy<Value = (i64, i64)> {
        srange().prop_map(move |(a, b)| {
            if bits == 32 {
                let (a, b) = (a as i32 as i64, b as i32 as i64);
                (a.min(b), a.max(b))
            } else {
                (a, b)
            }
        })
    }

    /// Concrete eBPF op on words in the representation of `bits` (zero-extended for 32).
    fn conc(op: &str, bits: u32, x: u64, y: u64) -> u64 {
        if bits == 64 {
            let (sx, sy) = (x as i64, y as i64);
            match op {
                "add" => x.wrapping_add(y),
                "sub" => x.wrapping_sub(y),
                "mul" => x.wrapping_mul(y),
                "udiv" => x.checked_div(y).unwrap_or(0),
                "umod" => x.checked_rem(y).unwrap_or(x),
                "sdiv" => if sy == 0 { 0 } else { sx.wrapping_div(sy) as u64 },
                "smod" => if sy == 0 { x } else { sx.wrapping_rem(sy) as u64 },
                "and" => x & y,
                "or" => x | y,
                "xor" => x ^ y,
                "shl" => x << (y & 63),
                "shr" => x >> (y & 63),
                "sar" => (sx >> (y & 63)) as u64,
                _ => unreachable!(),
            }
        } else {
            let (x, y) = (x as u32, y as u32);
            let (sx, sy) = (x as i32, y as i32);
            (match op {
                "add" => x.wrapping_add(y),
                "sub" => x.wrapping_sub(y),
                "mul" => x.wrapping_mul(y),
                "udiv" => x.checked_div(y).unwrap_or(0),
                "umod" => x.checked_rem(y).unwrap_or(x),
                "sdiv" => if sy == 0 { 0 } else { sx.wrapping_div(sy) as u32 },
                "smod" => if sy == 0 { x } else { sx.wrapping_rem(sy) as u32 },
                "and" => x & y,
                "or" => x | y,
                "xor" => x ^ y,
                "shl" => x << (y & 31),
                "shr" => x >> (y & 31),
                "sar" => (sx >> (y & 31)) as u32,
                _ => unreachable!(),
            }) as u64
        }
    }

    const OPS: [&str; 13] = ["add", "sub", "mul", "udiv", "umod", "sdiv", "smod", "and", "or", "xor", "shl", "shr", "sar"];

    macro_rules! check_all_ops {
        ($a:expr, $b:expr, $bits:expr, $rng:expr) => {{
            let (a, b) = ($a, $b);
            for op in OPS {
                let r = match op {
                    "add" => a.add(&b),
                    "sub" => a.sub(&b),
                    "mul" => a.mul(&b),
                    "udiv" => a.udiv_v(&b),
                    "umod" => a.umod_v(&b),
                    "sdiv" => a.sdiv(&b),
                    "smod" => a.smod(&b),
                    "and" => a.and(&b),
                    "or" => a.or(&b),
                    "xor" => a.xor(&b),
                    "shl" => a.shl(&b),
                    "shr" => a.shr(&b),
                    _ => a.sar(&b),
                };
                testing::check_binary_sound(op, &a, &b, &r, |x, y| conc(op, $bits, x, y), $rng, 16)
                    .map_err(TestCaseError::fail)?;
            }
            for (name, r) in [("neg", a.neg()), ("sext8", a.sext(8)), ("sext16", a.sext(16)), ("bswap16", a.bswap(16)), ("bswap32", a.bswap(32))] {
                let f = |x: u64| -> u64 {
                    let v = match name {
                        "neg" => x.wrapping_neg(),
                        "sext8" => x as u8 as i8 as i64 as u64,
                        "sext16" => x as u16 as i16 as i64 as u64,
                        "bswap16" => (x as u16).swap_bytes() as u64,
                        _ => (x as u32).swap_bytes() as u64,
                    };
                    if $bits == 32 { v as u32 as u64 } else { v }
                };
                testing::check_unary_sound(name, &a, &r, f, $rng, 16).map_err(TestCaseError::fail)?;
            }
            testing::check_lattice_laws(&a, &b, &a.add(&b)).map_err(TestCaseError::fail)?;
        }};
    }

    /// Test-only helpers: the unsigned division ops on every type, via the unsigned view.
    trait UOps: Sized {
        fn udiv_v(&self, o: &Self) -> Self;
        fn umod_v(&self, o: &Self) -> Self;
    }
    macro_rules! uops {
        ($t:ty, unsigned) => {
            impl UOps for $t {
                fn udiv_v(&self, o: &Self) -> Self { self.udiv(o) }
                fn umod_v(&self, o: &Self) -> Self { self.umod(o) }
            }
        };
        ($t:ty, signed) => {
            impl UOps for $t {
                fn udiv_v(&self, o: &Self) -> Self { self.to_unsigned().udiv(&o.to_unsigned()).to_signed() }
                fn umod_v(&self, o: &Self) -> Self { self.to_unsigned().umod(&o.to_unsigned()).to_signed() }
            }
        };
    }
    uops!(U64Range, unsigned);
    uops!(U32Range, unsigned);
    uops!(S64Range, signed);
    uops!(S32Range, signed);

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn u64_ops_sound((a0, a1) in urng(64), (b0, b1) in urng(64), seed in any::<u64>()) {
            let mut rng = Rng::new(seed);
            check_all_ops!(U64Range::new(a0, a1), U64Range::new(b0, b1), 64, &mut rng);
        }

        #[test]
        fn u32_ops_sound((a0, a1) in urng(32), (b0, b1) in urng(32), seed in any::<u64>()) {
            let mut rng = Rng::new(seed);
            check_all_ops!(U32Range::new(a0 as u32, a1 as u32), U32Range::new(b0 as u32, b1 as u32), 32, &mut rng);
        }

        #[test]
        fn s64_ops_sound((a0, a1) in srng(64), (b0, b1) in srng(64), seed in any::<u64>()) {
            let mut rng = Rng::new(seed);
            check_all_ops!(S64Range::new(a0, a1), S64Range::new(b0, b1), 64, &mut rng);
        }

        #[test]
        fn s32_ops_sound((a0, a1) in srng(32), (b0, b1) in srng(32), seed in any::<u64>()) {
            let mut rng = Rng::new(seed);
            check_all_ops!(S32Range::new(a0 as i32, a1 as i32), S32Range::new(b0 as i32, b1 as i32), 32, &mut rng);
        }

        #[test]
        fn truncate_sound((a0, a1) in urng(64), k in 1u32..64, seed in any::<u64>()) {
            let mut rng = Rng::new(seed);
            let a = U64Range::new(a0, a1);
            let r = a.truncate(k);
            testing::check_unary_sound("truncate", &a, &r, |x| x & ((1u64 << k) - 1), &mut rng, 16).map_err(TestCaseError::fail)?;
            let s = a.to_signed();
            let r = s.sext(k);
            testing::check_unary_sound("sext", &s, &r, |x| ((x << (64 - k)) as i64 >> (64 - k)) as u64, &mut rng, 16).map_err(TestCaseError::fail)?;
        }
    }
}
