//! Property tests: for random configs (with commented-out options and keys
//! in the last nested mapping) and random edits by the admin (including
//! enabling a commented option, adding keys at every depth and at the end of
//! the file) and by upstream, every admin edit survives (or is reported),
//! every key the admin did not touch equals the new default, and the version
//! is the new one; the result reads back with an independent parser where
//! one exists (yaml-rust2, toml, serde_json); the new default's comment and
//! blank lines are neither lost nor repeated; a live file equal to the old
//! default becomes the new default byte for byte; a second run changes
//! nothing. Plus: no engine panics on any input.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use packwright_hook::merge::{self, ConfigSyntax, Doc, Src};
use proptest::prelude::*;

type Model = BTreeMap<(String, String), String>;

/// A generated config: active keys, options shown commented out (`# k: v`,
/// `;k = v`), and keys whose documentation line upstream reworded.
#[derive(Debug, Clone, Default)]
struct Cfg {
    on: Model,
    off: Model,
    reworded: BTreeSet<(String, String)>,
}

#[derive(Debug, Clone)]
enum Op {
    Set(u8, u8, String),
    Del(u8, u8),
    /// The admin enables a commented-out option (a no-op when it is not one).
    Uncomment(u8, u8, String),
    /// Upstream rewords the documentation line of a key.
    Reword(u8, u8),
}

/// Keys k0..k3 sit in the section; z4, z5 in its last nested mapping
/// (`sub`, for the formats that nest), so additions reach every depth.
fn key(s: u8, k: u8) -> (String, String) {
    let name = if k < 4 {
        format!("k{k}")
    } else {
        format!("z{k}")
    };
    (format!("s{s}"), name)
}

fn apply(c: &Cfg, ops: &[Op]) -> Cfg {
    let mut c = c.clone();
    for op in ops {
        match op {
            Op::Set(s, k, v) => {
                c.off.remove(&key(*s, *k));
                c.on.insert(key(*s, *k), v.clone());
            }
            Op::Del(s, k) => {
                c.on.remove(&key(*s, *k));
            }
            Op::Uncomment(s, k, v) => {
                if c.off.remove(&key(*s, *k)).is_some() {
                    c.on.insert(key(*s, *k), v.clone());
                }
            }
            Op::Reword(s, k) => {
                c.reworded.insert(key(*s, *k));
            }
        }
    }
    c
}

fn value() -> impl Strategy<Value = String> {
    "[a-z]{1,6}".prop_map(|s| format!("v{s}"))
}

fn cfg() -> impl Strategy<Value = Cfg> {
    let keys = |n| {
        prop::collection::btree_map((0u8..4, 0u8..6).prop_map(|(s, k)| key(s, k)), value(), 0..n)
    };
    (keys(14), keys(6)).prop_map(|(on, off)| {
        // Only section-level keys are shown commented out.
        let off = off
            .into_iter()
            .filter(|(k, _)| !on.contains_key(k) && k.1.starts_with('k'))
            .collect();
        Cfg {
            on,
            off,
            reworded: BTreeSet::new(),
        }
    })
}

fn ops(admin: bool) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            (0u8..5, 0u8..6, value()).prop_map(|(s, k, v)| Op::Set(s, k, v)),
            (0u8..4, 0u8..6).prop_map(|(s, k)| Op::Del(s, k)),
            (0u8..4, 0u8..4, value(), any::<bool>()).prop_map(move |(s, k, v, b)| {
                if admin || b {
                    Op::Uncomment(s, k, v)
                } else {
                    Op::Reword(s, k)
                }
            }),
        ],
        0..6,
    )
}

/// One line per option, with its documentation line above and a blank line after.
struct Item<'a> {
    doc: String,
    key: &'a str,
    value: &'a str,
    on: bool,
}

