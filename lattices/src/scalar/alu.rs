//! ALU transfer functions on [`Scalar`]: every component is computed from
//! the same component of the operands (tnum ops of `crate::tnum`, interval
//! ops of `crate::interval`), the results are intersected and synced.
//!
//! W64 ops also compute the 32-bit components where the low 32 bits of the
//! result depend only on the low 32 bits of the operands (add, sub, mul,
//! bitwise, left shift, neg). W32 ops compute the 32-bit components and the
//! tnum of the low half, then zero-extend.
//!
//! Beyond the kernel (`adjust_scalar_min_max_vals`), which gives up on
//! non-constant shift amounts and on div/mod: shifts by ranges use the set of
//! possible masked amounts; div/mod use interval division; `<< k` for a
//! constant `k >= 32` is computed exactly from the 32-bit bounds (the kernel
//! only special-cases `<< 32` with non-negative s32 bounds).
//!
//! Known precision losses: each component is computed independently, so the
//! result is only as good as the best single view plus what sync recovers,
//! e.g. `[0, 3] * [0, 3]` gives `umax=9,var_off=(0x0; 0xf)` although 5, 7 and
//! 8 are not products.

use super::{BinOp, BitWidth, Scalar};
use crate::interval::{S32Range, S64Range, U32Range, U64Range};
use crate::scalar::concrete::eval_binop;
use crate::tnum::Tnum;

const UNKNOWN32: Tnum = Tnum::new(0, 0xffff_ffff);

/// The five result components before intersection.
struct Parts {
    t: Tnum,
    u: U64Range,
    s: S64Range,
    u32r: U32Range,
    s32r: S32Range,
}

impl Parts {
    fn finish(self) -> Scalar {
        Scalar::from_parts(self.t, self.u, self.s, self.u32r, self.s32r).synced()
    }
}

/// A scalar whose value is the zero-extension of a 32-bit value described by
/// (`t32`, `u32r`, `s32r`).
fn zext_parts(t32: Tnum, u32r: U32Range, s32r: S32Range) -> Scalar {
    if u32r.is_empty() || s32r.is_empty() || t32.is_bottom() {
        return Scalar::BOTTOM;
    }
    Parts {
        t: t32.subreg(),
        u: U64Range::new(u32r.min as u64, u32r.max as u64),
        s: S64Range::new(u32r.min as i64, u32r.max as i64),
        u32r,
        s32r,
    }
    .finish()
}

/// Bit set of the possible masked shift amounts `b & (bits - 1)`.
fn shift_amounts(b: &Scalar, width: BitWidth) -> u64 {
    let bits = width.bits() as u64;
    let mask = bits - 1;
    let low = Tnum::new(b.var_off.value & mask, b.var_off.mask & mask);
    let (lo, hi) = match width {
        BitWidth::W64 => (b.umin, b.umax),
        BitWidth::W32 => (b.u32_min as u64, b.u32_max as u64),
    };
    let mut set = 0u64;
    for s in 0..bits {
        if !low.contains_value(s) {
            continue;
        }
        if hi < bits && (s < lo || s > hi) {
            continue;
        }
        set |= 1 << s;
    }
    set
}

/// Join of `f(s)` over the amounts in `set`.
fn tnum_join_over(set: u64, f: impl Fn(u8) -> Tnum) -> Tnum {
    let mut acc: Option<Tnum> = None;
    let mut rest = set;
    while rest != 0 {
        let s = rest.trailing_zeros() as u8;
        rest &= rest - 1;
        let r = f(s);
        acc = Some(match acc {
            None => r,
            Some(a) => a.union(r),
        });
    }
    acc.unwrap_or(Tnum::BOTTOM)
}

impl Scalar {
    /// `a op b` with eBPF semantics at `width` (see `eval_binop`); W32
    /// computes on the low 32 bits and zero-extends the result.
    pub fn binop(op: BinOp, width: BitWidth, a: &Scalar, b: &Scalar) -> Scalar {
        if a.is_bottom() || b.is_bottom() {
            return Scalar::BOTTOM;
        }
        if let (Some(x), Some(y)) = (a.const_value(), b.const_value()) {
            return Scalar::constant(eval_binop(op, width, x, y));
        }
        match width {
            BitWidth::W64 => binop64(op, a, b),
            BitWidth::W32 => binop32(op, a, b),
        }
    }

