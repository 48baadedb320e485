//! What the writers of one build share: each large payload file compressed
//! once per codec and level (`archive::packed`), with every digest the
//! build's formats ask for taken from that same read. The first writer to
//! need a content compresses it; the others wait for it and copy the bytes.
//! A zstd content that only one writer of the build takes is digested here
//! and compressed where that writer places it (`Packed::later`): the same
//! frame, without the copy out of a spool.

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
    /// Codecs only one writer of the build takes.
    once: Vec<Codec>,
    threads: usize,
    spools: Mutex<HashMap<Codec, Spool>>,
    filled: Mutex<HashMap<Key, Arc<OnceLock<Filled>>>>,
}

impl Shared {
    /// Spools go in `dir` (the output directory: same disk as the artifacts,
    /// anonymous files gone when the build ends); `needs`: what the build's
    /// formats need of a payload file besides its compressed bytes; `once`:
    /// the codecs only one writer takes.
    pub fn new(dir: &Path, needs: Needs, once: Vec<Codec>, threads: usize) -> Shared {
        Shared {
            dir: dir.to_path_buf(),
            needs,
            once,
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
            let p = match self.later(codec) {
                true => File::open(path).and_then(|mut data| {
                    Packed::later(codec, self.threads, &mut data, *size, self.needs.sums)
                }),
                false => self.fill(path, *size, codec),
            };
            p.map(Arc::new).map_err(|e| (e.kind(), e.to_string()))
        });
        match filled {
            Ok(p) => Ok(Some(Arc::clone(p))),
            Err((kind, msg)) => Err(Error::io(path, io::Error::new(*kind, msg.clone()))),
        }
    }

    /// `packed` for each of `srcs`, in order. Contents digested now and
    /// compressed later are read one file per core (a spool fill uses
    /// every core on its own).
    pub fn packed_all(
        &self,
        srcs: &[Option<&Source>],
        codec: Option<Codec>,
    ) -> Result<Vec<Option<Arc<Packed>>>> {
        let workers = match codec.is_some_and(|c| self.later(c)) {
            true => self.threads,
            false => 1,
        };
        on_cores(srcs, workers, |src| match src {
            Some(src) => self.packed(src, codec),
            None => Ok(None),
        })
    }

    /// Whether contents of `codec` are compressed where they are placed:
    /// zstd (whose contents are whole frames) that only one writer takes.
    fn later(&self, codec: Codec) -> bool {
        matches!(codec, Codec::Zstd(_)) && self.once.contains(&codec)
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
        let (p, len) = packed::fill(file, *end, codec, self.threads, &mut data, size, self.needs)?;
        *end += len;
        Ok(p)
    }
}

/// `f` of each item, in order, run on `workers` threads taking items in
/// turn. The first error in item order wins (whatever the timing).
pub(in crate::format) fn on_cores<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    if workers <= 1 || items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicUsize::new(usize::MAX);
    let out: Mutex<Vec<Option<Result<R>>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers.min(items.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                // Past an error nothing later is needed.
                if i >= items.len() || i > stop.load(Ordering::Relaxed) {
                    return;
                }
                let r = f(&items[i]);
                if r.is_err() {
                    stop.fetch_min(i, Ordering::Relaxed);
                }
                out.lock().expect("no worker panics")[i] = Some(r);
            });
        }
    });
    let mut v = Vec::with_capacity(items.len());
    for r in out.into_inner().expect("no worker panics") {
        // Items after the first error may not have run: the error returns first.
        v.push(r.expect("every item before the first error ran")?);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_on_every_core_keeps_item_order_and_reports_the_first_failed_item() {
        let items: Vec<u64> = (0..40).collect();
        let twice = on_cores(&items, 4, |&i| Ok(i * 2)).unwrap();
        assert_eq!(twice, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        // Item 3 fails last in time but first in order: its error is the one
        // reported, on every run.
        let e = on_cores(&items, 4, |&i| {
            if i == 3 {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            match i % 7 == 3 {
                true => Err(Error::io(format!("item {i}"), io::Error::other("bad"))),
                false => Ok(i),
            }
        })
        .unwrap_err();
        assert!(e.to_string().contains("item 3"), "{e}");
    }
}
