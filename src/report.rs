//! The library never prints: it reports through this trait and the binary
//! decides how (progress bar on a terminal, plain lines, JSON).

pub trait Report {
    /// A human-readable step, e.g. "wrote dist/x.deb".
    fn note(&self, msg: &str);
    /// Something the build will not do although the manifest asks for it.
    fn warn(&self, msg: &str) {
        self.note(&format!("warning: {msg}"));
    }
    /// `done` of `total` payload bytes have been written for `what`.
    fn progress(&self, _what: &str, _done: u64, _total: u64) {}
}

/// Discards everything; for tests and library callers that want silence.
pub struct Quiet;

impl Report for Quiet {
    fn note(&self, _msg: &str) {}
}
