//! Table-driven `.env` merges; expected texts written by hand.
use crate::engine::{run_table, Case};

const BASE: &str = "# imsrv environment\nversion=1\nADDRESS=0.0.0.0:80\nTIMEOUT=30\nLOG=info\n";

#[test]
fn env_table() {
    run_table(
        "env",
        &[
            Case {
                name: "comments, export and quotes of the admin's lines are kept",
                base: BASE,
                ours: Some("# imsrv environment\nversion=1\n# moved to rack 4\nexport ADDRESS=\"10.0.0.5:80\"  # ops\nTIMEOUT=30\nLOG=info\nSECRET='a b#c'\n"),
                theirs: "# imsrv environment (3.5)\nversion=1\n\n# Listen address\nADDRESS=0.0.0.0:80\nTIMEOUT=30\nLOG=info\nTLS=false\n",
                expect: "# imsrv environment (3.5)\nversion=1\n\n# Listen address\n# moved to rack 4\nexport ADDRESS=\"10.0.0.5:80\"  # ops\nTIMEOUT=30\nLOG=info\nTLS=false\nSECRET='a b#c'\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "removed upstream and conflicts; version bumped",
                base: BASE,
                ours: Some("# imsrv environment\nversion=1\nADDRESS=0.0.0.0:80\nTIMEOUT=45\nLOG=debug\n"),
                theirs: "# imsrv environment\nversion=2\nADDRESS=0.0.0.0:80\nTIMEOUT=60\n",
                expect: "# imsrv environment\nversion=2\nADDRESS=0.0.0.0:80\nTIMEOUT=45\n",
                conflicts: &["TIMEOUT", "LOG"],
                removed: &["LOG"],
            },
            Case {
                name: "a value over several lines in double quotes is one value",
                base: "version=1\nMOTD=\"hello\"\n",
                ours: Some("version=1\nMOTD=\"hello\nworld\"\n"),
                theirs: "version=1\nMOTD=\"hello\"\nNEW=1\n",
                expect: "version=1\nMOTD=\"hello\nworld\"\nNEW=1\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "CRLF files stay CRLF",
                base: "version=1\r\nA=1\r\n",
                ours: Some("version=1\r\nA=2\r\nB=3\r\n"),
                theirs: "version=2\r\nA=1\r\nC=4\r\n",
                expect: "version=2\r\nA=2\r\nC=4\r\nB=3\r\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "quoting or an inline comment on a value the admin kept is kept",
                base: BASE,
                ours: Some("# imsrv environment\nversion=1\nADDRESS=\"0.0.0.0:80\" # checked\nTIMEOUT=30\nLOG=info\n"),
                theirs: "# imsrv environment\nversion=2\nADDRESS=0.0.0.0:80\nTIMEOUT=60\nLOG=info\n",
                expect: "# imsrv environment\nversion=2\nADDRESS=\"0.0.0.0:80\" # checked\nTIMEOUT=60\nLOG=info\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "empty base and live take the new default",
                base: "",
                ours: Some(""),
                theirs: "version=2\nA=1\n",
                expect: "version=2\nA=1\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "a deleted live file is written from the new default",
                base: BASE,
                ours: None,
                theirs: "version=2\n",
                expect: "version=2\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "an enabled variable takes its commented line's place",
                base: "# Listen port\nPORT=80\n# Log level\n#LOG_LEVEL=info\nTLS=false\n",
                ours: Some("# Listen port\nPORT=80\n# Log level\nLOG_LEVEL=debug\nTLS=false\n"),
                theirs: "# Listen port\nPORT=80\n# Log level (debug, info, warn)\n#LOG_LEVEL=info\nTLS=true\n",
                expect: "# Listen port\nPORT=80\n# Log level (debug, info, warn)\nLOG_LEVEL=debug\nTLS=true\n",
                conflicts: &[],
                removed: &[],
            },
        ],
    );
}

#[test]
fn env_rename_moves_the_admins_value() {
    let out = crate::engine::update_with(
        "env",
        "A=1\nOLD_NAME=x\n",
        Some("A=1\nexport OLD_NAME=\"y\"\n"),
        "A=1\n# now named\nNEW_NAME=x\n",
        &[("OLD_NAME", "NEW_NAME")],
    )
    .unwrap();
    assert_eq!(out.live, "A=1\n# now named\nexport NEW_NAME=\"y\"\n");
    assert_eq!(out.report.moved.len(), 1);
}

#[test]
fn real_openim_env_admin_values_kept() {
    let out = crate::engine::real(
        "openim-dotenv-env",
        "env",
        &[(
            "DATA_DIR=./",
            "# admin: data on the big disk\nDATA_DIR=/srv/openim",
        )],
        &[],
    );
    let theirs =
        std::fs::read_to_string("tests/fixtures/real/openim-dotenv-env/default.env").unwrap();
    assert_eq!(
        crate::engine::changed_lines(&theirs, &out.live),
        [
            "-DATA_DIR=./",
            "+# admin: data on the big disk",
            "+DATA_DIR=/srv/openim"
        ]
    );
}
