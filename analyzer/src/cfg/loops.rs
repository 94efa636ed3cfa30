//! Loops of the CFG, read off its weak topological order: every WTO component is a loop
//! (a strongly connected region entered through its head in the order), and every back
//! edge (target at or before source in the order) enters a component head. For reducible
//! graphs these are exactly the natural loops; irreducible cycles get the head the WTO chose.

use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;

use super::Cfg;

/// One loop: a WTO component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loop {
    pub head: NodeIndex,
    /// Frame instance of the head.
    pub frame: usize,
    /// First pc of the head block.
    pub head_pc: usize,
    /// All blocks of the loop, head first (possibly in callee frames).
    pub nodes: Vec<NodeIndex>,
    /// Edges from inside the loop back to the head.
    pub back_edges: Vec<EdgeIndex>,
    /// Smallest start and largest end pc over the loop's blocks in the head's frame.
    pub pc_range: (usize, usize),
    /// Number of loops containing this one, itself included (1 = outermost).
    pub depth: u32,
}

impl Cfg {
    /// Edges whose target is at or before their source in the WTO (each enters a loop head).
    pub fn back_edges(&self) -> Vec<EdgeIndex> {
        self.graph.edge_references().filter(|e| self.wto.is_back_edge(e.source(), e.target())).map(|e| e.id()).collect()
    }

    /// Whether `n` heads a loop.
    pub fn is_loop_head(&self, n: NodeIndex) -> bool {
        self.wto.is_head(n)
    }

    /// Loop heads, in WTO order.
    pub fn loop_heads(&self) -> Vec<NodeIndex> {
        self.wto.components().map(|(h, _)| h).collect()
    }

    /// All loops, outer ones first.
    pub fn loops(&self) -> Vec<Loop> {
        self.wto
            .components()
            .filter_map(|(head, nodes)| {
                let hb = self.graph.node_weight(head)?;
                let mut pc_range = (hb.start, hb.end);
                for b in nodes.iter().filter_map(|&n| self.graph.node_weight(n)).filter(|b| b.frame == hb.frame) {
                    pc_range.0 = pc_range.0.min(b.start);
                    pc_range.1 = pc_range.1.max(b.end);
                }
                let back_edges = self
                    .graph
                    .edges_directed(head, petgraph::Direction::Incoming)
                    .filter(|e| self.wto.is_back_edge(e.source(), head))
                    .map(|e| e.id())
                    .collect();
                Some(Loop {
                    head,
                    frame: hb.frame,
                    head_pc: hb.start,
                    nodes: nodes.to_vec(),
                    back_edges,
                    pc_range,
                    depth: self.wto.depth(head).unwrap_or(0),
                })
            })
            .collect()
    }
}
