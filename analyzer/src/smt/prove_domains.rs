//! Proofs that the abstract domains' transfer functions are sound, in the
//! style of Agni (Vishwanathan et al., "Verifying the Verifier: eBPF Range
//! Analysis Verification", CAV 2023).
//!
//! For an abstract operation `op#` the obligation is: for all abstract
//! inputs `a`, `b` and all concrete `x` in gamma(a), `y` in gamma(b) (which
//! makes the inputs non-bottom), `op(x, y)` is in gamma(`op#(a, b)`), with
//! 64-bit bit-vectors. Z3 is asked for a violation; `unsat` is a proof,
//! `sat` a counterexample, anything else (timeout, unknown) is reported as
//! `Timeout` and never counts as proved.
//!
//! The abstract operations are the `crate::smt::encode` mirrors of the Rust
//! code, tied to it by differential tests on random inputs
//! (`encode/tests.rs`). Every counterexample is replayed on the Rust code:
//! the message says whether the Rust function really fails on it
//! ("confirmed by the Rust code") or only the encoding does ("NOT
//! reproduced by the Rust code: the encoding differs").
//!
//! Making it tractable:
//! - a goal "x in gamma(r)" is split into its conjuncts (one per component),
//!   checked one at a time; lemmas (e.g. "x + y is in the u64 component
//!   before the product is built") come first, and every proved case is
//!   assumed by the later cases of the same obligation;
//! - `scalar.sync` is proved step by step (each step of `sync` keeps every
//!   x of any input containing x, and `bound_offset`/`snap_to_tnum` never
//!   fail on such an input, hence so does their composition, whatever the
//!   number of rounds); `scalar.meet`, `scalar.<op>.<w>` and `refine.*` are then proved
//!   with `sync` taken as the identity ([`SyncMode::Assumed`]), which is
//!   sound given that lemma: `prove_all` always runs `scalar.sync` with
//!   them and reports them as `Timeout` unless it is proved.
//!
//! Obligations (names as printed):
//! - `tnum.{add,sub,neg,and,or,xor,intersect,union,meet,range}`,
//!   `tnum.{lshift,rshift,arshift64,arshift32}` for every constant amount
//!   (the amount is a symbolic byte), `tnum.mul` and `tnum.mul_cgo` (64
//!   bits, by induction over their loops), `tnum.mul_best` (their meet,
//!   with those two lines as lemmas) and
//!   `tnum.mul.w8` (the same unrolled algorithm at 8 bits);
//! - `interval.{u64,s64,u32,s32}.{add,sub,and,or,xor,neg}`,
//!   `interval.{u64,s64,u32,s32}.mul`, `interval.{u64,u32}.{div,mod}` and
//!   `interval.{s64,s32}.{sdiv,smod}` (over the integers with `div`/`mod`/`*`
//!   uninterpreted, from separately proved monotonicity and remainder
//!   lemmas: bit-blasted dividers and multipliers never finish),
//!   `interval.{u64,s64,u32,s32}.{lsh,rsh,arsh}` (shift by a range of
//!   amounts; bit-vectors, signed `lsh` with the exact `2w`-bit shift
//!   uninterpreted after separately proved lemmas),
//!   `interval.{u64,s64}.sext{8,16,32}`, `interval.{u32,s32}.sext{8,16}`;
//! - `scalar.sync`, `scalar.meet`, `scalar.{add,sub,and,or,xor}.{w64,w32}`
//!   (the whole `Scalar::binop`: constant folding, components, product),
//!   `scalar.zext32`, `scalar.neg.{w64,w32}`, `scalar.truncate.{1,2,3,5,6,7}`
//!   (bytes; 4 is `zext32`, 8 the identity), `scalar.sext{8,16,32,33}.w64`,
//!   `scalar.sext{8,16}.w32` (32 at W32 is `zext32`; 33 stands for the
//!   from_bits between 32 and 64 no instruction uses), `scalar.bswap{16,32,64}`;
//! - `outcome.<cmp>.{w64,w32}`: `branch_outcome` is never wrong when decided;
//! - `refine.<cmp>.{w64,w32}.{taken,fallthrough}`: for every pair with
//!   `x cmp y == taken`, `refine` returns `Some((a', b'))` with x in a' and
//!   y in b' (so `None` only when no such pair exists);
//! - `lemma.mul_low32`: the low 32 bits of the 64-bit product `x * y` are
//!   the 32-bit product of the low halves (Z3 proves it at 64 bits);
//! - `scalar.{mul,div,mod,sdiv,smod}.{w64,w32}` (`crate::smt::scalar_ops`)
//!   and `scalar.{lsh,rsh,arsh}.{w64,w32}` (`crate::smt::scalar_shifts`):
//!   the glue of `Scalar::binop` around the component results, which are
//!   fresh terms constrained by instances of the proved component lines
//!   (`tnum.mul_best`, `interval.*.{mul,div,mod,sdiv,smod,lsh,rsh,arsh}`,
//!   `lemma.mul_low32`, `tnum.{rshift,and,lshift,arshift64,arshift32}`,
//!   `scalar.zext32`); `prove_all` runs those lines with them
//!   ([`Obligation::lemmas`]) and reports them `timeout` unless all are
//!   proved;
//! - an operation without an encoding would be listed as `NotEncoded`
//!   (none is left).

use super::encode::int_range::{
    concrete_sdiv, concrete_smod, concrete_udiv, concrete_umod, imax as imax_int, imin as imin_int,
    Arith, IntRange,
};
use super::encode::range::SymRange;
use super::encode::refine::{self, Cond};
use super::encode::scalar::{SymScalar, SyncMode};
use super::encode::tnum::SymTnum;
use super::encode::{concrete, lit};
use lattices::scalar::{eval_binop, eval_cmp};
use lattices::{BinOp, BitWidth, Cmp, Scalar, Tnum};
use lattices::{S32Range, S64Range, U32Range, U64Range};
use rayon::prelude::*;
use std::fmt;
use std::time::{Duration, Instant};
use z3::ast::{Bool, Int, BV};
use z3::{FuncDecl, Model, Params, SatResult, Solver, Sort, Tactic};

/// The verdict on one operation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// Z3 showed that no violation exists.
    Proved,
    /// A violation, with the concrete abstract inputs and values.
    Counterexample(String),
    /// Z3 gave up (timeout or unknown): not proved.
    Timeout,
    /// No faithful encoding of this operation exists yet: not proved.
    NotEncoded,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Proved => "proved",
            Outcome::Counterexample(_) => "counterexample",
            Outcome::Timeout => "timeout",
            Outcome::NotEncoded => "not encoded",
        })
    }
}

/// The result for one operation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProofResult {
    /// Operation name, e.g. `tnum.add`, `refine.slt.w32.taken`.
    pub op: String,
    /// What Z3 found.
    pub outcome: Outcome,
    /// Wall time spent building and solving.
    pub time: Duration,
}

/// Tnum operations with a proof obligation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TnumOp {
    Add,
    Sub,
    And,
    Or,
    Xor,
    /// `Tnum::mul` at the given width (64: the real thing).
    Mul(u32),
    /// `Tnum::mul_cgo` at 64 bits.
    MulCgo,
    /// `Tnum::mul_best` at 64 bits, from the `Mul(64)` and `MulCgo` lines.
    MulBest,
    Neg,
    Intersect,
    Union,
    Meet,
    Range,
    Lshift,
    Rshift,
    Arshift64,
    Arshift32,
    /// `lshift_by`/`rshift_by`/`arshift_by` (`Lsh`/`Rsh`/`Arsh`) at bitness 32 or 64.
    ShiftBy(BinOp, u8),
}

/// One proof obligation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Obligation {
    Tnum(TnumOp),
    Interval { w: u32, signed: bool, op: BinOp },
    IntervalNeg { w: u32, signed: bool },
    /// Unsigned `udiv` (`is_mod` false) or `umod` at `w` bits.
    IntervalDivMod { w: u32, is_mod: bool },
    /// `mul` of the `w`-bit ranges.
    IntervalMul { w: u32, signed: bool },
    /// Signed `sdiv` (`is_mod` false) or `smod` at `w` bits.
    IntervalSDivMod { w: u32, is_mod: bool },
    /// `shl`/`shr`/`sar` (`Lsh`/`Rsh`/`Arsh`) of the `w`-bit ranges.
    IntervalShift { w: u32, signed: bool, op: BinOp },
    /// `sext(k)` of the `w`-bit ranges.
    IntervalSext { w: u32, signed: bool, k: u32 },
    Sync,
    Meet,
    Binop(BinOp, BitWidth),
    Zext32,
    Neg(BitWidth),
    /// `Scalar::truncate(bytes)`.
    Truncate(u32),
    /// `Scalar::sext(from_bits, width)`.
    Sext(u8, BitWidth),
    /// `Scalar::bswap(bits)`.
    Bswap(u8),
    Outcome(Cmp, BitWidth),
    Refine(Cmp, BitWidth, bool),
    /// The low 32 bits of a 64-bit product are the 32-bit product.
    MulLow32,
    NotEncoded(&'static str),
}

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
const BITOPS: [BinOp; 5] = [BinOp::Add, BinOp::Sub, BinOp::And, BinOp::Or, BinOp::Xor];

/// Operations of the `lattices` API that have no encoding (none left).
const NOT_ENCODED: [&str; 0] = [];

/// The `Scalar::binop` operations proved by composition (`scalar_ops`,
/// `scalar_shifts`).
const COMPOSED_OPS: [BinOp; 8] = [
    BinOp::Mul,
    BinOp::Div,
    BinOp::Mod,
    BinOp::SDiv,
    BinOp::SMod,
    BinOp::Lsh,
    BinOp::Rsh,
    BinOp::Arsh,
];

pub(crate) fn op_name(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "add",
        BinOp::Sub => "sub",
        BinOp::Mul => "mul",
        BinOp::Div => "div",
        BinOp::SDiv => "sdiv",
        BinOp::Mod => "mod",
        BinOp::SMod => "smod",
        BinOp::Or => "or",
        BinOp::And => "and",
        BinOp::Xor => "xor",
        BinOp::Lsh => "lsh",
        BinOp::Rsh => "rsh",
        BinOp::Arsh => "arsh",
    }
}

fn cmp_name(c: Cmp) -> &'static str {
    match c {
        Cmp::Eq => "eq",
        Cmp::Ne => "ne",
        Cmp::Gt => "gt",
        Cmp::Ge => "ge",
        Cmp::Lt => "lt",
        Cmp::Le => "le",
        Cmp::SGt => "sgt",
        Cmp::SGe => "sge",
        Cmp::SLt => "slt",
        Cmp::SLe => "sle",
        Cmp::Set => "set",
    }
}

pub(crate) fn width_name(w: BitWidth) -> &'static str {
    match w {
        BitWidth::W32 => "w32",
        BitWidth::W64 => "w64",
    }
}

impl Obligation {
    fn name(&self) -> String {
        match *self {
            Obligation::Tnum(op) => match op {
                TnumOp::Mul(64) => "tnum.mul".to_string(),
                TnumOp::MulCgo => "tnum.mul_cgo".to_string(),
                TnumOp::MulBest => "tnum.mul_best".to_string(),
                TnumOp::Mul(w) => format!("tnum.mul.w{w}"),
                TnumOp::ShiftBy(op, w) => {
                    let n = match op {
                        BinOp::Lsh => "lshift",
                        BinOp::Rsh => "rshift",
                        _ => "arshift",
                    };
                    format!("tnum.{n}_by.w{w}")
                }
                _ => format!("tnum.{}", format!("{op:?}").to_lowercase()),
            },
            Obligation::Interval { w, signed, op } => {
                format!(
                    "interval.{}{w}.{}",
                    if signed { "s" } else { "u" },
                    op_name(op)
                )
            }
            Obligation::Sync => "scalar.sync".to_string(),
            Obligation::Meet => "scalar.meet".to_string(),
            Obligation::Binop(op, w) => format!("scalar.{}.{}", op_name(op), width_name(w)),
            Obligation::Zext32 => "scalar.zext32".to_string(),
            Obligation::Neg(w) => format!("scalar.neg.{}", width_name(w)),
            Obligation::Truncate(b) => format!("scalar.truncate.{b}"),
            Obligation::Sext(k, w) => format!("scalar.sext{k}.{}", width_name(w)),
            Obligation::Bswap(b) => format!("scalar.bswap{b}"),
            Obligation::IntervalDivMod { w, is_mod } => {
                format!("interval.u{w}.{}", if is_mod { "mod" } else { "div" })
            }
            Obligation::IntervalNeg { w, signed } => {
                format!("interval.{}{w}.neg", if signed { "s" } else { "u" })
            }
            Obligation::IntervalMul { w, signed } => {
                format!("interval.{}{w}.mul", if signed { "s" } else { "u" })
            }
            Obligation::IntervalSDivMod { w, is_mod } => {
                format!("interval.s{w}.{}", if is_mod { "smod" } else { "sdiv" })
            }
            Obligation::IntervalShift { w, signed, op } => {
                format!("interval.{}{w}.{}", if signed { "s" } else { "u" }, op_name(op))
            }
            Obligation::IntervalSext { w, signed, k } => {
                format!("interval.{}{w}.sext{k}", if signed { "s" } else { "u" })
            }
            Obligation::Outcome(c, w) => format!("outcome.{}.{}", cmp_name(c), width_name(w)),
            Obligation::Refine(c, w, taken) => format!(
                "refine.{}.{}.{}",
                cmp_name(c),
                width_name(w),
                if taken { "taken" } else { "fallthrough" }
            ),
            Obligation::MulLow32 => "lemma.mul_low32".to_string(),
            Obligation::NotEncoded(n) => n.to_string(),
        }
    }

    /// Proved with `sync` as the identity, so only sound once `scalar.sync` is.
    fn needs_sync(&self) -> bool {
        matches!(
            self,
            Obligation::Meet
                | Obligation::Binop(..)
                | Obligation::Refine(..)
                | Obligation::Zext32
                | Obligation::Neg(_)
                | Obligation::Truncate(_)
                | Obligation::Sext(..)
                | Obligation::Bswap(_)
        )
    }

    fn query(&self) -> Option<Query> {
        Some(match *self {
            Obligation::Tnum(op) => tnum_query(op),
            Obligation::Interval { w, signed, op } => interval_query(w, signed, op),
            Obligation::Sync => sync_query(),
            Obligation::Meet => meet_query(),
            Obligation::Binop(op, w) => {
                binop_query(op, w)
                    .or_else(|| super::scalar_ops::scalar_op_query(op, w))
                    .or_else(|| super::scalar_shifts::scalar_shift_query(op, w))?
            }
            Obligation::Zext32 => zext32_query(),
            Obligation::Neg(w) => neg_query(w),
            Obligation::Truncate(b) => truncate_query(b),
            Obligation::Sext(k, w) => sext_query(k, w),
            Obligation::Bswap(b) => bswap_query(b),
            Obligation::IntervalNeg { w, signed } => interval_neg_query(w, signed),
            Obligation::IntervalDivMod { w, is_mod } => interval_divmod_query(w, is_mod),
            Obligation::IntervalMul { w, signed } => interval_mul_query(w, signed),
            Obligation::IntervalSDivMod { w, is_mod } => interval_sdivmod_query(w, is_mod),
            Obligation::IntervalShift { w, signed, op } => interval_shift_query(w, signed, op),
            Obligation::IntervalSext { w, signed, k } => interval_sext_query(w, signed, k),
            Obligation::Outcome(c, w) => outcome_query(c, w),
            Obligation::Refine(c, w, taken) => refine_query(c, w, taken),
            Obligation::MulLow32 => mul_low32_query(),
            Obligation::NotEncoded(_) => return None,
        })
    }
}

