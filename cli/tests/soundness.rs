//! Soundness tests (issues "Soundness and robustness" and "Real-world coverage"):
//! - a seeded run of generated programs: no concrete state outside its invariant, no fault in a
//!   program we accept;
//! - the same on every program of `corpus/`;
//! - the live kernel's verdicts on generated programs: every "we accept, the kernel rejects" is
//!   documented in `corpus/differential/` with its cause (visible skip without bpf());
//! - every documented disagreement still parses, is still generated from its seed, still gets
//!   its written-down verdicts from bpfcheck and (as root) the kernel;
//! - check-removal mutations of the corpus programs the kernel accepts: every mutant the
//!   interpreter can make fault is rejected; the agreement with the kernel is printed;
//! - the `bpfcheck soundness` command's summary line and exit code;
//! - every fuzz crash kept under `corpus/fuzz-regressions/` loads, decodes, parses and verifies
//!   without panicking.

use analyzer::gen::GenConfig;
use analyzer::object::Object;
use analyzer::soundness::{check_generated, check_mutations, check_program, Report};
use analyzer::verify::{Config, Verdict};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

/// A generated program written down in `corpus/differential/` (see its README): a disagreement
/// with the live kernel, its text and its cause.
struct Differential {
    name: String,
    object: Object,
    ours: Verdict,
    kernel_accepts: bool,
    kernel_message: String,
    cause: String,
}

/// Every `corpus/differential/*.insns`, parsed (panics on a malformed file: they are ours).
fn differentials() -> Vec<Differential> {
    files(&corpus_dir().join("differential"), "insns")
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read");
            let name = path.file_stem().and_then(|s| s.to_str()).expect("name").to_string();
            let field = |k: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix("; ").and_then(|l| l.strip_prefix(k)).and_then(|l| l.strip_prefix(" = ")))
                    .unwrap_or_else(|| panic!("{name}: no `; {k} = ` line"))
                    .trim()
                    .to_string()
            };
            let prog_type = analyzer::prog_type::ProgType::from_name(&field("prog_type")).expect("prog_type");
            let m: Vec<u32> = field("maps").split_whitespace().map(|x| x.parse().expect("map size")).collect();
            assert_eq!(m.len(), 3, "{name}: maps = hash_value array_value array_entries");
            let insns = analyzer::insn::parse_program(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let gp = analyzer::gen::GeneratedProgram { insns, prog_type, maps: analyzer::gen::generator_maps(m[0], m[1], m[2]) };
            let verdict = |v: &str| match v {
                "accepted" => Verdict::Accepted,
                "rejected" => Verdict::Rejected,
                other => panic!("{name}: verdict {other}"),
            };
            Differential {
                object: analyzer::soundness::object_for_generated(&gp, &name),
                ours: verdict(&field("bpfcheck")),
                kernel_accepts: verdict(&field("kernel")) == Verdict::Accepted,
                kernel_message: field("kernel_message"),
                cause: field("cause"),
                name,
            }
        })
        .collect()
}

/// Generated programs we accept and the kernel rejects that have been triaged: the names of
/// `corpus/differential/`'s cases (each a known kernel imprecision, with its reason there).
fn known_kernel_disagreements() -> Vec<String> {
    differentials().into_iter().filter(|d| d.ours == Verdict::Accepted && !d.kernel_accepts).map(|d| d.name).collect()
}

/// Files under `dir` (recursively) with extension `ext`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn describe(r: &Report) -> String {
    let mut s = String::new();
    for v in &r.violations {
        s += &format!(
            "  {} pc {} R{:?} stack {:?}: concrete {} not in {}: {} (input seed {:#x})\n",
            r.program, v.pc, v.reg, v.stack, v.concrete, v.abstract_, v.message, v.seed
        );
    }
    for f in &r.faults_in_accepted {
        s += &format!("  {} accepted but faults at pc {}: {:?} {} (input seed {:#x})\n", r.program, f.pc, f.kind, f.message, f.seed);
    }
    s
}

