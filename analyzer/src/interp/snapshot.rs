//! A copy of one stack frame's contents as a trace records it: which bytes were ever written,
//! their values, and the pointers spilled into the frame with 8-byte stores (the spill table's
//! entries for that frame, see `memory`). The soundness checker compares it with the abstract
//! state's `Stack` at the same pc.
//!
//! Offsets are frame offsets, as everywhere in the interpreter: `-512..0`, `fp-8` is `-8`.

use super::value::{ConcreteValue, STACK_SIZE};

/// One stack frame's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackSnapshot {
    /// Byte `off` of the frame is `bytes[off + STACK_SIZE]`.
    pub(crate) bytes: Vec<u8>,
    /// Whether that byte was ever written (same indexing).
    pub(crate) init: Vec<bool>,
    /// Pointers spilled with an 8-byte store, by frame offset, in offset order.
    pub(crate) spills: Vec<(i64, ConcreteValue)>,
}

impl StackSnapshot {
    /// A frame nothing was written to.
    pub fn empty() -> StackSnapshot {
        StackSnapshot {
            bytes: vec![0; STACK_SIZE as usize],
            init: vec![false; STACK_SIZE as usize],
            spills: Vec::new(),
        }
    }

    fn index(off: i64) -> Option<usize> {
        if (-STACK_SIZE..0).contains(&off) {
            usize::try_from(off + STACK_SIZE).ok()
        } else {
            None
        }
    }

    /// The byte at frame offset `off`, if it was ever written (`None` outside the frame too).
    pub fn byte(&self, off: i64) -> Option<u8> {
        let i = Self::index(off)?;
        match (self.init.get(i), self.bytes.get(i)) {
            (Some(true), Some(b)) => Some(*b),
            _ => None,
        }
    }

    /// The `len` (at most 8) bytes at `off` as a little-endian number, if all were written.
    pub fn read_le(&self, off: i64, len: u32) -> Option<u64> {
        if len > 8 {
            return None;
        }
        let mut b = [0u8; 8];
        for (k, slot) in b.iter_mut().enumerate().take(len as usize) {
            *slot = self.byte(off.checked_add(k as i64)?)?;
        }
        Some(u64::from_le_bytes(b))
    }

    /// The pointer an 8-byte store spilled at `off`, if no later store overlapped it.
    pub fn spilled_ptr(&self, off: i64) -> Option<ConcreteValue> {
        self.spills.iter().find(|(o, _)| *o == off).map(|(_, v)| *v)
    }

    /// Marks `bytes` written from `off` (tests of the checker build snapshots with it).
    #[cfg(test)]
    pub(crate) fn write_for_test(&mut self, off: i64, bytes: &[u8]) {
        for (k, b) in bytes.iter().enumerate() {
            if let Some(i) = Self::index(off + k as i64) {
                self.bytes[i] = *b;
                self.init[i] = true;
            }
        }
    }

    /// The value an 8-byte load at `off` would give: the spilled pointer, else the written bytes.
    pub fn load8(&self, off: i64) -> Option<ConcreteValue> {
        self.spilled_ptr(off).or_else(|| self.read_le(off, 8).map(ConcreteValue::Scalar))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Region;

    #[test]
    fn reads_only_written_bytes() {
        let mut s = StackSnapshot::empty();
        assert_eq!(s.byte(-1), None);
        for (k, off) in (-8i64..0).enumerate() {
            let i = (off + STACK_SIZE) as usize;
            s.bytes[i] = k as u8 + 1;
            s.init[i] = true;
        }
        assert_eq!(s.byte(-8), Some(1));
        assert_eq!(s.read_le(-8, 2), Some(0x0201));
        assert_eq!(s.read_le(-8, 8), Some(0x0807_0605_0403_0201));
        assert_eq!(s.read_le(-9, 2), None, "fp-9 was never written");
        assert_eq!(s.byte(0), None, "outside the frame");
        assert_eq!(s.byte(-513), None);
        assert_eq!(s.load8(-8), Some(ConcreteValue::Scalar(0x0807_0605_0403_0201)));
        let p = ConcreteValue::Ptr { region: Region::Packet, off: 4 };
        s.spills.push((-8, p));
        assert_eq!(s.load8(-8), Some(p));
        assert_eq!(s.spilled_ptr(-16), None);
    }
}
