//! Parsing the printer's syntax (the kernel verifier log's instruction text) back into raw
//! instructions, for writing test programs as text.
//!
//! One instruction per line, optionally prefixed by `N:` (its pc, which must match) and
//! `(xx)` (its opcode, which must match what the text encodes). Blank lines and comments
//! (`;` or `//` to the end of the line) are skipped. Everything `InsnPrinter::pseudo()` prints
//! for a valid instruction parses back to the same raw slots; for convenience the parser also
//! accepts `call bpf_map_lookup_elem` / `call map_lookup_elem` / `call 1`, immediates in decimal
//! or hex anywhere, an optional ` ll` after an `LD_IMM64` value, and spaces around offsets.
//!
//! `r1 = 0x...` (hex) is `LD_IMM64` as in the kernel's log, while `r1 = 5` (decimal) is
//! `mov`; `w` registers never take `LD_IMM64`. `call NAME#N` is a helper call when `NAME` is a
//! helper or `unknown`, and a kfunc call otherwise (the kernel prints kfuncs by BTF name).

use super::decode::opcode::*;
use super::helper_names::helper_id;
use super::RawInsn;

/// A line that does not parse; `line` is 1-based.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parses a program written one instruction per line; see the module documentation.
pub fn parse_program(text: &str) -> Result<Vec<RawInsn>, ParseError> {
    let mut out: Vec<RawInsn> = Vec::new();
    for (idx, full_line) in text.lines().enumerate() {
        let line = idx + 1;
        let err = |message: String| ParseError { line, message };
        let mut s = strip_comment(full_line).trim();
        if s.is_empty() {
            continue;
        }
        // `N:` pc prefix.
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && s[digits..].starts_with(':') {
            let pc: usize = s[..digits].parse().map_err(|_| err(format!("bad pc prefix in `{s}`")))?;
            if pc != out.len() {
                return Err(err(format!(
                    "pc prefix {pc} does not match the instruction's pc {} (LD_IMM64 takes two slots)",
                    out.len()
                )));
            }
            s = s[digits + 1..].trim_start();
        }
        // `(xx)` opcode prefix.
        let mut want_code = None;
        if let Some(rest) = s.strip_prefix('(') {
            if let Some(close) = rest.find(')') {
                let hex = &rest[..close];
                if hex.len() == 2 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    want_code = u8::from_str_radix(hex, 16).ok();
                    s = rest[close + 1..].trim_start();
                }
            }
        }
        let mut c = Cursor { s, pos: 0 };
        let insns = parse_insn(&mut c).map_err(|m| err(format!("{m} in `{s}`")))?;
        c.ws();
        if !c.at_end() {
            return Err(err(format!("unexpected `{}` in `{s}`", c.rest())));
        }
        if let (Some(want), Some(first)) = (want_code, insns.first()) {
            if want != first.code {
                return Err(err(format!("opcode prefix ({want:02x}) does not match the text, which encodes ({:02x})", first.code)));
            }
        }
        out.extend(insns);
    }
    Ok(out)
}

fn strip_comment(line: &str) -> &str {
    let mut end = line.len();
    if let Some(i) = line.find(';') {
        end = end.min(i);
    }
    if let Some(i) = line.find("//") {
        end = end.min(i);
    }
    &line[..end]
}

type PResult<T> = Result<T, String>;

