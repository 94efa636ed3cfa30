//! The program's static layout: function (subprogram) boundaries, structural checks, and
//! basic blocks per function, before any inlining.
//!
//! Functions are pc 0 plus every bpf-to-bpf call target (`call pc+imm+1`) and every
//! `LD_IMM64` `src=BPF_PSEUDO_FUNC` target (callbacks); each spans up to the next start.
//! Checks follow the kernel's order: `add_subprog` (call targets in range), then
//! `check_subprogs` in pc order (jumps stay inside their function, the last insn of each
//! function is `exit` or `ja`), then `check_cfg` (every insn reachable, no jump into the
//! second slot of an `LD_IMM64`), and finally the static call graph has no cycle.
//! Blocks end at every jump, call and exit, and before every jump target.

use crate::insn::{CallTarget, Insn, LdImm64Src};

use super::{CfgConfig, CfgError};

/// A callee of a bpf-to-bpf call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CallSite {
    pub(crate) pc: usize,
    pub(crate) callee: usize,
}

/// Functions and their blocks.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layout {
    /// Function start pcs, sorted; function `i` spans `starts[i]..end(i)`.
    pub(crate) starts: Vec<usize>,
    pub(crate) len: usize,
    /// Per function: its blocks as inclusive `(start, end)` pcs, sorted.
    pub(crate) blocks: Vec<Vec<(usize, usize)>>,
    /// Per function: its `LD_IMM64 src=func` references as `(pc, target function index)`.
    pub(crate) func_refs: Vec<Vec<(usize, usize)>>,
    /// Per function: its bpf-to-bpf call sites.
    pub(crate) calls: Vec<Vec<CallSite>>,
    /// Helper calls that take a callback (`bpf_loop`, ...): call pc -> callee function
    /// index, the callback being the nearest `LD_IMM64 src=func` before the call.
    pub(crate) callback_sites: Vec<(usize, usize)>,
}

/// Helpers whose argument is a callback the analysis runs: `bpf_for_each_map_elem` (164),
/// `bpf_find_vma` (180), `bpf_loop` (181).
pub const CALLBACK_HELPERS: [i32; 3] = [164, 180, 181];

/// Whether `insn` calls a helper that takes a callback.
pub fn is_callback_helper_call(insn: &Insn) -> bool {
    matches!(insn, Insn::Call(CallTarget::Helper(id)) if CALLBACK_HELPERS.contains(id))
}

impl Layout {
    /// One past the last pc of function `f`.
    pub(crate) fn end(&self, f: usize) -> usize {
        self.starts.get(f + 1).copied().unwrap_or(self.len)
    }

    /// Index of the function containing `pc`.
    pub(crate) fn function_of(&self, pc: usize) -> Option<usize> {
        if pc >= self.len {
            return None;
        }
        match self.starts.binary_search(&pc) {
            Ok(i) => Some(i),
            Err(0) => None,
            Err(i) => Some(i - 1),
        }
    }

    /// Index of the function starting exactly at `pc`.
    pub(crate) fn function_at(&self, pc: usize) -> Option<usize> {
        self.starts.binary_search(&pc).ok()
    }

    /// Index (in `blocks[f]`) of the block of function `f` containing `pc`.
    pub(crate) fn block_index(&self, f: usize, pc: usize) -> Option<usize> {
        let blocks = self.blocks.get(f)?;
        let i = match blocks.binary_search_by(|b| b.0.cmp(&pc)) {
            Ok(i) => i,
            Err(0) => return None,
            Err(i) => i - 1,
        };
        blocks.get(i).filter(|b| b.0 <= pc && pc <= b.1).map(|_| i)
    }
}

/// Target pc of a pc-relative reference (`pc + 1 + off`), unchecked.
fn rel(pc: usize, off: i64) -> i64 {
    pc as i64 + 1 + off
}

