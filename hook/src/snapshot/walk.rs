//! A data dir walked by descriptor, never by path. The data dir belongs to
//! the service user, who may swap any entry for a symlink (to `/etc`) at
//! any moment: so each directory is listed from its own open descriptor,
//! each entry is described with `fstatat` (no follow) and opened below that
//! descriptor with `O_NOFOLLOW`, and the new descriptor is checked to be
//! the very entry that was listed (kind, device and inode). A swap between
//! the listing and the open fails the walk, naming the entry; it never
//! leads root's reads anywhere else.

use std::ffi::{CStr, CString, OsStr};
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::archive::Skip;
use crate::error::{At, HookError, Result};
use crate::sys;

/// Directory levels below a data dir; each level holds one descriptor
/// while the walk is below it.
pub const MAX_DEPTH: usize = 256;
/// Names listed and not walked yet, over the directories open at once (a
/// directory and the ones it is in): this bounds the walk's memory.
pub const MAX_LISTED: usize = 1 << 20;

const DIR: i32 = sys::O_RDONLY | sys::O_DIRECTORY | sys::O_NOFOLLOW | sys::O_CLOEXEC;
const FILE: i32 =
    sys::O_RDONLY | sys::O_NOFOLLOW | sys::O_NONBLOCK | sys::O_NOCTTY | sys::O_CLOEXEC;
/// The entry itself (a symlink, not its target; a device, not opened).
const NODE: i32 = sys::O_PATH | sys::O_NOFOLLOW | sys::O_CLOEXEC;

pub(super) const CHANGED: &str = "changed while it was archived: stop the service and try again";

/// One entry met by the walk.
pub(super) struct Entry<'a> {
    /// Its path below the data dir; empty for the data dir itself.
    pub rel: &'a Path,
    /// Its path on the host, for messages.
    pub shown: &'a Path,
    /// What was listed (`fstatat` without following).
    pub stat: sys::Stat,
    /// The entry open and its `fstat`, checked to be what was listed:
    /// directories and regular files for reading, anything else with
    /// `O_PATH`. `None` for all but directories when the walk does not
    /// open the others.
    pub open: Option<(&'a File, &'a fs::Metadata)>,
}

type Visit<'v> = dyn FnMut(&Entry<'_>) -> Result<()> + 'v;

pub(super) struct Walk<'a> {
    /// The data dir's path (for messages and the state dirs' check).
    dir: &'a Path,
    skip: &'a Skip,
    /// Whether to open what is not a directory (the archive reads it; the
    /// size estimate needs only what was listed).
    open_all: bool,
    listed: usize,
    max_listed: usize,
}

impl<'a> Walk<'a> {
    pub fn new(dir: &'a Path, skip: &'a Skip, open_all: bool) -> Walk<'a> {
        Walk {
            dir,
            skip,
            open_all,
            listed: 0,
            max_listed: MAX_LISTED,
        }
    }

    /// The data dir open as `root` and everything below it, each directory
    /// before its entries, entries in byte order of their names; the state
    /// dirs (and what is below them) are left out.
    pub fn run(&mut self, root: OwnedFd, visit: &mut Visit) -> Result<()> {
        let file = File::from(root);
        let md = file.metadata().at(self.dir)?;
        if self.skip.is(self.dir, &md) {
            return Ok(());
        }
        let stat = sys::Stat {
            mode: md.mode(),
            uid: md.uid(),
            dev: md.dev(),
            ino: md.ino(),
            blocks: md.blocks(),
        };
        let rel = &mut PathBuf::new();
        visit(&Entry {
            rel: rel.as_path(),
            shown: self.dir,
            stat,
            open: Some((&file, &md)),
        })?;
        self.below(file.as_fd(), rel, 0, visit)
    }

    /// The entries of the directory `fd` (`rel`, `depth` levels down).
    fn below(
        &mut self,
        fd: BorrowedFd,
        rel: &mut PathBuf,
        depth: usize,
        visit: &mut Visit,
    ) -> Result<()> {
        let names = self.list(fd, rel)?;
        for name in &names {
            rel.push(OsStr::from_bytes(name.to_bytes()));
            self.one(fd, name, rel, depth + 1, visit)?;
            rel.pop();
        }
        self.listed -= names.len();
        Ok(())
    }

    /// The names in the directory `fd`, sorted, counted against [`MAX_LISTED`].
    fn list(&mut self, fd: BorrowedFd, rel: &Path) -> Result<Vec<CString>> {
        let shown = self.dir.join(rel);
        let room = self.max_listed - self.listed;
        let (mut names, mut over) = (Vec::new(), false);
        let r = sys::read_dir(fd, |n| {
            over = names.len() == room;
            if over {
                return Err(io::Error::other("too many entries"));
            }
            names.push(n.to_owned());
            Ok(())
        });
        if over {
            let msg = format!(
                "more than {} entries to archive at once in this directory and the ones above it",
                self.max_listed
            );
            return Err(HookError::invalid(&shown, msg));
        }
        r.at(&shown)?;
        names.sort_unstable_by(|a, b| a.to_bytes().cmp(b.to_bytes()));
        self.listed += names.len();
        Ok(names)
    }

    /// The entry `name` of the directory `parent`: listed, opened, checked,
    /// visited, and walked when it is a directory (`depth` levels down).
    fn one(
        &mut self,
        parent: BorrowedFd,
        name: &CStr,
        rel: &mut PathBuf,
        depth: usize,
        visit: &mut Visit,
    ) -> Result<()> {
        let shown = self.dir.join(&*rel);
        let stat = sys::lstatat(parent, name).map_err(|e| changed(&shown, e))?;
        if self.skip.is_id(&shown, stat.is_dir(), (stat.dev, stat.ino)) {
            return Ok(());
        }
        let flags = match stat.kind() {
            sys::S_IFDIR if depth > MAX_DEPTH => {
                return Err(HookError::invalid(
                    &shown,
                    format!("more than {MAX_DEPTH} directory levels below the data dir"),
                ))
            }
            sys::S_IFDIR => DIR,
            sys::S_IFREG if self.open_all => FILE,
            _ if self.open_all => NODE,
            _ => {
                return visit(&Entry {
                    rel: rel.as_path(),
                    shown: &shown,
                    stat,
                    open: None,
                });
            }
        };
        let fd = sys::openat(Some(parent), name, flags, 0).map_err(|e| changed(&shown, e))?;
        let file = File::from(fd);
        let md = file.metadata().at(&shown)?;
        let kind = md.mode() & sys::S_IFMT;
        if kind != stat.kind() || (md.dev(), md.ino()) != (stat.dev, stat.ino) {
            return Err(HookError::invalid(&shown, CHANGED));
        }
        visit(&Entry {
            rel: rel.as_path(),
            shown: &shown,
            stat,
            open: Some((&file, &md)),
        })?;
        if stat.is_dir() {
            self.below(file.as_fd(), rel, depth, visit)?;
        }
        Ok(())
    }
}

