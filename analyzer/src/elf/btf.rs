//! A small reader for the `.BTF` section: the type table and the string table.
//!
//! Layout (kernel `include/uapi/linux/btf.h`): a header (`magic` 0xeB9F, version,
//! flags, `hdr_len`, then `type_off`/`type_len`/`str_off`/`str_len` relative to the
//! end of the header), a sequence of `struct btf_type` records each followed by
//! kind-specific data, and a NUL-separated string table. Type ids start at 1;
//! id 0 is `void`.
//!
//! Every read is bounds-checked; a malformed blob gives a [`BtfError`], never a panic.
//! Only little-endian BTF is accepted (all eBPF objects we load are little-endian).
//!
//! Used by the loader for BTF-defined maps (`.maps`), line info (`.BTF.ext` strings)
//! and by later stages for key/value types and function prototypes.

/// Why a BTF blob could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtfError {
    #[error("BTF header truncated or bad magic (len {len})")]
    BadHeader { len: usize },
    #[error("BTF {what} out of bounds (off {off}, len {len}, blob {blob_len})")]
    OutOfBounds {
        what: &'static str,
        off: usize,
        len: usize,
        blob_len: usize,
    },
    #[error("BTF type #{id} truncated at byte {off}")]
    TruncatedType { id: u32, off: usize },
    #[error("BTF type #{id} has unknown kind {kind}")]
    UnknownKind { id: u32, kind: u32 },
}

/// `BTF_KIND_*` numbers.
pub mod kind {
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const UNION: u32 = 5;
    pub const ENUM: u32 = 6;
    pub const FWD: u32 = 7;
    pub const TYPEDEF: u32 = 8;
    pub const VOLATILE: u32 = 9;
    pub const CONST: u32 = 10;
    pub const RESTRICT: u32 = 11;
    pub const FUNC: u32 = 12;
    pub const FUNC_PROTO: u32 = 13;
    pub const VAR: u32 = 14;
    pub const DATASEC: u32 = 15;
    pub const FLOAT: u32 = 16;
    pub const DECL_TAG: u32 = 17;
    pub const TYPE_TAG: u32 = 18;
    pub const ENUM64: u32 = 19;
}

/// A struct or union member (`struct btf_member`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfMember {
    pub name_off: u32,
    pub type_id: u32,
    /// Bit offset (with `kind_flag`, the low 24 bits are the offset and the high 8 the bitfield size).
    pub offset: u32,
}

/// A function parameter (`struct btf_param`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfParam {
    pub name_off: u32,
    pub type_id: u32,
}

/// A variable in a DATASEC (`struct btf_var_secinfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfVarSecinfo {
    pub type_id: u32,
    pub offset: u32,
    pub size: u32,
}

/// The kind-specific part of one BTF type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BtfKind {
    Void,
    Int {
        size: u32,
        encoding: u8,
        bit_offset: u8,
        bits: u8,
    },
    Ptr {
        target: u32,
    },
    Array {
        elem: u32,
        index: u32,
        nelems: u32,
    },
    Struct {
        size: u32,
        members: Vec<BtfMember>,
    },
    Union {
        size: u32,
        members: Vec<BtfMember>,
    },
    Enum {
        size: u32,
        values: Vec<(u32, i64)>,
    },
    Fwd {
        is_union: bool,
    },
    Typedef {
        target: u32,
    },
    Volatile {
        target: u32,
    },
    Const {
        target: u32,
    },
    Restrict {
        target: u32,
    },
    Func {
        proto: u32,
        linkage: u16,
    },
    FuncProto {
        ret: u32,
        params: Vec<BtfParam>,
    },
    Var {
        target: u32,
        linkage: u32,
    },
    Datasec {
        size: u32,
        vars: Vec<BtfVarSecinfo>,
    },
    Float {
        size: u32,
    },
    DeclTag {
        target: u32,
        component_idx: i32,
    },
    TypeTag {
        target: u32,
    },
    Enum64 {
        size: u32,
        values: Vec<(u32, i64)>,
    },
}

