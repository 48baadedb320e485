//! Table-driven TOML merges; expected texts written by hand.
use crate::engine::{run_table, update, update_with, Case};

const BASE: &str = "version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 30\n\n[log]\nlevel = \"info\"\n";

#[test]
fn toml_table() {
    run_table(
        "toml",
        &[
            Case {
                name: "comments of the new default and of the admin are kept",
                base: BASE,
                ours: Some("version = 1\n# Server\n[server]\n# moved to rack 4\naddress = \"10.0.0.5:80\"  # ops\ntimeout = 30\n\n[log]\nlevel = \"info\"\n"),
                theirs: "# imsrv configuration\nversion = 1\n# Server settings\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 30\n\n[log]\nlevel = \"info\"\n",
                expect: "# imsrv configuration\nversion = 1\n# Server settings\n[server]\n# moved to rack 4\naddress = \"10.0.0.5:80\"  # ops\ntimeout = 30\n\n[log]\nlevel = \"info\"\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "keys the admin added stay in their table",
                base: BASE,
                ours: Some("version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\nextra = true\ntimeout = 30\n\n[log]\nlevel = \"info\"\n\n[mine]\na = 1\n"),
                theirs: "version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 30\ntls = false\n\n[log]\nlevel = \"info\"\n",
                expect: "version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 30\ntls = false\nextra = true\n\n[log]\nlevel = \"info\"\n\n[mine]\na = 1\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "new keys and tables arrive, the admin's value stays",
                base: BASE,
                ours: Some("version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 30\n\n[log]\nlevel = \"debug\"\n"),
                theirs: "version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 30\n\n[log]\nlevel = \"info\"\n\n[metrics]\nport = 9100\n",
                expect: "version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 30\n\n[log]\nlevel = \"debug\"\n\n[metrics]\nport = 9100\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "keys removed upstream are dropped and reported when the admin had set them",
                base: BASE,
                ours: Some("version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 45\n\n[log]\nlevel = \"debug\"\n"),
                theirs: "version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\n",
                expect: "version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\n",
                conflicts: &["server.timeout", "log.level"],
                removed: &["server.timeout", "log.level"],
            },
            Case {
                name: "both changed a key: the admin's value wins, conflict reported",
                base: BASE,
                ours: Some("version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 45\n\n[log]\nlevel = \"info\"\n"),
                theirs: "version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 60\n\n[log]\nlevel = \"info\"\n",
                expect: "version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 45\n\n[log]\nlevel = \"info\"\n",
                conflicts: &["server.timeout"],
                removed: &[],
            },
            Case {
                name: "the version key takes the new schema version",
                base: BASE,
                ours: Some("version = 1\n# Server\n[server]\naddress = \"0.0.0.0:81\"\ntimeout = 30\n\n[log]\nlevel = \"info\"\n"),
                theirs: "version = 2\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 30\n\n[log]\nlevel = \"info\"\n",
                expect: "version = 2\n# Server\n[server]\naddress = \"0.0.0.0:81\"\ntimeout = 30\n\n[log]\nlevel = \"info\"\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "CRLF files stay CRLF",
                base: "version = 1\r\n[server]\r\nport = 80\r\n",
                ours: Some("version = 1\r\n[server]\r\nport = 8080\r\n"),
                theirs: "version = 2\r\n[server]\r\nport = 80\r\ntls = false\r\n",
                expect: "version = 2\r\n[server]\r\nport = 8080\r\ntls = false\r\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "an inline comment on a value the admin kept is kept",
                base: BASE,
                ours: Some("version = 1\n# Server\n[server]\naddress = \"0.0.0.0:80\" # checked 2026-11\ntimeout = 30\n\n[log]\nlevel = \"info\"\n"),
                theirs: "version = 2\n# Server\n[server]\naddress = \"0.0.0.0:80\"\ntimeout = 60\n\n[log]\nlevel = \"info\"\n",
                expect: "version = 2\n# Server\n[server]\naddress = \"0.0.0.0:80\" # checked 2026-11\ntimeout = 60\n\n[log]\nlevel = \"info\"\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "empty base and live take the new default",
                base: "",
                ours: Some(""),
                theirs: "version = 2\nport = 80\n",
                expect: "version = 2\nport = 80\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "a deleted live file is written from the new default",
                base: BASE,
                ours: None,
                theirs: "version = 2\nport = 80\n",
                expect: "version = 2\nport = 80\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "arrays are values",
                base: "version = 1\nlisten = [\"a\", \"b\"]\n",
                ours: Some("version = 1\nlisten = [\"a\", \"c\"]\n"),
                theirs: "version = 1\n# where to listen\nlisten = [\"a\", \"b\"]\n",
                expect: "version = 1\n# where to listen\nlisten = [\"a\", \"c\"]\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.4: a blank line of the new default stays above a key the admin commented",
                base: "a = 1\n# about b\n\n# the token\ntoken = \"x\"\n",
                ours: Some("a = 1\n# about b\n\n# the token\n# admin: rotated\ntoken = \"y\"\n"),
                theirs: "a = 1\n# about b\n\n# the token\ntoken = \"x\"\n",
                expect: "a = 1\n# about b\n\n# the token\n# admin: rotated\ntoken = \"y\"\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.2: an uncommented option is stable when nothing changed upstream",
                base: "bindPort = 7000\n\n# udp port used for quic protocol.\n# if not set, quic is disabled in frps.\n# quicBindPort = 7002\n\n# Pool count in each proxy.\ntransport.maxPoolCount = 5\n",
                ours: Some("bindPort = 7000\n\n# udp port used for quic protocol.\n# if not set, quic is disabled in frps.\nquicBindPort = 7003\n\n# Pool count in each proxy.\ntransport.maxPoolCount = 5\n"),
                theirs: "bindPort = 7000\n\n# udp port used for quic protocol.\n# if not set, quic is disabled in frps.\n# quicBindPort = 7002\n\n# Pool count in each proxy.\ntransport.maxPoolCount = 5\n",
                expect: "bindPort = 7000\n\n# udp port used for quic protocol.\n# if not set, quic is disabled in frps.\nquicBindPort = 7003\n\n# Pool count in each proxy.\ntransport.maxPoolCount = 5\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.3: an uncommented option takes its commented line's place, upstream's doc once",
                base: "bindPort = 7000\n\n# udp port used for quic protocol.\n# if not set, quic is disabled in frps.\n# quicBindPort = 7002\n\n# Pool count in each proxy.\ntransport.maxPoolCount = 5\n",
                ours: Some("bindPort = 7000\n\n# udp port used for quic protocol.\n# if not set, quic is disabled in frps.\nquicBindPort = 7003\n\n# Pool count in each proxy.\ntransport.maxPoolCount = 5\n"),
                theirs: "bindPort = 7000\n\n# UDP port for QUIC; unset disables QUIC.\n# quicBindPort = 7002\n\n# Pool count in each proxy.\ntransport.maxPoolCount = 10\n",
                expect: "bindPort = 7000\n\n# UDP port for QUIC; unset disables QUIC.\nquicBindPort = 7003\n\n# Pool count in each proxy.\ntransport.maxPoolCount = 10\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.3: an uncommented option inside a table",
                base: "[server]\nport = 80\n# tls = false\nhost = \"a\"\n",
                ours: Some("[server]\nport = 80\ntls = true\nhost = \"a\"\n"),
                theirs: "[server]\nport = 81\n# tls = false\nhost = \"a\"\n",
                expect: "[server]\nport = 81\ntls = true\nhost = \"a\"\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.5: the admin's comment above a table header stays above it",
                base: "log = \"info\"\n\n[redis]\nhost = \"localhost\"\n",
                ours: Some("log = \"info\"\n\n# admin: redis moved to the cache host\n[redis]\nhost = \"cache1\"\n"),
                theirs: "log = \"info\"\n\n# Redis\n[redis]\nhost = \"localhost\"\nport = 6379\n",
                expect: "log = \"info\"\n\n# Redis\n# admin: redis moved to the cache host\n[redis]\nhost = \"cache1\"\nport = 6379\n",
                conflicts: &[],
                removed: &[],
            },
        ],
    );
}

