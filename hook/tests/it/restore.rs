//! Restores that trust only the package description and leave nothing
//! half-done, and snapshots that never go through a link the service user
//! made.

use crate::fixture::*;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;

const HOOK: &str = env!("CARGO_BIN_EXE_packwright-hook");

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
