//! .rpm: lead, signature header, header, compressed cpio payload.
//!
//! rpm-rs's `PackageBuilder` keeps the whole compressed payload in memory,
//! so only its header types are used here. The header must precede the
//! payload and holds its digests, which are fixed-length hex: the payload
//! is streamed once to where the headers will end, computing every digest
//! on the way, and the headers are built, signed and written in front of
//! it afterwards.

use crate::archive::packed::Codec;
use crate::archive::Compression;
use crate::error::{Error, IoContext, Result};
use crate::format::Keys;
use crate::plan::{Arch, Entry, Event, Package};
use rpm::{Header, IndexSignatureTag, IndexTag, Lead, PackageMetadata};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

mod deps;
mod header;
mod payload;
mod sign;

use deps::{Dep, Sense};
use header::Tags;
use payload::Files;
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

pub fn write(pkg: &Package, job: Job, mut out: super::Out) -> Result<()> {
    let spool_dir = out.spool;
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
    let mut files = Files::of(&tree);
    let front = Front {
        pkg,
        job: &job,
        comp,
        level,
        mtime,
        large,
    };

    // The lead and headers precede the payload but hold its digests: the
    // payload goes where headers of placeholder digests (of the final
    // lengths) would end, and the real headers are written in front after.
    let zeros = payload::placeholder();
    let at = front.bytes(&files, &zeros, &zeros, 0)?.len() as u64;
    out.file.seek(SeekFrom::Start(at)).at(spool_dir)?;
    let p = payload::write(&tree, comp, level, mtime, large, &mut out)?;
    files.digests = p.digests;
    let bytes = front.bytes(&files, &p.packed_sha, &p.raw_sha, p.len)?;
    put_front(out.file, &bytes, at, p.len, spool_dir)
}

/// What the lead and headers are made from, besides the payload's digests.
struct Front<'a> {
    pkg: &'a Package,
    job: &'a Job,
    comp: Compression,
    level: i32,
    mtime: u32,
    large: bool,
}

impl Front<'_> {
    /// The lead, the signature header and the header, as written.
    fn bytes(&self, files: &Files, packed_sha: &str, raw_sha: &str, len: u64) -> Result<Vec<u8>> {
        let (pkg, j) = (self.pkg, self.job);
        let mut h = Tags::default();
        h.main(pkg, &j.evr, j.arch, self.mtime, &j.fields);
        h.files(files, self.mtime, self.large);
        h.scripts(pkg, &j.evr);
        h.relations(pkg, &j.evr, &j.relations, self.comp, self.large);
        h.payload(self.comp, self.level, packed_sha, raw_sha);
        let mut meta = PackageMetadata {
            lead: Lead::new(&pkg.meta.name),
            signature: Header::<IndexSignatureTag>::new_empty(),
            header: Header::from_entries(h.0, IndexTag::RPMTAG_HEADERIMMUTABLE),
        };
        let bad = |e: rpm::Error| Error::format("rpm", "header", e.to_string());
        let header = meta.header_bytes().map_err(bad)?;
        meta.signature =
            sign::signature(&header, len, j.signer.as_ref(), self.mtime)?.map_err(bad)?;
        let mut out = Vec::with_capacity(header.len() + 4096);
        meta.write(&mut out).map_err(bad)?;
        Ok(out)
    }
}

/// Write `front` before the `len` payload bytes `file` holds from `at`.
/// When its length is not the one guessed (an OpenPGP signature a byte
/// shorter, a package past 4 GiB whose size tag widens), the payload is
/// moved through a spool file behind it.
fn put_front(file: &mut File, front: &[u8], at: u64, len: u64, spool_dir: &Path) -> Result<()> {
    if front.len() as u64 != at {
        let mut spool = tempfile::tempfile_in(spool_dir).at(spool_dir)?;
        file.seek(SeekFrom::Start(at)).at(spool_dir)?;
        // File to file: the kernel copies it (copy_file_range).
        io::copy(&mut (&mut *file).take(len), &mut spool).at(spool_dir)?;
        file.set_len(0).at(spool_dir)?;
        file.seek(SeekFrom::Start(front.len() as u64))
            .at(spool_dir)?;
        spool.seek(SeekFrom::Start(0)).at(spool_dir)?;
        io::copy(&mut spool, file).at(spool_dir)?;
    }
    file.seek(SeekFrom::Start(0)).at(spool_dir)?;
    file.write_all(front).at(spool_dir)
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

    #[test]
    fn a_front_of_another_length_moves_the_payload_behind_it() {
        let dir = tempfile::tempdir().unwrap();
        let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for len in [19, 20, 4096] {
            let mut f = tempfile::tempfile_in(dir.path()).unwrap();
            f.seek(SeekFrom::Start(20)).unwrap();
            f.write_all(&payload).unwrap();
            let front = vec![7u8; len];
            put_front(&mut f, &front, 20, payload.len() as u64, dir.path()).unwrap();
            let mut all = Vec::new();
            f.seek(SeekFrom::Start(0)).unwrap();
            f.read_to_end(&mut all).unwrap();
            assert_eq!(all.len(), len + payload.len(), "front of {len}");
            assert!(
                all[..len] == front[..] && all[len..] == payload[..],
                "front of {len}"
            );
        }
    }
}
