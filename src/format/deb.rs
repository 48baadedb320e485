//! .deb: `debian-binary`, `control.tar.*`, `data.tar.*` in an ar archive.
//! md5sums go in control.tar, before the payload: a large file's come from
//! the read that compresses or digests it alone (`format::Shared`), the
//! others' from a first read; data.tar then streams into the archive and
//! its size is filled in after.

use crate::archive::digest::{self, Want};
use crate::archive::packed::{Codec, Packed, Splice};
use crate::archive::Compression;
use crate::archive::{ar::ArWriter, compress, compress::Encoder, tar::TarOut};
use crate::error::{Error, IoContext, Result};
use crate::plan::{Arch, Entry, Kind, Package};
use md5::{Digest, Md5};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

/// Licenses whose text Debian ships in /usr/share/common-licenses.
const COMMON_LICENSES: &[&str] = &[
    "Apache-2.0",
    "Artistic",
    "BSD",
    "CC0-1.0",
    "GFDL-1.2",
    "GFDL-1.3",
    "GPL-1",
    "GPL-2",
    "GPL-3",
    "LGPL-2",
    "LGPL-2.1",
    "LGPL-3",
    "MPL-1.1",
    "MPL-2.0",
];

/// Debian's upstream-version rule: starts with a digit; alphanumerics and `.+~-`.
fn check_version(v: &str, key: &str, allow_dash: bool) -> Result<()> {
    let ok = v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c) || (allow_dash && c == '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::format("deb", key, format!("`{v}` is not a Debian version: start with a digit, then letters, digits, `.`, `+`, `~`")))
    }
}

/// deb's spelling of an architecture.
fn spelling(a: Arch) -> &'static str {
    match a {
        Arch::X86_64 => "amd64",
        Arch::Aarch64 => "arm64",
        Arch::Armv7 => "armhf",
        Arch::I686 => "i386",
        Arch::Riscv64 => "riscv64",
        Arch::All => "all",
    }
}

pub fn full_version(pkg: &Package) -> Result<String> {
    let m = &pkg.meta;
    check_version(&m.version, "package.version", true)?;
    if m.release.is_empty()
        || !m
            .release
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c))
    {
        return Err(Error::format(
            "deb",
            &m.release_key,
            format!(
                "`{}` may hold only letters, digits, `.`, `+`, `~` in a Debian revision",
                m.release
            ),
        ));
    }
    let epoch = m.epoch.map(|e| format!("{e}:")).unwrap_or_default();
    Ok(format!("{epoch}{}-{}", m.version, m.release))
}

pub fn file_name(pkg: &Package) -> Result<String> {
    let v = full_version(pkg)?;
    let v = v.split_once(':').map_or(v.as_str(), |(_, v)| v);
    Ok(format!(
        "{}_{}_{}.deb",
        pkg.meta.name,
        v,
        spelling(pkg.meta.arch)
    ))
}

/// What the deb writer needs, decided: the version and the control file
/// around `Installed-Size` (known only once the payload is written).
pub struct Job {
    version: String,
    control_head: String,
    control_tail: String,
}

pub fn prepare(pkg: &Package) -> Result<Job> {
    let version = full_version(pkg)?;
    let (control_head, control_tail) = control_file(pkg, &version)?;
    Ok(Job {
        version,
        control_head,
        control_tail,
    })
}

/// The shareable codec of data.tar's stream (xz, dpkg's default, has none).
pub fn codec(pkg: &Package) -> Option<Codec> {
    let comp = pkg.options.compression.unwrap_or(Compression::Xz);
    compress::codec(comp, pkg.options.level)
}

