//! Extended attributes, where the platform has them (Linux), never
//! following a symlink; the calls themselves are `sys`'s.

use std::path::Path;

#[cfg(target_os = "linux")]
fn cstr(p: &[u8]) -> Option<std::ffi::CString> {
    std::ffi::CString::new(p).ok()
}

/// Every (name, value) of `p`, not following a symlink; empty on error.
#[cfg(target_os = "linux")]
pub fn list(p: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    use super::sys;
    use std::os::unix::ffi::OsStrExt;
    let Some(c) = cstr(p.as_os_str().as_bytes()) else {
        return vec![];
    };
    collect(
        |buf| sys::llistxattr(&c, buf),
        |name, buf| sys::lgetxattr(&c, name, buf),
    )
}

/// Every (name, value) of the file open as `fd`; empty on error. A
/// descriptor opened with `O_PATH` (a symlink, a device: the `f*` calls
/// refuse it) is read through `/proc/self/fd/N`, which leads to that very
/// file and no further.
#[cfg(target_os = "linux")]
pub fn list_fd(fd: std::os::fd::BorrowedFd) -> Vec<(Vec<u8>, Vec<u8>)> {
    use super::sys;
    use std::os::fd::AsRawFd;
    match sys::flistxattr(fd, &mut []) {
        Err(e) if e.raw_os_error() == Some(sys::EBADF) => {}
        _ => {
            return collect(
                |buf| sys::flistxattr(fd, buf),
                |name, buf| sys::fgetxattr(fd, name, buf),
            )
        }
    }
    let Some(c) = cstr(format!("/proc/self/fd/{}", fd.as_raw_fd()).as_bytes()) else {
        return vec![];
    };
    collect(
        |buf| sys::listxattr_following(&c, buf),
        |name, buf| sys::getxattr_following(&c, name, buf),
    )
}

/// The names from `list`, then each value from `get`: both asked for the
/// size first, then read into a buffer of that size; empty on error, an
/// attribute that fails (removed, grown meanwhile) left out.
#[cfg(target_os = "linux")]
fn collect(
    list: impl Fn(&mut [u8]) -> std::io::Result<usize>,
    get: impl Fn(&std::ffi::CStr, &mut [u8]) -> std::io::Result<usize>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let n = match list(&mut []) {
        Ok(n) if n > 0 => n,
        _ => return vec![],
    };
    let mut names = vec![0u8; n];
    let n = match list(&mut names) {
        Ok(n) if n > 0 => n,
        _ => return vec![],
    };
    names.truncate(n);
    let mut out = Vec::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let Some(cn) = cstr(name) else { continue };
        let Ok(m) = get(&cn, &mut []) else {
            continue;
        };
        let mut v = vec![0u8; m];
        let Ok(m) = get(&cn, &mut v) else {
            continue;
        };
        v.truncate(m);
        out.push((name.to_vec(), v));
    }
    out
}

/// Set one attribute; best effort (`trusted.*` needs root, some
/// filesystems have none).
#[cfg(target_os = "linux")]
pub fn set(p: &Path, name: &[u8], value: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    if let (Some(c), Some(cn)) = (cstr(p.as_os_str().as_bytes()), cstr(name)) {
        let _ = super::sys::lsetxattr(&c, &cn, value);
    }
}

#[cfg(not(target_os = "linux"))]
pub fn list(_: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![]
}

#[cfg(not(target_os = "linux"))]
pub fn list_fd(_: std::os::fd::BorrowedFd) -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![]
}

#[cfg(not(target_os = "linux"))]
pub fn set(_: &Path, _: &[u8], _: &[u8]) {}
