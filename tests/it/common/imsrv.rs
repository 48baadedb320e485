//! The lifecycle fixture: `imsrv`, an instant messaging server released as
//! 3.3.0, 3.4.0 and 3.5.0, with `stops = ["3.4.0", "3.5.0"]` (3.3.0 → 3.5.0
//! must go through 3.4.0), a YAML config with a version key, a `.env`, a
//! system user, a data dir owned by it, a systemd unit (packwright's drop-in
//! adds the env file and `packwright-hook check`), and user steps that log
//! their arguments.
#![allow(dead_code)]

use super::root::static_hook;
use super::Project;
use std::path::PathBuf;

pub const NAME: &str = "imsrv";
pub const CONFIG: &str = "/etc/imsrv/config.yaml";
pub const ENV: &str = "/etc/imsrv/imsrv.env";
pub const DATA: &str = "/var/lib/imsrv";
pub const STATE: &str = "/var/lib/packwright/imsrv";
pub const HOOK: &str = "/usr/lib/imsrv/packwright-hook";
pub const UNIT: &str = "imsrv.service";
pub const UNIT_PATH: &str = "/usr/lib/systemd/system/imsrv.service";
/// Where the user steps log `event|old|new`, one line per call.
pub const EVENTS: &str = "/var/log/imsrv-events";

/// The shipped config default of a release. 3.5.0 changes `max_conns`
/// (which the admin leaves alone), adds `mongo_uri` with its comment and
/// renames `log_level` to `log.level` (declared in the manifest's `renames`).
pub fn config_default(version: &str) -> String {
    let log = if version == "3.5.0" {
        "# logging\nlog:\n  # level: debug, info, warn or error\n  level: info\n"
    } else {
        "# log level: debug, info, warn or error\nlog_level: info\n"
    };
    let mut s = format!(
        "# imsrv configuration\n\
         version: \"{version}\"\n\
         # listen port\n\
         port: 10001\n\
         {log}\
         # connections per worker\n\
         max_conns: {}\n",
        if version == "3.5.0" { 5000 } else { 1000 }
    );
    if version == "3.5.0" {
        s.push_str(
            "# message store (new in 3.5.0: MongoDB replaces MySQL)\n\
             mongo_uri: \"mongodb://localhost:27017\"\n",
        );
    }
    s
}

/// The shipped `.env` default; 3.5.0 adds a variable.
pub fn env_default(version: &str) -> String {
    let mut s = String::from(
        "# imsrv environment, read by imsrv.service\n\
         IMSRV_LOG_FORMAT=text\n\
         # where imsrv keeps its data\n\
         IMSRV_DATA=/var/lib/imsrv\n",
    );
    if version == "3.5.0" {
        s.push_str(
            "# MongoDB credentials (new in 3.5.0)\nIMSRV_MONGO_SECRET=/etc/imsrv/mongo.secret\n",
        );
    }
    s
}

/// The admin's edit of the 3.4.0 config: a new port with a comment above
/// it, debug logging (the file is also made 0600 by the admin).
pub const CONFIG_34_EDITED: &str = "# imsrv configuration\n\
version: \"3.4.0\"\n\
# listen port\n\
# ops: 10001 clashes with the metrics agent\n\
port: 12000\n\
# log level: debug, info, warn or error\n\
log_level: debug\n\
# connections per worker\n\
max_conns: 1000\n";

/// What the hook must make of `CONFIG_34_EDITED` when 3.5.0 arrives: the
/// new default's text, the admin's port and comment, the admin's log
/// level moved to the renamed key, the new key and its comment, the
/// untouched `max_conns` at its new default, version 3.5.0.
pub const CONFIG_35_MERGED: &str = "# imsrv configuration\n\
version: \"3.5.0\"\n\
# listen port\n\
# ops: 10001 clashes with the metrics agent\n\
port: 12000\n\
# logging\n\
log:\n  # level: debug, info, warn or error\n  level: debug\n\
# connections per worker\n\
max_conns: 5000\n\
# message store (new in 3.5.0: MongoDB replaces MySQL)\n\
mongo_uri: \"mongodb://localhost:27017\"\n";

/// The admin's edit of the 3.4.0 `.env`: a variable set by hand.
pub fn env_34_edited() -> String {
    format!(
        "{}HTTP_PROXY=http://proxy.example.org:3128\n",
        env_default("3.4.0")
    )
}

