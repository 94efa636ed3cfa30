//! Discharging diagnostics on the corpus: the kernel's packet, map value and NULL rejections get
//! counterexamples that replay on the interpreter, and a false alarm of the abstract domain on an
//! infeasible path is proved.

use analyzer::diag::{DiagCode, Diagnostic};
use analyzer::discharge::{counterexample, discharge_program, DischargeConfig, DischargeOutcome};
use analyzer::elf::load_object;
use analyzer::insn::parse_program;
use analyzer::object::{MapDef, MapOrigin, Object, Program};
use analyzer::prog_type::ProgType;
use analyzer::{verify_program, Config, Verdict};
use std::path::{Path, PathBuf};

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("corpus").join(rel)
}

/// The outcomes of every supported diagnostic of every program of a corpus object.
fn discharge_file(rel: &str) -> Vec<(analyzer::diag::Diagnostic, DischargeOutcome)> {
    let obj = load_object(&corpus(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut out = Vec::new();
    for i in 0..obj.programs.len() {
        let r = verify_program(&obj, i, &Config::default());
        out.extend(discharge_program(&obj, i, &r, &DischargeConfig::default()));
    }
    out
}

const REAL_BUGS: &[&str] = &[
    "packet/no_check.o",
    "packet/check_too_small.o",
    "map_value/off_by_one.o",
    "map_value/negative_off.o",
    "map_value/no_null_check.o",
    "map_value/array_var_key_no_null_check.o",
    "map_value/var_index_off_by_one.o",
    "map_value/var_index_unchecked.o",
    "refs/ringbuf_no_null_check.o",
    "refs/ringbuf_use_after_submit.o",
    "atomics/map_value_or_null_atomic.o",
    "scalar_deref/null_const.o",
    "uninit/caller_saved_after_call.o",
];

#[test]
fn kernel_rejected_corpus_programs_have_replayed_counterexamples() {
    for rel in REAL_BUGS {
        let outcomes = discharge_file(rel);
        assert!(!outcomes.is_empty(), "{rel}: no supported diagnostic");
        let replayed = outcomes
            .iter()
            .filter(|(_, o)| matches!(o, DischargeOutcome::Counterexample(c) if c.replayed))
            .count();
        assert!(replayed > 0, "{rel}: {outcomes:#?}");
    }
}

/// Every `.o` of the corpus, sorted.
fn corpus_objects() -> Vec<String> {
    let mut out = Vec::new();
    let root = corpus("");
    for dir in std::fs::read_dir(&root).expect("corpus dir").flatten() {
        let Ok(files) = std::fs::read_dir(dir.path()) else { continue };
        for f in files.flatten() {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "o") {
                if let Ok(rel) = p.strip_prefix(&root) {
                    out.push(rel.to_string_lossy().into_owned());
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_corpus_counterexample_replays() {
    let (mut cex, mut proved, mut unknown) = (0, 0, 0);
    for rel in corpus_objects() {
        let Ok(obj) = load_object(&corpus(&rel)) else { continue };
        for i in 0..obj.programs.len() {
            let r = verify_program(&obj, i, &Config::default());
            for (d, o) in discharge_program(&obj, i, &r, &DischargeConfig::default()) {
                eprintln!("{rel} pc {} {}: {o:?}", d.pc, d.code.as_str());
                match o {
                    DischargeOutcome::Counterexample(c) => {
                        assert!(c.replayed, "{rel} pc {} {}: {c:#?}", d.pc, d.code.as_str());
                        cex += 1;
                    }
                    DischargeOutcome::Proved => proved += 1,
                    DischargeOutcome::Unknown(_) => unknown += 1,
                }
            }
        }
    }
    eprintln!("counterexamples {cex}, proved {proved}, unknown {unknown}");
    assert!(cex >= REAL_BUGS.len(), "only {cex} counterexamples");
}

/// An XDP program with one array map (`value_size` 10, one entry) written as text.
fn xdp_object(text: &str) -> Object {
    Object {
        path: "text".into(),
        license: Some("GPL".into()),
        kern_version: None,
        maps: vec![MapDef {
            name: "arr".into(),
            map_type: 2,
            key_size: 4,
            value_size: 10,
            max_entries: 1,
            map_flags: 0,
            inner: None,
            origin: MapOrigin::BtfMaps,
            initial_value: None,
            btf_key_type_id: 0,
            btf_value_type_id: 0,
        }],
        programs: vec![Program {
            section: "xdp".into(),
            name: "prog".into(),
            prog_type: ProgType::Xdp,
            expected_attach_type: None,
            insns: parse_program(text).unwrap_or_else(|e| panic!("{e}")),
            functions: vec![(0, "prog".into())],
            line_info: Default::default(),
        }],
        btf: None,
        parsed_btf: Default::default(),
    }
}

/// `r7 = random u32; r8 = r7 * 2; if r8 < 20 { value[r7] }`: the interval domain does not relate
/// r7 to r8, so it reports an out-of-bounds map value access that no run can perform.
const CORRELATED: &str = "
    call bpf_get_prandom_u32
    w7 = w0
    r8 = r7
    r8 <<= 1
    *(u32 *)(r10 -4) = 0
    r1 = map[idx:0]
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem
    if r0 == 0 goto pc+3
    if r8 >= 20 goto pc+2
    r0 += r7
    r1 = *(u8 *)(r0 +0)
    r0 = 2
    exit
";

fn single_diag(obj: &Object, code: DiagCode) -> Diagnostic {
    let r = verify_program(obj, 0, &Config::default());
    assert_eq!(r.verdict, Verdict::Rejected, "{:?}", r.diagnostics);
    r.diagnostics.iter().find(|d| d.code == code).cloned().unwrap_or_else(|| panic!("{:?}", r.diagnostics))
}

#[test]
fn false_alarm_on_correlated_registers_is_proved() {
    let obj = xdp_object(CORRELATED);
    let d = single_diag(&obj, DiagCode::MapValueAccess);
    assert_eq!(d.pc, 13);
    assert_eq!(counterexample(&obj, 0, &d, &DischargeConfig::default()), DischargeOutcome::Proved);
}

#[test]
fn the_same_program_with_a_wider_bound_has_a_counterexample() {
    // `r8 < 22` lets r7 = 10 through: one byte past the 10-byte value.
    let obj = xdp_object(&CORRELATED.replace("r8 >= 20", "r8 >= 22"));
    let d = single_diag(&obj, DiagCode::MapValueAccess);
    match counterexample(&obj, 0, &d, &DischargeConfig::default()) {
        DischargeOutcome::Counterexample(c) => {
            assert!(c.replayed, "{c:#?}");
            assert_eq!(c.inputs.helper_returns.first().map(|v| v & 0xffff_ffff), Some(10));
            assert_eq!(c.description.get("lookup#1 map=arr").map(|s| s.starts_with("hit")), Some(true));
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn a_loop_unrolled_far_enough_yields_its_last_iteration_bug() {
    let obj = load_object(&corpus("loops/map_array_loop_oob.o")).expect("loads");
    let r = verify_program(&obj, 0, &Config::default());
    let d = r.diagnostics.iter().find(|d| d.code == DiagCode::MapValueAccess).expect("diagnostic").clone();
    // Too few unrollings: never Proved, only Unknown.
    assert!(matches!(counterexample(&obj, 0, &d, &DischargeConfig::default()), DischargeOutcome::Unknown(_)));
    let deep = DischargeConfig { unroll: 80, max_paths: 4096, ..DischargeConfig::default() };
    match counterexample(&obj, 0, &d, &deep) {
        DischargeOutcome::Counterexample(c) => assert!(c.replayed, "{c:#?}"),
        o => panic!("{o:?}"),
    }
}

#[test]
fn unsupported_codes_and_permission_rules_are_unknown() {
    let obj = xdp_object(CORRELATED);
    let stack = Diagnostic::new(3, DiagCode::StackAccess, "invalid write to stack");
    assert!(matches!(counterexample(&obj, 0, &stack, &DischargeConfig::default()), DischargeOutcome::Unknown(_)));
    let perm = Diagnostic::new(13, DiagCode::PacketAccess, "cannot write into packet");
    assert!(matches!(counterexample(&obj, 0, &perm, &DischargeConfig::default()), DischargeOutcome::Unknown(_)));
}

#[test]
fn discharge_program_answers_each_diagnostic_once_per_pc_and_code() {
    let obj = load_object(&corpus("packet/no_check.o")).expect("loads");
    let r = verify_program(&obj, 0, &Config::default());
    let out = discharge_program(&obj, 0, &r, &DischargeConfig::default());
    assert_eq!(out.len(), r.diagnostics.iter().filter(|d| analyzer::discharge::supported(d.code)).count());
    assert!(out.len() >= 2);
    assert!(out.windows(2).all(|w| w[0].1 == w[1].1 || w[0].0.pc != w[1].0.pc));
}

#[test]
fn uninitialised_helper_argument_has_a_counterexample() {
    // The first call clobbers R1-R5: the lookup reads an uninitialised R1.
    let obj = xdp_object("call bpf_ktime_get_ns\ncall bpf_map_lookup_elem\nr0 = 2\nexit");
    let d = single_diag(&obj, DiagCode::UninitRegister);
    assert_eq!(d.pc, 1);
    match counterexample(&obj, 0, &d, &DischargeConfig::default()) {
        DischargeOutcome::Counterexample(c) => assert!(c.replayed, "{c:#?}"),
        o => panic!("{o:?}"),
    }
}

const SAMPLES: &str = "/work/shared/ebpf-samples/build";

/// The small hand-written real-world objects: every counterexample replays, and the known false
/// alarms are proved (`correlated_branch.o`: a packet check on one branch of a diamond, used after
/// the join; `mapvalue-overrun.o`/`invalid_map_access.o`: lookups of key 1 in a one-entry array,
/// which always miss, so the overrunning access is unreachable, though the kernel rejects it).
#[test]
fn sample_counterexamples_replay_and_known_false_alarms_are_proved() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(SAMPLES)
        .expect("samples directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    files.sort();
    let mut proved = Vec::new();
    let mut cex = 0;
    for f in &files {
        let Ok(obj) = load_object(f) else { continue };
        for i in 0..obj.programs.len() {
            let r = verify_program(&obj, i, &Config::default());
            for (d, o) in discharge_program(&obj, i, &r, &DischargeConfig::default()) {
                match o {
                    DischargeOutcome::Counterexample(c) => {
                        assert!(c.replayed, "{} pc {}: {c:#?}", f.display(), d.pc);
                        cex += 1;
                    }
                    DischargeOutcome::Proved => {
                        proved.push(f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
                    }
                    DischargeOutcome::Unknown(_) => {}
                }
            }
        }
    }
    assert!(cex >= 3, "{cex} counterexamples");
    for name in ["correlated_branch.o", "mapvalue-overrun.o", "invalid_map_access.o"] {
        assert!(proved.iter().any(|p| p == name), "{name} not proved: {proved:?}");
    }
}

#[test]
fn a_violation_needing_a_large_packet_is_found() {
    // Only packets of at least 8000 bytes reach the unchecked read at offset 9000.
    let text = "
        r2 = *(u32 *)(r1 +0)
        r3 = *(u32 *)(r1 +4)
        r4 = r3
        r4 -= r2
        if r4 < 8000 goto pc+3
        r2 += 9000
        r0 = *(u8 *)(r2 +0)
        r0 = 2
        exit
    ";
    let obj = xdp_object(text);
    let d = single_diag(&obj, DiagCode::PacketAccess);
    match counterexample(&obj, 0, &d, &DischargeConfig::default()) {
        DischargeOutcome::Counterexample(c) => {
            assert!(c.replayed, "{c:#?}");
            assert!((8000..=9000).contains(&c.inputs.packet.len()), "{}", c.inputs.packet.len());
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn proven_loop_bounds_make_the_search_complete() {
    // smt/loop_then_correlated: a correlated false alarm after an 8-iteration loop.
    let obj = load_object(&corpus("smt/loop_then_correlated.o")).expect("loads");
    let r = verify_program(&obj, 0, &Config::default());
    let d = r.diagnostics.iter().find(|d| d.code == DiagCode::InvalidMemAccess || d.code == DiagCode::MapValueAccess);
    let d = d.unwrap_or_else(|| panic!("{:?}", r.diagnostics)).clone();
    let bounds = analyzer::discharge::loop_bounds_of(&r);
    assert_eq!(bounds.values().copied().collect::<Vec<_>>(), vec![8], "{:?}", r.stats.loops);
    // Four unrollings of an 8-iteration loop: incomplete.
    assert!(matches!(counterexample(&obj, 0, &d, &DischargeConfig::default()), DischargeOutcome::Unknown(_)));
    // Unrolled as far as the proven bound: every path covered, the alarm is false.
    let with_bounds = DischargeConfig::default().with_loop_bounds(&r);
    assert_eq!(counterexample(&obj, 0, &d, &with_bounds), DischargeOutcome::Proved);
    // A bound too large for the budget falls back to unrolling (and stays incomplete).
    let capped = DischargeConfig { max_bounded_visits: 4, ..with_bounds };
    assert!(matches!(counterexample(&obj, 0, &d, &capped), DischargeOutcome::Unknown(_)));
}

#[test]
fn a_wrong_loop_bound_is_not_trusted_past_the_unrolling_when_capped_and_cuts_paths_when_used() {
    // The bound is what makes the search complete: claiming 2 iterations for the 16-iteration
    // loop of map_array_loop_oob hides the last iteration's bug (so bounds must come from the
    // termination prover), while the true bound (from verify) finds it.
    let obj = load_object(&corpus("loops/map_array_loop_oob.o")).expect("loads");
    let r = verify_program(&obj, 0, &Config::default());
    let d = r.diagnostics.iter().find(|d| d.code == DiagCode::MapValueAccess).expect("diagnostic").clone();
    let proven = DischargeConfig { max_paths: 4096, ..DischargeConfig::default() }.with_loop_bounds(&r);
    assert!(!proven.loop_bounds.is_empty(), "{:?}", r.stats.loops);
    match counterexample(&obj, 0, &d, &proven) {
        DischargeOutcome::Counterexample(c) => assert!(c.replayed, "{c:#?}"),
        o => panic!("{o:?}"),
    }
    let lie = DischargeConfig { loop_bounds: proven.loop_bounds.keys().map(|&pc| (pc, 2)).collect(), ..proven };
    assert_eq!(counterexample(&obj, 0, &d, &lie), DischargeOutcome::Proved);
}

#[test]
fn the_real_bug_of_the_smt_family_has_a_small_replayed_counterexample() {
    let obj = load_object(&corpus("smt/pkt_index_oob.o")).expect("loads");
    let r = verify_program(&obj, 0, &Config::default());
    let d = r.diagnostics.iter().find(|d| d.code == DiagCode::MapValueAccess).expect("diagnostic").clone();
    match counterexample(&obj, 0, &d, &DischargeConfig::default()) {
        DischargeOutcome::Counterexample(c) => {
            assert!(c.replayed, "{c:#?}");
            assert_eq!(c.inputs.packet.first(), Some(&16));
            assert!(c.inputs.packet.len() <= 64, "{}", c.inputs.packet.len());
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn the_query_cache_answers_a_repeated_query() {
    use analyzer::discharge::{counterexample_cached, QueryCache};
    let obj = xdp_object(CORRELATED);
    let d = single_diag(&obj, DiagCode::MapValueAccess);
    let cache = QueryCache::new();
    let cfg = DischargeConfig::default();
    assert_eq!(counterexample_cached(&obj, 0, &d, &cfg, &cache), (DischargeOutcome::Proved, false));
    assert_eq!(counterexample_cached(&obj, 0, &d, &cfg, &cache), (DischargeOutcome::Proved, true));
    assert_eq!((cache.hits(), cache.len()), (1, 1));
}

/// A false alarm (pc 14, as in [`CORRELATED`]), then an unchecked packet read (pc 17) or, on the
/// other branch, a read of the uninitialised r9 (pc 19).
const ALARM_THEN_TWO_BUGS: &str = "
    r6 = r1
    call bpf_get_prandom_u32
    w7 = w0
    r8 = r7
    r8 <<= 1
    *(u32 *)(r10 -4) = 0
    r1 = map[idx:0]
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem
    if r0 == 0 goto pc+3
    if r8 >= 20 goto pc+2
    r0 += r7
    r1 = *(u8 *)(r0 +0)
    r2 = *(u32 *)(r6 +0)
    if r7 == 5 goto pc+2
    r3 = *(u8 *)(r2 +0)
    goto pc+1
    r0 = r9
    r0 = 2
    exit
";

#[test]
fn discharge_mode_stops_at_the_first_error_and_full_mode_decides_every_obligation() {
    use analyzer::discharge::{obligations, QueryCache};
    use analyzer::verify::{discharge_with, SmtMode};
    let obj = xdp_object(ALARM_THEN_TWO_BUGS);
    let r = verify_program(&obj, 0, &Config::default());
    let pcs: Vec<usize> = obligations(&r).iter().map(|d| d.pc).collect();
    assert_eq!(pcs, vec![14, 17, 19], "{:?}", r.diagnostics);
    // discharge: the alarm is proved, the first real error gets its counterexample, then stop.
    let mut first = r.clone();
    discharge_with(&obj, 0, &mut first, SmtMode::Discharge, &QueryCache::new());
    let s = first.stats.smt.clone().expect("smt stats");
    assert_eq!((s.queries, s.proved, s.refuted, s.unknown), (2, 1, 1, 0), "{s:?}");
    assert_eq!(first.verdict, Verdict::Rejected);
    let with_cex: Vec<usize> = first.diagnostics.iter().filter(|d| d.counterexample.is_some()).map(|d| d.pc).collect();
    assert!(!with_cex.is_empty() && with_cex.iter().all(|&pc| pc == 17), "{with_cex:?}");
    assert!(first.diagnostics.iter().all(|d| d.pc != 14));
    // full: every obligation, each real error with a replayed counterexample.
    let cache = QueryCache::new();
    let mut full = r.clone();
    discharge_with(&obj, 0, &mut full, SmtMode::Full, &cache);
    let s = full.stats.smt.clone().expect("smt stats");
    assert_eq!((s.queries, s.proved, s.refuted, s.unknown, s.cached), (3, 1, 2, 0, 0), "{s:?}");
    for pc in [17, 19] {
        assert!(
            full.diagnostics.iter().any(|d| d.pc == pc && d.counterexample.as_ref().is_some_and(|c| c.replayed)),
            "{:?}",
            full.diagnostics
        );
    }
    // The same program again in the same run: every query from the cache.
    let mut again = r.clone();
    discharge_with(&obj, 0, &mut again, SmtMode::Full, &cache);
    assert_eq!(again.stats.smt.map(|s| (s.queries, s.cached)), Some((3, 3)));
    // off leaves the result alone.
    let mut off = r.clone();
    discharge_with(&obj, 0, &mut off, SmtMode::Off, &cache);
    assert!(off.stats.smt.is_none());
    assert_eq!(off.diagnostics.len(), r.diagnostics.len());
}
