//! Map types (`enum bpf_map_type`) and which helpers accept which map type.
//!
//! Ports, from Linux 6.18: the UAPI `enum bpf_map_type` (include/uapi/linux/bpf.h), the names libbpf and
//! bpftool print (`map_type_name`), `check_map_func_compatibility` and `may_update_sockmap`
//! (kernel/bpf/verifier.c), and what `check_helper_call` makes of `bpf_map_lookup_elem`'s result
//! per map type (map value, inner map, socket, XDP socket).

use crate::prog_type::{AttachType, ProgType};

pub const BPF_MAP_TYPE_UNSPEC: u32 = 0;
pub const BPF_MAP_TYPE_HASH: u32 = 1;
pub const BPF_MAP_TYPE_ARRAY: u32 = 2;
pub const BPF_MAP_TYPE_PROG_ARRAY: u32 = 3;
pub const BPF_MAP_TYPE_PERF_EVENT_ARRAY: u32 = 4;
pub const BPF_MAP_TYPE_PERCPU_HASH: u32 = 5;
pub const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
pub const BPF_MAP_TYPE_STACK_TRACE: u32 = 7;
pub const BPF_MAP_TYPE_CGROUP_ARRAY: u32 = 8;
pub const BPF_MAP_TYPE_LRU_HASH: u32 = 9;
pub const BPF_MAP_TYPE_LRU_PERCPU_HASH: u32 = 10;
pub const BPF_MAP_TYPE_LPM_TRIE: u32 = 11;
pub const BPF_MAP_TYPE_ARRAY_OF_MAPS: u32 = 12;
pub const BPF_MAP_TYPE_HASH_OF_MAPS: u32 = 13;
pub const BPF_MAP_TYPE_DEVMAP: u32 = 14;
pub const BPF_MAP_TYPE_SOCKMAP: u32 = 15;
pub const BPF_MAP_TYPE_CPUMAP: u32 = 16;
pub const BPF_MAP_TYPE_XSKMAP: u32 = 17;
pub const BPF_MAP_TYPE_SOCKHASH: u32 = 18;
pub const BPF_MAP_TYPE_CGROUP_STORAGE: u32 = 19;
pub const BPF_MAP_TYPE_REUSEPORT_SOCKARRAY: u32 = 20;
pub const BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: u32 = 21;
pub const BPF_MAP_TYPE_QUEUE: u32 = 22;
pub const BPF_MAP_TYPE_STACK: u32 = 23;
pub const BPF_MAP_TYPE_SK_STORAGE: u32 = 24;
pub const BPF_MAP_TYPE_DEVMAP_HASH: u32 = 25;
pub const BPF_MAP_TYPE_STRUCT_OPS: u32 = 26;
pub const BPF_MAP_TYPE_RINGBUF: u32 = 27;
pub const BPF_MAP_TYPE_INODE_STORAGE: u32 = 28;
pub const BPF_MAP_TYPE_TASK_STORAGE: u32 = 29;
pub const BPF_MAP_TYPE_BLOOM_FILTER: u32 = 30;
pub const BPF_MAP_TYPE_USER_RINGBUF: u32 = 31;
pub const BPF_MAP_TYPE_CGRP_STORAGE: u32 = 32;
pub const BPF_MAP_TYPE_ARENA: u32 = 33;

/// One past the last map type this kernel knows (`__MAX_BPF_MAP_TYPE`).
pub const MAX_BPF_MAP_TYPE: u32 = 34;

