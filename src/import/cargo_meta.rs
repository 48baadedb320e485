//! `[package.metadata.deb]` (cargo-deb) and `[package.metadata.generate-rpm]`
//! (cargo-generate-rpm) → manifest entries, with a warning for every key
//! packwright has no equivalent for.

use super::cargo::{add_file, Cx};
use super::emit::{set, strings};
use super::nfpm_contents::HOOK_CONFIG_NOTE;
use toml::{Table, Value};

const DEB: &str = "package.metadata.deb";
const RPM: &str = "package.metadata.generate-rpm";

/// cargo-deb's `"a, b (>= 1)"` or `["a", "b"]`.
fn list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

fn field(cx: &mut Cx, fmt: &str, name: &str, value: &str) {
    let t = cx.doc.table(&format!("format.{fmt}"));
    let f = t
        .entry("fields")
        .or_insert(toml_edit::Item::Value(toml_edit::InlineTable::new().into()));
    if let Some(ft) = f.as_inline_table_mut() {
        ft.insert(name, value.into());
    }
}

struct Asset {
    src: String,
    dst: String,
    mode: Option<String>,
    config: bool,
}

fn asset(cx: &Cx, v: &Value) -> Option<Asset> {
    let (src, dst, mode, config) = match v {
        Value::Array(a) => (
            a.first()?.as_str()?,
            a.get(1)?.as_str()?,
            a.get(2).and_then(Value::as_str),
            false,
        ),
        Value::Table(t) => (
            t.get("source")?.as_str()?,
            t.get("dest")?.as_str()?,
            t.get("mode").and_then(Value::as_str),
            t.get("config").and_then(Value::as_bool) == Some(true),
        ),
        _ => return None,
    };
    let src = match src.strip_prefix("target/release/") {
        Some(rest) => format!("{}/{rest}", cx.release),
        None => src.to_string(),
    };
    let dst = if dst.starts_with('/') {
        dst.to_string()
    } else {
        format!("/{dst}")
    };
    let mode = mode.map(|m| format!("{:0>4}", m.trim_start_matches("0o")));
    Some(Asset {
        src,
        dst,
        mode,
        config,
    })
}

fn full_dst(a: &Asset) -> String {
    let name = a.src.rsplit('/').next().unwrap_or(&a.src);
    if a.dst.ends_with('/') {
        format!("{}{name}", a.dst)
    } else {
        a.dst.clone()
    }
}

const UNIT_DIRS: &[&str] = &["/lib/systemd/system/", "/usr/lib/systemd/system/"];
const UNIT_KINDS: &[&str] = &[
    ".service", ".socket", ".timer", ".path", ".mount", ".target",
];

fn is_unit(a: &Asset, full: &str) -> bool {
    !a.src.contains(['*', '?', '['])
        && UNIT_DIRS
            .iter()
            .any(|d| full.strip_prefix(d).is_some_and(|n| !n.contains('/')))
        && UNIT_KINDS.iter().any(|k| full.ends_with(k))
}

/// One asset: a hook-owned config (conf-files), a systemd unit, or a file.
fn place(cx: &mut Cx, a: Asset, confs: &[String], key: &str) {
    let full = full_dst(&a);
    if confs.contains(&full) || a.config {
        let t = cx
            .doc
            .push("config", Some(&format!("{key}: {HOOK_CONFIG_NOTE}")));
        set(t, "src", a.src.as_str(), None);
        set(t, "dst", full.as_str(), None);
        if let Some(m) = &a.mode {
            set(t, "mode", m.as_str(), None);
        }
        cx.dsts.push((full, a.src));
    } else if is_unit(&a, &full) {
        let name = full.rsplit('/').next().unwrap_or("").to_string();
        let exists = cx
            .dsts
            .iter()
            .any(|(d, _)| d.ends_with(&format!("/{name}")));
        if exists {
            cx.w.add(
                key,
                0,
                format!("{name} is already a systemd unit of the package; not imported twice"),
            );
            return;
        }
        let t = cx.doc.push("systemd", Some("an asset in /lib/systemd/system/: installed in /usr/lib/systemd/system/,\nand, as cargo-deb did without systemd-units, not enabled, started or restarted"));
        set(t, "unit", a.src.as_str(), None);
        for k in ["enable", "start", "restart-on-upgrade", "drop-in"] {
            set(t, k, false, None);
        }
        cx.dsts
            .push((format!("/usr/lib/systemd/system/{name}"), a.src));
    } else {
        add_file(cx, &a.src, &a.dst, a.mode.as_deref(), None);
    }
}

fn assets(cx: &mut Cx, v: &Value, confs: &[String], base: &str) {
    let Some(items) = v.as_array() else { return };
    for (i, item) in items.iter().enumerate() {
        let key = format!("{base}.assets[{i}]");
        if item.as_str() == Some("$auto") {
            for b in cx.bins.clone() {
                let src = format!("{}/{b}", cx.release);
                add_file(cx, &src, &format!("/usr/bin/{b}"), Some("0755"), None);
            }
            continue;
        }
        match asset(cx, item) {
            Some(a) => place(cx, a, confs, &key),
            None => cx.w.add(
                &key,
                0,
                "not an asset ([source, dest, mode] or {source, dest, mode}); not imported",
            ),
        }
    }
}

