//! .tar.gz and .zip: one top folder, modes kept, accepted by bsdtar and unzip.

use crate::common::{demo, run, stdout, tool};
use std::process::Command;

#[test]
fn targz_has_one_top_folder_and_keeps_modes() {
    if !tool("bsdtar") {
        return;
    }
    let p = demo("1.0.0", "[format.targz]\ntarget = \"macos-aarch64\"\n");
    let files = p.build("targz");
    assert_eq!(
        files[0].file_name().unwrap(),
        "demo-1.0.0-macos-aarch64.tar.gz"
    );
    let list = stdout(&run(Command::new("bsdtar").arg("-tvf").arg(&files[0])));
    let lines: Vec<&str> = list.lines().collect();
    assert!(
        lines.iter().all(|l| l
            .split_whitespace()
            .last()
            .is_some_and(|p| p.starts_with("demo-1.0.0/") || l.contains(" -> "))),
        "{list}"
    );
    assert!(
        list.contains("-rwxr-xr-x  0 root   root") && list.contains("demo-1.0.0/bin/demo"),
        "{list}"
    );
    assert!(list.contains("demo-1.0.0/doc/README.md"), "{list}");
    // The [[dirs]] entry keeps its mode.
    assert!(
        list.lines()
            .any(|l| l.starts_with("drwxr-x---") && l.ends_with("demo-1.0.0/var/lib/demo/")),
        "{list}"
    );
    // bsdtar extracts it.
    let t = tempfile::tempdir().unwrap();
    run(Command::new("bsdtar")
        .arg("-xf")
        .arg(&files[0])
        .arg("-C")
        .arg(t.path()));
    assert_eq!(
        std::fs::read_to_string(t.path().join("demo-1.0.0/bin/demo")).unwrap(),
        "#!/bin/sh\necho demo\n"
    );
}

#[test]
fn zip_is_accepted_by_unzip_with_unix_modes() {
    if !tool("unzip") {
        return;
    }
    let p = demo("1.0.0", "");
    let files = p.build("zip");
    assert_eq!(
        files[0].file_name().unwrap(),
        "demo-1.0.0-windows-x86_64.zip"
    );
    let test = stdout(&run(Command::new("unzip").arg("-t").arg(&files[0])));
    assert!(test.contains("No errors detected"), "{test}");
    let info = stdout(&run(Command::new("zipinfo").arg(&files[0])));
    assert!(
        info.lines()
            .any(|l| l.starts_with("-rwxr-xr-x") && l.ends_with("demo-1.0.0/bin/demo")),
        "{info}"
    );
    assert!(
        info.lines()
            .any(|l| l.starts_with("-rw-r--r--") && l.ends_with("demo-1.0.0/doc/README.md")),
        "{info}"
    );
    assert!(
        !info.contains("sbin"),
        "the symlink is left out of the zip by `only`: {info}"
    );
    let t = tempfile::tempdir().unwrap();
    run(Command::new("unzip")
        .arg("-q")
        .arg(&files[0])
        .arg("-d")
        .arg(t.path()));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(t.path().join("demo-1.0.0/bin/demo"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
}

#[test]
fn inspect_lists_portable_archives() {
    let p = demo("1.0.0", "");
    for f in p.build("targz,zip") {
        let out = run(Command::new(env!("CARGO_BIN_EXE_packwright"))
            .args(["--json", "inspect"])
            .arg(&f));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let files = v["files"].as_array().unwrap();
        assert!(
            files
                .iter()
                .any(|x| x["path"] == "demo-1.0.0/bin/demo" && x["mode"] == "0755"),
            "{f:?}: {v}"
        );
    }
}
