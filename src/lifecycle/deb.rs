//! dpkg's slots (README: "How the managers run scripts"): preinst install|upgrade OLD,
//! postinst configure [OLD], prerm remove|upgrade, postrm remove|purge|upgrade.
//! The old package's prerm/postrm run with `upgrade` during an upgrade:
//! they do nothing then.

use super::steps::{self, ManagerProfile};
use super::{library, new_version, script, user_call};
use crate::plan::{Event, Package};
use packwright_hook::contract::state::INSTALLING;

const MANAGER: ManagerProfile = ManagerProfile {
    name: "deb",
    pre_note: "Nothing was changed.",
    block_note: "",
    stop_from_repo: "apt install <name>=$_pw_s-<release>",
    units: steps::DEBIAN_HELPERS,
    busybox_accounts: false,
};

pub fn scripts(pkg: &Package, full_version: &str) -> Vec<(&'static str, String)> {
    let ours = steps::any(pkg);
    let lib = library(pkg, &MANAGER);
    let up = new_version(pkg);
    let new = format!("'{full_version}'");
    let call = |ev, old: &str| user_call(pkg, ev, old, &new);
    // Removal: the version going away is "old"; there is no new one.
    let gone = |ev| user_call(pkg, ev, &new, "''");
    let mut out = Vec::new();
    let mut add = |name, body: String| {
        if let Some(s) = script(&lib, &body) {
            out.push((name, s));
        }
    };

    let (pi, pu) = (
        call(Event::PreInstall, "''"),
        call(Event::PreUpgrade, "\"$2\""),
    );
    let (gate, fresh) = pre_steps(pkg, &up, ours);
    if !(pi.is_empty() && pu.is_empty() && gate.is_empty()) {
        add(
            "preinst",
            format!(
                "case \"$1\" in\ninstall)\n{gate}{fresh}{pi};;\nupgrade)\n{gate}{pu};;\nesac\n"
            ),
        );
    }
    let (ci, cu) = (
        call(Event::PostInstall, "''"),
        call(Event::PostUpgrade, "\"$2\""),
    );
    let post = post_step(pkg, &up, ours);
    if !(ci.is_empty() && cu.is_empty() && post.is_empty()) {
        // `configure` with an empty $2 is a fresh install; with a version, an
        // upgrade (or a reinstall over config-files state).
        add("postinst", format!("if [ \"$1\" = configure ]; then\n{post}if [ -z \"$2\" ]; then\n{ci}:\nelse\n{cu}:\nfi\nfi\n"));
    }
    let rm = gone(Event::PreRemove);
    let ours_rm = if ours { "\tpw_remove\n" } else { "" };
    if !(rm.is_empty() && ours_rm.is_empty()) {
        // Only a real removal: an upgrade runs the old prerm with `upgrade`.
        add(
            "prerm",
            format!("if [ \"$1\" = remove ]; then\n{ours_rm}{rm}fi\n"),
        );
    }
    let (pr, pg) = (gone(Event::PostRemove), gone(Event::Purge));
    let (ours_pr, ours_pg) = if ours {
        ("\tpw_removed\n", "\tpw_purge\n")
    } else {
        ("", "")
    };
    if !(pr.is_empty() && pg.is_empty() && ours_pr.is_empty()) {
        add(
            "postrm",
            format!("case \"$1\" in\nremove)\n{ours_pr}{pr};;\npurge)\n{ours_pg}{pg};;\nesac\n"),
        );
    }
    out
}

/// preinst's gate and, on a fresh install, the `installing` mark.
fn pre_steps(pkg: &Package, up: &str, ours: bool) -> (String, String) {
    let state = steps::state(pkg);
    if ours {
        (
            format!("\tpw_pre \"$(pw_old \"$2\")\" {up} || exit 1\n"),
            // postinst cannot tell a fresh install from a reinstall over
            // config-files state (both give OLD): preinst can.
            if pkg.lifecycle.has_state() {
                // pw_state: the dir is root's alone before anything is written.
                format!("\tpw_state || exit 1\n\t: >{state}/{INSTALLING}\n")
            } else {
                String::new()
            },
        )
    } else {
        (String::new(), String::new())
    }
}

/// postinst's call of `pw_post`, which tells install from upgrade.
fn post_step(pkg: &Package, up: &str, ours: bool) -> String {
    let state = steps::state(pkg);
    if ours {
        let fresh_test = if pkg.lifecycle.has_state() {
            format!(" || [ -f {state}/{INSTALLING} ]")
        } else {
            String::new()
        };
        let clear = if pkg.lifecycle.has_state() {
            format!("\trm -f {state}/{INSTALLING}\n")
        } else {
            String::new()
        };
        format!(
            "\tpw_mode=upgrade\n\tif [ -z \"$2\" ]{fresh_test}; then\n\t\tpw_mode=install\n\tfi\n\
             \tpw_post \"$pw_mode\" \"$(pw_old \"$2\")\" {up} || exit 1\n{clear}"
        )
    } else {
        String::new()
    }
}
