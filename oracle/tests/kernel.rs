//! Loading hand-built programs into the live kernel. Each test first checks
//! `bpf_available()` and prints `skipped: no bpf()` when it is not.

mod common;

use analyzer::prog_type::ProgType;
use common::*;
use oracle::log_parser::{parse_log, parse_reg_state};
use oracle::{bpf_available, load_program, KernelVerdict, LoadOptions, OracleError};

fn need_bpf() -> bool {
    if !bpf_available() {
        eprintln!("skipped: no bpf()");
        return false;
    }
    true
}

fn load(obj: &analyzer::object::Object, opts: &LoadOptions) -> Result<KernelVerdict, OracleError> {
    load_program(obj, &obj.programs[0], opts)
}

fn level2() -> LoadOptions {
    LoadOptions {
        log_level: 2,
        ..LoadOptions::default()
    }
}

#[test]
fn tiny_program_is_accepted() {
    if !need_bpf() {
        return;
    }
    let obj = object("ret0", ProgType::SocketFilter, vec![mov_imm(0, 0), exit()], vec![]);
    let v = load(&obj, &level2()).expect("reaches the verifier");
    assert!(v.accepted, "{}", v.log);
    assert_eq!((v.errno, v.processed_insns, v.error_line()), (0, Some(2), None));
    assert!(v.log.contains("0: (b7) r0 = 0"), "{}", v.log);
    let parsed = parse_log(&v.log);
    assert_eq!(parsed.visits(0)[0].regs, vec![(0, "0".to_string())]);
    assert_eq!(parsed.summary.map(|s| s.processed_insns), Some(2));
    assert!(v.verification_time_usec.is_some());
}

#[test]
fn uninitialised_register_read_is_rejected() {
    if !need_bpf() {
        return;
    }
    let obj = object("bad", ProgType::SocketFilter, vec![ldx_dw(0, 2, 0), exit()], vec![]);
    let v = load(&obj, &LoadOptions::default()).expect("reaches the verifier");
    assert!(!v.accepted);
    assert!(v.rejected_by_verifier());
    assert_eq!(v.errno, libc::EACCES);
    assert_eq!(v.error_line(), Some("R2 !read_ok"));
    assert_eq!(v.processed_insns, Some(1));
    assert_eq!(parse_log(&v.log).error.as_deref(), Some("R2 !read_ok"));
}

#[test]
fn hash_map_lookup_needs_a_null_check() {
    if !need_bpf() {
        return;
    }
    let maps = vec![map("h", 1, 4, 8, 16)];
    let ok = object("lookup", ProgType::SocketFilter, lookup_prog(true), maps.clone());
    let v = load(&ok, &level2()).expect("reaches the verifier");
    assert!(v.accepted, "{}", v.log);
    assert!(v.fixups.is_empty(), "{:?}", v.fixups);
    let parsed = parse_log(&v.log);
    let r1 = parse_reg_state(&parsed.visits(3)[0].regs[0].1);
    assert_eq!(
        (r1.kind.as_str(), r1.field("map"), r1.field("ks")),
        ("map_ptr", Some("h"), Some("4"))
    );

    let bad = object("lookup_nocheck", ProgType::SocketFilter, lookup_prog(false), maps);
    let v = load(&bad, &LoadOptions::default()).expect("reaches the verifier");
    assert!(!v.accepted);
    assert_eq!(v.error_line(), Some("R0 invalid mem access 'map_value_or_null'"));
}

/// `r1 = &map[0].value + off; r0 = *(u32 *)(r1 + 0); if r0 == 42 goto +1; r0 = *(u64 *)(r2 + 0); exit`:
/// safe only if the verifier knows the value is 42.
fn rodata_prog(off: i32) -> Vec<analyzer::insn::RawInsn> {
    let mut v = ld_map_value_idx(1, 0, off).to_vec();
    v.extend([ldx_w(0, 1, 0), jeq_imm(0, 42, 1), ldx_dw(0, 2, 0), exit()]);
    v
}

