//! Issue #10, the hook's side: hostile or broken config files get a bounded,
//! documented refusal (exit 4, file untouched) even under a memory limit;
//! snapshots cannot be forged into writing elsewhere nor taken through a link
//! the service user swaps into a data dir; a full disk or a kill
//! leaves nothing half-done; and the messages are sentences.

use crate::fixture::{code, err, file_state, hook, out, read, Root, CONFIG_V1, PKG};
use crate::fixture::{data_dir_with_links_out, exchange, holds, snapshot_bytes, snapshots};
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const HOOK: &str = env!("CARGO_BIN_EXE_packwright-hook");

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
    if !crate::fixture::tool("prlimit") {
        return;
    }
    let deep_block: String = (0..300)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect::<String>()
        + &" ".repeat(300)
        + "v: 1\n";
    let big = format!("version: 1\n{}", "k: v\n".repeat(1 << 18)); // 1.25 MiB
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
        ("yaml", big.into_bytes(), "larger than 1 MiB"),
        (
            "env",
            format!("version=1\n{}", "K=v\n".repeat(1 << 18)).into_bytes(),
            "larger than 1 MiB",
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
    if !crate::fixture::tool("mount") {
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

/// `recorded-version`, which the generated scripts call for the old
/// layout's version: a regular root-owned file is read; a fifo (which would
/// block a shell's read forever), a symlink to a victim or a hard-linked
/// file is refused without being read, and the command returns at once.
#[test]
fn recorded_version_never_blocks_follows_or_leaks() {
    let r = tempfile::tempdir().unwrap();
    let old = r.path().join("var/lib/imsrv/packwright");
    fs::create_dir_all(&old).unwrap();
    fs::write(r.path().join("victim"), "SECRET-1.0\n").unwrap();
    let run = || {
        let start = std::time::Instant::now();
        let o = hook(r.path(), &["recorded-version", "--package", "imsrv"]);
        assert!(start.elapsed().as_secs() < 10, "it blocked");
        assert!(o.status.success(), "{}", err(&o));
        (out(&o), err(&o))
    };
    assert_eq!(run().0, "");
    fs::write(old.join("version"), "3.3.0\n").unwrap();
    assert_eq!(run().0, "3.3.0\n");
    // The new state dir wins once it holds a version.
    let state = r.path().join("var/lib/packwright/imsrv");
    fs::create_dir_all(&state).unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(state.join("version"), "3.4.0\n").unwrap();
    assert_eq!(run().0, "3.4.0\n");
    fs::remove_file(state.join("version")).unwrap();

    fs::remove_file(old.join("version")).unwrap();
    let fifo = std::ffi::CString::new(old.join("version").as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let (o, e) = run();
    assert_eq!(o, "");
    assert!(e.contains("version (not a regular file)"), "{e}");
    fs::remove_file(old.join("version")).unwrap();
    symlink(r.path().join("victim"), old.join("version")).unwrap();
    let (o, e) = run();
    assert_eq!(o, "");
    assert!(e.contains("(a symlink)") && !e.contains("SECRET"), "{e}");
    fs::remove_file(old.join("version")).unwrap();
    fs::hard_link(r.path().join("victim"), old.join("version")).unwrap();
    let (o, e) = run();
    assert_eq!(o, "");
    assert!(e.contains("2 hard links") && !e.contains("SECRET"), "{e}");
}

/// `own`, which the generated scripts call for the paths the package gives
/// its service user: owner and setgid mode on the path itself, only the
/// link's own owner for a symlink, nothing through a directory on the way
/// that was swapped for a link (to where a victim lies).
#[test]
fn own_never_changes_anything_through_a_link() {
    let r = tempfile::tempdir().unwrap();
    let root = r.path();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0::/root:/bin/sh\nimsrv:x:999:999::/:/bin/false\n",
    )
    .unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\nimsrv:x:999:\n").unwrap();
    fs::create_dir_all(root.join("var/lib/imsrv/cache")).unwrap();
    fs::write(root.join("etc/victim"), "v").unwrap();
    fs::set_permissions(root.join("etc/victim"), fs::Permissions::from_mode(0o600)).unwrap();
    let own = |p: &str| {
        let args = [
            "own",
            "--path",
            p,
            "--owner",
            "imsrv:imsrv",
            "--mode",
            "2750",
        ];
        let o = hook(root, &args);
        assert!(o.status.success(), "{}", err(&o));
        err(&o)
    };
    own("/var/lib/imsrv/cache");
    let m = fs::symlink_metadata(root.join("var/lib/imsrv/cache")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (999, 999, 0o2750));
    let victim = || {
        let m = fs::symlink_metadata(root.join("etc/victim")).unwrap();
        (m.uid(), m.gid(), m.mode() & 0o7777)
    };
    let before = victim();
    fs::remove_dir(root.join("var/lib/imsrv/cache")).unwrap();
    symlink(root.join("etc"), root.join("var/lib/imsrv/cache")).unwrap();
    let e = own("/var/lib/imsrv/cache/victim");
    assert!(
        e.contains("owner not set") && e.contains("/var/lib/imsrv/cache"),
        "{e}"
    );
    assert_eq!(victim(), before);
    fs::remove_file(root.join("var/lib/imsrv/cache")).unwrap();
    symlink(root.join("etc/victim"), root.join("var/lib/imsrv/cache")).unwrap();
    own("/var/lib/imsrv/cache");
    assert_eq!(victim(), before);
    let link = fs::symlink_metadata(root.join("var/lib/imsrv/cache")).unwrap();
    assert_eq!((link.uid(), link.gid()), (999, 999), "chown -h semantics");
}

#[test]
fn a_link_in_a_data_dir_is_archived_as_a_link_never_what_it_leads_to() {
    let (r, d) = data_dir_with_links_out();
    let o = hook(r.path(), &["backup", "--package", PKG]);
    assert!(o.status.success(), "{}", err(&o));
    let snap = snapshots(&r.state()).pop().unwrap();
    let (tar, sums) = snapshot_bytes(&snap);
    assert!(!holds(&tar, b"SECRET"), "the secret is in the archive");
    assert!(
        !sums.contains("alt/") && !sums.contains("keylink"),
        "{sums}"
    );
    let mut ar = tar::Archive::new(&tar[..]);
    let links: Vec<(String, String)> = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.header().entry_type() == tar::EntryType::Symlink)
        .map(|e| {
            let name = e.path().unwrap().to_string_lossy().into_owned();
            (
                name,
                e.link_name().unwrap().unwrap().to_string_lossy().into(),
            )
        })
        .collect();
    let secret = r.at("etc/secret");
    let want = [
        (
            "var/lib/imsrv/alt".to_string(),
            secret.display().to_string(),
        ),
        (
            "var/lib/imsrv/keylink".into(),
            secret.join("shadow").display().to_string(),
        ),
    ];
    assert_eq!(links, want);
    // Restored, they are links again; nothing of the secret came along.
    let id = snap.file_name().unwrap().to_str().unwrap();
    let o = hook(r.path(), &["restore", "--package", PKG, "--snapshot", id]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(fs::symlink_metadata(d.join("alt"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(read(&d.join("inside/shadow")), "harmless\n");
}

#[test]
fn a_dir_or_file_swapped_for_a_link_during_backups_never_leaks() {
    // The service user swaps `inside` (a dir) with `alt` (a link to a
    // root-only dir holding the same names) and `key` with `keylink`, in a
    // tight loop, while root takes snapshot after snapshot: each one either
    // is refused as changed or holds only what the data dir held.
    let (r, d) = data_dir_with_links_out();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swaps = {
        let (d, stop) = (d.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                exchange(&d.join("inside"), &d.join("alt"));
                exchange(&d.join("key"), &d.join("keylink"));
                n += 1;
            }
            n
        })
    };
    let (start, mut kept, mut changed) = (std::time::Instant::now(), 0, 0);
    while start.elapsed() < std::time::Duration::from_secs(3) {
        let o = hook(r.path(), &["backup", "--package", PKG]);
        if !o.status.success() {
            let e = err(&o);
            assert!(e.contains("changed while it was archived"), "{e}");
            changed += 1;
            continue;
        }
        kept += 1;
        for snap in snapshots(&r.state()) {
            let (tar, sums) = snapshot_bytes(&snap);
            assert!(
                !holds(&tar, b"SECRET"),
                "the secret leaked into {}",
                snap.display()
            );
            assert!(!sums.contains("SECRET"));
            fs::remove_dir_all(&snap).unwrap();
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = swaps.join().unwrap();
    eprintln!("{kept} snapshots kept, {changed} refused as changed, {swaps} swaps");
    assert!(kept + changed >= 10 && swaps > 100, "the race did not run");
}
