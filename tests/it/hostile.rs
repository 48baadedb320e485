//! Issue #10, finding 1 (and 5 for the scripts) under the real dpkg, rpm and
//! pacman: the service user `imsrv`, which owns `/var/lib/imsrv`, is the
//! attacker. Run as that user inside the scratch root (setpriv), it plants
//! symlinks to root-only victims where packwright used to keep its state
//! (`/var/lib/imsrv/packwright/`); the next upgrade must leave every victim
//! byte-identical, write nothing outside the root, never print a victim's
//! content, and still work (or refuse with the gate's message). An older
//! packwright's state there is taken over once; a forged one is refused
//! and reported.

use crate::common::imsrv::{self, CONFIG, DATA, NAME, STATE};
use crate::common::lifecycle::{self as lc, clean, ready};
use crate::common::root::{Manager, Ran, Root};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

const OLD: &str = "/var/lib/imsrv/packwright";
const VICTIM: &str = "/etc/victim";
const SECRET: &str = "TOP-SECRET-VICTIM-LINE\nsecond line\n";
/// The root's fake /etc/shadow (tests/common/root.rs) starts with this.
const SHADOW: &str = "root:*:19000";

/// A root-only victim, and a canary beside the root (outside it).
fn plant_victims(r: &Root) -> Vec<(std::path::PathBuf, Vec<u8>, u32)> {
    r.write(VICTIM, SECRET);
    std::fs::set_permissions(r.at(VICTIM), std::fs::Permissions::from_mode(0o600)).unwrap();
    let outside = r.path().parent().unwrap().join("outside-victim");
    std::fs::write(&outside, SECRET).unwrap();
    [r.at(VICTIM), r.at("/etc/shadow"), outside]
        .into_iter()
        .map(|p| {
            let m = std::fs::symlink_metadata(&p).unwrap();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes, m.mode())
        })
        .collect()
}

fn assert_victims(victims: &[(std::path::PathBuf, Vec<u8>, u32)], out: &Ran) {
    for (p, bytes, mode) in victims {
        let m = std::fs::symlink_metadata(p).unwrap();
        assert!(
            std::fs::read(p).unwrap() == *bytes && m.mode() == *mode && m.uid() == 0,
            "{} was changed (mode {:o}, uid {}):\n{}",
            p.display(),
            m.mode(),
            m.uid(),
            out.text
        );
    }
    for leak in ["TOP-SECRET-VICTIM", SHADOW] {
        assert!(
            !out.text.contains(leak),
            "a victim's content was printed ({leak}):\n{}",
            out.text
        );
    }
}

/// Copy a host program and the libraries `ldd` names into the root.
fn copy_program(r: &Root, host: &str) {
    let to = r.at(host);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(host, &to).unwrap();
    let ldd = crate::common::stdout(&crate::common::run(Command::new("ldd").arg(host)));
    for lib in ldd.split_whitespace().filter(|w| w.starts_with('/')) {
        let to = r.at(lib);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(lib, &to).unwrap();
    }
}

/// Run `script` in the root as the service user, without root's groups.
fn as_service_user(r: &Root, script: &str) -> Ran {
    let setpriv = "/usr/bin/setpriv";
    if !r.exists(setpriv) {
        copy_program(r, setpriv);
    }
    let (uid, gid) = (r.uid(NAME).to_string(), r.gid(NAME).to_string());
    let ran = r.chroot(&[
        setpriv,
        &format!("--reuid={uid}"),
        &format!("--regid={gid}"),
        "--clear-groups",
        "/bin/sh",
        "-c",
        script,
    ]);
    assert!(ran.ok, "the service user's commands failed:\n{}", ran.text);
    ran
}

/// What the service user does to the old state location: its own dir
/// there, every name packwright used to write a link to a victim.
const FORGE: &str = r#"set -e
cd /var/lib/imsrv
rm -rf packwright
mkdir -p packwright/pristine
cd packwright
for f in installing blocked stopped lock migrations.json conflicts.json backups logs; do
	ln -s /etc/victim "$f"
