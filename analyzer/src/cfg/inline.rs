//! Inlining: instantiates each function once per call chain reaching it (breadth-first
//! from main), adding its blocks contiguously and the edges between them, with `Call`
//! and `Return` edges linking a call site to its callee instance.

use petgraph::graph::{DiGraph, NodeIndex};

use crate::insn::{CallTarget, Insn};

use super::layout::Layout;
use super::{Block, Callback, CfgConfig, CfgError, EdgeKind, FrameInstance};

pub(crate) struct Inlined {
    pub(crate) graph: DiGraph<Block, EdgeKind>,
    pub(crate) frames: Vec<FrameInstance>,
    pub(crate) frame_func: Vec<usize>,
    pub(crate) frame_first: Vec<usize>,
    pub(crate) callbacks: Vec<Callback>,
}

impl Inlined {
    /// Creates frame instance of function `f`, adding its blocks; returns its index.
    fn new_frame(
        &mut self,
        lay: &Layout,
        f: usize,
        frame: FrameInstance,
        config: &CfgConfig,
    ) -> Result<usize, CfgError> {
        let blocks = lay.blocks.get(f).map(Vec::as_slice).unwrap_or(&[]);
        let total = self.graph.node_count() + blocks.len();
        if total > config.max_blocks {
            return Err(CfgError::TooManyBlocks { blocks: total, limit: config.max_blocks });
        }
        let idx = self.frames.len();
        self.frame_first.push(self.graph.node_count());
        for &(start, end) in blocks {
            self.graph.add_node(Block { frame: idx, start, end });
        }
        self.frames.push(frame);
        self.frame_func.push(f);
        Ok(idx)
    }

    /// Node of the block of frame `fr` (function `f`) containing `pc`.
    fn node(&self, lay: &Layout, fr: usize, f: usize, pc: usize, from: usize) -> Result<NodeIndex, CfgError> {
        let first = self.frame_first.get(fr).copied();
        match (first, lay.block_index(f, pc)) {
            (Some(first), Some(i)) => Ok(NodeIndex::new(first + i)),
            _ => Err(CfgError::JumpOutOfRange { pc: from, target: pc as i64 }),
        }
    }
}

