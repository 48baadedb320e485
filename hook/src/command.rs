//! The standalone commands on plain paths: init, update, check. Package mode
//! (package.rs) calls these per managed config. Callers take the lock.

use serde::Serialize;
use std::path::{Path, PathBuf};

use super::error::{HookError, Result};
use super::fsio::{self, Meta};
use super::merge::{ConfigSyntax, Conflict, Merged, Moved, Opts, Removed, Src};
use super::template;

pub use super::contract::{NEW_SUFFIX, OLD_SUFFIX};

/// Where variables for `${VAR}` come from, and how to ask "overwrite?".
pub struct Ctx<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// `Some` only on a terminal: returns the admin's yes/no.
    pub confirm: Option<&'a dyn Fn(&Path) -> bool>,
}

/// A variable lookup: the process environment first, then the env file.
pub fn env_lookup(env_file: Option<&Path>) -> Result<impl Fn(&str) -> Option<String>> {
    let vars = match env_file {
        Some(p) => {
            let text = fsio::read(p)?.ok_or_else(|| HookError::invalid(p, "env file not found"))?;
            ConfigSyntax::Env.engine().validate(Src {
                path: p,
                text: &text,
            })?;
            template::env_file_vars(&text)
        }
        None => Vec::new(),
    };
    Ok(move |name: &str| {
        std::env::var(name)
            .ok()
            .or_else(|| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    })
}

pub struct InitArgs {
    pub template: PathBuf,
    pub live: PathBuf,
    pub format: ConfigSyntax,
    pub force: bool,
    /// Mode and owner for a new live file (default 0644, the caller's owner).
    pub meta: Option<Meta>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitAction {
    Written,
    Overwritten,
    KeptExisting,
}

#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub live: PathBuf,
    pub action: InitAction,
    pub backup: Option<PathBuf>,
}

/// Render the template to the live path.
pub fn init(a: &InitArgs, ctx: &Ctx) -> Result<InitReport> {
    let raw = fsio::read(&a.template)?
        .ok_or_else(|| HookError::invalid(&a.template, "template not found"))?;
    let text = template::render(&raw, ctx.env).map_err(|names| HookError::MissingVars {
        path: a.template.clone(),
        names,
    })?;
    a.format.engine().validate(Src {
        path: &a.template,
        text: &text,
    })?;
    let existing = fsio::meta(&a.live)?;
    let mut report = InitReport {
        live: a.live.clone(),
        action: InitAction::Written,
        backup: None,
    };
    let meta = match existing {
        Some(m) => {
            let yes = a.force || ctx.confirm.is_some_and(|ask| ask(&a.live));
            if !yes {
                report.action = InitAction::KeptExisting;
                return Ok(report);
            }
            let b = fsio::sibling(&a.live, OLD_SUFFIX);
            let m = fsio::backup(&a.live, &b)?.unwrap_or(m);
            report.backup = Some(b);
            report.action = InitAction::Overwritten;
            Meta {
                mode: a.meta.map_or(m.mode, |n| n.mode),
                ..a.meta.unwrap_or(m)
            }
        }
        None => a.meta.unwrap_or(Meta {
            mode: 0o644,
            uid: None,
            gid: None,
        }),
    };
    fsio::write_atomic(&a.live, text.as_bytes(), meta)?;
    Ok(report)
}

pub struct UpdateArgs {
    /// The previous pristine default; the new default stands in when absent.
    pub base: Option<PathBuf>,
    pub default: PathBuf,
    pub live: PathBuf,
    pub format: ConfigSyntax,
    pub version_key: Option<String>,
    pub dry_run: bool,
    /// Mode and owner if the live file has to be created.
    pub meta: Option<Meta>,
    /// Keys renamed upstream (old → new), from `[[config]] renames` or `--rename`.
    pub renames: Vec<(String, String)>,
    /// List → the key identifying its entries, from `[[config]] list-keys` or `--list-key`.
    pub list_keys: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateAction {
    Unchanged,
    Merged,
    /// The live file was missing and was written from the new default.
    Recreated,
    DryRun,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpdateReport {
    pub live: PathBuf,
    pub action: UpdateAction,
    /// The schema version now in the live file.
    pub version: Option<String>,
    pub conflicts: Vec<Conflict>,
    pub removed: Vec<Removed>,
    /// Your values carried to keys renamed upstream.
    pub moved: Vec<Moved>,
    pub kept: Vec<String>,
    pub unplaced: Vec<String>,
    pub note: Option<String>,
    /// The new default, written beside the live file on a conflict.
    pub new_file: Option<PathBuf>,
    /// The live file as it was before the merge.
    pub backup: Option<PathBuf>,
    /// `--dry-run`: unified diff of what would change.
    pub diff: Option<String>,
}

fn read_required(p: &Path) -> Result<String> {
    fsio::read(p)?.ok_or_else(|| HookError::invalid(p, "file not found"))
}

/// Three-way merge of base (previous default), live and the new default.
pub fn update(a: &UpdateArgs, ctx: &Ctx) -> Result<UpdateReport> {
    let theirs = template::render_lenient(&read_required(&a.default)?, ctx.env);
    let base = match &a.base {
        Some(b) => fsio::read(b)?.map(|t| template::render_lenient(&t, ctx.env)),
        None => None,
    };
    let base_path = a.base.clone().unwrap_or_else(|| a.default.clone());
    let base = base.unwrap_or_else(|| theirs.clone());
    let new_path = fsio::sibling(&a.live, NEW_SUFFIX);
    let old_path = fsio::sibling(&a.live, OLD_SUFFIX);
    for p in [&new_path, &old_path] {
        fsio::ensure_regular_or_absent(p)?;
    }
    let mut r = UpdateReport {
        live: a.live.clone(),
        action: UpdateAction::Merged,
        version: None,
        conflicts: vec![],
        removed: vec![],
        moved: vec![],
        kept: vec![],
        unplaced: vec![],
        note: None,
        new_file: None,
        backup: None,
        diff: None,
    };
    let live_read = match fsio::read_meta(&a.live) {
        Err(e) if e.exit_code() == 4 => {
            // Unreadable text (not UTF-8, a NUL byte, too large): like a syntax error.
            let m = fsio::meta(&a.live)?.unwrap_or(Meta {
                mode: 0o600,
                uid: None,
                gid: None,
            });
            return Err(refuse_live(a, &new_path, &theirs, m, e));
        }
        r => r?,
    };
    let Some((ours, live_meta)) = live_read else {
        return recreate(a, &theirs, r);
    };
    let base = Src {
        path: &base_path,
        text: &base,
    };
    let m = merge_live(a, base, &ours, live_meta, &theirs)?;
    r.version = m.new_version.clone();
    r.conflicts = m.conflicts;
    r.removed = m.removed;
    r.moved = m.moved;
    r.kept = m.kept;
    r.unplaced = m.unplaced;
    r.note = m.note;
    if a.dry_run {
        r.action = UpdateAction::DryRun;
        r.diff = Some(diffy::create_patch(&ours, &m.text).to_string());
        return Ok(r);
    }
    let live = (ours.as_str(), live_meta);
    write_result(a, &mut r, live, &m.text, &theirs, [new_path, old_path])?;
    Ok(r)
}

/// The admin deleted the file: the service needs one, so write the new default.
fn recreate(a: &UpdateArgs, theirs: &str, mut r: UpdateReport) -> Result<UpdateReport> {
    let src = Src {
        path: &a.default,
        text: theirs,
    };
    r.version = match &a.version_key {
        Some(k) => a.format.engine().value(src, k)?,
        None => None,
    };
    if a.dry_run {
        r.action = UpdateAction::DryRun;
        r.diff = Some(diffy::create_patch("", theirs).to_string());
        return Ok(r);
    }
    let meta = a.meta.unwrap_or(Meta {
        mode: 0o644,
        uid: None,
        gid: None,
    });
    fsio::write_atomic(&a.live, theirs.as_bytes(), meta)?;
    r.action = UpdateAction::Recreated;
    r.note = Some("the live file was missing: written from the new default".into());
    Ok(r)
}

/// One parse of each file (the live file first, so a syntax error names
/// it before anything else), the merge, and the downgrade check.
fn merge_live(a: &UpdateArgs, base: Src, ours: &str, meta: Meta, theirs: &str) -> Result<Merged> {
    let ours_src = Src {
        path: &a.live,
        text: ours,
    };
    let theirs_src = Src {
        path: &a.default,
        text: theirs,
    };
    let opts = Opts {
        version_key: a.version_key.as_deref(),
        renames: &a.renames,
        list_keys: &a.list_keys,
    };
    let new_path = fsio::sibling(&a.live, NEW_SUFFIX);
    let m = match a
        .format
        .engine()
        .merge_with(base, ours_src, theirs_src, &opts)
    {
        Ok(m) => m,
        Err(e @ HookError::Syntax { .. }) if matches!(&e, HookError::Syntax { path, .. } if *path == a.live) =>
        {
            return Err(refuse_live(a, &new_path, theirs, meta, e));
        }
        Err(e) => return Err(e),
    };
    if let (Some(k), Some(live_v), Some(new)) = (&a.version_key, &m.live_version, &m.new_version) {
        if super::version::compare(live_v, new) == std::cmp::Ordering::Greater {
            return Err(HookError::Downgrade {
                path: a.live.clone(),
                key: k.clone(),
                live: live_v.clone(),
                new: new.clone(),
            });
        }
    }
    Ok(m)
}

/// Everything beside the live file first, the live file last: a failure on
/// the way (a full disk) puts the side files back and leaves the live file
/// as it was.
fn write_result(
    a: &UpdateArgs,
    r: &mut UpdateReport,
    (ours, live_meta): (&str, Meta),
    merged: &str,
    theirs: &str,
    [new_path, old_path]: [PathBuf; 2],
) -> Result<()> {
    let needs_new = !r.conflicts.is_empty() || !r.unplaced.is_empty();
    let changed = merged != ours;
    if !changed {
        r.action = UpdateAction::Unchanged;
    }
    let mut side = Vec::new();
    if changed {
        // The bytes that were merged, with the owner and mode read with them.
        side.push((old_path.clone(), ours.as_bytes(), fsio::plain(live_meta)));
        r.backup = Some(old_path);
    }
    if needs_new {
        side.push((new_path.clone(), theirs.as_bytes(), live_meta));
        r.new_file = Some(new_path.clone());
    }
    let saved: Vec<_> = side
        .iter()
        .map(|(p, _, _)| Ok((p.clone(), fsio::read_bytes(p)?)))
        .collect::<Result<_>>()?;
    let live_text = changed.then_some(merged.as_bytes());
    let written = side
        .iter()
        .try_for_each(|(p, data, meta)| fsio::write_atomic(p, data, *meta))
        .and_then(|()| match live_text {
            Some(t) => fsio::write_atomic(&a.live, t, live_meta),
            None => Ok(()),
        });
    if let Err(e) = written {
        for (p, old) in saved {
            let _ = match old {
                Some((data, meta)) => fsio::write_atomic(&p, &data, meta),
                None => fsio::remove(&p),
            };
        }
        return Err(e);
    }
    if !needs_new {
        // A conflict file from an earlier upgrade no longer applies.
        fsio::remove(&new_path)?;
    }
    Ok(())
}

/// A live file that cannot be read is never rewritten: the error, with the
/// new default written beside it for the admin.
fn refuse_live(
    a: &UpdateArgs,
    new_path: &Path,
    theirs: &str,
    meta: Meta,
    e: HookError,
) -> HookError {
    if a.dry_run {
        return e;
    }
    if let Err(w) = fsio::write_atomic(new_path, theirs.as_bytes(), fsio::plain(meta)) {
        return w;
    }
    let note = format!("file left unchanged; new default in {}", new_path.display());
    match e {
        HookError::Syntax {
            path,
            line,
            col,
            msg,
        } => HookError::Syntax {
            path,
            line,
            col,
            msg: format!("{msg} ({note})"),
        },
        other => other, // its message says the file was left unchanged
    }
}

/// The live file's version key against `expect`; `Ok(found)` when equal.
pub fn check(live: &Path, expect: &str, key: &str, format: ConfigSyntax) -> Result<String> {
    let text = read_required(live)?;
    let found = format.engine().value(
        Src {
            path: live,
            text: &text,
        },
        key,
    )?;
    match found {
        Some(f) if super::version::compare(&f, expect) == std::cmp::Ordering::Equal => Ok(f),
        other => Err(HookError::VersionMismatch {
            path: live.into(),
            key: key.into(),
            found: other.unwrap_or_else(|| "missing".into()),
            expected: expect.into(),
        }),
    }
}
