//! Loads every object of the real-world corpus (/work/shared/ebpf-samples) and checks the
//! loader against kernel-verdicts.tsv: no panic, every object outside `invalid/` loads
//! (except those the reference lists with no program at all, which may fail), and for
//! every object that loads, the (section, function) programs and their program types
//! equal the reference's rows for that file. Skipped (with a visible message) when the
//! corpus is absent.

use analyzer::elf::load_object;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CORPUS: &str = "/work/shared/ebpf-samples";

/// file -> rows of (section, function, prog_type); `-` rows mean "no program".
fn reference(dir: &Path) -> BTreeMap<String, Vec<(String, String, String)>> {
    let text = std::fs::read_to_string(dir.join("kernel-verdicts.tsv"))
        .expect("kernel-verdicts.tsv readable");
    let mut rows: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.starts_with("file\t") || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 {
            continue;
        }
        let entry = rows.entry(cols[0].to_string()).or_default();
        if cols[1] != "-" {
            entry.push((
                cols[1].to_string(),
                cols[2].to_string(),
                cols[3].to_string(),
            ));
        }
    }
    rows
}

fn objects(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "kernel-logs") {
                    stack.push(p);
                }
                continue;
            }
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let in_invalid = p
                .parent()
                .and_then(|q| q.file_name())
                .is_some_and(|n| n == "invalid");
            if name.ends_with(".o") || name.ends_with(".elf") || in_invalid {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn corpus_programs_match_kernel_verdicts() {
    let dir = Path::new(CORPUS);
    if !dir.join("kernel-verdicts.tsv").exists() {
        eprintln!("skipped: {CORPUS} not present");
        return;
    }
    let reference = reference(dir);
    let files = objects(dir);
    assert!(
        files.len() >= 200,
        "expected the whole corpus, found {} objects",
        files.len()
    );
    let mut problems = Vec::new();
    let (mut loaded, mut failed, mut programs, mut insns, mut maps) = (0, 0, 0, 0, 0);
    let (mut with_lines, mut with_subprogs) = (0, 0);
    for path in &files {
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        let expected = reference.get(&rel).cloned().unwrap_or_default();
        let result = std::panic::catch_unwind(|| load_object(path));
        let obj = match result {
            Err(_) => {
                problems.push(format!("{rel}: loader panicked"));
                continue;
            }
            Ok(Err(e)) => {
                failed += 1;
                if !rel.starts_with("invalid/") && !expected.is_empty() {
                    problems.push(format!("{rel}: failed to load: {e}"));
                }
                eprintln!("load error (expected for this file): {e}");
                continue;
            }
            Ok(Ok(obj)) => obj,
        };
        loaded += 1;
        programs += obj.programs.len();
        maps += obj.maps.len();
        insns += obj.programs.iter().map(|p| p.insns.len()).sum::<usize>();
        with_lines += obj
            .programs
            .iter()
            .filter(|p| !p.line_info.is_empty())
            .count();
        with_subprogs += obj
            .programs
            .iter()
            .filter(|p| p.functions.len() > 1)
            .count();
        let got: BTreeSet<(String, String)> = obj
            .programs
            .iter()
            .map(|p| (p.section.clone(), p.name.clone()))
            .collect();
        let want: BTreeSet<(String, String)> = expected
            .iter()
            .map(|(s, f, _)| (s.clone(), f.clone()))
            .collect();
        if got != want {
            problems.push(format!(
                "{rel}: programs differ: extra {:?}, missing {:?}",
                got.difference(&want).collect::<Vec<_>>(),
                want.difference(&got).collect::<Vec<_>>()
            ));
            continue;
        }
        for p in &obj.programs {
            let want_type = expected
                .iter()
                .find(|(s, f, _)| *s == p.section && *f == p.name)
                .map(|r| r.2.as_str());
            if want_type != Some(p.prog_type.name()) {
                problems.push(format!(
                    "{rel}: {}/{}: prog type {} but reference says {:?}",
                    p.section,
                    p.name,
                    p.prog_type.name(),
                    want_type
                ));
            }
            if p.functions.first().map(|f| f.0) != Some(0) || p.insns.is_empty() {
                problems.push(format!(
                    "{rel}: {}/{}: empty program or functions list not starting at pc 0",
                    p.section, p.name
                ));
            }
            // `invalid/` objects may be malformed on purpose (e.g. a cut-off LD_IMM64).
            if let Err(e) = check_linked(p, &obj.maps) {
                if rel.starts_with("invalid/") {
                    eprintln!(
                        "{rel}: {}/{}: {e} (malformed on purpose)",
                        p.section, p.name
                    );
                    continue;
                }
                problems.push(format!("{rel}: {}/{}: {e}", p.section, p.name));
            }
        }
    }
    eprintln!("corpus: {} objects, {loaded} loaded, {failed} refused, {programs} programs ({with_lines} with line info, {with_subprogs} with subprograms), {insns} insns, {maps} maps", files.len());
    for p in &problems {
        eprintln!("PROBLEM {p}");
    }
    assert!(
        problems.is_empty(),
        "{} problems (see stderr)",
        problems.len()
    );
    assert!(programs >= 900, "only {programs} programs loaded");
}

/// Checks what linking promises: every bpf-to-bpf call and `BPF_PSEUDO_FUNC` targets the
/// start of a listed function, every map reference names an existing map (and, for
/// `MAP_IDX_VALUE`, an offset inside its value), and every `LD_IMM64` has its second slot.
fn check_linked(
    p: &analyzer::object::Program,
    maps: &[analyzer::object::MapDef],
) -> Result<(), String> {
    if let Some(l) = p.line_info.iter().find(|l| l.pc >= p.insns.len()) {
        return Err(format!(
            "line info at pc {} past the end ({} insns)",
            l.pc,
            p.insns.len()
        ));
    }
    if p.line_info.windows(2).any(|w| w[0].pc >= w[1].pc) {
        return Err("line info not sorted by pc".into());
    }
    let starts: BTreeSet<usize> = p.functions.iter().map(|f| f.0).collect();
    let mut pc = 0;
    while pc < p.insns.len() {
        let i = p.insns[pc];
        let target = pc as i64 + 1 + i.imm as i64;
        match (i.code, i.src) {
            (0x85, 1) | (0x18, 4)
                if !(0..p.insns.len() as i64).contains(&target)
                    || !starts.contains(&(target as usize)) =>
            {
                return Err(format!(
                    "pc {pc}: call/func ref to pc {target}, not a function start"
                ));
            }
            (0x18, src) => {
                let next = p
                    .insns
                    .get(pc + 1)
                    .ok_or(format!("pc {pc}: ld_imm64 without second slot"))?;
                if src == 5 || src == 6 {
                    let m = maps
                        .get(i.imm as usize)
                        .ok_or(format!("pc {pc}: map index {} out of range", i.imm))?;
                    if src == 6 && next.imm as u32 >= m.value_size.max(1) {
                        return Err(format!(
                            "pc {pc}: offset {} outside map {} value ({})",
                            next.imm, m.name, m.value_size
                        ));
                    }
                }
                if src == 1 || src == 2 || src > 6 {
                    return Err(format!("pc {pc}: ld_imm64 src {src} left unrelocated"));
                }
                pc += 1;
            }
            _ => {}
        }
        pc += 1;
    }
    Ok(())
}

#[test]
fn line_info_maps_pc0_to_source_line() {
    let path = Path::new(CORPUS).join("libbpf-bootstrap/minimal.bpf.o");
    if !path.exists() {
        eprintln!("skipped: {} not present", path.display());
        return;
    }
    let obj = load_object(&path).expect("minimal.bpf.o loads");
    let prog = obj
        .programs
        .iter()
        .find(|p| p.name == "handle_tp")
        .expect("handle_tp program");
    let li = prog.line_for(0).expect("line info at pc 0");
    assert!(li.file.ends_with("minimal.bpf.c"), "file {}", li.file);
    assert_eq!(li.pc, 0);
    assert_eq!(li.line, LINE0_MINIMAL, "text {:?}", li.text);
    assert!(li.text.contains(TEXT0_MINIMAL), "text {:?}", li.text);
}

/// What `llvm-objdump -dl` prints for pc 0 of minimal.bpf.o's handle_tp.
const LINE0_MINIMAL: u32 = 13;
const TEXT0_MINIMAL: &str = "bpf_get_current_pid_tgid()";

/// Byte flips and truncations of a real object: any result but a panic.
#[test]
fn mutated_corpus_object_never_panics() {
    let path = Path::new(CORPUS).join("libbpf-bootstrap/bootstrap.bpf.o");
    let Ok(base) = std::fs::read(&path) else {
        eprintln!("skipped: {} not present", path.display());
        return;
    };
    assert!(analyzer::elf::load_object_bytes("base", &base).is_ok());
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut rejected = 0;
    for round in 0..3000 {
        let mut bytes = base.clone();
        for _ in 0..1 + round % 8 {
            let pos = (next() as usize) % bytes.len();
            bytes[pos] = next() as u8;
        }
        if round % 7 == 0 {
            bytes.truncate((next() as usize) % bytes.len());
        }
        match std::panic::catch_unwind(|| {
            analyzer::elf::load_object_bytes("fuzz", &bytes).map(|o| o.programs.len())
        }) {
            Err(_) => panic!("loader panicked on mutation round {round}"),
            Ok(Err(_)) => rejected += 1,
            Ok(Ok(_)) => {}
        }
    }
    assert!(rejected > 0);
}

/// Slot index -> opcode byte of every executable section, from `llvm-objdump -d`
/// (the raw-bytes column, which LLVM 14 prints even for insns it shows as `<unknown>`),
/// plus the function labels (name -> slot). `None` when objdump fails on the file.
struct Objdump {
    /// section -> opcode byte of each 8-byte slot, in order.
    opcodes: BTreeMap<String, Vec<u8>>,
    /// (section, label) -> slot index.
    labels: BTreeMap<(String, String), usize>,
}

fn objdump(path: &Path) -> Option<Objdump> {
    let out = std::process::Command::new("llvm-objdump")
        .args(["-d", "--triple=bpfel"])
        .arg(path)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut d = Objdump {
        opcodes: BTreeMap::new(),
        labels: BTreeMap::new(),
    };
    let mut section = String::new();
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("Disassembly of section ") {
            section = s.trim_end_matches(':').to_string();
            d.opcodes.entry(section.clone()).or_default();
            continue;
        }
        // "0000000000000000 <name>:"
        if let Some((addr, rest)) = line.split_once(" <") {
            if let (Ok(a), Some(name)) = (u64::from_str_radix(addr, 16), rest.strip_suffix(">:")) {
                d.labels
                    .insert((section.clone(), name.to_string()), (a / 8) as usize);
                continue;
            }
        }
        // "      12:\t18 02 00 00 ... \tr2 = 0 ll"
        let Some((pc, rest)) = line.trim_start().split_once(":\t") else {
            continue;
        };
        let Ok(pc) = pc.parse::<usize>() else {
            continue;
        };
        let bytes: Vec<u8> = rest
            .split('\t')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .map_while(|b| u8::from_str_radix(b, 16).ok())
            .collect();
        let slots = d.opcodes.entry(section.clone()).or_default();
        if slots.len() != pc || bytes.is_empty() || !bytes.len().is_multiple_of(8) {
            // Out-of-order or odd line: make the mismatch visible to the caller.
            slots.push(0xff);
            continue;
        }
        slots.extend(bytes.chunks(8).map(|c| c[0]));
    }
    Some(d)
}

