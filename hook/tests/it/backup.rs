//! Snapshots by hand: a damaged or forged snapshot is refused before anything changes,
//! a full disk is refused before anything is written, and an unpacked
//! archive (`--desc`) gets the same upgrade, backup and restore.

use crate::fixture::*;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::path::PathBuf;
use std::process::{Command, Output};

const HOOK: &str = env!("CARGO_BIN_EXE_packwright-hook");

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn backup(r: &Root) -> std::path::PathBuf {
    let o = hook(r.path(), &["backup", "--package", PKG]);
    assert!(o.status.success(), "{}", err(&o));
    snapshots(&r.state()).pop().unwrap()
}

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

// Issue #10: restores that trust only the package description, and
// leave nothing half-done.

/// A root whose data dir (`/srv/imsrv`) does not hold the state dir, so a
/// restore swaps the whole dir.
fn srv_root() -> Root {
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    let desc = r.at("usr/share/imsrv/packwright/package.json");
    let text = fs::read_to_string(&desc)
        .unwrap()
        .replace("/var/lib/imsrv", "/srv/imsrv");
    fs::write(&desc, text).unwrap();
    r.install();
    let d = r.at("srv/imsrv");
    fs::create_dir_all(d.join("users")).unwrap();
    fs::write(d.join("users/alice.db"), "alice\n").unwrap();
    r
}

fn take_backup(r: &Root) -> (PathBuf, String) {
    let o = hook(r.path(), &["backup", "--package", PKG]);
    assert!(o.status.success(), "{}", err(&o));
    let s = snapshots(&r.state()).pop().unwrap();
    let id = s.file_name().unwrap().to_string_lossy().into_owned();
    (s, id)
}

/// Rewrite a snapshot's archive with `entries` (name, symlink target or
/// file body) and a SHA256SUMS that matches it.
fn forge(snap: &Path, entries: &[(&str, Result<&str, &[u8]>)]) {
    use sha2::{Digest, Sha256};
    let mut tar = tar::Builder::new(Vec::new());
    let mut sums = String::new();
    for (name, what) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        match what {
            Ok(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                tar.append_link(&mut h, name, target).unwrap();
            }
            Err(body) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(body.len() as u64);
                tar.append_data(&mut h, name, *body).unwrap();
                sums.push_str(&format!("{}  {name}\n", hex::encode(Sha256::digest(body))));
            }
        }
    }
    let raw = tar.into_inner().unwrap();
    fs::write(
        snap.join("data.tar.zst"),
        zstd::encode_all(&raw[..], 3).unwrap(),
    )
    .unwrap();
    fs::write(snap.join("SHA256SUMS"), sums).unwrap();
}

#[test]
fn a_forged_snapshot_cannot_write_outside_the_data_dir() {
    let r = srv_root();
    let (snap, id) = take_backup(&r);
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().to_string_lossy().into_owned();
    forge(
        &snap,
        &[
            ("srv/imsrv/link", Ok(&target)),
            ("srv/imsrv/link/pwned", Err(b"owned\n")),
        ],
    );
    let data = r.at("srv/imsrv");
    let before = listing(&data, &r.state());
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
    assert_eq!(code(&o), 11, "{}", err(&o));
    assert!(
        err(&o).contains("a symlink or file is in the way"),
        "{}",
        err(&o)
    );
    assert!(
        !outside.path().join("pwned").exists(),
        "written through the archive's symlink"
    );
    assert_eq!(listing(&data, &r.state()), before, "data dir untouched");
}

