//! apk's slots (README: "How the managers run scripts"). apk-tools passes the versions as
//! arguments (src/database.c, `apk_db_install_pkg`): install scripts get
//! `NEW`, upgrade scripts `NEW OLD`, deinstall scripts `OLD`. Only the
//! package being installed runs scripts; the old package's never do.
//!
//! A failing pre-upgrade does not stop apk: it installs anyway (and flags
//! the package). The post-upgrade re-checks the gate and, when refused,
//! changes nothing and leaves the note that keeps the service from starting.
//!
//! apk has no purge: `apk del` is final and keeps nothing to purge later, so
//! the `purge` snippet (which typically deletes data) is not run on apk —
//! running it on every removal would destroy what a deb admin would keep.

use super::steps::{self, ManagerProfile};
use super::{library, new_version, script, user_call};
use crate::plan::{Event, Package};

const MANAGER: ManagerProfile = ManagerProfile {
    name: "apk",
    pre_note: "apk installs the new files anyway; packwright will leave the config, data and service as they are.",
    block_note: "The files of $2 are installed but not set up: the config is unchanged, no migration ran, and the service will not start (packwright-hook check fails). Install the release named above next (apk add the package at that version), or go back to $1 (apk add the package at $1, from your repository or /var/cache/apk).",
    stop_from_repo: "apk add <name>=$_pw_s-r<release>",
    units: steps::SYSTEMCTL,
    busybox_accounts: true,
};

/// The control-stream names (`.pre-install`…) with their bodies.
pub fn scripts(pkg: &Package) -> Vec<(&'static str, String)> {
    let ours = steps::any(pkg);
    let lib = library(pkg, &MANAGER);
    let up = new_version(pkg);
    let pre = |old: &str| {
        if ours {
            format!("pw_pre \"$(pw_old {old})\" {up} || exit 1\n")
        } else {
            String::new()
        }
    };
    // The user's post step runs only when packwright's did (0); a refused
    // path (2) ends quietly, a failure (1) fails the script.
    let post = |mode: &str, old: &str, user: String| {
        if ours {
            super::post_unabortable(mode, old, &up, &user, "exit 1")
        } else {
            user
        }
    };
    let ours_do = |f: &str| {
        if ours {
            format!("{f}\n")
        } else {
            String::new()
        }
    };
    let slots = [
        (
            ".pre-install",
            pre("''") + &user_call(pkg, Event::PreInstall, "''", "\"$1\""),
        ),
        (
            ".post-install",
            post(
                "install",
                "''",
                user_call(pkg, Event::PostInstall, "''", "\"$1\""),
            ),
        ),
        (
            ".pre-upgrade",
            pre("\"$2\"") + &user_call(pkg, Event::PreUpgrade, "\"$2\"", "\"$1\""),
        ),
        (
            ".post-upgrade",
            post(
                "upgrade",
                "\"$2\"",
                user_call(pkg, Event::PostUpgrade, "\"$2\"", "\"$1\""),
            ),
        ),
        (
            ".pre-deinstall",
            ours_do("pw_remove") + &user_call(pkg, Event::PreRemove, "\"$1\"", "''"),
        ),
        (
            ".post-deinstall",
            ours_do("pw_removed") + &user_call(pkg, Event::PostRemove, "\"$1\"", "''"),
        ),
    ];
    slots
        .into_iter()
        .filter_map(|(name, body)| script(&lib, &body).map(|s| (name, s)))
        .collect()
}
