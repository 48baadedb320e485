//! Every bad manifest gets one clear error naming file, line, column and key,
//! exits 2, and writes nothing under dist/.

use crate::common::{stderr, Project};

const BASE: &str = r#"[package]
name = "demo"
version = "1.0.0"
summary = "demo"
maintainer = "A <a@example.org>"
license = "MIT"
"#;

/// Build `manifest` and return its stderr, asserting the failure contract.
fn fails(manifest: &str, setup: impl Fn(&Project)) -> String {
    fails_for(manifest, None, setup)
}

/// `fails` for the formats in `formats` (None: every format).
fn fails_for(manifest: &str, formats: Option<&str>, setup: impl Fn(&Project)) -> String {
    let p = Project::new(manifest);
    p.exec("bin/demo", "#!/bin/sh\n");
    setup(&p);
    let dist = p.dist();
    let mut args = vec!["build", "--out", dist.to_str().unwrap()];
    if let Some(f) = formats {
        args.extend(["--format", f]);
    }
    let out = p.packwright(&args);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit code for:\n{manifest}\n{err}"
    );
    assert!(
        !p.dist().exists() || std::fs::read_dir(p.dist()).unwrap().next().is_none(),
        "dist/ must stay empty: {err}"
    );
    assert_eq!(err.lines().count(), 1, "one error line, got:\n{err}");
    err
}

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[track_caller]
fn expect(err: &str, location: &str, key: &str, words: &str) {
    let want = format!("packwright.toml:{location}: {key}: ");
    assert!(err.contains(&want), "expected `{want}` in {err}");
    assert!(err.contains(words), "expected `{words}` in {err}");
}

#[test]
fn unknown_key_suggests_the_nearest() {
    let err = fails(&with("nmae = \"x\"\n"), |_| {});
    expect(
        &err,
        "7:1",
        "package.nmae",
        "unknown key `nmae`; did you mean `name`?",
    );
    let err = fails(&with("[relations.deb]\ndepnds = [\"b\"]\n"), |_| {});
    expect(
        &err,
        "8:1",
        "relations.deb.depnds",
        "did you mean `depends`?",
    );
}

#[test]
fn wrong_type() {
    let err = fails(&BASE.replace("version = \"1.0.0\"", "version = 1"), |_| {});
    expect(
        &err,
        "3:11",
        "package.version",
        "invalid type: integer `1`, expected a string",
    );
}

#[test]
fn missing_required_field() {
    let err = fails(
        &BASE.replace("maintainer = \"A <a@example.org>\"\n", ""),
        |_| {},
    );
    expect(&err, "1:1", "package", "missing required key `maintainer`");
}

#[test]
fn bad_mode() {
    for mode in ["0999", "rwxr-xr-x", "12"] {
        let err = fails(
            &with(&format!(
                "[[files]]\nsrc = \"bin/demo\"\ndst = \"/usr/bin/demo\"\nmode = \"{mode}\"\n"
            )),
            |_| {},
        );
        expect(
            &err,
            "10:8",
            "files[0].mode",
            &format!("mode `{mode}` is not an octal mode"),
        );
    }
}

#[test]
fn destination_not_absolute_or_with_dotdot() {
    let err = fails(
        &with("[[files]]\nsrc = \"bin/demo\"\ndst = \"usr/bin/demo\"\n"),
        |_| {},
    );
    expect(&err, "9:7", "files[0].dst", "is not absolute");
    let err = fails(&with("[[dirs]]\npath = \"/var/lib/../../etc\"\n"), |_| {});
    expect(&err, "8:8", "dirs[0].path", "contains `.` or `..`");
}

#[test]
fn source_or_glob_matching_nothing() {
    let err = fails(
        &with("[[files]]\nsrc = \"bin/nope\"\ndst = \"/usr/bin/demo\"\n"),
        |_| {},
    );
    expect(&err, "8:7", "files[0].src", "`bin/nope` cannot be read");
    let err = fails(
        &with("[[files]]\nsrc = \"bin/*.exe\"\ndst = \"/usr/bin/\"\n"),
        |_| {},
    );
    expect(
        &err,
        "8:7",
        "files[0].src",
        "glob `bin/*.exe` matches nothing",
    );
}

