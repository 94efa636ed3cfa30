//! [`SymScalar`]: `lattices::Scalar` as bit-vector terms, with the bound
//! synchronisation (`Scalar::sync`: rounds of the kernel's `reg_bounds_sync`
//! and `snap_to_tnum`), the lattice meet and the add/sub/and/or/xor cases of
//! `Scalar::binop` at both widths.
//!
//! The Rust code mutates fields in sequence; each conditional assignment
//! becomes `field := cond ? new : field` in the same order, so later
//! conditions see the updated fields exactly as the Rust code does. The
//! `deduce_bounds` loop (at most 4 rounds, stopping when nothing changes or
//! the scalar is bottom) and the outer `sync` loop are unrolled 4 times with
//! a "stopped" flag.

use super::range::SymRange;
use super::tnum::SymTnum;
use super::{lit, lo32, sext64, smax, smin, umax, umin, zext64};
use lattices::{BinOp, BitWidth, Scalar, Tnum};
use z3::ast::{Bool, BV};

/// How the encodings treat `Scalar::sync` inside other operations.
///
/// `Exact` encodes it in full (used by the differential tests). `Assumed`
/// replaces it with the identity: sound for membership proofs once
/// `scalar.sync` is proved (x in s implies x in sync(s), so x in the
/// unsynced result implies x in the synced one and that it is not bottom),
/// and it keeps the formulas small enough for Z3.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SyncMode {
    /// Encode `sync` exactly.
    Exact,
    /// Treat `sync` as the identity (relies on the `scalar.sync` lemmas).
    Assumed,
}

/// A symbolic `Scalar`: the 64-bit fields are 64-bit vectors, the 32-bit
/// fields 32-bit vectors (signed fields as their two's complement bits).
#[derive(Clone, Debug)]
pub struct SymScalar {
    /// `var_off` (64-bit).
    pub var_off: SymTnum,
    /// `umin`.
    pub umin: BV,
    /// `umax`.
    pub umax: BV,
    /// `smin`.
    pub smin: BV,
    /// `smax`.
    pub smax: BV,
    /// `u32_min`.
    pub u32_min: BV,
    /// `u32_max`.
    pub u32_max: BV,
    /// `s32_min`.
    pub s32_min: BV,
    /// `s32_max`.
    pub s32_max: BV,
}

impl SymScalar {
    /// Fresh variables `name.umin`, ... for every field.
    pub fn fresh(name: &str) -> SymScalar {
        let v = |f: &str, w| BV::new_const(format!("{name}.{f}"), w);
        SymScalar {
            var_off: SymTnum::fresh(&format!("{name}.var_off"), 64),
            umin: v("umin", 64),
            umax: v("umax", 64),
            smin: v("smin", 64),
            smax: v("smax", 64),
            u32_min: v("u32_min", 32),
            u32_max: v("u32_max", 32),
            s32_min: v("s32_min", 32),
            s32_max: v("s32_max", 32),
        }
    }

    /// The constant scalar `s` (field by field, not synced).
    pub fn lit(s: &Scalar) -> SymScalar {
        SymScalar {
            var_off: SymTnum::lit(s.var_off, 64),
            umin: lit(s.umin, 64),
            umax: lit(s.umax, 64),
            smin: lit(s.smin as u64, 64),
            smax: lit(s.smax as u64, 64),
            u32_min: lit(s.u32_min as u64, 32),
            u32_max: lit(s.u32_max as u64, 32),
            s32_min: lit(s.s32_min as u32 as u64, 32),
            s32_max: lit(s.s32_max as u32 as u64, 32),
        }
    }

    /// `Scalar::BOTTOM`.
    pub fn bottom() -> SymScalar {
        SymScalar::lit(&Scalar::BOTTOM)
    }

    /// `Scalar::constant(v)` for a 64-bit term `v`.
    pub fn constant(v: &BV) -> SymScalar {
        let l = lo32(v);
        SymScalar {
            var_off: SymTnum::new(v.clone(), lit(0, 64)),
            umin: v.clone(),
            umax: v.clone(),
            smin: v.clone(),
            smax: v.clone(),
            u32_min: l.clone(),
            u32_max: l.clone(),
            s32_min: l.clone(),
            s32_max: l,
        }
    }

