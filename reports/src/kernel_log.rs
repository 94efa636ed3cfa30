//! Verifier logs in the format of the Linux 6.18 kernel (`BPF_LOG_LEVEL1`/`BPF_LOG_LEVEL2`).
//!
//! The kernel's log follows one path at a time; our analysis has one joined state per
//! instruction instead, so the log lists instructions in pc order:
//!
//! - Level 1, rejected: the entry state (`0: R1=ctx() R10=fp0`), then every reached
//!   instruction up to and including the first error's pc, each as `{pc}: {insn}`
//!   followed, as the kernel does, by the registers and stack slots it touched
//!   (`0: (b7) r6 = 1                        ; R6=1`); source lines from BTF line info
//!   whenever the line changes (`; if (x > 3) @ prog.c:23`); then the diagnostics'
//!   messages; then the `processed ... insns` line. Accepted: the summary line only.
//! - Level 2: every reached instruction with its state suffix, the full state at pc 0
//!   and at each jump target (where the kernel starts a new path), each diagnostic
//!   right after its instruction, then the summary line.
//!
//! Formatting follows kernel/bpf/log.c: `print_insn_state` pads the instruction to
//! `vlog_alignment()` columns and prints `;` then the state; `verbose_linfo` prints
//! `; {ltrim(line)} @ {basename(file)}:{line}` once per line-info entry change; the
//! summary is `print_verification_stats`'s last line.
//!
//! Known differences: the state suffix is an approximation of the kernel's "scratched"
//! set (see `state_view`); `max_states_per_insn` and `mark_read` are always 0, and
//! `total_states`/`peak_states` are our basic-block count. When the result has no
//! trace (`Config::collect_states` off) instructions are printed without states.

use crate::state_view::{full_view, scratched_view};
use analyzer::verify::{InsnTrace, ProgramResult, Verdict};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write};

/// The kernel's alignment of the `;` after an instruction (`vlog_alignment` in log.c):
/// the number of spaces after an instruction line of `len` characters.
fn state_padding(len: usize) -> usize {
    const MIN_ALIGNMENT: usize = 8;
    const ALIGNMENT: usize = 40;
    // The kernel measures the line with its newline (`pos = len + 1`) and prints
    // `%*c;` with width `round_up(max(pos + 4, 40), 8) - pos - 1`.
    let pos = len + 1;
    let target = (pos + MIN_ALIGNMENT / 2).max(ALIGNMENT).div_ceil(MIN_ALIGNMENT) * MIN_ALIGNMENT;
    target.saturating_sub(pos + 1)
}

/// `{insn_line}{padding}; {state}` as `print_insn_state` does, or the bare line if
/// `state` is empty.
fn with_state(insn_line: &str, state: &str) -> String {
    if state.is_empty() {
        return insn_line.to_string();
    }
    let pad = state_padding(insn_line.chars().count());
    format!("{insn_line}{:pad$}; {state}", "")
}

/// The last path component, as the kernel's `kbasename`.
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Index of the line-info entry covering `pc` (the last entry at or before it).
fn linfo_index(r: &ProgramResult, pc: usize) -> Option<usize> {
    match r.line_info.binary_search_by_key(&pc, |l| l.pc) {
        Ok(i) => {
            // Several entries may share a pc: the kernel's find_linfo takes the last one.
            let mut j = i;
            while r.line_info.get(j + 1).is_some_and(|l| l.pc == pc) {
                j += 1;
            }
            Some(j)
        }
        Err(0) => None,
        Err(i) => Some(i - 1),
    }
}

/// The `processed ...` summary line of `print_verification_stats`.
pub fn summary_line(r: &ProgramResult) -> String {
    format!(
        "processed {} insns (limit 1000000) max_states_per_insn 0 total_states {b} peak_states {b} mark_read 0",
        r.stats.processed,
        b = r.stats.blocks
    )
}

/// One instruction to print: its pc, text and (when known) states around it.
struct Row<'a> {
    pc: usize,
    text: &'a str,
    trace: Option<&'a InsnTrace>,
}

