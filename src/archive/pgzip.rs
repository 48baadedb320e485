//! Parallel gzip. The input is cut into fixed 1 MiB blocks compressed on
//! worker threads and written in order, in one of these shapes:
//!
//! - `Mode::Members`: each block is a whole gzip member made by libdeflate
//!   (twice zlib's speed, slightly smaller output). A file of several members
//!   is plain gzip (RFC 1952 § 2.2) for dpkg, rpm, libarchive, GNU tar.
//! - `Mode::OneMember`: the pigz way — one member; each block is deflated
//!   alone by libdeflate and spliced on a byte boundary (`deflate::piece`).
//!   For apk, which treats a member boundary as the end of a stream. Without
//!   pigz's 32 KiB dictionary a block loses a few hundred bytes of matches,
//!   and libdeflate's better parsing wins more than that back.
//! - `Mode::Raw`: the same spliced blocks as one raw deflate stream, with no
//!   gzip header or trailer: a zip entry's data (`finish_crc` gives its CRC).
//! - `Mode::Pieces`: each block a whole raw deflate stream, recorded as a
//!   `Piece` (with its `Cut` when asked): a content compressed alone, which
//!   gzip members take as they are and one-stream writers join (`packed`).
//!
//! Either way the bytes depend only on the input, level and block size —
//! never on the number of threads — so builds are byte-identical on any
//! machine. Memory is bounded by the blocks in flight (2 per thread).

use super::deflate::Cut;
use super::packed::{Packed, Piece};
use crc32fast::Hasher as Crc;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const BLOCK: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Members,
    OneMember,
    Raw,
    Pieces,
}

struct Job {
    work: Work,
    input: Vec<u8>,
    done: Sender<io::Result<Block>>,
}

/// What a worker makes of one block of input.
#[derive(Debug, Clone, Copy)]
enum Work {
    /// A whole gzip member, libdeflate's (`Mode::Members`).
    Member,
    /// Spliced deflate blocks, the stream's last when `last`.
    Piece { last: bool },
    /// A whole raw stream recorded as a `Piece`, its `Cut` found when `cut`.
    Whole { cut: bool },
    /// A content's piece as the gzip member a spool's piece is copied as
    /// (`Packed::copy_members`): a content compressed where it is placed.
    Alone,
}

/// A worker's output: the compressed bytes, and in `Mode::Pieces` what the
/// piece is.
struct Block {
    bytes: Vec<u8>,
    piece: Option<Piece>,
}

pub struct ParGzip<W: Write> {
    mode: Mode,
    level: u32,
    out: W,
    buf: Vec<u8>,
    crc: Crc,
    /// Input bytes so far (gzip's ISIZE is this modulo 2^32).
    len: u64,
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    pending: VecDeque<Receiver<io::Result<Block>>>,
    max_pending: usize,
    /// `Mode::Pieces`: what each piece is, in order, and whether its
    /// `Cut` is found on the workers.
    pieces: Vec<Piece>,
    cuts: bool,
}

/// A one-member stream's gzip header: no name or time; XFL from the level;
/// OS unknown (255).
fn header(level: u32) -> [u8; 10] {
    let xfl = match level {
        9 => 2,
        0 | 1 => 4,
        _ => 0,
    };
    [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]
}

/// One gzip member of `parts` in order, each `(bytes, stored)`: a stored
/// part is kept as it is, so the member's length depends only on its
/// length, not its bytes (a digest or signature filled in last). Small
/// input: compressed in one piece per part, on this thread.
pub fn member_with_stored(level: u32, parts: &[(&[u8], bool)]) -> io::Result<Vec<u8>> {
    let level = level.min(9);
    let mut out = header(level).to_vec();
    let (mut crc, mut len) = (Crc::new(), 0u32);
    for (i, &(bytes, stored)) in parts.iter().enumerate() {
        crc.update(bytes);
        len = len.wrapping_add(bytes.len() as u32);
        match stored {
            true => super::deflate::stored(&mut out, bytes),
            false => {
                let last = i + 1 == parts.len();
                out.extend(super::deflate::piece(level, bytes, last)?);
            }
        }
    }
    if parts.last().is_none_or(|p| p.1) {
        out.extend(super::deflate::piece(level, &[], true)?);
    }
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    Ok(out)
}

fn member(level: u32, input: &[u8]) -> io::Result<Vec<u8>> {
    let lvl = libdeflater::CompressionLvl::new(level as i32)
        .map_err(|e| io::Error::other(format!("{e:?}")))?;
    let mut c = libdeflater::Compressor::new(lvl);
    let mut out = vec![0; c.gzip_compress_bound(input.len())];
    let n = c
        .gzip_compress(input, &mut out)
        .map_err(|e| io::Error::other(format!("{e:?}")))?;
    out.truncate(n);
    Ok(out)
}

