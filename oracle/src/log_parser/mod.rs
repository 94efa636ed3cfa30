//! Parsing the kernel verifier's log (Linux 6.18 dialect, levels 1 and 2, with or
//! without `BPF_LOG_STATS`) into structured entries.
//!
//! Line forms and what they become (`LogEntry`):
//! - `5: (85) call bpf_map_lookup_elem#1    ; R0=map_value_or_null(id=1,...)` -> `Insn`:
//!   the instruction text (with its `(opcode)`) and the registers/stack slots it changed
//!   (level 2 prints only the "scratched" ones, not the whole state).
//! - `14: R3=1 R4=pkt(off=1,r=8)` -> the state printed on its own line. Directly after an
//!   `Insn` that printed no state (messages in between, or a conditional jump's fall-through)
//!   it is that insn's after-state and is merged into it; otherwise (program start, after
//!   `from N to M:`) it is a `State`: the state before pc N.
//! - `from 6 to 8: R0=... ` / `from 6 to 8 (speculative execution): ...` / `from 6 to 8: safe` -> `Branch`.
//! - `8: safe` -> `Safe` (pruned: an equivalent state was already verified).
//! - `caller:`, `callee:`, `returning from callee:`, `to caller at 41:` followed by an
//!   indented state line -> `Frame`.
//! - `; if (data + 8 > end) @ file.c:12` -> `Source` (level 1/2 with BTF line info); it also
//!   fills the next insn's `source`.
//! - the `Live regs before insn:` block (6.18) -> `Liveness` per instruction.
//! - `verification time`, `stack depth`, `processed N insns ...` -> `ParsedLog` statistics.
//! - anything else (errors, `mark_precise: ...`, `func#0 @0`, mid-log errors) -> `Message`.
//!
//! The error of a rejected program is the last message after the last structured entry
//! (`R1 !read_ok`); all such trailing messages are in `ParsedLog::error_lines`.
//! Parsing never fails: unknown lines are kept as messages.

mod reg_state;

pub use reg_state::{parse_number, parse_reg_state, split_state, RegStateText, StateText};

/// One verified instruction line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogInsn {
    pub pc: usize,
    /// `(bf) r6 = r1`: the opcode in parentheses, then the kernel's disassembly.
    pub text: String,
    /// Call depth (0 = the entry program).
    pub frame: u32,
    /// Registers printed after the insn (its changes), e.g. `(2, "fp-8")`.
    pub regs: Vec<(u8, String)>,
    /// Stack slots printed after it, e.g. `(-8, "mmmm????")`.
    pub stack: Vec<(i32, String)>,
    /// The `; source line` printed just before it, if any.
    pub source: Option<String>,
}

/// Which call-frame transition a `Frame` entry shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameEvent {
    /// `caller:` the caller's state at a bpf-to-bpf call.
    Caller,
    /// `callee:` the callee's entry state.
    Callee,
    /// `returning from callee:` the callee's state at exit.
    ReturningFromCallee,
    /// `to caller at N:` the caller's state after the call returns to pc N.
    ToCaller { pc: usize },
}

/// One log line (or line pair, for frames), classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEntry {
    Insn(LogInsn),
    /// `N: <state>`: the state before pc N.
    State {
        pc: usize,
        state: StateText,
    },
    /// `from N to M: <state>`, or `from N to M: safe` (`state: None`).
    Branch {
        from: usize,
        to: usize,
        speculative: bool,
        state: Option<StateText>,
    },
    /// `N: safe`.
    Safe {
        pc: usize,
    },
    Frame {
        event: FrameEvent,
        state: StateText,
    },
    /// A `; source` line, without the leading `; `.
    Source(String),
    /// A line of the `Live regs before insn:` block: pc, live mask (`.12.......`), insn text.
    Liveness {
        pc: usize,
        live: String,
        text: String,
    },
    Message(String),
}

