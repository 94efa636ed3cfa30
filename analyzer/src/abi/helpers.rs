//! Helper prototypes (`struct bpf_func_proto`) and which program types may call which helper.
//!
//! Ports, from Linux 6.18:
//! - the `bpf_*_proto` definitions in kernel/bpf/helpers.c, kernel/trace/bpf_trace.c,
//!   net/core/filter.c, kernel/bpf/{ringbuf,stackmap,bpf_task_storage,bpf_inode_storage,
//!   cgroup,bpf_iter,task_iter,syscall,btf}.c, net/core/{bpf_sk_storage,sock_map}.c
//!   (argument and return types as `enum bpf_arg_type` / `enum bpf_return_type` in include/linux/bpf.h);
//! - `bpf_helper_changes_pkt_data` (net/core/filter.c), `is_acquire_function` /
//!   `OBJ_RELEASE` and `do_refine_retval_range` (kernel/bpf/verifier.c);
//! - each program type's `get_func_proto` (see `helper_sets.rs`, probed on the live kernel).
//!
//! The table is keyed by helper id with the prototype most program types see.
//! Per-type variants that matter for safety are in [`helper_proto_for`]:
//! `bpf_get_socket_cookie` / `bpf_skb_output` / `bpf_xdp_output` take a BTF pointer in tracing programs,
//! `bpf_sk_storage_get` takes the ctx in cgroup_sock programs, `bpf_sk_assign` takes a socket-or-null in sk_lookup,
//! `bpf_get_netns_cookie` takes a non-null ctx in tc programs.
//! `bpf_perf_event_output`, `bpf_get_stackid` and `bpf_get_stack` have per-type kernel protos
//! (`bpf_perf_event_output_proto_tp`, `_raw_tp`, `bpf_skb_event_output_proto`, `bpf_xdp_event_output_proto`, ...)
//! with the same argument kinds for every non-tracing type, so one entry covers them.
//!
//! Mapping of kernel flags onto [`ArgKind`]: `ARG_PTR_TO_MEM | MEM_RDONLY` and `ARG_PTR_TO_MEM | MEM_WRITE`
//! are both [`ArgKind::PtrToMem`] (initialized memory; the kernel also requires writability for
//! `MEM_WRITE`, which this table does not record); `ARG_PTR_TO_UNINIT_MEM` is [`ArgKind::PtrToUninitMem`];
//! `ARG_PTR_TO_FIXED_SIZE_MEM` of 8 / 4 bytes is [`ArgKind::PtrToLong`] / [`ArgKind::PtrToInt`],
//! other fixed sizes are [`ArgKind::PtrToMem`] with the size in [`fixed_mem_arg_size`];
//! `ARG_PTR_TO_BTF_ID_SOCK_COMMON` is [`ArgKind::PtrToSockCommon`].
//! `RET_PTR_TO_MEM_OR_BTF_ID` without `PTR_MAYBE_NULL` (`bpf_this_cpu_ptr`) is [`RetKind::PtrToBtfId`].

use super::helper_sets as sets;
use crate::prog_type::{AttachType, ProgType};

/// `enum bpf_arg_type`, with the type flags the checks need folded in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// Unused argument (`ARG_DONTCARE`).
    DontCare,
    /// `ARG_ANYTHING`: any initialized value.
    Anything,
    /// `ARG_CONST_MAP_PTR`.
    ConstMapPtr,
    /// `ARG_PTR_TO_MAP_KEY`: `key_size` readable bytes.
    PtrToMapKey,
    /// `ARG_PTR_TO_MAP_VALUE`: `value_size` readable bytes.
    PtrToMapValue,
    /// `ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE`: `value_size` writable bytes.
    PtrToUninitMapValue,
    /// `ARG_PTR_TO_MAP_VALUE_OR_NULL` (the `init` value of `*_storage_get`).
    PtrToMapValueOrNull,
    /// Readable, initialized memory; its size is the next `ConstSize`/`ConstSizeOrZero` argument.
    PtrToMem,
    /// `ARG_PTR_TO_MEM | PTR_MAYBE_NULL`; NULL is allowed with a zero size.
    PtrToMemOrNull,
    /// `ARG_PTR_TO_UNINIT_MEM`: writable, may be uninitialized; initialized by the helper.
    PtrToUninitMem,
    /// `ARG_CONST_SIZE`: a known-bounded, strictly positive size.
    ConstSize,
    /// `ARG_CONST_SIZE_OR_ZERO`.
    ConstSizeOrZero,
    /// `ARG_PTR_TO_CTX`: the unmodified ctx pointer.
    PtrToCtx,
    /// `ARG_PTR_TO_CTX_OR_NULL`.
    PtrToCtxOrNull,
    /// `ARG_PTR_TO_SOCKET`.
    PtrToSocket,
    /// `ARG_PTR_TO_SOCKET | PTR_MAYBE_NULL` (`bpf_sk_assign` in sk_lookup).
    PtrToSocketOrNull,
    /// `ARG_PTR_TO_SOCK_COMMON` / `ARG_PTR_TO_BTF_ID_SOCK_COMMON`.
    PtrToSockCommon,
    /// `ARG_PTR_TO_BTF_ID` (a typed kernel pointer).
    PtrToBtfId,
    /// `ARG_PTR_TO_CONST_STR`: pointer into a read-only map holding a NUL-terminated string.
    PtrToConstStr,
    /// `ARG_PTR_TO_FUNC`: a callback subprogram.
    PtrToFunc,
    /// `ARG_PTR_TO_STACK_OR_NULL` (callback ctx).
    PtrToStackOrNull,
    /// `ARG_PTR_TO_SPIN_LOCK`: the `bpf_spin_lock` field of a map value.
    PtrToSpinLock,
    /// 8-byte aligned writable slot (`ARG_PTR_TO_FIXED_SIZE_MEM`, size 8; formerly `ARG_PTR_TO_LONG`).
    PtrToLong,
    /// 4-byte aligned slot (`ARG_PTR_TO_FIXED_SIZE_MEM`, size 4; `bpf_check_mtu` also reads it).
    PtrToInt,
    /// `ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE`: a record from `bpf_ringbuf_reserve`.
    PtrToAllocMem,
    /// `ARG_CONST_ALLOC_SIZE_OR_ZERO`: a constant size that becomes the returned memory's size.
    ConstAllocSizeOrZero,
    /// `ARG_PTR_TO_DYNPTR` (16-byte stack slot).
    PtrToDynptr,
    /// `ARG_PTR_TO_TIMER`: the `bpf_timer` field of a map value.
    PtrToTimer,
    /// `ARG_PTR_TO_KPTR`: a kptr field of a map value.
    PtrToKptr,
    /// `ARG_PTR_TO_PERCPU_BTF_ID`.
    PtrToPercpuBtfId,
    /// `ARG_PTR_TO_STACK`.
    PtrToStack,
}

