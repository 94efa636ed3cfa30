//! `bpfcheck bench-kernel PATH... [--runs N] [--table] [--prog NAME]`: the same-run speed
//! comparison with the live kernel verifier.
//!
//! For every program, one at a time on one thread: our analysis time (wall clock of
//! `verify_program` with `Config { collect_states: false, ..Default }`, the median of N
//! runs) and the kernel's own verification time (the `verification time N usec` line of
//! `BPF_LOG_STATS`, the median of N loads). Only programs the kernel accepts enter the
//! ratio; programs it rejects or that cannot be loaded into this kernel are listed with
//! their status and excluded.
//!
//! The kernel's time must not include log formatting: at log level 1 the verifier prints
//! every processed instruction into the log (and resets it after each path), which makes
//! it up to 4x slower (linux-selftests loop1.o: 306 ms at level 4, 1127 ms at level 1|4).
//! So each program is loaded with the statistics alone (`LoadOptions { log_level: 0,
//! stats: true }`, i.e. `BPF_LOG_STATS`); a rejected program is loaded once more at level 1
//! for its error line. The `kernel_log` column says which level each time comes from
//! (`4`; `1|4` only if a load fell back to printing).
//!
//! Output: one line per program (`file`, `section`, `function`, `insns`, `kernel_us`,
//! `ours_us`, `ratio` = kernel/ours, `ours` verdict, `kernel_log`, `status`), then the
//! totals: `total: programs=N compared=N excluded=N sum_kernel_us=.. sum_ours_us=..
//! total_ratio=.. geomean_ratio=.. slower=N level4_only=N` (`slower`: programs where our
//! time exceeds the kernel's; `level4_only`: compared programs timed at level 4 alone).
//! `--table` prints the same as tab-separated values with a header line and a last
//! line starting with `total`. Needs bpf(2): without it prints `skipped: no bpf()` on
//! stderr and exits 2.

use crate::collect::object_files;
use analyzer::object::Object;
use analyzer::verify::{verify_program, Config, Verdict};
use anyhow::Result;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub(crate) struct Options {
    pub paths: Vec<PathBuf>,
    /// Analyses and kernel loads per program (the median is kept).
    pub runs: usize,
    /// Tab-separated output.
    pub table: bool,
    /// Only the program with this function name.
    pub prog: Option<String>,
    /// Per-run time limit of our analysis, in seconds.
    pub timeout: f64,
}

/// What the kernel made of a program.
#[derive(Clone, Debug, PartialEq)]
enum KernelStatus {
    /// Accepted; median verification time in microseconds, and whether every timed load
    /// ran at log level 4 alone.
    Accepted(u64, bool),
    /// Accepted but no `verification time` line was found.
    NoTime,
    /// Refused by the verifier (or refused before verification, with the errno).
    Rejected(String),
    /// Could not be sent to the kernel (map creation, BTF, ...).
    NotLoaded(String),
}

/// One program's row.
#[derive(Clone, Debug)]
struct Row {
    file: String,
    section: String,
    function: String,
    insns: usize,
    ours_us: f64,
    ours: &'static str,
    kernel: KernelStatus,
}

impl Row {
    /// kernel/ours, for programs the kernel accepted with a time.
    fn ratio(&self) -> Option<f64> {
        match self.kernel {
            KernelStatus::Accepted(k, _) => Some(k as f64 / self.ours_us.max(1e-3)),
            _ => None,
        }
    }

    fn status(&self) -> String {
        match &self.kernel {
            KernelStatus::Accepted(..) => "ok".into(),
            KernelStatus::NoTime => "excluded: kernel gave no verification time".into(),
            KernelStatus::Rejected(e) => format!("excluded: kernel rejected: {e}"),
            KernelStatus::NotLoaded(e) => format!("excluded: not loadable: {e}"),
        }
    }
}

/// Sums over the compared programs.
#[derive(Clone, Debug, Default, PartialEq)]
struct Totals {
    programs: usize,
    compared: usize,
    sum_kernel_us: f64,
    sum_ours_us: f64,
    geomean_ratio: f64,
    slower: usize,
    level4_only: usize,
}

