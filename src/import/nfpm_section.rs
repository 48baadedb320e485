//! nfpm's per-format sections (`rpm`, `deb`, `apk`, `archlinux`) →
//! `[format.<f>]` keys, signing flags to pass, or warnings.

use super::emit::set;
use super::nfpm::{arch, env, Cx};
use super::yaml::Node;

/// `gzip:9` → compression and level.
fn compression(cx: &mut Cx, fmt: &str, key: &str, n: &Node, known: &[&str]) {
    let Some(s) = n.str() else { return };
    let (algo, level) = s.split_once(':').map_or((s, None), |(a, l)| (a, Some(l)));
    let algo = if algo == "lzma" { "xz" } else { algo };
    if !known.contains(&algo) {
        cx.w.add(
            key,
            n.line,
            format!(
                "compression `{s}` is not one packwright writes for {fmt} ({})",
                known.join(", ")
            ),
        );
        return;
    }
    let note = (s.starts_with("lzma")).then_some("nfpm's lzma: packwright writes xz");
    let t = cx.doc.table(&format!("format.{fmt}"));
    set(t, "compression", algo, note);
    match level.map(|l| l.parse::<i64>()) {
        Some(Ok(l)) if l >= 0 => set(t, "level", l, None),
        Some(Ok(_)) | None => {}
        Some(Err(_)) => cx.w.add(
            key,
            n.line,
            "the level after `:` is not a number; not imported",
        ),
    }
}

fn field(cx: &mut Cx, fmt: &str, name: &str, value: &str) {
    let t = cx.doc.table(&format!("format.{fmt}"));
    let fields = t
        .entry("fields")
        .or_insert(toml_edit::Item::Value(toml_edit::InlineTable::new().into()));
    if let Some(ft) = fields.as_inline_table_mut() {
        ft.insert(name, value.into());
    }
}

fn signature(cx: &mut Cx, key: &str, n: &Node, flags: &[(&str, &str)]) {
    for (k, v) in n.entries() {
        let sub = format!("{key}.{k}");
        match flags.iter().find(|(f, _)| f == k) {
            Some((_, flag)) => cx.w.add(
                &sub,
                v.line,
                format!(
                    "keys are not manifest entries: pass `{flag} {}` to packwright build",
                    v.str().unwrap_or("…")
                ),
            ),
            None if flags.is_empty() => cx.w.add(
                &sub,
                v.line,
                "packwright signs no .deb packages (dpkg checks no signature); not imported",
            ),
            None => cx.w.add(
                &sub,
                v.line,
                "packwright has no such signing option; not imported",
            ),
        }
    }
}

pub(crate) fn rpm(cx: &mut Cx, v: &Node) {
    for (k, n) in v.entries() {
        let key = format!("rpm.{k}");
        match k.as_str() {
            "arch" => arch(cx, &key, n, "format.rpm"),
            "group" => set(cx.doc.table("format.rpm"), "group", n.str().unwrap_or(""), None),
            "summary" => cx.w.add(&key, n.line, "packwright has one summary for every format (package.summary, from the description's first line)"),
            "packager" => field(cx, "rpm", "Packager", &env(n.str().unwrap_or(""))),
            "compression" => compression(cx, "rpm", &key, n, &["gzip", "zstd", "xz", "none"]),
            "signature" => signature(cx, &key, n, &[("key_file", "--pgp-key"), ("key_passphrase", "--pgp-passphrase")]),
            "buildhost" => cx.w.add(&key, n.line, "packwright records no build host (packages are reproducible)"),
            "prefixes" => cx.w.add(&key, n.line, "packwright builds no relocatable rpm packages"),
            "requires" => {
                for (when, list) in n.entries() {
                    cx.w.add(format!("{key}.{when}"), list.line, format!("packwright has no Requires({when}); add {} to relations.rpm.depends if a plain dependency will do", list.strings().join(", ")));
                }
            }
            "scripts" => {
                for (s, p) in n.entries() {
                    cx.w.add(format!("{key}.{s}"), p.line, "packwright has no rpm-only script (%pretrans, %posttrans, %verifyscript); not imported");
                }
            }
            _ => cx.w.add(&key, n.line, "not an nfpm rpm key packwright knows; not imported"),
        }
    }
}

pub(crate) fn deb(cx: &mut Cx, v: &Node) {
    for (k, n) in v.entries() {
        let key = format!("deb.{k}");
        match k.as_str() {
            "arch" => arch(cx, &key, n, "format.deb"),
            "compression" => compression(cx, "deb", &key, n, &["gzip", "zstd", "xz", "none"]),
            "breaks" => field(cx, "deb", "Breaks", &n.strings().join(", ")),
            "predepends" => field(cx, "deb", "Pre-Depends", &n.strings().join(", ")),
            "fields" => {
                for (f, val) in n.entries() {
                    if let Some(s) = val.str().filter(|s| !s.is_empty()) {
                        field(cx, "deb", f, &env(s));
                    }
                }
            }
            "signature" => signature(cx, &key, n, &[]),
            "arch_variant" => cx.w.add(
                &key,
                n.line,
                "packwright writes no Architecture-Variant; not imported",
            ),
            "triggers" => cx.w.add(
                &key,
                n.line,
                "packwright writes no dpkg triggers file; not imported",
            ),
            "scripts" => {
                for (s, p) in n.entries() {
                    cx.w.add(
                        format!("{key}.{s}"),
                        p.line,
                        "packwright ships no debconf or rules file; not imported",
                    );
                }
            }
            "metadata" => cx.w.add(
                &key,
                n.line,
                "deprecated in nfpm (version_metadata): append `+…` to package.version if wanted",
            ),
            _ => cx.w.add(
                &key,
                n.line,
                "not an nfpm deb key packwright knows; not imported",
            ),
        }
    }
}

pub(crate) fn apk(cx: &mut Cx, v: &Node) {
    for (k, n) in v.entries() {
        let key = format!("apk.{k}");
        match k.as_str() {
            "arch" => arch(cx, &key, n, "format.apk"),
            "signature" => signature(
                cx,
                &key,
                n,
                &[("key_file", "--rsa-key"), ("key_name", "--rsa-key-name")],
            ),
            "scripts" => upgrade_script_keys(cx, &key, n),
            _ => cx.w.add(
                &key,
                n.line,
                "not an nfpm apk key packwright knows; not imported",
            ),
        }
    }
}

pub(crate) fn archlinux(cx: &mut Cx, v: &Node) {
    for (k, n) in v.entries() {
        let key = format!("archlinux.{k}");
        match k.as_str() {
            "arch" => arch(cx, &key, n, "format.pacman"),
            "packager" => cx.w.add(
                &key,
                n.line,
                "packwright writes .PKGINFO's packager from package.maintainer; not imported",
            ),
            "pkgbase" => cx.w.add(
                &key,
                n.line,
                "packwright builds no split packages; pkgbase is not imported",
            ),
            "scripts" => upgrade_script_keys(cx, &key, n),
            _ => cx.w.add(
                &key,
                n.line,
                "not an nfpm archlinux key packwright knows; not imported",
            ),
        }
    }
}

/// preupgrade/postupgrade are imported by `upgrade_scripts`; anything else
/// is reported here.
fn upgrade_script_keys(cx: &mut Cx, key: &str, n: &Node) {
    for (s, p) in n.entries() {
        if s != "preupgrade" && s != "postupgrade" {
            cx.w.add(
                format!("{key}.{s}"),
                p.line,
                "not an nfpm script of this format; not imported",
            );
        }
    }
}
