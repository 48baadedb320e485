//! Manifest → Package for one format.

use super::tree::{self, Ctx};
use super::{Arch, Event, Options, Package, PackageMeta, Relations, Script};
use crate::archive::Compression;
use crate::error::Result;
use crate::identity::{Format, Layout};
use crate::manifest::{schema, Locator, Manifest};
use std::collections::BTreeMap;
use std::path::Path;

/// 2024-01-01T00:00:00Z: the timestamp of every entry when
/// `SOURCE_DATE_EPOCH` is not set, so builds are reproducible either way.
pub const DEFAULT_EPOCH: u64 = 1_704_067_200;

pub struct Inputs<'a> {
    pub manifest: &'a Manifest,
    pub loc: &'a Locator,
    /// Relative sources are resolved against this directory.
    pub project: &'a Path,
    pub format: Format,
    /// `SOURCE_DATE_EPOCH`, if set.
    pub source_date_epoch: Option<u64>,
}

pub fn plan(inp: &Inputs) -> Result<Package> {
    let m = inp.manifest;
    let loc = inp.loc;
    let fmt = inp.format;
    let meta = meta(inp)?;
    let ctx = Ctx {
        loc,
        project: inp.project,
        format_key: fmt.key(),
        pkg: &meta.name,
    };
    let mut leaves = tree::collect(&ctx, m)?;
    let layout = fmt.layout();
    let fmt_hook = format_options(m, fmt).and_then(|o| o.hook.as_deref());
    let (lifecycle, extra) = super::lifecycle::collect(&ctx, m, &meta, layout, fmt_hook)?;
    leaves.extend(extra);
    if layout == Layout::System {
        tree::rename_man_pages(&mut leaves);
    }
    let tree = tree::finish(&ctx, leaves, layout, &meta.top_folder())?;
    if layout == Layout::System {
        super::lifecycle::check_clashes(&ctx, m, &tree)?;
    }
    Ok(Package {
        relations: relations(m, fmt),
        options: options(m, loc, fmt)?,
        layout,
        scripts: if layout == Layout::System {
            scripts(m, loc, inp.project)?
        } else {
            BTreeMap::new()
        },
        lifecycle,
        meta,
        tree,
    })
}

fn read_text(loc: &Locator, key: &str, project: &Path, rel: &str) -> Result<String> {
    let path = project.join(rel);
    std::fs::read_to_string(&path)
        .map_err(|e| loc.error(key, format!("`{rel}` cannot be read: {e}")))
}

fn meta(inp: &Inputs) -> Result<PackageMeta> {
    let p = &inp.manifest.package;
    let loc = inp.loc;
    let fmt_opts = format_options(inp.manifest, inp.format);
    let (release, release_key) = match fmt_opts.and_then(|o| o.release.clone()) {
        Some(r) => (r, format!("format.{}.release", inp.format.key())),
        None => (p.release.clone(), "package.release".to_string()),
    };
    check_package_text(inp, &release_key, &release)?;
    let (arch, arch_key) = arch(inp)?;
    let license_text = match &p.license_file {
        Some(f) => Some(read_text(loc, "package.license-file", inp.project, f)?),
        None => None,
    };
    if p.license.is_none() && license_text.is_none() {
        return Err(loc.error(
            "package.license",
            "set `license` (an SPDX name) or `license-file`",
        ));
    }
    let changelog = match &p.changelog {
        Some(f) => Some(read_text(loc, "package.changelog", inp.project, f)?),
        None => None,
    };
    let target = target(inp, arch)?;
    Ok(PackageMeta {
        name: p.name.clone(),
        version: p.version.clone(),
        release,
        release_key,
        epoch: p.epoch,
        summary: p.summary.trim().to_string(),
        description: p
            .description
            .clone()
            .unwrap_or_else(|| p.summary.clone())
            .trim()
            .to_string(),
        maintainer: p.maintainer.trim().to_string(),
        vendor: p.vendor.clone(),
        homepage: p.homepage.clone(),
        license: p.license.clone(),
        license_text,
        arch,
        arch_key,
        notes: changelog
            .as_deref()
            .map(|c| super::notes::release_notes(c, &p.version))
            .unwrap_or_default(),
        changelog,
        mtime: inp.source_date_epoch.unwrap_or(DEFAULT_EPOCH),
        target,
    })
}

