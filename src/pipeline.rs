//! The whole pipeline for the CLI: load the manifest, plan every requested
//! format, prepare all of them (every check a writer makes), and only then
//! write artifacts. Bad input therefore never leaves anything under dist/.

use crate::archive::compress::{threads, THREADS_VAR};
use crate::archive::digest::Want;
use crate::archive::packed::{Codec, Needs};
use crate::error::{Error, Result};
use crate::format::{Format, Keys, Prepared, Shared};
use crate::manifest::{self, Locator, Manifest};
use crate::plan::{self, Package};
use crate::report::Report;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::Mutex;

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
    check_threads()?;
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
    let artifacts = write_all(prepared, out, report)?;
    Ok(Built {
        artifacts,
        warnings,
    })
}

/// A `PACKWRIGHT_THREADS` that is set must be a positive number.
fn check_threads() -> Result<()> {
    crate::archive::compress::threads_setting()
        .map(drop)
        .map_err(|s| Error::Manifest {
            file: THREADS_VAR.into(),
            line: 0,
            col: 0,
            key: THREADS_VAR.into(),
            msg: format!("`{s}` is not a positive number of threads"),
        })
}

/// What a writer thread tells the thread that owns the report.
enum Event {
    Note(String),
    Progress(usize, u64, u64),
    Done(usize, Result<PathBuf>),
}

/// A writer's report, forwarded to the reporting thread.
struct Forward {
    slot: usize,
    tx: Sender<Event>,
}

impl Report for Forward {
    fn note(&self, msg: &str) {
        let _ = self.tx.send(Event::Note(msg.to_string()));
    }
    fn progress(&self, _what: &str, done: u64, total: u64) {
        let _ = self.tx.send(Event::Progress(self.slot, done, total));
    }
}

/// Write every prepared artifact, up to `threads()` at once. Each writer
/// owns its artifact and reads only the plan, so no artifact's bytes depend
/// on which others are built beside it or on scheduling. Notes and results
/// come back in format order; the first error (in format order) wins.
fn write_all(
    prepared: Vec<Prepared<'_>>,
    out: &Path,
    report: &dyn Report,
) -> Result<Vec<Artifact>> {
    let formats: Vec<Format> = prepared.iter().map(|p| p.format).collect();
    let what = formats
        .iter()
        .map(|f| f.key())
        .collect::<Vec<_>>()
        .join(",");
    let n = formats.len();
    let needs = Needs {
        sums: prepared.iter().fold(Want::NONE, |w, p| w.and(p.sums())),
        cuts: prepared.iter().any(|p| p.joins_deflate()),
    };
    // A codec's contents are compressed where they are placed when one
    // writer alone takes them and it can (`Prepared::places_alone`).
    let takers: Vec<(Codec, bool)> = prepared
        .iter()
        .filter_map(|p| p.codec().map(|c| (c, p.places_alone())))
        .collect();
    let once = takers
        .iter()
        .filter(|(c, alone)| *alone && takers.iter().filter(|(d, _)| d == c).count() == 1)
        .map(|(c, _)| *c)
        .collect();
    let shared = Shared::new(out, needs, once, threads());
    let queue = Mutex::new(prepared.into_iter().enumerate());
    let mut results: Vec<Option<Result<PathBuf>>> = (0..n).map(|_| None).collect();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..threads().min(n) {
            let (tx, queue, shared) = (tx.clone(), &queue, &shared);
            s.spawn(move || loop {
                let next = queue.lock().map(|mut q| q.next()).unwrap_or(None);
                let Some((slot, p)) = next else { return };
                let fwd = Forward {
                    slot,
                    tx: tx.clone(),
                };
                let _ = tx.send(Event::Done(slot, p.write(out, shared, &fwd)));
            });
        }
        drop(tx);
        let mut progress = vec![(0u64, 0u64); n];
        for ev in rx {
            match ev {
                Event::Note(m) => report.note(&m),
                Event::Progress(slot, done, total) => {
                    progress[slot] = (done, total);
                    let (d, t) = progress.iter().fold((0, 0), |(d, t), p| (d + p.0, t + p.1));
                    report.progress(&what, d, t);
                }
                Event::Done(slot, r) => results[slot] = Some(r),
            }
        }
    });
    let mut artifacts = Vec::new();
    for (format, r) in formats.into_iter().zip(results) {
        // A writer that panicked has already re-panicked out of the scope.
        let path = r.expect("every writer reports its result")?;
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        report.note(&format!("wrote {}", path.display()));
        artifacts.push(Artifact { format, path, size });
    }
    Ok(artifacts)
}
