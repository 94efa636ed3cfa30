//! Concrete map contents: one value buffer per entry, keyed by the key's bytes.
//!
//! Array maps (`BPF_MAP_TYPE_ARRAY`, `PERCPU_ARRAY`, and global data sections) have every index
//! below `max_entries` present, zero-filled unless the input or the section says otherwise; every
//! other map type behaves as a hash map bounded by `max_entries`. Deleting an entry unlinks its key
//! but keeps its buffer, so pointers obtained earlier stay usable (as RCU keeps them in the kernel).
//! Per-CPU maps have a single CPU. The inner map of a map-in-map (`MapDef::inner`) is appended after
//! the program's maps, in the order of their outer maps (as the abstract engine numbers them); a hit
//! in the outer map yields a pointer to that single inner map, shared by all outer entries.

use super::outcome::{Fault, FaultKind};
use crate::abi::map_types::{
    BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH, BPF_MAP_TYPE_PERCPU_ARRAY,
};
use crate::gen::Rng;
use crate::object::MapDef;
use std::collections::BTreeMap;

/// Largest value buffer the interpreter allocates.
const MAX_VALUE_SIZE: u32 = 1 << 20;
/// Bound on the total bytes of all map value buffers in one run.
const MAX_TOTAL_BYTES: usize = 1 << 23;

const EEXIST: i64 = 17;
const ENOENT: i64 = 2;
const E2BIG: i64 = 7;
const EINVAL: i64 = 22;
const BPF_NOEXIST: u64 = 1;
const BPF_EXIST: u64 = 2;

/// One map's entries.
#[derive(Clone, Debug)]
pub(crate) struct MapStore {
    pub(crate) key_size: u32,
    pub(crate) value_size: u32,
    pub(crate) max_entries: u32,
    pub(crate) map_type: u32,
    pub(crate) readonly: bool,
    keys: BTreeMap<Vec<u8>, u32>,
    pub(crate) entries: Vec<Vec<u8>>,
    initial: Option<Vec<u8>>,
}

impl MapStore {
    fn is_array(&self) -> bool {
        matches!(self.map_type, BPF_MAP_TYPE_ARRAY | BPF_MAP_TYPE_PERCPU_ARRAY)
    }

    fn array_index(&self, key: &[u8]) -> Option<u32> {
        let mut b = [0u8; 4];
        for (d, s) in b.iter_mut().zip(key) {
            *d = *s;
        }
        let idx = u32::from_le_bytes(b);
        (idx < self.max_entries).then_some(idx)
    }

    /// The canonical key of an array index, so that any key bytes for the same index share an entry.
    fn array_key(idx: u32) -> Vec<u8> {
        idx.to_le_bytes().to_vec()
    }
}

/// All maps of a run.
#[derive(Clone, Debug)]
pub(crate) struct Maps {
    pub(crate) stores: Vec<MapStore>,
    /// For each outer map, the index of its inner map in `stores`.
    pub(crate) inner: Vec<Option<u32>>,
    total_bytes: usize,
}

impl Maps {
    /// The maps of `defs`, with global data and `input` entries (`(map, key) -> value`) filled in.
    pub(crate) fn new(defs: &[MapDef], input: &BTreeMap<(u32, Vec<u8>), Vec<u8>>) -> Maps {
        let store = |d: &MapDef| MapStore {
            key_size: d.key_size,
            value_size: d.value_size,
            max_entries: d.max_entries,
            map_type: d.map_type,
            readonly: d.is_readonly_data() || matches!(d.map_type, BPF_MAP_TYPE_DEVMAP | BPF_MAP_TYPE_DEVMAP_HASH),
            keys: BTreeMap::new(),
            entries: Vec::new(),
            initial: d.initial_value.clone(),
        };
        let mut stores: Vec<MapStore> = defs.iter().map(store).collect();
        let mut inner = vec![None; defs.len()];
        for (i, d) in defs.iter().enumerate() {
            if let Some(def) = &d.inner {
                inner[i] = Some(stores.len() as u32);
                stores.push(store(def));
            }
        }
        let mut maps = Maps { stores, inner, total_bytes: 0 };
        for ((map, key), value) in input {
            // Input entries that do not fit the map are ignored (as a kernel update would refuse them).
            let _ = maps.insert_raw(*map, key, Some(value));
        }
        maps
    }

