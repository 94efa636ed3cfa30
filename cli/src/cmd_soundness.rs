//! `bpfcheck soundness`: generated programs checked against concrete executions, and optionally
//! against the live kernel's verdicts.
//!
//! Program `i` is `gen::generate(seed + i, &GenConfig::default())`, named `gen_<seed + i>`; each is
//! verified with per-pc invariants and run on `--inputs` random inputs (`analyzer::soundness`):
//! a concrete state outside the invariant at its pc, or a fault in a program we accept, is a
//! violation. With `--kernel` every program is also loaded with bpf(2) and each one we accept that
//! the kernel rejects is listed with the kernel's error line (the opposite direction is counted as
//! imprecision, not as a disagreement). The last line is always
//! `N programs, E concrete executions, V violations, D kernel disagreements`; the exit code is 1
//! when V > 0.

use analyzer::gen::GenConfig;
use analyzer::soundness::{check_generated, Report};
use analyzer::verify::Verdict;
use anyhow::Result;
use rayon::prelude::*;
use std::process::ExitCode;

pub(crate) struct Options {
    pub(crate) programs: usize,
    pub(crate) seed: u64,
    pub(crate) inputs: usize,
    pub(crate) kernel: bool,
    pub(crate) jobs: Option<usize>,
}

pub(crate) fn run(o: &Options) -> Result<ExitCode> {
    let gen = GenConfig::default();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(o.jobs.unwrap_or(0)).build()?;
    let results: Vec<(analyzer::object::Object, Report)> = pool.install(|| {
        (0..o.programs)
            .into_par_iter()
            .map(|i| check_generated(o.seed.wrapping_add(i as u64), &gen, o.inputs))
            .collect()
    });
    let executions: usize = results.iter().map(|(_, r)| r.executions).sum();
    let mut violations = 0usize;
    let (mut accepted, mut rejected, mut errors) = (0usize, 0usize, 0usize);
    for (_, r) in &results {
        match r.verdict {
            Verdict::Accepted => accepted += 1,
            Verdict::Rejected => rejected += 1,
            Verdict::Error => errors += 1,
        }
        if let Some(e) = &r.error {
            println!("error: {}: {e}", r.program);
        }
        for v in &r.violations {
            println!(
                "violation: {} pc {} {}: concrete {} not in {}: {} (input seed {:#x})",
                r.program,
                v.pc,
                match (v.reg, v.stack) {
                    (Some(x), _) => format!("R{x}"),
                    (None, Some((frame, off))) => format!("fp{frame}{off}"),
                    (None, None) => "state".to_string(),
                },
                v.concrete,
                v.abstract_,
                v.message,
                v.seed
            );
        }
        for f in &r.faults_in_accepted {
            println!(
                "fault in accepted program: {} pc {} {:?}: {} (input seed {:#x})",
                r.program, f.pc, f.kind, f.message, f.seed
            );
        }
        violations += r.bug_count();
    }
    println!("verdicts: {accepted} accepted, {rejected} rejected, {errors} errors");
    let mut disagreements = 0usize;
    if o.kernel {
        if oracle::bpf_available() {
            disagreements = kernel_part(&results);
        } else {
            println!("skipped: no bpf()");
        }
    }
    println!("{} programs, {executions} concrete executions, {violations} violations, {disagreements} kernel disagreements", results.len());
    Ok(if violations > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Loads every program into the kernel; prints and counts those we accept and it rejects.
fn kernel_part(results: &[(analyzer::object::Object, Report)]) -> usize {
    let opts = oracle::LoadOptions { stats: false, ..oracle::LoadOptions::default() };
    let (mut agree, mut we_reject, mut load_errors, mut disagreements) = (0usize, 0usize, 0usize, 0usize);
    for (obj, r) in results {
        let Some(p) = obj.programs.first() else { continue };
        match oracle::load_program(obj, p, &opts) {
            Ok(k) => match (r.verdict == Verdict::Accepted, k.accepted) {
                (true, false) => {
                    disagreements += 1;
                    println!(
                        "disagreement: {}: we accept, kernel rejects: {}",
                        r.program,
                        k.error_line().unwrap_or("(no log)")
                    );
                }
                (false, true) => we_reject += 1,
                _ => agree += 1,
            },
            Err(e) => {
                load_errors += 1;
                println!("kernel load error: {}: {e}", r.program);
            }
        }
    }
    println!(
        "kernel: {agree} agree, {disagreements} we accept/kernel rejects, {we_reject} we reject/kernel accepts, {load_errors} load errors"
    );
    disagreements
}
