//! The abstract machine state at one program point: the kernel's
//! `bpf_verifier_state`, with a frame per active call (registers R0-R10 and a
//! 512-byte stack each), the proven packet ranges, and the acquired references.
//!
//! `AbsState` is one path's state; `StateSet` (in `disjunct`) is what the fixpoint
//! engine propagates: a small set of states kept apart where joining them would lose
//! a distinction the kernel keeps (a pointer vs. a scalar, null vs. non-null).

pub mod disjunct;
pub mod lock;
pub mod reg;
pub mod slot_map;
pub mod stack;

use imbl::OrdMap;
use lattices::{Scalar, Thresholds};
pub use lock::LockState;
pub use reg::{Ptr, PtrKind, RegState};
pub use stack::{Stack, StackByte, StackSlot};

use crate::insn::Reg;
use crate::liveness::RegMask;

/// Maximum call depth, as the kernel's `MAX_CALL_FRAMES`.
pub const MAX_CALL_FRAMES: usize = 8;

/// One call frame.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    pub regs: [RegState; 11],
    pub stack: Stack,
    /// For a callback's frame: the range its R0 must be in at exit.
    pub callback_ret: Option<(i64, i64)>,
}

impl Frame {
    /// The frame at a function's entry: R10 is the frame pointer, the rest not initialised.
    pub fn new(depth: u8) -> Frame {
        let mut regs = [RegState::NotInit; 11];
        regs[10] = RegState::ptr(PtrKind::Stack { frame: depth });
        Frame { regs, stack: Stack::default(), callback_ret: None }
    }
}

/// One path's abstract state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AbsState {
    /// Active frames, outermost first; the last is the current one.
    pub frames: Vec<Frame>,
    /// Proven packet range per packet-pointer id (id 0 is `data` itself):
    /// every access `[off, off+size)` relative to the id's base with `off+size <= range` is in bounds.
    pub pkt_ranges: OrdMap<u32, u32>,
    /// Acquired references not yet released: id -> pc of the acquiring call.
    pub refs: OrdMap<u32, usize>,
    /// Set by a helper call that takes a callback, for the edge into the callback:
    /// the callback's start pc, its argument registers, and the caller's R0-R5 as they
    /// were before the call (restored while the callback runs and after it returns).
    pub pending_callback: Option<Box<PendingCallback>>,
    /// The `bpf_spin_lock` held, if any.
    pub lock: LockState,
}

/// See `AbsState::pending_callback`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PendingCallback {
    pub func_pc: usize,
    /// R1-R5 of the callback's frame.
    pub args: [RegState; 5],
    /// The caller's R0-R5 before the call.
    pub saved: [RegState; 6],
    /// Range of the callback's return value.
    pub ret: (i64, i64),
}

/// How much of a state `StateSet` keys on, finest first: states with equal keys are
/// joined, states with different keys kept apart (up to `MAX_DISJUNCTS`, after which
/// coarser keys are used in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ShapeDetail {
    /// Everything below, plus the value of each constant scalar register: `off = c ?
    /// 38 : 22; len = c ? 46 : 30` keeps the two offsets paired, as the kernel's paths do.
    Constants,
    /// Everything below, plus whether each scalar register is 0, non-zero, or either
    /// (`zero_class`): `r8 = err ? -22 : 0; ... if r8 != 0` keeps its correlation
    /// with the registers and packet ranges of each side. Loop heads are widened at
    /// this level (so a counter's constants do not unroll the loop).
    ZeroClass,
    /// Register kinds and nullness, spilled pointers, packet ranges, references.
    Kinds,
    /// Without spilled pointers.
    NoSpills,
    /// Without spilled pointers and packet ranges.
    NoPktRanges,
    /// Register kinds and nullness only.
    Regs,
}

/// A state's keys in a `StateSet` (see `AbsState::shape_key`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ShapeKey {
    /// Everything but constants (`ShapeDetail::ZeroClass`).
    pub group: u64,
    /// `group` and the small constants of the relevant registers (`ShapeDetail::Constants`).
    pub exact: u64,
}

