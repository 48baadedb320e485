//! .rpm files, packwright's and anyone else's (rpmbuild's, nfpm's): only
//! the lead and the two headers are read; the payload is never loaded.

use super::{FileInfo, Inspection, ScriptInfo};
use crate::error::{Error, Result};
use rpm::{Dependency, DependencyFlags, FileType, PackageMetadata};
use serde_json::{Map, Value};
use std::io::BufRead;
use std::path::Path;

/// The most header bytes `inspect` reads (rpm's own limit for one header is
/// 256 MiB; real ones are a few MiB even with thousands of files).
const HEADER_LIMIT: u64 = 64 << 20;

/// The signature and main headers' declared sizes, from their intros,
/// checked before the rpm crate allocates them.
fn check_header_sizes(path: &Path) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut at = 96u64; // the lead
    for (i, what) in ["signature", "main"].iter().enumerate() {
        let mut intro = [0u8; 16];
        f.seek(SeekFrom::Start(at))
            .and_then(|_| f.read_exact(&mut intro))
            .map_err(|e| Error::package(path, format!("bad .rpm: the {what} header: {e}")))?;
        let n = u32::from_be_bytes(intro[8..12].try_into().expect("4 bytes")) as u64;
        let data = u32::from_be_bytes(intro[12..16].try_into().expect("4 bytes")) as u64;
        let size = n * 16 + data;
        if size > HEADER_LIMIT {
            return Err(Error::package(path, format!("bad .rpm: the {what} header declares {size} bytes; packwright reads headers of at most {} MiB", HEADER_LIMIT >> 20)));
        }
        at += 16 + size;
        if i == 0 {
            at = at.div_ceil(8) * 8; // the signature header is padded to 8
        }
    }
    Ok(())
}

pub fn inspect(path: &Path, r: &mut dyn BufRead) -> Result<Inspection> {
    check_header_sizes(path)?;
    let meta = PackageMetadata::parse(&mut BufReadRef(r)).map_err(bad(path))?;
    let fields = fields(path, &meta)?;
    let files = files(path, &meta)?;
    let mut warnings = Vec::new();
    let scripts = scripts(&meta, &mut warnings);
    Ok(Inspection {
        format: "rpm",
        fields,
        files,
        scripts,
        warnings,
    })
}

/// A header the rpm crate could not read, as an error naming the file.
fn bad(path: &Path) -> impl Fn(rpm::Error) -> Error + '_ {
    move |e| Error::package(path, format!("bad .rpm: {e}"))
}

/// The header's fields as `rpm -qi` names them, then its relations,
/// changelog and signatures; empty ones left out.
fn fields(path: &Path, meta: &PackageMetadata) -> Result<Map<String, Value>> {
    let mut fields = Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            fields.insert(k.to_string(), Value::String(v));
        }
    };
    let s = |r: std::result::Result<&str, rpm::Error>| r.ok().map(str::to_string);
    put("Name", s(meta.get_name()));
    put("Epoch", meta.get_epoch().ok().map(|e| e.to_string()));
    put("Version", s(meta.get_version()));
    put("Release", s(meta.get_release()));
    put("Architecture", s(meta.get_arch()));
    put("Summary", s(meta.get_summary()));
    put("Description", s(meta.get_description()));
    put("License", s(meta.get_license()));
    put("Group", s(meta.get_group()));
    put("URL", s(meta.get_url()));
    put("Vendor", s(meta.get_vendor()));
    put("Packager", s(meta.get_packager()));
    put(
        "Build Time",
        meta.get_build_time().ok().map(|t| t.to_string()),
    );
    put("Build Host", s(meta.get_build_host()));
    put("Source RPM", s(meta.get_source_rpm()));
    put(
        "Payload",
        meta.get_payload_compressor().ok().map(|c| c.to_string()),
    );
    for (k, deps) in [
        ("Requires", meta.get_requires()),
        ("Provides", meta.get_provides()),
        ("Conflicts", meta.get_conflicts()),
        ("Obsoletes", meta.get_obsoletes()),
        ("Recommends", meta.get_recommends()),
        ("Suggests", meta.get_suggests()),
    ] {
        let list = deps.map_err(bad(path))?;
        put(k, Some(list.iter().map(dep).collect::<Vec<_>>().join(", ")));
    }
    if let Ok(log) = meta.get_changelog_entries() {
        let text: Vec<String> = log
            .iter()
            .map(|c| format!("{} ({})\n{}", c.name, c.timestamp, c.description))
            .collect();
        put("Changelog", Some(text.join("\n\n")));
    }
    put("Signature", Some(signers(meta).join(", ")));
    Ok(fields)
}

