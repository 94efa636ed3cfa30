//! `bpfcheck kernel`: each program through the live kernel verifier (bpf(2), root).

use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

pub(crate) fn run(file: &Path, prog: Option<&str>, log_level: u32) -> Result<ExitCode> {
    let obj = analyzer::elf::load_object(file).with_context(|| format!("loading {}", file.display()))?;
    if !oracle::bpf_available() {
        anyhow::bail!("bpf(2) is not available here (needs root and a kernel with BPF)");
    }
    let mut all_ok = true;
    for p in obj.programs.iter().filter(|p| prog.is_none_or(|n| n == p.name)) {
        let opts = oracle::LoadOptions { log_level, ..oracle::LoadOptions::default() };
        match oracle::load_program(&obj, p, &opts) {
            Ok(v) => {
                println!("=== {} {}/{}: {}", obj.path, p.section, p.name, if v.accepted { "accepted" } else { "rejected" });
                print!("{}", v.log);
                if !v.log.ends_with('\n') && !v.log.is_empty() {
                    println!();
                }
                all_ok &= v.accepted;
            }
            Err(e) => {
                println!("=== {} {}/{}: error: {e}", obj.path, p.section, p.name);
                all_ok = false;
            }
        }
    }
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
