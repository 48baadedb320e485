//! A package with data dirs and migrations in a test root, for the upgrade,
//! snapshot and migration tests. Migrations are `#!/bin/sh` scripts run
//! chrooted into the root, so the root gets a static busybox as /bin/sh.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const PKG: &str = "imsrv";
pub const CONFIG_V1: &str = "version: 1\nserver:\n  port: 10001\n";
pub const CONFIG_V2: &str = "version: 2\nserver:\n  port: 10001\n  mongo: mongodb://localhost\n";

pub struct Root {
    pub dir: tempfile::TempDir,
}

pub fn hook(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_packwright-hook"))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every skip goes through here: under CI or `PACKWRIGHT_REQUIRE_TOOLS=1`
/// a missing prerequisite fails the test loudly (.ci/run installs them all);
/// elsewhere it prints why the test is skipped and returns false.
pub fn require(ok: bool, missing: &str) -> bool {
    if ok {
        return true;
    }
    let required = std::env::var_os("CI").is_some()
        || std::env::var("PACKWRIGHT_REQUIRE_TOOLS").as_deref() == Ok("1");
    if required {
        panic!("{missing}, and it is required here (CI or PACKWRIGHT_REQUIRE_TOOLS=1)");
    }
    eprintln!("SKIPPED: {missing} (set PACKWRIGHT_REQUIRE_TOOLS=1 to make this a failure)");
    false
}

/// Whether the tool `name` is on PATH (see [`require`]).
pub fn tool(name: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|o| o.status.success());
    require(found, &format!("`{name}` is not installed"))
}

/// Migrations run chrooted: that needs root and a static busybox to be /bin/sh.
pub fn can_chroot() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    require(root, "chrooted migrations need root")
        && require(
            busybox().is_some(),
            "chrooted migrations need a static busybox",
        )
}

fn busybox() -> Option<PathBuf> {
    let p = ["/usr/bin/busybox", "/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())?;
    let o = Command::new("file").arg("-L").arg(&p).output().ok()?;
    String::from_utf8_lossy(&o.stdout)
        .contains("statically linked")
        .then_some(p)
}

impl Root {
    pub fn new() -> Root {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::create_dir_all(r.join("etc")).unwrap();
        fs::write(
            r.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nimsrv:x:997:997::/var/lib/imsrv:/sbin/nologin\n",
        )
        .unwrap();
        fs::write(r.join("etc/group"), "root:x:0:\nimsrv:x:997:\n").unwrap();
        if let Some(bb) = busybox() {
            fs::create_dir_all(r.join("bin")).unwrap();
            fs::copy(bb, r.join("bin/busybox")).unwrap();
            for a in [
                "sh", "cat", "sed", "mv", "rm", "ls", "sleep", "env", "pwd", "mkdir", "echo",
                "seq", "grep", "sort",
            ] {
                std::os::unix::fs::symlink("busybox", r.join("bin").join(a)).unwrap();
            }
        }
        Root { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn at(&self, p: &str) -> PathBuf {
        self.path().join(p.trim_start_matches('/'))
    }

    /// Ship `version` of the package: its default config, its description
    /// with `migrations` (version, script body, timeout) and the data dir.
    pub fn release(&self, version: &str, config: &str, migrations: &[(&str, &str, Option<u64>)]) {
        let share = self.at("usr/share/imsrv");
        let _ = fs::remove_dir_all(share.join("migrations"));
        fs::create_dir_all(share.join("packwright")).unwrap();
        fs::create_dir_all(share.join("defaults")).unwrap();
        fs::write(share.join("defaults/config.yaml"), config).unwrap();
        let mut ms = Vec::new();
        for (i, (v, body, timeout)) in migrations.iter().enumerate() {
            let dir = share.join(format!("migrations/{v}"));
            fs::create_dir_all(&dir).unwrap();
            let file = dir.join(format!("step{i}.sh"));
            fs::write(&file, format!("#!/bin/sh\n{body}")).unwrap();
            fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
            ms.push(serde_json::json!({
                "version": v,
                "run": format!("/usr/share/imsrv/migrations/{v}/step{i}.sh"),
                "timeout": timeout,
            }));
        }
        let desc = serde_json::json!({
            "package": PKG,
            "version": version,
            "configs": [{"live": "/etc/imsrv/config.yaml", "default": "/usr/share/imsrv/defaults/config.yaml",
                         "format": "yaml", "version_key": "version", "mode": "0640", "owner": "root", "group": "imsrv"}],
            "upgrade": {"stops": [], "policy": null, "allow_downgrade": false, "data_dirs": ["/var/lib/imsrv"], "backup_keep": 2},
            "migrations": ms,
        });
        fs::write(share.join("packwright/package.json"), desc.to_string()).unwrap();
    }

    /// Data as 3.4.0 left it: MySQL dumps, owners, modes, a symlink, an
    /// empty dir, a sparse file, a name with a newline.
    pub fn seed_data(&self) {
        let d = self.at("var/lib/imsrv");
        fs::create_dir_all(d.join("users")).unwrap();
        fs::create_dir_all(d.join("empty")).unwrap();
        fs::write(d.join("users/alice.mysql"), "alice\t1\n").unwrap();
        fs::write(d.join("users/bob.mysql"), "bob\t2\n").unwrap();
        fs::write(d.join("users/odd\nname.mysql"), "odd\t3\n").unwrap();
        std::os::unix::fs::symlink("users", d.join("current")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/target", d.join("dangling")).unwrap();
        let secret = d.join("users/secret.key");
        fs::write(&secret, "k3y\n").unwrap();
        fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&secret, Some(997), Some(997)).unwrap();
        fs::set_permissions(d.join("empty"), fs::Permissions::from_mode(0o700)).unwrap();
        let big = fs::File::create(d.join("big.img")).unwrap();
        big.set_len(64 << 20).unwrap();
        use std::io::{Seek, SeekFrom, Write};
        let mut big = big;
        big.seek(SeekFrom::Start(1 << 20)).unwrap();
        big.write_all(b"not all zeros").unwrap();
        std::os::unix::fs::chown(&d, Some(997), Some(997)).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o750)).unwrap();
    }

    pub fn state(&self) -> PathBuf {
        self.at("var/lib/packwright/imsrv")
    }

    pub fn live(&self) -> PathBuf {
        self.at("etc/imsrv/config.yaml")
    }

    pub fn install(&self) {
        let o = hook(
            self.path(),
            &["install", "--package", PKG, "--new", "3.4.0"],
        );
        assert!(o.status.success(), "{}", err(&o));
    }

    pub fn upgrade(&self, old: &str, new: &str) -> Output {
        hook(
            self.path(),
            &[
                "upgrade",
                "--package",
                PKG,
                "--old",
                old,
                "--new",
                new,
                "--manager",
                "deb",
            ],
        )
    }
}

/// Set a `user.` xattr; false where the filesystem has none.
pub fn set_xattr(p: &Path, name: &str, value: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    // SAFETY: valid C strings and a buffer of the given length.
    unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        ) == 0
    }
}

