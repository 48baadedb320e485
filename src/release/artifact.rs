//! `packwright release`: build, then describe the artifacts for whoever
//! downloads them: an SPDX SBOM per artifact (`<artifact>.spdx.json`), a
//! CycloneDX one (`<artifact>.cdx.json`),
//! `artifacts.json`, `SHA256SUMS` and, with a key, `SHA256SUMS.asc`.

use super::checksum::{self, Entry};
use super::{cyclonedx, fsx, meta, sbom, sign};
use crate::error::Result;
use crate::pipeline::{self, Artifact, Request};
use crate::report::Report;
use std::path::Path;

pub struct Released {
    pub artifacts: Vec<Artifact>,
    pub entries: Vec<Entry>,
}

fn arch_of(a: &Artifact, pkg: &crate::plan::Package) -> String {
    let file = a.path.file_name().unwrap_or_default().to_string_lossy();
    if meta::format_of(&file).is_some() {
        if let Ok(p) = meta::read(&a.path) {
            return p.arch;
        }
    }
    pkg.meta.target.clone()
}

pub fn release(req: &Request, out: &Path, report: &dyn Report) -> Result<Released> {
    // The key first: a wrong key or passphrase stops before the build writes.
    let pgp = match &req.keys.pgp {
        Some(k) => Some(sign::Pgp::load(
            k,
            req.keys.pgp_passphrase.as_deref(),
            super::now()?,
        )?),
        None => None,
    };
    let loaded = pipeline::load(req)?;
    let artifacts = pipeline::build(req, out, report)?.artifacts;
    let mut entries = Vec::new();
    let mut extra = Vec::new();
    for a in &artifacts {
        let Some((_, pkg)) = loaded.plans.iter().find(|(f, _)| *f == a.format) else {
            continue;
        };
        let file = a
            .path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let (size, sha256, _, _) = meta::digests(&a.path)?;
        let doc = sbom::document(pkg, a.format.key(), &file, &sha256)?;
        let sbom_name = format!("{file}.spdx.json");
        let text = serde_json::to_string_pretty(&doc).expect("plain data serialises") + "\n";
        fsx::write(&out.join(&sbom_name), text.as_bytes())?;
        extra.push((sbom_name.clone(), fsx::sha256_hex(text.as_bytes())));
        let bom = cyclonedx::document(pkg, a.format.key(), &file, &sha256)?;
        let bom_name = format!("{file}.cdx.json");
        let text = serde_json::to_string_pretty(&bom).expect("plain data serialises") + "\n";
        fsx::write(&out.join(&bom_name), text.as_bytes())?;
        extra.push((bom_name.clone(), fsx::sha256_hex(text.as_bytes())));
        entries.push(Entry {
            file,
            format: a.format.key().to_string(),
            arch: arch_of(a, pkg),
            name: pkg.meta.name.clone(),
            version: format!("{}-{}", pkg.meta.version, pkg.meta.release),
            size,
            sha256,
            sbom: Some(sbom_name),
            cyclonedx: Some(bom_name),
        });
    }
    checksum::write(out, &entries, &extra, pgp.as_ref())?;
    report.note(&format!(
        "wrote {} (SHA256SUMS, artifacts.json, SBOMs)",
        out.display()
    ));
    Ok(Released { artifacts, entries })
}
