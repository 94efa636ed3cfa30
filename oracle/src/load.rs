//! Loading one program into the live kernel: `load_program` is the oracle's one call.
//!
//! It creates the maps the program refers to (see `maps`), rewrites each
//! `LD_IMM64` with `BPF_PSEUDO_MAP_IDX` (src 5) / `BPF_PSEUDO_MAP_IDX_VALUE` (src 6)
//! into `BPF_PSEUDO_MAP_FD` (src 1) / `BPF_PSEUDO_MAP_VALUE` (src 2) with the new fd,
//! and calls `BPF_PROG_LOAD` with the program type, expected attach type, license
//! (`"GPL"` when the object has none, as the reference run did), kern_version, and for
//! tracing/LSM programs the vmlinux BTF id of the attach target named by the section;
//! the object's BTF, sanitised as libbpf does (`btf_sanitize`), goes to the maps and, with
//! func_info, to the program.
//! When the log does not fit (`ENOSPC`) it retries with the size the kernel asked for
//! (`log_true_size`), up to `LoadOptions::max_log_size`; past that the verdict comes
//! from a log-level-4 (statistics only) load and the log is the kernel's tail of the
//! last attempt. Every fd (maps, BTF, the program) is closed before returning.
//!
//! A verifier rejection is a `KernelVerdict` with `accepted: false`; an `OracleError`
//! means the program never reached the verifier.

use crate::btf_sanitize::{sanitize, ElfLayout};
use crate::error::OracleError;
use crate::sys::ProgBtf;
use crate::maps::{self, MapConfig};
use crate::sys;
use analyzer::object::{Object, Program};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

/// `BPF_LOG_LEVEL1`, `BPF_LOG_LEVEL2`, `BPF_LOG_STATS`.
pub const LOG_LEVEL1: u32 = 1;
pub const LOG_LEVEL2: u32 = 2;
pub const LOG_STATS: u32 = 4;

/// How to load a program.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// 1: the failing path only; 2: every instruction with the states after it; 0 with
    /// `stats`: the statistics alone (for timing the kernel; a rejection then has no
    /// error line).
    pub log_level: u32,
    /// Also ask for statistics (`BPF_LOG_STATS`): `verification time N usec`, `stack depth N`.
    pub stats: bool,
    /// First log buffer size in bytes.
    pub initial_log_size: u32,
    /// Largest log buffer tried before falling back to a statistics-only load.
    pub max_log_size: u32,
    /// Sanitise and load the object's `.BTF` (as libbpf does), give it to the maps that
    /// name BTF key/value types, and pass it to the program with one func_info record per
    /// function (no line_info). A BTF the kernel refuses is noted in `fixups` and loading
    /// goes on without it.
    pub load_btf: bool,
    /// Retry a failed map creation with flags 0, then as a HASH map (as the reference run did).
    pub map_fallbacks: bool,
    /// `prog_flags` for `BPF_PROG_LOAD` (`BPF_F_*`), normally 0.
    pub prog_flags: u32,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            log_level: LOG_LEVEL1,
            stats: true,
            initial_log_size: 1 << 20,
            max_log_size: 64 << 20,
            load_btf: true,
            map_fallbacks: true,
            prog_flags: 0,
        }
    }
}

/// What the live kernel verifier said about one program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelVerdict {
    /// `BPF_PROG_LOAD` returned a program fd.
    pub accepted: bool,
    /// The errno of `BPF_PROG_LOAD` (0 when accepted): `EACCES`/`EINVAL` for most
    /// rejections, `E2BIG` for too-complex programs.
    pub errno: i32,
    /// The verifier log of the final attempt.
    pub log: String,
    /// `N` of the log's `processed N insns` line.
    pub processed_insns: Option<u64>,
    /// `verification time N usec`, when statistics were asked for.
    pub verification_time_usec: Option<u64>,
    /// The log level of the attempt `log` comes from (level 4 alone after a log overflow).
    pub log_level: u32,
    /// The log was too big even at `max_log_size`; `log` is the kernel's tail of it.
    pub log_truncated: bool,
    /// Every adjustment made to get the program into the kernel (map fixups,
    /// default license, BTF refused, ...), in the style of kernel-verdicts.tsv's notes.
    pub fixups: Vec<String>,
}

