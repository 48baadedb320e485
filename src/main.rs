//! The `packwright` command line. Exit codes: 0 success, 1 failure while
//! building or reading, 2 bad input (manifest, format rules, usage).

use clap::{CommandFactory, Parser, Subcommand};
use packwright::inspect;
use packwright::pipeline::{self, Request};
use packwright::report::Report;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "packwright",
    version,
    about = "Build .deb, .rpm, pacman, .apk, .zip and .tar.gz packages from one manifest"
)]
struct Cli {
    /// Project directory: relative sources in the manifest resolve here.
    #[arg(short = 'C', long = "project", global = true, default_value = ".")]
    project: PathBuf,
    /// The manifest [default: <project>/packaging/packwright.toml].
    #[arg(long, global = true)]
    manifest: Option<PathBuf>,
    /// Machine-readable output on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build packages into the output directory.
    Build {
        #[command(flatten)]
        b: BuildArgs,
    },
    /// Build, then write SHA256SUMS(.asc), artifacts.json and an SPDX SBOM per artifact.
    Release {
        #[command(flatten)]
        b: BuildArgs,
    },
    /// Add built packages to signed static apt, dnf, pacman and apk repositories.
    Publish {
        /// Repository root (apt/, rpm/<arch>/, pacman/<arch>/, apk/<arch>/, keys/).
        #[arg(long)]
        repo: PathBuf,
        /// Where the built packages are.
        #[arg(long, default_value = "dist")]
        from: PathBuf,
        /// Keep the newest N versions (stops and, with semver-major, each major's newest stay)
        /// [default: `[publish] keep`, else all].
        #[arg(long)]
        keep: Option<usize>,
        /// Repository and key name [default: `[publish] name`, else the package's name].
        #[arg(long)]
        name: Option<String>,
        /// apt suite [default: `[publish] suite`, else stable].
        #[arg(long)]
        suite: Option<String>,
        /// apt component [default: `[publish] component`, else main].
        #[arg(long)]
        component: Option<String>,
        /// Public URL of --repo, for the pages' lines [default: `[publish] url`, else file://<repo>].
        #[arg(long)]
        url: Option<String>,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Print a CI workflow that builds, releases and publishes on a tag.
    Ci {
        #[arg(value_parser = ["github"])]
        provider: String,
        /// The workflow's `publish --keep`.
        #[arg(long, default_value_t = 5)]
        keep: usize,
    },
    /// Validate the manifest and print the plan per format.
    Check {
        #[arg(long, value_delimiter = ',')]
        format: Option<Vec<String>>,
    },
    /// Show a package's metadata, files and scripts (any of the six formats).
    Inspect { file: PathBuf },
    #[command(flatten)]
    Adopt(packwright::import::cli::Command),
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Print a man page (roff): packwright's, or packwright-hook's.
    Manpage {
        #[arg(default_value = "packwright", value_parser = ["packwright", "packwright-hook"])]
        program: String,
    },
}

#[derive(clap::Args)]
struct BuildArgs {
    /// Comma-separated formats (deb, rpm, pacman, apk, targz, zip) [default: all].
    #[arg(long, value_delimiter = ',')]
    format: Option<Vec<String>>,
    /// Output directory.
    #[arg(long, default_value = "dist")]
    out: PathBuf,
    #[command(flatten)]
    keys: KeyArgs,
}

#[derive(clap::Args)]
struct KeyArgs {
    /// OpenPGP secret key (armored): signs rpm packages, repositories and SHA256SUMS.
    #[arg(long, env = "PACKWRIGHT_PGP_KEY")]
    pgp_key: Option<PathBuf>,
    /// Passphrase of --pgp-key.
    #[arg(long, env = "PACKWRIGHT_PGP_PASSPHRASE", hide_env_values = true)]
    pgp_passphrase: Option<String>,
    /// RSA private key (PEM): signs apk packages and APKINDEX.
    #[arg(long, env = "PACKWRIGHT_RSA_KEY")]
    rsa_key: Option<PathBuf>,
    /// apk key name (default: the key file's name plus `.pub`).
    #[arg(long, env = "PACKWRIGHT_RSA_KEY_NAME")]
    rsa_key_name: Option<String>,
}

impl KeyArgs {
    fn keys(&self) -> packwright::format::Keys {
        packwright::format::Keys {
            pgp: self.pgp_key.clone(),
            pgp_passphrase: self.pgp_passphrase.clone(),
            rsa: self.rsa_key.clone(),
            rsa_name: self.rsa_key_name.clone(),
        }
    }
}

struct Console {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
}

impl Report for Console {
    fn note(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.println(msg),
            None if !self.quiet => eprintln!("{msg}"),
            None => {}
        }
    }
    fn progress(&self, what: &str, done: u64, total: u64) {
        if let Some(b) = &self.bar {
            b.set_length(total.max(1));
            b.set_position(done);
            b.set_message(what.to_string());
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
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

fn request(cli: &Cli, formats: Option<Vec<String>>) -> Request {
    let manifest = cli
        .manifest
        .clone()
        .unwrap_or_else(|| cli.project.join("packaging/packwright.toml"));
    Request {
        manifest,
        project: cli.project.clone(),
        formats,
        keys: Default::default(),
    }
}

fn console(json: bool) -> Console {
    let bar = (std::io::stderr().is_terminal() && !json).then(|| {
        let b = indicatif::ProgressBar::new(1);
        b.set_style(
            indicatif::ProgressStyle::with_template("{msg:>7} [{bar:40}] {bytes}/{total_bytes}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b
    });
    Console { bar, quiet: json }
}

/// `publish`: the manifest's `[publish]` gives defaults for the flags, and
/// retention reads `[upgrade]`, when there is a manifest.
fn publish(cli: &Cli) -> anyhow::Result<()> {
    let Cmd::Publish {
        repo,
        from,
        keep,
        name,
        suite,
        component,
        url,
        keys,
    } = &cli.cmd
    else {
        unreachable!()
    };
    use packwright::release::{self, retention::Rule};
    let req = request(cli, None);
    let table = if req.manifest.exists() {
        let (m, _) = packwright::manifest::load(&req.manifest, &|k| std::env::var(k).ok())?;
        m.publish.unwrap_or_default()
    } else {
        Default::default()
    };
    let rule = match keep.or(table.keep) {
        None => None,
        Some(0) => anyhow::bail!(
            "{}: publish.keep (or --keep) is 0: at least the newest version stays",
            req.manifest.display()
        ),
        Some(n) => {
            let gate = if req.manifest.exists() {
                let loaded = pipeline::load(&req)?;
                loaded
                    .plans
                    .first()
                    .and_then(|(_, p)| p.lifecycle.gate.clone())
            } else {
                eprintln!(
                    "note: no manifest at {}: retention knows no upgrade stops",
                    req.manifest.display()
                );
                None
            };
            Some(Rule {
                keep: n,
                stops: gate.as_ref().map(|g| g.stops.clone()).unwrap_or_default(),
                semver_major: gate.is_some_and(|g| g.semver_major),
            })
        }
    };
    let pick = |flag: &Option<String>, key: &Option<String>, default: &str| {
        flag.clone()
            .or_else(|| key.clone())
            .unwrap_or(default.into())
    };
    let opts = release::Publish {
        dir: repo.clone(),
        from: from.clone(),
        name: name.clone().or(table.name),
        suite: pick(suite, &table.suite, "stable"),
        component: pick(component, &table.component, "main"),
        url: url.clone().or(table.url),
        rule,
        keys: keys.keys(),
    };
    let sum = release::publish(&opts, &console(cli.json))?;
    if cli.json {
        println!(
            "{}",
            serde_json::json!({"added": sum.added, "removed": sum.removed, "repositories": sum.formats})
        );
    } else {
        for r in &sum.removed {
            eprintln!("removed {r} (retention)");
        }
    }
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let req = request(&cli, None);
    if matches!(cli.cmd, Cmd::Build { .. } | Cmd::Check { .. }) {
        if let Some(e) = packwright::import::cli::missing_manifest(&req.project, &req.manifest) {
            return Err(e.into());
        }
    }
    match &cli.cmd {
        Cmd::Adopt(c) => {
            let console = Console {
                bar: None,
                quiet: false,
            };
            let out = packwright::import::cli::run(c, &req.project, &req.manifest, &console)?;
            print!("{}", out.unwrap_or_default());
        }
        Cmd::Build { b } => build(&cli, b)?,
        Cmd::Release { b } => release(&cli, b)?,
        Cmd::Publish { .. } => publish(&cli)?,
        Cmd::Ci { keep, .. } => print!("{}", packwright::release::github_workflow(*keep)),
        Cmd::Check { format } => {
            let loaded = pipeline::load(&request(&cli, format.clone()))?;
            let prepared = pipeline::prepare(&loaded, &Default::default())?;
            check(&loaded, &prepared, cli.json)?;
        }
        Cmd::Inspect { file } => {
            let i = inspect::inspect(file)?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&i)?);
            } else {
                print_inspection(&i);
            }
        }
        Cmd::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "packwright",
                &mut std::io::stdout(),
            );
        }
        Cmd::Manpage { program } => manpage(program)?,
    }
    Ok(())
}

