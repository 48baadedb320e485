//! The shared archive plumbing: tar streams, ar, compression and hashing.
//! Writers compose these; none re-implements a header.

pub mod ar;
pub mod compress;
pub mod cpio;
pub mod deflate;
pub mod digest;
pub mod packed;
pub mod pgzip;
pub mod pkzip;
pub mod tar;

pub use compress::Compression;

use std::io::{self, Read};

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
