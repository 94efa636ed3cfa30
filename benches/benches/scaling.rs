//! Scaling of the analysis with program size: programs of 1k, 10k, 100k and 1M
//! instructions of each `bpfcheck_benches::gen::Shape` (straight line, diamonds, nested
//! bounded loops, map lookups), each verified once with `Config::default()` (timeout
//! raised to 60 s), asserted accepted, and printed as one table row: shape, insns, time,
//! ns/insn, peak heap of the analysis (a counting global allocator, reset before each
//! analysis) and the growth of time and memory per 10x size (10.0 = linear).
//!
//! A size whose predicted time (10 x the previous size's) exceeds 60 s is skipped with
//! the reason printed. Generation and assembly are not timed; one small analysis runs
//! first so one-time initialisation (kernel BTF, tables) is not counted in the first row.
//!
//! Run with `cargo bench -p bpfcheck-benches --bench scaling`
//! (`-- --sizes 1000,10000` for other sizes, `--shapes diamonds,maps` for some shapes).

use analyzer::verify::{verify_program, Config, Verdict};
use bpfcheck_benches::alloc::{peak_bytes, reset_peak, PeakAlloc};
use bpfcheck_benches::gen::{generate, Shape};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

const LIMIT: Duration = Duration::from_secs(60);

/// The sizes from `--sizes a,b,c`, or 1k..1M.
fn sizes() -> Vec<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000, 1_000_000])
}

/// The shapes named by `--shapes a,b`, or all.
fn shapes() -> Vec<Shape> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--shapes").and_then(|i| args.get(i + 1)) {
        Some(list) => Shape::ALL.into_iter().filter(|s| list.split(',').any(|n| n == s.name())).collect(),
        None => Shape::ALL.to_vec(),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a plain `cargo test --benches` run passes nothing
    // and should not spend minutes here.
    if !std::env::args().any(|a| a == "--bench" || a == "--sizes" || a == "--shapes") {
        println!("scaling: run with `cargo bench -p bpfcheck-benches --bench scaling`");
        return;
    }
    let config = Config { timeout: Some(LIMIT), ..Config::default() };
    // One-time initialisation (kernel BTF, helper tables) outside the measurements.
    if let Ok(warm) = generate(Shape::Maps, 100) {
        black_box(verify_program(&warm, 0, &config));
    }
    println!(
        "{:<9} {:>9} {:>10} {:>9} {:>10} {:>8} {:>8}",
        "shape", "insns", "time_ms", "ns/insn", "peak_MiB", "t_x10", "mem_x10"
    );
    for shape in shapes() {
        let mut prev: Option<(usize, Duration, usize)> = None;
        for &n in &sizes() {
            if let Some((pn, pt, _)) = prev {
                let predicted = pt.mul_f64(n as f64 / pn as f64);
                if predicted > LIMIT {
                    println!(
                        "{:<9} {:>9} skipped: predicted {:.0} s > {} s from {pn} insns",
                        shape.name(),
                        n,
                        predicted.as_secs_f64(),
                        LIMIT.as_secs()
                    );
                    break;
                }
            }
            let obj = match generate(shape, n) {
                Ok(o) => o,
                Err(e) => panic!("{} {n}: generator produced invalid text: {e}", shape.name()),
            };
            let base = reset_peak();
            let t = Instant::now();
            let r = black_box(verify_program(&obj, 0, &config));
            let time = t.elapsed();
            let peak = peak_bytes().saturating_sub(base);
            if r.error.as_deref().is_some_and(|e| e.contains("time")) {
                println!("{:<9} {:>9} skipped: {} after {:.1} s", shape.name(), n, r.error.unwrap_or_default(), time.as_secs_f64());
                break;
            }
            assert_eq!(
                r.verdict,
                Verdict::Accepted,
                "{} {n}: not accepted: {:?} {:?}",
                shape.name(),
                r.error,
                r.diagnostics.first()
            );
            let growth = |cur: f64, old: f64, old_n: usize| (cur / old.max(1e-12)) * (10.0 * old_n as f64 / n as f64);
            let (tx, mx) = match prev {
                Some((pn, pt, pm)) => (
                    format!("{:.1}", growth(time.as_secs_f64(), pt.as_secs_f64(), pn)),
                    format!("{:.1}", growth(peak as f64, pm as f64, pn)),
                ),
                None => ("-".into(), "-".into()),
            };
            println!(
                "{:<9} {:>9} {:>10.1} {:>9.0} {:>10.1} {:>8} {:>8}",
                shape.name(),
                n,
                time.as_secs_f64() * 1e3,
                time.as_secs_f64() * 1e9 / n as f64,
                peak as f64 / (1 << 20) as f64,
                tx,
                mx
            );
            prev = Some((n, time, peak));
        }
    }
}