done
ln -s /etc/shadow version
ln -s /etc/victim pristine/etc%2Fimsrv%2Fconfig.yaml
ln -s ../../../../../outside-victim pristine/etc%2Fimsrv%2Fimsrv.env
id -u >/var/lib/imsrv/attacker-ran
"#;

fn tools() -> bool {
    crate::common::tool("setpriv") && crate::common::tool("ldd")
}

/// Install 3.4.0, let the attacker forge the old state dir, upgrade to
/// 3.5.0: nothing follows the links, the upgrade works, the state is root's.
fn links_in_the_old_location_are_never_followed(mgr: Manager) {
    let (v34, v35) = (lc::build(mgr, "3.4.0"), lc::build(mgr, "3.5.0"));
    let r = lc::root(mgr);
    clean(mgr, r.install(&v34.file));
    assert_state_is_roots(&r);
    let victims = plant_victims(&r);
    imsrv_edits(&r);
    as_service_user(&r, FORGE);
    assert_eq!(
        r.read("/var/lib/imsrv/attacker-ran").trim(),
        r.uid(NAME).to_string(),
        "the forgery ran as the service user"
    );

    let out = clean(mgr, r.install(&v35.file));
    assert_victims(&victims, &out);
    for name in ["version", "blocked", "pristine/etc%2Fimsrv%2Fconfig.yaml"] {
        let want = format!("refused (not trusted, left in place): {name} (a symlink)");
        assert!(out.text.contains(&want), "{want:?} in:\n{}", out.text);
    }
    assert_eq!(
        r.installed(NAME),
        Some(lc::full(mgr, "3.5.0")),
        "{}",
        out.text
    );
    assert_eq!(r.read(CONFIG), imsrv::CONFIG_35_MERGED, "{}", out.text);
    assert_eq!(r.read(&format!("{STATE}/version")), "3.5.0\n");
    assert_state_is_roots(&r);
    let c = lc::check(&r);
    assert_eq!(c.code, Some(0), "{}", c.text);
    assert!(
        !r.exists(&format!("{STATE}/blocked")),
        "the forged blocked link was not taken over"
    );
}

fn imsrv_edits(r: &Root) {
    lc::admin_edits(r);
}

/// The state dir is root's alone: 0700 (its parent 0755), whatever the umask.
fn assert_state_is_roots(r: &Root) {
    assert_eq!(r.owner(STATE), (0, 0), "{STATE} owner");
    assert_eq!(r.mode(STATE), 0o700, "{STATE} mode");
    assert_eq!(r.owner("/var/lib/packwright"), (0, 0));
    assert_eq!(r.mode("/var/lib/packwright"), 0o755);
    for f in ["pristine", "version"] {
        let p = format!("{STATE}/{f}");
        assert!(r.exists(&p), "{p} missing");
        assert_eq!(r.mode(&p) & 0o022, 0, "{p} is writable by others");
    }
}

#[test]
fn dpkg_upgrade_never_follows_the_service_users_links() {
    if ready(Manager::Dpkg) && tools() {
        links_in_the_old_location_are_never_followed(Manager::Dpkg);
    }
}

#[test]
fn rpm_upgrade_never_follows_the_service_users_links() {
    if ready(Manager::Rpm) && tools() {
        links_in_the_old_location_are_never_followed(Manager::Rpm);
    }
}

#[test]
fn pacman_upgrade_never_follows_the_service_users_links() {
    if ready(Manager::Pacman) && tools() {
        links_in_the_old_location_are_never_followed(Manager::Pacman);
    }
}

