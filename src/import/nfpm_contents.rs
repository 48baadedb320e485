//! nfpm's `contents` → `[[files]]`, `[[config]]`, `[[dirs]]`, `[[symlinks]]`.

use super::emit::{set, strings};
use super::nfpm::{env, lit, packwright_format, Cx};
use super::yaml::Node;

/// What a `[[config]]` entry means, for the comment above each imported one.
pub(crate) const HOOK_CONFIG_NOTE: &str =
    "a config packwright-hook owns: rendered from this default at\n\
first install (`${VAR}` in it is filled in), three-way merged with the admin's\n\
edits on upgrade; not a dpkg conffile or rpm %config.";

/// One `contents` list; `packager` is set for `overrides.<fmt>.contents`.
pub(crate) fn all(cx: &mut Cx, key: &str, list: &Node, packager: Option<&str>) {
    for (i, n) in list.items().iter().enumerate() {
        entry(cx, &format!("{key}[{i}]"), n, packager);
    }
}

#[derive(Clone)]
struct Item<'a> {
    key: &'a str,
    line: usize,
    src: Option<String>,
    dst: String,
    only: Option<&'static str>,
    /// Left out of the portable archives (two entries meet at one path there).
    system_only: bool,
    mode: Option<String>,
    owner: Option<String>,
    group: Option<String>,
}

fn entry(cx: &mut Cx, key: &str, n: &Node, packager: Option<&str>) {
    let line = n.line;
    let expand = n.get("expand").is_some_and(Node::truthy);
    let path = |s: &str| if expand { env(s) } else { lit(s) };
    let kind = n.get("type").and_then(Node::str).unwrap_or("");
    let packager = n.get("packager").and_then(Node::str).or(packager);
    let only = match packager.filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => match packwright_format(p) {
            Some(f) => Some(f),
            None => {
                cx.w.add(
                    format!("{key}.packager"),
                    line,
                    format!("packwright builds no {p} packages; this entry is not imported"),
                );
                return;
            }
        },
    };
    for (k, v) in n.entries() {
        match k.as_str() {
            "src" | "dst" | "type" | "packager" | "expand" | "file_info" => {}
            "disown_subtree" => cx.w.add(format!("{key}.{k}"), v.line, "packwright owns the directories of a copied tree and none it only passes through; not imported"),
            _ => cx.w.add(format!("{key}.{k}"), v.line, "not an nfpm contents key; not imported"),
        }
    }
    let info = n.get("file_info");
    let mut it = Item {
        key,
        line,
        src: n.get("src").and_then(Node::str).map(path),
        dst: n
            .get("dst")
            .and_then(Node::str)
            .map(path)
            .unwrap_or_default(),
        only,
        system_only: false,
        mode: None,
        owner: None,
        group: None,
    };
    if let Some(fi) = info {
        file_info(cx, key, fi, &mut it);
    }
    if it.dst.is_empty() {
        cx.w.add(format!("{key}.dst"), line, "no dst; not imported");
        return;
    }
    if kind != "dir" && kind != "ghost" && !claim(cx, &mut it) {
        return;
    }
    match kind {
        "" | "file" | "tree" => file(cx, &it, kind == "tree", None),
        "config" | "config|noreplace" | "config|missingok" => config(cx, &it, kind),
        "config|tree" | "config|noreplace|tree" | "config|missingok|tree" => {
            cx.w.add(format!("{key}.type"), line, format!("`{kind}`: packwright's [[config]] names one file each; the tree is shipped as plain files (list the files that should be merged as [[config]])"));
            file(cx, &it, true, None)
        }
        "symlink" => symlink(cx, &it),
        "dir" => dir(cx, &it),
        "doc" | "license" | "licence" | "readme" => doc(cx, &it, kind),
        "ghost" => cx.w.add(
            format!("{key}.type"),
            line,
            "packwright has no %ghost files (nfpm writes them for rpm only); not imported",
        ),
        _ => cx.w.add(
            format!("{key}.type"),
            line,
            format!("unknown content type `{kind}`; not imported"),
        ),
    }
}

