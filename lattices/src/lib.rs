//! Abstract domains for eBPF scalars: tristate numbers, unsigned and signed
//! intervals at 64 and 32 bits, and their reduced product [`Scalar`] with the
//! kernel verifier's bound synchronisation.
//!
//! Pure: no I/O, no dependency on other bpfcheck crates. Only integer
//! semantics (wrap-around, division by zero, masked shift amounts) are
//! modelled; nothing here knows about registers, pointers or programs.

pub mod interval;
pub mod lattice;
pub mod precision;
pub mod scalar;
pub mod testing;
pub mod tnum;

pub use interval::{S32Range, S64Range, U32Range, U64Range};
pub use lattice::{Gamma, Lattice, Thresholds};
pub use scalar::{BinOp, BitWidth, Cmp, Scalar};
pub use tnum::Tnum;
