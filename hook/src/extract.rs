//! A snapshot's data dir, extracted into a private temp dir beside it and
//! swapped in whole. Every entry is created relative to a directory
//! descriptor whose parents were opened one by one with `O_NOFOLLOW`, so a
//! symlink the archive itself holds (`d/link -> /etc`, then `d/link/passwd`)
//! is never followed, and the temp dir is opened once and checked to be ours.
//! The swap is one `renameat2(RENAME_EXCHANGE)`: a killed restore leaves the
//! data dir either as it was or complete, never half-written.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::{At, HookError, Result};
use super::fsio::{self, open_dir, open_dir_path};
use super::sys;

/// Owner, mode, mtime and xattrs of one archive entry.
#[derive(Clone, Default)]
pub struct Attrs {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

fn cstr(b: &[u8]) -> io::Result<CString> {
    CString::new(b).map_err(|_| io::Error::new(ErrorKind::InvalidInput, "a NUL byte in a name"))
}

/// A temp dir being filled: its parent's and its own descriptor.
pub struct Temp {
    pub parent: OwnedFd,
    pub parent_path: PathBuf,
    pub name: CString,
    pub fd: OwnedFd,
    /// Directories to finish once their children exist (children last in).
    dirs: Vec<(PathBuf, Attrs)>,
}

impl Temp {
    /// `.<leaf>.packwright-restore-<pid>` beside `target`, created 0700 and
    /// checked through its descriptor (ours, a directory, private).
    pub fn new(target: &Path) -> Result<Temp> {
        let parent_path = target.parent().unwrap_or(Path::new("/")).to_path_buf();
        let leaf = target.file_name().unwrap_or(OsStr::new("data"));
        sweep(&parent_path, leaf);
        let parent = open_dir_path(&parent_path).at(&parent_path)?;
        let name = format!(
            ".{}.packwright-restore-{}",
            leaf.to_string_lossy(),
            std::process::id()
        );
        let path = parent_path.join(&name);
        let name = cstr(name.as_bytes()).at(&path)?;
        sys::mkdirat(parent.as_fd(), &name, 0o700).at(&path)?;
        let fd = open_dir(Some(parent.as_fd()), &name).at(&path)?;
        let m = File::from(fd.try_clone().at(&path)?).metadata().at(&path)?;
        let me = sys::euid();
        use std::os::unix::fs::MetadataExt;
        if m.uid() != me {
            return Err(HookError::invalid(
                &path,
                "the temp dir is not ours: refusing to use it",
            ));
        }
        sys::fchmod(fd.as_fd(), 0o700).at(&path)?;
        Ok(Temp {
            parent,
            parent_path,
            name,
            fd,
            dirs: Vec::new(),
        })
    }

    pub fn path(&self) -> PathBuf {
        self.parent_path
            .join(OsStr::from_bytes(self.name.as_bytes()))
    }

