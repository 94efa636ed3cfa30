//! Reading back the analyzer's state strings, to print only part of a state.
//!
//! The analyzer hands us states already rendered in the kernel's notation
//! (`R1=ctx() R10=fp0 fp-8=mmmmmmmm`, or with call frames
//! `frame0: R6=ctx() R10=fp0 frame1: R1=ctx() R10=fp0`). The kernel's log does not
//! print whole states after each instruction: it prints the innermost frame only,
//! and only the registers and stack slots the instruction touched ("scratched",
//! see `print_verifier_state(.., print_all = false)` in kernel/bpf/log.c).
//! This module splits a state string into entries (a value may itself hold spaces,
//! as in `var_off=(0x0; 0xff)`, so splitting tracks parentheses) and picks the
//! entries the kernel would have printed.
//!
//! Approximation: we do not know which registers an instruction read, so an entry is
//! "scratched" when the instruction's text names it (`r3`, `(r10 -8)`), when it is R0
//! after a call, or when its value changed across the instruction. The kernel also
//! marks registers read by helper argument checks, which we miss unless they changed.

/// One `key=value` item of a state (`R1=ctx()`, `fp-8=mmmmmmmm`), or a bare word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    /// `R1`, `fp-8`, or the whole token when it has no `=`.
    pub(crate) key: &'a str,
    /// The token as printed.
    pub(crate) text: &'a str,
}

/// The entries of one call frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    pub(crate) frameno: usize,
    pub(crate) entries: Vec<Entry<'a>>,
}

/// Splits `s` on spaces outside parentheses.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth: i32 = 0;
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if c == ' ' && depth <= 0 {
            if let Some(st) = start.take() {
                out.push(&s[st..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push(&s[st..]);
    }
    out
}

/// Parses a state string into frames (a string with no `frameN:` marker is frame 0).
pub(crate) fn parse_state(s: &str) -> Vec<Frame<'_>> {
    let mut frames: Vec<Frame<'_>> = Vec::new();
    for tok in tokens(s) {
        if let Some(n) = tok.strip_prefix("frame").and_then(|t| t.strip_suffix(':')) {
            if let Ok(frameno) = n.parse::<usize>() {
                frames.push(Frame { frameno, entries: Vec::new() });
                continue;
            }
        }
        if frames.is_empty() {
            frames.push(Frame::default());
        }
        let key = tok.split_once('=').map_or(tok, |(k, _)| k);
        if let Some(f) = frames.last_mut() {
            f.entries.push(Entry { key, text: tok });
        }
    }
    frames
}

/// The innermost (current) frame of a state string, if it has any entries.
pub(crate) fn innermost(s: &str) -> Option<Frame<'_>> {
    parse_state(s).into_iter().last()
}

/// Renders a frame as the kernel does: `frame1: R1=ctx() R10=fp0`, or `R1=ctx()` for frame 0.
/// Returns an empty string when no entry is kept.
pub(crate) fn render(frame: &Frame<'_>, keep: impl Fn(&Entry<'_>) -> bool) -> String {
    let kept: Vec<&str> = frame.entries.iter().filter(|e| keep(e)).map(|e| e.text).collect();
    if kept.is_empty() {
        return String::new();
    }
    let body = kept.join(" ");
    if frame.frameno > 0 {
        format!("frame{}: {body}", frame.frameno)
    } else {
        body
    }
}

/// The innermost frame of a whole state, all entries (the kernel's `print_all` form).
pub(crate) fn full_view(state: &str) -> String {
    innermost(state).map(|f| render(&f, |_| true)).unwrap_or_default()
}

