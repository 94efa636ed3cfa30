//! Tests of the reduced product: examples, kernel log rendering, and
//! proptest soundness of every transfer function, refinement and sync.

use super::*;
use crate::testing::strategies::{interesting_u64, srange, urange};
use crate::testing::{self, Rng};
use proptest::prelude::*;

pub(crate) fn arb_scalar() -> impl Strategy<Value = Scalar> {
    let tn = (any::<u64>(), any::<u64>(), 0u32..64).prop_map(|(v, m, k)| {
        let m = if k == 0 { m } else { m & (u64::MAX >> k) };
        Tnum::new(v & !m, m)
    });
    prop_oneof![
        interesting_u64().prop_map(Scalar::constant),
        urange().prop_map(|(a, b)| Scalar::from_urange(a, b)),
        srange().prop_map(|(a, b)| Scalar::from_srange(a, b)),
        tn.clone().prop_map(Scalar::from_tnum),
        (urange(), tn).prop_map(|((a, b), t)| {
            let s = Scalar::from_urange(a, b).meet(&Scalar::from_tnum(t));
            if s.is_bottom() { Scalar::from_urange(a, b) } else { s }
        }),
        (urange(), srange()).prop_map(|((a, b), (c, d))| {
            // a 64-bit range with independent 32-bit bounds
            let mut s = Scalar::from_urange(a, b);
            s.s32_min = s.s32_min.max(c as i32);
            s.s32_max = s.s32_max.min(d as i32);
            let s = s.synced();
            if s.is_bottom() { Scalar::from_urange(a, b) } else { s }
        }),
        urange().prop_map(|(a, b)| Scalar::from_urange(a, b).zext32()),
        Just(Scalar::unknown()),
    ]
}

