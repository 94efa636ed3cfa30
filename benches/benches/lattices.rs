//! Benchmarks of the abstract domains in `lattices`: nanoseconds per tnum
//! add/mul, interval ops, `Scalar::binop` (Add, Mul, And) and
//! `Scalar::refine`, each also reported as a ratio against a baseline
//! measured in the same run (`u64::wrapping_add` over the same inputs).
//!
//! Run with `cargo bench -p bpfcheck-benches --bench lattices`.

use criterion::{criterion_group, criterion_main, Criterion};
use lattices::{BinOp, BitWidth, Cmp, Scalar, Tnum, U64Range, S64Range};
use std::hint::black_box;
use std::time::Instant;

const N: usize = 256;

/// Deterministic inputs: constants, ranges and partially known values.
struct Inputs {
    words: Vec<u64>,
    tnums: Vec<Tnum>,
    uranges: Vec<U64Range>,
    sranges: Vec<S64Range>,
    scalars: Vec<Scalar>,
}

fn inputs() -> Inputs {
    let mut rng = lattices::testing::Rng::new(0x5eed);
    let mut words = Vec::with_capacity(N);
    let mut tnums = Vec::with_capacity(N);
    let mut uranges = Vec::with_capacity(N);
    let mut sranges = Vec::with_capacity(N);
    let mut scalars = Vec::with_capacity(N);
    for i in 0..N {
        let a = rng.interesting_u64();
        let b = rng.interesting_u64();
        let m = rng.next_u64() & (u64::MAX >> (i % 64));
        words.push(a);
        tnums.push(Tnum::new(a & !m, m));
        uranges.push(U64Range::new(a.min(b), a.max(b)));
        let (sa, sb) = (a as i64, b as i64);
        sranges.push(S64Range::new(sa.min(sb), sa.max(sb)));
        scalars.push(match i % 4 {
            0 => Scalar::constant(a),
            1 => Scalar::from_urange(a.min(b), a.max(b)),
            2 => Scalar::from_tnum(Tnum::new(a & !m, m)),
            _ => Scalar::from_srange(sa.min(sb), sa.max(sb)),
        });
    }
    Inputs { words, tnums, uranges, sranges, scalars }
}

/// Average nanoseconds per call of `f(i, i+1)` over all input pairs.
fn ns_per_op(mut f: impl FnMut(usize, usize)) -> f64 {
    let rounds = 2000;
    let start = Instant::now();
    for _ in 0..rounds {
        for i in 0..N {
            f(i, (i + 1) % N);
        }
    }
    start.elapsed().as_nanos() as f64 / (rounds * N) as f64
}

/// Print ns/op and the ratio against the wrapping_add baseline.
fn print_ratios(inp: &Inputs) {
    let w = &inp.words;
    let base = ns_per_op(|i, j| {
        black_box(black_box(w[i]).wrapping_add(black_box(w[j])));
    })
    .max(1e-3);
    let t = &inp.tnums;
    let u = &inp.uranges;
    let s = &inp.sranges;
    let sc = &inp.scalars;
    let rows: Vec<(&str, f64)> = vec![
        ("tnum add", ns_per_op(|i, j| {
            black_box(black_box(t[i]).add(black_box(t[j])));
        })),
        ("tnum mul (6.18)", ns_per_op(|i, j| {
            black_box(black_box(t[i]).mul(black_box(t[j])));
        })),
        ("tnum mul_cgo", ns_per_op(|i, j| {
            black_box(black_box(t[i]).mul_cgo(black_box(t[j])));
        })),
        ("u64 interval add", ns_per_op(|i, j| {
            black_box(black_box(u[i]).add(black_box(&u[j])));
        })),
        ("u64 interval mul", ns_per_op(|i, j| {
            black_box(black_box(u[i]).mul(black_box(&u[j])));
        })),
        ("s64 interval mul", ns_per_op(|i, j| {
            black_box(black_box(s[i]).mul(black_box(&s[j])));
        })),
        ("s64 interval sdiv", ns_per_op(|i, j| {
            black_box(black_box(s[i]).sdiv(black_box(&s[j])));
        })),
        ("Scalar::binop Add", ns_per_op(|i, j| {
            black_box(Scalar::binop(BinOp::Add, BitWidth::W64, black_box(&sc[i]), black_box(&sc[j])));
        })),
        ("Scalar::binop Mul", ns_per_op(|i, j| {
            black_box(Scalar::binop(BinOp::Mul, BitWidth::W64, black_box(&sc[i]), black_box(&sc[j])));
        })),
        ("Scalar::binop And", ns_per_op(|i, j| {
            black_box(Scalar::binop(BinOp::And, BitWidth::W64, black_box(&sc[i]), black_box(&sc[j])));
        })),
        ("Scalar::refine Lt", ns_per_op(|i, j| {
            black_box(Scalar::refine(Cmp::Lt, BitWidth::W64, true, black_box(&sc[i]), black_box(&sc[j])));
        })),
    ];
    println!("baseline u64 wrapping_add: {base:.2} ns/op");
    for (name, ns) in rows {
        println!("{name:<22} {ns:>8.2} ns/op  {:>8.1}x baseline", ns / base);
    }
}

fn bench(c: &mut Criterion) {
    let inp = inputs();
    print_ratios(&inp);
    let (w, t, u, sc) = (&inp.words, &inp.tnums, &inp.uranges, &inp.scalars);
    c.bench_function("baseline/u64_wrapping_add", |b| {
        b.iter(|| {
            for i in 0..N {
                black_box(black_box(w[i]).wrapping_add(black_box(w[(i + 1) % N])));
            }
        })
    });
    c.bench_function("tnum/add", |b| {
        b.iter(|| {
            for i in 0..N {
                black_box(black_box(t[i]).add(black_box(t[(i + 1) % N])));
            }
        })
    });
    c.bench_function("tnum/mul", |b| {
        b.iter(|| {
            for i in 0..N {
                black_box(black_box(t[i]).mul(black_box(t[(i + 1) % N])));
            }
        })
    });
    c.bench_function("interval/u64_add_mul", |b| {
        b.iter(|| {
            for i in 0..N {
                black_box(black_box(u[i]).add(black_box(&u[(i + 1) % N])));
                black_box(black_box(u[i]).mul(black_box(&u[(i + 1) % N])));
            }
        })
    });
    for op in [BinOp::Add, BinOp::Mul, BinOp::And] {
        c.bench_function(&format!("scalar/binop_{op:?}"), |b| {
            b.iter(|| {
                for i in 0..N {
                    black_box(Scalar::binop(op, BitWidth::W64, black_box(&sc[i]), black_box(&sc[(i + 1) % N])));
                }
            })
        });
    }
    c.bench_function("scalar/refine_lt", |b| {
        b.iter(|| {
            for i in 0..N {
                black_box(Scalar::refine(Cmp::Lt, BitWidth::W64, true, black_box(&sc[i]), black_box(&sc[(i + 1) % N])));
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
