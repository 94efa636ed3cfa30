//! Bourdoncle's weak topological order (WTO) of a directed graph, recursive strategy.
//!
//! A WTO is a hierarchical ordering of the nodes reachable from an entry: a sequence of
//! vertices and *components*, where a component `(h b1 b2 ...)` is a strongly connected
//! region whose *head* `h` is the only node through which control can enter it in the
//! order, and whose body is itself a WTO. Every back edge `u -> v` (with `v` not after `u`
//! in the order) targets the head of a component that contains `u`, so a fixpoint solver
//! only needs to widen at heads (F. Bourdoncle, "Efficient chaotic iteration strategies
//! with widenings", 1993).
//!
//! Construction is Bourdoncle's depth-first algorithm with its `visit`/`component`
//! recursion turned into an explicit frame stack, so a 1M-node graph (or a 1M-deep loop
//! nest) never overflows the Rust call stack. The result is stored flat: nodes in WTO
//! order, plus for every position the position just past its component (heads only).
//! Successors are visited in edge-insertion order, so the order is deterministic.
//! Cost: O(depth * edges), depth being the loop nesting depth (Bourdoncle's bound); linear
//! for the shallow nests of real programs, quadratic for adversarial deep nests.
//!
//! Display prints node indices, components in parentheses, e.g. `0 1 (2 3 (4 5) 6) 7`.

use std::fmt;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

/// One element of a WTO, as a tree (see [`Wto::elements`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WtoElement {
    Vertex(NodeIndex),
    Component { head: NodeIndex, body: Vec<WtoElement> },
}

impl Drop for WtoElement {
    /// Drops nested components iteratively, so a deep loop nest cannot overflow the stack.
    fn drop(&mut self) {
        if let WtoElement::Component { body, .. } = self {
            let mut pending = std::mem::take(body);
            while let Some(mut e) = pending.pop() {
                if let WtoElement::Component { body, .. } = &mut e {
                    pending.append(body);
                }
            }
        }
    }
}

/// Bourdoncle's weak topological order over the nodes reachable from an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wto {
    /// Nodes in WTO order.
    order: Vec<NodeIndex>,
    /// For each position: `Some(end)` if the node there is a component head, `end` being the
    /// position just past the component's last element; `None` for plain vertices.
    comp_end: Vec<Option<usize>>,
    /// For each node index: its position in `order` (`None` = unreachable from the entry).
    pos: Vec<Option<usize>>,
    /// For each node index: number of components containing it (a head is inside its own).
    depth: Vec<u32>,
    /// For each node index: head of the innermost component containing it (itself for a head).
    innermost: Vec<Option<NodeIndex>>,
}

/// One item of the construction's partitions: a vertex, or a finished component (by id).
#[derive(Clone, Copy)]
enum Item {
    V(usize),
    C(usize),
}

/// An explicit stack frame of Bourdoncle's mutually recursive `visit`/`component`.
enum Frame {
    Visit { v: usize, next: usize, head: u32, is_loop: bool },
    Component { v: usize, next: usize, ret: u32 },
}

const INF: u32 = u32::MAX;

