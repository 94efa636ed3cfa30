//! `.BTF.ext` line info: which source line each instruction of each ELF section came from.
//!
//! Layout (libbpf `btf.h` / `libbpf_internal.h`): a header (`magic` 0xeB9F, version, flags,
//! `hdr_len`, `func_info_off`/`len`, `line_info_off`/`len`, ...; offsets relative to the
//! end of the header). The line info block starts with a `u32` record size, then for
//! each section: `sec_name_off` (into the `.BTF` string table), `num_info`, and
//! `num_info` records of `{insn_off (bytes), file_name_off, line_off, line_col}` where
//! `line = line_col >> 10` and `col = line_col & 0x3ff`.
//!
//! Here offsets stay section-relative (in instructions); the linker in `link.rs`
//! shifts them to pcs of each linked program.
//!
//! CO-RE relocations (`parse_core_relos`) live in the block at `core_relo_off`/`len`
//! (headers of at least 32 bytes), laid out the same way with records
//! `{insn_off (bytes), type_id, access_str_off, kind}` (libbpf `struct bpf_core_relo`).

use super::btf::Btf;
use std::collections::HashMap;

/// Why `.BTF.ext` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtfExtError {
    #[error(".BTF.ext header truncated or bad magic (len {len})")]
    BadHeader { len: usize },
    #[error(".BTF.ext line info out of bounds (off {off}, len {len}, blob {blob_len})")]
    OutOfBounds {
        off: usize,
        len: usize,
        blob_len: usize,
    },
    #[error(".BTF.ext line info record size {rec_size} is smaller than 16")]
    BadRecordSize { rec_size: u32 },
    #[error(".BTF.ext line info block for section at byte {off} is truncated")]
    Truncated { off: usize },
}

/// One line info record, relative to its ELF section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionLine {
    /// Instruction index within the ELF section (`insn_off / 8`).
    pub insn_idx: usize,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub text: String,
}

fn rd_u32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parses the line info of a `.BTF.ext` section, keyed by ELF section name, sorted by insn.
pub fn parse_line_info(
    ext: &[u8],
    btf: &Btf,
) -> Result<HashMap<String, Vec<SectionLine>>, BtfExtError> {
    // Older headers (hdr_len 24) still include line info; shorter ones have none.
    let mut out = parse_info_block(ext, btf, 24, 16, |block, r| {
        let insn_off = rd_u32(block, r).unwrap_or(0);
        let file_off = rd_u32(block, r + 4).unwrap_or(0);
        let line_off = rd_u32(block, r + 8).unwrap_or(0);
        let line_col = rd_u32(block, r + 12).unwrap_or(0);
        SectionLine {
            insn_idx: (insn_off / 8) as usize,
            file: btf.string_at(file_off).unwrap_or("").to_string(),
            line: line_col >> 10,
            column: line_col & 0x3ff,
            text: btf.string_at(line_off).unwrap_or("").to_string(),
        }
    })?;
    for lines in out.values_mut() {
        lines.sort_by_key(|l| l.insn_idx);
    }
    Ok(out)
}

/// Walks one info block of a `.BTF.ext` section (`btf_ext_info_sec` records: section
/// name, count, then `count` records of the block's `rec_size`), whose offset and length
/// are the header's `u32`s at `hdr_field` and `hdr_field + 4`. `min_hdr_len` is the
/// smallest header that has this block (older headers: an empty map). `record` reads one
/// record at a byte offset of the block (at least 16 bytes are there).
fn parse_info_block<T>(
    ext: &[u8],
    btf: &Btf,
    min_hdr_len: usize,
    hdr_field: usize,
    record: impl Fn(&[u8], usize) -> T,
) -> Result<HashMap<String, Vec<T>>, BtfExtError> {
    let bad = || BtfExtError::BadHeader { len: ext.len() };
    let magic = ext.get(0..2).ok_or_else(bad)?;
    if magic != [0x9f, 0xeb] {
        return Err(bad());
    }
    let hdr_len = rd_u32(ext, 4).ok_or_else(bad)? as usize;
    if hdr_len < min_hdr_len {
        return Ok(HashMap::new());
    }
    let off = rd_u32(ext, hdr_field).ok_or_else(bad)? as usize;
    let len = rd_u32(ext, hdr_field + 4).ok_or_else(bad)? as usize;
    if len == 0 {
        return Ok(HashMap::new());
    }
    let oob = BtfExtError::OutOfBounds { off, len, blob_len: ext.len() };
    let start = hdr_len.checked_add(off).ok_or(oob.clone())?;
    let end = start.checked_add(len).ok_or(oob.clone())?;
    let block = ext.get(start..end).ok_or(oob)?;
    let rec_size = rd_u32(block, 0).ok_or(BtfExtError::Truncated { off: 0 })?;
    if rec_size < 16 {
        return Err(BtfExtError::BadRecordSize { rec_size });
    }
    let rec_size = rec_size as usize;
    let mut out: HashMap<String, Vec<T>> = HashMap::new();
    let mut p = 4usize;
    while p < block.len() {
        let trunc = BtfExtError::Truncated { off: p };
        let sec_name_off = rd_u32(block, p).ok_or(trunc.clone())?;
        let num = rd_u32(block, p + 4).ok_or(trunc.clone())? as usize;
        p += 8;
        let total = num.checked_mul(rec_size).ok_or(trunc.clone())?;
        if p.checked_add(total).is_none_or(|e| e > block.len()) {
            return Err(trunc);
        }
        let sec = btf.string_at(sec_name_off).unwrap_or("").to_string();
        let recs = out.entry(sec).or_default();
        for i in 0..num {
            recs.push(record(block, p + i * rec_size));
        }
        p += total;
    }
    Ok(out)
}

