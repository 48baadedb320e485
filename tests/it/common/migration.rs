//! The issue #6 scenarios, written once for every manager: upgrading the
//! imsrv fixture from 3.4.0 to a 3.5.0 with `[upgrade] data-dirs` and a
//! data migration (tests/common/imsrv.rs, `build_with_migration`), with the
//! real dpkg, rpm and pacman in scratch roots and apk simulated.
#![allow(dead_code)]

use super::imsrv::{self, Built, CONFIG, DATA, ENV, HOOK, NAME, STATE};
use super::lifecycle::{self as lc, clean, format, full};
use super::root::{Manager, Ran, Root};
use sha2::{Digest, Sha256};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// `migrations/…` as the failure message names it.
pub const STEP: &str = "migration 3.5.0 (/usr/share/imsrv/migrations/3.5.0/mysql-to-mongo.sh)";
/// Where the fixture's migration counts its successful runs.
pub const RUNS: &str = "/var/lib/packwright/imsrv/test-migration-runs";

pub fn build_ok(mgr: Manager) -> Built {
    imsrv::build_with_migration("3.5.0", format(mgr), &imsrv::migration_ok())
}

pub fn build_failing(mgr: Manager) -> Built {
    imsrv::build_with_migration("3.5.0", format(mgr), &imsrv::migration_fails())
}

/// A directory tree as a user would compare it: one line per entry, sorted,
/// with path, type, mode, numeric owner, symlink target or content sha256.
/// `skip` (packwright's state dir) is left out with everything below it.
pub fn listing(dir: &Path, skip: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.path() != skip);
    for e in walk {
        let e = e.unwrap_or_else(|e| panic!("cannot walk {}: {e}", dir.display()));
        let m = e.path().symlink_metadata().unwrap();
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        let what = if m.file_type().is_symlink() {
            format!(
                "symlink -> {}",
                std::fs::read_link(e.path()).unwrap().display()
            )
        } else if m.is_dir() {
            "dir".to_string()
        } else if m.is_file() {
            let data = std::fs::read(e.path()).unwrap();
            format!("file sha256:{}", hex::encode(Sha256::digest(&data)))
        } else {
            format!("other {:o}", m.mode() & 0o170000)
        };
        out.push(format!(
            "/{rel} {what} mode {:04o} owner {}:{}",
            m.mode() & 0o7777,
            m.uid(),
            m.gid()
        ));
    }
    out
}

/// The data dir without packwright's state dir.
pub fn data_listing(r: &Root) -> Vec<String> {
    listing(&r.at(DATA), &r.at(STATE))
}

/// The `.mysql` files the admin's server left, with their text.
pub const MYSQL: [(&str, &str); 3] = [
    (
        "/var/lib/imsrv/messages.mysql",
        "-- imsrv 3.4 message store\nINSERT (1,'alice','hello');\nINSERT (2,'bob','hi alice');\n",
    ),
    (
        "/var/lib/imsrv/users.mysql",
        "INSERT ('alice',0);\nINSERT ('bob',1);\n",
    ),
    (
        "/var/lib/imsrv/archive/2023.mysql",
        "INSERT (0,'root','archived');\n",
    ),
];

fn chown(r: &Root, rel: &str, uid: u32, gid: u32, mode: u32) {
    std::os::unix::fs::lchown(r.at(rel), Some(uid), Some(gid)).unwrap();
    std::fs::set_permissions(r.at(rel), std::fs::Permissions::from_mode(mode)).unwrap();
}

/// What a running 3.4.0 leaves in its data dir: files of several modes and
/// owners, a subdirectory, an empty directory, a symlink, a file that is
/// not part of the migration.
pub fn add_data(r: &Root) {
    let (u, g) = (r.uid(NAME), r.gid(NAME));
    std::fs::create_dir_all(r.at("/var/lib/imsrv/archive")).unwrap();
    std::fs::create_dir_all(r.at("/var/lib/imsrv/tmp")).unwrap();
    for (p, text) in MYSQL {
        r.write(p, text);
    }
    r.write("/var/lib/imsrv/notes.txt", "kept as is\n");
    std::os::unix::fs::symlink("archive", r.at("/var/lib/imsrv/current")).unwrap();
    chown(r, "/var/lib/imsrv/messages.mysql", u, g, 0o640);
    chown(r, "/var/lib/imsrv/users.mysql", u, g, 0o600);
    chown(r, "/var/lib/imsrv/archive", u, g, 0o750);
    chown(r, "/var/lib/imsrv/archive/2023.mysql", 0, g, 0o444);
    chown(r, "/var/lib/imsrv/tmp", u, g, 0o700);
    chown(r, "/var/lib/imsrv/notes.txt", 0, 0, 0o644);
    std::os::unix::fs::lchown(r.at("/var/lib/imsrv/current"), Some(u), Some(g)).unwrap();
}