/// One BTF type: its name (offset into the string table) and kind-specific data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfType {
    pub name_off: u32,
    pub kind: BtfKind,
}

/// A parsed `.BTF` blob.
#[derive(Debug, Clone, Default)]
pub struct Btf {
    /// Indexed by type id; entry 0 is `void`.
    types: Vec<BtfType>,
    strings: Vec<u8>,
    /// Byte offset in the blob of each type's record (entry 0 unused).
    offsets: Vec<usize>,
    /// Each type's `kind_flag` (bitfield member offsets, unsigned enums).
    kind_flags: Vec<bool>,
}

/// Modifier chains longer than this are treated as a cycle.
const MAX_RESOLVE_DEPTH: usize = 32;

fn rd_u32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn rd_u16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// Reads the NUL-terminated string at `off` of a string table.
pub(crate) fn str_at(table: &[u8], off: u32) -> Option<&str> {
    let rest = table.get(off as usize..)?;
    let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok()
}

impl Btf {
    /// Parses a whole `.BTF` section.
    pub fn parse(bytes: &[u8]) -> Result<Btf, BtfError> {
        let bad = || BtfError::BadHeader { len: bytes.len() };
        if rd_u16(bytes, 0).ok_or_else(bad)? != 0xeb9f {
            return Err(bad());
        }
        let hdr_len = rd_u32(bytes, 4).ok_or_else(bad)? as usize;
        let type_off = rd_u32(bytes, 8).ok_or_else(bad)? as usize;
        let type_len = rd_u32(bytes, 12).ok_or_else(bad)? as usize;
        let str_off = rd_u32(bytes, 16).ok_or_else(bad)? as usize;
        let str_len = rd_u32(bytes, 20).ok_or_else(bad)? as usize;
        let slice = |what, off: usize, len: usize| {
            let oob = BtfError::OutOfBounds {
                what,
                off,
                len,
                blob_len: bytes.len(),
            };
            let start = hdr_len.checked_add(off).ok_or(oob.clone())?;
            let end = start.checked_add(len).ok_or(oob.clone())?;
            bytes.get(start..end).ok_or(oob)
        };
        let type_data = slice("type section", type_off, type_len)?;
        let strings = slice("string section", str_off, str_len)?.to_vec();
        let mut types = vec![BtfType {
            name_off: 0,
            kind: BtfKind::Void,
        }];
        let mut offsets = vec![0usize];
        let mut kind_flags = vec![false];
        let mut off = 0usize;
        while off < type_data.len() {
            let id = types.len() as u32;
            let (ty, next) = parse_type(type_data, off, id)?;
            offsets.push(hdr_len + type_off + off);
            kind_flags.push(rd_u32(type_data, off + 4).is_some_and(|info| info >> 31 != 0));
            types.push(ty);
            off = next;
        }
        Ok(Btf { types, strings, offsets, kind_flags })
    }