/// The `processed N insns (limit L) max_states_per_insn ...` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub processed_insns: u64,
    pub insn_limit: u64,
    pub max_states_per_insn: u64,
    pub total_states: u64,
    pub peak_states: u64,
    pub mark_read: u64,
}

/// A whole log, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedLog {
    pub entries: Vec<LogEntry>,
    /// The last trailing message (the error, for a rejected program).
    pub error: Option<String>,
    /// All messages after the last structured entry, in order.
    pub error_lines: Vec<String>,
    pub summary: Option<Summary>,
    /// `verification time N usec` (only with `BPF_LOG_STATS`).
    pub verification_time_usec: Option<u64>,
    /// `stack depth 8+16`: per subprogram (only with `BPF_LOG_STATS`).
    pub stack_depth: Vec<u32>,
}

impl ParsedLog {
    /// Every instruction entry, in log order (a pc appears once per visit).
    pub fn insns(&self) -> impl Iterator<Item = &LogInsn> {
        self.entries.iter().filter_map(|e| match e {
            LogEntry::Insn(i) => Some(i),
            _ => None,
        })
    }

    /// The instruction entries of one pc, in log order.
    pub fn visits(&self, pc: usize) -> Vec<&LogInsn> {
        self.insns().filter(|i| i.pc == pc).collect()
    }
}

/// `N` of a `N:` prefix, and the rest after `": "`.
fn split_pc(line: &str) -> Option<(usize, &str)> {
    let (n, rest) = line.split_once(':')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((n.parse().ok()?, rest.trim_start()))
}

/// `from N to M[ (speculative execution)]: rest`.
fn parse_branch(line: &str) -> Option<(usize, usize, bool, &str)> {
    let rest = line.strip_prefix("from ")?;
    let (from, rest) = rest.split_once(" to ")?;
    let (target, rest) = rest.split_once(':')?;
    let speculative = target.contains("speculative");
    let to = target.split_whitespace().next()?;
    Some((from.trim().parse().ok()?, to.parse().ok()?, speculative, rest.trim()))
}

fn parse_summary(line: &str) -> Option<Summary> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let num = |i: usize| -> u64 {
        words
            .get(i)
            .and_then(|w| w.trim_end_matches(')').parse().ok())
            .unwrap_or(0)
    };
    let mut s = Summary {
        processed_insns: words.get(1)?.parse().ok()?,
        ..Summary::default()
    };
    for (i, w) in words.iter().enumerate() {
        match *w {
            "(limit" => s.insn_limit = num(i + 1),
            "max_states_per_insn" => s.max_states_per_insn = num(i + 1),
            "total_states" => s.total_states = num(i + 1),
            "peak_states" => s.peak_states = num(i + 1),
            "mark_read" => s.mark_read = num(i + 1),
            _ => {}
        }
    }
    Some(s)
}

/// A line of the liveness block: `[scc] pc: mask (op) text`.
fn parse_liveness(line: &str) -> Option<LogEntry> {
    let mut rest = line.trim();
    // Optional strongly-connected-component number before the pc.
    let (first, tail) = rest.split_once(char::is_whitespace)?;
    if !first.ends_with(':') {
        first.parse::<u32>().ok()?;
        rest = tail.trim_start();
    }
    let (pc, rest) = split_pc(rest)?;
    let (live, text) = rest.split_once(' ')?;
    Some(LogEntry::Liveness {
        pc,
        live: live.to_string(),
        text: text.trim().to_string(),
    })
}

/// Whether a line begins with a state (as opposed to an insn or a message) after `N: `.
fn looks_like_state(s: &str) -> bool {
    let s = s.trim_start();
    s.starts_with("frame")
        || (s.starts_with('R') && s.as_bytes().get(1).is_some_and(u8::is_ascii_digit))
        || s.starts_with("fp-")
}

