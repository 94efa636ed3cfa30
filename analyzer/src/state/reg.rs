//! The abstract value of one register: the kernel's `struct bpf_reg_state`, reduced
//! to what the verifier needs.
//!
//! A register is not initialised, a scalar (the `lattices::Scalar` reduced product),
//! or a pointer. A pointer is a base (`PtrKind`: ctx, stack, map value, packet, ...)
//! plus an offset split as the kernel splits it: a fixed part `off` and a variable
//! part `var` (a scalar; the constant 0 when the offset is fixed), an `id` shared by
//! copies of the same pointer (null checks and packet ranges apply to every copy),
//! and `ref_obj_id` for pointers that hold an acquired reference.
//!
//! Join of two registers of different kinds (or different maps) is `NotInit`'s
//! cousin `Unknown`: reading it is allowed only as a value that is never
//! dereferenced; the disjunctive state (`state::disjunct`) keeps such states apart
//! before it comes to that.

use lattices::{Lattice, Scalar, Thresholds};
use std::fmt;

/// The base a pointer points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PtrKind {
    /// The program's context (`PTR_TO_CTX`).
    Ctx,
    /// A stack frame (`PTR_TO_STACK`); `frame` is the call depth (0 = main).
    Stack { frame: u8 },
    /// A map itself (`CONST_PTR_TO_MAP`), by index into the object's maps.
    MapPtr { map: u32 },
    /// A map value (`PTR_TO_MAP_VALUE`).
    MapValue { map: u32 },
    /// A map key buffer passed to a callback (`PTR_TO_MAP_KEY`).
    MapKey { map: u32 },
    /// Packet data (`PTR_TO_PACKET`).
    Pkt,
    /// Packet metadata (`PTR_TO_PACKET_META`).
    PktMeta,
    /// One past the packet (`PTR_TO_PACKET_END`).
    PktEnd,
    /// Memory of a known size from a helper (`PTR_TO_MEM`, e.g. a ringbuf record).
    Mem { size: u32, rdonly: bool },
    /// `struct bpf_sock *`.
    Socket,
    /// `struct sock_common *`.
    SockCommon,
    /// `struct tcp_sock *`.
    TcpSock,
    /// A kernel object typed by BTF (`PTR_TO_BTF_ID`); accesses go through probe reads.
    BtfId,
    /// The address of a subprogram (callbacks), by its start pc.
    Func { pc: u32 },
    /// `struct bpf_flow_keys *` of flow dissector programs.
    FlowKeys,
}

impl PtrKind {
    /// Packet pointers (`pkt`, `pkt_meta`), whose id keys a proven range.
    pub fn is_packet(self) -> bool {
        matches!(self, PtrKind::Pkt | PtrKind::PktMeta)
    }

    /// Kinds a helper may return as NULL (so NULL joined with them keeps the kind).
    pub fn nullable(self) -> bool {
        matches!(
            self,
            PtrKind::MapValue { .. }
                | PtrKind::MapPtr { .. }
                | PtrKind::Mem { .. }
                | PtrKind::Socket
                | PtrKind::SockCommon
                | PtrKind::TcpSock
                | PtrKind::BtfId
        )
    }
}

/// A pointer register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ptr {
    pub kind: PtrKind,
    /// May be NULL (`*_OR_NULL` types): must be compared with 0 before use.
    pub maybe_null: bool,
    /// Fixed part of the offset.
    pub off: i32,
    /// Variable part of the offset.
    pub var: Scalar,
    /// Copies of the same pointer share an id (0: none).
    pub id: u32,
    /// Id of the acquired reference this pointer holds (0: none).
    pub ref_obj_id: u32,
    /// For `PtrKind::BtfId`: the kernel-BTF type id of the pointee (0: untyped, read-only).
    pub btf_id: u32,
    /// For `PtrKind::BtfId`: the kernel's `PTR_TRUSTED` / `PTR_UNTRUSTED` flags.
    pub trust: BtfTrust,
}

