//! bpfcheck's analyzer: from ELF bytes to verdicts.
//!
//! Data flow: `elf` (bytes -> `Object`) -> `insn` (raw -> decoded) -> `cfg` ->
//! `fixpoint` with `analysis` (invariants per block, `state` + `exec` transfer) ->
//! check pass in `verify` (diagnostics per pc) -> `verify::ProgramResult`.
//! See ARCHITECTURE.md at the workspace root.

pub mod abi;
pub mod analysis;
pub mod cfg;
pub mod diag;
pub mod discharge;
pub mod elf;
pub mod exec;
pub mod findings;
pub mod fixpoint;
pub mod gen;
pub mod global_funcs;
pub mod insn;
pub mod liveness;
pub mod relevance;
pub mod interp;
pub mod object;
pub mod prog_type;
pub mod smt;
pub mod soundness;
pub mod state;
pub mod termination;
pub mod verify;

pub use verify::{verify_object, verify_program, Config, ProgramResult, Verdict};
