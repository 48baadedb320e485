//! The data dirs into one tar: every entry below each data dir, walked by
//! descriptor and never following a symlink, with packwright's state dirs
//! left out.

use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::sums::sums_line;
use super::walk::{Entry, Walk, CHANGED};
use super::xattr;
use crate::error::{At, HookError, Result};
use crate::pax;
use crate::site::Site;
use crate::statedir;
use crate::sys;

/// packwright's state dirs, by path and by (device, inode), so they are
/// skipped whatever way a data dir reaches them: the state dir, and the old
/// layout's `/var/lib/<pkg>/packwright`, which lives inside a data dir and
/// must never be captured into, restored from or replaced by a snapshot
/// (nothing proves root wrote it; legacy.rs takes over what it trusts).
pub struct Skip {
    dirs: Vec<(PathBuf, Option<(u64, u64)>)>,
}

impl Skip {
    pub fn new(site: &Site) -> Skip {
        let mut dirs = Vec::new();
        let state = fs::canonicalize(&site.state).unwrap_or_else(|_| site.state.clone());
        let id = fs::metadata(&state).ok().map(|m| (m.dev(), m.ino()));
        dirs.push((state, id));
        let old = statedir::legacy(&site.root, &site.pkg);
        // Its last component is the service user's to change: never followed.
        if let Ok(m) = fs::symlink_metadata(&old) {
            let id = m.is_dir().then(|| (m.dev(), m.ino()));
            if let (Some(parent), Some(name)) = (old.parent(), old.file_name()) {
                if let Ok(p) = fs::canonicalize(parent) {
                    dirs.push((p.join(name), id));
                }
            }
            dirs.push((old, id));
        }
        Skip { dirs }
    }

    /// None to skip (a state dir nothing holds), for tests.
    #[cfg(test)]
    pub(super) fn none() -> Skip {
        let dirs = vec![(PathBuf::from("/nonexistent/packwright-state"), None)];
        Skip { dirs }
    }

    /// Whether `p` is the state dir itself or one of its ancestors.
    pub fn holds_state(&self, p: &Path) -> bool {
        self.dirs[0].0.starts_with(p)
    }

    pub fn is(&self, p: &Path, m: &fs::Metadata) -> bool {
        self.is_id(p, m.is_dir(), (m.dev(), m.ino()))
    }

    /// [`Skip::is`] for an entry described by its kind and (device, inode).
    pub fn is_id(&self, p: &Path, dir: bool, id: (u64, u64)) -> bool {
        self.dirs
            .iter()
            .any(|(path, i)| p == path || (dir && *i == Some(id)))
    }

    /// Whether `p` is one of the state dirs or one of their ancestors.
    pub fn holds(&self, p: &Path) -> bool {
        self.dirs.iter().any(|(path, _)| path.starts_with(p))
    }

    /// The state dirs below `dir`, relative to it (restore leaves them out).
    pub fn below(&self, dir: &Path) -> Vec<PathBuf> {
        let canon = fs::canonicalize(dir).ok();
        let mut out: Vec<PathBuf> = self
            .dirs
            .iter()
            .filter_map(|(path, _)| {
                path.strip_prefix(dir)
                    .ok()
                    .or_else(|| canon.as_ref().and_then(|c| path.strip_prefix(c).ok()))
            })
            .filter(|rel| !rel.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// One data dir, open as `root` (its path `dir`), into the archive under
/// `name`, walked by descriptor (see `walk.rs`); each regular file's line
/// into `sums`.
pub(super) fn archive_dir<W: Write>(
    tar: &mut tar::Builder<W>,
    root: OwnedFd,
    dir: &Path,
    name: &str,
    skip: &Skip,
    sums: &mut Vec<u8>,
) -> Result<()> {
    Walk::new(dir, skip, true).run(root, &mut |e| entry(tar, e, name, sums))
}

/// One entry, read only through the descriptor the walk opened and checked.
fn entry<W: Write>(
    tar: &mut tar::Builder<W>,
    e: &Entry,
    name: &str,
    sums: &mut Vec<u8>,
) -> Result<()> {
    let (file, md) = e.open.expect("the archive's walk opens every entry");
    let shown = e.shown;
    let ename = Path::new(name).join(e.rel);
    let ft = md.file_type();
    if ft.is_socket() {
        return Ok(()); // recreated by the service that listens on it
    }
    let xattrs = xattr::list_fd(file.as_fd());
    if !xattrs.is_empty() {
        let mut h = tar::Header::new_ustar();
        let body: Vec<u8> = xattrs
            .iter()
            .flat_map(|(k, v)| pax::xattr_record(k, v))
            .collect();
        h.set_entry_type(tar::EntryType::XHeader);
        h.set_path("././@PaxHeader").at(shown)?;
        h.set_mode(0o644);
        h.set_size(body.len() as u64);
        h.set_cksum();
        tar.append(&h, &body[..]).at(shown)?;
    }
    let mut h = tar::Header::new_gnu();
    h.set_metadata_in_mode(md, tar::HeaderMode::Complete);
    if ft.is_file() {
        let mut r = Hashing {
            inner: file.take(md.len()),
            hash: Sha256::new(),
            n: 0,
        };
        tar.append_data(&mut h, &ename, &mut r).at(shown)?;
        if r.n != md.len() {
            return Err(HookError::invalid(shown, CHANGED));
        }
        let hex = hex::encode(r.hash.finalize());
        sums_line(sums, &hex, ename.as_os_str().as_bytes());
    } else if ft.is_symlink() {
        let target = sys::readlink_fd(file.as_fd()).at(shown)?;
        h.set_size(0);
        tar.append_link(&mut h, &ename, OsStr::from_bytes(&target))
            .at(shown)?;
    } else {
        if ft.is_char_device() || ft.is_block_device() {
            let d = md.rdev();
            h.set_device_major(((d >> 8) & 0xfff) as u32 | ((d >> 32) & !0xfff) as u32)
                .at(shown)?;
            h.set_device_minor((d & 0xff) as u32 | ((d >> 12) & !0xff) as u32)
                .at(shown)?;
        }
        h.set_size(0);
        tar.append_data(&mut h, &ename, io::empty()).at(shown)?;
    }
    Ok(())
}

struct Hashing<R> {
    inner: R,
    hash: Sha256,
    n: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.n += n as u64;
        Ok(n)
    }
}
