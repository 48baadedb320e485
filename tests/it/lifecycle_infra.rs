//! The lifecycle tests' own machinery, checked with a plain package: each
//! manager installs into its scratch root, runs scripts chrooted into it,
//! the systemctl recorder answers and records, the busybox account tools
//! work, and the static hook runs where there is no libc.

use crate::common::lifecycle::{format, ready};
use crate::common::root::{static_hook, Manager, Root};
use crate::common::{demo, stdout};

/// A post-install step that talks to systemctl and creates an account the
/// busybox way, as the generated scripts do in a root without useradd.
const STEP: &str = r#"
[scripts]
post-install = "scripts/step.sh"
pre-remove = "scripts/step.sh"
"#;

const STEP_SH: &str = "echo \"$1|$2|$3\" >> /steps.log\n\
case $1 in\n\
post-install)\n\
  systemctl daemon-reload\n\
  if systemctl is-enabled --quiet demo.service; then echo enabled >> /steps.log; else echo not-enabled >> /steps.log; fi\n\
  systemctl --no-reload enable demo.service\n\
  addgroup -S demo\n\
  adduser -S -D -H -h /var/lib/demo -s /sbin/nologin -G demo -g demo demo\n\
  chown demo:demo /var/lib/demo\n\
  ;;\n\
pre-remove) systemctl stop demo.service ;;\n\
esac\n";

fn each_manager(mgr: Manager) {
    if !ready(mgr) {
        return;
    }
    let p = demo("1.0.0", STEP);
    p.file("scripts/step.sh", STEP_SH);
    let file = p.build(format(mgr)).remove(0);
    let r = Root::new(mgr);
    r.systemd_running(true);
    r.unit_state("demo.service", "masked");
    let out = r.install(&file).ok();
    assert!(!out.text.contains("error:"), "{}", out.text);
    let version = if mgr == Manager::Apk {
        "1.0.0-r1"
    } else {
        "1.0.0-1"
    };
    assert_eq!(
        r.installed("demo").as_deref(),
        Some(version),
        "{}",
        out.text
    );
    let owned = r.owned_files("demo");
    assert!(owned.contains(&"/usr/bin/demo".to_string()), "{owned:?}");
    assert_eq!(
        r.read("steps.log"),
        format!("post-install||{version}\nnot-enabled\n"),
        "{}",
        out.text
    );
    assert_eq!(
        r.systemctl_log(),
        [
            "daemon-reload",
            "is-enabled --quiet demo.service",
            "--no-reload enable demo.service"
        ]
    );
    assert_eq!(
        r.systemctl_actions(),
        ["daemon-reload", "enable demo.service"]
    );

    // The account tools wrote the root's own files; chown resolved them.
    let uid = r.uid("demo");
    let gid = r.gid("demo");
    assert!(
        (100..1000).contains(&uid),
        "{:?}",
        r.entry("passwd", "demo")
    );
    assert_eq!(
        r.entry("passwd", "demo").unwrap(),
        format!("demo:x:{uid}:{gid}:demo:/var/lib/demo:/sbin/nologin")
    );
    assert!(r.entry("shadow", "demo").is_some());
    assert_eq!(r.owner("/var/lib/demo"), (uid, gid));

    r.clear_systemctl_log();
    let out = r.remove("demo").ok();
    assert_eq!(r.installed("demo"), None, "{}", out.text);
    assert_eq!(r.systemctl_actions(), ["stop demo.service"], "{}", out.text);
    assert!(!r.exists("/usr/bin/demo"));
}

#[test]
fn dpkg_root_runs_scripts_with_the_recorder() {
    each_manager(Manager::Dpkg);
}

#[test]
fn rpm_root_runs_scripts_with_the_recorder() {
    each_manager(Manager::Rpm);
}

#[test]
fn pacman_root_runs_scripts_with_the_recorder() {
    each_manager(Manager::Pacman);
}

#[test]
fn apk_simulation_runs_scripts_with_the_recorder() {
    each_manager(Manager::Apk);
}

/// The hook shipped in packages needs no libc: it runs in a root that has
/// only busybox.
#[test]
fn static_hook_runs_in_a_root_without_libc() {
    if !ready(Manager::Apk) {
        return;
    }
    let hook = static_hook();
    let file = stdout(&crate::common::run(
        std::process::Command::new("file").arg(&hook),
    ));
    assert!(
        file.contains("statically linked") || file.contains("static-pie"),
        "{file}"
    );
    let r = Root::new(Manager::Apk);
    std::fs::create_dir_all(r.at("usr/lib/demo")).unwrap();
    std::fs::copy(&hook, r.at("usr/lib/demo/packwright-hook")).unwrap();
    let out = r
        .chroot(&["/usr/lib/demo/packwright-hook", "--version"])
        .ok();
    assert!(out.out.starts_with("packwright-hook "), "{}", out.text);
}

/// is-enabled answers like systemctl: the state's word, exit 1 when
/// disabled or masked.
#[test]
fn the_recorder_answers_is_enabled_like_systemctl() {
    if !ready(Manager::Apk) {
        return;
    }
    let r = Root::new(Manager::Apk);
    let q = |r: &Root| r.chroot(&["/usr/bin/systemctl", "is-enabled", "x.service"]);
    let a = q(&r);
    assert_eq!((a.code, a.out.as_str()), (Some(0), "enabled\n"));
    r.unit_state("x.service", "disabled");
    let a = q(&r);
    assert_eq!((a.code, a.out.as_str()), (Some(1), "disabled\n"));
    r.unit_state("x.service", "masked");
    let a = q(&r);
    assert_eq!((a.code, a.out.as_str()), (Some(1), "masked\n"));
    let a = r.chroot(&["/usr/bin/systemctl", "is-active", "x.service"]);
    assert_eq!((a.code, a.out.as_str()), (Some(0), "active\n"));
    assert_eq!(r.systemctl_actions(), Vec::<String>::new());
    assert_eq!(r.systemctl_log().len(), 4);
}