pub(crate) fn inline(insns: &[Insn], lay: &Layout, config: &CfgConfig) -> Result<Inlined, CfgError> {
    let mut inl = Inlined {
        graph: DiGraph::new(),
        frames: Vec::new(),
        frame_func: Vec::new(),
        frame_first: Vec::new(),
        callbacks: Vec::new(),
    };
    inl.new_frame(lay, 0, FrameInstance { depth: 0, call_sites: Vec::new(), func_start: 0 }, config)?;
    let mut fr = 0;
    while fr < inl.frames.len() {
        let f = inl.frame_func[fr];
        let first = inl.frame_first[fr];
        let end = lay.end(f);
        let blocks = lay.blocks.get(f).map(Vec::as_slice).unwrap_or(&[]);
        for (bi, &(_, e)) in blocks.iter().enumerate() {
            let node = NodeIndex::new(first + bi);
            let Some(last) = insns.get(e) else { continue };
            match *last {
                Insn::Exit => {}
                Insn::Ja { .. } | Insn::Jmp { .. } => {
                    let t = last.jump_target(e).unwrap_or(-1);
                    let tn = match usize::try_from(t) {
                        Ok(t) => inl.node(lay, fr, f, t, e)?,
                        Err(_) => return Err(CfgError::JumpOutOfRange { pc: e, target: t }),
                    };
                    if matches!(last, Insn::Ja { .. }) {
                        inl.graph.add_edge(node, tn, EdgeKind::Goto);
                    } else {
                        // Taken first: the WTO then places the fall-through side first.
                        inl.graph.add_edge(node, tn, EdgeKind::Taken);
                        let nn = inl.node(lay, fr, f, e + 1, e)?;
                        inl.graph.add_edge(node, nn, EdgeKind::NotTaken);
                    }
                }
                Insn::Call(CallTarget::Helper(_)) if lay.callback_sites.iter().any(|(pc, _)| *pc == e) => {
                    // The callback runs in a new frame (Call edge) and returns to this
                    // call block (Return edge), any number of times; then execution
                    // falls through.
                    let callee = lay.callback_sites.iter().find(|(pc, _)| *pc == e).map(|(_, c)| *c).unwrap_or(0);
                    let caller = &inl.frames[fr];
                    let depth = caller.depth + 1;
                    if depth >= config.max_call_frames {
                        return Err(CfgError::CallStackTooDeep { frames: depth, pc: e });
                    }
                    let mut call_sites = caller.call_sites.clone();
                    call_sites.push(e);
                    let instance = FrameInstance { depth, call_sites, func_start: lay.starts[callee] };
                    let cf = inl.new_frame(lay, callee, instance, config)?;
                    let callee_first = inl.frame_first[cf];
                    inl.graph.add_edge(node, NodeIndex::new(callee_first), EdgeKind::Call);
                    let callee_blocks = lay.blocks.get(callee).map(Vec::as_slice).unwrap_or(&[]);
                    for (ci, &(_, ce)) in callee_blocks.iter().enumerate() {
                        if matches!(insns.get(ce), Some(Insn::Exit)) {
                            inl.graph.add_edge(NodeIndex::new(callee_first + ci), node, EdgeKind::Return);
                        }
                    }
                    if e + 1 < end {
                        let nn = inl.node(lay, fr, f, e + 1, e)?;
                        inl.graph.add_edge(node, nn, EdgeKind::Fallthrough);
                    }
                }
                Insn::Call(CallTarget::Local(imm))
                    if usize::try_from(e as i64 + 1 + imm as i64).is_ok_and(|t| config.opaque_functions.contains(&t)) =>
                {
                    if e + 1 < end {
                        let nn = inl.node(lay, fr, f, e + 1, e)?;
                        inl.graph.add_edge(node, nn, EdgeKind::Fallthrough);
                    }
                }
                Insn::Call(CallTarget::Local(imm)) => {
                    let target = e as i64 + 1 + imm as i64;
                    let callee = usize::try_from(target)
                        .ok()
                        .and_then(|t| lay.function_at(t))
                        .ok_or(CfgError::CallOutOfRange { pc: e, target })?;
                    let caller = &inl.frames[fr];
                    let depth = caller.depth + 1;
                    if depth >= config.max_call_frames {
                        return Err(CfgError::CallStackTooDeep { frames: depth, pc: e });
                    }
                    let mut call_sites = caller.call_sites.clone();
                    call_sites.push(e);
                    let instance = FrameInstance { depth, call_sites, func_start: lay.starts[callee] };
                    let cf = inl.new_frame(lay, callee, instance, config)?;
                    let callee_first = inl.frame_first[cf];
                    inl.graph.add_edge(node, NodeIndex::new(callee_first), EdgeKind::Call);
                    let cont = inl.node(lay, fr, f, e + 1, e)?;
                    let callee_blocks = lay.blocks.get(callee).map(Vec::as_slice).unwrap_or(&[]);
                    for (ci, &(_, ce)) in callee_blocks.iter().enumerate() {
                        if matches!(insns.get(ce), Some(Insn::Exit)) {
                            inl.graph.add_edge(NodeIndex::new(callee_first + ci), cont, EdgeKind::Return);
                        }
                    }
                }
                _ => {
                    if e + 1 < end {
                        let nn = inl.node(lay, fr, f, e + 1, e)?;
                        inl.graph.add_edge(node, nn, EdgeKind::Fallthrough);
                    }
                }
            }
        }
        if let Some(refs) = lay.func_refs.get(f) {
            for &(pc, callee) in refs {
                inl.callbacks.push(Callback {
                    frame: fr,
                    pc,
                    func_start: lay.starts.get(callee).copied().unwrap_or(0),
                });
            }
        }
        fr += 1;
    }
    Ok(inl)
}