/// An entry gone, or become a symlink (`ELOOP`, `ENOTDIR` with
/// `O_DIRECTORY`) or a socket (`ENXIO`), since it was listed: it changed.
fn changed(shown: &Path, e: io::Error) -> HookError {
    match e.raw_os_error() {
        Some(sys::ENOENT | sys::ELOOP | sys::ENOTDIR | sys::ENXIO) => {
            HookError::invalid(shown, CHANGED)
        }
        _ => HookError::io(shown, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// (rel, kind) of every entry `walk` visits below `dir`; `act` runs at each.
    fn visited(
        dir: &Path,
        walk: &mut Walk,
        mut act: impl FnMut(&Path),
    ) -> Result<Vec<(String, u32)>> {
        let root = crate::fsio::open_dir_path(dir).unwrap();
        let mut out = Vec::new();
        walk.run(root, &mut |e| {
            let kind = e.open.map(|(_, m)| m.mode() & sys::S_IFMT);
            assert_eq!(kind.unwrap_or(e.stat.kind()), e.stat.kind());
            out.push((e.rel.to_string_lossy().into_owned(), e.stat.kind()));
            act(e.rel);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn a_dir_swapped_for_a_link_after_the_listing_is_walked_as_the_link() {
        // `b` is listed as a directory; while `a` (listed before it) is
        // visited, it becomes a link to a secret dir. A walk by path would
        // now list and read the secret; this one meets a symlink.
        let t = tempfile::tempdir().unwrap();
        let (data, outside) = (t.path().join("data"), t.path().join("outside"));
        fs::create_dir_all(data.join("b")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(data.join("a"), "a").unwrap();
        fs::write(data.join("b/secret"), "harmless").unwrap();
        fs::write(outside.join("secret"), "SECRET").unwrap();
        let skip = Skip::none();
        let mut walk = Walk::new(&data, &skip, true);
        let seen = visited(&data, &mut walk, |rel| {
            if rel == Path::new("a") {
                fs::rename(data.join("b"), t.path().join("b-moved")).unwrap();
                symlink(&outside, data.join("b")).unwrap();
            }
        })
        .unwrap();
        let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["", "a", "b"]);
        assert_eq!(seen[2].1, sys::S_IFLNK);
    }

    #[test]
    fn depth_and_listed_names_are_bounded() {
        let t = tempfile::tempdir().unwrap();
        let mut deep = t.path().join("data");
        for _ in 0..MAX_DEPTH {
            deep.push("d");
        }
        fs::create_dir_all(&deep).unwrap();
        let skip = Skip::none();
        let data = t.path().join("data");
        let n = visited(&data, &mut Walk::new(&data, &skip, false), |_| {}).unwrap();
        assert_eq!(n.len(), MAX_DEPTH + 1);
        fs::create_dir(deep.join("d")).unwrap();
        let e = visited(&data, &mut Walk::new(&data, &skip, false), |_| {}).unwrap_err();
        assert!(
            e.to_string().contains("more than 256 directory levels"),
            "{e}"
        );

        // Names held at once: the top's two, then the three below `sub`.
        let data = t.path().join("wide");
        fs::create_dir_all(data.join("sub")).unwrap();
        for n in ["a", "sub/x", "sub/y", "sub/z"] {
            fs::write(data.join(n), "").unwrap();
        }
        let mut walk = Walk::new(&data, &skip, true);
        walk.max_listed = 5;
        assert_eq!(visited(&data, &mut walk, |_| {}).unwrap().len(), 6);
        walk.max_listed = 4;
        let e = visited(&data, &mut walk, |_| {}).unwrap_err();
        assert!(
            e.to_string().contains("wide/sub: more than 4 entries"),
            "{e}"
        );
    }
}
