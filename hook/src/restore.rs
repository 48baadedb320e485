//! Restore a snapshot: extract each data dir into a temp dir beside it,
//! check every file's sha256 against SHA256SUMS, and only then replace the
//! data dir's contents (never the state dir). A damaged snapshot is refused
//! with the data dirs untouched.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ffi::{CString, OsStr};
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use super::error::{At, HookError, Result};
use super::fsio;
use super::migrate;
use super::site::Site;
use super::snapshot::{self, xattr, Skip, Snapshot, DATA, SUMS};

#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub id: String,
    pub snapshot: PathBuf,
    pub data_dirs: Vec<PathBuf>,
    pub configs: Vec<PathBuf>,
    /// Migrations that ran after the snapshot: their effect is undone, so
    /// they are pending again.
    pub pending_again: Vec<String>,
}

/// Restore data dirs and live configs; the caller holds the package lock.
pub fn restore(site: &Site, id: Option<&str>) -> Result<RestoreReport> {
    let snap = match id {
        Some(id) => snapshot::open(site, id)?,
        None => snapshot::list(site)?.pop().ok_or_else(|| {
            HookError::invalid(snapshot::backups_dir(site), "no snapshot to restore")
        })?,
    };
    let data_dirs = restore_data(site, &snap)?;
    let configs = restore_configs(site, &snap)?;
    let mut records = migrate::load(site)?;
    let undone = |r: &migrate::Record| {
        r.snapshot.as_deref() == Some(snap.id.as_str()) || r.finished_at >= snap.meta.created
    };
    let pending_again: Vec<String> = records
        .iter()
        .filter(|r| undone(r))
        .map(|r| r.version.clone())
        .collect();
    if !pending_again.is_empty() {
        records.retain(|r| !undone(r));
        migrate::save(site, &records)?;
    }
    Ok(RestoreReport {
        id: snap.id.clone(),
        snapshot: snap.dir.clone(),
        data_dirs,
        configs,
        pending_again,
    })
}

/// The live configs back from `config/`, byte-identical with mode and owner;
/// a config that did not exist then is removed.
pub fn restore_configs(site: &Site, snap: &Snapshot) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for c in &snap.meta.configs {
        let live = site.path(&c.live);
        match &c.copy {
            Some(name) => {
                let copy = snap.dir.join("config").join(name);
                let data = fs::read(&copy).map_err(|e| damaged(&copy, e.to_string()))?;
                let meta = fsio::Meta {
                    mode: c.mode,
                    uid: Some(c.uid),
                    gid: Some(c.gid),
                };
                if let Some(dir) = live.parent() {
                    fsio::ensure_dir(dir, 0o755)?;
                }
                fsio::write_atomic(&live, &data, meta)?;
            }
            None => fsio::remove(&live)?,
        }
        out.push(live);
    }
    Ok(out)
}

fn damaged(path: &Path, msg: impl Into<String>) -> HookError {
    HookError::SnapshotDamaged {
        path: path.into(),
        msg: msg.into(),
    }
}

struct Stage {
    target: PathBuf,
    temp: PathBuf,
    name: Vec<u8>,
    top: Option<Attrs>,
}

