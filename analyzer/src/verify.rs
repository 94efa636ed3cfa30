//! The library's entry point: `verify_program` takes one loaded program to a verdict.
//!
//! Phases: decode -> CFG (inlined calls) -> fixpoint (invariants per block) ->
//! check pass (every instruction re-run on its final invariant; diagnostics
//! collected, invariants untouched) -> `ProgramResult`. Nothing here does I/O, and a
//! malformed program gives a result with verdict `Error`, never a panic.

use crate::analysis::EbpfAnalysis;
use crate::findings::RecordingAnalysis;
use crate::cfg::{build_cfg, CfgConfig};
use crate::diag::{DiagCode, Diagnostic};
use crate::exec::Env;
use crate::fixpoint::{solve, Budget, WideningPolicy};
use crate::insn::{decode, print::print_log_insn, Insn, Operand};
use crate::object::{LineInfo, Object, Program};
use crate::state::disjunct::StateSet;
use crate::state::reg::RegDisplay;
use crate::state::{AbsState, RegState, StackSlot};
use lattices::{Lattice, Thresholds};
use serde::Serialize;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How to run the analysis.
#[derive(Clone, Debug)]
pub struct Config {
    /// Most basic-block visits of the fixpoint before giving up (`Complexity`).
    pub max_node_visits: u64,
    /// Wall-clock limit per program.
    pub timeout: Option<Duration>,
    /// Keep the per-instruction states (for level-2 logs and JSON).
    pub collect_states: bool,
    pub widening: WideningPolicy,
    /// Most live heap bytes the analysis of one program may hold (its thread's allocations
    /// since the start of its fixpoint); enforced only when the binary installs
    /// [`crate::fixpoint::mem_budget::CountingAlloc`] as its global allocator.
    pub max_memory: Option<u64>,
    /// Walk each loop as the kernel does when the fixpoint reaches it
    /// (`termination::abstract_unroll::Unroller::seed`): a walk that ends is the loop's
    /// analysis, one that repeats a covered state seeds the loop's fixpoint; off: every
    /// loop goes through the widening fixpoint from its entry state alone.
    pub seed_loops: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_node_visits: 2_000_000,
            timeout: Some(Duration::from_secs(10)),
            collect_states: false,
            widening: WideningPolicy::default(),
            max_memory: Some(2 << 30),
            seed_loops: true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    Rejected,
    /// The program could not be analysed (malformed, budget exceeded); never "safe".
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Rejected => "rejected",
            Verdict::Error => "error",
        }
    }
}

/// One instruction as the analysis saw it, for logs.
#[derive(Clone, Debug, Serialize)]
pub struct InsnTrace {
    pub pc: usize,
    /// Call depth of the frame instance (0 = main).
    pub depth: usize,
    /// Kernel-syntax text, without the `pc: ` prefix.
    pub text: String,
    /// State after the instruction in the kernel's notation (`R0=1 R10=fp0 fp-8=mmmmmmmm`),
    /// empty when no path continues.
    pub state_after: String,
    /// State before, for the error report.
    pub state_before: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub insns: usize,
    /// What the log's `processed N insns` line prints: the instructions of the reachable
    /// blocks, each counted once (or the fixpoint's block visits, if more). Stable under
    /// changes of the iteration strategy; `insns_processed` counts the work.
    pub processed: u64,
    pub node_visits: u64,
    /// Instructions executed by the fixpoint over all block visits, one per member state
    /// of the visited state set (the kernel's "processed N insns" counts the same way).
    #[serde(skip)]
    pub insns_processed: u64,
    /// Abstract states kept at block entries at the fixpoint (members of the state sets).
    #[serde(skip)]
    pub states: u64,
    pub blocks: usize,
    #[serde(skip)]
    pub time: Duration,
    /// One line per loop: its proven iteration bound, or why it is rejected.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub loops: Vec<String>,
    /// Per loop (head pc): its proven iteration bound, `None` when unbounded or not proved
    /// (`bpf_loop`-style callback loops, bounded by the kernel at run time, are `None`).
    /// The SMT discharge unrolls bounded loops this far.
    #[serde(skip)]
    pub loop_bounds: Vec<(usize, Option<u64>)>,
    /// With `--smt discharge`: what Z3 did with the diagnostics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smt: Option<SmtStats>,
}

