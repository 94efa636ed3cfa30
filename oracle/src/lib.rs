//! The live kernel verifier as an oracle.
//!
//! `load_program` hands one program of a loaded `Object` to the running kernel with raw
//! `bpf(2)` calls (no libbpf): it creates the maps the program uses, rewrites map
//! references to fds, loads the program with a verifier log, and returns a `KernelVerdict`
//! (accepted or not, errno, log, processed insns). `log_parser` turns a level-2 log into
//! per-instruction register and stack states, so bpfcheck's invariants can be compared
//! with the kernel's.
//!
//! Needs root (or CAP_BPF + CAP_PERFMON for most program types); `bpf_available` says
//! whether this process can load programs at all.

mod attach;
mod available;
mod btf_sanitize;
mod error;
mod load;
pub mod compare;
pub mod log_parser;
mod maps;
mod sys;

pub use available::bpf_available;
pub use btf_sanitize::{sanitize as sanitize_btf, BtfSanitizeError, ElfLayout, SanitizedBtf};
pub use error::{errno_name, OracleError};
pub use load::{load_program, KernelVerdict, LoadOptions, LOG_LEVEL1, LOG_LEVEL2, LOG_STATS};