#[test]
fn meta_json_cannot_name_paths_the_package_does_not_have() {
    let r = srv_root();
    let (snap, id) = take_backup(&r);
    let meta_path = snap.join("meta.json");
    let good = fs::read_to_string(&meta_path).unwrap();
    let data = r.at("srv/imsrv");
    fs::write(data.join("users/alice.db"), "changed\n").unwrap();
    let before = listing(&data, &r.state());
    let live_before = file_state(&r.live());
    let forged = [
        good.replace(
            "\"/etc/imsrv/config.yaml\"",
            "\"/etc/imsrv/../../etc/passwd\"",
        ),
        good.replace("\"path\": \"/srv/imsrv\"", "\"path\": \"/etc\""),
        good.replace(
            "\"path\": \"/srv/imsrv\"",
            "\"path\": \"/srv/imsrv/../../etc\"",
        ),
    ];
    for f in &forged {
        assert_ne!(f, &good);
        fs::write(&meta_path, f).unwrap();
        let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
        assert_eq!(code(&o), 11, "{f}\n{}", err(&o));
        assert!(err(&o).contains("installed imsrv"), "{}", err(&o));
        assert_eq!(listing(&data, &r.state()), before);
        assert_eq!(file_state(&r.live()), live_before);
    }
    // A forged copy name or setuid mode is not used: the copy is found by
    // the live path, and the mode loses its setuid bit.
    let copy_name = "\"copy\": \"etc%2Fimsrv%2Fconfig.yaml\"";
    assert!(good.contains(copy_name), "{good}");
    let f = good
        .replace(copy_name, "\"copy\": \"../../../../etc/passwd\"")
        .replace("\"mode\": 416", "\"mode\": 2541");
    fs::write(&meta_path, f).unwrap();
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(read(&r.live()), CONFIG_V1);
    assert_eq!(fs::metadata(r.live()).unwrap().mode() & 0o7777, 0o755);
    assert_eq!(read(&data.join("users/alice.db")), "alice\n");
}

#[test]
fn restore_checks_every_config_copy_before_touching_a_data_dir() {
    let r = srv_root();
    let (snap, id) = take_backup(&r);
    let data = r.at("srv/imsrv");
    fs::write(data.join("users/alice.db"), "changed\n").unwrap();
    let before = listing(&data, &r.state());
    fs::remove_file(snap.join("config/etc%2Fimsrv%2Fconfig.yaml")).unwrap();
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
    assert_eq!(code(&o), 11, "{}", err(&o));
    assert!(err(&o).contains("nothing was restored"), "{}", err(&o));
    assert_eq!(
        listing(&data, &r.state()),
        before,
        "the data dir was not restored"
    );
}

#[test]
fn a_damaged_archive_is_described_in_words() {
    let r = srv_root();
    let (snap, id) = take_backup(&r);
    fs::write(
        snap.join("data.tar.zst"),
        b"\x28\xb5\x2f\xfd garbage, not zstd",
    )
    .unwrap();
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
    assert_eq!(code(&o), 11, "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains("data.tar.zst does not decompress: it is damaged or truncated"),
        "{e}"
    );
    assert!(!e.contains("Error strings"), "{e}");
}

