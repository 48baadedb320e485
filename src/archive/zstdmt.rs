//! zstd on worker threads, with a frame end that does not depend on their
//! timing.
//!
//! zstd's multithreaded output is the same for any worker count but one
//! case: when a frame's input is a whole number of jobs, the last job may
//! or may not have gone to a worker before the end is asked for. If it had,
//! the frame ends in an empty block of its own (3 bytes more); if all the
//! job slots were busy, it ends in that job's last block. Which one happens
//! depends on how busy the workers were: a 1 GiB payload of 128 MiB files
//! built two different packages on alternate runs. Holding the last byte
//! written until `finish` makes the end the same every time: the last job
//! is always created by the call that ends the frame.

use std::io::{self, Write};
use zstd::zstd_safe::zstd_sys::ZSTD_EndDirective as End;
use zstd::zstd_safe::{self, CCtx, CParameter, InBuffer, OutBuffer};

/// The input of one job: fixed, so the output does not depend on the
/// machine (zstd's default is several windows per worker), and small enough
/// to bound memory.
const JOB: u32 = 2 << 20;

/// A zstd frame written by `threads` workers (at least one: the output is
/// the same for every worker count from one up).
pub struct Zstd<W: Write> {
    cctx: CCtx<'static>,
    w: W,
    out: Vec<u8>,
    /// The last byte written, not yet given to zstd.
    held: Option<u8>,
}

fn zerr(code: usize) -> io::Error {
    io::Error::other(format!("zstd: {}", zstd_safe::get_error_name(code)))
}

impl<W: Write> Zstd<W> {
    pub fn new(w: W, level: i32, threads: usize) -> io::Result<Self> {
        let mut cctx = CCtx::try_create().ok_or_else(|| io::Error::other("zstd: out of memory"))?;
        for p in [
            CParameter::CompressionLevel(level),
            CParameter::NbWorkers(threads.max(1) as u32),
            CParameter::JobSize(JOB),
        ] {
            cctx.set_parameter(p).map_err(zerr)?;
        }
        Ok(Zstd {
            cctx,
            w,
            out: Vec::with_capacity(CCtx::out_size()),
            held: None,
        })
    }

    /// Give zstd `input`, writing what it puts out: with `Continue` until
    /// it has taken all of it, with `End` until the frame is written.
    fn run(&mut self, input: &[u8], end: End) -> io::Result<()> {
        let mut input = InBuffer::around(input);
        loop {
            self.out.clear();
            let left = self
                .cctx
                .compress_stream2(&mut OutBuffer::around(&mut self.out), &mut input, end)
                .map_err(zerr)?;
            self.w.write_all(&self.out)?;
            let done = match end {
                End::ZSTD_e_end => left == 0,
                _ => input.pos == input.src.len(),
            };
            if done {
                return Ok(());
            }
        }
    }

    /// End the frame and hand back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        let held = self.held.take();
        self.run(held.as_slice(), End::ZSTD_e_end)?;
        Ok(self.w)
    }
}

impl<W: Write> Write for Zstd<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some((&last, rest)) = buf.split_last() else {
            return Ok(0);
        };
        if let Some(h) = self.held.take() {
            self.run(&[h], End::ZSTD_e_continue)?;
        }
        self.run(rest, End::ZSTD_e_continue)?;
        self.held = Some(last);
        Ok(buf.len())
    }

    /// Flushes the writer underneath only: where zstd ends a job must not
    /// depend on when a caller flushes. What zstd still holds comes out at
    /// `finish`.
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(len: usize) -> Vec<u8> {
        let mut x: u64 = 7;
        (0..len)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                b"abcdefgh"[(x >> 61) as usize]
            })
            .collect()
    }

    /// `data` written in `chunk`-byte writes, pausing `pause` ms after each.
    fn compress(data: &[u8], workers: usize, chunk: usize, pause: u64) -> Vec<u8> {
        let mut z = Zstd::new(Vec::new(), 3, workers).unwrap();
        for c in data.chunks(chunk) {
            z.write_all(c).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(pause));
        }
        z.finish().unwrap()
    }

    /// The kind of each block of a one-frame stream, and whether it is the
    /// last: (block type, size, last).
    fn blocks(frame: &[u8]) -> Vec<(u8, u32, bool)> {
        assert_eq!(frame[..4], [0x28, 0xb5, 0x2f, 0xfd]);
        let fhd = frame[4];
        let single = fhd & 0x20 != 0;
        let dict = [0, 1, 2, 4][usize::from(fhd & 3)];
        let fcs = [usize::from(single), 2, 4, 8][usize::from(fhd >> 6)];
        let mut i = 5 + usize::from(!single) + dict + fcs;
        let mut out = Vec::new();
        loop {
            let h = u32::from_le_bytes([frame[i], frame[i + 1], frame[i + 2], 0]);
            let (last, kind, size) = (h & 1 == 1, ((h >> 1) & 3) as u8, h >> 3);
            out.push((kind, size, last));
            i += 3 + if kind == 1 { 1 } else { size as usize };
            if last {
                assert_eq!(i, frame.len(), "one frame, no checksum");
                return out;
            }
        }
    }

    #[test]
    fn output_does_not_depend_on_worker_count_or_write_pattern() {
        let data = input(5 * JOB as usize + 12_345);
        let one = compress(&data, 1, data.len(), 0);
        assert_eq!(zstd::decode_all(&one[..]).unwrap(), data);
        assert_eq!(compress(&data, 4, 1 << 20, 0), one);
        assert_eq!(compress(&data, 2, 333_333, 0), one);
    }

    /// A whole number of jobs, written slowly (so each job goes to a worker
    /// as soon as it is full) and all at once (so the job slots are busy
    /// when the last one fills): the same frame, and it ends in its last
    /// job's data, not in an empty block that only the slow run would have.
    #[test]
    fn a_frame_of_whole_jobs_ends_the_same_however_busy_the_workers_are() {
        let data = input(6 * JOB as usize);
        let slow = compress(&data, 1, JOB as usize / 2, 40);
        let fast = compress(&data, 1, data.len(), 0);
        assert_eq!(slow, fast);
        let last = *blocks(&slow).last().unwrap();
        assert!(last.2 && last.1 > 0, "the frame ends in data: {last:?}");
        assert_eq!(zstd::decode_all(&slow[..]).unwrap(), data);
    }
}