/// A position in one line.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }
    fn at_end(&self) -> bool {
        self.rest().is_empty()
    }
    fn ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }
    /// Skips whitespace, then consumes `lit` if it is next.
    fn eat(&mut self, lit: &str) -> bool {
        self.ws();
        if self.rest().starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, lit: &str) -> PResult<()> {
        if self.eat(lit) {
            Ok(())
        } else {
            Err(format!("expected `{lit}` at `{}`", self.rest()))
        }
    }
    /// A word of `[A-Za-z0-9_-]` (may be empty), without skipping whitespace first.
    fn word(&mut self) -> &'a str {
        let r = self.rest();
        let n = r.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-').count();
        self.pos += n;
        &r[..n]
    }
    fn peek_reg(&self) -> bool {
        let r = self.rest().trim_start().as_bytes();
        matches!(r.first(), Some(b'r' | b'w')) && r.get(1).is_some_and(u8::is_ascii_digit)
    }
    /// A register `rN` or `wN`: returns (is_w, N).
    fn reg(&mut self) -> PResult<(bool, u8)> {
        self.ws();
        let save = self.pos;
        let r = self.rest();
        let is_w = match r.as_bytes().first() {
            Some(b'r') => false,
            Some(b'w') => true,
            _ => return Err(format!("expected a register at `{r}`")),
        };
        self.pos += 1;
        let r2 = self.rest();
        let n = r2.bytes().take_while(u8::is_ascii_digit).count();
        let digits = &r2[..n];
        self.pos += n;
        let followed_by_word = r2[n..].starts_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '_');
        match digits.parse::<u8>() {
            Ok(n) if n <= 10 && !followed_by_word => Ok((is_w, n)),
            _ => {
                self.pos = save;
                Err(format!("expected a register r0..r10 at `{r}`"))
            }
        }
    }
    /// An integer: optional sign, decimal or `0x` hex; returned as i128 for range checks.
    fn int(&mut self) -> PResult<i128> {
        self.ws();
        let r = self.rest();
        let mut t = r;
        let mut neg = false;
        if let Some(x) = t.strip_prefix('-') {
            neg = true;
            t = x.trim_start();
        } else if let Some(x) = t.strip_prefix('+') {
            t = x.trim_start();
        }
        let (radix, body) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            Some(h) => (16, h),
            None => (10, t),
        };
        let n = body.bytes().take_while(|b| b.is_ascii_hexdigit() && (radix == 16 || b.is_ascii_digit())).count();
        if n == 0 {
            return Err(format!("expected a number at `{r}`"));
        }
        let v = i128::from_str_radix(&body[..n], radix).map_err(|_| format!("number too large at `{r}`"))?;
        self.pos += r.len() - body.len() + n;
        Ok(if neg { -v } else { v })
    }
    fn is_hex_next(&self) -> bool {
        let r = self.rest().trim_start();
        r.starts_with("0x") || r.starts_with("0X")
    }
}

fn to_i32(v: i128) -> PResult<i32> {
    // Accept both the signed (`%d`) and the unsigned (`0x%x`) reading of 32 bits.
    if (i32::MIN as i128..=u32::MAX as i128).contains(&v) {
        Ok(v as u32 as i32)
    } else {
        Err(format!("{v} does not fit in 32 bits"))
    }
}

fn to_i16(v: i128) -> PResult<i16> {
    if (i16::MIN as i128..=i16::MAX as i128).contains(&v) {
        Ok(v as i16)
    } else {
        Err(format!("offset {v} does not fit in 16 bits"))
    }
}

fn raw(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
    RawInsn { code, dst, src, off, imm }
}

fn size_of_type(ty: &str) -> PResult<(u8, bool)> {
    Ok(match ty {
        "u8" => (BPF_B, false),
        "u16" => (BPF_H, false),
        "u32" => (BPF_W, false),
        "u64" => (BPF_DW, false),
        "s8" => (BPF_B, true),
        "s16" => (BPF_H, true),
        "s32" => (BPF_W, true),
        _ => return Err(format!("unknown access type `{ty}`")),
    })
}

/// `(TYPE *)`: returns (size bits, signed).
fn ptr_type(c: &mut Cursor) -> PResult<(u8, bool)> {
    c.expect("(")?;
    c.ws();
    let ty = c.word();
    let t = size_of_type(ty)?;
    c.expect("*")?;
    c.expect(")")?;
    Ok(t)
}

/// `(rN +OFF)`: returns (reg, off).
fn mem_operand(c: &mut Cursor) -> PResult<(u8, i16)> {
    c.expect("(")?;
    let (_, reg) = c.reg()?;
    c.ws();
    let off = if c.rest().starts_with(')') { 0 } else { to_i16(c.int()?)? };
    c.expect(")")?;
    Ok((reg, off))
}

/// `pc+N` / `pc-N`.
fn pc_rel(c: &mut Cursor) -> PResult<i128> {
    c.expect("pc")?;
    c.int()
}

