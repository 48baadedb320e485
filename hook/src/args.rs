//! A small command-line parser for packwright-hook. The hook ships inside
//! every package and must stay under 2 MiB static (issue #4); clap's builder,
//! help renderer and suggestions cost about a quarter of a megabyte there,
//! so the hook describes its commands as tables and parses `--name VALUE`,
//! `--name=VALUE` and `--flag` itself. The main `packwright` binary keeps clap.

use std::collections::BTreeMap;
use std::fmt::Write as _;

pub struct Opt {
    pub name: &'static str,
    /// Placeholder of the value (`FILE`), or `None` for a flag.
    pub value: Option<&'static str>,
    pub help: &'static str,
}

pub struct Cmd {
    pub name: &'static str,
    pub about: &'static str,
    /// Further paragraphs for `<cmd> --help`.
    pub long: &'static str,
    pub opts: &'static [Opt],
}

/// What the command line asked for.
pub enum Parsed {
    Help(String),
    Version,
    Run(Matches),
}

pub struct Matches {
    pub cmd: &'static str,
    pub root: Option<String>,
    pub json: bool,
    values: BTreeMap<&'static str, String>,
}

impl Matches {
    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    /// Every value of a repeatable option, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        let v = self.values.get(name).map_or("", |v| v.as_str());
        v.lines().map(str::to_string).collect()
    }

    pub fn flag(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// A required option, or a usage error naming it.
    pub fn need(&self, name: &str) -> Result<String, String> {
        self.get(name)
            .ok_or_else(|| format!("{}: --{name} is required", self.cmd))
    }

    /// Refuse two options that exclude each other.
    pub fn exclusive(&self, a: &str, b: &str) -> Result<(), String> {
        if self.values.contains_key(a) && self.values.contains_key(b) {
            return Err(format!("{}: --{a} and --{b} exclude each other", self.cmd));
        }
        Ok(())
    }
}

pub const GLOBAL: &[Opt] = &[
    Opt {
        name: "root",
        value: Some("DIR"),
        help: "Act inside this root (a chroot or test root), like `dpkg --root`: absolute paths are taken below it",
    },
    Opt {
        name: "json",
        value: None,
        help: "Print a JSON report on stdout instead of plain lines",
    },
];

/// Parse `args` (without the program name). `Err` is a usage error (exit 2).
pub fn parse(cmds: &'static [Cmd], args: &[String]) -> Result<Parsed, String> {
    let mut cmd: Option<&'static Cmd> = None;
    let mut m = Matches {
        cmd: "",
        root: None,
        json: false,
        values: BTreeMap::new(),
    };
    let mut help = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--help" || a == "-h" {
            help = true;
            continue;
        }
        if a == "--version" || a == "-V" {
            return Ok(Parsed::Version);
        }
        let Some(body) = a.strip_prefix("--") else {
            match cmd {
                None if a == "help" => help = true,
                None => {
                    cmd = Some(cmds.iter().find(|c| c.name == a).ok_or_else(|| {
                        format!("unknown command {a:?}; the commands are {}", names(cmds))
                    })?);
                    m.cmd = cmd.map(|c| c.name).unwrap_or_default();
                }
                Some(c) => return Err(format!("{}: unexpected argument {a:?}", c.name)),
            }
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let local = cmd.and_then(|c| c.opts.iter().find(|o| o.name == name));
        let opt = local
            .or_else(|| GLOBAL.iter().find(|o| o.name == name))
            .ok_or_else(|| match cmd {
                Some(c) => format!(
                    "{}: unknown option --{name} (see packwright-hook {} --help)",
                    c.name, c.name
                ),
                None => format!(
                    "unknown option --{name} before the command (see packwright-hook --help)"
                ),
            })?;
        let value = match (opt.value, inline) {
            (None, None) => String::new(),
            (None, Some(_)) => return Err(format!("--{name} takes no value")),
            (Some(_), Some(v)) => v,
            (Some(p), None) => it
                .next()
                .cloned()
                .ok_or_else(|| format!("--{name} needs a value ({p})"))?,
        };
        match name {
            "root" if local.is_none() => m.root = Some(value),
            "json" if local.is_none() => m.json = true,
            // A placeholder ending in `...` marks an option that may repeat.
            _ if opt.value.is_some_and(|p| p.ends_with("...")) => {
                let v = m.values.entry(opt.name).or_default();
                v.push_str(&value);
                v.push('\n');
            }
            _ => {
                if m.values.insert(opt.name, value).is_some() {
                    return Err(format!("--{name} given twice"));
                }
            }
        }
    }
    match (cmd, help) {
        (Some(c), true) => Ok(Parsed::Help(cmd_help(c))),
        (None, _) => Ok(Parsed::Help(top_help(cmds))),
        (Some(_), false) => Ok(Parsed::Run(m)),
    }
}