/// The fixed offset of a packet pointer with no variable part, when small: states whose
/// packet pointers sit at different constant offsets are kept apart like small
/// constants (joining them would give each register its own joined id and lose that two
/// registers differ by a constant, so a bounds check on one no longer covers the other:
/// cilium `tail_nodeport_nat_ingress_ipv6` checks `r1 = r4 + 2` and reads through `r4`).
fn packet_offset(r: &RegState) -> Option<u64> {
    match r {
        RegState::Ptr(p) if p.kind.is_packet() && p.var.const_value() == Some(0) => {
            u64::try_from(p.off).ok().filter(|o| *o <= SMALL_CONST)
        }
        _ => None,
    }
}

/// Largest constant `ShapeDetail::Constants` keeps apart (packet offsets and sizes).
pub const SMALL_CONST: u64 = 0xffff;

/// Whether a scalar is the constant 0 (0), surely non-zero (1), or either (2): the
/// outcome of the `if rX != 0` tests programs correlate other values with.
pub fn zero_class(s: &Scalar) -> u64 {
    if s.umax == 0 {
        0
    } else if s.umin > 0 || s.u32_min > 0 {
        1
    } else {
        2
    }
}

impl AbsState {
    /// The state at program entry: R1 = ctx, R10 = fp.
    pub fn entry() -> AbsState {
        let mut f = Frame::new(0);
        f.regs[1] = RegState::ptr(PtrKind::Ctx);
        AbsState { frames: vec![f], pkt_ranges: OrdMap::new(), refs: OrdMap::new(), pending_callback: None, lock: LockState::Free }
    }

    pub fn depth(&self) -> usize {
        self.frames.len() - 1
    }

    pub fn frame(&self) -> &Frame {
        self.frames.last().expect("a state always has a frame")
    }

    pub fn frame_mut(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a state always has a frame")
    }

    pub fn reg(&self, r: Reg) -> &RegState {
        &self.frame().regs[r.index()]
    }

    pub fn set_reg(&mut self, r: Reg, v: RegState) {
        self.frame_mut().regs[r.index()] = v;
    }

    pub fn pkt_range(&self, id: u32) -> u32 {
        self.pkt_ranges.get(&id).copied().unwrap_or(0)
    }

    /// Applies `f` to every register and spilled register of every frame.
    pub fn for_each_reg_mut(&mut self, mut f: impl FnMut(&mut RegState)) {
        for fr in self.frames.iter_mut() {
            for r in fr.regs.iter_mut() {
                f(r);
            }
            let keys: Vec<i32> = fr.stack.slots.keys().copied().collect();
            for k in keys {
                if let Some(StackSlot::Spill(r)) = fr.stack.slots.get(&k).copied() {
                    let mut r2 = r;
                    f(&mut r2);
                    if r2 != r {
                        fr.stack.slots.insert(k, StackSlot::Spill(r2));
                    }
                }
            }
        }
    }

    /// The keys `StateSet` files this state under, in one pass: `group` is
    /// `shape_masked(ZeroClass, relevant)`, `exact` is finer, adding the small
    /// constants of the relevant scalar registers (`ShapeDetail::Constants`). Hashed: a
    /// collision only joins two states that could have stayed apart (sound).
    pub fn shape_key(&self, relevant: RegMask) -> ShapeKey {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut consts: u64 = 0x84222325;
        let mix = |h: &mut u64, x: u64| *h = (*h ^ x).wrapping_mul(0x0100_0000_01b3).rotate_left(17);
        mix(&mut h, self.frames.len() as u64);
        mix(&mut h, self.lock.shape() | (1 << 48));
        let last = self.frames.len().saturating_sub(1);
        for (fi, f) in self.frames.iter().enumerate() {
            for (ri, r) in f.regs.iter().enumerate() {
                mix(&mut h, r.shape());
                if fi == last && relevant & (1 << ri) == 0 {
                    continue;
                }
                if let RegState::Scalar(s) = r {
                    mix(&mut h, zero_class(s));
                    if let Some(c) = s.const_value().filter(|c| *c <= SMALL_CONST) {
                        mix(&mut consts, c.rotate_left(7) ^ ((fi as u64) << 40) ^ ((ri as u64) << 32));
                    }
                } else if let Some(off) = packet_offset(r) {
                    mix(&mut consts, off.rotate_left(7) ^ ((fi as u64) << 40) ^ ((ri as u64) << 32) ^ (1 << 63));
                }
            }
            for (k, slot) in f.stack.slots.iter() {
                if let StackSlot::Spill(r @ RegState::Ptr(_)) = slot {
                    mix(&mut h, ((*k as i64 as u64) << 32) ^ r.shape());
                }
            }
        }
        for (id, r) in self.pkt_ranges.iter() {
            mix(&mut h, ((*id as u64) << 20) | *r as u64 | (1 << 60));
        }
        for k in self.refs.keys() {
            mix(&mut h, *k as u64 | (1 << 40));
        }
        let mut exact = h;
        mix(&mut exact, consts);
        ShapeKey { group: h, exact }
    }

