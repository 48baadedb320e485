//! `.MTREE`: every entry's metadata and digests, and the digests' pass.

use crate::archive::packed::Packed;
use crate::archive::{
    compress::Encoder,
    digest::{self, Digesting, Want},
    Compression,
};
use crate::error::{IoContext, Result};
use crate::plan::{Entry, Kind, Package};
use std::io::Write;
use std::sync::Arc;

/// Pass 1 over the payload: each regular file's digests, in tree order,
/// one file per core; those of a file compressed alone come from the read
/// that compressed or digested it (`packed`).
pub(super) fn digest_all(
    tree: &[Entry],
    packed: &[Option<Arc<Packed>>],
) -> Result<Vec<Option<Sums>>> {
    let items: Vec<_> = tree.iter().zip(packed).collect();
    let workers = crate::archive::compress::threads();
    crate::format::share::on_cores(&items, workers, |(e, p)| {
        let Kind::File(src) = &e.kind else {
            return Ok(None);
        };
        if let Some(p) = p {
            let s = &p.sums;
            return Ok(Some(
                s.md5.zip(s.sha256).expect("a pacman build asks for both"),
            ));
        }
        let mut d = digest::sink(Want::MD5_SHA256);
        std::io::copy(&mut src.open()?, &mut d).at(&e.path)?;
        Ok(Some(sums(d)))
    })
}

/// md5 and sha256 of one stream, as .MTREE records them.
pub(super) type Sums = ([u8; 16], [u8; 32]);

fn sums(d: Digesting<std::io::Sink>) -> Sums {
    let s = d.finish().1;
    (s.md5.unwrap_or_default(), s.sha256.unwrap_or_default())
}

/// `.MTREE` as makepkg writes it with bsdtar (`--format=mtree` with
/// `use-set,type,uid,gid,mode,time,size,md5,sha256,link`), gzipped with no
/// name or time. Numeric ids are 0, as in the tar headers.
pub(super) fn mtree(
    pkg: &Package,
    meta: &[(&str, Vec<u8>)],
    tree: &[Entry],
    digests: &[Option<Sums>],
) -> std::io::Result<Vec<u8>> {
    let t = pkg.meta.mtime;
    let mut s = String::from("#mtree\n/set type=file uid=0 gid=0 mode=644\n");
    let file_line = |s: &mut String, path: &str, mode: u32, size: u64, d: &Sums| {
        let mode = if mode == 0o644 {
            String::new()
        } else {
            format!(" mode={mode:o}")
        };
        s.push_str(&format!(
            "./{} time={t}.0{mode} size={size} md5digest={} sha256digest={}\n",
            escape(path),
            hex::encode(d.0),
            hex::encode(d.1)
        ));
    };
    // The metadata files in name order, as bsdtar lists them (no .MTREE).
    let mut names: Vec<&(&str, Vec<u8>)> = meta.iter().collect();
    names.sort_by_key(|(n, _)| *n);
    for (name, data) in names {
        let mut d = digest::sink(Want::MD5_SHA256);
        d.write_all(data)?;
        file_line(&mut s, name, 0o644, data.len() as u64, &sums(d));
    }
    for (e, d) in tree.iter().zip(digests) {
        let path = &e.path[1..];
        match (&e.kind, d) {
            (Kind::File(src), Some(d)) => file_line(&mut s, path, e.mode, src.size(), d),
            (Kind::Dir, _) => s.push_str(&format!(
                "./{} time={t}.0 mode={:o} type=dir\n",
                escape(path),
                e.mode
            )),
            (Kind::Symlink(target), _) => s.push_str(&format!(
                "./{} time={t}.0 mode=777 type=link link={}\n",
                escape(path),
                escape(target)
            )),
            (Kind::File(_), None) => unreachable!("every file was hashed"),
        }
    }
    let mut gz = Encoder::new(Compression::Gzip, None, Vec::new())?;
    gz.write_all(s.as_bytes())?;
    gz.finish()
}

/// mtree's escaping, as libarchive writes it: bytes outside printable ASCII
/// and the separators ` `, `#`, `=`, `\` become `\ooo`.
fn escape(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if (0x21..0x7f).contains(&b) && !b"#=\\".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\{b:03o}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtree_escapes_like_libarchive() {
        assert_eq!(escape("usr/share/a b/f#1"), "usr/share/a\\040b/f\\0431");
        assert_eq!(escape("x=y\\z"), "x\\075y\\134z");
        assert_eq!(escape("é"), "\\303\\251");
    }
}
