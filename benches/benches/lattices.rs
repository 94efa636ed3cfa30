//! Benchmarks of the abstract domains in `lattices`, one criterion group per domain:
//! - `tnum`: add, sub, mul (and the two other multiplications), and, or, xor, neg,
//!   shifts by a constant and by a tnum, intersect, union, the `Lattice` join;
//! - `interval`: add, sub, mul, div (unsigned: udiv, signed: sdiv) and shl of
//!   `U64Range`, `S64Range`, `U32Range`, `S32Range`;
//! - `scalar`: `Scalar::binop` of every `BinOp` at 64 bits (each includes the bound sync),
//!   a few at 32 bits, the bound sync alone, join, meet, leq and widen;
//! - `refine`: `Scalar::refine` of every `Cmp`, taken, at 64 and 32 bits, and
//!   `Scalar::branch_outcome`.
//!
//! Every operation runs over the same 256 deterministic input pairs (constants, ranges,
//! partially known values from `lattices::testing::Rng`). Before the criterion runs, a
//! table prints ns/op of each operation and its ratio to a baseline measured in the same
//! run right before the group (`u64::wrapping_add` over the same input pairs), so the
//! machine's load affects both alike; each figure is the fastest of 7 short batches.
//!
//! Run with `cargo bench -p bpfcheck-benches --bench lattices` (about two minutes: 1 s of
//! measurement and 300 ms of warm-up per operation); `-- --table-only` prints the table
//! and skips criterion.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use lattices::{BinOp, BitWidth, Cmp, Lattice, S32Range, S64Range, Scalar, Thresholds, Tnum, U32Range, U64Range};
use std::hint::black_box;
use std::time::{Duration, Instant};

const N: usize = 256;

/// Deterministic inputs: constants, ranges and partially known values.
struct Inputs {
    words: Vec<u64>,
    tnums: Vec<Tnum>,
    shifts: Vec<Tnum>,
    u64r: Vec<U64Range>,
    s64r: Vec<S64Range>,
    u32r: Vec<U32Range>,
    s32r: Vec<S32Range>,
    amounts: Vec<u8>,
    scalars: Vec<Scalar>,
    thresholds: Thresholds,
}

fn inputs() -> Inputs {
    let mut rng = lattices::testing::Rng::new(0x5eed);
    let mut inp = Inputs {
        words: Vec::with_capacity(N),
        tnums: Vec::with_capacity(N),
        shifts: Vec::with_capacity(N),
        u64r: Vec::with_capacity(N),
        s64r: Vec::with_capacity(N),
        u32r: Vec::with_capacity(N),
        s32r: Vec::with_capacity(N),
        amounts: Vec::with_capacity(N),
        scalars: Vec::with_capacity(N),
        thresholds: Thresholds::none(),
    };
    let mut consts = Vec::new();
    for i in 0..N {
        let a = rng.interesting_u64();
        let b = rng.interesting_u64();
        let m = rng.next_u64() & (u64::MAX >> (i % 64));
        let amt = (rng.next_u64() % 64) as u8;
        inp.words.push(a);
        inp.tnums.push(Tnum::new(a & !m, m));
        inp.shifts.push(if i % 2 == 0 { Tnum::constant(amt.into()) } else { Tnum::range(0, u64::from(amt)) });
        inp.amounts.push(amt);
        inp.u64r.push(U64Range::new(a.min(b), a.max(b)));
        let (sa, sb) = (a as i64, b as i64);
        inp.s64r.push(S64Range::new(sa.min(sb), sa.max(sb)));
        let (a32, b32) = (a as u32, b as u32);
        inp.u32r.push(U32Range::new(a32.min(b32), a32.max(b32)));
        let (sa32, sb32) = (a32 as i32, b32 as i32);
        inp.s32r.push(S32Range::new(sa32.min(sb32), sa32.max(sb32)));
        inp.scalars.push(match i % 4 {
            0 => Scalar::constant(a),
            1 => Scalar::from_urange(a.min(b), a.max(b)),
            2 => Scalar::from_tnum(Tnum::new(a & !m, m)),
            _ => Scalar::from_srange(sa.min(sb), sa.max(sb)),
        });
        if i % 8 == 0 {
            consts.push(a);
        }
    }
    inp.thresholds = Thresholds::from_constants(consts);
    inp
}

