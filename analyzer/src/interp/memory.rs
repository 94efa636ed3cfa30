//! The interpreter's memory: separate, bounds-checked regions, byte-addressed, little-endian.
//!
//! Every region is a byte vector; stacks also track which bytes were ever written, so reading
//! uninitialised stack is a fault when `allow_uninit_stack` is off (an unprivileged loader); as root
//! the kernel allows it and the read yields the frame's initial garbage (random bytes from the seed).
//! Kernel objects (sockets, BTF-typed pointers) are 4096 bytes of random garbage, readable and
//! writable (struct_ops may write some fields; the interpreter errs on the permissive side), and an
//! 8-byte load from one yields a pointer to another kernel object (the same one for the same field),
//! so BTF pointer chains (`task->mm->...`) can be walked. Map pointers read the same way (the
//! kernel lets programs read `struct bpf_map` fields) but cannot be written. A pointer stored with an 8-byte store is
//! remembered (the *spill table*, keyed by region and offset) so that an 8-byte load of the same
//! bytes gives the pointer back; the bytes themselves hold its fake address, so any other load of
//! them reads an opaque number, and any store overlapping them forgets the pointer.

use super::maps::Maps;
use super::outcome::{Fault, FaultKind};
use super::snapshot::StackSnapshot;
use super::value::{ConcreteValue, Region, STACK_SIZE};
use crate::gen::Rng;
use std::collections::BTreeMap;

/// Bound on the bytes of helper memory (ringbuf records, ...) allocated in one run.
const MAX_MEM_BYTES: usize = 1 << 22;

/// One stack frame's bytes.
#[derive(Clone, Debug)]
pub(crate) struct StackMem {
    bytes: Vec<u8>,
    init: Vec<bool>,
}

impl StackMem {
    fn new(garbage: Vec<u8>) -> StackMem {
        StackMem { bytes: garbage, init: vec![false; STACK_SIZE as usize] }
    }
}

/// Readable size of an opaque kernel object.
const KERNEL_OBJ_SIZE: usize = 4096;

/// Memory handed out by a helper.
#[derive(Clone, Debug)]
pub(crate) struct MemBuf {
    pub(crate) bytes: Vec<u8>,
    /// False once submitted/discarded.
    pub(crate) live: bool,
}

/// All regions of one run.
#[derive(Clone, Debug)]
pub(crate) struct Memory {
    pub(crate) ctx: Vec<u8>,
    pub(crate) packet: Vec<u8>,
    /// Active stack frames, by depth.
    stacks: Vec<StackMem>,
    pub(crate) maps: Maps,
    pub(crate) mems: Vec<MemBuf>,
    mem_bytes: usize,
    spills: BTreeMap<(Region, i64), ConcreteValue>,
    /// Contents of kernel objects and maps read so far, and the released kernel objects.
    objects: BTreeMap<Region, Vec<u8>>,
    /// The kernel object an 8-byte field of an object (or of a BTF-typed ctx) points to.
    children: BTreeMap<(Region, i64), u32>,
    next_kernel_id: u32,
    pub(crate) released_kernel: std::collections::BTreeSet<u32>,
    allow_uninit_stack: bool,
    rng: Rng,
    /// Bumped by every change of a stack frame (bytes, spills, frames pushed or popped).
    pub(crate) stack_version: u64,
}

/// Where an access lands: region and byte offset (relative to the frame pointer for stacks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Addr {
    pub(crate) region: Region,
    pub(crate) off: i64,
}

impl Memory {
    /// Memory for one run; `seed` draws the stacks' and kernel objects' initial garbage.
    pub(crate) fn new(ctx: Vec<u8>, packet: Vec<u8>, maps: Maps, seed: u64, allow_uninit_stack: bool) -> Memory {
        let mut rng = Rng::new(seed ^ 0x5eed_57ac);
        let stacks = vec![StackMem::new(rng.bytes(STACK_SIZE as usize))];
        Memory {
            ctx,
            packet,
            stacks,
            maps,
            mems: Vec::new(),
            mem_bytes: 0,
            spills: BTreeMap::new(),
            objects: BTreeMap::new(),
            children: BTreeMap::new(),
            next_kernel_id: 0,
            released_kernel: Default::default(),
            allow_uninit_stack,
            rng,
            stack_version: 0,
        }
    }

