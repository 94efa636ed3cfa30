//! Creating an object's maps in the kernel, the way the reference loader did.
//!
//! The object's `MapDef`s are what the ELF says; the kernel is stricter. Before
//! `BPF_MAP_CREATE` this applies the fixups libbpf applies (and that the reference run
//! behind `kernel-verdicts.tsv` recorded in its notes column):
//! - stack trace maps: value_size 0 -> 1016 (127 frames), max_entries 0 -> 1;
//! - ring buffers: key/value size -> 0, max_entries 0 -> 262144;
//! - perf event arrays: key/value size -> 4, max_entries 0 -> number of possible CPUs;
//! - prog arrays: key/value size 0 -> 4;
//! - map-in-map: the inner map is created first and passed as `inner_map_fd`
//!   (an unknown inner map becomes a dummy `array(4,4)`), the outer value size is 4;
//! - global data (`.data`, `.rodata`, `.bss`, `.kconfig`): a one-entry `ARRAY` with
//!   `BPF_F_MMAPABLE` (and `BPF_F_RDONLY_PROG` for read-only sections), its initial
//!   value written with `BPF_MAP_UPDATE_ELEM`, then `BPF_MAP_FREEZE` for read-only ones,
//!   so the verifier sees their contents as constants exactly as under libbpf.
//!
//! When creation still fails and fallbacks are on, it retries once with `map_flags` 0 and
//! then as a `HASH` map, noting each change ("map m type 2->1 (create errno 22)").
//! Every change lands in the caller's `fixups` list, so a verdict says how it was obtained.

use crate::sys::{self, MapCreateAttr};
use analyzer::object::{MapDef, MapOrigin};
use std::os::fd::{AsRawFd, OwnedFd};

/// `enum bpf_map_type` values this file treats specially.
const HASH: u32 = 1;
const ARRAY: u32 = 2;
const PROG_ARRAY: u32 = 3;
const PERF_EVENT_ARRAY: u32 = 4;
const STACK_TRACE: u32 = 7;
const ARRAY_OF_MAPS: u32 = 12;
const HASH_OF_MAPS: u32 = 13;
const RINGBUF: u32 = 27;
const USER_RINGBUF: u32 = 31;

/// Map types whose `max_entries` must be positive: hashes, arrays, LRU, LPM, map-in-map,
/// devmap/sockmap/cpumap/xskmap/sockhash/devmap_hash, queue, stack, bloom filter.
const SIZED_TYPES: [u32; 19] = [1, 2, 3, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 22, 23, 25, 30];

const BPF_F_RDONLY_PROG: u32 = 1 << 7;
const BPF_F_MMAPABLE: u32 = 1 << 10;

/// Why a map could not be made ready; `step` says which syscall failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MapFailure {
    pub(crate) step: &'static str,
    pub(crate) errno: i32,
}

/// How maps are created.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MapConfig {
    /// Retry failed creations with flags 0, then as a HASH map.
    pub(crate) fallbacks: bool,
    /// BTF object to attach key/value type ids from, if one was loaded.
    pub(crate) btf_fd: Option<i32>,
}

