//! Issue #6 item 5: the portable path. The imsrv fixture built as
//! `.tar.gz` for linux-x86_64 with the static hook, 3.4.0 and 3.5.0 (with
//! `[upgrade] data-dirs` and the 3.5.0 migration) unpacked side by side,
//! and the upgrade done by hand as the README describes it:
//! `imsrv-3.4.0/bin/packwright-hook install --desc …`, then
//! `imsrv-3.5.0/bin/packwright-hook upgrade --desc … --old 3.4.0`.
//!
//! The layout the builder gives an unpacked archive (src/plan/lifecycle.rs):
//! defaults in `<dir>/imsrv-<v>/config/`, the description at
//! `imsrv-<v>/packwright/package.json`, migrations in
//! `imsrv-<v>/migrations/<version>/`, the hook at `imsrv-<v>/bin/`, live
//! configs at `<dir>/config/<name>`, data dirs at `<dir>/data/<name>`, and
//! the hook's state at `<dir>/imsrv-state`: all shared by the versions.

use crate::common::imsrv::{self, converted};
use crate::common::migration::listing;
use crate::common::root::static_hook;
use crate::common::{run, stdout, tool};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A release as `.tar.gz` for linux-x86_64 carrying the static hook.
fn targz(version: &str, migration: bool) -> (crate::common::Project, PathBuf) {
    let hook = static_hook();
    let hook = hook.to_str().unwrap();
    let (p, manifest) = if migration {
        (
            imsrv::project_with_migration(version, &imsrv::migration_ok()),
            imsrv::manifest_with_migration(version, hook),
        )
    } else {
        (imsrv::project(version), imsrv::manifest(version, hook))
    };
    p.file(
        "packaging/packwright.toml",
        &format!("{manifest}\n[format.targz]\ntarget = \"linux-x86_64\"\nhook = \"{hook}\"\n"),
    );
    let files = p.build("targz");
    assert_eq!(files.len(), 1, "{files:?}");
    let f = files[0].clone();
    (p, f)
}

