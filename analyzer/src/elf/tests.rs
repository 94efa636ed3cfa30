//! Unit tests of the loader on crafted ELF bytes: one per `LoadError` variant, linking of
//! `.text` subprograms, map / global data / extern relocations, BTF maps, and a
//! mutation test that the loader never panics.

use super::*;
use crate::insn::RawInsn;
use crate::object::MapOrigin;
use crate::prog_type::ProgType;

const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
const SHT_NOBITS: u32 = 8;
const SHT_REL: u32 = 9;
const SHF_ALLOC: u64 = 2;
const SHF_EXEC: u64 = 4;
const STT_NOTYPE: u8 = 0;
const STT_OBJECT: u8 = 1;
const STT_FUNC: u8 = 2;
const STT_SECTION: u8 = 3;
const R_BPF_64_64: u32 = 1;
const R_BPF_64_32: u32 = 10;

struct Sec {
    name: String,
    sh_type: u32,
    flags: u64,
    data: Vec<u8>,
    /// For NOBITS.
    size: u64,
}

/// A minimal 64-bit little-endian ELF writer for tests.
struct ElfBuilder {
    machine: u16,
    secs: Vec<Sec>,
    /// (name, type, section index (0 = undefined), value); index 0 is the null symbol.
    syms: Vec<(String, u8, u16, u64)>,
    /// (section index, offset, symbol index, type).
    rels: Vec<(usize, u64, u32, u32)>,
    /// (symbol index, st_size) for symbols with a size (others get 0).
    sym_sizes: Vec<(u32, u64)>,
}

fn ins(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
    RawInsn {
        code,
        dst,
        src,
        off,
        imm,
    }
}

fn bytes_of(insns: &[RawInsn]) -> Vec<u8> {
    insns.iter().flat_map(|i| i.to_bytes()).collect()
}

const EXIT: RawInsn = RawInsn {
    code: 0x95,
    dst: 0,
    src: 0,
    off: 0,
    imm: 0,
};

impl ElfBuilder {
    fn new() -> Self {
        ElfBuilder {
            machine: 247,
            secs: Vec::new(),
            syms: Vec::new(),
            rels: Vec::new(),
            sym_sizes: Vec::new(),
        }
    }

    /// Adds a section; returns its ELF index.
    fn section(&mut self, name: &str, sh_type: u32, flags: u64, data: Vec<u8>) -> u16 {
        let size = data.len() as u64;
        self.secs.push(Sec {
            name: name.into(),
            sh_type,
            flags,
            data,
            size,
        });
        self.secs.len() as u16
    }

    fn code(&mut self, name: &str, insns: &[RawInsn]) -> u16 {
        self.section(name, SHT_PROGBITS, SHF_ALLOC | SHF_EXEC, bytes_of(insns))
    }

    fn bss(&mut self, name: &str, size: u64) -> u16 {
        self.secs.push(Sec {
            name: name.into(),
            sh_type: SHT_NOBITS,
            flags: SHF_ALLOC | 1,
            data: Vec::new(),
            size,
        });
        self.secs.len() as u16
    }

    /// Adds a symbol; returns its symbol index.
    fn sym(&mut self, name: &str, st_type: u8, shndx: u16, value: u64) -> u32 {
        self.syms.push((name.into(), st_type, shndx, value));
        self.syms.len() as u32
    }

    fn rel(&mut self, sec: u16, offset: u64, sym: u32, r_type: u32) {
        self.rels.push((sec as usize, offset, sym, r_type));
    }