    /// `c ? a : b`, field by field.
    pub fn ite(c: &Bool, a: &SymScalar, b: &SymScalar) -> SymScalar {
        SymScalar {
            var_off: SymTnum::ite(c, &a.var_off, &b.var_off),
            umin: c.ite(&a.umin, &b.umin),
            umax: c.ite(&a.umax, &b.umax),
            smin: c.ite(&a.smin, &b.smin),
            smax: c.ite(&a.smax, &b.smax),
            u32_min: c.ite(&a.u32_min, &b.u32_min),
            u32_max: c.ite(&a.u32_max, &b.u32_max),
            s32_min: c.ite(&a.s32_min, &b.s32_min),
            s32_max: c.ite(&a.s32_max, &b.s32_max),
        }
    }

    /// Same representation (`==` on `Scalar`).
    pub fn same(&self, o: &SymScalar) -> Bool {
        Bool::and(&[
            self.var_off.same(&o.var_off),
            self.umin.eq(&o.umin),
            self.umax.eq(&o.umax),
            self.smin.eq(&o.smin),
            self.smax.eq(&o.smax),
            self.u32_min.eq(&o.u32_min),
            self.u32_max.eq(&o.u32_max),
            self.s32_min.eq(&o.s32_min),
            self.s32_max.eq(&o.s32_max),
        ])
    }

    /// `Scalar::is_bottom`.
    pub fn is_bottom(&self) -> Bool {
        Bool::or(&[
            self.var_off.is_bottom(),
            self.umin.bvugt(&self.umax),
            self.smin.bvsgt(&self.smax),
            self.u32_min.bvugt(&self.u32_max),
            self.s32_min.bvsgt(&self.s32_max),
        ])
    }

    /// `Scalar::contains(x)` for a 64-bit `x`.
    pub fn contains(&self, x: &BV) -> Bool {
        Bool::and(&self.contains_parts(x))
    }

    /// The nine conjuncts of `contains(x)` (tnum, then each bound).
    pub fn contains_parts(&self, x: &BV) -> Vec<Bool> {
        let l = lo32(x);
        vec![
            self.var_off.contains(x),
            self.umin.bvule(x),
            x.bvule(&self.umax),
            self.smin.bvsle(x),
            x.bvsle(&self.smax),
            self.u32_min.bvule(&l),
            l.bvule(&self.u32_max),
            self.s32_min.bvsle(&l),
            l.bvsle(&self.s32_max),
        ]
    }

    /// `const_value().is_some()`: not bottom and `var_off` constant.
    pub fn is_const(&self) -> Bool {
        Bool::and(&[self.is_bottom().not(), self.var_off.is_const()])
    }

    /// The unsigned 64-bit component.
    pub fn u64_range(&self) -> SymRange {
        SymRange {
            min: self.umin.clone(),
            max: self.umax.clone(),
            signed: false,
        }
    }
    /// The signed 64-bit component.
    pub fn s64_range(&self) -> SymRange {
        SymRange {
            min: self.smin.clone(),
            max: self.smax.clone(),
            signed: true,
        }
    }
    /// The unsigned 32-bit component.
    pub fn u32_range(&self) -> SymRange {
        SymRange {
            min: self.u32_min.clone(),
            max: self.u32_max.clone(),
            signed: false,
        }
    }
    /// The signed 32-bit component.
    pub fn s32_range(&self) -> SymRange {
        SymRange {
            min: self.s32_min.clone(),
            max: self.s32_max.clone(),
            signed: true,
        }
    }

    /// `Scalar::from_parts`: the product, `BOTTOM` if a component is empty.
    pub fn from_parts(
        t: SymTnum,
        u: SymRange,
        s: SymRange,
        u32r: SymRange,
        s32r: SymRange,
    ) -> SymScalar {
        let r = SymScalar {
            var_off: t,
            umin: u.min,
            umax: u.max,
            smin: s.min,
            smax: s.max,
            u32_min: u32r.min,
            u32_max: u32r.max,
            s32_min: s32r.min,
            s32_max: s32r.max,
        };
        SymScalar::ite(&r.is_bottom(), &SymScalar::bottom(), &r)
    }

