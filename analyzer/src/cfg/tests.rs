//! Tests of `build_cfg` on hand-written decoded instruction lists.

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use super::*;
use crate::insn::{AluOp, CallTarget, Insn, JmpCond, LdImm64Src, Operand, Reg, Width};

fn mov(r: u8, imm: i32) -> Insn {
    Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg(r), src: Operand::Imm(imm) }
}
fn add(r: u8, imm: i32) -> Insn {
    Insn::Alu { width: Width::W64, op: AluOp::Add, dst: Reg(r), src: Operand::Imm(imm) }
}
fn jeq(r: u8, imm: i32, off: i16) -> Insn {
    Insn::Jmp { width: Width::W64, cond: JmpCond::Eq, dst: Reg(r), src: Operand::Imm(imm), off }
}
fn jlt(r: u8, imm: i32, off: i16) -> Insn {
    Insn::Jmp { width: Width::W64, cond: JmpCond::Lt, dst: Reg(r), src: Operand::Imm(imm), off }
}
fn ja(off: i32) -> Insn {
    Insn::Ja { off, long: false }
}
fn call_local(imm: i32) -> Insn {
    Insn::Call(CallTarget::Local(imm))
}
fn call_helper(id: i32) -> Insn {
    Insn::Call(CallTarget::Helper(id))
}
fn exit() -> Insn {
    Insn::Exit
}
fn ld_func(r: u8, imm: i32) -> [Insn; 2] {
    [Insn::LdImm64 { dst: Reg(r), src: LdImm64Src::Func, imm, next_imm: 0 }, Insn::LdImm64Tail]
}
fn ld_imm(r: u8, imm: i32) -> [Insn; 2] {
    [Insn::LdImm64 { dst: Reg(r), src: LdImm64Src::Imm, imm, next_imm: 0 }, Insn::LdImm64Tail]
}

fn build(insns: &[Insn]) -> Result<Cfg, CfgError> {
    build_cfg(insns, &CfgConfig::default())
}

fn n(i: usize) -> NodeIndex {
    NodeIndex::new(i)
}

/// Edges as (source, target, kind), in insertion order.
fn edges(cfg: &Cfg) -> Vec<(usize, usize, EdgeKind)> {
    cfg.graph.edge_references().map(|e| (e.source().index(), e.target().index(), *e.weight())).collect()
}

fn ranges(cfg: &Cfg) -> Vec<(usize, usize, usize)> {
    cfg.graph.node_weights().map(|b| (b.frame, b.start, b.end)).collect()
}

// ---- errors ----

#[test]
fn empty_program() {
    assert_eq!(build(&[]).unwrap_err(), CfgError::EmptyProgram);
}

#[test]
fn program_too_large() {
    let cfg = CfgConfig { max_insns: 3, ..CfgConfig::default() };
    let err = build_cfg(&[mov(0, 0), mov(0, 0), mov(0, 0), exit()], &cfg).unwrap_err();
    assert_eq!(err, CfgError::ProgramTooLarge { len: 4, limit: 3 });
    assert_eq!(err.to_string(), "program too large: 4 insns, limit 3");
}

#[test]
fn jump_out_of_range() {
    let err = build(&[ja(5), exit()]).unwrap_err();
    assert_eq!(err, CfgError::JumpOutOfRange { pc: 0, target: 6 });
    assert_eq!(err.to_string(), "jump out of range from insn 0 to 6");
    let err = build(&[mov(0, 0), jeq(1, 0, -3), exit()]).unwrap_err();
    assert_eq!(err, CfgError::JumpOutOfRange { pc: 1, target: -1 });
}

#[test]
fn jump_into_another_function_is_out_of_range() {
    // main: 0 call f(3); 1 ja +1 (to 3 = f's start); 2 exit; f: 3 exit
    let err = build(&[call_local(2), ja(1), exit(), exit()]).unwrap_err();
    assert_eq!(err, CfgError::JumpOutOfRange { pc: 1, target: 3 });
}

#[test]
fn call_out_of_range() {
    let err = build(&[call_local(10), exit()]).unwrap_err();
    assert_eq!(err, CfgError::CallOutOfRange { pc: 0, target: 11 });
    let [a, b] = ld_func(1, -5);
    let err = build(&[a, b, exit()]).unwrap_err();
    assert_eq!(err, CfgError::CallOutOfRange { pc: 0, target: -4 });
    assert!(err.to_string().starts_with("call to invalid destination"));
}

