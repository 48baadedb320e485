//! A strict, independent reader of apk-tools v2 packages for tests. It
//! shares no code with the writer (own tar parser, own PKGINFO parser), so a
//! bug in the writer cannot hide behind the same bug here. It checks what
//! apk-tools 2.x checks, and what abuild produces, and reports EVERY
//! violation so a test can assert that one specific property is caught.
//!
//! Facts it encodes (apk-tools src/extract_v2.c, src/tar.c; abuild-tar.c,
//! abuild-sign): gzip members are [signature], control, data; apk reads the
//! decompressed concatenation as one tar, so signature and control tars have
//! no end-of-archive blocks and the data tar ends with them; the data is one
//! gzip member; `.SIGN.RSA.<key>` holds PKCS#1 v1.5 / SHA-1 over the control
//! member's gzip bytes; `datahash` is the SHA-256 of the data member's gzip
//! bytes; regular files and symlinks carry `APK-TOOLS.checksum.SHA1` as hex.
#![allow(dead_code)]

use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;

/// One gzip member: its exact compressed bytes and what they decompress to.
pub struct Member {
    pub raw: Vec<u8>,
    pub tar: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink(String),
    Other(u8),
}

#[derive(Debug, Clone)]
pub struct TarEntry {
    pub name: String,
    pub kind: EntryKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub uname: String,
    pub gname: String,
    pub mtime: u64,
    pub data: Vec<u8>,
    pub pax: BTreeMap<String, Vec<u8>>,
}

pub struct Apk {
    pub members: Vec<Member>,
    /// (`RSA` / `RSA256`, key name, signature bytes)
    pub signature: Option<(String, String, Vec<u8>)>,
    pub pkginfo: Vec<(String, String)>,
    /// Control entries other than `.PKGINFO` and the signature.
    pub control: Vec<TarEntry>,
    pub data: Vec<TarEntry>,
}

