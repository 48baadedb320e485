//! Shared helpers for integration tests: fixture projects, running the real
//! `packwright` binary, and real-tool availability.
#![allow(dead_code)]

pub mod apk_reader;
pub mod apk_sim;

pub mod imsrv;
pub mod lifecycle;
pub mod migration;
pub mod root;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Whether the real tool `name` can be run (see [`require`]).
pub fn tool(name: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|o| o.status.success());
    require(found, &format!("`{name}` is not installed"))
}

/// Every skip goes through here: under CI or `PACKWRIGHT_REQUIRE_TOOLS=1`
/// a missing prerequisite fails the test loudly (.ci/run installs them all);
/// elsewhere it prints why the test is skipped and returns false.
pub fn require(ok: bool, missing: &str) -> bool {
    if ok {
        return true;
    }
    let required = std::env::var_os("CI").is_some()
        || std::env::var("PACKWRIGHT_REQUIRE_TOOLS").as_deref() == Ok("1");
    if required {
        panic!("{missing}, and it is required here (CI or PACKWRIGHT_REQUIRE_TOOLS=1)");
    }
    eprintln!("SKIPPED: {missing} (set PACKWRIGHT_REQUIRE_TOOLS=1 to make this a failure)");
    false
}

/// Root, which `rpm --root` and chroots need.
pub fn root_user() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    require(stdout(&out).trim() == "0", "the test does not run as root")
}

/// Run a command, panicking with its whole output when it fails.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed with {}\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A throw-away project directory with `packaging/packwright.toml`.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new(manifest: &str) -> Project {
        let p = Project {
            dir: tempfile::tempdir().unwrap(),
        };
        p.file("packaging/packwright.toml", manifest);
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, rel: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    /// A static x86_64 ELF header at `rel`: enough for the build's hook
    /// check, for tests that never run the hook.
    pub fn fake_hook(&self, rel: &str) {
        let mut elf = vec![0u8; 64];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2; // 64-bit
        elf[5] = 1; // little-endian
        elf[18] = 62; // EM_X86_64; no program headers, so no interpreter
        std::fs::write(self.dir.path().join(rel), elf).unwrap();
    }

    pub fn exec(&self, rel: &str, content: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.file(rel, content);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// `packwright -C <dir> ARGS` with a fixed SOURCE_DATE_EPOCH.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_packwright"));
        c.arg("-C")
            .arg(self.path())
            .args(args)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .env_remove("VERSION");
        c
    }

    pub fn packwright(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Build the given formats into <dir>/dist and return the artifacts.
    pub fn build(&self, formats: &str) -> Vec<PathBuf> {
        let dist = self.path().join("dist");
        run(&mut self.cmd(&[
            "build",
            "--format",
            formats,
            "--out",
            dist.to_str().unwrap(),
        ]));
        let mut v: Vec<PathBuf> = std::fs::read_dir(&dist)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    }

    pub fn dist(&self) -> PathBuf {
        self.path().join("dist")
    }
}

/// A complete small manifest for a product `demo` with a binary, a doc,
/// a data directory and a symlink; `extra` is appended.
pub fn demo_manifest(version: &str, extra: &str) -> String {
    format!(
        r#"[package]
name = "demo"
version = "{version}"
release = "1"
summary = "demonstration server for packwright tests"
description = """
A tiny server used by packwright's tests. It does nothing useful,
which makes it easy to install and remove."""
maintainer = "Demo Team <demo@example.org>"
homepage = "https://example.org/demo"
license = "Apache-2.0"

[[files]]
src = "bin/demo"
dst = "/usr/bin/demo"

[[files]]
src = "README.md"
dst = "/usr/share/doc/demo/"

[[dirs]]
path = "/var/lib/demo"
mode = "0750"

[[symlinks]]
path = "/usr/sbin/demo"
target = "/usr/bin/demo"
only = ["deb", "rpm", "pacman", "apk"]
{extra}"#
    )
}

/// A project from `demo_manifest` with its input files in place.
pub fn demo(version: &str, extra: &str) -> Project {
    let p = Project::new(&demo_manifest(version, extra));
    p.exec("bin/demo", "#!/bin/sh\necho demo\n");
    p.file("README.md", "# demo\n\nA demonstration package.\n");
    p
}

/// packwright's own project (its manifest and the files it packages), with
/// this test build of the binary, stripped as `cargo build --release` makes
/// it, standing in for target/release/packwright. Needs `strip`.
pub fn dogfood() -> Project {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = Project::new(&std::fs::read_to_string(repo.join("packaging/packwright.toml")).unwrap());
    for rel in [
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "packaging/packwright.1",
        "packaging/completions/packwright.bash",
        "packaging/completions/_packwright",
        "packaging/completions/packwright.fish",
        "packaging/lintian/packwright",
        "packaging/packwright-hook.1",
    ] {
        p.file(rel, &std::fs::read_to_string(repo.join(rel)).unwrap());
    }
    let hook = p
        .path()
        .join("target/x86_64-unknown-linux-gnu/hook/packwright-hook");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::copy(root::static_hook(), &hook).unwrap();
    std::fs::create_dir_all(p.path().join("target/release")).unwrap();
    run(Command::new("strip")
        .arg("-o")
        .arg(p.path().join("target/release/packwright"))
        .arg(env!("CARGO_BIN_EXE_packwright")));
    p
}
