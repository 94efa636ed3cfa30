//! The live kernel verifier as an oracle (being written).
