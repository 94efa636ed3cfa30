//! Program type and expected attach type from an ELF section name.
//!
//! Step 1 is the table below, modelled on libbpf's `section_defs` (`SEC_DEF("xdp", ...)`,
//! `SEC_DEF("kprobe+", ...)`, ...), matched by *longest prefix*: `cgroup/sock_create`
//! beats `cgroup/sock`, `tp_btf/` beats `tp/`. Plain prefix matching (not libbpf 1.x's
//! exact-or-`/` rule) is deliberate: real objects use legacy names that older libbpf,
//! iproute2 and the kernel samples accepted — `xdp1`, `xdp_prog`, `socket1`, `sk_skb1`,
//! `cgroup/sock1`, `tc_mark`. The expected attach type is only set when libbpf itself
//! would recognise the name (the name equals the table key or continues with `/`).
//!
//! Step 2, for names no table entry matches (and for `.text` functions loaded as
//! entry programs), follows how kernel-verdicts.tsv loaded each object:
//! - objects under a `cilium` path (cilium tc sections such as `2/2`, `1/0x1010`,
//!   `from-container`, `from-netdev`, and cilium `.text` functions): `sched_cls`,
//!   or `xdp` when the file name contains `xdp`;
//! - other `.text` functions: `socket_filter`;
//! - tc samples loaded with `tc filter ... bpf obj X sec Y` (file name starts with `tc`
//!   or contains `_tc`, and the Open vSwitch datapath under `ovs/`): `sched_cls`;
//! - `lwt_*` samples (loaded with `ip route ... encap bpf out`): `lwt_out`;
//! - everything else (`test`, `filter`, `bind`, `loadbalancer`, ...): `socket_filter`.

use crate::prog_type::{AttachType, ProgType};

/// One row of the section-name table.
struct SecDef {
    prefix: &'static str,
    prog_type: ProgType,
    attach: Option<AttachType>,
}

const fn def(prefix: &'static str, prog_type: ProgType, attach: Option<AttachType>) -> SecDef {
    SecDef {
        prefix,
        prog_type,
        attach,
    }
}

use AttachType as A;
use ProgType as P;

