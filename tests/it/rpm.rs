//! The .rpm writer against the real rpm tools: rpm, rpmlint, gpg, rpmbuild,
//! nfpm, shellcheck and a static busybox as /bin/sh of a scratch root.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const EVENTS: [&str; 7] = [
    "pre-install",
    "post-install",
    "pre-upgrade",
    "post-upgrade",
    "pre-remove",
    "post-remove",
    "purge",
];

fn scripts_table() -> String {
    let mut s = String::from("\n[scripts]\n");
    for ev in EVENTS {
        s.push_str(&format!("{ev} = \"scripts/{ev}.sh\"\n"));
    }
    s
}

/// The demo product with every user script appending its arguments to
/// /packwright.log (inside the root it is installed to).
fn demo_with_scripts(version: &str, extra: &str) -> Project {
    let p = demo(version, &format!("{}{extra}", scripts_table()));
    for ev in EVENTS {
        p.file(
            &format!("scripts/{ev}.sh"),
            "echo \"$1|$2|$3\" >> /packwright.log\n",
        );
    }
    p.exec("bin/demo", &format!("#!/bin/sh\necho demo {version}\n"));
    p
}

fn rpm_q(pkg: &Path, args: &[&str]) -> String {
    stdout(&run(Command::new("rpm").args(["-qp"]).args(args).arg(pkg)))
}

