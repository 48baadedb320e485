//! Restore a snapshot. What may be restored comes from the installed
//! package's description, never from the snapshot: its `meta.json` only says
//! which of the package's data dirs and configs existed then. Everything is
//! checked before anything changes: each config copy is read, each data dir
//! is extracted into a temp dir beside it (`extract.rs`) and every file
//! checked against SHA256SUMS; then the data dirs are swapped in and the
//! configs written. A damaged snapshot is refused with nothing changed.

use serde::Serialize;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, ErrorKind};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use super::error::{At, HookError, Result};
use super::extract::{Attrs, Temp};
use super::fsio;
use super::migrate;
use super::pax;
use super::site::{escape, Site};
use super::snapshot::{self, xattr, Skip, Snapshot, DATA, SUMS};
use super::sys;

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
    // The configs are read (and checked) before any data dir changes.
    let configs = plan_configs(site, &snap)?;
    let data_dirs = restore_data(site, &snap)?;
    let configs = write_configs(&configs).map_err(|e| partial(e, &snap.dir, &data_dirs))?;
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

/// A failure after the data dirs were swapped in says so.
fn partial(e: HookError, snap: &Path, done: &[PathBuf]) -> HookError {
    if done.is_empty() {
        return e;
    }
    let dirs: Vec<String> = done.iter().map(|d| d.display().to_string()).collect();
    HookError::Io {
        path: snap.into(),
        err: io::Error::other(format!(
            "restored the data dirs {} but not the configs: {e}",
            dirs.join(", ")
        )),
    }
}

/// One config to put back: its live path and the copy's bytes and mode
/// (`None`: it did not exist then and is removed).
pub struct ConfigPlan {
    live: PathBuf,
    data: Option<(Vec<u8>, fsio::Meta)>,
}

/// Every config of the package the snapshot has, its copy read now. A
/// config the snapshot names that the package does not have is refused.
pub fn plan_configs(site: &Site, snap: &Snapshot) -> Result<Vec<ConfigPlan>> {
    let meta_path = snap.dir.join(snapshot::META);
    let mut out = Vec::new();
    for c in &snap.meta.configs {
        if !site.desc.configs.iter().any(|d| d.live == c.live) {
            return Err(damaged(
                &meta_path,
                format!("{} is not a config of the installed {}", c.live, site.pkg),
            ));
        }
        let live = site.path(&c.live);
        let data = match &c.copy {
            Some(_) => {
                // The copy's name is ours to compute, not the snapshot's to give.
                let copy = snap.dir.join("config").join(escape(&c.live));
                let (bytes, _) = fsio::read_bytes(&copy)?
                    .ok_or_else(|| damaged(&copy, "the copy of this config is missing"))?;
                let meta = fsio::Meta {
                    mode: c.mode & 0o777, // never setuid/setgid from a snapshot
                    uid: Some(c.uid),
                    gid: Some(c.gid),
                };
                Some((bytes, meta))
            }
            None => None,
        };
        out.push(ConfigPlan { live, data });
    }
    Ok(out)
}

fn write_configs(plans: &[ConfigPlan]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in plans {
        match &p.data {
            Some((data, meta)) => {
                if let Some(dir) = p.live.parent() {
                    fsio::ensure_dir(dir, 0o755)?;
                }
                fsio::write_atomic(&p.live, data, *meta)?;
            }
            None => fsio::remove(&p.live)?,
        }
        out.push(p.live.clone());
    }
    Ok(out)
}

/// The live configs back from `config/`, byte-identical with mode and owner;
/// a config that did not exist then is removed.
pub fn restore_configs(site: &Site, snap: &Snapshot) -> Result<Vec<PathBuf>> {
    write_configs(&plan_configs(site, snap)?)
}

fn damaged(path: &Path, msg: impl Into<String>) -> HookError {
    HookError::SnapshotDamaged {
        path: path.into(),
        msg: msg.into(),
    }
}

/// An archive error in words: the hook's zstd is built without its error
/// strings, so its "Error strings stripped" must not reach anyone.
fn archive_err(e: &io::Error) -> String {
    let s = e.to_string();
    let zstd = [
        "Error strings stripped",
        "frame",
        "orrupt",
        "checksum",
        "Unknown",
        "size",
        "buffer",
    ];
    if e.kind() == ErrorKind::Other && zstd.iter().any(|w| s.contains(w)) {
        format!("{DATA} does not decompress: it is damaged or truncated")
    } else if e.kind() == ErrorKind::UnexpectedEof {
        format!("{DATA} ends too early: it is truncated")
    } else {
        format!("{DATA} is not a readable tar archive ({s})")
    }
}

struct Stage {
    target: PathBuf,
    temp: Temp,
    name: Vec<u8>,
    top: Option<Attrs>,
    /// packwright's state dirs below the data dir: left as they are.
    keep: Vec<PathBuf>,
}