impl Obligation {
    /// The other lines this one assumes (besides `scalar.sync`, see
    /// [`Obligation::needs_sync`]): `prove_all` runs them in the same call
    /// and reports this one as `Timeout` unless all of them (and theirs)
    /// are proved.
    fn lemmas(&self) -> Vec<Obligation> {
        use Obligation::*;
        let tnum = Obligation::Tnum;
        match *self {
            Tnum(TnumOp::MulBest) => vec![tnum(TnumOp::Mul(64)), tnum(TnumOp::MulCgo)],
            Binop(BinOp::Mul, BitWidth::W64) => vec![
                tnum(TnumOp::MulBest),
                IntervalMul { w: 64, signed: false },
                IntervalMul { w: 64, signed: true },
                IntervalMul { w: 32, signed: false },
                IntervalMul { w: 32, signed: true },
                MulLow32,
            ],
            Binop(BinOp::Mul, BitWidth::W32) => vec![
                tnum(TnumOp::MulBest),
                IntervalMul { w: 32, signed: false },
                IntervalMul { w: 32, signed: true },
                MulLow32,
            ],
            Binop(op @ (BinOp::Div | BinOp::Mod), width) => {
                let is_mod = op == BinOp::Mod;
                let w = if width == BitWidth::W64 { 64 } else { 32 };
                let mut v = vec![
                    IntervalDivMod { w, is_mod },
                    tnum(if is_mod { TnumOp::And } else { TnumOp::Rshift }),
                ];
                if width == BitWidth::W32 {
                    v.push(Zext32);
                }
                v
            }
            Binop(op @ (BinOp::Lsh | BinOp::Rsh | BinOp::Arsh), width) => {
                let w = if width == BitWidth::W64 { 64 } else { 32 };
                let t = match (op, width) {
                    (BinOp::Lsh, _) => TnumOp::Lshift,
                    (BinOp::Rsh, _) => TnumOp::Rshift,
                    (_, BitWidth::W64) => TnumOp::Arshift64,
                    _ => TnumOp::Arshift32,
                };
                let mut v = vec![tnum(t)];
                if op != BinOp::Arsh {
                    v.push(IntervalShift { w, signed: false, op });
                }
                v.push(IntervalShift { w, signed: true, op });
                if op == BinOp::Lsh && width == BitWidth::W64 {
                    v.push(IntervalShift { w: 32, signed: false, op });
                    v.push(IntervalShift { w: 32, signed: true, op });
                }
                v
            }
            Binop(op @ (BinOp::SDiv | BinOp::SMod), width) => vec![IntervalSDivMod {
                w: if width == BitWidth::W64 { 64 } else { 32 },
                is_mod: op == BinOp::SMod,
            }],
            _ => Vec::new(),
        }
    }
}

/// `o` with the lines it assumes, transitively, each before the lines that
/// assume it, skipping those already in `out`.
fn push_with_lemmas(o: Obligation, out: &mut Vec<Obligation>) {
    if out.contains(&o) {
        return;
    }
    for dep in o.lemmas() {
        push_with_lemmas(dep, out);
    }
    out.push(o);
}

/// Every obligation, in report order.
fn obligations() -> Vec<Obligation> {
    use TnumOp::*;
    let mut v: Vec<Obligation> = [
        Add,
        Sub,
        Neg,
        And,
        Or,
        Xor,
        Lshift,
        Rshift,
        Arshift64,
        Arshift32,
        Intersect,
        Union,
        Meet,
        Range,
        Mul(8),
        Mul(64),
        MulCgo,
        MulBest,
        ShiftBy(BinOp::Lsh, 64),
        ShiftBy(BinOp::Rsh, 64),
        ShiftBy(BinOp::Arsh, 64),
        ShiftBy(BinOp::Lsh, 32),
        ShiftBy(BinOp::Rsh, 32),
        ShiftBy(BinOp::Arsh, 32),
    ]
    .into_iter()
    .map(Obligation::Tnum)
    .collect();
    for (w, signed) in [(64, false), (64, true), (32, false), (32, true)] {
        for op in BITOPS {
            v.push(Obligation::Interval { w, signed, op });
        }
        v.push(Obligation::IntervalNeg { w, signed });
        v.push(Obligation::IntervalMul { w, signed });
        for op in [BinOp::Lsh, BinOp::Rsh, BinOp::Arsh] {
            v.push(Obligation::IntervalShift { w, signed, op });
        }
        // sext from w bits is the identity
        for k in [8, 16, 32].into_iter().filter(|k| *k < w) {
            v.push(Obligation::IntervalSext { w, signed, k });
        }
        for is_mod in [false, true] {
            v.push(if signed {
                Obligation::IntervalSDivMod { w, is_mod }
            } else {
                Obligation::IntervalDivMod { w, is_mod }
            });
        }
    }
    v.push(Obligation::Sync);
    v.push(Obligation::Meet);
    for w in [BitWidth::W64, BitWidth::W32] {
        for op in BITOPS {
            v.push(Obligation::Binop(op, w));
        }
    }
    v.push(Obligation::Zext32);
    v.push(Obligation::Neg(BitWidth::W64));
    v.push(Obligation::Neg(BitWidth::W32));
    // 4 bytes is zext32, 8 the identity
    for b in [1, 2, 3, 5, 6, 7] {
        v.push(Obligation::Truncate(b));
    }
    // sext32 at W32 is zext32
    for (k, w) in [
        (8, BitWidth::W64),
        (16, BitWidth::W64),
        (32, BitWidth::W64),
        (33, BitWidth::W64),
        (8, BitWidth::W32),
        (16, BitWidth::W32),
    ] {
        v.push(Obligation::Sext(k, w));
    }
    for b in [16, 32, 64] {
        v.push(Obligation::Bswap(b));
    }
    for w in [BitWidth::W64, BitWidth::W32] {
        for c in CMPS {
            v.push(Obligation::Outcome(c, w));
        }
    }
    for w in [BitWidth::W64, BitWidth::W32] {
        for c in CMPS {
            for taken in [true, false] {
                v.push(Obligation::Refine(c, w, taken));
            }
        }
    }
    v.push(Obligation::MulLow32);
    for op in COMPOSED_OPS {
        for w in [BitWidth::W64, BitWidth::W32] {
            v.push(Obligation::Binop(op, w));
        }
    }
    v.extend(NOT_ENCODED.iter().map(|n| Obligation::NotEncoded(n)));
    v
}

/// Names of every operation `prove_all` reports on, in order.
pub fn operation_names() -> Vec<String> {
    obligations().iter().map(Obligation::name).collect()
}

/// The obligations `prove_all(filter)` runs, in order: those whose name
/// contains `filter`, with `scalar.sync` first when one of them needs it and
/// the lines each assumes ([`Obligation::lemmas`]) before it.
fn plan(filter: Option<&str>) -> Vec<Obligation> {
    plan_where(|n| filter.is_none_or(|f| n.contains(f)))
}

/// [`plan`] for the obligations whose name satisfies `pick`.
fn plan_where(pick: impl Fn(&str) -> bool) -> Vec<Obligation> {
    let mut todo: Vec<Obligation> = obligations()
        .into_iter()
        .filter(|o| pick(&o.name()))
        .collect();
    // results that rely on the sync lemma come with it
    if todo.iter().any(|o| o.needs_sync()) && !todo.contains(&Obligation::Sync) {
        todo.insert(0, Obligation::Sync);
    }
    // lines that assume others (`tnum.mul_best`, composed `scalar.*`) come with them
    let mut ordered = Vec::new();
    for o in todo {
        push_with_lemmas(o, &mut ordered);
    }
    ordered
}

/// The names of [`plan`]`(filter)`.
#[cfg(test)]
pub(crate) fn planned_names(filter: Option<&str>) -> Vec<String> {
    plan(filter).iter().map(Obligation::name).collect()
}

/// Prove every operation whose name contains `filter` (all when `None`),
/// giving Z3 `timeout_ms` per operation; obligations run in parallel.
pub fn prove_all(filter: Option<&str>, timeout_ms: u32) -> Vec<ProofResult> {
    prove_plan(plan(filter), timeout_ms)
}

/// Prove exactly the operations named in `names` (with the lines they
/// assume, as [`prove_all`] does), in one parallel run: `scalar.sync` and
/// shared lemmas are proved once.
pub fn prove_named(names: &[&str], timeout_ms: u32) -> Vec<ProofResult> {
    prove_plan(plan_where(|n| names.contains(&n)), timeout_ms)
}

/// Run the obligations of a plan and settle those that assume others.
fn prove_plan(plan: Vec<Obligation>, timeout_ms: u32) -> Vec<ProofResult> {
    let todo: Vec<(String, Obligation)> = plan.into_iter().map(|o| (o.name(), o)).collect();
    let mut results: Vec<(Obligation, ProofResult)> = todo
        .into_par_iter()
        .map(|(op, o)| {
            let start = Instant::now();
            let outcome = match o.query() {
                None => Outcome::NotEncoded,
                Some(q) => solve(q, timeout_ms),
            };
            (
                o,
                ProofResult {
                    op,
                    outcome,
                    time: start.elapsed(),
                },
            )
        })
        .collect();
    let sync_proved = results
        .iter()
        .any(|(o, r)| *o == Obligation::Sync && r.outcome == Outcome::Proved);
    // proved only modulo a lemma that is not proved: not proved (lemmas
    // come first, so one pass in order settles chains of them)
    for i in 0..results.len() {
        let o = results[i].0;
        let lemmas_proved = o.lemmas().iter().all(|dep| {
            results
                .iter()
                .any(|(d, r)| d == dep && r.outcome == Outcome::Proved)
        });
        let r = &mut results[i].1;
        if r.outcome == Outcome::Proved && ((o.needs_sync() && !sync_proved) || !lemmas_proved) {
            r.outcome = Outcome::Timeout;
        }
    }
    results.into_iter().map(|(_, r)| r).collect()
}

/// One line per operation: `tnum.add                      proved             0.12s`,
/// a counterexample's details after the time.
pub fn render(results: &[ProofResult]) -> String {
    let mut out = String::new();
    for r in results {
        let line = format!(
            "{:<30}{:<16}{:>7.2}s",
            r.op,
            r.outcome.to_string(),
            r.time.as_secs_f64()
        );
        out.push_str(&line);
        if let Outcome::Counterexample(c) = &r.outcome {
            out.push_str("  ");
            out.push_str(c);
        }
        out.push('\n');
    }
    let count = |f: fn(&Outcome) -> bool| results.iter().filter(|r| f(&r.outcome)).count();
    out.push_str(&format!(
        "{} proved, {} counterexamples, {} timeouts, {} not encoded\n",
        count(|o| *o == Outcome::Proved),
        count(|o| matches!(o, Outcome::Counterexample(_))),
        count(|o| *o == Outcome::Timeout),
        count(|o| *o == Outcome::NotEncoded),
    ));
    out
}

/// One goal: `pre` implies `goal` (Z3 looks for `pre && !goal`).
pub(crate) struct Case {
    /// What the goal is about, e.g. `umin` or `deduce64/var_off`.
    pub(crate) label: String,
    /// The assumptions.
    pub(crate) pre: Bool,
    /// The claim.
    pub(crate) goal: Bool,
    /// Which solver decides it.
    pub(crate) logic: Logic,
}

/// The solver configuration of a [`Case`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Logic {
    /// Bit-vectors (`QF_BV`).
    Bv,
    /// Bit-vectors, normalised to sums of monomials first (Z3's `simplify
    /// :som true`): ring identities on products then become syntactic,
    /// where bit-blasting two 64-bit multipliers would not finish.
    Som,
    /// Z3's default solver (integers, uninterpreted functions).
    Default,
    /// Bit-vectors, like `Bv`, but not assumed by the later cases: a step
    /// whose conclusion the later cases restate in their own (smaller)
    /// `pre`, so that they need not carry this case's assumptions.
    BvStep,
    /// Z3's default solver, for a lemma about exact operations over fresh
    /// variables: used only through explicit instances (with the operation
    /// uninterpreted), so not assumed by the later cases (its nonlinear
    /// terms or bit-level shifters would only slow them down).
    Lemma,
}

/// Renders a model of a failing case (label given) as a counterexample.
type Explain = Box<dyn Fn(&str, &Model) -> String>;

/// The goals of one obligation (all must hold) and how to explain a model.
pub(crate) struct Query {
    /// Proved when every case is.
    pub(crate) cases: Vec<Case>,
    /// Renders a model of a failing case (label given) as a counterexample,
    /// replaying it on the Rust code.
    pub(crate) explain: Explain,
}

impl Query {
    /// One goal.
    fn single(pre: Bool, goal: Bool, explain: impl Fn(&Model) -> String + 'static) -> Query {
        Query {
            cases: vec![Case {
                label: String::new(),
                pre,
                goal,
                logic: Logic::Bv,
            }],
            explain: Box::new(move |_, m| explain(m)),
        }
    }

    /// `pre` implies each of `goals` (labelled), checked one by one.
    fn split(
        pre: &Bool,
        goals: Vec<(String, Bool)>,
        explain: impl Fn(&str, &Model) -> String + 'static,
    ) -> Query {
        let cases = goals
            .into_iter()
            .map(|(label, goal)| Case {
                label,
                pre: pre.clone(),
                goal,
                logic: Logic::Bv,
            })
            .collect();
        Query {
            cases,
            explain: Box::new(explain),
        }
    }
}

const PART_NAMES: [&str; 9] = [
    "var_off", "umin", "umax", "smin", "smax", "u32_min", "u32_max", "s32_min", "s32_max",
];

/// `s.contains(x)` as nine labelled goals `prefix/var_off`, `prefix/umin`, ...
pub(crate) fn contains_goals(prefix: &str, s: &SymScalar, x: &BV) -> Vec<(String, Bool)> {
    PART_NAMES
        .iter()
        .zip(s.contains_parts(x))
        .map(|(n, g)| (format!("{prefix}{n}"), g))
        .collect()
}

/// Check the cases of `q` in order, each with a fresh QF_BV solver and
/// `timeout_ms` (enforced by Z3's own timeout and, since Z3 does not check
/// it during preprocessing, by an interrupt from a watchdog thread).
///
/// The cases of one query share their assumptions (`pre`), so a case that
/// is proved is assumed in the later ones (lemmas first, then the goals
/// they help with); a case that is not proved is never assumed. With the
/// environment variable `PROVE_TRACE` set, each case's verdict and time go
/// to stderr (to find the slow goals).
pub(crate) fn solve(q: Query, timeout_ms: u32) -> Outcome {
    let mut gave_up = false;
    let mut proven: Vec<Bool> = Vec::new();
    for case in &q.cases {
        let solver = match case.logic {
            Logic::Som => {
                let mut sp = Params::new();
                sp.set_bool("som", true);
                Tactic::new("simplify")
                    .with(&sp)
                    .and_then(&Tactic::new("smt"))
                    .solver()
            }
            Logic::Bv | Logic::BvStep => Solver::new_for_logic("QF_BV").unwrap_or_default(),
            Logic::Default | Logic::Lemma => Solver::new(),
        };
        let mut p = Params::new();
        p.set_u32("timeout", timeout_ms.max(1));
        solver.set_params(&p);
        solver.assert(&case.pre);
        for g in &proven {
            solver.assert(g);
        }
        solver.assert(case.goal.not());
        let t0 = Instant::now();
        let res = check_with_watchdog(&solver, timeout_ms);
        if std::env::var_os("PROVE_TRACE").is_some() {
            eprintln!(
                "  case {} {:?} {:.2}s",
                case.label,
                res,
                t0.elapsed().as_secs_f64()
            );
        }
        match res {
            SatResult::Unsat if matches!(case.logic, Logic::Lemma | Logic::BvStep) => {}
            SatResult::Unsat => proven.push(case.pre.implies(&case.goal)),
            SatResult::Unknown => gave_up = true,
            SatResult::Sat => {
                let what = match solver.get_model() {
                    Some(m) => (q.explain)(&case.label, &m),
                    None => "(z3 returned no model)".to_string(),
                };
                let at = if case.label.is_empty() {
                    String::new()
                } else {
                    format!("[{}] ", case.label)
                };
                return Outcome::Counterexample(format!("{at}{what}"));
            }
        }
    }
    if gave_up {
        Outcome::Timeout
    } else {
        Outcome::Proved
    }
}

/// `solver.check()`, interrupted `timeout_ms` (plus a grace period) later.
fn check_with_watchdog(solver: &Solver, timeout_ms: u32) -> SatResult {
    let handle = solver.get_context().handle();
    let (done, wait) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let handle = &handle;
        scope.spawn(move || {
            let limit = Duration::from_millis(u64::from(timeout_ms) + 200);
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
                handle.interrupt();
            }
        });
        let r = solver.check();
        // the watchdog may already be gone; nothing to do then
        let _ = done.send(());
        r
    })
}

/// A model value (0 if the model leaves it open, which Z3's model
/// completion never does).
pub(crate) fn mv(m: &Model, x: &BV) -> u64 {
    m.eval(x, true).and_then(|v| v.as_u64()).unwrap_or(0)
}

fn mtnum(m: &Model, t: &SymTnum) -> Tnum {
    Tnum::new(mv(m, &t.value), mv(m, &t.mask))
}

