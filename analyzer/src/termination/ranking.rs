//! Ranking functions and recurrent states for one encoded loop iteration.
//!
//! A candidate `e` over the head variables is a ranking function when Z3 proves
//! `Inv(v) ∧ T(v, v') → e(v') <u e(v)`: strict unsigned decrease is well-founded on
//! bit-vectors, so the loop terminates. Candidates: each variable the loop changes as
//! `x`, `~x` (for counters that go up), `x ^ 1<<63` and `~x ^ 1<<63` (signed order), the
//! same four on the low 32 bits, and the differences `a - b` (64 and 32 bits) of
//! variables that flow into the two operands of one conditional jump (`i < n`).
//!
//! The iteration bound: with `k` the least decrease per iteration (the largest `k` Z3
//! proves `e - e' >= k` for) and `[m, M]` the range of `e` over head states that take a
//! back edge (found bit by bit with Z3), at most `(M - m) / k + 1` back edges are taken,
//! so the body runs at most `(M - m) / k + 2` times.
//!
//! A recurrent state: `Inv(v) ∧ T(v, v') ∧ v' = v` satisfiable means some state the
//! invariant allows goes round the loop unchanged, values read from helpers and memory
//! chosen the same each time; the kernel's own check ("infinite loop detected") finds
//! exactly such repeated states. Z3's `unknown` never proves anything.

use super::encode::LoopEncoding;
use z3::ast::{Bool, BV};
use z3::{Params, SatResult, Solver};

/// One candidate expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Candidate {
    /// Variable `var`, optionally complemented (`~x`), with the sign bit flipped, on 32 bits.
    Var {
        var: usize,
        not: bool,
        signed: bool,
        w32: bool,
    },
    /// `c - x` (`rev`) or `x - c`, for a constant `c` the variable is compared with.
    Offset {
        var: usize,
        c: u64,
        rev: bool,
        w32: bool,
    },
    /// `a - b + c`.
    Diff {
        a: usize,
        b: usize,
        c: i64,
        w32: bool,
    },
}

impl Candidate {
    fn width(&self) -> u32 {
        match self {
            Candidate::Var { w32, .. }
            | Candidate::Offset { w32, .. }
            | Candidate::Diff { w32, .. } => {
                if *w32 {
                    32
                } else {
                    64
                }
            }
        }
    }

    /// The expression over `vals` (indexed like the head variables).
    pub(crate) fn eval(&self, vals: &[BV]) -> Option<BV> {
        let at = |i: usize, w32: bool| {
            vals.get(i)
                .map(|v| if w32 { v.extract(31, 0) } else { v.clone() })
        };
        match *self {
            Candidate::Var {
                var,
                not,
                signed,
                w32,
            } => {
                let mut x = at(var, w32)?;
                if not {
                    x = x.bvnot();
                }
                if signed {
                    let w = x.get_size();
                    x = x.bvxor(BV::from_u64(1u64 << (w - 1), w));
                }
                Some(x)
            }
            Candidate::Offset { var, c, rev, w32 } => {
                let x = at(var, w32)?;
                let c = BV::from_u64(c, x.get_size());
                Some(if rev { c.bvsub(&x) } else { x.bvsub(&c) })
            }
            Candidate::Diff { a, b, c, w32 } => {
                let d = at(a, w32)?.bvsub(at(b, w32)?);
                let w = d.get_size();
                Some(d.bvadd(BV::from_u64(c as u64, w)))
            }
        }
    }

    /// Human-readable form, e.g. `~r6 (u32)` or `r6 - r7`.
    pub(crate) fn describe(&self, names: &[String]) -> String {
        let name = |i: usize| names.get(i).cloned().unwrap_or_else(|| format!("v{i}"));
        match *self {
            Candidate::Var {
                var,
                not,
                signed,
                w32,
            } => {
                let mut s = if w32 {
                    format!("(u32){}", name(var))
                } else {
                    name(var)
                };
                if not {
                    s = format!("~{s}");
                }
                if signed {
                    s = format!("{s} ^ signbit");
                }
                s
            }
            Candidate::Offset { var, c, rev, w32 } => {
                let x = if w32 {
                    format!("(u32){}", name(var))
                } else {
                    name(var)
                };
                if rev {
                    format!("{c} - {x}")
                } else {
                    format!("{x} - {c}")
                }
            }
            Candidate::Diff { a, b, c, w32 } => {
                let d = if w32 {
                    format!("(u32){} - (u32){}", name(a), name(b))
                } else {
                    format!("{} - {}", name(a), name(b))
                };
                match c {
                    0 => d,
                    c if c < 0 => format!("{d} - {}", -c),
                    c => format!("{d} + {c}"),
                }
            }
        }
    }
}