/// `packwright build`: the artifacts, listed with the warnings under `--json`.
fn build(cli: &Cli, b: &BuildArgs) -> anyhow::Result<()> {
    let mut req = request(cli, b.format.clone());
    req.keys = b.keys.keys();
    let console = console(cli.json);
    let built = pipeline::build(&req, &b.out, &console)?;
    if let Some(b) = &console.bar {
        b.finish_and_clear();
    }
    if cli.json {
        let list: Vec<_> = built
            .artifacts
            .iter()
            .map(|a| serde_json::json!({"format": a.format.key(), "path": a.path, "size": a.size}))
            .collect();
        let out = serde_json::json!({"artifacts": list, "warnings": built.warnings});
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// `packwright release`: the artifacts with their checksums, SBOM and signatures.
fn release(cli: &Cli, b: &BuildArgs) -> anyhow::Result<()> {
    let mut req = request(cli, b.format.clone());
    req.keys = b.keys.keys();
    let console = console(cli.json);
    let done = packwright::release::artifact::release(&req, &b.out, &console)?;
    if let Some(b) = &console.bar {
        b.finish_and_clear();
    }
    if cli.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"artifacts": done.entries}))?
        );
    }
    Ok(())
}

/// `packwright manpage [packwright|packwright-hook]`.
fn manpage(program: &str) -> anyhow::Result<()> {
    if program == packwright_hook::contract::HOOK_NAME {
        print!(
            "{}",
            packwright_hook::man::render(env!("CARGO_PKG_VERSION"))
        );
    } else {
        clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
    }
    Ok(())
}