impl KernelVerdict {
    /// True when the verifier ran and refused the program (as opposed to a refusal before
    /// verification, which leaves no log: unknown attach target, lockdown, ...).
    pub fn rejected_by_verifier(&self) -> bool {
        !self.accepted && !self.log.trim().is_empty()
    }

    /// The last non-empty log line before the statistics: the kernel's error message for a
    /// rejection (`R1 !read_ok`, `invalid mem access 'map_value_or_null'`, ...).
    pub fn error_line(&self) -> Option<&str> {
        if self.accepted {
            return None;
        }
        self.log
            .lines()
            .rev()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .find(|l| !is_stats_line(l))
    }
}

/// Lines `print_verification_stats` writes at the end of every log.
fn is_stats_line(line: &str) -> bool {
    line.starts_with("processed ") || line.starts_with("verification time ") || line.starts_with("stack depth ")
}

/// The number in `processed N insns` (or `BPF program is too large. Processed N insn`), last one wins.
pub(crate) fn parse_processed(log: &str) -> Option<u64> {
    log.lines().rev().find_map(|l| {
        let l = l.trim();
        let rest = l
            .strip_prefix("processed ")
            .or_else(|| l.split_once("Processed ").map(|(_, r)| r))?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The number in `verification time N usec`.
pub(crate) fn parse_verification_time(log: &str) -> Option<u64> {
    log.lines().rev().find_map(|l| {
        l.trim()
            .strip_prefix("verification time ")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

/// Instructions with map references turned into fds, and the fds that must outlive the load.
struct PatchedInsns {
    bytes: Vec<u8>,
    _map_fds: BTreeMap<usize, OwnedFd>,
}

/// Creates the maps `prog` uses and rewrites its `LD_IMM64` map references.
fn patch_maps(
    obj: &Object,
    prog: &Program,
    cfg: MapConfig,
    fixups: &mut Vec<String>,
) -> Result<PatchedInsns, OracleError> {
    let mut map_fds: BTreeMap<usize, OwnedFd> = BTreeMap::new();
    let mut insns = prog.insns.clone();
    let mut pc = 0;
    while pc < insns.len() {
        let insn = insns[pc];
        if insn.code != 0x18 {
            pc += 1;
            continue;
        }
        if pc + 1 >= insns.len() {
            return Err(OracleError::TruncatedLdImm64 {
                program: prog.name.clone(),
                pc,
            });
        }
        if insn.src == 5 || insn.src == 6 {
            let index = usize::try_from(insn.imm)
                .ok()
                .filter(|&i| i < obj.maps.len())
                .ok_or_else(|| OracleError::BadMapIndex {
                    program: prog.name.clone(),
                    pc,
                    index: insn.imm,
                    map_count: obj.maps.len(),
                })?;
            let fd = match map_fds.get(&index) {
                Some(fd) => fd.as_raw_fd(),
                None => {
                    let def = &obj.maps[index];
                    let fd = maps::create_map(def, cfg, fixups).map_err(|f| match f.step {
                        "create" | "inner map" => OracleError::MapCreate {
                            program: prog.name.clone(),
                            map: def.name.clone(),
                            map_type: def.map_type,
                            errno: f.errno,
                        },
                        step => OracleError::MapInit {
                            program: prog.name.clone(),
                            map: def.name.clone(),
                            step,
                            errno: f.errno,
                        },
                    })?;
                    let raw = fd.as_raw_fd();
                    map_fds.insert(index, fd);
                    raw
                }
            };
            insns[pc].src = if insn.src == 5 { 1 } else { 2 };
            insns[pc].imm = fd;
        }
        pc += 2;
    }
    let bytes = insns.iter().flat_map(|i| i.to_bytes()).collect();
    Ok(PatchedInsns {
        bytes,
        _map_fds: map_fds,
    })
}

/// The license string to pass: the object's, up to its first NUL, or `"GPL"`.
fn license_for(obj: &Object, fixups: &mut Vec<String>) -> CString {
    match &obj.license {
        Some(l) => {
            let text = l.split('\0').next().unwrap_or("");
            CString::new(text).unwrap_or_default()
        }
        None => {
            fixups.push("object has no license section: license \"GPL\" passed".to_string());
            CString::from(c"GPL")
        }
    }
}

/// The object's BTF as loaded into the kernel, and its FUNC ids by name.
struct LoadedBtf {
    fd: OwnedFd,
    func_ids: BTreeMap<String, u32>,
}

/// Sanitises (see `btf_sanitize`) and loads the object's `.BTF`; a refusal is noted in `fixups`.
fn load_btf(obj: &Object, fixups: &mut Vec<String>) -> Option<LoadedBtf> {
    let bytes = obj.btf.as_ref().filter(|b| !b.is_empty())?;
    let sanitized = match sanitize(bytes, &ElfLayout::from_elf_file(&obj.path)) {
        Ok(s) => s,
        Err(e) => {
            fixups.push(format!("BTF not sanitised ({e}): loaded without BTF"));
            return None;
        }
    };
    match sys::btf_load(&sanitized.bytes) {
        Ok(fd) => Some(LoadedBtf {
            fd,
            func_ids: sanitized.func_ids,
        }),
        Err((errno, log)) => {
            let last = log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string();
            fixups.push(format!(
                "BTF refused by the kernel (errno {errno}: {last}): loaded without BTF"
            ));
            None
        }
    }
}

/// One `(insn_off, type_id)` func_info record per function of `prog`, or None (noted in
/// `fixups`) when some function has no BTF FUNC of its name.
fn func_info_for(
    prog: &Program,
    func_ids: &BTreeMap<String, u32>,
    fixups: &mut Vec<String>,
) -> Option<Vec<(u32, u32)>> {
    let mut recs = Vec::with_capacity(prog.functions.len());
    for (pc, name) in &prog.functions {
        let (Some(&id), Ok(off)) = (func_ids.get(name), u32::try_from(*pc)) else {
            fixups.push(format!("no BTF FUNC for {name}: program loaded without func_info"));
            return None;
        };
        recs.push((off, id));
    }
    recs.sort_unstable();
    recs.dedup_by_key(|r| r.0);
    (recs.first().map(|r| r.0) == Some(0)).then_some(recs)
}

/// Loads one program of `obj` into the live kernel and reports the verifier's verdict.
///
/// `prog` should be one of `obj.programs` (its map indices refer to `obj.maps`).
pub fn load_program(obj: &Object, prog: &Program, opts: &LoadOptions) -> Result<KernelVerdict, OracleError> {
    if prog.insns.is_empty() {
        return Err(OracleError::EmptyProgram {
            program: prog.name.clone(),
        });
    }
    let mut fixups = Vec::new();
    let btf = if opts.load_btf { load_btf(obj, &mut fixups) } else { None };
    let cfg = MapConfig {
        fallbacks: opts.map_fallbacks,
        btf_fd: btf.as_ref().map(|b| b.fd.as_raw_fd()),
    };
    let patched = patch_maps(obj, prog, cfg, &mut fixups)?;
    let license = license_for(obj, &mut fixups);
    let attach_btf_id = match crate::attach::attach_btf_id(prog) {
        None => 0,
        Some(Ok(id)) => id,
        Some(Err(name)) => {
            fixups.push(format!(
                "attach target {name} not found in vmlinux BTF: attach_btf_id 0"
            ));
            0
        }
    };
    // Level 0 with statistics: the statistics alone (no per-instruction printing, which
    // slows the kernel's verification several times over); else level 1 or 2.
    let level = if opts.log_level == 0 && opts.stats {
        LOG_STATS
    } else {
        opts.log_level.clamp(1, 2) | if opts.stats { LOG_STATS } else { 0 }
    };
    let mut args = sys::ProgLoadArgs {
        prog_type: prog.prog_type as u32,
        expected_attach_type: prog.expected_attach_type.map_or(0, |t| t as u32),
        insns: &patched.bytes,
        license: &license,
        kern_version: obj.kern_version.unwrap_or(0),
        prog_flags: opts.prog_flags,
        name: &prog.name,
        log_level: level,
        log_size: opts.initial_log_size.clamp(4096, opts.max_log_size.max(4096)),
        attach_btf_id,
    };
    let func_info = btf.as_ref().and_then(|b| func_info_for(prog, &b.func_ids, &mut fixups));
    let prog_btf = match (&btf, &func_info) {
        (Some(b), Some(fi)) => Some(ProgBtf {
            btf_fd: b.fd.as_raw_fd(),
            func_info: fi,
        }),
        _ => None,
    };
    let load = |args: &sys::ProgLoadArgs<'_>| sys::prog_load(args, prog_btf.as_ref());
    loop {
        let res = load(&args);
        match res.fd {
            Err(libc::ENOSPC) if args.log_size < opts.max_log_size => {
                let wanted = res
                    .log_true_size
                    .saturating_add(4096)
                    .max(args.log_size.saturating_mul(4));
                args.log_size = wanted.min(opts.max_log_size);
            }
            Err(libc::ENOSPC) => {
                fixups.push(format!(
                    "log_level={level} load hit ENOSPC (log > {} MiB); verdict from log_level=4 load",
                    args.log_size >> 20
                ));
                let tail = res.log;
                args.log_level = LOG_STATS;
                args.log_size = 64 * 1024;
                let stats = load(&args);
                let stats_errno = stats.fd.as_ref().err().copied().unwrap_or(0);
                return Ok(KernelVerdict {
                    accepted: stats.fd.is_ok(),
                    errno: stats_errno,
                    processed_insns: parse_processed(&stats.log).or_else(|| parse_processed(&tail)),
                    verification_time_usec: parse_verification_time(&stats.log),
                    log: tail,
                    log_level: LOG_STATS,
                    log_truncated: true,
                    fixups,
                });
            }
            fd => {
                return Ok(KernelVerdict {
                    accepted: fd.is_ok(),
                    errno: fd.as_ref().err().copied().unwrap_or(0),
                    processed_insns: parse_processed(&res.log),
                    verification_time_usec: parse_verification_time(&res.log),
                    log: res.log,
                    log_level: level,
                    log_truncated: false,
                    fixups,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processed_line_is_parsed() {
        let log = "0: R1=ctx() R10=fp0\nR0 !read_ok\nprocessed 12 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1\n";
        assert_eq!(parse_processed(log), Some(12));
        assert_eq!(
            parse_processed("BPF program is too large. Processed 1000001 insn\n"),
            Some(1000001)
        );
        assert_eq!(parse_processed("nothing here"), None);
        assert_eq!(
            parse_verification_time("verification time 27 usec\nstack depth 0\n"),
            Some(27)
        );
    }

    #[test]
    fn error_line_skips_statistics() {
        let v = KernelVerdict {
            accepted: false,
            errno: libc::EACCES,
            log: "0: (79) r0 = *(u64 *)(r2 +0)\nR2 !read_ok\nverification time 5 usec\nstack depth 0\nprocessed 1 insns (limit 1000000)\n".into(),
            processed_insns: Some(1),
            verification_time_usec: Some(5),
            log_level: 5,
            log_truncated: false,
            fixups: vec![],
        };
        assert_eq!(v.error_line(), Some("R2 !read_ok"));
        assert!(v.rejected_by_verifier());
    }
}
