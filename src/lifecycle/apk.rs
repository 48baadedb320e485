//! apk's slots (see shared/lifecycle.md). apk-tools passes the versions as
//! arguments (src/database.c, `apk_db_install_pkg`): install scripts get
//! `NEW`, upgrade scripts `NEW OLD`, deinstall scripts `OLD`. Only the
//! package being installed runs scripts; the old package's never do.
//!
//! apk has no purge: `apk del` is final and keeps nothing to purge later, so
//! the `purge` snippet (which typically deletes data) is not run on apk —
//! running it on every removal would destroy what a deb admin would keep.

use super::{script, user_call};
use crate::plan::{Event, Package};

/// The control-stream names (`.pre-install`…) with their bodies.
pub fn scripts(pkg: &Package) -> Vec<(&'static str, String)> {
    let slots = [
        (".pre-install", Event::PreInstall, "''", "\"$1\""),
        (".post-install", Event::PostInstall, "''", "\"$1\""),
        (".pre-upgrade", Event::PreUpgrade, "\"$2\"", "\"$1\""),
        (".post-upgrade", Event::PostUpgrade, "\"$2\"", "\"$1\""),
        (".pre-deinstall", Event::PreRemove, "\"$1\"", "''"),
        (".post-deinstall", Event::PostRemove, "\"$1\"", "''"),
    ];
    slots
        .into_iter()
        .filter_map(|(name, ev, old, new)| script(&user_call(pkg, ev, old, new)).map(|s| (name, s)))
        .collect()
}
