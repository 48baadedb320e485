//! `packwright init` in a Cargo project: the crate's metadata, its binaries,
//! README and LICENSE, plus cargo-deb's `[package.metadata.deb]` and
//! cargo-generate-rpm's `[package.metadata.generate-rpm]`.

use super::cargo_meta as meta;
use super::emit::{set, strings, text, Doc};
use super::{Imported, Warnings};
use crate::error::{Error, IoContext, Result};
use std::path::{Path, PathBuf};
use toml::{Table, Value};

pub(crate) struct Cx {
    pub doc: Doc,
    pub w: Warnings,
    /// The crate directory: every path in the manifest is relative to it.
    pub dir: PathBuf,
    /// `target/release/` as seen from the crate (a workspace's is at its root).
    pub release: String,
    pub name: String,
    pub bins: Vec<String>,
    /// Install paths of the files so far (for conf-files and rpm assets).
    pub dsts: Vec<(String, String)>,
    /// `[scripts]` events set so far, with the key that set them.
    pub scripts: Vec<(String, String)>,
}

/// The crate at `dir` (which holds Cargo.toml) as a manifest.
pub fn init(dir: &Path) -> Result<Imported> {
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).at(&path)?;
    let cargo: Table = toml::from_str(&text).map_err(|e| Error::Manifest {
        file: path.clone(),
        line: e
            .span()
            .map_or(0, |s| text[..s.start].matches('\n').count() + 1),
        col: 1,
        key: "(toml)".into(),
        msg: e.message().to_string(),
    })?;
    let Some(pkg) = cargo.get("package").and_then(Value::as_table) else {
        return Err(Error::Manifest {
            file: path,
            line: 1,
            col: 1,
            key: "package".into(),
            msg: "no [package]: a workspace root; run `packwright -C <member> init` in the crate to package".into(),
        });
    };
    let root = workspace_root(dir);
    let inherited = root
        .as_ref()
        .and_then(|(_, t)| t.get("workspace")?.get("package")?.as_table().cloned())
        .unwrap_or_default();
    let release = match &root {
        Some((r, _)) => format!("{}target/release", relative(dir, r)),
        None => "target/release".into(),
    };
    let field = |k: &str| -> Option<Value> {
        match pkg.get(k)? {
            Value::Table(t) if t.get("workspace").and_then(Value::as_bool) == Some(true) => {
                inherited.get(k).cloned()
            }
            v => Some(v.clone()),
        }
    };
    let name = field("name")
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let mut cx = Cx {
        doc: Doc::new(),
        w: Warnings::default(),
        dir: dir.to_path_buf(),
        release,
        bins: binaries(dir, &cargo, &name),
        name,
        dsts: Vec::new(),
        scripts: Vec::new(),
    };
    let empty = Table::new();
    let metadata = pkg
        .get("metadata")
        .and_then(Value::as_table)
        .unwrap_or(&empty);
    let deb = metadata.get("deb").and_then(Value::as_table);
    let rpm = metadata.get("generate-rpm").and_then(Value::as_table);
    package(&mut cx, &field, deb.unwrap_or(&empty));
    let has_assets = |t: Option<&Table>| t.is_some_and(|t| t.contains_key("assets"));
    if !has_assets(deb) && !has_assets(rpm) {
        defaults(&mut cx, &field);
    }
    if let Some(d) = deb {
        meta::deb(&mut cx, d);
    }
    if let Some(r) = rpm {
        meta::rpm(&mut cx, r, deb.is_some_and(|d| d.contains_key("assets")));
    }
    let header = super::header("Cargo.toml", &cx.w.0);
    Ok(Imported {
        toml: cx.doc.finish(&header),
        warnings: cx.w.0,
    })
}

/// The nearest parent directory whose Cargo.toml has `[workspace]`.
fn workspace_root(dir: &Path) -> Option<(PathBuf, Table)> {
    let own: Option<Table> = std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|t| toml::from_str(&t).ok());
    if own.as_ref().is_some_and(|t| t.contains_key("workspace")) {
        return None;
    }
    let abs = std::fs::canonicalize(dir).ok()?;
    for up in abs.ancestors().skip(1) {
        let Ok(t) = std::fs::read_to_string(up.join("Cargo.toml")) else {
            continue;
        };
        let Ok(t) = toml::from_str::<Table>(&t) else {
            continue;
        };
        if t.contains_key("workspace") {
            return Some((up.to_path_buf(), t));
        }
    }
    None
}

