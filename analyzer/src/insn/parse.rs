//! (being written)
use super::RawInsn;
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError { #[error("placeholder")] Placeholder }
pub fn parse_program(_text: &str) -> Result<Vec<RawInsn>, ParseError> { Err(ParseError::Placeholder) }
