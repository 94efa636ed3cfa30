//! Reusable checks for abstract domains, used by every domain's tests and
//! available to other crates' tests (this module is not `cfg(test)`).
//!
//! - [`check_lattice_laws`]: join idempotent/commutative/associative, bottom
//!   and top, `leq` consistent with join, meet below both operands, the
//!   "changed" flag of `join`.
//! - [`check_widening`]: the widened sequence over an ascending chain
//!   stabilises and stays above every chain element.
//! - [`check_unary_sound`] / [`check_binary_sound`] / [`check_refine_sound`]:
//!   soundness against concrete execution on sampled members of gamma.
//! - [`Rng`]: a tiny deterministic generator with a bias for boundary values.
//! - `strategies` (with `cfg(test)` or the `proptest` feature): proptest
//!   strategies producing interesting integers.
//!
//! All checks return `Err(message)` instead of panicking so they compose with
//! proptest's `TestCaseError::fail`.

use crate::lattice::{Gamma, Lattice, Thresholds};
use std::fmt::Debug;

/// SplitMix64 step: a well-mixed 64-bit function of `seed`.
pub fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Deterministic pseudo-random generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

/// Values near the boundaries where wrap-around and sign bugs live.
pub const INTERESTING: [u64; 18] = [
    0,
    1,
    2,
    7,
    63,
    64,
    255,
    0x7fff,
    0x8000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0xffff_ffff_ffff_fffe,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_8000_0000,
];

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// Next uniformly distributed word.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        splitmix64(self.state)
    }

    /// Uniform in 0..n (n > 0; n == 0 yields 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// A word biased towards boundaries: an [`INTERESTING`] value plus a small
    /// delta, a small number, or a uniform word.
    pub fn interesting_u64(&mut self) -> u64 {
        match self.below(4) {
            0 => {
                let base = INTERESTING[self.below(INTERESTING.len() as u64) as usize];
                base.wrapping_add(self.below(5)).wrapping_sub(2)
            }
            1 => self.below(300),
            _ => self.next_u64(),
        }
    }
}

/// Check the lattice laws on three elements.
pub fn check_lattice_laws<L: Lattice>(a: &L, b: &L, c: &L) -> Result<(), String> {
    let join = |x: &L, y: &L| {
        let mut r = x.clone();
        r.join(y);
        r
    };
    let bot = L::bottom();
    let top = L::top();
    if !bot.is_bottom() {
        return Err("bottom() is not is_bottom()".into());
    }
    if top.is_bottom() {
        return Err("top() is bottom".into());
    }
    for x in [a, b, c] {
        if !bot.leq(x) {
            return Err(format!("bottom not <= {x:?}"));
        }
        if !x.leq(&top) {
            return Err(format!("{x:?} not <= top"));
        }
        if !x.leq(x) {
            return Err(format!("leq not reflexive on {x:?}"));
        }
        let xx = join(x, x);
        if !x.is_bottom() && xx != *x {
            return Err(format!("join not idempotent: {x:?} ⊔ itself = {xx:?}"));
        }
        let mut y = x.clone();
        if y.join(x) && !x.is_bottom() {
            return Err(format!("join of {x:?} with itself reported a change"));
        }
        let xb = join(x, &bot);
        if !xb.leq(x) || !x.leq(&xb) {
            return Err(format!("bottom is not the identity of join on {x:?}: {xb:?}"));
        }
    }
    let ab = join(a, b);
    let ba = join(b, a);
    if ab != ba && !(ab.is_bottom() && ba.is_bottom()) {
        return Err(format!("join not commutative: {a:?} ⊔ {b:?} = {ab:?} but {ba:?}"));
    }
    if !a.leq(&ab) || !b.leq(&ab) {
        return Err(format!("join {ab:?} not above operands {a:?}, {b:?}"));
    }
    let ab_c = join(&ab, c);
    let a_bc = join(a, &join(b, c));
    if ab_c != a_bc && !(ab_c.is_bottom() && a_bc.is_bottom()) {
        return Err(format!("join not associative on {a:?}, {b:?}, {c:?}: {ab_c:?} vs {a_bc:?}"));
    }
    // leq consistent with join: a <= b iff a ⊔ b == b (up to equivalence)
    let equiv = |x: &L, y: &L| x.leq(y) && y.leq(x);
    if a.leq(b) != equiv(&ab, b) {
        return Err(format!("leq({a:?}, {b:?}) = {} inconsistent with join {ab:?}", a.leq(b)));
    }
    let mut a2 = a.clone();
    let changed = a2.join(b);
    if changed != (a2 != *a) {
        return Err(format!("join changed flag {changed} wrong for {a:?} ⊔ {b:?}"));
    }
    if changed && b.leq(a) && !a.is_bottom() {
        return Err(format!("join reported a change although {b:?} <= {a:?}"));
    }
    let m = a.meet(b);
    if !m.leq(a) || !m.leq(b) {
        return Err(format!("meet {m:?} not below {a:?} and {b:?}"));
    }
    if a.leq(b) && !a.is_bottom() && !equiv(&m, a) && !m.is_bottom() {
        return Err(format!("meet({a:?}, {b:?}) = {m:?} should equal {a:?}"));
    }
    let n = ab.narrow(a);
    if !a.leq(&n) || !n.leq(&ab) {
        return Err(format!("narrow({ab:?}, {a:?}) = {n:?} not between them"));
    }
    Ok(())
}