/// `../../` from `from` up to `to` (an ancestor of it).
fn relative(from: &Path, to: &Path) -> String {
    let from = std::fs::canonicalize(from).unwrap_or_else(|_| from.to_path_buf());
    let depth = from.strip_prefix(to).map_or(0, |r| r.components().count());
    "../".repeat(depth)
}

/// The crate's binaries, as cargo names them.
fn binaries(dir: &Path, cargo: &Table, name: &str) -> Vec<String> {
    let mut bins: Vec<String> = cargo
        .get("bin")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|b| b.get("name")?.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let auto = cargo
        .get("package")
        .and_then(|p| p.get("autobins"))
        .and_then(Value::as_bool)
        != Some(false);
    if auto {
        if dir.join("src/main.rs").is_file() && !bins.iter().any(|b| b == name) {
            bins.push(name.to_string());
        }
        if let Ok(rd) = std::fs::read_dir(dir.join("src/bin")) {
            let mut found: Vec<String> = rd
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let p = e.path();
                    let stem = p.file_stem()?.to_string_lossy().into_owned();
                    (p.extension().is_some_and(|x| x == "rs") || p.join("main.rs").is_file())
                        .then_some(stem)
                })
                .collect();
            found.sort();
            bins.extend(
                found
                    .into_iter()
                    .filter(|f| !bins.contains(f))
                    .collect::<Vec<_>>(),
            );
        }
    }
    bins
}

fn first_str(v: Option<Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s),
        Value::Array(a) => a.first()?.as_str().map(String::from),
        _ => None,
    }
}

/// `[package]`, its keys in the order a reader looks for them.
fn package(cx: &mut Cx, field: &dyn Fn(&str) -> Option<Value>, deb: &Table) {
    let deb_name = deb.get("name").and_then(Value::as_str).map(String::from);
    if let Some(n) = &deb_name {
        cx.name = n.clone();
    }
    let t = cx.doc.table("package");
    set(t, "name", cx.name.as_str(), None);
    version(cx, field);
    descriptions(cx, field, deb);
    people(cx, field, deb);
    license(cx, field, deb);
    set(
        cx.doc.table("package"),
        "arch",
        "x86_64",
        Some("the architecture of target/release/ (cargo build --release on this machine)"),
    );
    if let Some(c) = deb.get("changelog").and_then(Value::as_str) {
        set(
            cx.doc.table("package"),
            "changelog",
            c,
            Some("cargo-deb's changelog; packwright reads this version's notes from it"),
        );
    }
}

/// `package.version`: the crate's, spelled as cargo-deb spells it.
fn version(cx: &mut Cx, field: &dyn Fn(&str) -> Option<Value>) {
    let version = field("version")
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_else(|| "0.0.0".into());
    // cargo-deb's rule: semver's `-pre` sorts before the release only as `~pre`.
    let pw = version
        .split_once('+')
        .map_or(version.as_str(), |(v, _)| v)
        .replacen('-', "~", 1);
    let note = (pw != version).then(|| format!("Cargo's `{version}`, as cargo-deb writes it"));
    set(
        cx.doc.table("package"),
        "version",
        pw.as_str(),
        note.as_deref(),
    );
    if pw.contains('~') {
        cx.w.add("package.version", 0, format!("`{pw}` is not an apk version: packwright has one version for every format, so build the others with `--format deb,rpm,pacman,targz,zip`"));
    }
}

/// `package.summary` (the description's first line) and cargo-deb's
/// extended description.
fn descriptions(cx: &mut Cx, field: &dyn Fn(&str) -> Option<Value>, deb: &Table) {
    let desc = field("description").and_then(|v| v.as_str().map(String::from));
    let summary = match &desc {
        Some(d) => d.lines().next().unwrap_or("").trim().to_string(),
        None => {
            cx.w.add(
                "package.description",
                0,
                "not set: packwright needs a one-line summary; edit package.summary",
            );
            format!("the {} program", cx.name)
        }
    };
    set(
        cx.doc.table("package"),
        "summary",
        summary.as_str(),
        desc.is_none()
            .then_some("TODO: Cargo.toml has no description"),
    );
    let long = deb
        .get("extended-description")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(l) = long {
        set(
            cx.doc.table("package"),
            "description",
            text(l),
            Some("cargo-deb's extended-description"),
        );
    }
}

