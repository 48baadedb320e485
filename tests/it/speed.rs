//! The performance work must not change what is built: an artifact's bytes
//! do not depend on which other formats are written in the same run (they
//! are written in parallel) nor on the number of worker threads
//! (`PACKWRIGHT_THREADS`), which parallel gzip, zstd and the format writers
//! all use.

use crate::common::{demo, run, tool, Project};
use packwright::format::Format;
use std::collections::BTreeMap;
use std::path::Path;

/// A project whose payload spans several compression blocks and jobs
/// (gzip 1 MiB blocks, zstd 2 MiB jobs), in a large file and many small ones.
fn project() -> Project {
    project_with("")
}

/// `project()` with more manifest text (format sections).
fn project_with(extra: &str) -> Project {
    let p = demo(
        "1.0.0",
        &format!("[[files]]\nsrc = \"share\"\ndst = \"/usr/share/demo\"\n{extra}"),
    );
    let mut x: u64 = 14;
    let mut big = Vec::with_capacity(3 << 20);
    while big.len() < 3 << 20 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Compressible but not trivially: short words from a small alphabet.
        big.extend_from_slice(&(x >> 40).to_le_bytes()[..(x % 5) as usize]);
        big.extend_from_slice(b"\0\x48\x8b");
    }
    std::fs::create_dir_all(p.path().join("share/many")).unwrap();
    std::fs::write(p.path().join("share/big.bin"), &big).unwrap();
    for i in 0..60 {
        let text = format!("file {i}\n").repeat(i * 7 + 1);
        p.file(&format!("share/many/f{i:03}.txt"), &text);
    }
    p
}

