//! A large file's content compressed once, on its own, and placed as those
//! same bytes in every stream of that codec: deb, rpm and pacman share one
//! zstd frame of it, apk, tar.gz and zip one run of deflate blocks.
//!
//! - zstd: the content is one frame. A stream splices it by ending its own
//!   frame, copying the content's, and starting a new frame for what
//!   follows; decoders read concatenated frames as one stream.
//! - deflate: the content is 1 MiB blocks deflated alone with no final bit,
//!   each ending on a byte boundary (`deflate::piece`), so they continue any
//!   deflate stream that is cut on a byte boundary (pigz's splice); the
//!   CRC-32 combines with the stream's own.
//!
//! A stream's bytes therefore depend only on its content: a file above
//! `ALONE` bytes is always compressed alone, whichever formats are built
//! together and on however many threads. Small files stay in their
//! containers' streams (framing them would cost ratio and time).

use super::digest::{self, Sums, Want};
use super::pgzip::{Mode, ParGzip};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// Files larger than this are compressed alone, once per codec and level.
pub const ALONE: u64 = 1 << 20;

/// A codec and level whose output can be shared between streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Zstd(i32),
    Deflate(u32),
}

/// One file's content, compressed alone, kept in a spool file.
#[derive(Debug)]
pub struct Packed {
    spool: Arc<File>,
    at: u64,
    /// Compressed length.
    pub len: u64,
    pub codec: Codec,
    /// The content's length and the digests the build asked for.
    pub sums: Sums,
    pub crc: u32,
}

impl Packed {
    /// Copy the compressed bytes to `w`.
    pub fn copy_to(&self, w: &mut dyn Write) -> io::Result<()> {
        let mut buf = vec![0u8; 256 << 10];
        let (mut at, end) = (self.at, self.at + self.len);
        while at < end {
            let n = buf.len().min((end - at) as usize);
            self.spool.read_exact_at(&mut buf[..n], at)?;
            w.write_all(&buf[..n])?;
            at += n as u64;
        }
        Ok(())
    }
}

/// Writes at a position of a file shared with readers (`pwrite`).
struct At<'a> {
    file: &'a File,
    pos: u64,
}

