//! The writers, one per output format: `prepare` checks everything a
//! format needs, `write` can then fail only on I/O. Which formats exist is
//! `crate::identity`; adding one touches that file, this one, one new
//! writer, and its tests.

mod apk;
mod deb;
mod pacman;
mod rpm;
mod share;
mod targz;
mod zip;

pub use share::Shared;

use crate::archive::digest::Want;
use crate::archive::packed::{Codec, Packed, Splice};
use crate::archive::{tar, Tap};
use crate::error::{Error, IoContext, Result};
pub use crate::identity::Format;
use crate::plan::{Entry, Kind, Package, Source};
use crate::report::Report;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

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

impl Format {
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

/// Where a writer is: the output file, the directory for its spool files,
/// the build's shared contents, and the report.
struct Out<'a> {
    file: &'a mut std::fs::File,
    spool: &'a Path,
    shared: &'a Shared,
    report: &'a dyn Report,
}

impl Prepared<'_> {
    /// The digests of a payload file this format's writer needs.
    pub fn sums(&self) -> Want {
        match self.format {
            Format::Deb => Want::MD5,
            Format::Rpm => Want::SHA256,
            Format::Pacman => Want::MD5_SHA256,
            Format::Apk => Want::SHA1,
            Format::Targz | Format::Zip => Want::NONE,
        }
    }

    /// The codec of this format's payload stream, if its contents can be
    /// shared (`Shared`).
    pub fn codec(&self) -> Option<Codec> {
        match self.format {
            Format::Deb => deb::codec(self.pkg),
            Format::Rpm => rpm::codec(self.pkg),
            Format::Pacman => pacman::codec(self.pkg),
            Format::Apk => Some(apk::codec(self.pkg)),
            Format::Targz => Some(targz::codec(self.pkg)),
            Format::Zip => Some(zip::codec(self.pkg)),
        }
    }

    /// Whether a content of this writer's codec that no other writer of
    /// the build takes can be compressed where the writer places it,
    /// rather than spooled first (`Shared`). Not a zip entry, whose
    /// compressed length precedes its bytes.
    pub fn places_alone(&self) -> bool {
        match self.format {
            Format::Deb | Format::Rpm | Format::Pacman | Format::Apk | Format::Targz => true,
            Format::Zip => false,
        }
    }

    /// Whether this format's writer joins a content's deflate pieces into
    /// one stream (apk's one gzip member, a zip entry) rather than taking
    /// them as gzip members.
    pub fn joins_deflate(&self) -> bool {
        match self.format {
            Format::Apk | Format::Zip => true,
            Format::Deb | Format::Rpm | Format::Pacman | Format::Targz => false,
        }
    }

    fn write_to(self, out: Out) -> Result<()> {
        let pkg = self.pkg;
        match self.job {
            Job::Deb(j) => deb::write(pkg, j, out),
            Job::Rpm(j) => rpm::write(pkg, *j, out),
            Job::Pacman(j) => pacman::write(pkg, j, out),
            Job::Apk(j) => apk::write(pkg, *j, out),
            Job::Targz => targz::write(pkg, out),
            Job::Zip => zip::write(pkg, out),
        }
    }

    /// Write the artifact into `dir`. The bytes go to a temporary name in
    /// the same directory and are renamed only when complete, so an
    /// interrupted build never leaves a file under the final name.
    pub fn write(self, dir: &Path, shared: &Shared, report: &dyn Report) -> Result<PathBuf> {
        let name = self.file_name.clone();
        std::fs::create_dir_all(dir).at(dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".packwright-tmp")
            .tempfile_in(dir)
            .at(dir)?;
        let dest = dir.join(&name);
        let out = Out {
            file: tmp.as_file_mut(),
            spool: dir,
            shared,
            report,
        };
        let fd = out.file.as_raw_fd();
        let written = while_writing_back(fd, || self.write_to(out));
        written.map_err(|e| name_artifact(e, dir, &dest))?;
        tmp.as_file().sync_all().at(&dest)?;
        tmp.persist(&dest).map_err(|e| Error::io(&dest, e.error))?;
        // Artifacts are for sharing: 0644 whatever the umask or tempfile's 0600.
        set_mode(&dest, 0o644)?;
        Ok(dest)
    }
}

/// Run `f` while a side thread starts the disk writes of what `fd` has
/// been given so far, every 100 ms (`sync_file_range`, which does not
/// wait for them): the `sync_all` before the rename then finds most of the
/// artifact on disk, and the build does not sit idle for the disk at its
/// end (0.2–0.5 s per 500 MB artifact here).
fn while_writing_back<T>(fd: RawFd, f: impl FnOnce() -> T) -> T {
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let flusher = s.spawn(|| {
            while !done.load(Ordering::Acquire) {
                std::thread::park_timeout(Duration::from_millis(100));
                // Safety: `fd` stays open for the whole scope (the caller's
                // file outlives it), and the call takes no pointers. An
                // error only means no early write-out.
                unsafe { libc::sync_file_range(fd, 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
            }
        });
        // Stopped on the way out even if `f` panics (the scope would
        // otherwise wait for the side thread for ever).
        let _stop = Stop(&done, flusher.thread());
        f()
    })
}