fn sections<'a>(c: &'a Cfg, sep: &str) -> BTreeMap<String, Vec<Item<'a>>> {
    let mut out: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    let all =
        c.on.iter()
            .map(|e| (e, true))
            .chain(c.off.iter().map(|e| (e, false)));
    let mut all: Vec<_> = all.collect();
    all.sort();
    for (((s, k), v), on) in all {
        let again = if c.reworded.contains(&(s.clone(), k.clone())) {
            " (reworded)"
        } else {
            ""
        };
        out.entry(s.clone()).or_default().push(Item {
            doc: format!("about {s}{sep}{k}{again}"),
            key: k,
            value: v,
            on,
        });
    }
    out
}

fn render(f: ConfigSyntax, c: &Cfg, version: u32) -> String {
    let mut t = String::new();
    let nested = |items: &[Item]| items.iter().any(|i| i.key.starts_with('z'));
    match f {
        ConfigSyntax::Yaml => {
            t += &format!("# config\nversion: {version}\n");
            for (s, items) in sections(c, ".") {
                t += &format!("# section {s}\n{s}:\n");
                let mut sub = false;
                for i in &items {
                    let pad = if i.key.starts_with('z') { "    " } else { "  " };
                    if i.key.starts_with('z') && !sub {
                        sub = true;
                        t += "  sub:\n";
                    }
                    let mark = if i.on { "" } else { "# " };
                    t += &format!("{pad}# {}\n{pad}{mark}{}: {}\n\n", i.doc, i.key, i.value);
                }
            }
        }
        ConfigSyntax::Toml => {
            t += &format!("# config\nversion = {version}\n");
            for (s, items) in sections(c, ".") {
                t += &format!("\n# section {s}\n[{s}]\n");
                let mut sub = false;
                for i in &items {
                    if i.key.starts_with('z') && !sub {
                        sub = true;
                        t += &format!("[{s}.sub]\n");
                    }
                    let mark = if i.on { "" } else { "# " };
                    t += &format!("# {}\n{mark}{} = \"{}\"\n\n", i.doc, i.key, i.value);
                }
            }
        }
        ConfigSyntax::Json => {
            let mut root = serde_json::Map::new();
            root.insert("version".into(), version.into());
            for (s, items) in sections(c, ".") {
                let mut obj = serde_json::Map::new();
                let mut sub = serde_json::Map::new();
                for i in items.iter().filter(|i| i.on) {
                    let m = if i.key.starts_with('z') {
                        &mut sub
                    } else {
                        &mut obj
                    };
                    m.insert(i.key.to_string(), i.value.into());
                }
                if nested(&items) && !sub.is_empty() {
                    obj.insert("sub".into(), sub.into());
                }
                root.insert(s, obj.into());
            }
            t = serde_json::to_string_pretty(&root).unwrap() + "\n";
        }
        ConfigSyntax::Env => {
            t += &format!("# config\nversion={version}\n\n");
            for (s, items) in sections(c, "_") {
                for i in &items {
                    let mark = if i.on { "" } else { "#" };
                    t += &format!("# {}\n{mark}{s}_{}={}\n\n", i.doc, i.key, i.value);
                }
            }
        }
        ConfigSyntax::Ini => {
            t += &format!("; config\nversion = {version}\n");
            for (s, items) in sections(c, ".") {
                t += &format!("\n; section {s}\n[{s}]\n");
                for i in &items {
                    let mark = if i.on { "" } else { ";" };
                    t += &format!("; {}\n{mark}{} = {}\n\n", i.doc, i.key, i.value);
                }
            }
        }
        ConfigSyntax::Text => unreachable!(),
    }
    t
}

/// A section's keys from a nested format's mapping (`sub` holds the z keys).
fn nested_keys<'a>(
    s: &str,
    entries: impl Iterator<Item = (&'a str, Option<&'a str>, Option<Vec<(&'a str, &'a str)>>)>,
    m: &mut Model,
) {
    for (k, v, sub) in entries {
        if let Some(v) = v {
            m.insert((s.into(), k.into()), v.into());
        }
        for (zk, zv) in sub.unwrap_or_default() {
            m.insert((s.into(), zk.into()), zv.into());
        }
    }
}

