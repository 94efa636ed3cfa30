//! Hand-built objects and programs for the kernel tests (no ELF loader needed).

#![allow(dead_code, unreachable_pub)]

use analyzer::insn::RawInsn;
use analyzer::object::{MapDef, MapOrigin, Object, Program};
use analyzer::prog_type::ProgType;

pub fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
    RawInsn {
        code,
        dst,
        src,
        off,
        imm,
    }
}

/// `dst = imm` (64-bit).
pub fn mov_imm(dst: u8, imm: i32) -> RawInsn {
    insn(0xb7, dst, 0, 0, imm)
}
/// `dst = src` (64-bit).
pub fn mov_reg(dst: u8, src: u8) -> RawInsn {
    insn(0xbf, dst, src, 0, 0)
}
/// `dst += imm` (64-bit).
pub fn add_imm(dst: u8, imm: i32) -> RawInsn {
    insn(0x07, dst, 0, 0, imm)
}
/// `dst = *(u64 *)(src + off)`.
pub fn ldx_dw(dst: u8, src: u8, off: i16) -> RawInsn {
    insn(0x79, dst, src, off, 0)
}
/// `dst = *(u32 *)(src + off)`.
pub fn ldx_w(dst: u8, src: u8, off: i16) -> RawInsn {
    insn(0x61, dst, src, off, 0)
}
/// `*(u32 *)(dst + off) = imm`.
pub fn st_w(dst: u8, off: i16, imm: i32) -> RawInsn {
    insn(0x62, dst, 0, off, imm)
}
/// `*(u64 *)(dst + off) = src`.
pub fn stx_dw(dst: u8, src: u8, off: i16) -> RawInsn {
    insn(0x7b, dst, src, off, 0)
}
/// `if dst == imm goto pc+off`.
pub fn jeq_imm(dst: u8, imm: i32, off: i16) -> RawInsn {
    insn(0x15, dst, 0, off, imm)
}
/// `if dst > imm goto pc+off` (unsigned).
pub fn jgt_imm(dst: u8, imm: i32, off: i16) -> RawInsn {
    insn(0x25, dst, 0, off, imm)
}
/// `call helper`.
pub fn call(helper: i32) -> RawInsn {
    insn(0x85, 0, 0, 0, helper)
}
pub fn exit() -> RawInsn {
    insn(0x95, 0, 0, 0, 0)
}
/// `dst = map[index]` as the loader links it (`BPF_PSEUDO_MAP_IDX`): two slots.
pub fn ld_map_idx(dst: u8, index: i32) -> [RawInsn; 2] {
    [insn(0x18, dst, 5, 0, index), insn(0, 0, 0, 0, 0)]
}
/// `dst = &map[index].value + off` (`BPF_PSEUDO_MAP_IDX_VALUE`): two slots.
pub fn ld_map_value_idx(dst: u8, index: i32, off: i32) -> [RawInsn; 2] {
    [insn(0x18, dst, 6, 0, index), insn(0, 0, 0, 0, off)]
}

pub fn map(name: &str, map_type: u32, key_size: u32, value_size: u32, max_entries: u32) -> MapDef {
    MapDef {
        name: name.into(),
        map_type,
        key_size,
        value_size,
        max_entries,
        map_flags: 0,
        inner: None,
        origin: MapOrigin::BtfMaps,
        initial_value: None,
        btf_key_type_id: 0,
        btf_value_type_id: 0,
    }
}

/// A global data map for `section` with the given contents.
pub fn global_data(section: &str, value: Vec<u8>) -> MapDef {
    MapDef {
        name: format!("t{section}"),
        map_type: 2,
        key_size: 4,
        value_size: value.len() as u32,
        max_entries: 1,
        map_flags: 0,
        inner: None,
        origin: MapOrigin::GlobalData {
            section: section.into(),
        },
        initial_value: Some(value),
        btf_key_type_id: 0,
        btf_value_type_id: 0,
    }
}

/// An object holding one socket-filter program and the given maps.
pub fn object(name: &str, prog_type: ProgType, insns: Vec<RawInsn>, maps: Vec<MapDef>) -> Object {
    Object {
        path: format!("<hand-built {name}>"),
        license: Some("GPL".into()),
        kern_version: None,
        maps,
        programs: vec![Program {
            section: "socket".into(),
            name: name.into(),
            prog_type,
            expected_attach_type: None,
            insns,
            functions: vec![(0, name.into())],
            line_info: Default::default(),
        }],
        btf: None,
        parsed_btf: Default::default(),
    }
}

/// The map-lookup program: key 0 on the stack, lookup in map 0, optional null check,
/// then a read of the value.
pub fn lookup_prog(null_check: bool) -> Vec<RawInsn> {
    let mut v = vec![st_w(10, -4, 0), mov_reg(2, 10), add_imm(2, -4)];
    v.extend(ld_map_idx(1, 0));
    v.push(call(1)); // bpf_map_lookup_elem
    if null_check {
        v.push(jeq_imm(0, 0, 1));
    }
    v.push(ldx_dw(0, 0, 0));
    v.push(mov_imm(0, 0));
    v.push(exit());
    v
}
