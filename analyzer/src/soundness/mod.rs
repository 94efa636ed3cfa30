//! Soundness testing: the analysis' invariants checked against concrete executions.
//!
//! [`check_program`] verifies one program with per-pc invariants
//! (`verify::verify_program_with_invariants`), runs it in the concrete interpreter
//! (`crate::interp`) on seeded random inputs with traces, and checks two things:
//! - *containment*: before every executed instruction, the concrete register file of the current
//!   frame lies inside at least one member of the invariant's `StateSet` at that pc (same call
//!   depth; see `contains`), and so do the contents of every frame's stack (the slots the
//!   abstract state knows: spills, narrow spills, initialised and zero bytes; see
//!   `contains::stack_mismatches`) — both in the *same* member. A pc the analysis found
//!   unreachable but the run reached is a violation.
//! - *safety*: if the verifier accepted the program, no run may fault ([`Outcome::Fault`], except
//!   `FaultKind::ResourceLimit`, a limit of the interpreter); `StepLimit` is fine.
//!
//! For a rejected program the invariants are only meaningful where the analysis went on: a run is
//! checked up to and including the first instruction at which the analysis raised a diagnostic
//! (past it, the concrete path may go where the analysis stopped). Programs the analysis could
//! not finish (verdict `Error`, or no invariants) are run but not checked.
//!
//! Input `i` of a check with seed `s` is `random_input_for(prog, &mut Rng::new(input_seed(s, i)))`,
//! so a violation's `seed` reproduces its run alone. At most one violation (the first in trace
//! order) is recorded per run: later ones are usually its consequences.
//!
//! `generated` wraps `gen`'s programs into `Object`s (for the verifier and the live kernel);
//! `mutate` removes bounds and NULL checks from accepted programs to test that the analysis
//! rejects exactly what can then fault.

pub mod contains;
pub mod generated;
pub mod mutate;

#[cfg(test)]
mod tests;

pub use contains::{contains, kind_matches, mismatches, reg_contains, stack_mismatches, ConcreteContext, Mismatch};
pub use generated::object_for_generated;
pub use mutate::{bypass_mutations, check_mutations, Mutation, MutationResult};

use crate::gen::Rng;
use crate::interp::{
    random_input_for, run, ConcreteValue, FaultKind, InterpLimits, InterpProgram, Outcome, Region, StackSnapshot,
};
use crate::object::Object;
use crate::state::disjunct::StateSet;
use crate::verify::{verify_program_with_invariants, Config, Verdict};

/// How to run [`check_program_with`].
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// Random inputs per program.
    pub inputs: usize,
    /// Seeds the inputs (see [`input_seed`]).
    pub seed: u64,
    /// The analysis configuration; `collect_states` is forced on.
    pub verify: Config,
    /// Interpreter limits; `record_trace` and `record_stack` are forced on. A trace step costs
    /// about 200 bytes plus 1 KiB per frame for each step that changed a stack, so `max_steps`
    /// also bounds memory.
    pub limits: InterpLimits,
}

impl Default for CheckConfig {
    fn default() -> CheckConfig {
        CheckConfig {
            inputs: 20,
            seed: 0,
            verify: Config::default(),
            limits: InterpLimits { max_steps: 100_000, record_trace: true, ..InterpLimits::default() },
        }
    }
}

/// A concrete state outside the invariant at its pc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The input seed of the run (`Rng::new(seed)` with `random_input_for` reproduces it).
    pub seed: u64,
    /// The pc whose before-state does not contain the concrete state.
    pub pc: usize,
    /// The register that is not contained (of the closest member), `None` for a depth mismatch,
    /// an unreachable pc or a stack mismatch.
    pub reg: Option<u8>,
    /// The stack byte (frame depth, frame offset) that is not contained, for a stack mismatch.
    pub stack: Option<(u8, i64)>,
    pub concrete: String,
    pub abstract_: String,
    pub message: String,
}

/// A run that faulted although the verifier accepted the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultInAccepted {
    pub seed: u64,
    pub pc: usize,
    pub kind: FaultKind,
    pub message: String,
}

