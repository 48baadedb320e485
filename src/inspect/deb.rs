use super::{list_tar, read_bounded, FileInfo, Inspection, ScriptInfo};
use crate::archive::ar;
use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

const SCRIPTS: &[&str] = &[
    "preinst", "postinst", "prerm", "postrm", "config", "triggers",
];

pub fn inspect(path: &Path, r: &mut dyn Read) -> Result<Inspection> {
    let mut control = String::new();
    let mut scripts = Vec::new();
    let mut files: Vec<FileInfo> = Vec::new();
    let mut members = Vec::new();
    let mut failure = None;
    let mut warnings = Vec::new();
    ar::for_each_member(r, &mut |name, body| {
        members.push(name.to_string());
        let res = if name.starts_with("control.tar") {
            list_tar(path, body, |p, data| {
                if p == "control" {
                    control = read_bounded(data, p, &mut warnings);
                } else if SCRIPTS.contains(&p) {
                    let text = read_bounded(data, p, &mut warnings);
                    scripts.push(ScriptInfo {
                        name: p.to_string(),
                        text,
                    });
                }
                Ok(())
            })
            .map(|_| ())
        } else if name.starts_with("data.tar") {
            list_tar(path, body, |_, _| Ok(())).map(|f| files = f)
        } else {
            Ok(())
        };
        if let Err(e) = res {
            failure.get_or_insert(e);
        }
        Ok(())
    })
    .map_err(|e| Error::package(path, format!("bad .deb: {e}")))?;
    if let Some(e) = failure {
        return Err(e);
    }
    if members.first().map(String::as_str) != Some("debian-binary") || control.is_empty() {
        return Err(Error::package(
            path,
            format!("not a .deb: members are {members:?}"),
        ));
    }
    for f in &mut files {
        f.path = format!("/{}", f.path);
    }
    Ok(Inspection {
        format: "deb",
        fields: parse_control(&control),
        files,
        scripts,
        warnings,
    })
}

/// RFC 822-style fields; continuation lines kept with their newlines.
pub fn parse_control(text: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(k) = &last {
                if let Some(serde_json::Value::String(v)) = out.get_mut(k) {
                    v.push('\n');
                    v.push_str(line);
                }
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.insert(k.to_string(), v.trim().to_string().into());
            last = Some(k.to_string());
        }
    }
    out
}
