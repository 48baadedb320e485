//! .rpm: lead, signature header, header, compressed cpio payload.
//!
//! rpm-rs's `PackageBuilder` keeps the whole compressed payload in memory,
//! so only its header types are used here. The payload is streamed once
//! into an anonymous spool file, computing every file digest and both
//! payload digests on the way; the header (which must precede the payload
//! and holds those digests) is built afterwards, signed, and written before
//! the spooled payload is copied behind it.

use crate::archive::{
    compress::Encoder,
    cpio::{CpioOut, Head},
    Tap,
};
use crate::error::{Error, IoContext, Result};
use crate::format::{Format, Keys};
use crate::lifecycle::rpm::{self as life, Slot};
use crate::plan::{Compression, Entry, Event, Kind, Package};
use crate::report::Report;
use rpm::signature::Signing;
use rpm::{
    Header, HeaderEntry, IndexData, IndexSignatureTag, IndexTag, Lead, PackageMetadata,
    SignatureHeaderBuilder,
};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

mod deps;

use deps::{Dep, Sense};

/// The Group when `[format.rpm] group` is unset: an entry of rpm's classic
/// GROUPS list. Not "Unspecified", which rpmlint reports as no group at all.
const DEFAULT_GROUP: &str = "Applications/System";

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
    match pkg.meta.arch.name_for(Format::Rpm) {
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

/// The signing key from the build inputs, tried once so that a wrong
/// passphrase stops the build before the payload is written.
fn signer(keys: &Keys) -> Result<Option<rpm::signature::pgp::Signer>> {
    let Some(path) = &keys.pgp else {
        return Ok(None);
    };
    let key = "--pgp-key (PACKWRIGHT_PGP_KEY)";
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::format(
            "rpm",
            key,
            format!("`{}` cannot be read: {e}", path.display()),
        )
    })?;
    let mut s = rpm::signature::pgp::Signer::from_asc(&text).map_err(|e| {
        Error::format(
            "rpm",
            key,
            format!(
                "`{}` is not an armored OpenPGP secret key with a signing key: {e}",
                path.display()
            ),
        )
    })?;
    if let Some(p) = &keys.pgp_passphrase {
        s = s.with_key_passphrase(p.clone());
    }
    s.sign(&b""[..], rpm::Timestamp(0)).map_err(|e| {
        Error::format(
            "rpm",
            "--pgp-passphrase (PACKWRIGHT_PGP_PASSPHRASE)",
            format!(
                "cannot sign with `{}`: {e}; the passphrase is wrong or missing",
                path.display()
            ),
        )
    })?;
    Ok(Some(s))
}

/// Counts and hashes the bytes written through it.
struct Hashing<W> {
    inner: W,
    sha: Sha256,
    count: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            sha: Sha256::new(),
            count: 0,
        }
    }
    fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.sha.finalize()), self.count)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The header's parallel file arrays, one element per payload entry.
#[derive(Default)]
struct Files {
    sizes: Vec<u64>,
    modes: Vec<u16>,
    digests: Vec<String>,
    links: Vec<String>,
    flags: Vec<u32>,
    users: Vec<String>,
    groups: Vec<String>,
    dir_index: Vec<u32>,
    base: Vec<String>,
    dirs: Vec<String>,
}

/// rpm's `%doc` and `%license` markings, from where a file is installed
/// (what rpmbuild does for the same directories).
fn file_flags(path: &str) -> u32 {
    const DOC: u32 = 1 << 1;
    const LICENSE: u32 = 1 << 7;
    if path.starts_with("/usr/share/licenses/") {
        LICENSE
    } else if ["/usr/share/doc/", "/usr/share/man/", "/usr/share/info/"]
        .iter()
        .any(|d| path.starts_with(d))
    {
        DOC
    } else {
        0
    }
}

fn split(path: &str) -> (&str, &str) {
    let i = path.rfind('/').map_or(0, |i| i + 1);
    (&path[..i], &path[i..])
}

