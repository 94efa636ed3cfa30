//! Discharging diagnostics by bounded model checking: is a reported violation a real bug (here is
//! an input that triggers it, replayed on the concrete interpreter) or a false alarm of the
//! abstract domain (no path to the pc can violate the check)?
//!
//! For one [`Diagnostic`], [`counterexample`] enumerates paths of the program's CFG from the entry
//! to `diag.pc` (depth-first; each loop with an iteration bound proved by the termination pass,
//! [`DischargeConfig::loop_bounds`], run as often as that bound allows, which keeps the search
//! complete; any other loop unrolled at most [`DischargeConfig::unroll`] times; at most
//! [`DischargeConfig::max_paths`] arrivals at the pc), encodes each path in Z3 (`sym`: registers
//! as 64-bit vectors, ctx/packet/stack/map values as byte arrays, `data_end = data + pkt_len`, map
//! lookups with a fresh hit bit, helper results fresh in call order) together with the
//! *violation* at the pc (packet or map value access out of bounds, NULL or scalar dereference,
//! uninitialised register), and:
//! - a satisfiable path gives a [`Counterexample`]: a `ConcreteInput` built from the model, run
//!   through `interp::run`; `replayed` says whether the run faulted as predicted;
//! - every path unsatisfiable, with no path cut short, gives [`DischargeOutcome::Proved`];
//! - anything else (budget, timeout, an instruction the encoding does not cover) gives
//!   [`DischargeOutcome::Unknown`] with the reason: "unknown" never counts as safe.
//!
//! Supported diagnostic codes: [`DiagCode::PacketAccess`], [`DiagCode::MapValueAccess`],
//! [`DiagCode::NullDereference`], [`DiagCode::InvalidMemAccess`], [`DiagCode::UninitRegister`].
//! "Proved" means: no concrete run (with the interpreter's semantics, earlier faults stopping the
//! run) reaches the pc in a violating state. It says nothing of the kernel's own typing rules (a
//! packet offset whose variable part may be negative is rejected even when the sum is in bounds):
//! the program is safe, the kernel may still refuse it. Permission diagnostics ("cannot write
//! into packet") are not memory-safety properties and always give `Unknown`.

mod cache;
mod search;
mod sym;

pub use cache::{query_key, QueryCache};

use crate::cfg::{build_cfg, CfgConfig};
use crate::diag::{DiagCode, Diagnostic};
use crate::insn::decode;
use crate::interp::{run, ConcreteInput, FaultKind, InterpLimits, InterpProgram, Outcome};
use crate::object::Object;
use crate::verify::ProgramResult;
use rayon::prelude::*;
use search::{Found, Limits};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use sym::{Env, SymState};
use z3::ast::BV;
use z3::Model;

/// Bounds of the search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DischargeConfig {
    /// Times each block may repeat on one path (loop unrolling bound) in loops without a usable
    /// proven bound.
    pub unroll: u32,
    /// Arrivals at the diagnostic's pc explored before giving up.
    pub max_paths: usize,
    /// Wall-clock budget of one diagnostic (all its solver calls).
    pub timeout: Duration,
    /// Satisfying paths tried when a counterexample does not replay.
    pub max_attempts: usize,
    /// Iteration bounds proved by the termination pass (body runs per entry), by loop head pc;
    /// see [`loop_bounds_of`].
    pub loop_bounds: BTreeMap<usize, u64>,
    /// Most visits of one block a proven bound may ask for (the product of `bound + 1` over its
    /// enclosing loops); larger bounds fall back to `unroll`, and the search stays incomplete.
    pub max_bounded_visits: u64,
}

impl Default for DischargeConfig {
    fn default() -> Self {
        DischargeConfig {
            unroll: 4,
            max_paths: 256,
            timeout: Duration::from_secs(2),
            max_attempts: 4,
            loop_bounds: BTreeMap::new(),
            max_bounded_visits: 65,
        }
    }
}

