//! Issue #5 for apk. There is no apk-tools on Debian, so the package is
//! read with the strict reader (tests/common/apk_reader.rs) and its scripts
//! are checked for what they must contain; then the scenarios run the
//! scripts exactly as apk runs them, in a busybox scratch root
//! (tests/common/apk_sim.rs): the same outcomes as pacman, including the
//! refused skip of a stop, which apk cannot refuse either.

use crate::common::apk_reader;
use crate::common::imsrv::{self, HOOK};
use crate::common::lifecycle::{self as lc, ready};
use crate::common::root::Manager;

const M: Manager = Manager::Apk;

/// The control scripts of a release, with single quotes dropped so that
/// `--package 'imsrv'` and `--package imsrv` read the same.
fn scripts(version: &str) -> (apk_reader::Apk, Vec<(String, String)>) {
    let b = lc::build(M, version);
    let apk = apk_reader::check(&std::fs::read(&b.file).unwrap(), None)
        .unwrap_or_else(|v| panic!("the strict reader refuses the apk:\n{}", v.join("\n")));
    let s = apk
        .control
        .iter()
        .filter(|e| e.name.starts_with('.'))
        .map(|e| {
            let text = String::from_utf8(e.data.clone()).unwrap();
            (e.name.clone(), text.replace('\'', ""))
        })
        .collect();
    (apk, s)
}

#[test]
fn scripts_are_present_with_the_gate_the_hook_and_the_systemd_guard() {
    let (apk, s) = scripts("3.5.0");
    let get = |name: &str| -> &str {
        s.iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| {
                panic!(
                    "no {name} in the apk; it has {:?}",
                    s.iter().map(|x| &x.0).collect::<Vec<_>>()
                )
            })
    };
    let must = |name: &str, wants: &[&str]| {
        let t = get(name);
        assert!(
            t.starts_with("#!/bin/sh\n"),
            "{name} must start with #!/bin/sh:\n{t}"
        );
        for w in wants {
            assert!(t.contains(w), "{name} must contain `{w}`:\n{t}");
        }
    };
    must(".pre-install", &[]);
    must(".pre-upgrade", &["3.4.0"]);
    must(
        ".post-install",
        &[
            "/usr/lib/imsrv/packwright-hook install --package imsrv",
            "/run/systemd/system",
            "systemctl enable imsrv.service",
            "systemctl start imsrv.service",
            "/var/log/imsrv-events",
        ],
    );
    must(
        ".post-upgrade",
        &[
            "/usr/lib/imsrv/packwright-hook upgrade --package imsrv",
            "/run/systemd/system",
            "systemctl try-restart imsrv.service",
            // apk cannot abort: the post step applies the gate again.
            "3.4.0",
            "/var/lib/packwright/imsrv/blocked",
        ],
    );
    must(
        ".pre-deinstall",
        &[
            "/run/systemd/system",
            "systemctl stop imsrv.service",
            "systemctl disable imsrv.service",
        ],
    );
    must(
        ".post-deinstall",
        &["/run/systemd/system", "systemctl daemon-reload"],
    );
    // What the package carries: the hook, the defaults, the description,
    // the unit, the sysusers file, and nothing under /etc.
    let hook = apk.file(HOOK).expect("the hook is in the package");
    assert_eq!(hook.mode & 0o7777, 0o755);
    for p in [
        "/usr/share/imsrv/defaults/config.yaml",
        "/usr/share/imsrv/defaults/imsrv.env",
        "/usr/share/imsrv/packwright/package.json",
        "/usr/lib/systemd/system/imsrv.service",
        "/usr/lib/sysusers.d/imsrv.conf",
    ] {
        assert!(apk.file(p).is_some(), "{p} missing from the apk");
    }
    assert_eq!(
        apk.file("/usr/share/imsrv/defaults/config.yaml")
            .unwrap()
            .data,
        imsrv::config_default("3.5.0").into_bytes()
    );
    let etc: Vec<&str> = apk
        .data
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| n.starts_with("etc/"))
        .collect();
    assert!(etc.is_empty(), "nothing under /etc: {etc:?}");
}

#[test]
fn install_edit_upgrade_merges_and_restarts_once() {
    if ready(M) {
        lc::install_edit_upgrade(M);
    }
}

#[test]
fn skipping_a_stop_installs_but_changes_nothing_and_check_refuses() {
    if ready(M) {
        lc::skip_blocked_after_install(M);
    }
}

#[test]
fn remove_keeps_config_and_data() {
    if ready(M) {
        lc::remove_keeps_config_and_data(M);
    }
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