/// The kernel's short name of a map type (`hash`, `array`, `prog_array`, `ringbuf`, ...), or `unknown`.
pub fn map_type_name(t: u32) -> &'static str {
    const NAMES: [&str; MAX_BPF_MAP_TYPE as usize] = [
        "unspec",
        "hash",
        "array",
        "prog_array",
        "perf_event_array",
        "percpu_hash",
        "percpu_array",
        "stack_trace",
        "cgroup_array",
        "lru_hash",
        "lru_percpu_hash",
        "lpm_trie",
        "array_of_maps",
        "hash_of_maps",
        "devmap",
        "sockmap",
        "cpumap",
        "xskmap",
        "sockhash",
        "cgroup_storage",
        "reuseport_sockarray",
        "percpu_cgroup_storage",
        "queue",
        "stack",
        "sk_storage",
        "devmap_hash",
        "struct_ops",
        "ringbuf",
        "inode_storage",
        "task_storage",
        "bloom_filter",
        "user_ringbuf",
        "cgrp_storage",
        "arena",
    ];
    usize::try_from(t).ok().and_then(|i| NAMES.get(i)).copied().unwrap_or("unknown")
}

// Helper ids used below (`enum bpf_func_id`).
const MAP_LOOKUP_ELEM: i32 = 1;
const MAP_UPDATE_ELEM: i32 = 2;
const MAP_DELETE_ELEM: i32 = 3;
const TAIL_CALL: i32 = 12;
const PERF_EVENT_READ: i32 = 22;
const PERF_EVENT_OUTPUT: i32 = 25;
const GET_STACKID: i32 = 27;
const SKB_UNDER_CGROUP: i32 = 33;
const CURRENT_TASK_UNDER_CGROUP: i32 = 37;
const REDIRECT_MAP: i32 = 51;
const SK_REDIRECT_MAP: i32 = 52;
const SOCK_MAP_UPDATE: i32 = 53;
const PERF_EVENT_READ_VALUE: i32 = 55;
const MSG_REDIRECT_MAP: i32 = 60;
const SOCK_HASH_UPDATE: i32 = 70;
const MSG_REDIRECT_HASH: i32 = 71;
const SK_REDIRECT_HASH: i32 = 72;
const GET_LOCAL_STORAGE: i32 = 81;
const SK_SELECT_REUSEPORT: i32 = 82;
const MAP_PUSH_ELEM: i32 = 87;
const MAP_POP_ELEM: i32 = 88;
const MAP_PEEK_ELEM: i32 = 89;
const SK_STORAGE_GET: i32 = 107;
const SK_STORAGE_DELETE: i32 = 108;
const SKB_OUTPUT: i32 = 111;
const XDP_OUTPUT: i32 = 121;
const RINGBUF_OUTPUT: i32 = 130;
const RINGBUF_RESERVE: i32 = 131;
const RINGBUF_QUERY: i32 = 134;
const INODE_STORAGE_GET: i32 = 145;
const INODE_STORAGE_DELETE: i32 = 146;
const TASK_STORAGE_GET: i32 = 156;
const TASK_STORAGE_DELETE: i32 = 157;
const KPTR_XCHG: i32 = 194;
const MAP_LOOKUP_PERCPU_ELEM: i32 = 195;
const RINGBUF_RESERVE_DYNPTR: i32 = 198;
const RINGBUF_SUBMIT_DYNPTR: i32 = 199;
const RINGBUF_DISCARD_DYNPTR: i32 = 200;
const USER_RINGBUF_DRAIN: i32 = 209;
const CGRP_STORAGE_GET: i32 = 210;
const CGRP_STORAGE_DELETE: i32 = 211;

/// The kernel's `check_map_func_compatibility`, assuming the program type may update sockmaps
/// (see [`map_helper_compatible_in`] for the exact per-type rule). Error text as the kernel:
/// `cannot pass map_type %d into func %s#%d`.
pub fn map_helper_compatible(map_type: u32, helper_id: i32) -> Result<(), String> {
    compatible(map_type, helper_id, |_| true)
}

