//! Issue #5 with the real dpkg in a scratch root: install, the admin's
//! edits, upgrade, the refused skip of a stop, removal and purge, a failing
//! hook that leaves the package half-configured, masked units, no systemd.
//! The scenarios shared with rpm, pacman and apk are in
//! tests/common/lifecycle.rs.

use crate::common::imsrv::{self, CONFIG, DATA, ENV, NAME, STATE};
use crate::common::lifecycle::{self as lc, clean, events, ready};
use crate::common::root::Manager;

const M: Manager = Manager::Dpkg;

#[test]
fn install_edit_upgrade_merges_and_restarts_once() {
    if ready(M) {
        lc::install_edit_upgrade(M);
    }
}

#[test]
fn skipping_a_stop_is_refused_before_anything_changes() {
    if ready(M) {
        lc::skip_refused_before_anything_changes(M);
    }
}

#[test]
fn remove_keeps_config_and_data_and_purge_removes_config_and_state() {
    if !ready(M) {
        return;
    }
    let (r, _v34) = lc::remove_keeps_config_and_data(M);
    // dpkg keeps the package in config-files state until the purge.
    let st = r.run(&["--status", NAME]).ok();
    assert!(
        st.out.contains("Status: deinstall ok config-files"),
        "{}",
        st.text
    );

    r.clear_systemctl_log();
    let out = clean(M, r.run(&["--purge", NAME]));
    for gone in [
        CONFIG.to_string(),
        ENV.to_string(),
        format!("{CONFIG}.packwright-new"),
        format!("{CONFIG}.packwright-old"),
        STATE.to_string(),
    ] {
        assert!(
            !r.exists(&gone),
            "{gone} must be gone after the purge\n{}",
            out.text
        );
    }
    assert!(
        !r.exists("/etc/imsrv"),
        "the config directory the hook made goes with its files"
    );
    assert!(
        r.exists(DATA),
        "the data directory stays unless the manifest says"
    );
    assert_eq!(r.read(&format!("{DATA}/messages.db")), "precious\n");
    assert_eq!(
        events(&r).last().map(String::as_str),
        Some(lc::ev(M, "purge", "3.4.0", "").as_str())
    );
    assert!(r
        .run(&["--status", NAME])
        .failed()
        .text
        .contains("not installed"));
    assert_eq!(
        r.systemctl_actions(),
        Vec::<String>::new(),
        "purge after remove has no unit left to touch"
    );
}

/// `line:col` right after `path:` somewhere in `text`.
fn names_line_and_column(text: &str, path: &str) -> bool {
    text.match_indices(&format!("{path}:")).any(|(i, m)| {
        let rest = &text[i + m.len()..];
        let mut parts = rest.splitn(3, ':');
        let (l, c) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_digit())
            && !c.is_empty()
            && c.bytes().all(|b| b.is_ascii_digit())
    })
}

fn status(r: &crate::common::root::Root) -> String {
    let q = std::process::Command::new("dpkg-query")
        .arg(format!("--root={}", r.path().display()))
        .args(["-W", "-f=${Status}", NAME])
        .output()
        .unwrap();
    crate::common::stdout(&q)
}