    /// `synced()` under `mode`.
    pub fn sync_with(&self, mode: SyncMode) -> SymScalar {
        match mode {
            SyncMode::Exact => self.synced(),
            SyncMode::Assumed => self.clone(),
        }
    }

    /// `Scalar::sync` / `synced`: up to four rounds of `sync_once` then
    /// `snap_to_tnum`, stopping when a round changes nothing; bottom on the way
    /// gives `BOTTOM`.
    pub fn synced(&self) -> SymScalar {
        let mut cur = self.clone();
        let mut stopped = Bool::from_bool(false);
        let mut failed = Bool::from_bool(false);
        for _ in 0..4 {
            let (ok1, mut next) = cur.sync_once();
            let ok2 = next.snap_to_tnum();
            let fail = Bool::or(&[ok1.not(), ok2.not(), next.is_bottom()]);
            failed = Bool::or(&[failed.clone(), Bool::and(&[stopped.not(), fail.clone()])]);
            let unchanged = next.same(&cur);
            cur = SymScalar::ite(&stopped, &cur, &next);
            stopped = Bool::or(&[stopped.clone(), fail, unchanged]);
        }
        SymScalar::ite(&failed, &SymScalar::bottom(), &cur)
    }

    /// `sync_once` (the kernel's `reg_bounds_sync`): (did not end bottom, result).
    pub fn sync_once(&self) -> (Bool, SymScalar) {
        let bot0 = self.is_bottom();
        let mut cur = self.clone();
        cur.update_bounds();
        let mut stopped = Bool::from_bool(false);
        for _ in 0..4 {
            let before = cur.clone();
            let mut next = cur.clone();
            next.deduce_bounds();
            let stop_now = Bool::or(&[next.same(&before), next.is_bottom()]);
            cur = SymScalar::ite(&stopped, &cur, &next);
            stopped = Bool::or(&[stopped.clone(), stop_now]);
        }
        let bot1 = cur.is_bottom();
        let offset_ok = cur.bound_offset();
        let bot2 = cur.is_bottom();
        cur.update_bounds();
        let fail = Bool::or(&[bot0, bot1, offset_ok.not(), bot2, cur.is_bottom()]);
        (fail.not(), cur)
    }

    /// `snap_to_tnum`: bounds moved to the nearest members of the tnum;
    /// returns false where the Rust code sets BOTTOM.
    pub fn snap_to_tnum(&mut self) -> Bool {
        let (lo_ok, lo) = self.var_off.ceil(&self.umin);
        let (hi_ok, hi) = self.var_off.floor(&self.umax);
        let ok64 = Bool::and(&[lo_ok, hi_ok, lo.bvule(&hi)]);
        self.umin = lo;
        self.umax = hi;
        let t = self.var_off.subreg();
        let (lo_ok, lo) = t.ceil(&zext64(&self.u32_min));
        let (hi_ok, hi) = t.floor(&zext64(&self.u32_max));
        let ok32 = Bool::and(&[lo_ok, hi_ok, lo.bvule(&hi)]);
        self.u32_min = lo32(&lo);
        self.u32_max = lo32(&hi);
        let zero = lit(0, 64);
        let c = Bool::or(&[self.umax.bvsge(&zero), self.umin.bvslt(&zero)]);
        self.smin = c.ite(&smax(&self.smin, &self.umin), &self.smin);
        self.smax = c.ite(&smin(&self.smax, &self.umax), &self.smax);
        let zero = lit(0, 32);
        let c = Bool::or(&[self.u32_max.bvsge(&zero), self.u32_min.bvslt(&zero)]);
        self.s32_min = c.ite(&smax(&self.s32_min, &self.u32_min), &self.s32_min);
        self.s32_max = c.ite(&smin(&self.s32_max, &self.u32_max), &self.s32_max);
        Bool::and(&[ok64, ok32])
    }