/// For every program of every corpus object that loads: the entry function's
/// instructions (the program's own, unlinked bytes: pcs before the first appended
/// function) have the opcode bytes `llvm-objdump -d` shows at the same place of the
/// section, and the entry functions of a section together cover exactly the slots
/// objdump counts for it. Relocation rewrites src/imm, never the opcode byte.
#[test]
fn corpus_opcodes_match_llvm_objdump() {
    let dir = Path::new(CORPUS);
    if !dir.join("kernel-verdicts.tsv").exists() {
        eprintln!("skipped: {CORPUS} not present");
        return;
    }
    if std::process::Command::new("llvm-objdump")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: llvm-objdump not installed");
        return;
    }
    let mut problems = Vec::new();
    let (mut checked_progs, mut checked_slots, mut no_objdump) = (0usize, 0usize, 0usize);
    let mut uncovered = 0usize;
    for path in objects(dir) {
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if rel.starts_with("invalid/") {
            continue;
        }
        let Ok(obj) = load_object(&path) else {
            continue;
        };
        let Some(d) = objdump(&path) else {
            eprintln!("llvm-objdump failed on {rel}: not checked");
            no_objdump += 1;
            continue;
        };
        // section -> (start, len) of each program's own instructions.
        let mut covered: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
        for p in &obj.programs {
            let own = p.functions.get(1).map_or(p.insns.len(), |f| f.0);
            let Some(slots) = d.opcodes.get(&p.section) else {
                problems.push(format!("{rel}: objdump shows no section {}", p.section));
                continue;
            };
            let start = match d.labels.get(&(p.section.clone(), p.name.clone())) {
                Some(s) => *s,
                None if p.name == p.section => 0,
                None => {
                    problems.push(format!(
                        "{rel}: no objdump label for {}/{}",
                        p.section, p.name
                    ));
                    continue;
                }
            };
            let want = slots.get(start..start + own);
            let got: Vec<u8> = p.insns[..own].iter().map(|i| i.code).collect();
            // CO-RE relocations libbpf cannot resolve are poisoned into `call 0xbad2310`
            // (or `call 2002000000+n` for unresolved kfuncs), as libbpf does: those pcs
            // legitimately differ from the object's bytes.
            let poisoned = |pc: usize| {
                p.insns.get(pc).is_some_and(|i| i.code == 0x85 && i.src == 0 && analyzer::elf::poison::is_poison_call(i.imm))
            };
            let same = |w: &[u8]| w.len() == got.len() && w.iter().zip(&got).enumerate().all(|(pc, (a, b))| a == b || poisoned(pc));
            match want {
                Some(w) if same(w) => {}
                Some(w) => {
                    let pc = w.iter().zip(&got).enumerate().position(|(pc, (a, b))| a != b && !poisoned(pc)).unwrap_or(0);
                    problems.push(format!(
                        "{rel}: {}/{}: pc {pc}: opcode {:#04x}, objdump {:#04x}",
                        p.section,
                        p.name,
                        got.get(pc).copied().unwrap_or(0),
                        w.get(pc).copied().unwrap_or(0)
                    ));
                }
                None => problems.push(format!(
                    "{rel}: {}/{}: {own} insns from slot {start}, objdump counts {}",
                    p.section,
                    p.name,
                    slots.len()
                )),
            }
            covered
                .entry(p.section.clone())
                .or_default()
                .push((start, own));
            checked_progs += 1;
            checked_slots += own;
        }
        // The programs tile each section: disjoint, and any slot no program owns follows
        // the end of a function (dead code after a function's `st_size`, as linked
        // objects have), never the section start or the middle of a function.
        for (sec, mut ranges) in covered {
            let total = d.opcodes.get(&sec).map_or(0, Vec::len);
            ranges.sort();
            let mut at = 0;
            for (start, len) in ranges {
                if start < at || (start > at && at == 0) {
                    problems.push(format!(
                        "{rel}: section {sec}: function at slot {start} overlaps or leaves slots {at}..{start} unowned"
                    ));
                }
                uncovered += start.saturating_sub(at);
                at = start + len;
            }
            uncovered += total.saturating_sub(at);
            if at > total || at == 0 {
                problems.push(format!(
                    "{rel}: section {sec}: programs end at slot {at}, objdump counts {total}"
                ));
            }
        }
    }
    eprintln!("objdump cross-check: {checked_progs} programs, {checked_slots} insns, {uncovered} dead insns after a function's st_size, {no_objdump} objects objdump could not read");
    for p in problems.iter().take(50) {
        eprintln!("PROBLEM {p}");
    }
    assert!(
        problems.is_empty(),
        "{} problems (see stderr)",
        problems.len()
    );
    assert!(
        checked_progs >= 900,
        "only {checked_progs} programs checked"
    );
}