/// Who signed it, by fingerprint where the signature names one.
fn signers(meta: &PackageMetadata) -> Vec<String> {
    meta.signatures()
        .unwrap_or_default()
        .iter()
        .map(|i| match (i.fingerprint(), i.key_id()) {
            (Some(f), _) => format!("fingerprint {f}"),
            (None, Some(k)) => format!("key id {k}"),
            (None, None) => "unknown key".to_string(),
        })
        .collect()
}

/// The file list, from the header alone.
fn files(path: &Path, meta: &PackageMetadata) -> Result<Vec<FileInfo>> {
    Ok(meta
        .get_file_entries()
        .map_err(bad(path))?
        .iter()
        .map(|f| FileInfo {
            path: f.path().to_string_lossy().into_owned(),
            kind: match f.file_type() {
                FileType::Regular => "file",
                FileType::Dir => "dir",
                FileType::SymbolicLink => "symlink",
                _ => "other",
            },
            mode: format!("{:04o}", f.permissions() & 0o7777),
            owner: f.user().to_string(),
            group: f.group().to_string(),
            size: f.size() as u64,
            link: f.linkto().filter(|l| !l.is_empty()).map(str::to_string),
        })
        .collect())
}

/// Every scriptlet the header holds, in transaction order, with its
/// interpreter when not /bin/sh; each cut at `MEMBER_LIMIT`.
fn scripts(meta: &PackageMetadata, warnings: &mut Vec<String>) -> Vec<ScriptInfo> {
    let mut scripts = Vec::new();
    for (name, got) in [
        ("%pretrans", meta.get_pre_trans_script()),
        ("%pre", meta.get_pre_install_script()),
        ("%post", meta.get_post_install_script()),
        ("%preun", meta.get_pre_uninstall_script()),
        ("%postun", meta.get_post_uninstall_script()),
        ("%posttrans", meta.get_post_trans_script()),
        ("%preuntrans", meta.get_pre_untrans_script()),
        ("%postuntrans", meta.get_post_untrans_script()),
        ("%verifyscript", meta.get_verify_script()),
    ] {
        if let Ok(sc) = got {
            let prog = sc.program.map(|p| p.join(" ")).unwrap_or_default();
            let name = if prog.is_empty() {
                name.to_string()
            } else {
                format!("{name} -p {prog}")
            };
            let text = super::bound_text(sc.script, &name, warnings);
            scripts.push(ScriptInfo { name, text });
        }
    }
    scripts
}

/// `name >= version` as rpm prints it.
fn dep(d: &Dependency) -> String {
    let f = d.flags;
    let op = match (
        f.contains(DependencyFlags::LESS),
        f.contains(DependencyFlags::GREATER),
        f.contains(DependencyFlags::EQUAL),
    ) {
        (true, false, true) => "<=",
        (false, true, true) => ">=",
        (true, false, false) => "<",
        (false, true, false) => ">",
        (false, false, true) => "=",
        _ => "",
    };
    let when: Vec<&str> = [
        (DependencyFlags::PRETRANS, "pretrans"),
        (DependencyFlags::SCRIPT_PRE, "pre"),
        (DependencyFlags::SCRIPT_POST, "post"),
        (DependencyFlags::SCRIPT_PREUN, "preun"),
        (DependencyFlags::SCRIPT_POSTUN, "postun"),
        (DependencyFlags::POSTTRANS, "posttrans"),
    ]
    .into_iter()
    .filter(|(flag, _)| f.contains(*flag))
    .map(|(_, n)| n)
    .collect();
    let mut s = d.name.clone();
    if !op.is_empty() && !d.version.is_empty() {
        s = format!("{s} {op} {}", d.version);
    }
    if !when.is_empty() {
        // Requires(pre) and the like: needed while that scriptlet runs.
        s = format!("{s} ({})", when.join(","));
    }
    s
}

/// `&mut dyn BufRead` as the `impl BufRead` rpm-rs asks for.
struct BufReadRef<'a>(&'a mut dyn BufRead);

impl std::io::Read for BufReadRef<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl BufRead for BufReadRef<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.0.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.0.consume(n)
    }
}
