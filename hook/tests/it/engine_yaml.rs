//! Table-driven YAML merges; expected texts written by hand.
use crate::engine::{run_table, update, update_with, Case};

const BASE: &str =
    "version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 30\nlog: info\n";

#[test]
fn yaml_table() {
    run_table(
        "yaml",
        &[
            Case {
                name: "comments of the new default and of the admin are kept",
                base: BASE,
                ours: Some("version: 1\n# Server\nserver:\n  # moved to rack 4\n  address: 10.0.0.5:80  # ops\n  timeout: 30\nlog: info\n"),
                theirs: "# imsrv configuration\nversion: 1\n# Server settings\nserver:\n  address: 0.0.0.0:80\n  timeout: 30\nlog: info\n",
                expect: "# imsrv configuration\nversion: 1\n# Server settings\nserver:\n  # moved to rack 4\n  address: 10.0.0.5:80  # ops\n  timeout: 30\nlog: info\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "keys the admin added stay in their section",
                base: BASE,
                ours: Some("version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n  # needed by the proxy\n  extra: yes\n  timeout: 30\nlog: info\nmine:\n  a: 1\n"),
                theirs: "version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 30\n  tls: false\nlog: info\n",
                expect: "version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 30\n  tls: false\n  # needed by the proxy\n  extra: yes\nlog: info\nmine:\n  a: 1\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "new keys and sections arrive, the admin's value stays",
                base: BASE,
                ours: Some("version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 30\nlog: debug\n"),
                theirs: "version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 30\nlog: info\nmetrics:\n  port: 9100\n",
                expect: "version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 30\nlog: debug\nmetrics:\n  port: 9100\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "a key removed upstream is dropped and reported when the admin had set it",
                base: BASE,
                ours: Some("version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 45\nlog: debug\n"),
                theirs: "version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n",
                expect: "version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n",
                conflicts: &["server.timeout", "log"],
                removed: &["server.timeout", "log"],
            },
            Case {
                name: "both changed a key: the admin's value wins, conflict reported",
                base: BASE,
                ours: Some("version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 45\nlog: info\n"),
                theirs: "version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 60\nlog: info\n",
                expect: "version: 1\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 45\nlog: info\n",
                conflicts: &["server.timeout"],
                removed: &[],
            },
            Case {
                name: "the version key takes the new schema version",
                base: BASE,
                ours: Some("version: 1\n# Server\nserver:\n  address: 0.0.0.0:81\n  timeout: 30\nlog: info\n"),
                theirs: "version: 2\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 30\nlog: info\n",
                expect: "version: 2\n# Server\nserver:\n  address: 0.0.0.0:81\n  timeout: 30\nlog: info\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "CRLF files stay CRLF, added keys too",
                base: "version: 1\r\nserver:\r\n  port: 80\r\n",
                ours: Some("version: 1\r\nserver:\r\n  port: 8080\r\n  extra: 1\r\n"),
                theirs: "version: 2\r\nserver:\r\n  port: 80\r\n  tls: no\r\n",
                expect: "version: 2\r\nserver:\r\n  port: 8080\r\n  tls: no\r\n  extra: 1\r\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "an inline comment on a value the admin kept is kept",
                base: BASE,
                ours: Some("version: 1\n# Server\nserver:\n  address: 0.0.0.0:80  # checked 2026-11\n  timeout: 30\nlog: info\n"),
                theirs: "version: 2\n# Server\nserver:\n  address: 0.0.0.0:80\n  timeout: 60\nlog: info\n",
                expect: "version: 2\n# Server\nserver:\n  address: 0.0.0.0:80  # checked 2026-11\n  timeout: 60\nlog: info\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "empty base and live take the new default",
                base: "",
                ours: Some(""),
                theirs: "version: 2\nport: 80\n",
                expect: "version: 2\nport: 80\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "a deleted live file is written from the new default",
                base: BASE,
                ours: None,
                theirs: "version: 2\nport: 80\n",
                expect: "version: 2\nport: 80\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "sequences are values; a nested section the admin added is rebuilt at the new indent",
                base: "version: 1\nlisten:\n  - a\n  - b\nserver:\n  port: 80\n",
                ours: Some("version: 1\nlisten:\n  - a\n  - c\nserver:\n  port: 80\n  tls:\n    cert: /x.pem\n"),
                theirs: "version: 1\nlisten:\n    - a\n    - b\nserver:\n    port: 80\n",
                // The admin's list is taken as written (its own item indent).
                expect: "version: 1\nlisten:\n  - a\n  - c\nserver:\n    port: 80\n    tls:\n        cert: /x.pem\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.1: a top-level key and a key in the last mapping, both added at end of file",
                base: "a: 1\nm:\n  x: 1\n",
                ours: Some("a: 1\nb: 2\nm:\n  x: 1\n  y: 2\n"),
                theirs: "a: 1\nm:\n  x: 1\n",
                expect: "a: 1\nm:\n  x: 1\n  y: 2\nb: 2\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.1: additions at every depth of the last mapping",
                base: "a: 1\nm:\n  n:\n    x: 1\n",
                ours: Some("a: 1\nm:\n  n:\n    x: 1\n    z: 3\n  y: 2\n  o:\n    p: 4\nb: 2\n"),
                theirs: "a: 1\nm:\n  n:\n    x: 1\n",
                expect: "a: 1\nm:\n  n:\n    x: 1\n    z: 3\n  y: 2\n  o:\n    p: 4\nb: 2\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.2/3: an uncommented option takes its commented line's place, upstream's doc once",
                base: "server:\n  port: 80\n  # QUIC port; unset disables QUIC\n  # quic_port: 7002\nlog: info\n",
                ours: Some("server:\n  port: 80\n  # QUIC port; unset disables QUIC\n  quic_port: 7003\nlog: info\n"),
                theirs: "server:\n  port: 80\n  # UDP port for QUIC (unset: no QUIC)\n  # quic_port: 7002\n  tls: false\nlog: warn\n",
                expect: "server:\n  port: 80\n  # UDP port for QUIC (unset: no QUIC)\n  quic_port: 7003\n  tls: false\nlog: warn\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.2: an uncommented option is stable when nothing changed upstream",
                base: "server:\n  port: 80\n  # QUIC port\n  # quic_port: 7002\n",
                ours: Some("server:\n  port: 80\n  # QUIC port\n  quic_port: 7002\n"),
                theirs: "server:\n  port: 80\n  # QUIC port\n  # quic_port: 7002\n",
                expect: "server:\n  port: 80\n  # QUIC port\n  quic_port: 7002\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.3: an uncommented section takes the place of its commented block",
                base: "a: 1\n# tls:\n#   cert: /x.pem\nb: 2\n",
                ours: Some("a: 1\ntls:\n  cert: /y.pem\nb: 2\n"),
                theirs: "a: 1\n# tls:\n#   cert: /x.pem\nb: 3\n",
                expect: "a: 1\ntls:\n  cert: /y.pem\nb: 3\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.5: the admin's comment above a section header stays above it",
                base: "log: info\nredis:\n  host: localhost\n",
                ours: Some("log: info\n# admin: redis moved to the cache host\nredis:\n  host: cache1\n"),
                theirs: "log: info\n# Redis\nredis:\n  host: localhost\n  port: 6379\n",
                expect: "log: info\n# Redis\n# admin: redis moved to the cache host\nredis:\n  host: cache1\n  port: 6379\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                // The property test's case: the admin uncommented the only
                // option of a documented section, then deleted it with the header.
                name: "a section of commented-out options the admin deleted keeps upstream's documentation",
                base: "# config\nversion: 1\n# section s0\ns0:\n  # about s0.k0\n  # k0: va\n\n",
                ours: Some("# config\nversion: 1\n"),
                theirs: "# config\nversion: 2\n# section s0\ns0:\n  # about s0.k0\n  # k0: va\n\n",
                expect: "# config\nversion: 2\n# section s0\ns0:\n  # about s0.k0\n  # k0: va\n\n",
                conflicts: &[],
                removed: &[],
            },
        ],
    );
}