/// The table, as in libbpf's `section_defs` plus legacy spellings.
const SECTION_DEFS: &[SecDef] = &[
    def("socket", P::SocketFilter, None),
    def("sk_reuseport/migrate", P::SkReuseport, None),
    def("sk_reuseport", P::SkReuseport, None),
    def("kprobe", P::Kprobe, None),
    def("uprobe", P::Kprobe, None),
    def("kretprobe", P::Kprobe, None),
    def("uretprobe", P::Kprobe, None),
    def("ksyscall", P::Kprobe, None),
    def("kretsyscall", P::Kprobe, None),
    def("usdt", P::Kprobe, None),
    def("tc", P::SchedCls, None),
    def("classifier", P::SchedCls, None),
    def("action", P::SchedAct, None),
    def("tracepoint", P::Tracepoint, None),
    def("tp", P::Tracepoint, None),
    def("raw_tracepoint", P::RawTracepoint, None),
    def("raw_tp", P::RawTracepoint, None),
    def("raw_tracepoint.w", P::RawTracepointWritable, None),
    def("raw_tp.w", P::RawTracepointWritable, None),
    def("tp_btf", P::Tracing, Some(A::TraceRawTp)),
    def("fentry", P::Tracing, Some(A::TraceFentry)),
    def("fmod_ret", P::Tracing, Some(A::ModifyReturn)),
    def("fexit", P::Tracing, Some(A::TraceFexit)),
    def("freplace", P::Ext, None),
    def("lsm", P::Lsm, Some(A::LsmMac)),
    def("lsm_cgroup", P::Lsm, None),
    def("iter", P::Tracing, Some(A::TraceIter)),
    def("syscall", P::Syscall, None),
    def("xdp.frags/devmap", P::Xdp, Some(A::XdpDevmap)),
    def("xdp/devmap", P::Xdp, Some(A::XdpDevmap)),
    def("xdp.frags/cpumap", P::Xdp, Some(A::XdpCpumap)),
    def("xdp/cpumap", P::Xdp, Some(A::XdpCpumap)),
    def("xdp.frags", P::Xdp, Some(A::Xdp)),
    def("xdp", P::Xdp, Some(A::Xdp)),
    def("perf_event", P::PerfEvent, None),
    def("lwt_in", P::LwtIn, None),
    def("lwt_out", P::LwtOut, None),
    def("lwt_xmit", P::LwtXmit, None),
    def("lwt_seg6local", P::LwtSeg6local, None),
    def("sockops", P::SockOps, Some(A::CgroupSockOps)),
    def("sk_skb/stream_parser", P::SkSkb, Some(A::SkSkbStreamParser)),
    def(
        "sk_skb/stream_verdict",
        P::SkSkb,
        Some(A::SkSkbStreamVerdict),
    ),
    def("sk_skb", P::SkSkb, None),
    def("sk_msg", P::SkMsg, Some(A::SkMsgVerdict)),
    def("lirc_mode2", P::LircMode2, Some(A::LircMode2)),
    def("flow_dissector", P::FlowDissector, Some(A::FlowDissector)),
    def(
        "cgroup_skb/ingress",
        P::CgroupSkb,
        Some(A::CgroupInetIngress),
    ),
    def("cgroup_skb/egress", P::CgroupSkb, Some(A::CgroupInetEgress)),
    def("cgroup/skb", P::CgroupSkb, None),
    def(
        "cgroup/sock_create",
        P::CgroupSock,
        Some(A::CgroupInetSockCreate),
    ),
    def(
        "cgroup/sock_release",
        P::CgroupSock,
        Some(A::CgroupInetSockRelease),
    ),
    def("cgroup/sock", P::CgroupSock, Some(A::CgroupInetSockCreate)),
    def(
        "cgroup/post_bind4",
        P::CgroupSock,
        Some(A::CgroupInet4PostBind),
    ),
    def(
        "cgroup/post_bind6",
        P::CgroupSock,
        Some(A::CgroupInet6PostBind),
    ),
    def("cgroup/bind4", P::CgroupSockAddr, Some(A::CgroupInet4Bind)),
    def("cgroup/bind6", P::CgroupSockAddr, Some(A::CgroupInet6Bind)),
    def(
        "cgroup/connect4",
        P::CgroupSockAddr,
        Some(A::CgroupInet4Connect),
    ),
    def(
        "cgroup/connect6",
        P::CgroupSockAddr,
        Some(A::CgroupInet6Connect),
    ),
    def(
        "cgroup/sendmsg4",
        P::CgroupSockAddr,
        Some(A::CgroupUdp4Sendmsg),
    ),
    def(
        "cgroup/sendmsg6",
        P::CgroupSockAddr,
        Some(A::CgroupUdp6Sendmsg),
    ),
    def(
        "cgroup/recvmsg4",
        P::CgroupSockAddr,
        Some(A::CgroupUdp4Recvmsg),
    ),
    def(
        "cgroup/recvmsg6",
        P::CgroupSockAddr,
        Some(A::CgroupUdp6Recvmsg),
    ),
    def(
        "cgroup/getpeername4",
        P::CgroupSockAddr,
        Some(A::CgroupInet4Getpeername),
    ),
    def(
        "cgroup/getpeername6",
        P::CgroupSockAddr,
        Some(A::CgroupInet6Getpeername),
    ),
    def(
        "cgroup/getsockname4",
        P::CgroupSockAddr,
        Some(A::CgroupInet4Getsockname),
    ),
    def(
        "cgroup/getsockname6",
        P::CgroupSockAddr,
        Some(A::CgroupInet6Getsockname),
    ),
    def("cgroup/sysctl", P::CgroupSysctl, Some(A::CgroupSysctl)),
    def(
        "cgroup/getsockopt",
        P::CgroupSockopt,
        Some(A::CgroupGetsockopt),
    ),
    def(
        "cgroup/setsockopt",
        P::CgroupSockopt,
        Some(A::CgroupSetsockopt),
    ),
    def("cgroup/dev", P::CgroupDevice, Some(A::CgroupDevice)),
    def("struct_ops", P::StructOps, None),
    def("sk_lookup", P::SkLookup, Some(A::SkLookup)),
    def("netfilter", P::Netfilter, None),
];

/// The table entry for a section name (longest matching prefix), with its attach type
/// when libbpf would recognise the exact name.
pub fn libbpf_section_def(section: &str) -> Option<(ProgType, Option<AttachType>)> {
    let d = SECTION_DEFS
        .iter()
        .filter(|d| section.starts_with(d.prefix))
        .max_by_key(|d| d.prefix.len())?;
    let rest = &section[d.prefix.len()..];
    let libbpf_exact = rest.is_empty() || rest.starts_with('/') || d.prefix.ends_with('/');
    Some((d.prog_type, if libbpf_exact { d.attach } else { None }))
}

