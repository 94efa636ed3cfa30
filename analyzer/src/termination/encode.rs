//! One iteration of a loop as a Z3 transition formula `T(v, v')` over the head
//! variables `v` (R0-R9 of the head's frame and the stack slots the loop accesses at
//! fixed frame-pointer offsets) and their values `v'` when control is back at the head.
//!
//! The loop's blocks are visited in weak topological order (the head first), which is a
//! topological order once the back edges are removed, so every block is encoded once
//! ("large block encoding"): a block's reach condition is the disjunction of its
//! incoming edges' guards (predecessor reached and branch condition true), and a value
//! that differs between incoming edges becomes a fresh variable equal to the value of
//! the edge taken. The formula size is linear in the loop's size, not in its paths.
//!
//! An inner loop is one node: the registers it writes and, if it stores to memory or
//! calls, every tracked slot, get fresh values; each of its exits is taken under its
//! branch condition on that state, and the encoding is marked imprecise (so no
//! non-termination claim rests on it).

use super::invariant::{invariant, layout_axioms, reg_stack_info, slot_stack_info};
use super::symbolic::{fp_base, merge, SlotKey, StackInfo, SymCtx, SymFrame, SymState, SymVal};
use crate::cfg::{Cfg, EdgeKind, Loop};
use crate::insn::{AtomicOp, CallTarget, Insn};
use crate::state::disjunct::StateSet;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeSet, HashMap, HashSet};
use z3::ast::{Bool, BV};

/// What a head variable stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VarKey {
    Reg(u8),
    /// `(off, size)` from the head frame's frame pointer.
    Slot(SlotKey),
}

impl VarKey {
    pub(crate) fn name(&self) -> String {
        match self {
            VarKey::Reg(r) => format!("r{r}"),
            VarKey::Slot((off, size)) => format!("*(u{} *)(r10 {off:+})", size * 8),
        }
    }
}

/// A loop iteration as formulas.
pub(crate) struct LoopEncoding {
    pub(crate) keys: Vec<VarKey>,
    /// Head variables.
    pub(crate) vars: Vec<BV>,
    /// Their values after one iteration (back at the head).
    pub(crate) next: Vec<BV>,
    /// The head invariant, layout axioms included.
    pub(crate) inv: Bool,
    /// The iteration: block constraints and "some back edge is taken".
    pub(crate) body: Bool,
    /// Some effect was over-approximated beyond the kernel's own view (inner loops,
    /// stores through unknown stack pointers).
    pub(crate) imprecise: bool,
    /// Dependency sets of the operands of the conditional jumps met.
    pub(crate) compares: Vec<(u64, u64, Option<u64>)>,
    /// No back edge is reachable from the head inside the loop.
    pub(crate) no_back_edge: bool,
    /// One per edge entering the loop from outside: the constraint (the predecessor's
    /// invariant, its block and the edge) and the head variables' values on that edge.
    /// `None` when some entry could not be encoded.
    pub(crate) entries: Option<Vec<(Bool, Vec<BV>)>>,
}

/// Encodes loop `lp`; `inner` are the loops directly nested in it.
pub(crate) fn encode_loop(
    insns: &[Insn],
    cfg: &Cfg,
    lp: &Loop,
    inner: &[&Loop],
    inv: &StateSet,
    inv_of: &dyn Fn(NodeIndex) -> Option<StateSet>,
) -> Result<LoopEncoding, String> {
    let mut keys: BTreeSet<SlotKey> = BTreeSet::new();
    let mut enc = None;
    for _round in 0..4 {
        let (e, discovered) = encode_with(insns, cfg, lp, inner, inv, &keys, "h")?;
        let done = discovered.is_subset(&keys);
        enc = Some(e);
        if done {
            break;
        }
        keys.extend(discovered);
    }
    let mut enc = enc.ok_or_else(|| "no encoding".to_string())?;
    enc.entries = encode_entries(insns, cfg, lp, &enc.keys, inv_of);
    Ok(enc)
}

