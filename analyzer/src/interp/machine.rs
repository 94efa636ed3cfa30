//! The step loop: fetch the instruction at pc, execute it on registers and memory, record a trace
//! step. Instruction semantics are RFC 9669's; ALU and comparisons on numbers are
//! `lattices::scalar::{eval_binop, eval_cmp}`, the reference the abstract domains are tested against.

use super::input::ConcreteInput;
use super::maps::Maps;
use super::memory::{sign_extend, Memory};
use super::outcome::{Execution, Fault, FaultKind, Outcome, TraceStep};
use super::value::{ConcreteValue, Region};
use super::{InterpLimits, InterpProgram};
use crate::abi::{ctx_access, return_range, CtxFieldKind};
use crate::gen::Rng;
use crate::insn::{AluOp, AtomicOp, CallTarget, Endian, Insn, JmpCond, LdImm64Src, Operand, Reg, Size, Width};
use crate::prog_type::ProgType;
use lattices::{BinOp, BitWidth, Cmp};
use std::collections::BTreeSet;

/// Registers of one frame, and where to continue after its `exit`.
#[derive(Clone, Debug)]
pub(super) struct Frame {
    pub(super) regs: [ConcreteValue; 11],
    return_pc: usize,
}

/// What an executed instruction does to control flow.
enum Flow {
    Next(usize),
    Exit(u64),
}

/// The whole state of one run.
pub(super) struct Machine<'a> {
    pub(super) prog: &'a InterpProgram,
    pub(super) input: &'a ConcreteInput,
    pub(super) mem: Memory,
    pub(super) frames: Vec<Frame>,
    pub(super) rng: Rng,
    /// Next unread `input.helper_returns` entry.
    pub(super) next_return: usize,
    /// Acquired references not yet released (ringbuf records, sockets).
    pub(super) refs: BTreeSet<Region>,
    /// XDP head- and tailroom left for `bpf_xdp_adjust_head`/`_tail`.
    pub(super) headroom: usize,
    pub(super) tailroom: usize,
    pub(super) steps: u64,
    max_call_depth: usize,
    allow_ptr_leaks: bool,
}

