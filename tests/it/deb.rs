//! The .deb against the real dpkg, dpkg-deb and lintian.

use crate::common::{demo, run, stdout, tool, Project};
use std::path::Path;
use std::process::Command;

/// A scratch root that dpkg can install into and run maintainer scripts in
/// (a static busybox as /bin/sh).
fn scratch_root() -> tempfile::TempDir {
    let r = tempfile::tempdir().unwrap();
    for d in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/log",
        "bin",
        "tmp",
    ] {
        std::fs::create_dir_all(r.path().join(d)).unwrap();
    }
    std::fs::write(r.path().join("var/lib/dpkg/status"), "").unwrap();
    std::fs::copy("/bin/busybox", r.path().join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", r.path().join("bin/sh")).unwrap();
    r
}

fn dpkg(root: &Path, args: &[&str]) -> std::process::Output {
    run(Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .arg("--log=/dev/null")
        .args(args))
}

const SCRIPTS: &str = r#"
[scripts]
pre-install = "scripts/log.sh"
post-install = "scripts/log.sh"
pre-upgrade = "scripts/log.sh"
post-upgrade = "scripts/log.sh"
pre-remove = "scripts/log.sh"
post-remove = "scripts/log.sh"
purge = "scripts/log.sh"
"#;

fn demo_with_scripts(version: &str) -> Project {
    let p = demo(version, SCRIPTS);
    p.file(
        "scripts/log.sh",
        "echo \"$1|$2|$3\" >> /var/log/demo-scripts.log\n",
    );
    p
}

fn log(root: &Path) -> String {
    std::fs::read_to_string(root.join("var/log/demo-scripts.log")).unwrap_or_default()
}

