//! packwright's own steps as POSIX shell functions, from the plan's
//! lifecycle intent. Every format's scripts define these and call them with
//! upstream versions; only the wrappers (deb.rs, rpm.rs, …) know the
//! manager's arguments. Functions only, no top-level command: pacman
//! sources the file that holds them.
//!
//! Each step returns non-zero on failure instead of relying on `set -e`,
//! which shells ignore inside a function called from `||` or `if`.

use super::{account, statedir};
use crate::plan::Package;
use packwright_hook::contract::state::{BLOCKED, STOPPED, VERSION};
use packwright_hook::contract::{self, NEW_SUFFIX, OLD_SUFFIX, STATE_PARENT};

const VERSION_SH: &str = include_str!("../../scripts/version.sh");

/// How one manager's scripts talk about a refused upgrade.
pub struct ManagerProfile {
    /// Passed to the hook (`--manager`) so its messages name the right retry.
    pub name: &'static str,
    /// After a refusal in the pre-step (shell text; `$1` old, `$2` new).
    pub pre_note: &'static str,
    /// pacman and apk install anyway: what the post-step says after it
    /// kept the machine as it was (`$1` old, `$2` new).
    pub block_note: &'static str,
    /// How to install an upgrade stop (`$_pw_s`) from a repository, named
    /// in the gate's refusal; `<name>` and `<release>` are filled in.
    pub stop_from_repo: &'static str,
    /// The commands that change a unit's state.
    pub units: UnitCmds,
    /// Whether busybox's `adduser`/`addgroup` are the system's account tools
    /// (Alpine). Elsewhere useradd/groupadd are, and lintian asks a deb
    /// that calls `adduser` to depend on Debian's adduser package.
    pub busybox_accounts: bool,
}

/// Commands that enable, disable, start, stop and restart a unit.
pub struct UnitCmds {
    pub enable: &'static str,
    pub disable: &'static str,
    pub start: &'static str,
    pub stop: &'static str,
    pub try_restart: &'static str,
}

pub const SYSTEMCTL: UnitCmds = UnitCmds {
    enable: "systemctl enable",
    disable: "systemctl disable",
    start: "systemctl start",
    stop: "systemctl stop",
    try_restart: "systemctl try-restart",
};

/// Debian's wrappers (init-system-helpers, Essential on Debian and Ubuntu):
/// deb-systemd-invoke asks policy-rc.d first (container builds forbid
/// starting services there) and does not start a disabled unit;
/// deb-systemd-helper keeps the enable state dpkg's purge cleans up.
/// lintian flags maintainer scripts that call systemctl for these.
pub const DEBIAN_HELPERS: UnitCmds = UnitCmds {
    enable: "deb-systemd-helper enable",
    disable: "deb-systemd-helper disable",
    start: "deb-systemd-invoke start",
    stop: "deb-systemd-invoke stop",
    try_restart: "deb-systemd-invoke try-restart",
};

/// Single-quoted for the shell.
pub fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Whether packwright has any step of its own for this package.
pub fn any(pkg: &Package) -> bool {
    let l = &pkg.lifecycle;
    l.hook.is_some()
        || l.gate.is_some()
        || !l.users.is_empty()
        || !l.units.is_empty()
        || !account::owned(pkg).is_empty()
}

/// packwright's state dir on the target: root's alone, never inside a
/// directory the package gives to its service user.
pub fn state(pkg: &Package) -> String {
    contract::state_dir(&pkg.meta.name)
}

pub fn library(pkg: &Package, mgr: &ManagerProfile) -> String {
    let l = &pkg.lifecycle;
    let mut s = String::new();
    s.push_str(VERSION_SH);
    s.push_str(&statedir::old_steps(pkg));
    if let Some(g) = &l.gate {
        s.push_str(&block_steps(pkg, g, mgr));
    }
    if !l.users.is_empty() {
        s.push_str(&account::users_steps(pkg, mgr));
    }
    s.push_str(&pre_step(pkg, mgr));
    s.push_str(&account::own_step(pkg));
    if !l.units.is_empty() {
        s.push_str(&units(pkg, &mgr.units));
    }
    s.push_str(&post(pkg, mgr));
    s.push_str(&removal(pkg));
    s
}

/// The gate and `pw_block`, for a refused path the manager took anyway.
fn block_steps(pkg: &Package, g: &crate::plan::Gate, mgr: &ManagerProfile) -> String {
    let name = &pkg.meta.name;
    let st = state(pkg);
    let mut s = String::new();
    let hint = mgr
        .stop_from_repo
        .replace("<name>", name)
        .replace("<release>", &pkg.meta.release);
    s.push_str(&gate(name, g, &hint));
    s.push_str(&format!(
        "# A refused path that the manager installed anyway: change nothing,\n\
         # and leave a note that makes `packwright-hook check` refuse to start.\n\
         pw_block() {{\n\
         \tprintf '%s\\n%s\\n' \"$pw_why\" \"{}\" >{st}/{BLOCKED} || return 1\n\
         \tprintf '%s\\n%s\\n' \"$pw_why\" \"{}\" >&2\n\
         }}\n\n",
        mgr.block_note.replace("<name>", name),
        mgr.block_note.replace("<name>", name)
    ));
    s
}