/// Copy `tag` of one iteration (fresh names prefixed by `tag`), for unrolling: the same
/// formula as `base` over different variables.
pub(crate) fn encode_copy(
    insns: &[Insn],
    cfg: &Cfg,
    lp: &Loop,
    inner: &[&Loop],
    inv: &StateSet,
    base: &LoopEncoding,
    tag: &str,
) -> Result<LoopEncoding, String> {
    let keys: BTreeSet<SlotKey> = base
        .keys
        .iter()
        .filter_map(|k| match k {
            VarKey::Slot(s) => Some(*s),
            VarKey::Reg(_) => None,
        })
        .collect();
    let (enc, _) = encode_with(insns, cfg, lp, inner, inv, &keys, tag)?;
    if enc.keys != base.keys {
        return Err("copies of the iteration differ".to_string());
    }
    Ok(enc)
}

/// An initial state with its variables: keys, terms, and the slot terms by key.
type Initial = (SymState, Vec<VarKey>, Vec<BV>, Vec<(SlotKey, BV)>);

/// The initial symbolic state of a block of depth `depth` whose entry invariant is `inv`:
/// R0-R9 and the slots `slot_keys` are variables named `{prefix}.r0`, ...
fn initial_state(
    prefix: &str,
    inv: &StateSet,
    depth: usize,
    slot_keys: &BTreeSet<SlotKey>,
) -> Initial {
    let mut keys = Vec::new();
    let mut vars = Vec::new();
    let mut regs = Vec::new();
    for r in 0..10u8 {
        let bv = BV::new_const(format!("{prefix}.r{r}"), 64);
        let stack = reg_stack_info(inv, depth, r as usize);
        regs.push(SymVal::new(bv.clone(), stack, 1u64 << vars.len()));
        keys.push(VarKey::Reg(r));
        vars.push(bv);
    }
    regs.push(SymVal::new(
        fp_base(depth),
        StackInfo::Fp { depth, off: 0 },
        0,
    ));
    let mut slots = std::collections::BTreeMap::new();
    let mut slot_vars = Vec::new();
    for &k in slot_keys {
        let bv = BV::new_const(format!("{prefix}.fp{}.{}", k.0, k.1), 64);
        let dep = if vars.len() < 64 {
            1u64 << vars.len()
        } else {
            0
        };
        slots.insert(
            k,
            SymVal::new(bv.clone(), slot_stack_info(inv, depth, k), dep),
        );
        keys.push(VarKey::Slot(k));
        vars.push(bv.clone());
        slot_vars.push((k, bv));
    }
    (
        SymState {
            frames: vec![SymFrame { depth, regs, slots }],
        },
        keys,
        vars,
        slot_vars,
    )
}

/// The invariant of `inv` over the variables of [`initial_state`], layout axioms and the
/// size limits of narrow slots included.
fn invariant_formula(
    inv: &StateSet,
    depth: usize,
    max_depth: usize,
    vars: &[BV],
    slot_vars: &[(SlotKey, BV)],
    prefix: &str,
) -> Bool {
    let mut counter = 0u32;
    let mut fresh = || {
        counter += 1;
        BV::new_const(format!("{prefix}.inv!{counter}"), 64)
    };
    let reg_vars: Vec<BV> = vars.iter().take(10).cloned().collect();
    let mut parts = vec![
        invariant(inv, depth, &reg_vars, slot_vars, &mut fresh),
        layout_axioms(max_depth),
    ];
    for ((_, size), bv) in slot_vars {
        if *size < 8 {
            parts.push(bv.bvult(BV::from_u64(1u64 << (8 * size), 64)));
        }
    }
    Bool::and(&parts)
}