fn corpus_object(rel: &str) -> Option<analyzer::object::Object> {
    let path = Path::new(CORPUS).join(rel);
    if !path.exists() {
        eprintln!("skipped: {} not present", path.display());
        return None;
    }
    Some(load_object(&path).unwrap_or_else(|e| panic!("{rel} loads: {e}")))
}

/// cilium's `bpf_elf_map` outer maps name their inner template by `inner_id`.
#[test]
fn cilium_maglev_inner_map_is_the_inner_template() {
    for rel in ["cilium/bpf_xdp_dsr_linux.o", "cilium/bpf_xdp_snat_linux.o"] {
        let Some(obj) = corpus_object(rel) else {
            return;
        };
        for outer in ["cilium_lb4_maglev", "cilium_lb6_maglev"] {
            let m = obj
                .maps
                .iter()
                .find(|m| m.name == outer)
                .unwrap_or_else(|| panic!("{rel}: map {outer}"));
            let inner = m
                .inner
                .as_deref()
                .unwrap_or_else(|| panic!("{rel}: {outer} inner"));
            assert_eq!(
                (inner.name.as_str(), inner.map_type, inner.value_size),
                (format!("{outer}_inner").as_str(), 2, 4078),
                "{rel}"
            );
        }
    }
}

/// ovs' old-LLVM object relocates maps with type-0 relocations: every map reference
/// becomes `BPF_PSEUDO_MAP_IDX` (tail-32's `percpu_headers` at byte 0x1248, ...).
#[test]
fn ovs_type_none_map_relocations_are_applied() {
    let Some(obj) = corpus_object("ovs/datapath.o") else {
        return;
    };
    let p = obj
        .programs
        .iter()
        .find(|p| p.section == "tail-32")
        .expect("tail-32 program");
    let pc = 0x1248 / 8;
    assert_eq!((p.insns[pc].code, p.insns[pc].src), (0x18, 5));
    let map = &obj.maps[p.insns[pc].imm as usize];
    assert_eq!(map.name, "percpu_headers");
    let map_refs: usize = obj
        .programs
        .iter()
        .map(|p| {
            p.insns
                .iter()
                .filter(|i| i.code == 0x18 && i.src == 5)
                .count()
        })
        .sum();
    assert!(map_refs >= 60, "only {map_refs} map references");
}

