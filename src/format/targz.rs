//! .tar.gz: one `<name>-<version>/` folder, unix modes kept.

use crate::archive::packed::Splice;
use crate::archive::Compression;
use crate::archive::{compress::Encoder, tar::TarOut};
use crate::error::{IoContext, Result};
use crate::plan::Package;
use std::io::{BufWriter, Write};

pub fn write(pkg: &Package, out: super::Out) -> Result<()> {
    let name = pkg.meta.portable_stem();
    let level = pkg.options.level.or(Some(9));
    let enc = Encoder::new(Compression::Gzip, level, BufWriter::new(&mut *out.file)).at(&name)?;
    let mut tar = TarOut::new(enc);
    let total: u64 = pkg.tree.iter().map(|e| e.size()).sum();
    let mut done = 0;
    for e in &pkg.tree {
        let path = if e.is_dir() {
            format!("{}/", e.path)
        } else {
            e.path.clone()
        };
        let packed = super::packed_for(out.shared, tar.get_ref().codec(), e)?;
        let p = packed.as_deref();
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
