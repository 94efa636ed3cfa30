//! The loop head's invariant (a `StateSet` from the fixpoint) as a Z3 formula over the
//! head variables: the disjunction over its states of the conjunction of every
//! register's and tracked stack slot's facts.
//!
//! A scalar gives its unsigned and signed 64-bit bounds, its 32-bit bounds and its
//! known bits (`var_off`). A pointer is `base + off + var`, with one symbolic base per
//! pointer kind (the frame pointer of a stack frame is the same constant the
//! symbolic execution uses for R10) and `var`'s scalar facts. Bases are 8-aligned and
//! far from both ends of the address space, so pointer arithmetic with small offsets
//! never wraps; `pkt_end` lies at most 64 KiB after `pkt`.
//! Uninitialised and `Unknown` registers give no fact.

use super::symbolic::{base, fp_base, lit, StackInfo};
use crate::state::disjunct::StateSet;
use crate::state::{PtrKind, RegState, Stack};
use lattices::Scalar;
use z3::ast::{Bool, BV};

/// The facts of `s` about the 64-bit term `x`.
pub(crate) fn scalar_fact(x: &BV, s: &Scalar) -> Bool {
    let mut c: Vec<Bool> = Vec::new();
    if s.umin > s.umax || s.smin > s.smax || s.u32_min > s.u32_max || s.s32_min > s.s32_max {
        return Bool::from_bool(false);
    }
    if s.umin != 0 {
        c.push(x.bvuge(lit(s.umin)));
    }
    if s.umax != u64::MAX {
        c.push(x.bvule(lit(s.umax)));
    }
    if s.smin != i64::MIN {
        c.push(x.bvsge(lit(s.smin as u64)));
    }
    if s.smax != i64::MAX {
        c.push(x.bvsle(lit(s.smax as u64)));
    }
    let lo = x.extract(31, 0);
    let w32 = |v: u32| BV::from_u64(v as u64, 32);
    if s.u32_min != 0 {
        c.push(lo.bvuge(w32(s.u32_min)));
    }
    if s.u32_max != u32::MAX {
        c.push(lo.bvule(w32(s.u32_max)));
    }
    if s.s32_min != i32::MIN {
        c.push(lo.bvsge(w32(s.s32_min as u32)));
    }
    if s.s32_max != i32::MAX {
        c.push(lo.bvsle(w32(s.s32_max as u32)));
    }
    if s.var_off.mask != u64::MAX {
        c.push(
            x.bvand(lit(!s.var_off.mask))
                .eq(lit(s.var_off.value & !s.var_off.mask)),
        );
    }
    Bool::and(&c)
}

/// The base address term of a pointer kind.
pub(crate) fn base_of(kind: PtrKind) -> BV {
    match kind {
        PtrKind::Stack { frame } => fp_base(frame as usize),
        PtrKind::Ctx => base("ctx"),
        PtrKind::Pkt => base("pkt"),
        PtrKind::PktMeta => base("pkt_meta"),
        PtrKind::PktEnd => base("pkt_end"),
        PtrKind::MapValue { map } => base(&format!("map_value{map}")),
        PtrKind::MapKey { map } => base(&format!("map_key{map}")),
        PtrKind::MapPtr { map } => base(&format!("map_ptr{map}")),
        other => base(&format!("{other:?}").replace([' ', '{', '}', ':', ','], "_")),
    }
}

/// Facts about a register value `x`; `fresh` names the pointer's variable offset.
pub(crate) fn reg_fact(x: &BV, r: &RegState, fresh: &mut dyn FnMut() -> BV) -> Bool {
    match r {
        RegState::Scalar(s) => scalar_fact(x, s),
        RegState::Ptr(p) => {
            let var = match p.var.const_value() {
                Some(c) => lit(c),
                None => fresh(),
            };
            let addr = base_of(p.kind).bvadd(lit(p.off as i64 as u64)).bvadd(&var);
            let mut c = vec![x.eq(&addr)];
            if p.var.const_value().is_none() {
                c.push(scalar_fact(&var, &p.var));
            }
            if p.maybe_null {
                c = vec![Bool::or(&[Bool::and(&c), x.eq(lit(0))])];
            }
            Bool::and(&c)
        }
        RegState::NotInit | RegState::Unknown => Bool::from_bool(true),
    }
}

/// What the invariant says about a register being a stack pointer, over all its states.
pub(crate) fn reg_stack_info(set: &StateSet, frame: usize, reg: usize) -> StackInfo {
    let mut acc: Option<StackInfo> = None;
    for s in &set.states {
        let info = match s.frames.get(frame).and_then(|f| f.regs.get(reg)) {
            Some(r) => stack_info_of(r),
            None => StackInfo::Maybe,
        };
        acc = Some(match acc {
            None => info,
            Some(a) if a == info => a,
            Some(_) => StackInfo::Maybe,
        });
    }
    acc.unwrap_or(StackInfo::Maybe)
}

