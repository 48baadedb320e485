//! The one tar stream writer. Header bytes come from the `tar` crate; the
//! stream (GNU long names, PAX records, optional end-of-archive blocks, which
//! apk's concatenated streams must omit) is ours.

use super::packed::{self, Packed, Splice};
use packwright_hook::pax;
use std::io::{self, Read, Write};
use tar::{EntryType, Header};

/// What one entry is, independent of any format's path conventions.
pub struct Item<'a> {
    pub path: &'a str,
    pub kind: ItemKind<'a>,
    pub mode: u32,
    pub owner: &'a str,
    pub group: &'a str,
    pub mtime: u64,
}

pub enum ItemKind<'a> {
    Dir,
    Symlink(&'a str),
    /// A regular file of exactly `size` bytes; `packed`, its content
    /// compressed alone, goes in instead when the stream takes its codec.
    File {
        size: u64,
        data: &'a mut dyn Read,
        packed: Option<&'a Packed>,
    },
}

pub struct TarOut<W: Write> {
    w: W,
}

const BLOCK: usize = 512;

impl<W: Write> TarOut<W> {
    pub fn new(w: W) -> Self {
        TarOut { w }
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.w
    }

    pub fn get_ref(&self) -> &W {
        &self.w
    }

    /// Write the two zero blocks that end an archive and return the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.write_all(&[0u8; 2 * BLOCK])?;
        Ok(self.w)
    }

    /// Return the writer without end-of-archive blocks (apk's streams).
    pub fn into_inner(self) -> W {
        self.w
    }
}

impl<W: Splice> TarOut<W> {
    /// Append one entry, preceded by a PAX header when `pax` is non-empty.
    pub fn append(&mut self, item: Item, pax: &[(&str, &[u8])]) -> io::Result<()> {
        if !pax.is_empty() {
            let mut body = Vec::new();
            for (k, v) in pax {
                body.extend_from_slice(&pax::record(k, v));
            }
            let name = format!("PaxHeaders/{}", tail(item.path, 80));
            self.raw(
                &name,
                EntryType::XHeader,
                0o644,
                "",
                "",
                item.mtime,
                body.len() as u64,
                &mut &body[..],
            )?;
        }
        let (ty, size, link) = match &item.kind {
            ItemKind::Dir => (EntryType::Directory, 0, None),
            ItemKind::Symlink(t) => (EntryType::Symlink, 0, Some(*t)),
            ItemKind::File { size, .. } => (EntryType::Regular, *size, None),
        };
        if let Some(t) = link.filter(|t| t.len() > 100) {
            self.long(EntryType::GNULongLink, t, item.mtime)?;
        }
        if item.path.len() > 100 {
            self.long(EntryType::GNULongName, item.path, item.mtime)?;
        }
        let mut h = Header::new_gnu();
        h.set_entry_type(ty);
        set_name(&mut h, item.path)?;
        if let Some(t) = link {
            let bytes = t.as_bytes();
            let n = bytes.len().min(100);
            h.as_old_mut().linkname[..n].copy_from_slice(&bytes[..n]);
        }
        h.set_mode(item.mode);
        fill(&mut h, item.owner, item.group, item.mtime, size)?;
        self.w.write_all(h.as_bytes())?;
        if let ItemKind::File { size, data, packed } = item.kind {
            self.body(size, data, packed, item.path)?;
        }
        Ok(())
    }

    fn long(&mut self, ty: EntryType, text: &str, mtime: u64) -> io::Result<()> {
        let mut data = text.as_bytes().to_vec();
        data.push(0);
        self.raw(
            "././@LongLink",
            ty,
            0o644,
            "root",
            "root",
            mtime,
            data.len() as u64,
            &mut &data[..],
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn raw(
        &mut self,
        name: &str,
        ty: EntryType,
        mode: u32,
        owner: &str,
        group: &str,
        mtime: u64,
        size: u64,
        data: &mut dyn Read,
    ) -> io::Result<()> {
        let mut h = Header::new_gnu();
        h.set_entry_type(ty);
        set_name(&mut h, name)?;
        h.set_mode(mode);
        fill(&mut h, owner, group, mtime, size)?;
        self.w.write_all(h.as_bytes())?;
        self.body(size, data, None, name)
    }

    fn body(
        &mut self,
        size: u64,
        data: &mut dyn Read,
        p: Option<&Packed>,
        path: &str,
    ) -> io::Result<()> {
        let copied = packed::body(&mut self.w, size, data, p)?;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{path} shrank while being packed ({copied} of {size} bytes); was it changed during the build?"),
            ));
        }
        let pad = (BLOCK - (size as usize % BLOCK)) % BLOCK;
        self.w.write_all(&[0u8; BLOCK][..pad])
    }
}

fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

fn set_name(h: &mut Header, path: &str) -> io::Result<()> {
    // Long names were announced by a GNU LongName entry; the header keeps
    // the first 100 bytes as GNU tar does.
    let bytes = path.as_bytes();
    let n = bytes.len().min(100);
    let name = &mut h.as_old_mut().name;
    name.fill(0);
    name[..n].copy_from_slice(&bytes[..n]);
    Ok(())
}

fn fill(h: &mut Header, owner: &str, group: &str, mtime: u64, size: u64) -> io::Result<()> {
    // Numeric ids are 0: the names are what package managers resolve, and a
    // build host's ids must not leak into the artifact.
    h.set_uid(0);
    h.set_gid(0);
    h.set_username(owner)?;
    h.set_groupname(group)?;
    h.set_mtime(mtime);
    h.set_size(size);
    h.set_cksum();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_and_links_round_trip_through_the_tar_crate() {
        let long = format!("./usr/share/{}/file", "d".repeat(120));
        let target = format!("/opt/{}", "t".repeat(130));
        let mut out = TarOut::new(Vec::new());
        let mut data: &[u8] = b"hello";
        out.append(
            Item {
                path: &long,
                kind: ItemKind::File {
                    size: 5,
                    data: &mut data,
                    packed: None,
                },
                mode: 0o640,
                owner: "root",
                group: "adm",
                mtime: 7,
            },
            &[],
        )
        .unwrap();
        out.append(
            Item {
                path: "./l",
                kind: ItemKind::Symlink(&target),
                mode: 0o777,
                owner: "root",
                group: "root",
                mtime: 7,
            },
            &[("APK-TOOLS.checksum.SHA1", b"abc")],
        )
        .unwrap();
        let bytes = out.finish().unwrap();
        assert_eq!(bytes.len() % 512, 0);
        let mut ar = tar::Archive::new(&bytes[..]);
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let link = e
                .link_name()
                .unwrap()
                .map(|l| l.to_string_lossy().into_owned());
            let pax = e.pax_extensions().unwrap().map(|p| {
                p.map(|x| x.unwrap().key().unwrap().to_string())
                    .collect::<Vec<_>>()
            });
            let mut body = String::new();
            e.read_to_string(&mut body).unwrap();
            seen.push((
                path,
                link,
                e.header().mode().unwrap(),
                e.header().groupname().unwrap().map(str::to_string),
                body,
                pax,
            ));
        }
        assert_eq!(seen[0].0, long);
        assert_eq!(seen[0].2, 0o640);
        assert_eq!(seen[0].3.as_deref(), Some("adm"));
        assert_eq!(seen[0].4, "hello");
        assert_eq!(seen[1].1.as_deref(), Some(target.as_str()));
        assert_eq!(
            seen[1].5.as_deref(),
            Some(&["APK-TOOLS.checksum.SHA1".to_string()][..])
        );
    }
}
