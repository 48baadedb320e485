//! Issue #6 through the binary in a test root: the 3.4.0 → 3.5.0 upgrade
//! whose migration converts the data dir, the failing and the hanging
//! migration, the order of several, and restoring a snapshot.

use crate::fixture::*;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

/// Converts every MySQL dump to a "mongo" file and counts its runs.
const CONVERT: &str = r#"set -e
pwd > "$PACKWRIGHT_DATA_DIRS/env.txt"
env | grep '^PACKWRIGHT_' | sort >> "$PACKWRIGHT_DATA_DIRS/env.txt"
cd "$PACKWRIGHT_DATA_DIRS/users"
for f in *.mysql; do sed 's/^/mongo:/' "$f" > "${f%.mysql}.mongo"; rm "$f"; done
echo "$PACKWRIGHT_MIGRATION_VERSION" >> "$PACKWRIGHT_DATA_DIRS/runs.log"
"#;

#[test]
fn upgrade_converts_once_and_the_snapshot_restores_the_tree() {
    if !can_chroot() {
        return;
    }
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    r.install();
    r.seed_data();
    let data = r.at("var/lib/imsrv");
    let xattrs = set_xattr(&data.join("users/bob.mysql"), "user.origin", b"mysql");
    let before = listing(&data, &r.state());

    r.release("3.5.0", CONFIG_V2, &[("3.5.0", CONVERT, None)]);
    let o = r.upgrade("3.4.0", "3.5.0");
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("migration 3.5.0"), "{}", out(&o));
    assert_eq!(read(&data.join("users/alice.mongo")), "mongo:alice\t1\n");
    assert!(!data.join("users/alice.mysql").exists());
    assert_eq!(read(&data.join("runs.log")), "3.5.0\n");
    // The documented environment, with paths as seen inside the root; cwd /.
    let env = read(&data.join("env.txt"));
    for line in [
        "PACKWRIGHT_CONFIGS=/etc/imsrv/config.yaml",
        "PACKWRIGHT_DATA_DIRS=/var/lib/imsrv",
        "PACKWRIGHT_MIGRATION_VERSION=3.5.0",
        "PACKWRIGHT_NEW_VERSION=3.5.0",
        "PACKWRIGHT_OLD_VERSION=3.4.0",
        "PACKWRIGHT_PACKAGE=imsrv",
        "PACKWRIGHT_STATE_DIR=/var/lib/packwright/imsrv",
    ] {
        assert!(env.contains(line), "{line:?} in {env}");
    }
    assert!(env.starts_with("/\n"), "cwd is /: {env}");
    // The config merge ran after the migration.
    assert!(read(&r.live()).contains("version: 2"));

    // Re-running the upgrade, reinstalling or downgrading runs nothing again.
    for (old, new) in [("3.4.0", "3.5.0"), ("3.5.0", "3.5.0"), ("3.5.0", "3.4.0")] {
        let o = r.upgrade(old, new);
        assert!(o.status.success(), "{old}->{new}: {}", err(&o));
        assert_eq!(read(&data.join("runs.log")), "3.5.0\n", "{old}->{new}");
    }
    let o = hook(r.path(), &["migrate", "--package", PKG, "--status"]);
    assert!(
        out(&o).contains("3.5.0 /usr/share/imsrv/migrations/3.5.0/step0.sh: done at 20"),
        "{}",
        out(&o)
    );

    // One snapshot, without packwright's state (which lives inside the data dir).
    let snaps = snapshots(&r.state());
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    let id = snaps[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        id.ends_with("-3.4.0-to-3.5.0") && id.len() == 16 + 15,
        "{id}"
    );
    let names = archive_names(&snaps[0]);
    assert!(
        names.iter().any(|n| n == "var/lib/imsrv/users/alice.mysql"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("packwright")), "{names:?}");
    let sums = read(&snaps[0].join("SHA256SUMS"));
    assert!(sums.contains("  var/lib/imsrv/users/bob.mysql\n"), "{sums}");
    assert_eq!(
        read(&snaps[0].join("config/etc%2Fimsrv%2Fconfig.yaml")),
        CONFIG_V1
    );
    let meta: serde_json::Value = serde_json::from_str(&read(&snaps[0].join("meta.json"))).unwrap();
    assert_eq!(
        (meta["old"].as_str(), meta["new"].as_str()),
        (Some("3.4.0"), Some("3.5.0"))
    );

    // Restore brings back the exact tree and config; the state dir stays.
    fs::write(r.state().join("marker"), "kept").unwrap();
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(listing(&data, &r.state()), before);
    assert_eq!(read(&r.live()), CONFIG_V1);
    assert_eq!(read(&r.state().join("marker")), "kept");
    if xattrs {
        assert_eq!(
            get_xattr(&data.join("users/bob.mysql"), "user.origin").as_deref(),
            Some(&b"mysql"[..])
        );
    } else {
        eprintln!("no user xattrs on this filesystem: xattr round trip not checked");
    }
    assert_eq!(
        snapshots(&r.state()).len(),
        1,
        "the snapshot survives its restore"
    );
    // The sparse file came back without its 64 MiB of zeros on disk.
    let big = fs::metadata(data.join("big.img")).unwrap();
    assert_eq!(big.len(), 64 << 20);
    assert!(
        big.blocks() * 512 < 8 << 20,
        "{} bytes allocated",
        big.blocks() * 512
    );
    let leftovers: Vec<_> = fs::read_dir(r.at("var/lib"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "packwright")
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("imsrv")],
        "no restore temp dir left"
    );
}

