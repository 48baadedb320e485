//! Extended attributes, where the platform has them (Linux).

use std::path::Path;

#[cfg(target_os = "linux")]
fn cstr(p: &[u8]) -> Option<std::ffi::CString> {
    std::ffi::CString::new(p).ok()
}

/// Every (name, value) of `p`, not following a symlink; empty on error.
#[cfg(target_os = "linux")]
pub fn list(p: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    use std::os::unix::ffi::OsStrExt;
    let Some(c) = cstr(p.as_os_str().as_bytes()) else {
        return vec![];
    };
    // SAFETY: size queries with a null buffer, then reads into buffers of that size.
    let n = unsafe { libc::llistxattr(c.as_ptr(), std::ptr::null_mut(), 0) };
    if n <= 0 {
        return vec![];
    }
    let mut names = vec![0u8; n as usize];
    // SAFETY: NUL-terminated path and name; the buffer is `len` writable bytes (or null with size 0 to ask for the size).
    let n = unsafe { libc::llistxattr(c.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if n <= 0 {
        return vec![];
    }
    names.truncate(n as usize);
    let mut out = Vec::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let Some(cn) = cstr(name) else { continue };
        // SAFETY: NUL-terminated path and name; the buffer is `len` writable bytes (or null with size 0 to ask for the size).
        let m = unsafe { libc::lgetxattr(c.as_ptr(), cn.as_ptr(), std::ptr::null_mut(), 0) };
        if m < 0 {
            continue;
        }
        let mut v = vec![0u8; m as usize];
        // SAFETY: NUL-terminated path and name; the buffer is `len` writable bytes (or null with size 0 to ask for the size).
        let m = unsafe { libc::lgetxattr(c.as_ptr(), cn.as_ptr(), v.as_mut_ptr().cast(), v.len()) };
        if m < 0 {
            continue;
        }
        v.truncate(m as usize);
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
        // SAFETY: valid C strings and a buffer of the given length.
        unsafe {
            libc::lsetxattr(
                c.as_ptr(),
                cn.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
    }
}

#[cfg(not(target_os = "linux"))]
pub fn list(_: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![]
}

#[cfg(not(target_os = "linux"))]
pub fn set(_: &Path, _: &[u8], _: &[u8]) {}
