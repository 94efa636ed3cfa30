//! Graphviz rendering of the CFG: one cluster per frame instance, one box per block
//! (labelled by the caller), edges labelled with their kind, back edges dashed.

use std::fmt::Write;

use petgraph::visit::EdgeRef;

use super::{Block, Cfg, EdgeKind};

/// Escapes a label for a double-quoted DOT string; newlines become left-justified breaks.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\l"),
            c => out.push(c),
        }
    }
    out
}

fn kind_label(k: EdgeKind) -> &'static str {
    match k {
        EdgeKind::Fallthrough => "",
        EdgeKind::Goto => "goto",
        EdgeKind::Taken => "taken",
        EdgeKind::NotTaken => "not taken",
        EdgeKind::Call => "call",
        EdgeKind::Return => "return",
    }
}

impl Cfg {
    /// The graph in Graphviz DOT; `label` renders a block's body.
    pub fn to_dot(&self, label: impl Fn(&Block) -> String) -> String {
        let mut out = String::from("digraph cfg {\n  node [shape=box, fontname=\"monospace\"];\n");
        for (fi, frame) in self.frames.iter().enumerate() {
            let sites: Vec<String> = frame.call_sites.iter().map(|pc| pc.to_string()).collect();
            let _ = writeln!(
                out,
                "  subgraph cluster_frame{fi} {{\n    label=\"frame {fi}: func@{} via [{}]\";",
                frame.func_start,
                sites.join(", ")
            );
            for n in self.frame_blocks(fi) {
                if let Some(b) = self.graph.node_weight(n) {
                    let _ = writeln!(out, "    n{} [label=\"{}\"];", n.index(), escape(&label(b)));
                }
            }
            out.push_str("  }\n");
        }
        for e in self.graph.edge_references() {
            let style = if self.wto.is_back_edge(e.source(), e.target()) { ", style=dashed" } else { "" };
            let _ = writeln!(
                out,
                "  n{} -> n{} [label=\"{}\"{style}];",
                e.source().index(),
                e.target().index(),
                kind_label(*e.weight())
            );
        }
        out.push_str("}\n");
        out
    }
}
