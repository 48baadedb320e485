//! .zip for Windows and anyone without tar: checked against Windows' naming
//! rules first, so an archive Explorer would mangle is never written.

use crate::archive::compress::threads;
use crate::archive::packed::Codec;
use crate::archive::pkzip::{DosTime, ZipOut};
use crate::error::{Error, IoContext, Result};
use crate::plan::{Entry, Kind, Package};
use std::collections::HashMap;
use std::io::{BufWriter, Read};

const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn err(e: &Entry, msg: String) -> Error {
    Error::format("zip", &e.from, msg)
}

/// Windows rejects these characters, device names and trailing dots/spaces.
fn check_name(e: &Entry) -> Result<()> {
    if e.path.starts_with('/')
        || e.path.contains('\\')
        || e.path.split('/').any(|c| c == ".." || c == ".")
    {
        return Err(err(
            e,
            format!(
                "`{}` must be a relative path with forward slashes and no `..`",
                e.path
            ),
        ));
    }
    for comp in e.path.split('/') {
        if let Some(c) = comp
            .chars()
            .find(|c| "<>:\"|?*".contains(*c) || c.is_control())
        {
            return Err(err(
                e,
                format!("`{}`: {c:?} is not allowed in Windows file names", e.path),
            ));
        }
        let stem = comp.split('.').next().unwrap_or(comp).trim_end();
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
            return Err(err(
                e,
                format!(
                    "`{}`: `{comp}` is a reserved device name on Windows",
                    e.path
                ),
            ));
        }
        if comp.ends_with('.') || comp.ends_with(' ') {
            return Err(err(
                e,
                format!(
                    "`{}`: `{comp}` ends with a dot or space, which Windows strips",
                    e.path
                ),
            ));
        }
    }
    Ok(())
}

/// cmd.exe and PowerShell scripts need CRLF line endings.
fn check_crlf(e: &Entry) -> Result<()> {
    let lower = e.path.to_ascii_lowercase();
    let Kind::File(src) = &e.kind else {
        return Ok(());
    };
    if ![".cmd", ".bat", ".ps1"].iter().any(|x| lower.ends_with(x)) {
        return Ok(());
    }
    let mut text = Vec::new();
    src.open()?.read_to_end(&mut text).at(&e.path)?;
    let mut line = 1;
    for (i, b) in text.iter().enumerate() {
        if *b == b'\n' {
            if i == 0 || text[i - 1] != b'\r' {
                return Err(err(e, format!("`{}` line {line} ends with LF only; Windows scripts need CRLF line endings (convert it, e.g. with unix2dos)", e.path)));
            }
            line += 1;
        }
    }
    Ok(())
}

pub fn check(pkg: &Package) -> Result<()> {
    let mut seen: HashMap<String, &Entry> = HashMap::new();
    for e in &pkg.tree {
        if let Kind::Symlink(t) = &e.kind {
            return Err(err(e, format!("`{}` is a symlink (to `{t}`); zip archives for Windows cannot hold symlinks: leave it out with `only`, or package what it points to with `follow-symlinks = true` on its [[files]] entry", e.path)));
        }
        check_name(e)?;
        check_crlf(e)?;
        if let Some(prev) = seen.insert(e.path.to_lowercase(), e) {
            return Err(err(
                e,
                format!(
                    "`{}` and `{}` (from {}) differ only in case; Windows would merge them",
                    e.path, prev.path, prev.from
                ),
            ));
        }
    }
    Ok(())
}

/// The deflate level: the build's, 6 unless set.
fn level(pkg: &Package) -> u32 {
    pkg.options.level.unwrap_or(6).clamp(0, 9) as u32
}

pub fn codec(pkg: &Package) -> Codec {
    Codec::Deflate(level(pkg))
}

/// Writes what `check` accepted (the pipeline checks before any write).
pub fn write(pkg: &Package, out: super::Out) -> Result<()> {
    let name = pkg.meta.portable_stem();
    let when = DosTime::from_unix(pkg.meta.mtime as i64);
    let level = level(pkg);
    let buf = BufWriter::with_capacity(1 << 20, &mut *out.file);
    let mut zip = ZipOut::new(buf, when, level, threads()).at(&name)?;
    let total: u64 = pkg.tree.iter().map(|e| e.size()).sum();
    let mut done = 0;
    for e in &pkg.tree {
        match &e.kind {
            Kind::Dir => zip.dir(&format!("{}/", e.path), e.mode).at(&e.path)?,
            Kind::File(src) => match out.shared.packed(src, Some(codec(pkg)))? {
                Some(p) => zip.packed(&e.path, e.mode, &p).at(&e.path)?,
                None => {
                    let mut r = src.open()?;
                    zip.file(&e.path, e.mode, src.size(), &mut r).at(&e.path)?;
                }
            },
            // `check` refused symlinks; nothing reaches here.
            Kind::Symlink(_) => {}
        }
        done += e.size();
        out.report.progress("zip", done, total);
    }
    zip.finish().at(&name)?;
    Ok(())
}