/// What the search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Search {
    /// No state of the invariant takes a back edge.
    NoBackEdge,
    /// A ranking function, with the bound on body executions if one was derived.
    Ranking {
        text: String,
        iterations: Option<u64>,
    },
    /// Nothing proved; the reason.
    Failed(String),
}

pub(crate) fn solver(timeout_ms: u32) -> Solver {
    let s = Solver::new_for_logic("QF_BV").unwrap_or_default();
    let mut p = Params::new();
    p.set_u32("timeout", timeout_ms.max(1));
    s.set_params(&p);
    s
}

/// `check` under extra assumptions, in a push/pop scope.
fn check_with(s: &Solver, extra: &Bool) -> SatResult {
    s.push();
    s.assert(extra);
    let r = s.check();
    s.pop(1);
    r
}

/// The candidates, those over variables compared by branches first.
pub(crate) fn candidates(enc: &LoopEncoding) -> Vec<Candidate> {
    let n = enc.vars.len().min(64);
    let changed: Vec<usize> = (0..n)
        .filter(|&i| enc.vars.get(i) != enc.next.get(i))
        .collect();
    let mut compared: u64 = 0;
    for (a, b, _) in &enc.compares {
        compared |= a | b;
    }
    let is_compared = |i: &usize| (compared >> i) & 1 == 1;
    let mut out = Vec::new();
    let push = |c: Candidate, out: &mut Vec<Candidate>| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    let vars = |out: &mut Vec<Candidate>, which: &dyn Fn(&usize) -> bool| {
        for var in changed.iter().copied().filter(|i| which(i)) {
            for w32 in [false, true] {
                for (not, signed) in [(false, false), (true, false), (false, true), (true, true)] {
                    let c = Candidate::Var {
                        var,
                        not,
                        signed,
                        w32,
                    };
                    if !out.contains(&c) {
                        out.push(c);
                    }
                }
            }
        }
    };
    vars(&mut out, &is_compared);
    // Distances to the constants a changed variable is compared with (`9 - x` for
    // `x + 1 < 10` stays a ranking function even from states where `x + 1` wraps).
    for (da, _, c) in &enc.compares {
        let Some(c) = *c else { continue };
        for var in changed.iter().copied().filter(|i| (da >> i) & 1 == 1) {
            for w32 in [false, true] {
                for d in [0u64, 1, u64::MAX] {
                    let c = c.wrapping_add(d);
                    let c = if w32 { c & 0xffff_ffff } else { c };
                    push(
                        Candidate::Offset {
                            var,
                            c,
                            rev: true,
                            w32,
                        },
                        &mut out,
                    );
                    push(
                        Candidate::Offset {
                            var,
                            c,
                            rev: false,
                            w32,
                        },
                        &mut out,
                    );
                }
            }
        }
    }
    for (da, db, _) in &enc.compares {
        for a in (0..n).filter(|i| (da >> i) & 1 == 1) {
            for b in (0..n).filter(|i| (db >> i) & 1 == 1) {
                if a == b || !(changed.contains(&a) || changed.contains(&b)) {
                    continue;
                }
                for (x, y) in [(a, b), (b, a)] {
                    for w32 in [false, true] {
                        for c in [0i64, -1] {
                            push(Candidate::Diff { a: x, b: y, c, w32 }, &mut out);
                        }
                    }
                }
            }
        }
    }
    // Variables no branch looks at come last.
    vars(&mut out, &|i: &usize| !is_compared(i));
    out
}

/// A bound this small is not worth improving on.
const GOOD_ENOUGH_BOUND: u64 = 1 << 16;
/// Most ranking functions whose bounds are compared.
const MAX_PROVEN: usize = 4;

/// Whether some state of the invariant goes round the loop unchanged (never claimed
/// for an imprecise encoding).
pub(crate) fn recurrent(enc: &LoopEncoding, timeout_ms: u32) -> bool {
    if enc.imprecise || enc.no_back_edge {
        return false;
    }
    let s = solver(timeout_ms);
    s.assert(&enc.inv);
    s.assert(&enc.body);
    let same: Vec<Bool> = enc
        .vars
        .iter()
        .zip(enc.next.iter())
        .map(|(v, n)| v.eq(n))
        .collect();
    s.assert(Bool::and(&same));
    s.check() == SatResult::Sat
}