/// Nanoseconds per call of `f(i, i+1)` over all input pairs: the fastest of 7 batches of
/// about 3 ms each (the minimum is the figure least disturbed by other load on the machine).
fn ns_per_op<R>(f: impl Fn(usize, usize) -> R) -> f64 {
    let one = || {
        for i in 0..N {
            black_box(f(black_box(i), (i + 1) % N));
        }
    };
    let batch = |rounds: u32| {
        let t = Instant::now();
        for _ in 0..rounds {
            one();
        }
        t.elapsed()
    };
    let mut rounds = 1u32;
    while batch(rounds) < Duration::from_millis(3) && rounds < 1 << 20 {
        rounds = rounds.saturating_mul(2);
    }
    let best = (0..7).map(|_| batch(rounds)).min().unwrap_or_default();
    best.as_nanos() as f64 / (f64::from(rounds) * N as f64)
}

/// One criterion group plus its rows of the printed table.
struct Group<'a> {
    name: &'static str,
    group: Option<BenchmarkGroup<'a, WallTime>>,
    base: f64,
    rows: Vec<(String, f64)>,
}

impl<'a> Group<'a> {
    fn new(c: &'a mut Criterion, name: &'static str, words: &[u64], table_only: bool) -> Group<'a> {
        let base = ns_per_op(|i, j| black_box(words[i]).wrapping_add(black_box(words[j]))).max(1e-3);
        let group = (!table_only).then(|| {
            let mut g = c.benchmark_group(name);
            g.throughput(Throughput::Elements(N as u64));
            g.measurement_time(Duration::from_secs(1));
            g.warm_up_time(Duration::from_millis(300));
            g.sample_size(20);
            g.bench_function("baseline u64 wrapping_add", |b| {
                b.iter(|| {
                    for i in 0..N {
                        black_box(black_box(words[i]).wrapping_add(black_box(words[(i + 1) % N])));
                    }
                })
            });
            g
        });
        Group { name, group, base, rows: Vec::new() }
    }

    /// Measures `f` over every input pair for the table and registers it with criterion.
    fn op<R>(&mut self, name: &str, f: impl Fn(usize, usize) -> R + Copy) {
        self.rows.push((name.to_string(), ns_per_op(f)));
        if let Some(g) = self.group.as_mut() {
            g.bench_function(name, |b| {
                b.iter(|| {
                    for i in 0..N {
                        black_box(f(black_box(i), (i + 1) % N));
                    }
                })
            });
        }
    }

    fn finish(self) {
        println!("== {}: baseline u64 wrapping_add {:.2} ns/op", self.name, self.base);
        for (name, ns) in &self.rows {
            println!("{:<10} {name:<28} {ns:>8.2} ns/op {:>8.1}x baseline", self.name, ns / self.base);
        }
        if let Some(g) = self.group {
            g.finish();
        }
    }
}

