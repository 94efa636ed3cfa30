//! Symbolic execution of one loop iteration on Z3 bit-vectors: the machine state
//! (`SymState`) as terms over the loop head's variables, and the transfer of one
//! instruction or one CFG edge.
//!
//! Registers are 64-bit vectors. Memory is not modelled except the stack slots of
//! the loop's frames accessed at fixed offsets from the frame pointer (spilled loop
//! counters at -O0/-O1): each `(off, size)` key is a variable. Every other load is a
//! fresh variable (an unknown scalar, as the kernel sees a load from a map value or
//! the packet), helper calls set R0-R5 to fresh variables, and a store through a
//! pointer that may point into the stack at an unknown offset sets every tracked
//! slot to a fresh variable ("havoc") and marks the encoding imprecise.
//!
//! Each value carries what the encoding knows about it being a stack pointer
//! ([`StackInfo`]) and the set of head variables it depends on (`deps`, a bit set),
//! which picks the pairs of variables compared by the loop's exit guards as
//! ranking candidates.
//!
//! Precision losses: stores to maps, ctx and packet are forgotten (a later load
//! of the same address is a fresh value); a slot access at an offset that only
//! partly overlaps a tracked key makes the key fresh.

use crate::abi::helpers::{helper_proto, ArgKind};
use crate::insn::{AluOp, AtomicOp, Endian, Insn, JmpCond, LdImm64Src, Operand, Reg, Size, Width};
use std::collections::BTreeMap;
use z3::ast::{Ast, Bool, BV};

/// What is known about a value being a pointer into a stack frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StackInfo {
    /// Certainly not a stack pointer.
    No,
    /// `fp + off` of the frame at call depth `depth`.
    Fp { depth: usize, off: i64 },
    /// May point anywhere into some stack frame.
    Maybe,
}

impl StackInfo {
    fn join(self, o: StackInfo) -> StackInfo {
        if self == o {
            self
        } else if self == StackInfo::No && o == StackInfo::No {
            StackInfo::No
        } else {
            StackInfo::Maybe
        }
    }

    fn is_stack(self) -> bool {
        self != StackInfo::No
    }
}

/// One symbolic value.
#[derive(Clone, Debug)]
pub(crate) struct SymVal {
    pub(crate) bv: BV,
    pub(crate) stack: StackInfo,
    /// Bit `i`: depends on head variable `i` (saturates at 64 variables).
    pub(crate) deps: u64,
}

impl SymVal {
    pub(crate) fn new(bv: BV, stack: StackInfo, deps: u64) -> SymVal {
        SymVal { bv, stack, deps }
    }

    pub(crate) fn scalar(bv: BV) -> SymVal {
        SymVal {
            bv,
            stack: StackInfo::No,
            deps: 0,
        }
    }
}

/// A stack slot key: byte offset from the frame pointer and access size.
pub(crate) type SlotKey = (i64, u32);

/// One call frame of the symbolic state.
#[derive(Clone, Debug)]
pub(crate) struct SymFrame {
    /// Absolute call depth (0 = main).
    pub(crate) depth: usize,
    pub(crate) regs: Vec<SymVal>,
    pub(crate) slots: BTreeMap<SlotKey, SymVal>,
}

/// The symbolic state: frames from the loop head's frame (index 0) to the current one.
#[derive(Clone, Debug)]
pub(crate) struct SymState {
    pub(crate) frames: Vec<SymFrame>,
}

/// Term factory and side constraints shared by one loop's encoding.
pub(crate) struct SymCtx {
    counter: u64,
    /// Prefix of every fresh name, so several encodings can share one formula.
    tag: String,
    /// Constraints every model must satisfy (frame pointer layout, merges, ...).
    pub(crate) constraints: Vec<Bool>,
    /// A store or call may have changed tracked memory in a way the encoding lost.
    pub(crate) imprecise: bool,
    /// Slot keys of the head frame the instructions accessed through its frame pointer.
    pub(crate) discovered: std::collections::BTreeSet<SlotKey>,
    /// Depth of the loop head's frame.
    pub(crate) head_depth: usize,
    /// Operands of the conditional jumps met: dependency sets of dst and src, and
    /// src's value when it is a constant.
    pub(crate) compares: Vec<(u64, u64, Option<u64>)>,
}

