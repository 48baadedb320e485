//! Coming from nfpm and cargo-deb (#15): `packwright import nfpm.yaml`,
//! `packwright init` (Cargo.toml or a starter), `cargo packwright`, and the
//! first-run messages. Inputs: nfpm's own configurations and documented
//! reference (tests/fixtures/nfpm/), Cargo.toml files with cargo-deb and
//! cargo-generate-rpm metadata (tests/fixtures/cargo/).

use crate::common::root::{privileged, Manager, Root};
use crate::common::{run, stderr, stdout, tool, Project};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// The variables nfpm's acceptance configurations use.
const ENV: &[(&str, &str)] = &[
    ("BUILD_ARCH", "amd64"),
    ("SEMVER", "1.2.3"),
    ("NAME", "myapp"),
    ("REPLACE_BLA", "bla"),
    ("PROVIDES_BLA", "bla"),
    ("DEPENDS_NGINX", "nginx"),
    ("RECOMMENDS_BLA", "bla"),
    ("CONFLICTS_BLA", "bla"),
];

fn nfpm_configs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture("nfpm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

/// `packwright import CONFIG -` in `p`: the manifest text and the stderr.
fn import(p: &Project, config: &Path) -> (String, String) {
    let mut c = p.cmd(&["import", config.to_str().unwrap(), "-"]);
    let out = run(&mut c);
    (stdout(&out), stderr(&out))
}

/// Put a file at every path the manifest reads (sources, globs, scripts),
/// so it can be planned; configs get a default their format parses.
fn stage(p: &Project, manifest: &str) {
    stage_in(p.path(), manifest)
}

fn stage_in(dir: &Path, manifest: &str) {
    let m: toml::Table = toml::from_str(manifest).unwrap();
    let mut srcs: Vec<String> = Vec::new();
    for table in ["files", "config"] {
        for e in m
            .get(table)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            srcs.push(e["src"].as_str().unwrap().to_string());
        }
    }
    for e in m
        .get("systemd")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        srcs.push(e["unit"].as_str().unwrap().to_string());
    }
    for (_, v) in m
        .get("scripts")
        .and_then(|v| v.as_table())
        .into_iter()
        .flatten()
    {
        srcs.push(v.as_str().unwrap().to_string());
    }
    for k in ["license-file", "changelog"] {
        if let Some(f) = m["package"].get(k).and_then(|v| v.as_str()) {
            srcs.push(f.to_string());
        }
    }
    for (i, s) in srcs.into_iter().enumerate() {
        let mut s = s.replace(['*', '?'], &format!("x{i}"));
        if !s.contains("$${") {
            for (k, v) in ENV {
                s = s.replace(&format!("${{{k}}}"), v);
            }
        }
        let s = s.replace("$${", "${");
        let path = normalize(&dir.join(&s));
        if s.ends_with('/') {
            std::fs::create_dir_all(&path).unwrap();
            continue;
        }
        if path.exists() {
            continue;
        }
        let text = match Path::new(&s).extension().and_then(|e| e.to_str()) {
            Some("json") => "{}\n",
            Some("yaml" | "yml") => "key: value\n",
            Some("service") => "[Unit]\nDescription=x\n\n[Service]\nExecStart=/usr/bin/true\n\n[Install]\nWantedBy=multi-user.target\n",
            // A stand-in for the built binary: a script, which lintian accepts.
            Some("sh") | None if s.contains("script") || s.contains("bin/") || (s.contains("release/") && !s.contains(&format!("x{i}"))) || s.ends_with("fake") => "#!/bin/sh\nexit 0\n",
            _ => "# default\n",
        };
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        if text.starts_with("#!") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
}

/// Append a fake static hook when the manifest needs one (hook-owned configs).
fn with_hook(p: &Project, manifest: &str) -> String {
    if !manifest.contains("\n[[config]]\n") {
        return manifest.to_string();
    }
    p.fake_hook("fakehook");
    format!("{manifest}\n[hook]\nbinary = \"fakehook\"\n")
}

fn formats_for(warnings: &str) -> &'static str {
    if warnings.contains("warning: ") && warnings.contains(": apk: ") {
        "deb,rpm,pacman,targz,zip"
    } else {
        "deb,rpm,pacman,apk,targz,zip"
    }
}

