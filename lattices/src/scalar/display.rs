//! Kernel 6.18 log notation for scalars, ported from `print_reg_state` and
//! `print_scalar_ranges` in kernel/bpf/log.c.
//!
//! - A constant prints bare with `verbose_snum`: decimal when it lies in
//!   [S16_MIN, S16_MAX] as an s64 (so `-1`, `42`), otherwise `%#llx` of the
//!   64-bit pattern (`0xffff`, `0xfffffffffffffff0`).
//! - Otherwise `scalar(` + the bounds that are not at their extreme, in the
//!   order smin, smax, umin, umax, smin32, smax32, umin32, umax32; a bound is
//!   merged with the later bounds of the same kind (min with mins, max with
//!   maxes) that have the same value and the same sign (`smin=smin32=0`),
//!   then `var_off=(value; mask)` unless var_off is unknown, then `)`.
//!   Signed bounds print with `verbose_snum`, unsigned ones with
//!   `verbose_unum` (decimal up to U16_MAX). s32 bounds outside
//!   [S16_MIN, S16_MAX] are compared and printed as their u32 pattern.
//! - Bottom, which the kernel never prints, is `scalar(bottom)`.

use super::Scalar;
use std::fmt;

/// The kernel's `is_snum_decimal`.
fn is_snum_decimal(n: i64) -> bool {
    (i16::MIN as i64..=i16::MAX as i64).contains(&n)
}

/// The kernel's `verbose_snum`.
fn snum(n: u64) -> String {
    if is_snum_decimal(n as i64) {
        format!("{}", n as i64)
    } else {
        format!("{n:#x}")
    }
}

/// The kernel's `verbose_unum`.
fn unum(n: u64) -> String {
    if n <= u16::MAX as u64 {
        format!("{n}")
    } else {
        format!("{n:#x}")
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_bottom() {
            return write!(f, "scalar(bottom)");
        }
        if self.var_off.is_const() {
            return write!(f, "{}", snum(self.var_off.value));
        }
        let s32 = |v: i32| -> u64 {
            if is_snum_decimal(v as i64) {
                v as i64 as u64
            } else {
                v as u32 as u64
            }
        };
        let mut m: [(&str, u64, bool); 8] = [
            ("smin", self.smin as u64, self.smin == i64::MIN),
            ("smax", self.smax as u64, self.smax == i64::MAX),
            ("umin", self.umin, self.umin == 0),
            ("umax", self.umax, self.umax == u64::MAX),
            ("smin32", s32(self.s32_min), self.s32_min == i32::MIN),
            ("smax32", s32(self.s32_max), self.s32_max == i32::MAX),
            ("umin32", self.u32_min as u64, self.u32_min == 0),
            ("umax32", self.u32_max as u64, self.u32_max == u32::MAX),
        ];
        let mut out = String::from("scalar(");
        let mut sep = "";
        for i in 0..m.len() {
            let (name, val, omit) = m[i];
            if omit {
                continue;
            }
            let neg1 = name.starts_with('s') && (val as i64) < 0;
            out.push_str(sep);
            out.push_str(name);
            out.push('=');
            sep = ",";
            let mut j = i + 2;
            while j < m.len() {
                let (name2, val2, omit2) = m[j];
                let neg2 = name2.starts_with('s') && (val2 as i64) < 0;
                if !omit2 && val2 == val && neg2 == neg1 {
                    m[j].2 = true;
                    out.push_str(name2);
                    out.push('=');
                }
                j += 2;
            }
            if name.starts_with('s') {
                out.push_str(&snum(val));
            } else {
                out.push_str(&unum(val));
            }
        }
        if !self.var_off.is_unknown() {
            out.push_str(sep);
            out.push_str(&format!("var_off={}", self.var_off));
        }
        out.push(')');
        f.write_str(&out)
    }
}