    /// The shape key at a level of detail (see `ShapeDetail`), hashed, where the values
    /// (constants, zero classes) of the current frame's scalar registers count only for
    /// those in `relevant` (`relevance::relevant_in`): states that differ only in
    /// irrelevant registers' values share a key.
    pub fn shape_masked(&self, detail: ShapeDetail, relevant: RegMask) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut mix = |x: u64| h = (h ^ x).wrapping_mul(0x0100_0000_01b3).rotate_left(17);
        mix(self.frames.len() as u64);
        mix(self.lock.shape() | (1 << 48));
        let last = self.frames.len().saturating_sub(1);
        for (fi, f) in self.frames.iter().enumerate() {
            for (ri, r) in f.regs.iter().enumerate() {
                mix(r.shape());
                if fi == last && ri < 16 && relevant & (1 << ri) == 0 {
                    continue;
                }
                if let RegState::Scalar(s) = r {
                    match detail {
                        ShapeDetail::Constants => mix(match s.const_value() {
                            // Small constants (offsets, sizes, flags); error codes and
                            // addresses only by their zero class.
                            Some(c) if c <= SMALL_CONST => c.rotate_left(7) ^ 3,
                            _ => zero_class(s),
                        }),
                        ShapeDetail::ZeroClass => mix(zero_class(s)),
                        _ => {}
                    }
                } else if let (ShapeDetail::Constants, Some(off)) = (detail, packet_offset(r)) {
                    mix(off.rotate_left(7) ^ (1 << 63));
                }
            }
            // Spilled pointers too: a map pointer chosen per path lives on the stack.
            if detail <= ShapeDetail::Kinds {
                for (k, slot) in f.stack.slots.iter() {
                    if let StackSlot::Spill(r @ RegState::Ptr(_)) = slot {
                        mix(((*k as i64 as u64) << 32) ^ r.shape());
                    }
                }
            }
        }
        if detail <= ShapeDetail::NoSpills {
            // Paths that proved different packet ranges stay apart: joining them would
            // keep only the smaller range (the kernel keeps such paths apart too).
            for (id, r) in self.pkt_ranges.iter() {
                mix(((*id as u64) << 20) | *r as u64 | (1 << 60));
            }
        }
        if detail <= ShapeDetail::NoPktRanges {
            for k in self.refs.keys() {
                mix(*k as u64 | (1 << 40));
            }
        }
        h
    }
}

/// The id a join gives the packet pointer in register `ri` of frame `fi` when the joined
/// pointers had different ids or offsets (see `AbsState::rebase_joined_packet_pointers`):
/// above every id `Ctx::fresh_id` hands out (`pc + 1 | depth << 24`, depth <= 8), below
/// the `pkt_meta` bit (31) and `STALE_ID`.
pub fn joined_pkt_id(fi: usize, ri: usize) -> u32 {
    0x7000_0000 | ((fi as u32 & 0xff) << 8) | (ri as u32 & 0xff)
}

impl AbsState {
    /// Least upper bound; both states must have the same number of frames.
    pub fn join(&self, o: &AbsState) -> AbsState {
        self.combine(o, |a, b| a.join(b), |a, b| a.join(b))
    }

    pub fn widen(&self, o: &AbsState, t: &Thresholds) -> AbsState {
        self.combine(o, |a, b| a.widen(b, t), |a, b| a.widen(b, t))
    }

    pub fn narrow(&self, o: &AbsState) -> AbsState {
        self.combine(o, |a, b| a.narrow(b), |a, b| if a.leq(b) { a.clone() } else { b.clone() })
    }

