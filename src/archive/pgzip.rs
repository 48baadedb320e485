//! Parallel gzip, the pigz way: the input is cut into fixed blocks, each
//! deflated on a worker with the previous block's last 32 KiB as dictionary
//! and ended with a sync flush, and the results are written in order. The
//! output depends only on the input, level and block size — never on the
//! number of threads — so builds stay byte-identical on any machine.
//! Memory is bounded by the blocks in flight (2 per thread).

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const BLOCK: usize = 1 << 20;
const DICT: usize = 32 * 1024;

struct Job {
    input: Vec<u8>,
    dict: Vec<u8>,
    last: bool,
    done: Sender<io::Result<Vec<u8>>>,
}

pub struct ParGzip<W: Write> {
    out: W,
    buf: Vec<u8>,
    dict: Vec<u8>,
    crc: Crc,
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    pending: VecDeque<Receiver<io::Result<Vec<u8>>>>,
    max_pending: usize,
}

fn deflate(level: u32, job: &Job) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(Compression::new(level), false);
    if !job.dict.is_empty() {
        c.set_dictionary(&job.dict).map_err(io::Error::other)?;
    }
    let mut out = Vec::with_capacity(job.input.len() / 2 + 1024);
    let flush = if job.last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        let consumed = c.total_in() as usize;
        out.reserve(64 * 1024);
        let status = c
            .compress_vec(&job.input[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let all_in = c.total_in() as usize == job.input.len();
        match status {
            Status::StreamEnd => break,
            // A sync flush is complete once all input is in and there is
            // spare room left in the output buffer.
            _ if !job.last && all_in && out.len() < out.capacity() => break,
            _ => {}
        }
    }
    Ok(out)
}

impl<W: Write> ParGzip<W> {
    pub fn new(mut out: W, level: u32, threads: usize) -> io::Result<Self> {
        let level = level.min(9);
        let xfl = match level {
            9 => 2,
            0 | 1 => 4,
            _ => 0,
        };
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255])?;
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
                    let _ = job.done.send(deflate(level, &job));
                })
            })
            .collect();
        Ok(ParGzip {
            out,
            buf: Vec::with_capacity(BLOCK),
            dict: Vec::new(),
            crc: Crc::new(),
            jobs: Some(tx),
            workers,
            pending: VecDeque::new(),
            max_pending: 2 * threads,
        })
    }

    fn submit(&mut self, last: bool) -> io::Result<()> {
        let input = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK));
        self.crc.update(&input);
        let dict = std::mem::take(&mut self.dict);
        self.dict = input[input.len().saturating_sub(DICT)..].to_vec();
        let (done, rx) = channel();
        let job = Job {
            input,
            dict,
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

    fn drain_one(&mut self) -> io::Result<()> {
        if let Some(rx) = self.pending.pop_front() {
            let block = rx
                .recv()
                .map_err(|_| io::Error::other("gzip worker died"))??;
            self.out.write_all(&block)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.submit(true)?;
        while !self.pending.is_empty() {
            self.drain_one()?;
        }
        let (crc, len) = (self.crc.sum(), self.crc.amount());
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        Ok(self.out)
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

    fn gz(input: &[u8], threads: usize, level: u32) -> Vec<u8> {
        let mut w = ParGzip::new(Vec::new(), level, threads).unwrap();
        for chunk in input.chunks(70_000) {
            w.write_all(chunk).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn round_trips_and_ignores_thread_count() {
        let input = data();
        for level in [1, 6, 9] {
            let one = gz(&input, 1, level);
            assert_eq!(
                one,
                gz(&input, 4, level),
                "level {level}: output must not depend on threads"
            );
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&one[..])
                .read_to_end(&mut back)
                .unwrap();
            assert!(back == input, "level {level} round trip");
            assert!(one.len() < input.len(), "level {level} compresses");
        }
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz(b"", 2, 6)[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(back.is_empty());
    }
}
