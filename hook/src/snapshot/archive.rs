//! The data dirs into one tar: every entry below each data dir, never
//! following a symlink, with packwright's state dirs left out.

use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::sums::sums_line;
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

    /// Whether `p` is the state dir itself or one of its ancestors.
    pub fn holds_state(&self, p: &Path) -> bool {
        self.dirs[0].0.starts_with(p)
    }

    pub fn is(&self, p: &Path, m: &fs::Metadata) -> bool {
        let id = (m.dev(), m.ino());
        self.dirs
            .iter()
            .any(|(path, i)| p == path || (m.is_dir() && *i == Some(id)))
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

/// Where a data dir is read: `open` (its descriptor's `/proc/self/fd`
/// path, or the path itself) and `dir`, the path that names it.
#[derive(Clone, Copy)]
pub(super) struct Tree<'a> {
    pub open: &'a Path,
    pub dir: &'a Path,
}

impl Tree<'_> {
    /// What `p`, a path below `open`, is called below `dir`.
    pub fn shown(&self, p: &Path) -> PathBuf {
        match p.strip_prefix(self.open) {
            Ok(rel) if !rel.as_os_str().is_empty() => self.dir.join(rel),
            _ => self.dir.to_path_buf(),
        }
    }
}

pub(super) fn walk<'a>(
    tree: Tree<'a>,
    skip: &'a Skip,
) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> + 'a {
    walkdir::WalkDir::new(tree.open)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| match e.metadata() {
            Ok(m) => !skip.is(&tree.shown(e.path()), &m),
            Err(_) => true,
        })
}

pub(super) fn walk_err(tree: Tree, e: walkdir::Error) -> HookError {
    let path = e.path().map_or_else(|| tree.dir.into(), |p| tree.shown(p));
    HookError::io(
        path,
        e.into_io_error()
            .unwrap_or_else(|| io::Error::other("filesystem loop")),
    )
}

pub(super) fn archive_dir<W: Write>(
    tar: &mut tar::Builder<W>,
    tree: Tree,
    name: &str,
    skip: &Skip,
    sums: &mut Vec<u8>,
) -> Result<()> {
    for e in walk(tree, skip) {
        let e = e.map_err(|e| walk_err(tree, e))?;
        let (p, shown) = (e.path(), tree.shown(e.path()));
        let md = fs::symlink_metadata(p).at(&shown)?;
        let rel = p
            .strip_prefix(tree.open)
            .expect("walk stays below its root");
        let ename = Path::new(name).join(rel);
        let ft = md.file_type();
        if ft.is_socket() {
            continue; // recreated by the service that listens on it
        }
        let xattrs = xattr::list(p);
        if !xattrs.is_empty() {
            let mut h = tar::Header::new_ustar();
            let body: Vec<u8> = xattrs
                .iter()
                .flat_map(|(k, v)| pax::xattr_record(k, v))
                .collect();
            h.set_entry_type(tar::EntryType::XHeader);
            h.set_path("././@PaxHeader").at(&shown)?;
            h.set_mode(0o644);
            h.set_size(body.len() as u64);
            h.set_cksum();
            tar.append(&h, &body[..]).at(&shown)?;
        }
        let mut h = tar::Header::new_gnu();
        h.set_metadata_in_mode(&md, tar::HeaderMode::Complete);
        if ft.is_file() {
            // Never through a symlink swapped in since the walk saw a file.
            let f = fs::OpenOptions::new()
                .read(true)
                .custom_flags(sys::O_NOFOLLOW | sys::O_NONBLOCK | sys::O_CLOEXEC)
                .open(p)
                .at(&shown)?;
            let mut r = Hashing {
                inner: f.take(md.len()),
                hash: Sha256::new(),
                n: 0,
            };
            tar.append_data(&mut h, &ename, &mut r).at(&shown)?;
            if r.n != md.len() {
                return Err(HookError::invalid(
                    &shown,
                    "changed while it was archived: stop the service and try again",
                ));
            }
            sums_line(
                sums,
                &hex::encode(r.hash.finalize()),
                ename.as_os_str().as_bytes(),
            );
        } else if ft.is_symlink() {
            let target = fs::read_link(p).at(&shown)?;
            h.set_size(0);
            tar.append_link(&mut h, &ename, &target).at(&shown)?;
        } else {
            if ft.is_char_device() || ft.is_block_device() {
                let d = md.rdev();
                h.set_device_major(((d >> 8) & 0xfff) as u32 | ((d >> 32) & !0xfff) as u32)
                    .at(&shown)?;
                h.set_device_minor((d & 0xff) as u32 | ((d >> 12) & !0xff) as u32)
                    .at(&shown)?;
            }
            h.set_size(0);
            tar.append_data(&mut h, &ename, io::empty()).at(&shown)?;
        }
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