    fn combine(
        &self,
        o: &AbsState,
        reg: impl Fn(&RegState, &RegState) -> RegState,
        stack: impl Fn(&Stack, &Stack) -> Stack,
    ) -> AbsState {
        let frames = self
            .frames
            .iter()
            .zip(o.frames.iter())
            .map(|(a, b)| Frame {
                regs: std::array::from_fn(|i| reg(&a.regs[i], &b.regs[i])),
                stack: stack(&a.stack, &b.stack),
                callback_ret: a.callback_ret.or(b.callback_ret),
            })
            .collect();
        let mut pkt_ranges = OrdMap::new();
        for (id, r) in self.pkt_ranges.iter() {
            let r2 = o.pkt_range(*id);
            if r2.min(*r) > 0 {
                pkt_ranges.insert(*id, r2.min(*r));
            }
        }
        // A reference held on either path must still be released.
        let mut refs = self.refs.clone();
        for (k, v) in o.refs.iter() {
            refs.entry(*k).or_insert(*v);
        }
        let pending_callback = match (&self.pending_callback, &o.pending_callback) {
            (Some(a), Some(b)) if a.func_pc == b.func_pc => Some(Box::new(PendingCallback {
                func_pc: a.func_pc,
                args: std::array::from_fn(|i| reg(&a.args[i], &b.args[i])),
                saved: std::array::from_fn(|i| reg(&a.saved[i], &b.saved[i])),
                ret: a.ret,
            })),
            (Some(a), None) | (None, Some(a)) => Some(a.clone()),
            _ => None,
        };
        let mut out = AbsState { frames, pkt_ranges, refs, pending_callback, lock: self.lock.join(o.lock) };
        out.rebase_joined_packet_pointers(self, o);
        out
    }

    /// Gives packet pointers that a join could not keep on their id a range of their own.
    ///
    /// A packet pointer's range is proven for its id, relative to the id's base (every pointer
    /// with that id has the same variable part), so `RegState::combine` gives a join of two
    /// packet pointers with different ids or fixed offsets `STALE_ID` (range 0). Here, knowing
    /// both states, such a register gets an id of its own, [`joined_pkt_id`] of its frame and
    /// register, with the bytes both sides had proven from the pointer's own address onwards:
    /// `min(range_a - off_a, range_b - off_b) + off` (e.g. `data + 2` with r=64 joined with
    /// `data + 60` with r=64 is `pkt(id=J, off=0, var=[2, 60], r=4)`). The id is the same at
    /// every join of that register, so fixpoints converge (ranges only shrink); it is used only
    /// if no other register, spilled pointer or saved callback register of either state holds
    /// it, since two pointers with different bases must never share a ranged id.
    fn rebase_joined_packet_pointers(&mut self, a: &AbsState, b: &AbsState) {
        let stale = crate::exec::STALE_ID;
        // Rebased registers so far: (a's pointer, b's pointer, the rebased one). A later
        // register that shares an id with one of them on both sides, at the same fixed
        // distance and with the same variable part, shares its joined id too: in every
        // execution of either side it is that pointer plus the distance, so a bounds
        // check on one still covers the other (`r1 = r4 + 2; if r1 > end` then `*r4`).
        let mut rebased_so_far: Vec<(Ptr, Ptr, Ptr)> = Vec::new();
        // The registers to rebase, lowest fixed offset first, so that a register sharing
        // an earlier one's id sits at a non-negative distance from it.
        let mut todo: Vec<(usize, usize, Ptr, Ptr, Ptr)> = Vec::new();
        for fi in 0..self.frames.len() {
            for ri in 0..self.frames[fi].regs.len() {
                let RegState::Ptr(joined) = self.frames[fi].regs[ri] else { continue };
                if !joined.kind.is_packet() || joined.id != stale {
                    continue;
                }
                let (Some(RegState::Ptr(pa)), Some(RegState::Ptr(pb))) = (
                    a.frames.get(fi).map(|f| &f.regs[ri]),
                    b.frames.get(fi).map(|f| &f.regs[ri]),
                ) else {
                    continue;
                };
                if pa.kind != joined.kind || pb.kind != joined.kind {
                    continue;
                }
                todo.push((fi, ri, *pa, *pb, joined));
            }
        }
        todo.sort_by_key(|(_, _, pa, _, _)| pa.off);
        for (fi, ri, pa, pb, joined) in todo {
            let sibling = rebased_so_far.iter().find_map(|(ra, rb, rj)| {
                let same_ids = pa.id == ra.id && pb.id == rb.id && pa.id != stale && pb.id != stale;
                let same_var = pa.var == ra.var && pb.var == rb.var && ra.kind == pa.kind;
                let d = i64::from(pa.off) - i64::from(ra.off);
                let off = i32::try_from(i64::from(rj.off) + d).ok()?;
                (same_ids && same_var && d == i64::from(pb.off) - i64::from(rb.off)).then_some(Ptr { off, ..*rj })
            });
            if let Some(shared) = sibling {
                self.frames[fi].regs[ri] = RegState::Ptr(Ptr { maybe_null: joined.maybe_null, ..shared });
                continue;
            }
            let j = joined_pkt_id(fi, ri);
            if a.holds_pkt_id_elsewhere(j, fi, ri) || b.holds_pkt_id_elsewhere(j, fi, ri) {
                continue;
            }
            let rel = |st: &AbsState, p: &Ptr| -> i64 {
                if p.id == stale {
                    return 0;
                }
                st.pkt_range(crate::exec::range_key(p)) as i64 - p.off as i64
            };
            let mut rebased = joined;
            rebased.id = j;
            let key = crate::exec::range_key(&rebased);
            let range = rel(a, &pa).min(rel(b, &pb)) + joined.off as i64;
            self.pkt_ranges.remove(&key);
            if range > 0 && rel(a, &pa) > 0 && rel(b, &pb) > 0 {
                self.pkt_ranges.insert(key, u32::try_from(range).unwrap_or(u32::MAX));
            }
            self.frames[fi].regs[ri] = RegState::Ptr(rebased);
            rebased_so_far.push((pa, pb, rebased));
        }
    }