impl Totals {
    fn of(rows: &[Row]) -> Totals {
        let mut t = Totals { programs: rows.len(), ..Totals::default() };
        let mut log_sum = 0.0;
        for r in rows {
            if let (Some(ratio), KernelStatus::Accepted(k, level4)) = (r.ratio(), &r.kernel) {
                t.compared += 1;
                t.level4_only += usize::from(*level4);
                t.sum_kernel_us += *k as f64;
                t.sum_ours_us += r.ours_us;
                log_sum += ratio.max(1e-9).ln();
                if ratio < 1.0 {
                    t.slower += 1;
                }
            }
        }
        t.geomean_ratio = if t.compared == 0 { f64::NAN } else { (log_sum / t.compared as f64).exp() };
        t
    }

    fn total_ratio(&self) -> f64 {
        if self.sum_ours_us > 0.0 {
            self.sum_kernel_us / self.sum_ours_us
        } else {
            f64::NAN
        }
    }

    fn line(&self) -> String {
        format!(
            "total: programs={} compared={} excluded={} sum_kernel_us={:.0} sum_ours_us={:.0} total_ratio={:.2} geomean_ratio={:.2} slower={} level4_only={}",
            self.programs,
            self.compared,
            self.programs - self.compared,
            self.sum_kernel_us,
            self.sum_ours_us,
            self.total_ratio(),
            self.geomean_ratio,
            self.slower,
            self.level4_only
        )
    }
}

/// The median of a non-empty sample (the lower middle for even sizes), None when empty.
fn median<T: Copy + PartialOrd>(mut v: Vec<T>) -> Option<T> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let mid = v.len().checked_sub(1)? / 2;
    v.get(mid).copied()
}

fn ours(obj: &Object, pi: usize, config: &Config, runs: usize) -> (f64, &'static str) {
    let mut times = Vec::with_capacity(runs);
    let mut verdict = "error";
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| verify_program(obj, pi, config)));
        times.push(t.elapsed().as_secs_f64() * 1e6);
        verdict = match r {
            Ok(r) => match r.verdict {
                Verdict::Accepted => "accepted",
                Verdict::Rejected => "rejected",
                Verdict::Error => "error",
            },
            Err(_) => "panicked",
        };
    }
    (median(times).unwrap_or(f64::NAN), verdict)
}

fn kernel(obj: &Object, pi: usize, runs: usize) -> KernelStatus {
    let Some(prog) = obj.programs.get(pi) else {
        return KernelStatus::NotLoaded("no such program".into());
    };
    // The kernel timed with its statistics alone (level 4): printing a level-1 log slows
    // it several times over. A rejection is loaded once more at level 1 for its message.
    let opts = oracle::LoadOptions {
        log_level: 0,
        stats: true,
        initial_log_size: 64 * 1024,
        max_log_size: 64 * 1024,
        ..oracle::LoadOptions::default()
    };
    let mut times = Vec::with_capacity(runs);
    let mut level4 = true;
    for _ in 0..runs.max(1) {
        match oracle::load_program(obj, prog, &opts) {
            Err(e) => return KernelStatus::NotLoaded(e.to_string()),
            Ok(v) if !v.accepted => {
                let level1 = oracle::LoadOptions { log_level: oracle::LOG_LEVEL1, ..opts.clone() };
                let v = oracle::load_program(obj, prog, &level1).unwrap_or(v);
                let why = match v.error_line() {
                    Some(l) if v.rejected_by_verifier() => l.to_string(),
                    _ => format!("{} before verification", oracle::errno_name(v.errno)),
                };
                return KernelStatus::Rejected(why);
            }
            Ok(v) => match v.verification_time_usec {
                Some(us) => {
                    times.push(us);
                    level4 &= v.log_level == oracle::LOG_STATS;
                }
                None => return KernelStatus::NoTime,
            },
        }
    }
    median(times).map_or(KernelStatus::NoTime, |us| KernelStatus::Accepted(us, level4))
}

fn fields(r: &Row) -> [String; 10] {
    let (kernel_us, level) = match r.kernel {
        KernelStatus::Accepted(k, level4) => (k.to_string(), if level4 { "4" } else { "1|4" }),
        _ => ("-".into(), "-"),
    };
    [
        r.file.clone(),
        r.section.clone(),
        r.function.clone(),
        r.insns.to_string(),
        kernel_us,
        format!("{:.0}", r.ours_us),
        r.ratio().map_or("-".into(), |x| format!("{x:.2}")),
        r.ours.to_string(),
        level.to_string(),
        r.status(),
    ]
}

const HEADER: [&str; 10] =
    ["file", "section", "function", "insns", "kernel_us", "ours_us", "ratio", "ours", "kernel_log", "status"];

