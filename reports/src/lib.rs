//! Renders analysis results: kernel-style verifier logs, JSON, SARIF and plain text.
//!
//! Every renderer is a pure function from `analyzer::verify::ProgramResult`s to a
//! `String` or a `serde_json::Value`; only the CLI writes to stdout.
//!
//! - `kernel_log`: the Linux 6.18 verifier log at level 1 or 2.
//! - `json`: the machine-readable report (deterministic unless timings are asked for).
//! - `sarif`: SARIF 2.1.0 for code-scanning tools.
//! - `summary`: one line per program, and a totals table.

pub mod json;
pub mod kernel_log;
pub mod sarif;
mod state_view;
pub mod summary;
#[cfg(test)]
mod testdata;

pub use json::{json_report, JsonOptions};
pub use kernel_log::kernel_log;
pub use sarif::sarif_report;
pub use summary::{summary_table, text_report};