/// What the SMT backend does with the diagnostics of the abstract interpretation (termination
/// proofs always run).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtMode {
    /// The domains' diagnostics as they are.
    #[default]
    Off,
    /// The kernel's view: diagnostics in pc order until the first one Z3 does not prove a false
    /// alarm (that first error gets a replayed counterexample when Z3 finds one); proved alarms
    /// are removed, and a program whose every alarm is proved becomes accepted. 2 s per query.
    Discharge,
    /// Every obligation: each diagnostic is proved false, given a replayed counterexample, or
    /// left unknown, with 10x the time (20 s per query), 4x the paths and deeper unrolling.
    Full,
}

impl SmtMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtMode::Off => "off",
            SmtMode::Discharge => "discharge",
            SmtMode::Full => "full",
        }
    }

    /// The mode named `off`, `discharge` or `full`.
    pub fn from_name(name: &str) -> Option<SmtMode> {
        [SmtMode::Off, SmtMode::Discharge, SmtMode::Full].into_iter().find(|m| m.as_str() == name)
    }

    /// The search bounds of this mode (`Off` has none to use; it gets `discharge`'s).
    pub fn discharge_config(self) -> crate::discharge::DischargeConfig {
        match self {
            SmtMode::Full => crate::discharge::DischargeConfig::full(),
            SmtMode::Off | SmtMode::Discharge => crate::discharge::DischargeConfig::default(),
        }
    }
}

/// What the SMT discharge did for one program.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SmtStats {
    /// Obligations decided (each (pc, code) once), cached ones included.
    pub queries: u64,
    /// Diagnostics shown infeasible (false alarms), removed from the result.
    pub proved: u64,
    /// Diagnostics with a concrete counterexample.
    pub refuted: u64,
    pub unknown: u64,
    /// Queries answered by the run's query cache.
    pub cached: u64,
    #[serde(skip)]
    pub time: Duration,
    /// The removed false alarms, as `pc: message`.
    pub proved_messages: Vec<String>,
}

/// [`discharge_with`] in mode `discharge`, with a cache of its own.
pub fn discharge(obj: &Object, index: usize, res: &mut ProgramResult) {
    discharge_with(obj, index, res, SmtMode::Discharge, &crate::discharge::QueryCache::new());
}

