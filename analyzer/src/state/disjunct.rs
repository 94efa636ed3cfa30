//! `StateSet`: a bounded disjunction of `AbsState`s, the domain the fixpoint runs on.
//!
//! Two states are joined only when they have the same shape (same register kinds,
//! nullness, frames and held references); states of different shapes are kept
//! apart, as the kernel keeps its paths apart, up to `MAX_DISJUNCTS`. Past that
//! bound everything is joined into one state (sound, less precise).
//! Concretisation: the union of the members' concretisations; the empty set is bottom.

use super::AbsState;
use lattices::{Lattice, Thresholds};

/// Most states kept apart at one program point.
pub const MAX_DISJUNCTS: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StateSet {
    pub states: Vec<AbsState>,
}

impl StateSet {
    pub fn single(s: AbsState) -> StateSet {
        StateSet { states: vec![s] }
    }

    /// Adds one state, joining it into a member of the same shape if there is one.
    /// Returns true if the set changed.
    pub fn add(&mut self, s: AbsState) -> bool {
        let shape = s.shape();
        if let Some(m) = self.states.iter_mut().find(|m| m.shape() == shape) {
            if s.leq(m) {
                return false;
            }
            *m = m.join(&s);
            return true;
        }
        if self.states.iter().any(|m| s.leq(m)) {
            return false;
        }
        self.states.push(s);
        self.collapse_if_needed();
        true
    }

    fn collapse_if_needed(&mut self) {
        if self.states.len() <= MAX_DISJUNCTS {
            return;
        }
        // Join members with the same frame count; a set whose members differ in depth
        // cannot arise from the inlined CFG (a block belongs to one frame instance).
        let mut it = std::mem::take(&mut self.states).into_iter();
        let mut acc = it.next().expect("non-empty");
        for s in it {
            if s.frames.len() == acc.frames.len() {
                acc = acc.join(&s);
            }
        }
        self.states.push(acc);
    }
}

impl Lattice for StateSet {
    fn bottom() -> Self {
        StateSet::default()
    }

    fn top() -> Self {
        // The least informative state of the main frame: every register unknown.
        let mut s = AbsState::entry();
        for r in s.frame_mut().regs.iter_mut().take(10) {
            *r = super::RegState::Unknown;
        }
        StateSet::single(s)
    }

    fn is_bottom(&self) -> bool {
        self.states.is_empty()
    }

    fn leq(&self, other: &Self) -> bool {
        self.states.iter().all(|s| other.states.iter().any(|o| s.leq(o)))
    }

    fn join(&mut self, other: &Self) -> bool {
        let mut changed = false;
        for s in &other.states {
            changed |= self.add(s.clone());
        }
        changed
    }

    fn meet(&self, other: &Self) -> Self {
        // Only used for refinement by the engine's callers; keep the members of
        // `self` that are below some member of `other` (sound under-approximation of
        // the meet is not allowed, so fall back to `self` when in doubt).
        if self.leq(other) {
            self.clone()
        } else if other.leq(self) {
            other.clone()
        } else {
            self.clone()
        }
    }

    fn widen(&self, newer: &Self, t: &Thresholds) -> Self {
        let mut out = self.clone();
        for n in &newer.states {
            let shape = n.shape();
            if let Some(m) = out.states.iter_mut().find(|m| m.shape() == shape) {
                if !n.leq(m) {
                    *m = m.widen(n, t);
                }
            } else if !out.states.iter().any(|m| n.leq(m)) {
                out.states.push(n.clone());
                if out.states.len() > MAX_DISJUNCTS {
                    // Collapse and widen the collapsed state against the old one.
                    out.collapse_if_needed();
                }
            }
        }
        out
    }

    fn narrow(&self, newer: &Self) -> Self {
        let mut out = StateSet::default();
        for m in &self.states {
            let shape = m.shape();
            match newer.states.iter().find(|n| n.shape() == shape) {
                Some(n) => out.states.push(m.narrow(n)),
                None => out.states.push(m.clone()),
            }
        }
        out
    }
}
