//! Reading packages back, ours and anyone else's (dpkg-deb's, nfpm's…):
//! metadata, file list with modes and owners, and maintainer scripts.

mod deb;
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
    if head.len() >= 262 || compress::sniff(&head) != crate::plan::Compression::None {
        return portable::tar(path, &mut r);
    }
    Err(Error::package(
        path,
        "not a package packwright can read (.deb, .rpm, .tar.gz, .zip)",
    ))
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
