//! One SPDX 2.3 JSON document per artifact: the package (with the
//! artifact's SHA-256), every regular file it installs with SHA-1 and
//! SHA-256, its declared license, and its declared dependencies as
//! `DEPENDS_ON` relationships. Everything comes from the plan and the
//! artifact's bytes, and the time from SOURCE_DATE_EPOCH, so the document
//! is reproducible.

use crate::error::{IoContext, Result};
use crate::plan::{Kind, Package, Source};
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::io::Read;

fn spdx_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn hashes(src: &Source) -> Result<(String, String)> {
    let (mut a, mut b) = (Sha1::new(), Sha256::new());
    match src {
        Source::Bytes(d) => {
            a.update(d);
            b.update(d);
        }
        Source::Gzip(_) => {
            unreachable!("the pipeline compresses man pages before a release reads them")
        }
        Source::Path { path, .. } => {
            let mut f = std::fs::File::open(path).at(path)?;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = f.read(&mut buf).at(path)?;
                if n == 0 {
                    break;
                }
                a.update(&buf[..n]);
                b.update(&buf[..n]);
            }
        }
    }
    Ok((hex::encode(a.finalize()), hex::encode(b.finalize())))
}

fn iso(t: u64) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(t as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        d.month() as u8,
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// The dependency's package name: `libc6 (>= 2.34)`, `glibc>=2.34` → the name.
fn dep_name(d: &str) -> &str {
    d.split([' ', '(', '<', '>', '=']).next().unwrap_or(d)
}

/// The SPDX document for `pkg` built as `artifact` (its file name and SHA-256).
pub fn document(pkg: &Package, format: &str, artifact: &str, sha256: &str) -> Result<Value> {
    let m = &pkg.meta;
    let mut files = Vec::new();
    let mut rels = vec![
        json!({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Package"}),
    ];
    let mut sha1s = Vec::new();
    for (i, e) in pkg.tree.iter().enumerate() {
        let Kind::File(src) = &e.kind else { continue };
        let (s1, s256) = hashes(src)?;
        let id = format!("SPDXRef-File-{i}");
        let name = if e.path.starts_with('/') {
            format!(".{}", e.path)
        } else {
            format!("./{}", e.path)
        };
        files.push(json!({
            "SPDXID": id, "fileName": name,
            "checksums": [{"algorithm": "SHA1", "checksumValue": s1}, {"algorithm": "SHA256", "checksumValue": s256}],
            "licenseConcluded": "NOASSERTION", "copyrightText": "NOASSERTION"
        }));
        rels.push(json!({"spdxElementId": "SPDXRef-Package", "relationshipType": "CONTAINS", "relatedSpdxElement": id}));
        sha1s.push(s1);
    }
    sha1s.sort();
    let code = hex::encode(Sha1::digest(sha1s.concat().as_bytes()));
    let mut packages = vec![json!({
        "SPDXID": "SPDXRef-Package", "name": m.name, "versionInfo": format!("{}-{}", m.version, m.release),
        "packageFileName": artifact,
        "downloadLocation": m.homepage.clone().unwrap_or_else(|| "NOASSERTION".into()),
        "filesAnalyzed": !files.is_empty(),
        "checksums": [{"algorithm": "SHA256", "checksumValue": sha256}],
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": m.license.clone().unwrap_or_else(|| "NOASSERTION".into()),
        "copyrightText": "NOASSERTION", "summary": m.summary, "primaryPackagePurpose": "APPLICATION"
    })];
    if !files.is_empty() {
        packages[0]["packageVerificationCode"] = json!({"packageVerificationCodeValue": code});
    }
    for (i, d) in pkg.relations.depends.iter().enumerate() {
        let id = format!("SPDXRef-Dependency-{i}-{}", spdx_id(dep_name(d)));
        packages.push(json!({
            "SPDXID": id, "name": dep_name(d), "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false, "comment": format!("declared as `{d}`")
        }));
        rels.push(json!({"spdxElementId": "SPDXRef-Package", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": id}));
    }
    Ok(json!({
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{} {} ({format})", m.name, m.version),
        "documentNamespace": format!("https://spdx.org/spdxdocs/packwright/{}-{}-{format}-{sha256}", spdx_id(&m.name), spdx_id(&m.version)),
        "creationInfo": {"created": iso(m.mtime), "creators": [format!("Tool: packwright-{}", env!("CARGO_PKG_VERSION"))]},
        "packages": packages, "files": files, "relationships": rels
    }))
}
