//! The eBPF analysis plugged into the generic fixpoint engine: the domain is a
//! `StateSet`, a node is a basic block of one frame instance, and the edges carry
//! branch refinement (conditional jumps) and frame changes (calls and returns).

use crate::cfg::{Block, EdgeKind};
use crate::exec::{self, branch, call, Env};
use crate::fixpoint::Analysis;
use crate::state::disjunct::StateSet;
use crate::state::AbsState;
use lattices::{Lattice, Thresholds};
use petgraph::graph::NodeIndex;

/// What one instruction did to one member state (see `EbpfAnalysis::run_block_in_place`).
pub enum StepEvent<'s> {
    /// The path goes on, in this state.
    Went { after: &'s AbsState },
    /// The path ends without an error (an exit).
    Ended,
    /// The instruction raised diagnostics (the path ends); `before` is the state it ran on.
    Failed { before: &'s AbsState, diags: &'s [crate::diag::Diagnostic] },
}

pub struct EbpfAnalysis<'a> {
    pub env: Env<'a>,
    pub thresholds: Thresholds,
    /// The blocks of the CFG, by node index (for edge transfer).
    pub blocks: Vec<Block>,
    /// Live-in registers per pc (`liveness::live_in`): dead ones are forgotten at
    /// block entries.
    pub live: Vec<crate::liveness::RegMask>,
    /// Value-relevant registers per pc (`relevance::relevant_in`): the block entry
    /// sets key their members on these registers' constants only.
    pub relevant: Vec<crate::liveness::RegMask>,
    /// The state at the entry (R1 = ctx for a program; the prototype's arguments for a
    /// global function).
    pub entry: AbsState,
}

impl<'a> EbpfAnalysis<'a> {
    /// The analysis of `cfg` in `env` from the program entry state (set `entry` for a
    /// global function's prototype), with the blocks and live registers taken from them.
    pub fn new(env: Env<'a>, cfg: &crate::cfg::Cfg, thresholds: Thresholds) -> EbpfAnalysis<'a> {
        EbpfAnalysis {
            blocks: cfg.graph.node_indices().map(|n| cfg.graph[n]).collect(),
            live: crate::liveness::live_in(env.insns),
            relevant: crate::relevance::relevant_in(
                env.insns,
                crate::abi::ret::return_range(env.prog_type, env.attach).is_some(),
            ),
            env,
            thresholds,
            entry: AbsState::entry(),
        }
    }
}

impl EbpfAnalysis<'_> {
    /// Runs one block over every member of `state`, returning the state after each
    /// instruction's successor is reached. Members that end (error or exit) drop out.
    pub fn run_block(&self, block: &Block, state: &StateSet, mut on_insn: impl FnMut(usize, &AbsState, &exec::Step)) -> StateSet {
        let mut out = StateSet::bottom();
        for st in &state.states {
            let mut cur = st.clone();
            let mut alive = true;
            for pc in block.start..=block.end {
                let r = exec::step(&self.env, &cur, pc);
                on_insn(pc, &cur, &r);
                match r.out {
                    Some(n) => cur = n,
                    None => {
                        alive = false;
                        break;
                    }
                }
            }
            if alive {
                out.add(cur);
            }
        }
        out
    }
}

impl EbpfAnalysis<'_> {
    /// `run_block` stepping each member state in place (no copy per instruction), for
    /// callers that need the state before an instruction only when it raised diagnostics:
    /// `on_insn(pc, event)` after every instruction of every member. The state before a
    /// failing instruction is rebuilt by re-running the block's first instructions from
    /// the member's entry state (`step` is deterministic); failures are rare.
    pub fn run_block_in_place(&self, block: &Block, state: &StateSet, mut on_insn: impl FnMut(usize, StepEvent<'_>)) -> StateSet {
        let mut out = StateSet::bottom();
        for st in &state.states {
            let mut cur = st.clone();
            let mut alive = true;
            for pc in block.start..=block.end {
                let (ok, diags) = exec::step_in_place(&self.env, &mut cur, pc);
                if !diags.is_empty() {
                    let mut before = st.clone();
                    for p in block.start..pc {
                        let _ = exec::step_in_place(&self.env, &mut before, p);
                    }
                    on_insn(pc, StepEvent::Failed { before: &before, diags: &diags });
                } else if ok {
                    on_insn(pc, StepEvent::Went { after: &cur });
                } else {
                    on_insn(pc, StepEvent::Ended);
                }
                if !ok {
                    alive = false;
                    break;
                }
            }
            if alive {
                out.add(cur);
            }
        }
        out
    }

    /// Whether block `n` is a helper call that takes a callback (callbacks return to it).
    fn is_callback_site(&self, n: NodeIndex) -> bool {
        self.blocks
            .get(n.index())
            .and_then(|b| self.env.insns.get(b.start))
            .is_some_and(crate::cfg::is_callback_helper_call)
    }
}

impl Analysis for EbpfAnalysis<'_> {
    type Domain = StateSet;
    type Node = Block;
    type Edge = EdgeKind;

    fn entry_state(&self) -> StateSet {
        StateSet::single(self.entry.clone())
    }

    fn transfer_node(&self, _node: NodeIndex, block: &Block, state: &mut StateSet) {
        *state = self.run_block_in_place(block, state, |_, _| {});
    }

    fn transfer_node_from(&self, _node: NodeIndex, block: &Block, state: &StateSet) -> StateSet {
        self.run_block_in_place(block, state, |_, _| {})
    }

    fn transfer_edge(&self, edge: &EdgeKind, source: NodeIndex, target: NodeIndex, state: &StateSet) -> StateSet {
        let Some(block) = self.blocks.get(source.index()) else { return state.clone() };
        let target_start = self.blocks.get(target.index()).map(|b| b.start);
        let relevant = target_start.and_then(|s| self.relevant.get(s)).copied().unwrap_or(u16::MAX);
        // Registers dead at the target's entry are forgotten (`None`: not a block).
        let live = target_start.map(|s| self.live.get(s).copied().unwrap_or(u16::MAX));
        let mut out = StateSet::bottom_keyed_on(relevant);
        for st in &state.states {
            let next = match edge {
                EdgeKind::Taken => branch::refine_edge(self.env.insns, st, block.end, true),
                EdgeKind::NotTaken => branch::refine_edge(self.env.insns, st, block.end, false),
                EdgeKind::Call if st.pending_callback.is_some() => call::enter_callback(st),
                EdgeKind::Call => Some(call::enter_call(st)),
                EdgeKind::Return if self.is_callback_site(target) => call::leave_callback(st),
                EdgeKind::Return => call::leave_call(st),
                EdgeKind::Fallthrough | EdgeKind::Goto => Some(st.clone()),
            };
            // The callback's arguments only matter on the edge into it.
            let next = next.map(|mut n| {
                if *edge != EdgeKind::Call {
                    n.pending_callback = None;
                }
                n
            });
            if let Some(mut n) = next {
                if let Some(mask) = live {
                    let regs = &mut n.frame_mut().regs;
                    for (i, r) in regs.iter_mut().enumerate().take(10) {
                        if mask & (1 << i) == 0 {
                            *r = crate::state::RegState::NotInit;
                        }
                    }
                    n.gc_pkt_ranges();
                }
                out.add(n);
            }
        }
        out
    }

    fn join_into(&self, acc: &mut StateSet, s: StateSet) {
        acc.join_owned(s);
    }

    fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }
}