impl Wto {
    /// Computes the WTO of the nodes of `g` reachable from `entry`.
    /// An `entry` that is not a node of `g` gives an empty WTO.
    pub fn new<N, E>(g: &DiGraph<N, E>, entry: NodeIndex) -> Wto {
        let n = g.node_count();
        let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
        for e in g.edge_references() {
            if let Some(s) = succs.get_mut(e.source().index()) {
                s.push(e.target().index());
            }
        }
        let mut wto = Wto {
            order: Vec::new(),
            comp_end: Vec::new(),
            pos: vec![None; n],
            depth: vec![0; n],
            innermost: vec![None; n],
        };
        if entry.index() >= n {
            return wto;
        }
        // Components arena: (head, items in reverse order).
        let mut comps: Vec<(usize, Vec<Item>)> = Vec::new();
        // Partitions being built, innermost last; items are pushed in reverse order
        // (Bourdoncle prepends).
        let mut parts: Vec<Vec<Item>> = vec![Vec::new()];
        let mut dfn: Vec<u32> = vec![0; n];
        let mut num: u32 = 0;
        let mut stack: Vec<usize> = Vec::new();
        let mut frames: Vec<Frame> = Vec::new();
        // Value "returned" by the last finished Visit frame.
        let mut ret: Option<u32> = None;

        Self::enter_visit(entry.index(), &mut num, &mut dfn, &mut stack, &mut frames);
        while let Some(frame) = frames.last_mut() {
            match frame {
                Frame::Visit { v, next, head, is_loop } => {
                    let v = *v;
                    if let Some(min) = ret.take() {
                        if min <= *head {
                            *head = min;
                            *is_loop = true;
                        }
                    }
                    let vs = succs.get(v).map(Vec::as_slice).unwrap_or(&[]);
                    if let Some(&w) = vs.get(*next) {
                        *next += 1;
                        if dfn[w] == 0 {
                            Self::enter_visit(w, &mut num, &mut dfn, &mut stack, &mut frames);
                        } else {
                            let min = dfn[w];
                            if min <= *head {
                                *head = min;
                                *is_loop = true;
                            }
                        }
                        continue;
                    }
                    let (head, is_loop) = (*head, *is_loop);
                    if head == dfn[v] {
                        dfn[v] = INF;
                        let mut element = stack.pop();
                        if is_loop {
                            while let Some(e) = element {
                                if e == v {
                                    break;
                                }
                                dfn[e] = 0;
                                element = stack.pop();
                            }
                            // Replace this frame by `component(v)`, returning `head` after it.
                            if let Some(f) = frames.last_mut() {
                                *f = Frame::Component { v, next: 0, ret: head };
                            }
                            parts.push(Vec::new());
                            continue;
                        }
                        if let Some(p) = parts.last_mut() {
                            p.push(Item::V(v));
                        }
                    }
                    frames.pop();
                    ret = Some(head);
                }
                Frame::Component { v, next, ret: r } => {
                    let v = *v;
                    // Results of visits launched from a component are ignored.
                    ret = None;
                    let vs = succs.get(v).map(Vec::as_slice).unwrap_or(&[]);
                    if let Some(&w) = vs.get(*next) {
                        *next += 1;
                        if dfn[w] == 0 {
                            Self::enter_visit(w, &mut num, &mut dfn, &mut stack, &mut frames);
                        }
                        continue;
                    }
                    let r = *r;
                    let body = parts.pop().unwrap_or_default();
                    comps.push((v, body));
                    if let Some(p) = parts.last_mut() {
                        p.push(Item::C(comps.len() - 1));
                    }
                    frames.pop();
                    ret = Some(r);
                }
            }
        }
        let top = parts.pop().unwrap_or_default();
        wto.flatten(top, &mut comps);
        wto
    }

    fn enter_visit(v: usize, num: &mut u32, dfn: &mut [u32], stack: &mut Vec<usize>, frames: &mut Vec<Frame>) {
        stack.push(v);
        *num = num.saturating_add(1);
        dfn[v] = *num;
        frames.push(Frame::Visit { v, next: 0, head: *num, is_loop: false });
    }

    /// Lays the partition tree out flat (pre-order), iteratively.
    fn flatten(&mut self, top: Vec<Item>, comps: &mut [(usize, Vec<Item>)]) {
        // Each stack entry: remaining items (reversed, so `pop` yields them in order),
        // and the position of the enclosing head (None at top level).
        let mut stack: Vec<(Vec<Item>, Option<usize>)> = vec![(top, None)];
        let mut heads: Vec<NodeIndex> = Vec::new();
        while let Some((items, head_pos)) = stack.last_mut() {
            match items.pop() {
                Some(Item::V(v)) => {
                    self.place(v, None, &heads);
                }
                Some(Item::C(c)) => {
                    let (h, body) = match comps.get_mut(c) {
                        Some((h, body)) => (*h, std::mem::take(body)),
                        None => continue,
                    };
                    heads.push(NodeIndex::new(h));
                    let p = self.place(h, Some(self.order.len() + 1), &heads);
                    stack.push((body, Some(p)));
                }
                None => {
                    if let Some(p) = *head_pos {
                        let end = self.order.len();
                        if let Some(slot) = self.comp_end.get_mut(p) {
                            *slot = Some(end);
                        }
                        heads.pop();
                    }
                    stack.pop();
                }
            }
        }
    }

    fn place(&mut self, v: usize, end: Option<usize>, heads: &[NodeIndex]) -> usize {
        let p = self.order.len();
        self.order.push(NodeIndex::new(v));
        self.comp_end.push(end);
        self.pos[v] = Some(p);
        self.depth[v] = heads.len() as u32;
        self.innermost[v] = heads.last().copied();
        p
    }

    /// Number of nodes in the order (the reachable ones).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Nodes in WTO order (heads precede their bodies).
    pub fn order(&self) -> &[NodeIndex] {
        &self.order
    }

    /// Whether `n` was reachable from the entry.
    pub fn contains(&self, n: NodeIndex) -> bool {
        self.position(n).is_some()
    }

    /// Position of `n` in [`Wto::order`].
    pub fn position(&self, n: NodeIndex) -> Option<usize> {
        self.pos.get(n.index()).copied().flatten()
    }

