//! `bpfcheck verify`: every program of every object analysed in parallel (rayon),
//! each with its own time limit; a crash in one program is that program's error.
//! Exit code 0 when every program is accepted, 1 when any is rejected or fails.

use crate::collect::object_files;
use crate::Format;
use analyzer::verify::{verify_program, Config, ProgramResult, SmtMode, Verdict};
use clap::ValueEnum;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub(crate) struct Options {
    pub paths: Vec<PathBuf>,
    pub log_level: u8,
    pub format: Format,
    pub jobs: Option<usize>,
    pub timeout: f64,
    pub prog: Option<String>,
    pub timings: bool,
    pub table: bool,
    pub smt: crate::SmtMode,
    /// Per-program memory limit in MiB (0: none).
    pub memory_limit: u64,
}

pub(crate) fn run(o: &Options) -> Result<ExitCode> {
    let files = object_files(&o.paths)?;
    let start = Instant::now();
    // The kernel's BTF and its name indexes are built once, on first use; building them
    // on a thread of their own overlaps them with object loading instead of stalling the
    // first programs that need them (and, with -j > 1, the threads waiting on them).
    std::thread::spawn(|| {
        let _ = analyzer::elf::vmlinux::kernel_types_named("");
        let _ = analyzer::abi::btf_access::kernel();
    });
    let pool = rayon::ThreadPoolBuilder::new().num_threads(o.jobs.unwrap_or(0)).build()?;
    let config = Config {
        // JSON and SARIF need only the failing paths' states, which every analysis records.
        collect_states: o.log_level >= 1,
        timeout: Some(Duration::from_secs_f64(o.timeout.max(0.0))),
        max_memory: (o.memory_limit > 0).then_some(o.memory_limit << 20),
        ..Config::default()
    };
    // The bar's length grows as objects load.
    let bar = if std::io::stderr().is_terminal() && files.len() > 1 {
        let b = ProgressBar::new(0);
        b.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}").expect("valid template"));
        Some(b)
    } else {
        None
    };
    let smt = smt_mode(o.smt);
    // One query cache for the whole run, shared by the threads.
    let cache = analyzer::discharge::QueryCache::new();
    // Objects load and programs run in one pipeline: a free thread loads the next object
    // (largest file first) while any is left, then analyses the largest program left, so
    // no thread waits for the others' last loads; results come back in file and program
    // order.
    let file_size = |f: &std::path::PathBuf| std::fs::metadata(f).map_or(0, |m| m.len() as usize);
    let load = |f: &std::path::PathBuf| match catch_unwind(|| analyzer::elf::load_object(f)) {
        Ok(Ok(obj)) => Ok(obj),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("internal error: the loader panicked".to_string()),
    };
    let tasks = |obj: &analyzer::object::Object| -> Vec<(usize, usize)> {
        let ts: Vec<(usize, usize)> = obj
            .programs
            .iter()
            .enumerate()
            .filter(|(_, p)| o.prog.as_ref().is_none_or(|n| &p.name == n))
            .map(|(pi, p)| (pi, expected_cost(p)))
            .collect();
        if let Some(b) = &bar {
            b.inc_length(ts.len() as u64);
        }
        ts
    };
    let run = |obj: &analyzer::object::Object, pi: usize| {
        let r = catch_unwind(AssertUnwindSafe(|| {
            let mut r = verify_program(obj, pi, &config);
            analyzer::verify::discharge_with(obj, pi, &mut r, smt, &cache);
            r
        }))
        .unwrap_or_else(|_| panicked(obj, pi));
        if let Some(b) = &bar {
            b.inc(1);
        }
        r
    };
    let done = crate::schedule::load_then_largest_first(&pool, &files, file_size, load, tasks, run);
    let mut objects = Vec::new();
    let mut load_errors: Vec<(String, String)> = Vec::new();
    let mut results: Vec<ProgramResult> = Vec::new();
    for (f, (loaded, rs)) in files.iter().zip(done) {
        match loaded {
            Ok(obj) => objects.push(obj),
            Err(e) => load_errors.push((f.display().to_string(), e)),
        }
        results.extend(rs);
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let elapsed = start.elapsed();
    match o.format {
        Format::Json => {
            let v = reports::json::json_report(&results, &load_errors, &reports::json::JsonOptions { timings: o.timings });
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Sarif => {
            let v = reports::sarif::sarif_report(&results, &load_errors);
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Text => {
            if o.log_level > 0 {
                for r in &results {
                    if r.verdict != Verdict::Accepted || o.log_level >= 2 {
                        println!("=== {} {}/{}", r.file, r.section, r.name);
                        print!("{}", reports::kernel_log::kernel_log(r, o.log_level));
                    }
                }
            }
            if o.table {
                print_table(&results, &objects);
            } else {
                print!("{}", reports::summary::text_report(&results, &load_errors, o.timings));
            }
            eprint!("{}", reports::summary::summary_table(&results, load_errors.len(), true));
            eprintln!("total time {:.2}s", elapsed.as_secs_f64());
        }
    }
    let all_ok = load_errors.is_empty() && results.iter().all(|r| r.verdict == Verdict::Accepted);
    // Input errors (files that cannot be loaded) win over rejections.
    Ok(if !load_errors.is_empty() {
        ExitCode::from(2)
    } else if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A program's expected analysis cost, for scheduling: its size, and much more with a
/// backward jump (a loop may take Z3 hundreds of milliseconds whatever its size, and
/// started last it would finish last).
fn expected_cost(p: &analyzer::object::Program) -> usize {
    const LOOP_COST: usize = 100_000;
    let backward = p.insns.iter().any(|i| i.jump_offset().is_some_and(|o| o < 0));
    p.insns.len() + if backward { LOOP_COST } else { 0 }
}

/// The library's mode for the CLI's `--smt` value (by its name: `off`, `discharge`, `full`).
fn smt_mode(m: crate::SmtMode) -> SmtMode {
    m.to_possible_value().and_then(|v| SmtMode::from_name(v.get_name())).unwrap_or_default()
}

/// The result of a program whose analysis panicked: an error, never a verdict.
fn panicked(obj: &analyzer::object::Object, prog: usize) -> ProgramResult {
    ProgramResult::internal_error(obj, prog, "internal error: the analysis panicked (a bug in bpfcheck)")
}

/// One tab-separated line per program: file, section, function, insns, verdict, first error.
fn print_table(results: &[ProgramResult], _objects: &[analyzer::object::Object]) {
    println!("file\tsection\tfunction\tinsns\tverdict\tfirst_error");
    for r in results {
        let first = r
            .diagnostics
            .first()
            .map(|d| format!("{}: {}", d.pc, d.message))
            .or_else(|| r.error.clone())
            .unwrap_or_default();
        println!("{}\t{}\t{}\t{}\t{}\t{}", r.file, r.section, r.name, r.stats.insns, r.verdict.as_str(), first);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(text: &str) -> analyzer::object::Program {
        analyzer::object::Program {
            section: "xdp".into(),
            name: "p".into(),
            prog_type: analyzer::prog_type::ProgType::Xdp,
            expected_attach_type: None,
            insns: analyzer::insn::parse_program(text).expect("parses"),
            functions: vec![(0, "p".into())],
            line_info: Default::default(),
        }
    }

    #[test]
    fn a_loop_counts_as_expensive_whatever_its_size() {
        let straight = program("r0 = 0\nif r0 > 3 goto pc+1\nr0 = 1\nexit\n");
        let looping = program("r0 = 0\nr0 += 1\nif r0 < 3 goto pc-2\nexit\n");
        assert_eq!(expected_cost(&straight), 4);
        assert!(expected_cost(&looping) > 10_000);
    }
}
