//! Alpine `.apk`, apk-tools v2 format: up to three gzip members, concatenated.
//!
//! 1. signature (optional): a tar holding `.SIGN.RSA.<key name>`, the RSA
//!    PKCS#1 v1.5 signature over the SHA-1 of stream 2's gzip bytes
//!    (abuild-sign: `openssl dgst -sha1 -sign`; apk-tools src/extract_v2.c
//!    starts the digest at the gzip member boundary after the signature and
//!    checks it at the next one).
//! 2. control: a tar of `.PKGINFO` and the scripts (`.pre-install`…).
//! 3. data: the files. Every regular file and symlink carries a PAX record
//!    `APK-TOOLS.checksum.SHA1=<hex>` (abuild-tar.c `--hash`: lower-case hex
//!    of the SHA-1 of the content, of the link target for symlinks; apk-tools
//!    src/tar.c reads it with `apk_blob_pull_hexdump`). `.PKGINFO` names the
//!    SHA-256 of this member's gzip bytes as `datahash`.
//!
//! apk parses the decompressed concatenation as ONE tar stream that ends at
//! the first two zero blocks (src/tar.c), so streams 1 and 2 carry no
//! end-of-archive blocks (`abuild-tar --cut`) and only the data stream ends
//! with them (`abuild-tar --hash` keeps them). The data stream must be a
//! single gzip member: another member boundary after data has started is
//! `APKE_FORMAT_INVALID` (extract_v2.c `apk_sign_ctx_mpart_cb`).
//!
//! The data stream is written in place, after room for the signature and
//! control streams, which are written in front of it once its `datahash`
//! is known. Their length does not depend on the digest and signature
//! they carry: those bytes go in stored deflate blocks (a gzip member of
//! compressed, stored and compressed blocks is plain RFC 1951 to zlib,
//! which apk-tools inflates with), so their room is known before the data
//! stream is. A large file's SHA-1 is taken on a first read, before its
//! bytes, and its content compressed as it is placed (or copied from the
//! build's shared deflate pieces when other writers take them too).

use crate::archive::{
    self,
    compress::Encoder,
    digest::{Digesting, Want},
    packed::{Codec, Packed, Splice},
    tar::TarOut,
};
use crate::error::{Error, IoContext, Result};
use crate::format::Keys;
use crate::plan::{Arch, Entry, Kind, Package, Relations, Source};
use sha1::Sha1;
use sha2::Digest;
use std::io::{self, BufWriter, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;

mod depend;
mod sign;

use depend::dependency;
use sign::Signer;

const FMT: &str = "apk";
/// abuild compresses every stream with `gzip -9`.
const DEFAULT_LEVEL: i32 = 9;

/// apk-tools' architecture names (src/apk_arch.h and abuild's arch list).
const APK_ARCHES: &[&str] = &[
    "noarch",
    "aarch64",
    "armhf",
    "armv7",
    "loongarch64",
    "mips",
    "mips64",
    "mips64el",
    "mipsel",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv32",
    "riscv64",
    "s390x",
    "x86",
    "x86_64",
];

/// A version apk-tools accepts, in the grammar of its src/version.c:
/// `{digits}{.digits}…{letter}{_suffix{digits}}…` (and `-r{digits}` after,
/// handled by the caller). Stricter than apk where apk is lenient (a digit
/// after the letter): anything this accepts, apk accepts.
pub fn valid_version(v: &str) -> bool {
    const SUFFIXES: &[&str] = &["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let mut rest = v;
    // {digits}{.digits}…
    loop {
        let n = digits(rest);
        if n == 0 {
            return false;
        }
        rest = &rest[n..];
        match rest.strip_prefix('.') {
            Some(r) => rest = r,
            None => break,
        }
    }
    // {letter}
    if rest.starts_with(|c: char| c.is_ascii_lowercase()) {
        rest = &rest[1..];
    }
    // {_suffix{digits}}…
    while let Some(r) = rest.strip_prefix('_') {
        let Some(s) = SUFFIXES.iter().find(|s| r.starts_with(*s)) else {
            return false;
        };
        rest = &r[s.len()..];
        rest = &rest[digits(rest)..];
    }
    rest.is_empty()
}

/// `<version>-r<release>`, checked.
pub fn full_version(pkg: &Package) -> Result<String> {
    let m = &pkg.meta;
    if !valid_version(&m.version) {
        return Err(Error::format(FMT, "package.version", format!(
            "`{}` is not an apk version: digits separated by dots, then an optional lower-case letter, then optional suffixes _alpha, _beta, _pre, _rc, _cvs, _svn, _git, _hg or _p, each with an optional number (e.g. 1.2.3, 1.2.3b, 1.2.3_rc1)",
            m.version
        )));
    }
    if m.release.is_empty() || !m.release.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::format(
            FMT,
            &m.release_key,
            format!(
                "`{}` is not an apk release: apk writes it as -r<number>, so it must be digits only (set [format.apk] release = \"1\")",
                m.release
            ),
        ));
    }
    if let Some(e) = m.epoch {
        return Err(Error::format(
            FMT,
            "package.epoch",
            format!("apk versions have no epoch (epoch = {e}); leave it unset or build apk from a manifest without it"),
        ));
    }
    Ok(format!("{}-r{}", m.version, m.release))
}