/// Read the merged text back: (model, version).
fn read_back(f: ConfigSyntax, text: &str) -> (Model, String) {
    let mut m = Model::new();
    let mut version = String::new();
    match f {
        ConfigSyntax::Yaml => {
            use yaml_rust2::Yaml;
            let docs = yaml_rust2::YamlLoader::load_from_str(text).unwrap();
            for (k, v) in docs[0].as_hash().unwrap() {
                let k = k.as_str().unwrap();
                match v {
                    Yaml::Hash(h) => {
                        let entries = h.iter().map(|(ck, cv)| {
                            let sub = cv.as_hash().map(|sh| {
                                sh.iter()
                                    .map(|(a, b)| (a.as_str().unwrap(), b.as_str().unwrap()))
                                    .collect()
                            });
                            (ck.as_str().unwrap(), cv.as_str(), sub)
                        });
                        nested_keys(k, entries, &mut m);
                    }
                    Yaml::Integer(i) if k == "version" => version = i.to_string(),
                    Yaml::Null => {} // a section whose keys were all deleted
                    other => panic!("unexpected {k}: {other:?}"),
                }
            }
        }
        ConfigSyntax::Toml => {
            let t: toml::Table = toml::from_str(text).unwrap();
            for (k, v) in &t {
                match v {
                    toml::Value::Table(h) => {
                        let entries = h.iter().map(|(ck, cv)| {
                            let sub = cv.as_table().map(|sh| {
                                sh.iter()
                                    .map(|(a, b)| (a.as_str(), b.as_str().unwrap()))
                                    .collect()
                            });
                            (ck.as_str(), cv.as_str(), sub)
                        });
                        nested_keys(k, entries, &mut m);
                    }
                    toml::Value::Integer(i) => version = i.to_string(),
                    other => panic!("unexpected {k}: {other:?}"),
                }
            }
        }
        ConfigSyntax::Json => {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            for (k, v) in v.as_object().unwrap() {
                match v {
                    serde_json::Value::Object(h) => {
                        let entries = h.iter().map(|(ck, cv)| {
                            let sub = cv.as_object().map(|sh| {
                                sh.iter()
                                    .map(|(a, b)| (a.as_str(), b.as_str().unwrap()))
                                    .collect()
                            });
                            (ck.as_str(), cv.as_str(), sub)
                        });
                        nested_keys(k, entries, &mut m);
                    }
                    other => version = other.to_string(),
                }
            }
        }
        ConfigSyntax::Env => {
            for (k, v) in merge::env::EnvDoc::parse(text).ok().unwrap().leaves() {
                match k[0].split_once('_') {
                    Some((s, key)) => m.insert((s.into(), key.into()), v),
                    None => {
                        version = v;
                        None
                    }
                };
            }
        }
        ConfigSyntax::Ini => {
            for (k, v) in merge::ini::IniDoc::parse(text).ok().unwrap().leaves() {
                if k[0].is_empty() {
                    version = v;
                } else {
                    m.insert((k[0].clone(), k[1].clone()), v);
                }
            }
        }
        ConfigSyntax::Text => unreachable!(),
    }
    (m, version)
}

fn merged(f: ConfigSyntax, b: &str, o: &str, t: &str) -> merge::Merged {
    let p = Path::new("config");
    let src = |text| Src { path: p, text };
    f.engine()
        .merge(src(b), src(o), src(t), Some("version"))
        .unwrap_or_else(|e| panic!("{f:?}: {e}\n--- base\n{b}--- live\n{o}--- new default\n{t}"))
}

fn is_comment(l: &str) -> bool {
    let l = l.trim();
    l.starts_with('#') || l.starts_with(';')
}

fn count(text: &str, line: &str) -> usize {
    text.lines().filter(|l| *l == line).count()
}

