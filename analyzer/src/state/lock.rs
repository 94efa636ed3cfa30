//! Whether the program holds a `bpf_spin_lock` (the kernel's `active_locks`).
//!
//! Lattice: `Free` and `Held(map)` are incomparable points, `Maybe` is top (a join of
//! paths that disagree). Any lock operation, helper call or main-program exit from `Maybe`
//! is refused, since one of the joined paths would make it wrong; `StateSet` keeps states
//! with different lock states apart (the lock is part of the state's shape), so `Maybe`
//! only appears past its cap.

/// The spin lock a program holds at a pc.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LockState {
    /// No lock held.
    #[default]
    Free,
    /// The lock inside a value of this map (index in the program's map table) is held.
    Held { map: u32 },
    /// Held on some joined paths, not on others, or different locks.
    Maybe,
}

impl LockState {
    /// Least upper bound: equal states stay, anything else is `Maybe`.
    pub fn join(self, o: LockState) -> LockState {
        if self == o {
            self
        } else {
            LockState::Maybe
        }
    }

    /// Partial order: every state is below `Maybe`, otherwise only below itself.
    pub fn leq(self, o: LockState) -> bool {
        self == o || o == LockState::Maybe
    }

    /// Whether no lock is surely held.
    pub fn is_free(self) -> bool {
        self == LockState::Free
    }

    /// A small number for shape hashing.
    pub fn shape(self) -> u64 {
        match self {
            LockState::Free => 0,
            LockState::Held { map } => 1 + u64::from(map),
            LockState::Maybe => u64::from(u32::MAX) + 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LockState::*;

    #[test]
    fn join_is_an_upper_bound_and_leq_agrees() {
        let all = [Free, Held { map: 0 }, Held { map: 1 }, Maybe];
        for a in all {
            for b in all {
                let j = a.join(b);
                assert!(a.leq(j) && b.leq(j), "{a:?} {b:?} -> {j:?}");
                assert_eq!(j, b.join(a));
                assert_eq!(a.leq(b), a.join(b) == b);
            }
        }
        assert_eq!(Free.join(Held { map: 0 }), Maybe);
        assert!(!Maybe.leq(Free));
    }
}