    /// If the node at `position` is a component head: the position just past its component.
    pub fn component_end(&self, position: usize) -> Option<usize> {
        self.comp_end.get(position).copied().flatten()
    }

    /// Whether `n` is the head of a component.
    pub fn is_head(&self, n: NodeIndex) -> bool {
        self.position(n).and_then(|p| self.component_end(p)).is_some()
    }

    /// Number of components containing `n` (a head counts its own); `None` if unreachable.
    pub fn depth(&self, n: NodeIndex) -> Option<u32> {
        self.position(n).map(|_| self.depth[n.index()])
    }

    /// Head of the innermost component containing `n` (`n` itself for a head).
    pub fn innermost_head(&self, n: NodeIndex) -> Option<NodeIndex> {
        self.innermost.get(n.index()).copied().flatten()
    }

    /// The nodes of the component headed by `head` (head first), or `None` if not a head.
    pub fn component(&self, head: NodeIndex) -> Option<&[NodeIndex]> {
        let p = self.position(head)?;
        let end = self.component_end(p)?;
        self.order.get(p..end)
    }

    /// All components as `(head, nodes)` with nodes head first, outer components first.
    pub fn components(&self) -> impl Iterator<Item = (NodeIndex, &[NodeIndex])> + '_ {
        self.order.iter().filter_map(move |&h| self.component(h).map(|c| (h, c)))
    }

    /// Whether `u -> v` is a back edge of this order (`v` at or before `u`; then `v` is a head).
    pub fn is_back_edge(&self, u: NodeIndex, v: NodeIndex) -> bool {
        matches!((self.position(u), self.position(v)), (Some(pu), Some(pv)) if pv <= pu)
    }

    /// The order as a tree of [`WtoElement`]s (built iteratively).
    pub fn elements(&self) -> Vec<WtoElement> {
        // Stack of (head, body being built, end position).
        let mut stack: Vec<(Option<NodeIndex>, Vec<WtoElement>, usize)> = vec![(None, Vec::new(), self.order.len())];
        let mut p = 0;
        loop {
            // Close finished components.
            while stack.len() > 1 && stack.last().is_some_and(|t| t.2 <= p) {
                if let Some((Some(head), body, _)) = stack.pop() {
                    if let Some(parent) = stack.last_mut() {
                        parent.1.push(WtoElement::Component { head, body });
                    }
                }
            }
            let Some(&n) = self.order.get(p) else { break };
            match self.component_end(p) {
                Some(end) => stack.push((Some(n), Vec::new(), end)),
                None => {
                    if let Some(t) = stack.last_mut() {
                        t.1.push(WtoElement::Vertex(n));
                    }
                }
            }
            p += 1;
        }
        stack.pop().map(|t| t.1).unwrap_or_default()
    }
}

