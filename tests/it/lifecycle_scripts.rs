//! The generated lifecycle scripts on their own: the shell version order
//! agrees with packwright-hook's, the upgrade gate refuses what `[upgrade]`
//! says, the sysusers.d file works with the real systemd-sysusers, and the
//! scripts of a full fixture are pinned (insta).

use crate::common::{run, stderr, stdout, tool, Project};
use std::cmp::Ordering;
use std::process::Command;

const VERSION_SH: &str = include_str!("../../scripts/version.sh");

/// Pairs in ascending order, by the rule both implementations document.
const ORDERED: &[(&str, &str)] = &[
    ("3.9", "3.10"),
    ("3.5.0~rc1", "3.5.0-rc.2"),
    ("3.5.0-rc.2", "3.5.0"),
    ("3.5.0", "3.5.0-1"),
    ("3.5.0-1", "3.5.1"),
    ("3.4.9", "3.5.0~rc1"),
    ("1.0a", "1.0b"),
    ("1.0", "1.0a"),
    ("v2", "3"),
    ("2.9.99", "10"),
    ("1.0-alpha", "1.0-beta"),
    ("1.0-beta.2", "1.0-beta.10"),
];
const EQUAL: &[(&str, &str)] = &[("3.5", "3.5.0"), ("v1.2", "1.2"), ("3.08", "3.8")];

fn sh_compare(shell: &str, pairs: &[(&str, &str)]) -> Vec<String> {
    let mut script = String::from(VERSION_SH);
    for (a, b) in pairs {
        script.push_str(&format!("pw_vercmp '{a}' '{b}'\n"));
    }
    let out = run(Command::new(shell).arg("-c").arg(script));
    stdout(&out).lines().map(str::to_string).collect()
}

fn rust_compare(a: &str, b: &str) -> String {
    match packwright_hook::version::compare(a, b) {
        Ordering::Less => "-1",
        Ordering::Equal => "0",
        Ordering::Greater => "1",
    }
    .to_string()
}

#[test]
fn shell_and_hook_order_versions_the_same_way() {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut want = Vec::new();
    for (a, b) in ORDERED {
        pairs.extend([(*a, *b), (*b, *a)]);
        want.extend(["-1", "1"]);
    }
    for (a, b) in EQUAL {
        pairs.push((*a, *b));
        want.push("0");
    }
    for (i, (a, b)) in pairs.iter().enumerate() {
        assert_eq!(rust_compare(a, b), want[i], "packwright-hook: {a} vs {b}");
    }
    for shell in ["dash", "busybox"] {
        if !tool(shell) {
            continue;
        }
        let shell = if shell == "busybox" {
            "busybox sh"
        } else {
            shell
        };
        let got = if shell == "dash" {
            sh_compare("dash", &pairs)
        } else {
            let mut script = String::from(VERSION_SH);
            for (a, b) in &pairs {
                script.push_str(&format!("pw_vercmp '{a}' '{b}'\n"));
            }
            let out = run(Command::new("busybox").args(["sh", "-c", &script]));
            stdout(&out).lines().map(str::to_string).collect()
        };
        for (i, (a, b)) in pairs.iter().enumerate() {
            assert_eq!(got[i], want[i], "{shell}: {a} vs {b}");
        }
    }
}

fn fixture(upgrade: &str) -> Project {
    let p = Project::new(&format!(
        r#"[package]
name = "pwgate"
version = "${{VERSION:-3.5.0}}"
summary = "gate fixture"
maintainer = "A <a@example.org>"
license = "MIT"

[[files]]
src = "bin/pwgate"
dst = "/usr/bin/pwgate"

[[dirs]]
path = "/var/lib/pwgate"
mode = "0750"
owner = "pwgate"
group = "pwgate"

[[config]]
src = "config.yaml"
dst = "/etc/pwgate/config.yaml"
version-key = "version"
mode = "0640"
group = "pwgate"

[[config]]
src = "pwgate.env"
dst = "/etc/pwgate/pwgate.env"
mode = "0600"

[[users]]
name = "pwgate"
home = "/var/lib/pwgate"

[[systemd]]
unit = "pwgate.service"

[upgrade]
{upgrade}

[[migrations]]
version = "3.5.0"
run = "migrate.sh"

[hook]
binary = "hook"
"#
    ));
    p.exec("bin/pwgate", "#!/bin/sh\n");
    p.exec("migrate.sh", "#!/bin/sh\necho converted\n");
    p.file("config.yaml", "# pwgate\nversion: \"3.5.0\"\nport: 1\n");
    p.file(
        "pwgate.env",
        "# secrets stay in the environment\nPWGATE_TOKEN=${PWGATE_TOKEN:-}\n",
    );
    p.file(
        "pwgate.service",
        "[Unit]\nDescription=pwgate\n\n[Service]\nExecStart=/usr/bin/pwgate\n\n[Install]\nWantedBy=multi-user.target\n",
    );
    p.fake_hook("hook");
    p
}

