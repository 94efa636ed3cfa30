//! (being written)
use super::RawInsn;
pub struct InsnPrinter;
pub fn print_insn(_raw: &[RawInsn], _pc: usize) -> String { String::new() }
