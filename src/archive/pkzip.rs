//! A small deterministic zip writer (PKWARE APPNOTE 6.3), because the zip
//! crate deflates each entry on one thread through zlib and cannot take
//! data compressed elsewhere. Entries are deflated by libdeflate: a small
//! file as one stream, a large one in parallel 1 MiB pieces spliced on
//! byte boundaries (`pgzip::Mode::Raw`), so an entry's bytes depend only on
//! its content, size and level — never on the thread count.
//!
//! Zip64 fields are written for an entry of 0xF000_0000 bytes or more (the
//! margin covers deflate's worst-case growth, so the compressed size fits
//! too) and for offsets and counts past the 32/16-bit fields.

use super::deflate;
use super::digest::{Digesting, Want};
use super::mode::{S_IFDIR, S_IFREG};
use super::packed::{Codec, Packed};
use super::pgzip::{Mode, ParGzip};
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Files up to this size are deflated in one piece on the calling thread.
const SMALL: u64 = 1 << 20;
const ZIP64_AT: u64 = 0xF000_0000;

/// An MS-DOS date and time, as zip stores them.
#[derive(Debug, Clone, Copy)]
pub struct DosTime {
    pub time: u16,
    pub date: u16,
}

impl DosTime {
    /// 1980-01-01 00:00 (zip's earliest) for times outside 1980..=2107.
    pub fn from_unix(secs: i64) -> DosTime {
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(secs) else {
            return DosTime::EPOCH;
        };
        if !(1980..=2107).contains(&t.year()) {
            return DosTime::EPOCH;
        }
        DosTime {
            time: (u16::from(t.hour()) << 11)
                | (u16::from(t.minute()) << 5)
                | u16::from(t.second() / 2),
            date: (((t.year() - 1980) as u16) << 9)
                | ((t.month() as u16) << 5)
                | u16::from(t.day()),
        }
    }
    const EPOCH: DosTime = DosTime {
        time: 0,
        date: (1 << 5) | 1,
    };
}

/// One entry's header fields.
struct Head<'a> {
    name: &'a str,
    external: u32,
    method: u16,
    crc: u32,
    csize: u64,
    usize: u64,
    offset: u64,
    zip64: bool,
}

pub struct ZipOut<W: Write + Seek> {
    out: W,
    pos: u64,
    central: Vec<u8>,
    count: u64,
    when: DosTime,
    level: u32,
    threads: usize,
    /// Values at or past this go to zip64 fields (lowered by tests).
    limit: u64,
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn clamp32(x: u64, big: bool) -> u32 {
    if big {
        u32::MAX
    } else {
        x as u32
    }
}

impl<W: Write + Seek> ZipOut<W> {
    pub fn new(mut out: W, when: DosTime, level: u32, threads: usize) -> io::Result<Self> {
        let pos = out.stream_position()?;
        Ok(ZipOut {
            out,
            pos,
            central: Vec::new(),
            count: 0,
            when,
            level: level.min(9),
            threads,
            limit: ZIP64_AT,
        })
    }

    /// Flag bit 11: the name is UTF-8.
    fn flags(name: &str) -> u16 {
        if name.is_ascii() {
            0
        } else {
            1 << 11
        }
    }

    fn local(&self, h: &Head) -> Vec<u8> {
        let mut v = Vec::with_capacity(30 + h.name.len() + 20);
        put32(&mut v, 0x0403_4b50);
        put16(&mut v, if h.zip64 { 45 } else { 20 });
        put16(&mut v, Self::flags(h.name));
        put16(&mut v, h.method);
        put16(&mut v, self.when.time);
        put16(&mut v, self.when.date);
        put32(&mut v, h.crc);
        put32(&mut v, clamp32(h.csize, h.zip64));
        put32(&mut v, clamp32(h.usize, h.zip64));
        put16(&mut v, h.name.len() as u16);
        put16(&mut v, if h.zip64 { 20 } else { 0 });
        v.extend_from_slice(h.name.as_bytes());
        if h.zip64 {
            put16(&mut v, 1);
            put16(&mut v, 16);
            put64(&mut v, h.usize);
            put64(&mut v, h.csize);
        }
        v
    }

    fn record(&mut self, h: &Head) {
        let far = h.offset >= self.limit;
        let mut extra = Vec::new();
        if h.zip64 {
            put64(&mut extra, h.usize);
            put64(&mut extra, h.csize);
        }
        if far {
            put64(&mut extra, h.offset);
        }
        let v = &mut self.central;
        put32(v, 0x0201_4b50);
        let needed = if h.zip64 || far { 45 } else { 20 };
        put16(v, (3 << 8) | needed); // made by: Unix, so modes are read
        put16(v, needed);
        put16(v, Self::flags(h.name));
        put16(v, h.method);
        put16(v, self.when.time);
        put16(v, self.when.date);
        put32(v, h.crc);
        put32(v, clamp32(h.csize, h.zip64));
        put32(v, clamp32(h.usize, h.zip64));
        put16(v, h.name.len() as u16);
        put16(
            v,
            if extra.is_empty() {
                0
            } else {
                extra.len() as u16 + 4
            },
        );
        put16(v, 0); // comment
        put16(v, 0); // disk
        put16(v, 0); // internal attributes
        put32(v, h.external);
        put32(v, clamp32(h.offset, far));
        v.extend_from_slice(h.name.as_bytes());
        if !extra.is_empty() {
            put16(v, 1);
            put16(v, extra.len() as u16);
            v.extend_from_slice(&extra);
        }
        self.count += 1;
    }