    /// `-a` at `width` (W32: low 32 bits negated, zero-extended).
    pub fn neg(width: BitWidth, a: &Scalar) -> Scalar {
        if a.is_bottom() {
            return Scalar::BOTTOM;
        }
        match width {
            BitWidth::W64 => Parts {
                t: a.var_off.neg(),
                u: a.u64_range().neg(),
                s: a.s64_range().neg(),
                u32r: a.u32_range().neg(),
                s32r: a.s32_range().neg(),
            }
            .finish(),
            BitWidth::W32 => zext_parts(a.var_off.subreg().neg(), a.u32_range().neg(), a.s32_range().neg()),
        }
    }

    /// Low 32 bits zero-extended (`w = w`, 32-bit mov).
    pub fn zext32(&self) -> Scalar {
        if self.is_bottom() {
            return Scalar::BOTTOM;
        }
        zext_parts(self.var_off.subreg(), self.u32_range(), self.s32_range())
    }

    /// Sign-extend the low `from_bits` (8, 16, 32) bits (`movsx`, `ldsx`);
    /// with W32 the 32-bit result is zero-extended to 64 bits. Other
    /// `from_bits` values: 64 and above is the identity (then zero-extended
    /// for W32), 0 is treated as 1.
    pub fn sext(&self, from_bits: u8, width: BitWidth) -> Scalar {
        if self.is_bottom() {
            return Scalar::BOTTOM;
        }
        let k = from_bits.max(1);
        if k >= 64 {
            return match width {
                BitWidth::W64 => *self,
                BitWidth::W32 => self.zext32(),
            };
        }
        let kk = k as u32;
        // low 32 bits of the result: sign-extension of the low k bits to 32 bits
        let (u32r, s32r) = if kk >= 32 {
            (self.u32_range(), self.s32_range())
        } else {
            (self.u32_range().sext(kk), self.s32_range().sext(kk))
        };
        match width {
            BitWidth::W32 => {
                if kk >= 32 {
                    return self.zext32();
                }
                zext_parts(self.var_off.sext(k).subreg(), u32r, s32r)
            }
            BitWidth::W64 => {
                // 64-bit signed value: sign-extension of the low k bits; the
                // s32 bounds say nothing about it when k > 32 (found by
                // `prove-domains`: scalar.sext33.w64)
                let from32 = if kk > 32 {
                    S64Range::FULL
                } else if kk == 32 {
                    S64Range::new(self.s32_min as i64, self.s32_max as i64)
                } else {
                    let v = self.s32_range().sext(kk);
                    S64Range::new(v.min as i64, v.max as i64)
                };
                let s = from32.intersect(&self.s64_range().sext(kk));
                Parts { t: self.var_off.sext(k), u: self.u64_range().sext(kk), s, u32r, s32r }.finish()
            }
        }
    }

    /// Keep the low `bytes` bytes, zero-extended (narrow loads and stores).
    pub fn truncate(&self, bytes: u32) -> Scalar {
        if self.is_bottom() {
            return Scalar::BOTTOM;
        }
        if bytes >= 8 {
            return *self;
        }
        if bytes == 4 {
            return self.zext32();
        }
        let k = bytes * 8;
        let t = self.var_off.cast(bytes as u8);
        if k < 32 {
            let low = self.u32_range().truncate(k);
            let low64 = self.u64_range().truncate(k);
            let low = low.intersect(&U32Range::new(low64.min as u32, low64.max as u32));
            zext_parts(t, low, low.to_signed())
        } else {
            Parts { t, u: self.u64_range().truncate(k), s: S64Range::FULL, u32r: self.u32_range(), s32r: self.s32_range() }
                .finish()
        }
    }

    /// Unconditional byte swap of the low `bits` (16, 32, 64; anything else
    /// is treated as 64) bits, upper bits cleared (`bswap16/32/64`).
    pub fn bswap(&self, bits: u8) -> Scalar {
        if self.is_bottom() {
            return Scalar::BOTTOM;
        }
        let bits = match bits {
            16 | 32 => bits,
            _ => 64,
        };
        Scalar::from_tnum(self.var_off.bswap(bits))
    }

