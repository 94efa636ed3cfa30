//! Raw ELF reading with the `object` crate: sections, the symbol table and `REL`
//! relocations, copied into plain structs so the rest of the loader is independent of
//! `object`'s generic types.
//!
//! Accepts 64-bit little-endian ELF with `e_machine` EM_BPF (247) or EM_NONE (0, what
//! old clang versions wrote; two objects of the sample corpus have it).
//! Section names that are not valid UTF-8 are read lossily; a name whose offset lies
//! outside the section-name table becomes `""` (one corpus object has such a debug
//! section and is otherwise fine); so does a symbol name outside the string table (two
//! `invalid/` objects have such symbols, not naming any program or map).

use super::error::LoadError;
use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym};
use object::LittleEndian as LE;

pub(crate) const EM_BPF: u16 = 247;
pub(crate) const EM_NONE: u16 = 0;

/// One ELF section.
#[derive(Debug, Clone)]
pub(crate) struct Section<'a> {
    pub(crate) name: String,
    pub(crate) sh_type: u32,
    pub(crate) flags: u64,
    /// Size from the header (for `SHT_NOBITS` there are no bytes in the file).
    pub(crate) size: u64,
    /// File bytes (empty for `SHT_NOBITS`).
    pub(crate) data: &'a [u8],
    pub(crate) info: u32,
}

impl Section<'_> {
    pub(crate) fn is_exec(&self) -> bool {
        self.sh_type == elf::SHT_PROGBITS && self.flags & u64::from(elf::SHF_EXECINSTR) != 0
    }
}

/// One symbol table entry.
#[derive(Debug, Clone)]
pub(crate) struct Symbol {
    pub(crate) name: String,
    pub(crate) st_type: u8,
    pub(crate) shndx: u16,
    pub(crate) value: u64,
    /// `st_size` (0 when the assembler did not record one).
    pub(crate) size: u64,
    /// `STB_LOCAL` binding or `STV_HIDDEN` visibility: not callable from outside.
    pub(crate) hidden: bool,
}

/// One `Elf64_Rel` entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rel {
    pub(crate) offset: u64,
    pub(crate) sym: u32,
    pub(crate) r_type: u32,
}

/// The parts of an ELF object the loader uses.
#[derive(Debug)]
pub(crate) struct ElfObject<'a> {
    pub(crate) sections: Vec<Section<'a>>,
    pub(crate) symbols: Vec<Symbol>,
    /// Relocations per target section index.
    pub(crate) rels: Vec<Vec<Rel>>,
}

impl<'a> ElfObject<'a> {
    pub(crate) fn section_by_name(&self, name: &str) -> Option<(usize, &Section<'a>)> {
        self.sections
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name)
    }

    pub(crate) fn section_name(&self, index: usize) -> String {
        self.sections
            .get(index)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| format!("#{index}"))
    }
}

