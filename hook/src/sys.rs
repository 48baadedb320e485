//! The hook's direct libc calls, each behind a safe wrapper that turns the
//! C convention (-1 and errno) into `io::Result`: the only `unsafe` of the
//! crate is here. Callers hold descriptors as `OwnedFd`/`BorrowedFd`, so a
//! wrapper cannot be handed a closed one, and names as `CStr`, so a name
//! is NUL-terminated and outlives the call. The flags, errno values and
//! file types callers need are re-exported, so no other module names libc.
//!
//! Every `*at` wrapper works below a directory descriptor and does not
//! follow a symlink at its last name, unless its name or doc says so
//! (`openat` follows only what its `flags` allow: pass `O_NOFOLLOW`).

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

pub use libc::{mode_t, pid_t};
pub use libc::{EBADF, EEXIST, EINVAL, ELOOP, ENOENT, ENOTDIR, ENXIO, EPERM, ESRCH};
pub use libc::{O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK};
pub use libc::{O_PATH, O_RDONLY, O_WRONLY, SIGKILL, SIGTERM};
pub use libc::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A byte count from a call that returns `ssize_t` (or -1 and errno).
fn check_len(r: libc::ssize_t) -> io::Result<usize> {
    usize::try_from(r).map_err(|_| io::Error::last_os_error())
}

/// A buffer for the kernel to fill: null when empty, which asks for the size.
fn out_ptr(buf: &mut [u8]) -> *mut libc::c_void {
    if buf.is_empty() {
        std::ptr::null_mut()
    } else {
        buf.as_mut_ptr().cast()
    }
}

/// The effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The effective group id.
pub fn egid() -> u32 {
    // SAFETY: getegid has no preconditions and cannot fail.
    unsafe { libc::getegid() }
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

/// File type bits, owner, identity and allocated size of an entry, from `fstatat`.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub mode: u32,
    pub uid: u32,
    pub dev: u64,
    pub ino: u64,
    /// 512-byte blocks allocated.
    pub blocks: u64,
}

impl Stat {
    /// The `S_IF*` file type bits.
    pub fn kind(&self) -> u32 {
        self.mode & libc::S_IFMT
    }

    pub fn is_symlink(&self) -> bool {
        self.kind() == libc::S_IFLNK
    }

    pub fn is_dir(&self) -> bool {
        self.kind() == libc::S_IFDIR
    }
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: a symlink is described, not followed.
#[allow(clippy::unnecessary_cast)] // the field types differ between targets
pub fn lstatat(dir: BorrowedFd, name: &CStr) -> io::Result<Stat> {
    // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let nf = libc::AT_SYMLINK_NOFOLLOW;
    // SAFETY: a borrowed descriptor, a NUL-terminated name and a `stat` the
    // kernel fills, all valid for the call.
    check(unsafe { libc::fstatat(dir.as_raw_fd(), name.as_ptr(), &mut st, nf) })?;
    Ok(Stat {
        mode: st.st_mode,
        uid: st.st_uid,
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        blocks: st.st_blocks as u64,
    })
}

/// `readlinkat(fd, "")`: the target of the symlink `fd` (opened with
/// `O_PATH | O_NOFOLLOW`), read from the link that was opened.
pub fn readlink_fd(fd: BorrowedFd) -> io::Result<Vec<u8>> {
    // A target is at most PATH_MAX bytes on Linux; grow if a filesystem says more.
    let mut buf = vec![0u8; 4096];
    loop {
        let (p, n) = (buf.as_mut_ptr().cast(), buf.len());
        // SAFETY: a borrowed descriptor, a NUL-terminated empty name and `n`
        // writable bytes at `p`, all valid for the call.
        let got = check_len(unsafe { libc::readlinkat(fd.as_raw_fd(), c"".as_ptr(), p, n) })?;
        if got < buf.len() {
            buf.truncate(got);
            return Ok(buf);
        }
        if buf.len() >= 1 << 16 {
            return Err(io::Error::other("symlink target longer than 64 KiB"));
        }
        buf.resize(buf.len() * 2, 0);
    }
}

/// Every name in the directory `dir` but `.` and `..`, in the order the
/// filesystem gives them, each handed to `each` (an error stops the listing).
/// Reads through a duplicate of `dir`, rewound first.
pub fn read_dir(dir: BorrowedFd, mut each: impl FnMut(&CStr) -> io::Result<()>) -> io::Result<()> {
    struct Dir(*mut libc::DIR);
    impl Drop for Dir {
        fn drop(&mut self) {
            // SAFETY: a stream from fdopendir, closed once, here; this also
            // closes the duplicate it owns.
            unsafe { libc::closedir(self.0) };
        }
    }
    let raw = dir.as_raw_fd();
    // SAFETY: a borrowed descriptor and integer arguments; the new one is ours.
    let dup = check(unsafe { libc::fcntl(raw, libc::F_DUPFD_CLOEXEC, 0) })?;
    // SAFETY: `dup` is an open descriptor nobody else owns; on success the
    // stream owns it.
    let d = unsafe { libc::fdopendir(dup) };
    if d.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so `dup` is still ours to close.
        unsafe { libc::close(dup) };
        return Err(e);
    }
    let d = Dir(d);
    // SAFETY: a valid stream; the duplicate shares the offset of `dir`.
    unsafe { libc::rewinddir(d.0) };
    loop {
        // readdir says end or error by NULL; only errno tells them apart.
        // SAFETY: errno is this thread's; writing it is always allowed.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: a valid stream, used by this thread only.
        let ent = unsafe { libc::readdir(d.0) };
        if ent.is_null() {
            return match io::Error::last_os_error() {
                e if e.raw_os_error() == Some(0) => Ok(()),
                e => Err(e),
            };
        }
        // SAFETY: readdir returned an entry whose `d_name` is NUL-terminated
        // and valid until the next readdir on this stream, after `each`.
        let name = unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) };
        if name != c"." && name != c".." {
            each(name)?;
        }
    }
}