pub fn write(
    pkg: &Package,
    job: Job,
    out: &mut File,
    spool_dir: &Path,
    report: &dyn Report,
) -> Result<()> {
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
    let spool = tempfile::tempfile_in(spool_dir).at(spool_dir)?;
    let packed = Hashing::new(BufWriter::new(spool));
    let enc = Encoder::new(comp, Some(level), packed).at(spool_dir)?;
    let mut cpio = CpioOut::new(Hashing::new(enc));
    let mut f = Files::default();
    let mut dir_index = std::collections::HashMap::new();
    let total: u64 = tree.iter().map(|e| e.size()).sum();
    let mut done = 0u64;
    for (i, e) in tree.iter().enumerate() {
        let (dir, base) = split(&e.path);
        let di = *dir_index.entry(dir.to_string()).or_insert_with(|| {
            f.dirs.push(dir.to_string());
            f.dirs.len() - 1
        });
        let mut sha = Sha256::new();
        let (ty, size, link) = match &e.kind {
            Kind::Dir => (0o040000, 0, String::new()),
            Kind::File(src) => (0o100000, src.size(), String::new()),
            Kind::Symlink(t) => (0o120000, t.len() as u64, t.clone()),
        };
        let mut data: Box<dyn io::Read + '_> = match &e.kind {
            Kind::File(src) => src.open()?,
            Kind::Symlink(t) => Box::new(t.as_bytes()),
            Kind::Dir => Box::new(io::empty()),
        };
        let mut tap = Tap {
            inner: &mut data,
            f: |b: &[u8]| sha.update(b),
        };
        let name = format!(".{}", e.path);
        let mode = ty | (e.mode & 0o7777);
        let res = if large {
            cpio.append_stripped(i as u32, size, &mut tap)
        } else {
            let h = Head {
                name: &name,
                ino: i as u32 + 1,
                mode,
                nlink: 1,
                mtime,
                size: size as u32,
            };
            cpio.append(&h, &mut tap)
        };
        res.at(&e.path)?;
        f.digests.push(match e.kind {
            Kind::File(_) => hex::encode(sha.finalize()),
            _ => String::new(),
        });
        f.sizes.push(size);
        f.modes.push(mode as u16);
        f.links.push(link);
        f.flags
            .push(if e.is_dir() { 0 } else { file_flags(&e.path) });
        f.users.push(e.owner.clone());
        f.groups.push(e.group.clone());
        f.dir_index.push(di as u32);
        f.base.push(base.to_string());
        if let Kind::File(_) = e.kind {
            done += size;
            report.progress("rpm", done, total);
        }
    }
    let (enc, raw_sha, _) = cpio.finish().at(spool_dir)?.finish();
    let (buf, packed_sha, payload_len) = enc.finish().at(spool_dir)?.finish();
    let mut spool = buf
        .into_inner()
        .map_err(|e| Error::io(spool_dir, e.into_error()))?;

    // The header, now that every digest is known.
    let mut h = Tags::default();
    h.main(pkg, &evr, arch, mtime, &fields);
    h.files(&f, mtime, large);
    h.scripts(pkg, &evr);
    h.relations(pkg, &evr, rels, comp, large);
    h.payload(comp, level, &packed_sha, &raw_sha);
    let header = Header::from_entries(h.0, IndexTag::RPMTAG_HEADERIMMUTABLE);
    let lead = Lead::new(&pkg.meta.name);
    let mut meta = PackageMetadata {
        lead,
        signature: Header::<IndexSignatureTag>::new_empty(),
        header,
    };
    let bad = |e: rpm::Error| Error::io(spool_dir, io::Error::other(e));
    let header_bytes = meta.header_bytes().map_err(bad)?;
    let mut sig = SignatureHeaderBuilder::new()
        .format(rpm::RpmFormat::V4)
        .set_content_length(header_bytes.len() as u64 + payload_len)
        .calculate_digests(&header_bytes);
    if let Some(s) = &signer {
        let signature = s
            .sign(&header_bytes[..], rpm::Timestamp(mtime))
            .map_err(|e| Error::format("rpm", "--pgp-key", format!("signing failed: {e}")))?;
        sig = sig.add_openpgp_signature(signature);
    }
    meta.signature = sig.build().map_err(bad)?;

    let mut w = BufWriter::new(&mut *out);
    meta.write(&mut w).map_err(bad)?;
    spool.seek(SeekFrom::Start(0)).at(spool_dir)?;
    io::copy(&mut spool, &mut w).at(spool_dir)?;
    w.flush().at(spool_dir)?;
    Ok(())
}

