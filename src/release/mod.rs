//! Releases and static repositories (issue #13): `packwright release`
//! writes SHA256SUMS, its signature, artifacts.json and an SPDX SBOM per
//! artifact; `packwright publish` adds built packages to signed apt, dnf,
//! pacman and apk repositories under one directory any static file server
//! can serve.
//!
//! A publish loads and tries every key it needs, and reads every package,
//! before its first write. Then per format: copy the new packages into the
//! pool, apply retention, and rewrite the indexes from what the pool holds
//! (each file atomically, the signed top-level index last).

pub mod apk;
pub mod apt;
pub mod artifact;
pub mod checksum;
pub mod cyclonedx;
mod fsx;
pub mod meta;
pub mod pacman;
mod page;
pub mod retention;
pub mod rpmmd;
pub mod sbom;
pub mod sign;

use crate::error::{Error, IoContext, Result};
use crate::format::{Format, Keys};
use crate::report::Report;
use meta::Pkg;
use std::path::{Path, PathBuf};

/// What every index writer shares.
pub struct Repo {
    /// Repository (and key file) name: the package's unless `--name`.
    pub name: String,
    pub suite: String,
    pub component: String,
    /// Where users will fetch DIR from (the pages' lines).
    pub url: String,
    /// Index dates and tar mtimes: SOURCE_DATE_EPOCH, or now.
    pub time: u64,
}

pub struct Publish {
    pub dir: PathBuf,
    pub from: PathBuf,
    pub name: Option<String>,
    pub suite: String,
    pub component: String,
    pub url: Option<String>,
    pub rule: Option<retention::Rule>,
    pub keys: Keys,
}

#[derive(Default)]
pub struct Summary {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub formats: Vec<&'static str>,
}

pub const FORMATS: [Format; 4] = [Format::Deb, Format::Rpm, Format::Pacman, Format::Apk];

/// SOURCE_DATE_EPOCH when set (reproducible indexes), else the clock.
pub fn now() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) if !s.trim().is_empty() => s.trim().parse().map_err(|_| {
            Error::format(
                "publish",
                "SOURCE_DATE_EPOCH",
                format!("`{s}` is not a number of seconds since 1970"),
            )
        }),
        _ => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())),
    }
}

fn kind(f: Format) -> &'static str {
    match f {
        Format::Deb => "apt",
        Format::Rpm => "rpm",
        Format::Pacman => "pacman",
        _ => "apk",
    }
}

/// Where a package lives in the repository, relative to DIR.
fn pool_path(r: &Repo, p: &Pkg) -> String {
    match p.format {
        Format::Deb => format!("apt/{}", apt::pool_path(&r.component, p)),
        Format::Rpm => format!("rpm/{}/{}", p.arch, p.file),
        Format::Pacman => format!("pacman/{}/{}", p.arch, p.file),
        _ => format!("apk/{}/{}-{}.apk", p.arch, p.name, p.version),
    }
}

/// Every package of one format already in the repository.
fn pool(dir: &Path, f: Format) -> Result<Vec<Pkg>> {
    let root = dir.join(kind(f));
    let mut out = Vec::new();
    if !root.is_dir() {
        return Ok(out);
    }
    for e in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let e = e.map_err(|e| Error::io(&root, e.into()))?;
        let name = e.file_name().to_string_lossy();
        if e.file_type().is_file() && !name.starts_with('.') && meta::format_of(&name) == Some(f) {
            out.push(meta::read(e.path())?);
        }
    }
    out.sort_by(|a, b| {
        (a.name.as_str(), a.arch.as_str())
            .cmp(&(b.name.as_str(), b.arch.as_str()))
            .then(meta::cmp_version(&a.version, &b.version))
    });
    Ok(out)
}

fn need(what: &str, flag: &str) -> Error {
    Error::format(
        "publish",
        flag,
        format!("publishing {what} needs a signing key: give {flag}"),
    )
}

