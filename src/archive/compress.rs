//! Compression streams with byte-stable output (no names or times in gzip
//! headers, single-threaded xz, zstd the same on any number of workers).

use super::packed::{Codec, Packed, Splice};
use super::pgzip::Mode;
use super::zstdmt::Zstd;
use std::io::{self, BufRead, BufReader, Read, Write};

/// A stream compression, as the manifest names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Compression {
    None,
    Gzip,
    Xz,
    Zstd,
}

impl Compression {
    /// The manifest's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }

    pub fn parse(s: &str) -> Option<Compression> {
        Some(match s {
            "none" => Compression::None,
            "gzip" | "gz" => Compression::Gzip,
            "xz" => Compression::Xz,
            "zstd" | "zst" => Compression::Zstd,
            _ => return None,
        })
    }
}

pub enum Encoder<W: Write> {
    None(W),
    Gzip(super::pgzip::ParGzip<W>),
    Xz(liblzma::write::XzEncoder<W>),
    Zstd(Frames<W>),
}

/// A zstd stream as a run of frames: a spliced content ends the current
/// frame, and the next write starts a new one.
pub struct Frames<W: Write> {
    /// Exactly one of the two is there: the open frame or the bare writer.
    open: Option<Zstd<W>>,
    bare: Option<W>,
    level: i32,
    threads: usize,
}

impl<W: Write> Frames<W> {
    fn frame(&mut self) -> io::Result<&mut Zstd<W>> {
        if let Some(w) = self.bare.take() {
            self.open = Some(Zstd::new(w, self.level, self.threads)?);
        }
        Ok(self.open.as_mut().expect("a frame is open"))
    }

    fn end_frame(&mut self) -> io::Result<&mut W> {
        if let Some(e) = self.open.take() {
            self.bare = Some(e.finish()?);
        }
        Ok(self.bare.as_mut().expect("no frame is open"))
    }

    fn finish(mut self) -> io::Result<W> {
        // A stream of no frames is not zstd: end at least one.
        self.frame()?;
        self.end_frame()?;
        Ok(self.bare.take().expect("no frame is open"))
    }
}

/// The shareable codec a compression at `level` (None: its default) makes.
pub fn codec(c: Compression, level: Option<i32>) -> Option<Codec> {
    let level = level.unwrap_or_else(|| default_level(c));
    match c {
        Compression::Gzip => Some(Codec::Deflate(level.clamp(0, 9) as u32)),
        Compression::Zstd => Some(Codec::Zstd(level)),
        Compression::None | Compression::Xz => None,
    }
}

/// Default levels: dpkg's for xz, zstd's own, zlib's for gzip.
pub fn default_level(c: Compression) -> i32 {
    match c {
        Compression::None => 0,
        Compression::Gzip => 6,
        Compression::Xz => 6,
        Compression::Zstd => 3,
    }
}

/// The environment variable that sets worker threads for one build
/// (compression and format writers); artifacts' bytes never depend on it.
pub const THREADS_VAR: &str = "PACKWRIGHT_THREADS";

/// `PACKWRIGHT_THREADS` as set: None when unset or empty, the value when it
/// is not a positive number.
pub fn threads_setting() -> Result<Option<usize>, String> {
    match std::env::var(THREADS_VAR) {
        Err(_) => Ok(None),
        Ok(s) if s.trim().is_empty() => Ok(None),
        Ok(s) => match s.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(s),
        },
    }
}

/// Worker threads: `PACKWRIGHT_THREADS`, else the machine's cores.
pub fn threads() -> usize {
    threads_setting()
        .ok()
        .flatten()
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

pub fn extension(c: Compression) -> &'static str {
    match c {
        Compression::None => "",
        Compression::Gzip => ".gz",
        Compression::Xz => ".xz",
        Compression::Zstd => ".zst",
    }
}

impl<W: Write> Encoder<W> {
    pub fn new(c: Compression, level: Option<i32>, w: W) -> io::Result<Self> {
        let level = level.unwrap_or_else(|| default_level(c));
        Ok(match c {
            Compression::None => Encoder::None(w),
            Compression::Gzip => Encoder::Gzip(super::pgzip::ParGzip::new(
                w,
                level.clamp(0, 9) as u32,
                threads(),
                Mode::Members,
            )?),
            Compression::Xz => {
                Encoder::Xz(liblzma::write::XzEncoder::new(w, level.clamp(0, 9) as u32))
            }
            Compression::Zstd => Encoder::Zstd(Frames {
                open: Some(Zstd::new(w, level, threads())?),
                bare: None,
                level,
                threads: threads(),
            }),
        })
    }

    /// Gzip as exactly one member, for readers that treat a member boundary
    /// as the end of a stream (apk).
    pub fn gzip_one_member(w: W, level: Option<i32>) -> io::Result<Self> {
        let level = level
            .unwrap_or_else(|| default_level(Compression::Gzip))
            .clamp(0, 9) as u32;
        Ok(Encoder::Gzip(super::pgzip::ParGzip::new(
            w,
            level,
            threads(),
            Mode::OneMember,
        )?))
    }

    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::None(w) => Ok(w),
            Encoder::Gzip(e) => e.finish(),
            Encoder::Xz(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::None(w) => w.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Xz(e) => e.write(buf),
            Encoder::Zstd(f) => f.frame()?.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::None(w) => w.flush(),
            Encoder::Gzip(e) => e.flush(),
            Encoder::Xz(e) => e.flush(),
            Encoder::Zstd(f) => match &mut f.open {
                Some(e) => e.flush(),
                None => f.bare.as_mut().expect("no frame is open").flush(),
            },
        }
    }
}

impl<W: Write> Splice for Encoder<W> {
    fn codec(&self) -> Option<Codec> {
        match self {
            Encoder::Gzip(e) => Some(Codec::Deflate(e.level())),
            Encoder::Zstd(f) => Some(Codec::Zstd(f.level)),
            Encoder::None(_) | Encoder::Xz(_) => None,
        }
    }

    fn splice(&mut self, p: &Packed, raw: &mut dyn Read) -> io::Result<()> {
        match self {
            Encoder::Gzip(e) => e.splice(p, raw),
            Encoder::Zstd(f) => p.place(f.end_frame()?, raw),
            Encoder::None(_) | Encoder::Xz(_) => Err(io::Error::other(
                "this stream cannot take compressed content",
            )),
        }
    }
}

/// Which compression a stream uses, from its magic bytes.
pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Compression::Xz
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// A reader that undoes whatever compression `r` uses (for `inspect`).
pub fn decoder<'a, R: Read + 'a>(r: R) -> io::Result<Box<dyn Read + 'a>> {
    let mut r = BufReader::new(r);
    let c = sniff(r.fill_buf()?);
    Ok(match c {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
    })
}

/// `gzip -9n`: best compression, no name, no time (what Debian policy and
/// lintian expect for man pages and changelogs).
pub fn gzip_best(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(data)?;
    gz.finish()
}
