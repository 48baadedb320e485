//! The hook's direct libc calls, each behind a safe wrapper that turns the
//! C convention (-1 and errno) into `io::Result`. Callers hold descriptors
//! as `OwnedFd`/`BorrowedFd`, so a wrapper cannot be handed a closed one.
//!
//! Not here yet: the `*at` calls that finish extracted entries
//! (extract.rs), the xattr calls (xattr.rs, already a wrapper module), the
//! `pre_exec` closure of a migration (it runs between fork and exec and
//! must stay async-signal-safe where it is) and fsio/snapshot's own.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// The effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// `openat(dir, name, flags, mode)`: the new descriptor, owned by the caller.
/// `dir` may be `None` for the working directory (`AT_FDCWD`).
pub fn openat(
    dir: Option<BorrowedFd>,
    name: &CStr,
    flags: libc::c_int,
    mode: libc::c_uint,
) -> io::Result<OwnedFd> {
    let base = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: `base` is AT_FDCWD or a descriptor borrowed for this call;
    // `name` is a NUL-terminated string that outlives it.
    let fd = check(unsafe { libc::openat(base, name.as_ptr(), flags, mode) })?;
    // SAFETY: `fd` was just returned by openat and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `mkdirat(dir, name, mode)`.
pub fn mkdirat(dir: BorrowedFd, name: &CStr, mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: a descriptor borrowed for the call and a NUL-terminated name.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) }).map(drop)
}

/// `fchmod(fd, mode)`.
pub fn fchmod(fd: BorrowedFd, mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: a descriptor borrowed for the call.
    check(unsafe { libc::fchmod(fd.as_raw_fd(), mode) }).map(drop)
}

/// `fsync(fd)`: a file's or a directory's entries on disk.
pub fn fsync(fd: BorrowedFd) -> io::Result<()> {
    // SAFETY: a descriptor borrowed for the call.
    check(unsafe { libc::fsync(fd.as_raw_fd()) }).map(drop)
}

/// `kill(pid, sig)`; a negative `pid` names a process group.
pub fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes plain integers; a wrong pid is an error, not UB.
    check(unsafe { libc::kill(pid, sig) }).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn wrappers_report_errno() {
        let d = tempfile::tempdir().unwrap();
        let dir = std::fs::File::open(d.path()).unwrap();
        mkdirat(dir.as_fd(), c"sub", 0o700).unwrap();
        let e = mkdirat(dir.as_fd(), c"sub", 0o700).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EEXIST));
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        let sub = openat(Some(dir.as_fd()), c"sub", flags, 0).unwrap();
        fchmod(sub.as_fd(), 0o755).unwrap();
        fsync(sub.as_fd()).unwrap();
        let e = openat(Some(dir.as_fd()), c"missing", flags, 0).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        kill(std::process::id() as libc::pid_t, 0).unwrap();
    }
}
