//! Loop bounds without Z3: run a loop iteration by iteration with the analysis's own
//! transfer functions, as the kernel does, until no state comes back to the head.
//!
//! The head's first state is the join of the fixpoint's states on the edges entering the
//! loop (and the entry state when the head is the program's first block); each pass runs
//! the body blocks once in WTO order (a WTO component without its back edges and with its
//! nested components contracted is acyclic) and joins what the back edges carry into the
//! next head state, with no widening. Every concrete execution's k-th arrival at the head
//! is in the k-th head state (the transfers over-approximate and every path is joined),
//! so when the head state becomes bottom after `n` passes no execution runs the loop's
//! head more than `n` times per entry: the loop is `Bounded { iterations: n }`.
//! A loop with nested loops runs each of them to its end inside every pass (a nested
//! block's exit states joined over the nested loop's passes feed the rest of the pass),
//! so the outer bound holds per pass too. Loops with a second entry (a body block, or a
//! nested loop's body block, entered from outside), or not finished within the pass or
//! block-visit limits (counted over the nesting) give `None` (the Z3 search then
//! decides). Cheap where it applies (small constant-bounded loops: microseconds, where a
//! ranking search costs tens of milliseconds of Z3).
//!
//! The same walk seeds the fixpoint ([`Unroller::seed`]): the solver starts a loop's head
//! from the join of the head states of a short unrolling, as the kernel's walk sees them,
//! and a seeding that ended answers the termination check for the same entry state.

use crate::cfg::{Block, Cfg, EdgeKind, Loop};
use crate::fixpoint::{Analysis, Seed};
use crate::state::disjunct::StateSet;
use lattices::Lattice;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// Passes tried before giving up.
pub const MAX_PASSES: u64 = 4096;
/// Block visits (over all passes) tried before giving up.
pub const MAX_BLOCK_VISITS: u64 = 100_000;
/// Block visits tried for a loop with nested loops (linux-selftests/loop1, 300 x up to
/// 299 iterations, spent 115 ms reaching `MAX_BLOCK_VISITS` before Z3 bounded it).
pub const MAX_NEST_BLOCK_VISITS: u64 = 10_000;

/// The loops of a CFG with what the unrolling needs, computed once per program: each
/// block's position in the WTO order and each loop's directly nested loops.
struct LoopNest<'l> {
    loops: &'l [Loop],
    /// WTO position by node index (`usize::MAX`: unreachable).
    pos: Vec<usize>,
    /// Indices into `loops` of the loops nested directly in the loop with this head.
    children: HashMap<NodeIndex, Vec<usize>>,
}

