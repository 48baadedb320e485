//! Users and groups by name, read from `<root>/etc/passwd` and
//! `<root>/etc/group` directly: the shipped hook is static and must not ask
//! NSS (there is none in a busybox chroot, and the root may not be `/`).

use std::path::Path;

use super::error::{HookError, Result};

/// The numeric id of `name` in a passwd/group-format file (field 3).
fn lookup(file: &Path, kind: &'static str, name: &str) -> Result<u32> {
    if let Ok(id) = name.parse::<u32>() {
        return Ok(id);
    }
    // A big site's passwd can pass the config limit; 64 MiB still bounds it.
    let text = super::fsio::read_text(file, 64 << 20)?
        .map(|(t, _)| t)
        .unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let mut f = l.split(':');
            (f.next() == Some(name)).then(|| f.nth(1).and_then(|id| id.trim().parse().ok()))?
        })
        .ok_or_else(|| HookError::UnknownAccount {
            path: file.into(),
            kind,
            name: name.into(),
        })
}

pub fn uid(root: &Path, name: &str) -> Result<u32> {
    lookup(&root.join("etc/passwd"), "user", name)
}

pub fn gid(root: &Path, name: &str) -> Result<u32> {
    lookup(&root.join("etc/group"), "group", name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_roots_files_not_nss() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nimsrv:x:998:997::/var/lib/imsrv:/sbin/nologin\n",
        )
        .unwrap();
        std::fs::write(d.path().join("etc/group"), "root:x:0:\nimsrv:x:997:\n").unwrap();
        assert_eq!(uid(d.path(), "imsrv").unwrap(), 998);
        assert_eq!(gid(d.path(), "imsrv").unwrap(), 997);
        assert_eq!(gid(d.path(), "42").unwrap(), 42);
        let e = uid(d.path(), "nobody-here").unwrap_err().to_string();
        assert!(
            e.ends_with("etc/passwd: no user named \"nobody-here\""),
            "{e}"
        );
    }
}
