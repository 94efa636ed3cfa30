//! `StateSet`: a bounded disjunction of `AbsState`s, the domain the fixpoint runs on.
//!
//! Two states are joined only when they have the same shape (same register kinds,
//! nullness, frames, held references, packet ranges and spilled pointers, and the zero
//! class and small constants of the registers whose value still matters,
//! `relevance::relevant_in`); states of different shapes are kept apart, as the kernel
//! keeps its paths apart. Bounds: at most `MAX_CONSTANT_VARIANTS` members differ only
//! in constants, at most `MAX_DISJUNCTS` in all; past them members are joined (sound,
//! less precise). At a join point a state covered by a member is dropped, as the
//! kernel prunes a path covered by one it has explored, and members covered by a new
//! state are dropped. Concretisation: the union of
//! the members' concretisations; the empty set is bottom. Each member's keys are
//! cached next to it. Widening joins the constant variants of a group before widening
//! it, except in the first `KEYED_WIDENING_ROUNDS` rounds at a head, where a group with
//! at most `MAX_CONSTANT_VARIANTS` variants is widened member by member.

use super::{AbsState, ShapeDetail, ShapeKey};
use crate::liveness::RegMask;
use lattices::{Lattice, Thresholds};

/// Most states kept apart at one program point.
pub const MAX_DISJUNCTS: usize = 128;

/// Most members of one group (same shape but for constants, `ShapeKey::group`) kept
/// apart by their constants. A group that would grow past it is joined into one
/// member: a chain of `x = c ? a : b` diamonds (log2 by binary search, bit sets) would
/// otherwise double the members at each diamond, and paired packet offsets need two.
/// Eight lets a loop over a few constants (a state machine: linux-selftests/loop5 walks
/// 8 (i, step) pairs) keep them; 4, 8 and 16 give the same verdicts on ebpf-samples.
pub const MAX_CONSTANT_VARIANTS: usize = 8;

/// Widening rounds at one loop head in which groups with few constant variants are
/// widened member by member (`StateSet::widen_by`); later rounds widen whole groups.
pub const KEYED_WIDENING_ROUNDS: u32 = 4;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateSet {
    pub states: Vec<AbsState>,
    /// `states[i].shape_key(relevant)`, cached.
    keys: Vec<ShapeKey>,
    /// The registers whose values the keys look at (`relevance::relevant_in` at the
    /// block the set enters; every register by default).
    relevant: RegMask,
}

impl Default for StateSet {
    fn default() -> Self {
        StateSet { states: Vec::new(), keys: Vec::new(), relevant: RegMask::MAX }
    }
}

impl StateSet {
    pub fn single(s: AbsState) -> StateSet {
        let mut set = StateSet::default();
        set.keys.push(set.key(&s));
        set.states.push(s);
        set
    }

    /// An empty set whose keys look only at the values of the `relevant` registers.
    pub fn bottom_keyed_on(relevant: RegMask) -> StateSet {
        StateSet { relevant, ..StateSet::default() }
    }

    /// The key of `s` in this set.
    fn key(&self, s: &AbsState) -> ShapeKey {
        s.shape_key(self.relevant)
    }

    /// Adds one state, joining it into a member of the same shape if there is one.
    /// Returns true if the set changed.
    pub fn add(&mut self, s: AbsState) -> bool {
        let k = self.key(&s);
        self.add_keyed(s, k, false)
    }

    /// `join` taking `other` by value: its members are moved in, not copied (same result).
    ///
    /// At a join point (this set not empty) an incoming state covered by any member is
    /// dropped, as the kernel prunes a path whose state is covered by one it has
    /// explored (`states_equal`): paths that proved a longer packet range, or hold one
    /// more spilled pointer, do not each take a member. Into an empty set the members
    /// are moved without that check (they were checked where they came from).
    pub fn join_owned(&mut self, other: StateSet) -> bool {
        let subsume = !self.states.is_empty();
        if !subsume {
            self.relevant = other.relevant;
        }
        let same = other.relevant == self.relevant;
        let mut changed = false;
        for (s, k) in other.states.into_iter().zip(other.keys) {
            let k = if same { k } else { self.key(&s) };
            changed |= self.add_keyed(s, k, subsume);
        }
        changed
    }