#[test]
fn last_insn_not_exit() {
    assert_eq!(build(&[mov(0, 0)]).unwrap_err(), CfgError::LastInsnNotExit { pc: 0 });
    // Falling off main into the next function.
    let err = build(&[call_local(1), mov(0, 0), exit()]).unwrap_err();
    assert_eq!(err, CfgError::LastInsnNotExit { pc: 1 });
    assert_eq!(err.to_string(), "last insn is not an exit or jmp (insn 1)");
    // A conditional jump is not enough either.
    assert_eq!(build(&[mov(0, 0), jeq(1, 0, -2)]).unwrap_err(), CfgError::LastInsnNotExit { pc: 1 });
}

#[test]
fn unreachable_insn() {
    let err = build(&[exit(), exit()]).unwrap_err();
    assert_eq!(err, CfgError::UnreachableInsn { pc: 1 });
    assert_eq!(err.to_string(), "unreachable insn 1");
    // The kernel's "unreachable2": goto l0; goto l0; l0: exit
    assert_eq!(build(&[ja(1), ja(0), exit()]).unwrap_err(), CfgError::UnreachableInsn { pc: 1 });
}

#[test]
fn jump_into_middle_of_ldimm64() {
    // The kernel's "test1 ld_imm64": if r1 == 0 goto +1 lands on the second slot.
    let [a, b] = ld_imm(0, 0);
    let err = build(&[jeq(1, 0, 1), a, b, mov(0, 2), exit()]).unwrap_err();
    assert_eq!(err, CfgError::JumpIntoLdImm64 { pc: 1 });
    assert_eq!(err.to_string(), "jump into the middle of ldimm64 insn 1");
}

#[test]
fn invalid_ldimm64() {
    assert_eq!(build(&[Insn::LdImm64Tail, exit()]).unwrap_err(), CfgError::InvalidLdImm64 { pc: 0 });
    let [a, _] = ld_imm(0, 0);
    assert_eq!(build(&[mov(0, 0), a]).unwrap_err(), CfgError::InvalidLdImm64 { pc: 1 });
}

#[test]
fn recursion_rejected() {
    // main: 0 call f(2); 1 exit; f: 2 call f(2); 3 exit
    let err = build(&[call_local(1), exit(), call_local(-1), exit()]).unwrap_err();
    assert_eq!(err, CfgError::RecursiveCall { pc: 2, target: 2 });
    // Mutual: f(2) -> g(4) -> f(2)
    let err = build(&[call_local(1), exit(), call_local(1), exit(), call_local(-3), exit()]).unwrap_err();
    assert_eq!(err, CfgError::RecursiveCall { pc: 4, target: 2 });
    assert!(err.to_string().starts_with("recursive call from insn 4 to 2"));
}

/// main calls f1, f1 calls f2, ... f_{k-1} calls f_k: k+1 frames.
fn call_chain(k: usize) -> Vec<Insn> {
    // Function i (0 = main) at pc 2i: `call +1` (to 2i+2) then exit; the last is just exits.
    let mut insns = Vec::new();
    for _ in 0..k {
        insns.push(call_local(1));
        insns.push(exit());
    }
    insns.push(mov(0, 0));
    insns.push(exit());
    insns
}

#[test]
fn call_stack_depth_limit() {
    // 8 frames (main + 7 nested calls) are fine.
    let cfg = build(&call_chain(7)).unwrap();
    assert_eq!(cfg.frames.len(), 8);
    assert_eq!(cfg.frames[7].depth, 7);
    assert_eq!(cfg.frames[7].call_sites, vec![0, 2, 4, 6, 8, 10, 12]);
    // A 9th is rejected with the kernel's count.
    let err = build(&call_chain(8)).unwrap_err();
    assert_eq!(err, CfgError::CallStackTooDeep { frames: 8, pc: 14 });
    assert!(err.to_string().starts_with("the call stack of 8 frames is too deep !"));
}