/// Every `.mysql` file is a `.mongo` file with the converted text and the
/// same owner and mode; everything else is as `add_data` left it.
pub fn assert_converted(r: &Root, out: &str) {
    let (u, g) = (r.uid(NAME), r.gid(NAME));
    let want = [
        ("messages", (u, g), 0o640),
        ("users", (u, g), 0o600),
        ("archive/2023", (0, g), 0o444),
    ];
    for ((p, text), (stem, owner, mode)) in MYSQL.iter().zip(want) {
        let mongo = format!("{DATA}/{stem}.mongo");
        assert!(!r.exists(p), "{p} must be converted away\n{out}");
        assert!(r.exists(&mongo), "{mongo} missing\n{out}");
        assert_eq!(r.read(&mongo), imsrv::converted(text), "{mongo}\n{out}");
        assert_eq!(r.owner(&mongo), owner, "{mongo} owner");
        assert_eq!(r.mode(&mongo), mode, "{mongo} mode");
    }
    assert_eq!(r.read("/var/lib/imsrv/notes.txt"), "kept as is\n");
    assert_eq!(
        std::fs::read_link(r.at("/var/lib/imsrv/current")).unwrap(),
        Path::new("archive")
    );
}

/// Lines of the fixture's run counter (`3.5.0|3.4.0|3.5.0` per success).
pub fn runs(r: &Root) -> Vec<String> {
    std::fs::read_to_string(r.at(RUNS))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The snapshot IDs under `backups/`, finished ones only.
pub fn snapshots(r: &Root) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(r.at(&format!("{STATE}/backups"))) else {
        return vec![];
    };
    let mut v: Vec<String> = rd
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

pub fn state_version(r: &Root) -> String {
    r.read(&format!("{STATE}/version")).trim().to_string()
}

/// The systemctl log without the queries (`is-active`, `is-enabled`),
/// options dropped, with the migration's `# migration 3.5.0` marker in
/// place: `stop imsrv.service`, `# migration 3.5.0`, …
pub fn systemctl_story(r: &Root) -> Vec<String> {
    r.systemctl_log()
        .into_iter()
        .filter_map(|l| {
            if l.starts_with("# ") {
                return Some(l);
            }
            let words: Vec<&str> = l
                .split_whitespace()
                .filter(|w| !w.starts_with('-'))
                .collect();
            let verb = *words.first()?;
            (!verb.starts_with("is-")).then(|| words.join(" "))
        })
        .collect()
}

/// The retry command the hook prints for a manager.
pub fn retry_text(mgr: Manager) -> &'static str {
    match mgr {
        Manager::Dpkg => "to retry once the cause is fixed: dpkg --configure -a",
        Manager::Rpm => {
            "to retry once the cause is fixed: dnf reinstall imsrv (or: rpm -U --replacepkgs imsrv-3.5.0-*.rpm)"
        }
        Manager::Pacman => {
            "to retry once the cause is fixed: pacman -S imsrv (or: pacman -U imsrv-3.5.0-*.pkg.tar.*)"
        }
        Manager::Apk => "to retry once the cause is fixed: apk fix imsrv",
    }
}

/// Install 3.4.0 with systemd running, the admin's config edits and data.
pub fn running_34(mgr: Manager) -> Root {
    let v34 = lc::build(mgr, "3.4.0");
    let r = lc::root(mgr);
    clean(mgr, r.install(&v34.file));
    lc::admin_edits(&r);
    add_data(&r);
    r.clear_systemctl_log();
    r
}