fn file_info(cx: &mut Cx, key: &str, fi: &Node, it: &mut Item) {
    for (k, v) in fi.entries() {
        let sub = format!("{key}.file_info.{k}");
        match k.as_str() {
            "mode" => match v.str().and_then(mode) {
                Some(m) => it.mode = Some(m),
                None => cx.w.add(&sub, v.line, "not a file mode; not imported"),
            },
            "owner" => it.owner = v.str().map(lit),
            "group" => it.group = v.str().map(lit),
            "mtime" => cx.w.add(
                &sub,
                v.line,
                "packwright dates every entry with SOURCE_DATE_EPOCH; not imported",
            ),
            "lang" => cx.w.add(
                &sub,
                v.line,
                "packwright writes no %lang tags; not imported",
            ),
            _ => {
                cx.w.add(&sub, v.line, "not an nfpm file_info key; not imported")
            }
        }
    }
}

/// YAML's `0644` (octal as nfpm's YAML reads it), `0o644`, or decimal `420`.
fn mode(s: &str) -> Option<String> {
    let s = s.trim();
    let m = if let Some(o) = s.strip_prefix("0o") {
        u32::from_str_radix(o, 8).ok()?
    } else if s.starts_with('0') && s.len() > 1 {
        u32::from_str_radix(&s[1..], 8).ok()?
    } else {
        s.parse::<u32>().ok()?
    };
    (m <= 0o7777).then(|| format!("{m:04o}"))
}

/// Refuse a second entry at a destination (nfpm calls it a content
/// collision and refuses the whole configuration).
fn claim(cx: &mut Cx, it: &mut Item) -> bool {
    let norm = it.dst.trim_end_matches('/').to_string();
    let clash = cx
        .dsts
        .iter()
        .any(|(d, o)| *d == norm && (o.is_none() || it.only.is_none() || *o == it.only));
    if clash && !it.dst.ends_with('/') {
        cx.w.add(
            it.key,
            it.line,
            format!(
                "a second entry for `{}` (nfpm refuses this as a content collision); not imported",
                it.dst
            ),
        );
        return false;
    }
    let there = portable(&norm);
    let meets = |(d, o): &(String, Option<&str>)| {
        portable(d) == there && (o.is_none() || it.only.is_none() || *o == it.only)
    };
    if there != norm && cx.dsts.iter().any(meets) {
        cx.w.add(it.key, it.line, format!("`{}` and another entry are both `{there}` in the zip and tar.gz archives: this one goes into the Linux packages only", it.dst));
        it.system_only = true;
    }
    cx.dsts.push((norm, it.only));
    true
}

/// Where the portable archives put a program (README "Portable archives").
fn portable(dst: &str) -> String {
    for d in [
        "/usr/local/bin/",
        "/usr/bin/",
        "/usr/sbin/",
        "/bin/",
        "/sbin/",
    ] {
        if let Some(rest) = dst.strip_prefix(d) {
            return format!("bin/{rest}");
        }
    }
    dst.to_string()
}

fn common(t: &mut toml_edit::Table, it: &Item) {
    if let Some(m) = &it.mode {
        set(t, "mode", m.as_str(), None);
    }
    if let Some(o) = &it.owner {
        set(t, "owner", o.as_str(), None);
    }
    if let Some(g) = &it.group {
        set(t, "group", g.as_str(), None);
    }
}

