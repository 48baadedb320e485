//! dnf/yum repository metadata (createrepo_c's layout): `repodata/` with
//! `<sha256>-primary.xml.gz`, `-filelists.xml.gz`, `-other.xml.gz`,
//! `repomd.xml` and its detached signature `repomd.xml.asc`. The previous
//! generation's files stay until the next publish, so a client holding the
//! old repomd.xml can still fetch what it names.

use super::meta::Pkg;
use super::sign::Pgp;
use super::{fsx, Repo};
use crate::error::{Error, IoContext, Result};
use rpm::{DependencyFlags, FileFlags, FileType, PackageMetadata};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

const NS_COMMON: &str = "http://linux.duke.edu/metadata/common";
const NS_RPM: &str = "http://linux.duke.edu/metadata/rpm";

pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}

struct Header {
    meta: PackageMetadata,
    start: u64,
    end: u64,
}

fn header(p: &Pkg) -> Result<Header> {
    let bad = |e: rpm::Error| Error::package(&p.path, format!("bad .rpm: {e}"));
    let f = std::fs::File::open(&p.path).at(&p.path)?;
    let meta = PackageMetadata::parse(&mut std::io::BufReader::new(f)).map_err(bad)?;
    let o = meta.get_package_segment_offsets();
    Ok(Header {
        start: o.header,
        end: o.payload,
        meta,
    })
}

/// `E:V-R` of a dependency's version, as primary.xml's attributes.
fn evr_attrs(v: &str) -> String {
    if v.is_empty() {
        return String::new();
    }
    let (e, rest) = v.split_once(':').unwrap_or(("0", v));
    let (ver, rel) = match rest.rsplit_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    let mut s = format!(" epoch=\"{}\" ver=\"{}\"", esc(e), esc(ver));
    if let Some(r) = rel {
        s.push_str(&format!(" rel=\"{}\"", esc(r)));
    }
    s
}

fn deps(out: &mut String, tag: &str, list: &[rpm::Dependency], requires: bool) {
    let list: Vec<_> = list
        .iter()
        .filter(|d| !d.flags.contains(DependencyFlags::RPMLIB) && !d.name.starts_with("rpmlib("))
        .collect();
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "    <rpm:{tag}>");
    for d in list {
        let f = d.flags;
        let flag = match (
            f.contains(DependencyFlags::LESS),
            f.contains(DependencyFlags::GREATER),
            f.contains(DependencyFlags::EQUAL),
        ) {
            (true, false, false) => Some("LT"),
            (true, false, true) => Some("LE"),
            (false, true, false) => Some("GT"),
            (false, true, true) => Some("GE"),
            (false, false, true) => Some("EQ"),
            _ => None,
        };
        let mut a = format!("name=\"{}\"", esc(&d.name));
        if let Some(fl) = flag {
            a.push_str(&format!(" flags=\"{fl}\"{}", evr_attrs(&d.version)));
        }
        let pre =
            DependencyFlags::PREREQ | DependencyFlags::SCRIPT_PRE | DependencyFlags::SCRIPT_POST;
        if requires && f.intersects(pre) {
            a.push_str(" pre=\"1\"");
        }
        let _ = writeln!(out, "      <rpm:entry {a}/>");
    }
    let _ = writeln!(out, "    </rpm:{tag}>");
}

/// primary.xml lists only these files (createrepo's rule), filelists all.
fn primary_file(path: &str) -> bool {
    path.starts_with("/etc/") || path.contains("bin/") || path == "/usr/lib/sendmail"
}