/// `enum bpf_return_type`, with the type flags folded in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetKind {
    /// `RET_INTEGER`: an unknown scalar (see [`HelperProto::ret_range`]).
    Integer,
    /// `RET_VOID`: R0 is not readable after the call.
    Void,
    /// `RET_PTR_TO_MAP_VALUE_OR_NULL` (what it points to depends on the map type: see `map_types`).
    MapValueOrNull,
    /// `RET_PTR_TO_MAP_VALUE`, never NULL (`bpf_get_local_storage`).
    MapValue,
    /// `RET_PTR_TO_SOCKET_OR_NULL`.
    SocketOrNull,
    /// `RET_PTR_TO_TCP_SOCK_OR_NULL`.
    TcpSockOrNull,
    /// `RET_PTR_TO_SOCK_COMMON_OR_NULL`.
    SockCommonOrNull,
    /// `RET_PTR_TO_RINGBUF_MEM_OR_NULL`: memory of the size given by argument [`HelperProto::alloc_size_arg`].
    AllocMemOrNull,
    /// `RET_PTR_TO_MEM_OR_BTF_ID | PTR_MAYBE_NULL` (`bpf_per_cpu_ptr`).
    PtrToMemOrBtfIdOrNull,
    /// `RET_PTR_TO_BTF_ID_OR_NULL`.
    BtfIdOrNull,
    /// `RET_PTR_TO_BTF_ID` / `RET_PTR_TO_BTF_ID_TRUSTED` / `RET_PTR_TO_MEM_OR_BTF_ID`, never NULL.
    PtrToBtfId,
    /// `RET_PTR_TO_DYNPTR_MEM_OR_NULL` (`bpf_dynptr_data`), size from [`HelperProto::alloc_size_arg`].
    MemOrNull,
}

/// One helper's prototype, as the verifier sees it.
#[derive(Clone, Debug)]
pub struct HelperProto {
    pub id: i32,
    /// The kernel's `func_id_name`, e.g. `bpf_map_lookup_elem`.
    pub name: &'static str,
    /// Argument kinds for R1.. (at most 5); missing trailing arguments are `DontCare`.
    pub args: &'static [ArgKind],
    pub ret: RetKind,
    pub gpl_only: bool,
    /// Whether packet pointers may be passed as memory arguments (`.pkt_access`).
    pub pkt_access: bool,
    /// true for helpers after which packet pointers are invalidated (`bpf_helper_changes_pkt_data`).
    pub changes_pkt_data: bool,
    /// Acquires a reference (ringbuf_reserve, sk_lookup_*, ringbuf_reserve_dynptr).
    pub acquire: bool,
    /// Index of the argument whose reference is released (ringbuf_submit/discard -> Some(0), sk_release -> Some(0)).
    pub release_arg: Option<usize>,
    /// For `AllocMemOrNull`/`MemOrNull`: index of the const size argument.
    pub alloc_size_arg: Option<usize>,
    /// Known range of an Integer return, when the kernel knows it (e.g. get_smp_processor_id).
    pub ret_range: Option<(i64, i64)>,
}

use ArgKind::*;
use RetKind::{
    AllocMemOrNull, BtfIdOrNull, Integer, MapValue, MapValueOrNull, MemOrNull, PtrToMemOrBtfIdOrNull, SockCommonOrNull,
    SocketOrNull, TcpSockOrNull, Void,
};

/// `MAX_ERRNO`: helpers return `-MAX_ERRNO..` on error.
pub const MAX_ERRNO: i64 = 4095;

/// Upper bound of `nr_cpu_ids - 1` (CONFIG_NR_CPUS is at most 8192). The kernel uses the running
/// machine's `nr_cpu_ids`, so it may know a tighter bound than this.
pub const MAX_CPU_ID: i64 = 8191;

impl HelperProto {
    const fn new(id: i32, name: &'static str, args: &'static [ArgKind], ret: RetKind) -> HelperProto {
        HelperProto {
            id,
            name,
            args,
            ret,
            gpl_only: false,
            pkt_access: false,
            changes_pkt_data: false,
            acquire: false,
            release_arg: None,
            alloc_size_arg: None,
            ret_range: None,
        }
    }
    const fn gpl(mut self) -> Self {
        self.gpl_only = true;
        self
    }
    const fn pkt(mut self) -> Self {
        self.pkt_access = true;
        self
    }
    const fn changes(mut self) -> Self {
        self.changes_pkt_data = true;
        self
    }
    const fn acq(mut self) -> Self {
        self.acquire = true;
        self
    }
    const fn rel(mut self, arg: usize) -> Self {
        self.release_arg = Some(arg);
        self
    }
    const fn alloc(mut self, arg: usize) -> Self {
        self.alloc_size_arg = Some(arg);
        self
    }
    const fn range(mut self, lo: i64, hi: i64) -> Self {
        self.ret_range = Some((lo, hi));
        self
    }

    /// The kind of argument `i` (0-based: R1 is 0); `DontCare` past the end.
    pub fn arg(&self, i: usize) -> ArgKind {
        self.args.get(i).copied().unwrap_or(DontCare)
    }
}

type P = HelperProto;

