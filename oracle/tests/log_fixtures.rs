//! The log parser on verifier logs captured from the live Linux 6.18 kernel (tests/fixtures).

use oracle::log_parser::{parse_log, parse_reg_state, FrameEvent, LogEntry, ParsedLog};

fn fixture(name: &str) -> ParsedLog {
    let path = format!("{}/tests/fixtures/{name}.log", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_log(&text)
}

#[test]
fn level2_lookup_accepted() {
    let log = fixture("level2_lookup_accepted");
    let texts: Vec<(usize, &str)> = log.insns().map(|i| (i.pc, i.text.as_str())).collect();
    assert_eq!(texts[0], (0, "(62) *(u32 *)(r10 -4) = 0"));
    assert_eq!(
        texts.iter().map(|t| t.0).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 5, 6, 7, 8, 9]
    );
    let call = log.visits(5)[0];
    assert_eq!(call.text, "(85) call bpf_map_lookup_elem#1");
    let r0 = parse_reg_state(&call.regs[0].1);
    assert_eq!(
        (call.regs[0].0, r0.kind.as_str(), r0.field("id"), r0.field("vs")),
        (0, "map_value_or_null", Some("1"), Some("8"))
    );
    assert_eq!(parse_reg_state(&log.visits(6)[0].regs[0].1).kind, "map_value");
    assert_eq!(log.visits(0)[0].stack, vec![(-8, "0000????".to_string())]);
    assert_eq!(log.visits(2)[0].regs, vec![(2, "fp-4".to_string())]);
    assert!(log.entries.contains(&LogEntry::Branch {
        from: 6,
        to: 8,
        speculative: false,
        state: None
    }));
    let liveness = log
        .entries
        .iter()
        .filter(|e| matches!(e, LogEntry::Liveness { .. }))
        .count();
    assert_eq!(liveness, 9);
    assert_eq!(log.summary.map(|s| (s.processed_insns, s.total_states)), Some((10, 1)));
    assert_eq!(log.stack_depth, vec![8]);
    assert!(log.verification_time_usec.is_some());
    assert_eq!(log.error, None);
}

#[test]
fn level2_lookup_null_check_missing() {
    let log = fixture("level2_lookup_null_check_missing");
    assert_eq!(log.error.as_deref(), Some("R0 invalid mem access 'map_value_or_null'"));
    let last = log.insns().last().expect("insns");
    assert_eq!(
        (last.pc, last.text.as_str(), last.regs.len()),
        (6, "(79) r0 = *(u64 *)(r0 +0)", 0)
    );
    assert_eq!(log.summary.map(|s| s.processed_insns), Some(6));
}

