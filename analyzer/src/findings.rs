//! What each block's last fixpoint visit found: its diagnostics, the state before the
//! first of them, and its deepest stack use.
//!
//! The solver's last `transfer_node` call on every block is made with the block's final
//! entry state (a block outside loops is visited once, after its predecessors are final;
//! a component is left only after a pass in which its head's entry did not change, so
//! every block of that pass ran on its final entry). So what that last visit saw is what
//! a separate check pass over the final states would see, and recording it saves
//! running every block twice. [`RecordingAnalysis`] wraps an [`EbpfAnalysis`] for the
//! solver and keeps, per node, the findings of the node's latest visit; a node whose
//! final entry is bottom is skipped by the caller (its record may be stale). While the
//! unroller walks a loop ahead for the solver (`Analysis::seed_component`), a block's
//! findings add up over the walk's visits: when the walk solves the loop
//! (`Seed::Solved`) there is no later visit, and the union over the passes is the check.

use crate::analysis::{EbpfAnalysis, StepEvent};
use crate::cfg::{Block, EdgeKind};
use crate::diag::Diagnostic;
use crate::fixpoint::{Analysis, Seed};
use std::collections::HashSet;
use crate::state::disjunct::StateSet;
use crate::state::AbsState;
use crate::termination::abstract_unroll::Unroller;
use lattices::Thresholds;
use petgraph::graph::NodeIndex;
use std::cell::RefCell;

/// The findings of one visit of one block.
#[derive(Clone, Debug, Default)]
pub struct BlockFindings {
    /// Diagnostics in the order the run raised them (member states in order, then pcs),
    /// without repeats.
    pub diags: Vec<Diagnostic>,
    /// The state before the first instruction (lowest pc, earliest raised) with a diagnostic.
    pub first_error: Option<(usize, AbsState)>,
    /// For each pc with a diagnostic, the state before it that first raised one.
    pub error_states: Vec<(usize, AbsState)>,
    /// Deepest stack use of the states after the block's instructions.
    pub stack_depth: i64,
}

impl BlockFindings {
    /// Adds what another visit of the block found (the union: diagnostics without
    /// repeats, the lowest-pc first error, one error state per pc, the deepest stack).
    fn add(&mut self, other: BlockFindings) {
        if let Some((pc, st)) = other.first_error {
            if self.first_error.as_ref().is_none_or(|(p, _)| pc < *p) {
                self.first_error = Some((pc, st));
            }
        }
        for (pc, st) in other.error_states {
            if !self.error_states.iter().any(|(p, _)| *p == pc) {
                self.error_states.push((pc, st));
            }
        }
        for d in other.diags {
            if !self.diags.contains(&d) {
                self.diags.push(d);
            }
        }
        self.stack_depth = self.stack_depth.max(other.stack_depth);
    }
}

/// An [`EbpfAnalysis`] that records [`BlockFindings`] at every node visit.
pub struct RecordingAnalysis<'s, 'a> {
    pub inner: &'s EbpfAnalysis<'a>,
    findings: RefCell<Vec<BlockFindings>>,
    /// Instructions executed so far, one per member state (the kernel's "processed insns").
    steps: std::cell::Cell<u64>,
    /// Runs loops ahead for the solver (`Analysis::seed_component`).
    unroller: Option<&'s Unroller<'s>>,
    /// While the unroller walks a loop: the nodes visited so far in the walk. A node's
    /// first visit in a walk replaces its findings, later ones add to them (every pass
    /// of the walk is part of the check when the walk solves the loop).
    walk: RefCell<Option<HashSet<usize>>>,
}

impl<'s, 'a> RecordingAnalysis<'s, 'a> {
    /// Wraps `inner` for a graph of `nodes` nodes.
    pub fn new(inner: &'s EbpfAnalysis<'a>, nodes: usize) -> RecordingAnalysis<'s, 'a> {
        RecordingAnalysis {
            inner,
            findings: RefCell::new(vec![BlockFindings::default(); nodes]),
            steps: std::cell::Cell::new(0),
            unroller: None,
            walk: RefCell::new(None),
        }
    }

    /// Seeds loop heads with `unroller` (see `Unroller::seed`); its walks count as
    /// processed instructions.
    pub fn with_unroller(self, unroller: &'s Unroller<'s>) -> RecordingAnalysis<'s, 'a> {
        RecordingAnalysis { unroller: Some(unroller), ..self }
    }

    /// The findings of each node's latest visit, by node index, and the number of
    /// instructions executed over all visits (each member state of a visit counts).
    pub fn into_findings(self) -> (Vec<BlockFindings>, u64) {
        (self.findings.into_inner(), self.steps.get())
    }
}

impl Analysis for RecordingAnalysis<'_, '_> {
    type Domain = StateSet;
    type Node = Block;
    type Edge = EdgeKind;

    fn entry_state(&self) -> StateSet {
        self.inner.entry_state()
    }

    fn transfer_node(&self, node: NodeIndex, block: &Block, state: &mut StateSet) {
        *state = self.transfer_node_from(node, block, state);
    }