    /// `htobe{16,32,64}` on a little-endian host: a byte swap.
    pub fn to_be(&self, bits: u8) -> Scalar {
        self.bswap(bits)
    }

    /// `htole{16,32,64}` on a little-endian host: truncation to `bits`.
    pub fn to_le(&self, bits: u8) -> Scalar {
        self.truncate((bits as u32).div_ceil(8))
    }
}

fn binop64(op: BinOp, a: &Scalar, b: &Scalar) -> Scalar {
    let (ta, tb) = (a.var_off, b.var_off);
    let (ua, ub) = (a.u64_range(), b.u64_range());
    let (sa, sb) = (a.s64_range(), b.s64_range());
    let (u32a, u32b) = (a.u32_range(), b.u32_range());
    let (s32a, s32b) = (a.s32_range(), b.s32_range());
    let parts = match op {
        BinOp::Add => Parts { t: ta.add(tb), u: ua.add(&ub), s: sa.add(&sb), u32r: u32a.add(&u32b), s32r: s32a.add(&s32b) },
        BinOp::Sub => Parts { t: ta.sub(tb), u: ua.sub(&ub), s: sa.sub(&sb), u32r: u32a.sub(&u32b), s32r: s32a.sub(&s32b) },
        BinOp::Mul => Parts { t: ta.mul_best(tb), u: ua.mul(&ub), s: sa.mul(&sb), u32r: u32a.mul(&u32b), s32r: s32a.mul(&s32b) },
        BinOp::And => Parts { t: ta.and(tb), u: ua.and(&ub), s: sa.and(&sb), u32r: u32a.and(&u32b), s32r: s32a.and(&s32b) },
        BinOp::Or => Parts { t: ta.or(tb), u: ua.or(&ub), s: sa.or(&sb), u32r: u32a.or(&u32b), s32r: s32a.or(&s32b) },
        BinOp::Xor => Parts { t: ta.xor(tb), u: ua.xor(&ub), s: sa.xor(&sb), u32r: u32a.xor(&u32b), s32r: s32a.xor(&s32b) },
        BinOp::Div => Parts { t: div_tnum(a, b), u: ua.udiv(&ub), s: S64Range::FULL, u32r: U32Range::FULL, s32r: S32Range::FULL },
        BinOp::Mod => Parts { t: mod_tnum(a, b), u: ua.umod(&ub), s: S64Range::FULL, u32r: U32Range::FULL, s32r: S32Range::FULL },
        BinOp::SDiv => Parts { t: Tnum::UNKNOWN, u: U64Range::FULL, s: sa.sdiv(&sb), u32r: U32Range::FULL, s32r: S32Range::FULL },
        BinOp::SMod => Parts { t: Tnum::UNKNOWN, u: U64Range::FULL, s: sa.smod(&sb), u32r: U32Range::FULL, s32r: S32Range::FULL },
        BinOp::Lsh | BinOp::Rsh | BinOp::Arsh => return shift64(op, a, b),
    };
    parts.finish()
}

