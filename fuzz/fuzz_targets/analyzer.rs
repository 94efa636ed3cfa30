//! Fuzz target: the whole analyzer on arbitrary instruction sequences. The first byte picks a
//! program type, the rest are `struct bpf_insn`s; the program gets a hash and an array map (so
//! map references can resolve) and is verified with a small budget. Whatever the instructions,
//! `verify_program` must return a verdict, never panic.
#![no_main]

use analyzer::gen::{generate, GenConfig, GeneratedProgram};
use analyzer::insn::RawInsn;
use analyzer::prog_type::ProgType;
use analyzer::soundness::object_for_generated;
use analyzer::verify::{verify_program, Config};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

const TYPES: [ProgType; 6] =
    [ProgType::Xdp, ProgType::SchedCls, ProgType::SocketFilter, ProgType::Kprobe, ProgType::Tracepoint, ProgType::CgroupSkb];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let n = rest.len() / 8 * 8;
    let Some(insns) = RawInsn::slice_from_bytes(&rest[..n]) else { return };
    if insns.is_empty() || insns.len() > 4096 {
        return;
    }
    let prog_type = TYPES[usize::from(sel) % TYPES.len()];
    let maps = generate(0, &GenConfig::default()).maps;
    let obj = object_for_generated(&GeneratedProgram { insns, prog_type, maps }, "fuzz");
    let config = Config { max_node_visits: 20_000, timeout: Some(Duration::from_secs(2)), ..Config::default() };
    let _ = verify_program(&obj, 0, &config);
});