/// The `BPF_MAP_CREATE` arguments for a definition, after the static fixups.
fn create_attr(def: &MapDef, fixups: &mut Vec<String>) -> MapCreateAttr {
    let mut a = MapCreateAttr {
        map_type: def.map_type,
        key_size: def.key_size,
        value_size: def.value_size,
        max_entries: def.max_entries,
        map_flags: def.map_flags,
        inner_map_fd: 0,
        numa_node: 0,
        map_name: sys::obj_name(&def.name),
        map_ifindex: 0,
        btf_fd: 0,
        btf_key_type_id: 0,
        btf_value_type_id: 0,
        btf_vmlinux_value_type_id: 0,
        map_extra: 0,
    };
    let name = &def.name;
    let set = |what: &str, field: &mut u32, to: u32, fixups: &mut Vec<String>| {
        if *field != to {
            fixups.push(format!("map {name} {what} {}->{to}", *field));
            *field = to;
        }
    };
    if let MapOrigin::GlobalData { .. } = def.origin {
        let value_size = def
            .initial_value
            .as_ref()
            .map_or(def.value_size, |v| v.len() as u32)
            .max(def.value_size);
        set("type", &mut a.map_type, ARRAY, fixups);
        set("key_size", &mut a.key_size, 4, fixups);
        set("value_size", &mut a.value_size, value_size, fixups);
        set("max_entries", &mut a.max_entries, 1, fixups);
        // libbpf's flags for global data; not a fixup worth noting.
        a.map_flags |= BPF_F_MMAPABLE;
        if def.is_readonly_data() {
            a.map_flags |= BPF_F_RDONLY_PROG;
        }
        return a;
    }
    match def.map_type {
        STACK_TRACE => {
            if a.value_size == 0 {
                set("value_size", &mut a.value_size, 1016, fixups);
            }
            if a.max_entries == 0 {
                set("max_entries", &mut a.max_entries, 1, fixups);
            }
        }
        RINGBUF | USER_RINGBUF => {
            set("key_size", &mut a.key_size, 0, fixups);
            set("value_size", &mut a.value_size, 0, fixups);
            if a.max_entries == 0 {
                set("max_entries", &mut a.max_entries, 262_144, fixups);
            }
        }
        PERF_EVENT_ARRAY => {
            set("key_size", &mut a.key_size, 4, fixups);
            set("value_size", &mut a.value_size, 4, fixups);
            if a.max_entries == 0 {
                set("max_entries", &mut a.max_entries, possible_cpus(), fixups);
            }
        }
        PROG_ARRAY => {
            if a.key_size == 0 {
                set("key_size", &mut a.key_size, 4, fixups);
            }
            if a.value_size == 0 {
                set("value_size", &mut a.value_size, 4, fixups);
            }
        }
        ARRAY_OF_MAPS | HASH_OF_MAPS => {
            set("value_size", &mut a.value_size, 4, fixups);
        }
        _ => {}
    }
    // Loaders such as falco's size these at run time; the kernel wants at least one entry.
    // (Local-storage maps, by contrast, require 0.)
    if a.max_entries == 0 && SIZED_TYPES.contains(&a.map_type) {
        set("max_entries", &mut a.max_entries, 1, fixups);
    }
    a
}

/// Number of possible CPUs (`/sys/devices/system/cpu/possible`, e.g. `0-3`), at least 1.
fn possible_cpus() -> u32 {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap_or_default();
    let mut max: Option<u32> = None;
    for part in text.trim().split(',') {
        let last = part.rsplit('-').next().unwrap_or("");
        if let Ok(n) = last.trim().parse::<u32>() {
            max = Some(max.map_or(n, |m| m.max(n)));
        }
    }
    max.map_or(1, |m| m + 1)
}

/// One `BPF_MAP_CREATE` with the fallbacks; returns the fd and notes what changed.
fn create_with_fallbacks(
    def: &MapDef,
    mut a: MapCreateAttr,
    cfg: MapConfig,
    fixups: &mut Vec<String>,
) -> Result<OwnedFd, i32> {
    if let Some(btf_fd) = cfg.btf_fd {
        if def.btf_value_type_id != 0 {
            let mut with_btf = a;
            with_btf.btf_fd = btf_fd as u32;
            with_btf.btf_key_type_id = def.btf_key_type_id;
            with_btf.btf_value_type_id = def.btf_value_type_id;
            match sys::map_create(with_btf) {
                Ok(fd) => return Ok(fd),
                Err(e) => fixups.push(format!("map {} created without BTF (errno {e})", def.name)),
            }
        }
    }
    let first = match sys::map_create(a) {
        Ok(fd) => return Ok(fd),
        Err(e) => e,
    };
    if !cfg.fallbacks {
        return Err(first);
    }
    if a.map_flags != 0 {
        let old = a.map_flags;
        a.map_flags = 0;
        if let Ok(fd) = sys::map_create(a) {
            fixups.push(format!("map {} flags {old:#x}->0x0 (create errno {first})", def.name));
            return Ok(fd);
        }
    }
    if a.map_type != HASH {
        let old = a.map_type;
        a.map_type = HASH;
        a.inner_map_fd = 0;
        a.key_size = a.key_size.max(1);
        a.value_size = a.value_size.max(1);
        a.max_entries = a.max_entries.max(1);
        if let Ok(fd) = sys::map_create(a) {
            fixups.push(format!("map {} type {old}->{HASH} (create errno {first})", def.name));
            return Ok(fd);
        }
    }
    Err(first)
}