/// Iterate `w_{k+1} = widen(w_k, w_k ⊔ chain(k))` and check it stabilises
/// within `max_steps` steps, and that every chain element is below the
/// widened value. Returns the number of steps until stabilisation.
pub fn check_widening<L: Lattice>(
    mut chain: impl FnMut(usize) -> L,
    thresholds: &Thresholds,
    max_steps: usize,
) -> Result<usize, String> {
    let mut w = chain(0);
    let mut stable_for = 0;
    for k in 1..max_steps {
        let c = chain(k);
        let mut j = w.clone();
        j.join(&c);
        let next = w.widen(&j, thresholds);
        if !c.leq(&next) || !w.leq(&next) {
            return Err(format!("widen({w:?}, {j:?}) = {next:?} not above {c:?}"));
        }
        if next == w {
            stable_for += 1;
            // a chain that is itself stable for a while: widened value has converged
            if stable_for >= 8 {
                return Ok(k);
            }
        } else {
            stable_for = 0;
        }
        w = next;
    }
    Err(format!("widening did not stabilise within {max_steps} steps (last {w:?})"))
}

/// Sample up to `samples` members of gamma(a), check `conc(x)` is in gamma(r).
pub fn check_unary_sound<A: Gamma + Debug, R: Gamma + Debug>(
    name: &str,
    a: &A,
    r: &R,
    conc: impl Fn(u64) -> u64,
    rng: &mut Rng,
    samples: usize,
) -> Result<(), String> {
    for _ in 0..samples {
        let Some(x) = a.sample(rng.next_u64()) else { continue };
        if !a.contains(x) {
            return Err(format!("{name}: sample {x:#x} not in its own domain {a:?}"));
        }
        let c = conc(x);
        if !r.contains(c) {
            return Err(format!("{name}({a:?}) = {r:?} misses {name}({x:#x}) = {c:#x}"));
        }
    }
    Ok(())
}

/// Sample members x of gamma(a), y of gamma(b); check `conc(x, y)` is in gamma(r).
pub fn check_binary_sound<A: Gamma + Debug, B: Gamma + Debug, R: Gamma + Debug>(
    name: &str,
    a: &A,
    b: &B,
    r: &R,
    conc: impl Fn(u64, u64) -> u64,
    rng: &mut Rng,
    samples: usize,
) -> Result<(), String> {
    for _ in 0..samples {
        let (Some(x), Some(y)) = (a.sample(rng.next_u64()), b.sample(rng.next_u64())) else { continue };
        if !a.contains(x) || !b.contains(y) {
            return Err(format!("{name}: samples {x:#x}, {y:#x} not in their domains {a:?}, {b:?}"));
        }
        let c = conc(x, y);
        if !r.contains(c) {
            return Err(format!("{name}({a:?}, {b:?}) = {r:?} misses {x:#x} op {y:#x} = {c:#x}"));
        }
    }
    Ok(())
}

