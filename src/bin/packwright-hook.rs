//! packwright-hook: owns a package's config files on the target machine.
//! Renders defaults on install, merges the admin's edits into new defaults on
//! upgrade, checks schema versions before a service starts, snapshots data
//! dirs and runs the package's data migrations.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use packwright::hook::args::{self, Cmd, Matches, Opt, Parsed};
use packwright::hook::command::{self, Ctx, InitArgs, UpdateArgs, UpdateReport};
use packwright::hook::error::HookError;
use packwright::hook::fsio::{self, Meta};
use packwright::hook::merge::Format;
use packwright::hook::package::{self, ConfigReport, Event};
use packwright::hook::site::Site;
use packwright::hook::upgrade::{self, Manager, Request};
use packwright::hook::{migrate, restore, snapshot};

const EXIT_CODES: &str = "Exit codes: 0 done (conflicts are reported, not failures), 1 I/O error,
2 bad arguments or missing variables, 4 a file does not parse (it is left unchanged),
5 version mismatch, or the package is blocked (check), 6 the live config is newer than the
package (downgrade refused), 7 a symlink or non-regular file where a regular file was expected,
8 another hook holds the lock, 9 a migration or config merge failed and was rolled back (the
message says how to retry or go back), 10 not enough free space for the snapshot (nothing
changed), 11 the snapshot fails its checks (nothing restored).";

const fn opt(name: &'static str, value: Option<&'static str>, help: &'static str) -> Opt {
    Opt { name, value, help }
}

const FORMAT: Opt = opt(
    "format",
    Some("F"),
    "yaml | toml | json | env | ini | text (default: from the extension)",
);
const ENV_FILE: Opt = opt(
    "env-file",
    Some("FILE"),
    "Variables for ${VAR} (the environment wins over the file)",
);
const PACKAGE: Opt = opt(
    "package",
    Some("NAME"),
    "An installed package: reads <root>/usr/share/<pkg>/packwright/package.json",
);
const DESC: Opt = opt("desc", Some("FILE"), "An unpacked archive's <dir>/packwright/package.json; relative paths in it resolve against <dir>");
const STATE: Opt = opt(
    "state",
    Some("DIR"),
    "State dir (default <root>/var/lib/<pkg>/packwright; with --desc <dir>/../<pkg>-state)",
);
const PKG_OPTS: &[Opt] = &[
    PACKAGE,
    DESC,
    STATE,
    opt(
        "old",
        Some("VERSION"),
        "The upstream version upgraded from (default: <state>/version)",
    ),
    opt(
        "new",
        Some("VERSION"),
        "The upstream version installed (default: the description's)",
    ),
    ENV_FILE,
    opt(
        "manager",
        Some("M"),
        "deb | rpm | pacman | apk: which retry command a failure prints",
    ),
];

