//! `[[config]]`, `[[users]]`, `[[systemd]]`, `[upgrade]`, `[[migrations]]`
//! and `[hook]` → the plan's lifecycle intent, plus the files that carry it
//! (the hook, the config defaults, the hook's description, units,
//! sysusers.d, migrations). Scripts are generated from the intent later.

mod config;
mod upgrade;

use super::hookbin;
use super::tree::Ctx;
use super::{Entry, Kind, Layout, PackageMeta, Source};
use crate::error::Result;
use crate::manifest::{schema, Locator};
use packwright_hook::contract;
use packwright_hook::desc::PackageDesc;
use packwright_hook::merge::ConfigSyntax;
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
    /// Whether packwright keeps state on the target (`contract::state_dir`:
    /// `/var/lib/packwright/<pkg>`).
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

pub(super) use upgrade::check_clashes;

/// Versions and names that end up inside generated shell: no quoting games.
pub(super) fn version_ok(v: &str) -> bool {
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
/// the portable layout), by concern: configs, users, units, upgrade,
/// migrations, the hook and its description, drop-ins and sysusers.d.
pub(super) fn collect(
    ctx: &Ctx,
    m: &schema::Manifest,
    meta: &PackageMeta,
    layout: Layout,
    fmt_hook: Option<&str>,
) -> Result<(Lifecycle, Vec<Entry>)> {
    let pkg = &meta.name;
    let portable = layout == Layout::Portable;
    let mut life = Lifecycle::default();
    let mut out = Vec::new();
    let configs = config::configs(ctx, m, portable, &mut life, &mut out)?;
    users(ctx.loc, m, &mut life)?;
    let drop_ins = units(ctx, m, portable, &mut life, &mut out)?;
    let upgrade = upgrade::upgrade(ctx, m, portable, &mut life)?;
    let migrations = upgrade::migrations(ctx, m, portable, &mut life, &mut out)?;
    // The hook: needed wherever it has work on the target.
    let needs = !configs.is_empty()
        || !migrations.is_empty()
        || upgrade.as_ref().is_some_and(|u| !u.data_dirs.is_empty())
        || m.hook.is_some()
        || fmt_hook.is_some();
    if needs {
        hook(ctx, m, meta, portable, fmt_hook, &mut life, &mut out)?;
        let desc = PackageDesc {
            package: pkg.clone(),
            version: meta.version.clone(),
            configs,
            upgrade,
            migrations,
        };
        out.push(description(&desc, pkg, portable));
    }
    unit_files(m, pkg, &life, drop_ins, &mut out);
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

fn read_err(loc: &Locator, key: &str, rel: &str, e: std::io::Error) -> crate::Error {
    loc.error(key, format!("`{rel}` cannot be read: {e}"))
}

/// `[[users]]`: names and paths that end up in /etc/passwd and shell.
fn users(loc: &Locator, m: &schema::Manifest, life: &mut Lifecycle) -> Result<()> {
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
    Ok(())
}

/// `[[systemd]]`: the unit files (as leaves in `out`) and the intent;
/// returns the services that get packwright's drop-in, with their key.
fn units(
    ctx: &Ctx,
    m: &schema::Manifest,
    portable: bool,
    life: &mut Lifecycle,
    out: &mut Vec<Entry>,
) -> Result<Vec<(String, String)>> {
    let loc = ctx.loc;
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
                    .map_err(|e| read_err(loc, &key, &s.unit, e))?,
            );
        } else {
            std::fs::metadata(&src).map_err(|e| read_err(loc, &key, &s.unit, e))?;
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
    Ok(drop_ins)
}

/// The hook binary the package carries, when it can run there.
fn hook(
    ctx: &Ctx,
    m: &schema::Manifest,
    meta: &PackageMeta,
    portable: bool,
    fmt_hook: Option<&str>,
    life: &mut Lifecycle,
    out: &mut Vec<Entry>,
) -> Result<()> {
    let loc = ctx.loc;
    let pkg = &meta.name;
    let os = meta.target.split('-').next().unwrap_or("linux");
    // An archive for another platform carries a hook only when the manifest
    // names one for it; its description is there either way.
    if !portable || fmt_hook.is_some() || os == "linux" {
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
            (false, _) => contract::hook_path(pkg),
            (true, "windows") => format!("/usr/bin/{}.exe", contract::HOOK_NAME),
            (true, _) => format!("/usr/bin/{}", contract::HOOK_NAME),
        };
        out.push(
            file_entry(installed.clone(), &path, 0o755, &key).map_err(|e| {
                loc.error(&key, format!("`{}` cannot be read: {e}", path.display()))
            })?,
        );
        life.hook = Some(installed);
    }
    Ok(())
}

/// The hook's description of the package, as a file of the package.
fn description(desc: &PackageDesc, pkg: &str, portable: bool) -> Entry {
    let mut json = serde_json::to_vec_pretty(desc).expect("the description serializes");
    json.push(b'\n');
    let at = if portable {
        format!("/{}", contract::DESC)
    } else {
        contract::desc_path(pkg)
    };
    Entry::generated(at, json, 0o644, "hook")
}

/// Packwright's drop-in for each service that wants one.
fn unit_files(
    m: &schema::Manifest,
    pkg: &str,
    life: &Lifecycle,
    drop_ins: Vec<(String, String)>,
    out: &mut Vec<Entry>,
) {
    // Services read the env configs and refuse to start on a config the
    // installed release does not understand (or after a refused upgrade).
    let env_files: Vec<&str> = m
        .config
        .iter()
        .filter(|c| {
            c.format
                .as_deref()
                .and_then(ConfigSyntax::parse)
                .unwrap_or_else(|| ConfigSyntax::from_path(Path::new(&c.dst)))
                == ConfigSyntax::Env
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
            format!("{}{body}", DROP_IN.replace("@PKG@", pkg)).into_bytes(),
            0o644,
            &key,
        ));
    }
}

fn name_ok_unit(n: &str) -> bool {
    n.chars()
        .all(|c| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c))
}

/// The templates under systemd/: `@PKG@` is the package name; the drop-in's
/// `[Service]` lines and the sysusers lines follow them.
const DROP_IN: &str = include_str!("../../../systemd/drop-in.conf");
const SYSUSERS: &str = include_str!("../../../systemd/sysusers.conf");

/// systemd-sysusers(8) lines for the users and their groups.
pub fn sysusers(users: &[User], pkg: &str) -> String {
    let mut s = SYSUSERS.replace("@PKG@", pkg);
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
