//! The pieces generated programs are made of. Each snippet emits a few instructions that are
//! valid in the current [`Model`] and updates it; structured ones (branches, loops, NULL checks,
//! packet bounds checks) nest further snippets, so every generated CFG is reducible, every
//! instruction reachable and every path ends in the function's single `exit`.

use super::builder::Builder;
use super::model::{Kind, Model, Slot, NSLOTS};
use super::{GenConfig, Rng};
use crate::abi::{ctx_access, CtxFieldKind};
use crate::insn::{AluOp, AtomicOp, Endian, Insn, JmpCond, LdImm64Src, Operand, Reg, Size, Width};
use crate::object::MapDef;
use crate::prog_type::ProgType;

/// Where the snippet is being emitted.
#[derive(Clone, Copy, Debug)]
pub(super) struct Place {
    /// In the main function (R6 holds the ctx; packet, ctx and subprogram calls are available).
    pub(super) main: bool,
    /// Nesting of branches and loops.
    pub(super) depth: usize,
    pub(super) loop_depth: usize,
}

/// Generation state shared by all functions of one program.
pub(super) struct Gen<'a> {
    pub(super) rng: Rng,
    pub(super) cfg: &'a GenConfig,
    pub(super) prog_type: ProgType,
    pub(super) maps: Vec<MapDef>,
    /// Number of scalar arguments of each subprogram.
    pub(super) sub_args: Vec<usize>,
}

const ALU_OPS: [AluOp; 18] = [
    AluOp::Add,
    AluOp::Sub,
    AluOp::Mul,
    AluOp::Div,
    AluOp::SDiv,
    AluOp::Or,
    AluOp::And,
    AluOp::Lsh,
    AluOp::Rsh,
    AluOp::Neg,
    AluOp::Mod,
    AluOp::SMod,
    AluOp::Xor,
    AluOp::Mov,
    AluOp::MovSx(8),
    AluOp::MovSx(16),
    AluOp::MovSx(32),
    AluOp::Arsh,
];

const CONDS: [JmpCond; 11] = [
    JmpCond::Eq,
    JmpCond::Ne,
    JmpCond::Gt,
    JmpCond::Ge,
    JmpCond::Lt,
    JmpCond::Le,
    JmpCond::SGt,
    JmpCond::SGe,
    JmpCond::SLt,
    JmpCond::SLe,
    JmpCond::Set,
];

fn slot_off(i: usize) -> i16 {
    -8 * (i as i16 + 1)
}

fn size_of(bytes: u32) -> Size {
    match bytes {
        1 => Size::B,
        2 => Size::H,
        4 => Size::W,
        _ => Size::DW,
    }
}