    /// Names are counted in 16 bits; the plan's paths stay far below.
    fn check_name(name: &str) -> io::Result<()> {
        if name.len() > usize::from(u16::MAX) {
            return Err(io::Error::other(format!(
                "a zip entry name is at most 65535 bytes; this one has {}",
                name.len()
            )));
        }
        Ok(())
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// A directory; `name` ends with `/`.
    pub fn dir(&mut self, name: &str, mode: u32) -> io::Result<()> {
        Self::check_name(name)?;
        let h = Head {
            name,
            external: ((S_IFDIR | mode) << 16) | 0x10,
            method: 0,
            crc: 0,
            csize: 0,
            usize: 0,
            offset: self.pos,
            zip64: false,
        };
        let local = self.local(&h);
        self.emit(&local)?;
        self.record(&h);
        Ok(())
    }

    /// A file of `size` bytes read from `data`; a different length is an
    /// error (the file changed while it was packaged).
    pub fn file(
        &mut self,
        name: &str,
        mode: u32,
        size: u64,
        data: &mut dyn Read,
    ) -> io::Result<()> {
        Self::check_name(name)?;
        let mut h = Head {
            name,
            external: (S_IFREG | mode) << 16,
            method: 8,
            crc: 0,
            csize: 0,
            usize: size,
            offset: self.pos,
            zip64: size >= self.limit,
        };
        if size <= SMALL {
            let mut buf = Vec::with_capacity(size as usize);
            data.take(size + 1).read_to_end(&mut buf)?;
            check_size(name, size, buf.len() as u64)?;
            let z = deflate::piece(self.level, &buf, true)?;
            (h.crc, h.csize) = (libdeflater::crc32(&buf), z.len() as u64);
            let local = self.local(&h);
            self.emit(&local)?;
            self.emit(&z)?;
        } else {
            // Sizes and CRC are known only at the end: write the header,
            // then seek back to fill them in.
            let local = self.local(&h);
            self.emit(&local)?;
            let count = Digesting::new(&mut self.out, Want::NONE);
            let mut z = ParGzip::new(count, self.level, self.threads, Mode::Raw)?;
            let read = io::copy(&mut data.take(size + 1), &mut z)?;
            let (count, crc) = z.finish_crc()?;
            check_size(name, size, read)?;
            (h.crc, h.csize) = (crc, count.size());
            self.pos += h.csize;
            let local = self.local(&h);
            self.out.seek(SeekFrom::Start(h.offset))?;
            self.out.write_all(&local)?;
            self.out.seek(SeekFrom::Start(self.pos))?;
        }
        self.record(&h);
        Ok(())
    }

    /// A file whose content was deflated alone elsewhere (`packed`): its
    /// blocks and an empty final block, with sizes and CRC known up front.
    pub fn packed(&mut self, name: &str, mode: u32, p: &Packed) -> io::Result<()> {
        Self::check_name(name)?;
        if p.codec != Codec::Deflate(self.level) {
            return Err(io::Error::other(format!(
                "{name}: compressed for another stream ({:?})",
                p.codec
            )));
        }
        let size = p.sums.size;
        let h = Head {
            name,
            external: (S_IFREG | mode) << 16,
            method: 8,
            crc: p.crc,
            csize: p.joined_len()? + 2,
            usize: size,
            offset: self.pos,
            zip64: size >= self.limit,
        };
        let local = self.local(&h);
        self.emit(&local)?;
        p.copy_joined(&mut self.out)?;
        self.out.write_all(&[3, 0])?;
        self.pos += h.csize;
        self.record(&h);
        Ok(())
    }

    /// Writes the central directory and its end records.
    pub fn finish(mut self) -> io::Result<W> {
        let (start, size) = (self.pos, self.central.len() as u64);
        let central = std::mem::take(&mut self.central);
        self.emit(&central)?;
        let big = self.count >= 0xFFFF || start >= self.limit || size >= self.limit;
        let mut v = Vec::new();
        if big {
            put32(&mut v, 0x0606_4b50);
            put64(&mut v, 44);
            put16(&mut v, (3 << 8) | 45);
            put16(&mut v, 45);
            put32(&mut v, 0);
            put32(&mut v, 0);
            put64(&mut v, self.count);
            put64(&mut v, self.count);
            put64(&mut v, size);
            put64(&mut v, start);
            put32(&mut v, 0x0706_4b50);
            put32(&mut v, 0);
            put64(&mut v, self.pos);
            put32(&mut v, 1);
        }
        put32(&mut v, 0x0605_4b50);
        put32(&mut v, 0); // this disk, the directory's disk
        let n = if big { 0xFFFF } else { self.count as u16 };
        put16(&mut v, n);
        put16(&mut v, n);
        put32(&mut v, clamp32(size, big));
        put32(&mut v, clamp32(start, big));
        put16(&mut v, 0); // comment
        self.emit(&v)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn check_size(name: &str, want: u64, got: u64) -> io::Result<()> {
    if want == got {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "{name}: {} bytes planned, {} read: the file changed while it was packaged",
        want,
        if got > want {
            "more".into()
        } else {
            got.to_string()
        }
    )))
}

#[cfg(test)]
#[path = "pkzip_test.rs"]
mod tests;
