//! pacman `.pkg.tar.zst`: one compressed tar holding `.PKGINFO` (first, so
//! readers stop early), `.BUILDINFO`, `.MTREE` (gzipped mtree with every
//! entry's digests), `.INSTALL` and `.CHANGELOG` when there are any, then
//! the payload with relative paths (`usr/bin/x`).
//!
//! `.MTREE` precedes the payload but holds its digests, so the files are
//! read twice: once to hash them, once to stream them into the archive
//! (re-hashed, so a file that changes in between fails the build instead of
//! producing a package that `pacman -Qkk` calls altered). Memory holds only
//! the digests, never file contents.

use crate::archive::packed::Codec;
use crate::archive::Compression;
use crate::archive::{compress, compress::Encoder, tar::TarOut};
use crate::error::{Error, IoContext, Result};
use crate::plan::{Arch, Entry, Package};
use md5::Digest;
use sha2::Sha256;
use std::io::{BufWriter, Write};

mod mtree;

use mtree::{digest_all, mtree};

const FORMAT: &str = "pacman";

/// pacman's spelling of an architecture.
fn spelling(a: Arch) -> &'static str {
    match a {
        Arch::X86_64 => "x86_64",
        Arch::Aarch64 => "aarch64",
        Arch::Armv7 => "armv7h",
        Arch::I686 => "i686",
        Arch::Riscv64 => "riscv64",
        Arch::All => "any",
    }
}

/// makepkg's pkgver rule: not empty, ASCII, no `:` `/` `-` or whitespace
/// (pacman splits `epoch:pkgver-pkgrel` on those characters).
fn check_pkgver(v: &str) -> Result<()> {
    let bad: String = v
        .chars()
        .filter(|c| !c.is_ascii() || c.is_whitespace() || ":/-".contains(*c))
        .collect();
    if v.is_empty() || !bad.is_empty() {
        return Err(Error::format(
            FORMAT,
            "package.version",
            format!("`{v}` is not a pacman pkgver: it may not be empty or contain `:`, `/`, `-`, whitespace or non-ASCII characters (found {bad:?})"),
        ));
    }
    Ok(())
}

/// makepkg's pkgrel rule: `integer[.integer]`.
fn check_pkgrel(r: &str, key: &str) -> Result<()> {
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let valid = match r.split_once('.') {
        Some((a, b)) => ok(a) && ok(b),
        None => ok(r),
    };
    if !valid {
        return Err(Error::format(
            FORMAT,
            key,
            format!("`{r}` is not a pacman pkgrel: use `integer[.integer]` such as `1` or `2.1` (set `[format.pacman] release` to give pacman its own)"),
        ));
    }
    Ok(())
}

/// `[epoch:]version-release`, as pacman's `pkgver` field and vercmp expect.
pub fn full_version(pkg: &Package) -> Result<String> {
    let m = &pkg.meta;
    check_pkgver(&m.version)?;
    check_pkgrel(&m.release, &m.release_key)?;
    let epoch = m.epoch.map(|e| format!("{e}:")).unwrap_or_default();
    Ok(format!("{epoch}{}-{}", m.version, m.release))
}

/// pacman's name for the package's architecture: letters, digits and `_`.
fn arch_name(pkg: &Package) -> Result<&'static str> {
    let a = spelling(pkg.meta.arch);
    check_arch(a, pkg.meta.arch.name(), &pkg.meta.arch_key)?;
    Ok(a)
}

fn check_arch(name: &str, plan_name: &str, key: &str) -> Result<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::format(
            FORMAT,
            key,
            format!("pacman has no name for architecture `{plan_name}`"),
        ));
    }
    Ok(())
}

fn extension(c: Compression) -> &'static str {
    match c {
        Compression::None => ".pkg.tar",
        Compression::Gzip => ".pkg.tar.gz",
        Compression::Xz => ".pkg.tar.xz",
        Compression::Zstd => ".pkg.tar.zst",
    }
}

fn compression(pkg: &Package) -> Compression {
    pkg.options.compression.unwrap_or(Compression::Zstd)
}

/// The shareable codec of the package's stream.
pub fn codec(pkg: &Package) -> Option<Codec> {
    compress::codec(compression(pkg), pkg.options.level)
}

/// `<name>-<[epoch:]version-release>-<arch>.pkg.tar.zst`, as makepkg names it.
pub fn file_name(pkg: &Package) -> Result<String> {
    Ok(format!(
        "{}-{}-{}{}",
        pkg.meta.name,
        full_version(pkg)?,
        arch_name(pkg)?,
        extension(compression(pkg))
    ))
}