#[test]
fn frozen_rodata_is_a_known_constant() {
    if !need_bpf() {
        return;
    }
    let value = vec![7, 0, 0, 0, 42, 0, 0, 0];
    let obj = object(
        "ro42",
        ProgType::SocketFilter,
        rodata_prog(4),
        vec![global_data(".rodata", value.clone())],
    );
    let v = load(&obj, &level2()).expect("reaches the verifier");
    assert!(v.accepted, "{}", v.log);
    let parsed = parse_log(&v.log);
    assert_eq!(parsed.visits(2)[0].regs[0], (0, "42".to_string()));

    // Offset 0 holds 7: the bad path is live.
    let obj = object(
        "ro7",
        ProgType::SocketFilter,
        rodata_prog(0),
        vec![global_data(".rodata", value.clone())],
    );
    let v = load(&obj, &LoadOptions::default()).expect("reaches the verifier");
    assert_eq!((v.accepted, v.error_line()), (false, Some("R2 !read_ok")));

    // `.data` is writable, so its value is unknown to the verifier even though it is 42.
    let obj = object(
        "data42",
        ProgType::SocketFilter,
        rodata_prog(4),
        vec![global_data(".data", value)],
    );
    let v = load(&obj, &LoadOptions::default()).expect("reaches the verifier");
    assert_eq!((v.accepted, v.error_line()), (false, Some("R2 !read_ok")));
}

#[test]
fn map_fixups_and_fallbacks_are_reported() {
    if !need_bpf() {
        return;
    }
    let uses_map = || {
        let mut v = ld_map_idx(1, 0).to_vec();
        v.extend([mov_imm(0, 0), exit()]);
        v
    };
    let stack = object("st", ProgType::Kprobe, uses_map(), vec![map("stackmap", 7, 4, 0, 0)]);
    let v = load(&stack, &LoadOptions::default()).expect("stack map created");
    assert!(
        v.fixups.contains(&"map stackmap value_size 0->1016".to_string()),
        "{:?}",
        v.fixups
    );
    assert!(
        v.fixups.contains(&"map stackmap max_entries 0->1".to_string()),
        "{:?}",
        v.fixups
    );

    // An ARRAY with an 8-byte key does not exist; the fallback makes it a HASH.
    let odd = object("odd", ProgType::SocketFilter, uses_map(), vec![map("m", 2, 8, 4, 4)]);
    let v = load(&odd, &LoadOptions::default()).expect("fallback to hash");
    assert!(v.accepted, "{}", v.log);
    assert_eq!(v.fixups, vec!["map m type 2->1 (create errno 22)".to_string()]);
    let strict = LoadOptions {
        map_fallbacks: false,
        ..LoadOptions::default()
    };
    let err = load(&odd, &strict).expect_err("no fallback");
    assert_eq!(
        err,
        OracleError::MapCreate {
            program: "odd".into(),
            map: "m".into(),
            map_type: 2,
            errno: libc::EINVAL
        }
    );
}

#[test]
fn map_in_map_gets_its_inner_map() {
    if !need_bpf() {
        return;
    }
    let mut outer = map("outer", 12, 4, 4, 2);
    outer.inner = Some(Box::new(map("inner", 1, 4, 8, 16)));
    // lookup in the outer map, null check, lookup in the inner map, null check, read.
    let mut prog = vec![st_w(10, -4, 0), mov_reg(2, 10), add_imm(2, -4)];
    prog.extend(ld_map_idx(1, 0));
    prog.extend([
        call(1),
        jeq_imm(0, 0, 6),
        mov_reg(1, 0),
        mov_reg(2, 10),
        add_imm(2, -4),
        call(1),
        jeq_imm(0, 0, 1),
        ldx_dw(0, 0, 0),
    ]);
    prog.extend([mov_imm(0, 0), exit()]);
    let obj = object("mim", ProgType::SocketFilter, prog.clone(), vec![outer.clone()]);
    let v = load(&obj, &level2()).expect("maps created");
    assert!(v.accepted, "{}", v.log);
    let parsed = parse_log(&v.log);
    let inner_value = parse_reg_state(&parsed.visits(11)[0].regs[0].1);
    assert_eq!(
        (inner_value.kind.as_str(), inner_value.field("vs")),
        ("map_value", Some("8"))
    );

    outer.inner = None;
    let obj = object("mim_dummy", ProgType::SocketFilter, prog, vec![outer]);
    let v = load(&obj, &LoadOptions::default()).expect("dummy inner map");
    assert!(
        v.fixups
            .iter()
            .any(|f| f.contains("inner map unknown, dummy array(4,4)")),
        "{:?}",
        v.fixups
    );
    // The dummy inner map's value is 4 bytes: the 8-byte read is out of bounds.
    let errors = parse_log(&v.log).error_lines;
    assert_eq!(errors[0], "invalid access to map value, value_size=4 off=0 size=8");
    assert_eq!(
        v.error_line(),
        Some("R0 min value is outside of the allowed memory range")
    );
}

