//! The Alpine .apk writer, judged by the strict reader (tests/common/
//! apk_reader.rs), by openssl, by busybox sh and dash, and by `inspect` on
//! packages nfpm built. The real `apk` is not in Debian's archive.

use crate::common::apk_reader::{self, check, split_members};
use crate::common::{demo, run, stderr, tool, Project};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn only_apk(dist: &[PathBuf]) -> PathBuf {
    let apks: Vec<_> = dist
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "apk"))
        .collect();
    assert_eq!(apks.len(), 1, "{dist:?}");
    apks[0].clone()
}

/// An RSA key pair made by openssl: (private PEM path, public PEM text).
/// `traditional`: PKCS#1 (`BEGIN RSA PRIVATE KEY`) instead of PKCS#8.
fn keypair(dir: &Path, name: &str, traditional: bool) -> (PathBuf, String) {
    let key = dir.join(name);
    let mut gen = Command::new("openssl");
    gen.arg("genrsa");
    if traditional {
        gen.arg("-traditional");
    }
    run(gen.arg("-out").arg(&key).arg("2048"));
    let out = run(Command::new("openssl")
        .arg("rsa")
        .arg("-in")
        .arg(&key)
        .arg("-pubout"));
    (key, String::from_utf8(out.stdout).unwrap())
}

fn build_signed(p: &Project, key: &Path, extra: &[&str]) -> PathBuf {
    let dist = p.dist();
    let mut args = vec![
        "build",
        "--format",
        "apk",
        "--out",
        dist.to_str().unwrap(),
        "--rsa-key",
        key.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&mut p.cmd(&args));
    only_apk(
        &std::fs::read_dir(&dist)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect::<Vec<_>>(),
    )
}

fn strict(bytes: &[u8], key: Option<&str>) -> apk_reader::Apk {
    check(bytes, key)
        .unwrap_or_else(|e| panic!("strict reader rejects the package:\n  {}", e.join("\n  ")))
}

/// The errors the strict reader reports; panics if it accepts.
fn rejected(bytes: &[u8], key: Option<&str>) -> Vec<String> {
    match check(bytes, key) {
        Ok(_) => panic!("the strict reader accepted a broken package"),
        Err(e) => e,
    }
}