/// What the pacman writer needs, decided before any byte is written.
pub struct Job {
    version: String,
    /// The payload: the plan's tree and the license file Arch expects.
    tree: Vec<Entry>,
    pkginfo: String,
}

pub fn prepare(pkg: &Package) -> Result<Job> {
    let version = full_version(pkg)?;
    let tree = pkg.tree_with(licenses(pkg));
    let size: u64 = tree.iter().map(Entry::size).sum();
    let pkginfo = pkginfo(pkg, &version, size)?;
    Ok(Job {
        version,
        tree,
        pkginfo,
    })
}

pub fn write(pkg: &Package, job: Job, out: super::Out) -> Result<()> {
    let Job {
        version,
        tree,
        pkginfo,
    } = job;
    let mtime = pkg.meta.mtime;
    let size: u64 = tree.iter().map(Entry::size).sum();
    // Progress counts both passes over the payload.
    let (mut done, total) = (0u64, 2 * size);

    // Pass 1: digests of every payload file, for .MTREE: a large file's
    // from the read that compresses (or, built alone, digests) it alone,
    // the others' on every core (md5 runs at a fraction of zstd's speed;
    // files hash independently).
    let packed = super::packed_all(out.shared, codec(pkg), &tree)?;
    let digests = digest_all(&tree, &packed)?;
    done += size;
    out.report.progress(FORMAT, done, total);

    let mut meta = members(pkg, &version, pkginfo);
    let mtree = mtree(pkg, &meta, &tree, &digests).at(".MTREE")?;
    meta.insert(2, (".MTREE", mtree));

    let enc = Encoder::new(
        compression(pkg),
        pkg.options.level,
        BufWriter::new(&mut *out.file),
    )
    .at(".pkg.tar")?;
    let mut tar = TarOut::new(enc);
    for (name, data) in meta {
        let e = Entry::generated(name, data, 0o644, name);
        super::append_entry(&mut tar, &e, name, mtime, &[], None, &mut |_| {})?;
    }

    // Pass 2: the payload, re-hashed to prove it is what .MTREE describes
    // (a content compressed alone is by construction, or by its CRC-32 when
    // it is compressed as it is placed).
    for ((e, digest), p) in tree.iter().zip(&digests).zip(&packed) {
        let rel = &e.path[1..];
        let path = if e.is_dir() {
            format!("{rel}/")
        } else {
            rel.to_string()
        };
        let mut sha = Sha256::new();
        let p = p.as_deref();
        super::append_entry(&mut tar, e, &path, mtime, &[], p, &mut |b| {
            if p.is_none() {
                sha.update(b)
            }
        })?;
        if let Some(expected) = digest {
            if p.is_none() && <[u8; 32]>::from(sha.finalize()) != expected.1 {
                return Err(super::changed(e));
            }
            done += e.size();
            out.report.progress(FORMAT, done, total);
        }
    }
    let w = tar.finish().and_then(Encoder::finish).at(".pkg.tar")?;
    w.into_inner()
        .map_err(|e| Error::io(".pkg.tar", e.into_error()))?
        .flush()
        .at(".pkg.tar")?;
    Ok(())
}

/// The metadata members before .MTREE is added, in archive order.
fn members<'a>(pkg: &Package, version: &str, pkginfo: String) -> Vec<(&'a str, Vec<u8>)> {
    let mut meta: Vec<(&'a str, Vec<u8>)> = vec![
        (".PKGINFO", pkginfo.into_bytes()),
        (".BUILDINFO", buildinfo(pkg, version).into_bytes()),
    ];
    if let Some(text) = crate::lifecycle::pacman::install(pkg) {
        meta.push((".INSTALL", text.into_bytes()));
    }
    if let Some(text) = &pkg.meta.changelog {
        meta.push((".CHANGELOG", text.clone().into_bytes()));
    }
    meta
}

/// `/usr/share/licenses/<pkg>/LICENSE`, where Arch expects a package's
/// license text (the copyright lines make even MIT or BSD texts unique).
fn licenses(pkg: &Package) -> Vec<Entry> {
    let m = &pkg.meta;
    m.license_text
        .as_ref()
        .map(|t| {
            Entry::generated(
                format!("/usr/share/licenses/{}/LICENSE", m.name),
                t.clone().into_bytes(),
                0o644,
                "package.license-file",
            )
        })
        .into_iter()
        .collect()
}

