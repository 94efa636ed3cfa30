//! Context (`R1` at entry) layouts and the kernel's `is_valid_access` rules per program type.
//!
//! Ports, from Linux 6.18 (net/core/filter.c, kernel/trace/bpf_trace.c, kernel/bpf/{cgroup,syscall,btf}.c,
//! drivers/media/rc/bpf-lirc.c): `sk_filter_is_valid_access`, `tc_cls_act_is_valid_access`,
//! `cg_skb_is_valid_access`, `lwt_is_valid_access`, `sk_skb_is_valid_access`,
//! `flow_dissector_is_valid_access` (all through `bpf_skb_is_valid_access`), `xdp_is_valid_access`,
//! `sock_filter_is_valid_access` / `bpf_sock_is_valid_access`, `sock_addr_is_valid_access`,
//! `sock_ops_is_valid_access`, `sk_msg_is_valid_access`, `cgroup_dev_is_valid_access`,
//! `sysctl_is_valid_access`, `sk_reuseport_is_valid_access`, `cg_sockopt_is_valid_access`,
//! `sk_lookup_is_valid_access`, `nf_is_valid_access`, `kprobe_prog_is_valid_access`,
//! `tp_prog_is_valid_access`, `pe_prog_is_valid_access`, `raw_tp_prog_is_valid_access`,
//! `raw_tp_writable_prog_is_valid_access`, `syscall_prog_is_valid_access`, `lirc_mode2_is_valid_access`,
//! together with `bpf_ctx_narrow_access_ok` / `bpf_ctx_wide_access_ok`.
//! Struct offsets are those of the UAPI structs on x86_64 (`struct pt_regs` is 168 bytes).
//!
//! Every rule is checked against `testdata/ctx_probe.tsv`: the live 6.18 kernel's verdict on every
//! load and store of size 1/2/4/8 at offsets -8..231 for each loadable program/attach type.
//!
//! Faithfully ported quirks: tracepoint programs may read at *negative* offsets (the kernel compares
//! `off < sizeof(void *)` unsigned); `__sk_buff->data`/`data_end`/`data_meta` must be 4-byte loads.
//!
//! Approximations: tracing/lsm/struct_ops/ext contexts are BTF-typed function arguments; without the
//! target's BTF every 8-byte-aligned argument slot (up to `MAX_BPF_FUNC_ARGS`) reads as a scalar.
//! When `attach` is `None` for a type whose rules depend on it, cgroup_sock uses the kernel's default
//! (`BPF_CGROUP_INET_SOCK_CREATE`), and cgroup_sock_addr / cgroup_sockopt allow what any attach type allows.

use crate::prog_type::{AttachType, ProgType};

/// What a valid ctx load yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtxFieldKind {
    Scalar,
    PktData,
    PktEnd,
    PktMeta,
    /// e.g. __sk_buff->sk, sk_reuseport_md->migrating_sk
    SockCommonOrNull,
    /// e.g. bpf_sock_ops->sk, bpf_sk_lookup->sk
    SocketOrNull,
    /// Non-NULL socket: sk_msg_md->sk, bpf_sock_addr->sk, sk_reuseport_md->sk, bpf_sockopt->sk.
    Socket,
    FlowKeys,
    /// raw_tracepoint_writable ctx at offset 0 (`PTR_TO_TP_BUFFER`).
    TpBuffer,
    /// tracing ctx args (btf ptr) - treat as scalar if unknown; netfilter's `state`/`skb`.
    BtfId,
}

/// A valid ctx access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxAccess {
    pub kind: CtxFieldKind,
    /// the load result is a scalar of at most this many bytes (narrow loads zero-extend)
    pub size: u32,
}

