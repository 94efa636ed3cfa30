//! Per-instruction comparison of our register states with the kernel's level-2 log.
//!
//! Which registers are compared: at level 2 the kernel prints after each instruction only
//! the registers the instruction touched (`5: (bf) r1 = r0 ; R0=.. R1=..`, or the same
//! state on its own line `6: R1=..` when messages came in between; `log_parser` merges
//! both into `LogInsn::regs`). Each such (pc, frame, register) is compared with the same
//! register of our `state_after` at that pc (the innermost frame of our state, when its
//! number equals the kernel's frame). Registers the kernel did not print at a pc are not
//! compared there: they are copies of values compared where they were produced.
//!
//! Several visits: the kernel walks paths one by one, so a pc appears once per visit,
//! each with the state of one path (or a few merged ones). Our `state_after` is already
//! the join over every path reaching the pc. For a fair comparison the kernel's side of
//! a register is the JOIN of the values printed for it over all visits of the pc (the
//! least value set holding every visit's value), and that join is compared with ours by
//! set inclusion (`compare_values`). Paths the kernel pruned (`N: safe`) do not print
//! states; their values are normally within an explored state's, but the kernel ignores
//! imprecise scalars and dead registers when pruning, so the kernel's join may miss
//! values of pruned paths (which then shows as "kernel more precise").
//!
//! Not compared: conditional jumps (the kernel prints the fall-through state, already
//! refined by the condition, while our after-state holds both successors), stack slots,
//! and states the kernel prints before an instruction (`from N to M:` and `N:` lines,
//! which only cover the paths that start there).
//!
//! Also counted: pcs the kernel visited that we found unreachable (`pcs_only_kernel`) and,
//! when the kernel accepted the program, pcs we reached that the kernel never visited
//! (`pcs_only_ours`, e.g. branches the kernel cut with constants it knew).

use super::value_set::{compare_values, Precision, ValueSet};
use crate::log_parser::{split_state, ParsedLog};
use analyzer::verify::InsnTrace;
use std::collections::{BTreeMap, BTreeSet};

/// Examples kept per precision class.
pub const EXAMPLES_PER_CLASS: usize = 3;

/// One compared register, kept as an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecisionExample {
    pub pc: usize,
    pub reg: u8,
    pub precision: Precision,
    /// Our printed value.
    pub ours: String,
    /// The kernel's printed values over its visits, joined with ` | ` (distinct ones only).
    pub kernel: String,
}

/// Counts of one program's register comparisons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateComparison {
    pub registers_compared: u64,
    pub ours_more_precise: u64,
    pub equal: u64,
    pub kernel_more_precise: u64,
    pub incomparable: u64,
    /// Distinct pcs with at least one compared register.
    pub pcs_compared: u64,
    /// Pcs the kernel visited and we found unreachable.
    pub pcs_only_kernel: u64,
    /// Pcs we reached and the kernel never visited (0 unless `kernel_accepted`).
    pub pcs_only_ours: u64,
    /// Up to `EXAMPLES_PER_CLASS` per class, in pc order.
    pub examples: Vec<PrecisionExample>,
}

impl StateComparison {
    /// Adds one comparison result.
    pub fn count(&mut self, p: Precision) {
        self.registers_compared += 1;
        *self.slot(p) += 1;
    }

    fn slot(&mut self, p: Precision) -> &mut u64 {
        match p {
            Precision::OursMorePrecise => &mut self.ours_more_precise,
            Precision::Equal => &mut self.equal,
            Precision::KernelMorePrecise => &mut self.kernel_more_precise,
            Precision::Incomparable => &mut self.incomparable,
        }
    }

    /// The count of one class.
    pub fn of(&self, p: Precision) -> u64 {
        match p {
            Precision::OursMorePrecise => self.ours_more_precise,
            Precision::Equal => self.equal,
            Precision::KernelMorePrecise => self.kernel_more_precise,
            Precision::Incomparable => self.incomparable,
        }
    }

    /// Adds another program's counts (examples are not merged).
    pub fn add(&mut self, o: &StateComparison) {
        self.registers_compared += o.registers_compared;
        self.ours_more_precise += o.ours_more_precise;
        self.equal += o.equal;
        self.kernel_more_precise += o.kernel_more_precise;
        self.incomparable += o.incomparable;
        self.pcs_compared += o.pcs_compared;
        self.pcs_only_kernel += o.pcs_only_kernel;
        self.pcs_only_ours += o.pcs_only_ours;
    }
}

