//! CO-RE resolution on hand-built BTF (local and target).

use super::*;
use crate::elf::btf::tests::blob;

fn info(kind: u32, vlen: u32) -> u32 {
    (kind << 24) | vlen
}

/// Local: `struct s { int a; int b; }`; target: `struct s { long pad; int b; int a; }`
/// plus `enum e { X = 5 }` (local `X = 1`).
fn btfs() -> (Btf, Btf) {
    use crate::elf::btf::kind;
    // strings: 1:"int" 5:"s" 7:"a" 9:"b" 11:"e" 13:"X" 15:"long" 20:"s___v2"
    let strings = b"\0int\0s\0a\0b\0e\0X\0long\0s___v2\0";
    #[rustfmt::skip]
    let local = [
        1, info(kind::INT, 0), 4, (1 << 24) | 32,
        5, info(kind::STRUCT, 2), 8, 7, 1, 0, 9, 1, 32,
        11, info(kind::ENUM, 1), 4, 13, 1,
        20, info(kind::STRUCT, 1), 4, 9, 1, 0,
    ];
    #[rustfmt::skip]
    let target = [
        1, info(kind::INT, 0), 4, (1 << 24) | 32,
        15, info(kind::INT, 0), 8, (1 << 24) | 64,
        5, info(kind::STRUCT, 3), 16, 15, 2, 0, 9, 1, 64, 7, 1, 96,
        11, info(kind::ENUM, 1), 4, 13, 5,
    ];
    (Btf::parse(&blob(&local, strings)).expect("local"), Btf::parse(&blob(&target, strings)).expect("target"))
}

fn rec(type_id: u32, access: &str, kind: u32) -> CoreReloRecord {
    CoreReloRecord { insn_idx: 0, type_id, access: access.into(), kind }
}

fn run(rec: &CoreReloRecord) -> Resolution {
    let (local, targ) = btfs();
    let all: Vec<u32> = (1..targ.len() as u32).collect();
    let leaked: &'static [u32] = Box::leak(all.into_boxed_slice());
    resolve(&local, &targ, |_| leaked, rec)
}

#[test]
fn field_offsets_sizes_and_existence_follow_the_target() {
    assert_eq!(run(&rec(2, "0:0", rk::FIELD_BYTE_OFFSET)), Resolution::value(12));
    assert_eq!(run(&rec(2, "0:1", rk::FIELD_BYTE_OFFSET)), Resolution::value(8));
    assert_eq!(run(&rec(2, "0:1", rk::FIELD_BYTE_SIZE)), Resolution::value(4));
    assert_eq!(run(&rec(2, "0:1", rk::FIELD_EXISTS)), Resolution::value(1));
    assert_eq!(run(&rec(2, "0:1", rk::FIELD_SIGNED)), Resolution::value(1));
    assert_eq!(run(&rec(2, "0", rk::TYPE_SIZE)), Resolution::value(16));
    assert_eq!(run(&rec(2, "0", rk::TYPE_ID_TARGET)), Resolution::value(3));
    assert_eq!(run(&rec(2, "0", rk::TYPE_ID_LOCAL)), Resolution::value(2));
    // A flavor (`s___v2`) matches `s`.
    assert_eq!(run(&rec(4, "0:0", rk::FIELD_BYTE_OFFSET)), Resolution::value(8));
}

#[test]
fn enum_values_follow_the_target() {
    assert_eq!(run(&rec(3, "0", rk::ENUMVAL_VALUE)), Resolution::value(5));
    assert_eq!(run(&rec(3, "0", rk::ENUMVAL_EXISTS)), Resolution::value(1));
}

#[test]
fn missing_targets_poison_or_give_zero() {
    let (local, targ) = btfs();
    let none = |_: &str| -> &'static [u32] { &[] };
    let r = resolve(&local, &targ, none, &rec(2, "0:1", rk::FIELD_BYTE_OFFSET));
    assert_eq!(
        r,
        Resolution::Poison { message: "failed to resolve CO-RE relocation <byte_off> [2] struct s.b (0:1 @ offset 4)".into() }
    );
    let r = resolve(&local, &targ, none, &rec(3, "0", rk::ENUMVAL_VALUE));
    assert_eq!(r, Resolution::Poison { message: "failed to resolve CO-RE relocation <enumval_value> [3] enum e::X = 1".into() });
    assert_eq!(resolve(&local, &targ, none, &rec(2, "0:1", rk::FIELD_EXISTS)), Resolution::value(0));
    assert_eq!(resolve(&local, &targ, none, &rec(2, "0", rk::TYPE_EXISTS)), Resolution::value(0));
    // Malformed access strings are skipped, never a panic.
    assert_eq!(run(&rec(2, "0:9", rk::FIELD_BYTE_OFFSET)), Resolution::Skip);
    assert_eq!(run(&rec(2, "x", rk::FIELD_BYTE_OFFSET)), Resolution::Skip);
    assert_eq!(run(&rec(99, "0", rk::TYPE_SIZE)), Resolution::Skip);
}

