//! The widening policy: how many plain joins a loop head gets before widening, and how
//! many descending (narrowing) passes follow once it is stable.
//!
//! It knows nothing of control flow (the WTO decides *where* to widen) nor of the domain
//! (the domain's `widen`, fed the analysis' thresholds, decides *how*). A delay of 0 widens
//! on the first revisit of a head; a larger delay lets short loops with constant bounds
//! converge exactly by joins alone, at the cost of more iterations.

/// When to widen at a loop head and how long to narrow afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WideningPolicy {
    /// Number of joins at a component head before its iterates are widened.
    pub delay: u32,
    /// Maximum number of descending passes over a component once it is stable.
    pub narrowing_iterations: u32,
}

impl WideningPolicy {
    /// Whether the `iteration`-th revisit of a head (1-based) must widen rather than join.
    pub fn should_widen(&self, iteration: u32) -> bool {
        iteration > self.delay
    }
}

impl Default for WideningPolicy {
    /// Two joins, then widening; two narrowing passes.
    fn default() -> Self {
        WideningPolicy { delay: 2, narrowing_iterations: 2 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widens_after_delay() {
        let p = WideningPolicy { delay: 2, narrowing_iterations: 0 };
        assert!(!p.should_widen(1));
        assert!(!p.should_widen(2));
        assert!(p.should_widen(3));
        let eager = WideningPolicy { delay: 0, narrowing_iterations: 0 };
        assert!(eager.should_widen(1));
    }
}