const OPS: [BinOp; 13] = [
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

const CMPS: [Cmp; 11] =
    [Cmp::Eq, Cmp::Ne, Cmp::Gt, Cmp::Ge, Cmp::Lt, Cmp::Le, Cmp::SGt, Cmp::SGe, Cmp::SLt, Cmp::SLe, Cmp::Set];

#[test]
fn display_matches_kernel_log() {
    assert_eq!(Scalar::constant(8).to_string(), "8");
    assert_eq!(Scalar::constant(u64::MAX).to_string(), "-1");
    assert_eq!(Scalar::constant(0x7fff).to_string(), "32767");
    assert_eq!(Scalar::constant(40000).to_string(), "0x9c40");
    assert_eq!(Scalar::constant((-40000i64) as u64).to_string(), "0xffffffffffff63c0");
    assert_eq!(Scalar::unknown().to_string(), "scalar()");
    assert_eq!(
        Scalar::from_urange(0, 255).to_string(),
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
    );
    assert_eq!(Scalar::from_srange(-5, 5).to_string(), "scalar(smin=smin32=-5,smax=smax32=5)");
    assert_eq!(Scalar::BOTTOM.to_string(), "scalar(bottom)");
    // zero-extended unknown 32-bit value (e.g. after w0 = w0)
    assert_eq!(
        Scalar::unknown().zext32().to_string(),
        "scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))"
    );
    // large unsigned and hex s32
    assert_eq!(
        Scalar::from_urange(0x1_0000_0000, 0x1_0000_ffff).to_string(),
        "scalar(smin=umin=0x100000000,smax=umax=0x10000ffff,smin32=0,smax32=umax32=0xffff,var_off=(0x100000000; 0xffff))"
    );
}

#[test]
fn sync_examples() {
    // upper halves equal: low halves form a range
    let s = Scalar::from_urange(0x1_0000_000a, 0x1_0000_000f);
    assert_eq!((s.u32_min, s.u32_max, s.s32_min, s.s32_max), (10, 15, 10, 15));
    // s64 [-1, 1]: s32 [-1, 1] via the consecutive-upper-halves rule
    let s = Scalar::from_srange(-1, 1);
    assert_eq!((s.s32_min, s.s32_max), (-1, 1));
    // 32-bit facts tighten the 64-bit bounds
    let mut s = Scalar::from_urange(0x1_0000_0000, 0x3_8000_0000);
    s.s32_min = 1;
    let s = s.synced();
    assert_eq!(s.umin, 0x1_0000_0001);
    assert_eq!(s.umax, 0x3_7fff_ffff);
    // inconsistent components are bottom
    let mut s = Scalar::from_urange(5, 5);
    s.var_off = Tnum::new(0, 0xfe);
    assert!(s.synced().is_bottom());
    assert_eq!(Scalar::from_urange(3, 2), Scalar::BOTTOM);
}

#[test]
fn alu_examples() {
    use BitWidth::*;
    let byte = Scalar::from_urange(0, 255);
    let r = Scalar::binop(BinOp::Add, W64, &byte, &byte);
    assert_eq!((r.umin, r.umax, r.var_off), (0, 510, Tnum::new(0, 0x1ff)));
    let r = Scalar::binop(BinOp::And, W64, &Scalar::unknown(), &Scalar::constant(0xff));
    assert_eq!(r, byte);
    // 32-bit add wraps and zero-extends
    let r = Scalar::binop(BinOp::Add, W32, &Scalar::constant(0xffff_ffff), &Scalar::from_urange(1, 2));
    assert_eq!((r.umin, r.umax), (0, 1));
    // shift by a range of amounts (the kernel gives up here)
    let r = Scalar::binop(BinOp::Lsh, W64, &Scalar::constant(1), &Scalar::from_urange(0, 3));
    assert_eq!((r.umin, r.umax), (1, 8));
    // << 32 keeps the s32 bounds
    let x = Scalar::from_srange(-4, 3);
    let r = Scalar::binop(BinOp::Lsh, W64, &x, &Scalar::constant(32));
    assert_eq!((r.smin, r.smax), (-4 << 32, 3 << 32));
    let r = Scalar::binop(BinOp::Arsh, W64, &r, &Scalar::constant(32));
    assert_eq!((r.smin, r.smax), (-4, 3));
    // division and modulo
    let r = Scalar::binop(BinOp::Div, W64, &Scalar::from_urange(100, 200), &Scalar::from_urange(0, 10));
    assert_eq!((r.umin, r.umax), (0, 200));
    let r = Scalar::binop(BinOp::Mod, W64, &Scalar::unknown(), &Scalar::constant(16));
    assert_eq!((r.umin, r.umax, r.var_off), (0, 15, Tnum::new(0, 15)));
    assert_eq!(
        Scalar::binop(BinOp::SDiv, W64, &Scalar::constant(i64::MIN as u64), &Scalar::constant(u64::MAX)),
        Scalar::constant(i64::MIN as u64)
    );
    // unary ops
    assert_eq!(Scalar::neg(W64, &Scalar::constant(1)), Scalar::constant(u64::MAX));
    assert_eq!(Scalar::neg(W32, &Scalar::constant(1)), Scalar::constant(0xffff_ffff));
    assert_eq!(Scalar::constant(0x80).sext(8, W64), Scalar::constant((-128i64) as u64));
    assert_eq!(Scalar::constant(0x80).sext(8, W32), Scalar::constant(0xffff_ff80));
    let r = Scalar::from_urange(0, 0xff).sext(8, W64);
    assert_eq!((r.smin, r.smax), (-128, 127));
    assert_eq!(Scalar::constant(0x1234_5678).truncate(2), Scalar::constant(0x5678));
    assert_eq!(Scalar::constant(0x1234).bswap(16), Scalar::constant(0x3412));
    assert_eq!(Scalar::constant(0x1234).to_be(16), Scalar::constant(0x3412));
    assert_eq!(Scalar::constant(0x1_1234).to_le(16), Scalar::constant(0x1234));
    assert_eq!(Scalar::binop(BinOp::Add, W64, &Scalar::BOTTOM, &byte), Scalar::BOTTOM);
}

#[test]
fn refine_examples() {
    use BitWidth::*;
    let x = Scalar::unknown();
    let ten = Scalar::constant(10);
    let (t, _) = Scalar::refine(Cmp::Lt, W64, true, &x, &ten).unwrap();
    assert_eq!((t.umin, t.umax), (0, 9));
    let (f, _) = Scalar::refine(Cmp::Lt, W64, false, &x, &ten).unwrap();
    assert_eq!((f.umin, f.umax), (10, u64::MAX));
    let (s, _) = Scalar::refine(Cmp::SGt, W64, true, &x, &Scalar::constant(u64::MAX)).unwrap();
    assert_eq!((s.smin, s.smax), (0, i64::MAX));
    // x == 5 for x = 5: not-taken side infeasible
    assert_eq!(Scalar::refine(Cmp::Eq, W64, false, &Scalar::constant(5), &Scalar::constant(5)), None);
    assert_eq!(Scalar::refine(Cmp::Ne, W64, true, &Scalar::constant(5), &Scalar::constant(5)), None);
    // x != 0 with x in [0, 3] gives [1, 3]
    let (r, _) = Scalar::refine(Cmp::Ne, W64, true, &Scalar::from_urange(0, 3), &Scalar::constant(0)).unwrap();
    assert_eq!((r.umin, r.umax), (1, 3));
    // JSET single bit learns the bit; its negation clears bits
    let (r, _) = Scalar::refine(Cmp::Set, W64, true, &Scalar::from_urange(0, 7), &Scalar::constant(4)).unwrap();
    assert_eq!((r.umin, r.var_off), (4, Tnum::new(4, 3)));
    let (r, _) = Scalar::refine(Cmp::Set, W64, false, &Scalar::from_urange(0, 7), &Scalar::constant(6)).unwrap();
    assert_eq!(r.var_off, Tnum::new(0, 1));
    // JMP32 refines the low half, sync carries it to 64 bits for zero-extended values
    let (r, _) = Scalar::refine(Cmp::Lt, W32, true, &Scalar::unknown().zext32(), &Scalar::constant(16)).unwrap();
    assert_eq!((r.umin, r.umax), (0, 15));
    // unsigned x < 0 is impossible
    assert_eq!(Scalar::refine(Cmp::Lt, W64, true, &x, &Scalar::constant(0)), None);
    assert_eq!(Scalar::branch_outcome(Cmp::Gt, W64, &Scalar::from_urange(5, 9), &Scalar::constant(4)), Some(true));
    assert_eq!(Scalar::branch_outcome(Cmp::Eq, W64, &Scalar::from_tnum(Tnum::new(1, 6)), &Scalar::constant(4)), Some(false));
    assert_eq!(Scalar::branch_outcome(Cmp::Set, W64, &Scalar::from_tnum(Tnum::new(1, 6)), &Scalar::from_tnum(Tnum::new(1, 8))), Some(true));
    assert_eq!(Scalar::branch_outcome(Cmp::Eq, W32, &Scalar::constant(0x1_0000_0005), &Scalar::constant(5)), Some(true));
    assert_eq!(Scalar::branch_outcome(Cmp::Lt, W64, &x, &ten), None);
}

#[test]
fn widening_terminates_on_growing_ranges() {
    let t = Thresholds::from_constants([16, 1000]);
    let steps = testing::check_widening(|k| Scalar::from_urange(0, (k as u64) * 3), &t, 200).unwrap();
    assert!(steps < 40);
    let steps = testing::check_widening(|k| Scalar::from_srange(-(k as i64) * 7, 1), &Thresholds::none(), 200).unwrap();
    assert!(steps < 40);
    let steps = testing::check_widening(|k| Scalar::from_urange(0, k as u64).zext32(), &Thresholds::none(), 200).unwrap();
    assert!(steps < 40);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn binop_sound(a in arb_scalar(), b in arb_scalar(), seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        for width in [BitWidth::W64, BitWidth::W32] {
            for op in OPS {
                let r = Scalar::binop(op, width, &a, &b);
                testing::check_binary_sound(&format!("{op:?}/{width:?}"), &a, &b, &r, |x, y| eval_binop(op, width, x, y), &mut rng, 8)
                    .map_err(TestCaseError::fail)?;
                // result is synced (sync is idempotent on it)
                prop_assert_eq!(r, r.synced());
            }
        }
    }

    #[test]
    fn unary_sound(a in arb_scalar(), seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        type U = Box<dyn Fn(u64) -> u64>;
        let cases: Vec<(&str, Scalar, U)> = vec![
            ("neg64", Scalar::neg(BitWidth::W64, &a), Box::new(|x: u64| x.wrapping_neg())),
            ("neg32", Scalar::neg(BitWidth::W32, &a), Box::new(|x: u64| (x as u32).wrapping_neg() as u64)),
            ("zext32", a.zext32(), Box::new(|x: u64| x as u32 as u64)),
            ("sext8", a.sext(8, BitWidth::W64), Box::new(|x: u64| x as u8 as i8 as i64 as u64)),
            ("sext16", a.sext(16, BitWidth::W64), Box::new(|x: u64| x as u16 as i16 as i64 as u64)),
            ("sext32", a.sext(32, BitWidth::W64), Box::new(|x: u64| x as u32 as i32 as i64 as u64)),
            ("sext8_32", a.sext(8, BitWidth::W32), Box::new(|x: u64| x as u8 as i8 as i32 as u32 as u64)),
            ("sext16_32", a.sext(16, BitWidth::W32), Box::new(|x: u64| x as u16 as i16 as i32 as u32 as u64)),
            ("trunc1", a.truncate(1), Box::new(|x: u64| x & 0xff)),
            ("trunc2", a.truncate(2), Box::new(|x: u64| x & 0xffff)),
            ("trunc4", a.truncate(4), Box::new(|x: u64| x & 0xffff_ffff)),
            ("trunc8", a.truncate(8), Box::new(|x: u64| x)),
            ("bswap16", a.bswap(16), Box::new(|x: u64| (x as u16).swap_bytes() as u64)),
            ("bswap32", a.bswap(32), Box::new(|x: u64| (x as u32).swap_bytes() as u64)),
            ("bswap64", a.bswap(64), Box::new(|x: u64| x.swap_bytes())),
            ("to_be32", a.to_be(32), Box::new(|x: u64| (x as u32).to_be() as u64)),
            ("to_le16", a.to_le(16), Box::new(|x: u64| (x as u16).to_le() as u64)),
        ];
        for (name, r, f) in cases {
            testing::check_unary_sound(name, &a, &r, f, &mut rng, 12).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn refine_sound(a in arb_scalar(), b in arb_scalar(), seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        for width in [BitWidth::W64, BitWidth::W32] {
            for cmp in CMPS {
                for taken in [true, false] {
                    let r = Scalar::refine(cmp, width, taken, &a, &b);
                    if let Some((ra, rb)) = r {
                        prop_assert!(ra.leq(&a) || ra.meet(&a) == ra, "refine widened {:?}", cmp);
                        prop_assert!(!ra.is_bottom() && !rb.is_bottom());
                    }
                    testing::check_refine_sound(&format!("{cmp:?}/{width:?}/{taken}"), &a, &b, r.as_ref(),
                        |x, y| eval_cmp(cmp, width, x, y) == taken, &mut rng, 12).map_err(TestCaseError::fail)?;
                }
                // a decided outcome holds for every sampled pair
                if let Some(o) = Scalar::branch_outcome(cmp, width, &a, &b) {
                    for _ in 0..12 {
                        let (Some(x), Some(y)) = (a.sample(rng.next_u64()), b.sample(rng.next_u64())) else { continue };
                        prop_assert_eq!(eval_cmp(cmp, width, x, y), o, "{:?} {:?} x={:#x} y={:#x}", cmp, width, x, y);
                    }
                }
            }
        }
    }

    #[test]
    fn refine_with_a_member_pair(a in arb_scalar(), b in arb_scalar(), seed in any::<u64>()) {
        // constants drawn from the operands make both branch sides reachable often
        let (Some(x), Some(y)) = (a.sample(seed), b.sample(seed.rotate_left(17))) else { return Ok(()) };
        for width in [BitWidth::W64, BitWidth::W32] {
            for cmp in CMPS {
                for (l, r) in [(a, Scalar::constant(y)), (Scalar::constant(x), b), (a, b)] {
                    let taken = eval_cmp(cmp, width, x, y);
                    let refined = Scalar::refine(cmp, width, taken, &l, &r);
                    let (ra, rb) = refined.ok_or_else(|| TestCaseError::fail(format!("{cmp:?}/{width:?}/{taken} infeasible for {x:#x},{y:#x} in {l:?} {r:?}")))?;
                    prop_assert!(ra.contains(x) && rb.contains(y), "{:?}/{:?}/{} lost {:#x},{:#x}: {:?} {:?}", cmp, width, taken, x, y, ra, rb);
                }
            }
        }
    }

    #[test]
    fn sync_preserves_gamma(
        (u0, u1) in urange(), (s0, s1) in srange(), (c0, c1) in urange(), (d0, d1) in srange(),
        v in any::<u64>(), m in any::<u64>(), x in interesting_u64(), seed in any::<u64>()
    ) {
        let raw = Scalar {
            var_off: Tnum::new(v & !m, m),
            umin: u0, umax: u1, smin: s0, smax: s1,
            u32_min: c0 as u32, u32_max: (c1 as u32).max(c0 as u32),
            s32_min: d0 as i32, s32_max: (d1 as i32).max(d0 as i32),
        };
        let synced = raw.synced();
        // every member of the unsynced product survives the sync
        let mut rng = Rng::new(seed);
        for cand in [x, u0, u1, s0 as u64, s1 as u64, (u0 & !0xffff_ffff) | c0 as u32 as u64, v & !m, (v & !m) | m, rng.next_u64()] {
            if raw.contains(cand) {
                prop_assert!(synced.contains(cand), "sync lost {:#x}: {:?} -> {:?}", cand, raw, synced);
            }
        }
        // sync only tightens and is idempotent
        prop_assert!(synced.leq(&raw) || synced.is_bottom());
        prop_assert_eq!(synced, synced.synced());
    }

    #[test]
    fn lattice_laws(a in arb_scalar(), b in arb_scalar(), c in arb_scalar()) {
        testing::check_lattice_laws(&a, &b, &c).map_err(TestCaseError::fail)?;
        let mut j = a;
        j.join(&b);
        // join is sound: members of either side are in the join
        for s in 0..8u64 {
            if let Some(x) = a.sample(s) { prop_assert!(j.contains(x)); }
            if let Some(y) = b.sample(s) { prop_assert!(j.contains(y)); }
        }
        let w = a.widen(&j, &Thresholds::from_constants([x_of(&c)]));
        prop_assert!(j.leq(&w) && a.leq(&w));
    }

    #[test]
    fn display_never_panics_and_constants_are_bare(a in arb_scalar()) {
        let s = a.to_string();
        if a.const_value().is_some() {
            prop_assert!(!s.starts_with("scalar("));
        } else {
            prop_assert!(s.starts_with("scalar(") && s.ends_with(')'));
        }
    }
}

fn x_of(c: &Scalar) -> u64 {
    c.umax
}

#[test]
fn sext_from_more_than_32_bits_ignores_the_s32_bounds() {
    // regression (prove-domains scalar.sext33.w64): the s32 bounds were used
    // as 64-bit bounds for every from_bits >= 32; for 33 bits x=0xfffffffeffffffff
    // (s32 view -1) sign-extends to 0xffffffff, outside [s32_min, s32_max]
    let x = 0xffff_fffe_ffff_ffffu64;
    let a = Scalar::constant(x).meet(&Scalar::from_urange(0, u64::MAX));
    let r = a.sext(33, BitWidth::W64);
    assert!(r.contains(0xffff_ffff), "{r:?}");
    let b = Scalar::from_srange(-8589934591, -4294967297);
    for v in [x, 0xffff_fffe_0000_0001] {
        assert!(b.contains(v));
        let want = (((v << 31) as i64) >> 31) as u64;
        assert!(b.sext(33, BitWidth::W64).contains(want), "{v:#x} -> {want:#x}");
    }
}