fn assert_caught(errs: &[String], needle: &str) {
    assert!(
        errs.iter().any(|e| e.contains(needle)),
        "expected an error containing {needle:?}, got {errs:#?}"
    );
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Recompute the ustar checksum of the header at `at`.
fn fix_checksum(tar: &mut [u8], at: usize) {
    tar[at + 148..at + 156].fill(b' ');
    let sum: u32 = tar[at..at + 512].iter().map(|&b| u32::from(b)).sum();
    tar[at + 148..at + 156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{:?} not found", String::from_utf8_lossy(needle)))
}

#[test]
fn unsigned_demo_package_passes_the_strict_reader() {
    let p = demo("1.2.3_rc1", "");
    let apk = only_apk(&p.build("apk"));
    assert_eq!(apk.file_name().unwrap(), "demo-1.2.3_rc1-r1.apk");
    let bytes = std::fs::read(&apk).unwrap();
    let a = strict(&bytes, None);
    assert_eq!(a.members.len(), 2, "unsigned: control and data only");
    assert!(a.signature.is_none());
    assert_eq!(a.field("pkgname"), Some("demo"));
    assert_eq!(a.field("pkgver"), Some("1.2.3_rc1-r1"));
    assert_eq!(a.field("arch"), Some("x86_64"));
    assert_eq!(a.field("origin"), Some("demo"));
    assert_eq!(a.field("license"), Some("Apache-2.0"));
    assert_eq!(a.field("url"), Some("https://example.org/demo"));
    assert_eq!(a.field("packager"), Some("Demo Team <demo@example.org>"));
    assert_eq!(a.field("builddate"), Some("1700000000"));
    let bin = a.file("/usr/bin/demo").expect("the binary is packed");
    assert_eq!(
        (bin.mode, bin.data.as_slice()),
        (0o755, &b"#!/bin/sh\necho demo\n"[..])
    );
    assert_eq!(
        (bin.uname.as_str(), bin.uid, bin.mtime),
        ("root", 0, 1_700_000_000)
    );
    let var = a.file("/var/lib/demo").expect("the data dir is packed");
    assert_eq!(var.mode, 0o750);
    let link = a.file("/usr/sbin/demo").unwrap();
    assert_eq!(
        link.kind,
        apk_reader::EntryKind::Symlink("/usr/bin/demo".into())
    );
    assert!(a.file("/usr/share/doc/demo/README.md").is_some());
    // Parents precede children, as apk creates directories in stream order.
    let names: Vec<&str> = a.data.iter().map(|e| e.name.as_str()).collect();
    assert!(
        names.iter().position(|n| *n == "usr/").unwrap()
            < names.iter().position(|n| *n == "usr/bin/demo").unwrap()
    );
}

#[test]
fn relations_long_names_and_owners_reach_apk() {
    let long_dir = format!("/usr/share/demo/{}", "d".repeat(110));
    let long_target = format!("{long_dir}/data.txt");
    let extra = format!(
        r#"[relations]
depends = ["musl (>= 1.2.4)", "so:libc.musl-x86_64.so.1"]
conflicts = ["olddemo"]
provides = ["demo-server=1.0.0-r1"]
replaces = ["olddemo"]
recommends = ["bash"]

[[files]]
src = "data.txt"
dst = "{long_target}"
owner = "demo"
group = "demo"
mode = "0640"

[[symlinks]]
path = "/usr/share/demo/current"
target = "{long_target}"
"#
    );
    let p = demo("1.0.0", &extra);
    p.file("data.txt", "payload\n");
    let a = strict(&std::fs::read(only_apk(&p.build("apk"))).unwrap(), None);
    assert_eq!(
        a.fields("depend"),
        ["musl>=1.2.4", "so:libc.musl-x86_64.so.1", "!olddemo"]
    );
    assert_eq!(a.fields("provides"), ["demo-server=1.0.0-r1"]);
    assert_eq!(a.fields("replaces"), ["olddemo"]);
    let f = a
        .file(&long_target)
        .expect("a path past 100 bytes keeps its full name");
    assert_eq!(
        (f.uname.as_str(), f.gname.as_str(), f.mode),
        ("demo", "demo", 0o640)
    );
    // The reader, like apk, ignores GNU long-link records: the full target
    // can only have come from the PAX linkpath.
    let l = a.file("/usr/share/demo/current").unwrap();
    assert_eq!(l.kind, apk_reader::EntryKind::Symlink(long_target.clone()));
}

#[test]
fn signed_package_verifies_with_the_public_key_and_names_it() {
    if !tool("openssl") {
        return;
    }
    let p = demo("1.0.0", "");
    let (key, public) = keypair(p.path(), "builder@example.org-5f3a.rsa", false);
    let apk = build_signed(&p, &key, &[]);
    let bytes = std::fs::read(&apk).unwrap();
    let a = strict(&bytes, Some(&public));
    let (alg, name, sig) = a.signature.clone().unwrap();
    assert_eq!(
        (alg.as_str(), name.as_str()),
        ("RSA", "builder@example.org-5f3a.rsa.pub")
    );
    assert_eq!(sig.len(), 256, "a 2048-bit RSA signature");

    // openssl, as abuild-sign uses it, agrees on the control member's bytes.
    let control = p.path().join("control.tar.gz");
    std::fs::write(&control, &a.members[1].raw).unwrap();
    std::fs::write(p.path().join("sig"), &sig).unwrap();
    std::fs::write(p.path().join("pub.pem"), &public).unwrap();
    run(Command::new("openssl").current_dir(p.path()).args([
        "dgst",
        "-sha1",
        "-verify",
        "pub.pem",
        "-signature",
        "sig",
        "control.tar.gz",
    ]));

    // Another key does not verify it.
    let (_, other) = keypair(p.path(), "other.rsa", false);
    assert_caught(
        &rejected(&bytes, Some(&other)),
        "signature: does not verify",
    );
}

#[test]
fn pkcs1_keys_and_explicit_key_names_work() {
    if !tool("openssl") {
        return;
    }
    let p = demo("1.0.0", "");
    let (key, public) = keypair(p.path(), "legacy.pem", true);
    assert!(std::fs::read_to_string(&key)
        .unwrap()
        .contains("BEGIN RSA PRIVATE KEY"));
    let apk = build_signed(&p, &key, &["--rsa-key-name", "ops-61a2b3c4.rsa.pub"]);
    let a = strict(&std::fs::read(apk).unwrap(), Some(&public));
    assert_eq!(a.signature.unwrap().1, "ops-61a2b3c4.rsa.pub");
}

#[test]
fn dogfood_package_passes_the_strict_reader() {
    if !tool("strip") {
        return;
    }
    let p = crate::common::dogfood();
    let apk = only_apk(&p.build("apk"));
    assert_eq!(apk.file_name().unwrap(), "packwright-0.1.0-r1.apk");
    let a = strict(&std::fs::read(&apk).unwrap(), None);
    assert_eq!(a.field("pkgname"), Some("packwright"));
    let bin = a.file("/usr/bin/packwright").unwrap();
    assert_eq!(bin.mode, 0o755);
    assert!(bin.data.starts_with(b"\x7fELF"));
    assert!(
        a.file("/usr/share/man/man1/packwright.1.gz").is_some(),
        "man pages are compressed for system packages"
    );
}

#[test]
fn two_builds_are_byte_identical() {
    if !tool("openssl") {
        return;
    }
    let keydir = tempfile::tempdir().unwrap();
    let (key, _) = keypair(keydir.path(), "repro.rsa", false);
    let one = demo("2.0.0", "");
    let two = demo("2.0.0", "");
    // Different input mtimes must not matter.
    let f = std::fs::File::options()
        .write(true)
        .open(two.path().join("README.md"))
        .unwrap();
    f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(12345))
        .unwrap();
    let a = std::fs::read(build_signed(&one, &key, &[])).unwrap();
    let b = std::fs::read(build_signed(&two, &key, &[])).unwrap();
    assert!(a == b, "two builds of the same inputs differ");
    let u1 = std::fs::read(only_apk(&demo("2.0.0", "").build("apk"))).unwrap();
    let u2 = std::fs::read(only_apk(&demo("2.0.0", "").build("apk"))).unwrap();
    assert!(u1 == u2, "two unsigned builds differ");
}

// ---- every property has a negative test ----------------------------------

fn signed_demo() -> (Vec<u8>, String, Project) {
    let p = demo("1.0.0", "[scripts]\npost-install = \"post.sh\"\n");
    p.file("post.sh", "echo installed\n");
    let (key, public) = keypair(p.path(), "neg.rsa", false);
    let bytes = std::fs::read(build_signed(&p, &key, &[])).unwrap();
    strict(&bytes, Some(&public));
    (bytes, public, p)
}

#[test]
fn broken_signatures_and_stream_layouts_are_caught() {
    if !tool("openssl") {
        return;
    }
    let (bytes, public, _p) = signed_demo();
    let m = split_members(&bytes).unwrap();
    let (sig, control, data) = (&m[0], &m[1], &m[2]);

    // A flipped bit in the signature blob (the stream itself stays valid gzip).
    let mut t = sig.tar.clone();
    t[512 + 10] ^= 1;
    assert_caught(
        &rejected(&concat(&[&gz(&t), &control.raw, &data.raw]), Some(&public)),
        "signature: does not verify",
    );

    // Unsigned when a key is required.
    assert_caught(
        &rejected(&concat(&[&control.raw, &data.raw]), Some(&public)),
        "not signed",
    );

    // A corrupt byte inside a compressed member: gzip's CRC catches it.
    let mut c = bytes.clone();
    let at = sig.raw.len() + control.raw.len() / 2;
    c[at] ^= 0xff;
    assert!(check(&c, Some(&public)).is_err());

    // Streams swapped: control first, then the signature.
    assert_caught(
        &rejected(&concat(&[&control.raw, &sig.raw, &data.raw]), None),
        "control stream: the first entry is not .PKGINFO",
    );

    // Data split into two gzip members (apk: APKE_FORMAT_INVALID).
    let half = data.tar.len() / 2 / 512 * 512;
    let split = concat(&[
        &sig.raw,
        &control.raw,
        &gz(&data.tar[..half]),
        &gz(&data.tar[half..]),
    ]);
    assert_caught(&rejected(&split, None), "gzip members: expected 2");

    // Control stream with end-of-archive blocks (apk would stop reading there).
    let mut ended = control.tar.clone();
    ended.extend_from_slice(&[0u8; 1024]);
    assert_caught(
        &rejected(&concat(&[&gz(&ended), &data.raw]), None),
        "control stream: end-of-archive block",
    );

    // Signature stream with end-of-archive blocks.
    let mut ended = sig.tar.clone();
    ended.extend_from_slice(&[0u8; 1024]);
    assert_caught(
        &rejected(&concat(&[&gz(&ended), &control.raw, &data.raw]), None),
        "signature stream: end-of-archive block",
    );

    // Data stream without its end-of-archive blocks.
    assert!(data.tar.ends_with(&[0u8; 1024]));
    let cut = gz(&data.tar[..data.tar.len() - 1024]);
    assert_caught(
        &rejected(&concat(&[&control.raw, &cut]), None),
        "no end-of-archive blocks",
    );
}

#[test]
fn wrong_hashes_sizes_fields_and_modes_are_caught() {
    if !tool("openssl") {
        return;
    }
    let (bytes, _public, _p) = signed_demo();
    let m = split_members(&bytes).unwrap();
    let (control, data) = (&m[1], &m[2]);

    // Same data, other gzip bytes: datahash no longer matches.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(1));
    e.write_all(&data.tar).unwrap();
    let regz = e.finish().unwrap();
    assert_ne!(regz, data.raw);
    assert_caught(&rejected(&concat(&[&control.raw, &regz]), None), "datahash");

    // A file's content changed (same length): its SHA-1 record no longer matches.
    let mut t = data.tar.clone();
    let at = find(&t, b"echo demo");
    t[at] = b'E';
    assert_caught(
        &rejected(&concat(&[&control.raw, &gz(&t)]), None),
        "APK-TOOLS.checksum.SHA1 is",
    );

    // A file without its SHA-1 record.
    let mut t = data.tar.clone();
    let at = find(&t, b"APK-TOOLS.checksum.SHA1");
    t[at..at + 3].copy_from_slice(b"XPK");
    assert_caught(
        &rejected(&concat(&[&control.raw, &gz(&t)]), None),
        "has no APK-TOOLS.checksum.SHA1",
    );

    // A tar header checksum off by one.
    let mut t = data.tar.clone();
    t[148 + 5] ^= 1;
    assert_caught(
        &rejected(&concat(&[&control.raw, &gz(&t)]), None),
        "checksum",
    );

    // .PKGINFO: wrong size, a missing field.
    let info = &control.tar[512..];
    let text = String::from_utf8_lossy(&info[..find(info, b"\0")]).into_owned();
    let size_line = text
        .lines()
        .find(|l| l.starts_with("size = "))
        .unwrap()
        .to_string();
    let mut wrong = size_line.clone().into_bytes();
    let last = wrong.len() - 1;
    wrong[last] = if wrong[last] == b'9' {
        b'8'
    } else {
        wrong[last] + 1
    };
    let mut t = control.tar.clone();
    let at = find(&t, size_line.as_bytes());
    t[at..at + wrong.len()].copy_from_slice(&wrong);
    assert_caught(
        &rejected(&concat(&[&gz(&t), &data.raw]), None),
        ".PKGINFO: size",
    );

    let mut t = control.tar.clone();
    let at = find(&t, b"\nlicense = ");
    t[at + 1..at + 8].copy_from_slice(b"licensX");
    assert_caught(
        &rejected(&concat(&[&gz(&t), &data.raw]), None),
        "required field `license`",
    );

    // A script that is not executable.
    let mut t = control.tar.clone();
    let at = find(&t, b".post-install\0");
    t[at + 100..at + 108].copy_from_slice(b"0000644\0");
    fix_checksum(&mut t, at);
    assert_caught(
        &rejected(&concat(&[&gz(&t), &data.raw]), None),
        "script .post-install: mode 0644",
    );
}

// ---- scripts ---------------------------------------------------------------

const ALL_SCRIPTS: &str = r#"[scripts]
pre-install = "s/pre-install.sh"
post-install = "s/post-install.sh"
pre-upgrade = "s/pre-upgrade.sh"
post-upgrade = "s/post-upgrade.sh"
pre-remove = "s/pre-remove.sh"
post-remove = "s/post-remove.sh"
purge = "s/purge.sh"
"#;

#[test]
fn scripts_get_normalised_arguments_under_busybox_sh_and_dash() {
    let p = demo("1.0.0", ALL_SCRIPTS);
    for ev in [
        "pre-install",
        "post-install",
        "pre-upgrade",
        "post-upgrade",
        "pre-remove",
        "post-remove",
        "purge",
    ] {
        // `exit 0` ends only the user's snippet, never the generated script.
        p.file(
            &format!("s/{ev}.sh"),
            "printf '%s|%s|%s\\n' \"$1\" \"$2\" \"$3\" >> \"$LOG\"\nexit 0\n",
        );
    }
    let a = strict(&std::fs::read(only_apk(&p.build("apk"))).unwrap(), None);
    let names: Vec<&str> = a.control.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            ".pre-install",
            ".post-install",
            ".pre-upgrade",
            ".post-upgrade",
            ".pre-deinstall",
            ".post-deinstall"
        ]
    );

    // apk has no purge; the purge snippet (usually deleting data) must not
    // run on a plain `apk del`.
    assert!(
        !a.control
            .iter()
            .any(|e| String::from_utf8_lossy(&e.data).contains("purge")),
        "no apk script embeds the purge snippet"
    );

    // apk's own arguments (apk-tools database.c): install NEW, upgrade NEW OLD, deinstall OLD.
    let cases: &[(&str, &[&str], &str)] = &[
        (".pre-install", &["1.0.0-r1"], "pre-install||1.0.0-r1"),
        (".post-install", &["1.0.0-r1"], "post-install||1.0.0-r1"),
        (
            ".pre-upgrade",
            &["1.0.0-r1", "0.9.0-r2"],
            "pre-upgrade|0.9.0-r2|1.0.0-r1",
        ),
        (
            ".post-upgrade",
            &["1.0.0-r1", "0.9.0-r2"],
            "post-upgrade|0.9.0-r2|1.0.0-r1",
        ),
        (".pre-deinstall", &["1.0.0-r1"], "pre-remove|1.0.0-r1|"),
        (".post-deinstall", &["1.0.0-r1"], "post-remove|1.0.0-r1|"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let shells: Vec<Vec<&str>> = [vec!["busybox", "sh"], vec!["dash"]]
        .into_iter()
        .filter(|s| tool(s[0]))
        .collect();
    assert!(!shells.is_empty() || std::env::var_os("CI").is_none());
    for shell in &shells {
        for (name, args, want) in cases {
            let script = dir.path().join(name.trim_start_matches('.'));
            std::fs::write(&script, &a.script(name).unwrap().data).unwrap();
            run(Command::new(shell[0])
                .args(&shell[1..])
                .arg("-n")
                .arg(&script));
            let log = dir.path().join("log");
            let _ = std::fs::remove_file(&log);
            // apk runs scripts with only PATH in the environment; LOG is the test's.
            let out = run(Command::new(shell[0])
                .args(&shell[1..])
                .arg(&script)
                .args(*args)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap())
                .env("LOG", &log));
            assert_eq!(
                std::fs::read_to_string(&log).unwrap(),
                format!("{want}\n"),
                "{shell:?} {name} {args:?}: {}",
                stderr(&out)
            );
        }
    }
}