struct Signers {
    pgp: Option<sign::Pgp>,
    rsa: Option<sign::Rsa>,
}

fn signers(keys: &Keys, incoming: &[Pkg], time: u64) -> Result<Signers> {
    let pgp_needed = incoming.iter().any(|p| p.format != Format::Apk);
    let rsa_needed = incoming.iter().any(|p| p.format == Format::Apk);
    let pgp = match (&keys.pgp, pgp_needed) {
        (Some(k), true) => Some(sign::Pgp::load(k, keys.pgp_passphrase.as_deref(), time)?),
        (None, true) => {
            return Err(need(
                "deb, rpm or pacman packages",
                "--pgp-key (PACKWRIGHT_PGP_KEY)",
            ))
        }
        _ => None,
    };
    let rsa = match (&keys.rsa, rsa_needed) {
        (Some(k), true) => Some(sign::Rsa::load(k, keys.rsa_name.as_deref())?),
        (None, true) => return Err(need("apk packages", "--rsa-key (PACKWRIGHT_RSA_KEY)")),
        _ => None,
    };
    Ok(Signers { pgp, rsa })
}

/// Refuse to replace a published file with different bytes: clients and
/// caches hold the old digest, and the gate's stop must stay what it was.
fn check_conflicts(o: &Publish, r: &Repo, incoming: &[Pkg]) -> Result<()> {
    for p in incoming {
        let dest = o.dir.join(pool_path(r, p));
        if dest.exists() && meta::digests(&dest)?.1 != p.sha256 {
            return Err(Error::package(
                &p.path,
                format!("{} is already published with different content; give the new build a new version or release", dest.display()),
            ));
        }
    }
    Ok(())
}

pub fn publish(o: &Publish, report: &dyn Report) -> Result<Summary> {
    let time = now()?;
    let incoming = incoming(&o.from)?;
    let keys = signers(&o.keys, &incoming, time)?;
    let (dir, r) = repo(o, &incoming, time)?;
    check_conflicts(o, &r, &incoming)?;
    let mut sum = Summary::default();
    for f in FORMATS {
        let new: Vec<&Pkg> = incoming.iter().filter(|p| p.format == f).collect();
        if new.is_empty() {
            continue;
        }
        for p in &new {
            let dest = dir.join(pool_path(&r, p));
            if !dest.exists() {
                fsx::copy(&p.path, &dest)?;
                sum.added.push(pool_path(&r, p));
            }
        }
        let mut all = pool(&dir, f)?;
        if let Some(rule) = &o.rule {
            retain(rule, &dir, &mut all, &mut sum)?;
        }
        report.note(&format!(
            "publishing {} {} package(s) to {}",
            all.len(),
            f.key(),
            dir.join(kind(f)).display()
        ));
        write_indexes(&dir, &r, f, all, &keys)?;
        sum.formats.push(kind(f));
    }
    write_keys(&dir, &r, &keys)?;
    write_pages(&dir, &r)?;
    Ok(sum)
}

/// Every package in `from`, of every format a repository is written for.
fn incoming(from: &Path) -> Result<Vec<Pkg>> {
    let mut incoming = Vec::new();
    for f in FORMATS {
        incoming.extend(meta::scan(from, f)?);
    }
    if incoming.is_empty() {
        return Err(Error::package(
            from,
            "no .deb, .rpm, pacman or .apk packages to publish",
        ));
    }
    Ok(incoming)
}

/// The repository's absolute directory and its description. The name
/// becomes key file names and a `[section]` of the .repo and pacman.conf
/// lines the page prints, so it is kept to characters safe in both.
fn repo(o: &Publish, incoming: &[Pkg], time: u64) -> Result<(PathBuf, Repo)> {
    let name = o.name.clone().unwrap_or_else(|| incoming[0].name.clone());
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
        || name.starts_with('.')
    {
        return Err(Error::format(
            "publish",
            "--name",
            format!("`{name}` is not a usable repository name (letters, digits, - _ . +)"),
        ));
    }
    let dir = std::path::absolute(&o.dir).at(&o.dir)?;
    let url = o
        .url
        .clone()
        .unwrap_or_else(|| format!("file://{}", dir.display()));
    let r = Repo {
        name,
        suite: o.suite.clone(),
        component: o.component.clone(),
        url: url.trim_end_matches('/').to_string(),
        time,
    };
    Ok((dir, r))
}