fn parse_insn(c: &mut Cursor) -> PResult<Vec<RawInsn>> {
    let one = |r: RawInsn| Ok(vec![r]);
    if c.eat("exit") {
        return one(raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    }
    if c.eat("nospec") {
        return one(raw(BPF_ST | BPF_NOSPEC, 0, 0, 0, 0));
    }
    if c.eat("gotol ") {
        return one(raw(BPF_JMP32 | BPF_JA, 0, 0, 0, to_i32(pc_rel(c)?)?));
    }
    if c.eat("goto ") {
        return one(raw(BPF_JMP | BPF_JA, 0, 0, to_i16(pc_rel(c)?)?, 0));
    }
    if c.eat("may_goto ") {
        return one(raw(BPF_JMP | BPF_JCOND, 0, BPF_MAY_GOTO, to_i16(pc_rel(c)?)?, 0));
    }
    if c.eat("call ") {
        return one(parse_call(c)?);
    }
    if c.eat("if ") {
        return one(parse_cond_jmp(c)?);
    }
    if c.eat("lock ") {
        c.expect("*")?;
        let (sz, _) = ptr_type(c)?;
        let (dst, off) = mem_operand(c)?;
        c.ws();
        let op = c.rest().split_whitespace().next().unwrap_or("");
        let imm = match op {
            "+=" => BPF_ADD,
            "|=" => BPF_OR,
            "&=" => BPF_AND,
            "^=" => BPF_XOR,
            _ => return Err(format!("unknown atomic operation `{op}`")),
        };
        c.pos += op.len();
        let (_, src) = c.reg()?;
        return one(raw(BPF_STX | BPF_ATOMIC | sz, dst, src, off, imm as i32));
    }
    if c.eat("store_release(") {
        let (sz, _) = ptr_type(c)?;
        let (dst, off) = mem_operand(c)?;
        c.expect(",")?;
        let (_, src) = c.reg()?;
        c.expect(")")?;
        return one(raw(BPF_STX | BPF_ATOMIC | sz, dst, src, off, BPF_STORE_REL));
    }
    if c.eat("*") {
        let (sz, signed) = ptr_type(c)?;
        if signed {
            return Err("stores take unsigned types".into());
        }
        let (dst, off) = mem_operand(c)?;
        c.expect("=")?;
        if c.peek_reg() {
            let (_, src) = c.reg()?;
            return one(raw(BPF_STX | BPF_MEM | sz, dst, src, off, 0));
        }
        return one(raw(BPF_ST | BPF_MEM | sz, dst, 0, off, to_i32(c.int()?)?));
    }
    if c.peek_reg() {
        let (is_w, dst) = c.reg()?;
        c.ws();
        let op = c.rest().split_whitespace().next().unwrap_or("");
        if op == "=" {
            c.pos += 1;
            return parse_assign(c, is_w, dst);
        }
        let (bits, off) = match op {
            "+=" => (BPF_ADD, 0),
            "-=" => (BPF_SUB, 0),
            "*=" => (BPF_MUL, 0),
            "/=" => (BPF_DIV, 0),
            "s/=" => (BPF_DIV, 1),
            "|=" => (BPF_OR, 0),
            "&=" => (BPF_AND, 0),
            "<<=" => (BPF_LSH, 0),
            ">>=" => (BPF_RSH, 0),
            "s>>=" => (BPF_ARSH, 0),
            "%=" => (BPF_MOD, 0),
            "s%=" => (BPF_MOD, 1),
            "^=" => (BPF_XOR, 0),
            _ => return Err(format!("unknown ALU operation `{op}`")),
        };
        c.pos += op.len();
        let class = if is_w { BPF_ALU } else { BPF_ALU64 };
        if c.peek_reg() {
            let (sw, src) = c.reg()?;
            if sw != is_w {
                return Err("mixed r and w registers".into());
            }
            return one(raw(class | bits | BPF_X, dst, src, off, 0));
        }
        return one(raw(class | bits | BPF_K, dst, 0, off, to_i32(c.int()?)?));
    }
    Err("unrecognised instruction".into())
}

fn parse_call(c: &mut Cursor) -> PResult<RawInsn> {
    let code = BPF_JMP | BPF_CALL;
    c.ws();
    if c.rest().starts_with("pc+") || c.rest().starts_with("pc-") {
        return Ok(raw(code, 0, BPF_PSEUDO_CALL, 0, to_i32(pc_rel(c)?)?));
    }
    if c.rest().starts_with(|ch: char| ch.is_ascii_digit() || ch == '-') {
        return Ok(raw(code, 0, 0, 0, to_i32(c.int()?)?));
    }
    let name = c.word();
    if name.is_empty() {
        return Err(format!("expected a call target at `{}`", c.rest()));
    }
    let helper = if name == "bpf_unspec" { Some(0) } else { helper_id(name) };
    if !c.eat("#") {
        return match helper {
            Some(id) => Ok(raw(code, 0, 0, 0, id)),
            None => Err(format!("unknown helper `{name}` (write `NAME#ID` for a kfunc)")),
        };
    }
    let imm = to_i32(c.int()?)?;
    if helper.is_some() || name == "unknown" {
        if let Some(id) = helper {
            if id != imm {
                return Err(format!("helper `{name}` has id {id}, not {imm}"));
            }
        }
        return Ok(raw(code, 0, 0, 0, imm));
    }
    let mut off = 0;
    if c.eat("[off:") {
        off = to_i16(c.int()?)?;
        c.expect("]")?;
    }
    Ok(raw(code, 0, BPF_PSEUDO_KFUNC_CALL, off, imm))
}

fn parse_cond_jmp(c: &mut Cursor) -> PResult<RawInsn> {
    let (is_w, dst) = c.reg()?;
    c.ws();
    let op = c.rest().split_whitespace().next().unwrap_or("");
    let bits = match op {
        "==" => BPF_JEQ,
        "!=" => BPF_JNE,
        ">" => BPF_JGT,
        ">=" => BPF_JGE,
        "<" => BPF_JLT,
        "<=" => BPF_JLE,
        "s>" => BPF_JSGT,
        "s>=" => BPF_JSGE,
        "s<" => BPF_JSLT,
        "s<=" => BPF_JSLE,
        "&" => BPF_JSET,
        _ => return Err(format!("unknown jump condition `{op}`")),
    };
    c.pos += op.len();
    let class = if is_w { BPF_JMP32 } else { BPF_JMP };
    let (src_kind, src, imm) = if c.peek_reg() {
        let (sw, s) = c.reg()?;
        if sw != is_w {
            return Err("mixed r and w registers".into());
        }
        (BPF_X, s, 0)
    } else {
        (BPF_K, 0, to_i32(c.int()?)?)
    };
    c.expect("goto")?;
    let off = to_i16(pc_rel(c)?)?;
    Ok(raw(class | bits | src_kind, dst, src, off, imm))
}

/// Right-hand sides of `rN = ...` / `wN = ...`.
fn parse_assign(c: &mut Cursor, is_w: bool, dst: u8) -> PResult<Vec<RawInsn>> {
    let one = |r: RawInsn| Ok(vec![r]);
    let w_or_r = |c: &mut Cursor| -> PResult<u8> {
        let (sw, s) = c.reg()?;
        if sw != is_w {
            return Err("mixed r and w registers".into());
        }
        Ok(s)
    };
    let class = if is_w { BPF_ALU } else { BPF_ALU64 };
    c.ws();
    // Negation: `rN = -rN`.
    if c.rest().starts_with('-') && c.rest()[1..].trim_start().starts_with(['r', 'w']) {
        c.pos += 1;
        let s = w_or_r(c)?;
        if s != dst {
            return Err("negation must use the same register on both sides".into());
        }
        return one(raw(class | BPF_NEG | BPF_K, dst, 0, 0, 0));
    }
    // Byte swaps (always printed with `r`).
    for (prefix, code) in [
        ("le", BPF_ALU | BPF_END | BPF_TO_LE),
        ("be", BPF_ALU | BPF_END | BPF_TO_BE),
        ("bswap", BPF_ALU64 | BPF_END | BPF_TO_LE),
    ] {
        let r = c.rest();
        if let Some(after) = r.strip_prefix(prefix) {
            if after.starts_with(|ch: char| ch.is_ascii_digit()) {
                c.pos += prefix.len();
                let bits = to_i32(c.int()?)?;
                let (_, s) = c.reg()?;
                if s != dst {
                    return Err("byte swap must use the same register on both sides".into());
                }
                return one(raw(code, dst, 0, 0, bits));
            }
        }
    }
    if c.eat("*") {
        let (sz, signed) = ptr_type(c)?;
        if c.eat("skb[") {
            if dst != 0 || is_w {
                return Err("legacy packet loads write r0".into());
            }
            if c.peek_reg() {
                let (_, s) = c.reg()?;
                c.expect("+")?;
                let imm = to_i32(c.int()?)?;
                c.expect("]")?;
                return one(raw(BPF_LD | BPF_IND | sz, 0, s, 0, imm));
            }
            let imm = to_i32(c.int()?)?;
            c.expect("]")?;
            return one(raw(BPF_LD | BPF_ABS | sz, 0, 0, 0, imm));
        }
        let (src, off) = mem_operand(c)?;
        let m = if signed { BPF_MEMSX } else { BPF_MEM };
        return one(raw(BPF_LDX | m | sz, dst, src, off, 0));
    }
    // Atomics returning a value.
    let r = c.rest();
    if r.starts_with("atomic") {
        c.pos += "atomic".len();
        let _ = c.eat("64");
        let imm = if c.eat("_fetch_") {
            let name = c.word();
            let op = match name {
                "add" => BPF_ADD,
                "and" => BPF_AND,
                "or" => BPF_OR,
                "xor" => BPF_XOR,
                _ => return Err(format!("unknown atomic fetch operation `{name}`")),
            };
            op as i32 | BPF_FETCH
        } else if c.eat("_xchg") {
            BPF_XCHG
        } else if c.eat("_cmpxchg") {
            BPF_CMPXCHG
        } else {
            return Err(format!("unknown atomic operation at `{r}`"));
        };
        c.expect("(")?;
        let (sz, _) = ptr_type(c)?;
        let (mem, off) = mem_operand(c)?;
        c.expect(",")?;
        if imm == BPF_CMPXCHG {
            let (_, r0) = c.reg()?;
            if r0 != 0 || dst != 0 {
                return Err("cmpxchg compares with and writes r0".into());
            }
            c.expect(",")?;
        }
        let (_, src) = c.reg()?;
        c.expect(")")?;
        if imm != BPF_CMPXCHG && src != dst {
            return Err("atomic fetch writes its source register".into());
        }
        return one(raw(BPF_STX | BPF_ATOMIC | sz, mem, src, off, imm));
    }
    if c.eat("load_acquire(") {
        let (sz, _) = ptr_type(c)?;
        let (src, off) = mem_operand(c)?;
        c.expect(")")?;
        return one(raw(BPF_STX | BPF_ATOMIC | sz, dst, src, off, BPF_LOAD_ACQ));
    }
    if c.eat("addr_space_cast(") {
        let (_, src) = c.reg()?;
        c.expect(",")?;
        let hi = c.int()?;
        c.expect(",")?;
        let lo = c.int()?;
        c.expect(")")?;
        let imm = to_i32(((hi & 0xffff) << 16) | (lo & 0xffff))?;
        return one(raw(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, BPF_ADDR_SPACE_CAST, imm));
    }
    if let Some(slots) = parse_pseudo_imm64(c, dst)? {
        if is_w {
            return Err("LD_IMM64 writes a 64-bit register".into());
        }
        return Ok(slots.to_vec());
    }
    // Sign-extending move.
    for (prefix, off) in [("(s8)", 8), ("(s16)", 16), ("(s32)", 32)] {
        if c.eat(prefix) {
            let s = w_or_r(c)?;
            return one(raw(class | BPF_MOV | BPF_X, dst, s, off, 0));
        }
    }
    if c.peek_reg() {
        let s = w_or_r(c)?;
        return one(raw(class | BPF_MOV | BPF_X, dst, s, 0, 0));
    }
    // Hex into an r register is LD_IMM64 (the kernel's log prints it that way); decimal is mov.
    let hex = c.is_hex_next();
    let v = c.int()?;
    let ll = c.eat("ll");
    if !is_w && (hex || ll) {
        let v = if (i64::MIN as i128..=u64::MAX as i128).contains(&v) {
            v as u64
        } else {
            return Err(format!("{v} does not fit in 64 bits"));
        };
        return Ok(vec![raw(LD_IMM64, dst, 0, 0, v as u32 as i32), raw(0, 0, 0, 0, (v >> 32) as u32 as i32)]);
    }
    if ll {
        return Err("LD_IMM64 writes a 64-bit register".into());
    }
    one(raw(class | BPF_MOV | BPF_K, dst, 0, 0, to_i32(v)?))
}

/// The symbolic `LD_IMM64` forms of `InsnPrinter::pseudo()`; `None` if none is next.
fn parse_pseudo_imm64(c: &mut Cursor, dst: u8) -> PResult<Option<[RawInsn; 2]>> {
    let pair = |src: u8, imm: i32, next: i32| Some([raw(LD_IMM64, dst, src, 0, imm), raw(0, 0, 0, 0, next)]);
    let value_off = |c: &mut Cursor| -> PResult<i32> {
        c.expect("]")?;
        c.expect("+")?;
        to_i32(c.int()?)
    };
    if c.eat("map[fd:") {
        let imm = to_i32(c.int()?)?;
        c.expect("]")?;
        return Ok(pair(1, imm, 0));
    }
    if c.eat("map_value[fd:") {
        let imm = to_i32(c.int()?)?;
        let off = value_off(c)?;
        return Ok(pair(2, imm, off));
    }
    if c.eat("btf_id[") {
        let imm = to_i32(c.int()?)?;
        c.expect("]")?;
        return Ok(pair(3, imm, 0));
    }
    if c.eat("func[") {
        let imm = to_i32(pc_rel(c)?)?;
        c.expect("]")?;
        return Ok(pair(4, imm, 0));
    }
    if c.eat("map[idx:") {
        let imm = to_i32(c.int()?)?;
        c.expect("]")?;
        return Ok(pair(5, imm, 0));
    }
    if c.eat("map_value[idx:") {
        let imm = to_i32(c.int()?)?;
        let off = value_off(c)?;
        return Ok(pair(6, imm, off));
    }
    if c.eat("ld_imm64[src:") {
        let src = c.int()?;
        let src = u8::try_from(src).ok().filter(|s| *s <= 15).ok_or_else(|| format!("bad src {src}"))?;
        c.expect(",")?;
        let v = c.int()?;
        let v = u64::try_from(v).map_err(|_| format!("bad value {v}"))?;
        c.expect("]")?;
        return Ok(pair(src, v as u32 as i32, (v >> 32) as u32 as i32));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::print::InsnPrinter;

    fn ri(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
        RawInsn { code, dst, src, off, imm }
    }

    fn one(text: &str) -> RawInsn {
        let v = parse_program(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(v.len(), 1, "{text}");
        v[0]
    }

    #[test]
    fn parses_kernel_lines() {
        assert_eq!(one("(bf) r6 = r1"), ri(0xbf, 6, 1, 0, 0));
        assert_eq!(one("0: (61) r2 = *(u32 *)(r1 +76)"), ri(0x61, 2, 1, 76, 0));
        assert_eq!(one("if r3 > r2 goto pc+2"), ri(0x2d, 3, 2, 2, 0));
        assert_eq!(one("(85) call bpf_map_lookup_elem#1"), ri(0x85, 0, 0, 0, 1));
        assert_eq!(one("(07) r1 += -8"), ri(0x07, 1, 0, 0, -8));
        assert_eq!(one("(b4) w0 = 0"), ri(0xb4, 0, 0, 0, 0));
        assert_eq!(one("(95) exit"), ri(0x95, 0, 0, 0, 0));
        assert_eq!(one("(bc) w1 = (s8)w2"), ri(0xbc, 1, 2, 8, 0));
        assert_eq!(one("(db) lock *(u64 *)(r1 +0) += r2"), ri(0xdb, 1, 2, 0, 0));
        assert_eq!(one("(c3) r0 = atomic_fetch_add((u32 *)(r1 +0), r0)"), ri(0xc3, 1, 0, 0, 1));
        assert_eq!(one("(c3) r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r3)"), ri(0xc3, 1, 3, 0, 0xf1));
        assert_eq!(one("(06) gotol pc+70000"), ri(0x06, 0, 0, 0, 70000));
        assert_eq!(one("(d4) r1 = le16 r1"), ri(0xd4, 1, 0, 0, 16));
        assert_eq!(one("(d7) r1 = bswap16 r1"), ri(0xd7, 1, 0, 0, 16));
        assert_eq!(one("(85) call pc+5"), ri(0x85, 0, 1, 0, 5));
        assert_eq!(one("(85) call kernel-function#77"), ri(0x85, 0, 2, 0, 77));
        assert_eq!(one("(85) call bpf_obj_new_impl#77"), ri(0x85, 0, 2, 0, 77));
        assert_eq!(one("(85) call unknown#999"), ri(0x85, 0, 0, 0, 999));
        assert_eq!(one("(55) if r1 != 0xffffffff goto pc-2"), ri(0x55, 1, 0, -2, -1));
        assert_eq!(one("(40) r0 = *(u32 *)skb[r3 + 14]"), ri(0x40, 0, 3, 0, 14));
        assert_eq!(one("(28) r0 = *(u16 *)skb[12]"), ri(0x28, 0, 0, 0, 12));
        assert_eq!(one("(87) r1 = -r1"), ri(0x87, 1, 0, 0, 0));
        assert_eq!(one("(6a) *(u16 *)(r10 -2) = 7"), ri(0x6a, 10, 0, -2, 7));
        assert_eq!(one("(e5) may_goto pc+4"), ri(0xe5, 0, 0, 4, 0));
        assert_eq!(one("(bf) r1 = addr_space_cast(r2, 0, 1)"), ri(0xbf, 1, 2, 1, 1));
    }

    #[test]
    fn convenience_forms() {
        assert_eq!(one("call bpf_map_lookup_elem"), ri(0x85, 0, 0, 0, 1));
        assert_eq!(one("call map_lookup_elem"), ri(0x85, 0, 0, 0, 1));
        assert_eq!(one("call 1"), ri(0x85, 0, 0, 0, 1));
        assert_eq!(one("  r1 = *(u64 *)(r10 - 8)   // comment"), ri(0x79, 1, 10, -8, 0));
        assert_eq!(one("if w1 s< -1 goto pc+3 ; comment"), ri(0xc6, 1, 0, 3, -1));
        let v = parse_program("r1 = 0x100000002\nr2 = 5 ll\nr3 = map[idx:1]\nr4 = map_value[idx:2]+8").expect("parses");
        assert_eq!(
            v,
            vec![
                ri(0x18, 1, 0, 0, 2),
                ri(0, 0, 0, 0, 1),
                ri(0x18, 2, 0, 0, 5),
                ri(0, 0, 0, 0, 0),
                ri(0x18, 3, 5, 0, 1),
                ri(0, 0, 0, 0, 0),
                ri(0x18, 4, 6, 0, 2),
                ri(0, 0, 0, 0, 8),
            ]
        );
    }

    #[test]
    fn skips_blank_lines_and_comments_and_checks_pc() {
        let text = "; a program\n\n0: r0 = 0\n// done\n1: exit\n";
        assert_eq!(parse_program(text).expect("parses").len(), 2);
        let e = parse_program("0: r1 = 0x1\n1: exit").expect_err("pc 1 is the LD_IMM64 tail");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("pc prefix 1"), "{e}");
    }

    #[test]
    fn rejects_bad_lines_with_line_numbers() {
        let cases = [
            ("r0 = 0\nr11 = 1", 2),
            ("exit\n(b7) r0 = r1", 2),
            ("r0 = 0\nr0 = 0\ncall no_such_helper", 3),
            ("frobnicate r1", 1),
            ("r1 += w2", 1),
            ("w1 = 0x1 ll", 1),
            ("goto pc+40000", 1),
            ("call bpf_map_lookup_elem#2", 1),
            ("exit now", 1),
        ];
        for (text, line) in cases {
            let e = parse_program(text).expect_err(text);
            assert_eq!(e.line, line, "{text}: {e}");
        }
    }

    #[test]
    fn roundtrips_printed_kernel_lines() {
        let prog = [
            ri(0xbf, 6, 1, 0, 0),
            ri(0x18, 1, 5, 0, 0),
            ri(0, 0, 0, 0, 0),
            ri(0x85, 0, 2, 9, 1234),
            ri(0x18, 2, 4, 0, -2),
            ri(0, 0, 0, 0, 0),
            ri(0xdb, 1, 3, -8, 0x51),
            ri(0x95, 0, 0, 0, 0),
        ];
        let text = InsnPrinter::pseudo().print_program(&prog);
        assert_eq!(parse_program(&text).expect("parses"), prog.to_vec(), "{text}");
    }

    proptest::proptest! {
        #[test]
        fn print_then_parse_gives_the_same_raw_insns(
            insns in proptest::collection::vec(crate::insn::decode::strategies::insn(), 1..24)
        ) {
            let raw = crate::insn::decode::encode_program(&insns);
            let text = InsnPrinter::pseudo().print_program(&raw);
            let parsed = parse_program(&text);
            proptest::prop_assert_eq!(parsed, Ok(raw), "{}", text);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,80}") {
            let _ = parse_program(&text);
        }

        #[test]
        fn parse_never_panics_on_near_misses(
            line in "(r|w)[0-9]{1,2} ?(=|\\+=|s/=) ?(\\*\\((u|s)(8|16|32|64) \\*\\)\\(r[0-9] ?[+-]?[0-9]{0,6}\\)|-?0x[0-9a-f]{0,17}|-?[0-9]{0,12}|map\\[idx:[0-9]{0,3}\\]?)"
        ) {
            let _ = parse_program(&line);
        }
    }
}
