//! Benchmarks of the whole analyzer: time to verify every program of the project's
//! corpus, of `../shared/ebpf-samples` when present (one line says when it is skipped),
//! of a small, a medium and the largest program of `../shared/ebpf-samples` (see
//! [`SAMPLE_PROGRAMS`]), and of synthetic limit cases (a 1M-instruction program, deeply
//! nested loops, many maps, a folder of thousands of files), with the process's peak
//! memory. Each prints its ratio to a baseline measured in the same run: decoding the
//! same instructions, the cheapest pass every analysis needs. Criterion then measures
//! the corpus, the three sample programs and the whole of ebpf-samples.
//!
//! Run with `cargo bench -p bpfcheck-benches --bench analyzer`.

use analyzer::insn::{decode, parse_program, RawInsn};
use analyzer::object::{MapDef, MapOrigin, Object, Program};
use analyzer::prog_type::ProgType;
use analyzer::verify::{verify_program, Config};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn objects_under(dir: &Path) -> Vec<Object> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if std::fs::read(&p).map(|b| b.starts_with(b"\x7fELF")).unwrap_or(false) {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(dir, &mut paths);
    paths.sort();
    paths.iter().filter_map(|p| analyzer::elf::load_object(p).ok()).collect()
}

/// The small, medium and largest programs of `../shared/ebpf-samples` benchmarked one by one:
/// (label, object relative to ebpf-samples, function name). Of the 970 programs the median
/// has 51 insns, the 75th percentile 576, the 90th 1699: small is 95 insns, medium 1032,
/// largest 9070.
const SAMPLE_PROGRAMS: [(&str, &str, &str); 3] = [
    ("small", "bcc/exitsnoop.bpf.o", "sched_process_exit"),
    ("medium", "cilium/bpf_netdev.o", "from-netdev"),
    ("largest", "cilium/bpf_xdp_dsr_linux_v1_1.o", "tail_nodeport_nat_ipv6"),
];

/// The object holding `func` and that program's index, if the file loads and has it.
fn sample_program(samples: &Path, rel: &str, func: &str) -> Option<(Object, usize)> {
    let obj = analyzer::elf::load_object(&samples.join(rel)).ok()?;
    let idx = obj.programs.iter().position(|p| p.name == func)?;
    Some((obj, idx))
}

fn one_program(insns: Vec<RawInsn>, maps: Vec<MapDef>, prog_type: ProgType) -> Object {
    Object {
        path: "synthetic".into(),
        license: Some("GPL".into()),
        kern_version: None,
        maps,
        programs: vec![Program {
            section: "synthetic".into(),
            name: "synthetic".into(),
            prog_type,
            expected_attach_type: None,
            insns,
            functions: vec![(0, "synthetic".into())],
            line_info: Default::default(),
        }],
        btf: None,
        parsed_btf: Default::default(),
    }
}

/// 1M instructions: a straight line of ALU ops ending in exit.
fn million_insns() -> Object {
    let mut text = String::from("r0 = 0\n");
    for i in 0..999_998 {
        text.push_str(if i % 2 == 0 { "r0 += 1\n" } else { "r1 = r0\n" });
    }
    text.push_str("exit\n");
    one_program(parse_program(&text).expect("valid"), Vec::new(), ProgType::SocketFilter)
}

/// Five nested bounded loops.
fn nested_loops() -> Object {
    let text = "r0 = 0\nr1 = 0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\n\
        r5 += 1\nif r5 < 4 goto pc-2\nr5 = 0\nr4 += 1\nif r4 < 4 goto pc-5\nr4 = 0\nr3 += 1\nif r3 < 4 goto pc-8\n\
        r3 = 0\nr2 += 1\nif r2 < 4 goto pc-11\nr2 = 0\nr1 += 1\nif r1 < 4 goto pc-14\nexit\n";
    one_program(parse_program(text).expect("valid"), Vec::new(), ProgType::SocketFilter)
}

/// 4000 maps, each looked up once with a NULL check.
fn many_maps() -> Object {
    let n = 4000;
    let mut text = String::from("r6 = 0\n*(u32 *)(r10 -4) = r6\n");
    for i in 0..n {
        text.push_str(&format!(
            "r1 = map[idx:{i}]\nr2 = r10\nr2 += -4\ncall bpf_map_lookup_elem#1\nif r0 == 0x0 goto pc+1\nr6 = *(u32 *)(r0 +0)\n"
        ));
    }
    text.push_str("r0 = 0\nexit\n");
    let maps = (0..n)
        .map(|i| MapDef {
            name: format!("m{i}"),
            map_type: 1,
            key_size: 4,
            value_size: 8,
            max_entries: 16,
            map_flags: 0,
            inner: None,
            origin: MapOrigin::BtfMaps,
            initial_value: None,
            btf_key_type_id: 0,
            btf_value_type_id: 0,
        })
        .collect();
    one_program(parse_program(&text).expect("valid"), maps, ProgType::SocketFilter)
}

