//! Abstract domains for eBPF scalars (being written).
