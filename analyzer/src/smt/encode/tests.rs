//! Differential tests: every encoding, applied to concrete inputs and
//! folded by Z3's simplifier, must give exactly what the Rust code gives.
//! This is what ties the proofs in `prove_domains` to the real code.

use super::range::SymRange;
use super::refine;
use super::scalar::{SymScalar, SyncMode};
use super::tnum::SymTnum;
use super::{concrete, lit, truth_of, value_of};
use lattices::scalar::{eval_binop, eval_cmp};
use lattices::testing::Rng;
use lattices::{BinOp, BitWidth, Cmp, Lattice, Scalar, Tnum};
use lattices::{S32Range, S64Range, U32Range, U64Range};

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
const ALL_OPS: [BinOp; 13] = [
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
const BITOPS: [BinOp; 5] = [BinOp::Add, BinOp::Sub, BinOp::And, BinOp::Or, BinOp::Xor];

/// A valid tnum of one of several shapes (constants, low masks, ranges, random).
fn rand_tnum(rng: &mut Rng) -> Tnum {
    match rng.below(5) {
        0 => Tnum::constant(rng.interesting_u64()),
        1 => {
            let k = rng.below(65);
            let m = if k == 0 { 0 } else { u64::MAX >> (64 - k) };
            Tnum::new(rng.next_u64() & !m, m)
        }
        2 => {
            let (a, b) = (rng.interesting_u64(), rng.interesting_u64());
            Tnum::range(a.min(b), a.max(b))
        }
        3 => Tnum::UNKNOWN,
        _ => {
            let (v, m) = (rng.next_u64(), rng.next_u64() & rng.next_u64());
            Tnum::new(v & !m, m)
        }
    }
}

/// A value near the bounds that matter (0, sign bits, 32-bit edges) or random.
fn rand_u64(rng: &mut Rng) -> u64 {
    let base = rng.interesting_u64();
    match rng.below(4) {
        0 => base,
        1 => base.wrapping_add(rng.below(5)).wrapping_sub(2),
        2 => rng.next_u64(),
        _ => (rng.interesting_u64() << 32) | (rng.interesting_u64() & 0xffff_ffff),
    }
}

/// A scalar: mostly synced ones built from ranges/tnums/constants and their
/// meets, sometimes raw (unsynced, possibly inconsistent or bottom).
fn rand_scalar(rng: &mut Rng) -> Scalar {
    let (a, b) = (rand_u64(rng), rand_u64(rng));
    let s = match rng.below(8) {
        0 => Scalar::constant(a),
        1 => Scalar::from_urange(a.min(b), a.max(b)),
        2 => Scalar::from_srange((a as i64).min(b as i64), (a as i64).max(b as i64)),
        3 => Scalar::from_tnum(rand_tnum(rng)),
        4 => {
            let x = Scalar::from_urange(a.min(b), a.max(b));
            x.meet(&Scalar::from_tnum(rand_tnum(rng)))
        }
        5 => {
            // 32-bit-ish: small upper half
            let lo = Scalar::from_urange(a.min(b) & 0xffff_ffff, a.max(b) & 0xffff_ffff);
            lo.meet(&Scalar::from_srange(
                -((a & 0xff) as i64),
                (b & 0xffff) as i64,
            ))
        }
        _ => Scalar {
            var_off: rand_tnum(rng),
            umin: a.min(b),
            umax: a.max(b),
            smin: (rand_u64(rng) as i64).min(a as i64),
            smax: (rand_u64(rng) as i64).max(b as i64),
            u32_min: (rand_u64(rng) as u32).min(a as u32),
            u32_max: (rand_u64(rng) as u32).max(b as u32),
            s32_min: (rand_u64(rng) as i32).min(a as i32),
            s32_max: (rand_u64(rng) as i32).max(b as i32),
        },
    };
    if rng.below(10) == 0 {
        // a raw field perturbation (may make it inconsistent or bottom)
        let mut t = s;
        t.umin = t.umin.wrapping_add(rng.below(3));
        t.s32_max = t.s32_max.wrapping_sub(rng.below(3) as i32);
        t
    } else {
        s
    }
}

fn eval_tnum(t: &SymTnum) -> Tnum {
    t.eval().expect("tnum folds to a constant")
}

fn eval_scalar(s: &SymScalar) -> Scalar {
    s.eval().expect("scalar folds to a constant")
}

#[test]
fn tnum_encodings_match_rust() {
    let mut rng = Rng::new(1);
    for i in 0..1500 {
        let (a, b) = (rand_tnum(&mut rng), rand_tnum(&mut rng));
        let (sa, sb) = (SymTnum::lit(a, 64), SymTnum::lit(b, 64));
        let sh = (rng.next_u64() & 0xff) as u8;
        let s8 = lit(sh as u64, 8);
        let cases: [(&str, SymTnum, Tnum); 14] = [
            ("add", sa.add(&sb), a.add(b)),
            ("sub", sa.sub(&sb), a.sub(b)),
            ("neg", sa.neg(), a.neg()),
            ("and", sa.and(&sb), a.and(b)),
            ("or", sa.or(&sb), a.or(b)),
            ("xor", sa.xor(&sb), a.xor(b)),
            ("intersect", sa.intersect(&sb), a.intersect(b)),
            ("union", sa.union(&sb), a.union(b)),
            ("lshift", sa.lshift(&s8), a.lshift(sh)),
            ("rshift", sa.rshift(&s8), a.rshift(sh)),
            ("arshift64", sa.arshift(&s8, 64), a.arshift(sh, 64)),
            ("arshift32", sa.arshift(&s8, 32), a.arshift(sh, 32)),
            (
                "range",
                SymTnum::range(&sa.value, &sb.value),
                Tnum::range(a.value, b.value),
            ),
            ("with_subreg", sa.with_subreg(&sb), a.with_subreg(b)),
        ];
        for (name, enc, rust) in cases {
            assert_eq!(eval_tnum(&enc), rust, "{name}({a}, {b}) shift {sh}");
        }
        let (ok, m) = sa.meet_checked(&sb);
        assert_eq!(
            truth_of(&ok),
            Some(a.meet_checked(b).is_some()),
            "meet_checked({a}, {b})"
        );
        if let Some(r) = a.meet_checked(b) {
            assert_eq!(eval_tnum(&m), r);
        }
        assert_eq!(eval_tnum(&sa.meet(&sb)), a.meet(&b));
        assert_eq!(value_of(&sa.smin()), Some(a.smin() as u64));
        let x = if i % 2 == 0 {
            rng.interesting_u64()
        } else {
            rng.next_u64()
        };
        for (name, (some, v), rust) in [
            ("floor", sa.floor(&lit(x, 64)), a.floor(x)),
            ("ceil", sa.ceil(&lit(x, 64)), a.ceil(x)),
        ] {
            assert_eq!(truth_of(&some), Some(rust.is_some()), "{name}({a}, {x:#x})");
            if let Some(r) = rust {
                assert_eq!(value_of(&v), Some(r), "{name}({a}, {x:#x})");
            }
        }
        assert_eq!(value_of(&sa.smax()), Some(a.smax() as u64));
        if i % 5 == 0 {
            assert_eq!(eval_tnum(&sa.mul(&sb)), a.mul(b), "mul({a}, {b})");
            // the 8-bit unrolling is the low byte of the Rust result on 8-bit inputs
            let (a8, b8) = (a.cast(1), b.cast(1));
            let m8 = SymTnum::lit(a8, 8).mul(&SymTnum::lit(b8, 8));
            assert_eq!(eval_tnum(&m8), a8.mul(b8).cast(1), "mul8({a8}, {b8})");
        }
    }
}

#[test]
fn interval_encodings_match_rust() {
    let mut rng = Rng::new(2);
    for (w, signed) in [(64, false), (64, true), (32, false), (32, true)] {
        let mask = if w == 64 { u64::MAX } else { 0xffff_ffff };
        let ord = |x: u64| {
            if signed {
                (((x << (64 - w)) as i64) >> (64 - w)) as i128
            } else {
                x as i128
            }
        };
        for _ in 0..600 {
            let pair = |rng: &mut Rng| {
                let (x, y) = (rand_u64(rng) & mask, rand_u64(rng) & mask);
                // mostly well-formed, sometimes empty, sometimes a constant
                match rng.below(8) {
                    0 => (x, y),
                    1 => (x, x),
                    _ if ord(x) <= ord(y) => (x, y),
                    _ => (y, x),
                }
            };
            let (a, b) = (pair(&mut rng), pair(&mut rng));
            let (sa, sb) = (
                SymRange::lit(a.0, a.1, w, signed),
                SymRange::lit(b.0, b.1, w, signed),
            );
            for op in BITOPS {
                let enc = super::scalar::range_op(op, &sa, &sb).expect("encoded");
                let got = enc.eval().expect("folds");
                assert_eq!(
                    got,
                    crate::smt::prove_domains::rust_interval(w, signed, op, a, b),
                    "w{w} signed={signed} {op:?} {a:x?} {b:x?}"
                );
            }
        }
    }
}

#[test]
fn concrete_semantics_match_eval_binop_and_eval_cmp() {
    let mut rng = Rng::new(3);
    for _ in 0..400 {
        let (x, y) = (rand_u64(&mut rng), rand_u64(&mut rng));
        let y = if rng.below(6) == 0 { 0 } else { y };
        let (bx, by) = (lit(x, 64), lit(y, 64));
        for w in [BitWidth::W64, BitWidth::W32] {
            for op in ALL_OPS {
                assert_eq!(
                    value_of(&concrete::binop(op, w, &bx, &by)),
                    Some(eval_binop(op, w, x, y)),
                    "{op:?} {w:?}"
                );
            }
            for c in CMPS {
                assert_eq!(
                    truth_of(&concrete::cmp(c, w, &bx, &by)),
                    Some(eval_cmp(c, w, x, y)),
                    "{c:?} {w:?}"
                );
            }
        }
    }
}

#[test]
fn sync_and_meet_encodings_match_rust() {
    let mut rng = Rng::new(4);
    for i in 0..800 {
        let s = rand_scalar(&mut rng);
        let enc = SymScalar::lit(&s).synced();
        assert_eq!(eval_scalar(&enc), s.synced(), "sync({s:?})");
        assert_eq!(
            truth_of(&SymScalar::lit(&s).is_bottom()),
            Some(s.is_bottom())
        );
        if i % 4 == 0 {
            let t = rand_scalar(&mut rng);
            let m = SymScalar::lit(&s).meet(&SymScalar::lit(&t), SyncMode::Exact);
            assert_eq!(eval_scalar(&m), s.meet(&t), "meet({s:?}, {t:?})");
        }
        let x = rand_u64(&mut rng);
        assert_eq!(
            truth_of(&SymScalar::lit(&s).contains(&lit(x, 64))),
            Some(s.contains(x))
        );
    }
}

#[test]
fn scalar_binop_encodings_match_rust() {
    let mut rng = Rng::new(5);
    for _ in 0..120 {
        let (a, b) = (rand_scalar(&mut rng), rand_scalar(&mut rng));
        let (sa, sb) = (SymScalar::lit(&a), SymScalar::lit(&b));
        for w in [BitWidth::W64, BitWidth::W32] {
            for op in BITOPS {
                let enc = SymScalar::binop(op, w, &sa, &sb, SyncMode::Exact).expect("encoded");
                assert_eq!(
                    eval_scalar(&enc),
                    Scalar::binop(op, w, &a, &b),
                    "{op:?} {w:?} {a:?} {b:?}"
                );
            }
        }
    }
    // the other operations are reported as not encoded
    assert!(SymScalar::binop(
        BinOp::Mul,
        BitWidth::W64,
        &SymScalar::bottom(),
        &SymScalar::bottom(),
        SyncMode::Exact
    )
    .is_none());
}

#[test]
fn branch_outcome_and_refine_encodings_match_rust() {
    let mut rng = Rng::new(6);
    let mut some = 0;
    for i in 0..30 {
        let a = rand_scalar(&mut rng);
        // pair with related operands too, so that refinements are non-trivial
        let b = match i % 3 {
            0 => rand_scalar(&mut rng),
            1 => Scalar::constant(rand_u64(&mut rng)),
            _ => a,
        };
        let (sa, sb) = (SymScalar::lit(&a), SymScalar::lit(&b));
        for w in [BitWidth::W64, BitWidth::W32] {
            for c in CMPS {
                let o = refine::branch_outcome(c, w, &sa, &sb);
                let rust = Scalar::branch_outcome(c, w, &a, &b);
                let is_some = truth_of(&o.some).expect("folds");
                assert_eq!(is_some, rust.is_some(), "outcome {c:?} {w:?} {a:?} {b:?}");
                if let Some(v) = rust {
                    assert_eq!(
                        truth_of(&o.value),
                        Some(v),
                        "outcome {c:?} {w:?} {a:?} {b:?}"
                    );
                }
                for taken in [true, false] {
                    let r = refine::refine(c, w, taken, &sa, &sb, SyncMode::Exact);
                    let rust = Scalar::refine(c, w, taken, &a, &b);
                    assert_eq!(
                        truth_of(&r.some),
                        Some(rust.is_some()),
                        "refine {c:?} {w:?} {taken} {a:?} {b:?}"
                    );
                    if let Some((ra, rb)) = rust {
                        some += 1;
                        assert_eq!(
                            eval_scalar(&r.a),
                            ra,
                            "refine a {c:?} {w:?} {taken} {a:?} {b:?}"
                        );
                        assert_eq!(
                            eval_scalar(&r.b),
                            rb,
                            "refine b {c:?} {w:?} {taken} {a:?} {b:?}"
                        );
                    }
                }
            }
        }
    }
    assert!(some > 250, "only {some} refinements were feasible");
}

#[test]
fn tnum_shift_by_encodings_match_rust() {
    let mut rng = Rng::new(0x5b1f7);
    for i in 0..40 {
        let a = rand_tnum(&mut rng);
        // small amounts most of the time (few possible shifts), any otherwise
        let amt = if i % 3 == 0 {
            rand_tnum(&mut rng)
        } else {
            Tnum::new(rng.below(64) & !3, 3 & (i as u64))
        };
        let (sa, samt) = (SymTnum::lit(a, 64), SymTnum::lit(amt, 64));
        for bitness in [32u8, 64] {
            for (op, rust) in [
                (BinOp::Lsh, a.lshift_by(amt, bitness)),
                (BinOp::Rsh, a.rshift_by(amt, bitness)),
                (BinOp::Arsh, a.arshift_by(amt, bitness)),
            ] {
                assert_eq!(
                    eval_tnum(&sa.shift_by(&samt, bitness, op)),
                    rust,
                    "{op:?}_by({a}, {amt}, {bitness})"
                );
            }
        }
    }
}

#[test]
fn scalar_zext32_encoding_matches_rust() {
    let mut rng = Rng::new(0x2e37);
    for _ in 0..60 {
        let a = rand_scalar(&mut rng);
        let sa = SymScalar::lit(&a);
        assert_eq!(eval_scalar(&sa.zext32(SyncMode::Exact)), a.zext32(), "zext32({a:?})");
    }
}

/// The Rust `neg` of the range `(min, max)` (bit patterns) at `w` bits.
fn rust_range_neg(w: u32, signed: bool, (lo, hi): (u64, u64)) -> (u64, u64) {
    match (w, signed) {
        (64, false) => {
            let r = U64Range { min: lo, max: hi }.neg();
            (r.min, r.max)
        }
        (64, true) => {
            let r = S64Range { min: lo as i64, max: hi as i64 }.neg();
            (r.min as u64, r.max as u64)
        }
        (_, false) => {
            let r = U32Range { min: lo as u32, max: hi as u32 }.neg();
            (r.min as u64, r.max as u64)
        }
        (_, true) => {
            let r = S32Range { min: lo as u32 as i32, max: hi as u32 as i32 }.neg();
            (r.min as u32 as u64, r.max as u32 as u64)
        }
    }
}

#[test]
fn interval_neg_encodings_match_rust() {
    let mut rng = Rng::new(0x4e67);
    for (w, signed) in [(64, false), (64, true), (32, false), (32, true)] {
        let mask = if w == 64 { u64::MAX } else { 0xffff_ffff };
        let mut nontrivial = 0;
        for i in 0..400 {
            let (x, y) = (rand_u64(&mut rng) & mask, rand_u64(&mut rng) & mask);
            // include the edge cases: 0 as either bound, the sign bit, empty
            let a = match i % 8 {
                0 => (0, y),
                1 => (x, 0),
                2 => (0, 0),
                3 => (1u64 << (w - 1), y),
                _ => (x.min(y), x.max(y)),
            };
            let want = rust_range_neg(w, signed, a);
            let full = if signed { (1u64 << (w - 1), (1u64 << (w - 1)) - 1) } else { (0, mask) };
            if want != full {
                nontrivial += 1;
            }
            let got = SymRange::lit(a.0, a.1, w, signed).neg().eval().expect("folds");
            assert_eq!(got, want, "w{w} signed={signed} neg {a:x?}");
        }
        assert!(nontrivial > 50, "w{w} signed={signed}: too few non-full results");
    }
}

#[test]
fn scalar_neg_encoding_matches_rust() {
    let mut rng = Rng::new(0x6e65);
    for _ in 0..60 {
        let a = rand_scalar(&mut rng);
        let sa = SymScalar::lit(&a);
        for w in [BitWidth::W64, BitWidth::W32] {
            assert_eq!(
                eval_scalar(&SymScalar::neg(w, &sa, SyncMode::Exact)),
                Scalar::neg(w, &a),
                "neg {w:?} ({a:?})"
            );
        }
    }
}

#[test]
fn scalar_truncate_encoding_matches_rust() {
    let mut rng = Rng::new(0x7275);
    for i in 0..80 {
        let mut a = rand_scalar(&mut rng);
        if i % 4 == 0 {
            // narrow ranges, where truncation keeps exact bounds
            let b = rand_u64(&mut rng);
            a = a.meet(&Scalar::from_urange(b, b.saturating_add(rng.below(300))));
        }
        let sa = SymScalar::lit(&a);
        for bytes in 0..=8 {
            assert_eq!(
                eval_scalar(&sa.truncate(bytes, SyncMode::Exact)),
                a.truncate(bytes),
                "truncate({a:?}, {bytes})"
            );
        }
    }
}

#[test]
fn scalar_sext_encoding_matches_rust() {
    let mut rng = Rng::new(0x7365);
    for i in 0..60 {
        let mut a = rand_scalar(&mut rng);
        if i % 3 == 0 {
            // narrow ranges around a sign bit, where sext keeps exact bounds
            let b = rand_u64(&mut rng);
            a = a.meet(&Scalar::from_urange(b, b.saturating_add(rng.below(300))));
        }
        let sa = SymScalar::lit(&a);
        for from_bits in [0u8, 1, 8, 16, 31, 32, 33, 64] {
            for w in [BitWidth::W64, BitWidth::W32] {
                assert_eq!(
                    eval_scalar(&sa.sext(from_bits, w, SyncMode::Exact)),
                    a.sext(from_bits, w),
                    "sext({a:?}, {from_bits}, {w:?})"
                );
            }
        }
    }
}

#[test]
fn tnum_sext_encoding_matches_rust() {
    let mut rng = Rng::new(0x7473);
    for _ in 0..200 {
        let a = rand_tnum(&mut rng);
        for n in [0u8, 1, 7, 8, 16, 32, 63, 64] {
            assert_eq!(eval_tnum(&SymTnum::lit(a, 64).sext(n)), a.sext(n), "{a:?}.sext({n})");
        }
    }
}

#[test]
fn scalar_bswap_encoding_matches_rust() {
    let mut rng = Rng::new(0x6273);
    for _ in 0..60 {
        let a = rand_scalar(&mut rng);
        let sa = SymScalar::lit(&a);
        for bits in [0u8, 16, 32, 64] {
            assert_eq!(
                eval_scalar(&sa.bswap(bits, SyncMode::Exact)),
                a.bswap(bits),
                "bswap({a:?}, {bits})"
            );
        }
        let x = rand_u64(&mut rng);
        for bits in [16u32, 32, 64] {
            let want = match bits {
                16 => (x as u16).swap_bytes() as u64,
                32 => (x as u32).swap_bytes() as u64,
                _ => x.swap_bytes(),
            };
            assert_eq!(value_of(&super::swap_bytes(&lit(x, 64), bits)), Some(want), "{x:#x} {bits}");
        }
    }
}

#[test]
fn interval_udiv_umod_encodings_match_rust() {
    let mut rng = Rng::new(0x6476);
    for w in [64u32, 32] {
        let mask = if w == 64 { u64::MAX } else { 0xffff_ffff };
        for i in 0..400 {
            let pair = |rng: &mut Rng| {
                let (x, y) = (rand_u64(rng) & mask, rand_u64(rng) & mask);
                match rng.below(8) {
                    0 => (x, y),
                    1 => (x, x),
                    2 => (0, y & 0xff),
                    3 => (0, 0),
                    4 => (x & 0xff, y & 0xfff),
                    _ => (x.min(y), x.max(y)),
                }
            };
            let (a, b) = (pair(&mut rng), pair(&mut rng));
            let (sa, sb) = (SymRange::lit(a.0, a.1, w, false), SymRange::lit(b.0, b.1, w, false));
            let want = if w == 64 {
                let (x, y) = (U64Range { min: a.0, max: a.1 }, U64Range { min: b.0, max: b.1 });
                let (d, m) = (x.udiv(&y), x.umod(&y));
                ((d.min, d.max), (m.min, m.max))
            } else {
                let c = |v: u64| v as u32;
                let (x, y) = (U32Range { min: c(a.0), max: c(a.1) }, U32Range { min: c(b.0), max: c(b.1) });
                let (d, m) = (x.udiv(&y), x.umod(&y));
                ((d.min as u64, d.max as u64), (m.min as u64, m.max as u64))
            };
            assert_eq!(sa.udiv(&sb).eval().expect("folds"), want.0, "w{w} {i} {a:x?} / {b:x?}");
            assert_eq!(sa.umod(&sb).eval().expect("folds"), want.1, "w{w} {i} {a:x?} % {b:x?}");
        }
    }
}

#[test]
fn interval_sext_encodings_match_rust() {
    use crate::smt::prove_domains::rust_interval_sext;
    let mut rng = Rng::new(0x5e87);
    for (w, signed) in [(64u32, false), (64, true), (32, false), (32, true)] {
        let mask = if w == 64 { u64::MAX } else { 0xffff_ffff };
        let key = |v: u64| if signed { (v ^ (1u64 << (w - 1))) & mask } else { v };
        for i in 0..200 {
            let (x, y) = (rand_u64(&mut rng) & mask, rand_u64(&mut rng) & mask);
            let (lo, hi) = if key(x) <= key(y) { (x, y) } else { (y, x) };
            let (lo, hi) = match rng.below(6) {
                0 => (hi, lo),
                1 => (lo, lo),
                2 => (lo, lo.wrapping_add(rng.below(300)) & mask),
                _ => (lo, hi),
            };
            for k in [1u32, 8, 16, 32, 33, 63, 64] {
                let r = SymRange::lit(lo, hi, w, signed).sext(k);
                assert_eq!(
                    r.eval(),
                    Some(rust_interval_sext(w, signed, k, (lo, hi))),
                    "w{w} signed={signed} {i} [{lo:#x}, {hi:#x}].sext({k})"
                );
            }
        }
    }
}

#[test]
fn tnum_mul_cgo_encoding_matches_rust() {
    let mut rng = Rng::new(0xc60);
    for i in 0..150 {
        let (a, b) = (rand_tnum(&mut rng), rand_tnum(&mut rng));
        let (sa, sb) = (SymTnum::lit(a, 64), SymTnum::lit(b, 64));
        assert_eq!(eval_tnum(&sa.mul_cgo(&sb)), a.mul_cgo(b), "{i}: mul_cgo({a}, {b})");
    }
}

#[test]
fn tnum_mul_best_encoding_matches_rust() {
    let mut rng = Rng::new(0xbe57);
    for i in 0..100 {
        let (a, b) = (rand_tnum(&mut rng), rand_tnum(&mut rng));
        let (sa, sb) = (SymTnum::lit(a, 64), SymTnum::lit(b, 64));
        assert_eq!(eval_tnum(&sa.mul_best(&sb)), a.mul_best(b), "{i}: mul_best({a}, {b})");
    }
}

#[test]
fn tnum_mul_best_of_matches_rust_meets() {
    // the combination alone, on arbitrary (also disagreeing or bottom) components
    let mut rng = Rng::new(0x3ee7);
    let pick = |rng: &mut Rng| match rng.below(4) {
        0 => Tnum::new(rng.next_u64(), rng.next_u64()),
        _ => rand_tnum(rng),
    };
    for i in 0..200 {
        let (r1, r2, r3) = (pick(&mut rng), pick(&mut rng), pick(&mut rng));
        let r = r1.meet_checked(r2).unwrap_or(r1);
        let want = r.meet_checked(r3).unwrap_or(r);
        let got = SymTnum::mul_best_of(&SymTnum::lit(r1, 64), &SymTnum::lit(r2, 64), &SymTnum::lit(r3, 64));
        assert_eq!(eval_tnum(&got), want, "{i}: mul_best_of({r1}, {r2}, {r3})");
    }
}

/// The component results `Scalar::binop` computes for `op` at `width` on
/// `a`, `b` (as in `alu.rs`), junk in the fields the op does not read.
fn rust_given(op: BinOp, width: BitWidth, a: &Scalar, b: &Scalar, rng: &mut Rng) -> super::scalar_glue::Given {
    use super::scalar_glue::Given;
    let junk_t = |rng: &mut Rng| SymTnum::lit(rand_tnum(rng), 64);
    let junk_r = |rng: &mut Rng, w: u32, signed: bool| {
        SymRange::lit(rand_u64(rng), rand_u64(rng), w, signed)
    };
    let mut g = Given {
        t: junk_t(rng),
        u: junk_r(rng, 64, false),
        s: junk_r(rng, 64, true),
        u32r: junk_r(rng, 32, false),
        s32r: junk_r(rng, 32, true),
        za: SymScalar::lit(&rand_scalar(rng)),
        zb: SymScalar::lit(&rand_scalar(rng)),
    };
    let r64 = |r: U64Range| SymRange::lit(r.min, r.max, 64, false);
    let s64 = |r: S64Range| SymRange::lit(r.min as u64, r.max as u64, 64, true);
    let r32 = |r: U32Range| SymRange::lit(r.min as u64, r.max as u64, 32, false);
    let s32 = |r: S32Range| SymRange::lit(r.min as u32 as u64, r.max as u32 as u64, 32, true);
    // the tnum of a / d, a % d for a constant power of two d (junk otherwise)
    let pow2_tnum = |rng: &mut Rng, ta: Tnum, zb: &Scalar| match zb.const_value() {
        Some(d) if d.is_power_of_two() => SymTnum::lit(
            if op == BinOp::Div {
                ta.rshift(d.trailing_zeros() as u8)
            } else {
                ta.and(Tnum::constant(d - 1))
            },
            64,
        ),
        _ => junk_t(rng),
    };
    match (width, op) {
        (BitWidth::W64, BinOp::Mul) => {
            g.t = SymTnum::lit(a.var_off.mul_best(b.var_off), 64);
            g.u = r64(a.u64_range().mul(&b.u64_range()));
            g.s = s64(a.s64_range().mul(&b.s64_range()));
            g.u32r = r32(a.u32_range().mul(&b.u32_range()));
            g.s32r = s32(a.s32_range().mul(&b.s32_range()));
        }
        (BitWidth::W32, BinOp::Mul) => {
            g.t = SymTnum::lit(a.var_off.subreg().mul_best(b.var_off.subreg()), 64);
            g.u = r32(a.u32_range().mul(&b.u32_range()));
            g.s = s32(a.s32_range().mul(&b.s32_range()));
        }
        (BitWidth::W64, BinOp::Div) => {
            g.t = pow2_tnum(rng, a.var_off, b);
            g.u = r64(a.u64_range().udiv(&b.u64_range()));
        }
        (BitWidth::W64, BinOp::Mod) => {
            g.t = pow2_tnum(rng, a.var_off, b);
            g.u = r64(a.u64_range().umod(&b.u64_range()));
        }
        (BitWidth::W32, BinOp::Div | BinOp::Mod) => {
            let (za, zb) = (a.zext32(), b.zext32());
            g.t = pow2_tnum(rng, za.var_off, &zb);
            g.u = r32(if op == BinOp::Div {
                a.u32_range().udiv(&b.u32_range())
            } else {
                a.u32_range().umod(&b.u32_range())
            });
            g.za = SymScalar::lit(&za);
            g.zb = SymScalar::lit(&zb);
        }
        (BitWidth::W64, BinOp::SDiv) => g.s = s64(a.s64_range().sdiv(&b.s64_range())),
        (BitWidth::W64, _) => g.s = s64(a.s64_range().smod(&b.s64_range())),
        (BitWidth::W32, BinOp::SDiv) => g.s = s32(a.s32_range().sdiv(&b.s32_range())),
        (BitWidth::W32, _) => g.s = s32(a.s32_range().smod(&b.s32_range())),
    }
    g
}

#[test]
fn scalar_binop_glue_matches_rust() {
    use super::scalar_glue::binop_glue;
    let mut rng = Rng::new(0x6105);
    let ops = [BinOp::Mul, BinOp::Div, BinOp::Mod, BinOp::SDiv, BinOp::SMod];
    // divisors that take the constant branches: powers of two, 0, 1, 3,
    // and a constant low half under unknown upper bits (W32 branches on it)
    let edge = |rng: &mut Rng, i: u32| match i % 7 {
        0 => Scalar::constant(1u64 << rng.below(64)),
        1 => Scalar::constant(0),
        2 => Scalar::constant(3),
        3 => Scalar::from_tnum(Tnum::new(1u64 << rng.below(32), 0xffff_ffff_0000_0000)),
        4 => Scalar::from_tnum(Tnum::new(0, 0xffff_ffff_0000_0000)),
        _ => rand_scalar(rng),
    };
    for i in 0..140u32 {
        let a = if i % 5 == 0 { Scalar::constant(rand_u64(&mut rng)) } else { rand_scalar(&mut rng) };
        let b = if i % 2 == 0 { edge(&mut rng, i / 2) } else { rand_scalar(&mut rng) };
        let (sa, sb) = (SymScalar::lit(&a), SymScalar::lit(&b));
        for w in [BitWidth::W64, BitWidth::W32] {
            for op in ops {
                let g = rust_given(op, w, &a, &b, &mut rng);
                let folded = concrete::binop(op, w, &sa.var_off.value, &sb.var_off.value);
                let enc = binop_glue(op, w, &sa, &sb, &folded, &g, SyncMode::Exact).expect("encoded");
                assert_eq!(
                    eval_scalar(&enc),
                    Scalar::binop(op, w, &a, &b),
                    "{i}: {op:?} {w:?} {a:?} {b:?}"
                );
            }
        }
    }
    // the other operations have no glue here
    let g = rust_given(BinOp::Mul, BitWidth::W64, &Scalar::unknown(), &Scalar::unknown(), &mut rng);
    let u = SymScalar::lit(&Scalar::unknown());
    assert!(binop_glue(BinOp::Add, BitWidth::W64, &u, &u, &lit(0, 64), &g, SyncMode::Exact).is_none());
}

/// `shift_amounts` of `alu.rs` (private there): the set of masked amounts.
fn rust_shift_set(b: &Scalar, width: BitWidth) -> u64 {
    let bits = if width == BitWidth::W64 { 64u64 } else { 32 };
    let low = Tnum::new(b.var_off.value & (bits - 1), b.var_off.mask & (bits - 1));
    let (lo, hi) = match width {
        BitWidth::W64 => (b.umin, b.umax),
        BitWidth::W32 => (b.u32_min as u64, b.u32_max as u64),
    };
    (0..bits)
        .filter(|&s| low.contains_value(s) && !(hi < bits && (s < lo || s > hi)))
        .fold(0, |set, s| set | (1 << s))
}

/// The shift components `Scalar::binop` computes (as in `alu.rs`), junk
/// where the op does not read.
fn rust_shift_given(op: BinOp, width: BitWidth, a: &Scalar, b: &Scalar, rng: &mut Rng) -> super::scalar_shift_glue::ShiftGiven {
    use super::scalar_shift_glue::ShiftGiven;
    let set = rust_shift_set(b, width);
    let n = if width == BitWidth::W64 { 64 } else { 32 };
    let mut g = ShiftGiven {
        t: SymTnum::lit(rand_tnum(rng), 64),
        u: SymRange::lit(rand_u64(rng), rand_u64(rng), n, false),
        s: SymRange::lit(rand_u64(rng), rand_u64(rng), n, true),
        u32r: SymRange::lit(rand_u64(rng), rand_u64(rng), 32, false),
        s32r: SymRange::lit(rand_u64(rng), rand_u64(rng), 32, true),
    };
    if set == 0 {
        return g;
    }
    let (lo, hi) = (set.trailing_zeros(), 63 - set.leading_zeros());
    let ta = if width == BitWidth::W64 { a.var_off } else { a.var_off.subreg() };
    let join = |f: &dyn Fn(u8) -> Tnum| {
        (0..64u8).filter(|s| set >> s & 1 == 1).map(f).reduce(|x, y| x.union(y)).unwrap_or(Tnum::BOTTOM)
    };
    g.t = SymTnum::lit(
        match op {
            BinOp::Lsh => join(&|s| ta.lshift(s)),
            BinOp::Rsh => join(&|s| ta.rshift(s)),
            _ => join(&|s| ta.arshift(s, if width == BitWidth::W64 { 64 } else { 32 })),
        },
        64,
    );
    let r64 = |r: U64Range| SymRange::lit(r.min, r.max, 64, false);
    let s64 = |r: S64Range| SymRange::lit(r.min as u64, r.max as u64, 64, true);
    let r32 = |r: U32Range| SymRange::lit(r.min as u64, r.max as u64, 32, false);
    let s32 = |r: S32Range| SymRange::lit(r.min as u32 as u64, r.max as u32 as u64, 32, true);
    match (width, op) {
        (BitWidth::W64, BinOp::Lsh) => {
            g.u = r64(a.u64_range().shl_range(lo, hi));
            g.s = s64(a.s64_range().shl_range(lo, hi));
            g.u32r = r32(a.u32_range().shl_range(lo, hi));
            g.s32r = s32(a.s32_range().shl_range(lo, hi));
        }
        (BitWidth::W64, BinOp::Rsh) => {
            g.u = r64(a.u64_range().shr_range(lo, hi));
            g.s = s64(a.s64_range().shr_range(lo, hi));
        }
        (BitWidth::W64, _) => g.s = s64(a.s64_range().sar_range(lo, hi)),
        (BitWidth::W32, BinOp::Lsh) => {
            g.u = r32(a.u32_range().shl_range(lo, hi));
            g.s = s32(a.s32_range().shl_range(lo, hi));
        }
        (BitWidth::W32, BinOp::Rsh) => {
            g.u = r32(a.u32_range().shr_range(lo, hi));
            g.s = s32(a.s32_range().shr_range(lo, hi));
        }
        (BitWidth::W32, _) => g.s = s32(a.s32_range().sar_range(lo, hi)),
    }
    g
}

#[test]
fn scalar_shift_glue_matches_rust() {
    use super::scalar_shift_glue::{set_bounds, shift_glue, shift_set};
    let mut rng = Rng::new(0x5417);
    // amounts: constants (also >= 32, >= 64), small ranges, ranges crossing
    // the width, amounts with unknown high bits, random
    let amount = |rng: &mut Rng, i: u32| match i % 8 {
        0 => Scalar::constant(rng.below(80)),
        1 => Scalar::constant(32 + rng.below(32)),
        2 => {
            let lo = rng.below(70);
            Scalar::from_urange(lo, lo + rng.below(12))
        }
        3 => Scalar::from_tnum(Tnum::new(rng.below(64), 0xffff_ffff_0000_0000)),
        4 => Scalar::from_tnum(Tnum::new(0, 0x21)),
        5 => Scalar::from_urange(rng.below(31), 31 + rng.below(3)),
        _ => rand_scalar(rng),
    };
    // every constant amount >= 32 of `<<` at W64 (the exact refinement)
    for k in 32..64u64 {
        for _ in 0..2 {
            let (a, b) = (rand_scalar(&mut rng), Scalar::constant(k));
            let (sa, sb) = (SymScalar::lit(&a), SymScalar::lit(&b));
            let g = rust_shift_given(BinOp::Lsh, BitWidth::W64, &a, &b, &mut rng);
            let folded = concrete::binop(BinOp::Lsh, BitWidth::W64, &sa.var_off.value, &sb.var_off.value);
            let enc = shift_glue(BinOp::Lsh, BitWidth::W64, &sa, &sb, &folded, &g, SyncMode::Exact).expect("encoded");
            assert_eq!(eval_scalar(&enc), Scalar::binop(BinOp::Lsh, BitWidth::W64, &a, &b), "<< {k}: {a:?}");
        }
    }
    for i in 0..60u32 {
        let a = if i % 6 == 0 { Scalar::constant(rand_u64(&mut rng)) } else { rand_scalar(&mut rng) };
        let b = amount(&mut rng, i);
        let (sa, sb) = (SymScalar::lit(&a), SymScalar::lit(&b));
        for w in [BitWidth::W64, BitWidth::W32] {
            let set = rust_shift_set(&b, w);
            assert_eq!(value_of(&shift_set(&sb, w)), Some(set), "{i}: set of {b:?} {w:?}");
            if set != 0 {
                let (lo, hi) = set_bounds(&lit(set, 64));
                assert_eq!(value_of(&lo), Some(u64::from(set.trailing_zeros())));
                assert_eq!(value_of(&hi), Some(u64::from(63 - set.leading_zeros())));
            }
            for op in [BinOp::Lsh, BinOp::Rsh, BinOp::Arsh] {
                let g = rust_shift_given(op, w, &a, &b, &mut rng);
                let folded = concrete::binop(op, w, &sa.var_off.value, &sb.var_off.value);
                let enc = shift_glue(op, w, &sa, &sb, &folded, &g, SyncMode::Exact).expect("encoded");
                assert_eq!(
                    eval_scalar(&enc),
                    Scalar::binop(op, w, &a, &b),
                    "{i}: {op:?} {w:?} {a:?} {b:?}"
                );
            }
        }
    }
}
