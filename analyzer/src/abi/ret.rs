//! The range R0 must be in at program exit, per program type and expected attach type.
//!
//! Ports `check_return_code` and `verbose_invalid_scalar` (kernel/bpf/verifier.c, Linux 6.18):
//! the default range is `[0, 1]`; cgroup_skb egress allows `[0, 3]`; cgroup_sock_addr bind allows
//! `[0, 3]` and recvmsg/getpeername/getsockname require `[1, 1]`; sk_lookup `[SK_DROP, SK_PASS]`;
//! netfilter `[NF_DROP, NF_ACCEPT]`; fentry/fexit `[0, 0]`; BTF-enabled raw tracepoints `[0, 0]`;
//! iterators `[0, 1]`. Types absent from the kernel's switch (socket_filter, kprobe, sched_cls, xdp,
//! tracepoint, ...) may return anything.
//! Checked against the live kernel by `testdata/probe_ret.py` (its findings are the test below).
//!
//! Not modelled: LSM hooks (the range comes from the hook's BTF return type: `None` here),
//! struct_ops (per-callback), kprobe/uprobe session programs (`[0, 1]`, attach types not in [`AttachType`]),
//! and the unix-socket attach types of cgroup_sock_addr.

use crate::prog_type::{AttachType, ProgType};

/// The kernel's `check_return_code` range for (prog_type, expected_attach_type), or None when any value is allowed.
pub fn return_range(prog_type: ProgType, attach: Option<AttachType>) -> Option<(i64, i64)> {
    use AttachType as A;
    use ProgType::*;
    match prog_type {
        CgroupSockAddr => match attach {
            Some(
                A::CgroupUdp4Recvmsg | A::CgroupUdp6Recvmsg | A::CgroupInet4Getpeername | A::CgroupInet6Getpeername
                | A::CgroupInet4Getsockname | A::CgroupInet6Getsockname,
            ) => Some((1, 1)),
            Some(A::CgroupInet4Bind | A::CgroupInet6Bind) => Some((0, 3)),
            _ => Some((0, 1)),
        },
        CgroupSkb => match attach {
            Some(A::CgroupInetEgress) => Some((0, 3)),
            _ => Some((0, 1)),
        },
        CgroupSock | SockOps | CgroupDevice | CgroupSysctl | CgroupSockopt => Some((0, 1)),
        // Only BTF-enabled raw tracepoints (tp_btf, attach type A::TraceRawTp as a raw_tracepoint) are checked.
        RawTracepoint => match attach {
            Some(A::TraceRawTp) => Some((0, 0)),
            _ => None,
        },
        Tracing => match attach {
            Some(A::TraceFentry | A::TraceFexit) => Some((0, 0)),
            Some(A::TraceIter) => Some((0, 1)),
            _ => None,
        },
        SkLookup => Some((0, 1)),
        Netfilter => Some((0, 1)),
        _ => None,
    }
}

/// The kernel's message when R0 is a scalar outside `range` at exit (`verbose_invalid_scalar`):
/// `At program exit the register R0 has smin=0 smax=4 should have been in [0, 1]`.
/// Bounds equal to `i64::MIN`/`i64::MAX` are omitted, as the kernel does (`unknown scalar value` if both).
pub fn return_code_error(smin: i64, smax: i64, range: (i64, i64)) -> String {
    invalid_scalar_message("At program exit", "R0", smin, smax, range)
}

/// `verbose_invalid_scalar(env, reg, range, ctx, reg_name)`; `ctx` is e.g. "At program exit",
/// "At subprogram exit", "At async callback return", "At callback return".
pub fn invalid_scalar_message(ctx: &str, reg_name: &str, smin: i64, smax: i64, range: (i64, i64)) -> String {
    let mut s = format!("{ctx} the register {reg_name} has");
    let mut unknown = true;
    if smin > i64::MIN {
        s.push_str(&format!(" smin={smin}"));
        unknown = false;
    }
    if smax < i64::MAX {
        s.push_str(&format!(" smax={smax}"));
        unknown = false;
    }
    if unknown {
        s.push_str(" unknown scalar value");
    }
    s.push_str(&format!(" should have been in [{}, {}]", range.0, range.1));
    s
}

