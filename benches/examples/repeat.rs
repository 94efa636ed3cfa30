//! Verifies one program many times in a loop, for profilers (`perf record`, `valgrind
//! --tool=callgrind`): the object is loaded once, so the profile is the analysis alone.
//!
//! `cargo run --release -p bpfcheck-benches --example repeat -- OBJECT FUNCTION [RUNS] [MODE]`
//! prints the verdict and the mean time per run, with loop seeding and without
//! (`Config::seed_loops`); MODE `seeded` or `unseeded` runs only one (for a profile).

use analyzer::verify::{verify_program, Config};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(func)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: repeat OBJECT FUNCTION [RUNS] [both|seeded|unseeded]");
        std::process::exit(2);
    };
    let runs: u32 = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(1000);
    let obj = match analyzer::elf::load_object(std::path::Path::new(path)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let Some(idx) = obj.programs.iter().position(|p| p.name == *func) else {
        eprintln!("{path}: no program named {func}");
        std::process::exit(2);
    };
    let modes: &[bool] = match args.get(4).map(String::as_str) {
        Some("seeded") => &[true],
        Some("unseeded") => &[false],
        _ => &[true, false],
    };
    for &seed_loops in modes {
        let config = Config { seed_loops, ..Config::default() };
        let first = verify_program(&obj, idx, &config);
        let t = Instant::now();
        for _ in 0..runs {
            black_box(verify_program(&obj, idx, &config));
        }
        let per_run = t.elapsed().as_secs_f64() * 1e6 / f64::from(runs.max(1));
        println!(
            "{func} (seed_loops {seed_loops}): {}, {} insns processed ({runs} runs, {per_run:.1} us per run)",
            first.verdict.as_str(),
            first.stats.insns_processed
        );
    }
}