impl DischargeConfig {
    /// The bounds of `--smt full`: ten times the time, four times the paths, deeper unrolling.
    pub fn full() -> DischargeConfig {
        DischargeConfig {
            unroll: 8,
            max_paths: 1024,
            timeout: Duration::from_secs(20),
            max_attempts: 8,
            loop_bounds: BTreeMap::new(),
            max_bounded_visits: 257,
        }
    }

    /// This config with the proven loop bounds of `result` (see [`loop_bounds_of`]).
    pub fn with_loop_bounds(mut self, result: &ProgramResult) -> DischargeConfig {
        self.loop_bounds = loop_bounds_of(result);
        self
    }
}

/// The proven iteration bounds of a verified program, by loop head pc: a head pc appears when
/// every instance of its loop (one per inlined call site) is bounded, with the largest bound.
pub fn loop_bounds_of(result: &ProgramResult) -> BTreeMap<usize, u64> {
    let mut out: BTreeMap<usize, Option<u64>> = BTreeMap::new();
    for &(pc, bound) in &result.stats.loop_bounds {
        let e = out.entry(pc).or_insert(Some(0));
        *e = match (*e, bound) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    out.into_iter().filter_map(|(pc, b)| b.map(|b| (pc, b))).collect()
}

/// An input that triggers the violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    pub inputs: ConcreteInput,
    /// Human-readable facts of the input: `"packet_len" -> "13"`, `"ctx[0..4]" -> "0x..."`,
    /// `"helper#1 return" -> "0x0"`, `"lookup#1 map=name" -> "miss"`.
    pub description: BTreeMap<String, String>,
    /// The interpreter faulted at the diagnostic's pc, or with the fault kind of its code.
    pub replayed: bool,
    /// How the replay ended (`interp::Outcome` as text).
    pub replay_outcome: String,
}

/// The verdict on one diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DischargeOutcome {
    /// The violation is infeasible: a false alarm of the abstract interpretation.
    Proved,
    Counterexample(Counterexample),
    /// Neither: the reason.
    Unknown(String),
}

/// Whether [`counterexample`] handles diagnostics of this code.
pub fn supported(code: DiagCode) -> bool {
    matches!(
        code,
        DiagCode::PacketAccess
            | DiagCode::MapValueAccess
            | DiagCode::NullDereference
            | DiagCode::InvalidMemAccess
            | DiagCode::UninitRegister
    )
}

/// Decides whether `diag`, reported on program `index` of `obj`, is a real bug or a false alarm.
pub fn counterexample(obj: &Object, index: usize, diag: &Diagnostic, config: &DischargeConfig) -> DischargeOutcome {
    if !supported(diag.code) {
        return DischargeOutcome::Unknown(format!("diagnostic code {} is not supported", diag.code.as_str()));
    }
    if diag.message.contains("cannot write") {
        return DischargeOutcome::Unknown(format!("'{}' is a permission rule, not a memory-safety property", diag.message));
    }
    let Some(prog) = obj.programs.get(index) else {
        return DischargeOutcome::Unknown(format!("no program {index}"));
    };
    let insns = match decode(&prog.insns) {
        Ok(i) => i,
        Err(e) => return DischargeOutcome::Unknown(format!("decode: {e}")),
    };
    let cfg = match build_cfg(&insns, &CfgConfig::default()) {
        Ok(c) => c,
        Err(e) => return DischargeOutcome::Unknown(format!("cfg: {e}")),
    };
    let interp = match InterpProgram::from_object(obj, prog) {
        Ok(p) => p,
        Err(e) => return DischargeOutcome::Unknown(format!("decode: {e}")),
    };
    let env = Env {
        maps: &obj.maps,
        prog_type: prog.prog_type,
        ctx_size: u64::from(crate::abi::ctx_size(prog.prog_type)),
    };
    let limits = Limits {
        max_paths: config.max_paths,
        unroll: config.unroll,
        deadline: Instant::now() + config.timeout,
        loop_bounds: config.loop_bounds.clone(),
        max_bounded_visits: config.max_bounded_visits,
    };
    let mut first: Option<Counterexample> = None;
    let mut attempts = 0usize;
    let mut accept = |model: &Model, state: &SymState| -> bool {
        attempts += 1;
        let (inputs, description) = build_input(&env, obj, model, state);
        let exec = run(&interp, &inputs, &InterpLimits { max_steps: 1_000_000, ..InterpLimits::default() });
        let replayed = match &exec.outcome {
            Outcome::Fault { pc, kind, .. } => *pc == diag.pc || kind_matches(diag.code, *kind),
            _ => false,
        };
        let cex = Counterexample { inputs, description, replayed, replay_outcome: exec.outcome.to_string() };
        if replayed || first.is_none() {
            first = Some(cex);
        }
        replayed || attempts >= config.max_attempts.max(1)
    };
    let found = search::search(&env, &insns, &cfg, diag, &limits, &mut accept);
    match (found, first) {
        (Found::Accepted | Found::Rejected, Some(c)) => DischargeOutcome::Counterexample(c),
        (Found::Infeasible, _) => DischargeOutcome::Proved,
        (Found::Incomplete(why), _) => DischargeOutcome::Unknown(why),
        (_, None) => DischargeOutcome::Unknown("no model".into()),
    }
}