impl<'a> Machine<'a> {
    pub(super) fn new(prog: &'a InterpProgram, input: &'a ConcreteInput, limits: &InterpLimits) -> Machine<'a> {
        let mut ctx = input.ctx.clone();
        ctx.resize(crate::abi::ctx_size(prog.prog_type) as usize, 0);
        let maps = Maps::new(&prog.maps, &input.map_values);
        let mem = Memory::new(ctx, input.packet.clone(), maps, input.seed, limits.allow_uninit_stack);
        let mut regs = [ConcreteValue::Uninit; 11];
        regs[1] = ConcreteValue::Ptr { region: Region::Ctx, off: 0 };
        regs[10] = ConcreteValue::Ptr { region: Region::Stack { frame: 0 }, off: 0 };
        Machine {
            prog,
            input,
            mem,
            frames: vec![Frame { regs, return_pc: 0 }],
            rng: Rng::new(input.seed),
            next_return: 0,
            refs: BTreeSet::new(),
            headroom: 256,
            tailroom: 256,
            steps: 0,
            max_call_depth: limits.max_call_depth.clamp(1, 64),
            allow_ptr_leaks: limits.allow_ptr_leaks,
        }
    }

    pub(super) fn run(mut self, limits: &InterpLimits) -> Execution {
        let mut trace = Vec::new();
        let mut stacks: Option<(u64, std::sync::Arc<Vec<super::StackSnapshot>>)> = None;
        let mut pc = 0usize;
        let outcome = loop {
            if self.steps >= limits.max_steps {
                break Outcome::StepLimit;
            }
            self.steps += 1;
            let depth = self.frames.len() - 1;
            match self.step(pc) {
                Ok(flow) => {
                    if limits.record_trace {
                        let snap = if limits.record_stack {
                            let version = self.mem.stack_version;
                            match &stacks {
                                Some((v, s)) if *v == version => Some(s.clone()),
                                _ => {
                                    let s = std::sync::Arc::new(self.mem.stack_snapshots());
                                    stacks = Some((version, s.clone()));
                                    Some(s)
                                }
                            }
                        } else {
                            None
                        };
                        if let Some(f) = self.frames.last() {
                            trace.push(TraceStep { pc, frame: depth, regs: f.regs, stacks: snap });
                        }
                    }
                    match flow {
                        Flow::Next(next) => pc = next,
                        Flow::Exit(v) => break Outcome::Exit(v),
                    }
                }
                Err(f) => break Outcome::Fault { pc, kind: f.kind, message: f.message },
            }
        };
        Execution { outcome, trace, steps: self.steps }
    }

    pub(super) fn packet_len(&self) -> u64 {
        self.mem.packet.len() as u64
    }

    fn frame(&mut self) -> &mut Frame {
        // `frames` is never empty while running: the main frame's exit ends the run.
        let last = self.frames.len() - 1;
        &mut self.frames[last]
    }

    /// Reads a register, faulting when uninitialised.
    pub(super) fn reg(&mut self, r: Reg) -> Result<ConcreteValue, Fault> {
        match self.frame().regs.get(r.index()).copied() {
            Some(ConcreteValue::Uninit) | None => {
                Err(Fault::new(FaultKind::UninitRegister, format!("R{} !read_ok", r.0)))
            }
            Some(v) => Ok(v),
        }
    }

    /// Writes a register; R10 is read-only.
    pub(super) fn set_reg(&mut self, r: Reg, v: ConcreteValue) -> Result<(), Fault> {
        if r == Reg::FP {
            return Err(Fault::new(FaultKind::WriteToFp, "frame pointer is read only"));
        }
        match self.frame().regs.get_mut(r.index()) {
            Some(slot) => {
                *slot = v;
                Ok(())
            }
            None => Err(Fault::new(FaultKind::BadInsn, format!("R{} is invalid", r.0))),
        }
    }

    /// A register's number (a pointer's fake address), faulting when uninitialised.
    fn num(&mut self, r: Reg) -> Result<u64, Fault> {
        let v = self.reg(r)?;
        Ok(v.as_u64(self.packet_len()).unwrap_or(0))
    }

    fn operand(&mut self, src: Operand, width: Width) -> Result<ConcreteValue, Fault> {
        match src {
            Operand::Reg(r) => self.reg(r),
            Operand::Imm(i) => Ok(ConcreteValue::Scalar(match width {
                Width::W64 => i as i64 as u64,
                Width::W32 => i as u32 as u64,
            })),
        }
    }

    fn step(&mut self, pc: usize) -> Result<Flow, Fault> {
        let Some(insn) = self.prog.insns.get(pc).copied() else {
            return Err(Fault::new(FaultKind::BadInsn, format!("pc {pc} is outside the program")));
        };
        let next = pc + 1;
        match insn {
            Insn::Alu { width, op, dst, src } => self.alu(width, op, dst, src)?,
            Insn::Endian { kind, bits, dst } => {
                let v = self.num(dst)?;
                self.set_reg(dst, ConcreteValue::Scalar(endian(kind, bits, v)))?;
            }
            Insn::Ja { off, .. } => return jump(pc, i64::from(off)),
            Insn::Jmp { width, cond, dst, src, off } => {
                let x = self.num(dst)?;
                let y = self.operand(src, Width::W64)?.as_u64(self.packet_len()).unwrap_or(0);
                let bw = if width == Width::W64 { BitWidth::W64 } else { BitWidth::W32 };
                if lattices::scalar::eval_cmp(cmp(cond), bw, x, y) {
                    return jump(pc, i64::from(off));
                }
            }
            Insn::Call(CallTarget::Local(imm)) => {
                let target = pc as i64 + 1 + i64::from(imm);
                if target < 0 || target as usize >= self.prog.insns.len() {
                    return Err(Fault::new(FaultKind::BadInsn, format!("call to invalid destination {target}")));
                }
                if self.frames.len() >= self.max_call_depth {
                    return Err(Fault::new(
                        FaultKind::CallDepth,
                        format!("the call stack of {} frames is too deep", self.frames.len() + 1),
                    ));
                }
                let depth = self.frames.len();
                let caller = self.frame().regs;
                let mut regs = [ConcreteValue::Uninit; 11];
                regs[1..6].copy_from_slice(&caller[1..6]);
                regs[10] = ConcreteValue::Ptr { region: Region::Stack { frame: depth as u8 }, off: 0 };
                self.frames.push(Frame { regs, return_pc: next });
                self.mem.push_frame();
                return Ok(Flow::Next(target as usize));
            }
            Insn::Call(CallTarget::Helper(id)) => self.call_helper(id)?,
            Insn::Call(CallTarget::Kfunc { .. }) => self.call_kfunc()?,
            Insn::Exit => return self.exit(),
            Insn::LdImm64 { dst, src, imm, next_imm } => {
                let v = self.ld_imm64(pc, src, imm, next_imm)?;
                self.set_reg(dst, v)?;
                return Ok(Flow::Next(pc + 2));
            }
            Insn::LdImm64Tail => {
                return Err(Fault::new(FaultKind::BadInsn, "jump into the middle of ldimm64 insn"));
            }
            Insn::Ldx { size, sign_ext, dst, src, off } => {
                let p = self.reg(src)?;
                let a = self.mem.addr(p, i64::from(off), src.0)?;
                let mut v = self.mem.load(a, size.bytes(), sign_ext)?;
                if a.region == Region::Ctx && size == Size::DW && btf_ctx(self.prog.prog_type) {
                    v = self.mem.child_object(Region::Ctx, a.off);
                } else if a.region == Region::Ctx {
                    if let Ok(acc) = ctx_access(self.prog.prog_type, None, a.off, size.bytes(), false) {
                        v = match acc.kind {
                            CtxFieldKind::PktData | CtxFieldKind::PktMeta => {
                                ConcreteValue::Ptr { region: Region::Packet, off: 0 }
                            }
                            CtxFieldKind::PktEnd => ConcreteValue::Ptr { region: Region::PacketEnd, off: 0 },
                            _ => v,
                        };
                    }
                }
                self.set_reg(dst, v)?;
            }
            Insn::St { size, dst, off, imm } => {
                let p = self.reg(dst)?;
                let a = self.mem.addr(p, i64::from(off), dst.0)?;
                let v = imm as i64 as u64;
                self.mem.store(a, size.bytes(), ConcreteValue::Scalar(v), v)?;
            }
            Insn::Stx { size, dst, src, off } => {
                let p = self.reg(dst)?;
                let v = self.reg(src)?;
                let a = self.mem.addr(p, i64::from(off), dst.0)?;
                let bits = v.as_u64(self.packet_len()).unwrap_or(0);
                self.mem.store(a, size.bytes(), v, bits)?;
            }
            Insn::Atomic { size, op, fetch, dst, src, off } => self.atomic(size, op, fetch, dst, src, off)?,
            Insn::LdAbs { size, imm } => return self.ld_pkt(next, size, i64::from(imm)),
            Insn::LdInd { size, src, imm } => {
                let s = self.num(src)?;
                return self.ld_pkt(next, size, i64::from(imm) + i64::from(s as u32 as i32));
            }
        }
        Ok(Flow::Next(next))
    }

    fn alu(&mut self, width: Width, op: AluOp, dst: Reg, src: Operand) -> Result<(), Fault> {
        let plen = self.packet_len();
        let v = match op {
            AluOp::Mov => {
                let s = self.operand(src, width)?;
                match width {
                    Width::W64 => s,
                    Width::W32 => ConcreteValue::Scalar(s.as_u64(plen).unwrap_or(0) as u32 as u64),
                }
            }
            AluOp::MovSx(bits) => {
                let s = self.operand(src, width)?.as_u64(plen).unwrap_or(0);
                let x = sign_extend(s, u32::from(bits));
                ConcreteValue::Scalar(if width == Width::W32 { x as u32 as u64 } else { x })
            }
            AluOp::Neg => {
                let d = self.num(dst)?;
                ConcreteValue::Scalar(match width {
                    Width::W64 => d.wrapping_neg(),
                    Width::W32 => (d as u32).wrapping_neg() as u64,
                })
            }
            _ => {
                let d = self.reg(dst)?;
                let s = self.operand(src, width)?;
                match (width, op, d, s) {
                    (Width::W64, AluOp::Add, ConcreteValue::Ptr { region, off }, ConcreteValue::Scalar(x))
                    | (Width::W64, AluOp::Add, ConcreteValue::Scalar(x), ConcreteValue::Ptr { region, off }) => {
                        ConcreteValue::Ptr { region, off: off.wrapping_add(x as i64) }
                    }
                    (Width::W64, AluOp::Sub, ConcreteValue::Ptr { region, off }, ConcreteValue::Scalar(x)) => {
                        ConcreteValue::Ptr { region, off: off.wrapping_sub(x as i64) }
                    }
                    _ => {
                        let bw = if width == Width::W64 { BitWidth::W64 } else { BitWidth::W32 };
                        let (x, y) = (d.as_u64(plen).unwrap_or(0), s.as_u64(plen).unwrap_or(0));
                        ConcreteValue::Scalar(lattices::scalar::eval_binop(binop(op), bw, x, y))
                    }
                }
            }
        };
        self.set_reg(dst, v)
    }

    fn atomic(&mut self, size: Size, op: AtomicOp, fetch: bool, dst: Reg, src: Reg, off: i16) -> Result<(), Fault> {
        let p = self.reg(dst)?;
        let s = self.reg(src)?;
        let a = self.mem.addr(p, i64::from(off), dst.0)?;
        let plen = self.packet_len();
        let nbytes = size.bytes();
        let mask = if nbytes == 8 { u64::MAX } else { (1u64 << (nbytes * 8)) - 1 };
        let old = self.mem.load(a, nbytes, false)?.as_u64(plen).unwrap_or(0) & mask;
        let sv = s.as_u64(plen).unwrap_or(0);
        match op {
            AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => {
                let new = match op {
                    AtomicOp::Add => old.wrapping_add(sv),
                    AtomicOp::Or => old | sv,
                    AtomicOp::And => old & sv,
                    _ => old ^ sv,
                } & mask;
                self.mem.store(a, nbytes, ConcreteValue::Scalar(new), new)?;
                if fetch {
                    self.set_reg(src, ConcreteValue::Scalar(old))?;
                }
            }
            AtomicOp::Xchg => {
                self.mem.store(a, nbytes, s, sv)?;
                self.set_reg(src, ConcreteValue::Scalar(old))?;
            }
            AtomicOp::CmpXchg => {
                let r0 = self.num(Reg::R0)?;
                if r0 & mask == old {
                    self.mem.store(a, nbytes, s, sv)?;
                }
                self.set_reg(Reg::R0, ConcreteValue::Scalar(old))?;
            }
        }
        Ok(())
    }

    fn ld_imm64(&mut self, pc: usize, src: LdImm64Src, imm: i32, next_imm: i32) -> Result<ConcreteValue, Fault> {
        let nmaps = self.prog.maps.len();
        let map = |m: i32| -> Result<u32, Fault> {
            if m >= 0 && (m as usize) < nmaps {
                Ok(m as u32)
            } else {
                Err(Fault::new(FaultKind::UnknownMap, format!("fd {m} is not pointing to valid bpf_map")))
            }
        };
        Ok(match src {
            LdImm64Src::Imm => ConcreteValue::Scalar(Insn::imm64(imm, next_imm)),
            LdImm64Src::MapFd | LdImm64Src::MapIdx => {
                ConcreteValue::Ptr { region: Region::Map { map: map(imm)? }, off: 0 }
            }
            LdImm64Src::MapValue | LdImm64Src::MapIdxValue => {
                let m = map(imm)?;
                let key = vec![0u8; self.mem.maps.stores.get(m as usize).map_or(4, |s| s.key_size as usize)];
                let entry = self.mem.maps.entry(m, &key)?;
                ConcreteValue::Ptr { region: Region::MapValue { map: m, entry }, off: i64::from(next_imm as u32) }
            }
            LdImm64Src::BtfId => {
                let id = self.fresh_kernel_id();
                ConcreteValue::Ptr { region: Region::Kernel { id }, off: 0 }
            }
            LdImm64Src::Func => {
                let target = pc as i64 + 1 + i64::from(imm);
                ConcreteValue::Ptr { region: Region::Func { pc: target.clamp(0, u32::MAX as i64) as u32 }, off: 0 }
            }
        })
    }

    pub(super) fn fresh_kernel_id(&mut self) -> u32 {
        self.mem.fresh_kernel_id()
    }

    /// Legacy `LD_ABS`/`LD_IND`: big-endian load from the packet; out of bounds ends the program
    /// with R0 = 0, as the kernel does. R1-R5 are clobbered.
    fn ld_pkt(&mut self, next: usize, size: Size, off: i64) -> Result<Flow, Fault> {
        match self.reg(Reg::R6)? {
            ConcreteValue::Ptr { region: Region::Ctx, .. } => {}
            _ => return Err(Fault::new(FaultKind::BadPointer, "BPF_LD_[ABS|IND] expects R6 to be the ctx")),
        }
        let n = size.bytes() as i64;
        let plen = self.mem.packet.len() as i64;
        if off < 0 || off + n > plen {
            return Ok(Flow::Exit(0));
        }
        let bytes = self.mem.packet.get(off as usize..(off + n) as usize).unwrap_or(&[]);
        let v = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        self.clobber_caller_saved();
        self.set_reg(Reg::R0, ConcreteValue::Scalar(v))?;
        Ok(Flow::Next(next))
    }

    pub(super) fn clobber_caller_saved(&mut self) {
        for r in 1..=5 {
            self.frame().regs[r] = ConcreteValue::Uninit;
        }
    }

    fn exit(&mut self) -> Result<Flow, Fault> {
        let depth = self.frames.len() - 1;
        let void_ok = depth == 0 && matches!(self.prog.prog_type, ProgType::StructOps | ProgType::Lsm);
        let r0 = match self.reg(Reg::R0) {
            Err(_) if void_ok => ConcreteValue::Scalar(0),
            r => r?,
        };
        if depth > 0 {
            if let ConcreteValue::Ptr { region: Region::Stack { frame }, .. } = r0 {
                if frame as usize >= depth {
                    return Err(Fault::new(FaultKind::BadReturn, "cannot return stack pointer to the caller"));
                }
            }
            let callee = self.frames.pop();
            self.mem.pop_frame();
            let ret = callee.map_or(0, |f| f.return_pc);
            self.clobber_caller_saved();
            self.frame().regs[0] = r0;
            return Ok(Flow::Next(ret));
        }
        if !self.refs.is_empty() {
            return Err(Fault::new(
                FaultKind::UnreleasedReference,
                format!("Unreleased reference: {} acquired object(s) not released", self.refs.len()),
            ));
        }
        let range = return_range(self.prog.prog_type, self.prog.expected_attach_type);
        match (r0, range) {
            (ConcreteValue::Ptr { .. }, Some(_)) => {
                Err(Fault::new(FaultKind::BadReturn, "At program exit the register R0 is not a known value (ptr_)"))
            }
            (ConcreteValue::Ptr { .. }, None) if !self.allow_ptr_leaks => {
                Err(Fault::new(FaultKind::BadReturn, "R0 leaks addr as return value"))
            }
            (ConcreteValue::Scalar(v), Some((lo, hi))) if !(lo..=hi).contains(&(v as i64)) => Err(Fault::new(
                FaultKind::BadReturn,
                format!("At program exit the register R0 has value {v:#x} should have been in [{lo}, {hi}]"),
            )),
            (v, _) => Ok(Flow::Exit(v.as_u64(self.packet_len()).unwrap_or(0))),
        }
    }
}