/// How far the kernel trusts a BTF pointer (`PTR_TRUSTED`, none, `PTR_UNTRUSTED`);
/// ordered from most to least trusted, so a join takes the maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum BtfTrust {
    /// `PTR_TRUSTED`: a valid object for the whole program (tracing args, struct_ops args).
    Trusted,
    /// No flag (the kernel's "old compat" pointers, e.g. walked in non-RCU tracing).
    #[default]
    Plain,
    /// `PTR_UNTRUSTED`: may be freed; only probe reads.
    Untrusted,
}

impl BtfTrust {
    /// The kernel's log prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            BtfTrust::Trusted => "trusted_",
            BtfTrust::Plain => "",
            BtfTrust::Untrusted => "untrusted_",
        }
    }
}

/// The id of the join of two pointers of the same kind whose joined fixed offset is `off`.
///
/// For most pointers id 0 means "no identity" (no NULL-check or reference correlation), so
/// differing ids join to 0. Packet pointers differ: id 0 is `data` itself, and the range
/// proven for an id is relative to the pointer's base plus its variable part, which every
/// pointer sharing the id has in common in any one execution (adding a variable to a packet
/// pointer gives a new id, as in the kernel), and the access check adds only the fixed
/// offset. A joined packet pointer keeps its id only if both sides had the same id and the
/// same fixed offset (their variable parts may differ: the check never reads them); a join
/// that would fold differing fixed offsets into the variable part gets
/// [`STALE_ID`](crate::exec::STALE_ID) (range 0), never 0, which would inherit `data`'s
/// range (a soundness bug found by the stack-aware soundness run, gen_1006).
fn joined_id(a: &Ptr, b: &Ptr, off: i32) -> u32 {
    if a.kind.is_packet() {
        // The variable parts may differ: per concrete execution, pointers sharing an id
        // share their base, and the range is checked against the fixed offset only.
        let same_origin = a.id == b.id && a.off == b.off && b.off == off;
        if same_origin {
            a.id
        } else {
            crate::exec::STALE_ID
        }
    } else if a.id == b.id {
        a.id
    } else {
        0
    }
}

impl Ptr {
    pub fn new(kind: PtrKind) -> Ptr {
        Ptr { kind, maybe_null: false, off: 0, var: Scalar::constant(0), id: 0, ref_obj_id: 0, btf_id: 0, trust: BtfTrust::Plain }
    }

    /// A typed kernel pointer (`PTR_TO_BTF_ID` of kernel-BTF type `btf_id`).
    pub fn btf(btf_id: u32, trust: BtfTrust) -> Ptr {
        Ptr { btf_id, trust, ..Ptr::new(PtrKind::BtfId) }
    }

    /// The offset as one scalar (fixed + variable), for bounds checks.
    pub fn total_off(&self) -> Scalar {
        Scalar::binop(lattices::BinOp::Add, lattices::BitWidth::W64, &self.var, &Scalar::constant(self.off as i64 as u64))
    }

    /// True when the offset has no variable part.
    pub fn has_fixed_off(&self) -> bool {
        self.var.const_value() == Some(0)
    }
}

/// The abstract value of one register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegState {
    /// Never written (`NOT_INIT`); reading it is `R%d !read_ok`.
    NotInit,
    Scalar(Scalar),
    Ptr(Ptr),
    /// Result of joining incompatible values: initialised, but nothing else is known;
    /// it may not be dereferenced, and it may be a pointer, so it may not leak.
    Unknown,
}

impl RegState {
    pub fn scalar(s: Scalar) -> RegState {
        RegState::Scalar(s)
    }

    pub fn unknown_scalar() -> RegState {
        RegState::Scalar(Scalar::unknown())
    }

    pub fn constant(v: u64) -> RegState {
        RegState::Scalar(Scalar::constant(v))
    }

