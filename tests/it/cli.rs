//! The CLI's generated docs stay in sync with the committed copies that the
//! dogfood package ships, and `check` prints the plan.

use crate::common::{demo, run, stdout};
use std::process::Command;

fn packwright(args: &[&str]) -> String {
    stdout(&run(
        Command::new(env!("CARGO_BIN_EXE_packwright")).args(args)
    ))
}

#[test]
fn committed_man_page_and_completions_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging");
    let cases = [
        (vec!["manpage"], "packwright.1"),
        (vec!["manpage", "packwright-hook"], "packwright-hook.1"),
        (vec!["completions", "bash"], "completions/packwright.bash"),
        (vec!["completions", "zsh"], "completions/_packwright"),
        (vec!["completions", "fish"], "completions/packwright.fish"),
    ];
    for (args, file) in cases {
        let committed = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(
            packwright(&args) == committed,
            "packaging/{file} is stale: regenerate with `packwright {}`",
            args.join(" ")
        );
    }
}

#[test]
fn check_prints_the_plan_per_format() {
    let p = demo("1.0.0", "");
    let out = stdout(&run(&mut p.cmd(&["check", "--format", "deb,zip"])));
    assert!(out.contains("deb → demo_1.0.0-1_amd64.deb"), "{out}");
    assert!(
        out.contains("0755 root:root") && out.contains("/usr/bin/demo"),
        "{out}"
    );
    assert!(
        out.contains("0750 root:root          0 /var/lib/demo"),
        "{out}"
    );
    assert!(out.contains("zip → demo-1.0.0-windows-x86_64.zip"), "{out}");
    assert!(!p.path().join("dist").exists(), "check writes nothing");
    let json: serde_json::Value =
        serde_json::from_slice(&run(&mut p.cmd(&["--json", "check"])).stdout).unwrap();
    assert!(json["plans"].as_array().unwrap().len() >= 3);
}

#[test]
fn build_json_lists_artifacts() {
    let p = demo("1.0.0", "");
    let dist = p.path().join("dist");
    let out = run(&mut p.cmd(&[
        "--json",
        "build",
        "--format",
        "deb",
        "--out",
        dist.to_str().unwrap(),
    ]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["format"], "deb");
    assert_eq!(
        v[0]["size"].as_u64().unwrap(),
        std::fs::metadata(dist.join("demo_1.0.0-1_amd64.deb"))
            .unwrap()
            .len()
    );
}

#[test]
fn no_temp_files_are_left_behind() {
    let p = demo("1.0.0", "");
    for f in p.build("deb,targz,zip") {
        assert!(!f
            .file_name()
            .unwrap()
            .to_string_lossy()
            .contains("packwright-tmp"));
    }
}

/// The design's whole schema is planned: every section reaches its own
/// checks (here the last one, the hook binary, which the fixture fakes).
#[test]
fn the_design_manifest_example_plans_every_section() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/design.toml"),
    )
    .unwrap();
    let p = crate::common::Project::new(&text);
    p.exec("target/release/imsrv", "#!/bin/sh\n");
    p.file("CHANGELOG.md", "## 3.5.0\n- MongoDB.\n");
    p.file("scripts/post-install.sh", "true\n");
    p.file("config/config.yaml", "version: \"3.5.0\"\n");
    p.file(
        "systemd/imsrv.service",
        "[Service]\nExecStart=/usr/bin/imsrv\n",
    );
    p.exec("scripts/migrations/3.5.0-mysql-to-mongo.sh", "#!/bin/sh\n");
    p.exec("target/release/packwright-hook", "#!/bin/sh\n");
    let out = p.packwright(&["check", "--format", "deb"]);
    assert_eq!(out.status.code(), Some(2));
    let err = crate::common::stderr(&out);
    assert!(
        err.contains("hook.binary: `") && err.contains("is not a Linux (ELF) executable"),
        "{err}"
    );
}
