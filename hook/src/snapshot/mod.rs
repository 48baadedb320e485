//! Snapshots of a package's data dirs and live configs, under
//! `<state>/backups/<ID>/`:
//!
//! - `data.tar.zst`: one tar of every data dir, entries named by absolute
//!   path without the leading `/`; numeric owners, modes, mtimes (seconds),
//!   symlinks (never followed), empty dirs, fifos and devices, xattrs as PAX
//!   `SCHILY.xattr.*` records. packwright's state dir, and the old layout's
//!   `/var/lib/<pkg>/packwright`, are never archived. Each data dir is
//!   walked by descriptor (`walk.rs`): an entry the service user swaps for
//!   a link meanwhile fails the snapshot, never leads root's reads elsewhere.
//! - `SHA256SUMS`: every regular file of the archive, as `sha256sum` prints it.
//! - `config/`: copies of the live configs (names as in `pristine/`), same mode.
//! - `meta.json`: old, new, data dirs, configs, creation time.
//!
//! A snapshot is built as `.<ID>.partial` and renamed when complete. A restore
//! extracts beside each data dir and checks every sha256 before it touches
//! the data dir (see `restore.rs`).

use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::error::{At, HookError, Result};
use super::fsio;
use super::site::{escape, Site};
use super::sys;

pub const DATA: &str = "data.tar.zst";
pub const SUMS: &str = "SHA256SUMS";
pub const META: &str = "meta.json";
/// Room left on the backups filesystem beyond the data itself.
const SLACK: u64 = 16 << 20;
/// Test knob: pretend the backups filesystem has this many bytes free.
pub const FREE_BYTES_ENV: &str = "PACKWRIGHT_HOOK_FREE_BYTES";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotMeta {
    pub id: String,
    pub package: String,
    pub old: String,
    pub new: String,
    /// Unix seconds.
    pub created: u64,
    pub data_dirs: Vec<DataDir>,
    pub configs: Vec<ConfigCopy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataDir {
    /// As in the package description.
    pub path: String,
    /// The archive's name for it: the path below the root, no leading `/`.
    pub name: String,
    /// Whether it existed; a restore empties a dir that did not.
    pub present: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigCopy {
    /// As in the package description.
    pub live: String,
    /// File name under `config/`; `None` when the live file did not exist.
    pub copy: Option<String>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub id: String,
    pub dir: PathBuf,
    pub meta: SnapshotMeta,
}

pub fn backups_dir(site: &Site) -> PathBuf {
    site.state.join("backups")
}

/// Take a snapshot labelled `label` (`3.4.0-to-3.5.0`, `backup`). With
/// `data`, the free space is checked first and a refusal changes nothing.
pub fn create(site: &Site, label: &str, old: &str, new: &str, data: bool) -> Result<Snapshot> {
    if data {
        check_space(site)?;
    }
    let backups = backups_dir(site);
    fsio::ensure_dir(&site.state, 0o755)?;
    fsio::ensure_dir(&backups, 0o700)?;
    sweep_partial(&backups);
    let id = new_id(&backups, label);
    let tmp = backups.join(format!(".{id}.partial"));
    fsio::create_private_dir(&tmp)?;
    let meta = match fill(site, &tmp, &id, old, new, data) {
        Ok(m) => m,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let dir = backups.join(&id);
    fs::rename(&tmp, &dir).at(&dir)?;
    File::open(&backups)
        .and_then(|d| d.sync_all())
        .at(&backups)?;
    Ok(Snapshot { id, dir, meta })
}

fn fill(
    site: &Site,
    tmp: &Path,
    id: &str,
    old: &str,
    new: &str,
    data: bool,
) -> Result<SnapshotMeta> {
    let mut sums = Vec::new();
    let data_dirs = if data {
        archive_data(site, tmp, &mut sums)?
    } else {
        vec![]
    };
    write_new(&tmp.join(SUMS), &sums)?;
    let configs = copy_configs(site, tmp)?;
    let meta = SnapshotMeta {
        id: id.into(),
        package: site.pkg.clone(),
        old: old.into(),
        new: new.into(),
        created: now(),
        data_dirs,
        configs,
    };
    let json = serde_json::to_vec_pretty(&meta).expect("meta serializes");
    write_new(&tmp.join(META), &json)?;
    Ok(meta)
}

/// Every data dir of the description into `data.tar.zst` (none: no
/// archive), each regular file's line into `sums`.
fn archive_data(site: &Site, tmp: &Path, sums: &mut Vec<u8>) -> Result<Vec<DataDir>> {
    let dirs = site.desc.upgrade.iter().flat_map(|u| &u.data_dirs);
    let dirs: Vec<(String, PathBuf)> = dirs.map(|d| (d.clone(), site.path(d))).collect();
    if dirs.is_empty() {
        return Ok(vec![]);
    }
    let path = tmp.join(DATA);
    let file = private_file(&path)?;
    let enc = zstd::stream::write::Encoder::new(file, 3).at(&path)?;
    let mut tar = tar::Builder::new(enc);
    let skip = Skip::new(site);
    let mut data_dirs = Vec::new();
    for (desc_path, host) in dirs {
        let name = archive_name(site, &host);
        // Read through this descriptor only: a parent swapped for a link
        // since is not followed, nor is anything below swapped meanwhile.
        let fd = open_data_dir(&host)?;
        let present = fd.is_some();
        if let Some(fd) = fd {
            archive_dir(&mut tar, fd, &host, &name, &skip, sums)?;
        }
        data_dirs.push(DataDir {
            path: desc_path,
            name,
            present,
        });
    }
    let enc = tar.into_inner().at(&path)?;
    enc.finish().and_then(|f| f.sync_all()).at(&path)?;
    Ok(data_dirs)
}

/// Copies of the live configs into `config/`: content, owner and mode from
/// one no-follow descriptor each.
fn copy_configs(site: &Site, tmp: &Path) -> Result<Vec<ConfigCopy>> {
    let cdir = tmp.join("config");
    fsio::create_private_dir(&cdir)?;
    let mut configs = Vec::new();
    for c in &site.desc.configs {
        let live = site.path(&c.live);
        let name = escape(&c.live);
        let copy = match fsio::backup(&live, &cdir.join(&name))? {
            Some(m) => (Some(name), m),
            None => (
                None,
                fsio::Meta {
                    mode: 0,
                    uid: None,
                    gid: None,
                },
            ),
        };
        configs.push(ConfigCopy {
            live: c.live.clone(),
            copy: copy.0,
            mode: copy.1.mode,
            uid: copy.1.uid.unwrap_or(0),
            gid: copy.1.gid.unwrap_or(0),
        });
    }
    Ok(configs)
}

/// A snapshot being built is `.<ID>.partial`; under the package lock any
/// such dir is a leftover of a killed run: removed, and noted for the report.
fn sweep_partial(backups: &Path) {
    let Ok(rd) = fs::read_dir(backups) else {
        return;
    };
    for e in rd.flatten() {
        let n = e.file_name();
        let n = n.to_string_lossy();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        let partial = n.starts_with('.') && n.ends_with(".partial") && is_dir;
        if partial && fs::remove_dir_all(e.path()).is_ok() {
            fsio::note_cleaned(format!(
                "{}: removed, an incomplete snapshot left by an interrupted run",
                e.path().display()
            ));
        }
    }
}

/// A data dir opened as a restore opens it: its parents one component at a
/// time (a symlink on the way only when root owns it), the dir itself never
/// through a symlink; `None` when it does not exist.
fn open_data_dir(host: &Path) -> Result<Option<OwnedFd>> {
    let parent = host.parent().unwrap_or(Path::new("/"));
    let leaf = host.file_name().unwrap_or(host.as_os_str());
    let pfd = match fsio::open_dir_path(parent) {
        Ok(fd) => fd,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(HookError::io(parent, e)),
    };
    let leaf = CString::new(leaf.as_bytes())
        .map_err(|_| HookError::invalid(host, "path holds a NUL byte"))?;
    match fsio::open_dir(Some(pfd.as_fd()), &leaf) {
        Ok(fd) => Ok(Some(fd)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) if matches!(e.raw_os_error(), Some(sys::ELOOP | sys::ENOTDIR)) => {
            Err(HookError::invalid(host, "data dir is not a directory"))
        }
        Err(e) => Err(HookError::io(host, e)),
    }
}

fn private_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(sys::O_NOFOLLOW)
        .open(path)
        .at(path)
}

fn write_new(path: &Path, data: &[u8]) -> Result<()> {
    let mut f = private_file(path)?;
    f.write_all(data).and_then(|()| f.sync_all()).at(path)
}

/// The archive's name of a data dir: its path below the root, no leading `/`.
pub fn archive_name(site: &Site, host: &Path) -> String {
    site.in_root(host)
        .to_string_lossy()
        .trim_start_matches('/')
        .to_string()
}

/// Every snapshot, oldest first; unreadable ones are left out.
pub fn list(site: &Site) -> Result<Vec<Snapshot>> {
    let backups = backups_dir(site);
    let rd = match fs::read_dir(&backups) {
        Ok(rd) => rd,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(HookError::io(&backups, e)),
    };
    let mut out: Vec<Snapshot> = rd
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| open(site, &e.file_name().to_string_lossy()).ok())
        .collect();
    out.sort_by(|a, b| (a.meta.created, &a.id).cmp(&(b.meta.created, &b.id)));
    Ok(out)
}

/// One snapshot by ID.
pub fn open(site: &Site, id: &str) -> Result<Snapshot> {
    let backups = backups_dir(site);
    if id.is_empty() || id.contains('/') || id.starts_with('.') {
        return Err(HookError::invalid(
            &backups,
            format!("{id:?} is not a snapshot ID"),
        ));
    }
    let dir = backups.join(id);
    let path = dir.join(META);
    let text = fsio::read(&path)?.ok_or_else(|| {
        HookError::invalid(
            &dir,
            "no such snapshot (see `packwright-hook backup --list`)",
        )
    })?;
    let meta: SnapshotMeta = serde_json::from_str(&text).map_err(|e| HookError::Syntax {
        path: path.clone(),
        line: e.line(),
        col: e.column(),
        msg: e.to_string(),
    })?;
    Ok(Snapshot {
        id: id.into(),
        dir,
        meta,
    })
}

/// Keep the newest `keep` snapshots; returns the IDs removed.
pub fn prune(site: &Site, keep: usize) -> Result<Vec<String>> {
    let all = list(site)?;
    let n = all.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for s in all.into_iter().take(n) {
        fs::remove_dir_all(&s.dir).at(&s.dir)?;
        removed.push(s.id);
    }
    Ok(removed)
}

pub use super::xattr;

mod archive;
mod id;
mod space;
mod sums;
mod walk;

use archive::archive_dir;
pub use archive::Skip;
use id::new_id;
pub use id::{clean, now, utc_stamp};
pub use space::check_space;
pub use sums::parse_sums;