static CMDS: &[Cmd] = &[
    Cmd {
        name: "init",
        about: "Render a default/template to the live path (${VAR}, ${VAR:-default})",
        long: "An existing live file is kept unless --force, or unless the admin answers y to\n\"Overwrite? [y/N]\" on a terminal; when overwritten, the old file is kept as\n<live>.packwright-old with the same mode.",
        opts: &[
            opt("template", Some("FILE"), "The default/template to render (required)"),
            opt("live", Some("FILE"), "The live config path to write (required)"),
            opt("force", None, "Replace an existing live file without asking"),
            opt("mode", Some("MODE"), "Mode of a new live file, octal (default 0644)"),
            FORMAT,
            ENV_FILE,
        ],
    },
    Cmd {
        name: "update",
        about: "Three-way merge: keep the admin's edits, take the new default's layout, comments and keys",
        long: "base = the previous default as shipped, live = the admin's file, default = the new\ndefault. Where both changed a key differently the admin's value stays and the new\ndefault is written as <live>.packwright-new. The live file before the merge is kept\nas <live>.packwright-old.",
        opts: &[
            opt("base", Some("FILE"), "The previous default (pristine); without it the new default stands in"),
            opt("default", Some("FILE"), "The new default as shipped by this release (required)"),
            opt("live", Some("FILE"), "The live config the admin edits (required)"),
            opt("version-key", Some("KEY"), "Dotted key of the schema version (set to the new default's value)"),
            opt("dry-run", None, "Print the unified diff and the conflicts; write nothing"),
            FORMAT,
            ENV_FILE,
        ],
    },
    Cmd {
        name: "check",
        about: "Compare the live config's version key with the expected version (for ExecStartPre=)",
        long: "Exits 5 with a one-line reason on mismatch. With --package (or --desc), every\nmanaged config is compared with its installed default's version, and a package\nblocked by an upgrade that skipped a required stop release (<state>/blocked) fails\nwith 5 and the blocked message.",
        opts: &[
            opt("live", Some("FILE"), "The live config to check"),
            opt("expect", Some("VERSION"), "The schema version the program expects"),
            opt("version-key", Some("KEY"), "Dotted key of the version inside the file (default: version)"),
            PACKAGE,
            DESC,
            STATE,
            FORMAT,
        ],
    },
    Cmd {
        name: "status",
        about: "Managed files, pristine versions, pending .packwright-new files, conflicts, a blocked upgrade",
        long: "Without --package or --desc: every package with a packwright description.",
        opts: &[PACKAGE, DESC, STATE],
    },
    Cmd {
        name: "install",
        about: "Package mode: init every managed config (a fresh install runs no migration)",
        long: "",
        opts: PKG_OPTS,
    },
    Cmd {
        name: "upgrade",
        about: "Package mode: data migrations, then a three-way update of every managed config",
        long: "Every migration with OLD < version <= NEW not run before runs in version order,\nafter a snapshot of the data dirs and live configs (free space checked first). If a\nmigration or a merge fails, the data dirs and configs are put back and the message\nnames the step, its output, the log, the snapshot, and how to retry (per --manager)\nor go back. No migration runs on a downgrade or without an old version.",
        opts: PKG_OPTS,
    },
    Cmd {
        name: "remove",
        about: "Package mode: nothing to do (configs stay until purge)",
        long: "",
        opts: PKG_OPTS,
    },
    Cmd {
        name: "purge",
        about: "Package mode: delete the live configs and the state dir",
        long: "",
        opts: PKG_OPTS,
    },
    Cmd {
        name: "backup",
        about: "Snapshot the data dirs and live configs now (or --list the snapshots)",
        long: "Snapshots are <state>/backups/<ID>/ with data.tar.zst, SHA256SUMS, config/ and\nmeta.json; the oldest beyond backup_keep (default 2) are removed afterwards.",
        opts: &[PACKAGE, DESC, STATE, opt("list", None, "List the snapshots, oldest first, instead of taking one")],
    },
    Cmd {
        name: "restore",
        about: "Put the data dirs and live configs back from a snapshot",
        long: "The archive is checked against SHA256SUMS before anything is touched; packwright's\nstate dir is never restored over.",
        opts: &[PACKAGE, DESC, STATE, opt("snapshot", Some("ID"), "The snapshot ID (default: the newest)")],
    },
    Cmd {
        name: "migrate",
        about: "Show the package's migrations (--status) or run the pending ones by hand",
        long: "`migrate --old OLD --new NEW` runs what `upgrade` would run, with the same\nsnapshot and rollback, but merges no config.",
        opts: &[
            PACKAGE,
            DESC,
            STATE,
            opt("status", None, "Each migration: version, file, done or pending, when"),
            opt("old", Some("VERSION"), "The version upgraded from"),
            opt("new", Some("VERSION"), "The version upgraded to (default: the description's)"),
        ],
    },
];

fn octal(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("{s:?} is not an octal mode like 0640"))
}

fn rooted(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() && root != Path::new("/") {
        fsio::under_root(root, &p.to_string_lossy())
    } else {
        p.to_path_buf()
    }
}

fn format_for(name: Option<&str>, path: &Path) -> Result<Format, HookError> {
    match name {
        Some(n) => Format::parse(n)
            .ok_or_else(|| HookError::invalid(path, format!("unknown format {n:?}"))),
        None => Ok(Format::from_path(path)),
    }
}

fn ask(path: &Path) -> bool {
    eprint!("{} exists. Overwrite? [y/N] ", path.display());
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    matches!(line.trim(), "y" | "Y" | "yes")
}

/// Lock the live file's directory for the standalone commands.
fn lock_dir(live: &Path) -> Result<fsio::Lock, HookError> {
    let dir = live
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fsio::lock(dir)
}