impl Apk {
    pub fn field(&self, k: &str) -> Option<&str> {
        self.pkginfo
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    }
    pub fn fields(&self, k: &str) -> Vec<&str> {
        self.pkginfo
            .iter()
            .filter(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn script(&self, name: &str) -> Option<&TarEntry> {
        self.control.iter().find(|e| e.name == name)
    }
    pub fn file(&self, path: &str) -> Option<&TarEntry> {
        self.data
            .iter()
            .find(|e| e.name.trim_end_matches('/') == path.trim_start_matches('/'))
    }
}

const SCRIPTS: &[&str] = &[
    ".pre-install",
    ".post-install",
    ".pre-upgrade",
    ".post-upgrade",
    ".pre-deinstall",
    ".post-deinstall",
    ".trigger",
];

/// What packwright always writes (`url` only when the manifest has a
/// homepage: apk-tools treats every field but pkgname/pkgver as optional).
const REQUIRED: &[&str] = &[
    "pkgname",
    "pkgver",
    "pkgdesc",
    "builddate",
    "packager",
    "size",
    "arch",
    "origin",
    "license",
    "datahash",
];

/// Check `bytes` as an apk. With `key` (a PEM public key), the package must
/// be signed by it. Ok only when no property is violated.
pub fn check(bytes: &[u8], key: Option<&str>) -> Result<Apk, Vec<String>> {
    let mut errs = Vec::new();
    let members = match split_members(bytes) {
        Ok(m) => m,
        Err(e) => return Err(vec![e]),
    };
    if members.len() != 2 && members.len() != 3 {
        return Err(vec![format!(
            "gzip members: expected 2 (control, data) or 3 (signature, control, data), found {}",
            members.len()
        )]);
    }
    let signed = members.len() == 3;
    let (ci, di) = if signed { (1, 2) } else { (0, 1) };

    // Signature stream.
    let mut signature = None;
    if signed {
        match parse_tar(&members[0].tar, false) {
            Err(e) => errs.push(format!("signature stream: {e}")),
            Ok(entries) => {
                if entries.len() != 1 {
                    errs.push(format!(
                        "signature stream: expected one entry, found {}",
                        entries.len()
                    ));
                }
                if let Some(e) = entries.first() {
                    match e
                        .name
                        .strip_prefix(".SIGN.")
                        .and_then(|r| r.split_once('.'))
                    {
                        Some((alg, keyname))
                            if (alg == "RSA" || alg == "RSA256") && !keyname.is_empty() =>
                        {
                            if e.kind != EntryKind::File {
                                errs.push(
                                    "signature stream: the signature is not a regular file".into(),
                                );
                            }
                            signature =
                                Some((alg.to_string(), keyname.to_string(), e.data.clone()));
                        }
                        _ => errs.push(format!(
                            "signature stream: `{}` is not .SIGN.RSA.<key name>",
                            e.name
                        )),
                    }
                }
            }
        }
    }
    match (key, &signature) {
        (Some(_), None) => errs.push("signature: the package is not signed".into()),
        (Some(pem), Some((alg, _, sig))) => {
            if let Err(e) = verify(pem, alg, &members[ci].raw, sig) {
                errs.push(format!(
                    "signature: does not verify over the control gzip member: {e}"
                ));
            }
        }
        _ => {}
    }

    // Control stream.
    let mut pkginfo = Vec::new();
    let mut control = Vec::new();
    match parse_tar(&members[ci].tar, false) {
        Err(e) => errs.push(format!("control stream: {e}")),
        Ok(entries) => {
            if entries.first().map(|e| e.name.as_str()) != Some(".PKGINFO") {
                errs.push("control stream: the first entry is not .PKGINFO".into());
            }
            for e in entries {
                if !e.name.starts_with('.') || e.name.contains('/') || e.name.starts_with(".SIGN.")
                {
                    errs.push(format!(
                        "control stream: `{}` is not a control entry",
                        e.name
                    ));
                }
                if e.kind != EntryKind::File {
                    errs.push(format!(
                        "control stream: `{}` is not a regular file",
                        e.name
                    ));
                }
                if e.name == ".PKGINFO" {
                    if e.mode != 0o644 {
                        errs.push(format!(".PKGINFO: mode {:04o}, expected 0644", e.mode));
                    }
                    match parse_pkginfo(&e.data) {
                        Ok(p) => pkginfo = p,
                        Err(m) => errs.push(format!(".PKGINFO: {m}")),
                    }
                } else if SCRIPTS.contains(&e.name.as_str()) {
                    if e.mode != 0o755 {
                        errs.push(format!(
                            "script {}: mode {:04o}, expected 0755",
                            e.name, e.mode
                        ));
                    }
                    if !e.data.starts_with(b"#!/bin/sh\n") {
                        errs.push(format!("script {}: does not start with #!/bin/sh", e.name));
                    }
                    control.push(e);
                } else {
                    errs.push(format!("control stream: unknown entry `{}` (apk rejects .INSTALL and ignores others)", e.name));
                    control.push(e);
                }
            }
        }
    }

    // Data stream.
    let mut data = Vec::new();
    match parse_tar(&members[di].tar, true) {
        Err(e) => errs.push(format!("data stream: {e}")),
        Ok(entries) => data = entries,
    }
    let mut size = 0u64;
    for e in &data {
        if e.name.starts_with('/')
            || e.name.starts_with("./")
            || e.name.split('/').any(|c| c == "..")
        {
            errs.push(format!("data: `{}` is not a relative path", e.name));
        }
        if e.name.starts_with('.') && !e.name.contains('/') {
            errs.push(format!(
                "data: `{}` would be taken for a control entry",
                e.name
            ));
        }
        let sum = e.pax.get("APK-TOOLS.checksum.SHA1");
        let want = match &e.kind {
            EntryKind::File => {
                size += e.data.len() as u64;
                Some(hex::encode(Sha1::digest(&e.data)))
            }
            EntryKind::Symlink(t) => Some(hex::encode(Sha1::digest(t.as_bytes()))),
            EntryKind::Dir => {
                if !e.name.ends_with('/') {
                    errs.push(format!("data: directory `{}` has no trailing /", e.name));
                }
                None
            }
            EntryKind::Other(t) => {
                errs.push(format!(
                    "data: `{}` has unexpected type {:?}",
                    e.name, *t as char
                ));
                None
            }
        };
        if let Some(want) = want {
            match sum {
                None => errs.push(format!("data: `{}` has no APK-TOOLS.checksum.SHA1", e.name)),
                Some(got) if got.as_slice() != want.as_bytes() => errs.push(format!(
                    "data: `{}` APK-TOOLS.checksum.SHA1 is {}, its content hashes to {want}",
                    e.name,
                    String::from_utf8_lossy(got)
                )),
                Some(_) => {}
            }
        }
    }

    // .PKGINFO against the streams.
    if !pkginfo.is_empty() {
        let get = |k: &str| {
            pkginfo
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.as_str())
        };
        for k in REQUIRED {
            if get(k).is_none_or(str::is_empty) {
                errs.push(format!(".PKGINFO: required field `{k}` is missing"));
            }
        }
        let datahash = hex::encode(Sha256::digest(&members[di].raw));
        if let Some(h) = get("datahash") {
            if h != datahash {
                errs.push(format!(
                    ".PKGINFO: datahash {h} != sha256 of the data gzip member {datahash}"
                ));
            }
        }
        if let Some(s) = get("size") {
            if s.parse::<u64>().ok() != Some(size) {
                errs.push(format!(".PKGINFO: size {s} != sum of file sizes {size}"));
            }
        }
        if let Some(v) = get("pkgver") {
            let ok = v.rsplit_once("-r").is_some_and(|(u, r)| {
                !u.is_empty() && !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit())
            });
            if !ok {
                errs.push(format!(".PKGINFO: pkgver `{v}` does not end in -r<number>"));
            }
        }
        if let Some(b) = get("builddate") {
            if b.parse::<u64>().is_err() {
                errs.push(format!(".PKGINFO: builddate `{b}` is not a number"));
            }
        }
    }

