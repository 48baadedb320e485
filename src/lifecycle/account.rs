//! The service users and the owners of the package's files: `pw_users`
//! (systemd-sysusers, else the account helpers) and `pw_own`.

use super::steps::{sq, ManagerProfile};
use crate::plan::{Entry, Package};

const ACCOUNT_SH: &str = include_str!("../../scripts/account.sh");

/// `text` without the `elif pw_cmd <tool>; then` branch (up to the next
/// `else` at the same depth).
fn without_branch(text: &str, tool: &str) -> String {
    let start = format!("\telif pw_cmd {tool}; then\n");
    match text.find(&start) {
        Some(a) => {
            // The `else` of the same if: one tab, at the start of a line.
            let b = a
                + 1
                + text[a..]
                    .find("\n\telse\n")
                    .expect("an else after the branch");
            format!("{}{}", &text[..a], &text[b..])
        }
        None => text.to_string(),
    }
}

/// Package paths owned by someone other than root: the manager may unpack
/// them before the user exists, so the post-step sets owner and mode.
pub(super) fn owned(pkg: &Package) -> Vec<&Entry> {
    pkg.tree
        .iter()
        .filter(|e| {
            (e.owner != "root" || e.group != "root")
                && !matches!(e.kind, crate::plan::Kind::Symlink(_))
        })
        .collect()
}

/// `pw_group`/`pw_user` (without the busybox branches where the manager has
/// shadow's tools) and `pw_users`.
pub(super) fn users_steps(pkg: &Package, mgr: &ManagerProfile) -> String {
    let l = &pkg.lifecycle;
    let name = &pkg.meta.name;
    let mut s = String::new();
    if mgr.busybox_accounts {
        s.push_str(ACCOUNT_SH);
    } else {
        s.push_str(&without_branch(
            &without_branch(ACCOUNT_SH, "addgroup"),
            "adduser",
        ));
    }
    s.push_str("\npw_users() {\n");
    s.push_str(&format!(
        "\tif pw_cmd systemd-sysusers; then\n\
         \t\t# Inline: in a pre-step the package's sysusers.d file is not on disk yet.\n\
         \t\tsystemd-sysusers --replace=/usr/lib/sysusers.d/{name}.conf - <<'PACKWRIGHT_SYSUSERS' || return 1\n{}PACKWRIGHT_SYSUSERS\n\tfi\n",
        crate::plan::sysusers(&l.users, name)
    ));
    for u in &l.users {
        let sys = if u.system { 1 } else { 0 };
        s.push_str(&format!(
            "\tpw_group {} {sys} || return 1\n\tpw_user {} {} {} {} {sys} || return 1\n",
            sq(&u.group),
            sq(&u.name),
            sq(&u.group),
            sq(&u.home),
            sq(u.shell.as_deref().unwrap_or(""))
        ));
    }
    s.push_str("}\n\n");
    s
}

/// `pw_own` for the files not owned by root (nothing when there are none).
pub(super) fn own_step(pkg: &Package) -> String {
    let own = owned(pkg);
    if own.is_empty() {
        return String::new();
    }
    own_steps(&pkg.meta.name, &own, pkg.lifecycle.hook.as_deref())
}

/// `pw_own`: owners (and setuid/setgid modes, which chown cleared) of the
/// paths the package gives to someone else. Their directories may be the
/// service user's, who can swap any component for a symlink between a
/// check and a use: the hook walks each path without following one. A
/// package without the hook does it in the shell only below directories
/// nobody but root can change, and says what it left.
fn own_steps(name: &str, own: &[&Entry], hook: Option<&str>) -> String {
    let mut s = String::from("pw_own() {\n");
    if hook.is_none() {
        s.insert_str(
            0,
            "# Whether every directory above $1 is root's and writable by no one else.\n\
             pw_parents_safe() {\n\t_pw_p=$1\n\twhile _pw_p=${_pw_p%/*}; [ -n \"$_pw_p\" ]; do\n\
             \t\t# shellcheck disable=SC2012\n\t\t_pw_l=$(ls -ldn \"$_pw_p\") || return 1\n\
             \t\t# shellcheck disable=SC2086\n\t\tset -- $_pw_l\n\
             \t\tcase $1 in d????[!w]??[!w]*) [ \"$3\" = 0 ] || return 1 ;; *) return 1 ;; esac\n\
             \tdone\n}\n\n",
        );
    }
    for e in own {
        let who = sq(&format!("{}:{}", e.owner, e.group));
        let p = sq(&e.path);
        // The manager unpacked the mode already; chown clears only the
        // setuid/setgid bits, so only then is the mode set again.
        let special = e.mode & 0o7000 != 0;
        match hook {
            Some(h) => {
                let mode = if special {
                    format!(" --mode {:04o}", e.mode)
                } else {
                    String::new()
                };
                s.push_str(&format!(
                    "\t{h} own --path {p} --owner {who}{mode} || return 1\n"
                ));
            }
            None => {
                let chmod = if special {
                    format!(
                        "\t\tif [ ! -h {p} ]; then chmod {:04o} {p} || return 1; fi\n",
                        e.mode
                    )
                } else {
                    String::new()
                };
                s.push_str(&format!(
                    "\tif pw_parents_safe {p}; then\n\t\tchown -h {who} {p} || return 1\n{chmod}\telse\n\
                     \t\techo \"{name}: left {p} as unpacked: a directory above it is not root's alone\" >&2\n\tfi\n"
                ));
            }
        }
    }
    s.push_str("}\n\n");
    s
}