fn print_update(r: &UpdateReport) {
    let live = r.live.display();
    match r.action {
        command::UpdateAction::Unchanged => println!("{live}: up to date"),
        command::UpdateAction::Recreated => {
            println!("{live}: was missing, written from the new default")
        }
        command::UpdateAction::Merged => println!("{live}: merged"),
        command::UpdateAction::DryRun => println!("{live}: dry run, nothing written"),
    }
    if !r.kept.is_empty() {
        println!("  kept your changes: {}", r.kept.join(", "));
    }
    for c in &r.conflicts {
        println!(
            "  conflict: {} — kept yours {}, new default {}",
            c.key,
            c.yours.as_deref().unwrap_or("(deleted)"),
            c.new_default.as_deref().unwrap_or("(none)")
        );
    }
    for k in &r.removed {
        println!(
            "  removed upstream: {} (your value was {})",
            k.key, k.your_value
        );
    }
    for k in &r.unplaced {
        println!("  could not place your change to {k}: see the backup");
    }
    if let Some(n) = &r.note {
        println!("  note: {n}");
    }
    if let Some(n) = &r.new_file {
        println!("  the new default is in {}", n.display());
    }
    if let Some(b) = &r.backup {
        println!("  the previous file is kept as {}", b.display());
    }
    if let Some(d) = &r.diff {
        print!("{d}");
    }
}

fn usage(msg: String) -> HookError {
    HookError::invalid("packwright-hook", msg)
}

fn mode_of(m: &Matches) -> Result<Option<u32>, HookError> {
    m.get("mode").map(|s| octal(&s).map_err(usage)).transpose()
}

fn site(root: &Path, m: &Matches) -> Result<Site, HookError> {
    m.exclusive("package", "desc").map_err(usage)?;
    let state = m.get("state").map(|s| rooted(root, Path::new(&s)));
    match (m.get("package"), m.get("desc")) {
        (_, Some(d)) => Site::desc_file(root, &rooted(root, Path::new(&d)), state),
        (Some(p), None) => Site::package(root, &p, state),
        (None, None) => Err(usage(format!(
            "{}: give --package NAME or --desc FILE",
            m.cmd
        ))),
    }
}

