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
use packwright_hook::contract;
use std::path::Path;

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

/// What every scriptlet of one package shares.
struct Ctx<'a> {
    pkg: &'a Package,
    /// Whether packwright has steps of its own for this package.
    ours: bool,
    /// The new upstream version, quoted, for packwright's steps.
    up: String,
    /// The new `[epoch:]version-release`, quoted, for the user's snippets.
    new: String,
    /// The old version handed to the user's upgrade snippets: rpm passes
    /// none, so packwright's state knows the one its steps set up last
    /// (read before the steps record the new one).
    old: &'static str,
    /// Left by %post of an upgrade for the new package's %posttrans.
    marker: String,
    /// The old version %pre found, for %posttrans.
    from: String,
}

impl<'a> Ctx<'a> {
    fn new(pkg: &'a Package, evr: &str) -> Self {
        let ours = steps::any(pkg);
        let name = &pkg.meta.name;
        Ctx {
            pkg,
            ours,
            up: new_version(pkg),
            new: format!("'{evr}'"),
            old: if ours { "\"$pw_from\"" } else { "''" },
            marker: format!("{STATE}/{name}.upgrade"),
            from: format!("{STATE}/{name}.from"),
        }
    }

    /// packwright's step `s` (with `NEW` the new version), or nothing
    /// when the package has no steps of packwright's.
    fn step(&self, s: &str) -> String {
        if self.ours {
            s.replace("NEW", &self.up)
        } else {
            String::new()
        }
    }

    /// The user's snippet for an install or upgrade event.
    fn call(&self, ev: Event) -> String {
        user_call(self.pkg, ev, self.old, &self.new)
    }

    /// The user's snippet for a removal event: the version going away.
    fn gone(&self, ev: Event) -> String {
        user_call(self.pkg, ev, &self.new, "''")
    }

    /// Whether an upgrade has work for %posttrans.
    fn upgrade_work(&self) -> bool {
        self.ours || !self.call(Event::PostUpgrade).is_empty()
    }
}

/// The scriptlets for `pkg`, `evr` being its `[epoch:]version-release`.
/// rpm passes no versions: packwright's steps take the old one from their
/// state (`/var/lib/packwright/<pkg>/version`).
pub fn scripts(pkg: &Package, evr: &str) -> Vec<(Slot, String)> {
    let cx = Ctx::new(pkg, evr);
    let lib = library(pkg, &MANAGER) + &rpm_steps(pkg);
    // Only a real removal ($1 = 0), never the old package during an upgrade.
    let preun = removal(cx.gone(Event::PreRemove), cx.step("pw_remove\n"));
    let postun = removal(cx.gone(Event::PostRemove), cx.step("pw_removed\n"));
    [
        (Slot::Pre, pre(&cx)),
        (Slot::Post, post(&cx)),
        (Slot::PostTrans, posttrans(&cx)),
        (Slot::PreUn, preun),
        (Slot::PostUn, postun),
    ]
    .into_iter()
    .filter_map(|(slot, body)| Some((slot, script(&lib, &body?)?)))
    .collect()
}

/// %pre: the version gate, then the user's pre-install or pre-upgrade.
fn pre(cx: &Ctx) -> Option<String> {
    let pi = user_call(cx.pkg, Event::PreInstall, "''", &cx.new);
    let pu = cx.call(Event::PreUpgrade);
    let gate = if !cx.pkg.lifecycle.has_state() {
        cx.step("pw_pre '' NEW || exit 1\n")
    } else {
        let from = &cx.from;
        cx.step(&format!(
            "{}pw_rpm_clear {from} || exit 1\n\
         pw_from=$(pw_old '')\n\
         if [ -z \"$pw_from\" ] && [ \"$1\" -ge 2 ]; then pw_from=$(pw_described); fi\n\
         pw_pre \"$pw_from\" NEW || exit 1\n\
         if [ \"$1\" -ge 2 ] && [ -n \"$pw_from\" ]; then\n\
         pw_rpm_state || exit 1\nprintf '%s\\n' \"$pw_from\" >{from}\nfi\n",
            described(cx.pkg),
        ))
    };
    if pi.is_empty() && pu.is_empty() && gate.is_empty() {
        return None;
    }
    Some(format!(
        "{gate}if [ \"$1\" -le 1 ]; then\n{pi}:\nelse\n{pu}:\nfi\n"
    ))
}

/// %post: a fresh install's steps and snippet; an upgrade only leaves the
/// marker, its work waits for %posttrans.
fn post(cx: &Ctx) -> Option<String> {
    let ci = user_call(cx.pkg, Event::PostInstall, "''", &cx.new);
    let upgrade_work = cx.upgrade_work();
    if ci.is_empty() && !upgrade_work {
        return None;
    }
    let marker = &cx.marker;
    // A marker left by an upgrade that failed before its %posttrans
    // must not turn a later fresh install into an upgrade.
    let (clear, up_mark) = if upgrade_work {
        (
            format!("pw_rpm_clear {marker} || exit 1\n"),
            format!("pw_rpm_state || exit 1\n: > {marker}\n"),
        )
    } else {
        (String::new(), ":\n".to_string())
    };
    let post = cx.step("pw_post install \"$(pw_old '')\" NEW || exit 1\n");
    Some(format!(
        "if [ \"$1\" -le 1 ]; then\n{clear}{post}{ci}:\nelse\n{up_mark}fi\n"
    ))
}