pub(crate) fn run(o: &Options) -> Result<ExitCode> {
    if !oracle::bpf_available() {
        eprintln!("skipped: no bpf()");
        return Ok(ExitCode::from(2));
    }
    let start = Instant::now();
    let files = object_files(&o.paths)?;
    let config = Config {
        collect_states: false,
        timeout: Some(Duration::from_secs_f64(o.timeout.max(0.001))),
        ..Config::default()
    };
    let runs = o.runs.max(1);
    if o.table {
        println!("{}", HEADER.join("\t"));
    } else {
        println!(
            "{:<48} {:<28} {:<28} {:>6} {:>10} {:>10} {:>8} {:<8} {:<10} status",
            "file", "section", "function", "insns", "kernel_us", "ours_us", "ratio", "ours", "kernel_log"
        );
    }
    let mut rows = Vec::new();
    for f in &files {
        let obj = match catch_unwind(|| analyzer::elf::load_object(f)) {
            Ok(Ok(obj)) => obj,
            Ok(Err(e)) => {
                eprintln!("=== {}: load error: {e}", f.display());
                continue;
            }
            Err(_) => {
                eprintln!("=== {}: load error: the loader panicked", f.display());
                continue;
            }
        };
        for (pi, prog) in obj.programs.iter().enumerate() {
            if o.prog.as_ref().is_some_and(|n| &prog.name != n) {
                continue;
            }
            let (ours_us, verdict) = ours(&obj, pi, &config, runs);
            let row = Row {
                file: f.display().to_string(),
                section: prog.section.clone(),
                function: prog.name.clone(),
                insns: prog.insns.len(),
                ours_us,
                ours: verdict,
                kernel: kernel(&obj, pi, runs),
            };
            let v = fields(&row);
            if o.table {
                println!("{}", v.join("\t"));
            } else {
                println!(
                    "{:<48} {:<28} {:<28} {:>6} {:>10} {:>10} {:>8} {:<8} {:<10} {}",
                    v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]
                );
            }
            rows.push(row);
        }
    }
    let totals = Totals::of(&rows);
    if o.table {
        println!("{}", totals.line().replacen(": ", "\t", 1).replace(' ', "\t"));
    } else {
        println!("{}", totals.line());
    }
    eprintln!("runs={runs} total time {:.2}s", start.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kernel: KernelStatus, ours_us: f64) -> Row {
        Row {
            file: "f.o".into(),
            section: "xdp".into(),
            function: "p".into(),
            insns: 10,
            ours_us,
            ours: "accepted",
            kernel,
        }
    }

    #[test]
    fn totals_exclude_rejected_and_count_slower() {
        let rows = vec![
            row(KernelStatus::Accepted(100, true), 10.0),
            row(KernelStatus::Accepted(10, false), 40.0),
            row(KernelStatus::Rejected("R0 !read_ok".into()), 1.0),
            row(KernelStatus::NotLoaded("EPERM".into()), 1.0),
        ];
        let t = Totals::of(&rows);
        assert_eq!((t.programs, t.compared, t.slower), (4, 2, 1));
        assert_eq!(t.sum_kernel_us, 110.0);
        assert_eq!(t.sum_ours_us, 50.0);
        assert!((t.total_ratio() - 2.2).abs() < 1e-9);
        // sqrt(10 * 0.25) = 1.58
        assert!((t.geomean_ratio - 2.5f64.sqrt()).abs() < 1e-9);
        assert!(t.line().contains("excluded=2"), "{}", t.line());
        assert!(t.line().ends_with("slower=1 level4_only=1"), "{}", t.line());
    }

    #[test]
    fn rows_print_dash_for_excluded() {
        let f = fields(&row(KernelStatus::Rejected("R0 !read_ok".into()), 5.0));
        assert_eq!((f[4].as_str(), f[6].as_str(), f[8].as_str()), ("-", "-", "-"));
        assert!(f[9].contains("kernel rejected: R0 !read_ok"));
        let f = fields(&row(KernelStatus::Accepted(30, true), 10.0));
        assert_eq!((f[4].as_str(), f[6].as_str(), f[8].as_str(), f[9].as_str()), ("30", "3.00", "4", "ok"));
    }

    #[test]
    fn median_is_the_middle() {
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![4.0, 1.0]), Some(1.0));
        assert_eq!(median::<u64>(vec![]), None);
    }
}
