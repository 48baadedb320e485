//! Issue #5 with the real rpm in a scratch root: install, the admin's
//! edits, upgrade (restart once, in %posttrans, after the old package's
//! %preun/%postun with $1=1 did nothing), the refused skip of a stop,
//! removal, masked units, no systemd. rpm has no purge. The scenarios are
//! in tests/common/lifecycle.rs.

use crate::common::lifecycle::{self as lc, ready};
use crate::common::root::Manager;

const M: Manager = Manager::Rpm;

#[test]
fn install_edit_upgrade_merges_and_restarts_once() {
    if ready(M) {
        lc::install_edit_upgrade(M);
    }
}

#[test]
fn skipping_a_stop_is_refused_before_anything_changes() {
    if ready(M) {
        lc::skip_refused_before_anything_changes(M);
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