/// The innermost frame of a printed state (`frame0: .. frame1: ..` -> frame 1's part) and its number.
fn innermost_frame(state: &str) -> (u32, &str) {
    let mut best: Option<(u32, usize)> = None;
    let mut search = 0;
    while let Some(i) = state.get(search..).and_then(|s| s.find("frame")).map(|i| i + search) {
        search = i + 5;
        let at_token = i == 0 || state.as_bytes().get(i - 1) == Some(&b' ');
        let rest = state.get(i + 5..).unwrap_or("");
        let digits: &str = rest.split(':').next().unwrap_or("");
        if at_token && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && rest.len() > digits.len() {
            if let Ok(n) = digits.parse() {
                best = Some((n, i + 5 + digits.len() + 1));
            }
        }
    }
    match best {
        Some((n, start)) => (n, state.get(start..).unwrap_or("")),
        None => (0, state),
    }
}

/// A kernel insn text that is a conditional jump: `(15) if r1 == 0x0 goto pc+1`.
fn is_conditional_jump(text: &str) -> bool {
    text.split_once(") ").is_some_and(|(_, rest)| rest.starts_with("if "))
}

/// The kernel's printed values of one register at one pc, over its visits.
#[derive(Default)]
struct KernelReg {
    texts: Vec<String>,
    joined: Option<ValueSet>,
}

