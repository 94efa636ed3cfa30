//! Generated programs as loaded objects, so that the verifier, the soundness checker and the live
//! kernel (`oracle::load_program`) see them exactly as they see programs from ELF files.
//!
//! The object has one program (the generated one, named after its seed), the generator's maps
//! (`MapOrigin::BtfMaps`, referenced by `BPF_PSEUDO_MAP_IDX`), license `GPL`, and a section name
//! that libbpf would give the program type (`xdp`, `tc`, `socket`, `kprobe/...`). Function starts are
//! the entry and every bpf-to-bpf call target, named `sub_<pc>`.

use crate::gen::GeneratedProgram;
use crate::insn::{decode, CallTarget, Insn};
use crate::object::{Object, Program};
use crate::prog_type::ProgType;

/// The object holding `gp` as its only program, named `name`.
pub fn object_for_generated(gp: &GeneratedProgram, name: &str) -> Object {
    let mut functions = vec![(0usize, name.to_string())];
    if let Ok(insns) = decode(&gp.insns) {
        for (pc, insn) in insns.iter().enumerate() {
            if let Insn::Call(CallTarget::Local(imm)) = insn {
                let target = pc as i64 + 1 + i64::from(*imm);
                if let Ok(t) = usize::try_from(target) {
                    if !functions.iter().any(|(s, _)| *s == t) {
                        functions.push((t, format!("sub_{t}")));
                    }
                }
            }
        }
    }
    functions.sort();
    Object {
        path: format!("gen:{name}"),
        license: Some("GPL".to_string()),
        kern_version: None,
        maps: gp.maps.clone(),
        programs: vec![Program {
            section: section_for(gp.prog_type).to_string(),
            name: name.to_string(),
            prog_type: gp.prog_type,
            expected_attach_type: None,
            insns: gp.insns.clone(),
            functions,
            line_info: Default::default(),
        }],
        btf: None,
        parsed_btf: Default::default(),
    }
}

/// The libbpf section name of a program type (the generator's types; others get their kernel name).
fn section_for(t: ProgType) -> &'static str {
    match t {
        ProgType::Xdp => "xdp",
        ProgType::SchedCls => "tc",
        ProgType::SchedAct => "action",
        ProgType::SocketFilter => "socket",
        ProgType::Kprobe => "kprobe/do_nanosleep",
        ProgType::Tracepoint => "tracepoint/syscalls/sys_enter_nanosleep",
        other => other.name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::{generate, GenConfig};

    #[test]
    fn generated_objects_hold_the_program_and_its_maps() {
        let cfg = GenConfig::default();
        let mut saw_sub = false;
        for seed in 0..40 {
            let gp = generate(seed, &cfg);
            let obj = object_for_generated(&gp, &format!("gen_{seed}"));
            assert_eq!(obj.programs.len(), 1);
            let p = &obj.programs[0];
            assert_eq!(p.insns, gp.insns);
            assert_eq!(p.prog_type, gp.prog_type);
            assert_eq!(obj.maps, gp.maps);
            assert_eq!(p.functions.first().map(|f| f.0), Some(0));
            assert!(p.functions.windows(2).all(|w| w[0].0 < w[1].0));
            saw_sub |= p.functions.len() > 1;
        }
        assert!(saw_sub, "some generated program has a subprogram");
        assert_eq!(section_for(ProgType::Xdp), "xdp");
    }
}
