//! `[upgrade]` and `[[migrations]]`: the gate, the data dirs (which a
//! restore or purge replaces, so they must be the product's own) and the
//! shipped migrations.

use super::super::tree::Ctx;
use super::{base_name, file_entry, read_err, version_ok, Gate, Lifecycle};
use crate::error::Result;
use crate::manifest::schema;
use crate::plan::Entry;
use packwright_hook::contract;
use packwright_hook::desc::{MigrationDesc, UpgradeDesc};

/// `[upgrade]`: the gate the scripts apply and the hook's upgrade settings.
pub(super) fn upgrade(
    ctx: &Ctx,
    m: &schema::Manifest,
    portable: bool,
    life: &mut Lifecycle,
) -> Result<Option<UpgradeDesc>> {
    let loc = ctx.loc;
    let mut upgrade = None;
    if let Some(u) = &m.upgrade {
        for (j, s) in u.stops.iter().enumerate() {
            if !version_ok(s) {
                return Err(loc.error(
                    &format!("upgrade.stops[{j}]"),
                    format!("`{s}` is not a version (letters, digits and . + ~ _ -)"),
                ));
            }
        }
        let semver_major = match u.policy.as_deref() {
            None => false,
            Some("semver-major") => true,
            Some(p) => return Err(loc.error("upgrade.policy", format!("unknown policy `{p}`; the one policy is \"semver-major\" (list other stops in `stops`)"))),
        };
        for (j, d) in u.data_dirs.iter().enumerate() {
            let key = format!("upgrade.data-dirs[{j}]");
            super::super::tree::check_dst(loc, &key, d)?;
            check_data_dir(ctx, &key, d, &u.data_dirs[..j])?;
        }
        if u.backup_keep == Some(0) {
            return Err(loc.error(
                "upgrade.backup-keep",
                "keep at least 1 snapshot: the last one is what a failed migration restores",
            ));
        }
        if !u.stops.is_empty() || semver_major || !u.allow_downgrade {
            life.gate = Some(Gate {
                stops: u.stops.clone(),
                semver_major,
                allow_downgrade: u.allow_downgrade,
            });
        }
        life.data_dirs = u.data_dirs.clone();
        life.purge_data = u.purge_data;
        upgrade = Some(UpgradeDesc {
            stops: u.stops.clone(),
            policy: u.policy.clone(),
            allow_downgrade: u.allow_downgrade,
            data_dirs: if portable {
                u.data_dirs
                    .iter()
                    .map(|d| format!("../data/{}", base_name(d)))
                    .collect()
            } else {
                u.data_dirs.clone()
            },
            backup_keep: u.backup_keep,
        });
    }
    Ok(upgrade)
}

/// `[[migrations]]`: the scripts (as leaves in `out`) and their description.
pub(super) fn migrations(
    ctx: &Ctx,
    m: &schema::Manifest,
    portable: bool,
    life: &mut Lifecycle,
    out: &mut Vec<Entry>,
) -> Result<Vec<MigrationDesc>> {
    let loc = ctx.loc;
    let pkg = ctx.pkg;
    let mut migrations = Vec::new();
    for (i, mg) in m.migrations.iter().enumerate() {
        let key = format!("migrations[{i}]");
        if !version_ok(&mg.version) {
            return Err(loc.error(
                &format!("{key}.version"),
                format!(
                    "`{}` is not a version (letters, digits and . + ~ _ -)",
                    mg.version
                ),
            ));
        }
        if mg.timeout == Some(0) {
            return Err(loc.error(
                &format!("{key}.timeout"),
                "a timeout of 0 seconds would fail every run; leave it out for the default",
            ));
        }
        let src = ctx.project.join(&mg.run);
        let file = base_name(&mg.run);
        let (shipped, run) = if portable {
            let p = contract::migration_rel(&mg.version, &file);
            (format!("/{p}"), p)
        } else {
            let p = format!(
                "{}/{}",
                contract::share_dir(pkg),
                contract::migration_rel(&mg.version, &file)
            );
            (p.clone(), p)
        };
        out.push(
            file_entry(shipped, &src, 0o755, &format!("{key}.run"))
                .map_err(|e| read_err(loc, &format!("{key}.run"), &mg.run, e))?,
        );
        life.migrations.push(mg.version.clone());
        migrations.push(MigrationDesc {
            version: mg.version.clone(),
            run,
            timeout: mg.timeout,
        });
    }
    Ok(migrations)
}