    if errs.is_empty() {
        Ok(Apk {
            members,
            signature,
            pkginfo,
            control,
            data,
        })
    } else {
        Err(errs)
    }
}

/// Split into gzip members, each decoded on its own: a member's bytes end
/// exactly where its trailer (CRC32, ISIZE) ends.
pub fn split_members(mut bytes: &[u8]) -> Result<Vec<Member>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 18 || bytes[..3] != [0x1f, 0x8b, 8] {
            return Err(format!(
                "gzip member {}: no gzip header where one must start",
                out.len()
            ));
        }
        let mut dec = flate2::bufread::GzDecoder::new(bytes);
        let mut tar = Vec::new();
        dec.read_to_end(&mut tar)
            .map_err(|e| format!("gzip member {}: {e}", out.len()))?;
        let rest: &[u8] = dec.into_inner();
        let used = bytes.len() - rest.len();
        // The trailer's ISIZE must match what was decoded (flate2 checks
        // the CRC; this guards against a reader that stopped early).
        let isize = u32::from_le_bytes(bytes[used - 4..used].try_into().unwrap());
        if isize != tar.len() as u32 {
            return Err(format!(
                "gzip member {}: ISIZE {isize} != {} decoded bytes",
                out.len(),
                tar.len()
            ));
        }
        out.push(Member {
            raw: bytes[..used].to_vec(),
            tar,
        });
        bytes = rest;
    }
    Ok(out)
}

fn octal(field: &[u8], what: &str) -> Result<u64, String> {
    // apk-tools src/tar.c get_octal: digits, then only NULs or spaces.
    let digits = field.iter().take_while(|b| b.is_ascii_digit()).count();
    if field[digits..].iter().any(|&b| b != 0 && b != b' ')
        || field[..digits].iter().any(|&b| b > b'7')
    {
        return Err(format!(
            "{what}: {:?} is not an octal field",
            String::from_utf8_lossy(field)
        ));
    }
    Ok(field[..digits]
        .iter()
        .fold(0, |v, b| v * 8 + u64::from(b - b'0')))
}

fn cstr(field: &[u8]) -> String {
    let n = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..n]).into_owned()
}