    /// Adds `s` under `key`: joined into the member with the same exact key; dropped
    /// when a member of its group (or with `subsume_any`, any member) covers it;
    /// else a new member (the group joined into one past `MAX_CONSTANT_VARIANTS`),
    /// which with `subsume_any` replaces the members it covers.
    fn add_keyed(&mut self, s: AbsState, key: ShapeKey, subsume_any: bool) -> bool {
        if let Some(i) = self.keys.iter().position(|k| k.exact == key.exact) {
            let m = &mut self.states[i];
            if s.leq(m) {
                return false;
            }
            *m = m.join(&s);
            let k = m.shape_key(self.relevant);
            self.keys[i] = k;
            return true;
        }
        // A member of the same group that already covers `s` (e.g. one whose constants
        // were joined into a range) takes it: no new member, no change.
        let mut variants = 0;
        for (m, k) in self.states.iter().zip(self.keys.iter()) {
            if (k.group == key.group || subsume_any) && s.leq(m) {
                return false;
            }
            if k.group == key.group {
                variants += 1;
            }
        }
        if variants >= MAX_CONSTANT_VARIANTS {
            // Join the whole group with `s` into one member (its constants are lost).
            let mut acc = s;
            let mut i = self.states.len();
            while i > 0 {
                i -= 1;
                if self.keys[i].group == key.group && self.states[i].frames.len() == acc.frames.len() {
                    let m = self.states.swap_remove(i);
                    self.keys.swap_remove(i);
                    acc = m.join(&acc);
                }
            }
            let k = self.key(&acc);
            self.add_keyed(acc, k, false);
            return true;
        }
        if subsume_any {
            // Members the new state covers are dropped: a path that carried one more
            // spilled pointer or a longer packet range arrived first, the covering one
            // after (the kernel keeps both; its later state is only checked against
            // the earlier).
            let mut i = 0;
            while i < self.states.len() {
                if self.states[i].leq(&s) {
                    self.states.swap_remove(i);
                    self.keys.swap_remove(i);
                } else {
                    i += 1;
                }
            }
        }
        self.states.push(s);
        self.keys.push(key);
        self.collapse_if_needed();
        true
    }

    fn collapse_if_needed(&mut self) {
        if self.states.len() <= MAX_DISJUNCTS {
            return;
        }
        // Merge members that agree on coarser shapes first (see `ShapeDetail`), and only
        // then everything.
        for detail in [ShapeDetail::ZeroClass, ShapeDetail::Kinds, ShapeDetail::NoSpills, ShapeDetail::NoPktRanges, ShapeDetail::Regs] {
            let mut merged: Vec<(u64, AbsState)> = Vec::new();
            for s in std::mem::take(&mut self.states) {
                let k = s.shape_masked(detail, self.relevant);
                match merged.iter_mut().find(|(mk, m)| *mk == k && m.frames.len() == s.frames.len()) {
                    Some((_, m)) => *m = m.join(&s),
                    None => merged.push((k, s)),
                }
            }
            self.states = merged.into_iter().map(|(_, s)| s).collect();
            if self.states.len() <= MAX_DISJUNCTS {
                self.rekey();
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
        self.keys = vec![self.key(&acc)];
        self.states.push(acc);
    }

    /// Widening. Members are matched by their `ShapeDetail::ZeroClass` group: the
    /// members of one group are joined on each side, then widened, so a loop
    /// counter's successive constants do not keep adding members. With `by_key`, a
    /// group that holds at most `MAX_CONSTANT_VARIANTS` distinct exact keys on both
    /// sides together is instead widened member by member (same exact key), its
    /// constants kept: a loop whose relevant registers take a few constants (a state
    /// machine, the kernel's walk with constants) converges without losing them. Finite:
    /// the solver passes `by_key` only in the first `KEYED_WIDENING_ROUNDS` rounds.
    fn widen_by(&self, newer: &Self, t: &Thresholds, by_key: bool) -> Self {
        // Each member's (group, exact) key in this set's keying.
        fn keyed<'s>(this: &StateSet, set: &'s StateSet) -> std::borrow::Cow<'s, [ShapeKey]> {
            if set.relevant == this.relevant {
                std::borrow::Cow::Borrowed(&set.keys[..])
            } else {
                std::borrow::Cow::Owned(set.states.iter().map(|s| this.key(s)).collect())
            }
        }
        let (old_keys, new_keys) = (keyed(self, self), keyed(self, newer));
        // Groups widened member by member.
        let mut small: Vec<u64> = Vec::new();
        if by_key {
            let mut pairs: Vec<(u64, u64)> = old_keys.iter().chain(new_keys.iter()).map(|k| (k.group, k.exact)).collect();
            pairs.sort_unstable();
            pairs.dedup();
            let mut i = 0;
            while i < pairs.len() {
                let g = pairs[i].0;
                let n = pairs[i..].iter().take_while(|p| p.0 == g).count();
                if n <= MAX_CONSTANT_VARIANTS {
                    small.push(g);
                }
                i += n;
            }
        }
        // The key members are matched on: (false, exact) in small groups, (true, group) else.
        let slot = |k: &ShapeKey| if small.contains(&k.group) { (false, k.exact) } else { (true, k.group) };
        let mut out: Vec<((bool, u64), AbsState)> = Vec::new();
        for (s, k) in self.states.iter().zip(old_keys.iter()) {
            let k = slot(k);
            match out.iter_mut().find(|(o, m)| *o == k && m.frames.len() == s.frames.len()) {
                Some((_, m)) => *m = m.join(s),
                None => out.push((k, s.clone())),
            }
        }
        let mut incoming: Vec<((bool, u64), AbsState)> = Vec::new();
        for (s, k) in newer.states.iter().zip(new_keys.iter()) {
            let k = slot(k);
            match incoming.iter_mut().find(|(o, m)| *o == k && m.frames.len() == s.frames.len()) {
                Some((_, m)) => *m = m.join(s),
                None => incoming.push((k, s.clone())),
            }
        }
        for (k, n) in incoming {
            match out.iter_mut().find(|(o, m)| *o == k && m.frames.len() == n.frames.len()) {
                Some((_, m)) => {
                    if !n.leq(m) {
                        *m = m.widen(&n, t);
                    }
                }
                None => {
                    if !out.iter().any(|(_, m)| n.leq(m)) {
                        out.push((k, n));
                    }
                }
            }
        }
        let mut set = StateSet { states: out.into_iter().map(|(_, s)| s).collect(), keys: Vec::new(), relevant: self.relevant };
        set.rekey();
        set.collapse_if_needed();
        set
    }

