//! Property tests: for random configs and random edits by the admin and by
//! upstream, every admin edit survives (or is reported as a removal), every
//! key the admin did not touch equals the new default, and the version is
//! the new one. The result is read back with an independent parser where one
//! exists (yaml-rust2, toml, serde_json). Plus: no engine panics on any input.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use packwright_hook::merge::{self, Doc, Format, Src};
use proptest::prelude::*;

type Model = BTreeMap<(String, String), String>;

#[derive(Debug, Clone)]
enum Op {
    Set(u8, u8, String),
    Del(u8, u8),
}

fn apply(m: &Model, ops: &[Op]) -> Model {
    let mut m = m.clone();
    for op in ops {
        match op {
            Op::Set(s, k, v) => {
                m.insert((format!("s{s}"), format!("k{k}")), v.clone());
            }
            Op::Del(s, k) => {
                m.remove(&(format!("s{s}"), format!("k{k}")));
            }
        }
    }
    m
}

fn value() -> impl Strategy<Value = String> {
    "[a-z]{1,6}".prop_map(|s| format!("v{s}"))
}

fn model() -> impl Strategy<Value = Model> {
    prop::collection::btree_map(
        (0u8..4, 0u8..5).prop_map(|(s, k)| (format!("s{s}"), format!("k{k}"))),
        value(),
        0..14,
    )
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            (0u8..5, 0u8..6, value()).prop_map(|(s, k, v)| Op::Set(s, k, v)),
            (0u8..4, 0u8..5).prop_map(|(s, k)| Op::Del(s, k)),
        ],
        0..6,
    )
}

fn sections(m: &Model) -> BTreeMap<&str, Vec<(&str, &str)>> {
    let mut out: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for ((s, k), v) in m {
        out.entry(s).or_default().push((k, v));
    }
    out
}

fn render(f: Format, m: &Model, version: u32) -> String {
    let mut t = String::new();
    match f {
        Format::Yaml => {
            t += &format!("# config\nversion: {version}\n");
            for (s, kv) in sections(m) {
                t += &format!("# section {s}\n{s}:\n");
                for (k, v) in kv {
                    t += &format!("  # about {k}\n  {k}: {v}\n");
                }
            }
        }
        Format::Toml => {
            t += &format!("# config\nversion = {version}\n");
            for (s, kv) in sections(m) {
                t += &format!("\n# section {s}\n[{s}]\n");
                for (k, v) in kv {
                    t += &format!("# about {k}\n{k} = \"{v}\"\n");
                }
            }
        }
        Format::Json => {
            let mut root = serde_json::Map::new();
            root.insert("version".into(), version.into());
            for (s, kv) in sections(m) {
                let obj: serde_json::Map<String, serde_json::Value> = kv
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.into()))
                    .collect();
                root.insert(s.into(), obj.into());
            }
            t = serde_json::to_string_pretty(&root).unwrap() + "\n";
        }
        Format::Env => {
            t += &format!("# config\nversion={version}\n");
            for ((s, k), v) in m {
                t += &format!("# about {s}_{k}\n{s}_{k}={v}\n");
            }
        }
        Format::Ini => {
            t += &format!("; config\nversion = {version}\n");
            for (s, kv) in sections(m) {
                t += &format!("\n; section {s}\n[{s}]\n");
                for (k, v) in kv {
                    t += &format!("; about {k}\n{k} = {v}\n");
                }
            }
        }
        Format::Text => unreachable!(),
    }
    t
}