impl<'l> LoopNest<'l> {
    fn new(cfg: &Cfg, loops: &'l [Loop]) -> LoopNest<'l> {
        let mut pos = vec![usize::MAX; cfg.graph.node_count()];
        for (i, n) in cfg.wto.order().iter().enumerate() {
            if let Some(p) = pos.get_mut(n.index()) {
                *p = i;
            }
        }
        // The loops containing each block; a loop's parent is the one among those of its
        // head that is one level out.
        let mut containing: HashMap<NodeIndex, Vec<usize>> = HashMap::new();
        for (li, l) in loops.iter().enumerate() {
            for n in &l.nodes {
                containing.entry(*n).or_default().push(li);
            }
        }
        let mut children: HashMap<NodeIndex, Vec<usize>> = HashMap::new();
        for (li, l) in loops.iter().enumerate() {
            let parent = containing
                .get(&l.head)
                .into_iter()
                .flatten()
                .find(|&&pi| loops[pi].depth + 1 == l.depth && loops[pi].head != l.head);
            if let Some(&pi) = parent {
                children.entry(loops[pi].head).or_default().push(li);
            }
        }
        LoopNest { loops, pos, children }
    }
}

/// Limits of one unrolling (nested loops' passes count against their own `passes`,
/// their block visits against the shared `visits`).
#[derive(Clone, Copy, Debug)]
struct Limits {
    passes: u64,
    visits: u64,
}

/// The termination check's limits.
const CHECK_LIMITS: Limits = Limits { passes: MAX_PASSES, visits: MAX_BLOCK_VISITS };

/// Passes a seeding unrolling (`Unroller::seed`) may take: loops that run longer are
/// left to the widening fixpoint.
pub const SEED_MAX_PASSES: u64 = 64;
/// Block visits a seeding unrolling may take (nested loops included).
pub const SEED_MAX_BLOCK_VISITS: u64 = 4096;

/// Loop unrolling for one program, shared by the fixpoint and the termination check.
///
/// The fixpoint asks [`Unroller::seed`] about a loop when it enters it: the loop is run
/// from its entry state as the kernel walks it; a walk that ends is the loop's analysis
/// (`Seed::Solved`), a walk that comes back to a covered head state gives the head's
/// first state (`Seed::Head`, which the fixpoint iterates from). A loop with constant
/// bounds thus gets exact states without widening. The termination check asks
/// [`Unroller::head_visits`] for a bound; a walk that ended from the same entry state
/// answers it.
pub struct Unroller<'l> {
    cfg: &'l Cfg,
    /// Prepared bodies by head (None: not of the unrollable shape).
    bodies: HashMap<NodeIndex, Option<Body<'l>>>,
    /// Heads the fixpoint may seed: loops that are not callback loops and hold none.
    seedable: HashSet<NodeIndex>,
    /// Per head, the latest seeding that ran the loop to its end: its entry state and
    /// the passes it took.
    ended: RefCell<HashMap<NodeIndex, (StateSet, u64)>>,
}

impl<'l> Unroller<'l> {
    /// `loops` are `cfg.loops()`; `seedable` says which of them the fixpoint may seed.
    pub fn new(cfg: &'l Cfg, loops: &'l [Loop], seedable: impl Fn(&Loop) -> bool) -> Unroller<'l> {
        let nest = LoopNest::new(cfg, loops);
        let bodies = loops.iter().map(|l| (l.head, body(cfg, &nest, l))).collect();
        let seedable = loops.iter().filter(|l| seedable(l)).map(|l| l.head).collect();
        Unroller { cfg, bodies, seedable, ended: RefCell::new(HashMap::new()) }
    }

    /// What the fixpoint gets for loop `head` entered with state `entry` (from outside
    /// the loop): the loop is unrolled from `entry` within [`SEED_MAX_PASSES`] and
    /// [`SEED_MAX_BLOCK_VISITS`]. When the unrolling ends (no state returns to the head),
    /// the loop is solved: each block's entry and exit states joined over the passes
    /// (`Seed::Solved`; every block ran on every state of every pass through `analysis`,
    /// so a recording analysis has checked them all). When a pass brings back a head
    /// state the join of the earlier ones covers, that join is the head's first state
    /// (`Seed::Head`). Otherwise nothing.
    pub fn seed<A>(&self, analysis: &A, head: NodeIndex, entry: &StateSet) -> Option<Seed<StateSet>>
    where
        A: Analysis<Domain = StateSet, Node = Block, Edge = EdgeKind>,
    {
        if entry.is_bottom() || !self.seedable.contains(&head) {
            return None;
        }
        let b = self.bodies.get(&head)?.as_ref()?;
        let limits = Limits { passes: SEED_MAX_PASSES, visits: SEED_MAX_BLOCK_VISITS };
        let collect = Collect { outs: true, ins: true, stop_when_covered: true };
        let run = run_loop(analysis, self.cfg, b, entry.clone(), &mut 0, limits, collect)?;
        let (mut outs, mut ins) = (run.outs, run.ins);
        if !run.ended {
            return Some(Seed::Head(ins.remove(&head).unwrap_or_default()));
        }
        self.ended.borrow_mut().insert(head, (entry.clone(), run.passes));
        let solved = b.nodes.iter().map(|n| (*n, ins.remove(n).unwrap_or_default(), outs.remove(n).unwrap_or_default()));
        Some(Seed::Solved(solved.collect()))
    }

    /// The blocks of the loop headed by `head` (empty if it is not a loop).
    pub fn loop_nodes(&self, head: NodeIndex) -> &[NodeIndex] {
        self.bodies.get(&head).and_then(Option::as_ref).map_or(&[], |b| b.nodes)
    }

    /// The most times the head of loop `lp` runs per entry, if the unrolling ends within
    /// the limits. `exit_of` gives the fixpoint's state at the exit of a block.
    pub fn head_visits<A>(&self, analysis: &A, lp: &Loop, exit_of: &dyn Fn(NodeIndex) -> Option<StateSet>) -> Option<u64>
    where
        A: Analysis<Domain = StateSet, Node = Block, Edge = EdgeKind>,
    {
        let g = &self.cfg.graph;
        let inside: HashSet<NodeIndex> = lp.nodes.iter().copied().collect();
        // The program's entry block starts with the entry state (no edge carries it).
        let mut head = if lp.head == self.cfg.entry { analysis.entry_state() } else { StateSet::bottom() };
        for e in g.edges_directed(lp.head, Direction::Incoming) {
            if inside.contains(&e.source()) {
                continue;
            }
            let Some(x) = exit_of(e.source()) else { continue };
            if x.is_bottom() {
                continue;
            }
            analysis.join_into(&mut head, analysis.transfer_edge(e.weight(), e.source(), lp.head, &x));
        }
        if let Some((seeded, passes)) = self.ended.borrow().get(&lp.head) {
            if *seeded == head {
                return Some(*passes);
            }
        }
        let b = self.bodies.get(&lp.head)?.as_ref()?;
        // A nest's unrolling costs the product of its loops' trip counts: past a smaller
        // budget, Z3's ranking function is cheaper.
        let limits = if b.children.is_empty() { CHECK_LIMITS } else { Limits { visits: MAX_NEST_BLOCK_VISITS, ..CHECK_LIMITS } };
        let run = run_loop(analysis, self.cfg, b, head, &mut 0, limits, Collect::default())?;
        run.ended.then_some(run.passes)
    }
}

