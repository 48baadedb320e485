//! The one counting and hashing writer (rpm-rs's `ChecksummingWriter` is the
//! model): every writer that needs a size or a digest of what passes through
//! it — a payload file's md5/sha1/sha256, a compressed stream's sha256 and
//! length — uses this, with only the digests it asks for.

use super::packed::{Codec, Packed, Splice};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};

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
    pub const MD5: Want = Want {
        md5: true,
        ..Want::NONE
    };
    pub const SHA1: Want = Want {
        sha1: true,
        ..Want::NONE
    };
    pub const SHA256: Want = Want {
        sha256: true,
        ..Want::NONE
    };
    /// Both sets of digests.
    pub fn and(self, o: Want) -> Want {
        Want {
            md5: self.md5 || o.md5,
            sha1: self.sha1 || o.sha1,
            sha256: self.sha256 || o.sha256,
        }
    }

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

    fn hashers(&mut self) -> Hashers<'_> {
        Hashers {
            md5: &mut self.md5,
            sha1: &mut self.sha1,
            sha256: &mut self.sha256,
        }
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

impl Digesting<io::Sink> {
    /// Count and hash `b` (hashing alone cannot fail).
    pub fn update(&mut self, b: &[u8]) {
        self.hashers().update(b);
        self.size += b.len() as u64;
    }

    /// Count and hash exactly `size` bytes of `raw`: their CRC-32, or an
    /// error if `raw` has more or fewer.
    pub fn read_from(&mut self, raw: &mut dyn Read, size: u64) -> io::Result<u32> {
        let crc = self.hashers().read(raw, size)?;
        self.size += size;
        Ok(crc)
    }
}

/// Digests of bytes that go nowhere else (a file read only to hash it).
pub fn sink(want: Want) -> Digesting<io::Sink> {
    Digesting::new(io::sink(), want)
}

/// The hashers of a `Digesting`, apart from its writer.
struct Hashers<'a> {
    md5: &'a mut Option<Md5>,
    sha1: &'a mut Option<Sha1>,
    sha256: &'a mut Option<Sha256>,
}

impl Hashers<'_> {
    fn update(&mut self, done: &[u8]) {
        if let Some(h) = self.md5 {
            h.update(done);
        }
        if let Some(h) = self.sha1 {
            h.update(done);
        }
        if let Some(h) = self.sha256 {
            h.update(done);
        }
    }

    /// Hash exactly `size` bytes of `raw`; their CRC-32, or an error if
    /// there are more or fewer.
    fn read(&mut self, raw: &mut dyn Read, size: u64) -> io::Result<u32> {
        let (mut buf, mut crc, mut n) = (vec![0u8; 1 << 20], crc32fast::Hasher::new(), 0);
        let mut r = raw.take(size + 1);
        loop {
            let k = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            crc.update(&buf[..k]);
            self.update(&buf[..k]);
            n += k as u64;
        }
        if n != size {
            return Err(changed());
        }
        Ok(crc.finalize())
    }
}

/// A content whose second read is not what its first read found.
pub fn changed() -> io::Error {
    io::Error::other("the file changed while it was packed; build again")
}

/// Over a compressor, a digest is of the raw stream: a spliced content's
/// raw bytes are read again for it (while the compressed bytes are copied,
/// on another core), and must be the ones compressed. A content compressed
/// as it is placed is hashed on the read that feeds the compressor.
impl<W: Splice + Send> Splice for Digesting<W> {
    fn codec(&self) -> Option<Codec> {
        self.inner.codec()
    }

    fn splice(&mut self, p: &Packed, raw: &mut dyn Read) -> io::Result<()> {
        let Digesting {
            inner,
            size,
            md5,
            sha1,
            sha256,
        } = self;
        let mut h = Hashers { md5, sha1, sha256 };
        if p.reads_raw() {
            let mut tap = super::Tap {
                inner: raw,
                f: |b: &[u8]| h.update(b),
            };
            inner.splice(p, &mut tap)?;
            *size += p.sums.size;
            return Ok(());
        }
        let hashing = h.md5.is_some() || h.sha1.is_some() || h.sha256.is_some();
        let (copied, crc) = std::thread::scope(|s| {
            let copy = s.spawn(|| inner.splice(p, &mut io::empty()));
            let crc = match hashing {
                true => h.read(raw, p.sums.size).map(Some),
                false => Ok(None),
            };
            (copy.join().expect("a splice does not panic"), crc)
        });
        copied?;
        if matches!(crc?, Some(c) if c != p.crc) {
            return Err(changed());
        }
        *size += p.sums.size;
        Ok(())
    }
}

impl<W: Write> Write for Digesting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hashers().update(&buf[..n]);
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
