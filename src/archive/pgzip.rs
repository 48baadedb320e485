//! Parallel gzip. The input is cut into fixed 1 MiB blocks compressed on
//! worker threads and written in order, in one of two shapes:
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
//!
//! Either way the bytes depend only on the input, level and block size —
//! never on the number of threads — so builds are byte-identical on any
//! machine. Memory is bounded by the blocks in flight (2 per thread).

use super::packed::Packed;
use crc32fast::Hasher as Crc;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const BLOCK: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Members,
    OneMember,
    Raw,
}

struct Job {
    mode: Mode,
    input: Vec<u8>,
    last: bool,
    done: Sender<io::Result<Vec<u8>>>,
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
    pending: VecDeque<Receiver<io::Result<Vec<u8>>>>,
    max_pending: usize,
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

fn compress(level: u32, job: &Job) -> io::Result<Vec<u8>> {
    match job.mode {
        Mode::Members => member(level, &job.input),
        Mode::OneMember | Mode::Raw => super::deflate::piece(level, &job.input, job.last),
    }
}

impl<W: Write> ParGzip<W> {
    pub fn new(mut out: W, level: u32, threads: usize, mode: Mode) -> io::Result<Self> {
        let level = level.min(9);
        if mode == Mode::OneMember {
            let xfl = match level {
                9 => 2,
                0 | 1 => 4,
                _ => 0,
            };
            out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255])?;
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
        if self.mode != Mode::Members {
            // A member carries its own CRC (libdeflate's gzip writes it).
            self.crc.update(&input);
        }
        let (done, rx) = channel();
        let job = Job {
            mode: self.mode,
            input,
            last,
            done,
        };
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
    /// its own, then the content's blocks, cut on byte boundaries.
    pub fn splice(&mut self, p: &Packed) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.submit(false)?;
        }
        while !self.pending.is_empty() {
            self.drain_one()?;
        }
        let (crc, len) = (p.crc, p.sums.size);
        if self.mode == Mode::Members {
            // A member of its own: gzip header, the blocks, an empty final
            // block (BFINAL, fixed codes, end-of-block), CRC and size.
            self.out
                .write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])?;
            p.copy_to(&mut self.out)?;
            self.out.write_all(&[3, 0])?;
            self.out.write_all(&crc.to_le_bytes())?;
            self.out.write_all(&(len as u32).to_le_bytes())?;
        } else {
            p.copy_to(&mut self.out)?;
            self.crc.combine(&Crc::new_with_initial_len(crc, len));
        }
        self.len += len;
        Ok(())
    }

    /// Ends the input without a final block (the stream goes on elsewhere):
    /// the writer and the input's CRC-32. For `Mode::Raw`.
    pub fn finish_open(mut self) -> io::Result<(W, u32)> {
        debug_assert_eq!(self.mode, Mode::Raw);
        if !self.buf.is_empty() {
            self.submit(false)?;
        }
        self.end()
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
            self.out.write_all(&block)?;
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
