//! The admin story of issue #4, end to end through the binary in a test root:
//! install 3.4.0, the admin edits the live file (value, comment, mode 0600),
//! upgrade to 3.5.0 whose default changes, adds and removes keys and bumps
//! the config version. Expected texts are written by hand.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

fn hook(root: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_packwright-hook"))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

fn release(root: &Path, version: &str, ext: &str, default: &str) {
    let share = root.join("usr/share/imsrv");
    fs::create_dir_all(share.join("packwright")).unwrap();
    fs::create_dir_all(share.join("defaults")).unwrap();
    fs::write(share.join(format!("defaults/config.{ext}")), default).unwrap();
    let desc = format!(
        r#"{{"package":"imsrv","version":"{version}","configs":[{{"live":"/etc/imsrv/config.{ext}","default":"/usr/share/imsrv/defaults/config.{ext}","format":null,"version_key":"version","mode":"0640","owner":"root","group":"imsrv"}}]}}"#
    );
    fs::write(share.join("packwright/package.json"), desc).unwrap();
}

struct Story {
    ext: &'static str,
    v1: &'static str,
    admin: &'static str,
    v2: &'static str,
    expect: &'static str,
    conflicts: &'static [&'static str],
    removed: &'static [&'static str],
}

fn run(s: Story) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\nimsrv:x:997:\n").unwrap();
    let live = root.join(format!("etc/imsrv/config.{}", s.ext));

    release(root, "3.4.0-1", s.ext, s.v1);
    let out = hook(root, &["install", "--package", "imsrv", "--new", "3.4.0-1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read_to_string(&live).unwrap(), s.v1);
    let m = fs::metadata(&live).unwrap();
    assert_eq!(
        (m.mode() & 0o7777, m.gid()),
        (0o640, 997),
        "declared mode and group"
    );

    // The admin's edit, and a tighter mode.
    fs::write(&live, s.admin).unwrap();
    fs::set_permissions(&live, fs::Permissions::from_mode(0o600)).unwrap();

    release(root, "3.5.0-1", s.ext, s.v2);
    let out = hook(
        root,
        &[
            "--json",
            "upgrade",
            "--package",
            "imsrv",
            "--old",
            "3.4.0-1",
            "--new",
            "3.5.0-1",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fs::read_to_string(&live).unwrap(),
        s.expect,
        "{}: merged text",
        s.ext
    );
    assert_eq!(
        fs::metadata(&live).unwrap().mode() & 0o7777,
        0o600,
        "the admin's mode is kept"
    );

    // The admin is told exactly which keys.
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cfg = &report["configs"][0];
    let keys = |field: &str| -> Vec<String> {
        cfg[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys("conflicts"), s.conflicts, "{}: conflicts", s.ext);
    assert_eq!(keys("removed"), s.removed, "{}: removed", s.ext);

    // The release's default beside it; the file as it was kept with its mode.
    let new = format!("{}.packwright-new", live.display());
    let old = format!("{}.packwright-old", live.display());
    assert_eq!(fs::read_to_string(&new).unwrap(), s.v2);
    assert_eq!(fs::read_to_string(&old).unwrap(), s.admin);
    assert_eq!(
        fs::metadata(&old).unwrap().mode() & 0o7777,
        0o600,
        "backup never wider"
    );

    // The new schema version is what the service expects; status shows the pending conflict.
    let out = hook(root, &["check", "--package", "imsrv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = hook(root, &["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("pristine version 2, live version 2, pending"),
        "{text}"
    );
    for c in s.conflicts {
        assert!(
            text.contains(&format!("unresolved conflict: {c}")),
            "{text}"
        );
    }
}

#[test]
fn admin_story_yaml() {
    run(Story {
        ext: "yaml",
        v1: "# imsrv configuration\nversion: 1\nserver:\n  # Address to listen on\n  address: 0.0.0.0:10001\n  timeout: 30\nlegacy:\n  mode: fast\nlog:\n  level: info\n",
        admin: "# imsrv configuration\nversion: 1\nserver:\n  # Address to listen on\n  # ops: behind the proxy (ticket 42)\n  address: 127.0.0.1:10001\n  timeout: 30\nlegacy:\n  mode: slow\nlog:\n  level: info\n",
        v2: "# imsrv configuration (3.5)\nversion: 2\nserver:\n  # Address to listen on (host:port)\n  address: 0.0.0.0:10002\n  # Seconds before an idle client is dropped\n  timeout: 60\n  tls: false\nlog:\n  level: info\n  format: json\n",
        expect: "# imsrv configuration (3.5)\nversion: 2\nserver:\n  # Address to listen on (host:port)\n  # ops: behind the proxy (ticket 42)\n  address: 127.0.0.1:10001\n  # Seconds before an idle client is dropped\n  timeout: 60\n  tls: false\nlog:\n  level: info\n  format: json\n",
        conflicts: &["server.address", "legacy.mode"],
        removed: &["legacy.mode"],
    });
}

#[test]
fn admin_story_toml() {
    run(Story {
        ext: "toml",
        v1: "# imsrv configuration\nversion = 1\n\n[server]\n# Address to listen on\naddress = \"0.0.0.0:10001\"\ntimeout = 30\n\n[legacy]\nmode = \"fast\"\n\n[log]\nlevel = \"info\"\n",
        admin: "# imsrv configuration\nversion = 1\n\n[server]\n# Address to listen on\n# ops: behind the proxy (ticket 42)\naddress = \"127.0.0.1:10001\"\ntimeout = 30\n\n[legacy]\nmode = \"slow\"\n\n[log]\nlevel = \"info\"\n",
        v2: "# imsrv configuration (3.5)\nversion = 2\n\n[server]\n# Address to listen on (host:port)\naddress = \"0.0.0.0:10002\"\n# Seconds before an idle client is dropped\ntimeout = 60\ntls = false\n\n[log]\nlevel = \"info\"\nformat = \"json\"\n",
        expect: "# imsrv configuration (3.5)\nversion = 2\n\n[server]\n# Address to listen on (host:port)\n# ops: behind the proxy (ticket 42)\naddress = \"127.0.0.1:10001\"\n# Seconds before an idle client is dropped\ntimeout = 60\ntls = false\n\n[log]\nlevel = \"info\"\nformat = \"json\"\n",
        conflicts: &["server.address", "legacy.mode"],
        removed: &["legacy.mode"],
    });
}

#[test]
fn admin_story_json() {
    // JSON has no comments: the admin's value, the new layout and keys.
    run(Story {
        ext: "json",
        v1: "{\n  \"version\": 1,\n  \"server\": {\n    \"address\": \"0.0.0.0:10001\",\n    \"timeout\": 30\n  },\n  \"legacy\": {\n    \"mode\": \"fast\"\n  },\n  \"log\": {\n    \"level\": \"info\"\n  }\n}\n",
        admin: "{\n  \"version\": 1,\n  \"server\": {\n    \"address\": \"127.0.0.1:10001\",\n    \"timeout\": 30\n  },\n  \"legacy\": {\n    \"mode\": \"slow\"\n  },\n  \"log\": {\n    \"level\": \"info\"\n  }\n}\n",
        v2: "{\n  \"version\": 2,\n  \"server\": {\n    \"address\": \"0.0.0.0:10002\",\n    \"timeout\": 60,\n    \"tls\": false\n  },\n  \"log\": {\n    \"level\": \"info\",\n    \"format\": \"json\"\n  }\n}\n",
        expect: "{\n  \"version\": 2,\n  \"server\": {\n    \"address\": \"127.0.0.1:10001\",\n    \"timeout\": 60,\n    \"tls\": false\n  },\n  \"log\": {\n    \"level\": \"info\",\n    \"format\": \"json\"\n  }\n}\n",
        conflicts: &["server.address", "legacy.mode"],
        removed: &["legacy.mode"],
    });
}

#[test]
fn admin_story_env() {
    run(Story {
        ext: "env",
        v1: "# imsrv environment\nversion=1\n# Address to listen on\nADDRESS=0.0.0.0:10001\nTIMEOUT=30\nLEGACY_MODE=fast\nLOG_LEVEL=info\n",
        admin: "# imsrv environment\nversion=1\n# Address to listen on\n# ops: behind the proxy (ticket 42)\nexport ADDRESS=\"127.0.0.1:10001\"\nTIMEOUT=30\nLEGACY_MODE=slow\nLOG_LEVEL=info\n",
        v2: "# imsrv environment (3.5)\nversion=2\n# Address to listen on (host:port)\nADDRESS=0.0.0.0:10002\n# Seconds before an idle client is dropped\nTIMEOUT=60\nTLS=false\nLOG_LEVEL=info\nLOG_FORMAT=json\n",
        expect: "# imsrv environment (3.5)\nversion=2\n# Address to listen on (host:port)\n# ops: behind the proxy (ticket 42)\nexport ADDRESS=\"127.0.0.1:10001\"\n# Seconds before an idle client is dropped\nTIMEOUT=60\nTLS=false\nLOG_LEVEL=info\nLOG_FORMAT=json\n",
        conflicts: &["ADDRESS", "LEGACY_MODE"],
        removed: &["LEGACY_MODE"],
    });
}

#[test]
fn admin_story_ini() {
    run(Story {
        ext: "ini",
        v1: "; imsrv configuration\nversion = 1\n\n[server]\n; Address to listen on\naddress = 0.0.0.0:10001\ntimeout = 30\n\n[legacy]\nmode = fast\n\n[log]\nlevel = info\n",
        admin: "; imsrv configuration\nversion = 1\n\n[server]\n; Address to listen on\n; ops: behind the proxy (ticket 42)\naddress = 127.0.0.1:10001\ntimeout = 30\n\n[legacy]\nmode = slow\n\n[log]\nlevel = info\n",
        v2: "; imsrv configuration (3.5)\nversion = 2\n\n[server]\n; Address to listen on (host:port)\naddress = 0.0.0.0:10002\n; Seconds before an idle client is dropped\ntimeout = 60\ntls = false\n\n[log]\nlevel = info\nformat = json\n",
        expect: "; imsrv configuration (3.5)\nversion = 2\n\n[server]\n; Address to listen on (host:port)\n; ops: behind the proxy (ticket 42)\naddress = 127.0.0.1:10001\n; Seconds before an idle client is dropped\ntimeout = 60\ntls = false\n\n[log]\nlevel = info\nformat = json\n",
        conflicts: &["server.address", "legacy.mode"],
        removed: &["legacy.mode"],
    });
}