#[test]
fn installs_upgrades_removes_and_purges_with_scripts_in_order() {
    if !tool("dpkg") || !tool("busybox") {
        return;
    }
    let (p1, p2) = (demo_with_scripts("1.0.0"), demo_with_scripts("2.0.0"));
    let (v1, v2) = (p1.build("deb"), p2.build("deb"));
    let root = scratch_root();
    let r = root.path();

    dpkg(r, &["-i", v1[0].to_str().unwrap()]);
    assert_eq!(log(r), "pre-install||1.0.0-1\npost-install||1.0.0-1\n");
    assert_eq!(
        std::fs::read_to_string(r.join("usr/bin/demo")).unwrap(),
        "#!/bin/sh\necho demo\n"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| {
        std::fs::symlink_metadata(r.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("usr/bin/demo"), 0o755);
    assert_eq!(mode("var/lib/demo"), 0o750);
    assert_eq!(
        std::fs::read_link(r.join("usr/sbin/demo")).unwrap(),
        Path::new("/usr/bin/demo")
    );
    // dpkg checks every file against md5sums: nothing may be reported.
    let verify = dpkg(r, &["--verify", "demo"]);
    assert_eq!(stdout(&verify), "");

    dpkg(r, &["-i", v2[0].to_str().unwrap()]);
    assert_eq!(
        log(r),
        "pre-install||1.0.0-1\npost-install||1.0.0-1\npre-upgrade|1.0.0-1|2.0.0-1\npost-upgrade|1.0.0-1|2.0.0-1\n",
        "the old package's prerm/postrm `upgrade` must not run the removal snippets"
    );
    let status = dpkg(r, &["-s", "demo"]);
    assert!(stdout(&status).contains("Version: 2.0.0-1"));

    dpkg(r, &["-r", "demo"]);
    assert!(
        log(r).ends_with("pre-remove|2.0.0-1|\npost-remove|2.0.0-1|\n"),
        "{}",
        log(r)
    );
    assert!(!r.join("usr/bin/demo").exists());
    dpkg(r, &["-P", "demo"]);
    assert!(log(r).ends_with("purge|2.0.0-1|\n"), "{}", log(r));
    let listed = Command::new("dpkg")
        .arg(format!("--root={}", r.display()))
        .args(["-s", "demo"])
        .output()
        .unwrap();
    assert!(!listed.status.success(), "purged package must be gone");
}

#[test]
fn dpkg_deb_reads_the_package_and_its_control_fields() {
    if !tool("dpkg-deb") {
        return;
    }
    let p = demo("1.2.3", "[relations]\ndepends = [\"libc6 (>= 2.34)\"]\nrecommends = [\"curl\"]\n[format.deb]\nsection = \"net\"\ncompression = \"zstd\"\nlevel = 19\n");
    let deb = &p.build("deb")[0];
    assert_eq!(deb.file_name().unwrap(), "demo_1.2.3-1_amd64.deb");
    let info = stdout(&run(Command::new("dpkg-deb").arg("--field").arg(deb)));
    for want in [
        "Package: demo",
        "Version: 1.2.3-1",
        "Architecture: amd64",
        "Depends: libc6 (>= 2.34)",
        "Recommends: curl",
        "Section: net",
        "Priority: optional",
        "Installed-Size: ",
    ] {
        assert!(info.contains(want), "missing `{want}` in\n{info}");
    }
    let list = stdout(&run(Command::new("dpkg-deb").arg("-c").arg(deb)));
    assert!(list.contains("./usr/share/doc/demo/copyright"));
    assert!(list.contains("./usr/share/doc/demo/changelog.Debian.gz"));
    let members = stdout(&run(Command::new("ar").arg("t").arg(deb)));
    assert_eq!(members, "debian-binary\ncontrol.tar.zst\ndata.tar.zst\n");
}

/// The repository's own manifest, built with this test binary standing in
/// for target/release/packwright, must be lintian-clean. Its one override
/// (packaging/lintian/packwright) is a documented false positive; lintian
/// reports an override that matches nothing, so a stale one fails here too.
#[test]
fn dogfood_deb_is_lintian_clean() {
    if !tool("lintian") || !tool("strip") {
        return;
    }
    let p = crate::common::dogfood();
    let deb = p.build("deb").remove(0);
    let out = Command::new("lintian")
        .args(["--pedantic", "--no-tag-display-limit"])
        .arg(&deb)
        .output()
        .unwrap();
    let text = stdout(&out);
    let bad: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("E:") || l.starts_with("W:") || l.starts_with("P:"))
        .collect();
    assert!(bad.is_empty(), "lintian findings:\n{text}");
    assert!(
        out.status.success(),
        "{text}\n{}",
        crate::common::stderr(&out)
    );
}

#[test]
fn inspect_reads_debs_built_by_dpkg_deb_and_nfpm() {
    if !tool("dpkg-deb") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let tree = t.path().join("pkg");
    std::fs::create_dir_all(tree.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(tree.join("usr/bin")).unwrap();
    std::fs::write(tree.join("DEBIAN/control"), "Package: other\nVersion: 0.9-2\nArchitecture: all\nMaintainer: X <x@example.org>\nDescription: other tool\n long text\n").unwrap();
    std::fs::write(tree.join("DEBIAN/postinst"), "#!/bin/sh\necho configured\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        tree.join("DEBIAN/postinst"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(tree.join("usr/bin/other"), "x").unwrap();
    let deb = t.path().join("other.deb");
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zgzip", "--build"])
        .arg(&tree)
        .arg(&deb));
    let out = run(Command::new(env!("CARGO_BIN_EXE_packwright"))
        .args(["--json", "inspect"])
        .arg(&deb));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "deb");
    assert_eq!(v["fields"]["Version"], "0.9-2");
    assert_eq!(v["fields"]["Description"], "other tool\n long text");
    assert!(v["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "/usr/bin/other" && f["mode"] == "0644" && f["owner"] == "root"));
    assert_eq!(v["scripts"][0]["name"], "postinst");
    assert!(v["scripts"][0]["text"]
        .as_str()
        .unwrap()
        .contains("echo configured"));

    if !tool("nfpm") {
        return;
    }
    std::fs::write(t.path().join("nfpm.yaml"), format!("name: nfpmdemo\nversion: 2.0.0\narch: amd64\nmaintainer: N <n@example.org>\ndescription: built by nfpm\ncontents:\n  - src: {}\n    dst: /usr/bin/nfpmdemo\n    file_info:\n      mode: 0755\n", tree.join("usr/bin/other").display())).unwrap();
    run(Command::new("nfpm")
        .current_dir(t.path())
        .args([
            "pkg",
            "--packager",
            "deb",
            "--config",
            "nfpm.yaml",
            "--target",
        ])
        .arg(t.path().join("n.deb")));
    let out = run(Command::new(env!("CARGO_BIN_EXE_packwright"))
        .args(["--json", "inspect"])
        .arg(t.path().join("n.deb")));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fields"]["Package"], "nfpmdemo");
    assert!(v["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "/usr/bin/nfpmdemo" && f["mode"] == "0755"));
}

#[test]
fn generated_scripts_pass_shellcheck_and_parse_in_dash_and_busybox() {
    if !tool("shellcheck") || !tool("dash") || !tool("busybox") {
        return;
    }
    let p = demo_with_scripts("1.0.0");
    let deb = &p.build("deb")[0];
    let out = run(Command::new(env!("CARGO_BIN_EXE_packwright"))
        .args(["--json", "inspect"])
        .arg(deb));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scripts = v["scripts"].as_array().unwrap();
    assert_eq!(scripts.len(), 4, "preinst, postinst, prerm, postrm");
    let t = tempfile::tempdir().unwrap();
    for s in scripts {
        let f = t.path().join(s["name"].as_str().unwrap());
        std::fs::write(&f, s["text"].as_str().unwrap()).unwrap();
        run(Command::new("shellcheck").args(["-s", "sh"]).arg(&f));
        run(Command::new("dash").arg("-n").arg(&f));
        run(Command::new("busybox").args(["sh", "-n"]).arg(&f));
    }
}

#[test]
fn gzip_payload_of_several_members_extracts_with_dpkg_deb() {
    if !tool("dpkg-deb") {
        return;
    }
    let p = demo("1.0.0", "[[files]]\nsrc = \"big.bin\"\ndst = \"/usr/share/demo/big.bin\"\n[format.deb]\ncompression = \"gzip\"\n");
    // 3.5 MiB of varied bytes: four gzip members of 1 MiB blocks.
    let big: Vec<u8> = (0..3_500_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(p.path().join("big.bin"), &big).unwrap();
    let deb = &p.build("deb")[0];
    let members = stdout(&run(Command::new("ar").arg("t").arg(deb)));
    assert!(members.contains("data.tar.gz"), "{members}");
    let t = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(t.path()));
    assert!(
        std::fs::read(t.path().join("usr/share/demo/big.bin")).unwrap() == big,
        "payload must survive intact"
    );
}
