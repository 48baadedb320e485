//! Careful file I/O for files under /etc: never follow an unexpected symlink,
//! write atomically (temp file in the same directory, fsync, rename, fsync
//! of the directory), keep owner and mode, and lock against a second hook.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use super::error::{At, HookError, Result};
use super::merge::{self, limit};

#[cfg(unix)]
use super::sys;
#[cfg(unix)]
use std::ffi::{CStr, CString};
#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;
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

/// Open a regular file once, never through a symlink (nor blocking on a
/// fifo), and check the open file itself: what is read next and the owner
/// and mode copied to a backup come from this descriptor, so swapping the
/// path for a symlink meanwhile changes nothing. `None` when absent.
pub fn open(path: &Path) -> Result<Option<(File, Meta)>> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    opts.custom_flags(sys::O_NOFOLLOW | sys::O_NONBLOCK | sys::O_CLOEXEC);
    let f = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(sys::ELOOP) => {
            return Err(HookError::NotRegular { path: path.into() })
        }
        Err(e) => return Err(HookError::io(path, e)),
    };
    let m = f.metadata().at(path)?;
    if !m.is_file() {
        return Err(HookError::NotRegular { path: path.into() });
    }
    #[cfg(unix)]
    let meta = Meta {
        mode: m.mode() & 0o7777,
        uid: Some(m.uid()),
        gid: Some(m.gid()),
    };
    #[cfg(not(unix))]
    let meta = Meta {
        mode: 0o644,
        uid: None,
        gid: None,
    };
    Ok(Some((f, meta)))
}

/// At most `limit` bytes of an open file; more is refused (exit 4).
fn read_bounded(path: &Path, f: File, limit: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    f.take(limit + 1).read_to_end(&mut buf).at(path)?;
    if buf.len() as u64 > limit {
        return Err(HookError::TooLarge {
            path: path.into(),
            limit,
        });
    }
    Ok(buf)
}

/// Read a regular text file without following a symlink; `None` when
/// absent. Bounded by [`limit::MAX_BYTES`]; invalid UTF-8 or a NUL byte is a
/// syntax error at its line and column.
pub fn read(path: &Path) -> Result<Option<String>> {
    Ok(read_meta(path)?.map(|(t, _)| t))
}

/// [`read`] with the owner and mode of the file that was read.
pub fn read_meta(path: &Path) -> Result<Option<(String, Meta)>> {
    read_text(path, limit::MAX_BYTES)
}

/// The bytes and owner/mode of a regular file (bounded), `None` when absent.
pub fn read_bytes(path: &Path) -> Result<Option<(Vec<u8>, Meta)>> {
    let Some((f, m)) = open(path)? else {
        return Ok(None);
    };
    Ok(Some((read_bounded(path, f, limit::MAX_BYTES)?, m)))
}

/// [`read_meta`] with another size limit (e.g. `/etc/passwd`).
pub fn read_text(path: &Path, max: u64) -> Result<Option<(String, Meta)>> {
    let Some((f, m)) = open(path)? else {
        return Ok(None);
    };
    let bytes = read_bounded(path, f, max)?;
    let text = limit::decode(bytes).map_err(|e| merge::syntax(path, e))?;
    Ok(Some((text, m)))
}

/// Owner and mode of an existing regular file (from its descriptor).
pub fn meta(path: &Path) -> Result<Option<Meta>> {
    Ok(open(path)?.map(|(_, m)| m))
}

static CLEANED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Note a leftover of an interrupted run that was removed, for the report.
pub fn note_cleaned(what: String) {
    if let Ok(mut v) = CLEANED.lock() {
        v.push(what);
    }
}

/// The leftovers removed so far (the binary prints them).
pub fn take_cleaned() -> Vec<String> {
    CLEANED
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
}

/// Whether no process with this id runs (a temp file named after it is stale).
pub fn dead(pid: u32) -> bool {
    #[cfg(unix)]
    {
        if pid == std::process::id() {
            return true; // an earlier run that had our id
        }
        // Signal 0 only checks that the process exists.
        matches!(sys::kill(pid as sys::pid_t, 0), Err(e) if e.raw_os_error() == Some(sys::ESRCH))
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

/// Remove `.<name>.packwright-tmp<pid>` files beside `path` left by dead
/// processes (a killed update); each is noted for the report.
fn sweep_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.packwright-tmp", name.to_string_lossy());
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let n = e.file_name();
        let pid = n
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix)?.parse().ok());
        // Regular files only: a symlink planted there is refused by the writer.
        let is_file = e.file_type().is_ok_and(|t| t.is_file());
        if pid.is_some_and(dead) && is_file && fs::remove_file(e.path()).is_ok() {
            note_cleaned(format!(
                "{}: removed, left by an interrupted run",
                e.path().display()
            ));
        }
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
    sweep_temps(path); // leftovers of killed runs, ours included
    ensure_regular_or_absent(&tmp)?;
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
    opts.mode(0o600).custom_flags(sys::O_NOFOLLOW);
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