fn names(cmds: &[Cmd]) -> String {
    cmds.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
}

fn opt_lines(out: &mut String, opts: &[Opt]) {
    for o in opts {
        let left = match o.value {
            Some(v) => format!("--{} <{v}>", o.name),
            None => format!("--{}", o.name),
        };
        let _ = writeln!(out, "  {left:<24} {}", o.help);
    }
}

pub fn top_help(cmds: &[Cmd]) -> String {
    let mut s = String::from(
        "Owns a package's config files (init, three-way update, check), snapshots its data dirs and runs its data migrations\n\nUsage: packwright-hook [--root DIR] [--json] <COMMAND> [OPTIONS]\n\nCommands:\n",
    );
    for c in cmds {
        let _ = writeln!(s, "  {:<10} {}", c.name, c.about);
    }
    s.push_str("\nOptions:\n");
    opt_lines(&mut s, GLOBAL);
    s.push_str("  --help                   Print help (`packwright-hook <COMMAND> --help` for a command)\n  --version                Print version\n");
    s
}

pub fn cmd_help(c: &Cmd) -> String {
    let mut s = format!("{}\n", c.about);
    if !c.long.is_empty() {
        let _ = writeln!(s, "\n{}", c.long);
    }
    let _ = writeln!(
        s,
        "\nUsage: packwright-hook [--root DIR] [--json] {} [OPTIONS]\n\nOptions:",
        c.name
    );
    opt_lines(&mut s, c.opts);
    opt_lines(&mut s, GLOBAL);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    static CMDS: &[Cmd] = &[Cmd {
        name: "check",
        about: "Check",
        long: "",
        opts: &[
            Opt {
                name: "live",
                value: Some("FILE"),
                help: "",
            },
            Opt {
                name: "dry-run",
                value: None,
                help: "",
            },
        ],
    }];

    fn run(a: &[&str]) -> Result<Parsed, String> {
        parse(CMDS, &a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_values_flags_and_globals_anywhere() {
        let Ok(Parsed::Run(m)) = run(&["--root", "/r", "check", "--live=x", "--dry-run", "--json"])
        else {
            panic!()
        };
        assert_eq!(
            (m.cmd, m.root.as_deref(), m.json),
            ("check", Some("/r"), true)
        );
        assert_eq!(m.get("live").as_deref(), Some("x"));
        assert!(m.flag("dry-run") && !m.flag("live2"));
        assert!(run(&["check", "--nope"])
            .err()
            .unwrap()
            .contains("unknown option --nope"));
        assert!(run(&["check", "--live"])
            .err()
            .unwrap()
            .contains("needs a value"));
        assert!(run(&["frob"]).err().unwrap().contains("unknown command"));
        assert!(
            matches!(run(&["check", "--help"]), Ok(Parsed::Help(h)) if h.contains("--live <FILE>"))
        );
        assert!(matches!(run(&[]), Ok(Parsed::Help(_))));
    }
}