/// Run the deb's preinst as dpkg does for `upgrade OLD`, for a package of
/// version `new`: the gate decides before anything else happens (no users,
/// no files on an upgrade path that is refused).
fn gate(p: &Project, new: &str, old: &str) -> (bool, String) {
    let dist = p.path().join(format!("dist-{new}"));
    let out = run(p
        .cmd(&["build", "--format", "deb", "--out", dist.to_str().unwrap()])
        .env("VERSION", new));
    drop(out);
    let deb = std::fs::read_dir(&dist)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let ctl = p.path().join(format!("ctl-{new}"));
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&ctl));
    // `upgrade` with a refused path exits before the users step.
    let out = Command::new("dash")
        .arg(ctl.join("preinst"))
        .args(["upgrade", &format!("{old}-1")])
        .output()
        .unwrap();
    (out.status.success(), stderr(&out))
}

#[test]
fn the_gate_refuses_skipping_a_stop_and_downgrades() {
    if !tool("dash") || !tool("dpkg-deb") {
        return;
    }
    let p = fixture("stops = [\"3.4.0\", \"3.5.0\"]\n");
    let (ok, err) = gate(&p, "3.5.0", "3.3.0");
    assert!(!ok);
    assert!(
        err.contains("refusing the upgrade from 3.3.0 to 3.5.0")
            && err.contains("Install pwgate 3.4.0 first, then 3.5.0.")
            && err.contains("From a repository: apt install pwgate=3.4.0-1."),
        "{err}"
    );
    assert!(err.contains("Nothing was changed"), "{err}");
    // Landing on a stop, or moving between stops, is allowed; so is a
    // reinstall. Pre-releases of a stop count as before it.
    for (new, old) in [
        ("3.4.0", "3.0.0"),
        ("3.5.0", "3.4.0"),
        ("3.5.0", "3.5.0"),
        ("3.4.0", "3.4.0~rc1"),
    ] {
        let (ok, err) = gate(&p, new, old);
        assert!(ok, "{old} -> {new}: {err}");
    }
    let (ok, _) = gate(&p, "3.5.0", "3.4.0~rc1");
    assert!(!ok, "3.4.0~rc1 is before the 3.4.0 stop");
    let (ok, err) = gate(&p, "3.4.0", "3.5.0");
    assert!(
        !ok && err.contains("refusing the downgrade from 3.5.0 to 3.4.0"),
        "{err}"
    );
}

#[test]
fn semver_major_policy_and_allowed_downgrades() {
    if !tool("dash") || !tool("dpkg-deb") {
        return;
    }
    let p = fixture("policy = \"semver-major\"\nallow-downgrade = true\n");
    let (ok, err) = gate(&p, "3.1.0", "1.9.0");
    assert!(!ok && err.contains("it would skip 2.0.0"), "{err}");
    let (ok, err) = gate(&p, "3.0.0", "2.7.1");
    assert!(ok, "{err}");
    let (ok, err) = gate(&p, "3.2.0", "2.7.1");
    assert!(!ok && err.contains("it would skip 3.0.0"), "{err}");
    let (ok, err) = gate(&p, "2.0.0", "3.1.0");
    assert!(ok, "downgrades are allowed here: {err}");
}