/// Applies the SMT backend to a result (see [`SmtMode`]): a diagnostic it decides is either
/// proved infeasible (removed; listed in `stats.smt`), given a counterexample the concrete
/// interpreter replays, or left as it is (unknown is never safe). A program whose every
/// diagnostic is proved infeasible becomes accepted. Loops bounded by the termination pass are
/// unrolled as far as their bound. `cache` is shared by every program of a run.
pub fn discharge_with(obj: &Object, index: usize, res: &mut ProgramResult, mode: SmtMode, cache: &crate::discharge::QueryCache) {
    use crate::discharge::{counterexample_cached, obligations, supported, DischargeOutcome};
    use rayon::prelude::*;
    if mode == SmtMode::Off || res.verdict != Verdict::Rejected {
        return;
    }
    let t = Instant::now();
    let config = mode.discharge_config().with_loop_bounds(res);
    let outcomes: Vec<(Diagnostic, DischargeOutcome, bool)> = match mode {
        SmtMode::Full => obligations(res)
            .into_par_iter()
            .map(|d| {
                let (o, hit) = counterexample_cached(obj, index, &d, &config, cache);
                (d, o, hit)
            })
            .collect(),
        _ => {
            // The first error in pc order, after the alarms proved false before it.
            let mut firsts: Vec<&Diagnostic> = Vec::new();
            for d in &res.diagnostics {
                if !firsts.iter().any(|f| f.pc == d.pc && f.code == d.code) {
                    firsts.push(d);
                }
            }
            firsts.sort_by_key(|d| d.pc);
            let mut out = Vec::new();
            for d in firsts {
                if !supported(d.code) {
                    break;
                }
                let (o, hit) = counterexample_cached(obj, index, d, &config, cache);
                let proved = o == DischargeOutcome::Proved;
                out.push((d.clone(), o, hit));
                if !proved {
                    break;
                }
            }
            out
        }
    };
    let mut stats = SmtStats {
        queries: outcomes.len() as u64,
        cached: outcomes.iter().filter(|(_, _, hit)| *hit).count() as u64,
        ..SmtStats::default()
    };
    for (_, o, _) in &outcomes {
        match o {
            DischargeOutcome::Proved => stats.proved += 1,
            DischargeOutcome::Counterexample(_) => stats.refuted += 1,
            DischargeOutcome::Unknown(_) => stats.unknown += 1,
        }
    }
    let mut keep = Vec::new();
    for d in std::mem::take(&mut res.diagnostics) {
        match outcomes.iter().find(|(od, _, _)| od.pc == d.pc && od.code == d.code).map(|(_, o, _)| o) {
            Some(DischargeOutcome::Proved) => {
                stats.proved_messages.push(format!("{}: {}", d.pc, d.message));
            }
            Some(DischargeOutcome::Counterexample(c)) => {
                keep.push(Diagnostic {
                    counterexample: Some(crate::diag::CounterexampleInfo {
                        inputs: c.description.clone(),
                        replayed: c.replayed,
                        replay_outcome: c.replay_outcome.clone(),
                    }),
                    ..d
                });
            }
            Some(DischargeOutcome::Unknown(_)) | None => keep.push(d),
        }
    }
    res.diagnostics = keep;
    if res.diagnostics.is_empty() && res.error.is_none() {
        res.verdict = Verdict::Accepted;
    }
    stats.time = t.elapsed();
    res.stats.smt = Some(stats);
}

/// The analysis result of one program.
#[derive(Clone, Debug, Serialize)]
pub struct ProgramResult {
    pub file: String,
    pub section: String,
    pub name: String,
    pub prog_type: String,
    pub verdict: Verdict,
    pub diagnostics: Vec<Diagnostic>,
    /// For `Error`: why the program could not be analysed.
    pub error: Option<String>,
    /// Per-instruction states, when `Config::collect_states`.
    pub trace: Vec<InsnTrace>,
    /// The state before the first error, in the kernel's notation.
    pub error_state: Option<String>,
    /// For each pc with a diagnostic, in pc order: the state (one path's, in the kernel's
    /// notation) before the instruction that first raised it.
    #[serde(skip)]
    pub error_states: Vec<(usize, String)>,
    pub stats: Stats,
    #[serde(skip)]
    pub line_info: std::sync::Arc<Vec<LineInfo>>,
    /// Each instruction in the log's syntax, by pc: filled when states are collected or
    /// the program has diagnostics (empty for an accepted program analysed without states).
    #[serde(skip)]
    pub insn_text: Vec<String>,
}

impl ProgramResult {
    fn new(obj: &Object, prog: &Program) -> ProgramResult {
        ProgramResult {
            file: obj.path.clone(),
            section: prog.section.clone(),
            name: prog.name.clone(),
            prog_type: prog.prog_type.name().to_string(),
            verdict: Verdict::Error,
            diagnostics: Vec::new(),
            error: None,
            trace: Vec::new(),
            error_state: None,
            error_states: Vec::new(),
            stats: Stats { insns: prog.insns.len(), ..Stats::default() },
            line_info: prog.line_info.clone(),
            insn_text: Vec::new(),
        }
    }

    /// The result of a program that could not be analysed (e.g. the analysis panicked):
    /// verdict `Error`, never a verdict on the program.
    pub fn internal_error(obj: &Object, index: usize, message: impl Into<String>) -> ProgramResult {
        let mut r = match obj.programs.get(index) {
            Some(p) => ProgramResult::new(obj, p),
            None => ProgramResult::new(
                obj,
                &Program {
                    section: String::new(),
                    name: format!("#{index}"),
                    prog_type: crate::prog_type::ProgType::Unspec,
                    expected_attach_type: None,
                    insns: Vec::new(),
                    functions: Vec::new(),
                    line_info: Default::default(),
                },
            ),
        };
        r.line_info = Default::default();
        r.error = Some(message.into());
        r
    }

