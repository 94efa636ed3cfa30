//! Tests against real-world data: every executable section of every object in
//! /work/shared/ebpf-samples is decoded and compared with `llvm-objdump -d`, and every
//! instruction line of the live kernel's verifier logs there is parsed and printed back.
//! Both skip visibly when the data or the tool is absent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSection, SectionFlags};

use crate::insn::print::{InsnNames, InsnPrinter};
use crate::insn::{decode, parse_program, DecodeError, Insn, RawInsn};

const SAMPLES: &str = "/work/shared/ebpf-samples";

fn object_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "kernel-logs") {
                object_files(&p, out);
            }
        } else if !p.extension().is_some_and(|x| x == "md" || x == "tsv") {
            out.push(p);
        }
    }
}

/// Executable sections of an ELF: (name, raw instructions).
fn exec_sections(bytes: &[u8]) -> Option<Vec<(String, Vec<RawInsn>)>> {
    let file = object::File::parse(bytes).ok()?;
    let mut out = Vec::new();
    for s in file.sections() {
        let SectionFlags::Elf { sh_flags } = s.flags() else { continue };
        if sh_flags & u64::from(object::elf::SHF_EXECINSTR) == 0 || s.size() == 0 {
            continue;
        }
        let (Ok(name), Ok(data)) = (s.name(), s.data()) else { continue };
        let Some(raw) = RawInsn::slice_from_bytes(data) else { continue };
        out.push((name.to_string(), raw));
    }
    Some(out)
}

/// `llvm-objdump -d` per section name: (pc, opcode byte) of each printed instruction.
fn objdump(path: &Path) -> Option<HashMap<String, Vec<(usize, u8)>>> {
    let out = Command::new("llvm-objdump").arg("-d").arg(path).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut map: HashMap<String, Vec<(usize, u8)>> = HashMap::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("Disassembly of section ").and_then(|l| l.strip_suffix(':')) {
            cur = Some(name.to_string());
            map.entry(name.to_string()).or_default();
            continue;
        }
        let Some(sec) = &cur else { continue };
        let mut parts = line.trim_start().splitn(2, ":\t");
        let (Some(pc), Some(rest)) = (parts.next(), parts.next()) else { continue };
        let (Ok(pc), Some(byte)) = (pc.parse::<usize>(), rest.get(..2)) else { continue };
        let Ok(code) = u8::from_str_radix(byte, 16) else { continue };
        if let Some(v) = map.get_mut(sec) {
            v.push((pc, code));
        }
    }
    Some(map)
}

/// Decodes a section as found in an object file, before libbpf links it: bpf-to-bpf calls
/// (and `BPF_PSEUDO_FUNC` loads) to functions in other sections have relocated `imm`s that
/// point anywhere, so such a call is retargeted to itself and decoding retried.
fn decode_unlinked(mut raw: Vec<RawInsn>) -> Result<Vec<Insn>, DecodeError> {
    loop {
        match decode(&raw) {
            Err(DecodeError::CallOutOfRange { pc, .. } | DecodeError::JumpIntoLdImm64 { pc, .. })
                if raw.get(pc).is_some_and(|r| (r.code == 0x85 && r.src == 1) || (r.code == 0x18 && r.src == 4)) =>
            {
                if let Some(r) = raw.get_mut(pc) {
                    r.imm = -1;
                }
            }
            other => return other,
        }
    }
}