/// A relation in pacman's syntax: `name`, or `name<op>version` with no
/// spaces. The Debian spelling `name (>= 1.0)` is accepted and converted.
fn relation(s: &str, key: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::format(
            FORMAT,
            key,
            format!("`{s}` {why}; pacman writes relations as `name` or `name>=1.0` (override the list in [relations.pacman])"),
        )
    };
    let s = s.trim();
    if s.contains('|') {
        return Err(bad(
            "is a choice between packages, which pacman cannot express",
        ));
    }
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || "+_.@-".contains(c)))
        .unwrap_or(s.len());
    let (name, rest) = s.split_at(end);
    if name.is_empty() || name.starts_with(['-', '.']) {
        return Err(bad("does not start with a package name"));
    }
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok(name.to_string());
    }
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(rest)
        .trim();
    let (op, ver) = [
        (">=", ">="),
        ("<=", "<="),
        (">>", ">"),
        ("<<", "<"),
        ("=", "="),
        (">", ">"),
        ("<", "<"),
    ]
    .iter()
    .find_map(|(from, to)| inner.strip_prefix(from).map(|v| (*to, v.trim())))
    .ok_or_else(|| bad("has no version operator (`>=`, `<=`, `=`, `>`, `<`) after the name"))?;
    if ver.is_empty() || ver.contains(|c: char| c.is_whitespace() || "()|,".contains(c)) {
        return Err(bad("has a version pacman cannot read"));
    }
    Ok(format!("{name}{op}{ver}"))
}

/// A `[format.pacman] fields` entry: one `key = value` line that is not
/// one of the keys packwright writes.
fn check_field(k: &str, v: &str) -> Result<()> {
    const OWN: &[&str] = &[
        "pkgname",
        "pkgbase",
        "pkgver",
        "pkgdesc",
        "url",
        "builddate",
        "packager",
        "size",
        "arch",
        "license",
        "group",
        "replaces",
        "conflict",
        "provides",
        "depend",
        "optdepend",
        "xdata",
        "backup",
        "makedepend",
        "checkdepend",
    ];
    if OWN.contains(&k) {
        return Err(Error::format(
            FORMAT,
            format!("format.pacman.fields.{k}"),
            format!(
                "`{k}` is written by packwright from the manifest; set it there, not in fields"
            ),
        ));
    }
    if v.contains(['\n', '\r'])
        || k.is_empty()
        || k.contains(|c: char| c.is_whitespace() || c.is_control() || c == '=' || c == '#')
    {
        return Err(Error::format(
            FORMAT,
            format!("format.pacman.fields.{k}"),
            "a .PKGINFO field is one `key = value` line: no newline in the value, no space or `=` in the key",
        ));
    }
    Ok(())
}

/// `.PKGINFO`: `key = value` lines libalpm reads into its database.
fn pkginfo(pkg: &Package, version: &str, size: u64) -> Result<String> {
    let m = &pkg.meta;
    let r = &pkg.relations;
    // A newline would start a new `key = value` line: another field.
    for (key, v) in [
        ("package.maintainer", Some(&m.maintainer)),
        ("package.homepage", m.homepage.as_ref()),
        ("package.license", m.license.as_ref()),
        ("format.pacman.group", pkg.options.group.as_ref()),
    ] {
        if v.is_some_and(|v| v.contains(['\n', '\r'])) {
            return Err(Error::format(FORMAT, key, "must be one line in .PKGINFO"));
        }
    }
    let mut s = String::from("# Generated by packwright\n");
    let mut kv = |k: &str, v: &str| s.push_str(&format!("{k} = {v}\n"));
    kv("pkgname", &m.name);
    kv("pkgbase", &m.name);
    kv("pkgver", version);
    kv(
        "pkgdesc",
        &m.summary.split_whitespace().collect::<Vec<_>>().join(" "),
    );
    if let Some(url) = &m.homepage {
        kv("url", url);
    }
    kv("builddate", &m.mtime.to_string());
    kv("packager", &m.maintainer);
    kv("size", &size.to_string());
    kv("arch", arch_name(pkg)?);
    for l in license_names(m.license.as_deref(), m.license_text.is_some()) {
        kv("license", &l);
    }
    if let Some(g) = &pkg.options.group {
        kv("group", g);
    }
    for (field, key, list) in [
        ("replaces", "replaces", &r.replaces),
        ("conflict", "conflicts", &r.conflicts),
        ("provides", "provides", &r.provides),
        ("depend", "depends", &r.depends),
        ("optdepend", "recommends", &r.recommends),
        ("optdepend", "suggests", &r.suggests),
    ] {
        for (i, v) in list.iter().enumerate() {
            kv(field, &relation(v, &format!("relations.{key}[{i}]"))?);
        }
    }
    // PKGINFOv2 (makepkg 6.1+): marks a package, not a debug or split part.
    // pacman 6.0 skips keys it does not know.
    kv("xdata", "pkgtype=pkg");
    for (k, v) in &pkg.options.fields {
        check_field(k, v)?;
        kv(k, v);
    }
    Ok(s)
}