fn compress(level: u32, job: &Job) -> io::Result<Block> {
    let input = &job.input;
    let bytes = match job.work {
        Work::Member => member(level, input)?,
        Work::Piece { last } => super::deflate::piece(level, input, last)?,
        Work::Whole { cut } => {
            let bytes = super::deflate::whole(level, input)?;
            let cut: Option<Cut> = match cut {
                true => Some(super::deflate::last_block(&bytes)?),
                false => None,
            };
            let piece = Piece {
                len: bytes.len() as u32,
                size: input.len() as u32,
                crc: crc32fast::hash(input),
                cut,
            };
            return Ok(Block {
                bytes,
                piece: Some(piece),
            });
        }
        Work::Alone => {
            let bytes = super::deflate::whole(level, input)?;
            let mut m = Vec::with_capacity(bytes.len() + 18);
            super::packed::member_of(&mut m, &bytes, crc32fast::hash(input), input.len() as u32)?;
            m
        }
    };
    Ok(Block { bytes, piece: None })
}

impl<W: Write> ParGzip<W> {
    pub fn new(out: W, level: u32, threads: usize, mode: Mode) -> io::Result<Self> {
        Self::with_cuts(out, level, threads, mode, false)
    }

    /// `Mode::Pieces`, each piece's `Cut` found on the workers when `cuts`
    /// (a one-stream writer in the build will join them).
    pub fn pieces(out: W, level: u32, threads: usize, cuts: bool) -> io::Result<Self> {
        Self::with_cuts(out, level, threads, Mode::Pieces, cuts)
    }

    fn with_cuts(
        mut out: W,
        level: u32,
        threads: usize,
        mode: Mode,
        cuts: bool,
    ) -> io::Result<Self> {
        let level = level.min(9);
        if mode == Mode::OneMember {
            out.write_all(&header(level))?;
        }
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let threads = threads.max(1);
        let workers = (0..threads)
            .map(|_| {
                let rx = Arc::clone(&rx);
                std::thread::spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    let _ = job.done.send(compress(level, &job));
                })
            })
            .collect();
        Ok(ParGzip {
            mode,
            level,
            out,
            buf: Vec::with_capacity(BLOCK),
            crc: Crc::new(),
            len: 0,
            jobs: Some(tx),
            workers,
            pending: VecDeque::new(),
            max_pending: 2 * threads,
            pieces: Vec::new(),
            cuts,
        })
    }

    fn submit(&mut self, last: bool) -> io::Result<()> {
        let input = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK));
        if self.mode == Mode::Members && input.is_empty() && self.len > 0 {
            // A trailing empty member would only add bytes; an empty input
            // still gets one member so the file is valid gzip.
            return Ok(());
        }
        self.len += input.len() as u64;
        let work = match self.mode {
            Mode::Members => Work::Member,
            // A member carries its own CRC (libdeflate's gzip writes it), a
            // piece too (taken on the worker).
            Mode::OneMember | Mode::Raw => {
                self.crc.update(&input);
                Work::Piece { last }
            }
            Mode::Pieces => Work::Whole { cut: self.cuts },
        };
        self.send(work, input)
    }

    /// Hand `input` to the workers; its output is written in turn. At most
    /// `max_pending` blocks are in flight.
    fn send(&mut self, work: Work, input: Vec<u8>) -> io::Result<()> {
        let (done, rx) = channel();
        let job = Job { work, input, done };
        let sent = self.jobs.as_ref().map(|j| j.send(job));
        if !matches!(sent, Some(Ok(()))) {
            return Err(io::Error::other("gzip workers stopped"));
        }
        self.pending.push_back(rx);
        while self.pending.len() >= self.max_pending {
            self.drain_one()?;
        }
        Ok(())
    }

    pub fn level(&self) -> u32 {
        self.level
    }

    /// Place a content deflated alone (`packed`) as if its bytes had been
    /// written: what is buffered goes out first as a block (or member) of
    /// its own, then the content's blocks, cut on byte boundaries. A
    /// content compressed where it is placed (`Packed::reads_raw`) is
    /// compressed from `raw` into the blocks a spool would hold.
    pub fn splice(&mut self, p: &Packed, raw: &mut dyn Read) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.submit(false)?;
        }
        if p.reads_raw() {
            return self.compress_alone(p, raw);
        }
        while !self.pending.is_empty() {
            self.drain_one()?;
        }
        let (crc, len) = (p.crc, p.sums.size);
        match self.mode {
            Mode::Members => p.copy_members(&mut self.out)?,
            Mode::OneMember | Mode::Raw => {
                p.copy_joined(&mut self.out)?;
                self.crc.combine(&Crc::new_with_initial_len(crc, len));
            }
            Mode::Pieces => return Err(io::Error::other("pieces do not take a content")),
        }
        self.len += len;
        Ok(())
    }

    /// `p`'s content from `raw` (the bytes digested before: checked by
    /// size and CRC-32) in 1 MiB pieces on the workers, as `fill` would
    /// have spooled them and `splice` copied them.
    fn compress_alone(&mut self, p: &Packed, raw: &mut dyn Read) -> io::Result<()> {
        let work = match self.mode {
            Mode::Members => Work::Alone,
            Mode::OneMember | Mode::Raw => Work::Piece { last: false },
            Mode::Pieces => return Err(io::Error::other("pieces do not take a content")),
        };
        let size = p.sums.size;
        let mut raw = raw.take(size + 1);
        let (mut crc, mut n) = (Crc::new(), 0u64);
        loop {
            let mut input = Vec::with_capacity(BLOCK);
            (&mut raw).take(BLOCK as u64).read_to_end(&mut input)?;
            if input.is_empty() {
                break;
            }
            crc.update(&input);
            n += input.len() as u64;
            self.send(work, input)?;
        }
        super::packed::check_size(size, n)?;
        if crc.clone().finalize() != p.crc {
            return Err(super::digest::changed());
        }
        if self.mode != Mode::Members {
            self.crc.combine(&crc);
        }
        self.len += size;
        Ok(())
    }

    /// Ends `Mode::Pieces`: the writer, the input's CRC-32 and the pieces.
    pub fn finish_pieces(mut self) -> io::Result<(W, u32, Vec<Piece>)> {
        debug_assert_eq!(self.mode, Mode::Pieces);
        if !self.buf.is_empty() {
            self.submit(true)?;
        }
        while !self.pending.is_empty() {
            self.drain_one()?;
        }
        let pieces = std::mem::take(&mut self.pieces);
        let (out, _) = self.end()?;
        let mut crc = Crc::new();
        for p in &pieces {
            crc.combine(&Crc::new_with_initial_len(p.crc, u64::from(p.size)));
        }
        Ok((out, crc.finalize(), pieces))
    }

    fn end(mut self) -> io::Result<(W, u32)> {
        while !self.pending.is_empty() {
            self.drain_one()?;
        }
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        let crc = self.crc.clone().finalize();
        Ok((self.out, crc))
    }

    fn drain_one(&mut self) -> io::Result<()> {
        if let Some(rx) = self.pending.pop_front() {
            let block = rx
                .recv()
                .map_err(|_| io::Error::other("gzip worker died"))??;
            self.out.write_all(&block.bytes)?;
            self.pieces.extend(block.piece);
        }
        Ok(())
    }

    pub fn finish(self) -> io::Result<W> {
        self.finish_crc().map(|(w, _)| w)
    }

    /// Ends the stream; also returns the input's CRC-32.
    pub fn finish_crc(mut self) -> io::Result<(W, u32)> {
        self.submit(true)?;
        while !self.pending.is_empty() {
            self.drain_one()?;
        }
        if self.mode == Mode::OneMember {
            let (crc, len) = (self.crc.clone().finalize(), self.len as u32);
            self.out.write_all(&crc.to_le_bytes())?;
            self.out.write_all(&len.to_le_bytes())?;
        }
        self.end()
    }
}

