//! ALU transfer: scalar arithmetic through `lattices::Scalar`, and the kernel's rules
//! for arithmetic on pointers (`adjust_ptr_min_max_vals`): only 64-bit add/sub of a
//! scalar, not on NULL-able pointers, map pointers, `pkt_end` or sockets; adding a
//! variable to a packet pointer gives it a new id with no proven range.

use super::{retire_id, Ctx};
use crate::diag::DiagCode;
use crate::insn::{AluOp, Endian, Operand, Reg, Width};
use crate::state::{AbsState, Ptr, PtrKind, RegState};
use lattices::{BinOp, BitWidth, Scalar};

fn bw(w: Width) -> BitWidth {
    match w {
        Width::W32 => BitWidth::W32,
        Width::W64 => BitWidth::W64,
    }
}

fn op_name(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "+=",
        AluOp::Sub => "-=",
        AluOp::Mul => "*=",
        AluOp::Div | AluOp::SDiv => "/=",
        AluOp::Or => "|=",
        AluOp::And => "&=",
        AluOp::Lsh => "<<=",
        AluOp::Rsh => ">>=",
        AluOp::Neg => "neg",
        AluOp::Mod | AluOp::SMod => "%=",
        AluOp::Xor => "^=",
        AluOp::Mov | AluOp::MovSx(_) => "=",
        AluOp::Arsh => "s>>=",
    }
}

fn binop(op: AluOp) -> Option<BinOp> {
    Some(match op {
        AluOp::Add => BinOp::Add,
        AluOp::Sub => BinOp::Sub,
        AluOp::Mul => BinOp::Mul,
        AluOp::Div => BinOp::Div,
        AluOp::SDiv => BinOp::SDiv,
        AluOp::Mod => BinOp::Mod,
        AluOp::SMod => BinOp::SMod,
        AluOp::Or => BinOp::Or,
        AluOp::And => BinOp::And,
        AluOp::Xor => BinOp::Xor,
        AluOp::Lsh => BinOp::Lsh,
        AluOp::Rsh => BinOp::Rsh,
        AluOp::Arsh => BinOp::Arsh,
        AluOp::Neg | AluOp::Mov | AluOp::MovSx(_) => return None,
    })
}

pub(crate) fn alu(cx: &mut Ctx<'_, '_>, s: &mut AbsState, width: Width, op: AluOp, dst: Reg, src: Operand) -> Option<()> {
    // Immediate checks the kernel does before anything else (check_alu_op).
    if let Operand::Imm(imm) = src {
        if matches!(op, AluOp::Div | AluOp::Mod | AluOp::SDiv | AluOp::SMod) && imm == 0 {
            cx.error(DiagCode::InvalidImmediate, "div by zero");
            return None;
        }
        let bits = if width == Width::W64 { 64 } else { 32 };
        if matches!(op, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh) && (imm < 0 || imm >= bits) {
            cx.error(DiagCode::InvalidImmediate, format!("invalid shift {imm}"));
            return None;
        }
    }
    let src_val = match src {
        Operand::Reg(r) => cx.read(s, r)?,
        Operand::Imm(imm) => RegState::constant(imm as i64 as u64),
    };
    match op {
        AluOp::Mov => {
            cx.check_writable(dst)?;
            let v = match (width, src_val) {
                (Width::W64, v) => v,
                (Width::W32, RegState::Scalar(x)) => RegState::Scalar(x.zext32()),
                // A 32-bit copy of a pointer: a meaningless scalar (allowed for root).
                (Width::W32, _) => RegState::Scalar(Scalar::unknown().zext32()),
            };
            s.set_reg(dst, v);
            return Some(());
        }
        AluOp::MovSx(from) => {
            cx.check_writable(dst)?;
            let x = match src_val {
                RegState::Scalar(x) => x,
                _ => Scalar::unknown(),
            };
            s.set_reg(dst, RegState::Scalar(x.sext(from, bw(width))));
            return Some(());
        }
        _ => {}
    }
    let dst_val = cx.read(s, dst)?;
    cx.check_writable(dst)?;
    if op == AluOp::Neg {
        let v = match dst_val {
            RegState::Scalar(x) => RegState::Scalar(Scalar::neg(bw(width), &x)),
            _ => RegState::Scalar(Scalar::unknown()),
        };
        s.set_reg(dst, v);
        return Some(());
    }
    let bop = binop(op)?;
    match (dst_val, src_val) {
        (RegState::Scalar(a), RegState::Scalar(b)) => {
            s.set_reg(dst, RegState::Scalar(Scalar::binop(bop, bw(width), &a, &b)));
            Some(())
        }
        (RegState::Ptr(p), RegState::Scalar(b)) => {
            let v = ptr_arith(cx, s, dst, width, op, p, b, false)?;
            s.set_reg(dst, v);
            Some(())
        }
        (RegState::Scalar(a), RegState::Ptr(p)) => {
            if op == AluOp::Sub && width == Width::W64 {
                cx.error(DiagCode::PointerArithmetic, format!("R{} tried to subtract pointer from scalar", dst.0));
                return None;
            }
            let v = ptr_arith(cx, s, dst, width, op, p, a, true)?;
            s.set_reg(dst, v);
            Some(())
        }
        (RegState::Ptr(a), RegState::Ptr(b)) => {
            if op == AluOp::Sub {
                // ptr - ptr: allowed for root, gives an unknown scalar.
                let _ = (a, b);
                s.set_reg(dst, RegState::Scalar(if width == Width::W32 { Scalar::unknown().zext32() } else { Scalar::unknown() }));
                Some(())
            } else {
                cx.error(
                    DiagCode::PointerArithmetic,
                    format!("R{} pointer {} pointer prohibited", dst.0, op_name(op)),
                );
                None
            }
        }
        // Unknown (a join of different kinds): arithmetic on it cannot be trusted.
        _ => {
            s.set_reg(dst, RegState::Unknown);
            Some(())
        }
    }
}