const EVENTS: &[(&str, &[&str])] = &[
    ("preinst", &["pre-install", "pre-upgrade"]),
    ("postinst", &["post-install", "post-upgrade"]),
    ("prerm", &["pre-remove"]),
    ("postrm", &["post-remove"]),
];

fn script(cx: &mut Cx, event: &str, path: &str, from: &str, note: Option<&str>) {
    if let Some((_, prev)) = cx.scripts.iter().find(|(e, _)| e == event) {
        cx.w.add(from, 0, format!("packwright has one {event} script; {prev} already set it, so this one is not imported"));
        return;
    }
    cx.scripts.push((event.to_string(), from.to_string()));
    set(cx.doc.table("scripts"), event, path, note);
}

fn maintainer_scripts(cx: &mut Cx, dir: &str) {
    let key = format!("{DEB}.maintainer-scripts");
    let at = cx.dir.join(dir);
    if !at.is_dir() {
        cx.w.add(
            &key,
            0,
            format!(
                "`{dir}` is not a directory (looked for {}); no scripts imported",
                at.display()
            ),
        );
        return;
    }
    for (file, events) in EVENTS {
        if !at.join(file).is_file() {
            continue;
        }
        let path = format!("{}/{file}", dir.trim_end_matches('/'));
        let note = format!("cargo-deb's whole dpkg {file}: packwright writes the maintainer scripts and runs this\nas a snippet with `<event> <old-version> <new-version>`; keep only the product's steps, drop #DEBHELPER#");
        for (i, ev) in events.iter().enumerate() {
            script(cx, ev, &path, &key, (i == 0).then_some(note.as_str()));
        }
    }
    for file in ["templates", "config", "triggers"] {
        if at.join(file).is_file() {
            cx.w.add(
                &key,
                0,
                format!("{dir}{file}: packwright ships no debconf or triggers files; not imported"),
            );
        }
    }
}

fn systemd_units(cx: &mut Cx, v: &Value, scripts_dir: Option<&str>) {
    let units: Vec<&Table> = match v {
        Value::Table(t) => vec![t],
        Value::Array(a) => a.iter().filter_map(Value::as_table).collect(),
        _ => Vec::new(),
    };
    for (i, u) in units.iter().enumerate() {
        let key = format!("{DEB}.systemd-units[{i}]");
        let base = u
            .get("unit-name")
            .and_then(Value::as_str)
            .unwrap_or(&cx.name)
            .to_string();
        let dir = u
            .get("unit-scripts")
            .and_then(Value::as_str)
            .or(scripts_dir)
            .unwrap_or("debian/")
            .trim_end_matches('/')
            .to_string();
        let flag = |k: &str| u.get(k).and_then(Value::as_bool).unwrap_or(true);
        let mut found = 0;
        for kind in UNIT_KINDS {
            for name in [format!("{base}{kind}"), format!("{base}@{kind}")] {
                let rel = format!("{dir}/{name}");
                if !cx.dir.join(&rel).is_file() {
                    continue;
                }
                found += 1;
                let t = cx.doc.push("systemd", None);
                set(t, "unit", rel.as_str(), None);
                set(t, "enable", flag("enable"), None);
                set(t, "start", flag("start"), None);
                set(t, "restart-on-upgrade", flag("restart-after-upgrade"), None);
                cx.dsts
                    .push((format!("/usr/lib/systemd/system/{name}"), rel));
            }
        }
        if found == 0 {
            cx.w.add(
                &key,
                0,
                format!(
                    "no unit file {base}.service (or .socket, .timer, …) in {}; not imported",
                    cx.dir.join(&dir).display()
                ),
            );
        }
        for (k, _) in u.iter() {
            if ![
                "unit-name",
                "unit-scripts",
                "enable",
                "start",
                "restart-after-upgrade",
            ]
            .contains(&k.as_str())
            {
                cx.w.add(format!("{key}.{k}"), 0, "packwright stops nothing before an upgrade and restarts at its end; not imported");
            }
        }
    }
}

