//! The `scalar.{mul,div,mod,sdiv,smod}.{w64,w32}` lines of `prove-domains`:
//! `Scalar::binop` for those ops is sound, as a composition of proved
//! lines.
//!
//! Obligation: for all scalars `a`, `b` and `x` in gamma(a), `y` in
//! gamma(b), `op(x, y)` (eBPF semantics at the width: W32 works on the low
//! halves and zero-extends) is in gamma(`binop(op, width, a, b)`), at 64
//! bits. Bit-blasting 64-bit multipliers and dividers never finishes, so:
//! - the operation is an uninterpreted function `core` (eBPF's zero-divisor
//!   conventions, `x / 0 = 0` and `x % 0 = x`, spelled out around it), the
//!   same function in the concrete result and in the constant-folding
//!   branch (so `a`, `b` constant give `constant(core(x, y))` by
//!   congruence);
//! - each component result is a fresh term ([`Given`]) constrained only by
//!   an instance of the proved line that covers it, as an implication
//!   whose premise the glue must establish (e.g. "`x` in `a.u64_range()`
//!   and `y` in `b.u64_range()` give `core(x, y)` in `u`", which is what
//!   `interval.u64.mul` proves for `a.u64_range().mul(&b.u64_range())`).
//!   The Rust result is one such term, so a proof for every such term is a
//!   proof for it;
//! - what remains is the glue ([`binop_glue`]: bottom and constant cases,
//!   the `div_tnum`/`mod_tnum` branches on a constant divisor, encoded
//!   exactly, the `FULL`/`UNKNOWN` components, zero-extension, the product)
//!   with `sync` as the identity (`SyncMode::Assumed`, sound given the
//!   `scalar.sync` line).
//!
//! The lines each one assumes are listed by `prove_domains` (its
//! `Obligation::lemmas`), which runs them in the same `prove_all` call and
//! reports this line `timeout` unless all of them are proved. Facts about
//! the real division that no other line covers (a power-of-two divisor is a
//! shift or a mask) are `Lemma` cases of the query itself, proved by Z3 on
//! the real bit-vector operation at the width and used through instances.

use super::encode::range::SymRange;
use super::encode::scalar::{SymScalar, SyncMode};
use super::encode::scalar_glue::{binop_glue, trailing_zeros8, Given};
use super::encode::tnum::SymTnum;
use super::encode::{is_power_of_two, lit, lo32, zext64};
use super::prove_domains::{
    contains_goals, fields, mscalar, mv, op_name, verdict, width_name, Case, Logic, Query,
};
use lattices::scalar::eval_binop;
use lattices::{BinOp, BitWidth, Scalar};
use z3::ast::{Bool, BV};
use z3::{FuncDecl, Model, Sort};

/// An uninterpreted binary operation on `w`-bit vectors.
fn core_fn(name: &str, w: u32) -> FuncDecl {
    let s = Sort::bitvector(w);
    FuncDecl::new(name, &[&s, &s], &s)
}

/// `f(x, y)` (a bit-vector by construction; the fallback is never taken).
fn app(f: &FuncDecl, x: &BV, y: &BV) -> BV {
    f.apply(&[x, y])
        .as_bv()
        .unwrap_or_else(|| lit(0, x.get_size()))
}

/// eBPF's `op` from its core (`core` is the quotient, remainder or product
/// for a non-zero divisor): `x / 0 = 0`, `x % 0 = x`.
fn ebpf(op: BinOp, core: &BinTerm<'_>, x: &BV, y: &BV) -> BV {
    let w = x.get_size();
    let y_zero = y.eq(lit(0, w));
    match op {
        BinOp::Div | BinOp::SDiv => y_zero.ite(&lit(0, w), &core(x, y)),
        BinOp::Mod | BinOp::SMod => y_zero.ite(x, &core(x, y)),
        _ => core(x, y),
    }
}

/// `x >> trailing_zeros(d)` as the tnum line shifts (amount `& 63`), 64 bits.
fn shr_tz(x: &BV, d: &BV) -> BV {
    x.bvlshr(trailing_zeros8(d).bvand(lit(63, 8)).zero_ext(56))
}

/// A binary operation on bit-vector terms.
type BinTerm<'a> = dyn Fn(&BV, &BV) -> BV + 'a;