#[test]
fn level2_bpf2bpf_frames() {
    let log = fixture("level2_xdp_bpf2bpf");
    let events: Vec<FrameEvent> = log
        .entries
        .iter()
        .filter_map(|e| match e {
            LogEntry::Frame { event, .. } => Some(*event),
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        vec![
            FrameEvent::Caller,
            FrameEvent::Callee,
            FrameEvent::ReturningFromCallee,
            FrameEvent::ToCaller { pc: 41 }
        ]
    );
    let callee = log.visits(48)[0];
    assert_eq!((callee.frame, callee.text.as_str()), (1, "(bf) r0 = r1"));
    assert_eq!(log.visits(41)[0].frame, 0);
    // The state before the callee's first insn, printed as `48: frame1: ...`.
    assert!(log
        .entries
        .iter()
        .any(|e| matches!(e, LogEntry::State { pc: 48, state } if state.frame == 1 && state.regs.len() == 6)));
    // Merged keys split: `smax=umax=0x100000000,smax32=umax32=0`.
    let r1 = parse_reg_state(&log.visits(42)[0].regs[0].1);
    assert_eq!((r1.field("umax"), r1.field("umax32")), (Some("0x100000000"), Some("0")));
    assert_eq!(log.summary.map(|s| s.processed_insns), Some(90));
    assert_eq!(log.error, None);
}

#[test]
fn level2_loop_states_and_pruning() {
    let log = fixture("level2_xdp_loop");
    let visits = log.visits(11);
    assert!(visits.len() >= 4, "loop header visited {} times", visits.len());
    // The conditional jump's fall-through state comes after mark_precise lines, as `11: R3=1`.
    assert_eq!(visits[0].regs, vec![(3, "1".to_string())]);
    assert_eq!(visits[1].regs, vec![(3, "2".to_string())]);
    let narrowed = parse_reg_state(&log.visits(15)[0].regs[0].1);
    assert_eq!(
        (narrowed.field("umax"), narrowed.field("var_off")),
        (Some("100"), Some("(0x0; 0x7f)"))
    );
    assert!(log.entries.contains(&LogEntry::Safe { pc: 9 }));
    assert!(log.entries.contains(&LogEntry::Branch {
        from: 5,
        to: 25,
        speculative: false,
        state: None
    }));
    let from15 = log
        .entries
        .iter()
        .find_map(|e| match e {
            LogEntry::Branch {
                from: 15,
                to: 9,
                state: Some(s),
                ..
            } => Some(s),
            _ => None,
        })
        .expect("a from 15 to 9 state");
    let r4 = &from15.regs.iter().find(|r| r.0 == 4).expect("R4").1;
    assert_eq!(parse_reg_state(r4).field("umin"), Some("101"));
    assert_eq!(log.visits(20)[0].stack, vec![(-8, "0".to_string())]);
    assert_eq!(
        log.summary.map(|s| (s.processed_insns, s.max_states_per_insn)),
        Some((176, 4))
    );
}

#[test]
fn level2_packet_out_of_bounds_has_two_error_lines() {
    let log = fixture("level2_xdp_oob");
    assert_eq!(
        log.error_lines,
        vec![
            "invalid access to packet, off=8 size=1, R2(id=0,off=8,r=8)".to_string(),
            "R2 offset is outside of the packet".to_string()
        ]
    );
    assert_eq!(log.error.as_deref(), Some("R2 offset is outside of the packet"));
}

#[test]
fn level1_returning_from_callee() {
    let log = fixture("level1_global_fn_returning_from_callee");
    assert!(log.entries.iter().any(|e| matches!(e, LogEntry::Frame { event: FrameEvent::ToCaller { pc: 5 }, state } if state.frame == 0 && state.regs.len() == 4)));
    let r0 = parse_reg_state(&log.visits(13)[0].regs[0].1);
    assert_eq!(
        (log.visits(13)[0].frame, r0.kind.as_str(), r0.field("off")),
        (1, "ctx", Some("-1"))
    );
    assert_eq!(log.visits(2)[0].frame, 0);
    assert_eq!(log.error.as_deref(), Some("R8 pointer += pointer prohibited"));
}

#[test]
fn level1_source_lines_and_leading_message() {
    let log = fixture("level1_badmapptr_source_lines");
    assert_eq!(
        log.entries[0],
        LogEntry::Message("arg#0 reference type('UNKNOWN ') size cannot be determined: -22".into())
    );
    assert_eq!(
        log.visits(0)[0].source.as_deref(),
        Some("test_repro(void* ctx) @ badmapptr.c:17")
    );
    assert_eq!(log.visits(1)[0].stack, vec![(-8, "mmmm????".to_string())]);
    assert_eq!(log.visits(4)[0].source, None);
    assert_eq!(
        log.error.as_deref(),
        Some("R1 pointer arithmetic on map_ptr prohibited")
    );
}

#[test]
fn level1_two_error_lines_and_callee_frames() {
    let log = fixture("level1_mapvalue_overrun_two_error_lines");
    assert_eq!(log.error_lines.len(), 2);
    assert_eq!(
        log.error.as_deref(),
        Some("R1 min value is outside of the allowed memory range")
    );
    let log = fixture("level1_bpf2bpf_caller_callee");
    assert!(log.insns().filter(|i| i.pc >= 8).all(|i| i.frame == 1));
    assert_eq!(log.error.as_deref(), Some("invalid bpf_context access off=0 size=4"));
}
