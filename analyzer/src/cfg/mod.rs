//! The eBPF control-flow graph, with bpf-to-bpf calls inlined per call site.
//!
//! Nodes are basic blocks: inclusive pc ranges inside one *frame instance*, i.e. one
//! function reached through one particular chain of call sites (as PREVAIL does). A
//! function called from two sites is instantiated twice, so the fixpoint over this graph
//! is context-sensitive and sound without a separate interprocedural analysis; the price
//! is code growth, bounded by `CfgConfig::max_blocks`.
//!
//! Edges are labelled with an [`EdgeKind`]: a `call` ends its block; a bpf-to-bpf call
//! has a `Call` edge to the callee instance's entry block, and every `exit` block of the
//! callee has a `Return` edge to the caller's block after the call. `exit` in frame 0 is a
//! program exit (no successors). Helper and kfunc calls fall through.
//!
//! Functions (subprograms) are pc 0, every `call` target and every `LD_IMM64 src=func`
//! target. Functions only referenced by `LD_IMM64` (callbacks for `bpf_loop`,
//! `bpf_for_each_map_elem`, timers...) are checked and listed in [`Cfg::callbacks`] but not
//! instantiated in the graph yet.
//!
//! Structural errors ([`CfgError`]) follow the kernel's `check_subprogs` and `check_cfg`.
//! Loops are allowed; their termination is checked later.

mod dot;
mod error;
mod inline;
mod layout;
mod loops;

pub use error::CfgError;
pub use layout::{is_callback_helper_call, CALLBACK_HELPERS};
pub use loops::Loop;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::fixpoint::Wto;
use crate::insn::Insn;

/// A basic block: pcs `start..=end` of the function instantiated as frame `frame`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Block {
    /// Index into [`Cfg::frames`].
    pub frame: usize,
    pub start: usize,
    /// Inclusive.
    pub end: usize,
}

impl Block {
    /// Number of instruction slots in the block (an `LD_IMM64` counts two).
    pub fn len(&self) -> usize {
        self.end + 1 - self.start
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The pcs of the block.
    pub fn pcs(&self) -> std::ops::RangeInclusive<usize> {
        self.start..=self.end
    }
}

/// One function reached through one chain of call sites.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FrameInstance {
    /// 0 = main.
    pub depth: usize,
    /// pcs of the calls that led here, outermost first (`len() == depth`).
    pub call_sites: Vec<usize>,
    /// First pc of the function.
    pub func_start: usize,
}

/// What an edge of the CFG stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// To the next block, no jump (the next insn is a jump target, or after a helper call).
    Fallthrough,
    /// `ja`.
    Goto,
    /// Conditional jump, condition true.
    Taken,
    /// Conditional jump, condition false.
    NotTaken,
    /// From the block ending in a bpf-to-bpf call to the callee's entry.
    Call,
    /// From a callee's exit block to the block after the call site.
    Return,
}

/// An `LD_IMM64 src=BPF_PSEUDO_FUNC` reference to a callback function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Callback {
    /// Frame instance containing the `LD_IMM64`.
    pub frame: usize,
    /// pc of the `LD_IMM64`.
    pub pc: usize,
    /// First pc of the referenced function.
    pub func_start: usize,
}

/// Limits on the programs `build_cfg` accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CfgConfig {
    /// The kernel's `BPF_COMPLEXITY_LIMIT_INSNS` (1M) for privileged loaders.
    pub max_insns: usize,
    /// The kernel's `MAX_CALL_FRAMES` (8): main plus 7 nested calls.
    pub max_call_frames: usize,
    /// Cap on blocks after inlining.
    pub max_blocks: usize,
    /// Start pcs of functions whose calls are not inlined: the analysis models them
    /// as intrinsics (the loader's `memset`/`memcpy`), so a call to one falls through.
    pub opaque_functions: Vec<usize>,
    /// Reject instructions no path reaches (the kernel's `unreachable insn`); off for a
    /// global function analysed on its own, whose slice of the program holds other code.
    pub reject_unreachable: bool,
}

impl Default for CfgConfig {
    fn default() -> Self {
        CfgConfig { max_insns: 1_000_000, max_call_frames: 8, max_blocks: 1 << 21, opaque_functions: Vec::new(), reject_unreachable: true }
    }
}

/// The control-flow graph of a whole program, calls inlined.
#[derive(Clone, Debug)]
pub struct Cfg {
    pub graph: DiGraph<Block, EdgeKind>,
    /// Entry block of main (always `NodeIndex::new(0)`).
    pub entry: NodeIndex,
    pub frames: Vec<FrameInstance>,
    /// Weak topological order of `graph` from `entry`.
    pub wto: Wto,
    /// Function start pcs, sorted; `functions[0] == 0`.
    pub functions: Vec<usize>,
    /// Callback references found in instantiated frames.
    pub callbacks: Vec<Callback>,
    /// Per frame: index of its function in `functions`.
    frame_func: Vec<usize>,
    /// Per frame: index of its first node (its blocks are contiguous, in pc order).
    frame_first: Vec<usize>,
    layout: layout::Layout,
}

/// Builds the CFG of `insns` (one decoded insn per slot), inlining bpf-to-bpf calls.
pub fn build_cfg(insns: &[Insn], config: &CfgConfig) -> Result<Cfg, CfgError> {
    let lay = layout::layout(insns, config)?;
    let inl = inline::inline(insns, &lay, config)?;
    let entry = NodeIndex::new(0);
    let wto = Wto::new(&inl.graph, entry);
    Ok(Cfg {
        graph: inl.graph,
        entry,
        frames: inl.frames,
        wto,
        functions: lay.starts.clone(),
        callbacks: inl.callbacks,
        frame_func: inl.frame_func,
        frame_first: inl.frame_first,
        layout: lay,
    })
}

impl Cfg {
    /// The block of frame instance `frame` containing `pc`.
    pub fn block_at(&self, frame: usize, pc: usize) -> Option<NodeIndex> {
        let f = *self.frame_func.get(frame)?;
        let i = self.layout.block_index(f, pc)?;
        Some(NodeIndex::new(self.frame_first.get(frame)? + i))
    }

    /// The block weights of node `n`.
    pub fn block(&self, n: NodeIndex) -> Option<&Block> {
        self.graph.node_weight(n)
    }

    /// The nodes of frame instance `frame`, in pc order.
    pub fn frame_blocks(&self, frame: usize) -> impl Iterator<Item = NodeIndex> {
        let first = self.frame_first.get(frame).copied().unwrap_or(0);
        let count = self.frame_func.get(frame).and_then(|&f| self.layout.blocks.get(f)).map_or(0, Vec::len);
        (first..first + count).map(NodeIndex::new)
    }

    /// Index (into `functions`) of the function containing `pc`.
    pub fn function_of(&self, pc: usize) -> Option<usize> {
        self.layout.function_of(pc)
    }

    /// One past the last pc of function `functions[f]`.
    pub fn function_end(&self, f: usize) -> Option<usize> {
        (f < self.functions.len()).then(|| self.layout.end(f))
    }

    /// Number of instruction slots of the program.
    pub fn insn_count(&self) -> usize {
        self.layout.len
    }
}

#[cfg(test)]
mod tests;