/// Build `formats` (all when None) into `out` with `threads` workers, and
/// return each artifact's bytes by file name.
fn build(
    p: &Project,
    formats: Option<&str>,
    threads: &str,
    out: &Path,
) -> BTreeMap<String, Vec<u8>> {
    let mut args = vec!["build", "--out", out.to_str().unwrap()];
    if let Some(f) = formats {
        args.extend(["--format", f]);
    }
    run(p.cmd(&args).env("PACKWRIGHT_THREADS", threads));
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

fn names(m: &BTreeMap<String, Vec<u8>>) -> Vec<&String> {
    m.keys().collect()
}

#[test]
fn each_format_alone_has_the_bytes_it_has_beside_all_others() {
    let p = project();
    let all = build(&p, None, "4", &p.path().join("all"));
    assert_eq!(
        all.len(),
        Format::ALL.len(),
        "every format builds: {:?}",
        names(&all)
    );
    for f in Format::ALL {
        let alone = build(&p, Some(f.key()), "4", &p.path().join(f.key()));
        assert_eq!(alone.len(), 1, "{}: {:?}", f.key(), names(&alone));
        let (name, bytes) = alone.into_iter().next().unwrap();
        let together = all
            .get(&name)
            .unwrap_or_else(|| panic!("{name} in {:?}", names(&all)));
        assert!(
            *together == bytes,
            "{name}: built alone differs from built with the other five"
        );
    }
    // Groups where a codec's contents go through the shared spool for some
    // formats and are compressed where they are placed for others: the
    // four Linux formats (zstd shared by three, deflate by apk alone), and
    // apk beside zip (deflate shared by two).
    for group in ["deb,rpm,pacman,apk", "apk,zip"] {
        let out = p.path().join(group.replace(',', "-"));
        for (name, bytes) in build(&p, Some(group), "4", &out) {
            assert!(all[&name] == bytes, "{name}: built in {group} differs");
        }
    }
}

/// deb, rpm and pacman at gzip 6 take the same deflate contents as apk,
/// tar.gz and zip: built alone each compresses them where it places them,
/// built together they share one spool, and the bytes are the same either
/// way; dpkg-deb and libarchive read the large file back.
#[test]
fn formats_at_one_gzip_level_share_it_and_read_back() {
    if !tool("bsdtar") || !tool("dpkg-deb") {
        return;
    }
    let gzip = "compression = \"gzip\"\nlevel = 6\n";
    let extra = ["deb", "rpm", "pacman"]
        .map(|f| format!("[format.{f}]\n{gzip}"))
        .concat()
        + "[format.apk]\nlevel = 6\n[format.targz]\nlevel = 6\n";
    let p = project_with(&extra);
    let want = std::fs::read(p.path().join("share/big.bin")).unwrap();
    let all = build(&p, None, "2", &p.path().join("all"));
    for f in ["deb", "rpm", "pacman", "apk", "targz"] {
        let out = p.path().join(f);
        let (name, bytes) = build(&p, Some(f), "2", &out).into_iter().next().unwrap();
        assert!(all[&name] == bytes, "{name}: alone differs from all six");
        let got = big_bin(&p, &out.join(&name));
        assert!(got == want, "{name}: big.bin reads back other bytes");
    }
}

/// The large file as artifact `a`'s own reader gives it back: dpkg-deb
/// for a .deb, libarchive for the rest.
fn big_bin(p: &Project, a: &Path) -> Vec<u8> {
    if a.extension().is_some_and(|e| e == "deb") {
        let tar = run(std::process::Command::new("dpkg-deb")
            .arg("--fsys-tarfile")
            .arg(a))
        .stdout;
        let t = p.path().join("data.tar");
        std::fs::write(&t, tar).unwrap();
        return bsdtar_member(&t, "/big.bin");
    }
    bsdtar_member(a, "/big.bin")
}

/// `member` (the path ending in `tail`) of archive `a`, read by bsdtar.
fn bsdtar_member(a: &Path, tail: &str) -> Vec<u8> {
    let list = run(std::process::Command::new("bsdtar").arg("-tf").arg(a));
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    let member = list
        .lines()
        .find(|l| l.ends_with(tail))
        .unwrap_or_else(|| panic!("{}: no {tail} in\n{list}", a.display()));
    run(std::process::Command::new("bsdtar")
        .arg("-xOf")
        .arg(a)
        .arg(member))
    .stdout
}

/// The large file is compressed once per codec and its compressed bytes
/// spliced into every container: each format's own reader must still give
/// back exactly the file (dpkg-deb for the .deb, libarchive for the rest,
/// which reads rpm, pacman, apk, tar.gz and zip).
#[test]
fn a_large_file_compressed_once_reads_back_from_every_format() {
    if !tool("bsdtar") || !tool("dpkg-deb") {
        return;
    }
    let p = project();
    let want = std::fs::read(p.path().join("share/big.bin")).unwrap();
    let out = p.path().join("all");
    let all = build(&p, None, "2", &out);
    for name in all.keys() {
        let got = big_bin(&p, &out.join(name));
        assert!(got == want, "{name}: big.bin reads back other bytes");
    }
}

#[test]
fn one_thread_and_many_threads_build_the_same_bytes() {
    let p = project();
    let one = build(&p, None, "1", &p.path().join("one"));
    assert_eq!(one.len(), Format::ALL.len(), "{:?}", names(&one));
    for threads in ["2", "5"] {
        let many = build(&p, None, threads, &p.path().join(format!("t{threads}")));
        assert_eq!(names(&one), names(&many));
        for (name, bytes) in &one {
            assert!(
                many[name] == *bytes,
                "{name}: {threads} threads built other bytes than 1 thread"
            );
        }
    }
}

#[test]
fn a_thread_count_that_is_not_a_positive_number_is_refused() {
    let p = project();
    for bad in ["0", "many", "-2"] {
        let out = p
            .cmd(&["build", "--format", "deb", "--out", "dist"])
            .env("PACKWRIGHT_THREADS", bad)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("PACKWRIGHT_THREADS"), "{bad}: {err}");
        assert!(!p.path().join("dist").exists(), "{bad}: nothing built");
    }
}
