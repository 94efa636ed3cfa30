//! The SMT backend (Z3 through the `z3` crate, system Z3 4.8.12).
//!
//! - [`encode`]: bit-vector encodings of the `lattices` transfer functions,
//!   mirroring the Rust code.
//! - [`prove_domains`]: Agni-style proofs that those transfer functions are
//!   sound at 64 bits (`bpfcheck prove-domains`).
//! - [`scalar_ops`]: its `scalar.{mul,div,mod,sdiv,smod}` lines, composed
//!   from the proved component lines.
//! - [`scalar_shifts`]: its `scalar.{lsh,rsh,arsh}` lines, likewise.

pub mod encode;
pub mod prove_domains;
mod scalar_ops;
mod scalar_shifts;