pub(crate) fn mscalar(m: &Model, s: &SymScalar) -> Scalar {
    Scalar {
        var_off: mtnum(m, &s.var_off),
        umin: mv(m, &s.umin),
        umax: mv(m, &s.umax),
        smin: mv(m, &s.smin) as i64,
        smax: mv(m, &s.smax) as i64,
        u32_min: mv(m, &s.u32_min) as u32,
        u32_max: mv(m, &s.u32_max) as u32,
        s32_min: mv(m, &s.s32_min) as u32 as i32,
        s32_max: mv(m, &s.s32_max) as u32 as i32,
    }
}

/// Raw fields of a scalar (the kernel notation hides bounds at extremes).
pub(crate) fn fields(s: &Scalar) -> String {
    format!(
        "{{var_off={} umin={:#x} umax={:#x} smin={} smax={} u32_min={:#x} u32_max={:#x} s32_min={} s32_max={}}}",
        s.var_off, s.umin, s.umax, s.smin, s.smax, s.u32_min, s.u32_max, s.s32_min, s.s32_max
    )
}

pub(crate) fn verdict(rust_fails: bool) -> &'static str {
    if rust_fails {
        "[confirmed by the Rust code]"
    } else {
        "[NOT reproduced by the Rust code: the encoding differs]"
    }
}

/// `mask` of the low `w` bits.
fn low(w: u32) -> u64 {
    if w >= 64 {
        u64::MAX
    } else {
        (1u64 << w) - 1
    }
}

fn tnum_query(op: TnumOp) -> Query {
    let w = match op {
        TnumOp::Mul(w) => w,
        _ => 64,
    };
    let a = SymTnum::fresh("a", w);
    let b = SymTnum::fresh("b", w);
    let x = BV::new_const("x", w);
    let y = BV::new_const("y", w);
    let s = BV::new_const("shift", 8);
    if w == 64 && op == TnumOp::Mul(64) {
        return tnum_mul_induction_query(64);
    }
    if op == TnumOp::MulCgo {
        return tnum_mul_cgo_induction_query(64);
    }
    if op == TnumOp::MulBest {
        return tnum_mul_best_query();
    }
    if let TnumOp::ShiftBy(sop, bitness) = op {
        return tnum_shift_by_query(sop, bitness);
    }
    let in_a = a.contains(&x);
    let violation = match op {
        TnumOp::Add => Bool::and(&[in_a, b.contains(&y), a.add(&b).contains(&x.bvadd(&y)).not()]),
        TnumOp::Sub => Bool::and(&[in_a, b.contains(&y), a.sub(&b).contains(&x.bvsub(&y)).not()]),
        TnumOp::And => Bool::and(&[in_a, b.contains(&y), a.and(&b).contains(&x.bvand(&y)).not()]),
        TnumOp::Or => Bool::and(&[in_a, b.contains(&y), a.or(&b).contains(&x.bvor(&y)).not()]),
        TnumOp::Xor => Bool::and(&[in_a, b.contains(&y), a.xor(&b).contains(&x.bvxor(&y)).not()]),
        TnumOp::Mul(_) => {
            Bool::and(&[in_a, b.contains(&y), a.mul(&b).contains(&x.bvmul(&y)).not()])
        }
        // by induction (returned above); the unrolled formula for reference
        TnumOp::MulCgo => {
            Bool::and(&[in_a, b.contains(&y), a.mul_cgo(&b).contains(&x.bvmul(&y)).not()])
        }
        TnumOp::Neg => Bool::and(&[in_a, a.neg().contains(&x.bvneg()).not()]),
        TnumOp::Intersect => Bool::and(&[in_a, b.contains(&x), a.intersect(&b).contains(&x).not()]),
        TnumOp::Union => Bool::and(&[
            Bool::or(&[in_a, b.contains(&x)]),
            a.union(&b).contains(&x).not(),
        ]),
        TnumOp::Meet => {
            let (ok, m) = a.meet_checked(&b);
            Bool::and(&[in_a, b.contains(&x), Bool::and(&[ok, m.contains(&x)]).not()])
        }
        TnumOp::Range => {
            // x in [umin, umax] (here a.value..=a.mask as plain numbers)
            let r = SymTnum::range(&a.value, &a.mask);
            Bool::and(&[a.value.bvule(&x), x.bvule(&a.mask), r.contains(&x).not()])
        }
        TnumOp::Lshift => {
            let amt = s.bvand(lit(63, 8)).zero_ext(56);
            Bool::and(&[in_a, a.lshift(&s).contains(&x.bvshl(&amt)).not()])
        }
        TnumOp::Rshift => {
            let amt = s.bvand(lit(63, 8)).zero_ext(56);
            Bool::and(&[in_a, a.rshift(&s).contains(&x.bvlshr(&amt)).not()])
        }
        TnumOp::Arshift64 => {
            let amt = s.bvand(lit(63, 8)).zero_ext(56);
            Bool::and(&[in_a, a.arshift(&s, 64).contains(&x.bvashr(&amt)).not()])
        }
        TnumOp::ShiftBy(..) | TnumOp::MulBest => Bool::from_bool(false),
        TnumOp::Arshift32 => {
            let amt = s.bvand(lit(31, 8)).zero_ext(24);
            let r = x.extract(31, 0).bvashr(&amt).zero_ext(32);
            Bool::and(&[in_a, a.arshift(&s, 32).contains(&r).not()])
        }
    };
    let explain = move |m: &Model| {
        let (ta, tb) = (mtnum(m, &a), mtnum(m, &b));
        let (vx, vy, vs) = (mv(m, &x), mv(m, &y), mv(m, &s) as u8);
        let mask = low(w);
        let cut = |t: Tnum| Tnum::new(t.value & mask, t.mask & mask);
        let has = |t: Tnum, v: u64| cut(t).contains_value(v & mask);
        let (desc, fails) = match op {
            TnumOp::Add => (
                format!("{ta} + {tb}"),
                !has(ta.add(tb), vx.wrapping_add(vy)),
            ),
            TnumOp::Sub => (
                format!("{ta} - {tb}"),
                !has(ta.sub(tb), vx.wrapping_sub(vy)),
            ),
            TnumOp::And => (format!("{ta} & {tb}"), !has(ta.and(tb), vx & vy)),
            TnumOp::Or => (format!("{ta} | {tb}"), !has(ta.or(tb), vx | vy)),
            TnumOp::Xor => (format!("{ta} ^ {tb}"), !has(ta.xor(tb), vx ^ vy)),
            TnumOp::Mul(_) => (
                format!("{ta} * {tb}"),
                !has(ta.mul(tb), vx.wrapping_mul(vy)),
            ),
            TnumOp::MulCgo => (
                format!("mul_cgo({ta}, {tb})"),
                !has(ta.mul_cgo(tb), vx.wrapping_mul(vy)),
            ),
            TnumOp::Neg => (format!("-{ta}"), !has(ta.neg(), vx.wrapping_neg())),
            TnumOp::Intersect => (format!("intersect({ta}, {tb})"), !has(ta.intersect(tb), vx)),
            TnumOp::Union => (format!("union({ta}, {tb})"), !has(ta.union(tb), vx)),
            TnumOp::Meet => (
                format!("meet({ta}, {tb})"),
                !ta.meet_checked(tb).is_some_and(|t| t.contains_value(vx)),
            ),
            TnumOp::Range => (
                format!("range({:#x}, {:#x})", ta.value, ta.mask),
                !Tnum::range(ta.value, ta.mask).contains_value(vx),
            ),
            TnumOp::Lshift => (
                format!("{ta} << {vs}"),
                !has(ta.lshift(vs), vx << (vs & 63)),
            ),
            TnumOp::Rshift => (
                format!("{ta} >> {vs}"),
                !has(ta.rshift(vs), vx >> (vs & 63)),
            ),
            TnumOp::Arshift64 => (
                format!("{ta} s>> {vs}"),
                !has(ta.arshift(vs, 64), ((vx as i64) >> (vs & 63)) as u64),
            ),
            TnumOp::ShiftBy(..) => (format!("{ta} shifted by {tb}"), false),
            TnumOp::MulBest => (
                format!("mul_best({ta}, {tb})"),
                !has(ta.mul_best(tb), vx.wrapping_mul(vy)),
            ),
            TnumOp::Arshift32 => (
                format!("{ta} s>>32 {vs}"),
                !has(
                    ta.arshift(vs, 32),
                    ((vx as u32 as i32) >> (vs & 31)) as u32 as u64,
                ),
            ),
        };
        format!("{desc} with x={vx:#x} y={vy:#x} {}", verdict(fails))
    };
    Query::single(Bool::from_bool(true), violation.not(), explain)
}

/// `Tnum::{lshift,rshift,arshift}_by(amt, bitness)`: for x in gamma(a) and
/// y in gamma(amt), the eBPF shift of x by y (amount masked, 32-bit results
/// zero-extended) is in the result.
///
/// Proved by induction over the join loop (`bitness` iterations, state
/// `(some, acc)`), with the invariant "once the loop has passed the amount
/// `k = y & (bitness - 1)`, `some` holds and the concrete result `v` is in
/// gamma(acc)", from these lemmas (fresh `some`, `acc`, `c`, `r`):
/// - `visited`: `k` is in gamma(amt & (bitness - 1)), so `c` holds at
///   iteration `k`;
/// - `member`: `v` is in gamma(shift of a by `k`) (`k` symbolic, the same
///   closure as the loop body);
/// - `fold_add`: `c` and `v` in gamma(r) give `some'` and `v` in gamma(acc');
/// - `fold_keep`: `some` and `v` in gamma(acc) give the same after any step;
/// - `finish`: with inputs containing x, y, `some` and `v` in gamma(acc),
///   `v` is in the result.
fn tnum_shift_by_query(op: BinOp, bitness: u8) -> Query {
    let a = SymTnum::fresh("a", 64);
    let amt = SymTnum::fresh("amt", 64);
    let x = BV::new_const("x", 64);
    let y = BV::new_const("y", 64);
    let v = BV::new_const("v", 64);
    let acc = SymTnum::fresh("acc", 64);
    let r = SymTnum::fresh("r", 64);
    let some = Bool::new_const("some");
    let c = Bool::new_const("c");
    let width = if bitness == 32 { BitWidth::W32 } else { BitWidth::W64 };
    let conc = concrete::binop(op, width, &x, &y);
    let pre = Bool::and(&[a.contains(&x), amt.contains(&y)]);
    let k = y.bvand(lit(u64::from(bitness - 1), 64));
    let (some2, acc2) = SymTnum::fold_step(&some, &acc, &c, &r);
    let t = Bool::from_bool(true);
    let case = |label: &str, pre: &Bool, goal: Bool| Case {
        label: label.to_string(),
        pre: pre.clone(),
        goal,
        logic: Logic::Bv,
    };
    let cases = vec![
        case("visited", &pre, amt.masked_amount(bitness).contains(&k)),
        case(
            "member",
            &pre,
            a.shift_one(&k.extract(7, 0), bitness, op).contains(&conc),
        ),
        case(
            "fold_add",
            &Bool::and(&[c.clone(), r.contains(&v)]),
            Bool::and(&[some2.clone(), acc2.contains(&v)]),
        ),
        case(
            "fold_keep",
            &Bool::and(&[some.clone(), acc.contains(&v)]),
            Bool::and(&[some2, acc2.contains(&v)]),
        ),
        case(
            "finish",
            &Bool::and(&[pre.clone(), some.clone(), acc.contains(&conc)]),
            SymTnum::fold_finish(&a, &amt, &some, &acc).contains(&conc),
        ),
        case("k_below_bitness", &t, k.bvult(lit(u64::from(bitness), 64))),
    ];
    let explain = move |label: &str, m: &Model| {
        let (ta, tamt, vx, vy) = (mtnum(m, &a), mtnum(m, &amt), mv(m, &x), mv(m, &y));
        let rr = match op {
            BinOp::Lsh => ta.lshift_by(tamt, bitness),
            BinOp::Rsh => ta.rshift_by(tamt, bitness),
            _ => ta.arshift_by(tamt, bitness),
        };
        let cc = eval_binop(op, width, vx, vy);
        format!(
            "lemma {label}: {ta} {} {tamt} at {bitness} bits = {rr}, x={vx:#x} y={vy:#x} -> {cc:#x} {}",
            op_name(op),
            verdict(!rr.contains_value(cc))
        )
    };
    Query {
        cases,
        explain: Box::new(explain),
    }
}

/// `Tnum::mul` at `w` bits by induction over its loop (the argument of
/// Vishwanathan et al., CGO 2022, for the 6.18 algorithm).
///
/// Loop invariant, for fixed concrete `x0` in gamma(a0) and `y0` in
/// gamma(b0), after `k` iterations (state `acc`, `a = a0 >> k`,
/// `b = b0 << k`): there are `p` in gamma(acc), `x` in gamma(a) and `y` in
/// gamma(b) with `x0 * y0 == p + x * y` (mod 2^w), namely `x = x0 >> k`,
/// `y = y0 << k`. Initially `acc = 0`, `p = 0`, `x = x0`, `y = y0`. One
/// iteration keeps it, by the Z3 lemmas below with `p' = p + (x & 1 ? y : 0)`:
/// - `x * y == (x & 1 ? y : 0) + (x >> 1) * (y << 1)`, in four steps that
///   avoid bit-blasting a 64-bit multiplier: `decompose` (`x == (h << 1) +
///   l` for `h = x >> 1` and `l` bit 0 of `x`), `times2` (`h << 1 == h * 2`),
///   `identity` (`(2h + l) * y == l * y + h * (2y)`, a ring identity proved
///   after normalising to sums of monomials) and `select` (`l * y == (l ? y : 0)`);
/// - `step`: `p'` is in gamma(`mul_step(acc, a, b)`), the loop body's new
///   accumulator (`acc + b`, `acc` or their union by bit 0 of `a`);
/// - `shift_a`, `shift_b`: `x >> 1` in gamma(a >> 1), `y << 1` in gamma(b << 1).
///
/// The loop stops when `a` is the constant 0 (after at most `w`
/// iterations: `a` is shifted right each time), and then (`exit`) `x == 0`,
/// so `x0 * y0 == p`, in gamma(acc), the result. Every lemma is a
/// loop-free formula at `w` bits, so this is a proof at `w` bits.
fn tnum_mul_induction_query(w: u32) -> Query {
    let acc = SymTnum::fresh("acc", w);
    let a = SymTnum::fresh("a", w);
    let b = SymTnum::fresh("b", w);
    let p = BV::new_const("p", w);
    let x = BV::new_const("x", w);
    let y = BV::new_const("y", w);
    let h = BV::new_const("h", w);
    let l = BV::new_const("l", 1);
    let (zero, one) = (lit(0, w), lit(1, w));
    let bit0 = x.bvand(&one).ne(&zero);
    let partial = bit0.ite(&y, &zero);
    let t = Bool::from_bool(true);
    let ins = Bool::and(&[acc.contains(&p), a.contains(&x), b.contains(&y)]);
    let a_done = Bool::and(&[a.value.eq(&zero), a.mask.eq(&zero), a.contains(&x)]);
    let case = |label: &str, pre: &Bool, goal: Bool| Case {
        label: label.to_string(),
        pre: pre.clone(),
        goal,
        logic: Logic::Bv,
    };
    let cases = vec![
        // x = 2h + l with h = x >> 1, l = x & 1 (as a bit)
        case(
            "decompose",
            &t,
            Bool::and(&[
                x.eq(&x.bvlshr(&one).bvshl(&one).bvadd(x.extract(0, 0).zero_ext(w - 1))),
                x.bvand(&one).eq(&x.extract(0, 0).zero_ext(w - 1)),
            ]),
        ),
        case("times2", &t, h.bvshl(&one).eq(&h.bvmul(lit(2, w)))),
        case(
            "select",
            &t,
            l.zero_ext(w - 1)
                .bvmul(&y)
                .eq(&l.eq(lit(1, 1)).ite(&y, &zero)),
        ),
        // a ring identity, by normalisation to sums of monomials
        Case {
            logic: Logic::Som,
            ..case(
                "identity",
                &t,
                h.bvmul(lit(2, w))
                    .bvadd(&l.zero_ext(w - 1))
                    .bvmul(&y)
                    .eq(&l.zero_ext(w - 1).bvmul(&y).bvadd(&h.bvmul(&y.bvmul(lit(2, w))))),
            )
        },
        case(
            "init",
            &t,
            SymTnum::lit(Tnum::constant(0), w).contains(&zero),
        ),
        case(
            "step",
            &ins,
            acc.mul_step(&a, &b).contains(&p.bvadd(&partial)),
        ),
        case("shift_a", &a.contains(&x), a.rshift1().contains(&x.bvlshr(&one))),
        case("shift_b", &b.contains(&y), b.lshift1().contains(&y.bvshl(&one))),
        case("exit", &a_done, x.eq(&zero)),
    ];
    let explain = move |label: &str, m: &Model| {
        let (tacc, ta, tb) = (mtnum(m, &acc), mtnum(m, &a), mtnum(m, &b));
        let (vp, vx, vy) = (mv(m, &p), mv(m, &x), mv(m, &y));
        format!("lemma {label} fails at {w} bits: acc={tacc} a={ta} b={tb} p={vp:#x} x={vx:#x} y={vy:#x} (a lemma of the induction, no Rust replay)")
    };
    Query {
        cases,
        explain: Box::new(explain),
    }
}