    /// Whether a packet pointer with id `id` is held anywhere but register `ri` of frame `fi`.
    fn holds_pkt_id_elsewhere(&self, id: u32, fi: usize, ri: usize) -> bool {
        let is_id = |r: &RegState| matches!(r, RegState::Ptr(p) if p.kind.is_packet() && p.id == id);
        self.frames.iter().enumerate().any(|(f, fr)| {
            fr.regs.iter().enumerate().any(|(r, reg)| (f, r) != (fi, ri) && is_id(reg))
                || fr.stack.slots.values().any(|s| matches!(s, StackSlot::Spill(r) if is_id(r)))
        }) || self
            .pending_callback
            .as_ref()
            .is_some_and(|pc| pc.args.iter().chain(pc.saved.iter()).any(is_id))
    }

    pub fn leq(&self, o: &AbsState) -> bool {
        // Cheap checks first: registers, packet ranges, references, then the stacks.
        self.frames.len() == o.frames.len()
            && self.frames.iter().zip(o.frames.iter()).all(|(a, b)| a.regs.iter().zip(b.regs.iter()).all(|(x, y)| x.leq(y)))
            && o.pkt_ranges.iter().all(|(id, r)| self.pkt_range(*id) >= *r)
            && self.refs.keys().all(|k| o.refs.contains_key(k))
            && self.lock.leq(o.lock)
            && self.frames.iter().zip(o.frames.iter()).all(|(a, b)| a.stack.leq(&b.stack))
    }

    /// Forgets the packet ranges of ids no register or spilled pointer holds any more
    /// (the range of `data` itself, id 0, is kept: it stays valid for later loads).
    pub fn gc_pkt_ranges(&mut self) {
        if self.pkt_ranges.keys().all(|k| k & !(1 << 31) == 0) {
            return;
        }
        let mut held: Vec<u32> = Vec::new();
        let mut note = |r: &RegState| {
            if let RegState::Ptr(p) = r {
                if matches!(p.kind, PtrKind::Pkt | PtrKind::PktMeta) {
                    held.push(p.id & !(1 << 31));
                }
            }
        };
        for f in &self.frames {
            f.regs.iter().for_each(&mut note);
            for slot in f.stack.slots.values() {
                if let StackSlot::Spill(r) = slot {
                    note(r);
                }
            }
        }
        let dead: Vec<u32> =
            self.pkt_ranges.keys().copied().filter(|k| k & !(1 << 31) != 0 && !held.contains(&(k & !(1 << 31)))).collect();
        for k in dead {
            self.pkt_ranges.remove(&k);
        }
    }