    /// Recomputes the keys, joining members whose keys became equal.
    fn rekey(&mut self) {
        let states = std::mem::take(&mut self.states);
        self.keys.clear();
        for s in states {
            let k = self.key(&s);
            match self.keys.iter().position(|o| o.exact == k.exact) {
                Some(i) => self.states[i] = self.states[i].join(&s),
                None => {
                    self.keys.push(k);
                    self.states.push(s);
                }
            }
        }
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
            match other.keys.iter().position(|o| o.exact == k.exact) {
                Some(i) if s.leq(&other.states[i]) => true,
                _ => other.states.iter().any(|o| s.leq(o)),
            }
        })
    }

    fn join(&mut self, other: &Self) -> bool {
        self.join_owned(other.clone())
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
        self.widen_by(newer, t, false)
    }

    fn widen_round(&self, newer: &Self, t: &Thresholds, round: u32) -> Self {
        self.widen_by(newer, t, round < KEYED_WIDENING_ROUNDS)
    }

    fn narrow(&self, newer: &Self) -> Self {
        let mut out = StateSet::bottom_keyed_on(self.relevant);
        for (m, k) in self.states.iter().zip(self.keys.iter()) {
            let n = match newer.keys.iter().position(|o| o.exact == k.exact) {
                Some(i) => m.narrow(&newer.states[i]),
                None => m.clone(),
            };
            out.keys.push(out.key(&n));
            out.states.push(n);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::Reg;
    use crate::state::RegState;

    fn with(r: Reg, v: RegState) -> AbsState {
        let mut s = AbsState::entry();
        s.set_reg(r, v);
        s
    }

    fn range_1_to(hi: u64) -> RegState {
        RegState::Scalar(lattices::Scalar::from_urange(1, hi))
    }

    #[test]
    fn zero_and_error_code_stay_apart() {
        // r8 = err ? -155 : 0 (as cilium's snat path): the two sides must not join.
        let mut set = StateSet::single(with(Reg::R8, RegState::constant(0)));
        assert!(set.add(with(Reg::R8, RegState::constant((-155i64) as u64))));
        assert_eq!(set.states.len(), 2);
        // A big non-zero constant and a non-zero range are the same zero class: joined.
        let mut set = StateSet::single(with(Reg::R8, RegState::constant(0x1_0000_0000)));
        assert!(set.add(with(Reg::R8, range_1_to(5))));
        assert_eq!(set.states.len(), 1);
    }

    #[test]
    fn small_constants_stay_apart() {
        // off = c ? 38 : 22 (cilium's lxc path): two packet offsets.
        let mut set = StateSet::single(with(Reg::R2, RegState::constant(22)));
        set.add(with(Reg::R2, RegState::constant(38)));
        assert_eq!(set.states.len(), 2);
        assert!(set.states.iter().all(|s| s.scalar(Reg::R2).and_then(|x| x.const_value()).is_some()));
        // Adding one of them again changes nothing.
        assert!(!set.add(with(Reg::R2, RegState::constant(38))));
    }

    /// A state whose registers hold packet pointers at these fixed offsets, with variable
    /// part `var`.
    fn pkt_state(regs: &[(Reg, i32)], var: lattices::Scalar) -> AbsState {
        let mut s = AbsState::entry();
        for (r, off) in regs {
            let mut p = crate::state::Ptr::new(crate::state::PtrKind::Pkt);
            p.off = *off;
            p.var = var;
            s.set_reg(*r, RegState::Ptr(p));
        }
        s
    }

    #[test]
    fn packet_pointers_at_different_constant_offsets_stay_apart() {
        // r4 = data + c, r1 = r4 + 2 for c in {56, 70}: joined, each register would get
        // its own joined id and the check on r1 would no longer cover r4.
        let fixed = lattices::Scalar::constant(0);
        let at = |off: i32| pkt_state(&[(Reg::R4, off), (Reg::R1, off + 2)], fixed);
        let mut set = StateSet::single(at(56));
        set.add(at(70));
        assert_eq!(set.states.len(), 2);
        assert_eq!(set.keys[0].group, set.keys[1].group);
        // Pointers with a variable part are not keyed on their offset: one member.
        let var_at = |off: i32| pkt_state(&[(Reg::R4, off)], lattices::Scalar::from_urange(0, 8));
        let mut set = StateSet::single(var_at(56));
        set.add(var_at(70));
        assert_eq!(set.states.len(), 1);
    }

    #[test]
    fn constants_of_irrelevant_registers_do_not_keep_states_apart() {
        // Keyed on R1's value only: two offsets in R2 join, two in R1 stay apart.
        let mut set = StateSet::bottom_keyed_on(0b10);
        set.add(with(Reg::R2, RegState::constant(22)));
        assert!(set.add(with(Reg::R2, RegState::constant(38))));
        assert_eq!(set.states.len(), 1);
        let r2 = set.states[0].scalar(Reg::R2).expect("scalar");
        assert!(r2.contains(22) && r2.contains(38));
        let mut set = StateSet::bottom_keyed_on(0b10);
        set.add(with(Reg::R1, RegState::constant(22)));
        set.add(with(Reg::R1, RegState::constant(38)));
        assert_eq!(set.states.len(), 2);
        // Joining into a set keyed differently re-keys the incoming members.
        let mut all = StateSet::bottom();
        all.add(with(Reg::R3, RegState::constant(9)));
        let mut narrow = StateSet::bottom_keyed_on(0b10);
        narrow.add(with(Reg::R3, RegState::constant(7)));
        narrow.join_owned(all);
        assert_eq!(narrow.states.len(), 1);
    }

    #[test]
    fn the_group_key_is_the_zero_class_shape() {
        // `widen` relies on it to group members by their cached keys.
        let mut s = with(Reg::R2, RegState::constant(38));
        s.set_reg(Reg::R3, RegState::constant(0));
        s.pkt_ranges.insert(0, 14);
        for relevant in [RegMask::MAX, 0b100, 0] {
            assert_eq!(s.shape_key(relevant).group, s.shape_masked(ShapeDetail::ZeroClass, relevant));
        }
        assert_ne!(s.shape_key(RegMask::MAX).exact, s.shape_key(0).exact);
    }

    #[test]
    fn a_covered_state_is_dropped_at_a_join_point() {
        // A path that proved 56 packet bytes arrives where one proving 54 is: covered.
        let mut shorter = AbsState::entry();
        shorter.pkt_ranges.insert(0, 54);
        let mut longer = AbsState::entry();
        longer.pkt_ranges.insert(0, 56);
        assert!(longer.leq(&shorter) && !shorter.leq(&longer));
        let mut at_join = StateSet::single(shorter.clone());
        assert!(!at_join.join_owned(StateSet::single(longer.clone())));
        assert_eq!(at_join.states.len(), 1);
        // The other order: the new state covers the member, which is dropped.
        let mut at_join = StateSet::single(longer.clone());
        assert!(at_join.join_owned(StateSet::single(shorter.clone())));
        assert_eq!(at_join.states.len(), 1);
        assert_eq!(at_join.states[0].pkt_range(0), 54);
        // Moved into an empty set, the members are kept as they come.
        let mut two = StateSet::single(shorter);
        two.add(longer);
        assert_eq!(two.states.len(), 2);
        let mut empty = StateSet::bottom();
        empty.join_owned(two);
        assert_eq!(empty.states.len(), 2);
    }

    #[test]
    fn a_chain_of_constant_diamonds_keeps_few_members() {
        // r2 takes 16 non-zero constants (4 diamonds of `r = c ? a : b`): at most
        // MAX_CONSTANT_VARIANTS members, and together they contain every value.
        let mut set = StateSet::bottom();
        for c in 1..=16u64 {
            set.add(with(Reg::R2, RegState::constant(c * 8)));
            assert!(set.states.len() <= MAX_CONSTANT_VARIANTS, "{} members", set.states.len());
        }
        for c in 1..=16u64 {
            assert!(set.states.iter().any(|s| s.scalar(Reg::R2).is_some_and(|x| x.contains(c * 8))), "{c} lost");
        }
        // States of another group (R8 an error code vs 0) are not merged with them.
        set.add(with(Reg::R8, RegState::constant(0)));
        let before = set.states.len();
        set.add(with(Reg::R8, RegState::constant((-22i64) as u64)));
        assert_eq!(set.states.len(), before + 1);
    }

    #[test]
    fn widening_a_counter_terminates_with_few_members() {
        // A loop head where a counter takes 0, 1, 2, ...: widening must not keep one
        // member per constant.
        let t = Thresholds::default();
        let mut head = StateSet::single(with(Reg::R1, RegState::constant(0)));
        let mut stable = false;
        for i in 1..20u64 {
            let mut next = head.clone();
            next.join(&StateSet::single(with(Reg::R1, RegState::constant(i))));
            if next.leq(&head) {
                stable = true;
                break;
            }
            head = head.widen(&next, &t);
            assert!(head.states.len() <= 2, "{} members after {i} widenings", head.states.len());
        }
        assert!(stable, "widening did not stabilise");
    }

    #[test]
    fn collapse_keeps_packet_ranges_before_constants() {
        // 200 members differing in a constant and in a packet range: past the cap the
        // constants are given up first, the packet ranges kept.
        let mut set = StateSet::bottom();
        for i in 0..200u64 {
            let mut s = with(Reg::R1, RegState::constant(i + 1));
            if i % 2 == 0 {
                s.pkt_ranges.insert(5, 2);
            }
            set.add(s);
        }
        assert!(set.states.len() <= MAX_DISJUNCTS);
        assert!(set.states.iter().any(|s| s.pkt_range(5) == 2));
        assert!(set.states.iter().any(|s| s.pkt_range(5) == 0));
        // Sound: every added state is still covered.
        let mut s = with(Reg::R1, RegState::constant(7));
        s.pkt_ranges.insert(5, 2);
        assert!(StateSet::single(s).leq(&set));
    }

    #[test]
    fn early_widening_rounds_keep_few_constants_apart() {
        // A state machine's register takes 1, 3, 7 (one zero class, so one group): the
        // first rounds keep the constants (each member widened against its own), later
        // rounds join the group.
        let t = Thresholds::default();
        let head = StateSet::single(with(Reg::R1, RegState::constant(1)));
        let mut next = head.clone();
        for c in [3, 7] {
            next.join(&StateSet::single(with(Reg::R1, RegState::constant(c))));
        }
        let early = head.widen_round(&next, &t, 0);
        assert_eq!(early.states.len(), 3);
        assert!(next.leq(&early) && head.leq(&early));
        let late = head.widen_round(&next, &t, KEYED_WIDENING_ROUNDS);
        assert_eq!(late.states.len(), 1);
        assert!(next.leq(&late) && head.leq(&late));
        assert_eq!(late, head.widen(&next, &t));
    }

    #[test]
    fn keyed_widening_of_a_counter_terminates() {
        // A counter 0, 1, 2, ... widened round by round as the solver does: the keyed
        // rounds add constants, then the group is joined and widened.
        let t = Thresholds::default();
        let mut head = StateSet::single(with(Reg::R1, RegState::constant(0)));
        let mut stable = false;
        for i in 1..40u64 {
            let mut next = head.clone();
            next.join(&StateSet::single(with(Reg::R1, RegState::constant(i))));
            if next.leq(&head) {
                stable = true;
                break;
            }
            let widened = head.widen_round(&next, &t, (i - 1) as u32);
            assert!(next.leq(&widened), "round {i}: not an upper bound");
            head = widened;
            assert!(head.states.len() <= MAX_CONSTANT_VARIANTS, "{} members after {i} rounds", head.states.len());
        }
        assert!(stable, "widening did not stabilise");
    }
}
