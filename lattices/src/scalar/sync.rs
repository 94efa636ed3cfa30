//! Bound synchronisation ("reduction") of a [`Scalar`]: a port of the
//! kernel's `reg_bounds_sync` (kernel/bpf/verifier.c, 6.x):
//! `__update_reg_bounds`, `__reg_deduce_bounds` (`__reg32_deduce_bounds`,
//! `__reg64_deduce_bounds` including the sign-boundary-crossing case,
//! `__reg_deduce_mixed_bounds`), `__reg_bound_offset`, `__update_reg_bounds`.
//!
//! Differences from the kernel, all in the direction of soundness on
//! inconsistent input or extra precision on consistent input:
//! - every update is a `max`/`min` with the old bound, never a plain
//!   assignment, so no bound can get looser (the kernel assigns in a few
//!   places that are only correct when the state is feasible);
//! - `__reg_bound_offset` uses an exact tnum meet: when the range's tnum and
//!   `var_off` disagree on a known bit the scalar is bottom (the kernel's
//!   `tnum_intersect` silently picks a known 1);
//! - the s64-within-s32 case of the mixed deduction applies for any sign of
//!   `s32_min` (the kernel requires `s32_min >= 0`; for `smin >= S32_MIN &&
//!   smax <= S32_MAX` the value equals its sign-extended low half, so
//!   `[s32_min, s32_max]` bounds it in general);
//! - `__reg_deduce_bounds` is repeated until nothing changes (at most 4
//!   rounds) instead of exactly three times.
//!
//! Every step only intersects with facts implied by the other components, so
//! gamma is preserved (checked by proptest in `scalar::tests`).

use super::Scalar;
use crate::tnum::Tnum;

impl Scalar {
    /// The kernel's `reg_bounds_sync`, made bottom-aware (see module docs).
    pub fn sync(&mut self) {
        // Constants and the unknown scalar are already synced (fixpoints of the sequence
        // below, checked by `sync_keeps_constants_and_unknown`): skip the work.
        if self.var_off.mask == 0 && *self == Scalar::constant(self.var_off.value) || *self == Scalar::unknown() {
            return;
        }
        // The kernel's sequence, then snapping the bounds to the tnum; repeated while the
        // snap still tightens something (at most 4 rounds), so the result is a fixpoint.
        for _ in 0..4 {
            let start = *self;
            self.sync_once();
            if self.is_bottom() {
                *self = Scalar::BOTTOM;
                return;
            }
            self.snap_to_tnum();
            if self.is_bottom() {
                *self = Scalar::BOTTOM;
                return;
            }
            *self = self.canon();
            if *self == start {
                break;
            }
        }
    }

    fn sync_once(&mut self) {
        if self.is_bottom() {
            return;
        }
        self.update_bounds();
        for _ in 0..4 {
            let before = *self;
            self.deduce_bounds();
            if *self == before || self.is_bottom() {
                break;
            }
        }
        if self.is_bottom() {
            return;
        }
        self.bound_offset();
        if self.is_bottom() {
            return;
        }
        self.update_bounds();
    }

    /// Beyond the kernel: move umin/umax (and the 32-bit ones) to the nearest values
    /// the tnum allows (`Tnum::ceil`/`floor`); none in range means bottom.
    fn snap_to_tnum(&mut self) {
        match (self.var_off.ceil(self.umin), self.var_off.floor(self.umax)) {
            (Some(lo), Some(hi)) if lo <= hi => {
                self.umin = lo;
                self.umax = hi;
            }
            _ => {
                *self = Scalar::BOTTOM;
                return;
            }
        }
        let t = self.var_off.subreg();
        match (t.ceil(self.u32_min as u64), t.floor(self.u32_max as u64)) {
            (Some(lo), Some(hi)) if lo <= hi => {
                self.u32_min = lo as u32;
                self.u32_max = hi as u32;
            }
            _ => {
                *self = Scalar::BOTTOM;
                return;
            }
        }
        // Signed bounds follow the unsigned ones when the range does not cross the sign.
        if (self.umax as i64) >= 0 || (self.umin as i64) < 0 {
            self.smin = self.smin.max(self.umin as i64);
            self.smax = self.smax.min(self.umax as i64);
        }
        if (self.u32_max as i32) >= 0 || (self.u32_min as i32) < 0 {
            self.s32_min = self.s32_min.max(self.u32_min as i32);
            self.s32_max = self.s32_max.min(self.u32_max as i32);
        }
    }