    /// The source line of an instruction.
    pub fn line_for(&self, pc: usize) -> Option<&LineInfo> {
        match self.line_info.binary_search_by_key(&pc, |l| l.pc) {
            Ok(i) => Some(&self.line_info[i]),
            Err(0) => None,
            Err(i) => Some(&self.line_info[i - 1]),
        }
    }
}

/// Constants of the program that make good widening thresholds.
fn thresholds_of(insns: &[Insn], obj: &Object) -> Thresholds {
    let mut v: BTreeSet<u64> = BTreeSet::new();
    for i in insns {
        let imm = match i {
            Insn::Jmp { src: Operand::Imm(imm), .. } => Some(*imm),
            Insn::Alu { src: Operand::Imm(imm), .. } => Some(*imm),
            _ => None,
        };
        if let Some(imm) = imm {
            let x = imm as i64;
            for d in [-1i64, 0, 1] {
                v.insert(x.wrapping_add(d) as u64);
                v.insert((x.wrapping_add(d) as u32) as u64);
            }
        }
    }
    for m in &obj.maps {
        v.insert(m.value_size as u64);
        v.insert(m.max_entries as u64);
    }
    Thresholds::from_constants(v)
}

/// Formats one state in the kernel's notation.
pub fn state_text(s: &AbsState, obj: &Object) -> String {
    let maps: Vec<(String, u32, u32)> = obj.maps.iter().map(|m| (m.name.clone(), m.key_size, m.value_size)).collect();
    let mut parts = Vec::new();
    let depth = s.depth();
    for (d, f) in s.frames.iter().enumerate() {
        let prefix = if depth > 0 { format!("frame{d}: ") } else { String::new() };
        let mut fparts = Vec::new();
        for (i, r) in f.regs.iter().enumerate() {
            if !r.is_init() {
                continue;
            }
            let pkt_range = match r {
                RegState::Ptr(p) => Some(s.pkt_range(crate::exec::range_key(p))),
                _ => None,
            };
            fparts.push(format!("R{i}={}", RegDisplay { reg: r, maps: &maps, pkt_range }));
        }
        for (idx, slot) in f.stack.slots.iter().rev() {
            let off = *idx as i64 * 8;
            let text = match slot {
                StackSlot::Spill(r) => format!("{}", RegDisplay { reg: r, maps: &maps, pkt_range: None }),
                StackSlot::Bytes(b) | StackSlot::Narrow { bytes: b, .. } => b.iter().rev().map(|x| x.letter()).collect(),
            };
            if text != "????????" {
                fparts.push(format!("fp{off}={text}"));
            }
        }
        if !fparts.is_empty() {
            parts.push(format!("{prefix}{}", fparts.join(" ")));
        }
    }
    parts.join(" ")
}

fn set_text(set: &StateSet, obj: &Object) -> String {
    match set.states.len() {
        0 => String::new(),
        1 => state_text(&set.states[0], obj),
        _ => {
            let mut it = set.states.iter();
            let first = it.next().expect("non-empty");
            let joined = it.fold(first.clone(), |a, b| if a.frames.len() == b.frames.len() { a.join(b) } else { a });
            state_text(&joined, obj)
        }
    }
}

/// Verifies every program of an object.
pub fn verify_object(obj: &Object, config: &Config) -> Vec<ProgramResult> {
    (0..obj.programs.len()).map(|i| verify_program(obj, i, config)).collect()
}

/// Verifies program `index` of `obj`.
pub fn verify_program(obj: &Object, index: usize, config: &Config) -> ProgramResult {
    verify_program_with_invariants(obj, index, config).0
}

