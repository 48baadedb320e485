//! Reading packages back, ours and anyone else's (dpkg-deb's, nfpm's…):
//! metadata, file list with modes and owners, and maintainer scripts.

mod apk;
mod deb;
mod pacman;
mod portable;
mod rpm;

use crate::archive::compress;
use crate::error::{Error, IoContext, Result};
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

#[derive(Debug, Serialize)]
pub struct Inspection {
    pub format: &'static str,
    /// Metadata fields in the package's own order and spelling.
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub files: Vec<FileInfo>,
    pub scripts: Vec<ScriptInfo>,
    /// What was not shown whole (a member cut at `MEMBER_LIMIT`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The most `inspect` reads of one control member or script: enough for any
/// real one, and a hostile package cannot make it hold more.
pub const MEMBER_LIMIT: usize = 1 << 20;

/// Up to `MEMBER_LIMIT` bytes of `name` as text; a longer member is cut and
/// the cut recorded in `warnings`.
pub(crate) fn read_bounded(data: &mut dyn Read, name: &str, warnings: &mut Vec<String>) -> String {
    let mut buf = Vec::new();
    let read = data.take(MEMBER_LIMIT as u64 + 1).read_to_end(&mut buf);
    if let Err(e) = read {
        warnings.push(format!("`{name}` could not be read whole: {e}"));
    }
    if buf.len() > MEMBER_LIMIT {
        buf.truncate(MEMBER_LIMIT);
        warnings.push(format!(
            "`{name}` is longer than {} KiB; only its first {} KiB are shown",
            MEMBER_LIMIT / 1024,
            MEMBER_LIMIT / 1024
        ));
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// `text` cut to `MEMBER_LIMIT` bytes (at a character boundary), recording the cut.
pub(crate) fn bound_text(mut text: String, name: &str, warnings: &mut Vec<String>) -> String {
    if text.len() > MEMBER_LIMIT {
        let mut end = MEMBER_LIMIT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        warnings.push(format!(
            "`{name}` is longer than {} KiB; only its first {} KiB are shown",
            MEMBER_LIMIT / 1024,
            MEMBER_LIMIT / 1024
        ));
    }
    text
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct FileInfo {
    pub path: String,
    pub kind: &'static str,
    /// Octal permission bits, e.g. "0755".
    pub mode: String,
    pub owner: String,
    pub group: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ScriptInfo {
    pub name: String,
    pub text: String,
}

pub fn inspect(path: &Path) -> Result<Inspection> {
    let file = std::fs::File::open(path).at(path)?;
    let mut r = BufReader::new(file);
    let head = r.fill_buf().at(path)?.to_vec();
    if head.starts_with(b"!<arch>\n") {
        return deb::inspect(path, &mut r);
    }
    if head.starts_with(&[0xed, 0xab, 0xee, 0xdb]) {
        return rpm::inspect(path, &mut r);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return portable::zip(path);
    }
    if compress::sniff(&head) == crate::archive::Compression::Gzip && apk_first_entry(path)? {
        return apk::inspect(path, &mut r);
    }
    if head.len() >= 262 || compress::sniff(&head) != crate::archive::Compression::None {
        if pacman::sniff(path) {
            return pacman::inspect(path, &mut r);
        }
        return portable::tar(path, &mut r);
    }
    Err(Error::package(
        path,
        "not a package packwright can read (.deb, .rpm, .pkg.tar.zst, .apk, .tar.gz, .zip)",
    ))
}

/// apk packages are gzip like .tar.gz; theirs is told by the first tar
/// entry, a signature (`.SIGN.…`), or `.PKGINFO` in a first gzip member
/// that more members follow (an old gzip pacman package also starts with
/// `.PKGINFO`, but in one member).
fn apk_first_entry(path: &Path) -> Result<bool> {
    let file = std::fs::File::open(path).at(path)?;
    let mut header = [0u8; 512];
    let mut gz = flate2::bufread::GzDecoder::new(BufReader::new(file));
    if gz.read_exact(&mut header).is_err() {
        return Ok(false);
    }
    let name = &header[..100];
    let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(100)];
    if name.starts_with(b".SIGN.") {
        return Ok(true);
    }
    if name != b".PKGINFO" || std::io::copy(&mut gz, &mut std::io::sink()).is_err() {
        return Ok(false);
    }
    Ok(!gz.into_inner().fill_buf().at(path)?.is_empty())
}

/// List a (possibly compressed) tar stream. `strip` drops a leading "./".
pub(crate) fn list_tar(
    path: &Path,
    r: &mut dyn Read,
    mut visit: impl FnMut(&str, &mut dyn Read) -> Result<()>,
) -> Result<Vec<FileInfo>> {
    let bad = |e: std::io::Error| Error::package(path, format!("bad tar stream: {e}"));
    let dec = compress::decoder(r).map_err(bad)?;
    let mut ar = tar::Archive::new(dec);
    let mut out = Vec::new();
    for entry in ar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let h = entry.header();
        let raw = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let kind = match h.entry_type() {
            tar::EntryType::Directory => "dir",
            tar::EntryType::Symlink => "symlink",
            tar::EntryType::Link => "hardlink",
            tar::EntryType::Regular | tar::EntryType::Continuous => "file",
            _ => "other",
        };
        let info = FileInfo {
            path: raw
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string(),
            kind,
            mode: format!("{:04o}", h.mode().unwrap_or(0) & 0o7777),
            owner: h
                .username()
                .ok()
                .flatten()
                .map(str::to_string)
                .unwrap_or_else(|| h.uid().unwrap_or(0).to_string()),
            group: h
                .groupname()
                .ok()
                .flatten()
                .map(str::to_string)
                .unwrap_or_else(|| h.gid().unwrap_or(0).to_string()),
            size: h.size().unwrap_or(0),
            link: entry
                .link_name()
                .ok()
                .flatten()
                .map(|l| l.to_string_lossy().into_owned()),
        };
        visit(&info.path, &mut entry)?;
        if !info.path.is_empty() {
            out.push(info);
        }
    }
    Ok(out)
}

/// pacman's and apk's `.PKGINFO`: `key = value` lines, `#` comments. Keys in
/// `lists`, and any key given more than once (`depend`), become arrays.
pub(crate) fn parse_pkginfo(
    text: &str,
    lists: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let mut out = serde_json::Map::new();
    for line in text.lines() {
        let Some((k, v)) = line.split_once(" = ").filter(|_| !line.starts_with('#')) else {
            continue;
        };
        let v = Value::String(v.to_string());
        match out.get_mut(k) {
            None if lists.contains(&k) => {
                out.insert(k.to_string(), Value::Array(vec![v]));
            }
            None => {
                out.insert(k.to_string(), v);
            }
            Some(Value::Array(a)) => a.push(v),
            Some(old) => *old = Value::Array(vec![old.take(), v]),
        }
    }
    out
}
