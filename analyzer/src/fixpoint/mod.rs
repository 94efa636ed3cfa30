//! The generic fixpoint engine: an [`Analysis`] (domain, entry state, transfer per node and
//! per edge) solved over a graph in Bourdoncle's weak topological order ([`Wto`]), with
//! widening at component heads ([`WideningPolicy`]) and a descending (narrowing) phase,
//! under a [`Budget`] (node visits, a deadline) and the thread's memory limit
//! ([`mem_budget`]).
//!
//! Shaped like `rustc_mir_dataflow`: the engine knows nothing of eBPF. The analysis gives
//! the semantics; the WTO gives the iteration order; the policy gives the delays.
//! See [`solve`] for the iteration strategy and the monotonicity it relies on.

mod budget;
pub mod mem_budget;
mod solve;
mod widening;
pub mod wto;

#[cfg(test)]
pub(crate) mod mock;

pub use budget::Budget;
pub use lattices::{Lattice, Thresholds};
pub use solve::{solve, Fixpoint, FixpointError, FixpointStats};
pub use widening::WideningPolicy;
pub use wto::{Wto, WtoElement};

use petgraph::graph::NodeIndex;

/// A forward dataflow analysis over a `DiGraph<Self::Node, Self::Edge>`.
///
/// The engine relies on the transfer functions being *monotone* (`a ⊑ b` implies
/// `f(a) ⊑ f(b)`) and on `transfer_node`/`transfer_edge` mapping bottom to bottom; see
/// [`solve`] for what happens when they are not.
pub trait Analysis {
    type Domain: Lattice;
    type Node;
    type Edge;

    /// The state on entry to the entry node.
    fn entry_state(&self) -> Self::Domain;

    /// Transfer through a node (basic block), in place. Never called on bottom.
    fn transfer_node(&self, node: NodeIndex, weight: &Self::Node, state: &mut Self::Domain);

    /// Transfer through a node from a borrowed state (what the solver calls): the same
    /// result as `transfer_node` on a copy, which is the default; an analysis that builds
    /// its output afresh anyway overrides it to skip the copy.
    fn transfer_node_from(&self, node: NodeIndex, weight: &Self::Node, state: &Self::Domain) -> Self::Domain {
        let mut s = state.clone();
        self.transfer_node(node, weight, &mut s);
        s
    }

    /// Transfer along an edge (branch refinement); may return bottom (infeasible edge).
    /// Never called with a bottom `state`.
    fn transfer_edge(
        &self,
        edge: &Self::Edge,
        source: NodeIndex,
        target: NodeIndex,
        state: &Self::Domain,
    ) -> Self::Domain;

    /// `acc ⊔= s`, consuming `s` (the solver's join of edge states); an analysis whose
    /// domain can move `s`'s parts in overrides the default copy.
    fn join_into(&self, acc: &mut Self::Domain, s: Self::Domain) {
        acc.join(&s);
    }

    /// Constants the domain's widening may stop at before going to infinity.
    fn thresholds(&self) -> &Thresholds;

    /// What the analysis can say of the component headed by `head` when the solver
    /// enters it, given `entry`, the join of what the edges from outside the component
    /// bring: an analysis that can run the loop ahead, as the kernel walks it, returns a
    /// first state for the head or the whole component solved (see [`Seed`]). Default:
    /// nothing.
    fn seed_component(&self, head: NodeIndex, entry: &Self::Domain) -> Option<Seed<Self::Domain>> {
        let _ = (head, entry);
        None
    }
}

/// What `Analysis::seed_component` gives for a component.
#[derive(Clone, Debug, PartialEq)]
pub enum Seed<D> {
    /// A first state for the head, joined into the head's state; the solver iterates
    /// from there as usual (any value is sound: the iteration checks it).
    Head(D),
    /// The component solved ahead: the entry and exit states of its nodes (a node left
    /// out, or bottom, is unreachable). The solver takes them and does not iterate. The
    /// analysis vouches that they cover every execution through the component and that
    /// it checked every node on every state it ran (an unrolling that ended: every
    /// execution's k-th pass is in the k-th abstract pass).
    Solved(Vec<(NodeIndex, D, D)>),
}
