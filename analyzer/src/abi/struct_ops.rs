//! Which `struct_ops` member a program implements, as libbpf finds it
//! (`bpf_object__collect_st_ops_relos`): the `.struct_ops` / `.struct_ops.link`
//! sections hold variables of a struct_ops type (e.g. `struct tcp_congestion_ops
//! cubic`), and each function-pointer member is filled by a relocation against the
//! program's symbol. The variable's BTF type (in the object's BTF) names the struct,
//! the relocation's offset inside the variable names the member.
//!
//! Everything is best effort: a malformed file or missing BTF gives no mapping (the
//! caller falls back to untyped ctx arguments).

use object::{Object as _, ObjectSection as _, ObjectSymbol as _};

use crate::elf::btf::{Btf, BtfKind};

/// A struct_ops member implemented by a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructOpsSlot {
    /// The struct_ops type's name (`tcp_congestion_ops`).
    pub struct_name: String,
    /// The member's name (`cong_avoid`).
    pub member: String,
}

/// The slot `prog_name` fills in the object file at `path`, if any.
pub fn slot_for(path: &str, btf_bytes: Option<&[u8]>, prog_name: &str) -> Option<StructOpsSlot> {
    let data = std::fs::read(path).ok()?;
    let btf = Btf::parse(btf_bytes?).ok()?;
    slot_in(&data, &btf, prog_name)
}

fn slot_in(data: &[u8], btf: &Btf, prog_name: &str) -> Option<StructOpsSlot> {
    let file = object::File::parse(data).ok()?;
    for sec in file.sections() {
        let Ok(sec_name) = sec.name() else { continue };
        if sec_name != ".struct_ops" && sec_name != ".struct_ops.link" {
            continue;
        }
        for (off, rel) in sec.relocations() {
            let object::RelocationTarget::Symbol(si) = rel.target() else { continue };
            let Ok(sym) = file.symbol_by_index(si) else { continue };
            if sym.name().ok() != Some(prog_name) {
                continue;
            }
            // The variable holding this slot: the data symbol of the section covering it
            // (DATASEC offsets in objects are often left 0 for libbpf to fill in).
            let var = file.symbols().find(|v| {
                v.section_index() == Some(sec.index())
                    && v.kind() == object::SymbolKind::Data
                    && off >= v.address()
                    && off < v.address().saturating_add(v.size())
            });
            if let Some(v) = var {
                if let Some(slot) = v.name().ok().and_then(|n| member_at(btf, sec_name, n, off - v.address())) {
                    return Some(slot);
                }
            }
        }
    }
    None
}

/// The struct and member at byte `rel` of the variable `var` of DATASEC `sec`.
fn member_at(btf: &Btf, sec: &str, var: &str, rel: u64) -> Option<StructOpsSlot> {
    let (_, vars) = btf.find_datasec(sec)?;
    for v in vars {
        if btf.name(v.type_id) != Some(var) {
            continue;
        }
        let BtfKind::Var { target, .. } = btf.type_by_id(v.type_id)?.kind else { return None };
        let st = btf.resolve_modifiers(target)?;
        let BtfKind::Struct { members, .. } = &btf.type_by_id(st)?.kind else { return None };
        let m = members.iter().find(|m| (m.offset & 0x00ff_ffff) as u64 == rel * 8)?;
        return Some(StructOpsSlot {
            struct_name: btf.name(st)?.to_string(),
            member: btf.string_at(m.name_off)?.to_string(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpf_cubic_programs_fill_tcp_congestion_ops_members() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/ebpf-samples/linux-selftests/bpf_cubic.o");
        let Ok(data) = std::fs::read(path) else {
            eprintln!("skipped: {path} not found");
            return;
        };
        let file = object::File::parse(&*data).expect("elf");
        let btf_sec = file.section_by_name(".BTF").expect(".BTF");
        let btf = Btf::parse(btf_sec.data().expect("data")).expect("btf");
        let slot = slot_in(&data, &btf, "bpf_cubic_cong_avoid").expect("slot");
        assert_eq!(slot, StructOpsSlot { struct_name: "tcp_congestion_ops".into(), member: "cong_avoid".into() });
        let slot = slot_in(&data, &btf, "bpf_cubic_init").expect("slot");
        assert_eq!(slot.member, "init");
        assert_eq!(slot_in(&data, &btf, "no_such_prog"), None);
        assert_eq!(slot_in(b"not an elf", &btf, "bpf_cubic_init"), None);
        // Two struct_ops variables in one section (DATASEC offsets not filled in).
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/ebpf-samples/linux-selftests/bpf_dctcp.o");
        let data = std::fs::read(path).expect("bpf_dctcp.o");
        let file = object::File::parse(&*data).expect("elf");
        let btf = Btf::parse(file.section_by_name(".BTF").expect(".BTF").data().expect("data")).expect("btf");
        assert_eq!(slot_in(&data, &btf, "bpf_dctcp_ssthresh").map(|s| s.member), Some("ssthresh".to_string()));
    }
}