/// [`counterexample`] through the run's query cache; also says whether the cache answered.
pub fn counterexample_cached(
    obj: &Object,
    index: usize,
    diag: &Diagnostic,
    config: &DischargeConfig,
    cache: &QueryCache,
) -> (DischargeOutcome, bool) {
    let key = query_key(obj, index, diag, config);
    if let Some(hit) = key.and_then(|k| cache.get(k)) {
        return (hit, true);
    }
    let outcome = counterexample(obj, index, diag, config);
    if let Some(k) = key {
        cache.insert(k, outcome.clone());
    }
    (outcome, false)
}

/// The interpreter fault kinds a diagnostic code corresponds to.
fn kind_matches(code: DiagCode, kind: FaultKind) -> bool {
    match code {
        DiagCode::PacketAccess | DiagCode::MapValueAccess => kind == FaultKind::OutOfBounds,
        DiagCode::NullDereference => kind == FaultKind::NullDeref,
        DiagCode::InvalidMemAccess => matches!(kind, FaultKind::NullDeref | FaultKind::ScalarDeref),
        DiagCode::UninitRegister => kind == FaultKind::UninitRegister,
        _ => false,
    }
}

fn eval_u64(m: &Model, x: &BV) -> u64 {
    m.eval(x, true).and_then(|v| v.as_u64()).unwrap_or(0)
}

