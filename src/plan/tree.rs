//! `[[files]]`, `[[dirs]]` and `[[symlinks]]` → sorted entries with every
//! parent directory, checked for clashes.

use super::{Entry, Kind, Layout, Source};
use crate::error::{IoContext, Result};
use crate::manifest::{schema, Locator};
use packwright_hook::contract;
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
        if crate::identity::Format::parse(f).is_none() {
            return Err(ctx.loc.error(
                &format!("{key}.only[{i}]"),
                format!(
                    "unknown format `{f}`; known: {}",
                    crate::identity::Format::keys()
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
        if applies(ctx, &key, &f.only)? {
            files(ctx, &key, f, &mut out)?;
        }
    }
    dirs(ctx, m, &mut out)?;
    symlinks(ctx, m, &mut out)?;
    Ok(out)
}

/// A symlink stays a symlink unless `follow-symlinks = true`: what is
/// packaged is what `ls -l` shows, never a file the link points to.
fn stat(follow: bool, p: &Path) -> std::io::Result<std::fs::Metadata> {
    if follow {
        std::fs::metadata(p)
    } else {
        std::fs::symlink_metadata(p)
    }
}

/// One file or symlink of a `[[files]]` entry, installed at `dst`.
fn leaf(
    ctx: &Ctx,
    key: &str,
    how: &Copy,
    path: PathBuf,
    dst: String,
    meta: &std::fs::Metadata,
) -> Result<Entry> {
    let (kind, m) = if meta.file_type().is_symlink() {
        let target = std::fs::read_link(&path).at(&path)?;
        (
            Kind::Symlink(utf8(ctx, key, &path, target.as_os_str())?),
            0o777,
        )
    } else {
        let m = how
            .mode
            .unwrap_or(if executable(meta) { 0o755 } else { 0o644 });
        (
            Kind::File(Source::Path {
                path,
                size: meta.len(),
            }),
            m,
        )
    };
    Ok(Entry {
        path: dst,
        kind,
        mode: m,
        owner: how.own.to_string(),
        group: how.grp.to_string(),
        owned: false,
        from: key.to_string(),
    })
}

/// One `[[files]]` entry: a file, a directory tree or a glob.
fn files(ctx: &Ctx, key: &str, f: &schema::File, out: &mut Vec<Entry>) -> Result<()> {
    check_dst(ctx.loc, &format!("{key}.dst"), &f.dst)?;
    let mode = f
        .mode
        .as_deref()
        .map(|s| parse_mode(ctx.loc, &format!("{key}.mode"), s))
        .transpose()?;
    let (own, grp) = (owner(&f.owner), owner(&f.group));
    let how = Copy {
        mode,
        own: &own,
        grp: &grp,
        follow: f.follow_symlinks,
    };
    let dst = norm(&f.dst);
    if is_glob(&f.src) {
        return glob_files(ctx, key, f, &dst, &how, out);
    }
    let src = ctx.project.join(&f.src);
    let meta = stat(how.follow, &src).map_err(|e| {
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
        return copy_dir(ctx, key, &src, &dst, &how, out);
    }
    let to = if f.dst.ends_with('/') {
        let name = src.file_name().unwrap_or_default();
        format!(
            "{}/{}",
            dst.trim_end_matches('/'),
            utf8(ctx, key, &src, name)?
        )
    } else {
        dst
    };
    out.push(leaf(ctx, key, &how, src, to, &meta)?);
    Ok(())
}

/// A `[[files]]` glob: every match goes into `dst`; directories are copied
/// after the files.
fn glob_files(
    ctx: &Ctx,
    key: &str,
    f: &schema::File,
    dst: &str,
    how: &Copy,
    out: &mut Vec<Entry>,
) -> Result<()> {
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
        let meta = stat(how.follow, &p).at(&p)?;
        let name = p.file_name().unwrap_or_default();
        let to = format!(
            "{}/{}",
            dst.trim_end_matches('/'),
            utf8(ctx, key, &p, name)?
        );
        if meta.is_dir() {
            dirs.push((p, to));
        } else {
            out.push(leaf(ctx, key, how, p, to, &meta)?);
        }
    }
    for (p, to) in dirs {
        copy_dir(ctx, key, &p, &to, how, out)?;
    }
    Ok(())
}

/// `[[dirs]]`: directories the package creates and owns.
fn dirs(ctx: &Ctx, m: &schema::Manifest, out: &mut Vec<Entry>) -> Result<()> {
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
    Ok(())
}

/// `[[symlinks]]`.
fn symlinks(ctx: &Ctx, m: &schema::Manifest, out: &mut Vec<Entry>) -> Result<()> {
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
    Ok(())
}

/// How a source directory's files are taken.
struct Copy<'a> {
    mode: Option<u32>,
    own: &'a str,
    grp: &'a str,
    /// `follow-symlinks`: package what links point to, not the links.
    follow: bool,
}

/// A name from the source tree as UTF-8, or an error naming the source.
fn utf8(ctx: &Ctx, key: &str, path: &Path, name: &std::ffi::OsStr) -> Result<String> {
    name.to_str().map(str::to_string).ok_or_else(|| {
        ctx.loc.error(
            &format!("{key}.src"),
            format!("{path:?} is not a UTF-8 name; package names must be UTF-8"),
        )
    })
}

fn copy_dir(
    ctx: &Ctx,
    key: &str,
    src: &Path,
    dst: &str,
    how: &Copy,
    out: &mut Vec<Entry>,
) -> Result<()> {
    let dst = dst.trim_end_matches('/');
    let walk = walkdir::WalkDir::new(src)
        .follow_links(how.follow)
        .sort_by_file_name();
    for item in walk {
        let item = item.map_err(|e| {
            let p = e
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| src.to_path_buf());
            crate::Error::io(p, e.into())
        })?;
        let rel = item.path().strip_prefix(src).unwrap_or(item.path());
        let rel = utf8(ctx, key, item.path(), rel.as_os_str())?;
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
            owner: how.own.to_string(),
            group: how.grp.to_string(),
            owned: true,
            from: key.to_string(),
        };
        if ft.is_dir() {
            out.push(entry(Kind::Dir, 0o755));
        } else if ft.is_symlink() {
            let target = std::fs::read_link(item.path()).at(item.path())?;
            let target = utf8(ctx, key, item.path(), target.as_os_str())?;
            out.push(entry(Kind::Symlink(target), 0o777));
        } else {
            let meta = item
                .metadata()
                .map_err(|e| crate::Error::io(item.path(), e.into()))?;
            let m = how
                .mode
                .unwrap_or(if executable(&meta) { 0o755 } else { 0o644 });
            let source = Source::Path {
                path: item.path().to_path_buf(),
                size: meta.len(),
            };
            out.push(entry(Kind::File(source), m));
        }
    }
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
        (format!("{}/", contract::share_dir(pkg)), "share/"),
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