/// The story: 3.4.0 → 3.5.0 converts the data once, with the unit
/// stopped around the migration; reinstalling 3.5.0 runs nothing again; a
/// restore of the snapshot gives back the pre-upgrade tree.
pub fn upgrade_converts_once_and_restores(mgr: Manager) {
    let v35 = build_ok(mgr);
    let r = running_34(mgr);
    let before = data_listing(&r);
    let config_before = r.bytes(CONFIG);

    let out = clean(mgr, r.install(&v35.file));
    let text = &out.text;
    assert_eq!(r.installed(NAME), Some(full(mgr, "3.5.0")), "{text}");
    assert_converted(&r, text);
    assert_eq!(
        runs(&r),
        ["3.5.0|3.4.0|3.5.0"],
        "the migration runs once\n{text}"
    );
    assert_eq!(
        r.read(CONFIG),
        imsrv::CONFIG_35_MERGED,
        "merged config\n{text}"
    );
    assert_eq!(r.read(ENV), imsrv::env_35_merged(), "merged env\n{text}");
    assert_eq!(state_version(&r), "3.5.0", "{text}");

    let snaps = snapshots(&r);
    assert_eq!(snaps.len(), 1, "one snapshot: {snaps:?}\n{text}");
    let id = &snaps[0];
    assert!(
        id.ends_with("-3.4.0-to-3.5.0"),
        "the snapshot is named for the upgrade: {id}"
    );
    let snap = format!("{STATE}/backups/{id}");
    for f in ["data.tar.zst", "SHA256SUMS"] {
        assert!(
            r.exists(&format!("{snap}/{f}")),
            "{snap}/{f} missing\n{text}"
        );
    }
    let sums = r.read(&format!("{snap}/SHA256SUMS"));
    assert!(
        sums.contains("var/lib/imsrv/messages.mysql"),
        "SHA256SUMS lists the data files:\n{sums}"
    );
    assert!(
        !sums.contains("packwright/"),
        "the state dir is never in a snapshot:\n{sums}"
    );
    let log = format!("{STATE}/logs/migration-3.5.0-{id}.log");
    assert!(r.exists(&log), "{log} missing\n{text}");
    let log_text = r.read(&log);
    assert!(
        log_text.contains("converted /var/lib/imsrv/archive/2023.mysql"),
        "the migration's output goes to its log:\n{log_text}"
    );
    assert_eq!(
        systemctl_story(&r),
        [
            "stop imsrv.service",
            "# migration 3.5.0",
            "daemon-reload",
            "start imsrv.service"
        ],
        "the unit is stopped before the migration and started after it, once; \
         whole log: {:?}\n{text}",
        r.systemctl_log()
    );
    assert_eq!(lc::check(&r).code, Some(0), "check after the upgrade");

    // The same 3.5.0 again: nothing to migrate, no stop.
    let converted = data_listing(&r);
    r.clear_systemctl_log();
    let again = match mgr {
        Manager::Rpm => r.run(&[
            "--nodeps",
            "-U",
            "--replacepkgs",
            v35.file.to_str().unwrap(),
        ]),
        _ => r.install(&v35.file),
    };
    let again = clean(mgr, again);
    assert_eq!(
        runs(&r),
        ["3.5.0|3.4.0|3.5.0"],
        "reinstalling 3.5.0 must not run the migration again\n{}",
        again.text
    );
    assert_eq!(data_listing(&r), converted, "{}", again.text);
    assert_eq!(snapshots(&r), snaps, "no new snapshot\n{}", again.text);
    let acts = r.systemctl_actions();
    assert!(
        !acts.iter().any(|a| a.starts_with("stop")),
        "nothing to migrate, nothing to stop: {acts:?}\n{}",
        again.text
    );
    let status = r
        .chroot(&[HOOK, "migrate", "--package", NAME, "--status"])
        .ok();
    assert!(
        status.out.contains("3.5.0") && status.out.contains("done"),
        "migrate --status:\n{}",
        status.text
    );

    // Back to the snapshot, by hand.
    let restored = r.chroot(&[HOOK, "restore", "--package", NAME]);
    assert_eq!(restored.code, Some(0), "restore:\n{}", restored.text);
    let after = data_listing(&r);
    assert_eq!(
        after, before,
        "the restore gives back the pre-upgrade tree\n{}",
        restored.text
    );
    assert!(
        r.bytes(CONFIG) == config_before,
        "the restore puts the pre-upgrade config back:\n{}",
        r.read(CONFIG)
    );
    let status = r
        .chroot(&[HOOK, "migrate", "--package", NAME, "--status"])
        .ok();
    assert!(
        status.out.contains("pending"),
        "a restore makes the migrations it undid pending again:\n{}",
        status.text
    );
}