/// The layout invariants: the new default's comment and blank lines are
/// neither lost nor repeated, and the comments of the old default that the
/// new one dropped do not come back.
fn layout(
    f: ConfigSyntax,
    m: &merge::Merged,
    c: [&Cfg; 3],
    text: [&str; 3],
) -> Result<(), TestCaseError> {
    let [base, ours, theirs] = c;
    let [bt, ot, tt] = text;
    let (result, _) = read_back(f, &m.text);
    let sep = if f == ConfigSyntax::Env { "_" } else { "." };
    for l in tt.lines().filter(|l| is_comment(l)) {
        let n = count(&m.text, l);
        let t = l.trim();
        // The doc line of an option the admin deleted goes with it; a
        // commented-out option the admin enabled gives way to the admin's line.
        let deleted = theirs.on.keys().any(|(s, k)| {
            t.starts_with(&format!("# about {s}{sep}{k}")) || t.starts_with(&format!("; about {s}{sep}{k}"))
        } && !result.contains_key(&(s.clone(), k.clone())) && base.on.contains_key(&(s.clone(), k.clone())));
        let enabled = theirs.off.keys().any(|(s, k)| {
            let name = if f == ConfigSyntax::Env {
                format!("{s}_{k}")
            } else {
                k.clone()
            };
            let body = t.trim_start_matches(['#', ';', ' ']);
            (body.starts_with(&format!("{name}:"))
                || body.starts_with(&format!("{name} ="))
                || body.starts_with(&format!("{name}=")))
                && result.contains_key(&(s.clone(), k.clone()))
        });
        // Two sections may document an option with the same line.
        let want = count(tt, l);
        let ok = n == want || (n < want && (deleted || enabled));
        prop_assert!(
            ok,
            "{:?}: comment {:?} of the new default is there {} times\n{}",
            f,
            l,
            n,
            m.text
        );
    }
    for l in m.text.lines().filter(|l| is_comment(l)) {
        let admins = count(ot, l) > 0 && count(bt, l) == 0;
        prop_assert!(
            count(tt, l) > 0 || admins,
            "{:?}: comment {:?} is neither upstream's nor the admin's\n{}",
            f,
            l,
            m.text
        );
        prop_assert!(
            count(&m.text, l) <= count(tt, l).max(count(ot, l)).max(1),
            "{:?}: comment {:?} repeated\n{}",
            f,
            l,
            m.text
        );
    }
    let blanks = |s: &str| s.lines().filter(|l| l.trim().is_empty()).count();
    let new_sections = ours
        .on
        .keys()
        .chain(ours.off.keys())
        .map(|k| &k.0)
        .filter(|s| {
            !theirs
                .on
                .keys()
                .chain(theirs.off.keys())
                .any(|k| &k.0 == *s)
        });
    let subs = |c: &Cfg| -> BTreeSet<String> {
        c.on.keys()
            .filter(|k| k.1.starts_with('z'))
            .map(|k| k.0.clone())
            .collect()
    };
    let new_subs = subs(ours).difference(&subs(theirs)).count();
    let added = new_sections.collect::<BTreeSet<_>>().len() + new_subs;
    // TOML: a key only the admin has brings the blank line above its comment.
    let new_keys = ours
        .on
        .keys()
        .filter(|k| !theirs.on.contains_key(*k))
        .count();
    let added = 2 * added + if f == ConfigSyntax::Toml { new_keys } else { 0 };
    let (r, t) = (blanks(&m.text), blanks(tt));
    prop_assert!(
        r >= t && r <= t + added,
        "{:?}: {} blank lines, the new default has {}\n{}",
        f,
        r,
        t,
        m.text
    );
    Ok(())
}

