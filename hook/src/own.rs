//! `own`: what the generated scripts used to do with `chown -h` and
//! `[ ! -h P ] && chmod`, for a path the package installed into a directory
//! its service user may control. The service user can swap any component
//! for a symlink (to `/etc`, `/usr/bin`) between a check and a use, so the
//! path is walked one component at a time from the root with `openat`,
//! never following a symlink, and the owner and mode are set on the open
//! descriptor. A symlink at the end gets the owner (`chown -h`), never a
//! mode; a fifo, device or socket there, a symlink on the way or a missing
//! entry is left alone and said so: root changes nothing it did not install.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use super::error::{HookError, Result};
use super::sys;

/// What `own` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Owned {
    /// Owner (and mode) set on the file or directory.
    Done,
    /// A symlink: its own owner set, nothing it points to.
    Link,
    /// Left alone, and why.
    Skipped(String),
}

fn open_at(dir: &File, name: &[u8], flags: i32) -> io::Result<File> {
    let c = CString::new(name)?;
    let flags = flags | sys::O_NOFOLLOW | sys::O_CLOEXEC | sys::O_NONBLOCK | sys::O_NOCTTY;
    Ok(File::from(sys::openat(Some(dir.as_fd()), &c, flags, 0)?))
}

/// Give `path` (absolute, below `root`) the owner `uid:gid` and, for a
/// regular file or directory, the permission bits `mode`.
pub fn own(root: &Path, path: &str, uid: u32, gid: u32, mode: Option<u32>) -> Result<Owned> {
    let shown = Path::new(path);
    let parts: Vec<&[u8]> = shown
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(Ok(n.as_bytes())),
            Component::RootDir => None,
            _ => Some(Err(())),
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(|()| HookError::invalid(shown, "not a plain absolute path"))?;
    let Some((last, dirs)) = parts.split_last().filter(|_| shown.is_absolute()) else {
        return Err(HookError::invalid(shown, "not a plain absolute path"));
    };
    let mut dir = File::open(root).map_err(|e| HookError::io(root, e))?;
    for (i, name) in dirs.iter().enumerate() {
        dir = match open_at(&dir, name, sys::O_RDONLY | sys::O_DIRECTORY) {
            Ok(d) => d,
            Err(e) => {
                let at: std::path::PathBuf = std::iter::once(&b"/"[..])
                    .chain(dirs[..=i].iter().copied())
                    .map(std::ffi::OsStr::from_bytes)
                    .collect();
                return Ok(Owned::Skipped(match e.raw_os_error() {
                    Some(sys::ELOOP) | Some(sys::ENOTDIR) => {
                        format!("{} is not a directory (a symlink?)", at.display())
                    }
                    _ => format!("{}: {e}", at.display()),
                }));
            }
        };
    }
    let f = match open_at(&dir, last, sys::O_RDONLY) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(sys::ELOOP) => {
            let c = CString::new(*last).expect("no NUL in a path component");
            sys::lchownat(dir.as_fd(), &c, uid, gid).map_err(|e| HookError::io(shown, e))?;
            return Ok(Owned::Link);
        }
        Err(e) if e.raw_os_error() == Some(sys::ENXIO) => {
            return Ok(Owned::Skipped("a socket".into()))
        }
        Err(e) => return Ok(Owned::Skipped(e.to_string())),
    };
    let m = f.metadata().map_err(|e| HookError::io(shown, e))?;
    if !(m.is_file() || m.is_dir()) {
        return Ok(Owned::Skipped("not a regular file or directory".into()));
    }
    let at = |e| HookError::io(shown, e);
    sys::fchown(f.as_fd(), uid, gid).map_err(at)?;
    if let Some(mode) = mode {
        // After the chown, which clears setuid/setgid bits.
        sys::fchmod(f.as_fd(), mode & 0o7777).map_err(at)?;
    }
    Ok(Owned::Done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn sets_mode_on_files_and_never_follows_a_link() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        fs::create_dir_all(r.join("srv/x")).unwrap();
        fs::write(r.join("srv/x/tool"), "t").unwrap();
        fs::write(r.join("victim"), "v").unwrap();
        fs::set_permissions(r.join("victim"), fs::Permissions::from_mode(0o600)).unwrap();
        let (u, g) = (sys::euid(), sys::egid());
        assert_eq!(
            own(r, "/srv/x/tool", u, g, Some(0o2750)).unwrap(),
            Owned::Done
        );
        let mode = |p: &str| fs::symlink_metadata(r.join(p)).unwrap().mode() & 0o7777;
        assert_eq!(mode("srv/x/tool"), 0o2750);
        std::os::unix::fs::symlink(r.join("victim"), r.join("srv/x/link")).unwrap();
        assert_eq!(
            own(r, "/srv/x/link", u, g, Some(0o4755)).unwrap(),
            Owned::Link
        );
        assert_eq!(mode("victim"), 0o600);
        // A directory on the way swapped for a symlink to the victim's dir.
        fs::rename(r.join("srv/x"), r.join("srv/y")).unwrap();
        std::os::unix::fs::symlink(r, r.join("srv/x")).unwrap();
        let got = own(r, "/srv/x/victim", u, g, Some(0o4755)).unwrap();
        assert!(
            matches!(got, Owned::Skipped(ref w) if w.contains("/srv/x")),
            "{got:?}"
        );
        assert_eq!(mode("victim"), 0o600);
        assert!(own(r, "relative", u, g, None).is_err());
        assert!(own(r, "/a/../b", u, g, None).is_err());
    }
}