/// Who makes it: maintainer, vendor, homepage.
fn people(cx: &mut Cx, field: &dyn Fn(&str) -> Option<Value>, deb: &Table) {
    let maintainer = deb
        .get("maintainer")
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| first_str(field("authors")));
    match maintainer {
        Some(m) => set(cx.doc.table("package"), "maintainer", m.as_str(), None),
        None => {
            cx.w.add(
                "package.authors",
                0,
                "no authors and no cargo-deb maintainer: edit the placeholder package.maintainer",
            );
            set(
                cx.doc.table("package"),
                "maintainer",
                "Unknown <unknown@example.invalid>",
                Some("TODO: Cargo.toml names no author"),
            );
        }
    }
    if let Some(c) = deb.get("copyright").and_then(Value::as_str) {
        set(
            cx.doc.table("package"),
            "vendor",
            c,
            Some("cargo-deb's copyright: the holder named in the copyright file"),
        );
    }
    if let Some(h) = field("homepage")
        .or_else(|| field("repository"))
        .and_then(|v| v.as_str().map(String::from))
    {
        set(cx.doc.table("package"), "homepage", h.as_str(), None);
    }
}

fn license(cx: &mut Cx, field: &dyn Fn(&str) -> Option<Value>, deb: &Table) {
    let lic = field("license").and_then(|v| v.as_str().map(String::from));
    if let Some(l) = &lic {
        // Cargo's old `MIT/Apache-2.0` is SPDX's `MIT OR Apache-2.0`.
        set(
            cx.doc.table("package"),
            "license",
            l.replace('/', " OR ").as_str(),
            None,
        );
    }
    let file = match deb.get("license-file") {
        Some(Value::Array(a)) => {
            if a.len() > 1 {
                cx.w.add(
                    "package.metadata.deb.license-file",
                    0,
                    "packwright embeds the whole file; the lines cargo-deb skips are not skipped",
                );
            }
            a.first().and_then(Value::as_str).map(String::from)
        }
        Some(Value::String(s)) => Some(s.clone()),
        _ => field("license-file").and_then(|v| v.as_str().map(String::from)),
    };
    match (&lic, &file) {
        (_, Some(f)) => set(cx.doc.table("package"), "license-file", f.as_str(), None),
        (Some(_), None) => {}
        (None, None) => {
            cx.w.add(
                "package.license",
                0,
                "not set: packwright needs an SPDX license (or license-file); edit the placeholder",
            );
            set(
                cx.doc.table("package"),
                "license",
                "NOASSERTION",
                Some("TODO: Cargo.toml has no license"),
            );
        }
    }
}

/// cargo-deb's default assets: the binaries, the README, and the LICENSE
/// files (those in the portable archives only: Debian's is the copyright file).
fn defaults(cx: &mut Cx, field: &dyn Fn(&str) -> Option<Value>) {
    for b in cx.bins.clone() {
        let src = format!("{}/{b}", cx.release);
        add_file(cx, &src, &format!("/usr/bin/{b}"), Some("0755"), None);
    }
    if cx.bins.is_empty() {
        cx.w.add("bin", 0, "the crate has no binary (no src/main.rs, src/bin/ or [[bin]]); the package has no program");
    }
    let readme = match field("readme") {
        Some(Value::String(s)) => Some(s),
        Some(Value::Boolean(false)) => None,
        _ => ["README.md", "README", "README.txt"]
            .iter()
            .find(|r| cx.dir.join(r).is_file())
            .map(|r| r.to_string()),
    };
    if let Some(r) = readme.filter(|r| cx.dir.join(r).is_file()) {
        let dst = format!("/usr/share/doc/{}/", cx.name);
        add_file(cx, &r, &dst, None, None);
    }
    let mut licenses: Vec<String> = std::fs::read_dir(&cx.dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.starts_with("LICENSE") || n.starts_with("LICENCE") || n.starts_with("COPYING")
                })
                .collect()
        })
        .unwrap_or_default();
    licenses.sort();
    for l in licenses {
        let dst = format!("/usr/share/doc/{}/{l}", cx.name);
        add_file(cx, &l, &dst, None, Some(&["zip", "targz"]));
    }
}

/// A `[[files]]` entry; `dst` ending in `/` means "into this directory".
pub(crate) fn add_file(
    cx: &mut Cx,
    src: &str,
    dst: &str,
    mode: Option<&str>,
    only: Option<&[&str]>,
) {
    let t = cx.doc.push("files", None);
    set(t, "src", src, None);
    set(t, "dst", dst, None);
    if let Some(m) = mode {
        set(t, "mode", m, None);
    }
    if let Some(o) = only {
        set(t, "only", strings(o), None);
    }
    let name = src.rsplit('/').next().unwrap_or(src);
    let full = if dst.ends_with('/') {
        format!("{dst}{name}")
    } else {
        dst.to_string()
    };
    cx.dsts.push((full, src.to_string()));
}
