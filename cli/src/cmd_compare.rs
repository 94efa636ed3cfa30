//! `bpfcheck compare PATH... [--format text|json] [--table] [-j N]`: every program through our
//! analysis and through the live kernel verifier (level-2 log), then per program the two
//! verdicts and how our register states compare in precision with the kernel's
//! (`oracle::compare`), and a summary.
//!
//! Our analysis runs in parallel (rayon); kernel loads run one at a time (a mutex), each
//! as soon as its program's analysis is done, so the two overlap and at most one kernel
//! log is in memory per worker. Needs bpf(2): without it prints `skipped: no bpf()` to
//! stderr and exits 2. Exit code 0 when every verdict agrees with the kernel's, 1 otherwise.
//!
//! `--table` prints instead one tab-separated line per program in file order (`file`,
//! `section`, `function`, `insns`, `ours`, `kernel`, `agreement`, `ours_first_error`,
//! `kernel_first_error`; `kernel` is `not loaded` when the object could not be loaded
//! into this kernel), then the summary lines on stderr.
//!
//! Text output lists programs where we accept and the kernel rejects first, then those we
//! reject and the kernel accepts, programs the kernel could not load, then agreements.
//! The last lines are the summary, `key=value` words easy to grep:
//! `agreement: programs=N both_accept=N both_reject=N ours_accept_kernel_reject=N ...` and
//! `precision: registers=N ours_more_precise=N equal=N kernel_more_precise=N incomparable=N ...`.

use crate::collect::object_files;
use crate::Format;
use analyzer::verify::{verify_program, Config, ProgramResult};
use anyhow::{bail, Result};
use oracle::compare::{Agreement, Precision, ProgramComparison, Summary};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct Options {
    pub paths: Vec<PathBuf>,
    pub format: Format,
    pub jobs: Option<usize>,
    /// Per-program time limit of our analysis, in seconds.
    pub timeout: f64,
    /// Only the program with this function name.
    pub prog: Option<String>,
    /// One TSV line per program instead of the per-program text.
    pub table: bool,
}