    fn build(&self) -> Vec<u8> {
        let mut shstr = vec![0u8];
        let add_str = |tab: &mut Vec<u8>, s: &str| -> u32 {
            let off = tab.len() as u32;
            tab.extend_from_slice(s.as_bytes());
            tab.push(0);
            off
        };
        // Section list: null, user sections, .rel*, .symtab, .strtab, .shstrtab.
        struct Out {
            name: u32,
            sh_type: u32,
            flags: u64,
            data: Vec<u8>,
            size: u64,
            link: u32,
            info: u32,
            entsize: u64,
        }
        let mut out: Vec<Out> = vec![Out {
            name: 0,
            sh_type: 0,
            flags: 0,
            data: vec![],
            size: 0,
            link: 0,
            info: 0,
            entsize: 0,
        }];
        for s in &self.secs {
            let name = add_str(&mut shstr, &s.name);
            out.push(Out {
                name,
                sh_type: s.sh_type,
                flags: s.flags,
                data: s.data.clone(),
                size: s.size,
                link: 0,
                info: 0,
                entsize: 0,
            });
        }
        let n_user = self.secs.len();
        let symtab_idx = (1
            + n_user
            + self
                .secs
                .iter()
                .enumerate()
                .filter(|(i, _)| self.rels.iter().any(|r| r.0 == i + 1))
                .count()) as u32;
        for (i, s) in self.secs.iter().enumerate() {
            let rels: Vec<_> = self.rels.iter().filter(|r| r.0 == i + 1).collect();
            if rels.is_empty() {
                continue;
            }
            let mut data = Vec::new();
            for (_, off, sym, ty) in rels {
                data.extend_from_slice(&off.to_le_bytes());
                data.extend_from_slice(&(((*sym as u64) << 32) | *ty as u64).to_le_bytes());
            }
            let name = add_str(&mut shstr, &format!(".rel{}", s.name));
            let size = data.len() as u64;
            out.push(Out {
                name,
                sh_type: SHT_REL,
                flags: 0,
                data,
                size,
                link: symtab_idx,
                info: (i + 1) as u32,
                entsize: 16,
            });
        }
        let mut strtab = vec![0u8];
        let mut symtab = vec![0u8; 24];
        for (k, (name, ty, shndx, value)) in self.syms.iter().enumerate() {
            let size = self
                .sym_sizes
                .iter()
                .find(|(i, _)| *i as usize == k + 1)
                .map_or(0, |(_, sz)| *sz);
            let n = add_str(&mut strtab, name);
            symtab.extend_from_slice(&n.to_le_bytes());
            symtab.push((1 << 4) | ty); // STB_GLOBAL
            symtab.push(0);
            symtab.extend_from_slice(&shndx.to_le_bytes());
            symtab.extend_from_slice(&value.to_le_bytes());
            symtab.extend_from_slice(&size.to_le_bytes());
        }
        let name = add_str(&mut shstr, ".symtab");
        let size = symtab.len() as u64;
        out.push(Out {
            name,
            sh_type: SHT_SYMTAB,
            flags: 0,
            data: symtab,
            size,
            link: symtab_idx + 1,
            info: 1,
            entsize: 24,
        });
        let name = add_str(&mut shstr, ".strtab");
        let size = strtab.len() as u64;
        out.push(Out {
            name,
            sh_type: SHT_STRTAB,
            flags: 0,
            data: strtab,
            size,
            link: 0,
            info: 0,
            entsize: 0,
        });
        let name = add_str(&mut shstr, ".shstrtab");
        let shstrndx = out.len() as u16;
        let size = shstr.len() as u64;
        out.push(Out {
            name,
            sh_type: SHT_STRTAB,
            flags: 0,
            data: shstr,
            size,
            link: 0,
            info: 0,
            entsize: 0,
        });

        let mut file = vec![0u8; 64];
        let mut offsets = Vec::new();
        for s in &out {
            while !file.len().is_multiple_of(8) {
                file.push(0);
            }
            offsets.push(file.len() as u64);
            file.extend_from_slice(&s.data);
        }
        while !file.len().is_multiple_of(8) {
            file.push(0);
        }
        let shoff = file.len() as u64;
        for (s, off) in out.iter().zip(&offsets) {
            file.extend_from_slice(&s.name.to_le_bytes());
            file.extend_from_slice(&s.sh_type.to_le_bytes());
            file.extend_from_slice(&s.flags.to_le_bytes());
            file.extend_from_slice(&0u64.to_le_bytes()); // addr
            file.extend_from_slice(&off.to_le_bytes());
            file.extend_from_slice(&s.size.to_le_bytes());
            file.extend_from_slice(&s.link.to_le_bytes());
            file.extend_from_slice(&s.info.to_le_bytes());
            file.extend_from_slice(&8u64.to_le_bytes()); // align
            file.extend_from_slice(&s.entsize.to_le_bytes());
        }
        let h = &mut file[0..64];
        h[0..4].copy_from_slice(b"\x7fELF");
        h[4] = 2; // ELFCLASS64
        h[5] = 1; // little-endian
        h[6] = 1; // EV_CURRENT
        h[16..18].copy_from_slice(&1u16.to_le_bytes()); // ET_REL
        h[18..20].copy_from_slice(&self.machine.to_le_bytes());
        h[20..24].copy_from_slice(&1u32.to_le_bytes());
        h[40..48].copy_from_slice(&shoff.to_le_bytes());
        h[52..54].copy_from_slice(&64u16.to_le_bytes()); // ehsize
        h[58..60].copy_from_slice(&64u16.to_le_bytes()); // shentsize
        h[60..62].copy_from_slice(&(out.len() as u16).to_le_bytes());
        h[62..64].copy_from_slice(&shstrndx.to_le_bytes());
        file
    }
}

