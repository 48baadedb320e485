//! Keyed lists (#12, lists of tables): entries of a YAML sequence of
//! mappings or a TOML array of tables are matched by `name`, `id` or a
//! declared key and merged entry by entry.

use crate::engine::{keys, update, update_opts, Outcome};
use std::process::Command;

fn shaped(name: &str, file: &str) -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    std::fs::read_to_string(format!("{dir}/tests/fixtures/shaped/{name}/{file}")).unwrap()
}

/// Merge with the list keys; an untouched file becomes the new default
/// byte for byte and a second run changes nothing.
fn merged(ext: &str, [base, ours, theirs]: [&str; 3], lists: &[(&str, &str)]) -> Outcome {
    let untouched = update_opts(ext, [base, theirs], Some(base), &[], lists).unwrap();
    assert_eq!(untouched.live, theirs, "untouched file");
    let out = update_opts(ext, [base, theirs], Some(ours), &[], lists).unwrap();
    let again = update_opts(ext, [theirs, theirs], Some(&out.live), &[], lists).unwrap();
    assert_eq!(again.live, out.live, "a second run changed the file");
    out
}

#[test]
fn toml_proxies_are_merged_by_name() {
    let base = shaped("frpc-proxies-toml", "base.toml");
    let theirs = shaped("frpc-proxies-toml", "default.toml");
    // The admin moved `web` to port 8080, pointed `dns` (which upstream
    // drops) elsewhere, and added a proxy of their own.
    let ours = base
        .replace("localPort = 80\n", "localPort = 8080\n")
        .replace("localIP = \"8.8.8.8\"", "localIP = \"1.1.1.1\"")
        + "\n[[proxies]]\n# the admin's own\nname = \"grafana\"\ntype = \"tcp\"\nlocalPort = 3000\nremotePort = 6003\n";
    let out = merged("toml", [&base, &ours, &theirs], &[]);
    // Upstream's new field in `ssh` and its new `secret_ssh` arrive; the
    // admin's `web` and `grafana` stay, with grafana's comment.
    let want = theirs.replace("localPort = 80\n", "localPort = 8080\n")
        + "\n[[proxies]]\n# the admin's own\nname = \"grafana\"\ntype = \"tcp\"\nlocalPort = 3000\nremotePort = 6003\n";
    assert_eq!(out.live, want);
    assert_eq!(
        keys(&out.report.kept, |k| k),
        ["proxies[web]", "proxies[grafana]"]
    );
    // The entry upstream removed that the admin had changed: reported.
    assert_eq!(keys(&out.report.removed, |r| &r.key), ["proxies[dns]"]);
    assert_eq!(keys(&out.report.conflicts, |c| &c.key), ["proxies[dns]"]);
    assert!(out.report.removed[0].your_value.contains("1.1.1.1"));
}

#[test]
fn toml_entry_changed_on_both_sides_keeps_the_admins_and_is_a_conflict() {
    let base = "[[servers]]\nid = 1\nhost = \"a\"\n\n[[servers]]\nid = 2\nhost = \"b\"\n";
    let ours = "[[servers]]\nid = 1\nhost = \"mine\"\n";
    let theirs = "[[servers]]\nid = 1\nhost = \"new\"\n\n[[servers]]\nid = 2\nhost = \"b2\"\n";
    let out = update("toml", base, Some(ours), theirs).unwrap();
    // id 1: both changed, the admin's kept; id 2: the admin deleted it and it stays deleted.
    assert_eq!(out.live, "[[servers]]\nid = 1\nhost = \"mine\"\n");
    assert_eq!(
        keys(&out.report.conflicts, |c| &c.key),
        ["servers[1]", "servers[2]"]
    );
    assert!(out.new_file.is_some());
}

