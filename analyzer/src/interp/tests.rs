//! Interpreter tests: each instruction class against hand-computed results, the faults, helper
//! modelling, a no-panic proptest, and every corpus program on random inputs.

use super::*;
use crate::gen::Rng;
use crate::insn::parse_program;
use crate::object::MapOrigin;
use std::collections::BTreeMap;

fn map_def(map_type: u32, key_size: u32, value_size: u32, max_entries: u32) -> MapDef {
    MapDef {
        name: "m".into(),
        map_type,
        key_size,
        value_size,
        max_entries,
        map_flags: 0,
        inner: None,
        origin: MapOrigin::BtfMaps,
        initial_value: None,
        btf_key_type_id: 0,
        btf_value_type_id: 0,
    }
}

/// Map 0: hash (key 4, value 8, 16 entries); map 1: array (key 4, value 16, 4 entries);
/// map 2: ringbuf (4096 bytes).
fn test_maps() -> Vec<MapDef> {
    vec![map_def(1, 4, 8, 16), map_def(2, 4, 16, 4), map_def(27, 0, 0, 4096)]
}

fn program(text: &str, prog_type: ProgType) -> InterpProgram {
    let raw = parse_program(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    InterpProgram::from_raw(&raw, test_maps(), prog_type).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn input() -> ConcreteInput {
    ConcreteInput { packet: (0u8..64).collect(), ..ConcreteInput::default() }
}

fn run_with(text: &str, prog_type: ProgType, input: &ConcreteInput) -> Execution {
    run(
        &program(text, prog_type),
        input,
        &InterpLimits { max_steps: 10_000, record_trace: true, ..InterpLimits::default() },
    )
}

/// A run with the unprivileged rules (no uninitialised stack reads, no pointer leaks).
fn strict(text: &str) -> Outcome {
    let limits = InterpLimits { allow_uninit_stack: false, allow_ptr_leaks: false, ..InterpLimits::default() };
    run(&program(text, ProgType::Xdp), &input(), &limits).outcome
}

fn kind(o: Outcome) -> Option<FaultKind> {
    match o {
        Outcome::Fault { kind, .. } => Some(kind),
        _ => None,
    }
}

fn outcome(text: &str) -> Outcome {
    run_with(text, ProgType::Xdp, &input()).outcome
}

fn r0(text: &str) -> u64 {
    match outcome(text) {
        Outcome::Exit(v) => v,
        other => panic!("expected exit, got {other}\n{text}"),
    }
}

fn fault(text: &str) -> FaultKind {
    fault_with(text, ProgType::Xdp, &input())
}

fn fault_with(text: &str, prog_type: ProgType, input: &ConcreteInput) -> FaultKind {
    match run_with(text, prog_type, input).outcome {
        Outcome::Fault { kind, .. } => kind,
        other => panic!("expected a fault, got {other}\n{text}"),
    }
}

#[test]
fn alu64_and_alu32() {
    assert_eq!(r0("r0 = 7\nr1 = 3\nr0 += r1\nr0 *= 6\nexit"), 60);
    assert_eq!(r0("r0 = 0\nr0 -= 1\nexit"), u64::MAX);
    assert_eq!(r0("r0 = 0\nw0 -= 1\nexit"), 0xffff_ffff);
    assert_eq!(r0("r0 = -1\nw0 += 1\nexit"), 0, "ALU32 zero-extends");
    assert_eq!(r0("r0 = 7\nr1 = 0\nr0 /= r1\nexit"), 0, "x / 0 = 0");
    assert_eq!(r0("r0 = 7\nr1 = 0\nr0 %= r1\nexit"), 7, "x % 0 = x");
    assert_eq!(r0("r0 = -1\nr1 = 0\nw0 %= w1\nexit"), 0xffff_ffff, "32-bit x % 0 = x, zero-extended");
    assert_eq!(r0("r0 = -7\nr0 s/= 2\nexit"), (-3i64) as u64);
    assert_eq!(r0("r0 = -7\nr0 s%= 2\nexit"), (-1i64) as u64);
    assert_eq!(r0("r0 = -7\nw0 s/= 2\nexit"), (-3i32) as u32 as u64);
    assert_eq!(r0("r0 = -7\nr0 /= 2\nexit"), (u64::MAX - 6) / 2, "unsigned division");
    assert_eq!(r0("r0 = 1\nr1 = 65\nr0 <<= r1\nexit"), 2, "shift amount masked");
    assert_eq!(r0("r0 = -16\nr0 s>>= 2\nexit"), (-4i64) as u64);
    assert_eq!(r0("r0 = -16\nr0 >>= 60\nexit"), 0xf);
    assert_eq!(r0("r0 = 5\nr0 = -r0\nexit"), (-5i64) as u64);
    assert_eq!(r0("r0 = 5\nw0 = -w0\nexit"), (-5i32) as u32 as u64);
    assert_eq!(r0("r0 = 0xf0\nr0 |= 0xf\nr0 &= 0x3c\nr0 ^= 0x1\nexit"), 0x3d);
    assert_eq!(r0("r0 = -1\nr0 &= -2\nexit"), u64::MAX - 1, "imm sign-extended in ALU64");
    assert_eq!(r0("r1 = -1\nw0 = w1\nexit"), 0xffff_ffff);
}

#[test]
fn movsx_and_ld_imm64() {
    assert_eq!(r0("r1 = 0x80\nr0 = (s8)r1\nexit"), 0xffff_ffff_ffff_ff80);
    assert_eq!(r0("r1 = 0x8000\nw0 = (s16)w1\nexit"), 0xffff_8000, "32-bit movsx zero-extends");
    assert_eq!(r0("r1 = 0x80000000 ll\nr0 = (s32)r1\nexit"), 0xffff_ffff_8000_0000);
    assert_eq!(r0("r0 = 0x123456789abcdef0\nexit"), 0x1234_5678_9abc_def0);
    let p = program("r0 = 0x100000002\nexit", ProgType::Xdp);
    assert_eq!(p.insns.len(), 3, "LD_IMM64 takes two slots");
}

#[test]
fn byte_swaps() {
    assert_eq!(r0("r0 = 0x1234567890abcdef\nr0 = le16 r0\nexit"), 0xcdef);
    assert_eq!(r0("r0 = 0x1234567890abcdef\nr0 = le32 r0\nexit"), 0x90ab_cdef);
    assert_eq!(r0("r0 = 0x1234567890abcdef\nr0 = be16 r0\nexit"), 0xefcd);
    assert_eq!(r0("r0 = 0x1234567890abcdef\nr0 = be32 r0\nexit"), 0xefcd_ab90);
    assert_eq!(r0("r0 = 0x1234567890abcdef\nr0 = be64 r0\nexit"), 0xefcd_ab90_7856_3412);
    assert_eq!(r0("r0 = 0x1234567890abcdef\nr0 = bswap16 r0\nexit"), 0xefcd);
    assert_eq!(r0("r0 = 0x1234567890abcdef\nr0 = bswap64 r0\nexit"), 0xefcd_ab90_7856_3412);
}

#[test]
fn jumps_jmp32_and_signed_comparisons() {
    let jmp32 = "r1 = 0x100000001\nr0 = 0\nif w1 == 1 goto pc+1\nexit\nr0 = 1\nexit";
    assert_eq!(r0(jmp32), 1, "JMP32 compares the low 32 bits");
    let jmp64 = "r1 = 0x100000001\nr0 = 0\nif r1 == 1 goto pc+1\nexit\nr0 = 1\nexit";
    assert_eq!(r0(jmp64), 0);
    assert_eq!(r0("r1 = -1\nr0 = 0\nif r1 s< 0 goto pc+1\nexit\nr0 = 1\nexit"), 1);
    assert_eq!(r0("r1 = -1\nr0 = 0\nif r1 < 0 goto pc+1\nexit\nr0 = 1\nexit"), 0);
    assert_eq!(r0("r1 = 0xffffffff ll\nr0 = 0\nif w1 s< 0 goto pc+1\nexit\nr0 = 1\nexit"), 1);
    assert_eq!(r0("r1 = 0xffffffff ll\nr0 = 0\nif r1 s< 0 goto pc+1\nexit\nr0 = 1\nexit"), 0);
    assert_eq!(r0("r1 = 6\nr0 = 0\nif r1 & 0x2 goto pc+1\nexit\nr0 = 1\nexit"), 1);
    assert_eq!(r0("r1 = 3\nr2 = 3\nr0 = 0\nif r1 >= r2 goto pc+1\nexit\nr0 = 1\nexit"), 1);
    assert_eq!(r0("r0 = 0\ngoto pc+1\nr0 = 1\nexit"), 0);
    assert_eq!(r0("r0 = 0\ngotol pc+1\nr0 = 1\nexit"), 0);
    // A bounded loop: r0 = 0 + 1 + ... + 9.
    assert_eq!(r0("r0 = 0\nr1 = 0\nr0 += r1\nr1 += 1\nif r1 < 10 goto pc-3\nexit"), 45);
}

#[test]
fn loads_stores_and_sign_extending_loads() {
    let text = "r1 = 0x80ff\n*(u64 *)(r10 -8) = r1\nr0 = *(s8 *)(r10 -8)\nexit";
    assert_eq!(r0(text), u64::MAX);
    assert_eq!(r0("r1 = 0x80ff\n*(u64 *)(r10 -8) = r1\nr0 = *(s16 *)(r10 -8)\nexit"), 0xffff_ffff_ffff_80ff);
    assert_eq!(r0("r1 = 0x80ff\n*(u64 *)(r10 -8) = r1\nr0 = *(u16 *)(r10 -8)\nexit"), 0x80ff);
    assert_eq!(r0("*(u32 *)(r10 -4) = -1\nr0 = *(s32 *)(r10 -4)\nexit"), u64::MAX);
    assert_eq!(r0("*(u32 *)(r10 -4) = -1\nr0 = *(u32 *)(r10 -4)\nexit"), 0xffff_ffff);
    assert_eq!(r0("*(u8 *)(r10 -1) = 0x1ff\nr0 = *(u8 *)(r10 -1)\nexit"), 0xff, "ST truncates imm");
    // Pointer spill and fill: the filled pointer still points to the stack.
    let spill = "r1 = r10\nr1 += -16\n*(u64 *)(r10 -8) = r1\n*(u64 *)(r10 -16) = 42\nr2 = *(u64 *)(r10 -8)\nr0 = *(u64 *)(r2 +0)\nexit";
    assert_eq!(r0(spill), 42);
}

#[test]
fn atomics_with_fetch_xchg_and_cmpxchg() {
    let add = "*(u64 *)(r10 -8) = 10\nr1 = 5\nlock *(u64 *)(r10 -8) += r1\nr0 = *(u64 *)(r10 -8)\nexit";
    assert_eq!(r0(add), 15);
    let fetch = "*(u64 *)(r10 -8) = 10\nr1 = 5\nr1 = atomic64_fetch_add((u64 *)(r10 -8), r1)\nr0 = *(u64 *)(r10 -8)\nr0 <<= 8\nr0 |= r1\nexit";
    assert_eq!(r0(fetch), (15 << 8) | 10);
    let fetch32 = "*(u64 *)(r10 -8) = -1\nr1 = 1\nr1 = atomic_fetch_add((u32 *)(r10 -8), r1)\nr0 = *(u64 *)(r10 -8)\nr0 ^= r1\nexit";
    assert_eq!(r0(fetch32), 0xffff_ffff_0000_0000 ^ 0xffff_ffff, "32-bit atomics touch 4 bytes and zero-extend");
    let and =
        "*(u64 *)(r10 -8) = 12\nr1 = 10\nr1 = atomic64_fetch_and((u64 *)(r10 -8), r1)\nr0 = *(u64 *)(r10 -8)\nexit";
    assert_eq!(r0(and), 8);
    let xchg = "*(u64 *)(r10 -8) = 3\nr1 = 9\nr1 = atomic64_xchg((u64 *)(r10 -8), r1)\nr0 = *(u64 *)(r10 -8)\nr0 *= 10\nr0 += r1\nexit";
    assert_eq!(r0(xchg), 93);
    let cas_ok = "*(u64 *)(r10 -8) = 3\nr0 = 3\nr1 = 7\nr0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)\nr2 = *(u64 *)(r10 -8)\nr0 *= 10\nr0 += r2\nexit";
    assert_eq!(r0(cas_ok), 37);
    let cas_fail = "*(u64 *)(r10 -8) = 3\nr0 = 4\nr1 = 7\nr0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)\nr2 = *(u64 *)(r10 -8)\nr0 *= 10\nr0 += r2\nexit";
    assert_eq!(r0(cas_fail), 33);
    let cas_uninit = "*(u64 *)(r10 -8) = 3\nr1 = 7\nr0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)\nexit";
    assert_eq!(fault(cas_uninit), FaultKind::UninitRegister);
}

#[test]
fn bpf_to_bpf_calls() {
    let text = "r6 = 100\nr1 = 5\ncall pc+3\nr0 += r6\nexit\nexit\n\
                r0 = r1\nr0 *= 2\nr6 = 1\n*(u64 *)(r10 -8) = r6\nexit";
    assert_eq!(r0(text), 110, "callee's R6 write does not leak into the caller");
    let clobbered = "r1 = 5\ncall pc+2\nr0 = r1\nexit\nr0 = 0\nexit";
    assert_eq!(fault(clobbered), FaultKind::UninitRegister, "R1 is clobbered by the call");
    let callee_r6 = "r6 = 5\ncall pc+1\nexit\nr0 = r6\nexit";
    assert_eq!(fault(callee_r6), FaultKind::UninitRegister, "callee starts with R6 uninitialised");
    let stack_arg =
        "*(u64 *)(r10 -8) = 21\nr1 = r10\nr1 += -8\ncall pc+2\nexit\nexit\nr0 = *(u64 *)(r1 +0)\nr0 *= 2\nexit";
    assert_eq!(r0(stack_arg), 42, "callee reads the caller's stack");
    let leak_stack = "call pc+1\nexit\nr0 = r10\nr0 += -8\nexit";
    assert_eq!(fault(leak_stack), FaultKind::BadReturn);
    let recursion = "call pc-1\nexit";
    assert_eq!(fault(recursion), FaultKind::CallDepth);
    let exec = run_with(text, ProgType::Xdp, &input());
    let frames: Vec<usize> = exec.trace.iter().map(|s| s.frame).collect();
    assert_eq!(frames, vec![0, 0, 0, 1, 1, 1, 1, 1, 0, 0]);
}

#[test]
fn faults() {
    assert_eq!(fault("r0 = r1\nr0 = r2\nexit"), FaultKind::UninitRegister);
    assert_eq!(fault("exit"), FaultKind::UninitRegister, "R0 !read_ok at exit");
    assert_eq!(fault("r0 = *(u64 *)(r10 -520)\nexit"), FaultKind::OutOfBounds);
    assert_eq!(fault("*(u64 *)(r10 +0) = 1\nr0 = 0\nexit"), FaultKind::OutOfBounds);
    assert_eq!(kind(strict("r0 = *(u64 *)(r10 -8)\nexit")), Some(FaultKind::UninitStack));
    assert!(matches!(outcome("r0 = *(u64 *)(r10 -8)\nexit"), Outcome::Exit(_)), "root may read uninit stack");
    assert_eq!(fault("r1 = 0\nr0 = *(u8 *)(r1 +0)\nexit"), FaultKind::NullDeref);
    assert_eq!(fault("r1 = 8\nr0 = *(u8 *)(r1 +0)\nexit"), FaultKind::ScalarDeref);
    assert_eq!(fault("r10 = 0\nr0 = 0\nexit"), FaultKind::WriteToFp);
    assert_eq!(kind(strict("r0 = r10\nexit")), Some(FaultKind::BadReturn), "R0 leaks addr");
    assert!(matches!(outcome("r0 = r10\nexit"), Outcome::Exit(v) if v != 0), "root may leak pointers from xdp");
    assert_eq!(fault_with("r0 = r1\nexit", ProgType::CgroupSkb, &input()), FaultKind::BadReturn);
    assert_eq!(fault_with("r0 = 2\nexit", ProgType::CgroupSkb, &input()), FaultKind::BadReturn, "range [0, 1]");
    assert_eq!(run_with("r0 = 1\nexit", ProgType::CgroupSkb, &input()).outcome, Outcome::Exit(1));
    assert_eq!(fault("r0 = 0"), FaultKind::BadInsn, "falling off the end");
    assert_eq!(fault("r1 = map[idx:7]\nr0 = 0\nexit"), FaultKind::UnknownMap);
    assert_eq!(fault("r1 = map[idx:0]\n*(u64 *)(r1 +0) = 0\nr0 = 0\nexit"), FaultKind::BadPointer);
    assert_eq!(r0("r1 = map[idx:0]\nr0 = *(u32 *)(r1 +24)\nr0 = 0\nexit"), 0, "struct bpf_map fields are readable");
    // Pointer arithmetic other than +/- scalar yields an opaque scalar.
    assert_eq!(fault("r1 = r10\nr1 *= 1\nr0 = *(u64 *)(r1 -8)\nexit"), FaultKind::ScalarDeref);
    assert_eq!(fault("r1 = r10\nw1 += 0\nr0 = *(u64 *)(r1 -8)\nexit"), FaultKind::ScalarDeref);
}

const LOOKUP: &str = "*(u32 *)(r10 -4) = 1\nr2 = r10\nr2 += -4\nr1 = map[idx:0]\ncall bpf_map_lookup_elem\n";

#[test]
fn map_values_and_null() {
    let miss = ConcreteInput { lookup_misses: true, ..input() };
    let no_check = format!("{LOOKUP}r0 = *(u64 *)(r0 +0)\nexit");
    assert_eq!(fault_with(&no_check, ProgType::Xdp, &miss), FaultKind::NullDeref);
    let mut hit = miss.clone();
    hit.map_values.insert((0, vec![1, 0, 0, 0]), 0x1122u64.to_le_bytes().to_vec());
    assert_eq!(run_with(&no_check, ProgType::Xdp, &hit).outcome, Outcome::Exit(0x1122));
    let oob = format!("{LOOKUP}if r0 == 0 goto pc+2\nr0 = *(u32 *)(r0 +6)\nexit\nr0 = 0\nexit");
    assert_eq!(fault_with(&oob, ProgType::Xdp, &hit), FaultKind::OutOfBounds, "value_size=8 off=6 size=4");
    assert_eq!(run_with(&oob, ProgType::Xdp, &miss).outcome, Outcome::Exit(0), "NULL branch taken");
    // Array maps always hit in range and are zero-initialised; writes persist.
    let array = "*(u32 *)(r10 -4) = 3\nr2 = r10\nr2 += -4\nr1 = map[idx:1]\ncall bpf_map_lookup_elem\n\
                 r1 = 9\n*(u64 *)(r0 +8) = r1\n\
                 r2 = r10\nr2 += -4\nr1 = map[idx:1]\ncall bpf_map_lookup_elem\nr0 = *(u64 *)(r0 +8)\nexit";
    assert_eq!(run_with(array, ProgType::Xdp, &miss).outcome, Outcome::Exit(9));
    // Update then lookup; update with a short value buffer faults.
    let update = "*(u32 *)(r10 -4) = 2\n*(u64 *)(r10 -16) = 77\nr2 = r10\nr2 += -4\nr3 = r10\nr3 += -16\nr4 = 0\n\
                  r1 = map[idx:0]\ncall bpf_map_update_elem\nr6 = r0\n\
                  r2 = r10\nr2 += -4\nr1 = map[idx:0]\ncall bpf_map_lookup_elem\nr0 = *(u64 *)(r0 +0)\nr0 += r6\nexit";
    assert_eq!(run_with(update, ProgType::Xdp, &miss).outcome, Outcome::Exit(77));
    let short = "*(u32 *)(r10 -4) = 2\nr2 = r10\nr2 += -4\nr3 = r10\nr3 += -4\nr4 = 0\nr1 = map[idx:0]\ncall bpf_map_update_elem\nexit";
    assert_eq!(fault_with(short, ProgType::Xdp, &miss), FaultKind::OutOfBounds);
    let uninit_key = "r2 = r10\nr2 += -4\nr1 = map[idx:0]\ncall bpf_map_lookup_elem\nr0 = 0\nexit";
    assert_eq!(kind(strict(uninit_key)), Some(FaultKind::UninitStack));
    assert_eq!(outcome(uninit_key), Outcome::Exit(0), "root: the helper reads garbage");
    let not_a_map = "*(u32 *)(r10 -4) = 1\nr2 = r10\nr2 += -4\nr1 = r10\ncall bpf_map_lookup_elem\nr0 = 0\nexit";
    assert_eq!(fault(not_a_map), FaultKind::BadHelperArg);
}

#[test]
fn packet_access_xdp_and_skb() {
    let checked = "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr4 = r2\nr4 += 14\nr0 = 0\n\
                   if r4 > r3 goto pc+1\nr0 = *(u8 *)(r2 +13)\nexit";
    let small = ConcreteInput { packet: vec![1; 10], ..input() };
    assert_eq!(run_with(checked, ProgType::Xdp, &input()).outcome, Outcome::Exit(13));
    assert_eq!(run_with(checked, ProgType::Xdp, &small).outcome, Outcome::Exit(0));
    let unchecked = "r2 = *(u32 *)(r1 +0)\nr0 = *(u8 *)(r2 +13)\nexit";
    assert_eq!(fault_with(unchecked, ProgType::Xdp, &small), FaultKind::OutOfBounds);
    let end = "r3 = *(u32 *)(r1 +4)\nr0 = *(u8 *)(r3 -1)\nexit";
    assert_eq!(fault(end), FaultKind::BadPointer, "pkt_end is not dereferenceable");
    let len = "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr3 -= r2\nr0 = r3\nexit";
    assert_eq!(r0(len), 64, "data_end - data is the packet length");
    let skb = "r2 = *(u32 *)(r1 +76)\nr3 = *(u32 *)(r1 +80)\nr4 = r2\nr4 += 2\nr0 = 0\n\
               if r4 > r3 goto pc+1\nr0 = *(u16 *)(r2 +0)\nexit";
    assert_eq!(run_with(skb, ProgType::SchedCls, &input()).outcome, Outcome::Exit(0x0100));
    let ctx_oob = "r0 = *(u32 *)(r1 +24)\nexit";
    assert_eq!(fault_with(ctx_oob, ProgType::Xdp, &input()), FaultKind::OutOfBounds, "xdp_md is 24 bytes");
    // LD_ABS: big-endian, out of bounds ends the program with 0.
    let ld_abs = "r6 = r1\nr0 = *(u16 *)skb[2]\nexit";
    assert_eq!(run_with(ld_abs, ProgType::SocketFilter, &input()).outcome, Outcome::Exit(0x0203));
    let ld_abs_oob = "r6 = r1\nr0 = *(u32 *)skb[62]\nr0 = 5\nexit";
    assert_eq!(run_with(ld_abs_oob, ProgType::SocketFilter, &input()).outcome, Outcome::Exit(0));
    // xdp_adjust_head invalidates packet pointers.
    let adjust = "r6 = r1\nr7 = *(u32 *)(r1 +0)\nr1 = r6\nr2 = 4\ncall bpf_xdp_adjust_head\nr0 = *(u8 *)(r7 +0)\nexit";
    assert_eq!(fault(adjust), FaultKind::ScalarDeref);
    let adjusted = "r6 = r1\nr1 = r6\nr2 = 4\ncall bpf_xdp_adjust_head\nr2 = *(u32 *)(r6 +0)\nr3 = *(u32 *)(r6 +4)\nr3 -= r2\nr0 = r3\nexit";
    assert_eq!(r0(adjusted), 60);
}

#[test]
fn helpers_ringbuf_tail_call_and_returns() {
    let reserve = "r1 = map[idx:2]\nr2 = 16\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto pc+6\n\
                   *(u64 *)(r0 +8) = 1\nr6 = r0\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 1\nexit";
    assert_eq!(r0(reserve), 1);
    let null = ConcreteInput { helper_returns: vec![0], ..input() };
    assert_eq!(run_with(reserve, ProgType::Xdp, &null).outcome, Outcome::Exit(0));
    let leak = "r1 = map[idx:2]\nr2 = 16\nr3 = 0\ncall bpf_ringbuf_reserve\nr0 = 0\nexit";
    assert_eq!(fault(leak), FaultKind::UnreleasedReference);
    let oob = "r1 = map[idx:2]\nr2 = 16\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto pc+4\n\
               *(u64 *)(r0 +16) = 1\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_discard\nr0 = 0\nexit";
    assert_eq!(fault(oob), FaultKind::OutOfBounds);
    let uaf = "r1 = map[idx:2]\nr2 = 16\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto pc+5\n\
               r6 = r0\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_discard\nr0 = *(u64 *)(r6 +0)\nr0 = 0\nexit";
    assert_eq!(fault(uaf), FaultKind::UseAfterRelease);
    let tail = "r6 = 3\nr2 = map[idx:0]\nr3 = 0\ncall bpf_tail_call\nr0 = r6\nexit";
    assert_eq!(r0(tail), 3, "a failed tail call continues");
    let tail_r0 = "r2 = map[idx:0]\nr3 = 0\ncall bpf_tail_call\nexit";
    assert_eq!(fault(tail_r0), FaultKind::UninitRegister, "R0 is not readable after a void helper");
    let cpu = ConcreteInput { helper_returns: vec![u64::MAX - 3, 100_000], ..input() };
    let two = "call bpf_get_smp_processor_id\nr6 = r0\ncall bpf_get_smp_processor_id\nr0 <<= 32\nr0 |= r6\nexit";
    let v = match run_with(two, ProgType::Xdp, &cpu).outcome {
        Outcome::Exit(v) => v,
        o => panic!("{o}"),
    };
    assert!(v >> 32 <= 8191 && (v & 0xffff_ffff) <= 8191, "clamped into the kernel's range: {v:#x}");
    let clobber = "r1 = 1\ncall bpf_ktime_get_ns\nr0 = r1\nexit";
    assert_eq!(fault(clobber), FaultKind::UninitRegister);
    let unknown = ConcreteInput { helper_returns: vec![99], ..input() };
    assert_eq!(run_with("call 100000\nexit", ProgType::Xdp, &unknown).outcome, Outcome::Exit(99));
    let printk = "*(u32 *)(r10 -4) = 0x41\nr1 = r10\nr1 += -4\nr2 = 8\ncall bpf_trace_printk\nexit";
    assert_eq!(fault(printk), FaultKind::OutOfBounds, "reads [fp-4, fp+4)");
    let probe = "r1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\ncall bpf_probe_read_kernel\nr0 = *(u64 *)(r10 -8)\nr0 = 0\nexit";
    assert_eq!(
        run_with(probe, ProgType::Kprobe, &input()).outcome,
        Outcome::Exit(0),
        "probe_read initialises its buffer"
    );
    let load_bytes =
        "r6 = r1\nr1 = r6\nr2 = 2\nr3 = r10\nr3 += -4\nr4 = 4\ncall bpf_skb_load_bytes\nr0 = *(u32 *)(r10 -4)\nexit";
    assert_eq!(run_with(load_bytes, ProgType::SchedCls, &input()).outcome, Outcome::Exit(0x0504_0302));
}

#[test]
fn trace_step_limit_and_determinism() {
    let exec = run_with("r0 = 1\nr1 = r0\nexit", ProgType::Xdp, &input());
    assert_eq!(exec.steps, 3);
    let pcs: Vec<usize> = exec.trace.iter().map(|s| s.pc).collect();
    assert_eq!(pcs, vec![0, 1, 2]);
    assert_eq!(exec.trace[0].regs[0], ConcreteValue::Scalar(1));
    assert_eq!(exec.trace[0].regs[1], ConcreteValue::Ptr { region: Region::Ctx, off: 0 });
    assert_eq!(exec.trace[1].regs[1], ConcreteValue::Scalar(1));
    assert_eq!(exec.trace[0].regs[10], ConcreteValue::Ptr { region: Region::Stack { frame: 0 }, off: 0 });
    let spin = run_with("r0 = 0\ngoto pc-1\nexit", ProgType::Xdp, &input());
    assert_eq!(spin.outcome, Outcome::StepLimit);
    assert_eq!(spin.steps, 10_000);
    let p = program("call bpf_get_prandom_u32\nexit", ProgType::Xdp);
    let i = ConcreteInput { seed: 5, ..input() };
    assert_eq!(run(&p, &i, &InterpLimits::default()), run(&p, &i, &InterpLimits::default()));
}

mod no_panic {
    use super::*;
    use crate::gen::Rng as SeedRng;
    use crate::insn::decode::strategies;
    use crate::insn::RawInsn;
    use proptest::prelude::*;

    fn raw_insn() -> impl Strategy<Value = RawInsn> {
        (any::<u8>(), 0u8..16, 0u8..16, any::<i16>(), any::<i32>()).prop_map(|(code, dst, src, off, imm)| RawInsn {
            code,
            dst,
            src,
            off: off % 8,
            imm: if code & 0x07 == 0x05 && code != 0x85 { imm } else { imm % 64 },
        })
    }

    fn limits() -> InterpLimits {
        InterpLimits { max_steps: 2_000, record_trace: true, ..InterpLimits::default() }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn random_raw_programs_never_panic(raw in proptest::collection::vec(raw_insn(), 1..40), seed in any::<u64>()) {
            let maps = test_maps();
            if let Ok(p) = InterpProgram::from_raw(&raw, maps, ProgType::Xdp) {
                let input = random_input_for(&p, &mut SeedRng::new(seed));
                let e = run(&p, &input, &limits());
                prop_assert!(e.steps <= 2_000);
            }
        }

        #[test]
        fn random_decoded_programs_never_panic(
            insns in proptest::collection::vec(strategies::insn(), 1..40),
            seed in any::<u64>(),
            ty in 0usize..33,
        ) {
            let prog_type = ProgType::ALL[ty];
            let p = InterpProgram { insns, maps: test_maps(), prog_type, expected_attach_type: None };
            let input = random_input_for(&p, &mut SeedRng::new(seed));
            let e = run(&p, &input, &limits());
            prop_assert!(e.steps <= 2_000);
            let faulted = u64::from(matches!(e.outcome, Outcome::Fault { .. }));
            prop_assert_eq!(e.trace.len() as u64 + faulted, e.steps);
        }
    }
}

/// Every program of every object under `corpus/` (and of the real-world objects in
/// `/work/shared/ebpf-samples`, when present) runs on 20 random inputs without panicking.
#[test]
fn corpus_programs_run_on_random_inputs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut objects = Vec::new();
    let mut dirs = vec![root, std::path::PathBuf::from("/work/shared/ebpf-samples")];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "o") {
                objects.push(p);
            }
        }
    }
    objects.sort();
    assert!(objects.len() >= 100, "corpus objects found: {}", objects.len());
    let mut programs = 0;
    let mut exits = 0;
    let mut faults: BTreeMap<String, u32> = BTreeMap::new();
    let limits = InterpLimits { max_steps: 100_000, ..InterpLimits::default() };
    for path in &objects {
        let Ok(obj) = crate::elf::load_object(path) else { continue };
        for prog in &obj.programs {
            let Ok(p) = InterpProgram::from_object(&obj, prog) else { continue };
            programs += 1;
            let mut rng = Rng::new(programs);
            for _ in 0..20 {
                let input = random_input_for(&p, &mut rng);
                let e = run(&p, &input, &limits);
                assert!(e.steps <= limits.max_steps);
                match &e.outcome {
                    Outcome::Exit(_) => exits += 1,
                    Outcome::Fault { kind, .. } => *faults.entry(format!("{kind:?}")).or_insert(0) += 1,
                    Outcome::StepLimit => *faults.entry("StepLimit".to_string()).or_insert(0) += 1,
                }
            }
        }
    }
    eprintln!("corpus: {programs} programs, {exits} exits, faults {faults:?}");
    assert!(programs >= 100, "programs run: {programs}");
    assert!(exits > 0, "no corpus program ever exited normally");
}

