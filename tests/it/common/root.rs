//! Scratch roots for the real package managers (dpkg, rpm, pacman) and for
//! a simulated apk: a static busybox as `/bin/sh`, a minimal `/etc`, and a
//! `systemctl` that records its calls instead of talking to systemd.
//!
//! Facts this relies on (README: "How the managers run scripts"; tests/it/{deb,rpm,pacman}.rs):
//! - dpkg, rpm and pacman chroot into the root to run scripts: the tests
//!   must run as root, and the root needs a `/bin/sh`;
//! - busybox applet links go to `/bin` only: packages ship `/usr/...` and a
//!   link there would collide with a package path;
//! - Debian's busybox-static (1.35) has no `adduser`/`addgroup` applets
//!   (Alpine's busybox has them). The root then gets small stand-ins in
//!   `/bin` that take busybox's options and write the same passwd, group and
//!   shadow lines, so the generated scripts' busybox path is what runs;
//! - no `/dev`: the generated scripts must cope without one (none of the
//!   managers needs it).
#![allow(dead_code)]

use super::{run, stderr, stdout};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The static `packwright-hook` as packages ship it, built once per test
/// process by packaging/build-hook.sh (the hook profile, `+crt-static` so it
/// runs in a root without a libc, the size flags) in the tests' target dir.
pub fn static_hook() -> PathBuf {
    static HOOK: OnceLock<PathBuf> = OnceLock::new();
    HOOK.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| if t.is_absolute() { t } else { repo.join(t) })
            .unwrap_or_else(|| repo.join("target"));
        let out = Command::new("sh")
            .current_dir(repo)
            .arg("packaging/build-hook.sh")
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("cannot run packaging/build-hook.sh");
        assert!(
            out.status.success(),
            "building the static packwright-hook failed with {}\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            stdout(&out),
            stderr(&out)
        );
        let bin = target.join("x86_64-unknown-linux-gnu/hook/packwright-hook");
        assert!(
            bin.is_file(),
            "packaging/build-hook.sh succeeded but {} is missing",
            bin.display()
        );
        bin
    })
    .clone()
}

/// `pacman` acting only inside `root` with the config `conf`: with only
/// --root, pacman 6.0 still uses the host's hooks, cache and keyring, so
/// every path is given.
pub fn pacman_command(root: &Path, conf: &Path) -> Command {
    let at = |rel: &str| root.join(rel).into_os_string();
    let mut c = Command::new("pacman");
    c.arg("--root")
        .arg(root)
        .arg("--dbpath")
        .arg(at("var/lib/pacman"))
        .arg("--config")
        .arg(conf)
        .arg("--logfile")
        .arg(at("var/log/pacman.log"))
        .arg("--cachedir")
        .arg(at("var/cache/pacman/pkg"))
        .arg("--hookdir")
        .arg(at("etc/pacman.d/hooks"))
        .arg("--gpgdir")
        .arg(at("etc/pacman.d/gnupg"))
        .arg("--noconfirm");
    c
}

/// The host's static busybox.
pub fn busybox() -> PathBuf {
    for p in ["/usr/bin/busybox", "/bin/busybox"] {
        if Path::new(p).is_file() {
            return p.into();
        }
    }
    let found = run(Command::new("sh").args(["-c", "command -v busybox"]));
    PathBuf::from(stdout(&found).trim())
}

/// Whether this process may chroot. Under CI or PACKWRIGHT_REQUIRE_TOOLS=1
/// not being root is a failure; elsewhere the test is skipped.
pub fn privileged() -> bool {
    super::root_user()
}

/// busybox applets linked into `/bin`.
const APPLETS: &[&str] = &[
    "sh", "mkdir", "chown", "chmod", "rm", "rmdir", "cat", "grep", "adduser", "addgroup", "mv",
    "cp", "ln", "ls", "sed", "head", "tail", "sort", "tr", "id", "env", "test", "true", "false",
    "printf", "echo", "touch", "readlink", "stat", "dd",
];

/// Stand-in for busybox `addgroup [-S] [-g GID] GROUP` (first free id from
/// 100 for a system group, else from 1000), as busybox writes it.
const ADDGROUP: &str = r#"#!/bin/sh
# Test stand-in for busybox addgroup: this busybox has no such applet.
sys=0
gid=
while [ $# -gt 1 ]; do
	case $1 in
	-S) sys=1 ;;
	-g) shift; gid=$1 ;;
	*) echo "addgroup: unknown option $1" >&2; exit 1 ;;
	esac
	shift
