//! Item 4 of issue #4: each protection has a test that fails without it.

use crate::fixture::code;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BASE: &str = "version: 1\nserver:\n  port: 80\n";
const LIVE: &str = "version: 1\nserver:\n  port: 8080\n";
const NEW: &str = "version: 2\nserver:\n  port: 80\n  tls: false\n";

struct Fx {
    dir: tempfile::TempDir,
    live: PathBuf,
}

impl Fx {
    fn new() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("base.yaml"), BASE).unwrap();
        fs::write(dir.path().join("default.yaml"), NEW).unwrap();
        let live = dir.path().join("config.yaml");
        fs::write(&live, LIVE).unwrap();
        Fx { dir, live }
    }
    fn p(&self, n: &str) -> PathBuf {
        self.dir.path().join(n)
    }
    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_packwright-hook"));
        c.arg("update")
            .arg("--base")
            .arg(self.p("base.yaml"))
            .arg("--default")
            .arg(self.p("default.yaml"))
            .arg("--live")
            .arg(&self.live)
            .args(["--version-key", "version"]);
        c
    }
    fn update(&self) -> Output {
        self.cmd().output().unwrap()
    }
    fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_merge_writes_through_a_temp_file_and_rename() {
    // The inode changes: the live file was replaced, not rewritten in place,
    // so a reader never sees half a file.
    let fx = Fx::new();
    let before = fs::metadata(&fx.live).unwrap().ino();
    let o = fx.update();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_ne!(fs::metadata(&fx.live).unwrap().ino(), before);
    assert_eq!(
        fs::read_to_string(&fx.live).unwrap(),
        "version: 2\nserver:\n  port: 8080\n  tls: false\n"
    );
    assert_eq!(
        fx.files(),
        [
            "base.yaml",
            "config.yaml",
            "config.yaml.packwright-old",
            "default.yaml"
        ]
    );
}

#[test]
fn a_full_disk_leaves_the_live_file_byte_identical() {
    // A file size limit makes every write past 120 bytes fail, like a full
    // disk: the backup (small) fits, the merged file (large) does not.
    let fx = Fx::new();
    let long = format!("# {}\n{NEW}", "documentation ".repeat(20));
    fs::write(fx.p("default.yaml"), &long).unwrap();
    let mut c = fx.cmd();
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: 120,
                rlim_max: 120,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
            Ok(())
        });
    }
    let o = c.output().unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("File too large"), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&fx.live).unwrap(), LIVE);
    assert!(
        !fx.files().iter().any(|f| f.contains("packwright-tmp")),
        "temp file removed: {:?}",
        fx.files()
    );
}

#[test]
fn a_read_only_directory_leaves_the_live_file_byte_identical() {
    // As an unprivileged user the live file is writable but its directory is
    // not: writing in place would succeed, an atomic replace must not.
    let fx = Fx::new();
    fs::set_permissions(fx.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&fx.live, Some(65534), Some(65534)).unwrap();
    fs::set_permissions(&fx.live, fs::Permissions::from_mode(0o666)).unwrap();
    // A writable backup too, so only the directory stands in the way.
    let old = fx.p("config.yaml.packwright-old");
    fs::write(&old, "").unwrap();
    std::os::unix::fs::chown(&old, Some(65534), Some(65534)).unwrap();
    let mut c = fx.cmd();
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        c.pre_exec(|| {
            if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = c.output().unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("Permission denied"), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&fx.live).unwrap(), LIVE);
}

#[test]
fn owner_and_mode_of_the_live_file_are_kept_and_the_backup_is_never_wider() {
    let fx = Fx::new();
    std::os::unix::fs::chown(&fx.live, Some(1234), Some(4321)).unwrap();
    fs::set_permissions(&fx.live, fs::Permissions::from_mode(0o600)).unwrap();
    let o = fx.update();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for f in ["config.yaml", "config.yaml.packwright-old"] {
        let m = fs::metadata(fx.p(f)).unwrap();
        assert_eq!(
            (m.uid(), m.gid(), m.mode() & 0o7777),
            (1234, 4321, 0o600),
            "{f}"
        );
    }
}

#[test]
fn the_init_backup_gets_the_live_files_mode() {
    let fx = Fx::new();
    fs::set_permissions(&fx.live, fs::Permissions::from_mode(0o600)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_packwright-hook"))
        .args(["init", "--force", "--template"])
        .arg(fx.p("default.yaml"))
        .arg("--live")
        .arg(&fx.live)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let m = fs::metadata(fx.p("config.yaml.packwright-old")).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o600);
    assert_eq!(
        fs::read_to_string(fx.p("config.yaml.packwright-old")).unwrap(),
        LIVE
    );
    assert_eq!(fs::metadata(&fx.live).unwrap().mode() & 0o7777, 0o600);
}

fn victim(fx: &Fx) -> PathBuf {
    let v = fx.p("victim");
    fs::write(&v, "do not touch\n").unwrap();
    v
}

fn assert_refused(fx: &Fx, o: &Output, link: &Path, v: &Path) {
    assert_eq!(code(o), 7, "{}", stderr(o));
    assert!(
        stderr(o).contains("refusing to follow a symlink"),
        "{}",
        stderr(o)
    );
    assert!(
        fs::symlink_metadata(link).unwrap().file_type().is_symlink(),
        "the link is left alone"
    );
    assert_eq!(fs::read_to_string(v).unwrap(), "do not touch\n");
    let _ = fx;
}

