//! Relations as rpm dependencies. The manifest may write them the rpm way
//! (`foo >= 1.2`), the Debian way (`foo (>= 1.2)`, `a | b`) or as an rpm
//! rich dependency (`(a or b)`), so one list serves every format.

use rpm::IndexTag;

const LESS: u32 = 1 << 1;
const GREATER: u32 = 1 << 2;
const EQUAL: u32 = 1 << 3;
pub(super) const POSTTRANS: u32 = 1 << 5;
const INTERP: u32 = 1 << 8;
pub(super) const SCRIPT_PRE: u32 = 1 << 9;
pub(super) const SCRIPT_POST: u32 = 1 << 10;
pub(super) const SCRIPT_PREUN: u32 = 1 << 11;
pub(super) const SCRIPT_POSTUN: u32 = 1 << 12;
const RPMLIB: u32 = 1 << 24;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dep {
    pub name: String,
    pub version: String,
    pub flags: u32,
}

impl Dep {
    pub fn eq(name: &str, evr: &str) -> Dep {
        Dep {
            name: name.into(),
            version: evr.into(),
            flags: EQUAL,
        }
    }

    /// `rpmlib(feature) <= version`: what rpm must support to install it.
    pub fn rpmlib(feature: &str, version: &str) -> Dep {
        Dep {
            name: format!("rpmlib({feature})"),
            version: version.into(),
            flags: RPMLIB | LESS | EQUAL,
        }
    }

    /// `Requires(pre): /bin/sh` and the like; `when` is the scriptlet's
    /// flag (`SCRIPT_PRE` ...).
    pub fn interp(when: u32) -> Dep {
        Dep {
            name: "/bin/sh".into(),
            version: String::new(),
            flags: INTERP | when,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    Requires,
    Recommends,
    Suggests,
    Conflicts,
    Provides,
    Obsoletes,
}

impl Sense {
    /// (names, flags, versions) tags.
    pub fn tags(self) -> (IndexTag, IndexTag, IndexTag) {
        use IndexTag::*;
        match self {
            Sense::Requires => (
                RPMTAG_REQUIRENAME,
                RPMTAG_REQUIREFLAGS,
                RPMTAG_REQUIREVERSION,
            ),
            Sense::Recommends => (
                RPMTAG_RECOMMENDNAME,
                RPMTAG_RECOMMENDFLAGS,
                RPMTAG_RECOMMENDVERSION,
            ),
            Sense::Suggests => (
                RPMTAG_SUGGESTNAME,
                RPMTAG_SUGGESTFLAGS,
                RPMTAG_SUGGESTVERSION,
            ),
            Sense::Conflicts => (
                RPMTAG_CONFLICTNAME,
                RPMTAG_CONFLICTFLAGS,
                RPMTAG_CONFLICTVERSION,
            ),
            Sense::Provides => (
                RPMTAG_PROVIDENAME,
                RPMTAG_PROVIDEFLAGS,
                RPMTAG_PROVIDEVERSION,
            ),
            Sense::Obsoletes => (
                RPMTAG_OBSOLETENAME,
                RPMTAG_OBSOLETEFLAGS,
                RPMTAG_OBSOLETEVERSION,
            ),
        }
    }
}

/// rpm's `%{_isa}` suffix for an rpm architecture (`x86_64` → `x86-64`),
/// provided as `name(x86-64)` like rpmbuild does; none for noarch.
pub fn isa(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86_64" => "x86-64",
        "aarch64" => "aarch-64",
        "i686" => "x86-32",
        "armv7hl" => "arm-32",
        "riscv64" => "riscv-64",
        _ => return None,
    })
}

fn op(s: &str) -> Option<u32> {
    Some(match s {
        ">=" => GREATER | EQUAL,
        "<=" => LESS | EQUAL,
        "=" | "==" => EQUAL,
        ">" | ">>" => GREATER,
        "<" | "<<" => LESS,
        _ => return None,
    })
}