/// Read the merged text back: (model, version).
fn read_back(f: Format, text: &str) -> (Model, String) {
    let mut m = Model::new();
    let mut version = String::new();
    match f {
        Format::Yaml => {
            let docs = yaml_rust2::YamlLoader::load_from_str(text).unwrap();
            for (k, v) in docs[0].as_hash().unwrap() {
                let k = k.as_str().unwrap();
                match v {
                    yaml_rust2::Yaml::Hash(h) => {
                        for (ck, cv) in h {
                            m.insert(
                                (k.into(), ck.as_str().unwrap().into()),
                                cv.as_str().unwrap().into(),
                            );
                        }
                    }
                    yaml_rust2::Yaml::Integer(i) if k == "version" => version = i.to_string(),
                    yaml_rust2::Yaml::Null => {} // a section whose keys were all deleted
                    other => panic!("unexpected {k}: {other:?}"),
                }
            }
        }
        Format::Toml => {
            let t: toml::Table = toml::from_str(text).unwrap();
            for (k, v) in t {
                match v {
                    toml::Value::Table(h) => {
                        for (ck, cv) in h {
                            m.insert((k.clone(), ck), cv.as_str().unwrap().into());
                        }
                    }
                    toml::Value::Integer(i) => version = i.to_string(),
                    other => panic!("unexpected {k}: {other:?}"),
                }
            }
        }
        Format::Json => {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            for (k, v) in v.as_object().unwrap() {
                match v {
                    serde_json::Value::Object(h) => {
                        for (ck, cv) in h {
                            m.insert((k.clone(), ck.clone()), cv.as_str().unwrap().into());
                        }
                    }
                    other => version = other.to_string(),
                }
            }
        }
        Format::Env => {
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
        Format::Ini => {
            for (k, v) in merge::ini::IniDoc::parse(text).ok().unwrap().leaves() {
                if k[0].is_empty() {
                    version = v;
                } else {
                    m.insert((k[0].clone(), k[1].clone()), v);
                }
            }
        }
        Format::Text => unreachable!(),
    }
    (m, version)
}

fn check(f: Format, base: &Model, user: &[Op], upstream: &[Op]) -> Result<(), TestCaseError> {
    let ours = apply(base, user);
    let theirs = apply(base, upstream);
    let (bt, ot, tt) = (
        render(f, base, 1),
        render(f, &ours, 1),
        render(f, &theirs, 2),
    );
    let p = Path::new("config");
    let src = |text| Src { path: p, text };
    let m = f
        .engine()
        .merge(src(&bt), src(&ot), src(&tt), Some("version"))
        .unwrap();
    prop_assert!(m.note.is_none(), "{:?} fell back: {:?}", f, m.note);
    let (result, version) = read_back(f, &m.text);
    prop_assert_eq!(version, "2");
    let key = |(s, k): &(String, String)| {
        if f == Format::Env {
            format!("{s}_{k}")
        } else {
            format!("{s}.{k}")
        }
    };
    let removed: BTreeSet<String> = m.removed.iter().map(|r| r.key.clone()).collect();
    let conflicts: BTreeSet<String> = m.conflicts.iter().map(|r| r.key.clone()).collect();
    let all: BTreeSet<&(String, String)> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    for k in all {
        let (b, o, t, r) = (base.get(k), ours.get(k), theirs.get(k), result.get(k));
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
            if o.is_some() && t.is_some() && t != b && t != o {
                prop_assert!(
                    conflicts.contains(&key(k)),
                    "{:?} {:?}: conflict not reported",
                    f,
                    k
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_edit_survives_yaml(b in model(), u in ops(), t in ops()) { check(Format::Yaml, &b, &u, &t)?; }
    #[test]
    fn every_edit_survives_toml(b in model(), u in ops(), t in ops()) { check(Format::Toml, &b, &u, &t)?; }
    #[test]
    fn every_edit_survives_json(b in model(), u in ops(), t in ops()) { check(Format::Json, &b, &u, &t)?; }
    #[test]
    fn every_edit_survives_env(b in model(), u in ops(), t in ops()) { check(Format::Env, &b, &u, &t)?; }
    #[test]
    fn every_edit_survives_ini(b in model(), u in ops(), t in ops()) { check(Format::Ini, &b, &u, &t)?; }
}

/// Bytes that look like config syntax, and arbitrary text.
fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 :=#;\\[\\]{}\"',\\-|>&*!%\n\r\t.]{0,120}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Stands in for fuzzing where cargo-fuzz cannot run: no engine panics.
    #[test]
    fn no_engine_panics_on_any_input(b in junk(), o in junk(), t in junk()) {
        let p = Path::new("f");
        for f in [Format::Yaml, Format::Toml, Format::Json, Format::Env, Format::Ini, Format::Text] {
            let e = f.engine();
            let _ = e.merge(Src { path: p, text: &b }, Src { path: p, text: &o }, Src { path: p, text: &t }, Some("version"));
            let _ = e.value(Src { path: p, text: &o }, "a.b");
        }
    }
}