    /// `__update_reg_bounds`.
    pub fn update_bounds(&mut self) {
        let t = self.var_off.subreg();
        self.s32_min = smax(
            &self.s32_min,
            &lo32(&t.value.bvor(t.mask.bvand(lit(0x8000_0000, 64)))),
        );
        self.s32_max = smin(
            &self.s32_max,
            &lo32(&t.value.bvor(t.mask.bvand(lit(0x7fff_ffff, 64)))),
        );
        self.u32_min = umax(&self.u32_min, &lo32(&t.value));
        self.u32_max = umin(&self.u32_max, &lo32(&t.value.bvor(&t.mask)));
        let t = &self.var_off;
        self.smin = smax(&self.smin, &t.smin());
        self.smax = smin(&self.smax, &t.smax());
        self.umin = umax(&self.umin, &t.value);
        self.umax = umin(&self.umax, &t.value.bvor(&t.mask));
    }

    fn deduce_bounds(&mut self) {
        self.deduce32();
        self.deduce64();
        self.deduce_mixed();
    }

    fn tighten_s32(&mut self, c: &Bool, lo: &BV, hi: &BV) {
        self.s32_min = c.ite(&smax(&self.s32_min, lo), &self.s32_min);
        self.s32_max = c.ite(&smin(&self.s32_max, hi), &self.s32_max);
    }

    fn tighten_u32(&mut self, c: &Bool, lo: &BV, hi: &BV) {
        self.u32_min = c.ite(&umax(&self.u32_min, lo), &self.u32_min);
        self.u32_max = c.ite(&umin(&self.u32_max, hi), &self.u32_max);
    }

    /// `__reg32_deduce_bounds`.
    pub fn deduce32(&mut self) {
        let hi32 = |x: &BV| x.extract(63, 32);
        let (umin_l, umax_l) = (lo32(&self.umin), lo32(&self.umax));
        let same_hi = hi32(&self.umin).eq(hi32(&self.umax));
        self.tighten_u32(&same_hi, &umin_l, &umax_l);
        let c = Bool::and(&[same_hi.clone(), umin_l.bvsle(&umax_l)]);
        self.tighten_s32(&c, &umin_l, &umax_l);

        let (smin_l, smax_l) = (lo32(&self.smin), lo32(&self.smax));
        let same_hi = hi32(&self.smin).eq(hi32(&self.smax));
        let c = Bool::and(&[same_hi.clone(), smin_l.bvule(&smax_l)]);
        self.tighten_u32(&c, &smin_l, &smax_l);
        let c = Bool::and(&[same_hi, smin_l.bvsle(&smax_l)]);
        self.tighten_s32(&c, &smin_l, &smax_l);

        let zero = lit(0, 32);
        let c = Bool::and(&[
            hi32(&self.umin).bvadd(lit(1, 32)).eq(hi32(&self.umax)),
            umin_l.bvslt(&zero),
            umax_l.bvsge(&zero),
        ]);
        self.tighten_s32(&c, &umin_l, &umax_l);
        let c = Bool::and(&[
            hi32(&self.smin).bvadd(lit(1, 32)).eq(hi32(&self.smax)),
            smin_l.bvslt(&zero),
            smax_l.bvsge(&zero),
        ]);
        self.tighten_s32(&c, &smin_l, &smax_l);

        let (lo, hi) = (self.u32_min.clone(), self.u32_max.clone());
        self.tighten_s32(&lo.bvsle(&hi), &lo, &hi);
        let (lo, hi) = (self.s32_min.clone(), self.s32_max.clone());
        self.tighten_u32(&lo.bvule(&hi), &lo, &hi);
    }

    /// `__reg64_deduce_bounds`.
    pub fn deduce64(&mut self) {
        let c = self.umin.bvsle(&self.umax);
        self.smin = c.ite(&smax(&self.smin, &self.umin), &self.smin);
        self.smax = c.ite(&smin(&self.smax, &self.umax), &self.smax);

        let no_cross = self.smin.bvule(&self.smax);
        let only_low = Bool::and(&[no_cross.not(), self.umax.bvult(&self.smin)]);
        let only_high = Bool::and(&[no_cross.not(), only_low.not(), self.smax.bvult(&self.umin)]);
        let (umin0, umax0, smin0, smax0) = (
            self.umin.clone(),
            self.umax.clone(),
            self.smin.clone(),
            self.smax.clone(),
        );
        self.umin = no_cross.ite(
            &umax(&umin0, &smin0),
            &only_high.ite(&umax(&umin0, &smin0), &umin0),
        );
        self.umax = no_cross.ite(
            &umin(&umax0, &smax0),
            &only_low.ite(&umin(&umax0, &smax0), &umax0),
        );
        self.smin = only_low.ite(&smax(&smin0, &umin0), &smin0);
        self.smax = only_high.ite(&smin(&smax0, &umax0), &smax0);
    }