/// One `license` line per license: an SPDX `A AND B` lists both, which is
/// how a PKGBUILD's license array reads; `A OR B` stays one expression.
fn license_names(spdx: Option<&str>, has_text: bool) -> Vec<String> {
    match spdx {
        Some(l) if !l.contains(" OR ") && !l.contains('(') => l
            .split(" AND ")
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        Some(l) => vec![l.trim().to_string()],
        None if has_text => vec!["LicenseRef-custom".into()],
        None => vec![],
    }
}

/// `.BUILDINFO` (format 2) without the host-specific parts makepkg adds
/// (build directories, installed packages): only what the inputs determine.
fn buildinfo(pkg: &Package, version: &str) -> String {
    let m = &pkg.meta;
    let arch = spelling(m.arch);
    format!(
        "format = 2\npkgname = {n}\npkgbase = {n}\npkgver = {version}\npkgarch = {arch}\npackager = {p}\nbuilddate = {t}\nbuildtool = packwright\nbuildtoolver = {v}\n",
        n = m.name,
        p = m.maintainer,
        t = m.mtime,
        v = env!("CARGO_PKG_VERSION"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkgver_and_pkgrel_follow_makepkg() {
        assert!(check_pkgver("3.5.0").is_ok());
        assert!(check_pkgver("1.0rc1+git.2").is_ok());
        for v in ["1:2", "1/2", "1-2", "1 2", "", "1.0é"] {
            let e = check_pkgver(v).unwrap_err().to_string();
            assert!(e.starts_with("pacman: package.version: "), "{e}");
        }
        assert!(check_pkgrel("1", "k").is_ok());
        assert!(check_pkgrel("2.1", "k").is_ok());
        for r in ["1~bookworm", "1.", ".1", "1.2.3", "r1"] {
            let e = check_pkgrel(r, "package.release").unwrap_err().to_string();
            assert!(e.starts_with("pacman: package.release: "), "{e}");
        }
    }

    #[test]
    fn architectures_pacman_cannot_name_are_refused() {
        assert!(check_arch("x86_64", "x86_64", "k").is_ok());
        assert!(check_arch("any", "all", "k").is_ok());
        for bad in ["", "armv7-hf", "x86 64"] {
            let e = check_arch(bad, "weird", "package.arch")
                .unwrap_err()
                .to_string();
            assert_eq!(
                e,
                "pacman: package.arch: pacman has no name for architecture `weird`"
            );
        }
    }

    #[test]
    fn relations_use_pacman_syntax() {
        let r = |s| relation(s, "relations.depends[0]");
        assert_eq!(r("glibc").unwrap(), "glibc");
        assert_eq!(r("libc6 (>= 2.34)").unwrap(), "libc6>=2.34");
        assert_eq!(r("foo (<< 2)").unwrap(), "foo<2");
        assert_eq!(r("foo>=1:2.0-3").unwrap(), "foo>=1:2.0-3");
        assert_eq!(r("foo = 1.0").unwrap(), "foo=1.0");
        let e = r("a | b").unwrap_err().to_string();
        assert!(
            e.starts_with("pacman: relations.depends[0]: `a | b`"),
            "{e}"
        );
        assert!(r("(>= 1)").is_err());
        assert!(r("foo (>= )").is_err());
    }

    #[test]
    fn licenses_split_on_and_only() {
        assert_eq!(
            license_names(Some("MIT AND Apache-2.0"), false),
            ["MIT", "Apache-2.0"]
        );
        assert_eq!(
            license_names(Some("MIT OR Apache-2.0"), false),
            ["MIT OR Apache-2.0"]
        );
        assert_eq!(license_names(None, true), ["LicenseRef-custom"]);
        assert!(license_names(None, false).is_empty());
    }
}
