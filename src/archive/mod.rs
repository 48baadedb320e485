//! The shared archive plumbing: tar streams, ar, compression and hashing.
//! Writers compose these; none re-implements a header.

pub mod ar;
pub mod compress;
pub mod cpio;
pub mod pgzip;
pub mod tar;

pub use compress::Compression;

use std::io::{self, Read, Write};

/// Counts bytes passing through a writer (sizes of compressed members).
pub struct Counter<W> {
    pub inner: W,
    pub count: u64,
}

impl<W: Write> Counter<W> {
    pub fn new(inner: W) -> Self {
        Counter { inner, count: 0 }
    }
}

impl<W: Write> Write for Counter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Calls `f` on every chunk read through it (hashing while streaming).
pub struct Tap<R, F> {
    pub inner: R,
    pub f: F,
}

impl<R: Read, F: FnMut(&[u8])> Read for Tap<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.f)(&buf[..n]);
        Ok(n)
    }
}
