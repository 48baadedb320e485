//! `packwright import nfpm.yaml`: nfpm's configuration → packwright.toml.
//! Every key of nfpm's documented configuration is either mapped or reported
//! as a warning that names it and its line.

use super::emit::{set, strings, text, Doc};
use super::nfpm_contents as contents;
use super::nfpm_section::{apk, archlinux, deb, rpm};
use super::yaml::{self, Node};
use super::{Imported, Warnings};
use crate::error::{Error, Result};
use std::path::Path;

pub(crate) struct Cx {
    pub doc: Doc,
    pub w: Warnings,
    /// Why configs cannot be the hook's here (a file where the hook's
    /// directories go), if so.
    pub no_hook: Option<String>,
    /// Destinations imported so far, with the one format they are for.
    pub dsts: Vec<(String, Option<&'static str>)>,
    /// The `[scripts]` events set so far, with the nfpm key that set them.
    scripts: Vec<(&'static str, String)>,
    /// Whether apk cannot be built from what was imported (version, epoch).
    apk_blocked: Option<String>,
}

/// Convert the nfpm configuration `text` (read from `path`, for errors).
pub fn import(path: &Path, text: &str) -> Result<Imported> {
    let root = yaml::parse(text).map_err(|b| Error::Manifest {
        file: path.to_path_buf(),
        line: b.line,
        col: 1,
        key: "(yaml)".into(),
        msg: b.msg,
    })?;
    if !matches!(root.kind, yaml::Kind::Map(_)) {
        return Err(Error::Manifest {
            file: path.to_path_buf(),
            line: root.line,
            col: 1,
            key: "(yaml)".into(),
            msg: "an nfpm configuration is a YAML mapping (name: …, version: …)".into(),
        });
    }
    let mut cx = Cx {
        doc: Doc::new(),
        w: Warnings::default(),
        no_hook: hook_clash(&root),
        dsts: Vec::new(),
        scripts: Vec::new(),
        apk_blocked: None,
    };
    package(&mut cx, &root);
    for (k, v) in root.entries() {
        top(&mut cx, k, v);
    }
    upgrade_scripts(&mut cx, &root);
    if let Some(why) = cx.apk_blocked.take() {
        cx.w.add(
            "apk",
            0,
            format!("{why}: packwright has one version for every format, so build the others with `--format deb,rpm,pacman,targz,zip`"),
        );
    }
    let name = path
        .file_name()
        .map_or("nfpm.yaml".into(), |n| n.to_string_lossy().into_owned());
    let header = super::header(&format!("nfpm's {name}"), &cx.w.0);
    Ok(Imported {
        toml: cx.doc.finish(&header),
        warnings: cx.w.0,
    })
}

/// A content at `/usr/share/<name>` or `/usr/lib/<name>` itself: where
/// packwright-hook keeps its defaults and binary.
fn hook_clash(root: &Node) -> Option<String> {
    let name = root.get("name").and_then(Node::str)?;
    let taken = [format!("/usr/share/{name}"), format!("/usr/lib/{name}")];
    root.get("contents")?.items().iter().find_map(|c| {
        let dst = c.get("dst").and_then(Node::str)?;
        let dir = c.get("type").and_then(Node::str) == Some("dir");
        (!dir && taken.iter().any(|t| t == dst)).then(|| dst.to_string())
    })
}

/// nfpm expands `$VAR` and `${VAR}` in this field: packwright's form is `${VAR}`.
pub(crate) fn env(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !after.starts_with('{') {
            out.push_str(&format!("${{{name}}}"));
            rest = &after[name.len()..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// nfpm takes this field literally: keep a `${` literal for packwright too.
pub(crate) fn lit(s: &str) -> String {
    s.replace("${", "$${")
}

/// The `[package]` table: identity, version, description, people.
fn package(cx: &mut Cx, root: &Node) {
    let name = root.get("name").and_then(Node::str).unwrap_or("");
    if name.is_empty() {
        cx.w.add(
            "name",
            1,
            "nfpm requires a name; set package.name (written as `unnamed`)",
        );
    }
    set(
        cx.doc.table("package"),
        "name",
        lit(if name.is_empty() { "unnamed" } else { name }),
        None,
    );
    version(cx, root);
    description(cx, root);
    let maintainer = root.get("maintainer").and_then(Node::str).map(env);
    match maintainer {
        Some(m) if !m.trim().is_empty() => set(cx.doc.table("package"), "maintainer", m, None),
        _ => {
            cx.w.add("maintainer", 0, "not set (nfpm allows that, packwright does not): edit the placeholder package.maintainer");
            set(
                cx.doc.table("package"),
                "maintainer",
                "Unknown <unknown@example.invalid>",
                Some("TODO: nfpm had no maintainer"),
            );
        }
    }
    for key in ["vendor", "homepage", "license"] {
        if let Some(v) = root.get(key).and_then(Node::str) {
            set(cx.doc.table("package"), key, env(v), None);
        }
    }
    if root.get("license").and_then(Node::str).is_none() {
        cx.w.add(
            "license",
            0,
            "not set: packwright needs an SPDX license (or license-file); edit the placeholder",
        );
        set(
            cx.doc.table("package"),
            "license",
            "NOASSERTION",
            Some("TODO: nfpm had no license"),
        );
    }
    if let Some(a) = root.get("arch") {
        arch(cx, "arch", a, "package");
    }
}

/// nfpm's `version_schema: semver` (the default) strips a leading `v` and
/// turns `1.2.3-beta+git` into deb/rpm's `1.2.3~beta+git`.
fn version(cx: &mut Cx, root: &Node) {
    let raw = root.get("version").and_then(Node::str).unwrap_or("");
    let semver = root
        .get("version_schema")
        .and_then(Node::str)
        .unwrap_or("semver")
        == "semver";
    let Parts {
        base,
        mut pre,
        mut meta,
        mut note,
    } = parts(cx, raw, semver);
    if let Some(p) = root.get("prerelease").and_then(Node::str) {
        pre = Some(env(p));
    }
    if let Some(m) = root.get("version_metadata").and_then(Node::str) {
        meta = Some(env(m));
    }
    let mut v = base;
    if let Some(p) = pre.filter(|p| !p.is_empty()) {
        v = format!("{v}~{p}");
        note.get_or_insert_with(|| {
            "nfpm's prerelease is appended with `~` (sorts before the release)".into()
        });
    }
    if let Some(m) = meta.filter(|m| !m.is_empty()) {
        v = format!("{v}+{m}");
    }
    if v.contains(['~', '+', '-']) && !v.contains('$') {
        cx.apk_blocked = Some(format!("version `{v}` is not an apk version"));
    }
    set(cx.doc.table("package"), "version", v, note.as_deref());
    release(cx, root);
    epoch(cx, root);
}

/// nfpm's version taken apart, before `prerelease` and `version_metadata`
/// override the parts; `note` says how packwright's spelling differs.
struct Parts {
    base: String,
    pre: Option<String>,
    meta: Option<String>,
    note: Option<String>,
}

fn parts(cx: &mut Cx, raw: &str, semver: bool) -> Parts {
    let mut note = None;
    let (mut base, mut pre, mut meta) = (env(raw), None, None);
    if raw.is_empty() {
        cx.w.add(
            "version",
            0,
            "nfpm requires a version; set package.version (written as 0.0.0)",
        );
        base = "0.0.0".into();
    } else if semver && !raw.contains('$') {
        let v = raw.strip_prefix('v').unwrap_or(raw);
        let (v, m) = v.split_once('+').map_or((v, None), |(a, b)| (a, Some(b)));
        let (v, p) = v.split_once('-').map_or((v, None), |(a, b)| (a, Some(b)));
        if v.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            base = v.to_string();
            pre = p.map(String::from);
            meta = m.map(String::from);
            if base != raw {
                note = Some(format!(
                    "nfpm's `{raw}`, as its semver schema writes it for deb and rpm"
                ));
            }
        }
    } else if semver {
        note = Some("nfpm strips a leading `v` and writes `-pre` as `~pre`; packwright uses the version as written".to_string());
    }
    Parts {
        base,
        pre,
        meta,
        note,
    }
}

/// `package.release`, with release 1 for pacman and apk when nfpm's is not
/// the number they need.
fn release(cx: &mut Cx, root: &Node) {
    if let Some(r) = root.get("release").and_then(Node::str) {
        set(cx.doc.table("package"), "release", env(r), None);
        let numeric = |s: &str| {
            !s.is_empty()
                && s.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        if !r.contains('$') && !numeric(r) {
            cx.w.add(
                "release",
                0,
                format!(
                    "`{r}` is not a pacman or apk release (a number): those formats get release 1"
                ),
            );
            for f in ["pacman", "apk"] {
                set(
                    cx.doc.table(&format!("format.{f}")),
                    "release",
                    "1",
                    Some("nfpm's release is not a number, which pacman and apk need"),
                );
            }
        }
    }
}

/// `package.epoch`; apk has none.
fn epoch(cx: &mut Cx, root: &Node) {
    if let Some(e) = root.get("epoch") {
        match e.str().map(str::trim).and_then(|s| s.parse::<i64>().ok()) {
            Some(0) => {}
            Some(n) if n > 0 => {
                set(cx.doc.table("package"), "epoch", n, None);
                cx.apk_blocked = Some(format!("apk versions have no epoch (epoch {n})"));
            }
            _ => cx.w.add(
                "epoch",
                e.line,
                "not a number packwright can use (packwright expands no variable into an integer)",
            ),
        }
    }
}

fn description(cx: &mut Cx, root: &Node) {
    let desc = root
        .get("description")
        .and_then(Node::str)
        .map(env)
        .unwrap_or_default();
    let desc = desc.trim_end();
    let rpm_summary = root
        .get("rpm")
        .and_then(|r| r.get("summary"))
        .and_then(Node::str);
    let mut lines = desc.lines();
    let first = lines.next().unwrap_or("").trim().to_string();
    let rest: Vec<&str> = lines.collect();
    let summary = match (first.is_empty(), rpm_summary) {
        (false, _) => first,
        (true, Some(s)) => s.to_string(),
        (true, None) => "no description given".to_string(),
    };
    let note = desc.is_empty().then_some("nfpm's default");
    set(cx.doc.table("package"), "summary", summary, note);
    let long = rest.join("\n");
    if !long.trim().is_empty() {
        set(
            cx.doc.table("package"),
            "description",
            text(long.trim_end()),
            None,
        );
    }
}

const GO_ARCH: &[(&str, &str)] = &[
    ("amd64", "amd64"),
    ("arm64", "arm64"),
    ("386", "i386"),
    ("arm7", "armv7"),
    ("armv7h", "armv7"),
    ("riscv64", "riscv64"),
    ("all", "all"),
];

const KNOWN_ARCH: &[&str] = &[
    "x86_64", "amd64", "aarch64", "arm64", "armv7", "armhf", "armv7hl", "i686", "i386", "x86",
    "riscv64", "all", "noarch", "any",
];

/// nfpm's Go names (`386`, `arm7`) and each format's own names → packwright's.
pub(crate) fn arch(cx: &mut Cx, key: &str, node: &Node, table: &str) {
    let Some(a) = node.str() else { return };
    if a.contains('$') {
        set(cx.doc.table(table), "arch", env(a), Some("nfpm names architectures as Go does: packwright takes amd64, arm64, i386, armv7, riscv64, all"));
        return;
    }
    let mapped = GO_ARCH.iter().find(|(g, _)| *g == a).map(|(_, p)| *p);
    match mapped.or_else(|| KNOWN_ARCH.contains(&a).then_some(a)) {
        Some(p) => set(cx.doc.table(table), "arch", p, None),
        None => cx.w.add(key, node.line, format!("architecture `{a}` is not one packwright builds (x86_64, aarch64, armv7, i686, riscv64, all)")),
    }
}

fn top(cx: &mut Cx, k: &str, v: &Node) {
    match k {
        "name" | "version" | "version_schema" | "prerelease" | "version_metadata" | "release"
        | "epoch" | "maintainer" | "description" | "vendor" | "homepage" | "license" | "arch" => {}
        "platform" => {
            if v.str().is_some_and(|p| p != "linux") {
                cx.w.add(k, v.line, "packwright's system packages are for Linux; the zip and tar.gz archives name their platform in `[format.zip] target`");
            }
        }
        "section" | "priority" => {
            if let Some(s) = v.str() {
                set(cx.doc.table("format.deb"), k, s, None);
            }
        }
        "mtime" => cx.w.add(k, v.line, "packwright dates every entry with SOURCE_DATE_EPOCH: export it (seconds since 1970) instead"),
        "changelog" => cx.w.add(k, v.line, "nfpm's changelog is a chglog YAML file; packwright's package.changelog is the upstream changelog text (Markdown): set it by hand"),
        "disable_globbing" => {
            if v.truthy() {
                cx.w.add(k, v.line, "packwright always treats `*`, `?` and `[` in a src as a glob");
            }
        }
        "umask" => cx.w.add(k, v.line, "packwright gives files without a mode 0755 when the source is executable, else 0644"),
        "replaces" | "provides" | "depends" | "recommends" | "suggests" | "conflicts" => {
            relation(cx, "relations", k, v)
        }
        "contents" => contents::all(cx, "contents", v, None),
        "scripts" => scripts(cx, v),
        "overrides" => overrides(cx, v),
        "rpm" => rpm(cx, v),
        "deb" => deb(cx, v),
        "apk" => apk(cx, v),
        "archlinux" => archlinux(cx, v),
        "ipk" | "msix" | "srpm" => cx.w.add(k, v.line, format!("packwright builds no {k} packages; this section is not imported")),
        _ => cx.w.add(k, v.line, "not an nfpm key; not imported"),
    }
}

fn relation(cx: &mut Cx, table: &str, k: &str, v: &Node) {
    let list: Vec<String> = v.strings().iter().map(|s| env(s)).collect();
    set(cx.doc.table(table), k, strings(&list), None);
}

const EVENTS: &[(&str, &[&str], &str)] = &[
    ("preinstall", &["pre-install", "pre-upgrade"], "dpkg and rpm ran nfpm's preinstall on upgrades too: it is packwright's pre-install and pre-upgrade"),
    ("postinstall", &["post-install", "post-upgrade"], "dpkg and rpm ran nfpm's postinstall on upgrades too: it is packwright's post-install and post-upgrade"),
    ("preremove", &["pre-remove"], "dpkg and rpm also ran nfpm's preremove for the old package during an upgrade; packwright's pre-remove runs on removal only"),
    ("postremove", &["post-remove"], "dpkg and rpm also ran nfpm's postremove during upgrades (and dpkg on purge); packwright's post-remove runs on removal only"),
];

fn set_script(cx: &mut Cx, event: &'static str, path: &str, from: &str, note: Option<&str>) {
    if let Some((_, prev)) = cx.scripts.iter().find(|(e, _)| *e == event) {
        cx.w.add(from, 0, format!("packwright has one {event} script for every format; {prev} already set it, so this one is not imported"));
        return;
    }
    cx.scripts.push((event, from.to_string()));
    set(cx.doc.table("scripts"), event, lit(path), note);
}

fn scripts(cx: &mut Cx, v: &Node) {
    if !cx.doc.has("scripts") {
        cx.doc.note_table("scripts", "Snippets run as `sh -s -- <event> <old-version> <new-version>` under every\nmanager, not with dpkg's or rpm's arguments: check `$1` in them again.");
    }
    for (k, n) in v.entries() {
        let key = format!("scripts.{k}");
        let Some(path) = n.str() else { continue };
        match EVENTS.iter().find(|(e, _, _)| e == k) {
            Some((_, events, why)) => {
                for (i, ev) in events.iter().enumerate() {
                    // The upgrade half waits: apk's and archlinux's own
                    // preupgrade/postupgrade come first.
                    if ev.ends_with("-upgrade") {
                        continue;
                    }
                    set_script(cx, ev, path, &key, (i == 0).then_some(*why));
                }
            }
            None => cx.w.add(&key, n.line, "not an nfpm script; not imported"),
        }
    }
}

/// pre-upgrade/post-upgrade: apk's or archlinux's own upgrade scripts, else
/// the preinstall/postinstall that dpkg and rpm also run on upgrades.
fn upgrade_scripts(cx: &mut Cx, root: &Node) {
    for (nfpm, event, install) in [
        ("preupgrade", "pre-upgrade", "preinstall"),
        ("postupgrade", "post-upgrade", "postinstall"),
    ] {
        let mut own: Vec<(String, &str, usize)> = Vec::new();
        for fmt in ["apk", "archlinux"] {
            if let Some(n) = root
                .get(fmt)
                .and_then(|s| s.get("scripts"))
                .and_then(|s| s.get(nfpm))
            {
                if let Some(p) = n.str() {
                    own.push((format!("{fmt}.scripts.{nfpm}"), p, n.line));
                }
            }
        }
        if let Some((key, path, _)) = own.first() {
            let note = format!("from nfpm's {key}: it now runs on every format's upgrade (dpkg and rpm ran {install})");
            set_script(cx, event, path, key, Some(&note));
            for (k, p, line) in &own[1..] {
                if p != path {
                    cx.w.add(k, *line, format!("packwright has one {event} script; {key} is imported, this different one is not"));
                }
            }
        } else if let Some(p) = root
            .get("scripts")
            .and_then(|s| s.get(install))
            .and_then(Node::str)
        {
            set_script(cx, event, p, &format!("scripts.{install}"), None);
        }
    }
}

const FORMATS: &[(&str, &str)] = &[
    ("deb", "deb"),
    ("rpm", "rpm"),
    ("apk", "apk"),
    ("archlinux", "pacman"),
];

pub(crate) fn packwright_format(nfpm: &str) -> Option<&'static str> {
    FORMATS.iter().find(|(n, _)| *n == nfpm).map(|(_, p)| *p)
}

fn overrides(cx: &mut Cx, v: &Node) {
    for (fmt, o) in v.entries() {
        let Some(pw) = packwright_format(fmt) else {
            cx.w.add(
                format!("overrides.{fmt}"),
                o.line,
                "packwright builds no such format; not imported",
            );
            continue;
        };
        for (k, n) in o.entries() {
            let key = format!("overrides.{fmt}.{k}");
            match k.as_str() {
                "replaces" | "provides" | "depends" | "recommends" | "suggests" | "conflicts" => {
                    relation(cx, &format!("relations.{pw}"), k, n)
                }
                "contents" => contents::all(cx, &key, n, Some(fmt)),
                "scripts" => {
                    for (s, p) in n.entries() {
                        cx.w.add(format!("{key}.{s}"), p.line, "packwright's [scripts] apply to every format; a per-format script is not imported (branch on the format inside the common script)");
                    }
                }
                _ => cx.w.add(
                    &key,
                    n.line,
                    "not imported (overrides here are relations and contents)",
                ),
            }
        }
    }
}
