// Shared by every target: the input is split at 0xFF bytes into base, live
// and new default, read as the hook reads files (UTF-8 without NUL, or the
// lossy text when that refuses, so the engines still see it). Then what
// `check` does (the version key) and what `update` does (the three-way
// merge), with the input limits in place: the engine must return (Ok or
// Err), never panic, and stay within libFuzzer's -rss_limit_mb/-timeout.
use packwright_hook::merge::{limit, ConfigSyntax, Src};
use std::path::Path;

fn text(part: &[u8]) -> String {
    limit::decode(part.to_vec()).unwrap_or_else(|_| String::from_utf8_lossy(part).into_owned())
}

pub fn run(format: ConfigSyntax, data: &[u8]) {
    let mut parts = data.splitn(3, |b| *b == 0xff).map(text);
    let base = parts.next().unwrap_or_default();
    let ours = parts.next().unwrap_or_default();
    let theirs = parts.next().unwrap_or_default();
    let p = Path::new("fuzz");
    let e = format.engine();
    let src = |text| Src { path: p, text };
    // check
    let _ = e.value(src(&ours), "version");
    let _ = e.value(src(&ours), "a.b");
    // update
    if let Ok(m) = e.merge(src(&base), src(&ours), src(&theirs), Some("version")) {
        // What update writes is read again by the next check.
        let _ = e.value(src(&m.text), "version");
    }
}
