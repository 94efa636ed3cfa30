//! Helper calls: arguments checked against the helper's prototype (`abi::helpers`), effects
//! modelled for the common helpers, results from `ConcreteInput::helper_returns`.
//!
//! Every call first reads R1.. as the prototype says (uninitialised arguments fault), checks the
//! kind of each pointer argument (map pointer, ctx, ringbuf record, stack, function) and bounds-checks
//! memory arguments: `[ptr, ptr + size)` is read for `ARG_PTR_TO_MEM`, map keys and values, and
//! written (with bytes drawn from the input's seed) for `ARG_PTR_TO_UNINIT_MEM` and fixed-size
//! outputs. Kernel-object arguments (sockets, BTF ids, timers, dynptrs) are only required to be
//! initialised. Then R1-R5 are clobbered, packet pointers are invalidated by helpers that change
//! packet data, and R0 is set.
//!
//! Modelled effects: map lookup/update/delete on the interpreter's maps, `skb_load_bytes` (copies
//! the packet, `-EFAULT` past its end), `xdp_adjust_head`/`_tail` (256 bytes of head- and tailroom,
//! at least `ETH_HLEN` bytes kept), ringbuf reserve (fresh helper memory, acquired) and
//! submit/discard (released), `tail_call` (always fails: execution continues, R0 unreadable).
//! Integer results of every other helper come from the queue, clamped into the range the kernel
//! knows (`get_smp_processor_id` in `0..=MAX_CPU_ID`, `probe_read_str` in `-MAX_ERRNO..=size`),
//! defaulting to 0 (`ktime_get_ns`: 1000 ns per executed insn, `get_prandom_u32`: random,
//! `*_str` reads: the size). Callbacks (`bpf_loop`, `for_each_map_elem`, timers) are never invoked.
//! A hit in a map-in-map yields its inner map (see `maps`); sockmap/xskmap hits are kernel objects.
//! Unknown helpers and kfuncs return the next queued value (or 0) and clobber R1-R5.

use super::machine::Machine;
use super::outcome::{Fault, FaultKind};
use super::value::{ConcreteValue, Region};
use crate::abi::helpers::MAX_ERRNO;
use crate::abi::{
    fixed_mem_arg_size, helper_proto_for, map_lookup_result, ret_bounded_by_size_arg, ArgKind, LookupResult, RetKind,
};
use crate::insn::Reg;

const EFAULT: i64 = 14;
const EINVAL: i64 = 22;
const ETH_HLEN: usize = 14;