    /// Number of type ids, including `void` (id 0).
    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.len() <= 1
    }

    /// The type with this id (`0` is `void`).
    /// Byte offset in the blob of type `id`'s record (its `name_off` word).
    pub fn record_offset(&self, id: u32) -> Option<usize> {
        self.offsets.get(id as usize).copied().filter(|_| id != 0)
    }

    /// The type's `kind_flag` bit (false for unknown ids).
    pub fn kind_flag(&self, id: u32) -> bool {
        self.kind_flags.get(id as usize).copied().unwrap_or(false)
    }

    /// Every type, with its id (`void` first).
    pub fn types(&self) -> impl Iterator<Item = (u32, &BtfType)> {
        self.types.iter().enumerate().map(|(i, t)| (i as u32, t))
    }

    pub fn type_by_id(&self, id: u32) -> Option<&BtfType> {
        self.types.get(id as usize)
    }

    /// A string from the BTF string table.
    pub fn string_at(&self, off: u32) -> Option<&str> {
        str_at(&self.strings, off)
    }

    /// The type's name, if it has one.
    pub fn name(&self, id: u32) -> Option<&str> {
        let t = self.type_by_id(id)?;
        self.string_at(t.name_off).filter(|s| !s.is_empty())
    }

    /// Follows typedef / const / volatile / restrict / type_tag to the underlying type id.
    pub fn resolve_modifiers(&self, id: u32) -> Option<u32> {
        let mut cur = id;
        for _ in 0..MAX_RESOLVE_DEPTH {
            match &self.type_by_id(cur)?.kind {
                BtfKind::Typedef { target }
                | BtfKind::Volatile { target }
                | BtfKind::Const { target }
                | BtfKind::Restrict { target }
                | BtfKind::TypeTag { target } => cur = *target,
                _ => return Some(cur),
            }
        }
        None
    }

    /// Size in bytes of a type (pointers are 8 bytes); `None` for void, functions,
    /// forward declarations, unknown ids and cycles.
    pub fn type_size(&self, id: u32) -> Option<u64> {
        self.type_size_depth(id, 0)
    }

    fn type_size_depth(&self, id: u32, depth: usize) -> Option<u64> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        let id = self.resolve_modifiers(id)?;
        match &self.type_by_id(id)?.kind {
            BtfKind::Int { size, .. }
            | BtfKind::Struct { size, .. }
            | BtfKind::Union { size, .. }
            | BtfKind::Enum { size, .. }
            | BtfKind::Enum64 { size, .. }
            | BtfKind::Float { size }
            | BtfKind::Datasec { size, .. } => Some(*size as u64),
            BtfKind::Ptr { .. } => Some(8),
            BtfKind::Array { elem, nelems, .. } => self
                .type_size_depth(*elem, depth + 1)?
                .checked_mul(*nelems as u64),
            BtfKind::Var { target, .. } => self.type_size_depth(*target, depth + 1),
            _ => None,
        }
    }

    /// The DATASEC named `name` (`.maps`, `.data`, `.kconfig`, ...), with its type id.
    pub fn find_datasec(&self, name: &str) -> Option<(u32, &[BtfVarSecinfo])> {
        self.types
            .iter()
            .enumerate()
            .find_map(|(id, t)| match &t.kind {
                BtfKind::Datasec { vars, .. } if self.string_at(t.name_off) == Some(name) => {
                    Some((id as u32, vars.as_slice()))
                }
                _ => None,
            })
    }

    /// The id of the first type of kind FUNC with this name.
    pub fn find_func(&self, name: &str) -> Option<u32> {
        self.types
            .iter()
            .enumerate()
            .find_map(|(id, t)| match t.kind {
                BtfKind::Func { .. } if self.string_at(t.name_off) == Some(name) => Some(id as u32),
                _ => None,
            })
    }
}

