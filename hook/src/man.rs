//! packwright-hook(1), rendered from the same tables the binary parses with.
//! Only `packwright manpage packwright-hook` calls this: the hook binary
//! itself does not carry it.

use super::args::{Cmd, Opt, GLOBAL};
use super::cli::{CMDS, EXIT_CODES};
use std::fmt::Write as _;

/// roff text: backslashes and hyphens escaped, no line starting with a dot.
fn esc(s: &str) -> String {
    let t = s.replace('\\', "\\e").replace('-', "\\-");
    t.lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn opts(s: &mut String, list: &[Opt]) {
    for o in list {
        let value = o.value.map(|v| format!(" \\fI{v}\\fR")).unwrap_or_default();
        let _ = write!(
            s,
            ".TP\n\\fB\\-\\-{}\\fR{value}\n{}\n",
            esc(o.name),
            esc(o.help)
        );
    }
}

pub fn render(version: &str) -> String {
    render_with(CMDS, version)
}

fn render_with(cmds: &[Cmd], version: &str) -> String {
    let mut s = format!(
        ".TH PACKWRIGHT\\-HOOK 1 \"\" \"packwright-hook {}\" \"User Commands\"\n\
         .SH NAME\n\
         packwright\\-hook \\- owns a package's config files, snapshots its data and runs its migrations\n\
         .SH SYNOPSIS\n\
         \\fBpackwright\\-hook\\fR [\\fB\\-\\-root\\fR \\fIDIR\\fR] [\\fB\\-\\-json\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n\
         .SH DESCRIPTION\n\
         packwright\\-hook ships inside the packages packwright builds. The packages' \
         maintainer scripts call it to render config files on first install, \
         merge the admin's edits with each release's new defaults on upgrade, \
         snapshot data directories and run data migrations (rolled back when one fails). \
         Services call \\fBcheck\\fR before they start. Admins can run every command by hand.\n",
        esc(version)
    );
    s.push_str(".SH OPTIONS\n");
    opts(&mut s, GLOBAL);
    s.push_str(".TP\n\\fB\\-\\-help\\fR\nPrint help (also after a command).\n.TP\n\\fB\\-\\-version\\fR\nPrint the version.\n");
    s.push_str(".SH COMMANDS\n");
    for c in cmds {
        let _ = write!(s, ".SS \\fB{}\\fR\n{}\n", esc(c.name), esc(c.about));
        if !c.long.is_empty() {
            let _ = write!(s, ".PP\n{}\n", esc(c.long));
        }
        opts(&mut s, c.opts);
    }
    let codes = EXIT_CODES
        .trim_start_matches("Exit codes: ")
        .replace('\n', " ");
    let _ = write!(
        s,
        ".SH EXIT STATUS\n{}\n\
         .SH FILES\n\
         .TP\n\\fI/usr/share/\\fRpkg\\fI/packwright/package.json\\fR\nThe package's description: managed configs, upgrade stops, data dirs, migrations.\n\
         .TP\n\\fI/var/lib/packwright/\\fRpkg\\fI/\\fR\nState: pristine defaults, conflicts, migrations run, snapshots (\\fIbackups/\\fR), logs. \
         Root-owned 0700; refused when it or a directory above it is not owned by root or is writable by group or others. \
         An older packwright's state in \\fI/var/lib/\\fRpkg\\fI/packwright/\\fR is taken over once, as untrusted input.\n\
         .SH SEE ALSO\n\\fBpackwright\\fR(1)\n",
        esc(&codes)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_and_option_is_in_the_page() {
        let page = render("1.0");
        for c in CMDS {
            assert!(
                page.contains(&format!(".SS \\fB{}\\fR", esc(c.name))),
                "{}",
                c.name
            );
            for o in c.opts {
                assert!(
                    page.contains(&format!("\\fB\\-\\-{}\\fR", esc(o.name))),
                    "{}",
                    o.name
                );
            }
        }
        assert!(!page
            .lines()
            .any(|l| l.starts_with('.') && l.len() > 1 && l.as_bytes()[1] == b' '));
        assert_eq!(esc(".x -y \\"), "\\&.x \\-y \\e");
    }
}
