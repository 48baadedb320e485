//! Table-driven JSON merges; expected texts written by hand. JSON has no
//! comments: the new default's key order and indentation are the layout.
use crate::engine::{run_table, Case};

const BASE: &str = "{\n  \"version\": 1,\n  \"server\": {\n    \"address\": \"0.0.0.0:80\",\n    \"timeout\": 30\n  },\n  \"log\": \"info\"\n}\n";

#[test]
fn json_table() {
    run_table(
        "json",
        &[
            Case {
                name: "the new default's key order and indent, the admin's values and keys",
                base: BASE,
                ours: Some("{\n  \"version\": 1,\n  \"server\": {\n    \"extra\": true,\n    \"address\": \"10.0.0.5:80\",\n    \"timeout\": 30\n  },\n  \"log\": \"info\"\n}\n"),
                theirs: "{\n    \"version\": 1,\n    \"log\": \"info\",\n    \"server\": {\n        \"timeout\": 30,\n        \"address\": \"0.0.0.0:80\",\n        \"tls\": false\n    }\n}\n",
                expect: "{\n    \"version\": 1,\n    \"log\": \"info\",\n    \"server\": {\n        \"timeout\": 30,\n        \"address\": \"10.0.0.5:80\",\n        \"tls\": false,\n        \"extra\": true\n    }\n}\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "keys removed upstream are dropped and reported when the admin had set them",
                base: BASE,
                ours: Some("{\n  \"version\": 1,\n  \"server\": {\n    \"address\": \"0.0.0.0:80\",\n    \"timeout\": 45\n  },\n  \"log\": \"info\"\n}\n"),
                theirs: "{\n  \"version\": 1,\n  \"server\": {\n    \"address\": \"0.0.0.0:80\"\n  }\n}\n",
                expect: "{\n  \"version\": 1,\n  \"server\": {\n    \"address\": \"0.0.0.0:80\"\n  }\n}\n",
                conflicts: &["server.timeout"],
                removed: &["server.timeout"],
            },
            Case {
                name: "both changed a key: the admin's value wins; the version is the new one",
                base: BASE,
                ours: Some("{\n  \"version\": 1,\n  \"server\": {\n    \"address\": \"0.0.0.0:80\",\n    \"timeout\": 45\n  },\n  \"log\": \"info\"\n}\n"),
                theirs: "{\n  \"version\": 2,\n  \"server\": {\n    \"address\": \"0.0.0.0:80\",\n    \"timeout\": 60\n  },\n  \"log\": \"info\",\n  \"metrics\": {\n    \"port\": 9100\n  }\n}\n",
                expect: "{\n  \"version\": 2,\n  \"server\": {\n    \"address\": \"0.0.0.0:80\",\n    \"timeout\": 45\n  },\n  \"log\": \"info\",\n  \"metrics\": {\n    \"port\": 9100\n  }\n}\n",
                conflicts: &["server.timeout"],
                removed: &[],
            },
            Case {
                name: "arrays are values; CRLF stays CRLF",
                base: "{\r\n  \"version\": 1,\r\n  \"listen\": [\r\n    \"a\",\r\n    \"b\"\r\n  ]\r\n}\r\n",
                ours: Some("{\r\n  \"version\": 1,\r\n  \"listen\": [\r\n    \"c\"\r\n  ]\r\n}\r\n"),
                theirs: "{\r\n  \"version\": 2,\r\n  \"listen\": [\r\n    \"a\",\r\n    \"b\"\r\n  ]\r\n}\r\n",
                expect: "{\r\n  \"version\": 2,\r\n  \"listen\": [\r\n    \"c\"\r\n  ]\r\n}\r\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "empty base and live take the new default",
                base: "",
                ours: Some(""),
                theirs: "{\n  \"version\": 2\n}\n",
                expect: "{\n  \"version\": 2\n}\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "a deleted live file is written from the new default",
                base: BASE,
                ours: None,
                theirs: "{\"version\": 2}\n",
                expect: "{\"version\": 2}\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.6: an untouched file becomes the new default byte for byte",
                base: BASE,
                ours: Some(BASE),
                theirs: "{\n  \"version\": 1,\n\n  \"hosts\": [\"a\", \"b\"],\n  \"server\": {\"port\": 80, \"tls\": false},\n\n  \"log\": {\n    \"level\": \"info\"\n  }\n}\n",
                expect: "{\n  \"version\": 1,\n\n  \"hosts\": [\"a\", \"b\"],\n  \"server\": {\"port\": 80, \"tls\": false},\n\n  \"log\": {\n    \"level\": \"info\"\n  }\n}\n",
                conflicts: &[],
                removed: &[],
            },
            Case {
                name: "#12.6: the admin's values set into the new default's layout",
                base: "{\n  \"version\": 1,\n  \"hosts\": [\"a\", \"b\"],\n  \"log\": {\n    \"level\": \"info\"\n  }\n}\n",
                ours: Some("{\n  \"version\": 1,\n  \"hosts\": [\"a\", \"c\"],\n  \"log\": {\n    \"level\": \"debug\",\n    \"file\": \"/var/log/x\"\n  },\n  \"mine\": {\n    \"a\": 1\n  }\n}\n"),
                theirs: "{\n  \"version\": 1,\n\n  \"hosts\": [\"a\", \"b\"],\n  \"server\": {\"port\": 80, \"tls\": false},\n\n  \"log\": {\n    \"level\": \"info\"\n  }\n}\n",
                expect: "{\n  \"version\": 1,\n\n  \"hosts\": [\"a\", \"c\"],\n  \"server\": {\"port\": 80, \"tls\": false},\n\n  \"log\": {\n    \"level\": \"debug\",\n    \"file\": \"/var/log/x\"\n  },\n  \"mine\": {\n    \"a\": 1\n  }\n}\n",
                conflicts: &[],
                removed: &[],
            },
        ],
    );
}

#[test]
fn real_cinny_keeps_the_new_layout() {
    let out = crate::engine::real(
        "cinny-json",
        "json",
        &[(
            "\"allowCustomHomeservers\": true",
            "\"allowCustomHomeservers\": false",
        )],
        &[],
    );
    let theirs = std::fs::read_to_string("tests/fixtures/real/cinny-json/default.json").unwrap();
    assert_eq!(
        crate::engine::changed_lines(&theirs, &out.live),
        [
            "-  \"allowCustomHomeservers\": true,",
            "+  \"allowCustomHomeservers\": false,"
        ]
    );
}
