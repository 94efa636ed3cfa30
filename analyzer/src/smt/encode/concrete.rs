//! The concrete eBPF semantics of `lattices::scalar::{eval_binop, eval_cmp}`
//! as bit-vector terms: the specification the abstract operations are
//! proved against. Z3's own division by zero differs from eBPF's (`bvudiv`
//! by 0 is all ones), so the eBPF conventions are spelled out with `ite`.

use super::lit;
use lattices::{BinOp, BitWidth, Cmp};
use z3::ast::{Bool, BV};

/// `eval_binop(op, width, x, y)` on 64-bit vectors.
pub fn binop(op: BinOp, width: BitWidth, x: &BV, y: &BV) -> BV {
    match width {
        BitWidth::W64 => binop_w(op, x, y),
        BitWidth::W32 => binop_w(op, &x.extract(31, 0), &y.extract(31, 0)).zero_ext(32),
    }
}

/// `op` at the operands' own width (`eval64` / `eval32`).
fn binop_w(op: BinOp, x: &BV, y: &BV) -> BV {
    let w = x.get_size();
    let zero = lit(0, w);
    let y_zero = y.eq(&zero);
    let amt = y.bvand(lit((w - 1) as u64, w));
    match op {
        BinOp::Add => x.bvadd(y),
        BinOp::Sub => x.bvsub(y),
        BinOp::Mul => x.bvmul(y),
        BinOp::Div => y_zero.ite(&zero, &x.bvudiv(y)),
        BinOp::Mod => y_zero.ite(x, &x.bvurem(y)),
        BinOp::SDiv => y_zero.ite(&zero, &x.bvsdiv(y)),
        BinOp::SMod => y_zero.ite(x, &x.bvsrem(y)),
        BinOp::Or => x.bvor(y),
        BinOp::And => x.bvand(y),
        BinOp::Xor => x.bvxor(y),
        BinOp::Lsh => x.bvshl(&amt),
        BinOp::Rsh => x.bvlshr(&amt),
        BinOp::Arsh => x.bvashr(&amt),
    }
}

/// `eval_cmp(cmp, width, x, y)` on 64-bit vectors.
pub fn cmp(c: Cmp, width: BitWidth, x: &BV, y: &BV) -> Bool {
    let (x, y) = match width {
        BitWidth::W64 => (x.clone(), y.clone()),
        BitWidth::W32 => (x.extract(31, 0), y.extract(31, 0)),
    };
    match c {
        Cmp::Eq => x.eq(&y),
        Cmp::Ne => x.ne(&y),
        Cmp::Gt => x.bvugt(&y),
        Cmp::Ge => x.bvuge(&y),
        Cmp::Lt => x.bvult(&y),
        Cmp::Le => x.bvule(&y),
        Cmp::SGt => x.bvsgt(&y),
        Cmp::SGe => x.bvsge(&y),
        Cmp::SLt => x.bvslt(&y),
        Cmp::SLe => x.bvsle(&y),
        Cmp::Set => x.bvand(&y).ne(lit(0, x.get_size())),
    }
}
