//! packwright's state dir on the target, `<root>/var/lib/packwright/<pkg>/`:
//! created root-owned 0700 (its parent 0755) whatever the umask, and used
//! only while nobody but root (or the user running the hook) could change
//! it or any directory above it. A service user who can rename an entry on
//! the way could point root's writes at any file: that is refused, naming
//! the path.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::contract;
use super::error::{At, HookError, Result};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};

/// `<root>/var/lib/packwright/<pkg>`.
pub fn path(root: &Path, pkg: &str) -> PathBuf {
    contract::under(root, &contract::state_dir(pkg))
}

/// Where packwright kept the state before: `<root>/var/lib/<pkg>/packwright`,
/// inside a directory the service user often owns.
pub fn legacy(root: &Path, pkg: &str) -> PathBuf {
    contract::under(root, &contract::legacy_state_dir(pkg))
}

#[cfg(unix)]
fn trusted_uid(uid: u32) -> bool {
    uid == 0 || uid == super::sys::euid()
}

fn refuse(state: &Path, at: &Path, why: String) -> HookError {
    HookError::invalid(
        at,
        format!(
            "{why}: refusing to use packwright's state dir {} (it and every directory above it must be owned by root and writable by no one else)",
            state.display()
        ),
    )
}

/// Check one existing directory of the chain (not following a symlink).
/// `leaf`: the state dir itself, which a root-owned sticky mode does not excuse.
#[cfg(unix)]
fn check_one(state: &Path, at: &Path, m: &fs::Metadata, leaf: bool) -> Result<()> {
    if !trusted_uid(m.uid()) {
        return Err(refuse(state, at, format!("owned by uid {}", m.uid())));
    }
    if m.file_type().is_symlink() {
        // A link only root could make: what it points to must be safe too.
        let to = fs::canonicalize(at).at(at)?;
        return chain(state, &to, Path::new("/"), leaf);
    }
    if !m.is_dir() {
        return Err(refuse(state, at, "not a directory".into()));
    }
    let mode = m.mode() & 0o7777;
    let sticky_root = mode & 0o1000 != 0 && m.uid() == 0 && !leaf;
    if mode & 0o022 != 0 && !sticky_root {
        return Err(refuse(
            state,
            at,
            format!("writable by group or others (mode {mode:04o})"),
        ));
    }
    Ok(())
}

/// Check `dir` and its existing ancestors up to and including `stop`.
#[cfg(unix)]
fn chain(state: &Path, dir: &Path, stop: &Path, leaf: bool) -> Result<()> {
    for (i, at) in dir.ancestors().enumerate() {
        match fs::symlink_metadata(at) {
            Ok(m) => check_one(state, at, &m, leaf && i == 0)?,
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(HookError::io(at, e)),
        }
        if at == stop || at.as_os_str().is_empty() {
            break;
        }
    }
    Ok(())
}

/// Refuse `state` when it, or a directory above it up to `stop`, exists
/// and could be changed by someone else. A missing state dir is fine.
pub fn check(state: &Path, stop: &Path) -> Result<()> {
    #[cfg(unix)]
    return chain(state, state, stop, true);
    #[cfg(not(unix))]
    {
        let _ = (state, stop);
        Ok(())
    }
}

/// Create what is missing of `state` (the state dir 0700, directories above
/// it 0755), with explicit modes, then check it all.
pub fn ensure(state: &Path, stop: &Path) -> Result<()> {
    check(state, stop)?;
    let missing: Vec<&Path> = state
        .ancestors()
        .take_while(|a| fs::symlink_metadata(a).is_err())
        .collect();
    for at in missing.into_iter().rev() {
        let mode = if at == state { 0o700 } else { 0o755 };
        make_dir(at, mode)?;
    }
    check(state, stop)
}

/// One directory with exactly `mode` (the umask does not apply); an entry
/// that appeared meanwhile is left for the check to judge.
pub fn make_dir(at: &Path, mode: u32) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    b.mode(0o700);
    match b.create(at) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(HookError::io(at, e)),
    }
    #[cfg(unix)]
    fs::set_permissions(at, fs::Permissions::from_mode(mode)).at(at)?;
    #[cfg(not(unix))]
    let _ = mode;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_with_explicit_modes() {
        let d = tempfile::tempdir().unwrap();
        let st = path(d.path(), "demo");
        ensure(&st, d.path()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().mode() & 0o7777;
        assert_eq!(mode(&st), 0o700);
        assert_eq!(mode(st.parent().unwrap()), 0o755);
        assert_eq!(mode(&d.path().join("var")), 0o755);
    }

    #[test]
    fn a_writable_parent_or_a_symlink_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let st = path(d.path(), "demo");
        ensure(&st, d.path()).unwrap();
        let parent = st.parent().unwrap();
        fs::set_permissions(parent, fs::Permissions::from_mode(0o777)).unwrap();
        let e = check(&st, d.path()).unwrap_err().to_string();
        assert!(e.contains("writable by group or others (mode 0777)"), "{e}");
        assert!(e.starts_with(&parent.display().to_string()), "{e}");
        fs::set_permissions(parent, fs::Permissions::from_mode(0o755)).unwrap();
        fs::remove_dir(&st).unwrap();
        let open = d.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        std::os::unix::fs::symlink(&open, &st).unwrap();
        let e = check(&st, d.path()).unwrap_err().to_string();
        assert!(e.contains("writable by group or others"), "{e}");
    }
}
