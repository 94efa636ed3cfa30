//! Whether this process can use `bpf(2)` at all: tests that need the kernel ask first.

use crate::sys;
use std::ffi::CString;
use std::sync::OnceLock;

/// True if `BPF_PROG_LOAD` of `r0 = 0; exit` as a socket filter succeeds.
/// False on `EPERM` (not privileged), `ENOSYS` (no bpf(2)) or any other failure.
/// The answer is computed once per process.
pub fn bpf_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(probe)
}

fn probe() -> bool {
    // r0 = 0 (b7 00 .. 00); exit (95 00 .. 00)
    let insns: [u8; 16] = [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
    let license = CString::from(c"GPL");
    let res = sys::prog_load(&sys::ProgLoadArgs {
        prog_type: 1,
        expected_attach_type: 0,
        insns: &insns,
        license: &license,
        kern_version: 0,
        prog_flags: 0,
        name: "probe",
        log_level: 0,
        log_size: 0,
        attach_btf_id: 0,
    }, None);
    res.fd.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_is_stable() {
        // Whatever the environment, asking twice gives the same answer.
        assert_eq!(bpf_available(), bpf_available());
        if !bpf_available() {
            eprintln!("skipped: no bpf()");
        }
    }
}
