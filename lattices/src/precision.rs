//! Precision measurement of tnum operations at a small bit width.
//!
//! For an input pair (a, b) of tnums over the low `bits` bits, the best
//! abstraction of `{x op y mod 2^bits : x in a, y in b}` is the tnum union of
//! the concrete results; an operation is *optimal* on (a, b) when its result,
//! truncated to `bits`, equals that best tnum. [`precision`] reports the share
//! of optimal pairs (exhaustively, or on a deterministic sample).
//!
//! Pure computation, no I/O. Cost: exhaustive is 9^bits pairs times the
//! concrete pairs per input pair, fine up to 5 bits; use sampling at 8 bits.

use crate::testing::Rng;
use crate::tnum::Tnum;

/// Tnum operations that can be measured.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TnumOp {
    /// `Tnum::add`
    Add,
    /// `Tnum::sub`
    Sub,
    /// `Tnum::mul` (the kernel 6.18 algorithm)
    Mul,
    /// `Tnum::mul_cgo` (the kernel 5.19..6.17 algorithm, CGO 2022)
    MulCgo,
    /// `Tnum::mul_hma` (the kernel's pre-5.19 algorithm)
    MulHma,
    /// `Tnum::mul_best` (the meet of the three, what `Scalar` uses)
    MulBest,
    /// `Tnum::and`
    And,
    /// `Tnum::or`
    Or,
    /// `Tnum::xor`
    Xor,
}

impl TnumOp {
    /// Every measured operation.
    pub const ALL: [TnumOp; 9] = [
        TnumOp::Add,
        TnumOp::Sub,
        TnumOp::Mul,
        TnumOp::MulCgo,
        TnumOp::MulHma,
        TnumOp::MulBest,
        TnumOp::And,
        TnumOp::Or,
        TnumOp::Xor,
    ];

    /// The `Tnum` method measured.
    pub fn name(self) -> &'static str {
        match self {
            TnumOp::Add => "add",
            TnumOp::Sub => "sub",
            TnumOp::Mul => "mul (kernel 6.18)",
            TnumOp::MulCgo => "mul_cgo (kernel 5.19-6.17)",
            TnumOp::MulHma => "mul_hma (kernel < 5.19)",
            TnumOp::MulBest => "mul_best (ours, in Scalar)",
            TnumOp::And => "and",
            TnumOp::Or => "or",
            TnumOp::Xor => "xor",
        }
    }

    fn abstract_op(self, a: Tnum, b: Tnum) -> Tnum {
        match self {
            TnumOp::Add => a.add(b),
            TnumOp::Sub => a.sub(b),
            TnumOp::Mul => a.mul(b),
            TnumOp::MulCgo => a.mul_cgo(b),
            TnumOp::MulHma => a.mul_hma(b),
            TnumOp::MulBest => a.mul_best(b),
            TnumOp::And => a.and(b),
            TnumOp::Or => a.or(b),
            TnumOp::Xor => a.xor(b),
        }
    }

    fn concrete_op(self, x: u64, y: u64) -> u64 {
        match self {
            TnumOp::Add => x.wrapping_add(y),
            TnumOp::Sub => x.wrapping_sub(y),
            TnumOp::Mul | TnumOp::MulCgo | TnumOp::MulHma | TnumOp::MulBest => x.wrapping_mul(y),
            TnumOp::And => x & y,
            TnumOp::Or => x | y,
            TnumOp::Xor => x ^ y,
        }
    }
}

/// Outcome of a precision measurement.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Precision {
    /// Input pairs examined.
    pub pairs: u64,
    /// Pairs where the result was the best tnum.
    pub optimal: u64,
    /// Pairs where the result was not even sound (must be 0).
    pub unsound: u64,
}

impl Precision {
    /// optimal / pairs (1.0 for no pairs).
    pub fn share(&self) -> f64 {
        if self.pairs == 0 {
            1.0
        } else {
            self.optimal as f64 / self.pairs as f64
        }
    }
}

/// Members of `t` (all sub-masks of its mask).
fn members(t: Tnum) -> impl Iterator<Item = u64> {
    let mut sub = Some(t.mask);
    std::iter::from_fn(move || {
        let s = sub?;
        sub = if s == 0 { None } else { Some((s - 1) & t.mask) };
        Some(t.value | s)
    })
}

/// Best tnum of `{x op y}` and whether `op(a, b)` equals it / contains it.
fn judge(op: TnumOp, a: Tnum, b: Tnum, bits: u32) -> (bool, bool) {
    let low = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let mut best: Option<Tnum> = None;
    for x in members(a) {
        for y in members(b) {
            let c = Tnum::constant(op.concrete_op(x, y) & low);
            best = Some(match best {
                None => c,
                Some(t) => t.union(c),
            });
        }
    }
    let r = op.abstract_op(a, b);
    let r = Tnum::new(r.value & low, r.mask & low);
    match best {
        None => (true, true),
        Some(best) => (r == best, r.tnum_in(best)),
    }
}

