//! Bounded unrolling from the loop's entry states: when no ranking function is found,
//! ask Z3 whether `k` consecutive back edges can be taken starting from a state that
//! enters the loop (`Entry(v0) ∧ T(v0, v1) ∧ ... ∧ T(v(k-1), vk)`, every `vi` in the head
//! invariant), for `k = 1, 2, 4, ...`. Unsatisfiable means at most `k - 1` back edges,
//! i.e. the body runs at most `k` times: the kernel's own way of accepting loops whose
//! counter follows several paths (`i += 3` or `i += 7` until `i` hits one of a few
//! values), which no single ranking function over the invariant captures.
//!
//! Each copy of the iteration is encoded afresh with its own names, so values read
//! from helpers and memory are independent between iterations.

use super::encode::{encode_copy, LoopEncoding};
use super::ranking::solver;
use crate::cfg::{Cfg, Loop};
use crate::insn::Insn;
use crate::state::disjunct::StateSet;
use z3::ast::{Bool, BV};
use z3::SatResult;

/// Most body executions found by unrolling up to `max_k` iterations, if any.
#[allow(clippy::too_many_arguments)]
pub(crate) fn unrolled_bound(
    insns: &[Insn],
    cfg: &Cfg,
    lp: &Loop,
    inner: &[&Loop],
    inv: &StateSet,
    base: &LoopEncoding,
    timeout_ms: u32,
    max_k: usize,
) -> Option<u64> {
    let entries = base.entries.as_ref()?;
    let s = solver(timeout_ms);
    let entry: Vec<Bool> = entries
        .iter()
        .map(|(cond, values)| {
            let same: Vec<Bool> = base
                .vars
                .iter()
                .zip(values.iter())
                .map(|(v, e)| v.eq(e))
                .collect();
            Bool::and(&[cond.clone(), Bool::and(&same)])
        })
        .collect();
    // Copy 0 is `base` itself: its head variables are the entry state.
    s.assert(Bool::or(&entry));
    s.assert(&base.inv);
    s.assert(&base.body);
    let mut prev_next: Vec<BV> = base.next.clone();
    let mut copies = 1usize;
    let mut k = 1usize;
    while k <= max_k {
        while copies < k {
            let c = encode_copy(insns, cfg, lp, inner, inv, base, &format!("u{copies}.")).ok()?;
            let link: Vec<Bool> = c
                .vars
                .iter()
                .zip(prev_next.iter())
                .map(|(v, n)| v.eq(n))
                .collect();
            s.assert(Bool::and(&link));
            s.assert(&c.inv);
            s.assert(&c.body);
            prev_next = c.next;
            copies += 1;
        }
        match s.check() {
            SatResult::Unsat => return Some(k as u64),
            SatResult::Sat => {}
            SatResult::Unknown => return None,
        }
        k *= 2;
    }
    None
}
