//! The pacman writer against the real pacman (Debian's
//! `pacman-package-manager`), installing into a scratch root.
//!
//! What pacman needs to install into a scratch root, found out here:
//! - `<root>/var/lib/pacman` must exist (the local database);
//! - a config with `SigLevel = Never` (local files are unsigned) and no
//!   repositories; `Architecture` is set explicitly so the test does not
//!   depend on the host's `uname -m`;
//! - `--dbpath`, `--logfile`, `--cachedir`, `--hookdir` and `--gpgdir` given
//!   explicitly: with only `--root`, pacman 6.0 still uses the HOST's hook
//!   directory, cache and keyring (`pacman --debug` prints them), and would
//!   run host hooks inside the root;
//! - scriptlets run chrooted into the root as `/bin/sh -c ". .INSTALL; fn"`,
//!   so the root needs a `/bin/sh` (a static busybox; only the `sh` link, so
//!   no applet link collides with a package path) and pacman must run as
//!   root. Without `/bin/sh` pacman skips the scripts and still exits 0.
//!
//! pacman exits 0 even when a scriptlet fails, so every call here also
//! asserts that pacman printed no `error:`.

use crate::common::root::privileged;
use crate::common::{demo, run, stderr, stdout, tool, Project};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The package's own steps append their normalised arguments to a log:
/// `/scripts.log` inside the scratch root, or `$PACKWRIGHT_TEST_LOG`.
const LOG_STEP: &str = "echo \"$1|$2|$3\" >> \"${PACKWRIGHT_TEST_LOG:-/scripts.log}\"\n";

const SCRIPTS: &str = r#"
[scripts]
pre-install = "scripts/step.sh"
post-install = "scripts/step.sh"
pre-upgrade = "scripts/step.sh"
post-upgrade = "scripts/step.sh"
pre-remove = "scripts/step.sh"
post-remove = "scripts/step.sh"
"#;

/// The log a full install 1.0.0 → upgrade 2.0.0 → remove must leave.
const LIFECYCLE_LOG: &str = "pre-install||1.0.0-1\npost-install||1.0.0-1\n\
pre-upgrade|1.0.0-1|2.0.0-1\npost-upgrade|1.0.0-1|2.0.0-1\n\
pre-remove|2.0.0-1|\npost-remove|2.0.0-1|\n";

fn scripted(version: &str) -> Project {
    let p = demo(version, SCRIPTS);
    p.file("scripts/step.sh", LOG_STEP);
    p
}

fn pkg_file(p: &Project) -> PathBuf {
    let files = p.build("pacman");
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

/// Whether this process may chroot (pacman runs scriptlets chrooted).
/// A scratch root for pacman with a static busybox as `/bin/sh`.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new() -> Root {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path().join("root");
        for d in [
            "bin",
            "var/lib/pacman",
            "var/log",
            "var/cache/pacman/pkg",
            "etc/pacman.d/hooks",
            "etc/pacman.d/gnupg",
        ] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        let busybox = run(Command::new("sh").args(["-c", "command -v busybox"]));
        std::fs::copy(stdout(&busybox).trim(), r.join("bin/busybox")).unwrap();
        std::os::unix::fs::symlink("busybox", r.join("bin/sh")).unwrap();
        std::fs::write(
            dir.path().join("pacman.conf"),
            "[options]\nArchitecture = x86_64\nSigLevel = Never\n",
        )
        .unwrap();
        Root { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn pacman(&self, args: &[&str]) -> Command {
        let mut c =
            crate::common::root::pacman_command(&self.path(), &self.dir.path().join("pacman.conf"));
        c.args(args);
        c
    }

    /// Run pacman; it must succeed and print no error (it exits 0 when a
    /// scriptlet fails).
    fn ok(&self, args: &[&str]) -> String {
        let out = run(&mut self.pacman(args));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            !all.contains("error:") && !all.contains("warning:"),
            "pacman {args:?} complained:\n{all}"
        );
        all
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path().join("scripts.log")).unwrap_or_default()
    }
}