/// The 64-bit constant `v`.
pub(crate) fn lit(v: u64) -> BV {
    BV::from_u64(v, 64)
}

/// The frame pointer of the frame at `depth`: a named constant, the same in every term.
pub(crate) fn fp_base(depth: usize) -> BV {
    BV::new_const(format!("fp{depth}"), 64)
}

/// The base address of a non-stack pointer kind, by name.
pub(crate) fn base(name: &str) -> BV {
    BV::new_const(format!("base.{name}"), 64)
}

impl SymCtx {
    #[cfg(test)]
    pub(crate) fn new(head_depth: usize) -> SymCtx {
        SymCtx::with_tag(head_depth, "")
    }

    /// A context whose fresh names all start with `tag`.
    pub(crate) fn with_tag(head_depth: usize, tag: &str) -> SymCtx {
        SymCtx {
            counter: 0,
            tag: tag.to_string(),
            constraints: Vec::new(),
            imprecise: false,
            discovered: Default::default(),
            head_depth,
            compares: Vec::new(),
        }
    }

    /// A fresh 64-bit variable.
    pub(crate) fn fresh(&mut self, what: &str) -> BV {
        self.counter += 1;
        BV::new_const(format!("{}{what}!{}", self.tag, self.counter), 64)
    }

    pub(crate) fn fresh_bool(&mut self, what: &str) -> Bool {
        self.counter += 1;
        Bool::new_const(format!("{}{what}!{}", self.tag, self.counter))
    }

    fn fresh_val(&mut self, what: &str) -> SymVal {
        SymVal::scalar(self.fresh(what))
    }

    /// Fresh values for R1-R5 and R0 (what a call leaves behind).
    fn clobber_call_regs(&mut self, st: &mut SymState) {
        let Some(f) = st.frames.last_mut() else {
            return;
        };
        for r in 0..=5 {
            let v = self.fresh_val(&format!("call.r{r}"));
            if let Some(slot) = f.regs.get_mut(r) {
                *slot = v;
            }
        }
    }

    /// Every tracked slot of every frame gets a fresh value.
    pub(crate) fn havoc_all_slots(&mut self, st: &mut SymState) {
        self.imprecise = true;
        for f in st.frames.iter_mut() {
            let keys: Vec<SlotKey> = f.slots.keys().copied().collect();
            for k in keys {
                let v = self.fresh_val("havoc.slot");
                f.slots.insert(k, v);
            }
        }
    }

    /// Slots of frame `depth` overlapping `[lo, hi)` get fresh values.
    fn havoc_range(&mut self, st: &mut SymState, depth: usize, lo: i64, hi: i64) {
        let Some(f) = frame_at(st, depth, self.head_depth) else {
            return;
        };
        let keys: Vec<SlotKey> = f
            .slots
            .keys()
            .copied()
            .filter(|&(o, s)| o < hi && o + s as i64 > lo)
            .collect();
        for k in keys {
            let v = SymVal::scalar(self.fresh("havoc.slot"));
            if let Some(f) = frame_at(st, depth, self.head_depth) {
                f.slots.insert(k, v);
            }
        }
    }

    /// A memory write of unknown extent through `ptr` (a helper's output argument, memset).
    fn write_through(&mut self, st: &mut SymState, ptr: StackInfo, len: Option<u64>) {
        match ptr {
            StackInfo::No => {}
            StackInfo::Fp { depth, off } => {
                let hi = match len {
                    Some(n) => off.saturating_add(n.min(1 << 20) as i64),
                    None => 0,
                };
                self.havoc_range(st, depth, off, hi.max(off + 1));
            }
            StackInfo::Maybe => self.havoc_all_slots(st),
        }
    }

    fn read(&self, st: &SymState, r: Reg) -> Option<SymVal> {
        st.frames.last()?.regs.get(r.index()).cloned()
    }

    fn write(st: &mut SymState, r: Reg, v: SymVal) {
        if let Some(f) = st.frames.last_mut() {
            if let Some(slot) = f.regs.get_mut(r.index()) {
                *slot = v;
            }
        }
    }

