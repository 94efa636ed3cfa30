//! The glue of `Scalar::binop` for mul, div, mod, sdiv and smod: what the
//! Rust code does around the component operations (bottom and constant
//! cases, which component results it takes, the `div_tnum`/`mod_tnum` case
//! splits on a constant divisor, the `FULL`/`UNKNOWN` components,
//! zero-extension at W32, the product and `sync`), with the component
//! results themselves given as terms ([`Given`]).
//!
//! The proofs (`smt::scalar_ops`) give fresh terms constrained only by the
//! proved component lines (e.g. "x * y is in `u`"); the differential tests
//! give the Rust component results and compare with `Scalar::binop`, which
//! ties this glue to the Rust code (`lattices/src/scalar/alu.rs`,
//! `binop64`/`binop32`, `div_tnum`, `mod_tnum`, `zext_parts`).

use super::range::SymRange;
use super::scalar::{zext_parts, SymScalar, SyncMode};
use super::tnum::SymTnum;
use super::{is_power_of_two, lit};
use lattices::{BinOp, BitWidth};
use z3::ast::{Bool, BV};

/// The component results `binop` computes with the component domains, as
/// terms. Each op reads only some fields (the others may be anything).
#[derive(Clone, Debug)]
pub struct Given {
    /// mul: `mul_best` of the operands' tnums (W32: of their subregs);
    /// div: the dividend's tnum shifted right by `trailing_zeros(d)` (W32:
    /// of `a.zext32()`), used when the divisor is a constant power of two
    /// `d`; mod: that tnum `and` the constant `d - 1`, likewise.
    pub t: SymTnum,
    /// mul, div, mod: the unsigned interval result at the op's width
    /// (`u64_range`s at W64, `u32_range`s at W32).
    pub u: SymRange,
    /// mul, sdiv, smod: the signed interval result at the op's width.
    pub s: SymRange,
    /// W64 mul: the product of the `u32_range`s.
    pub u32r: SymRange,
    /// W64 mul: the product of the `s32_range`s.
    pub s32r: SymRange,
    /// W32 div, mod: `a.zext32()` (synced), whose tnum `div_tnum` reads.
    pub za: SymScalar,
    /// W32 div, mod: `b.zext32()` (synced), whose constant `div_tnum` reads.
    pub zb: SymScalar,
}

/// `Scalar::binop(op, width, a, b)` for `op` in mul, div, mod, sdiv, smod,
/// from the component results `g` and `folded` (the concrete
/// `eval_binop(op, width, a.value, b.value)`, used when both are
/// constants); `None` for the other operations.
pub fn binop_glue(
    op: BinOp,
    width: BitWidth,
    a: &SymScalar,
    b: &SymScalar,
    folded: &BV,
    g: &Given,
    mode: SyncMode,
) -> Option<SymScalar> {
    let unknown = SymTnum::new(lit(0, 64), lit(u64::MAX, 64));
    let unknown32 = SymTnum::new(lit(0, 64), lit(0xffff_ffff, 64));
    let general = match (width, op) {
        (BitWidth::W64, BinOp::Mul) => SymScalar::from_parts(
            g.t.clone(),
            g.u.clone(),
            g.s.clone(),
            g.u32r.clone(),
            g.s32r.clone(),
        )
        .sync_with(mode),
        (BitWidth::W64, BinOp::Div | BinOp::Mod) => {
            let t = if op == BinOp::Div {
                div_tnum(a, b, &g.t)
            } else {
                mod_tnum(a, b, &g.t)
            };
            SymScalar::from_parts(
                t,
                g.u.clone(),
                SymRange::full(64, true),
                SymRange::full(32, false),
                SymRange::full(32, true),
            )
            .sync_with(mode)
        }
        (BitWidth::W64, BinOp::SDiv | BinOp::SMod) => SymScalar::from_parts(
            unknown,
            SymRange::full(64, false),
            g.s.clone(),
            SymRange::full(32, false),
            SymRange::full(32, true),
        )
        .sync_with(mode),
        (BitWidth::W32, BinOp::Mul) => zext_parts(&g.t.subreg(), g.u.clone(), g.s.clone(), mode),
        (BitWidth::W32, BinOp::Div | BinOp::Mod) => {
            let t = if op == BinOp::Div {
                div_tnum(&g.za, &g.zb, &g.t)
            } else {
                mod_tnum(&g.za, &g.zb, &g.t)
            };
            zext_parts(&t.subreg(), g.u.clone(), SymRange::full(32, true), mode)
        }
        (BitWidth::W32, BinOp::SDiv | BinOp::SMod) => zext_parts(
            &unknown32.subreg(),
            SymRange::full(32, false),
            g.s.clone(),
            mode,
        ),
        _ => return None,
    };
    let both_const = Bool::and(&[a.is_const(), b.is_const()]);
    let r = SymScalar::ite(&both_const, &SymScalar::constant(folded), &general);
    let any_bottom = Bool::or(&[a.is_bottom(), b.is_bottom()]);
    Some(SymScalar::ite(&any_bottom, &SymScalar::bottom(), &r))
}

/// `b.const_value()` is a power of two.
pub fn const_pow2(b: &SymScalar) -> Bool {
    Bool::and(&[b.is_const(), is_power_of_two(&b.var_off.value)])
}

/// `div_tnum(a, b)`: `shifted` (a's tnum `>> trailing_zeros(d)`) when `b`
/// is the constant power of two `d`, else `UNKNOWN`.
fn div_tnum(_a: &SymScalar, b: &SymScalar, shifted: &SymTnum) -> SymTnum {
    let unknown = SymTnum::new(lit(0, 64), lit(u64::MAX, 64));
    SymTnum::ite(&const_pow2(b), shifted, &unknown)
}

/// `mod_tnum(a, b)`: `masked` (a's tnum `& (d - 1)`) when `b` is the
/// constant power of two `d`, a's tnum when `b` is the constant 0, else
/// `UNKNOWN`.
fn mod_tnum(a: &SymScalar, b: &SymScalar, masked: &SymTnum) -> SymTnum {
    let unknown = SymTnum::new(lit(0, 64), lit(u64::MAX, 64));
    let zero = Bool::and(&[b.is_const(), b.var_off.value.eq(lit(0, 64))]);
    SymTnum::ite(
        &const_pow2(b),
        masked,
        &SymTnum::ite(&zero, &a.var_off, &unknown),
    )
}

/// `trailing_zeros` of a bit-vector (its width for 0), as an 8-bit vector.
pub fn trailing_zeros8(d: &BV) -> BV {
    let w = d.get_size();
    let mut r = lit(u64::from(w), 8);
    for i in (0..w).rev() {
        r = d.extract(i, i).eq(lit(1, 1)).ite(&lit(u64::from(i), 8), &r);
    }
    r
}