/// Directories that belong to the system (or to packwright): a data dir is
/// snapshotted, restored over and, with `purge-data`, deleted, so it may be
/// none of these nor a parent of one.
const SYSTEM_DIRS: &[&str] = &[
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/usr/lib64",
    "/usr/libexec",
    "/usr/share",
    "/usr/include",
    "/usr/local",
    "/usr/src",
    "/var/lib",
    "/var/log",
    "/var/cache",
    "/var/spool",
    "/var/tmp",
    "/var/opt",
    "/var/mail",
    "/var/run",
    "/var/local",
    "/var/backups",
    contract::STATE_PARENT,
    "/etc/systemd",
    "/etc/default",
    "/etc/ssl",
    "/etc/apt",
    "/etc/yum.repos.d",
    "/etc/pacman.d",
    "/etc/apk",
    "/run/systemd",
];

fn inside(path: &str, dir: &str) -> bool {
    path == dir || path.starts_with(&format!("{dir}/"))
}

/// `/`, a top-level directory, a system directory or a parent of one, or a
/// dir overlapping another data dir, is refused: purge would generate
/// `rm -rf` of it.
fn check_data_dir(ctx: &Ctx, key: &str, d: &str, before: &[String]) -> Result<()> {
    let d = d.trim_end_matches('/');
    let parts = d.split('/').filter(|c| !c.is_empty()).count();
    let system = SYSTEM_DIRS.iter().find(|s| parts > 0 && inside(s, d));
    let d = if parts == 0 { "/" } else { d };
    if parts < 2 || system.is_some() {
        let what = match system {
            _ if parts == 0 => "is the root directory".to_string(),
            Some(s) if *s != d && parts > 1 => format!("holds the system directory {s}"),
            _ => "is a system directory".to_string(),
        };
        return Err(ctx.loc.error(key, format!("`{d}` {what}: a data dir is snapshotted, restored over and deleted on purge, so it must be the product's own directory, such as /var/lib/{}", ctx.pkg)));
    }
    if let Some(other) = before
        .iter()
        .map(|o| o.trim_end_matches('/'))
        .find(|o| inside(d, o) || inside(o, d))
    {
        return Err(ctx.loc.error(
            key,
            format!("`{d}` overlaps the data dir `{other}`: list each directory once, none inside another"),
        ));
    }
    Ok(())
}

/// Data dirs hold the product's data only: no file the package installs or
/// the hook owns may be inside one (a restore or purge would take it).
fn check_data_clashes(ctx: &Ctx, m: &schema::Manifest, tree: &[Entry]) -> Result<()> {
    let Some(u) = &m.upgrade else { return Ok(()) };
    for (j, d) in u.data_dirs.iter().enumerate() {
        let d = d.trim_end_matches('/');
        let key = format!("upgrade.data-dirs[{j}]");
        if let Some(e) = tree.iter().find(|e| !e.is_dir() && inside(&e.path, d)) {
            return Err(ctx.loc.error(&key, format!("`{}` is installed by {} inside the data dir `{d}`; a data dir holds only what the product writes (a restore or purge would replace or delete it)", e.path, e.from)));
        }
        if let Some((i, c)) = m.config.iter().enumerate().find(|(_, c)| inside(&c.dst, d)) {
            return Err(ctx.loc.error(&key, format!("the live config `{}` (config[{i}]) is inside the data dir `{d}`; keep configs out of data dirs (the hook merges them, a restore would overwrite them)", c.dst)));
        }
    }
    Ok(())
}

/// Live config paths must not also be package files: the hook owns them.
pub(in crate::plan) fn check_clashes(
    ctx: &Ctx,
    m: &schema::Manifest,
    tree: &[Entry],
) -> Result<()> {
    check_data_clashes(ctx, m, tree)?;
    for (i, c) in m.config.iter().enumerate() {
        if let Some(e) = tree.iter().find(|e| e.path == c.dst && !e.is_dir()) {
            return Err(ctx.loc.error(
                &format!("config[{i}].dst"),
                format!("`{}` is also installed by {}: the live file belongs to packwright-hook (it renders and merges it); ship only the default", c.dst, e.from),
            ));
        }
    }
    Ok(())
}