    pub fn ptr(kind: PtrKind) -> RegState {
        RegState::Ptr(Ptr::new(kind))
    }

    /// A non-NULL typed kernel pointer to kernel-BTF type `btf_id` (no trust flag).
    pub fn btf_ptr(btf_id: u32) -> RegState {
        RegState::Ptr(Ptr::btf(btf_id, BtfTrust::Plain))
    }

    /// A typed kernel pointer with a trust flag.
    pub fn btf_ptr_with(btf_id: u32, trust: BtfTrust) -> RegState {
        RegState::Ptr(Ptr::btf(btf_id, trust))
    }

    /// A possibly-NULL typed kernel pointer; `id` ties its copies for the NULL check.
    pub fn btf_ptr_or_null(btf_id: u32, trust: BtfTrust, id: u32) -> RegState {
        let mut p = Ptr::btf(btf_id, trust);
        p.maybe_null = true;
        p.id = id;
        RegState::Ptr(p)
    }

    pub fn is_init(&self) -> bool {
        !matches!(self, RegState::NotInit)
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            RegState::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_ptr(&self) -> Option<&Ptr> {
        match self {
            RegState::Ptr(p) => Some(p),
            _ => None,
        }
    }

    /// A coarse "shape" used to decide which states may be joined without losing
    /// a distinction the kernel keeps (pointer kind and nullness, init-ness).
    pub fn shape(&self) -> u64 {
        match self {
            RegState::NotInit => 0,
            RegState::Unknown => 1,
            RegState::Scalar(_) => 2,
            RegState::Ptr(p) => {
                let k: u64 = match p.kind {
                    PtrKind::Ctx => 3,
                    PtrKind::Stack { frame } => 4 + ((frame as u64) << 8),
                    PtrKind::MapPtr { map } => 5 + ((map as u64) << 8),
                    PtrKind::MapValue { map } => 6 + ((map as u64) << 8),
                    PtrKind::MapKey { map } => 7 + ((map as u64) << 8),
                    PtrKind::Pkt => 8,
                    PtrKind::PktMeta => 9,
                    PtrKind::PktEnd => 10,
                    PtrKind::Mem { size, rdonly } => 11 + ((size as u64) << 8) + ((rdonly as u64) << 7),
                    PtrKind::Socket => 12,
                    PtrKind::SockCommon => 13,
                    PtrKind::TcpSock => 14,
                    PtrKind::BtfId => 15 + ((p.btf_id as u64) << 8),
                    PtrKind::Func { pc } => 16 + ((pc as u64) << 8),
                    PtrKind::FlowKeys => 17,
                };
                k.wrapping_mul(2).wrapping_add(p.maybe_null as u64)
            }
        }
    }

    /// Least upper bound of two register states.
    pub fn join(&self, other: &RegState) -> RegState {
        self.combine(other, |a, b| {
            let mut a = *a;
            a.join(b);
            a
        })
    }

    /// Widening of `self` by `newer`.
    pub fn widen(&self, newer: &RegState, t: &Thresholds) -> RegState {
        self.combine(newer, |a, b| a.widen(b, t))
    }

    /// Narrowing of `self` by `newer`.
    pub fn narrow(&self, newer: &RegState) -> RegState {
        self.combine(newer, |a, b| a.narrow(b))
    }

    fn combine(&self, other: &RegState, f: impl Fn(&Scalar, &Scalar) -> Scalar) -> RegState {
        use RegState::*;
        match (self, other) {
            (NotInit, _) | (_, NotInit) => NotInit,
            (Scalar(a), Scalar(b)) => Scalar(f(a, b).synced()),
            (Ptr(a), Ptr(b)) if a.kind == b.kind => {
                let (off, var) = if a.off == b.off {
                    (a.off, f(&a.var, &b.var).synced())
                } else {
                    // Fold differing fixed offsets into the variable part.
                    (0, f(&a.total_off(), &b.total_off()).synced())
                };
                Ptr(self::Ptr {
                    kind: a.kind,
                    maybe_null: a.maybe_null || b.maybe_null,
                    off,
                    var,
                    id: joined_id(a, b, off),
                    ref_obj_id: if a.ref_obj_id == b.ref_obj_id { a.ref_obj_id } else { 0 },
                    // Different pointee types: an untyped (read-only) BTF pointer.
                    btf_id: if a.btf_id == b.btf_id { a.btf_id } else { 0 },
                    trust: a.trust.max(b.trust),
                })
            }
            // NULL joined with a pointer that may be NULL: the pointer, now possibly NULL
            // (the kernel's `*_or_null` types mean exactly this).
            (Ptr(p), Scalar(z)) | (Scalar(z), Ptr(p)) if z.const_value() == Some(0) && p.kind.nullable() && p.off == 0 && p.has_fixed_off() => {
                let mut q = *p;
                q.maybe_null = true;
                Ptr(q)
            }
            _ => Unknown,
        }
    }

    /// Partial order: every concrete value of `self` is one of `other`.
    pub fn leq(&self, other: &RegState) -> bool {
        use RegState::*;
        match (self, other) {
            (_, NotInit) => true,
            (NotInit, _) => false,
            (_, Unknown) => true,
            (Unknown, _) => false,
            (Scalar(a), Scalar(b)) => a.leq(b),
            (Scalar(z), Ptr(p)) => p.maybe_null && z.const_value() == Some(0) && p.off == 0 && p.has_fixed_off(),
            (Ptr(a), Ptr(b)) => {
                a.kind == b.kind
                    && (!a.maybe_null || b.maybe_null)
                    && (a.id == b.id || if a.kind.is_packet() { b.id == crate::exec::STALE_ID } else { b.id == 0 })
                    && a.ref_obj_id == b.ref_obj_id
                    && (b.btf_id == 0 || a.btf_id == b.btf_id)
                    && a.trust <= b.trust
                    && if a.off == b.off { a.var.leq(&b.var) } else { a.total_off().leq(&b.total_off()) }
            }
            _ => false,
        }
    }
}

impl Ptr {
    /// The kernel's name of this pointer's type (`reg_type_str`): `map_value_or_null`,
    /// `ringbuf_mem`, `fp`, `pkt_end`, ...
    pub fn type_name(&self) -> String {
        let base = match self.kind {
            PtrKind::Ctx => "ctx",
            PtrKind::Stack { .. } => "fp",
            PtrKind::MapPtr { .. } => "map_ptr",
            PtrKind::MapValue { .. } => "map_value",
            PtrKind::MapKey { .. } => "map_key",
            PtrKind::Pkt => "pkt",
            PtrKind::PktMeta => "pkt_meta",
            PtrKind::PktEnd => "pkt_end",
            // A referenced helper memory is a ringbuf record (the only such helper).
            PtrKind::Mem { .. } if self.ref_obj_id != 0 => "ringbuf_mem",
            PtrKind::Mem { rdonly: true, .. } => "rdonly_mem",
            PtrKind::Mem { .. } => "mem",
            PtrKind::Socket => "sock",
            PtrKind::SockCommon => "sock_common",
            PtrKind::TcpSock => "tcp_sock",
            PtrKind::BtfId => "ptr_",
            PtrKind::Func { .. } => "func",
            PtrKind::FlowKeys => "flow_keys",
        };
        if self.kind == PtrKind::BtfId {
            // `reg_type_str`: "ptr_" with the "or_null_" postfix of BTF pointers.
            let null = if self.maybe_null { "or_null_" } else { "" };
            return format!("{}ptr_{null}", self.trust.prefix());
        }
        let base = base.to_string();
        if self.maybe_null {
            format!("{base}_or_null")
        } else {
            base
        }
    }

