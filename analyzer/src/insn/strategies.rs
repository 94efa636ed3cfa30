//! Proptest strategies generating every valid decoded instruction form (test-only).
//!
//! "Valid" means `decode` accepts the encoding on its own; jump targets are arbitrary,
//! so whole generated programs are for print/parse roundtrips, not for `decode`.

use proptest::prelude::*;

use crate::insn::{AluOp, AtomicOp, CallTarget, Endian, Insn, JmpCond, LdImm64Src, Operand, Reg, Size, Width};

pub(crate) fn reg() -> impl Strategy<Value = Reg> {
    (0u8..=10).prop_map(Reg)
}

fn width() -> impl Strategy<Value = Width> {
    prop_oneof![Just(Width::W32), Just(Width::W64)]
}

fn size() -> impl Strategy<Value = Size> {
    prop_oneof![Just(Size::B), Just(Size::H), Just(Size::W), Just(Size::DW)]
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![reg().prop_map(Operand::Reg), any::<i32>().prop_map(Operand::Imm)]
}

fn alu() -> impl Strategy<Value = Insn> {
    let binop = prop_oneof![
        Just(AluOp::Add),
        Just(AluOp::Sub),
        Just(AluOp::Mul),
        Just(AluOp::Div),
        Just(AluOp::SDiv),
        Just(AluOp::Or),
        Just(AluOp::And),
        Just(AluOp::Lsh),
        Just(AluOp::Rsh),
        Just(AluOp::Mod),
        Just(AluOp::SMod),
        Just(AluOp::Xor),
        Just(AluOp::Mov),
        Just(AluOp::Arsh),
    ];
    prop_oneof![
        (width(), binop, reg(), operand()).prop_map(|(width, op, dst, src)| Insn::Alu { width, op, dst, src }),
        (width(), reg()).prop_map(|(width, dst)| Insn::Alu { width, op: AluOp::Neg, dst, src: Operand::Imm(0) }),
        (prop_oneof![Just(8u8), Just(16u8)], reg(), reg()).prop_map(|(bits, dst, s)| Insn::Alu {
            width: Width::W32,
            op: AluOp::MovSx(bits),
            dst,
            src: Operand::Reg(s)
        }),
        (prop_oneof![Just(8u8), Just(16u8), Just(32u8)], reg(), reg()).prop_map(|(bits, dst, s)| Insn::Alu {
            width: Width::W64,
            op: AluOp::MovSx(bits),
            dst,
            src: Operand::Reg(s)
        }),
        (
            prop_oneof![Just(Endian::ToLe), Just(Endian::ToBe), Just(Endian::Swap)],
            prop_oneof![Just(16u8), Just(32u8), Just(64u8)],
            reg()
        )
            .prop_map(|(kind, bits, dst)| Insn::Endian { kind, bits, dst }),
    ]
}

fn jmp() -> impl Strategy<Value = Insn> {
    let cond = prop_oneof![
        Just(JmpCond::Eq),
        Just(JmpCond::Ne),
        Just(JmpCond::Gt),
        Just(JmpCond::Ge),
        Just(JmpCond::Lt),
        Just(JmpCond::Le),
        Just(JmpCond::SGt),
        Just(JmpCond::SGe),
        Just(JmpCond::SLt),
        Just(JmpCond::SLe),
        Just(JmpCond::Set),
    ];
    prop_oneof![
        any::<i16>().prop_map(|off| Insn::Ja { off: off as i32, long: false }),
        any::<i32>().prop_map(|off| Insn::Ja { off, long: true }),
        (width(), cond, reg(), operand(), any::<i16>())
            .prop_map(|(width, cond, dst, src, off)| Insn::Jmp { width, cond, dst, src, off }),
        any::<i32>().prop_map(|id| Insn::Call(CallTarget::Helper(id))),
        (1..=211i32).prop_map(|id| Insn::Call(CallTarget::Helper(id))),
        any::<i32>().prop_map(|imm| Insn::Call(CallTarget::Local(imm))),
        (any::<i32>(), any::<i16>()).prop_map(|(btf_id, off)| Insn::Call(CallTarget::Kfunc { btf_id, off })),
        Just(Insn::Exit),
    ]
}

fn mem() -> impl Strategy<Value = Insn> {
    let atomic_op = prop_oneof![
        (
            prop_oneof![Just(AtomicOp::Add), Just(AtomicOp::Or), Just(AtomicOp::And), Just(AtomicOp::Xor)],
            any::<bool>()
        ),
        Just((AtomicOp::Xchg, true)),
        Just((AtomicOp::CmpXchg, true)),
    ];
    let src = prop_oneof![
        Just(LdImm64Src::Imm),
        Just(LdImm64Src::MapFd),
        Just(LdImm64Src::MapValue),
        Just(LdImm64Src::BtfId),
        Just(LdImm64Src::Func),
        Just(LdImm64Src::MapIdx),
        Just(LdImm64Src::MapIdxValue),
    ];
    let small_or_any = prop_oneof![Just(0i32), any::<i32>()];
    let not_dw = prop_oneof![Just(Size::B), Just(Size::H), Just(Size::W)];
    prop_oneof![
        (reg(), src, any::<i32>(), small_or_any)
            .prop_map(|(dst, src, imm, next_imm)| Insn::LdImm64 { dst, src, imm, next_imm }),
        (size(), reg(), reg(), any::<i16>())
            .prop_map(|(size, dst, src, off)| Insn::Ldx { size, sign_ext: false, dst, src, off }),
        (not_dw.clone(), reg(), reg(), any::<i16>())
            .prop_map(|(size, dst, src, off)| Insn::Ldx { size, sign_ext: true, dst, src, off }),
        (size(), reg(), any::<i16>(), any::<i32>()).prop_map(|(size, dst, off, imm)| Insn::St { size, dst, off, imm }),
        (size(), reg(), reg(), any::<i16>()).prop_map(|(size, dst, src, off)| Insn::Stx { size, dst, src, off }),
        (prop_oneof![Just(Size::W), Just(Size::DW)], atomic_op, reg(), reg(), any::<i16>()).prop_map(
            |(size, (op, fetch), dst, src, off)| Insn::Atomic { size, op, fetch, dst, src, off }
        ),
        (not_dw.clone(), any::<i32>()).prop_map(|(size, imm)| Insn::LdAbs { size, imm }),
        (not_dw, reg(), any::<i32>()).prop_map(|(size, src, imm)| Insn::LdInd { size, src, imm }),
    ]
}

/// Any valid instruction except `LdImm64Tail` (which `LdImm64` implies).
pub(crate) fn insn() -> impl Strategy<Value = Insn> {
    prop_oneof![alu(), jmp(), mem()]
}
