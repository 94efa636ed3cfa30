//! Diagnostics: what the analysis says about a program instead of returning `Err`.
//!
//! Each diagnostic has the pc it is about, a stable code (for JSON/SARIF and for
//! tests), and a message in the kernel verifier's words where the kernel has them.

use serde::Serialize;

/// Stable diagnostic codes, one per family of check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagCode {
    /// Reading a register never written (`R2 !read_ok`).
    UninitRegister,
    /// Reading stack bytes never written.
    UninitStack,
    /// Stack access out of the 512-byte frame, misaligned, or at a bad variable offset.
    StackAccess,
    /// Context access not allowed for this program type.
    CtxAccess,
    /// Map value access outside `value_size`.
    MapValueAccess,
    /// Dereference of a possibly-NULL pointer.
    NullDereference,
    /// Dereference of a scalar or another non-memory register.
    InvalidMemAccess,
    /// Packet access not proven within the packet.
    PacketAccess,
    /// Memory from a helper accessed out of its size.
    MemAccess,
    /// Pointer arithmetic the kernel forbids.
    PointerArithmetic,
    /// Writing the read-only frame pointer R10.
    FramePointerWrite,
    /// R0 at exit not initialised or outside the program type's range.
    ReturnValue,
    /// Helper argument of the wrong kind or size.
    HelperArgument,
    /// Unknown helper, or a helper this program type may not call.
    HelperUnavailable,
    /// Map type incompatible with the helper.
    MapHelperMismatch,
    /// Acquired reference not released on some path, or used after release.
    Reference,
    /// `bpf_spin_lock` misuse: exit or a call inside the locked region, unbalanced unlock.
    Lock,
    /// Division or shift by an immediate the kernel rejects.
    InvalidImmediate,
    /// An instruction the analyzer does not support yet (rejected: never assumed safe).
    Unsupported,
    /// A loop the analysis could not prove to terminate.
    Termination,
    /// The analysis budget (instructions or time) was exceeded.
    Complexity,
    /// Store not allowed into this kind of memory.
    InvalidStore,
}

impl DiagCode {
    pub fn as_str(self) -> &'static str {
        use DiagCode::*;
        match self {
            UninitRegister => "uninit_register",
            UninitStack => "uninit_stack",
            StackAccess => "stack_access",
            CtxAccess => "ctx_access",
            MapValueAccess => "map_value_access",
            NullDereference => "null_dereference",
            InvalidMemAccess => "invalid_mem_access",
            PacketAccess => "packet_access",
            MemAccess => "mem_access",
            PointerArithmetic => "pointer_arithmetic",
            FramePointerWrite => "frame_pointer_write",
            ReturnValue => "return_value",
            HelperArgument => "helper_argument",
            HelperUnavailable => "helper_unavailable",
            MapHelperMismatch => "map_helper_mismatch",
            Reference => "reference",
            Lock => "lock",
            InvalidImmediate => "invalid_immediate",
            Unsupported => "unsupported",
            Termination => "termination",
            Complexity => "complexity",
            InvalidStore => "invalid_store",
        }
    }
}

/// One finding at one instruction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    pub pc: usize,
    pub code: DiagCode,
    /// The kernel's wording where it has one.
    pub message: String,
    /// With `--smt discharge`: a concrete input that drives the program to this error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<CounterexampleInfo>,
}

/// A concrete input found by Z3 for a diagnostic, and whether the concrete
/// interpreter confirmed it (a counterexample that does not replay is a bpfcheck bug).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CounterexampleInfo {
    /// Input name (`packet_len`, `ctx[16..20]`, `helper#1 return (...)`) to value.
    pub inputs: std::collections::BTreeMap<String, String>,
    pub replayed: bool,
    pub replay_outcome: String,
}

impl Diagnostic {
    pub fn new(pc: usize, code: DiagCode, message: impl Into<String>) -> Diagnostic {
        Diagnostic { pc, code, message: message.into(), counterexample: None }
    }
}