    /// A fresh stack frame for a call.
    pub(crate) fn push_frame(&mut self) {
        let garbage = self.rng.bytes(STACK_SIZE as usize);
        self.stacks.push(StackMem::new(garbage));
        self.stack_version += 1;
    }

    /// Drops the innermost frame and the pointers spilled into it.
    pub(crate) fn pop_frame(&mut self) {
        if let Some(frame) = self.stacks.len().checked_sub(1) {
            self.stacks.pop();
            self.stack_version += 1;
            let region = Region::Stack { frame: frame as u8 };
            self.spills.retain(|(r, _), _| *r != region);
        }
    }

    /// A fresh kernel object id.
    pub(crate) fn fresh_kernel_id(&mut self) -> u32 {
        self.next_kernel_id = self.next_kernel_id.wrapping_add(1);
        self.next_kernel_id
    }

    /// The kernel object the 8-byte field at `off` of `parent` points to (created on first use).
    pub(crate) fn child_object(&mut self, parent: Region, off: i64) -> ConcreteValue {
        let id = match self.children.get(&(parent, off)) {
            Some(id) => *id,
            None => {
                let id = self.fresh_kernel_id();
                self.children.insert((parent, off), id);
                id
            }
        };
        ConcreteValue::Ptr { region: Region::Kernel { id }, off: 0 }
    }

    /// Allocates helper memory of `size` bytes (zeroed); `None` when over the interpreter's budget.
    pub(crate) fn alloc(&mut self, size: usize) -> Option<u32> {
        if self.mem_bytes + size > MAX_MEM_BYTES || self.mems.len() >= u32::MAX as usize {
            return None;
        }
        self.mem_bytes += size;
        self.mems.push(MemBuf { bytes: vec![0; size], live: true });
        Some((self.mems.len() - 1) as u32)
    }

    /// Forgets spilled packet pointers (after a helper that changes packet data).
    pub(crate) fn forget_packet_spills(&mut self) {
        self.stack_version += 1;
        self.spills.retain(|_, v| !matches!(v, ConcreteValue::Ptr { region: Region::Packet | Region::PacketEnd, .. }));
    }

    /// Every active frame's stack contents, outermost first.
    pub(crate) fn stack_snapshots(&self) -> Vec<StackSnapshot> {
        self.stacks
            .iter()
            .enumerate()
            .map(|(frame, st)| {
                let region = Region::Stack { frame: frame as u8 };
                StackSnapshot {
                    bytes: st.bytes.clone(),
                    init: st.init.clone(),
                    spills: self.spills.range((region, i64::MIN)..=(region, i64::MAX)).map(|((_, o), v)| (*o, *v)).collect(),
                }
            })
            .collect()
    }

    /// The address `ptr + off`, or the fault of dereferencing `ptr`.
    pub(crate) fn addr(&self, ptr: ConcreteValue, off: i64, reg: u8) -> Result<Addr, Fault> {
        match ptr {
            ConcreteValue::Uninit => Err(Fault::new(FaultKind::UninitRegister, format!("R{reg} !read_ok"))),
            ConcreteValue::Scalar(0) => {
                Err(Fault::new(FaultKind::NullDeref, format!("R{reg} invalid mem access 'scalar' (NULL)")))
            }
            ConcreteValue::Scalar(_) => {
                Err(Fault::new(FaultKind::ScalarDeref, format!("R{reg} invalid mem access 'scalar'")))
            }
            ConcreteValue::Ptr { region, off: base } => {
                if !region.dereferenceable() {
                    return Err(Fault::new(FaultKind::BadPointer, format!("R{reg} invalid mem access '{region}'")));
                }
                let off = base
                    .checked_add(off)
                    .ok_or_else(|| Fault::new(FaultKind::OutOfBounds, format!("R{reg} offset overflow")))?;
                Ok(Addr { region, off })
            }
        }
    }