/// Header entries under construction.
#[derive(Default)]
struct Tags(Vec<HeaderEntry>);

impl Tags {
    fn put(&mut self, tag: IndexTag, data: IndexData) {
        self.0.retain(|e| e.tag != tag as u32);
        self.0.push(HeaderEntry::new(tag as u32, data));
    }
    fn s(&mut self, tag: IndexTag, v: &str) {
        self.put(tag, IndexData::StringTag(v.to_string()));
    }
    fn i18n(&mut self, tag: IndexTag, v: &str) {
        self.put(tag, IndexData::I18NString(vec![v.to_string()]));
    }
    fn strings(&mut self, tag: IndexTag, v: Vec<String>) {
        self.put(tag, IndexData::StringArray(v));
    }
    fn ints(&mut self, tag: IndexTag, v: Vec<u32>) {
        self.put(tag, IndexData::Int32(v));
    }

    fn main(
        &mut self,
        pkg: &Package,
        evr: &str,
        arch: &str,
        mtime: u32,
        fields: &[(IndexTag, String)],
    ) {
        let m = &pkg.meta;
        self.strings(IndexTag::RPMTAG_HEADERI18NTABLE, vec!["C".into()]);
        self.s(IndexTag::RPMTAG_NAME, &m.name);
        self.s(IndexTag::RPMTAG_VERSION, &m.version);
        self.s(IndexTag::RPMTAG_RELEASE, &m.release);
        if let Some(e) = m.epoch {
            self.ints(IndexTag::RPMTAG_EPOCH, vec![e]);
        }
        self.i18n(IndexTag::RPMTAG_SUMMARY, &summary(&m.summary));
        self.i18n(IndexTag::RPMTAG_DESCRIPTION, &m.description);
        self.ints(IndexTag::RPMTAG_BUILDTIME, vec![mtime]);
        // A fixed build host: the real one would make builds differ.
        self.s(IndexTag::RPMTAG_BUILDHOST, "packwright");
        self.s(
            IndexTag::RPMTAG_LICENSE,
            m.license.as_deref().unwrap_or("LicenseRef-Custom"),
        );
        self.s(IndexTag::RPMTAG_PACKAGER, &m.maintainer);
        self.s(
            IndexTag::RPMTAG_VENDOR,
            m.vendor.as_deref().unwrap_or(&m.maintainer),
        );
        self.i18n(
            IndexTag::RPMTAG_GROUP,
            pkg.options.group.as_deref().unwrap_or(DEFAULT_GROUP),
        );
        if let Some(u) = &m.homepage {
            self.s(IndexTag::RPMTAG_URL, u);
        }
        if let Some(d) = &pkg.options.distribution {
            self.s(IndexTag::RPMTAG_DISTRIBUTION, d);
        }
        self.s(IndexTag::RPMTAG_OS, "linux");
        self.s(IndexTag::RPMTAG_ARCH, arch);
        self.s(
            IndexTag::RPMTAG_RPMVERSION,
            concat!("packwright ", env!("CARGO_PKG_VERSION")),
        );
        self.s(IndexTag::RPMTAG_ENCODING, "utf-8");
        // Its presence is what marks a binary (not source) package to rpm.
        self.s(
            IndexTag::RPMTAG_SOURCERPM,
            &format!("{}-{}-{}.src.rpm", m.name, m.version, m.release),
        );
        let (time, name, text) = changelog(pkg, evr);
        self.ints(IndexTag::RPMTAG_CHANGELOGTIME, vec![time]);
        self.strings(IndexTag::RPMTAG_CHANGELOGNAME, vec![name]);
        self.strings(IndexTag::RPMTAG_CHANGELOGTEXT, vec![text]);
        for (tag, v) in fields {
            self.s(*tag, v);
        }
    }