/// `pw_pre`: the gate (dpkg and rpm abort when it fails), then the users, so
/// the manager can give their files the right owner at unpack.
fn pre_step(pkg: &Package, mgr: &ManagerProfile) -> String {
    let l = &pkg.lifecycle;
    let mut pre = String::new();
    if l.gate.is_some() {
        pre.push_str(&format!(
            "\tif ! pw_gate \"$1\" \"$2\"; then\n\t\tprintf '%s\\n' \"$pw_why\" >&2\n\t\techo \"{}\" >&2\n\t\treturn 1\n\tfi\n",
            mgr.pre_note
        ));
    }
    if l.has_state() {
        // A state dir others could change stops dpkg and rpm before unpacking.
        pre.push_str("\tpw_state || return 1\n");
    }
    if !l.users.is_empty() {
        pre.push_str("\tpw_users || return 1\n");
    }
    format!("pw_pre() {{\n{pre}\t:\n}}\n\n")
}

fn gate(name: &str, g: &crate::plan::Gate, hint: &str) -> String {
    let mut s = String::from(
        "# The upgrade gate of [upgrade], baked in: the new package's files are not\n\
         # on disk yet when a pre-step runs. Sets pw_why and fails when refused.\n\
         pw_gate() {\n\tpw_why=\n\
         \tif [ -z \"$1\" ] || [ -z \"$2\" ]; then return 0; fi\n\
         \t_pw_g=$(pw_vercmp \"$2\" \"$1\")\n\
         \tif [ \"$_pw_g\" = 0 ]; then return 0; fi\n",
    );
    if g.allow_downgrade {
        s.push_str("\tif [ \"$_pw_g\" = -1 ]; then return 0; fi\n");
    } else {
        s.push_str(&format!(
            "\tif [ \"$_pw_g\" = -1 ]; then\n\
             \t\tpw_why=\"{name}: refusing the downgrade from $1 to $2: the config and data on this machine belong to $1, and this package does not allow downgrades.\"\n\
             \t\treturn 1\n\tfi\n"
        ));
    }
    let stop = format!(
        "pw_why=\"{name}: refusing the upgrade from $1 to $2: it would skip $_pw_s, a release whose upgrade steps must run first. Install {name} $_pw_s first, then $2. From a repository: {hint}.\""
    );
    // Unrolled: shellcheck flags a loop over one literal.
    for v in &g.stops {
        s.push_str(&format!(
            "\tif pw_lt \"$1\" {w} && pw_lt {w} \"$2\"; then\n\t\t_pw_s={w}\n\t\t{stop}\n\t\treturn 1\n\tfi\n",
            w = sq(v)
        ));
    }
    if g.semver_major {
        s.push_str(&format!(
            "\t# Every new major version X.0.0 is a stop.\n\
             \tpw_split \"$1\"\n\t_pw_m=${{pw_main%%[!0-9]*}}\n\
             \tpw_split \"$2\"\n\t_pw_n=${{pw_main%%[!0-9]*}}\n\
             \t_pw_m=${{_pw_m:-0}}\n\t_pw_n=${{_pw_n:-0}}\n\
             \twhile [ \"$_pw_m\" -lt \"$_pw_n\" ]; do\n\
             \t\t_pw_m=$((_pw_m + 1))\n\t\t_pw_s=$_pw_m.0.0\n\
             \t\tif pw_lt \"$_pw_s\" \"$2\"; then\n\t\t\t{stop}\n\t\t\treturn 1\n\t\tfi\n\tdone\n"
        ));
    }
    s.push_str("\treturn 0\n}\n\n");
    s
}