/// xdp/entry calls .text/sub through its FUNC symbol and (after the test's patch) .text/leaf
/// through the section symbol; sub calls .text/leaf without a relocation.
fn linked_object() -> ElfBuilder {
    let mut b = ElfBuilder::new();
    let text = b.code(
        ".text",
        &[
            ins(0x85, 0, 1, 0, 1), // 0 sub: call leaf (pc 2), same section, no relocation
            EXIT,                  // 1
            ins(0xb7, 0, 0, 0, 7), // 2 leaf: r0 = 7
            EXIT,                  // 3
        ],
    );
    let xdp = b.code(
        "xdp",
        &[ins(0x85, 0, 1, 0, -1), ins(0x85, 0, 1, 0, -1), EXIT],
    );
    b.section("license", SHT_PROGBITS, SHF_ALLOC | 1, b"GPL\0".to_vec());
    b.section(
        "version",
        SHT_PROGBITS,
        SHF_ALLOC | 1,
        0x060c00u32.to_le_bytes().to_vec(),
    );
    let text_sec = b.sym("", STT_SECTION, text, 0);
    let sub = b.sym("sub", STT_FUNC, text, 0);
    b.sym("leaf", STT_FUNC, text, 16);
    b.sym("entry", STT_FUNC, xdp, 0);
    b.rel(xdp, 0, sub, R_BPF_64_32);
    b.rel(xdp, 8, text_sec, R_BPF_64_32);
    b
}

#[test]
fn links_text_subprograms_once_with_relative_imms() {
    let mut b = linked_object();
    // The second call goes through the section symbol, as clang relocates static
    // functions: imm = target insn - 1, here leaf (insn 2).
    b.secs[1].data[8 + 4..8 + 8].copy_from_slice(&1i32.to_le_bytes());
    let obj = load_object_bytes("t.o", &b.build()).expect("loads");
    assert_eq!(obj.license.as_deref(), Some("GPL"));
    assert_eq!(obj.kern_version, Some(0x060c00));
    let names: Vec<_> = obj
        .programs
        .iter()
        .map(|p| (p.section.as_str(), p.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [(".text", "sub"), (".text", "leaf"), ("xdp", "entry")]
    );
    let p = &obj.programs[2];
    assert_eq!(p.prog_type, ProgType::Xdp);
    assert_eq!(
        p.functions,
        vec![
            (0, "entry".to_string()),
            (3, "sub".to_string()),
            (5, "leaf".to_string())
        ]
    );
    assert_eq!(p.insns.len(), 7);
    // pc 0: call sub (pc 3) -> imm 2; pc 1: call leaf (pc 5) -> imm 3; pc 3: call leaf -> imm 1.
    assert_eq!((p.insns[0].src, p.insns[0].imm), (1, 2));
    assert_eq!((p.insns[1].src, p.insns[1].imm), (1, 3));
    assert_eq!((p.insns[3].src, p.insns[3].imm), (1, 1));
    assert_eq!(p.insns[5], ins(0xb7, 0, 0, 0, 7));
    // The standalone .text program `sub` gets leaf appended too.
    let sub = &obj.programs[0];
    assert_eq!(
        sub.functions,
        vec![(0, "sub".to_string()), (2, "leaf".to_string())]
    );
    assert_eq!(sub.insns[0].imm, 1);
}

#[test]
fn map_data_and_extern_relocations() {
    let mut b = ElfBuilder::new();
    let ld = |dst| [ins(0x18, dst, 0, 0, 0), ins(0, 0, 0, 0, 0)];
    let mut code = Vec::new();
    for d in 1..=5 {
        code.extend(ld(d));
    }
    code.push(ins(0x85, 0, 1, 0, -1)); // pc 10: call memset
    code.push(EXIT);
    let prog = b.code("socket", &code);
    let mut maps = Vec::new();
    for def in [[1u32, 4, 8, 16, 0], [2, 4, 12, 1, 0]] {
        for w in def {
            maps.extend_from_slice(&w.to_le_bytes());
        }
    }
    let maps_sec = b.section("maps", SHT_PROGBITS, SHF_ALLOC | 1, maps);
    let rodata = b.section(
        ".rodata",
        SHT_PROGBITS,
        SHF_ALLOC,
        vec![1, 2, 3, 4, 5, 6, 7, 8],
    );
    let bss = b.bss(".bss", 16);
    b.sym("entry", STT_FUNC, prog, 0);
    b.sym("hash", STT_OBJECT, maps_sec, 0);
    let arr = b.sym("arr", STT_OBJECT, maps_sec, 20);
    let cst = b.sym("cst", STT_OBJECT, rodata, 4);
    let bss_sec = b.sym("", STT_SECTION, bss, 0);
    let cookie = b.sym("LINUX_HAS_BPF_COOKIE", STT_NOTYPE, 0, 0);
    let my_const = b.sym("MY_CONST", STT_NOTYPE, 0, 0);
    let memset = b.sym("memset", STT_NOTYPE, 0, 0);
    b.rel(prog, 0, arr, R_BPF_64_64);
    b.rel(prog, 16, cst, R_BPF_64_64);
    b.rel(prog, 32, bss_sec, R_BPF_64_64);
    b.rel(prog, 48, cookie, R_BPF_64_64);
    b.rel(prog, 64, my_const, R_BPF_64_64);
    b.rel(prog, 80, memset, R_BPF_64_32);
    // The .bss reference points 8 bytes in, through the section symbol (offset in imm).
    b.secs[0].data[32 + 4..32 + 8].copy_from_slice(&8i32.to_le_bytes());
    let obj = load_object_bytes("m.o", &b.build()).expect("loads");

    let names: Vec<_> = obj.maps.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["hash", "arr", ".rodata", ".bss"]);
    assert_eq!(
        (
            obj.maps[1].map_type,
            obj.maps[1].value_size,
            obj.maps[1].origin.clone()
        ),
        (2, 12, MapOrigin::Legacy)
    );
    assert_eq!(
        obj.maps[2].initial_value.as_deref(),
        Some(&[1u8, 2, 3, 4, 5, 6, 7, 8][..])
    );
    assert!(obj.maps[2].is_readonly_data());
    assert_eq!(
        (obj.maps[3].value_size, obj.maps[3].initial_value.as_deref()),
        (16, Some(&[0u8; 16][..]))
    );

    let p = &obj.programs[0];
    assert_eq!(
        (p.insns[0].src, p.insns[0].imm, p.insns[1].imm),
        (5, 1, 0),
        "map by index"
    );
    assert_eq!(
        (p.insns[2].src, p.insns[2].imm, p.insns[3].imm),
        (6, 2, 4),
        ".rodata + 4"
    );
    assert_eq!(
        (p.insns[4].src, p.insns[4].imm, p.insns[5].imm),
        (6, 3, 8),
        ".bss + 8"
    );
    assert_eq!(
        (p.insns[6].src, p.insns[6].imm, p.insns[7].imm),
        (0, 1, 0),
        "LINUX_HAS_BPF_COOKIE = 1"
    );
    assert_eq!(
        (p.insns[8].src, p.insns[8].imm, p.insns[9].imm),
        (0, 0, 0),
        "MY_CONST = 0"
    );
    assert_eq!(
        p.functions,
        vec![(0, "entry".to_string()), (12, "memset".to_string())]
    );
    assert_eq!(
        (p.insns[10].src, p.insns[10].imm),
        (1, 1),
        "call to the appended memset"
    );
    assert_eq!(p.insns.last(), Some(&EXIT));
}

