//! The issue #5 scenarios, written once for every manager: the deb, rpm,
//! pacman and apk test files call these with their `Manager`.
//!
//! What "systemd running" means here: `<root>/run/systemd/system` exists
//! and `systemctl` is the recorder of `root.rs`; the assertions read the
//! calls it recorded, options dropped.
#![allow(dead_code)]

use super::imsrv::{self, Built, CONFIG, DATA, ENV, EVENTS, HOOK, NAME, STATE, UNIT, UNIT_PATH};
use super::root::{Manager, Ran, Root};
use super::tool;

/// Whether everything a scenario for `mgr` needs is here (else SKIPPED, or
/// a failure under CI / PACKWRIGHT_REQUIRE_TOOLS=1).
pub fn ready(mgr: Manager) -> bool {
    let needs: &[&str] = match mgr {
        Manager::Dpkg => &["dpkg", "dpkg-query"],
        Manager::Rpm => &["rpm"],
        Manager::Pacman => &["pacman"],
        Manager::Apk => &[],
    };
    needs.iter().all(|t| tool(t)) && tool("busybox") && tool("chroot") && super::root::privileged()
}

/// The packwright format name of a manager.
pub fn format(mgr: Manager) -> &'static str {
    match mgr {
        Manager::Dpkg => "deb",
        Manager::Rpm => "rpm",
        Manager::Pacman => "pacman",
        Manager::Apk => "apk",
    }
}

/// A release's version as the manager reports it.
pub fn full(mgr: Manager, upstream: &str) -> String {
    match mgr {
        Manager::Apk => format!("{upstream}-r1"),
        _ => format!("{upstream}-1"),
    }
}

pub fn build(mgr: Manager, version: &str) -> Built {
    imsrv::build(version, format(mgr))
}

/// A root with "systemd running".
pub fn root(mgr: Manager) -> Root {
    let r = Root::new(mgr);
    r.systemd_running(true);
    r
}

/// A manager run that must have worked, including what the managers do
/// not count as failures: pacman exits 0 after a failed scriptlet (it
/// prints `error:`), rpm after a failed %post/%posttrans (a warning).
pub fn clean(mgr: Manager, ran: Ran) -> Ran {
    let ran = ran.ok();
    let bad = match mgr {
        Manager::Pacman => ran.text.contains("error:"),
        Manager::Rpm => ran.text.contains("scriptlet failed"),
        _ => false,
    };
    assert!(
        !bad,
        "a script failed although the manager succeeded:\n{}",
        ran.text
    );
    ran
}

