//! Loop termination (`analyzer::termination`) on compiled programs: the corpus's loop
//! cases (`corpus/loops`) with their expected kernel verdicts and messages, and the
//! real-world objects of /work/shared/ebpf-samples against the live kernel's verdicts
//! (kernel-verdicts.tsv). The pipeline up to the fixpoint is `verify_program`'s.
//!
//! A program's termination verdict: rejected when a loop is non-terminating or unknown,
//! or when the longest-path bound is missing or over the kernel's 1M budget.

use analyzer::analysis::EbpfAnalysis;
use analyzer::cfg::{build_cfg, CfgConfig};
use analyzer::elf::load_object;
use analyzer::exec::{Env, Intrinsic};
use analyzer::fixpoint::{solve, Budget, WideningPolicy};
use analyzer::insn::{decode, Insn, Operand};
use analyzer::object::Object;
use analyzer::termination::{
    check_loops, longest_path_bound, too_large_message, LoopOutcome, LoopResult, TerminationConfig,
    KERNEL_INSN_BUDGET,
};
use lattices::Thresholds;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SAMPLES: &str = "/work/shared/ebpf-samples";

/// What the termination pass says about one program.
struct Report {
    loops: Vec<LoopResult>,
    bound: Option<u64>,
    /// The first rejection message, if the program is rejected for its loops.
    rejection: Option<String>,
}

fn thresholds(insns: &[Insn], obj: &Object) -> Thresholds {
    let mut v: BTreeSet<u64> = BTreeSet::new();
    for i in insns {
        if let Insn::Jmp {
            src: Operand::Imm(imm),
            ..
        }
        | Insn::Alu {
            src: Operand::Imm(imm),
            ..
        } = i
        {
            for d in [-1i64, 0, 1] {
                v.insert((*imm as i64).wrapping_add(d) as u64);
                v.insert(((*imm as i64).wrapping_add(d) as u32) as u64);
            }
        }
    }
    for m in &obj.maps {
        v.insert(m.value_size as u64);
        v.insert(m.max_entries as u64);
    }
    Thresholds::from_constants(v)
}

/// Runs the pipeline on program `index`; `None` when it does not get as far as a fixpoint.
fn analyse(obj: &Object, index: usize) -> Option<Report> {
    let prog = obj.programs.get(index)?;
    let insns = decode(&prog.insns).ok()?;
    let intrinsics: Vec<(usize, Intrinsic)> = prog
        .functions
        .iter()
        .filter(|(start, _)| *start != 0)
        .filter_map(|(start, name)| Intrinsic::from_name(name).map(|i| (*start, i)))
        .collect();
    let cfg_config = CfgConfig {
        opaque_functions: intrinsics.iter().map(|(pc, _)| *pc).collect(),
        ..CfgConfig::default()
    };
    let cfg = build_cfg(&insns, &cfg_config).ok()?;
    let mut maps = obj.maps.clone();
    let mut inner_maps = vec![None; obj.maps.len()];
    for (i, m) in obj.maps.iter().enumerate() {
        if let Some(inner) = &m.inner {
            maps.push((**inner).clone());
            inner_maps[i] = Some((maps.len() - 1) as u32);
        }
    }
    let env = Env { attach: prog.expected_attach_type, intrinsics, inner_maps, ..Env::privileged(prog.prog_type, &maps, &insns) };
    let analysis = EbpfAnalysis::new(env, &cfg, thresholds(&insns, obj));
    let budget = Budget {
        max_node_visits: 2_000_000,
        deadline: Some(std::time::Instant::now() + Duration::from_secs(20)),
    };
    let fix = solve(
        &cfg.graph,
        cfg.entry,
        &cfg.wto,
        &analysis,
        &WideningPolicy::default(),
        &budget,
    )
    .ok()?;
    let config = TerminationConfig {
        query_timeout: Duration::from_millis(500),
        ..TerminationConfig::default()
    };
    let loops = check_loops(&insns, &cfg, &|n| fix.entry_of(n).cloned(), &config);
    let bound = longest_path_bound(&cfg, &loops);
    let rejection = loops
        .iter()
        .find_map(|l| l.rejection())
        .or_else(|| match bound {
            Some(b) if b <= KERNEL_INSN_BUDGET => None,
            b => Some(too_large_message(b)),
        });
    Some(Report {
        loops,
        bound,
        rejection,
    })
}

fn program_index(obj: &Object, name: &str) -> Option<usize> {
    obj.programs.iter().position(|p| p.name == name)
}

fn loops_case(name: &str) -> Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/loops")
        .join(format!("{name}.o"));
    let obj = load_object(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let i = program_index(&obj, name).unwrap_or_else(|| panic!("no program {name}"));
    analyse(&obj, i).unwrap_or_else(|| panic!("{name}: no fixpoint"))
}