/// Creates one map (and its inner map, if any), writes its initial value and freezes
/// it if read-only. The returned fd is the only one left open.
pub(crate) fn create_map(def: &MapDef, cfg: MapConfig, fixups: &mut Vec<String>) -> Result<OwnedFd, MapFailure> {
    let mut a = create_attr(def, fixups);
    // Held until the outer map exists; the kernel only copies the inner map's shape.
    let mut _inner: Option<OwnedFd> = None;
    if matches!(def.map_type, ARRAY_OF_MAPS | HASH_OF_MAPS) {
        let inner_def = match &def.inner {
            Some(inner) => (**inner).clone(),
            None => {
                fixups.push(format!("map-in-map {}: inner map unknown, dummy array(4,4)", def.name));
                MapDef {
                    name: format!("{}_inner", def.name),
                    map_type: ARRAY,
                    key_size: 4,
                    value_size: 4,
                    max_entries: 1,
                    map_flags: 0,
                    inner: None,
                    origin: def.origin.clone(),
                    initial_value: None,
                    btf_key_type_id: 0,
                    btf_value_type_id: 0,
                }
            }
        };
        let inner_fd = create_map(&inner_def, cfg, fixups).map_err(|f| MapFailure { step: "inner map", ..f })?;
        a.inner_map_fd = inner_fd.as_raw_fd() as u32;
        _inner = Some(inner_fd);
    }
    let fd = create_with_fallbacks(def, a, cfg, fixups).map_err(|errno| MapFailure { step: "create", errno })?;
    if let MapOrigin::GlobalData { .. } = def.origin {
        let size = a.value_size as usize;
        let mut value = def.initial_value.clone().unwrap_or_default();
        value.resize(size, 0);
        let key = 0u32.to_ne_bytes();
        sys::map_update(fd.as_raw_fd(), &key, &value).map_err(|errno| MapFailure { step: "update", errno })?;
        if def.is_readonly_data() {
            sys::map_freeze(fd.as_raw_fd()).map_err(|errno| MapFailure { step: "freeze", errno })?;
        }
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(map_type: u32, key_size: u32, value_size: u32, max_entries: u32) -> MapDef {
        MapDef {
            name: "m".into(),
            map_type,
            key_size,
            value_size,
            max_entries,
            map_flags: 0,
            inner: None,
            origin: MapOrigin::BtfMaps,
            initial_value: None,
            btf_key_type_id: 0,
            btf_value_type_id: 0,
        }
    }

    #[test]
    fn stack_trace_and_ringbuf_fixups() {
        let mut fx = Vec::new();
        let a = create_attr(&def(STACK_TRACE, 4, 0, 0), &mut fx);
        assert_eq!((a.value_size, a.max_entries), (1016, 1));
        assert_eq!(
            fx,
            vec![
                "map m value_size 0->1016".to_string(),
                "map m max_entries 0->1".to_string()
            ]
        );
        let mut fx = Vec::new();
        let a = create_attr(&def(RINGBUF, 4, 8, 4096), &mut fx);
        assert_eq!((a.key_size, a.value_size, a.max_entries), (0, 0, 4096));
        assert_eq!(fx.len(), 2);
    }

    #[test]
    fn perf_event_array_gets_cpu_count() {
        let mut fx = Vec::new();
        let a = create_attr(&def(PERF_EVENT_ARRAY, 0, 84, 0), &mut fx);
        assert_eq!((a.key_size, a.value_size), (4, 4));
        assert!(a.max_entries >= 1);
        assert!(fx.iter().any(|f| f == "map m value_size 84->4"), "{fx:?}");
    }

    #[test]
    fn global_data_is_a_one_entry_array() {
        let mut d = def(0, 0, 0, 0);
        d.origin = MapOrigin::GlobalData {
            section: ".rodata".into(),
        };
        d.initial_value = Some(vec![1, 2, 3, 4, 5, 6, 7, 8]);
        let mut fx = Vec::new();
        let a = create_attr(&d, &mut fx);
        assert_eq!((a.map_type, a.key_size, a.value_size, a.max_entries), (ARRAY, 4, 8, 1));
        assert_eq!(a.map_flags, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG);
        d.origin = MapOrigin::GlobalData { section: ".bss".into() };
        assert_eq!(create_attr(&d, &mut fx).map_flags, BPF_F_MMAPABLE);
    }

    #[test]
    fn zero_max_entries_becomes_one_except_for_local_storage() {
        let mut fx = Vec::new();
        assert_eq!(create_attr(&def(ARRAY, 4, 77, 0), &mut fx).max_entries, 1);
        assert_eq!(fx, vec!["map m max_entries 0->1".to_string()]);
        // BPF_MAP_TYPE_SK_STORAGE
        assert_eq!(create_attr(&def(24, 4, 8, 0), &mut fx).max_entries, 0);
    }

    #[test]
    fn possible_cpus_is_positive() {
        assert!(possible_cpus() >= 1);
    }
}