#[test]
fn too_many_blocks() {
    let cfg = CfgConfig { max_blocks: 3, ..CfgConfig::default() };
    let err = build_cfg(&call_chain(3), &cfg).unwrap_err();
    assert!(matches!(err, CfgError::TooManyBlocks { limit: 3, .. }), "{err:?}");
}

// ---- shapes ----

#[test]
fn diamond_edges() {
    // 0: if r1 == 0 goto 3 ; 1: r0 = 1 ; 2: goto 4 ; 3: r0 = 2 ; 4: exit
    let cfg = build(&[jeq(1, 0, 2), mov(0, 1), ja(1), mov(0, 2), exit()]).unwrap();
    assert_eq!(ranges(&cfg), vec![(0, 0, 0), (0, 1, 2), (0, 3, 3), (0, 4, 4)]);
    assert_eq!(
        edges(&cfg),
        vec![
            (0, 2, EdgeKind::Taken),
            (0, 1, EdgeKind::NotTaken),
            (1, 3, EdgeKind::Goto),
            (2, 3, EdgeKind::Fallthrough),
        ]
    );
    assert_eq!(cfg.wto.to_string(), "0 1 2 3");
    assert_eq!(cfg.block_at(0, 2), Some(n(1)));
    assert_eq!(cfg.block_at(0, 5), None);
    assert_eq!(cfg.block_at(1, 0), None);
    assert!(cfg.loops().is_empty());
    assert!(cfg.back_edges().is_empty());
}

#[test]
fn helper_call_ends_block_and_falls_through() {
    let cfg = build(&[mov(1, 0), call_helper(5), mov(0, 0), exit()]).unwrap();
    assert_eq!(ranges(&cfg), vec![(0, 0, 1), (0, 2, 3)]);
    assert_eq!(edges(&cfg), vec![(0, 1, EdgeKind::Fallthrough)]);
}

#[test]
fn call_inlined_per_call_site() {
    // main: 0 call f(4) ; 1 call f(4) ; 2 r0 = 0 ; 3 exit ; f: 4 r0 = 1 ; 5 exit
    let cfg = build(&[call_local(3), call_local(2), mov(0, 0), exit(), mov(0, 1), exit()]).unwrap();
    assert_eq!(cfg.functions, vec![0, 4]);
    assert_eq!(
        cfg.frames,
        vec![
            FrameInstance { depth: 0, call_sites: vec![], func_start: 0 },
            FrameInstance { depth: 1, call_sites: vec![0], func_start: 4 },
            FrameInstance { depth: 1, call_sites: vec![1], func_start: 4 },
        ]
    );
    assert_eq!(ranges(&cfg), vec![(0, 0, 0), (0, 1, 1), (0, 2, 3), (1, 4, 5), (2, 4, 5)]);
    assert_eq!(
        edges(&cfg),
        vec![(0, 3, EdgeKind::Call), (3, 1, EdgeKind::Return), (1, 4, EdgeKind::Call), (4, 2, EdgeKind::Return),]
    );
    assert_eq!(cfg.block_at(1, 5), Some(n(3)));
    assert_eq!(cfg.block_at(2, 4), Some(n(4)));
    assert_eq!(cfg.wto.to_string(), "0 3 1 4 2");
    assert_eq!(cfg.function_of(5), Some(1));
    assert_eq!(cfg.function_end(0), Some(4));
}

#[test]
fn callee_with_two_exits_returns_from_both() {
    // main: 0 call f(3) ; 1 r0 = 0 ; 2 exit ; f: 3 if r1 == 0 goto 5 ; 4 exit ; 5 exit
    let cfg = build(&[call_local(2), mov(0, 0), exit(), jeq(1, 0, 1), exit(), exit()]).unwrap();
    let returns: Vec<_> = edges(&cfg).into_iter().filter(|e| e.2 == EdgeKind::Return).collect();
    assert_eq!(returns, vec![(3, 1, EdgeKind::Return), (4, 1, EdgeKind::Return)]);
}