#[test]
fn decodes_every_sample_like_llvm_objdump() {
    let dir = Path::new(SAMPLES);
    if !dir.is_dir() {
        eprintln!("skipped: {SAMPLES} is absent");
        return;
    }
    let have_objdump = Command::new("llvm-objdump").arg("--version").output().is_ok();
    if !have_objdump {
        eprintln!("skipped comparison with llvm-objdump: not installed (decoding only)");
    }
    let mut files = Vec::new();
    object_files(dir, &mut files);
    files.sort();
    let (mut sections, mut insns, mut compared, mut failures) = (0usize, 0usize, 0usize, Vec::new());
    for path in &files {
        let Ok(bytes) = std::fs::read(path) else { continue };
        let Some(secs) = exec_sections(&bytes) else { continue };
        let dump = if have_objdump { objdump(path) } else { None };
        for (name, raw) in secs {
            sections += 1;
            let decoded = match decode_unlinked(raw.clone()) {
                Ok(d) => d,
                Err(e) => {
                    failures.push(format!("{}:{name}: {e}", path.display()));
                    continue;
                }
            };
            assert_eq!(decoded.len(), raw.len());
            let ours: Vec<(usize, u8)> = decoded
                .iter()
                .enumerate()
                .filter(|(_, i)| !matches!(i, Insn::LdImm64Tail))
                .map(|(pc, _)| (pc, raw[pc].code))
                .collect();
            insns += ours.len();
            if let Some(theirs) = dump.as_ref().and_then(|d| d.get(&name)) {
                assert_eq!(ours.len(), theirs.len(), "{}:{name}: instruction count", path.display());
                assert_eq!(&ours, theirs, "{}:{name}: pcs and opcodes", path.display());
                compared += 1;
            }
        }
    }
    eprintln!(
        "decoded {sections} sections ({insns} insns) of {} files; {compared} compared with llvm-objdump; {} rejected",
        files.len(),
        failures.len()
    );
    for f in &failures {
        eprintln!("  rejected: {f}");
    }
    assert!(sections > 100, "expected the corpus to have many executable sections");
    assert!(compared > 100 || !have_objdump, "expected most sections to be compared");
    // Everything outside invalid/ is compiled by clang and must decode.
    let unexpected: Vec<_> = failures.iter().filter(|f| !f.contains("/invalid/")).collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
}

/// Names a kfunc call as the kernel's `disasm_kfunc_name` did in the log line.
struct KfuncName(String);
impl InsnNames for KfuncName {
    fn call_name(&self, _insn: &RawInsn) -> Option<String> {
        Some(self.0.clone())
    }
}

/// Where ` N: ` (a pc and colon after a space) starts in a log line's insn text, if anywhere.
fn state_suffix(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    (0..b.len()).find(|&i| {
        b[i] == b' ' && {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            digits > 0 && b[i + 1 + digits..].starts_with(b": ")
        }
    })
}

#[test]
fn parses_and_reprints_every_kernel_log_line() {
    let dir = Path::new(SAMPLES).join("kernel-logs");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    };
    let mut lines = 0usize;
    for e in entries.flatten() {
        let Ok(text) = std::fs::read_to_string(e.path()) else { continue };
        for line in text.lines() {
            // `N: (xx) text   ; register state`
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            let Some(rest) = line.get(digits..).and_then(|r| r.strip_prefix(": (")) else { continue };
            if digits == 0 {
                continue;
            }
            let mut insn_text = rest.split(" ;").next().unwrap_or("").trim_end();
            // The log may append the state after the insn: `r0 &= -3 28: R0=0 ...`.
            if let Some(cut) = state_suffix(insn_text) {
                insn_text = &insn_text[..cut];
            }
            let kernel_line = format!("({insn_text}");
            let raw = parse_program(&kernel_line).unwrap_or_else(|err| panic!("{line}: {err}"));
            let kfunc = raw.first().filter(|r| r.code == 0x85 && r.src == 2).map(|_| {
                let name = kernel_line.split("call ").nth(1).and_then(|s| s.split('#').next()).unwrap_or("");
                KfuncName(name.to_string())
            });
            let printer = match &kfunc {
                Some(n) => InsnPrinter::kernel().with_names(n),
                None => InsnPrinter::kernel(),
            };
            assert_eq!(printer.print(&raw, 0), kernel_line, "{line}");
            lines += 1;
        }
    }
    eprintln!("reprinted {lines} kernel log lines");
    assert!(lines > 1000, "expected many instruction lines in the kernel logs");
}

#[test]
fn decode_errors_name_a_pc_inside_the_program() {
    // A sanity check that error pcs are usable as indices into the program.
    let raw = RawInsn::slice_from_bytes(&[0x95, 0, 0, 0, 0, 0, 0, 0, 0x8c, 0, 0, 0, 0, 0, 0, 0]).expect("16 bytes");
    match decode(&raw) {
        Err(DecodeError::UnknownOpcode { pc, .. }) => assert!(pc < raw.len()),
        other => panic!("expected UnknownOpcode, got {other:?}"),
    }
}
