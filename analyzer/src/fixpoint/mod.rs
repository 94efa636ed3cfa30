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

    /// A first state for component head `head` when the solver enters its component,
    /// given `entry`, the join of what the edges from outside the component bring (an
    /// analysis that can run the loop ahead, as the kernel does, returns the states the
    /// head sees; the solver joins it into the head's state and iterates from there, so
    /// any value is sound). Default: none.
    fn seed_component(&self, head: NodeIndex, entry: &Self::Domain) -> Option<Self::Domain> {
        let _ = (head, entry);
        None
    }
}
