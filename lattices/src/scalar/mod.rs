//! `Scalar`: the reduced product of a tnum and four intervals, mirroring the
//! kernel's `struct bpf_reg_state` scalar fields.
//!
//! Representation: `var_off` (tnum), `umin..=umax` (u64), `smin..=smax` (i64),
//! `u32_min..=u32_max` and `s32_min..=s32_max` (the low 32 bits read unsigned
//! and signed).
//! Concretisation: gamma(s) = { v : v in gamma(var_off), umin <= v <= umax,
//! smin <= v as i64 <= smax, u32_min <= v as u32 <= u32_max,
//! s32_min <= v as i32 <= s32_max } — the intersection of the components.
//! Bottom: any component empty (`min > max`, or `var_off.value & var_off.mask
//! != 0`); [`Scalar::bottom`] is canonical and every operation returns it.
//!
//! Every transfer function computes each component from the corresponding
//! components of its inputs and then runs [`Scalar::sync`] (the kernel's
//! `reg_bounds_sync`: `__update_reg_bounds`, `__reg_deduce_bounds` three
//! times, `__reg_bound_offset`, `__update_reg_bounds`), so information flows
//! between the views ("reduced product").
//!
//! Known precision losses:
//! - the components are convex or bit-wise; a set like {0, 5} is kept as
//!   `umin=0,umax=5,var_off=(0x0; 0x7)` (6 spurious values).
//! - the kernel's sync is not a complete reduction: e.g. `umin=1,umax=3`
//!   with `var_off=(0x0; 0x4)` ({0, 4} ∩ [1, 3] = ∅) is not detected as bottom
//!   because sync only looks at the tnum's extreme values.
//! - `leq` and `join` are component-wise (join does not re-sync), so two
//!   scalars with the same gamma may compare as unordered.

mod alu;
mod concrete;
mod display;
mod refine;
mod sync;

pub use concrete::{eval_binop, eval_cmp};

use crate::interval::{S32Range, S64Range, U32Range, U64Range};
use crate::lattice::{Gamma, Lattice, Thresholds};
use crate::tnum::Tnum;

/// Abstract eBPF scalar: see the module documentation for the meaning.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Scalar {
    /// Known bits.
    pub var_off: Tnum,
    /// Unsigned 64-bit bounds.
    pub umin: u64,
    /// Unsigned 64-bit upper bound.
    pub umax: u64,
    /// Signed 64-bit lower bound.
    pub smin: i64,
    /// Signed 64-bit upper bound.
    pub smax: i64,
    /// Unsigned bounds of the low 32 bits.
    pub u32_min: u32,
    /// Unsigned upper bound of the low 32 bits.
    pub u32_max: u32,
    /// Signed bounds of the low 32 bits.
    pub s32_min: i32,
    /// Signed upper bound of the low 32 bits.
    pub s32_max: i32,
}

/// Operand width of an ALU or JMP instruction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BitWidth {
    /// ALU32 / JMP32: the low 32 bits; ALU32 results are zero-extended.
    W32,
    /// ALU64 / JMP.
    W64,
}

impl BitWidth {
    /// 32 or 64.
    pub const fn bits(self) -> u8 {
        match self {
            BitWidth::W32 => 32,
            BitWidth::W64 => 64,
        }
    }
}

/// Binary ALU operations with eBPF semantics (see [`eval_binop`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BinOp {
    /// Wrapping addition.
    Add,
    /// Wrapping subtraction.
    Sub,
    /// Wrapping multiplication.
    Mul,
    /// Unsigned division, x / 0 = 0.
    Div,
    /// Signed division, x / 0 = 0, MIN / -1 = MIN.
    SDiv,
    /// Unsigned modulo, x % 0 = x.
    Mod,
    /// Signed modulo (sign of the dividend), x % 0 = x, MIN % -1 = 0.
    SMod,
    /// Bitwise or.
    Or,
    /// Bitwise and.
    And,
    /// Bitwise xor.
    Xor,
    /// Left shift by `y & (bits-1)`.
    Lsh,
    /// Logical right shift by `y & (bits-1)`.
    Rsh,
    /// Arithmetic right shift by `y & (bits-1)`.
    Arsh,
}

/// Conditional-jump comparisons (`a cmp b`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Cmp {
    /// a == b
    Eq,
    /// a != b
    Ne,
    /// a > b unsigned
    Gt,
    /// a >= b unsigned
    Ge,
    /// a < b unsigned
    Lt,
    /// a <= b unsigned
    Le,
    /// a > b signed
    SGt,
    /// a >= b signed
    SGe,
    /// a < b signed
    SLt,
    /// a <= b signed
    SLe,
    /// a & b != 0
    Set,
}

