//! The whole pipeline for the CLI: load the manifest, plan every requested
//! format, prepare all of them (every check a writer makes), and only then
//! write artifacts. Bad input therefore never leaves anything under dist/.

use crate::error::{Error, Result};
use crate::format::{Format, Keys, Prepared};
use crate::manifest::{self, Locator, Manifest};
use crate::plan::{self, Package};
use crate::report::Report;
use std::path::{Path, PathBuf};

pub struct Request {
    pub manifest: PathBuf,
    pub project: PathBuf,
    /// None: every format the manifest can build.
    pub formats: Option<Vec<String>>,
    pub keys: crate::format::Keys,
}

pub struct Loaded {
    pub manifest: Manifest,
    pub loc: Locator,
    pub plans: Vec<(Format, Package)>,
}

pub struct Artifact {
    pub format: Format,
    pub path: PathBuf,
    pub size: u64,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn source_date_epoch() -> Result<Option<u64>> {
    match env("SOURCE_DATE_EPOCH") {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => s.trim().parse().map(Some).map_err(|_| Error::Manifest {
            file: "SOURCE_DATE_EPOCH".into(),
            line: 0,
            col: 0,
            key: "SOURCE_DATE_EPOCH".into(),
            msg: format!("`{s}` is not a number of seconds since 1970"),
        }),
    }
}

/// A writer's error about a manifest key becomes a located manifest error.
fn locate(loc: &Locator, e: Error) -> Error {
    match e {
        Error::Format { format, key, msg } if loc.has(&key) => {
            loc.error(&key, format!("{format}: {msg}"))
        }
        e => e,
    }
}

pub fn load(req: &Request) -> Result<Loaded> {
    let (manifest, loc) = manifest::load(&req.manifest, &env)?;
    let sde = source_date_epoch()?;
    let formats: Vec<Format> = match &req.formats {
        None => Format::ALL.to_vec(),
        Some(names) => names
            .iter()
            .map(|n| {
                Format::parse(n).ok_or_else(|| Error::Format {
                    format: "cli",
                    key: "--format".into(),
                    msg: format!("unknown format `{n}`; available: {}", Format::keys()),
                })
            })
            .collect::<Result<_>>()?,
    };
    let mut plans = Vec::new();
    for f in formats {
        let inputs = plan::Inputs {
            manifest: &manifest,
            loc: &loc,
            project: &req.project,
            format: f,
            source_date_epoch: sde,
        };
        let mut pkg = plan::plan(&inputs)?;
        crate::format::gzip_man_pages(&mut pkg)?;
        plans.push((f, pkg));
    }
    Ok(Loaded {
        manifest,
        loc,
        plans,
    })
}

/// Prepare every planned format: after this only I/O can fail.
pub fn prepare<'a>(loaded: &'a Loaded, keys: &Keys) -> Result<Vec<Prepared<'a>>> {
    loaded
        .plans
        .iter()
        .map(|(f, pkg)| f.prepare(pkg, keys).map_err(|e| locate(&loaded.loc, e)))
        .collect()
}

/// What a build made, and what it could not do as asked.
pub struct Built {
    pub artifacts: Vec<Artifact>,
    pub warnings: Vec<String>,
}

pub fn build(req: &Request, out: &Path, report: &dyn Report) -> Result<Built> {
    let loaded = load(req)?;
    let prepared = prepare(&loaded, &req.keys)?;
    let warnings: Vec<String> = prepared.iter().flat_map(|p| p.warnings.clone()).collect();
    for w in &warnings {
        report.warn(w);
    }
    let mut artifacts = Vec::new();
    for p in prepared {
        let format = p.format;
        let path = p.write(out, report)?;
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        report.note(&format!("wrote {}", path.display()));
        artifacts.push(Artifact { format, path, size });
    }
    Ok(Built {
        artifacts,
        warnings,
    })
}
