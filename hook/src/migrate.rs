//! Data migrations: which are due for an upgrade from OLD to NEW, the record
//! of those done (`<state>/migrations.json`), and running one: directly (an
//! executable with a shebang), cwd `/`, chrooted into `--root` when it is not
//! `/`, output to `<state>/logs/`, killed with its process group on timeout.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::ffi::CString;
use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::contract::state;
use super::desc::MigrationDesc;
use super::error::{At, HookError, Result};
use super::fsio;
use super::package::PRIVATE;
use super::site::Site;
use super::snapshot::clean;
use super::sys;
use super::version::compare;

pub const DEFAULT_TIMEOUT: u64 = 3600;
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const TAIL_LINES: usize = 20;

/// A migration that finished successfully.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub version: String,
    pub run: String,
    /// Unix seconds.
    pub finished_at: u64,
    /// The snapshot taken before it ran.
    pub snapshot: Option<String>,
}

pub fn records_path(site: &Site) -> PathBuf {
    site.state.join(state::MIGRATIONS)
}

pub fn load(site: &Site) -> Result<Vec<Record>> {
    let path = records_path(site);
    match fsio::read(&path)? {
        None => Ok(vec![]),
        Some(t) => serde_json::from_str(&t).map_err(|e| HookError::Syntax {
            path,
            line: e.line(),
            col: e.column(),
            msg: e.to_string(),
        }),
    }
}

pub fn save(site: &Site, records: &[Record]) -> Result<()> {
    let json = serde_json::to_vec_pretty(records).expect("records serialize");
    fsio::write_atomic(&records_path(site), &json, PRIVATE)
}

fn is_done(m: &MigrationDesc, done: &[Record]) -> bool {
    done.iter()
        .any(|r| r.version == m.version && r.run == m.run)
}

/// Every migration with OLD < version <= NEW not done yet, in version order
/// (manifest order for equal versions). None for a fresh install (empty OLD)
/// or a downgrade.
pub fn pending<'a>(
    site: &'a Site,
    old: &str,
    new: &str,
    done: &[Record],
) -> Vec<&'a MigrationDesc> {
    if old.trim().is_empty() || compare(new, old) == Ordering::Less {
        return vec![];
    }
    let mut v: Vec<&MigrationDesc> = site
        .desc
        .migrations
        .iter()
        .filter(|m| compare(old, &m.version) == Ordering::Less)
        .filter(|m| compare(&m.version, new) != Ordering::Greater)
        .filter(|m| !is_done(m, done))
        .collect();
    v.sort_by(|a, b| compare(&a.version, &b.version));
    v
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationStatus {
    pub version: String,
    pub run: String,
    pub done: bool,
    pub finished_at: Option<u64>,
    pub snapshot: Option<String>,
}

/// `migrate --status`: every migration of the description, in version order.
pub fn status(site: &Site) -> Result<Vec<MigrationStatus>> {
    let done = load(site)?;
    let mut all: Vec<&MigrationDesc> = site.desc.migrations.iter().collect();
    all.sort_by(|a, b| compare(&a.version, &b.version));
    Ok(all
        .into_iter()
        .map(|m| {
            let r = done
                .iter()
                .find(|r| r.version == m.version && r.run == m.run);
            MigrationStatus {
                version: m.version.clone(),
                run: m.run.clone(),
                done: r.is_some(),
                finished_at: r.map(|r| r.finished_at),
                snapshot: r.and_then(|r| r.snapshot.clone()),
            }
        })
        .collect())
}

/// How one run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The executable on this machine.
    pub program: PathBuf,
    pub log: PathBuf,
    /// `Err("exit status 1")`, `Err("killed after the 5 s timeout")`, …
    pub result: std::result::Result<(), String>,
    /// The last lines of its output.
    pub tail: String,
}

/// What a migration sees of the upgrade.
pub struct Env<'a> {
    pub old: &'a str,
    pub new: &'a str,
    /// Names the log file: the snapshot ID.
    pub id: &'a str,
}

/// Run one migration. `Err` only when the log cannot be set up; a migration
/// that cannot start, fails or times out is an `Outcome` with `result: Err`.
pub fn run(site: &Site, m: &MigrationDesc, env: &Env) -> Result<Outcome> {
    let logs = site.state.join(state::LOGS);
    fsio::ensure_dir(&logs, 0o700)?;
    let log = logs.join(format!("migration-{}-{}.log", clean(&m.version), env.id));
    fsio::ensure_regular_or_absent(&log)?;
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(sys::O_NOFOLLOW)
        .open(&log)
        .at(&log)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .at(&log)?;
    let program = site.path(&m.run);
    let mut out = Outcome {
        program: program.clone(),
        log: log.clone(),
        result: Ok(()),
        tail: String::new(),
    };
    out.result = spawn_and_wait(site, m, env, &program, file);
    out.tail = tail(&log);
    Ok(out)
}

