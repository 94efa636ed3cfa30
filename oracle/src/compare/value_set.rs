//! The set of values a printed register state stands for, and inclusion between two of them.
//!
//! A register printed in the kernel's notation (ours or the kernel's own) becomes a `ValueSet`:
//! - `Scalar`: the reduced product of `umin/umax`, `smin/smax`, `umin32/umax32`,
//!   `smin32/smax32` and `var_off` (a tnum `(value; mask)`). Bounds the printer left out
//!   take their defaults (the kernel prints only non-trivial ones), a bare number is a
//!   constant. After parsing, the bounds are *reduced* (each one tightened by what the
//!   others imply, as the kernel's `reg_bounds_sync` does), so two printers that show
//!   different but equivalent subsets of the bounds compare as `Equal`.
//! - `Ptr`: a pointer kind (`ctx`, `fp`, `pkt`, `map_value`, ...; `_or_null` kept apart
//!   as a flag, every BTF pointer `ptr_<type>` folded into `ptr_`), its identity fields
//!   (`map=`, `ks=`, `vs=`, `sz=`, `frameno`, ...: compared only when both sides print
//!   them), the fixed offset `off=` as an interval (the join of several visits may
//!   hold several), the variable offset as a `Scalar`, and for packet pointers the
//!   verified range `r=` (a larger range is a smaller set of states).
//! - `Top` (`unknown()`, any value) and `Mixed` (the join of different kinds: a set that
//!   no single printed value describes). The constant 0 is in every `_or_null` pointer set,
//!   and a pointer joined with 0 (the two sides of a NULL check) is its `_or_null` form.
//!
//! `A ⊑ B` is decided component by component (every bound of A within B's, A's tnum
//! `tnum_in` B's, same kind/identity, A's range at least B's): a sufficient condition for
//! concretisation inclusion that, thanks to the reduction, is also exact on the usual
//! shapes. Where it is not (a set both tnum- and interval-shaped, e.g. `[0,100]`
//! against the even numbers below 127), the verdict is `Incomparable`, never a wrong
//! "more precise".

use crate::log_parser::{parse_number, parse_reg_state};

/// A tnum: bits set in `mask` are unknown, the others equal `value`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tnum {
    pub value: u64,
    pub mask: u64,
}

impl Tnum {
    pub const UNKNOWN: Tnum = Tnum {
        value: 0,
        mask: u64::MAX,
    };

    pub fn constant(v: u64) -> Tnum {
        Tnum { value: v, mask: 0 }
    }

    /// `tnum_in(other, self)`: every value of `self` is a value of `other`.
    pub fn leq(self, other: Tnum) -> bool {
        self.mask & !other.mask == 0 && self.value & !other.mask == other.value
    }

    /// The least tnum holding both.
    pub fn join(self, other: Tnum) -> Tnum {
        let mu = self.mask | other.mask | (self.value ^ other.value);
        Tnum {
            value: self.value & !mu,
            mask: mu,
        }
    }

