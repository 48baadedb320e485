//! .rpm: lead, signature header, header, compressed cpio payload.
//!
//! rpm-rs's `PackageBuilder` keeps the whole compressed payload in memory,
//! so only its header types are used here. The payload is streamed once
//! into an anonymous spool file, computing every file digest and both
//! payload digests on the way; the header (which must precede the payload
//! and holds those digests) is built afterwards, signed, and written before
//! the spooled payload is copied behind it.

use crate::archive::packed::Codec;
use crate::archive::Compression;
use crate::error::{Error, IoContext, Result};
use crate::format::Keys;
use crate::plan::{Arch, Entry, Event, Package};
use rpm::{Header, IndexSignatureTag, IndexTag, Lead, PackageMetadata};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

mod deps;
mod header;
mod payload;
mod sign;

use deps::{Dep, Sense};
use header::Tags;
use sign::signer;

/// rpm's spelling of an architecture.
fn spelling(a: Arch) -> &'static str {
    match a {
        Arch::X86_64 => "x86_64",
        Arch::Aarch64 => "aarch64",
        Arch::Armv7 => "armv7hl",
        Arch::I686 => "i686",
        Arch::Riscv64 => "riscv64",
        Arch::All => "noarch",
    }
}

/// rpm's Version and Release: letters, digits and `._+~^`; no `-`, which
/// separates them in a package's `name-version-release`.
fn check_version(v: &str, key: &str) -> Result<()> {
    let bad: Vec<char> = v
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || "._+~^".contains(*c)))
        .collect();
    if v.is_empty() || !bad.is_empty() {
        return Err(Error::format(
            "rpm",
            key,
            format!(
                "`{v}` is not an rpm version: use letters, digits, `.`, `_`, `+`, `~`, `^` (found {})",
                bad.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(())
}

fn arch(pkg: &Package) -> Result<&'static str> {
    match spelling(pkg.meta.arch) {
        "" => Err(Error::format(
            "rpm",
            &pkg.meta.arch_key,
            format!(
                "rpm has no name for architecture `{}`",
                pkg.meta.arch.name()
            ),
        )),
        a => Ok(a),
    }
}

/// `[epoch:]version-release`, after checking each part.
pub fn evr(pkg: &Package) -> Result<String> {
    let m = &pkg.meta;
    check_version(&m.version, "package.version")?;
    check_version(&m.release, &m.release_key)?;
    let epoch = m.epoch.map(|e| format!("{e}:")).unwrap_or_default();
    Ok(format!("{epoch}{}-{}", m.version, m.release))
}

pub fn file_name(pkg: &Package) -> Result<String> {
    evr(pkg)?;
    let m = &pkg.meta;
    Ok(format!(
        "{}-{}-{}.{}.rpm",
        m.name,
        m.version,
        m.release,
        arch(pkg)?
    ))
}

/// What the rpm writer needs, decided before its first byte.
pub struct Job {
    evr: String,
    arch: &'static str,
    relations: [(Sense, Vec<Dep>); 6],
    fields: Vec<(IndexTag, String)>,
    signer: Option<rpm::signature::pgp::Signer>,
}

pub fn prepare(pkg: &Package, keys: &Keys) -> Result<Job> {
    for (key, v) in [
        ("package.summary", Some(&pkg.meta.summary)),
        ("package.maintainer", Some(&pkg.meta.maintainer)),
        ("package.vendor", pkg.meta.vendor.as_ref()),
        ("package.homepage", pkg.meta.homepage.as_ref()),
        ("package.license", pkg.meta.license.as_ref()),
        ("format.rpm.group", pkg.options.group.as_ref()),
        ("format.rpm.distribution", pkg.options.distribution.as_ref()),
    ] {
        if v.is_some_and(|v| v.contains(['\n', '\r'])) {
            return Err(Error::format(
                "rpm",
                key,
                "must be one line in an rpm header",
            ));
        }
    }
    Ok(Job {
        evr: evr(pkg)?,
        arch: arch(pkg)?,
        relations: relations(pkg)?,
        fields: extra_fields(pkg)?,
        signer: signer(keys)?,
    })
}

/// What the manifest asks for that rpm cannot do.
pub fn warnings(pkg: &Package) -> Vec<String> {
    if pkg.scripts.contains_key(&Event::Purge) {
        vec!["rpm: scripts.purge is not used: rpm has no purge step (`rpm -e` runs pre-remove and post-remove)".into()]
    } else {
        Vec::new()
    }
}

/// `[format.rpm] fields`: rpm headers have no free-form fields, so only the
/// names of real rpm tags are accepted.
fn extra_fields(pkg: &Package) -> Result<Vec<(IndexTag, String)>> {
    let mut out = Vec::new();
    for (k, v) in &pkg.options.fields {
        let key = format!("format.rpm.fields.{k}");
        let tag = match k.to_ascii_lowercase().as_str() {
            "distribution" => IndexTag::RPMTAG_DISTRIBUTION,
            "vendor" => IndexTag::RPMTAG_VENDOR,
            "packager" => IndexTag::RPMTAG_PACKAGER,
            "bugurl" => IndexTag::RPMTAG_BUGURL,
            "vcs" => IndexTag::RPMTAG_VCS,
            _ => return Err(Error::format(
                "rpm",
                key,
                "not an rpm header field; rpm knows Distribution, Vendor, Packager, BugURL and VCS",
            )),
        };
        if v.contains('\n') {
            return Err(Error::format("rpm", key, "the value must be one line"));
        }
        out.push((tag, v.clone()));
    }
    Ok(out)
}

/// The manifest's relations, parsed: (what, deps).
fn relations(pkg: &Package) -> Result<[(Sense, Vec<Dep>); 6]> {
    let r = &pkg.relations;
    let parse = |key: &str, list: &[String]| -> Result<Vec<Dep>> {
        list.iter()
            .enumerate()
            .map(|(i, s)| {
                deps::parse(s).map_err(|m| Error::format("rpm", format!("relations.{key}[{i}]"), m))
            })
            .collect()
    };
    Ok([
        (Sense::Requires, parse("depends", &r.depends)?),
        (Sense::Recommends, parse("recommends", &r.recommends)?),
        (Sense::Suggests, parse("suggests", &r.suggests)?),
        (Sense::Conflicts, parse("conflicts", &r.conflicts)?),
        (Sense::Provides, parse("provides", &r.provides)?),
        (Sense::Obsoletes, parse("replaces", &r.replaces)?),
    ])
}

/// The shareable codec of the payload's stream.
pub fn codec(pkg: &Package) -> Option<Codec> {
    let comp = pkg.options.compression.unwrap_or(Compression::Zstd);
    crate::archive::compress::codec(comp, pkg.options.level)
}

pub fn write(pkg: &Package, job: Job, out: super::Out) -> Result<()> {
    let spool_dir = out.spool;
    let Job {
        evr,
        arch,
        relations: rels,
        fields,
        signer,
    } = job;
    let comp = pkg.options.compression.unwrap_or(Compression::Zstd);
    let level = pkg
        .options
        .level
        .unwrap_or_else(|| crate::archive::compress::default_level(comp));
    let mtime = u32::try_from(pkg.meta.mtime).unwrap_or(u32::MAX);
    // Shared parents (/usr/bin) belong to other packages: only the
    // directories this package creates are listed.
    let tree: Vec<&Entry> = pkg.tree.iter().filter(|e| !e.is_dir() || e.owned).collect();
    let large = tree.iter().any(|e| e.size() > u64::from(u32::MAX));

    // Pass 1: the payload, into the spool, with every digest.
    let mut p = payload::write(&tree, comp, level, mtime, large, &out)?;

    // The header, now that every digest is known.
    let mut h = Tags::default();
    h.main(pkg, &evr, arch, mtime, &fields);
    h.files(&p.files, mtime, large);
    h.scripts(pkg, &evr);
    h.relations(pkg, &evr, rels, comp, large);
    h.payload(comp, level, &p.packed_sha, &p.raw_sha);
    let header = Header::from_entries(h.0, IndexTag::RPMTAG_HEADERIMMUTABLE);
    let lead = Lead::new(&pkg.meta.name);
    let mut meta = PackageMetadata {
        lead,
        signature: Header::<IndexSignatureTag>::new_empty(),
        header,
    };
    let bad = |e: rpm::Error| Error::io(spool_dir, io::Error::other(e));
    let header_bytes = meta.header_bytes().map_err(bad)?;
    meta.signature = sign::signature(&header_bytes, p.len, signer.as_ref(), mtime)?.map_err(bad)?;

    let mut w = BufWriter::new(&mut *out.file);
    meta.write(&mut w).map_err(bad)?;
    w.flush().at(spool_dir)?;
    drop(w);
    // File to file: the kernel copies it (copy_file_range), not this thread.
    p.spool.seek(SeekFrom::Start(0)).at(spool_dir)?;
    io::copy(&mut p.spool, out.file).at(spool_dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(check_version("3.5.0", "k").is_ok());
        assert!(check_version("1.0~rc1^git2_x+y", "k").is_ok());
        let e = check_version("1.0-1", "package.version")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rpm: package.version") && e.contains("`-`"),
            "{e}"
        );
        assert!(check_version("1:0", "k").is_err());
        assert!(check_version("", "k").is_err());
    }
}