    fn files(&mut self, f: &Files, mtime: u32, large: bool) {
        let total: u64 = f.sizes.iter().sum();
        if total > u64::from(u32::MAX) {
            self.put(IndexTag::RPMTAG_LONGSIZE, IndexData::Int64(vec![total]));
        } else {
            self.ints(IndexTag::RPMTAG_SIZE, vec![total as u32]);
        }
        self.ints(IndexTag::RPMTAG_FILEDIGESTALGO, vec![8]); // SHA-256
        let n = f.sizes.len();
        if n == 0 {
            return;
        }
        if large {
            self.put(
                IndexTag::RPMTAG_LONGFILESIZES,
                IndexData::Int64(f.sizes.clone()),
            );
        } else {
            self.ints(
                IndexTag::RPMTAG_FILESIZES,
                f.sizes.iter().map(|s| *s as u32).collect(),
            );
        }
        self.put(
            IndexTag::RPMTAG_FILEMODES,
            IndexData::Int16(f.modes.clone()),
        );
        self.put(IndexTag::RPMTAG_FILERDEVS, IndexData::Int16(vec![0; n]));
        self.ints(IndexTag::RPMTAG_FILEMTIMES, vec![mtime; n]);
        self.strings(IndexTag::RPMTAG_FILEDIGESTS, f.digests.clone());
        self.strings(IndexTag::RPMTAG_FILELINKTOS, f.links.clone());
        self.ints(IndexTag::RPMTAG_FILEFLAGS, f.flags.clone());
        self.strings(IndexTag::RPMTAG_FILEUSERNAME, f.users.clone());
        self.strings(IndexTag::RPMTAG_FILEGROUPNAME, f.groups.clone());
        self.ints(IndexTag::RPMTAG_FILEVERIFYFLAGS, vec![u32::MAX; n]);
        self.ints(IndexTag::RPMTAG_FILEDEVICES, vec![1; n]);
        self.ints(IndexTag::RPMTAG_FILEINODES, (1..=n as u32).collect());
        self.strings(IndexTag::RPMTAG_FILELANGS, vec![String::new(); n]);
        self.ints(IndexTag::RPMTAG_DIRINDEXES, f.dir_index.clone());
        self.strings(IndexTag::RPMTAG_BASENAMES, f.base.clone());
        self.strings(IndexTag::RPMTAG_DIRNAMES, f.dirs.clone());
    }

    fn scripts(&mut self, pkg: &Package, evr: &str) {
        for (slot, body) in life::scripts(pkg, evr) {
            let (tag, prog) = match slot {
                Slot::Pre => (IndexTag::RPMTAG_PREIN, IndexTag::RPMTAG_PREINPROG),
                Slot::Post => (IndexTag::RPMTAG_POSTIN, IndexTag::RPMTAG_POSTINPROG),
                Slot::PreUn => (IndexTag::RPMTAG_PREUN, IndexTag::RPMTAG_PREUNPROG),
                Slot::PostUn => (IndexTag::RPMTAG_POSTUN, IndexTag::RPMTAG_POSTUNPROG),
                Slot::PostTrans => (IndexTag::RPMTAG_POSTTRANS, IndexTag::RPMTAG_POSTTRANSPROG),
            };
            self.s(tag, &body);
            self.strings(prog, vec!["/bin/sh".into()]);
        }
    }