    /// `tnum_intersect`: the values both allow (assumes they are compatible).
    fn intersect(self, other: Tnum) -> Tnum {
        let v = self.value | other.value;
        let mu = self.mask & other.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// `tnum_range(min, max)`: the least tnum holding `[min, max]`.
    fn range(min: u64, max: u64) -> Tnum {
        let chi = min ^ max;
        let bits = 64 - chi.leading_zeros();
        if bits > 63 {
            return Tnum::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Tnum {
            value: min & !delta,
            mask: delta,
        }
    }

    /// `tnum_add`: the sum of any two members.
    fn add(self, other: Tnum) -> Tnum {
        let sm = self.mask.wrapping_add(other.mask);
        let sv = self.value.wrapping_add(other.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | other.mask;
        Tnum {
            value: sv & !mu,
            mask: mu,
        }
    }

    /// `(0xa; 0xf0)` as the kernel prints it.
    pub fn parse(s: &str) -> Option<Tnum> {
        let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
        let (v, m) = inner.split_once(';')?;
        let value = parse_number(v.trim())? as u64;
        let mask = parse_number(m.trim())? as u64;
        Some(Tnum {
            value: value & !mask,
            mask,
        })
    }
}

/// A scalar's bounds and known bits. `empty` when the bounds contradict each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalarSet {
    pub umin: u64,
    pub umax: u64,
    pub smin: i64,
    pub smax: i64,
    pub umin32: u32,
    pub umax32: u32,
    pub smin32: i32,
    pub smax32: i32,
    pub var_off: Tnum,
    pub empty: bool,
}

impl ScalarSet {
    /// Any 64-bit value.
    pub fn unknown() -> ScalarSet {
        ScalarSet {
            umin: 0,
            umax: u64::MAX,
            smin: i64::MIN,
            smax: i64::MAX,
            umin32: 0,
            umax32: u32::MAX,
            smin32: i32::MIN,
            smax32: i32::MAX,
            var_off: Tnum::UNKNOWN,
            empty: false,
        }
    }

    /// Exactly `v`.
    pub fn constant(v: u64) -> ScalarSet {
        ScalarSet {
            umin: v,
            umax: v,
            smin: v as i64,
            smax: v as i64,
            umin32: v as u32,
            umax32: v as u32,
            smin32: v as i32,
            smax32: v as i32,
            var_off: Tnum::constant(v),
            empty: false,
        }
    }

    /// From printed `key=value` fields; keys not printed keep `base`'s bounds.
    fn from_fields(fields: &[(String, String)], base: ScalarSet) -> ScalarSet {
        let mut s = base;
        for (k, v) in fields {
            if k == "var_off" {
                if let Some(t) = Tnum::parse(v) {
                    s.var_off = t;
                }
                continue;
            }
            let Some(n) = parse_number(v) else { continue };
            match k.as_str() {
                "umin" => s.umin = n as u64,
                "umax" => s.umax = n as u64,
                "smin" => s.smin = n,
                "smax" => s.smax = n,
                "umin32" => s.umin32 = n as u32,
                "umax32" => s.umax32 = n as u32,
                "smin32" => s.smin32 = n as i32,
                "smax32" => s.smax32 = n as i32,
                _ => {}
            }
        }
        s.reduce();
        s
    }

    /// Tightens every component with what the others imply (sound: never loses a value).
    fn reduce(&mut self) {
        for _ in 0..3 {
            let before = *self;
            self.reduce_once();
            if self.check_empty() || *self == before {
                return;
            }
        }
    }

    fn check_empty(&mut self) -> bool {
        if self.umin > self.umax
            || self.smin > self.smax
            || self.umin32 > self.umax32
            || self.smin32 > self.smax32
            || self.var_off.value & self.var_off.mask != 0
        {
            self.empty = true;
        }
        self.empty
    }

    fn reduce_once(&mut self) {
        let t = self.var_off;
        // Bounds from the tnum (`__update_reg64_bounds`, `__update_reg32_bounds`).
        self.umin = self.umin.max(t.value);
        self.umax = self.umax.min(t.value | t.mask);
        self.smin = self.smin.max((t.value | (t.mask & (1 << 63))) as i64);
        self.smax = self.smax.min((t.value | (t.mask & !(1 << 63))) as i64);
        let (v32, m32) = (t.value as u32, t.mask as u32);
        self.umin32 = self.umin32.max(v32);
        self.umax32 = self.umax32.min(v32 | m32);
        self.smin32 = self.smin32.max((v32 | (m32 & 0x8000_0000)) as i32);
        self.smax32 = self.smax32.min((v32 | (m32 & 0x7fff_ffff)) as i32);
        // Signed and unsigned views agree where the range does not cross the sign boundary.
        if (self.umin as i64) <= (self.umax as i64) {
            self.smin = self.smin.max(self.umin as i64);
            self.smax = self.smax.min(self.umax as i64);
        }
        if (self.smin as u64) <= (self.smax as u64) {
            self.umin = self.umin.max(self.smin as u64);
            self.umax = self.umax.min(self.smax as u64);
        }
        if (self.umin32 as i32) <= (self.umax32 as i32) {
            self.smin32 = self.smin32.max(self.umin32 as i32);
            self.smax32 = self.smax32.min(self.umax32 as i32);
        }
        if (self.smin32 as u32) <= (self.smax32 as u32) {
            self.umin32 = self.umin32.max(self.smin32 as u32);
            self.umax32 = self.umax32.min(self.smax32 as u32);
        }
        // 64 -> 32: when the upper halves are equal, the lower halves are a range too.
        if self.umin >> 32 == self.umax >> 32 {
            self.narrow32(self.umin as u32, self.umax as u32);
        }
        if self.smin >> 32 == self.smax >> 32 {
            self.narrow32(self.smin as u32, self.smax as u32);
        }
        if self.smin >= i32::MIN as i64 && self.smax <= i32::MAX as i64 {
            self.smin32 = self.smin32.max(self.smin as i32);
            self.smax32 = self.smax32.min(self.smax as i32);
        }
        // 32 -> 64: with the upper half fixed, the lower half's bounds bound the whole.
        if self.umin >> 32 == self.umax >> 32 {
            let hi = self.umin & !0xffff_ffff;
            self.umin = self.umin.max(hi | self.umin32 as u64);
            self.umax = self.umax.min(hi | self.umax32 as u64);
        }
        // The tnum from the bounds (`__reg_bound_offset`).
        let t64 = self.var_off.intersect(Tnum::range(self.umin, self.umax));
        let lo = Tnum {
            value: t64.value & 0xffff_ffff,
            mask: t64.mask & 0xffff_ffff,
        }
        .intersect(Tnum::range(self.umin32 as u64, self.umax32 as u64));
        self.var_off = Tnum {
            value: (t64.value & !0xffff_ffff) | lo.value,
            mask: (t64.mask & !0xffff_ffff) | lo.mask,
        };
    }

    /// Lower-half bounds from a `[lo, hi]` (as u32) known to be monotonic.
    fn narrow32(&mut self, lo: u32, hi: u32) {
        if lo > hi {
            return;
        }
        self.umin32 = self.umin32.max(lo);
        self.umax32 = self.umax32.min(hi);
        if (lo as i32) <= (hi as i32) {
            self.smin32 = self.smin32.max(lo as i32);
            self.smax32 = self.smax32.min(hi as i32);
        }
    }

    /// Every member plus `c` (64-bit wrapping; a bound that would wrap becomes unknown).
    pub fn add_const(&self, c: i64) -> ScalarSet {
        if self.empty || c == 0 {
            return *self;
        }
        let mut s = ScalarSet::unknown();
        if let (Some(lo), Some(hi)) = (self.smin.checked_add(c), self.smax.checked_add(c)) {
            (s.smin, s.smax) = (lo, hi);
        }
        let (lo, hi) = (self.umin.wrapping_add(c as u64), self.umax.wrapping_add(c as u64));
        if lo <= hi && hi - lo == self.umax - self.umin {
            (s.umin, s.umax) = (lo, hi);
        }
        s.var_off = self.var_off.add(Tnum::constant(c as u64));
        s.reduce();
        s
    }

    /// Every value of `self` is a value of `other` (component-wise).
    pub fn leq(&self, other: &ScalarSet) -> bool {
        if self.empty {
            return true;
        }
        if other.empty {
            return false;
        }
        self.umin >= other.umin
            && self.umax <= other.umax
            && self.smin >= other.smin
            && self.smax <= other.smax
            && self.umin32 >= other.umin32
            && self.umax32 <= other.umax32
            && self.smin32 >= other.smin32
            && self.smax32 <= other.smax32
            && self.var_off.leq(other.var_off)
    }

    /// The least set (in this representation) holding both.
    pub fn join(&self, other: &ScalarSet) -> ScalarSet {
        if self.empty {
            return *other;
        }
        if other.empty {
            return *self;
        }
        let mut s = ScalarSet {
            umin: self.umin.min(other.umin),
            umax: self.umax.max(other.umax),
            smin: self.smin.min(other.smin),
            smax: self.smax.max(other.smax),
            umin32: self.umin32.min(other.umin32),
            umax32: self.umax32.max(other.umax32),
            smin32: self.smin32.min(other.smin32),
            smax32: self.smax32.max(other.smax32),
            var_off: self.var_off.join(other.var_off),
            empty: false,
        };
        s.reduce();
        s
    }
}

/// A pointer: kind, identity, offsets and packet range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtrSet {
    /// Without `_or_null`; BTF pointers all `ptr_`.
    pub kind: String,
    pub maybe_null: bool,
    /// Fields naming what the pointer points to (`map`, `ks`, `vs`, `sz`, `frameno`, ...), sorted.
    pub ident: Vec<(String, String)>,
    /// The offset from the object's start: the fixed `off=` plus the variable part
    /// (bounds and `var_off` printed on the pointer), as one set.
    pub off: ScalarSet,
    /// `r=` of packet pointers: bytes known to be inside the packet (0 when not printed).
    pub range: u64,
}

impl PtrSet {
    fn ident_compatible(&self, other: &PtrSet) -> bool {
        self.ident.iter().all(|(k, v)| {
            other
                .ident
                .iter()
                .find(|(k2, _)| k2 == k)
                .is_none_or(|(_, v2)| same_ident(k, v, v2))
        })
    }