/// The data dirs back as they were in the snapshot. Which dirs, and their
/// names in the archive, come from the package description.
pub fn restore_data(site: &Site, snap: &Snapshot) -> Result<Vec<PathBuf>> {
    let meta_path = snap.dir.join(snapshot::META);
    let mut wanted: Vec<(PathBuf, String, bool)> = Vec::new();
    for d in &snap.meta.data_dirs {
        let ours = site
            .desc
            .upgrade
            .iter()
            .flat_map(|u| &u.data_dirs)
            .any(|p| *p == d.path);
        if !ours {
            return Err(damaged(
                &meta_path,
                format!("{} is not a data dir of the installed {}", d.path, site.pkg),
            ));
        }
        let target = site.path(&d.path);
        let name = snapshot::archive_name(site, &target);
        if !plain_name(&name) {
            return Err(HookError::invalid(
                &target,
                "a data dir must be a plain path below the root",
            ));
        }
        wanted.push((target, name, d.present));
    }
    if wanted.is_empty() {
        return Ok(vec![]);
    }
    let sums_path = snap.dir.join(SUMS);
    let text = fs::read(&sums_path).map_err(|e| damaged(&sums_path, e.to_string()))?;
    let sums: BTreeMap<Vec<u8>, String> = snapshot::parse_sums(&text)
        .ok_or_else(|| damaged(&sums_path, "a line is not `<sha256>  <name>`"))?
        .into_iter()
        .collect();
    let skip = Skip::new(site);
    let mut stages = Vec::new();
    for (target, name, _) in wanted.iter().filter(|w| w.2) {
        fsio::ensure_dir(target.parent().unwrap_or(Path::new("/")), 0o755)?;
        let temp = Temp::new(target);
        let temp = match temp {
            Ok(t) => t,
            Err(e) => {
                stages.into_iter().for_each(|s: Stage| s.temp.discard());
                return Err(e);
            }
        };
        stages.push(Stage {
            target: target.clone(),
            temp,
            name: name.as_bytes().to_vec(),
            top: None,
            keep: skip.below(target),
        });
    }
    if let Err(e) = extract(&snap.dir.join(DATA), &mut stages, &sums) {
        stages.into_iter().for_each(|s| s.temp.discard());
        return Err(e);
    }
    let mut out = Vec::new();
    for s in stages {
        let target = s.target.clone();
        swap(s, &skip)?;
        out.push(target);
    }
    // A data dir that did not exist then is emptied (the state dir stays).
    for (target, _, _) in wanted.iter().filter(|w| !w.2) {
        if target.is_dir() {
            clear(target, &skip)?;
            let _ = fs::remove_dir(target);
            out.push(target.clone());
        }
    }
    Ok(out)
}

fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && Path::new(name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Every entry of the archive into its data dir's temp tree, each regular
/// file checked against SHA256SUMS, and every file SHA256SUMS lists found.
fn extract(archive: &Path, stages: &mut [Stage], sums: &BTreeMap<Vec<u8>, String>) -> Result<()> {
    let bad = |msg: String| damaged(archive, msg);
    let f = fs::File::open(archive).map_err(|e| bad(e.to_string()))?;
    let dec = zstd::stream::read::Decoder::new(f).map_err(|e| bad(archive_err(&e)))?;
    let mut ar = tar::Archive::new(dec);
    let mut seen = std::collections::BTreeSet::new();
    for e in ar.entries().map_err(|e| bad(archive_err(&e)))? {
        let mut e = e.map_err(|e| bad(archive_err(&e)))?;
        let name = e.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&name).into_owned();
        let (i, rel) = locate(stages, &name)
            .ok_or_else(|| bad(format!("{shown}: outside the package's data dirs")))?;
        if stages[i].keep.iter().any(|k| rel.starts_with(k)) {
            // An older snapshot may hold the old layout's state dir: it is
            // neither restored nor checked, and stays as it is on disk.
            seen.insert(name);
            continue;
        }
        let attrs = entry_attrs(&mut e, archive, &shown)?;
        let entry = Entry {
            rel: &rel,
            shown: &shown,
            archive,
        };
        if place(&mut stages[i], &mut e, &entry, attrs, sums.get(&name))? {
            seen.insert(name);
        }
    }
    if let Some(missing) = sums.keys().find(|k| !seen.contains(*k)) {
        return Err(bad(format!(
            "{} is listed in {SUMS} but missing from the archive",
            String::from_utf8_lossy(missing)
        )));
    }
    for s in stages.iter_mut() {
        let top = s.top.clone();
        s.temp.finish(top.as_ref())?;
    }
    Ok(())
}

/// Where an archive entry goes and how errors name it.
struct Entry<'a> {
    /// Below its data dir.
    rel: &'a Path,
    /// Its name in the archive.
    shown: &'a str,
    archive: &'a Path,
}

