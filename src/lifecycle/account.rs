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

/// `pw_own`: owner and setuid/setgid modes of the files not owned by root.
pub(super) fn own_step(pkg: &Package) -> String {
    let mut s = String::new();
    let own = owned(pkg);
    if !own.is_empty() {
        s.push_str("pw_own() {\n");
        for e in own {
            // -h: the service user may have swapped the path for a symlink
            // (to /etc/shadow); the link is changed, never what it names.
            s.push_str(&format!(
                "\tchown -h {} {} || return 1\n",
                sq(&format!("{}:{}", e.owner, e.group)),
                sq(&e.path)
            ));
            // The manager unpacked the mode already; chown cleared only the
            // setuid/setgid bits, and chmod follows symlinks: only then.
            if e.mode & 0o7000 != 0 {
                s.push_str(&format!(
                    "\tif [ ! -h {p} ]; then chmod {:04o} {p} || return 1; fi\n",
                    e.mode,
                    p = sq(&e.path)
                ));
            }
        }
        s.push_str("}\n\n");
    }
    s
}
