//! Issue #6 with the real pacman in a scratch root. pacman ignores a failing
//! post_upgrade: the failing migration's rollback leaves data and config as
//! they were, the output says how to retry, and `packwright-hook check`
//! keeps the service from starting; `pacman -U` of the fixed package
//! completes the upgrade. The scenarios are in tests/common/migration.rs.

use crate::common::lifecycle::{clean, ready};
use crate::common::migration as mig;
use crate::common::root::Manager;

const M: Manager = Manager::Pacman;

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
    let out = clean(M, r.install(&good.file));
    mig::assert_retry_completes(&r, &out);
}
