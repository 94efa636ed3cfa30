//! Synthetic programs for the scaling benchmark: one socket-filter program of a chosen
//! [`Shape`] and an exact instruction count, written in the kernel's text syntax and
//! assembled with `analyzer::insn::parse_program`.
//!
//! Every shape is built from a small unit repeated until the size is reached, so the
//! work per instruction is the same at 1k and at 1M instructions and any growth beyond
//! linear comes from the analysis, not from the program:
//! - [`Shape::Straight`]: ALU ops on two registers, no branch.
//! - [`Shape::Diamonds`]: `if r6 > 100` on an unknown packet length, two arms writing
//!   different constants, joining again (4 insns per diamond).
//! - [`Shape::Loops`]: a sequence of small nested bounded loops (an outer loop of 2
//!   iterations around an inner loop of 2), each followed by a diamond with two arms of
//!   16 insns (40 insns per unit), so the loop count grows with size while the longest
//!   path (31 insns per unit) stays within the kernel's 1M-insn budget at 1M insns.
//! - [`Shape::Maps`]: `bpf_map_lookup_elem` on one of [`MAP_COUNT`] array maps, a NULL
//!   check and a load from the value (6 insns per lookup).
//!
//! Padding with `r0 += 1` brings each program to exactly the requested size. The unit
//! tests check that every shape's 1k program is accepted by the verifier.

use analyzer::insn::{parse_program, ParseError};
use analyzer::object::{MapDef, MapOrigin, Object, Program};
use analyzer::prog_type::ProgType;
use std::fmt::Write;

/// How many distinct maps [`Shape::Maps`] programs look up (cycled).
pub const MAP_COUNT: usize = 256;

/// The control-flow shape of a generated program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Straight-line ALU code.
    Straight,
    /// If/else chains joining after each diamond.
    Diamonds,
    /// Many sequential nested bounded loops.
    Loops,
    /// Map lookups with NULL checks.
    Maps,
}

impl Shape {
    /// Every shape, in table order.
    pub const ALL: [Shape; 4] = [Shape::Straight, Shape::Diamonds, Shape::Loops, Shape::Maps];

    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Straight => "straight",
            Shape::Diamonds => "diamonds",
            Shape::Loops => "loops",
            Shape::Maps => "maps",
        }
    }

    /// The prologue, the repeated unit and the epilogue, in text syntax. `i` is the
    /// unit's index (it picks the map of [`Shape::Maps`]).
    fn prologue(self) -> &'static str {
        match self {
            Shape::Straight => "r0 = 0\nr1 = 1\n",
            // r6 = skb->len: unknown, so both arms of every diamond are feasible.
            Shape::Diamonds => "r0 = 0\nr6 = *(u32 *)(r1 +0)\n",
            Shape::Loops => "r0 = 0\nr6 = *(u32 *)(r1 +0)\n",
            Shape::Maps => "r0 = 0\nr6 = 0\n*(u32 *)(r10 -4) = r6\n",
        }
    }

    fn unit(self, i: usize, out: &mut String) {
        let _ = match self {
            Shape::Straight => out.write_str("r0 += 1\nr1 = r0\nr1 ^= 3\nr0 -= r1\n"),
            Shape::Diamonds => out.write_str("if r6 > 100 goto pc+2\nr7 = 1\ngoto pc+1\nr7 = 2\n"),
            Shape::Loops => {
                out.push_str("r8 = 0\nr9 = 0\nr9 += 1\nif r9 < 2 goto pc-2\nr8 += 1\nif r8 < 2 goto pc-5\n");
                out.push_str("if r6 > 100 goto pc+17\n");
                out.push_str(&"r7 = 1\n".repeat(16));
                out.push_str("goto pc+16\n");
                out.push_str(&"r7 = 2\n".repeat(16));
                Ok(())
            }
            Shape::Maps => write!(
                out,
                "r1 = map[idx:{}]\nr2 = r10\nr2 += -4\ncall bpf_map_lookup_elem#1\nif r0 == 0x0 goto pc+1\nr6 = *(u32 *)(r0 +0)\n",
                i % MAP_COUNT
            ),
        };
    }

    /// Instructions of one unit (`r1 = map[..]` is a 2-slot `ld_imm64`).
    fn unit_len(self) -> usize {
        match self {
            Shape::Straight | Shape::Diamonds => 4,
            Shape::Loops => 40,
            Shape::Maps => 7,
        }
    }

    fn prologue_len(self) -> usize {
        match self {
            Shape::Straight | Shape::Diamonds | Shape::Loops => 2,
            Shape::Maps => 3,
        }
    }

    fn epilogue(self) -> &'static str {
        "r0 = 0\nexit\n"
    }
}