    /// The descriptor of `rel`'s parent and `rel`'s last name; each dir on
    /// the way must be a real directory, not a symlink from the archive.
    fn parent_of(&self, rel: &Path) -> io::Result<(OwnedFd, CString)> {
        let mut parts: Vec<&OsStr> = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(n) => parts.push(n),
                _ => {
                    return Err(io::Error::new(
                        ErrorKind::InvalidInput,
                        "not a plain relative name",
                    ))
                }
            }
        }
        let leaf = parts
            .pop()
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "an empty name"))?;
        let mut fd = self.fd.try_clone()?;
        for p in parts {
            fd = open_dir(Some(fd.as_fd()), &cstr(p.as_bytes())?).map_err(|e| match e.raw_os_error() {
                Some(sys::ELOOP) | Some(sys::ENOTDIR) => io::Error::new(
                    ErrorKind::InvalidData,
                    format!("{} is not a directory of the archive (a symlink or file is in the way)", p.to_string_lossy()),
                ),
                _ => e,
            })?;
        }
        Ok((fd, cstr(leaf.as_bytes())?))
    }

    /// A regular file from the archive; returns its sha256. Runs of 64 KiB
    /// of zeros become holes again, so a sparse file stays sparse.
    pub fn file(&self, rel: &Path, r: &mut impl Read, a: &Attrs, archive: &Path) -> Result<String> {
        let shown = self.path().join(rel);
        let (dir, leaf) = self.parent_of(rel).map_err(|e| damaged(archive, rel, e))?;
        let flags = sys::O_WRONLY | sys::O_CREAT | sys::O_EXCL | sys::O_NOFOLLOW | sys::O_CLOEXEC;
        let mut f = File::from(sys::openat(Some(dir.as_fd()), &leaf, flags, 0o600).at(&shown)?);
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 64 << 10];
        let mut len = 0u64;
        loop {
            let mut n = 0;
            while n < buf.len() {
                match r.read(&mut buf[n..]) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(damaged(archive, rel, e)),
                }
            }
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            if n == buf.len() && buf.iter().all(|b| *b == 0) {
                f.seek(SeekFrom::Current(n as i64)).at(&shown)?;
            } else {
                f.write_all(&buf[..n]).at(&shown)?;
            }
            len += n as u64;
        }
        f.set_len(len).at(&shown)?;
        finish_fd(f.as_fd(), a).at(&shown)?;
        Ok(hex::encode(hash.finalize()))
    }

    /// A directory; its owner, mode and mtime are set by [`Temp::finish`].
    pub fn dir(&mut self, rel: &Path, a: Attrs, archive: &Path) -> Result<()> {
        let shown = self.path().join(rel);
        let (dir, leaf) = self.parent_of(rel).map_err(|e| damaged(archive, rel, e))?;
        sys::mkdirat(dir.as_fd(), &leaf, 0o700).at(&shown)?;
        self.dirs.push((rel.to_path_buf(), a));
        Ok(())
    }

    /// A symlink, fifo or device node (`kind` is `S_IF*`; 0 for a symlink).
    pub fn node(
        &self,
        rel: &Path,
        kind: u32,
        link: &[u8],
        rdev: u64,
        a: &Attrs,
        archive: &Path,
    ) -> Result<()> {
        let shown = self.path().join(rel);
        let (dir, leaf) = self.parent_of(rel).map_err(|e| damaged(archive, rel, e))?;
        let d = dir.as_fd();
        if kind == 0 {
            let t = cstr(link).at(&shown)?;
            sys::symlinkat(&t, d, &leaf).at(&shown)?;
        } else {
            sys::mknodat(d, &leaf, kind | 0o600, rdev).at(&shown)?;
        }
        sys::lchownat(d, &leaf, a.uid, a.gid).at(&shown)?;
        if kind != 0 {
            // Our own node in a private dir: chmod cannot reach elsewhere.
            sys::fchmodat_following(d, &leaf, a.mode).at(&shown)?;
        }
        sys::lutimensat(d, &leaf, a.mtime).at(&shown)
    }

    /// Owner, mode, xattrs and mtime of the dirs, children first (creating
    /// a child moves its parent's mtime), then of the top (`top`).
    pub fn finish(&mut self, top: Option<&Attrs>) -> Result<()> {
        let dirs = std::mem::take(&mut self.dirs);
        for (rel, a) in dirs.iter().rev() {
            let shown = self.path().join(rel);
            let (p, leaf) = self.parent_of(rel).at(&shown)?;
            let fd = open_dir(Some(p.as_fd()), &leaf).at(&shown)?;
            finish_fd(fd.as_fd(), a).at(&shown)?;
        }
        if let Some(a) = top {
            finish_fd(self.fd.as_fd(), a).at(self.path())?;
        }
        sys::fsync(self.fd.as_fd()).at(self.path())
    }

    /// Put the tree in place of `target` in one step; the old tree is removed.
    pub fn swap_into(self, target: &Path) -> Result<()> {
        let leaf = target.file_name().unwrap_or(OsStr::new("data"));
        let tname = cstr(leaf.as_bytes()).at(target)?;
        let p = self.parent.as_fd();
        let exists = std::fs::symlink_metadata(target).is_ok();
        let how = if exists {
            sys::Rename::Exchange
        } else {
            sys::Rename::NoReplace
        };
        if let Err(e) = sys::renameat2(p, &self.name, p, &tname, how) {
            if !(exists && e.raw_os_error() == Some(sys::EINVAL)) {
                return Err(HookError::io(target, e));
            }
            // No exchange on this filesystem: two renames, the old tree kept until the new is in.
            let old = self.parent_path.join(format!(
                ".{}.packwright-old-{}",
                leaf.to_string_lossy(),
                std::process::id()
            ));
            std::fs::rename(target, &old).at(target)?;
            std::fs::rename(self.path(), target).at(target)?;
            std::fs::remove_dir_all(&old).at(&old)?;
        } else if exists {
            // The old tree now has the temp name.
            let old = self.path();
            std::fs::remove_dir_all(&old).at(&old)?;
        }
        sys::fsync(self.parent.as_fd()).at(&self.parent_path)
    }

    /// Remove the temp tree (a refused snapshot).
    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(self.path());
    }
}

/// Owner before mode (chown clears setuid), xattrs, then mtime.
fn finish_fd(fd: BorrowedFd, a: &Attrs) -> io::Result<()> {
    sys::fchown(fd, a.uid, a.gid)?;
    sys::fchmod(fd, a.mode)?;
    for (k, v) in &a.xattrs {
        if let Ok(k) = cstr(k) {
            // Best effort: trusted.* needs root, some filesystems have none.
            let _ = sys::fsetxattr(fd, &k, v);
        }
    }
    sys::futimens(fd, a.mtime)
}

fn damaged(archive: &Path, shown: &Path, e: io::Error) -> HookError {
    HookError::SnapshotDamaged {
        path: archive.into(),
        msg: format!("{}: {}", shown.display(), e),
    }
}

/// Remove `.<leaf>.packwright-restore-<pid>` and `-old-<pid>` dirs of dead
/// processes beside a data dir (a killed restore), noting each.
pub fn sweep(parent: &Path, leaf: &OsStr) {
    let Ok(rd) = std::fs::read_dir(parent) else {
        return;
    };
    let leaf = leaf.to_string_lossy();
    let prefixes = [
        format!(".{leaf}.packwright-restore-"),
        format!(".{leaf}.packwright-old-"),
    ];
    for e in rd.flatten() {
        let n = e.file_name();
        let Some(n) = n.to_str() else { continue };
        let pid = prefixes
            .iter()
            .find_map(|p| n.strip_prefix(p.as_str())?.parse::<u32>().ok());
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if pid.is_some_and(fsio::dead) && is_dir && std::fs::remove_dir_all(e.path()).is_ok() {
            fsio::note_cleaned(format!(
                "{}: removed, left by an interrupted restore",
                e.path().display()
            ));
        }
    }
}
