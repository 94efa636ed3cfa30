//! What a concrete run produces: how it ended, how many steps it took, and optionally the
//! register file after every executed instruction.

use super::value::ConcreteValue;
use std::fmt;

/// Why a run stopped abnormally. The kernel's verifier must reject every program that can reach
/// one of these (except `ResourceLimit`, a limit of the interpreter itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// Read of a register that was never written or was clobbered by a call (`R%d !read_ok`).
    UninitRegister,
    /// Read of stack bytes never written (`invalid read from stack`).
    UninitStack,
    /// Access outside the bounds of the region the pointer points into.
    OutOfBounds,
    /// Dereference of NULL (`Scalar(0)`).
    NullDeref,
    /// Dereference of a non-zero scalar (`invalid mem access 'scalar'`).
    ScalarDeref,
    /// Dereference of a pointer that cannot be dereferenced (map pointer, pkt_end, function, kernel object).
    BadPointer,
    /// Write into read-only memory (`.rodata` map values, devmap values).
    ReadOnly,
    /// Access through a pointer into a stack frame that has returned.
    StaleStack,
    /// Access to helper memory after it was submitted or discarded, or releasing it twice.
    UseAfterRelease,
    /// Write to R10 (`frame pointer is read only`).
    WriteToFp,
    /// A helper argument of the wrong kind or size (`R1 type=scalar expected=map_ptr`, ...).
    BadHelperArg,
    /// `LD_IMM64` or a helper argument names a map the program does not have.
    UnknownMap,
    /// More than the allowed number of nested bpf-to-bpf calls.
    CallDepth,
    /// Executing an `LD_IMM64` tail, jumping or falling outside the program.
    BadInsn,
    /// Exit from the main program with an acquired reference not released (`Unreleased reference`).
    UnreleasedReference,
    /// A pointer returned from the program (`R0 leaks addr`) or a stack pointer returned to a caller.
    BadReturn,
    /// The interpreter's own memory bounds were hit (huge map values, too many allocations).
    ResourceLimit,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `exit` from the main frame, with R0.
    Exit(u64),
    /// The instruction at `pc` (of the decoded program) could not execute.
    Fault { pc: usize, kind: FaultKind, message: String },
    /// `InterpLimits::max_steps` instructions executed without reaching the main `exit`.
    StepLimit,
}

/// The state after one executed instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    /// The pc of the instruction just executed.
    pub pc: usize,
    /// The call depth the instruction executed in (0 = main program).
    pub frame: usize,
    /// Registers R0..R10 of the frame that is current *after* the instruction (the caller's after
    /// a subprogram's `exit`, the callee's after a call).
    pub regs: [ConcreteValue; 11],
    /// With `InterpLimits::record_stack`: every active frame's stack after the instruction,
    /// outermost first (steps that leave the stacks unchanged share one copy).
    pub stacks: Option<std::sync::Arc<Vec<super::StackSnapshot>>>,
}

/// The result of [`super::run`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    pub outcome: Outcome,
    /// One step per executed instruction when `InterpLimits::record_trace`, else empty.
    /// A faulting instruction has no step.
    pub trace: Vec<TraceStep>,
    /// Instructions executed, including a faulting one.
    pub steps: u64,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Exit(v) => write!(f, "exit R0={v:#x}"),
            Outcome::Fault { pc, kind, message } => write!(f, "fault at pc {pc} ({kind:?}): {message}"),
            Outcome::StepLimit => write!(f, "step limit"),
        }
    }
}

/// A fault before the pc is attached (internal to the interpreter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) kind: FaultKind,
    pub(crate) message: String,
}

impl Fault {
    pub(crate) fn new(kind: FaultKind, message: impl Into<String>) -> Fault {
        Fault { kind, message: message.into() }
    }
}