/// What the generated scripts will do on the target, for `check`.
fn lifecycle_summary(pkg: &packwright::plan::Package) -> serde_json::Value {
    let l = &pkg.lifecycle;
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        m.insert(k.to_string(), v);
    };
    if let Some(h) = &l.hook {
        put("hook", h.clone().into());
    }
    if !l.configs.is_empty() {
        put("configs", l.configs.clone().into());
    }
    if !l.users.is_empty() {
        put(
            "users",
            l.users
                .iter()
                .map(|u| format!("{}:{}", u.name, u.group))
                .collect::<Vec<_>>()
                .into(),
        );
    }
    if !l.units.is_empty() {
        put(
            "units",
            l.units
                .iter()
                .map(|u| u.name.clone())
                .collect::<Vec<_>>()
                .into(),
        );
    }
    if let Some(g) = &l.gate {
        let mut stops = g.stops.clone();
        if g.semver_major {
            stops.push("every X.0.0".into());
        }
        put("stops", stops.into());
        put(
            "downgrades",
            if g.allow_downgrade {
                "allowed"
            } else {
                "refused"
            }
            .into(),
        );
    }
    if !l.migrations.is_empty() {
        put("migrations", l.migrations.clone().into());
    }
    if !l.data_dirs.is_empty() {
        put("data-dirs", l.data_dirs.clone().into());
    }
    serde_json::Value::Object(m)
}

fn check(
    loaded: &pipeline::Loaded,
    prepared: &[packwright::format::Prepared],
    json: bool,
) -> anyhow::Result<()> {
    let mut report = Vec::new();
    let warnings: Vec<&String> = prepared.iter().flat_map(|p| &p.warnings).collect();
    for ((f, pkg), prep) in loaded.plans.iter().zip(prepared) {
        let files: Vec<_> = pkg
            .tree
            .iter()
            .map(|e| serde_json::json!({"path": e.path, "mode": format!("{:04o}", e.mode), "owner": e.owner, "group": e.group, "size": e.size()}))
            .collect();
        let file = &prep.file_name;
        let life = lifecycle_summary(pkg);
        report.push(serde_json::json!({"format": f.key(), "artifact": file, "entries": files, "payload": pkg.tree.iter().map(|e| e.size()).sum::<u64>(), "lifecycle": life}));
        if !json {
            println!(
                "{} → {} ({} entries, {} bytes of payload)",
                f.key(),
                file,
                pkg.tree.len(),
                pkg.tree.iter().map(|e| e.size()).sum::<u64>()
            );
            for e in &pkg.tree {
                println!(
                    "  {:04o} {}:{} {:>10} {}",
                    e.mode,
                    e.owner,
                    e.group,
                    e.size(),
                    e.path
                );
            }
            if let Some(obj) = life.as_object().filter(|o| !o.is_empty()) {
                for (k, v) in obj {
                    let shown = match v {
                        serde_json::Value::Array(a) => a
                            .iter()
                            .map(|x| {
                                x.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| x.to_string())
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                        serde_json::Value::String(t) => t.clone(),
                        other => other.to_string(),
                    };
                    println!("  lifecycle {k}: {shown}");
                }
            }
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "plans": report, "warnings": warnings })
            )?
        );
    } else {
        for w in &warnings {
            eprintln!("warning: {w}");
        }
        println!("manifest OK: {}", loaded.loc.file().display());
    }
    Ok(())
}

fn print_inspection(i: &inspect::Inspection) {
    println!("format: {}", i.format);
    for (k, v) in &i.fields {
        match v {
            serde_json::Value::String(s) => println!("{k}: {s}"),
            v => println!("{k}: {v}"),
        }
    }
    println!("files:");
    for f in &i.files {
        let link = f
            .link
            .as_deref()
            .map(|l| format!(" -> {l}"))
            .unwrap_or_default();
        println!(
            "  {:7} {} {:>8}:{:<8} {:>10} {}{}",
            f.kind, f.mode, f.owner, f.group, f.size, f.path, link
        );
    }
    for s in &i.scripts {
        println!("script {}:\n{}", s.name, s.text);
    }
    for w in &i.warnings {
        eprintln!("warning: {w}");
    }
}