/// All helper prototypes of Linux 6.18, sorted by id (1..=211).
static HELPERS: &[HelperProto] = &[
    P::new(1, "bpf_map_lookup_elem", &[ConstMapPtr, PtrToMapKey], MapValueOrNull).pkt(),
    P::new(2, "bpf_map_update_elem", &[ConstMapPtr, PtrToMapKey, PtrToMapValue, Anything], Integer).pkt(),
    P::new(3, "bpf_map_delete_elem", &[ConstMapPtr, PtrToMapKey], Integer).pkt(),
    P::new(4, "bpf_probe_read", &[PtrToUninitMem, ConstSizeOrZero, Anything], Integer).gpl(),
    P::new(5, "bpf_ktime_get_ns", &[], Integer),
    P::new(6, "bpf_trace_printk", &[PtrToMem, ConstSize], Integer).gpl(),
    P::new(7, "bpf_get_prandom_u32", &[], Integer),
    P::new(8, "bpf_get_smp_processor_id", &[], Integer).range(0, MAX_CPU_ID),
    P::new(9, "bpf_skb_store_bytes", &[PtrToCtx, Anything, PtrToMem, ConstSize, Anything], Integer).changes(),
    P::new(10, "bpf_l3_csum_replace", &[PtrToCtx, Anything, Anything, Anything, Anything], Integer).changes(),
    P::new(11, "bpf_l4_csum_replace", &[PtrToCtx, Anything, Anything, Anything, Anything], Integer).changes(),
    P::new(12, "bpf_tail_call", &[PtrToCtx, ConstMapPtr, Anything], Void),
    P::new(13, "bpf_clone_redirect", &[PtrToCtx, Anything, Anything], Integer).changes(),
    P::new(14, "bpf_get_current_pid_tgid", &[], Integer),
    P::new(15, "bpf_get_current_uid_gid", &[], Integer),
    P::new(16, "bpf_get_current_comm", &[PtrToUninitMem, ConstSize], Integer),
    P::new(17, "bpf_get_cgroup_classid", &[PtrToCtx], Integer),
    P::new(18, "bpf_skb_vlan_push", &[PtrToCtx, Anything, Anything], Integer).changes(),
    P::new(19, "bpf_skb_vlan_pop", &[PtrToCtx], Integer).changes(),
    P::new(20, "bpf_skb_get_tunnel_key", &[PtrToCtx, PtrToUninitMem, ConstSize, Anything], Integer),
    P::new(21, "bpf_skb_set_tunnel_key", &[PtrToCtx, PtrToMem, ConstSize, Anything], Integer),
    P::new(22, "bpf_perf_event_read", &[ConstMapPtr, Anything], Integer).gpl(),
    P::new(23, "bpf_redirect", &[Anything, Anything], Integer),
    P::new(24, "bpf_get_route_realm", &[PtrToCtx], Integer),
    P::new(25, "bpf_perf_event_output", &[PtrToCtx, ConstMapPtr, Anything, PtrToMem, ConstSizeOrZero], Integer).gpl(),
    P::new(26, "bpf_skb_load_bytes", &[PtrToCtx, Anything, PtrToUninitMem, ConstSize], Integer),
    P::new(27, "bpf_get_stackid", &[PtrToCtx, ConstMapPtr, Anything], Integer).gpl(),
    P::new(28, "bpf_csum_diff", &[PtrToMemOrNull, ConstSizeOrZero, PtrToMemOrNull, ConstSizeOrZero, Anything], Integer).pkt(),
    P::new(29, "bpf_skb_get_tunnel_opt", &[PtrToCtx, PtrToUninitMem, ConstSize], Integer),
    P::new(30, "bpf_skb_set_tunnel_opt", &[PtrToCtx, PtrToMem, ConstSize], Integer),
    P::new(31, "bpf_skb_change_proto", &[PtrToCtx, Anything, Anything], Integer).changes(),
    P::new(32, "bpf_skb_change_type", &[PtrToCtx, Anything], Integer),
    P::new(33, "bpf_skb_under_cgroup", &[PtrToCtx, ConstMapPtr, Anything], Integer),
    P::new(34, "bpf_get_hash_recalc", &[PtrToCtx], Integer),
    P::new(35, "bpf_get_current_task", &[], Integer).gpl(),
    P::new(36, "bpf_probe_write_user", &[Anything, PtrToMem, ConstSize], Integer).gpl(),
    P::new(37, "bpf_current_task_under_cgroup", &[ConstMapPtr, Anything], Integer),
    P::new(38, "bpf_skb_change_tail", &[PtrToCtx, Anything, Anything], Integer).changes(),
    P::new(39, "bpf_skb_pull_data", &[PtrToCtx, Anything], Integer).changes(),
    P::new(40, "bpf_csum_update", &[PtrToCtx, Anything], Integer),
    P::new(41, "bpf_set_hash_invalid", &[PtrToCtx], Void),
    P::new(42, "bpf_get_numa_node_id", &[], Integer),
    P::new(43, "bpf_skb_change_head", &[PtrToCtx, Anything, Anything], Integer).changes(),
    P::new(44, "bpf_xdp_adjust_head", &[PtrToCtx, Anything], Integer).changes(),
    P::new(45, "bpf_probe_read_str", &[PtrToUninitMem, ConstSizeOrZero, Anything], Integer).gpl(),
    P::new(46, "bpf_get_socket_cookie", &[PtrToCtx], Integer),
    P::new(47, "bpf_get_socket_uid", &[PtrToCtx], Integer),
    P::new(48, "bpf_set_hash", &[PtrToCtx, Anything], Integer),
    P::new(49, "bpf_setsockopt", &[PtrToCtx, Anything, Anything, PtrToMem, ConstSize], Integer),
    P::new(50, "bpf_skb_adjust_room", &[PtrToCtx, Anything, Anything, Anything], Integer).changes(),
    P::new(51, "bpf_redirect_map", &[ConstMapPtr, Anything, Anything], Integer),
    P::new(52, "bpf_sk_redirect_map", &[PtrToCtx, ConstMapPtr, Anything, Anything], Integer),
    P::new(53, "bpf_sock_map_update", &[PtrToCtx, ConstMapPtr, PtrToMapKey, Anything], Integer),
    P::new(54, "bpf_xdp_adjust_meta", &[PtrToCtx, Anything], Integer).changes(),
    P::new(55, "bpf_perf_event_read_value", &[ConstMapPtr, Anything, PtrToUninitMem, ConstSize], Integer).gpl(),
    P::new(56, "bpf_perf_prog_read_value", &[PtrToCtx, PtrToUninitMem, ConstSize], Integer).gpl(),
    P::new(57, "bpf_getsockopt", &[PtrToCtx, Anything, Anything, PtrToUninitMem, ConstSize], Integer),
    P::new(58, "bpf_override_return", &[PtrToCtx, Anything], Integer).gpl(),
    P::new(59, "bpf_sock_ops_cb_flags_set", &[PtrToCtx, Anything], Integer),
    P::new(60, "bpf_msg_redirect_map", &[PtrToCtx, ConstMapPtr, Anything, Anything], Integer),
    P::new(61, "bpf_msg_apply_bytes", &[PtrToCtx, Anything], Integer),
    P::new(62, "bpf_msg_cork_bytes", &[PtrToCtx, Anything], Integer),
    P::new(63, "bpf_msg_pull_data", &[PtrToCtx, Anything, Anything, Anything], Integer).changes(),
    P::new(64, "bpf_bind", &[PtrToCtx, PtrToMem, ConstSize], Integer),
    P::new(65, "bpf_xdp_adjust_tail", &[PtrToCtx, Anything], Integer).changes(),
    P::new(66, "bpf_skb_get_xfrm_state", &[PtrToCtx, Anything, PtrToUninitMem, ConstSize, Anything], Integer),
    P::new(67, "bpf_get_stack", &[PtrToCtx, PtrToUninitMem, ConstSizeOrZero, Anything], Integer).gpl(),
    P::new(68, "bpf_skb_load_bytes_relative", &[PtrToCtx, Anything, PtrToUninitMem, ConstSize, Anything], Integer),
    P::new(69, "bpf_fib_lookup", &[PtrToCtx, PtrToMem, ConstSize, Anything], Integer).gpl(),
    P::new(70, "bpf_sock_hash_update", &[PtrToCtx, ConstMapPtr, PtrToMapKey, Anything], Integer),
    P::new(71, "bpf_msg_redirect_hash", &[PtrToCtx, ConstMapPtr, PtrToMapKey, Anything], Integer),
    P::new(72, "bpf_sk_redirect_hash", &[PtrToCtx, ConstMapPtr, PtrToMapKey, Anything], Integer),
    P::new(73, "bpf_lwt_push_encap", &[PtrToCtx, Anything, PtrToMem, ConstSize], Integer).changes(),
    P::new(74, "bpf_lwt_seg6_store_bytes", &[PtrToCtx, Anything, PtrToMem, ConstSize], Integer).changes(),
    P::new(75, "bpf_lwt_seg6_adjust_srh", &[PtrToCtx, Anything, Anything], Integer).changes(),
    P::new(76, "bpf_lwt_seg6_action", &[PtrToCtx, Anything, PtrToMem, ConstSize], Integer).changes(),
    P::new(77, "bpf_rc_repeat", &[PtrToCtx], Integer).gpl(),
    P::new(78, "bpf_rc_keydown", &[PtrToCtx, Anything, Anything, Anything], Integer).gpl(),
    P::new(79, "bpf_skb_cgroup_id", &[PtrToCtx], Integer),
    P::new(80, "bpf_get_current_cgroup_id", &[], Integer),
    P::new(81, "bpf_get_local_storage", &[ConstMapPtr, Anything], MapValue),
    P::new(82, "bpf_sk_select_reuseport", &[PtrToCtx, ConstMapPtr, PtrToMapKey, Anything], Integer),
    P::new(83, "bpf_skb_ancestor_cgroup_id", &[PtrToCtx, Anything], Integer),
    P::new(84, "bpf_sk_lookup_tcp", &[PtrToCtx, PtrToMem, ConstSize, Anything, Anything], SocketOrNull).pkt().acq(),
    P::new(85, "bpf_sk_lookup_udp", &[PtrToCtx, PtrToMem, ConstSize, Anything, Anything], SocketOrNull).pkt().acq(),
    P::new(86, "bpf_sk_release", &[PtrToSockCommon], Integer).rel(0),
    P::new(87, "bpf_map_push_elem", &[ConstMapPtr, PtrToMapValue, Anything], Integer).pkt(),
    P::new(88, "bpf_map_pop_elem", &[ConstMapPtr, PtrToUninitMapValue], Integer),
    P::new(89, "bpf_map_peek_elem", &[ConstMapPtr, PtrToUninitMapValue], Integer),
    P::new(90, "bpf_msg_push_data", &[PtrToCtx, Anything, Anything, Anything], Integer).changes(),
    P::new(91, "bpf_msg_pop_data", &[PtrToCtx, Anything, Anything, Anything], Integer).changes(),
    P::new(92, "bpf_rc_pointer_rel", &[PtrToCtx, Anything, Anything], Integer).gpl(),
    P::new(93, "bpf_spin_lock", &[PtrToSpinLock], Void),
    P::new(94, "bpf_spin_unlock", &[PtrToSpinLock], Void),
    P::new(95, "bpf_sk_fullsock", &[PtrToSockCommon], SocketOrNull),
    P::new(96, "bpf_tcp_sock", &[PtrToSockCommon], TcpSockOrNull),
    P::new(97, "bpf_skb_ecn_set_ce", &[PtrToCtx], Integer),
    P::new(98, "bpf_get_listener_sock", &[PtrToSockCommon], SocketOrNull),
    P::new(99, "bpf_skc_lookup_tcp", &[PtrToCtx, PtrToMem, ConstSize, Anything, Anything], SockCommonOrNull).pkt().acq(),
    P::new(100, "bpf_tcp_check_syncookie", &[PtrToSockCommon, PtrToMem, ConstSize, PtrToMem, ConstSize], Integer).pkt(),
    P::new(101, "bpf_sysctl_get_name", &[PtrToCtx, PtrToMem, ConstSize, Anything], Integer),
    P::new(102, "bpf_sysctl_get_current_value", &[PtrToCtx, PtrToUninitMem, ConstSize], Integer),
    P::new(103, "bpf_sysctl_get_new_value", &[PtrToCtx, PtrToUninitMem, ConstSize], Integer),
    P::new(104, "bpf_sysctl_set_new_value", &[PtrToCtx, PtrToMem, ConstSize], Integer),
    P::new(105, "bpf_strtol", &[PtrToMem, ConstSize, Anything, PtrToLong], Integer),
    P::new(106, "bpf_strtoul", &[PtrToMem, ConstSize, Anything, PtrToLong], Integer),
    P::new(107, "bpf_sk_storage_get", &[ConstMapPtr, PtrToSockCommon, PtrToMapValueOrNull, Anything], MapValueOrNull),
    P::new(108, "bpf_sk_storage_delete", &[ConstMapPtr, PtrToSockCommon], Integer),
    P::new(109, "bpf_send_signal", &[Anything], Integer),
    P::new(110, "bpf_tcp_gen_syncookie", &[PtrToSockCommon, PtrToMem, ConstSize, PtrToMem, ConstSize], Integer).pkt(),
    P::new(111, "bpf_skb_output", &[PtrToBtfId, ConstMapPtr, Anything, PtrToMem, ConstSizeOrZero], Integer).gpl(),
    P::new(112, "bpf_probe_read_user", &[PtrToUninitMem, ConstSizeOrZero, Anything], Integer).gpl(),
    P::new(113, "bpf_probe_read_kernel", &[PtrToUninitMem, ConstSizeOrZero, Anything], Integer).gpl(),
    P::new(114, "bpf_probe_read_user_str", &[PtrToUninitMem, ConstSizeOrZero, Anything], Integer).gpl(),
    P::new(115, "bpf_probe_read_kernel_str", &[PtrToUninitMem, ConstSizeOrZero, Anything], Integer).gpl(),
    P::new(116, "bpf_tcp_send_ack", &[PtrToBtfId, Anything], Integer),
    P::new(117, "bpf_send_signal_thread", &[Anything], Integer),
    P::new(118, "bpf_jiffies64", &[], Integer),
    P::new(119, "bpf_read_branch_records", &[PtrToCtx, PtrToMemOrNull, ConstSizeOrZero, Anything], Integer).gpl(),
    P::new(120, "bpf_get_ns_current_pid_tgid", &[Anything, Anything, PtrToUninitMem, ConstSize], Integer),
    P::new(121, "bpf_xdp_output", &[PtrToBtfId, ConstMapPtr, Anything, PtrToMem, ConstSizeOrZero], Integer).gpl(),
    P::new(122, "bpf_get_netns_cookie", &[PtrToCtxOrNull], Integer),
    P::new(123, "bpf_get_current_ancestor_cgroup_id", &[Anything], Integer),
    P::new(124, "bpf_sk_assign", &[PtrToCtx, PtrToSockCommon, Anything], Integer),
    P::new(125, "bpf_ktime_get_boot_ns", &[], Integer),
    P::new(126, "bpf_seq_printf", &[PtrToBtfId, PtrToMem, ConstSize, PtrToMemOrNull, ConstSizeOrZero], Integer).gpl(),
    P::new(127, "bpf_seq_write", &[PtrToBtfId, PtrToMem, ConstSizeOrZero], Integer).gpl(),
    P::new(128, "bpf_sk_cgroup_id", &[PtrToSockCommon], Integer),
    P::new(129, "bpf_sk_ancestor_cgroup_id", &[PtrToSockCommon, Anything], Integer),
    P::new(130, "bpf_ringbuf_output", &[ConstMapPtr, PtrToMem, ConstSizeOrZero, Anything], Integer),
    P::new(131, "bpf_ringbuf_reserve", &[ConstMapPtr, ConstAllocSizeOrZero, Anything], AllocMemOrNull).acq().alloc(1),
    P::new(132, "bpf_ringbuf_submit", &[PtrToAllocMem, Anything], Void).rel(0),
    P::new(133, "bpf_ringbuf_discard", &[PtrToAllocMem, Anything], Void).rel(0),
    P::new(134, "bpf_ringbuf_query", &[ConstMapPtr, Anything], Integer),
    P::new(135, "bpf_csum_level", &[PtrToCtx, Anything], Integer),
    P::new(136, "bpf_skc_to_tcp6_sock", &[PtrToBtfId], BtfIdOrNull),
    P::new(137, "bpf_skc_to_tcp_sock", &[PtrToBtfId], BtfIdOrNull),
    P::new(138, "bpf_skc_to_tcp_timewait_sock", &[PtrToBtfId], BtfIdOrNull),
    P::new(139, "bpf_skc_to_tcp_request_sock", &[PtrToBtfId], BtfIdOrNull),
    P::new(140, "bpf_skc_to_udp6_sock", &[PtrToBtfId], BtfIdOrNull),
    P::new(141, "bpf_get_task_stack", &[PtrToBtfId, PtrToUninitMem, ConstSizeOrZero, Anything], Integer),
    P::new(142, "bpf_load_hdr_opt", &[PtrToCtx, PtrToMem, ConstSize, Anything], Integer),
    P::new(143, "bpf_store_hdr_opt", &[PtrToCtx, PtrToMem, ConstSize, Anything], Integer).changes(),
    P::new(144, "bpf_reserve_hdr_opt", &[PtrToCtx, Anything, Anything], Integer),
    P::new(145, "bpf_inode_storage_get", &[ConstMapPtr, PtrToBtfId, PtrToMapValueOrNull, Anything], MapValueOrNull),
    P::new(146, "bpf_inode_storage_delete", &[ConstMapPtr, PtrToBtfId], Integer),
    P::new(147, "bpf_d_path", &[PtrToBtfId, PtrToMem, ConstSizeOrZero], Integer),
    P::new(148, "bpf_copy_from_user", &[PtrToUninitMem, ConstSizeOrZero, Anything], Integer),
    P::new(149, "bpf_snprintf_btf", &[PtrToMem, ConstSize, PtrToMem, ConstSize, Anything], Integer),
    P::new(150, "bpf_seq_printf_btf", &[PtrToBtfId, PtrToMem, ConstSizeOrZero, Anything], Integer),
    P::new(151, "bpf_skb_cgroup_classid", &[PtrToCtx], Integer),
    P::new(152, "bpf_redirect_neigh", &[Anything, PtrToMemOrNull, ConstSizeOrZero, Anything], Integer),
    P::new(153, "bpf_per_cpu_ptr", &[PtrToPercpuBtfId, Anything], PtrToMemOrBtfIdOrNull),
    P::new(154, "bpf_this_cpu_ptr", &[PtrToPercpuBtfId], RetKind::PtrToBtfId),
    P::new(155, "bpf_redirect_peer", &[Anything, Anything], Integer),
    P::new(156, "bpf_task_storage_get", &[ConstMapPtr, PtrToBtfId, PtrToMapValueOrNull, Anything], MapValueOrNull),
    P::new(157, "bpf_task_storage_delete", &[ConstMapPtr, PtrToBtfId], Integer),
    P::new(158, "bpf_get_current_task_btf", &[], RetKind::PtrToBtfId).gpl(),
    P::new(159, "bpf_bprm_opts_set", &[PtrToBtfId, Anything], Integer),
    P::new(160, "bpf_ktime_get_coarse_ns", &[], Integer),
    P::new(161, "bpf_ima_inode_hash", &[PtrToBtfId, PtrToUninitMem, ConstSize], Integer),
    P::new(162, "bpf_sock_from_file", &[PtrToBtfId], BtfIdOrNull),
    P::new(163, "bpf_check_mtu", &[PtrToCtx, Anything, PtrToInt, Anything, Anything], Integer),
    P::new(164, "bpf_for_each_map_elem", &[ConstMapPtr, PtrToFunc, PtrToStackOrNull, Anything], Integer),
    P::new(165, "bpf_snprintf", &[PtrToMemOrNull, ConstSizeOrZero, PtrToConstStr, PtrToMemOrNull, ConstSizeOrZero], Integer),
    P::new(166, "bpf_sys_bpf", &[Anything, PtrToMem, ConstSize], Integer),
    P::new(167, "bpf_btf_find_by_name_kind", &[PtrToMem, ConstSize, Anything, Anything], Integer),
    P::new(168, "bpf_sys_close", &[Anything], Integer),
    P::new(169, "bpf_timer_init", &[PtrToTimer, ConstMapPtr, Anything], Integer),
    P::new(170, "bpf_timer_set_callback", &[PtrToTimer, PtrToFunc], Integer),
    P::new(171, "bpf_timer_start", &[PtrToTimer, Anything, Anything], Integer),
    P::new(172, "bpf_timer_cancel", &[PtrToTimer], Integer),
    P::new(173, "bpf_get_func_ip", &[PtrToCtx], Integer),
    P::new(174, "bpf_get_attach_cookie", &[PtrToCtx], Integer),
    P::new(175, "bpf_task_pt_regs", &[PtrToBtfId], RetKind::PtrToBtfId),
    P::new(176, "bpf_get_branch_snapshot", &[PtrToUninitMem, ConstSizeOrZero, Anything], Integer),
    P::new(177, "bpf_trace_vprintk", &[PtrToMem, ConstSize, PtrToMemOrNull, ConstSizeOrZero], Integer).gpl(),
    P::new(178, "bpf_skc_to_unix_sock", &[PtrToBtfId], BtfIdOrNull),
    P::new(179, "bpf_kallsyms_lookup_name", &[PtrToMem, ConstSize, Anything, PtrToLong], Integer),
    P::new(180, "bpf_find_vma", &[PtrToBtfId, Anything, PtrToFunc, PtrToStackOrNull, Anything], Integer),
    P::new(181, "bpf_loop", &[Anything, PtrToFunc, PtrToStackOrNull, Anything], Integer),
    P::new(182, "bpf_strncmp", &[PtrToMem, ConstSize, PtrToConstStr], Integer),
    P::new(183, "bpf_get_func_arg", &[PtrToCtx, Anything, PtrToLong], Integer),
    P::new(184, "bpf_get_func_ret", &[PtrToCtx, PtrToLong], Integer),
    P::new(185, "bpf_get_func_arg_cnt", &[PtrToCtx], Integer),
    P::new(186, "bpf_get_retval", &[], Integer),
    P::new(187, "bpf_set_retval", &[Anything], Integer),
    P::new(188, "bpf_xdp_get_buff_len", &[PtrToCtx], Integer),
    P::new(189, "bpf_xdp_load_bytes", &[PtrToCtx, Anything, PtrToUninitMem, ConstSize], Integer),
    P::new(190, "bpf_xdp_store_bytes", &[PtrToCtx, Anything, PtrToMem, ConstSize], Integer),
    P::new(191, "bpf_copy_from_user_task", &[PtrToUninitMem, ConstSizeOrZero, Anything, PtrToBtfId, Anything], Integer).gpl(),
    P::new(192, "bpf_skb_set_tstamp", &[PtrToCtx, Anything, Anything], Integer),
    P::new(193, "bpf_ima_file_hash", &[PtrToBtfId, PtrToUninitMem, ConstSize], Integer),
    P::new(194, "bpf_kptr_xchg", &[PtrToKptr, PtrToBtfId], BtfIdOrNull).rel(1),
    P::new(195, "bpf_map_lookup_percpu_elem", &[ConstMapPtr, PtrToMapKey, Anything], MapValueOrNull).pkt(),
    P::new(196, "bpf_skc_to_mptcp_sock", &[PtrToBtfId], BtfIdOrNull),
    P::new(197, "bpf_dynptr_from_mem", &[PtrToUninitMem, ConstSizeOrZero, Anything, PtrToDynptr], Integer),
    P::new(198, "bpf_ringbuf_reserve_dynptr", &[ConstMapPtr, Anything, Anything, PtrToDynptr], Integer).acq(),
    P::new(199, "bpf_ringbuf_submit_dynptr", &[PtrToDynptr, Anything], Void).rel(0),
    P::new(200, "bpf_ringbuf_discard_dynptr", &[PtrToDynptr, Anything], Void).rel(0),
    P::new(201, "bpf_dynptr_read", &[PtrToUninitMem, ConstSizeOrZero, PtrToDynptr, Anything, Anything], Integer),
    P::new(202, "bpf_dynptr_write", &[PtrToDynptr, Anything, PtrToMem, ConstSizeOrZero, Anything], Integer),
    P::new(203, "bpf_dynptr_data", &[PtrToDynptr, Anything, ConstAllocSizeOrZero], MemOrNull).alloc(2),
    P::new(204, "bpf_tcp_raw_gen_syncookie_ipv4", &[PtrToMem, PtrToMem, ConstSizeOrZero], Integer),
    P::new(205, "bpf_tcp_raw_gen_syncookie_ipv6", &[PtrToMem, PtrToMem, ConstSizeOrZero], Integer),
    P::new(206, "bpf_tcp_raw_check_syncookie_ipv4", &[PtrToMem, PtrToMem], Integer),
    P::new(207, "bpf_tcp_raw_check_syncookie_ipv6", &[PtrToMem, PtrToMem], Integer),
    P::new(208, "bpf_ktime_get_tai_ns", &[], Integer),
    P::new(209, "bpf_user_ringbuf_drain", &[ConstMapPtr, PtrToFunc, PtrToStackOrNull, Anything], Integer),
    P::new(210, "bpf_cgrp_storage_get", &[ConstMapPtr, PtrToBtfId, PtrToMapValueOrNull, Anything], MapValueOrNull),
    P::new(211, "bpf_cgrp_storage_delete", &[ConstMapPtr, PtrToBtfId], Integer),
];

