//! apk-tools is not packaged for Debian, so the apk tests do what apk does,
//! step by step, in a busybox scratch root (apk-tools 2.14, src/database.c
//! and the README, "How the managers run scripts"):
//! - install: `.pre-install NEW` [no files], unpack, `.post-install NEW`;
//! - upgrade: `.pre-upgrade NEW OLD` [old files], unpack the new files and
//!   delete the old package's files the new one does not ship,
//!   `.post-upgrade NEW OLD`; the old package's scripts never run;
//! - removal: `.pre-deinstall OLD`, delete the files, `.post-deinstall OLD`;
//! - each script is written to `lib/apk/exec/<pkg>-<ver>.<name>` and run
//!   chrooted into the root with only PATH in the environment;
//! - a failing pre-script does not stop apk: it prints an error, goes on,
//!   and exits 1 at the end (so does a failing post-script).
//!
//! The package is read with the strict reader (tests/common/apk_reader.rs)
//! first: a package apk-tools would refuse never reaches the scripts.
#![allow(dead_code)]

use super::apk_reader::{self, EntryKind};
use super::root::{Ran, Root};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// Where the simulation keeps its "installed database": the name and
/// version on the first line, then one owned path per line.
const DB: &str = "lib/apk/db/sim-installed";

impl Root {
    fn apk_db(&self) -> Option<(String, String, Vec<String>)> {
        let text = std::fs::read_to_string(self.at(DB)).ok()?;
        let mut lines = text.lines();
        let (name, ver) = lines.next()?.split_once(' ')?;
        Some((name.into(), ver.into(), lines.map(str::to_string).collect()))
    }

    /// The installed version in apk's spelling (`3.4.0-r1`).
    pub fn apk_installed(&self, name: &str) -> Option<String> {
        self.apk_db().filter(|(n, ..)| n == name).map(|(_, v, _)| v)
    }

    /// Where the simulation keeps the installed package file (apk keeps
    /// the scripts in its database), beside the root.
    fn apk_kept(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(format!("{name}.apk"))
    }

    /// Run one control script as apk does; the result is folded into `log`.
    fn apk_script(&self, apk: &apk_reader::Apk, name: &str, args: &[&str], log: &mut Ran) {
        let Some(s) = apk.script(name) else {
            return;
        };
        let pkg = apk.field("pkgname").unwrap();
        let ver = apk.field("pkgver").unwrap();
        let rel = format!("lib/apk/exec/{pkg}-{ver}{name}");
        std::fs::create_dir_all(self.at("lib/apk/exec")).unwrap();
        std::fs::write(self.at(&rel), &s.data).unwrap();
        std::fs::set_permissions(self.at(&rel), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = Command::new("chroot");
        c.arg(self.path())
            .args(["/bin/sh", &format!("/{rel}")])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .current_dir(self.path());
        let o = c
            .output()
            .unwrap_or_else(|e| panic!("cannot run {c:?}: {e}"));
        let r = Ran::from(&c, &o);
        if !r.ok {
            log.text.push_str(&format!(
                "ERROR: {pkg}-{ver}{name}: script exited with error {:?}\n",
                r.code
            ));
            log.ok = false;
            log.code = Some(1);
        }
        log.out.push_str(&r.out);
        log.text.push_str(&r.text);
        std::fs::remove_file(self.at(&rel)).unwrap();
    }

    fn apk_unpack(&self, apk: &apk_reader::Apk) -> Vec<String> {
        let mut owned = Vec::new();
        for e in &apk.data {
            let rel = e.name.trim_end_matches('/').to_string();
            let p = self.at(&rel);
            // apk resolves the tar's user and group names in the root's
            // passwd and group; unknown names fall back to the numeric ids.
            let uid = self.lookup("passwd", &e.uname).unwrap_or(e.uid as u32);
            let gid = self.lookup("group", &e.gname).unwrap_or(e.gid as u32);
            match &e.kind {
                EntryKind::Dir => {
                    std::fs::create_dir_all(&p).unwrap();
                }
                EntryKind::File => {
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    let _ = std::fs::remove_file(&p);
                    std::fs::write(&p, &e.data).unwrap();
                    owned.push(rel.clone());
                }
                EntryKind::Symlink(t) => {
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    let _ = std::fs::remove_file(&p);
                    std::os::unix::fs::symlink(t, &p).unwrap();
                    owned.push(rel.clone());
                    std::os::unix::fs::lchown(&p, Some(uid), Some(gid)).unwrap();
                    continue;
                }
                EntryKind::Other(t) => panic!("{rel}: tar type {t} in an apk"),
            }
            std::os::unix::fs::chown(&p, Some(uid), Some(gid)).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(e.mode & 0o7777)).unwrap();
        }
        owned
    }