fn shift64(op: BinOp, a: &Scalar, b: &Scalar) -> Scalar {
    let set = shift_amounts(b, BitWidth::W64);
    if set == 0 {
        return Scalar::BOTTOM;
    }
    let lo = set.trailing_zeros();
    let hi = 63 - set.leading_zeros();
    let ta = a.var_off;
    let parts = match op {
        BinOp::Lsh => {
            // low 32 bits of x << s: (low32 x) << s for s < 32, 0 for s >= 32
            let (u32r, s32r) = if hi < 32 {
                (a.u32_range().shl_range(lo, hi), a.s32_range().shl_range(lo, hi))
            } else if lo >= 32 {
                (U32Range::constant(0), S32Range::constant(0))
            } else {
                (U32Range::FULL, S32Range::FULL)
            };
            let mut u = a.u64_range().shl_range(lo, hi);
            let mut s = a.s64_range().shl_range(lo, hi);
            if lo == hi && lo >= 32 {
                // x << k keeps only the low 64-k bits of x, all within the low half
                let k = lo;
                let lowu = a.u32_range().truncate(64 - k);
                u = u.intersect(&U64Range::new((lowu.min as u64) << k, (lowu.max as u64) << k));
                let lows = a.s32_range().sext(64 - k);
                s = s.intersect(&S64Range::new((lows.min as i64) << k, (lows.max as i64) << k));
            }
            Parts { t: tnum_join_over(set, |s| ta.lshift(s)), u, s, u32r, s32r }
        }
        BinOp::Rsh => Parts {
            t: tnum_join_over(set, |s| ta.rshift(s)),
            u: a.u64_range().shr_range(lo, hi),
            s: a.s64_range().shr_range(lo, hi),
            u32r: U32Range::FULL,
            s32r: S32Range::FULL,
        },
        _ => Parts {
            t: tnum_join_over(set, |s| ta.arshift(s, 64)),
            u: a.s64_range().sar_range(lo, hi).to_unsigned(),
            s: a.s64_range().sar_range(lo, hi),
            u32r: U32Range::FULL,
            s32r: S32Range::FULL,
        },
    };
    parts.finish()
}

/// Tnum of `a / b` (unsigned): a shift when b is a constant power of two.
fn div_tnum(a: &Scalar, b: &Scalar) -> Tnum {
    match b.const_value() {
        Some(d) if d.is_power_of_two() => a.var_off.rshift(d.trailing_zeros() as u8),
        _ => Tnum::UNKNOWN,
    }
}

/// Tnum of `a % b` (unsigned): a mask when b is a constant power of two.
fn mod_tnum(a: &Scalar, b: &Scalar) -> Tnum {
    match b.const_value() {
        Some(d) if d.is_power_of_two() => a.var_off.and(Tnum::constant(d - 1)),
        Some(0) => a.var_off,
        _ => Tnum::UNKNOWN,
    }
}

fn binop32(op: BinOp, a: &Scalar, b: &Scalar) -> Scalar {
    let (ta, tb) = (a.var_off.subreg(), b.var_off.subreg());
    let (ua, ub) = (a.u32_range(), b.u32_range());
    let (sa, sb) = (a.s32_range(), b.s32_range());
    let (t, u, s) = match op {
        BinOp::Add => (ta.add(tb), ua.add(&ub), sa.add(&sb)),
        BinOp::Sub => (ta.sub(tb), ua.sub(&ub), sa.sub(&sb)),
        BinOp::Mul => (ta.mul_best(tb), ua.mul(&ub), sa.mul(&sb)),
        BinOp::And => (ta.and(tb), ua.and(&ub), sa.and(&sb)),
        BinOp::Or => (ta.or(tb), ua.or(&ub), sa.or(&sb)),
        BinOp::Xor => (ta.xor(tb), ua.xor(&ub), sa.xor(&sb)),
        BinOp::Div => (div_tnum(&a.zext32(), &b.zext32()), ua.udiv(&ub), S32Range::FULL),
        BinOp::Mod => (mod_tnum(&a.zext32(), &b.zext32()), ua.umod(&ub), S32Range::FULL),
        BinOp::SDiv => (UNKNOWN32, U32Range::FULL, sa.sdiv(&sb)),
        BinOp::SMod => (UNKNOWN32, U32Range::FULL, sa.smod(&sb)),
        BinOp::Lsh | BinOp::Rsh | BinOp::Arsh => {
            let set = shift_amounts(b, BitWidth::W32);
            if set == 0 {
                return Scalar::BOTTOM;
            }
            let lo = set.trailing_zeros();
            let hi = 63 - set.leading_zeros();
            match op {
                BinOp::Lsh => (tnum_join_over(set, |s| ta.lshift(s)), ua.shl_range(lo, hi), sa.shl_range(lo, hi)),
                BinOp::Rsh => (tnum_join_over(set, |s| ta.rshift(s)), ua.shr_range(lo, hi), sa.shr_range(lo, hi)),
                _ => (
                    tnum_join_over(set, |s| ta.arshift(s, 32)),
                    sa.sar_range(lo, hi).to_unsigned(),
                    sa.sar_range(lo, hi),
                ),
            }
        }
    };
    zext_parts(t.subreg(), u, s)
}