fn tnum_group(c: &mut Criterion, inp: &Inputs, table_only: bool) {
    let (t, sh, amt) = (&inp.tnums, &inp.shifts, &inp.amounts);
    let mut g = Group::new(c, "tnum", &inp.words, table_only);
    g.op("add", |i, j| t[i].add(t[j]));
    g.op("sub", |i, j| t[i].sub(t[j]));
    g.op("mul (6.18)", |i, j| t[i].mul(t[j]));
    g.op("mul_cgo", |i, j| t[i].mul_cgo(t[j]));
    g.op("mul_best", |i, j| t[i].mul_best(t[j]));
    g.op("and", |i, j| t[i].and(t[j]));
    g.op("or", |i, j| t[i].or(t[j]));
    g.op("xor", |i, j| t[i].xor(t[j]));
    g.op("neg", |i, _| t[i].neg());
    g.op("lshift const", |i, _| t[i].lshift(amt[i]));
    g.op("rshift const", |i, _| t[i].rshift(amt[i]));
    g.op("arshift const", |i, _| t[i].arshift(amt[i], 64));
    g.op("lshift_by tnum", |i, j| t[i].lshift_by(sh[j], 64));
    g.op("rshift_by tnum", |i, j| t[i].rshift_by(sh[j], 64));
    g.op("arshift_by tnum", |i, j| t[i].arshift_by(sh[j], 64));
    g.op("intersect", |i, j| t[i].intersect(t[j]));
    g.op("union", |i, j| t[i].union(t[j]));
    g.op("join (Lattice)", |i, j| {
        let mut a = t[i];
        a.join(&t[j]);
        a
    });
    g.finish();
}

fn interval_group(c: &mut Criterion, inp: &Inputs, table_only: bool) {
    let (u, s, u32r, s32r) = (&inp.u64r, &inp.s64r, &inp.u32r, &inp.s32r);
    let mut g = Group::new(c, "interval", &inp.words, table_only);
    g.op("u64 add", |i, j| u[i].add(&u[j]));
    g.op("u64 sub", |i, j| u[i].sub(&u[j]));
    g.op("u64 mul", |i, j| u[i].mul(&u[j]));
    g.op("u64 udiv", |i, j| u[i].udiv(&u[j]));
    g.op("u64 shl", |i, j| u[i].shl(&u[j]));
    g.op("s64 add", |i, j| s[i].add(&s[j]));
    g.op("s64 sub", |i, j| s[i].sub(&s[j]));
    g.op("s64 mul", |i, j| s[i].mul(&s[j]));
    g.op("s64 sdiv", |i, j| s[i].sdiv(&s[j]));
    g.op("s64 shl", |i, j| s[i].shl(&s[j]));
    g.op("u32 add", |i, j| u32r[i].add(&u32r[j]));
    g.op("u32 sub", |i, j| u32r[i].sub(&u32r[j]));
    g.op("u32 mul", |i, j| u32r[i].mul(&u32r[j]));
    g.op("u32 udiv", |i, j| u32r[i].udiv(&u32r[j]));
    g.op("u32 shl", |i, j| u32r[i].shl(&u32r[j]));
    g.op("s32 add", |i, j| s32r[i].add(&s32r[j]));
    g.op("s32 sub", |i, j| s32r[i].sub(&s32r[j]));
    g.op("s32 mul", |i, j| s32r[i].mul(&s32r[j]));
    g.op("s32 sdiv", |i, j| s32r[i].sdiv(&s32r[j]));
    g.op("s32 shl", |i, j| s32r[i].shl(&s32r[j]));
    g.finish();
}

const BINOPS: [BinOp; 13] = [
    BinOp::Add,
    BinOp::Sub,
    BinOp::Mul,
    BinOp::Div,
    BinOp::SDiv,
    BinOp::Mod,
    BinOp::SMod,
    BinOp::Or,
    BinOp::And,
    BinOp::Xor,
    BinOp::Lsh,
    BinOp::Rsh,
    BinOp::Arsh,
];

const CMPS: [Cmp; 11] = [
    Cmp::Eq,
    Cmp::Ne,
    Cmp::Gt,
    Cmp::Ge,
    Cmp::Lt,
    Cmp::Le,
    Cmp::SGt,
    Cmp::SGe,
    Cmp::SLt,
    Cmp::SLe,
    Cmp::Set,
];

