//! packwright-hook: owns a package's config files on the target machine.
//! Renders defaults on install, merges the admin's edits into new defaults on
//! upgrade, checks schema versions before a service starts, snapshots data
//! dirs and runs the package's data migrations.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use packwright::hook::command::{self, Ctx, InitArgs, UpdateArgs, UpdateReport};
use packwright::hook::error::HookError;
use packwright::hook::fsio::{self, Meta};
use packwright::hook::merge::Format;
use packwright::hook::package::{self, ConfigReport, Event};
use packwright::hook::site::Site;
use packwright::hook::upgrade::{self, Manager, Request};
use packwright::hook::{migrate, restore, snapshot};

const EXIT_CODES: &str = "Exit codes: 0 done (conflicts are reported, not failures), 1 I/O error, \
2 bad arguments or missing variables, 4 a file does not parse (it is left unchanged), \
5 version mismatch, or the package is blocked (check), 6 the live config is newer than the package \
(downgrade refused), 7 a symlink or non-regular file where a regular file was expected, \
8 another hook holds the lock, 9 a migration or config merge failed and was rolled back \
(the message says how to retry or go back), 10 not enough free space for the snapshot \
(nothing changed), 11 the snapshot fails its checks (nothing restored).";

#[derive(Parser)]
#[command(name = "packwright-hook", version, about = "Owns a package's config files (init, three-way update, check), snapshots its data dirs and runs its data migrations", after_help = EXIT_CODES)]
struct Cli {
    /// Act inside this root (a chroot or test root), like `dpkg --root`: absolute paths are taken below it.
    #[arg(long, global = true, default_value = "/")]
    root: PathBuf,
    /// Print a JSON report on stdout instead of plain lines.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Render a default/template to the live path (${VAR}, ${VAR:-default}).
    ///
    /// An existing live file is kept unless --force, or unless the admin
    /// answers y to "Overwrite? [y/N]" on a terminal; when overwritten, the old
    /// file is kept as <live>.packwright-old with the same mode.
    #[command(after_help = EXIT_CODES)]
    Init {
        /// The default/template to render.
        #[arg(long, required = true)]
        template: PathBuf,
        /// The live config path to write.
        #[arg(long, required = true)]
        live: PathBuf,
        /// Replace an existing live file without asking.
        #[arg(long)]
        force: bool,
        /// Mode of a new live file, octal (default 0644).
        #[arg(long, value_parser = octal)]
        mode: Option<u32>,
        #[command(flatten)]
        common: Common,
    },
    /// Three-way merge: keep the admin's edits, take the new default's layout, comments and keys.
    ///
    /// base = the previous default as shipped, live = the admin's file, default =
    /// the new default. Where both changed a key differently the admin's value
    /// stays and the new default is written as <live>.packwright-new. The live
    /// file before the merge is kept as <live>.packwright-old.
    #[command(after_help = EXIT_CODES)]
    Update {
        /// The previous default (pristine); without it the new default stands in.
        #[arg(long)]
        base: Option<PathBuf>,
        /// The new default as shipped by this release.
        #[arg(long, required = true)]
        default: PathBuf,
        /// The live config the admin edits.
        #[arg(long, required = true)]
        live: PathBuf,
        /// Dotted key of the schema version (set to the new default's value).
        #[arg(long)]
        version_key: Option<String>,
        /// Print the unified diff and the conflicts; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Compare the live config's version key with the expected version (for ExecStartPre=).
    ///
    /// Exits 5 with a one-line reason on mismatch. With --package (or
    /// --desc), every managed config is compared with its installed default's
    /// version, and a package blocked by an upgrade that skipped a required
    /// stop release (<state>/blocked) fails with 5 and the blocked message.
    #[command(after_help = EXIT_CODES)]
    Check {
        /// The live config to check.
        #[arg(long, required_unless_present_any = ["package", "desc"], conflicts_with_all = ["package", "desc"])]
        live: Option<PathBuf>,
        /// The schema version the program expects.
        #[arg(long, required_unless_present_any = ["package", "desc"])]
        expect: Option<String>,
        /// Dotted key of the version inside the file.
        #[arg(long, default_value = "version")]
        version_key: String,
        #[command(flatten)]
        site: SiteArgs,
        /// yaml | toml | json | env | ini | text (default: from the extension).
        #[arg(long)]
        format: Option<String>,
    },
    /// Managed files, their pristine version, pending .packwright-new files, unresolved conflicts, a blocked upgrade.
    #[command(after_help = EXIT_CODES)]
    Status {
        /// Only this package (default: every package with a packwright description).
        #[command(flatten)]
        site: SiteArgs,
    },
    /// Package mode: init every managed config of an installed package (no migrations).
    #[command(after_help = EXIT_CODES)]
    Install(PkgArgs),
    /// Package mode: migrations, then a three-way update of every managed config.
    ///
    /// Every migration with OLD < version <= NEW not run before runs in
    /// version order, after a snapshot of the data dirs and live configs
    /// (free space checked first). If a migration or a merge fails, the data
    /// dirs and configs are put back and the message names the step, its
    /// output, the log, the snapshot, and how to retry (per --manager) or go
    /// back. No migration runs on a downgrade or without --old.
    #[command(after_help = EXIT_CODES)]
    Upgrade(PkgArgs),
    /// Package mode: nothing to do (configs stay until purge).
    #[command(after_help = EXIT_CODES)]
    Remove(PkgArgs),
    /// Package mode: delete the live configs and /var/lib/<pkg>/packwright/.
    #[command(after_help = EXIT_CODES)]
    Purge(PkgArgs),
    /// Snapshot the data dirs and live configs now (or --list the snapshots).
    ///
    /// Snapshots are <state>/backups/<ID>/ with data.tar.zst, SHA256SUMS,
    /// config/ and meta.json; the oldest beyond backup_keep (default 2) are
    /// removed afterwards.
    #[command(after_help = EXIT_CODES)]
    Backup {
        #[command(flatten)]
        site: SiteArgs,
        /// List the snapshots, oldest first, instead of taking one.
        #[arg(long)]
        list: bool,
    },
    /// Put the data dirs and live configs back from a snapshot.
    ///
    /// The archive is checked against SHA256SUMS before anything is touched;
    /// packwright's state dir is never restored over.
    #[command(after_help = EXIT_CODES)]
    Restore {
        #[command(flatten)]
        site: SiteArgs,
        /// The snapshot ID (default: the newest).
        #[arg(long)]
        snapshot: Option<String>,
    },
    /// Show the package's migrations (--status) or run the pending ones by hand.
    ///
    /// `migrate --old OLD --new NEW` runs what `upgrade` would run, with the
    /// same snapshot and rollback, but merges no config.
    #[command(after_help = EXIT_CODES)]
    Migrate {
        #[command(flatten)]
        site: SiteArgs,
        /// Each migration: version, file, done or pending, when.
        #[arg(long, conflicts_with_all = ["old", "new"])]
        status: bool,
        /// The version upgraded from.
        #[arg(long, required_unless_present = "status")]
        old: Option<String>,
        /// The version upgraded to (default: the description's version).
        #[arg(long)]
        new: Option<String>,
    },
}

/// Which package: installed (--package) or unpacked from a zip/tar.gz (--desc).
#[derive(Args)]
struct SiteArgs {
    /// An installed package: reads <root>/usr/share/<pkg>/packwright/package.json.
    #[arg(long, conflicts_with = "desc")]
    package: Option<String>,
    /// An unpacked archive's <dir>/packwright/package.json; relative paths in it resolve against <dir>.
    #[arg(long)]
    desc: Option<PathBuf>,
    /// The state dir (default <root>/var/lib/<pkg>/packwright, with --desc <dir>/../<pkg>-state).
    #[arg(long)]
    state: Option<PathBuf>,
}

#[derive(Args)]
struct Common {
    /// yaml | toml | json | env | ini | text (default: from the extension).
    #[arg(long)]
    format: Option<String>,
    /// Variables for ${VAR} (the environment wins over the file).
    #[arg(long)]
    env_file: Option<PathBuf>,
}

#[derive(Args)]
struct PkgArgs {
    #[command(flatten)]
    site: SiteArgs,
    /// The upstream version being upgraded from (default: <state>/version).
    #[arg(long)]
    old: Option<String>,
    /// The upstream version being installed (default: the description's).
    #[arg(long)]
    new: Option<String>,
    /// Variables for ${VAR} in the defaults.
    #[arg(long)]
    env_file: Option<PathBuf>,
    /// deb | rpm | pacman | apk: which retry command a failure prints.
    #[arg(long)]
    manager: Option<String>,
}

fn site(root: &Path, a: SiteArgs) -> Result<Site, HookError> {
    let state = a.state.map(|s| rooted(root, &s));
    match (a.package, a.desc) {
        (_, Some(d)) => Site::desc_file(root, &rooted(root, &d), state),
        (Some(p), None) => Site::package(root, &p, state),
        (None, None) => Err(HookError::invalid("arguments", "give --package NAME or --desc FILE")),
    }
}

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

fn run(cli: Cli) -> Result<(), HookError> {
    let root = cli.root.clone();
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let confirm: Option<&dyn Fn(&Path) -> bool> = if terminal && !cli.json {
        Some(&ask)
    } else {
        None
    };
    let json = |v: &dyn erased::Json| println!("{}", v.json());
    match cli.cmd {
        Cmd::Init {
            template,
            live,
            force,
            mode,
            common,
        } => {
            let live = rooted(&root, &live);
            let env = command::env_lookup(common.env_file.map(|p| rooted(&root, &p)).as_deref())?;
            let _lock = lock_dir(&live)?;
            let args = InitArgs {
                template: rooted(&root, &template),
                format: format_for(common.format.as_deref(), &live)?,
                live,
                force,
                meta: mode.map(|mode| Meta {
                    mode,
                    uid: None,
                    gid: None,
                }),
            };
            let r = command::init(&args, &Ctx { env: &env, confirm })?;
            if cli.json {
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
        Cmd::Update {
            base,
            default,
            live,
            version_key,
            dry_run,
            common,
        } => {
            let live = rooted(&root, &live);
            let env = command::env_lookup(common.env_file.map(|p| rooted(&root, &p)).as_deref())?;
            let _lock = lock_dir(&live)?;
            let args = UpdateArgs {
                base: base.map(|b| rooted(&root, &b)),
                default: rooted(&root, &default),
                format: format_for(common.format.as_deref(), &live)?,
                live,
                version_key,
                dry_run,
                meta: None,
            };
            let r = command::update(
                &args,
                &Ctx {
                    env: &env,
                    confirm: None,
                },
            )?;
            if cli.json {
                json(&r);
            } else {
                print_update(&r);
            }
        }
        Cmd::Check {
            live,
            expect,
            version_key,
            site: sa,
            format,
        } => {
            let by_package = sa.package.is_some() || sa.desc.is_some();
            let found = match (by_package, live, expect) {
                (true, _, _) => package::check_site(&site(&root, sa)?)?,
                (false, Some(live), Some(expect)) => {
                    let live = rooted(&root, &live);
                    let f = format_for(format.as_deref(), &live)?;
                    vec![command::check(&live, &expect, &version_key, f)?]
                }
                _ => {
                    return Err(HookError::invalid(
                        "check",
                        "give --live and --expect, or --package",
                    ))
                }
            };
            if cli.json {
                json(&serde_json::json!({ "ok": true, "versions": found }));
            }
        }
        Cmd::Status { site: sa } => {
            let s = if sa.desc.is_some() || sa.state.is_some() {
                package::status_site(&site(&root, sa)?)?
            } else {
                package::status(&root, sa.package.as_deref())?
            };
            if cli.json {
                json(&s);
            } else {
                for f in &s {
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
                for (p, m) in blocked {
                    println!("{p}: BLOCKED, the service will not start: {m}");
                }
            }
        }
        Cmd::Install(a) => package_event(&root, Event::Install, a, cli.json)?,
        Cmd::Upgrade(a) => package_event(&root, Event::Upgrade, a, cli.json)?,
        Cmd::Remove(a) => package_event(&root, Event::Remove, a, cli.json)?,
        Cmd::Purge(a) => package_event(&root, Event::Purge, a, cli.json)?,
        Cmd::Backup { site: sa, list } => {
            let site = site(&root, sa)?;
            if list {
                let all = snapshot::list(&site)?;
                if cli.json {
                    json(&all);
                }
                for s in all.iter().filter(|_| !cli.json) {
                    println!("{} ({} to {}, {})", s.id, s.meta.old, s.meta.new, s.dir.display());
                }
                return Ok(());
            }
            let _lock = package::lock(&site)?;
            let v = installed_version(&site);
            let s = snapshot::create(&site, &format!("{}-backup", snapshot::clean(&v)), &v, &v, true)?;
            let pruned = snapshot::prune(&site, site.backup_keep().max(1))?;
            if cli.json {
                json(&serde_json::json!({ "snapshot": s, "pruned": pruned }));
            } else {
                println!("{}: snapshot {} in {}", site.pkg, s.id, s.dir.display());
                for p in pruned {
                    println!("  removed the older snapshot {p}");
                }
            }
        }
        Cmd::Restore { site: sa, snapshot } => {
            let site = site(&root, sa)?;
            let _lock = package::lock(&site)?;
            let r = restore::restore(&site, snapshot.as_deref())?;
            if cli.json {
                json(&r);
            } else {
                println!("{}: restored snapshot {}", site.pkg, r.id);
                for p in r.data_dirs.iter().chain(&r.configs) {
                    println!("  {}", p.display());
                }
            }
        }
        Cmd::Migrate {
            site: sa,
            status,
            old,
            new,
        } => {
            let site = site(&root, sa)?;
            if status {
                let st = migrate::status(&site)?;
                if cli.json {
                    json(&st);
                }
                for m in st.iter().filter(|_| !cli.json) {
                    let when = m
                        .finished_at
                        .map(|t| format!(" at {}", snapshot::utc_stamp(t)))
                        .unwrap_or_default();
                    let state = if m.done { "done" } else { "pending" };
                    println!("{} {}: {state}{when}", m.version, m.run);
                }
                return Ok(());
            }
            let old = old.unwrap_or_default();
            let new = new.unwrap_or_else(|| site.desc.version.clone());
            let req = Request {
                old: &old,
                new: &new,
                manager: None,
                merge: false,
            };
            let env = |_: &str| None;
            let r = upgrade::upgrade(&site, &req, &Ctx { env: &env, confirm: None })?;
            if cli.json {
                json(&r);
            } else {
                print_upgrade(&r);
            }
        }
    }
    Ok(())
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

fn package_event(root: &Path, event: Event, a: PkgArgs, as_json: bool) -> Result<(), HookError> {
    let env = command::env_lookup(a.env_file.map(|p| rooted(root, &p)).as_deref())?;
    let ctx = Ctx {
        env: &env,
        confirm: None,
    };
    let manager = match a.manager.as_deref() {
        None => None,
        Some(m) => Some(Manager::parse(m).ok_or_else(|| {
            HookError::invalid("--manager", format!("{m:?}: use deb, rpm, pacman or apk"))
        })?),
    };
    let site = site(root, a.site)?;
    if event == Event::Upgrade {
        let old = a.old.unwrap_or_else(|| {
            fsio::read(&site.state.join("version"))
                .ok()
                .flatten()
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        });
        let new = a.new.unwrap_or_else(|| site.desc.version.clone());
        let req = Request {
            old: &old,
            new: &new,
            manager,
            merge: true,
        };
        let r = upgrade::upgrade(&site, &req, &ctx)?;
        if as_json {
            println!("{}", erased::Json::json(&r));
        } else {
            println!("{} Upgrade from {old} to {new}", r.package);
            print_upgrade(&r);
        }
        return Ok(());
    }
    let r = package::run_site(&site, event, &ctx)?;
    if as_json {
        println!("{}", erased::Json::json(&r));
        return Ok(());
    }
    let from = a.old.map(|o| format!(" from {o}")).unwrap_or_default();
    let to = a.new.map(|n| format!(" to {n}")).unwrap_or_default();
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
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
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