/// The 3.5.0 `.env` after the merge: the new default plus the admin's variable.
pub fn env_35_merged() -> String {
    format!(
        "{}HTTP_PROXY=http://proxy.example.org:3128\n",
        env_default("3.5.0")
    )
}

pub const UNIT_TEXT: &str = "[Unit]\n\
Description=imsrv instant messaging server\n\
After=network.target\n\
\n\
[Service]\n\
Type=simple\n\
User=imsrv\n\
ExecStart=/usr/bin/imsrv\n\
\n\
[Install]\n\
WantedBy=multi-user.target\n";

/// What `/usr/bin/imsrv` holds in a release: each release's differs.
pub fn program(version: &str) -> String {
    format!("#!/bin/sh\necho \"imsrv {version}\"\nexec sleep 3600\n")
}

/// The user's steps: one line `event|old|new` per call.
pub const EVENT_STEP: &str = "echo \"$1|$2|$3\" >> /var/log/imsrv-events\n";

pub fn manifest(version: &str, hook: &str) -> String {
    format!(
        r#"[package]
name = "imsrv"
version = "{version}"
release = "1"
arch = "x86_64"
summary = "Instant messaging server (packwright lifecycle fixture)"
description = """
The imsrv fixture of packwright's lifecycle tests: a config, an env file,
a system user, a data directory and a systemd unit."""
maintainer = "IM Team <ops@example.org>"
homepage = "https://example.org/imsrv"
license = "Apache-2.0"

[[files]]
src = "bin/imsrv"
dst = "/usr/bin/imsrv"
mode = "0755"

[[dirs]]
path = "/var/lib/imsrv"
mode = "0750"
owner = "imsrv"
group = "imsrv"

[[config]]
src = "config/config.yaml"
dst = "/etc/imsrv/config.yaml"
format = "yaml"
version-key = "version"
mode = "0640"
owner = "root"
group = "imsrv"
renames = {{ "log_level" = "log.level" }}

[[config]]
src = "config/imsrv.env"
dst = "/etc/imsrv/imsrv.env"
format = "env"
mode = "0600"

[[users]]
name = "imsrv"
group = "imsrv"
home = "/var/lib/imsrv"
shell = "/sbin/nologin"

[[systemd]]
unit = "systemd/imsrv.service"

[upgrade]
stops = ["3.4.0", "3.5.0"]

[hook]
binary = "{hook}"

[scripts]
post-install = "scripts/event.sh"
post-upgrade = "scripts/event.sh"
pre-remove = "scripts/event.sh"
post-remove = "scripts/event.sh"
purge = "scripts/event.sh"
"#
    )
}

/// The fixture project of one release, with the static hook.
pub fn project(version: &str) -> Project {
    let hook = static_hook();
    let p = Project::new(&manifest(version, hook.to_str().unwrap()));
    p.exec("bin/imsrv", &program(version));
    p.file("config/config.yaml", &config_default(version));
    p.file("config/imsrv.env", &env_default(version));
    p.file("systemd/imsrv.service", UNIT_TEXT);
    p.file("scripts/event.sh", EVENT_STEP);
    p
}

/// One built package; the project (and so the file) lives as long as this.
pub struct Built {
    pub project: Project,
    pub file: PathBuf,
}

/// `format` is a packwright format name: deb, rpm, pacman, apk.
pub fn build(version: &str, format: &str) -> Built {
    let project = project(version);
    let files = project.build(format);
    assert_eq!(files.len(), 1, "one {format} package expected: {files:?}");
    Built {
        file: files.into_iter().next().unwrap(),
        project,
    }
}

/// The data-migration variant of 3.5.0 (issue #6): `[upgrade] data-dirs`
/// and one `[[migrations]]` step for 3.5.0, whose script is `MIGRATION_OK`
/// or `MIGRATION_FAILS`. The default fixture above stays as it is.
pub const MIGRATION_RUN: &str = "/usr/share/imsrv/migrations/3.5.0/mysql-to-mongo.sh";

