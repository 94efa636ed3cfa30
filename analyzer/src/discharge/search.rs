//! Bounded path search: depth-first over the CFG from the entry to the diagnostic's pc, executing
//! each block symbolically ([`super::sym`]), pruning infeasible branches with Z3, and asking at
//! every arrival at the pc whether the violation is satisfiable.
//!
//! Only blocks from which a block containing the pc is reachable are entered. A block inside
//! loops whose iteration bounds the termination prover established (`Limits::loop_bounds`, by
//! head pc) is entered at most `prod (bound + 1)` times over its enclosing loops: no concrete
//! path goes further, so cutting there keeps the search complete. Any other block is entered at
//! most `unroll + 1` times per path; a path cut by that bound, by the path budget, by the
//! deadline or by an unsupported instruction makes the search *incomplete*, and an incomplete
//! search never concludes `Proved`.

use super::sym::{Env, SVal, Stop, SymState};
use crate::cfg::{Cfg, EdgeKind};
use crate::diag::{DiagCode, Diagnostic};
use crate::insn::Insn;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;
use z3::ast::{Ast, Bool};
use z3::{Model, Params, SatResult, Solver};

/// Bounds of one search.
pub(crate) struct Limits {
    pub(crate) max_paths: usize,
    pub(crate) unroll: u32,
    pub(crate) deadline: Instant,
    /// Proven iteration bounds (at most this many body runs per entry), by loop head pc.
    pub(crate) loop_bounds: BTreeMap<usize, u64>,
    /// Largest visit count a proven bound may ask for; beyond it, `unroll` applies.
    pub(crate) max_bounded_visits: u64,
}

/// How often a block may be entered on one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VisitLimit {
    /// Proven: no concrete path enters the block more often, so cutting there is complete.
    Exact(u64),
    /// The unrolling bound: cutting there makes the search incomplete.
    Unroll(u64),
}

/// The visit limit of every block: exact inside loops whose every enclosing loop has a proven
/// bound (the product of `bound + 1` over them, when at most `max_bounded_visits`), the
/// unrolling bound elsewhere. Blocks outside loops are absent (one visit per path: they are on
/// no cycle).
pub(crate) fn visit_limits(cfg: &Cfg, limits: &Limits) -> HashMap<NodeIndex, VisitLimit> {
    let unroll = VisitLimit::Unroll(u64::from(limits.unroll) + 1);
    let loops = cfg.loops();
    let mut product: HashMap<NodeIndex, Option<u64>> = HashMap::new();
    for lp in &loops {
        let factor = limits.loop_bounds.get(&lp.head_pc).map(|b| b.saturating_add(1));
        for n in &lp.nodes {
            let e = product.entry(*n).or_insert(Some(1));
            *e = match (*e, factor) {
                (Some(p), Some(f)) => Some(p.saturating_mul(f)),
                _ => None,
            };
        }
    }
    product
        .into_iter()
        .map(|(n, p)| {
            let limit = match p {
                Some(v) if v <= limits.max_bounded_visits => VisitLimit::Exact(v),
                _ => unroll,
            };
            (n, limit)
        })
        .collect()
}

/// Packet length tried first for a counterexample (readable in logs).
const SMALL_PKT_LEN: u64 = 64;

/// What the search found.
pub(crate) enum Found {
    /// The callback accepted a satisfying model of a path condition and the violation.
    Accepted,
    /// Satisfying models were found, none accepted.
    Rejected,
    /// No violation on any path, and the search was complete.
    Infeasible,
    /// No violation found, search incomplete: the reason.
    Incomplete(String),
}

struct Item {
    node: NodeIndex,
    state: SymState,
    visits: BTreeMap<NodeIndex, u32>,
}

/// One incremental solver for the whole search: each path constraint `c` is asserted once as
/// `p => c` for a fresh literal `p`, and a check assumes the literals of the current path, so
/// lemmas learnt on one path help its siblings.
struct Incremental {
    solver: Solver,
    literals: HashMap<Bool, Bool>,
}

impl Incremental {
    fn new() -> Incremental {
        Incremental { solver: Solver::new_for_logic("QF_ABV").unwrap_or_default(), literals: HashMap::new() }
    }

    fn literal(&mut self, c: &Bool) -> Bool {
        if let Some(p) = self.literals.get(c) {
            return p.clone();
        }
        let p = Bool::new_const(format!("path!{}", self.literals.len()));
        self.solver.assert(p.implies(c));
        self.literals.insert(c.clone(), p.clone());
        p
    }