/// `pacman -Qip`'s `Key : Value` lines.
fn query_info(file: &Path) -> BTreeMap<String, String> {
    let out = run(Command::new("pacman").arg("-Qip").arg(file));
    stdout(&out)
        .lines()
        .filter_map(|l| l.split_once(" : "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn installs_upgrades_and_removes_with_the_real_pacman() {
    if !tool("pacman") || !tool("busybox") || !privileged() {
        return;
    }
    // The projects own the temp dirs holding the artifacts: keep them alive.
    let (p1, p2) = (scripted("1.0.0"), scripted("2.0.0"));
    let (v1, v2) = (pkg_file(&p1), pkg_file(&p2));
    assert_eq!(
        v1.file_name().unwrap(),
        "demo-1.0.0-1-x86_64.pkg.tar.zst",
        "makepkg's file name"
    );

    let info = query_info(&v1);
    assert_eq!(info["Name"], "demo");
    assert_eq!(info["Version"], "1.0.0-1");
    assert_eq!(
        info["Description"],
        "demonstration server for packwright tests"
    );
    assert_eq!(info["Architecture"], "x86_64");
    assert_eq!(info["URL"], "https://example.org/demo");
    assert_eq!(info["Licenses"], "Apache-2.0");
    assert_eq!(info["Packager"], "Demo Team <demo@example.org>");
    assert_eq!(info["Install Script"], "Yes");
    assert!(info["Build Date"].contains("2023"), "{info:?}");

    let root = Root::new();
    let r = root.path();
    root.ok(&["-U", v1.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(r.join("usr/bin/demo")).unwrap(),
        "#!/bin/sh\necho demo\n"
    );
    assert_eq!(mode(&r.join("usr/bin/demo")), 0o755);
    assert_eq!(mode(&r.join("var/lib/demo")), 0o750);
    assert_eq!(
        std::fs::read_link(r.join("usr/sbin/demo")).unwrap(),
        Path::new("/usr/bin/demo")
    );
    assert_eq!(
        std::fs::read_to_string(r.join("usr/share/doc/demo/README.md")).unwrap(),
        "# demo\n\nA demonstration package.\n"
    );
    // .MTREE agrees with what pacman put on disk: modes, sizes, times,
    // links and ownership.
    let check = root.ok(&["-Qkk", "demo"]);
    assert!(
        check.contains("demo: 13 total files, 0 altered files"),
        "{check}"
    );
    assert_eq!(root.ok(&["-Q", "demo"]).trim(), "demo 1.0.0-1");

    root.ok(&["-U", v2.to_str().unwrap()]);
    assert_eq!(root.ok(&["-Q", "demo"]).trim(), "demo 2.0.0-1");
    let check = root.ok(&["-Qkk", "demo"]);
    assert!(check.contains("0 altered files"), "{check}");

    root.ok(&["-R", "demo"]);
    assert!(!root
        .pacman(&["-Q", "demo"])
        .output()
        .unwrap()
        .status
        .success());
    for gone in [
        "usr/bin/demo",
        "usr/sbin/demo",
        "var/lib/demo",
        "usr/share/doc/demo",
    ] {
        assert!(!r.join(gone).exists(), "{gone} left behind after -R");
    }
    assert!(
        r.join("bin/sh").exists(),
        "a directory pacman did not own was touched"
    );
    assert_eq!(root.log(), LIFECYCLE_LOG);
}

#[test]
fn install_script_runs_under_dash_and_busybox() {
    let p = scripted("1.0.0");
    let file = pkg_file(&p);
    let out = run(&mut p.cmd(&["--json", "inspect", file.to_str().unwrap()]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["scripts"][0]["name"], ".INSTALL");
    let text = json["scripts"][0]["text"].as_str().unwrap().to_string();
    assert!(text.contains("\npre_install() {\n"), "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("function ")),
        "dash has no `function`: {text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let install = dir.path().join("INSTALL");
    std::fs::write(&install, &text).unwrap();
    // How libalpm calls it: `. .INSTALL; <function> <args>` in /bin/sh.
    let calls = ". \"$0\"; pre_install 1.0.0-1; post_install 1.0.0-1; \
        pre_upgrade 2.0.0-1 1.0.0-1; post_upgrade 2.0.0-1 1.0.0-1; \
        pre_remove 2.0.0-1; post_remove 2.0.0-1";
    for shell in [&["dash"][..], &["busybox", "sh"][..]] {
        if !tool(shell[0]) {
            continue;
        }
        let log = dir.path().join(format!("{}.log", shell[0]));
        run(Command::new(shell[0])
            .args(&shell[1..])
            .args(["-c", calls])
            .arg(&install)
            .env("PACKWRIGHT_TEST_LOG", &log));
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            LIFECYCLE_LOG,
            "{shell:?}"
        );
    }
    if tool("shellcheck") {
        run(Command::new("shellcheck").args(["-s", "sh"]).arg(&install));
    }
}

#[test]
fn two_builds_are_byte_identical() {
    let manifest = crate::common::demo_manifest("1.0.0", SCRIPTS).replace(
        "license = \"Apache-2.0\"\n",
        "license = \"MIT\"\nlicense-file = \"LICENSE\"\nchangelog = \"CHANGELOG.md\"\n",
    );
    let p = Project::new(&manifest);
    p.exec("bin/demo", "#!/bin/sh\necho demo\n");
    p.file("README.md", "# demo\n");
    p.file("LICENSE", "MIT License\n\nCopyright (c) 2024 Demo Team\n");
    p.file("CHANGELOG.md", "# Changelog\n\n## 1.0.0\n- first\n");
    p.file("scripts/step.sh", LOG_STEP);
    let first = std::fs::read(pkg_file(&p)).unwrap();
    std::fs::remove_dir_all(p.dist()).unwrap();
    // Different source mtimes must not reach the artifact.
    run(Command::new("touch")
        .args(["-d", "2030-01-01"])
        .arg(p.path().join("bin/demo"))
        .arg(p.path().join("README.md")));
    let file = pkg_file(&p);
    assert_eq!(first, std::fs::read(&file).unwrap(), "rebuild differs");

    let out = run(&mut p.cmd(&["--json", "inspect", file.to_str().unwrap()]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"/usr/share/licenses/demo/LICENSE"),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| p.starts_with("/.")), "{paths:?}");
    if tool("pacman") {
        let info = query_info(&file);
        assert_eq!(info["Licenses"], "MIT");
    }
}

#[test]
fn relations_groups_and_compression_reach_pacman() {
    let p = demo(
        "1.0.0",
        r#"
[relations]
depends = ["sh", "glibc (>= 2.34)"]
recommends = ["bash"]
conflicts = ["demo-legacy"]
provides = ["demo-server=1.0.0"]
replaces = ["demo-legacy"]

[format.pacman]
compression = "xz"
group = "demo-suite"
"#,
    );
    let file = pkg_file(&p);
    assert_eq!(file.file_name().unwrap(), "demo-1.0.0-1-x86_64.pkg.tar.xz");
    let out = run(&mut p.cmd(&["--json", "inspect", file.to_str().unwrap()]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format"], "pacman");
    assert_eq!(
        json["fields"]["depend"],
        serde_json::json!(["sh", "glibc>=2.34"])
    );
    assert_eq!(json["scripts"], serde_json::json!([]));
    if !tool("pacman") {
        return;
    }
    let info = query_info(&file);
    assert_eq!(info["Depends On"], "sh  glibc>=2.34");
    assert_eq!(info["Optional Deps"], "bash");
    assert_eq!(info["Conflicts With"], "demo-legacy");
    assert_eq!(info["Replaces"], "demo-legacy");
    assert_eq!(info["Provides"], "demo-server=1.0.0");
    assert_eq!(info["Groups"], "demo-suite");
    assert_eq!(info["Install Script"], "No");
}

#[test]
fn inspect_reads_an_nfpm_package() {
    if !tool("nfpm") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("hello"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(d.join("hello"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(d.join("pre.sh"), "echo pre\n").unwrap();
    std::fs::write(
        d.join("nfpm.yaml"),
        "name: hello\narch: amd64\nversion: 1.2.3\nrelease: 2\nmaintainer: Someone <a@example.org>\n\
         description: hello from nfpm\nlicense: MIT\n\
         contents:\n  - src: ./hello\n    dst: /usr/bin/hello\n\
         scripts:\n  preinstall: ./pre.sh\n",
    )
    .unwrap();
    run(Command::new("nfpm").current_dir(d).args([
        "package",
        "-p",
        "archlinux",
        "-f",
        "nfpm.yaml",
        "-t",
        ".",
    ]));
    let file = d.join("hello-1.2.3-2-x86_64.pkg.tar.zst");
    // nfpm writes .PKGINFO after the payload, not first.
    let out = run(Command::new(env!("CARGO_BIN_EXE_packwright"))
        .args(["--json", "inspect"])
        .arg(&file));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format"], "pacman");
    assert_eq!(json["fields"]["pkgname"], "hello");
    assert_eq!(json["fields"]["pkgver"], "1.2.3-2");
    assert_eq!(json["fields"]["license"], serde_json::json!(["MIT"]));
    let files: Vec<(&str, &str)> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["mode"].as_str().unwrap()))
        .collect();
    assert_eq!(
        files,
        [
            ("/usr", "0755"),
            ("/usr/bin", "0755"),
            ("/usr/bin/hello", "0755")
        ]
    );
    assert_eq!(json["scripts"][0]["name"], ".INSTALL");
    assert!(json["scripts"][0]["text"]
        .as_str()
        .unwrap()
        .contains("echo pre"));
}

/// Each bad value fails the build naming the key (and pacman when it is
/// pacman's rule), exits 2, and leaves nothing under dist/.
#[test]
fn values_pacman_cannot_express_are_refused_before_writing() {
    let v = |to: &str| {
        (
            "version = \"1.0.0\"".to_string(),
            format!("version = \"{to}\""),
        )
    };
    let cases = [
        (
            v("1:0"),
            "package.version: pacman: `1:0` is not a pacman pkgver",
        ),
        (
            v("1.0-rc1"),
            "package.version: pacman: `1.0-rc1` is not a pacman pkgver",
        ),
        // Whitespace and `/` are refused for every format by the plan already.
        (
            v("1 0"),
            "package.version: \"1 0\" must be non-empty and contain no whitespace",
        ),
        (
            v("1/0"),
            "package.version: \"1/0\" must be non-empty and contain no whitespace, `/`",
        ),
        (
            ("release = \"1\"".into(), "release = \"1~bookworm\"".into()),
            "package.release: pacman: `1~bookworm` is not a pacman pkgrel",
        ),
        (
            (
                "[[files]]".into(),
                "[relations]\ndepends = [\"a | b\"]\n\n[[files]]".into(),
            ),
            "relations.depends[0]: pacman: `a | b` is a choice between packages",
        ),
        (
            ("/demo\"\n".into(), "/demo\\npkgname = evil\"\n".into()),
            "package.homepage: must be one line without control characters",
        ),
    ];
    for ((from, to), expected) in cases {
        let manifest = crate::common::demo_manifest("1.0.0", "");
        assert!(manifest.contains(&from), "{from}");
        let p = Project::new(&manifest.replacen(&from, &to, 1));
        p.exec("bin/demo", "#!/bin/sh\n");
        p.file("README.md", "# demo\n");
        let out = p.packwright(&["build", "--format", "pacman", "--out", "dist"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{to}: {err}");
        assert!(
            err.contains(expected),
            "{to}: expected {expected:?} in:\n{err}"
        );
        assert!(err.contains("packwright.toml:"), "not located: {err}");
        let left: Vec<_> = std::fs::read_dir(p.dist())
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{to} left {left:?} in dist/");
    }
}

/// Memory stays flat: a 48 MiB payload file is hashed and streamed, never
/// held (GNU time's peak RSS for the whole build stays below the file size).
#[test]
fn memory_does_not_grow_with_the_payload() {
    if !crate::common::require(
        Path::new("/usr/bin/time").exists(),
        "GNU time (/usr/bin/time) is not installed",
    ) {
        return;
    }
    let p = demo(
        "1.0.0",
        "\n[[files]]\nsrc = \"big.bin\"\ndst = \"/usr/share/demo/big.bin\"\n",
    );
    let big = std::fs::File::create(p.path().join("big.bin")).unwrap();
    big.set_len(48 << 20).unwrap(); // sparse: no disk used
    let dist = p.dist();
    let cmd = p.cmd(&[
        "build",
        "--format",
        "pacman",
        "--out",
        dist.to_str().unwrap(),
    ]);
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "maxrss=%M"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let out = run(&mut timed);
    let err = stderr(&out);
    let kib: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("maxrss="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss in {err}"));
    assert!(kib < 32 * 1024, "peak RSS {kib} KiB for a 48 MiB payload");
    if tool("pacman") {
        let file = dist.join("demo-1.0.0-1-x86_64.pkg.tar.zst");
        let info = query_info(&file);
        assert_eq!(
            info["Installed Size"], "49152.05 KiB",
            "48 MiB + the demo files"
        );
    }
}

/// Names mtree must escape, a path longer than a tar header holds, a
/// symlink, an epoch and `arch = "all"`: pacman installs it and `-Qkk`
/// finds every entry as .MTREE describes it.
#[test]
fn odd_names_epoch_and_any_arch_check_clean() {
    if !tool("pacman") || !tool("busybox") || !privileged() {
        return;
    }
    let p = Project::new(
        r#"[package]
name = "odd"
version = "1.0"
release = "1"
epoch = 2
summary = "odd names"
maintainer = "X <x@example.org>"
license = "MIT"
arch = "all"

[[files]]
src = "data"
dst = "/usr/share/odd/"
"#,
    );
    let long = "d".repeat(120);
    p.file("data/a b#c=d.txt", "a\n");
    p.file("data/é.txt", "b\n");
    p.file(&format!("data/{long}/long.txt"), "c\n");
    std::os::unix::fs::symlink("a b#c=d.txt", p.path().join("data/link with space")).unwrap();
    let file = pkg_file(&p);
    assert_eq!(file.file_name().unwrap(), "odd-2:1.0-1-any.pkg.tar.zst");
    assert_eq!(query_info(&file)["Version"], "2:1.0-1");
    let root = Root::new();
    root.ok(&["-U", file.to_str().unwrap()]);
    let check = root.ok(&["-Qkk", "odd"]);
    assert!(
        check.contains("odd: 8 total files, 0 altered files"),
        "{check}"
    );
    let r = root.path().join("usr/share/odd");
    assert_eq!(
        std::fs::read_to_string(r.join(&long).join("long.txt")).unwrap(),
        "c\n"
    );
    assert_eq!(
        std::fs::read_link(r.join("link with space")).unwrap(),
        Path::new("a b#c=d.txt")
    );
}

/// libalpm calls any slot whose name appears outside a comment in .INSTALL:
/// a snippet that merely says `post_remove` must not make pacman fail.
#[test]
fn a_snippet_naming_another_slot_does_not_break_removal() {
    if !tool("pacman") || !tool("busybox") || !privileged() {
        return;
    }
    let p = demo("1.0.0", "\n[scripts]\npre-install = \"scripts/pre.sh\"\n");
    p.file(
        "scripts/pre.sh",
        "echo \"post_remove and pre_upgrade are later\" >> /scripts.log\n",
    );
    let file = pkg_file(&p);
    let root = Root::new();
    root.ok(&["-U", file.to_str().unwrap()]);
    root.ok(&["-R", "demo"]);
    assert_eq!(root.log(), "post_remove and pre_upgrade are later\n");
}
