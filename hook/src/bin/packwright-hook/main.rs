//! packwright-hook: owns a package's config files on the target machine.
//! Renders defaults on install, merges the admin's edits into new defaults on
//! upgrade, checks schema versions before a service starts, snapshots data
//! dirs and runs the package's data migrations.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use packwright_hook::args::{self, Matches, Parsed};
use packwright_hook::command::{self, Ctx, InitArgs, UpdateArgs};
use packwright_hook::contract::state;
use packwright_hook::error::HookError;
use packwright_hook::fsio::{self, Meta};
use packwright_hook::merge::ConfigSyntax;
use packwright_hook::package::{self, Event};
use packwright_hook::site::Site;
use packwright_hook::upgrade::{self, Manager, Request};
use packwright_hook::{account, legacy, migrate, own, restore, snapshot};

use packwright_hook::cli::{CMDS, EXIT_CODES};

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

fn format_for(name: Option<&str>, path: &Path) -> Result<ConfigSyntax, HookError> {
    match name {
        Some(n) => ConfigSyntax::parse(n)
            .ok_or_else(|| HookError::invalid(path, format!("unknown format {n:?}"))),
        None => Ok(ConfigSyntax::from_path(path)),
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

/// What every command reads from the command line.
struct Cli<'a> {
    m: &'a Matches,
    root: PathBuf,
    json: bool,
    confirm: Option<&'a dyn Fn(&Path) -> bool>,
    env_file: Option<PathBuf>,
}

impl Cli<'_> {
    fn need(&self, n: &str) -> Result<PathBuf, HookError> {
        self.m.need(n).map(PathBuf::from).map_err(usage)
    }
}

fn run(m: Matches) -> Result<(), HookError> {
    let root = PathBuf::from(m.root.clone().unwrap_or_else(|| "/".into()));
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let confirm: Option<&dyn Fn(&Path) -> bool> = if terminal && !m.json {
        Some(&ask)
    } else {
        None
    };
    let env_file = m.get("env-file").map(|p| rooted(&root, Path::new(&p)));
    let c = Cli {
        m: &m,
        root,
        json: m.json,
        confirm,
        env_file,
    };
    match m.cmd {
        "init" => init_cmd(&c),
        "update" => update_cmd(&c),
        "check" => check_cmd(&c),
        "status" => status_cmd(&c),
        "install" => package_event(&c.root, Event::Install, &m),
        "upgrade" => package_event(&c.root, Event::Upgrade, &m),
        "remove" => package_event(&c.root, Event::Remove, &m),
        "purge" => package_event(&c.root, Event::Purge, &m),
        "backup" => backup_cmd(&c),
        "restore" => restore_cmd(&c),
        "migrate" => migrate_cmd(&c),
        "own" => own_cmd(&c),
        "recorded-version" => recorded_version_cmd(&c),
        other => Err(usage(format!("unknown command {other:?}"))),
    }
}

/// `packwright-hook own`: owner and mode set without following a link.
fn own_cmd(c: &Cli) -> Result<(), HookError> {
    let path = c.m.need("path").map_err(usage)?;
    let owner = c.m.need("owner").map_err(usage)?;
    let (u, g) = owner
        .split_once(':')
        .ok_or_else(|| usage(format!("own: --owner {owner:?}: give USER:GROUP")))?;
    let (uid, gid) = (account::uid(&c.root, u)?, account::gid(&c.root, g)?);
    match own::own(&c.root, &path, uid, gid, mode_of(c.m)?)? {
        own::Owned::Skipped(why) => eprintln!("{path}: owner not set: {why}"),
        own::Owned::Done | own::Owned::Link => {}
    }
    Ok(())
}

/// `packwright-hook recorded-version`: the old layout's record, read as hostile.
fn recorded_version_cmd(c: &Cli) -> Result<(), HookError> {
    let pkg = c.m.need("package").map_err(usage)?;
    if pkg.is_empty() || pkg.contains('/') || pkg.starts_with('.') {
        return Err(usage(format!("{pkg:?} is not a package name")));
    }
    match legacy::recorded(&c.root, &pkg) {
        Ok(Some(v)) => println!("{v}"),
        Ok(None) => {}
        Err(why) => eprintln!("{pkg}: not trusted, ignored: {why}"),
    }
    Ok(())
}