    /// The bytes `[a.off, a.off + len)`, checked: bounds, liveness, and (`read`) stack initialisation.
    fn span(&mut self, a: Addr, len: u64, read: bool, write: bool) -> Result<&mut [u8], Fault> {
        let oob = |what: &str, size: String| {
            Fault::new(FaultKind::OutOfBounds, format!("invalid access to {what}, {size} off={} size={len}", a.off))
        };
        let len_i = i64::try_from(len).map_err(|_| oob("memory", String::new()))?;
        let end = a.off.checked_add(len_i).ok_or_else(|| oob("memory", String::new()))?;
        let (buf, start): (&mut [u8], i64) = match a.region {
            Region::Ctx => {
                let n = self.ctx.len();
                if a.off < 0 || end > n as i64 {
                    return Err(Fault::new(
                        FaultKind::OutOfBounds,
                        format!("invalid bpf_context access off={} size={len}", a.off),
                    ));
                }
                (&mut self.ctx[..], 0)
            }
            Region::Packet => {
                let n = self.packet.len();
                if a.off < 0 || end > n as i64 {
                    return Err(oob("packet", format!("len={n}")));
                }
                (&mut self.packet[..], 0)
            }
            Region::Stack { frame } => {
                let Some(st) = self.stacks.get_mut(frame as usize) else {
                    return Err(Fault::new(FaultKind::StaleStack, format!("access to returned stack frame {frame}")));
                };
                if a.off < -STACK_SIZE || end > 0 {
                    return Err(Fault::new(FaultKind::OutOfBounds, format!("invalid stack off={} size={len}", a.off)));
                }
                let lo = (a.off + STACK_SIZE) as usize;
                let hi = (end + STACK_SIZE) as usize;
                if read && !self.allow_uninit_stack {
                    if let Some(i) = st.init[lo..hi].iter().position(|b| !b) {
                        return Err(Fault::new(
                            FaultKind::UninitStack,
                            format!("invalid read from stack off {}+{i} size {len}", a.off),
                        ));
                    }
                }
                if write {
                    st.init[lo..hi].iter_mut().for_each(|b| *b = true);
                    self.stack_version += 1;
                }
                (&mut st.bytes[..], -STACK_SIZE)
            }
            Region::MapValue { map, entry } => {
                let (v, ro) = self
                    .maps
                    .value_mut(map, entry)
                    .ok_or_else(|| Fault::new(FaultKind::BadPointer, format!("no entry {entry} in map {map}")))?;
                let n = v.len();
                if a.off < 0 || end > n as i64 {
                    return Err(oob("map value", format!("value_size={n}")));
                }
                if write && ro {
                    return Err(Fault::new(FaultKind::ReadOnly, "write into map forbidden, value is read-only"));
                }
                (&mut v[..], 0)
            }
            Region::Mem { id } => {
                let m = self
                    .mems
                    .get_mut(id as usize)
                    .ok_or_else(|| Fault::new(FaultKind::BadPointer, format!("no memory {id}")))?;
                if !m.live {
                    return Err(Fault::new(FaultKind::UseAfterRelease, format!("access to released memory {id}")));
                }
                let n = m.bytes.len();
                if a.off < 0 || end > n as i64 {
                    return Err(oob("memory", format!("mem_size={n}")));
                }
                (&mut m.bytes[..], 0)
            }
            Region::Kernel { .. } | Region::Map { .. } => {
                if let Region::Kernel { id } = a.region {
                    if self.released_kernel.contains(&id) {
                        return Err(Fault::new(
                            FaultKind::UseAfterRelease,
                            format!("access to released kernel object {id}"),
                        ));
                    }
                }
                if write && matches!(a.region, Region::Map { .. }) {
                    return Err(Fault::new(FaultKind::BadPointer, "cannot write into map_ptr"));
                }
                if a.off < 0 || end > KERNEL_OBJ_SIZE as i64 {
                    return Err(oob("kernel object", format!("size={KERNEL_OBJ_SIZE}")));
                }
                let rng = &mut self.rng;
                (&mut self.objects.entry(a.region).or_insert_with(|| rng.bytes(KERNEL_OBJ_SIZE))[..], 0)
            }
            other => return Err(Fault::new(FaultKind::BadPointer, format!("invalid mem access '{other}'"))),
        };
        let lo = (a.off - start) as usize;
        let hi = (end - start) as usize;
        buf.get_mut(lo..hi).ok_or_else(|| Fault::new(FaultKind::OutOfBounds, "access out of bounds"))
    }