/// The states on the edges entering the loop from outside, as formulas.
fn encode_entries(
    insns: &[Insn],
    cfg: &Cfg,
    lp: &Loop,
    keys: &[VarKey],
    inv_of: &dyn Fn(NodeIndex) -> Option<StateSet>,
) -> Option<Vec<(Bool, Vec<BV>)>> {
    use lattices::Lattice;
    let d0 = frame_depth(cfg, lp.head);
    let in_loop: HashSet<NodeIndex> = lp.nodes.iter().copied().collect();
    let loop_slots: BTreeSet<SlotKey> = keys
        .iter()
        .filter_map(|k| match k {
            VarKey::Slot(s) => Some(*s),
            VarKey::Reg(_) => None,
        })
        .collect();
    let mut out = Vec::new();
    for e in cfg
        .graph
        .edges_directed(lp.head, petgraph::Direction::Incoming)
    {
        let p = e.source();
        if in_loop.contains(&p) {
            continue;
        }
        let Some(inv_p) = inv_of(p).filter(|s| !s.is_bottom()) else {
            continue;
        };
        let dp = frame_depth(cfg, p);
        let block = cfg.block(p)?;
        let prefix = format!("entry{}", p.index());
        let slot_keys = if dp == d0 {
            loop_slots.clone()
        } else {
            BTreeSet::new()
        };
        let (mut st, _, vars, slot_vars) = initial_state(&prefix, &inv_p, dp, &slot_keys);
        let mut cx = SymCtx::with_tag(dp, &prefix);
        let has_call_edge = cfg.graph.edges(p).any(|e| *e.weight() == EdgeKind::Call);
        for pc in block.pcs() {
            cx.step(&mut st, insns.get(pc)?, pc, !has_call_edge);
        }
        let (cond, st) = edge_transfer(&mut cx, &st, insns.get(block.end), *e.weight())?;
        let f = st.frames.last().filter(|f| f.depth == d0)?;
        let values: Vec<BV> = keys
            .iter()
            .map(|k| {
                let v = match k {
                    VarKey::Reg(r) => f.regs.get(*r as usize).map(|v| v.bv.clone()),
                    VarKey::Slot(s) => f.slots.get(s).map(|v| v.bv.clone()),
                };
                v.unwrap_or_else(|| cx.fresh("entry.unknown"))
            })
            .collect();
        let inv_f = invariant_formula(&inv_p, dp, dp.max(d0), &vars, &slot_vars, &prefix);
        out.push((
            Bool::and(&[inv_f, Bool::and(&cx.constraints), cond]),
            values,
        ));
    }
    // No entry edge: the head is the program's entry (or no invariant was given for its
    // predecessors); the entry states are unknown, not absent.
    if out.is_empty() {
        return None;
    }
    Some(out)
}

fn frame_depth(cfg: &Cfg, n: NodeIndex) -> usize {
    cfg.block(n)
        .and_then(|b| cfg.frames.get(b.frame))
        .map_or(0, |f| f.depth)
}