/// Access sizes as a bit set: bit `n` allows size `1 << n`.
#[derive(Clone, Copy)]
struct Sizes(u8);
const NONE: Sizes = Sizes(0);
const S1: u8 = 1;
const S2: u8 = 2;
const S4: u8 = 4;
const S8: u8 = 8;
/// Narrow loads of a 4-byte field (`bpf_ctx_narrow_access_ok` with size_default 4).
const N: Sizes = Sizes(S1 | S2 | S4);
const W4: Sizes = Sizes(S4);
const W8: Sizes = Sizes(S8);
const ANY: Sizes = Sizes(S1 | S2 | S4 | S8);

impl Sizes {
    fn has(self, size: u32) -> bool {
        matches!(size, 1 | 2 | 4 | 8) && u32::from(self.0) & size != 0
    }
}

/// When a field entry applies.
#[derive(Clone, Copy)]
enum Cond {
    Always,
    /// Only for these expected attach types (any, when the attach type is unknown).
    Attach(&'static [AttachType]),
}

/// One region of a ctx struct: accesses of an allowed size, aligned to that size, that lie inside
/// `[off, off+len)` are valid. Overlapping entries are fine: an access is valid if any entry allows it.
#[derive(Clone, Copy)]
struct Field {
    off: i64,
    len: i64,
    read: Sizes,
    write: Sizes,
    /// Narrow accesses only at `off` (the kernel's `case offsetof(...)` without `bpf_ctx_range`).
    start_only: bool,
    kind: CtxFieldKind,
    cond: Cond,
}

const fn r(off: i64, len: i64, read: Sizes) -> Field {
    Field { off, len, read, write: NONE, start_only: false, kind: CtxFieldKind::Scalar, cond: Cond::Always }
}
const fn rw(off: i64, len: i64, read: Sizes, write: Sizes) -> Field {
    Field { off, len, read, write, start_only: false, kind: CtxFieldKind::Scalar, cond: Cond::Always }
}
const fn w(off: i64, len: i64, write: Sizes) -> Field {
    Field { off, len, read: NONE, write, start_only: false, kind: CtxFieldKind::Scalar, cond: Cond::Always }
}
const fn ptr(off: i64, len: i64, kind: CtxFieldKind) -> Field {
    let size = if len == 4 { W4 } else { W8 };
    Field { off, len, read: size, write: NONE, start_only: false, kind, cond: Cond::Always }
}
const fn start(mut f: Field) -> Field {
    f.start_only = true;
    f
}
const fn when(mut f: Field, attach: &'static [AttachType]) -> Field {
    f.cond = Cond::Attach(attach);
    f
}

use CtxFieldKind::*;

// struct __sk_buff (192 bytes): len 0, pkt_type 4, mark 8, queue_mapping 12, protocol 16, vlan_present 20,
// vlan_tci 24, vlan_proto 28, priority 32, ingress_ifindex 36, ifindex 40, tc_index 44, cb[5] 48,
// hash 68, tc_classid 72, data 76, data_end 80, napi_id 84, family 88, remote_ip4 92, local_ip4 96,
// remote_ip6 100, local_ip6 116, remote_port 132, local_port 136, data_meta 140, flow_keys 144,
// tstamp 152, wire_len 160, gso_segs 164, sk 168, gso_size 176, tstamp_type 180, hwtstamp 184.

const CB: Field = rw(48, 20, Sizes(S8), ANY);

/// `sk_filter_is_valid_access`.
const SKB_SOCKET_FILTER: &[Field] = &[
    r(0, 72, N),
    CB,
    r(84, 4, N),
    r(164, 4, N),
    ptr(168, 8, SockCommonOrNull),
    r(176, 4, N),
];

/// `tc_cls_act_is_valid_access`.
const SKB_TC: &[Field] = &[
    r(0, 76, N),
    CB,
    ptr(76, 4, PktData),
    ptr(80, 4, PktEnd),
    r(84, 4, N),
    ptr(140, 4, PktMeta),
    rw(152, 8, W8, W8),
    r(160, 8, N),
    ptr(168, 8, SockCommonOrNull),
    r(176, 4, N),
    r(180, 1, Sizes(S1)),
    r(184, 8, W8),
    w(8, 8, W4),
    w(32, 4, W4),
    w(44, 4, W4),
    w(72, 4, W4),
];

/// `cg_skb_is_valid_access`.
const SKB_CGROUP: &[Field] = &[
    r(0, 72, N),
    CB,
    ptr(76, 4, PktData),
    ptr(80, 4, PktEnd),
    r(84, 8, N),
    r(92, 40, W4),
    r(132, 8, N),
    rw(152, 8, W8, W8),
    r(164, 4, N),
    ptr(168, 8, SockCommonOrNull),
    r(176, 4, N),
    r(184, 8, W8),
    w(8, 4, W4),
    w(32, 4, W4),
];

/// `lwt_is_valid_access` (lwt_in/out/xmit, lwt_seg6local).
const SKB_LWT: &[Field] = &[
    r(0, 72, N),
    CB,
    ptr(76, 4, PktData),
    ptr(80, 4, PktEnd),
    r(84, 4, N),
    r(164, 4, N),
    ptr(168, 8, SockCommonOrNull),
    r(176, 4, N),
    w(8, 4, W4),
    w(32, 4, W4),
];

/// `sk_skb_is_valid_access` (no mark, no cb writes, tc_index/priority writable).
const SKB_SK_SKB: &[Field] = &[
    r(0, 8, N),
    r(12, 60, N),
    r(48, 20, Sizes(S8)),
    ptr(76, 4, PktData),
    ptr(80, 4, PktEnd),
    r(84, 8, N),
    r(92, 40, W4),
    r(132, 8, N),
    r(164, 4, N),
    ptr(168, 8, SockCommonOrNull),
    r(176, 4, N),
    w(32, 4, W4),
    w(44, 4, W4),
];

/// `flow_dissector_is_valid_access`.
const SKB_FLOW_DISSECTOR: &[Field] = &[ptr(76, 4, PktData), ptr(80, 4, PktEnd), ptr(144, 8, FlowKeys)];

/// struct xdp_md: data 0, data_end 4, data_meta 8, ingress_ifindex 12, rx_queue_index 16, egress_ifindex 20.
const XDP_MD: &[Field] = &[
    ptr(0, 4, PktData),
    ptr(4, 4, PktEnd),
    ptr(8, 4, PktMeta),
    r(12, 8, W4),
    when(r(20, 4, W4), &[AttachType::XdpDevmap]),
];

const SOCK_CREATE: &[AttachType] = &[AttachType::CgroupInetSockCreate, AttachType::CgroupInetSockRelease];
const POST_BIND: &[AttachType] = &[AttachType::CgroupInet4PostBind, AttachType::CgroupInet6PostBind];

/// struct bpf_sock for cgroup_sock: `sock_filter_is_valid_access` + `bpf_sock_is_valid_access`.
/// bound_dev_if 0, family 4, type 8, protocol 12, mark 16, priority 20, src_ip4 24, src_ip6 28,
/// src_port 44, dst_port 48 (u16), dst_ip4 52, dst_ip6 56, state 72, rx_queue_mapping 76.
const BPF_SOCK_CG: &[Field] = &[
    when(rw(0, 4, W4, W4), SOCK_CREATE),
    start(r(4, 4, N)),
    start(r(8, 4, N)),
    start(r(12, 4, N)),
    when(rw(16, 8, W4, W4), SOCK_CREATE),
    when(r(24, 4, N), &[AttachType::CgroupInet4PostBind]),
    when(r(28, 16, N), &[AttachType::CgroupInet6PostBind]),
    when(start(r(44, 4, N)), POST_BIND),
    r(48, 2, Sizes(S1 | S2)),
    r(48, 4, W4),
    r(52, 20, N),
    start(r(72, 4, N)),
    start(r(76, 4, N)),
];

const V4: &[AttachType] = &[
    AttachType::CgroupInet4Bind,
    AttachType::CgroupInet4Connect,
    AttachType::CgroupInet4Getpeername,
    AttachType::CgroupInet4Getsockname,
    AttachType::CgroupUdp4Sendmsg,
    AttachType::CgroupUdp4Recvmsg,
];
const V6: &[AttachType] = &[
    AttachType::CgroupInet6Bind,
    AttachType::CgroupInet6Connect,
    AttachType::CgroupInet6Getpeername,
    AttachType::CgroupInet6Getsockname,
    AttachType::CgroupUdp6Sendmsg,
    AttachType::CgroupUdp6Recvmsg,
];

/// struct bpf_sock_addr: user_family 0, user_ip4 4, user_ip6 8, user_port 24, family 28, type 32,
/// protocol 36, msg_src_ip4 40, msg_src_ip6 44, sk 64.
const SOCK_ADDR: &[Field] = &[
    r(0, 4, W4),
    when(rw(4, 4, N, W4), V4),
    when(rw(8, 16, ANY, Sizes(S4 | S8)), V6),
    rw(24, 4, N, W4),
    r(28, 12, W4),
    when(rw(40, 4, N, W4), &[AttachType::CgroupUdp4Sendmsg]),
    when(rw(44, 16, ANY, Sizes(S4 | S8)), &[AttachType::CgroupUdp6Sendmsg]),
    ptr(64, 8, Socket),
];

/// struct bpf_sock_ops: op 0, reply/args 4.., ... sk_txhash 164, bytes_received 168, bytes_acked 176,
/// sk 184, skb_data 192, skb_data_end 200, skb_len 208, skb_tcp_flags 212, skb_hwtstamp 216.
const SOCK_OPS: &[Field] = &[
    r(0, 168, W4),
    r(168, 16, W8),
    ptr(184, 8, SocketOrNull),
    ptr(192, 8, PktData),
    ptr(200, 8, PktEnd),
    r(208, 4, W4),
    start(r(212, 4, N)),
    r(216, 8, W8),
    w(4, 4, W4),
    w(164, 4, W4),
];

/// struct sk_msg_md: data 0, data_end 8, family 16 .. size 68, sk 72.
const SK_MSG: &[Field] = &[ptr(0, 8, PktData), ptr(8, 8, PktEnd), r(16, 56, W4), ptr(72, 8, Socket)];

/// struct bpf_cgroup_dev_ctx: access_type 0, major 4, minor 8.
const CGROUP_DEV: &[Field] = &[r(0, 4, N), r(4, 8, W4)];

/// struct bpf_sysctl: write 0, file_pos 4 (writable).
const SYSCTL: &[Field] = &[r(0, 8, N), w(4, 4, W4)];

/// struct sk_reuseport_md: data 0, data_end 8, len 16, eth_protocol 20, ip_protocol 24, bind_inany 28,
/// hash 32, sk 40, migrating_sk 48.
const SK_REUSEPORT: &[Field] = &[
    ptr(0, 8, PktData),
    ptr(8, 8, PktEnd),
    r(16, 4, N),
    r(20, 4, Sizes(S2 | S4)),
    r(24, 8, N),
    r(32, 4, W4),
    ptr(40, 8, Socket),
    ptr(48, 8, SockCommonOrNull),
];

/// struct bpf_sockopt: sk 0, optval 8, optval_end 16, level 24, optname 28, optlen 32, retval 36.
const SOCKOPT: &[Field] = &[
    ptr(0, 8, Socket),
    ptr(8, 8, PktData),
    ptr(16, 8, PktEnd),
    r(24, 12, W4),
    when(rw(36, 4, W4, W4), &[AttachType::CgroupGetsockopt]),
    when(w(32, 4, W4), &[AttachType::CgroupGetsockopt]),
    when(w(24, 12, W4), &[AttachType::CgroupSetsockopt]),
];

/// struct bpf_sk_lookup: sk 0, family 8 .. ingress_ifindex 64.
const SK_LOOKUP: &[Field] = &[ptr(0, 8, SocketOrNull), r(8, 60, N)];

/// struct bpf_nf_ctx: state 0, skb 8 (trusted BTF pointers).
const NETFILTER: &[Field] = &[ptr(0, 8, BtfId), ptr(8, 8, BtfId)];

/// struct bpf_perf_event_data: regs 0 (u64 loads only), sample_period 168, addr 176.
const PERF_EVENT: &[Field] = &[r(0, 168, W8), r(168, 16, ANY)];

/// `sizeof(struct pt_regs)` on x86_64.
pub const PT_REGS_SIZE: u32 = 168;
/// `PERF_MAX_TRACE_SIZE`: the bound on tracepoint ctx offsets.
pub const PERF_MAX_TRACE_SIZE: i64 = 8192;
/// `MAX_BPF_FUNC_ARGS`.
pub const MAX_BPF_FUNC_ARGS: i64 = 12;

/// The kernel's check_ctx_access for (prog_type, expected_attach_type): Ok for a valid access, else the kernel's message
/// ("invalid bpf_context access off=%d size=%d").
pub fn ctx_access(
    prog_type: ProgType,
    attach: Option<AttachType>,
    off: i64,
    size: u32,
    write: bool,
) -> Result<CtxAccess, String> {
    let err = || format!("invalid bpf_context access off={off} size={size}");
    if !matches!(size, 1 | 2 | 4 | 8) {
        return Err(err());
    }
    let sz = i64::from(size);
    let scalar = Ok(CtxAccess { kind: Scalar, size });
    use ProgType::*;
    let table: &[Field] = match prog_type {
        SocketFilter => SKB_SOCKET_FILTER,
        SchedCls | SchedAct => SKB_TC,
        CgroupSkb => SKB_CGROUP,
        LwtIn | LwtOut | LwtXmit | LwtSeg6local => SKB_LWT,
        SkSkb => SKB_SK_SKB,
        FlowDissector => SKB_FLOW_DISSECTOR,
        Xdp => {
            // The kernel's default expected attach type for xdp is not BPF_XDP_DEVMAP.
            let attach = attach.or(Some(AttachType::Xdp));
            return table_access(XDP_MD, attach, off, size, write).ok_or_else(err);
        }
        CgroupSock => {
            let attach = attach.or(Some(AttachType::CgroupInetSockCreate));
            return table_access(BPF_SOCK_CG, attach, off, size, write).ok_or_else(err);
        }
        CgroupSockAddr => SOCK_ADDR,
        SockOps => SOCK_OPS,
        SkMsg => SK_MSG,
        CgroupDevice => CGROUP_DEV,
        CgroupSysctl => SYSCTL,
        SkReuseport => SK_REUSEPORT,
        CgroupSockopt => SOCKOPT,
        SkLookup => SK_LOOKUP,
        Netfilter => NETFILTER,
        PerfEvent => PERF_EVENT,
        Kprobe => {
            let ok = !write && off >= 0 && off + sz <= i64::from(PT_REGS_SIZE) && off % sz == 0;
            return if ok { scalar } else { Err(err()) };
        }
        Tracepoint => {
            // `off < sizeof(void *)` is an unsigned comparison in the kernel: negative offsets pass.
            let ok = !write && !(0..8).contains(&off) && off < PERF_MAX_TRACE_SIZE && off % sz == 0;
            return if ok { scalar } else { Err(err()) };
        }
        RawTracepoint | RawTracepointWritable => {
            if prog_type == RawTracepointWritable && off == 0 {
                return if !write && size == 8 { Ok(CtxAccess { kind: TpBuffer, size }) } else { Err(err()) };
            }
            let ok = !write && (0..8 * MAX_BPF_FUNC_ARGS).contains(&off) && off % sz == 0;
            return if ok { scalar } else { Err(err()) };
        }
        Syscall => {
            let ok = (0..i64::from(u16::MAX)).contains(&off) && off % sz == 0;
            return if ok { scalar } else { Err(err()) };
        }
        Tracing | Lsm | StructOps | Ext => {
            let ok = !write && (0..8 * MAX_BPF_FUNC_ARGS).contains(&off) && off % 8 == 0;
            return if ok { scalar } else { Err(err()) };
        }
        LircMode2 => {
            return if !write && off == 0 && size == 4 { scalar } else { Err(err()) };
        }
        Unspec => return Err(err()),
    };
    table_access(table, attach, off, size, write).ok_or_else(err)
}

fn table_access(table: &[Field], attach: Option<AttachType>, off: i64, size: u32, write: bool) -> Option<CtxAccess> {
    let sz = i64::from(size);
    if off < 0 || off % sz != 0 {
        return None;
    }
    table
        .iter()
        .find(|f| {
            let sizes = if write { f.write } else { f.read };
            let applies = match f.cond {
                Cond::Always => true,
                Cond::Attach(list) => attach.is_none_or(|a| list.contains(&a)),
            };
            applies
                && sizes.has(size)
                && off >= f.off
                && off + sz <= f.off + f.len
                && (!f.start_only || off == f.off)
        })
        .map(|f| CtxAccess { kind: f.kind, size })
}

/// Size in bytes of the ctx struct `prog_type` receives (for tracing-like types: the readable area).
pub fn ctx_size(prog_type: ProgType) -> u32 {
    use ProgType::*;
    match prog_type {
        SocketFilter | SchedCls | SchedAct | CgroupSkb | LwtIn | LwtOut | LwtXmit | LwtSeg6local | SkSkb
        | FlowDissector => 192,
        Xdp => 24,
        Kprobe => PT_REGS_SIZE,
        Tracepoint => PERF_MAX_TRACE_SIZE as u32,
        PerfEvent => 184,
        RawTracepoint | RawTracepointWritable | Tracing | Lsm | StructOps | Ext => (8 * MAX_BPF_FUNC_ARGS) as u32,
        CgroupSock => 80,
        CgroupSockAddr => 72,
        SockOps => 224,
        SkMsg => 80,
        CgroupDevice => 12,
        CgroupSysctl => 8,
        SkReuseport => 56,
        CgroupSockopt => 40,
        SkLookup => 72,
        Netfilter => 16,
        Syscall => u32::from(u16::MAX),
        LircMode2 => 4,
        Unspec => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pt: ProgType, off: i64, size: u32) -> Result<CtxAccess, String> {
        ctx_access(pt, None, off, size, false)
    }

    #[test]
    fn sk_buff_known_fields() {
        use ProgType::*;
        assert_eq!(read(SocketFilter, 0, 4), Ok(CtxAccess { kind: CtxFieldKind::Scalar, size: 4 }));
        assert_eq!(read(SchedCls, 76, 4).unwrap().kind, CtxFieldKind::PktData);
        assert_eq!(read(SchedCls, 80, 4).unwrap().kind, CtxFieldKind::PktEnd);
        assert_eq!(read(SchedCls, 140, 4).unwrap().kind, CtxFieldKind::PktMeta);
        assert!(read(SchedCls, 76, 8).is_err(), "data must be a u32 load");
        assert!(read(SchedCls, 76, 2).is_err());
        assert!(read(SocketFilter, 76, 4).is_err(), "socket filters cannot read skb->data");
        assert!(ctx_access(SchedCls, None, 8, 4, true).is_ok(), "tc writes mark");
        assert!(ctx_access(SocketFilter, None, 8, 4, true).is_err(), "socket filter cannot write mark");
        assert!(ctx_access(SocketFilter, None, 48, 4, true).is_ok(), "socket filter writes cb[]");
        assert!(ctx_access(SocketFilter, None, 66, 2, true).is_ok());
        assert!(ctx_access(SocketFilter, None, 64, 8, true).is_err(), "past cb[4]");
        assert_eq!(read(SchedCls, 168, 8).unwrap().kind, CtxFieldKind::SockCommonOrNull);
        assert_eq!(read(SchedCls, 1, 1).unwrap().size, 1, "narrow load");
        assert!(read(SchedCls, 1, 2).is_err(), "misaligned");
        assert_eq!(read(FlowDissector, 144, 8).unwrap().kind, CtxFieldKind::FlowKeys);
    }

    #[test]
    fn error_text_is_the_kernels() {
        assert_eq!(
            read(ProgType::SocketFilter, 76, 4).unwrap_err(),
            "invalid bpf_context access off=76 size=4"
        );
        assert_eq!(read(ProgType::Xdp, -4, 4).unwrap_err(), "invalid bpf_context access off=-4 size=4");
    }

    #[test]
    fn xdp_md() {
        assert_eq!(read(ProgType::Xdp, 0, 4).unwrap().kind, CtxFieldKind::PktData);
        assert_eq!(read(ProgType::Xdp, 4, 4).unwrap().kind, CtxFieldKind::PktEnd);
        assert_eq!(read(ProgType::Xdp, 8, 4).unwrap().kind, CtxFieldKind::PktMeta);
        assert!(read(ProgType::Xdp, 12, 2).is_err());
        assert!(ctx_access(ProgType::Xdp, Some(AttachType::Xdp), 20, 4, false).is_err());
        assert!(ctx_access(ProgType::Xdp, Some(AttachType::XdpDevmap), 20, 4, false).is_ok());
        assert!(ctx_access(ProgType::Xdp, None, 16, 4, true).is_err());
    }

    #[test]
    fn tracing_contexts() {
        assert!(read(ProgType::Kprobe, 160, 8).is_ok());
        assert!(read(ProgType::Kprobe, 164, 8).is_err());
        assert!(ctx_access(ProgType::Kprobe, None, 0, 8, true).is_err());
        assert!(read(ProgType::Tracepoint, 0, 8).is_err());
        assert!(read(ProgType::Tracepoint, 8, 8).is_ok());
        assert!(read(ProgType::Tracepoint, 8184, 8).is_ok());
        assert!(read(ProgType::Tracepoint, 8192, 8).is_err());
        assert!(read(ProgType::Tracepoint, -16, 8).is_ok(), "kernel quirk");
        assert!(read(ProgType::RawTracepoint, 88, 8).is_ok());
        assert!(read(ProgType::RawTracepoint, 96, 8).is_err());
        assert_eq!(read(ProgType::RawTracepointWritable, 0, 8).unwrap().kind, CtxFieldKind::TpBuffer);
        assert!(read(ProgType::PerfEvent, 0, 4).is_err(), "regs are u64 loads");
        assert!(read(ProgType::PerfEvent, 168, 4).is_ok());
    }

    #[test]
    fn sock_types() {
        use AttachType::*;
        let pt = ProgType::CgroupSockAddr;
        assert_eq!(ctx_access(pt, Some(CgroupInet4Connect), 64, 8, false).unwrap().kind, CtxFieldKind::Socket);
        assert!(ctx_access(pt, Some(CgroupInet4Connect), 4, 4, true).is_ok());
        assert!(ctx_access(pt, Some(CgroupInet6Connect), 4, 4, false).is_err());
        assert!(ctx_access(pt, Some(CgroupInet6Connect), 16, 8, true).is_ok());
        assert_eq!(read(ProgType::SockOps, 184, 8).unwrap().kind, CtxFieldKind::SocketOrNull);
        assert!(ctx_access(ProgType::CgroupSock, None, 16, 4, true).is_ok(), "default attach is sock_create");
        assert!(ctx_access(ProgType::CgroupSock, Some(CgroupInet4PostBind), 16, 4, false).is_err());
        assert_eq!(read(ProgType::SkLookup, 0, 8).unwrap().kind, CtxFieldKind::SocketOrNull);
    }

    #[test]
    fn ctx_sizes() {
        assert_eq!(ctx_size(ProgType::SchedCls), 192);
        assert_eq!(ctx_size(ProgType::Xdp), 24);
        assert_eq!(ctx_size(ProgType::Kprobe), 168);
        assert_eq!(ctx_size(ProgType::RawTracepoint), 96);
        assert_eq!(ctx_size(ProgType::SockOps), 224);
    }

    fn kind_code(k: CtxFieldKind) -> char {
        match k {
            Scalar => 'S',
            PktData => 'P',
            PktEnd => 'E',
            PktMeta => 'M',
            SockCommonOrNull => 'C',
            SocketOrNull => 'O',
            Socket => 'K',
            FlowKeys => 'F',
            TpBuffer => 'T',
            BtfId => 'B',
        }
    }

    fn attach_from_u32(v: u32) -> Option<AttachType> {
        use AttachType::*;
        Some(match v {
            0 => return None,
            1 => CgroupInetEgress,
            2 => CgroupInetSockCreate,
            4 => SkSkbStreamParser,
            5 => SkSkbStreamVerdict,
            8 => CgroupInet4Bind,
            9 => CgroupInet6Bind,
            10 => CgroupInet4Connect,
            11 => CgroupInet6Connect,
            12 => CgroupInet4PostBind,
            13 => CgroupInet6PostBind,
            14 => CgroupUdp4Sendmsg,
            15 => CgroupUdp6Sendmsg,
            19 => CgroupUdp4Recvmsg,
            20 => CgroupUdp6Recvmsg,
            21 => CgroupGetsockopt,
            22 => CgroupSetsockopt,
            29 => CgroupInet4Getpeername,
            30 => CgroupInet6Getpeername,
            31 => CgroupInet4Getsockname,
            32 => CgroupInet6Getsockname,
            34 => CgroupInetSockRelease,
            36 => SkLookup,
            _ => return None,
        })
    }

    /// Every (type, attach, read/write, size, offset) the live kernel was asked about gets the same verdict
    /// and the same result kind here.
    #[test]
    fn matches_the_kernel_probe_fixture() {
        use std::collections::{BTreeMap, BTreeSet};
        let fixture = include_str!("testdata/ctx_probe.tsv");
        type Verdicts = BTreeMap<(bool, u32, i64), char>;
        let mut valid: BTreeMap<(u32, u32), Verdicts> = BTreeMap::new();
        for line in fixture.lines().filter(|l| !l.starts_with('#')) {
            let c: Vec<&str> = line.split('\t').collect();
            let [pt, eat, wr, size, off, kind] = c[..] else { panic!("bad line {line}") };
            let key = (pt.parse().unwrap(), eat.parse().unwrap());
            let k = (wr == "1", size.parse().unwrap(), off.parse().unwrap());
            valid.entry(key).or_default().insert(k, kind.chars().next().unwrap());
        }
        // Combinations probed: those with at least one valid access, plus the ones known to have none.
        let combos: BTreeSet<(u32, u32)> = valid.keys().copied().collect();
        assert!(combos.len() >= 40, "{} combos", combos.len());
        let mut mismatches = Vec::new();
        for (pt_num, eat) in combos {
            let pt = ProgType::ALL[pt_num as usize];
            let attach = if pt == ProgType::Netfilter { None } else { attach_from_u32(eat) };
            let want = &valid[&(pt_num, eat)];
            for write in [false, true] {
                for size in [1u32, 2, 4, 8] {
                    for off in -8i64..232 {
                        let got = ctx_access(pt, attach, off, size, write).ok().map(|a| kind_code(a.kind));
                        let exp = want.get(&(write, size, off)).copied();
                        if got != exp {
                            mismatches.push(format!(
                                "{} attach={eat} {} size={size} off={off}: kernel {exp:?}, ours {got:?}",
                                pt.name(),
                                if write { "write" } else { "read" }
                            ));
                        }
                    }
                }
            }
        }
        assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
    }
}