/// The result of checking one program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// `file:name` of the program.
    pub program: String,
    pub verdict: Verdict,
    /// Runs of the interpreter.
    pub executions: usize,
    /// Trace steps whose before-state was checked against an invariant.
    pub steps_checked: u64,
    pub violations: Vec<Violation>,
    pub faults_in_accepted: Vec<FaultInAccepted>,
    /// Runs that faulted (whatever the verdict): the generator's unsafe variants, for a rejected program.
    pub faulting_runs: usize,
    /// Why nothing could run (the program does not decode, no such program).
    pub error: Option<String>,
}

impl Report {
    /// Containment violations plus faults in an accepted program: the soundness bugs found.
    pub fn bug_count(&self) -> usize {
        self.violations.len() + self.faults_in_accepted.len()
    }
}

/// The seed of input `i` of a check seeded with `seed`.
pub fn input_seed(seed: u64, i: usize) -> u64 {
    seed ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Checks program `index` of `obj` on `inputs` random inputs (see the module documentation).
pub fn check_program(obj: &Object, index: usize, inputs: usize, seed: u64) -> Report {
    check_program_with(obj, index, &CheckConfig { inputs, seed, ..CheckConfig::default() })
}

/// [`check_program`] with explicit analysis and interpreter settings.
pub fn check_program_with(obj: &Object, index: usize, cfg: &CheckConfig) -> Report {
    let verify_cfg = Config { collect_states: true, ..cfg.verify.clone() };
    let (res, invariants) = verify_program_with_invariants(obj, index, &verify_cfg);
    let mut report = Report {
        program: format!("{}:{}", obj.path, res.name),
        verdict: res.verdict,
        executions: 0,
        steps_checked: 0,
        violations: Vec::new(),
        faults_in_accepted: Vec::new(),
        faulting_runs: 0,
        error: None,
    };
    let Some(prog) = obj.programs.get(index) else {
        report.error = Some(format!("no program #{index}"));
        return report;
    };
    let ip = match InterpProgram::from_object(obj, prog) {
        Ok(p) => p,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    // Where checking a run stops: nowhere for accepted programs, at the first diagnostic's pc for
    // rejected ones, everywhere for programs without invariants.
    let checkable = res.verdict != Verdict::Error && !invariants.is_empty();
    let stop_pcs: Vec<usize> =
        if res.verdict == Verdict::Rejected { res.diagnostics.iter().map(|d| d.pc).collect() } else { Vec::new() };
    let limits = InterpLimits { record_trace: true, record_stack: true, ..cfg.limits.clone() };
    for i in 0..cfg.inputs {
        let seed = input_seed(cfg.seed, i);
        let input = input_for(&ip, seed);
        let exec = run(&ip, &input, &limits);
        report.executions += 1;
        if let Outcome::Fault { pc, kind, message } = &exec.outcome {
            report.faulting_runs += 1;
            if res.verdict == Verdict::Accepted && *kind != FaultKind::ResourceLimit {
                report.faults_in_accepted.push(FaultInAccepted { seed, pc: *pc, kind: *kind, message: message.clone() });
            }
        }
        if !checkable {
            continue;
        }
        let cx = ConcreteContext { packet_len: input.packet.len() as u64, object_maps: obj.maps.len() };
        // Before-states: the entry registers, then each step's registers for the next step;
        // a faulting instruction is checked too (its before-state is the last step's).
        let mut before = entry_regs();
        let mut before_stacks: Option<std::sync::Arc<Vec<StackSnapshot>>> = None;
        let fault_pc = match &exec.outcome {
            Outcome::Fault { pc, .. } => Some(*pc),
            _ => None,
        };
        let mut steps = exec.trace.iter().map(|t| (t.pc, t.frame, Some((t.regs, t.stacks.clone())))).collect::<Vec<_>>();
        if let Some(pc) = fault_pc {
            // The depth of the faulting instruction is the depth after the last step.
            let depth = exec.trace.last().map_or(0, frame_after);
            steps.push((pc, depth, None));
        }
        for (pc, depth, after) in steps {
            report.steps_checked += 1;
            let concrete = Concrete { depth, regs: &before, stacks: before_stacks.as_deref().map(Vec::as_slice) };
            if let Some(v) = check_step(&invariants, pc, &concrete, &cx, seed) {
                report.violations.push(v);
                break;
            }
            if stop_pcs.contains(&pc) {
                break;
            }
            if let Some((regs, stacks)) = after {
                before = regs;
                before_stacks = stacks;
            }
        }
    }
    report
}

/// Input `seed` of `prog`: `random_input_for(prog, &mut Rng::new(seed))`.
pub fn input_for(prog: &InterpProgram, seed: u64) -> crate::interp::ConcreteInput {
    random_input_for(prog, &mut Rng::new(seed))
}

/// The interpreter's registers at program entry: R1 = ctx, R10 = fp0.
fn entry_regs() -> [ConcreteValue; 11] {
    let mut regs = [ConcreteValue::Uninit; 11];
    regs[1] = ConcreteValue::Ptr { region: Region::Ctx, off: 0 };
    regs[10] = ConcreteValue::Ptr { region: Region::Stack { frame: 0 }, off: 0 };
    regs
}

/// The call depth after a trace step: R10 of the registers recorded names the current frame.
fn frame_after(t: &crate::interp::TraceStep) -> usize {
    match t.regs[10] {
        ConcreteValue::Ptr { region: Region::Stack { frame }, .. } => usize::from(frame),
        _ => t.frame,
    }
}

/// One concrete before-state: call depth, the current frame's registers, every frame's stack
/// (`None` at entry, when nothing was written yet).
struct Concrete<'a> {
    depth: usize,
    regs: &'a [ConcreteValue; 11],
    stacks: Option<&'a [StackSnapshot]>,
}

/// Register mismatches, then stack mismatches, of `c` against one member.
fn state_mismatches(s: &crate::state::AbsState, c: &Concrete<'_>, cx: &ConcreteContext) -> Vec<Mismatch> {
    let mut m = mismatches(s, c.depth, c.regs, cx);
    if m.is_empty() {
        if let Some(stacks) = c.stacks {
            m = stack_mismatches(s, stacks, cx);
        }
    }
    m
}

/// Checks one before-state; `None` when contained.
fn check_step(
    invariants: &[Option<StateSet>],
    pc: usize,
    c: &Concrete<'_>,
    cx: &ConcreteContext,
    seed: u64,
) -> Option<Violation> {
    let depth = c.depth;
    let Some(Some(set)) = invariants.get(pc) else {
        return Some(Violation {
            seed,
            pc,
            reg: None,
            stack: None,
            concrete: format!("frame depth {depth}"),
            abstract_: "unreachable".to_string(),
            message: "the run reached a pc the analysis found unreachable".to_string(),
        });
    };
    // Contained in some member? Otherwise report the member with the fewest mismatches.
    let mut best: Option<Vec<Mismatch>> = None;
    for s in &set.states {
        let m = state_mismatches(s, c, cx);
        if m.is_empty() {
            return None;
        }
        if best.as_ref().is_none_or(|b| m.len() < b.len() || b.iter().any(|x| x.reg.is_none() && x.stack.is_none())) {
            best = Some(m);
        }
    }
    let first = best.and_then(|b| b.into_iter().next());
    Some(match first {
        Some(m) => Violation {
            seed,
            pc,
            reg: m.reg,
            stack: m.stack,
            concrete: m.concrete,
            abstract_: m.abstract_,
            message: format!("not in any of {} state(s): {}", set.states.len(), m.reason),
        },
        None => Violation {
            seed,
            pc,
            reg: None,
            stack: None,
            concrete: format!("frame depth {depth}"),
            abstract_: "bottom".to_string(),
            message: "the invariant is empty".to_string(),
        },
    })
}

/// The generated program of `program_seed` (named `gen_<seed>`) as an object, and its check on
/// `inputs` inputs seeded with `program_seed`.
pub fn check_generated(program_seed: u64, gen: &crate::gen::GenConfig, inputs: usize) -> (Object, Report) {
    let gp = crate::gen::generate(program_seed, gen);
    let obj = object_for_generated(&gp, &format!("gen_{program_seed}"));
    let report = check_program(&obj, 0, inputs, program_seed);
    (obj, report)
}