    /// `__reg_deduce_mixed_bounds`.
    pub fn deduce_mixed(&mut self) {
        let hi = lit(!0xffff_ffffu64, 64);
        let (l32, h32) = (zext64(&self.u32_min), zext64(&self.u32_max));
        let new_umin = self.umin.bvand(&hi).bvor(&l32);
        let new_umax = self.umax.bvand(&hi).bvor(&h32);
        self.umin = umax(&self.umin, &new_umin);
        self.umax = umin(&self.umax, &new_umax);
        let new_smin = self.smin.bvand(&hi).bvor(&l32);
        let new_smax = self.smax.bvand(&hi).bvor(&h32);
        self.smin = smax(&self.smin, &new_smin);
        self.smax = smin(&self.smax, &new_smax);

        let c = Bool::and(&[
            self.smin.bvsge(lit(i32::MIN as i64 as u64, 64)),
            self.smax.bvsle(lit(i32::MAX as u64, 64)),
        ]);
        let (s32lo, s32hi) = (sext64(&self.s32_min), sext64(&self.s32_max));
        self.smin = c.ite(&smax(&self.smin, &s32lo), &self.smin);
        self.smax = c.ite(&smin(&self.smax, &s32hi), &self.smax);
        let c = Bool::and(&[c, self.s32_min.bvsge(lit(0, 32))]);
        self.umin = c.ite(&umax(&self.umin, &s32lo), &self.umin);
        self.umax = c.ite(&umin(&self.umax, &s32hi), &self.umax);
    }

    /// `__reg_bound_offset`; returns false where the Rust code sets BOTTOM.
    pub fn bound_offset(&mut self) -> Bool {
        let (ok64, var64) = self
            .var_off
            .meet_checked(&SymTnum::range(&self.umin, &self.umax));
        let range32 = SymTnum::range(&zext64(&self.u32_min), &zext64(&self.u32_max));
        let (ok32, var32) = var64.subreg().meet_checked(&range32);
        self.var_off = var64.clear_subreg().or(&var32);
        Bool::and(&[ok64, ok32])
    }

    /// `Lattice::meet`: component-wise intersection, then synced.
    pub fn meet(&self, o: &SymScalar, mode: SyncMode) -> SymScalar {
        let parts = SymScalar::from_parts(
            self.var_off.meet(&o.var_off),
            self.u64_range().intersect(&o.u64_range()),
            self.s64_range().intersect(&o.s64_range()),
            self.u32_range().intersect(&o.u32_range()),
            self.s32_range().intersect(&o.s32_range()),
        )
        .sync_with(mode);
        let any_bottom = Bool::or(&[self.is_bottom(), o.is_bottom()]);
        SymScalar::ite(&any_bottom, &SymScalar::bottom(), &parts)
    }

    /// `Scalar::binop(op, width, a, b)` for `op` in add, sub, and, or, xor;
    /// `None` for the other operations (not encoded).
    pub fn binop(
        op: BinOp,
        width: BitWidth,
        a: &SymScalar,
        b: &SymScalar,
        mode: SyncMode,
    ) -> Option<SymScalar> {
        let general = match width {
            BitWidth::W64 => {
                let f = |x: &SymRange, y: &SymRange| range_op(op, x, y);
                SymScalar::from_parts(
                    tnum_op(op, &a.var_off, &b.var_off)?,
                    f(&a.u64_range(), &b.u64_range())?,
                    f(&a.s64_range(), &b.s64_range())?,
                    f(&a.u32_range(), &b.u32_range())?,
                    f(&a.s32_range(), &b.s32_range())?,
                )
                .sync_with(mode)
            }
            BitWidth::W32 => {
                let t = tnum_op(op, &a.var_off.subreg(), &b.var_off.subreg())?;
                let u = range_op(op, &a.u32_range(), &b.u32_range())?;
                let s = range_op(op, &a.s32_range(), &b.s32_range())?;
                zext_parts(&t.subreg(), u, s, mode)
            }
        };
        let concrete = super::concrete::binop(op, width, &a.var_off.value, &b.var_off.value);
        let both_const = Bool::and(&[a.is_const(), b.is_const()]);
        let r = SymScalar::ite(&both_const, &SymScalar::constant(&concrete), &general);
        let any_bottom = Bool::or(&[a.is_bottom(), b.is_bottom()]);
        Some(SymScalar::ite(&any_bottom, &SymScalar::bottom(), &r))
    }