/// `Tnum::mul_cgo` at `w` bits by induction over its loop (Vishwanathan et
/// al., CGO 2022): the result is `constant(a0.value * b0.value) + acc_m`.
///
/// Write `D(x, y, a, b) = x * y - a.value * b.value` (mod 2^w). Loop
/// invariant, for fixed `x0` in gamma(a0), `y0` in gamma(b0), after `k`
/// iterations (`a = a0 >> k`, `b = b0 << k`, mask accumulator `acc`): there
/// are `p` in gamma(acc), `x = x0 >> k` in gamma(a), `y = y0 << k` in
/// gamma(b) with `D(x0, y0, a0, b0) == p + D(x, y, a, b)`. Initially `p = 0`
/// (`init`). One iteration keeps it with `p' = p + t`, `t = (x & 1 ? y : 0)
/// - (a.value & 1 ? b.value : 0)`:
/// - `D(x, y, a, b) == t + D(x >> 1, y << 1, a >> 1, b << 1)`: the ring
///   identity of `tnum.mul` (`decompose`, `times2`, `select`, `identity`,
///   each a Z3-checked formula valid for all values) applied to `x * y` and
///   to `a.value * b.value`, and `shift_a`/`shift_b` (the shifted tnums'
///   values are `a.value >> 1`, `b.value << 1`);
/// - `step`: `p + t` is in gamma(`mul_cgo_step(acc, a, b)`), the loop body;
/// - `shift_a`, `shift_b`: `x >> 1` in gamma(a >> 1), `y << 1` in gamma(b << 1).
///
/// At the exit (`a` the constant 0, at most `w` iterations) `x == 0` and
/// `a.value == 0` (`exit`), so `D == 0` and `x0 * y0 == a0.value * b0.value
/// + p`, in gamma(`constant(a0.value * b0.value) + acc`) (`finish`).
fn tnum_mul_cgo_induction_query(w: u32) -> Query {
    let acc = SymTnum::fresh("acc", w);
    let a = SymTnum::fresh("a", w);
    let b = SymTnum::fresh("b", w);
    let p = BV::new_const("p", w);
    let x = BV::new_const("x", w);
    let y = BV::new_const("y", w);
    let v = BV::new_const("v", w);
    let h = BV::new_const("h", w);
    let l = BV::new_const("l", 1);
    let (zero, one) = (lit(0, w), lit(1, w));
    let bit0 = |z: &BV| z.bvand(&one).ne(&zero);
    let t = bit0(&x)
        .ite(&y, &zero)
        .bvsub(bit0(&a.value).ite(&b.value, &zero));
    let tt = Bool::from_bool(true);
    let ins = Bool::and(&[acc.contains(&p), a.contains(&x), b.contains(&y)]);
    let a_done = Bool::and(&[a.value.eq(&zero), a.mask.eq(&zero), a.contains(&x)]);
    let case = |label: &str, pre: &Bool, goal: Bool| Case {
        label: label.to_string(),
        pre: pre.clone(),
        goal,
        logic: Logic::Bv,
    };
    let (ar, bl) = (a.rshift1(), b.lshift1());
    let cases = vec![
        case(
            "decompose",
            &tt,
            Bool::and(&[
                x.eq(&x.bvlshr(&one).bvshl(&one).bvadd(x.extract(0, 0).zero_ext(w - 1))),
                x.bvand(&one).eq(&x.extract(0, 0).zero_ext(w - 1)),
            ]),
        ),
        case("times2", &tt, h.bvshl(&one).eq(&h.bvmul(lit(2, w)))),
        case(
            "select",
            &tt,
            l.zero_ext(w - 1)
                .bvmul(&y)
                .eq(&l.eq(lit(1, 1)).ite(&y, &zero)),
        ),
        Case {
            logic: Logic::Som,
            ..case(
                "identity",
                &tt,
                h.bvmul(lit(2, w))
                    .bvadd(&l.zero_ext(w - 1))
                    .bvmul(&y)
                    .eq(&l.zero_ext(w - 1).bvmul(&y).bvadd(&h.bvmul(&y.bvmul(lit(2, w))))),
            )
        },
        case("init", &tt, SymTnum::lit(Tnum::constant(0), w).contains(&zero)),
        case("step", &ins, acc.mul_cgo_step(&a, &b).contains(&p.bvadd(&t))),
        case(
            "shift_a",
            &a.contains(&x),
            Bool::and(&[ar.contains(&x.bvlshr(&one)), ar.value.eq(&a.value.bvlshr(&one))]),
        ),
        case(
            "shift_b",
            &b.contains(&y),
            Bool::and(&[bl.contains(&y.bvshl(&one)), bl.value.eq(&b.value.bvshl(&one))]),
        ),
        case("exit", &a_done, Bool::and(&[x.eq(&zero), a.value.eq(&zero)])),
        case(
            "finish",
            &acc.contains(&p),
            SymTnum::new(v.clone(), zero.clone()).add(&acc).contains(&v.bvadd(&p)),
        ),
    ];
    let explain = move |label: &str, m: &Model| {
        let (tacc, ta, tb) = (mtnum(m, &acc), mtnum(m, &a), mtnum(m, &b));
        let (vp, vx, vy) = (mv(m, &p), mv(m, &x), mv(m, &y));
        format!("lemma {label} fails at {w} bits: acc={tacc} a={ta} b={tb} p={vp:#x} x={vx:#x} y={vy:#x} (a lemma of the induction, no Rust replay)")
    };
    Query {
        cases,
        explain: Box::new(explain),
    }
}

/// `Tnum::mul_best` at 64 bits: the meet of `r1 = a.mul(b)`, `r2 =
/// a.mul_cgo(b)` and `r3 = b.mul(a)` ([`SymTnum::mul_best_of`]), each
/// skipped when `meet_checked` fails.
///
/// For `x` in gamma(a), `y` in gamma(b) and `p = x * y`: `p` is in
/// gamma(r1) (the `tnum.mul` line), in gamma(r2) (`tnum.mul_cgo`) and, as
/// `y * x` with `y` in gamma(b), `x` in gamma(a), in gamma(r3) (`tnum.mul`
/// again, and `commute`: `x * y == y * x`, a ring identity proved after
/// normalising to sums of monomials). Those lines are the lemmas:
/// `prove_all` runs them with this one and reports it as `Timeout` unless
/// both are proved. The case `meet` then proves, for fresh `r1`, `r2`, `r3`
/// and `p` in each, that `p` is in `mul_best_of(r1, r2, r3)` (the meets
/// never fail then, and a meet of tnums containing `p` contains `p`). All at
/// 64 bits.
fn tnum_mul_best_query() -> Query {
    let w = 64;
    let r1 = SymTnum::fresh("mul", w);
    let r2 = SymTnum::fresh("mul_cgo", w);
    let r3 = SymTnum::fresh("mul_commuted", w);
    let p = BV::new_const("p", w);
    let x = BV::new_const("x", w);
    let y = BV::new_const("y", w);
    let in_all = Bool::and(&[r1.contains(&p), r2.contains(&p), r3.contains(&p)]);
    let cases = vec![
        Case {
            label: "meet".to_string(),
            pre: in_all,
            goal: SymTnum::mul_best_of(&r1, &r2, &r3).contains(&p),
            logic: Logic::Bv,
        },
        // last: asserting a 64-bit product in the `meet` case would only slow it
        Case {
            label: "commute".to_string(),
            pre: Bool::from_bool(true),
            goal: x.bvmul(&y).eq(&y.bvmul(&x)),
            logic: Logic::Som,
        },
    ];
    let explain = move |label: &str, m: &Model| {
        let (t1, t2, t3) = (mtnum(m, &r1), mtnum(m, &r2), mtnum(m, &r3));
        let vp = mv(m, &p);
        // the body of `Tnum::mul_best` on these components
        let r = t1.meet_checked(t2).unwrap_or(t1);
        let r = r.meet_checked(t3).unwrap_or(r);
        format!(
            "lemma {label} fails at {w} bits: mul={t1} mul_cgo={t2} mul_commuted={t3} p={vp:#x} x={:#x} y={:#x}; the meets in Rust give {r} {}",
            mv(m, &x),
            mv(m, &y),
            verdict(!r.contains_value(vp))
        )
    };
    Query {
        cases,
        explain: Box::new(explain),
    }
}

/// `lemma.mul_low32`: for all 64-bit `x`, `y`, the low 32 bits of `x * y`
/// are `(x as u32) * (y as u32)` (mod 2^32), the fact that lets a 32-bit
/// multiplication be read off the 64-bit one.
fn mul_low32_query() -> Query {
    let x = BV::new_const("x", 64);
    let y = BV::new_const("y", 64);
    let goal = x
        .bvmul(&y)
        .extract(31, 0)
        .eq(&x.extract(31, 0).bvmul(&y.extract(31, 0)));
    let (xe, ye) = (x.clone(), y.clone());
    let explain = move |m: &Model| {
        let (vx, vy) = (mv(m, &xe), mv(m, &ye));
        let fails = vx.wrapping_mul(vy) as u32 != (vx as u32).wrapping_mul(vy as u32);
        format!("x={vx:#x} y={vy:#x} {}", verdict(fails))
    };
    Query::single(Bool::from_bool(true), goal, explain)
}

/// The Rust interval operation on bit patterns at `w` bits, `signed` or not.
pub(crate) fn rust_interval(w: u32, signed: bool, op: BinOp, a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
    macro_rules! run {
        ($t:ident, $u:ty, $p:ty) => {{
            let c = |v: u64| v as $u as $p;
            let (x, y) = (
                $t {
                    min: c(a.0),
                    max: c(a.1),
                },
                $t {
                    min: c(b.0),
                    max: c(b.1),
                },
            );
            let r = match op {
                BinOp::Add => x.add(&y),
                BinOp::Sub => x.sub(&y),
                BinOp::And => x.and(&y),
                BinOp::Or => x.or(&y),
                BinOp::Mul => x.mul(&y),
                BinOp::Lsh => x.shl(&y),
                BinOp::Rsh => x.shr(&y),
                BinOp::Arsh => x.sar(&y),
                _ => x.xor(&y),
            };
            (r.min as u64 & low(w), r.max as u64 & low(w))
        }};
    }
    match (w, signed) {
        (64, false) => run!(U64Range, u64, u64),
        (64, true) => run!(S64Range, u64, i64),
        (_, false) => run!(U32Range, u32, u32),
        (_, true) => run!(S32Range, u32, i32),
    }
}

/// Whether the `w`-bit pattern `v` lies in the `w`-bit range `r` (by order).
fn in_range(w: u32, signed: bool, r: (u64, u64), v: u64) -> bool {
    if signed {
        let sx = |x: u64| ((x << (64 - w)) as i64) >> (64 - w);
        sx(r.0) <= sx(v) && sx(v) <= sx(r.1)
    } else {
        r.0 <= v && v <= r.1
    }
}

fn interval_query(w: u32, signed: bool, op: BinOp) -> Query {
    let a = SymRange::fresh("a", w, signed);
    let b = SymRange::fresh("b", w, signed);
    let x = BV::new_const("x", w);
    let y = BV::new_const("y", w);
    let (r, c) = match op {
        BinOp::Add => (a.add(&b), x.bvadd(&y)),
        BinOp::Sub => (a.sub(&b), x.bvsub(&y)),
        BinOp::And => (a.and(&b), x.bvand(&y)),
        BinOp::Or => (a.or(&b), x.bvor(&y)),
        _ => (a.xor(&b), x.bvxor(&y)),
    };
    let pre = Bool::and(&[a.has(&x), b.has(&y)]);
    let goal = r.has(&c);
    let explain = move |m: &Model| {
        let (ra, rb) = (
            (mv(m, &a.min), mv(m, &a.max)),
            (mv(m, &b.min), mv(m, &b.max)),
        );
        let (vx, vy) = (mv(m, &x), mv(m, &y));
        let conc = eval_binop(op, BitWidth::W64, vx, vy) & low(w);
        let rr = rust_interval(w, signed, op, ra, rb);
        format!(
            "[{:#x}, {:#x}] {} [{:#x}, {:#x}] = [{:#x}, {:#x}] misses x={vx:#x} y={vy:#x} -> {conc:#x} {}",
            ra.0,
            ra.1,
            op_name(op),
            rb.0,
            rb.1,
            rr.0,
            rr.1,
            verdict(!in_range(w, signed, rr, conc))
        )
    };
    Query::single(pre, goal, explain)
}

/// `scalar.sync`, step by step: `sync` is up to four rounds of `sync_once`
/// (`update_bounds`, up to four rounds of `deduce32; deduce64;
/// deduce_mixed`, `bound_offset`, `update_bounds`) then `snap_to_tnum`, with
/// "return BOTTOM" exits taken only when the scalar is bottom (or
/// `bound_offset`/`snap_to_tnum` fail). If every step keeps every x of its
/// input (for any input containing x, reachable or not) and the two
/// fallible steps never fail on an input containing x, the composition
/// keeps x whatever the number of rounds, and no exit is taken (a scalar
/// containing x is not bottom). Those are the cases checked here; the
/// monolithic formula is too large for Z3 in reasonable time.
fn sync_query() -> Query {
    let s = SymScalar::fresh("s");
    let x = BV::new_const("x", 64);
    let pre = s.contains(&x);
    let mut goals = vec![("not_bottom".to_string(), s.is_bottom().not())];
    type Step = fn(&mut SymScalar);
    let steps: [(&str, Step); 4] = [
        ("update_bounds", SymScalar::update_bounds),
        ("deduce32", SymScalar::deduce32),
        ("deduce64", SymScalar::deduce64),
        ("deduce_mixed", SymScalar::deduce_mixed),
    ];
    for (name, step) in steps {
        let mut t = s.clone();
        step(&mut t);
        goals.extend(contains_goals(&format!("{name}/"), &t, &x));
    }
    let mut t = s.clone();
    let ok = t.bound_offset();
    goals.push(("bound_offset/ok".to_string(), ok));
    goals.extend(contains_goals("bound_offset/", &t, &x));
    // floor/ceil find a member whenever x is one: the bounds stay around x
    let l = super::encode::zext64(&super::encode::lo32(&x));
    let t32 = s.var_off.subreg();
    for (name, (some, v), ge) in [
        ("ceil_umin", s.var_off.ceil(&s.umin), false),
        ("floor_umax", s.var_off.floor(&s.umax), true),
        (
            "ceil_u32_min",
            t32.ceil(&super::encode::zext64(&s.u32_min)),
            false,
        ),
        (
            "floor_u32_max",
            t32.floor(&super::encode::zext64(&s.u32_max)),
            true,
        ),
    ] {
        let x = if name.ends_with("32_min") || name.ends_with("32_max") {
            &l
        } else {
            &x
        };
        goals.push((format!("snap_to_tnum/{name}_some"), some));
        goals.push((
            format!("snap_to_tnum/{name}_around_x"),
            if ge { v.bvuge(x) } else { v.bvule(x) },
        ));
    }
    let mut t = s.clone();
    let ok = t.snap_to_tnum();
    goals.push(("snap_to_tnum/ok".to_string(), ok));
    goals.extend(contains_goals("snap_to_tnum/", &t, &x));
    let explain = move |_: &str, m: &Model| {
        let (sc, vx) = (mscalar(m, &s), mv(m, &x));
        let r = sc.synced();
        format!(
            "a sync step loses x={vx:#x} from {}; the whole Rust sync gives {} {}",
            fields(&sc),
            fields(&r),
            verdict(!r.contains(vx))
        )
    };
    Query::split(&pre, goals, explain)
}

