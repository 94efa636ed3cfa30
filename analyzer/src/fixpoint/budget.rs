//! The resource budget of one fixpoint computation: a cap on node visits (transfer
//! function applications) and an optional wall-clock deadline, so one huge or
//! pathological program cannot hang a whole batch run.

use std::time::Instant;

/// Limits on one fixpoint computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Maximum number of node visits (`transfer_node` calls).
    pub max_node_visits: u64,
    /// Give up once this instant has passed (checked every few hundred visits).
    pub deadline: Option<Instant>,
}

impl Budget {
    /// No limit at all.
    pub fn unlimited() -> Budget {
        Budget { max_node_visits: u64::MAX, deadline: None }
    }

    /// At most `max_node_visits` visits, no deadline.
    pub fn visits(max_node_visits: u64) -> Budget {
        Budget { max_node_visits, deadline: None }
    }
}

impl Default for Budget {
    /// 10M node visits, no deadline.
    fn default() -> Self {
        Budget { max_node_visits: 10_000_000, deadline: None }
    }
}