    /// `Scalar::zext32`: the low 32 bits zero-extended (`zext_parts` of the
    /// 32-bit components), `BOTTOM` for a bottom input.
    pub fn zext32(&self, mode: SyncMode) -> SymScalar {
        let r = zext_parts(
            &self.var_off.subreg(),
            self.u32_range(),
            self.s32_range(),
            mode,
        );
        SymScalar::ite(&self.is_bottom(), &SymScalar::bottom(), &r)
    }

    /// `Scalar::neg(width, a)`: every component negated (W32: the 32-bit
    /// ones and the tnum of the low half, zero-extended), `BOTTOM` for a
    /// bottom input.
    pub fn neg(width: BitWidth, a: &SymScalar, mode: SyncMode) -> SymScalar {
        let r = match width {
            BitWidth::W64 => SymScalar::from_parts(
                a.var_off.neg(),
                a.u64_range().neg(),
                a.s64_range().neg(),
                a.u32_range().neg(),
                a.s32_range().neg(),
            )
            .sync_with(mode),
            BitWidth::W32 => zext_parts(
                &a.var_off.subreg().neg(),
                a.u32_range().neg(),
                a.s32_range().neg(),
                mode,
            ),
        };
        SymScalar::ite(&a.is_bottom(), &SymScalar::bottom(), &r)
    }

    /// `Scalar::truncate(bytes)`: the low `bytes` bytes zero-extended
    /// (identity from 8 bytes, `zext32` for 4), `BOTTOM` for a bottom input.
    pub fn truncate(&self, bytes: u32, mode: SyncMode) -> SymScalar {
        if bytes >= 8 {
            return SymScalar::ite(&self.is_bottom(), &SymScalar::bottom(), self);
        }
        if bytes == 4 {
            return self.zext32(mode);
        }
        let k = bytes * 8;
        let t = self.var_off.cast(bytes as u8);
        let r = if k < 32 {
            let low = self.u32_range().truncate(k);
            let low64 = self.u64_range().truncate(k);
            let l64 = SymRange {
                min: lo32(&low64.min),
                max: lo32(&low64.max),
                signed: false,
            };
            let l64 = l64.new_checked(l64.min.clone(), l64.max.clone());
            let low = low.intersect(&l64);
            let s = low.flip_sign();
            zext_parts(&t, low, s, mode)
        } else {
            SymScalar::from_parts(
                t,
                self.u64_range().truncate(k),
                SymRange::full(64, true),
                self.u32_range(),
                self.s32_range(),
            )
            .sync_with(mode)
        };
        SymScalar::ite(&self.is_bottom(), &SymScalar::bottom(), &r)
    }

    /// `Scalar::sext(from_bits, width)`: the low `from_bits` bits
    /// sign-extended (W32: to 32 bits, then zero-extended); `BOTTOM` for a
    /// bottom input.
    pub fn sext(&self, from_bits: u8, width: BitWidth, mode: SyncMode) -> SymScalar {
        let bottom = SymScalar::bottom();
        let k = from_bits.max(1);
        if k >= 64 {
            return match width {
                BitWidth::W64 => SymScalar::ite(&self.is_bottom(), &bottom, self),
                BitWidth::W32 => self.zext32(mode),
            };
        }
        let kk = k as u32;
        let (u32r, s32r) = if kk >= 32 {
            (self.u32_range(), self.s32_range())
        } else {
            (self.u32_range().sext(kk), self.s32_range().sext(kk))
        };
        let r = match width {
            BitWidth::W32 => {
                if kk >= 32 {
                    return self.zext32(mode);
                }
                zext_parts(&self.var_off.sext(k).subreg(), u32r, s32r, mode)
            }
            BitWidth::W64 => {
                let v = if kk >= 32 {
                    self.s32_range()
                } else {
                    self.s32_range().sext(kk)
                };
                let from32 = SymRange {
                    min: sext64(&v.min),
                    max: sext64(&v.max),
                    signed: true,
                };
                let from32 = if kk > 32 {
                    SymRange::full(64, true)
                } else {
                    from32.new_checked(from32.min.clone(), from32.max.clone())
                };
                let s = from32.intersect(&self.s64_range().sext(kk));
                SymScalar::from_parts(
                    self.var_off.sext(k),
                    self.u64_range().sext(kk),
                    s,
                    u32r,
                    s32r,
                )
                .sync_with(mode)
            }
        };
        SymScalar::ite(&self.is_bottom(), &bottom, &r)
    }