    /// The log name of a BTF pointer, as `print_verifier_state` writes it: the trust
    /// prefix, `ptr_`, `or_null_` when it may be NULL, then the struct's name
    /// (`trusted_ptr_or_null_task_struct`); `ptr_` for untyped pointers.
    fn btf_log_name(&self) -> String {
        let name = if self.btf_id == 0 { String::new() } else { crate::abi::btf_access::kernel_type_name(self.btf_id) };
        let null = if self.maybe_null { "or_null_" } else { "" };
        format!("{}ptr_{null}{name}", self.trust.prefix())
    }
}

/// Formats a register state in the kernel 6.18 log notation (`ctx()`, `fp-8`,
/// `map_value(map=m,ks=4,vs=8)`, `pkt(off=14,r=14)`, `scalar(...)`, `8`).
pub struct RegDisplay<'a> {
    pub reg: &'a RegState,
    /// Map names and sizes, by index: (name, key_size, value_size).
    pub maps: &'a [(String, u32, u32)],
    /// Packet range of the pointer's id, when it is a packet pointer.
    pub pkt_range: Option<u32>,
}

impl fmt::Display for RegDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reg {
            RegState::NotInit => write!(f, "?"),
            RegState::Unknown => write!(f, "unknown()"),
            RegState::Scalar(s) => write!(f, "{s}"),
            RegState::Ptr(p) => {
                if let PtrKind::Stack { .. } = p.kind {
                    if p.has_fixed_off() {
                        return write!(f, "fp{}", p.off);
                    }
                }
                let name = match p.kind {
                    PtrKind::Ctx => "ctx",
                    PtrKind::Stack { .. } => "fp",
                    PtrKind::MapPtr { .. } => "map_ptr",
                    PtrKind::MapValue { .. } => "map_value",
                    PtrKind::MapKey { .. } => "map_key",
                    PtrKind::Pkt => "pkt",
                    PtrKind::PktMeta => "pkt_meta",
                    PtrKind::PktEnd => "pkt_end",
                    PtrKind::Mem { rdonly: true, .. } => "rdonly_mem",
                    PtrKind::Mem { .. } => "mem",
                    PtrKind::Socket => "sock",
                    PtrKind::SockCommon => "sock_common",
                    PtrKind::TcpSock => "tcp_sock",
                    PtrKind::BtfId => "ptr_",
                    PtrKind::Func { .. } => "func",
                    PtrKind::FlowKeys => "flow_keys",
                };
                if p.kind == PtrKind::BtfId {
                    write!(f, "{}(", p.btf_log_name())?;
                } else {
                    write!(f, "{name}{}(", if p.maybe_null { "_or_null" } else { "" })?;
                }
                let mut parts: Vec<String> = Vec::new();
                if p.id != 0 {
                    parts.push(format!("id={}", p.id));
                }
                if p.ref_obj_id != 0 {
                    parts.push(format!("ref_obj_id={}", p.ref_obj_id));
                }
                match p.kind {
                    PtrKind::MapPtr { map } | PtrKind::MapValue { map } | PtrKind::MapKey { map } => {
                        if let Some((n, ks, vs)) = self.maps.get(map as usize) {
                            parts.push(format!("map={n},ks={ks},vs={vs}"));
                        }
                    }
                    PtrKind::Mem { size, .. } => parts.push(format!("sz={size}")),
                    _ => {}
                }
                if p.off != 0 {
                    parts.push(format!("off={}", p.off));
                }
                if let Some(r) = self.pkt_range {
                    if matches!(p.kind, PtrKind::Pkt | PtrKind::PktMeta) {
                        parts.push(format!("r={r}"));
                    }
                }
                if !p.has_fixed_off() {
                    let s = format!("{}", p.var);
                    let inner = s.strip_prefix("scalar(").and_then(|x| x.strip_suffix(')')).unwrap_or(&s);
                    if !inner.is_empty() {
                        parts.push(inner.to_string());
                    }
                }
                write!(f, "{})", parts.join(","))
            }
        }
    }
}
