//! What the generator knows about registers and stack slots at the point it is emitting, so that
//! generated code only reads initialised registers and stack, dereferences pointers it knows, and
//! keeps loop bodies valid on every iteration.
//!
//! Loops: at a loop's entry R0-R5 are forgotten (so helper calls in the body may clobber them) and
//! every other known register and slot is *frozen* to its kind: the body may rewrite it only with a
//! value of the same kind, so the state at the start of each iteration is at least as good as the one
//! the body was generated for.

/// What a register holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Not usable (never written, clobbered, or different kinds on joining paths).
    Uninit,
    Scalar,
    Ctx,
    /// The frame pointer plus a constant.
    Fp(i16),
    PktData,
    PktEnd,
    MapValue(u8),
    MapOrNull(u8),
}

impl Kind {
    pub(super) fn is_ptr(self) -> bool {
        !matches!(self, Kind::Uninit | Kind::Scalar)
    }
}

/// An 8-byte stack slot at `fp - 8 * (index + 1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    /// Never written, or unusable.
    Empty,
    /// Scalar bytes; bit `i` of the mask is set when byte `i` (from the slot's lowest address) is initialised.
    Bytes(u8),
    /// An 8-byte spill of a pointer register.
    Ptr(Kind),
}

/// Number of stack slots the generator uses (128 bytes).
pub(super) const NSLOTS: usize = 16;

/// The generator's knowledge at one program point.
#[derive(Clone, Debug)]
pub(super) struct Model {
    pub(super) regs: [Kind; 11],
    pub(super) slots: [Slot; NSLOTS],
    /// Registers no snippet may write (R10, the ctx copy in R6, loop counters).
    pub(super) reserved: [bool; 11],
    /// Inside loops: the only kind each register may be given.
    pub(super) frozen_regs: [Option<Kind>; 11],
    pub(super) frozen_slots: [Option<Slot>; NSLOTS],
}

impl Model {
    /// Function entry: R10 is the frame pointer; `args` scalar arguments in R1..; `ctx_in_r1`.
    pub(super) fn entry(args: usize, ctx_in_r1: bool) -> Model {
        let mut regs = [Kind::Uninit; 11];
        regs[10] = Kind::Fp(0);
        for r in regs.iter_mut().skip(1).take(args.min(5)) {
            *r = Kind::Scalar;
        }
        if ctx_in_r1 {
            regs[1] = Kind::Ctx;
        }
        let mut reserved = [false; 11];
        reserved[10] = true;
        Model { regs, slots: [Slot::Empty; NSLOTS], reserved, frozen_regs: [None; 11], frozen_slots: [None; NSLOTS] }
    }

    /// Whether `r` may be set to a value of kind `k` here.
    pub(super) fn can_write(&self, r: usize, k: Kind) -> bool {
        r < 10 && !self.reserved[r] && self.frozen_regs[r].is_none_or(|f| f == k)
    }

    /// Whether slot `i` may become `s` here.
    pub(super) fn can_write_slot(&self, i: usize, s: Slot) -> bool {
        match (self.frozen_slots.get(i).copied().flatten(), s) {
            (None | Some(Slot::Empty), _) => true,
            (Some(Slot::Bytes(f)), Slot::Bytes(n)) => n & f == f,
            (Some(f), n) => f == n,
        }
    }

    /// Registers holding kind `k`.
    pub(super) fn regs_of(&self, k: Kind) -> Vec<usize> {
        (0..11).filter(|&r| self.regs[r] == k).collect()
    }

    /// The state where two paths meet: what both agree on.
    pub(super) fn join(&mut self, other: &Model) {
        for (a, b) in self.regs.iter_mut().zip(other.regs.iter()) {
            if a != b {
                *a = Kind::Uninit;
            }
        }
        for (a, b) in self.slots.iter_mut().zip(other.slots.iter()) {
            *a = match (*a, *b) {
                (Slot::Bytes(x), Slot::Bytes(y)) => Slot::Bytes(x & y),
                (x, y) if x == y => x,
                _ => Slot::Empty,
            };
        }
    }

    /// Enters a loop body: forgets R0-R5, freezes everything else that is known.
    pub(super) fn enter_loop(&mut self) {
        for r in 0..=5 {
            self.regs[r] = Kind::Uninit;
        }
        for r in 0..11 {
            self.frozen_regs[r] = (self.regs[r] != Kind::Uninit).then_some(self.regs[r]);
        }
        for i in 0..NSLOTS {
            self.frozen_slots[i] = (self.slots[i] != Slot::Empty).then_some(self.slots[i]);
        }
    }

    /// The caller-saved registers after a call: R1-R5 unusable, R0 a scalar.
    pub(super) fn after_call(&mut self) {
        for r in 1..=5 {
            self.regs[r] = Kind::Uninit;
        }
        self.regs[0] = Kind::Scalar;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_freeze() {
        let mut a = Model::entry(1, false);
        let mut b = a.clone();
        a.regs[7] = Kind::Scalar;
        b.regs[7] = Kind::Ctx;
        a.slots[0] = Slot::Bytes(0xff);
        b.slots[0] = Slot::Bytes(0x0f);
        a.join(&b);
        assert_eq!(a.regs[7], Kind::Uninit);
        assert_eq!(a.regs[1], Kind::Scalar);
        assert_eq!(a.slots[0], Slot::Bytes(0x0f));
        a.regs[8] = Kind::Scalar;
        a.enter_loop();
        assert_eq!(a.regs[1], Kind::Uninit);
        assert!(a.can_write(8, Kind::Scalar) && !a.can_write(8, Kind::Ctx));
        assert!(a.can_write(1, Kind::Ctx) && !a.can_write(10, Kind::Scalar));
        assert!(a.can_write_slot(0, Slot::Bytes(0xff)) && !a.can_write_slot(0, Slot::Bytes(0xf0)));
        assert!(!a.can_write_slot(0, Slot::Ptr(Kind::Ctx)) && a.can_write_slot(1, Slot::Ptr(Kind::Ctx)));
    }
}