/// The user steps' log: `event|old|new` lines.
pub fn events(r: &Root) -> Vec<String> {
    std::fs::read_to_string(r.at(EVENTS))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// One line of the user steps' log: `event|old|new`, the versions as the
/// manager spells them ("3.4.0-1", apk "3.4.0-r1"); "" for none.
pub fn ev(mgr: Manager, event: &str, old: &str, new: &str) -> String {
    let v = |x: &str| {
        if x.is_empty() {
            String::new()
        } else {
            full(mgr, x)
        }
    };
    format!("{event}|{}|{}", v(old), v(new))
}

/// `packwright-hook check --package imsrv`, run in the root as systemd's
/// ExecStartPre would.
pub fn check(r: &Root) -> Ran {
    r.chroot(&[HOOK, "check", "--package", NAME])
}

fn state_version(r: &Root) -> String {
    r.read(&format!("{STATE}/version")).trim().to_string()
}

/// Everything a fresh install of `version` (systemd running) leaves.
pub fn assert_fresh_install(r: &Root, version: &str, out: &Ran) {
    let mgr = r.mgr;
    assert_eq!(
        r.installed(NAME).as_deref(),
        Some(full(mgr, version).as_str())
    );

    // The system user and group, from the root's own files.
    let group = r
        .entry("group", NAME)
        .unwrap_or_else(|| panic!("no imsrv group:\n{}\n{}", r.read("etc/group"), out.text));
    let user = r
        .entry("passwd", NAME)
        .unwrap_or_else(|| panic!("no imsrv user:\n{}\n{}", r.read("etc/passwd"), out.text));
    let u: Vec<&str> = user.split(':').collect();
    let gid = r.gid(NAME);
    assert_eq!(
        u[3].parse::<u32>().unwrap(),
        gid,
        "primary group: {user} / {group}"
    );
    assert_eq!(u[5], DATA, "home: {user}");
    assert_eq!(u[6], "/sbin/nologin", "shell: {user}");
    let uid = r.uid(NAME);
    assert!(
        uid > 0 && uid < 1000,
        "a system user has a system uid: {user}"
    );

    assert_eq!(
        r.owner(DATA),
        (uid, gid),
        "{DATA} must belong to imsrv:imsrv"
    );
    assert_eq!(r.mode(DATA), 0o750, "{DATA} mode");

    // The live files, rendered by the hook (not shipped by the package).
    assert_eq!(
        r.read(CONFIG),
        imsrv::config_default(version),
        "rendered {CONFIG}"
    );
    assert_eq!(r.mode(CONFIG), 0o640, "{CONFIG} mode");
    assert_eq!(r.owner(CONFIG), (0, gid), "{CONFIG} is root:imsrv");
    assert_eq!(r.read(ENV), imsrv::env_default(version), "rendered {ENV}");
    assert_eq!(r.mode(ENV), 0o600, "{ENV} mode");
    assert_eq!(r.owner(ENV), (0, 0), "{ENV} is root:root");

    // What the package ships for the hook and systemd.
    assert_eq!(r.mode(HOOK), 0o755, "{HOOK} mode");
    assert_eq!(
        r.bytes(HOOK),
        std::fs::read(super::root::static_hook()).unwrap(),
        "{HOOK}"
    );
    for (default, text) in [
        ("config.yaml", imsrv::config_default(version)),
        ("imsrv.env", imsrv::env_default(version)),
    ] {
        let p = format!("/usr/share/imsrv/defaults/{default}");
        assert_eq!(r.read(&p), text, "{p}");
        assert_eq!(r.mode(&p), 0o644, "{p} mode");
    }
    let desc: serde_json::Value =
        serde_json::from_str(&r.read("/usr/share/imsrv/packwright/package.json"))
            .expect("package.json is JSON");
    assert_eq!(desc["package"], NAME, "{desc}");
    assert_eq!(r.read(UNIT_PATH), imsrv::UNIT_TEXT, "{UNIT_PATH}");
    // packwright's drop-in: the env config, and the check with full
    // privileges (`+`), so the admin's 0600 config does not stop it.
    let drop_in = r.read(&format!("{UNIT_PATH}.d/packwright.conf"));
    for want in [
        "[Service]\n",
        "\nEnvironmentFile=-/etc/imsrv/imsrv.env\n",
        "\nExecStartPre=+/usr/lib/imsrv/packwright-hook check --package imsrv\n",
    ] {
        assert!(
            drop_in.contains(want),
            "the drop-in lacks {want:?}:\n{drop_in}"
        );
    }
    assert!(
        r.exists("/usr/lib/sysusers.d/imsrv.conf"),
        "sysusers.d file"
    );
    let owned = r.owned_files(NAME);
    assert!(
        owned.iter().any(|p| p == HOOK),
        "{HOOK} not owned: {owned:?}"
    );
    let etc: Vec<&String> = owned.iter().filter(|p| p.starts_with("/etc/")).collect();
    assert!(
        etc.is_empty(),
        "the package must ship nothing under /etc: {etc:?}"
    );

    assert_eq!(state_version(r), version, "{STATE}/version");
    assert_eq!(
        r.systemctl_actions(),
        [
            "daemon-reload",
            "enable imsrv.service",
            "start imsrv.service"
        ],
        "systemctl calls of the install; whole log: {:?}\n{}",
        r.systemctl_log(),
        out.text
    );
    let ok = check(r);
    assert_eq!(ok.code, Some(0), "check after the install:\n{}", ok.text);
}

/// The admin changes the port (with a comment), makes config.yaml 0600 and
/// sets a variable by hand in the env file.
pub fn admin_edits(r: &Root) {
    use std::os::unix::fs::PermissionsExt;
    r.write(CONFIG, imsrv::CONFIG_34_EDITED);
    std::fs::set_permissions(r.at(CONFIG), std::fs::Permissions::from_mode(0o600)).unwrap();
    r.write(ENV, &imsrv::env_34_edited());
}

/// (1) install 3.4.0 → the admin edits → upgrade to 3.5.0.
pub fn install_edit_upgrade(mgr: Manager) {
    let (v34, v35) = (build(mgr, "3.4.0"), build(mgr, "3.5.0"));
    let r = root(mgr);
    let out = clean(mgr, r.install(&v34.file));
    assert_fresh_install(&r, "3.4.0", &out);
    assert_eq!(
        events(&r),
        [ev(mgr, "post-install", "", "3.4.0")],
        "the user's post-install step"
    );

    admin_edits(&r);
    let gid = r.gid(NAME);
    r.clear_systemctl_log();
    let out = clean(mgr, r.install(&v35.file));
    assert_eq!(r.installed(NAME), Some(full(mgr, "3.5.0")), "{}", out.text);
    assert_eq!(r.read("/usr/bin/imsrv"), imsrv::program("3.5.0"));
    assert_eq!(
        r.read(CONFIG),
        imsrv::CONFIG_35_MERGED,
        "merged {CONFIG}\n{}",
        out.text
    );
    assert_eq!(
        r.mode(CONFIG),
        0o600,
        "the admin's mode of {CONFIG} is kept"
    );
    assert_eq!(r.owner(CONFIG), (0, gid), "{CONFIG} owner");
    assert_eq!(
        r.read(ENV),
        imsrv::env_35_merged(),
        "merged {ENV}\n{}",
        out.text
    );
    assert_eq!(r.mode(ENV), 0o600, "{ENV} mode");
    for leftover in [
        ".packwright-new",
        ".dpkg-dist",
        ".rpmnew",
        ".pacnew",
        ".apk-new",
    ] {
        let p = format!("{CONFIG}{leftover}");
        assert!(!r.exists(&p), "{p} must not exist: nothing conflicted");
    }
    assert_eq!(
        r.systemctl_actions(),
        ["daemon-reload", "try-restart imsrv.service"],
        "systemctl calls of the upgrade (one restart; nothing from the old package's \
         removal scripts); whole log: {:?}\n{}",
        r.systemctl_log(),
        out.text
    );
    assert_eq!(state_version(&r), "3.5.0", "{STATE}/version");
    // rpm gives scriptlets no versions: the user's step gets the upstream
    // version packwright recorded (src/lifecycle/rpm.rs), the other
    // managers the old package's full version.
    let upgrade = if mgr == Manager::Rpm {
        format!("post-upgrade|3.4.0|{}", full(mgr, "3.5.0"))
    } else {
        ev(mgr, "post-upgrade", "3.4.0", "3.5.0")
    };
    assert_eq!(
        events(&r),
        [ev(mgr, "post-install", "", "3.4.0"), upgrade],
        "the user's steps: post-upgrade once, no removal step of the old package\n{}",
        out.text
    );
    let ok = check(&r);
    assert_eq!(ok.code, Some(0), "check after the upgrade:\n{}", ok.text);
    assert!(!r.exists(&format!("{STATE}/blocked")));
}

/// The refusal names the old and new versions and the stop to install first.
fn assert_refusal_message(text: &str) {
    for want in ["3.3.0", "3.5.0", "3.4.0"] {
        assert!(text.contains(want), "the refusal must name {want}:\n{text}");
    }
}

/// (2) install 3.3.0 → upgrade to 3.5.0 skips the 3.4.0 stop.
/// deb and rpm refuse before anything changes; then 3.4.0 and 3.5.0 work.
pub fn skip_refused_before_anything_changes(mgr: Manager) {
    let (v33, v34, v35) = (
        build(mgr, "3.3.0"),
        build(mgr, "3.4.0"),
        build(mgr, "3.5.0"),
    );
    let r = root(mgr);
    clean(mgr, r.install(&v33.file));
    let (config, program) = (r.bytes(CONFIG), r.bytes("/usr/bin/imsrv"));
    r.clear_systemctl_log();

    let out = r.install(&v35.file).failed();
    assert_refusal_message(&out.text);
    assert_eq!(r.installed(NAME), Some(full(mgr, "3.3.0")), "{}", out.text);
    assert!(
        r.bytes(CONFIG) == config,
        "{CONFIG} changed:\n{}",
        r.read(CONFIG)
    );
    assert!(
        r.bytes("/usr/bin/imsrv") == program,
        "/usr/bin/imsrv changed"
    );
    assert_eq!(
        r.read("/usr/share/imsrv/defaults/config.yaml"),
        imsrv::config_default("3.3.0")
    );
    assert_eq!(r.systemctl_actions(), Vec::<String>::new(), "{}", out.text);
    assert_eq!(state_version(&r), "3.3.0");
    assert_eq!(
        events(&r),
        [ev(mgr, "post-install", "", "3.3.0")],
        "{}",
        out.text
    );

    // The way the message points to works.
    clean(mgr, r.install(&v34.file));
    assert_eq!(r.read(CONFIG), imsrv::config_default("3.4.0"));
    clean(mgr, r.install(&v35.file));
    assert_eq!(r.read(CONFIG), imsrv::config_default("3.5.0"));
    assert_eq!(state_version(&r), "3.5.0");
}

/// (2) pacman and apk cannot abort: the files land, nothing else changes,
/// `check` refuses to start, and installing 3.4.0 recovers.
pub fn skip_blocked_after_install(mgr: Manager) {
    let (v33, v34, v35) = (
        build(mgr, "3.3.0"),
        build(mgr, "3.4.0"),
        build(mgr, "3.5.0"),
    );
    let r = root(mgr);
    clean(mgr, r.install(&v33.file));
    let config = r.bytes(CONFIG);
    r.clear_systemctl_log();

    let out = r.install(&v35.file);
    if mgr == Manager::Pacman {
        // pacman reports the failed pre_upgrade and exits 0 all the same.
        assert!(
            out.ok,
            "pacman exits 0 even when pre_upgrade fails:\n{}",
            out.text
        );
    }
    assert_refusal_message(&out.text);
    assert_eq!(
        r.installed(NAME),
        Some(full(mgr, "3.5.0")),
        "the manager installs anyway"
    );
    assert!(
        r.bytes(CONFIG) == config,
        "{CONFIG} must stay as 3.3.0 left it:\n{}\n{}",
        r.read(CONFIG),
        out.text
    );
    let restarts: Vec<String> = r
        .systemctl_actions()
        .into_iter()
        .filter(|a| a != "daemon-reload")
        .collect();
    assert!(
        restarts.is_empty(),
        "no unit may be touched: {restarts:?}\n{}",
        out.text
    );
    assert_eq!(
        state_version(&r),
        "3.3.0",
        "the machine still belongs to 3.3.0"
    );
    let blocked = format!("{STATE}/blocked");
    assert!(r.exists(&blocked), "{blocked} missing\n{}", out.text);
    assert_refusal_message(&r.read(&blocked));
    assert!(
        !events(&r).iter().any(|e| e.starts_with("post-upgrade")),
        "the user's post-upgrade step must not run on a refused path: {:?}",
        events(&r)
    );
    let c = check(&r);
    assert_eq!(
        c.code,
        Some(5),
        "check must refuse to start imsrv:\n{}",
        c.text
    );

    // Recovery: the stop the message names.
    r.clear_systemctl_log();
    let out = clean(mgr, r.install(&v34.file));
    assert_eq!(r.installed(NAME), Some(full(mgr, "3.4.0")));
    assert!(
        !r.exists(&blocked),
        "installing 3.4.0 clears the block\n{}",
        out.text
    );
    assert_eq!(
        r.read(CONFIG),
        imsrv::config_default("3.4.0"),
        "{}",
        out.text
    );
    assert_eq!(state_version(&r), "3.4.0");
    let c = check(&r);
    assert_eq!(c.code, Some(0), "check after the recovery:\n{}", c.text);
    assert!(
        r.systemctl_actions()
            .contains(&"try-restart imsrv.service".to_string()),
        "{:?}",
        r.systemctl_log()
    );

    clean(mgr, r.install(&v35.file));
    assert_eq!(r.read(CONFIG), imsrv::config_default("3.5.0"));
    assert_eq!(state_version(&r), "3.5.0");
    assert_eq!(check(&r).code, Some(0));
}

/// (3) removal stops and disables, keeps the live config and the data.
/// Returns the root for the deb purge.
pub fn remove_keeps_config_and_data(mgr: Manager) -> (Root, Built) {
    let v34 = build(mgr, "3.4.0");
    let r = root(mgr);
    clean(mgr, r.install(&v34.file));
    r.write(&format!("{DATA}/messages.db"), "precious\n");
    let (config, env) = (r.read(CONFIG), r.read(ENV));
    r.clear_systemctl_log();

    let out = clean(mgr, r.remove(NAME));
    assert_eq!(r.installed(NAME), None, "{}", out.text);
    assert!(!r.exists("/usr/bin/imsrv"));
    assert!(!r.exists(HOOK), "{HOOK} goes with the package");
    assert_eq!(r.read(CONFIG), config, "the live config stays");
    assert_eq!(r.read(ENV), env, "the env file stays");
    assert_eq!(
        r.read(&format!("{DATA}/messages.db")),
        "precious\n",
        "data stays"
    );
    assert_eq!(
        r.systemctl_actions(),
        [
            "stop imsrv.service",
            "disable imsrv.service",
            "daemon-reload"
        ],
        "{}",
        out.text
    );
    let log = events(&r);
    assert_eq!(
        log[1..],
        [
            ev(mgr, "pre-remove", "3.4.0", ""),
            ev(mgr, "post-remove", "3.4.0", "")
        ],
        "{}",
        out.text
    );
    (r, v34)
}

/// (5) A masked unit is never enabled, started or restarted; a disabled
/// one is not enabled again.
pub fn masked_and_disabled_units_stay_so(mgr: Manager) {
    let (v34, v35) = (build(mgr, "3.4.0"), build(mgr, "3.5.0"));
    for state in ["masked", "disabled"] {
        let r = root(mgr);
        clean(mgr, r.install(&v34.file));
        r.unit_state(UNIT, state);
        r.clear_systemctl_log();
        let out = clean(mgr, r.install(&v35.file));
        let acts = r.systemctl_actions();
        assert!(
            !acts.iter().any(|a| a.starts_with("enable")),
            "a {state} unit must not be enabled on upgrade: {acts:?}\n{}",
            out.text
        );
        if state == "masked" {
            assert!(
                !acts
                    .iter()
                    .any(|a| a.contains("restart") || a.starts_with("start")),
                "a masked unit must not be (re)started: {acts:?}\n{}",
                out.text
            );
        }
        // The upgrade itself happened.
        assert_eq!(r.read(CONFIG), imsrv::config_default("3.5.0"));
    }
    // Masked before the first install: not enabled, not started.
    let r = root(mgr);
    r.unit_state(UNIT, "masked");
    let out = clean(mgr, r.install(&v34.file));
    let acts = r.systemctl_actions();
    assert!(
        !acts
            .iter()
            .any(|a| a.starts_with("enable") || a.starts_with("start")),
        "a masked unit must not be enabled or started on install: {acts:?}\n{}",
        out.text
    );
}

/// (6) Without `/run/systemd/system` no systemctl runs at all, and the
/// output says why.
pub fn no_systemd_no_systemctl(mgr: Manager) {
    let (v34, v35) = (build(mgr, "3.4.0"), build(mgr, "3.5.0"));
    let r = Root::new(mgr);
    for (what, out) in [
        ("install", clean(mgr, r.install(&v34.file))),
        ("upgrade", clean(mgr, r.install(&v35.file))),
        ("remove", clean(mgr, r.remove(NAME))),
    ] {
        assert_eq!(
            r.systemctl_log(),
            Vec::<String>::new(),
            "{what}: systemctl must not run without systemd\n{}",
            out.text
        );
        assert!(
            out.text.contains("systemd is not running"),
            "{what}: the output must say that systemd is not running:\n{}",
            out.text
        );
    }
    // The rest of the install happened all the same.
    assert_eq!(r.read(CONFIG), imsrv::config_default("3.5.0"));
}

/// The machine's config and data still belong to 3.3.0 after 3.3.0 is
/// removed: a fresh install of 3.5.0 skips the 3.4.0 stop all the same.
/// deb and rpm refuse it; pacman and apk install it and block.
pub fn skip_after_removal_is_refused_too(mgr: Manager) {
    let (v33, v35) = (build(mgr, "3.3.0"), build(mgr, "3.5.0"));
    let r = root(mgr);
    clean(mgr, r.install(&v33.file));
    clean(mgr, r.remove(NAME));
    let config = r.bytes(CONFIG);
    r.clear_systemctl_log();

    let out = r.install(&v35.file);
    assert_refusal_message(&out.text);
    assert!(
        r.bytes(CONFIG) == config,
        "{CONFIG} changed:\n{}",
        r.read(CONFIG)
    );
    assert_eq!(state_version(&r), "3.3.0");
    let acts = r.systemctl_actions();
    assert!(
        !acts
            .iter()
            .any(|a| a.starts_with("enable") || a.starts_with("start")),
        "nothing may be enabled or started: {acts:?}\n{}",
        out.text
    );
    match mgr {
        Manager::Dpkg | Manager::Rpm => {
            assert!(!out.ok, "the install must fail:\n{}", out.text);
            assert_eq!(r.installed(NAME), None, "{}", out.text);
            assert!(!r.exists("/usr/bin/imsrv"), "no file of 3.5.0 may land");
        }
        Manager::Pacman | Manager::Apk => {
            assert!(r.exists(&format!("{STATE}/blocked")), "{}", out.text);
            assert_eq!(check(&r).code, Some(5), "check must refuse to start imsrv");
        }
    }
}
