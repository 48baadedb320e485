//! packwright-hook: owns a package's config files on the target machine.
//! Renders defaults on install, merges the admin's edits into new defaults on
//! upgrade, checks schema versions before a service starts, snapshots data
//! dirs and runs the package's data migrations.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use packwright_hook::args::{self, Matches, Parsed};
use packwright_hook::command::{self, Ctx, InitArgs, UpdateArgs, UpdateReport};
use packwright_hook::error::HookError;
use packwright_hook::fsio::{self, Meta};
use packwright_hook::merge::Format;
use packwright_hook::package::{self, ConfigReport, Event};
use packwright_hook::site::Site;
use packwright_hook::upgrade::{self, Manager, Request};
use packwright_hook::{migrate, restore, snapshot};

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
        match (&c.yours, &c.new_default) {
            (Some(v), None) => println!(
                "  conflict: {} — removed upstream; your value {v} was dropped (it is in the backup; if the key was renamed, declare the rename)",
                c.key
            ),
            (yours, new) => println!(
                "  conflict: {} — kept yours {}, new default {}",
                c.key,
                yours.as_deref().unwrap_or("(deleted)"),
                new.as_deref().unwrap_or("(none)")
            ),
        }
    }
    for k in &r.moved {
        println!(
            "  moved: your {} = {} is now {} (renamed upstream)",
            k.from, k.your_value, k.to
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
                println!("{}: {}", r.live.display(), init_words(r.action));
            }
        }
        "update" => {
            let live = rooted(&root, &need("live")?);
            let env = command::env_lookup(env_file.as_deref())?;
            // `--rename OLD=NEW`, `--list-key LIST=KEY`: repeatable pairs.
            let pairs = |name: &str, form: &str| {
                let each = m.all(name).into_iter().map(|r| match r.split_once('=') {
                    Some((a, b)) if !a.is_empty() && !b.is_empty() => {
                        Ok((a.to_string(), b.to_string()))
                    }
                    _ => Err(usage(format!("update: --{name} {r:?}: give {form}"))),
                });
                each.collect::<Result<Vec<_>, _>>()
            };
            let renames = pairs("rename", "OLD=NEW")?;
            let list_keys = pairs("list-key", "LIST=KEY")?;
            let _lock = lock_dir(&live)?;
            let args = UpdateArgs {
                renames,
                list_keys,
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
    packwright_hook::statedir::ensure(&site.state, &site.state_top)?;
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

fn init_words(a: command::InitAction) -> &'static str {
    match a {
        command::InitAction::Written => "written",
        command::InitAction::Overwritten => "overwritten (previous file kept as .packwright-old)",
        command::InitAction::KeptExisting => "exists, kept (use --force to replace)",
    }
}

fn print_config(c: &ConfigReport) {
    match c {
        ConfigReport::Init(i) => println!("{}: {}", i.live.display(), init_words(i.action)),
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
            println!("{}: upgrade from {old} to {new}", r.package);
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