impl Cmp {
    /// The comparison that holds exactly when `self` does not; None for
    /// `Set` (its negation `a & b == 0` is handled by `refine(.., taken=false, ..)`).
    pub fn negate(self) -> Option<Cmp> {
        Some(match self {
            Cmp::Eq => Cmp::Ne,
            Cmp::Ne => Cmp::Eq,
            Cmp::Gt => Cmp::Le,
            Cmp::Ge => Cmp::Lt,
            Cmp::Lt => Cmp::Ge,
            Cmp::Le => Cmp::Gt,
            Cmp::SGt => Cmp::SLe,
            Cmp::SGe => Cmp::SLt,
            Cmp::SLt => Cmp::SGe,
            Cmp::SLe => Cmp::SGt,
            Cmp::Set => return None,
        })
    }

    /// The comparison with operands swapped: `a < b` iff `b > a`.
    pub fn swap(self) -> Cmp {
        match self {
            Cmp::Eq => Cmp::Eq,
            Cmp::Ne => Cmp::Ne,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::SGt => Cmp::SLt,
            Cmp::SGe => Cmp::SLe,
            Cmp::SLt => Cmp::SGt,
            Cmp::SLe => Cmp::SGe,
            Cmp::Set => Cmp::Set,
        }
    }
}

impl Scalar {
    /// Canonical bottom (every component empty).
    pub const BOTTOM: Scalar = Scalar {
        var_off: Tnum::BOTTOM,
        umin: u64::MAX,
        umax: 0,
        smin: i64::MAX,
        smax: i64::MIN,
        u32_min: u32::MAX,
        u32_max: 0,
        s32_min: i32::MAX,
        s32_max: i32::MIN,
    };

    /// Top: any 64-bit value (the kernel's `__mark_reg_unknown`).
    pub const fn unknown() -> Scalar {
        Scalar {
            var_off: Tnum::UNKNOWN,
            umin: 0,
            umax: u64::MAX,
            smin: i64::MIN,
            smax: i64::MAX,
            u32_min: 0,
            u32_max: u32::MAX,
            s32_min: i32::MIN,
            s32_max: i32::MAX,
        }
    }

    /// Exactly {v} (the kernel's `__mark_reg_known`).
    pub const fn constant(v: u64) -> Scalar {
        Scalar {
            var_off: Tnum::constant(v),
            umin: v,
            umax: v,
            smin: v as i64,
            smax: v as i64,
            u32_min: v as u32,
            u32_max: v as u32,
            s32_min: v as u32 as i32,
            s32_max: v as u32 as i32,
        }
    }

    /// The value when `var_off` is constant (and not bottom).
    pub fn const_value(&self) -> Option<u64> {
        if self.is_bottom() || !self.var_off.is_const() {
            None
        } else {
            Some(self.var_off.value)
        }
    }

    /// {v : lo <= v <= hi} unsigned (bottom if lo > hi), synced.
    pub fn from_urange(lo: u64, hi: u64) -> Scalar {
        if lo > hi {
            return Scalar::BOTTOM;
        }
        let mut s = Scalar::unknown();
        s.umin = lo;
        s.umax = hi;
        s.synced()
    }

    /// {v : lo <= v as i64 <= hi} (bottom if lo > hi), synced.
    pub fn from_srange(lo: i64, hi: i64) -> Scalar {
        if lo > hi {
            return Scalar::BOTTOM;
        }
        let mut s = Scalar::unknown();
        s.smin = lo;
        s.smax = hi;
        s.synced()
    }

    /// {v in gamma(t)}, synced.
    pub fn from_tnum(t: Tnum) -> Scalar {
        if t.is_bottom() {
            return Scalar::BOTTOM;
        }
        let mut s = Scalar::unknown();
        s.var_off = t;
        s.synced()
    }

    /// Product of the five components, not synced (bottom if one is empty).
    pub fn from_parts(var_off: Tnum, u: U64Range, s: S64Range, u32r: U32Range, s32r: S32Range) -> Scalar {
        let r = Scalar {
            var_off,
            umin: u.min,
            umax: u.max,
            smin: s.min,
            smax: s.max,
            u32_min: u32r.min,
            u32_max: u32r.max,
            s32_min: s32r.min,
            s32_max: s32r.max,
        };
        if r.is_bottom() {
            Scalar::BOTTOM
        } else {
            r
        }
    }

    /// The unsigned 64-bit component.
    pub const fn u64_range(&self) -> U64Range {
        U64Range { min: self.umin, max: self.umax }
    }
    /// The signed 64-bit component.
    pub const fn s64_range(&self) -> S64Range {
        S64Range { min: self.smin, max: self.smax }
    }
    /// The unsigned 32-bit component.
    pub const fn u32_range(&self) -> U32Range {
        U32Range { min: self.u32_min, max: self.u32_max }
    }
    /// The signed 32-bit component.
    pub const fn s32_range(&self) -> S32Range {
        S32Range { min: self.s32_min, max: self.s32_max }
    }

    /// v in gamma(self): in every component.
    pub fn contains(&self, v: u64) -> bool {
        self.var_off.contains_value(v)
            && self.umin <= v
            && v <= self.umax
            && self.smin <= v as i64
            && v as i64 <= self.smax
            && self.u32_min <= v as u32
            && v as u32 <= self.u32_max
            && self.s32_min <= v as u32 as i32
            && v as u32 as i32 <= self.s32_max
    }

