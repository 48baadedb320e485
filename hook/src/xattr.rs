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
    // Ask for the size, then read into a buffer of that size.
    let n = match sys::llistxattr(&c, &mut []) {
        Ok(n) if n > 0 => n,
        _ => return vec![],
    };
    let mut names = vec![0u8; n];
    let n = match sys::llistxattr(&c, &mut names) {
        Ok(n) if n > 0 => n,
        _ => return vec![],
    };
    names.truncate(n);
    let mut out = Vec::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let Some(cn) = cstr(name) else { continue };
        let Ok(m) = sys::lgetxattr(&c, &cn, &mut []) else {
            continue;
        };
        let mut v = vec![0u8; m];
        let Ok(m) = sys::lgetxattr(&c, &cn, &mut v) else {
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
pub fn set(_: &Path, _: &[u8], _: &[u8]) {}