/// Program types whose ctx holds BTF-typed arguments: an 8-byte ctx load yields a kernel object
/// (an approximation: scalar arguments become pointers too, whose fake addresses are arbitrary numbers).
fn btf_ctx(prog_type: ProgType) -> bool {
    matches!(prog_type, ProgType::Tracing | ProgType::Lsm | ProgType::StructOps | ProgType::Ext)
}

/// Control transfer to `pc + 1 + off` (checked when fetched).
fn jump(pc: usize, off: i64) -> Result<Flow, Fault> {
    let target = pc as i64 + 1 + off;
    usize::try_from(target)
        .map(Flow::Next)
        .map_err(|_| Fault::new(FaultKind::BadInsn, format!("jump out of range from insn {pc} to {target}")))
}

/// Byte swaps per RFC 9669: `to_le` truncates (little-endian host), `to_be` and `bswap` reverse
/// the low `bits` bits; the result is zero-extended.
fn endian(kind: Endian, bits: u8, v: u64) -> u64 {
    match (kind, bits) {
        (Endian::ToLe, 16) => v as u16 as u64,
        (Endian::ToLe, 32) => v as u32 as u64,
        (Endian::ToLe, _) => v,
        (_, 16) => (v as u16).swap_bytes() as u64,
        (_, 32) => (v as u32).swap_bytes() as u64,
        (_, _) => v.swap_bytes(),
    }
}