fn encode_with(
    insns: &[Insn],
    cfg: &Cfg,
    lp: &Loop,
    inner: &[&Loop],
    inv: &StateSet,
    slot_keys: &BTreeSet<SlotKey>,
    tag: &str,
) -> Result<(LoopEncoding, BTreeSet<SlotKey>), String> {
    let d0 = frame_depth(cfg, lp.head);
    let mut cx = SymCtx::with_tag(d0, tag);

    let (init, keys, vars, slot_vars) = initial_state(tag, inv, d0, slot_keys);

    let in_loop: HashSet<NodeIndex> = lp.nodes.iter().copied().collect();
    // Node -> the directly nested loop containing it.
    let mut inner_of: HashMap<NodeIndex, usize> = HashMap::new();
    for (i, l) in inner.iter().enumerate() {
        for &n in &l.nodes {
            inner_of.insert(n, i);
        }
    }

    let mut pending: HashMap<NodeIndex, Vec<(Bool, SymState)>> = HashMap::new();
    let mut back: Vec<(Bool, SymState)> = Vec::new();
    let mut max_depth = d0;

    for (pos, &n) in lp.nodes.iter().enumerate() {
        max_depth = max_depth.max(frame_depth(cfg, n));
        let (reach, state) = if pos == 0 {
            (Bool::from_bool(true), init.clone())
        } else {
            let Some(incoming) = pending.remove(&n) else {
                continue;
            };
            let reach = cx.fresh_bool("reach");
            let guards: Vec<Bool> = incoming.iter().map(|(g, _)| g.clone()).collect();
            cx.constraints.push(reach.eq(Bool::or(&guards)));
            let Some(state) = merge(&mut cx, &incoming, &format!("b{}", n.index())) else {
                return Err("paths of different call depths meet".to_string());
            };
            (reach, state)
        };
        if let Some(&li) = inner_of.get(&n) {
            let Some(l2) = inner.get(li) else { continue };
            if l2.head != n {
                continue; // encoded with its head
            }
            encode_inner(
                insns,
                cfg,
                lp,
                l2,
                &mut cx,
                &reach,
                state,
                &in_loop,
                &mut pending,
                &mut back,
            )?;
            continue;
        }
        let Some(block) = cfg.block(n) else { continue };
        let has_call_edge = cfg.graph.edges(n).any(|e| *e.weight() == EdgeKind::Call);
        let mut st = state;
        for pc in block.pcs() {
            let Some(insn) = insns.get(pc) else {
                return Err(format!("pc {pc} out of range"));
            };
            cx.step(&mut st, insn, pc, !has_call_edge);
        }
        let term = insns.get(block.end).copied();
        for e in cfg.graph.edges(n) {
            let t = e.target();
            let Some((cond, st2)) = edge_transfer(&mut cx, &st, term.as_ref(), *e.weight()) else {
                continue;
            };
            let guard = Bool::and(&[reach.clone(), cond]);
            route(lp, &in_loop, t, guard, st2, &mut pending, &mut back);
        }
    }

    let no_back_edge = back.is_empty();
    let (next, any_back) = if no_back_edge {
        (vars.clone(), Bool::from_bool(false))
    } else {
        let guards: Vec<Bool> = back.iter().map(|(g, _)| g.clone()).collect();
        let Some(st) = merge(&mut cx, &back, "next") else {
            return Err("back edges of different call depths".to_string());
        };
        let Some(f) = st.frames.first().filter(|_| st.frames.len() == 1) else {
            return Err("back edge from a called function".to_string());
        };
        let mut next = Vec::new();
        for k in &keys {
            let v = match k {
                VarKey::Reg(r) => f.regs.get(*r as usize).map(|v| v.bv.clone()),
                VarKey::Slot(s) => f.slots.get(s).map(|v| v.bv.clone()),
            };
            next.push(v.unwrap_or_else(|| cx.fresh("next.lost")));
        }
        (next, Bool::or(&guards))
    };
    // Includes the constraints of the back edges' merge.
    let body = Bool::and(&[Bool::and(&cx.constraints), any_back]);

    let inv_formula = invariant_formula(inv, d0, max_depth, &vars, &slot_vars, tag);
    let enc = LoopEncoding {
        keys,
        vars,
        next,
        inv: inv_formula,
        body,
        imprecise: cx.imprecise,
        compares: std::mem::take(&mut cx.compares),
        no_back_edge,
        entries: None,
    };
    Ok((enc, std::mem::take(&mut cx.discovered)))
}

/// The condition and state along one CFG edge out of a block ending in `term`;
/// `None` for a return out of the loop head's frame (leaves the loop).
fn edge_transfer(
    cx: &mut SymCtx,
    st: &SymState,
    term: Option<&Insn>,
    kind: EdgeKind,
) -> Option<(Bool, SymState)> {
    match kind {
        EdgeKind::Taken | EdgeKind::NotTaken => {
            let cond = match term {
                Some(i) => cx.branch_cond(st, i, kind == EdgeKind::Taken),
                None => Bool::from_bool(true),
            };
            Some((cond, st.clone()))
        }
        EdgeKind::Fallthrough | EdgeKind::Goto => Some((Bool::from_bool(true), st.clone())),
        EdgeKind::Call => {
            let mut s = st.clone();
            cx.enter_call(&mut s);
            Some((Bool::from_bool(true), s))
        }
        EdgeKind::Return => {
            let mut s = st.clone();
            cx.leave_call(&mut s).then_some((Bool::from_bool(true), s))
        }
    }
}

