//! Package-mode upgrade with data migrations, in this order: pending
//! migrations → snapshot (free space first) → migrations → config merge →
//! prune. A failing migration or merge rolls back the data dirs, the live
//! configs and packwright's own records, and the error says what failed and
//! how to retry or go back.

use serde::Serialize;
use std::fmt;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::command::{Ctx, NEW_SUFFIX, OLD_SUFFIX};
use super::contract::state;
use super::desc::MigrationDesc;
use super::error::{HookError, Result};
use super::fsio::{self, Meta};
use super::migrate::{self, Env, Record};
use super::package::{self, ConfigReport, Event};
use super::restore;
use super::site::Site;
use super::snapshot::{self, Snapshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    Deb,
    Rpm,
    Pacman,
    Apk,
}

impl Manager {
    pub fn parse(s: &str) -> Option<Manager> {
        Some(match s {
            "deb" => Manager::Deb,
            "rpm" => Manager::Rpm,
            "pacman" => Manager::Pacman,
            "apk" => Manager::Apk,
            _ => return None,
        })
    }
}

pub struct Request<'a> {
    pub old: &'a str,
    pub new: &'a str,
    pub manager: Option<Manager>,
    /// `upgrade` merges the configs after the migrations; `migrate` does not.
    pub merge: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub package: String,
    pub event: Event,
    pub old: String,
    pub new: String,
    /// The snapshot taken before the migrations, if any ran.
    pub snapshot: Option<PathBuf>,
    pub migrations: Vec<Record>,
    pub configs: Vec<ConfigReport>,
    /// Snapshots removed to keep `backup_keep`.
    pub pruned: Vec<String>,
    /// Pruning is housekeeping: its failure does not fail the upgrade.
    pub prune_error: Option<String>,
}

/// What the admin needs after a failed step.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub package: String,
    pub old: String,
    pub new: String,
    /// `migration 3.5.0 (/usr/share/…/x.sh)` or `config merge of /etc/…`.
    pub step: String,
    pub error: String,
    pub output_tail: Option<String>,
    pub log: Option<PathBuf>,
    pub snapshot: Option<PathBuf>,
    pub snapshot_id: Option<String>,
    /// Set when putting things back failed too.
    pub rollback_error: Option<String>,
    pub retry: String,
    pub go_back: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: upgrade from {} to {} failed at {}: {}",
            self.package, self.old, self.new, self.step, self.error
        )?;
        if let Some(t) = self.output_tail.as_deref().filter(|t| !t.is_empty()) {
            writeln!(f, "  last lines of its output:")?;
            for l in t.lines() {
                writeln!(f, "    | {l}")?;
            }
        }
        if let Some(l) = &self.log {
            writeln!(f, "  log: {}", l.display())?;
        }
        match &self.rollback_error {
            None => writeln!(
                f,
                "  rolled back: the data dirs and configs are as they were before the upgrade"
            )?,
            Some(e) => writeln!(f, "  THE ROLLBACK FAILED TOO: {e}")?,
        }
        if let Some(s) = &self.snapshot {
            writeln!(f, "  snapshot: {}", s.display())?;
        }
        writeln!(f, "  to retry once the cause is fixed: {}", self.retry)?;
        write!(f, "  to go back: {}", self.go_back.join(", then "))
    }
}

/// The package's configs and packwright's records about them, as they were
/// before the upgrade, to put back byte for byte on failure.
struct Saved {
    /// Each path with its bytes and owner/mode, or `None` if it did not exist.
    files: Vec<(PathBuf, Option<Content>)>,
}

type Content = (Vec<u8>, Meta);

impl Saved {
    fn take(site: &Site) -> Result<Saved> {
        let mut paths = vec![
            site.state.join(state::CONFLICTS),
            migrate::records_path(site),
        ];
        for c in &site.desc.configs {
            let live = site.path(&c.live);
            paths.push(fsio::sibling(&live, NEW_SUFFIX));
            paths.push(fsio::sibling(&live, OLD_SUFFIX));
            paths.push(site.pristine(&c.live));
            paths.push(live);
        }
        let mut files = Vec::new();
        for p in paths {
            let saved = match fsio::meta(&p) {
                Ok(Some(m)) => Some((fs::read(&p).map_err(|e| HookError::io(&p, e))?, m)),
                Ok(None) => None,
                // Not a regular file: the merge refuses it, nothing to put back.
                Err(HookError::NotRegular { .. }) => continue,
                Err(e) => return Err(e),
            };
            files.push((p, saved));
        }
        Ok(Saved { files })
    }

