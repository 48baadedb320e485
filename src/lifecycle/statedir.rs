//! The state dir steps: `pw_state`, `pw_trusted`, `pw_is_version`, the
//! old layout's version and `pw_old`.

use super::steps::{sq, state};
use crate::plan::Package;
use packwright_hook::contract::state::VERSION;
use packwright_hook::contract::{self, STATE_PARENT};

/// Where packwright kept its state before, inside `/var/lib/<name>`, which
/// the service user may own: read once, as hostile, for the version.
fn old_state(pkg: &Package) -> String {
    contract::legacy_state_dir(&pkg.meta.name)
}

/// `pw_state` makes and checks the state dir; `pw_trusted` checks one
/// directory; `pw_is_version` validates what is read back.
pub(super) fn state_steps(pkg: &Package) -> String {
    let name = &pkg.meta.name;
    let st = state(pkg);
    let old = old_state(pkg);
    // An older release's hook lacks `recorded-version` and fails: then the
    // shell's reading below applies.
    let hook = match &pkg.lifecycle.hook {
        Some(h) => format!(
            "\tif [ -x {h} ] && _pw_o=$({h} recorded-version --package {} 2>&-); then\n\t\tprintf '%s\\n' \"$_pw_o\"\n\t\treturn 0\n\tfi\n",
            sq(name)
        ),
        None => String::new(),
    };
    format!(
        "# packwright's state dir, root's alone: what is missing is made with explicit\n\
         # modes (whatever the umask), and a directory on the way that anyone but\n\
         # root could change is refused, so no write below it can be redirected.\n\
         pw_state() {{\n\
         \tfor _pw_d in /var /var/lib {STATE_PARENT} {st}; do\n\
         \t\tif [ ! -e \"$_pw_d\" ] && [ ! -h \"$_pw_d\" ]; then\n\
         \t\t\t_pw_m=0755\n\
         \t\t\tif [ \"$_pw_d\" = {st} ]; then _pw_m=0700; fi\n\
         \t\t\tmkdir -m \"$_pw_m\" \"$_pw_d\" || return 1\n\
         \t\tfi\n\
         \tdone\n\
         \tfor _pw_d in / /var /var/lib {STATE_PARENT} {st}; do\n\
         \t\tpw_trusted \"$_pw_d\" || return 1\n\
         \tdone\n\
         }}\n\n\
         # Whether $1 is a directory (not a symlink) owned by root and writable by\n\
         # neither its group nor others; says why not.\n\
         pw_trusted() {{\n\
         \t# shellcheck disable=SC2012\n\
         \t_pw_l=$(ls -ldn \"$1\") || return 1\n\
         \t# shellcheck disable=SC2086\n\
         \tset -- \"$1\" $_pw_l\n\
         \tcase $2 in\n\
         \td????[!w]??[!w]*)\n\
         \t\tif [ \"$4\" = 0 ]; then return 0; fi\n\
         \t\t;;\n\
         \tesac\n\
         \techo \"{name}: refusing to use packwright's state dir {st}: $1 must be a directory owned by root and writable by no one else (it is $2, owner uid $4)\" >&2\n\
         \treturn 1\n\
         }}\n\n\
         # Whether $1 looks like a version packwright records.\n\
         pw_is_version() {{\n\
         \tcase $1 in\n\
         \t'' | [!0-9A-Za-z]* | *[!0-9A-Za-z.+_~-]*) return 1 ;;\n\
         \tesac\n\
         \t[ ${{#1}} -le 64 ]\n\
         }}\n\n\
         # The version an older packwright recorded in {old}, a\n\
         # directory the service user may control (a fifo planted there would block\n\
         # a reader; a symlink would aim it elsewhere): read by this release's hook,\n\
         # which never follows a link or blocks. Without it (a pre-step runs before\n\
         # the new files are on disk), only a directory chain nobody else can change\n\
         # is read; else nothing is, and the manager's version stands.\n\
         pw_old_layout() {{\n\
         {hook}\
         \tfor _pw_d in / /var /var/lib /var/lib/{name} {old}; do\n\
         \t\tpw_trusted \"$_pw_d\" 2>&- || return 0\n\
         \tdone\n\
         \tif [ -f {old}/{VERSION} ]; then\n\
         \t\tIFS= read -r _pw_o <{old}/{VERSION} || :\n\
         \t\tprintf '%s\\n' \"$_pw_o\"\n\
         \tfi\n\
         }}\n\n"
    )
}

/// The shell functions for `pkg`.
/// `pw_old`: the version this machine's config and data belong to.
pub(super) fn old_steps(pkg: &Package) -> String {
    let l = &pkg.lifecycle;
    let st = state(pkg);
    let mut s = String::new();
    if l.has_state() {
        s.push('\n');
        s.push_str(&state_steps(pkg));
        s.push_str(&format!(
            "# The version this machine's config and data belong to: the last one\n\
             # packwright set up (it survives removal), else the manager's.\n\
             pw_old() {{\n\
             \t_pw_v=\n\
             \tif [ -f {st}/{VERSION} ] && pw_state 2>&-; then\n\
             \t\tIFS= read -r _pw_v <{st}/{VERSION} || :\n\
             \telif [ ! -e {st}/{VERSION} ]; then\n\
             \t\t_pw_v=$(pw_old_layout)\n\
             \tfi\n\
             \tif pw_is_version \"$_pw_v\"; then\n\
             \t\tprintf '%s\\n' \"$_pw_v\"\n\
             \telif [ -n \"$1\" ]; then\n\
             \t\tpw_upstream \"$1\"\n\
             \tfi\n\
             }}\n\n"
        ));
    } else {
        s.push_str(
            "\n# The version this machine's config and data belong to: the manager's.\n\
             pw_old() {\n\
             \tif [ -n \"$1\" ]; then pw_upstream \"$1\"; fi\n\
             }\n\n",
        );
    }
    s
}