/// `imsrv-<v>/bin/packwright-hook ARGS` run in `dir`.
fn hook(dir: &Path, version: &str, args: &[&str]) -> std::process::Output {
    let bin = format!("imsrv-{version}/bin/packwright-hook");
    Command::new(dir.join(&bin))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

fn text(o: &std::process::Output) -> String {
    format!(
        "--- exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        stdout(o),
        crate::common::stderr(o)
    )
}

#[test]
fn an_unpacked_targz_upgrades_by_hand_with_its_migration() {
    if !tool("tar") || !crate::common::root::privileged() {
        return;
    }
    let (_p34, a34) = targz("3.4.0", false);
    let (_p35, a35) = targz("3.5.0", true);
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    for a in [&a34, &a35] {
        run(Command::new("tar").arg("-xzf").arg(a).arg("-C").arg(dir));
    }
    for want in [
        "imsrv-3.4.0/bin/packwright-hook",
        "imsrv-3.4.0/packwright/package.json",
        "imsrv-3.4.0/config/config.yaml",
        "imsrv-3.5.0/migrations/3.5.0/mysql-to-mongo.sh",
    ] {
        assert!(dir.join(want).exists(), "{want} missing from the archive");
    }

    // 3.4.0: render the configs.
    let o = hook(
        dir,
        "3.4.0",
        &["install", "--desc", "imsrv-3.4.0/packwright/package.json"],
    );
    assert!(o.status.success(), "install:\n{}", text(&o));
    let live = dir.join("config/config.yaml");
    assert_eq!(
        std::fs::read_to_string(&live).unwrap_or_default(),
        imsrv::config_default("3.4.0"),
        "the live config of an unpacked install is <dir>/config/config.yaml\n{}",
        text(&o)
    );
    assert!(
        dir.join("imsrv-state").is_dir(),
        "the state dir is <dir>/imsrv-state"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("imsrv-state/version")).unwrap_or_default(),
        "3.4.0\n",
        "install --desc records the version the data belongs to"
    );

    // The admin's edits and the 3.4.0 data.
    std::fs::write(&live, imsrv::CONFIG_34_EDITED).unwrap();
    let data = dir.join("data/imsrv");
    std::fs::create_dir_all(data.join("archive")).unwrap();
    let files = [
        ("messages.mysql", "INSERT (1,'alice','hello');\n"),
        (
            "archive/2023.mysql",
            "-- old\nINSERT (0,'root','archived');\n",
        ),
    ];
    for (f, body) in files {
        std::fs::write(data.join(f), body).unwrap();
    }
    let state = dir.join("imsrv-state");
    let before = listing(&data, &state);

    // 3.5.0 beside it: the upgrade by hand.
    let o = hook(
        dir,
        "3.5.0",
        &[
            "upgrade",
            "--desc",
            "imsrv-3.5.0/packwright/package.json",
            "--old",
            "3.4.0",
        ],
    );
    assert!(o.status.success(), "upgrade:\n{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&live).unwrap(),
        imsrv::CONFIG_35_MERGED,
        "{}",
        text(&o)
    );
    for (f, body) in files {
        let mongo = data.join(f.replace(".mysql", ".mongo"));
        assert_eq!(
            std::fs::read_to_string(&mongo).unwrap_or_default(),
            converted(body),
            "{}\n{}",
            mongo.display(),
            text(&o)
        );
        assert!(!data.join(f).exists(), "{f} converted away");
    }
    assert_eq!(
        std::fs::read_to_string(state.join("test-migration-runs")).unwrap_or_default(),
        "3.5.0|3.4.0|3.5.0\n",
        "the migration ran once, with the state dir it was given"
    );
    assert_eq!(
        std::fs::read_to_string(state.join("version")).unwrap_or_default(),
        "3.5.0\n"
    );
    let backups: Vec<_> = std::fs::read_dir(state.join("backups"))
        .expect("the snapshot is under <dir>/imsrv-state/backups")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert!(backups[0].join("data.tar.zst").is_file());

    let o = hook(
        dir,
        "3.5.0",
        &[
            "migrate",
            "--desc",
            "imsrv-3.5.0/packwright/package.json",
            "--status",
        ],
    );
    assert!(o.status.success(), "migrate --status:\n{}", text(&o));
    let line = stdout(&o)
        .lines()
        .find(|l| l.contains("3.5.0"))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        line.contains("done") && line.contains("mysql-to-mongo.sh"),
        "migrate --status lists 3.5.0 as done:\n{}",
        text(&o)
    );

    // Running the upgrade again does nothing twice; a restore gives back
    // the 3.4.0 data.
    let o = hook(
        dir,
        "3.5.0",
        &[
            "upgrade",
            "--desc",
            "imsrv-3.5.0/packwright/package.json",
            "--old",
            "3.4.0",
        ],
    );
    assert!(o.status.success(), "upgrade again:\n{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(state.join("test-migration-runs")).unwrap(),
        "3.5.0|3.4.0|3.5.0\n"
    );
    let o = hook(
        dir,
        "3.5.0",
        &["restore", "--desc", "imsrv-3.5.0/packwright/package.json"],
    );
    assert!(o.status.success(), "restore:\n{}", text(&o));
    assert_eq!(listing(&data, &state), before, "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&live).unwrap(),
        imsrv::CONFIG_34_EDITED
    );
}

/// Without `--old` the upgrade starts from the version `install --desc`
/// recorded: the migration runs (it used to be skipped silently: no version
/// on record meant "no old version", so only the configs were merged).
#[test]
fn the_by_hand_upgrade_knows_the_old_version_without_old() {
    if !tool("tar") || !crate::common::root::privileged() {
        return;
    }
    let (_p34, a34) = targz("3.4.0", false);
    let (_p35, a35) = targz("3.5.0", true);
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    for a in [&a34, &a35] {
        run(Command::new("tar").arg("-xzf").arg(a).arg("-C").arg(dir));
    }
    let desc34 = "imsrv-3.4.0/packwright/package.json";
    let o = hook(dir, "3.4.0", &["install", "--desc", desc34]);
    assert!(o.status.success(), "install:\n{}", text(&o));
    std::fs::create_dir_all(dir.join("data/imsrv")).unwrap();
    std::fs::write(dir.join("data/imsrv/messages.mysql"), "INSERT (1);\n").unwrap();

    let desc35 = "imsrv-3.5.0/packwright/package.json";
    let o = hook(dir, "3.5.0", &["upgrade", "--desc", desc35]);
    assert!(o.status.success(), "upgrade:\n{}", text(&o));
    assert!(
        stdout(&o).contains("upgrade from 3.4.0 to 3.5.0"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("data/imsrv/messages.mongo")).unwrap_or_default(),
        "db.insert((1))\n",
        "the migration must run\n{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("config/config.yaml")).unwrap(),
        imsrv::config_default("3.5.0")
    );
}