/// Reads the sections, symbols and relocations of an eBPF ELF object.
pub(crate) fn read_elf<'a>(file: &str, bytes: &'a [u8]) -> Result<ElfObject<'a>, LoadError> {
    let f = || file.to_string();
    if bytes.len() < 4 || &bytes[0..4] != b"\x7fELF" {
        return Err(LoadError::NotElf { file: f() });
    }
    if bytes.len() < 64 {
        return Err(LoadError::Truncated {
            file: f(),
            what: format!("ELF header needs 64 bytes, file has {}", bytes.len()),
        });
    }
    if bytes[4] != elf::ELFCLASS64 {
        return Err(LoadError::UnsupportedElf {
            file: f(),
            reason: format!("class {} (only 64-bit)", bytes[4]),
        });
    }
    if bytes[5] != elf::ELFDATA2LSB {
        return Err(LoadError::UnsupportedElf {
            file: f(),
            reason: "big-endian (only little-endian)".into(),
        });
    }
    let header = elf::FileHeader64::<LE>::parse(bytes).map_err(|e| LoadError::UnsupportedElf {
        file: f(),
        reason: e.to_string(),
    })?;
    let endian = LE;
    let machine = header.e_machine(endian);
    if machine != EM_BPF && machine != EM_NONE {
        return Err(LoadError::NotBpf { file: f(), machine });
    }
    let headers = header
        .section_headers(endian, bytes)
        .map_err(|e| LoadError::Truncated {
            file: f(),
            what: format!("section header table: {e}"),
        })?;
    let strings = header
        .section_strings(endian, bytes, headers)
        .map_err(|e| LoadError::Truncated {
            file: f(),
            what: format!("section name table: {e}"),
        })?;

    let mut sections = Vec::with_capacity(headers.len());
    for sh in headers {
        let name = sh
            .name(endian, strings)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let data: &[u8] = if sh.sh_type(endian) == elf::SHT_NOBITS {
            &[]
        } else {
            sh.data(endian, bytes)
                .map_err(|_| LoadError::CorruptSection {
                    file: f(),
                    section: name.clone(),
                    reason: format!(
                        "data (offset {}, size {}) lies outside the file ({} bytes)",
                        sh.sh_offset(endian),
                        sh.sh_size(endian),
                        bytes.len()
                    ),
                })?
        };
        sections.push(Section {
            name,
            sh_type: sh.sh_type(endian),
            flags: sh.sh_flags(endian),
            size: sh.sh_size(endian),
            data,
            info: sh.sh_info(endian),
        });
    }

    let mut symbols = Vec::new();
    for (i, sh) in headers.iter().enumerate() {
        if sh.sh_type(endian) != elf::SHT_SYMTAB {
            continue;
        }
        let table = object::read::elf::SymbolTable::<elf::FileHeader64<LE>, &[u8]>::parse(
            endian,
            bytes,
            &object::read::elf::SectionTable::new(headers, strings),
            object::SectionIndex(i),
            sh,
        )
        .map_err(|e| LoadError::CorruptSymbolTable {
            file: f(),
            reason: e.to_string(),
        })?;
        for sym in table.iter() {
            let name = table
                .symbol_name(endian, sym)
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default();
            symbols.push(Symbol {
                name,
                st_type: sym.st_type(),
                shndx: sym.st_shndx(endian),
                value: sym.st_value(endian),
                size: sym.st_size(endian),
                hidden: sym.st_bind() == elf::STB_LOCAL || sym.st_other() & 3 == elf::STV_HIDDEN,
            });
        }
        break;
    }

    let mut rels = vec![Vec::new(); sections.len()];
    for s in &sections {
        if s.sh_type != elf::SHT_REL && s.sh_type != elf::SHT_RELA {
            continue;
        }
        let target = s.info as usize;
        let Some(list) = rels.get_mut(target) else {
            return Err(LoadError::CorruptSection {
                file: f(),
                section: s.name.clone(),
                reason: format!("relocates section #{target}, which does not exist"),
            });
        };
        let entsize = if s.sh_type == elf::SHT_REL { 16 } else { 24 };
        if s.data.len() % entsize != 0 {
            return Err(LoadError::CorruptSection {
                file: f(),
                section: s.name.clone(),
                reason: format!(
                    "size {} is not a multiple of the entry size {entsize}",
                    s.data.len()
                ),
            });
        }
        for chunk in s.data.chunks_exact(entsize) {
            let mut w = [0u8; 8];
            w.copy_from_slice(&chunk[0..8]);
            let offset = u64::from_le_bytes(w);
            w.copy_from_slice(&chunk[8..16]);
            let info = u64::from_le_bytes(w);
            list.push(Rel {
                offset,
                sym: (info >> 32) as u32,
                r_type: (info & 0xffff_ffff) as u32,
            });
        }
    }
    Ok(ElfObject {
        sections,
        symbols,
        rels,
    })
}
