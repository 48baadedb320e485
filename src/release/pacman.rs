//! A pacman repository as repo-add makes it: `<repo>.db.tar.gz` (one
//! `<name>-<version>/desc` per package), `<repo>.files.tar.gz` (desc and
//! `files`), the `<repo>.db` / `<repo>.files` links pacman downloads, and
//! detached signatures for both databases and for every package.

use super::meta::Pkg;
use super::sign::Pgp;
use super::{fsx, Repo};
use crate::error::Result;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

fn list(p: &Pkg, k: &str) -> Vec<String> {
    match p.info.fields.get(k) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn one(p: &Pkg, k: &str) -> String {
    list(p, k).into_iter().next().unwrap_or_default()
}

/// The `desc` entry; `sig` is the package's detached signature.
pub fn desc(p: &Pkg, sig: &[u8]) -> String {
    let mut d = String::new();
    let mut put = |k: &str, v: Vec<String>| {
        if !v.is_empty() && !v.iter().all(String::is_empty) {
            let _ = write!(d, "%{k}%\n{}\n\n", v.join("\n"));
        }
    };
    let base = Some(one(p, "pkgbase"))
        .filter(|b| !b.is_empty())
        .unwrap_or(p.name.clone());
    put("FILENAME", vec![p.file.clone()]);
    put("NAME", vec![p.name.clone()]);
    put("BASE", vec![base]);
    put("VERSION", vec![p.version.clone()]);
    put("DESC", list(p, "pkgdesc"));
    put("GROUPS", list(p, "group"));
    put("CSIZE", vec![p.size.to_string()]);
    put("ISIZE", list(p, "size"));
    put("MD5SUM", vec![p.md5.clone()]);
    put("SHA256SUM", vec![p.sha256.clone()]);
    put("PGPSIG", vec![fsx::base64(sig)]);
    put("URL", list(p, "url"));
    put("LICENSE", list(p, "license"));
    put("ARCH", vec![p.arch.clone()]);
    put("BUILDDATE", list(p, "builddate"));
    put("PACKAGER", list(p, "packager"));
    put("REPLACES", list(p, "replaces"));
    put("CONFLICTS", list(p, "conflict"));
    put("PROVIDES", list(p, "provides"));
    put("DEPENDS", list(p, "depend"));
    put("OPTDEPENDS", list(p, "optdepend"));
    put("MAKEDEPENDS", list(p, "makedepend"));
    put("CHECKDEPENDS", list(p, "checkdepend"));
    d
}

fn files(p: &Pkg) -> String {
    let mut f = String::from("%FILES%\n");
    for e in &p.info.files {
        let path = e.path.trim_start_matches('/');
        if path.is_empty() {
            continue;
        }
        f.push_str(path);
        if e.kind == "dir" {
            f.push('/');
        }
        f.push('\n');
    }
    f.push('\n');
    f
}

/// Sign each package (`<file>.sig`), then rewrite both databases. A
/// pacman database holds one version per name (libalpm reports "database
/// is inconsistent" otherwise): the newest. Older files stay beside it,
/// signed, for `pacman -U <url>` (the way to install an upgrade stop).
pub fn write(dir: &Path, repo: &Repo, pkgs: &[Pkg], pgp: &Pgp) -> Result<()> {
    let mut db = Vec::new();
    let mut fdb = Vec::new();
    for (i, p) in pkgs.iter().enumerate() {
        let sig =
            pgp.detached(&std::fs::read(&p.path).map_err(|e| crate::Error::io(&p.path, e))?)?;
        fsx::write(&dir.join(format!("{}.sig", p.file)), &sig)?;
        // Sorted by name, then version: the last of a name is its newest.
        if pkgs.get(i + 1).is_some_and(|n| n.name == p.name) {
            continue;
        }
        let entry = format!("{}-{}/", p.name, p.version);
        let d = desc(p, &sig).into_bytes();
        db.push((entry.clone(), Vec::new()));
        db.push((format!("{entry}desc"), d.clone()));
        fdb.push((entry.clone(), Vec::new()));
        fdb.push((format!("{entry}desc"), d));
        fdb.push((format!("{entry}files"), files(p).into_bytes()));
    }
    let name = &repo.name;
    for (kind, members) in [("db", db), ("files", fdb)] {
        let gz = fsx::gzip(&fsx::tar(&members, repo.time, true)?)?;
        let file = format!("{name}.{kind}.tar.gz");
        fsx::write(&dir.join(format!("{file}.sig")), &pgp.detached(&gz)?)?;
        fsx::write(&dir.join(&file), &gz)?;
        fsx::symlink(&file, &dir.join(format!("{name}.{kind}")))?;
        fsx::symlink(
            &format!("{file}.sig"),
            &dir.join(format!("{name}.{kind}.sig")),
        )?;
    }
    Ok(())
}
