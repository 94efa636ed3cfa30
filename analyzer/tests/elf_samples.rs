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