fn units(pkg: &Package, cmd: &UnitCmds) -> String {
    let name = &pkg.meta.name;
    let l = &pkg.lifecycle;
    let all: Vec<&str> = l.units.iter().map(|u| u.name.as_str()).collect();
    let mut s = format!(
        "# Every systemctl call needs a running systemd (not a chroot or an image build).\n\
         pw_systemd() {{\n\
         \tif [ -d /run/systemd/system ]; then return 0; fi\n\
         \techo \"{name}: systemd is not running; skipped: systemctl $*\"\n\
         \treturn 1\n}}\n\n\
         # A unit the admin masked is never touched.\n\
         pw_masked() {{\n\
         \tcase $(systemctl is-enabled \"$1\" 2>&- || :) in\n\
         \tmasked*)\n\t\techo \"{name}: $1 is masked; left alone\"\n\t\treturn 0\n\t\t;;\n\
         \tesac\n\treturn 1\n}}\n\n"
    );
    // Install: enable (never on upgrade: the admin may have disabled it), start.
    let install: Vec<String> = l
        .units
        .iter()
        .map(|u| {
            let mut b = String::new();
            if u.enable {
                b.push_str(&format!("\t\t{} {} || return 1\n", cmd.enable, sq(&u.name)));
            }
            if u.start {
                b.push_str(&format!(
                    "\t\t{start} {n} || echo \"{name}: {u} did not start; see: systemctl status {u}\" >&2\n",
                    start = cmd.start,
                    n = sq(&u.name),
                    u = u.name
                ));
            }
            format!("\tif ! pw_masked {}; then\n{b}\t\t:\n\tfi\n", sq(&u.name))
        })
        .collect();
    s.push_str(&format!(
        "pw_units_install() {{\n\tpw_systemd daemon-reload, enable, start {} || return 0\n\tsystemctl daemon-reload || :\n{}}}\n\n",
        all.join(" "),
        install.concat()
    ));
    let restart: Vec<String> = l
        .units
        .iter()
        .filter(|u| u.restart)
        .map(|u| {
            format!(
                "\tif ! pw_masked {n}; then\n\t\t{r} {n} || echo \"{name}: {u} did not restart; see: systemctl status {u}\" >&2\n\tfi\n",
                r = cmd.try_restart,
                n = sq(&u.name),
                u = u.name
            )
        })
        .collect();
    s.push_str(&format!(
        "pw_units_upgrade() {{\n\tpw_systemd daemon-reload, try-restart {} || return 0\n\tsystemctl daemon-reload || :\n{}}}\n\n",
        all.join(" "),
        restart.concat()
    ));
    let stop: Vec<String> = l
        .units
        .iter()
        .map(|u| {
            format!(
                "\tif ! pw_masked {n}; then\n\t\t{stop} {n} || :\n\t\t{disable} {n} || :\n\tfi\n",
                stop = cmd.stop,
                disable = cmd.disable,
                n = sq(&u.name)
            )
        })
        .collect();
    s.push_str(&format!(
        "pw_units_remove() {{\n\tpw_systemd stop, disable {} || return 0\n{}}}\n\n\
         pw_units_removed() {{\n\tpw_systemd daemon-reload || return 0\n\tsystemctl daemon-reload || :\n}}\n\n",
        all.join(" "),
        stop.concat()
    ));
    s
}

