//! Merges at the input size limit (1 MiB per file) stay within a small
//! multiple of their input: the built hook runs `update` under
//! `prlimit --as` for every engine, on realistic files (documented sections,
//! the admin's and upstream's edits) and on the shapes that used to cost the
//! most (every key changed on both sides, thousands of sections only the
//! admin has).

use packwright_hook::merge::limit::MAX_BYTES;
use std::fmt::Write as _;
use std::fs;
use std::process::Command;

const HOOK: &str = env!("CARGO_BIN_EXE_packwright-hook");

/// Address space for three files of up to 1 MiB each. The debug hook peaks
/// at about 130 MB here (the release build below 100 MB, see the README's
/// limits); 256 MiB leaves room for the allocator and nothing for a
/// quadratic structure.
const MEM: u64 = 256 << 20;

/// (section header, key line) in a format's syntax.
fn syntax(ext: &str, s: usize, k: &str, v: &str) -> (String, String) {
    match ext {
        "yaml" => (
            format!("# section {s}\nsection{s}:\n"),
            format!("  # {k} of section {s}\n  {k}: {v}\n"),
        ),
        "toml" => (
            format!("\n# section {s}\n[section{s}]\n"),
            format!("# {k} of section {s}\n{k} = \"{v}\"\n"),
        ),
        "ini" => (
            format!("\n; section {s}\n[section{s}]\n"),
            format!("; {k} of section {s}\n{k} = {v}\n"),
        ),
        "env" => (
            format!("\n# section {s}\n"),
            format!("# {k} of section {s}\nS{s}_{}={v}\n", k.to_uppercase()),
        ),
        _ => (
            format!("\n# section {s}\n"),
            format!("# {k} of section {s}\nsection{s}.{k} {v}\n"),
        ),
    }
}

/// A config of `sections` sections of 9 documented keys; `value` gives each
/// key's value (`None`: dropped) and `extra` a key added to the section.
fn config(
    ext: &str,
    version: u32,
    sections: usize,
    value: &dyn Fn(usize, usize) -> Option<String>,
    extra: &dyn Fn(usize) -> Option<(&'static str, String)>,
) -> String {
    if ext == "json" {
        let mut root = serde_json::Map::new();
        root.insert("version".into(), version.into());
        for s in 0..sections {
            let mut m = serde_json::Map::new();
            for k in 0..9 {
                if let Some(v) = value(s, k) {
                    m.insert(format!("key{k}"), v.into());
                }
            }
            if let Some((k, v)) = extra(s) {
                m.insert(k.into(), v.into());
            }
            root.insert(format!("section{s}"), m.into());
        }
        return serde_json::to_string_pretty(&root).unwrap() + "\n";
    }
    let mut t = match ext {
        "yaml" => format!("# generated config\nversion: {version}\n"),
        "toml" | "ini" => format!("# generated config\nversion = {version}\n"),
        "env" => format!("# generated config\nVERSION={version}\n"),
        _ => format!("# generated config\nversion {version}\n"),
    };
    for s in 0..sections {
        t += &syntax(ext, s, "", "").0;
        for k in 0..9 {
            if let Some(v) = value(s, k) {
                t += &syntax(ext, s, &format!("key{k}"), &v).1;
            }
        }
        if let Some((k, v)) = extra(s) {
            t += &syntax(ext, s, k, &v).1;
        }
    }
    t
}

/// base, live, new default: the admin changed one key in two sections and
/// added one in ten; upstream changed one in three, dropped one and added one.
fn realistic(ext: &str, sections: usize) -> [String; 3] {
    let plain = |s: usize, k: usize| Some(format!("value{s}x{k}"));
    let none = |_: usize| None;
    let admin = |s: usize, k: usize| {
        Some(if s.is_multiple_of(2) && k == 1 {
            format!("admin{s}x{k}")
        } else {
            format!("value{s}x{k}")
        })
    };
    let mine = |s: usize| s.is_multiple_of(10).then(|| ("mine", format!("m{s}")));
    let upstream = |s: usize, k: usize| match (s % 3, s % 10, k) {
        (_, 0, 8) => None,
        (0, _, 4) => Some(format!("new{s}x{k}")),
        _ => Some(format!("value{s}x{k}")),
    };
    let fresh = |s: usize| (s % 10 == 5).then(|| ("fresh", format!("f{s}")));
    [
        config(ext, 1, sections, &plain, &none),
        config(ext, 1, sections, &admin, &mine),
        config(ext, 2, sections, &upstream, &fresh),
    ]
}

/// The most sections whose largest file stays under the size limit.
fn at_limit(make: &dyn Fn(usize) -> [String; 3]) -> [String; 3] {
    let size = |n| make(n).iter().map(String::len).max().unwrap() as u64;
    let (mut lo, mut hi) = (1, 1 << 16);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if size(mid) <= MAX_BYTES - 4096 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    make(lo)
}

fn run(ext: &str, files: &[String; 3], what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(format!("{n}.{ext}"));
    for (n, text) in ["base", "live", "new"].iter().zip(files) {
        assert!(text.len() as u64 <= MAX_BYTES, "{ext} {what}: {n} too big");
        fs::write(p(n), text).unwrap();
    }
    let o = Command::new("prlimit")
        .arg(format!("--as={MEM}"))
        .arg("--")
        .arg(HOOK)
        .arg("update")
        .arg("--base")
        .arg(p("base"))
        .arg("--default")
        .arg(p("new"))
        .arg("--live")
        .arg(p("live"))
        .args(["--version-key", "version"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{ext} {what}: update failed under {} MiB: {}",
        MEM >> 20,
        String::from_utf8_lossy(&o.stderr)
    );
    // Merged, or (text with neighbouring edits) a conflict with the new default beside it.
    let merged = fs::read_to_string(p("live")).unwrap() != files[1];
    let new_file = dir.path().join(format!("live.{ext}.packwright-new"));
    assert!(
        merged || new_file.exists(),
        "{ext} {what}: neither merged nor a conflict"
    );
}

#[test]
fn merges_at_the_size_limit_stay_within_a_memory_limit() {
    if !crate::fixture::tool("prlimit") {
        return;
    }
    for ext in ["yaml", "toml", "json", "env", "ini", "txt"] {
        let files = at_limit(&|n| realistic(ext, n));
        run(ext, &files, "realistic");
    }
    // Every key changed by the admin and by upstream, in one INI section.
    let all = |n: usize, tag: &str, v: u32| {
        let mut t = format!("version = {v}\n[s]\n");
        for i in 0..n {
            let _ = writeln!(t, "key{i} = {tag}{i}");
        }
        t
    };
    let files = at_limit(&|n| [all(n, "v", 1), all(n, "admin", 1), all(n, "new", 2)]);
    run("ini", &files, "every key changed");
    // Thousands of sections only the admin has.
    let added = |n: usize| {
        let mut t = String::from("version = 1\n");
        for i in 0..n {
            let _ = write!(t, "[s{i}]\nk = {i}\n");
        }
        t
    };
    let files = at_limit(&|n| ["version = 1\n".into(), added(n), "version = 2\n".into()]);
    run("ini", &files, "sections only the admin has");
}
