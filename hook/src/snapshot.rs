//! Snapshots of a package's data dirs and live configs, under
//! `<state>/backups/<ID>/`:
//!
//! - `data.tar.zst`: one tar of every data dir, entries named by absolute
//!   path without the leading `/`; numeric owners, modes, mtimes (seconds),
//!   symlinks (never followed), empty dirs, fifos and devices, xattrs as PAX
//!   `SCHILY.xattr.*` records. packwright's state dir is never archived.
//! - `SHA256SUMS`: every regular file of the archive, as `sha256sum` prints it.
//! - `config/`: copies of the live configs (names as in `pristine/`), same mode.
//! - `meta.json`: old, new, data dirs, configs, creation time.
//!
//! A snapshot is built as `.<ID>.partial` and renamed when complete. A restore
//! extracts beside each data dir and checks every sha256 before it touches
//! the data dir (see `restore.rs`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::error::{At, HookError, Result};
use super::fsio;
use super::site::{escape, Site};

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
    let mut data_dirs = Vec::new();
    let mut sums = Vec::new();
    if data {
        let dirs = site.desc.upgrade.iter().flat_map(|u| &u.data_dirs);
        let dirs: Vec<(String, PathBuf)> = dirs.map(|d| (d.clone(), site.path(d))).collect();
        if !dirs.is_empty() {
            let path = tmp.join(DATA);
            let file = private_file(&path)?;
            let enc = zstd::stream::write::Encoder::new(file, 3).at(&path)?;
            let mut tar = tar::Builder::new(enc);
            let skip = Skip::new(&site.state);
            for (desc_path, host) in dirs {
                let name = archive_name(site, &host);
                let present = match fs::symlink_metadata(&host) {
                    Ok(m) if m.is_dir() => true,
                    Ok(_) => return Err(HookError::invalid(&host, "data dir is not a directory")),
                    Err(e) if e.kind() == ErrorKind::NotFound => false,
                    Err(e) => return Err(HookError::io(&host, e)),
                };
                if present {
                    archive_dir(&mut tar, &host, &name, &skip, &mut sums)?;
                }
                data_dirs.push(DataDir {
                    path: desc_path,
                    name,
                    present,
                });
            }
            let enc = tar.into_inner().at(&path)?;
            enc.finish().and_then(|f| f.sync_all()).at(&path)?;
        }
    }
    write_new(&tmp.join(SUMS), &sums)?;
    let cdir = tmp.join("config");
    fsio::create_private_dir(&cdir)?;
    let mut configs = Vec::new();
    for c in &site.desc.configs {
        let live = site.path(&c.live);
        let name = escape(&c.live);
        // Content, owner and mode from one no-follow descriptor.
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

fn private_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
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

/// The state dir, by path and by (device, inode), so it is skipped whatever
/// way a data dir reaches it.
pub struct Skip {
    path: PathBuf,
    id: Option<(u64, u64)>,
}

impl Skip {
    pub fn new(state: &Path) -> Skip {
        let path = fs::canonicalize(state).unwrap_or_else(|_| state.into());
        let id = fs::metadata(&path).ok().map(|m| (m.dev(), m.ino()));
        Skip { path, id }
    }

    pub fn is(&self, p: &Path, m: &fs::Metadata) -> bool {
        p == self.path || (m.is_dir() && self.id == Some((m.dev(), m.ino())))
    }

    /// Whether `p` is the state dir or one of its ancestors.
    pub fn holds(&self, p: &Path) -> bool {
        self.path.starts_with(p)
    }
}

fn walk<'a>(
    dir: &Path,
    skip: &'a Skip,
) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> + 'a {
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| match e.metadata() {
            Ok(m) => !skip.is(e.path(), &m),
            Err(_) => true,
        })
}

fn walk_err(dir: &Path, e: walkdir::Error) -> HookError {
    let path = e.path().unwrap_or(dir).to_path_buf();
    HookError::io(
        path,
        e.into_io_error()
            .unwrap_or_else(|| io::Error::other("filesystem loop")),
    )
}