    /// A synced copy.
    pub fn synced(mut self) -> Scalar {
        self.sync();
        self
    }

    /// `__update_reg_bounds`: bounds from the known bits of `var_off`.
    fn update_bounds(&mut self) {
        // __update_reg32_bounds
        let t = self.var_off.subreg();
        // min signed is max(sign bit) | min(other bits)
        self.s32_min = self.s32_min.max((t.value | (t.mask & 0x8000_0000)) as u32 as i32);
        // max signed is min(sign bit) | max(other bits)
        self.s32_max = self.s32_max.min((t.value | (t.mask & 0x7fff_ffff)) as u32 as i32);
        self.u32_min = self.u32_min.max(t.value as u32);
        self.u32_max = self.u32_max.min((t.value | t.mask) as u32);
        // __update_reg64_bounds
        let t = self.var_off;
        self.smin = self.smin.max(t.smin());
        self.smax = self.smax.min(t.smax());
        self.umin = self.umin.max(t.umin());
        self.umax = self.umax.min(t.umax());
    }

    /// `__reg_deduce_bounds`: one round of 32-bit, 64-bit and mixed deductions.
    fn deduce_bounds(&mut self) {
        self.deduce32();
        self.deduce64();
        self.deduce_mixed();
    }

    fn tighten_s32(&mut self, lo: i32, hi: i32) {
        self.s32_min = self.s32_min.max(lo);
        self.s32_max = self.s32_max.min(hi);
    }

    fn tighten_u32(&mut self, lo: u32, hi: u32) {
        self.u32_min = self.u32_min.max(lo);
        self.u32_max = self.u32_max.min(hi);
    }

    /// `__reg32_deduce_bounds`.
    fn deduce32(&mut self) {
        // upper 32 bits constant over the u64 range: low halves form a range
        if (self.umin >> 32) == (self.umax >> 32) {
            self.tighten_u32(self.umin as u32, self.umax as u32);
            if (self.umin as u32 as i32) <= (self.umax as u32 as i32) {
                self.tighten_s32(self.umin as u32 as i32, self.umax as u32 as i32);
            }
        }
        // same over the s64 range
        if (self.smin >> 32) == (self.smax >> 32) {
            if (self.smin as u32) <= (self.smax as u32) {
                self.tighten_u32(self.smin as u32, self.smax as u32);
            }
            if (self.smin as u32 as i32) <= (self.smax as u32 as i32) {
                self.tighten_s32(self.smin as u32 as i32, self.smax as u32 as i32);
            }
        }
        // upper halves are two consecutive numbers and the low halves go from
        // negative to non-negative: still a valid s32 range
        if ((self.umin >> 32) as u32).wrapping_add(1) == (self.umax >> 32) as u32
            && (self.umin as u32 as i32) < 0
            && (self.umax as u32 as i32) >= 0
        {
            self.tighten_s32(self.umin as u32 as i32, self.umax as u32 as i32);
        }
        if ((self.smin >> 32) as u32).wrapping_add(1) == (self.smax >> 32) as u32
            && (self.smin as u32 as i32) < 0
            && (self.smax as u32 as i32) >= 0
        {
            self.tighten_s32(self.smin as u32 as i32, self.smax as u32 as i32);
        }
        // u32 range not crossing the s32 sign boundary is an s32 range
        if (self.u32_min as i32) <= (self.u32_max as i32) {
            self.tighten_s32(self.u32_min as i32, self.u32_max as i32);
        }
        // s32 range not crossing the u32 wrap point is a u32 range
        if (self.s32_min as u32) <= (self.s32_max as u32) {
            self.tighten_u32(self.s32_min as u32, self.s32_max as u32);
        }
    }

