//! Path-wise symbolic execution on Z3 bit-vectors, with typed pointers, for bounded model checking.
//!
//! A value is uninitialised, a 64-bit scalar term, or a pointer `(region, off)` whose offset is a
//! term, mirroring `interp::ConcreteValue`; a map lookup result is a pointer with a `hit` boolean
//! (NULL when false). Memory contents are Z3 arrays from 64-bit offsets to bytes: the ctx, the
//! packet (whose length `pkt_len` is a variable; `data_end` is `data + pkt_len`), one array per
//! stack frame (plus a spill table for pointers stored with 8-byte stores, as the interpreter has)
//! and one per map value buffer (each lookup hit or global data section).
//!
//! Every access on the path adds its *safety* condition (in bounds, non-NULL): a concrete run that
//! violates it faults there and never reaches a later pc. Helper calls return fresh variables, in
//! call order (the interpreter's `helper_returns` queue), `bpf_map_lookup_elem` a fresh hit bit.
//! Anything else (pointer arithmetic other than `ptr +/- scalar`, comparisons of unrelated pointers,
//! stack accesses at variable offsets, atomics, `LD_ABS`, packet-changing helpers...) stops the
//! path with [`Stop::Unsupported`]: the caller then never claims `Proved`.
//!
//! Precision losses: global data and map values start unknown (not their initial contents), a
//! helper writing to the stack havocs the whole frame; both only over-approximate, so a `Proved`
//! verdict stays sound, and the replay of a counterexample catches the rest.

use crate::abi::{ctx_access, helper_proto_for, map_lookup_result, ArgKind, CtxFieldKind, LookupResult, RetKind};
use crate::abi::map_types::{BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY};
use crate::insn::{AluOp, CallTarget, Endian, Insn, JmpCond, LdImm64Src, Operand, Reg, Size, Width};
use crate::object::MapDef;
use crate::prog_type::ProgType;
use std::collections::BTreeMap;
use z3::ast::{Array, Ast, Bool, BV};
use z3::Sort;

/// The interpreter's fake address of packet offset 0 (`interp::Region::base`).
const PACKET_BASE: u64 = 0xffff_8880_0200_0100;
/// Packet length counterexamples are first searched within (a larger one is tried next).
pub(crate) const MAX_PKT_LEN: u64 = 4096;
/// Hard bound on the packet length (`skb->len` is a `u32`).
const MAX_PKT_LEN_HARD: u64 = u32::MAX as u64;

/// Where a symbolic pointer points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SRegion {
    Ctx,
    Packet,
    PacketEnd,
    Stack { depth: usize },
    /// Index into `SymState::bufs`.
    MapValue { buf: usize },
    Map { map: u32 },
}

/// One symbolic register value.
#[derive(Clone, Debug)]
pub(crate) enum SVal {
    Uninit,
    Scalar(BV),
    /// `null`: `Some(hit)` for a lookup result, NULL unless `hit`.
    Ptr { region: SRegion, off: BV, null: Option<Bool> },
}

/// Why a path cannot be followed further.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The encoding does not cover this instruction: the path's verdict is unknown.
    Unsupported(String),
    /// Every concrete run on this path faults here (e.g. uninitialised register): the path is dead.
    Fault,
}

/// A map value buffer: a lookup hit or a global data section.
#[derive(Clone, Debug)]
pub(crate) struct Buf {
    pub(crate) map: u32,
    pub(crate) value_size: u32,
    /// The initial contents (for the counterexample's `map_values`).
    pub(crate) initial: Array,
    pub(crate) cur: Array,
    /// Key bytes (8-bit terms) for lookups; `None` for global data (key 0).
    pub(crate) key: Option<Vec<BV>>,
    /// NULL unless this holds (lookups); `None` for global data.
    pub(crate) hit: Option<Bool>,
    /// Helper memory (a ringbuf record), not a map value: `map` is [`NO_MAP`].
    pub(crate) mem: bool,
    /// Submitted or discarded: every access faults.
    pub(crate) released: bool,
    /// Byte offsets loaded from this buffer on the path (the only initial bytes a model fixes).
    pub(crate) reads: Vec<BV>,
}

/// The `Buf::map` of helper memory.
pub(crate) const NO_MAP: u32 = u32::MAX;

/// One call frame.
#[derive(Clone, Debug)]
pub(crate) struct SFrame {
    pub(crate) regs: Vec<SVal>,
    pub(crate) stack: Array,
    pub(crate) spills: BTreeMap<i64, SVal>,
}

/// The whole symbolic machine state along one path.
#[derive(Clone, Debug)]
pub(crate) struct SymState {
    pub(crate) frames: Vec<SFrame>,
    pub(crate) ctx: Array,
    pub(crate) pkt: Array,
    pub(crate) bufs: Vec<Buf>,
    /// Helper results consumed from the queue, in call order (helper id, variable).
    pub(crate) returns: Vec<(i32, BV)>,
    /// Path condition.
    pub(crate) constraints: Vec<Bool>,
    counter: usize,
}

/// The program-wide facts the transfer needs.
pub(crate) struct Env<'a> {
    pub(crate) maps: &'a [MapDef],
    pub(crate) prog_type: ProgType,
    pub(crate) ctx_size: u64,
}

pub(crate) fn lit(v: u64) -> BV {
    BV::from_u64(v, 64)
}