    /// Every pointer `self` may be is one `other` may be.
    pub fn leq(&self, other: &PtrSet) -> bool {
        self.kind == other.kind
            && (!self.maybe_null || other.maybe_null)
            && self.ident_compatible(other)
            && self.off.leq(&other.off)
            && self.range >= other.range
    }
}

/// What one printed register value stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSet {
    Scalar(ScalarSet),
    Ptr(PtrSet),
    /// Any value (`unknown()`).
    Top,
    /// The join of values of different kinds (a scalar on one visit, a pointer on another).
    Mixed,
}

/// Two values of an identity field name the same thing. Map names are compared on their
/// first `BPF_OBJ_NAME_LEN - 1` (15) bytes, the most the kernel keeps; `ks`/`vs` are not
/// compared (the map name identifies the map, and loaders fix sizes up, e.g. `vs=0` -> 4).
fn same_ident(key: &str, a: &str, b: &str) -> bool {
    match key {
        "map" => a.bytes().take(15).eq(b.bytes().take(15)),
        "ks" | "vs" => true,
        _ => a == b,
    }
}

/// Pointer type flags printed as kind prefixes (`reg_type_str`), but `rdonly_`, which we track.
const MODIFIERS: [&str; 6] = ["ringbuf_", "user_", "percpu_", "rcu_", "untrusted_", "trusted_"];

