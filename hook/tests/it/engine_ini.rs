//! Table-driven INI merges; expected texts written by hand.
use crate::engine::{run_table, Case};

const BASE: &str = "version = 1\n\n; Server\n[server]\naddress = 0.0.0.0:80\ntimeout = 30\n\n[log]\nlevel = info\n";

#[test]
fn ini_table() {
    run_table(
        "ini",
        &[
            Case {
                name: "comments kept; the admin's keys stay in their section; new sections arrive",
                base: BASE,
                ours: Some("version = 1\n\n; Server\n[server]\n# moved to rack 4\naddress = 10.0.0.5:80\n; for the proxy\nextra = yes\ntimeout = 30\n\n[log]\nlevel = info\n\n[mine]\na = 1\n"),
                theirs: "; imsrv 3.5\nversion = 1\n\n; Server settings\n[server]\naddress = 0.0.0.0:80\ntimeout = 30\ntls = false\n\n[log]\nlevel = info\n\n[metrics]\nport = 9100\n",
                expect: "; imsrv 3.5\nversion = 1\n\n; Server settings\n[server]\n# moved to rack 4\naddress = 10.0.0.5:80\ntimeout = 30\ntls = false\n; for the proxy\nextra = yes\n\n[log]\nlevel = info\n\n[metrics]\nport = 9100\n\n[mine]\na = 1\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "removed upstream and conflicts; version bumped",
                base: BASE,
                ours: Some("version = 1\n\n; Server\n[server]\naddress = 0.0.0.0:80\ntimeout = 45\n\n[log]\nlevel = debug\n"),
                theirs: "version = 2\n\n; Server\n[server]\naddress = 0.0.0.0:80\ntimeout = 60\n",
                expect: "version = 2\n\n; Server\n[server]\naddress = 0.0.0.0:80\ntimeout = 45\n",
                conflicts: &["server.timeout", "log.level"],
                removed: &["log.level"],
            },
            Case {
                name: "continuation lines belong to their key",
                base: "version = 1\n[a]\nhosts = x\n",
                ours: Some("version = 1\n[a]\nhosts = x\n  y\n"),
                theirs: "version = 1\n[a]\nhosts = x\nport = 1\n",
                expect: "version = 1\n[a]\nhosts = x\n  y\nport = 1\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "CRLF files stay CRLF",
                base: "version = 1\r\n[a]\r\nk = 1\r\n",
                ours: Some("version = 1\r\n[a]\r\nk = 2\r\n"),
                theirs: "version = 2\r\n[a]\r\nk = 1\r\nj = 3\r\n",
                expect: "version = 2\r\n[a]\r\nk = 2\r\nj = 3\r\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "empty base and live take the new default",
                base: "",
                ours: Some(""),
                theirs: "version = 2\n[a]\nk = 1\n",
                expect: "version = 2\n[a]\nk = 1\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "a deleted live file is written from the new default",
                base: BASE,
                ours: None,
                theirs: "version = 2\n",
                expect: "version = 2\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.2: uncommenting an option does not repeat upstream's comment",
                base: "[pgbouncer]\nlisten_port = 6432\n\n;; When server connection is released back to pool:\n;pool_mode = session\n",
                ours: Some("[pgbouncer]\nlisten_port = 6432\n\n;; When server connection is released back to pool:\npool_mode = transaction\n"),
                theirs: "[pgbouncer]\nlisten_port = 6432\n\n;; When server connection is released back to pool:\n;pool_mode = session\n",
                expect: "[pgbouncer]\nlisten_port = 6432\n\n;; When server connection is released back to pool:\npool_mode = transaction\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.3: the enabled option stays next to its documentation",
                base: "[pgbouncer]\nlisten_port = 6432\n\n;; When server connection is released back to pool:\n;pool_mode = session\n",
                ours: Some("[pgbouncer]\nlisten_port = 6432\n\n;; When server connection is released back to pool:\npool_mode = transaction\n"),
                theirs: "[pgbouncer]\nlisten_port = 6432\n\n;; When a server connection is released back to the pool:\n;;   session, transaction, statement\n;pool_mode = session\n\n;max_client_conn = 100\n",
                expect: "[pgbouncer]\nlisten_port = 6432\n\n;; When a server connection is released back to the pool:\n;;   session, transaction, statement\npool_mode = transaction\n\n;max_client_conn = 100\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.5: the admin's comment above a section header stays above it",
                base: "log = info\n\n[redis]\nhost = localhost\n",
                ours: Some("log = info\n\n; admin: redis moved to the cache host\n[redis]\nhost = cache1\n"),
                theirs: "log = info\n\n; Redis\n[redis]\nhost = localhost\nport = 6379\n",
                expect: "log = info\n\n; Redis\n; admin: redis moved to the cache host\n[redis]\nhost = cache1\nport = 6379\n",
                conflicts: &[],
                removed: &[],
            },
        ],
    );
}

#[test]
fn real_pgbouncer_enabled_option_stays_with_its_documentation() {
    let out = crate::engine::real(
        "pgbouncer-ini",
        "ini",
        &[
            ("listen_port = 6432", "listen_port = 6433"),
            (";pool_mode = session", "pool_mode = transaction"),
            (
                "auth_type = md5",
                "; admin: behind haproxy\nauth_type = md5",
            ),
        ],
        &[],
    );
    let theirs = std::fs::read_to_string("tests/fixtures/real/pgbouncer-ini/default.ini").unwrap();
    assert_eq!(
        crate::engine::changed_lines(&theirs, &out.live),
        [
            "-listen_port = 6432",
            "+listen_port = 6433",
            "+; admin: behind haproxy",
            "-;pool_mode = session",
            "+pool_mode = transaction",
        ]
    );
}
