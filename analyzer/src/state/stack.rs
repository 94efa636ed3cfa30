//! One 512-byte stack frame, as the kernel's `bpf_stack_state` tracks it.
//!
//! The frame is 64 slots of 8 bytes, keyed by slot index (`-1` is `fp-8..fp-1`).
//! A slot is either a spilled register (an aligned 8-byte store of a register keeps
//! its full state, pointer or scalar, so a fill gives it back) or eight bytes each
//! `Invalid` (never written, the kernel's `STACK_INVALID` `?`), `Misc` (`m`) or
//! `Zero` (`0`). Absent slots are all invalid. The slots are a copy-on-write
//! [`SlotMap`]: branches of the analysis share a frame's slots until one writes.
//!
//! Precision loss: a store narrower than 8 bytes of a non-constant scalar makes its
//! bytes `Misc`, so loading them back gives only the size-derived bounds (a u8 store
//! of `x in [0, 7]` loads back as `[0, 255]`).

use super::reg::RegState;
use super::slot_map::SlotMap;
use lattices::{Scalar, Thresholds};

pub const MAX_BPF_STACK: i64 = 512;

/// What one stack byte holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StackByte {
    /// Never written: reading it is an error.
    Invalid,
    /// Some initialised data.
    Misc,
    /// Known zero.
    Zero,
}

impl StackByte {
    fn join(self, o: StackByte) -> StackByte {
        use StackByte::*;
        match (self, o) {
            (Invalid, _) | (_, Invalid) => Invalid,
            (Zero, Zero) => Zero,
            _ => Misc,
        }
    }

    fn leq(self, o: StackByte) -> bool {
        use StackByte::*;
        matches!((self, o), (_, Invalid) | (Zero, _) | (Misc, Misc))
    }

    pub fn letter(self) -> char {
        match self {
            StackByte::Invalid => '?',
            StackByte::Misc => 'm',
            StackByte::Zero => '0',
        }
    }
}

/// One 8-byte slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StackSlot {
    /// An aligned 8-byte spill of a register.
    Spill(RegState),
    /// Byte-wise contents; byte 0 is the lowest address.
    Bytes([StackByte; 8]),
    /// A narrow (1, 2 or 4-byte) store of a scalar at byte `at`, the value kept so a
    /// fill of the same bytes gives it back; `bytes` is the byte-wise view of the slot.
    Narrow { value: Scalar, at: u8, size: u8, bytes: [StackByte; 8] },
}

impl StackSlot {
    pub const INVALID: StackSlot = StackSlot::Bytes([StackByte::Invalid; 8]);

    /// The byte-wise view (a spilled scalar 0 is zero bytes; any other spill is misc).
    pub fn bytes(&self) -> [StackByte; 8] {
        match self {
            StackSlot::Bytes(b) => *b,
            StackSlot::Narrow { bytes, .. } => *bytes,
            StackSlot::Spill(RegState::Scalar(s)) if s.const_value() == Some(0) => [StackByte::Zero; 8],
            StackSlot::Spill(RegState::NotInit) => [StackByte::Invalid; 8],
            StackSlot::Spill(_) => [StackByte::Misc; 8],
        }
    }

    /// Eight zero bytes are the spill of the constant 0 (so NULL joins with a spilled pointer).
    fn as_spill(&self) -> StackSlot {
        match self {
            StackSlot::Bytes(b) if b.iter().all(|x| *x == StackByte::Zero) => StackSlot::Spill(RegState::constant(0)),
            other => *other,
        }
    }

    fn join(&self, other: &StackSlot) -> StackSlot {
        self.as_spill().combine(&other.as_spill(), |a, b| a.join(b), |a, b| {
            let mut v = *a;
            lattices::Lattice::join(&mut v, b);
            v
        })
    }

    fn widen(&self, o: &StackSlot, t: &Thresholds) -> StackSlot {
        match (self, o) {
            (StackSlot::Spill(_), StackSlot::Spill(_)) | (StackSlot::Narrow { .. }, StackSlot::Narrow { .. }) => {
                self.combine(o, |a, b| a.widen(b, t), |a, b| lattices::Lattice::widen(a, b, t))
            }
            _ => self.join(o),
        }
    }