/// What the invariant says about a stack slot holding a stack pointer.
pub(crate) fn slot_stack_info(set: &StateSet, frame: usize, key: (i64, u32)) -> StackInfo {
    if key.1 != 8 {
        return StackInfo::No;
    }
    let mut acc: Option<StackInfo> = None;
    for s in &set.states {
        let info = match s.frames.get(frame).map(|f| f.stack.load(key.0, key.1)) {
            Some(Ok(r)) => stack_info_of(&r),
            Some(Err(_)) => StackInfo::No,
            None => StackInfo::Maybe,
        };
        acc = Some(match acc {
            None => info,
            Some(a) if a == info => a,
            Some(_) => StackInfo::Maybe,
        });
    }
    acc.unwrap_or(StackInfo::Maybe)
}

fn stack_info_of(r: &RegState) -> StackInfo {
    match r {
        RegState::Scalar(_) => StackInfo::No,
        RegState::Ptr(p) => match p.kind {
            PtrKind::Stack { frame } if p.has_fixed_off() => StackInfo::Fp {
                depth: frame as usize,
                off: p.off as i64,
            },
            PtrKind::Stack { .. } => StackInfo::Maybe,
            _ => StackInfo::No,
        },
        RegState::NotInit | RegState::Unknown => StackInfo::Maybe,
    }
}

/// Facts about a tracked stack slot `(off, size)` holding `x` (zero-extended).
pub(crate) fn slot_fact(
    x: &BV,
    stack: &Stack,
    key: (i64, u32),
    fresh: &mut dyn FnMut() -> BV,
) -> Bool {
    match stack.load(key.0, key.1) {
        Ok(r) => reg_fact(x, &r, fresh),
        Err(_) => Bool::from_bool(true),
    }
}

/// The invariant over the head variables: registers R0-R9 of frame `frame` (`regs[i]`
/// for register `i`) and the listed slots of that frame.
pub(crate) fn invariant(
    set: &StateSet,
    frame: usize,
    regs: &[BV],
    slots: &[((i64, u32), BV)],
    fresh: &mut dyn FnMut() -> BV,
) -> Bool {
    let mut disjuncts = Vec::new();
    for s in &set.states {
        let Some(f) = s.frames.get(frame) else {
            continue;
        };
        let mut c = Vec::new();
        for (i, x) in regs.iter().enumerate() {
            if let Some(r) = f.regs.get(i) {
                c.push(reg_fact(x, r, fresh));
            }
        }
        for (key, x) in slots {
            c.push(slot_fact(x, &f.stack, *key, fresh));
        }
        disjuncts.push(Bool::and(&c));
    }
    Bool::or(&disjuncts)
}

/// Layout facts: every base 8-aligned in `[2^40, 2^56)`, `pkt <= pkt_end <= pkt + 0xffff`,
/// and frame pointers of different depths at least 512 bytes apart.
pub(crate) fn layout_axioms(max_depth: usize) -> Bool {
    let mut c = Vec::new();
    let mut bases: Vec<BV> = (0..=max_depth).map(fp_base).collect();
    for n in ["ctx", "pkt", "pkt_meta", "pkt_end"] {
        bases.push(base(n));
    }
    for b in &bases {
        c.push(b.bvuge(lit(1 << 40)));
        c.push(b.bvult(lit(1 << 56)));
        c.push(b.bvand(lit(7)).eq(lit(0)));
    }
    for d in 1..=max_depth {
        c.push(fp_base(d).bvuge(fp_base(d - 1).bvadd(lit(512))));
    }
    let (pkt, end) = (base("pkt"), base("pkt_end"));
    c.push(end.bvuge(&pkt));
    c.push(end.bvule(pkt.bvadd(lit(0xffff))));
    Bool::and(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use z3::{SatResult, Solver};

    fn sat(b: &Bool) -> SatResult {
        let s = Solver::new();
        s.assert(b);
        s.check()
    }

    #[test]
    fn scalar_facts_bound_the_value() {
        let x = BV::new_const("x", 64);
        let s = Scalar::constant(5);
        assert_eq!(
            sat(&Bool::and(&[scalar_fact(&x, &s), x.eq(lit(5))])),
            SatResult::Sat
        );
        assert_eq!(
            sat(&Bool::and(&[scalar_fact(&x, &s), x.eq(lit(6))])),
            SatResult::Unsat
        );
        let u = Scalar::unknown();
        assert_eq!(
            sat(&Bool::and(&[scalar_fact(&x, &u), x.eq(lit(u64::MAX))])),
            SatResult::Sat
        );
    }

    #[test]
    fn stack_pointer_fact_uses_the_frame_pointer() {
        let x = BV::new_const("p", 64);
        let mut p = crate::state::Ptr::new(PtrKind::Stack { frame: 0 });
        p.off = -8;
        let f = reg_fact(&x, &RegState::Ptr(p), &mut || BV::new_const("v", 64));
        assert_eq!(
            sat(&Bool::and(&[f.clone(), x.eq(fp_base(0).bvsub(lit(8)))])),
            SatResult::Sat
        );
        assert_eq!(sat(&Bool::and(&[f, x.eq(fp_base(0))])), SatResult::Unsat);
    }
}
