//! The state an older packwright kept in `/var/lib/<pkg>/packwright/`, moved
//! into the root-only state dir once. That old dir sits inside a directory
//! the service user may own, so it is read as hostile: through a descriptor
//! opened without following symlinks, and only regular files owned by root
//! with one link, within a size bound, whose content checks out. Snapshots
//! and logs stay where they are (nothing proves root wrote them).

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::contract::state;
use super::error::Result;
use super::fsio;
use super::site::{escape, Site};
use super::sys;

/// Written in the state dir once the old dir was looked at: what was taken
/// over and what was refused.
pub const MARKER: &str = "migrated-from-old-layout";

/// What a file of the old dir may hold.
#[derive(Clone, Copy)]
enum Kind {
    Version,
    Text,
    Json,
}

/// (name, size bound, kind) of every file taken over.
const FILES: &[(&str, u64, Kind)] = &[
    (state::VERSION, 64, Kind::Version),
    (state::BLOCKED, 64 * 1024, Kind::Text),
    (state::STOPPED, 4096, Kind::Text),
    (state::MIGRATIONS, 1 << 20, Kind::Json),
    (state::CONFLICTS, 1 << 20, Kind::Json),
];

/// Pristine copies of the configs the description names, at most this big.
const PRISTINE_MAX: u64 = 8 << 20;

/// Whether `v` looks like a version packwright writes (upstream versions).
pub fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+~_-".contains(&b))
}

/// Open `name` below the directory `dir` without following a symlink.
fn open_at(dir: Option<&File>, name: &Path, flags: i32) -> std::io::Result<File> {
    let c = CString::new(name.as_os_str().as_bytes())?;
    let flags = flags | sys::O_NOFOLLOW | sys::O_CLOEXEC | sys::O_NONBLOCK;
    let fd = sys::openat(dir.map(|d| d.as_fd()), &c, flags, 0)?;
    Ok(File::from(fd))
}

/// Why an entry of the old dir could not be opened.
fn why(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(sys::ELOOP) => "a symlink".to_string(),
        Some(sys::ENOTDIR) => "not a directory".to_string(),
        _ => e.to_string(),
    }
}

/// The content of `name` in `dir` when it passes the checks (None when
/// absent), else why not.
fn take(
    dir: &File,
    name: &str,
    max: u64,
    kind: Kind,
) -> std::result::Result<Option<Vec<u8>>, String> {
    let f = match open_at(Some(dir), Path::new(name), sys::O_RDONLY) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(why(&e)),
    };
    let m = f.metadata().map_err(|e| e.to_string())?;
    if !m.file_type().is_file() {
        return Err("not a regular file".into());
    }
    if m.nlink() != 1 {
        return Err(format!("{} hard links", m.nlink()));
    }
    if m.uid() != 0 {
        return Err(format!("owned by uid {}, not root", m.uid()));
    }
    if m.len() > max {
        return Err(format!("{} bytes, more than {max}", m.len()));
    }
    let mut data = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    if data.len() as u64 > max {
        return Err(format!("more than {max} bytes"));
    }
    let text = std::str::from_utf8(&data).map_err(|_| "not UTF-8 text".to_string());
    match kind {
        Kind::Text => {
            text?;
        }
        Kind::Version => {
            if !valid_version(text?.trim_end_matches('\n')) {
                return Err("not a version".into());
            }
        }
        Kind::Json => {
            serde_json::from_str::<serde_json::Value>(text?).map_err(|_| "not JSON".to_string())?;
        }
    }
    Ok(Some(data))
}

/// The version packwright recorded for `pkg` (what the generated scripts'
/// gate compares with): `<state>/version` when the state dir is safe, else
/// the old layout's `version`, read only from a regular root-owned file with
/// one link (never through a symlink, never blocking on a fifo). `Err` says
/// why the old layout's file was not trusted; `Ok(None)`: nothing recorded.
pub fn recorded(root: &Path, pkg: &str) -> std::result::Result<Option<String>, String> {
    let state = super::statedir::path(root, pkg);
    let text = |data: Vec<u8>| String::from_utf8_lossy(&data).trim_end().to_string();
    if super::statedir::check(&state, root).is_ok() {
        if let Ok(dir) = open_at(None, &state, sys::O_RDONLY | sys::O_DIRECTORY) {
            if let Ok(Some(v)) = take(&dir, "version", 64, Kind::Version) {
                return Ok(Some(text(v)));
            }
        }
    }
    let old = super::statedir::legacy(root, pkg);
    let dir = match open_at(None, &old, sys::O_RDONLY | sys::O_DIRECTORY) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{} ({})", old.display(), why(&e))),
    };
    take(&dir, "version", 64, Kind::Version)
        .map(|v| v.map(text))
        .map_err(|w| format!("{}/version ({w})", old.display()))
}

/// Move the old layout's state into `site.state` (which exists and is
/// locked), once; says on stderr what was taken over and what was refused.
pub fn migrate(site: &Site) -> Result<()> {
    if site.state_arg || site.base.is_some() {
        return Ok(());
    }
    let old = super::statedir::legacy(&site.root, &site.pkg);
    let marker = site.state.join(MARKER);
    if std::fs::symlink_metadata(&old).is_err() || marker.exists() {
        return Ok(());
    }
    let mut taken = Vec::new();
    let mut refused = Vec::new();
    match open_at(None, &old, sys::O_RDONLY | sys::O_DIRECTORY) {
        Err(e) => refused.push(format!("{} ({})", old.display(), why(&e))),
        Ok(dir) => copy_all(site, &dir, &mut taken, &mut refused)?,
    }
    let mut note = format!(
        "{}: packwright's state moved from {} to {}\n",
        site.pkg,
        old.display(),
        site.state.display()
    );
    if !taken.is_empty() {
        note.push_str(&format!("  taken over: {}\n", taken.join(", ")));
    }
    for r in &refused {
        note.push_str(&format!("  refused (not trusted, left in place): {r}\n"));
    }
    note.push_str(&format!(
        "  left in place: any snapshots and logs in {}: root can no longer trust them; remove that directory when you no longer need them\n",
        old.display()
    ));
    eprint!("{note}");
    fsio::write_atomic(&marker, note.as_bytes(), super::package::PRIVATE)
}

fn copy_all(
    site: &Site,
    dir: &File,
    taken: &mut Vec<String>,
    refused: &mut Vec<String>,
) -> Result<()> {
    let mut put = |rel: String, got: std::result::Result<Option<Vec<u8>>, String>| -> Result<()> {
        match got {
            Ok(None) => {}
            Ok(Some(data)) => {
                let to = site.state.join(&rel);
                if std::fs::symlink_metadata(&to).is_err() {
                    fsio::write_atomic(&to, &data, super::package::PRIVATE)?;
                }
                taken.push(rel);
            }
            Err(why) => refused.push(format!("{rel} ({why})")),
        }
        Ok(())
    };
    for (name, max, kind) in FILES {
        put(name.to_string(), take(dir, name, *max, *kind))?;
    }
    let pristine = match open_at(
        Some(dir),
        Path::new(state::PRISTINE),
        sys::O_RDONLY | sys::O_DIRECTORY,
    ) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return put(state::PRISTINE.into(), Err(why(&e))),
    };
    super::statedir::make_dir(&site.state.join(state::PRISTINE), 0o700)?;
    // Only the names the installed description gives, never the listing.
    for c in &site.desc.configs {
        let name = escape(&c.live);
        put(
            format!("pristine/{name}"),
            take(&pristine, &name, PRISTINE_MAX, Kind::Text),
        )?;
    }
    Ok(())
}
