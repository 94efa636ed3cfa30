//! Fuzz target: the instruction decoder on arbitrary bytes (read 8 at a time as `struct bpf_insn`)
//! must return instructions or a typed `DecodeError`; whatever decodes must also print.
#![no_main]

use analyzer::insn::{decode, print_insn, RawInsn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let n = data.len() / 8 * 8;
    let Some(raw) = RawInsn::slice_from_bytes(&data[..n]) else { return };
    if decode(&raw).is_ok() {
        for pc in 0..raw.len() {
            let _ = print_insn(&raw, pc);
        }
    }
});