fn run(m: Matches) -> Result<(), HookError> {
    let root = PathBuf::from(m.root.clone().unwrap_or_else(|| "/".into()));
    let as_json = m.json;
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let confirm: Option<&dyn Fn(&Path) -> bool> = if terminal && !as_json {
        Some(&ask)
    } else {
        None
    };
    let json = |v: &dyn erased::Json| println!("{}", v.json());
    let need = |n: &str| m.need(n).map(PathBuf::from).map_err(usage);
    let env_file = m.get("env-file").map(|p| rooted(&root, Path::new(&p)));
    match m.cmd {
        "init" => {
            let live = rooted(&root, &need("live")?);
            let env = command::env_lookup(env_file.as_deref())?;
            let _lock = lock_dir(&live)?;
            let args = InitArgs {
                template: rooted(&root, &need("template")?),
                format: format_for(m.get("format").as_deref(), &live)?,
                live,
                force: m.flag("force"),
                meta: mode_of(&m)?.map(|mode| Meta {
                    mode,
                    uid: None,
                    gid: None,
                }),
            };
            let r = command::init(&args, &Ctx { env: &env, confirm })?;
            if as_json {
                json(&r);
            } else {
                let what = match r.action {
                    command::InitAction::Written => "written",
                    command::InitAction::Overwritten => {
                        "overwritten (previous file kept as .packwright-old)"
                    }
                    command::InitAction::KeptExisting => "exists, kept (use --force to replace)",
                };
                println!("{}: {what}", r.live.display());
            }
        }
        "update" => {
            let live = rooted(&root, &need("live")?);
            let env = command::env_lookup(env_file.as_deref())?;
            let _lock = lock_dir(&live)?;
            let args = UpdateArgs {
                base: m.get("base").map(|b| rooted(&root, Path::new(&b))),
                default: rooted(&root, &need("default")?),
                format: format_for(m.get("format").as_deref(), &live)?,
                live,
                version_key: m.get("version-key"),
                dry_run: m.flag("dry-run"),
                meta: None,
            };
            let r = command::update(
                &args,
                &Ctx {
                    env: &env,
                    confirm: None,
                },
            )?;
            if as_json {
                json(&r);
            } else {
                print_update(&r);
            }
        }
        "check" => {
            let by_package = m.flag("package") || m.flag("desc");
            if by_package {
                m.exclusive("live", "package").map_err(usage)?;
                m.exclusive("live", "desc").map_err(usage)?;
            }
            let found = if by_package {
                package::check_site(&site(&root, &m)?)?
            } else {
                let live = rooted(&root, &need("live")?);
                let expect = m.need("expect").map_err(usage)?;
                let key = m.get("version-key").unwrap_or_else(|| "version".into());
                let f = format_for(m.get("format").as_deref(), &live)?;
                vec![command::check(&live, &expect, &key, f)?]
            };
            if as_json {
                json(&serde_json::json!({ "ok": true, "versions": found }));
            }
        }
        "status" => {
            let s = if m.flag("desc") || m.flag("state") {
                package::status_site(&site(&root, &m)?)?
            } else {
                package::status(&root, m.get("package").as_deref())?
            };
            if as_json {
                json(&s);
            } else {
                print_status(&s);
            }
        }
        "install" => package_event(&root, Event::Install, &m)?,
        "upgrade" => package_event(&root, Event::Upgrade, &m)?,
        "remove" => package_event(&root, Event::Remove, &m)?,
        "purge" => package_event(&root, Event::Purge, &m)?,
        "backup" => {
            let site = site(&root, &m)?;
            if m.flag("list") {
                let all = snapshot::list(&site)?;
                if as_json {
                    json(&all);
                }
                for s in all.iter().filter(|_| !as_json) {
                    println!(
                        "{} ({} to {}, {})",
                        s.id,
                        s.meta.old,
                        s.meta.new,
                        s.dir.display()
                    );
                }
                return Ok(());
            }
            let _lock = package::lock(&site)?;
            let v = installed_version(&site);
            let s = snapshot::create(
                &site,
                &format!("{}-backup", snapshot::clean(&v)),
                &v,
                &v,
                true,
            )?;
            let pruned = snapshot::prune(&site, site.backup_keep().max(1))?;
            if as_json {
                json(&serde_json::json!({ "snapshot": s, "pruned": pruned }));
            } else {
                println!("{}: snapshot {} in {}", site.pkg, s.id, s.dir.display());
                for p in pruned {
                    println!("  removed the older snapshot {p}");
                }
            }
        }
        "restore" => {
            let site = site(&root, &m)?;
            let _lock = package::lock(&site)?;
            let r = restore::restore(&site, m.get("snapshot").as_deref())?;
            if as_json {
                json(&r);
            } else {
                println!("{}: restored snapshot {}", site.pkg, r.id);
                for p in r.data_dirs.iter().chain(&r.configs) {
                    println!("  {}", p.display());
                }
                for v in &r.pending_again {
                    println!("  migration {v} is pending again (its effect was undone)");
                }
            }
        }
        "migrate" => {
            let site = site(&root, &m)?;
            if m.flag("status") {
                m.exclusive("status", "old").map_err(usage)?;
                let st = migrate::status(&site)?;
                if as_json {
                    json(&st);
                }
                for s in st.iter().filter(|_| !as_json) {
                    let when = s
                        .finished_at
                        .map(|t| format!(" at {}", snapshot::utc_stamp(t)))
                        .unwrap_or_default();
                    let state = if s.done { "done" } else { "pending" };
                    println!("{} {}: {state}{when}", s.version, s.run);
                }
                return Ok(());
            }
            let old = m.need("old").map_err(usage)?;
            let new = m.get("new").unwrap_or_else(|| site.desc.version.clone());
            let req = Request {
                old: &old,
                new: &new,
                manager: None,
                merge: false,
            };
            let env = |_: &str| None;
            let r = upgrade::upgrade(
                &site,
                &req,
                &Ctx {
                    env: &env,
                    confirm: None,
                },
            )?;
            if as_json {
                json(&r);
            } else {
                print_upgrade(&r);
            }
        }
        other => return Err(usage(format!("unknown command {other:?}"))),
    }
    Ok(())
}

fn print_status(s: &[package::FileStatus]) {
    for f in s {
        println!(
            "{} {} ({}): pristine version {}, live version {}{}",
            f.package,
            f.live,
            f.format,
            f.pristine_version.as_deref().unwrap_or("-"),
            f.live_version.as_deref().unwrap_or("-"),
            f.pending_new
                .as_ref()
                .map(|p| format!(", pending {}", p.display()))
                .unwrap_or_default()
        );
        for c in &f.conflicts {
            println!("  unresolved conflict: {}", c.key);
        }
    }
    let mut blocked: Vec<(&str, &str)> = s
        .iter()
        .filter_map(|f| Some((f.package.as_str(), f.blocked.as_deref()?)))
        .collect();
    blocked.dedup();
    for (p, msg) in blocked {
        println!("{p}: BLOCKED, the service will not start: {msg}");
    }
}

