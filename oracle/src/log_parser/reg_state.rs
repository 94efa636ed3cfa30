//! Register and stack states as the kernel prints them, split into parts.
//!
//! The verifier prints a state string such as `R1=ctx() R2=fp-8 R3=P5
//! R4=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) fp-8=mmmm????`
//! (`print_verifier_state` in kernel/bpf/log.c). `split_state` cuts such a string into
//! registers and stack slots (spaces inside parentheses do not split), and
//! `parse_reg_state` splits one value: the kind (`scalar`, `ctx`, `fp`, `map_value`, ...),
//! its `key=value` fields with merged keys (`smax=umax=255`) split into one field per key,
//! the constant of a known scalar (`5`, `-1`, `0xffffffff`), and the precision mark `P`.
//! Older kernels' `_w`/`_rw` liveness suffixes on names (`R6_w=`) are accepted and dropped.

/// One register (or spilled stack slot) value, split into parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegStateText {
    /// `scalar`, `ctx`, `fp`, `map_ptr`, `map_value`, `map_value_or_null`, `pkt`, `pkt_end`, ...;
    /// for a stack slot's byte marks (`mmmm????`) the marks themselves.
    pub kind: String,
    /// `(key, value)` in print order: `smin`, `umax`, `var_off` (value `(0x0; 0xff)`), `off`,
    /// `r`, `id`, `map`, `ks`, `vs`, ... For `fp-8`: `("off", "-8")`; for `fp[1]-8` also `("frameno", "1")`.
    /// A bare flag inside the parentheses is a key with an empty value.
    pub fields: Vec<(String, String)>,
    /// The value of a scalar the verifier knows exactly (printed as a bare number).
    pub constant: Option<i64>,
    /// The `P` precision mark (`P0`, `Pscalar(...)`).
    pub precise: bool,
}

impl RegStateText {
    /// The first field named `key`.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A number as the kernel prints it: decimal (`-5`) or hexadecimal (`0xffffffff`, as u64 bits).
pub fn parse_number(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let v = if let Some(hex) = body.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()? as i64
    } else {
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        body.parse::<u64>().ok()? as i64
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Splits at `sep` where not inside parentheses.
fn split_top_level(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if c == sep && depth <= 0 => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Splits `a=b,c=d=e,flag` into fields, one per key.
fn parse_fields(inner: &str, fields: &mut Vec<(String, String)>) {
    for item in split_top_level(inner, ',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let parts = split_top_level(item, '=');
        match parts.split_last() {
            Some((value, keys)) if !keys.is_empty() => {
                for k in keys {
                    fields.push((k.trim().to_string(), value.trim().to_string()));
                }
            }
            _ => fields.push((item.to_string(), String::new())),
        }
    }
}

/// Splits one printed register value (`scalar(smin=0,smax=umax=255)`, `fp-8`, `P0`, `ctx()`).
pub fn parse_reg_state(s: &str) -> RegStateText {
    let mut s = s.trim();
    let mut out = RegStateText::default();
    if let Some(rest) = s.strip_prefix('P') {
        if rest.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c.is_ascii_lowercase()) {
            out.precise = true;
            s = rest;
        }
    }
    if let Some(n) = parse_number(s) {
        out.kind = "scalar".into();
        out.constant = Some(n);
        return out;
    }
    // Stack pointers: fp0, fp-8, fp[1]-16, fp(off=-8,var_off=...).
    if let Some(mut rest) = s.strip_prefix("fp") {
        if let Some(after) = rest.strip_prefix('[') {
            if let Some((frame, tail)) = after.split_once(']') {
                out.fields.push(("frameno".into(), frame.to_string()));
                rest = tail;
            }
        }
        if parse_number(rest).is_some() {
            out.kind = "fp".into();
            out.fields.push(("off".into(), rest.to_string()));
            return out;
        }
        if rest.starts_with('(') {
            out.kind = "fp".into();
            if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
                parse_fields(inner, &mut out.fields);
            }
            return out;
        }
    }
    match s.find('(') {
        Some(open) if s.ends_with(')') => {
            out.kind = s[..open].to_string();
            parse_fields(&s[open + 1..s.len() - 1], &mut out.fields);
        }
        _ => out.kind = s.to_string(),
    }
    out
}

/// A printed verifier state, split into frame, registers, stack slots and the rest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateText {
    /// The `frameN:` prefix (0 when absent: the kernel omits it for frame 0).
    pub frame: u32,
    /// `(regno, value)`, e.g. `(2, "fp-8")`.
    pub regs: Vec<(u8, String)>,
    /// `(offset from fp, value)`, e.g. `(-8, "mmmm????")`.
    pub stack: Vec<(i32, String)>,
    /// Tokens that are neither (`refs=1`, `cb`, `async_cb`, ...).
    pub other: Vec<String>,
}