#[test]
fn toml_rename_moves_the_admins_value() {
    // frp 0.54 moved `tls.force` to `transport.tls.force`.
    let base = "bindPort = 7000\n# only accept TLS\ntls.force = false\n";
    let ours = "bindPort = 7000\n# only accept TLS\ntls.force = true\n";
    let theirs = "bindPort = 7000\n# only accept TLS\ntransport.tls.force = false\n";
    let out = update_with(
        "toml",
        base,
        Some(ours),
        theirs,
        &[("tls.force", "transport.tls.force")],
    )
    .unwrap();
    assert_eq!(
        out.live,
        "bindPort = 7000\n# only accept TLS\ntransport.tls.force = true\n"
    );
    assert_eq!(out.report.moved[0].to, "transport.tls.force");
    assert!(out.report.conflicts.is_empty());
    let out = update("toml", base, Some(ours), theirs).unwrap();
    assert_eq!(out.live, theirs);
    assert_eq!(out.report.conflicts[0].key, "tls.force");
}

#[test]
fn real_frps_enabled_option_and_renamed_key() {
    let out = crate::engine::real(
        "frps-toml",
        "toml",
        &[
            ("# quicBindPort = 7002", "quicBindPort = 7002"),
            ("tls.force = false", "tls.force = true"),
            ("bindPort = 7000", "bindPort = 7001"),
        ],
        &[("tls.force", "transport.tls.force")],
    );
    let theirs = std::fs::read_to_string("tests/fixtures/real/frps-toml/default.toml").unwrap();
    assert_eq!(
        crate::engine::changed_lines(&theirs, &out.live),
        [
            "-bindPort = 7000",
            "+bindPort = 7001",
            "-# quicBindPort = 7002",
            "+quicBindPort = 7002",
            "-transport.tls.force = false",
            "+transport.tls.force = true",
        ]
    );
    assert_eq!(out.report.moved[0].from, "tls.force");
}