/// What an unrolling keeps besides the pass count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Collect {
    /// Each block's exits joined over the passes (what leaves the loop from it, at any
    /// pass: a nested loop's caller and a solved seed need them).
    outs: bool,
    /// Each block's entry states joined over the passes (a solved seed's entries).
    ins: bool,
    /// Stop once a pass brings back a head state the join of the earlier head states
    /// covers (that join is then a loop invariant); needs `ins`.
    stop_when_covered: bool,
}

/// What running one loop gave: the passes, whether it ended (no state came back to the
/// head), and each block's exit and entry states joined over all passes (with
/// `Collect::outs` and `Collect::ins`).
struct LoopRun {
    passes: u64,
    ended: bool,
    outs: HashMap<NodeIndex, StateSet>,
    ins: HashMap<NodeIndex, StateSet>,
}

/// A loop's body prepared for unrolling: its blocks in WTO order (head first), its
/// directly nested loops (prepared too) and which of them each block belongs to.
struct Body<'l> {
    head: NodeIndex,
    nodes: &'l [NodeIndex],
    order: Vec<NodeIndex>,
    children: Vec<Body<'l>>,
    child_of: HashMap<NodeIndex, usize>,
}

/// Prepares `lp`'s body; None when it is not of the unrollable shape: a second entry
/// into the loop or into a nested loop, or a backward edge that is not a back edge of
/// the loop or of a nested loop.
fn body<'l>(cfg: &Cfg, nest: &LoopNest<'l>, lp: &'l Loop) -> Option<Body<'l>> {
    let g = &cfg.graph;
    let inside: HashSet<NodeIndex> = lp.nodes.iter().copied().collect();
    // Nested components are contiguous in the WTO order.
    let wto_pos = |n: &NodeIndex| nest.pos.get(n.index()).copied().unwrap_or(usize::MAX);
    if lp.nodes.iter().any(|n| wto_pos(n) == usize::MAX) {
        return None;
    }
    let mut order: Vec<NodeIndex> = lp.nodes.clone();
    order.sort_by_key(wto_pos);
    order.dedup();
    if order.first() != Some(&lp.head) || order.len() != lp.nodes.len() {
        return None;
    }
    let position: HashMap<NodeIndex, usize> = order.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut children = Vec::new();
    let mut child_of: HashMap<NodeIndex, usize> = HashMap::new();
    for &li in nest.children.get(&lp.head).into_iter().flatten() {
        let c = nest.loops.get(li)?;
        for n in &c.nodes {
            if !inside.contains(n) {
                return None;
            }
            child_of.insert(*n, children.len());
        }
        children.push(body(cfg, nest, c)?);
    }
    // Only the head is entered from outside; an edge into a nested loop from outside it
    // goes to its head; every other edge goes forward in the order.
    for n in &order {
        for e in g.edges_directed(*n, Direction::Incoming) {
            let p = e.source();
            let Some(&pi) = position.get(&p) else {
                if *n != lp.head {
                    return None;
                }
                continue;
            };
            if *n == lp.head {
                continue;
            }
            let same_child = matches!((child_of.get(&p), child_of.get(n)), (Some(a), Some(b)) if a == b);
            if same_child {
                continue;
            }
            if let Some(&ci) = child_of.get(n) {
                if children[ci].head != *n {
                    return None;
                }
            }
            if position.get(n).is_none_or(|pn| pi >= *pn) {
                return None;
            }
        }
    }
    Some(Body { head: lp.head, nodes: &lp.nodes, order, children, child_of })
}

