//! Loop termination: for every loop of the CFG (a WTO component), prove with Z3 that it
//! terminates and bound its iterations, or find a state that repeats forever.
//!
//! The kernel unrolls loops while it verifies them: it rejects a loop whose state repeats
//! exactly (`infinite loop detected at insn N`) and one it cannot finish within its
//! budget of 1M processed instructions (`BPF program is too large. Processed 1000001
//! insn`). bpfcheck's fixpoint computes loop invariants instead, so it needs this pass
//! to reject the same programs:
//!
//! 1. [`encode`]: one iteration as a bit-vector transition formula over the head's
//!    registers and fixed-offset stack slots ([`symbolic`] gives the instruction
//!    semantics), under the head invariant from the fixpoint ([`invariant`]).
//! 2. [`ranking`]: a ranking function proved by Z3 gives `Bounded` (with an iteration
//!    bound from its range on entry and its least decrease) or `Terminates`; failing
//!    that, [`unroll`]ing from the entry states may show that at most `k` iterations
//!    run (`Bounded`); failing that, a state the iteration maps to itself gives
//!    `NonTerminating`; otherwise `Unknown`.
//! 3. [`longest_path_bound`] multiplies the bounds along loop nests, for the verifier to
//!    compare with the kernel's 1M budget.
//!
//! Accepted: `for (i = 0; i < 16; i++)` (bounded, 16 iterations); rejected:
//! `while (1) {}` (non-terminating), `for (i = 0; i < n; i++)` with an unknown u32 `n`
//! (bounded by 2^32 iterations, over budget), a loop whose counter Z3 cannot relate to
//! its exit (unknown).

pub mod abstract_unroll;
mod encode;
mod invariant;
mod ranking;
mod symbolic;
mod unroll;

use crate::cfg::{Cfg, EdgeKind, Loop};
use crate::insn::{CallTarget, Insn};
use crate::state::disjunct::StateSet;
use lattices::Lattice;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

/// The kernel's `BPF_COMPLEXITY_LIMIT_INSNS`.
pub const KERNEL_INSN_BUDGET: u64 = 1_000_000;

/// How hard to try.
#[derive(Clone, Debug)]
pub struct TerminationConfig {
    /// Z3 time limit per query.
    pub query_timeout: Duration,
    /// Most ranking candidates tried per loop.
    pub max_candidates: usize,
    /// Most iterations unrolled from the loop's entry states when no ranking function
    /// is found (tried at 1, 2, 4, ... up to this).
    pub max_unroll: usize,
}

impl Default for TerminationConfig {
    fn default() -> Self {
        TerminationConfig {
            query_timeout: Duration::from_secs(2),
            max_candidates: 256,
            max_unroll: 32,
        }
    }
}

/// What was proved about one loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoopOutcome {
    /// Terminates; the body runs at most `iterations` times per entry into the loop.
    Bounded { iterations: u64 },
    /// A ranking function was found, but no iteration bound.
    Terminates,
    /// A reachable-looking state goes round the loop unchanged (the kernel's
    /// "infinite loop detected"); `witness_pc` is where the kernel would notice.
    NonTerminating { witness_pc: usize },
    /// Nothing proved.
    Unknown { reason: String },
}

/// The result for one loop (one WTO component of one frame instance).
#[derive(Clone, Debug)]
pub struct LoopResult {
    /// The loop's head block in the CFG.
    pub head: NodeIndex,
    /// First pc of the head block.
    pub head_pc: usize,
    /// Smallest and largest pc of the loop's blocks in the head's frame.
    pub pc_range: (usize, usize),
    pub outcome: LoopOutcome,
    /// How the outcome was reached: `"ranking"`, `"unrolling"`, `"recurrent-state"`,
    /// `"no-back-edge"`, `"callback-helper"` (the loop around a `bpf_loop`-style call,
    /// bounded by the kernel; see [`CALLBACK_VISITS`]), `"unreachable"`, `"unsupported"`,
    /// `"search-failed"`.
    pub method: &'static str,
    /// The ranking function, e.g. `~r6` or `(u32)r6 - (u32)r7`, when one was found.
    pub ranking: Option<String>,
    pub time: Duration,
}