    /// Whether some component is empty.
    pub const fn is_bottom(&self) -> bool {
        self.var_off.is_bottom()
            || self.umin > self.umax
            || self.smin > self.smax
            || self.u32_min > self.u32_max
            || self.s32_min > self.s32_max
    }

    /// Top (every component unbounded).
    pub fn is_unknown(&self) -> bool {
        *self == Scalar::unknown()
    }

    /// Bottom made canonical.
    fn canon(self) -> Scalar {
        if self.is_bottom() {
            Scalar::BOTTOM
        } else {
            self
        }
    }
}

impl Lattice for Scalar {
    fn bottom() -> Self {
        Scalar::BOTTOM
    }
    fn top() -> Self {
        Scalar::unknown()
    }
    fn is_bottom(&self) -> bool {
        Scalar::is_bottom(self)
    }
    // component-wise inclusion
    fn leq(&self, o: &Self) -> bool {
        if self.is_bottom() {
            return true;
        }
        if o.is_bottom() {
            return false;
        }
        self.var_off.leq(&o.var_off)
            && self.u64_range().leq(&o.u64_range())
            && self.s64_range().leq(&o.s64_range())
            && self.u32_range().leq(&o.u32_range())
            && self.s32_range().leq(&o.s32_range())
    }
    // component-wise hull (tnum union), not re-synced
    fn join(&mut self, o: &Self) -> bool {
        if o.is_bottom() {
            return false;
        }
        if self.is_bottom() {
            let c = *self != *o;
            *self = *o;
            return c;
        }
        let n = Scalar::from_parts(
            self.var_off.union(o.var_off),
            self.u64_range().hull(&o.u64_range()),
            self.s64_range().hull(&o.s64_range()),
            self.u32_range().hull(&o.u32_range()),
            self.s32_range().hull(&o.s32_range()),
        );
        let c = n != *self;
        *self = n;
        c
    }
    // component-wise intersection, then synced
    fn meet(&self, o: &Self) -> Self {
        if self.is_bottom() || o.is_bottom() {
            return Scalar::BOTTOM;
        }
        Scalar::from_parts(
            self.var_off.meet(&o.var_off),
            self.u64_range().intersect(&o.u64_range()),
            self.s64_range().intersect(&o.s64_range()),
            self.u32_range().intersect(&o.u32_range()),
            self.s32_range().intersect(&o.s32_range()),
        )
        .synced()
    }
    // per component: intervals jump to thresholds, the tnum's grown bits spread upwards; not re-synced
    fn widen(&self, newer: &Self, t: &Thresholds) -> Self {
        if self.is_bottom() {
            return *newer;
        }
        if newer.is_bottom() {
            return *self;
        }
        Scalar::from_parts(
            self.var_off.widen(&newer.var_off, t),
            self.u64_range().widen(&newer.u64_range(), t),
            self.s64_range().widen(&newer.s64_range(), t),
            self.u32_range().widen(&newer.u32_range(), t),
            self.s32_range().widen(&newer.s32_range(), t),
        )
    }
    // per component narrowing; not re-synced
    fn narrow(&self, newer: &Self) -> Self {
        if self.is_bottom() || newer.is_bottom() {
            return Scalar::BOTTOM;
        }
        Scalar::from_parts(
            self.var_off.narrow(&newer.var_off),
            self.u64_range().narrow(&newer.u64_range()),
            self.s64_range().narrow(&newer.s64_range()),
            self.u32_range().narrow(&newer.u32_range()),
            self.s32_range().narrow(&newer.s32_range()),
        )
    }
}

impl Gamma for Scalar {
    fn contains(&self, v: u64) -> bool {
        Scalar::contains(self, v)
    }
    // candidates from every component's edges and random members, filtered by contains
    fn sample(&self, seed: u64) -> Option<u64> {
        if self.is_bottom() {
            return None;
        }
        let mut s = seed;
        for _ in 0..24 {
            s = crate::testing::splitmix64(s);
            let c = match s % 5 {
                0 => self.var_off.sample(s / 5),
                1 => self.u64_range().sample(s / 5),
                2 => self.s64_range().sample(s / 5),
                3 => {
                    // keep the upper bits from the tnum, low bits from the u32 range
                    let lo = self.u32_range().sample(s / 5)?;
                    let hi = self.var_off.sample(s / 7)?;
                    Some((hi & !0xffff_ffff) | lo)
                }
                _ => {
                    let lo = self.s32_range().sample(s / 5)?;
                    let hi = self.u64_range().sample(s / 7)?;
                    Some((hi & !0xffff_ffff) | lo)
                }
            };
            if let Some(v) = c {
                if self.contains(v) {
                    return Some(v);
                }
            }
        }
        None
    }
}

#[cfg(test)]
pub(crate) mod tests;
