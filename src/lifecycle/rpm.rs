//! rpm's slots (README: "How the managers run scripts"). `$1` counts the instances of the
//! package installed once the step is done: %pre/%post get 1 on install and
//! 2 or more on upgrade; %preun/%postun get 0 on removal, and the OLD
//! package's %preun/%postun also run during an upgrade, after the new %post,
//! with `$1=1`: the user's removal steps must not run then. rpm passes no
//! versions, so the old version is empty; the new one is baked in.
//!
//! post-upgrade runs in the new package's %posttrans, the last word of an
//! upgrade (after the old package's removal scripts). Which %posttrans is an
//! upgrade is recorded by %post in a marker under /var/lib/rpm-state, since
//! the argument rpm gives %posttrans has changed meaning between versions.
//!
//! rpm has no purge: `rpm -e` is the end of the package, and like rpm
//! itself, packwright then leaves the data the package did not ship in
//! place, so the `purge` snippet is not run.

use super::steps::{self, ManagerProfile};
use super::{library, new_version, script, user_call};
use crate::plan::{Event, Package};

/// A scriptlet slot of the rpm header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    Pre,
    Post,
    PreUn,
    PostUn,
    PostTrans,
}

impl Slot {
    /// The spec-file name, for messages and `inspect`.
    pub fn name(self) -> &'static str {
        match self {
            Slot::Pre => "%pre",
            Slot::Post => "%post",
            Slot::PreUn => "%preun",
            Slot::PostUn => "%postun",
            Slot::PostTrans => "%posttrans",
        }
    }
}

/// The directory rpm-packaged software uses to pass state between one
/// transaction's scriptlets (Fedora's `%{_localstatedir}/lib/rpm-state`).
const STATE: &str = "/var/lib/rpm-state/packwright";

const MANAGER: ManagerProfile = ManagerProfile {
    name: "rpm",
    pre_note: "Nothing was changed.",
    block_note: "",
    stop_from_repo: "dnf install <name>-$_pw_s",
    units: steps::SYSTEMCTL,
    busybox_accounts: false,
};

