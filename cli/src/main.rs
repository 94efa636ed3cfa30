//! The `bpfcheck` command line: the only place that writes to stdout.

mod collect;
mod cmd_bench_kernel;
mod cmd_compare;
mod cmd_dump;
mod cmd_kernel;
mod cmd_prove;
mod cmd_snapshot;
mod cmd_soundness;
mod cmd_verify;
mod schedule;

#[global_allocator]
static ALLOC: analyzer::fixpoint::mem_budget::CountingAlloc = analyzer::fixpoint::mem_budget::CountingAlloc;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "bpfcheck", version, about = "A verifier and abstract-interpretation analyzer for eBPF programs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Sarif,
}

/// What the SMT backend does after the abstract interpretation (termination proofs
/// always run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SmtMode {
    /// Report the domains' diagnostics as they are.
    Off,
    /// The kernel's view: Z3 decides the diagnostics in pc order until the first one it does
    /// not prove a false alarm (that first error gets a counterexample replayed in the concrete
    /// interpreter); proved alarms are dropped, a program whose every alarm is proved is
    /// accepted. 2 s per query.
    Discharge,
    /// Every obligation: each diagnostic is proved a false alarm, given a replayed
    /// counterexample, or left unknown; 20 s per query, more paths, deeper unrolling.
    Full,
}

#[derive(Subcommand)]
enum Command {
    /// Verify every program of every object file (folders are searched for *.o).
    Verify {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// 0: verdicts only; 1: the kernel's level-1 log for rejections; 2: every instruction with its state.
        #[arg(long, default_value_t = 0)]
        log_level: u8,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Parallel jobs (default: all cores).
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
        /// Per-program time limit in seconds.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
        /// Only the program with this function name.
        #[arg(long)]
        prog: Option<String>,
        /// Per program: analysis time, instructions processed and abstract states (text and
        /// JSON `stats.time_us`, `stats.insns_processed`, `stats.states`); off by default so
        /// reports are deterministic.
        #[arg(long)]
        timings: bool,
        /// Also print the live kernel's verdict (needs root); tab-separated table.
        #[arg(long)]
        table: bool,
        /// SMT discharge of the diagnostics: off (the domains' verdict), discharge (the first
        /// error, after the false alarms before it) or full (every diagnostic). Off by default:
        /// a proved false alarm can still be a program the kernel rejects by its typing rules.
        #[arg(long, value_enum, default_value_t = SmtMode::Off)]
        smt: SmtMode,
        /// Per-program memory limit in MiB (0: none); a program over it gets verdict `error`.
        #[arg(long, default_value_t = 2048)]
        memory_limit: u64,
    },
    /// List programs and maps, and disassemble in the kernel's syntax with source lines.
    Dump {
        file: PathBuf,
        /// Only the program with this function name.
        #[arg(long)]
        prog: Option<String>,
    },
    /// Load each program into the live kernel with bpf(2) and print its verdict and log.
    Kernel {
        file: PathBuf,
        #[arg(long)]
        prog: Option<String>,
        #[arg(long, default_value_t = 1)]
        log_level: u32,
    },
    /// Write (or with --check, compare) a level-2 log and a JSON report per program,
    /// for gating CI on verdict and log changes.
    Snapshot {
        dir: PathBuf,
        /// Where the snapshot files go.
        #[arg(long, default_value = "bpfcheck-snapshots")]
        out: PathBuf,
        /// Compare with the existing snapshots instead of writing; exit 1 on changes.
        #[arg(long)]
        check: bool,
    },
    /// Compare verdicts and per-instruction register precision with the live kernel (needs root).
    Compare {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Parallel jobs for our analysis (kernel loads run one at a time).
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
        /// Per-program time limit of our analysis in seconds.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
        /// Only the program with this function name.
        #[arg(long)]
        prog: Option<String>,
        /// One tab-separated line per program (file, section, function, insns, ours,
        /// kernel, agreement, first errors); the summary goes to stderr.
        #[arg(long)]
        table: bool,
    },
    /// Check the analysis against concrete executions of generated programs (and, with
    /// --kernel, the live kernel's verdicts); exit 1 on any soundness violation.
    Soundness {
        /// Number of generated programs.
        #[arg(long, default_value_t = 100)]
        programs: usize,
        /// Seed of the first program (program i uses seed + i).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Random inputs per program.
        #[arg(long, default_value_t = 20)]
        inputs: usize,
        /// Also load every program into the live kernel and compare verdicts.
        #[arg(long)]
        kernel: bool,
        /// Parallel jobs (default: all cores).
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
    },
    /// Prove with Z3 that the abstract domains' operations are sound at 64 bits.
    ProveDomains {
        /// Only operations whose name contains this.
        #[arg(long)]
        filter: Option<String>,
        /// Per-query timeout in milliseconds (a timeout is reported, never counted as proved).
        #[arg(long, default_value_t = 60_000)]
        timeout_ms: u32,
    },
    /// Speed against the live kernel verifier (needs root): per program our analysis time
    /// and the kernel's `verification time`, medians of N runs, and their ratio.
    BenchKernel {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Analyses and kernel loads per program (the median is kept).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Tab-separated output (header line, one line per program, a total line).
        #[arg(long)]
        table: bool,
        /// Only the program with this function name.
        #[arg(long)]
        prog: Option<String>,
        /// Per-run time limit of our analysis in seconds.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
    },
    /// Print the CFG of one program as Graphviz dot.
    Cfg {
        file: PathBuf,
        #[arg(long)]
        prog: String,
        /// Label blocks with the invariant at block entry.
        #[arg(long)]
        states: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify { paths, log_level, format, jobs, timeout, prog, timings, table, smt, memory_limit } => {
            cmd_verify::run(&cmd_verify::Options { paths, log_level, format, jobs, timeout, prog, timings, table, smt, memory_limit })
        }
        Command::Dump { file, prog } => cmd_dump::run(&file, prog.as_deref()),
        Command::Kernel { file, prog, log_level } => cmd_kernel::run(&file, prog.as_deref(), log_level),
        Command::ProveDomains { filter, timeout_ms } => cmd_prove::run(filter.as_deref(), timeout_ms),
        Command::Cfg { file, prog, states } => cmd_dump::run_cfg(&file, &prog, states),
        Command::Compare { paths, format, jobs, timeout, prog, table } => {
            cmd_compare::run(&cmd_compare::Options { paths, format, jobs, timeout, prog, table })
        }
        Command::BenchKernel { paths, runs, table, prog, timeout } => {
            cmd_bench_kernel::run(&cmd_bench_kernel::Options { paths, runs, table, prog, timeout })
        }
        Command::Snapshot { dir, out, check } => cmd_snapshot::run(&dir, &out, check),
        Command::Soundness { programs, seed, inputs, kernel, jobs } => {
            cmd_soundness::run(&cmd_soundness::Options { programs, seed, inputs, kernel, jobs })
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bpfcheck: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