    fn operand(&self, st: &SymState, o: Operand) -> Option<SymVal> {
        match o {
            Operand::Reg(r) => self.read(st, r),
            Operand::Imm(i) => Some(SymVal::scalar(lit(i as i64 as u64))),
        }
    }

    /// Runs one instruction. `intrinsic_call`: a local call that falls through (memset/memcpy).
    /// Returns false for instructions that leave the loop's symbolic model (none today).
    pub(crate) fn step(
        &mut self,
        st: &mut SymState,
        insn: &Insn,
        pc: usize,
        fallthrough_local_call: bool,
    ) {
        match *insn {
            Insn::Alu {
                width,
                op,
                dst,
                src,
            } => {
                let (Some(a), Some(b)) = (self.read(st, dst), self.operand(st, src)) else {
                    return;
                };
                let v = alu(width, op, &a, &b);
                Self::write(st, dst, v);
            }
            Insn::Endian { kind, bits, dst } => {
                let Some(a) = self.read(st, dst) else { return };
                let v = endian(kind, bits, &a.bv);
                Self::write(st, dst, SymVal::new(v, StackInfo::No, a.deps));
            }
            Insn::LdImm64 {
                dst,
                src,
                imm,
                next_imm,
            } => {
                let v = match src {
                    LdImm64Src::Imm => lit(Insn::imm64(imm, next_imm)),
                    LdImm64Src::MapFd | LdImm64Src::MapIdx => base(&format!("map{imm}")),
                    LdImm64Src::MapValue | LdImm64Src::MapIdxValue => {
                        base(&format!("mapvalue{imm}")).bvadd(lit(next_imm as u32 as u64))
                    }
                    LdImm64Src::Func => base(&format!("func{pc}")),
                    LdImm64Src::BtfId => base(&format!("btf{imm}")),
                };
                Self::write(st, dst, SymVal::scalar(v));
            }
            Insn::Ldx {
                size,
                sign_ext,
                dst,
                src,
                off,
            } => {
                let Some(p) = self.read(st, src) else { return };
                let v = self.load(st, p.stack, off as i64, size, sign_ext);
                Self::write(st, dst, v);
            }
            Insn::St {
                size,
                dst,
                off,
                imm,
            } => {
                let Some(p) = self.read(st, dst) else { return };
                self.store(
                    st,
                    p.stack,
                    off as i64,
                    size,
                    SymVal::scalar(lit(imm as i64 as u64)),
                );
            }
            Insn::Stx {
                size,
                dst,
                src,
                off,
            } => {
                let (Some(p), Some(v)) = (self.read(st, dst), self.read(st, src)) else {
                    return;
                };
                self.store(st, p.stack, off as i64, size, v);
            }
            Insn::Atomic {
                size,
                op,
                fetch,
                dst,
                src,
                off,
            } => {
                let (Some(p), Some(s)) = (self.read(st, dst), self.read(st, src)) else {
                    return;
                };
                self.atomic(st, p.stack, off as i64, size, op, fetch, src, &s);
            }
            Insn::LdAbs { .. } | Insn::LdInd { .. } => {
                // R0 = packet data; R1-R5 clobbered as after a call.
                self.clobber_call_regs(st);
            }
            Insn::Call(crate::insn::CallTarget::Helper(id)) => self.helper_call(st, id),
            Insn::Call(crate::insn::CallTarget::Kfunc { .. }) => {
                let any_stack =
                    (1..=5).any(|r| self.read(st, Reg(r)).is_some_and(|v| v.stack.is_stack()));
                if any_stack {
                    self.havoc_all_slots(st);
                }
                self.clobber_call_regs(st);
            }
            Insn::Call(crate::insn::CallTarget::Local(_)) => {
                if fallthrough_local_call {
                    // memset/memcpy: writes R3 bytes at R1.
                    let dst = self
                        .read(st, Reg::R1)
                        .map(|v| v.stack)
                        .unwrap_or(StackInfo::Maybe);
                    let len = self
                        .read(st, Reg::R3)
                        .and_then(|v| v.bv.simplify().as_u64());
                    self.write_through(st, dst, len);
                    self.clobber_call_regs(st);
                }
                // Otherwise the call edge pushes the callee's frame.
            }
            Insn::Ja { .. } | Insn::Jmp { .. } | Insn::Exit | Insn::LdImm64Tail => {}
        }
    }