fn byte_array(name: &str) -> Array {
    Array::new_const(name, &Sort::bitvector(64), &Sort::bitvector(8))
}

/// The initial packet array, ctx array and packet length (names fixed so the model can be read).
pub(crate) fn input_ctx() -> Array {
    byte_array("ctx")
}
pub(crate) fn input_pkt() -> Array {
    byte_array("pkt")
}
pub(crate) fn pkt_len() -> BV {
    BV::new_const("pkt_len", 64)
}

/// Reads `size` bytes little-endian at `at` from `arr`.
pub(crate) fn load_bytes(arr: &Array, at: &BV, size: u32) -> BV {
    let mut out: Option<BV> = None;
    for i in 0..size {
        let b = arr.select(&at.bvadd(lit(u64::from(i)))).as_bv().unwrap_or_else(|| BV::from_u64(0, 8));
        out = Some(match out {
            None => b,
            Some(lo) => b.concat(&lo),
        });
    }
    out.unwrap_or_else(|| BV::from_u64(0, 8))
}

fn store_bytes(arr: &Array, at: &BV, size: u32, v: &BV) -> Array {
    let mut a = arr.clone();
    for i in 0..size {
        a = a.store(&at.bvadd(lit(u64::from(i))), &v.extract(8 * i + 7, 8 * i));
    }
    a
}

/// A constant 64-bit term's value.
pub(crate) fn konst(bv: &BV) -> Option<u64> {
    bv.simplify().as_u64()
}

/// `lo <= x` and `x + size <= hi`, on offsets read as signed (computed in 66 bits: no wrap-around).
fn in_bounds(x: &BV, size: u32, lo: &BV, hi: &BV) -> Bool {
    let w = |b: &BV| b.sign_ext(2);
    let xs = w(x);
    let end = xs.bvadd(BV::from_u64(u64::from(size), 66));
    Bool::and(&[xs.bvsge(w(lo)), end.bvsle(w(hi))])
}

fn reg_index(r: Reg) -> Result<usize, Stop> {
    let i = r.index();
    if i <= 10 {
        Ok(i)
    } else {
        Err(Stop::Fault)
    }
}

impl SymState {
    pub(crate) fn new() -> SymState {
        let mut regs = vec![SVal::Uninit; 11];
        regs[1] = SVal::Ptr { region: SRegion::Ctx, off: lit(0), null: None };
        regs[10] = SVal::Ptr { region: SRegion::Stack { depth: 0 }, off: lit(0), null: None };
        let len = pkt_len();
        SymState {
            frames: vec![SFrame { regs, stack: byte_array("stack0"), spills: BTreeMap::new() }],
            ctx: input_ctx(),
            pkt: input_pkt(),
            bufs: Vec::new(),
            returns: Vec::new(),
            constraints: vec![len.bvule(lit(MAX_PKT_LEN_HARD))],
            counter: 0,
        }
    }

    fn fresh(&mut self, what: &str) -> BV {
        self.counter += 1;
        BV::new_const(format!("{what}!{}", self.counter), 64)
    }

    fn fresh_array(&mut self, what: &str) -> Array {
        self.counter += 1;
        byte_array(&format!("{what}!{}", self.counter))
    }

    fn frame(&self) -> Result<&SFrame, Stop> {
        self.frames.last().ok_or(Stop::Fault)
    }

    fn frame_mut(&mut self) -> Result<&mut SFrame, Stop> {
        self.frames.last_mut().ok_or(Stop::Fault)
    }

    pub(crate) fn reg(&self, r: Reg) -> Result<SVal, Stop> {
        let i = reg_index(r)?;
        match self.frame()?.regs.get(i) {
            Some(SVal::Uninit) | None => Err(Stop::Fault),
            Some(v) => Ok(v.clone()),
        }
    }

    /// True when reading `r` faults (uninitialised).
    pub(crate) fn is_uninit(&self, r: Reg) -> bool {
        !matches!(self.frames.last().and_then(|f| f.regs.get(r.index())), Some(SVal::Scalar(_) | SVal::Ptr { .. }))
    }

    fn set(&mut self, r: Reg, v: SVal) -> Result<(), Stop> {
        if r == Reg::FP {
            return Err(Stop::Fault);
        }
        let i = reg_index(r)?;
        let f = self.frame_mut()?;
        match f.regs.get_mut(i) {
            Some(slot) => {
                *slot = v;
                Ok(())
            }
            None => Err(Stop::Fault),
        }
    }

    fn scalar(&self, r: Reg) -> Result<BV, Stop> {
        match self.reg(r)? {
            SVal::Scalar(b) => Ok(b),
            _ => Err(Stop::Unsupported(format!("R{} is a pointer used as a number", r.0))),
        }
    }

    fn operand(&self, o: Operand) -> Result<SVal, Stop> {
        match o {
            Operand::Reg(r) => self.reg(r),
            Operand::Imm(i) => Ok(SVal::Scalar(lit(i as i64 as u64))),
        }
    }

