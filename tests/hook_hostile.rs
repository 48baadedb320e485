//! Issue #10, the hook's side: hostile or broken config files get a bounded,
//! documented refusal (exit 4, file untouched) even under a memory limit;
//! snapshots cannot be forged into writing elsewhere; a full disk or a kill
//! leaves nothing half-done; and the messages are sentences.

mod common;
#[path = "common/hook_fixture.rs"]
mod fixture;

use fixture::{err, file_state, hook, listing, out, read, snapshots, Root, CONFIG_V1, PKG};
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const HOOK: &str = env!("CARGO_BIN_EXE_packwright-hook");

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A standalone config dir: `default.<ext>` (the new default) and `live.<ext>`.
struct Files {
    dir: tempfile::TempDir,
    ext: &'static str,
}

impl Files {
    fn new(ext: &'static str, default: &[u8], live: &[u8]) -> Files {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(format!("default.{ext}")), default).unwrap();
        fs::write(dir.path().join(format!("live.{ext}")), live).unwrap();
        Files { dir, ext }
    }
    fn p(&self, n: &str) -> PathBuf {
        self.dir.path().join(format!("{n}.{}", self.ext))
    }
    fn live(&self) -> PathBuf {
        self.p("live")
    }
    /// `update` or `check`, optionally under `prlimit --as`.
    fn run(&self, cmd: &str, mem: Option<u64>) -> Output {
        let mut c = match mem {
            Some(bytes) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--as={bytes}")).arg("--").arg(HOOK);
                c
            }
            None => Command::new(HOOK),
        };
        c.arg(cmd).arg("--live").arg(self.live());
        match cmd {
            "update" => c.arg("--default").arg(self.p("default")),
            _ => c.args(["--expect", "1"]),
        };
        c.args(["--version-key", "version"]).output().unwrap()
    }
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// The classic 9×9 "billion laughs", as YAML anchors (a few hundred bytes).
fn laughs() -> String {
    let mut s = String::from("version: 1\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        s.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
    }
    s
}

/// 256 MiB of address space: far below what the unbounded parse took
/// (24 GB for the laughs, GBs for a 50 MB file), plenty for a bounded one.
const MEM: u64 = 256 << 20;

#[test]
fn hostile_configs_are_refused_within_a_memory_limit_and_left_untouched() {
    if !common::tool("prlimit") {
        return;
    }
    let deep_block: String = (0..2000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect::<String>()
        + &" ".repeat(2000)
        + "v: 1\n";
    let big = format!("version: 1\n{}", "k: v\n".repeat(1 << 20)); // 5 MiB
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "yaml",
            laughs().into_bytes(),
            "aliases expand to more than 100000 nodes",
        ),
        (
            "yaml",
            deep_block.into_bytes(),
            "nested more than 64 levels deep",
        ),
        (
            "yaml",
            format!("version: 1\nx: {}\n", "[".repeat(100_000)).into_bytes(),
            "nested more than 64 levels deep",
        ),
        (
            "json",
            format!("{{\"version\": \"1\", \"x\": {}", "[".repeat(1_000_000)).into_bytes(),
            "nested more than 64 levels deep",
        ),
        (
            "toml",
            format!("version = \"1\"\nx = {}", "[".repeat(100_000)).into_bytes(),
            "nested more than 64 levels deep",
        ),
        (
            "toml",
            format!("version = \"1\"\n{} = 1\n", vec!["k"; 70].join(".")).into_bytes(),
            "levels deep",
        ),
        ("yaml", big.into_bytes(), "larger than 4 MiB"),
        (
            "env",
            format!("version=1\n{}", "K=v\n".repeat(1 << 20)).into_bytes(),
            "larger than 4 MiB",
        ),
    ];
    for (ext, live, msg) in cases {
        let default = match ext {
            "json" => "{\"version\": \"1\"}\n",
            "toml" => "version = \"1\"\n",
            "env" => "version=1\n",
            _ => "version: 1\n",
        };
        let f = Files::new(ext, default.as_bytes(), &live);
        for cmd in ["check", "update"] {
            let o = f.run(cmd, Some(MEM));
            let e = err(&o);
            assert_eq!(code(&o), 4, "{ext} {msg} {cmd}: {e}");
            assert!(e.contains(msg), "{ext} {cmd}: {e}");
            assert!(
                e.contains(&f.live().display().to_string()),
                "{ext} {cmd} names the file: {e}"
            );
            assert_eq!(
                fs::read(f.live()).unwrap(),
                live,
                "{ext} {cmd}: live file untouched"
            );
        }
        // update leaves the new default beside the live file, nothing else.
        let want = [
            format!("default.{ext}"),
            format!("live.{ext}"),
            format!("live.{ext}.packwright-new"),
        ];
        assert_eq!(f.names(), want, "{ext} {msg}");
    }
}