/// Runs the loop pass by pass from head state `head` until no state returns to the
/// head (or, with `Collect::stop_when_covered`, until the returning state is covered by
/// the join of the earlier ones). `visits` counts block visits over the nest. Nested
/// loops are run to their end inside each pass (their blocks' exits over all their
/// passes feed the rest of the pass). None when a limit is reached.
fn run_loop<A>(
    analysis: &A,
    cfg: &Cfg,
    b: &Body<'_>,
    mut head: StateSet,
    visits: &mut u64,
    limits: Limits,
    collect: Collect,
) -> Option<LoopRun>
where
    A: Analysis<Domain = StateSet, Node = Block, Edge = EdgeKind>,
{
    let g = &cfg.graph;
    let mut passes = 0u64;
    let mut outs: HashMap<NodeIndex, StateSet> = HashMap::new();
    let mut ins: HashMap<NodeIndex, StateSet> = HashMap::new();
    // `acc ⊔= x` in a map of joins.
    let add = |totals: &mut HashMap<NodeIndex, StateSet>, n: NodeIndex, x: StateSet| match totals.get_mut(&n) {
        Some(t) => analysis.join_into(t, x),
        None => {
            totals.insert(n, x);
        }
    };
    while !head.is_bottom() {
        if collect.stop_when_covered && passes > 0 && ins.get(&b.head).is_some_and(|h| head.leq(h)) {
            return Some(LoopRun { passes, ended: false, outs, ins });
        }
        passes += 1;
        if passes > limits.passes {
            return None;
        }
        let mut out: HashMap<NodeIndex, StateSet> = HashMap::with_capacity(b.order.len());
        let mut next_head = StateSet::bottom();
        for (i, n) in b.order.iter().enumerate() {
            let child = b.child_of.get(n).copied();
            // Input: the head's state, or what this pass's earlier blocks send here.
            let input = if i == 0 {
                std::mem::take(&mut head)
            } else {
                if child.is_some_and(|ci| b.children[ci].head != *n) {
                    continue; // run with its loop
                }
                let mut acc = StateSet::bottom();
                for e in g.edges_directed(*n, Direction::Incoming) {
                    let p = e.source();
                    if child.is_some() && b.child_of.get(&p).copied() == child {
                        continue; // the nested loop's own back edges
                    }
                    let Some(x) = out.get(&p) else { continue };
                    if x.is_bottom() {
                        continue;
                    }
                    analysis.join_into(&mut acc, analysis.transfer_edge(e.weight(), p, *n, x));
                }
                acc
            };
            if input.is_bottom() {
                continue;
            }
            let ran: &[NodeIndex] = match child {
                Some(ci) if i != 0 => {
                    let c = &b.children[ci];
                    let nested = Collect { outs: true, ins: collect.ins, stop_when_covered: false };
                    let run = run_loop(analysis, cfg, c, input, visits, limits, nested)?;
                    if !run.ended {
                        return None;
                    }
                    out.extend(run.outs);
                    for (m, x) in run.ins {
                        add(&mut ins, m, x);
                    }
                    c.nodes
                }
                _ => {
                    *visits += 1;
                    if *visits > limits.visits {
                        return None;
                    }
                    out.insert(*n, analysis.transfer_node_from(*n, &g[*n], &input));
                    if collect.ins {
                        add(&mut ins, *n, input);
                    }
                    std::slice::from_ref(n)
                }
            };
            for m in ran {
                let Some(x) = out.get(m) else { continue };
                if x.is_bottom() {
                    continue;
                }
                for e in g.edges_directed(*m, Direction::Outgoing) {
                    if e.target() == b.head {
                        analysis.join_into(&mut next_head, analysis.transfer_edge(e.weight(), *m, b.head, x));
                    }
                }
            }
        }
        if collect.outs {
            for (n, x) in out {
                add(&mut outs, n, x);
            }
        }
        head = next_head;
    }
    Some(LoopRun { passes, ended: true, outs, ins })
}

