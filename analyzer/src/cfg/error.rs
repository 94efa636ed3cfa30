//! Why a program has no valid control-flow graph. Messages use the kernel's words
//! (`check_subprogs`, `check_cfg`, `push_insn`, `check_max_stack_depth` in
//! kernel/bpf/verifier.c) where it has them.

/// A structural error found while building the CFG.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CfgError {
    #[error("empty program: last insn is not an exit or jmp")]
    EmptyProgram,
    #[error("program too large: {len} insns, limit {limit}")]
    ProgramTooLarge { len: usize, limit: usize },
    #[error("jump out of range from insn {pc} to {target}")]
    JumpOutOfRange { pc: usize, target: i64 },
    /// A bpf-to-bpf call or `LD_IMM64` function reference outside the program.
    #[error("call to invalid destination: insn {pc} refers to insn {target}")]
    CallOutOfRange { pc: usize, target: i64 },
    /// The last insn of a function falls through into the next function (or off the end).
    #[error("last insn is not an exit or jmp (insn {pc})")]
    LastInsnNotExit { pc: usize },
    #[error("unreachable insn {pc}")]
    UnreachableInsn { pc: usize },
    /// `pc` is the first slot of the `LD_IMM64` whose second slot is a jump or call target.
    #[error("jump into the middle of ldimm64 insn {pc}")]
    JumpIntoLdImm64 { pc: usize },
    /// An `LD_IMM64` first slot not followed by its second slot, or a lone second slot.
    #[error("invalid bpf_ld_imm64 insn {pc}")]
    InvalidLdImm64 { pc: usize },
    #[error("recursive call from insn {pc} to {target} (back-edge from insn {pc} to {target})")]
    RecursiveCall { pc: usize, target: usize },
    /// `frames` counted as the kernel does (main is frame 0), so the first rejected depth is 8.
    #[error("the call stack of {frames} frames is too deep ! (call at insn {pc})")]
    CallStackTooDeep { frames: usize, pc: usize },
    #[error("inlining bpf-to-bpf calls gives {blocks} blocks, over the limit of {limit}")]
    TooManyBlocks { blocks: usize, limit: usize },
}

impl CfgError {
    /// The pc the error is about, if it is about one.
    pub fn pc(&self) -> Option<usize> {
        match *self {
            CfgError::EmptyProgram | CfgError::ProgramTooLarge { .. } | CfgError::TooManyBlocks { .. } => None,
            CfgError::JumpOutOfRange { pc, .. }
            | CfgError::CallOutOfRange { pc, .. }
            | CfgError::LastInsnNotExit { pc }
            | CfgError::UnreachableInsn { pc }
            | CfgError::JumpIntoLdImm64 { pc }
            | CfgError::InvalidLdImm64 { pc }
            | CfgError::RecursiveCall { pc, .. }
            | CfgError::CallStackTooDeep { pc, .. } => Some(pc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pc_of_errors() {
        assert_eq!(CfgError::UnreachableInsn { pc: 7 }.pc(), Some(7));
        assert_eq!(CfgError::RecursiveCall { pc: 3, target: 9 }.pc(), Some(3));
        assert_eq!(CfgError::EmptyProgram.pc(), None);
    }
}
