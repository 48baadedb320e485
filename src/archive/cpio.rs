//! cpio "newc" (SVR4, `070701`) streams, as rpm payloads use them, plus
//! rpm's "stripped" entries (`07070X`) for files of 4 GiB or more, whose
//! metadata lives only in the rpm header.

use super::packed::{self, Packed, Splice};
use std::io::{self, Read, Write};

pub struct CpioOut<W: Write> {
    w: W,
    /// Bytes written so far, for the 4-byte alignment newc requires.
    pos: u64,
}

/// One newc entry's header fields; the rest (devices, check) are zero.
pub struct Head<'a> {
    pub name: &'a str,
    pub ino: u32,
    /// File type and permission bits (`0o100755`).
    pub mode: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub size: u32,
}

impl<W: Splice> CpioOut<W> {
    pub fn new(w: W) -> Self {
        CpioOut { w, pos: 0 }
    }

    pub fn get_ref(&self) -> &W {
        &self.w
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.w.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    fn pad(&mut self) -> io::Result<()> {
        let n = (4 - (self.pos % 4) as usize) % 4;
        self.put(&[0u8; 3][..n])
    }

    /// Copy exactly `size` bytes of `data` (or splice `p`), then pad.
    fn body(&mut self, size: u64, data: &mut dyn Read, p: Option<&Packed>) -> io::Result<()> {
        let n = packed::body(&mut self.w, size, data, p)?;
        self.pos += n;
        if n != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("file changed while packing: expected {size} bytes, read {n}"),
            ));
        }
        self.pad()
    }

    /// A newc entry whose body is exactly `h.size` bytes of `data`.
    pub fn append(&mut self, h: &Head, data: &mut dyn Read, p: Option<&Packed>) -> io::Result<()> {
        let fields = [
            h.ino,
            h.mode,
            0, // uid: rpm takes owners from the header
            0, // gid
            h.nlink,
            h.mtime,
            h.size,
            0,
            0,
            0,
            0,
            h.name.len() as u32 + 1,
            0,
        ];
        let mut head = String::with_capacity(110);
        head.push_str("070701");
        for f in fields {
            head.push_str(&format!("{f:08x}"));
        }
        self.put(head.as_bytes())?;
        self.put(h.name.as_bytes())?;
        self.put(&[0])?;
        self.pad()?;
        self.body(h.size.into(), data, p)
    }

    /// rpm's stripped entry: the index of the file in the header's file
    /// list, then the body. Used when a file does not fit newc's 32-bit size.
    pub fn append_stripped(
        &mut self,
        index: u32,
        size: u64,
        data: &mut dyn Read,
        p: Option<&Packed>,
    ) -> io::Result<()> {
        self.put(format!("07070X{index:08x}").as_bytes())?;
        self.pad()?;
        self.body(size, data, p)
    }

    /// Write the `TRAILER!!!` entry and return the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        let h = Head {
            name: "TRAILER!!!",
            ino: 0,
            mode: 0,
            nlink: 1,
            mtime: 0,
            size: 0,
        };
        self.append(&h, &mut io::empty(), None)?;
        Ok(self.w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_entries_are_aligned_and_cpio_reads_them() {
        let mut c = CpioOut::new(Vec::new());
        let h = Head {
            name: "./a",
            ino: 1,
            mode: 0o100644,
            nlink: 1,
            mtime: 7,
            size: 5,
        };
        c.append(&h, &mut &b"hello"[..], None).unwrap();
        let out = c.finish().unwrap();
        // 110-byte header + "./a\0" = 114, padded to 116; body 5 padded to 8.
        assert_eq!(&out[..6], b"070701");
        assert_eq!(&out[116..121], b"hello");
        assert_eq!(&out[124..130], b"070701");
        assert_eq!(out.len() % 4, 0);
        assert!(std::str::from_utf8(&out[124 + 110..124 + 120])
            .unwrap()
            .starts_with("TRAILER!!!"));
    }

    #[test]
    fn stripped_entries_name_the_header_index() {
        let mut c = CpioOut::new(Vec::new());
        c.append_stripped(0x2a, 3, &mut &b"abc"[..], None).unwrap();
        let out = c.finish().unwrap();
        // 14-byte header padded to 16, body padded to 4, then the trailer.
        assert_eq!(&out[..16], b"07070X0000002a\0\0");
        assert_eq!(&out[16..20], b"abc\0");
        assert_eq!(&out[20..26], b"070701");
    }

    #[test]
    fn short_sources_are_an_error() {
        let mut c = CpioOut::new(Vec::new());
        let h = Head {
            name: "x",
            ino: 1,
            mode: 0o100644,
            nlink: 1,
            mtime: 0,
            size: 10,
        };
        assert!(c.append(&h, &mut &b"abc"[..], None).is_err());
    }
}
