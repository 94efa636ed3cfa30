//! Concrete eBPF semantics of [`BinOp`] and [`Cmp`]: the reference every
//! abstract transfer function is tested against (and usable for constant
//! folding).
//!
//! W64 operates on the whole words; W32 on the low 32 bits, with the result
//! zero-extended. Division by zero yields 0, modulo by zero yields the
//! dividend, `MIN / -1 = MIN`, `MIN % -1 = 0`, shift amounts are masked with
//! 63 (W64) or 31 (W32). Signed modulo takes the sign of the dividend.

use super::{BinOp, BitWidth, Cmp};

/// `x op y` at `width`, as the eBPF interpreter computes it.
pub fn eval_binop(op: BinOp, width: BitWidth, x: u64, y: u64) -> u64 {
    match width {
        BitWidth::W64 => eval64(op, x, y),
        BitWidth::W32 => eval32(op, x as u32, y as u32) as u64,
    }
}

fn eval64(op: BinOp, x: u64, y: u64) -> u64 {
    let (sx, sy) = (x as i64, y as i64);
    match op {
        BinOp::Add => x.wrapping_add(y),
        BinOp::Sub => x.wrapping_sub(y),
        BinOp::Mul => x.wrapping_mul(y),
        BinOp::Div => x.checked_div(y).unwrap_or(0),
        BinOp::Mod => x.checked_rem(y).unwrap_or(x),
        BinOp::SDiv => {
            if sy == 0 {
                0
            } else {
                sx.wrapping_div(sy) as u64
            }
        }
        BinOp::SMod => {
            if sy == 0 {
                x
            } else {
                sx.wrapping_rem(sy) as u64
            }
        }
        BinOp::Or => x | y,
        BinOp::And => x & y,
        BinOp::Xor => x ^ y,
        BinOp::Lsh => x << (y & 63),
        BinOp::Rsh => x >> (y & 63),
        BinOp::Arsh => (sx >> (y & 63)) as u64,
    }
}

fn eval32(op: BinOp, x: u32, y: u32) -> u32 {
    let (sx, sy) = (x as i32, y as i32);
    match op {
        BinOp::Add => x.wrapping_add(y),
        BinOp::Sub => x.wrapping_sub(y),
        BinOp::Mul => x.wrapping_mul(y),
        BinOp::Div => x.checked_div(y).unwrap_or(0),
        BinOp::Mod => x.checked_rem(y).unwrap_or(x),
        BinOp::SDiv => {
            if sy == 0 {
                0
            } else {
                sx.wrapping_div(sy) as u32
            }
        }
        BinOp::SMod => {
            if sy == 0 {
                x
            } else {
                sx.wrapping_rem(sy) as u32
            }
        }
        BinOp::Or => x | y,
        BinOp::And => x & y,
        BinOp::Xor => x ^ y,
        BinOp::Lsh => x << (y & 31),
        BinOp::Rsh => x >> (y & 31),
        BinOp::Arsh => (sx >> (y & 31)) as u32,
    }
}

/// Whether `x cmp y` holds at `width` (W32 compares the low 32 bits).
pub fn eval_cmp(cmp: Cmp, width: BitWidth, x: u64, y: u64) -> bool {
    let (x, y, sx, sy) = match width {
        BitWidth::W64 => (x, y, x as i64, y as i64),
        BitWidth::W32 => (x as u32 as u64, y as u32 as u64, x as u32 as i32 as i64, y as u32 as i32 as i64),
    };
    match cmp {
        Cmp::Eq => x == y,
        Cmp::Ne => x != y,
        Cmp::Gt => x > y,
        Cmp::Ge => x >= y,
        Cmp::Lt => x < y,
        Cmp::Le => x <= y,
        Cmp::SGt => sx > sy,
        Cmp::SGe => sx >= sy,
        Cmp::SLt => sx < sy,
        Cmp::SLe => sx <= sy,
        Cmp::Set => x & y != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_corner_cases() {
        use BitWidth::*;
        assert_eq!(eval_binop(BinOp::Div, W64, 7, 0), 0);
        assert_eq!(eval_binop(BinOp::Mod, W64, 7, 0), 7);
        assert_eq!(eval_binop(BinOp::SDiv, W64, i64::MIN as u64, u64::MAX), i64::MIN as u64);
        assert_eq!(eval_binop(BinOp::SMod, W64, i64::MIN as u64, u64::MAX), 0);
        assert_eq!(eval_binop(BinOp::SMod, W64, (-7i64) as u64, 2), (-1i64) as u64);
        assert_eq!(eval_binop(BinOp::SDiv, W32, 0x8000_0000, 0xffff_ffff), 0x8000_0000);
        assert_eq!(eval_binop(BinOp::Mod, W32, 0x1_0000_0007, 0), 7);
        assert_eq!(eval_binop(BinOp::Add, W32, 0xffff_ffff, 1), 0);
        assert_eq!(eval_binop(BinOp::Lsh, W64, 1, 65), 2);
        assert_eq!(eval_binop(BinOp::Lsh, W32, 1, 33), 2);
        assert_eq!(eval_binop(BinOp::Arsh, W32, 0x8000_0000, 31), 0xffff_ffff);
    }

    #[test]
    fn comparisons() {
        use BitWidth::*;
        assert!(eval_cmp(Cmp::SLt, W64, u64::MAX, 0));
        assert!(!eval_cmp(Cmp::Lt, W64, u64::MAX, 0));
        assert!(eval_cmp(Cmp::Eq, W32, 0x1_0000_0005, 5));
        assert!(eval_cmp(Cmp::SLt, W32, 0xffff_ffff, 0));
        assert!(eval_cmp(Cmp::Set, W64, 6, 2));
        assert!(!eval_cmp(Cmp::Set, W32, 1 << 32, 1 << 32));
        for c in [Cmp::Eq, Cmp::Ne, Cmp::Gt, Cmp::Ge, Cmp::Lt, Cmp::Le, Cmp::SGt, Cmp::SGe, Cmp::SLt, Cmp::SLe] {
            for (x, y) in [(1u64, 2u64), (2, 1), (3, 3), (u64::MAX, 0)] {
                let n = c.negate().unwrap_or(c);
                assert_eq!(eval_cmp(c, W64, x, y), !eval_cmp(n, W64, x, y), "{c:?}");
                assert_eq!(eval_cmp(c, W64, x, y), eval_cmp(c.swap(), W64, y, x), "{c:?}");
            }
        }
        assert_eq!(Cmp::Set.negate(), None);
    }
}