/// Refinement soundness: for sampled x in gamma(a), y in gamma(b) with
/// `holds(x, y)`, the refined pair must exist and contain (x, y).
/// Returns how many sampled pairs satisfied `holds`.
pub fn check_refine_sound<A: Gamma + Debug>(
    name: &str,
    a: &A,
    b: &A,
    refined: Option<&(A, A)>,
    holds: impl Fn(u64, u64) -> bool,
    rng: &mut Rng,
    samples: usize,
) -> Result<usize, String> {
    let mut hits = 0;
    for _ in 0..samples {
        let (Some(x), Some(y)) = (a.sample(rng.next_u64()), b.sample(rng.next_u64())) else { continue };
        if !holds(x, y) {
            continue;
        }
        hits += 1;
        match refined {
            None => return Err(format!("{name}: refine({a:?}, {b:?}) infeasible but ({x:#x}, {y:#x}) satisfies it")),
            Some((ra, rb)) => {
                if !ra.contains(x) || !rb.contains(y) {
                    return Err(format!(
                        "{name}: refine({a:?}, {b:?}) = ({ra:?}, {rb:?}) lost ({x:#x}, {y:#x})"
                    ));
                }
            }
        }
    }
    Ok(hits)
}

/// Proptest strategies for interesting integers.
#[cfg(any(test, feature = "proptest"))]
pub mod strategies {
    use proptest::prelude::*;

    /// A word biased towards boundaries (see [`super::INTERESTING`]).
    pub fn interesting_u64() -> impl Strategy<Value = u64> + Clone {
        prop_oneof![
            (0..super::INTERESTING.len(), -2i64..=2)
                .prop_map(|(i, d)| super::INTERESTING[i].wrapping_add(d as u64)),
            0u64..300,
            any::<u64>(),
        ]
    }

    /// An ordered pair (lo <= hi), often a small range around an interesting value.
    pub fn urange() -> impl Strategy<Value = (u64, u64)> + Clone {
        prop_oneof![
            (interesting_u64(), interesting_u64()).prop_map(|(a, b)| (a.min(b), a.max(b))),
            (interesting_u64(), 0u64..20).prop_map(|(a, d)| (a, a.saturating_add(d))),
            interesting_u64().prop_map(|a| (a, a)),
        ]
    }

    /// An ordered signed pair (lo <= hi).
    pub fn srange() -> impl Strategy<Value = (i64, i64)> + Clone {
        prop_oneof![
            (interesting_u64(), interesting_u64()).prop_map(|(a, b)| {
                let (a, b) = (a as i64, b as i64);
                (a.min(b), a.max(b))
            }),
            (interesting_u64(), 0i64..20).prop_map(|(a, d)| (a as i64, (a as i64).saturating_add(d))),
            (-20i64..20, 0i64..40).prop_map(|(a, d)| (a, a + d)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tnum::Tnum;

    #[test]
    fn rng_is_deterministic_and_spreads() {
        let mut a = Rng::new(1);
        let mut b = Rng::new(1);
        let xs: Vec<u64> = (0..10).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..10).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut sorted = xs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 10);
        assert!(a.below(5) < 5);
    }

    #[test]
    fn checks_catch_an_unsound_op() {
        // "add" that forgets carries entirely: (0x1; 0x0) + (0x1; 0x0) claimed to be {0}.
        let a = Tnum::constant(1);
        let wrong = Tnum::constant(0);
        let mut rng = Rng::new(3);
        assert!(check_binary_sound("add", &a, &a, &wrong, u64::wrapping_add, &mut rng, 4).is_err());
        assert!(check_unary_sound("id", &a, &wrong, |x| x, &mut rng, 4).is_err());
    }

    #[test]
    fn widening_check_catches_a_join_only_widening() {
        // A "widening" that is just the join never stabilises on an infinite chain:
        // emulate it with thresholds-free intervals of the tnum domain? Tnums have
        // finite height, so use a custom lattice.
        #[derive(Clone, PartialEq, Debug)]
        struct Upto(u64);
        impl Lattice for Upto {
            fn bottom() -> Self {
                Upto(0)
            }
            fn top() -> Self {
                Upto(u64::MAX)
            }
            fn is_bottom(&self) -> bool {
                self.0 == 0
            }
            fn leq(&self, o: &Self) -> bool {
                self.0 <= o.0
            }
            fn join(&mut self, o: &Self) -> bool {
                let c = o.0 > self.0;
                self.0 = self.0.max(o.0);
                c
            }
            fn meet(&self, o: &Self) -> Self {
                Upto(self.0.min(o.0))
            }
            fn widen(&self, newer: &Self, _t: &Thresholds) -> Self {
                Upto(self.0.max(newer.0)) // wrong: a join
            }
            fn narrow(&self, newer: &Self) -> Self {
                newer.clone()
            }
        }
        assert!(check_widening(|k| Upto(k as u64 + 1), &Thresholds::none(), 100).is_err());
        check_lattice_laws(&Upto(1), &Upto(5), &Upto(3)).unwrap();
    }
}
