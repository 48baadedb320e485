//! The rpm payload: a compressed cpio stream written where the artifact
//! will hold it, computing every file digest and both payload digests on
//! the way, and the header's parallel file arrays.

use crate::archive::{
    compress::Encoder,
    cpio::{CpioOut, Head},
    digest::{Digesting, Want},
    mode::{S_IFDIR, S_IFLNK, S_IFREG},
    packed::{Packed, Splice},
    Compression, Tap,
};
use crate::error::{Error, IoContext, Result};
use crate::plan::{Entry, Kind};
use sha2::{Digest, Sha256};
use std::io::{self, BufWriter};

/// The header's parallel file arrays, one element per payload entry.
#[derive(Default)]
pub(super) struct Files {
    pub sizes: Vec<u64>,
    pub modes: Vec<u16>,
    pub digests: Vec<String>,
    pub links: Vec<String>,
    pub flags: Vec<u32>,
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub dir_index: Vec<u32>,
    pub base: Vec<String>,
    pub dirs: Vec<String>,
}

/// rpm's `%doc` and `%license` markings, from where a file is installed
/// (what rpmbuild does for the same directories).
fn file_flags(path: &str) -> u32 {
    const DOC: u32 = 1 << 1;
    const LICENSE: u32 = 1 << 7;
    if path.starts_with("/usr/share/licenses/") {
        LICENSE
    } else if ["/usr/share/doc/", "/usr/share/man/", "/usr/share/info/"]
        .iter()
        .any(|d| path.starts_with(d))
    {
        DOC
    } else {
        0
    }
}

/// A digest of the headers' length (each is SHA-256 in hex) before it is
/// known: zeros.
pub(super) fn placeholder() -> String {
    "0".repeat(2 * <Sha256 as Digest>::output_size())
}

impl Files {
    /// The arrays of `tree`, with each regular file's digest a
    /// `placeholder` until the payload is written.
    pub(super) fn of(tree: &[&Entry]) -> Files {
        let mut f = Files::default();
        let mut dir_index = std::collections::HashMap::new();
        for e in tree {
            let (dir, base) = split(&e.path);
            let di = *dir_index.entry(dir).or_insert_with(|| {
                f.dirs.push(dir.to_string());
                f.dirs.len() - 1
            });
            let (mode, size, link) = shape(e);
            let digest = match e.kind {
                Kind::File(_) => placeholder(),
                Kind::Dir | Kind::Symlink(_) => String::new(),
            };
            f.digests.push(digest);
            f.sizes.push(size);
            f.modes.push(mode as u16);
            f.links.push(link);
            f.flags
                .push(if e.is_dir() { 0 } else { file_flags(&e.path) });
            f.users.push(e.owner.clone());
            f.groups.push(e.group.clone());
            f.dir_index.push(di as u32);
            f.base.push(base.to_string());
        }
        f
    }
}

/// An entry's cpio mode, size and link target.
fn shape(e: &Entry) -> (u32, u64, String) {
    let (ty, size, link) = match &e.kind {
        Kind::Dir => (S_IFDIR, 0, String::new()),
        Kind::File(src) => (S_IFREG, src.size(), String::new()),
        Kind::Symlink(t) => (S_IFLNK, t.len() as u64, t.clone()),
    };
    (ty | (e.mode & 0o7777), size, link)
}

fn split(path: &str) -> (&str, &str) {
    let i = path.rfind('/').map_or(0, |i| i + 1);
    (&path[..i], &path[i..])
}

/// What the header needs to know about the written payload.
pub(super) struct Payload {
    /// Each entry's file digest (empty for all but regular files).
    pub digests: Vec<String>,
    /// Compressed length, for the signature header.
    pub len: u64,
    /// SHA-256 of the compressed and of the uncompressed stream.
    pub packed_sha: String,
    pub raw_sha: String,
}

/// Stream `tree` as cpio through `comp` into `out.file` from where it
/// stands. `large`: files over 4 GiB, which need rpm's stripped cpio headers.
pub(super) fn write(
    tree: &[&Entry],
    comp: Compression,
    level: i32,
    mtime: u32,
    large: bool,
    out: &mut super::super::Out,
) -> Result<Payload> {
    let spool_dir = out.spool;
    let packed = Digesting::new(BufWriter::new(&mut *out.file), Want::SHA256);
    let enc = Encoder::new(comp, Some(level), packed).at(spool_dir)?;
    let mut cpio = CpioOut::new(Digesting::new(enc, Want::SHA256));
    let total: u64 = tree.iter().map(|e| e.size()).sum();
    let (mut done, mut digests) = (0u64, Vec::with_capacity(tree.len()));
    let codec = cpio.get_ref().codec();
    let packed = super::super::packed_all(out.shared, codec, tree.iter().copied())?;
    for (i, (e, packed)) in tree.iter().zip(packed).enumerate() {
        digests.push(append(
            &mut cpio,
            i as u32,
            e,
            mtime,
            large,
            packed.as_deref(),
        )?);
        if let Kind::File(src) = &e.kind {
            done += src.size();
            out.report.progress("rpm", done, total);
        }
    }
    let (enc, raw) = cpio.finish().at(spool_dir)?.finish();
    let (buf, packed) = enc.finish().at(spool_dir)?.finish();
    let sha = |s: crate::archive::digest::Sums| hex::encode(s.sha256.unwrap_or_default());
    let (raw_sha, packed_sha, len) = (sha(raw), sha(packed), packed.size);
    buf.into_inner()
        .map_err(|e| Error::io(spool_dir, e.into_error()))?;
    Ok(Payload {
        digests,
        len,
        packed_sha,
        raw_sha,
    })
}

/// Append entry number `i` to the cpio stream and return its file digest.
/// A spliced content's bytes are still read, for the digests of the file
/// and of the whole uncompressed payload (checked against what was
/// compressed).
fn append<W: Splice>(
    cpio: &mut CpioOut<W>,
    i: u32,
    e: &Entry,
    mtime: u32,
    large: bool,
    packed: Option<&Packed>,
) -> Result<String> {
    let mut sha = Sha256::new();
    let (mode, size, _) = shape(e);
    let mut data: Box<dyn io::Read + '_> = match &e.kind {
        Kind::File(src) => src.open()?,
        Kind::Symlink(t) => Box::new(t.as_bytes()),
        Kind::Dir => Box::new(io::empty()),
    };
    // A content compressed alone has its digest from the read that
    // compressed or digested it (read again for the payload digest or its
    // compression, its bytes are checked against that read).
    let mut tap = Tap {
        inner: &mut data,
        f: |b: &[u8]| {
            if packed.is_none() {
                sha.update(b)
            }
        },
    };
    let name = format!(".{}", e.path);
    let res = if large {
        cpio.append_stripped(i, size, &mut tap, packed)
    } else {
        let h = Head {
            name: &name,
            ino: i + 1,
            mode,
            nlink: 1,
            mtime,
            size: size as u32,
        };
        cpio.append(&h, &mut tap, packed)
    };
    res.at(&e.path)?;
    Ok(match (&e.kind, packed) {
        (Kind::File(_), Some(p)) => {
            hex::encode(p.sums.sha256.expect("an rpm build asks for sha256"))
        }
        (Kind::File(_), None) => hex::encode(sha.finalize()),
        _ => String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_and_license_flags() {
        assert_eq!(file_flags("/usr/share/doc/x/README"), 2);
        assert_eq!(file_flags("/usr/share/man/man1/x.1.gz"), 2);
        assert_eq!(file_flags("/usr/share/licenses/x/LICENSE"), 128);
        assert_eq!(file_flags("/usr/bin/x"), 0);
    }
}
