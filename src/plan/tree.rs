//! `[[files]]`, `[[dirs]]` and `[[symlinks]]` → sorted entries with every
//! parent directory, checked for clashes.

use super::{Entry, Kind, Layout, Source};
use crate::error::{IoContext, Result};
use crate::manifest::{schema, Locator};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(super) struct Ctx<'a> {
    pub loc: &'a Locator,
    pub project: &'a Path,
    pub format_key: &'a str,
    pub pkg: &'a str,
}

/// Parse "0644" / "644" into permission bits.
pub(super) fn parse_mode(loc: &Locator, key: &str, s: &str) -> Result<u32> {
    let digits = s.strip_prefix("0o").unwrap_or(s);
    match u32::from_str_radix(digits, 8) {
        Ok(m) if (3..=4).contains(&digits.len()) && m <= 0o7777 => Ok(m),
        _ => Err(loc.error(
            key,
            format!("mode `{s}` is not an octal mode such as \"0644\" or \"0755\""),
        )),
    }
}

pub(super) fn check_dst(loc: &Locator, key: &str, dst: &str) -> Result<()> {
    if !dst.starts_with('/') {
        return Err(loc.error(
            key,
            format!("destination `{dst}` is not absolute (start it with `/`)"),
        ));
    }
    if dst.split('/').any(|c| c == ".." || c == ".") {
        return Err(loc.error(key, format!("destination `{dst}` contains `.` or `..`")));
    }
    if dst.chars().any(|c| c.is_control()) {
        return Err(loc.error(
            key,
            format!("destination {dst:?} contains a control character"),
        ));
    }
    Ok(())
}

fn norm(dst: &str) -> String {
    let parts: Vec<&str> = dst.split('/').filter(|c| !c.is_empty()).collect();
    format!("/{}", parts.join("/"))
}

fn owner(o: &Option<String>) -> String {
    o.clone().unwrap_or_else(|| "root".into())
}