#[test]
fn callback_helpers_run_their_callback_in_a_loop_around_the_call() {
    // main: 0-1 r2 = &cb (pc 4) ; 2 call bpf_loop ; 3 exit ; cb: 4 r0 = 0 ; 5 exit
    let [a, b] = ld_func(2, 3);
    let cfg = build(&[a, b, call_helper(181), exit(), mov(0, 0), exit()]).unwrap();
    assert_eq!(cfg.functions, vec![0, 4]);
    assert_eq!(cfg.callbacks, vec![Callback { frame: 0, pc: 0, func_start: 4 }]);
    // The call is a block of its own; the callback gets a frame instance.
    assert_eq!(cfg.frames.len(), 2);
    assert_eq!(ranges(&cfg), vec![(0, 0, 1), (0, 2, 2), (0, 3, 3), (1, 4, 5)]);
    // call -> callback (Call), callback exit -> the call again (Return), call -> next (Fallthrough).
    let e = edges(&cfg);
    assert!(e.contains(&(1, 3, EdgeKind::Call)), "{e:?}");
    assert!(e.contains(&(3, 1, EdgeKind::Return)), "{e:?}");
    assert!(e.contains(&(1, 2, EdgeKind::Fallthrough)), "{e:?}");
    assert_eq!(cfg.loop_heads(), vec![n(1)]);
}

#[test]
fn helpers_without_callbacks_are_not_split() {
    // 0-1 r2 = &cb ; 2 call bpf_ktime_get_ns ; 3 exit ; cb: 4 r0 = 0 ; 5 exit
    let [a, b] = ld_func(2, 3);
    let cfg = build(&[a, b, call_helper(5), exit(), mov(0, 0), exit()]).unwrap();
    assert_eq!(cfg.frames.len(), 1);
    assert!(cfg.graph.node_weights().all(|b| b.end < 4));
}

#[test]
fn simple_loop() {
    // 0: r1 = 0 ; 1: r1 += 1 ; 2: if r1 < 10 goto 1 ; 3: exit
    let cfg = build(&[mov(1, 0), add(1, 1), jlt(1, 10, -2), exit()]).unwrap();
    assert_eq!(ranges(&cfg), vec![(0, 0, 0), (0, 1, 2), (0, 3, 3)]);
    assert_eq!(cfg.wto.to_string(), "0 (1) 2");
    assert_eq!(cfg.loop_heads(), vec![n(1)]);
    let loops = cfg.loops();
    assert_eq!(loops.len(), 1);
    assert_eq!(loops[0].head_pc, 1);
    assert_eq!(loops[0].pc_range, (1, 2));
    assert_eq!(loops[0].depth, 1);
    let be = cfg.back_edges();
    assert_eq!(be.len(), 1);
    assert_eq!(cfg.graph.edge_endpoints(be[0]), Some((n(1), n(1))));
    assert_eq!(loops[0].back_edges, be);
}

#[test]
fn loop_around_a_call_spans_frames() {
    // main: 0 r1 = 0 ; 1 call f(5) ; 2 r1 += 1 ; 3 if r1 < 3 goto 1 ; 4 exit ; f: 5 exit
    let cfg = build(&[mov(1, 0), call_local(3), add(1, 1), jlt(1, 3, -3), exit(), exit()]).unwrap();
    let loops = cfg.loops();
    assert_eq!(loops.len(), 1);
    let l = &loops[0];
    assert_eq!(l.head_pc, 1);
    assert_eq!(l.pc_range, (1, 3));
    assert!(l.nodes.iter().any(|&x| cfg.graph[x].frame == 1), "{l:?}");
}

#[test]
fn nested_loops() {
    // 0 r1 = 0 ; 1 r2 = 0 ; 2 r2 += 1 ; 3 if r2 < 5 goto 2 ; 4 r1 += 1 ; 5 if r1 < 5 goto 1 ; 6 exit
    let cfg = build(&[mov(1, 0), mov(2, 0), add(2, 1), jlt(2, 5, -2), add(1, 1), jlt(1, 5, -5), exit()]).unwrap();
    assert_eq!(ranges(&cfg), vec![(0, 0, 0), (0, 1, 1), (0, 2, 3), (0, 4, 5), (0, 6, 6)]);
    assert_eq!(cfg.wto.to_string(), "0 (1 (2) 3) 4");
    let loops = cfg.loops();
    assert_eq!(loops.len(), 2);
    assert_eq!((loops[0].head_pc, loops[0].pc_range, loops[0].depth), (1, (1, 5), 1));
    assert_eq!((loops[1].head_pc, loops[1].pc_range, loops[1].depth), (2, (2, 3), 2));
}

