use super::*;
use std::io::Cursor;

fn data(n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    let mut x: u64 = 11;
    while v.len() < n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        if (v.len() / 300_000) % 2 == 0 {
            v.extend_from_slice(format!("line {} of text\n", x % 1000).as_bytes());
        } else {
            v.extend_from_slice(&x.to_le_bytes());
        }
    }
    v.truncate(n);
    v
}

fn files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("top/empty", vec![]),
        ("top/small.txt", data(5000)),
        ("top/exactly", data(SMALL as usize)),
        ("top/große", data(SMALL as usize + 1)),
        ("top/big.bin", data(3 * SMALL as usize + 12345)),
    ]
}

fn build(threads: usize, limit: u64) -> Vec<u8> {
    let mut z = ZipOut::new(
        Cursor::new(Vec::new()),
        DosTime::from_unix(1_700_000_000),
        6,
        threads,
    )
    .unwrap();
    z.limit = limit;
    z.dir("top/", 0o750).unwrap();
    for (name, body) in files() {
        z.file(name, 0o644, body.len() as u64, &mut &body[..])
            .unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn check(bytes: &[u8]) {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    assert_eq!(a.len(), 6);
    let d = a.by_name("top/").unwrap();
    assert!(d.is_dir());
    assert_eq!(d.unix_mode(), Some(0o40750));
    drop(d);
    for (name, body) in files() {
        let mut f = a.by_name(name).unwrap();
        assert_eq!(f.unix_mode(), Some(0o100644), "{name}");
        assert_eq!(f.size(), body.len() as u64, "{name}");
        let mut back = Vec::new();
        // The zip crate checks the CRC at the end of the entry.
        f.read_to_end(&mut back).unwrap();
        assert!(back == body, "{name} round trip");
    }
    let f = a.by_name("top/big.bin").unwrap();
    assert!(f.compressed_size() < f.size(), "compresses");
    let t = f.last_modified().unwrap();
    assert_eq!((t.year(), t.month(), t.day()), (2023, 11, 14));
}

#[test]
fn entries_read_back_and_ignore_thread_count() {
    let one = build(1, ZIP64_AT);
    check(&one);
    assert!(
        one == build(3, ZIP64_AT),
        "bytes must not depend on threads"
    );
}

#[test]
fn zip64_fields_read_back() {
    // Every size and offset at or past 0 takes the zip64 path.
    let z = build(2, 0);
    check(&z);
    assert!(
        z.windows(4).any(|w| w == [0x50, 0x4b, 6, 6]),
        "zip64 end record"
    );
    let unzip = std::process::Command::new("unzip").arg("-v").output();
    if unzip.is_ok_and(|o| o.status.success()) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.zip");
        std::fs::write(&p, &z).unwrap();
        let out = std::process::Command::new("unzip")
            .arg("-t")
            .arg(&p)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("No errors detected"), "{text}");
    }
}

#[test]
fn dos_time_clamps_to_1980() {
    let t = DosTime::from_unix(0);
    assert_eq!((t.time, t.date), (0, 0x21));
    let t = DosTime::from_unix(1_700_000_000); // 2023-11-14 22:13:20 UTC
    assert_eq!(t.date, (43 << 9) | (11 << 5) | 14);
    assert_eq!(t.time, (22 << 11) | (13 << 5) | 10);
}