/// Fields of a pointer that are offsets, bounds or ids rather than identity.
fn is_offset_or_id(key: &str) -> bool {
    matches!(
        key,
        "id" | "ref_obj_id"
            | "off"
            | "r"
            | "imm"
            | "var_off"
            | "umin"
            | "umax"
            | "smin"
            | "smax"
            | "umin32"
            | "umax32"
            | "smin32"
            | "smax32"
    )
}

impl ValueSet {
    /// Parses one printed value (`scalar(umax=255,var_off=(0x0; 0xff))`, `5`, `pkt(off=14,r=14)`, `fp-8`).
    pub fn parse(text: &str) -> ValueSet {
        let r = parse_reg_state(text);
        if let Some(c) = r.constant {
            return ValueSet::Scalar(ScalarSet::constant(c as u64));
        }
        if r.kind == "scalar" {
            return ValueSet::Scalar(ScalarSet::from_fields(&r.fields, ScalarSet::unknown()));
        }
        if r.kind.is_empty() || r.kind == "unknown" {
            return ValueSet::Top;
        }
        let (kind, maybe_null) = match r.kind.strip_suffix("_or_null") {
            Some(k) => (k, true),
            None => (r.kind.as_str(), false),
        };
        let mut ident: Vec<(String, String)> = Vec::new();
        // Type flags the kernel prints as prefixes and we may not track: identity, compared
        // only when both sides print them (`ringbuf_mem` against our `mem`).
        let mut kind = kind;
        while let Some((flag, rest)) = MODIFIERS.iter().find_map(|m| kind.strip_prefix(m).map(|r| (*m, r))) {
            ident.push((format!("flag_{}", flag.trim_end_matches('_')), String::new()));
            kind = rest;
        }
        let kind = match kind.find("ptr_") {
            Some(i) if kind != "map_ptr" => {
                let ty = &kind[i + 4..];
                if !ty.is_empty() {
                    ident.push(("btf".into(), ty.to_string()));
                }
                "ptr_".to_string()
            }
            _ => kind.to_string(),
        };
        let off = r.field("off").and_then(parse_number).unwrap_or(0);
        let has_var = r
            .fields
            .iter()
            .any(|(k, _)| is_offset_or_id(k) && !matches!(k.as_str(), "id" | "ref_obj_id" | "off" | "r" | "imm"));
        let var = if has_var {
            ScalarSet::from_fields(&r.fields, ScalarSet::unknown())
        } else {
            ScalarSet::constant(
                r.field("imm")
                    .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok())
                    .unwrap_or(0),
            )
        };
        ident.extend(r.fields.iter().filter(|(k, _)| !is_offset_or_id(k)).cloned());
        ident.sort();
        ValueSet::Ptr(PtrSet {
            kind,
            maybe_null,
            ident,
            off: var.add_const(off),
            range: r.field("r").and_then(parse_number).map_or(0, |n| n.max(0) as u64),
        })
    }

    /// Every value of `self` is one of `other` (see the module doc for how this is decided).
    pub fn leq(&self, other: &ValueSet) -> bool {
        match (self, other) {
            (_, ValueSet::Top) => true,
            (ValueSet::Top, _) => false,
            (ValueSet::Mixed, ValueSet::Mixed) => true,
            (ValueSet::Mixed, _) | (_, ValueSet::Mixed) => false,
            (ValueSet::Scalar(a), ValueSet::Scalar(b)) => a.leq(b),
            (ValueSet::Ptr(a), ValueSet::Ptr(b)) => a.leq(b),
            // NULL is one of the values of a `_or_null` pointer.
            (ValueSet::Scalar(a), ValueSet::Ptr(b)) => b.maybe_null && is_null(a),
            _ => false,
        }
    }

    /// The least value set holding both (`Mixed` when no single printed value does).
    pub fn join(&self, other: &ValueSet) -> ValueSet {
        match (self, other) {
            (ValueSet::Top, _) | (_, ValueSet::Top) => ValueSet::Top,
            (ValueSet::Scalar(a), ValueSet::Scalar(b)) => ValueSet::Scalar(a.join(b)),
            (ValueSet::Ptr(a), ValueSet::Ptr(b)) if a.kind == b.kind && a.ident_compatible(b) => {
                let mut ident = a.ident.clone();
                ident.retain(|(k, _)| b.ident.iter().any(|(k2, _)| k2 == k));
                ValueSet::Ptr(PtrSet {
                    kind: a.kind.clone(),
                    maybe_null: a.maybe_null || b.maybe_null,
                    ident,
                    off: a.off.join(&b.off),
                    range: a.range.min(b.range),
                })
            }
            // A pointer on one path and NULL (0) on another: the `_or_null` pointer.
            (ValueSet::Ptr(p), ValueSet::Scalar(z)) | (ValueSet::Scalar(z), ValueSet::Ptr(p)) if is_null(z) => {
                ValueSet::Ptr(PtrSet {
                    maybe_null: true,
                    ..p.clone()
                })
            }
            _ => ValueSet::Mixed,
        }
    }
}

