//! `bpfcheck prove-domains`: Z3 proofs that the abstract domains' transfer functions
//! and branch refinements are sound at 64 bits; one line per operation, exit 1 on any
//! counterexample.

use analyzer::smt::prove_domains::{prove_all, render, Outcome};
use anyhow::Result;
use std::process::ExitCode;

pub(crate) fn run(filter: Option<&str>, timeout_ms: u32) -> Result<ExitCode> {
    let results = prove_all(filter, timeout_ms);
    print!("{}", render(&results));
    let refuted = results.iter().filter(|r| matches!(r.outcome, Outcome::Counterexample(_))).count();
    Ok(if refuted > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