/// Installed man pages are gzipped (every distribution expects `.gz`): the
/// plan decides it and renames them, so the final paths are checked here;
/// the bytes are compressed further down, by `format::gzip_man_pages`.
pub(super) fn rename_man_pages(entries: &mut [Entry]) {
    for e in entries.iter_mut() {
        if !e.path.starts_with("/usr/share/man/") || e.path.ends_with(".gz") {
            continue;
        }
        match &mut e.kind {
            Kind::File(src) => {
                let raw = std::mem::replace(src, Source::Bytes(Vec::new()));
                *src = Source::Gzip(Box::new(raw));
                e.path.push_str(".gz");
            }
            Kind::Symlink(t) if !t.ends_with(".gz") => {
                t.push_str(".gz");
                e.path.push_str(".gz");
            }
            _ => {}
        }
    }
}

/// Map to the layout, reject two entries at one path, add parents, sort.
pub(super) fn finish(
    ctx: &Ctx,
    leaves: Vec<Entry>,
    layout: Layout,
    top: &str,
) -> Result<Vec<Entry>> {
    let mut by_path: BTreeMap<String, Entry> = BTreeMap::new();
    // Portable layout: the system path each archive path came from.
    let mut system: BTreeMap<String, String> = BTreeMap::new();
    for mut e in leaves {
        check_name(ctx, &e)?;
        if layout == Layout::Portable {
            let mapped = format!("{top}/{}", portable_path(&e.path, ctx.pkg));
            if let Some(prev) = by_path.get(&mapped).filter(|p| !(p.is_dir() && e.is_dir())) {
                return Err(portable_clash(ctx, &mapped, prev, &system[&mapped], &e));
            }
            system.insert(mapped.clone(), std::mem::replace(&mut e.path, mapped));
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

/// Longest name and path every target file system and format takes
/// (NAME_MAX, PATH_MAX); dpkg, rpm and tar refuse or mangle longer ones.
const NAME_MAX: usize = 255;
const PATH_MAX: usize = 4095;

/// Names that reach an archive come from the source tree too, not only from
/// the manifest: refuse what a package manager would refuse at install.
fn check_name(ctx: &Ctx, e: &Entry) -> Result<()> {
    let source = match &e.kind {
        Kind::File(src) => src
            .origin()
            .map(|path| format!(" (from {path:?})"))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let bad = |rule: String| {
        Err(ctx
            .loc
            .error(&e.from, format!("{:?}{source} {rule}", e.path)))
    };
    if e.path.chars().any(char::is_control) {
        return bad(
            "contains a newline or another control character, which package names may not hold"
                .into(),
        );
    }
    if let Some(c) = e.path.split('/').find(|c| c.len() > NAME_MAX) {
        return bad(format!(
            "has a name of {} bytes (`{}…`); file names are at most {NAME_MAX} bytes",
            c.len(),
            c.chars().take(24).collect::<String>()
        ));
    }
    if e.path.len() > PATH_MAX {
        return bad(format!(
            "is {} bytes long; paths are at most {PATH_MAX} bytes",
            e.path.len()
        ));
    }
    if let Kind::Symlink(t) = &e.kind {
        if t.chars().any(char::is_control) || t.len() > PATH_MAX {
            return bad(format!(
                "links to {t:?}: a link target is one line of at most {PATH_MAX} bytes"
            ));
        }
    }
    Ok(())
}

/// Two system paths that one archive path would hold (`/usr/bin/x` and
/// `/usr/sbin/x` are both `bin/x`).
fn portable_clash(ctx: &Ctx, at: &str, prev: &Entry, prev_path: &str, e: &Entry) -> crate::Error {
    let same = if prev.from == e.from {
        format!(
            " (both come from {}: install one of them with its own [[files]] entry first)",
            e.from
        )
    } else {
        String::new()
    };
    let from = |e: &Entry| match &e.kind {
        Kind::File(src) => match src.origin() {
            Some(path) => format!("{}, from {}", e.from, path.display()),
            None => e.from.clone(),
        },
        _ => e.from.clone(),
    };
    ctx.loc.error(
        &e.from,
        format!(
            "`{}` ({}) and `{prev_path}` ({}) would both be `{at}` in the archive; leave one out of the portable archives with `only = [\"deb\", \"rpm\", \"pacman\", \"apk\"]` on its entry{same}",
            e.path,
            from(e),
            from(prev)
        ),
    )
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
