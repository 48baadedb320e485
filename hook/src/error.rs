//! Errors of the hook. Each variant names the file (and key, line, column
//! where there is one) so the one-line message is enough to act on.

use std::path::PathBuf;

pub type Result<T, E = HookError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The live (or default) file does not parse; it is never rewritten.
    #[error("{}:{line}:{col}: {msg}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        col: usize,
        msg: String,
    },
    /// The message already holds the cause; no `source()`, so a printer
    /// that walks the chain does not say it twice.
    #[error("{}: {}", path.display(), io_text(err))]
    Io { path: PathBuf, err: std::io::Error },
    /// A file larger than the hook reads (a hostile or runaway config).
    #[error("{}: larger than {} MiB, the most packwright-hook reads; file left unchanged", path.display(), limit >> 20)]
    TooLarge { path: PathBuf, limit: u64 },
    /// A symlink (or other non-regular file) where a regular file is expected.
    #[error("{}: refusing to follow a symlink or write through a non-regular file", path.display())]
    NotRegular { path: PathBuf },
    /// The live config is newer than the package: a downgrade is refused.
    #[error("{}: {key} is {live} but this package provides {new}: refusing to downgrade the config", path.display())]
    Downgrade {
        path: PathBuf,
        key: String,
        live: String,
        new: String,
    },
    /// `check` found a different schema version.
    #[error("{}: {key} is {found} but {expected} is expected", path.display())]
    VersionMismatch {
        path: PathBuf,
        key: String,
        found: String,
        expected: String,
    },
    /// Template variables without a value, all of them at once.
    #[error("{}: variables not set and without default: {}", path.display(), names.join(", "))]
    MissingVars { path: PathBuf, names: Vec<String> },
    /// Another hook holds the lock.
    #[error("{}: another packwright-hook is running (lock held)", path.display())]
    Locked { path: PathBuf },
    /// A user or group name not found under `<root>/etc/passwd` or `/etc/group`.
    #[error("{}: no {kind} named {name:?}", path.display())]
    UnknownAccount {
        path: PathBuf,
        kind: &'static str,
        name: String,
    },
    /// Bad input given by the caller (arguments, package description).
    #[error("{}: {msg}", path.display())]
    Invalid { path: PathBuf, msg: String },
    /// The state dir holds `blocked`: an upgrade skipped a required stop
    /// release (pacman, apk), so the service must not start.
    #[error("{package}: {message}")]
    Blocked { package: String, message: String },
    /// Not enough free space for a snapshot; refused before writing anything.
    #[error("{}: {} free, but a snapshot of the data dirs needs {} ({} allocated plus 16 MiB); nothing was changed", path.display(), bytes(*free), bytes(*need), bytes(*data))]
    NoSpace {
        path: PathBuf,
        free: u64,
        need: u64,
        data: u64,
    },
    /// A snapshot that fails its checks; nothing was restored.
    #[error("{}: {msg}; nothing was restored", path.display())]
    SnapshotDamaged { path: PathBuf, msg: String },
    /// A merge engine produced text it cannot read back: a bug in the hook,
    /// caught before anything is written.
    #[error("{}: internal error: {msg}; nothing written (the file is unchanged; please report this)", path.display())]
    Internal { path: PathBuf, msg: String },
    /// An upgrade or migration step failed; what it changed was rolled back.
    #[error("{0}")]
    Failed(Box<super::upgrade::Failure>),
}

/// An I/O error as a sentence: "No such file or directory", without the
/// "(os error 2)" that std adds (the path is printed beside it).
fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// "12345 bytes (0.01 MiB)": exact for scripts, readable for people.
fn bytes(n: u64) -> String {
    format!("{n} bytes ({:.1} MiB)", n as f64 / 1048576.0)
}

impl HookError {
    pub fn io(path: impl Into<PathBuf>, err: std::io::Error) -> Self {
        HookError::Io {
            path: path.into(),
            err,
        }
    }

    pub fn invalid(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        HookError::Invalid {
            path: path.into(),
            msg: msg.into(),
        }
    }

    /// Exit codes, documented in the README and in `--help`.
    pub fn exit_code(&self) -> i32 {
        match self {
            HookError::Io { .. } => 1,
            HookError::Invalid { .. } | HookError::MissingVars { .. } => 2,
            HookError::Syntax { .. } | HookError::TooLarge { .. } => 4,
            HookError::VersionMismatch { .. } => 5,
            HookError::Downgrade { .. } => 6,
            HookError::NotRegular { .. } => 7,
            HookError::Locked { .. } => 8,
            HookError::UnknownAccount { .. } => 2,
            HookError::Blocked { .. } => 5,
            HookError::Failed(_) => 9,
            HookError::NoSpace { .. } => 10,
            HookError::SnapshotDamaged { .. } => 11,
            HookError::Internal { .. } => 12,
        }
    }
}

/// Attach a path to an io::Error.
pub trait At<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> At<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| HookError::io(path, e))
    }
}
