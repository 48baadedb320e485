//! Helpers for the hook engine tests: run `update` on real files in a temp dir.
#![allow(dead_code)]

use packwright_hook::command::{self, Ctx, UpdateArgs, UpdateReport};
use packwright_hook::error::HookError;
use packwright_hook::merge::ConfigSyntax;
use std::path::PathBuf;

pub struct Outcome {
    pub live: String,
    pub report: UpdateReport,
    pub new_file: Option<String>,
    pub dir: tempfile::TempDir,
}

/// base/ours/theirs as files named like `config.<ext>`; `ours = None` means
/// the admin deleted the live file.
pub fn update(
    ext: &str,
    base: &str,
    ours: Option<&str>,
    theirs: &str,
) -> Result<Outcome, HookError> {
    update_with(ext, base, ours, theirs, &[])
}

/// `update` with renames declared (old, new).
pub fn update_with(
    ext: &str,
    base: &str,
    ours: Option<&str>,
    theirs: &str,
    renames: &[(&str, &str)],
) -> Result<Outcome, HookError> {
    update_opts(ext, [base, theirs], ours, renames, &[])
}

/// `update` with renames and list keys (list, identifying key) declared.
pub fn update_opts(
    ext: &str,
    [base, theirs]: [&str; 2],
    ours: Option<&str>,
    renames: &[(&str, &str)],
    list_keys: &[(&str, &str)],
) -> Result<Outcome, HookError> {
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| -> PathBuf { dir.path().join(n) };
    let live = p(&format!("config.{ext}"));
    std::fs::write(p("base"), base).unwrap();
    std::fs::write(p("default"), theirs).unwrap();
    if let Some(o) = ours {
        std::fs::write(&live, o).unwrap();
    }
    let args = UpdateArgs {
        base: Some(p("base")),
        default: p("default"),
        live: live.clone(),
        format: ConfigSyntax::from_path(&live),
        version_key: Some("version".into()),
        dry_run: false,
        meta: None,
        renames: pairs(renames),
        list_keys: pairs(list_keys),
    };
    let report = command::update(
        &args,
        &Ctx {
            env: &|_| None,
            confirm: None,
        },
    )?;
    let new_file = std::fs::read_to_string(format!("{}.packwright-new", live.display())).ok();
    Ok(Outcome {
        live: std::fs::read_to_string(&live).unwrap(),
        report,
        new_file,
        dir,
    })
}

pub fn keys<T>(v: &[T], f: impl Fn(&T) -> &str) -> Vec<String> {
    v.iter().map(|x| f(x).to_string()).collect()
}

/// One table row: what the admin and the release did, and what must result.
pub struct Case {
    pub name: &'static str,
    pub base: &'static str,
    pub ours: Option<&'static str>,
    pub theirs: &'static str,
    pub expect: &'static str,
    pub conflicts: &'static [&'static str],
    pub removed: &'static [&'static str],
}

pub fn run_table(ext: &str, cases: &[Case]) {
    for c in cases {
        let out = update(ext, c.base, c.ours, c.theirs)
            .unwrap_or_else(|e| panic!("{ext} {}: {e}", c.name));
        assert_eq!(
            out.live, c.expect,
            "{ext} case {:?}: resulting text",
            c.name
        );
        assert_eq!(
            keys(&out.report.conflicts, |x| &x.key),
            c.conflicts,
            "{ext} case {:?}: conflicts",
            c.name
        );
        assert_eq!(
            keys(&out.report.removed, |x| &x.key),
            c.removed,
            "{ext} case {:?}: removed",
            c.name
        );
        assert_eq!(
            out.new_file.is_some(),
            !c.conflicts.is_empty(),
            "{ext} case {:?}: .packwright-new only on conflict",
            c.name
        );
    }
}

/// A real project's config (tests/fixtures/real/<name>/base.<ext> and
/// default.<ext>) with the admin's edits applied to base (each `from` must
/// occur; the first occurrence is replaced): the merged live file, after
/// checking that an untouched file becomes the new default byte for byte
/// and that a second run changes nothing.
pub fn real(name: &str, ext: &str, edits: &[(&str, &str)], renames: &[(&str, &str)]) -> Outcome {
    let dir = format!("{}/tests/fixtures/real/{name}", env!("CARGO_MANIFEST_DIR"));
    let base = std::fs::read_to_string(format!("{dir}/base.{ext}")).unwrap();
    let theirs = std::fs::read_to_string(format!("{dir}/default.{ext}")).unwrap();
    let mut ours = base.clone();
    for (from, to) in edits {
        assert!(ours.contains(from), "{name}: no {from:?} in base");
        ours = ours.replacen(from, to, 1);
    }
    let untouched = update_with(ext, &base, Some(&base), &theirs, renames).unwrap();
    assert_eq!(untouched.live, theirs, "{name}: untouched file");
    let out = update_with(ext, &base, Some(&ours), &theirs, renames).unwrap();
    let again = update_with(ext, &theirs, Some(&out.live), &theirs, &[]).unwrap();
    assert_eq!(
        again.live, out.live,
        "{name}: a second run changed the file"
    );
    out
}

/// The lines of `result` that differ from `theirs`, as `-old`/`+new` pairs in order.
pub fn changed_lines(theirs: &str, result: &str) -> Vec<String> {
    diffy::create_patch(theirs, result)
        .hunks()
        .iter()
        .flat_map(|h| h.lines())
        .filter_map(|l| match l {
            diffy::Line::Delete(t) => Some(format!("-{}", t.trim_end())),
            diffy::Line::Insert(t) => Some(format!("+{}", t.trim_end())),
            diffy::Line::Context(_) => None,
        })
        .collect()
}