/// Target of a bpf-to-bpf call or function reference at `pc`, if `insn` is one.
fn func_target(pc: usize, insn: &Insn) -> Option<i64> {
    match *insn {
        Insn::Call(CallTarget::Local(imm)) => Some(rel(pc, imm as i64)),
        Insn::LdImm64 { src: LdImm64Src::Func, imm, .. } => Some(rel(pc, imm as i64)),
        _ => None,
    }
}

/// Whether `insn` ends a basic block.
fn ends_block(insn: &Insn) -> bool {
    matches!(insn, Insn::Ja { .. } | Insn::Jmp { .. } | Insn::Call(_) | Insn::Exit)
}

/// Intra-function successors of the insn at `pc` (calls fall through to `pc + 1`).
fn successors(pc: usize, insn: &Insn) -> [Option<i64>; 2] {
    let next = Some(pc as i64 + 1);
    match *insn {
        Insn::Exit => [None, None],
        Insn::Ja { .. } => [insn.jump_target(pc), None],
        Insn::Jmp { .. } => [next, insn.jump_target(pc)],
        Insn::LdImm64 { .. } => [Some(pc as i64 + 2), None],
        _ => [next, None],
    }
}

/// Checks the program's structure and computes its functions and blocks.
pub(crate) fn layout(insns: &[Insn], config: &CfgConfig) -> Result<Layout, CfgError> {
    let len = insns.len();
    if len == 0 {
        return Err(CfgError::EmptyProgram);
    }
    if len > config.max_insns {
        return Err(CfgError::ProgramTooLarge { len, limit: config.max_insns });
    }
    // add_subprog: function starts.
    let mut starts = vec![0usize];
    for (pc, insn) in insns.iter().enumerate() {
        if let Some(t) = func_target(pc, insn) {
            if t < 0 || t >= len as i64 {
                return Err(CfgError::CallOutOfRange { pc, target: t });
            }
            starts.push(t as usize);
        }
    }
    starts.sort_unstable();
    starts.dedup();
    // LD_IMM64 pairing.
    for (pc, insn) in insns.iter().enumerate() {
        match insn {
            Insn::LdImm64 { .. } if !matches!(insns.get(pc + 1), Some(Insn::LdImm64Tail)) => {
                return Err(CfgError::InvalidLdImm64 { pc });
            }
            Insn::LdImm64Tail
                if !matches!(pc.checked_sub(1).and_then(|p| insns.get(p)), Some(Insn::LdImm64 { .. })) =>
            {
                return Err(CfgError::InvalidLdImm64 { pc });
            }
            _ => {}
        }
    }
    let mut lay = Layout { starts, len, blocks: Vec::new(), func_refs: Vec::new(), calls: Vec::new(), callback_sites: Vec::new() };
    for &s in &lay.starts {
        if matches!(insns.get(s), Some(Insn::LdImm64Tail)) {
            return Err(CfgError::JumpIntoLdImm64 { pc: s - 1 });
        }
    }
    // check_subprogs: jumps stay in their function; last insn is exit or ja.
    for f in 0..lay.starts.len() {
        let (s, e) = (lay.starts[f], lay.end(f));
        for (pc, insn) in insns.iter().enumerate().take(e).skip(s) {
            if let Some(t) = insn.jump_target(pc) {
                if t < s as i64 || t >= e as i64 {
                    return Err(CfgError::JumpOutOfRange { pc, target: t });
                }
            }
            if pc == e - 1 && !matches!(insn, Insn::Exit | Insn::Ja { .. }) {
                return Err(CfgError::LastInsnNotExit { pc });
            }
        }
    }
    // check_cfg: reachability from pc 0 through jumps, calls and function references.
    let mut reached = vec![false; len];
    let mut work = vec![0usize];
    reached[0] = true;
    let push = |t: i64, reached: &mut Vec<bool>, work: &mut Vec<usize>| {
        if let Some(r) = usize::try_from(t).ok().and_then(|t| reached.get_mut(t)) {
            if !*r {
                *r = true;
                work.push(t as usize);
            }
        }
    };
    while let Some(pc) = work.pop() {
        let insn = &insns[pc];
        if matches!(insn, Insn::LdImm64Tail) {
            continue;
        }
        let succ = successors(pc, insn);
        for t in succ.into_iter().flatten() {
            push(t, &mut reached, &mut work);
        }
        if let Some(t) = func_target(pc, insn) {
            push(t, &mut reached, &mut work);
        }
    }
    let mut pc = 0;
    while pc < len {
        if !reached[pc] && config.reject_unreachable {
            return Err(CfgError::UnreachableInsn { pc });
        }
        if matches!(insns[pc], Insn::LdImm64 { .. }) {
            if reached.get(pc + 1).copied().unwrap_or(false) {
                return Err(CfgError::JumpIntoLdImm64 { pc });
            }
            pc += 1;
        }
        pc += 1;
    }
    // Blocks and call sites per function.
    let mut calls: Vec<Vec<CallSite>> = Vec::with_capacity(lay.starts.len());
    for f in 0..lay.starts.len() {
        let (s, e) = (lay.starts[f], lay.end(f));
        let mut leader = vec![false; e - s];
        leader[0] = true;
        let mut f_calls = Vec::new();
        let mut f_refs = Vec::new();
        for pc in s..e {
            let insn = &insns[pc];
            if let Some(t) = insn.jump_target(pc) {
                leader[t as usize - s] = true;
            }
            if ends_block(insn) && pc + 1 < e {
                leader[pc + 1 - s] = true;
            }
            // A helper call with a callback is a block of its own: the callback returns
            // to it (it may run again) before execution falls through.
            if is_callback_helper_call(insn) {
                leader[pc - s] = true;
                let cb = (s..pc).rev().find_map(|q| match insns[q] {
                    Insn::LdImm64 { src: LdImm64Src::Func, imm, .. } => lay.function_at(rel(q, imm as i64) as usize),
                    _ => None,
                });
                if let Some(callee) = cb {
                    lay.callback_sites.push((pc, callee));
                }
            }
            if let Some(t) = func_target(pc, insn) {
                let callee = lay.function_at(t as usize).unwrap_or(0);
                match insn {
                    Insn::Call(_) => f_calls.push(CallSite { pc, callee }),
                    _ => f_refs.push((pc, callee)),
                }
            }
        }
        let mut blocks = Vec::new();
        let mut start = s;
        for pc in s + 1..e {
            if leader[pc - s] {
                blocks.push((start, pc - 1));
                start = pc;
            }
        }
        blocks.push((start, e - 1));
        lay.blocks.push(blocks);
        lay.func_refs.push(f_refs);
        calls.push(f_calls);
    }
    check_call_graph(&calls, &lay.starts)?;
    lay.calls = calls;
    Ok(lay)
}

/// Rejects any cycle in the static call graph (recursion, direct or mutual), iteratively.
/// `starts[f]` is the start pc of function `f`.
fn check_call_graph(calls: &[Vec<CallSite>], starts: &[usize]) -> Result<(), CfgError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Color {
        White,
        Grey,
        Black,
    }
    let mut color = vec![Color::White; calls.len()];
    for root in 0..calls.len() {
        if color[root] != Color::White {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        color[root] = Color::Grey;
        while let Some((f, i)) = stack.last_mut() {
            let f = *f;
            match calls.get(f).and_then(|c| c.get(*i)) {
                Some(site) => {
                    *i += 1;
                    match color.get(site.callee) {
                        Some(Color::White) => {
                            color[site.callee] = Color::Grey;
                            stack.push((site.callee, 0));
                        }
                        Some(Color::Grey) => {
                            let target = starts.get(site.callee).copied().unwrap_or(0);
                            return Err(CfgError::RecursiveCall { pc: site.pc, target });
                        }
                        _ => {}
                    }
                }
                None => {
                    color[f] = Color::Black;
                    stack.pop();
                }
            }
        }
    }
    Ok(())
}
