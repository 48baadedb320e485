//! Room for a snapshot, checked before anything is written.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::archive::Skip;
use super::walk::Walk;
use super::{backups_dir, open_data_dir, FREE_BYTES_ENV, SLACK};
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
    for d in &dirs {
        // Walked as the archive walks it: by descriptor, nothing followed.
        let Some(fd) = open_data_dir(d)? else {
            continue;
        };
        Walk::new(d, &skip, false).run(fd, &mut |e| {
            data += e.stat.blocks * 512;
            Ok(())
        })?;
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