#[test]
fn patches_ldx_alu_and_ld_imm64_and_poisons() {
    let ri = |code, imm, off| RawInsn { code, dst: 1, src: 0, off, imm };
    let mut insns = vec![ri(0x61, 0, 4), ri(0x07, 4, 0), ri(0x18, 1, 0), ri(0, 0, 0), ri(0x61, 0, 0)];
    let v = Resolution::value;
    assert_eq!(patch(&mut insns, 0, &Resolution::Value { val: 8, new_sz: Some(8), memsz_fail: None }), Some(None));
    assert_eq!((insns[0].off, insns[0].code), (8, 0x79));
    assert_eq!(patch(&mut insns, 1, &v(12)), Some(None));
    assert_eq!(insns[1].imm, 12);
    assert_eq!(patch(&mut insns, 2, &v(0x1_0000_0002)), Some(None));
    assert_eq!((insns[2].imm, insns[3].imm), (2, 1));
    assert_eq!(patch(&mut insns, 2, &Resolution::Poison { message: "m".into() }), Some(Some("m".into())));
    assert_eq!((insns[2], insns[3]), (poison_insn(), poison_insn()));
    assert_eq!(patch(&mut insns, 4, &Resolution::value(1 << 20)), None);
    // A struct-sized field change poisons a load but not an ALU add.
    let fail = Resolution::Value { val: 4, new_sz: None, memsz_fail: Some("f".into()) };
    assert_eq!(patch(&mut insns, 1, &fail), Some(None));
    assert_eq!(patch(&mut insns, 0, &fail), Some(Some("f".into())));
    assert_eq!(insns[0], poison_insn());
    assert_eq!(patch(&mut insns, 9, &v(1)), None);
}

/// Loads a sample object (skipped when the samples or kernel BTF are absent).
fn sample(rel: &str) -> Option<crate::object::Object> {
    crate::elf::vmlinux::kernel_btf()?;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/ebpf-samples").join(rel);
    path.exists().then(|| crate::elf::load_object(&path).expect("sample loads"))
}

#[test]
fn samples_poison_unresolvable_relocations_with_libbpf_messages() {
    let Some(obj) = sample("cilium-ebpf/errors-el.elf") else {
        eprintln!("skipped: no samples or no kernel BTF");
        return;
    };
    let prog = obj.programs.iter().find(|p| p.name == "poisoned_single").expect("program");
    let pc = prog.insns.iter().position(|i| *i == poison_insn()).expect("a poisoned insn");
    let insns = crate::insn::decode(&prog.insns).expect("decodes");
    assert_eq!(
        crate::elf::poison::message(&insns, pc).as_deref(),
        Some("failed to resolve CO-RE relocation <byte_off> [4] struct nonexist.non_exist (0:0 @ offset 0)")
    );
    let prog = obj.programs.iter().find(|p| p.name == "poisoned_kfunc").expect("program");
    let insns = crate::insn::decode(&prog.insns).expect("decodes");
    assert_eq!(
        crate::elf::poison::message(&insns, 0).as_deref(),
        Some("kfunc 'invalid_kfunc' is referenced but wasn't resolved")
    );
}

#[test]
fn samples_resolve_kernel_offsets_and_kfunc_ids() {
    let Some(obj) = sample("linux-selftests/map_ptr_kern.o") else {
        eprintln!("skipped: no samples or no kernel BTF");
        return;
    };
    let prog = obj.programs.iter().find(|p| p.name == "cg_skb").expect("program");
    // `struct bpf_htab` fields moved to the kernel's offsets (760, 764: n_buckets, elem_size).
    assert!(prog.insns.iter().any(|i| i.code & 0x07 == 0x01 && i.off == 760));
    // bpf_map_sum_elem_count became a kfunc call with its vmlinux FUNC id.
    let id = crate::elf::vmlinux::kernel_func_id("bpf_map_sum_elem_count").expect("kfunc");
    assert!(prog.insns.iter().any(|i| i.code == 0x85 && i.src == 2 && i.imm == id as i32));
    assert!(!prog.insns.contains(&poison_insn()));
}