    /// The registers an instruction reads (for calls: the helper's arguments; `None` for calls
    /// whose arguments the encoding does not know).
    pub(crate) fn reads_in(env: &Env<'_>, insn: &Insn) -> Option<Vec<Reg>> {
        match *insn {
            Insn::Call(CallTarget::Helper(id)) => {
                let proto = helper_proto_for(env.prog_type, id)?;
                Some((0..5u8).filter(|&i| proto.arg(usize::from(i)) != ArgKind::DontCare).map(|i| Reg(i + 1)).collect())
            }
            Insn::Call(_) => None,
            _ => Some(SymState::reads(insn)),
        }
    }

    /// The registers a non-call instruction reads.
    pub(crate) fn reads(insn: &Insn) -> Vec<Reg> {
        let op = |o: Operand| match o {
            Operand::Reg(r) => vec![r],
            Operand::Imm(_) => vec![],
        };
        match *insn {
            Insn::Alu { op: AluOp::Mov | AluOp::MovSx(_), src, .. } => op(src),
            Insn::Alu { op: AluOp::Neg, dst, .. } => vec![dst],
            Insn::Alu { dst, src, .. } => [vec![dst], op(src)].concat(),
            Insn::Endian { dst, .. } => vec![dst],
            Insn::Jmp { dst, src, .. } => [vec![dst], op(src)].concat(),
            Insn::Exit => vec![Reg::R0],
            Insn::Ldx { src, .. } => vec![src],
            Insn::St { dst, .. } => vec![dst],
            Insn::Stx { dst, src, .. } | Insn::Atomic { dst, src, .. } => vec![dst, src],
            Insn::LdInd { src, .. } => vec![src],
            _ => vec![],
        }
    }

    /// The memory access of `insn`: (pointer register, off, size).
    pub(crate) fn access_of(insn: &Insn) -> Option<(Reg, i16, u32)> {
        match *insn {
            Insn::Ldx { size, src, off, .. } => Some((src, off, size.bytes())),
            Insn::St { size, dst, off, .. } | Insn::Stx { size, dst, off, .. } | Insn::Atomic { size, dst, off, .. } => {
                Some((dst, off, size.bytes()))
            }
            _ => None,
        }
    }

    /// The condition under which accessing `size` bytes at `ptr + off` does not fault.
    pub(crate) fn access_safe(&self, env: &Env<'_>, ptr: &SVal, off: i16, size: u32) -> Result<Bool, Stop> {
        let (region, o, null) = match ptr {
            SVal::Uninit => return Ok(Bool::from_bool(false)),
            SVal::Scalar(_) => return Ok(Bool::from_bool(false)),
            SVal::Ptr { region, off, null } => (*region, off, null),
        };
        let at = o.bvadd(lit(off as i64 as u64));
        let bounds = match region {
            SRegion::Packet => in_bounds(&at, size, &lit(0), &pkt_len()),
            SRegion::PacketEnd => Bool::from_bool(false),
            SRegion::MapValue { buf } => match self.bufs.get(buf) {
                Some(b) if !b.released => in_bounds(&at, size, &lit(0), &lit(u64::from(b.value_size))),
                _ => Bool::from_bool(false),
            },
            SRegion::Stack { .. } => {
                let Some(a) = konst(&at) else {
                    return Err(Stop::Unsupported("stack access at a variable offset".into()));
                };
                let a = a as i64;
                Bool::from_bool(a >= -512 && a + i64::from(size) <= 0)
            }
            SRegion::Ctx => {
                let Some(a) = konst(&at) else {
                    return Err(Stop::Unsupported("ctx access at a variable offset".into()));
                };
                Bool::from_bool(a.checked_add(u64::from(size)).is_some_and(|e| e <= env.ctx_size))
            }
            SRegion::Map { .. } => return Err(Stop::Unsupported("access through a map pointer".into())),
        };
        Ok(match null {
            Some(hit) => Bool::and(&[hit.clone(), bounds]),
            None => bounds,
        })
    }

    /// Adds `c` to the path condition; a constant false kills the path.
    fn require(&mut self, c: Bool) -> Result<(), Stop> {
        if c.simplify().as_bool() == Some(false) {
            return Err(Stop::Fault);
        }
        self.constraints.push(c);
        Ok(())
    }