/// An unpacked archive has no maintainer scripts to write `<state>/version`
/// (the default of `upgrade --old`): `install`/`upgrade --desc` write it, so
/// the next by-hand upgrade knows where it comes from and runs the migrations.
fn record_unpacked_version(site: &Site, version: &str) -> Result<(), HookError> {
    if site.desc_arg.is_none() {
        return Ok(());
    }
    fsio::ensure_dir(&site.state, 0o755)?;
    let meta = Meta {
        mode: 0o644,
        uid: None,
        gid: None,
    };
    fsio::write_atomic(
        &site.state.join("version"),
        format!("{version}\n").as_bytes(),
        meta,
    )
}

/// The version last configured (written by the generated scripts), else the description's.
fn installed_version(site: &Site) -> String {
    fsio::read(&site.state.join("version"))
        .ok()
        .flatten()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| site.desc.version.clone())
}

fn print_upgrade(r: &upgrade::Report) {
    if let Some(s) = &r.snapshot {
        println!("snapshot before the migrations: {}", s.display());
    }
    for m in &r.migrations {
        println!("migration {} ({}): done", m.version, m.run);
    }
    if r.migrations.is_empty() {
        println!("no migration to run");
    }
    for c in &r.configs {
        print_config(c);
    }
    for p in &r.pruned {
        println!("removed the older snapshot {p}");
    }
    if let Some(e) = &r.prune_error {
        println!("note: old snapshots not removed: {e}");
    }
}

fn print_config(c: &ConfigReport) {
    match c {
        ConfigReport::Init(i) => println!("{}: {:?}", i.live.display(), i.action),
        ConfigReport::Update(u) => print_update(u),
        ConfigReport::Purged { live } => println!("{}: purged", live.display()),
    }
}

fn package_event(root: &Path, event: Event, m: &Matches) -> Result<(), HookError> {
    let env_file = m.get("env-file").map(|p| rooted(root, Path::new(&p)));
    let env = command::env_lookup(env_file.as_deref())?;
    let ctx = Ctx {
        env: &env,
        confirm: None,
    };
    let manager = match m.get("manager") {
        None => None,
        Some(x) => Some(
            Manager::parse(&x)
                .ok_or_else(|| usage(format!("--manager {x:?}: use deb, rpm, pacman or apk")))?,
        ),
    };
    let site = site(root, m)?;
    if event == Event::Upgrade {
        let old = m.get("old").unwrap_or_else(|| {
            fsio::read(&site.state.join("version"))
                .ok()
                .flatten()
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        });
        let new = m.get("new").unwrap_or_else(|| site.desc.version.clone());
        let req = Request {
            old: &old,
            new: &new,
            manager,
            merge: true,
        };
        let r = upgrade::upgrade(&site, &req, &ctx)?;
        record_unpacked_version(&site, &new)?;
        if m.json {
            println!("{}", erased::Json::json(&r));
        } else {
            println!("{} Upgrade from {old} to {new}", r.package);
            print_upgrade(&r);
        }
        return Ok(());
    }
    let r = package::run_site(&site, event, &ctx)?;
    if event == Event::Install {
        let new = m.get("new").unwrap_or_else(|| site.desc.version.clone());
        record_unpacked_version(&site, &new)?;
    }
    if m.json {
        println!("{}", erased::Json::json(&r));
        return Ok(());
    }
    let from = m
        .get("old")
        .map(|o| format!(" from {o}"))
        .unwrap_or_default();
    let to = m.get("new").map(|n| format!(" to {n}")).unwrap_or_default();
    println!("{} {:?}{from}{to}", r.package, r.event);
    for c in &r.configs {
        print_config(c);
    }
    Ok(())
}

mod erased {
    /// Anything the binary prints as JSON.
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string_pretty(self).unwrap_or_default()
        }
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let m = match args::parse(CMDS, &argv) {
        Ok(Parsed::Run(m)) => m,
        Ok(Parsed::Help(h)) => {
            println!("{h}\n{EXIT_CODES}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            println!("packwright-hook {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("packwright-hook: {e}");
            return ExitCode::from(2);
        }
    };
    let json = m.json;
    match run(m) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("packwright-hook: {e}");
            if json {
                let failure = match &e {
                    HookError::Failed(f) => serde_json::to_value(f).ok(),
                    _ => None,
                };
                println!(
                    "{}",
                    serde_json::json!({ "error": e.to_string(), "exit": e.exit_code(), "failure": failure })
                );
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