/// Parses the type record starting at `off`; returns it and the offset of the next one.
fn parse_type(b: &[u8], off: usize, id: u32) -> Result<(BtfType, usize), BtfError> {
    let trunc = || BtfError::TruncatedType { id, off };
    let name_off = rd_u32(b, off).ok_or_else(trunc)?;
    let info = rd_u32(b, off + 4).ok_or_else(trunc)?;
    let size_or_type = rd_u32(b, off + 8).ok_or_else(trunc)?;
    let vlen = (info & 0xffff) as usize;
    let k = (info >> 24) & 0x1f;
    let kind_flag = info >> 31 != 0;
    let mut p = off + 12;
    // Reads `n` records of `rec` bytes, each as a list of u32 words.
    let mut records = |n: usize, rec: usize| -> Result<Vec<Vec<u32>>, BtfError> {
        let total = n.checked_mul(rec).ok_or_else(trunc)?;
        let end = p.checked_add(total).ok_or_else(trunc)?;
        if end > b.len() {
            return Err(trunc());
        }
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let base = p + i * rec;
            out.push(
                (0..rec / 4)
                    .map(|w| rd_u32(b, base + w * 4).unwrap_or(0))
                    .collect(),
            );
        }
        p = end;
        Ok(out)
    };
    let kind = match k {
        kind::INT => {
            let v = records(1, 4)?[0][0];
            BtfKind::Int {
                size: size_or_type,
                encoding: ((v >> 24) & 0x0f) as u8,
                bit_offset: ((v >> 16) & 0xff) as u8,
                bits: (v & 0xff) as u8,
            }
        }
        kind::PTR => BtfKind::Ptr {
            target: size_or_type,
        },
        kind::ARRAY => {
            let r = &records(1, 12)?[0];
            BtfKind::Array {
                elem: r[0],
                index: r[1],
                nelems: r[2],
            }
        }
        kind::STRUCT | kind::UNION => {
            let members = records(vlen, 12)?
                .into_iter()
                .map(|r| BtfMember {
                    name_off: r[0],
                    type_id: r[1],
                    offset: r[2],
                })
                .collect();
            if k == kind::STRUCT {
                BtfKind::Struct {
                    size: size_or_type,
                    members,
                }
            } else {
                BtfKind::Union {
                    size: size_or_type,
                    members,
                }
            }
        }
        kind::ENUM => BtfKind::Enum {
            size: size_or_type,
            values: records(vlen, 8)?
                .into_iter()
                .map(|r| (r[0], r[1] as i32 as i64))
                .collect(),
        },
        kind::FWD => BtfKind::Fwd {
            is_union: kind_flag,
        },
        kind::TYPEDEF => BtfKind::Typedef {
            target: size_or_type,
        },
        kind::VOLATILE => BtfKind::Volatile {
            target: size_or_type,
        },
        kind::CONST => BtfKind::Const {
            target: size_or_type,
        },
        kind::RESTRICT => BtfKind::Restrict {
            target: size_or_type,
        },
        kind::FUNC => BtfKind::Func {
            proto: size_or_type,
            linkage: vlen as u16,
        },
        kind::FUNC_PROTO => BtfKind::FuncProto {
            ret: size_or_type,
            params: records(vlen, 8)?
                .into_iter()
                .map(|r| BtfParam {
                    name_off: r[0],
                    type_id: r[1],
                })
                .collect(),
        },
        kind::VAR => BtfKind::Var {
            target: size_or_type,
            linkage: records(1, 4)?[0][0],
        },
        kind::DATASEC => BtfKind::Datasec {
            size: size_or_type,
            vars: records(vlen, 12)?
                .into_iter()
                .map(|r| BtfVarSecinfo {
                    type_id: r[0],
                    offset: r[1],
                    size: r[2],
                })
                .collect(),
        },
        kind::FLOAT => BtfKind::Float { size: size_or_type },
        kind::DECL_TAG => BtfKind::DeclTag {
            target: size_or_type,
            component_idx: records(1, 4)?[0][0] as i32,
        },
        kind::TYPE_TAG => BtfKind::TypeTag {
            target: size_or_type,
        },
        kind::ENUM64 => BtfKind::Enum64 {
            size: size_or_type,
            values: records(vlen, 12)?
                .into_iter()
                .map(|r| (r[0], ((r[2] as u64) << 32 | r[1] as u64) as i64))
                .collect(),
        },
        _ => return Err(BtfError::UnknownKind { id, kind: k }),
    };
    Ok((BtfType { name_off, kind }, p))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a BTF blob from raw type words and a string table.
    pub(crate) fn blob(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let type_len = (types.len() * 4) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&0xeb9fu16.to_le_bytes());
        b.push(1);
        b.push(0);
        for w in [24u32, 0, type_len, type_len, strings.len() as u32] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        for w in types {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.extend_from_slice(strings);
        b
    }

    fn info(kind: u32, vlen: u32) -> u32 {
        (kind << 24) | vlen
    }

    #[test]
    fn parses_int_ptr_array_struct_and_sizes() {
        // strings: 0:"" 1:"int" 5:"s" 7:"a" 9:"p"
        let strings = b"\0int\0s\0a\0p\0";
        #[rustfmt::skip]
        let types = [
            // 1: int, 4 bytes, 32 bits signed
            1, info(kind::INT, 0), 4, (1 << 24) | 32,
            // 2: int *
            0, info(kind::PTR, 0), 1,
            // 3: int[10]
            0, info(kind::ARRAY, 0), 0, 1, 1, 10,
            // 4: struct s { int a; int *p; } size 16
            5, info(kind::STRUCT, 2), 16, 7, 1, 0, 9, 2, 64,
            // 5: const struct s
            0, info(kind::CONST, 0), 4,
        ];
        let btf = Btf::parse(&blob(&types, strings)).expect("valid BTF");
        assert_eq!(btf.len(), 6);
        assert_eq!(btf.name(1), Some("int"));
        assert_eq!(btf.type_size(1), Some(4));
        assert_eq!(btf.type_size(2), Some(8));
        assert_eq!(btf.type_size(3), Some(40));
        assert_eq!(btf.type_size(5), Some(16));
        assert_eq!(btf.resolve_modifiers(5), Some(4));
        assert_eq!(btf.type_size(0), None);
        match &btf.type_by_id(4).expect("struct").kind {
            BtfKind::Struct { members, .. } => {
                assert_eq!(members.len(), 2);
                assert_eq!(btf.string_at(members[1].name_off), Some("p"));
            }
            other => panic!("expected struct, got {other:?}"),
        }
    }

    #[test]
    fn modifier_cycle_does_not_hang() {
        #[rustfmt::skip]
        let types = [0, info(kind::TYPEDEF, 0), 2, 0, info(kind::CONST, 0), 1];
        let btf = Btf::parse(&blob(&types, b"\0")).expect("parses");
        assert_eq!(btf.resolve_modifiers(1), None);
        assert_eq!(btf.type_size(1), None);
    }

    #[test]
    fn truncated_and_bad_blobs_are_errors() {
        assert!(matches!(
            Btf::parse(&[0x9f, 0xeb]),
            Err(BtfError::BadHeader { .. })
        ));
        assert!(matches!(
            Btf::parse(b"hello world, this is not btf"),
            Err(BtfError::BadHeader { .. })
        ));
        let mut b = blob(&[1, info(kind::INT, 0), 4, 32], b"\0int\0");
        // Claim a longer type section than there is.
        b[12] = 200;
        assert!(matches!(Btf::parse(&b), Err(BtfError::OutOfBounds { .. })));
        // A struct whose members run past the end of the type section.
        let b = blob(&[0, info(kind::STRUCT, 5), 8, 0, 0], b"\0");
        assert!(matches!(
            Btf::parse(&b),
            Err(BtfError::TruncatedType { id: 1, .. })
        ));
        let b = blob(&[0, info(30, 0), 0], b"\0");
        assert!(matches!(
            Btf::parse(&b),
            Err(BtfError::UnknownKind { id: 1, kind: 30 })
        ));
    }

    #[test]
    fn finds_datasec_vars() {
        // 1: int; 2: var "m" of int; 3: datasec ".maps" { var 2 at 0 size 4 }
        let strings = b"\0int\0m\0.maps\0";
        #[rustfmt::skip]
        let types = [
            1, info(kind::INT, 0), 4, 32,
            5, info(kind::VAR, 0), 1, 1,
            7, info(kind::DATASEC, 1), 0, 2, 0, 4,
        ];
        let btf = Btf::parse(&blob(&types, strings)).expect("valid");
        let (id, vars) = btf.find_datasec(".maps").expect("datasec");
        assert_eq!(id, 3);
        assert_eq!(
            vars,
            &[BtfVarSecinfo {
                type_id: 2,
                offset: 0,
                size: 4
            }]
        );
        assert_eq!(btf.name(2), Some("m"));
        assert_eq!(btf.type_size(2), Some(4));
    }
}
