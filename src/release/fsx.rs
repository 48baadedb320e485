//! Atomic file writes for the repositories: bytes go to a temporary name in
//! the same directory and are renamed into place, so a client reading the
//! repository during a publish sees the old file or the new one, never half.

use crate::error::{Error, IoContext, Result};
use std::io::Write;
use std::path::Path;

pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).at(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".packwright-tmp")
        .tempfile_in(dir)
        .at(dir)?;
    tmp.write_all(bytes).at(tmp.path())?;
    if let Some(t) = later_than_old(path, bytes) {
        tmp.as_file().set_modified(t).at(tmp.path())?;
    }
    tmp.as_file().sync_all().at(tmp.path())?;
    set_mode(tmp.path(), 0o644)?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// pacman's `-Sy`, apt's and dnf's HTTP caches and mirrors' rsync decide
/// "unchanged" from whole-second mtimes (If-Modified-Since, Last-Modified).
/// An index rewritten in the same second as the one it replaces would look
/// unchanged, so new bytes get an mtime a second past the old file's when
/// the clock has not moved past it. None: now is late enough.
fn later_than_old(path: &Path, bytes: &[u8]) -> Option<std::time::SystemTime> {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let meta = std::fs::symlink_metadata(path).ok()?;
    let old = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    if meta.len() == bytes.len() as u64 && std::fs::read(path).ok()? == bytes {
        return None;
    }
    let next = Duration::from_secs(old.as_secs() + 1);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    (now.as_secs() < next.as_secs()).then_some(UNIX_EPOCH + next)
}

/// Copy `from` to `to` atomically (packages into a pool).
pub fn copy(from: &Path, to: &Path) -> Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).at(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(".pool.")
        .suffix(".packwright-tmp")
        .tempfile_in(dir)
        .at(dir)?;
    std::fs::copy(from, tmp.path()).at(from)?;
    tmp.as_file().sync_all().at(tmp.path())?;
    set_mode(tmp.path(), 0o644)?;
    tmp.persist(to).map_err(|e| Error::io(to, e.error))?;
    Ok(())
}

/// A relative symlink `link` → `target`, replaced atomically.
pub fn symlink(target: &str, link: &Path) -> Result<()> {
    let dir = link.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.packwright-link",
        link.file_name().unwrap_or_default().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).at(&tmp)?;
    std::fs::rename(&tmp, link).at(link)
}

pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).at(path)
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(data))
}

pub fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    crate::archive::compress::gzip_best(data).map_err(|e| Error::io("gzip", e))
}

pub fn xz(data: &[u8]) -> Result<Vec<u8>> {
    let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 6);
    enc.write_all(data).map_err(|e| Error::io("xz", e))?;
    enc.finish().map_err(|e| Error::io("xz", e))
}

/// Standard base64 with padding (pacman's %PGPSIG%, apk's `Q1` checksums).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                o.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

/// A tar member list as `(path, bytes)` (dirs end in `/`), owned by root,
/// at `mtime`; with `end`, closed by the end-of-archive blocks.
pub fn tar(members: &[(String, Vec<u8>)], mtime: u64, end: bool) -> Result<Vec<u8>> {
    use crate::archive::tar::{Item, ItemKind, TarOut};
    let mut t = TarOut::new(Vec::new());
    for (path, data) in members {
        let kind = if path.ends_with('/') {
            ItemKind::Dir
        } else {
            ItemKind::File {
                size: data.len() as u64,
                data: &mut &data[..],
                packed: None,
            }
        };
        let mode = if path.ends_with('/') { 0o755 } else { 0o644 };
        let item = Item {
            path: path.trim_end_matches('/'),
            kind,
            mode,
            owner: "root",
            group: "root",
            mtime,
        };
        t.append(item, &[]).map_err(|e| Error::io(path, e))?;
    }
    if end {
        t.finish().map_err(|e| Error::io("tar", e))
    } else {
        Ok(t.into_inner())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn new_bytes_in_the_same_second_still_look_newer() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("imsrv.db.tar.gz");
        let secs = |f: &std::path::Path| {
            let m = std::fs::metadata(f).unwrap().modified().unwrap();
            m.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
        };
        super::write(&f, b"one").unwrap();
        let first = secs(&f);
        super::write(&f, b"two").unwrap();
        let second = secs(&f);
        assert!(second > first, "{first} then {second}");
        super::write(&f, b"three").unwrap();
        assert!(secs(&f) > second);
        assert_eq!(std::fs::read(&f).unwrap(), b"three");
    }
}