    fn helper_call(&mut self, st: &mut SymState, id: i32) {
        let args: Vec<Option<SymVal>> = (1..=5).map(|r| self.read(st, Reg(r))).collect();
        match helper_proto(id) {
            Some(proto) => {
                for (i, a) in args.iter().enumerate() {
                    let Some(a) = a else { continue };
                    if !a.stack.is_stack() {
                        continue;
                    }
                    let len = match proto.arg(i) {
                        k if !may_write(k) => continue,
                        ArgKind::PtrToLong => Some(8),
                        ArgKind::PtrToInt => Some(4),
                        ArgKind::PtrToDynptr => Some(16),
                        _ => match proto.arg(i + 1) {
                            ArgKind::ConstSize | ArgKind::ConstSizeOrZero => args
                                .get(i + 1)
                                .and_then(|s| s.as_ref())
                                .and_then(|s| s.bv.simplify().as_u64()),
                            _ => None,
                        },
                    };
                    self.write_through(st, a.stack, len);
                }
            }
            None => {
                if args.iter().flatten().any(|a| a.stack.is_stack()) {
                    self.havoc_all_slots(st);
                }
            }
        }
        self.clobber_call_regs(st);
    }

    fn load(
        &mut self,
        st: &mut SymState,
        ptr: StackInfo,
        off: i64,
        size: Size,
        sign_ext: bool,
    ) -> SymVal {
        let n = size.bytes();
        let StackInfo::Fp {
            depth,
            off: base_off,
        } = ptr
        else {
            // A load of 8 bytes through a maybe-stack pointer may fill a spilled stack pointer.
            let stack = if ptr == StackInfo::Maybe && n == 8 {
                StackInfo::Maybe
            } else {
                StackInfo::No
            };
            return SymVal::new(self.fresh("load"), stack, 0);
        };
        let key = (base_off + off, n);
        if depth == self.head_depth {
            self.discovered.insert(key);
        }
        let head_depth = self.head_depth;
        let existing = frame_at(st, depth, head_depth).and_then(|f| f.slots.get(&key).cloned());
        let v = match existing {
            Some(v) => v,
            None => {
                let v = SymVal::new(
                    self.fresh("slot"),
                    if n == 8 {
                        StackInfo::Maybe
                    } else {
                        StackInfo::No
                    },
                    0,
                );
                if let Some(f) = frame_at(st, depth, head_depth) {
                    f.slots.insert(key, v.clone());
                }
                v
            }
        };
        if sign_ext && n < 8 {
            let bits = 8 * n;
            return SymVal::new(
                v.bv.extract(bits - 1, 0).sign_ext(64 - bits),
                StackInfo::No,
                v.deps,
            );
        }
        v
    }

