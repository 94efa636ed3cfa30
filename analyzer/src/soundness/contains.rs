//! Containment of a concrete register file in an abstract state: the core question of soundness
//! testing, "is what the interpreter saw at this pc one of the states the analysis allows there?".
//!
//! Register by register (the innermost frame's R0-R10 against the abstract state's current frame):
//! - `NotInit` contains anything: the analysis forgets dead registers (liveness sets them to
//!   `NOT_INIT` at block entries), so only a concrete *read* of such a register would be a bug,
//!   and the verifier reports that read as `R%d !read_ok` itself.
//! - `Unknown` contains every initialised value.
//! - `Scalar(s)` contains `Scalar(v)` when `s.contains(v)` (every component: tnum, u64, s64, u32,
//!   s32 bounds).
//! - `Ptr(p)` contains `Ptr { region, off }` when the region matches the pointer kind (see
//!   [`kind_matches`]) and the variable part of the offset, `off - p.off`, is in `p.var`. The
//!   interpreter's offsets follow the analysis' conventions: stack offsets are relative to the
//!   frame's R10 (`fp-8` is `off = -8`), packet offsets to `data`, every other region's to its
//!   start. A packet pointer with a proven range `r` (the state's `pkt_ranges` for its id) also
//!   asserts that `r` bytes past its variable part are in the packet: `off - p.off + r <= len`.
//!   NULL (`Scalar(0)`) is contained when `p.maybe_null`.
//!
//! Stack contents, frame by frame (abstract `frames[i].stack` against the run's frame `i`,
//! [`stack_mismatches`]), slot by slot for the slots the abstract state knows something about:
//! - a spilled register (`StackSlot::Spill`) contains the 8-byte value a fill would give (the
//!   spilled pointer, else the written bytes), under the register rules above; all 8 bytes must
//!   have been written (a spill of `NOT_INIT` claims nothing);
//! - a narrow spill (`StackSlot::Narrow`) contains the little-endian number in its `size` bytes
//!   at `at`, and its byte view is checked as below;
//! - byte-wise: `Invalid` (`?`) contains anything, `Misc` (`m`) needs a byte that was written,
//!   `Zero` (`0`) a written zero.
//!
//! A concrete pointer is contained in a scalar when its address (the interpreter's fake address)
//! is one of the scalar's values: the analysis turns released references and pointers read back
//! from map values into unknown scalars, as the kernel does for root.
//!
//! Known approximations (never reported): in tracing/LSM/struct_ops programs the interpreter turns
//! every 8-byte ctx load into a kernel object pointer even where the argument is a scalar, so a
//! `Region::Kernel` pointer is accepted against an abstract scalar; map indices past the object's
//! maps are the analysis' inner maps of map-in-maps, matched against any map value.

use crate::exec::{range_key, STALE_ID};
use crate::interp::{ConcreteValue, Region, StackSnapshot};
use crate::state::stack::{StackByte, StackSlot};
use crate::state::{AbsState, Ptr, PtrKind, RegState};
use std::fmt;

/// What the check needs to know about the concrete run besides the registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcreteContext {
    /// Length of the run's packet (`data_end - data`).
    pub packet_len: u64,
    /// Number of maps of the object (`Object::maps.len()`); abstract map indices at or past it
    /// are inner maps of map-in-maps.
    pub object_maps: usize,
}

/// Why a concrete register file is not inside an abstract state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The first register that is not contained; `None` when the frame depths differ or the
    /// mismatch is on the stack.
    pub reg: Option<u8>,
    /// The stack byte (frame depth, frame offset of the slot or byte) that is not contained.
    pub stack: Option<(u8, i64)>,
    /// The concrete value (interpreter notation: `0x2a`, `pkt+14`, `fp0-8`).
    pub concrete: String,
    /// The abstract value (`RegState`'s debug form) or depth.
    pub abstract_: String,
    pub reason: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.reg, self.stack) {
            (Some(r), _) => write!(f, "R{r}: concrete {} not in {}: {}", self.concrete, self.abstract_, self.reason),
            (None, Some((frame, off))) => {
                write!(f, "fp{frame}{off}: concrete {} not in {}: {}", self.concrete, self.abstract_, self.reason)
            }
            (None, None) => write!(f, "{}: concrete {} vs abstract {}", self.reason, self.concrete, self.abstract_),
        }
    }
}