/// `mkdirat(dir, name, mode)`.
pub fn mkdirat(dir: BorrowedFd, name: &CStr, mode: mode_t) -> io::Result<()> {
    // SAFETY: a descriptor borrowed for the call and a NUL-terminated name.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) }).map(drop)
}

/// `symlinkat(target, dir, name)`: a new symlink `name` pointing at `target`.
pub fn symlinkat(target: &CStr, dir: BorrowedFd, name: &CStr) -> io::Result<()> {
    // SAFETY: two NUL-terminated strings and a descriptor, all borrowed for the call.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) }).map(drop)
}

/// `mknodat(dir, name, mode, rdev)`: a fifo or device node (`mode` holds `S_IF*`).
pub fn mknodat(dir: BorrowedFd, name: &CStr, mode: mode_t, rdev: u64) -> io::Result<()> {
    let rdev = rdev as libc::dev_t;
    // SAFETY: a borrowed descriptor and a NUL-terminated name; plain integers.
    check(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, rdev) }).map(drop)
}

/// `fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW)`: a symlink's own owner.
pub fn lchownat(dir: BorrowedFd, name: &CStr, uid: u32, gid: u32) -> io::Result<()> {
    let nf = libc::AT_SYMLINK_NOFOLLOW;
    // SAFETY: a borrowed descriptor and a NUL-terminated name; plain integers.
    check(unsafe { libc::fchownat(dir.as_raw_fd(), name.as_ptr(), uid, gid, nf) }).map(drop)
}

/// `fchmodat(dir, name, mode, 0)`. This one FOLLOWS a symlink at `name`
/// (Linux has no no-follow chmod): only for a node the caller just created
/// in a directory nobody else can write.
pub fn fchmodat_following(dir: BorrowedFd, name: &CStr, mode: mode_t) -> io::Result<()> {
    // SAFETY: a borrowed descriptor and a NUL-terminated name; plain integers.
    check(unsafe { libc::fchmodat(dir.as_raw_fd(), name.as_ptr(), mode, 0) }).map(drop)
}

/// Access and modification time `secs` (whole seconds).
fn times(secs: i64) -> [libc::timespec; 2] {
    let t = libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: 0,
    };
    [t, t]
}