pub fn arch(pkg: &Package) -> Result<&'static str> {
    check_arch(spelling(pkg.meta.arch), &pkg.meta.arch_key)
}

/// apk's spelling of an architecture.
fn spelling(a: Arch) -> &'static str {
    match a {
        Arch::X86_64 => "x86_64",
        Arch::Aarch64 => "aarch64",
        Arch::Armv7 => "armv7",
        Arch::I686 => "x86",
        Arch::Riscv64 => "riscv64",
        Arch::All => "noarch",
    }
}

fn check_arch(a: &'static str, key: &str) -> Result<&'static str> {
    if APK_ARCHES.contains(&a) {
        Ok(a)
    } else {
        Err(Error::format(
            FMT,
            key,
            format!(
                "apk has no architecture `{a}`; it knows {}",
                APK_ARCHES.join(", ")
            ),
        ))
    }
}

pub fn file_name(pkg: &Package) -> Result<String> {
    Ok(format!("{}-{}.apk", pkg.meta.name, full_version(pkg)?))
}

/// What the apk writer needs, decided before its first byte: the key is
/// loaded once, here.
pub struct Job {
    signer: Option<Signer>,
    level: u32,
    /// `.PKGINFO` without `datahash`, which only the written data gives.
    pkginfo: String,
}

/// The gzip level of every stream: the build's, abuild's unless set.
fn level(pkg: &Package) -> u32 {
    pkg.options.level.unwrap_or(DEFAULT_LEVEL).clamp(0, 9) as u32
}

/// The data stream's codec.
pub fn codec(pkg: &Package) -> Codec {
    Codec::Deflate(level(pkg))
}

pub fn prepare(pkg: &Package, keys: &Keys) -> Result<Job> {
    let signer = match &keys.rsa {
        Some(path) => Some(Signer::load(path, keys.rsa_name.as_deref())?),
        None => None,
    };
    let version = full_version(pkg)?;
    let total: u64 = pkg.tree.iter().map(Entry::size).sum();
    Ok(Job {
        signer,
        // The plan allows apk only gzip, its one stream compression.
        level: level(pkg),
        pkginfo: pkginfo(pkg, &version, total)?,
    })
}

pub fn write(pkg: &Package, job: Job, out: super::Out) -> Result<()> {
    let dir = out.spool;
    let Job {
        signer,
        level,
        pkginfo,
    } = job;
    let mtime = pkg.meta.mtime;
    let scripts: Vec<(&str, Vec<u8>, u32)> = crate::lifecycle::apk::scripts(pkg)
        .into_iter()
        .map(|(name, text)| (name, text.into_bytes(), 0o755))
        .collect();
    let head = Head {
        pkginfo: &pkginfo,
        scripts: &scripts,
        mtime,
        level,
    };
    // The signature and control streams have a length that does not depend
    // on the digest and signature they carry: the data stream goes in place
    // after them, and they are written in front of it once it is hashed.
    let at = head.streams(signer.as_ref(), &[0; 32])?.len() as u64;
    out.file.seek(SeekFrom::Start(at)).at(dir)?;
    let sink = Digesting::new(BufWriter::new(&mut *out.file), Want::SHA256);
    let mut tar = TarOut::new(Encoder::gzip_one_member(sink, Some(level as i32)).at(dir)?);
    let tree = pkg.tree_with(Vec::new());
    let total: u64 = tree.iter().map(Entry::size).sum();
    let mut done = 0u64;
    // Every large content's SHA-1 first, on every core: each precedes its
    // content.
    let packed = super::packed_all(out.shared, tar.get_ref().codec(), &tree)?;
    for (e, p) in tree.iter().zip(packed) {
        append_data_entry(&mut tar, e, mtime, p.as_deref())?;
        if let Kind::File(_) = e.kind {
            done += e.size();
            out.report.progress(FMT, done, total);
        }
    }
    let (sink, data) = tar.finish().and_then(Encoder::finish).at(dir)?.finish();
    sink.into_inner()
        .map_err(|e| Error::io(dir, e.into_error()))?;
    let streams = head.streams(signer.as_ref(), &data.sha256.unwrap_or_default())?;
    if streams.len() as u64 != at {
        return Err(Error::io(
            dir,
            io::Error::other("the control stream's length changed with its datahash"),
        ));
    }
    out.file.write_all_at(&streams, 0).at(dir)
}

/// What precedes the data stream: `.PKGINFO` (without `datahash`), the
/// scripts, and how the streams are made.
struct Head<'a> {
    pkginfo: &'a str,
    scripts: &'a [(&'a str, Vec<u8>, u32)],
    mtime: u64,
    level: u32,
}

