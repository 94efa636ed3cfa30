//! Comparing bpfcheck with the live kernel, program by program: the two verdicts, and
//! per instruction and register which side knows more about the value.
//!
//! - `value_set`: a printed register value (ours or the kernel's, same notation) as a
//!   set of values (`ValueSet`), and `Precision` by set inclusion.
//! - `states`: which registers are compared at which pc, and how several kernel visits
//!   of one pc are joined before comparing with our (already joined) state.
//! - here: `ProgramComparison` (one program: verdicts, counts, examples), `Agreement`,
//!   and `Summary` over many programs.
//!
//! Everything here is pure: the caller runs our analysis (`Config { collect_states: true }`)
//! and the kernel (`load_program` with `LOG_LEVEL2`) and hands both results in.

mod states;
mod value_set;

pub use states::{compare_states, PrecisionExample, StateComparison, EXAMPLES_PER_CLASS};
pub use value_set::{compare_text, compare_values, Precision, PtrSet, ScalarSet, Tnum, ValueSet};

use crate::log_parser::parse_log;
use crate::{KernelVerdict, OracleError, LOG_LEVEL2};
use analyzer::verify::{ProgramResult, Verdict};

/// How the two verdicts relate. Our `Error` counts as a rejection (never "safe").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Agreement {
    /// The dangerous disagreement: listed first.
    OursAcceptsKernelRejects,
    OursRejectsKernelAccepts,
    /// The kernel never verified the program (`OracleError`: map creation, attach target, ...).
    NoKernelVerdict,
    BothReject,
    BothAccept,
}

impl Agreement {
    pub fn as_str(self) -> &'static str {
        match self {
            Agreement::OursAcceptsKernelRejects => "ours_accept_kernel_reject",
            Agreement::OursRejectsKernelAccepts => "ours_reject_kernel_accept",
            Agreement::NoKernelVerdict => "no_kernel_verdict",
            Agreement::BothReject => "both_reject",
            Agreement::BothAccept => "both_accept",
        }
    }

    pub const ALL: [Agreement; 5] = [
        Agreement::BothAccept,
        Agreement::BothReject,
        Agreement::OursAcceptsKernelRejects,
        Agreement::OursRejectsKernelAccepts,
        Agreement::NoKernelVerdict,
    ];
}

/// One program compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramComparison {
    pub file: String,
    pub section: String,
    pub name: String,
    pub ours: Verdict,
    /// Our first diagnostic (`pc: message`) or analysis error.
    pub ours_error: Option<String>,
    /// `Some(accepted)` when the kernel verified the program.
    pub kernel: Option<bool>,
    /// The kernel's error line for a rejection, or why the program never reached the verifier.
    pub kernel_error: Option<String>,
    /// The kernel's level-2 log was complete, so states were compared.
    pub states_compared: bool,
    pub registers_compared: u64,
    pub ours_more_precise: u64,
    pub equal: u64,
    pub kernel_more_precise: u64,
    pub incomparable: u64,
    pub pcs_compared: u64,
    pub pcs_only_kernel: u64,
    pub pcs_only_ours: u64,
    /// A few compared registers of each `Precision` class.
    pub examples: Vec<PrecisionExample>,
}

impl ProgramComparison {
    /// Compares our result (with `trace`) with the kernel's load of the same program.
    pub fn new(ours: &ProgramResult, kernel: &Result<KernelVerdict, OracleError>) -> ProgramComparison {
        let ours_error = ours
            .diagnostics
            .first()
            .map(|d| format!("{}: {}", d.pc, d.message))
            .or_else(|| ours.error.clone());
        let (kernel_accepted, kernel_error, states) = match kernel {
            Ok(v) if !v.accepted && refused_before_verification(&v.log) => (
                None,
                Some(format!(
                    "refused before verification: errno {} ({})",
                    v.errno,
                    crate::errno_name(v.errno)
                )),
                None,
            ),
            Ok(v) => {
                let complete = v.log_level & LOG_LEVEL2 != 0 && !v.log_truncated;
                let states = complete.then(|| compare_states(&ours.trace, &parse_log(&v.log), v.accepted));
                let err = if v.accepted {
                    None
                } else {
                    Some(kernel_error_line(&v.log).unwrap_or_else(|| format!("errno {}", v.errno)))
                };
                (Some(v.accepted), err, states)
            }
            Err(e) => (None, Some(e.to_string()), None),
        };
        let s = states.clone().unwrap_or_default();
        ProgramComparison {
            file: ours.file.clone(),
            section: ours.section.clone(),
            name: ours.name.clone(),
            ours: ours.verdict,
            ours_error,
            kernel: kernel_accepted,
            kernel_error,
            states_compared: states.is_some(),
            registers_compared: s.registers_compared,
            ours_more_precise: s.ours_more_precise,
            equal: s.equal,
            kernel_more_precise: s.kernel_more_precise,
            incomparable: s.incomparable,
            pcs_compared: s.pcs_compared,
            pcs_only_kernel: s.pcs_only_kernel,
            pcs_only_ours: s.pcs_only_ours,
            examples: s.examples,
        }
    }