/// %posttrans: an upgrade's steps and snippet, after the old package's
/// removal scriptlets.
fn posttrans(cx: &Ctx) -> Option<String> {
    if !cx.upgrade_work() {
        return None;
    }
    let (marker, from) = (&cx.marker, &cx.from);
    // stderr closed rather than sent to /dev/null: chroots may lack /dev.
    // The old version %pre found (from the old package's description
    // when nothing was recorded) is the one the config belongs to.
    let post = cx.step(&format!(
        "pw_from=$(pw_old '')\n\
         if [ -z \"$pw_from\" ] && [ -f {from} ]; then IFS= read -r pw_from <{from} || :; fi\n\
         rm -f {from}\n\
         pw_post upgrade \"$pw_from\" NEW || exit 1\n"
    ));
    let cu = cx.call(Event::PostUpgrade);
    Some(format!(
        "if [ -e {marker} ]; then\npw_rpm_state || exit 1\nrm -f {marker}\nrmdir {STATE} 2>&- || :\n{post}{cu}fi\n"
    ))
}

/// %preun or %postun: packwright's step and the user's snippet, on a real
/// removal only.
fn removal(user: String, ours: String) -> Option<String> {
    if user.is_empty() && ours.is_empty() {
        return None;
    }
    Some(format!("if [ \"$1\" -eq 0 ]; then\n{ours}{user}fi\n"))
}

/// `pw_rpm_state` makes and checks the marker dir, `pw_rpm_clear` removes
/// a stale marker from it. Root writes the markers there, so the dir gets
/// explicit modes whatever the umask and, like packwright's state dir
/// (statedir.rs), is refused when anyone but root could have made or
/// changed it or a directory above it: a link or a dir of the service
/// user's there would aim root's redirects at another file.
fn rpm_steps(pkg: &Package) -> String {
    let name = &pkg.meta.name;
    format!(
        "# rpm's marker dir {STATE}, root's alone:\n\
         # what is missing is made with explicit modes, and a directory on the way\n\
         # that anyone but root could change is refused, so no marker written there\n\
         # can be redirected.\n\
         pw_rpm_state() {{\n\
         \tfor _pw_d in /var/lib/rpm-state {STATE}; do\n\
         \t\tif [ ! -e \"$_pw_d\" ] && [ ! -h \"$_pw_d\" ]; then\n\
         \t\t\t_pw_m=0755\n\
         \t\t\tif [ \"$_pw_d\" = {STATE} ]; then _pw_m=0700; fi\n\
         \t\t\tmkdir -m \"$_pw_m\" \"$_pw_d\" || return 1\n\
         \t\tfi\n\
         \tdone\n\
         \tfor _pw_d in / /var /var/lib /var/lib/rpm-state {STATE}; do\n\
         \t\t# shellcheck disable=SC2012\n\
         \t\t_pw_l=$(ls -ldn \"$_pw_d\") || return 1\n\
         \t\t# shellcheck disable=SC2086\n\
         \t\tset -- $_pw_l\n\
         \t\tcase $1 in\n\
         \t\td????[!w]??[!w]*)\n\
         \t\t\tif [ \"$3\" = 0 ]; then continue; fi\n\
         \t\t\t;;\n\
         \t\tesac\n\
         \t\techo \"{name}: refusing to use rpm's state dir {STATE}: $_pw_d must be a directory owned by root and writable by no one else (it is $1, owner uid $3)\" >&2\n\
         \t\treturn 1\n\
         \tdone\n\
         }}\n\n\
         # Removes $1, a marker an earlier transaction may have left, from a\n\
         # marker dir that is checked first (and not made) when it exists.\n\
         pw_rpm_clear() {{\n\
         \tif [ -e {STATE} ] || [ -h {STATE} ]; then\n\
         \t\tpw_rpm_state || return 1\n\
         \t\trm -f \"$1\"\n\
         \tfi\n\
         }}\n\n"
    )
}

/// `pw_described`: rpm passes %pre no versions, and with nothing recorded
/// (state lost, or an older packwright's record that cannot be trusted)
/// the gate would have no old version. In an upgrade's %pre the old
/// package's files are still on disk: its description names its upstream
/// version, read only below directories nobody but root can change.
fn described(pkg: &Package) -> String {
    let desc = contract::desc_path(&pkg.meta.name);
    // Every directory from / down to the description's own.
    let mut chain: Vec<&str> = Path::new(&desc)
        .ancestors()
        .skip(1)
        .filter_map(Path::to_str)
        .collect();
    chain.reverse();
    let chain = chain.join(" ");
    format!(
        "pw_described() {{\n\
         \tfor _pw_d in {chain}; do\n\
         \t\tpw_trusted \"$_pw_d\" 2>&- || return 0\n\
         \tdone\n\
         \tif [ ! -f {desc} ] || [ -h {desc} ]; then return 0; fi\n\
         \twhile IFS= read -r _pw_l; do\n\
         \t\tcase $_pw_l in\n\
         \t\t'  \"version\": \"'*)\n\
         \t\t\t_pw_l=${{_pw_l#*: \\\"}}\n\
         \t\t\t_pw_l=${{_pw_l%%\\\"*}}\n\
         \t\t\tif pw_is_version \"$_pw_l\"; then printf '%s\\n' \"$_pw_l\"; fi\n\
         \t\t\treturn 0\n\
         \t\t\t;;\n\
         \t\tesac\n\
         \tdone <{desc}\n\
         }}\n\n"
    )
}
