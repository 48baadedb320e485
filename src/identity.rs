//! Which formats exist and what they are, apart from how they are written:
//! a leaf that the plan (which checks options per format) and the writers
//! (which dispatch on it) both use, so neither imports the other for it.

use crate::archive::Compression;

/// How install paths are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Absolute FHS paths (`/usr/bin/x`), for system package managers.
    System,
    /// Relative paths under one `<name>-<version>/` folder (`bin/x`), for
    /// archives unpacked by hand.
    Portable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Deb,
    Rpm,
    Pacman,
    Apk,
    Targz,
    Zip,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Deb,
        Format::Rpm,
        Format::Pacman,
        Format::Apk,
        Format::Targz,
        Format::Zip,
    ];

    /// The name used in the manifest (`only = [...]`, `[format.<key>]`) and CLI.
    pub fn key(self) -> &'static str {
        match self {
            Format::Deb => "deb",
            Format::Rpm => "rpm",
            Format::Pacman => "pacman",
            Format::Apk => "apk",
            Format::Targz => "targz",
            Format::Zip => "zip",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.key() == s)
    }

    /// Known names, for error messages.
    pub fn keys() -> String {
        Format::ALL.map(Format::key).join(", ")
    }

    /// The `[format.<key>]` options this format's writer uses; any other
    /// key set there is refused while planning.
    pub fn option_keys(self) -> &'static [&'static str] {
        match self {
            Format::Deb => &[
                "release",
                "compression",
                "level",
                "section",
                "priority",
                "arch",
                "distribution",
                "hook",
                "fields",
            ],
            Format::Rpm => &[
                "release",
                "compression",
                "level",
                "group",
                "arch",
                "distribution",
                "hook",
                "fields",
            ],
            Format::Pacman => &[
                "release",
                "compression",
                "level",
                "group",
                "arch",
                "hook",
                "fields",
            ],
            Format::Apk => &["release", "compression", "level", "arch", "hook"],
            Format::Targz => &["compression", "level", "target", "arch", "hook"],
            Format::Zip => &["level", "target", "arch", "hook"],
        }
    }

    /// The compressions this format's writer produces (first: the default).
    pub fn compressions(self) -> &'static [Compression] {
        use Compression as C;
        match self {
            Format::Deb => &[C::Xz, C::Zstd, C::Gzip, C::None],
            Format::Rpm | Format::Pacman => &[C::Zstd, C::Xz, C::Gzip, C::None],
            Format::Apk | Format::Targz => &[C::Gzip],
            // Deflate, which is not one of the plan's stream compressions.
            Format::Zip => &[],
        }
    }

    pub fn layout(self) -> Layout {
        match self {
            Format::Deb | Format::Rpm | Format::Pacman | Format::Apk => Layout::System,
            Format::Targz | Format::Zip => Layout::Portable,
        }
    }

    /// Portable archives' default `<os>` in `<os>-<arch>` targets.
    pub fn default_os(self) -> &'static str {
        match self {
            Format::Zip => "windows",
            _ => "linux",
        }
    }
}