struct Files {
    list: Vec<(String, &'static str)>,
}

fn files(h: &Header) -> Files {
    let mut list = Vec::new();
    for f in h.meta.get_file_entries().unwrap_or_default() {
        let path = f.path().to_string_lossy().into_owned();
        let kind = if f.flags().contains(FileFlags::GHOST) {
            "ghost"
        } else if f.file_type() == FileType::Dir {
            "dir"
        } else {
            ""
        };
        list.push((path, kind));
    }
    Files { list }
}

fn file_lines(out: &mut String, files: &Files, only_primary: bool) {
    for (path, kind) in &files.list {
        if only_primary && !primary_file(path) {
            continue;
        }
        let t = if kind.is_empty() {
            String::new()
        } else {
            format!(" type=\"{kind}\"")
        };
        let _ = writeln!(out, "    <file{t}>{}</file>", esc(path));
    }
}

fn s(r: std::result::Result<&str, rpm::Error>) -> String {
    esc(r.unwrap_or_default())
}

fn primary_entry(out: &mut String, p: &Pkg, h: &Header, fl: &Files, mtime: u64) {
    let m = &h.meta;
    let epoch = m.get_epoch().unwrap_or(0);
    let _ = write!(
        out,
        "<package type=\"rpm\">\n  <name>{}</name>\n  <arch>{}</arch>\n  \
         <version epoch=\"{epoch}\" ver=\"{}\" rel=\"{}\"/>\n  \
         <checksum type=\"sha256\" pkgid=\"YES\">{}</checksum>\n  \
         <summary>{}</summary>\n  <description>{}</description>\n  \
         <packager>{}</packager>\n  <url>{}</url>\n  \
         <time file=\"{mtime}\" build=\"{}\"/>\n  \
         <size package=\"{}\" installed=\"{}\" archive=\"0\"/>\n  \
         <location href=\"{}\"/>\n  <format>\n    <rpm:license>{}</rpm:license>\n    \
         <rpm:vendor>{}</rpm:vendor>\n    <rpm:group>{}</rpm:group>\n    \
         <rpm:buildhost>{}</rpm:buildhost>\n    <rpm:sourcerpm>{}</rpm:sourcerpm>\n    \
         <rpm:header-range start=\"{}\" end=\"{}\"/>\n",
        s(m.get_name()),
        s(m.get_arch()),
        s(m.get_version()),
        s(m.get_release()),
        p.sha256,
        s(m.get_summary()),
        s(m.get_description()),
        s(m.get_packager()),
        s(m.get_url()),
        m.get_build_time().unwrap_or(0),
        p.size,
        m.get_installed_size().unwrap_or(0),
        esc(&p.file),
        s(m.get_license()),
        s(m.get_vendor()),
        s(m.get_group()),
        s(m.get_build_host()),
        s(m.get_source_rpm()),
        h.start,
        h.end,
    );
    deps(
        out,
        "provides",
        &m.get_provides().unwrap_or_default(),
        false,
    );
    deps(out, "requires", &m.get_requires().unwrap_or_default(), true);
    deps(
        out,
        "conflicts",
        &m.get_conflicts().unwrap_or_default(),
        false,
    );
    deps(
        out,
        "obsoletes",
        &m.get_obsoletes().unwrap_or_default(),
        false,
    );
    file_lines(out, fl, true);
    out.push_str("  </format>\n</package>\n");
}

fn pkg_open(p: &Pkg, h: &Header) -> String {
    let m = &h.meta;
    format!(
        "<package pkgid=\"{}\" name=\"{}\" arch=\"{}\">\n  <version epoch=\"{}\" ver=\"{}\" rel=\"{}\"/>\n",
        p.sha256,
        s(m.get_name()),
        s(m.get_arch()),
        m.get_epoch().unwrap_or(0),
        s(m.get_version()),
        s(m.get_release())
    )
}

/// The three documents, uncompressed.
fn documents(pkgs: &[Pkg], mtime: u64) -> Result<[String; 3]> {
    let n = pkgs.len();
    let mut primary = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"{NS_COMMON}\" xmlns:rpm=\"{NS_RPM}\" packages=\"{n}\">\n"
    );
    let mut filelists = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<filelists xmlns=\"http://linux.duke.edu/metadata/filelists\" packages=\"{n}\">\n");
    let mut other = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<otherdata xmlns=\"http://linux.duke.edu/metadata/other\" packages=\"{n}\">\n");
    for p in pkgs {
        let h = header(p)?;
        let fl = files(&h);
        primary_entry(&mut primary, p, &h, &fl, mtime);
        filelists.push_str(&pkg_open(p, &h));
        file_lines(&mut filelists, &fl, false);
        filelists.push_str("</package>\n");
        other.push_str(&pkg_open(p, &h));
        for c in h.meta.get_changelog_entries().unwrap_or_default() {
            let _ = writeln!(
                other,
                "  <changelog author=\"{}\" date=\"{}\">{}</changelog>",
                esc(&c.name),
                c.timestamp,
                esc(&c.description)
            );
        }
        other.push_str("</package>\n");
    }
    primary.push_str("</metadata>\n");
    filelists.push_str("</filelists>\n");
    other.push_str("</otherdata>\n");
    Ok([primary, filelists, other])
}

/// Files `repomd.xml` names (`repodata/…`), to keep one generation back.
fn named_by(repomd: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repomd).unwrap_or_default();
    text.split("href=\"repodata/")
        .skip(1)
        .filter_map(|t| t.split('"').next())
        .map(str::to_string)
        .collect()
}

pub fn write(dir: &Path, repo: &Repo, pkgs: &[Pkg], pgp: &Pgp) -> Result<()> {
    let data = dir.join("repodata");
    let mut keep = named_by(&data.join("repomd.xml"));
    // Packages' times in primary.xml: the publish time, not the copy's mtime.
    let docs = documents(pkgs, repo.time)?;
    let t = repo.time;
    let mut repomd = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"{NS_RPM}\">\n  <revision>{t}</revision>\n"
    );
    for (kind, doc) in ["primary", "filelists", "other"].iter().zip(docs.iter()) {
        let gz = fsx::gzip(doc.as_bytes())?;
        let h = fsx::sha256_hex(&gz);
        let name = format!("{h}-{kind}.xml.gz");
        fsx::write(&data.join(&name), &gz)?;
        keep.insert(name.clone());
        let _ = write!(
            repomd,
            "  <data type=\"{kind}\">\n    <checksum type=\"sha256\">{h}</checksum>\n    \
             <open-checksum type=\"sha256\">{}</open-checksum>\n    \
             <location href=\"repodata/{name}\"/>\n    <timestamp>{t}</timestamp>\n    \
             <size>{}</size>\n    <open-size>{}</open-size>\n  </data>\n",
            fsx::sha256_hex(doc.as_bytes()),
            gz.len(),
            doc.len()
        );
    }
    repomd.push_str("</repomd>\n");
    let fresh = named_by_text(&repomd);
    let sig = pgp.armored(repomd.as_bytes())?;
    fsx::write(&data.join("repomd.xml"), repomd.as_bytes())?;
    fsx::write(&data.join("repomd.xml.asc"), sig.as_bytes())?;
    for e in std::fs::read_dir(&data).at(&data)?.filter_map(|e| e.ok()) {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.ends_with(".xml.gz") && !fresh.contains(&n) && !keep.contains(&n) {
            fsx::remove(&e.path())?;
        }
    }
    Ok(())
}

fn named_by_text(text: &str) -> BTreeSet<String> {
    text.split("href=\"repodata/")
        .skip(1)
        .filter_map(|t| t.split('"').next())
        .map(str::to_string)
        .collect()
}