/// A malformed live config makes the hook fail: dpkg leaves the package
/// half-configured with a message naming the file, line and column, the
/// file is untouched, and `dpkg --configure -a` completes once it is fixed.
#[test]
fn a_failing_hook_leaves_the_package_half_configured_until_fixed() {
    if !ready(M) {
        return;
    }
    let (v34, v35) = (lc::build(M, "3.4.0"), lc::build(M, "3.5.0"));
    let r = lc::root(M);
    clean(M, r.install(&v34.file));
    let broken =
        "# imsrv configuration\nversion: \"3.4.0\"\n# listen port\nport: [12000\nlog_level: info\n";
    r.write(CONFIG, broken);
    r.clear_systemctl_log();

    let out = r.install(&v35.file).failed();
    assert_eq!(status(&r), "install ok half-configured", "{}", out.text);
    assert!(
        names_line_and_column(&out.text, CONFIG),
        "the error must name {CONFIG}:LINE:COL:\n{}",
        out.text
    );
    assert_eq!(
        r.read(CONFIG),
        broken,
        "the malformed file is never rewritten"
    );
    let acts = r.systemctl_actions();
    assert!(
        !acts
            .iter()
            .any(|a| a.contains("restart") || a.starts_with("start")),
        "nothing may restart on a failed configure: {acts:?}"
    );
    assert_eq!(
        lc::events(&r),
        [lc::ev(M, "post-install", "", "3.4.0")],
        "no post-upgrade step yet"
    );

    // The admin fixes the file (the edit they meant) and retries.
    r.write(CONFIG, imsrv::CONFIG_34_EDITED);
    let out = clean(M, r.run(&["--configure", "-a"]));
    assert_eq!(status(&r), "install ok installed", "{}", out.text);
    assert_eq!(r.read(CONFIG), imsrv::CONFIG_35_MERGED, "{}", out.text);
    assert_eq!(r.read(&format!("{STATE}/version")), "3.5.0\n");
    assert_eq!(
        r.systemctl_actions(),
        ["daemon-reload", "try-restart imsrv.service"],
        "{}",
        out.text
    );
    assert_eq!(
        lc::events(&r),
        [
            lc::ev(M, "post-install", "", "3.4.0"),
            lc::ev(M, "post-upgrade", "3.4.0", "3.5.0")
        ]
    );
    assert_eq!(lc::check(&r).code, Some(0));
}

#[test]
fn installing_over_a_removed_older_release_applies_the_gate() {
    if ready(M) {
        lc::skip_after_removal_is_refused_too(M);
    }
}

#[test]
fn masked_and_disabled_units_stay_so() {
    if ready(M) {
        lc::masked_and_disabled_units_stay_so(M);
    }
}

#[test]
fn without_systemd_no_systemctl_runs() {
    if ready(M) {
        lc::no_systemd_no_systemctl(M);
    }
}

/// A secret moves from the installing admin's environment into the rendered
/// config without being written into the template (dpkg passes its
/// environment to maintainer scripts), and an upgrade keeps it as the
/// admin's value although the new default still says `${IMSRV_DB_PASSWORD}`.
#[test]
fn a_secret_from_the_environment_is_rendered_at_install_and_kept_on_upgrade() {
    if !ready(M) {
        return;
    }
    let with_secret = |version: &str| {
        let p = imsrv::project(version);
        let text = imsrv::config_default(version)
            + "# the database password (from the environment at install)\ndb_password: \"${IMSRV_DB_PASSWORD}\"\n";
        p.file("config/config.yaml", &text);
        let file = p.build("deb").remove(0);
        (p, file)
    };
    let (_p34, f34) = with_secret("3.4.0");
    let (_p35, f35) = with_secret("3.5.0");
    let r = lc::root(M);
    let mut c = r.manager(&["-i", f34.to_str().unwrap()]);
    c.env("IMSRV_DB_PASSWORD", "s3cret-from-env");
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = r.read(CONFIG);
    assert!(live.contains("db_password: \"s3cret-from-env\""), "{live}");
    let default = r.read("usr/share/imsrv/defaults/config.yaml");
    assert!(
        default.contains("${IMSRV_DB_PASSWORD}") && !default.contains("s3cret"),
        "{default}"
    );
    // The upgrade runs without the variable: the rendered value stays.
    clean(M, r.install(&f35));
    let live = r.read(CONFIG);
    assert!(live.contains("db_password: \"s3cret-from-env\""), "{live}");
    assert!(live.contains("version: \"3.5.0\""), "{live}");
}

