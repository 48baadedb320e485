//! .tar.gz: one `<name>-<version>/` folder, unix modes kept.

use crate::archive::packed::{Codec, Splice};
use crate::archive::Compression;
use crate::archive::{compress::Encoder, tar::TarOut};
use crate::error::{IoContext, Result};
use crate::plan::Package;
use std::io::{BufWriter, Write};

/// The gzip level: the build's, 9 unless set.
fn level(pkg: &Package) -> u32 {
    pkg.options.level.unwrap_or(9).clamp(0, 9) as u32
}

pub fn codec(pkg: &Package) -> Codec {
    Codec::Deflate(level(pkg))
}

pub fn write(pkg: &Package, out: super::Out) -> Result<()> {
    let name = pkg.meta.portable_stem();
    let (file, level) = (BufWriter::new(&mut *out.file), Some(level(pkg) as i32));
    let enc = Encoder::new(Compression::Gzip, level, file).at(&name)?;
    let mut tar = TarOut::new(enc);
    let total: u64 = pkg.tree.iter().map(|e| e.size()).sum();
    let mut done = 0;
    let packed = super::packed_all(out.shared, tar.get_ref().codec(), &pkg.tree)?;
    for (e, p) in pkg.tree.iter().zip(packed) {
        let path = if e.is_dir() {
            format!("{}/", e.path)
        } else {
            e.path.clone()
        };
        let p = p.as_deref();
        super::append_entry(&mut tar, e, &path, pkg.meta.mtime, &[], p, &mut |_| {})?;
        done += e.size();
        out.report.progress("tar.gz", done, total);
    }
    tar.finish()
        .and_then(Encoder::finish)
        .and_then(|mut w| w.flush())
        .at(&name)?;
    Ok(())
}