#[test]
fn dot_output() {
    let cfg = build(&[jeq(1, 0, 1), mov(0, 1), exit()]).unwrap();
    let dot = cfg.to_dot(|b| format!("{}..{} \"q\"\n", b.start, b.end));
    assert!(dot.starts_with("digraph cfg {"));
    assert!(dot.contains("n0 -> n2 [label=\"taken\"];"), "{dot}");
    assert!(dot.contains("n0 -> n1 [label=\"not taken\"];"), "{dot}");
    assert!(dot.contains("n0 [label=\"0..0 \\\"q\\\"\\l\"];"), "{dot}");
    assert!(dot.contains("cluster_frame0"));
    assert!(dot.trim_end().ends_with('}'));
}

#[test]
fn million_insn_straight_line() {
    let mut insns = vec![mov(0, 1); 999_999];
    insns.push(exit());
    let t = std::time::Instant::now();
    let cfg = build(&insns).unwrap();
    assert_eq!(cfg.graph.node_count(), 1);
    assert_eq!(cfg.graph[n(0)].end, 999_999);
    assert!(t.elapsed().as_secs() < 10);
    // And a million insns made of many blocks: r0 += 1 ; if r0 == 0 goto +0 ; ... ; exit
    let mut insns = Vec::with_capacity(1_000_000);
    while insns.len() < 999_999 {
        insns.push(jeq(0, 0, 0));
    }
    insns.push(exit());
    let cfg = build(&insns).unwrap();
    assert_eq!(cfg.graph.node_count(), 1_000_000);
    assert_eq!(cfg.wto.len(), 1_000_000);
}

// ---- with the solver ----

/// Counts blocks executed in `x`: checks that `Cfg`, its WTO and `solve` fit together.
struct BlockCounter {
    thresholds: crate::fixpoint::Thresholds,
}

impl crate::fixpoint::Analysis for BlockCounter {
    type Domain = crate::fixpoint::mock::Env;
    type Node = Block;
    type Edge = EdgeKind;
    fn entry_state(&self) -> Self::Domain {
        use crate::fixpoint::mock::Itv;
        crate::fixpoint::mock::Env([Itv::cst(0), Itv::cst(0)])
    }
    fn transfer_node(&self, _n: NodeIndex, b: &Block, s: &mut Self::Domain) {
        let x = &mut s.0[0];
        x.lo = x.lo.saturating_add(1);
        x.hi = x.hi.saturating_add(1);
        s.0[1] = crate::fixpoint::mock::Itv::cst(b.frame as i64);
    }
    fn transfer_edge(&self, _e: &EdgeKind, _s: NodeIndex, _t: NodeIndex, st: &Self::Domain) -> Self::Domain {
        st.clone()
    }
    fn thresholds(&self) -> &crate::fixpoint::Thresholds {
        &self.thresholds
    }
}

#[test]
fn solver_runs_on_inlined_cfg() {
    use crate::fixpoint::{mock::Itv, solve, Budget, Lattice, WideningPolicy};
    // main: 0 r1 = 0 ; 1 call f(5) ; 2 r1 += 1 ; 3 if r1 < 3 goto 1 ; 4 exit ; f: 5 exit
    let cfg = build(&[mov(1, 0), call_local(3), add(1, 1), jlt(1, 3, -3), exit(), exit()]).unwrap();
    let a = BlockCounter { thresholds: crate::fixpoint::Thresholds::none() };
    let f = solve(&cfg.graph, cfg.entry, &cfg.wto, &a, &WideningPolicy::default(), &Budget::unlimited()).unwrap();
    let exit_block = cfg.block_at(0, 4).unwrap();
    let callee = cfg.block_at(1, 5).unwrap();
    assert!(!f.entry[exit_block.index()].is_bottom());
    // The callee instance is entered from frame 0 and returns to it.
    assert_eq!(f.entry[callee.index()].0[1], Itv::cst(0));
    assert_eq!(f.exit[callee.index()].0[1], Itv::cst(1));
    // Blocks before the exit: at least 0(b0) 1(b1) 2(f) 3(b2) — loop count unbounded above.
    assert_eq!(f.entry[exit_block.index()].0[0].lo, 4);
    assert_eq!(f.entry[exit_block.index()].0[0].hi, i64::MAX);
}
