//! The `Lattice` trait every abstract domain implements, the widening
//! `Thresholds`, and the `Gamma` (concretisation) trait.
//!
//! Representation: a domain is a plain value type; `bottom()` is the empty
//! set of concrete values, `top()` every value.
//! Concretisation: `Gamma::contains(v)` says whether the concrete 64-bit word
//! `v` is described by the abstract value (32-bit domains describe a 32-bit
//! word given zero-extended in a `u64`; they never contain a `v > u32::MAX`).
//! Precision: `leq` is the domain's own order; for reduced products it is
//! component-wise, so `leq` may answer `false` although the concretisations are
//! included (e.g. two representations of the same empty set).

use std::fmt::Debug;

/// A (join semi-)lattice with widening and narrowing.
///
/// Laws (checked by [`crate::testing::check_lattice_laws`]):
/// `join` is idempotent, commutative and associative; `a.leq(b)` iff
/// `a ⊔ b == b`; `meet(a, b)` is below both; `bottom` is the identity of join.
pub trait Lattice: Clone + PartialEq + Debug {
    /// The empty set.
    fn bottom() -> Self;
    /// Every value.
    fn top() -> Self;
    /// Whether this is (a representation of) bottom.
    fn is_bottom(&self) -> bool;
    /// Partial order: gamma(self) ⊆ gamma(other) (component-wise for products).
    fn leq(&self, other: &Self) -> bool;
    /// self := self ⊔ other; returns whether self changed.
    fn join(&mut self, other: &Self) -> bool;
    /// Greatest lower bound (may be bottom).
    fn meet(&self, other: &Self) -> Self;
    /// Widening: an upper bound of both that makes ascending chains finite;
    /// bounds that grow jump to the next threshold (then to the extreme).
    fn widen(&self, newer: &Self, thresholds: &Thresholds) -> Self;
    /// The `round`-th widening at one point (0 for the first): a domain may widen
    /// less in early rounds (a disjunction widening member by member) as long as the
    /// result is an upper bound of both and, from some round on, it is `widen`, so
    /// chains stay finite. Default: `widen` in every round.
    fn widen_round(&self, newer: &Self, thresholds: &Thresholds, round: u32) -> Self {
        let _ = round;
        self.widen(newer, thresholds)
    }
    /// Narrowing: refines bounds of `self` that widening sent to an extreme,
    /// using `newer` (which must be below `self`); result lies between them.
    fn narrow(&self, newer: &Self) -> Self;
}

/// Concretisation of a 64-bit (or zero-extended 32-bit) domain.
pub trait Gamma {
    /// Whether the concrete word `v` is in gamma(self).
    fn contains(&self, v: u64) -> bool;
    /// Some member of gamma(self) chosen from `seed` (edges are favoured),
    /// or `None` when the value is empty or no member was found quickly.
    fn sample(&self, seed: u64) -> Option<u64>;
}

/// Sorted sets of widening thresholds, one per integer view.
///
/// Built from program constants: every constant `c` contributes `c-1, c, c+1`
/// to the u64 and i64 views and its low 32 bits (and their neighbours) to the
/// u32 and i32 views.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Thresholds {
    u64s: Vec<u64>,
    i64s: Vec<i64>,
    u32s: Vec<u32>,
    i32s: Vec<i32>,
}

impl Thresholds {
    /// No thresholds: widening goes straight to the extremes.
    pub fn none() -> Thresholds {
        Thresholds::default()
    }

    /// Thresholds from program constants (and their neighbours `c-1`, `c+1`).
    pub fn from_constants<I: IntoIterator<Item = u64>>(consts: I) -> Thresholds {
        let mut t = Thresholds::default();
        for c in consts {
            for v in [c.wrapping_sub(1), c, c.wrapping_add(1)] {
                t.u64s.push(v);
                t.i64s.push(v as i64);
                t.u32s.push(v as u32);
                t.i32s.push(v as u32 as i32);
            }
        }
        t.u64s.sort_unstable();
        t.u64s.dedup();
        t.i64s.sort_unstable();
        t.i64s.dedup();
        t.u32s.sort_unstable();
        t.u32s.dedup();
        t.i32s.sort_unstable();
        t.i32s.dedup();
        t
    }

    /// Number of distinct u64 thresholds.
    pub fn len(&self) -> usize {
        self.u64s.len()
    }

    /// Whether there are no thresholds.
    pub fn is_empty(&self) -> bool {
        self.u64s.is_empty()
    }

    /// Smallest u64 threshold >= v, else u64::MAX.
    pub fn above_u64(&self, v: u64) -> u64 {
        above(&self.u64s, v, u64::MAX)
    }
    /// Largest u64 threshold <= v, else 0.
    pub fn below_u64(&self, v: u64) -> u64 {
        below(&self.u64s, v, 0)
    }
    /// Smallest i64 threshold >= v, else i64::MAX.
    pub fn above_i64(&self, v: i64) -> i64 {
        above(&self.i64s, v, i64::MAX)
    }
    /// Largest i64 threshold <= v, else i64::MIN.
    pub fn below_i64(&self, v: i64) -> i64 {
        below(&self.i64s, v, i64::MIN)
    }
    /// Smallest u32 threshold >= v, else u32::MAX.
    pub fn above_u32(&self, v: u32) -> u32 {
        above(&self.u32s, v, u32::MAX)
    }
    /// Largest u32 threshold <= v, else 0.
    pub fn below_u32(&self, v: u32) -> u32 {
        below(&self.u32s, v, 0)
    }
    /// Smallest i32 threshold >= v, else i32::MAX.
    pub fn above_i32(&self, v: i32) -> i32 {
        above(&self.i32s, v, i32::MAX)
    }
    /// Largest i32 threshold <= v, else i32::MIN.
    pub fn below_i32(&self, v: i32) -> i32 {
        below(&self.i32s, v, i32::MIN)
    }
}

fn above<T: Ord + Copy>(sorted: &[T], v: T, extreme: T) -> T {
    let i = sorted.partition_point(|&t| t < v);
    sorted.get(i).copied().unwrap_or(extreme)
}

fn below<T: Ord + Copy>(sorted: &[T], v: T, extreme: T) -> T {
    let i = sorted.partition_point(|&t| t <= v);
    if i == 0 {
        extreme
    } else {
        sorted.get(i - 1).copied().unwrap_or(extreme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_next_above_and_below() {
        let t = Thresholds::from_constants([10, 100, u64::MAX]);
        // u64::MAX + 1 wraps to 0, which is a threshold too
        assert_eq!(t.above_u64(0), 0);
        assert_eq!(t.above_u64(1), 9);
        assert_eq!(t.above_u64(12), 99);
        assert_eq!(t.above_u64(102), u64::MAX - 1);
        assert_eq!(t.below_u64(50), 11);
        assert_eq!(t.below_u64(5), 0);
        // u64::MAX is -1 in the signed views, so -2..0 are thresholds.
        assert_eq!(t.below_i64(-1), -1);
        assert_eq!(t.above_i64(-5), -2);
        assert_eq!(t.above_i64(102), i64::MAX);
        assert_eq!(t.below_i32(-3), i32::MIN);
        assert_eq!(t.above_u32(11), 11);
        assert_eq!(t.above_u32(12), 99);
    }

    #[test]
    fn empty_thresholds_go_to_extremes() {
        let t = Thresholds::none();
        assert!(t.is_empty());
        assert_eq!(t.above_u64(3), u64::MAX);
        assert_eq!(t.below_i64(3), i64::MIN);
        assert_eq!(t.below_u32(3), 0);
        assert_eq!(t.above_i32(3), i32::MAX);
    }
}