    /// The slot-wise join or widening: `reg` on two spills, `value` on two narrow
    /// stores of the same bytes, the byte-wise join otherwise.
    fn combine(
        &self,
        o: &StackSlot,
        reg: impl Fn(&RegState, &RegState) -> RegState,
        value: impl Fn(&Scalar, &Scalar) -> Scalar,
    ) -> StackSlot {
        let bytes = || -> [StackByte; 8] {
            let (a, b) = (self.bytes(), o.bytes());
            std::array::from_fn(|i| a[i].join(b[i]))
        };
        match (self, o) {
            (StackSlot::Spill(x), StackSlot::Spill(y)) => match reg(x, y) {
                RegState::NotInit => StackSlot::INVALID,
                RegState::Unknown => StackSlot::Bytes([StackByte::Misc; 8]),
                r => StackSlot::Spill(r),
            },
            (
                StackSlot::Narrow { value: va, at: aa, size: sa, .. },
                StackSlot::Narrow { value: vb, at: ab, size: sb, .. },
            ) if aa == ab && sa == sb => StackSlot::Narrow { value: value(va, vb), at: *aa, size: *sa, bytes: bytes() },
            _ => StackSlot::Bytes(bytes()),
        }
    }

    fn leq(&self, o: &StackSlot) -> bool {
        match (self, o) {
            (StackSlot::Spill(a), StackSlot::Spill(b)) => a.leq(b),
            (_, StackSlot::Spill(_)) => false,
            (
                StackSlot::Narrow { value: va, at: aa, size: sa, .. },
                StackSlot::Narrow { value: vb, at: ab, size: sb, .. },
            ) => {
                aa == ab && sa == sb && lattices::Lattice::leq(va, vb) && {
                    let (a, b) = (self.bytes(), o.bytes());
                    (0..8).all(|i| a[i].leq(b[i]))
                }
            }
            (_, StackSlot::Narrow { .. }) => false,
            _ => {
                let (a, b) = (self.bytes(), o.bytes());
                (0..8).all(|i| a[i].leq(b[i]))
            }
        }
    }
}

/// A stack frame.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Stack {
    pub slots: SlotMap,
}

/// The slot index and byte within it of a frame offset (negative).
fn slot_of(off: i64) -> (i32, usize) {
    (off.div_euclid(8) as i32, off.rem_euclid(8) as usize)
}

impl Stack {
    pub fn slot(&self, idx: i32) -> StackSlot {
        self.slots.get(&idx).copied().unwrap_or(StackSlot::INVALID)
    }

    /// Deepest byte offset ever written (for the log's stack depth).
    pub fn depth(&self) -> i64 {
        self.slots.keys().next().map(|k| -(*k as i64) * 8).unwrap_or(0)
    }

    /// Writes `size` bytes at `off` (negative frame offset, in bounds) with a register's value.
    pub fn store(&mut self, off: i64, size: u32, value: &RegState) {
        let (idx, byte) = slot_of(off);
        if size == 8 && byte == 0 {
            match value {
                RegState::Scalar(s) if s.const_value() == Some(0) => {
                    self.slots.insert(idx, StackSlot::Spill(*value));
                }
                RegState::NotInit => {
                    self.slots.insert(idx, StackSlot::INVALID);
                }
                _ => {
                    self.slots.insert(idx, StackSlot::Spill(*value));
                }
            }
            return;
        }
        let kind = match value {
            RegState::Scalar(s) if s.truncate(size).const_value() == Some(0) => StackByte::Zero,
            _ => StackByte::Misc,
        };
        self.fill_bytes(off, size as i64, kind);
        if let RegState::Scalar(s) = value {
            if byte + size as usize <= 8 && size < 8 {
                let bytes = self.slot(idx).bytes();
                self.slots.insert(idx, StackSlot::Narrow { value: s.truncate(size), at: byte as u8, size: size as u8, bytes });
            }
        }
    }