/// [`map_helper_compatible`] with the kernel's `may_update_sockmap` for `prog_type`/`attach`:
/// map_update_elem/map_delete_elem on a sockmap/sockhash are allowed from socket_filter, sched_cls/act,
/// xdp, sk_reuseport, flow_dissector, sk_lookup, iterators, and (delete only) sock_ops.
/// That refusal's text is `cannot update sockmap in this context`.
pub fn map_helper_compatible_in(
    prog_type: ProgType,
    attach: Option<AttachType>,
    map_type: u32,
    helper_id: i32,
) -> Result<(), String> {
    let mut sockmap_refused = false;
    let r = compatible(map_type, helper_id, |id| {
        let ok = may_update_sockmap(prog_type, attach, id);
        sockmap_refused |= !ok && (id == MAP_UPDATE_ELEM || id == MAP_DELETE_ELEM);
        ok
    });
    match r {
        Err(e) if sockmap_refused => Err(format!("cannot update sockmap in this context\n{e}")),
        r => r,
    }
}

/// The kernel's `may_update_sockmap`.
fn may_update_sockmap(prog_type: ProgType, attach: Option<AttachType>, func_id: i32) -> bool {
    use ProgType::*;
    if func_id != MAP_UPDATE_ELEM && func_id != MAP_DELETE_ELEM {
        return false;
    }
    match prog_type {
        Tracing => attach == Some(AttachType::TraceIter),
        SockOps => func_id == MAP_DELETE_ELEM,
        SocketFilter | SchedCls | SchedAct | Xdp | SkReuseport | FlowDissector | SkLookup => true,
        _ => false,
    }
}