#[test]
fn seeded_generated_programs_have_no_violations() {
    let gen = GenConfig::default();
    let start = std::time::Instant::now();
    let reports: Vec<Report> = (0..200u64).into_par_iter().map(|seed| check_generated(seed, &gen, 20).1).collect();
    let executions: usize = reports.iter().map(|r| r.executions).sum();
    let steps: u64 = reports.iter().map(|r| r.steps_checked).sum();
    let accepted = reports.iter().filter(|r| r.verdict == Verdict::Accepted).count();
    let faulting = reports.iter().filter(|r| r.faulting_runs > 0).count();
    let bad: String = reports.iter().filter(|r| r.bug_count() > 0).map(describe).collect();
    println!(
        "200 programs ({accepted} accepted, {faulting} with faulting runs), {executions} executions, {steps} steps checked in {:?}",
        start.elapsed()
    );
    assert_eq!(executions, 200 * 20);
    assert!(steps > 100_000, "the traces are checked: {steps} steps");
    assert!(accepted > 100 && faulting > 0, "the run covers accepted and faulting programs");
    assert!(bad.is_empty(), "soundness violations:\n{bad}");
}

/// Every program of every corpus object.
fn corpus_programs() -> Vec<(Object, usize)> {
    let mut out = Vec::new();
    for path in files(&corpus_dir(), "o") {
        if path.components().any(|c| c.as_os_str() == "fuzz-regressions") {
            continue;
        }
        let obj = analyzer::elf::load_object(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for i in 0..obj.programs.len() {
            out.push((obj.clone(), i));
        }
    }
    out
}

#[test]
fn corpus_programs_have_no_violations() {
    let programs = corpus_programs();
    assert!(programs.len() >= 100, "corpus programs: {}", programs.len());
    let reports: Vec<Report> = programs.par_iter().map(|(obj, i)| check_program(obj, *i, 20, 1)).collect();
    let executions: usize = reports.iter().map(|r| r.executions).sum();
    let steps: u64 = reports.iter().map(|r| r.steps_checked).sum();
    let bad: String = reports.iter().filter(|r| r.bug_count() > 0).map(describe).collect();
    println!("{} corpus programs, {executions} executions, {steps} steps checked", reports.len());
    assert_eq!(executions, 20 * programs.len());
    assert!(bad.is_empty(), "soundness violations on the corpus:\n{bad}");
}

#[test]
fn kernel_agrees_on_generated_programs_we_accept() {
    if !oracle::bpf_available() {
        println!("skipped: no bpf()");
        return;
    }
    let gen = GenConfig::default();
    let opts = oracle::LoadOptions { stats: false, ..oracle::LoadOptions::default() };
    let known = known_kernel_disagreements();
    let mut unexplained = Vec::new();
    let (mut agree, mut we_reject, mut known_seen) = (0, 0, 0);
    for seed in 1000..1150u64 {
        let (obj, report) = check_generated(seed, &gen, 0);
        let k = oracle::load_program(&obj, &obj.programs[0], &opts).unwrap_or_else(|e| panic!("gen_{seed}: {e}"));
        match (report.verdict == Verdict::Accepted, k.accepted) {
            (true, false) => {
                let name = format!("gen_{seed}");
                if known.contains(&name) {
                    known_seen += 1;
                } else {
                    unexplained.push(format!("{name}: {}", k.error_line().unwrap_or("(no log)")));
                }
            }
            (false, true) => we_reject += 1,
            _ => agree += 1,
        }
    }
    println!("kernel: {agree} agree, {we_reject} we reject/kernel accepts, {known_seen} known disagreements");
    assert!(agree > 100, "agreement: {agree} of 150");
    assert!(unexplained.is_empty(), "we accept, the kernel rejects:\n{}", unexplained.join("\n"));
}

/// Each documented disagreement parses, is the program its name says (the generator still
/// produces it, so the seed reproduces it), gets the verdict written down from bpfcheck, runs
/// without a soundness violation, and (as root) gets the written-down verdict and error line
/// from the kernel.
#[test]
fn documented_kernel_disagreements_still_hold() {
    let cases = differentials();
    assert!(cases.len() >= 3, "corpus/differential/ has {} cases", cases.len());
    let kernel = oracle::bpf_available();
    if !kernel {
        println!("skipped: no bpf(): the kernel side of corpus/differential/ is not checked");
    }
    let opts = oracle::LoadOptions { stats: false, ..oracle::LoadOptions::default() };
    for d in &cases {
        assert!(["no-bounds-through-div", "packet-range-across-ctx-reload"].contains(&d.cause.as_str()), "{}: cause {}", d.name, d.cause);
        if let Some(seed) = d.name.strip_prefix("gen_").and_then(|s| s.parse::<u64>().ok()) {
            let gp = analyzer::gen::generate(seed, &GenConfig::default());
            assert_eq!(gp.insns, d.object.programs[0].insns, "{}: the text is not the generated program", d.name);
            assert_eq!(gp.maps, d.object.maps, "{}: maps", d.name);
        }
        let r = check_program(&d.object, 0, 20, 1);
        assert_eq!(r.verdict, d.ours, "{}: bpfcheck's verdict changed", d.name);
        assert_eq!(r.bug_count(), 0, "{}:\n{}", d.name, describe(&r));
        if kernel {
            let k = oracle::load_program(&d.object, &d.object.programs[0], &opts).unwrap_or_else(|e| panic!("{}: {e}", d.name));
            assert_eq!(k.accepted, d.kernel_accepts, "{}: the kernel's verdict changed", d.name);
            if !k.accepted {
                assert_eq!(k.error_line(), Some(d.kernel_message.as_str()), "{}: the kernel's message", d.name);
            }
        }
    }
}

/// `(object, program)` of every corpus case the kernel accepts.
fn kernel_accepted_cases() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for case in files(&corpus_dir(), "case") {
        let text = std::fs::read_to_string(&case).unwrap_or_default();
        let get = |k: &str| {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .find(|(key, _)| key.trim() == k)
                .map(|(_, v)| v.trim().to_string())
        };
        if get("kernel").as_deref() != Some("accepted") {
            continue;
        }
        if let (Some(o), Some(p)) = (get("object"), get("program")) {
            let dir = case.parent().unwrap_or(Path::new("."));
            out.push((dir.join(o), p));
        }
    }
    out
}