#[test]
fn two_entries_with_one_destination() {
    let m = with("[[files]]\nsrc = \"bin/demo\"\ndst = \"/usr/bin/demo\"\n\n[[files]]\nsrc = \"bin/demo\"\ndst = \"/usr/bin//demo\"\n");
    let err = fails(&m, |_| {});
    expect(
        &err,
        "11:1",
        "files[1]",
        "`/usr/bin/demo` is already installed by files[0]",
    );
    // A directory copy that lands on a file installed by another entry.
    let m = with("[[files]]\nsrc = \"bin/demo\"\ndst = \"/opt/demo/bin/demo\"\n\n[[files]]\nsrc = \"bin\"\ndst = \"/opt/demo/bin\"\n");
    let err = fails(&m, |_| {});
    assert!(err.contains("is already installed by files[0]"), "{err}");
}

#[test]
fn undefined_variable_without_default() {
    let err = fails(
        &BASE.replace("\"1.0.0\"", "\"${PACKWRIGHT_TEST_UNSET}\""),
        |_| {},
    );
    expect(
        &err,
        "3:11",
        "package.version",
        "variable `PACKWRIGHT_TEST_UNSET` is not set and has no default",
    );
}

#[test]
fn unknown_format_names() {
    let err = fails(
        &with("[[files]]\nsrc = \"bin/demo\"\ndst = \"/usr/bin/demo\"\nonly = [\"debian\"]\n"),
        |_| {},
    );
    expect(&err, "10:9", "files[0].only[0]", "unknown format `debian`");
    let err = fails(&with("[format.debian]\ncompression = \"xz\"\n"), |_| {});
    expect(&err, "7:9", "format.debian", "did you mean `deb`?");
    let err = fails(&with("[format.deb]\ncompression = \"lz4\"\n"), |_| {});
    expect(
        &err,
        "8:15",
        "format.deb.compression",
        "unknown compression `lz4`",
    );
}

#[test]
fn unknown_architecture() {
    let err = fails(&with("arch = \"sparc\"\n"), |_| {});
    expect(&err, "7:8", "package.arch", "unknown architecture `sparc`");
}