fn compatible(map_type: u32, func_id: i32, mut may_update_sockmap: impl FnMut(i32) -> bool) -> Result<(), String> {
    let f = func_id;
    let ok_by_map = match map_type {
        BPF_MAP_TYPE_PROG_ARRAY => f == TAIL_CALL,
        BPF_MAP_TYPE_PERF_EVENT_ARRAY => {
            matches!(f, PERF_EVENT_READ | PERF_EVENT_OUTPUT | SKB_OUTPUT | PERF_EVENT_READ_VALUE | XDP_OUTPUT)
        }
        BPF_MAP_TYPE_RINGBUF => matches!(
            f,
            RINGBUF_OUTPUT
                | RINGBUF_RESERVE
                | RINGBUF_QUERY
                | RINGBUF_RESERVE_DYNPTR
                | RINGBUF_SUBMIT_DYNPTR
                | RINGBUF_DISCARD_DYNPTR
        ),
        BPF_MAP_TYPE_USER_RINGBUF => f == USER_RINGBUF_DRAIN,
        BPF_MAP_TYPE_STACK_TRACE => f == GET_STACKID,
        BPF_MAP_TYPE_CGROUP_ARRAY => matches!(f, SKB_UNDER_CGROUP | CURRENT_TASK_UNDER_CGROUP),
        BPF_MAP_TYPE_CGROUP_STORAGE | BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE => f == GET_LOCAL_STORAGE,
        BPF_MAP_TYPE_DEVMAP | BPF_MAP_TYPE_DEVMAP_HASH => matches!(f, REDIRECT_MAP | MAP_LOOKUP_ELEM),
        BPF_MAP_TYPE_CPUMAP => f == REDIRECT_MAP,
        BPF_MAP_TYPE_XSKMAP => matches!(f, REDIRECT_MAP | MAP_LOOKUP_ELEM),
        BPF_MAP_TYPE_ARRAY_OF_MAPS | BPF_MAP_TYPE_HASH_OF_MAPS => f == MAP_LOOKUP_ELEM,
        BPF_MAP_TYPE_SOCKMAP => {
            matches!(f, SK_REDIRECT_MAP | SOCK_MAP_UPDATE | MSG_REDIRECT_MAP | SK_SELECT_REUSEPORT | MAP_LOOKUP_ELEM)
                || may_update_sockmap(f)
        }
        BPF_MAP_TYPE_SOCKHASH => {
            matches!(f, SK_REDIRECT_HASH | SOCK_HASH_UPDATE | MSG_REDIRECT_HASH | SK_SELECT_REUSEPORT | MAP_LOOKUP_ELEM)
                || may_update_sockmap(f)
        }
        BPF_MAP_TYPE_REUSEPORT_SOCKARRAY => f == SK_SELECT_REUSEPORT,
        BPF_MAP_TYPE_QUEUE | BPF_MAP_TYPE_STACK => matches!(f, MAP_PEEK_ELEM | MAP_POP_ELEM | MAP_PUSH_ELEM),
        BPF_MAP_TYPE_SK_STORAGE => matches!(f, SK_STORAGE_GET | SK_STORAGE_DELETE | KPTR_XCHG),
        BPF_MAP_TYPE_INODE_STORAGE => matches!(f, INODE_STORAGE_GET | INODE_STORAGE_DELETE | KPTR_XCHG),
        BPF_MAP_TYPE_TASK_STORAGE => matches!(f, TASK_STORAGE_GET | TASK_STORAGE_DELETE | KPTR_XCHG),
        BPF_MAP_TYPE_CGRP_STORAGE => matches!(f, CGRP_STORAGE_GET | CGRP_STORAGE_DELETE | KPTR_XCHG),
        BPF_MAP_TYPE_BLOOM_FILTER => matches!(f, MAP_PEEK_ELEM | MAP_PUSH_ELEM),
        _ => true,
    };
    let m = map_type;
    let ok_by_func = match f {
        TAIL_CALL => m == BPF_MAP_TYPE_PROG_ARRAY,
        PERF_EVENT_READ | PERF_EVENT_OUTPUT | PERF_EVENT_READ_VALUE | SKB_OUTPUT | XDP_OUTPUT => {
            m == BPF_MAP_TYPE_PERF_EVENT_ARRAY
        }
        RINGBUF_OUTPUT | RINGBUF_RESERVE | RINGBUF_QUERY | RINGBUF_RESERVE_DYNPTR | RINGBUF_SUBMIT_DYNPTR
        | RINGBUF_DISCARD_DYNPTR => m == BPF_MAP_TYPE_RINGBUF,
        USER_RINGBUF_DRAIN => m == BPF_MAP_TYPE_USER_RINGBUF,
        GET_STACKID => m == BPF_MAP_TYPE_STACK_TRACE,
        CURRENT_TASK_UNDER_CGROUP | SKB_UNDER_CGROUP => m == BPF_MAP_TYPE_CGROUP_ARRAY,
        REDIRECT_MAP => matches!(
            m,
            BPF_MAP_TYPE_DEVMAP | BPF_MAP_TYPE_DEVMAP_HASH | BPF_MAP_TYPE_CPUMAP | BPF_MAP_TYPE_XSKMAP
        ),
        SK_REDIRECT_MAP | MSG_REDIRECT_MAP | SOCK_MAP_UPDATE => m == BPF_MAP_TYPE_SOCKMAP,
        SK_REDIRECT_HASH | MSG_REDIRECT_HASH | SOCK_HASH_UPDATE => m == BPF_MAP_TYPE_SOCKHASH,
        GET_LOCAL_STORAGE => matches!(m, BPF_MAP_TYPE_CGROUP_STORAGE | BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE),
        SK_SELECT_REUSEPORT => {
            matches!(m, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY | BPF_MAP_TYPE_SOCKMAP | BPF_MAP_TYPE_SOCKHASH)
        }
        MAP_POP_ELEM => matches!(m, BPF_MAP_TYPE_QUEUE | BPF_MAP_TYPE_STACK),
        MAP_PEEK_ELEM | MAP_PUSH_ELEM => {
            matches!(m, BPF_MAP_TYPE_QUEUE | BPF_MAP_TYPE_STACK | BPF_MAP_TYPE_BLOOM_FILTER)
        }
        MAP_LOOKUP_PERCPU_ELEM => {
            matches!(m, BPF_MAP_TYPE_PERCPU_ARRAY | BPF_MAP_TYPE_PERCPU_HASH | BPF_MAP_TYPE_LRU_PERCPU_HASH)
        }
        SK_STORAGE_GET | SK_STORAGE_DELETE => m == BPF_MAP_TYPE_SK_STORAGE,
        INODE_STORAGE_GET | INODE_STORAGE_DELETE => m == BPF_MAP_TYPE_INODE_STORAGE,
        TASK_STORAGE_GET | TASK_STORAGE_DELETE => m == BPF_MAP_TYPE_TASK_STORAGE,
        CGRP_STORAGE_GET | CGRP_STORAGE_DELETE => m == BPF_MAP_TYPE_CGRP_STORAGE,
        _ => true,
    };
    if ok_by_map && ok_by_func {
        Ok(())
    } else {
        let name = super::helpers::helper_proto(f).map_or("unknown", |p| p.name);
        Err(format!("cannot pass map_type {map_type} into func {name}#{f}"))
    }
}