/// Is the concrete register file `regs` of a frame at call depth `depth` inside `abs`?
/// `Err` names the first register (in R0..R10 order) that is not.
pub fn contains(abs: &AbsState, depth: usize, regs: &[ConcreteValue; 11], cx: &ConcreteContext) -> Result<(), Mismatch> {
    match mismatches(abs, depth, regs, cx).into_iter().next() {
        Some(m) => Err(m),
        None => Ok(()),
    }
}

/// Every register of `regs` not inside `abs` (one entry with `reg: None` when depths differ).
pub fn mismatches(abs: &AbsState, depth: usize, regs: &[ConcreteValue; 11], cx: &ConcreteContext) -> Vec<Mismatch> {
    if abs.depth() != depth {
        return vec![Mismatch {
            reg: None,
            stack: None,
            concrete: format!("frame depth {depth}"),
            abstract_: format!("frame depth {}", abs.depth()),
            reason: "call depths differ".to_string(),
        }];
    }
    let Some(frame) = abs.frames.last() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, (a, c)) in frame.regs.iter().zip(regs.iter()).enumerate() {
        if let Err(reason) = reg_contains(abs, a, *c, cx) {
            out.push(Mismatch {
                reg: Some(i as u8),
                stack: None,
                concrete: c.to_string(),
                abstract_: format!("{a:?}"),
                reason,
            });
        }
    }
    out
}

/// Every stack slot of `abs`'s frames whose concrete contents (`stacks`, outermost frame first,
/// as `TraceStep::stacks` records them) are not inside it. Frames missing on either side are
/// skipped (the register check reports differing depths).
pub fn stack_mismatches(abs: &AbsState, stacks: &[StackSnapshot], cx: &ConcreteContext) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (depth, (frame, snap)) in abs.frames.iter().zip(stacks.iter()).enumerate() {
        for (idx, slot) in frame.stack.slots.iter() {
            let base = i64::from(*idx) * 8;
            if let Err((off, concrete, reason)) = slot_contains(abs, slot, snap, base, cx) {
                out.push(Mismatch {
                    reg: None,
                    stack: Some((depth as u8, off)),
                    concrete,
                    abstract_: format!("{slot:?}"),
                    reason,
                });
            }
        }
    }
    out
}

/// Is the concrete frame `snap` inside the abstract slot `slot` whose byte 0 is at `base`?
/// `Err((offset, concrete value, reason))`.
fn slot_contains(
    abs: &AbsState,
    slot: &StackSlot,
    snap: &StackSnapshot,
    base: i64,
    cx: &ConcreteContext,
) -> Result<(), (i64, String, String)> {
    match slot {
        StackSlot::Spill(RegState::NotInit) => Ok(()),
        StackSlot::Spill(r) => match snap.load8(base) {
            Some(v) => reg_contains(abs, r, v, cx).map_err(|reason| (base, v.to_string(), format!("spilled register: {reason}"))),
            None => Err((base, "bytes never written".to_string(), "a spilled register's bytes were never written".to_string())),
        },
        StackSlot::Narrow { value, at, size, bytes } => {
            bytes_contain(bytes, snap, base)?;
            let off = base + i64::from(*at);
            match snap.read_le(off, u32::from(*size)) {
                Some(x) if value.contains(x) => Ok(()),
                Some(x) => Err((off, format!("{x:#x}"), format!("outside the {size}-byte spilled scalar"))),
                None => Err((off, "bytes never written".to_string(), "a narrow spill's bytes were never written".to_string())),
            }
        }
        StackSlot::Bytes(bytes) => bytes_contain(bytes, snap, base),
    }
}

/// Byte-wise containment: `Misc` needs a written byte, `Zero` a written zero.
fn bytes_contain(bytes: &[StackByte; 8], snap: &StackSnapshot, base: i64) -> Result<(), (i64, String, String)> {
    for (k, b) in bytes.iter().enumerate() {
        let off = base + k as i64;
        let c = snap.byte(off);
        let ok = match b {
            StackByte::Invalid => true,
            StackByte::Misc => c.is_some(),
            StackByte::Zero => c == Some(0),
        };
        if !ok {
            let concrete = c.map_or_else(|| "never written".to_string(), |x| format!("{x:#04x}"));
            return Err((off, concrete, format!("byte '{}'", b.letter())));
        }
    }
    Ok(())
}