fn only_rpm(files: &[PathBuf]) -> PathBuf {
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn metadata_files_relations_and_changelog() {
    if !tool("rpm") {
        return;
    }
    let manifest = demo_manifest(
        "1.0.0",
        r#"
[[files]]
src = "README.md"
dst = "/usr/share/demo/secret.txt"
mode = "0640"
owner = "daemon"
group = "adm"

[relations]
depends = ["bash (>= 4)", "coreutils"]
recommends = ["curl"]
suggests = ["jq"]
conflicts = ["demo-legacy"]
provides = ["demo-server"]
replaces = ["old-demo (<< 1.0)"]

[format.rpm]
group = "Applications/Internet"
distribution = "Demo Linux"
fields = { BugURL = "https://example.org/demo/issues" }
"#,
    )
    .replace(
        "license = \"Apache-2.0\"",
        "license = \"Apache-2.0\"\nchangelog = \"CHANGELOG.md\"",
    );
    let p = Project::new(&manifest);
    p.exec("bin/demo", "#!/bin/sh\necho demo\n");
    p.file("README.md", "# demo\n");
    p.file(
        "CHANGELOG.md",
        "# Changelog\n\n## 1.0.0\n\n- First release of demo\n  with a wrapped line\n\n## 0.9.0\n\n- older\n",
    );
    let rpm = only_rpm(&p.build("rpm"));
    assert_eq!(rpm.file_name().unwrap(), "demo-1.0.0-1.x86_64.rpm");

    let info = rpm_q(&rpm, &["-i"]);
    for want in [
        "Name        : demo",
        "Version     : 1.0.0",
        "Release     : 1",
        "Architecture: x86_64",
        "Group       : Applications/Internet",
        "License     : Apache-2.0",
        "URL         : https://example.org/demo",
        "Packager    : Demo Team <demo@example.org>",
        "Build Host  : packwright",
        "Summary     : Demonstration server for packwright tests",
        "It does nothing useful,",
    ] {
        assert!(info.contains(want), "missing {want:?} in\n{info}");
    }
    // Shared parents such as /usr/bin are not listed; owned dirs are.
    let files = rpm_q(
        &rpm,
        &[
            "--qf",
            "[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES} %{FILELINKTOS}\n]",
        ],
    );
    assert_eq!(
        files,
        "-rwxr-xr-x root:root /usr/bin/demo \n\
         lrwxrwxrwx root:root /usr/sbin/demo /usr/bin/demo\n\
         drwxr-xr-x root:root /usr/share/demo \n\
         -rw-r----- daemon:adm /usr/share/demo/secret.txt \n\
         drwxr-xr-x root:root /usr/share/doc/demo \n\
         -rw-r--r-- root:root /usr/share/doc/demo/README.md \n\
         drwxr-x--- root:root /var/lib/demo \n"
    );
    assert_eq!(
        rpm_q(&rpm, &["--docfiles"]),
        "/usr/share/doc/demo/README.md\n"
    );

    let req = rpm_q(&rpm, &["--requires"]);
    assert!(
        req.contains("bash >= 4\n") && req.contains("coreutils\n"),
        "{req}"
    );
    assert!(req.contains("rpmlib(PayloadIsZstd) <= 5.4.18-1"), "{req}");
    assert_eq!(rpm_q(&rpm, &["--recommends"]), "curl\n");
    assert_eq!(rpm_q(&rpm, &["--suggests"]), "jq\n");
    assert_eq!(rpm_q(&rpm, &["--conflicts"]), "demo-legacy\n");
    assert_eq!(rpm_q(&rpm, &["--obsoletes"]), "old-demo < 1.0\n");
    assert_eq!(
        rpm_q(&rpm, &["--provides"]),
        "demo = 1.0.0-1\ndemo(x86-64) = 1.0.0-1\ndemo-server\n"
    );
    assert_eq!(
        rpm_q(&rpm, &["--changelog"]),
        "* Tue Nov 14 2023 Demo Team <demo@example.org> - 1.0.0-1\n- First release of demo\n  with a wrapped line\n\n"
    );
    assert_eq!(
        rpm_q(&rpm, &["--qf", "%{PAYLOADCOMPRESSOR} %{BUILDTIME}\n"]),
        "zstd 1700000000\n"
    );
    assert_eq!(
        rpm_q(&rpm, &["--qf", "%{DISTRIBUTION} %{BUGURL}\n"]),
        "Demo Linux https://example.org/demo/issues\n"
    );
    let k = stdout(&run(Command::new("rpm").arg("-K").arg(&rpm)));
    assert!(k.ends_with("digests OK\n"), "{k}");
}

#[test]
fn an_epoch_is_part_of_every_version_rpm_compares() {
    if !tool("rpm") {
        return;
    }
    let p = Project::new(
        &demo_manifest("1.0.0", "").replace("release = \"1\"", "release = \"1\"\nepoch = 2"),
    );
    p.exec("bin/demo", "#!/bin/sh\n");
    p.file("README.md", "x\n");
    let rpm = only_rpm(&p.build("rpm"));
    // The file name leaves the epoch out, as rpmbuild's does.
    assert_eq!(rpm.file_name().unwrap(), "demo-1.0.0-1.x86_64.rpm");
    assert_eq!(rpm_q(&rpm, &["--qf", "%{EPOCH}\n"]), "2\n");
    assert!(rpm_q(&rpm, &["--provides"]).contains("demo = 2:1.0.0-1\n"));
    assert!(rpm_q(&rpm, &["--changelog"]).contains("<demo@example.org> - 2:1.0.0-1\n"));
}

#[test]
fn scriptlets_declare_their_shell_and_pass_shellcheck() {
    if !tool("rpm") {
        return;
    }
    let p = demo_with_scripts("1.0.0", "");
    let rpm = only_rpm(&p.build("rpm"));
    let deps = rpm_q(
        &rpm,
        &["--qf", "[%{REQUIRENAME} %{REQUIREFLAGS:deptype}\n]"],
    );
    for want in [
        "/bin/sh pre,interp",
        "/bin/sh post,interp",
        "/bin/sh preun,interp",
        "/bin/sh postun,interp",
        "/bin/sh interp,posttrans",
    ] {
        assert!(deps.lines().any(|l| l == want), "missing {want} in\n{deps}");
    }
    let out = run(&mut p.cmd(&["--json", "inspect", rpm.to_str().unwrap()]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "%pre -p /bin/sh",
            "%post -p /bin/sh",
            "%preun -p /bin/sh",
            "%postun -p /bin/sh",
            "%posttrans -p /bin/sh"
        ]
    );
    if !tool("shellcheck") {
        return;
    }
    for s in v["scripts"].as_array().unwrap() {
        let f = p.file("scriptlet.sh", s["text"].as_str().unwrap());
        run(Command::new("shellcheck").args(["-s", "sh"]).arg(&f));
    }
}

/// An empty root whose only programs are a static busybox as /bin/sh and
/// the few applets the scriptlets call.
fn scratch_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let busybox = stdout(&run(Command::new("sh").args(["-c", "command -v busybox"])));
    std::fs::copy(busybox.trim(), bin.join("busybox")).unwrap();
    for applet in ["sh", "mkdir", "rm", "rmdir"] {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
    }
    root
}

