//! Raw `bpf(2)`: the `union bpf_attr` layouts this crate uses and thin wrappers around
//! `syscall(SYS_bpf, cmd, &attr, size)`.
//!
//! Each command's arguments are a `#[repr(C)]` struct laid out as in the kernel's
//! `include/uapi/linux/bpf.h` (Linux 6.18); `BpfAttr` is their union, padded with zeros
//! to 256 bytes so that every field this crate does not set is zero, as the kernel
//! requires (`CHECK_ATTR`, `bpf_check_uarg_tail_zero`).
//! File descriptors come back as `OwnedFd`, so every map, program and BTF object is
//! closed when its owner goes out of scope.
//! No libbpf: this file is the only place with `unsafe`.

use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};

/// `enum bpf_cmd` values used here.
pub(crate) const BPF_MAP_CREATE: u32 = 0;
pub(crate) const BPF_MAP_UPDATE_ELEM: u32 = 2;
pub(crate) const BPF_PROG_LOAD: u32 = 5;
pub(crate) const BPF_BTF_LOAD: u32 = 18;
pub(crate) const BPF_MAP_FREEZE: u32 = 22;

/// Length of the kernel's object names (`BPF_OBJ_NAME_LEN`), including the NUL.
pub(crate) const OBJ_NAME_LEN: usize = 16;

/// Arguments of `BPF_MAP_CREATE`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct MapCreateAttr {
    pub(crate) map_type: u32,
    pub(crate) key_size: u32,
    pub(crate) value_size: u32,
    pub(crate) max_entries: u32,
    pub(crate) map_flags: u32,
    pub(crate) inner_map_fd: u32,
    pub(crate) numa_node: u32,
    pub(crate) map_name: [u8; OBJ_NAME_LEN],
    pub(crate) map_ifindex: u32,
    pub(crate) btf_fd: u32,
    pub(crate) btf_key_type_id: u32,
    pub(crate) btf_value_type_id: u32,
    pub(crate) btf_vmlinux_value_type_id: u32,
    pub(crate) map_extra: u64,
}

/// Arguments of `BPF_MAP_*_ELEM` and `BPF_MAP_FREEZE` (which only reads `map_fd`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct MapElemAttr {
    pub(crate) map_fd: u32,
    pub(crate) _pad: u32,
    pub(crate) key: u64,
    pub(crate) value: u64,
    pub(crate) flags: u64,
}

/// Arguments of `BPF_PROG_LOAD`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct ProgLoadAttr {
    pub(crate) prog_type: u32,
    pub(crate) insn_cnt: u32,
    pub(crate) insns: u64,
    pub(crate) license: u64,
    pub(crate) log_level: u32,
    pub(crate) log_size: u32,
    pub(crate) log_buf: u64,
    pub(crate) kern_version: u32,
    pub(crate) prog_flags: u32,
    pub(crate) prog_name: [u8; OBJ_NAME_LEN],
    pub(crate) prog_ifindex: u32,
    pub(crate) expected_attach_type: u32,
    pub(crate) prog_btf_fd: u32,
    pub(crate) func_info_rec_size: u32,
    pub(crate) func_info: u64,
    pub(crate) func_info_cnt: u32,
    pub(crate) line_info_rec_size: u32,
    pub(crate) line_info: u64,
    pub(crate) line_info_cnt: u32,
    pub(crate) attach_btf_id: u32,
    pub(crate) attach_prog_fd: u32,
    pub(crate) core_relo_cnt: u32,
    pub(crate) fd_array: u64,
    pub(crate) core_relos: u64,
    pub(crate) core_relo_rec_size: u32,
    /// Output (Linux 6.4+): the log size the verifier needed.
    pub(crate) log_true_size: u32,
}

/// Arguments of `BPF_BTF_LOAD`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct BtfLoadAttr {
    pub(crate) btf: u64,
    pub(crate) btf_log_buf: u64,
    pub(crate) btf_size: u32,
    pub(crate) btf_log_size: u32,
    pub(crate) btf_log_level: u32,
    pub(crate) btf_log_true_size: u32,
}

/// The kernel's `union bpf_attr`, restricted to the commands above.
#[repr(C)]
pub(crate) union BpfAttr {
    pub(crate) map_create: MapCreateAttr,
    pub(crate) map_elem: MapElemAttr,
    pub(crate) prog_load: ProgLoadAttr,
    pub(crate) btf_load: BtfLoadAttr,
    _pad: [u64; 32],
}

impl BpfAttr {
    /// An all-zero attribute block.
    pub(crate) fn zeroed() -> BpfAttr {
        BpfAttr { _pad: [0; 32] }
    }
}