fn route(
    lp: &Loop,
    in_loop: &HashSet<NodeIndex>,
    t: NodeIndex,
    guard: Bool,
    st: SymState,
    pending: &mut HashMap<NodeIndex, Vec<(Bool, SymState)>>,
    back: &mut Vec<(Bool, SymState)>,
) {
    if t == lp.head {
        back.push((guard, st));
    } else if in_loop.contains(&t) {
        pending.entry(t).or_default().push((guard, st));
    }
}

/// Registers an instruction writes (R0-R5 for calls).
fn written_regs(insn: &Insn) -> Vec<usize> {
    match *insn {
        Insn::Alu { dst, .. }
        | Insn::Endian { dst, .. }
        | Insn::LdImm64 { dst, .. }
        | Insn::Ldx { dst, .. } => {
            vec![dst.index()]
        }
        Insn::Atomic {
            op: AtomicOp::CmpXchg,
            ..
        } => vec![0],
        Insn::Atomic { src, fetch, op, .. } if fetch || op == AtomicOp::Xchg => vec![src.index()],
        Insn::Call(_) | Insn::LdAbs { .. } | Insn::LdInd { .. } => (0..=5).collect(),
        _ => Vec::new(),
    }
}

fn writes_memory(insn: &Insn) -> bool {
    matches!(
        insn,
        Insn::St { .. } | Insn::Stx { .. } | Insn::Atomic { .. } | Insn::Call(_)
    )
}

/// An inner loop as one node: written variables havocked, exits under their conditions.
#[allow(clippy::too_many_arguments)]
fn encode_inner(
    insns: &[Insn],
    cfg: &Cfg,
    lp: &Loop,
    l2: &Loop,
    cx: &mut SymCtx,
    reach: &Bool,
    mut st: SymState,
    in_loop: &HashSet<NodeIndex>,
    pending: &mut HashMap<NodeIndex, Vec<(Bool, SymState)>>,
    back: &mut Vec<(Bool, SymState)>,
) -> Result<(), String> {
    cx.imprecise = true;
    let head_frame = cfg.block(l2.head).map(|b| b.frame);
    let mut regs: BTreeSet<usize> = BTreeSet::new();
    let mut mem = false;
    let mut calls = false;
    for &n in &l2.nodes {
        let Some(b) = cfg.block(n) else { continue };
        if Some(b.frame) != head_frame {
            calls = true;
            continue;
        }
        for pc in b.pcs() {
            if let Some(i) = insns.get(pc) {
                regs.extend(written_regs(i));
                mem |= writes_memory(i);
                calls |= matches!(i, Insn::Call(CallTarget::Local(_)));
            }
        }
    }
    if calls {
        regs.extend(0..=5);
        mem = true;
    }
    if let Some(f) = st.frames.last_mut() {
        for r in regs {
            let v = SymVal::new(cx.fresh("inner.r"), StackInfo::Maybe, 0);
            if let Some(slot) = f.regs.get_mut(r) {
                *slot = v;
            }
        }
    }
    if mem {
        cx.havoc_all_slots(&mut st);
    }
    let l2_nodes: HashSet<NodeIndex> = l2.nodes.iter().copied().collect();
    for &n in &l2.nodes {
        let Some(b) = cfg.block(n) else { continue };
        let term = insns.get(b.end).copied();
        for e in cfg.graph.edges(n) {
            let t = e.target();
            if l2_nodes.contains(&t) {
                continue;
            }
            if Some(b.frame) != head_frame && t != lp.head && in_loop.contains(&t) {
                return Err("inner loop exits from a called function".to_string());
            }
            let Some((cond, st2)) = edge_transfer(cx, &st, term.as_ref(), *e.weight()) else {
                continue;
            };
            let choice = cx.fresh_bool("inner.exit");
            let guard = Bool::and(&[reach.clone(), choice, cond]);
            route(lp, in_loop, t, guard, st2, pending, back);
        }
    }
    Ok(())
}
