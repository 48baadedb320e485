//! Issue #5 with the real rpm in a scratch root: install, the admin's
//! edits, upgrade (restart once, in %posttrans, after the old package's
//! %preun/%postun with $1=1 did nothing), the refused skip of a stop,
//! removal, masked units, no systemd. rpm has no purge. The scenarios are
//! in tests/common/lifecycle.rs.

use crate::common::imsrv::{CONFIG, DATA, NAME, STATE};
use crate::common::lifecycle::{self as lc, ready};
use crate::common::root::{Manager, Root};

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

/// Where the scriptlets pass markers from %pre and %post to %posttrans.
const MARKERS: &str = "/var/lib/rpm-state/packwright";
const VICTIM: &str = "/etc/victim";

/// Give the service user rpm's marker dir, in one of two ways a directory
/// it could write would let it: a dir of its own there, or a link to its
/// data dir; each holding the markers root writes, linked to a root-only
/// victim.
fn forge_markers(r: &Root, how: &str) {
    let uid = r.uid(NAME);
    // rpm-state as the rpm package ships it on Fedora: root's, 0755.
    std::fs::create_dir_all(r.at("/var/lib/rpm-state")).unwrap();
    let dir = match how {
        "dir" => {
            std::fs::create_dir(r.at(MARKERS)).unwrap();
            MARKERS.to_string()
        }
        _ => {
            std::os::unix::fs::symlink(DATA, r.at(MARKERS)).unwrap();
            DATA.to_string()
        }
    };
    std::os::unix::fs::lchown(r.at(&dir), Some(uid), None).unwrap();
    for m in ["upgrade", "from"] {
        let link = r.at(&format!("{dir}/{NAME}.{m}"));
        std::os::unix::fs::symlink(VICTIM, &link).unwrap();
        std::os::unix::fs::lchown(&link, Some(uid), None).unwrap();
    }
}

/// Issue #11: rpm's marker dir, where %pre and %post write as root, is
/// trusted only when root alone could have made it, as packwright's state
/// dir is: a dir or link the service user made there is refused with a
/// message naming it before anything is written through it, and the
/// upgrade aborts with the old release in place.
#[test]
fn a_marker_dir_the_service_user_made_is_refused() {
    if !ready(M) {
        return;
    }
    let (v34, v35) = (lc::build(M, "3.4.0"), lc::build(M, "3.5.0"));
    for how in ["dir", "link"] {
        let r = lc::root(M);
        lc::clean(M, r.install(&v34.file));
        assert!(!r.exists(MARKERS), "%posttrans removes the marker dir");
        r.write(VICTIM, "root's own\n");
        forge_markers(&r, how);
        let config = r.bytes(CONFIG);
        let out = r.install(&v35.file);
        assert_eq!(
            r.read(VICTIM),
            "root's own\n",
            "{how}: the victim was written:\n{}",
            out.text
        );
        let out = out.failed();
        let want = format!(
            "imsrv: refusing to use rpm's state dir {MARKERS}: {MARKERS} must be a directory owned by root and writable by no one else"
        );
        assert!(
            out.text.contains(&want),
            "{how}: {want:?} in:\n{}",
            out.text
        );
        assert_eq!(r.installed(NAME), Some(lc::full(M, "3.4.0")), "{how}");
        assert_eq!(r.bytes(CONFIG), config, "{how}: nothing was changed");
        assert_eq!(r.read(&format!("{STATE}/version")), "3.4.0\n", "{how}");
    }
}
