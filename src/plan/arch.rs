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

/// (arch, manifest name and aliases, deb, rpm, pacman, apk)
const TABLE: &[(Arch, &[&str], &str, &str, &str, &str)] = &[
    (
        Arch::X86_64,
        &["x86_64", "amd64"],
        "amd64",
        "x86_64",
        "x86_64",
        "x86_64",
    ),
    (
        Arch::Aarch64,
        &["aarch64", "arm64"],
        "arm64",
        "aarch64",
        "aarch64",
        "aarch64",
    ),
    (
        Arch::Armv7,
        &["armv7", "armhf", "armv7hl"],
        "armhf",
        "armv7hl",
        "armv7h",
        "armv7",
    ),
    (
        Arch::I686,
        &["i686", "i386", "x86"],
        "i386",
        "i686",
        "i686",
        "x86",
    ),
    (
        Arch::Riscv64,
        &["riscv64"],
        "riscv64",
        "riscv64",
        "riscv64",
        "riscv64",
    ),
    (
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
        TABLE.iter().find(|r| r.1.contains(&s)).map(|r| r.0)
    }

    pub fn known() -> String {
        TABLE.iter().map(|r| r.1[0]).collect::<Vec<_>>().join(", ")
    }

    fn row(
        self,
    ) -> &'static (
        Arch,
        &'static [&'static str],
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ) {
        TABLE
            .iter()
            .find(|r| r.0 == self)
            .expect("every arch has a row")
    }

    /// The plan's own name (`x86_64`, `all`), used by portable archives.
    pub fn name(self) -> &'static str {
        self.row().1[0]
    }

    /// The name `format` uses for this architecture.
    pub fn name_for(self, format: Format) -> &'static str {
        let r = self.row();
        match format {
            Format::Deb => r.2,
            Format::Rpm => r.3,
            Format::Targz | Format::Zip => r.1[0],
        }
    }
}