/// Verifies every program once; returns the wall time.
fn verify_all(objs: &[Object]) -> Duration {
    let config = Config { timeout: Some(Duration::from_secs(60)), ..Config::default() };
    let t = Instant::now();
    for o in objs {
        for i in 0..o.programs.len() {
            black_box(verify_program(o, i, &config));
        }
    }
    t.elapsed()
}

/// Decodes every program once (the baseline).
fn decode_all(objs: &[Object]) -> Duration {
    let t = Instant::now();
    for o in objs {
        for p in &o.programs {
            let _ = black_box(decode(&p.insns));
        }
    }
    t.elapsed()
}

fn report(name: &str, objs: &[Object]) {
    let base = decode_all(objs);
    let ours = verify_all(objs);
    let programs: usize = objs.iter().map(|o| o.programs.len()).sum();
    let insns: usize = objs.iter().flat_map(|o| o.programs.iter()).map(|p| p.insns.len()).sum();
    println!(
        "{name}: {programs} programs, {insns} insns: verify {:.1} ms, decode baseline {:.3} ms, ratio {:.0}x, {:.0} ns/insn",
        ours.as_secs_f64() * 1e3,
        base.as_secs_f64() * 1e3,
        ours.as_secs_f64() / base.as_secs_f64().max(1e-9),
        ours.as_secs_f64() * 1e9 / insns.max(1) as f64
    );
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A folder of thousands of object files (the corpus copied 16 times): load and verify
/// every one, as `bpfcheck verify DIR` does, with the baseline of only reading the files.
fn thousands_of_files(corpus: &Path) {
    let dir = std::env::temp_dir().join(format!("bpfcheck-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut files = Vec::new();
    let mut sources = Vec::new();
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "o") {
                out.push(p);
            }
        }
    }
    walk(corpus, &mut sources);
    for copy in 0..16 {
        for (i, src) in sources.iter().enumerate() {
            let dst = dir.join(format!("{copy}-{i}.o"));
            if std::fs::copy(src, &dst).is_ok() {
                files.push(dst);
            }
        }
    }
    let t = Instant::now();
    for f in &files {
        black_box(std::fs::read(f).ok());
    }
    let base = t.elapsed();
    let config = Config { timeout: Some(Duration::from_secs(10)), ..Config::default() };
    let t = Instant::now();
    let mut programs = 0;
    for f in &files {
        if let Ok(o) = analyzer::elf::load_object(f) {
            for i in 0..o.programs.len() {
                black_box(verify_program(&o, i, &config));
                programs += 1;
            }
        }
    }
    let ours = t.elapsed();
    println!(
        "{} files ({programs} programs): load+verify {:.1} s, read-only baseline {:.1} ms, ratio {:.0}x, peak RSS {:.0} MiB",
        files.len(),
        ours.as_secs_f64(),
        base.as_secs_f64() * 1e3,
        ours.as_secs_f64() / base.as_secs_f64().max(1e-9),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = objects_under(&root.join("corpus"));
    report("corpus", &corpus);
    let samples_dir = root.join("../shared/ebpf-samples");
    let samples = if samples_dir.is_dir() {
        let objs = objects_under(&samples_dir);
        report("ebpf-samples", &objs);
        objs
    } else {
        println!("skipped ebpf-samples (whole folder and its small/medium/largest programs): {} not found", samples_dir.display());
        Vec::new()
    };
    let mut picked = Vec::new();
    if !samples.is_empty() {
        let config = Config { timeout: Some(Duration::from_secs(60)), ..Config::default() };
        for (label, rel, func) in SAMPLE_PROGRAMS {
            let Some((obj, idx)) = sample_program(&samples_dir, rel, func) else {
                println!("skipped {label} program: {rel} {func} not found or not loadable");
                continue;
            };
            let insns = obj.programs.get(idx).map_or(0, |p| p.insns.len());
            let t = Instant::now();
            let r = black_box(verify_program(&obj, idx, &config));
            println!(
                "{label} program: {rel} {func}, {insns} insns: {} in {:.2} ms",
                r.verdict.as_str(),
                t.elapsed().as_secs_f64() * 1e3
            );
            picked.push((format!("verify {label} ({func}, {insns} insns)"), obj, idx));
        }
    }
    for (name, obj) in [("1M insns", million_insns()), ("nested loops", nested_loops()), ("4000 maps", many_maps())] {
        report(name, std::slice::from_ref(&obj));
    }
    thousands_of_files(&root.join("corpus"));
    println!("peak RSS so far: {:.0} MiB", peak_rss_mib().unwrap_or(f64::NAN));
    let mut g = c.benchmark_group("analyzer");
    g.sample_size(10);
    g.bench_function("verify corpus", |b| b.iter(|| verify_all(&corpus)));
    g.bench_function("decode corpus (baseline)", |b| b.iter(|| decode_all(&corpus)));
    let config = Config { timeout: Some(Duration::from_secs(60)), ..Config::default() };
    for (name, obj, idx) in &picked {
        g.bench_function(name.as_str(), |b| b.iter(|| black_box(verify_program(obj, *idx, &config))));
    }
    if !samples.is_empty() {
        g.measurement_time(Duration::from_secs(30));
        g.bench_function("verify ebpf-samples", |b| b.iter(|| verify_all(&samples)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