done
name=$1
if grep -q "^$name:" /etc/group; then
	echo "addgroup: group '$name' in use" >&2
	exit 1
fi
if [ -z "$gid" ]; then
	if [ $sys = 1 ]; then gid=100; else gid=1000; fi
	while cut -d: -f3 /etc/group | grep -qx "$gid"; do gid=$((gid + 1)); done
fi
echo "$name:x:$gid:" >>/etc/group
"#;

/// Stand-in for busybox `adduser [-S] [-D] [-H] [-h HOME] [-s SHELL]
/// [-G GROUP] [-g GECOS] [-u UID] USER`.
const ADDUSER: &str = r#"#!/bin/sh
# Test stand-in for busybox adduser: this busybox has no such applet.
sys=0
home=
shell=/bin/sh
group=
gecos=
uid=
while [ $# -gt 1 ]; do
	case $1 in
	-S) sys=1 ;;
	-D|-H) ;;
	-h) shift; home=$1 ;;
	-s) shift; shell=$1 ;;
	-G) shift; group=$1 ;;
	-g) shift; gecos=$1 ;;
	-u) shift; uid=$1 ;;
	*) echo "adduser: unknown option $1" >&2; exit 1 ;;
	esac
	shift
done
name=$1
if grep -q "^$name:" /etc/passwd; then
	echo "adduser: user '$name' in use" >&2
	exit 1
fi
if [ -z "$uid" ]; then
	if [ $sys = 1 ]; then uid=100; else uid=1000; fi
	while cut -d: -f3 /etc/passwd | grep -qx "$uid"; do uid=$((uid + 1)); done
fi
if [ -z "$group" ]; then
	if [ $sys = 1 ]; then group=nogroup; else group=$name; addgroup -g "$uid" "$name" || exit 1; fi
fi
gid=$(grep "^$group:" /etc/group | cut -d: -f3)
if [ -z "$gid" ]; then
	echo "adduser: unknown group $group" >&2
	exit 1
fi
[ -n "$home" ] || home=/home/$name
echo "$name:x:$uid:$gid:$gecos:$home:$shell" >>/etc/passwd
echo "$name:!:19000:0:99999:7:::" >>/etc/shadow
"#;

/// Records every call as one line in `/systemctl.log`; answers `is-enabled`
/// from `/systemctl-state/UNIT` ("enabled" when absent; exit 1 for
/// disabled and masked, like systemctl) and `is-active` with "active"
/// unless the unit was stopped since it last (re)started ("inactive", exit 3,
/// so a unit a failed upgrade left stopped looks stopped on the retry).
const SYSTEMCTL: &str = r#"#!/bin/sh
# systemctl recorder for packwright's lifecycle tests.
echo "$*" >>/systemctl.log
verb=
unit=
for a in "$@"; do
	case $a in
	-*) ;;
	*)
		if [ -z "$verb" ]; then verb=$a; elif [ -z "$unit" ]; then unit=$a; fi
		;;
	esac
done
case $verb in
is-enabled)
	state=enabled
	if [ -f "/systemctl-state/$unit" ]; then state=$(cat "/systemctl-state/$unit"); fi
	echo "$state"
	case $state in
	disabled|masked*) exit 1 ;;
	esac
	;;
is-active)
	if [ -f "/systemctl-state/$unit.stopped" ]; then
		echo inactive
		exit 3
	fi
	echo active
	;;
stop) : >"/systemctl-state/$unit.stopped" ;;
start | restart) rm -f "/systemctl-state/$unit.stopped" ;;
esac
exit 0
"#;

/// The verbs that change a unit or the manager: what the tests assert on.
const ACTIONS: &[&str] = &[
    "daemon-reload",
    "enable",
    "disable",
    "start",
    "stop",
    "restart",
    "try-restart",
    "reload",
    "reload-or-restart",
    "try-reload-or-restart",
    "mask",
    "unmask",
    "preset",
];

/// Which manager a root is laid out for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Dpkg,
    Rpm,
    Pacman,
    /// No apk-tools on Debian: the tests extract and run scripts as apk does.
    Apk,
}

/// A manager's answer: exit status and everything it printed.
pub struct Ran {
    pub ok: bool,
    pub code: Option<i32>,
    /// stdout alone.
    pub out: String,
    /// The command, its exit, stdout and stderr: for messages and greps.
    pub text: String,
}