/// Assembled text of a `shape` program of exactly `insns` instructions (at least the
/// prologue, one unit and the epilogue).
pub fn program_text(shape: Shape, insns: usize) -> String {
    let fixed = shape.prologue_len() + 2;
    let units = (insns.saturating_sub(fixed) / shape.unit_len()).max(1);
    let pad = insns.saturating_sub(fixed + units * shape.unit_len());
    let mut text = String::with_capacity(40 * insns);
    text.push_str(shape.prologue());
    for i in 0..units {
        shape.unit(i, &mut text);
    }
    for _ in 0..pad {
        text.push_str("r0 += 1\n");
    }
    text.push_str(shape.epilogue());
    text
}

/// A one-program object holding a `shape` program of exactly `insns` instructions
/// (socket filter, GPL, with [`MAP_COUNT`] array maps for [`Shape::Maps`]).
pub fn generate(shape: Shape, insns: usize) -> Result<Object, ParseError> {
    let code = parse_program(&program_text(shape, insns))?;
    let maps = if shape == Shape::Maps { (0..MAP_COUNT).map(array_map).collect() } else { Vec::new() };
    Ok(Object {
        path: format!("synthetic-{}-{insns}", shape.name()),
        license: Some("GPL".into()),
        kern_version: None,
        maps,
        programs: vec![Program {
            section: "socket".into(),
            name: shape.name().into(),
            prog_type: ProgType::SocketFilter,
            expected_attach_type: None,
            insns: code,
            functions: vec![(0, shape.name().into())],
            line_info: Default::default(),
        }],
        btf: None,
        parsed_btf: Default::default(),
    })
}

/// An array map with 4-byte keys and 8-byte values.
fn array_map(i: usize) -> MapDef {
    MapDef {
        name: format!("m{i}"),
        map_type: 2,
        key_size: 4,
        value_size: 8,
        max_entries: 16,
        map_flags: 0,
        inner: None,
        origin: MapOrigin::BtfMaps,
        initial_value: None,
        btf_key_type_id: 0,
        btf_value_type_id: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use analyzer::verify::{verify_program, Config, Verdict};

    #[test]
    fn sizes_are_exact() {
        for shape in Shape::ALL {
            for n in [100, 1000, 1003, 10_000] {
                let obj = generate(shape, n).expect("assembles");
                let len = obj.programs.first().map(|p| p.insns.len());
                assert_eq!(len, Some(n), "{} at {n}", shape.name());
            }
        }
    }

    #[test]
    fn every_shape_is_accepted_at_1k() {
        for shape in Shape::ALL {
            let obj = generate(shape, 1000).expect("assembles");
            let r = verify_program(&obj, 0, &Config::default());
            assert_eq!(r.verdict, Verdict::Accepted, "{}: {:?} {:?}", shape.name(), r.error, r.diagnostics);
        }
    }

    #[test]
    fn maps_shape_uses_every_map() {
        let text = program_text(Shape::Maps, 7 * MAP_COUNT + 5);
        assert!(text.contains(&format!("map[idx:{}]", MAP_COUNT - 1)));
        assert!(!text.contains(&format!("map[idx:{MAP_COUNT}]")));
    }
}