    /// Executes `insn` (not a jump, exit or bpf-to-bpf call: the edges handle those).
    pub(crate) fn step(&mut self, env: &Env<'_>, insn: &Insn) -> Result<(), Stop> {
        match *insn {
            Insn::Alu { width, op, dst, src } => self.alu(width, op, dst, src),
            Insn::Endian { kind, bits, dst } => {
                let x = self.scalar(dst)?;
                self.set(dst, SVal::Scalar(endian(kind, bits, &x)))
            }
            Insn::Ja { .. } | Insn::Jmp { .. } | Insn::Exit | Insn::LdImm64Tail => Ok(()),
            Insn::Call(CallTarget::Helper(id)) => self.helper(env, id),
            Insn::Call(CallTarget::Local(_)) => Ok(()),
            Insn::Call(CallTarget::Kfunc { .. }) => Err(Stop::Unsupported("kfunc call".into())),
            Insn::LdImm64 { dst, src, imm, next_imm } => {
                let v = match src {
                    LdImm64Src::Imm => SVal::Scalar(lit(Insn::imm64(imm, next_imm))),
                    LdImm64Src::MapIdx | LdImm64Src::MapFd => {
                        let m = u32::try_from(imm).ok().filter(|&m| (m as usize) < env.maps.len()).ok_or(Stop::Fault)?;
                        SVal::Ptr { region: SRegion::Map { map: m }, off: lit(0), null: None }
                    }
                    LdImm64Src::MapIdxValue | LdImm64Src::MapValue => {
                        let m = u32::try_from(imm).ok().filter(|&m| (m as usize) < env.maps.len()).ok_or(Stop::Fault)?;
                        let buf = self.global_buf(env, m);
                        SVal::Ptr { region: SRegion::MapValue { buf }, off: lit(u64::from(next_imm as u32)), null: None }
                    }
                    _ => return Err(Stop::Unsupported(format!("ld_imm64 {src:?}"))),
                };
                self.set(dst, v)
            }
            Insn::Ldx { size, sign_ext, dst, src, off } => {
                let p = self.reg(src)?;
                let safe = self.access_safe(env, &p, off, size.bytes())?;
                self.require(safe)?;
                let v = self.load(env, &p, off, size, sign_ext)?;
                self.set(dst, v)
            }
            Insn::St { size, dst, off, imm } => {
                let p = self.reg(dst)?;
                let safe = self.access_safe(env, &p, off, size.bytes())?;
                self.require(safe)?;
                self.store(&p, off, size, SVal::Scalar(lit(imm as i64 as u64)))
            }
            Insn::Stx { size, dst, src, off } => {
                let p = self.reg(dst)?;
                let v = self.reg(src)?;
                let safe = self.access_safe(env, &p, off, size.bytes())?;
                self.require(safe)?;
                self.store(&p, off, size, v)
            }
            Insn::Atomic { .. } => Err(Stop::Unsupported("atomic instruction".into())),
            Insn::LdAbs { .. } | Insn::LdInd { .. } => Err(Stop::Unsupported("legacy packet load".into())),
        }
    }

    fn global_buf(&mut self, env: &Env<'_>, map: u32) -> usize {
        if let Some(i) = self.bufs.iter().position(|b| b.map == map && b.key.is_none()) {
            return i;
        }
        let arr = self.fresh_array(&format!("global{map}"));
        let value_size = env.maps.get(map as usize).map_or(0, |m| m.value_size);
        self.bufs.push(Buf { map, value_size, initial: arr.clone(), cur: arr, key: None, hit: None, mem: false, released: false, reads: Vec::new() });
        self.bufs.len() - 1
    }

    fn region_array(&self, region: SRegion) -> Result<&Array, Stop> {
        match region {
            SRegion::Ctx => Ok(&self.ctx),
            SRegion::Packet => Ok(&self.pkt),
            SRegion::Stack { depth } => self.frames.get(depth).map(|f| &f.stack).ok_or(Stop::Fault),
            SRegion::MapValue { buf } => self.bufs.get(buf).map(|b| &b.cur).ok_or(Stop::Fault),
            _ => Err(Stop::Fault),
        }
    }

    fn load(&mut self, env: &Env<'_>, p: &SVal, off: i16, size: Size, sign_ext: bool) -> Result<SVal, Stop> {
        let SVal::Ptr { region, off: o, .. } = p else { return Err(Stop::Fault) };
        let at = o.bvadd(lit(off as i64 as u64));
        let n = size.bytes();
        if *region == SRegion::Ctx {
            let a = konst(&at).ok_or_else(|| Stop::Unsupported("ctx access at a variable offset".into()))?;
            if let Ok(acc) = ctx_access(env.prog_type, None, a as i64, n, false) {
                match acc.kind {
                    CtxFieldKind::PktData | CtxFieldKind::PktMeta => {
                        return Ok(SVal::Ptr { region: SRegion::Packet, off: lit(0), null: None })
                    }
                    CtxFieldKind::PktEnd => return Ok(SVal::Ptr { region: SRegion::PacketEnd, off: lit(0), null: None }),
                    CtxFieldKind::Scalar => {}
                    k => return Err(Stop::Unsupported(format!("ctx field of kind {k:?}"))),
                }
            }
            if n == 8 && btf_ctx(env.prog_type) {
                return Err(Stop::Unsupported("BTF-typed ctx argument".into()));
            }
        }
        if let SRegion::Stack { depth } = *region {
            let a = konst(&at).map(|a| a as i64).ok_or(Stop::Fault)?;
            if let Some(v) = self.frames.get(depth).and_then(|f| f.spills.get(&a)) {
                if n == 8 {
                    return Ok(v.clone());
                }
            }
        }
        if let SRegion::MapValue { buf } = *region {
            if let Some(b) = self.bufs.get_mut(buf) {
                b.reads.extend((0..n).map(|i| at.bvadd(lit(u64::from(i)))));
            }
        }
        let raw = load_bytes(self.region_array(*region)?, &at, n);
        let bits = 8 * n;
        let v = if bits == 64 {
            raw
        } else if sign_ext {
            raw.sign_ext(64 - bits)
        } else {
            raw.zero_ext(64 - bits)
        };
        Ok(SVal::Scalar(v))
    }