impl Ran {
    pub fn from(cmd: &Command, o: &Output) -> Ran {
        Ran {
            ok: o.status.success(),
            code: o.status.code(),
            out: stdout(o),
            text: format!(
                "$ {cmd:?}\n--- exit {:?}\n--- stdout\n{}--- stderr\n{}",
                o.status.code(),
                stdout(o),
                stderr(o)
            ),
        }
    }

    /// Panics with the output unless the command succeeded.
    pub fn ok(self) -> Ran {
        assert!(self.ok, "command failed:\n{}", self.text);
        self
    }

    /// Panics with the output unless the command failed.
    pub fn failed(self) -> Ran {
        assert!(!self.ok, "command succeeded but must fail:\n{}", self.text);
        self
    }
}

/// One scratch root (`<tmp>/root`) plus the manager's own files beside it.
pub struct Root {
    pub(super) dir: tempfile::TempDir,
    pub mgr: Manager,
}

impl Root {
    pub fn new(mgr: Manager) -> Root {
        let dir = tempfile::tempdir().unwrap();
        let root = Root { dir, mgr };
        let r = root.path();
        for d in ["bin", "etc", "tmp", "var/log", "usr/bin", "systemctl-state"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        std::fs::set_permissions(r.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
        std::fs::copy(busybox(), r.join("bin/busybox")).unwrap();
        // Ask the host's copy: running the fresh copy could meet ETXTBSY
        // while another test thread's fork still holds the write handle.
        let have = stdout(&run(Command::new(busybox()).arg("--list")));
        let have: Vec<&str> = have.lines().collect();
        for a in APPLETS {
            if have.contains(a) {
                std::os::unix::fs::symlink("busybox", r.join("bin").join(a)).unwrap();
            }
        }
        if !have.contains(&"cut") {
            panic!("busybox has no `cut` applet, which the adduser stand-in needs");
        }
        std::os::unix::fs::symlink("busybox", r.join("bin/cut")).unwrap();
        for (name, text) in [("addgroup", ADDGROUP), ("adduser", ADDUSER)] {
            if !have.contains(&name) {
                root.exec(&format!("bin/{name}"), text);
            }
        }
        root.write(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        );
        root.write("etc/group", "root:x:0:\nnogroup:x:65534:\n");
        root.write(
            "etc/shadow",
            "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
        );
        std::fs::set_permissions(r.join("etc/shadow"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        root.exec("usr/bin/systemctl", SYSTEMCTL);
        match mgr {
            Manager::Dpkg => {
                // Debian's wrappers (init-system-helpers) around systemctl,
                // reduced to what reaches systemctl, so the recorder sees
                // the same calls as on the other managers.
                root.exec(
                    "usr/bin/deb-systemd-invoke",
                    "#!/bin/sh\nexec systemctl \"$@\"\n",
                );
                root.exec(
                    "usr/bin/deb-systemd-helper",
                    "#!/bin/sh\ncase \"$1\" in\nenable | disable) exec systemctl \"$@\" ;;\nesac\n",
                );
                for d in [
                    "var/lib/dpkg/info",
                    "var/lib/dpkg/updates",
                    "var/lib/dpkg/triggers",
                ] {
                    std::fs::create_dir_all(r.join(d)).unwrap();
                }
                root.write("var/lib/dpkg/status", "");
                root.write("var/lib/dpkg/available", "");
            }
            Manager::Rpm => {
                std::fs::create_dir_all(r.join("var/lib/rpm")).unwrap();
            }
            Manager::Pacman => {
                for d in [
                    "var/lib/pacman",
                    "var/cache/pacman/pkg",
                    "etc/pacman.d/hooks",
                    "etc/pacman.d/gnupg",
                ] {
                    std::fs::create_dir_all(r.join(d)).unwrap();
                }
                std::fs::write(
                    root.dir.path().join("pacman.conf"),
                    "[options]\nArchitecture = x86_64\nSigLevel = Never\n",
                )
                .unwrap();
            }
            Manager::Apk => {
                std::fs::create_dir_all(r.join("lib/apk/exec")).unwrap();
            }
        }
        root
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// `<root>/<rel>`; `rel` may start with `/`.
    pub fn at(&self, rel: &str) -> PathBuf {
        self.path().join(rel.trim_start_matches('/'))
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.at(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn exec(&self, rel: &str, text: &str) {
        self.write(rel, text);
        std::fs::set_permissions(self.at(rel), std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A file's text; panics naming the file when it cannot be read.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.at(rel))
            .unwrap_or_else(|e| panic!("cannot read {rel} in the scratch root: {e}"))
    }

    pub fn bytes(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.at(rel))
            .unwrap_or_else(|e| panic!("cannot read {rel} in the scratch root: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.at(rel).symlink_metadata().is_ok()
    }

    /// Permission bits (with setuid/setgid/sticky).
    pub fn mode(&self, rel: &str) -> u32 {
        std::fs::symlink_metadata(self.at(rel))
            .unwrap_or_else(|e| panic!("no {rel} in the scratch root: {e}"))
            .permissions()
            .mode()
            & 0o7777
    }

    /// Numeric (uid, gid) of a path.
    pub fn owner(&self, rel: &str) -> (u32, u32) {
        let m = std::fs::symlink_metadata(self.at(rel))
            .unwrap_or_else(|e| panic!("no {rel} in the scratch root: {e}"));
        (m.uid(), m.gid())
    }

    /// The line of the root's `etc/<file>` (passwd, group, shadow) for `name`.
    pub fn entry(&self, file: &str, name: &str) -> Option<String> {
        self.read(&format!("etc/{file}"))
            .lines()
            .find(|l| l.split(':').next() == Some(name))
            .map(str::to_string)
    }

    /// A user's numeric id in the root's passwd.
    pub fn uid(&self, name: &str) -> u32 {
        self.id_field("passwd", name, 2)
    }

    /// A group's numeric id in the root's group file.
    pub fn gid(&self, name: &str) -> u32 {
        self.id_field("group", name, 2)
    }

    fn id_field(&self, file: &str, name: &str, field: usize) -> u32 {
        let line = self.entry(file, name).unwrap_or_else(|| {
            panic!(
                "no `{name}` in the root's /etc/{file}:\n{}",
                self.read(&format!("etc/{file}"))
            )
        });
        line.split(':').nth(field).unwrap().parse().unwrap()
    }

    /// Play "systemd is running" (`/run/systemd/system` is a directory) or not.
    pub fn systemd_running(&self, yes: bool) {
        let d = self.at("run/systemd/system");
        if yes {
            std::fs::create_dir_all(d).unwrap();
        } else if d.exists() {
            std::fs::remove_dir_all(d).unwrap();
        }
    }

    /// What `systemctl is-enabled UNIT` answers from now on (e.g. "masked").
    pub fn unit_state(&self, unit: &str, state: &str) {
        self.write(&format!("systemctl-state/{unit}"), &format!("{state}\n"));
    }

    /// Every recorded systemctl call, one per line, as given.
    pub fn systemctl_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.at("systemctl.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Forget the calls recorded so far.
    pub fn clear_systemctl_log(&self) {
        let _ = std::fs::remove_file(self.at("systemctl.log"));
    }

    /// Make dash the root's `/bin/sh` (Debian's and Ubuntu's shell), with
    /// the libraries `ldd` names for it: the applets stay busybox.
    pub fn use_dash(&self) {
        let dash = ["/usr/bin/dash", "/bin/dash"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .expect("dash is installed");
        let sh = self.at("/bin/sh");
        std::fs::remove_file(&sh).unwrap();
        std::fs::copy(dash, &sh).unwrap();
        let ldd = stdout(&run(Command::new("ldd").arg(dash)));
        for lib in ldd.split_whitespace().filter(|w| w.starts_with('/')) {
            let to = self.at(lib);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(lib, &to).unwrap();
        }
        let out = self.chroot(&["/bin/sh", "-c", "echo $((6 * 7))"]);
        assert!(
            out.text.contains("42"),
            "dash does not run in the root: {}",
            out.text
        );
    }

    /// The recorded calls that change something (`ACTIONS`), options dropped:
    /// `["daemon-reload", "enable imsrv.service", ...]`.
    pub fn systemctl_actions(&self) -> Vec<String> {
        self.systemctl_log()
            .iter()
            .filter_map(|l| {
                let words: Vec<&str> = l
                    .split_whitespace()
                    .filter(|w| !w.starts_with('-'))
                    .collect();
                let verb = *words.first()?;
                ACTIONS.contains(&verb).then(|| words.join(" "))
            })
            .collect()
    }

    /// Run a command chrooted into the root (not checked).
    pub fn chroot(&self, args: &[&str]) -> Ran {
        let mut c = Command::new("chroot");
        c.arg(self.path())
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        // A program copied into the root a moment ago may still be open for
        // writing in a child another test thread forked (ETXTBSY): retry.
        for _ in 0..20 {
            let o = c
                .output()
                .unwrap_or_else(|e| panic!("cannot run {c:?}: {e}"));
            if !stderr(&o).contains("Text file busy") {
                return Ran::from(&c, &o);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("{c:?}: Text file busy for two seconds")
    }

    /// The manager's command line, pointed at this root.
    pub fn manager(&self, args: &[&str]) -> Command {
        let r = self.path();
        match self.mgr {
            Manager::Dpkg => {
                let mut c = Command::new("dpkg");
                c.arg(format!("--root={}", r.display()))
                    .arg("--log=/dev/null")
                    .args(args);
                c
            }
            Manager::Rpm => {
                // Debian's rpm: database under ~/.rpmdb and an "use Alien"
                // refusal unless told otherwise. --nodeps: /bin/sh comes from
                // no package in this root.
                let mut c = Command::new("rpm");
                c.arg("--root")
                    .arg(&r)
                    .args(["--dbpath", "/var/lib/rpm", "--force-debian"])
                    .args(args);
                c
            }
            Manager::Pacman => {
                let mut c = pacman_command(&r, &self.dir.path().join("pacman.conf"));
                c.args(args);
                c
            }
            Manager::Apk => panic!("there is no apk on this system: use common::apk_sim"),
        }
    }

    /// Run the manager (not checked).
    pub fn run(&self, args: &[&str]) -> Ran {
        let mut c = self.manager(args);
        let o = c
            .output()
            .unwrap_or_else(|e| panic!("cannot run {c:?}: {e}"));
        Ran::from(&c, &o)
    }

    /// Install a package file, or upgrade to it. pacman: `-U`; when the
    /// file is older than the installed package (a recovery), pacman
    /// installs it with a warning, which is what an admin sees too.
    pub fn install(&self, pkg: &Path) -> Ran {
        let f = pkg.to_str().unwrap();
        match self.mgr {
            Manager::Dpkg => self.run(&["-i", f]),
            Manager::Rpm => self.run(&["--nodeps", "-U", f]),
            Manager::Pacman => self.run(&["-U", f]),
            Manager::Apk => self.apk_add(pkg),
        }
    }

    /// Remove the package, keeping what the manager keeps (deb: config-files).
    pub fn remove(&self, name: &str) -> Ran {
        match self.mgr {
            Manager::Dpkg => self.run(&["-r", name]),
            Manager::Rpm => self.run(&["--nodeps", "-e", name]),
            Manager::Pacman => self.run(&["-R", name]),
            Manager::Apk => self.apk_del(name),
        }
    }

    /// The installed version as the manager reports it (deb "3.4.0-1",
    /// rpm "3.4.0-1", pacman "3.4.0-1"), or None when not installed.
    pub fn installed(&self, name: &str) -> Option<String> {
        if self.mgr == Manager::Apk {
            return self.apk_installed(name);
        }
        let r = match self.mgr {
            Manager::Dpkg => self.run(&["--status", name]),
            Manager::Rpm => self.run(&["-q", "--qf", "%{VERSION}-%{RELEASE}", name]),
            Manager::Pacman => self.run(&["-Q", name]),
            Manager::Apk => unreachable!(),
        };
        if !r.ok {
            return None;
        }
        let out = r.out.as_str();
        match self.mgr {
            Manager::Dpkg => {
                if !out.contains("Status: install ok installed") {
                    return None;
                }
                out.lines()
                    .find_map(|l| l.strip_prefix("Version: "))
                    .map(str::to_string)
            }
            Manager::Rpm => Some(out.trim().to_string()),
            Manager::Pacman => out.split_whitespace().nth(1).map(str::to_string),
            Manager::Apk => unreachable!(),
        }
    }
}

impl Root {
    /// The paths the manager says the installed package owns.
    pub fn owned_files(&self, name: &str) -> Vec<String> {
        let r = match self.mgr {
            Manager::Dpkg => self.run(&["-L", name]),
            Manager::Rpm => self.run(&["-ql", name]),
            Manager::Pacman => self.run(&["-Qlq", name]),
            Manager::Apk => return self.apk_owned(),
        }
        .ok();
        // pacman prints the paths under --root with the root in front.
        let prefix = self.path().display().to_string();
        r.out
            .lines()
            .map(|l| l.strip_prefix(prefix.as_str()).unwrap_or(l))
            .map(|l| l.trim_end_matches('/').to_string())
            .filter(|l| !l.is_empty() && l != "/.")
            .collect()
    }
}