/// Per-program-type prototype variants (see the module header).
static VARIANT_TRACING_GET_SOCKET_COOKIE: HelperProto =
    P::new(46, "bpf_get_socket_cookie", &[PtrToSockCommon], Integer);
static VARIANT_CGROUP_SOCK_SK_STORAGE_GET: HelperProto =
    P::new(107, "bpf_sk_storage_get", &[ConstMapPtr, PtrToCtx, PtrToMapValueOrNull, Anything], MapValueOrNull);
static VARIANT_SK_LOOKUP_SK_ASSIGN: HelperProto =
    P::new(124, "bpf_sk_assign", &[PtrToCtx, PtrToSocketOrNull, Anything], Integer);
static VARIANT_TC_GET_NETNS_COOKIE: HelperProto = P::new(122, "bpf_get_netns_cookie", &[PtrToCtx], Integer);
static VARIANT_TRACING_PERF_EVENT_OUTPUT: HelperProto =
    P::new(25, "bpf_perf_event_output", &[PtrToBtfId, ConstMapPtr, Anything, PtrToMem, ConstSizeOrZero], Integer).gpl();

/// The prototype of helper `id` (the kernel's `func_id_name`/proto), or None for an unknown id
/// (the kernel then reports `invalid func unknown#N`).
pub fn helper_proto(id: i32) -> Option<&'static HelperProto> {
    let idx = HELPERS.binary_search_by_key(&id, |p| p.id).ok()?;
    HELPERS.get(idx)
}