/// Verifies program `index` of `obj` and also returns, when `config.collect_states`,
/// the invariant before each pc (the join over frame instances of the states that
/// reach it; None for unreachable pcs). Used by the soundness checker.
pub fn verify_program_with_invariants(obj: &Object, index: usize, config: &Config) -> (ProgramResult, Vec<Option<StateSet>>) {
    let Some(prog) = obj.programs.get(index) else {
        let dummy = Program {
            section: String::new(),
            name: format!("#{index}"),
            prog_type: crate::prog_type::ProgType::Unspec,
            expected_attach_type: None,
            insns: Vec::new(),
            functions: Vec::new(),
            line_info: Default::default(),
        };
        let mut r = ProgramResult::new(obj, &dummy);
        r.error = Some(format!("no program #{index}"));
        return (r, Vec::new());
    };
    // Typed ctx arguments (tp_btf, fentry, lsm, iter, struct_ops) for this program.
    let _btf_ctx = crate::abi::btf_ctx::AttachScope::for_program(obj, prog);
    let (mut res, invariants) = verify_linked(obj, prog, config, None);
    // The instruction texts are for logs: every program's with states, else a rejected
    // program's (its level-1 log); printing them is a third of a small program's time.
    if res.insn_text.is_empty() && !res.diagnostics.is_empty() {
        res.insn_text = insn_texts(prog);
    }
    (res, invariants)
}

/// Each instruction in the kernel's log syntax, by pc.
fn insn_texts(prog: &Program) -> Vec<String> {
    (0..prog.insns.len()).map(|pc| print_log_insn(&prog.insns, pc)).collect()
}

