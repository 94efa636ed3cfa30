//! The solver: Bourdoncle's recursive iteration strategy over a [`Wto`], with widening at
//! component heads and a descending (narrowing) phase per component.
//!
//! Strategy. Elements are visited in WTO order. A plain vertex is visited once per pass of
//! its enclosing component: its entry state is the join, over its in-edges, of
//! `transfer_edge(exit[pred])` (plus `entry_state()` at the entry node), and its exit state
//! is `transfer_node(entry)`. A component `(h body)` is stabilised before anything after it:
//! 0. *Seeding*: when the solver first reaches `h`, the analysis may give, from what the
//!    edges from outside bring (`Analysis::seed_component`, e.g. an unrolling of the
//!    loop), a first state for `h`, joined into `entry[h]` (any seed is sound: step 1
//!    checks it like any other head state), or the whole component solved (its entry
//!    and exit states, taken as they are: the component is not iterated).
//! 1. *Ascending*: visit `h`, then the body (inner components stabilise themselves,
//!    restarting from their current predecessors each time). Recompute `pre(h)`; if
//!    `pre(h) ⊑ entry[h]` the component is stable, otherwise
//!    `entry[h] := entry[h] ⊔ pre(h)` for the first `delay` revisits and
//!    `entry[h] := entry[h] ∇ (entry[h] ⊔ pre(h))` afterwards (the k-th such widening is
//!    `widen_round(.., k)`), and do another pass.
//! 2. *Descending*: up to `narrowing_iterations` times, `entry[h] := entry[h] Δ pre(h)`
//!    and re-run the body, stopping early when nothing changes.
//!
//! Monotonicity. Narrowing keeps `entry[h]` a post-fixpoint only if the transfer functions
//! are monotone: from `pre(h) ⊑ x` and `x' = x Δ pre(h) ⊑ x` monotonicity gives
//! `pre'(h) ⊑ pre(h) ⊑ x'`. Inner components re-solved with widening are not monotone in
//! general, so the solver does not trust it: before accepting a component it always checks
//! `pre(h) ⊑ entry[h]` on the *final* states; if a descending pass broke it, the component
//! goes back to ascending with immediate widening and never narrows again. Hence the result
//! is always a post-fixpoint (sound), provided `widen` is an upper bound of its arguments
//! and ensures termination, and `join` is an upper bound.
//!
//! The iteration is a loop over positions with an explicit stack of open components: no Rust
//! recursion, whatever the loop nesting depth.

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use super::{Analysis, Budget, Lattice, Seed, Thresholds, WideningPolicy, Wto};

/// Counters of one fixpoint computation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FixpointStats {
    /// Calls of `transfer_node`.
    pub node_visits: u64,
    /// Widenings applied at component heads.
    pub widenings: u64,
    /// Narrowings applied at component heads.
    pub narrowings: u64,
    /// Passes over component bodies (all components together).
    pub component_passes: u64,
    /// Components the analysis solved ahead (`Seed::Solved`), not iterated.
    pub solved_ahead: u64,
}

/// The invariants: state at entry and exit of every node, indexed by `NodeIndex::index()`.
/// Nodes not reachable from the entry (absent from the WTO) are bottom.
#[derive(Clone, Debug, PartialEq)]
pub struct Fixpoint<D> {
    pub entry: Vec<D>,
    pub exit: Vec<D>,
    pub stats: FixpointStats,
}

impl<D> Fixpoint<D> {
    /// State at entry of `n`, if `n` is a node of the solved graph.
    pub fn entry_of(&self, n: NodeIndex) -> Option<&D> {
        self.entry.get(n.index())
    }

    /// State at exit of `n`, if `n` is a node of the solved graph.
    pub fn exit_of(&self, n: NodeIndex) -> Option<&D> {
        self.exit.get(n.index())
    }
}