    fn store(&self, map: u32) -> Result<&MapStore, Fault> {
        self.stores.get(map as usize).ok_or_else(|| Fault::new(FaultKind::UnknownMap, format!("no map {map}")))
    }

    /// Creates (or overwrites) the entry for `key`, returning its entry number.
    fn insert_raw(&mut self, map: u32, key: &[u8], value: Option<&[u8]>) -> Result<u32, Fault> {
        let total = self.total_bytes;
        let s = self
            .stores
            .get_mut(map as usize)
            .ok_or_else(|| Fault::new(FaultKind::UnknownMap, format!("no map {map}")))?;
        let key = if s.is_array() {
            let idx =
                s.array_index(key).ok_or_else(|| Fault::new(FaultKind::OutOfBounds, "array index out of range"))?;
            MapStore::array_key(idx)
        } else {
            if key.len() != s.key_size as usize {
                return Err(Fault::new(FaultKind::BadHelperArg, "key size mismatch"));
            }
            key.to_vec()
        };
        if let Some(&e) = s.keys.get(&key) {
            if let (Some(v), Some(buf)) = (value, s.entries.get_mut(e as usize)) {
                let n = buf.len().min(v.len());
                buf[..n].copy_from_slice(&v[..n]);
            }
            return Ok(e);
        }
        if s.value_size > MAX_VALUE_SIZE || total + s.value_size as usize > MAX_TOTAL_BYTES {
            return Err(Fault::new(FaultKind::ResourceLimit, format!("map value_size={} too large", s.value_size)));
        }
        let mut buf = vec![0u8; s.value_size as usize];
        let init = value.or(if s.is_array() && key == MapStore::array_key(0) { s.initial.as_deref() } else { None });
        if let Some(v) = init {
            let n = buf.len().min(v.len());
            buf[..n].copy_from_slice(&v[..n]);
        }
        let e = s.entries.len() as u32;
        s.entries.push(buf);
        s.keys.insert(key, e);
        self.total_bytes = total + s.value_size as usize;
        Ok(e)
    }

    /// `bpf_map_lookup_elem`: the entry for `key`, or `None` (NULL). Hash-like maps create a
    /// random entry for a missing key unless `lookup_misses`.
    pub(crate) fn lookup(
        &mut self,
        map: u32,
        key: &[u8],
        lookup_misses: bool,
        rng: &mut Rng,
    ) -> Result<Option<u32>, Fault> {
        let s = self.store(map)?;
        if s.is_array() {
            if s.array_index(key).is_none() {
                return Ok(None);
            }
            return self.insert_raw(map, key, None).map(Some);
        }
        if let Some(&e) = s.keys.get(key) {
            return Ok(Some(e));
        }
        if lookup_misses || s.keys.len() >= s.max_entries as usize {
            return Ok(None);
        }
        let value = rng.bytes(s.value_size.min(MAX_VALUE_SIZE) as usize);
        self.insert_raw(map, key, Some(&value)).map(Some)
    }

    /// The entry of `key` in a one-entry or array map (for `LD_IMM64` map values and storage helpers).
    pub(crate) fn entry(&mut self, map: u32, key: &[u8]) -> Result<u32, Fault> {
        self.insert_raw(map, key, None)
    }