#[test]
fn bad_map_index_is_an_error_not_a_verdict() {
    let mut prog = ld_map_idx(1, 3).to_vec();
    prog.extend([mov_imm(0, 0), exit()]);
    let obj = object("badidx", ProgType::SocketFilter, prog, vec![map("h", 1, 4, 8, 16)]);
    let err = load(&obj, &LoadOptions::default()).expect_err("index 3 of 1 map");
    assert_eq!(
        err,
        OracleError::BadMapIndex {
            program: "badidx".into(),
            pc: 0,
            index: 3,
            map_count: 1
        }
    );
    let obj = object(
        "trunc",
        ProgType::SocketFilter,
        vec![mov_imm(0, 0), ld_map_idx(1, 0)[0]],
        vec![],
    );
    assert_eq!(
        load(&obj, &LoadOptions::default()),
        Err(OracleError::TruncatedLdImm64 {
            program: "trunc".into(),
            pc: 1
        })
    );
}

#[test]
fn log_overflow_retries_then_falls_back_to_stats() {
    if !need_bpf() {
        return;
    }
    let mut prog: Vec<_> = (0..300).map(|i| mov_imm(0, i)).collect();
    prog.push(exit());
    let obj = object("long", ProgType::SocketFilter, prog, vec![]);
    let small = LoadOptions {
        log_level: 2,
        initial_log_size: 4096,
        ..LoadOptions::default()
    };
    let v = load(&obj, &small).expect("reaches the verifier");
    assert!(v.accepted && !v.log_truncated, "{:?}", v.fixups);
    assert!(v.log.len() > 4096);
    assert_eq!(v.processed_insns, Some(301));
    assert_eq!(parse_log(&v.log).insns().count(), 301);

    let capped = LoadOptions {
        max_log_size: 4096,
        ..small
    };
    let v = load(&obj, &capped).expect("reaches the verifier");
    assert!(v.accepted && v.log_truncated);
    assert_eq!((v.log_level, v.processed_insns), (4, Some(301)));
    assert!(
        v.fixups.iter().any(|f| f.contains("verdict from log_level=4 load")),
        "{:?}",
        v.fixups
    );
}

#[test]
fn missing_license_defaults_to_gpl() {
    if !need_bpf() {
        return;
    }
    // bpf_get_current_pid_tgid (14) in a kprobe; the default license is what the reference used.
    let mut obj = object("nolic", ProgType::Kprobe, vec![call(14), mov_imm(0, 0), exit()], vec![]);
    obj.license = None;
    let v = load(&obj, &LoadOptions::default()).expect("reaches the verifier");
    assert!(v.accepted, "{}", v.log);
    assert_eq!(
        v.fixups,
        vec!["object has no license section: license \"GPL\" passed".to_string()]
    );
}

#[test]
fn tp_btf_program_gets_its_attach_btf_id() {
    if !need_bpf() {
        return;
    }
    let mut obj = object("on_switch", ProgType::Tracing, vec![mov_imm(0, 0), exit()], vec![]);
    obj.programs[0].section = "tp_btf/sched_switch".into();
    obj.programs[0].expected_attach_type = Some(analyzer::prog_type::AttachType::TraceRawTp);
    let v = load(&obj, &LoadOptions::default()).expect("reaches the verifier");
    assert!(v.accepted, "errno {} log {}", v.errno, v.log);
    assert!(v.fixups.is_empty(), "{:?}", v.fixups);

    obj.programs[0].section = "tp_btf/no_such_tracepoint_xyz".into();
    let v = load(&obj, &LoadOptions::default()).expect("refused before verification");
    assert!(!v.accepted);
    assert_eq!(
        v.fixups,
        vec!["attach target btf_trace_no_such_tracepoint_xyz not found in vmlinux BTF: attach_btf_id 0".to_string()]
    );
}
