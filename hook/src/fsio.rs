//! Careful file I/O for files under /etc: never follow an unexpected symlink,
//! write atomically (temp file in the same directory, fsync, rename, fsync
//! of the directory), keep owner and mode, and lock against a second hook.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use super::error::{At, HookError, Result};

#[cfg(unix)]
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};

/// Owner and permission bits to give a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub mode: u32,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// Refuse a path that exists and is not a regular file (symlinks included).
pub fn ensure_regular_or_absent(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => Ok(()),
        Ok(_) => Err(HookError::NotRegular { path: path.into() }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(HookError::io(path, e)),
    }
}

/// Read a regular file without following a symlink; `None` when absent.
pub fn read(path: &Path) -> Result<Option<String>> {
    ensure_regular_or_absent(path)?;
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    opts.custom_flags(libc::O_NOFOLLOW);
    let mut f = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(HookError::NotRegular { path: path.into() })
        }
        Err(e) => return Err(HookError::io(path, e)),
    };
    let mut s = String::new();
    f.read_to_string(&mut s).at(path)?;
    Ok(Some(s))
}

/// Owner and mode of an existing regular file.
pub fn meta(path: &Path) -> Result<Option<Meta>> {
    ensure_regular_or_absent(path)?;
    match fs::symlink_metadata(path) {
        #[cfg(unix)]
        Ok(m) => Ok(Some(Meta {
            mode: m.mode() & 0o7777,
            uid: Some(m.uid()),
            gid: Some(m.gid()),
        })),
        #[cfg(not(unix))]
        Ok(_) => Ok(Some(Meta {
            mode: 0o644,
            uid: None,
            gid: None,
        })),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HookError::io(path, e)),
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.packwright-tmp{}", std::process::id()))
}

/// Replace `path` with `data` atomically. On any failure the old file is
/// untouched and the temp file removed.
pub fn write_atomic(path: &Path, data: &[u8], meta: Meta) -> Result<()> {
    ensure_regular_or_absent(path)?;
    let tmp = temp_path(path);
    ensure_regular_or_absent(&tmp)?;
    let _ = fs::remove_file(&tmp); // a leftover of a killed run (never a symlink: checked above)
    let res = write_tmp(&tmp, data, meta).and_then(|()| {
        // Re-check right before the rename: a symlink planted meanwhile is refused.
        ensure_regular_or_absent(path)?;
        fs::rename(&tmp, path).at(path)
    });
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
        return res;
    }
    sync_dir(path)
}

fn write_tmp(tmp: &Path, data: &[u8], meta: Meta) -> Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    // Created with no access for others; the final mode is set before data goes in.
    #[cfg(unix)]
    opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    let mut f: File = opts.open(tmp).at(tmp)?;
    #[cfg(unix)]
    {
        if meta.uid.is_some() || meta.gid.is_some() {
            std::os::unix::fs::fchown(&f, meta.uid, meta.gid).at(tmp)?;
        }
        f.set_permissions(fs::Permissions::from_mode(meta.mode))
            .at(tmp)?;
    }
    f.write_all(data).at(tmp)?;
    f.sync_all().at(tmp)?;
    Ok(())
}

fn sync_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).at(dir)?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Copy `live` to `backup` with the live file's owner and mode (never wider).
pub fn backup(live: &Path, backup: &Path) -> Result<()> {
    let Some(m) = meta(live)? else { return Ok(()) };
    let data = fs::read(live).at(live)?;
    write_atomic(backup, &data, m)
}

/// Remove a regular file if present; a symlink is removed, never followed.
pub fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(HookError::io(path, e)),
        _ => Ok(()),
    }
}

/// Create a directory (and parents) that must not be a symlink.
pub fn ensure_dir(dir: &Path, mode: u32) -> Result<()> {
    if let Ok(m) = fs::symlink_metadata(dir) {
        return if m.is_dir() {
            Ok(())
        } else {
            Err(HookError::NotRegular { path: dir.into() })
        };
    }
    fs::create_dir_all(dir).at(dir)?;
    #[cfg(unix)]
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).at(dir)?;
    #[cfg(not(unix))]
    let _ = mode;
    Ok(())
}

/// An exclusive, non-blocking lock held until dropped.
pub struct Lock {
    _file: File,
}

/// Lock `path` (a lock file, created if needed, or a directory).
pub fn lock(path: &Path) -> Result<Lock> {
    let file = if path.is_dir() {
        File::open(path).at(path)?
    } else {
        ensure_regular_or_absent(path)?;
        let mut o = OpenOptions::new();
        o.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        o.open(path).at(path)?
    };
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a valid open descriptor.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(if e.kind() == ErrorKind::WouldBlock {
                HookError::Locked { path: path.into() }
            } else {
                HookError::io(path, e)
            });
        }
    }
    Ok(Lock { _file: file })
}

/// `root` joined with an absolute path from a package description.
pub fn under_root(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

/// Sibling path with a suffix: `config.yaml` → `config.yaml.packwright-new`.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