/// What `bpf_map_lookup_elem` returns (when not NULL) for a map type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupResult {
    /// `PTR_TO_MAP_VALUE` of `value_size` bytes (read-only for devmaps).
    MapValue,
    /// `CONST_PTR_TO_MAP`: the inner map of an array/hash of maps.
    InnerMap,
    /// `PTR_TO_SOCKET`, acquiring a reference that must be released with `bpf_sk_release` (sockmap/sockhash).
    Socket,
    /// `PTR_TO_XDP_SOCK` (xskmap).
    XdpSock,
}

/// Whether a program may call `bpf_map_lookup_elem` on this map type (perf_event_array, prog_array,
/// queue/stack, ringbuf, stack_trace, cgroup_array, cpumap, ... cannot).
pub fn map_lookup_allowed(map_type: u32) -> bool {
    map_helper_compatible(map_type, MAP_LOOKUP_ELEM).is_ok()
}

/// The non-NULL result of `bpf_map_lookup_elem` on this map type, or None when lookups are refused.
pub fn map_lookup_result(map_type: u32) -> Option<LookupResult> {
    if !map_lookup_allowed(map_type) {
        return None;
    }
    Some(match map_type {
        BPF_MAP_TYPE_ARRAY_OF_MAPS | BPF_MAP_TYPE_HASH_OF_MAPS => LookupResult::InnerMap,
        BPF_MAP_TYPE_SOCKMAP | BPF_MAP_TYPE_SOCKHASH => LookupResult::Socket,
        BPF_MAP_TYPE_XSKMAP => LookupResult::XdpSock,
        _ => LookupResult::MapValue,
    })
}