/// usdt.bpf.o reads `LINUX_HAS_BPF_COOKIE` through the `.kconfig` map (value 1).
#[test]
fn usdt_reads_kconfig_through_the_kconfig_map() {
    let Some(obj) = corpus_object("libbpf-bootstrap/usdt.bpf.o") else {
        return;
    };
    let k = obj
        .maps
        .iter()
        .position(|m| m.name == ".kconfig")
        .expect(".kconfig map");
    assert_eq!(obj.maps[k].initial_value.as_deref(), Some(&[1u8][..]));
    assert!(obj.maps[k].is_readonly_data());
    let p = obj
        .programs
        .iter()
        .find(|p| p.name == "usdt_manual_attach")
        .expect("usdt_manual_attach");
    let refs = p
        .insns
        .iter()
        .filter(|i| i.code == 0x18 && i.src == 6 && i.imm as usize == k)
        .count();
    assert!(refs >= 1, "no reference to .kconfig");
}

/// falco's memset/memcpy replacements end with `r0 = 0; exit` (never return the
/// destination, which may be a stack pointer).
#[test]
fn falco_builtins_return_zero() {
    let Some(obj) = corpus_object("falco/probe.o") else {
        return;
    };
    let mut seen = 0;
    for p in &obj.programs {
        for (start, name) in p
            .functions
            .iter()
            .filter(|f| f.1 == "memset" || f.1 == "memcpy")
        {
            let end = p
                .functions
                .iter()
                .map(|f| f.0)
                .filter(|s| s > start)
                .min()
                .unwrap_or(p.insns.len());
            let body = &p.insns[*start..end];
            assert!(
                body.iter().all(|i| !(i.code == 0xbf && i.dst == 0)),
                "{name} copies into r0"
            );
            let tail: Vec<(u8, u8, i32)> = body[body.len() - 2..]
                .iter()
                .map(|i| (i.code, i.dst, i.imm))
                .collect();
            assert_eq!(tail, [(0xb7, 0, 0), (0x95, 0, 0)], "{}: {name}", p.name);
            seen += 1;
        }
    }
    assert!(seen >= 60, "only {seen} builtin copies");
}
