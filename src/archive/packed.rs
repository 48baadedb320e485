//! A large file's content compressed once, on its own, and placed as those
//! same bytes in every stream of that codec: deb, rpm and pacman share one
//! zstd frame of it, apk, tar.gz and zip one run of deflate blocks.
//!
//! - zstd: the content is one frame. A stream splices it by ending its own
//!   frame, copying the content's, and starting a new frame for what
//!   follows; decoders read concatenated frames as one stream.
//! - deflate: the content is 1 MiB pieces, each a whole deflate stream of
//!   its own. A gzip-members stream takes each piece as a member as it is;
//!   a one-stream writer (apk's one member, a zip entry) joins them: each
//!   piece's final bit cleared and an empty stored block after it, so it
//!   ends on a byte boundary and continues into what follows (pigz's
//!   splice), at a `Cut` found on the compressing threads when the build
//!   has such a writer. The CRC-32 combines with the stream's own.
//!
//! A stream's bytes therefore depend only on its content: a file above
//! `ALONE` bytes is always compressed alone, whichever formats are built
//! together and on however many threads. Small files stay in their
//! containers' streams (framing them would cost ratio and time).
//!
//! When only one stream of the build takes a zstd content, a spool would
//! only add a copy at the end (the digests must come first, so that copy
//! starts only when every content is compressed): the content is then read
//! once for its digests, and compressed into its frame where the stream
//! places it (`Packed::later`), the same frame a spool would hold.

use super::deflate::{self, Cut};
use super::digest::{self, Sums, Want};
use super::pgzip::ParGzip;
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

/// One file's content, compressed alone.
#[derive(Debug)]
pub struct Packed {
    bytes: Bytes,
    pub codec: Codec,
    /// The content's length and the digests the build asked for.
    pub sums: Sums,
    pub crc: u32,
    /// deflate: the pieces, in order (zstd: none).
    pub pieces: Vec<Piece>,
}

/// Where a content's compressed bytes are.
#[derive(Debug)]
enum Bytes {
    /// `len` bytes at `at` in a spool file.
    Spool { file: Arc<File>, at: u64, len: u64 },
    /// Not made yet: the stream that places the content compresses it from
    /// its raw bytes, read again (and checked by their CRC-32), on `threads`.
    Later { threads: usize },
}

/// One 1 MiB piece of a deflated content: a whole raw deflate stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Compressed and raw length.
    pub len: u32,
    pub size: u32,
    pub crc: u32,
    /// Where to open it, if the build asked for that up front.
    pub cut: Option<Cut>,
}

/// What the build's writers need of a content besides its bytes: the
/// digests, and whether a one-stream writer will join deflate pieces (so
/// their `Cut`s are found on the compressing threads).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub sums: Want,
    pub cuts: bool,
}

/// The gzip member header of a piece: no name, time or extra flags; OS
/// unknown (255).
const MEMBER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

impl Packed {
    /// A content digested now and compressed when it is placed: read
    /// exactly `size` bytes of `data` for what `want` asks and the CRC-32.
    pub fn later(
        codec: Codec,
        threads: usize,
        data: &mut dyn Read,
        size: u64,
        want: Want,
    ) -> io::Result<Packed> {
        let mut sums = digest::sink(want);
        let crc = sums.read_from(data, size)?;
        Ok(Packed::later_known(codec, threads, sums.finish().1, crc))
    }

    /// A content whose digests and CRC-32 an earlier read took: it is
    /// compressed when it is placed, and checked against `crc` then.
    pub fn later_known(codec: Codec, threads: usize, sums: Sums, crc: u32) -> Packed {
        Packed {
            bytes: Bytes::Later { threads },
            codec,
            sums,
            crc,
            pieces: Vec::new(),
        }
    }

    /// Whether placing this content reads its raw bytes (`Packed::later`).
    pub fn reads_raw(&self) -> bool {
        matches!(self.bytes, Bytes::Later { .. })
    }

    /// Write the content's zstd frame to `w`: copied from the spool, or
    /// compressed now from `raw`, which must be the bytes digested before.
    pub fn place(&self, w: &mut dyn Write, raw: &mut dyn Read) -> io::Result<()> {
        let (file, at, len) = match &self.bytes {
            Bytes::Spool { file, at, len } => (file, *at, *len),
            Bytes::Later { threads } => return self.compress(w, raw, *threads),
        };
        let mut buf = vec![0u8; 256 << 10];
        let (mut at, end) = (at, at + len);
        while at < end {
            let n = buf.len().min((end - at) as usize);
            file.read_exact_at(&mut buf[..n], at)?;
            w.write_all(&buf[..n])?;
            at += n as u64;
        }
        Ok(())
    }