fn spawn_and_wait(
    site: &Site,
    m: &MigrationDesc,
    env: &Env,
    program: &Path,
    log: fs::File,
) -> std::result::Result<(), String> {
    check_executable(program)?;
    let chroot = site.root != Path::new("/");
    let mut cmd = command(site, m, env, program, chroot);
    confine(&mut cmd, site, chroot, log)?;
    let child = cmd.spawn().map_err(|e| {
        if chroot && e.raw_os_error() == Some(sys::EPERM) {
            format!(
                "cannot chroot into {} to run it ({e}): running migrations under --root needs root privileges",
                site.root.display()
            )
        } else {
            format!("cannot start {}: {e}", program.display())
        }
    })?;
    wait_or_kill(child, m.timeout.unwrap_or(DEFAULT_TIMEOUT))
}

/// A missing or non-executable program is refused before anything starts.
fn check_executable(program: &Path) -> std::result::Result<(), String> {
    match fs::metadata(program) {
        Ok(md) if md.is_file() && md.permissions().mode() & 0o111 != 0 => Ok(()),
        Ok(_) => Err(format!("{} is not an executable file", program.display())),
        Err(e) => Err(format!("{}: {e}", program.display())),
    }
}

/// The migration's command line and what it sees of the upgrade in its
/// environment, paths as seen from inside the root when `chroot`.
fn command(site: &Site, m: &MigrationDesc, env: &Env, program: &Path, chroot: bool) -> Command {
    let seen = |p: &Path| -> String {
        let p = if chroot {
            site.in_root(p)
        } else {
            p.to_path_buf()
        };
        p.to_string_lossy().into_owned()
    };
    let join = |v: Vec<PathBuf>| v.iter().map(|p| seen(p)).collect::<Vec<_>>().join(":");
    let configs = site
        .desc
        .configs
        .iter()
        .map(|c| site.path(&c.live))
        .collect();
    let mut cmd = Command::new(seen(program));
    cmd.env("PACKWRIGHT_PACKAGE", &site.pkg)
        .env("PACKWRIGHT_OLD_VERSION", env.old)
        .env("PACKWRIGHT_NEW_VERSION", env.new)
        .env("PACKWRIGHT_MIGRATION_VERSION", &m.version)
        .env("PACKWRIGHT_DATA_DIRS", join(site.data_dirs()))
        .env("PACKWRIGHT_CONFIGS", join(configs))
        .env("PACKWRIGHT_STATE_DIR", seen(&site.state))
        .process_group(0);
    if std::env::var_os("PATH").is_none() {
        cmd.env("PATH", DEFAULT_PATH);
    }
    cmd
}

/// Output to the log, no stdin (closed where the root has no `/dev/null`),
/// cwd `/`, chrooted into the root when `chroot`.
fn confine(
    cmd: &mut Command,
    site: &Site,
    chroot: bool,
    log: fs::File,
) -> std::result::Result<(), String> {
    let err_log = log.try_clone().map_err(|e| e.to_string())?;
    cmd.stdout(Stdio::from(log)).stderr(Stdio::from(err_log));
    let no_stdin = !Path::new("/dev/null").exists();
    cmd.stdin(if no_stdin {
        Stdio::inherit()
    } else {
        Stdio::null()
    });
    let root = CString::new(site.root.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    if chroot || no_stdin {
        sys::enter_root_on_exec(cmd, chroot.then_some(root), no_stdin);
    } else {
        cmd.current_dir("/");
    }
    Ok(())
}

/// Wait for the migration; after `limit` seconds its whole process group
/// (a shell script's children too) gets TERM, so a database tool can stop
/// cleanly, and KILL 5 s later.
fn wait_or_kill(mut child: Child, limit: u64) -> std::result::Result<(), String> {
    let start = Instant::now();
    let pgid = child.id() as sys::pid_t;
    let mut pause = Duration::from_millis(10);
    loop {
        match child.try_wait() {
            Ok(Some(s)) if s.success() => return Ok(()),
            Ok(Some(s)) => return Err(s.to_string()),
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        if start.elapsed() >= Duration::from_secs(limit) {
            // Signals to the group this hook created; it may be gone already.
            let _ = sys::kill(-pgid, sys::SIGTERM);
            let grace = Instant::now();
            while grace.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = sys::kill(-pgid, sys::SIGKILL);
            let _ = child.wait();
            return Err(format!("killed after the {limit} s timeout"));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// The last lines of a log (its last 64 KiB at most).
pub fn tail(log: &Path) -> String {
    let Ok(mut f) = fs::File::open(log) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 << 10)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}