impl Head<'_> {
    /// The signature stream (when signed) and the control stream, for a
    /// data stream of SHA-256 `datahash`. Their length is the same for
    /// every `datahash` (`cut_member`).
    fn streams(&self, signer: Option<&Signer>, datahash: &[u8; 32]) -> Result<Vec<u8>> {
        let hex = hex::encode(datahash);
        let info = format!("{}datahash = {hex}\n", self.pkginfo).into_bytes();
        let len = info.len();
        let pkginfo = cut_tar(&[(".PKGINFO", info, 0o644)], self.mtime)?;
        let scripts = cut_tar(self.scripts, self.mtime)?;
        let control =
            cut_member(self.level, &pkginfo, (len, hex.len() + 1), &scripts).at(".PKGINFO")?;
        let Some(s) = signer else {
            return Ok(control);
        };
        let sig = s.sign(&control)?;
        let len = sig.len();
        let name = format!(".SIGN.RSA.{}", s.name);
        let signature = cut_tar(&[(&name, sig, 0o644)], self.mtime)?;
        let mut out = cut_member(self.level, &signature, (len, s.len()), &[]).at(&name)?;
        out.extend(control);
        Ok(out)
    }
}

/// A cut tar (no end-of-archive blocks) of small generated files.
fn cut_tar(members: &[(&str, Vec<u8>, u32)], mtime: u64) -> Result<Vec<u8>> {
    let mut tar = TarOut::new(Vec::new());
    for (name, data, mode) in members {
        let mut r: &[u8] = data;
        let item = archive::tar::Item {
            path: name,
            kind: archive::tar::ItemKind::File {
                size: data.len() as u64,
                data: &mut r,
                packed: None,
            },
            mode: *mode,
            owner: "root",
            group: "root",
            mtime,
        };
        tar.append(item, &[]).at(*name)?;
    }
    Ok(tar.into_inner())
}

/// One gzip member of `tar` and then `more`. `tar`'s one file is `len`
/// bytes long and ends in `tail` bytes that vary (a digest, a signature):
/// they go in a stored block, so the member's length does not vary.
fn cut_member(
    level: u32,
    tar: &[u8],
    (len, tail): (usize, usize),
    more: &[u8],
) -> io::Result<Vec<u8>> {
    let pad = len.wrapping_neg() % 512;
    let varies = tar.len() - pad - tail;
    let (before, rest) = tar.split_at(varies);
    let (tail, after) = rest.split_at(tail);
    let after = [after, more].concat();
    let parts: [(&[u8], bool); 3] = [(before, false), (tail, true), (&after, false)];
    archive::pgzip::member_with_stored(level, &parts)
}