fn file(cx: &mut Cx, it: &Item, tree: bool, note: Option<&str>) {
    let Some(src) = &it.src else {
        cx.w.add(it.key, it.line, "a file entry without src; not imported");
        return;
    };
    if !tree && src.ends_with('/') {
        let how = if it.dst.ends_with('/') {
            "nfpm put the directory's files flat into dst; packwright copies the tree"
        } else {
            "nfpm owned none of the directories; packwright owns the copied ones (rpm removes them with the package)"
        };
        cx.w.add(format!("{}.src", it.key), it.line, how);
    }
    let t = cx.doc.push("files", note);
    set(t, "src", src.as_str(), None);
    set(t, "dst", it.dst.as_str(), None);
    common(t, it);
    if let Some(f) = it.only {
        set(t, "only", strings(&[f]), None);
    } else if it.system_only {
        set(t, "only", strings(&["deb", "rpm", "pacman", "apk"]), None);
    }
}

fn config(cx: &mut Cx, it: &Item, kind: &str) {
    if it.only.is_some() {
        cx.w.add(it.key, it.line, "packwright's [[config]] entries are for every format; this one-format config is shipped as a plain file for that format");
        return file(
            cx,
            it,
            false,
            Some("nfpm's config for one format: a plain file here"),
        );
    }
    if let Some(f) = cx.no_hook.clone() {
        cx.w.add(it.key, it.line, format!("packwright-hook keeps config defaults under {f}/, which this package installs as a file: shipped as a plain file"));
        return file(
            cx,
            it,
            false,
            Some("nfpm's config: a plain file here (see the warnings)"),
        );
    }
    let Some(src) = &it.src else {
        cx.w.add(it.key, it.line, "a config without src; not imported");
        return;
    };
    let mut note = format!("nfpm's `{kind}` file: {HOOK_CONFIG_NOTE}");
    if kind == "config|missingok" {
        note.push_str("\nmissingok: the hook renders a deleted file again at the next upgrade.");
    }
    let t = cx.doc.push("config", Some(&note));
    set(t, "src", src.as_str(), None);
    set(t, "dst", it.dst.as_str(), None);
    common(t, it);
}

fn symlink(cx: &mut Cx, it: &Item) {
    let Some(target) = &it.src else {
        cx.w.add(
            it.key,
            it.line,
            "a symlink without src (its target); not imported",
        );
        return;
    };
    let t = cx.doc.push("symlinks", None);
    set(t, "path", it.dst.as_str(), None);
    set(t, "target", target.as_str(), None);
    match it.only {
        Some(f) => set(t, "only", strings(&[f]), None),
        None if it.system_only => set(t, "only", strings(&["deb", "rpm", "pacman", "apk"]), None),
        None => set(
            t,
            "only",
            strings(&["deb", "rpm", "pacman", "apk", "targz"]),
            Some("a zip (for Windows) cannot hold a symlink"),
        ),
    }
    if it.mode.is_some() || it.owner.is_some() {
        cx.w.add(
            format!("{}.file_info", it.key),
            it.line,
            "symlinks are 0777 root:root; not imported",
        );
    }
}

fn dir(cx: &mut Cx, it: &Item) {
    if it.src.is_some() {
        cx.w.add(
            format!("{}.src", it.key),
            it.line,
            "nfpm copies the mode from this directory; packwright uses file_info.mode or 0755",
        );
    }
    let t = cx.doc.push("dirs", None);
    set(t, "path", it.dst.as_str(), None);
    common(t, it);
    if let Some(f) = it.only {
        set(t, "only", strings(&[f]), None);
    }
}

/// nfpm marks doc/license/readme files for rpm and leaves them out of every
/// other format; the import keeps that, and says so.
fn doc(cx: &mut Cx, it: &Item, kind: &str) {
    match it.only {
        Some(f) if f != "rpm" => {
            cx.w.add(
                it.key,
                it.line,
                format!("nfpm ships `{kind}` contents in rpm only; this {f} entry is not imported"),
            );
        }
        _ => {
            let rpm_only = Item {
                only: Some("rpm"),
                ..it.clone()
            };
            let note = format!(
                "nfpm's `{kind}`: nfpm ships these in rpm only; drop `only` to ship it everywhere"
            );
            file(cx, &rpm_only, false, Some(&note));
        }
    }
}