/// Share of input pairs over `bits`-bit tnums (bits <= 16) where `op` is
/// optimal: all pairs when `samples` is None, else `samples` pairs drawn
/// uniformly (each bit 0, 1 or unknown) with the given `seed`.
pub fn precision(op: TnumOp, bits: u32, samples: Option<u64>, seed: u64) -> Precision {
    let bits = bits.clamp(1, 16);
    let mut p = Precision { pairs: 0, optimal: 0, unsound: 0 };
    let mut tally = |a: Tnum, b: Tnum| {
        let (opt, sound) = judge(op, a, b, bits);
        p.pairs += 1;
        p.optimal += opt as u64;
        p.unsound += !sound as u64;
    };
    match samples {
        None => {
            let all = all_tnums(bits);
            for &a in &all {
                for &b in &all {
                    tally(a, b);
                }
            }
        }
        Some(n) => {
            let mut rng = Rng::new(seed);
            for _ in 0..n {
                let a = random_tnum(&mut rng, bits);
                let b = random_tnum(&mut rng, bits);
                tally(a, b);
            }
        }
    }
    p
}

/// All valid tnums over `bits` bits (3^bits of them).
fn all_tnums(bits: u32) -> Vec<Tnum> {
    let n = 1u64 << bits;
    let mut v = Vec::new();
    for value in 0..n {
        for mask in 0..n {
            if value & mask == 0 {
                v.push(Tnum::new(value, mask));
            }
        }
    }
    v
}

/// A tnum over `bits` bits with each bit independently 0, 1 or unknown.
fn random_tnum(rng: &mut Rng, bits: u32) -> Tnum {
    let (mut value, mut mask) = (0u64, 0u64);
    for i in 0..bits {
        match rng.below(3) {
            0 => {}
            1 => value |= 1 << i,
            _ => mask |= 1 << i,
        }
    }
    Tnum::new(value, mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitwise_ops_are_optimal_and_all_sound() {
        for op in [TnumOp::And, TnumOp::Or, TnumOp::Xor] {
            let p = precision(op, 4, None, 0);
            assert_eq!(p.pairs, 81 * 81);
            assert_eq!(p.optimal, p.pairs, "{op:?} should be optimal");
        }
        // add is known to be optimal (Vishwanathan et al.)
        let p = precision(TnumOp::Add, 5, None, 0);
        assert_eq!(p.unsound, 0);
        assert_eq!(p.optimal, p.pairs);
    }

    #[test]
    fn mul_best_is_at_least_as_precise_as_every_kernel_algorithm_at_8_bits() {
        let best = precision(TnumOp::MulBest, 8, Some(2000), 7);
        assert_eq!(best.unsound, 0);
        for op in [TnumOp::Mul, TnumOp::MulCgo, TnumOp::MulHma] {
            let k = precision(op, 8, Some(2000), 7);
            assert!(best.optimal >= k.optimal, "mul_best {best:?} vs {op:?} {k:?}");
        }
    }

    #[test]
    #[allow(clippy::print_stdout)]
    fn print_mul_shares() {
        let mut shares = Vec::new();
        for op in [TnumOp::Mul, TnumOp::MulCgo, TnumOp::MulHma] {
            let p5 = precision(op, 5, None, 0);
            let p8 = precision(op, 8, Some(3000), 42);
            eprintln!("{op:?}: 5-bit exhaustive {:.4}, 8-bit sampled {:.4}", p5.share(), p8.share());
            shares.push(p8.share());
        }
        assert!(shares.iter().all(|&s| s > 0.0 && s <= 1.0));
    }

    #[test]
    fn mul_is_at_least_as_precise_as_hma_exhaustive_5bit() {
        let new = precision(TnumOp::Mul, 5, None, 0);
        let old = precision(TnumOp::MulHma, 5, None, 0);
        assert_eq!(new.unsound, 0);
        assert_eq!(old.unsound, 0);
        assert!(new.share() >= old.share(), "mul {new:?} vs hma {old:?}");
        assert!(new.share() < 1.0, "mul is not optimal in general");
    }

    #[test]
    fn mul_is_at_least_as_precise_as_hma_sampled_8bit() {
        let new = precision(TnumOp::Mul, 8, Some(3000), 42);
        let old = precision(TnumOp::MulHma, 8, Some(3000), 42);
        assert_eq!(new.pairs, 3000);
        assert_eq!(new.unsound + old.unsound, 0);
        assert!(new.share() >= old.share(), "mul {new:?} vs hma {old:?}");
    }
}