impl LoopResult {
    /// One line for reports: `loop at insn 12-20: at most 64 iterations`.
    pub fn summary(&self) -> String {
        let (a, b) = self.pc_range;
        let what = match &self.outcome {
            LoopOutcome::Bounded { iterations } => format!("at most {iterations} iterations"),
            LoopOutcome::Terminates => "terminates (no iteration bound)".to_string(),
            LoopOutcome::NonTerminating { witness_pc } => {
                format!("does not terminate (state repeats at insn {witness_pc})")
            }
            LoopOutcome::Unknown { reason } => format!("could not prove termination ({reason})"),
        };
        match &self.ranking {
            Some(r) => format!("loop at insn {a}-{b}: {what}, ranking function {r}"),
            None => format!("loop at insn {a}-{b}: {what}"),
        }
    }

    /// The diagnostic for a loop the verifier must reject on its own (non-terminating or
    /// unknown), in the kernel's words where it has them; `None` for terminating loops
    /// (whose bounds still go to [`longest_path_bound`]).
    pub fn rejection(&self) -> Option<String> {
        let (a, b) = self.pc_range;
        match &self.outcome {
            LoopOutcome::NonTerminating { witness_pc } => Some(format!("infinite loop detected at insn {witness_pc}")),
            LoopOutcome::Unknown { reason } => Some(format!(
                "loop at insn {a}-{b}: could not prove termination ({reason}); the kernel would report: BPF program is too large. Processed 1000001 insn"
            )),
            LoopOutcome::Bounded { .. } | LoopOutcome::Terminates => None,
        }
    }
}

impl fmt::Display for LoopResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

/// The message for a program whose longest path exceeds the kernel's budget.
pub fn too_large_message(bound: Option<u64>) -> String {
    match bound {
        Some(n) => format!(
            "BPF program is too large. Processed 1000001 insn (loops allow up to {n} insns on one path, budget {KERNEL_INSN_BUDGET})"
        ),
        None => "BPF program is too large. Processed 1000001 insn (a loop has no iteration bound)".to_string(),
    }
}

/// Checks every loop of `cfg`, outer loops first (the order of [`Cfg::loops`]).
/// `head_invariant` gives the fixpoint's entry state of a block: of loop heads, and
/// of the blocks just before a loop (for the values the loop starts from); `None` or
/// bottom means unreachable. Never panics; Z3 answers `unknown` give `Unknown`.
pub fn check_loops(
    insns: &[Insn],
    cfg: &Cfg,
    head_invariant: &dyn Fn(NodeIndex) -> Option<StateSet>,
    config: &TerminationConfig,
) -> Vec<LoopResult> {
    check_loops_with(insns, cfg, head_invariant, None, config)
}

/// [`check_loops`], trying first for each loop `abstract_bound` (the analysis's own
/// unrolling, [`abstract_unroll::Unroller::head_visits`], nested loops run to their end inside each
/// pass): a bound found there needs no Z3.
pub fn check_loops_with(
    insns: &[Insn],
    cfg: &Cfg,
    head_invariant: &dyn Fn(NodeIndex) -> Option<StateSet>,
    abstract_bound: Option<&dyn Fn(&Loop) -> Option<u64>>,
    config: &TerminationConfig,
) -> Vec<LoopResult> {
    let loops = cfg.loops();
    let unrollable = unrollable_loops(insns, cfg, &loops);
    let timeout_ms = config.query_timeout.as_millis().clamp(1, u32::MAX as u128) as u32;
    loops
        .iter()
        .map(|lp| {
            let start = Instant::now();
            let unrolled = match abstract_bound {
                Some(f) if unrollable.contains(&lp.head) => f(lp),
                _ => None,
            };
            let (outcome, method, ranking) = match unrolled {
                Some(n) => (LoopOutcome::Bounded { iterations: n }, "abstract-unrolling", None),
                None => check_one(insns, cfg, lp, &direct_children(&loops, lp), head_invariant, config, timeout_ms),
            };
            LoopResult {
                head: lp.head,
                head_pc: lp.head_pc,
                pc_range: lp.pc_range,
                outcome,
                method,
                ranking,
                time: start.elapsed(),
            }
        })
        .collect()
}

