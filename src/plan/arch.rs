//! The one architecture table: every format's name for each architecture.

use crate::format::Format;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
    Armv7,
    I686,
    Riscv64,
    All,
}

/// One row per architecture: the manifest's names (first is canonical) and
/// each format's spelling.
struct Row {
    arch: Arch,
    names: &'static [&'static str],
    deb: &'static str,
    rpm: &'static str,
    pacman: &'static str,
    apk: &'static str,
}

const fn row(
    arch: Arch,
    names: &'static [&'static str],
    deb: &'static str,
    rpm: &'static str,
    pacman: &'static str,
    apk: &'static str,
) -> Row {
    Row {
        arch,
        names,
        deb,
        rpm,
        pacman,
        apk,
    }
}

const TABLE: &[Row] = &[
    row(
        Arch::X86_64,
        &["x86_64", "amd64"],
        "amd64",
        "x86_64",
        "x86_64",
        "x86_64",
    ),
    row(
        Arch::Aarch64,
        &["aarch64", "arm64"],
        "arm64",
        "aarch64",
        "aarch64",
        "aarch64",
    ),
    row(
        Arch::Armv7,
        &["armv7", "armhf", "armv7hl"],
        "armhf",
        "armv7hl",
        "armv7h",
        "armv7",
    ),
    row(
        Arch::I686,
        &["i686", "i386", "x86"],
        "i386",
        "i686",
        "i686",
        "x86",
    ),
    row(
        Arch::Riscv64,
        &["riscv64"],
        "riscv64",
        "riscv64",
        "riscv64",
        "riscv64",
    ),
    row(
        Arch::All,
        &["all", "noarch", "any"],
        "all",
        "noarch",
        "any",
        "noarch",
    ),
];

impl Arch {
    pub fn parse(s: &str) -> Option<Arch> {
        TABLE.iter().find(|r| r.names.contains(&s)).map(|r| r.arch)
    }

    /// The architecture this packwright runs on.
    pub fn host() -> Option<Arch> {
        Arch::parse(std::env::consts::ARCH)
    }

    pub fn known() -> String {
        TABLE
            .iter()
            .map(|r| r.names[0])
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn row(self) -> &'static Row {
        TABLE
            .iter()
            .find(|r| r.arch == self)
            .expect("every arch has a row")
    }

    /// The plan's own name (`x86_64`, `all`), used by portable archives.
    pub fn name(self) -> &'static str {
        self.row().names[0]
    }

    /// The name `format` uses for this architecture.
    pub fn name_for(self, format: Format) -> &'static str {
        let r = self.row();
        match format {
            Format::Deb => r.deb,
            Format::Rpm => r.rpm,
            Format::Pacman => r.pacman,
            Format::Apk => r.apk,
            Format::Targz | Format::Zip => r.names[0],
        }
    }
}
