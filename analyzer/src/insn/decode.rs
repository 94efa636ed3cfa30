//! (being written)
use super::{Insn, RawInsn};
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError { #[error("placeholder")] Placeholder }
pub fn decode(_raw: &[RawInsn]) -> Result<Vec<Insn>, DecodeError> { Err(DecodeError::Placeholder) }
pub fn decode_one(_raw: &[RawInsn], _pc: usize) -> Result<Insn, DecodeError> { Err(DecodeError::Placeholder) }
