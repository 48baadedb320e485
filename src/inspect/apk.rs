//! Alpine `.apk` (v2): gzip members whose decompressed concatenation is one
//! tar stream (signature and control streams carry no end-of-archive
//! blocks). Entries before the first data file are control entries: hidden
//! names without a `/` (`.SIGN.RSA.<key>`, `.PKGINFO`, `.pre-install`…).

use super::{list_tar, FileInfo, Inspection, ScriptInfo};
use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

const SCRIPTS: &[&str] = &[
    ".pre-install",
    ".post-install",
    ".pre-upgrade",
    ".post-upgrade",
    ".pre-deinstall",
    ".post-deinstall",
    ".trigger",
];

/// Whether a tar entry name is one of apk's control entries.
pub fn is_control(name: &str) -> bool {
    name.starts_with('.') && !name.contains('/')
}

pub fn inspect(path: &Path, r: &mut dyn Read) -> Result<Inspection> {
    let mut info = String::new();
    let mut warnings = Vec::new();
    let mut scripts = Vec::new();
    let mut signatures: Vec<String> = Vec::new();
    let mut in_data = false;
    let mut control = Vec::new();
    let entries = list_tar(path, r, |p, data| {
        if in_data || !is_control(p) {
            in_data = true;
            return Ok(());
        }
        control.push(p.to_string());
        if let Some(sig) = p.strip_prefix(".SIGN.") {
            signatures.push(sig.to_string());
        } else if p == ".PKGINFO" {
            info = super::read_bounded(data, p, &mut warnings);
        } else if SCRIPTS.contains(&p) {
            let text = super::read_bounded(data, p, &mut warnings);
            scripts.push(ScriptInfo {
                name: p.to_string(),
                text,
            });
        }
        Ok(())
    })?;
    if info.is_empty() {
        return Err(Error::package(path, "not an apk package: no .PKGINFO"));
    }
    let files: Vec<FileInfo> = entries
        .into_iter()
        .filter(|f| !control.contains(&f.path))
        .map(|mut f| {
            f.path = format!("/{}", f.path);
            f
        })
        .collect();
    let mut fields = super::parse_pkginfo(&info, &[]);
    fields.insert("signed".into(), (!signatures.is_empty()).into());
    if !signatures.is_empty() {
        // `RSA.<key name>` / `RSA256.<key name>`: the key apk looks up in
        // /etc/apk/keys.
        let keys: Vec<serde_json::Value> = signatures
            .iter()
            .map(|s| {
                let (alg, key) = s.split_once('.').unwrap_or(("", s));
                serde_json::json!({"type": alg, "key": key})
            })
            .collect();
        fields.insert("signatures".into(), keys.into());
    }
    Ok(Inspection {
        format: "apk",
        fields,
        files,
        scripts,
        warnings,
    })
}
