//! Accesses through typed kernel pointers (`PTR_TO_BTF_ID`): the kernel's
//! `btf_struct_walk` for loads and the `tcp_congestion_ops` write rule
//! (`bpf_tcp_ca_btf_struct_access`, net/ipv4/bpf_tcp_ca.c) for stores.
//!
//! A load of `size` bytes at `off` of a struct walks the members: nested structs,
//! unions and arrays are entered, a pointer member read whole (8 bytes at its
//! offset) to a struct gives a new typed pointer (`WALK_PTR`), anything else inside
//! one member gives a scalar (`WALK_SCALAR`); an access past the struct or across a
//! member's end is refused with the kernel's words.
//!
//! Writes are refused (`only read is supported`) except, for struct_ops programs
//! implementing `tcp_congestion_ops`, to the handful of `tcp_sock` fields the kernel
//! lists (offsets taken from the kernel BTF by name, so they are the running kernel's).
//!
//! Precision loss: for a union we take the first member that covers the access (the
//! kernel tries them in order too, but it also retries later members on failure); a
//! pointer to a non-struct (e.g. `char *`) reads as a scalar, as in the kernel.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::elf::btf::{Btf, BtfKind, BtfMember};

/// What a load through a typed pointer gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Walk {
    /// Plain bytes.
    Scalar,
    /// A pointer to the struct with this (kernel) BTF id.
    Ptr { btf_id: u32 },
}

/// Struct/union ids by name in one BTF (the first of each name), built once for kernel BTF.
pub struct NameIndex {
    structs: HashMap<String, u32>,
    funcs: HashMap<String, u32>,
    typedefs: HashMap<String, u32>,
}

impl NameIndex {
    pub fn build(btf: &Btf) -> NameIndex {
        let mut ix = NameIndex { structs: HashMap::new(), funcs: HashMap::new(), typedefs: HashMap::new() };
        for id in 1..btf.len() as u32 {
            let (Some(t), Some(name)) = (btf.type_by_id(id), btf.name(id)) else { continue };
            let map = match t.kind {
                BtfKind::Struct { .. } | BtfKind::Union { .. } => &mut ix.structs,
                BtfKind::Func { .. } => &mut ix.funcs,
                BtfKind::Typedef { .. } => &mut ix.typedefs,
                _ => continue,
            };
            map.entry(name.to_string()).or_insert(id);
        }
        ix
    }

    pub fn struct_id(&self, name: &str) -> Option<u32> {
        self.structs.get(name).copied()
    }

    pub fn func_id(&self, name: &str) -> Option<u32> {
        self.funcs.get(name).copied()
    }

    pub fn typedef_id(&self, name: &str) -> Option<u32> {
        self.typedefs.get(name).copied()
    }
}

static KERNEL_INDEX: OnceLock<Option<NameIndex>> = OnceLock::new();

/// The kernel BTF with its name index, or None without kernel BTF.
pub fn kernel() -> Option<(&'static Btf, &'static NameIndex)> {
    let btf = crate::elf::vmlinux::kernel_btf()?;
    let ix = KERNEL_INDEX.get_or_init(|| Some(NameIndex::build(btf))).as_ref()?;
    Some((btf, ix))
}

/// The name of a kernel BTF type, for logs (`task_struct`); empty when unknown.
pub fn kernel_type_name(btf_id: u32) -> String {
    crate::elf::vmlinux::kernel_btf().and_then(|b| b.name(btf_id)).unwrap_or("").to_string()
}

fn members(btf: &Btf, id: u32) -> Option<(u32, &[BtfMember], bool)> {
    match &btf.type_by_id(id)?.kind {
        BtfKind::Struct { size, members } => Some((*size, members, false)),
        BtfKind::Union { size, members } => Some((*size, members, true)),
        _ => None,
    }
}

/// The struct (after modifiers) a pointer type points to, if it points to one.
pub fn ptr_to_struct(btf: &Btf, ptr_type: u32) -> Option<u32> {
    let p = btf.resolve_modifiers(ptr_type)?;
    let BtfKind::Ptr { target } = btf.type_by_id(p)?.kind else { return None };
    let s = btf.resolve_modifiers(target)?;
    members(btf, s).map(|_| s)
}

