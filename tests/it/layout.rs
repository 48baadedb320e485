//! The pipeline runs one way: manifest → plan → lifecycle → format writers →
//! pipeline → release, with archive, identity, error and report as
//! leaves every stage may use. This reads every `crate::` path in src/ and
//! fails when a top-level module imports one it may not, so an upward import
//! (plan using a writer, archive using the plan) is caught when it is made.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LEAVES: &[&str] = &["error", "report", "archive", "identity"];

/// Which top-level modules each one may import from, besides the leaves.
fn allowed() -> BTreeMap<&'static str, Vec<&'static str>> {
    let stage = |m: &'static str, deps: &[&'static str]| (m, deps.to_vec());
    BTreeMap::from([
        stage("error", &[]),
        stage("report", &[]),
        // Leaves use only leaves below them: archive knows tar and gzip,
        // not the plan; identity names formats and their compressions.
        stage("archive", &["error"]),
        stage("identity", &["archive"]),
        stage("manifest", &[]),
        stage("plan", &["manifest"]),
        stage("lifecycle", &["manifest", "plan"]),
        stage("format", &["manifest", "plan", "lifecycle"]),
        stage("pipeline", &["manifest", "plan", "lifecycle", "format"]),
        // Beside the pipeline: reading packages back, and writing manifests.
        stage("inspect", &[]),
        stage("import", &["manifest"]),
        stage(
            "release",
            &[
                "manifest",
                "plan",
                "lifecycle",
                "format",
                "pipeline",
                "inspect",
            ],
        ),
    ])
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The text without `//` comments (doc comments cite other modules).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of every `crate::` path: `crate::plan::Entry` gives
/// `plan`, `crate::{error::Result, plan::{Entry, Kind}}` gives both.
fn imported(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<String>()
    };
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            out.insert(ident(rest));
            continue;
        };
        // Top-level items of the group, up to its closing brace.
        let (mut depth, mut start) = (0usize, 0usize);
        for (j, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    out.insert(ident(&group[start..j]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.insert(ident(&group[start..j]));
                    start = j + 1;
                }
                _ => {}
            }
        }
    }
    // `crate::Result` / `crate::Error` are error's re-exports.
    out.retain(|m| !m.is_empty() && m != "Result" && m != "Error");
    out
}

#[test]
fn no_module_imports_from_a_later_stage() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let table = allowed();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let top = first.strip_suffix(".rs").unwrap_or(first);
        // The crate root and the binaries use the library from outside.
        if matches!(top, "lib" | "main" | "bin") {
            continue;
        }
        let Some(deps) = table.get(top) else {
            bad.push(format!(
                "src/{}: top-level module `{top}` is not in tests/it/layout.rs's table; add it where it sits in the pipeline",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for m in imported(&code(&text)) {
            // A leaf uses only what its row names; a stage, its row and the leaves.
            let leaf = |m: &str| LEAVES.contains(&m);
            let ok = m == top || deps.contains(&m.as_str()) || !leaf(top) && leaf(&m);
            if !ok {
                bad.push(format!(
                    "src/{}: `{top}` imports `crate::{m}`",
                    rel.display()
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports against the pipeline's direction:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_import_reader_sees_groups_and_paths() {
    let c = code("use crate::{error::Result, plan::{Entry, Kind}};\n// crate::format\nlet x = crate::archive::compress::gzip_best(b);");
    let got: Vec<String> = imported(&c).into_iter().collect();
    assert_eq!(got, ["archive", "error", "plan"]);
}