pub fn write(pkg: &Package, job: Job, out: super::Out) -> Result<()> {
    let version = &job.version;
    let comp = pkg.options.compression.unwrap_or(Compression::Xz);
    let tree = pkg.tree_with(docs(pkg, version)?);
    let spool_dir = out.spool;

    // Pass 1: md5sums, which precede the payload: a large file's from the
    // read that compresses (or, built alone, digests) it alone, the others'
    // read here.
    let packed = super::packed_all(out.shared, codec(pkg), &tree)?;
    let sums = md5sums(&tree, &packed)?;
    let kib = tree.iter().map(|e| e.size().div_ceil(1024).max(1)).sum();
    let mut text = String::new();
    for (e, sum) in tree.iter().zip(&sums) {
        if let Some(sum) = sum {
            text.push_str(&format!("{}  {}\n", hex::encode(sum), &e.path[1..]));
        }
    }
    let control_tar = control_archive(pkg, &job, comp, kib, text, spool_dir)?;

    // Pass 2: the payload, straight into the archive (its size is filled
    // in after it).
    let ext = compress::extension(comp);
    let file = out.file;
    let mut ar = ArWriter::new(BufWriter::new(file), pkg.meta.mtime).at(spool_dir)?;
    ar.append("debian-binary", 4, &mut &b"2.0\n"[..])
        .at(spool_dir)?;
    ar.append(
        &format!("control.tar{ext}"),
        control_tar.len() as u64,
        &mut &control_tar[..],
    )
    .at(spool_dir)?;
    let member = ar.begin(&format!("data.tar{ext}")).at(spool_dir)?;
    let payload = Payload {
        tree: &tree,
        packed: &packed,
        sums: &sums,
    };
    data(pkg, &payload, comp, ar.get_mut(), spool_dir, out.report)?;
    ar.end(member).at(spool_dir)?;
    ar.into_inner().flush().at(spool_dir)?;
    Ok(())
}

/// Each regular file's md5, in tree order, one file per core; a file
/// compressed alone has it from the read that compressed or digested it.
fn md5sums(tree: &[Entry], packed: &[Option<Arc<Packed>>]) -> Result<Vec<Option<[u8; 16]>>> {
    let items: Vec<_> = tree.iter().zip(packed).collect();
    super::share::on_cores(&items, compress::threads(), |(e, p)| {
        Ok(match (&e.kind, p) {
            (Kind::File(_), Some(p)) => Some(p.sums.md5.expect("a deb build asks for md5")),
            (Kind::File(src), None) => {
                let mut d = digest::sink(Want::MD5);
                std::io::copy(&mut src.open()?, &mut d).at(&e.path)?;
                d.finish().1.md5
            }
            _ => None,
        })
    })
}

/// The payload's entries with, in the same order, what pass 1 found.
struct Payload<'a> {
    tree: &'a [Entry],
    packed: &'a [Option<Arc<Packed>>],
    sums: &'a [Option<[u8; 16]>],
}

/// data.tar through `comp` into `w`, each file re-hashed (unless spliced,
/// then it is the bytes hashed) to prove it is what md5sums lists.
fn data<W: Write>(
    pkg: &Package,
    payload: &Payload,
    comp: Compression,
    w: W,
    spool_dir: &Path,
    report: &dyn crate::report::Report,
) -> Result<()> {
    let Payload { tree, packed, sums } = payload;
    let enc = Encoder::new(comp, pkg.options.level, w).at(spool_dir)?;
    let mut tar = TarOut::new(enc);
    append_dot(&mut tar, pkg.meta.mtime)?;
    let total: u64 = tree.iter().map(Entry::size).sum();
    let mut done = 0u64;
    for ((e, p), sum) in tree.iter().zip(packed.iter()).zip(sums.iter()) {
        let path = if e.is_dir() {
            format!(".{}/", e.path)
        } else {
            format!(".{}", e.path)
        };
        let mut md5 = Md5::new();
        let p = p.as_deref();
        // A content compressed alone has its md5 from the read that
        // compressed or digested it (placing it checks it is unchanged).
        super::append_entry(&mut tar, e, &path, pkg.meta.mtime, &[], p, &mut |b| {
            if p.is_none() {
                md5.update(b)
            }
        })?;
        if let (Some(sum), None) = (sum, p) {
            if <[u8; 16]>::from(md5.finalize()) != *sum {
                return Err(super::changed(e));
            }
        }
        done += e.size();
        report.progress("deb", done, total);
    }
    tar.finish().and_then(Encoder::finish).at(spool_dir)?;
    Ok(())
}

/// The `./` entry both of a .deb's tars start with, as dpkg-deb writes them.
fn append_dot<W: Splice>(tar: &mut TarOut<W>, mtime: u64) -> Result<()> {
    let dot = Entry::root_dir("");
    super::append_entry(tar, &dot, "./", mtime, &[], None, &mut |_| {})
}