/// Delete what the retention rule drops from one format's pool (with its
/// detached signature), recording it in `sum`.
fn retain(rule: &retention::Rule, dir: &Path, all: &mut Vec<Pkg>, sum: &mut Summary) -> Result<()> {
    let gone: Vec<PathBuf> = retention::removed(rule, all)
        .iter()
        .map(|p| p.path.clone())
        .collect();
    for path in &gone {
        fsx::remove(path)?;
        fsx::remove(&PathBuf::from(format!("{}.sig", path.display())))?;
        sum.removed
            .push(path.strip_prefix(dir).unwrap_or(path).display().to_string());
    }
    all.retain(|p| !gone.contains(&p.path));
    Ok(())
}

fn write_indexes(dir: &Path, r: &Repo, f: Format, all: Vec<Pkg>, k: &Signers) -> Result<()> {
    let pgp = || k.pgp.as_ref().expect("loaded for these formats");
    if f == Format::Deb {
        return apt::write(&dir.join("apt"), r, &all, pgp());
    }
    let mut groups: std::collections::BTreeMap<String, Vec<Pkg>> = Default::default();
    for p in all {
        groups.entry(p.arch.clone()).or_default().push(p);
    }
    for (a, pk) in groups {
        let d = dir.join(kind(f)).join(&a);
        match f {
            Format::Rpm => rpmmd::write(&d, r, &pk, pgp())?,
            Format::Pacman => pacman::write(&d, r, &pk, pgp())?,
            _ => apk::write(&d, r, &pk, k.rsa.as_ref().expect("loaded for apk"))?,
        }
    }
    Ok(())
}

fn write_keys(dir: &Path, r: &Repo, k: &Signers) -> Result<()> {
    let keys = dir.join("keys");
    if let Some(p) = &k.pgp {
        let (bin, asc) = p.public()?;
        fsx::write(&keys.join(format!("{}.gpg", r.name)), &bin)?;
        fsx::write(&keys.join(format!("{}.asc", r.name)), asc.as_bytes())?;
        fsx::write(
            &keys.join(format!("{}.fingerprint", r.name)),
            format!("{}\n", p.fingerprint()).as_bytes(),
        )?;
    }
    if let Some(a) = &k.rsa {
        fsx::write(&keys.join(&a.name), a.public_pem()?.as_bytes())?;
    }
    Ok(())
}

fn write_pages(dir: &Path, r: &Repo) -> Result<()> {
    let keys = dir.join("keys");
    let fpr =
        std::fs::read_to_string(keys.join(format!("{}.fingerprint", r.name))).unwrap_or_default();
    let apk_key = std::fs::read_dir(&keys)
        .ok()
        .and_then(|rd| {
            let mut v: Vec<String> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".pub"))
                .collect();
            v.sort();
            v.into_iter().next()
        })
        .unwrap_or_default();
    let mut sections = Vec::new();
    for (k, text) in [
        ("apt", page::apt(r)),
        ("rpm", page::rpm(r)),
        ("pacman", page::pacman(r, fpr.trim())),
        ("apk", page::apk(r, &apk_key)),
    ] {
        if dir.join(k).is_dir() {
            sections.push((k, text));
        }
    }
    page::write(dir, r, &sections)
}

/// `packwright ci github`: the release workflow for a user's own manifest.
pub fn github_workflow(keep: usize) -> String {
    include_str!("github.yml")
        .replace("@REPOSITORY@", env!("CARGO_PKG_REPOSITORY"))
        .replace("@KEEP@", &keep.to_string())
}