/// The 3.5.0 step "MySQL replaced by MongoDB": every `*.mysql` file in the
/// data dir (subdirectories too, never packwright's state dir, never through
/// a symlink) becomes a `*.mongo` file with the same owner and mode, each
/// `INSERT <row>;` line turned into `db.insert(<row>)`. POSIX sh for the
/// busybox root. On success it appends `<migration>|<old>|<new>` to
/// `$PACKWRIGHT_STATE_DIR/test-migration-runs` (the state dir is never
/// snapshotted or restored, so the count survives a rollback) and, in a
/// test root, a `# migration` line to the systemctl recorder's log, which
/// places the run between the recorded stop and start.
pub const MIGRATION_OK: &str = r#"#!/bin/sh
set -eu
data=${PACKWRIGHT_DATA_DIRS%%:*}
echo "imsrv $PACKWRIGHT_MIGRATION_VERSION: converting $data ($PACKWRIGHT_OLD_VERSION -> $PACKWRIGHT_NEW_VERSION)"
convert() {
	for f in "$1"/*.mysql; do
		[ -f "$f" ] && [ ! -L "$f" ] || continue
		out=${f%.mysql}.mongo
		sed 's/^INSERT \(.*\);$/db.insert(\1)/' "$f" >"$out"
		chown "$(stat -c %u:%g "$f")" "$out"
		chmod "$(stat -c %a "$f")" "$out"
		rm "$f"
		echo "converted $f"
	done
	for d in "$1"/*; do
		[ -d "$d" ] && [ ! -L "$d" ] || continue
		[ "$d" != "$PACKWRIGHT_STATE_DIR" ] || continue
		convert "$d"
	done
}
convert "$data"
"#;

/// The tail `MIGRATION_OK` ends with: count the run.
const MIGRATION_COUNT: &str = r##"echo "$PACKWRIGHT_MIGRATION_VERSION|$PACKWRIGHT_OLD_VERSION|$PACKWRIGHT_NEW_VERSION" >>"$PACKWRIGHT_STATE_DIR/test-migration-runs"
if [ -f /systemctl.log ] && [ "$PACKWRIGHT_STATE_DIR" = /var/lib/packwright/imsrv ]; then
	echo "# migration $PACKWRIGHT_MIGRATION_VERSION" >>/systemctl.log
fi
"##;

/// What the failing step prints before it exits 1 (after converting, so
/// the rollback has something to undo).
pub const MIGRATION_FAIL_LINES: [&str; 3] = [
    "connecting to mysql at 127.0.0.1:3306",
    "boom: mysql not reachable",
    "giving up; nothing was imported into MongoDB",
];

pub fn migration_ok() -> String {
    format!("{MIGRATION_OK}{MIGRATION_COUNT}")
}

pub fn migration_fails() -> String {
    let mut s = MIGRATION_OK.to_string();
    for l in MIGRATION_FAIL_LINES {
        s.push_str(&format!("echo '{l}' >&2\n"));
    }
    s.push_str("exit 1\n");
    s
}

/// What `MIGRATION_OK` makes of a `.mysql` file's text.
pub fn converted(mysql: &str) -> String {
    mysql
        .lines()
        .map(
            |l| match l.strip_prefix("INSERT ").and_then(|r| r.strip_suffix(';')) {
                Some(row) => format!("db.insert({row})\n"),
                None => format!("{l}\n"),
            },
        )
        .collect()
}

/// The manifest of `version` with `[upgrade] data-dirs` and the 3.5.0
/// migration (`migrations/mysql-to-mongo.sh` in the project).
pub fn manifest_with_migration(version: &str, hook: &str) -> String {
    let stops = "stops = [\"3.4.0\", \"3.5.0\"]\n";
    let m = manifest(version, hook);
    assert!(m.contains(stops), "the fixture's [upgrade] changed");
    format!(
        "{}\n[[migrations]]\nversion = \"3.5.0\"\nrun = \"migrations/mysql-to-mongo.sh\"\n",
        m.replace(stops, &format!("{stops}data-dirs = [\"/var/lib/imsrv\"]\n"))
    )
}

/// The fixture project of `version` with the migration `script`.
pub fn project_with_migration(version: &str, script: &str) -> Project {
    let hook = static_hook();
    let p = Project::new(&manifest_with_migration(version, hook.to_str().unwrap()));
    p.exec("bin/imsrv", &program(version));
    p.file("config/config.yaml", &config_default(version));
    p.file("config/imsrv.env", &env_default(version));
    p.file("systemd/imsrv.service", UNIT_TEXT);
    p.file("scripts/event.sh", EVENT_STEP);
    p.exec("migrations/mysql-to-mongo.sh", script);
    p
}

/// A package of `project_with_migration`.
pub fn build_with_migration(version: &str, format: &str, script: &str) -> Built {
    let project = project_with_migration(version, script);
    let files = project.build(format);
    assert_eq!(files.len(), 1, "one {format} package expected: {files:?}");
    Built {
        file: files.into_iter().next().unwrap(),
        project,
    }
}