impl<W: Write> Write for ParGzip<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(BLOCK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == BLOCK {
            self.submit(false)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn data() -> Vec<u8> {
        let mut v = Vec::new();
        let mut x: u64 = 7;
        while v.len() < 3 * BLOCK + 12345 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            // Half text-like, half random, so both compress and store paths run.
            if (v.len() / 100_000) % 2 == 0 {
                v.extend_from_slice(format!("line {} of text\n", x % 1000).as_bytes());
            } else {
                v.extend_from_slice(&x.to_le_bytes());
            }
        }
        v
    }

    fn gz(input: &[u8], threads: usize, level: u32, mode: Mode) -> Vec<u8> {
        let mut w = ParGzip::new(Vec::new(), level, threads, mode).unwrap();
        for chunk in input.chunks(70_000) {
            w.write_all(chunk).unwrap();
        }
        w.finish().unwrap()
    }

    fn members(bytes: &[u8]) -> usize {
        let mut rest = bytes;
        let mut n = 0;
        while !rest.is_empty() {
            let mut d = flate2::bufread::GzDecoder::new(rest);
            std::io::copy(&mut d, &mut std::io::sink()).unwrap();
            rest = d.into_inner();
            n += 1;
        }
        n
    }

    #[test]
    fn round_trips_and_ignores_thread_count() {
        let input = data();
        for mode in [Mode::Members, Mode::OneMember] {
            for level in [1, 6, 9] {
                let one = gz(&input, 1, level, mode);
                let four = gz(&input, 4, level, mode);
                assert!(
                    one == four,
                    "{mode:?} {level}: output must not depend on threads"
                );
                let mut back = Vec::new();
                flate2::read::MultiGzDecoder::new(&one[..])
                    .read_to_end(&mut back)
                    .unwrap();
                assert!(back == input, "{mode:?} level {level} round trip");
                assert!(one.len() < input.len(), "{mode:?} level {level} compresses");
                let expect = if mode == Mode::OneMember { 1 } else { 4 };
                assert_eq!(members(&one), expect, "{mode:?}: gzip members");
            }
            let mut back = Vec::new();
            flate2::read::MultiGzDecoder::new(&gz(b"", 2, 6, mode)[..])
                .read_to_end(&mut back)
                .unwrap();
            assert!(back.is_empty());
        }
    }
}
