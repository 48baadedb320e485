//! `[[config]]`, `[[users]]`, `[[systemd]]`, `[upgrade]`, `[[migrations]]`
//! and `[hook]` → the plan's lifecycle intent, plus the files that carry it
//! (the hook, the config defaults, the hook's description, units,
//! sysusers.d, migrations). Scripts are generated from the intent later.

use super::hookbin;
use super::tree::{parse_mode, Ctx};
use super::{Entry, Kind, Layout, Meta, Source};
use crate::error::Result;
use crate::manifest::schema;
use packwright_hook::desc::{ConfigDesc, MigrationDesc, PackageDesc, UpgradeDesc};
use packwright_hook::merge::{Format as ConfigFormat, Src};
use std::collections::BTreeMap;
use std::path::Path;

/// What the generated scripts do on the target, in format-neutral terms.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    /// Where the hook is installed, when the package carries one.
    pub hook: Option<String>,
    /// Live config paths the hook owns (removed on purge).
    pub configs: Vec<String>,
    pub users: Vec<User>,
    pub units: Vec<Unit>,
    pub gate: Option<Gate>,
    /// Versions of the shipped migrations, in manifest order.
    pub migrations: Vec<String>,
    pub data_dirs: Vec<String>,
    pub purge_data: bool,
}

impl Lifecycle {
    /// Whether packwright keeps state on the target (`/var/lib/<pkg>/packwright`).
    pub fn has_state(&self) -> bool {
        self.hook.is_some() || self.gate.is_some() || !self.units.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub group: String,
    pub home: String,
    /// None: the first nologin shell the target has.
    pub shell: Option<String>,
    pub system: bool,
}

#[derive(Debug, Clone)]
pub struct Unit {
    /// `imsrv.service`.
    pub name: String,
    pub enable: bool,
    pub start: bool,
    pub restart: bool,
}

/// The upgrade gate of `[upgrade]`, baked into the pre- and post-scripts.
#[derive(Debug, Clone)]
pub struct Gate {
    pub stops: Vec<String>,
    /// Every new major version X.0.0 is a stop.
    pub semver_major: bool,
    pub allow_downgrade: bool,
}

/// Versions and names that end up inside generated shell: no quoting games.
fn version_ok(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~_-".contains(c))
        && v.split(|c: char| !c.is_ascii_digit())
            .all(|d| d.len() <= 18)
}

fn name_ok(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 32
        && n.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c))
}

fn base_name(p: &str) -> String {
    p.rsplit('/').next().unwrap_or(p).to_string()
}

fn file_entry(path: String, src: &Path, mode: u32, from: &str) -> std::io::Result<Entry> {
    let size = std::fs::metadata(src)?.len();
    Ok(Entry {
        path,
        kind: Kind::File(Source::Path {
            path: src.to_path_buf(),
            size,
        }),
        mode,
        owner: "root".into(),
        group: "root".into(),
        owned: false,
        from: from.into(),
    })
}