/// The prototype `prog_type` sees for helper `id`, including the per-type variants listed in the module header.
/// Does not check [`helper_allowed`].
pub fn helper_proto_for(prog_type: ProgType, id: i32) -> Option<&'static HelperProto> {
    use ProgType::*;
    match (prog_type, id) {
        (Tracing | Lsm | StructOps, 46) => Some(&VARIANT_TRACING_GET_SOCKET_COOKIE),
        (Tracing | Lsm | StructOps, 25) => Some(&VARIANT_TRACING_PERF_EVENT_OUTPUT),
        (CgroupSock, 107) => Some(&VARIANT_CGROUP_SOCK_SK_STORAGE_GET),
        (SkLookup, 124) => Some(&VARIANT_SK_LOOKUP_SK_ASSIGN),
        (SchedCls | SchedAct, 122) => Some(&VARIANT_TC_GET_NETNS_COOKIE),
        _ => helper_proto(id),
    }
}

/// Size in bytes of an `ARG_PTR_TO_FIXED_SIZE_MEM` argument (`argN_size`), for `PtrToLong`/`PtrToInt`
/// and for fixed-size `PtrToMem` arguments that have no size argument after them.
pub fn fixed_mem_arg_size(id: i32, arg: usize) -> Option<u32> {
    match (id, arg) {
        (105 | 106, 3) | (179, 3) | (183, 2) | (184, 1) => Some(8),
        (163, 2) => Some(4),
        // struct iphdr / struct ipv6hdr, then struct tcphdr.
        (204 | 206, 0) => Some(20),
        (205 | 207, 0) => Some(40),
        (206 | 207, 1) => Some(20),
        _ => None,
    }
}