    fn check(&mut self, limits: &Limits, cs: &[Bool], extra: &Bool) -> (SatResult, Option<Model>) {
        let ms = limits.deadline.saturating_duration_since(Instant::now()).as_millis().clamp(1, u128::from(u32::MAX));
        let mut p = Params::new();
        p.set_u32("timeout", ms as u32);
        self.solver.set_params(&p);
        let mut assumptions: Vec<Bool> = cs.iter().map(|c| self.literal(c)).collect();
        assumptions.push(self.literal(extra));
        let r = self.solver.check_assumptions(&assumptions);
        let m = if r == SatResult::Sat { self.solver.get_model() } else { None };
        (r, m)
    }
}

/// The violation condition of `diag` at its pc in state `st` (before the instruction executes).
fn violation(env: &Env<'_>, st: &SymState, insn: &Insn, diag: &Diagnostic) -> Result<Bool, Stop> {
    if diag.code == DiagCode::UninitRegister {
        let Some(reads) = SymState::reads_in(env, insn) else {
            return Err(Stop::Unsupported("uninit_register at a call the encoding does not know".into()));
        };
        return Ok(Bool::from_bool(reads.into_iter().any(|r| st.is_uninit(r))));
    }
    let Some((reg, off, size)) = SymState::access_of(insn) else {
        return Err(Stop::Unsupported(format!("{} at a non-memory instruction", diag.code.as_str())));
    };
    // A register read that faults first is not this violation.
    if SymState::reads(insn).into_iter().any(|r| st.is_uninit(r)) {
        return Ok(Bool::from_bool(false));
    }
    let ptr = st.reg(reg).unwrap_or(SVal::Uninit);
    Ok(st.access_safe(env, &ptr, off, size)?.not())
}

/// A model of `cs` and `v` with the shortest packet (binary search on `pkt_len` below the
/// model's), so counterexamples are small and do not depend on the solver's history; `None`
/// when `model` is already shortest or a check fails.
fn shortest_packet(smt: &mut Incremental, limits: &Limits, cs: &[Bool], v: &Bool, model: &Model) -> Option<Model> {
    let len = super::sym::pkt_len();
    let mut hi = model.eval(&len, true).and_then(|x| x.as_u64())?;
    let mut lo = 0u64;
    let mut best = None;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let mut with_len = cs.to_vec();
        with_len.push(len.bvule(super::sym::lit(mid)));
        match smt.check(limits, &with_len, v) {
            (SatResult::Sat, Some(m)) => {
                hi = m.eval(&len, true).and_then(|x| x.as_u64()).unwrap_or(mid).min(mid);
                best = Some(m);
            }
            (SatResult::Unsat, _) => lo = mid + 1,
            _ => break,
        }
    }
    best
}