/// The intent and the extra leaves (system paths; `finish` maps them for
/// the portable layout). `os` is the target's OS for the hook check.
pub(super) fn collect(
    ctx: &Ctx,
    m: &schema::Manifest,
    meta: &Meta,
    layout: Layout,
    fmt_hook: Option<&str>,
) -> Result<(Lifecycle, Vec<Entry>)> {
    let loc = ctx.loc;
    let pkg = &meta.name;
    let portable = layout == Layout::Portable;
    let mut life = Lifecycle::default();
    let mut out = Vec::new();
    let read_err = |key: &str, rel: &str, e: std::io::Error| {
        loc.error(key, format!("`{rel}` cannot be read: {e}"))
    };

    // Config defaults and their description for the hook.
    let mut configs = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (i, c) in m.config.iter().enumerate() {
        let key = format!("config[{i}]");
        super::tree::check_dst(loc, &format!("{key}.dst"), &c.dst)?;
        let format = match &c.format {
            Some(f) => ConfigFormat::parse(f).ok_or_else(|| {
                loc.error(
                    &format!("{key}.format"),
                    format!("unknown config format `{f}`; use yaml, toml, json, env, ini or text"),
                )
            })?,
            None => ConfigFormat::from_path(Path::new(&c.dst)),
        };
        let mode = c
            .mode
            .as_deref()
            .map(|s| parse_mode(loc, &format!("{key}.mode"), s))
            .transpose()?;
        let src = ctx.project.join(&c.src);
        let text = std::fs::read_to_string(&src)
            .map_err(|e| read_err(&format!("{key}.src"), &c.src, e))?;
        // A default that does not parse would fail on every target at
        // install time: refuse it here, with its own line and column.
        let rendered = packwright_hook::template::render_lenient(&text, &|_| None);
        let at = Src {
            path: &src,
            text: &rendered,
        };
        let engine = format.engine();
        engine
            .validate(at)
            .map_err(|e| loc.error(&format!("{key}.src"), e.to_string()))?;
        if let Some(vk) = &c.version_key {
            let found = engine
                .value(at, vk)
                .map_err(|e| loc.error(&format!("{key}.version-key"), e.to_string()))?;
            if found.is_none() {
                return Err(loc.error(
                    &format!("{key}.version-key"),
                    format!("`{}` has no `{vk}`: the hook compares this key to check the config's schema version", c.src),
                ));
            }
        }
        let mut name = base_name(&c.dst);
        if portable && format == ConfigFormat::Env {
            name.push_str(".example");
        }
        if let Some(prev) = names.insert(name.clone(), key.clone()) {
            return Err(loc.error(
                &format!("{key}.dst"),
                format!("`{name}` is also the file name of {prev}; the defaults share one directory, so live file names must differ"),
            ));
        }
        let (shipped, default, live) = if portable {
            (
                format!("/etc/{pkg}/{name}"),
                format!("config/{name}"),
                format!("../config/{}", base_name(&c.dst)),
            )
        } else {
            let p = format!("/usr/share/{pkg}/defaults/{name}");
            (p.clone(), p, c.dst.clone())
        };
        out.push(
            file_entry(shipped, &src, 0o644, &key)
                .map_err(|e| read_err(&format!("{key}.src"), &c.src, e))?,
        );
        life.configs.push(c.dst.clone());
        configs.push(ConfigDesc {
            live,
            default,
            format: Some(format!("{format:?}").to_lowercase()),
            version_key: c.version_key.clone(),
            mode: mode.map(|m| format!("{m:04o}")),
            // An unpacked archive has no step that creates `[[users]]`: its
            // live configs belong to whoever runs the hook (a named owner
            // would fail `install --desc` with "no group named …").
            owner: c.owner.clone().filter(|_| !portable),
            group: c.group.clone().filter(|_| !portable),
            renames: c.renames.clone(),
            list_keys: c.list_keys.clone(),
        });
    }

    for (i, u) in m.users.iter().enumerate() {
        let key = format!("users[{i}]");
        let group = u.group.clone().unwrap_or_else(|| u.name.clone());
        for (k, v) in [("name", &u.name), ("group", &group)] {
            if !name_ok(v) {
                return Err(loc.error(
                    &format!("{key}.{k}"),
                    format!("`{v}` is not a portable user or group name: lowercase letters, digits, `_` and `-`, starting with a letter or `_`, at most 32"),
                ));
            }
        }
        for (k, v) in [("home", &u.home), ("shell", &u.shell)] {
            // They become /etc/passwd fields (`:` separated, one line) and
            // shell words: only plain path characters.
            if let Some(p) = v {
                if !p.starts_with('/')
                    || p.len() > 255
                    || !p
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/._+-".contains(c))
                {
                    return Err(loc.error(
                        &format!("{key}.{k}"),
                        format!("{p:?} must be an absolute path of ASCII letters, digits, `/`, `.`, `_`, `+` and `-` (no `:`, `;`, spaces, quotes or newlines: it becomes an /etc/passwd field)"),
                    ));
                }
            }
        }
        life.users.push(User {
            name: u.name.clone(),
            group,
            home: u.home.clone().unwrap_or_else(|| "/nonexistent".into()),
            shell: u.shell.clone(),
            system: u.system.unwrap_or(true),
        });
    }

    let mut drop_ins = Vec::new();
    for (i, s) in m.systemd.iter().enumerate() {
        let key = format!("systemd[{i}].unit");
        let name = base_name(&s.unit);
        let kinds = [
            ".service", ".socket", ".timer", ".path", ".target", ".mount",
        ];
        if !kinds.iter().any(|k| name.ends_with(k)) || !name_ok_unit(&name) {
            return Err(loc.error(&key, format!("`{name}` is not a unit file name (name.service, .socket, .timer, .path, .target, .mount)")));
        }
        let src = ctx.project.join(&s.unit);
        if !portable {
            out.push(
                file_entry(format!("/usr/lib/systemd/system/{name}"), &src, 0o644, &key)
                    .map_err(|e| read_err(&key, &s.unit, e))?,
            );
        } else {
            std::fs::metadata(&src).map_err(|e| read_err(&key, &s.unit, e))?;
        }
        if s.drop_in && name.ends_with(".service") && !portable {
            drop_ins.push((name.clone(), format!("systemd[{i}]")));
        }
        life.units.push(Unit {
            name,
            enable: s.enable,
            start: s.start,
            restart: s.restart_on_upgrade,
        });
    }

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
            super::tree::check_dst(loc, &key, d)?;
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
            let p = format!("migrations/{}/{file}", mg.version);
            (format!("/{p}"), p)
        } else {
            let p = format!("/usr/share/{pkg}/migrations/{}/{file}", mg.version);
            (p.clone(), p)
        };
        out.push(
            file_entry(shipped, &src, 0o755, &format!("{key}.run"))
                .map_err(|e| read_err(&format!("{key}.run"), &mg.run, e))?,
        );
        life.migrations.push(mg.version.clone());
        migrations.push(MigrationDesc {
            version: mg.version.clone(),
            run,
            timeout: mg.timeout,
        });
    }

    // The hook: needed wherever it has work on the target.
    let needs = !configs.is_empty()
        || !migrations.is_empty()
        || upgrade.as_ref().is_some_and(|u| !u.data_dirs.is_empty())
        || m.hook.is_some()
        || fmt_hook.is_some();
    let os = meta.target.split('-').next().unwrap_or("linux");
    // An archive for another platform carries a hook only when the manifest
    // names one for it; its description is there either way.
    if needs && (!portable || fmt_hook.is_some() || os == "linux") {
        let (key, path) = match (fmt_hook, m.hook.as_ref().and_then(|h| h.binary.as_ref())) {
            (Some(p), _) => (
                format!("format.{}.hook", ctx.format_key),
                ctx.project.join(p),
            ),
            (None, Some(p)) => ("hook.binary".to_string(), ctx.project.join(p)),
            (None, None) => {
                let why = ["config", "migrations", "upgrade.data-dirs", "hook"]
                    .into_iter()
                    .find(|k| loc.has(k))
                    .unwrap_or("hook");
                let p = hookbin::find(meta.arch).map_err(|e| {
                    loc.error(why, format!("this package carries packwright-hook: {e}"))
                })?;
                (why.to_string(), p)
            }
        };
        if let Some(why) = hookbin::unfit(&path, os, meta.arch) {
            return Err(loc.error(&key, why));
        }
        let installed = match (portable, os) {
            (false, _) => format!("/usr/lib/{pkg}/packwright-hook"),
            (true, "windows") => "/usr/bin/packwright-hook.exe".to_string(),
            (true, _) => "/usr/bin/packwright-hook".to_string(),
        };
        out.push(
            file_entry(installed.clone(), &path, 0o755, &key).map_err(|e| {
                loc.error(&key, format!("`{}` cannot be read: {e}", path.display()))
            })?,
        );
        life.hook = Some(installed);
    }
    if needs {
        let desc = PackageDesc {
            package: pkg.clone(),
            version: meta.version.clone(),
            configs,
            upgrade,
            migrations,
        };
        let mut json = serde_json::to_vec_pretty(&desc).expect("the description serializes");
        json.push(b'\n');
        let at = if portable {
            "/packwright/package.json".to_string()
        } else {
            format!("/usr/share/{pkg}/packwright/package.json")
        };
        out.push(Entry::generated(at, json, 0o644, "hook"));
    }

    // Services read the env configs and refuse to start on a config the
    // installed release does not understand (or after a refused upgrade).
    let env_files: Vec<&str> = m
        .config
        .iter()
        .filter(|c| {
            c.format
                .as_deref()
                .and_then(ConfigFormat::parse)
                .unwrap_or_else(|| ConfigFormat::from_path(Path::new(&c.dst)))
                == ConfigFormat::Env
        })
        .map(|c| c.dst.as_str())
        .collect();
    for (unit, key) in drop_ins {
        let mut body = String::new();
        for f in &env_files {
            body.push_str(&format!("EnvironmentFile=-{f}\n"));
        }
        if let Some(h) = &life.hook {
            // `+`: the check runs with full privileges whatever User= says,
            // so a 0600 config does not stop it.
            body.push_str(&format!("ExecStartPre=+{h} check --package {pkg}\n"));
        }
        if body.is_empty() {
            continue;
        }
        out.push(Entry::generated(
            format!("/usr/lib/systemd/system/{unit}.d/packwright.conf"),
            format!("# Generated by packwright for {pkg}: the env configs and a config check\n# before every start. Turn off with drop-in = false in [[systemd]].\n[Service]\n{body}").into_bytes(),
            0o644,
            &key,
        ));
    }
    if !portable && !life.users.is_empty() {
        out.push(Entry::generated(
            format!("/usr/lib/sysusers.d/{pkg}.conf"),
            sysusers(&life.users, pkg).into_bytes(),
            0o644,
            "users",
        ));
    }
    Ok((life, out))
}

fn name_ok_unit(n: &str) -> bool {
    n.chars()
        .all(|c| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c))
}

/// systemd-sysusers(8) lines for the users and their groups.
pub fn sysusers(users: &[User], pkg: &str) -> String {
    let mut s =
        format!("# {pkg}: system users, created by systemd-sysusers or the package's scripts\n");
    for u in users {
        if u.group != u.name {
            s.push_str(&format!("g {} -\n", u.group));
        }
        let id = if u.group != u.name {
            format!("-:{}", u.group)
        } else {
            "-".into()
        };
        let shell = u.shell.as_deref().unwrap_or("-");
        s.push_str(&format!("u {} {id} \"{pkg}\" {} {shell}\n", u.name, u.home));
    }
    s
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
    "/var/lib/packwright",
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
pub(super) fn check_clashes(ctx: &Ctx, m: &schema::Manifest, tree: &[Entry]) -> Result<()> {
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