impl Machine<'_> {
    /// The next queued helper result, if any.
    fn pop_return(&mut self) -> Option<u64> {
        let v = self.input.helper_returns.get(self.next_return).copied();
        if v.is_some() {
            self.next_return += 1;
        }
        v
    }

    /// A call whose target the interpreter does not know: queued result, R1-R5 clobbered.
    pub(super) fn call_unknown(&mut self) -> Result<(), Fault> {
        let v = self.pop_return().unwrap_or(0);
        self.clobber_caller_saved();
        self.set_reg(Reg::R0, ConcreteValue::Scalar(v))
    }

    /// A kfunc call: the interpreter has no BTF prototypes, so R0 is a fresh kernel object (what
    /// pointer-returning kfuncs such as `bpf_skb_ct_lookup` give; an abstract scalar result
    /// contains a kernel object pointer, see `soundness::contains`), or NULL when the next
    /// `helper_returns` value is 0.
    pub(super) fn call_kfunc(&mut self) -> Result<(), Fault> {
        let v = match self.pop_return() {
            Some(0) => ConcreteValue::Scalar(0),
            _ => ConcreteValue::Ptr { region: Region::Kernel { id: self.mem.fresh_kernel_id() }, off: 0 },
        };
        self.clobber_caller_saved();
        self.set_reg(Reg::R0, v)
    }

    fn arg_fault(i: usize, what: &str, v: ConcreteValue) -> Fault {
        Fault::new(FaultKind::BadHelperArg, format!("R{} type={v} expected={what}", i + 1))
    }

    pub(super) fn call_helper(&mut self, id: i32) -> Result<(), Fault> {
        let Some(proto) = helper_proto_for(self.prog.prog_type, id) else {
            return self.call_unknown();
        };
        let mut args = [ConcreteValue::Uninit; 5];
        for (i, a) in args.iter_mut().enumerate() {
            if proto.arg(i) != ArgKind::DontCare {
                *a = self.reg(Reg(i as u8 + 1))?;
            }
        }
        let plen = self.packet_len();
        let num = |v: ConcreteValue| v.as_u64(plen).unwrap_or(0);
        let mut map: Option<u32> = None;
        let mut sizes = [0u64; 5];
        for i in 0..5 {
            let v = args[i];
            let next = args.get(i + 1).copied().unwrap_or(ConcreteValue::Uninit);
            match proto.arg(i) {
                ArgKind::ConstMapPtr => match v {
                    ConcreteValue::Ptr { region: Region::Map { map: m }, off: 0 } => map = Some(m),
                    _ => return Err(Self::arg_fault(i, "map_ptr", v)),
                },
                ArgKind::PtrToMapKey
                | ArgKind::PtrToMapValue
                | ArgKind::PtrToUninitMapValue
                | ArgKind::PtrToMapValueOrNull => {
                    let Some(s) = map.and_then(|m| self.mem.maps.stores.get(m as usize)) else {
                        return Err(Fault::new(FaultKind::BadHelperArg, format!("R{} map argument missing", i + 1)));
                    };
                    let k = proto.arg(i);
                    let len = if k == ArgKind::PtrToMapKey { s.key_size } else { s.value_size };
                    sizes[i] = u64::from(len);
                    if k == ArgKind::PtrToMapValueOrNull && v == ConcreteValue::Scalar(0) {
                        continue;
                    }
                    let a = self.mem.addr(v, 0, i as u8 + 1)?;
                    if k == ArgKind::PtrToUninitMapValue {
                        self.mem.check_write(a, u64::from(len))?;
                        let bytes = self.rng.bytes(len as usize);
                        self.mem.write_bytes(a, &bytes)?;
                    } else {
                        self.mem.read_bytes(a, u64::from(len))?;
                    }
                }
                k @ (ArgKind::PtrToMem | ArgKind::PtrToMemOrNull | ArgKind::PtrToUninitMem) => {
                    let size = match proto.arg(i + 1) {
                        ArgKind::ConstSize | ArgKind::ConstSizeOrZero => match next {
                            ConcreteValue::Scalar(s) => s,
                            _ => return Err(Self::arg_fault(i + 1, "scalar", next)),
                        },
                        _ => u64::from(fixed_mem_arg_size(id, i).unwrap_or(0)),
                    };
                    sizes[i] = size;
                    if proto.arg(i + 1) == ArgKind::ConstSize && size == 0 {
                        return Err(Fault::new(FaultKind::BadHelperArg, format!("R{} invalid zero-sized read", i + 2)));
                    }
                    // NULL with a zero size is fine for every memory argument (`register_is_null`).
                    if v == ConcreteValue::Scalar(0) && size == 0 {
                        continue;
                    }
                    let a = self.mem.addr(v, 0, i as u8 + 1)?;
                    if k == ArgKind::PtrToUninitMem {
                        self.mem.check_write(a, size)?;
                        let bytes = self.rng.bytes(size as usize);
                        self.mem.write_bytes(a, &bytes)?;
                    } else {
                        self.mem.read_bytes(a, size)?;
                    }
                }
                k @ (ArgKind::PtrToLong | ArgKind::PtrToInt) => {
                    let len = if k == ArgKind::PtrToLong { 8 } else { 4 };
                    let a = self.mem.addr(v, 0, i as u8 + 1)?;
                    let bytes = self.rng.bytes(len);
                    self.mem.write_bytes(a, &bytes)?;
                }
                k @ (ArgKind::PtrToCtx | ArgKind::PtrToCtxOrNull) => match v {
                    ConcreteValue::Ptr { region: Region::Ctx, off: 0 } => {}
                    ConcreteValue::Scalar(0) if k == ArgKind::PtrToCtxOrNull => {}
                    _ => return Err(Self::arg_fault(i, "ctx", v)),
                },
                ArgKind::PtrToAllocMem => match v {
                    ConcreteValue::Ptr { region: Region::Mem { id }, off: 0 } => {
                        if !self.refs.contains(&Region::Mem { id }) {
                            return Err(Fault::new(
                                FaultKind::UseAfterRelease,
                                format!("R{} record {id} already released", i + 1),
                            ));
                        }
                    }
                    _ => return Err(Self::arg_fault(i, "ringbuf_mem", v)),
                },
                k @ (ArgKind::PtrToStack | ArgKind::PtrToStackOrNull) => match v {
                    ConcreteValue::Ptr { region: Region::Stack { .. }, .. } => {}
                    ConcreteValue::Scalar(0) if k == ArgKind::PtrToStackOrNull => {}
                    _ => return Err(Self::arg_fault(i, "fp", v)),
                },
                ArgKind::PtrToFunc => match v {
                    ConcreteValue::Ptr { region: Region::Func { .. }, off: 0 } => {}
                    _ => return Err(Self::arg_fault(i, "func", v)),
                },
                ArgKind::ConstSize | ArgKind::ConstSizeOrZero | ArgKind::ConstAllocSizeOrZero if v.is_ptr() => {
                    return Err(Self::arg_fault(i, "scalar", v));
                }
                _ => {}
            }
        }

        // Effects and result.
        let r0 = match id {
            1 => self.map_lookup(map, args[1])?,
            2 => {
                let (m, key) = self.key_bytes(map, args[1])?;
                let len = self.mem.maps.stores.get(m as usize).map_or(0, |s| u64::from(s.value_size));
                let a = self.mem.addr(args[2], 0, 3)?;
                let value = self.mem.read_bytes(a, len)?;
                ConcreteValue::Scalar(self.mem.maps.update(m, &key, &value, num(args[3]))?)
            }
            3 => {
                let (m, key) = self.key_bytes(map, args[1])?;
                ConcreteValue::Scalar(self.mem.maps.delete(m, &key)?)
            }
            26 => {
                let off = num(args[1]) as u32 as usize;
                let len = sizes[2] as usize;
                let a = self.mem.addr(args[2], 0, 3)?;
                let src = off.checked_add(len).and_then(|end| self.mem.packet.get(off..end)).map(<[u8]>::to_vec);
                match src {
                    Some(bytes) => {
                        self.mem.write_bytes(a, &bytes)?;
                        ConcreteValue::Scalar(0)
                    }
                    None => {
                        self.mem.write_bytes(a, &vec![0; len])?;
                        ConcreteValue::Scalar((-EFAULT) as u64)
                    }
                }
            }
            44 => ConcreteValue::Scalar(self.xdp_adjust_head(num(args[1]) as i32 as i64)),
            65 => ConcreteValue::Scalar(self.xdp_adjust_tail(num(args[1]) as i32 as i64)),
            _ => self.generic_result(id, proto.ret, map, &args, &sizes)?,
        };
        if let Some(i) = proto.release_arg {
            let region = match args.get(i).copied() {
                Some(ConcreteValue::Ptr { region, .. }) => region,
                other => return Err(Self::arg_fault(i, "acquired pointer", other.unwrap_or(ConcreteValue::Uninit))),
            };
            if !self.refs.remove(&region) {
                return Err(Fault::new(
                    FaultKind::UseAfterRelease,
                    format!("release of unacquired reference {region}"),
                ));
            }
            match region {
                Region::Mem { id } => {
                    if let Some(m) = self.mem.mems.get_mut(id as usize) {
                        m.live = false;
                    }
                }
                Region::Kernel { id } => {
                    self.mem.released_kernel.insert(id);
                }
                _ => {}
            }
        }
        if proto.changes_pkt_data {
            self.invalidate_packet_pointers();
        }
        self.clobber_caller_saved();
        self.set_reg(Reg::R0, r0)
    }

    /// The map and key bytes of a key argument.
    fn key_bytes(&mut self, map: Option<u32>, key: ConcreteValue) -> Result<(u32, Vec<u8>), Fault> {
        let m = map.ok_or_else(|| Fault::new(FaultKind::BadHelperArg, "map argument missing"))?;
        let len = self.mem.maps.stores.get(m as usize).map_or(0, |s| u64::from(s.key_size));
        let a = self.mem.addr(key, 0, 2)?;
        Ok((m, self.mem.read_bytes(a, len)?))
    }

    fn map_lookup(&mut self, map: Option<u32>, key: ConcreteValue) -> Result<ConcreteValue, Fault> {
        let (m, key) = self.key_bytes(map, key)?;
        let map_type = self.mem.maps.stores.get(m as usize).map_or(0, |s| s.map_type);
        let Some(result) = map_lookup_result(map_type) else {
            return Err(Fault::new(
                FaultKind::BadHelperArg,
                format!("cannot pass map_type {map_type} into func bpf_map_lookup_elem#1"),
            ));
        };
        let hit = self.mem.maps.lookup(m, &key, self.input.lookup_misses, &mut self.rng)?;
        Ok(match (hit, result) {
            (None, _) => ConcreteValue::Scalar(0),
            (Some(entry), LookupResult::MapValue) => {
                ConcreteValue::Ptr { region: Region::MapValue { map: m, entry }, off: 0 }
            }
            (Some(_), LookupResult::InnerMap) => match self.mem.maps.inner.get(m as usize).copied().flatten() {
                Some(inner) => ConcreteValue::Ptr { region: Region::Map { map: inner }, off: 0 },
                // Without the inner map's definition the slot is modelled as empty.
                None => ConcreteValue::Scalar(0),
            },
            (Some(_), r) => {
                let region = Region::Kernel { id: self.fresh_kernel_id() };
                if r == LookupResult::Socket {
                    self.refs.insert(region);
                }
                ConcreteValue::Ptr { region, off: 0 }
            }
        })
    }

    fn generic_result(
        &mut self,
        id: i32,
        ret: RetKind,
        map: Option<u32>,
        args: &[ConcreteValue; 5],
        sizes: &[u64; 5],
    ) -> Result<ConcreteValue, Fault> {
        let proto = helper_proto_for(self.prog.prog_type, id);
        let acquire = proto.is_some_and(|p| p.acquire);
        Ok(match ret {
            RetKind::Void => ConcreteValue::Uninit,
            RetKind::Integer => {
                let default = match id {
                    5 | 125 | 160 | 208 => self.steps.wrapping_mul(1000),
                    7 => self.rng.next_u64() as u32 as u64,
                    45 | 114 | 115 => sizes[0],
                    67 | 141 => sizes[1],
                    _ => 0,
                };
                let v = self.pop_return().unwrap_or(default);
                let range = proto.and_then(|p| p.ret_range).or_else(|| {
                    ret_bounded_by_size_arg(id).map(|i| {
                        let size = args.get(i).and_then(|a| a.as_u64(0)).unwrap_or(0);
                        (-MAX_ERRNO, i64::try_from(size).unwrap_or(i64::MAX))
                    })
                });
                ConcreteValue::Scalar(match range {
                    Some((lo, hi)) if !(lo..=hi).contains(&(v as i64)) => {
                        let span = (hi as i128 - lo as i128 + 1) as u128;
                        (lo as i128 + (u128::from(v) % span) as i128) as i64 as u64
                    }
                    _ => v,
                })
            }
            RetKind::MapValueOrNull | RetKind::MapValue => {
                if ret == RetKind::MapValueOrNull && self.pop_return() == Some(0) {
                    return Ok(ConcreteValue::Scalar(0));
                }
                let m = map.ok_or_else(|| Fault::new(FaultKind::BadHelperArg, "map argument missing"))?;
                let key = vec![0u8; self.mem.maps.stores.get(m as usize).map_or(4, |s| s.key_size as usize)];
                let entry = self.mem.maps.entry(m, &key)?;
                ConcreteValue::Ptr { region: Region::MapValue { map: m, entry }, off: 0 }
            }
            RetKind::AllocMemOrNull => {
                let size_arg = proto.and_then(|p| p.alloc_size_arg).unwrap_or(1);
                let size = args.get(size_arg).and_then(|a| a.as_u64(0)).unwrap_or(0);
                let cap = map
                    .and_then(|m| self.mem.maps.stores.get(m as usize))
                    .map_or(1 << 20, |s| u64::from(s.max_entries));
                if self.pop_return() == Some(0) || size > cap.min(1 << 20) {
                    return Ok(ConcreteValue::Scalar(0));
                }
                match self.mem.alloc(size as usize) {
                    Some(mid) => {
                        let region = Region::Mem { id: mid };
                        if acquire {
                            self.refs.insert(region);
                        }
                        ConcreteValue::Ptr { region, off: 0 }
                    }
                    None => ConcreteValue::Scalar(0),
                }
            }
            RetKind::MemOrNull => ConcreteValue::Scalar(0),
            RetKind::SocketOrNull
            | RetKind::TcpSockOrNull
            | RetKind::SockCommonOrNull
            | RetKind::BtfIdOrNull
            | RetKind::PtrToMemOrBtfIdOrNull
            | RetKind::PtrToBtfId => {
                if ret != RetKind::PtrToBtfId && self.pop_return() == Some(0) {
                    return Ok(ConcreteValue::Scalar(0));
                }
                let region = Region::Kernel { id: self.fresh_kernel_id() };
                if acquire {
                    self.refs.insert(region);
                }
                ConcreteValue::Ptr { region, off: 0 }
            }
        })
    }

    /// Packet pointers in every frame's registers and in memory become scalars (`clear_all_pkt_pointers`).
    fn invalidate_packet_pointers(&mut self) {
        let plen = self.packet_len();
        for f in &mut self.frames {
            for r in f.regs.iter_mut() {
                if let ConcreteValue::Ptr { region: Region::Packet | Region::PacketEnd, .. } = r {
                    *r = ConcreteValue::Scalar(r.as_u64(plen).unwrap_or(0));
                }
            }
        }
        self.mem.forget_packet_spills();
    }

    fn xdp_adjust_head(&mut self, delta: i64) -> u64 {
        let len = self.mem.packet.len();
        if delta < 0 {
            let grow = delta.unsigned_abs() as usize;
            if grow > self.headroom {
                return (-EINVAL) as u64;
            }
            self.headroom -= grow;
            let mut p = vec![0u8; grow];
            p.extend_from_slice(&self.mem.packet);
            self.mem.packet = p;
        } else {
            let shrink = delta as usize;
            if len < ETH_HLEN || shrink > len - ETH_HLEN {
                return (-EINVAL) as u64;
            }
            self.headroom += shrink;
            self.mem.packet.drain(..shrink);
        }
        0
    }

    fn xdp_adjust_tail(&mut self, delta: i64) -> u64 {
        let len = self.mem.packet.len();
        if delta > 0 {
            let grow = delta as usize;
            if grow > self.tailroom {
                return (-EINVAL) as u64;
            }
            self.tailroom -= grow;
            self.mem.packet.resize(len + grow, 0);
        } else {
            let shrink = delta.unsigned_abs() as usize;
            if len < ETH_HLEN || shrink > len - ETH_HLEN {
                return (-EINVAL) as u64;
            }
            self.tailroom += shrink;
            self.mem.packet.truncate(len - shrink);
        }
        0
    }
}