/// Register numbers named in an instruction's text (`r1`, `w3`, `r10`), as `R{n}` keys.
fn regs_named(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let prev_ok = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if (c == b'r' || c == b'w') && prev_ok {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            let next_ok = j >= bytes.len() || !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_');
            if j > i + 1 && next_ok {
                if let Some(num) = text.get(i + 1..j) {
                    out.push(format!("R{num}"));
                }
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Stack slots named through the frame pointer (`*(u32 *)(r10 -68)` names `fp-72`).
fn slots_named(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find("(r10 ") {
        rest = &rest[pos + 5..];
        let end = rest.find(')').unwrap_or(rest.len());
        if let Ok(off) = rest[..end].trim().parse::<i64>() {
            if off < 0 {
                let slot = ((-off - 1) / 8 + 1) * 8;
                out.push(format!("fp-{slot}"));
            }
        }
    }
    out
}

/// The part of `after` the kernel prints after an instruction (its `; ...` suffix):
/// the innermost frame's entries the instruction scratched.
pub(crate) fn scratched_view(insn_text: &str, before: &str, after: &str) -> String {
    let Some(after_f) = innermost(after) else { return String::new() };
    let before_f = innermost(before).filter(|b| b.frameno == after_f.frameno);
    let mut named = regs_named(insn_text);
    named.extend(slots_named(insn_text));
    if insn_text.contains(" call ") || insn_text.starts_with("call ") {
        named.push("R0".to_string());
    }
    render(&after_f, |e| {
        if named.iter().any(|n| n == e.key) {
            return true;
        }
        match &before_f {
            Some(b) => !b.entries.iter().any(|x| x.key == e.key && x.text == e.text),
            None => true,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_parenthesised_spaces() {
        let t = tokens("R1=scalar(smin=0,var_off=(0x0; 0xff)) R10=fp0");
        assert_eq!(t, vec!["R1=scalar(smin=0,var_off=(0x0; 0xff))", "R10=fp0"]);
    }

    #[test]
    fn parse_frames() {
        let f = parse_state("frame0: R6=ctx() R10=fp0 frame1: R1=ctx() R10=fp0 fp-8=ctx()");
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].frameno, 1);
        let keys: Vec<&str> = f[1].entries.iter().map(|e| e.key).collect();
        assert_eq!(keys, vec!["R1", "R10", "fp-8"]);
        assert_eq!(full_view("frame0: R6=ctx() frame1: R1=ctx()"), "frame1: R1=ctx()");
        assert_eq!(full_view("R1=ctx() R10=fp0"), "R1=ctx() R10=fp0");
        assert_eq!(full_view(""), "");
    }

    #[test]
    fn regs_and_slots_named() {
        assert_eq!(regs_named("(63) *(u32 *)(r10 -4) = r6"), vec!["R10", "R6"]);
        assert_eq!(regs_named("(85) call bpf_map_lookup_elem#1"), Vec::<String>::new());
        assert_eq!(regs_named("(bc) w1 = w2"), vec!["R1", "R2"]);
        assert_eq!(slots_named("(63) *(u32 *)(r10 -68) = r1"), vec!["fp-72"]);
        assert_eq!(slots_named("(79) r1 = *(u64 *)(r10 -8)"), vec!["fp-8"]);
        assert_eq!(slots_named("(79) r1 = *(u64 *)(r1 +8)"), Vec::<String>::new());
    }

    #[test]
    fn scratched_matches_kernel_examples() {
        // From a captured 6.18 log: `1: (63) *(u32 *)(r10 -4) = r6 ; R6=1 R10=fp0 fp-8=mmmm????`.
        let before = "R1=ctx() R6=1 R10=fp0";
        let after = "R1=ctx() R6=1 R10=fp0 fp-8=mmmm????";
        assert_eq!(scratched_view("(63) *(u32 *)(r10 -4) = r6", before, after), "R6=1 R10=fp0 fp-8=mmmm????");
        // A call prints R0 (R1-R5 are no longer initialised).
        let before = "R1=map_ptr(map=m,ks=4,vs=4) R2=fp-4 R10=fp0 fp-8=mmmm????";
        let after = "R0=map_value_or_null(id=1,map=m,ks=4,vs=4) R10=fp0 fp-8=mmmm????";
        assert_eq!(
            scratched_view("(85) call bpf_map_lookup_elem#1", before, after),
            "R0=map_value_or_null(id=1,map=m,ks=4,vs=4)"
        );
        // Frame prefix for the innermost frame.
        assert_eq!(
            scratched_view("(b7) r1 = 1", "frame0: R10=fp0 frame1: R1=ctx() R10=fp0", "frame0: R10=fp0 frame1: R1=1 R10=fp0"),
            "frame1: R1=1"
        );
        // Nothing scratched: empty.
        assert_eq!(scratched_view("(05) goto pc+1", "R1=1", "R1=1"), "");
    }
}