/// Move the state where an older packwright kept it, as root: what a
/// machine installed before the move looks like.
fn to_old_layout(r: &Root) {
    std::fs::rename(r.at(STATE), r.at(OLD)).unwrap();
    assert!(!r.exists(STATE));
    // It made its dirs 0755.
    for d in [OLD.to_string(), format!("{OLD}/pristine")] {
        std::fs::set_permissions(r.at(&d), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// `v33` (3.3.0) installed by an older packwright: its state in the old
/// place ([`to_old_layout`]) and its hook without `recorded-version`
/// ([`OLD_HOOK`]). The root and that hook's path.
fn old_install(mgr: Manager, v33: &Path) -> (Root, String) {
    let r = lc::root(mgr);
    clean(mgr, r.install(v33));
    to_old_layout(&r);
    let hook = format!("/usr/lib/{NAME}/packwright-hook");
    r.write(&hook, OLD_HOOK);
    std::fs::set_permissions(r.at(&hook), std::fs::Permissions::from_mode(0o755)).unwrap();
    (r, hook)
}

/// An install of 3.3.0 by an older packwright ([`old_install`]), whose
/// version the service user swapped for a link to /etc/shadow: the gate of 3.5.0 refuses with its
/// own message and prints nothing of the shadow file. dpkg and pacman gate
/// on the manager's old version; rpm passes none, so its %pre reads the old
/// package's description (still on disk then, in root's directories) and
/// aborts like dpkg: the old install stays as it was.
fn a_linked_old_version_is_not_read(mgr: Manager) {
    let (v33, v35) = (lc::build(mgr, "3.3.0"), lc::build(mgr, "3.5.0"));
    let (r, hook) = old_install(mgr, &v33.file);
    let (config, program) = (r.bytes(CONFIG), r.bytes("/usr/bin/imsrv"));
    let victims = plant_victims(&r);
    as_service_user(
        &r,
        "set -e\ncd /var/lib/imsrv\nmv packwright mine\nmkdir packwright\nln -s /etc/shadow packwright/version\nln -s /etc/victim packwright/installing\n",
    );
    let out = r.install(&v35.file);
    assert_victims(&victims, &out);
    assert!(
        out.text
            .contains("refusing the upgrade from 3.3.0 to 3.5.0"),
        "the gate refuses with the manager's (rpm: the description's) version:\n{}",
        out.text
    );
    if mgr == Manager::Pacman {
        return; // pacman installs anyway (lifecycle tests: blocked)
    }
    assert!(!out.ok, "{}", out.text);
    assert_eq!(
        r.installed(NAME),
        Some(lc::full(mgr, "3.3.0")),
        "{}",
        out.text
    );
    assert!(r.bytes(CONFIG) == config, "{CONFIG} changed:\n{}", out.text);
    assert!(
        r.bytes("/usr/bin/imsrv") == program,
        "/usr/bin/imsrv changed"
    );
    assert_eq!(r.read(&hook), OLD_HOOK, "the old package's files changed");
}

#[test]
fn dpkg_gate_never_prints_a_linked_victim() {
    if ready(Manager::Dpkg) && tools() {
        a_linked_old_version_is_not_read(Manager::Dpkg);
    }
}

#[test]
fn rpm_gate_never_prints_a_linked_victim() {
    if ready(Manager::Rpm) && tools() {
        a_linked_old_version_is_not_read(Manager::Rpm);
    }
}

#[test]
fn pacman_gate_never_prints_a_linked_victim() {
    if ready(Manager::Pacman) && tools() {
        a_linked_old_version_is_not_read(Manager::Pacman);
    }
}

/// The old layout, as an older packwright left it, is taken over on the
/// upgrade: the recorded version gates (rpm too, which passes none), the
/// pristine copies keep the three-way merge exact, and the note says what
/// moved and what stays.
fn old_layout_is_migrated(mgr: Manager) {
    let (v33, v34, v35) = (
        lc::build(mgr, "3.3.0"),
        lc::build(mgr, "3.4.0"),
        lc::build(mgr, "3.5.0"),
    );
    let r = lc::root(mgr);
    clean(mgr, r.install(&v33.file));
    to_old_layout(&r);
    // 3.3.0 → 3.5.0 is refused from the old record (dpkg, rpm abort).
    let out = r.install(&v35.file).failed();
    assert!(
        out.text
            .contains("refusing the upgrade from 3.3.0 to 3.5.0"),
        "{}",
        out.text
    );
    let out = clean(mgr, r.install(&v34.file));
    assert_eq!(r.read(CONFIG), imsrv::config_default("3.4.0"));
    for want in [
        "packwright's state moved from /var/lib/imsrv/packwright to /var/lib/packwright/imsrv",
        "taken over: version, ",
        "pristine/etc%2Fimsrv%2Fconfig.yaml, pristine/etc%2Fimsrv%2Fimsrv.env\n",
        "left in place: any snapshots and logs in /var/lib/imsrv/packwright",
    ] {
        assert!(out.text.contains(want), "{want:?} in:\n{}", out.text);
    }
    let note = r.read(&format!("{STATE}/migrated-from-old-layout"));
    assert!(note.contains("taken over: version"), "{note}");
    assert_eq!(r.read(&format!("{STATE}/version")), "3.4.0\n");
    assert_state_is_roots(&r);
    // The next upgrade merges against the pristine 3.4.0 default.
    lc::admin_edits(&r);
    clean(mgr, r.install(&v35.file));
    assert_eq!(r.read(CONFIG), imsrv::CONFIG_35_MERGED);
}

#[test]
fn dpkg_old_layout_state_is_taken_over() {
    if ready(Manager::Dpkg) {
        old_layout_is_migrated(Manager::Dpkg);
    }
}

#[test]
fn rpm_old_layout_state_is_taken_over() {
    if ready(Manager::Rpm) {
        old_layout_is_migrated(Manager::Rpm);
    }
}

/// A forged old layout: the service user's own dir in the old place, with
/// its own files and a link, plus a root-owned file linked in twice (what a
/// hard link looks like where fs.protected_hardlinks is off): all refused
/// and reported, nothing of it reaches the state dir or the config.
#[test]
fn a_forged_old_layout_is_refused_and_reported() {
    let mgr = Manager::Dpkg;
    if !ready(mgr) || !tools() {
        return;
    }
    let (v34, v35) = (lc::build(mgr, "3.4.0"), lc::build(mgr, "3.5.0"));
    let r = lc::root(mgr);
    clean(mgr, r.install(&v34.file));
    to_old_layout(&r);
    let mut victims = plant_victims(&r);
    as_service_user(
        &r,
        "set -e\ncd /var/lib/imsrv\nmv packwright genuine\nmkdir -p packwright/pristine\n\
         echo 3.4.0 >packwright/version\necho 'port: 1' >packwright/pristine/etc%2Fimsrv%2Fconfig.yaml\n\
         ln -s /etc/victim packwright/blocked\n",
    );
    r.write("/etc/victim-json", "{}\n");
    std::fs::hard_link(
        r.at("/etc/victim-json"),
        r.at(&format!("{OLD}/conflicts.json")),
    )
    .unwrap();
    let m = std::fs::metadata(r.at("/etc/victim-json")).unwrap();
    victims.push((r.at("/etc/victim-json"), b"{}\n".to_vec(), m.mode()));
    let out = clean(mgr, r.install(&v35.file));
    assert_victims(&victims, &out);
    let uid = r.uid(NAME);
    for want in [
        format!("refused (not trusted, left in place): version (owned by uid {uid}, not root)"),
        format!("refused (not trusted, left in place): pristine/etc%2Fimsrv%2Fconfig.yaml (owned by uid {uid}, not root)"),
        "refused (not trusted, left in place): blocked (a symlink)".to_string(),
        "refused (not trusted, left in place): conflicts.json (2 hard links)".to_string(),
    ] {
        assert!(out.text.contains(&want), "{want:?} in:\n{}", out.text);
    }
    assert!(!out.text.contains("taken over:"), "{}", out.text);
    let config = r.read(CONFIG);
    assert!(
        !config.contains("port: 1\n") && config.contains("version: \"3.5.0\""),
        "{config}\n{}",
        out.text
    );
    assert_eq!(r.read(&format!("{STATE}/version")), "3.5.0\n");
    assert!(!r.exists(&format!("{STATE}/blocked")));
    assert_eq!(lc::check(&r).code, Some(0));
    // Left where it was, for the admin to look at.
    assert!(r.exists(&format!("{OLD}/version")));
}

/// A state dir the service user could change is refused with a message
/// naming it, before anything is written; the install fails.
#[test]
fn an_untrusted_state_dir_is_refused() {
    let mgr = Manager::Dpkg;
    if !ready(mgr) {
        return;
    }
    let (v34, v35) = (lc::build(mgr, "3.4.0"), lc::build(mgr, "3.5.0"));
    let r = lc::root(mgr);
    clean(mgr, r.install(&v34.file));
    let uid = r.uid(NAME);
    std::os::unix::fs::chown(r.at(STATE), Some(uid), None).unwrap();
    let config = r.bytes(CONFIG);
    let out = r.install(&v35.file).failed();
    assert!(
        out.text.contains(&format!(
            "imsrv: refusing to use packwright's state dir {STATE}: {STATE} must be a directory owned by root and writable by no one else"
        )),
        "{}",
        out.text
    );
    assert_eq!(r.bytes(CONFIG), config, "nothing was changed");
    // The hook refuses it too (ExecStartPre= keeps the service off).
    let c = lc::check(&r);
    assert_eq!(c.code, Some(2), "{}", c.text);
    assert!(
        c.text.contains(&format!(
            "{STATE}: owned by uid {uid}: refusing to use packwright's state dir"
        )),
        "{}",
        c.text
    );
}

/// Under umask 000 the state dir still comes out 0700 (its parent 0755).
#[test]
fn the_state_dir_mode_does_not_follow_the_umask() {
    let mgr = Manager::Dpkg;
    if !ready(mgr) {
        return;
    }
    let v34 = lc::build(mgr, "3.4.0");
    let r = lc::root(mgr);
    let dpkg = r.manager(&["-i", v34.file.to_str().unwrap()]);
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("umask 000; exec \"$@\"")
        .arg("sh")
        .arg(dpkg.get_program())
        .args(dpkg.get_args());
    let o = c.output().unwrap();
    let out = Ran::from(&c, &o);
    clean(mgr, out);
    assert_state_is_roots(&r);
    assert_eq!(r.mode(&format!("{STATE}/pristine")), 0o700);
    assert!(Path::new(&r.at(DATA)).is_dir());
}

/// 3.4.0 or 3.5.0 of the fixture with one more dir the service user owns,
/// inside its own data dir, setgid (so the post step sets its mode too).
fn with_cache_dir(version: &str) -> (crate::common::Project, std::path::PathBuf) {
    let hook = crate::common::root::static_hook();
    let manifest = imsrv::manifest(version, hook.to_str().unwrap())
        + "\n[[dirs]]\npath = \"/var/lib/imsrv/cache\"\nmode = \"2750\"\nowner = \"imsrv\"\ngroup = \"imsrv\"\n";
    let p = crate::common::Project::new(&manifest);
    p.exec("bin/imsrv", &imsrv::program(version));
    p.file("config/config.yaml", &imsrv::config_default(version));
    p.file("config/imsrv.env", &imsrv::env_default(version));
    p.file("systemd/imsrv.service", imsrv::UNIT_TEXT);
    p.file("scripts/event.sh", imsrv::EVENT_STEP);
    let file = p.build("deb").remove(0);
    (p, file)
}

/// The service user swaps its package dir `/var/lib/imsrv/cache` for a link
/// to `/etc` (dpkg keeps a link to a directory where the package has a
/// directory): the post step's owner change touches the link, never `/etc`.
#[test]
fn owners_are_set_on_the_link_never_through_it() {
    let mgr = Manager::Dpkg;
    if !ready(mgr) || !tools() {
        return;
    }
    let (_p34, f34) = with_cache_dir("3.4.0");
    let (_p35, f35) = with_cache_dir("3.5.0");
    let r = lc::root(mgr);
    clean(mgr, r.install(&f34));
    assert_eq!(r.owner("/var/lib/imsrv/cache"), (r.uid(NAME), r.gid(NAME)));
    assert_eq!(r.mode("/var/lib/imsrv/cache") & 0o7777, 0o2750);
    let etc = (r.owner("/etc"), r.mode("/etc"));
    let victims = plant_victims(&r);
    as_service_user(
        &r,
        "set -e\ncd /var/lib/imsrv\nrmdir cache\nln -s /etc cache\n",
    );
    let out = clean(mgr, r.install(&f35));
    assert_victims(&victims, &out);
    assert_eq!(
        (r.owner("/etc"), r.mode("/etc")),
        etc,
        "/etc was changed through the link:\n{}",
        out.text
    );
    assert_eq!(r.installed(NAME), Some(lc::full(mgr, "3.5.0")));
}

/// The manager's install of `pkg`, killed after two minutes: a script that
/// blocks (on a fifo) fails the test instead of hanging it.
fn install_within_two_minutes(r: &Root, pkg: &Path) -> Ran {
    let m = r.manager(&[]);
    let mut args: Vec<String> = m
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match r.mgr {
        Manager::Dpkg => args.push("-i".into()),
        Manager::Pacman => args.push("-U".into()),
        _ => args.extend(["--nodeps".into(), "-U".into()]),
    }
    args.push(pkg.to_string_lossy().into_owned());
    let mut c = Command::new("timeout");
    c.arg("120").arg(m.get_program()).args(&args);
    let o = c.output().unwrap();
    let ran = Ran::from(&c, &o);
    assert_ne!(ran.code, Some(124), "the install blocked:\n{}", ran.text);
    ran
}

/// What an older packwright's hook does with `recorded-version`: it does
/// not know the command (so the pre-step falls back to the shell).
const OLD_HOOK: &str = "#!/bin/sh\necho \"packwright-hook: unknown command\" >&2\nexit 2\n";

/// An install of 3.3.0 by an older packwright ([`old_install`]); the
/// service user, who owns
/// /var/lib/imsrv, puts a fifo where the old version file was. Root's
/// scripts used to open it and block forever (dpkg never returns); now the
/// pre-step reads nothing it does not trust, the new hook refuses the fifo
/// without opening it for a blocking read, and the upgrade completes.
fn a_fifo_in_the_old_layout_blocks_nothing(mgr: Manager) {
    let (v33, v34) = (lc::build(mgr, "3.3.0"), lc::build(mgr, "3.4.0"));
    let (r, _) = old_install(mgr, &v33.file);
    let victims = plant_victims(&r);
    as_service_user(
        &r,
        "set -e\ncd /var/lib/imsrv\nmv packwright mine\nmkdir packwright\nmkfifo packwright/version\n",
    );
    let out = install_within_two_minutes(&r, &v34.file);
    assert!(out.ok, "{}", out.text);
    assert_victims(&victims, &out);
    assert_eq!(
        r.installed(NAME),
        Some(lc::full(mgr, "3.4.0")),
        "{}",
        out.text
    );
    let want = "refused (not trusted, left in place): version (not a regular file)";
    assert!(out.text.contains(want), "{want:?} in:\n{}", out.text);
    let m = std::fs::symlink_metadata(r.at(&format!("{OLD}/version"))).unwrap();
    assert!(m.file_type().is_fifo(), "the fifo was replaced");
    assert_eq!(r.read(&format!("{STATE}/version")), "3.4.0\n");
    assert_state_is_roots(&r);
}

#[test]
fn dpkg_upgrade_does_not_block_on_a_planted_fifo() {
    if ready(Manager::Dpkg) && tools() && crate::common::tool("timeout") {
        a_fifo_in_the_old_layout_blocks_nothing(Manager::Dpkg);
    }
}

#[test]
fn rpm_upgrade_does_not_block_on_a_planted_fifo() {
    if ready(Manager::Rpm) && tools() && crate::common::tool("timeout") {
        a_fifo_in_the_old_layout_blocks_nothing(Manager::Rpm);
    }
}

#[test]
fn pacman_upgrade_does_not_block_on_a_planted_fifo() {
    if ready(Manager::Pacman) && tools() && crate::common::tool("timeout") {
        a_fifo_in_the_old_layout_blocks_nothing(Manager::Pacman);
    }
}