#[test]
fn yaml_downgrade_is_refused_and_nothing_written() {
    let ours = "version: 3\nport: 1\n";
    let e = update(
        "yaml",
        "version: 1\nport: 80\n",
        Some(ours),
        "version: 2\nport: 80\n",
    )
    .err()
    .unwrap();
    assert!(
        e.to_string()
            .contains("version is 3 but this package provides 2"),
        "{e}"
    );
    assert_eq!(e.exit_code(), 6);
}

#[test]
fn yaml_exotic_layout_falls_back_to_line_merge() {
    // Two documents: not a block mapping the structural engine edits.
    let base = "a: 1\n---\nb: 2\n";
    let out = update("yaml", base, Some("a: 5\n---\nb: 2\n"), "a: 1\n---\nb: 3\n").unwrap();
    assert_eq!(out.live, "a: 5\n---\nb: 3\n");
    assert!(out.report.note.as_deref().unwrap().contains("line by line"));
}

#[test]
fn yaml_unclosed_flow_is_reported_where_it_starts() {
    let e = update("yaml", "a: 1\n", Some("a: 1\nredis: [unclosed\n"), "a: 1\n")
        .err()
        .unwrap();
    let msg = e.to_string();
    assert!(
        msg.contains("config.yaml:2:8: `[` is never closed"),
        "{msg}"
    );
    assert!(msg.contains("gave up at line 3"), "{msg}");
    assert_eq!(e.exit_code(), 4);
}

