//! Same inputs + SOURCE_DATE_EPOCH ⇒ byte-identical artifacts, whatever the
//! input path, umask or file mtimes.

use crate::common::{demo, run};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn sums(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                hex::encode(Sha256::digest(std::fs::read(&p).unwrap())),
            )
        })
        .collect()
}

/// Copy `src` to `dst` under `umask`, give every file an mtime from `seed`,
/// and build every format there under the same umask.
fn build_copy(src: &Path, dst: &Path, umask: &str, seed: u64) -> BTreeMap<String, String> {
    let script = format!(
        "umask {umask} && mkdir -p '{d}' && cp -r '{s}/.' '{d}/'",
        s = src.display(),
        d = dst.display()
    );
    run(Command::new("sh").arg("-c").arg(script));
    let mut n = seed;
    for e in walkdir::WalkDir::new(dst) {
        let e = e.unwrap();
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let t = 1_000_000_000 + (n >> 35) as i64;
        run(Command::new("touch")
            .arg("-h")
            .arg("-d")
            .arg(format!("@{t}"))
            .arg(e.path()));
    }
    let bin = env!("CARGO_BIN_EXE_packwright");
    let script = format!(
        "umask {umask} && exec '{bin}' -C '{d}' build --out '{d}/dist'",
        d = dst.display()
    );
    run(Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    sums(&dst.join("dist"))
}

#[test]
fn two_builds_from_different_paths_umasks_and_mtimes_are_identical() {
    let p = demo(
        "1.0.0",
        "[[files]]\nsrc = \"share\"\ndst = \"/usr/share/demo\"\n",
    );
    p.file("share/b/two.txt", "2");
    p.file("share/a/one.txt", "1");
    p.file("share/z.txt", "z");
    let t = tempfile::tempdir().unwrap();
    let a = build_copy(p.path(), &t.path().join("first/copy"), "002", 1);
    let b = build_copy(
        p.path(),
        &t.path().join("second-place/deeper/copy"),
        "077",
        99,
    );
    assert_eq!(
        a.len(),
        packwright::format::Format::ALL.len(),
        "every format builds: {a:?}"
    );
    assert_eq!(a, b);
    // And the inputs' path never leaks into an artifact.
    for name in a.keys() {
        let bytes = std::fs::read(t.path().join("first/copy/dist").join(name)).unwrap();
        let mut plain = Vec::new();
        let _ = packwright::archive::compress::decoder(&bytes[..])
            .and_then(|mut r| std::io::copy(&mut r, &mut plain));
        for hay in [&bytes, &plain] {
            assert!(
                !hay.windows(10).any(|w| w == b"first/copy"),
                "{name} contains the build path"
            );
        }
    }
}

#[test]
fn source_date_epoch_sets_every_timestamp() {
    let p = demo("1.0.0", "");
    let dist = p.path().join("dist");
    run(p
        .cmd(&[
            "build",
            "--format",
            "targz",
            "--out",
            dist.to_str().unwrap(),
        ])
        .env("SOURCE_DATE_EPOCH", "1234567890"));
    let file = std::fs::read_dir(&dist)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let dec = flate2::read::GzDecoder::new(std::fs::File::open(file).unwrap());
    let mut ar = tar::Archive::new(dec);
    let mut n = 0;
    for e in ar.entries().unwrap() {
        assert_eq!(e.unwrap().header().mtime().unwrap(), 1234567890);
        n += 1;
    }
    assert!(n > 3);
}