/// `utimensat(dir, name, [mtime, mtime], AT_SYMLINK_NOFOLLOW)`.
pub fn lutimensat(dir: BorrowedFd, name: &CStr, mtime: i64) -> io::Result<()> {
    let (t, nf) = (times(mtime), libc::AT_SYMLINK_NOFOLLOW);
    // SAFETY: a borrowed descriptor, a NUL-terminated name and two timespecs
    // that outlive the call.
    check(unsafe { libc::utimensat(dir.as_raw_fd(), name.as_ptr(), t.as_ptr(), nf) }).map(drop)
}

/// `futimens(fd, [mtime, mtime])`.
pub fn futimens(fd: BorrowedFd, mtime: i64) -> io::Result<()> {
    let t = times(mtime);
    // SAFETY: a borrowed descriptor and two timespecs that outlive the call.
    check(unsafe { libc::futimens(fd.as_raw_fd(), t.as_ptr()) }).map(drop)
}

/// `fchown(fd, uid, gid)`.
pub fn fchown(fd: BorrowedFd, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: a descriptor borrowed for the call; plain integers.
    check(unsafe { libc::fchown(fd.as_raw_fd(), uid, gid) }).map(drop)
}

/// `fchmod(fd, mode)`.
pub fn fchmod(fd: BorrowedFd, mode: mode_t) -> io::Result<()> {
    // SAFETY: a descriptor borrowed for the call.
    check(unsafe { libc::fchmod(fd.as_raw_fd(), mode) }).map(drop)
}

/// `fsync(fd)`: a file's or a directory's entries on disk.
pub fn fsync(fd: BorrowedFd) -> io::Result<()> {
    // SAFETY: a descriptor borrowed for the call.
    check(unsafe { libc::fsync(fd.as_raw_fd()) }).map(drop)
}

/// `flock(fd, LOCK_EX | LOCK_NB)`: `WouldBlock` when another holds it.
pub fn lock_exclusive_now(fd: BorrowedFd) -> io::Result<()> {
    // SAFETY: a descriptor borrowed for the call; plain integer flags.
    check(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }).map(drop)
}

/// How [`renameat2`] treats an existing `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rename {
    /// Swap the two entries atomically (both must exist).
    Exchange,
    /// Fail with `EEXIST` when `to` exists.
    NoReplace,
}