/// A lemma about a power-of-two divisor ([`div_pow2`], [`mod_pow2`]).
type PowLemma = fn(&BinTerm<'_>, &BV, &BV) -> Bool;

/// `pow2(y)` gives `zext(core(x, y)) == zext(x) >> trailing_zeros(zext(y))`
/// (`w`-bit `x`, `y`; the 64-bit shift `div_tnum` uses).
fn div_pow2(core: &BinTerm<'_>, x: &BV, y: &BV) -> Bool {
    let (zx, zy) = (zext64(x), zext64(y));
    is_power_of_two(y).implies(zext64(&core(x, y)).eq(shr_tz(&zx, &zy)))
}

/// `pow2(y)` gives `zext(core(x, y)) == zext(x) & (zext(y) - 1)`.
fn mod_pow2(core: &BinTerm<'_>, x: &BV, y: &BV) -> Bool {
    let (zx, zy) = (zext64(x), zext64(y));
    is_power_of_two(y).implies(zext64(&core(x, y)).eq(zx.bvand(zy.bvsub(lit(1, 64)))))
}

/// The query of `scalar.<op>.<width>` for `op` in mul, div, mod, sdiv,
/// smod (`None` for the others). Which proved line each assumption
/// instantiates is said where it is built; the argument per op:
/// - mul W64: `tnum.mul_best` (`x * y` in `t`), `interval.{u64,s64}.mul`
///   (in `u`, `s`), `interval.{u32,s32}.mul` (the 32-bit product of the low
///   halves in `u32r`, `s32r`) and `lemma.mul_low32` (that product is the
///   low half of `x * y`); the product of the five contains `x * y`;
/// - mul W32: `tnum.mul_best` on the subregs (which contain the
///   zero-extended low halves), `lemma.mul_low32` (the low half of that
///   64-bit product is the 32-bit product), `interval.{u32,s32}.mul`; then
///   `zext_parts`;
/// - div/mod W64: `interval.u64.{div,mod}` for `u`; for a constant divisor
///   `d` (then `y == d`): a power of two gives `tnum.rshift` (`x >>
///   tz(d)` in `t`) with the lemma `div_pow2` (`x / d == x >> tz(d)`), or
///   `tnum.and` (`x & (d - 1)` in `t`) with `mod_pow2`; `d == 0` keeps
///   `a`'s tnum (`x % 0 = x`); the other components are `FULL`/`UNKNOWN`;
/// - div/mod W32: the same on `a.zext32()` and `b.zext32()`, which contain
///   the zero-extended low halves by `scalar.zext32` (synced: `scalar.sync`)
///   and are fresh otherwise, so the branch on the synced constant is
///   covered whatever `sync` makes of it; `interval.u32.{div,mod}`;
/// - sdiv/smod: `interval.{s64,s32}.{sdiv,smod}` for `s`, every other
///   component `FULL`/`UNKNOWN`.
pub(crate) fn scalar_op_query(op: BinOp, width: BitWidth) -> Option<Query> {
    scalar_op_query_with(op, width, binop_glue)
}

/// The glue under proof: [`binop_glue`], or a broken one in the tests.
type Glue = fn(BinOp, BitWidth, &SymScalar, &SymScalar, &BV, &Given, SyncMode) -> Option<SymScalar>;

/// [`scalar_op_query`] with `glue` in place of [`binop_glue`].
fn scalar_op_query_with(op: BinOp, width: BitWidth, glue: Glue) -> Option<Query> {
    if !matches!(
        op,
        BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::SDiv | BinOp::SMod
    ) {
        return None;
    }
    let a = SymScalar::fresh("a");
    let b = SymScalar::fresh("b");
    let x = BV::new_const("x", 64);
    let y = BV::new_const("y", 64);
    let (x32, y32) = (lo32(&x), lo32(&y));
    let (zx, zy) = (zext64(&x32), zext64(&y32));
    let f64 = core_fn("core64", 64);
    let f32 = core_fn("core32", 32);
    let core64 = |p: &BV, q: &BV| app(&f64, p, q);
    let core32 = |p: &BV, q: &BV| app(&f32, p, q);
    let op64 = |p: &BV, q: &BV| ebpf(op, &core64, p, q);
    let op32 = |p: &BV, q: &BV| ebpf(op, &core32, p, q);
    let (c, folded) = match width {
        BitWidth::W64 => (op64(&x, &y), op64(&a.var_off.value, &b.var_off.value)),
        BitWidth::W32 => (
            zext64(&op32(&x32, &y32)),
            zext64(&op32(&lo32(&a.var_off.value), &lo32(&b.var_off.value))),
        ),
    };
    let (w, wide) = match width {
        BitWidth::W64 => (64, true),
        BitWidth::W32 => (32, false),
    };
    let g = Given {
        t: SymTnum::fresh("t", 64),
        u: SymRange::fresh("u", w, false),
        s: SymRange::fresh("s", w, true),
        u32r: SymRange::fresh("u32r", 32, false),
        s32r: SymRange::fresh("s32r", 32, true),
        za: SymScalar::fresh("za"),
        zb: SymScalar::fresh("zb"),
    };
    let mut pre = vec![a.contains(&x), b.contains(&y)];
    let mut cases: Vec<Case> = Vec::new();
    // the operands' ranges at the op's width and the values in them
    let (ua, ub, sa, sb, vx, vy, cw) = if wide {
        (
            a.u64_range(),
            b.u64_range(),
            a.s64_range(),
            b.s64_range(),
            x.clone(),
            y.clone(),
            c.clone(),
        )
    } else {
        (
            a.u32_range(),
            b.u32_range(),
            a.s32_range(),
            b.s32_range(),
            x32.clone(),
            y32.clone(),
            op32(&x32, &y32),
        )
    };
    let both = |p: Bool, q: Bool| Bool::and(&[p, q]);
    match op {
        BinOp::Mul => {
            // interval.{u,s}{64,32}.mul
            pre.push(both(ua.has(&vx), ub.has(&vy)).implies(g.u.has(&cw)));
            pre.push(both(sa.has(&vx), sb.has(&vy)).implies(g.s.has(&cw)));
            if wide {
                // interval.{u32,s32}.mul and lemma.mul_low32
                let p32 = core32(&x32, &y32);
                pre.push(
                    both(a.u32_range().has(&x32), b.u32_range().has(&y32))
                        .implies(g.u32r.has(&p32)),
                );
                pre.push(
                    both(a.s32_range().has(&x32), b.s32_range().has(&y32))
                        .implies(g.s32r.has(&p32)),
                );
                pre.push(lo32(&core64(&x, &y)).eq(&p32));
                // tnum.mul_best
                pre.push(
                    both(a.var_off.contains(&x), b.var_off.contains(&y)).implies(g.t.contains(&c)),
                );
            } else {
                // tnum.mul_best on the subregs, lemma.mul_low32 at the zero-extended halves
                let p = core64(&zx, &zy);
                pre.push(
                    both(
                        a.var_off.subreg().contains(&zx),
                        b.var_off.subreg().contains(&zy),
                    )
                    .implies(g.t.contains(&p)),
                );
                pre.push(lo32(&p).eq(core32(&x32, &y32)));
            }
        }
        BinOp::Div | BinOp::Mod => {
            // interval.{u64,u32}.{div,mod}
            pre.push(both(ua.has(&vx), ub.has(&vy)).implies(g.u.has(&cw)));
            // the dividend (zero-extended at W32) and the scalars div_tnum reads
            let (dv, ta, d) = if wide {
                (x.clone(), a.var_off.clone(), b.var_off.value.clone())
            } else {
                // scalar.zext32 (with scalar.sync)
                pre.push(g.za.contains(&zx));
                pre.push(g.zb.contains(&zy));
                (zx.clone(), g.za.var_off.clone(), g.zb.var_off.value.clone())
            };
            let lemma: PowLemma = if op == BinOp::Div {
                // tnum.rshift
                pre.push(ta.contains(&dv).implies(g.t.contains(&shr_tz(&dv, &d))));
                div_pow2
            } else {
                // tnum.and (d - 1 is in the constant tnum d - 1)
                let dm1 = d.bvsub(lit(1, 64));
                let k = SymTnum::new(dm1.clone(), lit(0, 64));
                pre.push(
                    both(ta.contains(&dv), k.contains(&dm1)).implies(g.t.contains(&dv.bvand(&dm1))),
                );
                mod_pow2
            };
            // the lemma, proved for the real operation, used at (x, y)
            let name = if op == BinOp::Div {
                "div_pow2"
            } else {
                "mod_pow2"
            };
            let (p, q) = (BV::new_const("p", w), BV::new_const("q", w));
            let real = |p: &BV, q: &BV| {
                if op == BinOp::Div {
                    p.bvudiv(q)
                } else {
                    p.bvurem(q)
                }
            };
            cases.push(Case {
                label: format!("lemma {name}"),
                pre: Bool::from_bool(true),
                goal: lemma(&real, &p, &q),
                logic: Logic::Lemma,
            });
            pre.push(if wide {
                lemma(&core64, &x, &y)
            } else {
                lemma(&core32, &x32, &y32)
            });
        }
        _ => {
            // interval.{s64,s32}.{sdiv,smod}
            pre.push(both(sa.has(&vx), sb.has(&vy)).implies(g.s.has(&cw)));
        }
    }
    let pre = Bool::and(&pre);
    let r = glue(op, width, &a, &b, &folded, &g, SyncMode::Assumed)?;
    let mut goals = vec![
        ("a/not_bottom".to_string(), a.is_bottom().not()),
        ("b/not_bottom".to_string(), b.is_bottom().not()),
        ("not_bottom".to_string(), r.is_bottom().not()),
    ];
    goals.extend(contains_goals("", &r, &c));
    cases.extend(goals.into_iter().map(|(label, goal)| Case {
        label,
        pre: pre.clone(),
        goal,
        logic: Logic::Bv,
    }));
    let explain = move |label: &str, m: &Model| {
        if label.starts_with("lemma") {
            return format!(
                "{label} fails at {w} bits (a fact about the real operation, no Rust replay)"
            );
        }
        binop_miss(op, width, m, &a, &b, &x, &y)
    };
    Some(Query {
        cases,
        explain: Box::new(explain),
    })
}

/// A counterexample of a `scalar.<op>` line replayed in Rust: the inputs read from
/// the model, `Scalar::binop`'s result, the concrete result, and whether it is missed.
pub(super) fn binop_miss(op: BinOp, width: BitWidth, m: &Model, a: &SymScalar, b: &SymScalar, x: &BV, y: &BV) -> String {
    let (ra, rb, vx, vy) = (mscalar(m, a), mscalar(m, b), mv(m, x), mv(m, y));
    let r = Scalar::binop(op, width, &ra, &rb);
    let c = eval_binop(op, width, vx, vy);
    format!(
        "{} {}.{} {} = {} misses x={vx:#x} y={vy:#x} -> {c:#x} {}",
        fields(&ra),
        op_name(op),
        width_name(width),
        fields(&rb),
        fields(&r),
        verdict(!r.contains(c))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smt::encode::scalar::zext_parts;
    use crate::smt::encode::value_of;
    use crate::smt::prove_domains::{planned_names, prove_all, render, solve, Outcome};
    use lattices::testing::Rng;

    #[test]
    fn ebpf_around_the_real_core_is_eval_binop() {
        // `core` stands for the real quotient/remainder/product: with it
        // in place, the concrete terms of the query are `eval_binop`
        let mut rng = Rng::new(0xc0de);
        let real = |op: BinOp| -> fn(&BV, &BV) -> BV {
            match op {
                BinOp::Mul => |p, q| p.bvmul(q),
                BinOp::Div => |p, q| p.bvudiv(q),
                BinOp::Mod => |p, q| p.bvurem(q),
                BinOp::SDiv => |p, q| p.bvsdiv(q),
                _ => |p, q| p.bvsrem(q),
            }
        };
        let edges = [
            0u64,
            1,
            2,
            3,
            7,
            8,
            u64::MAX,
            i64::MIN as u64,
            0x8000_0000,
            0xffff_ffff,
            0x1_0000_0000,
        ];
        for i in 0..300 {
            let pick = |rng: &mut Rng| {
                if rng.below(2) == 0 {
                    edges[rng.below(edges.len() as u64) as usize]
                } else {
                    rng.next_u64()
                }
            };
            let (vx, vy) = (pick(&mut rng), pick(&mut rng));
            for op in [BinOp::Mul, BinOp::Div, BinOp::Mod, BinOp::SDiv, BinOp::SMod] {
                let core = real(op);
                let (x, y) = (lit(vx, 64), lit(vy, 64));
                let c64 = ebpf(op, &core, &x, &y);
                assert_eq!(
                    value_of(&c64),
                    Some(eval_binop(op, BitWidth::W64, vx, vy)),
                    "{i}: {op:?} {vx:#x} {vy:#x}"
                );
                let c32 = zext64(&ebpf(op, &core, &lo32(&x), &lo32(&y)));
                assert_eq!(
                    value_of(&c32),
                    Some(eval_binop(op, BitWidth::W32, vx, vy)),
                    "{i}: {op:?} w32 {vx:#x} {vy:#x}"
                );
            }
        }
    }

    #[test]
    fn trailing_zeros8_matches_rust() {
        for v in [
            0u64,
            1,
            2,
            6,
            0x80,
            1 << 31,
            1 << 32,
            1 << 63,
            u64::MAX,
            0xf0f0_0000_0000,
        ] {
            assert_eq!(
                value_of(&trailing_zeros8(&lit(v, 64))),
                Some(u64::from(v.trailing_zeros())),
                "{v:#x}"
            );
            let w = v as u32;
            assert_eq!(
                value_of(&trailing_zeros8(&lit(u64::from(w), 32))),
                Some(u64::from(w.trailing_zeros())),
                "{w:#x}"
            );
        }
    }

    #[test]
    fn a_composed_line_is_proved_with_its_lemmas() {
        let rs = prove_all(Some("scalar.sdiv.w32"), 60_000);
        let ops: Vec<&str> = rs.iter().map(|r| r.op.as_str()).collect();
        assert_eq!(ops, ["scalar.sync", "interval.s32.sdiv", "scalar.sdiv.w32"]);
        for r in &rs {
            assert_eq!(r.outcome, Outcome::Proved, "{}", render(&rs));
        }
    }

    #[test]
    fn the_lemmas_of_scalar_mul_come_first() {
        // the lemmas of the lemmas too, each before the lines that assume it
        assert_eq!(
            planned_names(Some("scalar.mul.w32")),
            [
                "scalar.sync",
                "tnum.mul",
                "tnum.mul_cgo",
                "tnum.mul_best",
                "interval.u32.mul",
                "interval.s32.mul",
                "lemma.mul_low32",
                "scalar.mul.w32"
            ]
        );
        // in the full list every lemma precedes its users, so the report order stays
        let all = planned_names(None);
        assert_eq!(all, crate::smt::prove_domains::operation_names());
    }

    /// The broken glues, one per line, with what they get wrong.
    fn broken(op: BinOp, width: BitWidth) -> Glue {
        match (op, width) {
            // the u32 product read off the low halves of the u64 one
            (BinOp::Mul, BitWidth::W64) => |op, w, a, b, f, g, m| {
                let mut g = g.clone();
                g.u32r = SymRange {
                    min: lo32(&g.u.min),
                    max: lo32(&g.u.max),
                    signed: false,
                };
                binop_glue(op, w, a, b, f, &g, m)
            },
            // the s32 product taken from the u32 one
            (BinOp::Mul, BitWidth::W32) => |op, w, a, b, f, g, m| {
                let mut g = g.clone();
                g.s = SymRange {
                    min: g.u.min.clone(),
                    max: g.u.max.clone(),
                    signed: true,
                };
                binop_glue(op, w, a, b, f, &g, m)
            },
            // div_tnum/mod_tnum without the "divisor is a constant" check
            (_, BitWidth::W64) if matches!(op, BinOp::Div | BinOp::Mod) => {
                |op, w, a, b, f, g, m| {
                    let mut b = b.clone();
                    b.var_off.mask = lit(0, 64);
                    binop_glue(op, w, a, &b, f, g, m)
                }
            }
            // the W32 branch on b's own constant, not on b.zext32()'s (as at W64)
            (BinOp::Div | BinOp::Mod, BitWidth::W32) => |op, w, a, b, f, g, m| {
                let mut g = g.clone();
                g.zb = b.clone();
                binop_glue(op, w, a, b, f, &g, m)
            },
            // the signed result put in the unsigned slot
            (_, BitWidth::W64) => |_, _, a, b, _, g, _| {
                let r = SymScalar::from_parts(
                    SymTnum::new(lit(0, 64), lit(u64::MAX, 64)),
                    SymRange {
                        min: g.s.min.clone(),
                        max: g.s.max.clone(),
                        signed: false,
                    },
                    SymRange::full(64, true),
                    SymRange::full(32, false),
                    SymRange::full(32, true),
                );
                Some(SymScalar::ite(
                    &Bool::or(&[a.is_bottom(), b.is_bottom()]),
                    &SymScalar::bottom(),
                    &r,
                ))
            },
            // likewise at W32
            _ => |_, _, a, b, _, g, m| {
                let t = SymTnum::new(lit(0, 64), lit(0xffff_ffff, 64));
                let u = SymRange {
                    min: g.s.min.clone(),
                    max: g.s.max.clone(),
                    signed: false,
                };
                let r = zext_parts(&t, u, SymRange::full(32, true), m);
                Some(SymScalar::ite(
                    &Bool::or(&[a.is_bottom(), b.is_bottom()]),
                    &SymScalar::bottom(),
                    &r,
                ))
            },
        }
    }

    #[test]
    fn broken_glues_have_counterexamples() {
        for op in [BinOp::Mul, BinOp::Div, BinOp::Mod, BinOp::SDiv, BinOp::SMod] {
            for width in [BitWidth::W64, BitWidth::W32] {
                let q = scalar_op_query_with(op, width, broken(op, width)).expect("encoded");
                match solve(q, 60_000) {
                    Outcome::Counterexample(c) => {
                        // the model's inputs replayed on the real code, which is right
                        assert!(
                            c.contains("NOT reproduced by the Rust code"),
                            "{op:?} {width:?}: {c}"
                        );
                    }
                    o => panic!("{op:?} {width:?}: expected a counterexample, got {o:?}"),
                }
            }
        }
    }
}