#[test]
fn a_killed_restore_leaves_the_data_dir_old_or_new_and_the_next_run_cleans_up() {
    let r = srv_root();
    let data = r.at("srv/imsrv");
    for i in 0..3000 {
        fs::write(data.join(format!("users/u{i:05}.db")), format!("{i}\n")).unwrap();
    }
    let (_, id) = take_backup(&r);
    fs::remove_dir_all(data.join("users")).unwrap();
    fs::write(data.join("after.db"), "written after the snapshot\n").unwrap();
    let after = listing(&data, &r.state());
    let mut whole = None;
    for delay in [5u64, 20, 60, 150] {
        let mut child = Command::new(HOOK)
            .arg("--root")
            .arg(r.path())
            .args(["restore", "--package", PKG, "--snapshot", &id])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let now = listing(&data, &r.state());
        let complete = now.len() > 3000;
        assert!(
            now == after || complete,
            "half a restore after {delay} ms: {} entries",
            now.len()
        );
        if complete {
            whole = Some(now);
            break;
        }
    }
    // Whatever was left, the next restore completes and removes the leftovers.
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
    assert!(o.status.success(), "{}", err(&o));
    let done = listing(&data, &r.state());
    if let Some(w) = whole {
        assert_eq!(done, w);
    }
    assert!(!data.join("after.db").exists());
    let left: Vec<_> = fs::read_dir(r.at("srv"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["imsrv"], "no temp dir left: {left:?}");
}

#[test]
fn leftovers_of_killed_runs_are_removed_and_reported() {
    let r = srv_root();
    // A dead pid: above any pid_max.
    let dead = 2_000_000_000u32;
    let tmp = r.at(&format!("etc/imsrv/.config.yaml.packwright-tmp{dead}"));
    fs::write(&tmp, "half").unwrap();
    let restore_tmp = r.at(&format!("srv/.imsrv.packwright-restore-{dead}"));
    fs::create_dir_all(restore_tmp.join("x")).unwrap();
    let backups = r.state().join("backups");
    fs::create_dir_all(backups.join(".20260101T000000Z-1-backup.partial/config")).unwrap();
    let (_, id) = take_backup(&r);
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
    assert!(o.status.success(), "{}", err(&o));
    for p in [&tmp, &restore_tmp] {
        assert!(!p.exists(), "{} removed", p.display());
    }
    assert!(!backups.join(".20260101T000000Z-1-backup.partial").exists());
    let e = err(&o);
    assert!(
        e.contains(&format!(
            "{}: removed, left by an interrupted",
            tmp.display()
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "{}: removed, left by an interrupted restore",
            restore_tmp.display()
        )),
        "{e}"
    );
}

#[test]
fn nothing_the_hook_creates_is_wider_than_its_mode_under_umask_000() {
    let r = srv_root();
    let _ = fs::remove_dir_all(r.state());
    let mut c = Command::new(HOOK);
    c.arg("--root")
        .arg(r.path())
        .args(["backup", "--package", PKG]);
    // SAFETY: umask is async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", err(&o));
    let snap = snapshots(&r.state()).pop().unwrap();
    for d in [
        r.state(),
        r.state().join("backups"),
        snap.clone(),
        snap.join("config"),
    ] {
        let mode = fs::metadata(&d).unwrap().mode() & 0o777;
        assert_eq!(mode & 0o022, 0, "{} is {mode:o}", d.display());
    }
    for e in walkdir::WalkDir::new(&snap) {
        let e = e.unwrap();
        let mode = e.metadata().unwrap().mode() & 0o777;
        assert_eq!(mode & 0o002, 0, "{} is {mode:o}", e.path().display());
    }
}

#[test]
fn restoring_state_inside_the_data_dir_still_works() {
    // The older layout: the state dir inside the data dir is kept in place.
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    r.install();
    r.seed_data();
    let data = r.at("var/lib/imsrv");
    let o = hook(r.path(), &["backup", "--package", PKG]);
    assert!(o.status.success(), "{}", err(&o));
    let snap = snapshots(&r.state()).pop().unwrap();
    let id = snap.file_name().unwrap().to_string_lossy().into_owned();
    let before = listing(&data, &r.state());
    fs::write(data.join("users/alice.mysql"), "changed\n").unwrap();
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(listing(&data, &r.state()), before);
    assert!(r.state().join("backups").join(&id).is_dir());
}

/// The names in a snapshot's archive.
fn archive_names(snap: &Path) -> Vec<String> {
    let raw = zstd::decode_all(&fs::read(snap.join("data.tar.zst")).unwrap()[..]).unwrap();
    let mut ar = tar::Archive::new(&raw[..]);
    ar.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_old_layouts_state_dir_is_neither_snapshotted_nor_restored() {
    // `/var/lib/imsrv/packwright` (an older packwright's state dir) lies in
    // the data dir: what the service user may have put there must not go
    // into a snapshot, come back from one, or be wiped by a restore.
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    r.install();
    r.seed_data();
    let data = r.at("var/lib/imsrv");
    let old = data.join("packwright");
    fs::create_dir_all(old.join("backups/20200101T000000Z-old")).unwrap();
    fs::write(old.join("version"), "3.3.0\n").unwrap();
    fs::write(old.join("backups/20200101T000000Z-old/meta.json"), "{}").unwrap();
    let (snap, id) = take_backup(&r);
    let names = archive_names(&snap);
    assert!(names.iter().any(|n| n.contains("alice.mysql")), "{names:?}");
    let leaked: Vec<&String> = names.iter().filter(|n| n.contains("packwright")).collect();
    assert!(leaked.is_empty(), "archived: {leaked:?}");
    let sums = fs::read_to_string(snap.join("SHA256SUMS")).unwrap();
    assert!(!sums.contains("packwright"), "{sums}");

    // Changed after the snapshot: the data comes back, the old dir stays.
    fs::write(data.join("users/alice.mysql"), "changed\n").unwrap();
    fs::write(old.join("version"), "9.9.9\n").unwrap();
    fs::write(old.join("note"), "written later\n").unwrap();
    let ino = |p: &Path| fs::symlink_metadata(p).unwrap().ino();
    let (data_ino, old_ino) = (ino(&data), ino(&old));
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        fs::read_to_string(data.join("users/alice.mysql")).unwrap(),
        "alice\t1\n"
    );
    // Still one atomic exchange of the data dir; the old dir rode along.
    assert_ne!(ino(&data), data_ino, "the data dir was not swapped whole");
    assert_eq!(ino(&old), old_ino);
    assert_eq!(fs::read_to_string(old.join("version")).unwrap(), "9.9.9\n");
    assert_eq!(
        fs::read_to_string(old.join("note")).unwrap(),
        "written later\n"
    );
    assert!(old.join("backups/20200101T000000Z-old/meta.json").is_file());

    // A snapshot that holds the old dir (made by an older hook, or forged)
    // restores the rest and leaves the old dir as it is.
    forge(
        &snap,
        &[
            ("var/lib/imsrv/top.db", Err(b"from the snapshot\n")),
            ("var/lib/imsrv/packwright/version", Err(b"1.0.0\n")),
            ("var/lib/imsrv/packwright/planted", Err(b"planted\n")),
        ],
    );
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
    assert!(o.status.success(), "{}", err(&o));
    let top = fs::read_to_string(data.join("top.db")).unwrap();
    assert_eq!(top, "from the snapshot\n");
    assert_eq!(fs::read_to_string(old.join("version")).unwrap(), "9.9.9\n");
    assert!(!old.join("planted").exists());
    assert_eq!(
        fs::read_to_string(old.join("note")).unwrap(),
        "written later\n"
    );
}

/// A root whose data dir is `/srv/own/sub/imsrv`, two levels below
/// `/srv/own` (a directory the service user may own), holding `a.db`.
fn nested_data_dir() -> Root {
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    let desc = r.at("usr/share/imsrv/packwright/package.json");
    let text = fs::read_to_string(&desc)
        .unwrap()
        .replace("/var/lib/imsrv", "/srv/own/sub/imsrv");
    fs::write(&desc, text).unwrap();
    r.install();
    let d = r.at("srv/own/sub/imsrv");
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("a.db"), "a\n").unwrap();
    r
}