    fn lookup(&self, file: &str, name: &str) -> Option<u32> {
        let line = self.entry(file, name)?;
        line.split(':').nth(2)?.parse().ok()
    }

    fn apk_delete(&self, paths: &[String]) {
        for p in paths {
            let _ = std::fs::remove_file(self.at(p));
        }
    }

    /// `apk add --allow-untrusted FILE`: a fresh install or an upgrade
    /// (also to an older version, as `apk add pkg=OLD` does).
    pub fn apk_add(&self, file: &Path) -> Ran {
        let bytes = std::fs::read(file).unwrap();
        let apk = apk_reader::check(&bytes, None)
            .unwrap_or_else(|v| panic!("{} is not a valid apk:\n{}", file.display(), v.join("\n")));
        let name = apk.field("pkgname").unwrap().to_string();
        let new = apk.field("pkgver").unwrap().to_string();
        let mut log = Ran {
            ok: true,
            code: Some(0),
            out: String::new(),
            text: format!("$ apk add {}\n", file.display()),
        };
        let owned = match self.apk_db() {
            None => {
                self.apk_script(&apk, ".pre-install", &[&new], &mut log);
                let owned = self.apk_unpack(&apk);
                self.apk_script(&apk, ".post-install", &[&new], &mut log);
                owned
            }
            Some((n, old, before)) => {
                assert_eq!(n, name, "the simulation holds one package");
                self.apk_script(&apk, ".pre-upgrade", &[&new, &old], &mut log);
                let owned = self.apk_unpack(&apk);
                let gone: Vec<String> = before.into_iter().filter(|p| !owned.contains(p)).collect();
                self.apk_delete(&gone);
                self.apk_script(&apk, ".post-upgrade", &[&new, &old], &mut log);
                owned
            }
        };
        std::fs::create_dir_all(self.at("lib/apk/db")).unwrap();
        let mut db = format!("{name} {new}\n");
        for p in owned {
            db.push_str(&p);
            db.push('\n');
        }
        std::fs::write(self.at(DB), db).unwrap();
        std::fs::write(self.apk_kept(&name), &bytes).unwrap();
        log
    }

    /// `apk del NAME`.
    pub fn apk_del(&self, name: &str) -> Ran {
        let bytes = std::fs::read(self.apk_kept(name)).expect("the package is not installed");
        let apk = apk_reader::check(&bytes, None).unwrap_or_else(|v| panic!("{}", v.join("\n")));
        let (_, old, owned) = self.apk_db().expect("nothing installed");
        let mut log = Ran {
            ok: true,
            code: Some(0),
            out: String::new(),
            text: format!("$ apk del {}\n", apk.field("pkgname").unwrap()),
        };
        self.apk_script(&apk, ".pre-deinstall", &[&old], &mut log);
        self.apk_delete(&owned);
        // Directories go when empty, deepest first (apk keeps non-empty ones).
        let mut dirs: Vec<String> = apk
            .data
            .iter()
            .filter(|e| e.kind == EntryKind::Dir)
            .map(|e| e.name.trim_end_matches('/').to_string())
            .collect();
        dirs.sort();
        for d in dirs.iter().rev() {
            let _ = std::fs::remove_dir(self.at(d));
        }
        self.apk_script(&apk, ".post-deinstall", &[&old], &mut log);
        std::fs::remove_file(self.at(DB)).unwrap();
        std::fs::remove_file(self.apk_kept(name)).unwrap();
        log
    }
}

impl Root {
    /// The installed package's files, as absolute paths.
    pub fn apk_owned(&self) -> Vec<String> {
        self.apk_db()
            .map(|(.., files)| files.into_iter().map(|f| format!("/{f}")).collect())
            .unwrap_or_default()
    }
}