    /// Rewrite only what differs, so untouched files keep their inode and mtime.
    fn put_back(&self) -> Result<()> {
        for (p, saved) in &self.files {
            match saved {
                None => fsio::remove(p)?,
                Some((data, meta)) => {
                    let same = fs::symlink_metadata(p).ok().is_some_and(|m| {
                        (m.mode() & 0o7777, Some(m.uid()), Some(m.gid()))
                            == (meta.mode, meta.uid, meta.gid)
                    }) && fs::read(p).ok().as_ref() == Some(data);
                    if !same {
                        fsio::write_atomic(p, data, *meta)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// `upgrade` (with `merge`) or `migrate --old --new` (without).
pub fn upgrade(site: &Site, req: &Request, ctx: &Ctx) -> Result<Report> {
    let _lock = package::lock(site)?;
    let before = migrate::load(site)?;
    let pending = migrate::pending(site, req.old, req.new, &before);
    let saved = Saved::take(site)?;
    // A refusal for space or a snapshot that cannot be written changes nothing.
    let snap = snapshot_before(site, req, !pending.is_empty())?;
    let run = Attempt {
        site,
        req,
        snap: snap.as_ref(),
        saved: &saved,
    };
    let mut report = Report {
        package: site.pkg.clone(),
        event: Event::Upgrade,
        old: req.old.into(),
        new: req.new.into(),
        snapshot: snap.as_ref().map(|s| s.dir.clone()),
        migrations: run.migrations(pending, before)?,
        configs: vec![],
        pruned: vec![],
        prune_error: None,
    };
    if req.merge {
        report.configs = run.merge(ctx)?;
    }
    match snapshot::prune(site, site.backup_keep()) {
        Ok(p) => report.pruned = p,
        Err(e) => report.prune_error = Some(e.to_string()),
    }
    Ok(report)
}

/// The snapshot the migrations may be undone with, when any will run.
fn snapshot_before(site: &Site, req: &Request, migrating: bool) -> Result<Option<Snapshot>> {
    if !migrating {
        return Ok(None);
    }
    let label = format!(
        "{}-to-{}",
        snapshot::clean(req.old),
        snapshot::clean(req.new)
    );
    snapshot::create(site, &label, req.old, req.new, true).map(Some)
}

/// The steps after the snapshot; a failing one rolls everything back.
struct Attempt<'a> {
    site: &'a Site,
    req: &'a Request<'a>,
    snap: Option<&'a Snapshot>,
    saved: &'a Saved,
}

impl Attempt<'_> {
    /// Roll back, then the error that says what failed and what to do.
    fn fail(&self, step: String, error: String, out: Option<&migrate::Outcome>) -> HookError {
        let rollback_error = rollback(self.site, self.snap, self.saved).err();
        HookError::Failed(Box::new(failure(
            self.site,
            self.req,
            self.snap,
            step,
            error,
            out,
            rollback_error,
        )))
    }

    /// Run the pending migrations in order, recording each as it succeeds
    /// (after the `done` ones); the records of those that ran.
    fn migrations(
        &self,
        pending: Vec<&MigrationDesc>,
        mut done: Vec<Record>,
    ) -> Result<Vec<Record>> {
        let (site, req) = (self.site, self.req);
        let id = self
            .snap
            .map_or_else(|| snapshot::utc_stamp(snapshot::now()), |s| s.id.clone());
        let mut ran = Vec::new();
        for m in pending {
            let env = Env {
                old: req.old,
                new: req.new,
                id: &id,
            };
            let step = |p: &Path| format!("migration {} ({})", m.version, p.display());
            let out = match migrate::run(site, m, &env) {
                Ok(out) => out,
                Err(e) => return Err(self.fail(step(&site.path(&m.run)), e.to_string(), None)),
            };
            if let Err(e) = &out.result {
                return Err(self.fail(step(&out.program), e.clone(), Some(&out)));
            }
            let r = Record {
                version: m.version.clone(),
                run: m.run.clone(),
                finished_at: snapshot::now(),
                snapshot: self.snap.map(|s| s.id.clone()),
            };
            done.push(r.clone());
            if let Err(e) = migrate::save(site, &done) {
                return Err(self.fail(step(&out.program), e.to_string(), None));
            }
            ran.push(r);
        }
        Ok(ran)
    }

    /// The config merge of an upgrade.
    fn merge(&self, ctx: &Ctx) -> Result<Vec<ConfigReport>> {
        let mut current = None;
        package::configs_at(self.site, Event::Upgrade, ctx, &mut current).map_err(|e| {
            let step = match current {
                Some(p) => format!("config merge of {}", p.display()),
                None => "config merge".into(),
            };
            self.fail(step, e.to_string(), None)
        })
    }
}

fn rollback(site: &Site, snap: Option<&Snapshot>, saved: &Saved) -> Result<(), String> {
    let mut errs = Vec::new();
    if let Some(s) = snap {
        if let Err(e) = restore::restore_data(site, s) {
            errs.push(e.to_string());
        }
    }
    if let Err(e) = saved.put_back() {
        errs.push(e.to_string());
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

fn failure(
    site: &Site,
    req: &Request,
    snap: Option<&Snapshot>,
    step: String,
    error: String,
    out: Option<&migrate::Outcome>,
    rollback_error: Option<String>,
) -> Failure {
    let (old, new, pkg) = (req.old, req.new, &site.pkg);
    let retry = match (req.merge, req.manager) {
        (true, Some(Manager::Deb)) => "dpkg --configure -a".into(),
        (true, Some(Manager::Rpm)) => {
            format!("dnf reinstall {pkg} (or: rpm -U --replacepkgs {pkg}-{new}-*.rpm)")
        }
        (true, Some(Manager::Pacman)) => {
            format!("pacman -S {pkg} (or: pacman -U {pkg}-{new}-*.pkg.tar.*)")
        }
        (true, Some(Manager::Apk)) => format!("apk fix {pkg}"),
        (true, None) => site.hook_command(&format!("upgrade --old {old} --new {new}")),
        (false, _) => site.hook_command(&format!("migrate --old {old} --new {new}")),
    };
    let mut go_back = vec![if site.desc_arg.is_some() {
        format!("use the unpacked {pkg} {old} again")
    } else {
        format!("install {pkg} {old} again with your package manager")
    }];
    if let Some(s) = snap {
        go_back.push(site.hook_command(&format!("restore --snapshot {}", s.id)));
    }
    Failure {
        package: pkg.clone(),
        old: old.into(),
        new: new.into(),
        step,
        error,
        output_tail: out.map(|o| o.tail.clone()),
        log: out.map(|o| o.log.clone()),
        snapshot: snap.map(|s| s.dir.clone()),
        snapshot_id: snap.map(|s| s.id.clone()),
        rollback_error,
        retry,
        go_back,
    }
}
