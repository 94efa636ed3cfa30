//! Fuzz target: the text-assembly parser on arbitrary strings must return instructions or a
//! typed `ParseError`, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = analyzer::insn::parse_program(text);
    }
});