/// pw_post MODE OLD NEW: users, owners, the hook, state, units. MODE is
/// the manager's view (install enables units; upgrade restarts them), OLD
/// the version the config and data belong to. Returns 2 when the gate
/// refused (nothing changed), 1 on a failure.
fn post(pkg: &Package, mgr: &ManagerProfile) -> String {
    let l = &pkg.lifecycle;
    let name = &pkg.meta.name;
    let st = state(pkg);
    let mut b = String::new();
    if l.has_state() {
        b.push_str("\tpw_state || return 1\n");
    }
    if l.gate.is_some() {
        b.push_str("\tif ! pw_gate \"$2\" \"$3\"; then\n\t\tpw_block \"$2\" \"$3\" || return 1\n\t\treturn 2\n\tfi\n");
        b.push_str(&format!("\trm -f {st}/{BLOCKED}\n"));
    }
    if !l.users.is_empty() {
        b.push_str("\tpw_users || return 1\n");
    }
    if !account::owned(pkg).is_empty() {
        b.push_str("\tpw_own || return 1\n");
    }
    // Data migrations must not run under a live service: the units that
    // run are stopped first and started again once the hook succeeded; a
    // failure leaves them stopped (the hook has rolled back and says how
    // to retry). The stopped units are noted in the state dir, so the
    // retry, which finds them inactive, still starts them at the end.
    let quiesce = !l.migrations.is_empty() && l.units.iter().any(|u| u.restart);
    if quiesce {
        b.push_str(&format!(
            "	pw_stopped=
	if [ -f {st}/{STOPPED} ]; then
		IFS= read -r pw_stopped <{st}/{STOPPED} || :
	fi
	if [ -n \"$2\" ] && pw_crosses \"$2\" \"$3\"; then
		pw_quiesce || return 1
	fi
"
        ));
    }
    if let Some(h) = &l.hook {
        let failed = if quiesce {
            format!(" || {{
			if [ -n \"$pw_stopped\" ]; then echo \"{name}:$pw_stopped stay stopped until the upgrade completes\" >&2; fi
			return 1
		}}")
        } else {
            " || return 1".to_string()
        };
        b.push_str(&format!(
            "\tif [ -z \"$2\" ]; then\n\
             \t\t{h} install --package {n} --new \"$3\" --manager {m} || return 1\n\
             \telse\n\
             \t\t{h} upgrade --package {n} --old \"$2\" --new \"$3\" --manager {m}{failed}\n\
             \tfi\n",
            n = sq(name),
            m = mgr.name
        ));
    }
    if l.has_state() {
        b.push_str(&format!(
            "\tprintf '%s\\n' \"$3\" >{st}/{VERSION} || return 1\n"
        ));
    }
    if !l.units.is_empty() {
        let resume = if quiesce {
            "\telif [ -n \"$pw_stopped\" ]; then\n\t\tpw_resume\n"
        } else {
            ""
        };
        b.push_str(&format!("\tif [ \"$1\" = install ]; then\n\t\tpw_units_install || return 1\n{resume}\telse\n\t\tpw_units_upgrade || return 1\n\tfi\n"));
    }
    let mut out = format!("pw_post() {{\n{b}\treturn 0\n}}\n\n");
    if quiesce {
        out.push_str(&migration_steps(pkg, &mgr.units));
    }
    out
}

/// pw_crosses OLD NEW: whether a migration lies in (OLD, NEW]; pw_quiesce
/// stops the running units and lists them in pw_stopped; pw_resume starts
/// them again.
fn migration_steps(pkg: &Package, cmd: &UnitCmds) -> String {
    let l = &pkg.lifecycle;
    let name = &pkg.meta.name;
    let st = state(pkg);
    let crosses: String = l
        .migrations
        .iter()
        .map(|v| {
            format!(
                "\tif pw_lt \"$1\" {w} && ! pw_lt \"$2\" {w}; then return 0; fi\n",
                w = sq(v)
            )
        })
        .collect();
    let stops: String = l
        .units
        .iter()
        .filter(|u| u.restart)
        .map(|u| {
            format!(
                "\tif ! pw_masked {w} && systemctl is-active --quiet {w}; then\n\
                 \t\techo \"{name}: stopping {u} for the data migration\"\n\
                 \t\t{stop} {w} || return 1\n\
                 \t\tcase \" $pw_stopped \" in *\" {u} \"*) ;; *) pw_stopped=\"$pw_stopped {u}\" ;; esac\n\
                 \t\tprintf '%s\\n' \"$pw_stopped\" >{st}/{STOPPED} || return 1\n\tfi\n",
                stop = cmd.stop,
                w = sq(&u.name),
                u = u.name
            )
        })
        .collect();
    let start = cmd.start;
    format!(
        "pw_crosses() {{\n{crosses}\treturn 1\n}}\n\n\
         pw_quiesce() {{\n\tpw_systemd stop before the data migration || return 0\n{stops}}}\n\n\
         pw_resume() {{\n\tsystemctl daemon-reload || :\n\
         \tfor _pw_u in $pw_stopped; do\n\
         \t\t{start} \"$_pw_u\" || echo \"{name}: $_pw_u did not start; see: systemctl status $_pw_u\" >&2\n\tdone\n\
         \trm -f {st}/{STOPPED}\n}}\n\n"
    )
}

fn removal(pkg: &Package) -> String {
    let l = &pkg.lifecycle;
    let (rm, rmd) = if l.units.is_empty() {
        (":", ":")
    } else {
        ("pw_units_remove", "pw_units_removed")
    };
    let mut s = format!(
        "# A real removal only (never the old package's scripts in an upgrade).\n\
         pw_remove() {{\n\t{rm}\n}}\n\npw_removed() {{\n\t{rmd}\n}}\n\n"
    );
    // Purge (deb only): the live configs, packwright's state; data on request.
    let mut p = String::new();
    for c in &l.configs {
        p.push_str(&format!(
            "\trm -f {} {} {}\n",
            sq(c),
            sq(&format!("{c}{}", NEW_SUFFIX)),
            sq(&format!("{c}{}", OLD_SUFFIX))
        ));
    }
    if l.has_state() {
        p.push_str(&format!(
            "\trm -rf {}\n\trmdir {STATE_PARENT} 2>&- || :\n",
            state(pkg)
        ));
    }
    if l.purge_data {
        for d in &l.data_dirs {
            p.push_str(&format!("\trm -rf {}\n", sq(d)));
        }
    }
    // Directories the hook created for the configs go when empty.
    let mut dirs: Vec<&str> = l
        .configs
        .iter()
        .filter_map(|c| c.rsplit_once('/').map(|(d, _)| d))
        .filter(|d| d.len() > 1 && *d != "/etc")
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in dirs.iter().rev() {
        p.push_str(&format!("\trmdir {} 2>&- || :\n", sq(d)));
    }
    s.push_str(&format!("pw_purge() {{\n{p}\t:\n}}\n\n"));
    s
}
