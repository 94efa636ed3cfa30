//! Support code of the benchmarks in `benches/benches/`: the synthetic program
//! generator of the scaling benchmark ([`gen`]) and the counting allocator that measures
//! the peak heap of one analysis ([`alloc`]).

pub mod alloc;
pub mod gen;