/// The same install and upgrade with dash as /bin/sh, the shell Debian and
/// Ubuntu run maintainer scripts with (the other tests use busybox sh).
#[test]
fn install_and_upgrade_run_under_dash() {
    if !ready(M) || !crate::common::tool("dash") {
        return;
    }
    let v34 = lc::build(M, "3.4.0");
    let v35 = lc::build(M, "3.5.0");
    let r = lc::root(M);
    r.use_dash();
    clean(M, r.install(&v34.file));
    assert!(r.read(CONFIG).contains("version: \"3.4.0\""));
    r.clear_systemctl_log();
    clean(M, r.install(&v35.file));
    assert!(r.read(CONFIG).contains("version: \"3.5.0\""));
    assert_eq!(
        r.systemctl_actions(),
        ["daemon-reload", "try-restart imsrv.service"]
    );
    assert_eq!(r.read(&format!("{STATE}/version")), "3.5.0\n");
    assert_eq!(
        events(&r),
        [
            lc::ev(M, "post-install", "", "3.4.0"),
            lc::ev(M, "post-upgrade", "3.4.0", "3.5.0")
        ]
    );
    // The refused skip under dash too.
    let v33 = lc::build(M, "3.3.0");
    let r = lc::root(M);
    r.use_dash();
    clean(M, r.install(&v33.file));
    let out = r.install(&v35.file).failed();
    assert!(
        out.text.contains("Install imsrv 3.4.0 first")
            && out
                .text
                .contains("From a repository: apt install imsrv=3.4.0-1."),
        "{}",
        out.text
    );
}

/// A package of a complete manifest — configs, a user, a unit, stops, a
/// data dir, a migration and the static hook — draws nothing from
/// `lintian --pedantic`: the generated scripts use Debian's systemd helpers,
/// and the hook's two static-binary findings are overridden with reasons.
#[test]
fn a_complete_manifest_is_lintian_clean() {
    if !crate::common::tool("lintian") {
        return;
    }
    let manifest = format!(
        r#"[package]
name = "imsrv"
version = "3.5.0"
summary = "instant messaging server"
description = """
imsrv is a self-hosted instant messaging server. This package carries its
configuration defaults, a system user, a systemd unit and the data
migrations between releases."""
maintainer = "IM Team <ops@example.org>"
homepage = "https://example.org/imsrv"
license = "Apache-2.0"

[[files]]
src = "bin/imsrv"
dst = "/usr/bin/imsrv"

[[files]]
src = "man/imsrv.1"
dst = "/usr/share/man/man1/imsrv.1"

[[dirs]]
path = "/var/lib/imsrv"
owner = "imsrv"
group = "imsrv"

[[config]]
src = "config/config.yaml"
dst = "/etc/imsrv/config.yaml"
version-key = "version"
mode = "0640"
group = "imsrv"

[[config]]
src = "config/imsrv.env"
dst = "/etc/imsrv/imsrv.env"
mode = "0600"

[[users]]
name = "imsrv"
home = "/var/lib/imsrv"

[[systemd]]
unit = "systemd/imsrv.service"

[upgrade]
stops = ["3.4.0", "3.5.0"]
data-dirs = ["/var/lib/imsrv"]

[[migrations]]
version = "3.5.0"
run = "migrations/to-mongo.sh"

[hook]
binary = "{}"

[format.deb]
release = "1~bookworm"
section = "net"
"#,
        crate::common::root::static_hook().display()
    );
    let p = crate::common::Project::new(&manifest);
    p.exec("bin/imsrv", "#!/bin/sh\necho imsrv\n");
    p.file(
        "man/imsrv.1",
        ".TH IMSRV 1\n.SH NAME\nimsrv \\- instant messaging server\n.SH SYNOPSIS\n.B imsrv\n.SH DESCRIPTION\nRuns the server.\n",
    );
    p.file("config/config.yaml", &imsrv::config_default("3.5.0"));
    p.file("config/imsrv.env", &imsrv::env_default("3.5.0"));
    p.file(
        "systemd/imsrv.service",
        "[Unit]\nDescription=imsrv instant messaging server\nDocumentation=man:imsrv(1)\n\n\
         [Service]\nType=simple\nUser=imsrv\nExecStart=/usr/bin/imsrv\n\n\
         [Install]\nWantedBy=multi-user.target\n",
    );
    p.exec(
        "migrations/to-mongo.sh",
        "#!/bin/sh\nset -e\necho converted\n",
    );
    let deb = p.build("deb").remove(0);
    let out = std::process::Command::new("lintian")
        .args(["--pedantic", "--tag-display-limit", "0"])
        .arg(&deb)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let findings: Vec<&str> = text
        .lines()
        .filter(|l| l.len() > 2 && l.as_bytes()[1] == b':')
        .collect();
    assert!(findings.is_empty(), "lintian:\n{text}");
}