/// Parses a verifier log. Never fails; see the module doc for what each line becomes.
pub fn parse_log(log: &str) -> ParsedLog {
    let mut out = ParsedLog::default();
    let mut pending_frame: Option<FrameEvent> = None;
    let mut in_liveness = false;
    let mut pending_source: Option<String> = None;
    let mut frame = 0u32;
    // Index in `entries` of the last insn that printed no state yet, while only messages follow it.
    let mut stateless_insn: Option<usize> = None;

    for raw in log.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        if let Some(event) = pending_frame.take() {
            if indented {
                let state = split_state(line);
                frame = state.frame;
                out.entries.push(LogEntry::Frame { event, state });
                stateless_insn = None;
                continue;
            }
        }
        if in_liveness {
            if indented {
                match parse_liveness(line) {
                    Some(e) => out.entries.push(e),
                    None => out.entries.push(LogEntry::Message(line.trim().to_string())),
                }
                continue;
            }
            in_liveness = false;
        }
        let line = line.trim_start();
        let event = match line {
            "caller:" => Some(FrameEvent::Caller),
            "callee:" => Some(FrameEvent::Callee),
            "returning from callee:" => Some(FrameEvent::ReturningFromCallee),
            _ => line
                .strip_prefix("to caller at ")
                .and_then(|r| r.strip_suffix(':'))
                .and_then(|n| n.parse().ok())
                .map(|pc| FrameEvent::ToCaller { pc }),
        };
        if let Some(event) = event {
            pending_frame = Some(event);
            continue;
        }
        if line == "Live regs before insn:" {
            in_liveness = true;
            continue;
        }
        if let Some(src) = line.strip_prefix(';') {
            let src = src.trim().to_string();
            pending_source = Some(src.clone());
            out.entries.push(LogEntry::Source(src));
            continue;
        }
        if let Some(rest) = line.strip_prefix("verification time ") {
            out.verification_time_usec = rest.split_whitespace().next().and_then(|n| n.parse().ok());
            continue;
        }
        if let Some(rest) = line.strip_prefix("stack depth ") {
            out.stack_depth = rest.split('+').filter_map(|n| n.trim().parse().ok()).collect();
            continue;
        }
        if line.starts_with("processed ") {
            if let Some(s) = parse_summary(line) {
                out.summary = Some(s);
                continue;
            }
        }
        if let Some((from, to, speculative, rest)) = parse_branch(line) {
            let state = if rest == "safe" { None } else { Some(split_state(rest)) };
            if let Some(s) = &state {
                frame = s.frame;
            }
            out.entries.push(LogEntry::Branch {
                from,
                to,
                speculative,
                state,
            });
            stateless_insn = None;
            continue;
        }
        if let Some((pc, rest)) = split_pc(line) {
            if rest == "safe" {
                out.entries.push(LogEntry::Safe { pc });
                stateless_insn = None;
                continue;
            }
            if rest.starts_with('(') {
                let (text, state) = match rest.split_once(';') {
                    Some((t, s)) => (t.trim_end(), Some(split_state(s))),
                    None => (rest, None),
                };
                let mut insn = LogInsn {
                    pc,
                    text: text.to_string(),
                    frame,
                    source: pending_source.take(),
                    ..LogInsn::default()
                };
                match state {
                    Some(s) => {
                        frame = s.frame;
                        insn.frame = s.frame;
                        insn.regs = s.regs;
                        insn.stack = s.stack;
                        stateless_insn = None;
                    }
                    None => stateless_insn = Some(out.entries.len()),
                }
                out.entries.push(LogEntry::Insn(insn));
                continue;
            }
            if looks_like_state(rest) {
                let state = split_state(rest);
                frame = state.frame;
                if let Some(LogEntry::Insn(insn)) = stateless_insn.take().and_then(|i| out.entries.get_mut(i)) {
                    insn.frame = state.frame;
                    insn.regs = state.regs;
                    insn.stack = state.stack;
                } else {
                    out.entries.push(LogEntry::State { pc, state });
                }
                continue;
            }
        }
        out.entries.push(LogEntry::Message(line.to_string()));
    }

    let trailing: Vec<String> = out
        .entries
        .iter()
        .rev()
        .take_while(|e| matches!(e, LogEntry::Message(_)))
        .filter_map(|e| match e {
            LogEntry::Message(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    out.error_lines = trailing.into_iter().rev().collect();
    out.error = out.error_lines.last().cloned();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insn_with_inline_state() {
        let log = parse_log("0: R1=ctx() R10=fp0\n1: (bf) r2 = r10                      ; R2_w=fp0 R10=fp0\n");
        assert_eq!(log.entries.len(), 2);
        assert!(
            matches!(&log.entries[0], LogEntry::State { pc: 0, state } if state.regs == vec![(1, "ctx()".to_string()), (10, "fp0".to_string())])
        );
        let insn = log.insns().next().expect("one insn");
        assert_eq!((insn.pc, insn.text.as_str()), (1, "(bf) r2 = r10"));
        assert_eq!(insn.regs, vec![(2, "fp0".to_string()), (10, "fp0".to_string())]);
    }

    #[test]
    fn after_state_on_its_own_line_is_merged() {
        let log = parse_log(
            "11: (15) if r3 == 0x4 goto pc+6\nmark_precise: frame0: last_idx 11\n11: R3=1\n12: (bf) r4 = r1\n",
        );
        let v = log.visits(11);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].regs, vec![(3, "1".to_string())]);
        assert!(!log.entries.iter().any(|e| matches!(e, LogEntry::State { .. })));
    }

    #[test]
    fn branches_safe_and_summary() {
        let log = parse_log(
            "from 6 to 8: safe\n8: safe\nfrom 3 to 5 (speculative execution): R0=0 R10=fp0\nverification time 9 usec\nstack depth 8+16\nprocessed 12 insns (limit 1000000) max_states_per_insn 1 total_states 2 peak_states 3 mark_read 4\n",
        );
        assert_eq!(
            log.entries[0],
            LogEntry::Branch {
                from: 6,
                to: 8,
                speculative: false,
                state: None
            }
        );
        assert_eq!(log.entries[1], LogEntry::Safe { pc: 8 });
        assert!(
            matches!(&log.entries[2], LogEntry::Branch { from: 3, to: 5, speculative: true, state: Some(s) } if s.regs.len() == 2)
        );
        assert_eq!(log.verification_time_usec, Some(9));
        assert_eq!(log.stack_depth, vec![8, 16]);
        assert_eq!(
            log.summary,
            Some(Summary {
                processed_insns: 12,
                insn_limit: 1_000_000,
                max_states_per_insn: 1,
                total_states: 2,
                peak_states: 3,
                mark_read: 4
            })
        );
        assert_eq!(log.error, None);
    }

    #[test]
    fn error_is_the_last_trailing_message() {
        let log = parse_log("0: (79) r0 = *(u64 *)(r2 +0)\nR2 !read_ok\nprocessed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n");
        assert_eq!(log.error.as_deref(), Some("R2 !read_ok"));
        assert_eq!(log.error_lines, vec!["R2 !read_ok".to_string()]);
        assert_eq!(log.summary.map(|s| s.processed_insns), Some(1));
    }

    #[test]
    fn liveness_block_with_scc_numbers() {
        let log = parse_log("Live regs before insn:\n      0: .1........ (b7) r0 = 1\n  1   9: .1234..... (0f) r2 += r4\n0: R1=ctx() R10=fp0\n");
        assert_eq!(
            log.entries[1],
            LogEntry::Liveness {
                pc: 9,
                live: ".1234.....".into(),
                text: "(0f) r2 += r4".into()
            }
        );
        assert!(matches!(log.entries[2], LogEntry::State { pc: 0, .. }));
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "",
            ":",
            "1:",
            "from",
            "from x to y:",
            "caller:",
            "  frame",
            "12: (",
            "processed",
            "to caller at :",
            "\u{0}\u{ff}",
        ] {
            let _ = parse_log(s);
            let _ = parse_reg_state(s);
        }
        assert_eq!(parse_log("hello\n").error.as_deref(), Some("hello"));
    }
}