#[test]
fn a_failing_migration_leaves_data_and_config_as_they_were() {
    if !can_chroot() {
        return;
    }
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    r.install();
    r.seed_data();
    // The admin's edit and mode.
    fs::write(r.live(), "version: 1\nserver:\n  port: 20002\n").unwrap();
    fs::set_permissions(r.live(), fs::Permissions::from_mode(0o600)).unwrap();
    let data = r.at("var/lib/imsrv");
    let before = listing(&data, &r.state());
    let config = file_state(&r.live());

    // It converts one file, prints 26 lines, then fails.
    let fail = r#"rm "$PACKWRIGHT_DATA_DIRS/users/alice.mysql"
echo half > "$PACKWRIGHT_DATA_DIRS/users/alice.mongo"
for i in $(seq 1 25); do echo "line $i"; done
echo "boom: mysql not reachable" >&2
exit 1
"#;
    r.release("3.5.0", CONFIG_V2, &[("3.5.0", fail, None)]);
    let o = r.upgrade("3.4.0", "3.5.0");
    assert_eq!(o.status.code(), Some(9), "{}", err(&o));
    assert_eq!(listing(&data, &r.state()), before, "data dir rolled back");
    assert_eq!(
        file_state(&r.live()),
        config,
        "config byte-identical, same mode and owner"
    );

    let e = err(&o);
    let snaps = snapshots(&r.state());
    assert_eq!(snaps.len(), 1);
    let id = snaps[0].file_name().unwrap().to_string_lossy().into_owned();
    let log = r.state().join(format!("logs/migration-3.5.0-{id}.log"));
    for want in [
        "upgrade from 3.4.0 to 3.5.0 failed at migration 3.5.0".to_string(),
        "migrations/3.5.0/step0.sh".into(),
        "exit status: 1".into(),
        "| boom: mysql not reachable".into(),
        "| line 7\n".into(),
        format!("log: {}", log.display()),
        format!("snapshot: {}", snaps[0].display()),
        "to retry once the cause is fixed: dpkg --configure -a".into(),
        "install imsrv 3.4.0 again with your package manager".into(),
        format!(
            "packwright-hook --root {} restore --package imsrv --snapshot {id}",
            r.path().display()
        ),
    ] {
        assert!(e.contains(&want), "{want:?} in:\n{e}");
    }
    assert!(!e.contains("| line 6\n"), "only the last 20 lines:\n{e}");
    // The printed go-back command runs as printed.
    let restore = e.lines().find(|l| l.contains("to go back:")).unwrap();
    let restore = &restore[restore.find("packwright-hook ").unwrap() + "packwright-hook ".len()..];
    let argv: Vec<&str> = restore.split_whitespace().collect();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_packwright-hook"))
        .args(&argv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{restore}: {}", err(&o));
    assert_eq!(listing(&data, &r.state()), before);
    assert_eq!(fs::metadata(&log).unwrap().mode() & 0o777, 0o600);
    assert!(read(&log).contains("line 1\n"));
    // Nothing recorded: fixing the cause and retrying runs it again.
    let recorded = fs::read_to_string(r.state().join("migrations.json")).unwrap_or_default();
    assert!(!recorded.contains("3.5.0"), "{recorded}");
    r.release("3.5.0", CONFIG_V2, &[("3.5.0", CONVERT, None)]);
    let o = r.upgrade("3.4.0", "3.5.0");
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(read(&data.join("users/alice.mongo")), "mongo:alice\t1\n");
    assert_eq!(
        read(&r.live()),
        "version: 2\nserver:\n  port: 20002\n  mongo: mongodb://localhost\n"
    );

    // --json carries the same facts for tools.
    let o = hook(
        r.path(),
        &[
            "--json",
            "upgrade",
            "--package",
            PKG,
            "--old",
            "3.5.0",
            "--new",
            "3.6.0",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn migrations_in_old_new_run_in_version_order_once() {
    if !can_chroot() {
        return;
    }
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    r.install();
    fs::create_dir_all(r.at("var/lib/imsrv")).unwrap();
    let step = r#"echo "$PACKWRIGHT_MIGRATION_VERSION" >> /var/lib/imsrv/order.log"#;
    // Manifest order differs from version order; 3.4.0 and 3.6.0 lie outside (3.4.0, 3.5.0].
    r.release(
        "3.5.0",
        CONFIG_V2,
        &[
            ("3.5.0", step, None),
            ("3.6.0", step, None),
            ("3.4.1", step, None),
            ("3.4.0", step, None),
            ("3.5.0~rc1", step, None),
        ],
    );
    let o = r.upgrade("3.4.0", "3.5.0");
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        read(&r.at("var/lib/imsrv/order.log")),
        "3.4.1\n3.5.0~rc1\n3.5.0\n"
    );
    let o = r.upgrade("3.4.0", "3.5.0");
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("no migration to run"), "{}", out(&o));
    assert_eq!(
        read(&r.at("var/lib/imsrv/order.log")),
        "3.4.1\n3.5.0~rc1\n3.5.0\n"
    );
    // Onwards to 3.6.0: only 3.6.0 is new.
    let o = r.upgrade("3.5.0", "3.6.0");
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        read(&r.at("var/lib/imsrv/order.log")),
        "3.4.1\n3.5.0~rc1\n3.5.0\n3.6.0\n"
    );
    // backup_keep = 2: the oldest of three snapshots is gone.
    assert_eq!(snapshots(&r.state()).len(), 2);
    let o = hook(
        r.path(),
        &["--json", "migrate", "--package", PKG, "--status"],
    );
    let st: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let done: Vec<bool> = st
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["done"].as_bool().unwrap())
        .collect();
    assert_eq!(
        done,
        [false, true, true, true, true],
        "3.4.0 never ran: {st}"
    );
    // A fresh install runs none.
    let fresh = Root::new();
    fresh.release("3.5.0", CONFIG_V2, &[("3.5.0", step, None)]);
    let o = hook(
        fresh.path(),
        &["install", "--package", PKG, "--new", "3.5.0"],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(!fresh.at("var/lib/imsrv/order.log").exists());
}

#[test]
fn a_hanging_migration_is_killed_at_its_timeout() {
    if !can_chroot() {
        return;
    }
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    r.install();
    r.seed_data();
    let data = r.at("var/lib/imsrv");
    let before = listing(&data, &r.state());
    let hang = "echo started\nrm -r /var/lib/imsrv/users\nsleep 60 &\nsleep 60\n";
    r.release("3.5.0", CONFIG_V2, &[("3.5.0", hang, Some(1))]);
    let t = std::time::Instant::now();
    let o = r.upgrade("3.4.0", "3.5.0");
    assert!(t.elapsed().as_secs() < 20, "took {:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(9), "{}", err(&o));
    assert!(
        err(&o).contains("killed after the 1 s timeout"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("| started"), "{}", err(&o));
    assert_eq!(listing(&data, &r.state()), before);
}

#[test]
fn check_refuses_a_blocked_package_and_status_says_why() {
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    r.install();
    assert!(hook(r.path(), &["check", "--package", PKG])
        .status
        .success());
    fs::write(
        r.state().join("blocked"),
        "upgrade from 3.3.0 to 3.5.0 skipped the stop 3.4.0\ninstall imsrv 3.4.0 first\n",
    )
    .unwrap();
    let o = hook(r.path(), &["check", "--package", PKG]);
    assert_eq!(o.status.code(), Some(5));
    assert!(
        err(&o).starts_with(
            "packwright-hook: imsrv: upgrade from 3.3.0 to 3.5.0 skipped the stop 3.4.0"
        ),
        "{}",
        err(&o)
    );
    let o = hook(r.path(), &["status", "--package", PKG]);
    assert!(out(&o).contains("imsrv: BLOCKED"), "{}", out(&o));
    let o = hook(r.path(), &["--json", "status"]);
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        s[0]["blocked"]
            .as_str()
            .unwrap()
            .contains("install imsrv 3.4.0 first"),
        "{s}"
    );
    fs::remove_file(r.state().join("blocked")).unwrap();
    assert!(hook(r.path(), &["check", "--package", PKG])
        .status
        .success());
}
