//! Snapshots by hand: a damaged or forged snapshot is refused before anything changes,
//! a full disk is refused before anything is written, and an unpacked
//! archive (`--desc`) gets the same upgrade, backup and restore.

use crate::fixture::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn flip_byte(p: &Path, at: usize) {
    let mut b = fs::read(p).unwrap();
    let i = at.min(b.len() - 1);
    b[i] ^= 0x55;
    fs::write(p, b).unwrap();
}

#[test]
fn a_damaged_snapshot_is_refused_and_nothing_changes() {
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    r.install();
    r.seed_data();
    let data = r.at("var/lib/imsrv");
    let snap = backup(&r);
    let id = snap.file_name().unwrap().to_string_lossy().into_owned();
    assert!(id.ends_with("-3.4.0-backup"), "{id}");

    // Changes after the snapshot, which a refused restore must leave alone.
    fs::write(data.join("users/alice.mysql"), "changed later\n").unwrap();
    fs::write(r.live(), "version: 1\nserver:\n  port: 1\n").unwrap();
    let now = listing(&data, &r.state());
    let config = file_state(&r.live());

    let sums = snap.join("SHA256SUMS");
    let good_sums = fs::read(&sums).unwrap();
    let archive = snap.join("data.tar.zst");
    let good_archive = fs::read(&archive).unwrap();
    // One wrong digit in SHA256SUMS; a byte flipped inside the archive; a
    // file dropped from SHA256SUMS; SHA256SUMS missing.
    type Damage<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let damage: [Damage; 4] = [
        ("sum", Box::new(|| flip_byte(&sums, 3))),
        (
            "archive",
            Box::new(|| flip_byte(&archive, good_archive.len() / 2)),
        ),
        (
            "unlisted",
            Box::new(|| {
                let t = String::from_utf8(good_sums.clone()).unwrap();
                let kept: String = t
                    .lines()
                    .filter(|l| !l.contains("bob"))
                    .map(|l| format!("{l}\n"))
                    .collect();
                fs::write(&sums, kept).unwrap();
            }),
        ),
        ("missing", Box::new(|| fs::remove_file(&sums).unwrap())),
    ];
    for (what, f) in damage {
        fs::write(&sums, &good_sums).unwrap();
        fs::write(&archive, &good_archive).unwrap();
        f();
        let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
        assert_eq!(o.status.code(), Some(11), "{what}: {}", err(&o));
        assert!(
            err(&o).contains("nothing was restored"),
            "{what}: {}",
            err(&o)
        );
        assert_eq!(
            listing(&data, &r.state()),
            now,
            "{what}: data dir untouched"
        );
        assert_eq!(file_state(&r.live()), config, "{what}: config untouched");
        let names: Vec<_> = fs::read_dir(r.at("var/lib"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != "packwright")
            .collect();
        assert_eq!(names.len(), 1, "{what}: no temp dir left: {names:?}");
    }
    // Undamaged, the newest snapshot is the default.
    fs::write(&sums, &good_sums).unwrap();
    fs::write(&archive, &good_archive).unwrap();
    let o = hook(r.path(), &["restore", "--package", PKG]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(read(&data.join("users/alice.mysql")), "alice\t1\n");
    assert_eq!(read(&r.live()), CONFIG_V1);
}

/// A tmpfs of `size` at `dir`, unmounted on drop; `None` where mounting is
/// not permitted.
struct Mount(std::path::PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            // mode: a tmpfs is 1777 by default, which a state dir may not be.
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| Mount(dir.into()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn too_little_space_for_the_snapshot_is_refused_before_anything_changes() {
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    r.install();
    r.seed_data();
    let data = r.at("var/lib/imsrv");
    fs::write(data.join("dump.bin"), vec![7u8; 3 << 20]).unwrap();
    let marker = "touch /var/lib/imsrv/migrated\n";
    r.release("3.5.0", CONFIG_V2, &[("3.5.0", marker, None)]);
    let before = listing(&data, &r.state());
    let config = file_state(&r.live());

    // The state dir (which holds backups/) on an 8 MiB tmpfs; else the test knob.
    let state = r.state();
    let mount = Mount::tmpfs(&state, "8m");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_packwright-hook"));
    cmd.arg("--root").arg(r.path());
    cmd.args([
        "upgrade",
        "--package",
        PKG,
        "--old",
        "3.4.0",
        "--new",
        "3.5.0",
    ]);
    if mount.is_none() {
        eprintln!("mount not permitted: using the PACKWRIGHT_HOOK_FREE_BYTES test knob");
        cmd.env("PACKWRIGHT_HOOK_FREE_BYTES", (8u64 << 20).to_string());
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(10), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains("free, but a snapshot of the data dirs needs"),
        "{e}"
    );
    assert!(
        e.contains(&format!("{}:", state.display())),
        "names the filesystem's path: {e}"
    );
    assert!(e.contains("nothing was changed"), "{e}");
    // The data needs over 3 MiB + 16 MiB: both figures are in the message.
    let figures: Vec<u64> = e
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .filter(|n| *n > 1 << 20)
        .collect();
    assert!(
        figures.iter().any(|n| *n > (19 << 20)) && figures.iter().any(|n| *n <= 8 << 20),
        "{figures:?} in {e}"
    );
    assert_eq!(listing(&data, &state), before);
    assert_eq!(file_state(&r.live()), config);
    assert!(!data.join("migrated").exists());
    assert!(snapshots(&state).is_empty());
    drop(mount);
}

#[test]
fn an_unpacked_archive_upgrades_with_desc_and_state() {
    let d = tempfile::tempdir().unwrap();
    let install = |v: &str, cfg: &str, migration: Option<&str>| -> std::path::PathBuf {
        let dir = d.path().join(format!("imsrv-{v}"));
        fs::create_dir_all(dir.join("packwright")).unwrap();
        fs::create_dir_all(dir.join("config")).unwrap();
        fs::write(dir.join("config/config.yaml"), cfg).unwrap();
        let mut ms = vec![];
        if let Some(body) = migration {
            fs::create_dir_all(dir.join("migrations/3.5.0")).unwrap();
            let f = dir.join("migrations/3.5.0/convert.sh");
            fs::write(&f, format!("#!/bin/sh\nset -e\n{body}")).unwrap();
            fs::set_permissions(&f, fs::Permissions::from_mode(0o755)).unwrap();
            ms.push(serde_json::json!({"version": "3.5.0", "run": "migrations/3.5.0/convert.sh", "timeout": 60}));
        }
        let desc = serde_json::json!({
            "package": "imsrv", "version": v,
            "configs": [{"live": "../imsrv-etc/config.yaml", "default": "config/config.yaml", "format": "yaml", "version_key": "version"}],
            "upgrade": {"data_dirs": ["../imsrv-data"], "backup_keep": 1},
            "migrations": ms,
        });
        fs::write(dir.join("packwright/package.json"), desc.to_string()).unwrap();
        dir.join("packwright/package.json")
    };
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_packwright-hook"))
            .current_dir(d.path())
            .args(args)
            .output()
            .unwrap()
    };
    let data = d.path().join("imsrv-data");
    let live = d.path().join("imsrv-etc/config.yaml");
    let state = d.path().join("imsrv-state");

    install("3.4.0", CONFIG_V1, None);
    let o = run(&["install", "--desc", "imsrv-3.4.0/packwright/package.json"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(read(&live), CONFIG_V1);
    assert!(
        state.join("pristine").is_dir(),
        "default state dir beside the install dir"
    );
    fs::create_dir_all(&data).unwrap();
    fs::write(data.join("users.mysql"), "alice\n").unwrap();
    let before = listing(&data, &state);

    // The migration sees real paths (no chroot with the default root).
    let body = "test \"$PACKWRIGHT_DATA_DIRS\" = \"$(cd ../imsrv-data 2>/dev/null || cd \"$PACKWRIGHT_DATA_DIRS\"; pwd)\"\nmv \"$PACKWRIGHT_DATA_DIRS/users.mysql\" \"$PACKWRIGHT_DATA_DIRS/users.mongo\"\necho \"$PACKWRIGHT_STATE_DIR\" > \"$PACKWRIGHT_DATA_DIRS/state.txt\"\n";
    let desc = install("3.5.0", CONFIG_V2, Some(body));
    let desc = desc.to_str().unwrap();
    let o = run(&[
        "upgrade", "--desc", desc, "--old", "3.4.0", "--new", "3.5.0",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(data.join("users.mongo").is_file() && !data.join("users.mysql").exists());
    assert_eq!(
        read(&data.join("state.txt")).trim(),
        state.to_str().unwrap()
    );
    assert!(read(&live).contains("mongo: mongodb://localhost"));
    let o = run(&["migrate", "--desc", desc, "--status"]);
    assert!(
        out(&o).contains("3.5.0 migrations/3.5.0/convert.sh: done"),
        "{}",
        out(&o)
    );

    // The snapshot taken before the migration restores the 3.4.0 data.
    let o = run(&["restore", "--desc", desc]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(listing(&data, &state), before);
    assert_eq!(read(&live), CONFIG_V1);

    // --state elsewhere; a manual backup there.
    let other = d.path().join("elsewhere");
    let o = run(&["backup", "--desc", desc, "--state", other.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(snapshots(&other).len(), 1);
    let o = run(&[
        "--json",
        "backup",
        "--desc",
        desc,
        "--state",
        other.to_str().unwrap(),
        "--list",
    ]);
    let l: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(l[0]["meta"]["data_dirs"][0]["path"], "../imsrv-data");
}