impl fmt::Display for Wto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut open_ends: Vec<usize> = Vec::new();
        for (p, n) in self.order.iter().enumerate() {
            if p > 0 {
                f.write_str(" ")?;
            }
            match self.component_end(p) {
                Some(end) => {
                    write!(f, "({}", n.index())?;
                    open_ends.push(end);
                }
                None => write!(f, "{}", n.index())?,
            }
            while open_ends.last().is_some_and(|&e| e <= p + 1) {
                f.write_str(")")?;
                open_ends.pop();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Graph with nodes 0..n and the given edges (in insertion order).
    pub(crate) fn graph(n: usize, edges: &[(usize, usize)]) -> DiGraph<(), ()> {
        let mut g = DiGraph::new();
        for _ in 0..n {
            g.add_node(());
        }
        for &(a, b) in edges {
            g.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
        }
        g
    }

    fn wto(n: usize, edges: &[(usize, usize)]) -> Wto {
        Wto::new(&graph(n, edges), NodeIndex::new(0))
    }

    #[test]
    fn straight_line() {
        let w = wto(4, &[(0, 1), (1, 2), (2, 3)]);
        assert_eq!(w.to_string(), "0 1 2 3");
        assert!(!w.is_head(NodeIndex::new(0)));
        assert_eq!(w.depth(NodeIndex::new(3)), Some(0));
    }

    #[test]
    fn diamond() {
        let w = wto(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert_eq!(w.to_string(), "0 2 1 3");
        assert_eq!(w.components().count(), 0);
    }

    #[test]
    fn simple_loop() {
        // 0 -> 1 -> 2 -> 1, 1 -> 3
        let w = wto(4, &[(0, 1), (1, 2), (2, 1), (1, 3)]);
        assert_eq!(w.to_string(), "0 (1 2) 3");
        assert!(w.is_head(NodeIndex::new(1)));
        assert!(!w.is_head(NodeIndex::new(2)));
        assert_eq!(w.depth(NodeIndex::new(2)), Some(1));
        assert_eq!(w.depth(NodeIndex::new(1)), Some(1));
        assert_eq!(w.depth(NodeIndex::new(3)), Some(0));
        assert_eq!(w.innermost_head(NodeIndex::new(2)), Some(NodeIndex::new(1)));
        assert!(w.is_back_edge(NodeIndex::new(2), NodeIndex::new(1)));
        assert!(!w.is_back_edge(NodeIndex::new(1), NodeIndex::new(2)));
    }

    #[test]
    fn bourdoncle_example() {
        // The example of Bourdoncle's paper (renumbered from 0): 0 1 (2 3 (4 5) 6) 7
        let w = wto(8, &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 4), (5, 6), (6, 2), (6, 7), (1, 7)]);
        assert_eq!(w.to_string(), "0 1 (2 3 (4 5) 6) 7");
        assert_eq!(w.depth(NodeIndex::new(5)), Some(2));
        assert_eq!(w.depth(NodeIndex::new(6)), Some(1));
        assert_eq!(w.innermost_head(NodeIndex::new(5)), Some(NodeIndex::new(4)));
        assert_eq!(w.innermost_head(NodeIndex::new(6)), Some(NodeIndex::new(2)));
        let comp: Vec<usize> = w.component(NodeIndex::new(2)).unwrap().iter().map(|n| n.index()).collect();
        assert_eq!(comp, vec![2, 3, 4, 5, 6]);
        let n = NodeIndex::new;
        assert_eq!(
            w.elements(),
            vec![
                WtoElement::Vertex(n(0)),
                WtoElement::Vertex(n(1)),
                WtoElement::Component {
                    head: n(2),
                    body: vec![
                        WtoElement::Vertex(n(3)),
                        WtoElement::Component { head: n(4), body: vec![WtoElement::Vertex(n(5))] },
                        WtoElement::Vertex(n(6)),
                    ],
                },
                WtoElement::Vertex(n(7)),
            ]
        );
    }

    #[test]
    fn nested_loops_ending_together() {
        // 0 -> 1 -> 2 -> 3 -> 2, 3 -> 1, 1 -> 4: both components close at 3.
        let w = wto(5, &[(0, 1), (1, 2), (2, 3), (3, 2), (3, 1), (1, 4)]);
        assert_eq!(w.to_string(), "0 (1 (2 3)) 4");
    }

    #[test]
    fn self_loop() {
        let w = wto(3, &[(0, 1), (1, 1), (1, 2)]);
        assert_eq!(w.to_string(), "0 (1) 2");
        assert!(w.is_head(NodeIndex::new(1)));
        assert_eq!(w.component(NodeIndex::new(1)).map(|c| c.len()), Some(1));
    }

    #[test]
    fn irreducible() {
        // Two entries into the cycle 1 <-> 2: only one of them becomes the head.
        let w = wto(4, &[(0, 1), (0, 2), (1, 2), (2, 1), (1, 3), (2, 3)]);
        assert_eq!(w.to_string(), "0 (1 2) 3");
        // The edge 0 -> 2 enters the component at a non-head, which is fine for a WTO;
        // the back edge 2 -> 1 targets the head.
        assert!(w.is_back_edge(NodeIndex::new(2), NodeIndex::new(1)));
    }

    #[test]
    fn unreachable_nodes_are_absent() {
        let w = wto(4, &[(0, 1), (2, 3)]);
        assert_eq!(w.to_string(), "0 1");
        assert!(!w.contains(NodeIndex::new(2)));
        assert_eq!(w.depth(NodeIndex::new(3)), None);
    }

    #[test]
    fn entry_out_of_range_is_empty() {
        let w = Wto::new(&graph(2, &[(0, 1)]), NodeIndex::new(7));
        assert!(w.is_empty());
    }

    #[test]
    fn deep_graphs_do_not_overflow() {
        // A straight 1M chain is long; a 20k-node chain whose every node loops back to the
        // previous one gives a 20k-deep nest (Bourdoncle is O(depth * edges) there).
        // Neither may overflow the stack.
        let n = 1_000_000;
        let edges: Vec<(usize, usize)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let w = wto(n, &edges);
        assert_eq!(w.len(), n);

        let m = 20_000;
        let mut edges: Vec<(usize, usize)> = (0..m - 1).map(|i| (i, i + 1)).collect();
        edges.extend((1..m).map(|i| (i, i - 1)));
        let w = wto(m, &edges);
        assert_eq!(w.len(), m);
        assert_eq!(w.depth(NodeIndex::new(m - 1)), Some(m as u32 - 1));
        let elems = w.elements();
        assert_eq!(elems.len(), 1);
        drop(elems);
        assert!(w.to_string().ends_with(")))"));
    }
}