pub fn get_xattr(p: &Path, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 256];
    // SAFETY: valid C strings and a buffer of the given length.
    let len =
        unsafe { libc::lgetxattr(c.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (len >= 0).then(|| buf[..len as usize].to_vec())
}

/// Every entry below `dir` except the state dir: path, type, mode, owner,
/// mtime, symlink target, content hash. Equal listings = the same tree.
pub fn listing(dir: &Path, skip: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.path() != skip)
    {
        let e = e.unwrap();
        let m = e.path().symlink_metadata().unwrap();
        let what = if m.file_type().is_symlink() {
            format!("-> {}", fs::read_link(e.path()).unwrap().display())
        } else if m.is_file() {
            hex::encode(Sha256::digest(fs::read(e.path()).unwrap()))
        } else {
            "dir".into()
        };
        out.push(format!(
            "{:?} {:o} {}:{} {} {}",
            e.path().strip_prefix(dir).unwrap(),
            m.mode(),
            m.uid(),
            m.gid(),
            m.mtime(),
            what
        ));
    }
    out
}

pub fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// (bytes, mode, uid, gid) of a file.
pub fn file_state(p: &Path) -> (Vec<u8>, u32, u32, u32) {
    let m = fs::metadata(p).unwrap();
    (fs::read(p).unwrap(), m.mode(), m.uid(), m.gid())
}

/// The snapshot dirs under backups/, oldest first.
pub fn snapshots(state: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(state.join("backups"))
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.retain(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'));
    v.sort();
    v
}

/// The entry names of a snapshot's data archive.
pub fn archive_names(snapshot: &Path) -> Vec<String> {
    let f = fs::File::open(snapshot.join("data.tar.zst")).unwrap();
    let mut ar = tar::Archive::new(zstd::stream::read::Decoder::new(f).unwrap());
    ar.entries()
        .unwrap()
        .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
        .collect()
}

/// A package root whose data dir holds `inside` (a dir), `key` (a file)
/// and the links `alt -> /etc/secret`, `keylink -> /etc/secret/shadow`,
/// where `/etc/secret/shadow` (root's, 0600) holds `SECRET`.
pub fn data_dir_with_links_out() -> (Root, PathBuf) {
    let r = Root::new();
    r.release("3.4.0", CONFIG_V1, &[]);
    r.install();
    let (d, secret) = (r.at("var/lib/imsrv"), r.at("etc/secret"));
    fs::create_dir_all(d.join("inside")).unwrap();
    fs::create_dir_all(&secret).unwrap();
    fs::write(d.join("inside/shadow"), "harmless\n").unwrap();
    fs::write(d.join("key"), "harmless\n").unwrap();
    fs::write(secret.join("shadow"), "SECRET\n").unwrap();
    fs::set_permissions(secret.join("shadow"), fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(&secret, d.join("alt")).unwrap();
    std::os::unix::fs::symlink(secret.join("shadow"), d.join("keylink")).unwrap();
    (r, d)
}

/// The snapshot's archive, decompressed, and its SHA256SUMS.
pub fn snapshot_bytes(snap: &Path) -> (Vec<u8>, String) {
    let tar = zstd::decode_all(&fs::read(snap.join("data.tar.zst")).unwrap()[..]).unwrap();
    (tar, read(&snap.join("SHA256SUMS")))
}

pub fn holds(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Swap the entries `a` and `b` in one step (`renameat2` exchange).
pub fn exchange(a: &Path, b: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let (a, b) = (c(a), c(b));
    let (at, how) = (libc::AT_FDCWD, libc::RENAME_EXCHANGE);
    // SAFETY: two NUL-terminated paths that outlive the call; plain integers.
    let r = unsafe { libc::syscall(libc::SYS_renameat2, at, a.as_ptr(), at, b.as_ptr(), how) };
    assert_eq!(r, 0, "renameat2: {}", std::io::Error::last_os_error());
}

/// The hook's exit code (-1 when a signal ended it).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Take a snapshot of `r` with `backup`; its path.
pub fn backup(r: &Root) -> std::path::PathBuf {
    let o = hook(r.path(), &["backup", "--package", PKG]);
    assert!(o.status.success(), "{}", err(&o));
    snapshots(&r.state()).pop().unwrap()
}
