//! Stand-in for `lattices::{Lattice, Thresholds}` while the `lattices` crate is being
//! written: the same trait signature, so switching is a one-line change in `fixpoint/mod.rs`.

/// A join-semilattice with widening and narrowing (mirror of `lattices::Lattice`).
pub trait Lattice: Clone + PartialEq + std::fmt::Debug {
    fn bottom() -> Self;
    fn top() -> Self;
    fn is_bottom(&self) -> bool;
    fn leq(&self, other: &Self) -> bool;
    /// `self := self ⊔ other`; returns whether `self` changed.
    fn join(&mut self, other: &Self) -> bool;
    fn meet(&self, other: &Self) -> Self;
    fn widen(&self, newer: &Self, thresholds: &Thresholds) -> Self;
    fn narrow(&self, newer: &Self) -> Self;
}

/// Sorted program constants used as widening thresholds (mirror of `lattices::Thresholds`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Thresholds {
    values: Vec<u64>,
}

impl Thresholds {
    pub fn new(mut values: Vec<u64>) -> Thresholds {
        values.sort_unstable();
        values.dedup();
        Thresholds { values }
    }

    pub fn values(&self) -> &[u64] {
        &self.values
    }
}
