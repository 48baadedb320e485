//! Table-driven TOML merges; expected texts written by hand.
use crate::engine::{run_table, Case};

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
                conflicts: &[],
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
        ],
    );
}
