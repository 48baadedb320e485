//! Issue #5 with the real pacman in a scratch root: install, the admin's
//! edits, upgrade, removal, masked units, no systemd, and the skip of a
//! stop, which pacman cannot refuse (a failing pre_upgrade does not stop
//! it): post_upgrade leaves config and units alone, writes the `blocked`
//! note, `packwright-hook check` exits 5, and installing the stop (3.4.0,
//! which pacman sees as a downgrade) recovers. The scenarios are in
//! tests/common/lifecycle.rs.

use crate::common::lifecycle::{self as lc, ready};
use crate::common::root::Manager;

const M: Manager = Manager::Pacman;

#[test]
fn install_edit_upgrade_merges_and_restarts_once() {
    if ready(M) {
        lc::install_edit_upgrade(M);
    }
}

#[test]
fn skipping_a_stop_installs_but_changes_nothing_and_check_refuses() {
    if ready(M) {
        lc::skip_blocked_after_install(M);
    }
}

#[test]
fn remove_keeps_config_and_data() {
    if ready(M) {
        lc::remove_keeps_config_and_data(M);
    }
}

#[test]
fn installing_over_a_removed_older_release_applies_the_gate() {
    if ready(M) {
        lc::skip_after_removal_is_refused_too(M);
    }
}

#[test]
fn masked_and_disabled_units_stay_so() {
    if ready(M) {
        lc::masked_and_disabled_units_stay_so(M);
    }
}

#[test]
fn without_systemd_no_systemctl_runs() {
    if ready(M) {
        lc::no_systemd_no_systemctl(M);
    }
}