#[derive(Clone)]
struct Attrs {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The data dirs back as they were in the snapshot.
pub fn restore_data(site: &Site, snap: &Snapshot) -> Result<Vec<PathBuf>> {
    let dirs = &snap.meta.data_dirs;
    if dirs.is_empty() {
        return Ok(vec![]);
    }
    let sums_path = snap.dir.join(SUMS);
    let text = fs::read(&sums_path).map_err(|e| damaged(&sums_path, e.to_string()))?;
    let sums: BTreeMap<Vec<u8>, String> = snapshot::parse_sums(&text)
        .ok_or_else(|| damaged(&sums_path, "malformed line"))?
        .into_iter()
        .collect();
    let mut stages = Vec::new();
    for d in dirs.iter().filter(|d| d.present) {
        let target = site.root.join(&d.name);
        let parent = target.parent().unwrap_or(Path::new("/"));
        fsio::ensure_dir(parent, 0o755)?;
        let leaf = target
            .file_name()
            .unwrap_or(OsStr::new("data"))
            .to_string_lossy();
        let temp = parent.join(format!(".{leaf}.packwright-restore-{}", std::process::id()));
        let _ = fs::remove_dir_all(&temp);
        fs::create_dir(&temp).at(&temp)?;
        fs::set_permissions(&temp, fs::Permissions::from_mode(0o700)).at(&temp)?;
        stages.push(Stage {
            target,
            temp,
            name: d.name.as_bytes().to_vec(),
            top: None,
        });
    }
    if let Err(e) = extract(&snap.dir.join(DATA), &mut stages, &sums) {
        for s in &stages {
            let _ = fs::remove_dir_all(&s.temp);
        }
        return Err(e);
    }
    let skip = Skip::new(&site.state);
    let mut out = Vec::new();
    for s in &stages {
        swap(s, &skip)?;
        out.push(s.target.clone());
    }
    // A data dir that did not exist then is emptied (the state dir stays).
    for d in dirs.iter().filter(|d| !d.present) {
        let target = site.root.join(&d.name);
        if target.is_dir() {
            clear(&target, &skip)?;
            let _ = fs::remove_dir(&target);
            out.push(target);
        }
    }
    Ok(out)
}

fn extract(archive: &Path, stages: &mut [Stage], sums: &BTreeMap<Vec<u8>, String>) -> Result<()> {
    let bad = |msg: String| damaged(archive, msg);
    let f = File::open(archive).map_err(|e| bad(e.to_string()))?;
    let dec = zstd::stream::read::Decoder::new(f).map_err(|e| bad(e.to_string()))?;
    let mut ar = tar::Archive::new(dec);
    let mut seen = std::collections::BTreeSet::new();
    let mut dirs: Vec<(PathBuf, Attrs)> = Vec::new();
    for e in ar.entries().map_err(|e| bad(e.to_string()))? {
        let mut e = e.map_err(|e| bad(e.to_string()))?;
        let name = e.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&name).into_owned();
        let (i, rel) = locate(stages, &name)
            .ok_or_else(|| bad(format!("{shown}: outside the snapshot's data dirs")))?;
        let h = e.header();
        let num = |r: io::Result<u64>| r.map_err(|x| bad(format!("{shown}: {x}")));
        let mut attrs = Attrs {
            mode: num(h.mode().map(u64::from))? as u32 & 0o7777,
            uid: num(h.uid())? as u32,
            gid: num(h.gid())? as u32,
            mtime: num(h.mtime())? as i64,
            xattrs: vec![],
        };
        let kind = h.entry_type();
        let dev = (
            h.device_major().ok().flatten(),
            h.device_minor().ok().flatten(),
        );
        if let Some(pax) = e.pax_extensions().map_err(|x| bad(x.to_string()))? {
            for x in pax.flatten() {
                if let Some(k) = x.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                    attrs.xattrs.push((k.to_vec(), x.value_bytes().to_vec()));
                }
            }
        }
        let dest = stages[i].temp.join(&rel);
        use tar::EntryType as T;
        match kind {
            T::Regular | T::Continuous | T::GNUSparse => {
                let want = sums
                    .get(&name)
                    .ok_or_else(|| bad(format!("{shown} is not listed in {SUMS}")))?;
                let got = write_file(&dest, &mut e, archive)?;
                if &got != want {
                    return Err(bad(format!(
                        "{shown}: sha256 {got} does not match {SUMS} ({want})"
                    )));
                }
                seen.insert(name);
                finish(&dest, &attrs, false)?;
            }
            T::Directory if rel.as_os_str().is_empty() => stages[i].top = Some(attrs),
            T::Directory => {
                fs::create_dir(&dest).at(&dest)?;
                dirs.push((dest, attrs));
            }
            T::Symlink => {
                let t = e
                    .link_name()
                    .ok()
                    .flatten()
                    .ok_or_else(|| bad(format!("{shown}: symlink without a target")))?;
                std::os::unix::fs::symlink(&*t, &dest).at(&dest)?;
                finish(&dest, &attrs, true)?;
            }
            T::Fifo | T::Char | T::Block => {
                let fmt = match kind {
                    T::Fifo => libc::S_IFIFO,
                    T::Char => libc::S_IFCHR,
                    _ => libc::S_IFBLK,
                };
                let (ma, mi) = (u64::from(dev.0.unwrap_or(0)), u64::from(dev.1.unwrap_or(0)));
                let rdev = ((ma & 0xfff) << 8)
                    | ((ma & !0xfff) << 32)
                    | (mi & 0xff)
                    | ((mi & !0xff) << 12);
                let c = cpath(&dest)?;
                // SAFETY: a valid C string; mknod creates one node.
                if unsafe { libc::mknod(c.as_ptr(), fmt | 0o600, rdev as libc::dev_t) } != 0 {
                    return Err(HookError::io(&dest, io::Error::last_os_error()));
                }
                finish(&dest, &attrs, false)?;
            }
            other => return Err(bad(format!("{shown}: unexpected entry type {other:?}"))),
        }
    }
    if let Some(missing) = sums.keys().find(|k| !seen.contains(*k)) {
        return Err(bad(format!(
            "{} is listed in {SUMS} but missing from the archive",
            String::from_utf8_lossy(missing)
        )));
    }
    // Children first, so creating them does not move a parent's mtime.
    for (d, a) in dirs.iter().rev() {
        finish(d, a, false)?;
    }
    for s in stages.iter() {
        File::open(&s.temp).and_then(|d| d.sync_all()).at(&s.temp)?;
    }
    Ok(())
}