/// Drops an older kernel's liveness suffix (`_w`, `_r`, `_rw`, `_D`) from a name.
fn strip_live_suffix(name: &str) -> &str {
    name.split_once('_').map_or(name, |(n, _)| n)
}

/// Splits a state string (`frame1: R1=ctx() R10=fp0 fp-8=mmmm????`) into its parts.
pub fn split_state(s: &str) -> StateText {
    let mut out = StateText::default();
    for tok in split_top_level(s.trim(), ' ') {
        let tok = tok.trim();
        if tok.is_empty() {
            continue;
        }
        if let Some(n) = tok
            .strip_prefix("frame")
            .and_then(|r| r.strip_suffix(':'))
            .and_then(|n| n.parse().ok())
        {
            out.frame = n;
            continue;
        }
        let Some((name, value)) = tok.split_once('=') else {
            out.other.push(tok.to_string());
            continue;
        };
        let name = strip_live_suffix(name);
        if let Some(regno) = name.strip_prefix('R').and_then(|n| n.parse::<u8>().ok()) {
            out.regs.push((regno, value.to_string()));
        } else if let Some(off) = name.strip_prefix("fp").and_then(|n| n.parse::<i32>().ok()) {
            out.stack.push((off, value.to_string()));
        } else {
            out.other.push(tok.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn scalar_with_merged_keys() {
        let r = parse_reg_state("scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))");
        assert_eq!(r.kind, "scalar");
        assert_eq!(
            r.fields,
            vec![
                f("smin", "0"),
                f("smin32", "0"),
                f("smax", "255"),
                f("umax", "255"),
                f("smax32", "255"),
                f("umax32", "255"),
                f("var_off", "(0x0; 0xff)")
            ]
        );
        assert_eq!(r.constant, None);
        assert!(!r.precise);
        assert_eq!(r.field("umax"), Some("255"));
    }

    #[test]
    fn constants_and_precision() {
        assert_eq!(parse_reg_state("13").constant, Some(13));
        assert_eq!(parse_reg_state("-1").constant, Some(-1));
        assert_eq!(parse_reg_state("0xffffffff").constant, Some(0xffff_ffff));
        assert_eq!(parse_reg_state("0xffffffffffffffff").constant, Some(-1));
        let p = parse_reg_state("P3");
        assert!(p.precise);
        assert_eq!((p.kind.as_str(), p.constant), ("scalar", Some(3)));
        let p = parse_reg_state("Pscalar(smin=umin=101)");
        assert!(p.precise);
        assert_eq!(p.kind, "scalar");
        assert_eq!(p.fields, vec![f("smin", "101"), f("umin", "101")]);
    }

    #[test]
    fn pointers() {
        let r = parse_reg_state("ctx()");
        assert_eq!((r.kind.as_str(), r.fields.len()), ("ctx", 0));
        let r = parse_reg_state("fp-8");
        assert_eq!((r.kind.as_str(), r.field("off")), ("fp", Some("-8")));
        assert_eq!(parse_reg_state("fp0").field("off"), Some("0"));
        let r = parse_reg_state("fp[0]-16");
        assert_eq!((r.field("frameno"), r.field("off")), (Some("0"), Some("-16")));
        let r = parse_reg_state("map_value_or_null(id=1,map=h,ks=4,vs=8)");
        assert_eq!(r.kind, "map_value_or_null");
        assert_eq!(r.fields, vec![f("id", "1"), f("map", "h"), f("ks", "4"), f("vs", "8")]);
        let r = parse_reg_state("pkt(off=8,r=8)");
        assert_eq!((r.kind.as_str(), r.field("r")), ("pkt", Some("8")));
        assert_eq!(parse_reg_state("pkt_end()").kind, "pkt_end");
        assert_eq!(parse_reg_state("mmmm????").kind, "mmmm????");
    }

    #[test]
    fn state_string_split() {
        let s = split_state(" frame1: R1=ctx() R4_w=scalar(smin=0,var_off=(0x0; 0xff)) R10=fp0 fp-8=mmmm???? refs=2");
        assert_eq!(s.frame, 1);
        assert_eq!(
            s.regs,
            vec![
                (1, "ctx()".to_string()),
                (4, "scalar(smin=0,var_off=(0x0; 0xff))".to_string()),
                (10, "fp0".to_string())
            ]
        );
        assert_eq!(s.stack, vec![(-8, "mmmm????".to_string())]);
        assert_eq!(s.other, vec!["refs=2".to_string()]);
        assert_eq!(split_state("R0=1").frame, 0);
    }
}
