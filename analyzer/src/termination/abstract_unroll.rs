//! Loop bounds without Z3: run an innermost loop iteration by iteration with the
//! analysis's own transfer functions, as the kernel does, until no state comes back to
//! the head.
//!
//! The head's first state is the join of the fixpoint's states on the edges entering the
//! loop (and the entry state when the head is the program's first block); each pass runs the body blocks once in the loop's topological order (an innermost
//! WTO component without its back edges is acyclic) and joins what the back edges carry
//! into the next head state, with no widening. Every concrete execution's k-th arrival at
//! the head is in the k-th head state (the transfers over-approximate and every path is
//! joined), so when the head state becomes bottom after `n` passes no execution runs the
//! loop's head more than `n` times per entry: the loop is `Bounded { iterations: n }`.
//! Loops with inner loops, with a second entry (a body block entered from outside), or
//! not finished within the pass or block-visit limits give `None` (the Z3 search then
//! decides). Cheap where it applies (small constant-bounded loops: microseconds, where a
//! ranking search costs tens of milliseconds of Z3).

use crate::cfg::{Block, Cfg, EdgeKind, Loop};
use crate::fixpoint::Analysis;
use crate::state::disjunct::StateSet;
use lattices::Lattice;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::collections::HashMap;

/// Passes tried before giving up.
pub const MAX_PASSES: u64 = 4096;
/// Block visits (over all passes) tried before giving up.
pub const MAX_BLOCK_VISITS: u64 = 100_000;

/// The most times the head of innermost loop `lp` runs per entry, if the unrolling ends
/// within the limits. `exit_of` gives the fixpoint's state at the exit of a block.
pub fn head_visits<A>(analysis: &A, cfg: &Cfg, lp: &Loop, exit_of: &dyn Fn(NodeIndex) -> Option<StateSet>) -> Option<u64>
where
    A: Analysis<Domain = StateSet, Node = Block, Edge = EdgeKind>,
{
    let g = &cfg.graph;
    let inside: HashMap<NodeIndex, usize> = lp.nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    // The body in WTO order (head first), which is topological for an innermost loop.
    let order: Vec<NodeIndex> = cfg.wto.order().iter().copied().filter(|n| inside.contains_key(n)).collect();
    if order.first() != Some(&lp.head) || order.len() != lp.nodes.len() {
        return None;
    }
    let position: HashMap<NodeIndex, usize> = order.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    // Edges into the body: only the head may be entered from outside, and inside the
    // body every edge goes forward except those into the head (else an inner cycle).
    for n in &order {
        for e in g.edges_directed(*n, Direction::Incoming) {
            let p = e.source();
            match position.get(&p) {
                None if *n != lp.head => return None,
                Some(pi) if *n != lp.head && position.get(n).is_none_or(|pn| pi >= pn) => return None,
                _ => {}
            }
        }
    }
    // The program's entry block starts with the entry state (no edge carries it).
    let mut head = if lp.head == cfg.entry { analysis.entry_state() } else { StateSet::bottom() };
    for e in g.edges_directed(lp.head, Direction::Incoming) {
        if inside.contains_key(&e.source()) {
            continue;
        }
        let Some(x) = exit_of(e.source()) else { continue };
        if x.is_bottom() {
            continue;
        }
        analysis.join_into(&mut head, analysis.transfer_edge(e.weight(), e.source(), lp.head, &x));
    }
    let mut visits = 0u64;
    let mut passes = 0u64;
    let mut out: Vec<StateSet> = vec![StateSet::bottom(); order.len()];
    while !head.is_bottom() {
        passes += 1;
        if passes > MAX_PASSES {
            return None;
        }
        let mut next_head = StateSet::bottom();
        for (i, n) in order.iter().enumerate() {
            let input = if i == 0 {
                std::mem::take(&mut head)
            } else {
                let mut acc = StateSet::bottom();
                for e in g.edges_directed(*n, Direction::Incoming) {
                    let Some(&pi) = position.get(&e.source()) else { continue };
                    if out[pi].is_bottom() {
                        continue;
                    }
                    analysis.join_into(&mut acc, analysis.transfer_edge(e.weight(), e.source(), *n, &out[pi]));
                }
                acc
            };
            out[i] = if input.is_bottom() {
                StateSet::bottom()
            } else {
                visits += 1;
                if visits > MAX_BLOCK_VISITS {
                    return None;
                }
                analysis.transfer_node_from(*n, &g[*n], &input)
            };
            if out[i].is_bottom() {
                continue;
            }
            for e in g.edges_directed(*n, Direction::Outgoing) {
                if e.target() == lp.head {
                    analysis.join_into(&mut next_head, analysis.transfer_edge(e.weight(), *n, lp.head, &out[i]));
                }
            }
        }
        head = next_head;
    }
    Some(passes)
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
}