#[test]
fn check_removal_mutants_that_fault_are_rejected() {
    let cases = kernel_accepted_cases();
    assert!(cases.len() >= 60, "accepted cases: {}", cases.len());
    let config = Config { timeout: Some(Duration::from_secs(10)), ..Config::default() };
    let kernel = oracle::bpf_available();
    let opts = oracle::LoadOptions { stats: false, ..oracle::LoadOptions::default() };
    let (mut mutants, mut faulting, mut rejected) = (0, 0, 0);
    let (mut kernel_checked, mut kernel_agree) = (0, 0);
    let mut unsound = Vec::new();
    let mut disagreements = Vec::new();
    for (path, name) in &cases {
        let obj = analyzer::elf::load_object(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Some(index) = obj.programs.iter().position(|p| p.name == *name) else {
            panic!("{}: no program {name}", path.display())
        };
        for m in check_mutations(&obj, index, 50, 3, &config) {
            mutants += 1;
            faulting += usize::from(m.fault.is_some());
            rejected += usize::from(m.verdict != Verdict::Accepted);
            let what = format!("{}:{name} {}", path.display(), m.mutation.describe());
            if m.unsound() {
                unsound.push(format!("{what}: accepted, but {}", m.fault.as_ref().map(|o| o.to_string()).unwrap_or_default()));
            }
            if kernel {
                let mobj = m.mutation.apply(&obj, index);
                if let Ok(k) = oracle::load_program(&mobj, &mobj.programs[index], &opts) {
                    kernel_checked += 1;
                    if k.accepted == (m.verdict == Verdict::Accepted) {
                        kernel_agree += 1;
                    } else {
                        disagreements.push(format!(
                            "{what}: bpfcheck {}, kernel {} ({})",
                            m.verdict.as_str(),
                            if k.accepted { "accepted" } else { "rejected" },
                            k.error_line().or(m.message.as_deref()).unwrap_or("")
                        ));
                    }
                }
            }
        }
    }
    println!("{} accepted corpus programs, {mutants} mutants, {faulting} fault in the interpreter, {rejected} rejected by bpfcheck", cases.len());
    if kernel {
        println!("kernel agreement on mutants: {kernel_agree}/{kernel_checked}");
        for d in &disagreements {
            println!("  {d}");
        }
    } else {
        println!("kernel part skipped: no bpf()");
    }
    assert!(mutants >= 25, "mutants: {mutants}");
    assert!(faulting > 0, "some mutant faults");
    assert!(unsound.is_empty(), "mutants that fault but are accepted:\n{}", unsound.join("\n"));
}

#[test]
fn cli_prints_the_summary_line() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bpfcheck"))
        .args(["soundness", "--programs", "20", "--seed", "7", "--inputs", "5", "--kernel"])
        .output()
        .expect("runs bpfcheck");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    let prefix = "20 programs, 100 concrete executions, 0 violations, ";
    assert!(last.starts_with(prefix), "{stdout}");
    let d = last[prefix.len()..].strip_suffix(" kernel disagreements").unwrap_or_else(|| panic!("{last}"));
    assert!(d.parse::<usize>().is_ok(), "{last}");
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    if !oracle::bpf_available() {
        assert!(stdout.contains("skipped: no bpf()"), "{stdout}");
    }
}

