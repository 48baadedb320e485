// Shared by every target: the input is split at 0xFF bytes into base, live
// and new default; the engine must return (Ok or Err) and never panic.
use packwright_hook::merge::{Format, Src};
use std::path::Path;

pub fn run(format: Format, data: &[u8]) {
    let mut parts = data
        .splitn(3, |b| *b == 0xff)
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let base = parts.next().unwrap_or_default();
    let ours = parts.next().unwrap_or_default();
    let theirs = parts.next().unwrap_or_default();
    let p = Path::new("fuzz");
    let e = format.engine();
    let src = |text| Src { path: p, text };
    let _ = e.merge(src(&base), src(&ours), src(&theirs), Some("version"));
    let _ = e.value(src(&ours), "a.b");
}