    /// Reads `len` bytes (a helper's memory argument, or the bytes of a load).
    pub(crate) fn read_bytes(&mut self, a: Addr, len: u64) -> Result<Vec<u8>, Fault> {
        self.span(a, len, true, false).map(|s| s.to_vec())
    }

    /// Checks that `len` bytes can be written, without writing them.
    pub(crate) fn check_write(&mut self, a: Addr, len: u64) -> Result<(), Fault> {
        // Probe without marking stack bytes initialised: a failing helper must not initialise.
        let snapshot =
            if let Region::Stack { frame } = a.region { self.stacks.get(frame as usize).cloned() } else { None };
        let r = self.span(a, len, false, true).map(|_| ());
        if let (Some(s), Region::Stack { frame }) = (snapshot, a.region) {
            if let Some(st) = self.stacks.get_mut(frame as usize) {
                *st = s;
            }
        }
        r
    }

    /// Writes bytes (a helper's output, or the bytes of a store), forgetting overlapped pointers.
    pub(crate) fn write_bytes(&mut self, a: Addr, bytes: &[u8]) -> Result<(), Fault> {
        let s = self.span(a, bytes.len() as u64, false, true)?;
        s.copy_from_slice(bytes);
        self.forget_spills(a, bytes.len() as i64);
        Ok(())
    }

    fn forget_spills(&mut self, a: Addr, len: i64) {
        let lo = a.off.saturating_sub(7);
        let hi = a.off.saturating_add(len);
        let dead: Vec<(Region, i64)> = self.spills.range((a.region, lo)..(a.region, hi)).map(|(k, _)| *k).collect();
        for k in dead {
            self.spills.remove(&k);
        }
    }

