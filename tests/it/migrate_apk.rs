//! Issue #6 for apk, whose scripts run as apk-tools runs them in a busybox
//! scratch root (tests/common/apk_sim.rs): the same story as pacman. A
//! failing migration rolls back, the output names `apk fix imsrv`, and
//! `check` keeps the service from starting. `apk fix` reinstalls the package
//! and runs .post-upgrade again; the simulation does that by adding the
//! fixed package of the same version. The scenarios are in
//! tests/common/migration.rs.

use crate::common::lifecycle::ready;
use crate::common::migration as mig;
use crate::common::root::Manager;

const M: Manager = Manager::Apk;

#[test]
fn upgrade_converts_the_data_once_and_the_snapshot_restores_it() {
    if ready(M) {
        mig::upgrade_converts_once_and_restores(M);
    }
}

#[test]
fn a_failing_migration_rolls_back_and_the_retry_completes() {
    if !ready(M) {
        return;
    }
    let (r, _bad) = mig::failing_migration_rolls_back(M);
    let good = mig::build_ok(M);
    r.clear_systemctl_log();
    let out = r.install(&good.file).ok();
    mig::assert_retry_completes(&r, &out);
}