/// Bit offset -> byte offset of a member (bitfield members have the size in the high byte
/// when the parent's kind_flag is set; we do not see the flag, so a non-byte-aligned
/// offset is treated as a bitfield inside its byte).
fn member_byte_off(m: &BtfMember, kind_flag_guess: bool) -> u32 {
    let bits = if kind_flag_guess { m.offset & 0x00ff_ffff } else { m.offset };
    bits / 8
}

/// The kernel's `btf_struct_walk` for a load of `size` bytes at `off` of struct `id`.
pub fn struct_walk(btf: &Btf, id: u32, off: u32, size: u32) -> Result<Walk, String> {
    walk_depth(btf, id, off, size, 0)
}

fn walk_depth(btf: &Btf, id: u32, off: u32, size: u32, depth: u32) -> Result<Walk, String> {
    let id = btf.resolve_modifiers(id).ok_or("invalid BTF type")?;
    let tname = btf.name(id).unwrap_or("(anon)").to_string();
    if depth > 32 {
        return Err(format!("struct {tname} nested too deep"));
    }
    let Some((tsize, ms, _)) = members(btf, id) else {
        return Err(format!("Type '{tname}' is not a struct"));
    };
    if off.checked_add(size).is_none_or(|e| e > tsize) {
        return Err(format!("access beyond struct {tname} at off {off} size {size}"));
    }
    for m in ms {
        let moff = member_byte_off(m, m.offset > 0x00ff_ffff);
        let Some(mt) = btf.resolve_modifiers(m.type_id) else { continue };
        let Some(msize) = btf.type_size(mt) else { continue };
        if off < moff || off >= moff.saturating_add(msize as u32) {
            continue;
        }
        let mname = btf.string_at(m.name_off).unwrap_or("");
        let rel = off - moff;
        match &btf.type_by_id(mt).map(|t| &t.kind) {
            Some(BtfKind::Struct { .. } | BtfKind::Union { .. }) => return walk_depth(btf, mt, rel, size, depth + 1),
            Some(BtfKind::Array { elem, .. }) => {
                let Some(elem_t) = btf.resolve_modifiers(*elem) else { return Ok(Walk::Scalar) };
                let esize = btf.type_size(elem_t).unwrap_or(0) as u32;
                if esize == 0 {
                    return Ok(Walk::Scalar);
                }
                let erel = rel % esize;
                if members(btf, elem_t).is_some() {
                    return walk_depth(btf, elem_t, erel, size, depth + 1);
                }
                if off + size > moff + msize as u32 {
                    return Err(format!(
                        "access beyond the end of member {mname} (mend:{}) in struct {tname} with off {off} size {size}",
                        moff + msize as u32
                    ));
                }
                if matches!(btf.type_by_id(elem_t).map(|t| &t.kind), Some(BtfKind::Ptr { .. })) {
                    if erel != 0 || size != 8 {
                        return Err(format!(
                            "cannot access ptr member {mname} with moff {} in struct {tname} with off {off} size {size}",
                            moff + (rel - erel)
                        ));
                    }
                    if let Some(s) = ptr_to_struct(btf, elem_t) {
                        return Ok(Walk::Ptr { btf_id: s });
                    }
                }
                return Ok(Walk::Scalar);
            }
            Some(BtfKind::Ptr { .. }) => {
                if size != 8 || off != moff {
                    return Err(format!(
                        "cannot access ptr member {mname} with moff {moff} in struct {tname} with off {off} size {size}"
                    ));
                }
                if let Some(s) = ptr_to_struct(btf, mt) {
                    return Ok(Walk::Ptr { btf_id: s });
                }
                return Ok(Walk::Scalar);
            }
            _ => {
                if off + size > moff + msize as u32 {
                    return Err(format!(
                        "access beyond the end of member {mname} (mend:{}) in struct {tname} with off {off} size {size}",
                        moff + msize as u32
                    ));
                }
                return Ok(Walk::Scalar);
            }
        }
    }
    // Padding or a hole between members: the kernel reads it as a scalar.
    Ok(Walk::Scalar)
}

/// Byte offset and size of a member found by a path of names, searching embedded
/// (nested, also anonymous) structs and unions depth-first.
pub fn member_offset(btf: &Btf, id: u32, path: &[&str]) -> Option<(u32, u32)> {
    let (first, rest) = path.split_first()?;
    let (off, mt) = find_member(btf, id, first, 0)?;
    if rest.is_empty() {
        return Some((off, btf.type_size(mt)? as u32));
    }
    let (o, s) = member_offset(btf, mt, rest)?;
    Some((off + o, s))
}