/// Program type and expected attach type for a program in `section` of the object at `path`.
pub fn prog_type_for_section(section: &str, path: &str) -> (ProgType, Option<AttachType>) {
    if section != ".text" {
        if let Some(found) = libbpf_section_def(section) {
            return found;
        }
    }
    let file = path.rsplit('/').next().unwrap_or(path);
    if path.contains("cilium") {
        let t = if file.contains("xdp") {
            P::Xdp
        } else {
            P::SchedCls
        };
        return (t, None);
    }
    if section == ".text" {
        return (P::SocketFilter, None);
    }
    if file.starts_with("tc")
        || file.contains("_tc")
        || path.starts_with("ovs/")
        || path.contains("/ovs/")
    {
        return (P::SchedCls, None);
    }
    if file.starts_with("lwt_") {
        return (P::LwtOut, None);
    }
    (P::SocketFilter, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libbpf_names() {
        assert_eq!(prog_type_for_section("xdp", "a.o"), (P::Xdp, Some(A::Xdp)));
        assert_eq!(
            prog_type_for_section("kprobe/sys_open", "a.o"),
            (P::Kprobe, None)
        );
        assert_eq!(
            prog_type_for_section("tp_btf/sched_switch", "a.o"),
            (P::Tracing, Some(A::TraceRawTp))
        );
        assert_eq!(
            prog_type_for_section("tp/syscalls/x", "a.o"),
            (P::Tracepoint, None)
        );
        assert_eq!(
            prog_type_for_section("cgroup/sock_create", "a.o"),
            (P::CgroupSock, Some(A::CgroupInetSockCreate))
        );
        assert_eq!(
            prog_type_for_section("cgroup/connect4", "a.o"),
            (P::CgroupSockAddr, Some(A::CgroupInet4Connect))
        );
        assert_eq!(
            prog_type_for_section("cgroup/post_bind4", "a.o"),
            (P::CgroupSock, Some(A::CgroupInet4PostBind))
        );
        assert_eq!(
            prog_type_for_section("sk_skb/stream_parser", "a.o"),
            (P::SkSkb, Some(A::SkSkbStreamParser))
        );
        assert_eq!(
            prog_type_for_section("raw_tp.w/x", "a.o"),
            (P::RawTracepointWritable, None)
        );
        assert_eq!(
            prog_type_for_section("struct_ops/x", "a.o"),
            (P::StructOps, None)
        );
    }

    #[test]
    fn legacy_names_have_no_attach_type() {
        assert_eq!(prog_type_for_section("xdp_prog", "a.o"), (P::Xdp, None));
        assert_eq!(
            prog_type_for_section("socket1", "a.o"),
            (P::SocketFilter, None)
        );
        assert_eq!(prog_type_for_section("sk_skb1", "a.o"), (P::SkSkb, None));
        assert_eq!(
            prog_type_for_section("cgroup/sock1", "a.o"),
            (P::CgroupSock, None)
        );
        assert_eq!(prog_type_for_section("tc_mark", "a.o"), (P::SchedCls, None));
    }

    #[test]
    fn fallbacks_follow_the_reference_loader() {
        assert_eq!(
            prog_type_for_section("2/2", "cilium/bpf_lxc.o").0,
            P::SchedCls
        );
        assert_eq!(
            prog_type_for_section("2/2", "cilium/bpf_xdp_dsr_linux.o").0,
            P::Xdp
        );
        assert_eq!(
            prog_type_for_section(".text", "cilium-core/bpf_xdp.o").0,
            P::Xdp
        );
        assert_eq!(
            prog_type_for_section(".text", "build/a.o").0,
            P::SocketFilter
        );
        assert_eq!(
            prog_type_for_section("redirect_xmit", "linux/tcbpf1_kern.o").0,
            P::SchedCls
        );
        assert_eq!(
            prog_type_for_section("len_hist", "linux/lwt_len_hist_kern.o").0,
            P::LwtOut
        );
        assert_eq!(
            prog_type_for_section("af_xdp", "ovs/datapath.o").0,
            P::SchedCls
        );
        assert_eq!(
            prog_type_for_section("filter", "suricata/filter.o").0,
            P::SocketFilter
        );
        assert_eq!(
            prog_type_for_section("cgroup/recv_accept4", "x/y").0,
            P::SocketFilter
        );
    }
}
