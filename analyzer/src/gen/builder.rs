//! Emitting instructions with forward jumps patched once their target is known.
//!
//! Positions are pcs of the decoded program: `LdImm64` is followed by its `LdImm64Tail`, so
//! `encode_program` of the result gives the raw slots with the same numbering.

use crate::insn::{CallTarget, Insn, JmpCond, Operand, Reg, Width};

/// A growing instruction list.
#[derive(Clone, Debug, Default)]
pub(super) struct Builder {
    pub(super) insns: Vec<Insn>,
    /// (pc of a `call`, index of the subprogram it calls), patched by [`Builder::link_calls`].
    calls: Vec<(usize, usize)>,
}

impl Builder {
    /// The pc the next instruction gets.
    pub(super) fn pc(&self) -> usize {
        self.insns.len()
    }

    pub(super) fn emit(&mut self, insn: Insn) {
        self.insns.push(insn);
        if matches!(insn, Insn::LdImm64 { .. }) {
            self.insns.push(Insn::LdImm64Tail);
        }
    }

    /// `if dst cond src goto <later>`; returns the pc to [`Builder::patch`].
    pub(super) fn jmp_fwd(&mut self, width: Width, cond: JmpCond, dst: Reg, src: Operand) -> usize {
        let at = self.pc();
        self.emit(Insn::Jmp { width, cond, dst, src, off: 0 });
        at
    }

    /// `goto <later>`; returns the pc to [`Builder::patch`].
    pub(super) fn ja_fwd(&mut self, long: bool) -> usize {
        let at = self.pc();
        self.emit(Insn::Ja { off: 0, long });
        at
    }

    /// Points the jump at `at` to the next instruction to be emitted.
    pub(super) fn patch(&mut self, at: usize) {
        let off = self.pc() as i64 - at as i64 - 1;
        match self.insns.get_mut(at) {
            Some(Insn::Jmp { off: o, .. }) => *o = i16::try_from(off).unwrap_or(i16::MAX),
            Some(Insn::Ja { off: o, .. }) => *o = i32::try_from(off).unwrap_or(i32::MAX),
            _ => {}
        }
    }

    /// `if dst cond src goto target` for an earlier `target`.
    pub(super) fn jmp_back(&mut self, width: Width, cond: JmpCond, dst: Reg, src: Operand, target: usize) {
        let off = target as i64 - self.pc() as i64 - 1;
        self.emit(Insn::Jmp { width, cond, dst, src, off: i16::try_from(off).unwrap_or(i16::MIN) });
    }

    /// `call <subprogram sub>`, linked later.
    pub(super) fn call_sub(&mut self, sub: usize) {
        self.calls.push((self.pc(), sub));
        self.emit(Insn::Call(CallTarget::Local(0)));
    }

    /// Whether some `call_sub(sub)` was emitted.
    pub(super) fn calls_sub(&self, sub: usize) -> bool {
        self.calls.iter().any(|&(_, s)| s == sub)
    }

    /// Appends `other` (a subprogram) and returns its start pc.
    pub(super) fn append(&mut self, other: Builder) -> usize {
        let start = self.pc();
        self.insns.extend(other.insns);
        start
    }

    /// Patches every `call_sub` with the start pcs of the subprograms.
    pub(super) fn link_calls(&mut self, starts: &[usize]) {
        for &(at, sub) in &self.calls {
            let Some(&start) = starts.get(sub) else { continue };
            if let Some(Insn::Call(CallTarget::Local(imm))) = self.insns.get_mut(at) {
                *imm = (start as i64 - at as i64 - 1) as i32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_jumps_and_calls_are_patched() {
        let mut b = Builder::default();
        let j = b.jmp_fwd(Width::W64, JmpCond::Eq, Reg::R1, Operand::Imm(0));
        b.emit(Insn::LdImm64 { dst: Reg::R0, src: crate::insn::LdImm64Src::Imm, imm: 1, next_imm: 0 });
        b.patch(j);
        b.jmp_back(Width::W32, JmpCond::Lt, Reg::R1, Operand::Imm(3), 1);
        b.call_sub(0);
        b.emit(Insn::Exit);
        let mut sub = Builder::default();
        sub.emit(Insn::Exit);
        let start = b.append(sub);
        b.link_calls(&[start]);
        assert!(matches!(b.insns[0], Insn::Jmp { off: 2, .. }));
        assert!(matches!(b.insns[3], Insn::Jmp { off: -3, .. }));
        assert_eq!(b.insns[4], Insn::Call(CallTarget::Local(1)));
        assert_eq!(start, 6);
        assert!(b.calls_sub(0) && !b.calls_sub(1));
    }
}