/// For helpers whose Integer return the kernel bounds by a size argument (`do_refine_retval_range`:
/// `get_stack`, `get_task_stack`, `probe_read_str`, `probe_read_{kernel,user}_str`): the index of that
/// argument. R0 is then in `[-MAX_ERRNO, max value of that argument]`.
pub fn ret_bounded_by_size_arg(id: i32) -> Option<usize> {
    match id {
        67 | 141 => Some(2),
        45 | 114 | 115 => Some(1),
        _ => None,
    }
}

/// Whether `prog_type` may call helper `id` (the kernel's per-type `get_func_proto`), assuming a GPL
/// license and root (CAP_SYS_ADMIN/CAP_PERFMON). For types whose allowed set depends on the
/// expected attach type (cgroup_sock_addr, cgroup_sockopt), true when any attach type allows it;
/// use [`helper_allowed_for`] for the exact answer.
pub fn helper_allowed(prog_type: ProgType, id: i32) -> bool {
    use ProgType::*;
    match prog_type {
        CgroupSockAddr => [sets::SOCK_ADDR_BIND, sets::SOCK_ADDR_CONNECT, sets::SOCK_ADDR_SENDMSG, sets::SOCK_ADDR_OTHER]
            .iter()
            .any(|s| in_set(s, id)),
        CgroupSockopt => in_set(sets::SOCKOPT_GET, id) || in_set(sets::SOCKOPT_SET, id),
        _ => helper_allowed_for(prog_type, None, id),
    }
}