/// Searches a ranking function.
pub(crate) fn search(enc: &LoopEncoding, timeout_ms: u32, max_candidates: usize) -> Search {
    if enc.no_back_edge {
        return Search::NoBackEdge;
    }
    let s = solver(timeout_ms);
    s.assert(&enc.inv);
    s.assert(&enc.body);
    match s.check() {
        SatResult::Unsat => return Search::NoBackEdge,
        SatResult::Unknown => return Search::Failed("Z3 timeout on the loop body".to_string()),
        SatResult::Sat => {}
    }
    let names: Vec<String> = enc.keys.iter().map(|k| k.name()).collect();
    let mut timeouts = 0;
    // Several ranking functions may prove termination with different bounds: keep the
    // best of the first few.
    let mut best: Option<(String, Option<u64>)> = None;
    let mut proven = 0;
    for c in candidates(enc).into_iter().take(max_candidates) {
        let (Some(e), Some(e2)) = (c.eval(&enc.vars), c.eval(&enc.next)) else {
            continue;
        };
        match check_with(&s, &e2.bvult(&e).not()) {
            SatResult::Unsat => {
                proven += 1;
                let iterations = bound(&s, &e, &e2, c.width(), entry_max(enc, &c, timeout_ms));
                let better = match (&best, iterations) {
                    (None, _) => true,
                    (Some((_, None)), Some(_)) => true,
                    (Some((_, Some(old))), Some(new)) => new < *old,
                    _ => false,
                };
                if better {
                    best = Some((c.describe(&names), iterations));
                }
                let good_enough = matches!(best, Some((_, Some(n))) if n <= GOOD_ENOUGH_BOUND);
                if good_enough || proven >= MAX_PROVEN {
                    break;
                }
            }
            SatResult::Unknown => timeouts += 1,
            SatResult::Sat => {}
        }
    }
    if let Some((text, iterations)) = best {
        return Search::Ranking { text, iterations };
    }
    if timeouts > 0 {
        Search::Failed(format!("no ranking function found, {timeouts} Z3 timeouts"))
    } else {
        Search::Failed("no ranking function found".to_string())
    }
}

/// The largest value of `c` on entry to the loop, over every entry edge.
fn entry_max(enc: &LoopEncoding, c: &Candidate, timeout_ms: u32) -> Option<u64> {
    let mut best = 0u64;
    for (cond, values) in enc.entries.as_ref()? {
        let e = c.eval(values)?;
        let s = solver(timeout_ms);
        s.assert(cond);
        let w = e.get_size();
        match s.check() {
            SatResult::Sat => {}
            SatResult::Unsat => continue,
            SatResult::Unknown => return None,
        }
        best = best.max(maximum(&s, &e, w)?);
    }
    Some(best)
}

/// The largest value of `e` (width `w`) in the models of `s`, bit by bit.
fn maximum(s: &Solver, e: &BV, w: u32) -> Option<u64> {
    // Bit by bit from the top; a model's value of `e` (a feasible value, the witness)
    // answers the queries it already satisfies. Before that, one query `e > witness | low`
    // for `low` the bottom 4, 8, 16 or 32 bits: unsatisfiable means the maximum agrees
    // with the witness above those bits, which settles them in one query (a small maximum
    // otherwise costs one unsatisfiable query per high bit).
    let all = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
    let mut witness = match check_value(s, &Bool::from_bool(true), e) {
        (SatResult::Sat, v) => v,
        (SatResult::Unsat, _) => return Some(0),
        (SatResult::Unknown, _) => return None,
    };
    let mut max = 0u64;
    let mut top = w;
    for k in [4u32, 8, 16, 32] {
        let Some(v) = witness else { break };
        if k >= w {
            break;
        }
        let low = (1u64 << k) - 1;
        let hi = v | low;
        if hi >= all {
            break;
        }
        match check_value(s, &e.bvugt(BV::from_u64(hi, w)), e) {
            (SatResult::Unsat, _) => {
                max = v & !low;
                top = k;
                break;
            }
            (SatResult::Sat, nv) => witness = nv,
            (SatResult::Unknown, _) => return None,
        }
    }
    for bit in (0..top).rev() {
        let t = max | (1u64 << bit);
        if witness.is_some_and(|v| v >= t) {
            max = t;
            continue;
        }
        match check_value(s, &e.bvuge(BV::from_u64(t, w)), e) {
            (SatResult::Sat, v) => {
                max = t;
                witness = v;
            }
            (SatResult::Unsat, _) => {}
            (SatResult::Unknown, _) => return None,
        }
    }
    Some(max)
}

