//! The slots of one stack frame: a copy-on-write sorted vector of `(slot index, slot)`.
//!
//! A frame has at most 64 slots and most programs use a handful, so the map is a sorted
//! `Vec` behind an `Arc`: cloning a state shares it, the first write to a shared map copies
//! only its live entries (`Arc::make_mut`), and lookups are a binary search over contiguous
//! memory. (An `imbl::OrdMap` allocates B-tree leaves of 64 entries, about 7 KB with
//! spilled registers, and copied a whole leaf on every stack write of a shared state:
//! most of the analysis's memory on large programs.) Keys are unique and ascending, so
//! iteration order is that of the ordered map it replaces.

use super::stack::StackSlot;
use std::fmt;
use std::sync::Arc;

/// Sorted, unique `(slot index, slot)` entries, shared until written.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct SlotMap {
    entries: Arc<Vec<(i32, StackSlot)>>,
}

impl SlotMap {
    pub fn new() -> SlotMap {
        SlotMap::default()
    }

    /// From entries already sorted by index, without repeats (checked in debug builds).
    pub fn from_sorted(entries: Vec<(i32, StackSlot)>) -> SlotMap {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        SlotMap { entries: Arc::new(entries) }
    }

    fn find(&self, k: i32) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&k, |(i, _)| *i)
    }

    /// The slot at index `k`, if present.
    pub fn get(&self, k: &i32) -> Option<&StackSlot> {
        self.find(*k).ok().and_then(|i| self.entries.get(i)).map(|(_, v)| v)
    }

    /// Sets slot `k`, returning the previous value; a write of the value already there
    /// leaves a shared map shared.
    pub fn insert(&mut self, k: i32, v: StackSlot) -> Option<StackSlot> {
        match self.find(k) {
            Ok(i) => {
                if self.entries.get(i).is_some_and(|(_, old)| *old == v) {
                    return Some(v);
                }
                let e = Arc::make_mut(&mut self.entries);
                e.get_mut(i).map(|(_, old)| std::mem::replace(old, v))
            }
            Err(i) => {
                Arc::make_mut(&mut self.entries).insert(i, (k, v));
                None
            }
        }
    }

    /// Removes slot `k`, returning its value.
    pub fn remove(&mut self, k: &i32) -> Option<StackSlot> {
        let i = self.find(*k).ok()?;
        Some(Arc::make_mut(&mut self.entries).remove(i).1)
    }

    /// Entries in ascending index order (deepest slot first).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&i32, &StackSlot)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &i32> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &StackSlot> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether both maps are the same shared vector (then they are equal).
    pub fn ptr_eq(&self, o: &SlotMap) -> bool {
        Arc::ptr_eq(&self.entries, &o.entries)
    }
}

impl fmt::Debug for SlotMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::RegState;
    use std::collections::BTreeMap;

    fn slot(n: u64) -> StackSlot {
        StackSlot::Spill(RegState::constant(n))
    }

    #[test]
    fn behaves_like_an_ordered_map() {
        // A fixed pseudo-random sequence of inserts and removes, against BTreeMap.
        let mut m = SlotMap::new();
        let mut reference: BTreeMap<i32, StackSlot> = BTreeMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for step in 0..2000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = -((x % 64) as i32) - 1;
            if x % 5 == 0 {
                assert_eq!(m.remove(&k), reference.remove(&k), "step {step}");
            } else {
                assert_eq!(m.insert(k, slot(x % 3)), reference.insert(k, slot(x % 3)), "step {step}");
            }
            assert_eq!(m.len(), reference.len());
        }
        let ours: Vec<(i32, StackSlot)> = m.iter().map(|(k, v)| (*k, *v)).collect();
        let theirs: Vec<(i32, StackSlot)> = reference.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(ours, theirs);
        assert_eq!(m.keys().next_back(), reference.keys().next_back());
        assert_eq!(m.get(&-65), None);
    }

    #[test]
    fn clones_share_until_written() {
        let mut a = SlotMap::new();
        a.insert(-1, slot(1));
        let mut b = a.clone();
        assert!(a.ptr_eq(&b));
        b.insert(-1, slot(1));
        assert!(a.ptr_eq(&b), "writing the same value copies nothing");
        b.insert(-2, slot(2));
        assert!(!a.ptr_eq(&b));
        assert_eq!(a.len(), 1);
        assert_eq!(b.len(), 2);
        assert_eq!(b.get(&-1), Some(&slot(1)));
    }
}