#[cfg(test)]
mod tests {
    use crate::gen::GeneratedProgram;
    use crate::insn::parse_program;
    use crate::prog_type::ProgType;
    use crate::soundness::generated::object_for_generated;
    use crate::verify::{verify_program, Config, Verdict};

    fn loops_of(text: &str) -> (Verdict, Vec<String>) {
        let gp = GeneratedProgram { insns: parse_program(text).expect("parses"), prog_type: ProgType::Xdp, maps: Vec::new() };
        let r = verify_program(&object_for_generated(&gp, "t"), 0, &Config::default());
        (r.verdict, r.stats.loops)
    }

    #[test]
    fn constant_bounded_loop_is_unrolled_without_z3() {
        // No "ranking function" in the summary: the bound came from the unrolling.
        let (v, loops) = loops_of("r0 = 0\nr1 = 0\nr0 += r1\nr1 += 1\nif r1 < 16 goto pc-3\nexit\n");
        assert_eq!(v, Verdict::Accepted);
        assert_eq!(loops, vec!["loop at insn 2-4: at most 16 iterations".to_string()]);
    }

    #[test]
    fn nested_loops_are_unrolled_without_z3() {
        // for i < 4 { for j < 3 { r0++ } }: the outer loop runs the inner one to its end
        // in each pass.
        // Then the inner bound depends on the outer counter (j < i): still exact per pass.
        let cases = [
            ("r0 = 0\nr1 = 0\nr2 = 0\nr0 += 1\nr2 += 1\nif r2 < 3 goto pc-3\nr1 += 1\nif r1 < 4 goto pc-6\nexit\n", 3),
            ("r0 = 0\nr1 = 1\nr2 = 0\nr0 += 1\nr2 += 1\nif r2 < r1 goto pc-3\nr1 += 1\nif r1 < 5 goto pc-6\nexit\n", 4),
        ];
        for (text, inner) in cases {
            let (v, mut loops) = loops_of(text);
            assert_eq!(v, Verdict::Accepted);
            loops.sort();
            assert_eq!(
                loops,
                vec!["loop at insn 2-7: at most 4 iterations".to_string(), format!("loop at insn 3-5: at most {inner} iterations")]
            );
        }
    }

    #[test]
    fn nested_loop_that_never_ends_leaves_the_outer_loop_to_z3() {
        // The inner loop spins on a random value: its unrolling does not end, so neither
        // does the outer one's; Z3 decides both (the inner has no bound: rejected).
        let text = "r6 = 0\ncall bpf_get_prandom_u32#7\nif r0 != 0x0 goto pc-2\nr6 += 1\nif r6 < 3 goto pc-5\nr0 = 0\nexit\n";
        let (v, loops) = loops_of(text);
        assert_eq!(v, Verdict::Rejected, "{loops:?}");
        assert!(!loops.iter().any(|l| l.contains("insn 1-4: at most 3 iterations")), "{loops:?}");
    }

