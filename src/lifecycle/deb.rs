//! dpkg's slots (see shared/lifecycle.md): preinst install|upgrade OLD,
//! postinst configure [OLD], prerm remove|upgrade, postrm remove|purge|upgrade.

use super::{script, user_call};
use crate::plan::{Event, Package};

pub fn scripts(pkg: &Package, full_version: &str) -> Vec<(&'static str, String)> {
    let new = format!("'{full_version}'");
    let call = |ev, old: &str| user_call(pkg, ev, old, &new);
    // Removal: the version going away is "old"; there is no new one.
    let gone = |ev| user_call(pkg, ev, &new, "''");
    let mut out = Vec::new();
    let mut add = |name, body: String| {
        if let Some(s) = script(&body) {
            out.push((name, s));
        }
    };
    let (pi, pu) = (
        call(Event::PreInstall, "''"),
        call(Event::PreUpgrade, "\"$2\""),
    );
    if !(pi.is_empty() && pu.is_empty()) {
        add(
            "preinst",
            format!("case \"$1\" in\ninstall)\n{pi};;\nupgrade)\n{pu};;\nesac\n"),
        );
    }
    let (ci, cu) = (
        call(Event::PostInstall, "''"),
        call(Event::PostUpgrade, "\"$2\""),
    );
    if !(ci.is_empty() && cu.is_empty()) {
        // `configure` with an empty $2 is a fresh install; with a version, an
        // upgrade (or a reinstall over config-files state).
        add("postinst", format!("if [ \"$1\" = configure ]; then\nif [ -z \"$2\" ]; then\n{ci}:\nelse\n{cu}:\nfi\nfi\n"));
    }
    let rm = gone(Event::PreRemove);
    if !rm.is_empty() {
        // Only a real removal: an upgrade runs the old prerm with `upgrade`.
        add("prerm", format!("if [ \"$1\" = remove ]; then\n{rm}fi\n"));
    }
    let (pr, pg) = (gone(Event::PostRemove), gone(Event::Purge));
    if !(pr.is_empty() && pg.is_empty()) {
        add(
            "postrm",
            format!("case \"$1\" in\nremove)\n{pr};;\npurge)\n{pg};;\nesac\n"),
        );
    }
    out
}