/// Parse one tar stream by hand. `ends` says whether it must end with the
/// two zero blocks (data) or must have none at all (signature, control).
pub fn parse_tar(t: &[u8], ends: bool) -> Result<Vec<TarEntry>, String> {
    if !t.len().is_multiple_of(512) {
        return Err(format!("length {} is not a multiple of 512", t.len()));
    }
    let mut out = Vec::new();
    let mut pos = 0;
    let mut pax: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut longname: Option<String> = None;
    while pos < t.len() {
        let h = &t[pos..pos + 512];
        if h.iter().all(|&b| b == 0) {
            if !ends {
                return Err(format!("end-of-archive block at offset {pos}: this stream must be cut (abuild-tar --cut)"));
            }
            if t.len() - pos < 1024 {
                return Err("only one end-of-archive block".into());
            }
            if t[pos..].iter().any(|&b| b != 0) {
                return Err("data after the end-of-archive blocks".into());
            }
            if !pax.is_empty() || longname.is_some() {
                return Err("an extended header is not followed by an entry".into());
            }
            return Ok(out);
        }
        if &h[257..262] != b"ustar" {
            return Err(format!("header at {pos}: no ustar magic"));
        }
        let sum: u64 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        let stored = octal(&h[148..155], "checksum")?;
        if stored != sum {
            return Err(format!(
                "header at {pos}: checksum {stored} != computed {sum}"
            ));
        }
        let size = octal(&h[124..136], "size")? as usize;
        let ty = h[156];
        let body_end = pos + 512 + size;
        if body_end > t.len() {
            return Err(format!("header at {pos}: entry runs past the stream"));
        }
        let body = t[pos + 512..body_end].to_vec();
        let next = pos + 512 + size.div_ceil(512) * 512;
        if t[body_end..next.min(t.len())].iter().any(|&b| b != 0) {
            return Err(format!("header at {pos}: padding is not zero"));
        }
        pos = next;
        match ty {
            b'x' => {
                pax = parse_pax(&body)?;
                continue;
            }
            b'L' => {
                longname = Some(cstr(&body));
                continue;
            }
            // apk-tools ignores GNU long link records (src/tar.c): a
            // target past 100 bytes must come as a PAX linkpath.
            b'K' => continue,
            _ => {}
        }
        let mut name = cstr(&h[..100]);
        if h[345] != 0 && &h[257..263] == b"ustar\0" {
            name = format!("{}/{name}", cstr(&h[345..500]));
        }
        if let Some(n) = longname.take() {
            name = n;
        }
        if let Some(p) = pax.get("path") {
            name = String::from_utf8_lossy(p).into_owned();
        }
        let mut link = cstr(&h[157..257]);
        if let Some(l) = pax.get("linkpath") {
            link = String::from_utf8_lossy(l).into_owned();
        }
        let kind = match ty {
            b'0' | 0 | b'7' => EntryKind::File,
            b'5' => EntryKind::Dir,
            b'2' => EntryKind::Symlink(link),
            other => EntryKind::Other(other),
        };
        if kind != EntryKind::File && size != 0 {
            return Err(format!("`{name}`: a non-file with {size} bytes of content"));
        }
        out.push(TarEntry {
            name,
            kind,
            mode: octal(&h[100..108], "mode")? as u32,
            uid: octal(&h[108..116], "uid")?,
            gid: octal(&h[116..124], "gid")?,
            uname: cstr(&h[265..297]),
            gname: cstr(&h[297..329]),
            mtime: octal(&h[136..148], "mtime")?,
            data: body,
            pax: std::mem::take(&mut pax),
        });
    }
    if ends {
        return Err("no end-of-archive blocks at the end of the data stream".into());
    }
    Ok(out)
}