    fn store(&mut self, p: &SVal, off: i16, size: Size, v: SVal) -> Result<(), Stop> {
        let SVal::Ptr { region, off: o, .. } = p else { return Err(Stop::Fault) };
        let at = o.bvadd(lit(off as i64 as u64));
        let n = size.bytes();
        let bits = match (&v, region) {
            (SVal::Scalar(b), _) => b.clone(),
            (SVal::Ptr { .. }, SRegion::Stack { .. }) if n == 8 => self.fresh("spill"),
            _ => return Err(Stop::Unsupported("pointer stored outside the stack or narrowly".into())),
        };
        match *region {
            SRegion::Stack { depth } => {
                let a = konst(&at).map(|a| a as i64).ok_or(Stop::Fault)?;
                let f = self.frames.get_mut(depth).ok_or(Stop::Fault)?;
                f.spills.retain(|&s, _| s + 8 <= a || s >= a + i64::from(n));
                if matches!(v, SVal::Ptr { .. }) {
                    f.spills.insert(a, v);
                }
                f.stack = store_bytes(&f.stack, &at, n, &bits);
            }
            SRegion::Ctx => self.ctx = store_bytes(&self.ctx, &at, n, &bits),
            SRegion::Packet => self.pkt = store_bytes(&self.pkt, &at, n, &bits),
            SRegion::MapValue { buf } => {
                let map = self.bufs.get(buf).map(|b| b.map).ok_or(Stop::Fault)?;
                self.havoc_map(map, Some(buf));
                let b = self.bufs.get_mut(buf).ok_or(Stop::Fault)?;
                b.cur = store_bytes(&b.cur, &at, n, &bits);
            }
            _ => return Err(Stop::Fault),
        }
        Ok(())
    }

    fn alu(&mut self, width: Width, op: AluOp, dst: Reg, src: Operand) -> Result<(), Stop> {
        if op == AluOp::Mov && width == Width::W64 {
            let v = self.operand(src)?;
            return self.set(dst, v);
        }
        let b = if matches!(op, AluOp::Neg) { SVal::Scalar(lit(0)) } else { self.operand(src)? };
        let a = if matches!(op, AluOp::Mov | AluOp::MovSx(_)) { SVal::Scalar(lit(0)) } else { self.reg(dst)? };
        let r = match (&a, &b) {
            (SVal::Scalar(x), SVal::Scalar(y)) => SVal::Scalar(scalar_alu(width, op, x, y)),
            (SVal::Ptr { region, off, null }, SVal::Scalar(y)) if width == Width::W64 && op == AluOp::Add => {
                SVal::Ptr { region: *region, off: off.bvadd(y), null: null.clone() }
            }
            (SVal::Ptr { region, off, null }, SVal::Scalar(y)) if width == Width::W64 && op == AluOp::Sub => {
                SVal::Ptr { region: *region, off: off.bvsub(y), null: null.clone() }
            }
            (SVal::Scalar(x), SVal::Ptr { region, off, null }) if width == Width::W64 && op == AluOp::Add => {
                SVal::Ptr { region: *region, off: off.bvadd(x), null: null.clone() }
            }
            (SVal::Ptr { .. }, SVal::Ptr { .. }) if width == Width::W64 && op == AluOp::Sub => {
                match (self.address(&a), self.address(&b)) {
                    (Some(x), Some(y)) => SVal::Scalar(x.bvsub(&y)),
                    _ => return Err(Stop::Unsupported("difference of unrelated pointers".into())),
                }
            }
            _ => return Err(Stop::Unsupported(format!("{op:?} on a pointer"))),
        };
        self.set(dst, r)
    }

    /// The interpreter's fake address of a non-NULL packet or stack pointer.
    fn address(&self, v: &SVal) -> Option<BV> {
        match v {
            SVal::Ptr { region: SRegion::Packet, off, null: None } => Some(lit(PACKET_BASE).bvadd(off)),
            SVal::Ptr { region: SRegion::PacketEnd, off, null: None } => {
                Some(lit(PACKET_BASE).bvadd(pkt_len()).bvadd(off))
            }
            SVal::Ptr { region: SRegion::Stack { depth }, off, null: None } => {
                Some(lit(0xffff_c900_0000_0000u64.wrapping_add(((*depth as u64) + 1) << 16)).bvadd(off))
            }
            _ => None,
        }
    }

    /// The condition of a conditional jump being taken.
    pub(crate) fn branch(&self, insn: &Insn) -> Result<Bool, Stop> {
        let Insn::Jmp { width, cond, dst, src, .. } = *insn else {
            return Err(Stop::Unsupported("not a conditional jump".into()));
        };
        let a = self.reg(dst)?;
        let b = self.operand(src)?;
        match (&a, &b) {
            (SVal::Scalar(x), SVal::Scalar(y)) => Ok(jmp_cond(width, cond, x, y)),
            (SVal::Ptr { null, off, .. }, SVal::Scalar(z)) | (SVal::Scalar(z), SVal::Ptr { null, off, .. })
                if konst(z) == Some(0)
                    && matches!(cond, JmpCond::Eq | JmpCond::Ne)
                    && (null.is_none() || konst(off) == Some(0)) =>
            {
                let is_null = match null {
                    Some(hit) => hit.not(),
                    None => Bool::from_bool(false),
                };
                Ok(if cond == JmpCond::Eq { is_null } else { is_null.not() })
            }
            _ => match (self.address(&a), self.address(&b)) {
                (Some(x), Some(y)) if width == Width::W64 => Ok(jmp_cond(width, cond, &x, &y)),
                _ => Err(Stop::Unsupported("comparison of pointers the encoding cannot relate".into())),
            },
        }
    }

