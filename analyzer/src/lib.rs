//! bpfcheck's analyzer: from ELF bytes to verdicts.
//!
//! Data flow: `elf` (bytes -> `Object`) -> `insn` (raw -> decoded) -> `cfg` ->
//! `fixpoint` (invariants per pc) -> `checks` (assertions per pc) -> `smt` -> `verify::Report`.
//! See ARCHITECTURE.md at the workspace root.

pub mod abi;
pub mod cfg;
pub mod elf;
pub mod fixpoint;
pub mod insn;
pub mod object;
pub mod prog_type;