    /// `bpf_map_update_elem`: the helper's return value.
    pub(crate) fn update(&mut self, map: u32, key: &[u8], value: &[u8], flags: u64) -> Result<u64, Fault> {
        let s = self.store(map)?;
        let exists = if s.is_array() {
            if s.array_index(key).is_none() {
                return Ok((-E2BIG) as u64);
            }
            true
        } else {
            s.keys.contains_key(key)
        };
        match flags {
            BPF_NOEXIST if exists => return Ok((-EEXIST) as u64),
            BPF_EXIST if !exists => return Ok((-ENOENT) as u64),
            0..=2 => {}
            _ => return Ok((-EINVAL) as u64),
        }
        if !exists && s.keys.len() >= s.max_entries as usize {
            return Ok((-E2BIG) as u64);
        }
        self.insert_raw(map, key, Some(value))?;
        Ok(0)
    }

    /// `bpf_map_delete_elem`: the helper's return value.
    pub(crate) fn delete(&mut self, map: u32, key: &[u8]) -> Result<u64, Fault> {
        let s = self
            .stores
            .get_mut(map as usize)
            .ok_or_else(|| Fault::new(FaultKind::UnknownMap, format!("no map {map}")))?;
        if s.is_array() {
            return Ok((-EINVAL) as u64);
        }
        Ok(if s.keys.remove(key).is_some() { 0 } else { (-ENOENT) as u64 })
    }

    /// The value buffer of an entry.
    #[cfg(test)]
    pub(crate) fn value(&self, map: u32, entry: u32) -> Option<&Vec<u8>> {
        self.stores.get(map as usize)?.entries.get(entry as usize)
    }

    /// The value buffer of an entry, mutably, with whether the map is read-only to programs.
    pub(crate) fn value_mut(&mut self, map: u32, entry: u32) -> Option<(&mut Vec<u8>, bool)> {
        let s = self.stores.get_mut(map as usize)?;
        let ro = s.readonly;
        s.entries.get_mut(entry as usize).map(|v| (v, ro))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::MapOrigin;

    fn def(map_type: u32, max_entries: u32) -> MapDef {
        MapDef {
            name: "m".into(),
            map_type,
            key_size: 4,
            value_size: 8,
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
    fn hash_and_array_semantics() {
        let mut rng = Rng::new(0);
        let mut m = Maps::new(&[def(1, 2), def(BPF_MAP_TYPE_ARRAY, 4)], &BTreeMap::new());
        let k = 7u32.to_le_bytes();
        assert_eq!(m.lookup(0, &k, true, &mut rng), Ok(None));
        assert_eq!(m.update(0, &k, &[1; 8], BPF_EXIST), Ok((-ENOENT) as u64));
        assert_eq!(m.update(0, &k, &[1; 8], 0), Ok(0));
        assert_eq!(m.update(0, &k, &[1; 8], BPF_NOEXIST), Ok((-EEXIST) as u64));
        let e = m.lookup(0, &k, true, &mut rng).expect("ok").expect("hit");
        assert_eq!(m.value(0, e), Some(&vec![1; 8]));
        assert_eq!(m.update(0, &[1, 0, 0, 0], &[2; 8], 0), Ok(0));
        assert_eq!(m.update(0, &[2, 0, 0, 0], &[2; 8], 0), Ok((-E2BIG) as u64));
        assert_eq!(m.delete(0, &k), Ok(0));
        assert_eq!(m.delete(0, &k), Ok((-ENOENT) as u64));
        // Arrays: in range always hits (zeroed), out of range is NULL.
        let e = m.lookup(1, &3u32.to_le_bytes(), true, &mut rng).expect("ok").expect("hit");
        assert_eq!(m.value(1, e), Some(&vec![0; 8]));
        assert_eq!(m.lookup(1, &4u32.to_le_bytes(), false, &mut rng), Ok(None));
        assert_eq!(m.delete(1, &k), Ok((-EINVAL) as u64));
        assert!(matches!(m.lookup(5, &k, false, &mut rng), Err(Fault { kind: FaultKind::UnknownMap, .. })));
    }
}