/// Which fuzz target a regression file belongs to: its name starts with the target's name.
#[test]
fn fuzz_regressions_do_not_panic() {
    let dir = corpus_dir().join("fuzz-regressions");
    let entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_none_or(|x| x != "md"))
        .collect();
    let mut ran = 0;
    for path in &entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.starts_with("elf_loader") {
            if let Ok(obj) = analyzer::elf::load_object_bytes(&name, &bytes) {
                for p in &obj.programs {
                    let _ = analyzer::insn::decode(&p.insns);
                }
            }
        } else if name.starts_with("decoder") {
            let n = bytes.len() / 8 * 8;
            let raw = analyzer::insn::RawInsn::slice_from_bytes(&bytes[..n]).unwrap_or_default();
            if analyzer::insn::decode(&raw).is_ok() {
                for pc in 0..raw.len() {
                    let _ = analyzer::insn::print_insn(&raw, pc);
                }
            }
        } else if name.starts_with("text_parser") {
            let _ = analyzer::insn::parse_program(&String::from_utf8_lossy(&bytes));
        } else if name.starts_with("analyzer") {
            fuzz_analyzer(&bytes);
        } else {
            panic!("{name}: unknown fuzz target prefix");
        }
        ran += 1;
    }
    println!("{ran} fuzz regressions");
    assert_eq!(ran, entries.len());
}

/// What the `analyzer` fuzz target does with one input.
fn fuzz_analyzer(data: &[u8]) {
    use analyzer::prog_type::ProgType;
    const TYPES: [ProgType; 6] = [
        ProgType::Xdp,
        ProgType::SchedCls,
        ProgType::SocketFilter,
        ProgType::Kprobe,
        ProgType::Tracepoint,
        ProgType::CgroupSkb,
    ];
    let Some((&sel, rest)) = data.split_first() else { return };
    let n = rest.len() / 8 * 8;
    let Some(insns) = analyzer::insn::RawInsn::slice_from_bytes(&rest[..n]) else { return };
    if insns.is_empty() || insns.len() > 4096 {
        return;
    }
    let prog_type = TYPES[usize::from(sel) % TYPES.len()];
    let maps = analyzer::gen::generate(0, &GenConfig::default()).maps;
    let gp = analyzer::gen::GeneratedProgram { insns, prog_type, maps };
    let obj = analyzer::soundness::object_for_generated(&gp, "fuzz");
    let config = Config { max_node_visits: 20_000, timeout: Some(Duration::from_secs(2)), ..Config::default() };
    let start = std::time::Instant::now();
    let r = analyzer::verify::verify_program(&obj, 0, &config);
    println!("  analyzer regression: {} in {:?}", r.verdict.as_str(), start.elapsed());
    assert_eq!(r.name, "fuzz");
}
