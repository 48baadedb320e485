//! A flat-pool apt repository: `pool/<component>/<l>/<name>/<file>.deb`,
//! `dists/<suite>/<component>/binary-<arch>/Packages{,.gz,.xz}` with
//! `by-hash/SHA256/` copies, and `dists/<suite>/{Release,InRelease,Release.gpg}`.
//! With `Acquire-By-Hash: yes` a client that read the previous Release
//! during a publish still finds the indexes it names: the by-hash copies
//! of the previous generation stay until the next publish.

use super::meta::Pkg;
use super::sign::Pgp;
use super::{fsx, Repo};
use crate::error::{IoContext, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub fn pool_path(component: &str, p: &Pkg) -> String {
    let l = if p.name.starts_with("lib") && p.name.len() > 3 {
        &p.name[..4]
    } else {
        &p.name[..1]
    };
    format!("pool/{component}/{l}/{}/{}", p.name, p.file)
}

/// A Packages stanza: the control fields, then where and what the file is.
pub fn stanza(p: &Pkg, filename: &str) -> String {
    let mut s = String::new();
    let mut desc = None;
    for (k, v) in &p.info.fields {
        let v = v.as_str().unwrap_or_default();
        if k == "Description" {
            desc = Some(v.to_string());
        } else {
            s.push_str(&format!("{k}: {v}\n"));
        }
    }
    s.push_str(&format!(
        "Filename: {filename}\nSize: {}\nMD5sum: {}\nSHA1: {}\nSHA256: {}\nSHA512: {}\n",
        p.size, p.md5, p.sha1, p.sha256, p.sha512
    ));
    if let Some(d) = desc {
        s.push_str(&format!("Description: {d}\n"));
    }
    s
}

/// The arch of the hosts apt should see a package on (`all` goes everywhere).
fn arches(pkgs: &[Pkg]) -> BTreeSet<String> {
    let mut a: BTreeSet<String> = pkgs
        .iter()
        .map(|p| p.arch.clone())
        .filter(|a| a != "all")
        .collect();
    if a.is_empty() {
        a.insert("amd64".into());
    }
    a
}

/// The SHA256 lines of an existing Release: the previous generation.
fn previous_hashes(release: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(release).unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|h| h.len() == 64)
        .map(str::to_string)
        .collect()
}

/// RFC 2822 date in UTC, as apt's Release `Date:` wants it.
pub fn date(t: u64) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(t as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let wd = d.weekday().to_string();
    let mo = d.month().to_string();
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} UTC",
        &wd[..3],
        d.day(),
        &mo[..3],
        d.year(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// Rewrite every index of the repository at `dir` from the pool `pkgs`.
pub fn write(dir: &Path, repo: &Repo, pkgs: &[Pkg], pgp: &Pgp) -> Result<()> {
    let (suite, comp) = (&repo.suite, &repo.component);
    let dist = dir.join("dists").join(suite);
    let keep = previous_hashes(&dist.join("Release"));
    let mut sums: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let arches = arches(pkgs);
    for arch in &arches {
        let mut text = String::new();
        for p in pkgs.iter().filter(|p| &p.arch == arch || p.arch == "all") {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&stanza(p, &pool_path(comp, p)));
        }
        let rel = format!("{comp}/binary-{arch}");
        let bin = dist.join(&rel);
        let hashdir = bin.join("by-hash/SHA256");
        let mut fresh = BTreeSet::new();
        let raw = text.into_bytes();
        for (name, bytes) in [
            ("Packages", raw.clone()),
            ("Packages.gz", fsx::gzip(&raw)?),
            ("Packages.xz", fsx::xz(&raw)?),
        ] {
            let h = fsx::sha256_hex(&bytes);
            fsx::write(&hashdir.join(&h), &bytes)?;
            fresh.insert(h.clone());
            sums.insert(format!("{rel}/{name}"), (h, bytes.len()));
            fsx::write(&bin.join(name), &bytes)?;
        }
        prune(&hashdir, &fresh, &keep)?;
    }
    let mut release = format!(
        "Origin: {n}\nLabel: {n}\nSuite: {suite}\nCodename: {suite}\nDate: {}\n\
         Architectures: {}\nComponents: {comp}\nAcquire-By-Hash: yes\n\
         Description: {n} packages, published by packwright\nSHA256:\n",
        date(repo.time),
        arches.iter().cloned().collect::<Vec<_>>().join(" "),
        n = repo.name,
    );
    for (path, (h, size)) in &sums {
        release.push_str(&format!(" {h} {size:>8} {path}\n"));
    }
    fsx::write(
        &dist.join("Release.gpg"),
        pgp.armored(release.as_bytes())?.as_bytes(),
    )?;
    fsx::write(&dist.join("Release"), release.as_bytes())?;
    fsx::write(&dist.join("InRelease"), pgp.cleartext(&release)?.as_bytes())?;
    Ok(())
}

/// Remove by-hash files named by neither this generation nor the previous.
fn prune(hashdir: &Path, fresh: &BTreeSet<String>, keep: &BTreeSet<String>) -> Result<()> {
    let names: Vec<PathBuf> = std::fs::read_dir(hashdir)
        .at(hashdir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    for p in names {
        let n = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if !fresh.contains(&n) && !keep.contains(&n) {
            fsx::remove(&p)?;
        }
    }
    Ok(())
}