/// `renameat2(from_dir, from, to_dir, to, flags)`; `EINVAL` where the
/// filesystem has no such rename.
pub fn renameat2(
    from_dir: BorrowedFd,
    from: &CStr,
    to_dir: BorrowedFd,
    to: &CStr,
    how: Rename,
) -> io::Result<()> {
    let flags = match how {
        Rename::Exchange => libc::RENAME_EXCHANGE,
        Rename::NoReplace => libc::RENAME_NOREPLACE,
    };
    let (a, b) = (from_dir.as_raw_fd(), to_dir.as_raw_fd());
    // SAFETY: the raw syscall (glibc and musl differ on the wrapper) takes two
    // borrowed descriptors, two NUL-terminated names that outlive the call and
    // integer flags; its result is 0 or -1 and errno.
    let r = unsafe { libc::syscall(libc::SYS_renameat2, a, from.as_ptr(), b, to.as_ptr(), flags) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `kill(pid, sig)`; a negative `pid` names a process group, `sig` 0 only
/// checks that the process exists (`ESRCH` when not).
pub fn kill(pid: pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes plain integers; a wrong pid is an error, not UB.
    check(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// The bytes an unprivileged user may still write on the filesystem of `path`.
#[allow(clippy::unnecessary_cast)] // the field types differ between targets
pub fn free_bytes(path: &CStr) -> io::Result<u64> {
    // SAFETY: an all-zero `statvfs` is a valid value of this plain C struct.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a struct the kernel fills, both
    // valid for the call.
    check(unsafe { libc::statvfs(path.as_ptr(), &mut s) })?;
    Ok(s.f_bavail as u64 * s.f_frsize as u64)
}

/// `llistxattr(path, buf)`: the NUL-separated names (or, with an empty
/// `buf`, the size they need); a symlink's own, never its target's.
#[cfg(target_os = "linux")]
pub fn llistxattr(path: &CStr, buf: &mut [u8]) -> io::Result<usize> {
    let (p, n) = (out_ptr(buf), buf.len());
    // SAFETY: a NUL-terminated path; `p` is null with size 0 or `n` writable bytes.
    check_len(unsafe { libc::llistxattr(path.as_ptr(), p.cast(), n) })
}

/// `lgetxattr(path, name, buf)`: the value's length (with an empty `buf`,
/// the size it needs), not following a symlink.
#[cfg(target_os = "linux")]
pub fn lgetxattr(path: &CStr, name: &CStr, buf: &mut [u8]) -> io::Result<usize> {
    let (p, n) = (out_ptr(buf), buf.len());
    // SAFETY: NUL-terminated path and name; `p` is null with size 0 or `n`
    // writable bytes.
    check_len(unsafe { libc::lgetxattr(path.as_ptr(), name.as_ptr(), p, n) })
}

/// `lsetxattr(path, name, value, 0)`, not following a symlink.
#[cfg(target_os = "linux")]
pub fn lsetxattr(path: &CStr, name: &CStr, value: &[u8]) -> io::Result<()> {
    let (v, n) = (value.as_ptr().cast(), value.len());
    // SAFETY: NUL-terminated path and name; `v` points at `n` readable bytes.
    check(unsafe { libc::lsetxattr(path.as_ptr(), name.as_ptr(), v, n, 0) }).map(drop)
}

/// `flistxattr(fd, buf)`: as [`llistxattr`], of the open file `fd`
/// (`EBADF` for a descriptor opened with `O_PATH`).
#[cfg(target_os = "linux")]
pub fn flistxattr(fd: BorrowedFd, buf: &mut [u8]) -> io::Result<usize> {
    let (p, n) = (out_ptr(buf), buf.len());
    // SAFETY: a borrowed descriptor; `p` is null with size 0 or `n` writable bytes.
    check_len(unsafe { libc::flistxattr(fd.as_raw_fd(), p.cast(), n) })
}

/// `fgetxattr(fd, name, buf)`: as [`lgetxattr`], of the open file `fd`.
#[cfg(target_os = "linux")]
pub fn fgetxattr(fd: BorrowedFd, name: &CStr, buf: &mut [u8]) -> io::Result<usize> {
    let (p, n) = (out_ptr(buf), buf.len());
    // SAFETY: a borrowed descriptor, a NUL-terminated name; `p` is null with
    // size 0 or `n` writable bytes.
    check_len(unsafe { libc::fgetxattr(fd.as_raw_fd(), name.as_ptr(), p, n) })
}

/// `listxattr(path, buf)`, FOLLOWING a symlink at `path`: only for
/// `/proc/self/fd/N`, whose magic link leads to the very file `N` holds
/// (a symlink opened with `O_PATH` included), never further.
#[cfg(target_os = "linux")]
pub fn listxattr_following(path: &CStr, buf: &mut [u8]) -> io::Result<usize> {
    let (p, n) = (out_ptr(buf), buf.len());
    // SAFETY: a NUL-terminated path; `p` is null with size 0 or `n` writable bytes.
    check_len(unsafe { libc::listxattr(path.as_ptr(), p.cast(), n) })
}

/// `getxattr(path, name, buf)`, following as [`listxattr_following`] does.
#[cfg(target_os = "linux")]
pub fn getxattr_following(path: &CStr, name: &CStr, buf: &mut [u8]) -> io::Result<usize> {
    let (p, n) = (out_ptr(buf), buf.len());
    // SAFETY: NUL-terminated path and name; `p` is null with size 0 or `n`
    // writable bytes.
    check_len(unsafe { libc::getxattr(path.as_ptr(), name.as_ptr(), p, n) })
}

/// `fsetxattr(fd, name, value, 0)`.
#[cfg(target_os = "linux")]
pub fn fsetxattr(fd: BorrowedFd, name: &CStr, value: &[u8]) -> io::Result<()> {
    let (v, n) = (value.as_ptr().cast(), value.len());
    // SAFETY: a borrowed descriptor, a NUL-terminated name and `n` readable
    // bytes at `v`.
    check(unsafe { libc::fsetxattr(fd.as_raw_fd(), name.as_ptr(), v, n, 0) }).map(drop)
}

/// Make `cmd`'s child, between fork and exec, `chroot(root)` when `root`
/// is given, then `chdir("/")`, then close its stdin when `close_stdin`
/// (a root without `/dev/null`).
pub fn enter_root_on_exec(cmd: &mut Command, root: Option<CString>, close_stdin: bool) {
    let hook = move || {
        // Only async-signal-safe system calls here: no allocation, no lock
        // (`last_os_error` reads errno into an integer).
        if let Some(r) = &root {
            // SAFETY: a NUL-terminated path owned by the closure.
            if unsafe { libc::chroot(r.as_ptr()) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: a NUL-terminated static path.
        if unsafe { libc::chdir(c"/".as_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        if close_stdin {
            // SAFETY: the child's own descriptor 0, which nothing in it uses
            // before exec; exec then starts with no stdin.
            unsafe { libc::close(0) };
        }
        Ok(())
    };
    // SAFETY: `pre_exec` requires the closure to be async-signal-safe, which
    // it is (see inside); it touches no state shared with other threads.
    unsafe { cmd.pre_exec(hook) };
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
        assert_eq!(e.raw_os_error(), Some(EEXIST));
        let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        let sub = openat(Some(dir.as_fd()), c"sub", flags, 0).unwrap();
        fchmod(sub.as_fd(), 0o755).unwrap();
        fsync(sub.as_fd()).unwrap();
        let e = openat(Some(dir.as_fd()), c"missing", flags, 0).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(ENOENT));
        kill(std::process::id() as pid_t, 0).unwrap();
    }

    #[test]
    fn links_are_described_and_renamed_never_followed() {
        let d = tempfile::tempdir().unwrap();
        let dir = std::fs::File::open(d.path()).unwrap();
        let fd = dir.as_fd();
        symlinkat(c"/etc", fd, c"link").unwrap();
        let st = lstatat(fd, c"link").unwrap();
        assert!(st.is_symlink());
        assert_eq!(st.uid, euid());
        lutimensat(fd, c"link", 86400).unwrap();
        let m = std::fs::symlink_metadata(d.path().join("link")).unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::mtime(&m), 86400);
        mkdirat(fd, c"real", 0o700).unwrap();
        assert!(!lstatat(fd, c"real").unwrap().is_symlink());
        let e = renameat2(fd, c"real", fd, c"link", Rename::NoReplace).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(EEXIST));
        // A filesystem without the exchange says EINVAL (restore falls back).
        match renameat2(fd, c"real", fd, c"link", Rename::Exchange) {
            Ok(()) => assert!(lstatat(fd, c"real").unwrap().is_symlink()),
            Err(e) => assert_eq!(e.raw_os_error(), Some(EINVAL)),
        }
        assert!(free_bytes(c"/").unwrap() > 0);
    }

    #[test]
    fn a_dir_is_listed_and_a_link_read_through_descriptors() {
        let d = tempfile::tempdir().unwrap();
        let dir = std::fs::File::open(d.path()).unwrap();
        let fd = dir.as_fd();
        symlinkat(c"/etc", fd, c"link").unwrap();
        mkdirat(fd, c"sub", 0o700).unwrap();
        for _ in 0..2 {
            // Twice through the same descriptor: each listing starts over.
            let mut names = Vec::new();
            read_dir(fd, |n| {
                names.push(n.to_owned());
                Ok(())
            })
            .unwrap();
            names.sort();
            assert_eq!(names, [c"link", c"sub"]);
        }
        let e = read_dir(fd, |_| Err(io::Error::other("stop"))).unwrap_err();
        assert_eq!(e.to_string(), "stop");
        let st = lstatat(fd, c"sub").unwrap();
        assert!(st.is_dir() && st.ino != 0 && !st.is_symlink());
        let link = openat(Some(fd), c"link", O_PATH | O_NOFOLLOW | O_CLOEXEC, 0).unwrap();
        assert_eq!(readlink_fd(link.as_fd()).unwrap(), b"/etc");
        let e = flistxattr(link.as_fd(), &mut []).unwrap_err();
        assert_eq!(
            e.raw_os_error(),
            Some(EBADF),
            "O_PATH has no f* xattr calls"
        );
        assert!(readlink_fd(dir.as_fd()).is_err(), "a directory is no link");
    }
}