/// The package's name, version and release, and its one-line fields.
fn check_package_text(inp: &Inputs, release_key: &str, release: &str) -> Result<()> {
    let p = &inp.manifest.package;
    let loc = inp.loc;
    let valid_name = !p.name.is_empty()
        && p.name
            .starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && p.name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    if !valid_name {
        return Err(loc.error(
            "package.name",
            format!("`{}` is not a package name: use lowercase letters, digits, `+`, `-`, `.`, starting with a letter or digit", p.name),
        ));
    }
    for (key, v) in [
        ("package.version", p.version.as_str()),
        (release_key, release),
    ] {
        // Both end up in artifact file names: no path separators either.
        if v.is_empty()
            || v.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == '\\')
        {
            return Err(loc.error(
                key,
                format!("{v:?} must be non-empty and contain no whitespace, `/` or `\\`"),
            ));
        }
    }
    for (key, v) in [
        ("package.maintainer", Some(&p.maintainer)),
        ("package.vendor", p.vendor.as_ref()),
        ("package.homepage", p.homepage.as_ref()),
        ("package.license", p.license.as_ref()),
    ] {
        if v.is_some_and(|v| v.chars().any(char::is_control)) {
            return Err(loc.error(key, "must be one line without control characters"));
        }
    }
    if p.summary.trim().is_empty() || p.summary.chars().any(char::is_control) {
        return Err(loc.error("package.summary", "the summary must be one non-empty line"));
    }
    if p.maintainer.trim().is_empty() {
        return Err(loc.error(
            "package.maintainer",
            "the maintainer must not be empty (\"Name <email>\")",
        ));
    }
    Ok(())
}

/// The architecture and the key it came from.
fn arch(inp: &Inputs) -> Result<(Arch, String)> {
    let p = &inp.manifest.package;
    let loc = inp.loc;
    // `[format.<key>] arch` overrides the package's architecture for that
    // format (e.g. an `all` zip beside x86_64 system packages).
    let (arch_key, arch_name) =
        match format_options(inp.manifest, inp.format).and_then(|o| o.arch.clone()) {
            Some(a) => (format!("format.{}.arch", inp.format.key()), a),
            None => ("package.arch".to_string(), p.arch.clone()),
        };
    let arch = Arch::parse(&arch_name).ok_or_else(|| {
        loc.error(
            &arch_key,
            format!(
                "unknown architecture `{arch_name}`; known: {}",
                Arch::known()
            ),
        )
    })?;
    Ok((arch, arch_key))
}

/// A portable archive's `<os>-<arch>` (part of the artifact's file name).
fn target(inp: &Inputs, arch: Arch) -> Result<String> {
    let loc = inp.loc;
    let target = format_options(inp.manifest, inp.format)
        .and_then(|o| o.target.clone())
        .unwrap_or_else(|| format!("{}-{}", inp.format.default_os(), arch.name()));
    // The target is part of the artifact's file name.
    let target_ok = target.starts_with(|c: char| c.is_ascii_alphanumeric())
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c));
    if !target_ok {
        return Err(loc.error(
            &format!("format.{}.target", inp.format.key()),
            format!("{target:?} is not a target such as `linux-x86_64`: ASCII letters, digits, `.`, `_`, `+`, `-`, starting with a letter or digit"),
        ));
    }
    Ok(target)
}

fn format_options(m: &Manifest, fmt: Format) -> Option<&schema::FormatOptions> {
    let f = &m.format;
    match fmt.key() {
        "deb" => f.deb.as_ref(),
        "rpm" => f.rpm.as_ref(),
        "pacman" => f.pacman.as_ref(),
        "apk" => f.apk.as_ref(),
        "zip" => f.zip.as_ref(),
        "targz" => f.targz.as_ref(),
        _ => None,
    }
}