/// One data entry: tar path without the leading `/` (as abuild's
/// `tar -c *` in $pkgdir writes it), directories with a trailing `/`.
/// The PAX record apk-tools reads a data entry's SHA-1 from.
const SHA1_KEY: &str = "APK-TOOLS.checksum.SHA1";

fn append_data_entry<W: Splice>(
    tar: &mut TarOut<W>,
    e: &Entry,
    mtime: u64,
    packed: Option<&Packed>,
) -> Result<()> {
    let rel = e.path.trim_start_matches('/');
    let path = if e.is_dir() {
        format!("{rel}/")
    } else {
        rel.to_string()
    };
    match &e.kind {
        Kind::Dir => super::append_entry(tar, e, &path, mtime, &[], None, &mut |_| {}),
        Kind::Symlink(target) => {
            let sum = hex::encode(Sha1::digest(target.as_bytes()));
            // apk-tools ignores GNU long link records ('K'); a PAX linkpath
            // is what it reads for targets beyond the header's 100 bytes.
            let mut pax: Vec<(&str, &[u8])> = vec![(SHA1_KEY, sum.as_bytes())];
            if target.len() > 100 {
                pax.push(("linkpath", target.as_bytes()));
            }
            super::append_entry(tar, e, &path, mtime, &pax, None, &mut |_| {})
        }
        Kind::File(src) => {
            if let Some(p) = packed {
                // Compressed alone, with its SHA-1 from the first read.
                let sum = hex::encode(p.sums.sha1.expect("an apk build asks for sha1"));
                let pax: &[(&str, &[u8])] = &[(SHA1_KEY, sum.as_bytes())];
                return super::append_entry(tar, e, &path, mtime, pax, Some(p), &mut |_| {});
            }
            append_small_file(tar, e, src, &path, mtime)
        }
    }
}

/// A file not compressed alone (at most `packed::ALONE` bytes, or
/// generated): read once into memory, for its SHA-1, which precedes it.
fn append_small_file<W: Splice>(
    tar: &mut TarOut<W>,
    e: &Entry,
    src: &Source,
    path: &str,
    mtime: u64,
) -> Result<()> {
    let mut bytes = Vec::new();
    src.open()?
        .take(src.size() + 1)
        .read_to_end(&mut bytes)
        .at(&e.path)?;
    if bytes.len() as u64 != src.size() {
        return Err(super::changed(e));
    }
    let sum = hex::encode(Sha1::digest(&bytes));
    let small = Entry {
        kind: Kind::File(Source::Bytes(bytes)),
        ..e.clone()
    };
    let pax: &[(&str, &[u8])] = &[(SHA1_KEY, sum.as_bytes())];
    super::append_entry(tar, &small, path, mtime, pax, None, &mut |_| {})
}