fn meet_query() -> Query {
    let a = SymScalar::fresh("a");
    let b = SymScalar::fresh("b");
    let x = BV::new_const("x", 64);
    let pre = Bool::and(&[a.contains(&x), b.contains(&x)]);
    // lemmas about the parts `meet` is made of, then the goals
    let (ok, t) = a.var_off.meet_checked(&b.var_off);
    let l32 = super::encode::lo32(&x);
    let mut goals = vec![
        ("a/not_bottom".to_string(), a.is_bottom().not()),
        ("b/not_bottom".to_string(), b.is_bottom().not()),
        ("var_off/meet_ok".to_string(), ok),
        ("var_off/has".to_string(), t.contains(&x)),
        (
            "u64/has".to_string(),
            a.u64_range().intersect(&b.u64_range()).has(&x),
        ),
        (
            "s64/has".to_string(),
            a.s64_range().intersect(&b.s64_range()).has(&x),
        ),
        (
            "u32/has".to_string(),
            a.u32_range().intersect(&b.u32_range()).has(&l32),
        ),
        (
            "s32/has".to_string(),
            a.s32_range().intersect(&b.s32_range()).has(&l32),
        ),
    ];
    let m = a.meet(&b, SyncMode::Assumed);
    goals.push(("not_bottom".to_string(), m.is_bottom().not()));
    goals.extend(contains_goals("", &m, &x));
    let explain = move |_: &str, m: &Model| {
        let (sa, sb, vx) = (mscalar(m, &a), mscalar(m, &b), mv(m, &x));
        let r = lattices::Lattice::meet(&sa, &sb);
        format!(
            "meet({}, {}) loses x={vx:#x} {}",
            fields(&sa),
            fields(&sb),
            verdict(!r.contains(vx))
        )
    };
    Query::split(&pre, goals, explain)
}

fn binop_query(op: BinOp, width: BitWidth) -> Option<Query> {
    let a = SymScalar::fresh("a");
    let b = SymScalar::fresh("b");
    let x = BV::new_const("x", 64);
    let y = BV::new_const("y", 64);
    let r = SymScalar::binop(op, width, &a, &b, SyncMode::Assumed)?;
    let c = concrete::binop(op, width, &x, &y);
    let pre = Bool::and(&[a.contains(&x), b.contains(&y)]);
    let mut goals = binop_lemmas(op, width, &a, &b, &c);
    goals.push(("not_bottom".to_string(), r.is_bottom().not()));
    goals.extend(contains_goals("", &r, &c));
    let explain = move |_: &str, m: &Model| {
        let (sa, sb, vx, vy) = (mscalar(m, &a), mscalar(m, &b), mv(m, &x), mv(m, &y));
        let r = Scalar::binop(op, width, &sa, &sb);
        let c = eval_binop(op, width, vx, vy);
        format!(
            "{} {} {} = {} misses x={vx:#x} y={vy:#x} -> {c:#x} {}",
            fields(&sa),
            op_name(op),
            fields(&sb),
            fields(&r),
            verdict(!r.contains(c))
        )
    };
    Some(Query::split(&pre, goals, explain))
}

/// `Scalar::zext32`: x in a gives `x as u32 as u64` in `a.zext32()`
/// (sync assumed, as for `binop`).
fn zext32_query() -> Query {
    use super::encode::{lo32, zext64};
    let a = SymScalar::fresh("a");
    let x = BV::new_const("x", 64);
    let c = zext64(&lo32(&x));
    let r = a.zext32(SyncMode::Assumed);
    let pre = a.contains(&x);
    let mut goals = vec![
        ("a/not_bottom".to_string(), a.is_bottom().not()),
        ("not_bottom".to_string(), r.is_bottom().not()),
    ];
    goals.extend(contains_goals("", &r, &c));
    let explain = move |_: &str, m: &Model| {
        let (sa, vx) = (mscalar(m, &a), mv(m, &x));
        let r = sa.zext32();
        let c = vx & 0xffff_ffff;
        format!(
            "zext32({}) = {} misses x={vx:#x} -> {c:#x} {}",
            fields(&sa),
            fields(&r),
            verdict(!r.contains(c))
        )
    };
    Query::split(&pre, goals, explain)
}