/// The least value of `e` (`w` bits) over the solver's models: the complement of the
/// largest value of `!e` (the same queries, mirrored); `None` on a Z3 timeout.
fn minimum(s: &Solver, e: &BV, w: u32) -> Option<u64> {
    let all = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
    maximum(s, &e.bvnot(), w).map(|m| !m & all)
}

/// `check` under an extra assumption, with the model's value of `e` when satisfiable.
fn check_value(s: &Solver, extra: &Bool, e: &BV) -> (SatResult, Option<u64>) {
    s.push();
    s.assert(extra);
    let r = s.check();
    let v = if r == SatResult::Sat { s.get_model().and_then(|m| m.eval(e, true)).and_then(|x| x.as_u64()) } else { None };
    s.pop(1);
    (r, v)
}

/// Most body executions given the ranking function `e` (`e2` after one iteration);
/// `entry_max` bounds `e` when the loop is entered.
fn bound(s: &Solver, e: &BV, e2: &BV, w: u32, entry_max: Option<u64>) -> Option<u64> {
    let lit = |v: u64| BV::from_u64(v, w);
    let limit: u64 = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
    // Least decrease k: e - e2 >= k on every iteration.
    let dec = e.bvsub(e2);
    let proves = |k: u64| check_with(s, &dec.bvult(lit(k))) == SatResult::Unsat;
    let mut k = 1u64;
    while k < limit / 2 && proves(k * 2) {
        k *= 2;
    }
    let (mut lo, mut hi) = (k, k.saturating_mul(2).min(limit));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if proves(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let k = lo.max(1);
    // Largest e over states taking a back edge; e only decreases, so its value on entry
    // bounds it too.
    // min(maximum, entry_max) without the bit-by-bit search when e can exceed the
    // entry bound anyway (one query instead of up to 64).
    let above_entry = entry_max.map(|b| b < limit && check_with(s, &e.bvugt(lit(b))) == SatResult::Sat);
    let max = match (entry_max, above_entry) {
        (Some(b), Some(true)) => b,
        _ => match (maximum(s, e, w), entry_max) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        },
    };
    let min = minimum(s, e, w)?;
    let back_edges = (max.saturating_sub(min) / k).saturating_add(1);
    Some(back_edges.saturating_add(1))
}

#[cfg(test)]
mod extremum_tests {
    use super::*;

    /// `maximum` and `minimum` of a variable constrained to one of `values` (or nothing).
    fn extremes(values: &[u64], w: u32) -> (Option<u64>, Option<u64>) {
        let s = solver(2000);
        let x = BV::new_const("x", w);
        let options: Vec<Bool> = values.iter().map(|v| x.eq(BV::from_u64(*v, w))).collect();
        s.assert(Bool::or(&options));
        (maximum(&s, &x, w), minimum(&s, &x, w))
    }

    #[test]
    fn exact_on_sets_of_values() {
        let cases: &[(&[u64], u32)] = &[
            (&[0], 64),
            (&[3], 64),
            (&[0, 1, 2, 3], 64),
            (&[u64::MAX, u64::MAX - 3], 64),
            (&[5, 0x1000, 0xffff_0000_0000], 64),
            (&[0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff], 64),
            (&[17, 0xffff_fff0], 32),
            (&[0xffff_ffff], 32),
            (&[0x12, 0x34], 8),
        ];
        for (values, w) in cases {
            let (max, min) = extremes(values, *w);
            assert_eq!(max, values.iter().max().copied(), "{values:x?}");
            assert_eq!(min, values.iter().min().copied(), "{values:x?}");
        }
        // No model: the bit-by-bit answers (nothing reaches any bit).
        let s = solver(2000);
        let x = BV::new_const("x", 64);
        s.assert(Bool::from_bool(false));
        assert_eq!(maximum(&s, &x, 64), Some(0));
        assert_eq!(minimum(&s, &x, 64), Some(u64::MAX));
    }
}
