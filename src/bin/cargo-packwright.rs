//! `cargo packwright`: `cargo build --release`, then packages from
//! packaging/packwright.toml, or, without one, straight from Cargo.toml
//! (its metadata, cargo-deb's and cargo-generate-rpm's).

use clap::{Args, Parser};
use packwright::import;
use packwright::pipeline::{self, Request};
use packwright::report::Report;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

#[derive(Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    /// Build the crate in release mode, then its packages.
    Packwright(Opts),
}

#[derive(Args)]
#[command(version, about)]
struct Opts {
    /// The crate directory (holds Cargo.toml).
    #[arg(short = 'C', long = "project", default_value = ".")]
    project: PathBuf,
    /// Comma-separated formats (deb, rpm, pacman, apk, targz, zip) [default: all].
    #[arg(long, value_delimiter = ',')]
    format: Option<Vec<String>>,
    /// Output directory.
    #[arg(long, default_value = "dist")]
    out: PathBuf,
    /// Skip `cargo build --release` (the binaries are built already).
    #[arg(long)]
    no_build: bool,
}

struct Lines;

impl Report for Lines {
    fn note(&self, msg: &str) {
        eprintln!("{msg}");
    }
}

fn main() -> ExitCode {
    let Cargo::Packwright(opts) = Cargo::parse();
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e
                .downcast_ref::<packwright::Error>()
                .map_or(1, |e| e.exit_code());
            eprintln!("error: {}", packwright::error::message(&e));
            ExitCode::from(code as u8)
        }
    }
}

fn run(o: &Opts) -> anyhow::Result<()> {
    let cargo_toml = o.project.join("Cargo.toml");
    if !cargo_toml.is_file() {
        anyhow::bail!(
            "{}: no such file; run `cargo packwright` in a Cargo project (or pass -C DIR)",
            cargo_toml.display()
        );
    }
    if !o.no_build {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(&cargo)
            .args(["build", "--release"])
            .current_dir(&o.project)
            .status()
            .map_err(|e| anyhow::anyhow!("cannot run {}: {e}", cargo.to_string_lossy()))?;
        if !status.success() {
            anyhow::bail!("`cargo build --release` failed ({status})");
        }
    }
    let mut manifest = o.project.join("packaging/packwright.toml");
    if !manifest.is_file() {
        let imported = import::cargo::init(&o.project)?;
        import::cli::report(&cargo_toml.display().to_string(), &imported, &Lines);
        manifest = o.project.join("target/packwright/packwright.toml");
        import::cli::write(&manifest, &imported.toml, true)?;
        eprintln!(
            "no packaging/packwright.toml: building from Cargo.toml (the manifest used is {}; `packwright init` writes it to packaging/)",
            manifest.display()
        );
    }
    let req = Request {
        manifest,
        project: o.project.clone(),
        formats: o.format.clone(),
        keys: Default::default(),
    };
    pipeline::build(&req, &o.out, &Lines)?;
    Ok(())
}