#[test]
fn input_map_values_seed_entries() {
    let mut mv = BTreeMap::new();
    mv.insert((1u32, vec![0u8, 0, 0, 0]), vec![7u8; 16]);
    let i = ConcreteInput { map_values: mv, ..input() };
    let text = "*(u32 *)(r10 -4) = 0\nr2 = r10\nr2 += -4\nr1 = map[idx:1]\ncall bpf_map_lookup_elem\nr0 = *(u8 *)(r0 +15)\nexit";
    assert_eq!(run_with(text, ProgType::Xdp, &i).outcome, Outcome::Exit(7));
}

/// The corpus programs the live kernel accepts (per their `.case` files) never fault on random
/// inputs: the interpreter is not stricter than the kernel (as root).
#[test]
fn kernel_accepted_corpus_programs_never_fault() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut checked = 0;
    let mut bad = Vec::new();
    for family in std::fs::read_dir(&root).expect("corpus dir").flatten() {
        let Ok(rd) = std::fs::read_dir(family.path()) else { continue };
        for e in rd.flatten() {
            let path = e.path();
            if path.extension().is_none_or(|x| x != "case") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("case file");
            let field = |k: &str| text.lines().find_map(|l| l.strip_prefix(k)).map(str::trim);
            if field("kernel =") != Some("accepted") {
                continue;
            }
            let (Some(object), Some(name)) = (field("object ="), field("program =")) else { continue };
            let obj = crate::elf::load_object(&family.path().join(object)).expect("corpus object loads");
            let prog = obj.programs.iter().find(|p| p.name == name).expect("case program exists");
            let p = InterpProgram::from_object(&obj, prog).expect("accepted programs decode");
            let mut rng = Rng::new(1);
            for _ in 0..20 {
                let input = random_input_for(&p, &mut rng);
                let e = run(&p, &input, &InterpLimits { max_steps: 100_000, ..InterpLimits::default() });
                if let Outcome::Fault { .. } = e.outcome {
                    bad.push(format!("{}: {}", path.display(), e.outcome));
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "accepted cases checked: {checked}");
    assert!(bad.is_empty(), "{bad:#?}");
}

/// The real-world programs the live kernel accepted (`/work/shared/ebpf-samples/kernel-verdicts.tsv`,
/// skipped when absent) never fault on 5 random inputs each.
#[test]
fn kernel_accepted_samples_never_fault() {
    let dir = std::path::Path::new("/work/shared/ebpf-samples");
    let Ok(tsv) = std::fs::read_to_string(dir.join("kernel-verdicts.tsv")) else { return };
    let mut checked = 0;
    let mut bad = Vec::new();
    for line in tsv.lines().filter(|l| !l.starts_with('#') && !l.starts_with("file\t")) {
        let f: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(section), Some(function), Some(&"accepted")) = (f.first(), f.get(1), f.get(2), f.get(4))
        else {
            continue;
        };
        let Ok(obj) = crate::elf::load_object(&dir.join(file)) else { continue };
        let Some(prog) = obj.programs.iter().find(|p| p.name == *function && p.section == *section) else { continue };
        let Ok(p) = InterpProgram::from_object(&obj, prog) else { continue };
        checked += 1;
        let mut rng = Rng::new(1);
        for _ in 0..5 {
            let input = random_input_for(&p, &mut rng);
            let e = run(&p, &input, &InterpLimits { max_steps: 100_000, ..InterpLimits::default() });
            if let Outcome::Fault { .. } = e.outcome {
                bad.push(format!("{file} {function}: {}", e.outcome));
            }
        }
    }
    assert!(checked >= 100, "accepted samples checked: {checked}");
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Frozen read-only global data (`.rodata`, `.kconfig`) keeps the section's bytes: random inputs
/// never give it entries, while the writable maps next to it do get some.
#[test]
fn random_inputs_leave_readonly_data_alone() {
    let mut rodata = map_def(2, 4, 8, 1);
    rodata.origin = MapOrigin::GlobalData { section: ".rodata".into() };
    rodata.initial_value = Some(vec![1, 2, 3, 4, 5, 6, 7, 8]);
    let mut kconfig = map_def(2, 4, 8, 1);
    kconfig.origin = MapOrigin::GlobalData { section: ".kconfig".into() };
    let p = InterpProgram { insns: Vec::new(), maps: vec![rodata, kconfig, map_def(1, 4, 8, 16)], prog_type: ProgType::Xdp, expected_attach_type: None };
    let mut writable_entries = 0;
    for seed in 0..64 {
        let i = random_input_for(&p, &mut Rng::new(seed));
        assert!(i.map_values.keys().all(|(m, _)| *m == 2), "seed {seed}: entries for frozen maps: {:?}", i.map_values.keys());
        writable_entries += i.map_values.len();
    }
    assert!(writable_entries > 0, "the hash map never got an entry");
}

/// Kfunc calls return a kernel object (pointer-returning kfuncs acquire one), or NULL when the
/// next helper result is 0.
#[test]
fn kfunc_calls_return_kernel_objects_or_null() {
    let text = "call bpf_skb_ct_lookup#1234\nr1 = r0\nr0 = 0\nif r1 == 0 goto pc+1\nr0 = 1\nexit";
    let p = program(text, ProgType::SchedCls);
    let limits = InterpLimits { record_trace: true, ..InterpLimits::default() };
    let e = run(&p, &input(), &limits);
    assert!(matches!(e.trace.first().map(|t| t.regs[0]), Some(ConcreteValue::Ptr { region: Region::Kernel { .. }, off: 0 })));
    assert_eq!(e.outcome, Outcome::Exit(1));
    let null = ConcreteInput { helper_returns: vec![0], ..input() };
    assert_eq!(run(&p, &null, &limits).outcome, Outcome::Exit(0));
}