/// Calls `bpf(cmd, attr)`; returns the (non-negative) result or the errno.
fn sys_bpf(cmd: u32, attr: &mut BpfAttr) -> Result<i64, i32> {
    // SAFETY: `attr` is a valid, initialised, writable block of `size_of::<BpfAttr>()` bytes;
    // every pointer inside it was set by the callers below to live buffers of the stated length.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr as *mut BpfAttr,
            std::mem::size_of::<BpfAttr>(),
        )
    };
    if ret < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL))
    } else {
        Ok(ret as i64)
    }
}

/// Calls a `bpf(2)` command that returns a new file descriptor.
fn sys_bpf_fd(cmd: u32, attr: &mut BpfAttr) -> Result<OwnedFd, i32> {
    let fd = sys_bpf(cmd, attr)?;
    let fd = i32::try_from(fd).map_err(|_| libc::EBADF)?;
    // SAFETY: the kernel just returned this descriptor to us; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A kernel object name: at most 15 bytes of `[A-Za-z0-9_.]`, other bytes replaced by `_`.
pub(crate) fn obj_name(name: &str) -> [u8; OBJ_NAME_LEN] {
    let mut out = [0u8; OBJ_NAME_LEN];
    for (slot, b) in out.iter_mut().zip(name.bytes().take(OBJ_NAME_LEN - 1)) {
        *slot = if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
            b
        } else {
            b'_'
        };
    }
    out
}

/// `BPF_MAP_CREATE`.
pub(crate) fn map_create(attr: MapCreateAttr) -> Result<OwnedFd, i32> {
    let mut a = BpfAttr::zeroed();
    a.map_create = attr;
    sys_bpf_fd(BPF_MAP_CREATE, &mut a)
}

/// `BPF_MAP_UPDATE_ELEM` with `BPF_ANY`; `key` and `value` must have the map's sizes.
pub(crate) fn map_update(map_fd: i32, key: &[u8], value: &[u8]) -> Result<(), i32> {
    let mut a = BpfAttr::zeroed();
    a.map_elem = MapElemAttr {
        map_fd: map_fd as u32,
        _pad: 0,
        key: key.as_ptr() as u64,
        value: value.as_ptr() as u64,
        flags: 0,
    };
    sys_bpf(BPF_MAP_UPDATE_ELEM, &mut a).map(|_| ())
}

/// `BPF_MAP_FREEZE`: user space can no longer write the map.
pub(crate) fn map_freeze(map_fd: i32) -> Result<(), i32> {
    let mut a = BpfAttr::zeroed();
    a.map_elem = MapElemAttr {
        map_fd: map_fd as u32,
        _pad: 0,
        key: 0,
        value: 0,
        flags: 0,
    };
    sys_bpf(BPF_MAP_FREEZE, &mut a).map(|_| ())
}

/// `BPF_BTF_LOAD` of raw `.BTF` bytes; on failure returns the errno and the BTF log.
pub(crate) fn btf_load(btf: &[u8]) -> Result<OwnedFd, (i32, String)> {
    let mut log = vec![0u8; 64 * 1024];
    let mut a = BpfAttr::zeroed();
    a.btf_load = BtfLoadAttr {
        btf: btf.as_ptr() as u64,
        btf_log_buf: log.as_mut_ptr() as u64,
        btf_size: u32::try_from(btf.len()).unwrap_or(u32::MAX),
        btf_log_size: log.len() as u32,
        btf_log_level: 1,
        btf_log_true_size: 0,
    };
    sys_bpf_fd(BPF_BTF_LOAD, &mut a).map_err(|e| (e, log_to_string(&log)))
}

/// What one `BPF_PROG_LOAD` call produced.
pub(crate) struct ProgLoadResult {
    /// The program fd, or the errno.
    pub(crate) fd: Result<OwnedFd, i32>,
    /// The verifier log (empty at log level 0).
    pub(crate) log: String,
    /// `log_true_size` as the kernel reported it (0 on kernels before 6.4).
    pub(crate) log_true_size: u32,
}

/// Inputs of one `BPF_PROG_LOAD` call.
pub(crate) struct ProgLoadArgs<'a> {
    pub(crate) prog_type: u32,
    pub(crate) expected_attach_type: u32,
    pub(crate) insns: &'a [u8],
    pub(crate) license: &'a CString,
    pub(crate) kern_version: u32,
    pub(crate) prog_flags: u32,
    pub(crate) name: &'a str,
    pub(crate) log_level: u32,
    pub(crate) log_size: u32,
    /// Kernel BTF type id of the attach target (tracing and LSM programs), else 0.
    pub(crate) attach_btf_id: u32,
}

/// The program BTF to pass with a program: a loaded BTF fd and `struct bpf_func_info`
/// records (`insn_off`, `type_id`), sorted by `insn_off`, the first at 0.
/// Global functions and callbacks (`bpf_loop`) need it ("missing btf func_info").
pub(crate) struct ProgBtf<'a> {
    pub(crate) btf_fd: i32,
    pub(crate) func_info: &'a [(u32, u32)],
}

