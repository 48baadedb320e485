//! The architectures the manifest may name. Each writer spells them its own
//! way (`arch` in its file), as nfpm keeps `archToDebian` in its deb package.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
    Armv7,
    I686,
    Riscv64,
    All,
}

/// The manifest's names for each architecture (first is canonical); the
/// aliases are the formats' own spellings, so either may be written.
const TABLE: &[(Arch, &[&str])] = &[
    (Arch::X86_64, &["x86_64", "amd64"]),
    (Arch::Aarch64, &["aarch64", "arm64"]),
    (Arch::Armv7, &["armv7", "armhf", "armv7hl"]),
    (Arch::I686, &["i686", "i386", "x86"]),
    (Arch::Riscv64, &["riscv64"]),
    (Arch::All, &["all", "noarch", "any"]),
];

impl Arch {
    pub fn parse(s: &str) -> Option<Arch> {
        TABLE
            .iter()
            .find(|(_, names)| names.contains(&s))
            .map(|(a, _)| *a)
    }

    /// The architecture this packwright runs on.
    pub fn host() -> Option<Arch> {
        Arch::parse(std::env::consts::ARCH)
    }

    pub fn known() -> String {
        TABLE
            .iter()
            .map(|(_, names)| names[0])
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The plan's own name (`x86_64`, `all`), used by portable archives.
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(a, _)| *a == self)
            .map(|(_, names)| names[0])
            .expect("every arch has a row")
    }
}