#[test]
fn btf_defined_map() {
    use super::btf::kind;
    use super::btf::tests::blob;
    let info = |k: u32, vlen: u32| (k << 24) | vlen;
    // strings: 1 "int", 5 "type", 10 "max_entries", 22 "key", 26 "value", 32 "my_map", 39 ".maps", 45 "val"
    let strings = b"\0int\0type\0max_entries\0key\0value\0my_map\0.maps\0val\0";
    #[rustfmt::skip]
    let types = [
        1, info(kind::INT, 0), 4, 32,               // 1 int
        0, info(kind::ARRAY, 0), 0, 1, 1, 1,        // 2 int[1] (BPF_MAP_TYPE_HASH)
        0, info(kind::PTR, 0), 2,                   // 3
        0, info(kind::ARRAY, 0), 0, 1, 1, 16,       // 4 int[16]
        0, info(kind::PTR, 0), 4,                   // 5
        0, info(kind::PTR, 0), 1,                   // 6 int *
        45, info(kind::STRUCT, 0), 12,              // 7 struct val (12 bytes)
        0, info(kind::PTR, 0), 7,                   // 8
        0, info(kind::STRUCT, 4), 32,               // 9 the definition
        5, 3, 0, 10, 5, 64, 22, 6, 128, 26, 8, 192,
        32, info(kind::VAR, 0), 9, 1,               // 10 my_map
        39, info(kind::DATASEC, 1), 32, 10, 0, 32,  // 11 .maps
    ];
    let mut b = ElfBuilder::new();
    let prog = b.code(
        "kprobe/x",
        &[ins(0x18, 1, 0, 0, 0), ins(0, 0, 0, 0, 0), EXIT],
    );
    let maps = b.section(".maps", SHT_PROGBITS, SHF_ALLOC | 1, vec![0; 32]);
    b.section(".BTF", SHT_PROGBITS, 0, blob(&types, strings));
    b.sym("f", STT_FUNC, prog, 0);
    let m = b.sym("my_map", STT_OBJECT, maps, 0);
    b.rel(prog, 0, m, R_BPF_64_64);
    let obj = load_object_bytes("b.o", &b.build()).expect("loads");
    assert_eq!(obj.maps.len(), 1);
    let d = &obj.maps[0];
    assert_eq!(
        (
            d.name.as_str(),
            d.map_type,
            d.key_size,
            d.value_size,
            d.max_entries,
            d.btf_key_type_id,
            d.btf_value_type_id
        ),
        ("my_map", 1, 4, 12, 16, 1, 7)
    );
    assert_eq!(d.origin, MapOrigin::BtfMaps);
    assert!(obj.btf.is_some());
    assert_eq!(
        (obj.programs[0].insns[0].src, obj.programs[0].insns[0].imm),
        (5, 0)
    );
    assert_eq!(obj.programs[0].prog_type, ProgType::Kprobe);
}