    fn compress(&self, w: &mut dyn Write, raw: &mut dyn Read, threads: usize) -> io::Result<()> {
        let Codec::Zstd(level) = self.codec else {
            // A gzip stream compresses it in its own pieces (`ParGzip::splice`).
            return Err(io::Error::other("a deflate content is not one frame"));
        };
        let mut z = super::zstdmt::Zstd::new(w, level, threads)?;
        let mut crc = crc32fast::Hasher::new();
        let mut tap = super::Tap {
            inner: raw,
            f: |b: &[u8]| crc.update(b),
        };
        let n = copy_exact(&mut tap, &mut z, self.sums.size)?;
        check_size(self.sums.size, n)?;
        if crc.finalize() != self.crc {
            return Err(digest::changed());
        }
        z.finish()?;
        Ok(())
    }

    /// Each piece with its bytes, in order.
    fn each(&self, f: &mut dyn FnMut(&Piece, &mut Vec<u8>) -> io::Result<()>) -> io::Result<()> {
        let Bytes::Spool { file, at, .. } = &self.bytes else {
            return Err(io::Error::other(
                "a content compressed where it is placed has no pieces to copy",
            ));
        };
        let mut at = *at;
        let mut buf = Vec::new();
        for p in &self.pieces {
            buf.resize(p.len as usize, 0);
            file.read_exact_at(&mut buf, at)?;
            at += u64::from(p.len);
            f(p, &mut buf)?;
        }
        Ok(())
    }

    /// Each piece as a gzip member of its own (RFC 1952 § 2.2).
    pub fn copy_members(&self, w: &mut dyn Write) -> io::Result<()> {
        self.each(&mut |p, bytes| member_of(w, bytes, p.crc, p.size))
    }

    /// The pieces joined into non-final blocks that end on a byte boundary.
    pub fn copy_joined(&self, w: &mut dyn Write) -> io::Result<()> {
        self.each(&mut |p, bytes| {
            let cut = match p.cut {
                Some(c) => c,
                None => deflate::last_block(bytes)?,
            };
            deflate::open(bytes, cut);
            w.write_all(bytes)
        })
    }

    /// What `copy_joined` writes, in bytes.
    pub fn joined_len(&self) -> io::Result<u64> {
        if self.pieces.iter().all(|p| p.cut.is_some()) {
            let open = |p: &Piece| p.cut.map_or(0, |c| c.open_len() as u64);
            return Ok(self.pieces.iter().map(open).sum());
        }
        let mut n = 0;
        self.each(&mut |_, bytes| {
            n += deflate::last_block(bytes)?.open_len() as u64;
            Ok(())
        })?;
        Ok(n)
    }
}

/// A piece's raw deflate `bytes` as a gzip member, with the CRC-32 and
/// length of its input.
pub(super) fn member_of(w: &mut dyn Write, bytes: &[u8], crc: u32, size: u32) -> io::Result<()> {
    w.write_all(&MEMBER)?;
    w.write_all(bytes)?;
    w.write_all(&crc.to_le_bytes())?;
    w.write_all(&size.to_le_bytes())
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
/// from `at` on, with what `needs` asks and the CRC-32 from the same read.
/// A different length read is an error: the file changed under the build.
/// Returns the content and its compressed length.
pub fn fill(
    spool: &Arc<File>,
    at: u64,
    codec: Codec,
    threads: usize,
    data: &mut dyn Read,
    size: u64,
    needs: Needs,
) -> io::Result<(Packed, u64)> {
    let out = At {
        file: spool,
        pos: at,
    };
    let mut sums = digest::sink(needs.sums);
    let mut crc = crc32fast::Hasher::new();
    let zstd = matches!(codec, Codec::Zstd(_));
    let mut raw = super::Tap {
        inner: data,
        f: |b: &[u8]| {
            sums.update(b);
            if zstd {
                crc.update(b);
            }
        },
    };
    let (end, crc, pieces) = match codec {
        Codec::Zstd(level) => {
            let mut z = super::zstdmt::Zstd::new(out, level, threads)?;
            check_size(size, copy_exact(&mut raw, &mut z, size)?)?;
            (z.finish()?.pos, crc.finalize(), Vec::new())
        }
        Codec::Deflate(level) => {
            let mut z = ParGzip::pieces(out, level, threads, needs.cuts)?;
            check_size(size, copy_exact(&mut raw, &mut z, size)?)?;
            let (out, crc, pieces) = z.finish_pieces()?;
            (out.pos, crc, pieces)
        }
    };
    let len = end - at;
    let bytes = Bytes::Spool {
        file: Arc::clone(spool),
        at,
        len,
    };
    let p = Packed {
        bytes,
        codec,
        sums: sums.finish().1,
        crc,
        pieces,
    };
    Ok((p, len))
}

/// Copy `r` to `w` to its end, reading at most one byte past `size` (so a
/// file that grew shows): the bytes copied.
fn copy_exact(r: &mut dyn Read, w: &mut dyn Write, size: u64) -> io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut r = r.take(size + 1);
    let mut n = 0u64;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => return Ok(n),
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..k])?;
        n += k as u64;
    }
}