/// `BPF_PROG_LOAD` with a log buffer of `args.log_size` bytes, and with `prog_btf_fd` and
/// `func_info` when `btf` is given.
pub(crate) fn prog_load(args: &ProgLoadArgs<'_>, btf: Option<&ProgBtf<'_>>) -> ProgLoadResult {
    let mut log = if args.log_level == 0 {
        Vec::new()
    } else {
        vec![0u8; args.log_size as usize]
    };
    // `struct bpf_func_info` records, 8 bytes each; must outlive the syscall.
    let recs: Vec<u8> = btf
        .map(|b| b.func_info)
        .unwrap_or_default()
        .iter()
        .flat_map(|&(off, id)| off.to_le_bytes().into_iter().chain(id.to_le_bytes()))
        .collect();
    let mut a = BpfAttr::zeroed();
    a.prog_load = ProgLoadAttr {
        prog_type: args.prog_type,
        insn_cnt: u32::try_from(args.insns.len() / 8).unwrap_or(u32::MAX),
        insns: args.insns.as_ptr() as u64,
        license: args.license.as_ptr() as u64,
        log_level: args.log_level,
        log_size: log.len() as u32,
        log_buf: if log.is_empty() { 0 } else { log.as_mut_ptr() as u64 },
        kern_version: args.kern_version,
        prog_flags: args.prog_flags,
        prog_name: obj_name(args.name),
        prog_ifindex: 0,
        expected_attach_type: args.expected_attach_type,
        prog_btf_fd: btf.map_or(0, |b| b.btf_fd as u32),
        func_info_rec_size: if btf.is_some() { 8 } else { 0 },
        func_info: if recs.is_empty() { 0 } else { recs.as_ptr() as u64 },
        func_info_cnt: u32::try_from(recs.len() / 8).unwrap_or(u32::MAX),
        line_info_rec_size: 0,
        line_info: 0,
        line_info_cnt: 0,
        attach_btf_id: args.attach_btf_id,
        attach_prog_fd: 0,
        core_relo_cnt: 0,
        fd_array: 0,
        core_relos: 0,
        core_relo_rec_size: 0,
        log_true_size: 0,
    };
    let fd = sys_bpf_fd(BPF_PROG_LOAD, &mut a);
    // SAFETY: the union was initialised through `prog_load` just above; the kernel only
    // writes `log_true_size` inside it.
    let log_true_size = unsafe { a.prog_load.log_true_size };
    ProgLoadResult {
        fd,
        log: log_to_string(&log),
        log_true_size,
    }
}

/// The NUL-terminated text of a log buffer, lossily decoded.
fn log_to_string(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_layouts_match_the_uapi() {
        // Offsets as a C compiler lays out the uapi `union bpf_attr` (checked with offsetof).
        assert_eq!(std::mem::size_of::<MapCreateAttr>(), 72);
        assert_eq!(std::mem::offset_of!(MapCreateAttr, map_name), 28);
        assert_eq!(std::mem::offset_of!(MapCreateAttr, map_extra), 64);
        assert_eq!(std::mem::offset_of!(MapElemAttr, key), 8);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, prog_name), 48);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, expected_attach_type), 68);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, fd_array), 120);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, log_true_size), 140);
        assert_eq!(std::mem::offset_of!(BtfLoadAttr, btf_size), 16);
        assert_eq!(std::mem::size_of::<BpfAttr>(), 256);
    }

    #[test]
    fn obj_name_truncates_and_sanitises() {
        let n = obj_name("my-map/with a very long name");
        assert_eq!(&n[..15], b"my_map_with_a_v");
        assert_eq!(n[15], 0);
        let n = obj_name(".rodata");
        assert_eq!(&n[..8], b".rodata\0");
    }

    #[test]
    fn log_to_string_stops_at_nul() {
        assert_eq!(log_to_string(b"abc\0def"), "abc");
        assert_eq!(log_to_string(b"abc"), "abc");
    }

    #[test]
    fn bad_btf_fd_is_refused_not_a_panic() {
        if !crate::bpf_available() {
            eprintln!("skipped: no bpf()");
            return;
        }
        let insns = [0xb7u8, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
        let license = std::ffi::CString::from(c"GPL");
        let args = ProgLoadArgs {
            prog_type: 6,
            expected_attach_type: 0,
            insns: &insns,
            license: &license,
            kern_version: 0,
            prog_flags: 0,
            name: "t",
            log_level: 1,
            log_size: 4096,
            attach_btf_id: 0,
        };
        let r = prog_load(&args, Some(&ProgBtf { btf_fd: -1, func_info: &[(0, 1)] }));
        assert!(r.fd.is_err());
        let ok = prog_load(&args, None);
        assert!(ok.fd.is_ok(), "r0 = 0; exit refused: {}", ok.log);
    }
}