    fn helper(&mut self, env: &Env<'_>, id: i32) -> Result<(), Stop> {
        let proto = helper_proto_for(env.prog_type, id).ok_or_else(|| Stop::Unsupported(format!("helper {id}")))?;
        if proto.changes_pkt_data {
            return Err(Stop::Unsupported(format!("helper {id} changes packet data")));
        }
        let mut args = Vec::new();
        for i in 0..5 {
            if proto.arg(i) != ArgKind::DontCare {
                args.push(self.reg(Reg(i as u8 + 1))?);
            } else {
                args.push(SVal::Uninit);
            }
        }
        let r0 = match id {
            1 => self.map_lookup(env, &args)?,
            131 => self.ringbuf_reserve(env, &args)?,
            132 | 133 => {
                match args.first() {
                    Some(SVal::Ptr { region: SRegion::MapValue { buf }, off, null }) if konst(off) == Some(0) => {
                        if let Some(hit) = null {
                            self.require(hit.clone())?;
                        }
                        match self.bufs.get_mut(*buf) {
                            Some(b) if b.mem && !b.released => b.released = true,
                            _ => return Err(Stop::Fault),
                        }
                    }
                    _ => return Err(Stop::Unsupported("ringbuf record argument the encoding cannot follow".into())),
                }
                SVal::Uninit
            }
            2 | 3 => SVal::Scalar(self.fresh("map_update")),
            12 | 26 => return Err(Stop::Unsupported(format!("helper {id}"))),
            _ => match proto.ret {
                RetKind::Void => SVal::Uninit,
                RetKind::Integer => {
                    let v = self.fresh(&format!("helper{id}"));
                    match proto.ret_range {
                        Some((lo, hi)) => self.constraints.push(Bool::and(&[
                            v.bvsge(lit(lo as u64)),
                            v.bvsle(lit(hi as u64)),
                        ])),
                        None if crate::abi::ret_bounded_by_size_arg(id).is_some() => {
                            // `-MAX_ERRNO..=size` for a constant size argument.
                            let size = crate::abi::ret_bounded_by_size_arg(id)
                                .and_then(|i| args.get(i))
                                .and_then(|a| match a {
                                    SVal::Scalar(b) => konst(b),
                                    _ => None,
                                })
                                .ok_or_else(|| Stop::Unsupported(format!("helper {id} result bounded by a variable size")))?;
                            let lo = (-crate::abi::helpers::MAX_ERRNO) as u64;
                            self.constraints.push(Bool::and(&[v.bvsge(lit(lo)), v.bvsle(lit(size))]));
                        }
                        None => {}
                    }
                    self.returns.push((id, v.clone()));
                    SVal::Scalar(v)
                }
                r => return Err(Stop::Unsupported(format!("helper {id} returning {r:?}"))),
            },
        };
        // Memory the helper may write is havocked: whole stack frames, map value buffers, the
        // packet and ctx behind pointer arguments; an update or delete may rewrite every value
        // of its map that the program holds a pointer to.
        if matches!(id, 2 | 3) {
            if let Some(SVal::Ptr { region: SRegion::Map { map }, .. }) = args.first() {
                let map = *map;
                self.havoc_map(map, None);
            }
        } else if id != 1 {
            for a in &args {
                if let SVal::Ptr { region, .. } = a {
                    self.havoc_region(*region);
                }
            }
        }
        let f = self.frame_mut()?;
        for r in f.regs.iter_mut().skip(1).take(5) {
            *r = SVal::Uninit;
        }
        if let Some(slot) = f.regs.get_mut(0) {
            *slot = r0;
        }
        Ok(())
    }

    /// Forgets the contents of `region` (a helper may have written it).
    fn havoc_region(&mut self, region: SRegion) {
        match region {
            SRegion::Stack { depth } => {
                let fresh = self.fresh_array("havoc");
                if let Some(f) = self.frames.get_mut(depth) {
                    f.stack = fresh;
                    f.spills.clear();
                }
            }
            SRegion::MapValue { buf } => {
                if let Some(map) = self.bufs.get(buf).map(|b| b.map) {
                    self.havoc_map(map, None);
                }
            }
            SRegion::Packet => self.pkt = self.fresh_array("havoc_pkt"),
            SRegion::Ctx => self.ctx = self.fresh_array("havoc_ctx"),
            SRegion::PacketEnd | SRegion::Map { .. } => {}
        }
    }

    /// Forgets the current contents of every value buffer of `map` except `keep` (they may alias).
    fn havoc_map(&mut self, map: u32, keep: Option<usize>) {
        for i in 0..self.bufs.len() {
            if Some(i) == keep || self.bufs.get(i).map(|b| b.map) != Some(map) {
                continue;
            }
            let fresh = self.fresh_array("havoc_value");
            if let Some(b) = self.bufs.get_mut(i) {
                b.cur = fresh;
            }
        }
    }

