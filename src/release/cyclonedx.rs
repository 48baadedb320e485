//! One CycloneDX 1.5 JSON BOM per artifact, beside the SPDX document and
//! from the same facts: the package as the BOM's subject (the artifact's
//! SHA-256, its declared license), each regular file it installs as a
//! `file` component with SHA-1 and SHA-256, and each declared dependency as
//! a component the package depends on. The serial number is derived from
//! the artifact's digest and the time is SOURCE_DATE_EPOCH, so the BOM is
//! reproducible.

use super::sbom::{dep_name, hashes, iso, spdx_id};
use crate::error::Result;
use crate::plan::{Kind, Package};
use serde_json::{json, Value};

/// A version-5-shaped UUID URN from a hex digest (deterministic, valid for
/// the schema's `serialNumber` pattern).
fn serial(sha256: &str) -> String {
    let h = |r: std::ops::Range<usize>| sha256.get(r).unwrap_or("0");
    let variant = u8::from_str_radix(h(16..17), 16).unwrap_or(0) & 0x3 | 0x8;
    format!(
        "urn:uuid:{}-{}-5{}-{variant:x}{}-{}",
        h(0..8),
        h(8..12),
        h(13..16),
        h(17..20),
        h(20..32)
    )
}

/// The CycloneDX BOM for `pkg` built as `artifact` (its file name and SHA-256).
pub fn document(pkg: &Package, format: &str, artifact: &str, sha256: &str) -> Result<Value> {
    let m = &pkg.meta;
    let mut components = Vec::new();
    for (i, e) in pkg.tree.iter().enumerate() {
        let Kind::File(src) = &e.kind else { continue };
        let (s1, s256) = hashes(src)?;
        components.push(json!({
            "type": "file", "bom-ref": format!("file-{i}"),
            "name": format!(".{}", if e.path.starts_with('/') { e.path.clone() } else { format!("/{}", e.path) }),
            "hashes": [{"alg": "SHA-1", "content": s1}, {"alg": "SHA-256", "content": s256}]
        }));
    }
    let mut depends = Vec::new();
    for (i, d) in pkg.relations.depends.iter().enumerate() {
        let r = format!("dependency-{i}-{}", spdx_id(dep_name(d)));
        components.push(json!({
            "type": "application", "bom-ref": r, "name": dep_name(d),
            "description": format!("declared as `{d}`"), "scope": "required"
        }));
        depends.push(r);
    }
    let mut subject = json!({
        "type": "application", "bom-ref": "package", "name": m.name,
        "version": format!("{}-{}", m.version, m.release),
        "description": m.summary,
        "hashes": [{"alg": "SHA-256", "content": sha256}],
        "properties": [{"name": "packwright:artifact", "value": artifact},
                       {"name": "packwright:format", "value": format}]
    });
    if let Some(l) = &m.license {
        subject["licenses"] = json!([{"expression": l}]);
    }
    if let Some(h) = &m.homepage {
        subject["externalReferences"] = json!([{"type": "website", "url": h}]);
    }
    Ok(json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "serialNumber": serial(sha256), "version": 1,
        "metadata": {
            "timestamp": iso(m.mtime),
            "tools": {"components": [{"type": "application", "name": "packwright", "version": env!("CARGO_PKG_VERSION")}]},
            "component": subject
        },
        "components": components,
        "dependencies": [{"ref": "package", "dependsOn": depends}]
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_serial_number_is_a_uuid_urn_fixed_by_the_digest() {
        let d = "d2c7ad6cf8e1c33c7bd0b3a9e8f5d1f4b6a7c8d9e0f1a2b3c4d5e6f708192a3b";
        let s = super::serial(d);
        assert_eq!(s, super::serial(d));
        assert_eq!(s.len(), "urn:uuid:".len() + 36);
        let u: Vec<&str> = s["urn:uuid:".len()..].split('-').collect();
        assert_eq!(
            u.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(u[2].starts_with('5'));
        assert!("89ab".contains(&u[3][..1]), "{s}");
    }
}