fn scalar_group(c: &mut Criterion, inp: &Inputs, table_only: bool) {
    let sc = &inp.scalars;
    let th = &inp.thresholds;
    let none = Thresholds::none();
    let mut g = Group::new(c, "scalar", &inp.words, table_only);
    for op in BINOPS {
        g.op(&format!("binop {op:?} w64"), move |i, j| Scalar::binop(op, BitWidth::W64, &sc[i], &sc[j]));
    }
    for op in [BinOp::Add, BinOp::Mul, BinOp::And, BinOp::Lsh, BinOp::Div] {
        g.op(&format!("binop {op:?} w32"), move |i, j| Scalar::binop(op, BitWidth::W32, &sc[i], &sc[j]));
    }
    g.op("neg w64", |i, _| Scalar::neg(BitWidth::W64, &sc[i]));
    g.op("sync (bound sync alone)", |i, _| {
        let mut a = sc[i];
        a.umax = a.umax.wrapping_sub(1).max(a.umin);
        a.synced()
    });
    g.op("join", |i, j| {
        let mut a = sc[i];
        a.join(&sc[j]);
        a
    });
    g.op("meet", |i, j| sc[i].meet(&sc[j]));
    g.op("leq", |i, j| sc[i].leq(&sc[j]));
    g.op("widen (no thresholds)", |i, j| {
        let mut b = sc[i];
        b.join(&sc[j]);
        sc[i].widen(&b, &none)
    });
    g.op("widen (32 thresholds)", |i, j| {
        let mut b = sc[i];
        b.join(&sc[j]);
        sc[i].widen(&b, th)
    });
    g.finish();
}

fn refine_group(c: &mut Criterion, inp: &Inputs, table_only: bool) {
    let sc = &inp.scalars;
    let mut g = Group::new(c, "refine", &inp.words, table_only);
    for width in [BitWidth::W64, BitWidth::W32] {
        let w = width.bits();
        for cmp in CMPS {
            g.op(&format!("{cmp:?} w{w}"), move |i, j| Scalar::refine(cmp, width, true, &sc[i], &sc[j]));
        }
    }
    g.op("Lt w64 not taken", |i, j| Scalar::refine(Cmp::Lt, BitWidth::W64, false, &sc[i], &sc[j]));
    g.op("branch_outcome Lt w64", |i, j| Scalar::branch_outcome(Cmp::Lt, BitWidth::W64, &sc[i], &sc[j]));
    g.finish();
}

/// The precision report: at 8 bits, per tnum operation, the share of (sampled) input
/// pairs whose result is the best tnum (`lattices::precision`); our multiplication
/// against the kernel's algorithms.
fn precision_report() {
    use lattices::precision::{precision, TnumOp};
    println!("== precision at 8 bits (3000 sampled input pairs, seed 42): share of optimal results");
    let mut share = std::collections::HashMap::new();
    for op in TnumOp::ALL {
        let p = precision(op, 8, Some(3000), 42);
        println!("tnum {:<28} {:>7.4}  (unsound: {})", op.name(), p.share(), p.unsound);
        share.insert(op, p.share());
    }
    let ours = share[&TnumOp::MulBest];
    let kernel = [TnumOp::Mul, TnumOp::MulCgo, TnumOp::MulHma].map(|op| share[&op]);
    println!(
        "tnum mul_best {:.4} against the kernel's algorithms {:.4} (6.18), {:.4} (cgo), {:.4} (hma): {}",
        ours,
        kernel[0],
        kernel[1],
        kernel[2],
        if kernel.iter().all(|k| ours >= *k) { "at least as precise" } else { "LESS PRECISE" }
    );
}

fn main() {
    precision_report();
    let table_only = std::env::args().any(|a| a == "--table-only");
    // `cargo test --benches` runs bench binaries without `--bench`: print the table only.
    let table_only = table_only || !std::env::args().any(|a| a == "--bench");
    let inp = inputs();
    // No plots: criterion's plotting takes longer than the 1.3 s measurement of each op.
    let mut c = if table_only { Criterion::default() } else { Criterion::default().without_plots().configure_from_args() };
    tnum_group(&mut c, &inp, table_only);
    interval_group(&mut c, &inp, table_only);
    scalar_group(&mut c, &inp, table_only);
    refine_group(&mut c, &inp, table_only);
    if !table_only {
        c.final_summary();
    }
}