    /// `bpf_ringbuf_reserve`: NULL when the queued result is 0 or the size exceeds the ring.
    fn ringbuf_reserve(&mut self, env: &Env<'_>, args: &[SVal]) -> Result<SVal, Stop> {
        let Some(SVal::Ptr { region: SRegion::Map { map }, .. }) = args.first() else {
            return Err(Stop::Unsupported("ringbuf reserve without a constant map".into()));
        };
        let cap = env.maps.get(*map as usize).map_or(1 << 20, |m| u64::from(m.max_entries)).min(1 << 20);
        let size = match args.get(1) {
            Some(SVal::Scalar(s)) => konst(s).ok_or_else(|| Stop::Unsupported("ringbuf record of variable size".into()))?,
            _ => return Err(Stop::Fault),
        };
        if size > 4096 {
            return Err(Stop::Unsupported("ringbuf record too large".into()));
        }
        let q = self.fresh("helper131");
        self.returns.push((131, q.clone()));
        let hit = Bool::and(&[q.eq(lit(0)).not(), Bool::from_bool(size <= cap)]);
        let arr = self.fresh_array("ringbuf");
        self.bufs.push(Buf {
            map: NO_MAP,
            value_size: size as u32,
            initial: arr.clone(),
            cur: arr,
            key: None,
            hit: Some(hit.clone()),
            mem: true,
            released: false,
            reads: Vec::new(),
        });
        Ok(SVal::Ptr { region: SRegion::MapValue { buf: self.bufs.len() - 1 }, off: lit(0), null: Some(hit) })
    }

    fn map_lookup(&mut self, env: &Env<'_>, args: &[SVal]) -> Result<SVal, Stop> {
        let Some(SVal::Ptr { region: SRegion::Map { map }, .. }) = args.first() else {
            return Err(Stop::Unsupported("map lookup without a constant map".into()));
        };
        let map = *map;
        let def = env.maps.get(map as usize).ok_or(Stop::Fault)?;
        if map_lookup_result(def.map_type) != Some(LookupResult::MapValue) {
            return Err(Stop::Unsupported("lookup in a map that does not hold values".into()));
        }
        let Some(SVal::Ptr { region: SRegion::Stack { depth }, off, .. }) = args.get(1) else {
            return Err(Stop::Unsupported("map key not on the stack".into()));
        };
        if def.key_size > 512 || def.value_size > 1 << 20 {
            return Err(Stop::Unsupported(format!("map key or value too large (key_size={} value_size={})", def.key_size, def.value_size)));
        }
        let k = konst(off).map(|a| a as i64).ok_or_else(|| Stop::Unsupported("key at a variable offset".into()))?;
        if k < -512 || k + i64::from(def.key_size) > 0 {
            return Err(Stop::Fault);
        }
        let stack = self.frames.get(*depth).map(|f| f.stack.clone()).ok_or(Stop::Fault)?;
        let key: Vec<BV> = (0..def.key_size)
            .map(|i| {
                stack.select(&lit((k + i64::from(i)) as u64)).as_bv().unwrap_or_else(|| BV::from_u64(0, 8))
            })
            .collect();
        // `max_entries == 0` in the object means the loader sets it: the hit is then unknown.
        let hit = if matches!(def.map_type, BPF_MAP_TYPE_ARRAY | BPF_MAP_TYPE_PERCPU_ARRAY) && def.max_entries > 0 {
            let idx = load_bytes(&stack, &lit(k as u64), def.key_size.min(4));
            idx.zero_ext(64 - idx.get_size()).bvult(lit(u64::from(def.max_entries)))
        } else {
            self.counter += 1;
            Bool::new_const(format!("hit!{}", self.counter))
        };
        let arr = self.fresh_array(&format!("value{map}"));
        self.bufs.push(Buf {
            map,
            value_size: def.value_size,
            initial: arr.clone(),
            cur: arr,
            key: Some(key),
            hit: Some(hit.clone()),
            mem: false,
            released: false,
            reads: Vec::new(),
        });
        Ok(SVal::Ptr { region: SRegion::MapValue { buf: self.bufs.len() - 1 }, off: lit(0), null: Some(hit) })
    }

    /// A bpf-to-bpf call: a new frame with R1-R5 passed.
    pub(crate) fn enter_call(&mut self) -> Result<(), Stop> {
        let depth = self.frames.len();
        if depth >= 8 {
            return Err(Stop::Fault);
        }
        let mut regs = vec![SVal::Uninit; 11];
        let caller = self.frame()?;
        for i in 1..=5 {
            if let (Some(d), Some(s)) = (regs.get_mut(i), caller.regs.get(i)) {
                *d = s.clone();
            }
        }
        regs[10] = SVal::Ptr { region: SRegion::Stack { depth }, off: lit(0), null: None };
        let stack = self.fresh_array(&format!("stack{depth}"));
        self.frames.push(SFrame { regs, stack, spills: BTreeMap::new() });
        Ok(())
    }

    /// Return from a bpf-to-bpf call: R0 passed back, R1-R5 clobbered.
    pub(crate) fn leave_call(&mut self) -> Result<(), Stop> {
        if self.frames.len() < 2 {
            return Err(Stop::Fault);
        }
        let callee = self.frames.pop().ok_or(Stop::Fault)?;
        let r0 = callee.regs.first().cloned().unwrap_or(SVal::Uninit);
        if matches!(r0, SVal::Ptr { region: SRegion::Stack { .. }, .. }) {
            return Err(Stop::Unsupported("stack pointer returned from a call".into()));
        }
        let f = self.frame_mut()?;
        for r in f.regs.iter_mut().skip(1).take(5) {
            *r = SVal::Uninit;
        }
        if let Some(slot) = f.regs.get_mut(0) {
            *slot = r0;
        }
        Ok(())
    }
}