fn options(m: &Manifest, loc: &Locator, fmt: Format) -> Result<Options> {
    let Some(o) = format_options(m, fmt) else {
        return Ok(Options::default());
    };
    let key = |k: &str| format!("format.{}.{k}", fmt.key());
    let accepted = fmt.option_keys();
    for k in set_keys(o) {
        if !accepted.contains(&k) {
            return Err(loc.error(
                &key(k),
                format!(
                    "[format.{f}] has no use for `{k}`; [format.{f}] accepts {}",
                    accepted.join(", "),
                    f = fmt.key()
                ),
            ));
        }
    }
    let compression = o
        .compression
        .as_deref()
        .map(|c| {
            let names =
                |list: &[Compression]| list.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ");
            let allowed = fmt.compressions();
            match Compression::parse(c) {
                Some(c) if allowed.contains(&c) => Ok(c),
                Some(_) => Err(loc.error(
                    &key("compression"),
                    format!(
                        "[format.{}] cannot write `{c}`; it writes {}",
                        fmt.key(),
                        names(allowed)
                    ),
                )),
                None => Err(loc.error(
                    &key("compression"),
                    format!(
                        "unknown compression `{c}`; [format.{}] writes {}",
                        fmt.key(),
                        names(allowed)
                    ),
                )),
            }
        })
        .transpose()?;
    // No `compression`: the format's default; zip's deflate takes gzip's levels.
    let effective = compression
        .or(fmt.compressions().first().copied())
        .or(Some(Compression::Gzip));
    if let (Some(c), Some(l)) = (effective, o.level) {
        let ok = match c {
            Compression::None => false,
            Compression::Gzip | Compression::Xz => (0..=9).contains(&l),
            Compression::Zstd => (1..=22).contains(&l),
        };
        if !ok {
            return Err(loc.error(&key("level"), format!("level {l} is out of range for {c:?} (gzip/xz 0-9, zstd 1-22, none takes no level)")));
        }
    }
    if let Some(a) = &o.arch {
        Arch::parse(a).ok_or_else(|| {
            loc.error(
                &key("arch"),
                format!("unknown architecture `{a}`; known: {}", Arch::known()),
            )
        })?;
    }
    Ok(Options {
        compression,
        level: o.level,
        section: o.section.clone(),
        priority: o.priority.clone(),
        group: o.group.clone(),
        distribution: o.distribution.clone(),
        fields: o.fields.clone(),
    })
}

/// The keys set in one `[format.<key>]` table.
fn set_keys(o: &schema::FormatOptions) -> Vec<&'static str> {
    let set = [
        ("release", o.release.is_some()),
        ("compression", o.compression.is_some()),
        ("level", o.level.is_some()),
        ("section", o.section.is_some()),
        ("priority", o.priority.is_some()),
        ("group", o.group.is_some()),
        ("target", o.target.is_some()),
        ("arch", o.arch.is_some()),
        ("distribution", o.distribution.is_some()),
        ("hook", o.hook.is_some()),
        ("fields", !o.fields.is_empty()),
    ];
    set.into_iter()
        .filter(|(_, on)| *on)
        .map(|(k, _)| k)
        .collect()
}

fn relations(m: &Manifest, fmt: Format) -> Relations {
    let r = &m.relations;
    let over = match fmt.key() {
        "deb" => r.deb.clone(),
        "rpm" => r.rpm.clone(),
        "pacman" => r.pacman.clone(),
        "apk" => r.apk.clone(),
        _ => None,
    }
    .unwrap_or_default();
    let common = r.common();
    let pick = |o: Option<Vec<String>>, c: Option<Vec<String>>| o.or(c).unwrap_or_default();
    Relations {
        depends: pick(over.depends, common.depends),
        recommends: pick(over.recommends, common.recommends),
        suggests: pick(over.suggests, common.suggests),
        conflicts: pick(over.conflicts, common.conflicts),
        provides: pick(over.provides, common.provides),
        replaces: pick(over.replaces, common.replaces),
    }
}

fn scripts(m: &Manifest, loc: &Locator, project: &Path) -> Result<BTreeMap<Event, Script>> {
    let s = &m.scripts;
    let mut out = BTreeMap::new();
    let slots = [
        (Event::PreInstall, &s.pre_install),
        (Event::PostInstall, &s.post_install),
        (Event::PreUpgrade, &s.pre_upgrade),
        (Event::PostUpgrade, &s.post_upgrade),
        (Event::PreRemove, &s.pre_remove),
        (Event::PostRemove, &s.post_remove),
        (Event::Purge, &s.purge),
    ];
    for (ev, path) in slots {
        let Some(rel) = path else { continue };
        let key = format!("scripts.{}", ev.key());
        let text = read_text(loc, &key, project, rel)?;
        if text.contains('\0') {
            return Err(loc.error(&key, format!("`{rel}` is not a text file")));
        }
        out.insert(
            ev,
            Script {
                text,
                from: project.join(rel),
            },
        );
    }
    Ok(out)
}
