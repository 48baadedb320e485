use super::{list_tar, FileInfo, Inspection};
use crate::archive::mode::{S_IFLNK, S_IFMT};
use crate::error::{Error, IoContext, Result};
use std::io::Read;
use std::path::Path;

pub fn tar(path: &Path, r: &mut dyn Read) -> Result<Inspection> {
    let files = list_tar(path, r, |_, _| Ok(()))?;
    Ok(Inspection {
        format: "tar",
        fields: Default::default(),
        files,
        scripts: vec![],
        warnings: vec![],
    })
}

pub fn zip(path: &Path) -> Result<Inspection> {
    let bad = |e: zip::result::ZipError| Error::package(path, format!("bad zip: {e}"));
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).at(path)?).map_err(bad)?;
    let mut files = Vec::new();
    for i in 0..z.len() {
        let f = z.by_index_raw(i).map_err(bad)?;
        let mode = f
            .unix_mode()
            .unwrap_or(if f.is_dir() { 0o755 } else { 0o644 });
        let kind = if f.is_dir() {
            "dir"
        } else if mode & S_IFMT == S_IFLNK {
            "symlink"
        } else {
            "file"
        };
        files.push(FileInfo {
            path: f.name().map_err(bad)?.trim_end_matches('/').to_string(),
            kind,
            mode: format!("{:04o}", mode & 0o7777),
            owner: String::new(),
            group: String::new(),
            size: f.size(),
            link: None,
        });
    }
    Ok(Inspection {
        format: "zip",
        fields: Default::default(),
        files,
        scripts: vec![],
        warnings: vec![],
    })
}