/// control.tar: control, md5sums and the maintainer scripts; small, built
/// in memory.
fn control_archive(
    pkg: &Package,
    job: &Job,
    comp: Compression,
    kib: u64,
    md5sums: String,
    spool_dir: &Path,
) -> Result<Vec<u8>> {
    let control = format!(
        "{}Installed-Size: {kib}\n{}",
        job.control_head, job.control_tail
    );
    let mut files: Vec<(&str, Vec<u8>, u32)> = vec![
        ("control", control.into_bytes(), 0o644),
        ("md5sums", md5sums.into_bytes(), 0o644),
    ];
    let scripts = crate::lifecycle::deb::scripts(pkg, &job.version);
    for (name, text) in &scripts {
        files.push((name, text.clone().into_bytes(), 0o755));
    }
    let mut ctar = TarOut::new(Encoder::new(comp, pkg.options.level, Vec::new()).at(spool_dir)?);
    append_dot(&mut ctar, pkg.meta.mtime)?;
    for (name, data, mode) in files {
        let e = Entry::generated(name, data, mode, "control");
        super::append_entry(
            &mut ctar,
            &e,
            &format!("./{name}"),
            pkg.meta.mtime,
            &[],
            None,
            &mut |_| {},
        )?;
    }
    ctar.finish().and_then(Encoder::finish).at(spool_dir)
}

/// Fields packwright writes itself; `[format.deb] fields` may not repeat them.
const OWN_FIELDS: &[&str] = &[
    "Package",
    "Version",
    "Architecture",
    "Maintainer",
    "Installed-Size",
    "Depends",
    "Recommends",
    "Suggests",
    "Conflicts",
    "Provides",
    "Replaces",
    "Section",
    "Priority",
    "Homepage",
    "Description",
    "Source",
];

/// deb-control(5): a field name is printable ASCII without space or `:`,
/// and must not start with `#` or `-`.
fn check_field_name(k: &str) -> Result<()> {
    let ok = !k.is_empty()
        && !k.starts_with(['#', '-'])
        && k.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    if !ok {
        // The name itself is bad: point at the table, quote the name.
        return Err(Error::format("deb", "format.deb.fields", format!("{k:?} is not a control field name: printable ASCII without spaces or `:`, not starting with `#` or `-`")));
    }
    if let Some(own) = OWN_FIELDS.iter().find(|f| f.eq_ignore_ascii_case(k)) {
        return Err(Error::format(
            "deb",
            format!("format.deb.fields.{k}"),
            format!(
                "`{own}` is written by packwright from the manifest; set it there, not in fields"
            ),
        ));
    }
    Ok(())
}

/// A control value is one line: a newline would start another field.
fn one_line(key: &str, v: &str) -> Result<()> {
    if v.contains(['\n', '\r']) {
        return Err(Error::format(
            "deb",
            key,
            format!("{v:?} must be one line in a control file"),
        ));
    }
    Ok(())
}

/// The control file before and after `Installed-Size`, every value checked.
fn control_file(pkg: &Package, version: &str) -> Result<(String, String)> {
    let m = &pkg.meta;
    let r = &pkg.relations;
    let mut head = String::new();
    let field = |c: &mut String, key: &str, k: &str, v: &str| -> Result<()> {
        one_line(key, v)?;
        if !v.is_empty() {
            c.push_str(&format!("{k}: {v}\n"));
        }
        Ok(())
    };
    field(&mut head, "package.name", "Package", &m.name)?;
    field(&mut head, "package.version", "Version", version)?;
    field(&mut head, &m.arch_key, "Architecture", spelling(m.arch))?;
    field(&mut head, "package.maintainer", "Maintainer", &m.maintainer)?;
    let mut tail = String::new();
    for (k, name, list) in [
        ("Depends", "depends", &r.depends),
        ("Recommends", "recommends", &r.recommends),
        ("Suggests", "suggests", &r.suggests),
        ("Conflicts", "conflicts", &r.conflicts),
        ("Provides", "provides", &r.provides),
        ("Replaces", "replaces", &r.replaces),
    ] {
        for (i, d) in list.iter().enumerate() {
            one_line(&format!("relations.{name}[{i}]"), d)?;
        }
        field(&mut tail, &format!("relations.{name}"), k, &list.join(", "))?;
    }
    let o = &pkg.options;
    field(
        &mut tail,
        "format.deb.section",
        "Section",
        o.section.as_deref().unwrap_or("misc"),
    )?;
    let priority = o.priority.as_deref().unwrap_or("optional");
    field(&mut tail, "format.deb.priority", "Priority", priority)?;
    field(
        &mut tail,
        "package.homepage",
        "Homepage",
        m.homepage.as_deref().unwrap_or(""),
    )?;
    for (k, v) in &o.fields {
        check_field_name(k)?;
        field(&mut tail, &format!("format.deb.fields.{k}"), k, v)?;
    }
    one_line("package.summary", &m.summary)?;
    tail.push_str(&format!("Description: {}\n", m.summary));
    for line in m.description.lines() {
        if line.trim().is_empty() {
            tail.push_str(" .\n");
        } else {
            tail.push_str(&format!(" {line}\n"));
        }
    }
    Ok((head, tail))
}