#[test]
fn the_sysusers_file_creates_the_user_with_systemd_sysusers() {
    if !tool("systemd-sysusers") {
        return;
    }
    let p = fixture("stops = []\n");
    let deb = p.build("deb").remove(0);
    let tree = p.path().join("tree");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tree));
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("etc/passwd"),
        "root:x:0:0::/root:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(root.path().join("etc/group"), "root:x:0:\n").unwrap();
    let out = run(Command::new("systemd-sysusers")
        .arg(format!("--root={}", root.path().display()))
        .arg(tree.join("usr/lib/sysusers.d/pwgate.conf")));
    let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).unwrap();
    let group = std::fs::read_to_string(root.path().join("etc/group")).unwrap();
    let user = passwd
        .lines()
        .find(|l| l.starts_with("pwgate:"))
        .unwrap_or_else(|| panic!("no pwgate user: {passwd}\n{}", stderr(&out)));
    let f: Vec<&str> = user.split(':').collect();
    assert!(f[2].parse::<u32>().unwrap() < 1000, "a system uid: {user}");
    assert_eq!(f[5], "/var/lib/pwgate");
    assert!(
        group
            .lines()
            .any(|l| l.starts_with("pwgate:") && l.split(':').nth(2) == Some(f[3])),
        "{group}"
    );
}

fn scripts(path: &std::path::Path) -> Vec<(String, String)> {
    let out = run(Command::new(env!("CARGO_BIN_EXE_packwright"))
        .args(["--json", "inspect"])
        .arg(path));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every generated script of a fixture with every lifecycle section, in
/// every format, pinned: a change to what managers run is a reviewed change.
/// (tests/lifecycle_lint.rs lints the imsrv fixture's scripts.)
#[test]
fn every_generated_script_is_pinned() {
    let p = fixture("stops = [\"3.4.0\", \"3.5.0\"]\n");
    for path in p.build("deb,rpm,pacman,apk") {
        let fmt = path.file_name().unwrap().to_string_lossy().into_owned();
        let fmt = ["deb", "rpm", "pkg.tar", "apk"]
            .into_iter()
            .find(|f| fmt.contains(f))
            .unwrap()
            .replace("pkg.tar", "pacman");
        let all = scripts(&path);
        assert!(!all.is_empty(), "{fmt}: no scripts");
        for (name, text) in all {
            let name: String = name
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            insta::assert_snapshot!(format!("{fmt}_{name}"), text);
        }
    }
}

/// The scripts and the hook agree on the target's paths because both take
/// them from packwright_hook::contract: the deb's scripts name the state dir
/// and state files, the hook path and the suffixes the contract gives, and
/// the description sits where the hook looks for it.
#[test]
fn scripts_use_the_on_target_contract() {
    use packwright_hook::contract::{self, state};
    if !tool("dpkg-deb") {
        return;
    }
    let p = fixture("stops = [\"3.4.0\", \"3.5.0\"]\n");
    let deb = p.build("deb").remove(0);
    let all: String = scripts(&deb).into_iter().map(|(_, t)| t).collect();
    let st = contract::state_dir("pwgate");
    for needle in [
        format!("{st}/{}", state::VERSION),
        format!("{st}/{}", state::BLOCKED),
        format!("{st}/{}", state::INSTALLING),
        format!("{} {st}", contract::STATE_PARENT),
        contract::hook_path("pwgate"),
        format!("--manager {}", contract::MANAGERS[0]),
    ] {
        assert!(all.contains(&needle), "the deb's scripts lack {needle:?}");
    }
    let out = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
    let listing = stdout(&out);
    assert!(
        listing.contains(&format!(".{}", contract::desc_path("pwgate"))),
        "{listing}"
    );
}

/// `packwright check` says what the scripts will do on the target.
#[test]
fn check_lists_the_lifecycle() {
    let p = fixture("stops = [\"3.4.0\", \"3.5.0\"]\n");
    let out = stdout(&run(&mut p.cmd(&["check", "--format", "deb"])));
    for line in [
        "  lifecycle hook: /usr/lib/pwgate/packwright-hook\n",
        "  lifecycle configs: /etc/pwgate/config.yaml, /etc/pwgate/pwgate.env\n",
        "  lifecycle users: pwgate:pwgate\n",
        "  lifecycle units: pwgate.service\n",
        "  lifecycle stops: 3.4.0, 3.5.0\n",
        "  lifecycle downgrades: refused\n",
        "  lifecycle migrations: 3.5.0\n",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
}