/// The kernel's message when R0 is not a scalar at exit: `At program exit the register R0 is not a known value (ptr_)`;
/// `reg_type` is the kernel's `reg_type_str` (e.g. `map_value_or_null`, `ctx`).
pub fn return_not_scalar_error(reg_type: &str) -> String {
    format!("At program exit the register R0 is not a known value ({reg_type})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttachType as A;
    use ProgType::*;

    #[test]
    fn ranges_match_the_live_kernel() {
        // Observed with probe_ret.py on Linux 6.18 (r0 = -1, 0, 1, 2, 3, 4, 1000 at exit).
        assert_eq!(return_range(CgroupSkb, Some(A::CgroupInetIngress)), Some((0, 1)));
        assert_eq!(return_range(CgroupSkb, Some(A::CgroupInetEgress)), Some((0, 3)));
        assert_eq!(return_range(CgroupSock, Some(A::CgroupInet4PostBind)), Some((0, 1)));
        assert_eq!(return_range(CgroupSock, Some(A::CgroupInetSockCreate)), Some((0, 1)));
        assert_eq!(return_range(CgroupSockAddr, Some(A::CgroupInet4Bind)), Some((0, 3)));
        assert_eq!(return_range(CgroupSockAddr, Some(A::CgroupInet6Connect)), Some((0, 1)));
        assert_eq!(return_range(CgroupSockAddr, Some(A::CgroupUdp4Sendmsg)), Some((0, 1)));
        assert_eq!(return_range(CgroupSockAddr, Some(A::CgroupUdp6Recvmsg)), Some((1, 1)));
        assert_eq!(return_range(CgroupSockAddr, Some(A::CgroupInet4Getsockname)), Some((1, 1)));
        assert_eq!(return_range(SockOps, None), Some((0, 1)));
        assert_eq!(return_range(CgroupDevice, None), Some((0, 1)));
        assert_eq!(return_range(CgroupSysctl, None), Some((0, 1)));
        assert_eq!(return_range(CgroupSockopt, Some(A::CgroupGetsockopt)), Some((0, 1)));
        assert_eq!(return_range(SkLookup, Some(A::SkLookup)), Some((0, 1)));
        assert_eq!(return_range(Netfilter, None), Some((0, 1)));
        for pt in [SocketFilter, Kprobe, SchedCls, SchedAct, Tracepoint, Xdp, PerfEvent, LwtIn, LwtOut, LwtXmit,
            SkSkb, SkMsg, RawTracepoint, LwtSeg6local, SkReuseport, FlowDissector, RawTracepointWritable, Syscall]
        {
            assert_eq!(return_range(pt, None), None, "{}", pt.name());
        }
        assert_eq!(return_range(Tracing, Some(A::TraceFentry)), Some((0, 0)));
        assert_eq!(return_range(Tracing, Some(A::ModifyReturn)), None);
    }

    #[test]
    fn messages_match_the_kernel() {
        // Copied from the 6.18 kernel's log.
        assert_eq!(
            return_code_error(1000, 1000, (0, 1)),
            "At program exit the register R0 has smin=1000 smax=1000 should have been in [0, 1]"
        );
        assert_eq!(
            return_code_error(i64::MIN, i64::MAX, (1, 1)),
            "At program exit the register R0 has unknown scalar value should have been in [1, 1]"
        );
        assert_eq!(
            return_code_error(0, i64::MAX, (0, 3)),
            "At program exit the register R0 has smin=0 should have been in [0, 3]"
        );
        assert_eq!(
            return_not_scalar_error("ctx"),
            "At program exit the register R0 is not a known value (ctx)"
        );
    }
}