fn find_member(btf: &Btf, id: u32, name: &str, depth: u32) -> Option<(u32, u32)> {
    if depth > 16 {
        return None;
    }
    let id = btf.resolve_modifiers(id)?;
    let (_, ms, _) = members(btf, id)?;
    for m in ms {
        let moff = member_byte_off(m, m.offset > 0x00ff_ffff);
        let mt = btf.resolve_modifiers(m.type_id)?;
        if btf.string_at(m.name_off) == Some(name) {
            return Some((moff, mt));
        }
    }
    for m in ms {
        let moff = member_byte_off(m, m.offset > 0x00ff_ffff);
        let Some(mt) = btf.resolve_modifiers(m.type_id) else { continue };
        if members(btf, mt).is_some() {
            if let Some((o, t)) = find_member(btf, mt, name, depth + 1) {
                return Some((moff + o, t));
            }
        }
    }
    None
}

/// True when struct `id` is `target` or embeds it at offset 0, through first members
/// (the kernel's `btf_struct_ids_match` without strict matching: `tcp_sock` is a `sock`,
/// is a `sock_common`).
pub fn struct_starts_with(btf: &Btf, id: u32, target: u32) -> bool {
    let mut cur = id;
    for _ in 0..16 {
        if cur == target {
            return true;
        }
        let Some((_, ms, false)) = members(btf, cur) else { return false };
        let Some(first) = ms.first().filter(|m| m.offset & 0x00ff_ffff == 0) else { return false };
        let Some(next) = btf.resolve_modifiers(first.type_id) else { return false };
        cur = next;
    }
    false
}