/// Is the concrete value `v` inside the abstract register `a` (of state `abs`)?
pub fn reg_contains(abs: &AbsState, a: &RegState, v: ConcreteValue, cx: &ConcreteContext) -> Result<(), String> {
    match (a, v) {
        (RegState::NotInit, _) => Ok(()),
        (_, ConcreteValue::Uninit) => Err("uninitialised register, but the analysis has a value".to_string()),
        (RegState::Unknown, _) => Ok(()),
        (RegState::Scalar(s), ConcreteValue::Scalar(x)) => {
            if s.contains(x) {
                Ok(())
            } else {
                Err(format!("{x:#x} is outside the scalar's bounds"))
            }
        }
        (RegState::Scalar(_), ConcreteValue::Ptr { region: Region::Kernel { .. }, .. }) => Ok(()),
        // A pointer the analysis sees as a number (a released reference, a pointer read back from
        // a map value): contained when its address is one of the scalar's values.
        (RegState::Scalar(s), p @ ConcreteValue::Ptr { .. }) => match p.as_u64(cx.packet_len) {
            Some(addr) if s.contains(addr) => Ok(()),
            _ => Err("a pointer where the analysis has a scalar".to_string()),
        },
        (RegState::Ptr(p), ConcreteValue::Scalar(0)) if p.maybe_null => Ok(()),
        (RegState::Ptr(p), ConcreteValue::Scalar(x)) => Err(if x == 0 {
            "NULL where the analysis has a non-NULL pointer".to_string()
        } else {
            format!("a scalar where the analysis has a {:?} pointer", p.kind)
        }),
        (RegState::Ptr(p), ConcreteValue::Ptr { region, off }) => ptr_contains(abs, p, region, off, cx),
    }
}

fn ptr_contains(abs: &AbsState, p: &Ptr, region: Region, off: i64, cx: &ConcreteContext) -> Result<(), String> {
    if !kind_matches(p.kind, region, cx) {
        return Err(format!("points into {region}, the analysis has {:?}", p.kind));
    }
    let var = off.wrapping_sub(i64::from(p.off));
    if !p.var.contains(var as u64) {
        return Err(format!("variable offset {var} (off {off} - fixed {}) outside {}", p.off, p.var));
    }
    if p.kind == PtrKind::Pkt && p.id != STALE_ID {
        let range = i64::from(abs.pkt_range(range_key(p)));
        let len = i64::try_from(cx.packet_len).unwrap_or(i64::MAX);
        if range > 0 && var.saturating_add(range) > len {
            return Err(format!("proven packet range r={range} past the packet end (variable offset {var}, len {len})"));
        }
    }
    Ok(())
}

