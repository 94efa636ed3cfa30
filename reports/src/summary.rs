//! Plain-text output: one verdict line per program, and a totals table.
//!
//! `text_report` prints `{file} {section}/{name}: {verdict}` per program (with
//! `timings`, followed by `({time}, {N} insns processed, {N} states)`); a rejection
//! adds its first error as `  {pc}: {message} ({source file}:{line})` (the location
//! only when BTF line info has one), an analysis error adds `  {error}`. Load errors
//! come last as `{file}: error` and `  {message}`. Continuation lines of multi-line
//! messages are indented by four spaces.
//!
//! `summary_table` is a right-aligned table of counts, with the summed analysis time
//! when asked (sum of per-program times, not wall-clock time).

use analyzer::verify::{ProgramResult, Verdict};
use std::fmt::Write;
use std::time::Duration;

/// Indents the lines after the first of a message.
fn indent_message(msg: &str) -> String {
    msg.lines().collect::<Vec<_>>().join("\n    ")
}

/// One line per program, plus the first error of each rejection; with `timings`, each
/// program line ends with `(time, N insns processed, N states)`.
pub fn text_report(results: &[ProgramResult], load_errors: &[(String, String)], timings: bool) -> String {
    let mut out = String::new();
    for r in results {
        let _ = write!(out, "{} {}/{}: {}", r.file, r.section, r.name, r.verdict.as_str());
        if timings {
            let _ = write!(
                out,
                " ({}, {} insns processed, {} states)",
                human_time(r.stats.time),
                r.stats.insns_processed,
                r.stats.states
            );
        }
        out.push('\n');
        match r.verdict {
            Verdict::Rejected => {
                if let Some(d) = r.diagnostics.first() {
                    let loc = r.line_for(d.pc).map(|l| format!(" ({}:{})", l.file, l.line)).unwrap_or_default();
                    let _ = writeln!(out, "  {}: {}{loc}", d.pc, indent_message(&d.message));
                } else if let Some(e) = &r.error {
                    let _ = writeln!(out, "  {}", indent_message(e));
                }
            }
            Verdict::Error => {
                if let Some(e) = &r.error {
                    let _ = writeln!(out, "  {}", indent_message(e));
                }
            }
            Verdict::Accepted => {}
        }
    }
    for (file, msg) in load_errors {
        let _ = writeln!(out, "{file}: error");
        let _ = writeln!(out, "  {}", indent_message(msg));
    }
    out
}

/// Human-readable duration: `850us`, `12.3ms`, `4.56s`.
fn human_time(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1000 {
        format!("{us}us")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1000.0)
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

/// A right-aligned table of totals: programs, accepted, rejected, errors (analysis
/// errors plus `load_errors`), and time when `timings`.
pub fn summary_table(results: &[ProgramResult], load_errors: usize, timings: bool) -> String {
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    let mut cols: Vec<(&str, String)> = vec![
        ("programs", (results.len() + load_errors).to_string()),
        ("accepted", count(Verdict::Accepted).to_string()),
        ("rejected", count(Verdict::Rejected).to_string()),
        ("errors", (count(Verdict::Error) + load_errors).to_string()),
    ];
    if timings {
        let total: Duration = results.iter().map(|r| r.stats.time).sum();
        cols.push(("time", human_time(total)));
    }
    let widths: Vec<usize> = cols.iter().map(|(h, v)| h.len().max(v.len())).collect();
    let header: Vec<String> = cols.iter().zip(&widths).map(|((h, _), w)| format!("{h:>w$}")).collect();
    let values: Vec<String> = cols.iter().zip(&widths).map(|((_, v), w)| format!("{v:>w$}")).collect();
    format!("{}\n{}\n", header.join("  "), values.join("  "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn all() -> Vec<ProgramResult> {
        vec![testdata::accepted(), testdata::rejected(), testdata::error()]
    }

    #[test]
    fn text_lines() {
        let t = text_report(&all(), &testdata::load_errors(), false);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "tests/obj/lookup.o xdp/lookup_checked: accepted");
        assert_eq!(lines[1], "tests/obj/lookup.o xdp/lookup_no_check: rejected");
        assert_eq!(lines[2], "  6: R0 invalid mem access 'map_value_or_null' (/src/bpf/prog.c:12)");
        assert_eq!(lines[3], "tests/obj/broken.o kprobe/sys_open/broken: error");
        assert_eq!(lines[4], "  internal error: the analysis panicked");
        assert_eq!(lines[5], "tests/obj/missing file.o: error");
        assert_eq!(lines.len(), 7);
    }

    #[test]
    fn timings_on_each_program_line() {
        let t = text_report(&all(), &[], true);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "tests/obj/lookup.o xdp/lookup_checked: accepted (2.5ms, 12 insns processed, 5 states)");
        assert_eq!(lines[1], "tests/obj/lookup.o xdp/lookup_no_check: rejected (1.5ms, 7 insns processed, 3 states)");
        assert!(!text_report(&all(), &[], false).contains("insns processed"));
    }

    #[test]
    fn multi_line_message_is_indented() {
        let mut r = testdata::rejected();
        r.line_info = Default::default();
        r.diagnostics[0].message = "invalid access to map value, value_size=4 off=0 size=8\nR1 min value is outside of the allowed memory range".into();
        let t = text_report(&[r], &[], false);
        assert!(t.contains("  6: invalid access to map value, value_size=4 off=0 size=8\n    R1 min value"), "{t}");
    }

    #[test]
    fn table_alignment_and_counts() {
        let t = summary_table(&all(), 1, false);
        assert_eq!(t, "programs  accepted  rejected  errors\n       4         1         1       2\n");
        let t = summary_table(&all(), 0, true);
        assert!(t.starts_with("programs  accepted  rejected  errors   time\n"), "{t}");
        assert!(t.ends_with("4.0ms\n"), "{t}");
    }

    #[test]
    fn human_times() {
        assert_eq!(human_time(Duration::from_micros(850)), "850us");
        assert_eq!(human_time(Duration::from_micros(12_340)), "12.3ms");
        assert_eq!(human_time(Duration::from_millis(4560)), "4.56s");
    }

    #[test]
    fn snapshots() {
        insta::assert_snapshot!("text_report", text_report(&all(), &testdata::load_errors(), false));
        insta::assert_snapshot!("summary_table", summary_table(&all(), 1, false));
    }
}