/// `bpf_tcp_ca_btf_struct_access`: may a `tcp_congestion_ops` program write `size`
/// bytes at `off` of the object typed `btf_id`? Err carries the kernel's message.
pub fn tcp_ca_write(btf: &Btf, ix: &NameIndex, btf_id: u32, off: i64, size: u32) -> Result<(), String> {
    let tcp_sock = ix.struct_id("tcp_sock");
    if tcp_sock != Some(btf_id) {
        return Err("only read is supported".to_string());
    }
    let ts = btf_id;
    // (path in tcp_sock, whole range allowed: `bpf_ctx_range` for icsk_ca_priv).
    const FIELDS: &[(&[&str], bool)] = &[
        (&["sk_pacing_rate"], false),
        (&["sk_pacing_status"], false),
        (&["icsk_ca_priv"], true),
        (&["icsk_ack", "pending"], false),
        (&["snd_cwnd"], false),
        (&["snd_cwnd_cnt"], false),
        (&["snd_cwnd_stamp"], false),
        (&["snd_ssthresh"], false),
        (&["ecn_flags"], false),
        (&["app_limited"], false),
    ];
    let mut end = None;
    for (path, range) in FIELDS {
        let Some((o, s)) = member_offset(btf, ts, path) else { continue };
        let (o, e) = (o as i64, o as i64 + s as i64);
        if off == o || (*range && off >= o && off < e) {
            end = Some(e);
            break;
        }
    }
    let Some(end) = end else {
        return Err(format!("no write support to tcp_sock at off {off}"));
    };
    if off + size as i64 > end {
        return Err(format!(
            "write access at off {off} with size {size} beyond the member of tcp_sock ended at {end}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::btf::kind;
    use crate::elf::btf::tests::blob;

    fn info(k: u32, vlen: u32) -> u32 {
        (k << 24) | vlen
    }

    /// 1 int; 2 struct inner { int x; int y; }; 3 struct inner *; 4 struct outer {
    /// int a; struct inner in; struct inner *p; int arr[2]; char *s } (size 40); 5 char; 6 char *
    fn sample() -> Btf {
        let strings = b"\0int\0inner\0x\0y\0outer\0a\0in\0p\0arr\0s\0char\0";
        // offsets: int=1 inner=5 x=11 y=13 outer=15 a=21 in=23 p=26 arr=28 s=32 char=34
        #[rustfmt::skip]
        let types = [
            1, info(kind::INT, 0), 4, 32,
            5, info(kind::STRUCT, 2), 8, 11, 1, 0, 13, 1, 32,
            0, info(kind::PTR, 0), 2,
            15, info(kind::STRUCT, 5), 40, 21, 1, 0, 23, 2, 32, 26, 3, 128, 28, 7, 192, 32, 6, 256,
            34, info(kind::INT, 0), 1, 8,
            0, info(kind::PTR, 0), 5,
            0, info(kind::ARRAY, 0), 0, 1, 1, 2,
        ];
        Btf::parse(&blob(&types, strings)).expect("valid BTF")
    }

    #[test]
    fn walk_scalars_pointers_and_errors() {
        let b = sample();
        assert_eq!(struct_walk(&b, 4, 0, 4), Ok(Walk::Scalar));
        // Nested struct member y at 4+4.
        assert_eq!(struct_walk(&b, 4, 8, 4), Ok(Walk::Scalar));
        // A narrower read inside an int is fine.
        assert_eq!(struct_walk(&b, 4, 9, 1), Ok(Walk::Scalar));
        assert_eq!(struct_walk(&b, 4, 16, 8), Ok(Walk::Ptr { btf_id: 2 }));
        // Pointer to char is a scalar.
        assert_eq!(struct_walk(&b, 4, 32, 8), Ok(Walk::Scalar));
        assert_eq!(struct_walk(&b, 4, 28, 4), Ok(Walk::Scalar));
        let e = struct_walk(&b, 4, 16, 4).expect_err("partial pointer");
        assert!(e.starts_with("cannot access ptr member p"), "{e}");
        let e = struct_walk(&b, 4, 40, 1).expect_err("beyond");
        assert_eq!(e, "access beyond struct outer at off 40 size 1");
        let e = struct_walk(&b, 4, 2, 4).expect_err("across member end");
        assert!(e.starts_with("access beyond the end of member a"), "{e}");
    }

    #[test]
    fn member_offsets_by_path() {
        let b = sample();
        assert_eq!(member_offset(&b, 4, &["in", "y"]), Some((8, 4)));
        // Found through the embedded struct without naming it.
        assert_eq!(member_offset(&b, 4, &["y"]), Some((8, 4)));
        assert_eq!(member_offset(&b, 4, &["nope"]), None);
    }

    #[test]
    fn tcp_ca_write_rule_on_kernel_btf() {
        let Some((btf, ix)) = kernel() else {
            eprintln!("skipped: no kernel BTF");
            return;
        };
        let ts = ix.struct_id("tcp_sock").expect("tcp_sock in vmlinux");
        let (cwnd, _) = member_offset(btf, ts, &["snd_cwnd"]).expect("snd_cwnd");
        assert_eq!(tcp_ca_write(btf, ix, ts, cwnd as i64, 4), Ok(()));
        let e = tcp_ca_write(btf, ix, ts, cwnd as i64, 8).expect_err("too wide");
        assert!(e.contains("beyond the member of tcp_sock"), "{e}");
        let (priv_off, _) = member_offset(btf, ts, &["icsk_ca_priv"]).expect("icsk_ca_priv");
        assert_eq!(tcp_ca_write(btf, ix, ts, priv_off as i64 + 8, 4), Ok(()));
        let (mss, _) = member_offset(btf, ts, &["mss_cache"]).expect("mss_cache");
        assert_eq!(tcp_ca_write(btf, ix, ts, mss as i64, 4), Err(format!("no write support to tcp_sock at off {mss}")));
        let sock = ix.struct_id("sock").expect("sock");
        assert_eq!(tcp_ca_write(btf, ix, sock, 0, 4), Err("only read is supported".to_string()));
        let sc = ix.struct_id("sock_common").expect("sock_common");
        assert!(struct_starts_with(btf, ts, sc));
        assert!(struct_starts_with(btf, sock, sc));
        assert!(!struct_starts_with(btf, ix.struct_id("task_struct").expect("task"), sc));
        // task_struct->pid is a scalar, ->parent... a pointer to a struct.
        let task = ix.struct_id("task_struct").expect("task_struct");
        let (pid, _) = member_offset(btf, task, &["pid"]).expect("pid");
        assert_eq!(struct_walk(btf, task, pid, 4), Ok(Walk::Scalar));
        let (parent, _) = member_offset(btf, task, &["real_parent"]).expect("real_parent");
        assert_eq!(struct_walk(btf, task, parent, 8), Ok(Walk::Ptr { btf_id: task }));
    }
}