/// `packwright-hook init`.
fn init_cmd(c: &Cli) -> Result<(), HookError> {
    let live = rooted(&c.root, &c.need("live")?);
    let env = command::env_lookup(c.env_file.as_deref())?;
    let _lock = lock_dir(&live)?;
    let args = InitArgs {
        template: rooted(&c.root, &c.need("template")?),
        format: format_for(c.m.get("format").as_deref(), &live)?,
        live,
        force: c.m.flag("force"),
        meta: mode_of(c.m)?.map(|mode| Meta {
            mode,
            uid: None,
            gid: None,
        }),
    };
    let r = command::init(
        &args,
        &Ctx {
            env: &env,
            confirm: c.confirm,
        },
    )?;
    emit(c.json, &r, &|| {
        println!("{}: {}", r.live.display(), init_words(r.action))
    });
    Ok(())
}

/// Every `--FLAG A=B` of `update`, as pairs.
fn pairs(m: &Matches, flag: &str, shape: &str) -> Result<Vec<(String, String)>, HookError> {
    m.all(flag)
        .into_iter()
        .map(|r| match r.split_once('=') {
            Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_string(), b.to_string())),
            _ => Err(usage(format!("update: --{flag} {r:?}: give {shape}"))),
        })
        .collect()
}

/// `packwright-hook update`.
fn update_cmd(c: &Cli) -> Result<(), HookError> {
    let live = rooted(&c.root, &c.need("live")?);
    let env = command::env_lookup(c.env_file.as_deref())?;
    let renames = pairs(c.m, "rename", "OLD=NEW")?;
    let list_keys = pairs(c.m, "list-key", "LIST=KEY")?;
    let _lock = lock_dir(&live)?;
    let args = UpdateArgs {
        renames,
        list_keys,
        base: c.m.get("base").map(|b| rooted(&c.root, Path::new(&b))),
        default: rooted(&c.root, &c.need("default")?),
        format: format_for(c.m.get("format").as_deref(), &live)?,
        live,
        version_key: c.m.get("version-key"),
        dry_run: c.m.flag("dry-run"),
        meta: None,
    };
    let r = command::update(
        &args,
        &Ctx {
            env: &env,
            confirm: None,
        },
    )?;
    emit(c.json, &r, &|| print_update(&r));
    Ok(())
}

/// `packwright-hook check`.
fn check_cmd(c: &Cli) -> Result<(), HookError> {
    let by_package = c.m.flag("package") || c.m.flag("desc");
    if by_package {
        c.m.exclusive("live", "package").map_err(usage)?;
        c.m.exclusive("live", "desc").map_err(usage)?;
    }
    let found = if by_package {
        package::check_site(&site(&c.root, c.m)?)?
    } else {
        let live = rooted(&c.root, &c.need("live")?);
        let expect = c.m.need("expect").map_err(usage)?;
        let key = c.m.get("version-key").unwrap_or_else(|| "version".into());
        let f = format_for(c.m.get("format").as_deref(), &live)?;
        vec![command::check(&live, &expect, &key, f)?]
    };
    let r = serde_json::json!({ "ok": true, "versions": found });
    emit(c.json, &r, &|| {});
    Ok(())
}

/// `packwright-hook status`.
fn status_cmd(c: &Cli) -> Result<(), HookError> {
    let s = if c.m.flag("desc") || c.m.flag("state") {
        package::status_site(&site(&c.root, c.m)?)?
    } else {
        package::status(&c.root, c.m.get("package").as_deref())?
    };
    emit(c.json, &s, &|| print_status(&s));
    Ok(())
}