#[test]
fn a_bom_is_kept_and_bad_bytes_are_refused_with_their_position() {
    let f = Files::new(
        "yaml",
        b"version: 2\nport: 80\n",
        b"\xef\xbb\xbfversion: 1\nport: 81\n",
    );
    let o = f.run("check", None);
    assert_eq!(
        code(&o),
        0,
        "a BOM is not part of the first key: {}",
        err(&o)
    );
    let o = f.run("update", None);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(read(&f.live()), "\u{feff}version: 2\nport: 81\n");

    let bad: [(&[u8], &str); 3] = [
        (
            b"version: 1\nport: \xff81\n",
            "live.yaml:2:7: not valid UTF-8 (byte 0xff)",
        ),
        (b"version: 1\nport: 8\x001\n", "live.yaml:2:8: a NUL byte"),
        (
            b"version: 1\n\xc3\n",
            "live.yaml:2:1: not valid UTF-8 (byte 0xc3)",
        ),
    ];
    for (live, msg) in bad {
        let f = Files::new("yaml", b"version: 1\nport: 80\n", live);
        for cmd in ["check", "update"] {
            let o = f.run(cmd, None);
            assert_eq!(code(&o), 4, "{cmd} {msg}: {}", err(&o));
            assert!(err(&o).contains(msg), "{cmd}: {}", err(&o));
            assert_eq!(fs::read(f.live()).unwrap(), live);
        }
        assert!(f.p("live").with_extension("yaml.packwright-new").exists());
    }
}

#[test]
fn a_live_file_swapped_for_a_symlink_never_leaks_into_the_backup() {
    // The service user flips the live file between a regular file and a
    // symlink to a root-only secret while root runs update: the backup must
    // only ever hold what was merged, with the live file's mode.
    let f = Files::new("yaml", b"version: 2\nport: 80\n", b"version: 1\nport: 81\n");
    let secret = f.dir.path().join("secret");
    fs::write(&secret, "version: 1\nport: 99 # SECRET\n").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let live = f.live();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flip = {
        let (live, secret, stop) = (live.clone(), secret.clone(), stop.clone());
        std::thread::spawn(move || {
            let tmp = live.with_extension("swap");
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = fs::remove_file(&tmp);
                let _ = symlink(&secret, &tmp);
                let _ = fs::rename(&tmp, &live);
                let _ = fs::write(&tmp, "version: 1\nport: 81\n");
                let _ = fs::set_permissions(&tmp, fs::Permissions::from_mode(0o640));
                let _ = fs::rename(&tmp, &live);
            }
        })
    };
    let old = live.with_extension("yaml.packwright-old");
    for _ in 0..150 {
        let _ = f.run("update", None);
        if let Ok(m) = fs::symlink_metadata(&old) {
            assert!(m.is_file(), "the backup is a regular file");
            assert_eq!(
                m.mode() & 0o777,
                0o640,
                "the backup has the live file's mode"
            );
            assert!(
                !read(&old).contains("SECRET"),
                "the secret leaked into the backup"
            );
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flip.join().unwrap();
    let o = {
        let _ = fs::remove_file(&live);
        symlink(&secret, &live).unwrap();
        f.run("update", None)
    };
    assert_eq!(code(&o), 7, "{}", err(&o));
}

/// A tmpfs of `size` at `dir`, unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(dir.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn free(dir: &Path) -> u64 {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: statvfs fills the zeroed struct.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut s) }, 0);
    s.f_bavail * s.f_frsize
}

