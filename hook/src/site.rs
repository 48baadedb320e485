//! Where a package's files are: an installed package (`--package P`, paths
//! in its description are absolute, below `--root`) or an unpacked zip/tar.gz
//! (`--desc DIR/packwright/package.json`, relative paths resolve against DIR).

use std::path::{Path, PathBuf};

use super::contract::state;
use super::desc::PackageDesc;
use super::error::{HookError, Result};
use super::fsio;

pub struct Site {
    pub root: PathBuf,
    pub pkg: String,
    pub desc: PackageDesc,
    /// The install dir of an unpacked archive; `None` for an installed package.
    pub base: Option<PathBuf>,
    /// The desc file as given, to repeat it in printed commands.
    pub desc_arg: Option<PathBuf>,
    /// `<root>/var/lib/packwright/<pkg>`, or `--state`.
    pub state: PathBuf,
    /// How far up the state dir's parents must be safe (see statedir.rs):
    /// `--root` for an installed package's own state dir.
    pub state_top: PathBuf,
    /// Whether the state dir was given with `--state`.
    pub state_arg: bool,
}

impl Site {
    /// An installed package: `<root>/usr/share/<pkg>/packwright/package.json`.
    pub fn package(root: &Path, pkg: &str, state: Option<PathBuf>) -> Result<Site> {
        let desc = PackageDesc::load(root, pkg)?;
        let top = match &state {
            Some(s) => given_top(s),
            None => root.into(),
        };
        let site = Site {
            root: root.into(),
            pkg: pkg.into(),
            desc,
            base: None,
            desc_arg: None,
            state_arg: state.is_some(),
            state: state.unwrap_or_else(|| super::package::state_dir(root, pkg)),
            state_top: top,
        };
        super::statedir::check(&site.state, &site.state_top)?;
        Ok(site)
    }

    /// An unpacked archive: `<install dir>/packwright/package.json`; the state
    /// dir defaults to `<install dir>/../<pkg>-state` so it outlives the
    /// install dir of one version.
    pub fn desc_file(root: &Path, file: &Path, state: Option<PathBuf>) -> Result<Site> {
        let desc = PackageDesc::load_file(file)?;
        let abs = std::path::absolute(file).map_err(|e| HookError::io(file, e))?;
        let base = abs
            .parent()
            .and_then(Path::parent)
            .ok_or_else(|| {
                HookError::invalid(file, "expected <install dir>/packwright/package.json")
            })?
            .to_path_buf();
        let pkg = desc.package.clone();
        let default_state = base
            .parent()
            .unwrap_or(Path::new("/"))
            .join(format!("{pkg}-state"));
        let state_arg = state.is_some();
        let state = state.unwrap_or(default_state);
        let site = Site {
            root: root.into(),
            pkg,
            desc,
            base: Some(base),
            desc_arg: Some(file.into()),
            state_arg,
            state_top: given_top(&state),
            state,
        };
        super::statedir::check(&site.state, &site.state_top)?;
        Ok(site)
    }

    /// A path from the description on this machine.
    pub fn path(&self, p: &str) -> PathBuf {
        match &self.base {
            Some(b) if !Path::new(p).is_absolute() => lexical(&b.join(p)),
            _ => fsio::under_root(&self.root, p),
        }
    }

    /// The same path as seen inside `--root` (for a chrooted migration).
    pub fn in_root(&self, host: &Path) -> PathBuf {
        match host.strip_prefix(&self.root) {
            Ok(rel) => Path::new("/").join(rel),
            Err(_) => host.into(),
        }
    }

    /// The pristine copy of a live file: `/` becomes `%2F` (and `%` `%25`) so
    /// every live path maps to one flat, reversible name.
    pub fn pristine(&self, live: &str) -> PathBuf {
        self.state.join(state::PRISTINE).join(escape(live))
    }

    /// The data dirs on this machine, in description order, without repeats.
    pub fn data_dirs(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for d in self.desc.upgrade.iter().flat_map(|u| &u.data_dirs) {
            let p = self.path(d);
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    pub fn backup_keep(&self) -> usize {
        self.desc
            .upgrade
            .as_ref()
            .and_then(|u| u.backup_keep)
            .unwrap_or(2) as usize
    }

    /// The message of `<state>/blocked`, written by the generated scripts
    /// when a pacman/apk upgrade skipped a required stop release.
    pub fn blocked(&self) -> Result<Option<String>> {
        let p = self.state.join(state::BLOCKED);
        let Some(text) = fsio::read(&p)? else {
            return Ok(None);
        };
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(5)
            .collect();
        Ok(Some(if lines.is_empty() {
            format!("blocked ({} exists)", p.display())
        } else {
            lines.join("\n")
        }))
    }

    /// A packwright-hook command line for this package: `cmd` and its
    /// extra arguments, with `--root`, `--package`/`--desc` and `--state`.
    pub fn hook_command(&self, cmd: &str) -> String {
        let mut s = String::from("packwright-hook ");
        if self.root != Path::new("/") {
            s.push_str(&format!("--root {} ", self.root.display()));
        }
        let (verb, rest) = cmd.split_once(' ').unwrap_or((cmd, ""));
        s.push_str(verb);
        match &self.desc_arg {
            Some(d) => s.push_str(&format!(" --desc {}", d.display())),
            None => s.push_str(&format!(" --package {}", self.pkg)),
        }
        if self.state_arg {
            s.push_str(&format!(" --state {}", self.state.display()));
        }
        if !rest.is_empty() {
            s.push(' ');
            s.push_str(rest);
        }
        s
    }
}

/// How far up a state dir given by path (`--state`, or beside an unpacked
/// archive) is checked: to `/` for root, whose writes there a service user
/// must not redirect; only the dir itself for anyone else.
fn given_top(state: &Path) -> PathBuf {
    #[cfg(unix)]
    if super::sys::euid() == 0 {
        return PathBuf::from("/");
    }
    state.into()
}

/// `a/b/../c` → `a/c` without asking the filesystem: `../imsrv-data` beside
/// an install dir must not reach an archive name with `..` in it.
fn lexical(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `etc/imsrv/config.yaml` → `etc%2Fimsrv%2Fconfig.yaml`.
pub fn escape(live: &str) -> String {
    live.trim_start_matches('/')
        .replace('%', "%25")
        .replace('/', "%2F")
}