fn parse_pax(mut b: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut out = BTreeMap::new();
    while !b.is_empty() {
        let sp = b
            .iter()
            .position(|&c| c == b' ')
            .ok_or("PAX record without a length")?;
        let len: usize = std::str::from_utf8(&b[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("PAX record length is not a number")?;
        if len > b.len() || len < sp + 3 || b[len - 1] != b'\n' {
            return Err(format!("PAX record length {len} does not fit its record"));
        }
        let rec = &b[sp + 1..len - 1];
        let eq = rec
            .iter()
            .position(|&c| c == b'=')
            .ok_or("PAX record without =")?;
        out.insert(
            String::from_utf8_lossy(&rec[..eq]).into_owned(),
            rec[eq + 1..].to_vec(),
        );
        b = &b[len..];
    }
    Ok(out)
}

fn parse_pkginfo(data: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(data).map_err(|_| "not UTF-8".to_string())?;
    if !text.ends_with('\n') {
        return Err("does not end with a newline".into());
    }
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let (k, v) = line
            .split_once(" = ")
            .ok_or_else(|| format!("line `{line}` is not `key = value`"))?;
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

fn verify(pem: &str, alg: &str, control: &[u8], sig: &[u8]) -> Result<(), String> {
    use rsa::pkcs8::DecodePublicKey;
    let key =
        rsa::PublicKey::from_public_key_pem(pem).map_err(|e| format!("bad public key: {e}"))?;
    match alg {
        "RSA" => key.pkcs1v15_verify::<Sha1>(control, sig),
        "RSA256" => key.pkcs1v15_verify::<Sha256>(control, sig),
        _ => return Err(format!("unknown signature type {alg}")),
    }
    .map_err(|e| e.to_string())
}

/// A checked `APKINDEX.tar.gz`: the signing key's name, the signature
/// type, and the records as `(field letter, value)` lines.
pub struct Index {
    pub alg: String,
    pub key: String,
    pub records: Vec<Vec<(char, String)>>,
}

impl Index {
    pub fn record(&self, name: &str, version: &str) -> Option<&Vec<(char, String)>> {
        self.records.iter().find(|r| {
            r.contains(&('P', name.to_string())) && r.contains(&('V', version.to_string()))
        })
    }
}

/// Check an index as apk-tools 2.14 reads a signed one (extract_v2.c,
/// app_index.c, package.c): two gzip members read as one tar; the first
/// holds exactly one `.SIGN.RSA.<key>` / `.SIGN.RSA256.<key>` entry and no
/// end-of-archive blocks, and its PKCS#1 v1.5 signature (SHA-1 / SHA-256)
/// verifies with `pem` over the second member's exact gzip bytes; the
/// second holds `APKINDEX` (after an optional `DESCRIPTION`) and ends with
/// the end-of-archive blocks; records are `X:value` lines ending in a blank
/// line, starting with `C:Q1<base64 of a SHA-1>`, with `P:` and `V:`.
pub fn check_index(bytes: &[u8], pem: &str) -> Result<Index, Vec<String>> {
    let mut errs = Vec::new();
    let members = split_members(bytes).map_err(|e| vec![e])?;
    if members.len() != 2 {
        return Err(vec![format!(
            "gzip members: expected 2 (signature, index), found {}",
            members.len()
        )]);
    }
    let sig = parse_tar(&members[0].tar, false).map_err(|e| vec![format!("signature: {e}")])?;
    if sig.len() != 1 {
        errs.push(format!(
            "signature stream: {} entries, expected 1",
            sig.len()
        ));
    }
    let (mut alg, mut key) = (String::new(), String::new());
    if let Some(s) = sig.first() {
        match s
            .name
            .strip_prefix(".SIGN.")
            .and_then(|r| r.split_once('.'))
        {
            Some((a, k)) if a == "RSA" || a == "RSA256" => {
                (alg, key) = (a.to_string(), k.to_string());
                if let Err(e) = verify(pem, a, &members[1].raw, &s.data) {
                    errs.push(format!(
                        "signature does not verify over the index member: {e}"
                    ));
                }
            }
            _ => errs.push(format!(
                "signature entry `{}` is not .SIGN.RSA[256].<key>",
                s.name
            )),
        }
    }
    let body = parse_tar(&members[1].tar, true).map_err(|e| vec![format!("index: {e}")])?;
    let names: Vec<&str> = body.iter().map(|e| e.name.as_str()).collect();
    if names != ["APKINDEX"] && names != ["DESCRIPTION", "APKINDEX"] {
        errs.push(format!(
            "index entries {names:?}, expected [DESCRIPTION,] APKINDEX"
        ));
    }
    let mut records = Vec::new();
    if let Some(e) = body.iter().find(|e| e.name == "APKINDEX") {
        if e.mode & 0o777 != 0o644 {
            errs.push(format!("APKINDEX mode {:o}", e.mode));
        }
        let text = String::from_utf8_lossy(&e.data).into_owned();
        if !text.ends_with("\n\n") {
            errs.push("APKINDEX does not end with a blank line".into());
        }
        for (i, rec) in text.split("\n\n").filter(|r| !r.is_empty()).enumerate() {
            let mut lines = Vec::new();
            for l in rec.lines() {
                let b = l.as_bytes();
                if b.len() < 2 || b[1] != b':' {
                    errs.push(format!("record {i}: `{l}` is not X:value"));
                    continue;
                }
                lines.push((b[0] as char, l[2..].to_string()));
            }
            match lines.first() {
                Some(('C', c)) if c.starts_with("Q1") && c.len() == 30 => {}
                other => errs.push(format!(
                    "record {i}: first line {other:?} is not C:Q1<sha1>"
                )),
            }
            for f in ['P', 'V'] {
                if !lines.iter().any(|(k, _)| *k == f) {
                    errs.push(format!("record {i}: no {f}:"));
                }
            }
            records.push(lines);
        }
    }
    if errs.is_empty() {
        Ok(Index { alg, key, records })
    } else {
        Err(errs)
    }
}