    pub fn agreement(&self) -> Agreement {
        let ours_accepts = self.ours == Verdict::Accepted;
        match self.kernel {
            None => Agreement::NoKernelVerdict,
            Some(true) if ours_accepts => Agreement::BothAccept,
            Some(true) => Agreement::OursRejectsKernelAccepts,
            Some(false) if ours_accepts => Agreement::OursAcceptsKernelRejects,
            Some(false) => Agreement::BothReject,
        }
    }

    /// The counts as a `StateComparison` (without examples).
    pub fn counts(&self) -> StateComparison {
        StateComparison {
            registers_compared: self.registers_compared,
            ours_more_precise: self.ours_more_precise,
            equal: self.equal,
            kernel_more_precise: self.kernel_more_precise,
            incomparable: self.incomparable,
            pcs_compared: self.pcs_compared,
            pcs_only_kernel: self.pcs_only_kernel,
            pcs_only_ours: self.pcs_only_ours,
            examples: Vec::new(),
        }
    }
}

/// A refusal without a verifier verdict: an empty log (lockdown refusing fentry/fexit/LSM
/// with `EPERM`), or a log holding only `func#N @M` lines (refused after the subprogram
/// scan and before any instruction was verified, e.g. a struct_ops type this kernel lacks).
fn refused_before_verification(log: &str) -> bool {
    let mut lines = log.lines().map(str::trim).filter(|l| !l.is_empty());
    lines.all(|l| {
        l.strip_prefix("func#").is_some_and(|r| r.contains(" @"))
            || ["processed ", "verification time ", "stack depth "]
                .iter()
                .any(|p| l.starts_with(p))
    })
}

/// The kernel's error for a rejection: the last log line that is neither statistics nor
/// one of the state dumps printed after it (`infinite loop detected at insn 1` rather than
/// the `old state: ...` line that follows it).
fn kernel_error_line(log: &str) -> Option<String> {
    const SKIP: [&str; 5] = [
        "processed ",
        "verification time ",
        "stack depth ",
        "cur state:",
        "old state:",
    ];
    log.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !SKIP.iter().any(|p| l.starts_with(p)))
        .map(str::to_string)
}

/// Totals over many programs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub programs: u64,
    pub both_accept: u64,
    pub both_reject: u64,
    pub ours_accept_kernel_reject: u64,
    pub ours_reject_kernel_accept: u64,
    pub no_kernel_verdict: u64,
    /// Programs we could not analyse (`Verdict::Error`, counted as rejections above).
    pub ours_errors: u64,
    /// Programs whose states were compared (complete kernel log).
    pub programs_with_states: u64,
    pub precision: StateComparison,
}

impl Summary {
    pub fn of(programs: &[ProgramComparison]) -> Summary {
        let mut s = Summary {
            programs: programs.len() as u64,
            ..Summary::default()
        };
        for p in programs {
            *s.slot(p.agreement()) += 1;
            s.ours_errors += u64::from(p.ours == Verdict::Error);
            s.programs_with_states += u64::from(p.states_compared);
            s.precision.add(&p.counts());
        }
        s
    }

    fn slot(&mut self, a: Agreement) -> &mut u64 {
        match a {
            Agreement::BothAccept => &mut self.both_accept,
            Agreement::BothReject => &mut self.both_reject,
            Agreement::OursAcceptsKernelRejects => &mut self.ours_accept_kernel_reject,
            Agreement::OursRejectsKernelAccepts => &mut self.ours_reject_kernel_accept,
            Agreement::NoKernelVerdict => &mut self.no_kernel_verdict,
        }
    }