/// The Rust `neg` of the range `(min, max)` (bit patterns) at `w` bits.
fn rust_interval_neg(w: u32, signed: bool, (lo, hi): (u64, u64)) -> (u64, u64) {
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

/// A lemma about the integer operations of an [`Arith`], instantiated at
/// three integers (an implication).
type IntLemma = fn(&Arith, &Int, &Int, &Int) -> Bool;

/// `0 <= p <= q`, `r > 0` give `p div r <= q div r`.
fn lemma_div_num(ar: &Arith, p: &Int, q: &Int, r: &Int) -> Bool {
    let z = Int::from_i64(0);
    Bool::and(&[p.ge(&z), p.le(q), r.gt(&z)]).implies(ar.div(p, r).le(ar.div(q, r)))
}

/// `p >= 0`, `0 < q <= r` give `p div r <= p div q`.
fn lemma_div_den(ar: &Arith, p: &Int, q: &Int, r: &Int) -> Bool {
    let z = Int::from_i64(0);
    Bool::and(&[p.ge(&z), q.gt(&z), q.le(r)]).implies(ar.div(p, r).le(ar.div(p, q)))
}

/// `p >= 0`, `q > 0` give `p div q >= 0` (`r` unused).
fn lemma_div_nonneg(ar: &Arith, p: &Int, q: &Int, _: &Int) -> Bool {
    let z = Int::from_i64(0);
    Bool::and(&[p.ge(&z), q.gt(&z)]).implies(ar.div(p, q).ge(&z))
}

/// `p >= 0`, `q > 0` give `0 <= p mod q < q` and `p mod q <= p`, and
/// `p mod q == p` when `p < q` (`r` unused).
fn lemma_mod(ar: &Arith, p: &Int, q: &Int, _: &Int) -> Bool {
    let z = Int::from_i64(0);
    let m = ar.rem(p, q);
    Bool::and(&[p.ge(&z), q.gt(&z)]).implies(Bool::and(&[
        m.ge(&z),
        m.lt(q),
        m.le(p),
        p.lt(q).implies(m.eq(p)),
    ]))
}

/// Each lemma as a case of its own: proved for the exact operations on
/// fresh integers, so it holds at every instance.
fn int_lemma_cases(lemmas: &[(&str, IntLemma)]) -> Vec<Case> {
    let (p, q, r) = (
        Int::new_const("lemma.p"),
        Int::new_const("lemma.q"),
        Int::new_const("lemma.r"),
    );
    lemmas
        .iter()
        .map(|(label, l)| Case {
            label: format!("lemma {label}"),
            pre: Bool::from_bool(true),
            goal: l(&Arith::Exact, &p, &q, &r),
            logic: Logic::Lemma,
        })
        .collect()
}

/// Unsigned interval `udiv`/`umod` at `w` bits (eBPF: `x / 0 = 0`,
/// `x % 0 = x`): x in a and y in b give `x / y` (`x % y`) in `a.udiv(b)`
/// (`a.umod(b)`). Bit-blasted dividers never finish (not even at 32 bits),
/// so the proof is over the integers ([`IntRange`]: the Rust code divides
/// non-negative values exactly, which is integer `div`/`mod`), in two steps:
/// - lemmas, each proved by Z3 for the exact integer `div`/`mod` on fresh
///   integers: `div_num` (`0 <= p <= q`, `r > 0` give `p/r <= q/r`),
///   `div_den` (`p >= 0`, `0 < q <= r` give `p/r <= p/q`), `div_nonneg`,
///   and for `mod` (`p >= 0`, `q > 0`): `0 <= p%q < q`, `p%q <= p`, and
///   `p%q == p` when `p < q`;
/// - the goal (`min` and `max` separately) with `div` and `mod`
///   uninterpreted, assuming only those lemmas instantiated where the
///   argument needs them. Division: `x/y <= a.max/y <= a.max/dlo`
///   (`dlo = max(b.min, 1) <= y`) and `a.min/b.max <= a.min/y <= x/y`
///   for `y > 0`, `0 <= a.max/dlo` for `y == 0` (`x/0 = 0`);
///   remainder: `x%y == x` when `a.max < dlo`, else `0 <= x%y <= min(x,
///   y - 1) <= min(a.max, b.max - 1)`. The real operations satisfy every
///   instance (the lemmas hold for all integers), so the goal holds for
///   them; every formula is at `w` bits' values, so this is a proof at `w` bits.
fn interval_divmod_query(w: u32, is_mod: bool) -> Query {
    let a = IntRange::fresh("a", w, false);
    let b = IntRange::fresh("b", w, false);
    let x = Int::new_const("x");
    let y = Int::new_const("y");
    let op = if is_mod { BinOp::Mod } else { BinOp::Div };
    let lemmas: Vec<(&str, IntLemma)> = if is_mod {
        vec![("mod", lemma_mod)]
    } else {
        vec![
            ("div_num", lemma_div_num),
            ("div_den", lemma_div_den),
            ("div_nonneg", lemma_div_nonneg),
        ]
    };
    let mut cases = int_lemma_cases(&lemmas);
    let ar = Arith::opaque("op");
    let (zero, one) = (Int::from_i64(0), Int::from_i64(1));
    let dlo = b.min.eq(&zero).ite(&one, &b.min);
    let instances = if is_mod {
        vec![lemma_mod(&ar, &x, &y, &zero)]
    } else {
        vec![
            lemma_div_num(&ar, &x, &a.max, &y),
            lemma_div_den(&ar, &a.max, &dlo, &y),
            lemma_div_num(&ar, &a.min, &x, &y),
            lemma_div_den(&ar, &a.min, &y, &b.max),
            lemma_div_nonneg(&ar, &x, &y, &zero),
            lemma_div_nonneg(&ar, &a.max, &dlo, &zero),
        ]
    };
    let (c, r) = if is_mod {
        (concrete_umod(&x, &y, &ar), a.umod(&b))
    } else {
        (concrete_udiv(&x, &y, &ar), a.udiv(&b, &ar))
    };
    let mut pre = vec![a.well_formed(), b.well_formed(), a.has(&x), b.has(&y)];
    pre.extend(instances);
    let pre = Bool::and(&pre);
    for (label, goal) in [("min", r.min.le(&c)), ("max", c.le(&r.max))] {
        cases.push(Case {
            label: label.to_string(),
            pre: pre.clone(),
            goal,
            logic: Logic::Default,
        });
    }
    let explain = move |label: &str, m: &Model| {
        if label.starts_with("lemma") {
            return format!("{label} fails (a lemma about integer div/mod, no Rust replay)");
        }
        let (ra, rb) = ((mi(m, &a.min), mi(m, &a.max)), (mi(m, &b.min), mi(m, &b.max)));
        let (vx, vy) = (mi(m, &x), mi(m, &y));
        let conc = eval_binop(op, BitWidth::W64, vx, vy) & low(w);
        let rr = rust_udivmod(w, is_mod, ra, rb);
        format!(
            "[{:#x}, {:#x}] {} [{:#x}, {:#x}] = [{:#x}, {:#x}] misses x={vx:#x} y={vy:#x} -> {conc:#x} {}",
            ra.0,
            ra.1,
            op_name(op),
            rb.0,
            rb.1,
            rr.0,
            rr.1,
            verdict(!in_range(w, false, rr, conc))
        )
    };
    Query {
        cases,
        explain: Box::new(explain),
    }
}

/// `p <= q` gives `p * r <= q * r` for `r >= 0`, `q * r <= p * r` for
/// `r <= 0` (multiplication is monotone in its first argument).
fn lemma_mul_first(ar: &Arith, p: &Int, q: &Int, r: &Int) -> Bool {
    let z = Int::from_i64(0);
    let (pr, qr) = (ar.mul(p, r), ar.mul(q, r));
    p.le(q).implies(Bool::and(&[r.ge(&z).implies(pr.le(&qr)), r.le(&z).implies(qr.le(&pr))]))
}

/// `p <= q` gives `r * p <= r * q` for `r >= 0`, `r * q <= r * p` for
/// `r <= 0` (the same in the second argument).
fn lemma_mul_second(ar: &Arith, p: &Int, q: &Int, r: &Int) -> Bool {
    let z = Int::from_i64(0);
    let (rp, rq) = (ar.mul(r, p), ar.mul(r, q));
    p.le(q).implies(Bool::and(&[r.ge(&z).implies(rp.le(&rq)), r.le(&z).implies(rq.le(&rp))]))
}

/// Interval `mul` at `w` bits, unsigned or signed: x in a and y in b give
/// `x * y` (wrapped to `w` bits) in `a.mul(b)`. The Rust code multiplies
/// the bounds exactly (`u128`/`i128`) and keeps the wrapped range when it
/// lies in one `2^w` band, so the proof is over the integers
/// ([`IntRange::mul`]), with the product uninterpreted in the goal and two
/// lemmas proved separately for the exact product: `mul_first` (`p <= q`
/// gives `p*r <= q*r` if `r >= 0`, the reverse if `r <= 0`) and
/// `mul_second` (the same in the second argument). Instances: `x*y` lies
/// between `a.min*y` and `a.max*y` (by the sign of `y`), and `a.min*y`
/// (`a.max*y`) between `a.min*b.min` and `a.min*b.max` (`a.max*b.min`,
/// `a.max*b.max`) by the sign of `a.min` (`a.max`); so `x*y` lies between
/// the least and the greatest corner product (unsigned: `a.min*b.min` and
/// `a.max*b.max`); wrapping and the band index are uninterpreted too, with
/// the `band` and `wrap_valid` lemmas of [`interval_sdivmod_query`] (with
/// the exact wrapping in the goal, Z3 sometimes did not finish in 60 s).
/// Bit-blasting two 64-bit multipliers would never finish.
fn interval_mul_query(w: u32, signed: bool) -> Query {
    let a = IntRange::fresh("a", w, signed);
    let b = IntRange::fresh("b", w, signed);
    let x = Int::new_const("x");
    let y = Int::new_const("y");
    let mut cases = int_lemma_cases(&[
        ("mul_first", lemma_mul_first as IntLemma),
        ("mul_second", lemma_mul_second),
    ]);
    cases.extend(band_lemma_cases(&a));
    let ar = Arith::opaque_wrapping("op");
    let mut pre = vec![a.well_formed(), b.well_formed(), a.has(&x), b.has(&y)];
    pre.push(lemma_mul_first(&ar, &a.min, &x, &y));
    pre.push(lemma_mul_first(&ar, &x, &a.max, &y));
    for end in [&a.min, &a.max] {
        pre.push(lemma_mul_second(&ar, &b.min, &y, end));
        pre.push(lemma_mul_second(&ar, &y, &b.max, end));
    }
    // the product lies between the least and the greatest corner
    let p = ar.mul(&x, &y);
    let corners = [
        ar.mul(&a.min, &b.min),
        ar.mul(&a.min, &b.max),
        ar.mul(&a.max, &b.min),
        ar.mul(&a.max, &b.max),
    ];
    let (lo, hi) = if signed {
        let lo = imin_int(&imin_int(&corners[0], &corners[1]), &imin_int(&corners[2], &corners[3]));
        let hi = imax_int(&imax_int(&corners[0], &corners[1]), &imax_int(&corners[2], &corners[3]));
        (lo, hi)
    } else {
        (corners[0].clone(), corners[3].clone())
    };
    pre.push(lemma_band(&a, &ar, &lo, &p, &hi));
    pre.push(lemma_wrap_valid(&a, &ar, &p));
    let pre = Bool::and(&pre);
    let c = a.wrap_in(&p, &ar);
    let r = a.mul(&b, &ar);
    for (label, goal) in [("min", r.min.le(&c)), ("max", c.le(&r.max))] {
        cases.push(Case {
            label: label.to_string(),
            pre: pre.clone(),
            goal,
            logic: Logic::Default,
        });
    }
    let explain = move |label: &str, m: &Model| {
        if label.starts_with("lemma") {
            return format!("{label} fails (a lemma about integer products, no Rust replay)");
        }
        let bits = |v: &Int| mi(m, v) & low(w);
        let (ra, rb) = ((bits(&a.min), bits(&a.max)), (bits(&b.min), bits(&b.max)));
        let (vx, vy) = (bits(&x), bits(&y));
        let conc = vx.wrapping_mul(vy) & low(w);
        let rr = rust_interval(w, signed, BinOp::Mul, ra, rb);
        format!(
            "[{:#x}, {:#x}] mul [{:#x}, {:#x}] = [{:#x}, {:#x}] misses x={vx:#x} y={vy:#x} -> {conc:#x} {}",
            ra.0,
            ra.1,
            rb.0,
            rb.1,
            rr.0,
            rr.1,
            verdict(!in_range(w, signed, rr, conc))
        )
    };
    Query {
        cases,
        explain: Box::new(explain),
    }
}

/// `p <= q` gives `tdiv(p, r) <= tdiv(q, r)` for `r > 0`, the reverse
/// for `r < 0` (truncating division is monotone in the dividend).
fn lemma_tdiv_num(ar: &Arith, p: &Int, q: &Int, r: &Int) -> Bool {
    let z = Int::from_i64(0);
    let (pr, qr) = (ar.tdiv(p, r), ar.tdiv(q, r));
    p.le(q).implies(Bool::and(&[r.gt(&z).implies(pr.le(&qr)), r.lt(&z).implies(qr.le(&pr))]))
}

/// Divisors `q <= r` of one sign (both positive or both negative) give
/// `tdiv(p, r) <= tdiv(p, q)` for `p >= 0`, the reverse for `p <= 0`.
fn lemma_tdiv_den(ar: &Arith, p: &Int, q: &Int, r: &Int) -> Bool {
    let z = Int::from_i64(0);
    let (pq, pr) = (ar.tdiv(p, q), ar.tdiv(p, r));
    let same_sign = Bool::or(&[q.gt(&z), r.lt(&z)]);
    Bool::and(&[q.le(r), same_sign])
        .implies(Bool::and(&[p.ge(&z).implies(pr.le(&pq)), p.le(&z).implies(pq.le(&pr))]))
}

/// `q != 0` gives for `t = trem(p, q)`: `|t| < |q|`, `0 <= t <= p` for
/// `p >= 0`, `p <= t <= 0` for `p <= 0`, and `t == p` when `|p| < |q|`
/// (`r` unused).
fn lemma_trem(ar: &Arith, p: &Int, q: &Int, _: &Int) -> Bool {
    let z = Int::from_i64(0);
    let t = ar.trem(p, q);
    let mag = q.ge(&z).ite(q, &q.unary_minus());
    let neg_mag = mag.unary_minus();
    q.eq(&z).not().implies(Bool::and(&[
        t.lt(&mag),
        neg_mag.lt(&t),
        p.ge(&z).implies(Bool::and(&[z.le(&t), t.le(p)])),
        p.le(&z).implies(Bool::and(&[p.le(&t), t.le(&z)])),
        Bool::and(&[neg_mag.lt(p), p.lt(&mag)]).implies(t.eq(p)),
    ]))
}

/// `lo <= v <= hi` in one band (of `t`'s type) give `wrap(lo) <= wrap(v)
/// <= wrap(hi)`: wrapping subtracts the same multiple of `2^w` from all three.
fn lemma_band(t: &IntRange, ar: &Arith, lo: &Int, v: &Int, hi: &Int) -> Bool {
    let same = t.band_in(lo, ar).eq(&t.band_in(hi, ar));
    Bool::and(&[lo.le(v), v.le(hi), same]).implies(Bool::and(&[
        t.wrap_in(lo, ar).le(&t.wrap_in(v, ar)),
        t.wrap_in(v, ar).le(&t.wrap_in(hi, ar)),
    ]))
}

/// A wrapped integer is a value of `t`'s type.
fn lemma_wrap_valid(t: &IntRange, ar: &Arith, v: &Int) -> Bool {
    t.valid(&t.wrap_in(v, ar))
}

/// [`lemma_band`] and [`lemma_wrap_valid`] for the exact wrap, on fresh
/// integers (so they hold at every instance).
fn band_lemma_cases(t: &IntRange) -> Vec<Case> {
    let (p, q, r) = (
        Int::new_const("lemma.p"),
        Int::new_const("lemma.q"),
        Int::new_const("lemma.r"),
    );
    let ar = Arith::Exact;
    [
        ("band", lemma_band(t, &ar, &p, &q, &r)),
        ("wrap_valid", lemma_wrap_valid(t, &ar, &p)),
    ]
    .into_iter()
    .map(|(label, goal)| Case {
        label: format!("lemma {label}"),
        pre: Bool::from_bool(true),
        goal,
        logic: Logic::Lemma,
    })
    .collect()
}

/// Signed interval `sdiv`/`smod` at `w` bits (eBPF: `x / 0 = 0`, `x % 0 =
/// x`, `MIN / -1 = MIN`, `MIN % -1 = 0`; Rust's `/` and `%` truncate toward
/// zero): x in a and y in b give `x s/ y` (`x s% y`) in `a.sdiv(b)`
/// (`a.smod(b)`). Over the integers ([`IntRange::sdiv`], [`IntRange::smod`]:
/// the Rust code computes in `i128`), with the truncating quotient and
/// remainder uninterpreted in the goal and these lemmas proved separately
/// for the exact ones (`tdiv(p, q)` is `p div q` for `p >= 0`, `-((-p) div
/// q)` otherwise):
/// - `tdiv_num`: monotone in the dividend (increasing for a positive
///   divisor, decreasing for a negative one);
/// - `tdiv_den`: for divisors `q <= r` of one sign, `tdiv(p, r) <= tdiv(p,
///   q)` if `p >= 0`, the reverse if `p <= 0`;
/// - `trem`: `|t| < |q|`, `t` between 0 and `p`, `t == p` if `|p| < |q|`.
///
/// Division: for `y` of one sign, `x s/ y` lies between `a.min s/ y` and
/// `a.max s/ y` (`tdiv_num`), each of which lies between the quotients by
/// that sign's extreme divisors (`tdiv_den`), so between the least and the
/// greatest corner quotient of that sign; `y == 0` gives `0`, in the hull
/// when `0` is in `b`. Wrapping and the band index (`from_exact`) are
/// uninterpreted too, with two more lemmas proved for the exact ones: `band`
/// (`lo <= v <= hi` in one band give `wrap(lo) <= wrap(v) <= wrap(hi)`) and
/// `wrap_valid` (a wrapped integer is a value of the type); with the exact
/// wrapping in the goal Z3 did not finish in 30 s.
/// Remainder: `|y|` lies between the least and greatest magnitude of the
/// divisors; `trem` bounds the result by `a` and by `mag_max - 1`, and gives
/// `x` itself when every `|x| < mag_min`.
fn interval_sdivmod_query(w: u32, is_mod: bool) -> Query {
    let a = IntRange::fresh("a", w, true);
    let b = IntRange::fresh("b", w, true);
    let x = Int::new_const("x");
    let y = Int::new_const("y");
    let op = if is_mod { BinOp::SMod } else { BinOp::SDiv };
    let lemmas: Vec<(&str, IntLemma)> = if is_mod {
        vec![("trem", lemma_trem)]
    } else {
        vec![("tdiv_num", lemma_tdiv_num), ("tdiv_den", lemma_tdiv_den)]
    };
    let mut cases = int_lemma_cases(&lemmas);
    let (zero, one, m1) = (Int::from_i64(0), Int::from_i64(1), Int::from_i64(-1));
    let mut pre = vec![a.well_formed(), b.well_formed(), a.has(&x), b.has(&y)];
    let ar = if is_mod {
        let ar = Arith::opaque("op");
        pre.push(lemma_trem(&ar, &x, &y, &zero));
        ar
    } else {
        cases.extend(band_lemma_cases(&a));
        let ar = Arith::opaque_wrapping("op");
        pre.push(lemma_tdiv_num(&ar, &a.min, &x, &y));
        pre.push(lemma_tdiv_num(&ar, &x, &a.max, &y));
        let neg = (b.min.clone(), imin_int(&b.max, &m1));
        let pos = (imax_int(&b.min, &one), b.max.clone());
        let q = ar.tdiv(&x, &y);
        pre.push(lemma_wrap_valid(&a, &ar, &q));
        for (dlo, dhi) in [&neg, &pos] {
            for end in [&a.min, &a.max] {
                pre.push(lemma_tdiv_den(&ar, end, dlo, &y));
                pre.push(lemma_tdiv_den(&ar, end, &y, dhi));
            }
            let (lo, hi) = a.div_corners(dlo, dhi, &ar);
            pre.push(lemma_band(&a, &ar, &lo, &q, &hi));
        }
        ar
    };
    let pre = Bool::and(&pre);
    let (c, r) = if is_mod {
        (concrete_smod(&x, &y, &ar), a.smod(&b, &ar))
    } else {
        (concrete_sdiv(&a, &x, &y, &ar), a.sdiv(&b, &ar))
    };
    for (label, goal) in [("min", r.min.le(&c)), ("max", c.le(&r.max))] {
        cases.push(Case {
            label: label.to_string(),
            pre: pre.clone(),
            goal,
            logic: Logic::Default,
        });
    }
    let explain = move |label: &str, m: &Model| {
        if label.starts_with("lemma") {
            return format!("{label} fails (a lemma about truncating division, no Rust replay)");
        }
        let bits = |v: &Int| mi(m, v) & low(w);
        let (ra, rb) = ((bits(&a.min), bits(&a.max)), (bits(&b.min), bits(&b.max)));
        let (vx, vy) = (bits(&x), bits(&y));
        let width = if w == 64 { BitWidth::W64 } else { BitWidth::W32 };
        let conc = eval_binop(op, width, vx, vy) & low(w);
        let rr = rust_sdivmod(w, is_mod, ra, rb);
        format!(
            "[{:#x}, {:#x}] {} [{:#x}, {:#x}] = [{:#x}, {:#x}] misses x={vx:#x} y={vy:#x} -> {conc:#x} {}",
            ra.0,
            ra.1,
            op_name(op),
            rb.0,
            rb.1,
            rr.0,
            rr.1,
            verdict(!in_range(w, true, rr, conc))
        )
    };
    Query {
        cases,
        explain: Box::new(explain),
    }
}

/// The Rust `sdiv`/`smod` of the `w`-bit signed ranges `a`, `b` (bit patterns).
fn rust_sdivmod(w: u32, is_mod: bool, a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
    if w == 64 {
        let c = |v: u64| v as i64;
        let (p, q) = (
            S64Range { min: c(a.0), max: c(a.1) },
            S64Range { min: c(b.0), max: c(b.1) },
        );
        let r = if is_mod { p.smod(&q) } else { p.sdiv(&q) };
        (r.min as u64, r.max as u64)
    } else {
        let c = |v: u64| v as u32 as i32;
        let (p, q) = (
            S32Range { min: c(a.0), max: c(a.1) },
            S32Range { min: c(b.0), max: c(b.1) },
        );
        let r = if is_mod { p.smod(&q) } else { p.sdiv(&q) };
        (r.min as u32 as u64, r.max as u32 as u64)
    }
}

/// The Rust `udiv`/`umod` of the `w`-bit unsigned ranges `a`, `b`.
fn rust_udivmod(w: u32, is_mod: bool, a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
    if w == 64 {
        let (p, q) = (U64Range { min: a.0, max: a.1 }, U64Range { min: b.0, max: b.1 });
        let r = if is_mod { p.umod(&q) } else { p.udiv(&q) };
        (r.min, r.max)
    } else {
        let c = |v: u64| v as u32;
        let (p, q) = (
            U32Range { min: c(a.0), max: c(a.1) },
            U32Range { min: c(b.0), max: c(b.1) },
        );
        let r = if is_mod { p.umod(&q) } else { p.udiv(&q) };
        (r.min as u64, r.max as u64)
    }
}

/// An integer model value as a bit pattern (two's complement for negative
/// values; 0 if the model leaves it open).
fn mi(m: &Model, x: &Int) -> u64 {
    m.eval(x, true).and_then(|v| v.as_i128()).map_or(0, |v| v as u64)
}

/// Interval shifts at `w` bits (`shl`, `shr`, `sar`; the amount is a range,
/// masked with `w - 1` as eBPF does): x in a and y in b give `x op (y &
/// (w - 1))` in `a.op(b)`. Bit-vectors at `w` bits; the exact shifted
/// bounds of the Rust code (`u128`/`i128`) are `2w`-bit vectors. Signed
/// `shl`: [`signed_shl_query`].
fn interval_shift_query(w: u32, signed: bool, op: BinOp) -> Query {
    let a = SymRange::fresh("a", w, signed);
    let b = SymRange::fresh("b", w, signed);
    let x = BV::new_const("x", w);
    let y = BV::new_const("y", w);
    let s = y.bvand(lit(u64::from(w - 1), w));
    let (r, c) = match op {
        BinOp::Lsh => (a.shl(&b), x.bvshl(&s)),
        BinOp::Rsh => (a.shr(&b), x.bvlshr(&s)),
        _ => (a.sar(&b), x.bvashr(&s)),
    };
    let pre = Bool::and(&[a.has(&x), b.has(&y)]);
    if signed && op == BinOp::Lsh {
        return signed_shl_query(&a, &b, &x, &y, pre);
    }
    let goals = vec![("in".to_string(), r.has(&c))];
    let explain = move |_: &str, m: &Model| {
        let (ra, rb) = ((mv(m, &a.min), mv(m, &a.max)), (mv(m, &b.min), mv(m, &b.max)));
        let (vx, vy) = (mv(m, &x), mv(m, &y));
        let width = if w == 64 { BitWidth::W64 } else { BitWidth::W32 };
        let conc = eval_binop(op, width, vx, vy) & low(w);
        let rr = rust_interval(w, signed, op, ra, rb);
        format!(
            "[{:#x}, {:#x}] {} [{:#x}, {:#x}] = [{:#x}, {:#x}] misses x={vx:#x} y={vy:#x} -> {conc:#x} {}",
            ra.0,
            ra.1,
            op_name(op),
            rb.0,
            rb.1,
            rr.0,
            rr.1,
            verdict(!in_range(w, signed, rr, conc))
        )
    };
    Query::split(&pre, goals, explain)
}

/// Signed interval `shl` (see [`interval_shift_query`]): bit-blasting the
/// four `2w`-bit corner shifts with the concrete one at once never finished
/// at 64 bits, so the exact shift `E(v, k) = sext(v) << k` (`2w` bits) is
/// uninterpreted in the goal, with three lemmas proved for the real shift on
/// fresh `p`, `q`, `k`, `k2` (amounts below `w`): `mono_x` (`p <= q` gives
/// `E(p, k) <= E(q, k)`), `mono_k` (`k <= k2` gives `E(p, k) <= E(p, k2)`
/// for `p >= 0`, the reverse for `p < 0`) and `low_bits` (the low `w` bits
/// of `E(p, k)` are `p << k`) and `small` (`|E(p, k)| < 2^(2w-2)`, so the
/// band test cannot overflow), instantiated at `x`, the bounds of `a` and
/// the masked amount `s` and its range `[lo, hi]`: `E(x, s)` then lies
/// between the least and the greatest corner, and the band test of
/// `from_exact` keeps that order in the low bits.
fn signed_shl_query(a: &SymRange, b: &SymRange, x: &BV, y: &BV, pre: Bool) -> Query {
    let w = a.width();
    let ww = 2 * w;
    let s = y.bvand(lit(u64::from(w - 1), w));
    let below_w = |k: &BV| k.bvult(lit(u64::from(w), w));
    let lemma_mono_x = |e: &dyn Fn(&BV, &BV) -> BV, p: &BV, q: &BV, k: &BV| {
        Bool::and(&[p.bvsle(q), below_w(k)]).implies(e(p, k).bvsle(&e(q, k)))
    };
    let lemma_mono_k = |e: &dyn Fn(&BV, &BV) -> BV, p: &BV, k: &BV, k2: &BV| {
        let zero = lit(0, w);
        Bool::and(&[k.bvule(k2), below_w(k2)]).implies(Bool::and(&[
            p.bvsge(&zero).implies(e(p, k).bvsle(&e(p, k2))),
            p.bvslt(&zero).implies(e(p, k2).bvsle(&e(p, k))),
        ]))
    };
    let lemma_low = |e: &dyn Fn(&BV, &BV) -> BV, p: &BV, k: &BV| {
        below_w(k).implies(e(p, k).extract(w - 1, 0).eq(&p.bvshl(k)))
    };
    // |E(p, k)| < 2^(2w-2), so the band test's `+ 2^(w-1)` cannot overflow
    let lemma_small = |e: &dyn Fn(&BV, &BV) -> BV, p: &BV, k: &BV| {
        let quarter = BV::from_u64(1, ww).bvshl(lit(u64::from(ww - 2), ww));
        let v = e(p, k);
        below_w(k).implies(Bool::and(&[quarter.bvneg().bvsle(&v), v.bvslt(&quarter)]))
    };
    let real = |v: &BV, k: &BV| a.exact_shl(v, k);
    let (p, q, k, k2) = (
        BV::new_const("lemma.p", w),
        BV::new_const("lemma.q", w),
        BV::new_const("lemma.k", w),
        BV::new_const("lemma.k2", w),
    );
    let lemma = |label: &str, goal: Bool| Case {
        label: format!("lemma {label}"),
        pre: Bool::from_bool(true),
        goal,
        logic: Logic::Lemma,
    };
    let mut cases = vec![
        lemma("mono_x", lemma_mono_x(&real, &p, &q, &k)),
        lemma("mono_k", lemma_mono_k(&real, &p, &k, &k2)),
        lemma("low_bits", lemma_low(&real, &p, &k)),
        lemma("small", lemma_small(&real, &p, &k)),
    ];
    let f = FuncDecl::new(
        "exact_shl",
        &[&Sort::bitvector(w), &Sort::bitvector(w)],
        &Sort::bitvector(ww),
    );
    let opaque = move |v: &BV, k: &BV| {
        // a bit-vector function applied to bit-vectors; the fallback is never taken
        f.apply(&[v, k]).as_bv().unwrap_or_else(|| lit(0, ww))
    };
    let (lo, hi) = SymRange::amounts_of(b);
    let ok = Bool::and(&[lo.bvule(&hi), below_w(&hi)]);
    let mut facts = vec![
        pre,
        // the masked amount lies in the shift_amounts range (no shifts: checked below)
        ok.implies(Bool::and(&[lo.bvule(&s), s.bvule(&hi)])),
        lemma_mono_x(&opaque, &a.min, x, &s),
        lemma_mono_x(&opaque, x, &a.max, &s),
        lemma_small(&opaque, x, &s),
    ];
    for v in [&a.min, &a.max] {
        facts.push(lemma_mono_k(&opaque, v, &lo, &s));
        facts.push(lemma_mono_k(&opaque, v, &s, &hi));
        facts.push(lemma_small(&opaque, v, &lo));
        facts.push(lemma_small(&opaque, v, &hi));
    }
    let amount_pre = Bool::and(&[a.has(x), b.has(y), ok.clone()]);
    cases.push(Case {
        label: "amount".to_string(),
        pre: amount_pre,
        goal: Bool::and(&[lo.bvule(&s), s.bvule(&hi)]),
        logic: Logic::Bv,
    });
    let r = a.shl_with(b, &opaque);
    // first for the low bits of E(x, s) (no shifter left in the query), then
    // for x << s itself
    let facts = Bool::and(&facts);
    cases.push(Case {
        label: "in_exact".to_string(),
        pre: facts.clone(),
        goal: r.has(&opaque(x, &s).extract(w - 1, 0)),
        logic: Logic::Default,
    });
    cases.push(Case {
        label: "in".to_string(),
        pre: Bool::and(&[facts, lemma_low(&opaque, x, &s)]),
        goal: r.has(&x.bvshl(&s)),
        logic: Logic::Default,
    });
    let (ca, cb, cx, cy) = (a.clone(), b.clone(), x.clone(), y.clone());
    let explain = move |label: &str, m: &Model| {
        if label.starts_with("lemma") {
            return format!("{label} fails (a lemma about the exact shift, no Rust replay)");
        }
        let (ra, rb) = ((mv(m, &ca.min), mv(m, &ca.max)), (mv(m, &cb.min), mv(m, &cb.max)));
        let (vx, vy) = (mv(m, &cx), mv(m, &cy));
        let width = if w == 64 { BitWidth::W64 } else { BitWidth::W32 };
        let conc = eval_binop(BinOp::Lsh, width, vx, vy) & low(w);
        let rr = rust_interval(w, true, BinOp::Lsh, ra, rb);
        format!(
            "[{:#x}, {:#x}] lsh [{:#x}, {:#x}] = [{:#x}, {:#x}] misses x={vx:#x} y={vy:#x} -> {conc:#x} {} (the shift is uninterpreted: check the replay)",
            ra.0,
            ra.1,
            rb.0,
            rb.1,
            rr.0,
            rr.1,
            verdict(!in_range(w, true, rr, conc))
        )
    };
    Query {
        cases,
        explain: Box::new(explain),
    }
}

/// Interval `sext(k)` at `w` bits: x in a gives its low `k` bits
/// sign-extended to `w` bits in `a.sext(k)`.
fn interval_sext_query(w: u32, signed: bool, k: u32) -> Query {
    let a = SymRange::fresh("a", w, signed);
    let x = BV::new_const("x", w);
    let pre = a.has(&x);
    let goal = a.sext(k).has(&x.extract(k - 1, 0).sign_ext(w - k));
    let explain = move |m: &Model| {
        let ra = (mv(m, &a.min), mv(m, &a.max));
        let vx = mv(m, &x);
        let conc = sext_bits(vx, k) & low(w);
        let rr = rust_interval_sext(w, signed, k, ra);
        format!(
            "[{:#x}, {:#x}].sext({k}) = [{:#x}, {:#x}] misses x={vx:#x} -> {conc:#x} {}",
            ra.0,
            ra.1,
            rr.0,
            rr.1,
            verdict(!in_range(w, signed, rr, conc))
        )
    };
    Query::single(pre, goal, explain)
}

/// The Rust `sext(k)` of the `w`-bit range `r` (bit patterns).
pub(crate) fn rust_interval_sext(w: u32, signed: bool, k: u32, (lo, hi): (u64, u64)) -> (u64, u64) {
    match (w, signed) {
        (64, false) => {
            let r = U64Range { min: lo, max: hi }.sext(k);
            (r.min, r.max)
        }
        (64, true) => {
            let r = S64Range { min: lo as i64, max: hi as i64 }.sext(k);
            (r.min as u64, r.max as u64)
        }
        (_, false) => {
            let r = U32Range { min: lo as u32, max: hi as u32 }.sext(k);
            (r.min as u64, r.max as u64)
        }
        (_, true) => {
            let r = S32Range { min: lo as u32 as i32, max: hi as u32 as i32 }.sext(k);
            (r.min as u32 as u64, r.max as u32 as u64)
        }
    }
}

/// Interval `neg`: x in a gives `-x` (wrapping at `w` bits) in `a.neg()`.
fn interval_neg_query(w: u32, signed: bool) -> Query {
    let a = SymRange::fresh("a", w, signed);
    let x = BV::new_const("x", w);
    let pre = a.has(&x);
    let goal = a.neg().has(&x.bvneg());
    let explain = move |m: &Model| {
        let ra = (mv(m, &a.min), mv(m, &a.max));
        let vx = mv(m, &x);
        let conc = vx.wrapping_neg() & low(w);
        let rr = rust_interval_neg(w, signed, ra);
        format!(
            "neg [{:#x}, {:#x}] = [{:#x}, {:#x}] misses x={vx:#x} -> {conc:#x} {}",
            ra.0,
            ra.1,
            rr.0,
            rr.1,
            verdict(!in_range(w, signed, rr, conc))
        )
    };
    Query::single(pre, goal, explain)
}

/// `Scalar::neg`: x in a gives `-x` (W32: `-(x as u32)` zero-extended) in
/// `Scalar::neg(width, a)` (sync assumed, as for `binop`); the component
/// memberships come first as lemmas.
fn neg_query(width: BitWidth) -> Query {
    use super::encode::{lo32, zext64};
    let a = SymScalar::fresh("a");
    let x = BV::new_const("x", 64);
    let l = lo32(&x).bvneg();
    let c = match width {
        BitWidth::W64 => x.bvneg(),
        BitWidth::W32 => zext64(&l),
    };
    let r = SymScalar::neg(width, &a, SyncMode::Assumed);
    let pre = a.contains(&x);
    let mut goals = vec![("a/not_bottom".to_string(), a.is_bottom().not())];
    match width {
        BitWidth::W64 => {
            goals.push(("var_off/has".to_string(), a.var_off.neg().contains(&c)));
            goals.push(("u64/has".to_string(), a.u64_range().neg().has(&c)));
            goals.push(("s64/has".to_string(), a.s64_range().neg().has(&c)));
        }
        BitWidth::W32 => {
            let t = a.var_off.subreg().neg().subreg();
            goals.push(("var_off/has".to_string(), t.contains(&c)));
        }
    }
    goals.push(("u32/has".to_string(), a.u32_range().neg().has(&l)));
    goals.push(("s32/has".to_string(), a.s32_range().neg().has(&l)));
    goals.push(("not_bottom".to_string(), r.is_bottom().not()));
    goals.extend(contains_goals("", &r, &c));
    let explain = move |_: &str, m: &Model| {
        let (sa, vx) = (mscalar(m, &a), mv(m, &x));
        let r = Scalar::neg(width, &sa);
        let c = eval_binop(BinOp::Sub, width, 0, vx);
        format!(
            "neg.{}({}) = {} misses x={vx:#x} -> {c:#x} {}",
            width_name(width),
            fields(&sa),
            fields(&r),
            verdict(!r.contains(c))
        )
    };
    Query::split(&pre, goals, explain)
}

/// `Scalar::truncate(bytes)`: x in a gives `x mod 2^(8 bytes)` in
/// `a.truncate(bytes)` (sync assumed); component memberships first.
fn truncate_query(bytes: u32) -> Query {
    use super::encode::lo32;
    let a = SymScalar::fresh("a");
    let x = BV::new_const("x", 64);
    let k = bytes * 8;
    let mask = (1u64 << k) - 1;
    let c = x.bvand(lit(mask, 64));
    let r = a.truncate(bytes, SyncMode::Assumed);
    let pre = a.contains(&x);
    let mut goals = vec![
        ("a/not_bottom".to_string(), a.is_bottom().not()),
        (
            "var_off/has".to_string(),
            a.var_off.cast(bytes as u8).contains(&c),
        ),
        ("u64/has".to_string(), a.u64_range().truncate(k).has(&c)),
        (
            "u32/has".to_string(),
            a.u32_range().truncate(k).has(&lo32(&c)),
        ),
        ("not_bottom".to_string(), r.is_bottom().not()),
    ];
    goals.extend(contains_goals("", &r, &c));
    let explain = move |_: &str, m: &Model| {
        let (sa, vx) = (mscalar(m, &a), mv(m, &x));
        let r = sa.truncate(bytes);
        let c = vx & mask;
        format!(
            "truncate({}, {bytes}) = {} misses x={vx:#x} -> {c:#x} {}",
            fields(&sa),
            fields(&r),
            verdict(!r.contains(c))
        )
    };
    Query::split(&pre, goals, explain)
}

/// The low `k` bits of `x` sign-extended to 64 bits (`k` in 1..64).
fn sext_bits(x: u64, k: u32) -> u64 {
    (((x << (64 - k)) as i64) >> (64 - k)) as u64
}

/// `Scalar::sext(k, width)`: x in a gives the sign-extension of its low `k`
/// bits (W32: to 32 bits, zero-extended) in `a.sext(k, width)` (sync
/// assumed); component memberships first.
fn sext_query(k: u8, width: BitWidth) -> Query {
    use super::encode::{lo32, zext64};
    let a = SymScalar::fresh("a");
    let x = BV::new_const("x", 64);
    let kk = k as u32;
    let s64 = x.extract(kk - 1, 0).sign_ext(64 - kk);
    let c = match width {
        BitWidth::W64 => s64.clone(),
        BitWidth::W32 => zext64(&lo32(&s64)),
    };
    let l = lo32(&c);
    let r = a.sext(k, width, SyncMode::Assumed);
    let pre = a.contains(&x);
    let mut goals = vec![("a/not_bottom".to_string(), a.is_bottom().not())];
    if kk < 32 {
        goals.push(("u32/has".to_string(), a.u32_range().sext(kk).has(&l)));
        goals.push(("s32/has".to_string(), a.s32_range().sext(kk).has(&l)));
    }
    if width == BitWidth::W64 {
        goals.push(("var_off/has".to_string(), a.var_off.sext(k).contains(&c)));
        goals.push(("u64/has".to_string(), a.u64_range().sext(kk).has(&c)));
        goals.push(("s64/has".to_string(), a.s64_range().sext(kk).has(&c)));
    }
    goals.push(("not_bottom".to_string(), r.is_bottom().not()));
    goals.extend(contains_goals("", &r, &c));
    let explain = move |_: &str, m: &Model| {
        let (sa, vx) = (mscalar(m, &a), mv(m, &x));
        let r = sa.sext(k, width);
        let c = match width {
            BitWidth::W64 => sext_bits(vx, kk),
            BitWidth::W32 => sext_bits(vx, kk) & 0xffff_ffff,
        };
        format!(
            "sext({}, {k}, {}) = {} misses x={vx:#x} -> {c:#x} {}",
            fields(&sa),
            width_name(width),
            fields(&r),
            verdict(!r.contains(c))
        )
    };
    Query::split(&pre, goals, explain)
}

/// `Scalar::bswap(bits)`: x in a gives its low `bits` bits byte-swapped in
/// `a.bswap(bits)` (sync assumed).
fn bswap_query(bits: u8) -> Query {
    let a = SymScalar::fresh("a");
    let x = BV::new_const("x", 64);
    let c = super::encode::swap_bytes(&x, bits as u32);
    let r = a.bswap(bits, SyncMode::Assumed);
    let pre = a.contains(&x);
    let mut goals = vec![
        ("a/not_bottom".to_string(), a.is_bottom().not()),
        ("var_off/has".to_string(), a.var_off.bswap(bits).contains(&c)),
        ("not_bottom".to_string(), r.is_bottom().not()),
    ];
    goals.extend(contains_goals("", &r, &c));
    let explain = move |_: &str, m: &Model| {
        let (sa, vx) = (mscalar(m, &a), mv(m, &x));
        let r = sa.bswap(bits);
        let c = match bits {
            16 => (vx as u16).swap_bytes() as u64,
            32 => (vx as u32).swap_bytes() as u64,
            _ => vx.swap_bytes(),
        };
        format!(
            "bswap({}, {bits}) = {} misses x={vx:#x} -> {c:#x} {}",
            fields(&sa),
            fields(&r),
            verdict(!r.contains(c))
        )
    };
    Query::split(&pre, goals, explain)
}

/// Memberships of the concrete result `c` in each component `binop`
/// computes before building the product (the same terms as in the encoding).
fn binop_lemmas(
    op: BinOp,
    width: BitWidth,
    a: &SymScalar,
    b: &SymScalar,
    c: &BV,
) -> Vec<(String, Bool)> {
    use super::encode::lo32;
    use super::encode::scalar::range_op;
    let l32 = lo32(c);
    let mut v = vec![
        ("a/not_bottom".to_string(), a.is_bottom().not()),
        ("b/not_bottom".to_string(), b.is_bottom().not()),
    ];
    let tnum = |ta: &SymTnum, tb: &SymTnum| match op {
        BinOp::Add => ta.add(tb),
        BinOp::Sub => ta.sub(tb),
        BinOp::And => ta.and(tb),
        BinOp::Or => ta.or(tb),
        _ => ta.xor(tb),
    };
    let ranges = |x: SymRange, y: SymRange| range_op(op, &x, &y);
    match width {
        BitWidth::W64 => {
            v.push((
                "var_off/has".to_string(),
                tnum(&a.var_off, &b.var_off).contains(c),
            ));
            if let Some(r) = ranges(a.u64_range(), b.u64_range()) {
                v.push(("u64/has".to_string(), r.has(c)));
            }
            if let Some(r) = ranges(a.s64_range(), b.s64_range()) {
                v.push(("s64/has".to_string(), r.has(c)));
            }
        }
        BitWidth::W32 => {
            let t = tnum(&a.var_off.subreg(), &b.var_off.subreg()).subreg();
            v.push(("var_off/has".to_string(), t.contains(c)));
        }
    }
    if let Some(r) = ranges(a.u32_range(), b.u32_range()) {
        v.push(("u32/has".to_string(), r.has(&l32)));
    }
    if let Some(r) = ranges(a.s32_range(), b.s32_range()) {
        v.push(("s32/has".to_string(), r.has(&l32)));
    }
    v
}

fn outcome_query(cmp: Cmp, width: BitWidth) -> Query {
    let a = SymScalar::fresh("a");
    let b = SymScalar::fresh("b");
    let x = BV::new_const("x", 64);
    let y = BV::new_const("y", 64);
    let o = refine::branch_outcome(cmp, width, &a, &b);
    let holds = concrete::cmp(cmp, width, &x, &y);
    let pre = Bool::and(&[a.contains(&x), b.contains(&y)]);
    let goal = o.some.implies(o.value.eq(&holds));
    let explain = move |m: &Model| {
        let (sa, sb, vx, vy) = (mscalar(m, &a), mscalar(m, &b), mv(m, &x), mv(m, &y));
        let r = Scalar::branch_outcome(cmp, width, &sa, &sb);
        let h = eval_cmp(cmp, width, vx, vy);
        format!(
            "branch_outcome({}, {}) = {r:?} but x={vx:#x} y={vy:#x} gives {h} {}",
            fields(&sa),
            fields(&sb),
            verdict(r.is_some_and(|v| v != h))
        )
    };
    Query::single(pre, goal, explain)
}

/// Lemmas for `refine`: the inputs are not bottom, the outcome is not
/// decided false, and for equality the parts of the meet contain x (= y).
fn refine_lemmas(
    cmp: Cmp,
    width: BitWidth,
    taken: bool,
    a: &SymScalar,
    b: &SymScalar,
    x: &BV,
    y: &BV,
) -> Vec<(String, Bool)> {
    use super::encode::{lo32, smax, smin, umax, umin};
    let mut v = vec![
        ("a/not_bottom".to_string(), a.is_bottom().not()),
        ("b/not_bottom".to_string(), b.is_bottom().not()),
    ];
    let o = match Cond::of(cmp, taken) {
        Cond::Is(c) => refine::branch_outcome(c, width, a, b),
        Cond::NotSet => {
            let o = refine::branch_outcome(Cmp::Set, width, a, b);
            refine::SymOutcome {
                some: o.some,
                value: o.value.not(),
            }
        }
    };
    let not_false = (
        "outcome_not_false".to_string(),
        Bool::and(&[o.some, o.value.not()]).not(),
    );
    if Cond::of(cmp, taken) != Cond::Is(Cmp::Eq) {
        v.push(not_false);
        return v;
    }
    match width {
        BitWidth::W64 => {
            v.push(("x_in_b".to_string(), b.contains(x)));
            v.push((
                "bounds_overlap".to_string(),
                Bool::or(&[
                    a.umin.bvugt(&b.umax),
                    a.umax.bvult(&b.umin),
                    a.smin.bvsgt(&b.smax),
                    a.smax.bvslt(&b.smin),
                ])
                .not(),
            ));
            v.push((
                "bounds32_overlap".to_string(),
                Bool::or(&[
                    a.u32_min.bvugt(&b.u32_max),
                    a.u32_max.bvult(&b.u32_min),
                    a.s32_min.bvsgt(&b.s32_max),
                    a.s32_max.bvslt(&b.s32_min),
                ])
                .not(),
            ));
            let (ok, t) = a.var_off.meet_checked(&b.var_off);
            v.push(("meet/var_off_ok".to_string(), ok));
            v.push(("meet/var_off_has".to_string(), t.contains(x)));
            v.push((
                "meet/u64_has".to_string(),
                a.u64_range().intersect(&b.u64_range()).has(x),
            ));
            v.push((
                "meet/s64_has".to_string(),
                a.s64_range().intersect(&b.s64_range()).has(x),
            ));
            let l = lo32(x);
            v.push((
                "meet/u32_has".to_string(),
                a.u32_range().intersect(&b.u32_range()).has(&l),
            ));
            v.push((
                "meet/s32_has".to_string(),
                a.s32_range().intersect(&b.s32_range()).has(&l),
            ));
            let m = a.meet(b, SyncMode::Assumed);
            v.push(("meet/not_bottom".to_string(), m.is_bottom().not()));
            v.extend(contains_goals("meet/", &m, x));
        }
        BitWidth::W32 => {
            let (lx, ly) = (lo32(x), lo32(y));
            v.push(("lo32_equal".to_string(), lx.eq(&ly)));
            let (ok, t) = a.var_off.subreg().meet_checked(&b.var_off.subreg());
            v.push(("meet32/var_off_ok".to_string(), ok));
            v.push((
                "meet32/var_off_has".to_string(),
                t.contains(&super::encode::zext64(&lx)),
            ));
            v.push((
                "meet32/u32_has".to_string(),
                Bool::and(&[
                    umax(&a.u32_min, &b.u32_min).bvule(&lx),
                    lx.bvule(umin(&a.u32_max, &b.u32_max)),
                ]),
            ));
            v.push((
                "meet32/s32_has".to_string(),
                Bool::and(&[
                    smax(&a.s32_min, &b.s32_min).bvsle(&lx),
                    lx.bvsle(smin(&a.s32_max, &b.s32_max)),
                ]),
            ));
            v.push((
                "meet32/a_var_off_has".to_string(),
                a.var_off.with_subreg(&t).contains(x),
            ));
            v.push((
                "meet32/b_var_off_has".to_string(),
                b.var_off.with_subreg(&t).contains(y),
            ));
        }
    }
    v.push(not_false);
    v
}

fn refine_query(cmp: Cmp, width: BitWidth, taken: bool) -> Query {
    let a = SymScalar::fresh("a");
    let b = SymScalar::fresh("b");
    let x = BV::new_const("x", 64);
    let y = BV::new_const("y", 64);
    let r = refine::refine(cmp, width, taken, &a, &b, SyncMode::Assumed);
    let cond = Cond::of(cmp, taken).holds(width, &x, &y);
    let pre = Bool::and(&[a.contains(&x), b.contains(&y), cond]);
    let mut goals = refine_lemmas(cmp, width, taken, &a, &b, &x, &y);
    goals.push(("some".to_string(), r.some.clone()));
    goals.extend(contains_goals("a'/", &r.a, &x));
    goals.extend(contains_goals("b'/", &r.b, &y));
    let explain = move |_: &str, m: &Model| {
        let (sa, sb, vx, vy) = (mscalar(m, &a), mscalar(m, &b), mv(m, &x), mv(m, &y));
        let r = Scalar::refine(cmp, width, taken, &sa, &sb);
        let fails = match r {
            None => true,
            Some((ra, rb)) => !ra.contains(vx) || !rb.contains(vy),
        };
        let shown = match r {
            None => "None".to_string(),
            Some((ra, rb)) => format!("({}, {})", fields(&ra), fields(&rb)),
        };
        format!(
            "refine({}, {}) = {shown} loses x={vx:#x} y={vy:#x} {}",
            fields(&sa),
            fields(&sb),
            verdict(fails)
        )
    };
    Query::split(&pre, goals, explain)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `prove_all` on exactly the operation `name`.
    fn prove_one(name: &str, timeout_ms: u32) -> Outcome {
        let r = prove_all(Some(name), timeout_ms);
        r.into_iter()
            .find(|r| r.op == name)
            .map(|r| r.outcome)
            .unwrap_or(Outcome::NotEncoded)
    }

    /// tnum add as a careless implementation would write it: unknown bits
    /// stay unknown, but carries out of them are ignored.
    fn add_without_carries(a: &SymTnum, b: &SymTnum) -> SymTnum {
        let sv = a.value.bvadd(&b.value);
        let mu = a.mask.bvor(&b.mask);
        SymTnum::new(sv.bvand(mu.bvnot()), mu)
    }

    #[test]
    fn broken_tnum_add_has_a_counterexample() {
        let a = SymTnum::fresh("a", 64);
        let b = SymTnum::fresh("b", 64);
        let (x, y) = (BV::new_const("x", 64), BV::new_const("y", 64));
        let pre = Bool::and(&[a.contains(&x), b.contains(&y)]);
        let goal = add_without_carries(&a, &b).contains(&x.bvadd(&y));
        let (ca, cb, cx, cy) = (a.clone(), b.clone(), x.clone(), y.clone());
        let q = Query::single(pre, goal, move |m| {
            let (ta, tb, vx, vy) = (mtnum(m, &ca), mtnum(m, &cb), mv(m, &cx), mv(m, &cy));
            // replay on a Rust version of the same broken code
            let mu = ta.mask | tb.mask;
            let r = Tnum::new(ta.value.wrapping_add(tb.value) & !mu, mu);
            format!(
                "{ta} + {tb} = {r} with x={vx:#x} y={vy:#x} {}",
                verdict(!r.contains_value(vx.wrapping_add(vy)))
            )
        });
        match solve(q, 30_000) {
            Outcome::Counterexample(c) => {
                assert!(c.contains("[confirmed by the Rust code]"), "{c}");
            }
            o => panic!("expected a counterexample, got {o:?}"),
        }
        // and the real encoding of the same operation is proved
        assert_eq!(prove_one("tnum.add", 30_000), Outcome::Proved);
    }

    #[test]
    fn broken_interval_add_without_band_check_has_a_counterexample() {
        // wrap the bounds without checking that they stay in one band
        let a = SymRange::fresh("a", 32, false);
        let b = SymRange::fresh("b", 32, false);
        let (x, y) = (BV::new_const("x", 32), BV::new_const("y", 32));
        let broken = SymRange {
            min: a.min.bvadd(&b.min),
            max: a.max.bvadd(&b.max),
            signed: false,
        };
        let pre = Bool::and(&[a.has(&x), b.has(&y)]);
        let q = Query::single(pre, broken.has(&x.bvadd(&y)), |_| "broken".to_string());
        assert!(matches!(solve(q, 30_000), Outcome::Counterexample(_)));
    }

    #[test]
    fn broken_interval_udiv_has_a_counterexample() {
        // the upper bound divided by the largest divisor instead of the smallest
        let a = IntRange::fresh("a", 64, false);
        let b = IntRange::fresh("b", 64, false);
        let (x, y) = (Int::new_const("x"), Int::new_const("y"));
        let ar = Arith::Exact;
        let broken_max = ar.div(&a.max, &b.max);
        let pre = Bool::and(&[
            a.well_formed(),
            b.well_formed(),
            a.has(&x),
            b.has(&y),
            b.min.gt(Int::from_i64(0)),
        ]);
        let goal = concrete_udiv(&x, &y, &ar).le(&broken_max);
        let q = Query {
            cases: vec![Case {
                label: "max".into(),
                pre,
                goal,
                logic: Logic::Default,
            }],
            explain: Box::new(|_, _| "broken".to_string()),
        };
        assert!(matches!(solve(q, 30_000), Outcome::Counterexample(_)));
        // the real one is proved
        assert_eq!(prove_one("interval.u64.div", 30_000), Outcome::Proved);
    }

    #[test]
    fn broken_mul_cgo_step_has_a_counterexample() {
        // an unknown multiplier bit adding only the multiplicand's unknown bits
        let (acc, a, b) = (SymTnum::fresh("acc", 64), SymTnum::fresh("a", 64), SymTnum::fresh("b", 64));
        let (p, x, y) = (BV::new_const("p", 64), BV::new_const("x", 64), BV::new_const("y", 64));
        let (zero, one) = (lit(0, 64), lit(1, 64));
        let bit0 = |z: &BV| z.bvand(&one).ne(&zero);
        let t = bit0(&x).ite(&y, &zero).bvsub(bit0(&a.value).ite(&b.value, &zero));
        let broken_b = SymTnum::new(b.value.bvand(b.mask.bvnot()), b.mask.clone());
        let known = acc.add(&SymTnum::new(zero.clone(), b.mask.clone()));
        let broken = SymTnum::ite(&bit0(&a.value), &known, &SymTnum::ite(&bit0(&a.mask), &acc.add(&SymTnum::new(zero.clone(), broken_b.mask.clone())), &acc));
        let pre = Bool::and(&[acc.contains(&p), a.contains(&x), b.contains(&y)]);
        let q = Query::single(pre, broken.contains(&p.bvadd(&t)), |_| "broken".to_string());
        assert!(matches!(solve(q, 30_000), Outcome::Counterexample(_)));
        assert_eq!(prove_one("tnum.mul_cgo", 30_000), Outcome::Proved);
    }

    #[test]
    fn tnum_mul_best_is_proved_with_its_lemmas() {
        let rs = prove_all(Some("tnum.mul_best"), 60_000);
        let ops: Vec<&str> = rs.iter().map(|r| r.op.as_str()).collect();
        assert_eq!(ops, ["tnum.mul", "tnum.mul_cgo", "tnum.mul_best"]);
        for r in &rs {
            assert_eq!(r.outcome, Outcome::Proved, "{}", render(&rs));
        }
    }

    #[test]
    fn broken_mul_best_meet_has_a_counterexample() {
        // a meet that keeps only the bits known 1 on both sides
        let and_meet = |a: &SymTnum, b: &SymTnum| {
            let mu = a.mask.bvand(&b.mask);
            SymTnum::new(a.value.bvand(&b.value).bvand(mu.bvnot()), mu)
        };
        let (r1, r2, r3) = (SymTnum::fresh("r1", 64), SymTnum::fresh("r2", 64), SymTnum::fresh("r3", 64));
        let p = BV::new_const("p", 64);
        let broken = and_meet(&and_meet(&r1, &r2), &r3);
        let pre = Bool::and(&[r1.contains(&p), r2.contains(&p), r3.contains(&p)]);
        let q = Query::single(pre.clone(), broken.contains(&p), |_| "broken".to_string());
        assert!(matches!(solve(q, 30_000), Outcome::Counterexample(_)));
        // the real combination on the same assumptions
        let q = Query::single(pre, SymTnum::mul_best_of(&r1, &r2, &r3).contains(&p), |_| String::new());
        assert_eq!(solve(q, 30_000), Outcome::Proved);
    }

    #[test]
    fn mul_low32_is_proved_and_a_wrong_split_is_not() {
        assert_eq!(prove_one("lemma.mul_low32", 60_000), Outcome::Proved);
        // the low 33 bits are not the zero-extended 32-bit product
        let (x, y) = (BV::new_const("x", 64), BV::new_const("y", 64));
        let wrong = x
            .bvmul(&y)
            .extract(32, 0)
            .eq(&x.extract(31, 0).bvmul(&y.extract(31, 0)).zero_ext(1));
        let q = Query::single(Bool::from_bool(true), wrong, |_| "broken".to_string());
        assert!(matches!(solve(q, 30_000), Outcome::Counterexample(_)));
    }

    #[test]
    fn unknown_is_never_proved() {
        // unrolled 8-bit tnum multiplication cannot be decided in a millisecond
        assert_eq!(prove_one("tnum.mul.w8", 1), Outcome::Timeout);
    }

    #[test]
    fn not_encoded_operations_are_listed_as_such() {
        // every line has an encoding now; a name that is no line is not proved
        assert!(NOT_ENCODED.is_empty());
        assert_eq!(prove_one("no.such.line", 1000), Outcome::NotEncoded);
        let names = operation_names();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "duplicate operation names");
        for n in [
            "tnum.add",
            "interval.s32.sub",
            "scalar.sync",
            "refine.sle.w32.fallthrough",
            "outcome.set.w64",
        ] {
            assert!(names.iter().any(|m| m == n), "{n} missing");
        }
    }

    #[test]
    fn dependents_bring_the_sync_lemma() {
        let r = prove_all(Some("refine.slt.w64.taken"), 60_000);
        let ops: Vec<&str> = r.iter().map(|r| r.op.as_str()).collect();
        assert_eq!(ops, ["scalar.sync", "refine.slt.w64.taken"]);
        assert_eq!(r[0].outcome, Outcome::Proved);
        assert_eq!(r[1].outcome, Outcome::Proved);
    }

    #[test]
    fn render_one_line_per_operation() {
        let rs = vec![
            ProofResult {
                op: "tnum.add".into(),
                outcome: Outcome::Proved,
                time: Duration::from_millis(120),
            },
            ProofResult {
                op: "tnum.mul".into(),
                outcome: Outcome::Timeout,
                time: Duration::from_secs(20),
            },
            ProofResult {
                op: "x.y".into(),
                outcome: Outcome::Counterexample("a=1".into()),
                time: Duration::from_millis(6),
            },
        ];
        let out = render(&rs);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "tnum.add                      proved             0.12s"
        );
        assert_eq!(
            lines[1],
            "tnum.mul                      timeout           20.00s"
        );
        assert_eq!(
            lines[2],
            "x.y                           counterexample     0.01s  a=1"
        );
        assert_eq!(
            lines[3],
            "1 proved, 1 counterexamples, 1 timeouts, 0 not encoded"
        );
    }

    #[test]
    fn quick_tnum_and_interval_subset_is_proved() {
        for n in [
            "tnum.and",
            "tnum.or",
            "tnum.xor",
            "tnum.neg",
            "tnum.intersect",
            "tnum.union",
            "tnum.meet",
            "tnum.range",
            "tnum.arshift32",
            "interval.u32.and",
            "interval.s32.add",
            "interval.u64.or",
        ] {
            assert_eq!(prove_one(n, 60_000), Outcome::Proved, "{n}");
        }
    }
}