    /// `__reg64_deduce_bounds`.
    fn deduce64(&mut self) {
        // u64 range not crossing the sign bit is an s64 range
        if (self.umin as i64) <= (self.umax as i64) {
            self.smin = self.smin.max(self.umin as i64);
            self.smax = self.smax.min(self.umax as i64);
        }
        if (self.smin as u64) <= (self.smax as u64) {
            // s64 range not crossing zero is a u64 range
            self.umin = self.umin.max(self.smin as u64);
            self.umax = self.umax.min(self.smax as u64);
        } else {
            // s64 range crosses zero: [smin, -1] ∪ [0, smax] as u64 is split at
            // both ends of the u64 domain; if the u64 range meets only one end,
            // both ranges shrink to that end
            if self.umax < self.smin as u64 {
                // only the [0, smax] part
                self.smin = self.smin.max(self.umin as i64);
                self.umax = self.umax.min(self.smax as u64);
            } else if (self.smax as u64) < self.umin {
                // only the [smin, -1] part
                self.smax = self.smax.min(self.umax as i64);
                self.umin = self.umin.max(self.smin as u64);
            }
        }
    }

    /// `__reg_deduce_mixed_bounds`: 64-bit bounds from 32-bit ones.
    fn deduce_mixed(&mut self) {
        const HI: u64 = !0xffff_ffffu64;
        // u32 -> u64: replace the low halves of the u64 bounds
        let new_umin = (self.umin & HI) | self.u32_min as u64;
        let new_umax = (self.umax & HI) | self.u32_max as u64;
        self.umin = self.umin.max(new_umin);
        self.umax = self.umax.min(new_umax);
        // u32 -> s64: same on the s64 bounds
        let new_smin = ((self.smin as u64 & HI) | self.u32_min as u64) as i64;
        let new_smax = ((self.smax as u64 & HI) | self.u32_max as u64) as i64;
        self.smin = self.smin.max(new_smin);
        self.smax = self.smax.min(new_smax);
        // s64 within s32: the value is its sign-extended low half
        if self.smin >= i32::MIN as i64 && self.smax <= i32::MAX as i64 {
            self.smin = self.smin.max(self.s32_min as i64);
            self.smax = self.smax.min(self.s32_max as i64);
            if self.s32_min >= 0 {
                self.umin = self.umin.max(self.s32_min as u64);
                self.umax = self.umax.min(self.s32_max as u64);
            }
        }
    }

    /// `__reg_bound_offset`: known bits from the unsigned ranges (exact tnum meet).
    fn bound_offset(&mut self) {
        let Some(var64) = self.var_off.meet_checked(Tnum::range(self.umin, self.umax)) else {
            *self = Scalar::BOTTOM;
            return;
        };
        let range32 = Tnum::range(self.u32_min as u64, self.u32_max as u64);
        let Some(var32) = var64.subreg().meet_checked(range32) else {
            *self = Scalar::BOTTOM;
            return;
        };
        self.var_off = var64.clear_subreg().or(var32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full sequence, without the fast path of `sync`.
    fn full_sync(mut s: Scalar) -> Scalar {
        for _ in 0..4 {
            let start = s;
            s.sync_once();
            if s.is_bottom() {
                return Scalar::BOTTOM;
            }
            s.snap_to_tnum();
            if s.is_bottom() {
                return Scalar::BOTTOM;
            }
            s = s.canon();
            if s == start {
                break;
            }
        }
        s
    }

    #[test]
    fn sync_keeps_constants_and_unknown() {
        assert_eq!(full_sync(Scalar::unknown()), Scalar::unknown());
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let edges = [0, 1, 0x7f, 0x80, 0xff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, i64::MAX as u64, i64::MIN as u64, u64::MAX];
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = if (i as usize) < edges.len() { edges[i as usize] } else { x >> (i % 64) };
            assert_eq!(full_sync(Scalar::constant(v)), Scalar::constant(v), "{v:#x}");
        }
    }
}
