//! The `ar` container of .deb files, as dpkg-deb writes it: common format,
//! names without a trailing slash, uid/gid 0, mode 100644.

use std::io::{self, Read, Seek, SeekFrom, Write};

pub struct ArWriter<W> {
    w: W,
    mtime: u64,
}

impl<W: Write> ArWriter<W> {
    pub fn new(mut w: W, mtime: u64) -> io::Result<Self> {
        w.write_all(b"!<arch>\n")?;
        Ok(ArWriter { w, mtime })
    }

    /// Append a member of exactly `size` bytes read from `data`. Generic,
    /// not `dyn`: a `&mut File` into a `BufWriter<&mut File>` then copies
    /// in the kernel (std's `io::copy` uses copy_file_range for them).
    pub fn append(&mut self, name: &str, size: u64, data: impl Read) -> io::Result<()> {
        assert!(
            name.len() <= 16 && name.is_ascii(),
            "ar member names are short ASCII"
        );
        self.header(name, size)?;
        let copied = io::copy(&mut data.take(size), &mut self.w)?;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("ar member {name} is shorter than {size} bytes"),
            ));
        }
        if size % 2 == 1 {
            self.w.write_all(b"\n")?;
        }
        Ok(())
    }

    fn header(&mut self, name: &str, size: u64) -> io::Result<()> {
        let header = format!(
            "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            name, self.mtime, 0, 0, "100644", size
        );
        debug_assert_eq!(header.len(), 60);
        self.w.write_all(header.as_bytes())
    }

    pub fn into_inner(self) -> W {
        self.w
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.w
    }
}

/// A member being streamed: where its header is.
pub struct Streamed {
    name: String,
    at: u64,
}

impl<W: Write + Seek> ArWriter<W> {
    /// Start a member whose size is not known yet: write its bytes to
    /// `get_mut()`, then `end` it, which fills the size in.
    pub fn begin(&mut self, name: &str) -> io::Result<Streamed> {
        let at = self.w.stream_position()?;
        self.header(name, 0)?;
        Ok(Streamed {
            name: name.to_string(),
            at,
        })
    }

    pub fn end(&mut self, m: Streamed) -> io::Result<()> {
        let end = self.w.stream_position()?;
        let size = end - m.at - 60;
        self.w.seek(SeekFrom::Start(m.at))?;
        self.header(&m.name, size)?;
        self.w.seek(SeekFrom::Start(end))?;
        if size % 2 == 1 {
            self.w.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// Visit every member of an ar archive in order, streaming each one's bytes
/// (GNU `name/` and BSD `#1/len` names both understood).
pub fn for_each_member(
    r: &mut dyn Read,
    f: &mut dyn FnMut(&str, &mut dyn Read) -> io::Result<()>,
) -> io::Result<()> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)?;
    if &magic != b"!<arch>\n" {
        return Err(bad("not an ar archive (no !<arch> magic)"));
    }
    loop {
        let mut h = [0u8; 60];
        let mut got = 0;
        while got < 60 {
            let n = r.read(&mut h[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        if got == 0 {
            return Ok(());
        }
        if got < 60 || &h[58..60] != b"`\n" {
            return Err(bad("corrupt ar member header"));
        }
        let field = |a: usize, b: usize| String::from_utf8_lossy(&h[a..b]).trim().to_string();
        let mut name = field(0, 16);
        let mut size: u64 = field(48, 58)
            .parse()
            .map_err(|_| bad("bad ar member size"))?;
        if let Some(len) = name.strip_prefix("#1/").and_then(|n| n.parse::<u64>().ok()) {
            let mut raw = vec![0u8; len as usize];
            r.read_exact(&mut raw)?;
            name = String::from_utf8_lossy(&raw)
                .trim_end_matches('\0')
                .to_string();
            size = size.saturating_sub(len);
        }
        let name = name.trim_end_matches('/').to_string();
        let mut body = r.take(size);
        f(&name, &mut body)?;
        // Skip whatever the visitor did not read, then the padding byte.
        io::copy(&mut body, &mut io::sink())?;
        if body.limit() > 0 {
            return Err(bad("truncated ar member"));
        }
        if (field(48, 58).parse::<u64>().unwrap_or(0)) % 2 == 1 {
            let mut pad = [0u8; 1];
            let _ = r.read(&mut pad)?;
        }
    }
}