/// [`helper_allowed`] for a known expected attach type.
///
/// Not probed (the kernel needs a BTF attach target to load them) and so approximated from the sources:
/// tracing, lsm and struct_ops get the raw_tracepoint set plus the helpers `tracing_prog_func_proto` /
/// `bpf_lsm_func_proto` add; ext inherits its target's set, unknown here, so every known helper is allowed;
/// lirc_mode2 (not built into the probed kernel) gets the base set plus the `rc_*` helpers.
pub fn helper_allowed_for(prog_type: ProgType, attach: Option<AttachType>, id: i32) -> bool {
    use ProgType::*;
    let set: &[u8] = match prog_type {
        Unspec => return false,
        SocketFilter => sets::SOCKET_FILTER,
        Kprobe => sets::KPROBE,
        SchedCls => sets::SCHED_CLS,
        SchedAct => sets::SCHED_ACT,
        Tracepoint => sets::TRACEPOINT,
        Xdp => sets::XDP,
        PerfEvent => sets::PERF_EVENT,
        CgroupSkb => sets::CGROUP_SKB,
        CgroupSock => sets::CGROUP_SOCK,
        LwtIn => sets::LWT_IN,
        LwtOut => sets::LWT_OUT,
        LwtXmit => sets::LWT_XMIT,
        SockOps => sets::SOCK_OPS,
        SkSkb => sets::SK_SKB,
        CgroupDevice => sets::CGROUP_DEVICE,
        SkMsg => sets::SK_MSG,
        RawTracepoint => sets::RAW_TRACEPOINT,
        CgroupSockAddr => {
            use AttachType::*;
            match attach {
                Some(CgroupInet4Bind | CgroupInet6Bind) => sets::SOCK_ADDR_BIND,
                Some(CgroupInet4Connect | CgroupInet6Connect) => sets::SOCK_ADDR_CONNECT,
                Some(CgroupUdp4Sendmsg | CgroupUdp6Sendmsg) => sets::SOCK_ADDR_SENDMSG,
                Some(_) => sets::SOCK_ADDR_OTHER,
                None => return helper_allowed(prog_type, id),
            }
        }
        LwtSeg6local => sets::LWT_SEG6LOCAL,
        LircMode2 => return matches!(id, 77 | 78 | 92) || base_allowed(id),
        SkReuseport => sets::SK_REUSEPORT,
        FlowDissector => sets::FLOW_DISSECTOR,
        CgroupSysctl => sets::CGROUP_SYSCTL,
        RawTracepointWritable => sets::RAW_TRACEPOINT_WRITABLE,
        CgroupSockopt => match attach {
            Some(AttachType::CgroupSetsockopt) => sets::SOCKOPT_SET,
            Some(_) => sets::SOCKOPT_GET,
            None => return helper_allowed(prog_type, id),
        },
        Tracing | StructOps => return in_set(sets::RAW_TRACEPOINT, id) || TRACING_EXTRA.contains(&id),
        Lsm => return in_set(sets::RAW_TRACEPOINT, id) || TRACING_EXTRA.contains(&id) || LSM_EXTRA.contains(&id),
        Ext => return helper_proto(id).is_some(),
        SkLookup => sets::SK_LOOKUP,
        Syscall => sets::SYSCALL,
        Netfilter => sets::NETFILTER,
    };
    in_set(set, id)
}

/// Helpers `tracing_prog_func_proto` adds on top of `bpf_tracing_func_proto` (skb/xdp output, socket
/// casts, sk_storage, seq_* for iterators, d_path, func arg/ret access, sleepable user copies).
const TRACING_EXTRA: &[i32] = &[
    46, 107, 108, 111, 116, 121, 126, 127, 136, 137, 138, 139, 140, 147, 148, 150, 162, 173, 174, 178, 183, 184,
    185, 191, 196,
];

/// Helpers `bpf_lsm_func_proto` adds (local storages, bprm/ima, retval for lsm_cgroup).
const LSM_EXTRA: &[i32] = &[145, 146, 159, 161, 186, 187, 193];

/// `bpf_base_func_proto` as seen by root: the helpers every probed program type may call.
fn base_allowed(id: i32) -> bool {
    in_set(sets::CGROUP_DEVICE, id) && in_set(sets::SOCKET_FILTER, id) && in_set(sets::NETFILTER, id)
}