/// Verifies one linked program, or (with `as_global`) a global function on its own
/// from its BTF prototype's arguments.
fn verify_linked(
    obj: &Object,
    prog: &Program,
    config: &Config,
    as_global: Option<&[crate::global_funcs::ParamKind]>,
) -> (ProgramResult, Vec<Option<StateSet>>) {
    let start = Instant::now();
    let mut res = ProgramResult::new(obj, prog);
    let insns = match decode(&prog.insns) {
        Ok(i) => i,
        Err(e) => {
            res.error = Some(e.to_string());
            res.verdict = Verdict::Rejected;
            res.diagnostics.push(Diagnostic::new(decode_pc(&e), DiagCode::Unsupported, e.to_string()));
            res.stats.time = start.elapsed();
            return (res, Vec::new());
        }
    };
    if config.collect_states {
        res.insn_text = insn_texts(prog);
    }
    let intrinsics: Vec<(usize, crate::exec::Intrinsic)> = prog
        .functions
        .iter()
        .filter(|(start, _)| *start != 0)
        .filter_map(|(start, name)| crate::exec::Intrinsic::from_name(name).map(|i| (*start, i)))
        .collect();
    // Global functions are verified on their own and called as black boxes (when their
    // code can be analysed separately; otherwise they stay inlined).
    let globals: Vec<(crate::global_funcs::GlobalFunc, Program)> = crate::global_funcs::global_functions(obj, prog)
        .into_iter()
        .filter_map(|g| crate::global_funcs::sub_program(prog, &insns, g.start).map(|p| (g, p)))
        .collect();
    let mut opaque: Vec<usize> = intrinsics.iter().map(|(pc, _)| *pc).collect();
    opaque.extend(globals.iter().map(|(g, _)| g.start));
    let cfg_config = CfgConfig { opaque_functions: opaque, reject_unreachable: as_global.is_none(), ..CfgConfig::default() };
    let cfg = match build_cfg(&insns, &cfg_config) {
        Ok(c) => c,
        Err(e) => {
            // Structural errors are rejections, as in the kernel.
            res.verdict = Verdict::Rejected;
            res.diagnostics.push(Diagnostic::new(e.pc().unwrap_or(0), DiagCode::Unsupported, e.to_string()));
            res.stats.time = start.elapsed();
            return (res, Vec::new());
        }
    };
    // Inner maps of map-in-maps get their own indices after the object's maps.
    let mut maps = obj.maps.clone();
    let mut inner_maps = vec![None; obj.maps.len()];
    for (i, m) in obj.maps.iter().enumerate() {
        if let Some(inner) = &m.inner {
            maps.push((**inner).clone());
            inner_maps[i] = Some((maps.len() - 1) as u32);
        }
    }
    let env = Env {
        attach: prog.expected_attach_type,
        gpl: is_gpl(obj.license.as_deref()),
        intrinsics,
        inner_maps,
        global_funcs: globals.iter().map(|(g, _)| (g.start, g.params.clone())).collect(),
        is_global_entry: as_global.is_some(),
        ..Env::privileged(prog.prog_type, &maps, &insns)
    };
    let analysis = EbpfAnalysis {
        entry: as_global.map(crate::global_funcs::entry_state).unwrap_or_else(AbsState::entry),
        // Thresholds serve widening at loop heads only: none without loops.
        ..EbpfAnalysis::new(env, &cfg, if cfg.wto.components().next().is_some() { thresholds_of(&insns, obj) } else { Thresholds::none() })
    };
    let _mem = crate::fixpoint::mem_budget::limit_scope(config.max_memory);
    let budget = Budget {
        max_node_visits: config.max_node_visits,
        deadline: config.timeout.map(|t| start + t),
    };
    // The solver's last visit of each block runs on the block's final entry state: what it
    // finds is the check (see `findings`), no second pass needed.
    let all_loops = cfg.loops();
    let unrollable = crate::termination::unrollable_loops(&insns, &cfg, &all_loops);
    let unroller = crate::termination::abstract_unroll::Unroller::new(&cfg, &all_loops, |l| {
        config.seed_loops && unrollable.contains(&l.head)
    });
    let recording = RecordingAnalysis::new(&analysis, cfg.graph.node_count()).with_unroller(&unroller);
    let solved = solve(&cfg.graph, cfg.entry, &cfg.wto, &recording, &config.widening, &budget);
    let (findings, insns_processed) = recording.into_findings();
    res.stats.insns_processed = insns_processed;
    let fix = match solved {
        Ok(f) => f,
        Err(crate::fixpoint::FixpointError::MemoryLimit { bytes, visits }) => {
            // Our limit, not the program's fault: no verdict.
            res.verdict = Verdict::Error;
            res.error = Some(format!(
                "memory limit of {} MiB exceeded ({} MiB) after {visits} block visits",
                config.max_memory.unwrap_or(0) >> 20,
                bytes >> 20
            ));
            res.stats.time = start.elapsed();
            return (res, Vec::new());
        }
        Err(crate::fixpoint::FixpointError::DeadlinePassed { visits }) => {
            // Our limit, not the program's fault: no verdict.
            res.verdict = Verdict::Error;
            res.error = Some(format!(
                "time limit of {:.3}s exceeded after {visits} block visits",
                config.timeout.map(|t| t.as_secs_f64()).unwrap_or(0.0)
            ));
            res.stats.time = start.elapsed();
            return (res, Vec::new());
        }
        Err(e) => {
            res.verdict = Verdict::Rejected;
            res.diagnostics.push(Diagnostic::new(
                0,
                DiagCode::Complexity,
                format!("BPF program is too complex for the analysis budget ({e})"),
            ));
            res.stats.time = start.elapsed();
            return (res, Vec::new());
        }
    };
    res.stats.node_visits = fix.stats.node_visits;
    // Termination: every loop must be proven to end, and the longest path must fit the
    // kernel's instruction budget.
    let mut loop_diags = Vec::new();
    if cfg.wto.components().next().is_some() {
        // Z3 queries share the program's time limit.
        let mut tconfig = crate::termination::TerminationConfig::default();
        if let Some(t) = config.timeout {
            let left = t.saturating_sub(start.elapsed());
            tconfig.query_timeout = tconfig.query_timeout.min(left.max(Duration::from_millis(10)));
        }
        let unroll = |lp: &crate::cfg::Loop| unroller.head_visits(&analysis, lp, &|n| fix.exit_of(n).cloned());
        let loops = crate::termination::check_loops_with(&insns, &cfg, &|n| fix.entry_of(n).cloned(), Some(&unroll), &tconfig);
        if config.timeout.is_some_and(|t| start.elapsed() > t) {
            res.verdict = Verdict::Error;
            res.error = Some(format!(
                "time limit of {:.3}s exceeded while proving loops terminate",
                config.timeout.map(|t| t.as_secs_f64()).unwrap_or(0.0)
            ));
            res.stats.time = start.elapsed();
            return (res, Vec::new());
        }
        for l in &loops {
            res.stats.loops.push(l.summary());
            let bound = match l.outcome {
                crate::termination::LoopOutcome::Bounded { iterations } if l.method != "callback-helper" => Some(iterations),
                _ => None,
            };
            res.stats.loop_bounds.push((l.head_pc, bound));
            if let Some(msg) = l.rejection() {
                loop_diags.push(Diagnostic::new(l.head_pc, DiagCode::Termination, msg));
            }
        }
        if loop_diags.is_empty() {
            let bound = crate::termination::longest_path_bound(&cfg, &loops);
            if bound.is_none_or(|b| b > crate::termination::KERNEL_INSN_BUDGET) {
                let pc = loops.first().map(|l| l.head_pc).unwrap_or(0);
                loop_diags.push(Diagnostic::new(pc, DiagCode::Termination, crate::termination::too_large_message(bound)));
            }
        }
    }
    res.stats.blocks = cfg.graph.node_count();
    // The check: every reachable block's findings on its final entry state, in WTO order.
    // Diagnostics in pc order, and at one pc in the order the checks raised them.
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut first_err_state: Option<(usize, &AbsState)> = None;
    let mut error_states: Vec<(usize, &AbsState)> = Vec::new();
    let mut per_pc_after: Vec<Option<StateSet>> = vec![None; insns.len()];
    let mut per_pc_before: Vec<Option<StateSet>> = vec![None; insns.len()];
    let mut processed = 0u64;
    // Deepest stack use per function (start pc), for the kernel's combined-size check.
    let mut stack_depth: std::collections::BTreeMap<usize, i64> = std::collections::BTreeMap::new();
    for n in cfg.wto.order() {
        let Some(entry) = fix.entry_of(*n) else { continue };
        if entry.is_bottom() {
            continue;
        }
        let block = &cfg.graph[*n];
        processed += (block.end - block.start + 1) as u64;
        let func = cfg.frames.get(block.frame).map(|f| f.func_start).unwrap_or(0);
        res.stats.states += entry.states.len() as u64;
        let Some(found) = findings.get(n.index()) else { continue };
        let d = stack_depth.entry(func).or_insert(0);
        *d = (*d).max(found.stack_depth);
        if let Some((pc, st)) = &found.first_error {
            if first_err_state.is_none_or(|(p, _)| *pc < p) {
                first_err_state = Some((*pc, st));
            }
        }
        for (pc, st) in &found.error_states {
            if !error_states.iter().any(|(p, _)| p == pc) {
                error_states.push((*pc, st));
            }
        }
        for d in &found.diags {
            if !diags.contains(d) {
                diags.push(d.clone());
            }
        }
        if config.collect_states {
            // The states for the log: the block once more on its final entry.
            analysis.run_block(block, entry, |pc, before, step| {
                let b = per_pc_before[pc].get_or_insert_with(StateSet::bottom);
                b.add(before.clone());
                if let Some(o) = &step.out {
                    per_pc_after[pc].get_or_insert_with(StateSet::bottom).add(o.clone());
                }
            });
        }
    }
    let first_err_state = first_err_state.map(|(pc, st)| (pc, state_text(st, obj)));
    res.error_states = error_states.into_iter().map(|(pc, st)| (pc, state_text(st, obj))).collect();
    res.stats.processed = processed.max(fix.stats.node_visits);
    if let Some(d) = combined_stack_error(&cfg, &stack_depth) {
        diags.push(d);
    }
    if config.collect_states {
        for pc in 0..insns.len() {
            let Some(before) = &per_pc_before[pc] else { continue };
            let depth = before.states.first().map(|s| s.depth()).unwrap_or(0);
            res.trace.push(InsnTrace {
                pc,
                depth,
                text: res.insn_text[pc].clone(),
                state_after: per_pc_after[pc].as_ref().map(|s| set_text(s, obj)).unwrap_or_default(),
                state_before: set_text(before, obj),
            });
        }
    }
    diags.extend(loop_diags);
    // Each global function, verified on its own; its findings at its pcs.
    for (g, sub) in &globals {
        let (sub_res, _) = verify_linked(obj, sub, config, Some(&g.params));
        if config.collect_states {
            // The body's invariants live in its own analysis (at depth 0, from the
            // prototype). Here, at any call depth, record the trivial invariant (every
            // register NOT_INIT contains any value), so consumers do not mistake the
            // body for unreachable; its own analysis is what checks it.
            for pc in g.start..(g.start + sub.insns.len()).min(per_pc_before.len()) {
                if per_pc_before[pc].is_none() {
                    let mut set = StateSet::bottom();
                    for depth in 1..crate::state::MAX_CALL_FRAMES {
                        let mut st = AbsState::entry();
                        st.frames = (0..=depth)
                            .map(|d| {
                                let mut f = crate::state::Frame::new(d as u8);
                                f.regs = [RegState::NotInit; 11];
                                f
                            })
                            .collect();
                        set.add(st);
                    }
                    per_pc_before[pc] = Some(set);
                }
            }
        }
        for d in sub_res.diagnostics {
            diags.push(Diagnostic { pc: d.pc + g.start, ..d });
        }
        res.error_states.extend(sub_res.error_states.into_iter().map(|(pc, st)| (pc + g.start, st)));
        if let Some(e) = sub_res.error {
            res.error = Some(format!("global function {}: {e}", g.name));
        }
        res.stats.loops.extend(sub_res.stats.loops);
        res.stats.insns_processed += sub_res.stats.insns_processed;
        res.stats.states += sub_res.stats.states;
        res.stats.loop_bounds.extend(sub_res.stats.loop_bounds.iter().map(|&(pc, b)| (pc + g.start, b)));
    }
    diags.sort_by_key(|d| d.pc);
    res.diagnostics = diags;
    res.error_states.sort_by_key(|(pc, _)| *pc);
    res.error_state = first_err_state.map(|(_, s)| s);
    res.verdict = if res.diagnostics.is_empty() { Verdict::Accepted } else { Verdict::Rejected };
    res.stats.time = start.elapsed();
    (res, per_pc_before)
}