/// `.PKGINFO`: `key = value` lines (apk-tools src/package.c `read_info_line`
/// and extract_v2.c for `datahash`). Conflicts are `depend = !name`.
fn pkginfo(pkg: &Package, version: &str, size: u64) -> Result<String> {
    let m = &pkg.meta;
    let mut s = String::from("# Generated by packwright\n");
    let mut line = |k: &str, v: &str, key: &str| -> Result<()> {
        if v.contains(['\n', '\r']) {
            return Err(Error::format(
                FMT,
                key,
                format!("`{k}` must be one line in .PKGINFO"),
            ));
        }
        if !v.is_empty() {
            s.push_str(&format!("{k} = {v}\n"));
        }
        Ok(())
    };
    line("pkgname", &m.name, "package.name")?;
    line("pkgver", version, "package.version")?;
    line("pkgdesc", &m.summary, "package.summary")?;
    line(
        "url",
        m.homepage.as_deref().unwrap_or(""),
        "package.homepage",
    )?;
    line("builddate", &m.mtime.to_string(), "SOURCE_DATE_EPOCH")?;
    line("packager", &m.maintainer, "package.maintainer")?;
    line("size", &size.to_string(), "package")?;
    line("arch", arch(pkg)?, &m.arch_key)?;
    line("origin", &m.name, "package.name")?;
    line("maintainer", &m.maintainer, "package.maintainer")?;
    line(
        "license",
        m.license.as_deref().unwrap_or("custom"),
        "package.license",
    )?;
    let r: &Relations = &pkg.relations;
    for (field, list, prefix, key) in [
        ("replaces", &r.replaces, "", "relations.replaces"),
        ("provides", &r.provides, "", "relations.provides"),
        ("depend", &r.depends, "", "relations.depends"),
        ("depend", &r.conflicts, "!", "relations.conflicts"),
    ] {
        for (i, d) in list.iter().enumerate() {
            let dep = dependency(d).ok_or_else(|| {
                Error::format(FMT, format!("{key}[{i}]"), format!(
                    "`{d}` is not an apk dependency: `name`, `name>=1.2`, `name=1.2-r0`, `so:libfoo.so.1`, `cmd:foo` (a Debian-style `name (>= 1.2)` is converted)"
                ))
            })?;
            line(field, &format!("{prefix}{dep}"), key)?;
        }
    }
    // Recommends and suggests have no apk equivalent; they are soft, so
    // leaving them out never makes an install fail.
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signature and control streams go in front of a data stream
    /// written before them: their length must not depend on the digest or
    /// signature they carry, and they must still read back as written.
    #[test]
    fn head_streams_keep_their_length_whatever_they_carry() {
        let scripts = vec![(".post-install", b"#!/bin/sh\necho hi\n".to_vec(), 0o755)];
        let head = Head {
            pkginfo: "pkgname = demo\npkgver = 1.0-r0\n",
            scripts: &scripts,
            mtime: 1_700_000_000,
            level: 9,
        };
        let mut lens = Vec::new();
        for hash in [[0u8; 32], [0xff; 32], *b"0123456789abcdef0123456789abcdef"] {
            let control = head.streams(None, &hash).unwrap();
            lens.push(control.len());
            let mut tar = Vec::new();
            let mut one = flate2::read::GzDecoder::new(&control[..]);
            one.read_to_end(&mut tar).unwrap();
            let rest = one.into_inner();
            assert!(rest.is_empty(), "one gzip member");
            let line = format!("datahash = {}\n", hex::encode(hash));
            let text = String::from_utf8_lossy(&tar);
            assert!(text.contains(&line), "{text}");
            assert!(text.contains("echo hi"), "the scripts follow");
        }
        assert!(lens.windows(2).all(|w| w[0] == w[1]), "{lens:?}");
        // A signature-like tail: random bytes, stored as they are.
        let mut x = 9u64;
        let sigs: Vec<Vec<u8>> = (0..3)
            .map(|_| {
                (0..256)
                    .map(|_| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                        (x >> 56) as u8
                    })
                    .collect()
            })
            .collect();
        let members: Vec<Vec<u8>> = sigs
            .iter()
            .map(|sig| {
                let tar = cut_tar(&[(".SIGN.RSA.k.pub", sig.clone(), 0o644)], 0).unwrap();
                let m = cut_member(9, &tar, (256, 256), &[]).unwrap();
                let mut back = Vec::new();
                flate2::read::GzDecoder::new(&m[..])
                    .read_to_end(&mut back)
                    .unwrap();
                assert!(back == tar, "reads back as the tar");
                m
            })
            .collect();
        assert!(members.iter().all(|m| m.len() == members[0].len()));
    }

    #[test]
    fn versions_follow_apk_tools_grammar() {
        for ok in [
            "1",
            "1.2.3",
            "0.01",
            "1.2.3a",
            "1.0_rc1",
            "1.0_alpha",
            "2.0_beta2_p3",
            "3.5.0_pre1",
            "1.0_git20240101",
        ] {
            assert!(valid_version(ok), "{ok} should be valid");
        }
        for bad in [
            "", "v1", "1.", ".1", "1..2", "1.0-rc1", "1.0~rc1", "1.0_foo", "1.0A", "1.0ab",
            "1.0+dfsg", "1_rc1-2", "1.0-r1",
        ] {
            assert!(!valid_version(bad), "{bad} should be invalid");
        }
    }

    #[test]
    fn arches_outside_apk_tools_list_are_refused() {
        assert!(check_arch("x86_64", "package.arch").is_ok());
        let e = check_arch("amd64", "package.arch").unwrap_err().to_string();
        assert!(
            e.contains("apk") && e.contains("package.arch") && e.contains("amd64"),
            "{e}"
        );
    }
}
