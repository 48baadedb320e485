//! packwright-hook's commands and options as tables: the binary parses
//! with them (src/hook/args.rs) and `packwright manpage packwright-hook`
//! renders the man page from them, so help and man page cannot drift.

use super::args::{Cmd, Opt};

pub const EXIT_CODES: &str =
    "Exit codes: 0 done (conflicts are reported, not failures), 1 I/O error,
2 bad arguments, missing variables or a state dir others could change, 4 a file does not parse (it is left unchanged),
5 version mismatch, or the package is blocked (check), 6 the live config is newer than the
package (downgrade refused), 7 a symlink or non-regular file where a regular file was expected,
8 another hook holds the lock, 9 a migration or config merge failed and was rolled back (the
message says how to retry or go back), 10 not enough free space for the snapshot (nothing
changed), 11 the snapshot fails its checks (nothing restored), 12 internal error: a merge gave
a file that does not parse (nothing written).";

const fn opt(name: &'static str, value: Option<&'static str>, help: &'static str) -> Opt {
    Opt { name, value, help }
}

const FORMAT: Opt = opt(
    "format",
    Some("F"),
    "yaml | toml | json | env | ini | text (default: from the extension)",
);
const ENV_FILE: Opt = opt(
    "env-file",
    Some("FILE"),
    "Variables for ${VAR} (the environment wins over the file)",
);
const PACKAGE: Opt = opt(
    "package",
    Some("NAME"),
    "An installed package: reads <root>/usr/share/<pkg>/packwright/package.json",
);
const DESC: Opt = opt("desc", Some("FILE"), "An unpacked archive's <dir>/packwright/package.json; relative paths in it resolve against <dir>");
const STATE: Opt = opt(
    "state",
    Some("DIR"),
    "State dir (default <root>/var/lib/packwright/<pkg>; with --desc <dir>/../<pkg>-state)",
);
const PKG_OPTS: &[Opt] = &[
    PACKAGE,
    DESC,
    STATE,
    opt(
        "old",
        Some("VERSION"),
        "The upstream version upgraded from (default: <state>/version)",
    ),
    opt(
        "new",
        Some("VERSION"),
        "The upstream version installed (default: the description's)",
    ),
    ENV_FILE,
    opt(
        "manager",
        Some("M"),
        "deb | rpm | pacman | apk: which retry command a failure prints",
    ),
];

