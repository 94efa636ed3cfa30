//! The kernel ABI the verifier checks programs against, as pure data and lookup functions ported
//! from Linux 6.18: helper prototypes and which program types may call them (`helpers`,
//! `helper_sets`), ctx layouts and access rules (`ctx`), the exit-code ranges (`ret`), and map
//! types with their helper compatibility (`map_types`).
//!
//! `testdata/` holds the live-kernel probes these tables are tested against, and the scripts that
//! produced them (run as root on the reference kernel: `python3 probe_helpers.py helper_probe.tsv`, ...).

pub mod btf_access;
pub mod btf_ctx;
pub mod ctx;
mod helper_sets;
pub mod helpers;
pub mod kfuncs;
pub mod map_types;
pub mod ret;
pub mod struct_ops;

pub use ctx::{ctx_access, ctx_size, CtxAccess, CtxFieldKind};
pub use helpers::{
    fixed_mem_arg_size, helper_allowed, helper_allowed_for, helper_proto, helper_proto_for, ret_bounded_by_size_arg,
    ArgKind, HelperProto, RetKind,
};
pub use map_types::{
    map_helper_compatible, map_helper_compatible_in, map_lookup_allowed, map_lookup_result, map_type_name,
    LookupResult,
};
pub use ret::{return_code_error, return_range};