/// The scalar is exactly 0 (or empty): the NULL a checked `_or_null` pointer becomes.
fn is_null(s: &ScalarSet) -> bool {
    s.empty || (s.umin == 0 && s.umax == 0)
}

/// How our value set for a register relates to the kernel's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    /// Ours is a strict subset of the kernel's.
    OursMorePrecise,
    Equal,
    /// The kernel's is a strict subset of ours.
    KernelMorePrecise,
    /// Neither contains the other.
    Incomparable,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::OursMorePrecise => "ours_more_precise",
            Precision::Equal => "equal",
            Precision::KernelMorePrecise => "kernel_more_precise",
            Precision::Incomparable => "incomparable",
        }
    }

    pub const ALL: [Precision; 4] = [
        Precision::OursMorePrecise,
        Precision::Equal,
        Precision::KernelMorePrecise,
        Precision::Incomparable,
    ];
}

/// Compares two value sets by inclusion.
pub fn compare_values(ours: &ValueSet, kernel: &ValueSet) -> Precision {
    match (ours.leq(kernel), kernel.leq(ours)) {
        (true, true) => Precision::Equal,
        (true, false) => Precision::OursMorePrecise,
        (false, true) => Precision::KernelMorePrecise,
        (false, false) => Precision::Incomparable,
    }
}