fn op_text(flags: u32) -> &'static str {
    match flags & (LESS | GREATER | EQUAL) {
        f if f == GREATER | EQUAL => ">=",
        f if f == LESS | EQUAL => "<=",
        EQUAL => "=",
        GREATER => ">",
        LESS => "<",
        _ => "",
    }
}

/// A capability name: a package (`bash`), a file (`/bin/sh`) or a virtual
/// name such as `perl(Data::Dumper)` or `libc.so.6()(64bit)`.
fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && !n.contains([',', '|', '<', '>', '='])
        && n.matches('(').count() == n.matches(')').count()
}

/// One simple relation: `name`, `name OP version` or `name (OP version)`.
fn simple(s: &str) -> Result<Dep, String> {
    let s = s.trim();
    let (name, rest) = match s.find(|c: char| c.is_whitespace() || "<>=".contains(c)) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    };
    let rest = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(rest)
        .trim();
    let bad = || format!("`{s}` is not a relation: write `name`, `name >= 1.0` or `name (>= 1.0)`");
    if !valid_name(name) {
        return Err(bad());
    }
    if rest.is_empty() {
        return Ok(Dep {
            name: name.into(),
            version: String::new(),
            flags: 0,
        });
    }
    let split = rest
        .find(|c: char| !"<>=".contains(c))
        .unwrap_or(rest.len());
    let (o, v) = (&rest[..split], rest[split..].trim());
    let flags = op(o).ok_or_else(bad)?;
    if v.is_empty() || v.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok(Dep {
        name: name.into(),
        version: v.into(),
        flags,
    })
}

/// Parse one manifest relation.
pub fn parse(s: &str) -> Result<Dep, String> {
    let t = s.trim();
    if t.starts_with('(') {
        // An rpm rich dependency, passed through as rpm will check it.
        if t.ends_with(')') && t.matches('(').count() == t.matches(')').count() {
            return Ok(Dep {
                name: t.into(),
                version: String::new(),
                flags: 0,
            });
        }
        return Err(format!("`{t}` is not a balanced rich dependency"));
    }
    if t.contains('|') {
        // Debian alternatives become the rich dependency `(a or b)`.
        let alts = t
            .split('|')
            .map(|a| {
                simple(a).map(|d| match d.flags {
                    0 => d.name,
                    f => format!("{} {} {}", d.name, op_text(f), d.version),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Dep {
            name: format!("({})", alts.join(" or ")),
            version: String::new(),
            flags: 0,
        });
    }
    simple(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings() {
        let d = parse("libc6 (>= 2.34)").unwrap();
        assert_eq!(
            (d.name.as_str(), d.version.as_str(), d.flags),
            ("libc6", "2.34", GREATER | EQUAL)
        );
        let d = parse("glibc >= 2.34").unwrap();
        assert_eq!((d.name.as_str(), d.version.as_str()), ("glibc", "2.34"));
        assert_eq!(parse("foo (<< 2)").unwrap().flags, LESS);
        assert_eq!(parse("foo = 1:2.0-1").unwrap().version, "1:2.0-1");
        assert_eq!(parse("bash").unwrap().flags, 0);
        assert_eq!(parse("/bin/sh").unwrap().name, "/bin/sh");
        assert_eq!(
            parse("perl(Data::Dumper)").unwrap().name,
            "perl(Data::Dumper)"
        );
        let d = parse("libc.so.6()(64bit) >= 0").unwrap();
        assert_eq!(d.name, "libc.so.6()(64bit)");
    }

    #[test]
    fn alternatives_and_rich() {
        assert_eq!(parse("a (>= 1) | b").unwrap().name, "(a >= 1 or b)");
        assert_eq!(parse("(a or b)").unwrap().name, "(a or b)");
        assert!(parse("(a or b").is_err());
    }

    #[test]
    fn nonsense_is_rejected() {
        assert!(parse("foo >=").is_err());
        assert!(parse("foo ~> 1").is_err());
        assert!(parse("").is_err());
        assert!(parse("a, b").is_err());
    }
}