/// Compares our per-pc states with the kernel's log; see the module doc.
pub fn compare_states(ours: &[InsnTrace], kernel: &ParsedLog, kernel_accepted: bool) -> StateComparison {
    let mut out = StateComparison::default();
    // (pc, frame, reg) -> the kernel's values.
    let mut kregs: BTreeMap<(usize, u32, u8), KernelReg> = BTreeMap::new();
    let mut kernel_pcs: BTreeSet<usize> = BTreeSet::new();
    for insn in kernel.insns() {
        kernel_pcs.insert(insn.pc);
        if is_conditional_jump(&insn.text) {
            continue;
        }
        for (reg, text) in &insn.regs {
            let v = ValueSet::parse(text);
            let k = kregs.entry((insn.pc, insn.frame, *reg)).or_default();
            if !k.texts.contains(text) {
                k.texts.push(text.clone());
            }
            k.joined = Some(match k.joined.take() {
                Some(j) => j.join(&v),
                None => v,
            });
        }
    }
    let ours_by_pc: BTreeMap<usize, &InsnTrace> = ours
        .iter()
        .filter(|t| !t.state_before.is_empty())
        .map(|t| (t.pc, t))
        .collect();
    out.pcs_only_kernel = kernel_pcs.iter().filter(|pc| !ours_by_pc.contains_key(pc)).count() as u64;
    if kernel_accepted && !kernel_pcs.is_empty() {
        out.pcs_only_ours = ours_by_pc.keys().filter(|pc| !kernel_pcs.contains(pc)).count() as u64;
    }
    let mut examples: BTreeMap<Precision, usize> = BTreeMap::new();
    let mut pcs_compared: BTreeSet<usize> = BTreeSet::new();
    // Our state at the pc last looked at: (pc, innermost frame, its registers).
    type OurRegs = (usize, u32, Vec<(u8, String)>);
    let mut parsed_pc: Option<OurRegs> = None;
    for ((pc, frame, reg), k) in &kregs {
        let Some(joined) = &k.joined else { continue };
        let Some(t) = ours_by_pc.get(pc) else { continue };
        if parsed_pc.as_ref().is_none_or(|(p, _, _)| p != pc) {
            let (f, part) = innermost_frame(&t.state_after);
            parsed_pc = Some((*pc, f, split_state(part).regs));
        }
        let Some((_, our_frame, our_regs)) = &parsed_pc else {
            continue;
        };
        if our_frame != frame {
            continue;
        }
        let Some((_, our_text)) = our_regs.iter().find(|(r, _)| r == reg) else {
            continue;
        };
        let p = compare_values(&ValueSet::parse(our_text), joined);
        out.count(p);
        pcs_compared.insert(*pc);
        let n = examples.entry(p).or_default();
        if *n < EXAMPLES_PER_CLASS {
            *n += 1;
            out.examples.push(PrecisionExample {
                pc: *pc,
                reg: *reg,
                precision: p,
                ours: our_text.clone(),
                kernel: k.texts.join(" | "),
            });
        }
    }
    out.pcs_compared = pcs_compared.len() as u64;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_parser::parse_log;

    fn trace(pc: usize, after: &str) -> InsnTrace {
        InsnTrace {
            pc,
            depth: 0,
            text: String::new(),
            state_after: after.into(),
            state_before: "R10=fp0".into(),
        }
    }

    #[test]
    fn frames_are_split() {
        assert_eq!(innermost_frame("R1=ctx() R10=fp0"), (0, "R1=ctx() R10=fp0"));
        assert_eq!(
            innermost_frame("frame0: R10=fp0 frame1: R1=fp[0]-4 R10=fp0"),
            (1, " R1=fp[0]-4 R10=fp0")
        );
        assert_eq!(innermost_frame("frame2"), (0, "frame2"));
        assert!(is_conditional_jump("(15) if r1 == 0x0 goto pc+1"));
        assert!(!is_conditional_jump("(05) goto pc+1"));
        assert!(!is_conditional_jump("(bf) r1 = r0"));
    }

    #[test]
    fn registers_printed_by_the_kernel_are_compared() {
        let log = parse_log(
            "0: R1=ctx() R10=fp0\n0: (b7) r0 = 1                        ; R0=1\n\
             1: (61) r2 = *(u32 *)(r1 +4)          ; R1=ctx() R2=pkt_end()\n\
             2: (15) if r2 == 0x0 goto pc+1        ; R2=pkt_end()\n\
             3: (bf) r3 = r2                       ; R3=scalar(smin=0,smax=umax=7,var_off=(0x0; 0x7))\n",
        );
        let ours = vec![
            trace(0, "R0=1 R1=ctx() R10=fp0"),
            trace(1, "R0=1 R1=ctx() R2=pkt_end() R10=fp0"),
            trace(2, "R0=1 R1=ctx() R2=pkt_end() R10=fp0"),
            trace(
                3,
                "R0=1 R1=ctx() R2=pkt_end() R3=scalar(smin=0,smax=umax=3,var_off=(0x0; 0x3)) R10=fp0",
            ),
            trace(4, "R0=1 R10=fp0"),
        ];
        let c = compare_states(&ours, &log, true);
        // pc 0: R0; pc 1: R1, R2; pc 2 skipped (conditional jump); pc 3: R3.
        assert_eq!(c.registers_compared, 4);
        assert_eq!(
            (c.equal, c.ours_more_precise, c.kernel_more_precise, c.incomparable),
            (3, 1, 0, 0)
        );
        assert_eq!(c.pcs_compared, 3);
        assert_eq!((c.pcs_only_kernel, c.pcs_only_ours), (0, 1));
        let ex = c
            .examples
            .iter()
            .find(|e| e.precision == Precision::OursMorePrecise)
            .expect("an example");
        assert_eq!((ex.pc, ex.reg), (3, 3));
    }

    #[test]
    fn several_visits_are_joined() {
        let log = parse_log(
            "5: (b7) r0 = 0                        ; R0=0\n\
             5: (b7) r0 = 0                        ; R0=0\n\
             6: (bf) r1 = r6                       ; R1=0\n\
             6: (bf) r1 = r6                       ; R1=1\n",
        );
        let ours = vec![
            trace(5, "R0=0"),
            trace(
                6,
                "R1=scalar(smin=smin32=0,smax=umax=smax32=umax32=1,var_off=(0x0; 0x1))",
            ),
        ];
        let c = compare_states(&ours, &log, false);
        assert_eq!((c.registers_compared, c.equal), (2, 2));
        assert_eq!(c.pcs_only_ours, 0, "not counted for a program the kernel rejected");
        assert!(c.examples.iter().any(|e| e.kernel == "0 | 1"));
    }

    #[test]
    fn frames_must_match() {
        let log = parse_log("12: (61) r0 = *(u32 *)(r1 +0)         ; frame1: R0=scalar() R1=fp[0]-4\n");
        let ours = vec![trace(
            12,
            "frame0: R10=fp0 frame1: R0=scalar(umax=5) R1=fp[0]-4 R10=fp0",
        )];
        let c = compare_states(&ours, &log, true);
        assert_eq!((c.registers_compared, c.ours_more_precise, c.equal), (2, 1, 1));
        let ours0 = vec![trace(12, "R0=scalar(umax=5) R1=fp-4")];
        assert_eq!(compare_states(&ours0, &log, true).registers_compared, 0);
    }
}