/// One CO-RE relocation record (`struct bpf_core_relo`), relative to its ELF section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreReloRecord {
    /// Instruction index within the ELF section (`insn_off / 8`).
    pub insn_idx: usize,
    /// The local (object BTF) root type.
    pub type_id: u32,
    /// The access string (`"0:1:2"`), from the object's BTF strings.
    pub access: String,
    /// `enum bpf_core_relo_kind`.
    pub kind: u32,
}

/// Parses the CO-RE relocations of a `.BTF.ext` section, keyed by ELF section name, in
/// file order. A header without a CO-RE block gives an empty map.
pub fn parse_core_relos(ext: &[u8], btf: &Btf) -> Result<HashMap<String, Vec<CoreReloRecord>>, BtfExtError> {
    parse_info_block(ext, btf, 32, 24, |block, r| CoreReloRecord {
        insn_idx: (rd_u32(block, r).unwrap_or(0) / 8) as usize,
        type_id: rd_u32(block, r + 4).unwrap_or(0),
        access: btf.string_at(rd_u32(block, r + 8).unwrap_or(0)).unwrap_or("").to_string(),
        kind: rd_u32(block, r + 12).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::btf::tests::blob;

    fn ext_blob(line_info: &[u32]) -> Vec<u8> {
        let mut b = vec![0x9f, 0xeb, 1, 0];
        let li_len = (line_info.len() * 4) as u32;
        for w in [32u32, 0, 0, 0, li_len, 0, 0] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        for w in line_info {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b
    }

    #[test]
    fn parses_records_per_section() {
        // strings: 1:"xdp" 5:"a.c" 9:"return 0;"
        let btf = Btf::parse(&blob(&[], b"\0xdp\0a.c\0return 0;\0")).expect("btf");
        let ext = ext_blob(&[16, 1, 2, 16, 5, 9, (7 << 10) | 3, 0, 5, 9, (6 << 10) | 1]);
        let li = parse_line_info(&ext, &btf).expect("parses");
        let xdp = &li["xdp"];
        assert_eq!(xdp.len(), 2);
        assert_eq!(
            xdp[0],
            SectionLine {
                insn_idx: 0,
                file: "a.c".into(),
                line: 6,
                column: 1,
                text: "return 0;".into()
            }
        );
        assert_eq!(xdp[1].insn_idx, 2);
        assert_eq!(xdp[1].line, 7);
        assert_eq!(xdp[1].column, 3);
    }

    #[test]
    fn parses_core_relos() {
        // strings: 1:"xdp" 5:"0:1"
        let btf = Btf::parse(&blob(&[], b"\0xdp\00:1\0")).expect("btf");
        let block: [u32; 7] = [16, 1, 1, 24, 7, 5, 0];
        let mut b = vec![0x9f, 0xeb, 1, 0];
        for w in [32u32, 0, 0, 0, 0, 0, (block.len() * 4) as u32] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        for w in block {
            b.extend_from_slice(&w.to_le_bytes());
        }
        let relos = parse_core_relos(&b, &btf).expect("parses");
        assert_eq!(
            relos["xdp"],
            vec![CoreReloRecord { insn_idx: 3, type_id: 7, access: "0:1".into(), kind: 0 }]
        );
        // A 24-byte header has no CO-RE block.
        assert!(parse_core_relos(&ext_blob(&[16]), &btf).expect("ok").is_empty());
        // A record count running past the block.
        let mut t = b.clone();
        t[40] = 9;
        assert!(matches!(parse_core_relos(&t, &btf), Err(BtfExtError::Truncated { .. })));
    }

    #[test]
    fn truncated_line_info_is_an_error() {
        let btf = Btf::parse(&blob(&[], b"\0xdp\0")).expect("btf");
        let ext = ext_blob(&[16, 1, 5, 0, 0]);
        assert!(matches!(
            parse_line_info(&ext, &btf),
            Err(BtfExtError::Truncated { .. })
        ));
        let ext = ext_blob(&[8, 1, 0]);
        assert!(matches!(
            parse_line_info(&ext, &btf),
            Err(BtfExtError::BadRecordSize { rec_size: 8 })
        ));
        assert!(matches!(
            parse_line_info(&[1, 2, 3], &btf),
            Err(BtfExtError::BadHeader { .. })
        ));
    }
}
