//! Rendered control files and scripts, pinned so that any change to what
//! users' package managers see is a reviewed change.

use crate::common::{demo, run};
use std::process::Command;

fn inspect(path: &std::path::Path) -> serde_json::Value {
    let out = run(Command::new(env!("CARGO_BIN_EXE_packwright"))
        .args(["--json", "inspect"])
        .arg(path));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn file_text(deb: &std::path::Path, inside: &str) -> String {
    let mut found = None;
    let f = std::fs::File::open(deb).unwrap();
    packwright::archive::ar::for_each_member(&mut std::io::BufReader::new(f), &mut |name, body| {
        if name.starts_with("data.tar") {
            let dec = packwright::archive::compress::decoder(body)?;
            for e in tar::Archive::new(dec).entries()? {
                let mut e = e?;
                if e.path()?.to_string_lossy() == inside {
                    let mut s = Vec::new();
                    std::io::Read::read_to_end(&mut e, &mut s)?;
                    found = Some(s);
                }
            }
        }
        Ok(())
    })
    .unwrap();
    let bytes = found.unwrap_or_else(|| panic!("{inside} not in {deb:?}"));
    if inside.ends_with(".gz") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut s)
            .unwrap();
        s
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

#[test]
fn deb_control_scripts_and_docs() {
    let p = demo(
        "2.1.0",
        "changelog = \"CHANGELOG.md\"\n[relations]\ndepends = [\"libc6\"]\n[scripts]\npre-upgrade = \"s.sh\"\npost-install = \"s.sh\"\npurge = \"s.sh\"\n",
    );
    // `changelog` belongs to [package]; move it there.
    let m = std::fs::read_to_string(p.path().join("packaging/packwright.toml")).unwrap();
    let m = m.replace("changelog = \"CHANGELOG.md\"\n", "").replace(
        "license = \"Apache-2.0\"\n",
        "license = \"Apache-2.0\"\nchangelog = \"CHANGELOG.md\"\n",
    );
    p.file("packaging/packwright.toml", &m);
    p.file("s.sh", "echo \"$@\"\n");
    p.file("CHANGELOG.md", "# Changes\n\n## 2.1.0 - 2023-11-01\n\n- Faster startup.\n- Fixed a crash\n  on empty input.\n\n## 2.0.0\n\n- Old news.\n");
    let deb = &p.build("deb")[0];
    let v = inspect(deb);
    let control: String = v["fields"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}: {}\n", v.as_str().unwrap()))
        .collect();
    insta::assert_snapshot!("deb_control", control);
    for s in v["scripts"].as_array().unwrap() {
        insta::assert_snapshot!(
            format!("deb_{}", s["name"].as_str().unwrap()),
            s["text"].as_str().unwrap()
        );
    }
    insta::assert_snapshot!(
        "deb_copyright",
        file_text(deb, "./usr/share/doc/demo/copyright")
    );
    insta::assert_snapshot!(
        "deb_changelog_debian",
        file_text(deb, "./usr/share/doc/demo/changelog.Debian.gz")
    );
}