#[test]
fn error_not_elf() {
    assert!(
        matches!(load_object_bytes("x", b"hello"), Err(LoadError::NotElf { file }) if file == "x")
    );
    assert!(matches!(
        load_object_bytes("x", b""),
        Err(LoadError::NotElf { .. })
    ));
}

#[test]
fn error_truncated() {
    let bytes = linked_object().build();
    assert!(matches!(
        load_object_bytes("t", &bytes[..40]),
        Err(LoadError::Truncated { .. })
    ));
    // The section header table sits at the end: cutting it off is reported as truncation.
    assert!(matches!(
        load_object_bytes("t", &bytes[..bytes.len() - 10]),
        Err(LoadError::Truncated { .. })
    ));
}

#[test]
fn error_wrong_machine() {
    let mut b = linked_object();
    b.machine = 62;
    assert!(matches!(
        load_object_bytes("t", &b.build()),
        Err(LoadError::NotBpf { machine: 62, .. })
    ));
    b.machine = 0; // EM_NONE from old clang is accepted.
    assert!(load_object_bytes("t", &b.build()).is_ok());
}

#[test]
fn error_section_size_not_multiple_of_8() {
    let mut b = ElfBuilder::new();
    let s = b.section(
        "xdp",
        SHT_PROGBITS,
        SHF_ALLOC | SHF_EXEC,
        vec![0x95, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    );
    b.sym("f", STT_FUNC, s, 0);
    let err = load_object_bytes("t", &b.build()).expect_err("12-byte code section");
    assert!(
        matches!(err, LoadError::SectionSizeNotMultipleOf8 { ref section, size: 12, .. } if section == "xdp"),
        "{err}"
    );
}

#[test]
fn error_relocation_against_unknown_symbol() {
    let mut b = linked_object();
    b.rels[0].2 = 99;
    let err = load_object_bytes("t", &b.build()).expect_err("bad symbol");
    assert!(
        matches!(&err, LoadError::BadRelocation { section, offset: 0, reason, .. } if section == "xdp" && reason.contains("unknown symbol #99")),
        "{err}"
    );
}

#[test]
fn error_relocation_offset_out_of_range() {
    let mut b = linked_object();
    b.rels[0].1 = 800;
    let err = load_object_bytes("t", &b.build()).expect_err("bad offset");
    assert!(
        matches!(&err, LoadError::BadRelocation { offset: 800, .. }),
        "{err}"
    );
    b.rels[0].1 = 4;
    assert!(matches!(
        load_object_bytes("t", &b.build()),
        Err(LoadError::BadRelocation { offset: 4, .. })
    ));
}

#[test]
fn error_unknown_map_and_bad_call_target() {
    let mut b = ElfBuilder::new();
    let prog = b.code("xdp", &[ins(0x18, 1, 0, 0, 0), ins(0, 0, 0, 0, 0), EXIT]);
    let maps = b.section("maps", SHT_PROGBITS, SHF_ALLOC | 1, vec![0; 20]);
    b.sym("f", STT_FUNC, prog, 0);
    b.sym("m", STT_OBJECT, maps, 0);
    let sec = b.sym("", STT_SECTION, maps, 0);
    b.rel(prog, 0, sec, R_BPF_64_64);
    // Section symbol + imm 12 is not the start of any definition.
    b.secs[0].data[4..8].copy_from_slice(&12i32.to_le_bytes());
    let err = load_object_bytes("t", &b.build()).expect_err("no map at offset 12");
    assert!(
        matches!(&err, LoadError::UnknownMap { section, offset: 0, .. } if section == "xdp"),
        "{err}"
    );

    let mut b = ElfBuilder::new();
    let prog = b.code("xdp", &[ins(0x85, 0, 1, 0, 5), EXIT]);
    b.sym("f", STT_FUNC, prog, 0);
    let err = load_object_bytes("t", &b.build()).expect_err("call past the end");
    assert!(
        matches!(
            &err,
            LoadError::BadCallTarget {
                insn: 0,
                target: 6,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn error_io_names_the_file() {
    let err = load_object(std::path::Path::new("/nonexistent/x.o")).expect_err("missing file");
    assert!(matches!(&err, LoadError::Io { file, .. } if file == "/nonexistent/x.o"));
    assert!(err.to_string().contains("/nonexistent/x.o"));
}

#[test]
fn objects_without_function_symbols_are_one_program_per_section() {
    let mut b = ElfBuilder::new();
    b.code("2/1", &[ins(0xb7, 0, 0, 0, 0), EXIT]);
    b.code("from-container", &[EXIT]);
    let obj = load_object_bytes("cilium/bpf_lxc.o", &b.build()).expect("loads");
    let got: Vec<_> = obj
        .programs
        .iter()
        .map(|p| (p.section.as_str(), p.name.as_str(), p.prog_type))
        .collect();
    assert_eq!(
        got,
        [
            ("2/1", "2/1", ProgType::SchedCls),
            ("from-container", "from-container", ProgType::SchedCls)
        ]
    );
    assert_eq!(obj.license, None);
}

/// Deterministic mutations (byte flips, truncations) of a valid object: any result but a panic.
#[test]
fn mutated_objects_never_panic() {
    let base = {
        let mut b = linked_object();
        let m = b.section("maps", SHT_PROGBITS, SHF_ALLOC | 1, vec![1; 40]);
        b.sym("m1", STT_OBJECT, m, 0);
        b.sym("m2", STT_OBJECT, m, 20);
        b.build()
    };
    assert!(load_object_bytes("base", &base).is_ok());
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut errors = 0;
    for round in 0..4000 {
        let mut bytes = base.clone();
        for _ in 0..1 + round % 4 {
            let pos = (next() as usize) % bytes.len();
            bytes[pos] = next() as u8;
        }
        if round % 5 == 0 {
            bytes.truncate((next() as usize) % bytes.len());
        }
        let r = std::panic::catch_unwind(|| {
            load_object_bytes("fuzz", &bytes).map(|o| o.programs.len())
        });
        match r {
            Err(_) => panic!("loader panicked on mutation round {round}"),
            Ok(Err(_)) => errors += 1,
            Ok(Ok(_)) => {}
        }
    }
    assert!(errors > 0, "some mutations must be rejected");
}

/// `struct bpf_elf_map` (iproute2/cilium, 36 bytes): type, size_key, size_value,
/// max_elem, flags, id, pinning, inner_id, inner_idx.
fn elf_map(fields: [u32; 9]) -> Vec<u8> {
    fields.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn legacy_map_in_map_inner_by_inner_id() {
    // As in cilium's bpf_xdp_dsr_linux.o: the outer map names its inner map by
    // `inner_id` 3, the `id` of the inner template; `inner_idx` 0 is *not* a reference.
    let mut b = ElfBuilder::new();
    let prog = b.code("xdp", &[ins(0x18, 1, 0, 0, 0), ins(0, 0, 0, 0, 0), EXIT]);
    let mut data = elf_map([6, 4, 28, 1, 0, 0, 2, 0, 0]); // scratch (map 0)
    data.extend(elf_map([2, 4, 4078, 1, 0, 3, 0, 0, 0])); // inner template, id 3
    data.extend(elf_map([13, 2, 4, 65536, 0, 0, 2, 3, 0])); // hash of maps, inner_id 3
    data.extend(elf_map([12, 4, 4, 8, 0, 0, 0, 9, 0])); // inner_id 9 matches nothing
    let maps = b.section("maps", SHT_PROGBITS, SHF_ALLOC | 1, data);
    b.sym("f", STT_FUNC, prog, 0);
    b.sym("scratch", STT_OBJECT, maps, 0);
    b.sym("maglev_inner", STT_OBJECT, maps, 36);
    let outer = b.sym("maglev", STT_OBJECT, maps, 72);
    b.sym("dangling", STT_OBJECT, maps, 108);
    b.rel(prog, 0, outer, R_BPF_64_64);
    let obj = load_object_bytes("lb.o", &b.build()).expect("loads");
    let names: Vec<_> = obj.maps.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["scratch", "maglev_inner", "maglev", "dangling"]);
    let inner = obj.maps[2]
        .inner
        .as_deref()
        .expect("maglev has an inner map");
    assert_eq!(
        (inner.name.as_str(), inner.map_type, inner.value_size),
        ("maglev_inner", 2, 4078)
    );
    assert_eq!(obj.maps[3].inner, None, "unknown inner_id: no inner map");
    assert_eq!(obj.maps[1].inner, None, "not a map-in-map");
    assert_eq!(
        (obj.programs[0].insns[0].src, obj.programs[0].insns[0].imm),
        (5, 2)
    );
}

#[test]
fn legacy_map_in_map_inner_by_index_in_28_byte_defs() {
    // samples' `struct bpf_load_map_def`: inner_map_idx at byte 20.
    let mut b = ElfBuilder::new();
    let prog = b.code("kprobe/x", &[EXIT]);
    let def = |f: [u32; 7]| f.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>();
    let mut data = def([1, 4, 8, 1, 0, 0, 0]);
    data.extend(def([2, 4, 16, 1, 0, 0, 0]));
    data.extend(def([12, 4, 4, 4, 0, 1, 0])); // inner_map_idx 1
    let maps = b.section("maps", SHT_PROGBITS, SHF_ALLOC | 1, data);
    b.sym("f", STT_FUNC, prog, 0);
    b.sym("a", STT_OBJECT, maps, 0);
    b.sym("b", STT_OBJECT, maps, 28);
    b.sym("outer", STT_OBJECT, maps, 56);
    let obj = load_object_bytes("s.o", &b.build()).expect("loads");
    let inner = obj.maps[2].inner.as_deref().expect("inner map");
    assert_eq!((inner.name.as_str(), inner.value_size), ("b", 16));
}

#[test]
fn type_none_relocation_on_ld_imm64_is_resolved() {
    // ovs' datapath.o (old LLVM) relocates its maps with type 0 (R_BPF_NONE).
    let mut b = ElfBuilder::new();
    let prog = b.code(
        "tail-1",
        &[
            ins(0x18, 2, 0, 0, 0),
            ins(0, 0, 0, 0, 0),
            ins(0xb7, 0, 0, 0, 0),
            EXIT,
        ],
    );
    let maps = b.section(
        "maps",
        SHT_PROGBITS,
        SHF_ALLOC | 1,
        elf_map([1, 4, 8, 16, 0, 0, 0, 0, 0])
            .into_iter()
            .chain(elf_map([2, 4, 8, 1, 0, 0, 0, 0, 0]))
            .collect(),
    );
    b.sym("f", STT_FUNC, prog, 0);
    b.sym("first", STT_OBJECT, maps, 0);
    let second = b.sym("second", STT_OBJECT, maps, 36);
    b.rel(prog, 0, second, 0);
    // A type-0 entry on an ordinary insn (e.g. debug info leftovers) is ignored.
    b.rel(prog, 16, second, 0);
    let obj = load_object_bytes("ovs.o", &b.build()).expect("loads");
    let p = &obj.programs[0];
    assert_eq!((p.insns[0].src, p.insns[0].imm, p.insns[1].imm), (5, 1, 0));
    assert_eq!(p.insns[2], ins(0xb7, 0, 0, 0, 0));
}

#[test]
fn kconfig_extern_read_through_the_kconfig_map() {
    use super::btf::kind;
    use super::btf::tests::blob;
    let info = |k: u32, vlen: u32| (k << 24) | vlen;
    // strings: 1 "_Bool", 7 "unsigned int", 20 "LINUX_HAS_BPF_COOKIE",
    // 41 "LINUX_KERNEL_VERSION", 62 ".kconfig"
    let strings = b"\0_Bool\0unsigned int\0LINUX_HAS_BPF_COOKIE\0LINUX_KERNEL_VERSION\0.kconfig\0";
    #[rustfmt::skip]
    let types = [
        1, info(kind::INT, 0), 1, (4 << 24) | 8,   // 1 _Bool
        7, info(kind::INT, 0), 4, 32,              // 2 unsigned int
        20, info(kind::VAR, 0), 1, 2,              // 3 extern _Bool LINUX_HAS_BPF_COOKIE
        41, info(kind::VAR, 0), 2, 2,              // 4 extern unsigned LINUX_KERNEL_VERSION
        62, info(kind::DATASEC, 2), 0, 3, 0, 1, 4, 0, 4, // 5 .kconfig (size, offsets 0)
    ];
    let mut b = ElfBuilder::new();
    let prog = b.code(
        "usdt",
        &[
            ins(0x18, 2, 0, 0, 0), // r2 = &LINUX_HAS_BPF_COOKIE
            ins(0, 0, 0, 0, 0),
            ins(0x71, 2, 2, 0, 0), // r2 = *(u8 *)(r2 + 0)
            ins(0x18, 3, 0, 0, 0), // r3 = &LINUX_KERNEL_VERSION
            ins(0, 0, 0, 0, 0),
            ins(0x18, 4, 0, 0, 0), // r4 = MY_CONST (untyped extern: a constant)
            ins(0, 0, 0, 0, 0),
            EXIT,
        ],
    );
    b.section(".rodata", SHT_PROGBITS, SHF_ALLOC, vec![7; 8]);
    b.section(".BTF", SHT_PROGBITS, 0, blob(&types, strings));
    b.sym("f", STT_FUNC, prog, 0);
    let cookie = b.sym("LINUX_HAS_BPF_COOKIE", STT_NOTYPE, 0, 0);
    let version = b.sym("LINUX_KERNEL_VERSION", STT_NOTYPE, 0, 0);
    let my_const = b.sym("MY_CONST", STT_NOTYPE, 0, 0);
    b.rel(prog, 0, cookie, R_BPF_64_64);
    b.rel(prog, 24, version, R_BPF_64_64);
    b.rel(prog, 40, my_const, R_BPF_64_64);
    let obj = load_object_bytes("usdt.o", &b.build()).expect("loads");

    let names: Vec<_> = obj.maps.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [".rodata", ".kconfig"],
        "kconfig map after global data"
    );
    let k = &obj.maps[1];
    assert_eq!(
        (
            k.map_type,
            k.key_size,
            k.value_size,
            k.max_entries,
            k.map_flags
        ),
        (2, 4, 5, 1, 0x80)
    );
    assert_eq!(
        k.origin,
        MapOrigin::GlobalData {
            section: ".kconfig".into()
        }
    );
    assert!(k.is_readonly_data());
    // LINUX_KERNEL_VERSION (align 4) at 0, LINUX_HAS_BPF_COOKIE (align 1) at 4.
    assert_eq!(
        k.initial_value.as_deref(),
        Some(&[0x00, 0x12, 0x06, 0, 1][..])
    );
    let p = &obj.programs[0];
    assert_eq!(
        (p.insns[0].src, p.insns[0].imm, p.insns[1].imm),
        (6, 1, 4),
        "cookie: map value of .kconfig + 4"
    );
    assert_eq!(
        (p.insns[3].src, p.insns[3].imm, p.insns[4].imm),
        (6, 1, 0),
        "version: map value of .kconfig + 0"
    );
    assert_eq!(
        (p.insns[5].src, p.insns[5].imm, p.insns[6].imm),
        (0, 0, 0),
        "MY_CONST stays the constant 0"
    );
}

#[test]
fn function_length_comes_from_st_size() {
    // As in cilium-ebpf's linked-el.elf (bpftool gen object): `l1` has st_size 16 and is
    // followed by dead code of an overridden weak function before the next symbol.
    let mut b = ElfBuilder::new();
    let text = b.code(
        ".text",
        &[
            ins(0xb7, 0, 0, 0, 0),
            EXIT,
            ins(0xb7, 0, 0, 0, 35), // dead
            EXIT,                   // dead
            ins(0xb7, 0, 0, 0, 1),
            EXIT,
        ],
    );
    let prog = b.code("socket", &[ins(0x85, 0, 1, 0, -1), EXIT]);
    let l1 = b.sym("l1", STT_FUNC, text, 0);
    b.sym_sizes.push((l1, 16));
    b.sym("unsized", STT_FUNC, text, 32); // st_size 0: up to the end of the section
    let entry = b.sym("entry", STT_FUNC, prog, 0);
    b.sym_sizes.push((entry, 16));
    b.rel(prog, 0, l1, R_BPF_64_32);
    let obj = load_object_bytes("linked.o", &b.build()).expect("loads");
    let by_name = |n: &str| obj.programs.iter().find(|p| p.name == n).expect("program");
    assert_eq!(by_name("l1").insns, vec![ins(0xb7, 0, 0, 0, 0), EXIT]);
    assert_eq!(by_name("unsized").insns, vec![ins(0xb7, 0, 0, 0, 1), EXIT]);
    let e = by_name("entry");
    assert_eq!(
        e.functions,
        vec![(0, "entry".to_string()), (2, "l1".to_string())]
    );
    assert_eq!(e.insns.len(), 4, "l1 appended without its dead tail");
    assert_eq!((e.insns[0].src, e.insns[0].imm), (1, 1));
}