/// The scriptlets for `pkg`, `evr` being its `[epoch:]version-release`.
/// rpm passes no versions: packwright's steps take the old one from their
/// state (`/var/lib/packwright/<pkg>/version`).
pub fn scripts(pkg: &Package, evr: &str) -> Vec<(Slot, String)> {
    let ours = steps::any(pkg);
    let lib = library(pkg, &MANAGER);
    let up = new_version(pkg);
    let new = format!("'{evr}'");
    // rpm passes no old version; packwright's state knows the one its steps
    // set up last (read before the steps record the new one).
    let old = if ours { "\"$pw_from\"" } else { "''" };
    let call = |ev| user_call(pkg, ev, old, &new);
    let gone = |ev| user_call(pkg, ev, &new, "''");
    let marker = format!("{STATE}/{}.upgrade", pkg.meta.name);
    let mut out = Vec::new();
    let mut add = |slot, body: String| {
        if let Some(s) = script(&lib, &body) {
            out.push((slot, s));
        }
    };
    let step = |s: &str| {
        if ours {
            s.replace("NEW", &up)
        } else {
            String::new()
        }
    };

    let (pi, pu) = (
        user_call(pkg, Event::PreInstall, "''", &new),
        call(Event::PreUpgrade),
    );
    let from = format!("{STATE}/{}.from", pkg.meta.name);
    let gate = if !pkg.lifecycle.has_state() {
        step("pw_pre '' NEW || exit 1\n")
    } else {
        step(&format!(
        "{}pw_from=$(pw_old '')\n\
         if [ -z \"$pw_from\" ] && [ \"$1\" -ge 2 ]; then pw_from=$(pw_described); fi\n\
         pw_pre \"$pw_from\" NEW || exit 1\n\
         rm -f {from}\n\
         if [ \"$1\" -ge 2 ] && [ -n \"$pw_from\" ]; then\n{}printf '%s\\n' \"$pw_from\" >{from}\nfi\n",
            described(pkg),
            state_dirs()
        ))
    };
    if !(pi.is_empty() && pu.is_empty() && gate.is_empty()) {
        add(
            Slot::Pre,
            format!("{gate}if [ \"$1\" -le 1 ]; then\n{pi}:\nelse\n{pu}:\nfi\n"),
        );
    }
    let (ci, cu) = (
        user_call(pkg, Event::PostInstall, "''", &new),
        call(Event::PostUpgrade),
    );
    let upgrade_work = ours || !cu.is_empty();
    if !ci.is_empty() || upgrade_work {
        // A marker left by an upgrade that failed before its %posttrans
        // must not turn a later fresh install into an upgrade.
        let (clear, up_mark) = if upgrade_work {
            (
                format!("rm -f {marker}\n"),
                format!("{}: > {marker}\n", state_dirs()),
            )
        } else {
            (String::new(), ":\n".to_string())
        };
        let post = step("pw_post install \"$(pw_old '')\" NEW || exit 1\n");
        add(
            Slot::Post,
            format!("if [ \"$1\" -le 1 ]; then\n{clear}{post}{ci}:\nelse\n{up_mark}fi\n"),
        );
    }
    if upgrade_work {
        // stderr closed rather than sent to /dev/null: chroots may lack /dev.
        // The old version %pre found (from the old package's description
        // when nothing was recorded) is the one the config belongs to.
        let post = step(&format!(
            "pw_from=$(pw_old '')\n\
             if [ -z \"$pw_from\" ] && [ -f {from} ]; then IFS= read -r pw_from <{from} || :; fi\n\
             rm -f {from}\n\
             pw_post upgrade \"$pw_from\" NEW || exit 1\n"
        ));
        add(
            Slot::PostTrans,
            format!(
                "if [ -e {marker} ]; then\nrm -f {marker}\nrmdir {STATE} 2>&- || :\n{post}{cu}fi\n"
            ),
        );
    }
    // Only a real removal ($1 = 0), never the old package during an upgrade.
    let rm = gone(Event::PreRemove);
    let ours_rm = step("pw_remove\n");
    if !(rm.is_empty() && ours_rm.is_empty()) {
        add(
            Slot::PreUn,
            format!("if [ \"$1\" -eq 0 ]; then\n{ours_rm}{rm}fi\n"),
        );
    }
    let pr = gone(Event::PostRemove);
    let ours_pr = step("pw_removed\n");
    if !(pr.is_empty() && ours_pr.is_empty()) {
        add(
            Slot::PostUn,
            format!("if [ \"$1\" -eq 0 ]; then\n{ours_pr}{pr}fi\n"),
        );
    }
    out
}

/// Explicit modes whatever the umask: a world-writable marker dir would
/// let anyone aim a redirect into it at another file.
fn state_dirs() -> String {
    format!(
        "if [ ! -d /var/lib/rpm-state ]; then mkdir -m 0755 /var/lib/rpm-state; fi\n\
         if [ ! -d {STATE} ]; then mkdir -m 0700 {STATE}; fi\n"
    )
}

/// `pw_described`: rpm passes %pre no versions, and with nothing recorded
/// (state lost, or an older packwright's record that cannot be trusted)
/// the gate would have no old version. In an upgrade's %pre the old
/// package's files are still on disk: its description names its upstream
/// version, read only below directories nobody but root can change.
fn described(pkg: &Package) -> String {
    let dir = format!("/usr/share/{}/packwright", pkg.meta.name);
    format!(
        "pw_described() {{\n\
         \tfor _pw_d in / /usr /usr/share /usr/share/{name} {dir}; do\n\
         \t\tpw_trusted \"$_pw_d\" 2>&- || return 0\n\
         \tdone\n\
         \tif [ ! -f {dir}/package.json ] || [ -h {dir}/package.json ]; then return 0; fi\n\
         \twhile IFS= read -r _pw_l; do\n\
         \t\tcase $_pw_l in\n\
         \t\t'  \"version\": \"'*)\n\
         \t\t\t_pw_l=${{_pw_l#*: \\\"}}\n\
         \t\t\t_pw_l=${{_pw_l%%\\\"*}}\n\
         \t\t\tif pw_is_version \"$_pw_l\"; then printf '%s\\n' \"$_pw_l\"; fi\n\
         \t\t\treturn 0\n\
         \t\t\t;;\n\
         \t\tesac\n\
         \tdone <{dir}/package.json\n\
         }}\n\n",
        name = pkg.meta.name
    )
}
