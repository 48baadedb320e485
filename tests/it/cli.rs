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

/// An error names the file and says what is wrong once, not twice (an
/// error that already ends with its cause, printed with its cause chain).
#[test]
fn an_error_says_its_cause_once() {
    let p = demo("1.0.0", "");
    let none = p.path().join("none");
    let o = Command::new(env!("CARGO_BIN_EXE_packwright"))
        .arg("-C")
        .arg(&none)
        .arg("build")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "{err}");
    assert_eq!(err.matches("no manifest there").count(), 1, "{err}");
    assert!(err.contains(&none.display().to_string()), "{err}");
    std::fs::remove_file(p.path().join("bin/demo")).unwrap();
    let o = p.cmd(&["build", "--format", "deb"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("demo"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
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
    let v = &v["artifacts"];
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

#[test]
fn json_output_carries_warnings() {
    let p = demo("1.0.0", "[scripts]\npurge = \"purge.sh\"\n");
    p.file("purge.sh", "echo purge\n");
    let dist = p.path().join("dist");
    let out = run(&mut p.cmd(&[
        "--json",
        "build",
        "--format",
        "rpm",
        "--out",
        dist.to_str().unwrap(),
    ]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = v["warnings"].as_array().expect("a warnings array");
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("scripts.purge is not used")),
        "{v}"
    );
    assert_eq!(v["artifacts"][0]["format"], "rpm");
    let out = run(&mut p.cmd(&["--json", "check", "--format", "rpm"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(1), "{v}");
}

/// One rule for symlinks in sources: kept as symlinks (a file, a glob
/// match or inside a copied directory), followed only when asked.
#[test]
fn symlinked_sources_stay_symlinks_unless_followed() {
    let extra = "[[files]]\nsrc = \"link\"\ndst = \"/usr/share/demo/link\"\n\
                 [[files]]\nsrc = \"g/*\"\ndst = \"/usr/share/demo/g/\"\n\
                 [[files]]\nsrc = \"followed\"\ndst = \"/usr/share/demo/followed\"\nfollow-symlinks = true\n";
    let p = demo("1.0.0", extra);
    let secret = p.file("secret", "not for packaging\n");
    std::os::unix::fs::symlink(&secret, p.path().join("link")).unwrap();
    std::fs::create_dir(p.path().join("g")).unwrap();
    std::os::unix::fs::symlink(&secret, p.path().join("g/l")).unwrap();
    std::os::unix::fs::symlink(&secret, p.path().join("followed")).unwrap();
    let built = p.build("targz");
    let out = run(&mut p.cmd(&["--json", "inspect", built[0].to_str().unwrap()]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = |path: &str| {
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == format!("demo-1.0.0/share/{path}"))
            .cloned()
            .unwrap_or_else(|| panic!("{path} in {v}"))
    };
    for path in ["link", "g/l"] {
        let e = entry(path);
        assert_eq!(e["kind"], "symlink", "{e}");
        assert_eq!(e["link"], secret.to_str().unwrap(), "{e}");
    }
    let e = entry("followed");
    assert_eq!(e["kind"], "file", "{e}");
    assert_eq!(e["size"], 18, "{e}");
}

/// `inspect` holds at most 1 MiB of one script and says so when it cuts.
#[test]
fn inspect_bounds_scripts_and_says_when_it_cut() {
    let p = demo("1.0.0", "[scripts]\npost-install = \"big.sh\"\n");
    let mut big = String::from("#!/bin/sh\n");
    while big.len() < 2 << 20 {
        big.push_str(": padding padding padding padding padding padding\n");
    }
    p.file("big.sh", &big);
    let built = p.build("deb");
    let out = run(&mut p.cmd(&["--json", "inspect", built[0].to_str().unwrap()]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let post = v["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "postinst")
        .unwrap();
    assert_eq!(post["text"].as_str().unwrap().len(), 1 << 20);
    let w = v["warnings"].to_string();
    assert!(w.contains("`postinst` is longer than 1024 KiB"), "{w}");
    let out = run(&mut p.cmd(&["inspect", built[0].to_str().unwrap()]));
    assert!(crate::common::stderr(&out).contains("only its first 1024 KiB"));
}