    /// `Scalar::from_tnum(t)`: every range unknown, synced; `BOTTOM` for a
    /// bottom tnum.
    pub fn from_tnum(t: &SymTnum, mode: SyncMode) -> SymScalar {
        let mut s = SymScalar::lit(&Scalar::unknown());
        s.var_off = t.clone();
        SymScalar::ite(&t.is_bottom(), &SymScalar::bottom(), &s.sync_with(mode))
    }

    /// `Scalar::bswap(bits)`: `from_tnum` of the byte-swapped tnum (bits
    /// other than 16 and 32 are 64); `BOTTOM` for a bottom input.
    pub fn bswap(&self, bits: u8, mode: SyncMode) -> SymScalar {
        let r = SymScalar::from_tnum(&self.var_off.bswap(bits), mode);
        SymScalar::ite(&self.is_bottom(), &SymScalar::bottom(), &r)
    }

    /// The concrete scalar, when every field folds to a constant.
    pub fn eval(&self) -> Option<Scalar> {
        let v = super::value_of;
        Some(Scalar {
            var_off: Tnum::new(v(&self.var_off.value)?, v(&self.var_off.mask)?),
            umin: v(&self.umin)?,
            umax: v(&self.umax)?,
            smin: v(&self.smin)? as i64,
            smax: v(&self.smax)? as i64,
            u32_min: v(&self.u32_min)? as u32,
            u32_max: v(&self.u32_max)? as u32,
            s32_min: v(&self.s32_min)? as u32 as i32,
            s32_max: v(&self.s32_max)? as u32 as i32,
        })
    }
}

/// The tnum part of `op` (add, sub, and, or, xor).
fn tnum_op(op: BinOp, a: &SymTnum, b: &SymTnum) -> Option<SymTnum> {
    Some(match op {
        BinOp::Add => a.add(b),
        BinOp::Sub => a.sub(b),
        BinOp::And => a.and(b),
        BinOp::Or => a.or(b),
        BinOp::Xor => a.xor(b),
        _ => return None,
    })
}

/// The interval part of `op` (add, sub, and, or, xor).
pub fn range_op(op: BinOp, a: &SymRange, b: &SymRange) -> Option<SymRange> {
    Some(match op {
        BinOp::Add => a.add(b),
        BinOp::Sub => a.sub(b),
        BinOp::And => a.and(b),
        BinOp::Or => a.or(b),
        BinOp::Xor => a.xor(b),
        _ => return None,
    })
}

/// `zext_parts` of `scalar/alu.rs`: a scalar whose value is the
/// zero-extension of the 32-bit value described by `t32`, `u32r`, `s32r`.
pub fn zext_parts(t32: &SymTnum, u32r: SymRange, s32r: SymRange, mode: SyncMode) -> SymScalar {
    let empty = Bool::or(&[u32r.is_empty(), s32r.is_empty(), t32.is_bottom()]);
    let u = SymRange {
        min: zext64(&u32r.min),
        max: zext64(&u32r.max),
        signed: false,
    };
    let u = u.new_checked(u.min.clone(), u.max.clone());
    let s = SymRange {
        min: zext64(&u32r.min),
        max: zext64(&u32r.max),
        signed: true,
    };
    let s = s.new_checked(s.min.clone(), s.max.clone());
    let r = SymScalar::from_parts(t32.subreg(), u, s, u32r, s32r).sync_with(mode);
    SymScalar::ite(&empty, &SymScalar::bottom(), &r)
}