/// Heads of the loops the analysis's own unrolling may run: not callback loops and
/// holding none (those are bounded by the helper, not by their body). Nested loops are
/// unrolled inside each pass.
pub fn unrollable_loops(insns: &[Insn], cfg: &Cfg, loops: &[Loop]) -> HashSet<NodeIndex> {
    let callback_heads: HashSet<NodeIndex> =
        loops.iter().filter(|l| is_callback_loop(insns, cfg, l)).map(|l| l.head).collect();
    loops
        .iter()
        .filter(|lp| !lp.nodes.iter().any(|n| callback_heads.contains(n)))
        .map(|lp| lp.head)
        .collect()
}

/// The loops nested directly in `lp`.
fn direct_children<'a>(loops: &'a [Loop], lp: &Loop) -> Vec<&'a Loop> {
    let nodes: HashSet<NodeIndex> = lp.nodes.iter().copied().collect();
    loops
        .iter()
        .filter(|l| l.head != lp.head && l.depth == lp.depth + 1 && nodes.contains(&l.head))
        .collect()
}

fn check_one(
    insns: &[Insn],
    cfg: &Cfg,
    lp: &Loop,
    inner: &[&Loop],
    head_invariant: &dyn Fn(NodeIndex) -> Option<StateSet>,
    config: &TerminationConfig,
    timeout_ms: u32,
) -> (LoopOutcome, &'static str, Option<String>) {
    let inv = match head_invariant(lp.head) {
        Some(s) if !s.is_bottom() => s,
        _ => return (LoopOutcome::Bounded { iterations: 0 }, "unreachable", None),
    };
    if is_callback_loop(insns, cfg, lp) {
        return (
            LoopOutcome::Bounded {
                iterations: CALLBACK_VISITS,
            },
            "callback-helper",
            None,
        );
    }
    let enc = match encode::encode_loop(insns, cfg, lp, inner, &inv, head_invariant) {
        Ok(e) => e,
        Err(reason) => return (LoopOutcome::Unknown { reason }, "unsupported", None),
    };
    let failed = match ranking::search(&enc, timeout_ms, config.max_candidates) {
        ranking::Search::NoBackEdge => {
            return (LoopOutcome::Bounded { iterations: 1 }, "no-back-edge", None)
        }
        ranking::Search::Ranking {
            text,
            iterations: Some(n),
        } => {
            return (
                LoopOutcome::Bounded { iterations: n },
                "ranking",
                Some(text),
            )
        }
        ranking::Search::Ranking {
            text,
            iterations: None,
        } => return (LoopOutcome::Terminates, "ranking", Some(text)),
        ranking::Search::Failed(reason) => reason,
    };
    if let Some(n) = unroll::unrolled_bound(
        insns,
        cfg,
        lp,
        inner,
        &inv,
        &enc,
        timeout_ms,
        config.max_unroll,
    ) {
        return (LoopOutcome::Bounded { iterations: n }, "unrolling", None);
    }
    if ranking::recurrent(&enc, timeout_ms) {
        return (
            LoopOutcome::NonTerminating {
                witness_pc: witness_pc(insns, cfg, lp),
            },
            "recurrent-state",
            None,
        );
    }
    (
        LoopOutcome::Unknown { reason: failed },
        "search-failed",
        None,
    )
}

/// How many times a callback's body counts towards the longest path: the kernel bounds
/// the calls at run time (`bpf_loop`'s R1 is at most 2^23, `bpf_for_each_map_elem` runs
/// once per element) and verifies the callback until its states converge, not once per
/// call, so its budget sees a few passes over the body.
pub const CALLBACK_VISITS: u64 = 2;

