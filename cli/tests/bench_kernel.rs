//! `bpfcheck bench-kernel --table` on two corpus objects, one the kernel accepts
//! (`helpers/update_ok.o`) and one it rejects (`map_value/no_null_check.o`): a header,
//! one line per program with the kernel's time and a ratio for the accepted one and
//! `excluded: kernel rejected` for the other, and a total line counting one compared
//! program. Without bpf(2) (not root) the command must print `skipped: no bpf()` and
//! exit 2; the test checks that and prints the skip, so it never passes silently.

use std::path::Path;
use std::process::Command;

#[test]
fn bench_kernel_table_has_a_line_per_program_and_a_total() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let out = Command::new(env!("CARGO_BIN_EXE_bpfcheck"))
        .args(["bench-kernel", "--runs", "2", "--table"])
        .arg(corpus.join("helpers/update_ok.o"))
        .arg(corpus.join("map_value/no_null_check.o"))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !oracle::bpf_available() {
        eprintln!("skipped: no bpf()");
        assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
        assert!(stderr.contains("skipped: no bpf()"), "stderr: {stderr}");
        return;
    }
    assert!(out.status.success(), "stderr: {stderr}");
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 4, "header, two programs, total:\n{stdout}");
    assert_eq!(lines[0][..7], ["file", "section", "function", "insns", "kernel_us", "ours_us", "ratio"]);

    let accepted = lines.iter().find(|l| l.get(2) == Some(&"update_ok")).expect("update_ok line");
    assert_eq!(accepted.len(), 10, "{accepted:?}");
    let kernel_us: u64 = accepted[4].parse().expect("kernel time is a number");
    let ours_us: f64 = accepted[5].parse().expect("our time is a number");
    let ratio: f64 = accepted[6].parse().expect("ratio is a number");
    assert!(ours_us > 0.0);
    let expected = kernel_us as f64 / ours_us.max(1e-3);
    // The printed times are rounded, so compare loosely.
    assert!((ratio - expected).abs() <= 0.05 * expected + 0.6, "{accepted:?}");
    assert_eq!(accepted[7], "accepted");
    assert!(["4", "1|4"].contains(&accepted[8]), "{accepted:?}");
    assert_eq!(accepted[9], "ok");

    let rejected = lines.iter().find(|l| l.get(2) == Some(&"no_null_check")).expect("no_null_check line");
    assert_eq!((rejected[4], rejected[6]), ("-", "-"), "{rejected:?}");
    assert!(rejected[9].starts_with("excluded: kernel rejected"), "{rejected:?}");
    assert_eq!(rejected[7], "rejected");

    let total = lines.last().expect("total line");
    assert_eq!(total.first(), Some(&"total"), "{total:?}");
    for field in ["programs=2", "compared=1", "excluded=1"] {
        assert!(total.contains(&field), "{field} in {total:?}");
    }
    assert!(total.iter().any(|f| f.starts_with("total_ratio=")), "{total:?}");
    assert!(total.iter().any(|f| f.starts_with("geomean_ratio=")), "{total:?}");
    assert!(total.iter().any(|f| f.starts_with("level4_only=")), "{total:?}");
}