fn applies(ctx: &Ctx, key: &str, only: &Option<Vec<String>>) -> Result<bool> {
    let Some(list) = only else { return Ok(true) };
    for (i, f) in list.iter().enumerate() {
        if !crate::format::NAMES.contains(&f.as_str()) {
            return Err(ctx.loc.error(
                &format!("{key}.only[{i}]"),
                format!(
                    "unknown format `{f}`; known: {}",
                    crate::format::NAMES.join(", ")
                ),
            ));
        }
    }
    Ok(list.iter().any(|f| f == ctx.format_key))
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

#[cfg(unix)]
fn executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn executable(_: &std::fs::Metadata) -> bool {
    false
}

/// Every entry the manifest asks for, with system (absolute) paths.
pub(super) fn collect(ctx: &Ctx, m: &schema::Manifest) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for (i, f) in m.files.iter().enumerate() {
        let key = format!("files[{i}]");
        if !applies(ctx, &key, &f.only)? {
            continue;
        }
        check_dst(ctx.loc, &format!("{key}.dst"), &f.dst)?;
        let mode = f
            .mode
            .as_deref()
            .map(|s| parse_mode(ctx.loc, &format!("{key}.mode"), s))
            .transpose()?;
        let (own, grp) = (owner(&f.owner), owner(&f.group));
        let into_dir = f.dst.ends_with('/');
        let dst = norm(&f.dst);
        let mut push_file = |path: PathBuf, dst: String, meta: &std::fs::Metadata| {
            let m = mode.unwrap_or(if executable(meta) { 0o755 } else { 0o644 });
            out.push(Entry {
                path: dst,
                kind: Kind::File(Source::Path {
                    path,
                    size: meta.len(),
                }),
                mode: m,
                owner: own.clone(),
                group: grp.clone(),
                owned: false,
                from: key.clone(),
            });
        };
        if is_glob(&f.src) {
            let pattern = ctx.project.join(&f.src);
            let matches: Vec<PathBuf> = glob::glob(&pattern.to_string_lossy())
                .map_err(|e| {
                    ctx.loc
                        .error(&format!("{key}.src"), format!("bad glob `{}`: {e}", f.src))
                })?
                .filter_map(|p| p.ok())
                .collect();
            if matches.is_empty() {
                return Err(ctx.loc.error(
                    &format!("{key}.src"),
                    format!(
                        "glob `{}` matches nothing (looked in {})",
                        f.src,
                        ctx.project.display()
                    ),
                ));
            }
            let mut dirs = Vec::new();
            for p in matches {
                let meta = std::fs::metadata(&p).at(&p)?;
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let to = format!("{}/{}", dst.trim_end_matches('/'), name);
                if meta.is_dir() {
                    dirs.push((p, to));
                } else {
                    push_file(p, to, &meta);
                }
            }
            for (p, to) in dirs {
                copy_dir(ctx, &key, &p, &to, mode, &own, &grp, &mut out)?;
            }
            continue;
        }
        let src = ctx.project.join(&f.src);
        let meta = std::fs::metadata(&src).map_err(|e| {
            ctx.loc.error(
                &format!("{key}.src"),
                format!(
                    "`{}` cannot be read: {e} (looked in {})",
                    f.src,
                    ctx.project.display()
                ),
            )
        })?;
        if meta.is_dir() {
            copy_dir(ctx, &key, &src, &dst, mode, &own, &grp, &mut out)?;
        } else {
            let to = if into_dir {
                let name = src
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                format!("{}/{}", dst.trim_end_matches('/'), name)
            } else {
                dst
            };
            push_file(src, to, &meta);
        }
    }
    for (i, d) in m.dirs.iter().enumerate() {
        let key = format!("dirs[{i}]");
        if !applies(ctx, &key, &d.only)? {
            continue;
        }
        check_dst(ctx.loc, &format!("{key}.path"), &d.path)?;
        let mode = d
            .mode
            .as_deref()
            .map(|s| parse_mode(ctx.loc, &format!("{key}.mode"), s))
            .transpose()?;
        out.push(Entry {
            path: norm(&d.path),
            kind: Kind::Dir,
            mode: mode.unwrap_or(0o755),
            owner: owner(&d.owner),
            group: owner(&d.group),
            owned: true,
            from: key,
        });
    }
    for (i, s) in m.symlinks.iter().enumerate() {
        let key = format!("symlinks[{i}]");
        if !applies(ctx, &key, &s.only)? {
            continue;
        }
        check_dst(ctx.loc, &format!("{key}.path"), &s.path)?;
        if s.target.is_empty() {
            return Err(ctx
                .loc
                .error(&format!("{key}.target"), "symlink target is empty"));
        }
        out.push(Entry {
            path: norm(&s.path),
            kind: Kind::Symlink(s.target.clone()),
            mode: 0o777,
            owner: "root".into(),
            group: "root".into(),
            owned: false,
            from: key,
        });
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn copy_dir(
    ctx: &Ctx,
    key: &str,
    src: &Path,
    dst: &str,
    mode: Option<u32>,
    own: &str,
    grp: &str,
    out: &mut Vec<Entry>,
) -> Result<()> {
    let dst = dst.trim_end_matches('/');
    for item in walkdir::WalkDir::new(src).sort_by_file_name() {
        let item = item.map_err(|e| {
            let p = e
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| src.to_path_buf());
            crate::Error::io(p, e.into())
        })?;
        let rel = item.path().strip_prefix(src).unwrap_or(item.path());
        let rel = rel.to_string_lossy().replace('\\', "/");
        let path = if rel.is_empty() {
            dst.to_string()
        } else {
            format!("{dst}/{rel}")
        };
        let ft = item.file_type();
        let entry = |kind, m| Entry {
            path: path.clone(),
            kind,
            mode: m,
            owner: own.to_string(),
            group: grp.to_string(),
            owned: true,
            from: key.to_string(),
        };
        if ft.is_dir() {
            out.push(entry(Kind::Dir, 0o755));
        } else if ft.is_symlink() {
            let target = std::fs::read_link(item.path()).at(item.path())?;
            out.push(entry(
                Kind::Symlink(target.to_string_lossy().into_owned()),
                0o777,
            ));
        } else {
            let meta = item
                .metadata()
                .map_err(|e| crate::Error::io(item.path(), e.into()))?;
            let m = mode.unwrap_or(if executable(&meta) { 0o755 } else { 0o644 });
            let source = Source::Path {
                path: item.path().to_path_buf(),
                size: meta.len(),
            };
            out.push(entry(Kind::File(source), m));
        }
    }
    let _ = ctx;
    Ok(())
}

/// Portable archives: where a system path goes inside `<name>-<version>/`.
pub(super) fn portable_path(path: &str, pkg: &str) -> String {
    let rules: [(String, &str); 9] = [
        ("/usr/local/bin/".into(), "bin/"),
        ("/usr/bin/".into(), "bin/"),
        ("/usr/sbin/".into(), "bin/"),
        ("/bin/".into(), "bin/"),
        ("/sbin/".into(), "bin/"),
        (format!("/usr/share/doc/{pkg}/"), "doc/"),
        ("/usr/share/man/".into(), "man/"),
        (format!("/usr/share/{pkg}/"), "share/"),
        (format!("/etc/{pkg}/"), "config/"),
    ];
    for (from, to) in &rules {
        if let Some(rest) = path.strip_prefix(from.as_str()) {
            return format!("{to}{rest}");
        }
    }
    if let Some(rest) = path.strip_prefix(&format!("/usr/lib/{pkg}/")) {
        return format!("lib/{rest}");
    }
    path.trim_start_matches('/').to_string()
}

/// Gzip installed man pages (every distribution expects `.gz`), byte-stable.
pub(super) fn compress_man_pages(entries: &mut [Entry]) -> Result<()> {
    for e in entries.iter_mut() {
        if !e.path.starts_with("/usr/share/man/") || e.path.ends_with(".gz") {
            continue;
        }
        match &mut e.kind {
            Kind::File(src) => {
                let mut raw = Vec::new();
                std::io::copy(&mut src.open()?, &mut raw).at(&e.path)?;
                *src = Source::Bytes(crate::archive::compress::gzip_best(&raw).at(&e.path)?);
                e.path.push_str(".gz");
            }
            Kind::Symlink(t) if !t.ends_with(".gz") => {
                t.push_str(".gz");
                e.path.push_str(".gz");
            }
            _ => {}
        }
    }
    Ok(())
}

/// Map to the layout, reject two entries at one path, add parents, sort.
pub(super) fn finish(
    ctx: &Ctx,
    leaves: Vec<Entry>,
    layout: Layout,
    top: &str,
) -> Result<Vec<Entry>> {
    let mut by_path: BTreeMap<String, Entry> = BTreeMap::new();
    for mut e in leaves {
        if layout == Layout::Portable {
            e.path = format!("{top}/{}", portable_path(&e.path, ctx.pkg));
        }
        if let Some(prev) = by_path.get(&e.path) {
            // A directory named twice (a [[dirs]] entry and a copied tree) is
            // one directory; the explicit [[dirs]] settings win.
            if prev.is_dir() && e.is_dir() {
                if e.from.starts_with("dirs[") {
                    by_path.insert(e.path.clone(), e);
                }
                continue;
            }
            let what = if e.path.starts_with('/') {
                ""
            } else {
                " in the archive"
            };
            return Err(ctx.loc.error(
                &e.from,
                format!(
                    "`{}`{what} is already installed by {}; each destination may appear once",
                    e.path, prev.from
                ),
            ));
        }
        by_path.insert(e.path.clone(), e);
    }
    if let Err((file, child)) = add_parents(&mut by_path, ctx.pkg, layout) {
        let from = by_path
            .get(&file)
            .map(|e| e.from.clone())
            .unwrap_or_default();
        return Err(ctx.loc.error(
            &from,
            format!("`{file}` is a file but {child} needs it to be a directory"),
        ));
    }
    Ok(by_path.into_values().collect())
}

/// Add every missing parent directory. A parent that exists as a non-directory
/// is returned as (that path, the child needing it).
pub(super) fn add_parents(
    by_path: &mut BTreeMap<String, Entry>,
    pkg: &str,
    layout: Layout,
) -> Result<(), (String, String)> {
    let paths: Vec<String> = by_path.keys().cloned().collect();
    for p in paths {
        let mut parent = p.as_str();
        while let Some(i) = parent.rfind('/') {
            parent = &parent[..i];
            if parent.is_empty() {
                break;
            }
            match by_path.get(parent) {
                Some(e) if !e.is_dir() => return Err((parent.to_string(), p.clone())),
                Some(_) => continue,
                None => {}
            }
            let owned = layout == Layout::Portable || parent.split('/').any(|c| c == pkg);
            by_path.insert(
                parent.to_string(),
                Entry {
                    path: parent.to_string(),
                    kind: Kind::Dir,
                    mode: 0o755,
                    owner: "root".into(),
                    group: "root".into(),
                    owned,
                    from: "(parent directory)".into(),
                },
            );
        }
    }
    Ok(())
}