/// Searches paths from `cfg.entry` to `diag.pc` for a violation.
/// `accept` is called with each satisfying model and the path's state; returning true stops.
pub(crate) fn search(
    env: &Env<'_>,
    insns: &[Insn],
    cfg: &Cfg,
    diag: &Diagnostic,
    limits: &Limits,
    accept: &mut dyn FnMut(&Model, &SymState) -> bool,
) -> Found {
    let targets: Vec<NodeIndex> = cfg
        .graph
        .node_indices()
        .filter(|&n| cfg.graph.node_weight(n).is_some_and(|b| b.pcs().contains(&diag.pc)))
        .collect();
    if targets.is_empty() {
        return Found::Incomplete(format!("pc {} is not in the CFG", diag.pc));
    }
    // Blocks from which a target is reachable.
    let mut relevant: HashSet<NodeIndex> = targets.iter().copied().collect();
    let mut work = targets.clone();
    while let Some(n) = work.pop() {
        for p in cfg.graph.neighbors_directed(n, Direction::Incoming) {
            if relevant.insert(p) {
                work.push(p);
            }
        }
    }
    if !relevant.contains(&cfg.entry) {
        return Found::Infeasible;
    }
    let visit_limit = visit_limits(cfg, limits);
    let mut smt = Incremental::new();
    let mut incomplete: Option<String> = None;
    let mut arrivals = 0usize;
    let mut rejected = false;
    let mut stack = vec![Item { node: cfg.entry, state: SymState::new(), visits: BTreeMap::new() }];
    while let Some(mut item) = stack.pop() {
        if Instant::now() >= limits.deadline {
            return if rejected { Found::Rejected } else { Found::Incomplete("time budget exhausted".into()) };
        }
        let count = item.visits.entry(item.node).or_insert(0);
        *count += 1;
        match visit_limit.get(&item.node).copied().unwrap_or(VisitLimit::Unroll(u64::from(limits.unroll) + 1)) {
            // Past a proven loop bound: no concrete path gets here.
            VisitLimit::Exact(max) if u64::from(*count) > max => continue,
            VisitLimit::Unroll(max) if u64::from(*count) > max => {
                incomplete.get_or_insert_with(|| "loop unrolling bound reached".into());
                continue;
            }
            _ => {}
        }
        let Some(block) = cfg.graph.node_weight(item.node).copied() else { continue };
        let mut dead = false;
        for pc in block.pcs() {
            let Some(insn) = insns.get(pc) else {
                dead = true;
                break;
            };
            if pc == diag.pc {
                arrivals += 1;
                if arrivals > limits.max_paths {
                    return if rejected {
                        Found::Rejected
                    } else {
                        Found::Incomplete(format!("path budget of {} exhausted", limits.max_paths))
                    };
                }
                match violation(env, &item.state, insn, diag) {
                    Ok(v) => {
                        if v.simplify().as_bool() != Some(false) {
                            // Prefer a tiny packet, then a small one; fall back to any length.
                            let mut res = (SatResult::Unknown, None);
                            for max_len in [SMALL_PKT_LEN, super::sym::MAX_PKT_LEN] {
                                let mut small = item.state.constraints.clone();
                                small.push(super::sym::pkt_len().bvule(super::sym::lit(max_len)));
                                res = smt.check(limits, &small, &v);
                                if res.0 == SatResult::Sat {
                                    break;
                                }
                            }
                            if res.0 != SatResult::Sat {
                                res = smt.check(limits, &item.state.constraints, &v);
                            }
                            if let (SatResult::Sat, Some(m)) = &res {
                                if let Some(smaller) = shortest_packet(&mut smt, limits, &item.state.constraints, &v, m) {
                                    res = (SatResult::Sat, Some(smaller));
                                }
                            }
                            match res {
                                (SatResult::Sat, Some(m)) => {
                                    if accept(&m, &item.state) {
                                        return Found::Accepted;
                                    }
                                    rejected = true;
                                }
                                (SatResult::Unsat, _) => {}
                                _ => {
                                    incomplete.get_or_insert_with(|| "solver timeout or unknown".into());
                                }
                            }
                        }
                    }
                    Err(Stop::Unsupported(why)) => {
                        incomplete.get_or_insert(why);
                    }
                    Err(Stop::Fault) => {}
                }
            }
            match item.state.step(env, insn) {
                Ok(()) => {}
                Err(Stop::Fault) => {
                    dead = true;
                    break;
                }
                Err(Stop::Unsupported(why)) => {
                    incomplete.get_or_insert(format!("pc {pc}: {why}"));
                    dead = true;
                    break;
                }
            }
        }
        if dead {
            continue;
        }
        let last = insns.get(block.end).copied();
        let mut succs: Vec<(NodeIndex, EdgeKind)> = cfg
            .graph
            .edges_directed(item.node, Direction::Outgoing)
            .map(|e| (e.target(), *e.weight()))
            .filter(|(t, _)| relevant.contains(t))
            .collect();
        // Explore the fall-through side first (pushed last).
        succs.sort_by_key(|(_, k)| matches!(k, EdgeKind::NotTaken | EdgeKind::Fallthrough));
        for (target, kind) in succs {
            let mut st = item.state.clone();
            let res = match kind {
                EdgeKind::Taken | EdgeKind::NotTaken => match last.as_ref().map(|i| st.branch(i)) {
                    Some(Ok(c)) => {
                        let c = if kind == EdgeKind::Taken { c } else { c.not() };
                        match c.simplify().as_bool() {
                            Some(true) => Ok(()),
                            Some(false) => Err(Stop::Fault),
                            None => match smt.check(limits, &st.constraints, &c).0 {
                                SatResult::Unsat => Err(Stop::Fault),
                                SatResult::Sat => {
                                    st.constraints.push(c);
                                    Ok(())
                                }
                                SatResult::Unknown => {
                                    Err(Stop::Unsupported("solver timeout or unknown on a branch".into()))
                                }
                            },
                        }
                    }
                    Some(Err(e)) => Err(e),
                    None => Err(Stop::Fault),
                },
                EdgeKind::Call => st.enter_call(),
                EdgeKind::Return => st.leave_call(),
                EdgeKind::Goto | EdgeKind::Fallthrough => Ok(()),
            };
            match res {
                Ok(()) => stack.push(Item { node: target, state: st, visits: item.visits.clone() }),
                Err(Stop::Fault) => {}
                Err(Stop::Unsupported(why)) => {
                    incomplete.get_or_insert(format!("pc {}: {why}", block.end));
                }
            }
        }
    }
    match incomplete {
        _ if rejected => Found::Rejected,
        Some(why) => Found::Incomplete(why),
        None => Found::Infeasible,
    }
}