#[test]
fn a_symlink_as_the_live_file_is_refused() {
    let fx = Fx::new();
    let v = victim(&fx);
    fs::remove_file(&fx.live).unwrap();
    symlink(&v, &fx.live).unwrap();
    let o = fx.update();
    assert_refused(&fx, &o, &fx.live, &v);
}

#[test]
fn a_symlink_as_the_backup_or_conflict_file_is_refused() {
    for name in ["config.yaml.packwright-old", "config.yaml.packwright-new"] {
        let fx = Fx::new();
        let v = victim(&fx);
        symlink(&v, fx.p(name)).unwrap();
        let o = fx.update();
        assert_refused(&fx, &o, &fx.p(name), &v);
        assert_eq!(fs::read_to_string(&fx.live).unwrap(), LIVE, "{name}");
    }
}

#[test]
fn a_symlink_as_the_temp_file_is_refused() {
    use packwright_hook::command::{update, Ctx, UpdateArgs};
    use packwright_hook::error::HookError;
    use packwright_hook::merge::ConfigSyntax;
    let fx = Fx::new();
    let v = victim(&fx);
    // The temp name is derived from the process id: plant a link there.
    let tmp = fx.p(&format!(
        ".config.yaml.packwright-tmp{}",
        std::process::id()
    ));
    symlink(&v, &tmp).unwrap();
    let args = UpdateArgs {
        base: Some(fx.p("base.yaml")),
        default: fx.p("default.yaml"),
        live: fx.live.clone(),
        format: ConfigSyntax::Yaml,
        version_key: Some("version".into()),
        dry_run: false,
        meta: None,
        renames: vec![],
        list_keys: vec![],
    };
    let e = update(
        &args,
        &Ctx {
            env: &|_| None,
            confirm: None,
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, HookError::NotRegular { ref path } if path == &tmp),
        "{e}"
    );
    assert!(fs::symlink_metadata(&tmp).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(&v).unwrap(), "do not touch\n");
    assert_eq!(fs::read_to_string(&fx.live).unwrap(), LIVE);
}

#[test]
fn a_symlink_as_the_pristine_copy_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let share = root.join("usr/share/demo");
    fs::create_dir_all(share.join("packwright")).unwrap();
    fs::write(share.join("packwright/package.json"), r#"{"package":"demo","version":"1","configs":[{"live":"/etc/demo/a.yaml","default":"/usr/share/demo/a.yaml"}]}"#).unwrap();
    fs::write(share.join("a.yaml"), "a: 1\n").unwrap();
    let pristine = root.join("var/lib/packwright/demo/pristine");
    fs::create_dir_all(&pristine).unwrap();
    let v = root.join("victim");
    fs::write(&v, "do not touch\n").unwrap();
    let link = pristine.join("etc%2Fdemo%2Fa.yaml");
    symlink(&v, &link).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_packwright-hook"))
        .arg("--root")
        .arg(root)
        .args(["install", "--package", "demo"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 7, "{}", stderr(&o));
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(&v).unwrap(), "do not touch\n");
}

#[test]
fn a_second_hook_is_refused_while_the_lock_is_held() {
    use std::os::fd::AsRawFd;
    let fx = Fx::new();
    let dir = fs::File::open(fx.dir.path()).unwrap();
    // SAFETY: flock on an open descriptor.
    assert_eq!(
        unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    let o = fx.update();
    assert_eq!(code(&o), 8, "{}", stderr(&o));
    assert!(stderr(&o).contains("another packwright-hook is running"));
    assert_eq!(fs::read_to_string(&fx.live).unwrap(), LIVE);
    drop(dir);
    assert_eq!(code(&fx.update()), 0);
}

#[test]
fn a_malformed_live_file_is_never_rewritten() {
    let cases = [
        ("yaml", "a: 1\nb: [1, 2\nc: 3\n", "version: 2\n", ":3:"),
        ("toml", "a = 1\nb = \n", "version = 2\n", ":2:"),
        (
            "json",
            "{\n  \"a\": 1,\n  \"b\": }\n",
            "{\"version\": 2}\n",
            ":3:",
        ),
    ];
    for (ext, bad, new, at) in cases {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join(format!("config.{ext}"));
        fs::write(&live, bad).unwrap();
        fs::write(dir.path().join("default"), new).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_packwright-hook"))
            .args(["update", "--format", ext, "--default"])
            .arg(dir.path().join("default"))
            .arg("--live")
            .arg(&live)
            .output()
            .unwrap();
        assert_eq!(code(&o), 4, "{ext}: {}", stderr(&o));
        let msg = stderr(&o);
        assert!(
            msg.contains(&format!("config.{ext}{at}")),
            "{ext}: names file, line and column: {msg}"
        );
        assert_eq!(fs::read_to_string(&live).unwrap(), bad, "{ext}: untouched");
        assert_eq!(
            fs::read_to_string(format!("{}.packwright-new", live.display())).unwrap(),
            new,
            "{ext}"
        );
    }
}

#[test]
fn dry_run_touches_nothing() {
    let fx = Fx::new();
    let o = fx.cmd().arg("--dry-run").output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("-version: 1\n+version: 2\n"), "{out}");
    assert!(out.contains("+  tls: false\n"), "{out}");
    assert_eq!(fs::read_to_string(&fx.live).unwrap(), LIVE);
    assert_eq!(fx.files(), ["base.yaml", "config.yaml", "default.yaml"]);
}