/// Tracing-like types whose 8-byte ctx loads are BTF objects in the interpreter.
fn btf_ctx(t: ProgType) -> bool {
    use ProgType::*;
    matches!(t, Tracing | Lsm | StructOps | Ext)
}

fn w32(x: &BV) -> BV {
    x.extract(31, 0)
}

/// RFC 9669 ALU on scalars (`x / 0 = 0`, `x % 0 = x`, shifts masked).
pub(crate) fn scalar_alu(width: Width, op: AluOp, a: &BV, b: &BV) -> BV {
    let (x, y, bits) = match width {
        Width::W64 => (a.clone(), b.clone(), 64u32),
        Width::W32 => (w32(a), w32(b), 32u32),
    };
    let zero = BV::from_u64(0, bits);
    let mask = BV::from_u64(u64::from(bits - 1), bits);
    let r = match op {
        AluOp::Add => x.bvadd(&y),
        AluOp::Sub => x.bvsub(&y),
        AluOp::Mul => x.bvmul(&y),
        AluOp::Div => y.eq(&zero).ite(&zero, &x.bvudiv(&y)),
        AluOp::SDiv => y.eq(&zero).ite(&zero, &x.bvsdiv(&y)),
        AluOp::Mod => y.eq(&zero).ite(&x, &x.bvurem(&y)),
        AluOp::SMod => y.eq(&zero).ite(&x, &x.bvsrem(&y)),
        AluOp::Or => x.bvor(&y),
        AluOp::And => x.bvand(&y),
        AluOp::Xor => x.bvxor(&y),
        AluOp::Lsh => x.bvshl(y.bvand(&mask)),
        AluOp::Rsh => x.bvlshr(y.bvand(&mask)),
        AluOp::Arsh => x.bvashr(y.bvand(&mask)),
        AluOp::Neg => x.bvneg(),
        AluOp::Mov => y,
        AluOp::MovSx(n) => {
            let n = u32::from(n).clamp(1, bits);
            if n >= bits {
                y
            } else {
                y.extract(n - 1, 0).sign_ext(bits - n)
            }
        }
    };
    if bits == 32 {
        r.zero_ext(32)
    } else {
        r
    }
}

fn endian(kind: Endian, bits: u8, x: &BV) -> BV {
    let bits = u32::from(bits).clamp(8, 64) / 8 * 8;
    let low = x.extract(bits - 1, 0);
    let v = match kind {
        Endian::ToLe => low,
        Endian::ToBe | Endian::Swap => {
            let mut out = low.extract(7, 0);
            for i in 1..bits / 8 {
                out = out.concat(low.extract(8 * i + 7, 8 * i));
            }
            out
        }
    };
    if bits == 64 {
        v
    } else {
        v.zero_ext(64 - bits)
    }
}

pub(crate) fn jmp_cond(width: Width, cond: JmpCond, a: &BV, b: &BV) -> Bool {
    let (x, y) = match width {
        Width::W64 => (a.clone(), b.clone()),
        Width::W32 => (w32(a), w32(b)),
    };
    match cond {
        JmpCond::Eq => x.eq(&y),
        JmpCond::Ne => x.eq(&y).not(),
        JmpCond::Gt => x.bvugt(&y),
        JmpCond::Ge => x.bvuge(&y),
        JmpCond::Lt => x.bvult(&y),
        JmpCond::Le => x.bvule(&y),
        JmpCond::SGt => x.bvsgt(&y),
        JmpCond::SGe => x.bvsge(&y),
        JmpCond::SLt => x.bvslt(&y),
        JmpCond::SLe => x.bvsle(&y),
        JmpCond::Set => x.bvand(&y).eq(BV::from_u64(0, x.get_size())).not(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alu_follows_rfc_semantics() {
        let v = |x: BV| konst(&x);
        assert_eq!(v(scalar_alu(Width::W64, AluOp::Div, &lit(7), &lit(0))), Some(0));
        assert_eq!(v(scalar_alu(Width::W64, AluOp::Mod, &lit(7), &lit(0))), Some(7));
        assert_eq!(v(scalar_alu(Width::W32, AluOp::Add, &lit(u64::MAX), &lit(2))), Some(1));
        assert_eq!(v(scalar_alu(Width::W64, AluOp::Lsh, &lit(1), &lit(65))), Some(2));
        assert_eq!(v(scalar_alu(Width::W64, AluOp::MovSx(8), &lit(0), &lit(0x80))), Some(0xffff_ffff_ffff_ff80));
        assert_eq!(v(endian(Endian::ToBe, 16, &lit(0x1234))), Some(0x3412));
    }

    #[test]
    fn bounds_are_signed_and_do_not_wrap() {
        let c = in_bounds(&lit(u64::MAX), 1, &lit(0), &lit(8));
        assert_eq!(c.simplify().as_bool(), Some(false));
        let c = in_bounds(&lit(7), 1, &lit(0), &lit(8));
        assert_eq!(c.simplify().as_bool(), Some(true));
        let c = in_bounds(&lit(8), 1, &lit(0), &lit(8));
        assert_eq!(c.simplify().as_bool(), Some(false));
    }
}