/// Pcs of the second slot of `LD_IMM64` (`(18)`) instructions, which the kernel never prints.
fn ld_imm64_tails(r: &ProgramResult) -> BTreeSet<usize> {
    let mut tails = BTreeSet::new();
    let mut pc = 0;
    while let Some(text) = r.insn_text.get(pc) {
        if text.starts_with("(18)") {
            tails.insert(pc + 1);
            pc += 2;
        } else {
            pc += 1;
        }
    }
    if r.insn_text.is_empty() {
        tails.extend(r.trace.iter().filter(|t| t.text.starts_with("(18)")).map(|t| t.pc + 1));
    }
    tails
}

/// The instructions to print, in pc order: the trace if there is one, else every
/// instruction; never the second half of an `LD_IMM64`.
fn rows(r: &ProgramResult) -> Vec<Row<'_>> {
    let tails = ld_imm64_tails(r);
    let mut rows: Vec<Row<'_>> = if r.trace.is_empty() {
        r.insn_text.iter().enumerate().map(|(pc, text)| Row { pc, text, trace: None }).collect()
    } else {
        r.trace.iter().map(|t| Row { pc: t.pc, text: &t.text, trace: Some(t) }).collect()
    };
    rows.retain(|row| !tails.contains(&row.pc));
    rows.sort_by_key(|row| row.pc);
    rows
}

/// Jump and call targets named in instruction texts (`goto pc+3`, `call pc-5`).
fn jump_targets(rows: &[Row<'_>]) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    for row in rows {
        for marker in ["goto pc", "call pc"] {
            let Some(pos) = row.text.find(marker) else { continue };
            let rest = &row.text[pos + marker.len()..];
            let end = rest.find(|c: char| !(c == '+' || c == '-' || c.is_ascii_digit())).unwrap_or(rest.len());
            if let Ok(off) = rest[..end].parse::<i64>() {
                let target = row.pc as i64 + 1 + off;
                if let Ok(t) = usize::try_from(target) {
                    out.insert(t);
                }
            }
        }
    }
    out
}

/// Renders the verifier log of one program at `level` (0: nothing; bit 0: level 1;
/// bit 1: level 2; bit 2 alone (stats): the summary line only).
pub fn kernel_log(r: &ProgramResult, level: u8) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_kernel_log(&mut out, r, level);
    out
}