/// Copy `live` to `backup` with the live file's owner and mode (never
/// wider, no setuid/setgid), both taken from one no-follow descriptor.
pub fn backup(live: &Path, backup: &Path) -> Result<Option<Meta>> {
    let Some((f, m)) = open(live)? else {
        return Ok(None);
    };
    let data = read_bounded(live, f, limit::MAX_BYTES)?;
    write_atomic(backup, &data, plain(m))?;
    Ok(Some(m))
}

/// A mode without setuid, setgid and sticky bits, for copies.
pub fn plain(m: Meta) -> Meta {
    Meta {
        mode: m.mode & 0o777,
        ..m
    }
}

/// Remove a regular file if present; a symlink is removed, never followed.
pub fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(HookError::io(path, e)),
        _ => Ok(()),
    }
}

/// Create a directory (and parents) that must not be a symlink. Every dir
/// created gets `mode` whatever the umask (parents too: never wider).
pub fn ensure_dir(dir: &Path, mode: u32) -> Result<()> {
    if let Ok(m) = fs::symlink_metadata(dir) {
        return if m.is_dir() {
            Ok(())
        } else {
            Err(HookError::NotRegular { path: dir.into() })
        };
    }
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && fs::symlink_metadata(a).is_err())
        .collect();
    for d in missing.into_iter().rev() {
        match fs::create_dir(d) {
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            r => r.at(d)?,
        }
        #[cfg(unix)]
        fs::set_permissions(d, fs::Permissions::from_mode(mode)).at(d)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(())
}

/// Create one private directory (0700 whatever the umask); it must not exist.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir(dir).at(dir)?;
    #[cfg(unix)]
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).at(dir)?;
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
        o.mode(0o600).custom_flags(sys::O_NOFOLLOW);
        o.open(path).at(path)?
    };
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Err(e) = sys::lock_exclusive_now(file.as_fd()) {
            return Err(if e.kind() == ErrorKind::WouldBlock {
                // `.` says nothing to whoever reads the message.
                let path = fs::canonicalize(path).unwrap_or_else(|_| path.into());
                HookError::Locked { path }
            } else {
                HookError::io(path, e)
            });
        }
    }
    Ok(Lock { _file: file })
}

/// A directory below `dir` (`None`: the working directory), never
/// through a symlink.
#[cfg(unix)]
pub fn open_dir(dir: Option<BorrowedFd>, name: &CStr) -> std::io::Result<OwnedFd> {
    let flags = sys::O_RDONLY | sys::O_DIRECTORY | sys::O_NOFOLLOW | sys::O_CLOEXEC;
    sys::openat(dir, name, flags, 0)
}

/// Open the directory `dir` one component at a time: a symlink on the way
/// is followed only when root owns it (an admin's), never one that another
/// user made (the service user's, inside its own data dir), which would
/// aim a restore's writes or a backup's reads anywhere.
#[cfg(unix)]
pub fn open_dir_path(dir: &Path) -> std::io::Result<OwnedFd> {
    use std::io::Error;
    use std::path::Component;
    let cstr = |b: &[u8]| {
        CString::new(b).map_err(|_| Error::new(ErrorKind::InvalidInput, "a NUL byte in a name"))
    };
    let start = if dir.is_absolute() { "/" } else { "." };
    let mut fd = open_dir(None, &cstr(start.as_bytes())?)?;
    for c in dir.components() {
        let name = match c {
            Component::Normal(n) => cstr(n.as_bytes())?,
            Component::RootDir | Component::CurDir => continue,
            _ => return Err(Error::new(ErrorKind::InvalidInput, "not a plain path")),
        };
        fd = match open_dir(Some(fd.as_fd()), &name) {
            // O_DIRECTORY makes a symlink ENOTDIR rather than ELOOP.
            Err(e) if matches!(e.raw_os_error(), Some(sys::ELOOP | sys::ENOTDIR)) => {
                let st = sys::lstatat(fd.as_fd(), &name)?;
                if !st.is_symlink() {
                    return Err(e);
                }
                if st.uid != 0 {
                    return Err(Error::other(format!(
                        "{} is a symlink owned by uid {}: refusing to go through it",
                        name.to_string_lossy(),
                        st.uid
                    )));
                }
                let flags = sys::O_RDONLY | sys::O_DIRECTORY | sys::O_CLOEXEC;
                sys::openat(Some(fd.as_fd()), &name, flags, 0)?
            }
            other => other?,
        };
    }
    Ok(fd)
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