fn kind_name(p: &Ptr) -> String {
    p.type_name()
}

/// `ptr op scalar` (or `scalar + ptr` when `commuted`), the kernel's `adjust_ptr_min_max_vals`.
#[allow(clippy::too_many_arguments)]
fn ptr_arith(
    cx: &mut Ctx<'_, '_>,
    s: &mut AbsState,
    dst: Reg,
    width: Width,
    op: AluOp,
    p: Ptr,
    x: Scalar,
    commuted: bool,
) -> Option<RegState> {
    if width == Width::W32 {
        if op == AluOp::Sub {
            return Some(RegState::Scalar(Scalar::unknown().zext32()));
        }
        cx.error(DiagCode::PointerArithmetic, format!("R{} 32-bit pointer arithmetic prohibited", dst.0));
        return None;
    }
    if p.maybe_null {
        cx.error(
            DiagCode::PointerArithmetic,
            format!("R{} pointer arithmetic on {} prohibited, null-check it first", dst.0, kind_name(&p)),
        );
        return None;
    }
    if p.kind == PtrKind::BtfId && !matches!(op, AluOp::Add | AluOp::Sub) {
        // A BTF-typed value we could not type (a tracing argument may be an integer):
        // any other operation gives an integer.
        let _ = s;
        return Some(RegState::unknown_scalar());
    }
    match p.kind {
        PtrKind::MapPtr { .. } if x.const_value() == Some(0) => return Some(RegState::Ptr(p)),
        PtrKind::MapPtr { .. }
        | PtrKind::PktEnd
        | PtrKind::Socket
        | PtrKind::SockCommon
        | PtrKind::TcpSock
        | PtrKind::Func { .. } => {
            cx.error(DiagCode::PointerArithmetic, format!("R{} pointer arithmetic on {} prohibited", dst.0, kind_name(&p)));
            return None;
        }
        _ => {}
    }
    match op {
        AluOp::Add | AluOp::Sub => {}
        AluOp::And | AluOp::Or | AluOp::Xor => {
            cx.error(
                DiagCode::PointerArithmetic,
                format!("R{} bitwise operator {} on pointer prohibited", dst.0, op_name(op)),
            );
            return None;
        }
        _ => {
            cx.error(
                DiagCode::PointerArithmetic,
                format!("R{} pointer arithmetic with {} operator prohibited", dst.0, op_name(op)),
            );
            return None;
        }
    }
    let _ = commuted;
    let mut out = p;
    if let Some(c) = x.const_value() {
        let c = c as i64;
        let new_off = if op == AluOp::Add { (p.off as i64).checked_add(c) } else { (p.off as i64).checked_sub(c) };
        match new_off {
            Some(o) if (-(1i64 << 29)..(1i64 << 29)).contains(&o) => {
                out.off = o as i32;
                return Some(RegState::Ptr(out));
            }
            _ => {
                cx.error(DiagCode::PointerArithmetic, format!("R{} pointer offset {} is not allowed", dst.0, c));
                return None;
            }
        }
    }
    let bop = if op == AluOp::Add { BinOp::Add } else { BinOp::Sub };
    out.var = Scalar::binop(bop, BitWidth::W64, &p.var, &x);
    if matches!(p.kind, PtrKind::Pkt | PtrKind::PktMeta) {
        // A new variable offset: a new base, with no proven range yet.
        let id = cx.fresh_id(s);
        retire_id(s, id);
        out.id = id;
    }
    Some(RegState::Ptr(out))
}

pub(crate) fn endian(cx: &mut Ctx<'_, '_>, s: &mut AbsState, kind: Endian, bits: u8, dst: Reg) -> Option<()> {
    let v = cx.read(s, dst)?;
    cx.check_writable(dst)?;
    let x = match v {
        RegState::Scalar(x) => x,
        _ => Scalar::unknown(),
    };
    let r = match kind {
        Endian::ToLe => x.to_le(bits),
        Endian::ToBe => x.to_be(bits),
        Endian::Swap => x.bswap(bits),
    };
    s.set_reg(dst, RegState::Scalar(r));
    Some(())
}
