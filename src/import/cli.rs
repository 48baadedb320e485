//! The `import` and `init` subcommands, and the first-run hint for a
//! project without a manifest.

use super::Imported;
use crate::error::{Error, IoContext, Result};
use crate::report::Report;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The nfpm configuration to convert (nfpm.yaml).
    pub file: PathBuf,
    /// Where to write [default: the manifest path]; `-` for stdout.
    pub out: Option<PathBuf>,
    /// Replace an existing manifest.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Where to write [default: the manifest path]; `-` for stdout.
    pub out: Option<PathBuf>,
    /// Replace an existing manifest.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Write a manifest from an nfpm configuration (nfpm.yaml).
    Import(ImportArgs),
    /// Write a manifest: from Cargo.toml in a Cargo project, else a commented starter.
    Init(InitArgs),
}

/// Run `import` or `init`; `manifest` is the default destination. Returns
/// the manifest text when it goes to stdout (`-`), for the binary to print.
pub fn run(
    cmd: &Command,
    project: &Path,
    manifest: &Path,
    r: &dyn Report,
) -> Result<Option<String>> {
    // Relative paths are relative to -C's directory, as for every other
    // command (git -C, make -C): the project is where packwright "runs".
    let (imported, input, out, force) = match cmd {
        Command::Import(a) => {
            let file = project.join(&a.file);
            let text = std::fs::read_to_string(&file).at(&file)?;
            let imported = super::nfpm::import(&file, &text)?;
            (imported, file, &a.out, a.force)
        }
        Command::Init(a) => (init(project)?, project.join("Cargo.toml"), &a.out, a.force),
    };
    report(&input.display().to_string(), &imported, r);
    let out = match out.as_deref() {
        Some(o) if o == Path::new("-") => return Ok(Some(imported.toml)),
        Some(o) => project.join(o),
        None => manifest.to_path_buf(),
    };
    write(&out, &imported.toml, force)?;
    r.note(&format!("wrote {}", out.display()));
    Ok(None)
}

/// The manifest `init` writes for `project`: from its Cargo.toml, or a starter.
pub fn init(project: &Path) -> Result<Imported> {
    if project.join("Cargo.toml").is_file() {
        return super::cargo::init(project);
    }
    let abs = std::fs::canonicalize(project).unwrap_or_else(|_| project.to_path_buf());
    let name = abs
        .file_name()
        .map_or("myproduct".into(), |n| n.to_string_lossy().into_owned());
    Ok(Imported {
        toml: super::starter::starter(&name),
        warnings: Vec::new(),
    })
}

/// Every warning, as `warning: FILE:LINE: KEY: MESSAGE`.
pub fn report(input: &str, imported: &Imported, r: &dyn Report) {
    for w in &imported.warnings {
        match w.line {
            0 => r.note(&format!("warning: {input}: {}: {}", w.key, w.msg)),
            l => r.note(&format!("warning: {input}:{l}: {}: {}", w.key, w.msg)),
        }
    }
}

/// Write atomically (a temporary name, then rename); never over an existing
/// file without `force`.
pub fn write(out: &Path, text: &str, force: bool) -> Result<()> {
    if out.exists() && !force {
        return Err(Error::format(
            "init",
            out.display().to_string(),
            "already exists; pass --force to replace it (or `-` to print the manifest)",
        ));
    }
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).at(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).at(&dir)?;
    tmp.write_all(text.as_bytes())
        .at(tmp.path().to_path_buf())?;
    tmp.persist(out).map_err(|e| Error::io(out, e.error))?;
    Ok(())
}

/// For `build` and `check`: a missing manifest gets the way to make one,
/// in one line that names the path tried.
pub fn missing_manifest(project: &Path, manifest: &Path) -> Option<Error> {
    if manifest.exists() {
        return None;
    }
    let how = if project.join("Cargo.toml").is_file() {
        "no manifest there; this is a Cargo project: run `packwright init` to write one from Cargo.toml (or `cargo packwright` to build straight from it)"
    } else {
        "no manifest there: run `packwright init` for a starter, `packwright import nfpm.yaml` to convert nfpm's, or name one with --manifest"
    };
    Some(Error::io(
        manifest,
        std::io::Error::new(std::io::ErrorKind::NotFound, how),
    ))
}
