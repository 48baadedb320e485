//! Package mode: `packwright-hook <event> --package NAME --old V --new V`.
//! Reads the installed package's description and runs init or update for
//! each managed config, keeping pristine defaults and the conflict list under
//! `/var/lib/packwright/<pkg>/` (root-only: see statedir.rs).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::command::{
    self, Ctx, InitArgs, InitReport, UpdateArgs, UpdateReport, NEW_SUFFIX, OLD_SUFFIX,
};
use super::contract::state;
use super::desc::{ConfigDesc, PackageDesc};
use super::error::{HookError, Result};
use super::fsio::{self, Meta};
use super::merge::{ConfigSyntax, Conflict, Src};
use super::site::Site;
use super::{account, template};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    Install,
    Upgrade,
    Remove,
    Purge,
}

impl Event {
    pub fn parse(s: &str) -> Option<Event> {
        Some(match s {
            "install" => Event::Install,
            "upgrade" => Event::Upgrade,
            "remove" => Event::Remove,
            "purge" => Event::Purge,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "step", rename_all = "lowercase")]
#[allow(clippy::large_enum_variant)] // one per config, short-lived
pub enum ConfigReport {
    Init(InitReport),
    Update(UpdateReport),
    Purged { live: PathBuf },
}

#[derive(Debug, Clone, Serialize)]
pub struct EventReport {
    pub package: String,
    pub event: Event,
    pub configs: Vec<ConfigReport>,
}

/// `<root>/var/lib/packwright/<pkg>`.
pub fn state_dir(root: &Path, pkg: &str) -> PathBuf {
    super::statedir::path(root, pkg)
}

/// The pristine copy of a live file of an installed package (see `Site::pristine`).
pub fn pristine_path(root: &Path, pkg: &str, live: &str) -> PathBuf {
    state_dir(root, pkg)
        .join(state::PRISTINE)
        .join(super::site::escape(live))
}

fn conflicts_path(site: &Site) -> PathBuf {
    site.state.join(state::CONFLICTS)
}

fn format_of(c: &ConfigDesc) -> Result<ConfigSyntax> {
    match &c.format {
        Some(f) => ConfigSyntax::parse(f)
            .ok_or_else(|| HookError::invalid(&c.live, format!("unknown format {f:?}"))),
        None => Ok(ConfigSyntax::from_path(Path::new(&c.live))),
    }
}

fn meta_of(root: &Path, c: &ConfigDesc) -> Result<Meta> {
    Ok(Meta {
        mode: c.mode_bits()?.unwrap_or(0o644),
        uid: c
            .owner
            .as_deref()
            .map(|o| account::uid(root, o))
            .transpose()?,
        gid: c
            .group
            .as_deref()
            .map(|g| account::gid(root, g))
            .transpose()?,
    })
}

type ConflictMap = BTreeMap<String, Vec<Conflict>>;

fn load_conflicts(site: &Site) -> ConflictMap {
    let p = conflicts_path(site);
    fsio::read(&p)
        .ok()
        .flatten()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Run one package event for every managed config.
pub fn run(root: &Path, pkg: &str, event: Event, ctx: &Ctx) -> Result<EventReport> {
    run_site(&Site::package(root, pkg, None)?, event, ctx)
}

pub fn run_site(site: &Site, event: Event, ctx: &Ctx) -> Result<EventReport> {
    let mut report = EventReport {
        package: site.pkg.clone(),
        event,
        configs: vec![],
    };
    match event {
        Event::Remove => {}
        Event::Purge => {
            for c in &site.desc.configs {
                let live = site.path(&c.live);
                for p in [
                    live.clone(),
                    fsio::sibling(&live, NEW_SUFFIX),
                    fsio::sibling(&live, OLD_SUFFIX),
                ] {
                    fsio::remove(&p)?;
                }
                report.configs.push(ConfigReport::Purged { live });
            }
            if site.state.exists() {
                std::fs::remove_dir_all(&site.state).map_err(|e| HookError::io(&site.state, e))?;
            }
        }
        Event::Install | Event::Upgrade => {
            let _lock = lock(site)?;
            report.configs = configs(site, event, ctx)?;
        }
    }
    Ok(report)
}

/// Create the state dir (checked, explicit modes), take the package's
/// lock, and take over an older packwright's state once.
pub fn lock(site: &Site) -> Result<fsio::Lock> {
    super::statedir::ensure(&site.state, &site.state_top)?;
    super::statedir::make_dir(&site.state.join(state::PRISTINE), 0o700)?;
    let lock = fsio::lock(&site.state.join(state::LOCK))?;
    #[cfg(unix)]
    super::legacy::migrate(site)?;
    Ok(lock)
}

/// Init or update every managed config; the caller holds `lock`.
pub fn configs(site: &Site, event: Event, ctx: &Ctx) -> Result<Vec<ConfigReport>> {
    configs_at(site, event, ctx, &mut None)
}

/// `configs`, leaving in `current` the live file being worked on, to name
/// the one that failed.
pub fn configs_at(
    site: &Site,
    event: Event,
    ctx: &Ctx,
    current: &mut Option<PathBuf>,
) -> Result<Vec<ConfigReport>> {
    let root = &site.root;
    let mut out = Vec::new();
    let mut conflicts = load_conflicts(site);
    for c in &site.desc.configs {
        let live = site.path(&c.live);
        *current = Some(live.clone());
        let default = site.path(&c.default);
        let pristine = site.pristine(&c.live);
        let format = format_of(c)?;
        let meta = meta_of(root, c)?;
        if let Some(dir) = live.parent() {
            fsio::ensure_dir(dir, 0o755)?;
        }
        // An install over a live file left by an earlier removal is an update.
        let step = if event == Event::Install && !live.exists() {
            ConfigReport::Init(command::init(
                &InitArgs {
                    template: default.clone(),
                    live: live.clone(),
                    format,
                    force: false,
                    meta: Some(meta),
                },
                ctx,
            )?)
        } else {
            let u = command::update(
                &UpdateArgs {
                    base: Some(pristine.clone()),
                    default: default.clone(),
                    live: live.clone(),
                    format,
                    version_key: c.version_key.clone(),
                    dry_run: false,
                    meta: Some(meta),
                    renames: c.renames.clone().into_iter().collect(),
                    list_keys: c.list_keys.clone().into_iter().collect(),
                },
                ctx,
            )?;
            if u.new_file.is_some() {
                conflicts.insert(c.live.clone(), u.conflicts.clone());
            } else {
                conflicts.remove(&c.live);
            }
            ConfigReport::Update(u)
        };
        // The next upgrade's base is this release's default as shipped.
        let raw = fsio::read(&default)?.unwrap_or_default();
        fsio::write_atomic(&pristine, raw.as_bytes(), PRIVATE)?;
        out.push(step);
    }
    *current = None;
    let json = serde_json::to_string_pretty(&conflicts).expect("conflicts serialize");
    fsio::write_atomic(&conflicts_path(site), json.as_bytes(), PRIVATE)?;
    Ok(out)
}

/// Mode 0600, owned by whoever runs the hook: packwright's own state files.
pub const PRIVATE: Meta = Meta {
    mode: 0o600,
    uid: None,
    gid: None,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileStatus {
    pub package: String,
    pub live: String,
    pub format: String,
    /// The schema version of the pristine default last installed.
    pub pristine_version: Option<String>,
    pub live_version: Option<String>,
    /// A `.packwright-new` waiting to be looked at.
    pub pending_new: Option<PathBuf>,
    pub conflicts: Vec<Conflict>,
    /// Why the package may not start (`<state>/blocked`), if it is blocked.
    #[serde(default)]
    pub blocked: Option<String>,
}

/// Managed files of one package, or of every package with a description.
pub fn status(root: &Path, pkg: Option<&str>) -> Result<Vec<FileStatus>> {
    let pkgs: Vec<String> = match pkg {
        Some(p) => vec![p.to_string()],
        None => {
            let share = root.join("usr/share");
            let mut v: Vec<String> = std::fs::read_dir(&share)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| PackageDesc::path(root, n).is_file())
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v
        }
    };
    let mut out = Vec::new();
    for p in pkgs {
        out.extend(status_site(&Site::package(root, &p, None)?)?);
    }
    Ok(out)
}

pub fn status_site(site: &Site) -> Result<Vec<FileStatus>> {
    let conflicts = load_conflicts(site);
    let blocked = site.blocked()?;
    let mut out = Vec::new();
    for c in &site.desc.configs {
        let live = site.path(&c.live);
        let format = format_of(c)?;
        let version_of = |path: &Path| -> Option<String> {
            let key = c.version_key.as_deref()?;
            let text = fsio::read(path).ok()??;
            let text = template::render_lenient(&text, &|_| None);
            format.engine().value(Src { path, text: &text }, key).ok()?
        };
        let new = fsio::sibling(&live, NEW_SUFFIX);
        let pending = new.is_file();
        out.push(FileStatus {
            package: site.pkg.clone(),
            live: c.live.clone(),
            format: format!("{format:?}").to_lowercase(),
            pristine_version: version_of(&site.pristine(&c.live)),
            live_version: version_of(&live),
            pending_new: pending.then_some(new),
            conflicts: if pending {
                conflicts.get(&c.live).cloned().unwrap_or_default()
            } else {
                vec![]
            },
            blocked: blocked.clone(),
        });
    }
    Ok(out)
}

/// `check --package`: every config's live version against its installed default's.
pub fn check(root: &Path, pkg: &str) -> Result<Vec<String>> {
    check_site(&Site::package(root, pkg, None)?)
}

/// Refuses a blocked package first: its config was not converted.
pub fn check_site(site: &Site) -> Result<Vec<String>> {
    if let Some(message) = site.blocked()? {
        return Err(HookError::Blocked {
            package: site.pkg.clone(),
            message,
        });
    }
    let mut ok = Vec::new();
    for c in &site.desc.configs {
        let Some(key) = c.version_key.as_deref() else {
            continue;
        };
        let format = format_of(c)?;
        let default = site.path(&c.default);
        let text = fsio::read(&default)?
            .ok_or_else(|| HookError::invalid(&default, "default not found"))?;
        let text = template::render_lenient(&text, &|_| None);
        let expect = format
            .engine()
            .value(
                Src {
                    path: &default,
                    text: &text,
                },
                key,
            )?
            .ok_or_else(|| HookError::invalid(&default, format!("no {key} in the default")))?;
        let live = site.path(&c.live);
        ok.push(command::check(&live, &expect, key, format)?);
    }
    Ok(ok)
}
