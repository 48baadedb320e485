//! Issue #6 with the real dpkg in a scratch root: 3.4.0 → 3.5.0 with a data
//! migration (converted once, the unit stopped around it, a snapshot that
//! restores the byte-identical tree), a failing migration that rolls back
//! and leaves the package half-configured until `dpkg --configure -a`, and
//! a snapshot refused for lack of space before anything changes. The
//! scenarios shared with rpm, pacman and apk are in tests/common/migration.rs.

use crate::common::imsrv::{self, CONFIG, ENV, MIGRATION_RUN, NAME, STATE};
use crate::common::lifecycle::{self as lc, clean, ready};
use crate::common::migration::{self as mig, SmallFs};
use crate::common::root::{Manager, Root};

const M: Manager = Manager::Dpkg;

fn status(r: &Root) -> String {
    let q = std::process::Command::new("dpkg-query")
        .arg(format!("--root={}", r.path().display()))
        .args(["-W", "-f=${Status}", NAME])
        .output()
        .unwrap();
    crate::common::stdout(&q)
}

#[test]
fn upgrade_converts_the_data_once_and_the_snapshot_restores_it() {
    if ready(M) {
        mig::upgrade_converts_once_and_restores(M);
    }
}

/// The failing migration: rolled back, half-configured; the admin fixes
/// the cause (here: the migration itself) and `dpkg --configure -a` completes.
#[test]
fn a_failing_migration_rolls_back_and_configure_completes_once_fixed() {
    if !ready(M) {
        return;
    }
    let (r, _bad) = mig::failing_migration_rolls_back(M);
    assert_eq!(status(&r), "install ok half-configured");

    r.exec(MIGRATION_RUN, &imsrv::migration_ok());
    r.clear_systemctl_log();
    let out = clean(M, r.run(&["--configure", "-a"]));
    assert_eq!(status(&r), "install ok installed", "{}", out.text);
    mig::assert_retry_completes(&r, &out);
}

/// A snapshot that does not fit is refused before anything changes: a
/// 1 MiB tmpfs over `backups/`.
#[test]
fn no_room_for_the_snapshot_refuses_before_anything_changes() {
    if !(ready(M) && crate::common::tool("mount")) {
        return;
    }
    let v35 = mig::build_ok(M);
    let r = mig::running_34(M);
    // Enough data that 1 MiB cannot hold its snapshot even without the slack.
    r.write("/var/lib/imsrv/big.bin", &"x".repeat(2 << 20));
    let (before, config, env) = (mig::data_listing(&r), r.bytes(CONFIG), r.bytes(ENV));
    let small = SmallFs::over(&r, &format!("{STATE}/backups"));

    let out = r.install(&v35.file).failed();
    let text = &out.text;
    assert_eq!(status(&r), "install ok half-configured", "{text}");
    for want in [
        format!("{STATE}/backups"),
        "free, but a snapshot of the data dirs needs".to_string(),
        "nothing was changed".to_string(),
    ] {
        assert!(
            text.contains(&want),
            "the refusal must say {want:?}:\n{text}"
        );
    }
    assert_eq!(mig::data_listing(&r), before, "{text}");
    assert!(r.bytes(CONFIG) == config && r.bytes(ENV) == env, "{text}");
    assert!(mig::runs(&r).is_empty(), "no migration may run\n{text}");
    assert!(
        !r.exists(&format!("{STATE}/logs")),
        "no migration log: nothing ran\n{text}"
    );
    assert!(mig::snapshots(&r).is_empty(), "{text}");
    assert_eq!(mig::state_version(&r), "3.4.0");
    assert_eq!(lc::check(&r).code, Some(5), "the service must not start");

    // Room again: the retry completes.
    drop(small);
    r.clear_systemctl_log();
    let out = clean(M, r.run(&["--configure", "-a"]));
    assert_eq!(status(&r), "install ok installed", "{}", out.text);
    mig::assert_retry_completes(&r, &out);
}