pub static CMDS: &[Cmd] = &[
    Cmd {
        name: "init",
        about: "Render a default/template to the live path (${VAR}, ${VAR:-default})",
        long: "An existing live file is kept unless --force, or unless the admin answers y to\n\"Overwrite? [y/N]\" on a terminal; when overwritten, the old file is kept as\n<live>.packwright-old with the same mode.",
        opts: &[
            opt("template", Some("FILE"), "The default/template to render (required)"),
            opt("live", Some("FILE"), "The live config path to write (required)"),
            opt("force", None, "Replace an existing live file without asking"),
            opt("mode", Some("MODE"), "Mode of a new live file, octal (default 0644)"),
            FORMAT,
            ENV_FILE,
        ],
    },
    Cmd {
        name: "update",
        about: "Three-way merge: keep the admin's edits, take the new default's layout, comments and keys",
        long: "base = the previous default as shipped, live = the admin's file, default = the new\ndefault. Where both changed a key differently the admin's value stays and the new\ndefault is written as <live>.packwright-new. The live file before the merge is kept\nas <live>.packwright-old.",
        opts: &[
            opt("base", Some("FILE"), "The previous default (pristine); without it the new default stands in"),
            opt("default", Some("FILE"), "The new default as shipped by this release (required)"),
            opt("live", Some("FILE"), "The live config the admin edits (required)"),
            opt("version-key", Some("KEY"), "Dotted key of the schema version (set to the new default's value)"),
            opt("dry-run", None, "Print the unified diff and the conflicts; write nothing"),
            opt("rename", Some("OLD=NEW..."), "A key renamed upstream (dotted; repeatable): your value moves to NEW"),
            opt("list-key", Some("LIST=KEY..."), "The key identifying the entries of a list of tables (repeatable; default name, then id)"),
            FORMAT,
            ENV_FILE,
        ],
    },
    Cmd {
        name: "check",
        about: "Compare the live config's version key with the expected version (for ExecStartPre=)",
        long: "Exits 5 with a one-line reason on mismatch. With --package (or --desc), every\nmanaged config is compared with its installed default's version, and a package\nblocked by an upgrade that skipped a required stop release (<state>/blocked) fails\nwith 5 and the blocked message.",
        opts: &[
            opt("live", Some("FILE"), "The live config to check"),
            opt("expect", Some("VERSION"), "The schema version the program expects"),
            opt("version-key", Some("KEY"), "Dotted key of the version inside the file (default: version)"),
            PACKAGE,
            DESC,
            STATE,
            FORMAT,
        ],
    },
    Cmd {
        name: "status",
        about: "Managed files, pristine versions, pending .packwright-new files, conflicts, a blocked upgrade",
        long: "Without --package or --desc: every package with a packwright description.",
        opts: &[PACKAGE, DESC, STATE],
    },
    Cmd {
        name: "install",
        about: "Package mode: init every managed config (a fresh install runs no migration)",
        long: "",
        opts: PKG_OPTS,
    },
    Cmd {
        name: "upgrade",
        about: "Package mode: data migrations, then a three-way update of every managed config",
        long: "Every migration with OLD < version <= NEW not run before runs in version order,\nafter a snapshot of the data dirs and live configs (free space checked first). If a\nmigration or a merge fails, the data dirs and configs are put back and the message\nnames the step, its output, the log, the snapshot, and how to retry (per --manager)\nor go back. No migration runs on a downgrade or without an old version.",
        opts: PKG_OPTS,
    },
    Cmd {
        name: "remove",
        about: "Package mode: nothing to do (configs stay until purge)",
        long: "",
        opts: PKG_OPTS,
    },
    Cmd {
        name: "purge",
        about: "Package mode: delete the live configs and the state dir",
        long: "",
        opts: PKG_OPTS,
    },
    Cmd {
        name: "backup",
        about: "Snapshot the data dirs and live configs now (or --list the snapshots)",
        long: "Snapshots are <state>/backups/<ID>/ with data.tar.zst, SHA256SUMS, config/ and\nmeta.json; the oldest beyond backup_keep (default 2) are removed afterwards.",
        opts: &[PACKAGE, DESC, STATE, opt("list", None, "List the snapshots, oldest first, instead of taking one")],
    },
    Cmd {
        name: "restore",
        about: "Put the data dirs and live configs back from a snapshot",
        long: "The archive is checked against SHA256SUMS before anything is touched; packwright's\nstate dir is never restored over.",
        opts: &[PACKAGE, DESC, STATE, opt("snapshot", Some("ID"), "The snapshot ID (default: the newest)")],
    },
    Cmd {
        name: "own",
        about: "Give a path the package installed its owner (and mode), never through a symlink (for the generated scripts)",
        long: "Walks PATH from the root one component at a time without following a symlink and\nsets the owner and mode on the open file: a symlink at the end gets only its own\nowner (like chown -h); a symlink on the way, a fifo, device or socket is left alone\nand said so on stderr (exit 0).",
        opts: &[
            opt("path", Some("PATH"), "The absolute path (required)"),
            opt("owner", Some("USER:GROUP"), "Names or numeric ids (required)"),
            opt("mode", Some("MODE"), "Octal mode for a regular file or directory"),
        ],
    },
    Cmd {
        name: "recorded-version",
        about: "Print the version packwright recorded for a package (the generated scripts' gate reads it)",
        long: "From <root>/var/lib/packwright/<pkg>/version, else from an older packwright's\n/var/lib/<pkg>/packwright/version, taken only from a regular root-owned file with one\nlink, opened without following a symlink or blocking on a fifo. Prints nothing\nwhen nothing is recorded or trusted (why goes to stderr); exit 0.",
        opts: &[PACKAGE],
    },
    Cmd {
        name: "migrate",
        about: "Show the package's migrations (--status) or run the pending ones by hand",
        long: "`migrate --old OLD --new NEW` runs what `upgrade` would run, with the same\nsnapshot and rollback, but merges no config.",
        opts: &[
            PACKAGE,
            DESC,
            STATE,
            opt("status", None, "Each migration: version, file, done or pending, when"),
            opt("old", Some("VERSION"), "The version upgraded from"),
            opt("new", Some("VERSION"), "The version upgraded to (default: the description's)"),
        ],
    },
];