fn eval_bytes(m: &Model, arr: &z3::ast::Array, n: u64) -> Vec<u8> {
    (0..n)
        .map(|i| {
            let b = arr.select(&sym::lit(i)).as_bv().unwrap_or_else(|| BV::from_u64(0, 8));
            eval_u64(m, &b) as u8
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    let mut s = String::from("0x");
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// The concrete input of a model: ctx and packet bytes, map entries of lookup hits (with
/// `lookup_misses` set so that every other lookup misses), helper results in call order.
fn build_input(env: &Env<'_>, obj: &Object, m: &Model, st: &SymState) -> (ConcreteInput, BTreeMap<String, String>) {
    let mut desc = BTreeMap::new();
    let ctx_len = env.ctx_size.min(4096);
    let ctx = eval_bytes(m, &sym::input_ctx(), ctx_len);
    // Lengths past 64 KiB are truncated: such a counterexample will not replay.
    let len = eval_u64(m, &sym::pkt_len()).min(1 << 16);
    let packet = eval_bytes(m, &sym::input_pkt(), len);
    desc.insert("packet_len".to_string(), len.to_string());
    if !packet.is_empty() {
        desc.insert(format!("packet[0..{len}]"), hex(&packet));
    }
    for (i, chunk) in ctx.chunks(4).enumerate() {
        if chunk.iter().any(|&b| b != 0) {
            desc.insert(format!("ctx[{}..{}]", 4 * i, 4 * i + chunk.len()), hex(chunk));
        }
    }
    let mut helper_returns = Vec::new();
    for (i, (id, v)) in st.returns.iter().enumerate() {
        let x = eval_u64(m, v);
        helper_returns.push(x);
        let name = crate::insn::helper_names::helper_name(*id).unwrap_or("unknown");
        desc.insert(format!("helper#{} return ({name})", i + 1), format!("{x:#x}"));
    }
    let mut map_values = BTreeMap::new();
    let mut nlookup = 0;
    for b in st.bufs.iter().filter(|b| !b.mem) {
        let name = obj.maps.get(b.map as usize).map_or("?", |d| d.name.as_str());
        let value = if b.value_size <= 4096 {
            eval_bytes(m, &b.initial, u64::from(b.value_size))
        } else {
            // Large values: only the bytes the path loaded matter; the rest are zero.
            let mut v = vec![0u8; b.value_size as usize];
            for idx in &b.reads {
                let i = eval_u64(m, idx);
                let byte = b.initial.select(idx).as_bv().map_or(0, |x| eval_u64(m, &x) as u8);
                if let Some(slot) = usize::try_from(i).ok().and_then(|i| v.get_mut(i)) {
                    *slot = byte;
                }
            }
            v
        };
        match (&b.key, &b.hit) {
            (Some(key), Some(hit)) => {
                nlookup += 1;
                let key: Vec<u8> = key.iter().map(|k| eval_u64(m, k) as u8).collect();
                let is_hit = m.eval(hit, true).and_then(|h| h.as_bool()).unwrap_or(false);
                let what = format!("lookup#{nlookup} map={name}");
                if is_hit {
                    desc.insert(what, format!("hit key={}", hex(&key)));
                    map_values.insert((b.map, key), value);
                } else {
                    desc.insert(what, format!("miss key={}", hex(&key)));
                }
            }
            _ => {
                // Global data: the one entry, key 0, with the model's contents.
                let key_size = obj.maps.get(b.map as usize).map_or(4, |d| d.key_size as usize);
                desc.insert(format!("global map={name}"), hex(&value));
                map_values.insert((b.map, vec![0u8; key_size]), value);
            }
        }
    }
    let inputs = ConcreteInput { ctx, packet, map_values, lookup_misses: true, helper_returns, seed: 0 };
    (inputs, desc)
}

/// The diagnostics of `result` that [`counterexample`] handles, one per (pc, code), in pc order.
pub fn obligations(result: &ProgramResult) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    for d in result.diagnostics.iter().filter(|d| supported(d.code)) {
        if !out.iter().any(|o| o.pc == d.pc && o.code == d.code) {
            out.push(d.clone());
        }
    }
    out.sort_by_key(|d| d.pc);
    out
}

/// [`counterexample`] for every supported diagnostic of `result` (program `index` of `obj`), in
/// parallel, with the loop bounds of `result` added to `config`; diagnostics with the same
/// (pc, code) are decided once.
pub fn discharge_program(
    obj: &Object,
    index: usize,
    result: &ProgramResult,
    config: &DischargeConfig,
) -> Vec<(Diagnostic, DischargeOutcome)> {
    let config = config.clone().with_loop_bounds(result);
    let decided: BTreeMap<(usize, DiagCode), DischargeOutcome> = obligations(result)
        .par_iter()
        .map(|d| ((d.pc, d.code), counterexample(obj, index, d, &config)))
        .collect();
    result
        .diagnostics
        .iter()
        .filter_map(|d| decided.get(&(d.pc, d.code)).map(|o| (d.clone(), o.clone())))
        .collect()
}