/// The CFG's loop around a callback-taking helper call (`bpf_loop`, ...): the head is
/// the call block and every back edge is the callback's return.
fn is_callback_loop(insns: &[Insn], cfg: &Cfg, lp: &Loop) -> bool {
    let Some(b) = cfg.block(lp.head) else {
        return false;
    };
    insns
        .get(b.end)
        .is_some_and(crate::cfg::is_callback_helper_call)
        && !lp.back_edges.is_empty()
        && lp
            .back_edges
            .iter()
            .all(|&e| cfg.graph.edge_weight(e) == Some(&EdgeKind::Return))
}

/// Where the kernel notices the repeated state: the head, or just after the first call
/// on the straight-line run from the head (a call clobbers R1-R5, so the state before
/// it differs between the first and second iteration).
fn witness_pc(insns: &[Insn], cfg: &Cfg, lp: &Loop) -> usize {
    let nodes: HashSet<NodeIndex> = lp.nodes.iter().copied().collect();
    let mut cur = lp.head;
    for _ in 0..lp.nodes.len() {
        let Some(b) = cfg.block(cur) else { break };
        if matches!(
            insns.get(b.end),
            Some(Insn::Call(CallTarget::Helper(_) | CallTarget::Kfunc { .. }))
        ) {
            return b.end + 1;
        }
        let succs: Vec<(NodeIndex, EdgeKind)> = cfg
            .graph
            .edges(cur)
            .map(|e| (e.target(), *e.weight()))
            .collect();
        match succs.as_slice() {
            [(t, EdgeKind::Fallthrough | EdgeKind::Goto)] if *t != lp.head && nodes.contains(t) => {
                cur = *t
            }
            _ => break,
        }
    }
    lp.head_pc
}

/// An upper bound on the instructions executed along any path of the program: blocks
/// outside loops once, each loop `iterations x (its own blocks + its inner loops' costs)`.
/// `None` when some reachable loop has no bound (`Terminates`, `NonTerminating`, `Unknown`,
/// or a loop missing from `results`). Compare with [`KERNEL_INSN_BUDGET`].
pub fn longest_path_bound(cfg: &Cfg, results: &[LoopResult]) -> Option<u64> {
    let loops = cfg.loops();
    let iters: HashMap<NodeIndex, u64> = results
        .iter()
        .filter_map(|r| match r.outcome {
            LoopOutcome::Bounded { iterations } => Some((r.head, iterations)),
            _ => None,
        })
        .collect();
    let len = |n: NodeIndex| cfg.block(n).map_or(0, |b| b.len() as u64);
    let in_some_loop: HashSet<NodeIndex> =
        loops.iter().flat_map(|l| l.nodes.iter().copied()).collect();
    let mut total: u64 = cfg
        .wto
        .order()
        .iter()
        .filter(|n| !in_some_loop.contains(n))
        .map(|&n| len(n))
        .sum();
    // Innermost first: cost of each loop once its children's are known.
    let mut cost: HashMap<NodeIndex, u64> = HashMap::new();
    let mut by_depth: Vec<&Loop> = loops.iter().collect();
    by_depth.sort_by_key(|l| std::cmp::Reverse(l.depth));
    for lp in by_depth {
        let n_iter = *iters.get(&lp.head)?;
        let children = direct_children(&loops, lp);
        let child_nodes: HashSet<NodeIndex> = children
            .iter()
            .flat_map(|c| c.nodes.iter().copied())
            .collect();
        let own: u64 = lp
            .nodes
            .iter()
            .filter(|n| !child_nodes.contains(n))
            .map(|&n| len(n))
            .sum();
        let inner: u64 = children
            .iter()
            .map(|c| cost.get(&c.head).copied().unwrap_or(0))
            .fold(0, u64::saturating_add);
        cost.insert(lp.head, n_iter.saturating_mul(own.saturating_add(inner)));
    }
    for lp in loops.iter().filter(|l| l.depth == 1) {
        total = total.saturating_add(cost.get(&lp.head).copied().unwrap_or(0));
    }
    Some(total)
}

#[cfg(test)]
mod tests;
