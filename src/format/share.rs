//! What the writers of one build share: each large payload file compressed
//! once per codec and level (`archive::packed`), with every digest the
//! build's formats ask for taken from that same read. The first writer to
//! need a content compresses it; the others wait for it and copy the bytes.

use crate::archive::packed::{self, Codec, Needs, Packed, ALONE};
use crate::error::{Error, Result};
use crate::plan::Source;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

type Key = (PathBuf, u64, Codec);
/// A failed fill, kept so every writer that waited reports it.
type Filled = std::result::Result<Arc<Packed>, (io::ErrorKind, String)>;

/// A spool file of one codec's contents and where its next one goes.
type Spool = Arc<Mutex<Option<(Arc<File>, u64)>>>;

pub struct Shared {
    dir: PathBuf,
    needs: Needs,
    threads: usize,
    spools: Mutex<HashMap<Codec, Spool>>,
    filled: Mutex<HashMap<Key, Arc<OnceLock<Filled>>>>,
}

impl Shared {
    /// Spools go in `dir` (the output directory: same disk as the artifacts,
    /// anonymous files gone when the build ends); `needs`: what the build's
    /// formats need of a payload file besides its compressed bytes.
    pub fn new(dir: &Path, needs: Needs, threads: usize) -> Shared {
        Shared {
            dir: dir.to_path_buf(),
            needs,
            threads,
            spools: Mutex::new(HashMap::new()),
            filled: Mutex::new(HashMap::new()),
        }
    }

    /// `src`'s content compressed alone with `codec`, if the stream has a
    /// shareable codec and the content is large enough to be compressed
    /// alone (every build decides the same way, so no artifact's bytes
    /// depend on the others built beside it).
    pub fn packed(&self, src: &Source, codec: Option<Codec>) -> Result<Option<Arc<Packed>>> {
        let (Some(codec), Source::Path { path, size }) = (codec, src) else {
            return Ok(None);
        };
        if *size <= ALONE {
            return Ok(None);
        }
        let cell = {
            let mut map = self.filled.lock().expect("no writer panics");
            Arc::clone(map.entry((path.clone(), *size, codec)).or_default())
        };
        let filled = cell.get_or_init(|| {
            self.fill(path, *size, codec)
                .map(Arc::new)
                .map_err(|e| (e.kind(), e.to_string()))
        });
        match filled {
            Ok(p) => Ok(Some(Arc::clone(p))),
            Err((kind, msg)) => Err(Error::io(path, io::Error::new(*kind, msg.clone()))),
        }
    }

    fn fill(&self, path: &Path, size: u64, codec: Codec) -> io::Result<Packed> {
        let spool = {
            let mut map = self.spools.lock().expect("no writer panics");
            Arc::clone(map.entry(codec).or_default())
        };
        // One fill at a time per codec: the spool grows at its end, and the
        // fill uses every core anyway.
        let mut spool = spool.lock().expect("no writer panics");
        let (file, end) = match &mut *spool {
            Some(s) => s,
            None => {
                let f = tempfile::tempfile_in(&self.dir).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("a spool file in {}: {e}", self.dir.display()),
                    )
                })?;
                spool.insert((Arc::new(f), 0))
            }
        };
        let mut data = File::open(path)?;
        let p = packed::fill(file, *end, codec, self.threads, &mut data, size, self.needs)?;
        *end += p.len;
        Ok(p)
    }
}
