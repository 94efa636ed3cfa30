//! Z3 bit-vector encodings of the `lattices` transfer functions.
//!
//! Each encoding mirrors the Rust code of one operation line by line
//! (every `if` becomes an `ite`, every early `return` a guarded result), so
//! a proof about the encoding is a proof about the Rust code exactly as far
//! as the two agree; `prove_domains`'s differential tests check that
//! agreement on random inputs by folding the encoding of concrete inputs
//! with `simplify` and comparing against the Rust result.
//!
//! - [`tnum`]: `Tnum` (value/mask pairs) at any width, shifts at 64 bits.
//! - [`range`]: `U64Range`/`S64Range`/`U32Range`/`S32Range` add, sub, and, or, xor.
//! - [`range_shift`]: the interval shifts (`shl`, `shr`, `sar`, amount a range).
//! - [`scalar`]: `Scalar` (five components), `sync`, the lattice meet and
//!   the add/sub/and/or/xor transfer functions of `Scalar::binop`.
//! - [`scalar_glue`]: the mul/div/mod/sdiv/smod cases of `Scalar::binop`
//!   around their component results (given as terms).
//! - [`scalar_shift_glue`]: the same for the lsh/rsh/arsh cases.
//! - [`refine`]: `Scalar::branch_outcome` and `Scalar::refine`.
//! - [`int_range`]: the interval `udiv`, `umod` and `mul` over the integers
//!   (their Rust code computes in exact arithmetic), with the division and
//!   product exact or uninterpreted.
//! - [`concrete`]: `eval_binop` / `eval_cmp` (the concrete semantics).
//!
//! All terms live in z3's thread-local context: build and solve a formula
//! on one thread.

pub mod concrete;
pub mod int_range;
pub mod range;
pub mod range_shift;
pub mod refine;
pub mod scalar;
pub mod scalar_glue;
pub mod scalar_shift_glue;
pub mod tnum;

use z3::ast::{Ast, Bool, BV};

/// The constant `v` (truncated to `w` bits) as a `w`-bit vector.
pub fn lit(v: u64, w: u32) -> BV {
    let m = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
    BV::from_u64(v & m, w)
}

/// Unsigned minimum.
pub fn umin(a: &BV, b: &BV) -> BV {
    a.bvult(b).ite(a, b)
}

/// Unsigned maximum.
pub fn umax(a: &BV, b: &BV) -> BV {
    a.bvugt(b).ite(a, b)
}

/// Signed minimum.
pub fn smin(a: &BV, b: &BV) -> BV {
    a.bvslt(b).ite(a, b)
}

/// Signed maximum.
pub fn smax(a: &BV, b: &BV) -> BV {
    a.bvsgt(b).ite(a, b)
}

/// Every bit below the highest set bit set too (`2^k - 1` covering `x`).
pub fn smear(x: &BV) -> BV {
    let w = x.get_size();
    let mut r = x.clone();
    let mut s = 1;
    while s < w {
        r = r.bvor(r.bvlshr(lit(s as u64, w)));
        s *= 2;
    }
    r
}

/// The low 32 bits of a 64-bit vector.
pub fn lo32(x: &BV) -> BV {
    x.extract(31, 0)
}

/// A 32-bit vector zero-extended to 64 bits.
pub fn zext64(x: &BV) -> BV {
    x.zero_ext(64 - x.get_size())
}

/// A 32-bit vector sign-extended to 64 bits.
pub fn sext64(x: &BV) -> BV {
    x.sign_ext(64 - x.get_size())
}

/// The low `bits` (16, 32; anything else 64) bits of a 64-bit vector with
/// their bytes reversed, zero-extended (`swap_bytes` of `u16`/`u32`/`u64`).
pub fn swap_bytes(x: &BV, bits: u32) -> BV {
    let n = match bits {
        16 | 32 => bits / 8,
        _ => 8,
    };
    // byte 0 becomes the most significant one
    let mut r = x.extract(7, 0);
    for i in 1..n {
        r = r.concat(x.extract(8 * i + 7, 8 * i));
    }
    zext64(&r)
}

/// The value of a fully constant term (after simplification), if it is one.
pub fn value_of(x: &BV) -> Option<u64> {
    x.simplify().as_u64()
}

/// The truth value of a fully constant formula (after simplification).
pub fn truth_of(b: &Bool) -> Option<bool> {
    b.simplify().as_bool()
}

/// `bits` is a single 1 bit.
pub fn is_power_of_two(x: &BV) -> Bool {
    let w = x.get_size();
    let zero = lit(0, w);
    Bool::and(&[x.ne(&zero), x.bvand(x.bvsub(lit(1, w))).eq(&zero)])
}

#[cfg(test)]
mod tests;