    /// The count of one agreement class.
    pub fn of_agreement(&self, a: Agreement) -> u64 {
        match a {
            Agreement::BothAccept => self.both_accept,
            Agreement::BothReject => self.both_reject,
            Agreement::OursAcceptsKernelRejects => self.ours_accept_kernel_reject,
            Agreement::OursRejectsKernelAccepts => self.ours_reject_kernel_accept,
            Agreement::NoKernelVerdict => self.no_kernel_verdict,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use analyzer::verify::{InsnTrace, Stats};

    fn ours(verdict: Verdict, trace: Vec<InsnTrace>) -> ProgramResult {
        ProgramResult {
            file: "a.o".into(),
            section: "xdp".into(),
            name: "f".into(),
            prog_type: "xdp".into(),
            verdict,
            diagnostics: Vec::new(),
            error: None,
            trace,
            error_state: None,
            error_states: Vec::new(),
            stats: Stats::default(),
            line_info: Default::default(),
            insn_text: Vec::new(),
        }
    }

    fn kernel(accepted: bool, log: &str, log_level: u32) -> KernelVerdict {
        KernelVerdict {
            accepted,
            errno: if accepted { 0 } else { 13 },
            log: log.into(),
            processed_insns: None,
            verification_time_usec: None,
            log_level,
            log_truncated: false,
            fixups: Vec::new(),
        }
    }

    #[test]
    fn verdicts_and_counts() {
        let t = vec![InsnTrace {
            pc: 0,
            depth: 0,
            text: String::new(),
            state_after: "R0=1 R10=fp0".into(),
            state_before: "R10=fp0".into(),
        }];
        let k = kernel(true, "0: (b7) r0 = 1 ; R0=1\n1: (95) exit\n", LOG_LEVEL2 | 4);
        let c = ProgramComparison::new(&ours(Verdict::Accepted, t.clone()), &Ok(k.clone()));
        assert_eq!(c.agreement(), Agreement::BothAccept);
        assert!(c.states_compared);
        assert_eq!((c.registers_compared, c.equal), (1, 1));
        assert_eq!(c.kernel_error, None);

        let r = kernel(false, "0: (b7) r0 = 1 ; R0=1\nR1 !read_ok\n", LOG_LEVEL2);
        let c2 = ProgramComparison::new(&ours(Verdict::Accepted, t.clone()), &Ok(r));
        assert_eq!(c2.agreement(), Agreement::OursAcceptsKernelRejects);
        assert_eq!(c2.kernel_error.as_deref(), Some("R1 !read_ok"));

        // A statistics-only log (after an overflow) compares no states.
        let c3 = ProgramComparison::new(&ours(Verdict::Error, t), &Ok(kernel(true, "processed 2 insns", 4)));
        assert!(!c3.states_compared);
        assert_eq!(c3.agreement(), Agreement::OursRejectsKernelAccepts);

        let loop_log = "1: (05) goto pc-1\ninfinite loop detected at insn 1\ncur state: R0=0 R10=fp0\nold state: R0=0 R10=fp0\nverification time 37 usec\nstack depth 0\nprocessed 9 insns (limit 1000000)\n";
        assert_eq!(
            kernel_error_line(loop_log).as_deref(),
            Some("infinite loop detected at insn 1")
        );
        assert_eq!(kernel_error_line("processed 1 insns\n"), None);
        assert!(refused_before_verification(""));
        assert!(refused_before_verification(
            "func#0 @0\nprocessed 0 insns (limit 1000000)\n"
        ));
        assert!(!refused_before_verification(loop_log));
        let eperm = KernelVerdict {
            errno: 1,
            ..kernel(false, "", LOG_LEVEL2)
        };
        let c4 = ProgramComparison::new(&ours(Verdict::Accepted, Vec::new()), &Ok(eperm));
        assert_eq!(c4.agreement(), Agreement::NoKernelVerdict);
        assert!(
            c4.kernel_error.as_deref().is_some_and(|e| e.contains("EPERM")),
            "{:?}",
            c4.kernel_error
        );

        let s = Summary::of(&[c, c2, c3]);
        assert_eq!(
            (
                s.programs,
                s.both_accept,
                s.ours_accept_kernel_reject,
                s.ours_reject_kernel_accept
            ),
            (3, 1, 1, 1)
        );
        assert_eq!(
            (s.ours_errors, s.programs_with_states, s.precision.registers_compared),
            (1, 2, 2)
        );
        assert_eq!(Agreement::ALL.iter().map(|a| s.of_agreement(*a)).sum::<u64>(), 3);
    }
}