/// `packwright-hook backup`.
fn backup_cmd(c: &Cli) -> Result<(), HookError> {
    let site = site(&c.root, c.m)?;
    if c.m.flag("list") {
        let all = snapshot::list(&site)?;
        emit(c.json, &all, &|| {
            for s in &all {
                let (old, new, dir) = (&s.meta.old, &s.meta.new, s.dir.display());
                println!("{} ({old} to {new}, {dir})", s.id);
            }
        });
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
    let r = serde_json::json!({ "snapshot": s, "pruned": pruned });
    emit(c.json, &r, &|| {
        println!("{}: snapshot {} in {}", site.pkg, s.id, s.dir.display());
        for p in &pruned {
            println!("  removed the older snapshot {p}");
        }
    });
    Ok(())
}

/// `packwright-hook restore`.
fn restore_cmd(c: &Cli) -> Result<(), HookError> {
    let site = site(&c.root, c.m)?;
    let _lock = package::lock(&site)?;
    let r = restore::restore(&site, c.m.get("snapshot").as_deref())?;
    emit(c.json, &r, &|| {
        println!("{}: restored snapshot {}", site.pkg, r.id);
        for p in r.data_dirs.iter().chain(&r.configs) {
            println!("  {}", p.display());
        }
        for v in &r.pending_again {
            println!("  migration {v} is pending again (its effect was undone)");
        }
    });
    Ok(())
}

/// `packwright-hook migrate`.
fn migrate_cmd(c: &Cli) -> Result<(), HookError> {
    let site = site(&c.root, c.m)?;
    if c.m.flag("status") {
        c.m.exclusive("status", "old").map_err(usage)?;
        let st = migrate::status(&site)?;
        emit(c.json, &st, &|| {
            for s in &st {
                let when = s
                    .finished_at
                    .map(|t| format!(" at {}", snapshot::utc_stamp(t)))
                    .unwrap_or_default();
                let state = if s.done { "done" } else { "pending" };
                println!("{} {}: {state}{when}", s.version, s.run);
            }
        });
        return Ok(());
    }
    let old = c.m.need("old").map_err(usage)?;
    let new = c.m.get("new").unwrap_or_else(|| site.desc.version.clone());
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
    emit(c.json, &r, &|| print_upgrade(&r));
    Ok(())
}

/// An unpacked archive has no maintainer scripts to write `<state>/version`
/// (the default of `upgrade --old`): `install`/`upgrade --desc` write it, so
/// the next by-hand upgrade knows where it comes from and runs the migrations.
fn record_unpacked_version(site: &Site, version: &str) -> Result<(), HookError> {
    if site.desc_arg.is_none() {
        return Ok(());
    }
    packwright_hook::statedir::ensure(&site.state, &site.state_top)?;
    let meta = Meta {
        mode: 0o644,
        uid: None,
        gid: None,
    };
    fsio::write_atomic(
        &site.state.join(state::VERSION),
        format!("{version}\n").as_bytes(),
        meta,
    )
}

/// The version last configured (written by the generated scripts), else the description's.
fn installed_version(site: &Site) -> String {
    fsio::read(&site.state.join(state::VERSION))
        .ok()
        .flatten()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| site.desc.version.clone())
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
            fsio::read(&site.state.join(state::VERSION))
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
        emit(m.json, &r, &|| {
            println!("{}: upgrade from {old} to {new}", r.package);
            print_upgrade(&r);
        });
        return Ok(());
    }
    let r = package::run_site(&site, event, &ctx)?;
    if event == Event::Install {
        let new = m.get("new").unwrap_or_else(|| site.desc.version.clone());
        record_unpacked_version(&site, &new)?;
    }
    emit(m.json, &r, &|| print_event(&r, m));
    Ok(())
}

/// The plain lines of `install`, `remove` and `purge`.
fn print_event(r: &package::EventReport, m: &Matches) {
    let from = m
        .get("old")
        .map(|o| format!(" from {o}"))
        .unwrap_or_default();
    let to = m.get("new").map(|n| format!(" to {n}")).unwrap_or_default();
    let what = match r.event {
        Event::Install => "install",
        Event::Upgrade => "upgrade",
        Event::Remove => "remove",
        Event::Purge => "purge",
    };
    println!("{}: {what}{from}{to}", r.package);
    for c in &r.configs {
        print_config(c);
    }
}

mod print;

use print::{emit, init_words, print_config, print_status, print_update, print_upgrade};

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
    let res = run(m);
    // Leftovers of interrupted runs that this run removed.
    for n in fsio::take_cleaned() {
        eprintln!("packwright-hook: note: {n}");
    }
    match res {
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
