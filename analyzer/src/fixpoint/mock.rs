//! Test-only mock analysis: a tiny language of two integer variables over a graph whose
//! nodes are assignments and whose edges are guards, analysed with a product of intervals.
//! It exercises the engine independently of eBPF semantics.

use petgraph::graph::{DiGraph, NodeIndex};

use super::{Analysis, Lattice, Thresholds};

/// An interval over i64, `i64::MIN`/`i64::MAX` standing for -inf/+inf; empty when lo > hi.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Itv {
    pub(crate) lo: i64,
    pub(crate) hi: i64,
}

impl Itv {
    pub(crate) const TOP: Itv = Itv { lo: i64::MIN, hi: i64::MAX };
    pub(crate) const BOT: Itv = Itv { lo: 1, hi: 0 };

    pub(crate) fn cst(v: i64) -> Itv {
        Itv { lo: v, hi: v }
    }

    pub(crate) fn is_bot(&self) -> bool {
        self.lo > self.hi
    }

    fn add(&self, c: i64) -> Itv {
        if self.is_bot() {
            return *self;
        }
        let f = |x: i64| if x == i64::MIN || x == i64::MAX { x } else { x.saturating_add(c) };
        Itv { lo: f(self.lo), hi: f(self.hi) }
    }
}

/// Two variables, `x` (index 0) and `y` (index 1); bottom when any component is empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Env(pub(crate) [Itv; 2]);

impl Env {
    fn normalise(self) -> Env {
        if self.0.iter().any(Itv::is_bot) {
            Env([Itv::BOT; 2])
        } else {
            self
        }
    }
}

impl Lattice for Env {
    fn bottom() -> Self {
        Env([Itv::BOT; 2])
    }
    fn top() -> Self {
        Env([Itv::TOP; 2])
    }
    fn is_bottom(&self) -> bool {
        self.0.iter().any(Itv::is_bot)
    }
    fn leq(&self, o: &Self) -> bool {
        self.is_bottom() || (!o.is_bottom() && self.0.iter().zip(&o.0).all(|(a, b)| a.lo >= b.lo && a.hi <= b.hi))
    }
    fn join(&mut self, o: &Self) -> bool {
        if o.is_bottom() {
            return false;
        }
        if self.is_bottom() {
            *self = o.clone();
            return true;
        }
        let before = self.clone();
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            a.lo = a.lo.min(b.lo);
            a.hi = a.hi.max(b.hi);
        }
        *self != before
    }
    fn meet(&self, o: &Self) -> Self {
        let mut r = self.clone();
        for (a, b) in r.0.iter_mut().zip(&o.0) {
            a.lo = a.lo.max(b.lo);
            a.hi = a.hi.min(b.hi);
        }
        r.normalise()
    }
    fn widen(&self, newer: &Self, t: &Thresholds) -> Self {
        if self.is_bottom() {
            return newer.clone();
        }
        if newer.is_bottom() {
            return self.clone();
        }
        let mut r = self.clone();
        for (a, b) in r.0.iter_mut().zip(&newer.0) {
            if b.hi > a.hi {
                a.hi = t.above_i64(b.hi);
            }
            if b.lo < a.lo {
                a.lo = t.below_i64(b.lo);
            }
        }
        r
    }
    fn narrow(&self, newer: &Self) -> Self {
        if self.is_bottom() || newer.is_bottom() {
            return newer.clone();
        }
        let mut r = self.clone();
        for (a, b) in r.0.iter_mut().zip(&newer.0) {
            if a.hi == i64::MAX {
                a.hi = b.hi;
            }
            if a.lo == i64::MIN {
                a.lo = b.lo;
            }
        }
        r
    }
}

/// Node: a sequence of statements.
#[derive(Clone, Debug)]
pub(crate) enum Stmt {
    /// `var := c`
    Set(usize, i64),
    /// `var := var + c`
    Add(usize, i64),
}

/// Edge guard.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Guard {
    Always,
    /// `var < c`
    LtC(usize, i64),
    /// `var >= c`
    GeC(usize, i64),
    /// `x < y` (var a < var b)
    Lt(usize, usize),
    /// `a >= b`
    Ge(usize, usize),
}

pub(crate) struct Mock {
    pub(crate) thresholds: Thresholds,
}

impl Analysis for Mock {
    type Domain = Env;
    type Node = Vec<Stmt>;
    type Edge = Guard;

    fn entry_state(&self) -> Env {
        Env::top()
    }

    fn transfer_node(&self, _node: NodeIndex, weight: &Vec<Stmt>, state: &mut Env) {
        for s in weight {
            match *s {
                Stmt::Set(v, c) => state.0[v] = Itv::cst(c),
                Stmt::Add(v, c) => state.0[v] = state.0[v].add(c),
            }
        }
    }

    fn transfer_edge(&self, edge: &Guard, _s: NodeIndex, _t: NodeIndex, state: &Env) -> Env {
        let mut r = state.clone();
        match *edge {
            Guard::Always => {}
            Guard::LtC(v, c) => r.0[v].hi = r.0[v].hi.min(c.saturating_sub(1)),
            Guard::GeC(v, c) => r.0[v].lo = r.0[v].lo.max(c),
            Guard::Lt(a, b) => {
                let (ia, ib) = (r.0[a], r.0[b]);
                r.0[a].hi = ia.hi.min(ib.hi.saturating_sub(1));
                r.0[b].lo = ib.lo.max(ia.lo.saturating_add(1));
            }
            Guard::Ge(a, b) => {
                let (ia, ib) = (r.0[a], r.0[b]);
                r.0[a].lo = ia.lo.max(ib.lo);
                r.0[b].hi = ib.hi.min(ia.hi);
            }
        }
        r.normalise()
    }

    fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }
}

/// Builds a mock program graph: nodes with statements, edges with guards.
pub(crate) fn program(nodes: Vec<Vec<Stmt>>, edges: &[(usize, usize, Guard)]) -> DiGraph<Vec<Stmt>, Guard> {
    let mut g = DiGraph::new();
    for n in nodes {
        g.add_node(n);
    }
    for &(a, b, e) in edges {
        g.add_edge(NodeIndex::new(a), NodeIndex::new(b), e);
    }
    g
}