fn binop(op: AluOp) -> BinOp {
    match op {
        AluOp::Add => BinOp::Add,
        AluOp::Sub => BinOp::Sub,
        AluOp::Mul => BinOp::Mul,
        AluOp::Div => BinOp::Div,
        AluOp::SDiv => BinOp::SDiv,
        AluOp::Or => BinOp::Or,
        AluOp::And => BinOp::And,
        AluOp::Lsh => BinOp::Lsh,
        AluOp::Rsh => BinOp::Rsh,
        AluOp::Mod => BinOp::Mod,
        AluOp::SMod => BinOp::SMod,
        AluOp::Xor => BinOp::Xor,
        AluOp::Arsh => BinOp::Arsh,
        // Mov, MovSx and Neg are handled before; Add is a harmless stand-in.
        AluOp::Mov | AluOp::MovSx(_) | AluOp::Neg => BinOp::Add,
    }
}

fn cmp(c: JmpCond) -> Cmp {
    match c {
        JmpCond::Eq => Cmp::Eq,
        JmpCond::Ne => Cmp::Ne,
        JmpCond::Gt => Cmp::Gt,
        JmpCond::Ge => Cmp::Ge,
        JmpCond::Lt => Cmp::Lt,
        JmpCond::Le => Cmp::Le,
        JmpCond::SGt => Cmp::SGt,
        JmpCond::SGe => Cmp::SGe,
        JmpCond::SLt => Cmp::SLt,
        JmpCond::SLe => Cmp::SLe,
        JmpCond::Set => Cmp::Set,
    }
}
