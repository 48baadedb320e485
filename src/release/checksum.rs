//! `SHA256SUMS` (the format `sha256sum -c` reads), its detached armored
//! signature, and `artifacts.json`, the list a CI step or download page reads.

use super::fsx;
use super::sign::Pgp;
use crate::error::Result;
use serde::Serialize;
use std::path::Path;

#[derive(Serialize)]
pub struct Entry {
    pub file: String,
    pub format: String,
    pub arch: String,
    pub name: String,
    pub version: String,
    pub size: u64,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbom: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cyclonedx: Option<String>,
}

/// `<hex>  <name>` lines, sorted by name.
pub fn sums(files: &[(String, String)]) -> String {
    let mut v: Vec<_> = files.to_vec();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.iter().map(|(n, h)| format!("{h}  {n}\n")).collect()
}

/// Write artifacts.json, then SHA256SUMS over the artifacts, their SBOMs and
/// artifacts.json, then SHA256SUMS.asc when there is a key.
pub fn write(
    out: &Path,
    entries: &[Entry],
    extra: &[(String, String)],
    pgp: Option<&Pgp>,
) -> Result<()> {
    let json = serde_json::to_string_pretty(&serde_json::json!({ "artifacts": entries }))
        .expect("plain data serialises")
        + "\n";
    fsx::write(&out.join("artifacts.json"), json.as_bytes())?;
    let mut files: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e.file.clone(), e.sha256.clone()))
        .collect();
    files.extend_from_slice(extra);
    files.push(("artifacts.json".into(), fsx::sha256_hex(json.as_bytes())));
    let text = sums(&files);
    fsx::write(&out.join("SHA256SUMS"), text.as_bytes())?;
    match pgp {
        Some(k) => fsx::write(
            &out.join("SHA256SUMS.asc"),
            k.armored(text.as_bytes())?.as_bytes(),
        ),
        None => fsx::remove(&out.join("SHA256SUMS.asc")),
    }
}
