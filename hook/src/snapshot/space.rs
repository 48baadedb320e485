//! Room for a snapshot, checked before anything is written.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::archive::{walk, walk_err, Skip, Tree};
use super::{backups_dir, FREE_BYTES_ENV, SLACK};
use crate::error::{HookError, Result};
use crate::site::Site;

/// Refuse before writing anything when the filesystem holding `backups/`
/// has less than the data dirs' allocated size plus 16 MiB free.
pub fn check_space(site: &Site) -> Result<()> {
    let dirs = site.data_dirs();
    if dirs.is_empty() {
        return Ok(());
    }
    let skip = Skip::new(site);
    let mut data = 0u64;
    for d in dirs.iter().filter(|d| d.is_dir()) {
        let tree = Tree { open: d, dir: d };
        for e in walk(tree, &skip) {
            let e = e.map_err(|e| walk_err(tree, e))?;
            data += e.metadata().map_err(|e| walk_err(tree, e))?.blocks() * 512;
        }
    }
    let backups = backups_dir(site);
    let probe = backups
        .ancestors()
        .find(|a| a.exists())
        .unwrap_or(Path::new("/"));
    let free = match std::env::var(FREE_BYTES_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) => n,
        None => free_bytes(probe)?,
    };
    let need = data + SLACK;
    if free < need {
        return Err(HookError::NoSpace {
            path: probe.into(),
            free,
            need,
            data,
        });
    }
    Ok(())
}

fn free_bytes(p: &Path) -> Result<u64> {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes())
        .map_err(|_| HookError::invalid(p, "path holds a NUL byte"))?;
    crate::sys::free_bytes(&c).map_err(|e| HookError::io(p, e))
}
