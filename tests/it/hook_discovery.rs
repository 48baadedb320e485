//! A packwright installed any supported way builds a package with configs
//! with no `[hook]` key: it finds the static hook for the host itself
//! (`$PACKWRIGHT_HOOK`, beside the binary, packwright's source tree).

use crate::common::root::{busybox, static_hook, Manager, Root};
use crate::common::{run, stderr, tool, Project};
use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST: &str = r#"[package]
name = "demo"
version = "1.0.0"
summary = "demo"
maintainer = "A <a@example.org>"
license = "MIT"

[[config]]
src = "config.yaml"
dst = "/etc/demo/config.yaml"
version-key = "version"
"#;

/// Build the demo's .deb with the packwright at `bin` and return the hook
/// bytes the package carries.
pub(crate) fn carried_hook(bin: &Path, env: &[(&str, &Path)]) -> Result<Vec<u8>, String> {
    let p = Project::new(MANIFEST);
    p.file("config.yaml", "version: 1\n");
    let dist = p.path().join("dist");
    let mut c = Command::new(bin);
    c.arg("-C")
        .arg(p.path())
        .args(["build", "--format", "deb", "--out"])
        .arg(&dist)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("PACKWRIGHT_HOOK");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    if !out.status.success() {
        return Err(stderr(&out));
    }
    let deb = std::fs::read_dir(&dist)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let x = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(x.path()));
    Ok(std::fs::read(x.path().join("usr/lib/demo/packwright-hook")).unwrap())
}

/// A copy of the test build of packwright alone in a fresh directory, as a
/// binary installed somewhere with nothing beside it.
fn lone_packwright(dir: &Path) -> PathBuf {
    let bin = dir.join("packwright");
    std::fs::copy(env!("CARGO_BIN_EXE_packwright"), &bin).unwrap();
    bin
}

#[test]
fn the_hook_beside_packwright_is_used_first() {
    if !tool("dpkg-deb") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let bin = lone_packwright(d.path());
    // Any static x86_64 executable passes the build's check; busybox tells
    // which place the hook was taken from.
    std::fs::copy(busybox(), d.path().join("packwright-hook")).unwrap();
    let got = carried_hook(&bin, &[]).unwrap();
    assert_eq!(got, std::fs::read(busybox()).unwrap());
}

#[test]
fn packwright_hook_variable_comes_before_everything_and_is_checked() {
    if !tool("dpkg-deb") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let bin = lone_packwright(d.path());
    std::fs::copy(static_hook(), d.path().join("packwright-hook")).unwrap();
    let got = carried_hook(&bin, &[("PACKWRIGHT_HOOK", &busybox())]).unwrap();
    assert_eq!(got, std::fs::read(busybox()).unwrap());
    // A dynamic binary named by the variable is refused, not skipped.
    let err = carried_hook(
        &bin,
        &[(
            "PACKWRIGHT_HOOK",
            Path::new(env!("CARGO_BIN_EXE_packwright")),
        )],
    )
    .unwrap_err();
    assert!(
        err.contains("PACKWRIGHT_HOOK") && err.contains("dynamically linked"),
        "{err}"
    );
}

#[test]
fn a_source_checkout_uses_its_static_build() {
    if !tool("dpkg-deb") {
        return;
    }
    // The test build's own dir holds a dynamic packwright-hook (cargo's dev
    // build): it is passed over for the static build in the source tree.
    let hook = static_hook();
    let got = carried_hook(Path::new(env!("CARGO_BIN_EXE_packwright")), &[]).unwrap();
    assert_eq!(got, std::fs::read(&hook).unwrap());
    let d = tempfile::tempdir().unwrap();
    let got = carried_hook(&lone_packwright(d.path()), &[]).unwrap();
    assert_eq!(got, std::fs::read(&hook).unwrap());
}

#[test]
fn the_installed_deb_builds_packages_with_configs() {
    if !tool("dpkg") || !crate::common::root::privileged() {
        return;
    }
    let p = crate::common::dogfood();
    let deb = p.build("deb").remove(0);
    let root = Root::new(Manager::Dpkg);
    // The scratch root has no libc6 package; the host's libc runs the binary.
    root.run(&["--force-depends", "-i", deb.to_str().unwrap()])
        .ok();
    let bin = root.at("usr/bin/packwright");
    let got = carried_hook(&bin, &[]).unwrap();
    assert_eq!(got, root.bytes("usr/bin/packwright-hook"));
}