/// Why a fixpoint computation was abandoned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FixpointError {
    #[error("analysis budget exceeded: {visits} node visits > limit of {limit}")]
    VisitBudgetExceeded { visits: u64, limit: u64 },
    #[error("analysis deadline passed after {visits} node visits")]
    DeadlinePassed { visits: u64 },
    /// The thread's memory limit (`mem_budget::limit_scope`) was exceeded: `bytes` were
    /// allocated (net of frees) since the computation started.
    #[error("analysis memory limit exceeded: {bytes} bytes after {visits} node visits")]
    MemoryLimit { bytes: u64, visits: u64 },
    #[error(
        "weak topological order does not match the graph: it orders node {node} but the graph has {node_count} nodes"
    )]
    WtoMismatch { node: usize, node_count: usize },
}

/// How often (in node visits) the deadline is checked.
const DEADLINE_CHECK_EVERY: u64 = 256;

/// Where an open component is in its iteration.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Ascending; `iter` revisits of the head so far.
    Ascending { iter: u32 },
    /// Ascending after a failed descent: always widen, never narrow again.
    AscendingFinal,
    /// Descending; `k` narrowing passes done.
    Descending { k: u32 },
}

#[derive(Clone, Copy, Debug)]
struct OpenComponent {
    head_pos: usize,
    end: usize,
    phase: Phase,
}

enum AfterPass {
    Repeat,
    Done,
}

struct Solver<'a, A: Analysis> {
    g: &'a DiGraph<A::Node, A::Edge>,
    entry_node: NodeIndex,
    analysis: &'a A,
    policy: &'a WideningPolicy,
    budget: &'a Budget,
    /// Bytes allocated since the start, against the thread's memory limit.
    memory: super::mem_budget::Meter,
    thresholds: &'a Thresholds,
    entry: Vec<A::Domain>,
    exit: Vec<A::Domain>,
    stats: FixpointStats,
}

/// Computes a post-fixpoint of `analysis` over `g` from `entry`, in the order `wto`
/// (which must have been built from `g`). See the module documentation for the strategy.
pub fn solve<A: Analysis>(
    g: &DiGraph<A::Node, A::Edge>,
    entry: NodeIndex,
    wto: &Wto,
    analysis: &A,
    policy: &WideningPolicy,
    budget: &Budget,
) -> Result<Fixpoint<A::Domain>, FixpointError> {
    let n = g.node_count();
    if let Some(bad) = wto.order().iter().find(|v| v.index() >= n) {
        return Err(FixpointError::WtoMismatch { node: bad.index(), node_count: n });
    }
    let mut s = Solver {
        g,
        entry_node: entry,
        analysis,
        policy,
        budget,
        memory: super::mem_budget::Meter::start(),
        thresholds: analysis.thresholds(),
        entry: vec![A::Domain::bottom(); n],
        exit: vec![A::Domain::bottom(); n],
        stats: FixpointStats::default(),
    };
    let order = wto.order();
    // WTO position by node index (usize::MAX: not in the order).
    let mut wto_pos = vec![usize::MAX; n];
    for (i, v) in order.iter().enumerate() {
        wto_pos[v.index()] = i;
    }
    let mut open: Vec<OpenComponent> = Vec::new();
    let mut pos = 0;
    loop {
        if let Some(top) = open.last_mut() {
            if pos >= top.end {
                let h = order[top.head_pos];
                match s.after_pass(h, &mut top.phase)? {
                    AfterPass::Repeat => pos = top.head_pos + 1,
                    AfterPass::Done => {
                        open.pop();
                    }
                }
                continue;
            }
        }
        let Some(&v) = order.get(pos) else { break };
        let end = wto.component_end(pos);
        let pre = match end {
            Some(end) => {
                let (pre, solved) = s.seeded_pre(v, |p| wto_pos.get(p.index()).is_some_and(|&q| (pos..end).contains(&q)));
                if let Some(states) = solved {
                    // Solved ahead: the states as given, no iteration.
                    for n in order.get(pos..end).unwrap_or_default() {
                        s.entry[n.index()] = A::Domain::bottom();
                        s.exit[n.index()] = A::Domain::bottom();
                    }
                    for (n, e, x) in states {
                        if let (Some(es), Some(xs)) = (s.entry.get_mut(n.index()), s.exit.get_mut(n.index())) {
                            (*es, *xs) = (e, x);
                        }
                    }
                    s.stats.solved_ahead += 1;
                    pos = end;
                    continue;
                }
                pre
            }
            None => s.pre(v),
        };
        s.entry[v.index()] = pre;
        s.visit(v)?;
        if let Some(end) = end {
            s.stats.component_passes += 1;
            open.push(OpenComponent { head_pos: pos, end, phase: Phase::Ascending { iter: 0 } });
        }
        pos += 1;
    }
    Ok(Fixpoint { entry: s.entry, exit: s.exit, stats: s.stats })
}