fn check(f: ConfigSyntax, base: &Cfg, user: &[Op], upstream: &[Op]) -> Result<(), TestCaseError> {
    let ours = apply(base, user);
    let mut theirs = apply(base, upstream);
    if f == ConfigSyntax::Json {
        theirs.reworded.clear();
    }
    let (bt, ot, tt) = (
        render(f, base, 1),
        render(f, &ours, 1),
        render(f, &theirs, 2),
    );
    let m = merged(f, &bt, &ot, &tt);
    prop_assert!(m.note.is_none(), "{:?} fell back: {:?}", f, m.note);
    let (result, version) = read_back(f, &m.text);
    prop_assert_eq!(version, "2");
    let key = |(s, k): &(String, String)| match f {
        ConfigSyntax::Env => format!("{s}_{k}"),
        ConfigSyntax::Ini => format!("{s}.{k}"),
        _ if k.starts_with('z') => format!("{s}.sub.{k}"),
        _ => format!("{s}.{k}"),
    };
    let removed: BTreeSet<String> = m.removed.iter().map(|r| r.key.clone()).collect();
    let conflicts: BTreeSet<String> = m.conflicts.iter().map(|r| r.key.clone()).collect();
    let (b_on, o_on, t_on) = (&base.on, &ours.on, &theirs.on);
    let all: BTreeSet<&(String, String)> =
        b_on.keys().chain(o_on.keys()).chain(t_on.keys()).collect();
    for k in all {
        let (b, o, t, r) = (b_on.get(k), o_on.get(k), t_on.get(k), result.get(k));
        if o == b {
            prop_assert_eq!(
                r,
                t,
                "{:?} {:?}: untouched by the admin must equal the new default\n{}",
                f,
                k,
                m.text
            );
        } else {
            let reported_removed = removed.contains(&key(k)) && r.is_none() && t.is_none();
            prop_assert!(
                r == o || reported_removed,
                "{:?} {:?}: admin edit lost\n{}",
                f,
                k,
                m.text
            );
            if o.is_some() && t != b && t != o {
                prop_assert!(
                    conflicts.contains(&key(k)),
                    "{:?} {:?}: conflict not reported",
                    f,
                    k
                );
            }
        }
    }
    layout(f, &m, [base, &ours, &theirs], [&bt, &ot, &tt])?;
    // Live = old default: the new default, byte for byte.
    let fresh = merged(f, &bt, &bt, &tt);
    prop_assert_eq!(
        &fresh.text,
        &tt,
        "{:?}: an untouched file is not the new default",
        f
    );
    // Once merged, the same release again changes nothing.
    let again = merged(f, &tt, &m.text, &tt);
    prop_assert_eq!(
        &again.text,
        &m.text,
        "{:?}: a second run changed the file",
        f
    );
    Ok(())
}

/// `n` cases, or `PROPTEST_CASES` when set (an explicit count would override it).
fn cases(n: u32) -> ProptestConfig {
    let env = std::env::var("PROPTEST_CASES").ok();
    ProptestConfig::with_cases(env.and_then(|v| v.parse().ok()).unwrap_or(n))
}

proptest! {
    #![proptest_config(cases(300))]

    #[test]
    fn every_edit_survives_yaml(b in cfg(), u in ops(true), t in ops(false)) { check(ConfigSyntax::Yaml, &b, &u, &t)?; }
    #[test]
    fn every_edit_survives_toml(b in cfg(), u in ops(true), t in ops(false)) { check(ConfigSyntax::Toml, &b, &u, &t)?; }
    #[test]
    fn every_edit_survives_json(b in cfg(), u in ops(true), t in ops(false)) { check(ConfigSyntax::Json, &b, &u, &t)?; }
    #[test]
    fn every_edit_survives_env(b in cfg(), u in ops(true), t in ops(false)) { check(ConfigSyntax::Env, &b, &u, &t)?; }
    #[test]
    fn every_edit_survives_ini(b in cfg(), u in ops(true), t in ops(false)) { check(ConfigSyntax::Ini, &b, &u, &t)?; }
}

/// Bytes that look like config syntax, and arbitrary text.
fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 :=#;\\[\\]{}\"',\\-|>&*!%\n\r\t.]{0,120}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(cases(2000))]

    /// Stands in for fuzzing where cargo-fuzz cannot run: no engine panics.
    #[test]
    fn no_engine_panics_on_any_input(b in junk(), o in junk(), t in junk()) {
        let p = Path::new("f");
        for f in [ConfigSyntax::Yaml, ConfigSyntax::Toml, ConfigSyntax::Json, ConfigSyntax::Env, ConfigSyntax::Ini, ConfigSyntax::Text] {
            let e = f.engine();
            let _ = e.merge(Src { path: p, text: &b }, Src { path: p, text: &o }, Src { path: p, text: &t }, Some("version"));
            let _ = e.value(Src { path: p, text: &o }, "a.b");
        }
    }
}