fn summaries(r: &Report) -> String {
    r.loops
        .iter()
        .map(|l| l.summary())
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn termination_corpus_self_loop_is_an_infinite_loop_at_insn_1() {
    let r = loops_case("self_loop");
    assert_eq!(
        r.rejection.as_deref(),
        Some("infinite loop detected at insn 1"),
        "{}",
        summaries(&r)
    );
}

#[test]
fn termination_corpus_until_random_zero_is_an_infinite_loop_at_insn_1() {
    // The kernel's words: the state after the call repeats exactly.
    let r = loops_case("until_random_zero");
    assert_eq!(
        r.rejection.as_deref(),
        Some("infinite loop detected at insn 1"),
        "{}",
        summaries(&r)
    );
}

#[test]
fn termination_corpus_unknown_bound_terminates_but_is_too_large() {
    let r = loops_case("unknown_bound");
    assert_eq!(r.loops.len(), 1);
    assert!(
        matches!(r.loops[0].outcome, LoopOutcome::Bounded { iterations } if iterations > KERNEL_INSN_BUDGET),
        "{}",
        summaries(&r)
    );
    let msg = r.rejection.unwrap_or_default();
    assert!(
        msg.starts_with("BPF program is too large. Processed 1000001 insn"),
        "{msg}"
    );
}

#[test]
fn termination_corpus_bounded_loops_are_accepted() {
    for (name, most) in [
        ("bounded_sum", 17),
        ("map_array_loop", 17),
        ("map_array_loop_oob", 18),
    ] {
        let r = loops_case(name);
        assert_eq!(r.loops.len(), 1, "{name}");
        assert!(
            matches!(r.loops[0].outcome, LoopOutcome::Bounded { iterations } if iterations <= most),
            "{name}: {}",
            summaries(&r)
        );
        assert_eq!(r.rejection, None, "{name}: {}", summaries(&r));
        assert!(r.bound.is_some_and(|b| b < 1000), "{name}: {:?}", r.bound);
    }
}

#[test]
fn termination_corpus_bpf_loop_callbacks_are_bounded_by_the_kernel() {
    // The CFG loops from the bpf_loop call through the callback and back.
    let r = loops_case("bpf_loop_cb");
    assert_eq!(r.loops.len(), 1, "{}", summaries(&r));
    assert_eq!(r.loops[0].method, "callback-helper");
    assert_eq!(r.rejection, None, "{}", summaries(&r));
}

/// (file, function) -> (kernel verdict, kernel message).
fn kernel_verdicts() -> BTreeMap<(String, String), (String, String)> {
    let text =
        std::fs::read_to_string(Path::new(SAMPLES).join("kernel-verdicts.tsv")).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("file\t"))
    {
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() >= 6 {
            out.insert(
                (c[0].to_string(), c[2].to_string()),
                (c[4].to_string(), c[5].to_string()),
            );
        }
    }
    out
}

fn sample(file: &str, function: &str) -> Option<Report> {
    let obj = load_object(&Path::new(SAMPLES).join(file)).ok()?;
    analyse(&obj, program_index(&obj, function)?)
}

#[test]
fn termination_selftests_loops_match_the_kernel() {
    if !Path::new(SAMPLES).exists() {
        eprintln!("SKIPPED: {SAMPLES} not present");
        return;
    }
    let r = sample("linux-selftests/loop3.o", "while_true").expect("loop3 analysed");
    assert!(r.rejection.is_some(), "loop3: {}", summaries(&r));
    for (file, function) in [
        ("linux-selftests/loop1.o", "nested_loops"),
        ("linux-selftests/loop2.o", "while_true"),
        ("linux-selftests/loop4.o", "combinations"),
        ("linux-selftests/loop5.o", "while_true"),
    ] {
        let r = sample(file, function).expect("analysed");
        assert!(!r.loops.is_empty(), "{file}: no loop found");
        assert_eq!(r.rejection, None, "{file}: {}", summaries(&r));
    }
}

fn all_objects() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(SAMPLES)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "o") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every program with loops: counts agreement with the kernel. Programs the kernel
/// accepts but the termination pass rejects are false alarms; they are listed, and
/// today there are none.
#[test]
fn termination_ebpf_samples_against_kernel_verdicts() {
    if !Path::new(SAMPLES).exists() {
        eprintln!("SKIPPED: {SAMPLES} not present");
        return;
    }
    let verdicts = kernel_verdicts();
    let (mut with_loops, mut agree, mut false_alarms, mut missed) = (0, 0, Vec::new(), Vec::new());
    let mut outcomes: BTreeMap<&'static str, usize> = BTreeMap::new();
    for path in all_objects() {
        let Ok(obj) = load_object(&path) else {
            continue;
        };
        let file = path
            .strip_prefix(SAMPLES)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        for (i, prog) in obj.programs.iter().enumerate() {
            let Some((kv, kmsg)) = verdicts.get(&(file.clone(), prog.name.clone())) else {
                continue;
            };
            let Some(r) = analyse(&obj, i) else { continue };
            if r.loops.is_empty() {
                continue;
            }
            with_loops += 1;
            for l in &r.loops {
                let k = match l.outcome {
                    LoopOutcome::Bounded { .. } => "bounded",
                    LoopOutcome::Terminates => "terminates",
                    LoopOutcome::NonTerminating { .. } => "non-terminating",
                    LoopOutcome::Unknown { .. } => "unknown",
                };
                *outcomes.entry(k).or_default() += 1;
            }
            let kernel_loop_reject = kv == "rejected"
                && (kmsg.contains("infinite loop") || kmsg.contains("program is too large"));
            match (&r.rejection, kv.as_str()) {
                (Some(m), "accepted") => {
                    false_alarms.push(format!("{file} {}: {m} [{}]", prog.name, summaries(&r)))
                }
                (None, _) if kernel_loop_reject => missed.push(format!(
                    "{file} {}: kernel: {kmsg} [{}]",
                    prog.name,
                    summaries(&r)
                )),
                _ => agree += 1,
            }
        }
    }
    eprintln!("programs with loops: {with_loops}, agreeing with the kernel: {agree}, loop outcomes: {outcomes:?}");
    eprintln!(
        "false alarms ({}):\n  {}",
        false_alarms.len(),
        false_alarms.join("\n  ")
    );
    eprintln!(
        "missed loop rejections ({}):\n  {}",
        missed.len(),
        missed.join("\n  ")
    );
    assert!(with_loops > 0);
    // Today no kernel-accepted program is rejected for its loops.
    assert!(
        false_alarms.is_empty(),
        "{} false alarms",
        false_alarms.len()
    );
}