/// Which data dir an entry belongs to, and its path below it (plain names only).
fn locate(stages: &[Stage], name: &[u8]) -> Option<(usize, PathBuf)> {
    let name = name.strip_suffix(b"/").unwrap_or(name);
    for (i, s) in stages.iter().enumerate() {
        let rest = if name == s.name.as_slice() {
            &b""[..]
        } else if let Some(r) = name
            .strip_prefix(s.name.as_slice())
            .and_then(|r| r.strip_prefix(b"/"))
        {
            r
        } else {
            continue;
        };
        let rel = PathBuf::from(OsStr::from_bytes(rest));
        if rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Some((i, rel));
        }
        return None;
    }
    None
}

/// Write a file from the archive, hashing it; runs of 64 KiB of zeros become
/// holes again, so a sparse file does not grow to its full size.
fn write_file(dest: &Path, r: &mut impl Read, archive: &Path) -> Result<String> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(dest)
        .at(dest)?;
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
                Err(e) => return Err(damaged(archive, format!("{}: {e}", dest.display()))),
            }
        }
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        if n == buf.len() && buf.iter().all(|b| *b == 0) {
            f.seek(SeekFrom::Current(n as i64)).at(dest)?;
        } else {
            f.write_all(&buf[..n]).at(dest)?;
        }
        len += n as u64;
    }
    f.set_len(len).at(dest)?;
    Ok(hex::encode(hash.finalize()))
}

fn cpath(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| HookError::invalid(p, "path holds a NUL byte"))
}

/// Owner, mode, xattrs and mtime, never through a symlink.
fn finish(p: &Path, a: &Attrs, symlink: bool) -> Result<()> {
    let m = fs::symlink_metadata(p).at(p)?;
    if (m.uid(), m.gid()) != (a.uid, a.gid) {
        std::os::unix::fs::lchown(p, Some(a.uid), Some(a.gid)).at(p)?;
    }
    if !symlink {
        fs::set_permissions(p, fs::Permissions::from_mode(a.mode)).at(p)?;
    }
    for (k, v) in &a.xattrs {
        xattr::set(p, k, v);
    }
    set_mtime(p, a.mtime)
}

fn set_mtime(p: &Path, mtime: i64) -> Result<()> {
    let c = cpath(p)?;
    let t = libc::timespec {
        tv_sec: mtime as libc::time_t,
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: a valid C string and two timespecs.
    if unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    } != 0
    {
        return Err(HookError::io(p, io::Error::last_os_error()));
    }
    Ok(())
}

/// Replace the target's contents with the verified temp dir's.
fn swap(s: &Stage, skip: &Skip) -> Result<()> {
    if !s.target.exists() {
        fs::create_dir(&s.target).at(&s.target)?;
    }
    clear(&s.target, skip)?;
    move_into(&s.temp, &s.target)?;
    fs::remove_dir(&s.temp).at(&s.temp)?;
    if let Some(a) = &s.top {
        finish(&s.target, a, false)?;
    }
    Ok(())
}

/// Empty a dir except the state dir (and the dirs on the way to it).
fn clear(dir: &Path, skip: &Skip) -> Result<()> {
    let dir = fs::canonicalize(dir).at(dir)?;
    for e in fs::read_dir(&dir).at(&dir)? {
        let e = e.at(&dir)?;
        let p = e.path();
        let ft = e.file_type().at(&p)?;
        let m = fs::symlink_metadata(&p).at(&p)?;
        if skip.is(&p, &m) {
            continue;
        }
        if ft.is_dir() && skip.holds(&p) {
            clear(&p, skip)?;
        } else if ft.is_dir() {
            fs::remove_dir_all(&p).at(&p)?;
        } else {
            fs::remove_file(&p).at(&p)?;
        }
    }
    Ok(())
}

/// Rename every entry of `from` into `to`; a dir kept by `clear` (on the way
/// to the state dir) is merged and then takes the snapshot's owner and mode.
fn move_into(from: &Path, to: &Path) -> Result<()> {
    for e in fs::read_dir(from).at(from)? {
        let e = e.at(from)?;
        let src = e.path();
        let dst = to.join(e.file_name());
        match fs::symlink_metadata(&dst) {
            Err(err) if err.kind() == ErrorKind::NotFound => fs::rename(&src, &dst).at(&dst)?,
            Ok(m) if m.is_dir() && e.file_type().at(&src)?.is_dir() => {
                move_into(&src, &dst)?;
                let sm = fs::symlink_metadata(&src).at(&src)?;
                let a = Attrs {
                    mode: sm.mode() & 0o7777,
                    uid: sm.uid(),
                    gid: sm.gid(),
                    mtime: sm.mtime(),
                    xattrs: xattr::list(&src),
                };
                fs::remove_dir(&src).at(&src)?;
                finish(&dst, &a, false)?;
            }
            Ok(_) => {
                return Err(HookError::invalid(
                    &dst,
                    "in the way of the restore (it holds the state dir)",
                ))
            }
            Err(err) => return Err(HookError::io(&dst, err)),
        }
    }
    Ok(())
}