impl Gen<'_> {
    fn width(&mut self) -> Width {
        if self.rng.chance(50) {
            Width::W64
        } else {
            Width::W32
        }
    }

    fn imm(&mut self) -> i32 {
        match self.rng.below(4) {
            0 => self.rng.range(-8, 8) as i32,
            1 => self.rng.range(0, 255) as i32,
            2 => self.rng.interesting_u64() as i32,
            _ => self.rng.next_u64() as i32,
        }
    }

    fn pick(&mut self, v: &[usize]) -> Option<usize> {
        self.rng.pick(v)
    }

    /// A register that may be set to kind `k`, avoiding `avoid`.
    fn dst_for(&mut self, m: &Model, k: Kind, avoid: &[usize]) -> Option<usize> {
        let c: Vec<usize> = (0..10).filter(|&r| m.can_write(r, k) && !avoid.contains(&r)).collect();
        self.pick(&c)
    }

    /// A scalar register that may be rewritten with a scalar.
    fn scalar_dst(&mut self, m: &Model, avoid: &[usize]) -> Option<usize> {
        let c: Vec<usize> = m
            .regs_of(Kind::Scalar)
            .into_iter()
            .filter(|&r| m.can_write(r, Kind::Scalar) && !avoid.contains(&r))
            .collect();
        self.pick(&c)
    }

    fn scalar_src(&mut self, m: &Model) -> Option<usize> {
        let c = m.regs_of(Kind::Scalar);
        self.pick(&c)
    }

    /// `rX = imm` into some writable register (R0 always qualifies outside reserved positions).
    pub(super) fn filler(&mut self, b: &mut Builder, m: &mut Model) {
        let r = self.dst_for(m, Kind::Scalar, &[]).unwrap_or(0);
        let imm = self.imm();
        let width = self.width();
        b.emit(Insn::Alu { width, op: AluOp::Mov, dst: Reg(r as u8), src: Operand::Imm(imm) });
        m.regs[r] = Kind::Scalar;
    }

    /// `n` snippets.
    pub(super) fn block(&mut self, b: &mut Builder, m: &mut Model, place: Place, n: usize) {
        for _ in 0..n {
            self.snippet(b, m, place);
        }
    }

    /// One snippet, or a filler when the chosen kinds cannot be emitted here.
    pub(super) fn snippet(&mut self, b: &mut Builder, m: &mut Model, place: Place) {
        let nest = place.depth < self.cfg.max_depth && b.pc() < self.cfg.max_insns;
        for _ in 0..6 {
            let emitted = match self.rng.below(24) {
                0..=5 => self.alu(b, m),
                6 => self.endian(b, m),
                7 => self.ld_imm64(b, m),
                8 | 9 if nest => self.branch(b, m, place),
                10 if nest && self.cfg.loops && place.loop_depth < 2 => self.bounded_loop(b, m, place),
                11 | 12 => self.spill(b, m),
                13 | 14 => self.fill(b, m),
                15 => self.narrow_store(b, m),
                16 | 17 if self.cfg.maps && !self.maps.is_empty() => self.map_lookup(b, m, place),
                18 | 19 if place.main && self.cfg.packet => self.packet(b, m, place),
                20 => self.stack_atomic(b, m),
                21 => self.helper(b, m),
                22 if place.main && !self.sub_args.is_empty() => self.sub_call(b, m),
                23 if place.main => self.ctx_load(b, m),
                23 => self.stack_ptr(b, m),
                _ => false,
            };
            if emitted {
                return;
            }
        }
        self.filler(b, m);
    }

    fn alu(&mut self, b: &mut Builder, m: &mut Model) -> bool {
        let width = self.width();
        let mut op = ALU_OPS[self.rng.below(ALU_OPS.len() as u64) as usize];
        if width == Width::W32 && op == AluOp::MovSx(32) {
            op = AluOp::MovSx(16);
        }
        let src_reg = self.scalar_src(m);
        if matches!(op, AluOp::MovSx(_)) && src_reg.is_none() {
            op = AluOp::Mov;
        }
        let dst = if matches!(op, AluOp::Mov | AluOp::MovSx(_)) {
            self.dst_for(m, Kind::Scalar, &[])
        } else {
            match self.scalar_dst(m, &[]) {
                Some(d) => Some(d),
                None => {
                    self.filler(b, m);
                    self.scalar_dst(m, &[])
                }
            }
        };
        let Some(dst) = dst else { return false };
        let bits = if width == Width::W64 { 64 } else { 32 };
        let src = match (op, src_reg) {
            (AluOp::MovSx(_), Some(s)) => Operand::Reg(Reg(s as u8)),
            (AluOp::Neg, _) => Operand::Imm(0),
            (_, Some(s)) if self.rng.chance(50) => Operand::Reg(Reg(s as u8)),
            (AluOp::Lsh | AluOp::Rsh | AluOp::Arsh, _) => Operand::Imm(self.rng.below(bits) as i32),
            (AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod, _) => {
                let v = self.imm();
                Operand::Imm(if v == 0 { 3 } else { v })
            }
            _ => Operand::Imm(self.imm()),
        };
        b.emit(Insn::Alu { width, op, dst: Reg(dst as u8), src });
        m.regs[dst] = Kind::Scalar;
        true
    }

    fn endian(&mut self, b: &mut Builder, m: &mut Model) -> bool {
        let Some(dst) = self.scalar_dst(m, &[]) else { return false };
        let kind = [Endian::ToLe, Endian::ToBe, Endian::Swap][self.rng.below(3) as usize];
        let bits = [16u8, 32, 64][self.rng.below(3) as usize];
        b.emit(Insn::Endian { kind, bits, dst: Reg(dst as u8) });
        true
    }

    fn ld_imm64(&mut self, b: &mut Builder, m: &mut Model) -> bool {
        let Some(dst) = self.dst_for(m, Kind::Scalar, &[]) else { return false };
        let v = self.rng.interesting_u64();
        b.emit(Insn::LdImm64 { dst: Reg(dst as u8), src: LdImm64Src::Imm, imm: v as i32, next_imm: (v >> 32) as i32 });
        m.regs[dst] = Kind::Scalar;
        true
    }

    fn body_len(&mut self) -> usize {
        self.rng.range(1, 3) as usize
    }

    /// `if cond goto ELSE; then...; [goto END; ELSE: else...;] END:`.
    fn branch(&mut self, b: &mut Builder, m: &mut Model, place: Place) -> bool {
        let Some(reg) = self.scalar_src(m) else { return false };
        let width = self.width();
        let cond = CONDS[self.rng.below(CONDS.len() as u64) as usize];
        let src = match self.scalar_src(m) {
            Some(s) if self.rng.chance(40) => Operand::Reg(Reg(s as u8)),
            _ => Operand::Imm(self.imm()),
        };
        let inner = Place { depth: place.depth + 1, ..place };
        let j = b.jmp_fwd(width, cond, Reg(reg as u8), src);
        let mut then = m.clone();
        let n = self.body_len();
        self.block(b, &mut then, inner, n);
        if self.rng.chance(30) {
            let long = self.rng.chance(20);
            let end = b.ja_fwd(long);
            b.patch(j);
            let mut other = m.clone();
            let n = self.body_len();
            self.block(b, &mut other, inner, n);
            b.patch(end);
            then.join(&other);
            *m = then;
        } else {
            b.patch(j);
            m.join(&then);
        }
        true
    }

    /// `c = 0; TOP: body; c += 1; if c < n goto TOP` with n in 1..=8.
    fn bounded_loop(&mut self, b: &mut Builder, m: &mut Model, place: Place) -> bool {
        let c: Vec<usize> = [7usize, 8, 9].into_iter().filter(|&r| m.can_write(r, Kind::Scalar)).collect();
        let Some(counter) = self.pick(&c) else { return false };
        let width = self.width();
        let n = self.rng.range(1, 8) as i32;
        let creg = Reg(counter as u8);
        b.emit(Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: creg, src: Operand::Imm(0) });
        m.regs[counter] = Kind::Scalar;
        let (frozen_regs, frozen_slots) = (m.frozen_regs, m.frozen_slots);
        m.reserved[counter] = true;
        m.enter_loop();
        let top = b.pc();
        let inner = Place { depth: place.depth + 1, loop_depth: place.loop_depth + 1, ..place };
        let len = self.body_len();
        self.block(b, m, inner, len);
        b.emit(Insn::Alu { width, op: AluOp::Add, dst: creg, src: Operand::Imm(1) });
        b.jmp_back(width, JmpCond::Lt, creg, Operand::Imm(n), top);
        m.reserved[counter] = false;
        m.frozen_regs = frozen_regs;
        m.frozen_slots = frozen_slots;
        m.regs[counter] = Kind::Scalar;
        true
    }

    /// A base register and insn offset addressing stack byte `fp + off`.
    fn stack_base(&mut self, m: &Model, off: i16) -> (Reg, i16) {
        let fps: Vec<(usize, i16)> =
            (0..10).filter_map(|r| if let Kind::Fp(o) = m.regs[r] { Some((r, o)) } else { None }).collect();
        match self.rng.pick(&fps) {
            Some((r, o)) if self.rng.chance(40) => (Reg(r as u8), off - o),
            _ => (Reg::FP, off),
        }
    }

    fn spill(&mut self, b: &mut Builder, m: &mut Model) -> bool {
        let known: Vec<usize> = (0..11).filter(|&r| m.regs[r] != Kind::Uninit).collect();
        let Some(src) = self.pick(&known) else { return false };
        let k = m.regs[src];
        let slot = if k.is_ptr() { Slot::Ptr(k) } else { Slot::Bytes(0xff) };
        let i = self.rng.below(NSLOTS as u64) as usize;
        if !m.can_write_slot(i, slot) {
            return false;
        }
        let (base, off) = self.stack_base(m, slot_off(i));
        b.emit(Insn::Stx { size: Size::DW, dst: base, src: Reg(src as u8), off });
        m.slots[i] = slot;
        true
    }

    fn fill(&mut self, b: &mut Builder, m: &mut Model) -> bool {
        let used: Vec<usize> = (0..NSLOTS).filter(|&i| !matches!(m.slots[i], Slot::Empty | Slot::Bytes(0))).collect();
        let Some(i) = self.pick(&used) else { return false };
        match m.slots[i] {
            Slot::Ptr(k) => {
                let Some(dst) = self.dst_for(m, k, &[]) else { return false };
                let (base, off) = self.stack_base(m, slot_off(i));
                b.emit(Insn::Ldx { size: Size::DW, sign_ext: false, dst: Reg(dst as u8), src: base, off });
                m.regs[dst] = k;
            }
            Slot::Bytes(mask) => {
                let mut options = Vec::new();
                for size in [1u32, 2, 4, 8] {
                    for at in (0..8).step_by(size as usize) {
                        let bits = if size == 8 { 0xff } else { (((1u16 << size) - 1) << at) as u8 };
                        if mask & bits == bits {
                            options.push((size, at as i16));
                        }
                    }
                }
                let Some((size, at)) = self.rng.pick(&options) else { return false };
                let Some(dst) = self.dst_for(m, Kind::Scalar, &[]) else { return false };
                let sign_ext = size < 8 && self.rng.chance(30);
                let (base, off) = self.stack_base(m, slot_off(i) + at);
                b.emit(Insn::Ldx { size: size_of(size), sign_ext, dst: Reg(dst as u8), src: base, off });
                m.regs[dst] = Kind::Scalar;
            }
            Slot::Empty => return false,
        }
        true
    }

    fn narrow_store(&mut self, b: &mut Builder, m: &mut Model) -> bool {
        let i = self.rng.below(NSLOTS as u64) as usize;
        let size = [1u32, 2, 4, 8][self.rng.below(4) as usize];
        let at = self.rng.below(8 / u64::from(size)) as u32 * size;
        let bits = if size == 8 { 0xff } else { (((1u16 << size) - 1) << at) as u8 };
        let new = match m.slots[i] {
            Slot::Bytes(old) => Slot::Bytes(old | bits),
            _ => Slot::Bytes(bits),
        };
        if !m.can_write_slot(i, new) {
            return false;
        }
        let (base, off) = self.stack_base(m, slot_off(i) + at as i16);
        match self.scalar_src(m) {
            Some(s) if self.rng.chance(50) => {
                b.emit(Insn::Stx { size: size_of(size), dst: base, src: Reg(s as u8), off });
            }
            _ => {
                let imm = self.imm();
                b.emit(Insn::St { size: size_of(size), dst: base, off, imm });
            }
        }
        m.slots[i] = new;
        true
    }

    fn stack_ptr(&mut self, b: &mut Builder, m: &mut Model) -> bool {
        let i = self.rng.below(NSLOTS as u64) as usize;
        let k = Kind::Fp(slot_off(i));
        let Some(dst) = self.dst_for(m, k, &[]) else { return false };
        b.emit(Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg(dst as u8), src: Operand::Reg(Reg::FP) });
        b.emit(Insn::Alu {
            width: Width::W64,
            op: AluOp::Add,
            dst: Reg(dst as u8),
            src: Operand::Imm(slot_off(i).into()),
        });
        m.regs[dst] = k;
        true
    }

    /// Atomic read-modify-write of an initialised stack slot.
    fn stack_atomic(&mut self, b: &mut Builder, m: &mut Model) -> bool {
        let full: Vec<usize> = (0..NSLOTS).filter(|&i| m.slots[i] == Slot::Bytes(0xff)).collect();
        let Some(i) = self.pick(&full) else { return false };
        let Some(src) = self.scalar_dst(m, &[0]) else { return false };
        let size = if self.rng.chance(50) { Size::DW } else { Size::W };
        let at = if size == Size::W && self.rng.chance(50) { 4 } else { 0 };
        let (base, off) = self.stack_base(m, slot_off(i) + at);
        let op = [AtomicOp::Add, AtomicOp::Or, AtomicOp::And, AtomicOp::Xor, AtomicOp::Xchg, AtomicOp::CmpXchg]
            [self.rng.below(6) as usize];
        if op == AtomicOp::CmpXchg {
            if !m.can_write(0, Kind::Scalar) || base == Reg::R0 {
                return false;
            }
            if m.regs[0] != Kind::Scalar {
                let imm = self.imm();
                b.emit(Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg::R0, src: Operand::Imm(imm) });
                m.regs[0] = Kind::Scalar;
            }
        }
        let fetch = matches!(op, AtomicOp::Xchg | AtomicOp::CmpXchg) || self.rng.chance(50);
        b.emit(Insn::Atomic { size, op, fetch, dst: base, src: Reg(src as u8), off });
        true
    }

    fn helper(&mut self, b: &mut Builder, m: &mut Model) -> bool {
        let id = [5, 7, 8][self.rng.below(3) as usize];
        b.emit(Insn::Call(crate::insn::CallTarget::Helper(id)));
        m.after_call();
        true
    }

    fn sub_call(&mut self, b: &mut Builder, m: &mut Model) -> bool {
        let sub = self.rng.below(self.sub_args.len() as u64) as usize;
        let nargs = self.sub_args.get(sub).copied().unwrap_or(0);
        for a in 1..=nargs {
            match self.scalar_src(m) {
                Some(s) if self.rng.chance(60) => b.emit(Insn::Alu {
                    width: Width::W64,
                    op: AluOp::Mov,
                    dst: Reg(a as u8),
                    src: Operand::Reg(Reg(s as u8)),
                }),
                _ => {
                    let imm = self.imm();
                    b.emit(Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg(a as u8), src: Operand::Imm(imm) })
                }
            }
            m.regs[a] = Kind::Scalar;
        }
        b.call_sub(sub);
        m.after_call();
        true
    }

    fn ctx_load(&mut self, b: &mut Builder, m: &mut Model) -> bool {
        let (off, size) = match self.prog_type {
            ProgType::Kprobe => (self.rng.below(21) as i16 * 8, Size::DW),
            ProgType::Xdp => ([12i16, 16][self.rng.below(2) as usize], Size::W),
            _ => ([0i16, 4, 8, 16, 36][self.rng.below(5) as usize], Size::W),
        };
        let ok = ctx_access(self.prog_type, None, off.into(), size.bytes(), false)
            .is_ok_and(|a| a.kind == CtxFieldKind::Scalar);
        if !ok || m.regs[6] != Kind::Ctx {
            return false;
        }
        let Some(dst) = self.dst_for(m, Kind::Scalar, &[]) else { return false };
        b.emit(Insn::Ldx { size, sign_ext: false, dst: Reg(dst as u8), src: Reg::R6, off });
        m.regs[dst] = Kind::Scalar;
        true
    }

    /// Loads, stores and atomics through `base` (a map value of `value_size` bytes, or a packet
    /// pointer with `value_size` bytes checked); `oob` makes one access go past the end.
    fn accesses(&mut self, b: &mut Builder, m: &mut Model, base: usize, value_size: u32, oob: bool, atomics: bool) {
        let n = self.rng.range(1, 3);
        for k in 0..n {
            let mut size = [1u32, 2, 4, 8][self.rng.below(4) as usize];
            while size > value_size && size > 1 {
                size /= 2;
            }
            let last_oob = oob && k == n - 1;
            let off = if last_oob {
                value_size.saturating_sub(size) + 1
            } else if value_size < size {
                continue;
            } else {
                let slots = (value_size - size) / size + 1;
                self.rng.below(u64::from(slots)) as u32 * size
            } as i16;
            let breg = Reg(base as u8);
            match self.rng.below(if atomics { 4 } else { 3 }) {
                0 => {
                    let Some(dst) = self.dst_for(m, Kind::Scalar, &[base, 2, 3]) else { continue };
                    let sign_ext = size < 8 && self.rng.chance(30);
                    b.emit(Insn::Ldx { size: size_of(size), sign_ext, dst: Reg(dst as u8), src: breg, off });
                    m.regs[dst] = Kind::Scalar;
                }
                1 => {
                    let imm = self.imm();
                    b.emit(Insn::St { size: size_of(size), dst: breg, off, imm });
                }
                2 => {
                    let Some(src) = self.scalar_src(m) else { continue };
                    b.emit(Insn::Stx { size: size_of(size), dst: breg, src: Reg(src as u8), off });
                }
                _ => {
                    let size = if value_size >= 8 && self.rng.chance(50) { 8u32 } else { 4 };
                    let off = if last_oob {
                        value_size.div_ceil(size) * size
                    } else if value_size < size {
                        continue;
                    } else {
                        self.rng.below(u64::from((value_size - size) / size + 1)) as u32 * size
                    } as i16;
                    let Some(src) = self.scalar_dst(m, &[base, 0]) else { continue };
                    let op = [AtomicOp::Add, AtomicOp::Or, AtomicOp::Xor, AtomicOp::Xchg][self.rng.below(4) as usize];
                    let fetch = op == AtomicOp::Xchg || self.rng.chance(50);
                    b.emit(Insn::Atomic { size: size_of(size), op, fetch, dst: breg, src: Reg(src as u8), off });
                }
            }
        }
    }

    /// `key = K on the stack; r0 = bpf_map_lookup_elem(map, &key)`, then accesses to the value,
    /// usually under `if r0 != 0` (without the check when injecting a fault).
    fn map_lookup(&mut self, b: &mut Builder, m: &mut Model, place: Place) -> bool {
        let mi = self.rng.below(self.maps.len() as u64) as usize;
        let Some(def) = self.maps.get(mi).cloned() else { return false };
        let key_slot = match m.slots[0] {
            Slot::Bytes(old) => Slot::Bytes(old | 0x0f),
            _ => Slot::Bytes(0x0f),
        };
        if !m.can_write_slot(0, key_slot) {
            return false;
        }
        let unsafe_variant = self.rng.chance(self.cfg.fault_percent);
        let key = if def.map_type == crate::abi::map_types::BPF_MAP_TYPE_ARRAY {
            self.rng.below(u64::from(def.max_entries) + u64::from(unsafe_variant)) as i32
        } else {
            self.rng.below(4) as i32
        };
        b.emit(Insn::St { size: Size::W, dst: Reg::FP, off: -8, imm: key });
        m.slots[0] = key_slot;
        b.emit(Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg::R2, src: Operand::Reg(Reg::FP) });
        b.emit(Insn::Alu { width: Width::W64, op: AluOp::Add, dst: Reg::R2, src: Operand::Imm(-8) });
        b.emit(Insn::LdImm64 { dst: Reg::R1, src: LdImm64Src::MapIdx, imm: mi as i32, next_imm: 0 });
        b.emit(Insn::Call(crate::insn::CallTarget::Helper(1)));
        m.after_call();
        m.regs[0] = Kind::MapOrNull(mi as u8);
        if unsafe_variant {
            m.regs[0] = Kind::MapValue(mi as u8);
            let oob = self.rng.chance(50);
            self.accesses(b, m, 0, def.value_size, oob, true);
            m.regs[0] = Kind::Uninit;
            return true;
        }
        let j = b.jmp_fwd(Width::W64, JmpCond::Eq, Reg::R0, Operand::Imm(0));
        let mut then = m.clone();
        then.regs[0] = Kind::MapValue(mi as u8);
        let mut base = 0;
        if self.rng.chance(40) {
            if let Some(r) = self.dst_for(&then, Kind::MapValue(mi as u8), &[0]) {
                b.emit(Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg(r as u8), src: Operand::Reg(Reg::R0) });
                then.regs[r] = Kind::MapValue(mi as u8);
                base = r;
            }
        }
        self.accesses(b, &mut then, base, def.value_size, false, true);
        if place.depth < self.cfg.max_depth && self.rng.chance(30) {
            self.snippet(b, &mut then, Place { depth: place.depth + 1, ..place });
        }
        b.patch(j);
        m.join(&then);
        true
    }

    /// `r2 = data; r3 = data_end; r4 = r2 + N; if r4 > r3 goto END; accesses to [r2, r2 + N)`
    /// (without the check when injecting a fault).
    fn packet(&mut self, b: &mut Builder, m: &mut Model, place: Place) -> bool {
        let (data, end) = match self.prog_type {
            ProgType::Xdp => (0i16, 4i16),
            ProgType::SchedCls | ProgType::SchedAct => (76, 80),
            _ => return false,
        };
        if m.regs[6] != Kind::Ctx
            || !m.can_write(2, Kind::PktData)
            || !m.can_write(3, Kind::PktEnd)
            || !m.can_write(4, Kind::Uninit)
        {
            return false;
        }
        let n = self.rng.range(1, 64) as u32;
        b.emit(Insn::Ldx { size: Size::W, sign_ext: false, dst: Reg::R2, src: Reg::R6, off: data });
        b.emit(Insn::Ldx { size: Size::W, sign_ext: false, dst: Reg::R3, src: Reg::R6, off: end });
        m.regs[2] = Kind::PktData;
        m.regs[3] = Kind::PktEnd;
        if self.rng.chance(self.cfg.fault_percent) {
            self.accesses(b, m, 2, n, false, false);
            return true;
        }
        b.emit(Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg::R4, src: Operand::Reg(Reg::R2) });
        b.emit(Insn::Alu { width: Width::W64, op: AluOp::Add, dst: Reg::R4, src: Operand::Imm(n as i32) });
        m.regs[4] = Kind::Uninit;
        let j = b.jmp_fwd(Width::W64, JmpCond::Gt, Reg::R4, Operand::Reg(Reg::R3));
        let mut then = m.clone();
        self.accesses(b, &mut then, 2, n, false, false);
        if place.depth < self.cfg.max_depth && self.rng.chance(30) {
            self.snippet(b, &mut then, Place { depth: place.depth + 1, ..place });
        }
        b.patch(j);
        m.join(&then);
        true
    }

    /// `r0 = <scalar or imm>; exit`.
    pub(super) fn epilogue(&mut self, b: &mut Builder, m: &mut Model) {
        match self.scalar_src(m) {
            Some(s) if self.rng.chance(70) => {
                let width = self.width();
                b.emit(Insn::Alu { width, op: AluOp::Mov, dst: Reg::R0, src: Operand::Reg(Reg(s as u8)) });
            }
            _ => {
                let imm = self.rng.range(0, 3) as i32;
                b.emit(Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg::R0, src: Operand::Imm(imm) });
            }
        }
        m.regs[0] = Kind::Scalar;
        b.emit(Insn::Exit);
    }
}
