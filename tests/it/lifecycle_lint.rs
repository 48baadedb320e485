//! Every maintainer script packwright generates for the imsrv fixture, in
//! all four formats, read back with the managers' own tools, passes
//! `shellcheck -s sh` with no finding and parses with `dash -n` and
//! `busybox sh -n`; and `systemd-analyze verify` prints nothing for the
//! fixture's unit as installed.

use crate::common::imsrv::{self, UNIT};
use crate::common::lifecycle::build;
use crate::common::root::Manager;
use crate::common::{run, stdout, tool};
use std::path::{Path, PathBuf};
use std::process::Command;

/// (name, text) of the deb's maintainer scripts, from `dpkg-deb -e`.
fn deb_scripts(file: &Path, dir: &Path) -> Vec<(String, String)> {
    let ctl = dir.join("deb-control");
    run(Command::new("dpkg-deb").arg("-e").arg(file).arg(&ctl));
    ["preinst", "postinst", "prerm", "postrm"]
        .iter()
        .filter_map(|n| {
            let t = std::fs::read_to_string(ctl.join(n)).ok()?;
            Some((format!("deb {n}"), t))
        })
        .collect()
}

/// The scriptlets `rpm -qp --scripts` prints, split at its headers
/// (`preinstall scriptlet (using /bin/sh):`).
fn rpm_scripts(file: &Path) -> Vec<(String, String)> {
    let text = stdout(&run(Command::new("rpm")
        .args(["-qp", "--scripts"])
        .arg(file)));
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let header = line
            .strip_suffix("):")
            .and_then(|h| h.split_once(" scriptlet (using "));
        match header {
            Some((slot, shell)) => {
                assert_eq!(shell, "/bin/sh", "{line}");
                out.push((format!("rpm %{slot}"), String::new()));
            }
            None => {
                let (_, body) = out
                    .last_mut()
                    .unwrap_or_else(|| panic!("text before the first header:\n{text}"));
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    out
}

/// The pacman package's `.INSTALL`, read with bsdtar.
fn pacman_install(file: &Path) -> Vec<(String, String)> {
    let t = stdout(&run(Command::new("bsdtar")
        .arg("-xOf")
        .arg(file)
        .arg(".INSTALL")));
    vec![("pacman .INSTALL".into(), t)]
}

fn apk_scripts(file: &Path) -> Vec<(String, String)> {
    let apk = crate::common::apk_reader::check(&std::fs::read(file).unwrap(), None)
        .unwrap_or_else(|v| panic!("{}", v.join("\n")));
    apk.control
        .iter()
        .filter(|e| e.name.starts_with('.') && e.name != ".PKGINFO")
        .map(|e| {
            (
                format!("apk {}", e.name),
                String::from_utf8(e.data.clone()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_generated_script_passes_shellcheck_dash_and_busybox() {
    for t in ["shellcheck", "dash", "busybox", "dpkg-deb", "rpm", "bsdtar"] {
        if !tool(t) {
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for (mgr, get) in [
        (
            Manager::Dpkg,
            &(|f: &Path| deb_scripts(f, dir.path())) as &dyn Fn(&Path) -> Vec<(String, String)>,
        ),
        (Manager::Rpm, &rpm_scripts),
        (Manager::Pacman, &pacman_install),
        (Manager::Apk, &apk_scripts),
    ] {
        let b = build(mgr, "3.5.0");
        let found = get(&b.file);
        assert!(!found.is_empty(), "no scripts in {}", b.file.display());
        all.extend(found);
    }
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "deb preinst",
        "deb postinst",
        "deb prerm",
        "deb postrm",
        "rpm %preinstall",
        "rpm %postinstall",
        "rpm %preuninstall",
        "rpm %postuninstall",
        "rpm %posttrans",
        "pacman .INSTALL",
        "apk .pre-install",
        "apk .post-install",
        "apk .pre-upgrade",
        "apk .post-upgrade",
        "apk .pre-deinstall",
        "apk .post-deinstall",
    ] {
        assert!(names.contains(&want), "{want} missing; found {names:?}");
    }
    let mut failures = Vec::new();
    for (i, (name, text)) in all.iter().enumerate() {
        let f = dir.path().join(format!("script-{i}"));
        std::fs::write(&f, text).unwrap();
        let checks: [(&str, Vec<&str>); 3] = [
            ("shellcheck", vec!["-s", "sh"]),
            ("dash", vec!["-n"]),
            ("busybox", vec!["sh", "-n"]),
        ];
        for (prog, args) in checks {
            let o = Command::new(prog).args(&args).arg(&f).output().unwrap();
            let said = format!("{}{}", stdout(&o), crate::common::stderr(&o));
            if !o.status.success() || !said.is_empty() {
                failures.push(format!("{prog} {args:?} on {name}:\n{said}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Copy a directory's regular files (not recursive).
fn copy_files(from: &Path, to: &Path, suffix: &str) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(suffix) && e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

/// `systemd-analyze verify` (systemd 252) on the unit as the deb installs
/// it. Without --root it looks for ExecStart= programs on the HOST
/// ("Command /usr/bin/imsrv is not executable"); with `--root=ROOT` it finds
/// them in ROOT, but then also loads the unit's implicit dependencies
/// (sysinit.target, basic.target, shutdown.target) and the targets the unit
/// names from ROOT ("Unit sysinit.target not found"). So the root is the
/// package's payload (`dpkg-deb -x`) plus the host's `*.target` files.
/// It prints unknown keys and bad values as warnings with exit 0: any
/// output is a failure.
#[test]
fn systemd_analyze_verify_prints_nothing_for_the_unit() {
    if !tool("systemd-analyze") || !tool("dpkg-deb") {
        return;
    }
    let b = build(Manager::Dpkg, "3.5.0");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&b.file).arg(&root));
    let units = root.join("usr/lib/systemd/system");
    assert_eq!(
        std::fs::read_to_string(units.join(UNIT)).unwrap(),
        imsrv::UNIT_TEXT,
        "the unit as installed"
    );
    let host: PathBuf = ["/usr/lib/systemd/system", "/lib/systemd/system"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.join("sysinit.target").is_file())
        .expect("the host's systemd targets");
    copy_files(&host, &units, ".target");
    let o = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.display()))
        .arg(UNIT)
        .output()
        .unwrap();
    let said = format!("{}{}", stdout(&o), crate::common::stderr(&o));
    assert!(
        o.status.success() && said.is_empty(),
        "systemd-analyze verify ({}):\n{said}",
        o.status
    );

    // The check itself catches what it must: a misspelt key is reported.
    let bad = imsrv::UNIT_TEXT.replace("Type=simple", "Type=simple\nRestartSecs=5");
    std::fs::write(units.join(UNIT), bad).unwrap();
    let o = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.display()))
        .arg(UNIT)
        .output()
        .unwrap();
    let said = format!("{}{}", stdout(&o), crate::common::stderr(&o));
    assert!(said.contains("RestartSecs"), "{said}");
}
