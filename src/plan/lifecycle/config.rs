//! `[[config]]`: the shipped defaults, checked at build time, and their
//! entries in the hook's description.

use super::super::tree::{parse_mode, Ctx};
use super::{base_name, file_entry, read_err, Lifecycle};
use crate::error::Result;
use crate::manifest::schema;
use crate::plan::Entry;
use packwright_hook::contract;
use packwright_hook::desc::ConfigDesc;
use packwright_hook::merge::{ConfigSyntax, Src};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The defaults (as leaves in `out`) and their description for the hook.
pub(super) fn configs(
    ctx: &Ctx,
    m: &schema::Manifest,
    portable: bool,
    life: &mut Lifecycle,
    out: &mut Vec<Entry>,
) -> Result<Vec<ConfigDesc>> {
    let loc = ctx.loc;
    let pkg = ctx.pkg;
    let mut configs = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (i, c) in m.config.iter().enumerate() {
        let key = format!("config[{i}]");
        super::super::tree::check_dst(loc, &format!("{key}.dst"), &c.dst)?;
        let format = match &c.format {
            Some(f) => ConfigSyntax::parse(f).ok_or_else(|| {
                loc.error(
                    &format!("{key}.format"),
                    format!("unknown config format `{f}`; use yaml, toml, json, env, ini or text"),
                )
            })?,
            None => ConfigSyntax::from_path(Path::new(&c.dst)),
        };
        let mode = c
            .mode
            .as_deref()
            .map(|s| parse_mode(loc, &format!("{key}.mode"), s))
            .transpose()?;
        let src = check_default(ctx, &key, c, format)?;
        let mut name = base_name(&c.dst);
        if portable && format == ConfigSyntax::Env {
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
            let p = contract::default_path(pkg, &name);
            (p.clone(), p, c.dst.clone())
        };
        out.push(
            file_entry(shipped, &src, 0o644, &key)
                .map_err(|e| read_err(loc, &format!("{key}.src"), &c.src, e))?,
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
    Ok(configs)
}

/// A default that does not parse would fail on every target at install
/// time: refuse it here, with its own line and column. Returns its path.
fn check_default(
    ctx: &Ctx,
    key: &str,
    c: &schema::Config,
    format: ConfigSyntax,
) -> Result<PathBuf> {
    let loc = ctx.loc;
    let src = ctx.project.join(&c.src);
    let text = std::fs::read_to_string(&src)
        .map_err(|e| read_err(loc, &format!("{key}.src"), &c.src, e))?;
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
    Ok(src)
}