    /// Sets `len` bytes from `off` to `kind`, breaking spills they overlap.
    pub fn fill_bytes(&mut self, off: i64, len: i64, kind: StackByte) {
        for o in off..off + len {
            let (idx, byte) = slot_of(o);
            let mut bytes = self.slot(idx).bytes();
            bytes[byte] = kind;
            self.slots.insert(idx, StackSlot::Bytes(bytes));
        }
    }

    /// Marks every byte of `[lo, hi)` that is already initialised as Misc, and
    /// breaks spills in it (a write at an unknown offset within that range).
    pub fn clobber_range(&mut self, lo: i64, hi: i64) {
        for o in lo..hi {
            let (idx, byte) = slot_of(o);
            let mut bytes = self.slot(idx).bytes();
            if bytes[byte] != StackByte::Invalid {
                bytes[byte] = StackByte::Misc;
            }
            self.slots.insert(idx, StackSlot::Bytes(bytes));
        }
    }

    /// Reads `size` bytes at `off`: `Err(first uninitialised offset)` if any byte is invalid,
    /// else the loaded register (a full spill gives the spilled register back).
    pub fn load(&self, off: i64, size: u32) -> Result<RegState, i64> {
        let (idx, byte) = slot_of(off);
        if let StackSlot::Spill(r) = self.slot(idx) {
            if size == 8 && byte == 0 {
                return Ok(r);
            }
            if let RegState::Scalar(s) = r {
                // A narrow fill of a spilled scalar: the low bytes are the low bits (little-endian).
                if byte == 0 {
                    return Ok(RegState::Scalar(s.truncate(size)));
                }
                let shifted = Scalar::binop(
                    lattices::BinOp::Rsh,
                    lattices::BitWidth::W64,
                    &s,
                    &Scalar::constant(byte as u64 * 8),
                );
                return Ok(RegState::Scalar(shifted.truncate(size)));
            }
        }
        if let StackSlot::Narrow { value, at, size: ssize, .. } = self.slot(idx) {
            if at as usize == byte && size <= ssize as u32 {
                return Ok(RegState::Scalar(value.truncate(size)));
            }
        }
        let mut all_zero = true;
        for o in off..off + size as i64 {
            let (idx, byte) = slot_of(o);
            match self.slot(idx).bytes()[byte] {
                StackByte::Invalid => return Err(o),
                StackByte::Misc => all_zero = false,
                StackByte::Zero => {}
            }
        }
        if all_zero {
            Ok(RegState::constant(0))
        } else {
            Ok(RegState::Scalar(Scalar::unknown().truncate(size)))
        }
    }

    /// First uninitialised byte in `[off, off+len)`, if any.
    pub fn first_invalid(&self, off: i64, len: i64) -> Option<i64> {
        // One slot lookup per 8-byte slot the range touches, not per byte.
        let mut o = off;
        while o < off + len {
            let (idx, byte) = slot_of(o);
            let bytes = self.slot(idx).bytes();
            let end = (o + (8 - byte as i64)).min(off + len);
            for (i, b) in bytes.iter().enumerate().take(byte + (end - o) as usize).skip(byte) {
                if *b == StackByte::Invalid {
                    return Some(o + (i - byte) as i64);
                }
            }
            o = end;
        }
        None
    }

    pub fn join(&self, o: &Stack) -> Stack {
        self.combine(o, |a, b| a.join(b))
    }

    pub fn widen(&self, o: &Stack, t: &Thresholds) -> Stack {
        self.combine(o, |a, b| a.widen(b, t))
    }

    /// Slot-wise `f` over the slots of `self` (a slot absent from `self` is invalid,
    /// and anything combined with invalid is invalid).
    fn combine(&self, o: &Stack, f: impl Fn(&StackSlot, &StackSlot) -> StackSlot) -> Stack {
        // The same shared slots on both sides: the result is `self` when `f` keeps every
        // slot as it is (and none is dropped as invalid), with no new allocation.
        if self.slots.ptr_eq(&o.slots) && self.slots.values().all(|a| *a != StackSlot::INVALID && f(a, a) == *a) {
            return self.clone();
        }
        let mut slots = Vec::with_capacity(self.slots.len());
        for (k, a) in self.slots.iter() {
            let j = f(a, &o.slot(*k));
            if j != StackSlot::INVALID {
                slots.push((*k, j));
            }
        }
        Stack { slots: SlotMap::from_sorted(slots) }
    }