fn envd(c: &mut Command) -> &mut Command {
    for (k, v) in ENV {
        c.env(k, v);
    }
    c
}

#[test]
fn every_corpus_config_imports_and_passes_check() {
    for config in nfpm_configs() {
        let p = Project::new("");
        std::fs::remove_file(p.path().join("packaging/packwright.toml")).unwrap();
        let (manifest, warnings) = import(&p, &config);
        // A src ending in `/` (the reference's directories) is staged empty.
        stage(&p, &manifest);
        let manifest = with_hook(&p, &manifest);
        p.file("packaging/packwright.toml", &manifest);
        let formats = formats_for(&warnings);
        let out = envd(&mut p.cmd(&["check", "--format", formats]))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: check failed:\n{}\n--- manifest\n{manifest}\n--- import\n{warnings}",
            config.display(),
            stderr(&out)
        );
    }
}

/// `contents[12].file_info.mtime` → `contents[].file_info.mtime`.
fn generic(key: &str) -> String {
    let mut s = String::new();
    let mut skip = false;
    for c in key.chars() {
        match c {
            '[' => {
                s.push_str("[]");
                skip = true
            }
            ']' => skip = false,
            _ if !skip => s.push(c),
            _ => {}
        }
    }
    s
}

/// Every key path of a YAML document (`rpm.signature.key_file`, list items as `[]`).
fn yaml_keys(text: &str) -> BTreeSet<String> {
    fn walk(y: &yaml_rust2::Yaml, path: &str, out: &mut BTreeSet<String>) {
        match y {
            yaml_rust2::Yaml::Hash(h) => {
                for (k, v) in h {
                    let k = k.as_str().unwrap_or("?");
                    let p = if path.is_empty() {
                        k.to_string()
                    } else {
                        format!("{path}.{k}")
                    };
                    // An empty section (`apk:` with only comments) holds nothing.
                    if !v.is_null() {
                        out.insert(p.clone());
                    }
                    walk(v, &p, out);
                }
            }
            yaml_rust2::Yaml::Array(a) => a.iter().for_each(|v| walk(v, &format!("{path}[]"), out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for d in yaml_rust2::YamlLoader::load_from_str(text).unwrap() {
        walk(&d, "", &mut out);
    }
    out
}

/// Where each nfpm key of the reference lands; every other key must be
/// named by a warning (never dropped silently).
const MAPPED: &[(&str, &str)] = &[
    ("name", "package.name"),
    ("arch", "package.arch"),
    ("version", "package.version"),
    ("epoch", "package.epoch"),
    ("version_schema", "package.version"),
    ("prerelease", "package.version"),
    ("version_metadata", "package.version"),
    // Values that are packwright's behaviour already (linux, globbing on).
    ("platform", "package"),
    ("disable_globbing", "package"),
    ("release", "package.release"),
    ("maintainer", "package.maintainer"),
    ("description", "package.summary"),
    ("vendor", "package.vendor"),
    ("homepage", "package.homepage"),
    ("license", "package.license"),
    ("section", "format.deb.section"),
    ("priority", "format.deb.priority"),
    ("replaces", "relations.replaces"),
    ("provides", "relations.provides"),
    ("depends", "relations.depends"),
    ("recommends", "relations.recommends"),
    ("suggests", "relations.suggests"),
    ("conflicts", "relations.conflicts"),
    ("overrides.deb.depends", "relations.deb.depends"),
    ("overrides.rpm.depends", "relations.rpm.depends"),
    ("overrides.archlinux.depends", "relations.pacman.depends"),
    ("scripts.preinstall", "scripts.pre-install"),
    ("scripts.postinstall", "scripts.post-install"),
    ("scripts.preremove", "scripts.pre-remove"),
    ("scripts.postremove", "scripts.post-remove"),
    ("apk.scripts.preupgrade", "scripts.pre-upgrade"),
    ("apk.scripts.postupgrade", "scripts.post-upgrade"),
    ("archlinux.scripts.preupgrade", "scripts.pre-upgrade"),
    ("archlinux.scripts.postupgrade", "scripts.post-upgrade"),
    ("rpm.group", "format.rpm.group"),
    ("rpm.packager", "format.rpm.fields.Packager"),
    ("rpm.compression", "format.rpm.compression"),
    ("deb.compression", "format.deb.compression"),
    ("deb.breaks", "format.deb.fields.Breaks"),
    ("deb.predepends", "format.deb.fields.Pre-Depends"),
    ("deb.fields", "format.deb.fields.Bugs"),
    ("deb.fields.Bugs", "format.deb.fields.Bugs"),
    ("apk.arch", "format.apk.arch"),
    ("archlinux.arch", "format.pacman.arch"),
    ("contents[].src", "files"),
    ("contents[].dst", "files"),
    ("contents[].type", "symlinks"),
    ("contents[].packager", "files"),
    ("contents[].expand", "files"),
    ("contents[].file_info.mode", "dirs"),
    ("contents[].file_info.owner", "files"),
    ("contents[].file_info.group", "files"),
];

fn toml_has(t: &toml::Table, path: &str) -> bool {
    let mut node = toml::Value::Table(t.clone());
    for part in path.split('.') {
        node = match node {
            toml::Value::Table(t) => match t.get(part) {
                Some(v) => v.clone(),
                None => return false,
            },
            _ => return false,
        };
    }
    true
}

#[test]
fn every_key_of_the_nfpm_reference_is_mapped_or_warned() {
    let reference = fixture("nfpm/configuration-reference.yaml");
    let keys = yaml_keys(&std::fs::read_to_string(&reference).unwrap());
    // The corpus as a whole: every documented key is in a test input.
    let mut corpus = BTreeSet::new();
    for c in nfpm_configs() {
        corpus.extend(yaml_keys(&std::fs::read_to_string(c).unwrap()));
    }
    assert!(keys.is_subset(&corpus));
    assert!(keys.len() > 140, "the reference has {} keys", keys.len());
    let p = Project::new("");
    let (manifest, warnings) = import(&p, &reference);
    let m: toml::Table = toml::from_str(&manifest).unwrap();
    let named: Vec<String> = warnings
        .lines()
        .filter_map(|l| l.strip_prefix("warning: "))
        .filter_map(|l| l.split(": ").nth(1))
        .map(generic)
        .collect();
    let mut silent = Vec::new();
    for k in &keys {
        let warned = named
            .iter()
            .any(|w| k == w || k.starts_with(&format!("{w}.")));
        let mapped = MAPPED.iter().any(|(n, t)| n == k && toml_has(&m, t));
        // A section is accounted for by its keys, each checked here.
        let parent = keys
            .iter()
            .any(|o| o.starts_with(&format!("{k}.")) || o.starts_with(&format!("{k}[]")));
        if !(warned || mapped || parent) {
            silent.push(k.clone());
        }
    }
    assert!(
        silent.is_empty(),
        "silently dropped: {silent:?}\n--- warnings\n{warnings}\n--- manifest\n{manifest}"
    );
    // Each warning names its line in the input.
    let line = warnings
        .lines()
        .find(|l| l.contains(": rpm.prefixes: "))
        .expect("rpm.prefixes is warned");
    let text = std::fs::read_to_string(&reference).unwrap();
    let at = text
        .lines()
        .position(|l| l.trim_start().starts_with("prefixes:"))
        .unwrap()
        + 1;
    assert!(
        line.contains(&format!("configuration-reference.yaml:{at}: ")),
        "{line}"
    );
    // The warnings are in the manifest too, and the config notes say who owns them.
    assert!(
        manifest.contains("# Not imported, or different here"),
        "{manifest}"
    );
    // Its defaults would go under /usr/share/foo, which it installs as a file.
    assert!(
        manifest.contains("nfpm's config: a plain file here (see the warnings)"),
        "{manifest}"
    );
    assert!(
        warnings.contains("pass `--pgp-key key.gpg` to packwright build"),
        "{warnings}"
    );
    assert!(
        warnings.contains("pass `--rsa-key key.gpg` to packwright build"),
        "{warnings}"
    );
}

type Listing = BTreeMap<String, (String, String, String, String)>;

/// `packwright inspect --json PKG`: (path → kind, mode or link, owner, group).
fn listing(pkg: &Path) -> Listing {
    let out = run(Command::new(env!("CARGO_BIN_EXE_packwright"))
        .args(["--json", "inspect"])
        .arg(pkg));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            let path = format!(
                "/{}",
                s("path").trim_start_matches("./").trim_start_matches('/')
            );
            // A symlink's mode means nothing on Linux (nfpm writes 0000,
            // packwright 0777): its target is what must match.
            let mode = if s("kind") == "symlink" {
                format!("-> {}", s("link"))
            } else {
                s("mode")
            };
            (
                path.trim_end_matches('/').to_string(),
                (s("kind"), mode, s("owner"), s("group")),
            )
        })
        .collect()
}

/// What packwright adds on purpose: Debian's copyright and changelog, the
/// hook with its description and the config defaults it renders, lintian
/// overrides. The configs themselves are the hook's, not files (see below).
fn packwright_only(path: &str, name: &str) -> bool {
    path.starts_with(&format!("/usr/share/doc/{name}/copyright"))
        || path.starts_with(&format!("/usr/share/doc/{name}/changelog"))
        || path.starts_with(&format!("/usr/lib/{name}"))
        || path.starts_with(&format!("/usr/share/{name}"))
        || path.starts_with("/usr/share/lintian")
}

#[test]
fn nfpm_and_packwright_packages_install_the_same_files() {
    if !tool("nfpm") {
        return;
    }
    for name in [
        "core.simple",
        "core.symlink",
        "core.complex",
        "rpm.directories",
        "core.overrides",
    ] {
        let config = fixture(&format!("nfpm/{name}.yaml"));
        let p = Project::new("");
        std::fs::remove_file(p.path().join("packaging/packwright.toml")).unwrap();
        let (manifest, warnings) = import(&p, &config);
        stage(&p, &manifest);
        // nfpm also reads what was not imported (rpm-only scripts…).
        let text = std::fs::read_to_string(&config).unwrap();
        for l in text.lines() {
            if let Some(path) = l.split_once(": ./").map(|(_, p)| p.trim()) {
                if !p.path().join(path).exists() {
                    p.exec(path, "#!/bin/sh\nexit 0\n");
                }
            }
        }
        p.file("packaging/packwright.toml", &with_hook(&p, &manifest));
        let m: toml::Table = toml::from_str(&manifest).unwrap();
        let configs: Vec<String> = m
            .get("config")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
            .map(|c| c["dst"].as_str().unwrap().to_string())
            .collect();
        for (packager, ext) in [("deb", "deb"), ("rpm", "rpm")] {
            let nfpm_out = p.path().join(format!("nfpm.{ext}"));
            run(envd(&mut Command::new("nfpm"))
                .current_dir(p.path())
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .args(["pkg", "--config"])
                .arg(&config)
                .args(["--packager", packager, "--target"])
                .arg(&nfpm_out));
            let dist = p.path().join("dist");
            let _ = std::fs::remove_dir_all(&dist);
            run(envd(&mut p.cmd(&[
                "build",
                "--format",
                ext,
                "--out",
                dist.to_str().unwrap(),
            ])));
            let ours = std::fs::read_dir(&dist)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path();
            let theirs = listing(&nfpm_out);
            let mine = listing(&ours);
            let dirs_of = |l: &Listing| -> BTreeSet<String> {
                l.iter()
                    .filter(|(_, v)| v.0 == "dir")
                    .map(|(k, _)| k.clone())
                    .collect()
            };
            // Every file and symlink nfpm installs, packwright installs the
            // same (a config: its default, for the hook to render there).
            for (path, what) in theirs.iter().filter(|(_, v)| v.0 != "dir") {
                if configs.contains(path) {
                    let file = path.rsplit('/').next().unwrap();
                    assert!(
                        mine.keys().any(|k| k.starts_with("/usr/share/foo/defaults/") && k.ends_with(file)),
                        "{name} {packager}: config {path} has no default in {mine:?}"
                    );
                    continue;
                }
                assert_eq!(mine.get(path), Some(what), "{name} {packager}: {path}\nnfpm: {theirs:#?}\npackwright: {mine:#?}\n{warnings}");
            }
            for (path, what) in mine.iter().filter(|(_, v)| v.0 != "dir") {
                if !packwright_only(path, "foo") {
                    assert_eq!(
                        theirs.get(path),
                        Some(what),
                        "{name} {packager}: {path} only in packwright's\n{theirs:#?}"
                    );
                }
            }
            // The directories nfpm's package names carry the same modes and owners.
            for d in dirs_of(&theirs) {
                if let Some(ours) = mine.get(&d) {
                    assert_eq!(
                        Some(ours),
                        theirs.get(&d),
                        "{name} {packager}: directory {d}"
                    );
                }
            }
            // And the directories the configuration declares are in both.
            for d in m
                .get("dirs")
                .and_then(|d| d.as_array())
                .into_iter()
                .flatten()
            {
                let d = d["path"].as_str().unwrap();
                assert!(
                    mine.contains_key(d) && theirs.contains_key(d),
                    "{name} {packager}: {d}"
                );
            }
        }
    }
}

/// A crate from tests/fixtures/cargo/<rel> with dummy files at every path its
/// manifest (from `packwright init`) reads.
fn crate_project(rel: &str) -> Project {
    let p = Project::new("");
    std::fs::remove_dir_all(p.path().join("packaging")).unwrap();
    let src = fixture(&format!("cargo/{rel}"));
    for e in walkdir::WalkDir::new(&src) {
        let e = e.unwrap();
        let to = p.path().join(e.path().strip_prefix(&src).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
    p
}

/// `packwright -C DIR init -`: the manifest and the warnings.
fn init_in(dir: &Path) -> (String, String) {
    let out = run(Command::new(env!("CARGO_BIN_EXE_packwright"))
        .arg("-C")
        .arg(dir)
        .args(["init", "-"]));
    std::fs::create_dir_all(dir.join("packaging")).unwrap();
    (stdout(&out), stderr(&out))
}

fn build_all(dir: &Path, formats: &str) -> Vec<PathBuf> {
    let dist = dir.join("dist");
    run(Command::new(env!("CARGO_BIN_EXE_packwright"))
        .arg("-C")
        .arg(dir)
        .args(["build", "--format", formats, "--out"])
        .arg(&dist)
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn cargo_deb_example_init_builds_six_formats_and_a_lintian_clean_deb() {
    let p = crate_project("cargo-deb-example");
    let dir = p.path().to_path_buf();
    let (manifest, warnings) = init_in(&dir);
    assert!(
        warnings.contains("depends: packwright computes no shared-library dependencies"),
        "{warnings}"
    );
    assert!(
        warnings.contains("license-file: packwright embeds the whole file"),
        "{warnings}"
    );
    assert!(warnings.contains("variants.mergeappend"), "{warnings}");
    assert!(manifest.contains("section = \"utils\""), "{manifest}");
    stage(&p, &manifest);
    p.file("changelog", "## 0.1.0\n\n- first release\n");
    p.file("packaging/packwright.toml", &manifest);
    let built = build_all(&dir, "deb,rpm,pacman,apk,targz,zip");
    assert_eq!(built.len(), 6, "{built:?}");
    let deb = built
        .iter()
        .find(|b| b.extension().is_some_and(|e| e == "deb"))
        .unwrap();
    let files = listing(deb);
    for f in [
        "/usr/bin/example",
        "/var/lib/example/3.txt",
        "/var/lib/example/merged.txt",
    ] {
        assert!(files.contains_key(f), "{f} missing: {files:#?}");
    }
    // One file from each glob.
    assert_eq!(
        files
            .keys()
            .filter(|k| k.starts_with("/var/lib/example/x"))
            .count(),
        2,
        "{files:#?}"
    );
    assert_eq!(files["/usr/bin/example"].1, "0755");
    if tool("lintian") {
        let out = Command::new("lintian").arg(deb).output().unwrap();
        let tags = stdout(&out) + &stderr(&out);
        let found: Vec<&str> = tags
            .lines()
            .filter(|l| l.starts_with("E: ") || l.starts_with("W: "))
            .collect();
        // Both come with the input, not the conversion: the example ships no
        // man page for its binary, and its changelog has one entry (a first
        // upload) that closes no Debian bug.
        assert_eq!(
            found,
            [
                "W: example: initial-upload-closes-no-bugs [usr/share/doc/example/changelog.Debian.gz:1]",
                "W: example: no-manual-page [usr/bin/example]",
            ],
            "lintian: {tags}"
        );
    }
}

#[test]
fn bottom_and_ntpd_rs_init_and_build() {
    // bottom: a lib with [[bin]] btm, deb assets, generate-rpm assets.
    let p = crate_project("bottom");
    let (manifest, warnings) = init_in(p.path());
    assert!(manifest.contains("dst = \"/usr/bin/\""), "{manifest}");
    assert!(warnings.contains("variants.arm64"), "{warnings}");
    stage(&p, &manifest);
    p.file("packaging/packwright.toml", &manifest);
    let built = build_all(p.path(), "deb,rpm,pacman,apk,targz,zip");
    assert_eq!(built.len(), 6);
    // ntpd-rs: a workspace member, conf-files, units shipped as assets.
    let w = crate_project("ntpd-rs");
    let member = w.path().join("ntpd");
    let (manifest, warnings) = init_in(&member);
    assert!(manifest.contains("name = \"ntpd-rs\""), "{manifest}");
    assert!(
        manifest.contains("version = \"2.0.0~alpha.20260715\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("src = \"../target/release/ntp-daemon\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("[[config]]") && manifest.contains("dst = \"/etc/ntpd-rs/ntp.toml\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("unit = \"docs/examples/conf/ntpd-rs.service\""),
        "{manifest}"
    );
    assert!(
        warnings.contains("maintainer-scripts: `../pkg/deb/` is not a directory"),
        "{warnings}"
    );
    assert!(warnings.contains("is not an apk version"), "{warnings}");
    stage_in(&member, &manifest);
    std::fs::write(
        member.join("docs/examples/conf/ntp.toml.default"),
        "[source]\nmode = \"pool\"\n",
    )
    .unwrap();
    w.fake_hook("ntpd/fakehook");
    std::fs::write(
        member.join("packaging/packwright.toml"),
        format!("{manifest}\n[hook]\nbinary = \"fakehook\"\n"),
    )
    .unwrap();
    let built = build_all(&member, "deb,rpm,pacman,targz,zip");
    assert_eq!(built.len(), 5);
    let deb = built
        .iter()
        .find(|b| b.extension().is_some_and(|e| e == "deb"))
        .unwrap();
    let files = listing(deb);
    assert!(
        files.contains_key("/usr/lib/systemd/system/ntpd-rs.service"),
        "{files:#?}"
    );
    assert!(files.contains_key("/usr/bin/ntp-daemon"), "{files:#?}");
}

/// `a/b/../c` → `a/c`, for staging `../` sources outside the temp dir's root.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

#[test]
fn import_writes_the_manifest_and_refuses_to_overwrite_it() {
    let p = Project::new("");
    std::fs::remove_dir_all(p.path().join("packaging")).unwrap();
    let config = fixture("nfpm/core.simple.yaml");
    let cfg = config.to_str().unwrap();
    run(&mut p.cmd(&["import", cfg]));
    let written = std::fs::read_to_string(p.path().join("packaging/packwright.toml")).unwrap();
    assert!(written.contains("name = \"foo\""), "{written}");
    assert!(
        written.contains("[[config]]\nsrc = \"./testdata/whatever.conf\""),
        "{written}"
    );
    assert!(
        written.contains("a config packwright-hook owns"),
        "{written}"
    );
    p.file("packaging/packwright.toml", "# mine\n");
    let again = p.packwright(&["import", cfg]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already exists; pass --force"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(p.path().join("packaging/packwright.toml")).unwrap(),
        "# mine\n"
    );
    run(&mut p.cmd(&["import", "--force", cfg]));
    assert_eq!(
        std::fs::read_to_string(p.path().join("packaging/packwright.toml")).unwrap(),
        written
    );
    // A bad file: an error naming the file and line, nothing written.
    let bad = p.file("bad.yaml", "name: foo\ncontents: [\n");
    let out = p.packwright(&["import", bad.to_str().unwrap(), "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.yaml:"), "{}", stderr(&out));
    let missing = p.packwright(&["import", "no/such.yaml"]);
    assert!(
        stderr(&missing).contains("no/such.yaml"),
        "{}",
        stderr(&missing)
    );
    // Relative paths are -C's, not the caller's working directory.
    std::fs::copy(&config, p.path().join("core.simple.yaml")).unwrap();
    let o = p.packwright(&["import", "core.simple.yaml", "packaging/alt.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(p.path().join("packaging/alt.toml")).unwrap(),
        written
    );
    assert!(!Path::new("packaging/alt.toml").exists());
}

#[test]
fn first_run_messages_name_the_path_and_the_next_step() {
    let p = Project::new("");
    std::fs::remove_dir_all(p.path().join("packaging")).unwrap();
    p.file(
        "Cargo.toml",
        "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    let out = p.packwright(&["build"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("packaging/packwright.toml") && err.contains("run `packwright init`"),
        "{err}"
    );
    std::fs::remove_file(p.path().join("Cargo.toml")).unwrap();
    let out = p.packwright(&["check"]);
    assert!(
        stderr(&out).contains("`packwright init` for a starter"),
        "{}",
        stderr(&out)
    );
    // Outside a Cargo project, init writes a starter that checks as it is.
    run(&mut p.cmd(&["init"]));
    let starter = std::fs::read_to_string(p.path().join("packaging/packwright.toml")).unwrap();
    for key in [
        "[[files]]",
        "[[config]]",
        "[[systemd]]",
        "[upgrade]",
        "[scripts]",
        "[relations]",
    ] {
        assert!(starter.contains(&format!("# {key}")), "{key}: {starter}");
    }
    run(&mut p.cmd(&["check"]));
}

/// `cargo install --path . --root <tmp>`: both binaries; then `cargo
/// packwright` in a fresh `cargo new` project builds a .deb dpkg installs.
#[test]
fn cargo_install_then_cargo_packwright_in_a_new_project() {
    if !tool("cargo") || !tool("dpkg") {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = tempfile::tempdir().unwrap();
    // The workspace's own target dir, as `cargo install --path` uses by
    // default: the main job's release build is reused.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { repo.join(t) })
        .unwrap_or_else(|| repo.join("target"));
    run(Command::new("cargo")
        .args(["install", "--locked", "--path"])
        .arg(repo)
        .arg("--root")
        .arg(root.path())
        .arg("--target-dir")
        .arg(&target));
    let bin = root.path().join("bin");
    for b in ["packwright", "cargo-packwright"] {
        assert!(
            bin.join(b).is_file(),
            "{b} not installed in {}",
            bin.display()
        );
    }
    // The installed packwright builds a package with configs and no [hook]:
    // it takes the static hook from the source tree it was installed from.
    let hook = crate::hook_discovery::carried_hook(&bin.join("packwright"), &[]).unwrap();
    assert_eq!(
        hook,
        std::fs::read(crate::common::root::static_hook()).unwrap()
    );
    let work = tempfile::tempdir().unwrap();
    run(Command::new("cargo")
        .args(["new", "--vcs", "none", "hello"])
        .current_dir(work.path()));
    let hello = work.path().join("hello");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run(Command::new("cargo")
        .args(["packwright", "--format", "deb"])
        .current_dir(&hello)
        .env("PATH", &path)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("CARGO_TARGET_DIR"));
    let err = stderr(&out);
    assert!(err.contains("building from Cargo.toml"), "{err}");
    let deb = hello.join("dist/hello_0.1.0-1_amd64.deb");
    assert!(deb.is_file(), "{err}");
    assert!(hello.join("target/release/hello").is_file());
    if !privileged() {
        return;
    }
    let r = Root::new(Manager::Dpkg);
    r.install(&deb).ok();
    assert!(r.exists("usr/bin/hello"));
    assert_eq!(r.mode("usr/bin/hello") & 0o777, 0o755);
}
