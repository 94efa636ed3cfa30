//! `StateSet`: a bounded disjunction of `AbsState`s, the domain the fixpoint runs on.
//!
//! Two states are joined only when they have the same shape (same register kinds,
//! nullness, frames, held references, packet ranges and spilled pointers); states of
//! different shapes are kept apart, as the kernel keeps its paths apart, up to
//! `MAX_DISJUNCTS`. Past that bound everything is joined into one state (sound, less
//! precise). Concretisation: the union of the members' concretisations; the empty set
//! is bottom. Each member's shape key is cached next to it.

use super::AbsState;
use lattices::{Lattice, Thresholds};

/// Most states kept apart at one program point.
pub const MAX_DISJUNCTS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StateSet {
    pub states: Vec<AbsState>,
    /// `states[i].shape()`, cached.
    keys: Vec<u64>,
}

impl StateSet {
    pub fn single(s: AbsState) -> StateSet {
        let k = s.shape();
        StateSet { states: vec![s], keys: vec![k] }
    }

    /// Adds one state, joining it into a member of the same shape if there is one.
    /// Returns true if the set changed.
    pub fn add(&mut self, s: AbsState) -> bool {
        let shape = s.shape();
        self.add_keyed(s, shape)
    }

    fn add_keyed(&mut self, s: AbsState, shape: u64) -> bool {
        if let Some(i) = self.keys.iter().position(|k| *k == shape) {
            let m = &mut self.states[i];
            if s.leq(m) {
                return false;
            }
            *m = m.join(&s);
            self.keys[i] = m.shape();
            return true;
        }
        self.states.push(s);
        self.keys.push(shape);
        self.collapse_if_needed();
        true
    }

    fn collapse_if_needed(&mut self) {
        if self.states.len() <= MAX_DISJUNCTS {
            return;
        }
        // Merge members that agree on coarser shapes first (packet ranges, then spilled
        // pointers and references are given up), and only then everything.
        for level in [1u8, 2] {
            let mut merged: Vec<(u64, AbsState)> = Vec::new();
            for s in std::mem::take(&mut self.states) {
                let k = s.coarse_shape(level);
                match merged.iter_mut().find(|(mk, m)| *mk == k && m.frames.len() == s.frames.len()) {
                    Some((_, m)) => *m = m.join(&s),
                    None => merged.push((k, s)),
                }
            }
            self.states = merged.into_iter().map(|(_, s)| s).collect();
            if self.states.len() <= MAX_DISJUNCTS {
                self.keys = self.states.iter().map(|s| s.shape()).collect();
                return;
            }
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
        self.keys = vec![acc.shape()];
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
        self.states.iter().zip(self.keys.iter()).all(|(s, k)| {
            // Same-shape member first (the usual case), then any member.
            match other.keys.iter().position(|o| o == k) {
                Some(i) if s.leq(&other.states[i]) => true,
                _ => other.states.iter().any(|o| s.leq(o)),
            }
        })
    }

    fn join(&mut self, other: &Self) -> bool {
        let mut changed = false;
        for (s, k) in other.states.iter().zip(other.keys.iter()) {
            changed |= self.add_keyed(s.clone(), *k);
        }
        changed
    }

    fn meet(&self, other: &Self) -> Self {
        // Not used by the engine; any upper bound of the meet is sound: the smaller
        // operand when they are ordered, else `self`.
        if other.leq(self) {
            other.clone()
        } else {
            self.clone()
        }
    }

    fn widen(&self, newer: &Self, t: &Thresholds) -> Self {
        let mut out = self.clone();
        for (n, k) in newer.states.iter().zip(newer.keys.iter()) {
            if let Some(i) = out.keys.iter().position(|o| o == k) {
                let m = &mut out.states[i];
                if !n.leq(m) {
                    *m = m.widen(n, t);
                    out.keys[i] = m.shape();
                }
            } else if !out.states.iter().any(|m| n.leq(m)) {
                out.states.push(n.clone());
                out.keys.push(*k);
                out.collapse_if_needed();
            }
        }
        out
    }

    fn narrow(&self, newer: &Self) -> Self {
        let mut out = StateSet::default();
        for (m, k) in self.states.iter().zip(self.keys.iter()) {
            let n = match newer.keys.iter().position(|o| o == k) {
                Some(i) => m.narrow(&newer.states[i]),
                None => m.clone(),
            };
            out.keys.push(n.shape());
            out.states.push(n);
        }
        out
    }
}