fn in_set(set: &[u8], id: i32) -> bool {
    u8::try_from(id).is_ok_and(|b| set.binary_search(&b).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_dense_and_well_formed() {
        for (i, p) in HELPERS.iter().enumerate() {
            assert_eq!(p.id, i as i32 + 1, "{}", p.name);
            assert!(p.args.len() <= 5, "{}", p.name);
            assert!(p.name.starts_with("bpf_"), "{}", p.name);
            // A size argument always follows a memory argument.
            for (j, a) in p.args.iter().enumerate() {
                if matches!(a, ConstSize | ConstSizeOrZero) {
                    let prev = j.checked_sub(1).map(|k| p.args[k]);
                    assert!(
                        matches!(prev, Some(PtrToMem | PtrToMemOrNull | PtrToUninitMem)),
                        "{} arg{} size without memory",
                        p.name,
                        j + 1
                    );
                }
            }
            if matches!(p.ret, AllocMemOrNull | MemOrNull) {
                let a = p.alloc_size_arg.expect("alloc size arg");
                assert_eq!(p.arg(a), ConstAllocSizeOrZero, "{}", p.name);
            }
            if let Some(r) = p.release_arg {
                assert!(r < p.args.len(), "{}", p.name);
            }
        }
        assert_eq!(HELPERS.len(), 211);
    }

    #[test]
    fn known_protos_match_the_kernel() {
        let p = helper_proto(1).unwrap();
        assert_eq!(p.name, "bpf_map_lookup_elem");
        assert_eq!(p.args, &[ConstMapPtr, PtrToMapKey]);
        assert_eq!(p.ret, MapValueOrNull);
        assert!(p.pkt_access && !p.gpl_only);

        let p = helper_proto(131).unwrap();
        assert_eq!((p.ret, p.acquire, p.alloc_size_arg), (AllocMemOrNull, true, Some(1)));
        assert_eq!(helper_proto(132).unwrap().release_arg, Some(0));
        assert_eq!(helper_proto(133).unwrap().release_arg, Some(0));
        assert_eq!(helper_proto(86).unwrap().release_arg, Some(0));
        assert!(helper_proto(84).unwrap().acquire && helper_proto(85).unwrap().acquire);
        assert_eq!(helper_proto(84).unwrap().ret, SocketOrNull);
        assert_eq!(helper_proto(8).unwrap().ret_range, Some((0, MAX_CPU_ID)));
        assert!(helper_proto(4).unwrap().gpl_only && helper_proto(25).unwrap().gpl_only);
        assert!(!helper_proto(2).unwrap().gpl_only);
        assert_eq!(helper_proto(16).unwrap().args, &[PtrToUninitMem, ConstSize]);
        assert_eq!(helper_proto(12).unwrap().ret, Void);
        assert_eq!(helper_proto(93).unwrap().args, &[PtrToSpinLock]);
        assert_eq!(helper_proto(81).unwrap().ret, MapValue);
        assert_eq!(helper_proto(88).unwrap().args, &[ConstMapPtr, PtrToUninitMapValue]);
        assert_eq!(helper_proto(181).unwrap().arg(1), PtrToFunc);
        assert_eq!(helper_proto(181).unwrap().arg(4), DontCare);
    }

    #[test]
    fn changes_pkt_data_is_the_kernels_list() {
        // bpf_helper_changes_pkt_data() in net/core/filter.c (Linux 6.18).
        let want = [9, 10, 11, 13, 18, 19, 31, 38, 39, 43, 44, 50, 54, 63, 65, 73, 74, 75, 76, 90, 91, 143];
        let got: Vec<i32> = HELPERS.iter().filter(|p| p.changes_pkt_data).map(|p| p.id).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn unknown_ids_have_no_proto() {
        assert!(helper_proto(0).is_none());
        assert!(helper_proto(212).is_none());
        assert!(helper_proto(-1).is_none());
        assert!(helper_proto(308).is_none());
        assert!(!helper_allowed(ProgType::Xdp, 308));
        assert!(!helper_allowed(ProgType::Xdp, -1));
    }

    #[test]
    fn per_type_allowed_sets() {
        use ProgType::*;
        assert!(helper_allowed(Xdp, 44));
        assert!(!helper_allowed(Xdp, 26), "xdp uses xdp_load_bytes, not skb_load_bytes");
        assert!(helper_allowed(SchedCls, 26));
        assert!(!helper_allowed(SocketFilter, 9), "skb_store_bytes is tc-only");
        assert!(helper_allowed(SchedCls, 9));
        assert!(helper_allowed(Kprobe, 6));
        assert!(!helper_allowed(Kprobe, 26));
        assert!(helper_allowed(CgroupSockAddr, 64));
        assert!(helper_allowed_for(CgroupSockAddr, Some(AttachType::CgroupInet4Connect), 64));
        assert!(!helper_allowed_for(CgroupSockAddr, Some(AttachType::CgroupInet4Bind), 64));
        assert!(helper_allowed_for(CgroupSockopt, Some(AttachType::CgroupSetsockopt), 49));
        assert!(!helper_allowed_for(CgroupSockopt, Some(AttachType::CgroupGetsockopt), 49));
        assert!(!helper_allowed(Unspec, 1));
        assert!(helper_allowed(Tracing, 111) && helper_allowed(Lsm, 145) && !helper_allowed(Tracing, 145));
        assert!(helper_allowed(LircMode2, 77) && helper_allowed(LircMode2, 1) && !helper_allowed(LircMode2, 26));
    }

    #[test]
    fn variants_per_prog_type() {
        assert_eq!(helper_proto_for(ProgType::CgroupSock, 107).unwrap().arg(1), PtrToCtx);
        assert_eq!(helper_proto_for(ProgType::SchedCls, 107).unwrap().arg(1), PtrToSockCommon);
        assert_eq!(helper_proto_for(ProgType::SkLookup, 124).unwrap().arg(1), PtrToSocketOrNull);
        assert_eq!(helper_proto_for(ProgType::Tracing, 46).unwrap().arg(0), PtrToSockCommon);
        assert_eq!(helper_proto_for(ProgType::Kprobe, 25).unwrap().arg(0), PtrToCtx);
    }

    #[test]
    fn fixed_sizes_and_ret_bounds() {
        assert_eq!(fixed_mem_arg_size(105, 3), Some(8));
        assert_eq!(fixed_mem_arg_size(163, 2), Some(4));
        assert_eq!(fixed_mem_arg_size(1, 0), None);
        assert_eq!(ret_bounded_by_size_arg(67), Some(2));
        assert_eq!(ret_bounded_by_size_arg(115), Some(1));
        assert_eq!(ret_bounded_by_size_arg(113), None);
    }

    /// Every program type/attach type the probe could load: `helper_allowed_for` matches the live kernel.
    #[test]
    fn allowed_sets_match_the_probe_fixture() {
        let fixture = include_str!("testdata/helper_probe.tsv");
        let mut checked = 0;
        for line in fixture.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            let [pt, eat, status, ids] = cols[..] else { panic!("bad fixture line {line}") };
            if status != "ok" {
                continue;
            }
            let pt: u32 = pt.parse().unwrap();
            let eat: u32 = eat.parse().unwrap();
            let prog_type = ProgType::ALL[pt as usize];
            let attach = attach_from_u32(eat);
            if prog_type == ProgType::CgroupSockAddr && attach.is_none() {
                continue; // unix socket attach types (49..) are not in AttachType
            }
            let allowed: Vec<i32> = ids.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
            for id in 1..=211 {
                assert_eq!(
                    helper_allowed_for(prog_type, attach, id),
                    allowed.contains(&id),
                    "{} attach {eat} helper {id}",
                    prog_type.name()
                );
                if allowed.contains(&id) {
                    assert!(helper_allowed(prog_type, id));
                    assert!(helper_proto(id).is_some());
                }
            }
            checked += 1;
        }
        assert!(checked >= 35, "only {checked} fixture rows");
    }

    fn attach_from_u32(v: u32) -> Option<AttachType> {
        use AttachType::*;
        Some(match v {
            8 => CgroupInet4Bind,
            9 => CgroupInet6Bind,
            10 => CgroupInet4Connect,
            11 => CgroupInet6Connect,
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
            _ => return None,
        })
    }

    /// Every helper id called (src_reg 0) by an object in /work/shared/ebpf-samples has a prototype.
    #[test]
    fn every_sample_helper_has_a_proto() {
        let dir = std::path::Path::new("/work/shared/ebpf-samples");
        if !dir.is_dir() {
            eprintln!("SKIPPED every_sample_helper_has_a_proto: {} is absent", dir.display());
            return;
        }
        let mut ids = std::collections::BTreeSet::new();
        let mut files = 0;
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    if bytes.starts_with(b"\x7fELF") {
                        files += 1;
                        collect_helper_calls(&bytes, &mut ids);
                    }
                }
            }
        }
        assert!(files > 100, "found only {files} objects");
        assert!(ids.len() > 50, "found only {} helper ids", ids.len());
        let missing: Vec<i32> = ids.iter().copied().filter(|&id| helper_proto(id).is_none()).collect();
        assert!(missing.is_empty(), "helpers without proto: {missing:?}");
    }

    /// Helper ids of `call` insns (opcode 0x85, src_reg 0) in the executable sections of a 64-bit LE ELF.
    fn collect_helper_calls(bytes: &[u8], ids: &mut std::collections::BTreeSet<i32>) {
        use object::{Object, ObjectSection, SectionKind};
        let Ok(file) = object::File::parse(bytes) else { return };
        if !file.is_little_endian() {
            return;
        }
        for sec in file.sections() {
            if sec.kind() != SectionKind::Text {
                continue;
            }
            let Ok(data) = sec.data() else { continue };
            for insn in data.chunks_exact(8) {
                let src = insn[1] >> 4;
                let imm = i32::from_le_bytes([insn[4], insn[5], insn[6], insn[7]]);
                // A helper call's imm is a real id; unresolved relocations (-1) are not helper calls.
                if insn[0] == 0x85 && src == 0 && imm > 0 {
                    ids.insert(imm);
                }
            }
        }
    }
}
