//! Concrete register values and the memory regions pointers point into.
//!
//! A pointer is a `(region, off)` pair, never a number: dereferencing it checks `off` against the
//! region's bounds, and comparisons or arithmetic that are not `ptr +/- scalar` go through the
//! pointer's *fake address* ([`Region::base`] + `off`), a fixed, non-zero, kernel-looking number.
//! So `if r0 == 0` on a pointer is false, `pkt + 14 > pkt_end` compares offsets, and any other ALU
//! on a pointer yields an opaque scalar (deterministic, but meaningless).
//!
//! Offsets: stack pointers are relative to the frame pointer (`R10` is `off = 0`, valid bytes are
//! `-512..0`), every other region's offsets start at 0. `data_end` is `Ptr { PacketEnd, off: 0 }`,
//! whose fake address equals that of `Ptr { Packet, off: len }`.

use std::fmt;

/// Size of one stack frame in bytes (`MAX_BPF_STACK`).
pub const STACK_SIZE: i64 = 512;

/// What a pointer points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Region {
    /// The program's context (`PTR_TO_CTX`), `ConcreteInput::ctx` bytes.
    Ctx,
    /// Packet data (`PTR_TO_PACKET`, and `data_meta`, which equals `data`: no metadata is modelled).
    Packet,
    /// One past the packet (`PTR_TO_PACKET_END`): comparable, never dereferenceable.
    PacketEnd,
    /// A stack frame (`PTR_TO_STACK`) by call depth (0 = main program).
    Stack { frame: u8 },
    /// The value buffer of one map entry (`PTR_TO_MAP_VALUE`); `entry` numbers the map's entries
    /// in creation order.
    MapValue { map: u32, entry: u32 },
    /// A map itself (`CONST_PTR_TO_MAP`), by index into the program's maps: read-only garbage
    /// (`struct bpf_map` fields).
    Map { map: u32 },
    /// Memory handed out by a helper (`PTR_TO_MEM`, e.g. a ringbuf record), by allocation id.
    Mem { id: u32 },
    /// The address of a subprogram (`LD_IMM64` with `BPF_PSEUDO_FUNC`): not dereferenceable.
    Func { pc: u32 },
    /// An opaque kernel object (socket, BTF-typed pointer, xsk): 4096 bytes of garbage, whose 8-byte
    /// fields point to further kernel objects.
    Kernel { id: u32 },
}

impl Region {
    /// The fake address of offset 0 of this region; `packet_len` places [`Region::PacketEnd`].
    pub fn base(self, packet_len: u64) -> u64 {
        const PACKET: u64 = 0xffff_8880_0200_0100;
        match self {
            Region::Ctx => 0xffff_8880_0100_0000,
            Region::Packet => PACKET,
            Region::PacketEnd => PACKET.wrapping_add(packet_len),
            Region::Stack { frame } => 0xffff_c900_0000_0000u64.wrapping_add((u64::from(frame) + 1) << 16),
            Region::MapValue { map, entry } => {
                0xffff_a000_0000_0000u64.wrapping_add(u64::from(map) << 36).wrapping_add(u64::from(entry) << 21)
            }
            Region::Map { map } => 0xffff_9000_0000_0000u64.wrapping_add(u64::from(map) << 12),
            Region::Mem { id } => 0xffff_b000_0000_0000u64.wrapping_add(u64::from(id) << 21),
            Region::Func { pc } => 0xffff_ffff_a000_0000u64.wrapping_add(u64::from(pc) << 3),
            Region::Kernel { id } => 0xffff_8890_0000_0000u64.wrapping_add(u64::from(id) << 12),
        }
    }

    /// Whether loads and stores through a pointer into this region are possible at all.
    pub fn dereferenceable(self) -> bool {
        matches!(
            self,
            Region::Ctx
                | Region::Packet
                | Region::Stack { .. }
                | Region::MapValue { .. }
                | Region::Mem { .. }
                | Region::Kernel { .. }
                | Region::Map { .. }
        )
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Region::Ctx => write!(f, "ctx"),
            Region::Packet => write!(f, "pkt"),
            Region::PacketEnd => write!(f, "pkt_end"),
            Region::Stack { frame } => write!(f, "fp{frame}"),
            Region::MapValue { map, entry } => write!(f, "map_value(map={map},entry={entry})"),
            Region::Map { map } => write!(f, "map_ptr(map={map})"),
            Region::Mem { id } => write!(f, "mem(id={id})"),
            Region::Func { pc } => write!(f, "func(pc={pc})"),
            Region::Kernel { id } => write!(f, "kernel_obj(id={id})"),
        }
    }
}

/// The concrete content of a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConcreteValue {
    /// Never written (or clobbered by a call): reading it is a fault (`R%d !read_ok`).
    Uninit,
    /// A number. NULL is `Scalar(0)`.
    Scalar(u64),
    /// A pointer: `off` bytes from the start of `region` (from the frame pointer for stacks).
    Ptr { region: Region, off: i64 },
}

impl ConcreteValue {
    /// The number this value compares and computes as: the scalar itself, or the pointer's fake
    /// address; `None` when uninitialised.
    pub fn as_u64(self, packet_len: u64) -> Option<u64> {
        match self {
            ConcreteValue::Uninit => None,
            ConcreteValue::Scalar(v) => Some(v),
            ConcreteValue::Ptr { region, off } => Some(region.base(packet_len).wrapping_add(off as u64)),
        }
    }

    /// True for `Ptr`.
    pub fn is_ptr(self) -> bool {
        matches!(self, ConcreteValue::Ptr { .. })
    }
}

impl fmt::Display for ConcreteValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConcreteValue::Uninit => write!(f, "?"),
            ConcreteValue::Scalar(v) => write!(f, "{v:#x}"),
            ConcreteValue::Ptr { region, off } => write!(f, "{region}{off:+}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_addresses_are_nonzero_and_ordered_within_a_region() {
        let a = ConcreteValue::Ptr { region: Region::Packet, off: 3 };
        let b = ConcreteValue::Ptr { region: Region::Packet, off: 10 };
        let end = ConcreteValue::Ptr { region: Region::PacketEnd, off: 0 };
        let (a, b, end) = (a.as_u64(10), b.as_u64(10), end.as_u64(10));
        assert!(a < b);
        assert_eq!(b, end);
        assert_ne!(a, Some(0));
        assert_eq!(ConcreteValue::Uninit.as_u64(0), None);
        assert_eq!(format!("{}", ConcreteValue::Ptr { region: Region::Stack { frame: 0 }, off: -8 }), "fp0-8");
    }
}