/// Owner, mode, mtime and `SCHILY.xattr.*` records of one entry.
fn entry_attrs<R: io::Read>(e: &mut tar::Entry<R>, archive: &Path, shown: &str) -> Result<Attrs> {
    let bad = |msg: String| damaged(archive, msg);
    let h = e.header();
    let num = |r: io::Result<u64>| r.map_err(|x| bad(format!("{shown}: {x}")));
    let mut attrs = Attrs {
        mode: num(h.mode().map(u64::from))? as u32 & 0o7777,
        uid: num(h.uid())? as u32,
        gid: num(h.gid())? as u32,
        mtime: num(h.mtime())? as i64,
        xattrs: vec![],
    };
    if let Some(pax) = e.pax_extensions().map_err(|x| bad(archive_err(&x)))? {
        for x in pax.flatten() {
            if let Some(k) = x.key_bytes().strip_prefix(pax::XATTR.as_bytes()) {
                attrs.xattrs.push((k.to_vec(), x.value_bytes().to_vec()));
            }
        }
    }
    Ok(attrs)
}

/// One entry into the stage's temp tree; `true` for a regular file, whose
/// sha256 matched `want` (its SHA256SUMS line).
fn place<R: io::Read>(
    st: &mut Stage,
    e: &mut tar::Entry<R>,
    at: &Entry,
    attrs: Attrs,
    want: Option<&String>,
) -> Result<bool> {
    let (rel, shown, archive) = (at.rel, at.shown, at.archive);
    let bad = |msg: String| damaged(archive, msg);
    use tar::EntryType as T;
    let kind = e.header().entry_type();
    match kind {
        T::Regular | T::Continuous | T::GNUSparse => {
            let want = want.ok_or_else(|| bad(format!("{shown} is not listed in {SUMS}")))?;
            let got = st.temp.file(rel, e, &attrs, archive)?;
            if &got != want {
                return Err(bad(format!(
                    "{shown}: sha256 {got} does not match {SUMS} ({want})"
                )));
            }
            return Ok(true);
        }
        T::Directory if rel.as_os_str().is_empty() => st.top = Some(attrs),
        T::Directory => st.temp.dir(rel, attrs, archive)?,
        T::Symlink => {
            let t = e
                .link_name_bytes()
                .ok_or_else(|| bad(format!("{shown}: symlink without a target")))?;
            st.temp.node(rel, 0, &t, 0, &attrs, archive)?;
        }
        T::Fifo | T::Char | T::Block => {
            let fmt = match kind {
                T::Fifo => sys::S_IFIFO,
                T::Char => sys::S_IFCHR,
                _ => sys::S_IFBLK,
            };
            st.temp
                .node(rel, fmt, b"", rdev(e.header()), &attrs, archive)?;
        }
        other => return Err(bad(format!("{shown}: unexpected entry type {other:?}"))),
    }
    Ok(false)
}

/// A device entry's major and minor as Linux's `dev_t`.
fn rdev(h: &tar::Header) -> u64 {
    let ma = u64::from(h.device_major().ok().flatten().unwrap_or(0));
    let mi = u64::from(h.device_minor().ok().flatten().unwrap_or(0));
    ((ma & 0xfff) << 8) | ((ma & !0xfff) << 32) | (mi & 0xff) | ((mi & !0xff) << 12)
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

/// The verified tree in place of the data dir: one atomic exchange, unless
/// the state dir (given with `--state`) lives inside the data dir (it must
/// stay where it is): then the data dir's other contents are replaced entry
/// by entry.
fn swap(s: Stage, skip: &Skip) -> Result<()> {
    let inside = fs::canonicalize(&s.target).is_ok_and(|t| skip.holds_state(&t));
    // The old layout's state dir, a direct entry of the data dir, rides
    // along into the new tree: the swap stays one atomic exchange.
    let direct = s.keep.iter().all(|k| k.components().count() == 1);
    if !inside && direct {
        let temp = s.temp.path();
        for k in &s.keep {
            match fs::rename(s.target.join(k), temp.join(k)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(HookError::io(s.target.join(k), e)),
            }
        }
        return s.temp.swap_into(&s.target);
    }
    let temp = s.temp.path();
    // Read before the moves below change the temp dir's mtime.
    let top = fs::symlink_metadata(&temp).at(&temp)?;
    if !s.target.exists() {
        fs::create_dir(&s.target).at(&s.target)?;
    }
    clear(&s.target, skip)?;
    move_into(&temp, &s.target)?;
    fs::remove_dir(&temp).at(&temp)?;
    like(&s.target, &top)
}

/// Owner, mode and mtime of `m` on the dir `p` (the fallback's merged dirs).
fn like(p: &Path, m: &fs::Metadata) -> Result<()> {
    std::os::unix::fs::lchown(p, Some(m.uid()), Some(m.gid())).at(p)?;
    fs::set_permissions(p, fs::Permissions::from_mode(m.mode() & 0o7777)).at(p)?;
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(m.mtime().max(0) as u64);
    fs::File::open(p).and_then(|f| f.set_modified(t)).at(p)
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
                let sm = fs::symlink_metadata(&src).at(&src)?;
                move_into(&src, &dst)?;
                for (k, v) in xattr::list(&src) {
                    xattr::set(&dst, &k, &v);
                }
                fs::remove_dir(&src).at(&src)?;
                like(&dst, &sm)?;
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
