//! The closed set of output formats. Adding one touches this file, one new
//! writer file, and its tests.

mod apk;
mod deb;
mod pacman;
mod rpm;
mod targz;
mod zip;

use crate::error::{Error, IoContext, Result};
use crate::plan::{Layout, Package};
use crate::report::Report;
use std::path::{Path, PathBuf};

/// Signing keys: build inputs, not manifest data (they never enter the plan).
#[derive(Debug, Clone, Default)]
pub struct Keys {
    /// OpenPGP secret key (armored) for rpm signatures.
    pub pgp: Option<PathBuf>,
    pub pgp_passphrase: Option<String>,
    /// RSA private key (PEM) for apk signatures.
    pub rsa: Option<PathBuf>,
    /// apk key name, e.g. `builder@example.org-6123abcd.rsa.pub`; default:
    /// the key file's name with `.pub` appended.
    pub rsa_name: Option<String>,
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

    pub fn layout(self) -> Layout {
        match self {
            Format::Deb | Format::Rpm | Format::Pacman | Format::Apk => Layout::System,
            Format::Targz | Format::Zip => Layout::Portable,
        }
    }

    /// The artifact's file name under dist/.
    pub fn file_name(self, pkg: &Package) -> Result<String> {
        match self {
            Format::Deb => deb::file_name(pkg),
            Format::Rpm => rpm::file_name(pkg),
            Format::Pacman => pacman::file_name(pkg),
            Format::Apk => apk::file_name(pkg),
            Format::Targz => Ok(format!("{}.tar.gz", pkg.meta.portable_stem())),
            Format::Zip => Ok(format!("{}.zip", pkg.meta.portable_stem())),
        }
    }

    fn write(
        self,
        pkg: &Package,
        out: &mut std::fs::File,
        spool: &Path,
        keys: &Keys,
        report: &dyn Report,
    ) -> Result<()> {
        match self {
            Format::Deb => deb::write(pkg, out, spool, report),
            Format::Rpm => rpm::write(pkg, out, spool, keys, report),
            Format::Pacman => pacman::write(pkg, out, report),
            Format::Apk => apk::write(pkg, out, spool, keys, report),
            Format::Targz => targz::write(pkg, out, report),
            Format::Zip => zip::write(pkg, out, report),
        }
    }

    /// Every check a writer makes before its first byte, so that a bad
    /// input for one format stops the build before any format is written.
    pub fn preflight(self, pkg: &Package, keys: &Keys) -> Result<()> {
        self.file_name(pkg)?;
        match self {
            Format::Zip => zip::check(pkg),
            Format::Rpm => rpm::check(pkg).and_then(|_| rpm::check_keys(keys)),
            Format::Pacman => pacman::check(pkg),
            Format::Apk => apk::check(pkg).and_then(|_| apk::check_keys(keys)),
            Format::Deb | Format::Targz => Ok(()),
        }
    }

    /// Write the artifact for `pkg` into `dir`. The bytes go to a temporary
    /// name in the same directory and are renamed only when complete, so an
    /// interrupted build never leaves a file under the final name.
    pub fn build(
        self,
        pkg: &Package,
        dir: &Path,
        keys: &Keys,
        report: &dyn Report,
    ) -> Result<PathBuf> {
        let name = self.file_name(pkg)?;
        std::fs::create_dir_all(dir).at(dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".packwright-tmp")
            .tempfile_in(dir)
            .at(dir)?;
        self.write(pkg, tmp.as_file_mut(), dir, keys, report)?;
        tmp.as_file().sync_all().at(tmp.path())?;
        let dest = dir.join(&name);
        tmp.persist(&dest).map_err(|e| Error::io(&dest, e.error))?;
        // Artifacts are for sharing: 0644 whatever the umask or tempfile's 0600.
        set_mode(&dest, 0o644)?;
        Ok(dest)
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).at(path)
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> Result<()> {
    Ok(())
}

/// Every format name the manifest may use, including those whose writer is
/// not built yet (they are accepted in `only` and `[format.*]`).
pub const NAMES: [&str; 6] = ["deb", "rpm", "pacman", "apk", "zip", "targz"];

impl Format {
    /// Portable archives' default `<os>` in `<os>-<arch>` targets.
    pub fn default_os(self) -> &'static str {
        match self {
            Format::Zip => "windows",
            _ => "linux",
        }
    }
}