#[test]
fn yaml_rename_moves_the_admins_value() {
    let base = "tls:\n  force: false\nport: 80\n";
    let ours = "tls:\n  force: true  # required by audit\nport: 80\n";
    let theirs = "transport:\n  tls:\n    # only accept TLS\n    force: false\nport: 80\n";
    let out = update_with(
        "yaml",
        base,
        Some(ours),
        theirs,
        &[("tls", "transport.tls")],
    )
    .unwrap();
    assert_eq!(
        out.live,
        "transport:\n  tls:\n    # only accept TLS\n    force: true  # required by audit\nport: 80\n"
    );
    let moved: Vec<_> = out
        .report
        .moved
        .iter()
        .map(|m| (m.from.as_str(), m.to.as_str()))
        .collect();
    assert_eq!(moved, [("tls.force", "transport.tls.force")]);
    assert!(out.report.removed.is_empty() && out.report.conflicts.is_empty());

    // Without the rename the value is lost: a conflict, not a quiet line.
    let out = update("yaml", base, Some(ours), theirs).unwrap();
    assert!(out.live.contains("force: false"), "{}", out.live);
    let c = &out.report.conflicts[0];
    assert_eq!(
        (c.key.as_str(), c.yours.as_deref(), c.new_default.as_deref()),
        ("tls.force", Some("true"), None)
    );
    assert!(out.new_file.is_some());
}

#[test]
fn real_livekit_admin_comment_above_a_section() {
    let out = crate::engine::real(
        "livekit-yaml",
        "yaml",
        &[
            ("port: 7880", "port: 7881"),
            ("  address: redis.host:6379", "  address: cache1:6379"),
            (
                "\nredis:",
                "\n# admin: redis moved to the cache host\nredis:",
            ),
            ("  # db: 0", "  db: 3"),
            ("  # use_ice_lite: true", "  use_ice_lite: true"),
        ],
        &[],
    );
    let theirs = std::fs::read_to_string("tests/fixtures/real/livekit-yaml/default.yaml").unwrap();
    assert_eq!(
        crate::engine::changed_lines(&theirs, &out.live),
        [
            "-port: 7880",
            "+port: 7881",
            "+# admin: redis moved to the cache host",
            "-  address: redis.host:6379",
            "-  # db: 0",
            "+  address: cache1:6379",
            "+  db: 3",
            "-  # use_ice_lite: true",
            "+  use_ice_lite: true",
        ]
    );
}