struct Stop<'a>(&'a AtomicBool, &'a std::thread::Thread);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
        self.1.unpark();
    }
}

/// Compress the man pages the plan marked (`Source::Gzip`, already named
/// `.gz`), byte-stable, so writers see final sizes and bytes. The pipeline
/// runs it right after planning.
pub fn gzip_man_pages(pkg: &mut Package) -> Result<()> {
    for e in &mut pkg.tree {
        let Kind::File(src @ Source::Gzip(_)) = &mut e.kind else {
            continue;
        };
        let Source::Gzip(raw) = std::mem::replace(src, Source::Bytes(Vec::new())) else {
            unreachable!("matched above");
        };
        // Errors name the installed page as the manifest put it.
        let at = e.path.strip_suffix(".gz").unwrap_or(&e.path);
        let mut data = Vec::new();
        std::io::copy(&mut raw.open()?, &mut data).at(at)?;
        *src = Source::Bytes(crate::archive::compress::gzip_best(&data).at(at)?);
    }
    Ok(())
}

/// Each entry's content compressed alone for a stream of `codec`, in
/// order, where it is large enough to be (`Shared::packed_all`).
fn packed_all<'a>(
    shared: &Shared,
    codec: Option<Codec>,
    tree: impl IntoIterator<Item = &'a Entry>,
) -> Result<Vec<Option<Arc<Packed>>>> {
    let srcs: Vec<Option<&Source>> = tree
        .into_iter()
        .map(|e| match &e.kind {
            Kind::File(src) => Some(src),
            Kind::Dir | Kind::Symlink(_) => None,
        })
        .collect();
    shared.packed_all(&srcs, codec)
}

/// Append a plan entry to a tar stream under `path`, streaming a file's
/// bytes through `tap` (or splicing `packed`, which `tap` then never sees).
/// Here, not in `archive`: the archive layer knows tar items, not the
/// plan's entries.
fn append_entry<W: Splice>(
    out: &mut tar::TarOut<W>,
    e: &Entry,
    path: &str,
    mtime: u64,
    pax: &[(&str, &[u8])],
    packed: Option<&Packed>,
    tap: &mut dyn FnMut(&[u8]),
) -> Result<()> {
    let item = |kind| tar::Item {
        path,
        kind,
        mode: e.mode,
        owner: &e.owner,
        group: &e.group,
        mtime,
    };
    match &e.kind {
        Kind::Dir => out.append(item(tar::ItemKind::Dir), pax).at(&e.path),
        Kind::Symlink(t) => out.append(item(tar::ItemKind::Symlink(t)), pax).at(&e.path),
        Kind::File(src) => {
            let mut data = Tap {
                inner: src.open()?,
                f: |b: &[u8]| tap(b),
            };
            let kind = tar::ItemKind::File {
                size: src.size(),
                data: &mut data,
                packed,
            };
            out.append(item(kind), pax).at(&e.path)
        }
    }
}

/// A source that no longer has the bytes (or size) a first read found.
fn changed(e: &Entry) -> Error {
    Error::io(
        &e.path,
        std::io::Error::other(format!(
            "the source of `{}` ({}) changed while the package was written; build again",
            e.path, e.from
        )),
    )
}

/// Writers report a failed write to their output or spool file at the
/// output directory (or pacman's stream name); the user needs to know which
/// artifact could not be written. Errors reading a source keep its path.
fn name_artifact(e: Error, dir: &Path, artifact: &Path) -> Error {
    match e {
        Error::Io { path, source } if path == dir || path == Path::new(".pkg.tar") => {
            Error::io(artifact, source)
        }
        e => e,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The last guard before a file is created under `--out`: the plan's
    /// rules already refuse these, so only a writer's own bug reaches it.
    #[test]
    fn write_errors_name_the_artifact_not_the_spool_dir() {
        let full = || std::io::Error::other("No space left on device");
        let (dir, deb) = (Path::new("dist"), Path::new("dist/demo_1.0-1_amd64.deb"));
        for at in ["dist", ".pkg.tar"] {
            let e = name_artifact(Error::io(at, full()), dir, deb).to_string();
            assert!(e.contains("dist/demo_1.0-1_amd64.deb"), "{at}: {e}");
        }
        let src = name_artifact(Error::io("/srv/payload/x", full()), dir, deb).to_string();
        assert!(src.contains("/srv/payload/x"), "{src}");
    }

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
