//! The `scalar.{lsh,rsh,arsh}.{w64,w32}` lines of `prove-domains`:
//! `Scalar::binop` for the shifts is sound, as a composition of proved
//! lines (the approach of `smt::scalar_ops`).
//!
//! Obligation: for all scalars `a`, `b` and `x` in gamma(a), `y` in
//! gamma(b), the eBPF shift of `x` by `y` (amount masked with `N - 1`; W32
//! on the low halves, zero-extended) is in gamma(`binop(op, width, a, b)`),
//! at 64 bits. With `k = y & (N - 1)` and `set`, `lo`, `hi` the amounts of
//! `shift_amounts(b)` and their least and greatest (encoded exactly, see
//! [`shift_glue`]):
//! - the tnum is the join over `set` of the operand's tnum (W32: its
//!   subreg) shifted by each amount: a fresh `t` with "`k` in `set` and `x`
//!   in the tnum give the shifted `x` in `t`". That instance rests on the
//!   `tnum.{lshift,rshift,arshift64,arshift32}` line at `k` (the shifted
//!   `x` is in the shift by `k`) and on the join loop of `alu.rs`
//!   (`tnum_join_over`: ascending amounts, the first result taken, later
//!   ones joined with `union`), which is the fold of
//!   `SymTnum::fold_step`: `fold_add` (visiting `k`, whose result contains
//!   `v`, leaves `v` in the accumulator) and `fold_keep` (a later step keeps
//!   it) are `Lemma` cases of this query, as in `tnum.lshift_by`; the loop
//!   ends with the accumulator set (it visited `k`), which is the result;
//! - each interval result is `shl_range`/`shr_range`/`sar_range(lo, hi)`
//!   of the operand's range, which is `shl`/`shr`/`sar` by the amount range
//!   `[lo, hi]` (its `shift_amounts` are `(lo, hi)` for `lo <= hi < N`): a
//!   fresh range with "`x` in the operand's range and `lo <= k <= hi < N`
//!   give the shifted `x` in it", an instance of the proved
//!   `interval.{u,s}{64,32}.{lsh,rsh,arsh}` line at `b = [lo, hi]`, `y = k`;
//! - the rest is the glue, encoded exactly: the empty set (`BOTTOM`), the
//!   `u32r`/`s32r` cases of `<<` at W64 (`hi < 32`: the 32-bit line on the
//!   low halves; `lo >= 32`: zero; else `FULL`), the exact `<< k` for a
//!   constant `k >= 32` (truncated/sign-extended 32-bit bounds shifted, one
//!   case per `k`), `to_unsigned` of the `arsh` range, zero-extension, the
//!   product, with `sync` as the identity (the `scalar.sync` line).

use super::encode::concrete;
use super::encode::range::SymRange;
use super::encode::scalar::{SymScalar, SyncMode};
use super::encode::scalar_shift_glue::{
    in_set, set_bounds, shift_glue, shift_parts, shift_set, ShiftGiven,
};
use super::encode::tnum::SymTnum;
use super::encode::{lit, lo32, zext64};
use super::prove_domains::{
    contains_goals, Case, Logic, Query,
};
use lattices::{BinOp, BitWidth};
use z3::ast::{Bool, BV};
use z3::Model;

/// The glue under proof: [`shift_glue`], or a broken one in the tests.
type ShiftGlue =
    fn(BinOp, BitWidth, &SymScalar, &SymScalar, &BV, &ShiftGiven, SyncMode) -> Option<SymScalar>;

/// The query of `scalar.<op>.<width>` for `op` in lsh, rsh, arsh (`None`
/// for the others); the argument is in the module documentation.
pub(crate) fn scalar_shift_query(op: BinOp, width: BitWidth) -> Option<Query> {
    scalar_shift_query_with(op, width, shift_glue)
}

/// `x op k` at the bit-vectors' own width (`k` already masked).
fn shift(op: BinOp, x: &BV, k: &BV) -> BV {
    match op {
        BinOp::Lsh => x.bvshl(k),
        BinOp::Rsh => x.bvlshr(k),
        _ => x.bvashr(k),
    }
}