/// Whether the program may write through a lookup result of this map type: devmap values are
/// read-only to programs (`BPF_F_RDONLY_PROG` is forced by the devmap).
pub fn map_value_writable(map_type: u32) -> bool {
    !matches!(map_type, BPF_MAP_TYPE_DEVMAP | BPF_MAP_TYPE_DEVMAP_HASH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(map_type_name(BPF_MAP_TYPE_HASH), "hash");
        assert_eq!(map_type_name(BPF_MAP_TYPE_ARRAY), "array");
        assert_eq!(map_type_name(BPF_MAP_TYPE_PROG_ARRAY), "prog_array");
        assert_eq!(map_type_name(BPF_MAP_TYPE_RINGBUF), "ringbuf");
        assert_eq!(map_type_name(BPF_MAP_TYPE_ARENA), "arena");
        assert_eq!(map_type_name(99), "unknown");
    }

    #[test]
    fn lookups() {
        for t in [
            BPF_MAP_TYPE_PERF_EVENT_ARRAY,
            BPF_MAP_TYPE_PROG_ARRAY,
            BPF_MAP_TYPE_QUEUE,
            BPF_MAP_TYPE_STACK,
            BPF_MAP_TYPE_RINGBUF,
            BPF_MAP_TYPE_STACK_TRACE,
            BPF_MAP_TYPE_CPUMAP,
            BPF_MAP_TYPE_CGROUP_STORAGE,
        ] {
            assert!(!map_lookup_allowed(t), "{}", map_type_name(t));
            assert_eq!(map_lookup_result(t), None);
        }
        assert_eq!(map_lookup_result(BPF_MAP_TYPE_HASH), Some(LookupResult::MapValue));
        assert_eq!(map_lookup_result(BPF_MAP_TYPE_ARRAY_OF_MAPS), Some(LookupResult::InnerMap));
        assert_eq!(map_lookup_result(BPF_MAP_TYPE_HASH_OF_MAPS), Some(LookupResult::InnerMap));
        assert_eq!(map_lookup_result(BPF_MAP_TYPE_SOCKMAP), Some(LookupResult::Socket));
        assert_eq!(map_lookup_result(BPF_MAP_TYPE_XSKMAP), Some(LookupResult::XdpSock));
        assert!(!map_value_writable(BPF_MAP_TYPE_DEVMAP) && map_value_writable(BPF_MAP_TYPE_ARRAY));
    }

    #[test]
    fn compatibility_and_message() {
        assert_eq!(
            map_helper_compatible(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 1),
            Err("cannot pass map_type 4 into func bpf_map_lookup_elem#1".to_string())
        );
        assert_eq!(
            map_helper_compatible(BPF_MAP_TYPE_HASH, 12),
            Err("cannot pass map_type 1 into func bpf_tail_call#12".to_string())
        );
        assert!(map_helper_compatible(BPF_MAP_TYPE_PROG_ARRAY, 12).is_ok());
        assert!(map_helper_compatible(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 25).is_ok());
        assert!(map_helper_compatible(BPF_MAP_TYPE_HASH, 25).is_err());
        assert!(map_helper_compatible(BPF_MAP_TYPE_RINGBUF, 131).is_ok());
        assert!(map_helper_compatible(BPF_MAP_TYPE_ARRAY, 131).is_err());
        assert!(map_helper_compatible(BPF_MAP_TYPE_QUEUE, 87).is_ok());
        assert!(map_helper_compatible(BPF_MAP_TYPE_BLOOM_FILTER, 88).is_err());
        assert!(map_helper_compatible(BPF_MAP_TYPE_HASH, 2).is_ok());
        assert!(map_helper_compatible(BPF_MAP_TYPE_LRU_PERCPU_HASH, 195).is_ok());
        assert!(map_helper_compatible(BPF_MAP_TYPE_HASH, 195).is_err());
        assert!(map_helper_compatible(BPF_MAP_TYPE_SOCKHASH, 82).is_ok());
        assert!(map_helper_compatible(BPF_MAP_TYPE_DEVMAP, 51).is_ok());
    }

    #[test]
    fn sockmap_updates_depend_on_the_program_type() {
        assert!(map_helper_compatible_in(ProgType::SchedCls, None, BPF_MAP_TYPE_SOCKMAP, 2).is_ok());
        assert!(map_helper_compatible_in(ProgType::SockOps, None, BPF_MAP_TYPE_SOCKMAP, 3).is_ok());
        let e = map_helper_compatible_in(ProgType::SockOps, None, BPF_MAP_TYPE_SOCKMAP, 2).unwrap_err();
        assert!(e.starts_with("cannot update sockmap in this context"), "{e}");
        assert!(map_helper_compatible_in(ProgType::Kprobe, None, BPF_MAP_TYPE_SOCKHASH, 2).is_err());
        assert!(map_helper_compatible_in(ProgType::Kprobe, None, BPF_MAP_TYPE_SOCKHASH, 1).is_ok());
        assert!(map_helper_compatible_in(ProgType::Tracing, Some(AttachType::TraceIter), BPF_MAP_TYPE_SOCKMAP, 2).is_ok());
    }
}