#[test]
fn generated_scripts_pass_shellcheck() {
    if !tool("shellcheck") {
        return;
    }
    let p = demo("1.0.0", ALL_SCRIPTS);
    for ev in [
        "pre-install",
        "post-install",
        "pre-upgrade",
        "post-upgrade",
        "pre-remove",
        "post-remove",
        "purge",
    ] {
        p.file(&format!("s/{ev}.sh"), "echo \"$1 $2 $3\"\n");
    }
    let a = strict(&std::fs::read(only_apk(&p.build("apk"))).unwrap(), None);
    let dir = tempfile::tempdir().unwrap();
    for s in &a.control {
        let f = dir.path().join(s.name.trim_start_matches('.'));
        std::fs::write(&f, &s.data).unwrap();
        run(Command::new("shellcheck").args(["-s", "sh"]).arg(&f));
    }
}

// ---- inspect ---------------------------------------------------------------

fn inspect_json(p: &Project, file: &Path) -> serde_json::Value {
    let out = run(&mut p.cmd(&["--json", "inspect", file.to_str().unwrap()]));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn inspect_reads_our_signed_package() {
    if !tool("openssl") {
        return;
    }
    let (_, _, p) = signed_demo();
    let apk = only_apk(
        &std::fs::read_dir(p.dist())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect::<Vec<_>>(),
    );
    let j = inspect_json(&p, &apk);
    assert_eq!(j["format"], "apk");
    assert_eq!(j["fields"]["pkgname"], "demo");
    assert_eq!(j["fields"]["pkgver"], "1.0.0-r1");
    assert_eq!(j["fields"]["signed"], true);
    assert_eq!(j["fields"]["signatures"][0]["key"], "neg.rsa.pub");
    let files: Vec<&str> = j["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"/usr/bin/demo") && files.contains(&"/usr/sbin/demo"),
        "{files:?}"
    );
    assert!(
        !files
            .iter()
            .any(|f| f.contains(".PKGINFO") || f.contains(".SIGN")),
        "{files:?}"
    );
    assert_eq!(j["scripts"][0]["name"], ".post-install");
    assert!(j["scripts"][0]["text"]
        .as_str()
        .unwrap()
        .contains("echo installed"));
}

#[test]
fn inspect_reads_packages_nfpm_built_signed_and_unsigned() {
    if !tool("nfpm") || !tool("openssl") {
        return;
    }
    let p = Project::new("");
    p.exec("hello", "#!/bin/sh\necho hello\n");
    p.file("post.sh", "echo post-install ran\n");
    keypair(p.path(), "k.rsa", false);
    let yaml = |sign: &str| {
        format!(
        "name: thirdparty\narch: arm64\nplatform: linux\nversion: 2.1.0\nrelease: 3\nmaintainer: Someone <s@example.org>\ndescription: A tool packwright did not build\nlicense: MIT\ndepends:\n  - musl\ncontents:\n  - src: ./hello\n    dst: /usr/bin/hello\n    file_info:\n      mode: 0755\nscripts:\n  postinstall: ./post.sh\n{sign}"
    )
    };
    for (signed, sign) in [
        (false, String::new()),
        (
            true,
            "apk:\n  signature:\n    key_file: k.rsa\n    key_name: someone-1234.rsa.pub\n"
                .to_string(),
        ),
    ] {
        let out = p.path().join(if signed { "signed" } else { "unsigned" });
        std::fs::create_dir_all(&out).unwrap();
        p.file("nfpm.yaml", &yaml(&sign));
        run(Command::new("nfpm")
            .current_dir(p.path())
            .args(["package", "-f", "nfpm.yaml", "-p", "apk", "-t"])
            .arg(&out));
        let apk = std::fs::read_dir(&out)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let j = inspect_json(&p, &apk);
        assert_eq!(j["format"], "apk", "{j}");
        assert_eq!(j["fields"]["pkgname"], "thirdparty");
        assert_eq!(j["fields"]["pkgver"], "2.1.0-r3");
        assert_eq!(j["fields"]["arch"], "aarch64");
        assert_eq!(j["fields"]["depend"], "musl");
        assert_eq!(j["fields"]["signed"], signed);
        if signed {
            assert_eq!(j["fields"]["signatures"][0]["key"], "someone-1234.rsa.pub");
        }
        let hello = j["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "/usr/bin/hello")
            .expect("file list");
        assert_eq!(
            (hello["kind"].as_str(), hello["mode"].as_str()),
            (Some("file"), Some("0755"))
        );
        assert_eq!(j["scripts"][0]["name"], ".post-install");
        assert!(j["scripts"][0]["text"]
            .as_str()
            .unwrap()
            .contains("post-install ran"));
    }
}

// ---- bad input ---------------------------------------------------------------

/// The build fails with exit code 2, names `key` and apk, and leaves nothing
/// under dist/ (not even a temp file).
fn refused(p: &Project, args: &[&str], key: &str) -> String {
    let dist = p.dist();
    let mut all = vec!["build", "--format", "apk", "--out", dist.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = p.packwright(&all);
    let err = stderr(&out);
    assert!(!out.status.success(), "the build succeeded");
    assert!(
        err.contains(key) && err.contains("apk"),
        "the error names {key} and apk: {err}"
    );
    let left: Vec<_> = std::fs::read_dir(&dist)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "files left behind: {left:?}");
    err
}

#[test]
fn versions_apk_rejects_are_refused_before_writing() {
    for bad in ["1.0-beta", "1.0~rc1", "v2.0", "1.0+dfsg", "2.0_foo1"] {
        let p = demo(bad, "");
        let err = refused(&p, &[], "package.version");
        assert!(err.contains(bad) && err.contains(":"), "{err}");
        assert_eq!(
            p.packwright(&[
                "build",
                "--format",
                "apk",
                "--out",
                p.dist().to_str().unwrap()
            ])
            .status
            .code(),
            Some(2)
        );
    }
    let p = Project::new(&crate::common::demo_manifest(
        "1.0.0",
        "[format.apk]\nrelease = \"1a\"\n",
    ));
    p.exec("bin/demo", "#!/bin/sh\n");
    p.file("README.md", "x\n");
    refused(&p, &[], "release");
}

#[test]
fn non_gzip_compression_and_bad_dependencies_are_refused() {
    let p = demo("1.0.0", "[format.apk]\ncompression = \"xz\"\n");
    refused(&p, &[], "format.apk.compression");
    let p = demo("1.0.0", "[relations.apk]\ndepends = [\"foo | bar\"]\n");
    refused(&p, &[], "relations.depends");
}

#[test]
fn missing_or_bad_keys_are_refused_and_leave_nothing() {
    let p = demo("1.0.0", "");
    let err = refused(&p, &["--rsa-key", "/nonexistent/key.rsa"], "--rsa-key");
    assert!(err.contains("/nonexistent/key.rsa"), "{err}");
    p.file(
        "garbage.rsa",
        "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n",
    );
    refused(
        &p,
        &["--rsa-key", p.path().join("garbage.rsa").to_str().unwrap()],
        "--rsa-key",
    );
    if tool("openssl") {
        let enc = p.path().join("enc.rsa");
        run(Command::new("openssl")
            .args(["genrsa", "-aes256", "-passout", "pass:secret", "-out"])
            .arg(&enc)
            .arg("2048"));
        let err = refused(&p, &["--rsa-key", enc.to_str().unwrap()], "--rsa-key");
        assert!(err.contains("encrypted"), "{err}");
    }
    p.file("cert.pem", "hello\n");
    refused(
        &p,
        &["--rsa-key", p.path().join("cert.pem").to_str().unwrap()],
        "--rsa-key",
    );
}

#[test]
fn strict_reader_accepts_what_nfpm_builds() {
    // A cross-check of the reader itself: nfpm's apk packager follows abuild
    // too, so the reader must not be stricter than the format.
    if !tool("nfpm") || !tool("openssl") {
        return;
    }
    let p = Project::new("");
    p.exec("hello", "#!/bin/sh\necho hello\n");
    let (_, public) = keypair(p.path(), "k.rsa", false);
    p.file("nfpm.yaml", "name: x\narch: amd64\nversion: 1.0.0\nmaintainer: M <m@example.org>\ndescription: d\nlicense: MIT\nhomepage: https://example.org\ncontents:\n  - src: ./hello\n    dst: /usr/bin/hello\napk:\n  signature:\n    key_file: k.rsa\n");
    let out = p.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    run(Command::new("nfpm")
        .current_dir(p.path())
        .args(["package", "-f", "nfpm.yaml", "-p", "apk", "-t"])
        .arg(&out));
    let apk = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    match check(&std::fs::read(&apk).unwrap(), Some(&public)) {
        Ok(_) => {}
        Err(errs) => {
            // nfpm's .PKGINFO departs from abuild's (no builddate, packager
            // or origin, no -r without a release, mode 0600), which this
            // reader holds packwright to; the streams, signature, datahash,
            // size and per-file checksums must all hold.
            let structural: Vec<_> = errs
                .iter()
                .filter(|e| {
                    !e.starts_with(".PKGINFO:") || e.contains("datahash") || e.contains("size")
                })
                .collect();
            assert!(structural.is_empty(), "{errs:#?}");
        }
    }
}

#[test]
fn inspect_tells_apk_from_a_gzip_tar_that_starts_with_pkginfo() {
    // An old pacman package (.pkg.tar.gz) also starts with .PKGINFO, but is
    // one gzip member; an apk always has more than one.
    let p = Project::new("");
    p.file("pkg/.PKGINFO", "pkgname = other\npkgver = 1-1\n");
    p.file("pkg/usr/bin/other", "x\n");
    let file = p.path().join("other-1-1-x86_64.pkg.tar.gz");
    run(Command::new("tar")
        .current_dir(p.path().join("pkg"))
        .arg("czf")
        .arg(&file)
        .args([".PKGINFO", "usr"]));
    assert_eq!(inspect_json(&p, &file)["format"], "pacman");
    let d = demo("1.0.0", "");
    let apk = only_apk(&d.build("apk"));
    assert_eq!(
        inspect_json(&p, &apk)["format"],
        "apk",
        "unsigned apks start with .PKGINFO too"
    );
}
