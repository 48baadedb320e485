//! What the writers of one build share: each large payload file compressed
//! once per codec and level (`archive::packed`), with every digest the
//! build's formats ask for taken from that same read. The first writer to
//! need a content compresses it; the others wait for it and copy the bytes.
//! A zstd content that only one writer of the build takes is digested here
//! and compressed where that writer places it (`Packed::later`): the same
//! frame, without the copy out of a spool.
//!
//! A content's digests are the same whatever the codec: the first read of
//! it takes them, and a read for another codec takes only the CRC-32, which
//! must match the first (else the file changed between the two reads).

use crate::archive::digest::{self, Sums, Want};
use crate::archive::md5lane;
use crate::archive::packed::{self, Codec, Needs, Packed, ALONE};
use crate::error::{Error, Result};
use crate::plan::Source;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

type Key = (PathBuf, u64, Codec);
/// A content's digests and CRC-32, from the first read of it.
type Digested = HashMap<(PathBuf, u64), (Sums, u32)>;
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
    digested: Mutex<Digested>,
    /// Held while a writer digests side by side: a writer that comes
    /// meanwhile waits, then finds the contents digested.
    digesting: Mutex<()>,
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
            digested: Mutex::new(HashMap::new()),
            digesting: Mutex::new(()),
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
            self.pack(path, *size, codec)
                .map(Arc::new)
                .map_err(|e| (e.kind(), e.to_string()))
        });
        match filled {
            Ok(p) => Ok(Some(Arc::clone(p))),
            Err((kind, msg)) => Err(Error::io(path, io::Error::new(*kind, msg.clone()))),
        }
    }

    /// `packed` for each of `srcs`, in order. When md5 is wanted, the
    /// large contents are digested first, side by side (`md5lane`): one
    /// md5 is a chain of dependent steps, and taken while the content is
    /// read for its compressor it also holds up that read. Contents
    /// digested now and compressed later are then read one file per core
    /// (a spool fill uses every core on its own).
    pub fn packed_all(
        &self,
        srcs: &[Option<&Source>],
        codec: Option<Codec>,
    ) -> Result<Vec<Option<Arc<Packed>>>> {
        let later = codec.is_some_and(|c| self.later(c));
        if codec.is_some() && self.needs.sums.md5 {
            self.digest_side_by_side(srcs);
        }
        let workers = match later {
            true => self.threads,
            false => 1,
        };
        on_cores(srcs, workers, |src| match src {
            Some(src) => self.packed(src, codec),
            None => Ok(None),
        })
    }

    /// Take the digests of the large files among `srcs` not digested yet,
    /// a group per core, each group's files read side by side so that
    /// their md5s share SIMD lanes (`md5lane`). A file that fails here is
    /// read again where it is packed, which reports the error.
    fn digest_side_by_side(&self, srcs: &[Option<&Source>]) {
        let _one = self.digesting.lock().expect("no writer panics");
        let mut todo: Vec<(PathBuf, u64)> = Vec::new();
        {
            let known = self.digested.lock().expect("no writer panics");
            for src in srcs.iter().flatten() {
                if let Source::Path { path, size } = src {
                    let key = (path.clone(), *size);
                    if *size > ALONE && !known.contains_key(&key) {
                        todo.push(key);
                    }
                }
            }
        }
        // Largest first into the lightest group, so the cores end together;
        // a content two sources name is read once.
        todo.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        todo.dedup();
        let mut groups = vec![(0u64, Vec::new()); self.threads.min(todo.len())];
        for t in todo {
            let g = groups.iter_mut().min_by_key(|g| g.0).expect("a group");
            g.0 += t.1;
            g.1.push(t);
        }
        std::thread::scope(|s| {
            for (_, group) in groups {
                s.spawn(move || self.digest_group(group));
            }
        });
    }

    fn digest_group(&self, group: Vec<(PathBuf, u64)>) {
        let mut opened = Vec::new();
        let mut raws: Vec<(Box<dyn io::Read + Send>, u64)> = Vec::new();
        for (path, size) in group {
            if let Ok(f) = File::open(&path) {
                raws.push((Box::new(f), size));
                opened.push((path, size));
            }
        }
        let sums = md5lane::sums(raws, self.needs.sums);
        let mut map = self.digested.lock().expect("no writer panics");
        for (key, r) in opened.into_iter().zip(sums) {
            if let Ok(s) = r {
                map.entry(key).or_insert(s);
            }
        }
    }

    /// `path`'s content for `codec`, with the digests of its first read
    /// (whichever codec that was for).
    fn pack(&self, path: &Path, size: u64, codec: Codec) -> io::Result<Packed> {
        let key = (path.to_path_buf(), size);
        let known = self
            .digested
            .lock()
            .expect("no writer panics")
            .get(&key)
            .copied();
        let want = match known {
            Some(_) => Want::NONE,
            None => self.needs.sums,
        };
        let mut p = match (self.later(codec), known) {
            // Its compression checks the CRC-32 of what it reads.
            (true, Some((sums, crc))) => Packed::later_known(codec, self.threads, sums, crc),
            (true, None) => Packed::later(codec, self.threads, &mut File::open(path)?, size, want)?,
            (false, _) => self.fill(path, size, codec, want)?,
        };
        match known {
            Some((_, crc)) if crc != p.crc => return Err(digest::changed()),
            Some((sums, _)) => p.sums = sums,
            None => {
                let mut map = self.digested.lock().expect("no writer panics");
                map.entry(key).or_insert((p.sums, p.crc));
            }
        }
        Ok(p)
    }

    /// Whether contents of `codec` are compressed where they are placed:
    /// only one writer takes them, and it can (the pipeline decides).
    fn later(&self, codec: Codec) -> bool {
        self.once.contains(&codec)
    }

    fn fill(&self, path: &Path, size: u64, codec: Codec, sums: Want) -> io::Result<Packed> {
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
        let needs = Needs { sums, ..self.needs };
        let (p, len) = packed::fill(file, *end, codec, self.threads, &mut data, size, needs)?;
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

    /// A content read for a second codec takes its digests from the first
    /// read: the same digests, and a refusal if the file changed between.
    #[test]
    fn a_second_codec_reuses_the_first_reads_digests_and_refuses_a_changed_file() {
        use md5::{Digest, Md5};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        let content: Vec<u8> = (0..3u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let src = Source::Path {
            path: path.clone(),
            size: content.len() as u64,
        };
        let needs = Needs {
            sums: Want::MD5,
            cuts: false,
        };
        let (zstd, deflate) = (Codec::Zstd(3), Codec::Deflate(6));
        let md5: [u8; 16] = Md5::digest(&content).into();
        let shared = Shared::new(dir.path(), needs, Vec::new(), 2);
        let z = shared.packed(&src, Some(zstd)).unwrap().unwrap();
        let d = shared.packed(&src, Some(deflate)).unwrap().unwrap();
        assert_eq!((z.sums.md5, d.sums.md5), (Some(md5), Some(md5)));
        assert_eq!((d.sums.size, d.crc), (z.sums.size, z.crc));
        // A zstd content compressed later (one zstd writer) is checked as
        // it is placed; a deflate one as it is filled.
        for once in [Vec::new(), vec![zstd]] {
            let shared = Shared::new(dir.path(), needs, once, 2);
            std::fs::write(&path, &content).unwrap();
            let z = shared.packed(&src, Some(zstd)).unwrap().unwrap();
            let changed: Vec<u8> = content.iter().map(|b| b ^ 1).collect();
            std::fs::write(&path, &changed).unwrap();
            let e = shared.packed(&src, Some(deflate)).unwrap_err();
            assert!(e.to_string().contains("changed while it was packed"), "{e}");
            assert!(e.to_string().contains("blob"), "{e}");
            if z.reads_raw() {
                let mut out = Vec::new();
                let e = z.place(&mut out, &mut &changed[..]).unwrap_err();
                assert!(e.to_string().contains("changed while it was packed"), "{e}");
            }
        }
    }

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
