//! Issue #6 with the real rpm in a scratch root: the hook's upgrade runs in
//! %posttrans. A failing migration rolls back; rpm only warns, and
//! `rpm -U --replacepkgs` of the fixed package completes the upgrade. The
//! scenarios are in tests/common/migration.rs.

use crate::common::lifecycle::{clean, ready};
use crate::common::migration as mig;
use crate::common::root::Manager;

const M: Manager = Manager::Rpm;

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
    // The cause fixed: a 3.5.0 whose migration works, reinstalled as the
    // message says.
    let good = mig::build_ok(M);
    r.clear_systemctl_log();
    let out = clean(
        M,
        r.run(&[
            "--nodeps",
            "-U",
            "--replacepkgs",
            good.file.to_str().unwrap(),
        ]),
    );
    mig::assert_retry_completes(&r, &out);
}
