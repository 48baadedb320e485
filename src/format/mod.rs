//! The closed set of output formats. Adding one touches this file, one new
//! writer file, and its tests.

mod apk;
mod deb;
mod pacman;
mod rpm;
mod targz;
mod zip;

use crate::error::{Error, IoContext, Result};
use crate::plan::{Compression, Layout, Package};
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

    /// Check everything this format needs from `pkg` and `keys` and decide
    /// it: versions, control text, relations, the signing key (loaded once).
    /// Only I/O can fail after this, so the pipeline prepares every format
    /// before it writes the first byte of any.
    pub fn prepare<'a>(self, pkg: &'a Package, keys: &Keys) -> Result<Prepared<'a>> {
        let (file_name, job) = match self {
            Format::Deb => (deb::file_name(pkg)?, Job::Deb(deb::prepare(pkg)?)),
            Format::Rpm => (
                rpm::file_name(pkg)?,
                Job::Rpm(Box::new(rpm::prepare(pkg, keys)?)),
            ),
            Format::Pacman => (pacman::file_name(pkg)?, Job::Pacman(pacman::prepare(pkg)?)),
            Format::Apk => (
                apk::file_name(pkg)?,
                Job::Apk(Box::new(apk::prepare(pkg, keys)?)),
            ),
            Format::Targz => (format!("{}.tar.gz", pkg.meta.portable_stem()), Job::Targz),
            Format::Zip => {
                zip::check(pkg)?;
                (format!("{}.zip", pkg.meta.portable_stem()), Job::Zip)
            }
        };
        check_file_name(self, &file_name)?;
        let warnings = match self {
            Format::Rpm => rpm::warnings(pkg),
            _ => Vec::new(),
        };
        Ok(Prepared {
            format: self,
            file_name,
            warnings,
            pkg,
            job,
        })
    }
}

/// A name built from manifest strings must stay one file inside `--out`.
fn check_file_name(format: Format, name: &str) -> Result<()> {
    let one = std::path::Path::new(name).components().count() == 1
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control);
    if one && name.len() <= 255 {
        return Ok(());
    }
    Err(Error::format(
        format.key(),
        "package",
        format!("the artifact name {name:?} is not one file name of at most 255 bytes: check package.version, package.release and the format's target"),
    ))
}

/// A format's validated plan: what its writer needs, already decided.
enum Job {
    Deb(deb::Job),
    // Boxed: the loaded signing keys are large.
    Rpm(Box<rpm::Job>),
    Pacman(pacman::Job),
    Apk(Box<apk::Job>),
    Targz,
    Zip,
}

/// One artifact, checked and ready to write.
pub struct Prepared<'a> {
    pub format: Format,
    /// The artifact's file name under the output directory.
    pub file_name: String,
    /// What the package will not do although the manifest asks for it.
    pub warnings: Vec<String>,
    pkg: &'a Package,
    job: Job,
}

impl Prepared<'_> {
    fn write_to(self, out: &mut std::fs::File, spool: &Path, report: &dyn Report) -> Result<()> {
        let pkg = self.pkg;
        match self.job {
            Job::Deb(j) => deb::write(pkg, j, out, spool, report),
            Job::Rpm(j) => rpm::write(pkg, *j, out, spool, report),
            Job::Pacman(j) => pacman::write(pkg, j, out, report),
            Job::Apk(j) => apk::write(pkg, *j, out, spool, report),
            Job::Targz => targz::write(pkg, out, report),
            Job::Zip => zip::write(pkg, out, report),
        }
    }

    /// Write the artifact into `dir`. The bytes go to a temporary name in
    /// the same directory and are renamed only when complete, so an
    /// interrupted build never leaves a file under the final name.
    pub fn write(self, dir: &Path, report: &dyn Report) -> Result<PathBuf> {
        let name = self.file_name.clone();
        std::fs::create_dir_all(dir).at(dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".packwright-tmp")
            .tempfile_in(dir)
            .at(dir)?;
        self.write_to(tmp.as_file_mut(), dir, report)?;
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

impl Format {
    /// Portable archives' default `<os>` in `<os>-<arch>` targets.
    pub fn default_os(self) -> &'static str {
        match self {
            Format::Zip => "windows",
            _ => "linux",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last guard before a file is created under `--out`: the plan's
    /// rules already refuse these, so only a writer's own bug reaches it.
    #[test]
    fn artifact_names_are_one_file_inside_the_output_dir() {
        assert!(check_file_name(Format::Zip, "demo-1.0-windows-x86_64.zip").is_ok());
        assert!(check_file_name(Format::Pacman, "demo-1:1.0-1-x86_64.pkg.tar.zst").is_ok());
        let long = format!("{}.zip", "a".repeat(252));
        for bad in [
            "../x.zip",
            "a/b.zip",
            ".hidden.zip",
            "a\nb.zip",
            "a\\b.zip",
            &long,
        ] {
            let e = check_file_name(Format::Zip, bad).unwrap_err().to_string();
            assert!(
                e.starts_with("zip: package: the artifact name"),
                "{bad}: {e}"
            );
        }
    }
}