    fn store(&mut self, st: &mut SymState, ptr: StackInfo, off: i64, size: Size, v: SymVal) {
        let n = size.bytes();
        match ptr {
            StackInfo::No => {}
            StackInfo::Maybe => self.havoc_all_slots(st),
            StackInfo::Fp {
                depth,
                off: base_off,
            } => {
                let key = (base_off + off, n);
                if depth == self.head_depth {
                    self.discovered.insert(key);
                }
                let stored = if n < 8 {
                    SymVal::new(
                        v.bv.extract(8 * n - 1, 0).zero_ext(64 - 8 * n),
                        StackInfo::No,
                        v.deps,
                    )
                } else {
                    v
                };
                let head_depth = self.head_depth;
                let Some(f) = frame_at(st, depth, head_depth) else {
                    return;
                };
                let (lo, hi) = (key.0, key.0 + n as i64);
                let others: Vec<SlotKey> = f
                    .slots
                    .keys()
                    .copied()
                    .filter(|&k| k != key && k.0 < hi && k.0 + k.1 as i64 > lo)
                    .collect();
                for k in others {
                    let inside = k.0 >= lo && k.0 + k.1 as i64 <= hi;
                    let nv = if inside {
                        let b = (k.0 - lo) as u32;
                        let part = stored.bv.extract(8 * (b + k.1) - 1, 8 * b);
                        SymVal::new(
                            if k.1 < 8 {
                                part.zero_ext(64 - 8 * k.1)
                            } else {
                                part
                            },
                            StackInfo::No,
                            stored.deps,
                        )
                    } else {
                        SymVal::scalar(self.fresh("slot.partial"))
                    };
                    f.slots.insert(k, nv);
                }
                f.slots.insert(key, stored);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn atomic(
        &mut self,
        st: &mut SymState,
        ptr: StackInfo,
        off: i64,
        size: Size,
        op: AtomicOp,
        fetch: bool,
        src: Reg,
        s: &SymVal,
    ) {
        let n = size.bytes();
        let old = match ptr {
            StackInfo::Fp { .. } => self.load(st, ptr, off, size, false),
            _ => {
                if ptr == StackInfo::Maybe {
                    self.havoc_all_slots(st);
                }
                let v = self.fresh_val("atomic.old");
                if op == AtomicOp::CmpXchg {
                    Self::write(st, Reg::R0, v);
                } else if fetch || op == AtomicOp::Xchg {
                    Self::write(st, src, v);
                }
                return;
            }
        };
        let w = |x: &BV| {
            if n < 8 {
                x.extract(8 * n - 1, 0).zero_ext(64 - 8 * n)
            } else {
                x.clone()
            }
        };
        let new = match op {
            AtomicOp::Add => old.bv.bvadd(&s.bv),
            AtomicOp::Or => old.bv.bvor(&s.bv),
            AtomicOp::And => old.bv.bvand(&s.bv),
            AtomicOp::Xor => old.bv.bvxor(&s.bv),
            AtomicOp::Xchg => s.bv.clone(),
            AtomicOp::CmpXchg => {
                let r0 = self
                    .read(st, Reg::R0)
                    .map(|v| v.bv)
                    .unwrap_or_else(|| lit(0));
                old.bv.eq(w(&r0)).ite(&s.bv, &old.bv)
            }
        };
        let deps = old.deps | s.deps;
        self.store(st, ptr, off, size, SymVal::new(new, StackInfo::No, deps));
        if op == AtomicOp::CmpXchg {
            Self::write(
                st,
                Reg::R0,
                SymVal::new(old.bv.clone(), StackInfo::No, old.deps),
            );
        } else if fetch || op == AtomicOp::Xchg {
            Self::write(
                st,
                src,
                SymVal::new(old.bv.clone(), StackInfo::No, old.deps),
            );
        }
    }

    /// The condition under which the conditional jump `insn` is taken (or not), recording
    /// the compared operands.
    pub(crate) fn branch_cond(&mut self, st: &SymState, insn: &Insn, taken: bool) -> Bool {
        let Insn::Jmp {
            width,
            cond,
            dst,
            src,
            ..
        } = *insn
        else {
            return Bool::from_bool(true);
        };
        let (Some(a), Some(b)) = (self.read(st, dst), self.operand(st, src)) else {
            return Bool::from_bool(true);
        };
        self.compares
            .push((a.deps, b.deps, b.bv.simplify().as_u64()));
        let c = jmp_cond(width, cond, &a.bv, &b.bv);
        if taken {
            c
        } else {
            c.not()
        }
    }

    /// The call edge: a new frame with R1-R5 from the caller.
    pub(crate) fn enter_call(&mut self, st: &mut SymState) {
        let Some(caller) = st.frames.last() else {
            return;
        };
        let depth = caller.depth + 1;
        let mut regs: Vec<SymVal> = (0..11)
            .map(|r| SymVal::scalar(BV::new_const(format!("callee{depth}.r{r}"), 64)))
            .collect();
        for r in 1..=5 {
            if let (Some(d), Some(s)) = (regs.get_mut(r), caller.regs.get(r)) {
                *d = s.clone();
            }
        }
        if let Some(r10) = regs.get_mut(10) {
            *r10 = SymVal::new(fp_base(depth), StackInfo::Fp { depth, off: 0 }, 0);
        }
        for r in [0usize, 6, 7, 8, 9] {
            let v = self.fresh_val("callee.uninit");
            if let Some(d) = regs.get_mut(r) {
                *d = v;
            }
        }
        st.frames.push(SymFrame {
            depth,
            regs,
            slots: BTreeMap::new(),
        });
    }

    /// The return edge: R0 from the callee, R1-R5 clobbered. False if there is no caller
    /// frame inside the loop.
    pub(crate) fn leave_call(&mut self, st: &mut SymState) -> bool {
        if st.frames.len() < 2 {
            return false;
        }
        let Some(callee) = st.frames.pop() else {
            return false;
        };
        let r0 = callee
            .regs
            .first()
            .cloned()
            .unwrap_or_else(|| self.fresh_val("ret"));
        self.clobber_call_regs(st);
        Self::write(st, Reg::R0, SymVal::new(r0.bv, StackInfo::No, r0.deps));
        true
    }
}

/// The frame at absolute depth `depth`, if it is one of the state's frames.
fn frame_at(st: &mut SymState, depth: usize, head_depth: usize) -> Option<&mut SymFrame> {
    let i = depth.checked_sub(head_depth)?;
    st.frames.get_mut(i)
}

/// Whether a helper argument of this kind may be written by the helper.
fn may_write(k: ArgKind) -> bool {
    matches!(
        k,
        ArgKind::PtrToMem
            | ArgKind::PtrToMemOrNull
            | ArgKind::PtrToUninitMem
            | ArgKind::PtrToUninitMapValue
            | ArgKind::PtrToMapValueOrNull
            | ArgKind::PtrToLong
            | ArgKind::PtrToInt
            | ArgKind::PtrToDynptr
            | ArgKind::PtrToStack
            | ArgKind::PtrToStackOrNull
            | ArgKind::PtrToFunc
    )
}

/// eBPF ALU semantics (division by zero gives 0, modulo by zero keeps dst, shift
/// amounts masked, 32-bit results zero-extended).
fn alu(width: Width, op: AluOp, a: &SymVal, b: &SymVal) -> SymVal {
    let deps = a.deps | b.deps;
    let stack = match (op, width) {
        (AluOp::Mov, Width::W64) => b.stack,
        (AluOp::Add | AluOp::Sub, Width::W64) => match (a.stack, b.bv.simplify().as_u64()) {
            (StackInfo::Fp { depth, off }, Some(c)) if b.stack == StackInfo::No => {
                let c = c as i64;
                let off = if op == AluOp::Add {
                    off.wrapping_add(c)
                } else {
                    off.wrapping_sub(c)
                };
                StackInfo::Fp { depth, off }
            }
            (StackInfo::No, _) if b.stack == StackInfo::No => StackInfo::No,
            _ => StackInfo::Maybe,
        },
        (_, Width::W64) if a.stack.is_stack() || b.stack.is_stack() => StackInfo::Maybe,
        _ => StackInfo::No,
    };
    let deps = if op == AluOp::Mov || matches!(op, AluOp::MovSx(_)) {
        b.deps
    } else {
        deps
    };
    let bits = if width == Width::W32 { 32 } else { 64 };
    let (x, y) = if bits == 32 {
        (a.bv.extract(31, 0), b.bv.extract(31, 0))
    } else {
        (a.bv.clone(), b.bv.clone())
    };
    let zero = BV::from_u64(0, bits);
    let amt = y.bvand(BV::from_u64((bits - 1) as u64, bits));
    let y0 = y.eq(&zero);
    let r = match op {
        AluOp::Add => x.bvadd(&y),
        AluOp::Sub => x.bvsub(&y),
        AluOp::Mul => x.bvmul(&y),
        AluOp::Div => y0.ite(&zero, &x.bvudiv(&y)),
        AluOp::SDiv => y0.ite(&zero, &x.bvsdiv(&y)),
        AluOp::Mod => y0.ite(&x, &x.bvurem(&y)),
        AluOp::SMod => y0.ite(&x, &x.bvsrem(&y)),
        AluOp::Or => x.bvor(&y),
        AluOp::And => x.bvand(&y),
        AluOp::Xor => x.bvxor(&y),
        AluOp::Lsh => x.bvshl(&amt),
        AluOp::Rsh => x.bvlshr(&amt),
        AluOp::Arsh => x.bvashr(&amt),
        AluOp::Neg => x.bvneg(),
        AluOp::Mov => y.clone(),
        AluOp::MovSx(n) => {
            let n = (n as u32).clamp(8, bits);
            y.extract(n - 1, 0).sign_ext(bits - n)
        }
    };
    let r = if bits == 32 { r.zero_ext(32) } else { r };
    SymVal::new(r, stack, deps)
}

/// Byte swaps: `le` truncates (little-endian host), `be`/`bswap` reverse the low `bits`.
fn endian(kind: Endian, bits: u8, x: &BV) -> BV {
    let bits = (bits as u32).clamp(16, 64);
    let low = x.extract(bits - 1, 0);
    let r = match kind {
        Endian::ToLe => low,
        Endian::ToBe | Endian::Swap => {
            let nbytes = bits / 8;
            let mut acc = low.extract(7, 0);
            for i in 1..nbytes {
                acc = acc.concat(low.extract(8 * i + 7, 8 * i));
            }
            acc
        }
    };
    if bits < 64 {
        r.zero_ext(64 - bits)
    } else {
        r
    }
}

/// The condition of a conditional jump on 64-bit operand terms.
pub(crate) fn jmp_cond(width: Width, cond: JmpCond, a: &BV, b: &BV) -> Bool {
    let (x, y) = match width {
        Width::W64 => (a.clone(), b.clone()),
        Width::W32 => (a.extract(31, 0), b.extract(31, 0)),
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
        JmpCond::Set => {
            let w = x.get_size();
            x.bvand(&y).eq(BV::from_u64(0, w)).not()
        }
    }
}

/// Joins the states reaching one block: a value equal on every incoming edge stays as
/// it is; otherwise a fresh variable equal to the value of whichever edge was taken.
pub(crate) fn merge(
    cx: &mut SymCtx,
    incoming: &[(Bool, SymState)],
    what: &str,
) -> Option<SymState> {
    let (_, first) = incoming.first()?;
    if incoming.len() == 1 {
        return Some(first.clone());
    }
    if incoming
        .iter()
        .any(|(_, s)| s.frames.len() != first.frames.len())
    {
        return None;
    }
    let mut out = first.clone();
    for (fi, frame) in out.frames.iter_mut().enumerate() {
        for r in 0..frame.regs.len() {
            let vals: Vec<(&Bool, Option<&SymVal>)> = incoming
                .iter()
                .map(|(g, s)| (g, s.frames.get(fi).and_then(|f| f.regs.get(r))))
                .collect();
            if let Some(v) = merge_values(cx, &vals, &format!("{what}.r{r}")) {
                frame.regs[r] = v;
            }
        }
        let mut keys: std::collections::BTreeSet<SlotKey> = Default::default();
        for (_, s) in incoming {
            if let Some(f) = s.frames.get(fi) {
                keys.extend(f.slots.keys().copied());
            }
        }
        for k in keys {
            let vals: Vec<(&Bool, Option<&SymVal>)> = incoming
                .iter()
                .map(|(g, s)| (g, s.frames.get(fi).and_then(|f| f.slots.get(&k))))
                .collect();
            if let Some(v) = merge_values(cx, &vals, &format!("{what}.fp{}", k.0)) {
                frame.slots.insert(k, v);
            }
        }
    }
    Some(out)
}

fn merge_values(cx: &mut SymCtx, vals: &[(&Bool, Option<&SymVal>)], what: &str) -> Option<SymVal> {
    let first = vals.first()?.1;
    let all_same = vals.iter().all(|(_, v)| match (v, first) {
        (Some(a), Some(b)) => a.bv == b.bv,
        _ => false,
    });
    if all_same {
        return first.cloned();
    }
    let m = cx.fresh(what);
    let mut stack: Option<StackInfo> = None;
    let mut deps = 0u64;
    for (g, v) in vals {
        match v {
            Some(v) => {
                cx.constraints.push(g.implies(m.eq(&v.bv)));
                stack = Some(stack.map_or(v.stack, |s| s.join(v.stack)));
                deps |= v.deps;
            }
            // Unknown on this edge (a slot first written on another path): unconstrained.
            None => stack = Some(StackInfo::Maybe),
        }
    }
    Some(SymVal::new(m, stack.unwrap_or(StackInfo::Maybe), deps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(x: &BV) -> Option<u64> {
        x.simplify().as_u64()
    }

    #[test]
    fn alu_follows_ebpf_semantics() {
        let a = SymVal::scalar(lit(7));
        let z = SymVal::scalar(lit(0));
        assert_eq!(eval(&alu(Width::W64, AluOp::Div, &a, &z).bv), Some(0));
        assert_eq!(eval(&alu(Width::W64, AluOp::Mod, &a, &z).bv), Some(7));
        let m1 = SymVal::scalar(lit(u64::MAX));
        assert_eq!(
            eval(&alu(Width::W32, AluOp::Add, &m1, &SymVal::scalar(lit(2))).bv),
            Some(1)
        );
        assert_eq!(
            eval(&alu(Width::W64, AluOp::Lsh, &a, &SymVal::scalar(lit(65))).bv),
            Some(14)
        );
        assert_eq!(
            eval(&alu(Width::W64, AluOp::MovSx(8), &z, &SymVal::scalar(lit(0x80))).bv),
            Some(0xffff_ffff_ffff_ff80)
        );
    }

    #[test]
    fn stack_pointer_offsets_are_tracked() {
        let fp = SymVal::new(fp_base(0), StackInfo::Fp { depth: 0, off: 0 }, 0);
        let r = alu(
            Width::W64,
            AluOp::Add,
            &fp,
            &SymVal::scalar(lit((-8i64) as u64)),
        );
        assert_eq!(r.stack, StackInfo::Fp { depth: 0, off: -8 });
        let unknown = SymVal::scalar(BV::new_const("x", 64));
        assert_eq!(
            alu(Width::W64, AluOp::Add, &fp, &unknown).stack,
            StackInfo::Maybe
        );
        assert_eq!(
            alu(Width::W64, AluOp::Mov, &unknown, &fp).stack,
            StackInfo::Fp { depth: 0, off: 0 }
        );
    }

    #[test]
    fn endian_swaps_bytes() {
        assert_eq!(eval(&endian(Endian::ToBe, 16, &lit(0x1234))), Some(0x3412));
        assert_eq!(
            eval(&endian(Endian::ToLe, 16, &lit(0xab1234))),
            Some(0x1234)
        );
        assert_eq!(
            eval(&endian(Endian::Swap, 32, &lit(0x11223344))),
            Some(0x44332211)
        );
    }

    #[test]
    fn narrow_stores_and_overlapping_loads() {
        let mut cx = SymCtx::new(0);
        let regs: Vec<SymVal> = (0..11).map(|_| SymVal::scalar(lit(0))).collect();
        let mut st = SymState {
            frames: vec![SymFrame {
                depth: 0,
                regs,
                slots: BTreeMap::new(),
            }],
        };
        st.frames[0].slots.insert((-4, 4), SymVal::scalar(lit(1)));
        let fp = StackInfo::Fp { depth: 0, off: 0 };
        cx.store(
            &mut st,
            fp,
            -8,
            Size::DW,
            SymVal::scalar(lit(0x1122_3344_5566_7788)),
        );
        // The u32 key at fp-4 is the high half of the u64 store.
        assert_eq!(
            st.frames[0].slots.get(&(-4, 4)).and_then(|v| eval(&v.bv)),
            Some(0x1122_3344)
        );
        let v = cx.load(&mut st, fp, -8, Size::DW, false);
        assert_eq!(eval(&v.bv), Some(0x1122_3344_5566_7788));
        cx.store(&mut st, fp, -4, Size::W, SymVal::scalar(lit(u64::MAX)));
        let v = cx.load(&mut st, fp, -4, Size::W, true);
        assert_eq!(eval(&v.bv), Some(u64::MAX));
        assert!(cx.discovered.contains(&(-8, 8)) && cx.discovered.contains(&(-4, 4)));
    }
}