fn rpm_in(root: &Path, args: &[&str]) -> std::process::Output {
    // rpm on Debian keeps its database under ~/.rpmdb and warns "use Alien"
    // unless told otherwise. Installs need --nodeps: /bin/sh comes from no
    // package in this root.
    run(Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args(["--dbpath", "/var/lib/rpm", "--force-debian"])
        .args(args))
}

#[test]
fn install_upgrade_remove_run_each_user_script_once_with_normalised_arguments() {
    if !tool("rpm") || !tool("busybox") || !crate::common::root_user() {
        return;
    }
    let v1 = demo_with_scripts("1.0.0", "");
    let v2 = demo_with_scripts("2.0.0", "");
    let rpm1 = only_rpm(&v1.build("rpm"));
    let rpm2 = only_rpm(&v2.build("rpm"));
    let root = scratch_root();
    let r = root.path();
    let log = || std::fs::read_to_string(r.join("packwright.log")).unwrap_or_default();

    rpm_in(r, &["--nodeps", "-i", rpm1.to_str().unwrap()]);
    assert_eq!(log(), "pre-install||1.0.0-1\npost-install||1.0.0-1\n");
    let bin = std::fs::read_to_string(r.join("usr/bin/demo")).unwrap();
    assert_eq!(bin, "#!/bin/sh\necho demo 1.0.0\n");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(r.join("var/lib/demo"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o750);
    assert_eq!(
        std::fs::read_link(r.join("usr/sbin/demo")).unwrap(),
        Path::new("/usr/bin/demo")
    );

    // rpm's own verification: digests, sizes, modes, owners, link targets.
    let verify = rpm_in(r, &["--nodeps", "-V", "demo"]);
    assert_eq!(stdout(&verify), "");

    // The old package's %preun/%postun run during the upgrade with $1=1:
    // they must not run the pre-remove/post-remove snippets.
    rpm_in(r, &["--nodeps", "-U", rpm2.to_str().unwrap()]);
    assert_eq!(
        log(),
        "pre-install||1.0.0-1\npost-install||1.0.0-1\n\
         pre-upgrade||2.0.0-1\npost-upgrade||2.0.0-1\n"
    );
    let bin = std::fs::read_to_string(r.join("usr/bin/demo")).unwrap();
    assert_eq!(bin, "#!/bin/sh\necho demo 2.0.0\n");
    let q = stdout(&rpm_in(r, &["-q", "demo"]));
    assert_eq!(q, "demo-2.0.0-1.x86_64\n");

    // rpm has no purge: the purge snippet never runs.
    rpm_in(r, &["--nodeps", "-e", "demo"]);
    assert_eq!(
        log(),
        "pre-install||1.0.0-1\npost-install||1.0.0-1\n\
         pre-upgrade||2.0.0-1\npost-upgrade||2.0.0-1\n\
         pre-remove|2.0.0-1|\npost-remove|2.0.0-1|\n"
    );
    assert!(!r.join("usr/bin/demo").exists());
    assert!(!r.join("var/lib/demo").exists());
    // The upgrade marker is gone, and so is its directory.
    assert!(!r.join("var/lib/rpm-state/packwright").exists());
}

/// A throw-away OpenPGP key: (GNUPGHOME, armored secret key, armored public
/// key, long key id). Generated once per test run.
struct Key {
    _home: tempfile::TempDir,
    secret: PathBuf,
    public: PathBuf,
    id: String,
}

const PASSPHRASE: &str = "correct horse battery staple";

fn key() -> Option<&'static Key> {
    static KEY: OnceLock<Key> = OnceLock::new();
    if !tool("gpg") {
        return None;
    }
    Some(KEY.get_or_init(|| {
        let home = tempfile::tempdir().unwrap();
        let gnupg = home.path().join("gnupg");
        std::fs::create_dir(&gnupg).unwrap();
        std::fs::set_permissions(&gnupg, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let gpg = |args: &[&str]| {
            run(Command::new("gpg")
                .env("GNUPGHOME", &gnupg)
                .args([
                    "--batch",
                    "--pinentry-mode",
                    "loopback",
                    "--passphrase",
                    PASSPHRASE,
                ])
                .args(args))
        };
        gpg(&[
            "--quick-gen-key",
            "packwright test <test@packwright.invalid>",
            "ed25519",
            "sign",
            "never",
        ]);
        let secret = home.path().join("secret.asc");
        let public = home.path().join("public.asc");
        std::fs::write(&secret, gpg(&["--armor", "--export-secret-keys"]).stdout).unwrap();
        std::fs::write(&public, gpg(&["--armor", "--export"]).stdout).unwrap();
        let listing = stdout(&gpg(&["--with-colons", "--list-keys"]));
        let id = listing
            .lines()
            .find(|l| l.starts_with("pub:"))
            .and_then(|l| l.split(':').nth(4))
            .unwrap()
            .to_lowercase();
        Key {
            _home: home,
            secret,
            public,
            id,
        }
    }))
}

fn build_signed(p: &Project, key: &Key) -> PathBuf {
    let dist = p.dist();
    run(&mut p.cmd(&[
        "build",
        "--format",
        "rpm",
        "--out",
        dist.to_str().unwrap(),
        "--pgp-key",
        key.secret.to_str().unwrap(),
        "--pgp-passphrase",
        PASSPHRASE,
    ]));
    let files: Vec<PathBuf> = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    only_rpm(&files)
}

#[test]
fn signed_packages_verify_with_the_imported_key_and_rebuild_identically() {
    if !tool("rpm") {
        return;
    }
    let Some(key) = key() else { return };
    let p = demo_with_scripts("1.0.0", "");
    let rpm = build_signed(&p, key);
    let db = tempfile::tempdir().unwrap();
    let rpmdb = |args: &[&str]| {
        Command::new("rpm")
            .arg("--dbpath")
            .arg(db.path())
            .args(args)
            .output()
            .unwrap()
    };
    // Before the key is known the signature cannot be checked...
    let before = rpmdb(&["-K", rpm.to_str().unwrap()]);
    assert!(stdout(&before).contains("SIGNATURES NOT OK"), "{before:?}");
    assert!(rpmdb(&["--import", key.public.to_str().unwrap()])
        .status
        .success());
    // ...after `rpm --import` it verifies.
    let after = rpmdb(&["-Kv", rpm.to_str().unwrap()]);
    let text = stdout(&after);
    assert!(after.status.success(), "{text}");
    let short = &key.id[key.id.len() - 8..];
    assert!(
        text.contains(&format!("Signature, key ID {short}: OK")),
        "{text}"
    );
    assert!(text.contains("Payload SHA256 digest: OK"), "{text}");
    // inspect names the signer.
    let out = run(&mut p.cmd(&["--json", "inspect", rpm.to_str().unwrap()]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sig = v["fields"]["Signature"].as_str().unwrap();
    assert!(sig.ends_with(&key.id), "{sig} vs {}", key.id);

    // Signatures carry SOURCE_DATE_EPOCH: a rebuild is byte-identical.
    let first = std::fs::read(&rpm).unwrap();
    std::fs::remove_dir_all(p.dist()).unwrap();
    let again = std::fs::read(build_signed(&p, key)).unwrap();
    assert!(first == again, "signed rebuild differs");
}

#[test]
fn two_builds_are_byte_identical_whatever_the_input_timestamps() {
    let a = demo_with_scripts("1.0.0", "");
    let b = demo_with_scripts("1.0.0", "");
    // Different file times and a different project path.
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    std::fs::File::options()
        .write(true)
        .open(b.path().join("bin/demo"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let x = std::fs::read(only_rpm(&a.build("rpm"))).unwrap();
    let y = std::fs::read(only_rpm(&b.build("rpm"))).unwrap();
    assert!(x == y, "rpm builds differ");
}

#[test]
fn payload_compression_and_level_follow_the_manifest() {
    if !tool("rpm") || !tool("cpio") {
        return;
    }
    for (comp, level, want) in [
        ("gzip", "9", "gzip 9"),
        ("xz", "2", "xz 2"),
        ("zstd", "19", "zstd 19"),
        ("none", "", "(none) (none)"),
    ] {
        let level = if level.is_empty() {
            String::new()
        } else {
            format!("level = {level}\n")
        };
        let p = demo(
            "1.0.0",
            &format!("\n[format.rpm]\ncompression = \"{comp}\"\n{level}"),
        );
        let rpm = only_rpm(&p.build("rpm"));
        assert_eq!(
            rpm_q(&rpm, &["--qf", "%{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS}\n"]),
            format!("{want}\n")
        );
        let k = stdout(&run(Command::new("rpm").arg("-K").arg(&rpm)));
        assert!(k.ends_with("digests OK\n"), "{comp}: {k}");
        let listing = run(Command::new("sh")
            .arg("-c")
            .arg(format!("rpm2cpio '{}' | cpio -it --quiet", rpm.display())));
        assert!(stdout(&listing).contains("./usr/bin/demo\n"), "{comp}");
    }
}

/// `packwright build --format rpm` fails with exit code 2, a message that
/// names `field` and the format, and nothing in dist/.
fn refused(p: &Project, extra_args: &[&str], field: &str) -> String {
    let dist = p.dist();
    let mut args = vec!["build", "--format", "rpm", "--out", dist.to_str().unwrap()];
    args.extend_from_slice(extra_args);
    let out = p.packwright(&args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(field) && err.contains("rpm"), "{field}: {err}");
    let left: Vec<_> = std::fs::read_dir(&dist)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "dist/ holds {left:?}");
    err
}

#[test]
fn bad_input_is_refused_with_the_field_and_nothing_written() {
    let e = refused(&demo("1.0-beta", ""), &[], "package.version");
    assert!(e.contains("packwright.toml:3:"), "{e}");
    assert!(e.contains("`-`"), "{e}");
    refused(&demo("1.0@2", ""), &[], "package.version");
    let p =
        Project::new(&demo_manifest("1.0.0", "").replace("release = \"1\"", "release = \"1-2\""));
    p.exec("bin/demo", "#!/bin/sh\n");
    p.file("README.md", "x\n");
    refused(&p, &[], "package.release");
    refused(
        &demo("1.0.0", "\n[relations]\ndepends = [\"foo ~> 1\"]\n"),
        &[],
        "relations.depends[0]",
    );
    refused(
        &demo("1.0.0", "\n[format.rpm]\nfields = { Colour = \"blue\" }\n"),
        &[],
        "format.rpm.fields.Colour",
    );
    // Every architecture of the plan's table has an rpm name, so an unknown
    // one is stopped by the plan, naming the field.
    let p = Project::new(&demo_manifest("1.0.0", "").replace(
        "license = \"Apache-2.0\"",
        "license = \"Apache-2.0\"\narch = \"sparc64\"",
    ));
    p.exec("bin/demo", "#!/bin/sh\n");
    p.file("README.md", "x\n");
    let out = p.packwright(&["build", "--format", "rpm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("package.arch"), "{}", stderr(&out));

    let p = demo("1.0.0", "");
    let missing = p.path().join("no-such-key.asc");
    let e = refused(&p, &["--pgp-key", missing.to_str().unwrap()], "--pgp-key");
    assert!(e.contains("cannot be read"), "{e}");
    let Some(key) = key() else { return };
    let e = refused(
        &p,
        &[
            "--pgp-key",
            key.secret.to_str().unwrap(),
            "--pgp-passphrase",
            "wrong",
        ],
        "--pgp-passphrase",
    );
    assert!(e.contains("passphrase"), "{e}");
    refused(
        &p,
        &["--pgp-key", key.secret.to_str().unwrap()],
        "--pgp-passphrase",
    );
}

fn inspect_json(p: &Project, file: &Path) -> serde_json::Value {
    let out = run(&mut p.cmd(&["--json", "inspect", file.to_str().unwrap()]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn file_row(v: &serde_json::Value, path: &str) -> (String, String, String, String) {
    let f = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in {v}"));
    let s = |k: &str| f[k].as_str().unwrap().to_string();
    (s("kind"), s("mode"), s("owner"), s("group"))
}

#[test]
fn inspect_reads_an_rpm_built_by_nfpm() {
    if !tool("nfpm") {
        return;
    }
    let p = Project::new("");
    p.exec("app", "#!/bin/sh\necho app\n");
    p.file("pre.sh", "echo nfpm-pre\n");
    p.file(
        "nfpm.yaml",
        "name: othertool\nversion: 2.3.4\nrelease: 7\narch: amd64\nmaintainer: Other <o@example.org>\n\
         description: built by nfpm\nlicense: MIT\n\
         contents:\n  - src: app\n    dst: /usr/bin/othertool\n    file_info:\n      mode: 0750\n      owner: daemon\n      group: adm\n\
         scripts:\n  preinstall: pre.sh\n",
    );
    let out = p.path().join("other.rpm");
    run(Command::new("nfpm")
        .current_dir(p.path())
        .args([
            "pkg",
            "--packager",
            "rpm",
            "--config",
            "nfpm.yaml",
            "--target",
        ])
        .arg(&out));
    let v = inspect_json(&p, &out);
    assert_eq!(v["format"], "rpm");
    assert_eq!(v["fields"]["Name"], "othertool");
    assert_eq!(v["fields"]["Version"], "2.3.4");
    assert_eq!(v["fields"]["Release"], "7");
    assert_eq!(v["fields"]["Architecture"], "x86_64");
    assert_eq!(
        file_row(&v, "/usr/bin/othertool"),
        ("file".into(), "0750".into(), "daemon".into(), "adm".into())
    );
    let pre = v["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str().unwrap().starts_with("%pre"))
        .expect("nfpm's %pre");
    assert!(pre["text"].as_str().unwrap().contains("echo nfpm-pre"));
}

#[test]
fn inspect_reads_an_rpm_built_by_rpmbuild() {
    if !tool("rpmbuild") {
        return;
    }
    let p = Project::new("");
    p.file(
        "hello.spec",
        "Name: hello\nVersion: 1.2\nRelease: 3\nSummary: Hello from rpmbuild\nLicense: MIT\nBuildArch: noarch\n\
         %description\nA test package.\n\
         %install\nmkdir -p %{buildroot}/usr/share/hello %{buildroot}/var/lib/hello\n\
         echo hi > %{buildroot}/usr/share/hello/hi.txt\n\
         ln -s hi.txt %{buildroot}/usr/share/hello/link\n\
         %files\n%attr(0640,root,adm) /usr/share/hello/hi.txt\n/usr/share/hello/link\n%dir %attr(0700,daemon,daemon) /var/lib/hello\n\
         %post\necho rpmbuild-post \"$1\"\n",
    );
    let top = p.path().join("top");
    run(Command::new("rpmbuild")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .args(["--quiet", "-bb"])
        .arg(p.path().join("hello.spec")));
    let rpm = top.join("RPMS/noarch/hello-1.2-3.noarch.rpm");
    let v = inspect_json(&p, &rpm);
    assert_eq!(v["fields"]["Summary"], "Hello from rpmbuild");
    assert_eq!(
        file_row(&v, "/usr/share/hello/hi.txt"),
        ("file".into(), "0640".into(), "root".into(), "adm".into())
    );
    assert_eq!(
        file_row(&v, "/var/lib/hello"),
        (
            "dir".into(),
            "0700".into(),
            "daemon".into(),
            "daemon".into()
        )
    );
    let link = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/usr/share/hello/link")
        .unwrap();
    assert_eq!(link["link"], "hi.txt");
    let post = &v["scripts"].as_array().unwrap()[0];
    assert_eq!(post["name"], "%post -p /bin/sh");
    assert!(post["text"].as_str().unwrap().contains("rpmbuild-post"));
}

/// packwright's own package, signed, against rpmlint with the settings a
/// distribution's rpmlint configuration provides (see the config below).
#[test]
fn dogfood_rpm_is_rpmlint_clean_when_signed() {
    if !tool("rpmlint") || !tool("rpm") || !tool("strip") {
        return;
    }
    let Some(key) = key() else { return };
    let p = crate::common::dogfood();
    let rpm = build_signed(&p, key);
    assert!(rpm_q(&rpm, &["-l"]).contains("/usr/share/man/man1/packwright.1.gz\n"));

    // rpmlint checks the signature with plain `rpm -K`, whose database on
    // Debian is ~/.rpmdb: give it a HOME holding the imported key.
    let home = tempfile::tempdir().unwrap();
    run(Command::new("rpm")
        .env("HOME", home.path())
        .arg("--import")
        .arg(&key.public));
    let lint = |config: Option<&Path>| {
        let mut c = Command::new("rpmlint");
        c.env("HOME", home.path());
        if let Some(cfg) = config {
            c.arg("-c").arg(cfg);
        }
        let out = c.arg(&rpm).output().unwrap();
        stdout(&out) + &stderr(&out)
    };
    // Debian's rpmlint ships only upstream's defaults, which no package can
    // pass: an empty license list (every license is "invalid"), openSUSE's
    // old bzip2 man pages, and a bug in rpmlint 2.4's
    // no-manual-page-for-binary (it records man page sections, "1", instead
    // of page names, so every binary lacks a man page). Those three, for
    // each of the two binaries, and the deliberately static packwright-hook
    // (it runs in roots without a libc), and nothing else, are what the
    // defaults report.
    let plain = lint(None);
    let findings: Vec<&str> = plain
        .lines()
        .filter(|l| l.contains(": W: ") || l.contains(": E: "))
        .collect();
    assert_eq!(
        findings,
        [
            "packwright.x86_64: E: statically-linked-binary /usr/bin/packwright-hook",
            "packwright.x86_64: W: no-manual-page-for-binary packwright",
            "packwright.x86_64: W: no-manual-page-for-binary packwright-hook",
            "packwright.x86_64: W: manpage-not-compressed bz2 /usr/share/man/man1/packwright-hook.1.gz",
            "packwright.x86_64: W: manpage-not-compressed bz2 /usr/share/man/man1/packwright.1.gz",
            "packwright.x86_64: W: invalid-license Apache-2.0",
        ],
        "{plain}"
    );
    // With what Fedora's rpmlint configuration sets (gzip man pages, an
    // SPDX license list), the 2.4 bug filtered, and the package's one
    // documented exception (the static hook, as in its lintian override),
    // it is clean.
    let cfg = p.file(
        "rpmlint.toml",
        "CompressExtension = \"gz\"\nValidLicenses = [\"Apache-2.0\"]\n\
         Filters = [\"no-manual-page-for-binary packwright(-hook)?$\", \"statically-linked-binary /usr/bin/packwright-hook$\"]\n",
    );
    let clean = lint(Some(&cfg));
    assert!(
        clean.contains("1 packages and 0 specfiles checked; 0 errors, 0 warnings"),
        "{clean}"
    );
}

#[test]
fn a_failing_pre_upgrade_snippet_stops_the_upgrade() {
    if !tool("rpm") || !tool("busybox") || !crate::common::root_user() {
        return;
    }
    let v1 = demo_with_scripts("1.0.0", "");
    let v2 = demo_with_scripts("2.0.0", "");
    v2.file(
        "scripts/pre-upgrade.sh",
        "echo refused >> /packwright.log\nexit 3\n",
    );
    let rpm1 = only_rpm(&v1.build("rpm"));
    let rpm2 = only_rpm(&v2.build("rpm"));
    let root = scratch_root();
    let r = root.path();
    rpm_in(r, &["--nodeps", "-i", rpm1.to_str().unwrap()]);
    let out = Command::new("rpm")
        .arg("--root")
        .arg(r)
        .args([
            "--dbpath",
            "/var/lib/rpm",
            "--force-debian",
            "--nodeps",
            "-U",
        ])
        .arg(&rpm2)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the upgrade went through");
    assert_eq!(stdout(&rpm_in(r, &["-q", "demo"])), "demo-1.0.0-1.x86_64\n");
    let bin = std::fs::read_to_string(r.join("usr/bin/demo")).unwrap();
    assert_eq!(bin, "#!/bin/sh\necho demo 1.0.0\n");
    let log = std::fs::read_to_string(r.join("packwright.log")).unwrap();
    assert_eq!(
        log,
        "pre-install||1.0.0-1\npost-install||1.0.0-1\nrefused\n"
    );
}