impl<A: Analysis> Solver<'_, A> {
    /// Join over in-edges of the edge-transferred exit states (plus the entry state).
    fn pre(&self, v: NodeIndex) -> A::Domain {
        self.pre_split(v, |_| false).0
    }

    /// `pre(v)` in two parts: what the edges from nodes outside `inside` bring (plus the
    /// entry state), and what the edges from inside bring.
    fn pre_split(&self, v: NodeIndex, inside: impl Fn(NodeIndex) -> bool) -> (A::Domain, A::Domain) {
        let mut outside = if v == self.entry_node { self.analysis.entry_state() } else { A::Domain::bottom() };
        let mut back = A::Domain::bottom();
        for e in self.g.edges_directed(v, Direction::Incoming) {
            let p = e.source();
            let Some(x) = self.exit.get(p.index()) else { continue };
            if x.is_bottom() {
                continue;
            }
            let s = self.analysis.transfer_edge(e.weight(), p, v, x);
            if !s.is_bottom() {
                self.analysis.join_into(if inside(p) { &mut back } else { &mut outside }, s);
            }
        }
        (outside, back)
    }

    /// `pre(h)` for a component head `h` entered from outside (`inside` tells the
    /// component's nodes), joined with the analysis's first head state for it
    /// (`Analysis::seed_component`, given what the edges from outside bring); or the
    /// component's entry and exit states when the analysis solved it ahead.
    #[allow(clippy::type_complexity)]
    fn seeded_pre(&self, h: NodeIndex, inside: impl Fn(NodeIndex) -> bool) -> (A::Domain, Option<Vec<(NodeIndex, A::Domain, A::Domain)>>) {
        let (outside, back) = self.pre_split(h, inside);
        let seed = self.analysis.seed_component(h, &outside);
        if let Some(Seed::Solved(states)) = seed {
            // The head's state comes with the rest: no join needed.
            return (outside, Some(states));
        }
        let mut acc = outside;
        if !back.is_bottom() {
            self.analysis.join_into(&mut acc, back);
        }
        if let Some(Seed::Head(d)) = seed {
            self.analysis.join_into(&mut acc, d);
        }
        (acc, None)
    }

    /// `exit[v] := transfer_node(entry[v])`, charging the budget.
    fn visit(&mut self, v: NodeIndex) -> Result<(), FixpointError> {
        let i = v.index();
        if self.entry[i].is_bottom() {
            self.exit[i] = A::Domain::bottom();
            return Ok(());
        }
        self.stats.node_visits += 1;
        let visits = self.stats.node_visits;
        if visits > self.budget.max_node_visits {
            return Err(FixpointError::VisitBudgetExceeded { visits, limit: self.budget.max_node_visits });
        }
        if let Some(deadline) = self.budget.deadline {
            if visits % DEADLINE_CHECK_EVERY == 1 && std::time::Instant::now() > deadline {
                return Err(FixpointError::DeadlinePassed { visits });
            }
        }
        if let Some(bytes) = self.memory.over_limit() {
            return Err(FixpointError::MemoryLimit { bytes, visits });
        }
        let state = match self.g.node_weight(v) {
            Some(w) => self.analysis.transfer_node_from(v, w, &self.entry[i]),
            None => self.entry[i].clone(),
        };
        self.exit[i] = state;
        Ok(())
    }

    /// Decides, after a pass over the body of the component headed by `h`, whether to
    /// repeat (with an updated head state, already transferred) or to close it.
    fn after_pass(&mut self, h: NodeIndex, phase: &mut Phase) -> Result<AfterPass, FixpointError> {
        let i = h.index();
        let pre = self.pre(h);
        let stable = pre.leq(&self.entry[i]);
        match *phase {
            Phase::Ascending { .. } | Phase::AscendingFinal if stable => {
                if matches!(phase, Phase::Ascending { .. }) && self.policy.narrowing_iterations > 0 {
                    *phase = Phase::Descending { k: 0 };
                    return self.narrow_step(h, pre, phase);
                }
                Ok(AfterPass::Done)
            }
            Phase::Ascending { iter } => {
                let iter = iter.saturating_add(1);
                *phase = Phase::Ascending { iter };
                let round = self.policy.should_widen(iter).then(|| iter - self.policy.delay - 1);
                self.ascend(h, &pre, round)
            }
            Phase::AscendingFinal => self.ascend(h, &pre, Some(u32::MAX)),
            Phase::Descending { .. } if !stable => {
                // A descending pass broke the post-fixpoint (non-monotone transfer):
                // go back up, widening at once, and never narrow this component again.
                *phase = Phase::AscendingFinal;
                self.ascend(h, &pre, Some(u32::MAX))
            }
            Phase::Descending { .. } => self.narrow_step(h, pre, phase),
        }
    }

    /// `entry[h] := entry[h] ⊔ pre`, or with `Some(round)` the `round`-th widening
    /// `entry[h] ∇ (entry[h] ⊔ pre)` (`Lattice::widen_round`); transfer, repeat.
    fn ascend(&mut self, h: NodeIndex, pre: &A::Domain, widen: Option<u32>) -> Result<AfterPass, FixpointError> {
        let i = h.index();
        let mut next = self.entry[i].clone();
        next.join(pre);
        if let Some(round) = widen {
            next = self.entry[i].widen_round(&next, self.thresholds, round);
            self.stats.widenings += 1;
        }
        self.entry[i] = next;
        self.stats.component_passes += 1;
        self.visit(h)?;
        Ok(AfterPass::Repeat)
    }

    /// One descending step, `pre ⊑ entry[h]` being known.
    fn narrow_step(&mut self, h: NodeIndex, pre: A::Domain, phase: &mut Phase) -> Result<AfterPass, FixpointError> {
        let Phase::Descending { k } = *phase else { return Ok(AfterPass::Done) };
        if k >= self.policy.narrowing_iterations {
            return Ok(AfterPass::Done);
        }
        let i = h.index();
        let next = self.entry[i].narrow(&pre);
        if next == self.entry[i] {
            return Ok(AfterPass::Done);
        }
        self.entry[i] = next;
        self.stats.narrowings += 1;
        self.stats.component_passes += 1;
        *phase = Phase::Descending { k: k + 1 };
        self.visit(h)?;
        Ok(AfterPass::Repeat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixpoint::mock::{program, Env, Guard, Itv, Mock, Stmt};

    const X: usize = 0;
    const Y: usize = 1;

    fn run(
        g: &DiGraph<Vec<Stmt>, Guard>,
        policy: WideningPolicy,
        thresholds: Vec<u64>,
        budget: Budget,
    ) -> Result<Fixpoint<Env>, FixpointError> {
        let wto = Wto::new(g, NodeIndex::new(0));
        let mock = Mock { thresholds: Thresholds::from_constants(thresholds) };
        solve(g, NodeIndex::new(0), &wto, &mock, &policy, &budget)
    }

    fn x_at_entry(f: &Fixpoint<Env>, n: usize) -> Itv {
        f.entry[n].0[X]
    }

    /// 0: x=0 ; 1: head ; 1->2 [x<10] ; 2: x+=1 ; 2->1 ; 1->3 [x>=10] ; 3: exit
    fn counting_loop() -> DiGraph<Vec<Stmt>, Guard> {
        program(
            vec![vec![Stmt::Set(X, 0)], vec![], vec![Stmt::Add(X, 1)], vec![]],
            &[(0, 1, Guard::Always), (1, 2, Guard::LtC(X, 10)), (2, 1, Guard::Always), (1, 3, Guard::GeC(X, 10))],
        )
    }

    #[test]
    fn straight_line() {
        let g = program(
            vec![vec![Stmt::Set(X, 3)], vec![Stmt::Add(X, 4)], vec![Stmt::Add(X, -1)]],
            &[(0, 1, Guard::Always), (1, 2, Guard::Always)],
        );
        let f = run(&g, WideningPolicy::default(), vec![], Budget::unlimited()).unwrap();
        assert_eq!(x_at_entry(&f, 2), Itv::cst(7));
        assert_eq!(f.exit[2].0[X], Itv::cst(6));
        assert_eq!(f.stats.node_visits, 3);
        assert_eq!(f.stats.widenings, 0);
    }

    #[test]
    fn diamond_joins_and_prunes_infeasible_edges() {
        // 0: x=5 ; 0->1 [x<10] ; 0->2 [x>=10] (infeasible) ; 1: y=1 ; 2: y=2 ; 1->3, 2->3
        let g = program(
            vec![vec![Stmt::Set(X, 5)], vec![Stmt::Set(Y, 1)], vec![Stmt::Set(Y, 2)], vec![]],
            &[(0, 1, Guard::LtC(X, 10)), (0, 2, Guard::GeC(X, 10)), (1, 3, Guard::Always), (2, 3, Guard::Always)],
        );
        let f = run(&g, WideningPolicy::default(), vec![], Budget::unlimited()).unwrap();
        assert!(f.entry[2].is_bottom());
        assert!(f.exit[2].is_bottom());
        assert_eq!(f.entry[3].0[Y], Itv::cst(1));

        // Now both sides feasible: y joins to [1,2].
        let g = program(
            vec![vec![Stmt::Set(X, 5)], vec![Stmt::Set(Y, 1)], vec![Stmt::Set(Y, 2)], vec![]],
            &[(0, 1, Guard::LtC(X, 10)), (0, 2, Guard::GeC(X, 3)), (1, 3, Guard::Always), (2, 3, Guard::Always)],
        );
        let f = run(&g, WideningPolicy::default(), vec![], Budget::unlimited()).unwrap();
        assert_eq!(f.entry[3].0[Y], Itv { lo: 1, hi: 2 });
    }

    #[test]
    fn counting_loop_is_exact_after_narrowing() {
        let g = counting_loop();
        let policy = WideningPolicy { delay: 0, narrowing_iterations: 2 };
        let f = run(&g, policy, vec![], Budget::unlimited()).unwrap();
        assert_eq!(x_at_entry(&f, 3), Itv::cst(10));
        assert_eq!(x_at_entry(&f, 1), Itv { lo: 0, hi: 10 });
        assert_eq!(x_at_entry(&f, 2), Itv { lo: 0, hi: 9 });
        assert!(f.stats.widenings >= 1);
        assert!(f.stats.narrowings >= 1);
    }

    #[test]
    fn counting_loop_without_narrowing_is_unbounded() {
        let g = counting_loop();
        let policy = WideningPolicy { delay: 0, narrowing_iterations: 0 };
        let f = run(&g, policy, vec![], Budget::unlimited()).unwrap();
        assert_eq!(x_at_entry(&f, 3), Itv { lo: 10, hi: i64::MAX });
        assert_eq!(f.stats.narrowings, 0);
    }

    #[test]
    fn thresholds_make_widening_exact() {
        let g = counting_loop();
        let policy = WideningPolicy { delay: 0, narrowing_iterations: 0 };
        let f = run(&g, policy, vec![10], Budget::unlimited()).unwrap();
        assert_eq!(x_at_entry(&f, 1), Itv { lo: 0, hi: 10 });
        assert_eq!(x_at_entry(&f, 3), Itv::cst(10));
    }

    #[test]
    fn delay_lets_joins_converge_short_loops() {
        // With a delay larger than the trip count, joins alone reach [0,10], no widening.
        let g = counting_loop();
        let policy = WideningPolicy { delay: 20, narrowing_iterations: 0 };
        let f = run(&g, policy, vec![], Budget::unlimited()).unwrap();
        assert_eq!(f.stats.widenings, 0);
        assert_eq!(x_at_entry(&f, 3), Itv::cst(10));
    }

    #[test]
    fn unbounded_loop_terminates_by_widening() {
        // 0: x=0 ; 1: x+=1 ; 1->1 ; 1->2 (always): x grows forever.
        let g = program(
            vec![vec![Stmt::Set(X, 0)], vec![Stmt::Add(X, 1)], vec![]],
            &[(0, 1, Guard::Always), (1, 1, Guard::Always), (1, 2, Guard::Always)],
        );
        let f = run(&g, WideningPolicy { delay: 3, narrowing_iterations: 3 }, vec![], Budget::unlimited()).unwrap();
        assert_eq!(x_at_entry(&f, 1), Itv { lo: 0, hi: i64::MAX });
        assert_eq!(x_at_entry(&f, 2), Itv { lo: 1, hi: i64::MAX });
        assert!(f.stats.node_visits < 20);
    }

    #[test]
    fn nested_loops() {
        // 0: x=0 ; 1: outer head ; 1->2 [x<10] ; 2: y=0 ; 3: inner head ; 3->4 [y<x] ; 4: y+=1 ; 4->3 ;
        // 3->5 [y>=x] ; 5: x+=1 ; 5->1 ; 1->6 [x>=10] ; 6: exit
        let g = program(
            vec![
                vec![Stmt::Set(X, 0), Stmt::Set(Y, 0)],
                vec![],
                vec![Stmt::Set(Y, 0)],
                vec![],
                vec![Stmt::Add(Y, 1)],
                vec![Stmt::Add(X, 1)],
                vec![],
            ],
            &[
                (0, 1, Guard::Always),
                (1, 2, Guard::LtC(X, 10)),
                (2, 3, Guard::Always),
                (3, 4, Guard::Lt(Y, X)),
                (4, 3, Guard::Always),
                (3, 5, Guard::Ge(Y, X)),
                (5, 1, Guard::Always),
                (1, 6, Guard::GeC(X, 10)),
            ],
        );
        let wto = Wto::new(&g, NodeIndex::new(0));
        assert_eq!(wto.to_string(), "0 (1 2 (3 4) 5) 6");
        let f = run(&g, WideningPolicy { delay: 1, narrowing_iterations: 2 }, vec![], Budget::unlimited()).unwrap();
        assert_eq!(x_at_entry(&f, 6), Itv::cst(10));
        // Concretely y ends at 9; the analysis must contain it, and the inner bound y < x <= 9
        // keeps y finite.
        let y = f.entry[6].0[Y];
        assert!(y.lo <= 9 && 9 <= y.hi, "{y:?}");
        assert!(y.lo >= 0 && y.hi <= 10, "{y:?}");
        // Inside the inner body, y < x <= 9.
        assert_eq!(f.entry[4].0[Y], Itv { lo: 0, hi: 8 });
    }

    #[test]
    fn irreducible_loop_is_sound() {
        // 0: x=0 ; 0->1, 0->2 ; 1: x+=1 ; 2: x+=2 ; 1->2 [x<100] ; 2->1 [x<100] ;
        // 1->3 [x>=100] ; 2->3 [x>=100]
        let g = program(
            vec![vec![Stmt::Set(X, 0)], vec![Stmt::Add(X, 1)], vec![Stmt::Add(X, 2)], vec![]],
            &[
                (0, 1, Guard::Always),
                (0, 2, Guard::Always),
                (1, 2, Guard::LtC(X, 100)),
                (2, 1, Guard::LtC(X, 100)),
                (1, 3, Guard::GeC(X, 100)),
                (2, 3, Guard::GeC(X, 100)),
            ],
        );
        let f = run(&g, WideningPolicy { delay: 1, narrowing_iterations: 2 }, vec![], Budget::unlimited()).unwrap();
        let x = x_at_entry(&f, 3);
        // Concrete exits: x in {100, 101}.
        assert!(x.lo <= 100 && x.hi >= 101, "{x:?}");
        assert_eq!(x.lo, 100);
        assert_eq!(x.hi, 101);
        // Post-fixpoint check on every edge.
        for e in g.edge_indices() {
            let (s, t) = g.edge_endpoints(e).unwrap();
            let mock = Mock { thresholds: Thresholds::none() };
            let out = mock.transfer_edge(&g[e], s, t, &f.exit[s.index()]);
            assert!(out.leq(&f.entry[t.index()]), "edge {s:?}->{t:?}: {out:?} vs {:?}", f.entry[t.index()]);
        }
    }

    #[test]
    fn unreachable_nodes_stay_bottom() {
        let g = program(
            vec![vec![Stmt::Set(X, 1)], vec![], vec![Stmt::Set(X, 2)]],
            &[(0, 1, Guard::Always), (2, 1, Guard::Always)],
        );
        let f = run(&g, WideningPolicy::default(), vec![], Budget::unlimited()).unwrap();
        assert!(f.entry[2].is_bottom());
        assert_eq!(x_at_entry(&f, 1), Itv::cst(1));
    }

    #[test]
    fn visit_budget_exceeded_is_an_error() {
        let g = counting_loop();
        let err =
            run(&g, WideningPolicy { delay: 100, narrowing_iterations: 0 }, vec![], Budget::visits(5)).unwrap_err();
        assert_eq!(err, FixpointError::VisitBudgetExceeded { visits: 6, limit: 5 });
    }

    #[test]
    fn deadline_passed_is_an_error() {
        let g = counting_loop();
        let budget = Budget { max_node_visits: u64::MAX, deadline: Some(std::time::Instant::now()) };
        std::thread::sleep(std::time::Duration::from_millis(2));
        let err = run(&g, WideningPolicy::default(), vec![], budget).unwrap_err();
        assert!(matches!(err, FixpointError::DeadlinePassed { .. }));
    }

    #[test]
    fn mismatched_wto_is_an_error() {
        let big = program(vec![vec![]; 5], &[(0, 1, Guard::Always), (1, 4, Guard::Always)]);
        let small = program(vec![vec![]; 2], &[(0, 1, Guard::Always)]);
        let wto = Wto::new(&big, NodeIndex::new(0));
        let mock = Mock { thresholds: Thresholds::none() };
        let err = solve(&small, NodeIndex::new(0), &wto, &mock, &WideningPolicy::default(), &Budget::unlimited())
            .unwrap_err();
        assert_eq!(err, FixpointError::WtoMismatch { node: 4, node_count: 2 });
    }

    #[test]
    fn long_straight_line_and_deep_nest() {
        // 200k nodes: x += 1 each; no stack overflow, exact result.
        let n = 200_000;
        let mut nodes = vec![vec![Stmt::Set(X, 0)]];
        nodes.extend((1..n).map(|_| vec![Stmt::Add(X, 1)]));
        let edges: Vec<(usize, usize, Guard)> = (0..n - 1).map(|i| (i, i + 1, Guard::Always)).collect();
        let g = program(nodes, &edges);
        let f = run(&g, WideningPolicy::default(), vec![], Budget::unlimited()).unwrap();
        assert_eq!(f.exit[n - 1].0[X], Itv::cst(n as i64 - 1));

        // A 2000-deep nest of self-loops (each node also loops back to its predecessor).
        let m = 2000;
        let nodes = vec![vec![]; m];
        let mut edges: Vec<(usize, usize, Guard)> = (0..m - 1).map(|i| (i, i + 1, Guard::Always)).collect();
        edges.extend((1..m).map(|i| (i, i - 1, Guard::Always)));
        let g = program(nodes, &edges);
        let f = run(&g, WideningPolicy::default(), vec![], Budget::unlimited()).unwrap();
        assert!(!f.entry[m - 1].is_bottom());
    }
}