    fn relations(
        &mut self,
        pkg: &Package,
        evr: &str,
        rels: [(Sense, Vec<Dep>); 6],
        comp: Compression,
        large: bool,
    ) {
        let m = &pkg.meta;
        let mut all = rels;
        let rich = all
            .iter()
            .any(|(_, l)| l.iter().any(|d| d.name.starts_with('(')));
        let mut add = |sense: Sense, d: Dep| {
            all.iter_mut()
                .find(|(s, _)| *s == sense)
                .expect("every sense has a list")
                .1
                .push(d)
        };
        add(Sense::Provides, Dep::eq(&m.name, evr));
        if let Some(isa) = deps::isa(m.arch.name_for(Format::Rpm)) {
            add(Sense::Provides, Dep::eq(&format!("{}({isa})", m.name), evr));
        }
        // `Requires(pre): /bin/sh` and friends: the interpreter of each scriptlet.
        for (slot, _) in life::scripts(pkg, evr) {
            add(Sense::Requires, Dep::interp(slot));
        }
        let mut features = vec![
            ("CompressedFileNames", "3.0.4-1"),
            ("FileDigests", "4.6.0-1"),
            ("PayloadFilesHavePrefix", "4.0-1"),
        ];
        match comp {
            Compression::Zstd => features.push(("PayloadIsZstd", "5.4.18-1")),
            Compression::Xz => features.push(("PayloadIsXz", "5.2-1")),
            Compression::Gzip | Compression::None => {}
        }
        if large {
            features.push(("LargeFiles", "4.12.0-1"));
        }
        if rich {
            features.push(("RichDependencies", "4.12.0-1"));
        }
        for (f, v) in features {
            add(Sense::Requires, Dep::rpmlib(f, v));
        }
        for (sense, mut list) in all {
            if list.is_empty() {
                continue;
            }
            list.sort();
            list.dedup();
            let (n, fl, v) = sense.tags();
            self.strings(n, list.iter().map(|d| d.name.clone()).collect());
            self.ints(fl, list.iter().map(|d| d.flags).collect());
            self.strings(v, list.iter().map(|d| d.version.clone()).collect());
        }
    }

    fn payload(&mut self, comp: Compression, level: i32, packed: &str, raw: &str) {
        self.s(IndexTag::RPMTAG_PAYLOADFORMAT, "cpio");
        let name = match comp {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Xz => Some("xz"),
            Compression::Zstd => Some("zstd"),
        };
        if let Some(n) = name {
            self.s(IndexTag::RPMTAG_PAYLOADCOMPRESSOR, n);
            self.s(IndexTag::RPMTAG_PAYLOADFLAGS, &level.to_string());
        }
        self.strings(IndexTag::RPMTAG_PAYLOADSHA256, vec![packed.to_string()]);
        self.ints(IndexTag::RPMTAG_PAYLOADSHA256ALGO, vec![8]);
        self.strings(IndexTag::RPMTAG_PAYLOADSHA256ALT, vec![raw.to_string()]);
    }
}

/// rpm's convention (and rpmlint's check) is a capitalised summary.
fn summary(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One changelog entry for this release, dated `meta.mtime`: the notes under
/// the upstream changelog's heading for this version, or a generated line.
fn changelog(pkg: &Package, evr: &str) -> (u32, String, String) {
    let m = &pkg.meta;
    let notes = notes(&m.notes);
    let text = if notes.is_empty() {
        format!("- Upstream release {}.", m.version)
    } else {
        notes
    };
    let time = u32::try_from(m.mtime).unwrap_or(u32::MAX);
    (time, format!("{} - {evr}", m.maintainer), text)
}

/// rpm changelog items: "- first line", continuation lines indented 2.
fn notes(items: &[Vec<String>]) -> String {
    let lines = items.iter().flat_map(|item| {
        item.iter()
            .enumerate()
            .map(|(i, l)| format!("{}{l}", if i == 0 { "- " } else { "  " }))
    });
    lines.collect::<Vec<_>>().join("\n")
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
    fn changelog_notes() {
        let items = vec![
            vec!["first line".to_string(), "wrapped".to_string()],
            vec!["second".to_string()],
        ];
        assert_eq!(notes(&items), "- first line\n  wrapped\n- second");
        assert_eq!(notes(&[]), "");
    }

    #[test]
    fn doc_and_license_flags() {
        assert_eq!(file_flags("/usr/share/doc/x/README"), 2);
        assert_eq!(file_flags("/usr/share/man/man1/x.1.gz"), 2);
        assert_eq!(file_flags("/usr/share/licenses/x/LICENSE"), 128);
        assert_eq!(file_flags("/usr/bin/x"), 0);
    }

    #[test]
    fn summary_is_capitalised() {
        assert_eq!(summary("build things"), "Build things");
    }
}