/// [`scalar_shift_query`] with `glue` in place of [`shift_glue`].
fn scalar_shift_query_with(op: BinOp, width: BitWidth, glue: ShiftGlue) -> Option<Query> {
    if !matches!(op, BinOp::Lsh | BinOp::Rsh | BinOp::Arsh) {
        return None;
    }
    let n: u32 = match width {
        BitWidth::W64 => 64,
        BitWidth::W32 => 32,
    };
    let a = SymScalar::fresh("a");
    let b = SymScalar::fresh("b");
    let x = BV::new_const("x", 64);
    let y = BV::new_const("y", 64);
    let (x32, zx) = (lo32(&x), zext64(&lo32(&x)));
    let c = concrete::binop(op, width, &x, &y);
    let folded = concrete::binop(op, width, &a.var_off.value, &b.var_off.value);
    let k = y.bvand(lit(u64::from(n - 1), 64));
    let k32 = lo32(&k);
    let set = shift_set(&b, width);
    let (lo, hi) = set_bounds(&set);
    let g = ShiftGiven {
        t: SymTnum::fresh("t", 64),
        u: SymRange::fresh("u", n, false),
        s: SymRange::fresh("s", n, true),
        u32r: SymRange::fresh("u32r", 32, false),
        s32r: SymRange::fresh("s32r", 32, true),
    };
    let both = |p: Bool, q: Bool| Bool::and(&[p, q]);
    let mut pre = vec![a.contains(&x), b.contains(&y)];
    // the join of the tnum shifts (tnum.{lshift,rshift,arshift64,arshift32} at k, the fold lemmas)
    let (src, xs, member) = match width {
        BitWidth::W64 => (a.var_off.clone(), x.clone(), c.clone()),
        BitWidth::W32 => {
            let m = match op {
                BinOp::Arsh => c.clone(),
                _ => shift(op, &zx, &k),
            };
            (a.var_off.subreg(), zx.clone(), m)
        }
    };
    pre.push(both(in_set(&set, &k), src.contains(&xs)).implies(g.t.contains(&member)));
    // the interval lines at the amount range [lo, hi]
    let amt_ok = Bool::and(&[lo.bvule(&k), k.bvule(&hi), hi.bvult(lit(u64::from(n), 64))]);
    let (ua, sa, xv, kv) = match width {
        BitWidth::W64 => (a.u64_range(), a.s64_range(), x.clone(), k.clone()),
        BitWidth::W32 => (a.u32_range(), a.s32_range(), x32.clone(), k32.clone()),
    };
    let shifted = shift(op, &xv, &kv);
    if op != BinOp::Arsh {
        pre.push(both(ua.has(&xv), amt_ok.clone()).implies(g.u.has(&shifted)));
    }
    pre.push(both(sa.has(&xv), amt_ok.clone()).implies(g.s.has(&shifted)));
    if op == BinOp::Lsh && width == BitWidth::W64 {
        // interval.{u32,s32}.lsh on the low halves, when every amount is below 32
        let ok32 = both(amt_ok.clone(), hi.bvult(lit(32, 64)));
        let s32 = x32.bvshl(&k32);
        pre.push(both(a.u32_range().has(&x32), ok32.clone()).implies(g.u32r.has(&s32)));
        pre.push(both(a.s32_range().has(&x32), ok32).implies(g.s32r.has(&s32)));
    }
    let pre = Bool::and(&pre);
    // the fold lemmas of the join loop (for all accumulators, proved here)
    let (acc, r) = (SymTnum::fresh("acc", 64), SymTnum::fresh("r", 64));
    let (some, cbit) = (Bool::new_const("some"), Bool::new_const("c"));
    let v = BV::new_const("v", 64);
    let (some2, acc2) = SymTnum::fold_step(&some, &acc, &cbit, &r);
    let mut cases = vec![
        Case {
            label: "lemma fold_add".to_string(),
            pre: both(cbit.clone(), r.contains(&v)),
            goal: both(some2.clone(), acc2.contains(&v)),
            logic: Logic::Lemma,
        },
        Case {
            label: "lemma fold_keep".to_string(),
            pre: both(some.clone(), acc.contains(&v)),
            goal: both(some2, acc2.contains(&v)),
            logic: Logic::Lemma,
        },
    ];
    let res = glue(op, width, &a, &b, &folded, &g, SyncMode::Assumed)?;
    // steps, under all assumptions: the amount is in the set and in [lo,
    // hi], and each component of the real glue contains the result
    let p = shift_parts(op, width, &a, &set, &g);
    let mut steps = vec![
        ("k_in_set".to_string(), in_set(&set, &k)),
        ("amounts".to_string(), amt_ok),
    ];
    match width {
        BitWidth::W64 => steps.extend([
            ("t/has".to_string(), p.t.contains(&c)),
            ("u/has".to_string(), p.u.has(&c)),
            ("s/has".to_string(), p.s.has(&c)),
            ("u32r/has".to_string(), p.u32r.has(&lo32(&c))),
            ("s32r/has".to_string(), p.s32r.has(&lo32(&c))),
        ]),
        BitWidth::W32 => steps.extend([
            ("t/has".to_string(), p.t.subreg().contains(&c)),
            ("u/has".to_string(), p.u.has(&lo32(&c))),
            ("s/has".to_string(), p.s.has(&lo32(&c))),
        ]),
    }
    // the result, from the steps' conclusions and the inputs only (with
    // every assumption, the product took over a minute for `<<` at W64)
    let mut small = vec![a.contains(&x), b.contains(&y)];
    small.extend(steps.iter().map(|(_, g)| g.clone()));
    let small = Bool::and(&small);
    cases.extend(steps.into_iter().map(|(label, goal)| Case {
        label,
        pre: pre.clone(),
        goal,
        logic: Logic::BvStep,
    }));
    let mut goals = vec![
        ("a/not_bottom".to_string(), a.is_bottom().not()),
        ("b/not_bottom".to_string(), b.is_bottom().not()),
        ("not_bottom".to_string(), res.is_bottom().not()),
    ];
    goals.extend(contains_goals("", &res, &c));
    cases.extend(goals.into_iter().map(|(label, goal)| Case {
        label,
        pre: small.clone(),
        goal,
        logic: Logic::Bv,
    }));
    let explain = move |label: &str, m: &Model| {
        if label.starts_with("lemma") {
            return format!("{label} fails (a fact about the join loop, no Rust replay)");
        }
        super::scalar_ops::binop_miss(op, width, m, &a, &b, &x, &y)
    };
    Some(Query {
        cases,
        explain: Box::new(explain),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smt::prove_domains::{prove_all, render, solve, Outcome};

    #[test]
    fn a_shift_line_is_proved_with_its_lemmas() {
        let rs = prove_all(Some("scalar.arsh.w32"), 60_000);
        let ops: Vec<&str> = rs.iter().map(|r| r.op.as_str()).collect();
        assert_eq!(
            ops,
            [
                "scalar.sync",
                "tnum.arshift32",
                "interval.s32.arsh",
                "scalar.arsh.w32"
            ]
        );
        for r in &rs {
            assert_eq!(r.outcome, Outcome::Proved, "{}", render(&rs));
        }
    }

    /// The signed result range read as unsigned without `to_unsigned`'s check.
    fn raw_unsigned(s: &SymRange) -> SymRange {
        SymRange {
            min: s.min.clone(),
            max: s.max.clone(),
            signed: false,
        }
    }

    /// The broken glues, one per line, with what they get wrong.
    fn broken(op: BinOp, width: BitWidth) -> ShiftGlue {
        match (op, width) {
            // the 32-bit products used although some amount is >= 32
            (BinOp::Lsh, BitWidth::W64) => |op, w, a, b, f, g, m| {
                let mut g = g.clone();
                g.u32r = a.u32_range();
                g.s32r = a.s32_range();
                let mut r = shift_glue(op, w, a, b, f, &g, m)?;
                let (lo, _) = set_bounds(&shift_set(b, w));
                // when every amount is >= 32: the unshifted low half, not 0
                let big = lo.bvuge(lit(32, 64));
                r.u32_min = big.ite(&a.u32_min, &r.u32_min);
                r.u32_max = big.ite(&a.u32_max, &r.u32_max);
                Some(r)
            },
            // lsh, rsh at W32: the unsigned range of the operand, not shifted
            (BinOp::Lsh | BinOp::Rsh, BitWidth::W32) => |op, w, a, b, f, g, m| {
                let mut g = g.clone();
                g.u = a.u32_range();
                shift_glue(op, w, a, b, f, &g, m)
            },
            // rsh at W64: the unsigned result from the signed one, unchecked
            (BinOp::Rsh, BitWidth::W64) => |op, w, a, b, f, g, m| {
                let mut g = g.clone();
                g.u = raw_unsigned(&g.s);
                shift_glue(op, w, a, b, f, &g, m)
            },
            // arsh: the unsigned range as the signed one read unsigned, unchecked
            _ => |_, w, a, b, _, g, m| {
                let t = g.t.clone();
                let r = match w {
                    BitWidth::W64 => SymScalar::from_parts(
                        t,
                        raw_unsigned(&g.s),
                        g.s.clone(),
                        SymRange::full(32, false),
                        SymRange::full(32, true),
                    ),
                    BitWidth::W32 => crate::smt::encode::scalar::zext_parts(
                        &t.subreg(),
                        raw_unsigned(&g.s),
                        g.s.clone(),
                        m,
                    ),
                };
                let any_bottom = Bool::or(&[a.is_bottom(), b.is_bottom()]);
                Some(SymScalar::ite(&any_bottom, &SymScalar::bottom(), &r))
            },
        }
    }

    #[test]
    fn broken_shift_glues_have_counterexamples() {
        for op in [BinOp::Lsh, BinOp::Rsh, BinOp::Arsh] {
            for width in [BitWidth::W64, BitWidth::W32] {
                let q = scalar_shift_query_with(op, width, broken(op, width)).expect("encoded");
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