/// `/usr/share/doc/<pkg>/copyright` and the changelogs Debian policy asks for.
fn docs(pkg: &Package, version: &str) -> Result<Vec<Entry>> {
    let m = &pkg.meta;
    let dir = format!("/usr/share/doc/{}", m.name);
    let mut out = vec![Entry::generated(
        format!("{dir}/copyright"),
        copyright(pkg).into_bytes(),
        0o644,
        "package.license",
    )];
    let date = time::OffsetDateTime::from_unix_timestamp(m.mtime as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default();
    let dist = pkg.options.distribution.as_deref().unwrap_or("unstable");
    // Debian changelog items: "  * first line", continuation lines indented 4.
    let mut body: String = m
        .notes
        .iter()
        .flat_map(|item| {
            item.iter()
                .enumerate()
                .map(|(i, l)| format!("{}{l}\n", if i == 0 { "  * " } else { "    " }))
        })
        .collect();
    if body.is_empty() {
        body = "  * New upstream release.\n".to_string();
    }
    let deb_log = format!(
        "{} ({version}) {dist}; urgency=medium\n\n{body}\n -- {}  {date}\n",
        m.name, m.maintainer
    );
    let gz = |s: &str| compress::gzip_best(s.as_bytes()).at(&dir);
    out.push(Entry::generated(
        format!("{dir}/changelog.Debian.gz"),
        gz(&deb_log)?,
        0o644,
        "package.changelog",
    ));
    if let Some(text) = &m.changelog {
        out.push(Entry::generated(
            format!("{dir}/changelog.gz"),
            gz(text)?,
            0o644,
            "package.changelog",
        ));
    }
    // The hook is static on purpose (it runs in roots without a libc);
    // lintian reports every static binary unless told why.
    if let Some(hook) = &pkg.lifecycle.hook {
        out.push(Entry::generated(
            format!("/usr/share/lintian/overrides/{}", m.name),
            format!(
                "# packwright-hook runs in minimal roots and chroots without a libc.\n\
                 {n}: statically-linked-binary [{h}]\n\
                 # A static-pie is an ET_DYN object that needs no library.\n\
                 {n}: shared-library-lacks-prerequisites [{h}]\n\
                 # Its YAML parser (yaml-rust2, pure Rust) reuses libyaml's error texts,\n\
                 # which lintian takes for an embedded libyaml.\n\
                 {n}: embedded-library libyaml [{h}]\n",
                n = m.name,
                h = hook.trim_start_matches('/')
            )
            .into_bytes(),
            0o644,
            "hook",
        ));
    }
    Ok(out)
}

fn copyright(pkg: &Package) -> String {
    let m = &pkg.meta;
    let year = time::OffsetDateTime::from_unix_timestamp(m.mtime as i64)
        .map(|t| t.year())
        .unwrap_or(1970);
    let holder = m.vendor.as_deref().unwrap_or(&m.maintainer);
    let license = m.license.clone().unwrap_or_else(|| "custom".into());
    let mut s = format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: {}\n",
        m.name
    );
    if let Some(h) = &m.homepage {
        s.push_str(&format!("Source: {h}\n"));
    }
    s.push_str(&format!(
        "\nFiles: *\nCopyright: {year} {holder}\nLicense: {license}\n"
    ));
    let common = COMMON_LICENSES.iter().find(|l| {
        **l == license
            || license
                .trim_end_matches("-only")
                .trim_end_matches("-or-later")
                .replace(".0", "")
                == **l
    });
    match (common, &m.license_text) {
        (Some(l), _) => s.push_str(&format!(" On Debian systems, the full text of the {license} license can be found in\n /usr/share/common-licenses/{l}.\n")),
        (None, Some(text)) => {
            for line in text.trim_end().lines() {
                s.push_str(if line.trim().is_empty() { " .\n" } else { " " });
                if !line.trim().is_empty() {
                    s.push_str(line.trim_end());
                    s.push('\n');
                }
            }
        }
        (None, None) => s.push_str(" The license text was not given (set package.license-file).\n"),
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions() {
        assert!(super::check_version("3.5.0", "k", true).is_ok());
        assert!(super::check_version("1.0~rc1+dfsg", "k", true).is_ok());
        assert!(super::check_version("v3", "k", true)
            .unwrap_err()
            .to_string()
            .contains("start with a digit"));
        assert!(super::check_version("3_0", "k", true).is_err());
    }
}
