//! The shared archive plumbing: tar streams, ar, compression and hashing.
//! Writers compose these; none re-implements a header.

pub mod ar;
pub mod compress;
pub mod cpio;
pub mod deflate;
pub mod digest;
pub mod md5lane;
pub mod packed;
pub mod pgzip;
pub mod pkzip;
pub mod tar;
pub mod zstdmt;

pub use compress::Compression;

/// The file-type bits of a Unix mode, as cpio, zip and tar headers carry
/// them (`S_IFMT` and its kinds).
pub mod mode {
    pub const S_IFMT: u32 = 0o170000;
    pub const S_IFREG: u32 = 0o100000;
    pub const S_IFDIR: u32 = 0o040000;
    pub const S_IFLNK: u32 = 0o120000;
}

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
