//! Fuzz target: the ELF/BTF loader on arbitrary bytes must return `Ok` or a typed `LoadError`,
//! never panic. Loaded programs are also decoded (as the CLI does right after loading).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(obj) = analyzer::elf::load_object_bytes("fuzz.o", data) {
        for p in &obj.programs {
            let _ = analyzer::insn::decode(&p.insns);
        }
    }
});
