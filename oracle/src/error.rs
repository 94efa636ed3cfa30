//! Errors of the oracle: everything that stops a program from reaching the kernel's
//! verifier. A verifier rejection is not an error; it is a `KernelVerdict` with
//! `accepted: false`.

/// Why a program could not be handed to the kernel verifier.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OracleError {
    /// `BPF_MAP_CREATE` failed for a map the program uses, even after the fixups.
    #[error("program `{program}`: creating map `{map}` (type {map_type}) failed: errno {errno} ({})", errno_name(*errno))]
    MapCreate {
        program: String,
        map: String,
        map_type: u32,
        errno: i32,
    },
    /// Writing a global data map's initial value, or freezing it, failed.
    #[error("program `{program}`: initialising map `{map}` failed in {step}: errno {errno} ({})", errno_name(*errno))]
    MapInit {
        program: String,
        map: String,
        step: &'static str,
        errno: i32,
    },
    /// An `LD_IMM64` refers to a map index the object does not have.
    #[error("program `{program}`: insn {pc} refers to map index {index}, but the object has {map_count} maps")]
    BadMapIndex {
        program: String,
        pc: usize,
        index: i32,
        map_count: usize,
    },
    /// An `LD_IMM64` is the program's last instruction, so it has no second slot.
    #[error("program `{program}`: LD_IMM64 at insn {pc} has no second slot")]
    TruncatedLdImm64 { program: String, pc: usize },
    /// The program has no instructions.
    #[error("program `{program}` has no instructions")]
    EmptyProgram { program: String },
}

/// The symbolic name of an errno value (`EACCES`, ...), or `"errno"` when unknown.
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTSUP => "ENOTSUP",
        libc::ERANGE => "ERANGE",
        // The kernel-internal ENOTSUPP, which bpf(2) can leak to user space.
        524 => "ENOTSUPP",
        _ => "errno",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_program_and_map() {
        let e = OracleError::MapCreate {
            program: "xdp_prog".into(),
            map: "events".into(),
            map_type: 27,
            errno: libc::EINVAL,
        };
        let s = e.to_string();
        assert!(
            s.contains("xdp_prog") && s.contains("events") && s.contains("EINVAL"),
            "{s}"
        );
        assert_eq!(errno_name(libc::EACCES), "EACCES");
        assert_eq!(errno_name(12345), "errno");
    }
}