/// What a failed migration must leave: data and configs as before, the unit
/// stopped, the message, the state of 3.4.0, `check` refusing to start.
pub fn assert_rolled_back(r: &Root, out: &Ran, before: &[String], config: &[u8], env: &[u8]) {
    let mgr = r.mgr;
    let text = &out.text;
    assert_eq!(
        data_listing(r),
        before,
        "the data dir must be as before\n{text}"
    );
    assert!(
        r.bytes(CONFIG) == config,
        "{CONFIG} must be byte-identical:\n{}\n{text}",
        r.read(CONFIG)
    );
    assert_eq!(r.mode(CONFIG), 0o600, "{CONFIG} keeps the admin's mode");
    assert!(r.bytes(ENV) == env, "{ENV} must be byte-identical\n{text}");
    assert!(runs(r).is_empty(), "no migration completed\n{text}");
    for want in [STEP, "exit status: 1", retry_text(mgr)] {
        assert!(
            text.contains(want),
            "the output must contain {want:?}:\n{text}"
        );
    }
    for l in imsrv::MIGRATION_FAIL_LINES {
        assert!(
            text.contains(&format!("| {l}")),
            "the output tail must show {l:?}:\n{text}"
        );
    }
    let snaps = snapshots(r);
    assert_eq!(snaps.len(), 1, "{snaps:?}\n{text}");
    let snap = format!("snapshot: {STATE}/backups/{}", snaps[0]);
    assert!(
        text.contains(&snap),
        "the output must say {snap:?}:\n{text}"
    );
    let log = format!("{STATE}/logs/migration-3.5.0-{}.log", snaps[0]);
    assert!(
        text.contains(&log),
        "the output names the log {log}:\n{text}"
    );
    assert!(
        r.read(&log).contains("boom: mysql not reachable"),
        "the log holds the output"
    );
    assert_eq!(
        r.systemctl_actions(),
        ["stop imsrv.service"],
        "the unit is stopped for the migration and stays stopped; whole log: {:?}\n{text}",
        r.systemctl_log()
    );
    assert_eq!(
        state_version(r),
        "3.4.0",
        "the machine still belongs to 3.4.0"
    );
    let c = lc::check(r);
    assert_eq!(
        c.code,
        Some(5),
        "check must keep the service from starting on the 3.4.0 config:\n{}",
        c.text
    );
}

/// The failing migration rolls back under the real manager; then the retry
/// the message names, with the cause fixed, completes the upgrade.
pub fn failing_migration_rolls_back(mgr: Manager) -> (Root, Built) {
    let bad = build_failing(mgr);
    let r = running_34(mgr);
    let (before, config, env) = (data_listing(&r), r.bytes(CONFIG), r.bytes(ENV));
    let out = r.install(&bad.file);
    match mgr {
        Manager::Dpkg | Manager::Apk => assert!(!out.ok, "the upgrade must fail:\n{}", out.text),
        // pacman and rpm report a failed post-script and exit 0.
        Manager::Pacman => assert!(out.text.contains("error:"), "{}", out.text),
        Manager::Rpm => assert!(out.text.contains("scriptlet failed"), "{}", out.text),
    }
    assert_rolled_back(&r, &out, &before, &config, &env);
    (r, bad)
}

/// The retry after a failed migration, once the cause is fixed: the data is
/// converted once, the config merged, the stopped unit started again.
pub fn assert_retry_completes(r: &Root, out: &Ran) {
    let text = &out.text;
    assert_converted(r, text);
    assert_eq!(runs(r), ["3.5.0|3.4.0|3.5.0"], "{text}");
    assert_eq!(r.read(CONFIG), imsrv::CONFIG_35_MERGED, "{text}");
    assert_eq!(state_version(r), "3.5.0", "{text}");
    assert_eq!(lc::check(r).code, Some(0), "check after the retry");
    let acts = r.systemctl_actions();
    assert_eq!(
        acts.last().map(String::as_str),
        Some("start imsrv.service"),
        "the unit the failed upgrade left stopped is started; whole log: {:?}\n{text}",
        r.systemctl_log()
    );
    let ask = r.chroot(&["systemctl", "is-active", "imsrv.service"]);
    assert_eq!(ask.code, Some(0), "imsrv.service runs again:\n{}", ask.text);
    assert!(
        !r.exists(&format!("{STATE}/stopped")),
        "the note of stopped units goes once they run again"
    );
}

/// Make the snapshot impossible: a 1 MiB tmpfs over `backups/`. The guard
/// unmounts it.
pub struct SmallFs {
    path: std::path::PathBuf,
}

impl SmallFs {
    pub fn over(r: &Root, rel: &str) -> SmallFs {
        let path = r.at(rel);
        std::fs::create_dir_all(&path).unwrap();
        super::run(
            std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs"])
                .arg(&path),
        );
        SmallFs { path }
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.path)
            .status();
    }
}