pub(crate) fn run(o: &Options) -> Result<ExitCode> {
    if o.format == Format::Sarif {
        bail!("compare prints text or json");
    }
    if !oracle::bpf_available() {
        eprintln!("skipped: no bpf()");
        return Ok(ExitCode::from(2));
    }
    let start = Instant::now();
    let files = object_files(&o.paths)?;
    let mut objects = Vec::new();
    let mut load_errors: Vec<(String, String)> = Vec::new();
    for f in &files {
        match catch_unwind(|| analyzer::elf::load_object(f)) {
            Ok(Ok(obj)) => objects.push(obj),
            Ok(Err(e)) => load_errors.push((f.display().to_string(), e.to_string())),
            Err(_) => load_errors.push((f.display().to_string(), "internal error: the loader panicked".into())),
        }
    }
    let jobs: Vec<(usize, usize)> = objects
        .iter()
        .enumerate()
        .flat_map(|(oi, obj)| {
            obj.programs
                .iter()
                .enumerate()
                .filter(|(_, p)| o.prog.as_ref().is_none_or(|n| &p.name == n))
                .map(move |(pi, _)| (oi, pi))
        })
        .collect();
    let config = Config {
        collect_states: true,
        timeout: Some(Duration::from_secs_f64(o.timeout.max(0.001))),
        ..Config::default()
    };
    let kernel_lock = Mutex::new(());
    let load_opts = oracle::LoadOptions {
        log_level: oracle::LOG_LEVEL2,
        ..oracle::LoadOptions::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(o.jobs.unwrap_or(0))
        .build()?;
    let insn_counts: Vec<usize> = jobs.iter().map(|&(oi, pi)| objects[oi].programs[pi].insns.len()).collect();
    let results: Vec<ProgramComparison> = pool.install(|| {
        jobs.par_iter()
            .map(|&(oi, pi)| {
                let obj = &objects[oi];
                let prog = &obj.programs[pi];
                let ours = catch_unwind(AssertUnwindSafe(|| verify_program(obj, pi, &config)))
                    .unwrap_or_else(|_| panicked(obj, pi));
                let kernel = {
                    let _guard = kernel_lock.lock().unwrap_or_else(|e| e.into_inner());
                    oracle::load_program(obj, prog, &load_opts)
                };
                ProgramComparison::new(&ours, &kernel)
            })
            .collect()
    });
    let summary = Summary::of(&results);
    if o.table {
        print!("{}", table_text(&results, &insn_counts));
        for (f, e) in &load_errors {
            eprintln!("=== {f}: load error: {e}");
        }
        eprint!("{}", summary_text(&summary, load_errors.len()));
        eprintln!("total time {:.2}s", start.elapsed().as_secs_f64());
        return Ok(exit_code(&summary, &load_errors));
    }
    // Stable order: by agreement class (dangerous disagreements first), then file order.
    let mut results = results;
    results.sort_by_key(|c| c.agreement());
    match o.format {
        Format::Json => {
            let v = json!({
                "programs": results.iter().map(program_json).collect::<Vec<_>>(),
                "load_errors": load_errors.iter().map(|(f, e)| json!({"file": f, "error": e})).collect::<Vec<_>>(),
                "summary": summary_json(&summary),
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        _ => {
            for c in &results {
                print!("{}", program_text(c));
            }
            for (f, e) in &load_errors {
                println!("=== {f}: load error: {e}");
            }
            print!("{}", summary_text(&summary, load_errors.len()));
            eprintln!("total time {:.2}s", start.elapsed().as_secs_f64());
        }
    }
    Ok(exit_code(&summary, &load_errors))
}

/// 0 when every verdict agrees with the kernel's and every object loaded, else 1.
fn exit_code(summary: &Summary, load_errors: &[(String, String)]) -> ExitCode {
    let disagreements = summary.ours_accept_kernel_reject + summary.ours_reject_kernel_accept;
    if disagreements == 0 && load_errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Tab-free, one-line version of a message for a TSV cell.
fn tsv_cell(s: Option<&str>) -> String {
    s.unwrap_or("").lines().next().unwrap_or("").replace('\t', " ")
}

/// The `--table` output: a header and one line per program, in the order given.
fn table_text(results: &[ProgramComparison], insns: &[usize]) -> String {
    let mut out = String::from("file\tsection\tfunction\tinsns\tours\tkernel\tagreement\tours_first_error\tkernel_first_error\n");
    for (c, n) in results.iter().zip(insns) {
        out += &format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            c.file,
            c.section,
            c.name,
            n,
            c.ours.as_str(),
            kernel_str(c),
            c.agreement().as_str(),
            tsv_cell(c.ours_error.as_deref()),
            tsv_cell(c.kernel_error.as_deref()),
        );
    }
    out
}

/// The result of a program whose analysis panicked: an error, never a verdict.
fn panicked(obj: &analyzer::object::Object, prog: usize) -> ProgramResult {
    ProgramResult::internal_error(obj, prog, "internal error: the analysis panicked (a bug in bpfcheck)")
}

fn kernel_str(c: &ProgramComparison) -> &'static str {
    match c.kernel {
        Some(true) => "accepted",
        Some(false) => "rejected",
        None => "not loaded",
    }
}

fn percent(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * n as f64 / total as f64
    }
}

fn program_text(c: &ProgramComparison) -> String {
    let mut s = format!("=== {} {}/{}: {}\n", c.file, c.section, c.name, c.agreement().as_str());
    s += &format!("  ours:   {}", c.ours.as_str());
    if let Some(e) = &c.ours_error {
        s += &format!(" ({e})");
    }
    s += &format!("\n  kernel: {}", kernel_str(c));
    if let Some(e) = &c.kernel_error {
        s += &format!(" ({e})");
    }
    s.push('\n');
    if c.states_compared {
        s += &format!(
            "  registers: {} compared at {} pcs: {} ours more precise, {} equal, {} kernel more precise, {} incomparable; pcs only kernel {}, only ours {}\n",
            c.registers_compared,
            c.pcs_compared,
            c.ours_more_precise,
            c.equal,
            c.kernel_more_precise,
            c.incomparable,
            c.pcs_only_kernel,
            c.pcs_only_ours
        );
        for e in c.examples.iter().filter(|e| e.precision != Precision::Equal) {
            s += &format!(
                "    {} at {} R{}: ours {} kernel {}\n",
                e.precision.as_str(),
                e.pc,
                e.reg,
                e.ours,
                e.kernel
            );
        }
    } else if c.kernel.is_some() {
        s += "  registers: not compared (no complete level-2 kernel log)\n";
    }
    s
}

fn summary_text(s: &Summary, load_errors: usize) -> String {
    let p = &s.precision;
    let mut out = String::from("\n");
    out += &format!(
        "agreement: programs={} both_accept={} both_reject={} ours_accept_kernel_reject={} ours_reject_kernel_accept={} no_kernel_verdict={} ours_errors={} load_errors={}\n",
        s.programs,
        s.both_accept,
        s.both_reject,
        s.ours_accept_kernel_reject,
        s.ours_reject_kernel_accept,
        s.no_kernel_verdict,
        s.ours_errors,
        load_errors
    );
    out += &format!(
        "precision: programs_with_states={} registers={} ours_more_precise={} equal={} kernel_more_precise={} incomparable={} pcs_compared={} pcs_only_kernel={} pcs_only_ours={}\n",
        s.programs_with_states,
        p.registers_compared,
        p.ours_more_precise,
        p.equal,
        p.kernel_more_precise,
        p.incomparable,
        p.pcs_compared,
        p.pcs_only_kernel,
        p.pcs_only_ours
    );
    let r = p.registers_compared;
    out += &format!(
        "precision %: ours more precise {:.1}%, equal {:.1}%, kernel more precise {:.1}%, incomparable {:.1}%\n",
        percent(p.ours_more_precise, r),
        percent(p.equal, r),
        percent(p.kernel_more_precise, r),
        percent(p.incomparable, r)
    );
    out
}

fn program_json(c: &ProgramComparison) -> Value {
    json!({
        "file": c.file,
        "section": c.section,
        "name": c.name,
        "agreement": c.agreement().as_str(),
        "ours": c.ours.as_str(),
        "ours_error": c.ours_error,
        "kernel": c.kernel.map(|a| if a { "accepted" } else { "rejected" }),
        "kernel_error": c.kernel_error,
        "states_compared": c.states_compared,
        "registers_compared": c.registers_compared,
        "ours_more_precise": c.ours_more_precise,
        "equal": c.equal,
        "kernel_more_precise": c.kernel_more_precise,
        "incomparable": c.incomparable,
        "pcs_compared": c.pcs_compared,
        "pcs_only_kernel": c.pcs_only_kernel,
        "pcs_only_ours": c.pcs_only_ours,
        "examples": c.examples.iter().map(|e| json!({
            "pc": e.pc,
            "reg": e.reg,
            "precision": e.precision.as_str(),
            "ours": e.ours,
            "kernel": e.kernel,
        })).collect::<Vec<_>>(),
    })
}

fn summary_json(s: &Summary) -> Value {
    let p = &s.precision;
    let mut agreement = serde_json::Map::new();
    for a in Agreement::ALL {
        agreement.insert(a.as_str().to_string(), json!(s.of_agreement(a)));
    }
    json!({
        "programs": s.programs,
        "agreement": agreement,
        "ours_errors": s.ours_errors,
        "programs_with_states": s.programs_with_states,
        "precision": {
            "registers_compared": p.registers_compared,
            "ours_more_precise": p.ours_more_precise,
            "equal": p.equal,
            "kernel_more_precise": p.kernel_more_precise,
            "incomparable": p.incomparable,
            "pcs_compared": p.pcs_compared,
            "pcs_only_kernel": p.pcs_only_kernel,
            "pcs_only_ours": p.pcs_only_ours,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines_are_key_value() {
        let s = Summary {
            programs: 3,
            both_accept: 2,
            both_reject: 1,
            ..Summary::default()
        };
        let t = summary_text(&s, 0);
        let line = t.lines().find(|l| l.starts_with("agreement:")).expect("agreement line");
        assert!(line.contains("programs=3 both_accept=2 both_reject=1 ours_accept_kernel_reject=0"));
        let j = summary_json(&s);
        assert_eq!(j["agreement"]["both_accept"], 2);
        assert_eq!(percent(1, 4), 25.0);
        assert_eq!(percent(1, 0), 0.0);
    }
}
