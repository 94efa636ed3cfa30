//! A seeded, reproducible generator of random, valid-looking eBPF programs, for differential and
//! soundness testing (run them in `crate::interp`, verify them with the analyzer and the kernel).
//!
//! A program is a main function and up to `max_subprogs` bpf-to-bpf subprograms, each built from
//! *snippets* (see `snippets`): ALU at both widths with every op (signed div/mod, `movsx`, byte
//! swaps), `LD_IMM64`, forward branches (JMP/JMP32, register or immediate, with optional else),
//! bounded loops (a counter and an exit condition, at most 8 iterations, nested at most twice),
//! stack spills and fills of scalars and pointers (also through `fp + const` pointers), narrow
//! stores and sign-extending loads, atomics, helper calls, ctx loads, map lookups (with and without
//! NULL check) and packet accesses (with and without a `data_end` check). Every function ends in
//! `r0 = <scalar>; exit`.
//!
//! **Invariant:** every generated program decodes, its CFG is valid (jumps in range, no unreachable
//! code, every path reaches an `exit`, no recursion), it terminates within a few tens of thousands of
//! instructions, and it reads only registers and stack bytes it wrote. It faults in the interpreter
//! only through the unsafe variants, whose share is `GenConfig::fault_percent`.
//!
//! Determinism: the program is a function of `(seed, cfg)` alone, through the splitmix64 [`Rng`].

mod builder;
mod model;
mod rng;
mod snippets;

#[cfg(test)]
mod tests;

pub use rng::Rng;

use crate::abi::map_types::{BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH};
use crate::insn::decode::encode_program;
use crate::insn::{AluOp, DecodeError, Insn, Operand, RawInsn, Reg, Width};
use crate::interp::InterpProgram;
use crate::object::{MapDef, MapOrigin};
use crate::prog_type::ProgType;
use builder::Builder;
use model::{Kind, Model};
use snippets::{Gen, Place};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenConfig {
    /// One is chosen per program. Packet snippets need `Xdp`, `SchedCls` or `SchedAct`.
    pub prog_types: Vec<ProgType>,
    /// Snippets at the top level of the main function.
    pub max_snippets: usize,
    /// Nesting depth of branches, loops and checked blocks.
    pub max_depth: usize,
    /// Number of bpf-to-bpf subprograms (0..=max_subprogs).
    pub max_subprogs: usize,
    /// Soft bound on the program size: no new nesting once reached.
    pub max_insns: usize,
    pub loops: bool,
    pub maps: bool,
    pub packet: bool,
    /// Percent chance that a map lookup skips its NULL check (or uses an out-of-range array key or
    /// an out-of-bounds offset), and that a packet access skips its bounds check.
    pub fault_percent: u32,
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig {
            prog_types: vec![ProgType::Xdp, ProgType::SchedCls, ProgType::SocketFilter, ProgType::Kprobe],
            max_snippets: 24,
            max_depth: 3,
            max_subprogs: 2,
            max_insns: 300,
            loops: true,
            maps: true,
            packet: true,
            fault_percent: 10,
        }
    }
}

/// A generated program and what it needs to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedProgram {
    /// Raw instructions; map references are `LD_IMM64` with `BPF_PSEUDO_MAP_IDX` into `maps`.
    pub insns: Vec<RawInsn>,
    pub prog_type: ProgType,
    pub maps: Vec<MapDef>,
}

impl GeneratedProgram {
    /// The program, decoded, for `interp::run`.
    pub fn to_interp(&self) -> Result<InterpProgram, DecodeError> {
        InterpProgram::from_raw(&self.insns, self.maps.clone(), self.prog_type)
    }
}

fn map_def(name: &str, map_type: u32, value_size: u32, max_entries: u32) -> MapDef {
    MapDef {
        name: name.to_string(),
        map_type,
        key_size: 4,
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

/// The generator's maps: map 0 a hash (key 4, `hash_value`-byte values, 64 entries), map 1 an
/// array (key 4, `array_value`-byte values, `array_entries` entries). Programs written down from
/// generated ones (`corpus/differential/`) rebuild their maps with it.
pub fn generator_maps(hash_value: u32, array_value: u32, array_entries: u32) -> Vec<MapDef> {
    vec![
        map_def("hash", BPF_MAP_TYPE_HASH, hash_value, 64),
        map_def("array", BPF_MAP_TYPE_ARRAY, array_value, array_entries),
    ]
}

/// The program of `seed` under `cfg`.
pub fn generate(seed: u64, cfg: &GenConfig) -> GeneratedProgram {
    let mut rng = Rng::new(seed);
    let prog_type = rng.pick(&cfg.prog_types).unwrap_or(ProgType::SocketFilter);
    let maps = if cfg.maps {
        let hash_value = 8 * rng.range(1, 8) as u32;
        let array_value = 8 * rng.range(1, 8) as u32;
        let array_entries = rng.range(1, 16) as u32;
        generator_maps(hash_value, array_value, array_entries)
    } else {
        Vec::new()
    };
    let nsubs = rng.below(cfg.max_subprogs as u64 + 1) as usize;
    let sub_args: Vec<usize> = (0..nsubs).map(|_| rng.range(0, 3) as usize).collect();
    let mut g = Gen { rng, cfg, prog_type, maps, sub_args: sub_args.clone() };

    // Main: keep the ctx in R6, seed a few scalars, then the snippets.
    let mut main = Builder::default();
    let mut m = Model::entry(0, true);
    main.emit(Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg::R6, src: Operand::Reg(Reg::R1) });
    m.regs[6] = Kind::Ctx;
    m.reserved[6] = true;
    for _ in 0..g.rng.range(1, 3) {
        g.filler(&mut main, &mut m);
    }
    let place = Place { main: true, depth: 0, loop_depth: 0 };
    let n = g.rng.range(1, cfg.max_snippets.max(1) as i64) as usize;
    g.block(&mut main, &mut m, place, n);
    g.epilogue(&mut main, &mut m);

    // Subprograms that main calls: scalar arguments, no ctx, no further calls.
    g.sub_args = Vec::new();
    let mut starts = Vec::new();
    for (k, nargs) in sub_args.into_iter().enumerate() {
        if !main.calls_sub(k) {
            // Never called: leaving it out keeps every instruction reachable.
            starts.push(usize::MAX);
            continue;
        }
        let mut sub = Builder::default();
        let mut sm = Model::entry(nargs, false);
        let place = Place { main: false, depth: 1, loop_depth: 0 };
        let n = g.rng.range(1, 4) as usize;
        g.block(&mut sub, &mut sm, place, n);
        g.epilogue(&mut sub, &mut sm);
        starts.push(main.append(sub));
    }
    main.link_calls(&starts);
    GeneratedProgram { insns: encode_program(&main.insns), prog_type, maps: g.maps }
}
