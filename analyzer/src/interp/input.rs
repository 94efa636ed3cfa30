//! The inputs of one concrete run: ctx and packet bytes, map contents, helper results, a seed.

use super::InterpProgram;
use crate::abi::ctx_size;
use crate::gen::Rng;
use crate::prog_type::ProgType;
use std::collections::BTreeMap;

/// Everything a run depends on besides the program: runs are deterministic functions of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConcreteInput {
    /// Context bytes; padded with zeros or truncated to the program type's ctx size. Loads of the
    /// `data`/`data_end`/`data_meta` fields (`__sk_buff` offsets 76, 80, 140, `xdp_md` 0, 4, 8, and
    /// the other types' packet fields per `abi::ctx_access`) yield pointers into `packet` instead.
    pub ctx: Vec<u8>,
    /// Packet bytes (from `data` to `data_end`).
    pub packet: Vec<u8>,
    /// Initial map entries: (map index, key bytes) -> value bytes (resized to the value size).
    pub map_values: BTreeMap<(u32, Vec<u8>), Vec<u8>>,
    /// When set, `bpf_map_lookup_elem` on a hash-like map returns NULL for a key without an entry;
    /// otherwise it creates the entry (random value from `seed`). Array maps always hit in range.
    pub lookup_misses: bool,
    /// Results of helper calls, consumed front to back: integer helpers return the next value
    /// (clamped to the kernel's known range), pointer-or-NULL helpers return NULL when the next value
    /// is 0. When empty, integer helpers return a default (see `interp::helpers`) and pointer
    /// helpers succeed.
    pub helper_returns: Vec<u64>,
    /// Seeds the bytes helpers write (`probe_read`, fresh map entries, ...).
    pub seed: u64,
}

/// A random input for a program of type `prog_type`: random ctx bytes, a packet of 0..=128 bytes
/// (`__sk_buff->len` set to its length), random `lookup_misses`, a few helper results.
pub fn random_input(prog_type: ProgType, rng: &mut Rng) -> ConcreteInput {
    let ctx_len = (ctx_size(prog_type) as usize).min(4096);
    let mut ctx = rng.bytes(ctx_len);
    let pkt_len = match rng.below(4) {
        0 => rng.below(20) as usize,
        1 => 128,
        _ => rng.range(14, 128) as usize,
    };
    let packet = rng.bytes(pkt_len);
    if is_skb(prog_type) {
        if let Some(len) = ctx.get_mut(0..4) {
            len.copy_from_slice(&(pkt_len as u32).to_le_bytes());
        }
    }
    let n = rng.below(6) as usize;
    let helper_returns = (0..n)
        .map(|_| match rng.below(4) {
            0 => 0,
            1 => (-(rng.range(1, 34))) as u64,
            _ => rng.interesting_u64(),
        })
        .collect();
    ConcreteInput {
        ctx,
        packet,
        map_values: BTreeMap::new(),
        lookup_misses: rng.chance(50),
        helper_returns,
        seed: rng.next_u64(),
    }
}

/// [`random_input`] plus a few random entries for the program's maps with small keys (keys drawn
/// from 0..4 so that programs with constant keys sometimes hit them). Read-only global data
/// (`.rodata`, `.kconfig`) gets no entries: libbpf freezes those maps after writing the section's
/// bytes, so their contents are the section's (which the analysis relies on), never random.
pub fn random_input_for(prog: &InterpProgram, rng: &mut Rng) -> ConcreteInput {
    let mut input = random_input(prog.prog_type, rng);
    for (i, map) in prog.maps.iter().enumerate() {
        if map.key_size == 0 || map.key_size > 64 || map.value_size > 4096 || map.is_readonly_data() {
            continue;
        }
        for _ in 0..rng.below(3) {
            let mut key = vec![0u8; map.key_size as usize];
            if let Some(b) = key.first_mut() {
                *b = rng.below(4) as u8;
            }
            let value = rng.bytes(map.value_size as usize);
            input.map_values.insert((i as u32, key), value);
        }
    }
    input
}

/// Program types whose ctx is `struct __sk_buff`.
pub(crate) fn is_skb(prog_type: ProgType) -> bool {
    use ProgType::*;
    matches!(
        prog_type,
        SocketFilter
            | SchedCls
            | SchedAct
            | CgroupSkb
            | LwtIn
            | LwtOut
            | LwtXmit
            | LwtSeg6local
            | SkSkb
            | FlowDissector
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_inputs_are_sized_and_reproducible() {
        let a = random_input(ProgType::SchedCls, &mut Rng::new(3));
        let b = random_input(ProgType::SchedCls, &mut Rng::new(3));
        assert_eq!(a, b);
        assert_eq!(a.ctx.len(), 192);
        assert_eq!(a.ctx[0..4], (a.packet.len() as u32).to_le_bytes());
        assert!(a.packet.len() <= 128);
        assert_eq!(random_input(ProgType::Xdp, &mut Rng::new(1)).ctx.len(), 24);
    }
}