pub(super) fn check_size(want: u64, got: u64) -> io::Result<()> {
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
    /// bytes again: for layers that must see them (a digest of the whole
    /// uncompressed stream), and for the compressor when `p` is compressed
    /// as it is placed (`Packed::reads_raw`).
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

    fn pack(codec: Codec, data: &[u8], threads: usize, cuts: bool) -> Packed {
        let spool = Arc::new(tempfile::tempfile().unwrap());
        // Something already in the spool: a content starts where the last ended.
        spool.write_all_at(b"earlier", 0).unwrap();
        let needs = Needs {
            sums: Want::MD5_SHA256.and(Want::SHA1),
            cuts,
        };
        fill(
            &spool,
            7,
            codec,
            threads,
            &mut &data[..],
            data.len() as u64,
            needs,
        )
        .unwrap()
        .0
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
        let zstd = pack(Codec::Zstd(3), &data, 2, false);
        let deflate = pack(Codec::Deflate(6), &data, 2, true);
        assert_eq!(deflate.pieces.len(), 6, "5 MiB and a bit in 1 MiB pieces");
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
        // Pieces in a gzip-members stream are members of their own (the
        // head and the tail each one more).
        assert_eq!(members(&shapes[1].1), deflate.pieces.len() + 2);
    }

    fn members(bytes: &[u8]) -> usize {
        let mut rest = bytes;
        let mut n = 0;
        while !rest.is_empty() {
            let mut d = flate2::bufread::GzDecoder::new(rest);
            io::copy(&mut d, &mut io::sink()).unwrap();
            rest = d.into_inner();
            n += 1;
        }
        n
    }

    /// A deflated content as gzip members and joined.
    fn both(p: &Packed) -> (Vec<u8>, Vec<u8>) {
        let (mut m, mut j) = (Vec::new(), Vec::new());
        p.copy_members(&mut m).unwrap();
        p.copy_joined(&mut j).unwrap();
        assert_eq!(p.joined_len().unwrap(), j.len() as u64);
        (m, j)
    }

    #[test]
    fn cuts_found_up_front_or_on_the_copy_give_the_same_bytes() {
        // Whether the build has a one-stream writer changes only where the
        // cuts are found, never the bytes of any artifact.
        let data = content();
        let early = pack(Codec::Deflate(6), &data, 2, true);
        let late = pack(Codec::Deflate(6), &data, 2, false);
        assert!(early.pieces.iter().all(|p| p.cut.is_some()));
        assert!(late.pieces.iter().all(|p| p.cut.is_none()));
        assert!(both(&early) == both(&late));
    }

    #[test]
    fn a_content_packs_to_the_same_bytes_on_any_thread_count() {
        let data = content();
        for codec in [Codec::Zstd(3), Codec::Deflate(6)] {
            let bytes = |threads| {
                let p = pack(codec, &data, threads, true);
                let mut v = Vec::new();
                p.place(&mut v, &mut io::empty()).unwrap();
                (v, both(&p))
            };
            assert!(bytes(1) == bytes(3), "{codec:?}");
        }
    }

    #[test]
    fn a_stream_of_another_codec_copies_the_raw_bytes_instead() {
        let data = content();
        let p = pack(Codec::Deflate(6), &data, 2, true);
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

    /// `p` placed alone in a zstd stream (after a head), reading `raw`.
    fn placed(p: &Packed, raw: &[u8]) -> io::Result<Vec<u8>> {
        let mut enc = Encoder::new(Compression::Zstd, None, Vec::new()).unwrap();
        enc.write_all(b"head")?;
        enc.splice(p, &mut &raw[..])?;
        enc.finish()
    }

    #[test]
    fn a_content_compressed_where_it_is_placed_is_the_frame_a_spool_holds() {
        // Only one writer taking a zstd content changes where it is
        // compressed, never the bytes of the stream that takes it.
        let data = content();
        let size = data.len() as u64;
        let spooled = pack(Codec::Zstd(3), &data, 2, false);
        let want = placed(&spooled, &[]).unwrap();
        let later = Packed::later(Codec::Zstd(3), 3, &mut &data[..], size, Want::MD5).unwrap();
        assert!(later.reads_raw());
        assert_eq!(
            later.sums.md5, spooled.sums.md5,
            "digested on the first read"
        );
        assert_eq!(later.crc, spooled.crc);
        assert!(placed(&later, &data).unwrap() == want);
        // A digest over the stream sees the raw bytes either way.
        let over = |p: &Packed, raw: &[u8]| {
            let enc = Encoder::new(Compression::Zstd, None, Vec::new()).unwrap();
            let mut d = digest::Digesting::new(enc, Want::SHA256);
            d.splice(p, &mut &raw[..]).unwrap();
            let (enc, sums) = d.finish();
            (enc.finish().unwrap(), sums)
        };
        let (bytes, sums) = over(&later, &data);
        assert!((bytes, sums) == over(&spooled, &data));
        let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&data).into();
        assert_eq!(sums.sha256, Some(sha));
    }

    #[test]
    fn a_deflate_content_compressed_where_it_is_placed_is_what_a_spool_holds() {
        use super::super::pgzip::{Mode, ParGzip};
        let data = content();
        let size = data.len() as u64;
        let spooled = pack(Codec::Deflate(6), &data, 2, false);
        let later = Packed::later(Codec::Deflate(6), 2, &mut &data[..], size, Want::SHA1).unwrap();
        assert!(later.reads_raw() && later.crc == spooled.crc);
        assert_eq!(later.sums.sha1, spooled.sums.sha1);
        // Every gzip shape: a content between a head and a tail, on 1 and
        // on 3 threads.
        let shape = |mode, p: &Packed, raw: &[u8], threads| {
            let mut z = ParGzip::new(Vec::new(), 6, threads, mode)?;
            z.write_all(b"head before the content")?;
            z.splice(p, &mut &raw[..])?;
            z.write_all(b"tail after it")?;
            z.finish()
        };
        for mode in [Mode::Members, Mode::OneMember, Mode::Raw] {
            let want = shape(mode, &spooled, &[], 2).unwrap();
            for threads in [1, 3] {
                let got = shape(mode, &later, &data, threads).unwrap();
                assert!(got == want, "{mode:?} on {threads} threads");
            }
            let mut edited = data.clone();
            edited[12345] ^= 1;
            let e = shape(mode, &later, &edited, 2).unwrap_err().to_string();
            assert!(e.contains("changed"), "{mode:?}: {e}");
            let e = shape(mode, &later, &data[1..], 2).unwrap_err().to_string();
            assert!(e.contains("changed during the build"), "{mode:?}: {e}");
        }
    }

    #[test]
    fn a_content_that_changed_before_it_was_placed_is_refused() {
        let data = content();
        let size = data.len() as u64;
        let later = Packed::later(Codec::Zstd(3), 2, &mut &data[..], size, Want::NONE).unwrap();
        let mut edited = data.clone();
        edited[size as usize / 2] ^= 1;
        let e = placed(&later, &edited).unwrap_err().to_string();
        assert!(e.contains("changed"), "{e}");
        // Shorter or longer than planned, when it is digested or placed.
        for raw in [&data[1..], &[&data[..], b"+"].concat()[..]] {
            let e = placed(&later, raw).unwrap_err().to_string();
            assert!(e.contains("changed during the build"), "{e}");
            let e = Packed::later(Codec::Zstd(3), 2, &mut &raw[..], size, Want::MD5).unwrap_err();
            assert!(e.to_string().contains("changed"), "{e}");
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
                Needs::default(),
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("changed during the build"), "{e}");
        }
    }
}
