//! The on-target contract: the paths and names that the builder's generated
//! maintainer scripts and package files (packwright's src/lifecycle and
//! src/plan) and this hook must agree on. Both sides take them from here, so
//! changing one changes both.
//!
//! Paths are absolute on the target; the hook joins them below `--root`
//! with [`under`].

use std::path::{Path, PathBuf};

/// The parent of every package's state dir, root's alone.
pub const STATE_PARENT: &str = "/var/lib/packwright";

/// packwright's state dir for `pkg`: `/var/lib/packwright/<pkg>`.
pub fn state_dir(pkg: &str) -> String {
    format!("{STATE_PARENT}/{pkg}")
}

/// Where packwright kept the state before, inside `/var/lib/<pkg>`, which
/// the service user may own: read once, as hostile, for the version.
pub fn legacy_state_dir(pkg: &str) -> String {
    format!("/var/lib/{pkg}/packwright")
}

/// Files in the state dir.
pub mod state {
    /// The installed version, one line, written by the scripts after a
    /// complete install or upgrade.
    pub const VERSION: &str = "version";
    /// Why an upgrade was refused (and what to install), written by the
    /// scripts' gate; the hook's `check` and `status` read it.
    pub const BLOCKED: &str = "blocked";
    /// The units the scripts stopped for a data migration, to start again.
    pub const STOPPED: &str = "stopped";
    /// dpkg: set by preinst of a fresh install, cleared by postinst.
    pub const INSTALLING: &str = "installing";
    /// The hook's record of migrations run.
    pub const MIGRATIONS: &str = "migrations.json";
    /// Conflicts of the last update.
    pub const CONFLICTS: &str = "conflicts.json";
    /// The previous defaults as shipped (the merge's base).
    pub const PRISTINE: &str = "pristine";
    /// Data snapshots.
    pub const BACKUPS: &str = "backups";
    /// Migration logs.
    pub const LOGS: &str = "logs";
    /// One hook at a time.
    pub const LOCK: &str = "lock";
}

/// The package's own data dir: `/usr/share/<pkg>`.
pub fn share_dir(pkg: &str) -> String {
    format!("/usr/share/{pkg}")
}

/// The package description, relative to the package's share dir (an
/// installed package) or to the install dir (an unpacked archive).
pub const DESC: &str = "packwright/package.json";

/// `/usr/share/<pkg>/packwright/package.json`.
pub fn desc_path(pkg: &str) -> String {
    format!("{}/{DESC}", share_dir(pkg))
}

/// Shipped defaults: `/usr/share/<pkg>/defaults/<name>`.
pub fn default_path(pkg: &str, name: &str) -> String {
    format!("{}/defaults/{name}", share_dir(pkg))
}

/// Migrations, relative to the share dir (installed) or to the install dir
/// (unpacked archive): `migrations/<version>/<file>`.
pub fn migration_rel(version: &str, file: &str) -> String {
    format!("migrations/{version}/{file}")
}

/// Where an installed package carries its hook: `/usr/lib/<pkg>/packwright-hook`.
pub fn hook_path(pkg: &str) -> String {
    format!("/usr/lib/{pkg}/{HOOK_NAME}")
}

/// The hook's file name (`.exe` added on Windows).
pub const HOOK_NAME: &str = "packwright-hook";

/// Beside a live file: the new default the merge could not apply.
pub const NEW_SUFFIX: &str = ".packwright-new";
/// Beside a live file: the file as it was before the hook changed it.
pub const OLD_SUFFIX: &str = ".packwright-old";

/// The `--manager` names the scripts pass, so messages name the right retry.
pub const MANAGERS: [&str; 4] = ["deb", "rpm", "pacman", "apk"];

/// An absolute target path below `root`.
pub fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compose() {
        assert_eq!(state_dir("imsrv"), "/var/lib/packwright/imsrv");
        assert_eq!(
            desc_path("imsrv"),
            "/usr/share/imsrv/packwright/package.json"
        );
        assert_eq!(
            default_path("imsrv", "config.yaml"),
            "/usr/share/imsrv/defaults/config.yaml"
        );
        assert_eq!(hook_path("imsrv"), "/usr/lib/imsrv/packwright-hook");
        assert_eq!(
            under(Path::new("/r"), &state_dir("p")),
            Path::new("/r/var/lib/packwright/p")
        );
    }

    #[test]
    fn every_manager_name_the_scripts_pass_is_understood() {
        for m in MANAGERS {
            assert!(crate::upgrade::Manager::parse(m).is_some(), "{m}");
        }
    }
}