impl Write for At<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = self.file.write_at(b, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Compress exactly `size` bytes of `data` alone with `codec` into `spool`
/// from `at` on, with the digests `want` and the CRC-32 from the same read.
/// A different length read is an error: the file changed under the build.
pub fn fill(
    spool: &Arc<File>,
    at: u64,
    codec: Codec,
    threads: usize,
    data: &mut dyn Read,
    size: u64,
    want: Want,
) -> io::Result<Packed> {
    let out = At {
        file: spool,
        pos: at,
    };
    let mut sums = digest::sink(want);
    let mut crc = crc32fast::Hasher::new();
    let mut feed = |z: &mut dyn Write| -> io::Result<u64> {
        let mut buf = vec![0u8; 1 << 20];
        let mut r = data.take(size + 1);
        let mut n = 0u64;
        loop {
            let k = match r.read(&mut buf) {
                Ok(0) => return Ok(n),
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            sums.write_all(&buf[..k])?;
            if matches!(codec, Codec::Zstd(_)) {
                crc.update(&buf[..k]);
            }
            z.write_all(&buf[..k])?;
            n += k as u64;
        }
    };
    let (end, crc) = match codec {
        Codec::Zstd(level) => {
            let mut z = super::compress::zstd_encoder(out, level, threads)?;
            let n = feed(&mut z)?;
            check_size(size, n)?;
            (z.finish()?.pos, crc.finalize())
        }
        Codec::Deflate(level) => {
            let mut z = ParGzip::new(out, level, threads, Mode::Raw)?;
            let n = feed(&mut z)?;
            check_size(size, n)?;
            let (out, crc) = z.finish_open()?;
            (out.pos, crc)
        }
    };
    Ok(Packed {
        spool: Arc::clone(spool),
        at,
        len: end - at,
        codec,
        sums: sums.finish().1,
        crc,
    })
}

fn check_size(want: u64, got: u64) -> io::Result<()> {
    if want == got {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("{want} bytes planned, {got} read: was the file changed during the build?"),
    ))
}

/// A stream that can take a `Packed` content in place of its raw bytes.
pub trait Splice: Write {
    /// The codec whose `Packed` contents this stream takes, if any.
    fn codec(&self) -> Option<Codec> {
        None
    }

    /// Place `p` as if its raw bytes had been written. `raw` reads those
    /// bytes again, for layers that must see them (a digest of the whole
    /// uncompressed stream); the compressor itself never reads it.
    fn splice(&mut self, p: &Packed, raw: &mut dyn Read) -> io::Result<()> {
        let _ = (p, raw);
        Err(io::Error::other(
            "this stream cannot take compressed content",
        ))
    }
}

impl Splice for Vec<u8> {}

/// Write a file's `size` bytes of content: `p` spliced when `w` takes its
/// codec, else `data` copied. Returns the bytes copied (`size` if spliced).
pub fn body<W: Splice + ?Sized>(
    w: &mut W,
    size: u64,
    data: &mut dyn Read,
    p: Option<&Packed>,
) -> io::Result<u64> {
    match p {
        Some(p) if w.codec() == Some(p.codec) && p.sums.size == size => {
            w.splice(p, data)?;
            Ok(size)
        }
        _ => io::copy(&mut data.take(size), w),
    }
}

#[cfg(test)]
mod tests {
    use super::super::compress::{Compression, Encoder};
    use super::super::digest::Want;
    use super::*;
    use std::io::Read;

    fn content() -> Vec<u8> {
        let mut x: u64 = 3;
        let mut v = Vec::new();
        while v.len() < 5 * (1 << 20) + 777 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            v.extend_from_slice(&(x >> 45).to_le_bytes()[..3]);
            v.extend_from_slice(b" text ");
        }
        v
    }

    fn pack(codec: Codec, data: &[u8], threads: usize) -> Packed {
        let spool = Arc::new(tempfile::tempfile().unwrap());
        // Something already in the spool: a content starts where the last ended.
        spool.write_all_at(b"earlier", 0).unwrap();
        let want = Want::MD5_SHA256.and(Want::SHA1);
        fill(
            &spool,
            7,
            codec,
            threads,
            &mut &data[..],
            data.len() as u64,
            want,
        )
        .unwrap()
    }

    /// head, the content spliced, tail: what a decoder reads back.
    fn stream(enc: Encoder<Vec<u8>>, p: &Packed, data: &[u8]) -> Vec<u8> {
        let mut enc = enc;
        enc.write_all(b"head before the content").unwrap();
        assert_eq!(
            body(&mut enc, p.sums.size, &mut &data[..], Some(p)).unwrap(),
            p.sums.size
        );
        enc.write_all(b"tail after it").unwrap();
        enc.finish().unwrap()
    }

    fn decoded(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        super::super::compress::decoder(bytes)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn a_spliced_content_reads_back_in_place_in_every_stream_shape() {
        let data = content();
        let mut want = b"head before the content".to_vec();
        want.extend_from_slice(&data);
        want.extend_from_slice(b"tail after it");
        let zstd = pack(Codec::Zstd(3), &data, 2);
        let deflate = pack(Codec::Deflate(6), &data, 2);
        assert_eq!(deflate.crc, libdeflater::crc32(&data));
        assert_eq!(zstd.crc, deflate.crc);
        assert_eq!(zstd.sums.size, data.len() as u64);
        assert_eq!(zstd.sums, deflate.sums, "one read, the same digests");
        let enc = |c| Encoder::new(c, None, Vec::new()).unwrap();
        let shapes = [
            ("zstd frames", stream(enc(Compression::Zstd), &zstd, &data)),
            (
                "gzip members",
                stream(enc(Compression::Gzip), &deflate, &data),
            ),
            (
                "one gzip member",
                stream(
                    Encoder::gzip_one_member(Vec::new(), None).unwrap(),
                    &deflate,
                    &data,
                ),
            ),
        ];
        for (what, bytes) in &shapes {
            assert!(decoded(bytes) == want, "{what}: reads back as written");
            assert!(bytes.len() < want.len() / 2, "{what}: still compressed");
        }
        // apk needs exactly one gzip member: the strict single-member reader.
        let mut one = flate2::read::GzDecoder::new(&shapes[2].1[..]);
        let mut back = Vec::new();
        one.read_to_end(&mut back).unwrap();
        assert!(back == want, "one member holds it all");
    }

    #[test]
    fn a_content_packs_to_the_same_bytes_on_any_thread_count() {
        let data = content();
        for codec in [Codec::Zstd(3), Codec::Deflate(6)] {
            let bytes = |threads| {
                let p = pack(codec, &data, threads);
                let mut v = Vec::new();
                p.copy_to(&mut v).unwrap();
                v
            };
            assert!(bytes(1) == bytes(3), "{codec:?}");
        }
    }

    #[test]
    fn a_stream_of_another_codec_copies_the_raw_bytes_instead() {
        let data = content();
        let p = pack(Codec::Deflate(6), &data, 2);
        // zstd at level 3 cannot take deflate blocks, nor gzip at level 9.
        for (c, level) in [(Compression::Zstd, None), (Compression::Gzip, Some(9))] {
            let enc = Encoder::new(c, level, Vec::new()).unwrap();
            assert!(enc.codec() != Some(p.codec));
            let mut want = b"head before the content".to_vec();
            want.extend_from_slice(&data);
            want.extend_from_slice(b"tail after it");
            assert!(decoded(&stream(enc, &p, &data)) == want, "{c:?}");
        }
    }

    #[test]
    fn a_file_that_is_not_its_planned_size_is_refused() {
        let spool = Arc::new(tempfile::tempfile().unwrap());
        let data = content();
        for size in [data.len() as u64 - 1, data.len() as u64 + 1] {
            let e = fill(
                &spool,
                0,
                Codec::Zstd(3),
                1,
                &mut &data[..],
                size,
                Want::NONE,
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("changed during the build"), "{e}");
        }
    }
}