/// Whether a concrete region is one the abstract pointer kind describes.
pub fn kind_matches(kind: PtrKind, region: Region, cx: &ConcreteContext) -> bool {
    let same_map = |abs_map: u32, map: u32| abs_map == map || abs_map as usize >= cx.object_maps;
    match (kind, region) {
        (PtrKind::Ctx, Region::Ctx) => true,
        (PtrKind::Stack { frame: a }, Region::Stack { frame: b }) => a == b,
        (PtrKind::MapPtr { map: a }, Region::Map { map: b }) => same_map(a, b),
        (PtrKind::MapValue { map: a }, Region::MapValue { map: b, .. }) => same_map(a, b),
        // Callback key buffers: the interpreter hands out the key wherever it keeps it.
        (PtrKind::MapKey { .. }, r) => r.dereferenceable(),
        (PtrKind::Pkt | PtrKind::PktMeta, Region::Packet) => true,
        (PtrKind::PktEnd, Region::PacketEnd) => true,
        (PtrKind::Mem { .. }, Region::Mem { .. }) => true,
        (
            PtrKind::Socket | PtrKind::SockCommon | PtrKind::TcpSock | PtrKind::BtfId | PtrKind::FlowKeys,
            Region::Kernel { .. },
        ) => true,
        (PtrKind::Func { pc: a }, Region::Func { pc: b }) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Frame;
    use lattices::Scalar;

    const CX: ConcreteContext = ConcreteContext { packet_len: 20, object_maps: 1 };

    fn regs() -> [ConcreteValue; 11] {
        let mut r = [ConcreteValue::Uninit; 11];
        r[1] = ConcreteValue::Ptr { region: Region::Ctx, off: 0 };
        r[10] = ConcreteValue::Ptr { region: Region::Stack { frame: 0 }, off: 0 };
        r
    }

    #[test]
    fn entry_state_contains_the_entry_registers() {
        let s = AbsState::entry();
        assert_eq!(contains(&s, 0, &regs(), &CX), Ok(()));
        let err = contains(&s, 1, &regs(), &CX).expect_err("depth differs");
        assert_eq!(err.reg, None);
        let mut bad = regs();
        bad[10] = ConcreteValue::Ptr { region: Region::Stack { frame: 1 }, off: 0 };
        assert_eq!(contains(&s, 0, &bad, &CX).map_err(|m| m.reg), Err(Some(10)));
    }

    #[test]
    fn scalars_are_checked_against_every_bound() {
        let s = AbsState::entry();
        let a = RegState::Scalar(Scalar::constant(5));
        assert!(reg_contains(&s, &a, ConcreteValue::Scalar(5), &CX).is_ok());
        assert!(reg_contains(&s, &a, ConcreteValue::Scalar(6), &CX).is_err());
        assert!(reg_contains(&s, &a, ConcreteValue::Uninit, &CX).is_err());
        assert!(reg_contains(&s, &RegState::NotInit, ConcreteValue::Scalar(6), &CX).is_ok());
        assert!(reg_contains(&s, &RegState::Unknown, ConcreteValue::Scalar(6), &CX).is_ok());
        assert!(reg_contains(&s, &RegState::Unknown, ConcreteValue::Uninit, &CX).is_err());
        let ptr = ConcreteValue::Ptr { region: Region::Packet, off: 0 };
        assert!(reg_contains(&s, &RegState::constant(0), ptr, &CX).is_err());
        assert!(reg_contains(&s, &RegState::unknown_scalar(), ptr, &CX).is_ok(), "an unknown scalar holds any address");
        let kobj = ConcreteValue::Ptr { region: Region::Kernel { id: 1 }, off: 0 };
        assert!(reg_contains(&s, &RegState::unknown_scalar(), kobj, &CX).is_ok());
    }

    #[test]
    fn pointers_match_kind_offset_nullness_and_packet_range() {
        let mut s = AbsState::entry();
        let mut mv = Ptr::new(PtrKind::MapValue { map: 0 });
        mv.maybe_null = true;
        mv.off = 4;
        let v = |off| ConcreteValue::Ptr { region: Region::MapValue { map: 0, entry: 3 }, off };
        assert!(reg_contains(&s, &RegState::Ptr(mv), v(4), &CX).is_ok());
        assert!(reg_contains(&s, &RegState::Ptr(mv), v(5), &CX).is_err());
        assert!(reg_contains(&s, &RegState::Ptr(mv), ConcreteValue::Scalar(0), &CX).is_ok());
        mv.maybe_null = false;
        assert!(reg_contains(&s, &RegState::Ptr(mv), ConcreteValue::Scalar(0), &CX).is_err());
        let other_map = ConcreteValue::Ptr { region: Region::MapValue { map: 1, entry: 0 }, off: 4 };
        assert!(reg_contains(&s, &RegState::Ptr(mv), other_map, &CX).is_err());
        // A variable offset in [0, 8].
        mv.var = Scalar::from_urange(0, 8);
        assert!(reg_contains(&s, &RegState::Ptr(mv), v(12), &CX).is_ok());
        assert!(reg_contains(&s, &RegState::Ptr(mv), v(13), &CX).is_err());
        // Packet pointer with id 0 and proven range 14: needs 14 bytes of packet.
        let mut pkt = Ptr::new(PtrKind::Pkt);
        pkt.off = 2;
        s.pkt_ranges.insert(0, 14);
        let at = |off| ConcreteValue::Ptr { region: Region::Packet, off };
        assert!(reg_contains(&s, &RegState::Ptr(pkt), at(2), &CX).is_ok());
        let short = ConcreteContext { packet_len: 10, ..CX };
        assert!(reg_contains(&s, &RegState::Ptr(pkt), at(2), &short).is_err());
        assert!(reg_contains(&s, &RegState::Ptr(pkt), at(3), &CX).is_err());
        let end = ConcreteValue::Ptr { region: Region::PacketEnd, off: 0 };
        assert!(reg_contains(&s, &RegState::ptr(PtrKind::PktEnd), end, &CX).is_ok());
        assert!(reg_contains(&s, &RegState::Ptr(pkt), end, &CX).is_err());
        // Inner maps (index past the object's maps) match any map value.
        let inner = RegState::ptr(PtrKind::MapValue { map: 5 });
        assert!(reg_contains(&s, &inner, other_map.clone_with_off(0), &CX).is_ok());
        // Frames are compared by depth.
        s.frames.push(Frame::new(1));
        let mut r = regs();
        r[1] = ConcreteValue::Uninit;
        r[10] = ConcreteValue::Ptr { region: Region::Stack { frame: 1 }, off: 0 };
        assert_eq!(contains(&s, 1, &r, &CX), Ok(()));
    }

    /// A snapshot with `bytes` written from frame offset `off`.
    fn written(off: i64, bytes: &[u8]) -> StackSnapshot {
        let mut s = StackSnapshot::empty();
        s.write_for_test(off, bytes);
        s
    }

    #[test]
    fn stack_slots_are_checked_byte_spill_and_narrow() {
        use crate::state::stack::{StackByte, StackSlot};
        let mut s = AbsState::entry();
        // Nothing known: any contents, even unwritten.
        assert!(stack_mismatches(&s, &[StackSnapshot::empty()], &CX).is_empty());
        // fp-8 spilled constant 5.
        s.frames[0].stack.slots.insert(-1, StackSlot::Spill(RegState::constant(5)));
        assert!(stack_mismatches(&s, &[written(-8, &5u64.to_le_bytes())], &CX).is_empty());
        let m = stack_mismatches(&s, &[written(-8, &6u64.to_le_bytes())], &CX);
        assert_eq!(m.first().map(|m| m.stack), Some(Some((0, -8))));
        assert_eq!(stack_mismatches(&s, &[StackSnapshot::empty()], &CX).len(), 1, "a spill never written");
        // A spilled packet pointer: the spill table's pointer is what is checked.
        s.frames[0].stack.slots.insert(-1, StackSlot::Spill(RegState::ptr(PtrKind::Pkt)));
        let mut snap = written(-8, &[0; 8]);
        assert_eq!(stack_mismatches(&s, &[snap.clone()], &CX).len(), 1, "a scalar where a pointer was spilled");
        snap.spills.push((-8, ConcreteValue::Ptr { region: Region::Packet, off: 0 }));
        assert!(stack_mismatches(&s, &[snap], &CX).is_empty());
        // Byte-wise: fp-16 is 'm' at -16, '0' at -15, '?' elsewhere.
        s.frames[0].stack.slots.remove(&-1);
        let mut b = [StackByte::Invalid; 8];
        b[0] = StackByte::Misc;
        b[1] = StackByte::Zero;
        s.frames[0].stack.slots.insert(-2, StackSlot::Bytes(b));
        assert!(stack_mismatches(&s, &[written(-16, &[9, 0])], &CX).is_empty());
        assert_eq!(stack_mismatches(&s, &[written(-16, &[9, 1])], &CX).first().and_then(|m| m.stack), Some((0, -15)));
        assert_eq!(stack_mismatches(&s, &[written(-15, &[0])], &CX).first().and_then(|m| m.stack), Some((0, -16)));
        // A narrow spill of a u8 in [0, 3] at byte 2 of fp-24.
        let mut nb = [StackByte::Invalid; 8];
        nb[2] = StackByte::Misc;
        let value = Scalar::from_urange(0, 3);
        s.frames[0].stack.slots.insert(-3, StackSlot::Narrow { value, at: 2, size: 1, bytes: nb });
        let ok = written(-16, &[9, 0]);
        let mut ok2 = ok.clone();
        ok2.write_for_test(-22, &[3]);
        assert!(stack_mismatches(&s, &[ok2], &CX).is_empty());
        let mut bad = ok.clone();
        bad.write_for_test(-22, &[4]);
        assert_eq!(stack_mismatches(&s, &[bad], &CX).first().and_then(|m| m.stack), Some((0, -22)));
    }

    trait WithOff {
        fn clone_with_off(self, off: i64) -> ConcreteValue;
    }

    impl WithOff for ConcreteValue {
        fn clone_with_off(self, off: i64) -> ConcreteValue {
            match self {
                ConcreteValue::Ptr { region, .. } => ConcreteValue::Ptr { region, off },
                v => v,
            }
        }
    }
}
