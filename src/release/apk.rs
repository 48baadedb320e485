//! `<arch>/APKINDEX.tar.gz` as apk-tools' `apk index` writes it and
//! abuild-sign signs it.
//!
//! apk-tools src/app_index.c: one gzip member holding a tar with an
//! optional `DESCRIPTION`, then `APKINDEX` (mode 0644, mtime the build
//! time, i.e. SOURCE_DATE_EPOCH), then the end-of-archive blocks. The
//! entries are apk_pkg_write_index_header's lines (src/package.c): `C:`
//! `Q1`+base64(SHA-1 of the package's control gzip member, its identity),
//! `P V A S I T U L`, then `o m t c k` when set, then `D p i`, each entry
//! ending in a blank line. abuild-sign prepends a second gzip member: a tar
//! with one entry `.SIGN.RSA256.<key name>` (PKCS#1 v1.5 over the SHA-256
//! of the index member's gzip bytes) and no end-of-archive blocks, since
//! apk reads the two members as one tar stream.

use super::meta::Pkg;
use super::sign::Rsa;
use super::{fsx, Repo};
use crate::error::{Error, Result};
use serde_json::Value;
use sha1::{Digest, Sha1};
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

/// The byte ranges of a file's gzip members.
pub fn members(bytes: &[u8]) -> std::io::Result<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let mut d = flate2::bufread::GzDecoder::new(&bytes[at..]);
        std::io::copy(&mut d, &mut std::io::sink())?;
        let left = d.into_inner().len();
        let end = bytes.len() - left;
        if end == at {
            break;
        }
        out.push((at, end));
        at = end;
    }
    Ok(out)
}

/// The package's identity: SHA-1 of its control member (after a signature).
fn identity(p: &Pkg) -> Result<String> {
    let bytes = std::fs::read(&p.path).map_err(|e| Error::io(&p.path, e))?;
    let bad = |m: String| Error::package(&p.path, m);
    let ms = members(&bytes).map_err(|e| bad(format!("bad gzip stream: {e}")))?;
    let first = ms.first().ok_or_else(|| bad("empty apk".into()))?;
    let mut head = [0u8; 6];
    let mut d = flate2::bufread::GzDecoder::new(&bytes[first.0..first.1]);
    d.read_exact(&mut head).map_err(|e| bad(e.to_string()))?;
    let control = if &head == b".SIGN." {
        ms.get(1)
    } else {
        Some(first)
    };
    let (a, b) = *control.ok_or_else(|| bad("no control member after the signature".into()))?;
    Ok(format!("Q1{}", fsx::base64(&Sha1::digest(&bytes[a..b]))))
}

fn values(p: &Pkg, k: &str) -> Vec<String> {
    match p.info.fields.get(k) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

pub fn entry(p: &Pkg) -> Result<String> {
    let one = |k: &str| values(p, k).join(" ");
    let mut e = format!(
        "C:{}\nP:{}\nV:{}\nA:{}\nS:{}\nI:{}\nT:{}\nU:{}\nL:{}\n",
        identity(p)?,
        p.name,
        p.version,
        p.arch,
        p.size,
        one("size"),
        one("pkgdesc"),
        one("url"),
        one("license"),
    );
    for (tag, key) in [
        ("o", "origin"),
        ("m", "maintainer"),
        ("t", "builddate"),
        ("c", "commit"),
        ("k", "provider_priority"),
        ("D", "depend"),
        ("p", "provides"),
        ("i", "install_if"),
    ] {
        let v = one(key);
        if !v.is_empty() {
            let _ = writeln!(e, "{tag}:{v}");
        }
    }
    e.push('\n');
    Ok(e)
}

/// The signed index bytes for `pkgs`.
pub fn index(repo: &Repo, pkgs: &[Pkg], rsa: &Rsa) -> Result<Vec<u8>> {
    let mut text = String::new();
    for p in pkgs {
        text.push_str(&entry(p)?);
    }
    let members = vec![
        ("DESCRIPTION".to_string(), repo.name.clone().into_bytes()),
        ("APKINDEX".to_string(), text.into_bytes()),
    ];
    let body = fsx::gzip(&fsx::tar(&members, repo.time, true)?)?;
    let sig = rsa.sign_sha256(&body)?;
    let sig_tar = fsx::tar(
        &[(format!(".SIGN.RSA256.{}", rsa.name), sig)],
        repo.time,
        false,
    )?;
    let mut out = fsx::gzip(&sig_tar)?;
    out.extend_from_slice(&body);
    Ok(out)
}

pub fn write(dir: &Path, repo: &Repo, pkgs: &[Pkg], rsa: &Rsa) -> Result<()> {
    fsx::write(&dir.join("APKINDEX.tar.gz"), &index(repo, pkgs, rsa)?)
}