/// The kernel's `check_max_stack_depth`: along every call chain, the frames' stack
/// depths (each rounded up to 16 bytes, as with the JIT) may total at most 512 bytes.
fn combined_stack_error(cfg: &crate::cfg::Cfg, depth: &std::collections::BTreeMap<usize, i64>) -> Option<Diagnostic> {
    let round = |d: i64| (d.max(1) + 15) / 16 * 16;
    for f in &cfg.frames {
        // The chain: this instance's function and the functions of its callers.
        let mut total = round(depth.get(&f.func_start).copied().unwrap_or(0));
        let mut calls = 1;
        for (i, site) in f.call_sites.iter().enumerate() {
            let caller_start = if i == 0 {
                0
            } else {
                cfg.frames
                    .iter()
                    .find(|g| g.call_sites.as_slice() == &f.call_sites[..i])
                    .map(|g| g.func_start)
                    .unwrap_or(0)
            };
            let _ = site;
            total += round(depth.get(&caller_start).copied().unwrap_or(0));
            calls += 1;
        }
        if total > crate::state::stack::MAX_BPF_STACK {
            return Some(Diagnostic::new(
                f.call_sites.last().copied().unwrap_or(0),
                DiagCode::StackAccess,
                format!("combined stack size of {calls} calls is {total}. Too large"),
            ));
        }
    }
    None
}

/// The kernel's `license_is_gpl_compatible`; objects without a license are loaded as GPL
/// (what the reference loader did).
fn is_gpl(license: Option<&str>) -> bool {
    match license {
        None => true,
        Some(l) => matches!(
            l.trim_end_matches('\0'),
            "GPL" | "GPL v2" | "GPL and additional rights" | "Dual BSD/GPL" | "Dual MIT/GPL" | "Dual MPL/GPL"
        ),
    }
}

fn decode_pc(e: &crate::insn::DecodeError) -> usize {
    e.pc().unwrap_or(0)
}
