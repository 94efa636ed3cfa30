//! `bpfcheck dump` (programs, maps, disassembly with source lines) and
//! `bpfcheck cfg` (Graphviz dot).

use analyzer::insn::print::print_insn;
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::ExitCode;

pub(crate) fn run(file: &Path, prog: Option<&str>) -> Result<ExitCode> {
    let obj = analyzer::elf::load_object(file).with_context(|| format!("loading {}", file.display()))?;
    print!("{}", dump_text(&obj, prog));
    Ok(ExitCode::SUCCESS)
}

/// The text `bpfcheck dump` prints (kept separate for snapshot tests).
pub(crate) fn dump_text(obj: &analyzer::object::Object, prog: Option<&str>) -> String {
    let mut out = String::new();
    out.push_str(&format!("file: {}\n", obj.path));
    out.push_str(&format!("license: {}\n", obj.license.as_deref().unwrap_or("(none)")));
    out.push_str("maps:\n");
    for (i, m) in obj.maps.iter().enumerate() {
        out.push_str(&format!(
            "  [{i}] {} type={} ({}) key_size={} value_size={} max_entries={} flags={:#x}{}\n",
            m.name,
            m.map_type,
            analyzer::abi::map_types::map_type_name(m.map_type),
            m.key_size,
            m.value_size,
            m.max_entries,
            m.map_flags,
            m.inner.as_ref().map(|im| format!(" inner=(type={} ks={} vs={})", im.map_type, im.key_size, im.value_size)).unwrap_or_default()
        ));
    }
    out.push_str("programs:\n");
    for p in &obj.programs {
        out.push_str(&format!("  {} {} type={} insns={}\n", p.section, p.name, p.prog_type.name(), p.insns.len()));
    }
    for p in obj.programs.iter().filter(|p| prog.is_none_or(|n| n == p.name)) {
        out.push_str(&format!("\n{}/{}:\n", p.section, p.name));
        let mut last_line: Option<(String, u32)> = None;
        for pc in 0..p.insns.len() {
            if let Some((start, name)) = p.functions.iter().find(|(s, _)| *s == pc) {
                if *start != 0 {
                    out.push_str(&format!("{name}:\n"));
                }
            }
            if let Some(l) = p.line_for(pc) {
                let key = (l.file.clone(), l.line);
                if last_line.as_ref() != Some(&key) && l.pc == pc {
                    out.push_str(&format!("; {} @ {}:{}\n", l.text.trim(), short_file(&l.file), l.line));
                    last_line = Some(key);
                }
            }
            out.push_str(&format!("{pc}: {}\n", print_insn(&p.insns, pc)));
        }
    }
    out
}

fn short_file(f: &str) -> &str {
    f.rsplit('/').next().unwrap_or(f)
}

pub(crate) fn run_cfg(file: &Path, prog: &str, states: bool) -> Result<ExitCode> {
    let obj = analyzer::elf::load_object(file).with_context(|| format!("loading {}", file.display()))?;
    let Some(index) = obj.programs.iter().position(|p| p.name == prog) else {
        bail!("{}: no program named {prog}", file.display());
    };
    let p = &obj.programs[index];
    // With --states: the invariant before each block's first instruction.
    let entry_states: Vec<String> = if states {
        let config = analyzer::verify::Config { collect_states: true, ..analyzer::verify::Config::default() };
        let (r, _) = analyzer::verify::verify_program_with_invariants(&obj, index, &config);
        let mut v = vec![String::new(); p.insns.len()];
        for t in r.trace {
            if let Some(slot) = v.get_mut(t.pc) {
                *slot = t.state_before;
            }
        }
        v
    } else {
        Vec::new()
    };
    let insns = analyzer::insn::decode(&p.insns).with_context(|| format!("decoding {prog}"))?;
    let cfg = analyzer::cfg::build_cfg(&insns, &analyzer::cfg::CfgConfig::default())
        .with_context(|| format!("building the CFG of {prog}"))?;
    let dot = cfg.to_dot(|b| {
        let mut lines: Vec<String> = Vec::new();
        if let Some(st) = entry_states.get(b.start).filter(|s| !s.is_empty()) {
            lines.push(format!("; {st}"));
        }
        lines.extend((b.start..=b.end).map(|pc| format!("{pc}: {}", print_insn(&p.insns, pc))));
        lines.join("\\l") + "\\l"
    });
    print!("{dot}");
    Ok(ExitCode::SUCCESS)
}