#[test]
fn a_full_disk_during_update_leaves_the_live_file_and_its_neighbours_as_they_were() {
    if !common::tool("mount") {
        return;
    }
    let outer = tempfile::tempdir().unwrap();
    let etc = outer.path().join("etc");
    fs::create_dir(&etc).unwrap();
    let Some(_m) = Mount::tmpfs(&etc, "4m") else {
        eprintln!("SKIPPED: mounting a tmpfs is not permitted here");
        return;
    };
    // A conflict, so update writes .packwright-old, .packwright-new and the
    // live file; the new default is big, so there is room for the first
    // two files (about 400 KiB each) but not for all three.
    let pad: String = (0..5000)
        .map(|i| format!("# comment line {i:06} of the new default\n"))
        .collect();
    let default = format!("{pad}version: 2\nport: 80\n");
    let base = "version: 1\nport: 70\n";
    let live = etc.join("live.yaml");
    fs::write(outer.path().join("base.yaml"), base).unwrap();
    fs::write(outer.path().join("default.yaml"), &default).unwrap();
    fs::write(&live, "version: 1\nport: 81\n").unwrap();
    let filler = etc.join("filler");
    let keep = (default.len() as u64) * 3 / 2 + 16384;
    fs::write(&filler, vec![1u8; (free(&etc) - keep) as usize]).unwrap();
    let before = file_state(&live);
    let o = Command::new(HOOK)
        .arg("update")
        .arg("--base")
        .arg(outer.path().join("base.yaml"))
        .arg("--default")
        .arg(outer.path().join("default.yaml"))
        .arg("--live")
        .arg(&live)
        .output()
        .unwrap();
    let e = err(&o);
    assert_eq!(code(&o), 1, "{e}");
    assert!(e.contains("No space left on device"), "{e}");
    assert_eq!(e.matches("No space left").count(), 1, "said once: {e}");
    assert!(!e.contains("os error"), "{e}");
    assert_eq!(file_state(&live), before, "live file unchanged");
    let mut names: Vec<String> = fs::read_dir(&etc)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["filler", "live.yaml"],
        "nothing half-done left beside it"
    );
}

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
fn messages_are_sentences() {
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    let o = hook(r.path(), &["install", "--package", PKG, "--new", "3.4.0"]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.starts_with("imsrv: install to 3.4.0\n"), "{text}");
    assert!(text.contains("config.yaml: written"), "{text}");
    assert!(
        !text.contains("Install") && !text.contains("Written"),
        "{text}"
    );

    // The lock error names the directory, not `.`.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("live.yaml"), "version: 1\n").unwrap();
    fs::write(dir.path().join("new.yaml"), "version: 1\n").unwrap();
    let lock = fs::File::open(dir.path()).unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: flock on an open descriptor.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    let o = Command::new(HOOK)
        .current_dir(dir.path())
        .args(["update", "--default", "new.yaml", "--live", "live.yaml"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 8, "{}", err(&o));
    let canon = fs::canonicalize(dir.path()).unwrap();
    assert!(
        err(&o).starts_with(&format!("packwright-hook: {}: another", canon.display())),
        "{}",
        err(&o)
    );
    drop(lock);

    // An I/O error says its cause once, without "(os error N)".
    let o = Command::new(HOOK)
        .args(["init", "--template"])
        .arg(dir.path().join("new.yaml"))
        .arg("--live")
        .arg(dir.path().join("live.yaml/sub.yaml"))
        .output()
        .unwrap();
    let e = err(&o);
    assert_eq!(code(&o), 1, "{e}");
    assert!(!e.contains("os error"), "{e}");
    assert_eq!(e.matches("Not a directory").count(), 1, "{e}");
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
