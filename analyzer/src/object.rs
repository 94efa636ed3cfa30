//! The loaded object: what the ELF loader produces and every later stage consumes.
//!
//! Programs arrive linked the way libbpf links them: `.text` subprograms that a
//! program calls are appended after it, and map references are rewritten to
//! `LD_IMM64` with `BPF_PSEUDO_MAP_IDX` (imm = index into `Object::maps`) or
//! `BPF_PSEUDO_MAP_IDX_VALUE` (imm = map index, next imm = offset in the value),
//! exactly the form the kernel accepts with an `fd_array`.

use crate::insn::RawInsn;
use crate::prog_type::{AttachType, ProgType};
use serde::Serialize;

/// One ELF object file, fully loaded.
#[derive(Clone, Debug, Serialize)]
pub struct Object {
    /// The path as given or found.
    pub path: String,
    /// Contents of the `license` section (`"GPL"`, ...), if present.
    pub license: Option<String>,
    /// Kernel version from a legacy `version` section, if present.
    pub kern_version: Option<u32>,
    pub maps: Vec<MapDef>,
    pub programs: Vec<Program>,
    /// Raw `.BTF` section bytes, for loading into the kernel.
    #[serde(skip)]
    pub btf: Option<Vec<u8>>,
    /// `btf` parsed, on first use (`Object::parsed_btf`), shared by the object's programs.
    #[serde(skip)]
    pub parsed_btf: std::sync::OnceLock<Option<std::sync::Arc<crate::elf::btf::Btf>>>,
}

impl Object {
    /// The object's BTF, parsed once (None without BTF or when it does not parse).
    pub fn parsed_btf(&self) -> Option<&crate::elf::btf::Btf> {
        self.parsed_btf
            .get_or_init(|| self.btf.as_deref().and_then(|b| crate::elf::btf::Btf::parse(b).ok()).map(std::sync::Arc::new))
            .as_deref()
    }
}

/// Where a map was defined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MapOrigin {
    /// BTF-style definition in `.maps`.
    BtfMaps,
    /// Legacy `struct bpf_map_def` in a `maps` (or `maps/...`) section.
    Legacy,
    /// A global data section (`.data`, `.rodata`, `.bss`, `.kconfig`, `.data.*`, `.rodata.*`)
    /// seen as a one-entry array map whose value is the section.
    GlobalData { section: String },
}

/// A map definition, as the kernel's `BPF_MAP_CREATE` takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MapDef {
    pub name: String,
    /// `enum bpf_map_type` number.
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    /// For ARRAY_OF_MAPS / HASH_OF_MAPS: the inner map's definition.
    pub inner: Option<Box<MapDef>>,
    pub origin: MapOrigin,
    /// Initial contents for global data maps (all zero for `.bss`).
    #[serde(skip)]
    pub initial_value: Option<Vec<u8>>,
    /// BTF type ids of key and value, when the object's BTF names them.
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
}

/// `BPF_F_RDONLY_PROG`: the program may read the map but not write it.
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;

impl MapDef {
    /// True when the program may not write the map's values.
    pub fn is_prog_readonly(&self) -> bool {
        self.map_flags & BPF_F_RDONLY_PROG != 0 || self.is_readonly_data()
    }

    /// True for `.rodata`-like maps whose contents the program cannot change.
    pub fn is_readonly_data(&self) -> bool {
        matches!(&self.origin, MapOrigin::GlobalData { section } if section.starts_with(".rodata") || section == ".kconfig")
    }
}

/// Source position of one instruction, from `.BTF.ext` line info.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineInfo {
    /// Instruction index (pc) in `Program::insns`.
    pub pc: usize,
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// The source line's text, as recorded in BTF.
    pub text: String,
}

/// One entry program with the subprograms it calls linked after it.
#[derive(Clone, Debug, Serialize)]
pub struct Program {
    /// ELF section name (`xdp`, `kprobe/sys_open`, `2/2`, ...).
    pub section: String,
    /// Function symbol name.
    pub name: String,
    pub prog_type: ProgType,
    pub expected_attach_type: Option<AttachType>,
    /// Instructions, after linking and relocation.
    pub insns: Vec<RawInsn>,
    /// Start pc and name of each function in `insns` (the entry first, at pc 0).
    pub functions: Vec<(usize, String)>,
    /// Line info sorted by pc; an instruction's line is the last entry at or before it.
    pub line_info: std::sync::Arc<Vec<LineInfo>>,
}

impl Program {
    /// The source line for an instruction, from line info.
    pub fn line_for(&self, pc: usize) -> Option<&LineInfo> {
        match self.line_info.binary_search_by_key(&pc, |l| l.pc) {
            Ok(i) => Some(&self.line_info[i]),
            Err(0) => None,
            Err(i) => Some(&self.line_info[i - 1]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(path: &str) -> Object {
        crate::elf::load_object(std::path::Path::new(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn parsed_btf_is_parsed_once_and_shared() {
        let obj = object(concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/calls/global_func_null_checked.o"));
        let a = obj.parsed_btf().expect("the object has BTF") as *const _;
        let b = obj.parsed_btf().expect("still") as *const _;
        assert_eq!(a, b, "the second call returns the cached parse");
        assert!(obj.parsed_btf().is_some_and(|btf| btf.len() > 0 && btf.find_func("global_func_null_checked").is_some()));
        let mut no_btf = obj.clone();
        no_btf.btf = None;
        no_btf.parsed_btf = Default::default();
        assert!(no_btf.parsed_btf().is_none());
    }
}