#[test]
fn a_restore_never_goes_through_a_link_the_service_user_made() {
    // A data dir two levels below a directory the service user owns: it
    // swaps that directory for a link to a root-only place holding the same
    // names (a link as the data dir's parent itself is refused already).
    let r = nested_data_dir();
    let (_snap, id) = take_backup(&r);
    let victim = r.at("etc/secret/sub/imsrv");
    fs::create_dir_all(&victim).unwrap();
    fs::write(victim.join("keep"), "root's\n").unwrap();
    fs::rename(r.at("srv/own"), r.at("srv/own-moved")).unwrap();
    std::os::unix::fs::symlink(r.at("etc/secret"), r.at("srv/own")).unwrap();
    std::os::unix::fs::lchown(r.at("srv/own"), Some(999), Some(999)).unwrap();
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", &id]);
    assert!(!o.status.success(), "{}", out(&o));
    assert!(err(&o).contains("symlink owned by uid 999"), "{}", err(&o));
    assert_eq!(fs::read_to_string(victim.join("keep")).unwrap(), "root's\n");
    assert!(!victim.join("a.db").exists());
    let names: Vec<_> = fs::read_dir(r.at("etc/secret/sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["imsrv"], "nothing was made beside the victim");
}

#[test]
fn a_backup_never_reads_through_a_link_the_service_user_made() {
    // The same data dir below a directory the service user owns, swapped
    // for a link to a root-only place with the same names: root must not
    // copy that place into a snapshot (which a restore would later put in
    // the service user's data dir).
    let r = nested_data_dir();
    let victim = r.at("etc/secret/sub/imsrv");
    fs::create_dir_all(&victim).unwrap();
    fs::write(victim.join("key"), "root's\n").unwrap();
    fs::rename(r.at("srv/own"), r.at("srv/own-moved")).unwrap();
    std::os::unix::fs::symlink(r.at("etc/secret"), r.at("srv/own")).unwrap();
    std::os::unix::fs::lchown(r.at("srv/own"), Some(999), Some(999)).unwrap();
    let before = snapshots(&r.state());
    let o = hook(r.path(), &["backup", "--package", PKG]);
    assert!(!o.status.success(), "{}", out(&o));
    assert!(err(&o).contains("symlink owned by uid 999"), "{}", err(&o));
    assert_eq!(snapshots(&r.state()), before, "no snapshot was kept");
    // A link root made is the admin's layout: followed, as a restore does.
    std::os::unix::fs::lchown(r.at("srv/own"), Some(0), Some(0)).unwrap();
    let (snap, _) = take_backup(&r);
    let names = archive_names(&snap);
    assert!(
        names.contains(&"srv/own/sub/imsrv/key".to_string()),
        "{names:?}"
    );
}

#[test]
fn xattrs_of_every_kind_of_entry_go_into_the_snapshot() {
    // Each entry's are read through its own descriptor: a symlink's and a
    // fifo's (open with O_PATH) through /proc/self/fd, the others' with
    // flistxattr. Symlinks and fifos take only trusted.* (root).
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    r.install();
    r.seed_data();
    let d = r.at("var/lib/imsrv");
    let fifo = std::ffi::CString::new(d.join("fifo").into_os_string().into_encoded_bytes());
    // SAFETY: a NUL-terminated path and a mode.
    assert_eq!(unsafe { libc::mkfifo(fifo.unwrap().as_ptr(), 0o600) }, 0);
    let set = [
        ("users", "user.d"),
        ("users/bob.mysql", "user.f"),
        ("current", "trusted.l"),
        ("fifo", "trusted.p"),
    ];
    let ok = set
        .iter()
        .all(|(p, n)| set_xattr(&d.join(p), n, p.as_bytes()));
    if !require(
        ok,
        "trusted.* and user.* xattrs (root, a filesystem with them)",
    ) {
        return;
    }
    let raw = zstd::decode_all(&fs::read(backup(&r).join("data.tar.zst")).unwrap()[..]).unwrap();
    let mut got = std::collections::BTreeSet::new();
    for e in tar::Archive::new(&raw[..]).entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        for x in e.pax_extensions().unwrap().into_iter().flatten() {
            let x = x.unwrap();
            let key = x.key().unwrap().strip_prefix("SCHILY.xattr.").unwrap();
            got.insert((
                name.clone(),
                key.to_string(),
                x.value().unwrap().to_string(),
            ));
        }
    }
    let want: std::collections::BTreeSet<_> = set
        .iter()
        .map(|(p, n)| (format!("var/lib/imsrv/{p}"), n.to_string(), p.to_string()))
        .collect();
    assert_eq!(got, want);
}