#[test]
fn unknown_format_on_the_command_line_is_a_usage_error() {
    let p = Project::new(BASE);
    let out = p.packwright(&[
        "build",
        "--format",
        "debx",
        "--out",
        p.dist().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown format `debx`"),
        "{}",
        stderr(&out)
    );
    assert!(!p.dist().exists());
}

#[test]
fn syntax_error_is_located() {
    let err = fails(&with("[[files]\n"), |_| {});
    assert!(err.contains("packwright.toml:7:"), "{err}");
}

#[test]
fn a_format_rule_is_located_at_the_manifest_key() {
    let err = fails(&BASE.replace("\"1.0.0\"", "\"v1.0\""), |_| {});
    expect(
        &err,
        "3:11",
        "package.version",
        "deb: `v1.0` is not a Debian version",
    );
}

// Lifecycle sections: each mistake is a build error at its manifest key.

const CONFIG: &str = "[[config]]\nsrc = \"config.yaml\"\ndst = \"/etc/demo/config.yaml\"\nversion-key = \"version\"\n";

#[test]
fn a_dynamically_linked_hook_is_refused_with_the_command_that_fixes_it() {
    // Test binaries are dynamically linked: the very thing packages must not carry.
    let dynamic = std::env::current_exe().unwrap();
    let m = with(&format!(
        "{CONFIG}[hook]\nbinary = \"{}\"\n",
        dynamic.display()
    ));
    let err = fails(&m, |p| {
        p.file("config.yaml", "version: 1\n");
    });
    expect(&err, "12:10", "hook.binary", "is dynamically linked");
    assert!(err.contains("sh packaging/build-hook.sh"), "{err}");
}

#[test]
fn a_hook_that_is_not_an_executable_is_refused() {
    let m = with(&format!("{CONFIG}[hook]\nbinary = \"hook.sh\"\n"));
    let err = fails(&m, |p| {
        p.file("config.yaml", "version: 1\n");
        p.exec("hook.sh", "#!/bin/sh\n");
    });
    expect(
        &err,
        "12:10",
        "hook.binary",
        "is not a Linux (ELF) executable",
    );
}

#[test]
fn a_config_default_that_does_not_parse_is_refused_at_build_time() {
    let m = with(&format!("{CONFIG}[hook]\nbinary = \"hook.sh\"\n"));
    let err = fails(&m, |p| {
        p.file("config.yaml", "version: 1\nport: [1, 2\n");
    });
    expect(&err, "8:7", "config[0].src", "config.yaml");
    let err = fails(&m, |p| {
        p.file("config.yaml", "port: 1\n");
    });
    expect(&err, "10:15", "config[0].version-key", "has no `version`");
}

#[test]
fn lifecycle_values_are_checked_where_they_are_written() {
    let cases = [
        (
            "[[users]]\nname = \"Demo User\"\n",
            "8:8",
            "users[0].name",
            "not a portable user or group name",
        ),
        (
            "[[systemd]]\nunit = \"demo.conf\"\n",
            "8:8",
            "systemd[0].unit",
            "not a unit file name",
        ),
        (
            "[upgrade]\npolicy = \"yearly\"\n",
            "8:10",
            "upgrade.policy",
            "unknown policy `yearly`",
        ),
        (
            "[upgrade]\nstops = [\"3.4 beta\"]\n",
            "8:10",
            "upgrade.stops[0]",
            "is not a version",
        ),
        (
            "[[config]]\nsrc = \"c.yaml\"\ndst = \"/etc/demo/c.yaml\"\nformat = \"xml\"\n",
            "10:10",
            "config[0].format",
            "unknown config format `xml`",
        ),
        (
            "[[migrations]]\nversion = \"2 0\"\nrun = \"m.sh\"\n",
            "8:11",
            "migrations[0].version",
            "is not a version",
        ),
    ];
    for (extra, at, key, words) in cases {
        let err = fails(&with(extra), |p| {
            p.exec("demo.conf", "");
            p.file("c.yaml", "a: 1\n");
            p.exec("m.sh", "#!/bin/sh\n");
        });
        expect(&err, at, key, words);
    }
}

#[test]
fn a_live_config_shipped_as_a_file_too_is_refused() {
    let m = with(&format!(
        "{CONFIG}[[files]]\nsrc = \"config.yaml\"\ndst = \"/etc/demo/config.yaml\"\n[hook]\nbinary = \"h\"\n"
    ));
    let err = fails(&m, |p| {
        p.file("config.yaml", "version: 1\n");
        p.fake_hook("h");
    });
    expect(&err, "9:7", "config[0].dst", "belongs to packwright-hook");
}

// Zip rules: each violation is a build error that names the manifest entry.

fn zip_fails(extra: &str, setup: impl Fn(&Project)) -> String {
    let m = format!("{BASE}{extra}");
    let p = Project::new(&m);
    setup(&p);
    let out = p.packwright(&[
        "build",
        "--format",
        "zip",
        "--out",
        p.dist().to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        !p.dist().exists() || std::fs::read_dir(p.dist()).unwrap().next().is_none(),
        "dist/ must stay empty: {err}"
    );
    assert!(err.contains("zip: "), "{err}");
    err
}

#[test]
fn zip_refuses_symlinks() {
    let err = zip_fails(
        "[[symlinks]]\npath = \"/usr/bin/d\"\ntarget = \"demo\"\n",
        |_| {},
    );
    assert!(
        err.contains("symlinks[0]") && err.contains("cannot hold symlinks"),
        "{err}"
    );
}

#[test]
fn zip_refuses_windows_invalid_names() {
    for (name, words) in [
        ("a:b.txt", "':' is not allowed"),
        ("CON.txt", "reserved device name"),
        ("nul", "reserved device name"),
        ("trail.", "ends with a dot or space"),
        ("q?.txt", "'?' is not allowed"),
    ] {
        let err = zip_fails(
            &format!("[[files]]\nsrc = \"f\"\ndst = \"/usr/share/demo/{name}\"\n"),
            |p| {
                p.file("f", "x");
            },
        );
        assert!(
            err.contains("files[0]") && err.contains(words),
            "{name}: {err}"
        );
    }
}

#[test]
fn zip_refuses_names_equal_ignoring_case() {
    let extra = "[[files]]\nsrc = \"a\"\ndst = \"/usr/share/demo/README\"\n[[files]]\nsrc = \"a\"\ndst = \"/usr/share/demo/readme\"\n";
    let err = zip_fails(extra, |p| {
        p.file("a", "x");
    });
    assert!(err.contains("differ only in case"), "{err}");
}

#[test]
fn zip_requires_crlf_in_windows_scripts() {
    let extra = "[[files]]\nsrc = \"run.cmd\"\ndst = \"/usr/bin/run.cmd\"\n";
    let err = zip_fails(extra, |p| {
        p.file("run.cmd", "@echo off\r\necho hi\n");
    });
    assert!(err.contains("line 2 ends with LF only"), "{err}");
    // CRLF throughout is accepted.
    let p = Project::new(&format!("{BASE}{extra}"));
    p.file("run.cmd", "@echo off\r\necho hi\r\n");
    let zip = p.build("zip");
    assert_eq!(zip.len(), 1);
}

#[test]
fn a_bad_signing_key_stops_every_format_before_any_is_written() {
    let p = Project::new(BASE);
    let out = p.packwright(&[
        "build",
        "--format",
        "deb,rpm",
        "--pgp-key",
        "/nonexistent/key.asc",
        "--out",
        p.dist().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--pgp-key"), "{}", stderr(&out));
    assert!(
        !p.dist().exists() || std::fs::read_dir(p.dist()).unwrap().next().is_none(),
        "no .deb may be written either"
    );
    let out = p.packwright(&[
        "build",
        "--format",
        "deb,apk",
        "--rsa-key",
        "/nonexistent/key.pem",
        "--out",
        p.dist().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--rsa-key"), "{}", stderr(&out));
    assert!(
        !p.dist().exists() || std::fs::read_dir(p.dist()).unwrap().next().is_none(),
        "no .deb may be written either"
    );
}

#[test]
fn format_arch_overrides_the_package_arch_for_that_format_only() {
    let p = Project::new(&with("[format.zip]\narch = \"all\"\n"));
    let out = crate::common::stdout(&crate::common::run(
        &mut p.cmd(&["check", "--format", "deb,zip"]),
    ));
    assert!(out.contains("demo_1.0.0-1_amd64.deb"), "{out}");
    assert!(out.contains("demo-1.0.0-windows-all.zip"), "{out}");
    let err = fails(&with("[format.deb]\narch = \"sparc\"\n"), |_| {});
    expect(
        &err,
        "8:8",
        "format.deb.arch",
        "unknown architecture `sparc`",
    );
}

#[test]
fn a_hook_for_another_architecture_is_refused() {
    let m = format!(
        "{}{CONFIG}[hook]\nbinary = \"h\"\n",
        BASE.replace(
            "license = \"MIT\"\n",
            "license = \"MIT\"\narch = \"aarch64\"\n"
        )
    );
    let err = fails(&m, |p| {
        p.file("config.yaml", "version: 1\n");
        // x86_64: the wrong machine for an aarch64 package.
        p.fake_hook("h");
    });
    expect(&err, "13:10", "hook.binary", "is not built for aarch64");
}

// Preparing: every format is checked whole before any artifact is written.

#[test]
fn a_bad_deb_field_leaves_no_rpm_behind() {
    let m = with("[format.deb.fields]\nX-Foo = \"a\\nb\"\n");
    let err = fails_for(&m, Some("rpm,deb"), |_| {});
    expect(&err, "8:9", "format.deb.fields.X-Foo", "must be one line");
    // `check` refuses what `build` refuses.
    let p = Project::new(&m);
    let out = p.packwright(&["check", "--format", "deb"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("must be one line"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn deb_field_names_cannot_inject_or_repeat_fields() {
    let err = fails(
        &with("[format.deb.fields]\n\"X-A: b\\nDepends\" = \"evil\"\n"),
        |_| {},
    );
    assert!(err.contains("is not a control field name"), "{err}");
    for own in ["Package", "version", "Depends"] {
        let err = fails(
            &with(&format!("[format.deb.fields]\n{own} = \"x\"\n")),
            |_| {},
        );
        assert!(err.contains("is written by packwright"), "{own}: {err}");
    }
}

#[test]
fn an_override_error_points_at_the_override() {
    let m = with("[format.pacman]\nrelease = \"2~x\"\n").replace(
        "license = \"MIT\"\n",
        "license = \"MIT\"\nrelease = \"1~bookworm\"\n",
    );
    let err = fails_for(&m, Some("pacman"), |_| {});
    expect(
        &err,
        "9:11",
        "format.pacman.release",
        "`2~x` is not a pacman pkgrel",
    );
}

#[test]
fn options_a_format_cannot_use_are_refused_with_what_it_accepts() {
    for (table, line, key, words) in [
        (
            "[format.targz]\ncompression = \"zstd\"\n",
            "8:15",
            "format.targz.compression",
            "cannot write `zstd`; it writes gzip",
        ),
        (
            "[format.zip]\ncompression = \"xz\"\n",
            "8:15",
            "format.zip.compression",
            "accepts level, target, arch, hook",
        ),
        (
            "[format.rpm]\nsection = \"net\"\n",
            "8:11",
            "format.rpm.section",
            "[format.rpm] has no use for `section`",
        ),
        (
            "[format.apk]\nfields = { X = \"y\" }\n",
            "8:10",
            "format.apk.fields",
            "[format.apk] accepts release, compression, level, arch, hook",
        ),
        (
            "[format.apk]\ncompression = \"xz\"\n",
            "8:15",
            "format.apk.compression",
            "it writes gzip",
        ),
    ] {
        let err = fails(&with(table), |_| {});
        expect(&err, line, key, words);
    }
}

#[test]
fn strings_in_artifact_names_cannot_leave_the_output_dir() {
    let err = fails_for(
        &with("[format.zip]\ntarget = \"x/../../../evil\"\n"),
        Some("zip"),
        |_| {},
    );
    expect(&err, "8:10", "format.zip.target", "is not a target");
    let err = fails_for(
        &with("[format.targz]\ntarget = \"..\"\n"),
        Some("targz"),
        |_| {},
    );
    assert!(err.contains("format.targz.target"), "{err}");
    let m = BASE.replace("\"1.0.0\"", "\"1.0/../../x\"");
    let err = fails_for(&m, Some("targz"), |_| {});
    expect(&err, "3:11", "package.version", "no whitespace, `/`");
}

#[test]
fn data_dirs_may_not_be_system_dirs_or_overlap() {
    for (dirs, words) in [
        ("\"/\"", "is the root directory"),
        ("\"/etc\"", "is a system directory"),
        ("\"/var/lib\"", "is a system directory"),
        ("\"/usr/share/demo\", \"/usr\"", "is a system directory"),
        (
            "\"/var/lib/demo\", \"/var/lib/demo/db\"",
            "overlaps the data dir `/var/lib/demo`",
        ),
    ] {
        let m = with(&format!(
            "[upgrade]\ndata-dirs = [{dirs}]\npurge-data = true\n"
        ));
        let err = fails(&m, |_| {});
        assert!(err.contains("upgrade.data-dirs["), "{dirs}: {err}");
        assert!(err.contains(words), "{dirs}: {err}");
    }
    let m = with("[[files]]\nsrc = \"bin/demo\"\ndst = \"/var/lib/demo/demo\"\n[upgrade]\ndata-dirs = [\"/var/lib/demo\"]\n[hook]\nbinary = \"h\"\n");
    let err = fails(&m, |p| p.fake_hook("h"));
    assert!(err.contains("inside the data dir `/var/lib/demo`"), "{err}");
}

#[test]
fn user_home_and_shell_cannot_corrupt_passwd() {
    for (k, v) in [
        ("home", "/var/lib/x:0:0"),
        ("shell", "/bin/sh;id"),
        ("home", "/a\\nb"),
    ] {
        let m = with(&format!("[[users]]\nname = \"demo\"\n{k} = \"{v}\"\n"));
        let err = fails(&m, |_| {});
        assert!(err.contains(&format!("users[0].{k}")), "{err}");
        assert!(err.contains("it becomes an /etc/passwd field"), "{err}");
    }
}

#[test]
fn source_names_a_package_cannot_hold_are_refused_naming_the_source() {
    let m = with("[[files]]\nsrc = \"tree\"\ndst = \"/usr/share/demo\"\n");
    let err = fails(&m, |p| {
        p.file("tree/bad\nname", "x");
    });
    expect(&err, "7:1", "files[0]", "contains a newline");
    assert!(err.contains("tree/bad"), "names the source: {err}");
    // (A file system cannot hold such a name: the destination gives it.)
    let long = "n".repeat(256);
    let m = with(&format!(
        "[[files]]\nsrc = \"bin/demo\"\ndst = \"/usr/share/demo/{long}\"\n"
    ));
    let err = fails(&m, |_| {});
    assert!(err.contains("file names are at most 255 bytes"), "{err}");
}

#[test]
fn a_portable_clash_names_both_sources_and_the_way_out() {
    let m = with("[[files]]\nsrc = \"a\"\ndst = \"/usr/bin/x\"\n[[files]]\nsrc = \"b\"\ndst = \"/usr/sbin/x\"\n");
    let err = fails_for(&m, Some("targz"), |p| {
        p.file("a", "1");
        p.file("b", "2");
    });
    expect(&err, "10:1", "files[1]", "`/usr/sbin/x` (files[1], from ");
    assert!(err.contains("`/usr/bin/x` (files[0], from "), "{err}");
    assert!(err.contains("demo-1.0.0/bin/x"), "{err}");
    assert!(err.contains("only = ["), "{err}");
}
