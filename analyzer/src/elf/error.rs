//! Why an object file could not be loaded. Every variant names the file and, where it
//! applies, the section, symbol, byte offset or instruction index.

use super::btf::BtfError;
use super::btf_ext::BtfExtError;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: not an ELF file")]
    NotElf { file: String },
    #[error("{file}: unsupported ELF format: {reason}")]
    UnsupportedElf { file: String, reason: String },
    #[error("{file}: not an eBPF object (e_machine {machine}, expected 247 EM_BPF)")]
    NotBpf { file: String, machine: u16 },
    #[error("{file}: truncated: {what}")]
    Truncated { file: String, what: String },
    #[error("{file}: section {section}: {reason}")]
    CorruptSection {
        file: String,
        section: String,
        reason: String,
    },
    #[error("{file}: section {section}: size {size} is not a multiple of 8")]
    SectionSizeNotMultipleOf8 {
        file: String,
        section: String,
        size: u64,
    },
    #[error("{file}: symbol table: {reason}")]
    CorruptSymbolTable { file: String, reason: String },
    #[error("{file}: section {section}: bad relocation at offset {offset}: {reason}")]
    BadRelocation {
        file: String,
        section: String,
        offset: u64,
        reason: String,
    },
    #[error("{file}: section {section}: relocation at offset {offset} references symbol {symbol}, which is no map")]
    UnknownMap {
        file: String,
        section: String,
        offset: u64,
        symbol: String,
    },
    #[error("{file}: section {section}: insn {insn} calls insn {target}, outside any function")]
    BadCallTarget {
        file: String,
        section: String,
        insn: usize,
        target: i64,
    },
    #[error("{file}: map {map}: {reason}")]
    BadMapDef {
        file: String,
        map: String,
        reason: String,
    },
    #[error("{file}: .BTF: {source}")]
    Btf {
        file: String,
        #[source]
        source: BtfError,
    },
    #[error("{file}: .BTF.ext: {source}")]
    BtfExt {
        file: String,
        #[source]
        source: BtfExtError,
    },
}