    pub fn leq(&self, o: &Stack) -> bool {
        if self.slots.ptr_eq(&o.slots) {
            return true;
        }
        // Both maps are sorted by slot index: one merged walk (a slot absent here is
        // INVALID).
        let mut mine = self.slots.iter().peekable();
        o.slots.iter().all(|(k, b)| {
            while mine.next_if(|(mk, _)| *mk < k).is_some() {}
            match mine.peek() {
                Some((mk, a)) if *mk == k => a.leq(b),
                _ => StackSlot::INVALID.leq(b),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{PtrKind, RegState};

    #[test]
    fn null_bytes_join_a_spilled_map_value_into_or_null() {
        let mut a = Stack::default();
        a.store(-8, 8, &RegState::ptr(PtrKind::MapValue { map: 0 }));
        let mut b = Stack::default();
        b.fill_bytes(-8, 8, StackByte::Zero);
        let j = a.join(&b);
        match j.slot(-1) {
            StackSlot::Spill(RegState::Ptr(p)) => assert!(p.maybe_null && p.kind == PtrKind::MapValue { map: 0 }),
            other => panic!("expected a spilled map_value_or_null, got {other:?}"),
        }
        // (`b.leq(&j)` is false: `StackSlot::leq` does not see eight zero bytes as the
        // spill of NULL; incomplete, not unsound.)
        assert!(a.leq(&j));
    }

    #[test]
    fn first_invalid_is_the_lowest_invalid_byte_of_the_range() {
        let mut st = Stack::default();
        st.fill_bytes(-24, 24, StackByte::Misc);
        // Bytes -24..0 written except -13 (slot -2, byte 3) and -3 (slot -1, byte 5).
        let mut s2 = st.slot(-2).bytes();
        s2[3] = StackByte::Invalid;
        st.slots.insert(-2, StackSlot::Bytes(s2));
        let mut s1 = st.slot(-1).bytes();
        s1[5] = StackByte::Invalid;
        st.slots.insert(-1, StackSlot::Bytes(s1));
        for off in -40..0i64 {
            for len in 1..=(-off) {
                let expect = (off..off + len).find(|&o| {
                    let (idx, byte) = slot_of(o);
                    st.slot(idx).bytes()[byte] == StackByte::Invalid
                });
                assert_eq!(st.first_invalid(off, len), expect, "off {off} len {len}");
            }
        }
        assert_eq!(st.first_invalid(-24, 8), None);
        assert_eq!(st.first_invalid(-16, 16), Some(-13));
    }

    #[test]
    fn join_drops_slots_invalid_on_one_side() {
        let mut a = Stack::default();
        a.store(-16, 8, &RegState::constant(3));
        a.store(-8, 8, &RegState::constant(4));
        let mut b = Stack::default();
        b.store(-8, 8, &RegState::constant(5));
        let j = a.join(&b);
        assert_eq!(j.slot(-2), StackSlot::INVALID);
        assert!(j.slots.get(&-2).is_none());
        assert_eq!(j.load(-8, 8).ok().and_then(|r| r.as_scalar().map(|s| (s.umin, s.umax))), Some((4, 5)));
        let w = a.widen(&b, &Thresholds::default());
        assert!(j.leq(&w) && w.slots.get(&-2).is_none());
    }

    #[test]
    fn narrow_stores_widen_their_value() {
        let t = Thresholds::default();
        let mut a = Stack::default();
        a.store(-8, 4, &RegState::constant(1));
        let mut b = Stack::default();
        b.store(-8, 4, &RegState::constant(2));
        let w = a.widen(&b, &t);
        match w.slot(-1) {
            StackSlot::Narrow { value, at: 0, size: 4, .. } => assert!(value.umax >= 2 && value.umin <= 1),
            other => panic!("expected a narrow slot, got {other:?}"),
        }
        assert!(a.leq(&w) && b.leq(&w));
        // A spill against bytes falls back to the join.
        let mut c = Stack::default();
        c.fill_bytes(-8, 8, StackByte::Misc);
        assert_eq!(a.widen(&c, &t), a.join(&c));
    }
}