/// [`kernel_log`] into any writer.
pub fn write_kernel_log(w: &mut impl Write, r: &ProgramResult, level: u8) -> fmt::Result {
    if level == 0 {
        return Ok(());
    }
    let level2 = level & 2 != 0;
    let level1 = level & 1 != 0;
    if !level1 && !level2 {
        return writeln!(w, "{}", summary_line(r));
    }
    if r.verdict == Verdict::Error {
        if let Some(e) = &r.error {
            writeln!(w, "{e}")?;
        }
        for d in &r.diagnostics {
            writeln!(w, "{}", d.message)?;
        }
        return writeln!(w, "{}", summary_line(r));
    }
    if r.verdict == Verdict::Accepted && !level2 {
        return writeln!(w, "{}", summary_line(r));
    }
    let rows = rows(r);
    let first_err = r.diagnostics.iter().map(|d| d.pc).min();
    let mut diags_at: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for d in &r.diagnostics {
        diags_at.entry(d.pc).or_default().push(&d.message);
    }
    let targets = if level2 { jump_targets(&rows) } else { BTreeSet::new() };
    // The kernel prints a source line when the line changes (consecutive entries of
    // one line, e.g. different columns, print once).
    let mut prev_linfo: Option<(&str, u32)> = None;
    let mut printed_diags: BTreeSet<usize> = BTreeSet::new();
    for (i, row) in rows.iter().enumerate() {
        if !level2 && first_err.is_some_and(|e| row.pc > e) {
            break;
        }
        // The full state where the kernel starts a path: the entry, and (level 2) jump targets.
        if let Some(t) = row.trace {
            if i == 0 || targets.contains(&row.pc) {
                let full = full_view(&t.state_before);
                if !full.is_empty() {
                    writeln!(w, "{}: {full}", row.pc)?;
                }
            }
        }
        if let Some(l) = linfo_index(r, row.pc).and_then(|i| r.line_info.get(i)) {
            let key = (l.file.as_str(), l.line);
            if prev_linfo != Some(key) {
                writeln!(w, "; {} @ {}:{}", l.text.trim_start(), basename(&l.file), l.line)?;
                prev_linfo = Some(key);
            }
        }
        let insn_line = format!("{}: {}", row.pc, row.text);
        let failed = diags_at.contains_key(&row.pc);
        let state = match row.trace {
            Some(t) if !failed => scratched_view(&t.text, &t.state_before, &t.state_after),
            _ => String::new(),
        };
        writeln!(w, "{}", with_state(&insn_line, &state))?;
        if level2 {
            if let Some(msgs) = diags_at.get(&row.pc) {
                for m in msgs {
                    writeln!(w, "{m}")?;
                }
                printed_diags.insert(row.pc);
            }
        }
    }
    // Level 1: every diagnostic after the path (the first error's first). Level 2:
    // those whose pc was not printed (unreached or out of range).
    for (pc, msgs) in &diags_at {
        if printed_diags.contains(pc) {
            continue;
        }
        for m in msgs {
            writeln!(w, "{m}")?;
        }
    }
    // bpfcheck's own lines (the kernel has no equivalent): one per loop with its bound,
    // the counterexamples and the alarms the SMT backend proved false.
    for l in &r.stats.loops {
        writeln!(w, "; {l}")?;
    }
    // One line per distinct counterexample line: the diagnostics of one access (the access and
    // the reason) share theirs.
    let mut printed: Vec<String> = Vec::new();
    for d in &r.diagnostics {
        if let Some(c) = &d.counterexample {
            let inputs: Vec<String> = c.inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let replay = if c.replayed { "replayed" } else { "DID NOT REPLAY (a bpfcheck bug)" };
            let line = format!("; counterexample for insn {} ({replay}): {}", d.pc, inputs.join(", "));
            if !printed.contains(&line) {
                writeln!(w, "{line}")?;
                printed.push(line);
            }
        }
    }
    if let Some(smt) = &r.stats.smt {
        for m in &smt.proved_messages {
            writeln!(w, "; proved by SMT (false alarm of the domains): {m}")?;
        }
    }
    writeln!(w, "{}", summary_line(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    #[test]
    fn padding_matches_captured_kernel_logs() {
        // `0: (b7) r6 = 1` + 24 spaces + `;` (level1_badmapptr_source_lines.log).
        assert_eq!(with_state("0: (b7) r6 = 1", "R6=1"), format!("0: (b7) r6 = 1{}; R6=1", " ".repeat(24)));
        // `10: (63) *(u32 *)(r10 -68) = r1` (31 chars) + 7 spaces (level1_bpf2bpf_caller_callee.log).
        assert_eq!(state_padding(31), 7);
        // Past 40 columns the kernel rounds up to the next multiple of 8.
        assert_eq!(state_padding(37), 9);
        assert_eq!(with_state("1: (05) goto pc+0", ""), "1: (05) goto pc+0");
    }

    #[test]
    fn level1_rejected_matches_kernel_shape() {
        let r = testdata::rejected();
        let log = kernel_log(&r, 1);
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines[0], "0: R1=ctx() R10=fp0");
        assert_eq!(lines[1], "; int key = 0; @ prog.c:10");
        assert!(lines[2].starts_with("0: (62) *(u32 *)(r10 -4) = 0 "), "{}", lines[2]);
        assert!(lines[2].ends_with("; R10=fp0 fp-8=0000????"), "{}", lines[2]);
        // The failing instruction has no state suffix, and is followed by the message.
        let fail = lines.iter().position(|l| *l == "6: (79) r0 = *(u64 *)(r0 +0)").expect("failing insn");
        assert_eq!(lines[fail + 1], "R0 invalid mem access 'map_value_or_null'");
        assert_eq!(
            *lines.last().expect("summary"),
            "processed 6 insns (limit 1000000) max_states_per_insn 0 total_states 3 peak_states 3 mark_read 0"
        );
        // Nothing after the first error's pc.
        assert!(!log.contains("7: (b7)"));
    }

    #[test]
    fn level1_matches_captured_kernel_log_line_for_line() {
        // The live 6.18 kernel's log of the same program (oracle fixture), from the
        // entry state to the error message; only the map address differs.
        let fixture = include_str!("../../oracle/tests/fixtures/level2_lookup_null_check_missing.log");
        let expected: Vec<&str> = fixture
            .lines()
            .skip_while(|l| *l != "0: R1=ctx() R10=fp0")
            .take_while(|l| !l.starts_with("verification time"))
            .collect();
        let mut r = testdata::rejected();
        r.line_info = Default::default();
        let addr = "(18) r1 = 0xffff888107f52c00";
        for t in &mut r.trace {
            if t.pc == 3 {
                t.text = addr.to_string();
            }
        }
        let log = kernel_log(&r, 1);
        let got: Vec<&str> = log.lines().take_while(|l| !l.starts_with("processed")).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn level1_accepted_is_summary_only() {
        let r = testdata::accepted();
        assert_eq!(kernel_log(&r, 1), format!("{}\n", summary_line(&r)));
        assert_eq!(kernel_log(&r, 0), "");
    }

    #[test]
    fn level2_prints_every_insn_and_jump_targets() {
        let r = testdata::accepted();
        let log = kernel_log(&r, 2);
        assert!(log.contains("6: (15) if r0 == 0x0 goto pc+1"));
        // pc 8 is a jump target: its full state is printed before it.
        assert!(log.contains("\n8: R0=scalar() R10=fp0 fp-8=0000????\n"), "{log}");
        assert!(log.contains("9: (95) exit"));
    }

    #[test]
    fn no_trace_prints_insn_text_and_skips_ld_imm64_tail() {
        let mut r = testdata::rejected();
        r.trace.clear();
        let log = kernel_log(&r, 1);
        assert!(log.contains("3: (18) r1 = map[id:1]\n5: (85) call"), "{log}");
        assert!(!log.contains("\n4: "));
    }

    #[test]
    fn trace_skips_ld_imm64_tail_and_repeated_lines() {
        let mut r = testdata::rejected();
        let mut tail = r.trace[3].clone();
        tail.pc = 4;
        tail.text = "BUG_ld_00".to_string();
        r.trace.insert(4, tail);
        // A second entry for line 11 (another column) at pc 5: not printed again.
        let mut again = r.line_info[1].clone();
        again.pc = 5;
        again.column = 30;
        std::sync::Arc::make_mut(&mut r.line_info).insert(2, again);
        let log = kernel_log(&r, 1);
        assert!(!log.contains("BUG_ld"), "{log}");
        assert_eq!(log.matches("@ prog.c:11").count(), 1, "{log}");
        assert_eq!(log.matches("@ prog.c:12").count(), 1, "{log}");
    }

    #[test]
    fn a_counterexample_shared_by_two_diagnostics_is_printed_once() {
        let mut r = testdata::rejected();
        let cex = analyzer::diag::CounterexampleInfo {
            inputs: [("packet_len".to_string(), "4".to_string())].into_iter().collect(),
            replayed: true,
            replay_outcome: "fault".into(),
        };
        let first = r.diagnostics[0].clone();
        let second = analyzer::diag::Diagnostic { message: "R0 max value is outside".into(), ..first.clone() };
        r.diagnostics = vec![first, second];
        for d in &mut r.diagnostics {
            d.counterexample = Some(cex.clone());
        }
        let log = kernel_log(&r, 1);
        assert_eq!(log.matches("; counterexample for insn 6 (replayed): packet_len=4").count(), 1, "{log}");
    }

    #[test]
    fn error_verdict_prints_the_error() {
        let r = testdata::error();
        let log = kernel_log(&r, 1);
        assert!(log.starts_with("internal error: the analysis panicked\n"));
        assert!(log.ends_with("mark_read 0\n"));
    }

    #[test]
    fn basename_and_linfo_index() {
        assert_eq!(basename("/a/b/c.c"), "c.c");
        assert_eq!(basename("c.c"), "c.c");
        let r = testdata::rejected();
        assert_eq!(linfo_index(&r, 0), Some(0));
        assert_eq!(linfo_index(&r, 2), Some(0));
        assert_eq!(linfo_index(&r, 3), Some(1));
    }

    #[test]
    fn snapshots() {
        insta::assert_snapshot!("level1_rejected", kernel_log(&testdata::rejected(), 1));
        insta::assert_snapshot!("level2_rejected", kernel_log(&testdata::rejected(), 2));
        insta::assert_snapshot!("level2_accepted", kernel_log(&testdata::accepted(), 2));
        insta::assert_snapshot!("level1_error", kernel_log(&testdata::error(), 1));
    }
}