    #[test]
    fn loop_at_the_program_entry_starts_from_the_entry_state() {
        // The head is the entry block: no edge brings its first state. The loop never
        // ends in the abstract (prandom may be non-zero forever): no unrolled bound.
        let (v, loops) = loops_of("call bpf_get_prandom_u32#7\nif r0 != 0x0 goto pc-2\nr0 = 2\nexit\n");
        assert_eq!(v, Verdict::Rejected, "{loops:?}");
        assert!(!loops.iter().any(|l| l.contains("at most 0 iterations")), "{loops:?}");
    }

    #[test]
    fn loop_with_an_unknown_bound_falls_back_to_z3() {
        // The count depends on an unknown u8 from the ctx (ingress_ifindex & 0xff): the
        // unrolling still ends, after 255 passes.
        let (v, loops) = loops_of("r2 = *(u32 *)(r1 +12)\nr2 &= 0xff\nr0 = 0\nr0 += 1\nif r0 < r2 goto pc-2\nr0 = 0\nexit\n");
        assert_eq!(v, Verdict::Accepted);
        assert_eq!(loops, vec!["loop at insn 3-4: at most 255 iterations".to_string()]);
        // A 32-bit unknown bound: more passes than the limit, so Z3's ranking function decides.
        let (_, loops) = loops_of("r2 = *(u32 *)(r1 +12)\nr0 = 0\nr0 += 1\nif r0 < r2 goto pc-2\nr0 = 0\nexit\n");
        assert_eq!(loops.len(), 1);
        assert!(loops[0].contains("ranking function"), "{loops:?}");
    }

    /// A loop whose counter does not decide its exit: `r7` counts 8 iterations down
    /// while `r6` steps the offset into a 32-byte array value by 4.
    const OFFSET_LOOP: &str = "r6 = 0\nr7 = 8\n*(u32 *)(r10 -4) = r6\nr2 = r10\nr2 += -4\nr1 = map[idx:1]\n\
        call bpf_map_lookup_elem#1\nif r0 == 0x0 goto pc+7\nr1 = r0\nr1 += r6\nr2 = *(u32 *)(r1 +0)\n\
        r6 += 4\nr7 += -1\nif r7 != 0x0 goto pc-6\nr0 = 0\nexit\n";

    fn verify_offset_loop(seed_loops: bool, array_value: u32) -> crate::verify::ProgramResult {
        let gp = GeneratedProgram {
            insns: parse_program(OFFSET_LOOP).expect("parses"),
            prog_type: ProgType::Xdp,
            maps: crate::gen::generator_maps(8, array_value, 4),
        };
        verify_program(&object_for_generated(&gp, "t"), 0, &Config { seed_loops, ..Config::default() })
    }

    #[test]
    fn seeded_loop_keeps_the_walked_constants() {
        // Seeded, the head starts from the 8 (r6, r7) pairs of the walk: every read is in
        // bounds, as the kernel (which walks the loop) finds. Widening alone loses the
        // relation between r6 and r7 and bounds r6 by nothing.
        let seeded = verify_offset_loop(true, 32);
        assert_eq!(seeded.verdict, Verdict::Accepted, "{:?}", seeded.diagnostics);
        assert_eq!(seeded.stats.loops, vec!["loop at insn 9-14: at most 8 iterations".to_string()]);
        let widened = verify_offset_loop(false, 32);
        assert_eq!(widened.verdict, Verdict::Rejected);
        assert_eq!(widened.stats.loops, seeded.stats.loops);
        // One byte less and the last read is out of bounds: rejected, seeded or not.
        let short = verify_offset_loop(true, 31);
        assert_eq!(short.verdict, Verdict::Rejected);
        assert!(short.diagnostics.iter().any(|d| d.message.contains("invalid access to map value")), "{:?}", short.diagnostics);
    }
}