#[test]
fn yaml_list_with_a_declared_key_through_the_cli() {
    let base = shaped("prometheus-scrape-yaml", "base.yaml");
    let theirs = shaped("prometheus-scrape-yaml", "default.yaml");
    let ours = base.replace("scrape_interval: 30s", "scrape_interval: 60s")
        + "\n  # admin: probes\n  - job_name: \"blackbox\"\n    static_configs:\n      - targets: [\"localhost:9115\"]\n";
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("base.yaml"), &base).unwrap();
    std::fs::write(p("default.yaml"), &theirs).unwrap();
    std::fs::write(p("prometheus.yml"), &ours).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_packwright-hook"))
        .arg("update")
        .arg("--base")
        .arg(p("base.yaml"))
        .arg("--default")
        .arg(p("default.yaml"))
        .arg("--live")
        .arg(p("prometheus.yml"))
        .args(["--list-key", "scrape_configs=job_name"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("kept your changes: scrape_configs[node], scrape_configs[blackbox]"),
        "{stdout}"
    );
    let want = theirs.replace("scrape_interval: 30s", "scrape_interval: 60s")
        + "  # admin: probes\n  - job_name: \"blackbox\"\n    static_configs:\n      - targets: [\"localhost:9115\"]\n";
    assert_eq!(std::fs::read_to_string(p("prometheus.yml")).unwrap(), want);
    assert!(!p("prometheus.yml.packwright-new").exists());

    // Without the key (entries have neither `name` nor `id`): one value, as before.
    let out = update("yml", &base, Some(&ours), &theirs).unwrap();
    assert_eq!(keys(&out.report.conflicts, |c| &c.key), ["scrape_configs"]);
    assert_eq!(out.live, ours);

    // A bad flag is a usage error.
    let o = Command::new(env!("CARGO_BIN_EXE_packwright-hook"))
        .args([
            "update",
            "--default",
            "x",
            "--live",
            "y",
            "--list-key",
            "nokey",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("give LIST=KEY"));
}

#[test]
fn yaml_list_of_named_entries_merges_without_declaring() {
    let base = "servers:\n  - name: a\n    port: 1\n  - name: b\n    port: 2\nlog: info\n";
    let ours = "servers:\n  - name: a\n    port: 10\n  - name: b\n    port: 2\n  - name: mine\n    port: 9\nlog: info\n";
    let theirs =
        "servers:\n    - name: a\n      port: 1\n    - name: c\n      port: 3\nlog: warn\n";
    let out = merged("yaml", [base, ours, theirs], &[]);
    // b: removed upstream, untouched by the admin: gone quietly; the admin's
    // entries are re-indented to the new default's layout.
    assert_eq!(
        out.live,
        "servers:\n    - name: a\n      port: 10\n    - name: c\n      port: 3\n    - name: mine\n      port: 9\nlog: warn\n"
    );
    assert!(out.report.conflicts.is_empty() && out.report.removed.is_empty());
}

#[test]
fn toml_option_uncommented_in_an_array_of_tables_stays_in_its_entry() {
    for id in ["name", "tag"] {
        let base = format!(
            "a = 1\n\n[[proxies]]\n{id} = \"web\"\ntype = \"http\"\n# Port of the local service\n# localPort = 80\n\n[[proxies]]\n{id} = \"ssh\"\ntype = \"tcp\"\n"
        );
        let ours = base.replace("# localPort = 80", "localPort = 8080");
        let theirs = base.replace("a = 1", "a = 2");
        let out = merged("toml", [&base, &ours, &theirs], &[]);
        // Keyed (`name`) or one value (`tag`): in the entry, under its
        // documentation, and upstream's commented line not repeated.
        assert_eq!(out.live, ours.replace("a = 1", "a = 2"), "{id}");
    }
}

#[test]
fn toml_option_uncommented_in_the_last_entry_stays_there() {
    for end in ["", "\n[log]\nlevel = \"info\"\n"] {
        for id in ["name", "tag"] {
            let base = format!(
                "a = 1\n\n[[proxies]]\n{id} = \"web\"\ntype = \"http\"\n\n[[proxies]]\n{id} = \"ssh\"\ntype = \"tcp\"\n# Port of the local service\n# localPort = 22\n{end}"
            );
            let ours = base.replace("# localPort = 22", "localPort = 2222");
            let theirs = base.replace("a = 1", "a = 2");
            let out = merged("toml", [&base, &ours, &theirs], &[]);
            assert_eq!(out.live, ours.replace("a = 1", "a = 2"), "{id} {end:?}");
        }
    }
}
