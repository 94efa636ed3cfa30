//! `BPF_PROG_LOAD` with program BTF: `prog_btf_fd` and `func_info` records.
//!
//! `sys::prog_load` (which this mirrors) passes no BTF; global functions and callbacks
//! (`bpf_loop`) need it ("missing btf func_info"). Kept apart from `sys` only because of
//! file ownership; it belongs there.

use crate::sys::{self, BpfAttr, ProgLoadArgs, ProgLoadAttr, ProgLoadResult};
use std::os::fd::{FromRawFd, OwnedFd};

/// The program BTF to pass: a loaded BTF fd and `struct bpf_func_info` records
/// (`insn_off`, `type_id`), sorted by `insn_off`, the first at 0.
pub(crate) struct ProgBtf<'a> {
    pub(crate) btf_fd: i32,
    pub(crate) func_info: &'a [(u32, u32)],
}

/// `BPF_PROG_LOAD` like `sys::prog_load`, plus `prog_btf_fd` and `func_info`.
pub(crate) fn prog_load_with_btf(args: &ProgLoadArgs<'_>, btf: &ProgBtf<'_>) -> ProgLoadResult {
    let mut log = if args.log_level == 0 {
        Vec::new()
    } else {
        vec![0u8; args.log_size as usize]
    };
    let recs: Vec<u8> = btf
        .func_info
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
        prog_name: sys::obj_name(args.name),
        prog_ifindex: 0,
        expected_attach_type: args.expected_attach_type,
        prog_btf_fd: btf.btf_fd as u32,
        func_info_rec_size: 8,
        func_info: recs.as_ptr() as u64,
        func_info_cnt: u32::try_from(btf.func_info.len()).unwrap_or(u32::MAX),
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
    // SAFETY: `a` is a valid, initialised block of `size_of::<BpfAttr>()` bytes; its
    // pointers (insns, license, log, func_info records) refer to buffers that live
    // across the call with the stated lengths.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            sys::BPF_PROG_LOAD as libc::c_long,
            &mut a as *mut BpfAttr,
            std::mem::size_of::<BpfAttr>(),
        )
    };
    let fd = if ret < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL))
    } else {
        match i32::try_from(ret) {
            // SAFETY: the kernel just returned this descriptor to us; nobody else owns it.
            Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
            Err(_) => Err(libc::EBADF),
        }
    };
    // SAFETY: the union was initialised through `prog_load` above.
    let log_true_size = unsafe { a.prog_load.log_true_size };
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    ProgLoadResult {
        fd,
        log: String::from_utf8_lossy(&log[..end]).into_owned(),
        log_true_size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_btf_fd_is_refused_not_a_panic() {
        if !crate::bpf_available() {
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
        let r = prog_load_with_btf(&args, &ProgBtf { btf_fd: -1, func_info: &[(0, 1)] });
        assert!(r.fd.is_err());
    }
}
