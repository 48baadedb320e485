//! The one counting and hashing writer (rpm-rs's `ChecksummingWriter` is the
//! model): every writer that needs a size or a digest of what passes through
//! it — a payload file's md5/sha1/sha256, a compressed stream's sha256 and
//! length — uses this, with only the digests it asks for.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// Which digests to compute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    pub md5: bool,
    pub sha1: bool,
    pub sha256: bool,
}

impl Want {
    pub const NONE: Want = Want {
        md5: false,
        sha1: false,
        sha256: false,
    };
    pub const SHA1: Want = Want {
        sha1: true,
        ..Want::NONE
    };
    pub const SHA256: Want = Want {
        sha256: true,
        ..Want::NONE
    };
    pub const MD5_SHA256: Want = Want {
        md5: true,
        sha256: true,
        ..Want::NONE
    };
}

/// What went through: its length and the digests asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub size: u64,
    pub md5: Option<[u8; 16]>,
    pub sha1: Option<[u8; 20]>,
    pub sha256: Option<[u8; 32]>,
}

/// Passes writes to `inner`, counting and hashing the bytes it accepted.
pub struct Digesting<W> {
    inner: W,
    size: u64,
    md5: Option<Md5>,
    sha1: Option<Sha1>,
    sha256: Option<Sha256>,
}

impl<W: Write> Digesting<W> {
    pub fn new(inner: W, want: Want) -> Self {
        Digesting {
            inner,
            size: 0,
            md5: want.md5.then(Md5::new),
            sha1: want.sha1.then(Sha1::new),
            sha256: want.sha256.then(Sha256::new),
        }
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    pub fn finish(self) -> (W, Sums) {
        let sums = Sums {
            size: self.size,
            md5: self.md5.map(|h| h.finalize().into()),
            sha1: self.sha1.map(|h| h.finalize().into()),
            sha256: self.sha256.map(|h| h.finalize().into()),
        };
        (self.inner, sums)
    }
}

/// Digests of bytes that go nowhere else (a file read only to hash it).
pub fn sink(want: Want) -> Digesting<io::Sink> {
    Digesting::new(io::sink(), want)
}

impl<W: Write> Write for Digesting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let done = &buf[..n];
        if let Some(h) = &mut self.md5 {
            h.update(done);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(done);
        }
        if let Some(h) = &mut self.sha256 {
            h.update(done);
        }
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_hashes_only_what_is_asked() {
        let mut d = Digesting::new(Vec::new(), Want::MD5_SHA256);
        d.write_all(b"hello ").unwrap();
        d.write_all(b"world").unwrap();
        let (out, s) = d.finish();
        assert_eq!(out, b"hello world");
        assert_eq!(s.size, 11);
        assert_eq!(
            hex::encode(s.md5.unwrap()),
            "5eb63bbbe01eeed093cb22bb8f5acdc3"
        );
        assert_eq!(
            hex::encode(s.sha256.unwrap()),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(s.sha1, None);
        let mut d = sink(Want::SHA1);
        d.write_all(b"hello world").unwrap();
        assert_eq!(
            hex::encode(d.finish().1.sha1.unwrap()),
            "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"
        );
    }
}