    fn transfer_node_from(&self, node: NodeIndex, block: &Block, state: &StateSet) -> StateSet {
        let mut found = BlockFindings::default();
        let mut steps = 0u64;
        let out = self.inner.run_block_in_place(block, state, |pc, event| {
            steps += 1;
            match event {
                StepEvent::Went { after } => found.stack_depth = found.stack_depth.max(after.frame().stack.depth()),
                StepEvent::Ended => {}
                StepEvent::Failed { before, diags } => {
                    for d in diags {
                        if found.first_error.as_ref().is_none_or(|(p, _)| pc < *p) {
                            found.first_error = Some((pc, before.clone()));
                        }
                        if !found.error_states.iter().any(|(p, _)| *p == pc) {
                            found.error_states.push((pc, before.clone()));
                        }
                        if !found.diags.contains(d) {
                            found.diags.push(d.clone());
                        }
                    }
                }
            }
        });
        self.steps.set(self.steps.get() + steps);
        let first_in_walk = self.walk.borrow_mut().as_mut().is_none_or(|seen| seen.insert(node.index()));
        if let Some(slot) = self.findings.borrow_mut().get_mut(node.index()) {
            if first_in_walk {
                *slot = found;
            } else {
                slot.add(found);
            }
        }
        out
    }

    fn transfer_edge(
        &self,
        edge: &EdgeKind,
        source: NodeIndex,
        target: NodeIndex,
        state: &StateSet,
    ) -> StateSet {
        self.inner.transfer_edge(edge, source, target, state)
    }

    fn join_into(&self, acc: &mut StateSet, s: StateSet) {
        acc.join_owned(s);
    }

    fn thresholds(&self) -> &Thresholds {
        self.inner.thresholds()
    }

    fn seed_component(&self, head: NodeIndex, entry: &StateSet) -> Option<Seed<StateSet>> {
        let unroller = self.unroller?;
        *self.walk.borrow_mut() = Some(HashSet::new());
        let seed = unroller.seed(self, head, entry);
        let seen = self.walk.borrow_mut().take().unwrap_or_default();
        if matches!(seed, Some(Seed::Solved(_))) {
            // Blocks of the loop no pass reached: no findings (drop older ones).
            let mut findings = self.findings.borrow_mut();
            for n in unroller.loop_nodes(head) {
                if !seen.contains(&n.index()) {
                    if let Some(slot) = findings.get_mut(n.index()) {
                        *slot = BlockFindings::default();
                    }
                }
            }
        }
        seed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::{build_cfg, CfgConfig};
    use crate::exec::Env;
    use crate::fixpoint::{solve, Budget, WideningPolicy};
    use crate::insn::{decode, parse_program};
    use crate::prog_type::ProgType;
    use lattices::Lattice;

    /// Solves `text` with recording, then re-runs every reachable block on its final
    /// entry and checks the recorded findings are exactly what the re-run finds.
    fn recorded_equals_rerun(text: &str) -> usize {
        let raw = parse_program(text).unwrap_or_else(|e| panic!("{e}"));
        let insns = decode(&raw).unwrap_or_else(|e| panic!("{e}"));
        let cfg = build_cfg(&insns, &CfgConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        let analysis = EbpfAnalysis::new(
            Env::privileged(ProgType::SocketFilter, &[], &insns),
            &cfg,
            Thresholds::from_constants(vec![0, 1, 7, 8, 16, 64]),
        );
        let recording = RecordingAnalysis::new(&analysis, cfg.graph.node_count());
        let fix = solve(
            &cfg.graph,
            cfg.entry,
            &cfg.wto,
            &recording,
            &WideningPolicy::default(),
            &Budget::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let (findings, steps) = recording.into_findings();
        assert!(steps > 0);
        let mut diags = 0;
        for n in cfg.wto.order() {
            let entry = &fix.entry[n.index()];
            if entry.is_bottom() {
                continue;
            }
            let mut again = BlockFindings::default();
            analysis.run_block(&cfg.graph[*n], entry, |pc, before, step| {
                if let Some(o) = &step.out {
                    again.stack_depth = again.stack_depth.max(o.frame().stack.depth());
                }
                for d in &step.diags {
                    if again.first_error.as_ref().is_none_or(|(p, _)| pc < *p) {
                        again.first_error = Some((pc, before.clone()));
                    }
                    if !again.error_states.iter().any(|(p, _)| *p == pc) {
                        again.error_states.push((pc, before.clone()));
                    }
                    if !again.diags.contains(d) {
                        again.diags.push(d.clone());
                    }
                }
            });
            let rec = &findings[n.index()];
            assert_eq!(rec.diags, again.diags, "block {n:?}");
            assert_eq!(rec.first_error, again.first_error, "block {n:?}");
            assert_eq!(rec.error_states, again.error_states, "block {n:?}");
            assert_eq!(rec.stack_depth, again.stack_depth, "block {n:?}");
            diags += rec.diags.len();
        }
        diags
    }

    #[test]
    fn straight_line_error() {
        assert_eq!(recorded_equals_rerun("r0 = r5\nexit\n"), 1);
    }

    #[test]
    fn loop_writing_deeper_each_iteration() {
        // The stack pointer goes down by 8 per iteration: the findings of the loop body on
        // its last visit (widened pointer) include the out-of-bounds write.
        let text = "r1 = r10\nr2 = 0\nr1 += -8\n*(u64 *)(r1 +0) = r2\nr2 += 1\nif r2 < 100 goto pc-4\nr0 = 0\nexit\n";
        assert!(recorded_equals_rerun(text) >= 1);
    }

    #[test]
    fn bounded_loop_without_errors() {
        let text = "r0 = 0\nr1 = 0\nr0 += r1\nr1 += 1\nif r1 < 16 goto pc-3\n*(u64 *)(r10 -16) = r0\nexit\n";
        assert_eq!(recorded_equals_rerun(text), 0);
    }

    #[test]
    fn nested_loops_with_an_error_after_them() {
        let text = "r1 = 0\nr2 = 0\nr2 += 1\nif r2 < 4 goto pc-2\nr1 += 1\nif r1 < 4 goto pc-5\nr0 = r7\nexit\n";
        assert_eq!(recorded_equals_rerun(text), 1);
    }
}