    /// A load of `size` bytes: a spilled pointer for an 8-byte load of its slot, else the
    /// little-endian number (sign-extended from `size` when `sign_ext`).
    pub(crate) fn load(&mut self, a: Addr, size: u32, sign_ext: bool) -> Result<ConcreteValue, Fault> {
        let bytes = self.read_bytes(a, u64::from(size))?;
        if size == 8 {
            if let Some(p) = self.spills.get(&(a.region, a.off)) {
                return Ok(*p);
            }
            if matches!(a.region, Region::Kernel { .. } | Region::Map { .. }) {
                return Ok(self.child_object(a.region, a.off));
            }
        }
        let mut b = [0u8; 8];
        b[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
        let v = u64::from_le_bytes(b);
        Ok(ConcreteValue::Scalar(if sign_ext { sign_extend(v, size * 8) } else { v }))
    }

    /// A store of the low `size` bytes of `value` (whose number is `bits`); an 8-byte store of a
    /// pointer is remembered in the spill table.
    pub(crate) fn store(&mut self, a: Addr, size: u32, value: ConcreteValue, bits: u64) -> Result<(), Fault> {
        let b = bits.to_le_bytes();
        self.write_bytes(a, &b[..size.min(8) as usize])?;
        if size == 8 && value.is_ptr() {
            self.spills.insert((a.region, a.off), value);
        }
        Ok(())
    }
}

/// Sign-extends the low `bits` bits of `v` to 64 bits.
pub(crate) fn sign_extend(v: u64, bits: u32) -> u64 {
    if bits == 0 || bits >= 64 {
        return v;
    }
    let shift = 64 - bits;
    (((v << shift) as i64) >> shift) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem() -> Memory {
        Memory::new(vec![0; 16], vec![1, 2, 3, 4], Maps::new(&[], &BTreeMap::new()), 0, false)
    }

    #[test]
    fn stack_tracks_initialisation_and_bounds() {
        let mut m = mem();
        let fp = ConcreteValue::Ptr { region: Region::Stack { frame: 0 }, off: 0 };
        let a = m.addr(fp, -8, 10).expect("addr");
        assert_eq!(m.load(a, 4, false).map_err(|f| f.kind), Err(FaultKind::UninitStack));
        m.store(a, 4, ConcreteValue::Scalar(0x80), 0x80).expect("store");
        assert_eq!(m.load(a, 1, true), Ok(ConcreteValue::Scalar(0xffff_ffff_ffff_ff80)));
        assert_eq!(m.load(a, 8, false).map_err(|f| f.kind), Err(FaultKind::UninitStack));
        let hi = m.addr(fp, -4, 10).expect("addr");
        assert_eq!(m.store(hi, 8, ConcreteValue::Scalar(0), 0).map_err(|f| f.kind), Err(FaultKind::OutOfBounds));
        let lo = m.addr(fp, -513, 10).expect("addr");
        assert_eq!(m.load(lo, 1, false).map_err(|f| f.kind), Err(FaultKind::OutOfBounds));
        // As root, uninitialised stack reads give garbage instead of a fault.
        let mut root = Memory::new(vec![], vec![], Maps::new(&[], &BTreeMap::new()), 0, true);
        let a = root.addr(fp, -8, 10).expect("addr");
        assert!(matches!(root.load(a, 8, false), Ok(ConcreteValue::Scalar(_))));
    }

    #[test]
    fn pointer_spills_survive_only_exact_fills() {
        let mut m = mem();
        let fp = ConcreteValue::Ptr { region: Region::Stack { frame: 0 }, off: 0 };
        let p = ConcreteValue::Ptr { region: Region::Packet, off: 2 };
        let a = m.addr(fp, -16, 10).expect("addr");
        m.store(a, 8, p, p.as_u64(4).expect("addr")).expect("store");
        assert_eq!(m.load(a, 8, false), Ok(p));
        assert_eq!(m.load(a, 4, false), Ok(ConcreteValue::Scalar(p.as_u64(4).expect("addr") as u32 as u64)));
        let b = m.addr(fp, -12, 10).expect("addr");
        m.store(b, 1, ConcreteValue::Scalar(0), 0).expect("store");
        assert!(matches!(m.load(a, 8, false), Ok(ConcreteValue::Scalar(_))));
    }

    #[test]
    fn scalar_and_null_derefs_and_stale_frames() {
        let mut m = mem();
        assert_eq!(m.addr(ConcreteValue::Scalar(0), 0, 1).map_err(|f| f.kind), Err(FaultKind::NullDeref));
        assert_eq!(m.addr(ConcreteValue::Scalar(5), 0, 1).map_err(|f| f.kind), Err(FaultKind::ScalarDeref));
        assert_eq!(m.addr(ConcreteValue::Uninit, 0, 1).map_err(|f| f.kind), Err(FaultKind::UninitRegister));
        let obj = m.addr(ConcreteValue::Ptr { region: Region::Kernel { id: 1 }, off: 0 }, 8, 1).expect("addr");
        assert!(matches!(m.load(obj, 4, false), Ok(ConcreteValue::Scalar(_))), "kernel objects are readable");
        let child = m.load(obj, 8, false).expect("8-byte field");
        assert!(matches!(child, ConcreteValue::Ptr { region: Region::Kernel { .. }, off: 0 }));
        assert_eq!(m.load(obj, 8, false), Ok(child), "the same field points to the same object");
        let map = m.addr(ConcreteValue::Ptr { region: Region::Map { map: 0 }, off: 0 }, 0, 1).expect("addr");
        assert_eq!(m.store(map, 4, ConcreteValue::Scalar(0), 0).map_err(|f| f.kind), Err(FaultKind::BadPointer));
        m.released_kernel.insert(1);
        assert_eq!(m.load(obj, 4, false).map_err(|f| f.kind), Err(FaultKind::UseAfterRelease));
        let end = ConcreteValue::Ptr { region: Region::PacketEnd, off: 0 };
        assert_eq!(m.addr(end, -1, 1).map_err(|f| f.kind), Err(FaultKind::BadPointer));
        let stale = m.addr(ConcreteValue::Ptr { region: Region::Stack { frame: 1 }, off: 0 }, -8, 1).expect("addr");
        assert_eq!(m.load(stale, 8, false).map_err(|f| f.kind), Err(FaultKind::StaleStack));
        let pkt = m.addr(ConcreteValue::Ptr { region: Region::Packet, off: 0 }, 2, 1).expect("addr");
        assert_eq!(m.load(pkt, 2, false), Ok(ConcreteValue::Scalar(0x0403)));
        assert_eq!(m.load(pkt, 4, false).map_err(|f| f.kind), Err(FaultKind::OutOfBounds));
        assert_eq!(sign_extend(0xffff, 16), u64::MAX);
        assert_eq!(sign_extend(0x7fff, 16), 0x7fff);
    }
}