/// Compares two printed values (`compare_values` of their parses).
pub fn compare_text(ours: &str, kernel: &str) -> Precision {
    compare_values(&ValueSet::parse(ours), &ValueSet::parse(kernel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_constants() {
        assert_eq!(compare_text("5", "5"), Precision::Equal);
        assert_eq!(compare_text("P5", "5"), Precision::Equal);
        assert_eq!(compare_text("-1", "0xffffffffffffffff"), Precision::Equal);
        assert_eq!(compare_text("5", "6"), Precision::Incomparable);
        // A constant printed as bounds is the same set.
        assert_eq!(
            compare_text("scalar(smin=smax=umin=umax=7,var_off=(0x7; 0x0))", "7"),
            Precision::Equal
        );
    }

    #[test]
    fn narrower_interval_is_more_precise() {
        let wide = "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))";
        let narrow = "scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))";
        assert_eq!(compare_text(narrow, wide), Precision::OursMorePrecise);
        assert_eq!(compare_text(wide, narrow), Precision::KernelMorePrecise);
        assert_eq!(compare_text("scalar()", wide), Precision::KernelMorePrecise);
        assert_eq!(compare_text(wide, "scalar()"), Precision::OursMorePrecise);
        assert_eq!(compare_text("unknown()", "3"), Precision::KernelMorePrecise);
    }

    #[test]
    fn bounds_printed_differently_are_equal_after_reduction() {
        // Only the tnum printed on one side, only the interval on the other.
        assert_eq!(
            compare_text(
                "scalar(var_off=(0x0; 0xff))",
                "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
            ),
            Precision::Equal
        );
        assert_eq!(
            compare_text("scalar(umax=255)", "scalar(smin=0,smax=umax=255)"),
            Precision::Equal
        );
    }

    #[test]
    fn tnum_versus_interval_is_incomparable() {
        // [0, 100] with any low 7 bits, against the even numbers of [0, 126].
        let interval = "scalar(smin=umin=0,smax=umax=100,var_off=(0x0; 0x7f))";
        let even = "scalar(smin=umin=0,smax=umax=126,var_off=(0x0; 0x7e))";
        assert_eq!(compare_text(interval, even), Precision::Incomparable);
        assert_eq!(compare_text(even, interval), Precision::Incomparable);
    }

    #[test]
    fn packet_ranges() {
        assert_eq!(
            compare_text("pkt(off=14,r=14)", "pkt(off=14,r=0)"),
            Precision::OursMorePrecise
        );
        assert_eq!(
            compare_text("pkt(off=14,r=0)", "pkt(off=14,r=14)"),
            Precision::KernelMorePrecise
        );
        assert_eq!(compare_text("pkt(r=14)", "pkt(id=3,r=14)"), Precision::Equal);
        assert_eq!(
            compare_text("pkt(off=8,r=14)", "pkt(off=14,r=14)"),
            Precision::Incomparable
        );
        assert_eq!(compare_text("pkt(r=0)", "pkt_end()"), Precision::Incomparable);
    }

    #[test]
    fn pointers_and_null() {
        let v = "map_value(map=h,ks=4,vs=8)";
        let n = "map_value_or_null(id=1,map=h,ks=4,vs=8)";
        assert_eq!(compare_text(v, n), Precision::OursMorePrecise);
        assert_eq!(compare_text(n, v), Precision::KernelMorePrecise);
        assert_eq!(
            compare_text(v, "map_value(map=other,ks=4,vs=8)"),
            Precision::Incomparable
        );
        assert_eq!(compare_text("fp-8", "fp-8"), Precision::Equal);
        assert_eq!(compare_text("fp-8", "fp-16"), Precision::Incomparable);
        assert_eq!(compare_text("fp[0]-4", "fp-4"), Precision::Equal);
        assert_eq!(compare_text("ctx()", "ctx()"), Precision::Equal);
        assert_eq!(compare_text("ctx()", "0"), Precision::Incomparable);
        assert_eq!(compare_text("ptr_()", "trusted_ptr_task_struct()"), Precision::Equal);
        // Variable offsets on a pointer.
        assert_eq!(
            compare_text(
                "map_value(map=h,ks=4,vs=64,smin=0,smax=umax=7,var_off=(0x0; 0x7))",
                "map_value(map=h,ks=4,vs=64,smin=0,smax=umax=63,var_off=(0x0; 0x3f))"
            ),
            Precision::OursMorePrecise
        );
    }

    #[test]
    fn fixed_and_variable_offsets_are_one_offset() {
        let fixed: Vec<ValueSet> = (0..16)
            .map(|i| ValueSet::parse(&format!("map_value(map=t,ks=4,vs=64,off={})", i * 4)))
            .collect();
        let joined = fixed.iter().skip(1).fold(fixed[0].clone(), |a, b| a.join(b));
        let var =
            ValueSet::parse("map_value(map=t,ks=4,vs=64,smin=smin32=0,smax=umax=smax32=umax32=60,var_off=(0x0; 0x3c))");
        assert_eq!(compare_values(&var, &joined), Precision::Equal);
        let shifted = ValueSet::parse(
            "map_value(map=t,ks=4,vs=64,off=2,smin=smin32=0,smax=umax=smax32=umax32=56,var_off=(0x0; 0x38))",
        );
        assert_eq!(compare_values(&shifted, &var), Precision::Incomparable);
        let every8 = ValueSet::parse(
            "map_value(map=t,ks=4,vs=64,off=4,smin=smin32=0,smax=umax=smax32=umax32=56,var_off=(0x0; 0x38))",
        );
        assert_eq!(compare_values(&every8, &var), Precision::OursMorePrecise);
        assert_eq!(compare_text("pkt(off=-2,r=14)", "pkt(off=-2,r=14)"), Precision::Equal);
        assert_eq!(
            compare_text("mem(id=6,ref_obj_id=6,sz=4)", "ringbuf_mem(ref_obj_id=2,sz=4)"),
            Precision::Equal
        );
        assert_eq!(compare_text("mem(sz=4)", "rdonly_mem(sz=4)"), Precision::Incomparable);
    }

    #[test]
    fn joins() {
        let a = ValueSet::parse("0");
        let b = ValueSet::parse("1");
        let j = a.join(&b);
        assert!(a.leq(&j) && b.leq(&j));
        assert_eq!(
            compare_values(&ValueSet::parse("scalar(smin=0,smax=umax=1,var_off=(0x0; 0x1))"), &j),
            Precision::Equal
        );
        let p = ValueSet::parse("fp-8").join(&ValueSet::parse("fp-16"));
        assert!(matches!(&p, ValueSet::Ptr(q) if q.off.smin == -16 && q.off.smax == -8));
        assert_eq!(compare_values(&ValueSet::parse("fp-8"), &p), Precision::OursMorePrecise);
        assert_eq!(ValueSet::parse("fp-8").join(&ValueSet::parse("3")), ValueSet::Mixed);
        // A checked pointer on one path and NULL on the other is the `_or_null` pointer.
        let checked = ValueSet::parse("map_value(map=h,ks=4,vs=8)").join(&ValueSet::parse("0"));
        assert_eq!(
            compare_values(&ValueSet::parse("map_value_or_null(id=3,map=h,ks=4,vs=8)"), &checked),
            Precision::Equal
        );
        assert_eq!(
            compare_text("0", "map_value_or_null(id=3,map=h,ks=4,vs=8)"),
            Precision::OursMorePrecise
        );
        assert_eq!(compare_text("0", "map_value(map=h,ks=4,vs=8)"), Precision::Incomparable);
        assert_eq!(
            compare_values(&ValueSet::parse("3"), &ValueSet::Mixed),
            Precision::Incomparable
        );
        let r = ValueSet::parse("pkt(r=14)").join(&ValueSet::parse("pkt(r=4)"));
        assert!(matches!(r, ValueSet::Ptr(q) if q.range == 4));
    }

    #[test]
    fn negative_ranges_and_subregisters() {
        let s = ValueSet::parse("scalar(smin=-5,smax=5)");
        let ValueSet::Scalar(x) = s else {
            panic!("scalar expected")
        };
        assert_eq!((x.smin, x.smax, x.smin32, x.smax32), (-5, 5, -5, 5));
        assert_eq!(
            compare_text("scalar(smin=-4,smax=5)", "scalar(smin=-5,smax=5)"),
            Precision::OursMorePrecise
        );
        // Contradictory bounds are the empty set, included in everything.
        assert_eq!(compare_text("scalar(umin=5,umax=4)", "7"), Precision::OursMorePrecise);
    }

    /// Raw bounds: smin, smax, umin, umax, var_off.
    type Raw = (i64, i64, u64, u64, Tnum);

    /// `x` is in the set described by the raw (unreduced) fields.
    fn raw_contains(fields: &[Raw], x: u64) -> bool {
        fields.iter().all(|&(smin, smax, umin, umax, t)| {
            (smin..=smax).contains(&(x as i64)) && (umin..=umax).contains(&x) && x & !t.mask == t.value
        })
    }

    fn contains(s: &ScalarSet, x: u64) -> bool {
        !s.empty
            && (s.umin..=s.umax).contains(&x)
            && (s.smin..=s.smax).contains(&(x as i64))
            && (s.umin32..=s.umax32).contains(&(x as u32))
            && (s.smin32..=s.smax32).contains(&(x as i32))
            && x & !s.var_off.mask == s.var_off.value
    }

    #[test]
    fn reduction_and_add_keep_every_value() {
        let probes: Vec<u64> = (-300i64..300)
            .chain((0..64).map(|b| 1i64.wrapping_shl(b)))
            .chain([
                i32::MAX as i64,
                i32::MIN as i64,
                u32::MAX as i64,
                i64::MAX,
                i64::MIN,
                0x1_0000_0005,
            ])
            .flat_map(|x| [x, x.wrapping_sub(1), x.wrapping_add(1)])
            .map(|x| x as u64)
            .collect();
        let cases: Vec<(&str, Raw)> = vec![
            ("scalar(smin=-5,smax=5)", (-5, 5, 0, u64::MAX, Tnum::UNKNOWN)),
            ("scalar(umin=3,umax=200)", (i64::MIN, i64::MAX, 3, 200, Tnum::UNKNOWN)),
            (
                "scalar(var_off=(0x4; 0xf0))",
                (i64::MIN, i64::MAX, 0, u64::MAX, Tnum { value: 4, mask: 0xf0 }),
            ),
            (
                "scalar(smin=-100,smax=0x100000004)",
                (-100, 0x1_0000_0004, 0, u64::MAX, Tnum::UNKNOWN),
            ),
            (
                "scalar(umin=0xfffffff0,umax=0x100000010)",
                (i64::MIN, i64::MAX, 0xffff_fff0, 0x1_0000_0010, Tnum::UNKNOWN),
            ),
            (
                "scalar(smin=-2147483649,smax=-1)",
                (-2_147_483_649, -1, 0, u64::MAX, Tnum::UNKNOWN),
            ),
        ];
        for (text, raw) in &cases {
            let ValueSet::Scalar(s) = ValueSet::parse(text) else {
                panic!("{text}: scalar expected")
            };
            for c in [0i64, 7, -9, 1 << 40] {
                let shifted = s.add_const(c);
                for &x in &probes {
                    if raw_contains(&[*raw], x) {
                        assert!(contains(&s, x), "{text}: reduction lost {x:#x}: {s:?}");
                        let y = x.wrapping_add(c as u64);
                        assert!(contains(&shifted, y), "{text} + {c}: lost {y:#x}: {shifted:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn malformed_values_never_panic() {
        for s in [
            "",
            "(",
            "scalar(",
            "scalar(var_off=(0x; ))",
            "fp",
            "pkt(r=-3)",
            "P",
            "=",
            "scalar(umax=0xzz)",
        ] {
            let v = ValueSet::parse(s);
            assert!(v.leq(&ValueSet::Top));
        }
    }
}