/// cargo-deb's metadata.
pub(crate) fn deb(cx: &mut Cx, d: &Table) {
    let confs: Vec<String> = d
        .get("conf-files")
        .map(list)
        .unwrap_or_default()
        .iter()
        .map(|c| {
            if c.starts_with('/') {
                c.clone()
            } else {
                format!("/{c}")
            }
        })
        .collect();
    let scripts_dir = d.get("maintainer-scripts").and_then(Value::as_str);
    if let Some(u) = d.get("systemd-units") {
        systemd_units(cx, u, scripts_dir);
    }
    if let Some(a) = d.get("assets") {
        assets(cx, a, &confs, DEB);
    }
    for c in &confs {
        if !cx.dsts.iter().any(|(d, _)| d == c) {
            cx.w.add(
                format!("{DEB}.conf-files"),
                0,
                format!("{c} is not installed by any asset; not imported"),
            );
        }
    }
    if let Some(dir) = scripts_dir {
        maintainer_scripts(cx, dir);
    }
    for (k, v) in d {
        let key = format!("{DEB}.{k}");
        match k.as_str() {
            "name" | "maintainer" | "copyright" | "license-file" | "extended-description" | "changelog" | "assets" | "conf-files" | "maintainer-scripts" | "systemd-units" => {}
            "depends" | "recommends" | "suggests" | "conflicts" | "provides" | "replaces" => {
                let mut l = list(v);
                if l.iter().any(|x| x == "$auto") {
                    l.retain(|x| x != "$auto");
                    cx.w.add(&key, 0, "packwright computes no shared-library dependencies (`$auto`): list them (`dpkg-shlibdeps -O target/release/<bin>` prints them)");
                }
                if !l.is_empty() {
                    set(cx.doc.table("relations.deb"), k, strings(&l), None);
                }
            }
            "pre-depends" | "breaks" | "enhances" => {
                let name = match k.as_str() {
                    "pre-depends" => "Pre-Depends",
                    "breaks" => "Breaks",
                    _ => "Enhances",
                };
                field(cx, "deb", name, &list(v).join(", "));
            }
            "section" | "priority" => set(cx.doc.table("format.deb"), k, v.as_str().unwrap_or(""), None),
            "revision" => set(cx.doc.table("format.deb"), "release", v.as_str().unwrap_or("1"), None),
            "extended-description-file" => cx.w.add(&key, 0, "set package.description to the file's text; not imported"),
            "features" | "default-features" | "separate-debug-symbols" | "strip" | "dbgsym" | "build-command" | "profile" | "compress-debug-symbols" => {
                cx.w.add(&key, 0, "`cargo packwright` runs a plain `cargo build --release`: build with this yourself, then `packwright build`")
            }
            "variants" => {
                for (name, _) in v.as_table().into_iter().flatten() {
                    cx.w.add(format!("{key}.{name}"), 0, "packwright has no variants: one manifest per variant (`--manifest`); not imported");
                }
            }
            _ => cx.w.add(&key, 0, "no packwright equivalent; not imported"),
        }
    }
}

fn rpm_scripts(cx: &mut Cx, k: &str, v: &Value) {
    let events: &[&str] = match k {
        "pre_install_script" => &["pre-install", "pre-upgrade"],
        "post_install_script" => &["post-install", "post-upgrade"],
        "pre_uninstall_script" => &["pre-remove"],
        _ => &["post-remove"],
    };
    let key = format!("{RPM}.{k}");
    let path = v.as_str().unwrap_or("");
    if path.contains('\n') || !cx.dir.join(path).is_file() {
        cx.w.add(
            &key,
            0,
            "an inline script: save it to a file and name it in [scripts]; not imported",
        );
        return;
    }
    for ev in events {
        script(cx, ev, path, &key, None);
    }
}

/// cargo-generate-rpm's metadata. With cargo-deb assets too, those are the
/// file list; rpm assets at other paths are added for rpm only.
pub(crate) fn rpm(cx: &mut Cx, r: &Table, deb_assets: bool) {
    for (k, v) in r {
        let key = format!("{RPM}.{k}");
        match k.as_str() {
            "assets" if !deb_assets => assets(cx, v, &[], RPM),
            "assets" => rpm_extra_assets(cx, v),
            "name" if v.as_str() != Some(cx.name.as_str()) => cx.w.add(&key, 0, "packwright has one package name for every format; not imported"),
            "name" => {}
            "version" | "license" | "summary" => cx.w.add(&key, 0, format!("packwright has one {k} for every format (from the crate); this rpm-only one is not imported")),
            "release" => set(cx.doc.table("format.rpm"), "release", v.as_str().unwrap_or("1"), None),
            "requires" | "conflicts" | "provides" | "recommends" | "suggests" => {
                let l: Vec<String> = v.as_table().into_iter().flatten().map(|(n, c)| match c.as_str() {
                    Some("*") | None => n.clone(),
                    Some(c) => format!("{n} {c}"),
                }).collect();
                let name = if k == "requires" { "depends" } else { k.as_str() };
                set(cx.doc.table("relations.rpm"), name, strings(&l), None);
            }
            "pre_install_script" | "post_install_script" | "pre_uninstall_script" | "post_uninstall_script" => rpm_scripts(cx, k, v),
            _ => cx.w.add(&key, 0, "no packwright equivalent; not imported"),
        }
    }
}

fn rpm_extra_assets(cx: &mut Cx, v: &Value) {
    for (i, item) in v.as_array().into_iter().flatten().enumerate() {
        let key = format!("{RPM}.assets[{i}]");
        let Some(a) = asset(cx, item) else { continue };
        let full = full_dst(&a);
        if cx.dsts.iter().any(|(d, _)| {
            *d == full
                || full.ends_with(&format!("/{}", d.rsplit('/').next().unwrap_or("")))
                    && d.contains("/systemd/")
        }) {
            continue;
        }
        cx.w.add(
            &key,
            0,
            format!("{full} is not among the cargo-deb assets: added for rpm only"),
        );
        add_file(cx, &a.src, &a.dst, a.mode.as_deref(), Some(&["rpm"]));
    }
}