fn archive_dir<W: Write>(
    tar: &mut tar::Builder<W>,
    dir: &Path,
    name: &str,
    skip: &Skip,
    sums: &mut Vec<u8>,
) -> Result<()> {
    for e in walk(dir, skip) {
        let e = e.map_err(|e| walk_err(dir, e))?;
        let p = e.path();
        let md = fs::symlink_metadata(p).at(p)?;
        let rel = p.strip_prefix(dir).expect("walk stays below its root");
        let ename = Path::new(name).join(rel);
        let ft = md.file_type();
        if ft.is_socket() {
            continue; // recreated by the service that listens on it
        }
        let xattrs = xattr::list(p);
        if !xattrs.is_empty() {
            let mut h = tar::Header::new_ustar();
            let body: Vec<u8> = xattrs.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
            h.set_entry_type(tar::EntryType::XHeader);
            h.set_path("././@PaxHeader").at(p)?;
            h.set_mode(0o644);
            h.set_size(body.len() as u64);
            h.set_cksum();
            tar.append(&h, &body[..]).at(p)?;
        }
        let mut h = tar::Header::new_gnu();
        h.set_metadata_in_mode(&md, tar::HeaderMode::Complete);
        if ft.is_file() {
            let f = File::open(p).at(p)?;
            let mut r = Hashing {
                inner: f.take(md.len()),
                hash: Sha256::new(),
                n: 0,
            };
            tar.append_data(&mut h, &ename, &mut r).at(p)?;
            if r.n != md.len() {
                return Err(HookError::invalid(
                    p,
                    "changed while it was archived: stop the service and try again",
                ));
            }
            sums_line(
                sums,
                &hex::encode(r.hash.finalize()),
                ename.as_os_str().as_bytes(),
            );
        } else if ft.is_symlink() {
            let target = fs::read_link(p).at(p)?;
            h.set_size(0);
            tar.append_link(&mut h, &ename, &target).at(p)?;
        } else {
            if ft.is_char_device() || ft.is_block_device() {
                let d = md.rdev();
                h.set_device_major(((d >> 8) & 0xfff) as u32 | ((d >> 32) & !0xfff) as u32)
                    .at(p)?;
                h.set_device_minor((d & 0xff) as u32 | ((d >> 12) & !0xff) as u32)
                    .at(p)?;
            }
            h.set_size(0);
            tar.append_data(&mut h, &ename, io::empty()).at(p)?;
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

/// One PAX record: `<len> <key>=<value>\n`, the length counting itself.
fn pax_record(name: &[u8], value: &[u8]) -> Vec<u8> {
    let key = [b"SCHILY.xattr.".as_slice(), name].concat();
    let rest = 1 + key.len() + 1 + value.len() + 1;
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    let mut out = format!("{len} ").into_bytes();
    out.extend_from_slice(&key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

/// `sha256sum`'s line: names with a newline or backslash get a leading `\`.
fn sums_line(out: &mut Vec<u8>, hex: &str, name: &[u8]) {
    let odd = name.iter().any(|c| *c == b'\n' || *c == b'\\');
    if odd {
        out.push(b'\\');
    }
    out.extend_from_slice(hex.as_bytes());
    out.extend_from_slice(b"  ");
    for &c in name {
        match c {
            b'\n' if odd => out.extend_from_slice(b"\\n"),
            b'\\' if odd => out.extend_from_slice(b"\\\\"),
            _ => out.push(c),
        }
    }
    out.push(b'\n');
}

/// SHA256SUMS back into (name, hex) pairs; `None` on a malformed line.
pub fn parse_sums(text: &[u8]) -> Option<Vec<(Vec<u8>, String)>> {
    let mut out = Vec::new();
    for line in text.split(|c| *c == b'\n').filter(|l| !l.is_empty()) {
        let (odd, line) = match line.strip_prefix(b"\\") {
            Some(l) => (true, l),
            None => (false, line),
        };
        if line.len() < 66 || &line[64..66] != b"  " {
            return None;
        }
        let hex = std::str::from_utf8(&line[..64]).ok()?;
        if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut name = Vec::new();
        let mut it = line[66..].iter();
        while let Some(&c) = it.next() {
            match (odd, c) {
                (true, b'\\') => match it.next() {
                    Some(b'n') => name.push(b'\n'),
                    Some(b'\\') => name.push(b'\\'),
                    _ => return None,
                },
                _ => name.push(c),
            }
        }
        out.push((name, hex.to_ascii_lowercase()));
    }
    Some(out)
}

/// Refuse before writing anything when the filesystem holding `backups/`
/// has less than the data dirs' allocated size plus 16 MiB free.
pub fn check_space(site: &Site) -> Result<()> {
    let dirs = site.data_dirs();
    if dirs.is_empty() {
        return Ok(());
    }
    let skip = Skip::new(&site.state);
    let mut data = 0u64;
    for d in dirs.iter().filter(|d| d.is_dir()) {
        for e in walk(d, &skip) {
            let e = e.map_err(|e| walk_err(d, e))?;
            data += e.metadata().map_err(|e| walk_err(d, e))?.blocks() * 512;
        }
    }
    let backups = backups_dir(site);
    let probe = backups
        .ancestors()
        .find(|a| a.exists())
        .unwrap_or(Path::new("/"));
    let free = match std::env::var(FREE_BYTES_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) => n,
        None => free_bytes(probe)?,
    };
    let need = data + SLACK;
    if free < need {
        return Err(HookError::NoSpace {
            path: probe.into(),
            free,
            need,
            data,
        });
    }
    Ok(())
}

#[allow(clippy::unnecessary_cast)] // the field types differ between targets
fn free_bytes(p: &Path) -> Result<u64> {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes())
        .map_err(|_| HookError::invalid(p, "path holds a NUL byte"))?;
    // SAFETY: statvfs fills the zeroed struct; `c` is a valid C string.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return Err(HookError::io(p, io::Error::last_os_error()));
    }
    Ok(s.f_bavail as u64 * s.f_frsize as u64)
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

fn new_id(backups: &Path, label: &str) -> String {
    let base = format!("{}-{}", utc_stamp(now()), label);
    let free =
        |id: &str| !backups.join(id).exists() && !backups.join(format!(".{id}.partial")).exists();
    if free(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| free(id))
        .expect("some counter is free")
}

/// A version as it may appear in an ID or file name.
pub fn clean(v: &str) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".+~_-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `yyyymmddThhmmssZ` (civil-from-days; no date crate in the hook).
pub fn utc_stamp(secs: u64) -> String {
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

pub use super::xattr;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_and_records() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(1_709_251_199), "20240229T235959Z");
        assert_eq!(utc_stamp(1_735_689_600), "20250101T000000Z");
        let r = pax_record(b"user.a", b"xyz");
        assert_eq!(r, b"27 SCHILY.xattr.user.a=xyz\n");
        assert_eq!(r.len(), 27);
        let mut s = Vec::new();
        sums_line(&mut s, &"a".repeat(64), b"var/lib/x");
        sums_line(&mut s, &"b".repeat(64), b"var/lib/odd\nname\\");
        let back = parse_sums(&s).unwrap();
        assert_eq!(back[0].0, b"var/lib/x");
        assert_eq!(back[1].0, b"var/lib/odd\nname\\");
        assert!(parse_sums(b"zz  x\n").is_none());
    }
}
