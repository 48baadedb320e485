//! The commands as a script or maintainer script would call them.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn hook(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_packwright-hook"))
        .current_dir(dir)
        .args(args)
        .env_remove("DB_HOST")
        .output()
        .unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn init_lists_every_missing_variable_in_one_error() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("t.yaml"),
        "db: ${DB_HOST}\nuser: ${DB_USER}\npass: ${DB_PASS}\nport: ${DB_PORT:-5432}\n",
    )
    .unwrap();
    let o = hook(
        &["init", "--template", "t.yaml", "--live", "c.yaml"],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o)
            .contains("t.yaml: variables not set and without default: DB_HOST, DB_USER, DB_PASS"),
        "{}",
        err(&o)
    );
    assert!(!d.path().join("c.yaml").exists());

    fs::write(
        d.path().join("vars.env"),
        "DB_HOST=db1\nDB_USER=im\nDB_PASS='s3 cr#t'\n",
    )
    .unwrap();
    let o = hook(
        &[
            "init",
            "--template",
            "t.yaml",
            "--live",
            "c.yaml",
            "--env-file",
            "vars.env",
            "--mode",
            "0600",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        fs::read_to_string(d.path().join("c.yaml")).unwrap(),
        "db: db1\nuser: im\npass: s3 cr#t\nport: 5432\n"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(d.path().join("c.yaml"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn init_keeps_an_existing_file_off_a_terminal_unless_forced() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("t.toml"), "a = 1\n").unwrap();
    fs::write(d.path().join("c.toml"), "a = 2\n").unwrap();
    let o = hook(
        &["init", "--template", "t.toml", "--live", "c.toml"],
        d.path(),
    );
    assert!(o.status.success());
    assert!(
        out(&o).contains("exists, kept (use --force to replace)"),
        "{}",
        out(&o)
    );
    assert_eq!(
        fs::read_to_string(d.path().join("c.toml")).unwrap(),
        "a = 2\n"
    );
    let o = hook(
        &[
            "--json",
            "init",
            "--template",
            "t.toml",
            "--live",
            "c.toml",
            "--force",
        ],
        d.path(),
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["action"], "overwritten");
    assert_eq!(
        fs::read_to_string(d.path().join("c.toml")).unwrap(),
        "a = 1\n"
    );
    assert_eq!(
        fs::read_to_string(d.path().join("c.toml.packwright-old")).unwrap(),
        "a = 2\n"
    );
}

#[test]
fn check_exits_5_with_one_line_on_mismatch() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("c.yaml"), "app:\n  schema: 3.4\n").unwrap();
    let ok = hook(
        &[
            "check",
            "--live",
            "c.yaml",
            "--expect",
            "3.4",
            "--version-key",
            "app.schema",
        ],
        d.path(),
    );
    assert!(ok.status.success(), "{}", err(&ok));
    assert_eq!(out(&ok), "");
    let bad = hook(
        &[
            "check",
            "--live",
            "c.yaml",
            "--expect",
            "3.5",
            "--version-key",
            "app.schema",
        ],
        d.path(),
    );
    assert_eq!(bad.status.code(), Some(5));
    assert_eq!(
        err(&bad),
        "packwright-hook: c.yaml: app.schema is 3.4 but 3.5 is expected\n"
    );
    let missing = hook(&["check", "--live", "c.yaml", "--expect", "1"], d.path());
    assert_eq!(
        err(&missing),
        "packwright-hook: c.yaml: version is missing but 1 is expected\n"
    );
    let env = d.path().join("app.env");
    fs::write(&env, "export VERSION=\"7\"\n").unwrap();
    let o = hook(
        &[
            "check",
            "--live",
            "app.env",
            "--expect",
            "7",
            "--version-key",
            "VERSION",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn update_json_report_and_help_document_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("b.ini"), "[a]\nk = 1\n").unwrap();
    fs::write(d.path().join("n.ini"), "[a]\nk = 2\n").unwrap();
    fs::write(d.path().join("c.ini"), "[a]\nk = 3\n").unwrap();
    let o = hook(
        &[
            "--json",
            "update",
            "--base",
            "b.ini",
            "--default",
            "n.ini",
            "--live",
            "c.ini",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", err(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["conflicts"][0]["key"], "a.k");
    assert_eq!(r["conflicts"][0]["yours"], "3");
    assert_eq!(r["conflicts"][0]["new_default"], "2");
    assert_eq!(r["new_file"], "c.ini.packwright-new");
    for cmd in ["init", "update", "check", "status", "upgrade"] {
        let h = hook(&[cmd, "--help"], d.path());
        assert!(out(&h).contains("Exit codes: 0 done"), "{cmd} --help");
    }
}

fn package(root: &Path, default: &str) {
    let share = root.join("usr/share/demo");
    fs::create_dir_all(share.join("packwright")).unwrap();
    fs::write(share.join("config.toml"), default).unwrap();
    fs::write(
        share.join("packwright/package.json"),
        r#"{"package":"demo","version":"1.0-1","configs":[{"live":"/etc/demo/config.toml","default":"/usr/share/demo/config.toml","version_key":"schema.version","mode":"0640"}]}"#,
    )
    .unwrap();
}

fn run(root: &Path, args: &[&str]) -> Output {
    let mut a = vec!["--root", root.to_str().unwrap()];
    a.extend_from_slice(args);
    hook(&a, root)
}

#[test]
fn package_mode_install_downgrade_status_purge() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    package(root, "[schema]\nversion = 2\n[db]\nhost = \"localhost\"\n");
    let o = run(root, &["install", "--package", "demo", "--new", "1.0-1"]);
    assert!(o.status.success(), "{}", err(&o));
    let live = root.join("etc/demo/config.toml");
    assert!(root
        .join("var/lib/packwright/demo/pristine/etc%2Fdemo%2Fconfig.toml")
        .is_file());
    assert!(run(root, &["check", "--package", "demo"]).status.success());

    // A live config newer than the package: refused, untouched. In package
    // mode a failed merge is a failed upgrade step (exit 9, rolled back).
    fs::write(&live, "[schema]\nversion = 3\n[db]\nhost = \"db1\"\n").unwrap();
    let o = run(
        root,
        &[
            "upgrade",
            "--package",
            "demo",
            "--old",
            "1.1-1",
            "--new",
            "1.0-1",
        ],
    );
    assert_eq!(o.status.code(), Some(9), "{}", err(&o));
    assert!(
        err(&o).contains("schema.version is 3 but this package provides 2: refusing to downgrade")
            && err(&o).contains("failed at config merge of")
            && err(&o).contains("to retry once the cause is fixed: packwright-hook"),
        "{}",
        err(&o)
    );
    assert_eq!(
        fs::read_to_string(&live).unwrap(),
        "[schema]\nversion = 3\n[db]\nhost = \"db1\"\n"
    );
    let c = run(root, &["check", "--package", "demo"]);
    assert_eq!(c.status.code(), Some(5));

    let o = run(root, &["--json", "status"]);
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s[0]["live"], "/etc/demo/config.toml");
    assert_eq!(s[0]["pristine_version"], "2");
    assert_eq!(s[0]["live_version"], "3");

    assert!(run(root, &["remove", "--package", "demo"]).status.success());
    assert!(live.exists(), "remove keeps the config");
    assert!(run(root, &["purge", "--package", "demo"]).status.success());
    assert!(!live.exists());
    assert!(!root.join("var/lib/packwright/demo").exists());
}

#[test]
fn init_asks_on_a_terminal() {
    // `script` (util-linux, bsdutils on Debian) gives the hook a terminal.
    if !crate::fixture::tool("script") {
        return;
    }
    for (answer, expect, backup) in [("n\n", "a = 2\n", false), ("y\n", "a = 1\n", true)] {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("t.toml"), "a = 1\n").unwrap();
        fs::write(d.path().join("c.toml"), "a = 2\n").unwrap();
        let cmd = format!(
            "{} init --template t.toml --live c.toml",
            env!("CARGO_BIN_EXE_packwright-hook")
        );
        let mut child = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .current_dir(d.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Answer only once the prompt is on the terminal: closing stdin
        // earlier lets `script` end the session before the hook asks.
        use std::io::{Read, Write};
        let mut stdout = child.stdout.take().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while !String::from_utf8_lossy(&seen).contains("Overwrite? [y/N]") {
            let n = stdout.read(&mut buf).unwrap();
            assert!(
                n > 0,
                "no prompt before EOF: {}",
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(&buf[..n]);
        }
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answer.as_bytes())
            .unwrap();
        stdout.read_to_end(&mut seen).unwrap();
        assert!(child.wait().unwrap().success() || answer == "n\n");
        let text = String::from_utf8_lossy(&seen);
        assert!(text.contains("c.toml exists. Overwrite? [y/N]"), "{text}");
        assert_eq!(fs::read_to_string(d.path().join("c.toml")).unwrap(), expect);
        assert_eq!(d.path().join("c.toml.packwright-old").exists(), backup);
    }
}
