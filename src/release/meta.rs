//! What the repository indexes need to know about one package file: its
//! identity as its manager sees it, its size and digests, and the fields
//! `inspect` reads back (the same reader `packwright inspect` uses).

use crate::error::{Error, IoContext, Result};
use crate::format::Format;
use crate::inspect::{self, Inspection};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

pub struct Pkg {
    pub path: PathBuf,
    pub file: String,
    pub format: Format,
    pub name: String,
    /// The manager's full version: `3.4.0-1` (deb, rpm, pacman), `3.4.0-r1` (apk).
    pub version: String,
    /// The upstream part, for retention: `3.4.0`.
    pub upstream: String,
    /// The manager's architecture name.
    pub arch: String,
    pub size: u64,
    pub sha256: String,
    pub sha1: String,
    pub md5: String,
    pub sha512: String,
    pub info: Inspection,
}

/// The repository format a file name belongs to, if any.
pub fn format_of(file: &str) -> Option<Format> {
    if file.ends_with(".deb") {
        Some(Format::Deb)
    } else if file.ends_with(".rpm") && !file.ends_with(".src.rpm") {
        Some(Format::Rpm)
    } else if file.ends_with(".apk") {
        Some(Format::Apk)
    } else if file.contains(".pkg.tar") && !file.ends_with(".sig") {
        Some(Format::Pacman)
    } else {
        None
    }
}

/// Size, SHA-256, SHA-1 and MD5 of a file, read once.
pub fn digests(path: &Path) -> Result<(u64, String, String, String)> {
    digests5(path).map(|(n, a, b, c, _)| (n, a, b, c))
}

/// Also SHA-512 (apt's Packages carries it, as apt-ftparchive writes it).
pub fn digests5(path: &Path) -> Result<(u64, String, String, String, String)> {
    let mut f = std::fs::File::open(path).at(path)?;
    let (mut a, mut b, mut c) = (Sha256::new(), Sha1::new(), Md5::new());
    let mut d = sha2::Sha512::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).at(path)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        a.update(&buf[..n]);
        b.update(&buf[..n]);
        c.update(&buf[..n]);
        d.update(&buf[..n]);
    }
    Ok((
        size,
        hex::encode(a.finalize()),
        hex::encode(b.finalize()),
        hex::encode(c.finalize()),
        hex::encode(d.finalize()),
    ))
}

fn field<'a>(i: &'a Inspection, k: &str) -> Option<&'a str> {
    i.fields.get(k).and_then(|v| v.as_str())
}

pub fn read(path: &Path) -> Result<Pkg> {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let format = format_of(&file)
        .ok_or_else(|| Error::package(path, "not a .deb, .rpm, pacman or .apk package"))?;
    let info = inspect::inspect(path)?;
    if info.format != format.key() {
        return Err(Error::package(
            path,
            format!(
                "named like a {} package but is a {}",
                format.key(),
                info.format
            ),
        ));
    }
    let need = |k: &str| {
        field(&info, k)
            .map(str::to_string)
            .ok_or_else(|| Error::package(path, format!("no `{k}` field")))
    };
    let (name, version, upstream, arch) = match format {
        Format::Deb => {
            let v = need("Version")?;
            let up = v.split_once(':').map_or(v.as_str(), |(_, r)| r);
            let up = up.rsplit_once('-').map_or(up, |(u, _)| u).to_string();
            (need("Package")?, v, up, need("Architecture")?)
        }
        Format::Rpm => {
            let up = need("Version")?;
            let v = format!("{up}-{}", need("Release")?);
            let v = match field(&info, "Epoch").filter(|e| *e != "0") {
                Some(e) => format!("{e}:{v}"),
                None => v,
            };
            (need("Name")?, v, up, need("Architecture")?)
        }
        Format::Pacman | Format::Apk => {
            let v = need("pkgver")?;
            let up = v.split_once(':').map_or(v.as_str(), |(_, r)| r);
            let up = up.rsplit_once('-').map_or(up, |(u, _)| u).to_string();
            (need("pkgname")?, v, up, need("arch")?)
        }
        _ => unreachable!("format_of names only repository formats"),
    };
    let (size, sha256, sha1, md5, sha512) = digests5(path)?;
    Ok(Pkg {
        path: path.to_path_buf(),
        file,
        format,
        name,
        version,
        upstream,
        arch,
        size,
        sha256,
        sha1,
        md5,
        sha512,
        info,
    })
}

/// Compare versions the way the managers mostly agree on: digit runs as
/// numbers, everything else as text (enough to order releases for retention
/// and for a deterministic index order).
pub fn cmp_version(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let b = s.as_bytes();
        for i in 1..=b.len() {
            if i == b.len() || b[i].is_ascii_digit() != b[start].is_ascii_digit() {
                out.push((b[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then(x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

/// Packages in one directory (not recursive), by file name.
pub fn scan(dir: &Path, format: Format) -> Result<Vec<Pkg>> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    let mut names: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| !f.starts_with('.') && format_of(f) == Some(format))
        })
        .collect();
    names.sort();
    for p in names {
        out.push(read(&p)?);
    }
    out.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then(cmp_version(&a.version, &b.version))
            .then(a.arch.cmp(&b.arch))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::cmp_version;
    use std::cmp::Ordering::*;

    #[test]
    fn versions_order_numerically() {
        assert_eq!(cmp_version("3.10.0", "3.9.0"), Greater);
        assert_eq!(cmp_version("3.4.0-1", "3.4.0-1"), Equal);
        assert_eq!(cmp_version("3.4.0", "3.4.0-1"), Less);
        assert_eq!(cmp_version("3.4.0-r1", "3.5.0-r1"), Less);
    }
}