    /// A scalar view of a register (for conditions), if it is a scalar.
    pub fn scalar(&self, r: Reg) -> Option<Scalar> {
        self.reg(r).as_scalar().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::STALE_ID;

    fn pkt(id: u32, off: i32) -> RegState {
        let mut p = Ptr::new(PtrKind::Pkt);
        p.id = id;
        p.off = off;
        RegState::Ptr(p)
    }

    fn with(regs: &[(u8, RegState)], ranges: &[(u32, u32)]) -> AbsState {
        let mut s = AbsState::entry();
        for (r, v) in regs {
            s.set_reg(Reg(*r), *v);
        }
        for (id, r) in ranges {
            s.pkt_ranges.insert(*id, *r);
        }
        s
    }

    #[test]
    fn joined_packet_pointers_keep_the_bytes_both_sides_proved() {
        // data + 2 and data + 60, 64 bytes proven from data: 4 bytes from either pointer.
        let a = with(&[(4, pkt(0, 2))], &[(0, 64)]);
        let b = with(&[(4, pkt(0, 60))], &[(0, 64)]);
        let j = a.join(&b);
        let RegState::Ptr(p) = *j.reg(Reg(4)) else { panic!("a pointer: {:?}", j.reg(Reg(4))) };
        assert_eq!(p.id, joined_pkt_id(0, 4));
        assert_eq!((p.off, p.var.umin, p.var.umax), (0, 2, 60));
        assert_eq!(j.pkt_range(p.id), 4);
        // data's own range is untouched, and joining again is stable (a fixpoint).
        assert_eq!(j.pkt_range(0), 64);
        assert_eq!(j.join(&b), j);
    }

    #[test]
    fn a_joined_id_held_elsewhere_is_not_reused() {
        // R5 already holds the id R4 would get: R4 must go stale (range 0), not share it.
        let j_id = joined_pkt_id(0, 4);
        let a = with(&[(4, pkt(0, 2)), (5, pkt(j_id, 0))], &[(0, 64), (j_id, 64)]);
        let b = with(&[(4, pkt(0, 60)), (5, pkt(j_id, 0))], &[(0, 64), (j_id, 64)]);
        let j = a.join(&b);
        let RegState::Ptr(p) = *j.reg(Reg(4)) else { panic!() };
        assert_eq!(p.id, STALE_ID);
        assert_eq!(j.pkt_range(j_id), 64, "R5's range is kept");
    }

    #[test]
    fn one_side_without_range_gives_no_range() {
        let a = with(&[(4, pkt(0, 2))], &[(0, 64)]);
        let b = with(&[(4, pkt(0, 60))], &[]);
        let j = a.join(&b);
        let RegState::Ptr(p) = *j.reg(Reg(4)) else { panic!() };
        assert_eq!(j.pkt_range(crate::exec::range_key(&p)), 0);
    }

    #[test]
    fn registers_at_a_fixed_distance_share_their_joined_id() {
        // r4 = data + c, r1 = r4 + 2 (c = 56 or 70), 62 bytes proven: joined, r1 and r4
        // share one id at distance 2, so a later check of r1 covers r4.
        let a = with(&[(1, pkt(0, 58)), (4, pkt(0, 56))], &[(0, 62)]);
        let b = with(&[(1, pkt(0, 72)), (4, pkt(0, 70))], &[(0, 62)]);
        let j = a.join(&b);
        let (RegState::Ptr(r1), RegState::Ptr(r4)) = (*j.reg(Reg(1)), *j.reg(Reg(4))) else { panic!() };
        assert_eq!(r1.id, r4.id);
        assert_eq!(r1.var, r4.var);
        assert_eq!((r4.off, r1.off), (0, 2));
        // b proved nothing past r4 (62 < 70 + 1): no range for the shared id.
        assert_eq!(j.pkt_range(r4.id), 0);
        // Both sides proved 2 bytes past r4: the shared id has them, r1 sees 0.
        let a = with(&[(1, pkt(0, 58)), (4, pkt(0, 56))], &[(0, 58)]);
        let b = with(&[(1, pkt(0, 72)), (4, pkt(0, 70))], &[(0, 72)]);
        let j = a.join(&b);
        let (RegState::Ptr(r1), RegState::Ptr(r4)) = (*j.reg(Reg(1)), *j.reg(Reg(4))) else { panic!() };
        assert_eq!(r1.id, r4.id);
        assert_eq!(j.pkt_range(r4.id), 2);
        // Different distances on the two sides: separate ids.
        let b = with(&[(1, pkt(0, 74)), (4, pkt(0, 70))], &[(0, 72)]);
        let j = a.join(&b);
        let (RegState::Ptr(r1), RegState::Ptr(r4)) = (*j.reg(Reg(1)), *j.reg(Reg(4))) else { panic!() };
        assert_ne!(r1.id, r4.id);
    }
}
